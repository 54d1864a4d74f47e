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

use crate::rules::{Rule, Severity};

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

/// A configuration error: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid configuration in {}: {}", self.path.display(), self.message)
    }
}

impl Config {
    /// The `[tool.flask-bind-guard]` table of a `pyproject.toml`, if it has
    /// one.
    pub fn parse(path: &Path, text: &str) -> Result<Option<Config>, ConfigError> {
        let error = |message: String| ConfigError { path: path.to_path_buf(), message };
        let doc: Pyproject = toml::from_str(text).map_err(|e| error(e.to_string().trim_end().to_string()))?;
        let Some(config) = doc.tool.and_then(|t| t.flask_bind_guard) else { return Ok(None) };
        config.validate().map_err(error)?;
        Ok(Some(config))
    }

    fn validate(&self) -> Result<(), String> {
        for code in self.severity.iter().flatten().map(|(k, _)| k) {
            if Rule::from_code(code).is_none() {
                return Err(format!("`severity`: unknown rule `{code}`; the rules are FBG001 and FBG002"));
            }
        }
        for (key, names) in [("extend-app-factories", &self.extend_app_factories), ("extend-apps", &self.extend_apps)] {
            for name in names.iter().flatten() {
                let dotted = name.split('.').count() >= 2
                    && name.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'));
                if !dotted {
                    return Err(format!("`{key}`: `{name}` is not a dotted import path such as `package.module.name`"));
                }
            }
        }
        for glob in self.exclude.iter().flatten() {
            Glob::new(glob).map_err(|e| format!("`exclude`: {e}"))?;
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
        self.validate()?;
        let mut anchored = GlobSetBuilder::new();
        let mut names = GlobSetBuilder::new();
        for pattern in self.exclude.iter().flatten() {
            let trimmed = pattern.trim_start_matches("./").trim_end_matches('/');
            let glob = Glob::new(trimmed).map_err(|e| format!("`exclude`: {e}"))?;
            if trimmed.contains('/') {
                anchored.add(glob);
            } else {
                names.add(glob);
            }
        }
        let build = |b: GlobSetBuilder| b.build().map_err(|e| format!("`exclude`: {e}"));
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
            Lookup::File(path) => Some((path.clone(), Config::parse(path, &read(path)?)?.unwrap_or_default())),
            Lookup::Discover => find_pyproject(start)?,
        };
        let (config, base) = match found {
            Some((file, config)) => {
                let dir = cwd.join(file).parent().map(Path::to_path_buf).unwrap_or_default();
                (config, crate::paths::relative_to(&dir, cwd))
            }
            None => (Config::default(), PathBuf::new()),
        };
        self.finish(config, base, Path::new("the command line"))
    }

    /// Settings for staged mode: the `pyproject.toml` at the root of the
    /// snapshot being committed (paths there are relative to that root).
    pub fn in_tree(&self, tree: &dyn crate::source::SourceTree) -> Result<Settings, ConfigError> {
        let name = Path::new("pyproject.toml");
        let config = match &self.lookup {
            Lookup::Isolated => None,
            Lookup::File(path) => Config::parse(path, &read(path)?)?,
            Lookup::Discover if tree.is_file(name) => {
                let bytes = tree.read(name).map_err(|e| ConfigError { path: name.into(), message: e.to_string() })?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| ConfigError { path: name.into(), message: "not valid UTF-8".into() })?;
                Config::parse(name, &text)?
            }
            Lookup::Discover => None,
        };
        self.finish(config.unwrap_or_default(), PathBuf::new(), Path::new("the command line"))
    }

    fn finish(&self, config: Config, base: PathBuf, origin: &Path) -> Result<Settings, ConfigError> {
        config
            .overridden_by(self.overrides.clone())
            .settings(base)
            .map_err(|message| ConfigError { path: origin.to_path_buf(), message })
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError { path: path.to_path_buf(), message: e.to_string() })
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
            Err(e) => return Err(ConfigError { path: candidate, message: format!("cannot read it: {e}") }),
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
    fn safe_hosts_match_any_spelling() {
        let a = Analysis { safe_hosts: vec!["0.0.0.0".into()], ..Analysis::default() };
        assert!(a.is_safe_host("0.0.0.0"));
        assert!(a.is_safe_host("0"));
        assert!(!a.is_safe_host("::"));
    }
}
