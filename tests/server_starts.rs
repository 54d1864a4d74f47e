//! Every way the development server is started, end to end: each form is
//! audited as files on disk and committed through the installed hook in a
//! real repository, next to the look-alike that must pass. Then the peers'
//! suppressions (ruff's `# noqa: S104`, bandit's `# nosec`), their switch and
//! how they are reported.

use std::process::Command;

mod common;
use common::{BIN, Case, Repo, clean, project, text};

const CASES: &[Case] = &[
    Case {
        name: "run_simple, aliased, with the debugger",
        files: &[
            ("wsgi.py", "def application(environ, start_response):\n    return []\n"),
            (
                "serve.py",
                "from werkzeug.serving import run_simple as rs\nfrom wsgi import application\n\nrs(\"0.0.0.0\", 5000, application, use_debugger=True)\n",
            ),
        ],
        findings: &["serve.py:4:1: FBG002"],
        lookalike: &[(
            "serve.py",
            "def run_simple(hostname, port, app):\n    pass\n\n\nrun_simple(\"0.0.0.0\", 5000, None)\n",
        )],
    },
    Case {
        name: "werkzeug.serving module attribute, hostname keyword",
        files: &[(
            "serve.py",
            "from werkzeug import serving\nfrom flask import Flask\n\napp = Flask(__name__)\nserving.run_simple(hostname=\"::\", port=80, application=app)\n",
        )],
        findings: &["serve.py:5:1: FBG001"],
        lookalike: &[(
            "serve.py",
            "from werkzeug import serving\nfrom flask import Flask\n\napp = Flask(__name__)\nserving.run_simple(hostname=\"localhost\", port=80, application=app)\n",
        )],
    },
    Case {
        name: "keep-alive thread",
        files: &[(
            "keep_alive.py",
            "from threading import Thread\n\nfrom flask import Flask\n\napp = Flask(\"\")\n\n\ndef keep_alive():\n    t = Thread(target=app.run, kwargs={\"host\": \"0.0.0.0\", \"port\": 8080})\n    t.start()\n",
        )],
        findings: &["keep_alive.py:9:9: FBG001"],
        lookalike: &[(
            "keep_alive.py",
            "from threading import Thread\n\n\nclass Bot:\n    def run(self, host=None, port=None):\n        pass\n\n\nThread(target=Bot().run, kwargs={\"host\": \"0.0.0.0\"}).start()\n",
        )],
    },
    Case {
        name: "partial and a bound method in a variable",
        files: &[(
            "app.py",
            "import functools\n\nfrom flask import Flask\n\napp = Flask(__name__)\nserve = functools.partial(app.run, host=\"0.0.0.0\")\nstart = app.run\nserve()\nstart(\"0.0.0.0\", debug=True)\n",
        )],
        findings: &["app.py:8:1: FBG001", "app.py:9:1: FBG002"],
        lookalike: &[(
            "app.py",
            "import functools\n\nfrom flask import Flask\n\napp = Flask(__name__)\nserve = functools.partial(app.run, host=\"127.0.0.1\")\nserve()\n",
        )],
    },
    Case {
        name: "a Flask subclass that starts itself, and its instance elsewhere",
        files: &[
            (
                "web/server.py",
                "from flask import Flask as F\n\n\nclass Server(F):\n    def start(self):\n        self.run(host=\"0.0.0.0\")\n\n\nclass Api(Server):\n    def go(self):\n        super().run(\"::\")\n",
            ),
            ("main.py", "from web.server import Api\n\nApi(__name__).run(host=\"0.0.0.0\")\n"),
        ],
        findings: &["main.py:3:1: FBG001", "web/server.py:6:9: FBG001", "web/server.py:11:9: FBG001"],
        lookalike: &[(
            "web/server.py",
            "class Server:\n    def run(self, host=None):\n        pass\n\n    def start(self):\n        self.run(host=\"0.0.0.0\")\n",
        )],
    },
    Case {
        name: "a factory that returns the app and its SocketIO",
        files: &[
            (
                "app/__init__.py",
                "from flask import Flask\nfrom flask_socketio import SocketIO\n\n\ndef create_app():\n    app = Flask(__name__)\n    return app, SocketIO(app)\n",
            ),
            (
                "run.py",
                "from app import create_app\n\napp, socketio = create_app()\nsocketio.run(app, host=\"0.0.0.0\")\n",
            ),
        ],
        findings: &["run.py:4:1: FBG001"],
        lookalike: &[
            ("app/__init__.py", "def create_app():\n    return object(), object()\n"),
            (
                "run.py",
                "from app import create_app\n\napp, socketio = create_app()\nsocketio.run(app, host=\"0.0.0.0\")\n",
            ),
        ],
    },
    Case {
        name: "a star import of the project's module",
        files: &[
            ("core/app.py", "from flask import Flask\n\n__all__ = [\"app\"]\napp = Flask(__name__)\n"),
            ("run.py", "from core.app import *\n\napp.run(host=\"0.0.0.0\")\n"),
        ],
        findings: &["run.py:3:1: FBG001"],
        lookalike: &[
            ("core/app.py", "from flask import Flask\n\n__all__ = [\"db\"]\ndb = None\napp = Flask(__name__)\n"),
            ("run.py", "from core.app import *\n\napp.run(host=\"0.0.0.0\")\n"),
        ],
    },
    Case {
        name: "an optional import and an app bound through `global`",
        files: &[(
            "app.py",
            "try:\n    from flask import Flask\nexcept ImportError:\n    Flask = None\n\napp = None\n\n\ndef setup():\n    global app\n    app = Flask(__name__)\n\n\nsetup()\napp.run(host=\"0.0.0.0\")\n",
        )],
        findings: &["app.py:15:1: FBG001"],
        lookalike: &[(
            "app.py",
            "try:\n    from bottle import Bottle as Flask\nexcept ImportError:\n    Flask = None\n\napp = None\n\n\ndef setup():\n    global app\n    app = Flask(__name__)\n\n\nsetup()\napp.run(host=\"0.0.0.0\")\n",
        )],
    },
];

fn audit(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut cmd = clean(Command::new(BIN));
    cmd.current_dir(dir).args(args).output().unwrap()
}

#[test]
fn audit_reports_every_form_and_not_its_lookalike() {
    common::audit_cases(CASES);
}

#[test]
fn the_hook_blocks_every_form_and_passes_its_lookalike() {
    common::hook_cases(CASES);
}

#[test]
fn fix_rewrites_run_simple_and_thread_arguments() {
    let src = "from threading import Thread\n\nfrom flask import Flask\nfrom werkzeug.serving import run_simple\n\napp = Flask(__name__)\nrun_simple('0.0.0.0', 5000, app)\nThread(target=app.run, args=(\"::\", 8080)).start()\n";
    let dir = project(&[("serve.py", src)]);
    let out = audit(dir.path(), &["--diff", "serve.py"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("+run_simple('127.0.0.1', 5000, app)"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(dir.path().join("serve.py")).unwrap(), src, "--diff writes nothing");
    let out = audit(dir.path(), &["--fix", "--exit-zero-on-fix", "serve.py"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let fixed = std::fs::read_to_string(dir.path().join("serve.py")).unwrap();
    assert_eq!(fixed, src.replace("'0.0.0.0'", "'127.0.0.1'").replace("\"::\"", "\"::1\""));
    assert_eq!(audit(dir.path(), &["serve.py"]).status.code(), Some(0));
}

const PEERS: &str = "from flask import Flask\n\napp = Flask(__name__)\nHOST = \"0.0.0.0\"  # nosec B104\napp.run(host=\"0.0.0.0\")  # noqa: S104\napp.run(host=HOST, port=80)\n";

#[test]
fn peer_comments_silence_fbg001_and_say_so() {
    let dir = project(&[("app.py", PEERS)]);
    let out = audit(dir.path(), &["."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("2 findings suppressed by ruff/bandit comments (1 by # noqa: S104, 1 by # nosec B104)"),
        "{shown}"
    );
    // The flag, and the configuration key, report them again.
    let out = audit(dir.path(), &["--no-peer-suppressions", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("Found 2 findings"), "{}", text(&out));
    common::write(dir.path(), &[("pyproject.toml", "[tool.flask-bind-guard]\npeer-suppressions = false\n")]);
    let out = audit(dir.path(), &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn peer_comments_for_s104_alone_do_not_silence_the_debugger() {
    let src = "from flask import Flask\n\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\", debug=True)  # noqa: S104\napp.run(host=\"0.0.0.0\", debug=True)  # noqa: S104, S201\n";
    let dir = project(&[("app.py", src)]);
    let out = audit(dir.path(), &["."]);
    assert_eq!(out.status.code(), Some(1));
    let shown = text(&out);
    assert!(shown.contains("app.py:4:1: FBG002"), "{shown}");
    assert!(!shown.contains("app.py:5:1"), "{shown}");
    assert!(shown.contains("1 finding suppressed by # noqa: S104 and # noqa: S201"), "{shown}");
}

#[test]
fn the_blocking_line_names_the_code_that_blocks() {
    let r = Repo::new();
    r.install();
    r.write(
        "app.py",
        "from flask import Flask\n\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\", debug=True)  # noqa: FBG001\n",
    );
    r.ok(&["add", "-A"]);
    let out = r.commit(&[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("add `# noqa: FBG002` to the call"), "{}", text(&out));
    // Following that advice lets the commit through.
    r.write(
        "app.py",
        "from flask import Flask\n\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\", debug=True)  # noqa: FBG002\n",
    );
    r.ok(&["add", "-A"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn the_hook_honours_peer_comments_and_reports_them() {
    let r = Repo::new();
    r.install();
    r.write("app.py", PEERS);
    r.ok(&["add", "-A"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 findings suppressed"), "{}", text(&out));
}

#[test]
fn show_suppressed_marks_them_in_json_and_sarif() {
    let dir = project(&[("app.py", PEERS)]);
    let out = audit(dir.path(), &["--format", "json", "."]);
    let plain: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plain.as_array().unwrap().len(), 0, "hidden without --show-suppressed");
    let out = audit(dir.path(), &["--format", "json", "--show-suppressed", "."]);
    assert_eq!(out.status.code(), Some(0), "suppressed findings do not fail the run");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<(u64, String)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["suppressed"]["comment"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(kinds, vec![(5, "# noqa: S104".to_string()), (6, "# nosec B104".to_string())]);

    let out = audit(dir.path(), &["--format", "sarif", "--show-suppressed", "."]);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["suppressions"][0]["kind"], "inSource", "{r}");
    }
}
