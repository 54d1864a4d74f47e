//! What a project's dependency declarations say about a library's major
//! version, where the code's meaning depends on it: Connexion 1/2 serve
//! `App.run` with Flask's development server, Connexion 3 with uvicorn.

use std::path::Path;

/// The files that declare dependencies, by name, looked for in a module's
/// directory and each one above it.
pub const DEPENDENCY_FILES: &[&str] = &[
    "requirements.txt",
    "requirements.in",
    "requirements-prod.txt",
    "requirements_prod.txt",
    "requirements-dev.txt",
    "requirements_dev.txt",
    "requirements/base.txt",
    "requirements/prod.txt",
    "requirements/production.txt",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "Pipfile",
    "environment.yml",
];

/// Is this one of [`DEPENDENCY_FILES`] (in any directory)?
pub fn is_dependency_file(path: &Path) -> bool {
    let p = path.as_os_str().as_encoded_bytes();
    DEPENDENCY_FILES.iter().any(|name| {
        let name = name.as_bytes();
        p == name || (p.ends_with(name) && p[p.len() - name.len() - 1] == b'/')
    })
}

/// The major version of `package` that `text` (one dependency file)
/// allows, when it says: `3` for a lower bound of 3 or more (or an extra
/// only version 3 has, for Connexion `flask` / `uvicorn`), the bound's
/// major for an upper bound or a pin below it; `None` when the package is
/// not named, or named without a version.
pub fn declared_major(text: &str, package: &str) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    let mut found = None;
    let mut at = 0;
    while let Some(i) = lower[at..].find(package) {
        let start = at + i;
        at = start + package.len();
        let before = lower[..start].chars().next_back();
        let after = &lower[at..];
        // A whole name: not `connexion-compose`, `pyconnexion`.
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            || after.starts_with(|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            continue;
        }
        let mut rest = after.trim_start();
        // Pipfile / poetry: `connexion = ">=2.0,<3"`, `connexion = {version = ...}`.
        rest = rest.trim_start_matches(['=', ' ', '"', '\'', '{']).trim_start();
        if let Some(v) = rest.strip_prefix("version") {
            rest = v.trim_start_matches([' ', '=', '"', '\'']);
        }
        if let Some(extras) = after.trim_start().strip_prefix('[') {
            let extras = extras.split(']').next().unwrap_or_default();
            if extras.split(',').any(|e| matches!(e.trim(), "flask" | "uvicorn")) && package == "connexion" {
                return Some(3);
            }
            rest = after.trim_start().split_once(']').map_or("", |(_, r)| r).trim_start();
        }
        // The specifiers up to the end of the line (or the string).
        let spec: String = rest.chars().take_while(|c| !matches!(c, '\n' | '"' | '\'' | ';' | '#' | '}')).collect();
        if let Some(major) = major_of(&spec) {
            found = Some(major);
        }
    }
    found
}

/// The major version a specifier list (`>=2.6,<3`, `==1.1.15`, `~=3.0`,
/// `^2.7`) allows, when one is decided.
fn major_of(spec: &str) -> Option<u32> {
    let mut lower_bound = None;
    let mut upper = None;
    for part in spec.split(',') {
        let part = part.trim();
        let (op, version) = match part.find(|c: char| c.is_ascii_digit()) {
            Some(i) => (part[..i].trim(), &part[i..]),
            None => continue,
        };
        let major: u32 = version.split(['.', ' ', '*']).next()?.parse().ok()?;
        let minor_zero = version.split('.').nth(1).is_none_or(|m| m.trim_start_matches('0').is_empty());
        match op {
            "==" | "===" | "~=" | "^" | "~" | "" => return Some(major),
            ">=" | ">" => lower_bound = Some(major),
            // `<3` / `<3.0` allow 2; `<2.7` allows 2.
            "<" if minor_zero => upper = Some(major.saturating_sub(1)),
            "<" | "<=" => upper = Some(major),
            _ => {}
        }
    }
    match (lower_bound, upper) {
        (Some(l), _) if l >= 3 => Some(l),
        (_, Some(u)) => Some(u),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connexion_versions() {
        let v = |t: &str| declared_major(t, "connexion");
        assert_eq!(v("flask\nconnexion[flask,uvicorn,swagger-ui]\n"), Some(3));
        assert_eq!(v("connexion[swagger-ui] >= 2.6.0, < 3\n"), Some(2));
        assert_eq!(v("connexion == 1.1.15\n"), Some(1));
        assert_eq!(v("connexion>=3.0.5\n"), Some(3));
        assert_eq!(v("connexion~=2.14\n"), Some(2));
        assert_eq!(v("connexion<=2.14.2\n"), Some(2));
        assert_eq!(v("connexion\n"), None);
        assert_eq!(v("connexion[swagger-ui] >= 2.6.0\n"), None);
        assert_eq!(v("connexion-compose==3.0\nflask\n"), None);
        assert_eq!(v("install_requires=[\"connexion>=2.2.0,<3\", \"flask\"]"), Some(2));
        assert_eq!(v("[packages]\nconnexion = \"==2.7.0\"\n"), Some(2));
        assert_eq!(
            v("[tool.poetry.dependencies]\nconnexion = {version = \"^3.0\", extras = [\"swagger-ui\"]}\n"),
            Some(3)
        );
        assert_eq!(v("dependencies = [\"connexion[swagger-ui]>=3.1\"]"), Some(3));
    }

    #[test]
    fn dependency_file_names() {
        assert!(is_dependency_file(Path::new("requirements.txt")));
        assert!(is_dependency_file(Path::new("api/requirements.txt")));
        assert!(is_dependency_file(Path::new("requirements/base.txt")));
        assert!(!is_dependency_file(Path::new("myrequirements.txt")));
        assert!(!is_dependency_file(Path::new("app.py")));
    }
}
