//! Project configuration: `[tool.flask-bind-guard]` in `pyproject.toml`,
//! overridden key by key by command-line flags.
//!
//! ```toml
//! [tool.flask-bind-guard]
//! exclude = ["legacy/**", "scripts/devserver.py"]
//! extend-safe-hosts = ["0.0.0.0"]          # never report these hosts
//! severity = { FBG001 = "high" }
//! extend-app-factories = ["company_web.create_app"]
//! extend-apps = ["company_web.app"]
//! peer-suppressions = false                # ruff's/bandit's comments do not silence
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use toml::Spanned;

use crate::rules::{Rule, Severity};
use crate::text::safe;

/// The `[tool.flask-bind-guard]` table as written. Unknown keys are an
/// error (a misspelt key would otherwise be silently ignored).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Config {
    /// Globs of files and directories not to check, relative to the
    /// directory holding `pyproject.toml`.
    #[serde(default)]
    pub exclude: Option<Vec<String>>,
    /// Hosts never reported, in addition to the loopback ones.
    #[serde(default)]
    pub extend_safe_hosts: Option<Vec<String>>,
    /// Rule code -> severity.
    #[serde(default)]
    pub severity: Option<BTreeMap<String, Severity>>,
    /// Dotted import paths of callables (functions or classes) from outside
    /// the repository whose result is a Flask application.
    #[serde(default)]
    pub extend_app_factories: Option<Vec<String>>,
    /// Dotted import paths of objects from outside the repository that are
    /// Flask applications.
    #[serde(default)]
    pub extend_apps: Option<Vec<String>>,
    /// Honour ruff's `# noqa: S104` and bandit's `# nosec B104` (default
    /// true).
    #[serde(default)]
    pub peer_suppressions: Option<bool>,
}

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    #[serde(rename = "flask-bind-guard")]
    flask_bind_guard: Option<Config>,
}

/// A configuration error: where, and what is wrong. Its text is safe for a
/// terminal: what comes from outside (the file's name, its keys and
/// values) has control characters pictured; our words are left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based line and column in the file, when known.
    pub at: Option<(usize, usize)>,
    pub message: String,
}

impl ConfigError {
    fn new(path: &Path, message: impl Into<String>) -> Self {
        ConfigError { path: path.to_path_buf(), at: None, message: message.into() }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", safe(&self.path.display().to_string()))?;
        if let Some((line, column)) = self.at {
            write!(f, ":{line}:{column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Where each key of `[tool.flask-bind-guard]` is written: the key's and
/// its value's byte ranges. Read apart from the typed table so that an
/// error in a value can still name its key.
#[derive(Deserialize)]
struct SpannedPyproject {
    tool: Option<SpannedTool>,
}

#[derive(Deserialize)]
struct SpannedTool {
    #[serde(rename = "flask-bind-guard")]
    flask_bind_guard: Option<BTreeMap<Spanned<String>, Spanned<serde::de::IgnoredAny>>>,
}

struct KeySpan {
    name: String,
    key: std::ops::Range<usize>,
    value: std::ops::Range<usize>,
}

fn key_spans(text: &str) -> Vec<KeySpan> {
    let Ok(doc) = toml::from_str::<SpannedPyproject>(text) else { return Vec::new() };
    let table = doc.tool.and_then(|t| t.flask_bind_guard).unwrap_or_default();
    table.into_iter().map(|(k, v)| KeySpan { key: k.span(), value: v.span(), name: k.into_inner() }).collect()
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
}

impl Config {
    /// The `[tool.flask-bind-guard]` table of a `pyproject.toml`, if it has
    /// one. Errors give the line and name the key.
    pub fn parse(path: &Path, text: &str) -> Result<Option<Config>, ConfigError> {
        let doc: Pyproject = match toml::from_str(text) {
            Ok(doc) => doc,
            Err(e) => {
                let start = e.span().map(|s| s.start);
                let key = start
                    .and_then(|at| key_spans(text).into_iter().find(|k| k.key.contains(&at) || k.value.contains(&at)));
                // The parser's own words, on one line (it may wrap them).
                let said: Vec<&str> = e.message().lines().map(str::trim).filter(|l| !l.is_empty()).collect();
                let said = safe(&said.join("; "));
                let message = match key {
                    Some(k) if !said.contains(&format!("`{}`", safe(&k.name))) => {
                        format!("`{}`: {said}", safe(&k.name))
                    }
                    _ => said
                        .replace("unknown field", "unknown key")
                        .replace("expected struct Config", "expected a table of settings"),
                };
                return Err(ConfigError { path: path.to_path_buf(), at: start.map(|s| line_col(text, s)), message });
            }
        };
        let Some(config) = doc.tool.and_then(|t| t.flask_bind_guard) else { return Ok(None) };
        config.validate().map_err(|(key, message)| {
            let at = key_spans(text).into_iter().find(|k| k.name == key).map(|k| line_col(text, k.key.start));
            ConfigError { path: path.to_path_buf(), at, message: format!("`{key}`: {message}") }
        })?;
        Ok(Some(config))
    }

    /// The first bad value, as (key, what is wrong); values are pictured
    /// (they come from the file or the command line).
    fn validate(&self) -> Result<(), (&'static str, String)> {
        for code in self.severity.iter().flatten().map(|(k, _)| k) {
            if Rule::from_code(code).is_none() {
                let message = format!("unknown rule `{}`; the rules are FBG001 and FBG002", safe(code));
                return Err(("severity", message));
            }
        }
        for (key, names) in [("extend-app-factories", &self.extend_app_factories), ("extend-apps", &self.extend_apps)] {
            for name in names.iter().flatten() {
                check_dotted(name).map_err(|message| (key, message))?;
            }
        }
        for host in self.extend_safe_hosts.iter().flatten() {
            check_host(host).map_err(|message| ("extend-safe-hosts", message))?;
        }
        for glob in self.exclude.iter().flatten() {
            check_glob(glob).map_err(|message| ("exclude", message))?;
        }
        Ok(())
    }

    /// This configuration with every key `over` sets replacing ours
    /// (severities merge rule by rule).
    pub fn overridden_by(mut self, over: Config) -> Config {
        if over.exclude.is_some() {
            self.exclude = over.exclude;
        }
        if over.extend_safe_hosts.is_some() {
            self.extend_safe_hosts = over.extend_safe_hosts;
        }
        if let Some(sev) = over.severity {
            self.severity.get_or_insert_with(BTreeMap::new).extend(sev);
        }
        if over.extend_app_factories.is_some() {
            self.extend_app_factories = over.extend_app_factories;
        }
        if over.extend_apps.is_some() {
            self.extend_apps = over.extend_apps;
        }
        if over.peer_suppressions.is_some() {
            self.peer_suppressions = over.peer_suppressions;
        }
        self
    }

    /// The settings the scan uses. `base` is the directory `exclude` globs
    /// are relative to, as the scan names paths.
    pub fn settings(&self, base: PathBuf) -> Result<Settings, String> {
        self.validate().map_err(|(key, message)| format!("`{key}`: {message}"))?;
        let mut anchored = GlobSetBuilder::new();
        let mut names = GlobSetBuilder::new();
        for pattern in self.exclude.iter().flatten() {
            let trimmed = pattern.trim_start_matches("./").trim_end_matches('/');
            let glob = Glob::new(trimmed).map_err(|e| format!("`exclude`: {}", safe(&e.to_string())))?;
            if trimmed.contains('/') {
                anchored.add(glob);
            } else {
                names.add(glob);
            }
        }
        let build = |b: GlobSetBuilder| b.build().map_err(|e| format!("`exclude`: {}", safe(&e.to_string())));
        let severity =
            self.severity.iter().flatten().filter_map(|(code, sev)| Some((Rule::from_code(code)?, *sev))).collect();
        Ok(Settings {
            exclude: Exclude {
                cwd: base.starts_with("..").then(|| std::env::current_dir().unwrap_or_default()),
                base,
                anchored: build(anchored)?,
                names: build(names)?,
            },
            analysis: Analysis {
                safe_hosts: self.extend_safe_hosts.clone().unwrap_or_default(),
                severity,
                app_factories: self.extend_app_factories.clone().unwrap_or_default(),
                apps: self.extend_apps.clone().unwrap_or_default(),
                no_peer_suppressions: self.peer_suppressions == Some(false),
            },
        })
    }
}

/// A value of `extend-apps` / `extend-app-factories` (and their flags).
pub fn check_dotted(name: &str) -> Result<String, String> {
    let dotted = name.split('.').count() >= 2
        && name.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
    if dotted {
        Ok(name.to_string())
    } else {
        Err(format!("`{}` is not a dotted import path such as `package.module.name`", safe(name)))
    }
}

/// A value of `extend-safe-hosts` (and its flag).
pub fn check_host(host: &str) -> Result<String, String> {
    if is_host(host) {
        Ok(host.to_string())
    } else {
        Err(format!(
            "`{}` is not a host: give an IP address or a host name, e.g. \"0.0.0.0\", \"::\", \"10.0.0.5\" or \"dev-box\"",
            safe(host)
        ))
    }
}

/// A value of `exclude` (and its flag).
pub fn check_glob(glob: &str) -> Result<String, String> {
    Glob::new(glob).map(|_| glob.to_string()).map_err(|e| safe(&e.to_string()))
}

/// Could `host` be what `app.run(host=...)` is given: an IP address (IPv6
/// possibly bracketed or with a zone; any spelling of the unspecified
/// address, such as "0") or a host name (dot-separated labels of letters,
/// digits, `-` and `_`)?
fn is_host(host: &str) -> bool {
    let ipv6 = |h: &str| {
        // A zone ("fe80::1%eth0") names the interface of a link-local address.
        let (addr, zone) = h.split_once('%').unwrap_or((h, "x"));
        addr.parse::<std::net::Ipv6Addr>().is_ok() && !zone.is_empty() && zone.chars().all(|c| c.is_ascii_graphic())
    };
    let unbracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    if host.parse::<std::net::Ipv4Addr>().is_ok()
        || ipv6(host)
        || unbracketed.is_some_and(ipv6)
        || crate::analysis::value::canonical_host(host).is_some()
    {
        return true;
    }
    let label = |l: &str| {
        (1..=63).contains(&l.len())
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    // One trailing dot is the fully qualified spelling.
    let name = host.strip_suffix('.').unwrap_or(host);
    name.len() <= 253 && name.split('.').all(label)
}

/// What the analysis takes from the configuration.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub safe_hosts: Vec<String>,
    pub severity: BTreeMap<Rule, Severity>,
    pub app_factories: Vec<String>,
    pub apps: Vec<String>,
    /// `peer-suppressions = false`: only our own `# noqa` silences.
    pub no_peer_suppressions: bool,
}

impl Analysis {
    pub fn severity_of(&self, rule: Rule) -> Severity {
        self.severity.get(&rule).copied().unwrap_or(rule.default_severity())
    }

    /// Is `host` one the team allows? Spellings of the same unspecified
    /// address match (`"0"` matches `"0.0.0.0"`).
    pub fn is_safe_host(&self, host: &str) -> bool {
        let canonical = crate::analysis::value::canonical_host;
        self.safe_hosts.iter().any(|s| s == host || canonical(s).is_some_and(|c| Some(c) == canonical(host)))
    }

    /// Top-level module names whose import may bring a configured app (the
    /// prefilter looks for them as it looks for `flask`).
    pub fn prefilter_tokens(&self) -> Vec<String> {
        let mut tokens: Vec<String> = self
            .app_factories
            .iter()
            .chain(&self.apps)
            .filter_map(|p| p.split('.').next())
            .map(str::to_string)
            .collect();
        tokens.sort();
        tokens.dedup();
        tokens
    }
}

/// Files the configuration leaves out.
#[derive(Debug, Clone, Default)]
pub struct Exclude {
    /// The directory globs are relative to, as the scan names paths
    /// (relative to the working directory, possibly with `..`).
    base: PathBuf,
    /// The working directory, when `base` climbs out of it.
    cwd: Option<PathBuf>,
    /// Patterns with a `/`: matched against the path from `base` (and each
    /// directory above the file).
    anchored: GlobSet,
    /// Patterns without one: matched against every component's name.
    names: GlobSet,
}

impl Exclude {
    pub fn is_empty(&self) -> bool {
        self.anchored.is_empty() && self.names.is_empty()
    }

    /// Is `path` (as the scan names it) or a directory above it excluded?
    pub fn matches(&self, path: &Path) -> bool {
        if self.is_empty() {
            return false;
        }
        let absolute;
        let rel = match &self.cwd {
            // `base` is above the working directory: compare absolute paths.
            Some(cwd) => {
                absolute = crate::paths::clean(&cwd.join(path));
                absolute.strip_prefix(crate::paths::clean(&cwd.join(&self.base)))
            }
            None => path.strip_prefix(&self.base),
        };
        let Ok(rel) = rel else { return false };
        let mut prefix = PathBuf::new();
        for part in rel.components() {
            prefix.push(part);
            if self.names.is_match(part.as_os_str()) || self.anchored.is_match(&prefix) {
                return true;
            }
        }
        false
    }
}

/// Everything the configuration decides.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub exclude: Exclude,
    pub analysis: Analysis,
}

/// Where the configuration comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Lookup {
    /// The nearest `pyproject.toml` with our table (in staged mode: the one
    /// at the repository root, as staged).
    #[default]
    Discover,
    /// This file (`--config`).
    File(PathBuf),
    /// None at all (`--isolated`): defaults and flags only.
    Isolated,
}

/// The configuration asked for on the command line: where to find it, and
/// the keys flags set (they win).
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub lookup: Lookup,
    pub overrides: Config,
}

impl Request {
    /// Settings for an audit of paths under `start` (absolute). Exclude
    /// globs are relative to the configuration file's directory, which the
    /// scan names relative to `cwd`.
    pub fn on_disk(&self, start: &Path, cwd: &Path) -> Result<Settings, ConfigError> {
        let found = match &self.lookup {
            Lookup::Isolated => None,
            Lookup::File(path) => Some((path.clone(), named(path)?)),
            // Named as the scan names paths: relative to the working directory.
            Lookup::Discover => {
                find_pyproject(start).map_err(|e| ConfigError { path: crate::paths::relative_to(&e.path, cwd), ..e })?
            }
        };
        let (config, base) = match found {
            Some((file, config)) => {
                let dir = cwd.join(file).parent().map(Path::to_path_buf).unwrap_or_default();
                (config, crate::paths::relative_to(&dir, cwd))
            }
            None => (Config::default(), PathBuf::new()),
        };
        self.finish(config, base)
    }

    /// Settings for staged mode: the `pyproject.toml` at the root of the
    /// snapshot being committed (paths there are relative to that root).
    pub fn in_tree(&self, tree: &dyn crate::source::SourceTree) -> Result<Settings, ConfigError> {
        let name = Path::new("pyproject.toml");
        let config = match &self.lookup {
            Lookup::Isolated => None,
            Lookup::File(path) => Some(named(path)?),
            Lookup::Discover if tree.is_file(name) => {
                let bytes = tree.read(name).map_err(|e| ConfigError::new(name, format!("cannot read it: {e}")))?;
                let text = String::from_utf8(bytes).map_err(|_| ConfigError::new(name, "not valid UTF-8"))?;
                Config::parse(name, &text)?
            }
            Lookup::Discover => None,
        };
        self.finish(config.unwrap_or_default(), PathBuf::new())
    }

    /// The flags over the file's keys. The file's values were checked when
    /// it was read, so what fails here came from a flag.
    fn finish(&self, config: Config, base: PathBuf) -> Result<Settings, ConfigError> {
        self.overrides
            .validate()
            .map_err(|(key, message)| ConfigError::new(Path::new("the command line"), format!("--{key}: {message}")))?;
        config
            .overridden_by(self.overrides.clone())
            .settings(base)
            .map_err(|message| ConfigError::new(Path::new("the command line"), message))
    }
}

/// The file `--config` names. It was named on purpose, so a file without
/// our table is an error, not a silent fallback to the defaults.
fn named(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(path, format!("cannot read the file --config names: {e}; check the path")))?;
    Config::parse(path, &text)?.ok_or_else(|| {
        ConfigError::new(
            path,
            "no [tool.flask-bind-guard] table; the file --config names must hold one (an empty table means the defaults)",
        )
    })
}

/// The configuration that governs `start` (a directory): that of the
/// nearest `pyproject.toml` upwards with a `[tool.flask-bind-guard]` table,
/// stopping at the repository root (a directory holding `.git`). Returns
/// the file too.
pub fn find_pyproject(start: &Path) -> Result<Option<(PathBuf, Config)>, ConfigError> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join("pyproject.toml");
        let text = match std::fs::read_to_string(&candidate) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            // A directory of that name is not a configuration either.
            Err(_) if candidate.is_dir() => None,
            // One that exists but cannot be read may hold ours: say so.
            Err(e) => return Err(ConfigError::new(&candidate, format!("cannot read it: {e}"))),
        };
        if let Some(text) = text
            && text.contains("flask-bind-guard")
            && let Some(config) = Config::parse(&candidate, &text)?
        {
            return Ok(Some((candidate, config)));
        }
        if d.join(".git").exists() {
            break;
        }
        dir = d.parent();
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<Config>, String> {
        Config::parse(Path::new("pyproject.toml"), text).map_err(|e| e.message)
    }

    #[test]
    fn reads_the_table_and_ignores_other_tools() {
        let c = parse(
            "[project]\nname = \"x\"\n[tool.ruff]\nline-length = 1\n[tool.flask-bind-guard]\nexclude = [\"a/**\"]\nseverity = { FBG001 = \"high\" }\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.exclude, Some(vec!["a/**".to_string()]));
        assert_eq!(c.severity.unwrap()["FBG001"], Severity::High);
        assert_eq!(parse("[tool.ruff]\nx = 1\n").unwrap(), None);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = parse("[tool.flask-bind-guard]\nexlude = []\n").unwrap_err();
        assert!(e.contains("exlude"), "{e}");
        let e = parse("[tool.flask-bind-guard]\nseverity = { FBG009 = \"high\" }\n").unwrap_err();
        assert!(e.contains("FBG009"), "{e}");
        let e = parse("[tool.flask-bind-guard]\nseverity = { FBG001 = \"urgent\" }\n").unwrap_err();
        assert!(e.contains("urgent"), "{e}");
        let e = parse("[tool.flask-bind-guard]\nextend-apps = [\"app\"]\n").unwrap_err();
        assert!(e.contains("`app`"), "{e}");
        let e = parse("[tool.flask-bind-guard]\nexclude = \"a\"\n").unwrap_err();
        assert!(e.contains("exclude"), "{e}");
    }

    #[test]
    fn flags_override_key_by_key() {
        let file = Config {
            exclude: Some(vec!["a".into()]),
            extend_apps: Some(vec!["x.app".into()]),
            severity: Some(BTreeMap::from([("FBG001".into(), Severity::Low), ("FBG002".into(), Severity::High)])),
            ..Config::default()
        };
        let flags = Config {
            exclude: Some(vec!["b".into()]),
            severity: Some(BTreeMap::from([("FBG001".into(), Severity::Critical)])),
            ..Config::default()
        };
        let merged = file.overridden_by(flags);
        assert_eq!(merged.exclude, Some(vec!["b".to_string()]));
        assert_eq!(merged.extend_apps, Some(vec!["x.app".to_string()]));
        let sev = merged.severity.unwrap();
        assert_eq!((sev["FBG001"], sev["FBG002"]), (Severity::Critical, Severity::High));
    }

    #[test]
    fn exclude_globs() {
        let c = Config {
            exclude: Some(vec!["legacy/**".into(), "migrations".into(), "./scripts/run_*.py".into()]),
            ..Config::default()
        };
        let s = c.settings(PathBuf::from("proj")).unwrap();
        let m = |p: &str| s.exclude.matches(Path::new(p));
        assert!(m("proj/legacy/app.py"));
        assert!(m("proj/legacy/deep/er/app.py"));
        assert!(m("proj/pkg/migrations/0001.py"));
        assert!(m("proj/scripts/run_dev.py"));
        assert!(!m("proj/scripts/tool.py"));
        assert!(!m("proj/app.py"));
        assert!(!m("other/legacy/app.py"));
    }

    #[test]
    fn hosts_and_positions() {
        for h in ["0.0.0.0", "0", "0x0", "::", "[::1]", "fe80::1%eth0", "10.0.0.5", "localhost", "dev_box-2", "a.b."] {
            assert!(is_host(h), "{h}");
        }
        for h in ["", " ", "a b", "a..b", "-a", "a-", "[10.0.0.5]", "fe80::1%", "x/y", "a\u{1b}"] {
            assert!(!is_host(h), "{h}");
        }
        assert_eq!(line_col("ab\ncé\nx", 6), (2, 3));
        assert_eq!(line_col("ab", 0), (1, 1));
    }

    #[test]
    fn safe_hosts_match_any_spelling() {
        let a = Analysis { safe_hosts: vec!["0.0.0.0".into()], ..Analysis::default() };
        assert!(a.is_safe_host("0.0.0.0"));
        assert!(a.is_safe_host("0"));
        assert!(!a.is_safe_host("::"));
    }
}
