//! What the tool does, one function per mode. [`crate::cli`] resolves the
//! command line and the environment into one [`Invocation`] (what to check,
//! what to do with the findings, how to print them) and [`check`] runs it.

pub mod add_noqa;
pub mod audit;
pub mod change;
pub mod fix;
pub mod output;

use std::io::Write;
use std::path::PathBuf;

use crate::config;
use crate::exit::EXIT_ERROR;
use crate::git::ChangeSpec;
use crate::report::Format;
use crate::scan::ScanOptions;

/// Everything a check needs, decided once from the command line.
pub struct Invocation {
    pub target: Target,
    pub action: Action,
    pub print: Print,
    /// Where the configuration comes from, and what the flags set.
    pub config: config::Request,
    /// A configuration file was named (`--config`): what to advise on an
    /// error in it.
    pub config_named: bool,
    /// Prefilter and size limit (the configuration fills in the rest).
    pub scan: ScanOptions,
    /// With a fix: exit 0 when every finding was fixed.
    pub exit_zero_on_fix: bool,
    /// Findings do not fail the run (`--exit-zero`): nothing is blocked.
    pub exit_zero: bool,
    /// `--add-noqa`'s reason (empty: none).
    pub noqa_reason: String,
    /// Print files read and parsed, and the time taken.
    pub stats: bool,
}

/// What is checked.
pub enum Target {
    /// Files and directories as they are on disk, audited whole.
    Audit { paths: Vec<PathBuf> },
    /// The change a commit makes: the index, or the files a framework
    /// names (`framework`: run by pre-commit or prek).
    Commit { spec: ChangeSpec, framework: bool },
    /// The commits a push sends (`framework`: run by pre-commit or prek),
    /// only the files under `restrict` when the framework names some.
    Push { spec: ChangeSpec, framework: bool, restrict: Option<Vec<PathBuf>> },
    /// A range given as flags (CI): `--from-ref A --to-ref B`.
    Range { spec: ChangeSpec },
    /// Every Python file of the index (`--all`).
    All { spec: ChangeSpec },
}

/// What is done with the findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Print them in the chosen format.
    Report,
    /// Print the diff a fix would make; write nothing.
    Diff,
    /// Fix the files on disk (audited files, or the working tree under a
    /// framework) and print the diff.
    FixFiles,
    /// Fix the staged blobs in the index (and the working tree where it is
    /// safe) and print the diff.
    FixIndex,
    /// Mark every finding as accepted with a `# noqa` comment (and this
    /// reason, when not empty): audited files only.
    AddNoqa,
}

/// How the outcome is printed.
pub struct Print {
    pub format: Format,
    pub color: bool,
    /// JSON and SARIF: include suppressed findings.
    pub show_suppressed: bool,
}

/// Run a check: find, then report or fix; the exit code.
pub fn check(inv: &Invocation, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let started = std::time::Instant::now();
    let checked = match &inv.target {
        Target::Audit { paths } => audit::scan(inv, paths, err).map(|outcome| (outcome, None)),
        _ => change::judge(inv, err).map(|(outcome, repo)| (outcome, Some(repo))),
    };
    let (outcome, repo) = match checked {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    if inv.stats {
        let _ = writeln!(
            err,
            "stats: {} Python files read, {} parsed, {:.3}s",
            outcome.files,
            outcome.parsed,
            started.elapsed().as_secs_f64()
        );
    }
    let code = match (inv.action, repo) {
        (Action::Report, _) => output::report_and_advise(inv, &outcome, out, err),
        (Action::Diff, _) => fix::files(inv, &outcome, false, out, err),
        (Action::FixFiles, _) => fix::files(inv, &outcome, true, out, err),
        (Action::FixIndex, Some(repo)) => fix::index(inv, &repo, &outcome, out, err),
        (Action::FixIndex, None) => EXIT_ERROR,
        (Action::AddNoqa, _) => {
            output::print_problems(&outcome, err);
            add_noqa::run(&outcome, &inv.noqa_reason, out, err)
        }
    };
    // The outcome holds every file's facts and the modules parsed: freed
    // one allocation at a time, they cost milliseconds at the end of an
    // audit (strace: 5 ms of frees and `madvise` after the last write),
    // and the process ends right after this.
    std::mem::forget(outcome);
    code
}

/// What to do about a configuration error.
fn config_help(inv: &Invocation, staged: bool) -> &'static str {
    match (inv.config_named, staged) {
        (true, _) => "correct the file, or name another with --config",
        (false, true) => {
            "correct it and stage the correction (`git add`: a commit is judged by the staged pyproject.toml), or pass --isolated to ignore configuration files"
        }
        (false, false) => "correct it, or pass --isolated to ignore configuration files",
    }
}

/// The outcome of a check, or the exit code it ended with.
type Checked<T> = Result<T, u8>;

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
