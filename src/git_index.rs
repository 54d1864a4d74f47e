//! A fast path through git's index file for the hook.
//!
//! libgit2 reads the whole index into its own structures and verifies its
//! checksum with collision-detecting SHA-1 on every open, and its
//! tree-to-index diff walks every tree of HEAD: on a 50,000-file repository
//! that is most of the hook's time. git itself does neither: it trusts the
//! index and skips every directory whose cache-tree entry (the index's
//! `TREE` extension) still matches HEAD. This module does the same for the
//! common commit (files added or modified). Anything it does not handle
//! (split or sparse indexes, other hash formats, deletions and so possible
//! renames, conflicts) makes it answer `None`, and the caller falls back
//! to libgit2.

use std::path::Path;

use git2::{ObjectType, Oid, Repository};

use crate::file_bytes::FileBytes;

/// One stage-0 entry: path bytes (into the index buffer), object, mode.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub path: (usize, usize),
    pub oid: [u8; 20],
    pub mode: u32,
}

/// The parsed index: the raw bytes, entries sorted by path, the cache tree.
pub struct Index {
    buf: FileBytes,
    /// v4 indexes compress paths; they are rebuilt into this buffer.
    paths: Vec<u8>,
    pub entries: Vec<Entry>,
    tree: Option<CacheNode>,
}

/// A cache-tree node: a directory whose tree object is known (`oid`) when
/// none of its entries changed since the tree was last written.
#[derive(Debug)]
struct CacheNode {
    name: Vec<u8>,
    oid: Option<[u8; 20]>,
    children: Vec<CacheNode>,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at.checked_add(4)?).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// The smallest entry: 62 bytes of stat data, object and flags, then at
/// least one byte of path (v4: a varint) and its NUL.
const MIN_ENTRY: usize = 64;

/// Why an index file cannot be read: its counts or lengths do not fit in
/// its bytes. Such a file is reported (libgit2 is not asked: it trusts the
/// counts it reads and can allocate and zero gigabytes for one of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt(pub &'static str);

const SHORT: Corrupt = Corrupt("truncated");

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl Index {
    /// Parse an index file: `Ok(None)` for anything this fast path does
    /// not handle (libgit2 then reads it), `Err` when it is malformed.
    /// Every count and length read from the file is checked against the
    /// bytes left before it is used, so no input allocates more than the
    /// file's own size, and every offset is computed with checked adds.
    pub fn parse(buf: impl Into<FileBytes>) -> Result<Option<Index>, Corrupt> {
        let buf = buf.into();
        if buf.is_empty() {
            return Ok(None); // libgit2 decides what an empty file means
        }
        if buf.get(..4).ok_or(SHORT)? != b"DIRC" {
            return Err(Corrupt("no index signature"));
        }
        let version = be32(&buf, 4).ok_or(SHORT)?;
        if !(2..=4).contains(&version) {
            return Ok(None);
        }
        let count = be32(&buf, 8).ok_or(SHORT)? as usize;
        if count > buf.len().saturating_sub(12) / MIN_ENTRY {
            return Err(Corrupt("more entries than the file can hold"));
        }
        // Something libgit2 must decide; the rest is still checked, so
        // libgit2 is only handed a file whose structure holds.
        let mut unusual = false;
        let mut at = 12usize;
        let mut entries = Vec::with_capacity(count);
        let mut paths: Vec<u8> = Vec::new();
        let mut prev: Vec<u8> = Vec::new();
        for _ in 0..count {
            let start = at;
            let field = |off: usize, len: usize| {
                let from = start.checked_add(off)?;
                buf.get(from..from.checked_add(len)?)
            };
            let mode = field(24, 4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]])).ok_or(SHORT)?;
            let mut oid = [0u8; 20];
            oid.copy_from_slice(field(40, 20).ok_or(SHORT)?);
            let flags = field(60, 2).map(|s| u16::from_be_bytes([s[0], s[1]])).ok_or(SHORT)?;
            let stage = (flags >> 12) & 3;
            let mut p = start.checked_add(62).ok_or(SHORT)?;
            if flags & 0x4000 != 0 {
                let ext = field(62, 2).map(|s| u16::from_be_bytes([s[0], s[1]])).ok_or(SHORT)?;
                // skip-worktree / intent-to-add entries (or extended flags
                // where git would not write them): let libgit2 decide.
                unusual |= ext & 0x6000 != 0 || version < 3;
                p += 2;
            }
            let path = if version == 4 {
                // Varint: how many bytes of the previous path to drop (git's
                // offset encoding: each continuation adds one, then shifts).
                let mut byte = *buf.get(p).ok_or(SHORT)?;
                p += 1;
                let mut drop = usize::from(byte & 0x7f);
                while byte & 0x80 != 0 {
                    byte = *buf.get(p).ok_or(SHORT)?;
                    p += 1;
                    drop = drop
                        .checked_add(1)
                        .and_then(|d| d.checked_mul(128))
                        .and_then(|d| d.checked_add(usize::from(byte & 0x7f)))
                        .ok_or(Corrupt("path prefix length overflows"))?;
                }
                let end = p + nul_at(&buf, p).ok_or(SHORT)?;
                let keep = prev.len().checked_sub(drop).ok_or(Corrupt("path prefix longer than the previous path"))?;
                prev.truncate(keep);
                prev.extend_from_slice(&buf[p..end]);
                at = end + 1;
                let s = paths.len();
                paths.extend_from_slice(&prev);
                (s, paths.len())
            } else {
                let end = p + nul_at(&buf, p).ok_or(SHORT)?;
                // Entries are padded with NULs to a multiple of 8 bytes.
                let len = end - start;
                at = start + (len + 8) / 8 * 8;
                (p, end)
            };
            unusual |= stage != 0;
            entries.push(Entry { path, oid, mode });
        }
        if version != 4 {
            // Paths point into `buf`; mark that with an empty `paths`.
            paths.clear();
        }
        let mut tree = None;
        // Extensions, up to the trailing 20-byte checksum.
        let end = buf.len().checked_sub(20).filter(|&e| e >= at).ok_or(SHORT)?;
        // (Fewer than 8 bytes left cannot be an extension; git ignores them.)
        while at + 8 <= end {
            let sig = &buf[at..at + 4];
            let size = be32(&buf, at + 4).ok_or(SHORT)? as usize;
            let next = size.checked_add(8).and_then(|n| at.checked_add(n)).filter(|&e| e <= end);
            let next = next.ok_or(Corrupt("extension longer than the file"))?;
            let data = &buf[at + 8..next];
            match sig {
                b"TREE" => tree = Some(parse_tree(data)?),
                // Split index, sparse index, unknown required extensions.
                b"link" | b"sdir" => unusual = true,
                s if s[0].is_ascii_uppercase() => {}
                _ => unusual = true,
            }
            at = next;
        }
        Ok((!unusual).then_some(Index { buf, paths, entries, tree }))
    }

    pub fn path(&self, e: &Entry) -> &[u8] {
        let (s, t) = e.path;
        if self.paths.is_empty() { &self.buf[s..t] } else { &self.paths[s..t] }
    }

    /// The entry at `path`, by binary search (the index is sorted).
    pub fn find(&self, path: &[u8]) -> Option<&Entry> {
        self.entries.binary_search_by(|e| self.path(e).cmp(path)).ok().map(|i| &self.entries[i])
    }

    /// Paths added or modified relative to HEAD's tree `head`, or `None`
    /// if something was deleted, renamed or cannot be told here.
    pub fn changed(&self, repo: &Repository, head: Option<Oid>) -> Option<Vec<(Vec<u8>, Option<Entry>)>> {
        let mut out = Vec::new();
        let root = self.tree.as_ref();
        self.diff_dir(repo, b"", head, root, 0, self.entries.len(), &mut out)?;
        Some(out)
    }

    /// Compare index entries `lo..hi` (all under `prefix`) with tree `tree`.
    #[allow(clippy::too_many_arguments)]
    fn diff_dir(
        &self,
        repo: &Repository,
        prefix: &[u8],
        tree: Option<Oid>,
        cache: Option<&CacheNode>,
        lo: usize,
        hi: usize,
        out: &mut Vec<(Vec<u8>, Option<Entry>)>,
    ) -> Option<()> {
        // Each level adds at least a `/`; deeper than PATH_MAX is not a
        // real checkout, and recursing on would risk the stack.
        if prefix.len() > 4096 {
            return None;
        }
        if let (Some(t), Some(c)) = (tree, cache)
            && c.oid.is_some_and(|o| o == t.as_bytes())
        {
            return Some(());
        }
        let head: Vec<(Vec<u8>, Oid, i32)> = match tree {
            Some(oid) => {
                let tree = repo.find_tree(oid).ok()?;
                tree.iter().map(|e| (e.name_bytes().to_vec(), e.id(), e.filemode())).collect()
            }
            None => Vec::new(),
        };
        let by_name: rustc_hash::FxHashMap<&[u8], usize> =
            head.iter().enumerate().map(|(k, (n, _, _))| (n.as_slice(), k)).collect();
        let mut seen = vec![false; head.len()];
        let mut i = lo;
        while i < hi {
            let rest = &self.path(&self.entries[i])[prefix.len()..];
            match rest.iter().position(|&b| b == b'/') {
                None => {
                    let e = self.entries[i];
                    match by_name.get(rest).copied() {
                        Some(k) => {
                            seen[k] = true;
                            let (_, oid, mode) = &head[k];
                            if head[k].2 == 0o040000 {
                                return None; // a directory became a file
                            }
                            if oid.as_bytes() != e.oid || *mode as u32 != e.mode {
                                out.push((self.path(&e).to_vec(), Some(e)));
                            }
                        }
                        None => out.push((self.path(&e).to_vec(), Some(e))),
                    }
                    i += 1;
                }
                Some(slash) => {
                    let name = &rest[..slash];
                    let mut sub_prefix = prefix.to_vec();
                    sub_prefix.extend_from_slice(name);
                    sub_prefix.push(b'/');
                    let mut j = i;
                    while j < hi && self.path(&self.entries[j]).starts_with(&sub_prefix) {
                        j += 1;
                    }
                    let sub_tree = match by_name.get(name).copied() {
                        Some(k) => {
                            seen[k] = true;
                            (head[k].2 == 0o040000).then_some(head[k].1)
                        }
                        None => None,
                    };
                    let sub_cache = cache.and_then(|c| c.children.iter().find(|n| n.name == name));
                    self.diff_dir(repo, &sub_prefix, sub_tree, sub_cache, i, j, out)?;
                    i = j;
                }
            }
        }
        // Something of HEAD's is gone: a deletion, maybe half a rename.
        if seen.iter().any(|s| !s) {
            return None;
        }
        Some(())
    }
}

/// The cache tree: nodes `name NUL entries SP subtrees LF [oid]`, each
/// node's subtrees after it.
fn parse_tree(data: &[u8]) -> Result<CacheNode, Corrupt> {
    let bad = || Corrupt("malformed cache tree");
    fn node(data: &[u8], at: &mut usize, depth: usize) -> Option<CacheNode> {
        if depth > 4096 {
            return None;
        }
        let nul = *at + nul_at(data, *at)?;
        let name = data[*at..nul].to_vec();
        let nl = nul + data.get(nul..)?.iter().position(|&b| b == b'\n')?;
        let header = std::str::from_utf8(&data[nul + 1..nl]).ok()?;
        let (count, subtrees) = header.split_once(' ')?;
        let count: i64 = count.parse().ok()?;
        let subtrees: usize = subtrees.parse().ok()?;
        *at = nl + 1;
        // A node takes at least 5 bytes (`NUL0 0LF`): more subtrees than
        // are left room for is corruption, not an allocation to make.
        if subtrees > (data.len() - *at) / 5 {
            return None;
        }
        let oid = if count >= 0 {
            let mut o = [0u8; 20];
            o.copy_from_slice(data.get(*at..at.checked_add(20)?)?);
            *at += 20;
            Some(o)
        } else {
            None
        };
        let mut children = Vec::with_capacity(subtrees);
        for _ in 0..subtrees {
            children.push(node(data, at, depth + 1)?);
        }
        Some(CacheNode { name, oid, children })
    }
    let mut at = 0;
    node(data, &mut at, 0).ok_or_else(bad)
}

/// Bytes from `from` to the next NUL (a vector search: a byte loop over
/// every path of the index was half of reading a 5,000-entry index).
fn nul_at(b: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(0, b.get(from..)?)
}

/// Read the index file `index_file` (default `<gitdir>/index`); `Ok(None)`
/// when the repository uses another hash than SHA-1, the file cannot be
/// read (libgit2 will say why) or is unusual; `Err` when it is corrupt.
pub fn read(repo: &Repository, index_file: Option<&Path>) -> Result<Option<Index>, Corrupt> {
    let object_format = repo.config().ok().and_then(|c| c.get_string("extensions.objectformat").ok());
    if object_format.is_some_and(|f| f != "sha1") {
        return Ok(None);
    }
    let path = index_file.map_or_else(|| repo.path().join("index"), Path::to_path_buf);
    match crate::file_bytes::read(&path) {
        Ok(buf) => Index::parse(buf),
        Err(_) => Ok(None),
    }
}

/// HEAD's tree, `None` before the first commit.
pub fn head_tree(repo: &Repository) -> Result<Option<Oid>, git2::Error> {
    match repo.head() {
        Ok(head) => Ok(Some(head.peel(ObjectType::Tree)?.id())),
        Err(e) if matches!(e.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index of `version` with `entries` (raw) and `extensions`, with a
    /// checksum of zeros (not checked here).
    fn index(version: u32, count: u32, entries: &[u8], extensions: &[u8]) -> Vec<u8> {
        let mut b = b"DIRC".to_vec();
        b.extend_from_slice(&version.to_be_bytes());
        b.extend_from_slice(&count.to_be_bytes());
        b.extend_from_slice(entries);
        b.extend_from_slice(extensions);
        b.extend_from_slice(&[0; 20]);
        b
    }

    fn extension(sig: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut b = sig.to_vec();
        b.extend_from_slice(&(data.len() as u32).to_be_bytes());
        b.extend_from_slice(data);
        b
    }

    /// A v4 entry for a regular file: its path varint, then its suffix.
    fn v4_entry(varint: &[u8], suffix: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 62];
        b[24..28].copy_from_slice(&0o100644u32.to_be_bytes());
        b.extend_from_slice(varint);
        b.extend_from_slice(suffix);
        b.push(0);
        b
    }

    #[test]
    fn counts_the_file_cannot_hold_are_corruption_not_allocations() {
        assert!(Index::parse(index(2, 0, &[], &[])).is_ok_and(|i| i.is_some()));
        // The tracker's example: a TREE claiming 99999999999999 subtrees.
        let mut tree = b"\x001 99999999999999\n".to_vec();
        tree.extend_from_slice(&[7; 20]);
        assert!(Index::parse(index(2, 0, &[], &extension(b"TREE", &tree))).is_err());
        let tree = b"\x00-1 18446744073709551615\n";
        assert!(Index::parse(index(2, 0, &[], &extension(b"TREE", tree))).is_err());
        for count in [0x7fff_ffff, 0xffff_ffff, 1] {
            assert!(Index::parse(index(2, count, &[], &[])).is_err(), "{count:#x} entries");
        }
        let mut huge = extension(b"UNTR", b"");
        huge[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Index::parse(index(2, 0, &[], &huge)).is_err());
        // A v4 path-prefix varint of 0xff bytes overflows.
        let first = v4_entry(&[0], b"a.py");
        let mut entries = first.clone();
        entries.extend(v4_entry(&[0xff; 12], b"b.py"));
        assert!(Index::parse(index(4, 2, &entries, &[])).is_err());
        // Well formed, it parses.
        let mut entries = first;
        entries.extend(v4_entry(&[4], b"b.py"));
        let parsed = Index::parse(index(4, 2, &entries, &[])).unwrap().unwrap();
        assert_eq!(parsed.path(&parsed.entries[1]), b"b.py");
    }
}
