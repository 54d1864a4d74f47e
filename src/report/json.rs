//! `--format json`: one array of findings. The field names are a stable
//! interface (documented in the README); add fields, never rename them.

use std::io::{self, Write};

use serde::Serialize;

use crate::analysis::value::Source;
use crate::finding::{DebugSource, Finding, Origin, Position, Suppression};
use crate::scan::FileReport;

#[derive(Serialize)]
struct JsonFinding<'a> {
    path: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    rule: &'static str,
    name: &'static str,
    severity: &'static str,
    message: &'a str,
    host: &'a str,
    host_span: Span,
    origin: JsonOrigin,
    debugger: Option<JsonDebugger>,
    /// What started the server when it was not called directly
    /// (`Thread`, `submit`, `functools.partial`).
    #[serde(skip_serializing_if = "Option::is_none")]
    started_through: Option<&'a str>,
    /// With `--show-suppressed`: the comment that silences this finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<JsonSuppression<'a>>,
    /// Staged mode: what in the change brought the finding in, when it is
    /// not the call's own lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a str>,
    /// In a notebook: the cell, and the positions inside it (`line` and
    /// the others above count the lines of the code cells joined).
    #[serde(skip_serializing_if = "Option::is_none")]
    cell: Option<JsonCell>,
}

#[derive(Serialize)]
struct JsonCell {
    /// 0-based position in the notebook's `cells` list.
    index: usize,
    /// 1-based, as Jupyter shows it (every cell counted).
    number: usize,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    host_span: Span,
}

fn cell(f: &Finding) -> Option<JsonCell> {
    let at = f.cell(f.start.line)?;
    let line_in_cell = |p: Position| f.cell(p.line).map_or(p.line, |c| c.line);
    let span = |s: Position, e: Position| Span {
        line: line_in_cell(s),
        column: s.column,
        end_line: line_in_cell(e),
        end_column: e.column,
    };
    let whole = span(f.start, f.end);
    Some(JsonCell {
        index: at.index,
        number: at.number(),
        line: whole.line,
        column: whole.column,
        end_line: whole.end_line,
        end_column: whole.end_column,
        host_span: span(f.host_start, f.host_end),
    })
}

#[derive(Serialize)]
struct JsonSuppression<'a> {
    /// noqa (ours) | peer (ruff's or bandit's comment)
    kind: &'static str,
    comment: &'a str,
}

#[derive(Serialize)]
struct Span {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

impl Span {
    fn new(start: Position, end: Position) -> Self {
        Span { line: start.line, column: start.column, end_line: end.line, end_column: end.column }
    }
}

#[derive(Serialize)]
struct JsonOrigin {
    /// literal | constant | dict-key | env-default
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    env_var: Option<String>,
}

#[derive(Serialize)]
struct JsonDebugger {
    /// argument | app-config | environment
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    argument: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    line: usize,
}

fn origin(o: &Origin) -> JsonOrigin {
    let none = JsonOrigin { kind: "literal", name: None, path: None, line: None, env_var: None };
    match o {
        Origin::Literal => none,
        Origin::ServerDefault { server } => {
            JsonOrigin { kind: "server-default", name: Some(server.to_string()), ..none }
        }
        Origin::Constant { name, path, line } => JsonOrigin {
            kind: "constant",
            name: Some(name.clone()),
            path: Some(path.display().to_string()),
            line: Some(*line),
            ..none
        },
        Origin::Passed { name, path, line } => JsonOrigin {
            kind: "argument",
            name: Some(name.clone()),
            path: Some(path.display().to_string()),
            line: Some(*line),
            ..none
        },
        Origin::DictKey { key, path, line } => JsonOrigin {
            kind: "dict-key",
            name: Some(key.clone()),
            path: Some(path.display().to_string()),
            line: Some(*line),
            ..none
        },
        Origin::EnvDefault { var, constant } => JsonOrigin {
            kind: "env-default",
            env_var: var.clone(),
            name: constant.as_ref().map(|c| c.0.clone()),
            path: constant.as_ref().map(|c| c.1.display().to_string()),
            line: constant.as_ref().map(|c| c.2),
        },
        // The option, parameter or key, and where it is defined.
        Origin::Default { source, .. } => {
            let (kind, name, path, line) = match source {
                Source::Option { flag, path, line } => ("option-default", flag, path, line),
                Source::Param { name, path, line } => ("param-default", name, path, line),
                Source::Key { key, path, line } => ("key-default", key, path, line),
                Source::Env => return JsonOrigin { kind: "env-default", ..none },
            };
            JsonOrigin {
                kind,
                name: Some(name.clone()),
                path: Some(path.display().to_string()),
                line: Some(*line),
                ..none
            }
        }
    }
}

fn debugger(d: &DebugSource) -> JsonDebugger {
    match d {
        DebugSource::Argument { name, line, .. } => {
            JsonDebugger { kind: "argument", argument: Some(name.clone()), path: None, line: *line }
        }
        DebugSource::AppConfig { path, line } => {
            JsonDebugger { kind: "app-config", argument: None, path: Some(path.display().to_string()), line: *line }
        }
        DebugSource::Environment { path, line } => {
            JsonDebugger { kind: "environment", argument: None, path: Some(path.display().to_string()), line: *line }
        }
    }
}

fn to_json(f: &Finding) -> JsonFinding<'_> {
    JsonFinding {
        path: f.path.display().to_string(),
        line: f.start.line,
        column: f.start.column,
        end_line: f.end.line,
        end_column: f.end.column,
        rule: f.rule.code(),
        name: f.rule.name(),
        severity: f.severity.as_str(),
        message: &f.message,
        host: &f.host,
        host_span: Span::new(f.host_start, f.host_end),
        origin: origin(&f.origin),
        debugger: f.debugger.as_ref().map(debugger),
        started_through: f.via.as_deref(),
        suppressed: f.suppressed.as_ref().map(|s| JsonSuppression {
            kind: match s {
                Suppression::Own(_) => "noqa",
                Suppression::Peer(_) => "peer",
            },
            comment: s.marker(),
        }),
        cause: f.cause.as_deref(),
        cell: cell(f),
    }
}

/// The findings (and, with `show_suppressed`, the silenced ones too, each
/// marked), file by file in source order.
pub fn print(w: &mut dyn Write, reports: &[FileReport], show_suppressed: bool) -> io::Result<()> {
    let mut all = Vec::new();
    for r in reports {
        let mut findings: Vec<&Finding> = r.findings.iter().collect();
        if show_suppressed {
            findings.extend(&r.suppressed);
            findings.sort_by_key(|f| f.span.start);
        }
        all.extend(findings.into_iter().map(to_json));
    }
    serde_json::to_writer_pretty(&mut *w, &all).map_err(super::io_error)?;
    writeln!(w)
}
