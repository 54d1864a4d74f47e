//! Command-line interface: arguments, colour choice, exit codes.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config;
use crate::git::{self, ChangeSpec};
use crate::hook;
use crate::modes::{self, Action, Invocation, Print, Target};
use crate::rules::{Rule, Severity};
use crate::scan::ScanOptions;
use crate::text::safe;

pub use crate::report::Format;

pub use crate::exit::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};

#[derive(Debug, Parser)]
#[command(
    name = "flask-bind-guard",
    version,
    about = "Stop Flask development servers bound to every network interface (app.run(host=\"0.0.0.0\")) from being committed.",
    args_conflicts_with_subcommands = true,
    after_help = "Exit status: 0 no finding, 1 findings, 2 error.\nRules: FBG001 (all interfaces), FBG002 (all interfaces with the debugger on). See `flask-bind-guard explain FBG001`."
)]
pub struct Cli {
    /// Files and directories to audit (directories are walked for *.py,
    /// honouring .gitignore). With none, check what is staged for commit:
    /// the lines it adds to Python files, read from the index.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Staged mode: report every finding in the staged content of every
    /// Python file, not only on added lines. Not with PATHs (they are
    /// audited whole anyway).
    #[arg(long)]
    pub all: bool,

    /// Judge the lines added between two commits instead of the index
    /// (pre-push, pull requests). Also read from PRE_COMMIT_FROM_REF. Given
    /// as flags, the refs and PATHs do not mix (an error); read from the
    /// environment (pre-commit or prek passing file names on a push), PATHs
    /// restrict the range to those files and directories.
    #[arg(long, env = "PRE_COMMIT_FROM_REF", value_name = "REF", hide_env_values = true)]
    pub from_ref: Option<String>,

    /// See --from-ref. Also read from PRE_COMMIT_TO_REF.
    #[arg(long, env = "PRE_COMMIT_TO_REF", value_name = "REF", hide_env_values = true)]
    pub to_ref: Option<String>,

    /// Both refs came from PRE_COMMIT_FROM_REF/_TO_REF, not from flags
    /// (set by `Cli::parse_args`).
    #[arg(skip)]
    pub refs_from_env: bool,

    /// Rewrite the host to loopback ("0.0.0.0" -> "127.0.0.1", "::" -> "::1")
    /// in the files, atomically, and print the diff. Exit 1 after fixing
    /// (so a commit stops for a look) unless --exit-zero-on-fix.
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,

    /// Print the unified diff --fix would apply; write nothing. Exit 1 if
    /// there is something to fix.
    #[arg(long)]
    pub diff: bool,

    /// With --fix: exit 0 when every finding was fixed.
    #[arg(long, requires = "fix")]
    pub exit_zero_on_fix: bool,

    /// Exit 0 even when findings are reported (errors still exit 2): for CI
    /// jobs that upload a report and let the platform decide.
    #[arg(long)]
    pub exit_zero: bool,

    /// Audit mode: append `# noqa: FBG00N` (with ` -- REASON` when given as
    /// --add-noqa=REASON) to the first line of every finding's call, merged
    /// into an existing `# noqa:` list, so the hook can be switched on for
    /// code with existing findings. Only comments change.
    #[arg(long, value_name = "REASON", num_args = 0..=1, require_equals = true, default_missing_value = "", conflicts_with_all = ["fix", "diff"])]
    pub add_noqa: Option<String>,

    /// Behave as a pre-commit / prek hook given the files the framework
    /// names: at a commit, judge what the staged change brings in (the
    /// named files, and what a framework cannot name: deletions,
    /// pyproject.toml); on a push, what the pushed commits bring in; files
    /// HEAD already holds as they are (`run --all-files`, as CI runs hooks)
    /// are audited.
    #[arg(long)]
    pub pre_commit: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// When to colour the output: auto colours a terminal unless NO_COLOR is
    /// set (CLICOLOR_FORCE forces colour).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Read the configuration from this file instead of looking for one:
    /// any TOML file with a [tool.flask-bind-guard] table (an error if it
    /// has none; an empty table means the defaults).
    #[arg(long, value_name = "FILE", conflicts_with = "isolated", help_heading = "Configuration")]
    pub config: Option<PathBuf>,

    /// Ignore every configuration file; use defaults and flags only.
    #[arg(long, help_heading = "Configuration")]
    pub isolated: bool,

    /// Globs of files and directories not to check (replaces `exclude` of
    /// the configuration). Repeat or separate with commas.
    #[arg(long, value_name = "GLOB", value_delimiter = ',', value_parser = config::check_glob, help_heading = "Configuration")]
    pub exclude: Option<Vec<String>>,

    /// Hosts never reported (replaces `extend-safe-hosts`).
    #[arg(long, value_name = "HOST", value_delimiter = ',', value_parser = config::check_host, help_heading = "Configuration")]
    pub extend_safe_hosts: Option<Vec<String>>,

    /// A rule's severity, as RULE=low|medium|high|critical (merged over
    /// `severity`).
    #[arg(long, value_name = "RULE=LEVEL", value_parser = parse_severity, help_heading = "Configuration")]
    pub severity: Vec<(String, Severity)>,

    /// Dotted paths of third-party callables that return a Flask app
    /// (replaces `extend-app-factories`).
    #[arg(long, value_name = "NAME", value_delimiter = ',', value_parser = config::check_dotted, help_heading = "Configuration")]
    pub extend_app_factories: Option<Vec<String>>,

    /// Dotted paths of third-party objects that are Flask apps (replaces
    /// `extend-apps`).
    #[arg(long, value_name = "NAME", value_delimiter = ',', value_parser = config::check_dotted, help_heading = "Configuration")]
    pub extend_apps: Option<Vec<String>>,

    /// Report findings that ruff's `# noqa: S104` or bandit's `# nosec B104`
    /// would silence (sets `peer-suppressions = false`).
    #[arg(long, help_heading = "Configuration")]
    pub no_peer_suppressions: bool,

    /// JSON and SARIF: include suppressed findings, marked as such (SARIF
    /// `suppressions` of kind `inSource`).
    #[arg(long)]
    pub show_suppressed: bool,

    /// Skip files larger than this many bytes (with a note).
    #[arg(long, default_value_t = crate::project::DEFAULT_MAX_FILE_SIZE, value_name = "BYTES")]
    pub max_file_size: u64,

    /// Parse every file instead of only those the byte prefilter keeps
    /// (slower; for checking the prefilter).
    #[arg(long, hide = true)]
    pub no_prefilter: bool,

    /// Print how many files were read and parsed, and the time taken, to stderr.
    #[arg(long, hide = true)]
    pub stats: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the documentation of a rule (FBG001, FBG002).
    Explain {
        /// Rule code or name.
        rule: String,
    },
    /// Install a native git pre-commit hook that runs flask-bind-guard.
    Install {
        /// Replace a pre-commit hook flask-bind-guard did not write (it is
        /// kept as pre-commit.flask-bind-guard-backup).
        #[arg(long)]
        force: bool,
    },
    /// Remove the pre-commit hook `install` wrote (restoring a hook it replaced).
    Uninstall,
    /// Print a shell completion script (e.g. `flask-bind-guard completions
    /// bash > ~/.local/share/bash-completion/completions/flask-bind-guard`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `flask-bind-guard man > flask-bind-guard.1`.
    Man,
}

fn parse_severity(s: &str) -> Result<(String, Severity), String> {
    let (rule, level) = s.split_once('=').ok_or("expected RULE=LEVEL, e.g. FBG001=high")?;
    let rule = Rule::from_code(rule.trim())
        .ok_or_else(|| format!("unknown rule `{rule}`; the rules are FBG001 and FBG002"))?;
    let level = <Severity as ValueEnum>::from_str(level.trim(), true)
        .map_err(|_| format!("unknown severity `{level}`; use low, medium, high or critical"))?;
    Ok((rule.code().to_string(), level))
}

impl Cli {
    /// Parse the process's arguments, noting where the refs came from.
    pub fn parse_args() -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches, parser::ValueSource};
        let matches = Cli::command().try_get_matches()?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        // Every ref given came from the environment (a framework's push).
        let sources: Vec<_> = ["from_ref", "to_ref"].iter().filter_map(|id| matches.value_source(id)).collect();
        cli.refs_from_env = !sources.is_empty() && sources.iter().all(|s| *s == ValueSource::EnvVariable);
        Ok(cli)
    }

    /// Flags that judge a change, given with PATHs (audited whole): which
    /// one, and what to do instead.
    fn mixed_with_paths(&self) -> Option<String> {
        if self.paths.is_empty() {
            return None;
        }
        if self.all {
            return Some(
                "--all checks every Python file of the index, and PATHs are audited whole: \
                 drop --all to audit the PATHs, or drop the PATHs to check the index"
                    .into(),
            );
        }
        if self.from_ref.is_some() && !self.refs_from_env {
            return Some(
                "--from-ref/--to-ref judge the lines a range of commits adds, and PATHs are audited whole: \
                 drop the PATHs to judge the range, or drop the refs to audit the PATHs"
                    .into(),
            );
        }
        None
    }

    /// The configuration keys the flags set, and where to look for the rest.
    pub fn config_request(&self) -> config::Request {
        let lookup = match (&self.config, self.isolated) {
            (Some(file), _) => config::Lookup::File(file.clone()),
            (None, true) => config::Lookup::Isolated,
            (None, false) => config::Lookup::Discover,
        };
        let severity = (!self.severity.is_empty()).then(|| self.severity.iter().cloned().collect());
        let overrides = config::Config {
            exclude: self.exclude.clone(),
            extend_safe_hosts: self.extend_safe_hosts.clone(),
            severity,
            extend_app_factories: self.extend_app_factories.clone(),
            extend_apps: self.extend_apps.clone(),
            peer_suppressions: self.no_peer_suppressions.then_some(false),
        };
        config::Request { lookup, overrides }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Decide on colour: the flag wins; then NO_COLOR (any non-empty value)
/// turns it off; then CLICOLOR_FORCE (non-empty, not "0") turns it on;
/// otherwise colour a terminal only.
pub fn use_color(choice: ColorChoice, is_terminal: bool, env: impl Fn(&str) -> Option<String>) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                false
            } else if env("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") {
                true
            } else {
                is_terminal
            }
        }
    }
}

/// Run the command line; the process exit code.
pub fn main() -> u8 {
    let cli = match Cli::parse_args() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_CLEAN };
            let _ = e.print();
            return code;
        }
    };
    let mut out = Output::new(io::stdout().lock());
    // stderr stays unlocked: nothing may hold it while threads work.
    let mut code = run(&cli, &mut out, &mut io::stderr());
    if cli.exit_zero && code == EXIT_FINDINGS {
        code = EXIT_CLEAN;
    }
    if let Err(e) = out.flush().and(out.failed()) {
        // A full disk is an error even where `run` ignored the write's result.
        if code != EXIT_ERROR {
            let _ = writeln!(io::stderr(), "error: cannot write output: {e}");
            code = EXIT_ERROR;
        }
    }
    code
}

/// Standard output as every command writes it. A reader that stops early
/// (`flask-bind-guard . | head`) is not an error: the rest of the output is
/// dropped and writes go on succeeding, so no path (a printer, a diff, a
/// clap generator that panics on a write error) sees the closed pipe. Any
/// other write error is kept for `main` to report.
pub struct Output<W: Write> {
    inner: W,
    closed: bool,
    error: Option<(io::ErrorKind, String)>,
}

impl<W: Write> Output<W> {
    pub fn new(inner: W) -> Self {
        Output { inner, closed: false, error: None }
    }

    /// The first write error that was not a closed pipe.
    pub fn failed(&self) -> io::Result<()> {
        match &self.error {
            Some((kind, message)) => Err(io::Error::new(*kind, message.clone())),
            None => Ok(()),
        }
    }

    fn note<T>(&mut self, result: io::Result<T>, done: T) -> io::Result<T> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(done)
            }
            // `write_all` retries an interrupted write: not a failure.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.error.get_or_insert((e.kind(), e.to_string()));
                Err(e)
            }
            ok => ok,
        }
    }
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.note(result, buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush();
        self.note(result, ())
    }
}

/// The exit code after writing generated text in one piece: a closed pipe
/// is success, any other write error an error.
fn emit(bytes: &[u8], out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            let _ = writeln!(err, "error: cannot write output: {e}");
            EXIT_ERROR
        }
        _ => EXIT_CLEAN,
    }
}

/// Everything but argument parsing, writing to the given streams: the
/// table of contents of what the tool does.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match &cli.command {
        Some(Command::Explain { rule }) => explain(rule, out, err),
        Some(Command::Install { force }) => hook::install(*force, out, err),
        Some(Command::Uninstall) => hook::uninstall(out, err),
        Some(Command::Completions { shell }) => completions(*shell, out, err),
        Some(Command::Man) => man(out, err),
        None => match invocation(cli) {
            Ok(inv) => modes::check(&inv, out, err),
            Err(e) => {
                let _ = writeln!(err, "error: {}", safe(&e));
                EXIT_ERROR
            }
        },
    }
}

/// `explain RULE`: the rule's documentation.
fn explain(rule: &str, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match Rule::from_code(rule) {
        Some(r) => emit(r.doc().as_bytes(), out, err),
        None => {
            let _ = writeln!(err, "error: unknown rule `{}`; the rules are FBG001 and FBG002", safe(rule));
            EXIT_ERROR
        }
    }
}

/// `completions SHELL`: the shell's completion script.
fn completions(shell: clap_complete::Shell, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    // Into memory first: clap_complete panics when a write fails.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "flask-bind-guard", &mut script);
    emit(&script, out, err)
}

/// `man`: the manual page.
fn man(out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let mut page = Vec::new();
    // Writing to memory cannot fail; the write below is what can.
    let _ = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page);
    emit(&page, out, err)
}

/// The check the command line and the environment ask for, decided once:
/// what is checked (PATHs, a commit, a push, a range, the whole index) and
/// what is done with the findings.
fn invocation(cli: &Cli) -> Result<Invocation, String> {
    let add_noqa = crate::modes::add_noqa::refused(
        cli.add_noqa.as_deref(),
        cli.paths.is_empty(),
        &[
            ("--pre-commit", cli.pre_commit),
            ("--all", cli.all),
            ("--from-ref/--to-ref (or PRE_COMMIT_FROM_REF/_TO_REF)", cli.from_ref.is_some() || cli.to_ref.is_some()),
        ],
    );
    if let Some(problem) = cli.mixed_with_paths().or(add_noqa) {
        return Err(problem);
    }
    // `--add-noqa "legacy code" .`: the reason would be read as a PATH, and
    // the other PATHs marked without it. A PATH that does not exist stops an
    // edit before anything is written.
    if let Some(reason) = &cli.add_noqa
        && let Some(missing) = cli.paths.iter().find(|p| std::fs::symlink_metadata(p).is_err())
    {
        let hint = if reason.is_empty() {
            format!("; a reason is given after an equals sign: --add-noqa=\"{}\"", missing.display())
        } else {
            String::new()
        };
        return Err(format!("--add-noqa: {}: no such file or directory; nothing was marked{hint}", missing.display()));
    }
    let refs = push_refs(cli)?;
    let pushing = pushing(cli);
    // Refs from the environment with PATHs: the range, in those PATHs.
    // (Under a framework the PATHs restrict the change instead, below, so
    // that the files importing a named module are still judged.)
    let restrict = refs.is_some() && pushing && !cli.paths.is_empty() && !cli.pre_commit;
    // A framework naming files at commit time (or `pre-commit run` over the
    // staged files): the change those files make, as the working tree
    // holds them. Files it names that HEAD already has as they are
    // (`run --all-files`, `run --files X`) are audited as given.
    let named = framework_files(cli, refs.is_some()).map_err(|e| e.to_string())?;
    let staged = cli.paths.is_empty() || restrict || named.is_some();
    let index_file = std::env::var_os("GIT_INDEX_FILE").map(PathBuf::from);
    let committing = index_file.is_some();
    let spec = ChangeSpec {
        all: cli.all,
        refs: refs.clone(),
        max_file_size: cli.max_file_size,
        libgit2_only: false,
        amend: staged && refs.is_none() && !cli.all && committing && git::committing_amend(),
        // What `open_from_env` reads too; relative to where git runs us.
        index_file,
        files: named,
        // A commit judges the index (the framework stashed what is not
        // staged); a manual run the files as they are.
        worktree: !committing,
    };
    let framework = cli.pre_commit;
    let target = match (staged, &refs) {
        (false, _) => Target::Audit { paths: cli.paths.clone() },
        (true, Some(_)) if pushing => Target::Push { spec, framework, restrict: restrict.then(|| cli.paths.clone()) },
        (true, Some(_)) => Target::Range { spec },
        (true, None) if cli.all => Target::All { spec },
        (true, None) => Target::Commit { spec, framework },
    };
    let action = match (&target, cli.fix, cli.diff) {
        // A framework's hook with `args: [--fix]` also runs on pushes:
        // there is nothing to fix in pushed commits, so it reports.
        (Target::Push { .. } | Target::Range { .. }, _, _) if framework => Action::Report,
        (Target::Push { .. } | Target::Range { .. }, true, _) => {
            return Err("--fix applies to the index or to files, not to a range of commits".into());
        }
        _ if cli.add_noqa.is_some() => Action::AddNoqa,
        (_, false, false) => Action::Report,
        (_, false, true) => Action::Diff,
        // Under a framework the fix goes to the working tree only: the
        // framework sees the change, fails the run, and its stash of
        // unstaged edits applies cleanly afterwards.
        (Target::Commit { .. } | Target::All { .. }, true, _) if !framework => Action::FixIndex,
        (_, true, _) => Action::FixFiles,
    };
    let scan = ScanOptions { prefilter: !cli.no_prefilter, max_file_size: cli.max_file_size, ..ScanOptions::default() };
    Ok(Invocation {
        target,
        action,
        print: Print {
            format: cli.format,
            color: use_color(cli.color, io::stdout().is_terminal(), |k| std::env::var(k).ok()),
            show_suppressed: cli.show_suppressed,
        },
        config: cli.config_request(),
        config_named: cli.config.is_some(),
        scan,
        exit_zero_on_fix: cli.exit_zero_on_fix,
        exit_zero: cli.exit_zero,
        noqa_reason: cli.add_noqa.clone().unwrap_or_default(),
        stats: cli.stats,
    })
}

/// Is this a push a framework runs the hook for? (Refs from its
/// environment, or its pre-push variables without refs.)
fn pushing(cli: &Cli) -> bool {
    // `pre-commit run --from-ref A --to-ref B` (CI) sets the refs but none
    // of the push's variables.
    pre_push_env() || (cli.refs_from_env && !cli.pre_commit)
}

fn pre_push_env() -> bool {
    ["PRE_COMMIT_LOCAL_BRANCH", "PRE_COMMIT_REMOTE_NAME", "PRE_COMMIT_REMOTE_BRANCH"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()))
}

/// The range to judge: both refs as given; for a push a framework reports
/// with only the pushed ref (prek's first push: `PRE_COMMIT_TO_REF` alone)
/// or with none (pre-commit's first push to an empty remote), the commits
/// reachable from it that the remote does not have.
fn push_refs(cli: &Cli) -> Result<Option<(String, String)>, String> {
    let to = match (&cli.from_ref, &cli.to_ref) {
        (Some(from), Some(to)) => return Ok(Some((from.clone(), to.clone()))),
        (Some(_), None) | (None, Some(_)) if !cli.refs_from_env => {
            return Err("--from-ref and --to-ref go together: give both (the range is from..to)".into());
        }
        (Some(from), None) => return Ok(Some((from.clone(), "HEAD".into()))),
        (None, Some(to)) => to.clone(),
        (None, None) if cli.pre_commit && pre_push_env() => {
            std::env::var("PRE_COMMIT_LOCAL_BRANCH").ok().filter(|b| !b.is_empty()).unwrap_or_else(|| "HEAD".into())
        }
        (None, None) => return Ok(None),
    };
    let repo = git::open_repo().map_err(|e| e.to_string())?;
    let remote = std::env::var("PRE_COMMIT_REMOTE_NAME").ok().filter(|r| !r.is_empty());
    let from = git::push_base(&repo, &to, remote.as_deref()).map_err(|e| e.to_string())?;
    Ok(Some((from, to)))
}

/// With `--pre-commit`, PATHs and no refs: the PATHs relative to the top
/// of the work tree when they are a change to judge (git is committing, or
/// every one differs from HEAD), `None` to audit them as given.
fn framework_files(cli: &Cli, refs: bool) -> Result<Option<Vec<PathBuf>>, git::GitError> {
    if !cli.pre_commit || cli.all {
        return Ok(None);
    }
    if cli.paths.is_empty() {
        // The hook always runs (`always_run`): with no file named, only
        // what a framework cannot name is judged (a deleted module, the
        // configuration, files not in the working tree).
        return Ok(Some(Vec::new()));
    }
    let repo = git::open_repo()?;
    let Some(workdir) = repo.workdir() else { return Ok(None) };
    let cwd = std::env::current_dir().unwrap_or_default();
    // Resolved, so a path spelt through a symlink is still inside.
    // (The directory only: a named file that is itself a link stays itself.)
    let workdir = std::fs::canonicalize(cwd.join(workdir)).unwrap_or_else(|_| crate::paths::clean(&cwd.join(workdir)));
    let files: Vec<PathBuf> = cli
        .paths
        .iter()
        .filter_map(|p| crate::paths::resolve_dir(&cwd.join(p)).strip_prefix(&workdir).ok().map(PathBuf::from))
        .collect();
    // A push: the change is the range's, restricted to these files.
    let committing = std::env::var_os("GIT_INDEX_FILE").is_some();
    Ok((refs || committing || git::all_differ_from_head(&repo, &files)?).then_some(files))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn color_precedence() {
        assert!(use_color(ColorChoice::Always, false, env(&[("NO_COLOR", "1")])));
        assert!(!use_color(ColorChoice::Never, true, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!use_color(ColorChoice::Auto, true, env(&[("NO_COLOR", "1")])));
        assert!(use_color(ColorChoice::Auto, true, env(&[("NO_COLOR", "")])));
        assert!(use_color(ColorChoice::Auto, false, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!use_color(ColorChoice::Auto, false, env(&[("CLICOLOR_FORCE", "0")])));
        assert!(!use_color(ColorChoice::Auto, false, env(&[])));
    }
}
