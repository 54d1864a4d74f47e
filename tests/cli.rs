//! End-to-end tests of the built binary: exit codes, output formats,
//! colour rules, and bad input.

use std::io::Read;
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;

mod common;
use common::project_bytes as project;

fn bin() -> Command {
    let mut cmd = Command::cargo_bin("flask-bind-guard").unwrap();
    cmd.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    cmd
}

const BAD: &[u8] = b"from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\")\n";
const GOOD: &[u8] = b"from flask import Flask\napp = Flask(__name__)\napp.run(host=\"127.0.0.1\")\n";

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn exit_0_when_clean() {
    let p = project(&[("app.py", GOOD)]);
    let out = bin().current_dir(p.path()).arg(".").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), "");
}

#[test]
fn exit_1_with_findings_and_a_summary() {
    let p = project(&[("app.py", BAD), ("ok.py", GOOD)]);
    let out = bin().current_dir(p.path()).args(["--color", "never", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout_of(&out);
    assert!(text.starts_with("app.py:3:1: FBG001 "), "{text}");
    assert!(text.ends_with("Found 1 finding in 1 file.\n"), "{text}");
}

#[test]
fn human_output_snapshot() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let out = bin().current_dir(&demo).args(["--color", "never", "demo"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("human_demo", stdout_of(&out));
}

#[test]
fn json_output_snapshot_and_fields() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let out = bin().current_dir(&demo).args(["--format", "json", "demo"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout_of(&out);
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    let first = &parsed.as_array().unwrap()[0];
    for field in ["path", "line", "column", "end_line", "end_column", "rule", "severity", "message", "host"] {
        assert!(first.get(field).is_some(), "missing {field}");
    }
    insta::assert_snapshot!("json_demo", text);
}

#[test]
fn json_is_an_empty_array_when_clean() {
    let p = project(&[("app.py", GOOD)]);
    let out = bin().current_dir(p.path()).args(["--format", "json", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out).trim(), "[]");
}

#[test]
fn missing_path_is_an_error_and_the_rest_is_still_scanned() {
    let p = project(&[("app.py", BAD)]);
    let out = bin().current_dir(p.path()).args(["--color", "never", "nope.py", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("error: nope.py: cannot read"), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("app.py:3:1: FBG001"));
}

#[test]
fn undecodable_file_is_reported_and_others_scanned() {
    let p = project(&[("latin.py", b"x = '\xe9'\n"), ("app.py", BAD)]);
    let out = bin().current_dir(p.path()).args(["--color", "never", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("latin.py: cannot decode: not valid UTF-8 (line 1)"), "{err}");
    assert!(stdout_of(&out).contains("app.py:3:1: FBG001"));
}

#[test]
fn pep263_cookie_and_bom_and_crlf_are_read() {
    let p = project(&[
        ("latin.py", b"# -*- coding: latin-1 -*-\nfrom flask import Flask\nx = '\xe9'\napp = Flask('x')\napp.run(host='0.0.0.0')\n"),
        ("bom.py", b"\xef\xbb\xbffrom flask import Flask\r\napp = Flask('x')\r\napp.run(host='::')\r\n"),
    ]);
    let out = bin().current_dir(p.path()).args(["--format", "json", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let parsed: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let hosts: Vec<&str> = parsed.as_array().unwrap().iter().map(|f| f["host"].as_str().unwrap()).collect();
    assert_eq!(hosts, ["::", "0.0.0.0"]);
}

#[test]
fn syntax_errors_keep_what_can_be_found() {
    let p = project(&[(
        "broken.py",
        b"from flask import Flask\napp = Flask(__name__)\ndef f(:\n    pass\napp.run(host='0.0.0.0')\nclass\n",
    )]);
    let out = bin().current_dir(p.path()).args(["--format", "json", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    // The call after the broken definition is still read, exactly.
    assert_eq!(findings(&out), ["broken.py:5:1-5:24 FBG001 0.0.0.0"]);
    assert_eq!(stderr_of(&out), "");
}

/// `path:line:col-end_line:end_col RULE host` of each finding of a JSON run.
fn findings(out: &std::process::Output) -> Vec<String> {
    let parsed: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", stdout_of(out), stderr_of(out)));
    let at = |f: &serde_json::Value, k: &str| f[k].as_u64().unwrap();
    parsed
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}-{}:{} {} {}",
                f["path"].as_str().unwrap(),
                at(f, "line"),
                at(f, "column"),
                at(f, "end_line"),
                at(f, "end_column"),
                f["rule"].as_str().unwrap(),
                f["host"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn deep_nesting_and_huge_lines_do_not_crash() {
    let mut deep = b"from flask import Flask\napp = Flask(__name__)\nx = ".to_vec();
    deep.extend(std::iter::repeat_n(b'(', 20_000));
    deep.extend(std::iter::repeat_n(b')', 20_000));
    deep.extend(b"\napp.run(host='0.0.0.0')\n");
    let mut nested_calls = b"from flask import Flask\napp = Flask(__name__)\napp.run(host=".to_vec();
    nested_calls.extend(std::iter::repeat_n(&b"str("[..], 5_000).flatten());
    nested_calls.extend(b"'0.0.0.0'");
    nested_calls.extend(std::iter::repeat_n(b')', 5_000));
    nested_calls.extend(b")\n");
    let p = project(&[("deep.py", &deep), ("calls.py", &nested_calls)]);
    let out = bin().current_dir(p.path()).args(["--format", "json", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    // The call after 20,000 parentheses is found; a host 5,000 calls deep
    // is past what the evaluator follows, so it is unknown: not reported,
    // and not an error either.
    assert_eq!(findings(&out), ["deep.py:4:1-4:24 FBG001 0.0.0.0"]);
    assert_eq!(stderr_of(&out), "");
}

#[test]
fn files_over_the_size_limit_get_a_note_not_an_error() {
    let p = project(&[("big.py", BAD)]);
    let out = bin().current_dir(p.path()).args(["--max-file-size", "10", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr_of(&out).contains("note: big.py: skipped"), "{}", stderr_of(&out));
}

#[test]
fn large_extensionless_files_are_judged_by_their_shebang_before_their_size() {
    // Data without a shebang is not Python, whatever its size: no note.
    let mut data = b"id,value\n".to_vec();
    data.resize(5000, b'x');
    let mut script = b"#!/usr/bin/env python3\n".to_vec();
    script.extend_from_slice(BAD);
    script.resize(5000, b'\n');
    let p = project(&[("data/dump", &data), ("bin/serve", &script)]);
    let out = bin().current_dir(p.path()).args(["--max-file-size", "1000", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(!err.contains("dump"), "{err}");
    // A Python script over the limit is still skipped with a note.
    assert!(err.contains("note: bin/serve: skipped: 5000 bytes"), "{err}");
    // Under the limit, the script is checked.
    let out = bin().current_dir(p.path()).args(["--max-file-size", "6000", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("bin/serve:4:"), "{}", stdout_of(&out));
    assert!(!stderr_of(&out).contains("dump"), "{}", stderr_of(&out));
}

#[test]
fn control_characters_never_reach_the_terminal_raw() {
    let p = project(&[(
        "evil.py",
        b"from flask import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0')  # \x1b[2J\x1b]0;pwned\x07\n",
    )]);
    let out = bin().current_dir(p.path()).args(["--color", "never", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!out.stdout.contains(&0x1b) && !out.stdout.contains(&0x07));
    assert!(stdout_of(&out).contains("\u{241b}[2J"));
}

#[test]
fn colour_follows_flag_then_no_color_then_clicolor_force() {
    let p = project(&[("app.py", BAD)]);
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = bin();
        cmd.current_dir(p.path()).args(args).arg(".");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap().stdout.contains(&0x1b)
    };
    assert!(!run(&[], &[]), "auto: a pipe is not a terminal");
    assert!(run(&["--color", "always"], &[("NO_COLOR", "1")]));
    assert!(!run(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]));
    assert!(run(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(!run(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
}

#[test]
fn no_path_outside_a_repository_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("not inside a git repository") && err.contains("give paths to audit files"), "{err}");
}

#[test]
fn bad_flag_exits_2() {
    let out = bin().arg("--format=xml").arg(".").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn explain_prints_the_rule_doc() {
    let out = bin().args(["explain", "FBG002"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout_of(&out).starts_with("# FBG002: flask-debugger-all-interfaces"));
    let out = bin().args(["explain", "E501"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn readme_holds_the_rule_docs() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for rule in ["FBG001", "FBG002"] {
        let out = bin().args(["explain", rule]).output().unwrap();
        let doc = stdout_of(&out);
        // The README nests the rule docs one heading level deeper.
        let nested = doc.lines().map(|l| if l.starts_with('#') { format!("#{l}") } else { l.to_string() });
        let nested: Vec<String> = nested.collect();
        assert!(readme.contains(&nested.join("\n")), "README.md is missing the text of `explain {rule}`");
    }
}

#[test]
fn gitignored_files_are_skipped_but_explicit_ones_are_not() {
    let p = project(&[(".gitignore", b"build/\n"), ("build/gen.py", BAD)]);
    let out = bin().current_dir(p.path()).arg(".").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = bin().current_dir(p.path()).arg("build/gen.py").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn broken_pipe_is_not_an_error() {
    let mut body = b"from flask import Flask\napp = Flask(__name__)\n".to_vec();
    for _ in 0..2000 {
        body.extend(b"app.run(host='0.0.0.0')\n");
    }
    let p = project(&[("many.py", &body)]);
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_flask-bind-guard"))
        .current_dir(p.path())
        .args(["--color", "never", "."])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // stdout is closed now; the next writes fail with EPIPE.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr_of(&out).contains("panicked"), "{}", stderr_of(&out));
    assert!(!stderr_of(&out).contains("error"), "{}", stderr_of(&out));
}

#[test]
fn imports_resolve_through_a_project_root_above_the_working_directory() {
    let p = project(&[
        ("web/app.py", b"from flask import Flask\napp = Flask(__name__)\n"),
        ("web/run.py", b"from web.app import app\napp.run(host='0.0.0.0')\n"),
    ]);
    let out = bin().current_dir(p.path().join("web")).args(["--color", "never", "run.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(stdout_of(&out).starts_with("run.py:2:1: FBG001"), "{}", stdout_of(&out));
}

/// Run the binary in `dir` with its stdout a pipe nobody reads: the read
/// end is closed before the program can write, so every write fails with
/// EPIPE.
fn with_closed_stdout(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_flask-bind-guard"))
        .current_dir(dir)
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("PRE_COMMIT_FROM_REF")
        .env_remove("PRE_COMMIT_TO_REF")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_pipe_is_success_on_every_output_path() {
    // Far more output than a pipe buffers (64 KiB), in every format.
    let mut body = b"from flask import Flask\napp = Flask(__name__)\n".to_vec();
    for _ in 0..20 {
        body.extend(b"app.run(host='0.0.0.0')\n");
    }
    let files: Vec<(String, &[u8])> = (0..100).map(|i| (format!("m{i}.py"), &body[..])).collect();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    let p = project(&files);
    let cases: &[(&[&str], i32)] = &[
        (&["--format", "human", "."], 1),
        (&["--format", "json", "."], 1),
        (&["--format", "sarif", "."], 1),
        (&["--format", "github", "."], 1),
        (&["--diff", "."], 1),
        (&["explain", "FBG002"], 0),
        (&["man"], 0),
        (&["completions", "bash"], 0),
        (&["completions", "zsh"], 0),
        (&["completions", "fish"], 0),
    ];
    for (args, code) in cases {
        let out = with_closed_stdout(p.path(), args);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("error"), "{args:?}: {err}");
    }
}

#[test]
fn other_write_errors_are_errors() {
    // /dev/full: every write fails with ENOSPC.
    if !Path::new("/dev/full").exists() {
        return;
    }
    let p = project(&[("app.py", BAD)]);
    for args in [
        &["."][..],
        &["--format", "json", "."],
        &["--diff", "."],
        &["explain", "FBG001"],
        &["man"],
        &["completions", "bash"],
    ] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = StdCommand::new(env!("CARGO_BIN_EXE_flask-bind-guard"))
            .current_dir(p.path())
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("error: cannot write output:") && !err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn install_outside_a_repository_says_it_needs_one() {
    let dir = tempfile::tempdir().unwrap();
    for (command, whose) in [("install", "whose commits it should guard"), ("uninstall", "whose hook it should remove")]
    {
        let out = bin()
            .current_dir(dir.path())
            .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .arg(command)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = stderr_of(&out);
        assert!(err.starts_with(&format!("error: `{command}` needs a git repository")), "{err}");
        assert!(err.contains(&format!("run it inside the repository {whose}")), "{err}");
        assert!(!err.contains("paths to audit"), "{err}");
    }
}

#[test]
fn refs_or_all_given_as_flags_do_not_mix_with_paths() {
    let r = common::Repo::new();
    r.seed(&[("app.py", std::str::from_utf8(BAD).unwrap())]);
    for args in
        [&["--all", "app.py"][..], &["--from-ref", "HEAD", "--to-ref", "HEAD", "."], &["--pre-commit", "--all", "."]]
    {
        let out = r.fbg(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing is checked");
        let err = stderr_of(&out);
        let flag = if args.contains(&"--all") { "--all" } else { "--from-ref/--to-ref" };
        assert!(err.starts_with(&format!("error: {flag} ")), "{err}");
        assert!(err.contains("drop"), "says what to do: {err}");
    }
    // The refs from a flag and the environment's refs are still refused.
    let out = common::clean(StdCommand::new(common::BIN))
        .current_dir(&r.root)
        .args(["--from-ref", "HEAD", "app.py"])
        .env("PRE_COMMIT_TO_REF", "HEAD")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
}

#[test]
fn refs_from_the_environment_with_paths_judge_the_range_in_those_paths() {
    let r = common::Repo::new();
    let good = std::str::from_utf8(GOOD).unwrap();
    r.seed(&[("a.py", good), ("sub/b.py", good), ("old.py", std::str::from_utf8(BAD).unwrap())]);
    let from = r.head().unwrap();
    r.write("a.py", format!("{good}app.run(host='0.0.0.0')\n"));
    r.write("sub/b.py", format!("{good}app.run(host='::')\n"));
    r.ok(&["commit", "-q", "-am", "push me"]);
    let run = |args: &[&str]| {
        common::clean(StdCommand::new(common::BIN))
            .current_dir(&r.root)
            .args(args)
            .env("PRE_COMMIT_FROM_REF", &from)
            .env("PRE_COMMIT_TO_REF", "HEAD")
            .output()
            .unwrap()
    };
    for pre_commit in [false, true] {
        let with = |paths: &[&'static str]| {
            let mut args = vec!["--format", "json"];
            if pre_commit {
                args.push("--pre-commit");
            }
            args.extend(paths);
            let out = run(&args);
            let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let found: Vec<String> = findings
                .as_array()
                .unwrap()
                .iter()
                .map(|f| format!("{}:{}", f["path"].as_str().unwrap(), f["line"]))
                .collect();
            (out.status.code(), found)
        };
        assert_eq!(with(&["a.py"]), (Some(1), vec!["a.py:4".to_string()]), "--pre-commit {pre_commit}");
        assert_eq!(with(&["sub"]), (Some(1), vec!["sub/b.py:4".to_string()]), "--pre-commit {pre_commit}");
        assert_eq!(with(&["a.py", "sub/b.py"]).1.len(), 2, "--pre-commit {pre_commit}");
        // old.py's finding is not in the range: not reported.
        assert_eq!(with(&["old.py"]), (Some(0), vec![]), "--pre-commit {pre_commit}");
    }
}

#[test]
fn exit_zero_reports_findings_but_exits_0_and_errors_still_exit_2() {
    let p = project(&[("app.py", BAD)]);
    for format in ["human", "json", "sarif", "github", "gitlab"] {
        let out = bin().current_dir(p.path()).args(["--exit-zero", "--format", format, "."]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}");
        assert!(stdout_of(&out).contains("FBG001"), "{format}: the findings are still reported");
    }
    // An error: a missing path, an unreadable file, a bad flag.
    let out = bin().current_dir(p.path()).args(["--exit-zero", ".", "missing.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let out = bin().current_dir(p.path()).args(["--exit-zero", "--format", "xml", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // --diff with something to fix: 1, so 0 with --exit-zero.
    let out = bin().current_dir(p.path()).args(["--exit-zero", "--diff", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let clean = project(&[("app.py", GOOD)]);
    let out = bin().current_dir(clean.path()).args(["--exit-zero", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn exit_zero_in_staged_mode_reports_without_claiming_a_block() {
    let r = common::Repo::new();
    r.seed(&[("app.py", common::GOOD)]);
    r.write("app.py", common::BAD);
    r.ok(&["add", "app.py"]);
    let out = r.fbg(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout_of(&out).contains("blocks this commit"), "{}", stdout_of(&out));
    let out = r.fbg(&["--exit-zero"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout_of(&out);
    assert!(text.contains("app.py:3:1: FBG001") && !text.contains("block"), "{text}");
    // A range: the same.
    let out = r.fbg(&["--exit-zero", "--format", "gitlab", "--from-ref", "HEAD", "--to-ref", "HEAD"]);
    assert_eq!((out.status.code(), stdout_of(&out).trim()), (Some(0), "[]"));
}

#[test]
fn diff_and_framework_fix_with_no_python_change_are_clean() {
    // A commit with no Python file (nothing staged, or a text file only):
    // `--diff`, and `--fix` under a framework (`args: [--fix]`, the hook
    // always runs), have nothing to do and exit 0, not a silent 2.
    let r = common::Repo::new();
    r.seed(&[("a.py", "x = 1\n")]);
    for args in [&["--diff"][..], &["--pre-commit", "--fix"], &["--pre-commit", "--diff"]] {
        let out = r.fbg(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", common::text(&out));
    }
    r.write("notes.txt", "hello\n");
    r.ok(&["add", "notes.txt"]);
    for args in [&["--diff"][..], &["--pre-commit", "--fix"]] {
        let out = r.fbg(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", common::text(&out));
    }
}

/// A repository that is itself a package named like a framework (`dash/`
/// holding `.git` and an `__init__.py` that even provides a `Dash`) is an
/// application: its packages are counted from its root down, whichever
/// directory the scan starts from.
#[test]
fn a_repository_named_like_a_framework_is_checked_from_anywhere() {
    let outer = tempfile::tempdir().unwrap();
    let repo = outer.path().join("dash");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::write(repo.join("__init__.py"), "from .board import Dash\n").unwrap();
    std::fs::write(repo.join("board.py"), "class Dash:\n    pass\n").unwrap();
    std::fs::write(repo.join("app.py"), BAD).unwrap();
    for (cwd, arg) in
        [(&repo, "."), (&outer.path().to_path_buf(), "dash"), (&outer.path().to_path_buf(), "dash/app.py")]
    {
        let out = bin().current_dir(cwd).args([arg, "--format", "json"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "from {} with {arg}: {}", cwd.display(), stdout_of(&out));
        assert!(stdout_of(&out).contains("app.py"), "from {} with {arg}", cwd.display());
    }
}

/// An audit of `args` from `cwd` in JSON, with or without the prefilter:
/// its exit code and output.
fn audit_json(cwd: &std::path::Path, args: &[&str], prefilter: bool) -> (Option<i32>, String) {
    let mut cmd = bin();
    cmd.current_dir(cwd).args(args).args(["--format", "json"]);
    if !prefilter {
        cmd.arg("--no-prefilter");
    }
    let out = cmd.output().unwrap();
    (out.status.code(), stdout_of(&out))
}

/// A Connexion 1/2 `App.run(port=8080)` binds every interface without a
/// host: its project declares Connexion, and that is asked for the file
/// with the call, whichever paths the command line names with it.
#[test]
fn a_declared_connexion_counts_for_its_own_files_among_several_paths() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("svc")).unwrap();
    std::fs::create_dir_all(root.join("svc-b")).unwrap();
    std::fs::create_dir_all(root.join("api")).unwrap();
    std::fs::write(root.join("svc/requirements.txt"), "connexion==2.14.2\n").unwrap();
    std::fs::write(root.join("svc/factory.py"), "import connexion\napp = connexion.App(__name__)\n").unwrap();
    std::fs::write(root.join("svc/run.py"), "from factory import app\napp.run(port=8080)\n").unwrap();
    std::fs::write(root.join("svc-b/x.py"), "x = 1\n").unwrap();
    std::fs::write(root.join("api/x.py"), "x = 1\n").unwrap();
    for args in [["svc/run.py", "svc-b/x.py"], ["api/x.py", "svc/run.py"], ["svc-b/x.py", "svc/run.py"]] {
        for prefilter in [true, false] {
            let (code, shown) = audit_json(root, &args, prefilter);
            assert_eq!(code, Some(1), "{args:?} (prefilter {prefilter}): {shown}");
            assert!(shown.contains("svc/run.py"), "{args:?} (prefilter {prefilter}): {shown}");
        }
    }
}

/// Audited from a subdirectory as `..`: a module imported through the
/// project root (`from ns.web import app` in `ns/run.py`) is found, as
/// when the project is audited from its root.
#[test]
fn an_audit_of_the_parent_directory_follows_imports_through_the_project_root() {
    let outer = tempfile::tempdir().unwrap();
    let proj = outer.path().join("proj");
    std::fs::create_dir_all(proj.join("ns")).unwrap();
    std::fs::write(proj.join("setup.py"), "").unwrap();
    std::fs::write(proj.join("ns/web.py"), "from flask import Flask\napp = Flask(__name__)\n").unwrap();
    std::fs::write(proj.join("ns/run.py"), "from ns.web import app\napp.run(host=\"0.0.0.0\")\n").unwrap();
    for (cwd, arg) in [(outer.path().to_path_buf(), "proj"), (proj.clone(), "."), (proj.join("ns"), "..")] {
        for prefilter in [true, false] {
            let (code, shown) = audit_json(&cwd, &[arg], prefilter);
            assert_eq!(code, Some(1), "from {} with {arg} (prefilter {prefilter}): {shown}", cwd.display());
            assert!(shown.contains("run.py"), "from {} with {arg}: {shown}", cwd.display());
        }
    }
}

/// A vendored framework below the directory the audit runs from is the
/// framework's source wherever the project root is (`..` from a
/// subdirectory); its namespace subdirectories (`flask/sansio/`) too.
#[test]
fn a_vendored_framework_is_recognised_from_a_subdirectory() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    let svc = root.join("svc");
    std::fs::create_dir_all(svc.join("vendor/flask/sansio")).unwrap();
    std::fs::write(svc.join("vendor/flask/__init__.py"), "from .app import Flask\n").unwrap();
    // What a framework's own source does: start its server on every
    // interface (checked like an application's code, it is a finding).
    let framework = "from werkzeug.serving import run_simple\n\n\nclass Flask:\n    def run(self, host=None, port=None):\n        run_simple(host or \"0.0.0.0\", port or 5000, self)\n";
    std::fs::write(svc.join("vendor/flask/app.py"), framework).unwrap();
    std::fs::write(svc.join("vendor/flask/sansio/app.py"), framework).unwrap();
    std::fs::write(svc.join("app.py"), BAD).unwrap();
    for (cwd, arg) in [(root.to_path_buf(), "."), (svc.clone(), "."), (svc.join("vendor"), "..")] {
        let out = bin().current_dir(&cwd).args([arg, "--format", "json"]).output().unwrap();
        let shown = stdout_of(&out);
        assert_eq!(out.status.code(), Some(1), "from {} with {arg}: {shown}", cwd.display());
        assert!(shown.contains("app.py"), "from {} with {arg}: {shown}", cwd.display());
        assert!(!shown.contains("vendor"), "from {} with {arg}: {shown}", cwd.display());
    }
}
