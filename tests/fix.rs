//! `--fix` and `--diff` end to end: exact bytes, idempotence, what is left
//! alone, and a generated corpus where every fix must hold.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

fn bin(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("flask-bind-guard").unwrap();
    cmd.current_dir(dir).env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE").env_remove("GIT_INDEX_FILE");
    cmd
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn project(name: &str, body: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join(name), body).unwrap();
    dir
}

const MIXED: &[u8] = b"from flask import Flask\r\nimport os\r\nHOST = \"0.0.0.0\"\r\nSHARED = \"0.0.0.0\"\r\nprint(SHARED)\r\napp = Flask(__name__)  # caf\xc3\xa9 \xe2\x80\x94 \xe6\x97\xa5\r\napp.run(host=HOST)\r\napp.run(host=r\"::\", port=1)\r\napp.run(\r\n    host=os.environ.get(\"H\", '''::0'''),\r\n    debug=True,\r\n)\r\napp.run(**{\"host\": \"0\"})\r\napp.run(host='0.0' '.0.0')\r\napp.run(host=SHARED)\r\n";

#[test]
fn fix_rewrites_exactly_the_literals() {
    let p = project("app.py", MIXED);
    let out = bin(p.path()).args(["--fix", "--color", "never", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let got = std::fs::read(p.path().join("app.py")).unwrap();
    let want = String::from_utf8(MIXED.to_vec())
        .unwrap()
        .replacen("HOST = \"0.0.0.0\"", "HOST = \"127.0.0.1\"", 1)
        .replace("r\"::\"", "r\"::1\"")
        .replace("'''::0'''", "'''::1'''")
        .replace("{\"host\": \"0\"}", "{\"host\": \"127.0.0.1\"}")
        .replace("'0.0' '.0.0'", "'127.0.0.1'");
    assert_eq!(String::from_utf8(got).unwrap(), want);
    assert!(text(&out).contains("`SHARED` is used for more than the server host"), "{}", text(&out));
    assert!(text(&out).contains("Fixed 5 findings in 1 file; 1 left to fix by hand."), "{}", text(&out));
    // A second run changes nothing; only the shared constant remains.
    let before = std::fs::read(p.path().join("app.py")).unwrap();
    let out = bin(p.path()).args(["--fix", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(p.path().join("app.py")).unwrap(), before);
    let out = bin(p.path()).args(["--format", "json", "app.py"]).output().unwrap();
    let left: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(left.as_array().unwrap().len(), 1);
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(p.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

/// A callable that is the development server on one path only: its host
/// also reaches the other server, so the call is left for a hand fix.
#[test]
fn a_call_shared_with_another_server_is_left_alone() {
    let body = b"import os\nfrom functools import partial\nfrom flask import Flask\nfrom waitress import serve\napp = Flask(__name__)\nserver = app.run if os.getenv('DEV') == '1' else partial(serve, app)\nserver(host='0.0.0.0', port=8080)\n";
    let p = project("app.py", body);
    let out = bin(p.path()).args(["--fix", "--color", "never", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(std::fs::read(p.path().join("app.py")).unwrap(), body);
    assert!(text(&out).contains("the development server on some paths only"), "{}", text(&out));
}

#[test]
fn diff_prints_and_writes_nothing() {
    let p = project("app.py", MIXED);
    let out = bin(p.path()).args(["--diff", "--color", "never", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(p.path().join("app.py")).unwrap(), MIXED);
    insta::assert_snapshot!("diff_mixed", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn exit_zero_on_fix_when_everything_was_fixed() {
    let p = project("app.py", b"from flask import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0')\n");
    let out = bin(p.path()).args(["--fix", "--exit-zero-on-fix", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = bin(p.path()).arg("app.py").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn bom_and_permissions_are_kept() {
    let p = project("app.py", b"\xef\xbb\xbffrom flask import Flask\napp = Flask(__name__)\napp.run(host='::')\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p.path().join("app.py"), std::fs::Permissions::from_mode(0o754)).unwrap();
    }
    let out = bin(p.path()).args(["--fix", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        std::fs::read(p.path().join("app.py")).unwrap(),
        b"\xef\xbb\xbffrom flask import Flask\napp = Flask(__name__)\napp.run(host='::1')\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(p.path().join("app.py")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o754);
    }
}

#[test]
fn legacy_encodings_are_written_back_in_kind() {
    let latin = b"# -*- coding: latin-1 -*-\nfrom flask import Flask\nx = '\xe9'\napp = Flask(__name__)\napp.run(host='0.0.0.0')\n";
    let p = project("app.py", latin);
    let out = bin(p.path()).args(["--fix", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let want = b"# -*- coding: latin-1 -*-\nfrom flask import Flask\nx = '\xe9'\napp = Flask(__name__)\napp.run(host='127.0.0.1')\n";
    assert_eq!(std::fs::read(p.path().join("app.py")).unwrap(), want);

    let sjis =
        b"# coding: shift_jis\nfrom flask import Flask\nx = '\x82\xa0'\napp = Flask(__name__)\napp.run(host='::')\n";
    let p = project("app.py", sjis);
    let out = bin(p.path()).args(["--fix", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let want =
        b"# coding: shift_jis\nfrom flask import Flask\nx = '\x82\xa0'\napp = Flask(__name__)\napp.run(host='::1')\n";
    assert_eq!(std::fs::read(p.path().join("app.py")).unwrap(), want);
}

/// Files built from fragments: after `--fix`, a re-scan finds only what
/// the fixer said it left, and every byte outside the rewritten literals
/// is unchanged.
#[test]
fn generated_files_fix_cleanly() {
    let hosts = ["\"0.0.0.0\"", "'::'", "r'0'", "\"\"\"0:0:0:0:0:0:0:0\"\"\"", "u\"0.0.0.0\""];
    let lines = [
        "app.run(host={h})\n",
        "app.run({h}, 5000)\n",
        "app.run(\n    host={h},\n    port=1,\n)\n",
        "app.run(host=os.getenv('H', {h}))\n",
        "app.run(**{{'host': {h}, 'port': 2}})\n",
        "print('app.run(host={h})')  # é\n",
        "app.run(host='127.0.0.1')\n",
    ];
    let mut seed = 12345u64;
    let mut next = |n: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) % n as u64) as usize
    };
    for round in 0..20 {
        let mut body = String::from("import os\nfrom flask import Flask\napp = Flask(__name__)\n");
        let mut expected_fixed = body.clone();
        for _ in 0..6 {
            let h = hosts[next(hosts.len())];
            let line = lines[next(lines.len())];
            body.push_str(&line.replace("{h}", h).replace("{{", "{").replace("}}", "}"));
            let fixed_host = if h.contains(':') && !h.contains("0.0") {
                h.replace("::", "::1").replace("0:0:0:0:0:0:0:0", "::1")
            } else {
                h.replace("0.0.0.0", "127.0.0.1").replace("'0'", "'127.0.0.1'")
            };
            let fixed_line = if line.starts_with("print") { h.to_string() } else { fixed_host };
            expected_fixed.push_str(&line.replace("{h}", &fixed_line).replace("{{", "{").replace("}}", "}"));
        }
        let p = project("gen.py", body.as_bytes());
        let out = bin(p.path()).args(["--fix", "--exit-zero-on-fix", "gen.py"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "round {round}: {}\n{body}", text(&out));
        let got = std::fs::read_to_string(p.path().join("gen.py")).unwrap();
        assert_eq!(got, expected_fixed, "round {round}");
        let out = bin(p.path()).arg("gen.py").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "round {round}: {}", text(&out));
    }
}

#[test]
fn fix_rewrites_the_default_the_verdict_rests_on() {
    let src = "import argparse\n\nfrom flask import Flask\n\napp = Flask(__name__)\nparser = argparse.ArgumentParser()\nparser.add_argument(\"--host\", default=\"0.0.0.0\")\nargs = parser.parse_args()\nCONFIG = {\"host\": \"::\"}\n\n\ndef serve(host=\"0.0.0.0\"):\n    app.run(host=host)\n\n\ndef start(host):\n    app.run(host=host)\n\n\napp.run(host=args.host)\napp.run(host=CONFIG[\"host\"])\nstart(\"0.0.0.0\")\n";
    let p = project("app.py", src.as_bytes());
    let out = bin(p.path()).args(["--fix", "--color", "never", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let got = std::fs::read_to_string(p.path().join("app.py")).unwrap();
    let want = src
        .replace("default=\"0.0.0.0\"", "default=\"127.0.0.1\"")
        .replace("{\"host\": \"::\"}", "{\"host\": \"::1\"}")
        .replace("def serve(host=\"0.0.0.0\")", "def serve(host=\"127.0.0.1\")");
    assert_eq!(got, want, "{}", text(&out));
    // What a caller passes is the caller's: a note, not an edit.
    assert!(text(&out).contains("passed by the call at line 22"), "{}", text(&out));
    assert!(text(&out).contains("Fixed 3 findings in 1 file; 1 left to fix by hand."), "{}", text(&out));
}

#[test]
fn one_fix_that_cannot_hold_does_not_cost_the_others() {
    // `serve`'s default is the host of its first call, but its second call
    // passes "0.0.0.0" too: rewriting the default would not end the
    // finding. The dict and the local variable are fixed all the same.
    let src = "from flask import Flask\n\napp = Flask(__name__)\nCONFIG = {\"host\": \"0.0.0.0\"}\n\n\ndef serve(host=\"0.0.0.0\"):\n    app.run(host=host)\n\n\ndef main():\n    bind = \"0.0.0.0\"\n    app.run(host=bind)\n\n\nserve()\nserve(\"0.0.0.0\")\napp.run(host=CONFIG[\"host\"])\n";
    let p = project("app.py", src.as_bytes());
    let out = bin(p.path()).args(["--fix", "--color", "never", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let got = std::fs::read_to_string(p.path().join("app.py")).unwrap();
    let want = src
        .replace("{\"host\": \"0.0.0.0\"}", "{\"host\": \"127.0.0.1\"}")
        .replace("bind = \"0.0.0.0\"", "bind = \"127.0.0.1\"");
    assert_eq!(got, want, "{}", text(&out));
    assert!(text(&out).contains("fix refused: a finding would remain after it"), "{}", text(&out));
    assert!(text(&out).contains("Fixed 2 findings in 1 file; 1 left to fix by hand."), "{}", text(&out));
}

#[test]
fn a_dict_value_read_for_more_than_the_host_is_left_alone() {
    let src = "import socket\n\nfrom flask import Flask\n\napp = Flask(__name__)\nCONFIG = {\"host\": \"0.0.0.0\"}\nsocket.socket().bind((CONFIG[\"host\"], 9100))\napp.run(host=CONFIG[\"host\"])\n";
    let p = project("app.py", src.as_bytes());
    let out = bin(p.path()).args(["--fix", "--color", "never", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(p.path().join("app.py")).unwrap(), src);
    assert!(text(&out).contains("key \"host\" is read for more than the server host"), "{}", text(&out));
}

#[test]
fn a_single_fix_that_cannot_hold_is_a_note_at_its_finding() {
    // Rewriting the default would leave the second call's "0.0.0.0".
    let src = "from flask import Flask\n\napp = Flask(__name__)\n\n\ndef serve(host=\"0.0.0.0\"):\n    app.run(host=host)\n\n\nserve()\nserve(\"0.0.0.0\")\n";
    let p = project("app.py", src.as_bytes());
    let out = bin(p.path()).args(["--fix", "--color", "never", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(p.path().join("app.py")).unwrap(), src);
    assert!(
        text(&out).contains("app.py:7:5: not auto-fixable: fix refused: a finding would remain after it"),
        "{}",
        text(&out)
    );
}

// ----- links (issue 13) ---------------------------------------------------

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn fix_through_a_symlink_writes_its_target_and_keeps_the_link() {
    use std::os::unix::fs::PermissionsExt;
    let bad = b"from flask import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0')\n";
    let p = project("real.py", bad);
    let real = p.path().join("real.py");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("real.py", p.path().join("link.py")).unwrap();
    let out = bin(p.path()).args(["--fix", "link.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let link = std::fs::symlink_metadata(p.path().join("link.py")).unwrap();
    assert!(link.file_type().is_symlink(), "the link is still a link");
    assert_eq!(std::fs::read_link(p.path().join("link.py")).unwrap(), Path::new("real.py"));
    assert_eq!(
        std::fs::read(&real).unwrap(),
        b"from flask import Flask\napp = Flask(__name__)\napp.run(host='127.0.0.1')\n"
    );
    assert_eq!(mode_of(&real), 0o755);
}

#[cfg(unix)]
#[test]
fn fix_through_a_chain_of_symlinks_writes_the_last_target() {
    let bad = b"from flask import Flask\napp = Flask(__name__)\napp.run(host='::')\n";
    let p = project("real.py", bad);
    std::fs::create_dir(p.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("../real.py", p.path().join("sub/mid.py")).unwrap();
    std::os::unix::fs::symlink("sub/mid.py", p.path().join("link.py")).unwrap();
    let out = bin(p.path()).args(["--fix", "link.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    for link in ["link.py", "sub/mid.py"] {
        assert!(std::fs::symlink_metadata(p.path().join(link)).unwrap().file_type().is_symlink(), "{link}");
    }
    assert_eq!(
        std::fs::read(p.path().join("real.py")).unwrap(),
        b"from flask import Flask\napp = Flask(__name__)\napp.run(host='::1')\n"
    );
    // No temporary file left in either directory.
    assert_eq!(std::fs::read_dir(p.path()).unwrap().count(), 4);
    assert_eq!(std::fs::read_dir(p.path().join("sub")).unwrap().count(), 1);
}

#[cfg(unix)]
#[test]
fn a_hard_linked_file_is_refused_with_a_note() {
    let bad = b"from flask import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0')\n";
    let p = project("app.py", bad);
    std::fs::hard_link(p.path().join("app.py"), p.path().join("other-name.txt")).unwrap();
    let out = bin(p.path()).args(["--fix", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "a refusal is not an error: {}", text(&out));
    assert!(text(&out).contains("app.py: not written: it has 2 hard links"), "{}", text(&out));
    assert!(text(&out).contains("Fixed 0 findings in 0 files; 1 left to fix by hand."), "{}", text(&out));
    assert_eq!(std::fs::read(p.path().join("app.py")).unwrap(), bad);
    assert_eq!(std::fs::read(p.path().join("other-name.txt")).unwrap(), bad);
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(p.path().join("app.py")).unwrap().nlink(), 2, "still one file");
}

// ----- a constant with other uses (issue 13) -------------------------------

mod common;
use common::Repo;

/// A project of several files.
fn files(list: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for (name, body) in list {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    dir
}

const SERVES_HOST: &str = "from flask import Flask\nHOST = \"0.0.0.0\"\napp = Flask(__name__)\napp.run(host=HOST)\n";

#[test]
fn a_constant_another_module_reads_is_left_with_a_note_naming_the_use() {
    let workers = [
        "import socket\n\nfrom app import HOST\nsocket.socket().bind((HOST, 9000))\n",
        "import socket\n\nimport app\nsocket.socket().bind((app.HOST, 9000))\n",
        "import socket\n\nfrom app import HOST as BIND\nsocket.socket().bind((BIND, 9000))\n",
        "import socket\n\nfrom app import *\nsocket.socket().bind((HOST, 9000))\n",
    ];
    for worker in workers {
        let p = files(&[("app.py", SERVES_HOST), ("worker.py", worker)]);
        let out = bin(p.path()).args(["--fix", "."]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{worker}: {}", text(&out));
        assert_eq!(std::fs::read_to_string(p.path().join("app.py")).unwrap(), SERVES_HOST, "{worker}");
        assert!(
            text(&out).contains(
                "app.py:4:14: not auto-fixable: `HOST` is used for more than the server host (also at worker.py:4)"
            ),
            "{worker}: {}",
            text(&out)
        );
    }
}

#[test]
fn a_constant_read_again_in_its_own_module_is_left_with_a_note() {
    let src = "import socket\nfrom flask import Flask\nHOST = \"0.0.0.0\"\napp = Flask(__name__)\nsocket.socket().bind((HOST, 1))\napp.run(host=HOST)\n";
    let p = project("app.py", src.as_bytes());
    let out = bin(p.path()).args(["--fix", "app.py"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(p.path().join("app.py")).unwrap(), src);
    assert!(text(&out).contains("(also at line 5)"), "{}", text(&out));
}

#[test]
fn a_constant_only_servers_read_is_rewritten_whatever_comments_and_strings_say() {
    // Named in a comment, a string and an environment variable, and read
    // by a second server in another module: still only server hosts.
    let app = "import os\nfrom flask import Flask\n# HOST: where the server listens\nHOST = os.environ.get(\"HOST\", \"0.0.0.0\")\napp = Flask(__name__)\napp.run(host=HOST)\n";
    let admin = "from app import HOST, app\n\napp.run(host=HOST, port=5001)  # HOST again\n";
    let p = files(&[("app.py", app), ("admin.py", admin)]);
    let out = bin(p.path()).args(["--fix", "."]).output().unwrap();
    assert!(out.status.code() != Some(2), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(p.path().join("app.py")).unwrap(), app.replace("\"0.0.0.0\"", "\"127.0.0.1\""));
    assert_eq!(std::fs::read_to_string(p.path().join("admin.py")).unwrap(), admin);
    let out = bin(p.path()).arg(".").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

impl Repo {
    fn fix_hook(&self, args: &str) {
        let hook = self.root.join(".git/hooks/pre-commit");
        std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
        std::fs::write(&hook, format!("#!/bin/sh\nexec '{}' --fix {args}\n", common::BIN)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
}

const SERVER: &str = "from flask import Flask\nfrom config import HOST\napp = Flask(__name__)\napp.run(host=HOST)\n";

#[test]
fn staged_a_constant_a_committed_worker_reads_is_left_with_a_note() {
    let r = Repo::new();
    // The worker is already committed: not part of this change, still a use.
    r.seed(&[("worker.py", "import socket\n\nimport config\nsocket.socket().bind((config.HOST, 9000))\n")]);
    r.fix_hook("--exit-zero-on-fix");
    r.write("config.py", "HOST = \"0.0.0.0\"\n");
    r.write("server.py", SERVER);
    r.ok(&["add", "config.py", "server.py"]);
    let out = r.commit(&[]);
    assert!(!out.status.success(), "{}", common::text(&out));
    assert!(
        common::text(&out).contains("`HOST` is used for more than the server host (also at worker.py:4)"),
        "{}",
        common::text(&out)
    );
    assert_eq!(r.ok(&["show", ":config.py"]), "HOST = \"0.0.0.0\"\n");
    assert_eq!(std::fs::read_to_string(r.root.join("config.py")).unwrap(), "HOST = \"0.0.0.0\"\n");
}

#[test]
fn staged_a_constant_two_servers_read_is_rewritten() {
    let r = Repo::new();
    r.seed(&[("README", "x\n")]);
    r.fix_hook("--exit-zero-on-fix");
    r.write("config.py", "# HOST: the dev server's address\nHOST = \"0.0.0.0\"\n");
    r.write("server.py", SERVER);
    r.write(
        "admin.py",
        "from flask import Flask\nfrom config import HOST as BIND\napp = Flask(__name__)\napp.run(host=BIND, port=2)\n",
    );
    r.ok(&["add", "-A"]);
    let out = r.commit(&[]);
    assert!(out.status.success(), "{}", common::text(&out));
    let fixed = "# HOST: the dev server's address\nHOST = \"127.0.0.1\"\n";
    assert_eq!(r.ok(&["show", "HEAD:config.py"]), fixed);
    assert_eq!(std::fs::read_to_string(r.root.join("config.py")).unwrap(), fixed);
    assert_eq!(r.ok(&["status", "--porcelain"]), "");
}

#[test]
fn staged_a_fix_in_another_file_is_rechecked_where_its_finding_is() {
    // The server's host is the last value `HOST` takes ("::"); rewriting
    // it would leave the first ("0.0.0.0") reaching the server: refused,
    // although config.py itself checks clean either way.
    let r = Repo::new();
    r.seed(&[("README", "x\n")]);
    r.fix_hook("--exit-zero-on-fix");
    let config = "import os\nHOST = \"0.0.0.0\"\nif os.environ.get(\"PUBLIC\"):\n    HOST = \"::\"\n";
    r.write("config.py", config);
    r.write("server.py", SERVER);
    r.ok(&["add", "-A"]);
    let out = r.commit(&[]);
    assert!(!out.status.success(), "{}", common::text(&out));
    assert!(
        common::text(&out).contains("fix refused: a finding would remain in server.py after it"),
        "{}",
        common::text(&out)
    );
    assert_eq!(r.ok(&["show", ":config.py"]), config);
    assert_eq!(std::fs::read_to_string(r.root.join("config.py")).unwrap(), config);
}

#[test]
fn a_local_name_is_not_confused_with_attributes_or_importers() {
    // `bind` is local to main(): `sock.bind` here and in an importer are
    // other things, not uses of it.
    let app = "import socket\nfrom flask import Flask\napp = Flask(__name__)\n\n\ndef main():\n    bind = \"0.0.0.0\"\n    socket.socket().bind((\"127.0.0.1\", 1))\n    app.run(host=bind)\n";
    let worker = "import socket\n\nfrom app import app\nsocket.socket().bind((\"127.0.0.1\", 2))\n";
    let p = files(&[("app.py", app), ("worker.py", worker)]);
    let out = bin(p.path()).args(["--fix", "--exit-zero-on-fix", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(p.path().join("app.py")).unwrap(), app.replace("\"0.0.0.0\"", "\"127.0.0.1\""));
}

#[test]
fn a_constant_a_relative_importer_reads_is_left_with_a_note() {
    let worker = "import socket\n\nfrom . import app\nsocket.socket().bind((app.HOST, 9000))\n";
    let p = files(&[("pkg/__init__.py", ""), ("pkg/app.py", SERVES_HOST), ("pkg/worker.py", worker)]);
    let out = bin(p.path()).args(["--fix", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(p.path().join("pkg/app.py")).unwrap(), SERVES_HOST);
    assert!(text(&out).contains("(also at pkg/worker.py:4)"), "{}", text(&out));
}

/// Connexion 1/2's `App.run` binds every interface when no host is passed:
/// the fix passes one, after the last argument, and the second run finds
/// nothing; a call whose arguments hold a comment is left with a note.
#[test]
fn a_server_default_gets_a_loopback_host_passed() {
    let server = "import connexion\n\napp = connexion.App(__name__)\napp.run()\napp.run(port=8080)\napp.run(\n    port=8080,\n    debug=True,\n)\napp.run(8080,  # the port\n)\n";
    let p = files(&[("requirements.txt", "connexion==2.14.2\n"), ("server.py", server)]);
    let out = bin(p.path()).args(["--fix", "--color", "never", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let got = std::fs::read_to_string(p.path().join("server.py")).unwrap();
    let want = server
        .replace("app.run()", "app.run(host=\"127.0.0.1\")")
        .replace("app.run(port=8080)", "app.run(port=8080, host=\"127.0.0.1\")")
        .replace("    debug=True,\n)", "    debug=True, host=\"127.0.0.1\",\n)");
    assert_eq!(got, want);
    assert!(text(&out).contains("Fixed 3 findings in 1 file; 1 left to fix by hand."), "{}", text(&out));
    assert!(text(&out).contains("hold a comment"), "{}", text(&out));
    let out = bin(p.path()).args(["--format", "json", "."]).output().unwrap();
    let left: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(left.as_array().unwrap().len(), 1, "{left}");
    assert_eq!(left[0]["origin"]["kind"], "server-default", "{left}");
}
