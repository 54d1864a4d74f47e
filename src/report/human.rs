//! The terminal format: one block per finding, rustc/ruff style.
//!
//! ```text
//! app.py:6:5: FBG001 Flask development server binds every network interface: host "0.0.0.0"
//!   |
//! 6 |     app.run(host="0.0.0.0", port=5000)
//!   |                  ^^^^^^^^^ every interface
//!   |
//!   = why: every machine that can route to this port ...
//!   = help: bind to loopback (host="127.0.0.1") ...
//! ```
//!
//! Text from scanned files is made safe first: tabs become spaces and other
//! control characters their visible "control picture", so a file cannot
//! move the cursor or recolour the terminal.

use std::io::{self, Write};

use owo_colors::OwoColorize;
use unicode_width::UnicodeWidthChar;

use crate::finding::Finding;
use crate::python::Module;
use crate::rules::{Rule, Severity};
use crate::scan::FileReport;
use crate::text::safe_char;

pub use crate::text::safe;

/// Lines of a call shown at most; longer calls show the first and the
/// host's lines.
const MAX_SNIPPET_LINES: usize = 4;

pub struct Human {
    pub color: bool,
}

impl Human {
    fn paint(&self, text: &str, style: Style) -> String {
        if !self.color {
            return text.to_string();
        }
        match style {
            Style::Location => text.bold().to_string(),
            Style::Critical => text.red().bold().to_string(),
            Style::Medium => text.yellow().bold().to_string(),
            Style::Gutter => text.blue().bold().to_string(),
            Style::Caret(severity) => match severity {
                Severity::Critical | Severity::High => text.red().bold().to_string(),
                Severity::Medium => text.yellow().bold().to_string(),
                Severity::Low => text.cyan().bold().to_string(),
            },
            Style::Help => text.cyan().bold().to_string(),
        }
    }

    pub fn finding(&self, w: &mut dyn Write, module: &Module, f: &Finding) -> io::Result<()> {
        let location = format!("{}:", safe(&f.location(f.start)));
        let code_style = match f.severity {
            Severity::Critical | Severity::High => Style::Critical,
            Severity::Medium | Severity::Low => Style::Medium,
        };
        writeln!(
            w,
            "{} {} {}",
            self.paint(&location, Style::Location),
            self.paint(f.rule.code(), code_style),
            safe(&f.message)
        )?;

        let lines = snippet_lines(f);
        // In a notebook the gutter counts the lines of the cell.
        let shown = |line: usize| f.cell(line).map_or(line, |c| c.line);
        let width = lines.iter().flatten().map(|&l| shown(l)).max().unwrap_or(1).to_string().len();
        let pad = " ".repeat(width);
        let bar = self.paint("|", Style::Gutter);
        writeln!(w, "{pad} {bar}")?;
        let text = module.text();
        for line in lines {
            let Some(line) = line else {
                writeln!(w, "{}", self.paint(&format!("{pad}..."), Style::Gutter))?;
                continue;
            };
            let raw = module.lines.line_text(text, line);
            let number = self.paint(&format!("{:>width$}", shown(line)), Style::Gutter);
            writeln!(w, "{number} {bar} {}", safe_line(raw).trim_end())?;
            // The part of the host span on this line, in display columns.
            let line_start = module.lines.line_start(line);
            let line_end = line_start + raw.len();
            let (s, e) = (f.host_span.start.max(line_start), f.host_span.end.min(line_end));
            if s < e && e <= text.len() {
                let before = display_width(&raw[..s - line_start]);
                let under = display_width(&raw[s - line_start..e - line_start]).max(1);
                let label = if line == module.line_of(f.host_span.end.saturating_sub(1)) {
                    format!(" {}", label(f))
                } else {
                    String::new()
                };
                let carets = self.paint(&format!("{}{label}", "^".repeat(under)), Style::Caret(f.severity));
                writeln!(w, "{pad} {bar} {}{carets}", " ".repeat(before))?;
            }
        }
        writeln!(w, "{pad} {bar}")?;
        if let Some(cause) = &f.cause {
            writeln!(w, "{pad} {} {}", self.paint("= brought in:", Style::Help), safe(cause))?;
        }
        writeln!(w, "{pad} {} {}", self.paint("= why:", Style::Help), f.rule.why())?;
        writeln!(w, "{pad} {} {}", self.paint("= help:", Style::Help), f.rule.help(&f.host))?;
        writeln!(w)
    }

    pub fn print(&self, w: &mut dyn Write, reports: &[FileReport]) -> io::Result<()> {
        for r in reports {
            for f in &r.findings {
                self.finding(w, &r.module, f)?;
            }
        }
        Ok(())
    }
}

enum Style {
    Location,
    Critical,
    Medium,
    Gutter,
    Caret(Severity),
    Help,
}

fn label(f: &Finding) -> String {
    match f.rule {
        Rule::DebuggerAllInterfaces => format!("binds {} with the debugger on", f.host),
        Rule::AllInterfaces => format!("binds {} (every interface)", f.host),
    }
}

/// The lines to show: the call's first line through the host's last line,
/// eliding the middle of long calls (`None` marks the gap).
fn snippet_lines(f: &Finding) -> Vec<Option<usize>> {
    let first = f.start.line;
    let host_first = f.host_start.line.max(first);
    let host_last = f.host_end.line.max(host_first);
    if host_last - first < MAX_SNIPPET_LINES {
        (first..=host_last).map(Some).collect()
    } else {
        let mut v = vec![Some(first)];
        if host_first > first + 1 {
            v.push(None);
        }
        let from = host_first.max(host_last.saturating_sub(MAX_SNIPPET_LINES - 2)).max(first + 1);
        v.extend((from..=host_last).map(Some));
        v
    }
}

fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c == '\t' { 4 } else { c.width().unwrap_or(1) }).sum()
}

/// A source line made safe for a terminal, keeping its display width.
fn safe_line(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' => "    ".to_string(),
            c => safe_char(c).to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_pictured() {
        assert_eq!(safe_line("\tx\r"), "    x\u{240d}");
    }
}
