//! Staged mode: judge exactly what is about to be committed (or pushed).
//!
//! The verdict is by findings, not lines: a change is blocked for every
//! finding of the snapshot it makes that its base (HEAD, the amended
//! commit's parent, or the pushed-from ref) does not have, and for every
//! finding whose call or host literal sits on a line it adds. So a commit
//! that changes only a constant, deletes a reassignment or a `# noqa`,
//! renames a file out of an excluded directory or changes the
//! configuration is judged by what it does to every call, not only by the
//! calls it touches. Only files whose verdict can change are analysed in
//! both snapshots: the changed ones and their (transitive) importers, or
//! every file when the configuration changed.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::Repository;
use rustc_hash::FxHashSet;

use crate::analysis::check_module;
use crate::facts_cache::{BlobId, FactsCache};
use crate::finding::Finding;
use crate::git::{self, Added, Change, ChangeSpec, GitError, PathChange};
use crate::prefilter::{self, Facts};
use crate::project::Project;
use crate::scan::{FileProblem, FileReport, ScanOptions, ScanOutcome, check_files, facts_of, problem};

/// Check the change `spec` names in `repo`: the seam tests drive with real
/// repositories (the CLI opens the repository from the environment).
pub fn run_with_repo(repo: &Repository, spec: &ChangeSpec, opts: &ScanOptions) -> Result<ScanOutcome, GitError> {
    let change = git::change(repo, spec)?;
    // The configuration as staged: what is committed is judged by the
    // rules committed with it.
    let request = opts.config.clone();
    let configured;
    let opts = match &opts.config {
        Some(request) => {
            let settings = request.in_tree(&change.tree).map_err(|e| GitError::Config(e.to_string()))?;
            configured = ScanOptions { config: None, ..opts.clone() }.with_settings(settings);
            &configured
        }
        None => opts,
    };
    let mut outcome = ScanOutcome::default();
    // Staged paths are relative to the top of the working tree.
    outcome.base = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    outcome.root = outcome.base.clone();
    for (path, message) in &change.notes {
        outcome.problems.push(FileProblem { path: path.clone(), message: message.clone(), is_error: false });
    }
    if spec.all {
        audit_snapshot(change, spec, opts, &mut outcome);
    } else {
        // Facts of the blobs earlier runs read (see `facts_cache`), opened
        // only when some Python file or the configuration changed.
        let cache = |opts: &ScanOptions| FactsCache::open(repo.commondir(), &opts.extra_tokens);
        judge_change(change, spec, opts, request.as_ref(), cache, &mut outcome);
    }
    outcome.problems.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(outcome)
}

/// `--all`: every finding of every Python file of the snapshot.
fn audit_snapshot(change: Change, spec: &ChangeSpec, opts: &ScanOptions, outcome: &mut ScanOutcome) {
    let project = Project::new(Box::new(change.tree))
        .with_max_file_size(spec.max_file_size)
        .with_analysis(opts.settings.analysis.clone());
    let files: Vec<&Path> =
        change.files.iter().map(|f| f.path.as_path()).filter(|p| !opts.settings.exclude.matches(p)).collect();
    let scanned = crate::scan::hand_over_imports(&project, read_facts(&project, &files, opts, &mut outcome.problems));
    outcome.files = scanned.len();
    // Every file of the snapshot is read, so importers are searched
    // backwards.
    let (reports, problems, parsed) = check_files(&project, &scanned, true, opts, |_| true);
    outcome.reports = reports;
    outcome.parsed = parsed;
    outcome.project = Some(std::sync::Arc::new(project));
    outcome.changed = Some(files.iter().map(|p| p.to_path_buf()).collect());
    outcome.problems.extend(problems);
}

/// The facts of `paths` in `project`'s snapshot; a file that cannot be
/// read or decoded becomes a problem, one over the size limit a note, and a
/// file without an extension counts only with a Python shebang.
fn read_facts(
    project: &Project,
    paths: &[&Path],
    opts: &ScanOptions,
    problems: &mut Vec<FileProblem>,
) -> Vec<(PathBuf, Facts)> {
    let read: Vec<Result<Option<(PathBuf, Facts)>, FileProblem>> =
        crate::par::map(paths, crate::par::MIN_BLOBS, |path| {
            let script = path.extension().is_none();
            let too_large = |size: u64| FileProblem {
                path: path.to_path_buf(),
                message: format!("skipped: {size} bytes is over the size limit"),
                is_error: false,
            };
            // A script is known by its first line, so it is read first.
            if !script && let Some(size) = project.tree().size(path).filter(|&s| s > project.max_file_size()) {
                return Err(too_large(size));
            }
            let bytes = project.tree().read(path).map_err(|e| FileProblem {
                path: path.to_path_buf(),
                message: format!("cannot read the staged blob: {e}"),
                is_error: true,
            })?;
            if script && !crate::scan::has_python_shebang(&bytes) {
                return Ok(None);
            }
            if bytes.len() as u64 > project.max_file_size() {
                return Err(too_large(bytes.len() as u64));
            }
            facts_of(path, &bytes, opts).map(|f| Some((path.to_path_buf(), f)))
        });
    let mut out = Vec::with_capacity(read.len());
    for r in read {
        match r {
            Ok(Some(f)) => out.push(f),
            Ok(None) => {}
            Err(p) => problems.push(p),
        }
    }
    out
}

/// A snapshot with what every Python file imports, to search importers in.
struct Snapshot<'c> {
    project: Project,
    /// Sorted by path bytes.
    files: Vec<(PathBuf, Imports<'c>)>,
}

/// What the importer search needs of one file: whether it may start a
/// server, and its imports as [`Facts::portable`] writes them.
#[derive(Clone)]
struct Imports<'c> {
    run_call: bool,
    /// See [`Facts::settled_run`].
    settled_run: bool,
    /// See [`Facts::app_import`].
    app_import: bool,
    /// See [`Facts::app_maker`].
    app_maker: bool,
    text: Cow<'c, str>,
}

impl<'c> Imports<'c> {
    fn new(p: &crate::prefilter::Portable<'_>, text: Cow<'c, str>) -> Self {
        Imports {
            run_call: p.run_call,
            settled_run: p.settled_run,
            app_import: p.app_import,
            app_maker: p.app_maker,
            text,
        }
    }
}

impl<'c> Snapshot<'c> {
    /// The files that are, or import (transitively), one of `seeds`.
    fn importers_of(&self, seeds: &FxHashSet<&Path>) -> HashSet<PathBuf> {
        // The seeds found by search, not the snapshot's paths hashed: a
        // commit changes a few files of thousands.
        let mut reached = vec![false; self.files.len()];
        let mut frontier: Vec<usize> = seeds.iter().filter_map(|p| self.index_of(p)).collect();
        frontier.sort_unstable();
        frontier.dedup();
        for &i in &frontier {
            reached[i] = true;
        }
        while !frontier.is_empty() {
            // An import can name a module only by its last component (a
            // package by its directory): test that before resolving.
            let targets: FxHashSet<&Path> = frontier.iter().map(|&i| self.files[i].0.as_path()).collect();
            let names: FxHashSet<&str> = targets.iter().filter_map(|p| module_name(p)).collect();
            // Iterated once per file: a list, not the set.
            let needles: Vec<&[u8]> = names.iter().map(|n| n.as_bytes()).collect();
            frontier.clear();
            for (i, (path, imports)) in self.files.iter().enumerate() {
                if reached[i] {
                    continue;
                }
                // Most files name none of them: one substring search each.
                let text = imports.text.as_bytes();
                let relative = text.first() == Some(&b'.') || has_line_starting_with_dot(text);
                if !relative && !needles.iter().any(|n| contains(text, n)) {
                    continue;
                }
                let hit = imports.text.lines().any(|line| {
                    let (level, dotted) = prefilter::split_level(line);
                    let last = dotted.rsplit('.').next().unwrap_or(dotted);
                    (last.is_empty() || names.contains(last))
                        && self.project.resolve(path, level, dotted).is_some_and(|m| targets.contains(m.as_path()))
                });
                if hit {
                    reached[i] = true;
                    frontier.push(i);
                }
            }
        }
        self.files.iter().zip(reached).filter(|(_, r)| *r).map(|((p, _), _)| p.clone()).collect()
    }

    /// The files a module that holds an app imports, directly or not: the
    /// modules that name what makes an app (framework sources aside), and
    /// their importers, may hand it on (see `scan::handed_an_app`).
    fn handed_an_app(&self) -> FxHashSet<PathBuf> {
        let makers: FxHashSet<&Path> = self
            .files
            .iter()
            .filter(|(p, f)| f.app_maker && !self.project.is_framework_file(p))
            .map(|(p, _)| p.as_path())
            .collect();
        let holders = self.importers_of(&makers);
        let mut seen: FxHashSet<PathBuf> = FxHashSet::default();
        let mut stack: Vec<PathBuf> = holders.into_iter().collect();
        while let Some(module) = stack.pop() {
            let Some(imports) = self.get(&module) else { continue };
            for line in imports.text.lines() {
                let (level, dotted) = prefilter::split_level(line);
                if let Some(target) = self.project.resolve(&module, level, dotted)
                    && !seen.contains(&target)
                    && !self.project.is_framework_file(&target)
                {
                    seen.insert(target.clone());
                    stack.push(target);
                }
            }
        }
        seen
    }

    /// The modules `path` imports, directly or not.
    fn imports_closure(&self, path: &Path) -> FxHashSet<PathBuf> {
        let mut seen: FxHashSet<PathBuf> = FxHashSet::default();
        let mut stack = vec![path.to_path_buf()];
        while let Some(module) = stack.pop() {
            let Some(imports) = self.get(&module) else { continue };
            for line in imports.text.lines() {
                let (level, dotted) = prefilter::split_level(line);
                if let Some(target) = self.project.resolve(&module, level, dotted)
                    && seen.insert(target.clone())
                {
                    stack.push(target);
                }
            }
        }
        seen
    }

    /// Does a file at `path` name the module that was at `gone` (now
    /// deleted) in one of its imports?
    fn would_import(&self, path: &Path, gone: &Path) -> bool {
        let Some(name) = module_name(gone) else { return false };
        self.imports_closure(path).iter().chain(std::iter::once(&path.to_path_buf())).any(|m| {
            self.get(m)
                .is_some_and(|i| i.text.lines().any(|l| prefilter::split_level(l).1.rsplit('.').next() == Some(name)))
        })
    }

    fn get(&self, path: &Path) -> Option<&Imports<'c>> {
        Some(&self.files[self.index_of(path)?].1)
    }

    fn index_of(&self, path: &Path) -> Option<usize> {
        let key = path.as_os_str().as_encoded_bytes();
        self.files.binary_search_by(|(p, _)| p.as_os_str().as_encoded_bytes().cmp(key)).ok()
    }
}

// The import texts searched are a few dozen bytes each, thousands of
// them: `memmem` and `memchr` spend more per call setting up than
// searching. Byte pairs are compared without branching (the compiler
// vectorises it); only a text holding the needle's first two bytes is
// searched exactly.

/// Does `text` hold `needle`?
fn contains(text: &[u8], needle: &[u8]) -> bool {
    match needle {
        [] => true,
        [a] => text.iter().fold(false, |hit, b| hit | (b == a)),
        [a, b, ..] => has_pair(text, *a, *b) && text.windows(needle.len()).any(|w| w == needle),
    }
}

/// Does `text` hold `a` followed by `b`?
fn has_pair(text: &[u8], a: u8, b: u8) -> bool {
    let next = text.get(1..).unwrap_or_default();
    text.iter().zip(next).fold(false, |hit, (x, y)| hit | ((*x == a) & (*y == b)))
}

/// Does a line after the first start with a dot (a relative import)?
fn has_line_starting_with_dot(text: &[u8]) -> bool {
    has_pair(text, b'\n', b'.')
}

/// The name an import uses for the module at `path`: `b` for `a/b.py`,
/// `a` for `a/__init__.py`.
fn module_name(path: &Path) -> Option<&str> {
    match path.file_stem()?.to_str()? {
        "__init__" => path.parent()?.file_name()?.to_str(),
        stem => Some(stem),
    }
}

/// What every Python file of a snapshot (`listing`: paths and blob ids,
/// files without an extension among them) imports, from `cache` where it
/// holds the blob, reusing `known` (the other snapshot's) for paths whose
/// blob both hold. Files without an extension count when their shebang
/// names Python. Blobs that cannot be read are returned apart.
fn snapshot_imports<'c>(
    project: &Project,
    listing: Vec<(PathBuf, BlobId)>,
    opts: &ScanOptions,
    cache: &'c FactsCache,
    known: Option<&Snapshot<'c>>,
    same_blob: impl Fn(&Path) -> bool,
) -> (Vec<(PathBuf, Imports<'c>)>, Vec<PathBuf>) {
    // The blobs known (the other snapshot's, the cache's) on this thread:
    // a lookup each. Only the others are read, in parallel when many.
    let mut files = Vec::with_capacity(listing.len());
    let mut to_read: Vec<(PathBuf, BlobId)> = Vec::new();
    for (path, id) in listing {
        if let Some(f) = known.filter(|_| same_blob(&path)).and_then(|k| k.get(&path)) {
            let f = f.clone();
            files.push((path, f));
            continue;
        }
        let mut id = id;
        // A notebook's facts are of its code, not its bytes: they are kept
        // under the blob id complemented, so the same blob named `.py`
        // (a different reading) has its own record.
        // (The suffix first: `Path::extension` parses components, and this
        // is asked of every file of the snapshot.)
        if path.as_os_str().as_encoded_bytes().ends_with(b".ipynb") && crate::notebook::is_notebook(&path) {
            id.iter_mut().for_each(|b| *b = !*b);
        }
        // Without an extension a file is Python by its first line; the same
        // blob may also be named `app.py` (what one name taught is not
        // taken for the other).
        let script = crate::paths::is_extensionless(path.as_os_str().as_encoded_bytes());
        match cache.get(&id) {
            Some(e) if script && e.script == Some(false) => {}
            Some(crate::facts_cache::Entry { facts: Some(p), script: s }) if !script || s == Some(true) => {
                files.push((path, Imports::new(&p, Cow::Borrowed(p.text))))
            }
            _ => to_read.push((path, id)),
        }
    }
    let read: Vec<Result<Option<Imports<'c>>, ()>> = crate::par::map(&to_read, crate::par::MIN_BLOBS, |(path, id)| {
        // A blob that cannot be read is not remembered: it is named (its
        // importers are not judged), and read again next time.
        let bytes = project.tree().read(path).map_err(|_| ())?;
        let script = crate::paths::is_extensionless(path.as_os_str().as_encoded_bytes())
            .then(|| crate::scan::has_python_shebang(&bytes));
        if script == Some(false) {
            cache.put(*id, None, script);
            return Ok(None);
        }
        let mut facts = prefilter::facts(path, &bytes, &opts.extra_tokens);
        facts.add_loaded_modules(&bytes, path);
        cache.put(*id, Some(&facts), script);
        let p = facts.portable();
        Ok(Some(Imports::new(&p, Cow::Owned(p.text.to_string()))))
    });
    let mut unreadable = Vec::new();
    for ((path, _), r) in to_read.into_iter().zip(read) {
        match r {
            Ok(Some(f)) => files.push((path, f)),
            Ok(None) => {}
            Err(()) => unreadable.push(path),
        }
    }
    // Sorted by bytes, as `Snapshot::get` searches (cheaper than by path
    // components): two sorted runs, merged by a stable sort in one pass.
    files.sort_by(|a, b| a.0.as_os_str().as_encoded_bytes().cmp(b.0.as_os_str().as_encoded_bytes()));
    (files, unreadable)
}

/// How many import steps from a changed file a helper whose callers it may
/// hold is looked for (`run.py` -> `wrapper.py` -> `server.py`).
const CALLER_DEPTH: usize = 3;

/// A snapshot's import table, owned (the snapshot's texts borrow the
/// cache): paths and texts in two buffers, not two allocations per file
/// (thousands of files, and most runs never ask).
struct OwnedImports {
    paths: Vec<u8>,
    texts: String,
    /// Per file: where its path and its text end.
    ends: Vec<(usize, usize)>,
}

impl OwnedImports {
    /// The files' imports, each under the name `name` gives it (none: left
    /// out).
    fn of<'p>(files: &'p [(PathBuf, Imports)], name: impl Fn(&'p Path) -> Option<&'p Path>) -> Self {
        let (p, t) = files.iter().fold((0, 0), |(p, t), (path, i)| (p + path.as_os_str().len(), t + i.text.len()));
        let mut t = OwnedImports {
            paths: Vec::with_capacity(p),
            texts: String::with_capacity(t),
            ends: Vec::with_capacity(files.len()),
        };
        for (path, imports) in files {
            let Some(path) = name(path) else { continue };
            t.paths.extend_from_slice(path.as_os_str().as_encoded_bytes());
            t.texts.push_str(&imports.text);
            t.ends.push((t.paths.len(), t.texts.len()));
        }
        t
    }
}

impl crate::project::ImportTable for OwnedImports {
    fn for_each_file(&self, f: &mut crate::project::FileImports<'_>) {
        let (mut p, mut t) = (0, 0);
        for &(pe, te) in &self.ends {
            let path = path_of(&self.paths[p..pe]);
            f(&path, &mut self.texts[t..te].lines().map(prefilter::split_level));
            (p, t) = (pe, te);
        }
    }
}

#[cfg(unix)]
fn path_of(b: &[u8]) -> Cow<'_, Path> {
    use std::os::unix::ffi::OsStrExt;
    Cow::Borrowed(Path::new(std::ffi::OsStr::from_bytes(b)))
}

#[cfg(not(unix))]
fn path_of(b: &[u8]) -> Cow<'_, Path> {
    Cow::Owned(PathBuf::from(String::from_utf8_lossy(b).into_owned()))
}

/// The staged (or pushed) change against its base: see the module docs.
fn judge_change(
    change: Change,
    spec: &ChangeSpec,
    opts: &ScanOptions,
    request: Option<&crate::config::Request>,
    open_cache: impl FnOnce(&ScanOptions) -> FactsCache,
    outcome: &mut ScanOutcome,
) {
    let Change { files, tree, base, deltas, .. } = change;
    let added: HashMap<PathBuf, Added> = files.iter().map(|f| (f.path.clone(), f.added.clone())).collect();
    outcome.changed = Some(added.keys().cloned().collect());
    if deltas.is_empty() {
        return;
    }
    let config_changed = deltas.iter().any(PathChange::is_config);
    // A package marker added or removed moves where absolute imports are
    // searched for every module beneath it: judge every file, as for a
    // configuration change.
    let is_init = |side: &Option<(PathBuf, git2::Oid)>| {
        side.as_ref().is_some_and(|(p, _)| p.file_name().is_some_and(|n| n == "__init__.py"))
    };
    let layout_changed = deltas
        .iter()
        .any(|d| (is_init(&d.old) || is_init(&d.new)) && d.old.as_ref().map(|o| &o.0) != d.new.as_ref().map(|n| &n.0));
    // The base is judged by its own configuration (what it was committed
    // under); one that does not parse counts as the judged one.
    let base_opts = match request.filter(|_| config_changed).map(|r| r.in_tree(&base)) {
        Some(Ok(settings)) => opts.clone().with_settings(settings),
        _ => opts.clone(),
    };
    let code = |d: &PathChange| !d.is_config();
    let changed_new: FxHashSet<&Path> =
        deltas.iter().filter(|d| code(d)).filter_map(|d| d.new.as_ref()).map(|n| n.0.as_path()).collect();
    let changed_old: FxHashSet<&Path> =
        deltas.iter().filter(|d| code(d)).filter_map(|d| d.old.as_ref()).map(|o| o.0.as_path()).collect();
    // New path -> base path, for renames.
    let renamed: HashMap<PathBuf, PathBuf> = deltas
        .iter()
        .filter_map(|d| match (&d.old, &d.new) {
            (Some((o, _)), Some((n, _))) if o != n => Some((n.clone(), o.clone())),
            _ => None,
        })
        .collect();
    let renamed_to: HashMap<&Path, &Path> = renamed.iter().map(|(n, o)| (o.as_path(), n.as_path())).collect();

    let new_listing = tree.python_blobs(true);
    // The changed files themselves must decode (reported as in every mode).
    let project = Project::new(Box::new(tree))
        .with_max_file_size(spec.max_file_size)
        .with_analysis(opts.settings.analysis.clone());
    // Every changed file, whether it adds lines or only removes some.
    let mut checked: Vec<&Path> = changed_new.iter().copied().filter(|p| !opts.settings.exclude.matches(p)).collect();
    checked.sort();
    let mut problems = Vec::new();
    let decoded: HashSet<PathBuf> =
        read_facts(&project, &checked, opts, &mut problems).into_iter().map(|(p, _)| p).collect();
    outcome.problems.extend(problems);

    // The base's importers matter only for modules the change deletes or
    // renames away: for a module edited in place or added, every file that
    // imports it (then or now) imports it in the judged snapshot too, as
    // no other file's name moved.
    let gone: Vec<&Path> = changed_old.iter().copied().filter(|p| !changed_new.contains(p)).collect();
    let base_listing = if gone.is_empty() { Vec::new() } else { base.python_blobs(true) };
    let base_project = Project::new(Box::new(base))
        .with_max_file_size(spec.max_file_size)
        .with_analysis(base_opts.settings.analysis.clone());
    let kept = open_cache(opts);
    let cache = &kept;
    let (new_files, unreadable) = snapshot_imports(&project, new_listing, opts, cache, None, |_| false);
    let new_snap = Snapshot { files: new_files, project };
    let (base_files, _) = snapshot_imports(&base_project, base_listing, &base_opts, cache, Some(&new_snap), |p| {
        !changed_new.contains(p) && !changed_old.contains(p)
    });
    if let Some(first) = unreadable.first() {
        // A partial clone lacks blobs it never fetched: say so, once.
        let message = format!(
            "{} file(s) of the snapshot could not be read from the object database (a partial clone?): \
             findings that depend on this commit through them are not judged",
            unreadable.len()
        );
        outcome.problems.push(FileProblem { path: first.clone(), message, is_error: false });
    }
    let base_snap = Snapshot { project: base_project, files: base_files };
    outcome.files = new_snap.files.len();

    // In a project that imports Connexion, a call settled from its literals
    // may be a Connexion 1/2 `run()`, which binds without a host (asked
    // only of such a call).
    let connexion = std::cell::OnceCell::new();
    let starts = |f: &Imports| {
        f.run_call
            || (f.settled_run
                && *connexion.get_or_init(|| {
                    let finder = memchr::memmem::Finder::new("connexion");
                    new_snap.files.iter().any(|(_, f)| {
                        finder.find(f.text.as_bytes()).is_some()
                            && f.text.lines().any(|l| l.split('.').next() == Some("connexion"))
                    })
                }))
    };
    // A server starts only where an app is: a snapshot that imports no app
    // module has nothing to find (the audit's prefilter, see
    // `scan::check_files`).
    let no_app = opts.prefilter && !new_snap.files.iter().any(|(_, f)| f.app_import);
    // The files whose verdict can differ from the base's.
    let affected: Vec<PathBuf> = if no_app {
        Vec::new()
    } else if config_changed || layout_changed {
        new_snap.files.iter().map(|(p, _)| p.clone()).collect()
    } else {
        let mut set = new_snap.importers_of(&changed_new);
        // A call of a function another module defines (`start(host=
        // "0.0.0.0")` in `run.py`) decides that module's verdict: the
        // modules the affected ones import (through helpers of helpers, a
        // few steps) that start a server are affected too.
        let mut frontier: Vec<PathBuf> = set.iter().cloned().collect();
        let mut seen: FxHashSet<PathBuf> = set.iter().cloned().collect();
        for _ in 0..CALLER_DEPTH {
            let mut next = Vec::new();
            for p in &frontier {
                let Some(imports) = new_snap.get(p) else { continue };
                for line in imports.text.lines() {
                    let (level, dotted) = prefilter::split_level(line);
                    if let Some(target) = new_snap.project.resolve(p, level, dotted)
                        && seen.insert(target.clone())
                    {
                        if new_snap.get(&target).is_some_and(starts) {
                            set.insert(target.clone());
                        }
                        next.push(target);
                    }
                }
            }
            frontier = next;
        }
        let gone: FxHashSet<&Path> = gone.into_iter().collect();
        for p in base_snap.importers_of(&gone) {
            let now = renamed_to.get(p.as_path()).map_or(p.clone(), |n| n.to_path_buf());
            set.insert(now);
        }
        let mut v: Vec<PathBuf> = set.into_iter().collect();
        v.sort();
        v
    };
    let candidates: Vec<&PathBuf> = affected
        .iter()
        .filter(|p| !opts.prefilter || new_snap.get(p).is_some_and(starts))
        .filter(|p| !opts.settings.exclude.matches(p))
        .filter(|p| !changed_new.contains(p.as_path()) || decoded.contains(p.as_path()))
        .collect();
    // As the audit keeps them: files that reach an app module, or that a
    // module holding an app imports (it may hand them the app).
    let candidates = if opts.prefilter && !candidates.is_empty() {
        let apps: FxHashSet<&Path> =
            new_snap.files.iter().filter(|(_, f)| f.app_import).map(|(p, _)| p.as_path()).collect();
        let reaching = new_snap.importers_of(&apps);
        let handed = std::cell::OnceCell::new();
        candidates
            .into_iter()
            .filter(|p| reaching.contains(p.as_path()) || handed.get_or_init(|| new_snap.handed_an_app()).contains(*p))
            .collect()
    } else {
        candidates
    };
    outcome.parsed = candidates.len();
    if !candidates.is_empty() {
        // What each file imports, for the callers of a function in other
        // modules (excluded files call nothing). The base is asked with the
        // same table, its renamed files by their base names: its unchanged
        // files are these, a changed one is read as it was, one only this
        // snapshot has is not found there. (Copied only when some file is
        // analysed.)
        let exclude = &opts.settings.exclude;
        let excluded = |p: &Path| !exclude.is_empty() && exclude.matches(p);
        let new_table: Arc<dyn crate::project::ImportTable> =
            Arc::new(OwnedImports::of(&new_snap.files, |p| (!excluded(p)).then_some(p)));
        let base_table = if renamed.is_empty() {
            new_table.clone()
        } else {
            Arc::new(OwnedImports::of(&new_snap.files, |p| {
                (!excluded(p)).then(|| renamed.get(p).map_or(p, PathBuf::as_path))
            }))
        };
        new_snap.project.set_imports(new_table);
        base_snap.project.set_imports(base_table);
    }

    let results: Vec<(Option<FileReport>, Vec<Finding>, Option<FileProblem>)> =
        crate::par::map(&candidates, crate::par::MIN_MODULES, |path| {
            let old_path = renamed.get(path.as_path()).unwrap_or(path);
            // The base is analysed only where the snapshot has findings to
            // compare (most affected files have none).
            let base_findings = || {
                if base_snap.project.tree().is_file(old_path) && !base_opts.settings.exclude.matches(old_path) {
                    base_snap.project.load(old_path).map(|m| check_module(&base_snap.project, &m)).unwrap_or_default()
                } else {
                    Vec::new()
                }
            };
            match new_snap.project.load(path) {
                Ok(module) => {
                    let findings = check_module(&new_snap.project, &module);
                    let base_findings = if findings.is_empty() { Vec::new() } else { base_findings() };
                    let report = FileReport { module, findings, suppressed: Vec::new() };
                    (Some(report), base_findings, None)
                }
                Err(e) if changed_new.contains(path.as_path()) => (None, Vec::new(), Some(problem(path, &e))),
                // An unchanged file that cannot be analysed was not
                // analysable before either: noted, not an error.
                Err(e) => {
                    let mut p = problem(path, &e);
                    p.is_error = false;
                    (None, Vec::new(), Some(p))
                }
            }
        });

    let why = Why { deltas: &deltas, added: &added, config_changed, renamed: &renamed, snapshot: &new_snap };
    for (report, base_findings, problem) in results {
        outcome.problems.extend(problem);
        let Some(mut report) = report else { continue };
        let old_path = renamed.get(&report.module.path).cloned().unwrap_or_else(|| report.module.path.clone());
        let verdicts = brought_in(&report.findings, report.module.text(), &base_findings, &base_snap, &old_path);
        let (mut findings, mut suppressed) = (Vec::new(), Vec::new());
        for (mut f, (is_new, base_mark)) in report.findings.drain(..).zip(verdicts) {
            // The call's own lines added: the call is the change (as a
            // line-based hook would judge it). Otherwise only what the base
            // did not have: touching the line of a host that was already
            // exposed brings nothing in.
            let call_added = why.on_added(&f.path, f.start.line, f.end.line);
            if !is_new && !call_added {
                continue;
            }
            f.cause = if call_added { None } else { Some(why.cause(&f, base_mark)) };
            if f.suppressed.is_some() { suppressed.push(f) } else { findings.push(f) }
        }
        if findings.is_empty() && suppressed.is_empty() {
            continue;
        }
        for message in crate::scan::ineffective_comments(&report.module, &findings) {
            outcome.problems.push(FileProblem { path: report.module.path.clone(), message, is_error: false });
        }
        report.findings = findings;
        report.suppressed = suppressed;
        outcome.reports.push(report);
    }
    outcome.reports.sort_by(|a, b| a.module.path.cmp(&b.module.path));
    let Snapshot { project, files } = new_snap;
    drop((files, base_snap));
    outcome.project = Some(std::sync::Arc::new(project));
    kept.save();
}

/// What identifies a finding across the two snapshots: its rule, its file
/// (followed through renames) and its call's text without blanks.
type Identity = (crate::rules::Rule, PathBuf, String);

fn identity(f: &Finding, text: &str, path: &Path) -> Identity {
    let call: String = text.get(f.span.clone()).unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect();
    (f.rule, path.to_path_buf(), call)
}

/// For each of `findings` (of one file, in the judged snapshot): is it
/// new (more of its identity than the base reports), and the comment that
/// silenced it in the base, if one did.
fn brought_in(
    findings: &[Finding],
    text: &str,
    base: &[Finding],
    base_snap: &Snapshot,
    old_path: &Path,
) -> Vec<(bool, Option<String>)> {
    let base_module = if base.is_empty() { None } else { base_snap.project.load(old_path).ok() };
    let base_text = base_module.as_ref().map_or("", |m| m.text());
    // How often each identity is reported in the base, and silenced there.
    let mut counts: HashMap<Identity, usize> = HashMap::new();
    let mut silenced: HashMap<Identity, String> = HashMap::new();
    for f in base {
        let id = identity(f, base_text, old_path);
        match &f.suppressed {
            None => *counts.entry(id).or_default() += 1,
            Some(s) => {
                silenced.insert(id, s.marker().to_string());
            }
        }
    }
    let mut seen: HashMap<Identity, usize> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let id = identity(f, text, old_path);
            let k = seen.entry(id.clone()).or_default();
            *k += 1;
            let new = f.suppressed.is_none() && *k > counts.get(&id).copied().unwrap_or(0);
            (new, silenced.get(&id).cloned())
        })
        .collect()
}

/// `path:line`, or `path:cell N:line` in a notebook.
fn place(path: &Path, line: usize, cells: Option<&crate::notebook::Cells>) -> String {
    match cells.and_then(|c| c.locate(line)) {
        Some(c) => format!("{}:cell {}:{}", path.display(), c.number(), c.line),
        None => format!("{}:{line}", path.display()),
    }
}

/// Says which change brought a finding in.
struct Why<'a> {
    deltas: &'a [PathChange],
    added: &'a HashMap<PathBuf, Added>,
    config_changed: bool,
    renamed: &'a HashMap<PathBuf, PathBuf>,
    snapshot: &'a Snapshot<'a>,
}

impl Why<'_> {
    fn on_added(&self, path: &Path, first: usize, last: usize) -> bool {
        self.added.get(path).is_some_and(|a| a.overlaps(first, last))
    }

    /// Why an unchanged call is reported, most specific first.
    fn cause(&self, f: &Finding, base_mark: Option<String>) -> String {
        if let Some(mark) = base_mark {
            return format!("`{mark}` silenced it before this commit");
        }
        if let Some(loc) = &f.literal
            && let Ok(module) = self.snapshot.project.load(&loc.path)
        {
            let line = module.line_of(loc.span.start);
            if self.on_added(&loc.path, line, line) {
                let at = place(&loc.path, line, module.source.notebook.as_deref());
                return format!("host now \"{}\": {at} changed in this commit", f.host);
            }
        }
        // The changed modules this file reads, directly or not.
        let reads = self.snapshot.imports_closure(&f.path);
        let mut named: Vec<String> = Vec::new();
        for d in self.deltas.iter().filter(|d| !d.is_config()) {
            let line = match (&d.old, &d.new) {
                (_, Some((new, _))) if new != &f.path && reads.contains(new.as_path()) => match &d.old {
                    Some((old, _)) if old != new => format!("{} (renamed from {})", new.display(), old.display()),
                    Some(_) => format!("{} (changed)", new.display()),
                    None => format!("{} (added)", new.display()),
                },
                (Some((old, _)), None) if self.snapshot.would_import(&f.path, old) => {
                    format!("{} (deleted)", old.display())
                }
                _ => continue,
            };
            named.push(line);
        }
        named.sort();
        if !named.is_empty() {
            let more = named.len().saturating_sub(3);
            named.truncate(3);
            let more = if more > 0 { format!(" and {more} more") } else { String::new() };
            return format!("the call is unchanged; it reads {}{more}, in this commit", named.join(", "));
        }
        if let Some(Added::Lines(ranges)) = self.added.get(&f.path)
            && let Some((first, _)) = ranges.first()
        {
            let at = place(&f.path, *first, f.notebook.as_deref());
            return format!("the call is unchanged; {at} changed in this commit");
        }
        if let Some(old) = self.renamed.get(&f.path) {
            return format!("{} was renamed from {} in this commit", f.path.display(), old.display());
        }
        if self.config_changed {
            return "the configuration (pyproject.toml) changed in this commit".into();
        }
        if self.deltas.iter().any(|d| d.new.as_ref().is_some_and(|(p, _)| p == &f.path)) {
            return format!("the call is unchanged; lines of {} were removed in this commit", f.path.display());
        }
        "the call is unchanged; a package marker (__init__.py) added or removed in this commit changes what it imports"
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_searches_agree_with_memmem() {
        let texts: &[&[u8]] = &[b"", b"a", b"os\npkg.m4", b".config\nm", b"m4", b"xm", b"m\n.", b"pkg.sub.m0\nos"];
        let needles: &[&[u8]] = &[b"", b"m", b"m4", b"\n.", b"pkg.sub", b"os\npkg.m4x"];
        for text in texts {
            for needle in needles {
                assert_eq!(contains(text, needle), memchr::memmem::find(text, needle).is_some(), "{text:?} {needle:?}");
            }
            assert_eq!(has_line_starting_with_dot(text), memchr::memmem::find(text, b"\n.").is_some());
        }
    }
}
