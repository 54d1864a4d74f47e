//! `--format sarif`: SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure
//! DevOps). One run; both rules in `tool.driver.rules`; locations relative
//! to the repository root (`%SRCROOT%`); columns in Unicode code points;
//! a fingerprint that survives unrelated edits; the `--fix` edit as a SARIF
//! fix. `tests/sarif.rs` validates the output against the official schema.

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Value, json};

use crate::finding::{Finding, Position};
use crate::fix::FileFix;
use crate::python::ModuleRef;
use crate::rules::{Rule, Severity};
use crate::scan::{FileProblem, FileReport};

/// Where the repository is, for the rules' and results' links.
pub const REPOSITORY: &str = "https://github.com/flask-bind-guard/flask-bind-guard";

/// What a SARIF log needs besides the findings.
pub struct Context<'a> {
    /// The absolute directory finding paths are relative to.
    pub base: &'a Path,
    /// The absolute repository root: `%SRCROOT%`.
    pub root: &'a Path,
    /// `--fix`'s edits (nothing is written): each becomes a SARIF fix.
    pub fixes: &'a [(ModuleRef, FileFix)],
    pub problems: &'a [FileProblem],
    /// Each rule's severity for this run (the configuration may change it).
    pub severity: &'a dyn Fn(Rule) -> Severity,
    /// Include suppressed findings, with SARIF `suppressions`.
    pub show_suppressed: bool,
}

pub fn print(w: &mut dyn Write, reports: &[FileReport], cx: &Context) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &log(reports, cx)).map_err(super::io_error)?;
    writeln!(w)
}

/// The whole SARIF log.
pub fn log(reports: &[FileReport], cx: &Context) -> Value {
    let rules: Vec<Value> = Rule::ALL.iter().map(|&r| rule(r, (cx.severity)(r))).collect();
    let mut results = Vec::new();
    for report in reports {
        for f in &report.findings {
            results.push(result(f, &report.module, &report.findings, cx));
        }
        if cx.show_suppressed {
            for f in &report.suppressed {
                let mut r = result(f, &report.module, &report.suppressed, cx);
                let justification = f.suppressed.as_ref().map(|s| format!("suppressed by {}", s.marker()));
                r["suppressions"] = json!([{ "kind": "inSource", "justification": justification }]);
                results.push(r);
            }
        }
    }
    let notifications: Vec<Value> = cx
        .problems
        .iter()
        .map(|p| {
            json!({
                "level": if p.is_error { "error" } else { "note" },
                "message": { "text": p.message },
                "locations": [{ "physicalLocation": { "artifactLocation": artifact(&p.path, cx) } }],
            })
        })
        .collect();
    let root_uri = format!("{}/", file_uri(cx.root).trim_end_matches('/'));
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "flask-bind-guard",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": REPOSITORY,
                    "rules": rules,
                }
            },
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root_uri } },
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": !cx.problems.iter().any(|p| p.is_error),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    })
}

fn rule(r: Rule, severity: Severity) -> Value {
    let help_uri = format!("{REPOSITORY}/blob/main/docs/rules/{}.md", r.code());
    json!({
        "id": r.code(),
        "name": pascal(r.name()),
        "shortDescription": { "text": r.title() },
        "fullDescription": { "text": format!("{}: {}.", r.title(), r.why()) },
        "helpUri": help_uri,
        "help": { "text": r.help("0.0.0.0"), "markdown": r.doc() },
        "defaultConfiguration": { "level": severity.level() },
        "properties": {
            "tags": ["security", "CWE-668", "external/cwe/cwe-668", "OWASP-A05"],
            "security-severity": severity.score(),
            "precision": "high",
            "problem.severity": match severity.level() { "note" => "recommendation", l => l },
        }
    })
}

fn result(f: &Finding, module: &ModuleRef, same_file: &[Finding], cx: &Context) -> Value {
    let message = format!("{} (help: {})", f.message_with_cause(), f.rule.help(&f.host));
    let mut result = json!({
        "ruleId": f.rule.code(),
        "ruleIndex": Rule::ALL.iter().position(|r| *r == f.rule).unwrap_or(0),
        "level": f.severity.level(),
        "message": { "text": message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": artifact(&f.path, cx),
                "region": region(f.start, f.end),
            }
        }],
        "partialFingerprints": { "flaskBindGuard/v1": fingerprint(f, &root_path(&f.path, cx), module, same_file) },
        "properties": { "host": f.host, "severity": f.severity.as_str() },
    });
    if let (Some(cells), Some(at)) = (&f.notebook, f.cell(f.start.line)) {
        // A notebook's file is JSON: the region is the lines of the JSON
        // holding the call's code (what a viewer of the raw file shows);
        // the cell and the line in it are what a person looks for.
        let json_line = |offset: usize| cells.json_line(offset).unwrap_or(1);
        let (first, last) = (json_line(f.span.start), json_line(f.span.end.saturating_sub(1)));
        result["locations"][0]["physicalLocation"]["region"] =
            json!({ "startLine": first, "endLine": last.max(first) });
        result["message"]["text"] = json!(format!("cell {}, line {}: {message}", at.number(), at.line));
        result["properties"]["cell"] = json!(at.number());
        result["properties"]["cellIndex"] = json!(at.index);
        result["properties"]["cellLine"] = json!(at.line);
        result["properties"]["cellColumn"] = json!(f.start.column);
        // A SARIF fix is in the JSON file's coordinates; `--fix` applies
        // notebook fixes itself.
        return result;
    }
    if let Some(fix) = fix_for(f, cx) {
        result["fixes"] = json!([fix]);
    }
    result
}

fn region(start: Position, end: Position) -> Value {
    json!({ "startLine": start.line, "startColumn": start.column, "endLine": end.line, "endColumn": end.column })
}

/// The `--fix` edit that fixes `f`, as a SARIF fix.
fn fix_for(f: &Finding, cx: &Context) -> Option<Value> {
    let key = (f.path.clone(), f.start);
    cx.fixes.iter().find_map(|(module, fix)| {
        let (edit, _) = fix.edits.iter().find(|(_, keys)| keys.contains(&key))?;
        let text = module.text();
        let (sl, sc) = module.lines.line_col(text, edit.span.start);
        let (el, ec) = module.lines.line_col(text, edit.span.end);
        Some(json!({
            "description": { "text": format!("Bind to loopback: {}", edit.replacement) },
            "artifactChanges": [{
                "artifactLocation": artifact(&fix.path, cx),
                "replacements": [{
                    "deletedRegion": { "startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec },
                    "insertedContent": { "text": edit.replacement },
                }]
            }]
        }))
    })
}

/// Stable across edits elsewhere in the file: the rule, the file (`path`:
/// relative to the repository root, so the same finding has the same
/// fingerprint whichever directory the tool runs from), the call text
/// without whitespace, and which of the identical calls in that file this
/// is, hashed (FNV-1a, 64 bits). The GitLab report uses it too.
pub(crate) fn fingerprint(f: &Finding, path: &str, module: &ModuleRef, same_file: &[Finding]) -> String {
    let squeeze = |g: &Finding| -> String {
        module.text().get(g.span.clone()).unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect()
    };
    let own = squeeze(f);
    let nth =
        same_file.iter().take_while(|g| g.start != f.start).filter(|g| g.rule == f.rule && squeeze(g) == own).count();
    let path = path.replace('\\', "/");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [f.rule.code(), &path, &own, &nth.to_string()] {
        for b in part.bytes().chain([0]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// A finding's path relative to the repository root (absolute outside it),
/// as the fingerprint hashes it.
fn root_path(path: &Path, cx: &Context) -> String {
    let shown = crate::scan::from_root(cx.base, cx.root, path).unwrap_or_else(|absolute| absolute);
    shown.to_string_lossy().into_owned()
}

/// A file's location: relative to `%SRCROOT%` when it is inside the
/// repository, an absolute `file:` URI otherwise.
fn artifact(path: &Path, cx: &Context) -> Value {
    match crate::scan::from_root(cx.base, cx.root, path) {
        Ok(rel) => json!({ "uri": encode_path(&rel), "uriBaseId": "%SRCROOT%" }),
        Err(absolute) => json!({ "uri": file_uri(&absolute) }),
    }
}

fn file_uri(path: &Path) -> String {
    let encoded = encode_path(path);
    if encoded.starts_with('/') { format!("file://{encoded}") } else { format!("file:///{encoded}") }
}

/// A path as a URI reference: `/` separators, every byte outside the
/// unreserved set percent-encoded (spaces, `#`, `%`, non-ASCII ...).
pub fn encode_path(path: &Path) -> String {
    let text = crate::paths::slashed(&path.to_string_lossy(), std::path::MAIN_SEPARATOR);
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            // A Windows drive letter's colon stays readable.
            b':' if out.len() == 1 || (out.len() == 2 && out.starts_with('/')) => out.push(':'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `flask-dev-server-all-interfaces` -> `FlaskDevServerAllInterfaces`.
fn pascal(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(encode_path(Path::new("a b/c#1%.py")), "a%20b/c%231%25.py");
        assert_eq!(encode_path(Path::new("é.py")), "%C3%A9.py");
        assert_eq!(file_uri(Path::new("/srv/x y")), "file:///srv/x%20y");
        assert_eq!(pascal("flask-dev-server-all-interfaces"), "FlaskDevServerAllInterfaces");
    }
}
