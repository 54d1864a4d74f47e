//! Where modules come from, and how `import x` finds them.
//!
//! A [`SourceTree`] reads files (the disk in audit mode; the git index in
//! staged mode). A [`Project`] resolves imports over it the way `sys.path`
//! would for a script or package of the same repository, and parses each
//! module at most once, whichever thread asks first.

use std::collections::HashMap;

use rustc_hash::{FxHashMap, FxHashSet};
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

pub use crate::paths::{clean, relative_to};
use crate::python::{ModuleRef, parse_module};
pub use crate::source::SourceTree;
use crate::source::{self, DecodeError};

/// Files over this size are not analysed (generated code, data dumps).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// The Python files of one or more project directories on disk, as a walk
/// honouring `.gitignore` lists them: the "same repository" that imports are
/// resolved in. Knowing the set up front means resolution never calls
/// `stat`, and an ignored file is not part of the project.
#[derive(Debug, Default)]
pub struct DiskTree {
    /// Keyed by bytes: `Path`'s own `Hash` walks components, and this set
    /// is asked a lot.
    files: FxHashSet<OsString>,
    /// Project roots (absolute imports are also looked up there), as given
    /// (relative to the working directory) and made absolute.
    roots: Vec<(PathBuf, PathBuf)>,
    cwd: PathBuf,
}

impl DiskTree {
    pub fn new(files: impl IntoIterator<Item = PathBuf>, roots: Vec<PathBuf>) -> Self {
        let files = files.into_iter().map(PathBuf::into_os_string).collect();
        let cwd = std::env::current_dir().unwrap_or_default();
        let roots = roots.into_iter().map(|r| (clean(&cwd.join(&r)), r)).collect();
        DiskTree { files, roots, cwd }
    }
}

impl SourceTree for DiskTree {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(if path.as_os_str().is_empty() { Path::new(".") } else { path })
    }

    fn is_file(&self, path: &Path) -> bool {
        self.files.contains(path.as_os_str())
    }

    fn size(&self, path: &Path) -> Option<u64> {
        std::fs::metadata(path).ok().map(|m| m.len())
    }

    fn project_root(&self, dir: &Path) -> Option<PathBuf> {
        // Compared as absolute paths: `..` holds the working directory `""`.
        let dir = clean(&self.cwd.join(dir));
        self.roots
            .iter()
            .filter(|(abs, _)| dir.starts_with(abs))
            .max_by_key(|(abs, _)| abs.components().count())
            .map(|(_, rel)| rel.clone())
    }

    fn is_project_root(&self, dir: &Path) -> bool {
        // (Asked for every directory a module's name may start from: no
        // absolute path made per question.)
        self.roots.iter().any(|(_, rel)| rel == dir)
    }

    fn python_files(&self) -> Option<Vec<PathBuf>> {
        Some(self.files.iter().map(PathBuf::from).collect())
    }
}

/// Files that mark the root of a Python project.
pub const ROOT_MARKERS: &[&str] = &[".git", "pyproject.toml", "setup.py", "setup.cfg"];

/// The project root holding `path` (absolute), by its markers.
pub fn find_project_root(path: &Path) -> Option<PathBuf> {
    let mut dir = if path.is_dir() { path } else { path.parent()? };
    loop {
        if ROOT_MARKERS.iter().any(|m| dir.join(m).exists()) {
            return Some(dir.to_path_buf());
        }
        dir = dir.parent()?;
    }
}

/// Indentation levels tree-sitter-python's scanner can hold: its state is
/// at most 1 KB, and past about 500 levels it aborts the whole process.
pub const MAX_INDENT_LEVELS: usize = 400;

/// Does the text open more than `limit` indented blocks at once? (Blank and
/// comment lines do not count; lines inside brackets or strings may, which
/// only errs towards refusing a pathological file.)
pub fn indent_depth_over(text: &str, limit: usize) -> bool {
    let mut stack: Vec<usize> = Vec::new();
    for line in text.lines() {
        let body = line.trim_start_matches([' ', '\t', '\x0c']);
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let width: usize = line[..line.len() - body.len()].chars().map(|c| if c == '\t' { 8 } else { 1 }).sum();
        while stack.last().is_some_and(|&w| w > width) {
            stack.pop();
        }
        if stack.last().is_none_or(|&w| w < width) {
            stack.push(width);
            if stack.len() > limit {
                return true;
            }
        }
    }
    false
}

/// Why a file could not be analysed.
#[derive(Debug, Clone)]
pub enum LoadError {
    Io(String),
    Decode(DecodeError),
    /// A `.ipynb` file that is not a notebook this tool can read.
    Notebook(crate::notebook::NotebookError),
    TooLarge(u64),
    /// Indented more levels deep than the parser can hold.
    TooDeep(usize),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "cannot read: {e}"),
            LoadError::Decode(e) => write!(f, "cannot decode: {e}"),
            LoadError::Notebook(e) => write!(f, "cannot read: {e}"),
            LoadError::TooLarge(n) => write!(f, "skipped: {n} bytes is over the size limit"),
            LoadError::TooDeep(n) => write!(
                f,
                "cannot check: blocks nested over {n} levels deep (the parser cannot hold them); exclude the file if it is generated"
            ),
        }
    }
}

type Slot = Arc<OnceLock<Result<ModuleRef, LoadError>>>;

/// The imports of every file of a project, as a scan read them: each
/// file's path and its imports as (level, dotted) pairs.
pub trait ImportTable: Send + Sync {
    fn for_each_file(&self, f: &mut FileImports<'_>);

    /// The files with an import that resolves to `module` (in any order,
    /// maybe more than once), when the table has its own index; `None`
    /// lets the project build one from [`ImportTable::for_each_file`].
    fn importers(&self, _project: &Project, _module: &Path) -> Option<Vec<PathBuf>> {
        None
    }
}

/// Imports by the last part of the name they write: (file, level, dotted).
type ImportIndex = FxHashMap<String, Vec<(Arc<Path>, u32, String)>>;

/// Called with a file's path and its imports, (level, dotted) each.
pub type FileImports<'a> = dyn FnMut(&Path, &mut dyn Iterator<Item = (u32, &str)>) + 'a;

/// Module loading and import resolution over one [`SourceTree`].
pub struct Project {
    /// Shared with the projects [`Project::with_replaced`] makes.
    tree: Arc<dyn SourceTree>,
    modules: Mutex<HashMap<PathBuf, Slot>>,
    /// Every file of a directory resolves an import the same way.
    resolved: Mutex<FxHashMap<(OsString, u32, String), Option<PathBuf>>>,
    /// Directory -> where its files' absolute imports are searched.
    roots: Mutex<FxHashMap<OsString, Arc<[PathBuf]>>>,
    /// (directory, package) -> the major version its dependency files allow.
    declared: Mutex<FxHashMap<(PathBuf, &'static str), Option<u32>>>,
    /// What each file of the project imports, when the scan that read them
    /// hands it over (see [`Project::importers_of`]).
    imports: OnceLock<Arc<dyn ImportTable>>,
    /// Module -> the files that import it, once asked.
    importers: Mutex<HashMap<PathBuf, Arc<[PathBuf]>>>,
    /// The table's imports by the last part of the name they write.
    import_index: OnceLock<ImportIndex>,
    max_file_size: u64,
    analysis: crate::config::Analysis,
}

/// Does the `__init__.py` text of package `name` define one of `markers`
/// (`class SocketIO`) or import it from the package's own modules (`from
/// .app import Flask`, `from eve.flaskapp import Eve`)? A line it cannot
/// read so (a parenthesized list of names) answers no: the package is then
/// checked like any other.
fn provides(text: &[u8], name: &str, markers: &[&str]) -> bool {
    let own = format!("from {name}.");
    text.split(|&b| b == b'\n').filter_map(|line| std::str::from_utf8(line).ok()).any(|line| {
        let line = line.trim_start();
        let words = || line.split(|c: char| !(c.is_alphanumeric() || c == '_'));
        if let Some(rest) = line.strip_prefix("class ") {
            let class = rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("");
            return markers.contains(&class);
        }
        (line.starts_with("from .") || line.starts_with(&own))
            && line.contains(" import ")
            && words().any(|w| markers.contains(&w))
    })
}

/// Modules that are always the third-party (or standard) ones, even if the
/// repository has a file of that name: their meaning is built in.
pub fn is_external(dotted: &str) -> bool {
    let first = dotted.split('.').next().unwrap_or(dotted);
    first == "os" || crate::prefilter::APP_MODULES.contains(&first)
}

impl Project {
    pub fn new(tree: Box<dyn SourceTree>) -> Self {
        Project {
            tree: Arc::from(tree),
            modules: Mutex::new(HashMap::new()),
            resolved: Mutex::new(FxHashMap::default()),
            roots: Mutex::new(FxHashMap::default()),
            declared: Mutex::new(FxHashMap::default()),
            imports: OnceLock::new(),
            importers: Mutex::new(HashMap::new()),
            import_index: OnceLock::new(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            analysis: crate::config::Analysis::default(),
        }
    }

    /// What the configuration tells the analysis (extra apps, safe hosts,
    /// severities).
    pub fn with_analysis(mut self, analysis: crate::config::Analysis) -> Self {
        self.analysis = analysis;
        self
    }

    pub fn analysis(&self) -> &crate::config::Analysis {
        &self.analysis
    }

    /// Files over this many bytes are not analysed.
    pub fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    pub fn with_max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// How many modules were loaded (parsed or failed).
    pub fn loaded(&self) -> usize {
        self.modules.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn tree(&self) -> &dyn SourceTree {
        self.tree.as_ref()
    }

    /// The same project with `modules` in place of the files at their
    /// paths: a fix is re-checked there, in every module it touches, before
    /// it is written. Every other module is parsed again when asked for
    /// (its analysis may differ with the new modules).
    pub fn with_replaced(&self, modules: &[ModuleRef]) -> Project {
        let mut map = HashMap::new();
        for m in modules {
            let slot: Slot = Arc::default();
            let _ = slot.set(Ok(m.clone()));
            map.insert(m.path.clone(), slot);
        }
        let lock = |m: &Mutex<FxHashMap<_, _>>| m.lock().unwrap_or_else(|e| e.into_inner()).clone();
        Project {
            tree: self.tree.clone(),
            modules: Mutex::new(map),
            // The files are the same, so imports resolve the same way.
            resolved: Mutex::new(lock(&self.resolved)),
            roots: Mutex::new(self.roots.lock().unwrap_or_else(|e| e.into_inner()).clone()),
            declared: Mutex::new(self.declared.lock().unwrap_or_else(|e| e.into_inner()).clone()),
            imports: self.imports.clone(),
            importers: Mutex::new(self.importers.lock().unwrap_or_else(|e| e.into_inner()).clone()),
            import_index: self.import_index.clone(),
            max_file_size: self.max_file_size,
            analysis: self.analysis.clone(),
        }
    }

    /// The major version of `package` the dependency files nearest to
    /// `module` declare (its directory's, else the closest above that
    /// names the package with a version), if any says.
    pub fn declared_major(&self, module: &Path, package: &'static str) -> Option<u32> {
        // The module's directories up to the project's root, which may lie
        // above the working directory (`..` when run from a subdirectory).
        let mut dirs: Vec<PathBuf> = module.ancestors().skip(1).map(Path::to_path_buf).collect();
        let dir = module.parent().unwrap_or(Path::new(""));
        if let Some(root) = self.tree.project_root(dir) {
            let mut up = PathBuf::new();
            for c in root.components() {
                if c != std::path::Component::ParentDir {
                    break;
                }
                up.push("..");
                dirs.push(up.clone());
            }
        }
        for d in dirs {
            let key = (d.clone(), package);
            let cached = self.declared.lock().unwrap_or_else(|e| e.into_inner()).get(&key).copied();
            let found = cached.unwrap_or_else(|| {
                let found = crate::deps::DEPENDENCY_FILES.iter().find_map(|name| {
                    let path = d.join(name);
                    // A regular file of a sane size (not a FIFO that would
                    // block, not a 300 MB file read whole).
                    if !self.tree.size(&path).is_some_and(|n| n > 0 && n <= crate::deps::MAX_BYTES) {
                        return None;
                    }
                    let bytes = self.tree.read(&path).ok()?;
                    crate::deps::declared_major(&String::from_utf8_lossy(&bytes), package)
                });
                self.declared.lock().unwrap_or_else(|e| e.into_inner()).insert(key, found);
                found
            });
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// Hand over what every file imports (once; later calls are ignored).
    pub fn set_imports(&self, table: Arc<dyn ImportTable>) {
        let _ = self.imports.set(table);
    }

    /// The files that import the module at `module` (by an import that
    /// resolves to it), when the scan handed over its import table; none
    /// otherwise.
    pub fn importers_of(&self, module: &Path) -> Arc<[PathBuf]> {
        if let Some(hit) = self.importers.lock().unwrap_or_else(|e| e.into_inner()).get(module) {
            return hit.clone();
        }
        let found: Arc<[PathBuf]> = self.importers_uncached(module).into();
        self.importers.lock().unwrap_or_else(|e| e.into_inner()).insert(module.to_path_buf(), found.clone());
        found
    }

    fn importers_uncached(&self, module: &Path) -> Vec<PathBuf> {
        let Some(table) = self.imports.get() else { return Vec::new() };
        if let Some(mut found) = table.importers(self, module) {
            found.retain(|p| p != module);
            found.sort();
            found.dedup();
            return found;
        }
        let package = module.file_name().is_some_and(|n| n == "__init__.py");
        let name = match module.file_stem().and_then(|s| s.to_str()) {
            Some("__init__") => module.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()),
            other => other,
        };
        let Some(name) = name else { return Vec::new() };
        // Every import by the last part of the name it writes, built once:
        // asking the table file by file for each helper was quadratic.
        let index = self.import_index.get_or_init(|| {
            let mut index = ImportIndex::default();
            table.for_each_file(&mut |path, imports| {
                let path: Arc<Path> = Arc::from(path);
                for (level, dotted) in imports {
                    let last = dotted.rsplit('.').next().unwrap_or(dotted);
                    index.entry(last.to_string()).or_default().push((path.clone(), level, dotted.to_string()));
                }
            });
            index
        });
        // An import whose last part is the module's name, or (`from . import
        // x` names its package) a bare relative one for a package.
        let keys: &[&str] = if package { &[name, ""] } else { &[name] };
        let mut out: Vec<PathBuf> = keys
            .iter()
            .filter_map(|k| index.get(*k))
            .flatten()
            .filter(|(path, level, dotted)| {
                path.as_ref() != module && self.resolve(path, *level, dotted).as_deref() == Some(module)
            })
            .map(|(path, _, _)| path.to_path_buf())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Let go of a module nobody needs any more (a checked file with no
    /// finding): an audit of many candidates then holds a few modules at a
    /// time, not all of them. One imported later is parsed again.
    pub fn forget(&self, path: &Path) {
        self.modules.lock().unwrap_or_else(|e| e.into_inner()).remove(path);
    }

    /// Parse a module (once while it is kept) and return it.
    pub fn load(&self, path: &Path) -> Result<ModuleRef, LoadError> {
        let slot = {
            let mut map = self.modules.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(path.to_path_buf()).or_default().clone()
        };
        slot.get_or_init(|| self.load_uncached(path)).clone()
    }

    fn load_uncached(&self, path: &Path) -> Result<ModuleRef, LoadError> {
        if let Some(size) = self.tree.size(path)
            && size > self.max_file_size
        {
            return Err(LoadError::TooLarge(size));
        }
        let bytes = self.tree.read(path).map_err(|e| LoadError::Io(e.to_string()))?;
        let text = if crate::notebook::is_notebook(path) {
            let nb = crate::notebook::parse(&bytes).map_err(LoadError::Notebook)?;
            let cells = Some(Arc::new(nb.cells));
            source::SourceText { text: nb.text, encoding: "utf-8".into(), bom: false, notebook: cells }
        } else {
            source::decode(&bytes).map_err(LoadError::Decode)?
        };
        if indent_depth_over(&text.text, MAX_INDENT_LEVELS) {
            return Err(LoadError::TooDeep(MAX_INDENT_LEVELS));
        }
        Ok(Arc::new(parse_module(path.to_path_buf(), text)))
    }

    /// Directories searched for absolute imports made by `importer`:
    /// its own directory (a script's `sys.path[0]`), the directory above its
    /// outermost package, and the project root (and its `src/`).
    pub fn search_roots(&self, importer: &Path) -> Arc<[PathBuf]> {
        let dir = importer.parent().unwrap_or(Path::new(""));
        // Every file of a directory has the same roots; finding them walks
        // up the packages, so it is done once per directory.
        if let Some(hit) = self.roots.lock().unwrap_or_else(|e| e.into_inner()).get(dir.as_os_str()) {
            return hit.clone();
        }
        let roots: Arc<[PathBuf]> = self.search_roots_uncached(dir).into();
        self.roots.lock().unwrap_or_else(|e| e.into_inner()).insert(dir.as_os_str().to_os_string(), roots.clone());
        roots
    }

    /// May `dir` be a search root of a file outside it? Only a project root
    /// or a `src/` may: the others are the importer's own directory or the
    /// one above its packages (see [`Project::search_roots`]).
    pub fn searched_from_outside(&self, dir: &Path) -> bool {
        dir.file_name().is_some_and(|n| n == "src") || self.tree.is_project_root(dir)
    }

    /// The directory above the outermost package holding `dir` (`dir`
    /// itself when it is not a package).
    fn above_packages(&self, dir: &Path) -> PathBuf {
        let mut top = dir.to_path_buf();
        while self.tree.is_file(&top.join("__init__.py")) {
            match top.parent() {
                Some(p) if p != top => top = p.to_path_buf(),
                _ => break,
            }
        }
        top
    }

    /// Is the file at `path` part of a framework whose meaning is built in
    /// (see [`is_external`]): a module of a package named `flask`,
    /// `werkzeug`, ... (a vendored or installed copy, or the framework's
    /// own repository)? Such a file is the framework's implementation, not
    /// an application that starts it: it is not checked. (A script merely
    /// named `flask.py` is not a package member and is checked.)
    pub fn is_framework_file(&self, path: &Path) -> bool {
        let Some(dir) = path.parent() else { return false };
        // Packages are counted from the project root down: a repository
        // that is itself a package named `dash` is an application. Any
        // directory below counts, whether or not those between are packages
        // (`flask/sansio/app.py` has no `__init__.py` beside it).
        // Compared as absolute paths (from any one base: the root may be
        // `..` when run from a subdirectory).
        static BASE: std::sync::LazyLock<PathBuf> =
            std::sync::LazyLock::new(|| std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")));
        let absolute = |p: &Path| crate::paths::clean(&BASE.join(p));
        let root = self.tree.project_root(dir).map(|r| absolute(&r));
        dir.ancestors()
            .take_while(|d| !d.as_os_str().is_empty())
            .filter(|d| {
                root.as_ref().is_none_or(|r| {
                    let d = absolute(d);
                    d != *r && d.starts_with(r)
                })
            })
            .any(|d| {
                let Some(name) = d.file_name().and_then(|n| n.to_str()) else { return false };
                // The name alone is not enough (an application's own package
                // may be called `eve`): the package must provide what the
                // framework does.
                crate::prefilter::framework_markers(name).is_some_and(|markers| {
                    self.tree.read(&d.join("__init__.py")).is_ok_and(|text| provides(&text, name, markers))
                })
            })
    }

    fn search_roots_uncached(&self, dir: &Path) -> Vec<PathBuf> {
        let dir = dir.to_path_buf();
        let mut roots = vec![dir.clone()];
        roots.push(self.above_packages(&dir));
        if let Some(root) = self.tree.project_root(&dir) {
            roots.push(root.join("src"));
            roots.push(root);
        }
        let mut seen = Vec::with_capacity(roots.len());
        for r in roots {
            if !seen.contains(&r) {
                seen.push(r);
            }
        }
        seen
    }

    /// The file of module `dotted` imported from `importer` with `level`
    /// leading dots; `None` for third-party modules and missing files.
    pub fn resolve(&self, importer: &Path, level: u32, dotted: &str) -> Option<PathBuf> {
        if level == 0 && (dotted.is_empty() || is_external(dotted)) {
            return None;
        }
        let dir = importer.parent().unwrap_or(Path::new(""));
        let key = (dir.as_os_str().to_os_string(), level, dotted.to_string());
        let cached = self.resolved.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
        let found = match cached {
            Some(hit) => hit,
            None => {
                let found = self.resolve_uncached(importer, level, dotted);
                self.resolved.lock().unwrap_or_else(|e| e.into_inner()).insert(key, found.clone());
                found
            }
        };
        match found {
            // `from app import create_app` inside `app/app.py`: a module never
            // imports itself (run as a script, that import could not find
            // the name), so the package further up is meant.
            Some(p) if p == importer && level == 0 => self
                .search_roots(importer)
                .iter()
                .filter_map(|root| self.module_file(root, dotted))
                .find(|p| p != importer),
            found => found,
        }
    }

    fn resolve_uncached(&self, importer: &Path, level: u32, dotted: &str) -> Option<PathBuf> {
        if level == 0 {
            if dotted.is_empty() || is_external(dotted) {
                return None;
            }
            return self.search_roots(importer).iter().find_map(|root| self.module_file(root, dotted));
        }
        let mut base = importer.parent()?.to_path_buf();
        for _ in 1..level {
            base = base.parent()?.to_path_buf();
        }
        if dotted.is_empty() {
            let init = base.join("__init__.py");
            return self.tree.is_file(&init).then_some(init);
        }
        self.module_file(&base, dotted)
    }

    fn module_file(&self, root: &Path, dotted: &str) -> Option<PathBuf> {
        let mut path = root.to_path_buf();
        for part in dotted.split('.') {
            if part.is_empty() {
                return None;
            }
            path.push(part);
        }
        let init = path.join("__init__.py");
        if self.tree.is_file(&init) {
            return Some(init);
        }
        path.set_extension("py");
        self.tree.is_file(&path).then_some(path)
    }
}
