//! Audit mode: walk the paths given, pick the files that can hold a finding
//! (see [`crate::prefilter`]), and check those in parallel.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::analysis::check_module;
use crate::finding::Finding;
use crate::prefilter::{self, Facts};
use crate::project::{DEFAULT_MAX_FILE_SIZE, DiskTree, LoadError, Project};
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

/// Strip the `./` a walk from `.` puts in front of every path.
fn tidy(path: &Path) -> PathBuf {
    path.strip_prefix(".")
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Scan files and directories.
pub fn scan_paths(paths: &[PathBuf], opts: &ScanOptions) -> ScanOutcome {
    let project = Project::new(Box::new(DiskTree::new())).with_max_file_size(opts.max_file_size);
    let mut outcome = ScanOutcome::default();
    let mut problems = Vec::new();
    let mut roots = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(_) => roots.push(p.clone()),
            Err(e) => problems.push(FileProblem {
                path: p.clone(),
                message: format!("cannot read: {e}"),
                is_error: true,
            }),
        }
    }
    let facts = Mutex::new(HashMap::<PathBuf, Facts>::new());
    let found_problems = Mutex::new(Vec::new());
    if let Some((first, rest)) = roots.split_first() {
        let mut builder = ignore::WalkBuilder::new(first);
        for r in rest {
            builder.add(r);
        }
        builder
            .require_git(false)
            .threads(rayon::current_num_threads().max(1));
        builder.build_parallel().run(|| {
            let facts = &facts;
            let problems = &found_problems;
            Box::new(move |entry| {
                use ignore::WalkState::Continue;
                let entry = match entry {
                    Ok(e) => e,
                    Err(err) => {
                        let path = match &err {
                            ignore::Error::WithPath { path, .. } => path.clone(),
                            _ => PathBuf::new(),
                        };
                        problems
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(FileProblem {
                                path,
                                message: err.to_string(),
                                is_error: true,
                            });
                        return Continue;
                    }
                };
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    return Continue;
                }
                let explicit = entry.depth() == 0;
                let path = tidy(entry.path());
                let by_name = path.extension().is_some();
                if by_name && !explicit && !is_python(&path, None) {
                    return Continue;
                }
                match read_file(&path, opts, explicit) {
                    Ok(Some(f)) => {
                        facts
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(path, f);
                    }
                    Ok(None) => {}
                    Err(p) => problems.lock().unwrap_or_else(|e| e.into_inner()).push(p),
                }
                Continue
            })
        });
    }
    problems.extend(
        found_problems
            .into_inner()
            .unwrap_or_else(|e| e.into_inner()),
    );
    let facts = facts.into_inner().unwrap_or_else(|e| e.into_inner());
    outcome.files = facts.len();

    let mut candidates: Vec<PathBuf> = if opts.prefilter {
        candidates(&project, &facts, opts)
    } else {
        facts.keys().cloned().collect()
    };
    candidates.sort();
    outcome.parsed = candidates.len();

    let results: Vec<Result<FileReport, FileProblem>> = candidates
        .par_iter()
        .map(|path| match project.load(path) {
            Ok(module) => Ok(FileReport {
                findings: check_module(&project, &module),
                module,
            }),
            Err(e) => Err(problem(path, &e)),
        })
        .collect();
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
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > opts.max_file_size {
        return Err(problem(path, &LoadError::TooLarge(size)));
    }
    let bytes = std::fs::read(path).map_err(|e| problem(path, &LoadError::Io(e.to_string())))?;
    if path.extension().is_none() && !explicit && !has_python_shebang(&bytes) {
        return Ok(None);
    }
    if std::str::from_utf8(&bytes).is_err() || bytes.starts_with(b"\xEF\xBB\xBF") {
        source::decode(&bytes).map_err(|e| problem(path, &LoadError::Decode(e)))?;
    }
    Ok(Some(prefilter::facts(&bytes, &opts.extra_tokens)))
}

/// Files that call `.run` and either mention an app module themselves or
/// import, directly or not, a module of the repository that does.
fn candidates(
    project: &Project,
    scanned: &HashMap<PathBuf, Facts>,
    opts: &ScanOptions,
) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let mut pending: Vec<&PathBuf> = Vec::new();
    for (path, f) in scanned {
        if f.run_call {
            if f.app_token {
                out.push(path.clone());
            } else {
                pending.push(path);
            }
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
        if facts.app_token {
            roots.push(node.clone());
            continue;
        }
        let targets: Vec<PathBuf> = facts
            .imports
            .iter()
            .filter_map(|(level, dotted)| project.resolve(&node, *level, dotted))
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
