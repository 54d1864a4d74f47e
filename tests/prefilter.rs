//! The byte prefilter must change how fast a scan is, never what it finds:
//! a prefiltered scan and a scan that parses every file must report the
//! same findings, on the fixtures and on generated projects whose apps
//! travel through chains of imports (absolute, relative, packages, star).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use flask_bind_guard::scan::{ScanOptions, scan_paths};

fn findings(dir: &Path, target: &str, prefilter: bool) -> (Vec<String>, usize) {
    let _cwd = CwdGuard::enter(dir);
    let outcome = scan_paths(&[PathBuf::from(target)], &ScanOptions { prefilter, ..ScanOptions::default() });
    let mut out: Vec<String> = outcome
        .reports
        .iter()
        .flat_map(|r| r.findings.iter())
        .map(|f| format!("{}:{}:{} {} {}", f.path.display(), f.start.line, f.start.column, f.rule.code(), f.message))
        .collect();
    out.sort();
    (out, outcome.parsed)
}

/// Tests in this file change the working directory; one at a time.
static CWD_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct CwdGuard {
    old: PathBuf,
    _lock: std::sync::MutexGuard<'static, ()>,
}

impl CwdGuard {
    fn enter(dir: &Path) -> Self {
        let lock = CWD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let old = std::env::current_dir().unwrap();
        std::env::set_current_dir(dir).unwrap();
        CwdGuard { old, _lock: lock }
    }
}

impl Drop for CwdGuard {
    fn drop(&mut self) {
        std::env::set_current_dir(&self.old).unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn assert_same(dir: &Path, target: &str) -> usize {
    let (fast, parsed_fast) = findings(dir, target, true);
    let (full, parsed_full) = findings(dir, target, false);
    assert_eq!(fast, full, "prefiltered scan of {target} differs from the full parse");
    assert!(parsed_fast <= parsed_full);
    fast.len()
}

#[test]
fn fixtures_whole_project_and_subdirectories() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join(".git")).unwrap();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"), tmp.path());
    // The whole project (every importer known: backward search) ...
    let all = assert_same(tmp.path(), ".");
    assert!(all > 80, "the fixtures hold many findings, got {all}");
    // ... and parts of it (forward search from the scanned files).
    for sub in ["multi", "multi/cross_relative/pkg", "multi/cross_chain/top.py", "literal_forms.py"] {
        assert_same(tmp.path(), sub);
    }
}

/// A tiny deterministic generator (no dependency needed for this).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A project of `n` modules in packages: some create Flask apps, the rest
/// pass them on through imports of random shapes; some call `.run` on what
/// they imported, on apps and on look-alikes. Helpers import nothing and
/// start what they are handed (`serve(app)`, `Holder(app).go()`).
fn generate(root: &Path, seed: u64, n: usize) {
    let mut rng = Rng(seed);
    std::fs::create_dir_all(root.join(".git")).unwrap();
    for pkg in ["p", "p/q"] {
        std::fs::create_dir_all(root.join(pkg)).unwrap();
        std::fs::write(root.join(pkg).join("__init__.py"), "").unwrap();
    }
    let place = |i: usize| match i % 3 {
        0 => (format!("m{i}.py"), format!("m{i}"), 0),
        1 => (format!("p/m{i}.py"), format!("p.m{i}"), 1),
        _ => (format!("p/q/m{i}.py"), format!("p.q.m{i}"), 2),
    };
    let mut helpers = Vec::new();
    for i in 0..n {
        let (file, _, depth) = place(i);
        let mut src = String::new();
        let kind = rng.below(7);
        if kind == 6 {
            helpers.push(i);
            src.push_str("def serve(app, host='0.0.0.0'):\n    app.run(host=host)\n");
            src.push_str("\nclass Holder:\n    def __init__(self, app):\n        self.app = app\n\n");
            src.push_str("    def go(self, host='::'):\n        self.app.run(host=host)\n");
            std::fs::write(root.join(file), src).unwrap();
            continue;
        }
        if kind == 0 && rng.below(4) == 0 {
            // The framework's module, handed on under another name.
            src.push_str(
                "import flask as web\n\napp = web.Flask(__name__)\n\ndef make():\n    return web.Flask('m')\n",
            );
        } else if kind == 0 {
            src.push_str("from flask import Flask\n\napp = Flask(__name__)\n\ndef make():\n    return Flask('m')\n");
            src.push_str("\nclass Web(Flask):\n    def serve(self):\n        super().run(host='0.0.0.0')\n");
        } else if i > 0 {
            let j = rng.below(i);
            let (_, dotted, jdepth) = place(j);
            // Pick an import form that reaches module j from this one.
            match rng.below(4) {
                0 => writeln!(src, "from {dotted} import app, make").unwrap(),
                1 => writeln!(src, "import {dotted} as dep\napp = dep.app\nmake = dep.make").unwrap(),
                2 if depth == jdepth && depth > 0 => writeln!(src, "from .m{j} import app, make").unwrap(),
                _ => writeln!(src, "from {dotted} import *").unwrap(),
            }
        } else {
            src.push_str("import subprocess\napp = subprocess\nmake = object\n");
        }
        // Other names of a framework: no root of an app on their own.
        if rng.below(4) == 0 {
            src.push_str("from flask import request, jsonify\nfrom werkzeug.exceptions import NotFound\n");
        }
        match rng.below(15) {
            0 => src.push_str("app.run(host='0.0.0.0')\n"),
            1 => src.push_str("make().run(host='::', debug=True)\n"),
            2 => src.push_str("import uvicorn\nuvicorn.run(app, host='0.0.0.0')\n"),
            3 => src.push_str("# app.run(host='0.0.0.0')\n"),
            // Starts that are not a `.run(...)` call of their own.
            4 => {
                src.push_str("import threading\nthreading.Thread(target=app.run, kwargs={'host': '0.0.0.0'}).start()\n")
            }
            5 => src.push_str("from functools import partial\nstart = partial(app.run, host='0.0.0.0')\nstart()\n"),
            6 => src.push_str("from werkzeug.serving import run_simple\nrun_simple('0.0.0.0', 5000, app)\n"),
            7 => src.push_str("class Server(type(app)):\n    def go(self):\n        self.run(host='0.0.0.0')\n"),
            // Literal arguments: settled from the bytes when none can bind
            // every interface, parsed otherwise.
            8 => src.push_str("app.run(host='127.0.0.1', port=5000, debug=True)\n"),
            9 => src.push_str("app.run(debug=True)\napp.run('0.0.0.0', 5000)\n"),
            10 => src.push_str("app.run(host='0' '.0.0.0')\n"),
            11 => src.push_str("app.run(\n    host=\"\"\"::\"\"\",\n    port=1,\n)\n"),
            12 => src.push_str("app.run(port=1)\nmake().run(host='\\x30.0.0.0', debug=True)\n"),
            13 => src.push_str("app.run(host='localhost')  # not '0.0.0.0'\napp.run(host=u'0')\n"),
            _ => {}
        }
        // Hand what this module holds to a helper (an app or a look-alike).
        if !helpers.is_empty() && i > 0 && rng.below(3) == 0 {
            let (_, dotted, _) = place(helpers[rng.below(helpers.len())]);
            match rng.below(3) {
                0 => writeln!(src, "from {dotted} import serve\nserve(app)").unwrap(),
                1 => writeln!(src, "import {dotted} as helper\nhelper.Holder(app).go()").unwrap(),
                _ => writeln!(src, "from {dotted} import Holder\nHolder(make()).go(host='127.0.0.1')").unwrap(),
            }
        }
        std::fs::write(root.join(file), src).unwrap();
    }
}

#[test]
fn generated_import_chains() {
    for seed in 1..=12u64 {
        let tmp = tempfile::tempdir().unwrap();
        generate(tmp.path(), seed * 7919, 60);
        let found = assert_same(tmp.path(), ".");
        assert_same(tmp.path(), "p");
        assert_same(tmp.path(), "p/q");
        assert!(found > 0, "seed {seed}: a generated project always has findings");
    }
}

/// Literal arguments settle a start from the bytes (the file is not
/// parsed), but a bare `run_simple(...)` may be a partial brought in by a
/// star import that holds the host: that file must still be parsed.
#[test]
fn settled_starts_are_not_parsed_but_star_imported_partials_are() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(root.join(name), text).unwrap();
    write(
        "tools.py",
        "from functools import partial\nfrom werkzeug import serving\nrun_simple = partial(serving.run_simple, '0.0.0.0')\n",
    );
    write(
        "main.py",
        "from tools import *\nfrom flask import Flask\napp = Flask(__name__)\nrun_simple(port=5000, application=app)\n",
    );
    write(
        "svc.py",
        "from flask import Flask\napp = Flask(__name__)\nif __name__ == '__main__':\n    app.run(host='127.0.0.1', port=5000, debug=True)\n",
    );
    assert_eq!(assert_same(root, "."), 1, "the star-imported partial binds 0.0.0.0");
    let (_, parsed) = findings(root, "svc.py", true);
    assert_eq!(parsed, 0, "a start with literal loopback arguments is settled without parsing");
    let (_, parsed) = findings(root, "svc.py", false);
    assert_eq!(parsed, 1);
}

/// Flask-Script's `Server` counts in files that import Flask-Script: both
/// scans agree on a re-export used through a module of the project.
#[test]
fn flask_script_server_is_judged_alike_with_and_without_the_prefilter() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(root.join(name), text).unwrap();
    write("commands.py", "from flask_script import Server, Manager\n");
    write(
        "manage.py",
        "from flask import Flask\nimport commands\napp = Flask(__name__)\nmanager = commands.Manager(app)\nmanager.add_command('runserver', commands.Server(host='0.0.0.0'))\n",
    );
    write("star.py", "from commands import *\nServer(host='0.0.0.0')\n");
    write(
        "direct.py",
        "from flask_script import Manager, Server\nmanager = Manager()\nmanager.add_command('runserver', Server(host='0.0.0.0'))\n",
    );
    assert_eq!(assert_same(root, "."), 1, "the file that imports Flask-Script");
}

#[cfg(unix)]
#[test]
fn modules_under_a_directory_whose_name_is_not_utf8_still_import_each_other() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("pkg/__init__.py"), "").unwrap();
    std::fs::write(dir.join("pkg/web.py"), "from flask import Flask\napp = Flask(__name__)\n").unwrap();
    std::fs::write(dir.join("pkg/run.py"), "from pkg.web import app\napp.run(host=\"0.0.0.0\")\n").unwrap();
    std::fs::write(dir.join("pkg/rel.py"), "from .web import app\napp.run(host=\"::\")\n").unwrap();
    std::fs::write(dir.join("top.py"), "from pkg import web\nweb.app.run(host=\"0.0.0.0\")\n").unwrap();
    let (with, _) = findings(tmp.path(), ".", true);
    let (without, _) = findings(tmp.path(), ".", false);
    assert_eq!(with.len(), 3, "{with:#?}");
    assert_eq!(with, without);
}

/// A module hands the app it makes to a helper whose module imports no
/// framework, however the module spells the import and the maker (line
/// continuations, blanks after a dot, `getattr`, a star import with a
/// tab): found prefiltered as unfiltered.
#[test]
fn apps_made_under_any_spelling_reach_the_helpers_they_are_handed_to() {
    let mains = [
        "from flask import \\\n    Flask\nfrom helper import start\nstart(Flask(__name__))\n",
        "import flask\nfrom helper import start\nstart(flask. Flask(__name__))\n",
        "import flask\nfrom helper import start\nstart(flask.\\\n    Flask(__name__))\n",
        "import flask\nfrom helper import start\nstart(getattr(flask, \"Flask\")(__name__))\n",
        "from flask import\t*\nfrom helper import start\nstart(Flask(__name__))\n",
        "import flask, \\\n    helper\nhelper.start(flask.Flask(__name__))\n",
        "import flask  # the Flask app is made below\nfrom helper import start\nstart(flask.Flask(__name__))\n",
    ];
    for main in mains {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join(".git")).unwrap();
        std::fs::write(tmp.path().join("helper.py"), "def start(app):\n    app.run(host=\"0.0.0.0\")\n").unwrap();
        std::fs::write(tmp.path().join("main.py"), main).unwrap();
        assert_eq!(assert_same(tmp.path(), "."), 1, "{main}");
    }
}

/// Only an import that may lead to an app or a server makes a module a root
/// of apps: one that imports other names of a framework (`request`, an
/// exception) hands on nothing that could start one, so a file that imports
/// it and calls `.run` on something else is not parsed. A module that
/// imports the framework itself may hand it on, under any name.
#[test]
fn only_imports_that_may_lead_to_an_app_make_candidates() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(root.join(name), text).unwrap();
    write(
        "views.py",
        "from flask import request, jsonify\nfrom werkzeug.exceptions import NotFound\n\ndef index():\n    return jsonify(request.args)\n",
    );
    write("jobs.py", "import views\n\ndef go(client, image):\n    client.containers.run(image, command=views.index)\n");
    write("compat.py", "import flask as web\n");
    write("main.py", "from compat import web\napp = web.Flask(__name__)\napp.run(host='0.0.0.0')\n");
    assert_eq!(assert_same(root, "."), 1, "the app made through the re-exported module is found");
    let (_, parsed) = findings(root, ".", true);
    assert_eq!(parsed, 1, "only main.py is parsed: jobs.py reaches no import that may lead to an app");
}

/// The byte scan of imports must not lose a root of apps where Python reads
/// an import it spells oddly: names parted by blanks or continued lines
/// around their dots, a continuation with the old Mac line end, beside an
/// import of other names of the framework (which alone makes no root).
#[test]
fn imports_spelt_oddly_still_make_roots() {
    let cases: [&[(&str, &str)]; 5] = [
        &[(
            "main.py",
            "from flask import request\nfrom flask . app import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0')\n",
        )],
        &[
            ("m.py", "from flask import request\nfrom flask. app import Flask\n"),
            ("main.py", "from m import Flask\nFlask(__name__).run(host='0.0.0.0')\n"),
        ],
        &[
            ("m.py", "from werkzeug import exceptions\nfrom werkzeug.\\\n    serving import *\n"),
            ("main.py", "from m import *\nrun_simple('0.0.0.0', 5000, None)\n"),
        ],
        &[("main.py", "from flask import request, \\\rFlask\rapp = Flask(__name__)\rapp.run(host='0.0.0.0')\r")],
        &[
            ("requirements.txt", "connexion==2.14.2\n"),
            (
                "factory.py",
                "import flask\nfrom connexion . apps.flask_app import FlaskApp\ndef make():\n    return FlaskApp(__name__)\n",
            ),
            ("main.py", "from factory import make\napp = make()\napp.run()\n"),
        ],
    ];
    for (n, files) in cases.iter().enumerate() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(".git")).unwrap();
        for (name, text) in files.iter() {
            std::fs::write(tmp.path().join(name), text).unwrap();
        }
        assert_eq!(assert_same(tmp.path(), "."), 1, "case {n}: one finding with and without the prefilter");
    }
}
