//! Command-line interface: arguments, colour choice, exit codes.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config;
use crate::git::{self, ChangeSpec};
use crate::hook;
use crate::report::{Human, github, human::safe, json, sarif};
use crate::rules::{Rule, Severity};
use crate::scan::{ScanOptions, ScanOutcome, scan_paths};
use crate::staged::run_with_repo;

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
pub enum Format {
    /// For people: rustc/ruff style, with the code underlined.
    Human,
    /// A JSON array of findings (fields documented in the README).
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, Azure DevOps).
    Sarif,
    /// GitHub Actions workflow commands: inline annotations on pull requests.
    Github,
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
pub fn main() -> ExitCode {
    let cli = match Cli::parse_args() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_CLEAN };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let mut out = Output::new(io::stdout().lock());
    // stderr stays unlocked: nothing may hold it while threads work.
    let mut code = run(&cli, &mut out, &mut io::stderr());
    if let Err(e) = out.flush().and(out.failed()) {
        // A full disk is an error even where `run` ignored the write's result.
        if code != EXIT_ERROR {
            let _ = writeln!(io::stderr(), "error: cannot write output: {e}");
            code = EXIT_ERROR;
        }
    }
    ExitCode::from(code)
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

/// Everything but argument parsing, writing to the given streams.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    if let Some(Command::Explain { rule }) = &cli.command {
        return match Rule::from_code(rule) {
            Some(r) => emit(r.doc().as_bytes(), out, err),
            None => {
                let _ = writeln!(err, "error: unknown rule `{}`; the rules are FBG001 and FBG002", safe(rule));
                EXIT_ERROR
            }
        };
    }
    match &cli.command {
        Some(Command::Install { force }) => return hook::install(*force, out, err),
        Some(Command::Uninstall) => return hook::uninstall(out, err),
        Some(Command::Completions { shell }) => {
            // Into memory first: clap_complete panics when a write fails.
            let mut script = Vec::new();
            clap_complete::generate(
                *shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "flask-bind-guard",
                &mut script,
            );
            return emit(&script, out, err);
        }
        Some(Command::Man) => {
            let mut page = Vec::new();
            // Writing to memory cannot fail; the write below is what can.
            let _ = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page);
            return emit(&page, out, err);
        }
        _ => {}
    }
    let mut opts =
        ScanOptions { prefilter: !cli.no_prefilter, max_file_size: cli.max_file_size, ..ScanOptions::default() };
    if let Some(problem) = cli.mixed_with_paths() {
        let _ = writeln!(err, "error: {problem}");
        return EXIT_ERROR;
    }
    let refs = match push_refs(cli) {
        Ok(refs) => refs,
        Err(e) => {
            let _ = writeln!(err, "error: {}", safe(&e));
            return EXIT_ERROR;
        }
    };
    // Refs from the environment with PATHs: the range, in those PATHs.
    // (Under a framework the PATHs restrict the change instead, below, so
    // that the files importing a named module are still judged.)
    let restrict = refs.is_some() && pushing(cli) && !cli.paths.is_empty() && !cli.pre_commit;
    // A framework naming files at commit time (or `pre-commit run` over the
    // staged files): the change those files make, as the working tree
    // holds them. Files it names that HEAD already has as they are
    // (`run --all-files`, `run --files X`) are audited as given.
    let named = match framework_files(cli, refs.is_some()) {
        Ok(named) => named,
        Err(e) => {
            let _ = writeln!(err, "error: {}", safe(&e.to_string()));
            return EXIT_ERROR;
        }
    };
    let staged = cli.paths.is_empty() || restrict || named.is_some();
    // `pre-commit run --all-files` (how CI runs hooks): no commit is being
    // made, so audit everything the index holds.
    let all = cli.all;
    let started = std::time::Instant::now();
    let request = cli.config_request();
    if staged {
        // Read from the snapshot being judged (see `run_with_repo`).
        opts.config = Some(request);
    } else {
        let cwd = std::env::current_dir().unwrap_or_default();
        match request.on_disk(&crate::scan::start_dir(&cli.paths, &cwd), &cwd) {
            Ok(settings) => opts = opts.with_settings(settings),
            Err(e) => {
                // Already terminal-safe, and a TOML error keeps its form.
                let _ = writeln!(err, "error: {e}\nhelp: {}", config_help(cli, false));
                return EXIT_ERROR;
            }
        }
    }
    let outcome = if staged {
        let spec = ChangeSpec {
            all,
            refs: refs.clone(),
            max_file_size: cli.max_file_size,
            libgit2_only: false,
            // What `open_from_env` reads too; relative to where git runs us.
            index_file: std::env::var_os("GIT_INDEX_FILE").map(PathBuf::from),
            amend: refs.is_none() && !all && std::env::var_os("GIT_INDEX_FILE").is_some() && git::committing_amend(),
            files: named.clone(),
            // A commit judges the index (the framework stashed what is
            // not staged); a manual run the files as they are.
            worktree: std::env::var_os("GIT_INDEX_FILE").is_none(),
        };
        let checked = git::open_repo().and_then(|repo| {
            let outcome = run_with_repo(&repo, &spec, &opts)?;
            // Under a framework the fix goes to the working tree only: the
            // framework sees the change, fails the run, and its stash of
            // unstaged edits applies cleanly afterwards.
            if cli.fix && refs.is_none() && !cli.pre_commit {
                let color = use_color(cli.color, io::stdout().is_terminal(), |k| std::env::var(k).ok());
                return Ok(Err(fix_staged_and_report(
                    cli,
                    &repo,
                    &outcome,
                    spec.index_file.as_deref(),
                    color,
                    out,
                    err,
                )));
            }
            Ok(Ok(outcome))
        });
        match checked {
            Ok(Ok(mut outcome)) => {
                if restrict {
                    keep_under(&mut outcome, &cli.paths);
                }
                outcome
            }
            Ok(Err(code)) => return code,
            Err(git::GitError::Config(e)) => {
                // `ConfigError`'s text: terminal-safe already.
                let _ = writeln!(err, "error: {e}\nhelp: {}", config_help(cli, true));
                return EXIT_ERROR;
            }
            Err(e) => {
                let _ = writeln!(err, "error: {}", safe(&e.to_string()));
                return EXIT_ERROR;
            }
        }
    } else {
        scan_paths(&cli.paths, &opts)
    };
    if cli.stats {
        let _ = writeln!(
            err,
            "stats: {} Python files read, {} parsed, {:.3}s",
            outcome.files,
            outcome.parsed,
            started.elapsed().as_secs_f64()
        );
    }
    let color = use_color(cli.color, io::stdout().is_terminal(), |k| std::env::var(k).ok());
    // A framework's hook with `args: [--fix]` also runs on pushes: there
    // is nothing to fix in pushed commits, so it reports.
    let fixing = (cli.fix || cli.diff) && !(refs.is_some() && cli.pre_commit);
    if fixing {
        if refs.is_some() && cli.fix && !cli.pre_commit {
            let _ = writeln!(err, "error: --fix applies to the index or to files, not to a range of commits");
            return EXIT_ERROR;
        }
        return fix_or_diff(cli, &outcome, color, out, err);
    }
    let code = report(cli.format, color, cli.show_suppressed, &outcome, out, err);
    // Say what is blocked, and how to go on, when a commit or push is.
    if staged && !all && code == EXIT_FINDINGS && cli.format == Format::Human {
        let n = outcome.finding_count();
        let findings = format!("{n} finding{}", if n == 1 { "" } else { "s" });
        let noqa = noqa_advice(&outcome);
        let line = match (&refs, pushing(cli), cli.pre_commit) {
            // A range given as flags: CI, not a push.
            (Some((from, to)), false, _) => format!(
                "flask-bind-guard: {findings} in {from}..{to}. Fix: bind to 127.0.0.1 (or ::1) in a new commit; deliberate: {noqa}."
            ),
            (Some(_), true, framework) => format!(
                "flask-bind-guard: {findings} block{} this push. Fix: bind to 127.0.0.1 (or ::1) in a new commit; deliberate: {noqa}; bypass once: {}.",
                if n == 1 { "s" } else { "" },
                if framework { "`SKIP=flask-bind-guard git push`" } else { "`git push --no-verify`" },
            ),
            (None, _, true) => format!(
                "flask-bind-guard: {findings} block{} this commit. Fix: `args: [--fix]` on the flask-bind-guard hook rewrites the host to loopback in the working tree (then `git add` and commit again); deliberate: {noqa}; bypass once: `SKIP=flask-bind-guard git commit`.",
                if n == 1 { "s" } else { "" },
            ),
            (None, _, false) => format!(
                "flask-bind-guard: {findings} block{} this commit. Fix: `flask-bind-guard --fix` rewrites the staged host to loopback; deliberate: {noqa}; bypass once: `git commit --no-verify`.",
                if n == 1 { "s" } else { "" },
            ),
        };
        let _ = writeln!(out, "{line}");
    }
    code
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
    let resolve = |p: &std::path::Path| {
        let p = crate::paths::clean(p);
        match (p.parent().and_then(|d| std::fs::canonicalize(d).ok()), p.file_name()) {
            (Some(dir), Some(name)) => dir.join(name),
            _ => std::fs::canonicalize(&p).unwrap_or(p),
        }
    };
    let workdir = std::fs::canonicalize(cwd.join(workdir)).unwrap_or_else(|_| crate::paths::clean(&cwd.join(workdir)));
    let files: Vec<PathBuf> =
        cli.paths.iter().filter_map(|p| resolve(&cwd.join(p)).strip_prefix(&workdir).ok().map(PathBuf::from)).collect();
    // A push: the change is the range's, restricted to these files.
    let committing = std::env::var_os("GIT_INDEX_FILE").is_some();
    Ok((refs || committing || git::all_differ_from_head(&repo, &files)?).then_some(files))
}

/// Keep only the files under `paths` (files or directories, relative to
/// the working directory) in a staged-mode outcome.
fn keep_under(outcome: &mut ScanOutcome, paths: &[PathBuf]) {
    // Compared resolved: the repository's path may be spelt differently
    // from the working directory's (a symlink on the way).
    // (The directory only: a named file that is itself a link stays itself.)
    let resolve = |p: &std::path::Path| {
        let p = crate::paths::clean(p);
        match (p.parent().and_then(|d| std::fs::canonicalize(d).ok()), p.file_name()) {
            (Some(dir), Some(name)) => dir.join(name),
            _ => std::fs::canonicalize(&p).unwrap_or(p),
        }
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let wanted: Vec<PathBuf> = paths.iter().map(|p| resolve(&cwd.join(p))).collect();
    let base = resolve(&outcome.base);
    let inside = |p: &std::path::Path| {
        let path = crate::paths::clean(&base.join(p));
        wanted.iter().any(|w| path.starts_with(w))
    };
    outcome.reports.retain(|r| inside(&r.module.path));
    outcome.problems.retain(|p| inside(&p.path));
}

/// What to do about a configuration error.
fn config_help(cli: &Cli, staged: bool) -> &'static str {
    match (&cli.config, staged) {
        (Some(_), _) => "correct the file, or name another with --config",
        (None, true) => {
            "correct it and stage the correction (`git add`: a commit is judged by the staged pyproject.toml), or pass --isolated to ignore configuration files"
        }
        (None, false) => "correct it, or pass --isolated to ignore configuration files",
    }
}

/// How to mark the blocking findings as deliberate: the code each one
/// reports (`# noqa: FBG001` does not silence FBG002, the debugger).
fn noqa_advice(outcome: &ScanOutcome) -> String {
    let mut codes: Vec<&str> =
        outcome.reports.iter().flat_map(|r| &r.findings).map(|f| f.rule.code()).collect::<Vec<_>>();
    codes.sort_unstable();
    codes.dedup();
    match codes.as_slice() {
        [one] => format!("add `# noqa: {one}` to the call"),
        _ => format!("add `# noqa: <code>` to each call, with the code its finding names ({})", codes.join(", ")),
    }
}

/// Files that could not be checked (errors) or were skipped (notes).
fn print_problems(outcome: &ScanOutcome, err: &mut dyn Write) {
    for p in &outcome.problems {
        let kind = if p.is_error { "error" } else { "note" };
        let _ = writeln!(err, "{kind}: {}: {}", safe(&p.path.display().to_string()), safe(&p.message));
    }
}

/// Findings the fixer leaves alone, and why.
fn print_unfixable(notes: &[crate::fix::Unfixable], err: &mut dyn Write) {
    for n in notes {
        let _ = writeln!(err, "note: {}: not auto-fixable: {}", safe(&n.location()), safe(&n.reason));
    }
}

/// `--fix` in staged mode: into the index (and, where it is safe, the
/// working tree), then the diffs and what was left alone.
fn fix_staged_and_report(
    cli: &Cli,
    repo: &git2::Repository,
    outcome: &ScanOutcome,
    index_file: Option<&std::path::Path>,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    print_problems(outcome, err);
    let result = match crate::staged_fix::fix_staged(repo, outcome, index_file, true) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "error: {}", safe(&e.to_string()));
            return EXIT_ERROR;
        }
    };
    print_unfixable(&result.unfixable, err);
    for f in &result.fixes {
        let _ = write!(out, "{}", colour_diff(&crate::fix::unified_diff(f), color));
    }
    for (path, why) in &result.worktree_kept {
        let _ = writeln!(
            err,
            "note: {}: fixed in the index; the working tree is left as it is: {}",
            safe(&path.display().to_string()),
            safe(why)
        );
    }
    let fixed: usize = result.fixes.iter().map(|f| f.fixed).sum();
    let unfixed = outcome.finding_count() - fixed;
    if fixed + unfixed == 0 {
        return if outcome.has_errors() { EXIT_ERROR } else { EXIT_CLEAN };
    }
    let _ = writeln!(
        out,
        "flask-bind-guard: fixed {fixed} finding{} in the index; {unfixed} left to fix by hand.{}",
        plural(fixed),
        if unfixed == 0 && !cli.exit_zero_on_fix { " Review the diff and commit again." } else { "" }
    );
    if outcome.has_errors() {
        EXIT_ERROR
    } else if unfixed > 0 || (fixed > 0 && !cli.exit_zero_on_fix) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// `--fix` / `--diff` on audited files.
fn fix_or_diff(cli: &Cli, outcome: &ScanOutcome, color: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    use crate::fix;
    print_problems(outcome, err);
    let Some(project) = &outcome.project else { return EXIT_ERROR };
    let (mut fixed, mut files, mut failed) = (0, 0, false);
    // `--diff` in staged mode may show a fix in another file of the change.
    let allow = |p: &std::path::Path| outcome.changed.as_ref().is_some_and(|c| c.contains(p));
    let (fixes, notes) = fix::fix_all(project, &outcome.reports, &allow);
    print_unfixable(&notes, err);
    let mut unfixed = outcome.finding_count() - fixes.iter().map(|(_, f)| f.fixed).sum::<usize>();
    for (_, file_fix) in &fixes {
        let _ = write!(out, "{}", colour_diff(&fix::unified_diff(file_fix), color));
        if cli.fix {
            // Never write over an edit made while we were checking.
            let on_disk = std::fs::read(&file_fix.path).ok();
            if on_disk.as_deref() != Some(&file_fix.old_bytes[..]) {
                let _ = writeln!(
                    err,
                    "error: {}: changed while being checked; not written",
                    safe(&file_fix.path.display().to_string())
                );
                failed = true;
                continue;
            }
            if let Err(e) = fix::write_atomically(&file_fix.path, &file_fix.new_bytes) {
                let name = safe(&file_fix.path.display().to_string());
                if fix::is_refused(&e) {
                    let _ = writeln!(err, "note: {name}: not written: {}", safe(&e.to_string()));
                    unfixed += file_fix.fixed;
                    continue;
                }
                let _ = writeln!(err, "error: cannot write {name}: {e}");
                failed = true;
                continue;
            }
        }
        fixed += file_fix.fixed;
        files += 1;
    }
    let verb = if cli.fix { "Fixed" } else { "Would fix" };
    if fixed > 0 || unfixed > 0 {
        let _ = writeln!(
            out,
            "{verb} {fixed} finding{} in {files} file{}; {unfixed} left to fix by hand.",
            plural(fixed),
            plural(files)
        );
    }
    if failed || outcome.has_errors() {
        EXIT_ERROR
    } else if unfixed > 0 || (fixed > 0 && !cli.exit_zero_on_fix) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Colour a unified diff the way `git diff` does.
fn colour_diff(diff: &str, color: bool) -> String {
    use owo_colors::OwoColorize;
    if !color {
        return safe_diff(diff);
    }
    diff.lines()
        .map(|l| {
            let l = safe_diff(l);
            if l.starts_with("+++") || l.starts_with("---") {
                format!("{}\n", l.bold())
            } else if l.starts_with('+') {
                format!("{}\n", l.green())
            } else if l.starts_with('-') {
                format!("{}\n", l.red())
            } else if l.starts_with("@@") {
                format!("{}\n", l.cyan())
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

/// Diff text made terminal-safe, keeping its newlines (a CRLF file's `\r`
/// is not shown).
fn safe_diff(s: &str) -> String {
    s.split_inclusive('\n')
        .map(|l| match l.strip_suffix('\n') {
            Some(body) => format!("{}\n", safe(body.strip_suffix('\r').unwrap_or(body))),
            None => safe(l),
        })
        .collect()
}

/// Print an outcome and return the exit code.
pub fn report(
    format: Format,
    color: bool,
    show_suppressed: bool,
    outcome: &ScanOutcome,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    print_problems(outcome, err);
    let printed = match format {
        Format::Human => Human { color }.print(out, &outcome.reports).and_then(|()| {
            let n = outcome.finding_count();
            if n > 0 {
                let files = outcome.reports.iter().filter(|r| !r.findings.is_empty()).count();
                writeln!(
                    out,
                    "Found {n} finding{} in {files} file{}.",
                    if n == 1 { "" } else { "s" },
                    if files == 1 { "" } else { "s" }
                )?;
            }
            // Nothing disappears silently: say what a peer's comment hid.
            let peers = outcome.peer_suppressed();
            let total: usize = peers.iter().map(|(_, k)| k).sum();
            let by = match peers.as_slice() {
                [] => None,
                [(marker, _)] => Some(format!("by {}", safe(marker))),
                _ => {
                    let parts: Vec<String> = peers.iter().map(|(m, k)| format!("{k} by {}", safe(m))).collect();
                    Some(format!("by ruff/bandit comments ({})", parts.join(", ")))
                }
            };
            if let Some(by) = by {
                writeln!(
                    out,
                    "{total} finding{} suppressed {by}; --no-peer-suppressions (or `peer-suppressions = false`) reports {}.",
                    plural(total),
                    if total == 1 { "it" } else { "them" }
                )?;
            }
            Ok(())
        }),
        Format::Json => json::print(out, &outcome.reports, show_suppressed),
        Format::Sarif => {
            // The fixes `--fix` would make, described (nothing is written).
            let fixes = match &outcome.project {
                Some(project) => crate::fix::fix_all(project, &outcome.reports, &|_| true).0,
                None => Vec::new(),
            };
            let default = crate::config::Analysis::default();
            let analysis = outcome.project.as_ref().map_or(&default, |p| p.analysis());
            let cx = sarif::Context {
                base: &outcome.base,
                root: &outcome.root,
                fixes: &fixes,
                problems: &outcome.problems,
                severity: &|r| analysis.severity_of(r),
                show_suppressed,
            };
            sarif::print(out, &outcome.reports, &cx)
        }
        Format::Github => {
            let to_root = |p: &std::path::Path| {
                let shown = outcome.from_root(p).unwrap_or_else(|absolute| absolute);
                shown.to_string_lossy().replace('\\', "/")
            };
            github::print(out, &outcome.reports, &outcome.problems, &to_root)
        }
    };
    let printed = printed.and_then(|()| out.flush());
    match printed {
        // `flask-bind-guard . | head` is not an error.
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            let _ = writeln!(err, "error: cannot write output: {e}");
            return EXIT_ERROR;
        }
        _ => {}
    }
    if outcome.has_errors() {
        EXIT_ERROR
    } else if outcome.finding_count() > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
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
