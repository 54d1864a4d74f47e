//! What the frameworks provide that the analysis knows: the dotted paths
//! of the application classes and the functions or classes that start a
//! development server. The analysis recognises exactly these; the
//! prefilter asks [`leads_to_one`] of what an import binds, so that a file
//! importing only other names of a framework (`from flask import request`,
//! `from werkzeug.exceptions import NotFound`) is no root of an app.

/// Flask and its subclasses that keep Flask's `run` (Eve's `Eve`).
pub const FLASK_APPS: &[&str] =
    &["flask.Flask", "flask.app.Flask", "apiflask.APIFlask", "flask_openapi3.OpenAPI", "eve.Eve", "eve.flaskapp.Eve"];

pub const DASH_APPS: &[&str] = &["dash.Dash", "dash.dash.Dash", "jupyter_dash.JupyterDash"];

/// Connexion 1/2's `App` and 3's `FlaskApp`, by every path they have had.
pub const CONNEXION_APPS: &[&str] = &[
    "connexion.App",
    "connexion.FlaskApp",
    "connexion.apps.flask_app.FlaskApp",
    "connexion.apps.flask.FlaskApp",
    "connexion.apps.FlaskApp",
];

/// Werkzeug's development server function, by every name it has had.
pub const RUN_SIMPLE: &[&str] = &["werkzeug.serving.run_simple", "werkzeug.run_simple"];

/// Flask-Script's `Server` command (`manager.add_command("runserver",
/// Server(host=...))`): it starts the development server with its host.
pub const SCRIPT_SERVERS: &[&str] = &["flask_script.Server", "flask_script.commands.Server", "flask.ext.script.Server"];

/// Flask-Script's `Manager(app)`: its `runserver` command serves the app.
pub const SCRIPT_MANAGERS: &[&str] = &["flask_script.Manager", "flask.ext.script.Manager"];

pub const SOCKETIO: &[&str] = &["flask_socketio.SocketIO"];

/// Every path above.
pub fn all() -> impl Iterator<Item = &'static str> {
    [FLASK_APPS, DASH_APPS, CONNEXION_APPS, RUN_SIMPLE, SCRIPT_SERVERS, SCRIPT_MANAGERS, SOCKETIO]
        .into_iter()
        .flatten()
        .copied()
}

/// Is `dotted` one of the paths above, or a module or class they are
/// under (`flask`, `werkzeug.serving`, `connexion.apps`)? What a name bound
/// to anything else holds cannot become an app or a server.
pub fn leads_to_one(dotted: &str) -> bool {
    all().any(|p| p.strip_prefix(dotted).is_some_and(|rest| rest.is_empty() || rest.starts_with('.')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_on_the_way_lead_to_one_and_other_names_do_not() {
        for dotted in
            ["flask", "flask.Flask", "flask.app", "werkzeug", "werkzeug.serving", "flask.ext.script", "connexion.apps"]
        {
            assert!(leads_to_one(dotted), "{dotted}");
        }
        for dotted in
            ["flask.request", "flask.Fla", "werkzeug.exceptions", "werkzeug.serving.make_server", "dash.html", "os"]
        {
            assert!(!leads_to_one(dotted), "{dotted}");
        }
    }
}
