//! Audit mode: walk the paths given, pick the files that can hold a finding
//! (see [`crate::prefilter`]), and check those in parallel.

use std::collections::{HashMap, HashSet, VecDeque};

use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::analysis::check_module;
use crate::config::{Exclude, Settings};
use crate::finding::Finding;
use crate::prefilter::{self, Facts};
use crate::project::{DEFAULT_MAX_FILE_SIZE, DiskTree, LoadError, Project, find_project_root, relative_to};
use crate::python::ModuleRef;
use crate::source;

#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Skip files the byte prefilter rules out (off only to check it).
    pub prefilter: bool,
    pub max_file_size: u64,
    /// Extra words that may name an application (configuration).
    pub extra_tokens: Vec<String>,
    /// What the configuration decides (exclusions, analysis settings).
    pub settings: Settings,
    /// Staged mode: the configuration to read from the snapshot, if any.
    pub config: Option<crate::config::Request>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            prefilter: true,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            extra_tokens: Vec::new(),
            settings: Settings::default(),
            config: None,
        }
    }
}

impl ScanOptions {
    /// These options under `settings` (the prefilter learns the extra app
    /// modules they name).
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.extra_tokens = settings.analysis.prefilter_tokens();
        self.settings = settings;
        self
    }
}

/// The findings of one file, with the module they came from (printers need
/// its text).
#[derive(Debug, Clone)]
pub struct FileReport {
    pub module: ModuleRef,
    pub findings: Vec<Finding>,
    /// Findings a comment silences (see [`crate::analysis::suppress`]).
    pub suppressed: Vec<Finding>,
}

/// A file that could not be checked (`error`) or was skipped (`note`).
#[derive(Debug, Clone)]
pub struct FileProblem {
    pub path: PathBuf,
    pub message: String,
    pub is_error: bool,
}

#[derive(Default)]
pub struct ScanOutcome {
    pub reports: Vec<FileReport>,
    /// The project the files were checked in (fixes are re-checked there).
    pub project: Option<std::sync::Arc<Project>>,
    /// Staged mode: the files the change adds or modifies.
    pub changed: Option<HashSet<PathBuf>>,
    pub problems: Vec<FileProblem>,
    /// Python files looked at.
    pub files: usize,
    /// Files parsed because they could hold a finding.
    pub parsed: usize,
    /// The absolute directory the paths here are relative to.
    pub base: PathBuf,
    /// The absolute root of the repository scanned (SARIF's `%SRCROOT%`).
    pub root: PathBuf,
}

impl ScanOutcome {
    pub fn finding_count(&self) -> usize {
        self.reports.iter().map(|r| r.findings.len()).sum()
    }

    /// Findings silenced by a peer tool's comment, by the comment (as
    /// written), in order of first appearance.
    pub fn peer_suppressed(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for f in self.reports.iter().flat_map(|r| &r.suppressed) {
            if let Some(crate::finding::Suppression::Peer(marker)) = &f.suppressed {
                match counts.iter_mut().find(|(m, _)| m == marker) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((marker.clone(), 1)),
                }
            }
        }
        counts
    }

    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.is_error)
    }

    /// A reported path relative to the repository root (`Ok`), or made
    /// absolute when it lies outside (`Err`): how CI formats name files.
    pub fn from_root(&self, path: &Path) -> Result<PathBuf, PathBuf> {
        from_root(&self.base, &self.root, path)
    }
}

/// `path` (relative to `base`) relative to `root` (`Ok`), or absolute when
/// outside it (`Err`); `base` and `root` are absolute.
pub fn from_root(base: &Path, root: &Path, path: &Path) -> Result<PathBuf, PathBuf> {
    let absolute = crate::paths::clean(&base.join(path));
    match absolute.strip_prefix(root) {
        Ok(rel) => Ok(rel.to_path_buf()),
        Err(_) => Err(absolute),
    }
}

/// The directory an audit of `paths` starts from (absolute): the first
/// path if it is a directory, else its parent; the working directory
/// without paths. The configuration and the repository root are found
/// upwards from there.
pub fn start_dir(paths: &[PathBuf], cwd: &Path) -> PathBuf {
    let first = paths.first().map(|p| crate::paths::clean(&cwd.join(p))).unwrap_or_else(|| cwd.to_path_buf());
    if first.is_dir() { first } else { first.parent().map(Path::to_path_buf).unwrap_or_default() }
}

/// Is this a Python file by name (or, with no extension, by shebang)?
fn is_python(path: &Path, head: Option<&[u8]>) -> bool {
    match crate::paths::extension(path.as_os_str().as_encoded_bytes()) {
        Some(b"py" | b"pyw" | b"ipynb") => true,
        Some(_) => false,
        None => head.is_some_and(has_python_shebang),
    }
}

/// How much of an extensionless file decides whether it is Python: the
/// bytes the kernel reads for a `#!` line (Linux's `BINPRM_BUF_SIZE`); a
/// longer line could not start Python anyway.
pub const SHEBANG_HEAD: usize = 256;

pub fn has_python_shebang(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SHEBANG_HEAD)];
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    line.starts_with(b"#!") && memchr::memmem::find(line, b"python").is_some()
}

/// Scan files and directories.
pub fn scan_paths(paths: &[PathBuf], opts: &ScanOptions) -> ScanOutcome {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let norm = |p: &Path| relative_to(&cwd.join(p), &cwd);
    let mut outcome = ScanOutcome {
        root: crate::paths::repository_root(&start_dir(paths, &cwd)),
        base: cwd.clone(),
        ..ScanOutcome::default()
    };
    let mut problems = Vec::new();
    let mut given = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(_) => given.push(norm(p)),
            Err(e) => {
                problems.push(FileProblem { path: p.clone(), message: format!("cannot read: {e}"), is_error: true })
            }
        }
    }

    // The files to check, read once here for their facts.
    let (scanned, walk_problems) = walk(&given, Some(opts), &opts.settings.exclude);
    problems.extend(walk_problems);
    let scanned: Vec<(PathBuf, Facts)> = scanned.into_iter().filter_map(|(p, f)| Some((p, f?))).collect();
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
    let outer: Vec<PathBuf> =
        roots.iter().filter(|r| !roots.iter().any(|o| o != *r && r.starts_with(o))).cloned().collect();
    // Scanning whole projects (the usual `flask-bind-guard .`): the files
    // read are the project. Otherwise list the rest of the project too.
    let complete = outer.iter().all(|r| given.contains(r) && cwd.join(r).is_dir());
    let scanned = ScannedImports::new(scanned);
    // The project's file set and the index of importers, side by side
    // (each is a few milliseconds on an 11,673-file tree, on one thread).
    let (project, ()) = rayon::join(
        || {
            let mut files: Vec<PathBuf> = scanned.iter().map(|(p, _)| p.clone()).collect();
            if !complete {
                let (listed, _) = walk(&outer, None, &opts.settings.exclude);
                files.extend(listed.into_iter().map(|(p, _)| p));
            }
            Project::new(Box::new(DiskTree::new(files, roots)))
                .with_max_file_size(opts.max_file_size)
                .with_analysis(opts.settings.analysis.clone())
        },
        || {
            scanned.index();
        },
    );
    project.set_imports(scanned.clone());
    let (reports, found, parsed) = check_files(&project, &scanned, complete, opts, |_| true);
    outcome.project = Some(std::sync::Arc::new(project));
    outcome.reports = reports;
    outcome.parsed = parsed;
    problems.extend(found);
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    problems.dedup_by(|a, b| a.path == b.path && a.message == b.message);
    outcome.problems = problems;
    outcome
}

/// Give the project what the files read import (a function's callers in
/// other modules are found through it).
pub(crate) fn hand_over_imports(project: &Project, scanned: Vec<(PathBuf, Facts)>) -> std::sync::Arc<ScannedImports> {
    let scanned = ScannedImports::new(scanned);
    project.set_imports(scanned.clone());
    scanned
}

/// The files an audit read with their facts: what they import, for the
/// prefilter's import graph and [`Project::importers_of`], which share one
/// index of importers (built when first asked).
pub(crate) struct ScannedImports {
    files: std::sync::Arc<Vec<(PathBuf, Facts)>>,
    index: OnceLock<ImporterIndex>,
}

impl ScannedImports {
    /// The files are kept in byte order of their paths: those below a
    /// directory are then one run (see `ImporterIndex::below`).
    fn new(mut scanned: Vec<(PathBuf, Facts)>) -> std::sync::Arc<Self> {
        use rayon::slice::ParallelSliceMut;
        // (On the pool's threads: 4 ms on one for an 11,673-file tree.)
        scanned.par_sort_unstable_by(|a, b| a.0.as_os_str().as_encoded_bytes().cmp(b.0.as_os_str().as_encoded_bytes()));
        std::sync::Arc::new(ScannedImports { files: std::sync::Arc::new(scanned), index: OnceLock::new() })
    }

    fn index(&self) -> &ImporterIndex {
        self.index.get_or_init(|| ImporterIndex::new(self.files.clone()))
    }
}

impl std::ops::Deref for ScannedImports {
    type Target = [(PathBuf, Facts)];
    fn deref(&self) -> &Self::Target {
        &self.files
    }
}

impl crate::project::ImportTable for ScannedImports {
    fn for_each_file(&self, f: &mut crate::project::FileImports<'_>) {
        for (path, facts) in self.files.iter() {
            f(path, &mut facts.imports.iter());
        }
    }

    fn importers(&self, project: &Project, module: &Path) -> Option<Vec<PathBuf>> {
        // (The project caches search roots by directory: no table of one
        // per file for a single module's importers.)
        let found = self.index().importers_of(project, module, None, |_| false);
        Some(found.into_iter().map(|fi| self.files[fi].0.clone()).collect())
    }
}

/// Check the `scanned` files of a project: those the prefilter keeps (all
/// of them without it), in parallel. `complete` says every file of the
/// project is in `scanned` (so importers can be searched backwards).
/// `keep` filters findings (staged mode keeps those on added lines).
pub(crate) fn check_files(
    project: &Project,
    scanned: &ScannedImports,
    complete: bool,
    opts: &ScanOptions,
    keep: impl Fn(&crate::finding::Finding) -> bool + Sync,
) -> (Vec<FileReport>, Vec<FileProblem>, usize) {
    let results = Mutex::new(Vec::new());
    let analyse = |path: &Path| {
        let result = match project.load(path) {
            Ok(module) => {
                let (suppressed, findings): (Vec<Finding>, Vec<Finding>) = check_module(project, &module)
                    .into_iter()
                    .filter(|f| keep(f))
                    .partition(|f| f.suppressed.is_some());
                for message in ineffective_comments(&module, &findings) {
                    lock(&results).push(Err(FileProblem { path: path.to_path_buf(), message, is_error: false }));
                }
                if findings.is_empty() && suppressed.is_empty() {
                    // Nothing to print from it: let it go now.
                    project.forget(path);
                    return;
                }
                Ok(FileReport { findings, suppressed, module })
            }
            Err(e) => Err(problem(path, &e)),
        };
        lock(&results).push(result);
    };
    // Each file is analysed on the other threads as soon as it is known to
    // be a candidate: those that import an app module and call `.run` at
    // once, the others while the import graph is still being searched.
    let candidates = AtomicUsize::new(0);
    rayon::scope(|s| {
        let found = |path: &Path| {
            // A framework's own source is not checked (nor parsed).
            if project.is_framework_file(path) {
                return;
            }
            candidates.fetch_add(1, Ordering::Relaxed);
            let path = path.to_path_buf();
            s.spawn(move |_| analyse(&path));
        };
        if !opts.prefilter {
            scanned.iter().for_each(|(p, _)| found(p));
            return;
        }
        // In a project that imports Connexion, a call settled from its
        // literals may be a Connexion 1/2 `run()`, which binds without a host.
        // (Or declares it: a partial audit may not read the file that does.
        // Asked for the files with such a call, not for whichever file
        // comes first: with several paths that one may be another
        // project's.)
        let connexion = scanned.iter().any(|(_, f)| f.imports.connexion())
            || scanned
                .iter()
                .filter(|(_, f)| f.settled_run)
                .any(|(p, _)| project.declared_major(p, "connexion").is_some());
        let starts = |f: &Facts| f.run_call || (connexion && f.settled_run);
        // Which of the scanned files are found already (a file is analysed
        // once).
        let mut taken = vec![false; scanned.len()];
        let take = |taken: &mut Vec<bool>, i: usize| {
            if !std::mem::replace(&mut taken[i], true) {
                found(&scanned[i].0);
            }
        };
        for i in (0..scanned.len()).filter(|&i| starts(&scanned[i].1) && scanned[i].1.app_import) {
            take(&mut taken, i);
        }
        let index = scanned.index();
        if complete {
            candidates_backward(project, index, starts, |i| take(&mut taken, i));
        } else {
            let pending: Vec<usize> =
                (0..scanned.len()).filter(|&i| starts(&scanned[i].1) && !scanned[i].1.app_import).collect();
            let reaching = reaching_an_app(project, scanned, opts, &pending);
            pending.into_iter().filter(|&i| reaching[i]).for_each(|i| take(&mut taken, i));
        }
        // A helper's analysis looks for its callers among these files (the
        // import table holds them): so are the holders of an app.
        if !scanned.iter().zip(&taken).any(|((_, f), t)| !t && starts(f)) {
            return;
        }
        let makers: Vec<bool> = if complete {
            scanned.iter().map(|(p, f)| f.app_maker && !project.is_framework_file(p)).collect()
        } else {
            // Part of a project: what the files import from the rest of it
            // decides (`from app import app` in a file that imports no
            // framework), for the files that may call one left to find.
            let left: Vec<bool> = scanned.iter().zip(&taken).map(|((_, f), t)| !t && starts(f)).collect();
            let callers = importers_closure(project, index, left, |_| {});
            let callers: Vec<usize> = (0..scanned.len()).filter(|&i| callers[i]).collect();
            let reaching = reaching_an_app(project, scanned, opts, &callers);
            scanned
                .iter()
                .zip(reaching)
                .map(|((p, f), r)| (f.app_maker || r) && !project.is_framework_file(p))
                .collect()
        };
        for i in handed_an_app(project, index, makers, &taken, starts) {
            take(&mut taken, i);
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by(|a, b| result_path(a).cmp(result_path(b)));
    let (mut reports, mut problems) = (Vec::new(), Vec::new());
    for r in results {
        match r {
            Ok(report) if !report.findings.is_empty() || !report.suppressed.is_empty() => reports.push(report),
            Ok(_) => {}
            Err(p) => problems.push(p),
        }
    }
    (reports, problems, candidates.into_inner())
}

/// Notes for comments on reported findings' lines that look like
/// suppressions but suppress nothing (see [`crate::analysis::ineffective`]).
pub(crate) fn ineffective_comments(module: &crate::python::Module, findings: &[Finding]) -> Vec<String> {
    let mut notes: Vec<(usize, String)> =
        findings.iter().flat_map(|f| crate::analysis::ineffective(module, f)).collect();
    notes.sort();
    notes.dedup();
    notes.into_iter().map(|(_, m)| m).collect()
}

fn result_path(r: &Result<FileReport, FileProblem>) -> &Path {
    match r {
        Ok(report) => &report.module.path,
        Err(p) => &p.path,
    }
}

type Walked = (Vec<(PathBuf, Option<Facts>)>, Vec<FileProblem>);

/// Walk `roots` (in parallel, honouring `.gitignore`) for Python files.
/// With `opts`, read each one and learn its facts; without, only list them.
fn walk(roots: &[PathBuf], opts: Option<&ScanOptions>, exclude: &Exclude) -> Walked {
    let found = Mutex::new(Vec::new());
    let problems = Mutex::new(Vec::new());
    let Some((first, rest)) = roots.split_first() else {
        return (Vec::new(), Vec::new());
    };
    let dot = |p: &PathBuf| {
        if p.as_os_str().is_empty() { PathBuf::from(".") } else { p.clone() }
    };
    let mut builder = ignore::WalkBuilder::new(dot(first));
    for r in rest {
        builder.add(dot(r));
    }
    builder.require_git(false).threads(rayon::current_num_threads().max(1));
    let exclude = Some(exclude).filter(|x| !x.is_empty());
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
                        lock(problems).push(FileProblem { path, message, is_error: true });
                    }
                    return Continue;
                }
            };
            let explicit = entry.depth() == 0;
            // Roots are already normal; a walk from "." prefixes "./".
            let path = entry.path().strip_prefix(".").unwrap_or(entry.path());
            // Excluded by the configuration: not read, not walked into
            // (files named on the command line are still checked).
            if !explicit && exclude.is_some_and(|x| x.matches(path)) {
                return ignore::WalkState::Skip;
            }
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return Continue;
            }
            let path = path.to_path_buf();
            let extensionless = crate::paths::is_extensionless(path.as_os_str().as_encoded_bytes());
            if !extensionless && !explicit && !is_python(&path, None) {
                return Continue;
            }
            let Some(opts) = opts else {
                // The listing only serves import resolution, and a file
                // without `.py` cannot be imported: extensionless files are
                // not even opened (they may be large data files).
                if !extensionless {
                    lock(found).push((path, None));
                }
                return Continue;
            };
            match read_file(&path, opts, explicit) {
                Ok(Some(f)) => {
                    lock(found).push((path, Some(f)));
                }
                Ok(None) => {}
                Err(p) => lock(problems).push(p),
            }
            Continue
        })
    });
    let mut found = found.into_inner().unwrap_or_else(|e| e.into_inner());
    if !rest.is_empty() {
        // Overlapping roots (`a a/b.py`) reach some files twice.
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found.dedup_by(|a, b| a.0 == b.0);
    }
    (found, problems.into_inner().unwrap_or_else(|e| e.into_inner()))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn problem(path: &Path, e: &LoadError) -> FileProblem {
    FileProblem { path: path.to_path_buf(), message: e.to_string(), is_error: !matches!(e, LoadError::TooLarge(_)) }
}

/// Read one file and learn its facts; `Ok(None)` when it is not Python.
/// Undecodable files are reported here, whether or not they could hold a
/// finding, so both scan modes report the same problems.
fn read_file(path: &Path, opts: &ScanOptions, explicit: bool) -> Result<Option<Facts>, FileProblem> {
    thread_local! {
        // One buffer per walker thread: most files are small, and a fresh
        // allocation per file costs page faults.
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let io_problem = |e: std::io::Error| problem(path, &LoadError::Io(e.to_string()));
    let mut file = std::fs::File::open(path).map_err(io_problem)?;
    BUFFER.with_borrow_mut(|buffer| {
        let mut n = 0;
        if crate::paths::is_extensionless(path.as_os_str().as_encoded_bytes()) && !explicit {
            // Python only by its shebang: decided on the first bytes, before
            // the size limit (a large data file is not skipped Python) and
            // without reading a non-Python file any further.
            n = read_whole(&mut file, buffer, 0, SHEBANG_HEAD as u64, || None).map_err(io_problem)?;
            if !has_python_shebang(&buffer[..n]) {
                return Ok(None);
            }
        }
        // (A head shorter than asked for was the whole file.)
        if n == 0 || n == SHEBANG_HEAD {
            // Read at most one byte past the limit: enough to know it is over.
            let limit = opts.max_file_size.saturating_add(1);
            let size = || std::fs::metadata(path).ok().map(|m| m.len());
            n = read_whole(&mut file, buffer, n, limit, size).map_err(io_problem)?;
        }
        if n as u64 > opts.max_file_size {
            let size = std::fs::metadata(path).map_or(n as u64, |m| m.len());
            buffer.truncate(1 << 20);
            buffer.shrink_to_fit();
            return Err(problem(path, &LoadError::TooLarge(size)));
        }
        let bytes = &buffer[..n];
        facts_of(path, bytes, opts).map(Some)
    })
}

/// The prefilter's facts about a file's bytes, once they are known to
/// decode (an undecodable file is a problem whether or not it could hold a
/// finding, so every scan mode reports the same problems).
pub(crate) fn facts_of(path: &Path, bytes: &[u8], opts: &ScanOptions) -> Result<Facts, FileProblem> {
    if crate::notebook::is_notebook(path) {
        // Read once here: an invalid notebook is a problem in every mode.
        let nb = crate::notebook::parse(bytes).map_err(|e| problem(path, &LoadError::Notebook(e)))?;
        return Ok(prefilter::facts_of_code(path, nb.text.as_bytes(), &opts.extra_tokens));
    }
    // simdutf8: validating every file with `std::str::from_utf8` was 3% of
    // an audit's CPU time (perf, 11,673-file tree).
    if simdutf8::basic::from_utf8(bytes).is_err() || bytes.starts_with(b"\xEF\xBB\xBF") {
        source::decode(bytes).map_err(|e| problem(path, &LoadError::Decode(e)))?;
    }
    Ok(prefilter::facts(path, bytes, &opts.extra_tokens))
}

/// Read a file into `buf` after its first `filled` bytes, up to `limit`
/// bytes in all; returns how many `buf` holds.
/// `buf` is kept initialised across calls (its length only grows), so no
/// call zeroes memory again. Only a read of 0 bytes is the end: network and
/// FUSE file systems (NFS, sshfs, WSL's `/mnt/c`) return short reads
/// mid-file. The extra `read` per file (9,500 more on an 11,673-file audit)
/// did not change its CPU time measurably.
/// `size` is asked (once) when a file outgrows the buffer: it grows to the
/// file's size in one step. Doubling from 64 KB to a 4 MB file's size
/// touched twice its pages (copies and zeroes): a third of an 11,673-file
/// audit's page faults.
fn read_whole(
    file: &mut impl std::io::Read,
    buf: &mut Vec<u8>,
    filled: usize,
    limit: u64,
    size: impl FnOnce() -> Option<u64>,
) -> std::io::Result<usize> {
    if buf.len() < 64 * 1024 {
        buf.resize(64 * 1024, 0);
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut filled = filled.min(buf.len());
    let mut size = Some(size);
    loop {
        if filled == buf.len() && filled < limit {
            // One byte past the size: the read that finds the end fits.
            let whole = size.take().and_then(|f| f()).and_then(|s| usize::try_from(s).ok()).unwrap_or(0);
            let doubled = buf.len().saturating_mul(2).min(limit);
            let mut want = whole.saturating_add(1).min(limit).max(doubled);
            // A size that cannot be had (a file that lies about it) is not one.
            if buf.try_reserve_exact(want - buf.len()).is_err() {
                want = doubled;
            }
            buf.resize(want, 0);
        }
        let room = buf.len().min(limit).saturating_sub(filled);
        if room == 0 {
            return Ok(filled);
        }
        match file.read(&mut buf[filled..filled + room]) {
            Ok(n) => {
                if n == 0 {
                    return Ok(filled);
                }
                filled += n;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Files that call `.run` and import, directly or not, a module of the
/// project that imports an app module (those that import one themselves are
/// taken as they are): found by
/// walking the import graph backwards from those modules. Used when every
/// file of the project was read (so every importer is known).
fn candidates_backward(
    project: &Project,
    index: &ImporterIndex,
    starts: impl Fn(&Facts) -> bool,
    mut take: impl FnMut(usize),
) {
    let files = &index.files;
    let seeds: Vec<bool> = files.iter().map(|(_, f)| f.app_import).collect();
    importers_closure(project, index, seeds, |fi| {
        if starts(&files[fi].1) {
            take(fi);
        }
    });
}

/// The files that are `seeds` or import one of them, directly or not;
/// `reach` is told of each file the search adds, nearest first.
fn importers_closure(
    project: &Project,
    index: &ImporterIndex,
    seeds: Vec<bool>,
    mut reach: impl FnMut(usize),
) -> Vec<bool> {
    let files = &index.files;
    let mut reached = seeds;
    // Breadth first: the files that import an app module's importers are
    // found (and their analysis starts) before those further away.
    let mut queue: VecDeque<usize> = (0..files.len()).filter(|&i| reached[i]).collect();
    // Each importer's search roots, asked of the project once.
    let mut search_roots: Vec<Option<std::sync::Arc<[PathBuf]>>> = vec![None; files.len()];
    while let Some(mi) = queue.pop_front() {
        for fi in index.importers_of(project, &files[mi].0, Some(&mut search_roots), |fi| reached[fi]) {
            if !std::mem::replace(&mut reached[fi], true) {
                queue.push_back(fi);
                reach(fi);
            }
        }
    }
    reached
}

/// A module that holds an app hands it on to the modules it imports, as an
/// argument (`serve(app, "0.0.0.0")` calling a helper whose module imports
/// no framework) or an attribute set on them: a file that starts a server
/// and is imported, directly or not, by such a module is a candidate too.
/// Holders are the `makers` (the modules that name what makes an app:
/// `Flask`, not `werkzeug.exceptions`; framework sources aside) and their
/// importers; `taken` are the candidates already found.
fn handed_an_app(
    project: &Project,
    index: &ImporterIndex,
    makers: Vec<bool>,
    taken: &[bool],
    starts: impl Fn(&Facts) -> bool,
) -> Vec<usize> {
    let files = &index.files;
    let mut out = Vec::new();
    let mut seen = importers_closure(project, index, makers, |_| {});
    let mut queue: VecDeque<usize> = (0..files.len()).filter(|&i| seen[i]).collect();
    while let Some(i) = queue.pop_front() {
        let (path, facts) = &files[i];
        for (level, dotted) in facts.imports.iter() {
            let Some(target) = project.resolve(path, level, dotted) else { continue };
            let Some(ti) = index.position(&target) else { continue };
            if seen[ti] || project.is_framework_file(&target) {
                continue;
            }
            seen[ti] = true;
            queue.push_back(ti);
            if !taken[ti] && starts(&files[ti].1) {
                out.push(ti);
            }
        }
    }
    out
}

/// Importers by the key of the module they name (see `import_key`): a
/// hash table laid out by one counting sort on the keys' top bits (two
/// linear passes; sorting the ~190,000 imports of an 11,672-file tree by
/// key was 3.5% of the audit's instructions, all on one thread). Entries
/// are (top half of the key, file), 8 bytes, with a bucket per four of
/// them: the table is written once into fresh memory, and its page faults
/// (4 MB as (key, file, import) with a bucket each) were most of its time.
pub(crate) struct ImporterIndex {
    files: std::sync::Arc<Vec<(PathBuf, Facts)>>,
    /// Where each bucket starts in `entries` (one more than buckets).
    starts: Vec<u32>,
    /// (key >> 32, file) by bucket.
    entries: Vec<(u32, u32)>,
    shift: u32,
}

impl ImporterIndex {
    fn new(files: std::sync::Arc<Vec<(PathBuf, Facts)>>) -> Self {
        let total: usize = files.iter().map(|(_, f)| f.imports.keys().len()).sum();
        let bits = (total / 4).max(1).next_power_of_two().trailing_zeros().max(1);
        let shift = 64 - bits;
        let mut starts = vec![0u32; (1 << bits) + 1];
        for (_, f) in files.iter() {
            for &key in f.imports.keys() {
                starts[(key >> shift) as usize + 1] += 1;
            }
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        let mut next = starts.clone();
        let mut entries = vec![(0u32, 0u32); total];
        for (fi, (_, f)) in files.iter().enumerate() {
            for &key in f.imports.keys() {
                let slot = &mut next[(key >> shift) as usize];
                entries[*slot as usize] = ((key >> 32) as u32, fi as u32);
                *slot += 1;
            }
        }
        ImporterIndex { files, starts, entries, shift }
    }

    /// The files (by index) with an import that resolves to `module`, but
    /// those `skip` passes over (not resolved); a file may come more than
    /// once. `search_roots`, when given, caches each file's search roots.
    fn importers_of(
        &self,
        project: &Project,
        module: &Path,
        mut search_roots: Option<&mut [Option<std::sync::Arc<[PathBuf]>>]>,
        skip: impl Fn(usize) -> bool,
    ) -> Vec<usize> {
        let mut out = Vec::new();
        let every = 0..self.files.len();
        // Absolute imports, by each name the module may go by (`c`, `b.c`,
        // `a.b.c` for `a/b/c.py`, nearest root first, made in one buffer
        // from the path's key form, as import keys spell names), from the
        // files that may search the root the name needs: below it, unless
        // it is a project root. So the ~150 `import responses` of a tree
        // are not even looked at for each of its ~150 `responses.py`
        // modules (a third of a search's time was such importers' memory).
        let module_path = prefilter::module_path(module);
        let key_form = crate::paths::key_path(&module_path);
        let mut dotted = String::with_capacity(key_form.len());
        let starts = key_form.rmatch_indices('/').map(|(i, _)| i + 1).chain(std::iter::once(0));
        for (depth, start) in starts.enumerate().filter(|&(_, start)| start < key_form.len()) {
            dotted.clear();
            dotted.extend(key_form[start..].chars().map(|c| if c == '/' { '.' } else { c }));
            let dotted = dotted.as_str();
            // The root the name is found from, and the files that may search
            // it: found when first needed (most names have no importer;
            // making each name's root was a third of a search's time).
            let root = OnceCell::new();
            let root = || *root.get_or_init(|| module_path.ancestors().nth(depth + 1).unwrap_or(Path::new("")));
            let among = OnceCell::new();
            let among = |fi: usize| {
                among
                    .get_or_init(|| {
                        let root = root();
                        if project.searched_from_outside(root) { every.clone() } else { self.below(root) }
                    })
                    .contains(&fi)
            };
            let key = prefilter::absolute_key(dotted);
            for (fi, ei) in self.importers(key, |fi| !skip(fi) && among(fi)) {
                if out.last() == Some(&fi) {
                    continue;
                }
                let (importer, facts) = &self.files[fi];
                if facts.imports.get(ei) != Some((0, dotted)) {
                    continue;
                }
                // (`import typing` is `flask/typing.py` only where `flask/`
                // is searched: a cheap test that spares most resolutions.)
                let fresh;
                let searched: &[PathBuf] = match search_roots.as_deref_mut() {
                    Some(cache) => cache[fi].get_or_insert_with(|| project.search_roots(importer)),
                    None => {
                        fresh = project.search_roots(importer);
                        &fresh
                    }
                };
                // Both sides are built from the walk's paths: the same bytes
                // name the same directory (`Path`'s `==` compares components,
                // a third of this search's instructions).
                if searched.iter().any(|r| r.as_os_str() == root().as_os_str())
                    && project.resolve(importer, 0, dotted).as_deref() == Some(module)
                {
                    out.push(fi);
                }
            }
        }
        // Relative imports, by the module's path.
        for (fi, ei) in self.importers(prefilter::relative_key(module), |fi| !skip(fi)) {
            let (importer, facts) = &self.files[fi];
            if out.last() != Some(&fi)
                && let Some((level @ 1.., dotted)) = facts.imports.get(ei)
                && project.resolve(importer, level, dotted).as_deref() == Some(module)
            {
                out.push(fi);
            }
        }
        out
    }

    /// (file, import) of the imports naming `key` in the files `among`
    /// keeps (a file that names it twice may come twice). The files are
    /// asked before their imports are read.
    fn importers<'a>(
        &'a self,
        key: u64,
        among: impl Fn(usize) -> bool + 'a,
    ) -> impl Iterator<Item = (usize, usize)> + 'a {
        let b = (key >> self.shift) as usize;
        let bucket = &self.entries[self.starts[b] as usize..self.starts[b + 1] as usize];
        let high = (key >> 32) as u32;
        bucket.iter().filter(move |e| e.0 == high && among(e.1 as usize)).flat_map(move |&(_, fi)| {
            let keys = self.files[fi as usize].1.imports.keys();
            keys.iter().enumerate().filter(move |(_, k)| **k == key).map(move |(ei, _)| (fi as usize, ei))
        })
    }

    /// Where the file at `path` is among the files (found by its bytes:
    /// they are in byte order).
    fn position(&self, path: &Path) -> Option<usize> {
        let key = path.as_os_str().as_encoded_bytes();
        self.files.binary_search_by(|(p, _)| p.as_os_str().as_encoded_bytes().cmp(key)).ok()
    }

    /// The files below directory `dir`: one run of them, as they are in
    /// byte order (see `ScannedImports::new`). All of them where paths may
    /// mix separators (Windows).
    fn below(&self, dir: &Path) -> std::ops::Range<usize> {
        let dir = dir.as_os_str().as_encoded_bytes();
        // (A root directory, `/`, is not one prefix of its files' paths.)
        if dir.is_empty() || dir.ends_with(b"/") || cfg!(windows) {
            return 0..self.files.len();
        }
        let prefix = [dir, b"/"].concat();
        let start = self.files.partition_point(|(p, _)| p.as_os_str().as_encoded_bytes() < prefix.as_slice());
        let len = self.files[start..].partition_point(|(p, _)| p.as_os_str().as_encoded_bytes().starts_with(&prefix));
        start..start + len
    }
}

/// Which of the scanned files `from` import an app module, directly or
/// not: found by exploring forward from them; modules outside the scanned
/// files are read when reached. Used when only part of a project is
/// scanned (by index into `scanned`).
fn reaching_an_app(project: &Project, scanned: &[(PathBuf, Facts)], opts: &ScanOptions, from: &[usize]) -> Vec<bool> {
    let mut out = vec![false; scanned.len()];
    if from.is_empty() {
        return out;
    }
    let files = scanned;
    let scanned: HashMap<&Path, &Facts> = scanned.iter().map(|(p, f)| (p.as_path(), f)).collect();
    // Explore the import graph from the undecided files; modules outside
    // the scanned set are read (once) to learn their facts.
    let mut extra: HashMap<PathBuf, Facts> = HashMap::new();
    let mut edges: HashMap<PathBuf, Vec<PathBuf>> = HashMap::new();
    let mut seen: HashSet<PathBuf> = from.iter().map(|&i| files[i].0.clone()).collect();
    let mut queue: VecDeque<PathBuf> = seen.iter().cloned().collect();
    let mut roots: Vec<PathBuf> = Vec::new();
    while let Some(node) = queue.pop_front() {
        let facts = match scanned.get(node.as_path()).copied().or_else(|| extra.get(&node)) {
            Some(f) => f.clone(),
            None => {
                let f = project
                    .tree()
                    .read(&node)
                    .map(|b| prefilter::facts(&node, &b, &opts.extra_tokens))
                    .unwrap_or_default();
                extra.insert(node.clone(), f.clone());
                f
            }
        };
        if facts.app_import {
            roots.push(node.clone());
            continue;
        }
        let targets: Vec<PathBuf> =
            facts.imports.iter().filter_map(|(level, dotted)| project.resolve(&node, level, dotted)).collect();
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
    for &i in from {
        out[i] = reaches.contains(&files[i].0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `chunk` bytes per call, as network
    /// and FUSE file systems may.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.chunk.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Importers are searched only where they may search the root a name
    /// needs (below it, or from anywhere for a project root or `src/`):
    /// this is every importer resolution finds, and no decoy.
    #[test]
    fn importers_are_found_wherever_they_may_search_from() {
        let files: &[(&str, &str)] = &[
            ("app/__init__.py", ""),
            ("app/models.py", "x = 1\n"),
            ("app/views.py", "from app import models\nfrom . import models as m2\n"),
            ("app/sub/deep.py", "from ..models import x\n"),
            ("app/tool.py", "import models\n"),
            ("app2/z.py", "from app import models\n"),
            ("scripts/run.py", "import models\n"),
            ("lib/vendor/responses.py", "y = 2\n"),
            ("lib/vendor/user.py", "import responses\n"),
            ("other/x.py", "import responses\n"),
            ("src/pkg/__init__.py", ""),
            ("src/pkg/core.py", "z = 3\n"),
            ("tests/test_core.py", "from pkg import core\nimport pkg.core\n"),
        ];
        let scanned: Vec<(PathBuf, Facts)> = files
            .iter()
            .map(|(p, text)| (PathBuf::from(p), prefilter::facts(Path::new(p), text.as_bytes(), &[])))
            .collect();
        let tree = DiskTree::new(files.iter().map(|(p, _)| PathBuf::from(p)), vec![PathBuf::new()]);
        let project = Project::new(Box::new(tree));
        let scanned = hand_over_imports(&project, scanned);
        let importers = |module: &str| -> Vec<String> {
            let mut found: Vec<String> = scanned
                .index()
                .importers_of(&project, Path::new(module), None, |_| false)
                .into_iter()
                .map(|i| scanned[i].0.display().to_string())
                .collect();
            found.sort();
            found.dedup();
            found
        };
        assert_eq!(importers("app/models.py"), ["app/sub/deep.py", "app/tool.py", "app/views.py", "app2/z.py"]);
        assert_eq!(importers("lib/vendor/responses.py"), ["lib/vendor/user.py"]);
        assert_eq!(importers("src/pkg/core.py"), ["tests/test_core.py"]);
        let index = scanned.index();
        let below: Vec<&Path> = index.below(Path::new("app")).map(|i| scanned[i].0.as_path()).collect();
        assert_eq!(below.len(), 5, "{below:?}");
        assert!(below.iter().all(|p| p.starts_with("app")));
        assert_eq!(
            index.position(Path::new("app2/z.py")).map(|i| scanned[i].0.as_path()),
            Some(Path::new("app2/z.py"))
        );
        assert_eq!(index.position(Path::new("app2")), None);
    }

    #[test]
    fn short_reads_are_not_the_end() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for chunk in [1, 7, 4096, 65_535, 100_000] {
            let mut buf = Vec::new();
            let n = read_whole(&mut Trickle { data: &data, chunk }, &mut buf, 0, u64::MAX, || None).unwrap();
            assert!(buf[..n] == data[..], "chunks of {chunk}: {n} of {} bytes read", data.len());
            // The limit still holds: one byte past it is enough to know.
            let n = read_whole(&mut Trickle { data: &data, chunk }, &mut buf, 0, 1001, || None).unwrap();
            assert!(buf[..n] == data[..1001], "chunks of {chunk}, limited: {n} bytes read");
            // A size told grows the buffer once; a wrong one changes nothing.
            // (The limit bounds what a size can ask for.)
            for told in [data.len() as u64, 10, 1 << 40] {
                let mut buf = Vec::new();
                let limit = data.len() as u64 + 1;
                let n = read_whole(&mut Trickle { data: &data, chunk }, &mut buf, 0, limit, || Some(told)).unwrap();
                assert!(buf[..n] == data[..], "chunks of {chunk}, told {told}: {n} bytes read");
                assert!(buf.len() as u64 <= limit.max(64 * 1024), "told {told}: grew to {}", buf.len());
            }
            // Read on after a head.
            let mut source = Trickle { data: &data, chunk };
            let head = read_whole(&mut source, &mut buf, 0, 256, || None).unwrap();
            let n = read_whole(&mut source, &mut buf, head, u64::MAX, || None).unwrap();
            assert!(head == 256 && buf[..n] == data[..], "chunks of {chunk}, after a head: {n} bytes read");
        }
    }

    #[test]
    fn the_listing_does_not_open_extensionless_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.py"), "x = 1\n").unwrap();
        std::fs::write(dir.path().join("script"), "#!/usr/bin/env python3\nimport a\n").unwrap();
        let (listed, problems) = walk(&[dir.path().to_path_buf()], None, &Exclude::default());
        let names: Vec<_> = listed.iter().filter_map(|(p, _)| p.file_name()).collect();
        assert_eq!(names, ["a.py"]);
        assert!(problems.is_empty());
    }
}
