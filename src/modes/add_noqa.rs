//! `--add-noqa [REASON]`: mark every current finding as accepted, so a team
//! can switch the hook on for a codebase with existing findings and burn the
//! list down later.
//!
//! Each finding gets `# noqa: FBG00N` (and ` -- REASON`) on the first line
//! of its call, or on a later line of the call when the first cannot take a
//! comment (it ends inside a multi-line string, or with a `\` continuation);
//! a comment already there is kept and the code merged into its `# noqa`
//! list ([`with_codes`]). Before a file is written the new text is re-parsed:
//! its syntax tree must equal the old one once comments are set aside, and a
//! check of it must report none of the findings marked and nothing new. The
//! write is [`fix::write_atomically`]'s, after checking that the file is
//! still what was read.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use crate::analysis::check_module;
use crate::exit::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};
use crate::finding::{Finding, Position};
use crate::fix::{self, Edit};
use crate::project::Project;
use crate::python::comments::with_codes;
use crate::python::{Module, parse_module};
use crate::rules::Rule;
use crate::scan::{FileReport, ScanOutcome};
use crate::text::safe;

/// Why `--add-noqa` cannot run with these options, if it cannot: it edits
/// the files of an audit, never a commit's snapshot. `staged` names the
/// options in use that make a run judge a change (none: no PATH given).
pub fn refused(reason: Option<&str>, no_paths: bool, staged: &[(&str, bool)]) -> Option<String> {
    let reason = reason?;
    // The flag that makes this run judge a change is named first: with
    // refs and no PATH, "no PATH" is not what is wrong.
    if let Some((flag, _)) = staged.iter().find(|(_, on)| *on) {
        return Some(format!(
            "--add-noqa edits the files of an audit; {flag} judges a change instead: drop it and name the files or directories to mark"
        ));
    }
    if no_paths {
        return Some(
            "--add-noqa edits files, and with no PATH the staged content is checked: name the files or directories to mark (e.g. `flask-bind-guard --add-noqa .`)"
                .into(),
        );
    }
    if reason.chars().any(char::is_control) {
        return Some("the --add-noqa reason must be one line of text (no control characters)".into());
    }
    None
}

/// A finding left without a directive, and why.
struct Skipped {
    path: PathBuf,
    at: Position,
    why: String,
}

/// What `--add-noqa` does to one file.
struct Marked {
    path: PathBuf,
    old_bytes: Vec<u8>,
    new_bytes: Vec<u8>,
    /// Lines given a directive (or a longer one).
    lines: usize,
    findings: usize,
}

/// Mark the findings of an audit; print notes and a summary; the exit code
/// (0 every finding is marked, 1 some are left, 2 an error).
pub fn run(outcome: &ScanOutcome, reason: &str, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let reason = Some(reason.trim()).filter(|r| !r.is_empty());
    let mut failed = outcome.has_errors();
    let (mut lines, mut files, mut left) = (0, 0, 0);
    let mut written: Vec<PathBuf> = Vec::new();
    let with_findings = outcome.reports.iter().filter(|r| !r.findings.is_empty());
    for (project, report) in with_findings.filter_map(|r| outcome.project.as_ref().map(|p| (p, r))) {
        let name = safe(&report.module.path.display().to_string());
        // Two names of one file (a symlink and its target): marked once.
        let target = std::fs::canonicalize(&report.module.path).unwrap_or_else(|_| report.module.path.clone());
        if written.contains(&target) {
            continue;
        }
        let (marked, skipped) = match plan(project, report, reason) {
            Ok(planned) => planned,
            Err(why) => {
                let _ = writeln!(err, "note: {name}: no noqa directive added: {}", safe(&why));
                left += report.findings.len();
                continue;
            }
        };
        for s in &skipped {
            let _ = writeln!(
                err,
                "note: {}:{}:{}: no noqa directive added: {}",
                safe(&s.path.display().to_string()),
                s.at.line,
                s.at.column,
                safe(&s.why)
            );
        }
        left += skipped.len();
        let Some(m) = marked else { continue };
        match write(&m) {
            Ok(()) => {
                written.push(target);
                lines += m.lines;
                files += 1;
            }
            Err(Refusal::Note(why)) => {
                let _ = writeln!(err, "note: {name}: not written: {}", safe(&why));
                left += m.findings;
            }
            Err(Refusal::Error(why)) => {
                let _ = writeln!(err, "error: {name}: {}", safe(&why));
                left += m.findings;
                failed = true;
            }
        }
    }
    let _ = write!(out, "Added {lines} noqa directive{} to {files} file{}", plural(lines), plural(files));
    let _ = if left > 0 {
        writeln!(out, "; {left} finding{} left without one (see the notes).", plural(left))
    } else {
        writeln!(out, ".")
    };
    if failed {
        EXIT_ERROR
    } else if left > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

enum Refusal {
    /// Not written on purpose (read-only, hard links): a note.
    Note(String),
    Error(String),
}

fn write(m: &Marked) -> Result<(), Refusal> {
    // Never write over an edit made while we were checking.
    match std::fs::read(&m.path) {
        Ok(bytes) if bytes == m.old_bytes => {}
        Ok(_) => return Err(Refusal::Error("changed while being checked; not written".into())),
        Err(e) => return Err(Refusal::Error(format!("cannot read it again: {e}"))),
    }
    // A read-only file is someone's decision (generated, vendored): the
    // atomic rename would replace it regardless, so it is left alone.
    if std::fs::metadata(&m.path).is_ok_and(|md| md.permissions().readonly()) {
        return Err(Refusal::Note("the file is read-only".into()));
    }
    fix::write_atomically(&m.path, &m.new_bytes).map_err(|e| {
        if fix::is_refused(&e) { Refusal::Note(e.to_string()) } else { Refusal::Error(format!("cannot write it: {e}")) }
    })
}

/// The new bytes of one file, verified, and the findings it cannot mark.
fn plan(
    project: &Project,
    report: &FileReport,
    reason: Option<&str>,
) -> Result<(Option<Marked>, Vec<Skipped>), String> {
    let module = &report.module;
    let text = module.text();
    // Python also breaks lines at a lone `\r`; our line numbers do not, so
    // "the call's first line" could be two different lines.
    if text.as_bytes().windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n') || text.ends_with('\r') {
        return Err("it holds a carriage return that does not end a CRLF line; edit it by hand".into());
    }
    let tree = parse(text).ok_or("it cannot be parsed")?;
    let comments = comments_by_line(&tree, module);
    let mut skipped = Vec::new();
    // The findings to mark, by the line their directive goes on.
    let mut by_line: BTreeMap<usize, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        match (f.start.line..=f.end.line).find(|&l| comments.contains_key(&l) || line_end(&tree, module, l).is_ok()) {
            Some(line) => by_line.entry(line).or_default().push(f),
            None => {
                let why = line_end(&tree, module, f.start.line).err().unwrap_or_default();
                skipped.push(Skipped { path: f.path.clone(), at: f.start, why });
            }
        }
    }
    let mut edits = Vec::new();
    let mut marked: Vec<&Finding> = Vec::new();
    for (line, findings) in &by_line {
        let mut codes: Vec<&str> = findings.iter().map(|f| f.rule.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        let edit = match comments.get(line) {
            Some(span) => match with_codes(&text[span.clone()], &codes, reason) {
                Some(new) => Edit { span: span.clone(), replacement: new },
                // Our grammar says the comment covers them, yet the check
                // reported them: nothing sensible to write.
                None => {
                    skipped.extend(findings.iter().map(|f| Skipped {
                        path: f.path.clone(),
                        at: f.start,
                        why: format!("the comment on line {line} already names {}", codes.join(", ")),
                    }));
                    continue;
                }
            },
            None => {
                let at = line_end(&tree, module, *line)?;
                let why = reason.map(|r| format!(" -- {r}")).unwrap_or_default();
                Edit { span: at..at, replacement: format!("  # noqa: {}{why}", codes.join(", ")) }
            }
        };
        edits.push(edit);
        marked.extend(findings);
    }
    if edits.is_empty() {
        return Ok((None, skipped));
    }
    let new = fix::apply(text, &edits)?;
    verify(project, module, &tree, &new, &report.findings, &marked)?;
    let (_, old_bytes, new_bytes) = fix::encoded(project, module, &edits, new).map_err(|e| match reason {
        // (`encoded` speaks of a fix.)
        Some(r) if crate::source::encode(&module.source, r).is_none() => {
            format!("the reason cannot be written in the file's encoding ({})", module.source.encoding)
        }
        _ => e,
    })?;
    let m = Marked { path: module.path.clone(), old_bytes, new_bytes, lines: edits.len(), findings: marked.len() };
    Ok((Some(m), skipped))
}

fn parse(text: &str) -> Option<tree_sitter::Tree> {
    crate::python::lower::parse_tree(text)
}

/// Each comment's byte range, by the line it is on.
fn comments_by_line(tree: &tree_sitter::Tree, module: &Module) -> BTreeMap<usize, std::ops::Range<usize>> {
    let mut out = BTreeMap::new();
    let mut cursor = tree.walk();
    let mut visit = true;
    loop {
        if visit && cursor.node().kind() == "comment" {
            // A CRLF line's comment holds the `\r` (tree-sitter ends it at
            // `\n`): text written after it would start a line of its own.
            let n = cursor.node();
            let text = module.text().get(n.byte_range()).unwrap_or_default();
            let end = n.start_byte() + text.trim_end_matches('\r').len();
            out.insert(module.line_of(n.start_byte()), n.start_byte()..end);
        }
        if (visit && cursor.goto_first_child()) || cursor.goto_next_sibling() {
            visit = true;
        } else if cursor.goto_parent() {
            visit = false;
        } else {
            break;
        }
    }
    out
}

/// Where a new comment can go on `line` (which has none): after its last
/// non-blank character. `Err` when the line ends inside a string (a
/// multi-line string, where `#` would be text) or with a `\` continuation
/// (nothing may follow it).
fn line_end(tree: &tree_sitter::Tree, module: &Module, line: usize) -> Result<usize, String> {
    let text = module.text();
    let start = module.lines.line_start(line);
    let body = module.lines.line_text(text, line);
    let at = start + body.trim_end_matches([' ', '\t', '\x0c']).len();
    if at == start {
        return Err(format!("line {line} is blank"));
    }
    let mut node = tree.root_node().descendant_for_byte_range(at - 1, at);
    while let Some(n) = node {
        if n.kind() == "string" && n.end_byte() > at {
            return Err(format!("line {line} ends inside a multi-line string, where a comment would be text"));
        }
        node = n.parent();
    }
    if text[..at].ends_with('\\') {
        return Err(format!("line {line} ends with a `\\` continuation, after which no comment may follow"));
    }
    Ok(at)
}

/// The new text must parse to the same tree, comments aside, and its check
/// must report none of the `marked` findings and nothing that `before` (the
/// file's findings) did not hold.
fn verify(
    project: &Project,
    module: &Module,
    old_tree: &tree_sitter::Tree,
    new: &str,
    before: &[Finding],
    marked: &[&Finding],
) -> Result<(), String> {
    let new_tree = parse(new).ok_or("the marked file cannot be parsed")?;
    if code_shape(old_tree, module.text().as_bytes()) != code_shape(&new_tree, new.as_bytes()) {
        return Err("refused: the directives would change more than comments".into());
    }
    let mut source = module.source.clone();
    source.text = new.to_string();
    let reparsed = Arc::new(parse_module(module.path.clone(), source));
    let key = |f: &Finding| (f.rule, f.start);
    let mut left: Vec<(Rule, Position)> =
        check_module(project, &reparsed).iter().filter(|f| f.suppressed.is_none()).map(key).collect();
    let mut expected: Vec<(Rule, Position)> =
        before.iter().filter(|f| !marked.iter().any(|m| key(m) == key(f))).map(key).collect();
    left.sort_unstable();
    expected.sort_unstable();
    if left != expected {
        return Err("refused: the directives would not silence exactly the findings marked".into());
    }
    Ok(())
}

/// The tree without its comments: every other node's kind and its own text
/// (what its children do not cover: a token's text, a string's characters),
/// blanks removed, in order. Blanks outside strings are insignificant, and
/// the two before a new comment are not part of it.
fn code_shape(tree: &tree_sitter::Tree, src: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        if n.kind() == "comment" {
            continue;
        }
        let mut own = Vec::new();
        let mut at = n.start_byte();
        let mut cursor = n.walk();
        let children: Vec<tree_sitter::Node> = n.children(&mut cursor).collect();
        for c in &children {
            own.extend_from_slice(src.get(at..c.start_byte().max(at)).unwrap_or_default());
            at = at.max(c.end_byte());
        }
        own.extend_from_slice(src.get(at..n.end_byte().max(at)).unwrap_or_default());
        own.retain(|b| !b.is_ascii_whitespace());
        out.push((n.kind_id(), own));
        stack.extend(children.into_iter().rev());
    }
    out
}
