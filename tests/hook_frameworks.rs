//! The hook under the real pre-commit and prek frameworks (from PyPI), with
//! this repository as the hook repository (`language: rust`: the framework
//! builds it with cargo). Ignored by plain `cargo test`; `cargo test --
//! --include-ignored` runs them (as `.ci/run` does, after installing the
//! tools), and then a missing tool is a failure, not a skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// The framework must be there: a test that cannot run fails.
fn require(tool: &str) {
    let found = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(found, "{tool} is not on PATH: `pip install pre-commit prek uv` (or skip the ignored tests)");
}

fn run(dir: &Path, program: &str, args: &[&str], home: &Path) -> Output {
    let mut cmd = Command::new(program);
    for var in ["GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF"] {
        cmd.env_remove(var);
    }
    cmd.current_dir(dir)
        .args(args)
        .env("PRE_COMMIT_HOME", home.join("pre-commit"))
        .env("PREK_HOME", home.join("prek"))
        // The frameworks build the hook with `cargo install`; a shared
        // target directory lets the second build reuse the first.
        .env("CARGO_TARGET_DIR", home.join("target"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn git(dir: &Path, args: &[&str], home: &Path) -> Output {
    run(dir, "git", args, home)
}

/// A fresh repository using this repository (at HEAD) as its hook repo,
/// with `extra` appended to the hook's entry, and the hook installed.
fn hook_repo(tool: &str, extra: &str) -> (tempfile::TempDir, PathBuf) {
    let home = Path::new(MANIFEST).join("target/hook-frameworks");
    std::fs::create_dir_all(&home).unwrap();
    let rev = String::from_utf8(git(Path::new(MANIFEST), &["rev-parse", "HEAD"], &home).stdout).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["config", "user.email", "dev@example.com"],
        &["config", "user.name", "Dev"],
        &["config", "commit.gpgsign", "false"],
    ] {
        assert!(git(repo, args, &home).status.success());
    }
    let config = format!(
        "repos:\n  - repo: {MANIFEST}\n    rev: {}\n    hooks:\n      - id: flask-bind-guard\n{extra}",
        rev.trim()
    );
    std::fs::write(repo.join(".pre-commit-config.yaml"), config).unwrap();
    let out = run(repo, tool, &["install"], &home);
    assert!(out.status.success(), "{tool} install: {}", text(&out));
    (tmp, home)
}

const BAD: &str = "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\")\n";
const GOOD: &str = "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"127.0.0.1\")\n";

fn exercise(tool: &str) {
    require(tool);
    let (tmp, home) = hook_repo(tool, "");
    let repo: PathBuf = tmp.path().to_path_buf();
    git(&repo, &["add", ".pre-commit-config.yaml"], &home);
    let out = git(&repo, &["commit", "-m", "config"], &home);
    assert!(out.status.success(), "{}", text(&out));

    // A commit adding a bad line is blocked ...
    std::fs::write(repo.join("app.py"), BAD).unwrap();
    git(&repo, &["add", "app.py"], &home);
    let out = git(&repo, &["commit", "-m", "bad"], &home);
    assert!(!out.status.success(), "{tool}: the bad commit went through: {}", text(&out));
    assert!(text(&out).contains("app.py:3:1: FBG001"), "{}", text(&out));
    // ... a clean one passes.
    std::fs::write(repo.join("app.py"), GOOD).unwrap();
    git(&repo, &["add", "app.py"], &home);
    let out = git(&repo, &["commit", "-m", "good"], &home);
    assert!(out.status.success(), "{tool}: {}", text(&out));

    // `run --all-files` (how CI runs hooks) reports what is already there.
    std::fs::write(repo.join("legacy.py"), BAD).unwrap();
    git(&repo, &["add", "legacy.py"], &home);
    assert!(git(&repo, &["commit", "-q", "--no-verify", "-m", "legacy"], &home).status.success());
    let out = run(&repo, tool, &["run", "--all-files"], &home);
    assert!(!out.status.success(), "{tool} run --all-files passed: {}", text(&out));
    assert!(text(&out).contains("legacy.py:3:1: FBG001"), "{}", text(&out));
    assert!(!text(&out).contains("app.py:3:1"), "{}", text(&out));

    // A notebook reaches the hook through `types_or: [python, jupyter]`:
    // a run cell is blocked, a markdown edit beside it then passes.
    let notebook = |host: &str, note: &str| {
        format!(
            r#"{{"cells": [{{"cell_type": "markdown", "metadata": {{}}, "source": ["{note}"]}}, {{"cell_type": "code", "execution_count": null, "metadata": {{}}, "outputs": [], "source": ["from flask import Flask\n", "app = Flask(__name__)"]}}, {{"cell_type": "code", "execution_count": null, "metadata": {{}}, "outputs": [], "source": ["app.run(host='{host}')"]}}], "metadata": {{}}, "nbformat": 4, "nbformat_minor": 2}}"#
        )
    };
    std::fs::write(repo.join("lab.ipynb"), notebook("0.0.0.0", "Lab")).unwrap();
    git(&repo, &["add", "lab.ipynb"], &home);
    let out = git(&repo, &["commit", "-m", "notebook"], &home);
    assert!(!out.status.success(), "{tool}: the notebook went through: {}", text(&out));
    assert!(text(&out).contains("lab.ipynb:cell 3:1:1: FBG001"), "{}", text(&out));
    assert!(git(&repo, &["commit", "-q", "--no-verify", "-m", "notebook"], &home).status.success());
    std::fs::write(repo.join("lab.ipynb"), notebook("0.0.0.0", "Lab notes")).unwrap();
    git(&repo, &["add", "lab.ipynb"], &home);
    let out = git(&repo, &["commit", "-m", "notes"], &home);
    assert!(out.status.success(), "{tool}: a markdown edit was blocked: {}", text(&out));
}

#[test]
#[ignore = "needs pre-commit (pip install pre-commit); .ci/run installs it"]
fn pre_commit_framework() {
    exercise("pre-commit");
    named_files_and_exclude("pre-commit");
    fix_under_the_framework("pre-commit");
    first_push_to_an_empty_remote("pre-commit");
}

#[test]
#[ignore = "needs prek and uv (pip install prek uv); .ci/run installs them"]
fn prek_framework() {
    exercise("prek");
    named_files_and_exclude("prek");
    fix_under_the_framework("prek");
    first_push_to_an_empty_remote("prek");
}

fn commit_all(repo: &Path, home: &Path, message: &str) {
    assert!(git(repo, &["add", "-A"], home).status.success());
    let out = git(repo, &["commit", "-q", "--no-verify", "-m", message], home);
    assert!(out.status.success(), "{}", text(&out));
}

/// The files the framework names are what is judged: `run --files X`
/// checks X as it is on disk, `run` (staged files) and a commit judge what
/// they bring in, and the hook's `exclude:` keeps files out everywhere.
fn named_files_and_exclude(tool: &str) {
    let (tmp, home) = hook_repo(tool, "        exclude: ^legacy/\n");
    let repo: PathBuf = tmp.path().to_path_buf();
    std::fs::write(repo.join("old.py"), BAD).unwrap();
    std::fs::create_dir_all(repo.join("legacy")).unwrap();
    std::fs::write(repo.join("legacy/old.py"), BAD).unwrap();
    std::fs::write(repo.join("tracked.py"), GOOD).unwrap();
    commit_all(&repo, &home, "seed");

    // An untracked file with a finding, named: checked.
    std::fs::write(repo.join("bad.py"), BAD).unwrap();
    let out = run(&repo, tool, &["run", "--files", "bad.py"], &home);
    assert!(!out.status.success() && text(&out).contains("bad.py:3:1: FBG001"), "{tool}: {}", text(&out));
    // An unstaged finding in a named file: checked.
    std::fs::write(repo.join("tracked.py"), BAD).unwrap();
    let out = run(&repo, tool, &["run", "--files", "tracked.py"], &home);
    assert!(!out.status.success() && text(&out).contains("tracked.py:3:1: FBG001"), "{tool}: {}", text(&out));
    std::fs::write(repo.join("tracked.py"), GOOD).unwrap();
    std::fs::remove_file(repo.join("bad.py")).unwrap();
    // A clean file named: old.py's finding is not its business.
    std::fs::write(repo.join("new.py"), "X = 1\n").unwrap();
    let out = run(&repo, tool, &["run", "--files", "new.py"], &home);
    assert!(out.status.success(), "{tool}: {}", text(&out));

    // `run` over the staged files, and the commit: a clean change to a file
    // with an old finding brings nothing in; an excluded file staged beside
    // it is not judged.
    std::fs::write(repo.join("old.py"), format!("{BAD}X = 2\n")).unwrap();
    std::fs::write(repo.join("legacy/old.py"), format!("{BAD}app.run(host='::')\n")).unwrap();
    assert!(git(&repo, &["add", "-A"], &home).status.success());
    let out = run(&repo, tool, &["run"], &home);
    assert!(out.status.success(), "{tool} run: {}", text(&out));
    let out = git(&repo, &["commit", "-m", "clean change"], &home);
    assert!(out.status.success(), "{tool} commit: {}", text(&out));

    // `run --all-files` audits what it is given: old.py, not legacy/.
    let out = run(&repo, tool, &["run", "--all-files"], &home);
    assert!(!out.status.success() && text(&out).contains("old.py:3:1: FBG001"), "{tool}: {}", text(&out));
    assert!(!text(&out).contains("legacy/old.py"), "{tool}: {}", text(&out));
}

/// `args: [--fix]`: the commit fixes the working tree only and fails, as
/// the framework expects of a hook that changes files; an unstaged edit in
/// the same file survives the framework's stash; `git add` and the next
/// commit pass with the fix.
fn fix_under_the_framework(tool: &str) {
    require(tool);
    let (tmp, home) = hook_repo(tool, "        args: [--fix]\n");
    let repo: PathBuf = tmp.path().to_path_buf();
    // The unstaged edit is more than the diff's three lines of context
    // away from the host, so the framework's stash applies over the fix.
    let filler = "\n# one\n# two\n# three\n# four\n";
    std::fs::write(repo.join("app.py"), format!("{BAD}{filler}")).unwrap();
    git(&repo, &["add", "app.py", ".pre-commit-config.yaml"], &home);
    std::fs::write(repo.join("app.py"), format!("{BAD}{filler}# unstaged note\n")).unwrap();
    let out = git(&repo, &["commit", "-m", "bad"], &home);
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(repo.join("app.py")).unwrap(),
        format!("{GOOD}{filler}# unstaged note\n"),
        "{tool}: the fix and the unstaged edit are both in the working tree: {}",
        text(&out)
    );
    let staged = String::from_utf8(git(&repo, &["show", ":app.py"], &home).stdout).unwrap();
    assert_eq!(staged, format!("{BAD}{filler}"), "{tool}: the index is the user's, untouched");
    git(&repo, &["add", "app.py"], &home);
    let out = git(&repo, &["commit", "-m", "fixed"], &home);
    assert!(out.status.success(), "{}", text(&out));
    let committed = String::from_utf8(git(&repo, &["show", "HEAD:app.py"], &home).stdout).unwrap();
    assert_eq!(committed, format!("{GOOD}{filler}# unstaged note\n"));

    // An unstaged edit next to the host: the framework rolls the fix back
    // rather than lose the edit; the edit is still there.
    std::fs::write(repo.join("app.py"), BAD).unwrap();
    git(&repo, &["add", "app.py"], &home);
    std::fs::write(repo.join("app.py"), format!("{BAD}# next to it\n")).unwrap();
    let out = git(&repo, &["commit", "-m", "bad again"], &home);
    assert!(!out.status.success(), "{}", text(&out));
    let on_disk = std::fs::read_to_string(repo.join("app.py")).unwrap();
    assert!(on_disk.ends_with("# next to it\n"), "{tool}: the unstaged edit was lost: {on_disk}\n{}", text(&out));
}

/// The first push to an empty remote judges everything pushed: a clean
/// branch goes, a branch with a finding (committed with --no-verify) does
/// not.
fn first_push_to_an_empty_remote(tool: &str) {
    let (tmp, home) = hook_repo(tool, "");
    let repo: PathBuf = tmp.path().to_path_buf();
    let out = run(&repo, tool, &["install", "--hook-type", "pre-push"], &home);
    assert!(out.status.success(), "{tool}: {}", text(&out));
    let remote = tmp.path().join("remote.git");
    assert!(git(tmp.path(), &["init", "-q", "--bare", remote.to_str().unwrap()], &home).status.success());
    assert!(git(&repo, &["remote", "add", "origin", remote.to_str().unwrap()], &home).status.success());
    std::fs::write(repo.join("app.py"), GOOD).unwrap();
    commit_all(&repo, &home, "clean");
    let out = git(&repo, &["push", "-q", "origin", "main"], &home);
    assert!(out.status.success(), "{tool}: a clean first push: {}", text(&out));

    assert!(git(&repo, &["checkout", "-q", "--orphan", "other"], &home).status.success());
    std::fs::write(repo.join("app.py"), BAD).unwrap();
    commit_all(&repo, &home, "bad");
    let out = git(&repo, &["push", "-q", "origin", "other"], &home);
    assert!(!out.status.success(), "{tool}: a first push with a finding went through: {}", text(&out));
    assert!(text(&out).contains("app.py:3:1: FBG001"), "{tool}: {}", text(&out));
}
