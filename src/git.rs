//! Git staging through libgit2: what a commit (or a push) is about to add.
//!
//! The repository is opened as git hooks expect (`Repository::open_from_env`,
//! which honours `GIT_DIR` and the temporary `GIT_INDEX_FILE` that
//! `git commit -a` and `git commit <paths>` point at). Files are read as
//! staged blobs from the object database, never from the working tree.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use git2::{Delta, DiffFindOptions, DiffOptions, FileMode, Oid, Repository};
use rustc_hash::FxHashMap;

use crate::git_index;
use crate::paths::is_extensionless;
use crate::project::SourceTree;

/// A failure that stops the staged check (exit 2), with what to do next.
#[derive(Debug)]
pub enum GitError {
    NotARepository(String),
    Conflicts(Vec<String>),
    BadRef(String, String),
    Git(git2::Error),
    /// The staged `pyproject.toml` configuration is invalid.
    Config(String),
}

impl std::fmt::Display for GitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GitError::NotARepository(e) => write!(
                f,
                "not inside a git repository ({e}); run it from a repository to check staged changes, or give paths to audit files"
            ),
            GitError::Conflicts(paths) => write!(
                f,
                "the index has unmerged paths ({}); resolve the conflicts and `git add` them, then commit again",
                paths.join(", ")
            ),
            GitError::BadRef(r, e) => write!(f, "cannot resolve `{r}` to a commit: {e}"),
            GitError::Git(e) => write!(f, "git: {}", e.message()),
            GitError::Config(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for GitError {}

impl From<git2::Error> for GitError {
    fn from(e: git2::Error) -> Self {
        GitError::Git(e)
    }
}

/// Open the repository the way a git hook runs: `GIT_DIR`, `GIT_WORK_TREE`
/// and `GIT_INDEX_FILE` are honoured; otherwise it is found from the
/// current directory up (worktrees and subdirectories included).
pub fn open_repo() -> Result<Repository, GitError> {
    // Objects are not re-hashed on every read (git does not either); the
    // hook reads many trees and blobs and must answer fast.
    git2::opts::strict_hash_verification(false);
    Repository::open_from_env().map_err(|e| GitError::NotARepository(e.message().to_string()))
}

/// Lines a change adds to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Every line (`--all`).
    All,
    /// 1-based inclusive line ranges, sorted.
    Lines(Vec<(usize, usize)>),
}

impl Added {
    /// Does the 1-based inclusive range `first..=last` touch an added line?
    pub fn overlaps(&self, first: usize, last: usize) -> bool {
        match self {
            Added::All => true,
            Added::Lines(ranges) => ranges.iter().any(|&(s, e)| s <= last && first <= e),
        }
    }
}

/// A Python file the change adds or modifies.
#[derive(Debug, Clone)]
pub struct ChangedFile {
    /// Relative to the repository root.
    pub path: PathBuf,
    pub added: Added,
}

/// One path whose content differs between the base snapshot and the one
/// judged: a Python file (by name or shebang) or the root `pyproject.toml`.
/// A rename is one delta with both sides.
#[derive(Debug, Clone)]
pub struct PathChange {
    /// The path and blob in the base (`None`: added, or not Python there).
    pub old: Option<(PathBuf, Oid)>,
    /// The path and blob in the snapshot judged (`None`: deleted).
    pub new: Option<(PathBuf, Oid)>,
}

impl PathChange {
    pub fn is_config(&self) -> bool {
        let config = |side: &Option<(PathBuf, Oid)>| side.as_ref().is_some_and(|(p, _)| p == Path::new(CONFIG));
        config(&self.old) || config(&self.new)
    }
}

/// What is judged: the changed Python files, the tree of files the commit
/// will hold (to resolve imports in), the base it is compared with, and
/// notes about skipped files.
pub struct Change {
    pub files: Vec<ChangedFile>,
    pub tree: GitTree,
    /// The snapshot the change starts from (HEAD, the amended commit's
    /// parent, or the pushed-from ref), as an overlay of `tree`.
    pub base: GitTree,
    /// Every Python or configuration path that differs from the base.
    pub deltas: Vec<PathChange>,
    pub notes: Vec<(PathBuf, String)>,
}

/// The configuration file a snapshot is judged by.
const CONFIG: &str = "pyproject.toml";

/// Which change to judge.
#[derive(Debug, Clone, Default)]
pub struct ChangeSpec {
    /// Every Python file of the index, every line.
    pub all: bool,
    /// Lines added between two commits (`pre-push`, pull requests).
    pub refs: Option<(String, String)>,
    pub max_file_size: u64,
    /// Skip the index fast path and diff with libgit2 only (tests compare
    /// the two).
    pub libgit2_only: bool,
    /// The index file git will commit, when not `<gitdir>/index`: git sets
    /// `GIT_INDEX_FILE` for its hooks (`git commit -a`, `git commit <paths>`
    /// use a temporary one). Set by whoever opened the repository from the
    /// environment.
    pub index_file: Option<PathBuf>,
    /// The commit amends HEAD (`git commit --amend`): judge it against
    /// HEAD's parent, so what the amended commit brought in (perhaps with
    /// `--no-verify`) is judged too. See [`committing_amend`].
    pub amend: bool,
    /// The files a framework named (relative to the top of the work tree):
    /// only their changes are judged (see [`keep_named`]).
    pub files: Option<Vec<PathBuf>>,
    /// Read the named files from the working tree (no commit is being
    /// made: `pre-commit run --files new.py`), see [`files_change`].
    pub worktree: bool,
}

/// Is the hook running for `git commit --amend`? git tells a pre-commit
/// hook nothing about it (no variable, no argument), so the arguments of
/// the `git commit` that runs us are read where the system shows them
/// (Linux's `/proc`); elsewhere this answers `false` and the pre-push stage
/// is what catches a finding an amended `--no-verify` commit kept.
pub fn committing_amend() -> bool {
    #[cfg(target_os = "linux")]
    {
        // Up a few parents: git runs the hook directly, frameworks
        // (pre-commit, prek) put one or two processes between.
        let mut pid = std::os::unix::process::parent_id();
        for _ in 0..6 {
            if pid <= 1 {
                return false;
            }
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            let is_git = args.first().is_some_and(|a| a.rsplit(|&b| b == b'/').next() == Some(b"git"));
            if is_git && args.iter().any(|a| *a == b"commit") {
                return amends(&args[1..]);
            }
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
            // `pid (comm) state ppid ...`; comm may hold spaces and `)`.
            let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { return false };
            match after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
                Some(parent) => pid = parent,
                None => return false,
            }
        }
        false
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Do these `git ... commit ...` arguments amend? `--amend` or a prefix
/// git accepts for it (`--am`), before `--`, and not the value of an
/// option that takes one (`-m --amend`, `-qm --amend`, `--message --amend`).
fn amends(args: &[&[u8]]) -> bool {
    let mut value_next = false;
    for a in args {
        if std::mem::take(&mut value_next) {
            continue;
        }
        if *a == b"--" {
            break;
        }
        if a.len() >= 4 && b"--amend".starts_with(a) {
            return true;
        }
        value_next = match a {
            [b'-', b'-', long @ ..] => {
                !long.contains(&b'=')
                    && [&b"message"[..], b"file", b"reuse-message", b"reedit-message", b"author", b"date", b"cleanup"]
                        .iter()
                        .any(|o| o.starts_with(long) && !long.is_empty())
            }
            // A cluster of short options ends with one that takes a value.
            [b'-', short @ ..] => short.last().is_some_and(|c| b"mFcCt".contains(c)),
            _ => false,
        };
    }
    false
}

/// Checked by name: Python files and Jupyter notebooks.
fn is_python_name(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("py" | "pyw" | "ipynb"))
}

/// The paths a snapshot answers for.
fn is_listed(path: &Path) -> bool {
    is_python_name(path) || path == Path::new(CONFIG)
}

fn is_blob_mode(mode: u32) -> bool {
    // 100644 and 100755; not symlinks (120000) or gitlinks (160000).
    mode == 0o100644 || mode == 0o100755
}

/// The files of one git snapshot (the index, or a commit's tree), read from
/// the object database. Only `.py` paths are listed (they are what imports
/// can name), and the root `pyproject.toml` (the configuration).
pub struct GitTree {
    /// Shared with the base snapshot: one more handle, not two.
    repo: Arc<Mutex<Repository>>,
    /// `.py` paths of the snapshot, when listed up front (libgit2 path).
    entries: FxHashMap<OsString, Oid>,
    /// The parsed index, searched in place (fast path).
    index: Option<Arc<git_index::Index>>,
    /// Paths whose blob differs from what `entries`/`index` say (`None`:
    /// absent): how the base snapshot is told apart from the judged one
    /// without listing it again.
    overrides: FxHashMap<OsString, Option<Oid>>,
    /// Files read from the working tree (named by a framework), by path;
    /// their ids in `overrides` are hashed, not stored in the database.
    contents: FxHashMap<OsString, Arc<[u8]>>,
}

impl GitTree {
    fn new(repo: &Repository, index: Option<git_index::Index>) -> Result<Self, GitError> {
        // A handle of its own (blobs are read from several threads, one at
        // a time) on the caller's object database: wrapped, not opened
        // again, so the configuration and the packs are not read twice.
        // The caller's handle reads no object while the snapshot is
        // scanned on other threads.
        let handle = Repository::from_odb(repo.odb()?)?;
        Ok(GitTree {
            repo: Arc::new(Mutex::new(handle)),
            entries: FxHashMap::default(),
            index: index.map(Arc::new),
            overrides: FxHashMap::default(),
            contents: FxHashMap::default(),
        })
    }

    /// The base snapshot: this one with the deltas undone.
    fn base(&self, deltas: &[PathChange]) -> Result<GitTree, GitError> {
        let mut overrides = FxHashMap::default();
        for (path, _) in deltas.iter().filter_map(|d| d.new.as_ref()) {
            overrides.insert(path.clone().into_os_string(), None);
        }
        for (path, oid) in deltas.iter().filter_map(|d| d.old.as_ref()) {
            overrides.insert(path.clone().into_os_string(), Some(*oid));
        }
        Ok(GitTree {
            repo: Arc::clone(&self.repo),
            entries: self.entries.clone(),
            index: self.index.clone(),
            overrides,
            contents: FxHashMap::default(),
        })
    }

    /// Every Python file of the snapshot by name, and with `scripts` every
    /// file without an extension too (the caller tells scripts by their
    /// shebang), with its blob id, sorted by path bytes.
    pub fn python_blobs(&self, scripts: bool) -> Vec<(PathBuf, [u8; 20])> {
        let wanted = |p: &[u8]| {
            p.ends_with(b".py") || p.ends_with(b".pyw") || p.ends_with(b".ipynb") || (scripts && is_extensionless(p))
        };
        let raw = |o: &Oid| o.as_bytes().try_into().unwrap_or_default();
        // `entries` holds `.py` paths, the configuration and files without
        // an extension.
        let mut files: Vec<(PathBuf, [u8; 20])> = Vec::with_capacity(
            self.entries.len() + self.overrides.len() + self.index.as_ref().map_or(0, |i| i.entries.len() / 2),
        );
        files.extend(
            self.entries.iter().filter(|(p, _)| wanted(p.as_encoded_bytes())).map(|(p, o)| (PathBuf::from(p), raw(o))),
        );
        if let Some(index) = &self.index {
            // The index's ids as they are (SHA-1, as `git_index::read`
            // made sure): an `Oid` each would be a call into libgit2.
            for e in &index.entries {
                let bytes = index.path(e);
                if wanted(bytes) && is_blob_mode(e.mode) {
                    files.push((bytes_to_path(bytes), e.oid));
                }
            }
        }
        if !self.overrides.is_empty() {
            files.retain(|(p, _)| !self.overrides.contains_key(p.as_os_str()));
            files.extend(
                self.overrides
                    .iter()
                    .filter(|(p, _)| wanted(p.as_encoded_bytes()))
                    .filter_map(|(p, o)| o.as_ref().map(|o| (PathBuf::from(p), raw(o)))),
            );
        }
        // Compared as bytes: `Path`'s own comparisons walk components, and
        // the index is already in this order (the common case sorts nothing).
        if !files.is_sorted_by(|a, b| a.0.as_os_str().as_encoded_bytes() < b.0.as_os_str().as_encoded_bytes()) {
            files.sort_unstable_by(|a, b| a.0.as_os_str().as_encoded_bytes().cmp(b.0.as_os_str().as_encoded_bytes()));
            files.dedup_by(|a, b| a.0.as_os_str() == b.0.as_os_str());
        }
        files
    }

    fn insert(&mut self, path: &[u8], oid: Oid, mode: u32) {
        if !is_blob_mode(mode) {
            return;
        }
        let path = bytes_to_path(path);
        if is_listed(&path) || path.extension().is_none() || crate::deps::is_dependency_file(&path) {
            self.entries.insert(path.into_os_string(), oid);
        }
    }

    fn lookup(&self, path: &Path) -> Option<Oid> {
        if let Some(oid) = self.overrides.get(path.as_os_str()) {
            return *oid;
        }
        if let Some(oid) = self.entries.get(path.as_os_str()) {
            return Some(*oid);
        }
        let index = self.index.as_ref()?;
        if !is_listed(path) && path.extension().is_some() && !crate::deps::is_dependency_file(path) {
            return None;
        }
        // As bytes: a path need not be UTF-8.
        let entry = index.find(path.as_os_str().as_encoded_bytes())?;
        is_blob_mode(entry.mode).then(|| Oid::from_bytes(&entry.oid).ok()).flatten()
    }

    fn blob(&self, path: &Path) -> io::Result<Vec<u8>> {
        if let Some(bytes) = self.contents.get(path.as_os_str()) {
            return Ok(bytes.to_vec());
        }
        let oid = self.lookup(path).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not in the snapshot"))?;
        read_blob(&self.repo.lock().unwrap_or_else(|e| e.into_inner()), oid)
    }

    /// The blob id at `path`, if the snapshot holds one.
    pub fn blob_id(&self, path: &Path) -> Option<Oid> {
        self.lookup(path)
    }
}

fn read_blob(repo: &Repository, oid: Oid) -> io::Result<Vec<u8>> {
    repo.find_blob(oid).map(|b| b.content().to_vec()).map_err(|e| io::Error::other(e.message().to_string()))
}

#[cfg(unix)]
fn bytes_to_path(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn bytes_to_path(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

impl SourceTree for GitTree {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.blob(path)
    }

    fn is_file(&self, path: &Path) -> bool {
        self.lookup(path).is_some()
    }

    fn size(&self, path: &Path) -> Option<u64> {
        if let Some(bytes) = self.contents.get(path.as_os_str()) {
            return Some(bytes.len() as u64);
        }
        // The object's header only: the limit is checked before reading.
        let oid = self.lookup(path)?;
        let repo = self.repo.lock().unwrap_or_else(|e| e.into_inner());
        repo.odb().and_then(|odb| odb.read_header(oid)).ok().map(|(size, _)| size as u64)
    }

    fn project_root(&self, _dir: &Path) -> Option<PathBuf> {
        Some(PathBuf::new())
    }

    fn python_files(&self) -> Option<Vec<PathBuf>> {
        Some(self.python_blobs(false).into_iter().map(|(p, _)| p).collect())
    }
}

/// Find the change to judge in `repo`.
pub fn change(repo: &Repository, spec: &ChangeSpec) -> Result<Change, GitError> {
    if let Some(files) = spec.files.as_ref().filter(|_| spec.worktree && spec.refs.is_none() && !spec.all) {
        return files_change(repo, files, spec);
    }
    let mut change = snapshot_change(repo, spec)?;
    if let Some(named) = spec.files.as_ref().filter(|_| !spec.all) {
        keep_named(repo, &mut change, named)?;
    }
    Ok(change)
}

/// A framework names the files to judge (after its `exclude:`): the other
/// changes count as unchanged, except what it cannot name: deletions, the
/// configuration, and files not in the working tree (a push of a branch
/// that is not checked out).
fn keep_named(repo: &Repository, change: &mut Change, named: &[PathBuf]) -> Result<(), GitError> {
    let workdir = repo.workdir().map(Path::to_path_buf).unwrap_or_default();
    // Files, or directories holding them.
    let kept = |p: &Path| named.iter().any(|n| p.starts_with(n)) || !workdir.join(p).exists();
    change.deltas.retain(|d| match &d.new {
        None => true,
        Some((new, _)) => d.is_config() || kept(new) || d.old.as_ref().is_some_and(|(old, _)| kept(old)),
    });
    change.files.retain(|f| kept(&f.path));
    change.base = change.tree.base(&change.deltas)?;
    Ok(())
}

/// The change of the index (or of a range of commits) over its base.
fn snapshot_change(repo: &Repository, spec: &ChangeSpec) -> Result<Change, GitError> {
    if spec.refs.is_none()
        && !spec.all
        && !spec.amend
        && !spec.libgit2_only
        && let Some(change) = fast_change(repo, spec)?
    {
        return Ok(change);
    }
    let mut tree = GitTree::new(repo, None)?;
    let mut notes = Vec::new();
    let (old, new_tree, index);
    let mut diff = match &spec.refs {
        Some((from, to)) => {
            // The empty tree need not be stored: no tree is the same.
            let from_tree = if from == EMPTY_TREE { None } else { Some(peel_tree(repo, from)?) };
            let to_tree = peel_tree(repo, to)?;
            to_tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                let path = format!("{dir}{}", entry.name().unwrap_or(""));
                tree.insert(path.as_bytes(), entry.id(), entry.filemode() as u32);
                git2::TreeWalkResult::Ok
            })?;
            old = from_tree;
            new_tree = Some(to_tree);
            repo.diff_tree_to_tree(old.as_ref(), new_tree.as_ref(), Some(&mut diff_options()))?
        }
        None => {
            if spec.all || spec.libgit2_only {
                // Not parsed by the fast path yet: libgit2 must not see a
                // corrupt one (it trusts the counts it reads).
                git_index::read(repo, spec.index_file.as_deref()).map_err(|e| corrupt_index(repo, spec, e))?;
            }
            index = repo.index().map_err(|e| match e.message().contains("'sdir'") {
                // libgit2 cannot read git's sparse index: say how to go on.
                true => GitError::Git(git2::Error::from_str(
                    "the index is a sparse index, which flask-bind-guard (libgit2) cannot read; \
                     run `git sparse-checkout reapply --no-sparse-index` (the checkout stays sparse), then commit again",
                )),
                false => e.into(),
            })?;
            if index.has_conflicts() {
                let mut paths: Vec<String> = index
                    .conflicts()?
                    .filter_map(|c| c.ok())
                    .filter_map(|c| c.our.or(c.their).or(c.ancestor))
                    .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                    .collect();
                paths.sort();
                paths.dedup();
                return Err(GitError::Conflicts(paths));
            }
            for entry in index.iter() {
                tree.insert(&entry.path, entry.id, entry.mode);
            }
            old = if spec.amend { amended_parent_tree(repo)? } else { head_tree(repo)? };
            repo.diff_tree_to_index(old.as_ref(), Some(&index), Some(&mut diff_options()))?
        }
    };
    if spec.all {
        let files: Vec<ChangedFile> =
            tree.python_blobs(true).into_iter().map(|(path, _)| ChangedFile { path, added: Added::All }).collect();
        let base = tree.base(&[])?;
        return Ok(Change { files, tree, base, deltas: Vec::new(), notes });
    }
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
    let (mut files, mut deltas) = (Vec::new(), Vec::new());
    for (i, delta) in diff.deltas().enumerate() {
        let status = delta.status();
        if !matches!(
            status,
            Delta::Added | Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange | Delta::Deleted
        ) {
            continue;
        }
        // The base side, when it was a Python file (or the configuration).
        let old_side = match status {
            Delta::Added | Delta::Copied => None,
            _ => side(repo, &delta.old_file()),
        };
        let new_side = match status {
            Delta::Deleted => None,
            _ => side(repo, &delta.new_file()),
        };
        let new = delta.new_file();
        let python = match (status, new.path()) {
            (Delta::Deleted, _) | (_, None) => None,
            _ if !matches!(new.mode(), FileMode::Blob | FileMode::BlobExecutable) => None,
            (_, Some(path)) if path == Path::new(CONFIG) => None,
            (_, Some(path)) => {
                let path = path.to_path_buf();
                match repo.find_blob(new.id()) {
                    Ok(blob) => python_blob(&blob, &path, spec, &mut notes).map(|p| (path, p)),
                    Err(_) => None,
                }
            }
        };
        // A file no longer checked (grown over the limit, made binary)
        // counts in the base only.
        let new_side = if python.is_some() || new_side.as_ref().is_some_and(|(p, _)| p == Path::new(CONFIG)) {
            new_side
        } else {
            None
        };
        if let Some((path, python)) = python {
            if python == Python::ByShebang {
                // Shebang scripts are not importable, but they are checked.
                tree.entries.insert(path.clone().into_os_string(), new.id());
            }
            let added = if crate::notebook::is_notebook(&path) {
                let old_id = delta.old_file().id();
                let old = if old_id.is_zero() { None } else { repo.find_blob(old_id).ok() };
                let new = repo.find_blob(new.id())?;
                notebook_added(&path, old.as_ref().map_or(&[][..], |b| b.content()), new.content())?
            } else {
                git2::Patch::from_diff(&diff, i)?.map(|p| added_lines(&p)).transpose()?.flatten()
            };
            if let Some(added) = added {
                files.push(ChangedFile { path, added });
            }
        }
        if old_side.is_some() || new_side.is_some() {
            deltas.push(PathChange { old: old_side, new: new_side });
        }
    }
    // A framework's push names the files to judge (after its `exclude:`):
    // the other changes of the range count as unchanged.
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let base = tree.base(&deltas)?;
    Ok(Change { files, tree, base, deltas, notes })
}

/// The change a framework names (pre-commit and prek pass the files to
/// check, laid out in the working tree as they will be committed: unstaged
/// edits stashed): the index with `files` (relative to the top of the work
/// tree) read from the working tree, against the index with those files as
/// HEAD has them. Only the named files are changes; whatever else is staged
/// is the same on both sides, so a file the framework leaves out (its
/// `exclude:`) is not judged.
pub fn files_change(repo: &Repository, files: &[PathBuf], spec: &ChangeSpec) -> Result<Change, GitError> {
    let workdir = repo.workdir().ok_or_else(|| GitError::NotARepository("a bare repository has no files".into()))?;
    let mut tree = match git_index::read(repo, spec.index_file.as_deref()).map_err(|e| corrupt_index(repo, spec, e))? {
        Some(index) => GitTree::new(repo, Some(index))?,
        None => {
            let mut tree = GitTree::new(repo, None)?;
            let index = repo.index()?;
            for entry in index.iter() {
                tree.insert(&entry.path, entry.id, entry.mode);
            }
            tree
        }
    };
    // An amend is judged against the commit it replaces' parent.
    let head = if spec.amend { amended_parent_tree(repo)? } else { head_tree(repo)? };
    let (mut changed, mut deltas, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    for path in files {
        let Ok(bytes) = std::fs::read(workdir.join(path)) else { continue };
        let old = match head.as_ref().map(|t| t.get_path(path)) {
            Some(Ok(e)) if e.kind() == Some(git2::ObjectType::Blob) && is_blob_mode(e.filemode() as u32) => {
                repo.find_blob(e.id()).ok()
            }
            _ => None,
        };
        let bytes = as_committed(bytes, old.as_ref().map(|b| b.content()));
        let by_name = is_python_name(path);
        let python = |b: &[u8]| by_name || (path.extension().is_none() && crate::scan::has_python_shebang(b));
        let new_python = python(&bytes) || path == Path::new(CONFIG);
        let old_side =
            old.as_ref().filter(|b| python(b.content()) || path == Path::new(CONFIG)).map(|b| (path.clone(), b.id()));
        let oid = Oid::hash_object(git2::ObjectType::Blob, &bytes)?;
        if old.as_ref().is_some_and(|b| b.id() == oid) || !new_python {
            continue;
        }
        if bytes.len() as u64 > spec.max_file_size && path != Path::new(CONFIG) {
            notes.push((path.clone(), format!("skipped: {} bytes is over the size limit", bytes.len())));
            continue;
        }
        let key = path.clone().into_os_string();
        tree.overrides.insert(key.clone(), Some(oid));
        deltas.push(PathChange { old: old_side, new: Some((path.clone(), oid)) });
        if path != Path::new(CONFIG) {
            let before = old.as_ref().map_or(&[][..], |b| b.content());
            if let Some(added) = added_between(path, before, &bytes)? {
                changed.push(ChangedFile { path: path.clone(), added });
            }
        }
        tree.contents.insert(key, Arc::from(bytes));
    }
    changed.sort_by(|a, b| a.path.cmp(&b.path));
    let base = tree.base(&deltas)?;
    Ok(Change { files: changed, tree, base, deltas, notes })
}

/// A working-tree file in the form git would commit it, as far as line
/// endings go: a checkout with CRLF (`core.autocrlf`, `eol=crlf`) of a
/// file committed with LF is compared as LF, so an unchanged line is not
/// taken for an added one.
fn as_committed(bytes: Vec<u8>, committed: Option<&[u8]>) -> Vec<u8> {
    let crlf = memchr::memmem::find(&bytes, b"\r\n").is_some();
    let committed_lf = committed.is_some_and(|c| memchr::memmem::find(c, b"\r\n").is_none());
    if !(crlf && committed_lf) {
        return bytes;
    }
    // Bytes, not text: the file need not be UTF-8.
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if !(b == b'\r' && bytes.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

/// Does every one of `files` (relative to the top of the work tree) differ
/// from HEAD in the working tree? (What a framework names at commit time:
/// staged files. `run --all-files` names files that do not.)
pub fn all_differ_from_head(repo: &Repository, files: &[PathBuf]) -> Result<bool, GitError> {
    let Some(workdir) = repo.workdir() else { return Ok(false) };
    let head = head_tree(repo)?;
    for path in files {
        let Ok(bytes) = std::fs::read(workdir.join(path)) else { continue };
        let old = head.as_ref().and_then(|t| t.get_path(path).ok()).and_then(|e| repo.find_blob(e.id()).ok());
        let bytes = as_committed(bytes, old.as_ref().map(|b| b.content()));
        let oid = Oid::hash_object(git2::ObjectType::Blob, &bytes)?;
        if old.is_some_and(|b| b.id() == oid) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// git's empty tree: the base of a push to a remote with none of its
/// commits. It need not be in the object database (see [`peel_tree`]).
pub const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/// Where a push of `to` starts: the parent of the oldest commit reachable
/// from `to` that no ref of `remote` (of any remote, when unknown) has; the
/// empty tree when that commit is a root (an empty remote); `to` itself
/// when the remote has everything.
pub fn push_base(repo: &Repository, to: &str, remote: Option<&str>) -> Result<String, GitError> {
    let tip = repo
        .revparse_single(to)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| GitError::BadRef(to.to_string(), e.message().to_string()))?;
    let mut walk = repo.revwalk()?;
    walk.push(tip.id())?;
    let glob = match remote {
        Some(name) => format!("refs/remotes/{name}/*"),
        None => "refs/remotes/*".to_string(),
    };
    for reference in repo.references_glob(&glob)?.flatten() {
        if let Ok(commit) = reference.peel_to_commit() {
            walk.hide(commit.id())?;
        }
    }
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    let Some(oldest) = walk.next().transpose()? else { return Ok(tip.id().to_string()) };
    let oldest = repo.find_commit(oldest)?;
    Ok(match oldest.parent_id(0) {
        Ok(parent) => parent.to_string(),
        Err(_) => EMPTY_TREE.to_string(),
    })
}

/// One side of a diff delta, when it is a Python file (by name, or by
/// shebang for a file without an extension) or the configuration.
fn side(repo: &Repository, file: &git2::DiffFile) -> Option<(PathBuf, Oid)> {
    let path = file.path()?;
    if !matches!(file.mode(), FileMode::Blob | FileMode::BlobExecutable) || file.id().is_zero() {
        return None;
    }
    let listed = is_listed(path)
        || (path.extension().is_none()
            && repo.find_blob(file.id()).is_ok_and(|b| crate::scan::has_python_shebang(b.content())));
    listed.then(|| (path.to_path_buf(), file.id()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Python {
    ByName,
    ByShebang,
}

/// Is this staged blob a Python file to check? Symlinks and gitlinks are
/// filtered by the caller; binary blobs are skipped, oversized ones noted.
fn python_blob(
    blob: &git2::Blob,
    path: &Path,
    spec: &ChangeSpec,
    notes: &mut Vec<(PathBuf, String)>,
) -> Option<Python> {
    let by_name = is_python_name(path);
    if !by_name && path.extension().is_some() {
        return None;
    }
    // A script is known by its first line: large data files without one
    // are not Python, not skipped Python.
    if !by_name && !crate::scan::has_python_shebang(blob.content()) {
        return None;
    }
    if blob.size() as u64 > spec.max_file_size {
        notes.push((path.to_path_buf(), format!("skipped: {} bytes is over the size limit", blob.size())));
        return None;
    }
    if blob.is_binary() {
        return None;
    }
    Some(if by_name { Python::ByName } else { Python::ByShebang })
}

/// The lines `new` adds over `old` (the contents of `path` before and
/// after); `None` if it adds none.
fn added_between(path: &Path, old: &[u8], new: &[u8]) -> Result<Option<Added>, git2::Error> {
    if crate::notebook::is_notebook(path) {
        return notebook_added(path, old, new);
    }
    let patch = git2::Patch::from_buffers(old, Some(path), new, Some(path), Some(&mut diff_options()))?;
    added_lines(&patch)
}

/// A notebook's added lines are lines of its code (the joined code cells),
/// which findings are placed on: an edit of a markdown cell or of outputs
/// adds none. A notebook that cannot be read counts as all new (loading it
/// reports why); an unreadable base as none.
fn notebook_added(path: &Path, old: &[u8], new: &[u8]) -> Result<Option<Added>, git2::Error> {
    let Ok(new) = crate::notebook::parse(new) else { return Ok(Some(Added::All)) };
    let old =
        if old.is_empty() { String::new() } else { crate::notebook::parse(old).map(|n| n.text).unwrap_or_default() };
    let patch = git2::Patch::from_buffers(
        old.as_bytes(),
        Some(path),
        new.text.as_bytes(),
        Some(path),
        Some(&mut diff_options()),
    )?;
    added_lines(&patch)
}

/// The new-side line ranges of a zero-context patch; `None` if it adds none.
fn added_lines(patch: &git2::Patch) -> Result<Option<Added>, git2::Error> {
    let mut ranges = Vec::new();
    for h in 0..patch.num_hunks() {
        let (hunk, _) = patch.hunk(h)?;
        let (start, count) = (hunk.new_start() as usize, hunk.new_lines() as usize);
        if count > 0 {
            ranges.push((start, start + count - 1));
        }
    }
    Ok((!ranges.is_empty()).then_some(Added::Lines(ranges)))
}

/// The common commit (files added or modified, nothing deleted) found
/// through the index's cache tree, as git does; `None` to use libgit2.
pub fn fast_change(repo: &Repository, spec: &ChangeSpec) -> Result<Option<Change>, GitError> {
    let index = match git_index::read(repo, spec.index_file.as_deref()) {
        Ok(Some(index)) => index,
        Ok(None) => return Ok(None),
        Err(e) => return Err(corrupt_index(repo, spec, e)),
    };
    let head = git_index::head_tree(repo)?;
    let Some(changed) = index.changed(repo, head) else { return Ok(None) };
    let head_tree = match head {
        Some(oid) => Some(repo.find_tree(oid)?),
        None => None,
    };
    let mut tree = GitTree::new(repo, Some(index))?;
    let (mut files, mut notes, mut deltas) = (Vec::new(), Vec::new(), Vec::new());
    for (path_bytes, entry) in changed {
        let Some(entry) = entry else { continue };
        if !is_blob_mode(entry.mode) {
            continue;
        }
        let path = bytes_to_path(&path_bytes);
        let oid = Oid::from_bytes(&entry.oid)?;
        let old_blob = match head_tree.as_ref().map(|t| t.get_path(&path)) {
            Some(Ok(e)) if e.kind() == Some(git2::ObjectType::Blob) && is_blob_mode(e.filemode() as u32) => {
                Some(repo.find_blob(e.id())?)
            }
            _ => None,
        };
        let old_side = |python: bool| old_blob.as_ref().filter(|_| python).map(|b| (path.clone(), b.id()));
        if path == Path::new(CONFIG) {
            deltas.push(PathChange { old: old_side(true), new: Some((path, oid)) });
            continue;
        }
        let new_blob = repo.find_blob(oid)?;
        let old_python = is_python_name(&path)
            || (path.extension().is_none()
                && old_blob.as_ref().is_some_and(|b| crate::scan::has_python_shebang(b.content())));
        let Some(python) = python_blob(&new_blob, &path, spec, &mut notes) else {
            if old_python {
                // No longer checked (grown over the limit, made binary):
                // the base still counts its findings.
                deltas.push(PathChange { old: old_side(true), new: None });
            }
            continue;
        };
        if python == Python::ByShebang {
            tree.entries.insert(path.clone().into_os_string(), oid);
        }
        deltas.push(PathChange { old: old_side(old_python), new: Some((path.clone(), oid)) });
        let old = old_blob.as_ref().map_or(&[][..], |b| b.content());
        if let Some(added) = added_between(&path, old, new_blob.content())? {
            files.push(ChangedFile { path, added });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let base = tree.base(&deltas)?;
    Ok(Some(Change { files, tree, base, deltas, notes }))
}

fn corrupt_index(repo: &Repository, spec: &ChangeSpec, e: git_index::Corrupt) -> GitError {
    let path = spec.index_file.clone().unwrap_or_else(|| repo.path().join("index"));
    GitError::Git(git2::Error::from_str(&format!("the index file {} is corrupt ({e})", path.display())))
}

fn diff_options() -> DiffOptions {
    let mut o = DiffOptions::new();
    o.context_lines(0).include_typechange(true).ignore_submodules(true);
    o
}

/// The tree of the commit an amend replaces HEAD's with: HEAD's first
/// parent (`None` when HEAD is a root commit, or before the first commit).
fn amended_parent_tree(repo: &Repository) -> Result<Option<git2::Tree<'_>>, GitError> {
    let head = match repo.head() {
        Ok(head) => head.peel_to_commit()?,
        Err(e) if matches!(e.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    match head.parent(0) {
        Ok(parent) => Ok(Some(parent.tree()?)),
        Err(_) => Ok(None),
    }
}

/// HEAD's tree, or `None` before the first commit.
fn head_tree(repo: &Repository) -> Result<Option<git2::Tree<'_>>, GitError> {
    match repo.head() {
        Ok(head) => Ok(Some(head.peel_to_tree()?)),
        Err(e) if matches!(e.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn peel_tree<'r>(repo: &'r Repository, spec: &str) -> Result<git2::Tree<'r>, GitError> {
    repo.revparse_single(spec)
        .and_then(|o| o.peel_to_tree())
        .map_err(|e| GitError::BadRef(spec.to_string(), e.message().to_string()))
}

/// The directory git runs hooks from: `core.hooksPath` (relative to the
/// work tree) or the common directory's `hooks/` (shared by worktrees).
pub fn hooks_dir(repo: &Repository) -> PathBuf {
    let configured = repo.config().ok().and_then(|c| c.get_path("core.hooksPath").ok());
    match configured {
        Some(p) if p.is_absolute() => p,
        Some(p) => repo.workdir().unwrap_or_else(|| repo.path()).join(p),
        None => repo.commondir().join("hooks"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amend(args: &str) -> bool {
        let args: Vec<&[u8]> = args.split(' ').map(str::as_bytes).collect();
        amends(&args)
    }

    #[test]
    fn amend_is_read_as_git_parses_it() {
        assert!(amend("commit --amend"));
        assert!(amend("commit -a --amend --no-edit"));
        assert!(amend("commit --am -m x"));
        assert!(amend("commit --amen"));
        assert!(amend("commit -m x --amend"));
        assert!(!amend("commit -m --amend"));
        assert!(!amend("commit -qm --amend"));
        assert!(!amend("commit --message --amend"));
        assert!(!amend("commit -- --amend"));
        assert!(!amend("commit --a"));
        assert!(!amend("commit --all"));
    }
}
