//! Printing an outcome: the problems, the findings in the chosen format,
//! and, when a commit or a push is blocked, what to do next.

use std::io::{self, Write};

use super::{Invocation, Print, Target, plural};
use crate::exit::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};
use crate::report::{Format, Human, github, gitlab, json, sarif};
use crate::scan::ScanOutcome;
use crate::text::safe;

/// Print the outcome; when it blocks a commit or a push, say how to go on.
pub fn report_and_advise(inv: &Invocation, outcome: &ScanOutcome, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let code = report(&inv.print, outcome, out, err);
    // (With --exit-zero nothing is blocked.)
    if code == EXIT_FINDINGS
        && !inv.exit_zero
        && inv.print.format == Format::Human
        && let Some(line) = blocking_line(&inv.target, outcome)
    {
        let _ = writeln!(out, "{line}");
    }
    code
}

/// What a blocked commit or push (or a range with findings) can do next.
fn blocking_line(target: &Target, outcome: &ScanOutcome) -> Option<String> {
    let n = outcome.finding_count();
    let findings = format!("{n} finding{}", plural(n));
    let blocks = if n == 1 { "blocks" } else { "block" };
    let noqa = noqa_advice(outcome);
    Some(match target {
        Target::Range { spec } => {
            let (from, to) = spec.refs.as_ref()?;
            format!(
                "flask-bind-guard: {findings} in {from}..{to}. Fix: bind to 127.0.0.1 (or ::1) in a new commit; deliberate: {noqa}."
            )
        }
        Target::Push { framework, .. } => format!(
            "flask-bind-guard: {findings} {blocks} this push. Fix: bind to 127.0.0.1 (or ::1) in a new commit; deliberate: {noqa}; bypass once: {}.",
            if *framework { "`SKIP=flask-bind-guard git push`" } else { "`git push --no-verify`" },
        ),
        Target::Commit { framework: true, .. } => format!(
            "flask-bind-guard: {findings} {blocks} this commit. Fix: `args: [--fix]` on the flask-bind-guard hook rewrites the host to loopback in the working tree (then `git add` and commit again); deliberate: {noqa}; bypass once: `SKIP=flask-bind-guard git commit`."
        ),
        Target::Commit { framework: false, .. } => format!(
            "flask-bind-guard: {findings} {blocks} this commit. Fix: `flask-bind-guard --fix` rewrites the staged host to loopback; deliberate: {noqa}; bypass once: `git commit --no-verify`."
        ),
        Target::All { .. } | Target::Audit { .. } => return None,
    })
}

/// How to mark the blocking findings as deliberate: the code each one
/// reports (`# noqa: FBG001` does not silence FBG002, the debugger).
fn noqa_advice(outcome: &ScanOutcome) -> String {
    let mut codes: Vec<&str> = outcome.reports.iter().flat_map(|r| &r.findings).map(|f| f.rule.code()).collect();
    codes.sort_unstable();
    codes.dedup();
    match codes.as_slice() {
        [one] => format!("add `# noqa: {one}` to the call"),
        _ => format!("add `# noqa: <code>` to each call, with the code its finding names ({})", codes.join(", ")),
    }
}

/// Files that could not be checked (errors) or were skipped (notes).
pub fn print_problems(outcome: &ScanOutcome, err: &mut dyn Write) {
    for p in &outcome.problems {
        let kind = if p.is_error { "error" } else { "note" };
        let _ = writeln!(err, "{kind}: {}: {}", safe(&p.path.display().to_string()), safe(&p.message));
    }
}

/// Print an outcome and return the exit code.
pub fn report(print: &Print, outcome: &ScanOutcome, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    print_problems(outcome, err);
    let printed = match print.format {
        Format::Human => Human { color: print.color }.print(out, &outcome.reports).and_then(|()| summary(outcome, out)),
        Format::Json => json::print(out, &outcome.reports, print.show_suppressed),
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
                show_suppressed: print.show_suppressed,
            };
            sarif::print(out, &outcome.reports, &cx)
        }
        Format::Github => github::print(out, &outcome.reports, &outcome.problems, &|p| from_root(outcome, p)),
        Format::Gitlab => gitlab::print(out, &outcome.reports, &|p| from_root(outcome, p)),
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

/// A path as CI formats name files: relative to the repository root with
/// `/` separators, or absolute when outside it.
fn from_root(outcome: &ScanOutcome, p: &std::path::Path) -> String {
    let shown = outcome.from_root(p).unwrap_or_else(|absolute| absolute);
    crate::paths::slashed(&shown.to_string_lossy(), std::path::MAIN_SEPARATOR)
}

/// The human format's closing lines: how many findings, and what a peer's
/// comment hid (nothing disappears silently).
fn summary(outcome: &ScanOutcome, out: &mut dyn Write) -> io::Result<()> {
    let n = outcome.finding_count();
    if n > 0 {
        let files = outcome.reports.iter().filter(|r| !r.findings.is_empty()).count();
        writeln!(out, "Found {n} finding{} in {files} file{}.", plural(n), plural(files))?;
    }
    let peers = outcome.peer_suppressed();
    let total: usize = peers.iter().map(|(_, k)| k).sum();
    let by = match peers.as_slice() {
        [] => return Ok(()),
        [(marker, _)] => format!("by {}", safe(marker)),
        _ => {
            let parts: Vec<String> = peers.iter().map(|(m, k)| format!("{k} by {}", safe(m))).collect();
            format!("by ruff/bandit comments ({})", parts.join(", "))
        }
    };
    writeln!(
        out,
        "{total} finding{} suppressed {by}; --no-peer-suppressions (or `peer-suppressions = false`) reports {}.",
        plural(total),
        if total == 1 { "it" } else { "them" }
    )
}
