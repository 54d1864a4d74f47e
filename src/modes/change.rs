//! Staged mode: the change a commit or a push brings in, read from git
//! (see [`crate::staged`] for the verdict).

use std::io::Write;
use std::path::PathBuf;

use super::{Checked, Invocation, Target, config_help};
use crate::exit::EXIT_ERROR;
use crate::git::{self, ChangeSpec};
use crate::scan::ScanOutcome;
use crate::staged::run_with_repo;
use crate::text::safe;

/// Judge the change `inv` targets; the outcome and the repository it was
/// read from (a fix of the index writes there).
pub fn judge(inv: &Invocation, err: &mut dyn Write) -> Checked<(ScanOutcome, git2::Repository)> {
    let Some(spec) = spec_of(&inv.target) else { return Err(EXIT_ERROR) };
    let restrict = match &inv.target {
        Target::Push { restrict, .. } => restrict.as_ref(),
        _ => None,
    };
    let mut opts = inv.scan.clone();
    // Read from the snapshot being judged (see `run_with_repo`).
    opts.config = Some(inv.config.clone());
    let checked = git::open_repo().and_then(|repo| Ok((run_with_repo(&repo, spec, &opts)?, repo)));
    match checked {
        Ok((mut outcome, repo)) => {
            if let Some(paths) = restrict {
                keep_under(&mut outcome, paths);
            }
            Ok((outcome, repo))
        }
        Err(git::GitError::Config(e)) => {
            // `ConfigError`'s text: terminal-safe already.
            let _ = writeln!(err, "error: {e}\nhelp: {}", config_help(inv, true));
            Err(EXIT_ERROR)
        }
        Err(e) => {
            let _ = writeln!(err, "error: {}", safe(&e.to_string()));
            Err(EXIT_ERROR)
        }
    }
}

/// The spec of the change a target judges, if it judges one.
pub fn spec_of(target: &Target) -> Option<&ChangeSpec> {
    match target {
        Target::Commit { spec, .. } | Target::Range { spec } | Target::All { spec } | Target::Push { spec, .. } => {
            Some(spec)
        }
        Target::Audit { .. } => None,
    }
}

/// Keep only the files under `paths` (files or directories, relative to
/// the working directory) in a staged-mode outcome.
fn keep_under(outcome: &mut ScanOutcome, paths: &[PathBuf]) {
    // Compared resolved: the repository's path may be spelt differently
    // from the working directory's (a symlink on the way).
    let cwd = std::env::current_dir().unwrap_or_default();
    let wanted: Vec<PathBuf> = paths.iter().map(|p| crate::paths::resolve_dir(&cwd.join(p))).collect();
    let base = crate::paths::resolve_dir(&outcome.base);
    let inside = |p: &std::path::Path| {
        let path = crate::paths::clean(&base.join(p));
        wanted.iter().any(|w| path.starts_with(w))
    };
    outcome.reports.retain(|r| inside(&r.module.path));
    outcome.problems.retain(|p| inside(&p.path));
}
