//! The check itself: which calls start Werkzeug's development server on
//! every interface, and is the debugger on?
//!
//! A start is a call of a server callable (`app.run`, `socketio.run`,
//! `run_simple`, a partial of one, a bound method kept in a variable), or a
//! call that hands one on to run later (`threading.Thread(target=app.run,
//! kwargs=...)`, `executor.submit(app.run, ...)`). Either way the
//! arguments are lined up as Python would pass them, and the server's own
//! parameters are read from them.

use std::sync::Arc;

use super::eval::{Ctx, Evaluator};
use super::suppress::suppression;
use super::value::*;
use crate::finding::{DebugSource, Finding, Origin as HostOrigin, Position};
use crate::project::Project;
use crate::python::*;
use crate::rules::Rule;

/// Every finding in `module`, in source order, with the suppression comment
/// that covers it, if any (callers report only the unsuppressed ones).
pub fn check_module(project: &Project, module: &ModuleRef) -> Vec<Finding> {
    if project.is_framework_file(&module.path) {
        return Vec::new();
    }
    let ev = Evaluator::new(project).with_root(module.clone());
    let mut out = Vec::new();
    for rc in &module.run_calls {
        ev.refuel();
        if let Some(mut f) = check_call(&ev, module, rc)
            && !project.analysis().is_safe_host(&f.host)
        {
            f.suppressed = suppression(project, module, &f);
            out.push(f);
        }
    }
    out
}

/// The parameters of one server entry point.
struct Signature {
    /// `host` (`hostname` for run_simple) and its position.
    host: (&'static str, usize),
    /// Arguments that turn the debugger on, first match wins.
    debugger: &'static [(&'static str, Option<usize>)],
    /// Where the application is passed (`socketio.run(app, ...)`).
    app: Option<(&'static str, usize)>,
    /// Does the app's own debug setting count (`app.debug = True`)?
    app_config: bool,
    /// Does `FLASK_DEBUG` in the environment override it (`Flask.run`)?
    env_debug: bool,
    /// What the message calls it.
    noun: &'static str,
}

fn signature(kind: ServerKind) -> Signature {
    match kind {
        // Flask.run(host, port, debug, load_dotenv, **options); options go
        // to run_simple, `use_debugger` among them.
        ServerKind::FlaskRun => Signature {
            host: ("host", 0),
            debugger: &[("use_debugger", None), ("debug", Some(2))],
            app: None,
            app_config: true,
            env_debug: true,
            noun: "Flask development server",
        },
        // Dash.run(host, port, proxy, debug, ...).
        ServerKind::DashRun => Signature {
            host: ("host", 0),
            debugger: &[("use_debugger", None), ("debug", Some(3))],
            app: None,
            app_config: true,
            env_debug: false,
            noun: "Flask development server",
        },
        // SocketIO.run(app, host, port, **kwargs).
        ServerKind::SocketIORun => Signature {
            host: ("host", 1),
            debugger: &[("use_debugger", None), ("debug", None)],
            app: Some(("app", 0)),
            app_config: true,
            env_debug: false,
            noun: "Flask development server",
        },
        // run_simple(hostname, port, application, use_reloader, use_debugger, ...).
        ServerKind::RunSimple => Signature {
            host: ("hostname", 0),
            debugger: &[("use_debugger", Some(4))],
            app: None,
            app_config: false,
            env_debug: false,
            noun: "Werkzeug development server (run_simple)",
        },
        // flask_script.Server(host, port, use_debugger, use_reloader, ...):
        // without `use_debugger` it follows the manager's app's debug.
        ServerKind::ScriptServer => Signature {
            host: ("host", 0),
            debugger: &[("use_debugger", Some(2))],
            app: None,
            app_config: true,
            env_debug: false,
            noun: "Flask development server (Flask-Script runserver)",
        },
        // Connexion 1/2: App.run(port, server, debug, host, **options)
        // calls `self.app.run(host, port=port, debug=debug, **options)`:
        // Flask's, with its arguments in another order.
        ServerKind::ConnexionRun => Signature {
            host: ("host", 3),
            noun: "Flask development server (Connexion)",
            ..signature(ServerKind::FlaskRun)
        },
    }
}

/// Does this Connexion `run` serve with something other than Flask's
/// development server? Connexion 3 serves with uvicorn: its code names it
/// (`uvicorn`, `AsyncApp`, the middleware) or passes the app's import string
/// first (`app.run("main:app")`, where 1/2 take a port). In 1/2 a `server`
/// other than `"flask"` (tornado, gevent) is not Werkzeug's either.
fn connexion_elsewhere(
    ev: &Evaluator,
    m: &ModuleRef,
    call_span: &Span,
    args: &[(Ctx, Arg)],
    app: Option<&Origin>,
) -> bool {
    // What the project's dependency files pin decides first.
    match ev.project().declared_major(&m.path, "connexion") {
        Some(major) if major >= 3 => return true,
        Some(_) => return connexion_other_server(ev, m, call_span, args, app),
        None => {}
    }
    if connexion3_marks(m) {
        return true;
    }
    if args.iter().any(|(_, a)| matches!(a, Arg::Kw(k, _) if k == "import_string")) {
        return true;
    }
    // A string (an f-string too) where 1/2 take the port.
    if let Some((_, Arg::Pos(Expr::Str(..)))) = args.iter().find(|(_, a)| matches!(a, Arg::Pos(_))) {
        return true;
    }
    if let Some((Value::Str(_), _)) = argument(ev, m, call_span, args, "port", Some(0)) {
        return true;
    }
    connexion_other_server(ev, m, call_span, args, app)
}

/// The host a Connexion `run` without one binds, when it binds every
/// interface: 1/2 take `host or self.host or "0.0.0.0"`, so the app's own
/// `host=` if it was given one, else every interface. Said only where the
/// version is known to be below 3 (its dependency files, or what only 1/2
/// have): in 3, uvicorn's default is loopback.
fn connexion_default_host(ev: &Evaluator, m: &ModuleRef, app: Option<&Origin>) -> Option<String> {
    let (cx, call) = connexion_constructor(ev, m, app?)?;
    let assigns_attr = |name: &str| {
        [&cx.module, m].iter().any(|module| {
            module.statements().into_iter().any(|(_, st)| {
                matches!(st, Stmt::Assign { targets, .. }
                    if targets.iter().any(|t| matches!(t, Target::Attr(_, a) if a == name)))
            })
        })
    };
    // 1/2 only: the JSON encoder hook (`app.app.json_encoder = ...`, gone
    // from Flask 2.3 and Connexion 3) and the constructor's `options=`
    // (3 has `swagger_ui_options=`).
    let below_3 = match ev.project().declared_major(&m.path, "connexion") {
        Some(major) => major < 3,
        None => assigns_attr("json_encoder") || call.keyword("options").is_some(),
    };
    if !below_3 {
        return None;
    }
    // The constructor's `host=`, when the app was given one; a `**` there,
    // or a `.host` set on an object, may give it one this cannot see.
    if call.args.iter().any(|a| matches!(a, Arg::DoubleStar(_))) || assigns_attr("host") {
        return None;
    }
    match call.keyword("host").map(|e| ev.eval(&cx, e, 0)) {
        // `host or self.host or "0.0.0.0"`: a false host is no host.
        None | Some(Value::None) => Some("0.0.0.0".to_string()),
        Some(Value::Str(s)) if s.value.is_empty() => Some("0.0.0.0".to_string()),
        Some(v) => binding_host(&v).map(|(host, _, _)| host),
    }
}

/// The `connexion.App(...)` call that created the app at `origin`, with
/// where it is evaluated.
fn connexion_constructor(ev: &Evaluator, m: &ModuleRef, origin: &Origin) -> Option<(Ctx, Call)> {
    // The module checked is the one whose offsets the origin holds (it may
    // be a re-parse the project has not seen: `--add-noqa` verifying).
    let module = if origin.path == m.path { m.clone() } else { ev.project().load(&origin.path).ok()? };
    // (In `connexion.App(...).run(...)` both calls start there: the inner.)
    let (scope, call) =
        module.calls().into_iter().filter(|(_, c)| c.span.start == origin.offset).min_by_key(|(_, c)| c.span.end)?;
    let call = call.clone();
    Some((Ctx { module: module.clone(), scope, pos: call.span.start }, call))
}

/// Does the module's code (not its comments) use what only Connexion 3 has:
/// uvicorn, `AsyncApp`, the middleware?
fn connexion3_marks(m: &ModuleRef) -> bool {
    let v3_name = |n: &str| matches!(n, "AsyncApp" | "ConnexionMiddleware" | "MiddlewarePosition");
    let imported = m.statements().into_iter().any(|(_, st)| match st {
        Stmt::Import { bindings, .. } => bindings.iter().any(|(_, r)| {
            r.level == 0
                && (r.module.split('.').next() == Some("uvicorn")
                    || r.module.starts_with("connexion.middleware")
                    || (r.module.starts_with("connexion") && r.name.as_deref().is_some_and(v3_name)))
        }),
        _ => false,
    });
    imported || m.calls().into_iter().any(|(_, c)| matches!(&c.func, Expr::Attr(_, a, _) if v3_name(a)))
}

/// Connexion 1/2 with `server="tornado"` / `"gevent"`, at the call or
/// given to the app when it was created.
fn connexion_other_server(
    ev: &Evaluator,
    m: &ModuleRef,
    call_span: &Span,
    args: &[(Ctx, Arg)],
    app: Option<&Origin>,
) -> bool {
    let other = |v: &Value| matches!(v, Value::Str(s) if s.value != "flask");
    match argument(ev, m, call_span, args, "server", Some(1)) {
        Some((v, _)) => other(&v),
        None => app
            .and_then(|o| connexion_constructor(ev, m, o))
            .and_then(|(cx, call)| call.keyword("server").map(|e| ev.eval(&cx, e, 0)))
            .is_some_and(|v| other(&v)),
    }
}

/// A server start: the server, the arguments it receives (each with where
/// it was written), and what started it when it was not called directly.
struct Start {
    server: ServerValue,
    /// The callee is this server on some paths only.
    shared: bool,
    args: Vec<(Ctx, Arg)>,
    via: Option<String>,
}

/// Does this call start a server, and with which arguments?
fn server_start(ev: &Evaluator, cx: &Ctx, call: &Call) -> Option<Start> {
    let here = |args: &[Arg]| args.iter().map(|a| (cx.clone(), a.clone())).collect::<Vec<_>>();
    let callee = ev.eval(cx, &call.func, 0).present();
    // Called directly (or through a partial or a variable, which a branch
    // may have bound to the server: `server = app.run if dev else ...`).
    if let Some((sv, shared)) = server_of(&callee) {
        let via = (!sv.bound.is_empty()).then(|| "functools.partial".to_string());
        let mut args = sv.bound.clone();
        args.extend(here(&call.args));
        return Some(Start { server: sv, args, via, shared });
    }
    // Handed on to be called later (a thread, an executor).
    let handoff = ev.handoff(cx, call)?;
    let (server, shared) = server_of(&ev.eval(cx, handoff.callable, 0).present())?;
    let mut args = server.bound.clone();
    args.extend(here(&handoff.args));
    Some(Start { server, args, via: Some(handoff.via), shared })
}

/// The server a callable value starts: the value itself, or, when branches
/// bound different callables to it, the server among them (on the path
/// that takes it, the call starts the development server), with whether
/// it is such a shared callable.
fn server_of(v: &Value) -> Option<(ServerValue, bool)> {
    match v {
        Value::Server(sv) => Some(((**sv).clone(), false)),
        Value::Optional(v) => server_of(v),
        Value::Choice(items) => items.iter().find_map(server_of).map(|(sv, _)| (sv, true)),
        _ => None,
    }
}

fn check_call(ev: &Evaluator, m: &ModuleRef, rc: &RunCall) -> Option<Finding> {
    let cx = Ctx { module: m.clone(), scope: rc.scope, pos: rc.call.span.start };
    if !may_carry_host(ev, &cx, &rc.call) {
        return None;
    }
    let start = server_start(ev, &cx, &rc.call)?;
    let sig = signature(start.server.kind);
    let call_span = &rc.call.span;
    if start.server.kind == ServerKind::ConnexionRun
        && connexion_elsewhere(ev, m, call_span, &start.args, start.server.app.as_ref())
    {
        return None;
    }
    let app = match sig.app {
        Some((name, pos)) => argument(ev, m, call_span, &start.args, name, Some(pos)).and_then(|(v, _)| app_of(ev, v)),
        None if start.server.kind == ServerKind::ScriptServer => script_manager_app(ev, m),
        None => start.server.app.clone(),
    };
    let (name, pos) = sig.host;
    let connexion = start.server.kind == ServerKind::ConnexionRun;
    // Connexion takes `host or self.host or "0.0.0.0"`: no host, or a false
    // one, is its default (not when a `*` / `**` this cannot read may hold
    // one; the fix leaves a false host: it is no string to rewrite, and a
    // second `host=` cannot be added).
    let passed = argument(ev, m, call_span, &start.args, name, Some(pos));
    let defaulted = connexion
        && match &passed {
            Some((Value::None, _)) => true,
            Some((Value::Str(s), _)) => s.value.is_empty(),
            Some(_) => false,
            None => !start.args.iter().any(|(_, a)| matches!(a, Arg::Star(_) | Arg::DoubleStar(_))),
        };
    let (host, origin, literal, host_span) = match passed {
        _ if defaulted => {
            let host = connexion_default_host(ev, m, start.server.app.as_ref())?;
            let span = passed.map_or_else(|| call_span.clone(), |(_, span)| span);
            (host, HostOrigin::ServerDefault { server: "Connexion 1/2's `App.run`" }, None, span)
        }
        Some((host_value, host_span)) => {
            let (host, origin, literal) = binding_host(&host_value)?;
            (host, origin, literal, host_span)
        }
        None => return None,
    };
    let mut debugger = debugger(ev, m, rc.scope, call_span, &start.args, &sig, app.as_ref());
    // Connexion 1/2 pass the app's own `debug=` when the call gives none.
    if connexion && debugger.is_none() && argument(ev, m, call_span, &start.args, "debug", Some(2)).is_none() {
        debugger = start.server.app.as_ref().and_then(|o| connexion_constructor(ev, m, o)).and_then(|(cx, call)| {
            let e = call.keyword("debug")?;
            (ev.eval(&cx, e, 0).truthy() == Some(true)).then(|| DebugSource::Argument {
                name: "debug".to_string(),
                line: cx.module.line_of(e.span().start),
                default: None,
            })
        });
    }
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
        start: pos(call_span.start),
        end: pos(call_span.end),
        host_start: pos(host_span.start),
        host_end: pos(host_span.end),
        span: call_span.clone(),
        host_span,
        host,
        origin,
        debugger,
        literal,
        shared_call: start.shared,
        server: sig.noun,
        via: start.via,
        suppressed: None,
        message: String::new(),
        cause: None,
        notebook: m.source.notebook.clone(),
    };
    f.message = f.describe();
    Some(f)
}

/// Can one of the call's own arguments be a host that binds every
/// interface (or hold one)? Answered before the callee is looked at:
/// deciding what `x.run` is may mean following class hierarchies through
/// imports, and most `run` calls (a library's own `self.run(host, port)`)
/// pass nothing that binds. A call of a plain name may be a partial that
/// holds the host itself, so it always goes on.
fn may_carry_host(ev: &Evaluator, cx: &Ctx, call: &Call) -> bool {
    // A partial may hold the host itself: a plain name, a call
    // (`partial(...)()`), or an attribute bound to one in a class body.
    match &call.func {
        Expr::Name(..) | Expr::Call(_) => return true,
        Expr::Attr(_, a, _) if cx.module.starters.iter().any(|s| s == a) => return true,
        // Connexion 1/2's `App.run()` binds every interface without a host
        // (the app may come from another module of a project that pins it).
        Expr::Attr(_, a, _)
            if a == "run"
                && (cx.module.text().contains("connexion")
                    || ev.project().declared_major(&cx.module.path, "connexion").is_some_and(|v| v < 3)) =>
        {
            return true;
        }
        _ => {}
    }
    fn holds(v: &Value) -> bool {
        match v {
            Value::Str(s) => binds_all_interfaces(&s.value),
            Value::Env(e) => e.default.as_ref().is_some_and(holds),
            Value::Tuple(items) => items.iter().any(holds),
            Value::Optional(v) => holds(v),
            Value::Choice(items) => items.iter().any(holds),
            // Dicts, and callables handed to a thread, are looked into later.
            Value::Dict(_) | Value::Server(_) | Value::Parsed(_) => true,
            _ => false,
        }
    }
    call.args.iter().any(|a| match a {
        Arg::Pos(e) | Arg::Kw(_, e) | Arg::Star(e) | Arg::DoubleStar(e) => holds(&ev.eval(cx, e, 0)),
    })
}

/// The application of the Flask-Script `Manager(app)` of module `m`, when
/// it has exactly one (the `runserver` command serves it).
fn script_manager_app(ev: &Evaluator, m: &ModuleRef) -> Option<Origin> {
    let mut apps = m.calls().into_iter().filter_map(|(scope, call)| {
        let cx = Ctx { module: m.clone(), scope, pos: call.span.start };
        match ev.eval(&cx, &call.func, 0).present() {
            Value::External(p) if crate::frameworks::SCRIPT_MANAGERS.contains(&p.as_str()) => {
                call.keyword("app").or_else(|| call.positional(0)).map(|e| app_of(ev, ev.eval(&cx, e, 0)))
            }
            _ => None,
        }
    });
    let first = apps.next()??;
    apps.all(|a| a.as_ref() == Some(&first)).then_some(first)
}

/// What a debug value is the default of, if it is one.
fn default_of(v: &Value) -> Option<String> {
    match v {
        Value::Env(e) => Some(match &e.source {
            Source::Env => format!("${}", e.var.as_deref().unwrap_or("<variable>")),
            Source::Option { flag, .. } => format!("option {flag}"),
            Source::Param { name, .. } => format!("parameter {name}"),
            Source::Key { key, .. } => format!("key \"{key}\""),
        }),
        _ => None,
    }
}

/// The application a value stands for (`socketio.run(app)`).
fn app_of(ev: &Evaluator, v: Value) -> Option<Origin> {
    match v.present() {
        Value::App(_, o) => Some(o),
        Value::Instance(m, c, _) if ev.app_class_kind(&m, c, 0).is_some() => {
            Some(Origin { path: m.path.clone(), offset: m.scopes[c].span.start })
        }
        _ => None,
    }
}

/// The argument the server receives as `name` (or at position `pos`),
/// lined up as Python passes them: keywords and `**` dicts (later ones
/// win, as a call's keywords override a partial's), then positionals and
/// `*` tuples in order. The span is where to point in `m`: the argument
/// itself, or the whole call when it was written elsewhere.
fn argument(
    ev: &Evaluator,
    m: &ModuleRef,
    call: &Span,
    args: &[(Ctx, Arg)],
    name: &str,
    pos: Option<usize>,
) -> Option<(Value, Span)> {
    let shown = |cx: &Ctx, span: Span| if Arc::ptr_eq(&cx.module, m) { span } else { call.clone() };
    for (cx, a) in args.iter().rev() {
        if let Arg::Kw(k, e) = a
            && k == name
        {
            return Some((ev.eval(cx, e, 0), shown(cx, e.span())));
        }
    }
    if let Some(pos) = pos {
        let mut i = 0;
        for (cx, a) in args {
            match a {
                Arg::Pos(e) => {
                    if i == pos {
                        return Some((ev.eval(cx, e, 0), shown(cx, e.span())));
                    }
                    i += 1;
                }
                Arg::Star(e) => {
                    // `args=("0.0.0.0", 8080)`: each item is one argument.
                    let items = match e {
                        Expr::Tuple(items, _) if !items.iter().any(|x| matches!(x, Expr::Starred(..))) => {
                            items.iter().map(|x| (ev.eval(cx, x, 0), shown(cx, x.span()))).collect::<Vec<_>>()
                        }
                        _ => match ev.eval(cx, e, 0).present() {
                            Value::Tuple(values) => values.into_iter().map(|v| (v, shown(cx, e.span()))).collect(),
                            _ => break,
                        },
                    };
                    if pos < i + items.len() {
                        return items.into_iter().nth(pos - i);
                    }
                    i += items.len();
                }
                _ => {}
            }
        }
    }
    for (cx, a) in args.iter().rev() {
        let Arg::DoubleStar(e) = a else { continue };
        let mapping = match ev.eval(cx, e, 0).present() {
            // `def serve(opts={"host": ...})`: the default dict.
            Value::Env(env) => match env.default {
                Some(d @ Value::Dict(_)) => d,
                _ => Value::Unknown,
            },
            v => v,
        };
        match mapping {
            Value::Dict(d) => {
                if let Some((v, _)) = ev.dict_get(&d, name, 0) {
                    return Some((v, shown(cx, e.span())));
                }
            }
            // `**vars(args)`: every option of the parser.
            Value::Parsed(o) => match ev.option_default(&o, name, 0) {
                Value::Unknown => {}
                v => return Some((v, shown(cx, e.span()))),
            },
            _ => {}
        }
    }
    None
}

/// The host, how it was reached, and where its literal is, if the value
/// binds every interface.
fn binding_host(v: &Value) -> Option<(String, HostOrigin, Option<Loc>)> {
    match v {
        // On any path that reaches the call.
        Value::Optional(inner) => binding_host(inner),
        Value::Choice(items) => items.iter().find_map(binding_host),
        Value::Str(s) if binds_all_interfaces(&s.value) => {
            Some((s.value.clone(), origin_of(&s.via, None), Some(s.literal.clone())))
        }
        Value::Env(env) => match &env.default {
            // `default=os.getenv("HOST", "0.0.0.0")` in add_argument: the
            // option's default is the environment's.
            Some(inner @ Value::Env(_)) => binding_host(inner),
            Some(Value::Str(d)) if binds_all_interfaces(&d.value) => {
                let mut via = env.via.clone();
                via.extend(d.via.iter().cloned());
                let origin = match origin_of(&via, Some(env.var.clone())) {
                    HostOrigin::EnvDefault { constant, .. } if env.source != Source::Env => {
                        HostOrigin::Default { source: env.source.clone(), constant }
                    }
                    origin => origin,
                };
                Some((d.value.clone(), origin, Some(d.literal.clone())))
            }
            _ => None,
        },
        _ => None,
    }
}

fn origin_of(via: &[Step], env: Option<Option<String>>) -> HostOrigin {
    let first = via.first().map(|s| match s {
        Step::Constant { name, path, line } | Step::Passed { name, path, line } => (name.clone(), path.clone(), *line),
        Step::DictKey { key, path, line } => (format!("{{\"{key}\": ...}}"), path.clone(), *line),
    });
    match (env, first) {
        (Some(var), constant) => HostOrigin::EnvDefault { var, constant },
        (None, None) => HostOrigin::Literal,
        (None, Some((name, path, line))) => match &via[0] {
            Step::DictKey { key, .. } => HostOrigin::DictKey { key: key.clone(), path, line },
            Step::Constant { .. } => HostOrigin::Constant { name, path, line },
            Step::Passed { .. } => HostOrigin::Passed { name, path, line },
        },
    }
}

/// Is the Werkzeug debugger on for this start, and what says so?
fn debugger(
    ev: &Evaluator,
    m: &ModuleRef,
    scope: ScopeId,
    call: &Span,
    args: &[(Ctx, Arg)],
    sig: &Signature,
    app: Option<&Origin>,
) -> Option<DebugSource> {
    // `use_debugger` wins over `debug`, which wins over the app's setting.
    for &(name, pos) in sig.debugger {
        if let Some((v, span)) = argument(ev, m, call, args, name, pos) {
            return (v.truthy() == Some(true)).then(|| DebugSource::Argument {
                name: name.to_string(),
                line: m.line_of(span.start),
                default: default_of(&v),
            });
        }
    }
    if !sig.app_config {
        return None;
    }
    let at = Ctx { module: m.clone(), scope, pos: call.start };
    // `Flask.run` reads `FLASK_DEBUG` when it is set and lets it override
    // the app's setting: the last write before the call decides, when its
    // value is known ("0", "false", "no" and "" are off).
    // A write that turns it on counts wherever it is (some path runs the
    // debugger); one that turns it off only as the last, certain write.
    if sig.env_debug {
        let writes = ev.environ_writes(&at, "FLASK_DEBUG");
        fn flag(v: &Value) -> Option<bool> {
            match v {
                Value::Str(s) => Some(!matches!(s.value.to_ascii_lowercase().as_str(), "" | "0" | "false" | "no")),
                // `os.getenv("X", "1")`: what it is unless X is set.
                Value::Env(e) => e.default.as_ref().and_then(flag),
                _ => None,
            }
        }
        if let Some(w) = writes.iter().rev().find(|w| flag(&w.value) == Some(true)) {
            return Some(DebugSource::Environment { path: m.path.clone(), line: w.line });
        }
        if writes.last().is_some_and(|w| w.certain && flag(&w.value) == Some(false)) {
            return None;
        }
    }
    let app = app?;
    // `app.debug = True` and friends on the same app, in this file or the
    // one that created it; the last one in file order wins (a write the
    // code cannot know leaves the verdict as it was).
    let mut verdict = None;
    for (value, path, line) in ev.app_config_writes(app, &at, "DEBUG") {
        match value.truthy() {
            Some(true) => verdict = Some(DebugSource::AppConfig { path, line }),
            Some(false) => verdict = None,
            None => {}
        }
    }
    verdict
}
