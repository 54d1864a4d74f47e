//! Staged mode: judge exactly what is about to be committed (or pushed),
//! and report findings only on the lines the change adds.

use std::collections::HashMap;

use git2::Repository;

use crate::git::{self, Added, ChangeSpec, GitError};
use crate::project::Project;
use crate::scan::{FileProblem, ScanOptions, ScanOutcome, check_files, facts_of};

/// Check the change `spec` names in `repo`: the seam tests drive with real
/// repositories (the CLI opens the repository from the environment).
pub fn run_with_repo(repo: &Repository, spec: &ChangeSpec, opts: &ScanOptions) -> Result<ScanOutcome, GitError> {
    let change = git::change(repo, spec)?;
    // The configuration as staged: what is committed is judged by the
    // rules committed with it.
    let configured;
    let opts = match &opts.config {
        Some(request) => {
            let settings = request.in_tree(&change.tree).map_err(|e| GitError::Config(e.to_string()))?;
            configured = ScanOptions { config: None, ..opts.clone() }.with_settings(settings);
            &configured
        }
        None => opts,
    };
    let mut outcome = ScanOutcome::default();
    // Staged paths are relative to the top of the working tree.
    outcome.base = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    outcome.root = outcome.base.clone();
    for (path, message) in &change.notes {
        outcome.problems.push(FileProblem { path: path.clone(), message: message.clone(), is_error: false });
    }
    let added: HashMap<_, _> = change.files.iter().map(|f| (f.path.clone(), f.added.clone())).collect();
    let project = Project::new(Box::new(change.tree))
        .with_max_file_size(spec.max_file_size)
        .with_analysis(opts.settings.analysis.clone());
    let mut scanned = Vec::new();
    for file in change.files.iter().filter(|f| !opts.settings.exclude.matches(&f.path)) {
        let bytes = match project.tree().read(&file.path) {
            Ok(b) => b,
            Err(e) => {
                let message = format!("cannot read the staged blob: {e}");
                outcome.problems.push(FileProblem { path: file.path.clone(), message, is_error: true });
                continue;
            }
        };
        match facts_of(&file.path, &bytes, opts) {
            Ok(f) => {
                scanned.push((file.path.clone(), f));
            }
            Err(p) => outcome.problems.push(p),
        }
    }
    outcome.files = scanned.len();
    // With `--all` every Python file of the snapshot is scanned, so
    // importers can be searched backwards; otherwise forwards, reading
    // other modules from the snapshot as needed.
    let keep =
        |f: &crate::finding::Finding| added.get(&f.path).is_some_and(|a: &Added| a.overlaps(f.start.line, f.end.line));
    let (reports, problems, parsed) = check_files(&project, &scanned, spec.all, opts, keep);
    outcome.reports = reports;
    outcome.parsed = parsed;
    outcome.project = Some(std::sync::Arc::new(project));
    outcome.changed = Some(added.keys().cloned().collect());
    outcome.problems.extend(problems);
    outcome.problems.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(outcome)
}
