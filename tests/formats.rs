//! `--format sarif` and `--format github`, end to end.
//!
//! SARIF is validated against the official SARIF 2.1.0 schema
//! (`tests/schemas/sarif-schema-2.1.0.json`, the copy the `serde-sarif`
//! crate ships) with Python's `jsonschema` package. That test is ignored by
//! plain `cargo test`; `cargo test -- --include-ignored` runs it (as
//! `.ci/run` does, after installing jsonschema), and then a missing
//! validator is a failure, not a skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{project, sarif_errors, validator};

const BIN: &str = env!("CARGO_BIN_EXE_flask-bind-guard");
const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

fn fbg(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    for var in ["GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF"] {
        cmd.env_remove(var);
    }
    cmd.current_dir(dir).args(args).env("NO_COLOR", "1").output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

/// The SARIF log of each fixture, written into `out_dir`, each checked
/// against the JSON findings of the same run.
fn fixture_sarif(out_dir: &Path) -> Vec<PathBuf> {
    let fixtures = Path::new(MANIFEST).join("tests/fixtures");
    let mut targets: Vec<PathBuf> = std::fs::read_dir(&fixtures).unwrap().map(|e| e.unwrap().path()).collect();
    targets.sort();
    let mut written = Vec::new();
    let mut total = 0;
    for (i, target) in targets.iter().enumerate() {
        let name = target.file_name().unwrap().to_str().unwrap();
        let sarif = fbg(&fixtures, &["--format", "sarif", name]);
        let findings = fbg(&fixtures, &["--format", "json", name]);
        assert_eq!(sarif.status.code(), findings.status.code(), "{name}");
        let log = json(&sarif);
        let run = &log["runs"][0];
        let results = run["results"].as_array().unwrap();
        let expected = json(&findings);
        let expected = expected.as_array().unwrap();
        assert_eq!(results.len(), expected.len(), "{name}");
        for (r, f) in results.iter().zip(expected) {
            assert_eq!(r["ruleId"], f["rule"]);
            let region = &r["locations"][0]["physicalLocation"]["region"];
            if f["cell"].is_object() {
                // A notebook: the region is in the JSON file; the cell and
                // the line in it are properties (tests/notebooks.rs).
                assert_eq!(r["properties"]["cell"], f["cell"]["number"], "{name}");
                assert_eq!(r["properties"]["cellLine"], f["cell"]["line"], "{name}");
                assert!(region["startLine"].as_u64().is_some_and(|l| l > 0), "{name}");
                total += 1;
                continue;
            }
            assert_eq!(region["startLine"], f["line"]);
            assert_eq!(region["startColumn"], f["column"]);
            assert_eq!(region["endLine"], f["end_line"]);
            assert_eq!(region["endColumn"], f["end_column"]);
            let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
            assert!(uri.starts_with("tests/fixtures/"), "relative to the repository root: {uri}");
            assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"], "%SRCROOT%");
            assert!(r["partialFingerprints"]["flaskBindGuard/v1"].as_str().is_some_and(|s| s.len() == 16));
        }
        total += results.iter().filter(|r| r["properties"]["cell"].is_null()).count();
        let file = out_dir.join(format!("{i}.sarif"));
        std::fs::write(&file, &sarif.stdout).unwrap();
        written.push(file);
    }
    assert!(total > 50, "the fixtures hold many findings ({total})");
    written
}

#[test]
fn sarif_of_every_fixture_matches_the_json_findings() {
    fixture_sarif(tempfile::tempdir().unwrap().path());
}

#[test]
#[ignore = "needs python3 with jsonschema (pip install jsonschema); .ci/run installs it"]
fn sarif_of_every_fixture_validates_against_the_schema() {
    let python = validator();
    let out_dir = tempfile::tempdir().unwrap();
    let written = fixture_sarif(out_dir.path());
    assert_eq!(sarif_errors(&python, &written), "", "SARIF does not validate");
    // The validator does reject what the schema forbids.
    let broken = out_dir.path().join("broken.sarif");
    std::fs::write(&broken, r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}"#).unwrap();
    assert!(sarif_errors(&python, &[broken]).contains("'name' is a required property"));
}

#[test]
fn sarif_rules_fixes_and_severity() {
    let p = project(&[
        ("app.py", "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\", debug=True)\n"),
        ("pyproject.toml", "[tool.flask-bind-guard]\nseverity = { FBG001 = \"high\" }\n"),
    ]);
    let out = fbg(p.path(), &["--format", "sarif", "."]);
    assert_eq!(out.status.code(), Some(1));
    let log = json(&out);
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "flask-bind-guard");
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    for rule in rules {
        for key in ["id", "name", "shortDescription", "fullDescription", "helpUri", "help"] {
            assert!(!rule[key].is_null(), "rule {} lacks {key}", rule["id"]);
        }
        assert!(rule["help"]["markdown"].as_str().unwrap().contains("## What it does"));
        let tags = rule["properties"]["tags"].as_array().unwrap();
        assert!(tags.contains(&"security".into()) && tags.contains(&"CWE-668".into()));
    }
    // The configuration raised FBG001 to high; FBG002 stays critical.
    assert_eq!(rules[0]["properties"]["security-severity"], "8.0");
    assert_eq!(rules[1]["properties"]["security-severity"], "9.5");
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "FBG002");
    assert_eq!(result["level"], "error");
    let replacement = &result["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(replacement["insertedContent"]["text"], "\"127.0.0.1\"");
    assert_eq!(
        replacement["deletedRegion"],
        serde_json::json!({"startLine": 3, "startColumn": 14, "endLine": 3, "endColumn": 23})
    );
    let root = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert!(root.starts_with("file:///") && root.ends_with('/'), "{root}");
}

#[test]
fn sarif_fingerprints_survive_unrelated_edits() {
    let body = "from flask import Flask\napp = Flask(__name__)\nif A:\n    app.run(host=\"0.0.0.0\")\nif B:\n    app.run(host=\"0.0.0.0\")\n";
    let prints = |text: &str| -> Vec<(u64, String)> {
        let p = project(&[("app.py", text)]);
        let log = json(&fbg(p.path(), &["--format", "sarif", "."]));
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let line = r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap();
                (line, r["partialFingerprints"]["flaskBindGuard/v1"].as_str().unwrap().to_string())
            })
            .collect()
    };
    let before = prints(body);
    let after = prints(&format!("import os\n\n# a comment\n{}", body.replace("app.run(host", "app.run( host")));
    assert_eq!(before.len(), 2);
    assert_ne!(before[0].1, before[1].1, "identical calls get distinct fingerprints");
    assert_eq!(after.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![7, 9], "the lines moved");
    assert_eq!(
        before.iter().map(|(_, f)| f).collect::<Vec<_>>(),
        after.iter().map(|(_, f)| f).collect::<Vec<_>>(),
        "the fingerprints did not"
    );
}

#[test]
fn github_commands_escape_paths_and_messages() {
    // A directory with a comma and a colon, a file name with a newline, an
    // environment variable name with a newline and a percent sign.
    let dir = "we,ird:dir";
    let name = "new\nline.py";
    let body = "import os\nfrom flask import Flask\napp = Flask(__name__)\napp.run(host=os.environ.get(\"A%\\nB\", \"0.0.0.0\"))\n";
    let p = project(&[(&format!("{dir}/{name}"), body)]);
    let out = fbg(p.path(), &["--format", "github", "."]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one command, on one line: {text:?}");
    let line = lines[0];
    assert!(
        line.starts_with("::warning file=we%2Cird%3Adir/new%0Aline.py,line=4,endLine=4,col=1,endColumn="),
        "{line}"
    );
    assert!(
        line.contains(",title=FBG001 (medium) Flask development server bound to every network interface::"),
        "{line}"
    );
    let message = line.split_once("::").unwrap().1.split_once("::").unwrap().1;
    assert!(message.contains("$A%25%0AB"), "{message}");
    assert!(message.contains("%0Ahelp: bind to loopback"), "{message}");
    assert!(!message.contains('\n'));
}

#[test]
fn github_levels_follow_severity_and_problems_are_annotated() {
    let p = project(&[
        ("app.py", "from flask import Flask\napp = Flask(__name__)\napp.run(\"0.0.0.0\", debug=True)\n"),
        ("bad.py", "\u{0}"),
    ]);
    std::fs::write(p.path().join("bad.py"), b"x = '\xff'\n").unwrap();
    let out = fbg(p.path(), &["--format", "github", "."]);
    assert_eq!(out.status.code(), Some(2), "an undecodable file is an error");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("::error file=bad.py,title=flask-bind-guard::cannot decode"), "{text}");
    assert!(text.contains("::error file=app.py,line=3,endLine=3,col=1,endColumn=31,title=FBG002 (critical)"), "{text}");
}

/// `--format gitlab` of every fixture, issue by issue against the JSON
/// findings and the SARIF results of the same run.
#[test]
fn gitlab_issues_of_every_fixture_carry_every_field() {
    let fixtures = Path::new(MANIFEST).join("tests/fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".py"))
        .collect();
    names.sort();
    let mut total = 0;
    for name in &names {
        let gitlab = fbg(&fixtures, &["--format", "gitlab", name]);
        let findings = fbg(&fixtures, &["--format", "json", name]);
        let sarif = fbg(&fixtures, &["--format", "sarif", name]);
        assert_eq!(gitlab.status.code(), findings.status.code(), "{name}");
        let (issues, expected, sarif) = (json(&gitlab), json(&findings), json(&sarif));
        let (issues, expected) = (issues.as_array().unwrap(), expected.as_array().unwrap());
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        assert_eq!(issues.len(), expected.len(), "{name}");
        for ((issue, f), r) in issues.iter().zip(expected).zip(results) {
            assert_eq!(issue["check_name"], f["rule"], "{name}");
            let description = issue["description"].as_str().unwrap();
            assert!(
                description.starts_with(&format!(
                    "{}: {}",
                    f["rule"].as_str().unwrap(),
                    f["message"].as_str().unwrap()
                )),
                "{description}"
            );
            let severity = match f["severity"].as_str().unwrap() {
                "low" => "minor",
                "medium" => "major",
                "high" => "critical",
                "critical" => "blocker",
                other => panic!("severity {other}"),
            };
            assert_eq!(issue["severity"], severity, "{name}");
            assert_eq!(issue["location"]["path"], format!("tests/fixtures/{name}"), "relative to the repository root");
            assert_eq!(issue["location"]["lines"]["begin"], f["line"], "{name}");
            assert_eq!(issue["location"]["lines"]["end"], f["end_line"], "{name}");
            let print = issue["fingerprint"].as_str().unwrap();
            assert!(print.len() == 16 && print.chars().all(|c| c.is_ascii_hexdigit()), "{print}");
            assert_eq!(print, r["partialFingerprints"]["flaskBindGuard/v1"], "the SARIF fingerprint");
        }
        let prints: std::collections::HashSet<&str> =
            issues.iter().map(|i| i["fingerprint"].as_str().unwrap()).collect();
        assert_eq!(prints.len(), issues.len(), "{name}: fingerprints are unique in a report");
        total += issues.len();
    }
    assert!(total > 50, "the fixtures hold many findings ({total})");
}

#[test]
fn gitlab_severity_follows_the_configuration_and_paths_the_repository_root() {
    let p = project(&[
        (
            "svc/app.py",
            "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\")\napp.run(host=\"::\", debug=True)\n",
        ),
        ("pyproject.toml", "[tool.flask-bind-guard]\nseverity = { FBG001 = \"high\", FBG002 = \"low\" }\n"),
    ]);
    // Run from the subdirectory: paths are still the repository root's.
    let out = fbg(&p.path().join("svc"), &["--format", "gitlab", "."]);
    assert_eq!(out.status.code(), Some(1));
    let issues = json(&out);
    let got: Vec<(&str, &str, &str, u64)> = issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["check_name"].as_str().unwrap(),
                i["severity"].as_str().unwrap(),
                i["location"]["path"].as_str().unwrap(),
                i["location"]["lines"]["begin"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, vec![("FBG001", "critical", "svc/app.py", 3), ("FBG002", "minor", "svc/app.py", 4)]);
    let out = fbg(&p.path().join("svc"), &["--format", "gitlab", "--severity", "FBG001=medium", "app.py"]);
    assert_eq!(json(&out)[0]["severity"], "major");
    // Clean: an empty report, exit 0.
    let clean = project(&[("app.py", "print(1)\n")]);
    let out = fbg(clean.path(), &["--format", "gitlab", "."]);
    assert_eq!((out.status.code(), json(&out)), (Some(0), serde_json::json!([])));
}

#[test]
fn gitlab_fingerprints_survive_inserted_lines_and_tell_identical_calls_apart() {
    let body = "from flask import Flask\napp = Flask(__name__)\nif A:\n    app.run(host=\"0.0.0.0\")\nif B:\n    app.run(host=\"0.0.0.0\")\n";
    let prints = |text: &str| -> Vec<(u64, String)> {
        let p = project(&[("app.py", text)]);
        let issues = json(&fbg(p.path(), &["--format", "gitlab", "."]));
        issues
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (i["location"]["lines"]["begin"].as_u64().unwrap(), i["fingerprint"].as_str().unwrap().to_string())
            })
            .collect()
    };
    let before = prints(body);
    let after = prints(&format!("import os\n\n# three lines above\n{body}"));
    assert_eq!(before.len(), 2);
    assert_ne!(before[0].1, before[1].1, "identical calls get distinct fingerprints");
    assert_eq!(after.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![7, 9], "the lines moved");
    assert_eq!(
        before.iter().map(|(_, f)| f).collect::<Vec<_>>(),
        after.iter().map(|(_, f)| f).collect::<Vec<_>>(),
        "the fingerprints did not"
    );
    // Another file with the same call: another fingerprint.
    let p = project(&[("a.py", body), ("b.py", body)]);
    let issues = json(&fbg(p.path(), &["--format", "gitlab", "."]));
    let all: std::collections::HashSet<&str> =
        issues.as_array().unwrap().iter().map(|i| i["fingerprint"].as_str().unwrap()).collect();
    assert_eq!(all.len(), 4);
}

#[test]
fn fingerprints_do_not_depend_on_the_working_directory() {
    let body = "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\")\n";
    let p = project(&[("svc/app.py", body), ("pyproject.toml", "[tool.flask-bind-guard]\n")]);
    let gitlab = |dir: &Path, target: &str| -> String {
        json(&fbg(dir, &["--format", "gitlab", target]))[0]["fingerprint"].as_str().unwrap().to_string()
    };
    let sarif = |dir: &Path, target: &str| -> String {
        json(&fbg(dir, &["--format", "sarif", target]))["runs"][0]["results"][0]["partialFingerprints"]
            ["flaskBindGuard/v1"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let from_root = gitlab(p.path(), ".");
    assert_eq!(gitlab(&p.path().join("svc"), "."), from_root, "run from the subdirectory");
    assert_eq!(gitlab(&p.path().join("svc"), "app.py"), from_root, "the file named from the subdirectory");
    assert_eq!(sarif(&p.path().join("svc"), "."), from_root, "SARIF's is the same");
    assert_eq!(sarif(p.path(), "svc"), from_root);
}

/// On Unix a `\` is part of a file's name, not a separator: CI formats
/// name the file as it is.
#[cfg(unix)]
#[test]
fn a_backslash_in_a_unix_file_name_is_kept() {
    let body = "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\")\n";
    let p = project(&[("odd\\name.py", body), ("pyproject.toml", "[tool.flask-bind-guard]\n")]);
    let gitlab = json(&fbg(p.path(), &["--format", "gitlab", "."]));
    assert_eq!(gitlab[0]["location"]["path"], "odd\\name.py");
    let github = String::from_utf8(fbg(p.path(), &["--format", "github", "."]).stdout).unwrap();
    assert!(github.contains("file=odd\\name.py,"), "{github}");
    let sarif = json(&fbg(p.path(), &["--format", "sarif", "."]));
    let uri = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(uri, "odd%5Cname.py");
}
