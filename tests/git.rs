//! Staged mode against real repositories: made with the `git` CLI in temp
//! directories, with the hook installed by `flask-bind-guard install`, and
//! real `git commit` runs whose exit status and output are asserted.

use std::process::{Command, Stdio};

mod common;
use common::{BAD, BIN, GOOD, Repo, blocked, clean, text};

#[test]
fn first_commit_adding_a_bad_line_is_blocked() {
    let r = Repo::new();
    r.install();
    r.write("app.py", BAD);
    r.ok(&["add", "app.py"]);
    let out = r.commit(&[]);
    assert!(blocked(&out), "{}", text(&out));
    assert!(text(&out).contains("app.py:3:1: FBG001"), "{}", text(&out));
    assert!(text(&out).contains("1 finding blocks this commit"), "{}", text(&out));
    assert_eq!(r.head(), None, "nothing was committed");
}

#[test]
fn clean_commit_passes() {
    let r = Repo::new();
    r.install();
    r.write("app.py", GOOD);
    r.ok(&["add", "app.py"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_legacy_finding_elsewhere_in_the_file_does_not_block() {
    let r = Repo::new();
    r.seed(&[("app.py", BAD)]);
    r.install();
    r.write("app.py", format!("{BAD}\n\ndef helper():\n    return 1\n"));
    r.ok(&["add", "app.py"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
    // ... but `--all` reports it.
    let out = r.fbg(&["--all"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn rename_with_an_edit() {
    let r = Repo::new();
    let body = format!("{BAD}\n\ndef one():\n    return 1\n\n\ndef two():\n    return 2\n");
    r.seed(&[("old.py", &body)]);
    r.install();
    r.ok(&["mv", "old.py", "new.py"]);
    r.write("new.py", body.replace("return 2", "return 3"));
    r.ok(&["add", "new.py"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "a rename only adds its edited lines: {}", text(&out));

    r.ok(&["mv", "new.py", "newer.py"]);
    r.write("newer.py", format!("{body}app.run(host='::')\n").replace("return 2", "return 3"));
    r.ok(&["add", "newer.py"]);
    let out = r.commit(&[]);
    assert!(blocked(&out), "{}", text(&out));
    assert!(text(&out).contains("newer.py:"), "{}", text(&out));
}

#[test]
fn the_index_is_judged_not_the_working_tree() {
    // Staged bad line, working tree fixed but not staged: blocked.
    let r = Repo::new();
    r.seed(&[("app.py", GOOD)]);
    r.install();
    r.write("app.py", BAD);
    r.ok(&["add", "app.py"]);
    r.write("app.py", GOOD);
    assert!(blocked(&r.commit(&[])));

    // Reverse: bad line only in the working tree: passes.
    let r = Repo::new();
    r.seed(&[("app.py", GOOD), ("other.py", "x = 1\n")]);
    r.install();
    r.write("app.py", BAD);
    r.write("other.py", "x = 2\n");
    r.ok(&["add", "other.py"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn git_add_patch_stages_one_hunk() {
    let r = Repo::new();
    let base: String = (0..30).map(|i| format!("x{i} = {i}\n")).collect();
    let head = format!("from flask import Flask\napp = Flask(__name__)\n{base}");
    r.seed(&[("app.py", &head)]);
    r.install();
    // Two hunks: a bad call near the top, a harmless change at the bottom.
    let edited = head.replacen("x0 = 0\n", "x0 = 0\napp.run(host='0.0.0.0')\n", 1).replace("x29 = 29", "x29 = 290");
    r.write("app.py", &edited);
    // Stage only the second hunk (`n` then `y`).
    let mut add = clean(Command::new("git"));
    let mut child = add
        .current_dir(&r.root)
        .args(["add", "-p", "app.py"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"n\ny\n").unwrap();
    assert!(child.wait().unwrap().success());
    let out = r.commit(&[]);
    assert!(out.status.success(), "the bad hunk is not staged: {}", text(&out));
    // Now stage the bad hunk too.
    r.ok(&["add", "app.py"]);
    assert!(blocked(&r.commit(&[])));
}

#[test]
fn commit_all_and_commit_paths_use_the_temporary_index() {
    let r = Repo::new();
    r.seed(&[("app.py", GOOD), ("other.py", "x = 1\n")]);
    r.install();
    r.write("app.py", BAD);
    // Not staged: a plain commit of other.py passes ...
    r.write("other.py", "x = 2\n");
    let out = r.commit(&["other.py"]);
    assert!(out.status.success(), "`git commit other.py` does not hold app.py: {}", text(&out));
    // ... `git commit -a` takes app.py too: blocked.
    assert!(blocked(&r.commit(&["-a"])));
    // ... and so does `git commit app.py`.
    assert!(blocked(&r.commit(&["app.py"])));
    // A staged bad line is not part of `git commit other.py`.
    r.ok(&["add", "app.py"]);
    r.write("other.py", "x = 3\n");
    let out = r.commit(&["other.py"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn worktree_and_subdirectory() {
    let r = Repo::new();
    r.seed(&[("pkg/__init__.py", ""), ("README", "x\n")]);
    r.install();
    // From a subdirectory.
    r.write("pkg/server.py", BAD);
    r.ok(&["add", "pkg/server.py"]);
    let out = r.git_in(&r.root.join("pkg"), &["commit", "-m", "sub"]);
    assert!(blocked(&out), "{}", text(&out));
    assert!(text(&out).contains("pkg/server.py:3:1"), "{}", text(&out));
    r.ok(&["reset", "-q"]);
    // In a linked worktree (hooks are shared through the common dir).
    let wt = r.root.parent().unwrap().join("wt");
    r.ok(&["worktree", "add", "-q", wt.to_str().unwrap()]);
    std::fs::write(wt.join("app.py"), BAD).unwrap();
    let out = r.git_in(&wt, &["add", "app.py"]);
    assert!(out.status.success());
    let out = r.git_in(&wt, &["commit", "-m", "wt"]);
    assert!(blocked(&out), "{}", text(&out));
    std::fs::write(wt.join("app.py"), GOOD).unwrap();
    r.git_in(&wt, &["add", "app.py"]);
    let out = r.git_in(&wt, &["commit", "-m", "wt"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn deleted_binary_symlinked_and_submodule_files_are_skipped() {
    let r = Repo::new();
    r.seed(&[("legacy.py", BAD), ("target.txt", BAD)]);
    r.install();
    r.ok(&["rm", "-q", "legacy.py"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "deleting is fine: {}", text(&out));

    let mut binary = BAD.as_bytes().to_vec();
    binary.extend(b"\0\0\0\x01\x02");
    r.write("blob.py", binary);
    #[cfg(unix)]
    std::os::unix::fs::symlink("target.txt", r.root.join("link.py")).unwrap();
    r.ok(&["add", "-A"]);
    // A gitlink, as `git submodule add` records it.
    let head = r.head().unwrap();
    r.ok(&["update-index", "--add", "--cacheinfo", &format!("160000,{head},vendored.py")]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn non_utf8_blob_is_a_clear_error() {
    let r = Repo::new();
    r.install();
    r.write("latin.py", b"x = '\xe9'\n".as_slice());
    r.ok(&["add", "latin.py"]);
    let out = r.commit(&[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("latin.py: cannot decode: not valid UTF-8"), "{}", text(&out));
}

#[test]
fn merge_conflict_is_a_clear_error() {
    let r = Repo::new();
    r.seed(&[("app.py", "x = 1\n")]);
    r.ok(&["checkout", "-q", "-b", "other"]);
    r.write("app.py", "x = 2\n");
    r.ok(&["commit", "-q", "-am", "other"]);
    r.ok(&["checkout", "-q", "main"]);
    r.write("app.py", "x = 3\n");
    r.ok(&["commit", "-q", "-am", "main"]);
    let merge = r.git(&["merge", "-q", "other"]);
    assert!(!merge.status.success());
    let out = r.fbg(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("unmerged paths (app.py)"), "{}", text(&out));
}

#[test]
fn imports_resolve_through_the_index() {
    let r = Repo::new();
    // The committed app.py holds a Sanic app; the working tree a Flask one.
    r.seed(&[("app.py", "from sanic import Sanic\napp = Sanic('x')\n")]);
    r.install();
    r.write("app.py", "from flask import Flask\napp = Flask(__name__)\n");
    r.write("run.py", "from app import app\napp.run(host='0.0.0.0')\n");
    r.ok(&["add", "run.py"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "the index holds a Sanic app: {}", text(&out));
    r.write("run.py", "from app import app\napp.run(host='0.0.0.0', port=1)\n");
    r.ok(&["add", "run.py", "app.py"]);
    let out = r.commit(&[]);
    assert!(blocked(&out), "{}", text(&out));
}

#[test]
fn refs_mode_judges_lines_between_commits() {
    let r = Repo::new();
    r.seed(&[("app.py", GOOD)]);
    let from = r.head().unwrap();
    r.write("app.py", format!("{GOOD}app.run(host='0.0.0.0')\n"));
    r.ok(&["commit", "-q", "-am", "bad"]);
    let out = r.fbg(&["--from-ref", &from, "--to-ref", "HEAD"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("app.py:4:1: FBG001"), "{}", text(&out));
    // Refs given as flags are a range (CI), not a push: no push wording.
    assert!(text(&out).contains(&format!("1 finding in {from}..HEAD")), "{}", text(&out));
    assert!(!text(&out).contains("push"), "{}", text(&out));
    let out = r.fbg(&["--from-ref", "HEAD", "--to-ref", "HEAD"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = r.fbg(&["--from-ref", "nope", "--to-ref", "HEAD"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn install_respects_foreign_hooks_and_hooks_path() {
    let r = Repo::new();
    let hooks = r.root.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::write(hooks.join("pre-commit"), "#!/bin/sh\necho mine\n").unwrap();
    let out = r.fbg(&["install"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("not written by flask-bind-guard"));
    assert_eq!(std::fs::read_to_string(hooks.join("pre-commit")).unwrap(), "#!/bin/sh\necho mine\n");
    let out = r.fbg(&["install", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit.flask-bind-guard-backup")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    let out = r.fbg(&["uninstall"]);
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(hooks.join("pre-commit")).unwrap(), "#!/bin/sh\necho mine\n");

    // core.hooksPath
    r.ok(&["config", "core.hooksPath", "ci-hooks"]);
    let out = r.fbg(&["install"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(r.root.join("ci-hooks/pre-commit").exists());
    r.write("app.py", BAD);
    r.ok(&["add", "app.py"]);
    assert!(blocked(&r.commit(&[])));
}

/// The index fast path (cache tree, as git does) and libgit2's diff must
/// agree on what a change adds, over random changes of a repository.
#[test]
fn index_fast_path_agrees_with_libgit2() {
    use flask_bind_guard::git::{ChangeSpec, change, fast_change};
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for round in 0..8 {
        let r = Repo::new();
        let mut files = Vec::new();
        for d in 0..6 {
            for f in 0..5 {
                let path = format!("d{d}/s{}/m{f}.py", f % 2);
                let body: String = (0..20).map(|i| format!("x{i} = {i}\n")).collect();
                files.push((path, body));
            }
        }
        let seeded: Vec<(&str, &str)> = files.iter().map(|(p, b)| (p.as_str(), b.as_str())).collect();
        if round % 3 != 0 {
            r.seed(&seeded);
        } else {
            for (p, b) in &seeded {
                r.write(p, b);
            }
        }
        // Random edits, additions, a shebang script, sometimes a deletion.
        for _ in 0..6 {
            let (path, body) = &files[next(files.len())];
            let line = next(20);
            r.write(path, body.replacen(&format!("x{line} = {line}\n"), "app.run(host='0.0.0.0')\n", 1));
        }
        r.write(&format!("new{round}/added.py"), "y = 1\nz = 2\n");
        r.write("tool", "#!/usr/bin/env python3\nprint('x')\n");
        if round % 2 == 1 && round % 3 != 0 {
            // A deletion (maybe half a rename): the fast path stands aside.
            std::fs::remove_file(r.root.join(&files[0].0)).unwrap();
        }
        r.ok(&["add", "-A"]);
        let repo = git2::Repository::open(&r.root).unwrap();
        let spec = ChangeSpec { max_file_size: 1 << 20, ..ChangeSpec::default() };
        let deleted = round % 2 == 1 && round % 3 != 0;
        assert_eq!(fast_change(&repo, &spec).unwrap().is_some(), !deleted, "round {round}: fast path taken?");
        let fast = change(&repo, &spec).unwrap();
        let slow = change(&repo, &ChangeSpec { libgit2_only: true, ..spec }).unwrap();
        let show = |c: &flask_bind_guard::git::Change| -> Vec<String> {
            c.files.iter().map(|f| format!("{} {:?}", f.path.display(), f.added)).collect()
        };
        assert_eq!(show(&fast), show(&slow), "round {round}");
        assert!(!fast.files.is_empty());
    }
}

impl Repo {
    /// A hook that runs the fixer (as a user would configure it).
    fn fix_hook(&self, args: &str) {
        let hook = self.root.join(".git/hooks/pre-commit");
        std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
        std::fs::write(&hook, format!("#!/bin/sh\nexec '{BIN}' --fix {args}\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    fn staged(&self, path: &str) -> String {
        self.ok(&["show", &format!(":{path}")])
    }
}

#[test]
fn fix_in_the_hook_fixes_the_index_and_keeps_unstaged_work() {
    let r = Repo::new();
    let base: String = (0..12).map(|i| format!("x{i} = {i}\n")).collect();
    r.seed(&[("app.py", &format!("from flask import Flask\napp = Flask(__name__)\n{base}"))]);
    r.fix_hook("");
    // Stage a bad call, then keep editing the file without staging.
    let staged = format!("from flask import Flask\napp = Flask(__name__)\n{base}app.run(host='0.0.0.0')\n");
    r.write("app.py", &staged);
    r.ok(&["add", "app.py"]);
    let worktree = format!("# unstaged comment\n{}", staged.replace("x5 = 5", "x5 = 50"));
    r.write("app.py", &worktree);
    let out = r.commit(&[]);
    assert!(!out.status.success(), "the fixing hook stops the commit by default: {}", text(&out));
    assert!(text(&out).contains("+app.run(host='127.0.0.1')"), "{}", text(&out));
    assert_eq!(r.staged("app.py"), staged.replace("0.0.0.0", "127.0.0.1"));
    assert_eq!(
        std::fs::read_to_string(r.root.join("app.py")).unwrap(),
        worktree.replace("0.0.0.0", "127.0.0.1"),
        "the fix is carried into the working tree, the unstaged edits stay"
    );
    // Now the commit goes through.
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn fix_leaves_a_working_tree_edited_on_the_same_line() {
    let r = Repo::new();
    r.seed(&[("app.py", GOOD)]);
    r.fix_hook("");
    r.write("app.py", BAD);
    r.ok(&["add", "app.py"]);
    let mine = BAD.replace("\"0.0.0.0\")", "\"0.0.0.0\", port=8080)");
    r.write("app.py", &mine);
    let out = r.commit(&[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("the working tree is left as it is"), "{}", text(&out));
    assert_eq!(r.staged("app.py"), GOOD);
    assert_eq!(std::fs::read_to_string(r.root.join("app.py")).unwrap(), mine);
}

#[test]
fn commit_all_with_fix_and_exit_zero_commits_the_fixed_content() {
    let r = Repo::new();
    r.seed(&[("app.py", GOOD)]);
    r.fix_hook("--exit-zero-on-fix");
    r.write("app.py", BAD.replace("0.0.0.0", "::"));
    let out = r.commit(&["-a"]);
    assert!(out.status.success(), "{}", text(&out));
    let committed = r.ok(&["show", "HEAD:app.py"]);
    assert_eq!(committed, BAD.replace("0.0.0.0", "::1"));
    assert_eq!(r.ok(&["status", "--porcelain"]), "", "index, HEAD and working tree agree");
}

#[test]
fn a_held_index_lock_changes_nothing() {
    let r = Repo::new();
    r.seed(&[("app.py", GOOD)]);
    r.write("app.py", BAD);
    r.ok(&["add", "app.py"]);
    let index_before = std::fs::read(r.root.join(".git/index")).unwrap();
    std::fs::write(r.root.join(".git/index.lock"), "").unwrap();
    let out = r.fbg(&["--fix"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("index is locked"), "{}", text(&out));
    assert_eq!(std::fs::read(r.root.join(".git/index")).unwrap(), index_before);
    assert_eq!(std::fs::read_to_string(r.root.join("app.py")).unwrap(), BAD);
    std::fs::remove_file(r.root.join(".git/index.lock")).unwrap();
}

#[test]
fn fix_reaches_a_constant_in_another_file_of_the_same_change_only() {
    let server = "from flask import Flask\nfrom config import HOST\napp = Flask(__name__)\napp.run(host=HOST)\n";
    // Both files in the commit: the constant is fixed where it is set.
    let r = Repo::new();
    r.seed(&[("README", "x\n")]);
    r.fix_hook("--exit-zero-on-fix");
    r.write("config.py", "HOST = '0.0.0.0'\n");
    r.write("server.py", server);
    r.ok(&["add", "config.py", "server.py"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(r.ok(&["show", "HEAD:config.py"]), "HOST = '127.0.0.1'\n");
    assert_eq!(std::fs::read_to_string(r.root.join("config.py")).unwrap(), "HOST = '127.0.0.1'\n");

    // The constant committed earlier: not this commit's to change.
    let r = Repo::new();
    r.seed(&[("config.py", "HOST = '0.0.0.0'\n")]);
    r.fix_hook("");
    r.write("server.py", server);
    r.ok(&["add", "server.py"]);
    let out = r.commit(&[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("it is fixed there only when that file is part of the same change"), "{}", text(&out));
    assert_eq!(r.staged("config.py"), "HOST = '0.0.0.0'\n");
}

// ----- staged --fix: what it writes besides the index (issue 13) ----------

#[test]
fn fix_inside_commit_with_paths_fixes_the_real_index_too() {
    let r = Repo::new();
    r.seed(&[("app.py", GOOD), ("other.py", "x = 1\n")]);
    r.fix_hook("--exit-zero-on-fix");
    r.write("app.py", BAD);
    r.write("other.py", "x = 2\n");
    // `git commit app.py` commits from a temporary index; the fix must also
    // reach the real index, or the next commit would re-add "0.0.0.0".
    let out = r.commit(&["app.py"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(r.ok(&["show", "HEAD:app.py"]), GOOD);
    assert_eq!(r.staged("app.py"), GOOD);
    assert_eq!(std::fs::read_to_string(r.root.join("app.py")).unwrap(), GOOD);
    assert_eq!(r.ok(&["status", "--porcelain"]), " M other.py\n", "no staged revert of the fix");
    // `git commit -o` is the same; `git commit -a` still works (tested above).
    r.write("app.py", BAD.replace("0.0.0.0", "::"));
    let out = r.commit(&["-o", "app.py"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(r.ok(&["show", "HEAD:app.py"]), BAD.replace("0.0.0.0", "::1"));
    assert_eq!(r.ok(&["status", "--porcelain"]), " M other.py\n");
    assert!(!r.root.join(".git/index.lock").exists());

    // When the hook stops the commit, git drops both indexes; the working
    // tree keeps the fix, so the same command commits it next.
    {
        let r = Repo::new();
        r.seed(&[("app.py", GOOD)]);
        r.fix_hook("");
        r.write("app.py", BAD);
        let out = r.commit(&["app.py"]);
        assert!(!out.status.success(), "{}", text(&out));
        assert_eq!(std::fs::read_to_string(r.root.join("app.py")).unwrap(), GOOD);
        assert_eq!(r.ok(&["status", "--porcelain"]), "");
    }
}

fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

#[test]
fn fix_with_autocrlf_carries_the_fix_into_a_crlf_working_tree() {
    let r = Repo::new();
    r.ok(&["config", "core.autocrlf", "true"]);
    r.seed(&[("app.py", &crlf(GOOD))]);
    r.fix_hook("--exit-zero-on-fix");
    r.write("app.py", crlf(BAD));
    r.ok(&["add", "app.py"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("left as it is"), "{}", text(&out));
    assert_eq!(r.ok(&["show", "HEAD:app.py"]), GOOD, "the index holds LF");
    assert_eq!(std::fs::read_to_string(r.root.join("app.py")).unwrap(), crlf(GOOD), "the working tree keeps CRLF");
    assert_eq!(r.ok(&["status", "--porcelain"]), "");

    // A real unstaged edit on the fixed line is still found, and kept.
    {
        let r = Repo::new();
        r.ok(&["config", "core.autocrlf", "true"]);
        r.seed(&[("app.py", &crlf(GOOD))]);
        r.fix_hook("");
        r.write("app.py", crlf(BAD));
        r.ok(&["add", "app.py"]);
        let mine = crlf(&BAD.replace("\"0.0.0.0\")", "\"0.0.0.0\", port=8080)"));
        r.write("app.py", &mine);
        let out = r.commit(&[]);
        assert!(!out.status.success());
        assert!(text(&out).contains("it has unstaged edits on the fixed lines"), "{}", text(&out));
        assert_eq!(r.staged("app.py"), GOOD);
        assert_eq!(std::fs::read_to_string(r.root.join("app.py")).unwrap(), mine);
    }
}

#[test]
fn fix_with_eol_crlf_attribute_carries_the_fix_into_the_working_tree() {
    let r = Repo::new();
    r.seed(&[(".gitattributes", "*.py eol=crlf\n"), ("README", "x\n")]);
    r.fix_hook("--exit-zero-on-fix");
    r.write("app.py", crlf(BAD));
    r.ok(&["add", "app.py"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("left as it is"), "{}", text(&out));
    assert_eq!(r.ok(&["show", "HEAD:app.py"]), GOOD);
    assert_eq!(std::fs::read_to_string(r.root.join("app.py")).unwrap(), crlf(GOOD));
    assert_eq!(r.ok(&["status", "--porcelain"]), "");
}

#[test]
fn fix_writes_a_legacy_encoded_working_tree_back_in_kind() {
    let latin: &[u8] = b"# -*- coding: latin-1 -*-\nfrom flask import Flask\nx = '\xe9'\napp = Flask(__name__)\napp.run(host='0.0.0.0')\n";
    let fixed: &[u8] = b"# -*- coding: latin-1 -*-\nfrom flask import Flask\nx = '\xe9'\napp = Flask(__name__)\napp.run(host='127.0.0.1')\n";
    let r = Repo::new();
    r.seed(&[("README", "x\n")]);
    r.fix_hook("--exit-zero-on-fix");
    r.write("app.py", latin);
    r.ok(&["add", "app.py"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("left as it is"), "{}", text(&out));
    let committed = r.git(&["show", "HEAD:app.py"]).stdout;
    assert_eq!(committed, fixed);
    assert_eq!(std::fs::read(r.root.join("app.py")).unwrap(), fixed, "audit mode and staged mode agree");
    assert_eq!(r.ok(&["status", "--porcelain"]), "");
}

#[test]
fn a_staged_fix_refuses_an_entry_staged_again_since_the_check() {
    use flask_bind_guard::git::ChangeSpec;
    use flask_bind_guard::scan::ScanOptions;
    let r = Repo::new();
    r.seed(&[("app.py", GOOD)]);
    r.write("app.py", BAD);
    r.ok(&["add", "app.py"]);
    let repo = git2::Repository::open(&r.root).unwrap();
    let spec = ChangeSpec { max_file_size: 1 << 20, ..ChangeSpec::default() };
    let outcome = flask_bind_guard::staged::run_with_repo(&repo, &spec, &ScanOptions::default()).unwrap();
    assert_eq!(outcome.finding_count(), 1);
    // A `git add` between the check and the fix.
    let newer = BAD.replace("\"0.0.0.0\")", "\"0.0.0.0\", port=1)");
    r.write("app.py", &newer);
    r.ok(&["add", "app.py"]);
    let err = flask_bind_guard::staged_fix::fix_staged(&repo, &outcome, None, true).unwrap_err();
    assert!(err.to_string().contains("app.py was staged again while it was being checked"), "{err}");
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    assert_eq!(r.staged("app.py"), newer, "the later `git add` is kept");
    assert_eq!(std::fs::read_to_string(r.root.join("app.py")).unwrap(), newer);
    assert!(!r.root.join(".git/index.lock").exists());
    // Checked again, the same fix goes through.
    let outcome = flask_bind_guard::staged::run_with_repo(&repo, &spec, &ScanOptions::default()).unwrap();
    flask_bind_guard::staged_fix::fix_staged(&repo, &outcome, None, true).unwrap();
    assert_eq!(r.staged("app.py"), newer.replace("0.0.0.0", "127.0.0.1"));
}

#[cfg(unix)]
#[test]
fn staged_fix_leaves_a_symlinked_or_hard_linked_working_tree_file() {
    let r = Repo::new();
    r.seed(&[("app.py", GOOD)]);
    r.fix_hook("");
    r.write("app.py", BAD);
    r.ok(&["add", "app.py"]);
    std::fs::hard_link(r.root.join("app.py"), r.root.join("copy.txt")).unwrap();
    let out = r.commit(&[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains(
            "app.py: fixed in the index; the working tree is left as it is: cannot write it: it has 2 hard links"
        ),
        "{}",
        text(&out)
    );
    assert_eq!(r.staged("app.py"), GOOD);
    assert_eq!(std::fs::read_to_string(r.root.join("copy.txt")).unwrap(), BAD);
    assert_eq!(std::fs::read_to_string(r.root.join("app.py")).unwrap(), BAD);

    // The index holds a file, the working tree a link to one elsewhere.
    let r = Repo::new();
    r.seed(&[("app.py", GOOD)]);
    r.fix_hook("");
    r.write("app.py", BAD);
    r.ok(&["add", "app.py"]);
    let outside = r.root.parent().unwrap().join("outside.py");
    std::fs::write(&outside, BAD).unwrap();
    std::fs::remove_file(r.root.join("app.py")).unwrap();
    std::os::unix::fs::symlink(&outside, r.root.join("app.py")).unwrap();
    let out = r.commit(&[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains(
            "app.py: fixed in the index; the working tree is left as it is: it is a symbolic link in the working tree"
        ),
        "{}",
        text(&out)
    );
    assert_eq!(r.staged("app.py"), GOOD);
    assert!(std::fs::symlink_metadata(r.root.join("app.py")).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), BAD);
}

#[test]
fn fix_in_a_file_with_a_legacy_finding_fixes_the_added_one() {
    // The finding committed earlier is not this commit's; it must not make
    // the fix of the added one look as if it would not hold.
    let r = Repo::new();
    r.seed(&[("app.py", BAD)]);
    r.fix_hook("--exit-zero-on-fix");
    r.write("app.py", format!("{BAD}app.run(host='::', port=2)\n"));
    r.ok(&["add", "app.py"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(r.ok(&["show", "HEAD:app.py"]), format!("{BAD}app.run(host='::1', port=2)\n"));
    assert_eq!(r.ok(&["status", "--porcelain"]), "");
}

/// Connexion's `App.run` is Flask's development server in versions 1 and 2,
/// uvicorn in 3: the staged snapshot's own requirements decide (read from
/// the index, not the working tree).
#[test]
fn connexion_version_comes_from_the_staged_requirements() {
    const SERVER: &str = "import connexion\n\napp = connexion.App(__name__)\napp.run(host=\"0.0.0.0\", port=8080)\n";
    let cases = [("connexion[flask,uvicorn]\n", false), ("connexion>=2.6,<3\n", true), ("flask\n", true)];
    // First commit, and on top of one (git's index read directly).
    for ((requirements, blocks), seeded) in cases.into_iter().flat_map(|c| [(c, false), (c, true)]) {
        let r = Repo::new();
        if seeded {
            r.seed(&[("README.md", "x\n")]);
        }
        r.install();
        r.write("api/requirements.txt", requirements);
        r.write("api/server.py", SERVER);
        r.ok(&["add", "api"]);
        // The working tree says otherwise: the index is what is judged.
        r.write("api/requirements.txt", if blocks { "connexion>=3\n" } else { "connexion==2.14.2\n" });
        let out = r.commit(&[]);
        assert_eq!(blocked(&out), blocks, "{requirements}: {}", text(&out));
        if blocks {
            assert!(text(&out).contains("api/server.py:4:1: FBG001"), "{}", text(&out));
        }
    }
}

/// A helper's host passed by a caller in another module: the commit that
/// changes only the call blocks (at the helper's `app.run`, naming the
/// caller's line); once committed, editing the helper's file elsewhere
/// brings nothing in; `--all` reports it.
#[test]
fn a_caller_in_another_module_brings_in_the_helpers_finding() {
    const SERVER: &str = "from flask import Flask\n\napp = Flask(__name__)\n\n\ndef start(host=\"127.0.0.1\"):\n    app.run(host=host)\n";
    let r = Repo::new();
    r.seed(&[("server.py", SERVER), ("run.py", "from server import start\n\nstart()\n")]);
    r.install();
    r.write("run.py", "from server import start\n\nstart(host=\"0.0.0.0\")\n");
    r.ok(&["add", "run.py"]);
    let out = r.commit(&[]);
    assert!(blocked(&out), "{}", text(&out));
    assert!(text(&out).contains("server.py:7:5: FBG001"), "{}", text(&out));
    assert!(text(&out).contains("run.py:3"), "{}", text(&out));
    r.ok(&["commit", "-q", "--no-verify", "-m", "caller"]);
    r.write("server.py", format!("{SERVER}\n\ndef other():\n    return 1\n"));
    r.ok(&["add", "server.py"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = r.fbg(&["--all"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

/// Connexion 1/2's `run()` without a host binds every interface: a commit
/// adding such a call on an app made in another module blocks, though the
/// call's literals would settle it for a Flask app (so the facts cache
/// notes settled calls; run twice: cold and warm).
#[test]
fn a_hostless_connexion_run_on_an_imported_app_blocks() {
    let r = Repo::new();
    r.seed(&[
        ("requirements.txt", "connexion==2.14.2\n"),
        ("factory.py", "import connexion\n\n\ndef create_app():\n    return connexion.App(__name__)\n"),
        ("run.py", "from factory import create_app\n\napp = create_app()\n"),
    ]);
    r.install();
    r.write("run.py", "from factory import create_app\n\napp = create_app()\napp.run(port=8080)\n");
    r.ok(&["add", "run.py"]);
    for _ in 0..2 {
        let out = r.commit(&[]);
        assert!(blocked(&out), "{}", text(&out));
        assert!(text(&out).contains("run.py:4:1: FBG001"), "{}", text(&out));
    }
}

const HELPER: &str =
    "from flask import Flask\n\napp = Flask(__name__)\n\n\ndef start(host=\"127.0.0.1\"):\n    app.run(host=host)\n";

/// Callers in other modules, in the hook: renaming the caller brings
/// nothing in; a caller in an excluded file calls nothing; a constant the
/// caller passes, changed alone, and a wrapper's caller, one step further,
/// bring the helper's finding in.
#[test]
fn callers_in_other_modules_in_the_hook() {
    let caller = "from server import start\n\nstart(host=\"0.0.0.0\")\n";
    // Renamed caller: the finding was there before.
    let r = Repo::new();
    r.seed(&[("server.py", HELPER), ("run.py", caller)]);
    r.install();
    r.ok(&["mv", "run.py", "main.py"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "rename: {}", text(&out));
    // A caller in an excluded file.
    let r = Repo::new();
    r.seed(&[("server.py", HELPER), ("pyproject.toml", "[tool.flask-bind-guard]\nexclude = [\"tests/**\"]\n")]);
    r.install();
    r.write("tests/test_server.py", caller);
    r.ok(&["add", "tests"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "excluded: {}", text(&out));
    // The constant the caller passes changes alone.
    let r = Repo::new();
    r.seed(&[
        ("server.py", HELPER),
        ("config.py", "HOST = \"127.0.0.1\"\n"),
        ("run.py", "from config import HOST\nfrom server import start\n\nstart(host=HOST)\n"),
    ]);
    r.install();
    r.write("config.py", "HOST = \"0.0.0.0\"\n");
    r.ok(&["add", "config.py"]);
    let out = r.commit(&[]);
    assert!(blocked(&out), "constant: {}", text(&out));
    assert!(text(&out).contains("server.py:7:5: FBG001"), "{}", text(&out));
    // A wrapper's caller.
    let r = Repo::new();
    r.seed(&[
        ("server.py", HELPER),
        ("wrapper.py", "from server import start\n\n\ndef go(host=\"127.0.0.1\"):\n    start(host=host)\n"),
        ("run.py", "from wrapper import go\n\ngo()\n"),
    ]);
    r.install();
    r.write("run.py", "from wrapper import go\n\ngo(host=\"0.0.0.0\")\n");
    r.ok(&["add", "run.py"]);
    let out = r.commit(&[]);
    assert!(blocked(&out), "wrapper: {}", text(&out));
}
