//! The check itself: which `run` calls start a Flask development server on
//! every interface, and is the debugger on?

use super::eval::{Ctx, Evaluator};
use super::value::*;
use crate::finding::{DebugSource, Finding, Origin as HostOrigin, Position};
use crate::project::Project;
use crate::python::*;
use crate::rules::Rule;

/// Every finding in `module`, `# noqa` applied, in source order.
pub fn check_module(project: &Project, module: &ModuleRef) -> Vec<Finding> {
    let ev = Evaluator::new(project);
    let mut out = Vec::new();
    for rc in &module.run_calls {
        ev.refuel();
        if let Some(f) = check_call(&ev, module, rc)
            && !project.analysis().is_safe_host(&f.host)
        {
            let (first, last) = (module.line_of(f.span.start), module.line_of(f.span.end.saturating_sub(1)));
            let suppressed = (first..=last).any(|l| module.noqa_on(l).is_some_and(|q| q.suppresses(f.rule.code())));
            if !suppressed {
                out.push(f);
            }
        }
    }
    out
}

/// What a server call looks like for each kind of receiver.
struct Signature {
    /// Index of `host` among positional arguments.
    host_pos: usize,
    /// Index of `debug` among positional arguments, if it has one.
    debug_pos: Option<usize>,
}

fn check_call(ev: &Evaluator, m: &ModuleRef, rc: &RunCall) -> Option<Finding> {
    let Expr::Attr(receiver, _, _) = &rc.call.func else {
        return None;
    };
    let cx = Ctx { module: m.clone(), scope: rc.scope, pos: rc.call.span.start };
    let recv = ev.eval(&cx, receiver, 0);
    let (sig, app) = match (&recv, rc.method.as_str()) {
        // Flask.run(host, port, debug, load_dotenv, **options)
        (Value::App(AppKind::Flask, o), "run") => (Signature { host_pos: 0, debug_pos: Some(2) }, Some(o.clone())),
        // Dash.run(host, port, proxy, debug, ...); run_server is its old name.
        (Value::App(AppKind::Dash, o), "run" | "run_server") => {
            (Signature { host_pos: 0, debug_pos: Some(3) }, Some(o.clone()))
        }
        // SocketIO.run(app, host, port, **kwargs)
        (Value::SocketIO, "run") => {
            let app = rc.call.positional(0).or_else(|| rc.call.keyword("app"));
            let origin = match app.map(|e| ev.eval(&cx, e, 0)) {
                Some(Value::App(_, o)) => Some(o),
                _ => None,
            };
            (Signature { host_pos: 1, debug_pos: None }, origin)
        }
        _ => return None,
    };
    let (host_value, host_span) = argument(ev, &cx, &rc.call, "host", Some(sig.host_pos))?;
    let (host, origin, literal) = binding_host(&host_value)?;
    let debugger = debugger(ev, &cx, &rc.call, &sig, app.as_ref(), m);
    let rule = if debugger.is_some() { Rule::DebuggerAllInterfaces } else { Rule::AllInterfaces };
    let text = m.text();
    let pos = |offset: usize| {
        let (line, column) = m.lines.line_col(text, offset);
        Position { line, column }
    };
    let mut f = Finding {
        rule,
        severity: ev.project().analysis().severity_of(rule),
        path: m.path.clone(),
        start: pos(rc.call.span.start),
        end: pos(rc.call.span.end),
        host_start: pos(host_span.start),
        host_end: pos(host_span.end),
        span: rc.call.span.clone(),
        host_span,
        host,
        origin,
        debugger,
        literal,
        message: String::new(),
    };
    f.message = f.describe();
    Some(f)
}

/// An argument given by keyword, by position, or through `**dict`.
fn argument(ev: &Evaluator, cx: &Ctx, call: &Call, name: &str, pos: Option<usize>) -> Option<(Value, Span)> {
    if let Some(e) = call.keyword(name) {
        return Some((ev.eval(cx, e, 0), e.span()));
    }
    if let Some(e) = pos.and_then(|p| call.positional(p)) {
        return Some((ev.eval(cx, e, 0), e.span()));
    }
    for splat in call.double_stars() {
        if let Value::Dict(d) = ev.eval(cx, splat, 0)
            && let Some((v, _)) = ev.dict_get(&d, name, 0)
        {
            return Some((v, splat.span()));
        }
    }
    None
}

/// The host, how it was reached, and where its literal is, if the value
/// binds every interface.
fn binding_host(v: &Value) -> Option<(String, HostOrigin, Option<Loc>)> {
    match v {
        Value::Str(s) if binds_all_interfaces(&s.value) => {
            Some((s.value.clone(), origin_of(&s.via, None), Some(s.literal.clone())))
        }
        Value::Env(env) => match &env.default {
            Some(Value::Str(d)) if binds_all_interfaces(&d.value) => {
                let mut via = env.via.clone();
                via.extend(d.via.iter().cloned());
                Some((d.value.clone(), origin_of(&via, Some(env.var.clone())), Some(d.literal.clone())))
            }
            _ => None,
        },
        _ => None,
    }
}

fn origin_of(via: &[Step], env: Option<Option<String>>) -> HostOrigin {
    let first = via.first().map(|s| match s {
        Step::Constant { name, path, line } => (name.clone(), path.clone(), *line),
        Step::DictKey { key, path, line } => (format!("**{{\"{key}\": ...}}"), path.clone(), *line),
    });
    match (env, first) {
        (Some(var), constant) => HostOrigin::EnvDefault { var, constant },
        (None, None) => HostOrigin::Literal,
        (None, Some((name, path, line))) => match &via[0] {
            Step::DictKey { .. } => HostOrigin::DictKey { path, line },
            Step::Constant { .. } => HostOrigin::Constant { name, path, line },
        },
    }
}

/// Is the Werkzeug debugger on for this call, and what says so?
fn debugger(
    ev: &Evaluator,
    cx: &Ctx,
    call: &Call,
    sig: &Signature,
    app: Option<&Origin>,
    m: &ModuleRef,
) -> Option<DebugSource> {
    // `use_debugger` wins over `debug`, which wins over the app's setting.
    for (name, pos) in [("use_debugger", None), ("debug", sig.debug_pos)] {
        if let Some((v, span)) = argument(ev, cx, call, name, pos) {
            return (v.truthy() == Some(true))
                .then(|| DebugSource::Argument { name: name.to_string(), line: m.line_of(span.start) });
        }
    }
    let app = app?;
    // `app.debug = True` and friends on the same app, in this file or the
    // one that created it; the last one in file order wins.
    let mut modules = vec![m.clone()];
    if app.path != m.path
        && let Ok(origin_module) = ev.project().load(&app.path)
    {
        modules.insert(0, origin_module);
    }
    let mut verdict = None;
    for module in &modules {
        for (scope, st) in statements(module) {
            let Some((obj, value)) = debug_setting(st) else {
                continue;
            };
            let cx = Ctx { module: module.clone(), scope, pos: st.span().start };
            let Value::App(_, o) = ev.eval(&cx, obj, 0) else {
                continue;
            };
            if &o != app {
                continue;
            }
            match ev.eval(&cx, value, 0).truthy() {
                Some(true) => {
                    verdict = Some(DebugSource::AppConfig {
                        path: module.path.clone(),
                        line: module.line_of(st.span().start),
                    })
                }
                Some(false) => verdict = None,
                None => {}
            }
        }
    }
    verdict
}

/// Every statement of a module with the scope it runs in, in file order.
fn statements(m: &Module) -> Vec<(ScopeId, &Stmt)> {
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
    for (id, s) in m.scopes.iter().enumerate() {
        walk(&s.body, id, &mut out);
    }
    out.sort_by_key(|(_, st)| st.span().start);
    out
}

/// `X.debug = v`, `X.config["DEBUG"] = v`, `X.config.update(DEBUG=v)`,
/// `X.config.update({"DEBUG": v})`, `X.config.from_mapping(DEBUG=v)`:
/// returns `(X, v)`.
fn debug_setting(st: &Stmt) -> Option<(&Expr, &Expr)> {
    match st {
        Stmt::Assign { targets, value: Some(v), .. } => targets.iter().find_map(|t| match t {
            Target::Attr(obj, a) if a == "debug" => Some((obj, v)),
            Target::Subscript(Expr::Attr(obj, c, _), Expr::Str(Some(k), _)) if c == "config" && k == "DEBUG" => {
                Some((obj.as_ref(), v))
            }
            _ => None,
        }),
        Stmt::Call { call: Expr::Call(call), .. } => {
            let Expr::Attr(cfg, method, _) = &call.func else {
                return None;
            };
            let Expr::Attr(obj, c, _) = cfg.as_ref() else {
                return None;
            };
            if c != "config" || !matches!(method.as_str(), "update" | "from_mapping") {
                return None;
            }
            if let Some(v) = call.keyword("DEBUG") {
                return Some((obj, v));
            }
            match call.positional(0) {
                Some(Expr::Dict(items, _)) => items.iter().rev().find_map(|i| match i {
                    DictItem::Pair(Expr::Str(Some(k), _), v) if k == "DEBUG" => Some((obj.as_ref(), v)),
                    _ => None,
                }),
                _ => None,
            }
        }
        _ => None,
    }
}
