//! `# noqa` is read with flake8/ruff's grammar: a comment that merely
//! mentions it suppresses nothing, and one that names no code we know is
//! reported beside the finding it fails to suppress.

mod common;

use std::process::Command;

fn audit(body: &str) -> (i32, String) {
    let dir = common::project(&[("app.py", body)]);
    let out = common::clean(Command::new(common::BIN)).current_dir(dir.path()).arg("app.py").output().unwrap();
    (out.status.code().unwrap_or(-1), common::text(&out))
}

const HEAD: &str = "from flask import Flask\napp = Flask(__name__)\n";

#[test]
fn mentions_and_lists_without_our_codes_suppress_nothing_and_say_so() {
    for (comment, warning) in [
        ("# TODO: remove the noqa from setup.cfg", None),
        ("# noqa: see ticket", Some("line 3: `# noqa:` is followed by no rule code")),
        ("# noqa: E501", Some("line 3: `# noqa: E501` names no rule of flask-bind-guard")),
        ("# nosec: reviewed", Some("line 3: `# nosec:` is followed by no test id")),
        ("# noqa:FBG003", Some("line 3: `# noqa: FBG003` names no rule")),
    ] {
        let (code, shown) = audit(&format!("{HEAD}app.run(host=\"0.0.0.0\")  {comment}\n"));
        assert_eq!(code, 1, "{comment}: {shown}");
        assert!(shown.contains("app.py:3:1: FBG001"), "{comment}: {shown}");
        match warning {
            Some(w) => assert!(shown.contains(w) && shown.contains("write `# noqa: FBG001`"), "{comment}: {shown}"),
            None => assert!(!shown.contains("line 3:"), "{comment}: {shown}"),
        }
    }
}

#[test]
fn our_codes_and_a_bare_noqa_suppress_without_a_word() {
    for comment in ["# noqa", "# noqa: FBG001", "# NOQA:fbg001,E501", "# noqa: S104", "# nosec B104"] {
        let (code, shown) = audit(&format!("{HEAD}app.run(host=\"0.0.0.0\")  {comment}\n"));
        assert_eq!(code, 0, "{comment}: {shown}");
        assert!(!shown.contains("line 3:"), "{comment}: {shown}");
    }
}
