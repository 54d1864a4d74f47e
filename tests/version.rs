//! One version everywhere: Cargo.toml is the source; the Python package
//! takes it (`dynamic`), the pre-commit mirror pins it, and the GitHub
//! Action (`action.yml`) installs it by default. Also: the mirror's hook is
//! the source hook but for `language`.

use std::path::Path;

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(MANIFEST).join(path)).unwrap()
}

fn table(text: &str) -> toml::Table {
    toml::from_str(text).unwrap()
}

/// The default of the `version` input of `action.yml` (the file's own
/// layout: `inputs:`, then `  version:`, then its keys indented by four).
fn action_version(action: &str) -> Option<String> {
    let mut lines = action.lines().skip_while(|l| *l != "inputs:").skip_while(|l| *l != "  version:").skip(1);
    lines.by_ref().take_while(|l| l.starts_with("    ")).find_map(|l| {
        let v = l.trim().strip_prefix("default:")?.trim();
        Some(v.trim_matches('"').to_string())
    })
}

/// What disagrees with the crate's version, one line each.
fn drift(cargo: &str, pyproject: &str, mirror: &str, mirror_readme: &str, action: &str) -> Vec<String> {
    let version = table(cargo)["package"]["version"].as_str().unwrap().to_string();
    let mut out = Vec::new();
    let project = &table(pyproject)["project"];
    let dynamic = project
        .get("dynamic")
        .and_then(|d| d.as_array())
        .is_some_and(|d| d.iter().any(|v| v.as_str() == Some("version")));
    match project.get("version").and_then(|v| v.as_str()) {
        Some(v) if v != version => out.push(format!("pyproject.toml has {v}")),
        None if !dynamic => out.push("pyproject.toml has no version and does not take Cargo's".into()),
        _ => {}
    }
    let mirror = &table(mirror)["project"];
    if mirror["version"].as_str() != Some(&version) {
        out.push(format!("the mirror is at {:?}", mirror["version"]));
    }
    let pin = format!("flask-bind-guard=={version}");
    if !mirror["dependencies"].as_array().unwrap().iter().any(|d| d.as_str() == Some(&pin)) {
        out.push(format!("the mirror does not pin {pin}: {:?}", mirror["dependencies"]));
    }
    if !mirror_readme.contains(&format!("rev: v{version}\n")) {
        out.push("the mirror README shows another rev".into());
    }
    match action_version(action) {
        Some(v) if v == version => {}
        other => out.push(format!("action.yml installs {other:?} by default")),
    }
    out
}

#[test]
fn one_version_everywhere() {
    let (cargo, pyproject) = (read("Cargo.toml"), read("pyproject.toml"));
    let (mirror, readme) = (read("pre-commit-mirror/pyproject.toml"), read("pre-commit-mirror/README.md"));
    let action = read("action.yml");
    assert_eq!(
        drift(&cargo, &pyproject, &mirror, &readme, &action),
        Vec::<String>::new(),
        "run pre-commit-mirror/bump.py"
    );
    assert_eq!(action_version(&action).as_deref(), Some(env!("CARGO_PKG_VERSION")));
    // A blank `version` input installs the same release.
    let own = format!("\nOWN_VERSION = \"{}\"\n", env!("CARGO_PKG_VERSION"));
    assert!(read("action/run.py").contains(&own), "action/run.py: run pre-commit-mirror/bump.py");
    // A new crate version that was not carried over is caught everywhere.
    let bumped = cargo.replacen(&format!("version = \"{}\"", env!("CARGO_PKG_VERSION")), "version = \"9.9.9\"", 1);
    assert_ne!(bumped, cargo);
    assert_eq!(drift(&bumped, &pyproject, &mirror, &readme, &action).len(), 4);
    let pinned = pyproject.replace("dynamic = [\"version\"]", "version = \"0.0.1\"");
    assert_eq!(drift(&cargo, &pinned, &mirror, &readme, &action), vec!["pyproject.toml has 0.0.1".to_string()]);
    let stale = action.replace(&format!("default: \"{}\"", env!("CARGO_PKG_VERSION")), "default: \"0.0.9\"");
    assert_eq!(
        drift(&cargo, &pyproject, &mirror, &readme, &stale),
        vec!["action.yml installs Some(\"0.0.9\") by default".to_string()]
    );
}

#[test]
fn the_mirror_hook_is_the_source_hook_installed_from_a_wheel() {
    // Comments aside, the two files differ in the language line only.
    let lines = |text: &str| -> Vec<String> {
        text.lines().filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty()).map(str::to_string).collect()
    };
    let source = lines(&read(".pre-commit-hooks.yaml"));
    let mirror = lines(&read("pre-commit-mirror/.pre-commit-hooks.yaml"));
    assert_eq!(source.len(), mirror.len());
    for (s, m) in source.iter().zip(&mirror) {
        if s.trim_start().starts_with("language:") {
            assert_eq!((s.trim(), m.trim()), ("language: rust", "language: python"));
        } else {
            assert_eq!(s, m);
        }
    }
}
