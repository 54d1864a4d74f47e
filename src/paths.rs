//! Path arithmetic shared by the scan, the configuration and the reports:
//! lexical, never touching the file system (except finding `.git`).

use std::path::{Path, PathBuf};

/// `path` made relative to `base` when it is under it (both absolute);
/// `..` steps when it is beside it. Lexical: `.` and `..` are folded first.
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let path = clean(path);
    if let Ok(rest) = path.strip_prefix(base) {
        return rest.to_path_buf();
    }
    let mut up = PathBuf::new();
    let mut b = base;
    while let Some(parent) = b.parent() {
        up.push("..");
        if let Ok(rest) = path.strip_prefix(parent) {
            return up.join(rest);
        }
        b = parent;
    }
    path
}

/// Fold `.` and `..` components without touching the file system.
pub fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The repository root holding `dir` (absolute): the nearest directory
/// upwards with a `.git`, else `dir` itself.
pub fn repository_root(dir: &Path) -> PathBuf {
    dir.ancestors().find(|d| d.join(".git").exists()).unwrap_or(dir).to_path_buf()
}
