//! `--fix` in staged mode: the fix goes into the index (what the commit
//! takes) and, line by line, into the working tree only where the working
//! tree still holds exactly the staged line, so unstaged work survives.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git2::{Index, IndexTime, ObjectType, Oid, Repository};

use crate::fix::{self, FileFix};
use crate::git::GitError;
use crate::scan::ScanOutcome;

/// What a staged fix did.
#[derive(Debug, Default)]
pub struct StagedFix {
    pub fixes: Vec<FileFix>,
    pub unfixable: Vec<fix::Unfixable>,
    /// Files whose working tree was left alone, and why.
    pub worktree_kept: Vec<(PathBuf, String)>,
}

fn refused(message: String) -> GitError {
    GitError::Git(git2::Error::from_str(&message))
}

/// One index entry to change: path, the blob that was checked, the fixed blob.
struct Update<'f> {
    path: &'f Path,
    checked: Oid,
    fixed: Oid,
}

/// Plan the fixes of a staged check, and with `write` put them into the
/// index `index_file` (default: the repository's) and the working tree.
/// Each index is changed under git's lock, and only if every entry to fix
/// still holds the blob that was checked: otherwise (a `git add` since,
/// another git process holding the lock) nothing is changed.
pub fn fix_staged(
    repo: &Repository,
    outcome: &ScanOutcome,
    index_file: Option<&Path>,
    write: bool,
) -> Result<StagedFix, GitError> {
    let mut result = StagedFix::default();
    let Some(project) = &outcome.project else { return Ok(result) };
    let changed = outcome.changed.clone().unwrap_or_default();
    let (fixes, notes) = fix::fix_all(project, &outcome.reports, &|p| changed.contains(p));
    result.unfixable.extend(notes);
    let planned: Vec<FileFix> = fixes.into_iter().map(|(_, f)| f).collect();
    if !write || planned.is_empty() {
        result.fixes = planned;
        return Ok(result);
    }
    let mut updates = Vec::new();
    for f in &planned {
        let checked = Oid::hash_object(ObjectType::Blob, &f.old_bytes)?;
        let fixed = repo.blob(&f.new_bytes)?;
        updates.push(Update { path: &f.path, checked, fixed });
    }
    let primary = index_file.map(Path::to_path_buf).unwrap_or_else(|| repo.path().join("index"));
    let mut indexes = vec![primary.clone()];
    if let Some(real) = real_index_of_partial_commit(repo, &primary) {
        indexes.push(real);
    }
    write_indexes(&indexes, &updates)?;
    if let Some(workdir) = repo.workdir() {
        for (f, u) in planned.iter().zip(&updates) {
            if let Err(reason) = fix_worktree(repo, workdir, f, u) {
                result.worktree_kept.push((f.path.clone(), reason));
            }
        }
    }
    result.fixes = planned;
    Ok(result)
}

/// `git commit <paths>` commits from a temporary index
/// (`<gitdir>/next-index-<pid>.lock`) and meanwhile writes the same paths
/// into the real index under its lock (`<gitdir>/index.lock`), which it
/// installs after the commit. A fix put only into the first would be
/// reverted in the index after the commit (`git status`: `MM`), so the
/// second is fixed too. Only that exact layout is recognised: git holds
/// the lock for us, and no other process may be writing it.
fn real_index_of_partial_commit(repo: &Repository, index: &Path) -> Option<PathBuf> {
    let name = index.file_name()?.to_str()?;
    if !(name.starts_with("next-index-") && name.ends_with(".lock")) {
        return None;
    }
    let gitdir = std::fs::canonicalize(repo.path()).ok()?;
    let parent = index.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if std::fs::canonicalize(parent).ok()? != gitdir {
        return None;
    }
    let real = gitdir.join("index.lock");
    real.is_file().then_some(real)
}

/// Removes the lock files it holds unless they were renamed into place.
struct Locks(Vec<(PathBuf, PathBuf, Option<File>)>);

impl Drop for Locks {
    fn drop(&mut self) {
        for (lock, _, file) in &mut self.0 {
            if file.take().is_some() {
                let _ = std::fs::remove_file(lock);
            }
        }
    }
}

/// Apply `updates` to every index of `indexes`, all or none: each is
/// locked (`<index>.lock`, as git does) before any is read, every entry is
/// checked against the blob that was scanned, and only then are the new
/// indexes renamed into place.
fn write_indexes(indexes: &[PathBuf], updates: &[Update<'_>]) -> Result<(), GitError> {
    let mut locks = Locks(Vec::new());
    for index in indexes {
        let mut lock = index.clone().into_os_string();
        lock.push(".lock");
        let lock = PathBuf::from(lock);
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&lock) {
            Ok(file) => locks.0.push((lock, index.clone(), Some(file))),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(refused(
                    "the index is locked (another git process is running?); nothing was changed".into(),
                ));
            }
            Err(e) => return Err(refused(format!("cannot lock {}: {e}; nothing was changed", index.display()))),
        }
    }
    // The new contents, built while every lock is held.
    let mut contents = Vec::new();
    for (_, index, _) in &locks.0 {
        contents.push(updated_index(index, updates)?);
    }
    for ((lock, index, file), bytes) in locks.0.iter_mut().zip(contents) {
        let Some(mut f) = file.take() else { continue };
        let written = f.write_all(&bytes).and_then(|()| f.sync_all());
        drop(f);
        if let Err(e) = written.and_then(|()| std::fs::rename(&*lock, &*index)) {
            let _ = std::fs::remove_file(&*lock);
            return Err(refused(format!("cannot write {}: {e}", index.display())));
        }
    }
    Ok(())
}

/// The bytes of `index` with `updates` applied, read and built in a scratch
/// copy (libgit2 writes an index only through its own lock, which we hold).
fn updated_index(index: &Path, updates: &[Update<'_>]) -> Result<Vec<u8>, GitError> {
    let io = |e: std::io::Error| refused(format!("cannot read {}: {e}; nothing was changed", index.display()));
    let current = std::fs::read(index).map_err(io)?;
    let dir = index.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut scratch = tempfile::Builder::new().prefix(".flask-bind-guard-index-").tempfile_in(dir).map_err(io)?;
    scratch.write_all(&current).map_err(io)?;
    let mut copy = Index::open(scratch.path())?;
    for u in updates {
        let Some(mut entry) = copy.get_path(u.path, 0) else {
            return Err(refused(format!(
                "{} is no longer staged; nothing was changed: run the fix again",
                u.path.display()
            )));
        };
        if entry.id != u.checked {
            return Err(refused(format!(
                "{} was staged again while it was being checked; nothing was changed: run the fix again",
                u.path.display()
            )));
        }
        entry.id = u.fixed;
        // Unknown stat data (size 0 included: the working-tree file may be
        // longer, with CRLF): git compares content instead of trusting it.
        entry.file_size = 0;
        entry.ctime = IndexTime::new(0, 0);
        entry.mtime = IndexTime::new(0, 0);
        copy.add(&entry)?;
    }
    copy.write()?;
    std::fs::read(scratch.path()).map_err(io)
}

/// Carry the staged fix `f` into the working-tree file: each changed block
/// of staged lines is replaced only where the working tree holds exactly
/// those lines; otherwise the file is left as it is.
///
/// Lines are compared as bytes, so a legacy encoding or a BOM is kept as
/// it is. The working tree may hold the file in another form than the
/// index (`core.autocrlf`, `eol=crlf`, clean/smudge filters): when the
/// staged lines are not found as they are, they are looked for in their
/// working-tree form, which git makes (`git cat-file --filters`).
fn fix_worktree(repo: &Repository, workdir: &Path, f: &FileFix, u: &Update<'_>) -> Result<(), String> {
    let path = workdir.join(&f.path);
    let meta = std::fs::symlink_metadata(&path).map_err(|e| format!("cannot read it: {e}"))?;
    if meta.file_type().is_symlink() {
        // The index holds a file there, the working tree a link: an
        // unstaged change of its own, and its target may be anywhere.
        return Err("it is a symbolic link in the working tree; fix the file it points to by hand".into());
    }
    let worktree = std::fs::read(&path).map_err(|e| format!("cannot read it: {e}"))?;
    let fixed = match remap(&f.old_bytes, &f.new_bytes, &worktree) {
        Some(fixed) => fixed,
        None => {
            let old = worktree_form(repo, workdir, &f.path, u.checked);
            let new = worktree_form(repo, workdir, &f.path, u.fixed);
            match (old, new) {
                (Some(old), Some(new)) if old != f.old_bytes => {
                    remap(&old, &new, &worktree).ok_or("it has unstaged edits on the fixed lines")?
                }
                _ => return Err("it has unstaged edits on the fixed lines".into()),
            }
        }
    };
    if fixed == worktree {
        return Ok(());
    }
    fix::write_atomically(&path, &fixed).map_err(|e| format!("cannot write it: {e}"))
}

/// The blob `id` as git would check it out at `path` (line endings,
/// filters); `None` if git cannot say. libgit2 can do this in C, but the
/// Rust binding does not expose it, and only git runs clean/smudge filters.
fn worktree_form(repo: &Repository, workdir: &Path, path: &Path, id: Oid) -> Option<Vec<u8>> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(repo.path())
        .arg("--work-tree")
        .arg(workdir)
        .args(["cat-file", "--filters"])
        .arg(format!("--path={}", path.to_str()?))
        .arg(id.to_string())
        .current_dir(workdir)
        .env_remove("GIT_INDEX_FILE")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

/// The change `old -> new` carried over to `other` (a variant of `old`),
/// or `None` if a changed line of `old` is not in `other` unchanged. Lines
/// end at `\n` bytes, which every encoding Python reads (ASCII-based)
/// keeps for newlines only.
pub fn remap(old: &[u8], new: &[u8], other: &[u8]) -> Option<Vec<u8>> {
    use similar::{Algorithm, DiffOp, capture_diff_slices};
    let lines = |b: &[u8]| -> Vec<Vec<u8>> { b.split_inclusive(|&c| c == b'\n').map(<[u8]>::to_vec).collect() };
    let (old_lines, new_lines, other_lines) = (lines(old), lines(new), lines(other));
    // Where each line of `old` stands in `other`, if unchanged there.
    let mut at: Vec<Option<usize>> = vec![None; old_lines.len()];
    for op in capture_diff_slices(Algorithm::Myers, &old_lines, &other_lines) {
        if let DiffOp::Equal { old_index, new_index, len } = op {
            for k in 0..len {
                at[old_index + k] = Some(new_index + k);
            }
        }
    }
    let mut result: Vec<Vec<u8>> = other_lines.clone();
    let mut removed = vec![false; other_lines.len()];
    for op in capture_diff_slices(Algorithm::Myers, &old_lines, &new_lines) {
        let (old_index, old_len, new_index, new_len) = match op {
            DiffOp::Equal { .. } => continue,
            DiffOp::Replace { old_index, old_len, new_index, new_len } => (old_index, old_len, new_index, new_len),
            DiffOp::Delete { old_index, old_len, new_index } => (old_index, old_len, new_index, 0),
            DiffOp::Insert { .. } => return None,
        };
        // The block must stand unchanged and contiguous in `other`.
        let first = at.get(old_index).copied().flatten()?;
        for k in 0..old_len {
            if at[old_index + k] != Some(first + k) {
                return None;
            }
        }
        result[first] = new_lines[new_index..new_index + new_len].concat();
        for k in 1..old_len {
            removed[first + k] = true;
        }
    }
    Some(result.into_iter().zip(removed).filter(|(_, r)| !r).flat_map(|(l, _)| l).collect())
}

#[cfg(test)]
mod tests {
    fn remap(old: &str, new: &str, other: &str) -> Option<String> {
        super::remap(old.as_bytes(), new.as_bytes(), other.as_bytes()).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn carries_a_line_fix_over_unstaged_edits_elsewhere() {
        let old = "a\nhost='0.0.0.0'\nb\n";
        let new = "a\nhost='127.0.0.1'\nb\n";
        let other = "# new comment\na\nhost='0.0.0.0'\nb\nc\n";
        assert_eq!(remap(old, new, other).unwrap(), "# new comment\na\nhost='127.0.0.1'\nb\nc\n");
    }

    #[test]
    fn refuses_when_the_fixed_line_was_edited() {
        let old = "a\nhost='0.0.0.0'\n";
        let new = "a\nhost='127.0.0.1'\n";
        assert_eq!(remap(old, new, "a\nhost='0.0.0.0', port=1\n"), None);
    }

    #[test]
    fn joins_a_concatenation_spread_over_lines() {
        let old = "run(host=('0.0.'\n  '0.0'))\nx\n";
        let new = "run(host=('127.0.0.1'))\nx\n";
        assert_eq!(remap(old, new, "run(host=('0.0.'\n  '0.0'))\nx\ny\n").unwrap(), "run(host=('127.0.0.1'))\nx\ny\n");
    }
}
