//! `--fix` and `--diff`: rewrite the host to loopback in files or in the
//! index, and show the diff.

use std::io::Write;

use super::{Invocation, plural};
use crate::exit::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};
use crate::fix::{self, Unfixable};
use crate::scan::ScanOutcome;
use crate::text::safe;

/// `--fix` (`write`) or `--diff` on files: audited ones, or the working
/// tree's copies of a change's files.
pub fn files(inv: &Invocation, outcome: &ScanOutcome, write: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    super::output::print_problems(outcome, err);
    let Some(project) = &outcome.project else {
        // No project: nothing was checked (a change with no Python file or
        // notebook), so there is nothing to fix.
        return if outcome.has_errors() || !outcome.reports.is_empty() { EXIT_ERROR } else { EXIT_CLEAN };
    };
    let color = inv.print.color;
    let (mut fixed, mut files, mut failed) = (0, 0, false);
    // `--diff` in staged mode may show a fix in another file of the change.
    let allow = |p: &std::path::Path| outcome.changed.as_ref().is_some_and(|c| c.contains(p));
    let (fixes, notes) = fix::fix_all(project, &outcome.reports, &allow);
    print_unfixable(&notes, err);
    let mut unfixed = outcome.finding_count() - fixes.iter().map(|(_, f)| f.fixed).sum::<usize>();
    for (_, file_fix) in &fixes {
        let _ = write!(out, "{}", colour_diff(&fix::unified_diff(file_fix), color));
        if write {
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
    let verb = if write { "Fixed" } else { "Would fix" };
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
    } else if unfixed > 0 || (fixed > 0 && !inv.exit_zero_on_fix) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// `--fix` of a commit: into the index (and, where it is safe, the working
/// tree), then the diffs and what was left alone.
pub fn index(
    inv: &Invocation,
    repo: &git2::Repository,
    outcome: &ScanOutcome,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    super::output::print_problems(outcome, err);
    let index_file = super::change::spec_of(&inv.target).and_then(|s| s.index_file.as_deref());
    let result = match crate::staged_fix::fix_staged(repo, outcome, index_file, true) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "error: {}", safe(&e.to_string()));
            return EXIT_ERROR;
        }
    };
    print_unfixable(&result.unfixable, err);
    for f in &result.fixes {
        let _ = write!(out, "{}", colour_diff(&fix::unified_diff(f), inv.print.color));
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
        if unfixed == 0 && !inv.exit_zero_on_fix { " Review the diff and commit again." } else { "" }
    );
    if outcome.has_errors() {
        EXIT_ERROR
    } else if unfixed > 0 || (fixed > 0 && !inv.exit_zero_on_fix) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// Findings the fixer leaves alone, and why.
fn print_unfixable(notes: &[Unfixable], err: &mut dyn Write) {
    for n in notes {
        let _ = writeln!(err, "note: {}: not auto-fixable: {}", safe(&n.location()), safe(&n.reason));
    }
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
