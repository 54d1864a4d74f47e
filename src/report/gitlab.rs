//! `--format gitlab`: a GitLab Code Quality report (the subset of the Code
//! Climate format GitLab reads from `artifacts:reports:codequality`): a JSON
//! array of issues, each with `description`, `check_name`, `fingerprint`,
//! `severity` and `location` (`path` relative to the repository root,
//! `lines.begin`). GitLab compares the reports of a merge request's base and
//! head by fingerprint, so it is SARIF's: stable when lines move, distinct
//! for identical calls in one file.

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Value, json};

use crate::rules::Severity;
use crate::scan::FileReport;

/// GitLab's scale is info, minor, major, critical, blocker; ours has four
/// steps, mapped onto the top four so a low finding still shows.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Low => "minor",
        Severity::Medium => "major",
        Severity::High => "critical",
        Severity::Critical => "blocker",
    }
}

/// The report. Suppressed findings are left out: GitLab has no way to show
/// an issue as accepted. Files that could not be checked are not issues
/// either (they go to stderr with the other formats' notes).
pub fn print(w: &mut dyn Write, reports: &[FileReport], to_root: &dyn Fn(&Path) -> String) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &issues(reports, to_root)).map_err(super::io_error)?;
    writeln!(w)
}

pub fn issues(reports: &[FileReport], to_root: &dyn Fn(&Path) -> String) -> Value {
    let mut out = Vec::new();
    for report in reports {
        for f in &report.findings {
            let mut description =
                format!("{}: {} (help: {})", f.rule.code(), f.message_with_cause(), f.rule.help(&f.host));
            // In a notebook GitLab shows the JSON file: the location is the
            // JSON line holding the call's code, the description names the
            // cell and the line in it.
            let (begin, end) = match (&f.notebook, f.cell(f.start.line)) {
                (Some(cells), Some(at)) => {
                    description = format!("cell {}, line {}: {description}", at.number(), at.line);
                    let begin = cells.json_line(f.span.start).unwrap_or(1);
                    (begin, cells.json_line(f.span.end).unwrap_or(begin).max(begin))
                }
                _ => (f.start.line, f.end.line),
            };
            out.push(json!({
                "description": description,
                "check_name": f.rule.code(),
                "fingerprint": super::sarif::fingerprint(f, &to_root(&f.path), &report.module, &report.findings),
                "severity": severity(f.severity),
                "categories": ["Security"],
                "location": {
                    "path": to_root(&f.path),
                    "lines": { "begin": begin, "end": end },
                },
            }));
        }
    }
    Value::Array(out)
}
