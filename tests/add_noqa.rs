//! `--add-noqa[=REASON]`: every finding of an audit gets a `# noqa` for its
//! code, and nothing but comments changes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{BIN, clean, project, project_bytes, text};

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

fn fbg(dir: &Path, args: &[&str]) -> Output {
    clean(Command::new(BIN)).current_dir(dir).args(args).output().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if !p.ends_with(".git") {
                out.extend(files(&p));
            }
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The lines of `new` that differ from `old`'s, by 1-based number, each
/// checked to be `old`'s line with one piece of text inserted (and
/// returned): line endings and every other byte are kept.
fn insertions(old: &[u8], new: &[u8]) -> Vec<(usize, String)> {
    let (old, new): (Vec<&[u8]>, Vec<&[u8]>) =
        (old.split(|b| *b == b'\n').collect(), new.split(|b| *b == b'\n').collect());
    assert_eq!(old.len(), new.len(), "no line is added or removed");
    let mut out = Vec::new();
    for (i, (o, n)) in old.iter().zip(&new).enumerate() {
        if o == n {
            continue;
        }
        let p = o.iter().zip(n.iter()).take_while(|(a, b)| a == b).count();
        let s = o[p..].iter().rev().zip(n.iter().rev()).take_while(|(a, b)| a == b).count();
        assert_eq!(
            p + s,
            o.len(),
            "line {}: more than an insertion: {:?} -> {:?}",
            i + 1,
            String::from_utf8_lossy(o),
            String::from_utf8_lossy(n)
        );
        out.push((i + 1, String::from_utf8_lossy(&n[p..n.len() - s]).into_owned()));
    }
    out
}

#[test]
fn every_fixture_finding_is_marked_and_only_comments_change() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fixtures");
    copy_dir(&Path::new(MANIFEST).join("tests/fixtures"), &dir);
    std::fs::create_dir(dir.join(".git")).unwrap();
    let before: Vec<(PathBuf, Vec<u8>)> = files(&dir)
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    // Peer comments off: the lines with `# noqa: S104` are findings too.
    let flags = ["--no-peer-suppressions", "--format", "json", "."];
    let findings: serde_json::Value = serde_json::from_slice(&fbg(&dir, &flags).stdout).unwrap();
    let findings = findings.as_array().unwrap();
    assert!(findings.len() > 100, "{}", findings.len());

    let out = fbg(&dir, &["--no-peer-suppressions", "--add-noqa", "."]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("Added ") && said.contains(" noqa directives to "), "{said}");

    // A second audit reports nothing, with or without the peers' comments.
    for args in [&["--no-peer-suppressions", "."][..], &["."]] {
        let again = fbg(&dir, args);
        assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    }
    let mut lines = 0;
    let mut changed_files = 0;
    for (path, old) in &before {
        let new = std::fs::read(path).unwrap();
        let added = insertions(old, &new);
        changed_files += usize::from(!added.is_empty());
        let rel = path.strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
        for (line, inserted) in &added {
            lines += 1;
            // On a line of one of the file's findings. (A notebook's lines
            // are JSON lines; its findings count the code cells' lines, and
            // the second audit above shows each was marked.)
            assert!(
                rel.ends_with(".ipynb")
                    || findings.iter().any(|f| f["path"] == rel.as_str()
                        && f["line"].as_u64() <= Some(*line as u64)
                        && Some(*line as u64) <= f["end_line"].as_u64()),
                "{rel}:{line}: not a finding's line"
            );
            let ok = ["  # noqa: FBG00", ", FBG00", "FBG00"].iter().any(|p| inserted.starts_with(p));
            assert!(ok, "{rel}:{line}: inserted {inserted:?}");
        }
    }
    assert!(said.contains(&format!("Added {lines} noqa directives to {changed_files} files.")), "{said}");

    // The ruff comment keeps its code and gains ours.
    let peer = std::fs::read_to_string(dir.join("peer_suppressions.py")).unwrap();
    assert!(peer.contains("app.run(host=\"0.0.0.0\")  # noqa: S104, FBG001\n"), "{peer}");
    assert!(peer.contains("# noqa: S104, S201, FBG002"), "{peer}");
    // The CRLF fixture keeps its line endings (checked byte for byte above).
    // Running it again changes nothing.
    let out = fbg(&dir, &["--no-peer-suppressions", "--add-noqa", "."]);
    assert_eq!(
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned()),
        (Some(0), "Added 0 noqa directives to 0 files.\n".to_string())
    );
}

const APP: &str = "from flask import Flask\napp = Flask(__name__)\n";

fn marked(files: &[(&str, &[u8])], args: &[&str]) -> (tempfile::TempDir, Output) {
    let p = project_bytes(files);
    let mut all = args.to_vec();
    if !args.iter().any(|a| a.starts_with("--add-noqa")) {
        all.insert(0, "--add-noqa");
    }
    let out = fbg(p.path(), &all);
    (p, out)
}

fn read(p: &tempfile::TempDir, name: &str) -> Vec<u8> {
    std::fs::read(p.path().join(name)).unwrap()
}

#[test]
fn hostile_line_endings_strings_and_continuations() {
    // CRLF: the directive goes before the `\r`, also after a comment.
    let crlf =
        format!("{APP}app.run(host=\"0.0.0.0\")  # type: ignore\napp.run(host=\"0.0.0.0\")\n").replace('\n', "\r\n");
    let (p, out) = marked(&[("a.py", crlf.as_bytes())], &["."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let want = format!(
        "{APP}app.run(host=\"0.0.0.0\")  # type: ignore  # noqa: FBG001\napp.run(host=\"0.0.0.0\")  # noqa: FBG001\n"
    )
    .replace('\n', "\r\n");
    assert_eq!(String::from_utf8(read(&p, "a.py")).unwrap(), want);

    // The first line ends inside a triple-quoted string: a later line of
    // the call takes it.
    let body = format!("{APP}app.run(host=\"0.0.0.0\", extra=\"\"\"\n# noqa: not a comment\n\"\"\", port=1)\n");
    let (p, out) = marked(&[("a.py", body.as_bytes())], &["."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8(read(&p, "a.py")).unwrap(), body.replace("port=1)\n", "port=1)  # noqa: FBG001\n"));
    assert_eq!(fbg(p.path(), &["."]).status.code(), Some(0));

    // No line of the call can take a comment: a note, the file unchanged,
    // exit 1 (a finding is left).
    for (body, why) in [
        (format!("{APP}app.run(host=\"0.0.0.0\"); x = \"\"\"\nmore\n\"\"\"\n"), "ends inside a multi-line string"),
        (format!("{APP}y = app.run(host=\"0.0.0.0\") or \\\n    1\n"), "ends with a `\\` continuation"),
    ] {
        let (p, out) = marked(&[("a.py", body.as_bytes())], &["."]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains("note: a.py:3:") && text(&out).contains(why), "{}", text(&out));
        assert!(
            text(&out).contains("Added 0 noqa directives to 0 files; 1 finding left without one"),
            "{}",
            text(&out)
        );
        assert_eq!(read(&p, "a.py"), body.as_bytes());
    }

    // A continuation inside the call: the next line takes it.
    let body = format!("{APP}app.run(host=\"0.0.0.0\", \\\n        port=1)\n");
    let (p, out) = marked(&[("a.py", body.as_bytes())], &["."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8(read(&p, "a.py")).unwrap().ends_with("port=1)  # noqa: FBG001\n"));

    // A lone carriage return: lines are counted differently; left alone.
    let body = format!("{APP}x = 1\rapp.run(host=\"0.0.0.0\")\n");
    let (p, out) = marked(&[("a.py", body.as_bytes())], &["."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(read(&p, "a.py"), body.as_bytes());
}

#[test]
fn hostile_comments_reasons_and_encodings() {
    let calls = "app.run(host=\"0.0.0.0\")  # noqa: S104 -- reviewed\n\
                 app.run(host=\"0.0.0.0\", debug=True)  # noqa: E501\n\
                 app.run(host=\"0.0.0.0\")  # noqa: see ticket\n\
                 app.run(host=\"0.0.0.0\"); app.run(\"::\", debug=True)\n\
                 app.run(host=\"0.0.0.0\")  # TODO: drop the noqa\n\
                 app.run(host=\"0.0.0.0\")\n";
    let body = format!("{APP}{calls}");
    let (p, out) = marked(&[("a.py", body.as_bytes())], &["--no-peer-suppressions", "--add-noqa=legacy, see #12", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Added 6 noqa directives to 1 file."), "{}", text(&out));
    let want = "app.run(host=\"0.0.0.0\")  # noqa: S104, FBG001 -- reviewed\n\
                app.run(host=\"0.0.0.0\", debug=True)  # noqa: E501, FBG002 -- legacy, see #12\n\
                app.run(host=\"0.0.0.0\")  # noqa: FBG001 -- see ticket\n\
                app.run(host=\"0.0.0.0\"); app.run(\"::\", debug=True)  # noqa: FBG001, FBG002 -- legacy, see #12\n\
                app.run(host=\"0.0.0.0\")  # TODO: drop the noqa  # noqa: FBG001 -- legacy, see #12\n\
                app.run(host=\"0.0.0.0\")  # noqa: FBG001 -- legacy, see #12\n";
    assert_eq!(String::from_utf8(read(&p, "a.py")).unwrap(), format!("{APP}{want}"));
    assert_eq!(fbg(p.path(), &["--no-peer-suppressions", "."]).status.code(), Some(0));
    // Twice: nothing more.
    let out = fbg(p.path(), &["--no-peer-suppressions", "--add-noqa=legacy", "."]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Added 0 noqa directives to 0 files.\n");
    assert_eq!(String::from_utf8(read(&p, "a.py")).unwrap(), format!("{APP}{want}"));

    // A Latin-1 file keeps its encoding; a reason it cannot hold is refused.
    let latin = b"# -*- coding: latin-1 -*-\nfrom flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\")  # caf\xe9\n";
    let (p, out) = marked(&[("l.py", latin)], &["--add-noqa=d\u{e9}j\u{e0} vu", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(read(&p, "l.py"), [&latin[..latin.len() - 1], b"  # noqa: FBG001 -- d\xe9j\xe0 vu\n"].concat());
    let (p, out) = marked(&[("l.py", latin)], &["--add-noqa=\u{2603}", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("the reason cannot be written in the file's encoding (latin-1)"), "{}", text(&out));
    assert_eq!(read(&p, "l.py"), latin);

    // A BOM and trailing blanks stay.
    let bom = [b"\xef\xbb\xbf".as_slice(), APP.as_bytes(), b"app.run(host=\"0.0.0.0\") \t\n"].concat();
    let (p, _) = marked(&[("b.py", &bom)], &["."]);
    assert_eq!(read(&p, "b.py"), [&bom[..bom.len() - 3], b"  # noqa: FBG001 \t\n"].concat());

    // A reason that would break the line is refused before anything runs.
    for bad in ["two\nlines", "cr\rhere", "tab\there"] {
        let (p, out) = marked(&[("a.py", body.as_bytes())], &[&format!("--add-noqa={bad}"), "."]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert_eq!(read(&p, "a.py"), body.as_bytes());
    }
}

#[test]
fn hostile_files_links_and_permissions() {
    let bad = format!("{APP}app.run(host=\"0.0.0.0\")\n");
    let good = format!("{APP}app.run(host=\"0.0.0.0\")  # noqa: FBG001\n");
    let p = project(&[("real/t.py", &bad), ("ro.py", &bad), ("hard.py", &bad)]);
    let root = p.path();
    std::os::unix::fs::symlink("real/t.py", root.join("link.py")).unwrap();
    std::fs::hard_link(root.join("hard.py"), root.join("hard2.py")).unwrap();
    let mut perms = std::fs::metadata(root.join("ro.py")).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(root.join("ro.py"), perms).unwrap();
    // The link named, its target walked: the target is marked once, and
    // the link stays a link.
    let out = fbg(root, &["--add-noqa", ".", "link.py"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert_eq!(std::fs::read_to_string(root.join("real/t.py")).unwrap(), good);
    assert!(std::fs::symlink_metadata(root.join("link.py")).unwrap().file_type().is_symlink());
    // Read-only and hard-linked files are left as they are, with a note.
    assert!(said.contains("note: ro.py: not written: the file is read-only"), "{said}");
    assert!(said.contains("hard links"), "{said}");
    for name in ["ro.py", "hard.py", "hard2.py"] {
        assert_eq!(std::fs::read_to_string(root.join(name)).unwrap(), bad, "{name}");
    }
    assert!(std::fs::metadata(root.join("ro.py")).unwrap().permissions().readonly());
    assert!(said.contains("Added 1 noqa directive to 1 file; 3 findings left without one"), "{said}");
}

#[test]
fn staged_mode_is_refused() {
    let r = common::Repo::new();
    r.seed(&[("app.py", common::GOOD)]);
    r.write("app.py", common::BAD);
    r.ok(&["add", "app.py"]);
    let env_ref = |args: &[&str]| {
        let mut cmd = clean(Command::new(BIN));
        cmd.current_dir(&r.root).args(args).env("PRE_COMMIT_FROM_REF", "HEAD").env("PRE_COMMIT_TO_REF", "HEAD");
        cmd.output().unwrap()
    };
    for (out, says) in [
        (r.fbg(&["--add-noqa"]), "with no PATH the staged content is checked"),
        (r.fbg(&["--add-noqa", "--pre-commit", "app.py"]), "--pre-commit judges a change"),
        (
            r.fbg(&["--add-noqa", "--from-ref", "HEAD", "--to-ref", "HEAD"]),
            "--from-ref/--to-ref (or PRE_COMMIT_FROM_REF/_TO_REF) judges a change",
        ),
        (env_ref(&["--add-noqa", "app.py"]), "--from-ref/--to-ref"),
        (r.fbg(&["--add-noqa", "--all"]), "--all judges a change"),
        (r.fbg(&["--add-noqa", "--fix", "."]), "cannot be used with"),
    ] {
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains(says), "{says}: {}", text(&out));
    }
    assert_eq!(std::fs::read_to_string(r.root.join("app.py")).unwrap(), common::BAD);
    // `--add-noqa PATH`: the PATH is a path, not a reason.
    let out = r.fbg(&["--add-noqa", "app.py"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(std::fs::read_to_string(r.root.join("app.py")).unwrap().ends_with("  # noqa: FBG001\n"));
}

#[test]
fn a_reason_without_the_equals_sign_marks_nothing() {
    // `--add-noqa "legacy code" .`: "legacy code" is a PATH that does not
    // exist; the run stops before `.` is marked without the reason.
    let body = format!("{APP}app.run(host=\"0.0.0.0\")\n");
    let (p, out) = marked(&[("a.py", body.as_bytes())], &["--add-noqa", "legacy code", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--add-noqa=\"legacy code\""), "{}", text(&out));
    assert_eq!(read(&p, "a.py"), body.as_bytes());
    let (p, out) = marked(&[("a.py", body.as_bytes())], &["--add-noqa=why", "missing.py", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(read(&p, "a.py"), body.as_bytes());
}
