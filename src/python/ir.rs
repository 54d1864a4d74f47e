//! An owned, simplified picture of a Python module: just what the detector
//! needs to follow names (scopes, bindings, imports, returns) and the calls
//! that may start a server. Everything else is `Expr::Other`.
//!
//! Owning the data (instead of holding tree-sitter nodes) lets parsed modules
//! be shared between threads and across files without lifetimes.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use crate::source::{LineIndex, SourceText};

pub type ScopeId = usize;

/// Byte range in the module's decoded text.
pub type Span = Range<usize>;

#[derive(Debug)]
pub struct Module {
    /// Path as it is printed (relative to where the scan started, or to the
    /// repository root).
    pub path: PathBuf,
    pub source: SourceText,
    pub lines: LineIndex,
    /// Scope 0 is the module itself.
    pub scopes: Vec<Scope>,
    /// Every call that may start a server (see [`RunCall`]).
    pub run_calls: Vec<RunCall>,
    /// Names bound to something that may start a server (`run = app.run`,
    /// `start = partial(app.run, ...)`, an alias of `run_simple`), in any
    /// scope, class bodies included.
    pub starters: Vec<String>,
    /// Suppression comments (`# noqa`, `# nosec`), by 1-based line.
    pub suppressions: Vec<(usize, Directives)>,
    /// tree-sitter had to recover from a syntax error somewhere.
    pub has_syntax_error: bool,
}

impl Module {
    pub fn text(&self) -> &str {
        &self.source.text
    }

    pub fn line_of(&self, offset: usize) -> usize {
        self.lines.line(offset)
    }

    /// Every statement with the scope it runs in, in file order (the
    /// statements inside compound statements included).
    pub fn statements(&self) -> Vec<(ScopeId, &Stmt)> {
        fn walk<'m>(stmts: &'m [Stmt], scope: ScopeId, out: &mut Vec<(ScopeId, &'m Stmt)>) {
            for st in stmts {
                out.push((scope, st));
                if let Stmt::Block { branches, .. } = st {
                    for (_, body) in branches {
                        walk(body, scope, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (id, s) in self.scopes.iter().enumerate() {
            walk(&s.body, id, &mut out);
        }
        out.sort_by_key(|(_, st)| st.span().start);
        out
    }

    /// Every call in the module's statements (nested ones included), with
    /// the scope it runs in.
    pub fn calls(&self) -> Vec<(ScopeId, &Call)> {
        fn expr<'m>(e: &'m Expr, scope: ScopeId, out: &mut Vec<(ScopeId, &'m Call)>, depth: usize) {
            if depth > 64 {
                return;
            }
            let d = depth + 1;
            match e {
                Expr::Call(c) => {
                    out.push((scope, c));
                    expr(&c.func, scope, out, d);
                    for a in &c.args {
                        match a {
                            Arg::Pos(e) | Arg::Kw(_, e) | Arg::Star(e) | Arg::DoubleStar(e) => expr(e, scope, out, d),
                        }
                    }
                }
                Expr::Attr(b, _, _) | Expr::Starred(b, _) => expr(b, scope, out, d),
                Expr::Subscript(a, b, _) | Expr::BoolOp { left: a, right: b, .. } => {
                    expr(a, scope, out, d);
                    expr(b, scope, out, d);
                }
                Expr::IfExp { test, body, orelse, .. } => {
                    expr(test, scope, out, d);
                    expr(body, scope, out, d);
                    expr(orelse, scope, out, d);
                }
                Expr::Tuple(items, _) => items.iter().for_each(|i| expr(i, scope, out, d)),
                Expr::Dict(items, _) => {
                    for i in items {
                        match i {
                            DictItem::Pair(k, v) => {
                                expr(k, scope, out, d);
                                expr(v, scope, out, d);
                            }
                            DictItem::Splat(v) => expr(v, scope, out, d),
                        }
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for (scope, st) in self.statements() {
            match st {
                Stmt::Assign { value: Some(e), .. }
                | Stmt::Call { call: e, .. }
                | Stmt::Return { value: Some(e), .. } => expr(e, scope, &mut out, 0),
                _ => {}
            }
        }
        out
    }

    /// The suppression comment on a line, if any.
    pub fn directives_on(&self, line: usize) -> Option<&Directives> {
        self.suppressions.binary_search_by_key(&line, |(l, _)| *l).ok().map(|i| &self.suppressions[i].1)
    }
}

pub use super::comments::{CodeList, Directives};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Module,
    Class,
    Function,
}

#[derive(Debug)]
pub struct Scope {
    pub kind: ScopeKind,
    pub name: String,
    pub parent: Option<ScopeId>,
    /// The whole definition (or the whole module).
    pub span: Span,
    /// Where the body starts: names used before it (decorators, defaults,
    /// bases) belong to the parent scope.
    pub body_start: usize,
    pub body: Vec<Stmt>,
    /// Function parameters, in order.
    pub params: Vec<Param>,
    /// Class bases (positional superclasses).
    pub bases: Vec<Expr>,
    /// Decorator names (`staticmethod`, `classmethod`, ...), as written.
    pub decorators: Vec<String>,
    /// The same decorators as expressions (`click.option("--host", ...)`).
    pub decorator_exprs: Vec<Expr>,
    /// Class bodies: the annotated names (`host: str = "..."`, `port: int`)
    /// in order, the fields of a dataclass or a pydantic model.
    pub fields: Vec<String>,
    /// Names declared `global` in this function.
    pub globals: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub annotation: Option<Expr>,
    /// The default value (`host="0.0.0.0"`).
    pub default: Option<Expr>,
    /// `*args` / `**kwargs`.
    pub splat: bool,
    /// After `*` or `*args`: passed by keyword only.
    pub keyword_only: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Stmt {
    /// `targets = value` (also annotated, chained, walrus-free). `value` is
    /// `None` when the bound value is unknowable (for-loop targets, `with
    /// ... as x`, `except ... as e`, augmented assignment, tuple unpacking).
    Assign {
        targets: Vec<Target>,
        value: Option<Expr>,
        annotation: Option<Expr>,
        span: Span,
    },
    Import {
        bindings: Vec<(String, ImportRef)>,
        span: Span,
    },
    StarImport {
        level: u32,
        module: String,
        span: Span,
    },
    /// `def` / `class`; the scope holds the rest.
    Def {
        name: String,
        scope: ScopeId,
        span: Span,
    },
    /// A compound statement whose branches may or may not run.
    Block {
        branches: Vec<(Span, Vec<Stmt>)>,
        /// `with` runs its body: bindings in it are as good as outside it.
        always_runs: bool,
        /// One of the branches always runs (`if` with `else`, `try` with
        /// `except`, `match` with `case _`).
        exhaustive: bool,
        /// Exactly one branch runs, from its start (`if`, `match`): unlike a
        /// `try` body or a loop, a branch is left only at its end.
        choice: bool,
        span: Span,
    },
    /// `raise`: nothing after it in the block runs.
    Raise {
        span: Span,
    },
    Return {
        value: Option<Expr>,
        span: Span,
    },
    /// An expression statement that is a call (`app.config.update(...)`).
    Call {
        call: Expr,
        span: Span,
    },
}

impl Stmt {
    /// Does a block ending with this statement never fall through
    /// (`return`, `raise`, `sys.exit(...)`)?
    pub fn ends_flow(&self) -> bool {
        match self {
            Stmt::Return { .. } | Stmt::Raise { .. } => true,
            Stmt::Call { call: Expr::Call(c), .. } => {
                matches!(c.func.dotted().as_deref(), Some("sys.exit" | "exit" | "quit" | "os._exit"))
            }
            _ => false,
        }
    }

    pub fn span(&self) -> &Span {
        match self {
            Stmt::Assign { span, .. }
            | Stmt::Import { span, .. }
            | Stmt::StarImport { span, .. }
            | Stmt::Def { span, .. }
            | Stmt::Block { span, .. }
            | Stmt::Return { span, .. }
            | Stmt::Raise { span }
            | Stmt::Call { span, .. } => span,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Target {
    Name(String),
    Attr(Expr, String),
    Subscript(Expr, Expr),
    /// `a, (b, c) = ...` / `[a, b] = ...`.
    Tuple(Vec<Target>),
    /// `*rest` inside a tuple target.
    Starred(Box<Target>),
}

impl Target {
    /// Does assigning to this target bind `name`? An attribute path
    /// `var.attr` is bound by `var.attr = ...`.
    pub fn binds(&self, name: &str) -> bool {
        match self {
            Target::Name(n) => n == name,
            Target::Tuple(items) => items.iter().any(|t| t.binds(name)),
            Target::Starred(t) => t.binds(name),
            Target::Attr(Expr::Name(var, _), attr) => name.split_once('.').is_some_and(|(v, a)| v == var && a == attr),
            Target::Attr(..) | Target::Subscript(..) => false,
        }
    }
}

/// What an import statement binds a name to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRef {
    /// Leading dots of a relative import.
    pub level: u32,
    /// The dotted module (may be empty for `from . import x`).
    pub module: String,
    /// `from module import name`: the name; `import module`: `None`.
    pub name: Option<String>,
    /// For `import a.b.c` (bound as `a`): the submodules it also loads, "b.c".
    pub submodules: String,
}

#[derive(Debug, Clone)]
pub enum Expr {
    Name(String, Span),
    Attr(Box<Expr>, String, Span),
    Call(Box<Call>),
    /// A string literal (or implicit concatenation). `value` is `None` for
    /// bytes and for f-strings with interpolation.
    Str(Option<String>, Span),
    Dict(Vec<DictItem>, Span),
    /// `left or right` (`or_ == true`) / `left and right`.
    BoolOp {
        or_: bool,
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    /// `body if test else orelse`.
    IfExp {
        test: Box<Expr>,
        body: Box<Expr>,
        orelse: Box<Expr>,
        span: Span,
    },
    /// `left == right` and the other tests of equality and membership (one
    /// operator; a chain is [`Expr::Other`]).
    Compare {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    /// `not e`.
    Not(Box<Expr>, Span),
    Bool(bool, Span),
    None(Span),
    Int(i128, Span),
    Subscript(Box<Expr>, Box<Expr>, Span),
    /// A tuple or list display (`a, b`, `(a, b)`, `[a, b]`).
    Tuple(Vec<Expr>, Span),
    /// `*x` inside a tuple or list display.
    Starred(Box<Expr>, Span),
    Other(Span),
}

/// The comparison operators whose result the evaluator can know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    NotEq,
    In,
    NotIn,
    Is,
    IsNot,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub func: Expr,
    pub args: Vec<Arg>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Arg {
    Pos(Expr),
    Kw(String, Expr),
    Star(Expr),
    DoubleStar(Expr),
}

#[derive(Debug, Clone)]
pub enum DictItem {
    Pair(Expr, Expr),
    Splat(Expr),
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Name(_, s)
            | Expr::Attr(_, _, s)
            | Expr::Str(_, s)
            | Expr::Dict(_, s)
            | Expr::BoolOp { span: s, .. }
            | Expr::IfExp { span: s, .. }
            | Expr::Compare { span: s, .. }
            | Expr::Not(_, s)
            | Expr::Bool(_, s)
            | Expr::None(s)
            | Expr::Int(_, s)
            | Expr::Subscript(_, _, s)
            | Expr::Tuple(_, s)
            | Expr::Starred(_, s)
            | Expr::Other(s) => s.clone(),
            Expr::Call(c) => c.span.clone(),
        }
    }

    /// `a.b.c` as a string, for plain name/attribute chains.
    pub fn dotted(&self) -> Option<String> {
        match self {
            Expr::Name(n, _) => Some(n.clone()),
            Expr::Attr(v, a, _) => v.dotted().map(|d| format!("{d}.{a}")),
            _ => None,
        }
    }
}

impl Call {
    pub fn keyword(&self, name: &str) -> Option<&Expr> {
        self.args.iter().find_map(|a| match a {
            Arg::Kw(k, v) if k == name => Some(v),
            _ => None,
        })
    }

    /// The n-th positional argument, when no `*args` comes before it.
    pub fn positional(&self, n: usize) -> Option<&Expr> {
        let mut i = 0;
        for a in &self.args {
            match a {
                Arg::Pos(e) => {
                    if i == n {
                        return Some(e);
                    }
                    i += 1;
                }
                Arg::Star(_) => return None,
                _ => {}
            }
        }
        None
    }

    /// The positional string literals (`add_argument("-p", "--port")`).
    pub fn string_args(&self) -> Vec<&str> {
        self.args
            .iter()
            .filter_map(|a| match a {
                Arg::Pos(Expr::Str(Some(s), _)) => Some(s.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn double_stars(&self) -> impl Iterator<Item = &Expr> {
        self.args.iter().filter_map(|a| match a {
            Arg::DoubleStar(e) => Some(e),
            _ => None,
        })
    }
}

/// A call that may start a server, with the scope it sits in: one whose
/// callee is `<x>.run` / `.run_server` / `run_simple` (or a name bound to
/// such a thing), or one that passes such a callable on (`Thread(target=
/// app.run, ...)`). The evaluator decides whether it really does.
#[derive(Debug, Clone)]
pub struct RunCall {
    pub call: Call,
    pub scope: ScopeId,
}

/// Shared handle to a parsed module.
pub type ModuleRef = Arc<Module>;
