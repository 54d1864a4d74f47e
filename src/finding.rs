//! What the detector reports. Printers read these; nothing here prints.

use std::path::{Path, PathBuf};

use crate::analysis::value::{Loc, Source};
use crate::python::Span;
use crate::rules::{Rule, Severity};

/// 1-based line and column (columns count Unicode scalar values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// How the host value reached the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Written at the call.
    Literal,
    /// A constant (`HOST`, `Config.HOST`), in this file or another.
    Constant { name: String, path: PathBuf, line: usize },
    /// A key of a dict (passed with `**`, or read as `CONFIG["host"]`).
    DictKey { key: String, path: PathBuf, line: usize },
    /// Passed for parameter `name` by a call of the function.
    Passed { name: String, path: PathBuf, line: usize },
    /// The default of an environment lookup; `constant` is the name the
    /// lookup was stored in, if any.
    EnvDefault { var: Option<String>, constant: Option<(String, PathBuf, usize)> },
    /// The default of a command-line option, a parameter or a mapping key.
    Default { source: Source, constant: Option<(String, PathBuf, usize)> },
    /// No host passed, and the server's own default binds every interface
    /// (Connexion 1/2's `App.run`); `server` names it.
    ServerDefault { server: &'static str },
}

/// What turns the interactive debugger on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DebugSource {
    /// `debug=True` / `use_debugger=True` at the call; `default` names what
    /// the value is the default of when it is one (`option --debug`,
    /// `$FLASK_DEBUG`, `parameter debug`).
    Argument { name: String, line: usize, default: Option<String> },
    /// `app.debug = True`, `app.config["DEBUG"] = True`, ...
    AppConfig { path: PathBuf, line: usize },
    /// `os.environ["FLASK_DEBUG"] = "1"` before `app.run` (which reads it).
    Environment { path: PathBuf, line: usize },
}

/// The comment that silences a finding, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suppression {
    /// `# noqa` / `# noqa: FBG00N`.
    Own(String),
    /// A peer tool's comment for the same exposure (`# noqa: S104`,
    /// `# nosec B104`).
    Peer(String),
}

impl Suppression {
    pub fn marker(&self) -> &str {
        match self {
            Suppression::Own(m) | Suppression::Peer(m) => m,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: Rule,
    /// The rule's severity, or the one the configuration gives it.
    pub severity: Severity,
    pub path: PathBuf,
    /// The whole call, as byte offsets into the decoded text.
    pub span: Span,
    pub start: Position,
    pub end: Position,
    /// The host argument at the call (`"0.0.0.0"`, `HOST`, `**opts`).
    pub host_span: Span,
    pub host_start: Position,
    pub host_end: Position,
    /// The host value that binds every interface.
    pub host: String,
    pub origin: Origin,
    pub debugger: Option<DebugSource>,
    /// Where the string literal holding the host is (for fixes).
    pub literal: Option<Loc>,
    /// The callee is the server on some paths only (`server = app.run if
    /// dev else serve`): the call's host also goes to the other server, so
    /// it is not rewritten by `--fix`.
    pub shared_call: bool,
    /// What is started ("Flask development server", ...).
    pub server: &'static str,
    /// What started it, when it was not called directly
    /// (`Thread`, `submit`, `functools.partial`).
    pub via: Option<String>,
    /// The comment that silences it; reported findings have none.
    pub suppressed: Option<Suppression>,
    pub message: String,
    /// Staged mode: which part of the change brought the finding in, when
    /// it is not the call's own lines ("host now \"0.0.0.0\": config.py:1
    /// changed in this commit").
    pub cause: Option<String>,
    /// In a notebook: its cells, to name the cell and line in it of a
    /// line of the joined code (see [`crate::notebook`]).
    pub notebook: Option<std::sync::Arc<crate::notebook::Cells>>,
}

fn place(path: &Path, line: usize, here: &Path, cells: Option<&crate::notebook::Cells>) -> String {
    if path != here {
        return format!("{}:{line}", path.display());
    }
    match cells.and_then(|c| c.locate(line)) {
        Some(at) => format!("cell {}, line {}", at.number(), at.line),
        None => format!("line {line}"),
    }
}

impl Finding {
    /// Where line `line` of file `path` is, as a note names it: `line N`
    /// (`cell N, line M` in this finding's notebook), or `path:N` for
    /// another file.
    pub fn place_of(&self, path: &Path, line: usize) -> String {
        place(path, line, &self.path, self.notebook.as_deref())
    }

    /// The cell and line in it of a line of this finding's file, when it
    /// is a notebook.
    pub fn cell(&self, line: usize) -> Option<crate::notebook::CellLine> {
        self.notebook.as_ref()?.locate(line)
    }

    /// `path:line:column`, or `path:cell N:line:column` in a notebook.
    pub fn location(&self, at: Position) -> String {
        match self.cell(at.line) {
            Some(c) => format!("{}:cell {}:{}:{}", self.path.display(), c.number(), c.line, at.column),
            None => format!("{}:{}:{}", self.path.display(), at.line, at.column),
        }
    }

    /// The message, with what brought the finding in when that is known.
    pub fn message_with_cause(&self) -> String {
        match &self.cause {
            Some(cause) => format!("{} (brought in: {cause})", self.message),
            None => self.message.clone(),
        }
    }

    /// The one-line message: what, which host, and how it got there.
    pub fn describe(&self) -> String {
        let cells = self.notebook.as_deref();
        let server = self.server;
        let what = match self.rule {
            Rule::AllInterfaces => format!("{server} binds every network interface"),
            Rule::DebuggerAllInterfaces => {
                format!("{server} with the interactive debugger binds every network interface")
            }
        };
        let how = match &self.origin {
            Origin::Literal => format!("host \"{}\"", self.host),
            Origin::ServerDefault { server } => {
                format!("no host passed, and {server} binds \"{}\" by default", self.host)
            }
            Origin::Constant { name, path, line } => {
                format!("host `{name}` = \"{}\" (set at {})", self.host, place(path, *line, &self.path, cells))
            }
            Origin::DictKey { key, path, line } => {
                format!(
                    "host \"{}\" from dict key \"{key}\" (set at {})",
                    self.host,
                    place(path, *line, &self.path, cells)
                )
            }
            Origin::Passed { name, path, line } => {
                format!(
                    "host `{name}` = \"{}\" (passed by the call at {})",
                    self.host,
                    place(path, *line, &self.path, cells)
                )
            }
            Origin::EnvDefault { var, constant } => {
                let var = var.as_deref().unwrap_or("<variable>");
                let through = constant
                    .as_ref()
                    .map(|(n, p, l)| format!(" via `{n}` ({})", place(p, *l, &self.path, cells)))
                    .unwrap_or_default();
                format!(
                    "host from ${var}{through} defaults to \"{}\": binds every interface when {var} is unset",
                    self.host
                )
            }
            Origin::Default { source, constant } => {
                let through = constant
                    .as_ref()
                    .map(|(n, p, l)| format!(" via `{n}` ({})", place(p, *l, &self.path, cells)))
                    .unwrap_or_default();
                let host = &self.host;
                match source {
                    Source::Option { flag, path, line } => format!(
                        "host from option `{flag}`{through} defaults to \"{host}\" ({}): binds every interface unless {flag} is given",
                        place(path, *line, &self.path, cells)
                    ),
                    Source::Param { name, path, line } => format!(
                        "host from parameter `{name}`{through} defaults to \"{host}\" ({}): binds every interface when no {name} is passed",
                        place(path, *line, &self.path, cells)
                    ),
                    Source::Key { key, path, line } => format!(
                        "host from key \"{key}\"{through} defaults to \"{host}\" ({}): binds every interface when the key is absent",
                        place(path, *line, &self.path, cells)
                    ),
                    Source::Env => format!("host{through} defaults to \"{host}\""),
                }
            }
        };
        let debug = match &self.debugger {
            None => String::new(),
            Some(DebugSource::Argument { name, default: None, .. }) => format!("; {name}=True"),
            Some(DebugSource::Argument { name, default: Some(of), .. }) => {
                format!("; {name} is on by default ({of})")
            }
            Some(DebugSource::AppConfig { path, line }) => {
                format!("; debug mode set at {}", place(path, *line, &self.path, cells))
            }
            Some(DebugSource::Environment { path, line }) => {
                format!("; debug mode set through FLASK_DEBUG at {}", place(path, *line, &self.path, cells))
            }
        };
        let via = self.via.as_ref().map(|v| format!(" (started through `{v}`)")).unwrap_or_default();
        format!("{what}: {how}{debug}{via}")
    }
}
