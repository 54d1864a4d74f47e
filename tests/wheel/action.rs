//! The GitHub Action (`action.yml`, `action/run.py`), run as GitHub runs a
//! composite action: its step's `run:` command under bash, each input
//! mapped to the environment the step declares (the defaults of
//! `action.yml` unless a test sets one), in a temporary checkout with a
//! base and a head commit, `GITHUB_WORKSPACE`, `GITHUB_EVENT_PATH` (a
//! `pull_request` event naming those commits), `GITHUB_OUTPUT`, and the
//! wheel built from this repository in a local wheelhouse (`PIP_NO_INDEX`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{MANIFEST, VERSION, built, text, tool};

/// What the test needs of `action.yml`: each input's default, the step's
/// environment (variable -> input) and its command.
struct Action {
    defaults: BTreeMap<String, String>,
    env: Vec<(String, String)>,
    run: String,
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    if let Some(inner) = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        inner.replace("''", "'")
    } else if let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        inner.to_string()
    } else {
        v.to_string()
    }
}

/// A reader for the shape `action.yml` has (not a general YAML parser):
/// the test fails if the file stops looking like it.
fn action() -> Action {
    let yml = std::fs::read_to_string(Path::new(MANIFEST).join("action.yml")).unwrap();
    let mut a = Action { defaults: BTreeMap::new(), env: Vec::new(), run: String::new() };
    let (mut section, mut input, mut in_env) = ("", String::new(), false);
    for line in yml.lines().filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty()) {
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            section = if line.starts_with("inputs:") {
                "inputs"
            } else if line.starts_with("runs:") {
                "runs"
            } else {
                ""
            };
            continue;
        }
        let (key, value) =
            line.trim().split_once(':').map(|(k, v)| (k.trim_start_matches("- "), v)).unwrap_or(("", ""));
        match section {
            "inputs" if indent == 2 => input = key.to_string(),
            "inputs" if indent == 4 && key == "default" => {
                a.defaults.insert(input.clone(), unquote(value));
            }
            "runs" if key == "env" => in_env = true,
            "runs" if in_env && indent == 8 => {
                let name = value.trim().strip_prefix("${{ inputs.").and_then(|v| v.strip_suffix(" }}"));
                a.env.push((key.to_string(), name.expect("env maps an input").to_string()));
            }
            "runs" if key == "run" => {
                in_env = false;
                a.run = unquote(value);
            }
            _ if indent <= 6 => in_env = false,
            _ => {}
        }
    }
    assert!(!a.run.is_empty() && !a.env.is_empty(), "action.yml: no step found");
    a
}

struct Checkout {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    work: PathBuf,
    base: String,
    head: String,
}

const OLD: &str = "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\")\n";
const NEW: &str = "from flask import Flask\napp = Flask(__name__)\n\n\napp.run(host=\"0.0.0.0\", debug=True)\n";

/// A repository whose base commit holds `old.py` (a finding the pull
/// request does not bring in) and whose head adds `new.py` (one it does)
/// and edits `old.py` elsewhere.
fn checkout() -> Checkout {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("checkout");
    let work = tmp.path().join("runner");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let git = |args: &[&str]| -> String {
        let out = Command::new(tool("git"))
            .args(args)
            .current_dir(&root)
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_WORK_TREE")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.email", "dev@example.com"]);
    git(&["config", "user.name", "Dev"]);
    git(&["config", "commit.gpgsign", "false"]);
    std::fs::write(root.join("old.py"), OLD).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    let base = git(&["rev-parse", "HEAD"]);
    git(&["checkout", "-q", "-b", "feature"]);
    std::fs::write(root.join("old.py"), format!("# edited\n{OLD}")).unwrap();
    std::fs::write(root.join("new.py"), NEW).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "head"]);
    let head = git(&["rev-parse", "HEAD"]);
    Checkout { _tmp: tmp, root, work, base, head }
}

/// Run the action's step in `c` with these inputs (the others at their
/// defaults) for this event; the step's result and its outputs.
fn run_action(c: &Checkout, event: &str, inputs: &[(&str, &str)]) -> (Output, BTreeMap<String, String>) {
    let a = action();
    let b = built();
    let payload = serde_json::json!({
        "action": "opened",
        "number": 7,
        "pull_request": { "base": { "ref": "main", "sha": c.base }, "head": { "ref": "feature", "sha": c.head } },
    });
    let event_path = c.work.join("event.json");
    std::fs::write(&event_path, payload.to_string()).unwrap();
    let output_file = c.work.join("github_output");
    std::fs::write(&output_file, "").unwrap();
    let mut cmd = Command::new(tool("bash"));
    cmd.arg("-c").arg(&a.run).current_dir(&c.root);
    for var in ["GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF"] {
        cmd.env_remove(var);
    }
    for (var, input) in &a.env {
        let given = inputs.iter().find(|(k, _)| k == input).map(|(_, v)| v.to_string());
        let value = given.or_else(|| a.defaults.get(input).cloned()).unwrap_or_default();
        cmd.env(var, value);
    }
    for (k, _) in inputs {
        assert!(a.env.iter().any(|(_, i)| i == k), "action.yml has no input {k}");
    }
    let out = cmd
        .env("GITHUB_ACTION_PATH", MANIFEST)
        .env("GITHUB_WORKSPACE", &c.root)
        .env("GITHUB_EVENT_NAME", event)
        .env("GITHUB_EVENT_PATH", &event_path)
        .env("GITHUB_OUTPUT", &output_file)
        .env("RUNNER_TEMP", &c.work)
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", &b.wheelhouse)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .output()
        .unwrap();
    let outputs = std::fs::read_to_string(&output_file)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    (out, outputs)
}

fn annotations(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains("title=FBG")).map(str::to_string).collect()
}

#[test]
fn the_action_reads_its_defaults_and_maps_every_input() {
    let a = action();
    assert_eq!(a.defaults.get("version").map(String::as_str), Some(VERSION));
    for input in ["paths", "args", "version", "format", "sarif-file", "fail-on-findings", "changed-only"] {
        assert!(a.defaults.contains_key(input), "input {input} has no default");
        assert!(a.env.iter().any(|(_, i)| i == input), "input {input} does not reach the script");
    }
    let script = std::fs::read_to_string(Path::new(MANIFEST).join("action/run.py")).unwrap();
    for (var, _) in &a.env {
        assert!(script.contains(&format!("\"{var}\"")), "action/run.py does not read {var}");
    }
}

#[test]
#[ignore = "needs maturin (pip install maturin); .ci/run installs it"]
fn on_a_pull_request_the_action_annotates_only_what_it_brings_in() {
    let c = checkout();
    let (out, outputs) = run_action(&c, "pull_request", &[("changed-only", "true")]);
    let shown = annotations(&out);
    assert_eq!(out.status.code(), Some(1), "fail-on-findings: {}", text(&out));
    assert_eq!(shown.len(), 1, "{}", text(&out));
    assert!(
        shown[0].starts_with("::error file=new.py,line=5,endLine=5,col=1,endColumn=36,title=FBG002 (critical)"),
        "{}",
        shown[0]
    );
    assert_eq!(outputs.get("findings").map(String::as_str), Some("1"), "{outputs:?}");
    assert_eq!(outputs.get("exit-code").map(String::as_str), Some("1"));
    assert!(text(&out).contains(&format!("flask-bind-guard {VERSION}")), "the wheel's command ran");

    // PATHs restrict the range: old.py's finding is not the pull request's.
    let (out, outputs) = run_action(&c, "pull_request", &[("changed-only", "true"), ("paths", "old.py")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(annotations(&out).is_empty(), "{}", text(&out));
    assert_eq!(outputs.get("findings").map(String::as_str), Some("0"));

    // Without changed-only (or on a push) the whole checkout is audited.
    for (event, changed) in [("pull_request", "false"), ("push", "true")] {
        let (out, outputs) = run_action(&c, event, &[("changed-only", changed), ("fail-on-findings", "false")]);
        assert_eq!(out.status.code(), Some(0), "fail-on-findings false: {}", text(&out));
        let shown = annotations(&out);
        assert_eq!(shown.len(), 2, "{event}: {}", text(&out));
        assert!(shown.iter().any(|l| l.contains("file=old.py,line=4,")), "{event}: {shown:?}");
        assert!(shown.iter().any(|l| l.contains("file=new.py,line=5,")), "{event}: {shown:?}");
        assert_eq!(outputs.get("findings").map(String::as_str), Some("2"));
        assert_eq!(outputs.get("exit-code").map(String::as_str), Some("1"));
    }
}

#[test]
#[ignore = "needs maturin and jsonschema (pip install maturin jsonschema); .ci/run installs them"]
fn the_sarif_format_writes_a_valid_log_for_code_scanning() {
    let c = checkout();
    let (out, outputs) = run_action(
        &c,
        "pull_request",
        &[("format", "sarif"), ("sarif-file", "reports/fbg.sarif"), ("changed-only", "true")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(annotations(&out).is_empty(), "the log goes to the file: {}", text(&out));
    let file = c.root.join("reports/fbg.sarif");
    assert_eq!(outputs.get("sarif-file").map(PathBuf::from), Some(file.clone()), "{outputs:?}");
    assert_eq!(outputs.get("findings").map(String::as_str), Some("1"));
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "new.py");
    let python = crate::common::validator();
    assert_eq!(crate::common::sarif_errors(&python, &[file]), "", "the SARIF log does not validate");

    // fail-on-findings false: the step passes; the whole checkout.
    let (out, outputs) = run_action(&c, "pull_request", &[("format", "sarif"), ("fail-on-findings", "false")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(outputs.get("findings").map(String::as_str), Some("2"));
    assert!(c.root.join("flask-bind-guard.sarif").is_file());
}

#[test]
#[ignore = "needs maturin (pip install maturin); .ci/run installs it"]
fn errors_fail_the_step_whatever_fail_on_findings_says() {
    let c = checkout();
    // A path that does not exist: the tool's error, exit 2.
    let (out, outputs) =
        run_action(&c, "pull_request", &[("paths", "old.py 'no such dir'"), ("fail-on-findings", "false")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(outputs.get("exit-code").map(String::as_str), Some("2"));
    // Inputs the action cannot use.
    for bad in
        [("format", "xml"), ("fail-on-findings", "maybe"), ("version", "0.1.0 --index-url x"), ("args", "'unclosed")]
    {
        let (out, _) = run_action(&c, "push", &[bad]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("::error title=flask-bind-guard::"), "{}", text(&out));
    }
    // A pull request whose commits the checkout does not have (and cannot
    // fetch: no remote) is an error that says how to check out.
    let gone = Checkout { base: "0".repeat(40), ..checkout() };
    let (out, _) = run_action(&gone, "pull_request", &[("changed-only", "true")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("fetch-depth: 0"), "{}", text(&out));
}
