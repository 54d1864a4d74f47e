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

/// Dependency files larger than this are not read (a declaration list is
/// kilobytes).
pub const MAX_BYTES: u64 = 1 << 20;

/// Is this one of [`DEPENDENCY_FILES`] (in any directory)?
pub fn is_dependency_file(path: &Path) -> bool {
    let p = path.as_os_str().as_encoded_bytes();
    DEPENDENCY_FILES.iter().any(|name| {
        let name = name.as_bytes();
        p == name || (p.ends_with(name) && p[p.len() - name.len() - 1] == b'/')
    })
}

/// The major version of `package` that `text` (one dependency file)
/// allows, when it says: the bound's major for a pin or a range within one
/// major (`==2.14.2`, `>=2.6,<3`, `^3.0`, `~=2.7`), 3 for a lower bound of 3
/// or more, and for Connexion 3 also an extra only it has (`uvicorn`);
/// `None` when the package is not named, named without a version, or
/// named with versions that disagree (`; python_version` alternatives).
/// Comments are not declarations.
pub fn declared_major(text: &str, package: &str) -> Option<u32> {
    let mut found: Option<u32> = None;
    let mut disagree = false;
    for line in text.lines() {
        // A comment: `#` at the start or after a blank (not `#egg=` in a URL).
        let code = match line.find(" #").or_else(|| line.find("\t#")) {
            Some(i) => &line[..i],
            None if line.trim_start().starts_with('#') => continue,
            None => line,
        };
        let lower = code.to_ascii_lowercase();
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
            if let Some(major) = major_after(after, package) {
                disagree |= found.is_some_and(|f| f != major);
                found = Some(major);
            }
        }
    }
    if disagree { None } else { found }
}

/// The major version the text after the package's name declares.
fn major_after(after: &str, package: &str) -> Option<u32> {
    let mut rest = after.trim_start();
    let mut v3_extra = false;
    if let Some(extras) = rest.strip_prefix('[') {
        let (list, tail) = extras.split_once(']').unwrap_or((extras, ""));
        v3_extra = package == "connexion" && list.split(',').any(|e| e.trim() == "uvicorn");
        rest = tail.trim_start();
    }
    // Pipfile / poetry: `connexion = "==2.7"`, `connexion = {extras = [...],
    // version = "^3.0"}`; PEP 508 `connexion (>=3.0)`.
    let spec: String =
        if let Some(table) = rest.strip_prefix('=').map(str::trim_start).and_then(|r| r.strip_prefix('{')) {
            let table = table.split('}').next().unwrap_or_default();
            if table.split(',').any(|kv| kv.contains("extras") && kv.contains("uvicorn")) && package == "connexion" {
                v3_extra = true;
            }
            match table.find("version") {
                Some(i) => table[i + "version".len()..].trim_start_matches([' ', '=', '"', '\'']).to_string(),
                None => String::new(),
            }
        } else {
            rest.trim_start_matches(['=', ' ', '"', '\'', '(']).to_string()
        };
    let spec: String =
        spec.chars().take_while(|c| !matches!(c, '\n' | '"' | '\'' | ';' | '#' | '}' | ')' | '@')).collect();
    match major_of(&spec) {
        Some(major) => Some(major),
        None if v3_extra => Some(3),
        None => None,
    }
}

/// The major version a specifier list (`>=2.6,<3`, `==1.1.15`, `~=3.0`,
/// `^2.7`) allows, when it allows only one.
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
        let minor_zero = version.split('.').skip(1).all(|m| m.trim_start_matches('0').is_empty());
        match op {
            "==" | "===" | "~=" | "^" | "~" | "" => return Some(major),
            ">=" => lower_bound = Some(major),
            // `>2` allows 2.1; `>2.99` still 2 or later.
            ">" => lower_bound = Some(major),
            // `<3` / `<3.0` allow at most 2; `<2.7` allows 2.
            "<" if minor_zero => upper = Some(major.saturating_sub(1)),
            "<" | "<=" => upper = Some(major),
            _ => {}
        }
    }
    match (lower_bound, upper) {
        (Some(l), Some(u)) if l == u => Some(u),
        (Some(_), Some(_)) => None,
        (Some(l), None) if l >= 3 => Some(l),
        (None, Some(u)) => Some(u),
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
        // 2.x has a `flask` extra too; the pin decides.
        assert_eq!(v("'connexion[swagger-ui,flask]>=2.6.0,<3'"), Some(2));
        assert_eq!(v("connexion[flask]==2.14.2\n"), Some(2));
        // Comments are not declarations.
        assert_eq!(v("connexion[swagger-ui]>=3.0.5\n#connexion==2.14.2\n# connexion 2 served with flask\n"), Some(3));
        assert_eq!(v("connexion==2.14.2  # TODO: move to connexion 3\n"), Some(2));
        // Alternatives by marker disagree: unknown.
        assert_eq!(v("connexion==3.0.5 ; python_version>=\"3.8\"\nconnexion==2.14.2 ; python_version<\"3.8\"\n"), None);
        // Ranges over two majors: unknown.
        assert_eq!(v("connexion>=2,<4\n"), None);
        assert_eq!(v("connexion>=2.14,<3.1\n"), None);
        // Tables with extras first, PEP 508 brackets.
        assert_eq!(
            v("connexion = {extras = [\"flask\",\"swagger-ui\",\"uvicorn\"], version = \"==3.0.5\"}\n"),
            Some(3)
        );
        assert_eq!(v("connexion = {extras = [\"swagger-ui\"], version = \"^2.14.2\"}\n"), Some(2));
        assert_eq!(v("dependencies = [\"connexion[swagger-ui] (>=3.0.5)\"]"), Some(3));
        assert_eq!(v("-e git+https://github.com/x/y.git#egg=connexion\n"), None);
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
