//! Audit mode: walk the paths given, pick the files that can hold a finding
//! (see [`crate::prefilter`]), and check those in parallel.

use std::collections::{HashMap, HashSet, VecDeque};

use rustc_hash::{FxHashMap, FxHashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::analysis::check_module;
use crate::finding::Finding;
use crate::prefilter::{self, Facts};
use crate::project::{
    DEFAULT_MAX_FILE_SIZE, DiskTree, LoadError, Project, find_project_root, relative_to,
};
use crate::python::ModuleRef;
use crate::source;

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Skip files the byte prefilter rules out (off only to check it).
    pub prefilter: bool,
    pub max_file_size: u64,
    /// Extra words that may name an application (configuration).
    pub extra_tokens: Vec<String>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            prefilter: true,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            extra_tokens: Vec::new(),
        }
    }
}

/// The findings of one file, with the module they came from (printers need
/// its text).
#[derive(Debug, Clone)]
pub struct FileReport {
    pub module: ModuleRef,
    pub findings: Vec<Finding>,
}

/// A file that could not be checked (`error`) or was skipped (`note`).
#[derive(Debug, Clone)]
pub struct FileProblem {
    pub path: PathBuf,
    pub message: String,
    pub is_error: bool,
}

#[derive(Debug, Default)]
pub struct ScanOutcome {
    pub reports: Vec<FileReport>,
    pub problems: Vec<FileProblem>,
    /// Python files looked at.
    pub files: usize,
    /// Files parsed because they could hold a finding.
    pub parsed: usize,
}

impl ScanOutcome {
    pub fn finding_count(&self) -> usize {
        self.reports.iter().map(|r| r.findings.len()).sum()
    }

    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.is_error)
    }
}

/// Is this a Python file by name (or, with no extension, by shebang)?
fn is_python(path: &Path, head: Option<&[u8]>) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        Some("py" | "pyw") => true,
        Some(_) => false,
        None => head.is_some_and(has_python_shebang),
    }
}

pub fn has_python_shebang(bytes: &[u8]) -> bool {
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    line.starts_with(b"#!") && memchr::memmem::find(line, b"python").is_some()
}

/// Scan files and directories.
pub fn scan_paths(paths: &[PathBuf], opts: &ScanOptions) -> ScanOutcome {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let norm = |p: &Path| relative_to(&cwd.join(p), &cwd);
    let mut outcome = ScanOutcome::default();
    let mut problems = Vec::new();
    let mut given = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(_) => given.push(norm(p)),
            Err(e) => problems.push(FileProblem {
                path: p.clone(),
                message: format!("cannot read: {e}"),
                is_error: true,
            }),
        }
    }

    // The files to check, read once here for their facts.
    let (scanned, walk_problems) = walk(&given, Some(opts));
    problems.extend(walk_problems);
    let scanned: HashMap<PathBuf, Facts> = scanned
        .into_iter()
        .filter_map(|(p, f)| Some((p, f?)))
        .collect();
    outcome.files = scanned.len();

    // The project(s) they belong to: imports resolve among these files.
    let mut roots: Vec<PathBuf> = given
        .iter()
        .map(|g| match find_project_root(&cwd.join(g)) {
            Some(root) => norm(&root),
            None if cwd.join(g).is_dir() => g.clone(),
            None => g.parent().map(Path::to_path_buf).unwrap_or_default(),
        })
        .collect();
    roots.sort();
    roots.dedup();
    let outer: Vec<PathBuf> = roots
        .iter()
        .filter(|r| !roots.iter().any(|o| o != *r && r.starts_with(o)))
        .cloned()
        .collect();
    // Scanning whole projects (the usual `flask-bind-guard .`): the files
    // read are the project. Otherwise list the rest of the project too.
    let complete = outer
        .iter()
        .all(|r| given.contains(r) && cwd.join(r).is_dir());
    let mut files: HashSet<PathBuf> = scanned.keys().cloned().collect();
    if !complete {
        let (listed, _) = walk(&outer, None);
        files.extend(listed.into_keys());
    }
    let project =
        Project::new(Box::new(DiskTree::new(files, roots))).with_max_file_size(opts.max_file_size);

    // Files that import an app module and call `.run` are checked at once,
    // while the import graph is searched for the others.
    let analyse = |paths: &[PathBuf]| -> Vec<Result<FileReport, FileProblem>> {
        paths
            .par_iter()
            .map(|path| match project.load(path) {
                Ok(module) => Ok(FileReport {
                    findings: check_module(&project, &module),
                    module,
                }),
                Err(e) => Err(problem(path, &e)),
            })
            .collect()
    };
    let (direct, rest): (Vec<PathBuf>, Vec<PathBuf>) = if opts.prefilter {
        let direct = scanned
            .iter()
            .filter(|(_, f)| f.run_call && f.app_import)
            .map(|(p, _)| p.clone())
            .collect();
        (direct, Vec::new())
    } else {
        (Vec::new(), scanned.keys().cloned().collect())
    };
    let (indirect, mut results) = rayon::join(
        || match (opts.prefilter, complete) {
            (false, _) => rest,
            (true, true) => candidates_backward(&project, &scanned),
            (true, false) => candidates_forward(&project, &scanned, opts),
        },
        || analyse(&direct),
    );
    results.extend(analyse(&indirect));
    outcome.parsed = direct.len() + indirect.len();
    results.sort_by(|a, b| result_path(a).cmp(result_path(b)));
    for r in results {
        match r {
            Ok(report) if !report.findings.is_empty() => outcome.reports.push(report),
            Ok(_) => {}
            Err(p) => problems.push(p),
        }
    }
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    problems.dedup_by(|a, b| a.path == b.path && a.message == b.message);
    outcome.problems = problems;
    outcome
}

fn result_path(r: &Result<FileReport, FileProblem>) -> &Path {
    match r {
        Ok(report) => &report.module.path,
        Err(p) => &p.path,
    }
}

type Walked = (HashMap<PathBuf, Option<Facts>>, Vec<FileProblem>);

/// Walk `roots` (in parallel, honouring `.gitignore`) for Python files.
/// With `opts`, read each one and learn its facts; without, only list them.
fn walk(roots: &[PathBuf], opts: Option<&ScanOptions>) -> Walked {
    let found = Mutex::new(HashMap::new());
    let problems = Mutex::new(Vec::new());
    let Some((first, rest)) = roots.split_first() else {
        return (HashMap::new(), Vec::new());
    };
    let dot = |p: &PathBuf| {
        if p.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            p.clone()
        }
    };
    let mut builder = ignore::WalkBuilder::new(dot(first));
    for r in rest {
        builder.add(dot(r));
    }
    builder
        .require_git(false)
        .threads(rayon::current_num_threads().max(1));
    builder.build_parallel().run(|| {
        let (found, problems) = (&found, &problems);
        Box::new(move |entry| {
            use ignore::WalkState::Continue;
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    if opts.is_some() {
                        let path = match &err {
                            ignore::Error::WithPath { path, .. } => path.clone(),
                            _ => PathBuf::new(),
                        };
                        let message = err.to_string();
                        lock(problems).push(FileProblem {
                            path,
                            message,
                            is_error: true,
                        });
                    }
                    return Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return Continue;
            }
            let explicit = entry.depth() == 0;
            // Roots are already normal; a walk from "." prefixes "./".
            let path = entry
                .path()
                .strip_prefix(".")
                .unwrap_or(entry.path())
                .to_path_buf();
            if path.extension().is_some() && !explicit && !is_python(&path, None) {
                return Continue;
            }
            let Some(opts) = opts else {
                let python = path.extension().is_some()
                    || std::fs::read(&path).is_ok_and(|b| has_python_shebang(&b));
                if python {
                    lock(found).insert(path, None);
                }
                return Continue;
            };
            match read_file(&path, opts, explicit) {
                Ok(Some(f)) => {
                    lock(found).insert(path, Some(f));
                }
                Ok(None) => {}
                Err(p) => lock(problems).push(p),
            }
            Continue
        })
    });
    let found = found.into_inner().unwrap_or_else(|e| e.into_inner());
    (
        found,
        problems.into_inner().unwrap_or_else(|e| e.into_inner()),
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn problem(path: &Path, e: &LoadError) -> FileProblem {
    FileProblem {
        path: path.to_path_buf(),
        message: e.to_string(),
        is_error: !matches!(e, LoadError::TooLarge(_)),
    }
}

/// Read one file and learn its facts; `Ok(None)` when it is not Python.
/// Undecodable files are reported here, whether or not they could hold a
/// finding, so both scan modes report the same problems.
fn read_file(
    path: &Path,
    opts: &ScanOptions,
    explicit: bool,
) -> Result<Option<Facts>, FileProblem> {
    use std::io::Read;
    thread_local! {
        // One buffer per walker thread: most files are small, and a fresh
        // allocation per file costs page faults.
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let io_problem = |e: std::io::Error| problem(path, &LoadError::Io(e.to_string()));
    let file = std::fs::File::open(path).map_err(io_problem)?;
    BUFFER.with_borrow_mut(|bytes| {
        bytes.clear();
        // Read at most one byte past the limit: enough to know it is over.
        file.take(opts.max_file_size + 1)
            .read_to_end(bytes)
            .map_err(io_problem)?;
        if bytes.len() as u64 > opts.max_file_size {
            let size = std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
            bytes.clear();
            bytes.shrink_to(1 << 20);
            return Err(problem(path, &LoadError::TooLarge(size)));
        }
        if path.extension().is_none() && !explicit && !has_python_shebang(bytes) {
            return Ok(None);
        }
        if std::str::from_utf8(bytes).is_err() || bytes.starts_with(b"\xEF\xBB\xBF") {
            source::decode(bytes).map_err(|e| problem(path, &LoadError::Decode(e)))?;
        }
        Ok(Some(prefilter::facts(bytes, &opts.extra_tokens)))
    })
}

/// Files that call `.run` and import, directly or not, a module of the
/// project that imports an app module (those that import one themselves are
/// taken as they are): found by
/// walking the import graph backwards from those modules. Used when every
/// file of the project was read (so every importer is known).
fn candidates_backward(project: &Project, all: &HashMap<PathBuf, Facts>) -> Vec<PathBuf> {
    // Who may import what: absolute imports by their dotted name, relative
    // ones by the module path they lead to (`a/pkg/mod` for `a/pkg/mod.py`
    // or `a/pkg/mod/__init__.py`). Built on both cores, then merged.
    type Index<'a> = (
        FxHashMap<&'a str, Vec<&'a PathBuf>>,
        FxHashMap<String, Vec<(&'a PathBuf, u32, &'a str)>>,
    );
    let files: Vec<(&PathBuf, &Facts)> = all.iter().collect();
    let (absolute, relative): Index = files
        .par_chunks(
            files
                .len()
                .div_ceil(rayon::current_num_threads().max(1))
                .max(1),
        )
        .map(|chunk| {
            let mut index: Index = Default::default();
            for &(path, f) in chunk {
                for (level, dotted) in f.imports.iter() {
                    if level == 0 {
                        index.0.entry(dotted).or_default().push(path);
                        continue;
                    }
                    let base = path
                        .parent()
                        .and_then(|p| (1..level).try_fold(p, |b, _| b.parent()));
                    if let Some(base) = base.and_then(Path::to_str) {
                        index
                            .1
                            .entry(module_key(base, dotted))
                            .or_default()
                            .push((path, level, dotted));
                    }
                }
            }
            index
        })
        .reduce(Index::default, |mut a, b| {
            for (k, v) in b.0 {
                a.0.entry(k).or_default().extend(v);
            }
            for (k, v) in b.1 {
                a.1.entry(k).or_default().extend(v);
            }
            a
        });
    let mut reached: FxHashSet<&PathBuf> = all
        .iter()
        .filter(|(_, f)| f.app_import)
        .map(|(p, _)| p)
        .collect();
    let mut stack: Vec<&PathBuf> = reached.iter().copied().collect();
    while let Some(module) = stack.pop() {
        let module_path = if module.file_name().is_some_and(|n| n == "__init__.py") {
            module.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            module.with_extension("")
        };
        // The dotted names that can denote it: `mod`, `pkg.mod`, `a.pkg.mod`...
        let mut importers: Vec<(&PathBuf, u32, &str)> = Vec::new();
        let parts: Vec<&str> = module_path
            .components()
            .filter_map(|c| c.as_os_str().to_str())
            .collect();
        for start in (0..parts.len()).rev() {
            let dotted = parts[start..].join(".");
            if let Some((key, list)) = absolute.get_key_value(dotted.as_str()) {
                importers.extend(list.iter().map(|&p| (p, 0, *key)));
            }
        }
        if let Some(list) = module_path.to_str().and_then(|p| relative.get(p)) {
            importers.extend(list.iter().copied());
        }
        for (importer, level, dotted) in importers {
            if !reached.contains(importer)
                && project.resolve(importer, level, dotted).as_ref() == Some(module)
            {
                reached.insert(importer);
                stack.push(importer);
            }
        }
    }
    all.iter()
        .filter(|(p, f)| f.run_call && !f.app_import && reached.contains(p))
        .map(|(p, _)| p.clone())
        .collect()
}

/// `base/a/b` for `a.b` (the path form of a module, without `.py`).
fn module_key(base: &str, dotted: &str) -> String {
    let mut key = String::with_capacity(base.len() + dotted.len() + 1);
    key.push_str(base);
    for part in dotted.split('.').filter(|p| !p.is_empty()) {
        if !key.is_empty() {
            key.push('/');
        }
        key.push_str(part);
    }
    key
}

/// The same files, found by exploring forward from the files that call
/// `.run`; modules outside the scanned files are read when reached. Used
/// when only part of a project is scanned.
fn candidates_forward(
    project: &Project,
    scanned: &HashMap<PathBuf, Facts>,
    opts: &ScanOptions,
) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut pending: Vec<&PathBuf> = Vec::new();
    for (path, f) in scanned {
        if f.run_call && !f.app_import {
            pending.push(path);
        }
    }
    if pending.is_empty() {
        return out;
    }
    // Explore the import graph from the undecided files; modules outside
    // the scanned set are read (once) to learn their facts.
    let mut extra: HashMap<PathBuf, Facts> = HashMap::new();
    let mut edges: HashMap<PathBuf, Vec<PathBuf>> = HashMap::new();
    let mut seen: HashSet<PathBuf> = pending.iter().map(|p| (*p).clone()).collect();
    let mut queue: VecDeque<PathBuf> = seen.iter().cloned().collect();
    let mut roots: Vec<PathBuf> = Vec::new();
    while let Some(node) = queue.pop_front() {
        let facts = match scanned.get(&node).or_else(|| extra.get(&node)) {
            Some(f) => f.clone(),
            None => {
                let f = project
                    .tree()
                    .read(&node)
                    .map(|b| prefilter::facts(&b, &opts.extra_tokens))
                    .unwrap_or_default();
                extra.insert(node.clone(), f.clone());
                f
            }
        };
        if facts.app_import {
            roots.push(node.clone());
            continue;
        }
        let targets: Vec<PathBuf> = facts
            .imports
            .iter()
            .filter_map(|(level, dotted)| project.resolve(&node, level, dotted))
            .collect();
        for t in &targets {
            if seen.insert(t.clone()) {
                queue.push_back(t.clone());
            }
        }
        edges.insert(node, targets);
    }
    // Which nodes reach a root: walk the reversed edges from the roots.
    let mut reverse: HashMap<&PathBuf, Vec<&PathBuf>> = HashMap::new();
    for (from, tos) in &edges {
        for to in tos {
            reverse.entry(to).or_default().push(from);
        }
    }
    let mut reaches: HashSet<&PathBuf> = roots.iter().collect();
    let mut stack: Vec<&PathBuf> = roots.iter().collect();
    while let Some(n) = stack.pop() {
        for &from in reverse.get(n).map(Vec::as_slice).unwrap_or_default() {
            if reaches.insert(from) {
                stack.push(from);
            }
        }
    }
    out.extend(pending.into_iter().filter(|p| reaches.contains(p)).cloned());
    out
}
