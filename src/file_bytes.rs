//! A file's bytes for reading once, whole: git's index and the facts cache.
//!
//! Reading 400 KB into a fresh heap buffer costs a page fault, a zeroed
//! page and a copy per 4 KB; mapping the page cache costs a few faults and
//! nothing else, as git does for its own index. Small files are read.

use std::ops::Deref;
use std::path::Path;

/// Below this a `read` is cheaper than setting up a mapping.
const MAP_FROM: u64 = 64 * 1024;

pub enum FileBytes {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl Default for FileBytes {
    fn default() -> Self {
        FileBytes::Owned(Vec::new())
    }
}

impl Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Owned(v) => v,
            FileBytes::Mapped(m) => m,
        }
    }
}

impl From<Vec<u8>> for FileBytes {
    fn from(v: Vec<u8>) -> Self {
        FileBytes::Owned(v)
    }
}

/// The whole file. Only for files that are replaced by a rename, never
/// rewritten in place (git's index and lock files, our cache): a mapping
/// then keeps seeing the file that was opened.
pub fn read(path: &Path) -> std::io::Result<FileBytes> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len >= MAP_FROM {
        // SAFETY: the files passed here are written by writing a new file
        // and renaming it over the old one (git's `index.lock`, the cache's
        // temporary file), so the mapped inode is not truncated under us.
        if let Ok(map) = unsafe { memmap2::MmapOptions::new().populate().map(&file) } {
            return Ok(FileBytes::Mapped(map));
        }
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    std::io::Read::read_to_end(&mut &file, &mut buf)?;
    Ok(FileBytes::Owned(buf))
}
