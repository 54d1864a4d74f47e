//! Fixture tests: each file in `tests/fixtures/` (and each directory in
//! `tests/fixtures/multi/`, for cross-module cases) is scanned.
//!
//! A fixture marks every line where a finding must start with a trailing
//! `# ERR FBG00N` comment; the set of (file, line, rule) found must equal the
//! set marked, so a missed case and a false alarm both fail. A snapshot then
//! pins the exact columns and messages.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use flask_bind_guard::scan::{ScanOptions, ScanOutcome, scan_paths};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn python_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(path).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(python_files(&p));
        } else if p.extension().is_some_and(|e| e == "py" || e == "ipynb") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// (file name relative to the fixture, line, rule) for every marker.
fn expected(root: &Path) -> BTreeSet<(String, usize, String)> {
    let mut want = BTreeSet::new();
    for file in python_files(root) {
        let bytes = std::fs::read(&file).unwrap();
        // A notebook's markers are in its code cells, and findings are on
        // the lines of those cells joined.
        let text = match flask_bind_guard::notebook::is_notebook(&file) {
            true => flask_bind_guard::notebook::parse(&bytes).unwrap().text.into(),
            false => String::from_utf8_lossy(&bytes),
        };
        for (i, line) in text.lines().enumerate() {
            if let Some(pos) = line.find("# ERR ") {
                let rule = line[pos + 6..].split_whitespace().next().unwrap().to_string();
                want.insert((rel(root, &file), i + 1, rule));
            }
        }
    }
    want
}

fn rel(root: &Path, file: &Path) -> String {
    let base = if root.is_file() { root.parent().unwrap() } else { root };
    file.strip_prefix(base).unwrap().display().to_string()
}

fn found(root: &Path, outcome: &ScanOutcome) -> BTreeSet<(String, usize, String)> {
    outcome
        .reports
        .iter()
        .flat_map(|r| r.findings.iter())
        .map(|f| {
            let path = fixtures_dir().parent().unwrap().parent().unwrap().join(&f.path);
            let path = if f.path.is_absolute() { f.path.clone() } else { path };
            (rel(root, &path), f.start.line, f.rule.code().to_string())
        })
        .collect()
}

fn render(root: &Path, outcome: &ScanOutcome) -> String {
    let mut s = String::new();
    for r in &outcome.reports {
        for f in &r.findings {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(&f.path);
            if let Some(cell) = f.cell(f.start.line) {
                s.push_str(&format!("[cell {} line {}] ", cell.number(), cell.line));
            }
            s.push_str(&format!(
                "{}:{}:{}-{}:{} {} host={:?} host_at={}:{} | {}\n",
                rel(root, &path),
                f.start.line,
                f.start.column,
                f.end.line,
                f.end.column,
                f.rule.code(),
                f.host,
                f.host_start.line,
                f.host_start.column,
                f.message
            ));
        }
    }
    for r in &outcome.reports {
        for f in &r.suppressed {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(&f.path);
            let by = f.suppressed.as_ref().map(|x| format!("{x:?}")).unwrap_or_default();
            s.push_str(&format!("{}:{} {} suppressed: {by}\n", rel(root, &path), f.start.line, f.rule.code()));
        }
    }
    for p in &outcome.problems {
        s.push_str(&format!("problem: {}\n", p.message));
    }
    s
}

fn cases() -> Vec<PathBuf> {
    let dir = fixtures_dir();
    let mut cases: Vec<PathBuf> =
        python_files(&dir).into_iter().filter(|p| p.parent() == Some(dir.as_path())).collect();
    let mut multi: Vec<PathBuf> = std::fs::read_dir(dir.join("multi")).unwrap().map(|e| e.unwrap().path()).collect();
    multi.sort();
    cases.extend(multi);
    cases
}

/// Scan from the crate root with a relative path, as a user would.
fn scan(case: &Path, prefilter: bool) -> ScanOutcome {
    let relative = case.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().to_path_buf();
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    scan_paths(&[relative], &ScanOptions { prefilter, ..ScanOptions::default() })
}

#[test]
fn every_fixture_finds_exactly_its_markers() {
    let mut failures = Vec::new();
    for case in cases() {
        let outcome = scan(&case, true);
        let (want, got) = (expected(&case), found(&case, &outcome));
        if want != got {
            failures.push(format!(
                "{}:\n  missed: {:?}\n  unexpected: {:?}",
                case.display(),
                want.difference(&got).collect::<Vec<_>>(),
                got.difference(&want).collect::<Vec<_>>()
            ));
        }
        let name = case.file_stem().unwrap().to_string_lossy().to_string();
        insta::assert_snapshot!(format!("fixture_{name}"), render(&case, &outcome));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fixtures_have_positive_and_negative_cases() {
    // A fixture with no markers at all must be a deliberate "nothing here".
    let quiet = ["lookalikes", "comments_strings", "cross_not_flask", "run_simple_local", "connexion3_app"];
    for case in cases() {
        let name = case.file_stem().unwrap().to_string_lossy().to_string();
        assert_eq!(expected(&case).is_empty(), quiet.contains(&name.as_str()), "{name}");
    }
}
