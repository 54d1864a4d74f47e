//! Helpers the end-to-end tests share.
#![allow(dead_code)]

use std::path::Path;

/// Write `files` (relative path, bytes) under `root`, making directories.
pub fn write_bytes(root: &Path, files: &[(&str, &[u8])]) {
    for (name, body) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
}

/// The same with text.
pub fn write(root: &Path, files: &[(&str, &str)]) {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_bytes())).collect();
    write_bytes(root, &files);
}

/// A project in a temporary directory: a `.git` directory marks its root.
pub fn project_bytes(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write_bytes(dir.path(), files);
    dir
}

/// The same with text.
pub fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_bytes())).collect();
    project_bytes(&files)
}
