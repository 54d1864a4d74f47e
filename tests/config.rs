//! `[tool.flask-bind-guard]` in pyproject.toml, end to end: each key, the
//! precedence of flags, where the file is found, errors, and staged mode
//! reading the configuration from the index.

use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;
use common::{project, write};

const BIN: &str = env!("CARGO_BIN_EXE_flask-bind-guard");

fn clean(mut cmd: Command) -> Command {
    for var in ["GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF"] {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

fn fbg(dir: &Path, args: &[&str]) -> Output {
    clean(Command::new(BIN)).current_dir(dir).args(args).output().unwrap()
}

/// (path, line, rule, severity) of each finding.
fn findings(out: &Output) -> Vec<(String, u64, String, String)> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_string();
            (s("path"), f["line"].as_u64().unwrap(), s("rule"), s("severity"))
        })
        .collect()
}

fn paths(out: &Output) -> Vec<String> {
    findings(out).into_iter().map(|f| f.0).collect()
}

const BAD: &str = "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\")\n";
const BAD_ZERO: &str = "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0\")\n";

#[test]
fn exclude_globs_and_the_flag_that_replaces_them() {
    let p = project(&[
        ("app.py", BAD),
        ("legacy/old.py", BAD),
        ("pkg/migrations/m1.py", BAD),
        ("scripts/run_dev.py", BAD),
        (
            "pyproject.toml",
            "[tool.flask-bind-guard]\nexclude = [\"legacy/**\", \"migrations\", \"scripts/run_*.py\"]\n",
        ),
    ]);
    assert_eq!(paths(&fbg(p.path(), &["--format", "json", "."])), vec!["app.py"]);
    // A flag replaces the key.
    let out = fbg(p.path(), &["--format", "json", "--exclude", "legacy/**,app.py", "."]);
    assert_eq!(paths(&out), vec!["pkg/migrations/m1.py", "scripts/run_dev.py"]);
    // A file named on the command line is checked even when excluded.
    assert_eq!(paths(&fbg(p.path(), &["--format", "json", "legacy/old.py"])), vec!["legacy/old.py"]);
    // From a subdirectory, the globs stay relative to pyproject.toml.
    let out = fbg(&p.path().join("legacy"), &["--format", "json", "."]);
    assert_eq!(paths(&out), Vec::<String>::new());
}

#[test]
fn safe_hosts_match_every_spelling_of_the_address() {
    let p = project(&[
        ("a.py", BAD),
        ("b.py", BAD_ZERO),
        ("c.py", "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"::\")\n"),
        ("pyproject.toml", "[tool.flask-bind-guard]\nextend-safe-hosts = [\"0.0.0.0\"]\n"),
    ]);
    assert_eq!(paths(&fbg(p.path(), &["--format", "json", "."])), vec!["c.py"]);
    let out = fbg(p.path(), &["--format", "json", "--extend-safe-hosts", "::", "."]);
    assert_eq!(paths(&out), vec!["a.py", "b.py"], "the flag replaces the key");
}

#[test]
fn severity_from_the_file_and_from_flags() {
    let p = project(&[
        ("a.py", BAD),
        ("b.py", "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\", debug=True)\n"),
        ("pyproject.toml", "[tool.flask-bind-guard]\nseverity = { FBG001 = \"high\", FBG002 = \"high\" }\n"),
    ]);
    let sev = |out: &Output| findings(out).into_iter().map(|f| (f.2, f.3)).collect::<Vec<_>>();
    let pair = |a: &str, b: &str| vec![("FBG001".to_string(), a.to_string()), ("FBG002".to_string(), b.to_string())];
    assert_eq!(sev(&fbg(p.path(), &["--format", "json", "."])), pair("high", "high"));
    // Flags merge rule by rule over the file.
    let out = fbg(p.path(), &["--format", "json", "--severity", "fbg001=low", "."]);
    assert_eq!(sev(&out), pair("low", "high"));
    assert_eq!(sev(&fbg(p.path(), &["--format", "json", "--isolated", "."])), pair("medium", "critical"));
    let out = fbg(p.path(), &["--severity", "FBG001=urgent", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("urgent"));
}

#[test]
fn extra_app_factories_and_apps_across_modules() {
    let files = [
        ("core.py", "from company_web import make_app\napp = make_app()\n"),
        ("run.py", "from core import app\napp.run(host=\"0.0.0.0\")\n"),
        ("direct.py", "import company_web\ncompany_web.app.run(\"0.0.0.0\")\n"),
        ("other.py", "from other_lib import make_app\nmake_app().run(host=\"0.0.0.0\")\n"),
    ];
    let p = project(&files);
    assert_eq!(paths(&fbg(p.path(), &["--format", "json", "."])), Vec::<String>::new(), "unknown third parties");
    write(
        p.path(),
        &[(
            "pyproject.toml",
            "[tool.flask-bind-guard]\nextend-app-factories = [\"company_web.make_app\"]\nextend-apps = [\"company_web.app\"]\n",
        )],
    );
    for prefilter in [&[][..], &["--no-prefilter"][..]] {
        let mut args = vec!["--format", "json", "."];
        args.extend_from_slice(prefilter);
        assert_eq!(paths(&fbg(p.path(), &args)), vec!["direct.py", "run.py"], "{prefilter:?}");
    }
    let out = fbg(p.path(), &["--format", "json", "--extend-apps", "other_lib.nothing", "."]);
    assert_eq!(paths(&out), vec!["run.py"], "the flag replaced extend-apps only");
}

#[test]
fn errors_name_the_key_and_the_file() {
    let p = project(&[("app.py", BAD), ("pyproject.toml", "[tool.flask-bind-guard]\nexlude = [\"x\"]\n")]);
    let out = fbg(p.path(), &["."]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pyproject.toml") && err.contains("exlude"), "{err}");
    assert!(out.stdout.is_empty(), "nothing is scanned under a broken configuration");
    // --isolated ignores the file; --config reads another one.
    assert_eq!(fbg(p.path(), &["--isolated", "."]).status.code(), Some(1));
    write(p.path(), &[("ci.toml", "[tool.flask-bind-guard]\nexclude = [\"app.py\"]\n")]);
    assert_eq!(fbg(p.path(), &["--config", "ci.toml", "."]).status.code(), Some(0));
    let out = fbg(p.path(), &["--config", "missing.toml", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
    // A pyproject.toml that is not UTF-8 may hold ours: an error, not a skip.
    std::fs::write(p.path().join("pyproject.toml"), b"[tool.flask-bind-guard]\nexclude = [\"\xff\"]\n").unwrap();
    let out = fbg(p.path(), &["."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pyproject.toml"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for bad in
        ["exclude = \"x\"\n", "extend-apps = [\"app\"]\n", "severity = { FBG007 = \"low\" }\n", "exclude = [\"a[\"]\n"]
    {
        write(p.path(), &[("pyproject.toml", &format!("[tool.flask-bind-guard]\n{bad}"))]);
        let out = fbg(p.path(), &["."]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

#[test]
fn the_nearest_configuration_up_to_the_repository_root() {
    let p = project(&[
        ("pyproject.toml", "[tool.flask-bind-guard]\nexclude = [\"svc/app.py\"]\n"),
        ("svc/app.py", BAD),
        ("svc/pyproject.toml", "[project]\nname = \"svc\"\n"),
        ("nested/pyproject.toml", "[tool.flask-bind-guard]\nexclude = []\n"),
        ("nested/app.py", BAD),
    ]);
    // svc's pyproject.toml has no table of ours: the root one applies.
    assert_eq!(fbg(&p.path().join("svc"), &["."]).status.code(), Some(0));
    assert_eq!(fbg(p.path(), &["svc"]).status.code(), Some(0));
    assert_eq!(paths(&fbg(p.path(), &["--format", "json", "nested"])), vec!["nested/app.py"]);
    // Above the repository root nothing is read.
    let outer = tempfile::tempdir().unwrap();
    write(outer.path(), &[("pyproject.toml", "[tool.flask-bind-guard]\nexclude = [\"**\"]\n")]);
    let inner = outer.path().join("repo");
    write(&inner, &[("app.py", BAD)]);
    std::fs::create_dir(inner.join(".git")).unwrap();
    assert_eq!(fbg(&inner, &["."]).status.code(), Some(1));
}

fn git(dir: &Path, args: &[&str]) {
    let out = clean(Command::new("git")).current_dir(dir).args(args).stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn staged_mode_reads_the_configuration_from_the_index() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["config", "user.email", "dev@example.com"]);
    git(root, &["config", "user.name", "Dev"]);
    write(root, &[("app.py", BAD), ("pyproject.toml", "[tool.flask-bind-guard]\nexclude = [\"app.py\"]\n")]);
    git(root, &["add", "-A"]);
    // The staged configuration excludes app.py ...
    assert_eq!(fbg(root, &[]).status.code(), Some(0));
    // ... even when the working tree's does not.
    write(root, &[("pyproject.toml", "[tool.flask-bind-guard]\nexclude = []\n")]);
    assert_eq!(fbg(root, &[]).status.code(), Some(0));
    // Staging that change makes the finding count.
    git(root, &["add", "pyproject.toml"]);
    assert_eq!(fbg(root, &[]).status.code(), Some(1));
    // A broken staged configuration stops the commit with the reason.
    write(root, &[("pyproject.toml", "[tool.flask-bind-guard]\nbogus = 1\n")]);
    git(root, &["add", "pyproject.toml"]);
    let out = fbg(root, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bogus"));
    // Flags still win in staged mode.
    assert_eq!(fbg(root, &["--isolated"]).status.code(), Some(1));
}

#[test]
fn completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = fbg(dir.path(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("flask-bind-guard") && text.contains("extend-safe-hosts"), "{shell}");
    }
    let out = fbg(dir.path(), &["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{}", &page[..80.min(page.len())]);
    assert!(page.contains("flask\\-bind\\-guard"));
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn errors_are_plain_lines_with_the_line_and_the_key() {
    let p = project(&[("app.py", BAD)]);
    let cases = [
        (
            "[tool.flask-bind-guard]\nexlude = [\"x\"]\n",
            "pyproject.toml:2:1: unknown key `exlude`, expected one of `exclude`, `extend-safe-hosts`",
        ),
        (
            "[tool.flask-bind-guard]\nexclude = \"x\"\n",
            "pyproject.toml:2:11: `exclude`: invalid type: string \"x\", expected a sequence",
        ),
        (
            "[tool.flask-bind-guard]\n\nseverity = { FBG001 = \"urgent\" }\n",
            "pyproject.toml:3:23: `severity`: unknown variant `urgent`, expected one of `low`, `medium`, `high`, `critical`",
        ),
        (
            "[project]\nname = \"x\"\n[tool.flask-bind-guard]\nseverity = { FBG009 = \"low\" }\n",
            "pyproject.toml:4:1: `severity`: unknown rule `FBG009`; the rules are FBG001 and FBG002",
        ),
        ("[tool.flask-bind-guard]\nexclude = [\n", "pyproject.toml:2:12: unclosed array, expected `]`"),
    ];
    for (body, expected) in cases {
        write(p.path(), &[("pyproject.toml", body)]);
        let out = fbg(p.path(), &["."]);
        assert_eq!(out.status.code(), Some(2), "{body}");
        let err = stderr(&out);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "one error line and one help line: {err}");
        assert!(lines[0].starts_with(&format!("error: {expected}")), "{body}: {err}");
        assert_eq!(lines[1], "help: correct it, or pass --isolated to ignore configuration files");
        assert!(!err.contains('\u{240a}'), "no pictured newline: {err}");
    }
    // What comes from the file is still pictured: a key with an escape.
    write(p.path(), &[("pyproject.toml", "[tool.flask-bind-guard]\n\"\\u001b[2J\" = 1\n")]);
    let out = fbg(p.path(), &["."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!out.stderr.contains(&0x1b), "{:?}", stderr(&out));
    assert!(stderr(&out).contains(":2:1: unknown key `\u{241b}[2J`"), "{}", stderr(&out));
}

#[test]
fn staged_configuration_errors_name_the_line_too() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    git(root, &["init", "-q", "-b", "main"]);
    write(root, &[("app.py", BAD), ("pyproject.toml", "[tool.flask-bind-guard]\nexclude = []\nbogus = 1\n")]);
    git(root, &["add", "-A"]);
    let out = fbg(root, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("error: pyproject.toml:3:1: unknown key `bogus`, expected one of"), "{err}");
    assert!(err.contains("\nhelp: correct it and stage the correction (`git add`"), "{err}");
    assert!(!err.contains('\u{240a}'), "{err}");
}

#[test]
fn a_config_file_without_our_table_is_an_error() {
    let p = project(&[("app.py", BAD), ("other.toml", "[tool.ruff]\nline-length = 100\n")]);
    let out = fbg(p.path(), &["--config", "other.toml", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing is scanned");
    assert_eq!(
        stderr(&out),
        "error: other.toml: no [tool.flask-bind-guard] table; the file --config names must hold one (an empty table means the defaults)\nhelp: correct the file, or name another with --config\n"
    );
    // Staged mode reads the named file too.
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    write(repo.path(), &[("app.py", BAD), ("other.toml", "")]);
    git(repo.path(), &["add", "app.py"]);
    let out = fbg(repo.path(), &["--config", "other.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("other.toml: no [tool.flask-bind-guard] table"), "{}", stderr(&out));
    // An empty table is ours: the defaults, on purpose.
    write(p.path(), &[("other.toml", "[tool.flask-bind-guard]\n")]);
    assert_eq!(fbg(p.path(), &["--config", "other.toml", "."]).status.code(), Some(1));
}

#[test]
fn safe_hosts_must_be_hosts() {
    let p = project(&[("app.py", BAD)]);
    for bad in ["not a host", "", "0.0.0.0 ", "host/x", "-dev"] {
        write(
            p.path(),
            &[("pyproject.toml", &format!("[tool.flask-bind-guard]\nextend-safe-hosts = [\"::\", \"{bad}\"]\n"))],
        );
        let out = fbg(p.path(), &["."]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "pyproject.toml:2:1: `extend-safe-hosts`: `{bad}` is not a host: give an IP address or a host name"
            )),
            "{err}"
        );
        let out = fbg(p.path(), &["--isolated", &format!("--extend-safe-hosts={bad}"), "."]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(stderr(&out).contains(&format!("`{bad}` is not a host")), "{}", stderr(&out));
    }
    // Addresses in any form, and host names, are hosts.
    let good = ["0.0.0.0", "0", "::", "[::]", "10.0.0.5", "fe80::1%eth0", "localhost", "dev-box", "db.internal."];
    let list = good.map(|h| format!("\"{h}\"")).join(", ");
    write(p.path(), &[("pyproject.toml", &format!("[tool.flask-bind-guard]\nextend-safe-hosts = [{list}]\n"))]);
    let out = fbg(p.path(), &["."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
