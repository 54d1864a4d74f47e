//! `--format github`: GitHub Actions workflow commands, one per finding,
//! which the runner turns into annotations on the pull request's diff (no
//! token needed):
//!
//! ```text
//! ::error file=app.py,line=6,endLine=6,col=5,endColumn=39,title=FBG002 (critical) ...::Flask development server ...
//! ```
//!
//! Values are escaped as the runner expects: `%`, CR and LF everywhere,
//! and `:` and `,` too inside properties.

use std::io::{self, Write};
use std::path::Path;

use crate::scan::{FileProblem, FileReport};

/// Paths in annotations must be relative to the repository root (the
/// workspace); `to_root` makes a finding's path so.
pub fn print(
    w: &mut dyn Write,
    reports: &[FileReport],
    problems: &[FileProblem],
    to_root: &dyn Fn(&Path) -> String,
) -> io::Result<()> {
    for p in problems {
        let level = if p.is_error { "error" } else { "notice" };
        let file = property(&to_root(&p.path));
        writeln!(w, "::{level} file={file},title={}::{}", property("flask-bind-guard"), data(&p.message))?;
    }
    for f in reports.iter().flat_map(|r| &r.findings) {
        let level = match f.severity.level() {
            "error" => "error",
            "warning" => "warning",
            _ => "notice",
        };
        let title = format!("{} ({}) {}", f.rule.code(), f.severity.as_str(), f.rule.title());
        let message = format!("{}\nhelp: {}", f.message_with_cause(), f.rule.help(&f.host));
        if let (Some(cells), Some(at)) = (&f.notebook, f.cell(f.start.line)) {
            // The annotation goes on the JSON line of the call's code (the
            // diff GitHub shows is of the JSON); the text names the cell.
            let line = cells.json_line(f.span.start).unwrap_or(1);
            let message = format!("cell {}, line {}, column {}: {message}", at.number(), at.line, f.start.column);
            writeln!(
                w,
                "::{level} file={},line={line},title={}::{}",
                property(&to_root(&f.path)),
                property(&title),
                data(&message)
            )?;
            continue;
        }
        writeln!(
            w,
            "::{level} file={},line={},endLine={},col={},endColumn={},title={}::{}",
            property(&to_root(&f.path)),
            f.start.line,
            f.end.line,
            f.start.column,
            f.end.column,
            property(&title),
            data(&message)
        )?;
    }
    Ok(())
}

/// The message part of a command.
pub fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A `key=value` property of a command.
pub fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(data("50% done\r\nnext: a, b"), "50%25 done%0D%0Anext: a, b");
        assert_eq!(property("dir,1/a:b.py\n"), "dir%2C1/a%3Ab.py%0A");
        // `%` first, so an escape is never escaped twice.
        assert_eq!(property("%3A"), "%253A");
    }
}
