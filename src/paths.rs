//! Path arithmetic shared by the scan, the configuration and the reports:
//! lexical, never touching the file system (except finding `.git`).

use std::path::{Path, PathBuf};

/// A path (as bytes) whose last component has no extension, as
/// `Path::extension` says (a possible script); without parsing components,
/// as it is asked of every file of a snapshot.
pub fn is_extensionless(path: &[u8]) -> bool {
    extension(path).is_none()
}

/// The extension of a file's path, as `Path::extension` finds it, from
/// the bytes: asked of every file of a walk or a snapshot, where parsing
/// the path's components cost more than the question.
pub fn extension(path: &[u8]) -> Option<&[u8]> {
    let name = path.rsplit(|&b| b == b'/' || (cfg!(windows) && b == b'\\')).next().unwrap_or(path);
    if name == b".." {
        return None;
    }
    let dot = name.iter().rposition(|&b| b == b'.')?;
    (dot > 0).then(|| &name[dot + 1..])
}

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
            // (`up.join("")` would be `../`: a trailing separator makes the
            // same directory other bytes than the paths built below it.)
            return if rest.as_os_str().is_empty() { up } else { up.join(rest) };
        }
        b = parent;
    }
    path
}

/// A relative path in the form module keys are built from: its parts
/// joined by `/`. `separator` is the platform's (`\\` on Windows, where
/// `/` separates too); on Unix a `\\` is part of a name and stays.
pub fn slashed(path: &str, separator: char) -> String {
    path.split(['/', separator]).collect::<Vec<_>>().join("/")
}

/// [`slashed`] with this platform's separator. A name that is not UTF-8
/// is taken lossily: below such a directory the modules still import each
/// other (a key shared by two such paths only adds a candidate that
/// resolution then rejects).
pub fn key_path(path: &Path) -> String {
    slashed(&path.to_string_lossy(), std::path::MAIN_SEPARATOR)
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

/// `path` cleaned, with its directory resolved through symlinks, so that
/// two spellings of one place compare equal. The last component stays as
/// written: a named file that is itself a link is that link.
pub fn resolve_dir(path: &Path) -> PathBuf {
    let path = clean(path);
    match (path.parent().and_then(|d| std::fs::canonicalize(d).ok()), path.file_name()) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => std::fs::canonicalize(&path).unwrap_or(path),
    }
}

/// The repository root holding `dir` (absolute): the nearest directory
/// upwards with a `.git`, else `dir` itself.
pub fn repository_root(dir: &Path) -> PathBuf {
    dir.ancestors().find(|d| d.join(".git").exists()).unwrap_or(dir).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensionless_agrees_with_path_extension() {
        for p in ["a/app", "app", "a/app.py", ".bashrc", "a/.x", "a/..x", "a/b.c/run", "a/run.", "a.b/c.d", "x/.git.d"]
        {
            assert_eq!(is_extensionless(p.as_bytes()), Path::new(p).extension().is_none(), "{p}");
        }
    }

    #[test]
    fn windows_separators_become_slashes() {
        assert_eq!(slashed("pkg\\sub\\mod", '\\'), "pkg/sub/mod");
        assert_eq!(slashed("pkg/sub\\mod", '\\'), "pkg/sub/mod");
        assert_eq!(slashed("..\\pkg\\mod", '\\'), "../pkg/mod");
        // On Unix a backslash is part of a file name.
        assert_eq!(slashed("pkg/odd\\name", '/'), "pkg/odd\\name");
        assert_eq!(key_path(Path::new("pkg/mod")), "pkg/mod");
        assert_eq!(key_path(Path::new("")), "");
    }
}
