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

/// One stage-0 entry: path bytes (into the index buffer), object, mode.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub path: (usize, usize),
    pub oid: [u8; 20],
    pub mode: u32,
}

/// The parsed index: the raw bytes, entries sorted by path, the cache tree.
pub struct Index {
    buf: Vec<u8>,
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
    b.get(at..at + 4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl Index {
    /// Parse an index file; `None` for anything unusual.
    pub fn parse(buf: Vec<u8>) -> Option<Index> {
        if buf.get(..4)? != b"DIRC" {
            return None;
        }
        let version = be32(&buf, 4)?;
        if !(2..=4).contains(&version) {
            return None;
        }
        let count = be32(&buf, 8)? as usize;
        let mut at = 12;
        let mut entries = Vec::with_capacity(count);
        let mut paths: Vec<u8> = Vec::new();
        let mut prev: Vec<u8> = Vec::new();
        for _ in 0..count {
            let start = at;
            let mode = be32(&buf, start + 24)?;
            let mut oid = [0u8; 20];
            oid.copy_from_slice(buf.get(start + 40..start + 60)?);
            let flags = u16::from_be_bytes([*buf.get(start + 60)?, *buf.get(start + 61)?]);
            let stage = (flags >> 12) & 3;
            let mut p = start + 62;
            if flags & 0x4000 != 0 {
                if version < 3 {
                    return None;
                }
                let ext = u16::from_be_bytes([*buf.get(p)?, *buf.get(p + 1)?]);
                // skip-worktree / intent-to-add entries: let libgit2 decide.
                if ext & 0x6000 != 0 {
                    return None;
                }
                p += 2;
            }
            let path = if version == 4 {
                // Varint: how many bytes of the previous path to drop.
                let (mut drop, mut byte) = (0usize, *buf.get(p)?);
                p += 1;
                drop = (drop << 7) | (byte & 0x7f) as usize;
                while byte & 0x80 != 0 {
                    byte = *buf.get(p)?;
                    p += 1;
                    drop = ((drop + 1) << 7) | (byte & 0x7f) as usize;
                }
                let end = p + buf.get(p..)?.iter().position(|&b| b == 0)?;
                prev.truncate(prev.len().checked_sub(drop)?);
                prev.extend_from_slice(&buf[p..end]);
                at = end + 1;
                let s = paths.len();
                paths.extend_from_slice(&prev);
                (s, paths.len())
            } else {
                let end = p + buf.get(p..)?.iter().position(|&b| b == 0)?;
                // Entries are padded with NULs to a multiple of 8 bytes.
                let len = end - start;
                at = start + (len + 8) / 8 * 8;
                (p, end)
            };
            if stage != 0 {
                return None;
            }
            entries.push(Entry { path, oid, mode });
        }
        if version != 4 {
            // Paths point into `buf`; mark that with an empty `paths`.
            paths.clear();
        }
        let mut tree = None;
        // Extensions, up to the trailing 20-byte checksum.
        while at + 8 <= buf.len().saturating_sub(20) {
            let sig = &buf[at..at + 4];
            let size = be32(&buf, at + 4)? as usize;
            let data = buf.get(at + 8..at + 8 + size)?;
            match sig {
                b"TREE" => tree = parse_tree(data),
                // Split index, sparse index, unknown required extensions.
                b"link" | b"sdir" => return None,
                s if s[0].is_ascii_uppercase() => {}
                _ => return None,
            }
            at += 8 + size;
        }
        Some(Index { buf, paths, entries, tree })
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

fn parse_tree(data: &[u8]) -> Option<CacheNode> {
    fn node(data: &[u8], at: &mut usize, depth: usize) -> Option<CacheNode> {
        if depth > 4096 {
            return None;
        }
        let nul = *at + data.get(*at..)?.iter().position(|&b| b == 0)?;
        let name = data[*at..nul].to_vec();
        let nl = nul + data.get(nul..)?.iter().position(|&b| b == b'\n')?;
        let header = std::str::from_utf8(&data[nul + 1..nl]).ok()?;
        let (count, subtrees) = header.split_once(' ')?;
        let count: i64 = count.parse().ok()?;
        let subtrees: usize = subtrees.parse().ok()?;
        *at = nl + 1;
        let oid = if count >= 0 {
            let mut o = [0u8; 20];
            o.copy_from_slice(data.get(*at..*at + 20)?);
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
    node(data, &mut at, 0)
}

/// Read the index file `index_file` (default `<gitdir>/index`); `None` when
/// the repository uses another hash than SHA-1 or the file is unusual.
pub fn read(repo: &Repository, index_file: Option<&Path>) -> Option<Index> {
    let object_format = repo.config().ok().and_then(|c| c.get_string("extensions.objectformat").ok());
    if object_format.is_some_and(|f| f != "sha1") {
        return None;
    }
    let path = index_file.map_or_else(|| repo.path().join("index"), Path::to_path_buf);
    Index::parse(std::fs::read(path).ok()?)
}

/// HEAD's tree, `None` before the first commit.
pub fn head_tree(repo: &Repository) -> Result<Option<Oid>, git2::Error> {
    match repo.head() {
        Ok(head) => Ok(Some(head.peel(ObjectType::Tree)?.id())),
        Err(e) if matches!(e.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}
