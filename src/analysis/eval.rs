//! A small abstract interpreter: what does this expression evaluate to, as
//! far as can be shown from the repository's own source?
//!
//! Names are followed through the scopes Python would use, taking the
//! assignment that reaches the reference (the last one that always runs
//! before it, plus any conditional ones after that); imports of the same
//! repository are followed into their modules. Anything else is
//! [`Value::Unknown`], which never produces a finding.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use rustc_hash::FxHashMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::value::*;
use crate::project::{Project, is_external};
use crate::python::*;

/// Total work allowed for one question (deep import chains, big joins).
const FUEL: u32 = 20_000;
const MAX_DEPTH: u32 = 48;

/// "The end of the scope": the position a function body sees the names of
/// its enclosing scopes at, since it runs after they are set up.
pub const END: usize = usize::MAX;

pub use super::value::Ctx;

pub struct Evaluator<'p> {
    project: &'p Project,
    fuel: Cell<u32>,
    /// Names being looked up right now: a cycle yields `Unknown`.
    active: RefCell<HashSet<(usize, ScopeId, String, usize)>>,
    /// Import statements being followed (module, offset): a module that a
    /// circular import reaches again is seen as Python sees it then,
    /// initialised up to that statement.
    importing: RefCell<Vec<(usize, usize)>>,
    /// The module being checked: its calls of another module's functions
    /// count as call sites too (`app = create_app(debug=True)`).
    root: Option<ModuleRef>,
    /// `module.name` as already worked out (module, name, position): star
    /// imports that import each other would otherwise be walked again and
    /// again.
    module_attrs: RefCell<FxHashMap<(usize, String, usize), Value>>,
    /// Parameter values (module, function, index) as already worked out.
    params: RefCell<FxHashMap<(usize, ScopeId, usize), Value>>,
    /// Calls being evaluated into (`env("HOST", "0.0.0.0")` returning
    /// `os.environ.get(key, default)`): their arguments are the parameters'
    /// values, this call's and not every caller's.
    frames: RefCell<Vec<Frame>>,
}

/// A write of an environment variable (see [`Evaluator::environ_writes`]).
pub struct EnvWrite {
    pub value: Value,
    pub line: usize,
    /// It always runs before the use (not in a branch, not a `setdefault`).
    pub certain: bool,
}

/// One call of a project function being evaluated: the argument (with the
/// caller's context) each parameter receives, `None` where it takes its
/// default.
struct Frame {
    module: usize,
    scope: ScopeId,
    args: Vec<Option<(Ctx, Expr)>>,
}

/// Calls evaluated into, nested, before the rest are taken as unknown.
const MAX_FRAMES: usize = 8;

enum BindingKind<'m> {
    Assign(&'m Stmt),
    Import(&'m ImportRef),
    Star { level: u32, module: &'m str },
    Def(ScopeId),
}

struct Binding<'m> {
    kind: BindingKind<'m>,
    span: Span,
    chain: Vec<(usize, usize)>,
    /// The branch holding it ends in `return`/`raise`/`sys.exit()`: it
    /// reaches nothing outside that branch.
    ends_in: Option<Span>,
    /// Inside a block (by its start) every branch of which binds the name,
    /// one of them surely: the block as a whole replaces earlier bindings.
    covers: Option<usize>,
}

impl Binding<'_> {
    /// Can this binding be what `pos` sees (it ran before, and its branch
    /// does not end first)?
    fn reaches(&self, pos: usize) -> bool {
        // A closure defined in the branch sees it too (read "at the end").
        self.span.end <= pos && (pos == END || self.ends_in.as_ref().is_none_or(|b| b.contains(&pos)))
    }
}

impl<'p> Evaluator<'p> {
    pub fn new(project: &'p Project) -> Self {
        Evaluator {
            project,
            fuel: Cell::new(FUEL),
            active: RefCell::new(HashSet::new()),
            importing: RefCell::new(Vec::new()),
            root: None,
            module_attrs: RefCell::new(FxHashMap::default()),
            params: RefCell::new(FxHashMap::default()),
            frames: RefCell::new(Vec::new()),
        }
    }

    /// The module at `path`: the one being checked when it is that file
    /// (it may be a fixed copy, not what the project has on disk).
    fn module_at(&self, path: &std::path::Path) -> Option<ModuleRef> {
        match &self.root {
            Some(root) if root.path == path => Some(root.clone()),
            _ => self.project.load(path).ok(),
        }
    }

    /// The module being checked (see `root`).
    pub fn with_root(mut self, module: ModuleRef) -> Self {
        self.root = Some(module);
        self
    }

    pub fn project(&self) -> &'p Project {
        self.project
    }

    /// An application class, built in or named by `extend-app-factories`.
    fn app_class(&self, path: &str) -> Option<AppKind> {
        app_class(path)
            .or_else(|| self.project.analysis().app_factories.iter().any(|f| f == path).then_some(AppKind::Flask))
    }

    /// Third-party objects with a meaning here: an application `extend-apps`
    /// names, and Werkzeug's `run_simple`.
    fn known_external(&self, cx: &Ctx, span: &Span, v: Value) -> Value {
        match v {
            Value::External(p) if self.project.analysis().apps.contains(&p) => {
                Value::App(AppKind::Flask, Origin { path: cx.module.path.clone(), offset: span.start })
            }
            Value::External(p) if run_simple_path(&p) => server(ServerKind::RunSimple, None),
            Value::External(p) if script_server_path(&p) => server(ServerKind::ScriptServer, None),
            v => v,
        }
    }

    /// Start a fresh question with a full tank.
    pub fn refuel(&self) {
        self.fuel.set(FUEL);
    }

    fn burn(&self) -> bool {
        let f = self.fuel.get();
        if f == 0 {
            return false;
        }
        self.fuel.set(f - 1);
        true
    }

    pub fn eval(&self, cx: &Ctx, e: &Expr, depth: u32) -> Value {
        if depth > MAX_DEPTH || !self.burn() {
            return Value::Unknown;
        }
        let d = depth + 1;
        match e {
            Expr::Name(n, span) => self.known_external(cx, span, self.lookup(&cx.module, cx.scope, cx.pos, n, d)),
            Expr::Attr(base, attr, span) => {
                let plain = || {
                    let base = self.eval(cx, base, d);
                    self.known_external(cx, span, self.attr(base, attr, d))
                };
                match base.as_ref() {
                    // `config.HOST = "127.0.0.1"` before the use wins over
                    // what `config` says by itself.
                    Expr::Name(var, _) => self.attr_assigned(cx, var, attr, d, plain),
                    _ => plain(),
                }
            }
            Expr::Call(call) => self.call(cx, call, d),
            Expr::Str(Some(s), span) => Value::Str(Box::new(StrValue {
                value: s.clone(),
                literal: Loc { path: cx.module.path.clone(), span: span.clone() },
                via: Vec::new(),
            })),
            Expr::Dict(items, span) => Value::Dict(Box::new(DictValue {
                module: cx.module.clone(),
                scope: cx.scope,
                pos: cx.pos,
                items: Arc::new(items.clone()),
                line: cx.module.line_of(span.start),
            })),
            Expr::BoolOp { or_: true, left, right, .. } => {
                let l = self.eval(cx, left, d);
                or_value(l, || self.eval(cx, right, d))
            }
            Expr::IfExp { test, body, orelse, .. } => {
                let (b, o) = (self.eval(cx, body, d), self.eval(cx, orelse, d));
                match self.env_test(cx, test, d) {
                    // `os.environ["V"] if "V" in os.environ else "0.0.0.0"`:
                    // the variable when set, else the other branch, which is
                    // then its default (a branch of its own, known, stays
                    // a path: `"0.0.0.0" if os.getenv("PUBLIC") else ...`).
                    Some((var, set_first)) => {
                        let (set, unset) = if set_first { (b, o) } else { (o, b) };
                        let from_var = match &set {
                            Value::Unknown => true,
                            Value::Env(e) => e.var.as_deref() == Some(var.as_str()),
                            _ => false,
                        };
                        if from_var {
                            Value::Env(Box::new(EnvValue {
                                var: Some(var),
                                default: Some(unset),
                                via: Vec::new(),
                                source: Source::Env,
                            }))
                        } else {
                            join(vec![set, unset])
                        }
                    }
                    None => join(vec![b, o]),
                }
            }
            // `os.getenv("FLASK_DEBUG", "1") == "1"`: on unless the variable
            // says otherwise.
            Expr::Compare { op, left, right, .. } => {
                let (left, right) = (self.eval(cx, left, d), self.eval(cx, right, d));
                let varies = |v: &Value| matches!(v, Value::Env(_) | Value::Choice(_));
                if varies(&right) && !varies(&left) {
                    map_known(right, &|r| compare(&left, *op, r))
                } else {
                    map_known(left, &|l| compare(l, *op, &right))
                }
            }
            Expr::Not(e, _) => map_known(self.eval(cx, e, d), &|v| v.truthy().map(|b| Value::Bool(!b))),
            Expr::Bool(b, _) => Value::Bool(*b),
            Expr::Int(i, _) => Value::Int(*i),
            Expr::None(_) => Value::None,
            Expr::Subscript(base, index, _) => match self.eval(cx, base, d).present() {
                Value::External(p) if p == "os.environ" => Value::Env(Box::new(EnvValue {
                    var: self.str_of(cx, index, d),
                    default: None,
                    via: Vec::new(),
                    source: Source::Env,
                })),
                // `CONFIG["host"]`, `app.config["HOST"]`: a key that is set;
                // a key from the environment (`CONFIGS[os.getenv("ENV",
                // "dev")]`) is the default's entry while the variable is unset.
                Value::Dict(dict) => map_known(self.eval(cx, index, d), &|key| match key {
                    Value::Str(key) => match self.dict_lookup(&dict, &key.value, d) {
                        Lookup::Found(v, _) => Some(v),
                        _ => None,
                    },
                    _ => None,
                }),
                Value::Config(app) => match self.str_of(cx, index, d) {
                    Some(key) => self.app_config_key(&app, cx, &key).unwrap_or(Value::Unknown),
                    None => Value::Unknown,
                },
                // `vars(args)["host"]`: the parsed options as a mapping.
                Value::Parsed(o) => match self.str_of(cx, index, d) {
                    Some(key) => self.option_default(&o, &key, d),
                    None => Value::Unknown,
                },
                // `create_app()[0]` of a factory that returns a tuple.
                Value::Tuple(items) => match self.eval(cx, index, d) {
                    Value::Int(i) => {
                        let at = if i < 0 { i + items.len() as i128 } else { i };
                        usize::try_from(at).ok().and_then(|at| items.into_iter().nth(at)).unwrap_or(Value::Unknown)
                    }
                    _ => Value::Unknown,
                },
                _ => Value::Unknown,
            },
            Expr::Tuple(items, _) if !items.iter().any(|i| matches!(i, Expr::Starred(..))) => {
                Value::Tuple(items.iter().map(|i| self.eval(cx, i, d)).collect())
            }
            _ => Value::Unknown,
        }
    }

    /// Is `test` true exactly when an environment variable is set? Its name,
    /// and whether true means set (`"V" in os.environ`, `os.getenv("V")`)
    /// or unset (`"V" not in os.environ`, `not os.getenv("V")`).
    fn env_test(&self, cx: &Ctx, test: &Expr, depth: u32) -> Option<(String, bool)> {
        match test {
            Expr::Not(inner, _) => self.env_test(cx, inner, depth).map(|(v, set)| (v, !set)),
            Expr::Compare { op: op @ (CmpOp::In | CmpOp::NotIn), left, right, .. } => {
                let environ = matches!(self.eval(cx, right, depth).present(), Value::External(p) if p == "os.environ");
                let var = self.str_of(cx, left, depth).filter(|_| environ)?;
                Some((var, *op == CmpOp::In))
            }
            _ => match self.eval(cx, test, depth) {
                // A lookup without a default: None (false) when unset.
                Value::Env(e) if matches!(e.default.as_ref(), None | Some(Value::None)) && e.via.is_empty() => {
                    Some((e.var.clone()?, true))
                }
                _ => None,
            },
        }
    }

    fn str_of(&self, cx: &Ctx, e: &Expr, depth: u32) -> Option<String> {
        match self.eval(cx, e, depth) {
            Value::Str(s) => Some(s.value),
            _ => None,
        }
    }

    // ----- names -------------------------------------------------------

    /// The value of `name` as seen at `pos` in `scope`.
    pub fn lookup(&self, m: &ModuleRef, scope: ScopeId, pos: usize, name: &str, depth: u32) -> Value {
        if depth > MAX_DEPTH || !self.burn() {
            return Value::Unknown;
        }
        let key = (Arc::as_ptr(m) as usize, scope, name.to_string(), pos);
        if !self.active.borrow_mut().insert(key.clone()) {
            return Value::Unknown;
        }
        let v = self.lookup_inner(m, scope, pos, name, depth + 1);
        self.active.borrow_mut().remove(&key);
        v
    }

    fn lookup_inner(&self, m: &ModuleRef, scope: ScopeId, pos: usize, name: &str, depth: u32) -> Value {
        let s = &m.scopes[scope];
        if s.kind == ScopeKind::Function && s.globals.iter().any(|g| g == name) {
            return self.lookup(m, 0, END, name, depth);
        }
        let mut all = Vec::new();
        collect_bindings(&s.body, name, &mut Vec::new(), &mut all);
        let param = if s.kind == ScopeKind::Function { s.params.iter().position(|p| p.name == name) } else { None };
        let mut chain = Vec::new();
        chain_at(&s.body, pos, &mut chain);
        // The bindings that may reach `pos`, found from the last one back to
        // the last that surely runs before it (earlier ones are shadowed and
        // never looked into). A star import binds only the names its module
        // provides: one that does not provide this name is passed over.
        let reached: Vec<&Binding> = all.iter().filter(|b| b.reaches(pos)).collect();
        let mut before: Vec<(&Binding, Option<Value>)> = Vec::new();
        let mut definite = false;
        let mut closing: Option<usize> = None;
        for b in reached.iter().rev() {
            if closing.is_some() && b.covers != closing {
                definite = true;
                break;
            }
            let value = match b.kind {
                BindingKind::Star { .. } => match self.binding_value(m, scope, b, name, depth) {
                    Value::Absent => continue,
                    v => Some(v),
                },
                _ => None,
            };
            before.push((b, value));
            if chain.starts_with(&b.chain) {
                definite = true;
                break;
            }
            // The block all of whose branches bind it lies on the way here:
            // its bindings are collected, and nothing before them.
            if let Some(k) = b.covers
                && b.chain.iter().position(|(start, _)| *start == k).is_some_and(|i| chain.starts_with(&b.chain[..i]))
            {
                closing = Some(k);
            }
        }
        before.reverse();
        let only_absent_stars =
            before.is_empty() && all.iter().all(|b| matches!(b.kind, BindingKind::Star { .. }) && b.span.end <= pos);
        // `global name` in functions: what they assign counts too.
        let global_writers: Vec<ScopeId> = if scope == 0 {
            m.scopes
                .iter()
                .enumerate()
                .filter(|(_, f)| f.kind == ScopeKind::Function && f.globals.iter().any(|g| g == name))
                .map(|(id, _)| id)
                .collect()
        } else {
            Vec::new()
        };
        if (all.is_empty() || only_absent_stars) && param.is_none() && global_writers.is_empty() {
            return match s.kind {
                // Names used in a function body are read when it runs.
                ScopeKind::Function => match self.enclosing(m, scope) {
                    Some(outer) => self.lookup(m, outer, END, name, depth),
                    None => builtin(name),
                },
                ScopeKind::Class => self.lookup(m, s.parent.unwrap_or(0), pos, name, depth),
                ScopeKind::Module => builtin(name),
            };
        }
        let reaching = before;
        let mut values = Vec::new();
        if !definite {
            if let Some(i) = param {
                values.push(self.param_value(m, scope, i, depth));
            } else if s.kind == ScopeKind::Class {
                values.push(self.lookup(m, s.parent.unwrap_or(0), pos, name, depth));
            }
        }
        for (b, known) in reaching {
            values.push(known.unwrap_or_else(|| self.binding_value_at(m, scope, b, name, pos, depth)));
        }
        for f in global_writers {
            let mut writes = Vec::new();
            collect_bindings(&m.scopes[f].body, name, &mut Vec::new(), &mut writes);
            for b in &writes {
                values.push(self.binding_value(m, f, b, name, depth));
            }
        }
        join(values)
    }

    /// `dict` (bound to `name` in `scope` by a statement ending at `from`)
    /// with the changes made to it before `to`: `name[key] = v` and
    /// `name.update(...)`. A change the analysis cannot read (`name[k] = v`
    /// with an unknown key) makes every key unknown after it.
    fn dict_changes(
        &self,
        m: &ModuleRef,
        scope: ScopeId,
        name: &str,
        mut dict: DictValue,
        from: usize,
        to: usize,
    ) -> DictValue {
        let mut items: Vec<DictItem> = Vec::new();
        let mut last = None;
        for (s, st) in m.statements() {
            if s != scope || st.span().start < from || st.span().end > to {
                continue;
            }
            match st {
                Stmt::Assign { targets, value: Some(v), span, .. } => {
                    for t in targets {
                        if let Target::Subscript(Expr::Name(n, _), key) = t
                            && n == name
                        {
                            items.push(DictItem::Pair(key.clone(), v.clone()));
                            last = Some(span.start);
                        }
                    }
                }
                Stmt::Call { call: Expr::Call(call), span } => {
                    let Expr::Attr(recv, method, _) = &call.func else { continue };
                    if !matches!(recv.as_ref(), Expr::Name(n, _) if n == name) || method != "update" {
                        continue;
                    }
                    for a in &call.args {
                        items.push(match a {
                            Arg::Kw(k, v) => DictItem::Pair(Expr::Str(Some(k.clone()), v.span()), v.clone()),
                            Arg::Pos(e) | Arg::DoubleStar(e) => DictItem::Splat(e.clone()),
                            Arg::Star(e) => DictItem::Splat(Expr::Other(e.span())),
                        });
                    }
                    last = Some(span.start);
                }
                _ => {}
            }
        }
        if let Some(at) = last {
            let mut all = (*dict.items).clone();
            all.extend(items);
            dict.items = Arc::new(all);
            // The new values are read where the last change is made.
            dict.pos = at;
        }
        dict
    }

    /// `var.attr` where assignments `var.attr = v` of this scope (or, from a
    /// function that does not bind `var`, of the enclosing one) may reach:
    /// those that do, joined with `plain` (what `var.attr` is without them)
    /// where none surely does.
    fn attr_assigned(&self, cx: &Ctx, var: &str, attr: &str, depth: u32, plain: impl FnOnce() -> Value) -> Value {
        let path = format!("{var}.{attr}");
        let m = &cx.module;
        let (mut scope, mut pos) = (cx.scope, cx.pos);
        loop {
            let s = &m.scopes[scope];
            let mut all = Vec::new();
            collect_bindings(&s.body, &path, &mut Vec::new(), &mut all);
            let before: Vec<&Binding> = all.iter().filter(|b| b.reaches(pos)).collect();
            if !before.is_empty() {
                let mut chain = Vec::new();
                chain_at(&s.body, pos, &mut chain);
                let last_definite = before.iter().rposition(|b| chain.starts_with(&b.chain));
                let reaching = match last_definite {
                    Some(i) => &before[i..],
                    None => &before[..],
                };
                let mut values: Vec<Value> =
                    reaching.iter().map(|b| self.binding_value(m, scope, b, &path, depth)).collect();
                if last_definite.is_none() {
                    values.push(plain());
                }
                return join(values);
            }
            // From a function body, module-level assignments have run.
            let mut own = Vec::new();
            collect_bindings(&s.body, var, &mut Vec::new(), &mut own);
            let is_param = s.params.iter().any(|p| p.name == var);
            match (s.kind, self.enclosing(m, scope)) {
                (ScopeKind::Function, Some(outer)) if own.is_empty() && !is_param => {
                    scope = outer;
                    pos = END;
                }
                _ => return plain(),
            }
        }
    }

    /// The scope whose names a function body sees next (class scopes are
    /// skipped, as Python does).
    fn enclosing(&self, m: &Module, scope: ScopeId) -> Option<ScopeId> {
        let mut p = m.scopes[scope].parent?;
        while m.scopes[p].kind == ScopeKind::Class {
            p = m.scopes[p].parent?;
        }
        Some(p)
    }

    fn param_value(&self, m: &ModuleRef, scope: ScopeId, index: usize, depth: u32) -> Value {
        let s = &m.scopes[scope];
        let p = &s.params[index];
        let parent = s.parent.unwrap_or(0);
        if index == 0 && m.scopes[parent].kind == ScopeKind::Class {
            if s.decorators.iter().any(|d| d == "staticmethod") {
                // an ordinary parameter
            } else if s.decorators.iter().any(|d| d == "classmethod") {
                return Value::Class(m.clone(), parent);
            } else {
                return Value::Instance(m.clone(), parent, None);
            }
        }
        // Evaluated into from a call: that call's argument.
        let key = Arc::as_ptr(m) as usize;
        let framed = self
            .frames
            .borrow()
            .iter()
            .rev()
            .find(|fr| fr.module == key && fr.scope == scope)
            .map(|fr| fr.args.get(index).cloned().flatten());
        if let Some(arg) = framed {
            return match arg {
                Some((cx, e)) => self.eval(&cx, &e, depth),
                None => match &p.default {
                    Some(d) => self.eval(&Ctx { module: m.clone(), scope: parent, pos: s.span.start }, d, depth),
                    None => Value::Unknown,
                },
            };
        }
        // An annotation naming an application class says what it is.
        let cx = Ctx { module: m.clone(), scope: parent, pos: s.span.start };
        if let Some(ann) = &p.annotation {
            let ann = match ann {
                // `app: "Flask"`: a string annotation names the class too.
                Expr::Str(Some(text), span) if is_dotted(text) => dotted_expr(text, span.clone()),
                other => other.clone(),
            };
            let kind = match self.eval(&cx, &ann, depth) {
                Value::External(path) => self.app_class(&path),
                Value::Class(cm, c) => self.app_class_kind(&cm, c, depth),
                _ => None,
            };
            if let Some(kind) = kind {
                // The app its callers pass, when they agree (a helper that
                // configures the factory's app: `load_settings(app, obj)`),
                // else the parameter stands for an app of its own.
                if let Value::App(passed, origin) = self.passed_or_default(m, scope, index, depth).present()
                    && self.callers_create(m, scope, &origin)
                {
                    return Value::App(passed, origin);
                }
                return Value::App(kind, Origin { path: m.path.clone(), offset: p.span.start });
            }
        }
        if p.splat {
            return Value::Unknown;
        }
        // A command-line option (click, typer): its default holds unless
        // the option is given.
        if let Some(v) = self.cli_param(m, scope, index, depth) {
            return v;
        }
        self.passed_or_default(m, scope, index, depth)
    }

    /// Is every call of function `scope` in its module made from the
    /// function that creates the app at `origin`? Then the app passed is
    /// that function's own (a helper configuring the factory's app), not
    /// one of the apps a second factory builds on top of the first.
    fn callers_create(&self, m: &ModuleRef, scope: ScopeId, origin: &Origin) -> bool {
        let name = m.scopes[scope].name.as_str();
        let mut any = false;
        for (call_scope, call) in m.calls() {
            let named = match &call.func {
                Expr::Name(n, _) | Expr::Attr(_, n, _) => n == name,
                _ => false,
            };
            if !named {
                continue;
            }
            let caller = &m.scopes[call_scope];
            if origin.path != m.path || !(caller.span.start <= origin.offset && origin.offset < caller.span.end) {
                return false;
            }
            any = true;
        }
        any
    }

    /// A parameter filled in by click or typer from a command-line option.
    fn cli_param(&self, m: &ModuleRef, scope: ScopeId, index: usize, depth: u32) -> Option<Value> {
        let s = &m.scopes[scope];
        let p = &s.params[index];
        let outer = Ctx { module: m.clone(), scope: s.parent.unwrap_or(0), pos: s.span.start };
        let option = |flag: String, default: Value, at: &Span| {
            Value::Env(Box::new(EnvValue {
                var: None,
                default: Some(default),
                via: Vec::new(),
                source: Source::Option { flag, path: m.path.clone(), line: m.line_of(at.start) },
            }))
        };
        // @click.option("--host", default="0.0.0.0") / @click.argument(...)
        for dec in &s.decorator_exprs {
            let Expr::Call(call) = dec else { continue };
            let Value::External(path) = self.eval(&outer, &call.func, depth) else { continue };
            if !matches!(path.as_str(), "click.option" | "click.argument" | "click.decorators.option") {
                continue;
            }
            let decls = call.string_args();
            if click_name(&decls).as_deref() != Some(p.name.as_str()) {
                continue;
            }
            let flag = decls.iter().find(|d| d.starts_with("--")).or(decls.first()).copied().unwrap_or(&p.name);
            let flag = flag.split('/').next().unwrap_or(flag).to_string();
            let default = match call.keyword("default") {
                Some(e) => self.eval(&outer, e, depth),
                None if call.keyword("is_flag").is_some() || decls.iter().any(|d| d.contains('/')) => {
                    Value::Bool(false)
                }
                None if call.keyword("required").is_some() || path == "click.argument" => return Some(Value::Unknown),
                None => Value::None,
            };
            return Some(option(flag, default, &call.span));
        }
        // def main(host: str = typer.Option("0.0.0.0")) or
        // host: Annotated[str, typer.Option()] = "0.0.0.0"
        let flag = format!("--{}", p.name.replace('_', "-"));
        let typer_call = |e: &Expr| match e {
            Expr::Call(c) => match self.eval(&outer, &c.func, depth) {
                Value::External(path) if matches!(path.as_str(), "typer.Option" | "typer.Argument") => Some(c.clone()),
                _ => None,
            },
            _ => None,
        };
        if let Some(c) = p.default.as_ref().and_then(typer_call) {
            let default = match c.keyword("default").or_else(|| c.positional(0)) {
                Some(Expr::Other(_)) | None => return Some(Value::Unknown),
                Some(e) => self.eval(&outer, e, depth),
            };
            return Some(option(flag, default, &p.span));
        }
        if let (Some(Expr::Subscript(_, index, _)), Some(default)) = (&p.annotation, &p.default) {
            let items: Vec<&Expr> = match index.as_ref() {
                Expr::Tuple(items, _) => items.iter().collect(),
                e => vec![e],
            };
            if items.into_iter().any(|i| typer_call(i).is_some()) {
                return Some(option(flag, self.eval(&outer, default, depth), &p.span));
            }
        }
        None
    }

    /// A parameter's value: what the calls of its function in this module
    /// pass, or its default where a call leaves it out (and when no call
    /// is seen: an entry point, or one called from elsewhere).
    fn passed_or_default(&self, m: &ModuleRef, scope: ScopeId, index: usize, depth: u32) -> Value {
        // Parameters handed from function to function are worked out once.
        let memo = (Arc::as_ptr(m) as usize, scope, index);
        if let Some(v) = self.params.borrow().get(&memo) {
            return v.clone();
        }
        let v = self.passed_or_default_uncached(m, scope, index, depth);
        // Inside a call being evaluated, a caller's argument may depend on
        // that call's parameters: not an answer for every caller.
        if self.fuel.get() > 0 && self.frames.borrow().is_empty() {
            self.params.borrow_mut().insert(memo, v.clone());
        }
        v
    }

    fn passed_or_default_uncached(&self, m: &ModuleRef, scope: ScopeId, index: usize, depth: u32) -> Value {
        let s = &m.scopes[scope];
        let p = &s.params[index];
        let parent = s.parent.unwrap_or(0);
        let in_class = m.scopes[parent].kind == ScopeKind::Class;
        let is_static = s.decorators.iter().any(|d| d == "staticmethod");
        let init = in_class && s.name == "__init__";
        // Calls by name: `serve(...)`, `obj.serve(...)`, and for
        // `__init__`, `ClassName(...)` and `super().__init__(...)`.
        let names: &[&str] = if init { &[m.scopes[parent].name.as_str(), "__init__"] } else { &[s.name.as_str()] };
        let default = p.default.as_ref().map(|d| {
            let cx = Ctx { module: m.clone(), scope: parent, pos: s.span.start };
            Value::Env(Box::new(EnvValue {
                var: None,
                default: Some(self.eval(&cx, d, depth)),
                via: Vec::new(),
                source: Source::Param { name: p.name.clone(), path: m.path.clone(), line: m.line_of(p.span.start) },
            }))
        });
        // Is a value this very function (for `__init__`, its class)? `None`
        // when it cannot be told.
        let is_this = |v: Value| match v.present() {
            Value::Function(fm, f) => Some(same_module(&fm, m) && f == scope),
            Value::Class(cm2, c) => Some(init && same_module(&cm2, m) && c == parent),
            Value::Unknown => None,
            _ => Some(false),
        };
        let mut values = Vec::new();
        let mut sites = 0;
        let mut modules = vec![m.clone()];
        if let Some(root) = self.root.as_ref().filter(|r| !same_module(r, m)) {
            modules.push(root.clone());
        }
        // A module-level function nobody here calls may be called by the
        // modules that import it (`from server import start; start(host=
        // "0.0.0.0")` in `run.py`): those that name it are searched too.
        // So may a method of a module-level class (`DevServer(app).serve()`
        // in `run.py`), its `__init__` by the class's name.
        let top_class = in_class && m.scopes[parent].parent.is_some_and(|g| m.scopes[g].kind == ScopeKind::Module);
        let mut searched_importers = m.scopes[parent].kind != ScopeKind::Module && !top_class;
        let mut next = 0;
        while next < modules.len() || !searched_importers {
            if next == modules.len() {
                searched_importers = true;
                if sites == 0 {
                    modules.extend(self.importers_naming(m, names[0]));
                }
                continue;
            }
            let cm = modules[next].clone();
            next += 1;
            // In another module the function may go by another name
            // (`from server import start as go`).
            let aliases: Vec<String> = if same_module(&cm, m) { Vec::new() } else { import_aliases(&cm, names[0]) };
            let known = |n: &str| names.contains(&n) || aliases.iter().any(|a| a == n);
            for (call_scope, call) in cm.calls() {
                let named = |e: &Expr| matches!(e, Expr::Name(n, _) | Expr::Attr(_, n, _) if known(n));
                let cx = Ctx { module: cm.clone(), scope: call_scope, pos: call.span.start };
                // Only calls of this very function (not a method of another
                // class, or another function of the same name).
                let this = |callee: &Expr| is_this(self.eval(&cx, callee, depth + 1)) == Some(true);
                // The function handed on: to a thread or an executor, with
                // the arguments it names (`Thread(target=serve)` calls
                // `serve()`); anywhere else (`partial(serve, ...)`, a
                // callback) with arguments this cannot see. A value this
                // cannot tell may be this function too.
                let maybe_this = |e: &Expr| is_this(self.eval(&cx, e, depth + 1)) != Some(false);
                let (callee, args): (&Expr, std::borrow::Cow<'_, [Arg]>) = if call
                    .args
                    .iter()
                    .any(|a| matches!(a, Arg::Pos(e) | Arg::Kw(_, e) if named(e) && maybe_this(e)))
                {
                    match self.handoff(&cx, call) {
                        Some(h) if named(h.callable) && this(h.callable) => (h.callable, h.args.into()),
                        // Another function of the same name handed on.
                        Some(h) if named(h.callable) => continue,
                        _ => return Value::Unknown,
                    }
                } else {
                    (&call.func, call.args.as_slice().into())
                };
                let by_attr = match callee {
                    Expr::Name(n, _) if known(n) => false,
                    Expr::Attr(_, a, _) if known(a) => true,
                    _ => continue,
                };
                if !this(callee) {
                    continue;
                }
                sites += 1;
                // `args=(...)` and `kwargs={...}` as literals are known.
                let Some(args) = spread(&args) else {
                    values.push(Value::Unknown);
                    continue;
                };
                let call = Call { func: callee.clone(), args, span: call.span.clone() };
                let passed = call.keyword(&p.name).or_else(|| {
                    // Positions skip `self` when called on an instance or class.
                    let skip = usize::from(in_class && !is_static && (by_attr || init));
                    (!p.keyword_only && index >= skip).then(|| call.positional(index - skip)).flatten()
                });
                match passed {
                    Some(e) => {
                        let line = cm.line_of(call.span.start);
                        let step = Step::Passed { name: p.name.clone(), path: cm.path.clone(), line };
                        values.push(self.eval(&cx, e, depth).via(step))
                    }
                    None => values.push(default.clone().unwrap_or(Value::Unknown)),
                }
            }
        }
        // Value references to the function outside calls (`run_local =
        // serve`, `{"serve": serve}`, `return serve`).
        // A thread or future kept in a variable (`t = Thread(target=serve)`)
        // is a hand-off read above, not a reference.
        let handed_off = |cm: &ModuleRef, scope: ScopeId, e: &Expr| match e {
            Expr::Call(call) => {
                let cx = Ctx { module: cm.clone(), scope, pos: call.span.start };
                self.handoff(&cx, call).is_some_and(
                    |h| matches!(h.callable, Expr::Name(n, _) | Expr::Attr(_, n, _) if names.contains(&n.as_str())),
                )
            }
            _ => false,
        };
        // A name or attribute by itself (`x = other.serve`) refers to this
        // function only if it evaluates to it (or to what cannot be told).
        let refers = |cm: &ModuleRef, scope: ScopeId, e: &Expr| match e {
            Expr::Name(n, span) | Expr::Attr(_, n, span) if names.contains(&n.as_str()) => {
                let cx = Ctx { module: cm.clone(), scope, pos: span.start };
                is_this(self.eval(&cx, e, depth + 1)) != Some(false)
            }
            _ => mentions(e, names, 0),
        };
        let referenced = modules.iter().any(|cm| {
            cm.statements().into_iter().any(|(scope, st)| match st {
                Stmt::Assign { value: Some(e), .. } | Stmt::Return { value: Some(e), .. } => {
                    refers(cm, scope, e) && !handed_off(cm, scope, e)
                }
                _ => false,
            })
        });
        if referenced {
            return Value::Unknown;
        }
        if sites == 0 {
            return default.unwrap_or(Value::Unknown);
        }
        join(values)
    }

    /// The modules of the project that import module `m` (or a package
    /// that imports it: a re-export, `from pkg import start`) and name
    /// `name` as a word in their text, in path order; at most
    /// [`MAX_CALLER_MODULES`] (they are parsed).
    fn importers_naming(&self, m: &ModuleRef, name: &str) -> Vec<ModuleRef> {
        let direct = self.project.importers_of(&m.path);
        let mut paths: Vec<PathBuf> = direct.to_vec();
        for p in direct.iter().filter(|p| p.file_name().is_some_and(|n| n == "__init__.py")) {
            paths.extend(self.project.importers_of(p).iter().filter(|q| q.as_path() != m.path).cloned());
        }
        paths.sort();
        paths.dedup();
        let mut out = Vec::new();
        for path in paths {
            if out.len() == MAX_CALLER_MODULES {
                break;
            }
            let Ok(bytes) = self.project.tree().read(&path) else { continue };
            if !names_word(&bytes, name.as_bytes()) {
                continue;
            }
            if let Ok(module) = self.project.load(&path) {
                out.push(module);
            }
        }
        out
    }

    fn binding_value(&self, m: &ModuleRef, scope: ScopeId, b: &Binding, name: &str, depth: u32) -> Value {
        self.binding_value_at(m, scope, b, name, END, depth)
    }

    /// The value a binding gives `name`, as seen at `pos` (a dict may be
    /// changed in between: `opts["host"] = ...`, `opts.update(...)`).
    fn binding_value_at(
        &self,
        m: &ModuleRef,
        scope: ScopeId,
        b: &Binding,
        name: &str,
        pos: usize,
        depth: u32,
    ) -> Value {
        match &b.kind {
            BindingKind::Assign(Stmt::Assign { targets, value, annotation, span }) => {
                let cx = Ctx { module: m.clone(), scope, pos: span.start };
                let v = match value {
                    Some(e) => self.eval(&cx, e, depth),
                    None => return Value::Unknown,
                };
                // `app, socketio = create_app()`: the item this name gets.
                let v = if targets.iter().any(|t| matches!(t, Target::Name(n) if n == name)) {
                    match (v, value) {
                        (Value::Dict(dict), _) => {
                            Value::Dict(Box::new(self.dict_changes(m, scope, name, *dict, span.end, pos)))
                        }
                        // A mapping of unknown content (`json.load(f)`,
                        // `vars(args)`) whose keys are then set.
                        (v @ (Value::Unknown | Value::Parsed(_)), Some(e)) => {
                            let unknown = DictValue {
                                module: m.clone(),
                                scope,
                                pos: span.start,
                                items: Arc::new(vec![DictItem::Splat(e.clone())]),
                                line: m.line_of(span.start),
                            };
                            let changed = self.dict_changes(m, scope, name, unknown, span.end, pos);
                            if changed.items.len() > 1 { Value::Dict(Box::new(changed)) } else { v }
                        }
                        (v, _) => v,
                    }
                } else {
                    match targets.iter().find(|t| t.binds(name)) {
                        Some(t) => unpack(v, t, name),
                        None => Value::Unknown,
                    }
                };
                let v = match (v, annotation) {
                    // `app: Flask = make()` says what `make()` returns.
                    (Value::Unknown, Some(ann)) => match self.eval(&cx, ann, depth) {
                        Value::External(p) => match self.app_class(&p) {
                            Some(kind) => Value::App(kind, Origin { path: m.path.clone(), offset: span.start }),
                            None => Value::Unknown,
                        },
                        _ => Value::Unknown,
                    },
                    (v, _) => v,
                };
                v.via(Step::Constant { name: name.to_string(), path: m.path.clone(), line: m.line_of(span.start) })
            }
            BindingKind::Assign(_) => Value::Unknown,
            BindingKind::Import(r) => {
                self.importing.borrow_mut().push((Arc::as_ptr(m) as usize, b.span.start));
                let v = self.import(m, r, depth);
                self.importing.borrow_mut().pop();
                v
            }
            BindingKind::Star { level, module } => {
                self.importing.borrow_mut().push((Arc::as_ptr(m) as usize, b.span.start));
                let v = self.star_import(m, *level, module, name, depth);
                self.importing.borrow_mut().pop();
                v
            }
            BindingKind::Def(id) => match m.scopes[*id].kind {
                ScopeKind::Class => Value::Class(m.clone(), *id),
                _ => Value::Function(m.clone(), *id),
            },
        }
    }

    // ----- modules -----------------------------------------------------

    fn load(&self, importer: &Module, level: u32, dotted: &str) -> Option<ModuleRef> {
        let path = self.project.resolve(&importer.path, level, dotted)?;
        self.project.load(&path).ok()
    }

    fn import(&self, m: &ModuleRef, r: &ImportRef, depth: u32) -> Value {
        match &r.name {
            None => {
                if r.level == 0 && is_external(&r.module) {
                    return Value::External(r.module.clone());
                }
                match self.load(m, r.level, &r.module) {
                    Some(module) => Value::Module { module, submodules: r.submodules.clone() },
                    // `import src.app` where `src` has no `__init__.py`.
                    None if r.level == 0
                        && !r.submodules.is_empty()
                        && self.project.resolve(&m.path, 0, &format!("{}.{}", r.module, r.submodules)).is_some() =>
                    {
                        Value::Namespace {
                            dotted: r.module.clone(),
                            importer: m.path.clone(),
                            submodules: r.submodules.clone(),
                        }
                    }
                    None if r.level == 0 => Value::External(r.module.clone()),
                    None => Value::Unknown,
                }
            }
            Some(name) => {
                if r.level == 0 && is_external(&r.module) {
                    return Value::External(format!("{}.{name}", r.module));
                }
                let found = match self.load(m, r.level, &r.module) {
                    Some(module) => self.module_attr(&module, name, depth),
                    None => Value::Absent,
                };
                if !matches!(found, Value::Absent) {
                    return found;
                }
                // `from pkg import submodule`
                let sub = if r.module.is_empty() { name.clone() } else { format!("{}.{name}", r.module) };
                match self.load(m, r.level, &sub) {
                    Some(module) => Value::Module { module, submodules: String::new() },
                    None if r.level == 0 && self.project.resolve(&m.path, 0, &r.module).is_none() => {
                        Value::External(format!("{}.{name}", r.module))
                    }
                    None => Value::Unknown,
                }
            }
        }
    }

    fn star_import(&self, m: &ModuleRef, level: u32, module: &str, name: &str, depth: u32) -> Value {
        if level == 0 && (is_external(module) || self.project.resolve(&m.path, 0, module).is_none()) {
            let path = format!("{module}.{name}");
            let known = self.app_class(&path).is_some()
                || socketio_class(&path)
                || run_simple_path(&path)
                || script_server_path(&path)
                || path == "functools.partial"
                || thread_like(&path)
                || env_function(&path)
                || path == "os.environ"
                || self.project.analysis().apps.contains(&path);
            return if known { Value::External(path) } else { Value::Absent };
        }
        let Some(target) = self.load(m, level, module) else { return Value::Absent };
        // What `*` takes: the names in `__all__` when it is a literal list,
        // else the public names the module binds.
        // `__all__.append(...)` and friends change it after the fact.
        let changed = target.statements().into_iter().any(|(scope, st)| {
            scope == 0
                && matches!(st, Stmt::Call { call: Expr::Call(c), .. }
                    if matches!(&c.func, Expr::Attr(b, _, _) if matches!(b.as_ref(), Expr::Name(n, _) if n == "__all__")))
        });
        let exported = match self.module_attr(&target, "__all__", depth) {
            Value::Tuple(items) if !changed => {
                Some(items.iter().any(|i| matches!(i, Value::Str(s) if s.value == name)))
            }
            _ => None,
        };
        if exported.unwrap_or(!name.starts_with('_')) { self.module_attr(&target, name, depth) } else { Value::Absent }
    }

    /// `module.name`: what the module binds at its end; `Absent` if unbound.
    fn module_attr(&self, module: &ModuleRef, name: &str, depth: u32) -> Value {
        let mut all = Vec::new();
        collect_bindings(&module.scopes[0].body, name, &mut Vec::new(), &mut all);
        if all.is_empty() {
            return Value::Absent;
        }
        // Reached again through a circular import: only what ran before
        // the import in progress is bound yet.
        let key = Arc::as_ptr(module) as usize;
        let at = self.importing.borrow().iter().rev().find(|(m, _)| *m == key).map_or(END, |(_, pos)| *pos);
        if !all.iter().any(|b| b.span.end <= at) {
            // Not bound yet (`from . import config` in the package's own
            // `__init__.py` finds the submodule instead).
            return Value::Absent;
        }
        let memo = (key, name.to_string(), at);
        if let Some(v) = self.module_attrs.borrow().get(&memo) {
            return v.clone();
        }
        let v = self.lookup(module, 0, at, name, depth);
        // An answer cut short by the fuel running out is not the answer.
        if self.fuel.get() > 0 {
            self.module_attrs.borrow_mut().insert(memo, v.clone());
        }
        v
    }

    // ----- attributes --------------------------------------------------

    fn attr(&self, base: Value, attr: &str, depth: u32) -> Value {
        match base.present() {
            // Read from each object the path may hold.
            Value::Choice(items) => join(items.into_iter().map(|v| self.attr(v, attr, depth + 1)).collect()),
            // A parameter defaulting to an object (`def __init__(self,
            // config=Config)`): read from that object.
            Value::Env(e)
                if matches!(e.source, Source::Param { .. })
                    && matches!(e.default, Some(Value::Class(..) | Value::Instance(..) | Value::Module { .. })) =>
            {
                match e.default {
                    Some(default) => self.attr(default, attr, depth + 1),
                    None => Value::Unknown,
                }
            }
            // An object chosen by the environment (`CONFIGS[os.getenv("ENV",
            // "dev")]`): its attribute while the variable is unset.
            v @ Value::Env(_) => map_known(v, &|o| match o {
                Value::Class(..) | Value::Instance(..) | Value::Module { .. } => {
                    Some(self.attr(o.clone(), attr, depth + 1)).filter(|a| !matches!(a, Value::Unknown | Value::Absent))
                }
                _ => None,
            }),
            Value::External(p) => Value::External(format!("{p}.{attr}")),
            Value::Module { module, submodules } => {
                let v = self.module_attr(&module, attr, depth);
                if !matches!(v, Value::Absent) {
                    return v;
                }
                let (first, rest) = submodules.split_once('.').unwrap_or((&submodules, ""));
                if first == attr
                    && module.path.file_name().is_some_and(|f| f == "__init__.py")
                    && let Some(dir) = module.path.parent()
                    && let Some(sub) = self.load_sub(dir, attr)
                {
                    return Value::Module { module: sub, submodules: rest.to_string() };
                }
                Value::Unknown
            }
            Value::Namespace { dotted, importer, submodules } => {
                let (first, rest) = submodules.split_once('.').unwrap_or((&submodules, ""));
                if first != attr {
                    return Value::Unknown;
                }
                let path = format!("{dotted}.{attr}");
                match self.project.resolve(&importer, 0, &path).and_then(|p| self.project.load(&p).ok()) {
                    Some(module) => Value::Module { module, submodules: rest.to_string() },
                    None if !rest.is_empty() => {
                        Value::Namespace { dotted: path, importer, submodules: rest.to_string() }
                    }
                    None => Value::Unknown,
                }
            }
            Value::Class(m, c) => self.class_attr(&m, c, attr, depth).unwrap_or(Value::Unknown),
            // `self.run` in a subclass of Flask: its own `run` if it
            // overrides it, else the development server.
            Value::Instance(m, c, _) if attr == "config" && self.app_class_kind(&m, c, depth).is_some() => {
                Value::Config(class_origin(&m, c))
            }
            Value::Instance(m, c, created) if is_server_method(attr) => match self.class_attr(&m, c, attr, depth) {
                Some(v) => v,
                None => match self.app_class_kind(&m, c, depth) {
                    Some(kind) => server_method(kind, attr, class_origin(&m, c)).unwrap_or(Value::Unknown),
                    None => self.instance_attr(&m, c, attr, depth, created.as_deref()),
                },
            },
            // A Dash subclass serves through its Flask app too.
            Value::Instance(m, c, _)
                if attr == "server" && self.app_class_kind(&m, c, depth) == Some(AppKind::Dash) =>
            {
                Value::App(AppKind::Flask, class_origin(&m, c))
            }
            Value::Instance(m, c, created) => self.instance_attr(&m, c, attr, depth, created.as_deref()),
            // `super().run` inside a subclass of Flask: a project base's
            // own `run` comes first, as Python's method order has it.
            Value::Super(m, c) => {
                for (bm, bc) in self.local_bases(&m, c, depth) {
                    if let Some(v) = self.class_attr(&bm, bc, attr, depth + 1) {
                        return v;
                    }
                }
                match self.app_class_kind(&m, c, depth) {
                    Some(kind) => server_method(kind, attr, class_origin(&m, c)).unwrap_or(Value::Unknown),
                    None => Value::Unknown,
                }
            }
            // A Dash app serves through the Flask app in `.server`, a
            // Connexion app through the one in `.app`.
            Value::App(AppKind::Dash, origin) if attr == "server" => Value::App(AppKind::Flask, origin),
            Value::App(AppKind::Connexion, origin) if attr == "app" => Value::App(AppKind::Flask, origin),
            Value::App(_, origin) if attr == "config" => Value::Config(origin),
            Value::App(kind, origin) => server_method(kind, attr, origin).unwrap_or(Value::Unknown),
            Value::SocketIO if attr == "run" => server(ServerKind::SocketIORun, None),
            // `parse_args().__dict__`: the options as a mapping.
            Value::Parsed(o) if attr == "__dict__" => Value::Parsed(o),
            Value::Parsed(o) => self.option_default(&o, attr, depth),
            _ => Value::Unknown,
        }
    }

    fn load_sub(&self, dir: &std::path::Path, name: &str) -> Option<ModuleRef> {
        let init = dir.join(name).join("__init__.py");
        let file = dir.join(format!("{name}.py"));
        [init, file].into_iter().find(|p| self.project.tree().is_file(p)).and_then(|p| self.project.load(&p).ok())
    }

    /// A name bound in a class body (or a base class of this repository).
    fn class_attr(&self, m: &ModuleRef, class: ScopeId, attr: &str, depth: u32) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut all = Vec::new();
        collect_bindings(&m.scopes[class].body, attr, &mut Vec::new(), &mut all);
        if !all.is_empty() {
            let v = self.lookup(m, class, END, attr, depth + 1);
            return Some(match v {
                Value::Str(_) | Value::Env(_) => rename_last_step(v, &m.scopes[class].name),
                v => v,
            });
        }
        for (bm, bc) in self.local_bases(m, class, depth) {
            if let Some(v) = self.class_attr(&bm, bc, attr, depth + 1) {
                return Some(v);
            }
        }
        None
    }

    /// Does the class (or a project base) define `attr` itself?
    pub fn defines(&self, m: &ModuleRef, class: ScopeId, attr: &str) -> bool {
        self.class_attr(m, class, attr, 0).is_some()
    }

    /// `obj.attr` of an instance: what construction leaves there (a
    /// dataclass or pydantic field passed at the creating call, else what
    /// `__init__` always assigns, else the class attribute), joined with
    /// what other methods (or `__init__` conditionally) may assign later.
    fn instance_attr(&self, m: &ModuleRef, class: ScopeId, attr: &str, depth: u32, created: Option<&Created>) -> Value {
        if depth > MAX_DEPTH {
            return Value::Unknown;
        }
        let mut start = created.and_then(|cr| self.field_argument(m, class, attr, cr, depth));
        let mut later = Vec::new();
        let mut assigned = false;
        for (id, s) in m.scopes.iter().enumerate() {
            if s.parent != Some(class) || s.kind != ScopeKind::Function {
                continue;
            }
            let Some(this) = s.params.first().map(|p| p.name.as_str()) else {
                continue;
            };
            if s.decorators.iter().any(|d| d == "staticmethod" || d == "classmethod") {
                continue;
            }
            let init = s.name == "__init__";
            let mut assigns = Vec::new();
            collect_attr_assigns(&s.body, this, attr, true, &mut assigns);
            for (value, span, always) in assigns {
                assigned = true;
                let cx = Ctx { module: m.clone(), scope: id, pos: span.start };
                let v = match value {
                    // `self.host = host` in `__init__`: what the creating
                    // call passes for `host`.
                    Some(Expr::Name(p, _)) if init && created.is_some() && s.params.iter().any(|q| &q.name == p) => {
                        self.init_argument(m, id, p, created, depth)
                    }
                    Some(e) => self.eval(&cx, e, depth + 1),
                    None => Value::Unknown,
                };
                if init && always && start.is_none() {
                    // The last unconditional one wins; earlier ones are gone.
                    later.retain(|(sure, _): &(bool, Value)| !*sure);
                    later.push((true, v));
                } else {
                    later.push((false, v));
                }
            }
        }
        // What `__init__` surely set is where the object starts.
        if start.is_none()
            && let Some(i) = later.iter().rposition(|(sure, _)| *sure)
        {
            start = Some(later.remove(i).1);
        }
        let class_value = self.class_attr(m, class, attr, depth);
        let mut values: Vec<Value> = start.or(class_value).into_iter().collect();
        values.extend(later.into_iter().map(|(_, v)| v));
        if values.is_empty() && !assigned {
            for (bm, bc) in self.local_bases(m, class, depth) {
                let v = self.instance_attr(&bm, bc, attr, depth + 1, created);
                if !matches!(v, Value::Unknown) {
                    return v;
                }
            }
        }
        join(values)
    }

    /// A dataclass / pydantic / NamedTuple field given to the creating call
    /// (by keyword, or by position in field order).
    fn field_argument(
        &self,
        m: &ModuleRef,
        class: ScopeId,
        attr: &str,
        created: &Created,
        depth: u32,
    ) -> Option<Value> {
        if !self.is_record_class(m, class, depth) {
            return None;
        }
        let call = &created.call;
        let step = || Step::Passed {
            name: attr.to_string(),
            path: created.cx.module.path.clone(),
            line: created.cx.module.line_of(call.span.start),
        };
        if let Some(e) = call.keyword(attr) {
            return Some(self.eval(&created.cx, e, depth + 1).via(step()));
        }
        let index = m.scopes[class].fields.iter().position(|f| f == attr)?;
        call.positional(index).map(|e| self.eval(&created.cx, e, depth + 1).via(step()))
    }

    /// Classes whose constructor takes their annotated fields.
    fn is_record_class(&self, m: &ModuleRef, class: ScopeId, depth: u32) -> bool {
        let s = &m.scopes[class];
        if s.decorators.iter().any(|d| d.contains("dataclass") || d.starts_with("attr.s") || d.starts_with("define")) {
            return true;
        }
        let cx = Ctx { module: m.clone(), scope: s.parent.unwrap_or(0), pos: s.span.start };
        s.bases.iter().any(|b| match self.eval(&cx, b, depth + 1) {
            Value::External(p) => matches!(
                p.as_str(),
                "pydantic.BaseModel" | "pydantic.BaseSettings" | "pydantic_settings.BaseSettings" | "typing.NamedTuple"
            ),
            Value::Class(bm, bc) => self.is_record_class(&bm, bc, depth + 1),
            _ => false,
        })
    }

    /// Parameter `param` of `__init__` (scope `init`) as the creating call
    /// passes it, or its default.
    fn init_argument(&self, m: &ModuleRef, init: ScopeId, param: &str, created: Option<&Created>, depth: u32) -> Value {
        let s = &m.scopes[init];
        let Some(index) = s.params.iter().position(|p| p.name == param) else { return Value::Unknown };
        let p = &s.params[index];
        if p.splat {
            return Value::Unknown;
        }
        if let Some(cr) = created {
            if cr.call.args.iter().any(|a| matches!(a, Arg::Star(_) | Arg::DoubleStar(_))) {
                return Value::Unknown;
            }
            let passed = cr
                .call
                .keyword(param)
                .or_else(|| (!p.keyword_only && index >= 1).then(|| cr.call.positional(index - 1)).flatten());
            if let Some(e) = passed {
                let line = cr.cx.module.line_of(cr.call.span.start);
                let step = Step::Passed { name: param.to_string(), path: cr.cx.module.path.clone(), line };
                return self.eval(&cr.cx, e, depth + 1).via(step);
            }
        }
        match &p.default {
            Some(d) => {
                let cx = Ctx { module: m.clone(), scope: s.parent.unwrap_or(0), pos: s.span.start };
                Value::Env(Box::new(EnvValue {
                    var: None,
                    default: Some(self.eval(&cx, d, depth + 1)),
                    via: Vec::new(),
                    source: Source::Param {
                        name: param.to_string(),
                        path: m.path.clone(),
                        line: m.line_of(p.span.start),
                    },
                }))
            }
            None => Value::Unknown,
        }
    }

    fn local_bases(&self, m: &ModuleRef, class: ScopeId, depth: u32) -> Vec<(ModuleRef, ScopeId)> {
        let s = &m.scopes[class];
        let cx = Ctx { module: m.clone(), scope: s.parent.unwrap_or(0), pos: s.span.start };
        s.bases
            .iter()
            .filter_map(|b| match self.eval(&cx, b, depth + 1) {
                Value::Class(bm, bc) => Some((bm, bc)),
                _ => None,
            })
            .collect()
    }

    /// `Some(kind)` when the class is (a subclass of) an application class.
    pub fn app_class_kind(&self, m: &ModuleRef, class: ScopeId, depth: u32) -> Option<AppKind> {
        if depth > MAX_DEPTH {
            return None;
        }
        let s = &m.scopes[class];
        let cx = Ctx { module: m.clone(), scope: s.parent.unwrap_or(0), pos: s.span.start };
        s.bases.iter().find_map(|b| match self.eval(&cx, b, depth + 1) {
            Value::External(p) => self.app_class(&p),
            Value::Class(bm, bc) => self.app_class_kind(&bm, bc, depth + 1),
            _ => None,
        })
    }

    // ----- calls -------------------------------------------------------

    fn call(&self, cx: &Ctx, call: &Call, depth: u32) -> Value {
        let origin = || Origin { path: cx.module.path.clone(), offset: call.span.start };
        // `mapping.get(key, default)`: the value when the key is known to be
        // set; the default when it is known to be absent; and when the
        // mapping's content cannot be known, the default whenever the key
        // is absent (as for an environment variable).
        if let Expr::Attr(recv, method, _) = &call.func
            && method == "get"
            // ConfigParser: `get(section, option, fallback=...)`.
            && let Some(key_expr) = if call.keyword("fallback").is_some() {
                call.positional(1).or_else(|| call.keyword("option"))
            } else {
                call.positional(0)
            }
        {
            let mapping = self.eval(cx, recv, depth).present();
            // `vars(args).get("host")`: every option's `dest` is set.
            if let Value::Parsed(o) = &mapping {
                return match self.str_of(cx, key_expr, depth) {
                    Some(key) => self.option_default(o, &key, depth),
                    None => Value::Unknown,
                };
            }
            let default = || match call.keyword("fallback").or_else(|| call.positional(1)) {
                Some(e) => self.eval(cx, e, depth),
                None => Value::None,
            };
            // A key from the environment (`HOSTS.get(os.getenv("ENV",
            // "dev"), ...)`): the default key's entry while it is unset.
            if let Value::Dict(dict) = &mapping
                && let key @ (Value::Env(_) | Value::Choice(_)) = self.eval(cx, key_expr, depth)
            {
                return map_known(key, &|key| match key {
                    Value::Str(key) => match self.dict_lookup(dict, &key.value, depth) {
                        Lookup::Found(v, _) => Some(v),
                        Lookup::Absent => Some(default()),
                        Lookup::Unknown => None,
                    },
                    _ => None,
                });
            }
            if matches!(mapping, Value::Dict(_) | Value::Config(_) | Value::Unknown) {
                let Some(key) = self.str_of(cx, key_expr, depth) else { return Value::Unknown };
                let default = default();
                let maybe_absent = |default: Value| {
                    let line = cx.module.line_of(call.span.start);
                    Value::Env(Box::new(EnvValue {
                        var: None,
                        default: Some(default),
                        via: Vec::new(),
                        source: Source::Key { key: key.clone(), path: cx.module.path.clone(), line },
                    }))
                };
                return match mapping {
                    Value::Dict(dict) => match self.dict_lookup(&dict, &key, depth) {
                        Lookup::Found(v, _) => v,
                        Lookup::Absent => default,
                        Lookup::Unknown => maybe_absent(default),
                    },
                    Value::Config(app) => match self.app_config_key(&app, cx, &key) {
                        Some(Value::Unknown) => maybe_absent(default),
                        Some(v) => v,
                        // Flask always sets DEBUG (false unless FLASK_DEBUG).
                        None if key == "DEBUG" => Value::Bool(false),
                        None => default,
                    },
                    _ => maybe_absent(default),
                };
            }
        }
        // `os.getenv("HOST", "0.0.0.0").strip()`, `.lower()`: the same
        // value (or default) with the method applied.
        if let Expr::Attr(recv, method, _) = &call.func
            && call.args.is_empty()
            && let Some(apply) = str_method(method)
        {
            return map_known(self.eval(cx, recv, depth), &|v| match v {
                Value::Str(s) => Some(Value::Str(Box::new(StrValue { value: apply(&s.value), ..(**s).clone() }))),
                _ => None,
            });
        }
        // `DEFAULTS.copy()`
        if let Expr::Attr(recv, method, _) = &call.func
            && method == "copy"
            && call.args.is_empty()
            && let v @ Value::Dict(_) = self.eval(cx, recv, depth).present()
        {
            return v;
        }
        // argparse: `parser.parse_args()` and argument groups.
        if let Expr::Attr(recv, method, _) = &call.func
            && matches!(
                method.as_str(),
                "parse_args"
                    | "parse_known_args"
                    | "parse_intermixed_args"
                    | "add_argument_group"
                    | "add_mutually_exclusive_group"
            )
            && let Value::Parser(o) = self.eval(cx, recv, depth).present()
        {
            // `parse_args(["--host", ...])`: not the command line; but
            // `parse_args(argv)` with `argv=None` (`def main(argv=None)`) is.
            let command_line = match call.args.as_slice() {
                [] => true,
                [Arg::Pos(e)] => match self.eval(cx, e, depth).present() {
                    Value::None => true,
                    Value::Env(env) => {
                        matches!(env.source, Source::Param { .. }) && matches!(env.default, Some(Value::None))
                    }
                    _ => false,
                },
                _ => false,
            };
            if method.starts_with("parse") && !command_line {
                return Value::Unknown;
            }
            return match method.as_str() {
                // optparse: `(options, args) = parser.parse_args()`.
                "parse_args" if self.made_by(&o, OPTPARSE, depth) => {
                    Value::Tuple(vec![Value::Parsed(o), Value::Unknown])
                }
                "parse_args" | "parse_intermixed_args" => Value::Parsed(o),
                "parse_known_args" => Value::Tuple(vec![Value::Parsed(o), Value::Unknown]),
                _ => Value::Parser(o),
            };
        }
        match self.eval(cx, &call.func, depth).present() {
            Value::External(p) if p == "builtins.super" => {
                // `super()` in a method: the class the method belongs to.
                let s = &cx.module.scopes[cx.scope];
                match s.parent {
                    Some(c) if s.kind == ScopeKind::Function && cx.module.scopes[c].kind == ScopeKind::Class => {
                        Value::Super(cx.module.clone(), c)
                    }
                    _ => Value::Unknown,
                }
            }
            Value::External(p) if p == "functools.partial" => {
                // `partial(app.run, host=...)`: the server, with arguments bound.
                let Some(Arg::Pos(f)) = call.args.first() else { return Value::Unknown };
                match self.eval(cx, f, depth).present() {
                    Value::Server(mut sv) => {
                        sv.bound.extend(call.args[1..].iter().map(|a| (cx.clone(), a.clone())));
                        Value::Server(sv)
                    }
                    _ => Value::Unknown,
                }
            }
            // `getattr(settings, "HOST", "0.0.0.0")`: the attribute where it
            // is known, the default where a module of the project has no
            // binding of that name at all.
            Value::External(p) if p == "builtins.getattr" && call.args.len() <= 3 => {
                let (Some(obj), Some(name)) = (call.positional(0), call.positional(1)) else { return Value::Unknown };
                let Some(name) = self.str_of(cx, name, depth) else { return Value::Unknown };
                let base = self.eval(cx, obj, depth).present();
                // The default where nothing can set the name: no binding in
                // the module, no module `__getattr__`, no `x.NAME = ...`
                // in the module asking.
                let set_here = |module: &ModuleRef| {
                    cx.module.statements().iter().any(|(scope, st)| {
                        let Stmt::Assign { targets, .. } = st else { return false };
                        targets.iter().any(|t| match t {
                            Target::Attr(obj, a) if *a == name => {
                                let at = Ctx { module: cx.module.clone(), scope: *scope, pos: st.span().start };
                                match self.eval(&at, obj, depth + 1).present() {
                                    Value::Module { module: set, .. } => same_module(&set, module),
                                    Value::Unknown => true,
                                    _ => false,
                                }
                            }
                            _ => false,
                        })
                    })
                };
                if let (Value::Module { module, .. }, Some(default)) = (&base, call.positional(2))
                    && matches!(self.module_attr(module, &name, depth), Value::Absent)
                    && matches!(self.module_attr(module, "__getattr__", depth), Value::Absent)
                    && !set_here(module)
                {
                    return self.eval(cx, default, depth);
                }
                match self.attr(base, &name, depth) {
                    Value::Absent => Value::Unknown,
                    v => v,
                }
            }
            // optparse's parser works the same way, bar `parse_args`' result.
            Value::External(p) if p == "argparse.ArgumentParser" || p == OPTPARSE => Value::Parser(origin()),
            // `multiprocessing.get_context("spawn").Process(...)`
            Value::External(p) if p == "multiprocessing.get_context" => Value::External("multiprocessing".into()),
            // `**vars(args)`: the parsed options as a mapping.
            Value::External(p) if p == "builtins.vars" => match call.positional(0) {
                Some(e) => match self.eval(cx, e, depth).present() {
                    v @ Value::Parsed(_) => v,
                    _ => Value::Unknown,
                },
                None => Value::Unknown,
            },
            Value::External(p) => {
                if let Some(kind) = self.app_class(&p) {
                    Value::App(kind, origin())
                } else if socketio_class(&p) {
                    Value::SocketIO
                } else if env_function(&p) {
                    let var =
                        call.positional(0).or_else(|| call.keyword("key")).and_then(|e| self.str_of(cx, e, depth));
                    let default =
                        call.positional(1).or_else(|| call.keyword("default")).map(|e| self.eval(cx, e, depth));
                    let default = match default {
                        Some(d) => Some(d),
                        // `os.getenv("X")`: None when unset (not
                        // `os.environ.setdefault`, which needs a value).
                        None if call.args.len() <= 1 && p != "os.environ.setdefault" => Some(Value::None),
                        None if call.args.len() <= 1 => None,
                        None => return Value::Unknown,
                    };
                    Value::Env(Box::new(EnvValue { var, default, via: Vec::new(), source: Source::Env }))
                } else if p == "builtins.dict" {
                    let items = call
                        .args
                        .iter()
                        .filter_map(|a| match a {
                            Arg::Kw(k, v) => Some(DictItem::Pair(Expr::Str(Some(k.clone()), v.span()), v.clone())),
                            Arg::DoubleStar(e) => Some(DictItem::Splat(e.clone())),
                            _ => None,
                        })
                        .collect::<Vec<_>>();
                    // `dict(DEFAULTS, port=1)`: a copy of a known dict.
                    let base = match call.args.first() {
                        Some(Arg::Pos(e)) => match self.eval(cx, e, depth) {
                            Value::Dict(d) => Some(e.clone()).filter(|_| d.items.len() < 1_000),
                            _ => return Value::Unknown,
                        },
                        _ => None,
                    };
                    if call
                        .args
                        .iter()
                        .skip(usize::from(base.is_some()))
                        .any(|a| matches!(a, Arg::Pos(_) | Arg::Star(_)))
                    {
                        return Value::Unknown;
                    }
                    let items: Vec<DictItem> = base.map(DictItem::Splat).into_iter().chain(items).collect();
                    Value::Dict(Box::new(DictValue {
                        module: cx.module.clone(),
                        scope: cx.scope,
                        pos: cx.pos,
                        items: Arc::new(items),
                        line: cx.module.line_of(call.span.start),
                    }))
                } else if p == "builtins.str" && call.args.len() == 1 {
                    match call.positional(0).map(|e| self.eval(cx, e, depth)) {
                        Some(v @ (Value::Str(_) | Value::Env(_))) => v,
                        _ => Value::Unknown,
                    }
                } else {
                    Value::Unknown
                }
            }
            // An instance of a project class (a subclass of Flask too: it
            // may override `run`, and what its methods set on `self` is
            // set on it).
            Value::Class(m, c) => Value::Instance(m, c, Some(Arc::new(Created { cx: cx.clone(), call: call.clone() }))),
            Value::Function(m, f) => self.call_function(cx, call, &m, f, depth),
            _ => Value::Unknown,
        }
    }

    /// What calling the project function `f` with `call`'s arguments
    /// returns: its returns evaluated with its parameters bound to them
    /// (when they line up plainly), else as for any caller.
    fn call_function(&self, cx: &Ctx, call: &Call, m: &ModuleRef, f: ScopeId, depth: u32) -> Value {
        let key = Arc::as_ptr(m) as usize;
        let framed = {
            let frames = self.frames.borrow();
            frames.len() < MAX_FRAMES && !frames.iter().any(|fr| fr.module == key && fr.scope == f)
        };
        let Some(args) = framed.then(|| bind_args(cx, call, m, f)).flatten() else {
            return self.returns(m, f, depth);
        };
        self.frames.borrow_mut().push(Frame { module: key, scope: f, args });
        let v = self.returns(m, f, depth);
        self.frames.borrow_mut().pop();
        v
    }

    /// What a function returns, when all its `return`s agree (a bare
    /// `return None` on an error path does not spoil a factory).
    fn returns(&self, m: &ModuleRef, f: ScopeId, depth: u32) -> Value {
        let mut rets = Vec::new();
        collect_returns(&m.scopes[f].body, &mut rets);
        let values = rets
            .into_iter()
            .map(|(value, span)| match value {
                Some(e) => self.eval(&Ctx { module: m.clone(), scope: f, pos: span.start }, e, depth),
                None => Value::None,
            })
            .filter(|v| !matches!(v, Value::None))
            .collect();
        match join(values) {
            // Code objects a factory hands out are followed; a class or a
            // function returned is not (what calling it means is unknown).
            Value::Class(..) | Value::Function(..) | Value::Module { .. } => Value::Unknown,
            v => v,
        }
    }

    /// Was the object created at `origin` made by calling `path`?
    fn made_by(&self, origin: &Origin, path: &str, depth: u32) -> bool {
        let Some(module) = self.module_at(&origin.path) else { return false };
        module.calls().into_iter().any(|(scope, call)| {
            call.span.start == origin.offset && {
                let cx = Ctx { module: module.clone(), scope, pos: call.span.start };
                matches!(self.eval(&cx, &call.func, depth + 1).present(), Value::External(p) if p == path)
            }
        })
    }

    /// `args.<dest>` of an argparse (or optparse) parser: the default of the option that
    /// stores `dest` (overridden by `set_defaults`), which holds unless the
    /// option is given. A required option is whatever the user passes.
    pub fn option_default(&self, parser: &Origin, dest: &str, depth: u32) -> Value {
        let Some(module) = self.module_at(&parser.path) else { return Value::Unknown };
        let mut found: Option<(Value, String, usize, bool)> = None;
        let mut set_default: Option<(Value, usize, bool)> = None;
        for (scope, st) in module.statements() {
            let Stmt::Call { call: Expr::Call(call), span } = st else { continue };
            let Expr::Attr(recv, method, _) = &call.func else { continue };
            if method != "add_argument" && method != "add_option" && method != "set_defaults" {
                continue;
            }
            let cx = Ctx { module: module.clone(), scope, pos: span.start };
            if !matches!(self.eval(&cx, recv, depth + 1).present(), Value::Parser(o) if o == *parser) {
                continue;
            }
            if method == "set_defaults" {
                if let Some(e) = call.keyword(dest) {
                    let line = module.line_of(span.start);
                    set_default = Some((self.eval(&cx, e, depth + 1), line, found.is_some()));
                }
                continue;
            }
            // Two options with one `dest`: argparse keeps the first's default.
            if found.is_some() {
                continue;
            }
            let names = call.string_args();
            let Some(first) = names.first() else { continue };
            let positional = !first.starts_with('-');
            let own_dest = match call.keyword("dest") {
                Some(Expr::Str(Some(d), _)) => d.clone(),
                Some(_) => continue,
                None if positional => first.to_string(),
                None => {
                    let long = names.iter().find(|n| n.starts_with("--")).unwrap_or(first);
                    long.trim_start_matches('-').replace('-', "_")
                }
            };
            if own_dest != dest {
                continue;
            }
            let optional_positional =
                positional && matches!(call.keyword("nargs"), Some(Expr::Str(Some(n), _)) if n == "?" || n == "*");
            let required = (positional && !optional_positional)
                || call.keyword("required").is_some_and(|r| self.eval(&cx, r, depth + 1).truthy() != Some(false));
            let default = if required {
                Value::Unknown
            } else {
                // optparse leaves a flag without a default at None.
                let optparse = method == "add_option";
                match (call.keyword("default"), call.keyword("action")) {
                    (Some(e), _) => self.eval(&cx, e, depth + 1),
                    (None, _) if optparse => Value::None,
                    (None, Some(Expr::Str(Some(a), _))) if a == "store_true" => Value::Bool(false),
                    (None, Some(Expr::Str(Some(a), _))) if a == "store_false" => Value::Bool(true),
                    _ => Value::None,
                }
            };
            let explicit = call.keyword("default").is_some();
            found = Some((default, first.to_string(), module.line_of(span.start), explicit));
        }
        let Some((mut default, flag, mut line, explicit)) = found else { return Value::Unknown };
        // `set_defaults` wins when it comes after the option, or when the
        // option gives no default of its own.
        if let Some((v, at, after)) = set_default
            && (after || !explicit)
        {
            default = v;
            line = at;
        }
        if matches!(default, Value::Unknown) {
            return Value::Unknown;
        }
        Value::Env(Box::new(EnvValue {
            var: None,
            default: Some(default),
            via: Vec::new(),
            source: Source::Option { flag, path: module.path.clone(), line },
        }))
    }

    /// Every write of `key` into the configuration of the application
    /// created at `app`, in the module that created it and in `here`, in
    /// file order: (value, path, line). A load the code cannot see into
    /// (`from_envvar`, `from_pyfile`) is a write of an unknown value.
    /// Writes of the environment variable `var` in `here`'s module
    /// (`os.environ["FLASK_DEBUG"] = "1"`, `os.environ.setdefault(...)`,
    /// `os.environ.update(...)`), in file order, as (value, line): those of
    /// `here`'s scope before it, and, from a function, the module's own
    /// (they run on import). Other functions may never run.
    pub fn environ_writes(&self, here: &Ctx, var: &str) -> Vec<EnvWrite> {
        let module = &here.module;
        // Statements that always run where they stand (not in a branch).
        let mut plain: Vec<usize> =
            module.scopes.iter().flat_map(|s| s.body.iter().map(|st| st.span().start)).collect();
        plain.sort_unstable();
        let mut out = Vec::new();
        for (scope, st) in module.statements() {
            let before = scope == here.scope && st.span().start < here.pos;
            let on_import = scope == 0 && here.scope != 0;
            if !before && !on_import {
                continue;
            }
            let mut certain = plain.binary_search(&st.span().start).is_ok();
            let (environ, value) = match st {
                Stmt::Assign { targets, value: Some(v), .. } => match targets.as_slice() {
                    [Target::Subscript(e, Expr::Str(Some(k), _))] if k == var => (e, v),
                    _ => continue,
                },
                Stmt::Call { call: Expr::Call(call), .. } => {
                    let Expr::Attr(e, method, _) = &call.func else { continue };
                    let value = match method.as_str() {
                        // A value already set survives `setdefault`.
                        "setdefault" => match (call.positional(0), call.positional(1)) {
                            (Some(Expr::Str(Some(k), _)), Some(v)) if k == var => {
                                certain = false;
                                v
                            }
                            _ => continue,
                        },
                        "update" => match updated(call, var) {
                            Some(v) => v,
                            None => continue,
                        },
                        _ => continue,
                    };
                    (e.as_ref(), value)
                }
                _ => continue,
            };
            let cx = Ctx { module: module.clone(), scope, pos: st.span().start };
            if matches!(self.eval(&cx, environ, 0).present(), Value::External(p) if p == "os.environ") {
                out.push(EnvWrite {
                    value: self.eval(&cx, value, 0).present(),
                    line: module.line_of(st.span().start),
                    certain,
                });
            }
        }
        out
    }

    pub fn app_config_writes(&self, app: &Origin, here: &Ctx, key: &str) -> Vec<(Value, PathBuf, usize)> {
        // `app.config["X"] = app.config.get("X")` reads while it writes.
        let guard = (Arc::as_ptr(&here.module) as usize, usize::MAX - app.offset, format!("config:{key}"), 0);
        if !self.burn() || !self.active.borrow_mut().insert(guard.clone()) {
            return Vec::new();
        }
        let out = self.app_config_writes_inner(app, here, key);
        self.active.borrow_mut().remove(&guard);
        out
    }

    fn app_config_writes_inner(&self, app: &Origin, here: &Ctx, key: &str) -> Vec<(Value, PathBuf, usize)> {
        let here_module = &here.module;
        let mut modules = vec![here_module.clone()];
        if app.path != here_module.path
            && let Some(origin_module) = self.module_at(&app.path)
        {
            modules.insert(0, origin_module);
        }
        let mut out = Vec::new();
        for module in &modules {
            for (scope, st) in module.statements() {
                // What the same code does after the use has not happened yet.
                if same_module(module, here_module) && scope == here.scope && st.span().start > here.pos {
                    continue;
                }
                let Some((obj, write)) = config_write(st, key) else { continue };
                let cx = Ctx { module: module.clone(), scope, pos: st.span().start };
                let same = match self.eval(&cx, obj, 0).present() {
                    Value::App(_, o) => o == *app,
                    Value::Instance(m, c, _) if self.app_class_kind(&m, c, 0).is_some() => {
                        Origin { path: m.path.clone(), offset: m.scopes[c].span.start } == *app
                    }
                    _ => false,
                };
                if !same {
                    continue;
                }
                let line = module.line_of(st.span().start);
                let value = match write {
                    ConfigWrite::Value(e) => {
                        let step =
                            Step::Constant { name: format!("config[\"{key}\"]"), path: module.path.clone(), line };
                        self.eval(&cx, e, 0).via(step)
                    }
                    ConfigWrite::Object(e) => self.config_object_key(&cx, e, key),
                    ConfigWrite::Unknowable => Value::Unknown,
                };
                out.push((value, module.path.clone(), line));
            }
        }
        out
    }

    /// `app.config[key]` as it stands: the last write, if any.
    fn app_config_key(&self, app: &Origin, here: &Ctx, key: &str) -> Option<Value> {
        self.app_config_writes(app, here, key).pop().map(|(v, _, _)| v)
    }

    /// `key` of what `app.config.from_object(e)` loads: a class of the
    /// project (bases included), an instance, a module, or an import
    /// string naming one (`"config.DevConfig"`). `Unknown` otherwise.
    pub fn config_object_key(&self, cx: &Ctx, e: &Expr, key: &str) -> Value {
        let found = match self.eval(cx, e, 0).present() {
            // An import string, written there or held in a name.
            Value::Str(s) => self.import_string(&cx.module, &s.value, key),
            // One a parameter defaults to (`def create_app(config_class=
            // "config.Config")`) or the environment gives.
            v @ (Value::Env(_) | Value::Choice(_)) if holds_str(&v) => Some(map_known(v, &|o| match o {
                Value::Str(s) => self.import_string(&cx.module, &s.value, key).filter(|v| !matches!(v, Value::Absent)),
                _ => None,
            })),
            // An object: read `e.KEY` as the code would there, so that
            // `config.HOST = ...` before `from_object(config)` counts and a
            // choice of objects is read from each.
            _ => Some(self.eval(cx, &Expr::Attr(Box::new(e.clone()), key.to_string(), e.span()), 0)),
        };
        match found {
            Some(Value::Absent) | None => Value::Unknown,
            Some(v) => v,
        }
    }

    /// `key` of the object an import string (`"pkg.config.Dev"`, or a
    /// module `"pkg.settings"`) names, resolved from `importer`.
    fn import_string(&self, importer: &ModuleRef, path: &str, key: &str) -> Option<Value> {
        if let Some(module) = self.load(importer, 0, path) {
            return Some(self.module_attr(&module, key, 0));
        }
        let (module, name) = path.rsplit_once('.')?;
        let module = self.load(importer, 0, module)?;
        match self.module_attr(&module, name, 0) {
            Value::Class(m, c) => self.class_attr(&m, c, key, 0),
            _ => None,
        }
    }

    /// The value under `key` in a dict passed with `**`.
    pub fn dict_get(&self, dict: &DictValue, key: &str, depth: u32) -> Option<(Value, Span)> {
        match self.dict_lookup(dict, key, depth) {
            Lookup::Found(v, span) => Some((v, span)),
            _ => None,
        }
    }

    /// `key` in a dict: its value, known to be absent, or unknowable.
    pub fn dict_lookup(&self, dict: &DictValue, key: &str, depth: u32) -> Lookup {
        if depth > MAX_DEPTH {
            return Lookup::Unknown;
        }
        let cx = Ctx { module: dict.module.clone(), scope: dict.scope, pos: dict.pos };
        // Later keys win, as in Python.
        for item in dict.items.iter().rev() {
            match item {
                DictItem::Pair(k, v) => match self.str_of(&cx, k, depth) {
                    Some(k) if k == key => {
                        // The line that sets the key (a literal's, or a later
                        // `opts["host"] = ...`).
                        let line = dict.module.line_of(v.span().start);
                        let step = Step::DictKey { key: key.to_string(), path: dict.module.path.clone(), line };
                        return Lookup::Found(self.eval(&cx, v, depth).via(step), v.span());
                    }
                    Some(_) => {}
                    None => return Lookup::Unknown,
                },
                // `{**base, ...}`: the key may come from there.
                DictItem::Splat(e) => match self.eval(&cx, e, depth + 1) {
                    Value::Dict(inner) => match self.dict_lookup(&inner, key, depth + 1) {
                        Lookup::Absent => {}
                        found => return found,
                    },
                    // `vars(args)`: the parser's options.
                    Value::Parsed(o) => {
                        return match self.option_default(&o, key, depth + 1) {
                            Value::Unknown => Lookup::Unknown,
                            v => Lookup::Found(v, e.span()),
                        };
                    }
                    _ => return Lookup::Unknown,
                },
            }
        }
        Lookup::Absent
    }
}

// ----- helpers ---------------------------------------------------------------

/// The dotted paths of application classes outside the repository.
pub fn app_class(path: &str) -> Option<AppKind> {
    use crate::frameworks::{CONNEXION_APPS, DASH_APPS, FLASK_APPS};
    [(FLASK_APPS, AppKind::Flask), (DASH_APPS, AppKind::Dash), (CONNEXION_APPS, AppKind::Connexion)]
        .into_iter()
        .find(|(paths, _)| paths.contains(&path))
        .map(|(_, kind)| kind)
}

/// A key looked up in a dict.
pub enum Lookup {
    Found(Value, Span),
    Absent,
    Unknown,
}

/// How a statement writes a configuration key.
enum ConfigWrite<'m> {
    Value(&'m Expr),
    /// `from_object(o)`: the key is `o.KEY`.
    Object(&'m Expr),
    /// `from_envvar`, `from_pyfile`, `from_file`, `from_prefixed_env`.
    Unknowable,
}

/// `X.config[key] = v`, `X.config.update(key=v)`, `X.config.update({key:
/// v})`, `X.config.from_mapping(...)`, `X.config.from_object(o)`, a load
/// from a file, and for `DEBUG` also `X.debug = v`: returns `(X, write)`.
fn config_write<'m>(st: &'m Stmt, key: &str) -> Option<(&'m Expr, ConfigWrite<'m>)> {
    match st {
        Stmt::Assign { targets, value: Some(v), .. } => targets.iter().find_map(|t| match t {
            Target::Attr(obj, a) if a == "debug" && key == "DEBUG" => Some((obj, ConfigWrite::Value(v))),
            Target::Subscript(Expr::Attr(obj, c, _), Expr::Str(Some(k), _)) if c == "config" && k == key => {
                Some((obj.as_ref(), ConfigWrite::Value(v)))
            }
            _ => None,
        }),
        Stmt::Call { call: Expr::Call(call), .. } => {
            let Expr::Attr(cfg, method, _) = &call.func else { return None };
            let Expr::Attr(obj, c, _) = cfg.as_ref() else { return None };
            if c != "config" {
                return None;
            }
            match method.as_str() {
                "from_object" => {
                    call.positional(0).or_else(|| call.keyword("obj")).map(|o| (obj.as_ref(), ConfigWrite::Object(o)))
                }
                "from_envvar" | "from_pyfile" | "from_file" | "from_prefixed_env" => {
                    Some((obj.as_ref(), ConfigWrite::Unknowable))
                }
                "update" | "from_mapping" => updated(call, key).map(|v| (obj.as_ref(), ConfigWrite::Value(v))),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The arguments `call` passes to the parameters of `f`, when they line
/// up plainly (no `*`/`**` on either side; `self`/`cls` skipped for a
/// method called on an object); `None` otherwise.
fn bind_args(cx: &Ctx, call: &Call, m: &ModuleRef, f: ScopeId) -> Option<Vec<Option<(Ctx, Expr)>>> {
    let s = &m.scopes[f];
    if s.params.iter().any(|p| p.splat) {
        return None;
    }
    let parent = s.parent.unwrap_or(0);
    let method = m.scopes[parent].kind == ScopeKind::Class && !s.decorators.iter().any(|d| d == "staticmethod");
    if method && !matches!(call.func, Expr::Attr(..)) {
        return None;
    }
    let mut bound: Vec<Option<(Ctx, Expr)>> = vec![None; s.params.len()];
    let mut next = usize::from(method);
    for a in &call.args {
        match a {
            Arg::Pos(e) => {
                let p = s.params.get(next)?;
                if p.keyword_only {
                    return None;
                }
                bound[next] = Some((cx.clone(), e.clone()));
                next += 1;
            }
            Arg::Kw(k, e) => {
                let i = s.params.iter().position(|p| &p.name == k)?;
                bound[i] = Some((cx.clone(), e.clone()));
            }
            Arg::Star(_) | Arg::DoubleStar(_) => return None,
        }
    }
    Some(bound)
}

/// Does a value that may take several forms take a string in one?
fn holds_str(v: &Value) -> bool {
    match v {
        Value::Str(_) => true,
        Value::Env(e) => e.default.as_ref().is_some_and(holds_str),
        Value::Choice(items) => items.iter().any(holds_str),
        _ => false,
    }
}

/// `f` applied to a known value, or to the default of an environment
/// value (`os.getenv("X", "1") == "1"` is the variable's comparison, true
/// by default), or to each value a branch may give; unknown where `f` is.
fn map_known(v: Value, f: &dyn Fn(&Value) -> Option<Value>) -> Value {
    match v {
        Value::Env(mut e) => {
            // Without a default (`os.environ["X"]`) nothing is known.
            e.default =
                Some(map_known(e.default.take().unwrap_or(Value::Unknown), f)).filter(|d| !matches!(d, Value::Unknown));
            Value::Env(e)
        }
        Value::Choice(items) => {
            let items: Vec<Value> = items.into_iter().map(|v| map_known(v, f)).collect();
            if items.iter().all(|v| matches!(v, Value::Unknown)) { Value::Unknown } else { Value::Choice(items) }
        }
        v => f(&v).unwrap_or(Value::Unknown),
    }
}

/// What `str.<method>()` without arguments does, for the methods that keep
/// a host or a flag readable.
fn str_method(method: &str) -> Option<fn(&str) -> String> {
    Some(match method {
        "lower" | "casefold" => str::to_lowercase,
        "upper" => str::to_uppercase,
        "strip" => |s| s.trim().to_string(),
        "lstrip" => |s| s.trim_start().to_string(),
        "rstrip" => |s| s.trim_end().to_string(),
        _ => return None,
    })
}

/// The result of `l <op> r` when both sides are known plain values.
fn compare(l: &Value, op: CmpOp, r: &Value) -> Option<Value> {
    fn eq(a: &Value, b: &Value) -> Option<bool> {
        Some(match (a, b) {
            (Value::Str(a), Value::Str(b)) => a.value == b.value,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Bool(a), Value::Int(b)) | (Value::Int(b), Value::Bool(a)) => i128::from(*a) == *b,
            (Value::None, Value::None) => true,
            (Value::None, Value::Str(_) | Value::Int(_) | Value::Bool(_))
            | (Value::Str(_) | Value::Int(_) | Value::Bool(_), Value::None)
            | (Value::Str(_), Value::Int(_) | Value::Bool(_))
            | (Value::Int(_) | Value::Bool(_), Value::Str(_)) => false,
            _ => return None,
        })
    }
    fn member(a: &Value, b: &Value) -> Option<bool> {
        match b {
            Value::Tuple(items) => {
                let mut verdict = Some(false);
                for item in items {
                    match eq(a, item) {
                        Some(true) => return Some(true),
                        Some(false) => {}
                        None => verdict = None,
                    }
                }
                verdict
            }
            Value::Str(hay) => match a {
                Value::Str(needle) => Some(hay.value.contains(needle.value.as_str())),
                _ => None,
            },
            _ => None,
        }
    }
    let b = match op {
        CmpOp::Eq => eq(l, r)?,
        CmpOp::NotEq => !eq(l, r)?,
        CmpOp::In => member(l, r)?,
        CmpOp::NotIn => !member(l, r)?,
        // Identity is only known for the singletons (`1 is True` is false).
        CmpOp::Is | CmpOp::IsNot => {
            let same = match (l, r) {
                (Value::None, Value::None) => true,
                (Value::Bool(a), Value::Bool(b)) => a == b,
                (Value::None | Value::Bool(_), Value::None | Value::Bool(_) | Value::Int(_) | Value::Str(_))
                | (Value::Int(_) | Value::Str(_), Value::None | Value::Bool(_)) => false,
                _ => return None,
            };
            same == (op == CmpOp::Is)
        }
    };
    Some(Value::Bool(b))
}

/// The value `update(KEY=v)` or `update({"KEY": v})` gives `key` (the last
/// one written).
fn updated<'c>(call: &'c Call, key: &str) -> Option<&'c Expr> {
    call.keyword(key).or_else(|| match call.positional(0) {
        Some(Expr::Dict(items, _)) => items.iter().rev().find_map(|i| match i {
            DictItem::Pair(Expr::Str(Some(k), _), v) if k == key => Some(v),
            _ => None,
        }),
        _ => None,
    })
}

/// Does `e` use one of `names` as a value (not as the callee of a call)?
fn mentions(e: &Expr, names: &[&str], depth: usize) -> bool {
    if depth > 32 {
        return false;
    }
    let d = depth + 1;
    match e {
        Expr::Name(n, _) => names.contains(&n.as_str()),
        Expr::Attr(b, a, _) => names.contains(&a.as_str()) || mentions(b, names, d),
        Expr::Call(c) => c.args.iter().any(|a| match a {
            Arg::Pos(e) | Arg::Kw(_, e) | Arg::Star(e) | Arg::DoubleStar(e) => mentions(e, names, d),
        }),
        Expr::Tuple(items, _) => items.iter().any(|i| mentions(i, names, d)),
        Expr::Dict(items, _) => items.iter().any(|i| match i {
            DictItem::Pair(k, v) => mentions(k, names, d) || mentions(v, names, d),
            DictItem::Splat(v) => mentions(v, names, d),
        }),
        Expr::IfExp { body: a, orelse: b, .. } | Expr::BoolOp { left: a, right: b, .. } => {
            mentions(a, names, d) || mentions(b, names, d)
        }
        Expr::Starred(b, _) => mentions(b, names, d),
        _ => false,
    }
}

/// The parameter name click gives an option declared with `decls`: an
/// explicit name (no dashes), else the longest option name without its
/// dashes (`--bind-host` -> `bind_host`).
fn click_name(decls: &[&str]) -> Option<String> {
    if let Some(explicit) = decls.iter().find(|d| !d.starts_with('-')) {
        return Some(explicit.to_string());
    }
    // `--debug/--no-debug`: the name comes from the switch that turns it on.
    let names = decls.iter().filter_map(|d| d.split('/').next()).map(str::trim).filter(|n| n.starts_with('-'));
    let longest = names.max_by_key(|n| (n.starts_with("--"), n.len()))?;
    Some(longest.trim_start_matches('-').replace('-', "_").to_lowercase())
}

/// How many modules of callers in other modules are parsed for one
/// function's parameters.
const MAX_CALLER_MODULES: usize = 16;

/// Does `text` hold `word` as a whole identifier (`start`, not `restart`)?
fn names_word(text: &[u8], word: &[u8]) -> bool {
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    memchr::memmem::find_iter(text, word)
        .any(|at| (at == 0 || !ident(text[at - 1])) && text.get(at + word.len()).is_none_or(|&c| !ident(c)))
}

/// The same module: the same parse, or the same file parsed again (a
/// module with no finding is let go while other threads may still hold
/// values that point into it, and is loaded again when next asked for).
fn same_module(a: &ModuleRef, b: &ModuleRef) -> bool {
    Arc::ptr_eq(a, b) || a.path == b.path
}

/// The names module `cm` binds function `name` to by `from ... import name
/// as alias` (the module it comes from is checked by the call's callee).
fn import_aliases(cm: &Module, name: &str) -> Vec<String> {
    cm.statements()
        .into_iter()
        .filter_map(|(_, st)| match st {
            Stmt::Import { bindings, .. } => Some(bindings),
            _ => None,
        })
        .flatten()
        .filter(|(local, r)| r.name.as_deref() == Some(name) && local != name)
        .map(|(local, _)| local.clone())
        .collect()
}

/// Werkzeug's development server function ([`crate::frameworks::RUN_SIMPLE`]).
pub fn run_simple_path(path: &str) -> bool {
    crate::frameworks::RUN_SIMPLE.contains(&path)
}

/// Flask-Script's `Server` command ([`crate::frameworks::SCRIPT_SERVERS`]).
pub fn script_server_path(path: &str) -> bool {
    crate::frameworks::SCRIPT_SERVERS.contains(&path)
}

/// A call that hands a callable on to be called later, with the arguments
/// it will receive: a thread or process (`Thread(target=f, args=(...),
/// kwargs={...})`), an executor or event loop (`executor.submit(f, *args,
/// **kwargs)`, `asyncio.to_thread`, `loop.run_in_executor(None, f, ...)`,
/// `socketio.start_background_task`), or a command line made of a
/// function's parameters (`fire.Fire(f)`: each default holds unless its
/// option is given).
pub struct Handoff<'c> {
    pub callable: &'c Expr,
    /// As the callable receives them (`args=` as `*args`, `kwargs=` as
    /// `**kwargs`).
    pub args: Vec<Arg>,
    /// What handed it on (`Thread`, `submit`).
    pub via: String,
}

impl Evaluator<'_> {
    /// The callable `call` hands on, if it is such a call (see [`Handoff`]).
    pub fn handoff<'c>(&self, cx: &Ctx, call: &'c Call) -> Option<Handoff<'c>> {
        if let Value::External(path) = self.eval(cx, &call.func, 0).present() {
            let short = |p: &str| p.rsplit_once('.').map_or(p, |(_, n)| n).to_string();
            if thread_like(&path) {
                let (f, a, k) = match path.as_str() {
                    "threading.Timer" => (("function", 1), ("args", 2), ("kwargs", 3)),
                    "_thread.start_new_thread" | "thread.start_new_thread" => {
                        (("function", 0), ("args", 1), ("kwargs", 2))
                    }
                    _ => (("target", 1), ("args", 3), ("kwargs", 4)),
                };
                let param = |(name, pos): (&str, usize)| call.keyword(name).or_else(|| call.positional(pos));
                let mut args = Vec::new();
                if let Some(e) = param(a) {
                    args.push(Arg::Star(e.clone()));
                }
                if let Some(e) = param(k) {
                    args.push(Arg::DoubleStar(e.clone()));
                }
                return Some(Handoff { callable: param(f)?, args, via: short(&path) });
            }
            if path == "fire.Fire" {
                let callable = call.keyword("component").or_else(|| call.positional(0))?;
                return Some(Handoff { callable, args: Vec::new(), via: short(&path) });
            }
        }
        let name = match &call.func {
            Expr::Attr(_, a, _) => a.as_str(),
            Expr::Name(n, _) => n.as_str(),
            _ => return None,
        };
        let at = match name {
            "submit" | "spawn" | "spawn_later" | "to_thread" | "start_background_task" | "apply_async" => 0,
            "run_in_executor" => 1,
            _ => return None,
        };
        // A project class's own method of that name is not an executor's.
        if let Expr::Attr(recv, _, _) = &call.func
            && let Value::Instance(m, c, _) | Value::Class(m, c) = self.eval(cx, recv, 0).present()
            && self.defines(&m, c, name)
        {
            return None;
        }
        // The callable: by position, or by keyword (`target=`, `func=`).
        let mut positional = call.args.iter().enumerate().filter(|(_, a)| matches!(a, Arg::Pos(_)));
        let by_keyword = call.args.iter().enumerate().find(
            |(_, a)| matches!(a, Arg::Kw(k, _) if matches!(k.as_str(), "target" | "func" | "fn" | "function" | "callback")),
        );
        let (index, callable) = match positional.nth(at) {
            Some((i, Arg::Pos(f))) => (i, f),
            _ => match by_keyword {
                Some((i, Arg::Kw(_, f))) => (i, f),
                _ => return None,
            },
        };
        let args = if name == "apply_async" {
            // pool.apply_async(func, args=(), kwds={})
            let star = call.keyword("args").or_else(|| call.positional(1)).map(|e| Arg::Star(e.clone()));
            let splat = call.keyword("kwds").or_else(|| call.positional(2)).map(|e| Arg::DoubleStar(e.clone()));
            star.into_iter().chain(splat).collect()
        } else {
            // Everything after the callable, and every keyword but its own.
            call.args
                .iter()
                .enumerate()
                .filter(|(i, a)| *i != index && (*i > index || matches!(a, Arg::Kw(..) | Arg::DoubleStar(_))))
                .map(|(_, a)| a.clone())
                .collect()
        };
        Some(Handoff { callable, args, via: name.to_string() })
    }
}

/// `args` with literal `*(...)` and `**{...}` spread into positional and
/// keyword arguments, as a call receives them; `None` when one is not a
/// literal (what it holds is not known).
pub fn spread(args: &[Arg]) -> Option<Vec<Arg>> {
    let mut out = Vec::new();
    for a in args {
        match a {
            Arg::Star(Expr::Tuple(items, _)) => {
                for item in items {
                    if matches!(item, Expr::Starred(..)) {
                        return None;
                    }
                    out.push(Arg::Pos(item.clone()));
                }
            }
            Arg::DoubleStar(Expr::Dict(items, _)) => {
                for item in items {
                    match item {
                        DictItem::Pair(Expr::Str(Some(key), _), value) => out.push(Arg::Kw(key.clone(), value.clone())),
                        _ => return None,
                    }
                }
            }
            Arg::Star(_) | Arg::DoubleStar(_) => return None,
            other => out.push(other.clone()),
        }
    }
    Some(out)
}

/// Constructors that run a callable later with the arguments given
/// (`threading.Thread(target=f, args=..., kwargs=...)`...).
/// optparse's parser: options as argparse's, `parse_args()` a pair.
const OPTPARSE: &str = "optparse.OptionParser";

pub fn thread_like(path: &str) -> bool {
    matches!(
        path,
        "threading.Thread"
            | "threading.Timer"
            | "multiprocessing.Process"
            | "multiprocessing.context.Process"
            | "_thread.start_new_thread"
            | "thread.start_new_thread"
    )
}

fn server(kind: ServerKind, app: Option<Origin>) -> Value {
    Value::Server(Box::new(ServerValue { kind, app, bound: Vec::new() }))
}

fn is_server_method(attr: &str) -> bool {
    matches!(attr, "run" | "run_server")
}

/// `<app>.<attr>` when it starts the development server.
fn server_method(kind: AppKind, attr: &str, origin: Origin) -> Option<Value> {
    match (kind, attr) {
        (AppKind::Flask, "run") => Some(server(ServerKind::FlaskRun, Some(origin))),
        (AppKind::Dash, "run" | "run_server") => Some(server(ServerKind::DashRun, Some(origin))),
        (AppKind::Connexion, "run") => Some(server(ServerKind::ConnexionRun, Some(origin))),
        _ => None,
    }
}

/// The application an instance of a project subclass stands for, seen from
/// inside the class (`self`, `super()`).
fn class_origin(m: &Module, class: ScopeId) -> Origin {
    Origin { path: m.path.clone(), offset: m.scopes[class].span.start }
}

fn socketio_class(path: &str) -> bool {
    crate::frameworks::SOCKETIO.contains(&path)
}

fn env_function(path: &str) -> bool {
    matches!(path, "os.getenv" | "os.environ.get" | "os.environ.setdefault")
}

fn builtin(name: &str) -> Value {
    Value::External(format!("builtins.{name}"))
}

fn is_dotted(text: &str) -> bool {
    !text.is_empty() && text.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

fn dotted_expr(text: &str, span: Span) -> Expr {
    let mut parts = text.split('.');
    let mut e = Expr::Name(parts.next().unwrap_or_default().to_string(), span.clone());
    for p in parts {
        e = Expr::Attr(Box::new(e), p.to_string(), span.clone());
    }
    e
}

/// The part of `v` that `name` receives when `v` is assigned to `target`
/// (a tuple target, possibly nested, with at most one starred item).
fn unpack(v: Value, target: &Target, name: &str) -> Value {
    match target {
        Target::Name(n) if n == name => v,
        Target::Attr(..) if target.binds(name) => v,
        Target::Tuple(items) => {
            let Value::Tuple(values) = v.present() else { return Value::Unknown };
            let star = items.iter().position(|t| matches!(t, Target::Starred(_)));
            if star.map_or(values.len() != items.len(), |_| values.len() + 1 < items.len()) {
                return Value::Unknown;
            }
            let Some(i) = items.iter().position(|t| t.binds(name)) else { return Value::Unknown };
            let at = match star {
                // `*rest` is a list of what is left: not followed further.
                Some(s) if i == s => return Value::Unknown,
                Some(s) if i > s => values.len() - (items.len() - i),
                _ => i,
            };
            match values.into_iter().nth(at) {
                Some(item) => unpack(item, &items[i], name),
                None => Value::Unknown,
            }
        }
        _ => Value::Unknown,
    }
}

/// `a or b`.
fn or_value(left: Value, right: impl FnOnce() -> Value) -> Value {
    match left {
        Value::Env(mut env) => match env.default.as_ref().map(Value::truthy) {
            // Unset (or empty) variable: the right-hand side decides.
            None | Some(Some(false)) => {
                env.default = Some(right());
                Value::Env(env)
            }
            Some(Some(true)) => Value::Env(env),
            Some(None) => Value::Unknown,
        },
        other => match other.truthy() {
            Some(true) => other,
            Some(false) => right(),
            None => Value::Unknown,
        },
    }
}

fn rename_last_step(v: Value, class: &str) -> Value {
    let qualify = |via: &mut Vec<Step>| {
        if let Some(Step::Constant { name, .. }) = via.first_mut()
            && !name.contains('.')
        {
            *name = format!("{class}.{name}");
        }
    };
    match v {
        Value::Str(mut s) => {
            qualify(&mut s.via);
            Value::Str(s)
        }
        Value::Env(mut e) => {
            qualify(&mut e.via);
            Value::Env(e)
        }
        v => v,
    }
}

fn collect_bindings<'m>(stmts: &'m [Stmt], name: &str, chain: &mut Vec<(usize, usize)>, out: &mut Vec<Binding<'m>>) {
    collect_bindings_in(stmts, name, chain, None, out);
}

fn collect_bindings_in<'m>(
    stmts: &'m [Stmt],
    name: &str,
    chain: &mut Vec<(usize, usize)>,
    ends_in: Option<&Span>,
    out: &mut Vec<Binding<'m>>,
) {
    for st in stmts {
        let kind = match st {
            Stmt::Assign { targets, .. } => targets.iter().any(|t| t.binds(name)).then_some(BindingKind::Assign(st)),
            Stmt::Import { bindings, .. } => {
                bindings.iter().rev().find(|(n, _)| n == name).map(|(_, r)| BindingKind::Import(r))
            }
            // A star import binds public names (`_x` only through an
            // `__all__` that lists it, which is rare enough to leave out).
            Stmt::StarImport { level, module, .. } if !name.contains('.') && !name.starts_with('_') => {
                Some(BindingKind::Star { level: *level, module })
            }
            Stmt::Def { name: n, scope, .. } if n == name => Some(BindingKind::Def(*scope)),
            Stmt::Block { branches, always_runs, exhaustive, choice, span } => {
                let first = out.len();
                let mut every_branch_binds = *exhaustive && !branches.is_empty();
                for (i, (branch_span, body)) in branches.iter().enumerate() {
                    if !always_runs {
                        chain.push((span.start, i));
                    }
                    let start = out.len();
                    let ends = body.last().is_some_and(Stmt::ends_flow);
                    // Only an `if`/`match` branch is left at its end alone (a
                    // `try` body by any exception, a loop body by `break`).
                    let inner = if ends && *choice { Some(branch_span) } else { ends_in };
                    collect_bindings_in(body, name, chain, inner, out);
                    // Bound for sure within the branch (directly, or by a block
                    // in it all of whose branches bind), or the branch never
                    // falls through (`except: raise` too).
                    let depth = chain.len();
                    every_branch_binds &= (ends && (*choice || i > 0))
                        || out[start..]
                            .iter()
                            .any(|b| b.chain.len() == depth || (b.covers.is_some() && b.chain.len() == depth + 1));
                    if !always_runs {
                        chain.pop();
                    }
                }
                // Every branch of a block one of which always runs binds it:
                // whatever came before is replaced.
                if every_branch_binds && !always_runs && out.len() > first {
                    for b in &mut out[first..] {
                        b.covers = Some(span.start);
                    }
                }
                None
            }
            _ => None,
        };
        if let Some(kind) = kind {
            out.push(Binding {
                kind,
                span: st.span().clone(),
                chain: chain.clone(),
                covers: None,
                ends_in: ends_in.cloned(),
            });
        }
    }
}

/// The conditional blocks (and branches) that hold `pos`.
fn chain_at(stmts: &[Stmt], pos: usize, chain: &mut Vec<(usize, usize)>) {
    let Some(st) = stmts.iter().find(|s| s.span().contains(&pos)) else {
        return;
    };
    if let Stmt::Block { branches, always_runs, span, .. } = st
        && let Some((i, (_, body))) = branches.iter().enumerate().find(|(_, (sp, _))| sp.contains(&pos))
    {
        if !always_runs {
            chain.push((span.start, i));
        }
        chain_at(body, pos, chain);
    }
}

fn collect_returns<'m>(stmts: &'m [Stmt], out: &mut Vec<(Option<&'m Expr>, Span)>) {
    for st in stmts {
        match st {
            Stmt::Return { value, span } => out.push((value.as_ref(), span.clone())),
            Stmt::Block { branches, .. } => {
                for (_, body) in branches {
                    collect_returns(body, out);
                }
            }
            _ => {}
        }
    }
}

/// `this.attr = value` statements in a method body, each with whether it
/// always runs (not inside a branch or a loop).
fn collect_attr_assigns<'m>(
    stmts: &'m [Stmt],
    this: &str,
    attr: &str,
    always: bool,
    out: &mut Vec<(Option<&'m Expr>, Span, bool)>,
) {
    for st in stmts {
        match st {
            Stmt::Assign { targets, value, span, .. } => {
                let hit =
                    targets.iter().any(|t| matches!(t, Target::Attr(Expr::Name(n, _), a) if n == this && a == attr));
                if hit {
                    out.push((value.as_ref(), span.clone(), always));
                }
            }
            Stmt::Block { branches, always_runs, .. } => {
                for (_, body) in branches {
                    collect_attr_assigns(body, this, attr, always && *always_runs, out);
                }
            }
            _ => {}
        }
    }
}
