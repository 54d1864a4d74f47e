//! The abstract values the evaluator computes for expressions.

pub use crate::hosts::{binds_all_interfaces, canonical_host, loopback_for};
use std::path::PathBuf;
use std::sync::Arc;

use crate::python::{Arg, DictItem, ModuleRef, ScopeId, Span};

/// Where an expression is evaluated: the module, the scope, and the offset
/// whose view of the names counts.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub module: ModuleRef,
    pub scope: ScopeId,
    pub pos: usize,
}

/// The call that created an instance, and where it was made.
#[derive(Debug)]
pub struct Created {
    pub cx: Ctx,
    pub call: crate::python::Call,
}

/// Which development-server entry point a callable is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// `Flask.run(host, port, debug, load_dotenv, **options)`.
    FlaskRun,
    /// `Dash.run(host, port, proxy, debug, ...)` (`run_server`: old name).
    DashRun,
    /// `SocketIO.run(app, host, port, **kwargs)`.
    SocketIORun,
    /// `werkzeug.serving.run_simple(hostname, port, application,
    /// use_reloader, use_debugger, ...)`.
    RunSimple,
    /// Flask-Script's `Server(host, port, use_debugger, use_reloader, ...)`:
    /// the `runserver` command, which calls `app.run` with them.
    ScriptServer,
    /// Connexion 1/2's `App.run(port, server, debug, host, **options)`:
    /// with the default `server="flask"` it calls the wrapped Flask app's
    /// `run`. (Connexion 3 serves with uvicorn: not this.)
    ConnexionRun,
}

/// A callable that starts the development server, with the arguments a
/// `functools.partial` already bound (each with where it was written).
#[derive(Debug, Clone)]
pub struct ServerValue {
    pub kind: ServerKind,
    /// The application whose `run` this is (Flask / Dash).
    pub app: Option<Origin>,
    pub bound: Vec<(Ctx, Arg)>,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKind {
    Flask,
    Dash,
    /// `connexion.App` / `connexion.FlaskApp`: a Flask app in `.app`.
    Connexion,
}

/// Where an application object was created: the `Flask(...)` call (or the
/// annotated parameter). Two names with the same origin are the same app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub path: PathBuf,
    pub offset: usize,
}

/// Where a string literal sits, for messages and for the fixer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub path: PathBuf,
    pub span: Span,
}

/// One hop on the way from the call to the literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A name bound by an assignment (`HOST = ...`), possibly in another
    /// module, possibly a class attribute (`Config.HOST`).
    Constant { name: String, path: PathBuf, line: usize },
    /// A key of a dict passed with `**`.
    DictKey { key: String, path: PathBuf, line: usize },
    /// An argument a call of the function passes for parameter `name`.
    Passed { name: String, path: PathBuf, line: usize },
}

#[derive(Debug, Clone)]
pub struct StrValue {
    pub value: String,
    pub literal: Loc,
    /// Outermost hop first.
    pub via: Vec<Step>,
}

/// Who may override a value that has a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The environment (`os.environ.get(var, default)`).
    Env,
    /// A command-line option (`--host`) of argparse, click or typer, defined
    /// at `path:line`.
    Option { flag: String, path: PathBuf, line: usize },
    /// A function parameter (defined at `path:line`) a caller may pass.
    Param { name: String, path: PathBuf, line: usize },
    /// A key a mapping may lack (`config.get("HOST", default)` at `path:line`).
    Key { key: String, path: PathBuf, line: usize },
}

/// A value with a default that applies unless someone overrides it:
/// `os.environ.get(var, default)`, an option's or a parameter's default,
/// `mapping.get(key, default)`.
#[derive(Debug, Clone)]
pub struct EnvValue {
    /// The environment variable, for [`Source::Env`].
    pub var: Option<String>,
    pub default: Option<Value>,
    pub via: Vec<Step>,
    pub source: Source,
}

/// A dict display (or `dict(...)` call), evaluated lazily where it stands.
#[derive(Debug, Clone)]
pub struct DictValue {
    pub module: ModuleRef,
    pub scope: ScopeId,
    pub pos: usize,
    pub items: Arc<Vec<DictItem>>,
    /// Keyword arguments of `dict(...)`, as (key, value) pairs.
    pub line: usize,
}

#[derive(Debug, Clone)]
pub enum Value {
    /// Anything we cannot show.
    Unknown,
    /// A name a star import does not provide: ignored when joining.
    Absent,
    /// A member of a module outside the repository, by dotted path
    /// (`flask.Flask`, `os.environ.get`, `builtins.dict`).
    External(String),
    /// A module of the repository; `submodules` are those an `import a.b.c`
    /// statement also loaded ("b.c").
    Module {
        module: ModuleRef,
        submodules: String,
    },
    /// A package of the repository without `__init__.py` (a namespace
    /// package), by dotted name, as `importer` sees it; `submodules` as
    /// for `Module`.
    Namespace {
        dotted: String,
        importer: PathBuf,
        submodules: String,
    },
    Class(ModuleRef, ScopeId),
    Function(ModuleRef, ScopeId),
    /// An instance of a class of the project, with the call that created it
    /// when it is known (its arguments fill the fields).
    Instance(ModuleRef, ScopeId, Option<Arc<Created>>),
    App(AppKind, Origin),
    SocketIO,
    /// A callable that starts the server (`app.run`, `run_simple`, a
    /// partial of either).
    Server(Box<ServerValue>),
    /// `super()` inside a method of this class.
    Super(ModuleRef, ScopeId),
    /// A tuple or list whose items are known one by one.
    Tuple(Vec<Value>),
    /// One of these, depending on the path taken (branches that assign a
    /// host differently). A host binds every interface if any of them does.
    Choice(Vec<Value>),
    /// This value on some paths and `None` on the others (`app = None`
    /// then `app = Flask(...)` in a function, or an import fallback). An
    /// attribute or a call only goes on where it is not `None`.
    Optional(Box<Value>),
    Str(Box<StrValue>),
    Env(Box<EnvValue>),
    Dict(Box<DictValue>),
    /// `app.config` of the application created at this origin.
    Config(Origin),
    /// An `argparse.ArgumentParser` (by where it was created).
    Parser(Origin),
    /// What its `parse_args()` returns.
    Parsed(Origin),
    Bool(bool),
    Int(i128),
    None,
}

impl Value {
    /// Python truthiness, when it is known.
    pub fn truthy(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Int(i) => Some(*i != 0),
            Value::Str(s) => Some(!s.value.is_empty()),
            Value::None => Some(false),
            // A default holds unless the variable, option, parameter or key
            // is given (Flask applies `bool()` to `debug`: `"0"` is true).
            Value::Env(e) => e.default.as_ref().and_then(Value::truthy),
            Value::Choice(items) => {
                let first = items.first()?.truthy()?;
                items.iter().all(|v| v.truthy() == Some(first)).then_some(first)
            }
            _ => None,
        }
    }

    /// What an attribute access or a call goes on with: `None` has no
    /// attributes, so only the paths where the value is set matter.
    pub fn present(self) -> Value {
        match self {
            Value::Optional(v) => *v,
            v => v,
        }
    }

    /// Record that this value was reached through `step`.
    pub fn via(mut self, step: Step) -> Value {
        match &mut self {
            Value::Str(s) => s.via.insert(0, step),
            Value::Env(e) => e.via.insert(0, step),
            _ => {}
        }
        self
    }

    /// Values that agree closely enough that a join keeps them.
    fn agrees_with(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::App(a, _), Value::App(b, _)) => a == b,
            (Value::SocketIO, Value::SocketIO) | (Value::None, Value::None) => true,
            (Value::Str(a), Value::Str(b)) => {
                a.value == b.value || (binds_all_interfaces(&a.value) && binds_all_interfaces(&b.value))
            }
            (Value::Parser(a), Value::Parser(b))
            | (Value::Parsed(a), Value::Parsed(b))
            | (Value::Config(a), Value::Config(b)) => a == b,
            (Value::Env(a), Value::Env(b)) => {
                a.var == b.var
                    && a.source == b.source
                    && match (&a.default, &b.default) {
                        (Some(x), Some(y)) => x.agrees_with(y),
                        (None, None) => true,
                        _ => false,
                    }
            }
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::External(a), Value::External(b)) => a == b,
            (Value::Class(m, a), Value::Class(n, b)) | (Value::Function(m, a), Value::Function(n, b)) => {
                Arc::ptr_eq(m, n) && a == b
            }
            // Two instances are the same only if made by the same call.
            (Value::Instance(m, a, x), Value::Instance(n, b, y)) => {
                Arc::ptr_eq(m, n)
                    && a == b
                    && match (x, y) {
                        (Some(x), Some(y)) => Arc::ptr_eq(x, y),
                        (None, None) => true,
                        _ => false,
                    }
            }
            (Value::Module { module: m, .. }, Value::Module { module: n, .. }) => Arc::ptr_eq(m, n),
            (Value::Tuple(a), Value::Tuple(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.agrees_with(y)),
            (Value::Server(a), Value::Server(b)) => a.kind == b.kind && a.bound.is_empty() && b.bound.is_empty(),
            (Value::Super(m, a), Value::Super(n, b)) => Arc::ptr_eq(m, n) && a == b,
            _ => false,
        }
    }
}

/// The value of a name that several assignments may have set: kept only
/// when every candidate agrees ("where that cannot be told, do not flag").
/// `None` among agreeing values makes the result [`Value::Optional`].
pub fn join(values: Vec<Value>) -> Value {
    let mut maybe_none = false;
    let mut kept = Vec::with_capacity(values.len());
    for v in values {
        match v {
            Value::Absent => {}
            Value::None => maybe_none = true,
            Value::Optional(inner) => {
                maybe_none = true;
                kept.push(*inner);
            }
            v => kept.push(v),
        }
    }
    let Some(first) = kept.first() else {
        return if maybe_none { Value::None } else { Value::Unknown };
    };
    if kept.iter().skip(1).any(|v| !v.agrees_with(first)) {
        return choice(kept, maybe_none);
    }
    match kept.pop() {
        Some(Value::Unknown) | None => Value::Unknown,
        Some(last) if maybe_none => Value::Optional(Box::new(last)),
        Some(last) => last,
    }
}

/// Most choices a value keeps before it is simply unknown.
const MAX_CHOICES: usize = 16;

/// Values that disagree: for plain data (strings, numbers, environment
/// lookups) each path's value is kept, so that a host bound on any path
/// that reaches a call is seen; anything else is unknown.
fn choice(kept: Vec<Value>, maybe_none: bool) -> Value {
    // Callables picked by a branch (`app.run if dev else serve`): the server
    // is kept, the others are simply unknown.
    let picks_server = kept.iter().any(|v| matches!(v, Value::Server(_)));
    let mut items = Vec::new();
    for v in kept {
        match v {
            Value::Choice(inner) => items.extend(inner),
            // Data, and the objects that hold it (`config = Dev() if x else
            // Prod()`: `config.HOST` is read from each).
            v @ (Value::Str(_)
            | Value::Env(_)
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Unknown
            | Value::Instance(..)
            | Value::Class(..)
            | Value::Module { .. }
            | Value::Dict(_)
            | Value::Tuple(_)
            // A callable chosen by a branch: the server on one path.
            | Value::Server(_)) => items.push(v),
            _ if picks_server => items.push(Value::Unknown),
            _ => return Value::Unknown,
        }
    }
    if maybe_none {
        items.push(Value::None);
    }
    if items.len() > MAX_CHOICES || items.iter().all(|v| matches!(v, Value::Unknown | Value::None)) {
        return Value::Unknown;
    }
    Value::Choice(items)
}
