//! `--fix` in staged mode: the fix goes into the index (what the commit
//! takes) and, line by line, into the working tree only where the working
//! tree still holds exactly the staged line, so unstaged work survives.

use std::path::{Path, PathBuf};

use git2::{Index, IndexTime, Repository};

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

/// Plan the fixes of a staged check, and with `write` put them into the
/// index `index_file` (default: the repository's) and the working tree.
/// The index is written under git's lock: if another process holds it,
/// nothing is changed.
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
    let planned: Vec<(Vec<u8>, FileFix)> = fixes.into_iter().map(|(_, f)| (f.new_bytes.clone(), f)).collect();
    if !write || planned.is_empty() {
        result.fixes = planned.into_iter().map(|(_, f)| f).collect();
        return Ok(result);
    }
    let mut index = match index_file {
        Some(path) => Index::open(path)?,
        None => repo.index()?,
    };
    for (bytes, f) in &planned {
        let Some(mut entry) = index.get_path(&f.path, 0) else {
            return Err(GitError::Git(git2::Error::from_str(&format!("{} is not in the index", f.path.display()))));
        };
        entry.id = repo.blob(bytes)?;
        entry.file_size = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        // Unknown stat data: git compares content instead of trusting it.
        entry.ctime = IndexTime::new(0, 0);
        entry.mtime = IndexTime::new(0, 0);
        index.add(&entry)?;
    }
    index.write().map_err(|e| {
        if e.code() == git2::ErrorCode::Locked {
            GitError::Git(git2::Error::from_str(
                "the index is locked (another git process is running?); nothing was changed",
            ))
        } else {
            GitError::Git(e)
        }
    })?;
    if let Some(workdir) = repo.workdir() {
        for (_, f) in &planned {
            if let Err(reason) = fix_worktree(&workdir.join(&f.path), f) {
                result.worktree_kept.push((f.path.clone(), reason));
            }
        }
    }
    result.fixes = planned.into_iter().map(|(_, f)| f).collect();
    Ok(result)
}

/// Apply the staged fix `f` to the working-tree file: each changed block of
/// staged lines is replaced only where the working tree holds exactly those
/// lines; otherwise the file is left as it is.
fn fix_worktree(path: &Path, f: &FileFix) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (true, rest),
        None => (false, &bytes[..]),
    };
    let worktree = std::str::from_utf8(body).map_err(|_| "it is not UTF-8".to_string())?;
    let fixed = remap(&f.old, &f.new, worktree).ok_or("it has unstaged edits on the fixed lines")?;
    if fixed == worktree {
        return Ok(());
    }
    let mut out = Vec::with_capacity(fixed.len() + 3);
    if bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    out.extend_from_slice(fixed.as_bytes());
    fix::write_atomically(path, &out).map_err(|e| format!("cannot write it: {e}"))
}

/// The change `old -> new` carried over to `other` (a variant of `old`),
/// or `None` if a changed line of `old` is not in `other` unchanged.
pub fn remap(old: &str, new: &str, other: &str) -> Option<String> {
    use similar::{DiffOp, TextDiff};
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let other_lines: Vec<&str> = other.split_inclusive('\n').collect();
    // Where each line of `old` stands in `other`, if unchanged there.
    let mut at: Vec<Option<usize>> = vec![None; old_lines.len()];
    for op in TextDiff::from_slices(&old_lines, &other_lines).ops() {
        if let DiffOp::Equal { old_index, new_index, len } = *op {
            for k in 0..len {
                at[old_index + k] = Some(new_index + k);
            }
        }
    }
    let mut result: Vec<String> = other_lines.iter().map(|s| s.to_string()).collect();
    let mut removed = vec![false; other_lines.len()];
    for op in TextDiff::from_slices(&old_lines, &new_lines).ops() {
        let (old_index, old_len, new_index, new_len) = match *op {
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
    Some(result.into_iter().zip(removed).filter(|(_, r)| !r).map(|(l, _)| l).collect())
}

#[cfg(test)]
mod tests {
    use super::remap;

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
