//! The staged verdict is by findings: a commit is blocked for every finding
//! its snapshot has that its base does not, wherever the change that made
//! it is. Each case is a real repository, the installed hook and a real
//! `git commit`.

mod common;

use common::{Repo, text};

const APP_HOST: &str = "from flask import Flask\nfrom config import HOST\napp = Flask(__name__)\napp.run(host=HOST)\n";

/// Seed `before` (without the hook), install the hook, apply `change`
/// (paths to write; `None` deletes) plus the `git` commands, and commit.
fn commit_after(before: &[(&str, &str)], change: &[(&str, Option<&str>)], git: &[&[&str]]) -> (Repo, String, bool) {
    let r = Repo::new();
    r.seed(before);
    r.install();
    for (path, body) in change {
        match body {
            Some(b) => r.write(path, b),
            None => std::fs::remove_file(r.root.join(path)).unwrap(),
        }
    }
    for args in git {
        r.ok(args);
    }
    r.ok(&["add", "-A"]);
    let head = r.head();
    let out = r.commit(&[]);
    let committed = r.head() != head;
    assert_eq!(committed, out.status.success(), "{}", text(&out));
    (r, text(&out), committed)
}

fn assert_blocked(name: &str, shown: &str, committed: bool, expect: &[&str]) {
    assert!(!committed, "{name}: committed\n{shown}");
    for e in expect {
        assert!(shown.contains(e), "{name}: missing {e:?} in\n{shown}");
    }
}

#[test]
fn a_changed_constant_in_another_module_blocks() {
    let (_, shown, committed) = commit_after(
        &[("config.py", "HOST = \"127.0.0.1\"\n"), ("app.py", APP_HOST)],
        &[("config.py", Some("HOST = \"0.0.0.0\"\n"))],
        &[],
    );
    assert_blocked(
        "constant",
        &shown,
        committed,
        &["app.py:4:1: FBG001", "host now \"0.0.0.0\": config.py:1 changed in this commit"],
    );
}

#[test]
fn a_changed_constant_in_the_same_file_blocks() {
    let before = "from flask import Flask\nHOST = \"127.0.0.1\"\napp = Flask(__name__)\napp.run(host=HOST)\n";
    let after = before.replace("127.0.0.1", "0.0.0.0");
    let (_, shown, committed) = commit_after(&[("app.py", before)], &[("app.py", Some(&after))], &[]);
    assert_blocked("same file", &shown, committed, &["app.py:4:1: FBG001", "app.py:2 changed in this commit"]);
}

#[test]
fn deleting_a_reassignment_blocks() {
    let before = "from flask import Flask\nHOST = \"0.0.0.0\"\nHOST = \"127.0.0.1\"\napp = Flask(__name__)\napp.run(host=HOST)\n";
    let after = before.replace("HOST = \"127.0.0.1\"\n", "");
    let (_, shown, committed) = commit_after(&[("app.py", before)], &[("app.py", Some(&after))], &[]);
    assert_blocked("reassignment", &shown, committed, &["app.py:4:1: FBG001", "the call is unchanged"]);
}

#[test]
fn deleting_a_noqa_line_inside_the_call_blocks() {
    let before =
        "from flask import Flask\napp = Flask(__name__)\napp.run(\n    # noqa: FBG001\n    host=\"0.0.0.0\",\n)\n";
    let after = before.replace("    # noqa: FBG001\n", "");
    let (_, shown, committed) = commit_after(&[("app.py", before)], &[("app.py", Some(&after))], &[]);
    assert_blocked("noqa removed", &shown, committed, &["app.py:3:1: FBG001"]);
}

#[test]
fn turning_the_debugger_on_under_a_noqa_for_fbg001_blocks() {
    let before = "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\")  # noqa: FBG001\n";
    let after = before.replace("app = Flask(__name__)\n", "app = Flask(__name__)\napp.debug = True\n");
    let (_, shown, committed) = commit_after(&[("app.py", before)], &[("app.py", Some(&after))], &[]);
    assert_blocked("debug", &shown, committed, &["app.py:4:1: FBG002", "the call is unchanged; app.py:3 changed"]);
}

#[test]
fn a_module_that_shadows_the_imported_one_blocks() {
    let app = "from flask import Flask\nfrom config import HOST\napp = Flask(__name__)\napp.run(host=HOST)\n";
    let (_, shown, committed) = commit_after(
        &[("config.py", "HOST = \"127.0.0.1\"\n"), ("pkg/app.py", app)],
        &[("pkg/config.py", Some("HOST = \"0.0.0.0\"\n"))],
        &[],
    );
    assert_blocked("shadow", &shown, committed, &["pkg/app.py:4:1: FBG001", "pkg/config.py:1 changed"]);
}

#[test]
fn an_object_that_becomes_a_flask_app_blocks() {
    let before = "from bottle import Bottle\nfrom flask import Flask\napp = Bottle()\napp.run(host=\"0.0.0.0\")\n";
    let after = before.replace("app = Bottle()", "app = Flask(__name__)");
    let (_, shown, committed) = commit_after(&[("app.py", before)], &[("app.py", Some(&after))], &[]);
    assert_blocked("bottle", &shown, committed, &["app.py:4:1: FBG001", "app.py:3 changed in this commit"]);
}

#[test]
fn renames_into_view_block() {
    let config = "[tool.flask-bind-guard]\nexclude = [\"legacy/\"]\n";
    let (_, shown, committed) = commit_after(
        &[("pyproject.toml", config), ("legacy/a.py", common::BAD)],
        &[],
        &[&["mv", "legacy/a.py", "a.py"]],
    );
    assert_blocked("out of exclude", &shown, committed, &["a.py:3:1: FBG001", "renamed from legacy/a.py"]);

    let (_, shown, committed) = commit_after(&[("a.txt", common::BAD)], &[], &[&["mv", "a.txt", "a.py"]]);
    assert_blocked("txt to py", &shown, committed, &["a.py:3:1: FBG001"]);
}

#[test]
fn a_shebang_that_makes_a_script_python_blocks() {
    let with = format!("#!/usr/bin/env python3\n{}", common::BAD);
    let (_, shown, committed) = commit_after(&[("serve", common::BAD)], &[("serve", Some(&with))], &[]);
    assert_blocked("shebang", &shown, committed, &["serve:4:1: FBG001"]);
}

#[test]
fn removing_the_configuration_that_allowed_a_host_blocks() {
    let config = "[tool.flask-bind-guard]\nextend-safe-hosts = [\"0.0.0.0\"]\n";
    let (_, shown, committed) =
        commit_after(&[("pyproject.toml", config), ("app.py", common::BAD)], &[("pyproject.toml", None)], &[]);
    assert_blocked(
        "config removed",
        &shown,
        committed,
        &["app.py:3:1: FBG001", "configuration (pyproject.toml) changed"],
    );
}

#[test]
fn changes_that_bring_nothing_in_pass() {
    // An existing finding elsewhere, an unrelated change.
    let (_, shown, committed) =
        commit_after(&[("legacy.py", common::BAD), ("util.py", "X = 1\n")], &[("util.py", Some("X = 2\n"))], &[]);
    assert!(committed, "unrelated: {shown}");
    // An existing finding in the same file, a line elsewhere changed.
    let before = format!("{}\nX = 1\n", common::BAD);
    let (_, shown, committed) =
        commit_after(&[("app.py", &before)], &[("app.py", Some(&before.replace("X = 1", "X = 2")))], &[]);
    assert!(committed, "same file: {shown}");
    // A file with an existing finding renamed.
    let (_, shown, committed) = commit_after(&[("a.py", common::BAD)], &[], &[&["mv", "a.py", "b.py"]]);
    assert!(committed, "rename: {shown}");
    // The constant made safe; the constant's module changed elsewhere.
    let (_, shown, committed) = commit_after(
        &[("config.py", "HOST = \"0.0.0.0\"\n"), ("app.py", APP_HOST)],
        &[("config.py", Some("HOST = \"127.0.0.1\"\n"))],
        &[],
    );
    assert!(committed, "made safe: {shown}");
    let (_, shown, committed) = commit_after(
        &[("config.py", "HOST = \"0.0.0.0\"\n"), ("app.py", APP_HOST)],
        &[("config.py", Some("HOST = \"0.0.0.0\"\nPORT = 1\n"))],
        &[],
    );
    assert!(committed, "other line of the module: {shown}");
}

#[test]
fn amending_a_commit_made_without_the_hook_is_judged_with_it() {
    let r = Repo::new();
    r.seed(&[("README", "x\n")]);
    r.install();
    r.write("app.py", common::BAD);
    r.ok(&["add", "app.py"]);
    r.ok(&["commit", "-q", "--no-verify", "-m", "skip the hook"]);
    r.write("README", "y\n");
    r.ok(&["add", "README"]);
    let head = r.head();
    let out = r.git(&["commit", "--amend", "--no-edit"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("app.py:3:1: FBG001"), "{}", text(&out));
    assert_eq!(r.head(), head);
    // A plain commit on top of it is not blamed for it.
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_push_range_is_judged_by_findings_too() {
    let r = Repo::new();
    r.seed(&[("config.py", "HOST = \"127.0.0.1\"\n"), ("app.py", APP_HOST)]);
    let from = r.head().unwrap();
    r.write("config.py", "HOST = \"0.0.0.0\"\n");
    r.ok(&["commit", "-qam", "widen"]);
    let out = r.fbg(&["--from-ref", &from, "--to-ref", "HEAD"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("host now \"0.0.0.0\": config.py:1 changed"), "{}", text(&out));
}

#[test]
fn a_warm_or_corrupt_facts_cache_gives_the_same_verdict() {
    let r = Repo::new();
    r.seed(&[("config.py", "HOST = \"127.0.0.1\"\n"), ("app.py", APP_HOST), ("util.py", "X = 1\n")]);
    r.install();
    // A clean commit fills the cache with every blob's facts.
    r.write("util.py", "X = 2\n");
    r.ok(&["add", "-A"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
    let cache = r.root.join(".git/flask-bind-guard/facts");
    assert!(cache.is_file(), "the hook keeps the facts of the blobs it read");
    // Warm: the importer is found from the cached facts.
    r.write("config.py", "HOST = \"0.0.0.0\"\n");
    r.ok(&["add", "-A"]);
    let out = r.commit(&[]);
    assert!(!out.status.success() && text(&out).contains("app.py:4:1: FBG001"), "{}", text(&out));
    // Garbage or a truncated file: read as empty, same verdict.
    for bytes in [b"FBGFACTS\x01\x02".to_vec(), std::fs::read(&cache).unwrap()[..30].to_vec(), vec![0xff; 4096]] {
        std::fs::write(&cache, &bytes).unwrap();
        let out = r.commit(&[]);
        assert!(!out.status.success() && text(&out).contains("app.py:4:1: FBG001"), "{}", text(&out));
    }
}

/// A well-formed cache whose records were altered (a flag bit cleared)
/// is not believed: the checksum empties it, the verdict stays.
#[test]
fn an_altered_facts_cache_is_not_believed() {
    let r = Repo::new();
    r.seed(&[("config.py", "HOST = \"127.0.0.1\"\n"), ("app.py", APP_HOST), ("util.py", "X = 1\n")]);
    r.install();
    r.write("util.py", "X = 2\n");
    r.ok(&["add", "-A"]);
    assert!(r.commit(&[]).status.success());
    let cache = r.root.join(".git/flask-bind-guard/facts");
    r.write("config.py", "HOST = \"0.0.0.0\"\n");
    r.ok(&["add", "-A"]);
    let good = std::fs::read(&cache).unwrap();
    // Clear every flags byte in turn: each record says "no server start".
    let header = 28;
    let records = u32::from_le_bytes(good[16..20].try_into().unwrap()) as usize;
    for i in 0..records {
        let mut bad = good.clone();
        bad[header + i * 29 + 20] = 0;
        std::fs::write(&cache, &bad).unwrap();
        let out = r.commit(&[]);
        assert!(!out.status.success() && text(&out).contains("app.py:4:1: FBG001"), "record {i}: {}", text(&out));
    }
}

/// One blob named `app.py` and `app` (no extension, no shebang): Python by
/// the first name, not by the second; a warm cache agrees with a cold one.
#[test]
fn one_blob_under_a_python_name_and_a_plain_name_is_judged_alike_cold_and_warm() {
    let r = Repo::new();
    let app = "from flask import Flask\nfrom pkg import settings\napp = Flask(__name__)\napp.run(host=settings.HOST)\n";
    r.seed(&[("pkg/__init__.py", ""), ("pkg/settings.py", "HOST = \"127.0.0.1\"\n"), ("app.py", app), ("a_copy", app)]);
    r.install();
    r.write("pkg/settings.py", "HOST = \"0.0.0.0\"\n");
    r.ok(&["add", "-A"]);
    let cache = r.root.join(".git/flask-bind-guard/facts");
    let _ = std::fs::remove_file(&cache);
    for run in ["cold", "warm", "warm again"] {
        let out = r.commit(&[]);
        assert!(!out.status.success() && text(&out).contains("app.py:4:1: FBG001"), "{run}: {}", text(&out));
        assert!(!text(&out).contains("a_copy"), "{run}: {}", text(&out));
    }
}

#[test]
fn importers_are_found_through_every_import_form_and_chain() {
    let forms: &[(&str, &[(&str, &str)])] = &[
        (
            "relative module",
            &[
                ("pkg/__init__.py", ""),
                (
                    "pkg/app.py",
                    "from flask import Flask\nfrom . import config\napp = Flask(__name__)\napp.run(host=config.HOST)\n",
                ),
            ],
        ),
        (
            "relative name",
            &[
                ("pkg/__init__.py", ""),
                (
                    "pkg/app.py",
                    "from flask import Flask\nfrom .config import HOST\napp = Flask(__name__)\napp.run(host=HOST)\n",
                ),
            ],
        ),
        (
            "dotted",
            &[
                ("pkg/__init__.py", ""),
                (
                    "main.py",
                    "from flask import Flask\nimport pkg.config as c\napp = Flask(__name__)\napp.run(host=c.HOST)\n",
                ),
            ],
        ),
        (
            "chain",
            &[
                ("pkg/__init__.py", ""),
                ("pkg/settings.py", "from pkg.config import *\n"),
                (
                    "main.py",
                    "from flask import Flask\nfrom pkg import settings\napp = Flask(__name__)\napp.run(host=settings.HOST)\n",
                ),
            ],
        ),
        (
            "package",
            &[
                ("pkg/__init__.py", "from .config import HOST\n"),
                ("main.py", "from flask import Flask\nimport pkg\napp = Flask(__name__)\napp.run(host=pkg.HOST)\n"),
            ],
        ),
    ];
    for (name, files) in forms {
        let mut before: Vec<(&str, &str)> = files.to_vec();
        before.push(("pkg/config.py", "HOST = \"127.0.0.1\"\n"));
        let (_, shown, committed) = commit_after(&before, &[("pkg/config.py", Some("HOST = \"0.0.0.0\"\n"))], &[]);
        assert_blocked(name, &shown, committed, &["FBG001", "pkg/config.py:1 changed in this commit"]);
    }
}

#[test]
fn size_limits_hold_in_every_staged_mode_and_data_is_not_python() {
    let r = Repo::new();
    let big = format!("{}{}", common::BAD, "# padding\n".repeat(20));
    r.write("big.py", &big);
    r.write("dump", "x".repeat(5000));
    r.ok(&["add", "-A"]);
    for args in [&["--max-file-size", "100"][..], &["--all", "--max-file-size", "100"][..]] {
        let out = r.fbg(args);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {shown}");
        assert!(shown.contains("big.py") && shown.contains("over the size limit"), "{args:?}: {shown}");
        assert!(!shown.contains("dump"), "{args:?}: a data file without a shebang is not Python: {shown}");
    }
    let out = r.fbg(&["--all"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn a_package_marker_added_or_removed_moves_imports_and_is_judged() {
    // `web/app/run.py` imports `settings`: the root one (safe) until
    // `web/app/__init__.py` makes `web` the search root, where it is not.
    let run = APP_HOST.replace("from config", "from settings");
    let (_, shown, committed) = commit_after(
        &[
            ("web/app/run.py", &run),
            ("web/settings.py", "HOST = \"0.0.0.0\"\n"),
            ("settings.py", "HOST = \"127.0.0.1\"\n"),
        ],
        &[("web/app/__init__.py", Some(""))],
        &[],
    );
    assert_blocked("marker added", &shown, committed, &["web/app/run.py:4:1: FBG001", "__init__.py"]);
}

#[test]
fn modules_loaded_by_name_are_followed() {
    let app = "from flask import Flask\napp = Flask(__name__)\napp.config.from_object(\"settings.Dev\")\napp.run(host=app.config[\"HOST\"])\n";
    let (_, shown, committed) = commit_after(
        &[("settings.py", "class Dev:\n    HOST = \"127.0.0.1\"\n"), ("app.py", app)],
        &[("settings.py", Some("class Dev:\n    HOST = \"0.0.0.0\"\n"))],
        &[],
    );
    assert_blocked("from_object", &shown, committed, &["app.py:4:1: FBG001", "settings.py:2 changed"]);
}

#[test]
fn unchanged_scripts_and_non_utf8_names_are_importers_too() {
    let script = format!("#!/usr/bin/env python3\n{APP_HOST}");
    let (_, shown, committed) = commit_after(
        &[("bin/serve", &script), ("bin/config.py", "HOST = \"127.0.0.1\"\n"), ("bin/data", &"x".repeat(5000))],
        &[("bin/config.py", Some("HOST = \"0.0.0.0\"\n"))],
        &[],
    );
    assert_blocked("script", &shown, committed, &["bin/serve:5:1: FBG001"]);

    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let r = Repo::new();
        r.write("config.py", "HOST = \"127.0.0.1\"\n");
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.py");
        std::fs::write(r.root.join(name), APP_HOST).unwrap();
        r.ok(&["add", "-A"]);
        r.ok(&["commit", "-qm", "seed", "--no-verify"]);
        r.write("config.py", "HOST = \"0.0.0.0\"\n");
        r.ok(&["add", "-A"]);
        let out = r.fbg(&[]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains(":4:1: FBG001"), "{}", text(&out));
    }
}

#[test]
fn blobs_a_partial_clone_lacks_are_named_not_remembered_as_empty() {
    let src = Repo::new();
    let app = APP_HOST.replace("from config", "from conf.config");
    src.seed(&[("conf/__init__.py", ""), ("conf/config.py", "HOST = \"127.0.0.1\"\n"), ("web/app.py", &app)]);
    src.ok(&["config", "uploadpack.allowfilter", "true"]);
    src.ok(&["config", "uploadpack.allowanysha1inwant", "true"]);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", src.root.display());
    let clone = dir.path().join("clone");
    let out = src.git(&["clone", "-q", "--filter=blob:none", "--no-checkout", &url, clone.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let run = |args: &[&str]| src.git_in(&clone, args);
    assert!(run(&["sparse-checkout", "set", "--cone", "conf"]).status.success());
    assert!(run(&["checkout", "-q", "main"]).status.success());
    std::fs::write(clone.join("conf/config.py"), "HOST = \"0.0.0.0\"\n").unwrap();
    assert!(run(&["add", "-A"]).status.success());
    let out = src.fbg_in(&clone, &[]);
    assert!(text(&out).contains("could not be read from the object database"), "{}", text(&out));
    // Once the blob is there, the verdict is the full one: nothing empty was
    // remembered for it.
    assert!(run(&["sparse-checkout", "disable"]).status.success());
    let out = src.fbg_in(&clone, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("web/app.py:4:1: FBG001"), "{}", text(&out));
}

#[test]
fn an_abbreviated_amend_is_an_amend() {
    let r = Repo::new();
    r.seed(&[("README", "x\n")]);
    r.install();
    r.write("app.py", common::BAD);
    r.ok(&["add", "app.py"]);
    r.ok(&["commit", "-q", "--no-verify", "-m", "skip the hook"]);
    r.write("README", "y\n");
    r.ok(&["add", "README"]);
    let out = r.git(&["commit", "--am", "-m", "m"]);
    assert!(!out.status.success() && text(&out).contains("app.py:3:1: FBG001"), "{}", text(&out));
}

#[test]
fn the_cause_names_what_the_call_reads_and_old_exposures_stay_quiet() {
    // A comment on the line of a host that was already exposed brings
    // nothing in.
    let (_, shown, committed) = commit_after(
        &[("config.py", "HOST = \"0.0.0.0\"\n"), ("app.py", APP_HOST)],
        &[("config.py", Some("HOST = \"0.0.0.0\"  # docker\n"))],
        &[],
    );
    assert!(committed, "{shown}");
    // Unrelated files changed beside the module the call reads: the
    // cause names that module, not the first files in the change.
    let app = "from factory import make\napp = make()\napp.run(host=\"0.0.0.0\")\n";
    let (_, shown, committed) = commit_after(
        &[
            ("factory.py", "from bottle import Bottle\nfrom flask import Flask\ndef make():\n    return Bottle()\n"),
            ("app.py", app),
            ("aaa.py", "A = 1\n"),
            ("bbb.py", "B = 1\n"),
        ],
        &[
            (
                "factory.py",
                Some("from bottle import Bottle\nfrom flask import Flask\ndef make():\n    return Flask(__name__)\n"),
            ),
            ("aaa.py", Some("A = 2\n")),
            ("bbb.py", Some("B = 2\n")),
        ],
        &[],
    );
    assert_blocked("factory", &shown, committed, &["app.py:3:1: FBG001", "it reads factory.py (changed)"]);
    assert!(!shown.contains("aaa.py"), "{shown}");
}

#[test]
fn a_clean_merge_is_judged_like_a_commit() {
    let r = Repo::new();
    r.seed(&[("config.py", "HOST = \"127.0.0.1\"\n"), ("app.py", APP_HOST)]);
    r.install();
    assert!(r.root.join(".git/hooks/pre-merge-commit").is_file());
    r.ok(&["checkout", "-q", "-b", "widen"]);
    r.write("config.py", "HOST = \"0.0.0.0\"\n");
    r.ok(&["commit", "-qam", "widen", "--no-verify"]);
    r.ok(&["checkout", "-q", "main"]);
    r.write("README", "x\n");
    r.ok(&["add", "README"]);
    r.ok(&["commit", "-qm", "other"]);
    let head = r.head();
    let out = r.git(&["merge", "--no-ff", "--no-edit", "widen"]);
    assert!(!out.status.success() && text(&out).contains("app.py:4:1: FBG001"), "{}", text(&out));
    assert_eq!(r.head(), head);
    let _ = r.git(&["merge", "--abort"]);
    let out = r.fbg(&["uninstall"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!r.root.join(".git/hooks/pre-merge-commit").exists());
}

#[test]
fn a_sparse_index_is_a_clear_error_with_the_way_out() {
    let r = Repo::new();
    r.seed(&[("a/x.py", "X = 1\n"), ("b/y.py", "Y = 1\n")]);
    r.ok(&["sparse-checkout", "set", "--cone", "--sparse-index", "a"]);
    r.write("a/x.py", common::BAD);
    r.ok(&["add", "a/x.py"]);
    let out = r.fbg(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("git sparse-checkout reapply --no-sparse-index"), "{}", text(&out));
    r.ok(&["sparse-checkout", "reapply", "--no-sparse-index"]);
    let out = r.fbg(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn pushes_a_framework_reports_with_one_ref_or_none() {
    let r = Repo::new();
    r.seed(&[("legacy.py", common::BAD), ("a.py", "X = 1\n")]);
    let remote = tempfile::tempdir().unwrap();
    r.ok(&["init", "-q", "--bare", remote.path().to_str().unwrap()]);
    r.ok(&["remote", "add", "origin", remote.path().to_str().unwrap()]);
    let push_env = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = common::clean(std::process::Command::new(common::BIN));
        cmd.current_dir(&r.root).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    // An empty remote: everything pushed is judged (prek: TO alone;
    // pre-commit: no refs, its pre-push variables, every file named).
    let prek = [("PRE_COMMIT_TO_REF", "HEAD"), ("PRE_COMMIT_REMOTE_NAME", "origin")];
    let out = push_env(&["--pre-commit", "a.py", "legacy.py"], &prek);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("legacy.py:3:1: FBG001") && text(&out).contains("this push"), "{}", text(&out));
    let pre_commit = [("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main"), ("PRE_COMMIT_REMOTE_NAME", "origin")];
    let out = push_env(&["--pre-commit", "a.py", "legacy.py"], &pre_commit);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("SKIP=flask-bind-guard git push"), "{}", text(&out));
    // Once the remote has it, only what is new counts.
    r.ok(&["push", "-q", "--no-verify", "origin", "main"]);
    r.write("a.py", "X = 2\n");
    r.ok(&["commit", "-qam", "clean"]);
    let out = push_env(&["--pre-commit"], &prek);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    r.write("b.py", common::BAD);
    r.ok(&["add", "b.py"]);
    r.ok(&["commit", "-qm", "bad"]);
    let out = push_env(&["--pre-commit", "b.py"], &prek);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("b.py:3:1") && !text(&out).contains("legacy.py"), "{}", text(&out));
    // A branch that is not checked out: its files are not on disk, so the
    // framework names none of them; they are judged all the same.
    r.ok(&["checkout", "-q", "-b", "feature"]);
    r.write("server.py", common::BAD);
    r.ok(&["add", "server.py"]);
    r.ok(&["commit", "-qm", "server"]);
    r.ok(&["checkout", "-q", "main"]);
    let feature = [("PRE_COMMIT_TO_REF", "feature"), ("PRE_COMMIT_REMOTE_NAME", "origin")];
    let out = push_env(&["--pre-commit"], &feature);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("server.py:3:1"), "{}", text(&out));
    // A lone half as a flag is a usage error; from the environment it is not.
    let out = push_env(&["--to-ref", "HEAD"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = push_env(&[], &[("PRE_COMMIT_FROM_REF", "HEAD~1")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

/// The hook as pre-commit or prek run it at commit time: `--pre-commit`,
/// the hook's args, the staged files they name, `GIT_INDEX_FILE` set by git.
fn framework_commit(r: &Repo, named: &[&str], extra: &[&str]) -> std::process::Output {
    let mut cmd = common::clean(std::process::Command::new(common::BIN));
    cmd.current_dir(&r.root).env("GIT_INDEX_FILE", r.root.join(".git/index")).arg("--pre-commit");
    cmd.args(extra).args(named);
    cmd.output().unwrap()
}

#[test]
fn under_a_framework_what_it_cannot_name_is_judged_and_renames_are_followed() {
    // The configuration that allowed the host removed, a .py edited.
    let r = Repo::new();
    r.seed(&[
        ("pyproject.toml", "[tool.flask-bind-guard]\nextend-safe-hosts = [\"0.0.0.0\"]\n"),
        ("app.py", common::BAD),
    ]);
    r.write("pyproject.toml", "[tool.flask-bind-guard]\n");
    r.ok(&["add", "-A"]);
    let out = framework_commit(&r, &[], &[]);
    assert_eq!(out.status.code(), Some(1), "config only: {}", text(&out));
    // A deleted module that shadowed the safe one (never named).
    let r = Repo::new();
    r.seed(&[
        ("config/__init__.py", "HOST = \"127.0.0.1\"\n"),
        ("config.py", "HOST = \"0.0.0.0\"\n"),
        ("app.py", APP_HOST),
        ("other.py", "X = 1\n"),
    ]);
    r.ok(&["rm", "-q", "config/__init__.py"]);
    r.write("other.py", "X = 2\n");
    r.ok(&["add", "other.py"]);
    let out = framework_commit(&r, &["other.py"], &[]);
    assert_eq!(out.status.code(), Some(1), "deletion: {}", text(&out));
    // A file with an old finding renamed: nothing brought in.
    let r = Repo::new();
    r.seed(&[("old.py", common::BAD)]);
    r.ok(&["mv", "old.py", "new.py"]);
    let out = framework_commit(&r, &["new.py"], &[]);
    assert_eq!(out.status.code(), Some(0), "rename: {}", text(&out));
}

#[test]
fn a_framework_fix_hook_reports_on_pushes_and_crlf_checkouts_compare_as_committed() {
    let r = Repo::new();
    r.seed(&[("a.py", "X = 1\n")]);
    let from = r.head().unwrap();
    r.write("b.py", common::BAD);
    r.ok(&["add", "b.py"]);
    r.ok(&["commit", "-qm", "bad"]);
    let mut cmd = common::clean(std::process::Command::new(common::BIN));
    cmd.current_dir(&r.root).env("PRE_COMMIT_FROM_REF", &from).env("PRE_COMMIT_TO_REF", "HEAD");
    let out = cmd.args(["--pre-commit", "--fix", "b.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("b.py:3:1: FBG001") && !text(&out).contains("push"), "{}", text(&out));

    // A CRLF checkout of an LF file with an old finding, one line edited,
    // named by a manual `pre-commit run --files`: nothing brought in.
    let r = Repo::new();
    r.seed(&[("legacy.py", common::BAD)]);
    r.write("legacy.py", common::BAD.replace('\n', "\r\n") + "# note\r\n");
    let mut cmd = common::clean(std::process::Command::new(common::BIN));
    let out = cmd.current_dir(&r.root).args(["--pre-commit", "legacy.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// The staged verdict when `apps` modules import a changed constant: run
/// twice, with the facts cache cold (every blob read) and warm (the one
/// changed blob read).
fn verdict_over_many_importers(apps: usize) -> (String, String) {
    let r = Repo::new();
    let mut files = vec![("config.py".to_string(), "HOST = \"127.0.0.1\"\n".to_string())];
    for i in 0..apps {
        files.push((format!("pkg/m{i:03}.py"), format!("# {i}\n{APP_HOST}")));
    }
    let files: Vec<(&str, &str)> = files.iter().map(|(p, b)| (p.as_str(), b.as_str())).collect();
    r.seed(&files);
    r.write("config.py", "HOST = \"0.0.0.0\"\n");
    r.ok(&["add", "-A"]);
    let cold = r.fbg(&[]);
    let warm = r.fbg(&[]);
    assert!(r.root.join(".git/flask-bind-guard/facts").is_file());
    for out in [&cold, &warm] {
        assert_eq!(out.status.code(), Some(1), "{}", text(out));
        for i in 0..apps {
            let line = format!("pkg/m{i:03}.py:5:1: FBG001");
            assert!(text(out).contains(&line), "{apps} apps: missing {line}\n{}", text(out));
        }
        assert!(text(out).contains("host now \"0.0.0.0\": config.py:1 changed in this commit"), "{}", text(out));
    }
    (text(&cold), text(&warm))
}

#[test]
fn blobs_and_modules_read_on_one_thread_or_many_give_the_same_verdict() {
    use flask_bind_guard::par::{MIN_BLOBS, MIN_MODULES};
    // Few: every blob and module on the main thread.
    let (cold, warm) = verdict_over_many_importers(MIN_MODULES.min(MIN_BLOBS) - 2);
    assert_eq!(cold, warm);
    // Many: a cold cache reads the blobs on rayon's pool, a warm one on the
    // main thread; the modules are analysed on the pool.
    let (cold, warm) = verdict_over_many_importers(MIN_BLOBS + MIN_MODULES);
    assert_eq!(cold, warm);
}

/// An app made in one module and handed to a helper whose module imports
/// no framework: a staged helper that binds every interface is blocked, as
/// the audit finds it; the same helper in a repository where no module
/// makes an app is no server, and is not even parsed.
#[test]
fn a_helper_handed_the_app_is_judged_as_the_audit_judges_it() {
    let main = "from flask import Flask\nfrom utils.serve import start\n\napp = Flask(__name__)\nstart(app)\n";
    let helper = "def start(app, host=\"0.0.0.0\"):\n    app.run(host=host)\n";
    let (_, shown, committed) = commit_after(
        &[("main.py", main), ("utils/__init__.py", ""), ("utils/serve.py", "def start(app):\n    pass\n")],
        &[("utils/serve.py", Some(helper))],
        &[],
    );
    assert_blocked("helper", &shown, committed, &["utils/serve.py:2:5: FBG001"]);

    // No module imports a framework: `runner.run(...)` is a job runner.
    let jobs = "from utils.serve import start\n\n\nclass Jobs:\n    def run(self, host):\n        return host\n\n\nstart(Jobs())\n";
    let r = common::Repo::new();
    r.seed(&[("jobs.py", jobs), ("utils/__init__.py", ""), ("utils/serve.py", "def start(app):\n    pass\n")]);
    r.write("utils/serve.py", helper);
    r.ok(&["add", "-A"]);
    let repo = git2::Repository::open(&r.root).unwrap();
    let spec = flask_bind_guard::git::ChangeSpec { max_file_size: 1 << 20, ..Default::default() };
    let opts = flask_bind_guard::scan::ScanOptions::default();
    let outcome = flask_bind_guard::staged::run_with_repo(&repo, &spec, &opts).unwrap();
    assert_eq!(outcome.finding_count(), 0);
    assert_eq!(outcome.parsed, 0, "a snapshot that imports no app module has no candidate");
    // Without the prefilter it is parsed, and judged the same.
    let full = flask_bind_guard::scan::ScanOptions { prefilter: false, ..Default::default() };
    let outcome = flask_bind_guard::staged::run_with_repo(&repo, &spec, &full).unwrap();
    assert_eq!(outcome.finding_count(), 0);
    assert!(outcome.parsed > 0);
}
