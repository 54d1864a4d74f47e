//! Helpers the end-to-end tests share.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_flask-bind-guard");

// ----- SARIF schema validation (tests that need jsonschema) --------------

/// A Python with `jsonschema`: the CI venv's, else the system's. A test
/// that cannot validate fails.
pub fn validator() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/python");
    let candidates = [venv, PathBuf::from("python3")];
    candidates
        .into_iter()
        .find(|py| Command::new(py).args(["-c", "import jsonschema"]).output().is_ok_and(|o| o.status.success()))
        .expect("no python3 with jsonschema: `pip install jsonschema`")
}

/// The schema violations of SARIF documents (files); empty when valid.
pub fn sarif_errors(python: &Path, files: &[PathBuf]) -> String {
    let script = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft7Validator(schema)
bad = 0
for path in sys.argv[2:]:
    for error in validator.iter_errors(json.load(open(path))):
        bad += 1
        print(f"{path}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
sys.exit(1 if bad else 0)
"#;
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/sarif-schema-2.1.0.json");
    let out = Command::new(python).arg("-c").arg(script).arg(schema).args(files).output().unwrap();
    let errors = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.success(), errors.is_empty(), "{errors}");
    errors
}

/// Write `files` (relative path, bytes) under `root`, making directories.
pub fn write_bytes(root: &Path, files: &[(&str, &[u8])]) {
    for (name, body) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
}

/// The same with text.
pub fn write(root: &Path, files: &[(&str, &str)]) {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_bytes())).collect();
    write_bytes(root, &files);
}

/// A project in a temporary directory: a `.git` directory marks its root.
pub fn project_bytes(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write_bytes(dir.path(), files);
    dir
}

/// The same with text.
pub fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_bytes())).collect();
    project_bytes(&files)
}

// ----- real git repositories ---------------------------------------------

pub const BAD: &str = "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\")\n";
pub const GOOD: &str = "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"127.0.0.1\")\n";

pub struct Repo {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
}

/// A command with no git environment leaking in from outside (these tests
/// may themselves run inside a git hook).
pub fn clean(mut cmd: Command) -> Command {
    for var in ["GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_PREFIX", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY"] {
        cmd.env_remove(var);
    }
    cmd.env_remove("PRE_COMMIT_FROM_REF").env_remove("PRE_COMMIT_TO_REF").env("NO_COLOR", "1");
    cmd
}

impl Repo {
    pub fn new() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        std::fs::create_dir(&root).unwrap();
        let repo = Repo { _tmp: tmp, root };
        repo.ok(&["init", "-q", "-b", "main"]);
        repo.ok(&["config", "user.email", "dev@example.com"]);
        repo.ok(&["config", "user.name", "Dev"]);
        repo.ok(&["config", "commit.gpgsign", "false"]);
        repo
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = clean(Command::new("git"));
        cmd.current_dir(dir).args(args).stdin(Stdio::null()).output().unwrap()
    }

    pub fn git(&self, args: &[&str]) -> Output {
        self.git_in(&self.root, args)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.git(args);
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn write(&self, path: &str, body: impl AsRef<[u8]>) {
        let p = self.root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    pub fn fbg_in(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = clean(Command::new(BIN));
        cmd.current_dir(dir).args(args).output().unwrap()
    }

    pub fn fbg(&self, args: &[&str]) -> Output {
        self.fbg_in(&self.root, args)
    }

    pub fn install(&self) {
        let out = self.fbg(&["install"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    /// Seed a commit without running hooks.
    pub fn seed(&self, files: &[(&str, &str)]) {
        for (p, b) in files {
            self.write(p, b);
        }
        self.ok(&["add", "-A"]);
        self.ok(&["commit", "-q", "--no-verify", "-m", "seed"]);
    }

    pub fn commit(&self, args: &[&str]) -> Output {
        let mut all = vec!["commit", "-m", "change"];
        all.extend_from_slice(args);
        self.git(&all)
    }

    pub fn head(&self) -> Option<String> {
        let out = self.git(&["rev-parse", "-q", "--verify", "HEAD"]);
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

pub fn blocked(out: &Output) -> bool {
    !out.status.success() && text(out).contains("block")
}

/// A project, the findings it must report (`path:line:col: CODE`), and
/// the look-alike beside it that must report nothing.
pub struct Case {
    pub name: &'static str,
    pub files: &'static [(&'static str, &'static str)],
    pub findings: &'static [&'static str],
    pub lookalike: &'static [(&'static str, &'static str)],
}

/// Audit each case's project (exit 1, exactly its findings) and the
/// project with its look-alike laid over it (exit 0).
pub fn audit_cases(cases: &[Case]) {
    let audit = |dir: &Path, args: &[&str]| {
        let mut cmd = clean(Command::new(BIN));
        cmd.current_dir(dir).args(args).output().unwrap()
    };
    for case in cases {
        let dir = project(case.files);
        let out = audit(dir.path(), &["."]);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(1), "{}: {shown}", case.name);
        for f in case.findings {
            assert!(shown.contains(f), "{}: missing {f} in\n{shown}", case.name);
        }
        let reported = shown.lines().filter(|l| l.contains(": FBG00")).count();
        assert_eq!(reported, case.findings.len(), "{}: {shown}", case.name);

        let dir = project(case.files);
        write(dir.path(), case.lookalike);
        let out = audit(dir.path(), &["."]);
        assert_eq!(out.status.code(), Some(0), "{} (look-alike): {}", case.name, text(&out));
    }
}

/// Commit each case's files through the installed hook (blocked, with its
/// findings) and, in another repository, with the look-alike (passes).
pub fn hook_cases(cases: &[Case]) {
    for case in cases {
        let r = Repo::new();
        r.install();
        for (path, body) in case.files {
            r.write(path, body);
        }
        r.ok(&["add", "-A"]);
        let out = r.commit(&[]);
        let shown = text(&out);
        assert!(!out.status.success(), "{}: committed\n{shown}", case.name);
        for f in case.findings {
            assert!(shown.contains(f), "{}: missing {f} in\n{shown}", case.name);
        }
        assert_eq!(r.head(), None, "{}", case.name);

        let r = Repo::new();
        r.install();
        for (path, body) in case.files {
            r.write(path, body);
        }
        write(&r.root, case.lookalike);
        r.ok(&["add", "-A"]);
        let out = r.commit(&[]);
        assert!(out.status.success(), "{} (look-alike): {}", case.name, text(&out));
    }
}
