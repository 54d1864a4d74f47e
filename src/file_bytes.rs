//! A file's bytes for reading once, whole: git's index and the facts cache.
//!
//! Reading 400 KB into a fresh heap buffer costs a page fault per 4 KB
//! (each a trap, a zeroed page): the hook's start paid ~100 of them for
//! git's index. The buffer is instead mapped anonymous and populated in one
//! call, then read into. (Mapping the file itself would be cheaper still,
//! but a file truncated in place while mapped kills the process with
//! SIGBUS; a read never does.) Small files are read into a vector.

use std::io::Read;
use std::ops::Deref;
use std::path::Path;

/// Below this a plain vector is cheaper than setting up a mapping.
const MAP_FROM: u64 = 64 * 1024;

pub enum FileBytes {
    Owned(Vec<u8>),
    /// A populated anonymous mapping and how much of it the file filled.
    Anon(memmap2::MmapMut, usize),
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
            FileBytes::Anon(m, n) => &m[..*n],
        }
    }
}

impl From<Vec<u8>> for FileBytes {
    fn from(v: Vec<u8>) -> Self {
        FileBytes::Owned(v)
    }
}

/// The whole file, as it is when read (a file that grows meanwhile is read
/// again whole, one that shrinks is what is left).
pub fn read(path: &Path) -> std::io::Result<FileBytes> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len >= MAP_FROM
        && let Ok(size) = usize::try_from(len)
        && let Ok(mut map) = memmap2::MmapOptions::new().len(size).populate().map_anon()
    {
        let mut n = 0;
        while n < size {
            match file.read(&mut map[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // Grown since its size was taken: read it again, whole.
        if n == size && file.read(&mut [0u8; 1])? != 0 {
            return std::fs::read(path).map(FileBytes::Owned);
        }
        return Ok(FileBytes::Anon(map, n));
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    file.read_to_end(&mut buf)?;
    Ok(FileBytes::Owned(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_files_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        for size in [0usize, 10, 64 * 1024 - 1, 64 * 1024, 300_001] {
            let path = dir.path().join(format!("f{size}"));
            let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(&*read(&path).unwrap(), &bytes[..], "{size}");
        }
        assert!(read(&dir.path().join("missing")).is_err());
    }
}
