//! The prefilter's facts of git blobs, kept between hook runs, by blob id.
//!
//! The staged verdict needs the imports of every Python file of the
//! snapshot (to find the importers of a changed module), but a commit
//! changes a few blobs: the rest were read by the previous run. A blob's
//! facts depend only on its content (and on this binary and the configured
//! app names, which salt the file), so they are stored by id in
//! `<git common dir>/flask-bind-guard/facts` and a run reads only the blobs
//! it has not seen. The file is a cache: anything unexpected in it (another
//! version, a short or corrupt file) makes it empty, and failing to write
//! it only costs the next run time. It holds the entries the last run
//! used, so it stays the size of the snapshots in use.
//!
//! Layout (integers little-endian): `FBGFACTS`, salt (u64), count (u32),
//! checksum (u64, of everything after the header: a flipped bit in a
//! record would otherwise change a verdict, run after run), then `count`
//! records sorted by id (id: 20 bytes, flags: u8, text offset: u32, text
//! length: u32), then the imports text the records point into.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::file_bytes::FileBytes;
use crate::prefilter::{Facts, Portable};

const MAGIC: &[u8; 8] = b"FBGFACTS";
const HEADER: usize = 8 + 8 + 4 + 8;
const RECORD: usize = 20 + 1 + 4 + 4;
const RUN_CALL: u8 = 1;
const APP_IMPORT: u8 = 2;
/// Its first line is no Python shebang (so, without an extension, it is
/// no Python file).
const NOT_PYTHON: u8 = 4;
/// The record holds facts (a blob read only to see it is no script has
/// none).
const FACTS: u8 = 8;
/// Its first line is a Python shebang.
const SCRIPT: u8 = 16;
/// A server word's call was settled from its literals (see
/// [`Facts::settled_run`](crate::prefilter::Facts::settled_run)).
const SETTLED_RUN: u8 = 32;
/// What makes an app may be named here (see
/// [`Facts::app_maker`](crate::prefilter::Facts::app_maker)).
const APP_MAKER: u8 = 64;

/// What the cache knows of one blob. The same blob may be named `app.py`
/// and `app` (no extension): whether it is Python depends on the name, so
/// the facts and the first line's verdict are kept apart.
#[derive(Debug, PartialEq)]
pub struct Entry<'c> {
    /// The [`Facts::portable`] parts of its facts, when computed.
    pub facts: Option<Portable<'c>>,
    /// Whether its first line makes it a Python script, when known.
    pub script: Option<bool>,
}

pub type BlobId = [u8; 20];

pub struct FactsCache {
    path: PathBuf,
    salt: u64,
    /// The file as read (validated), searched in place.
    bytes: FileBytes,
    count: usize,
    /// Where the records whose id starts with each byte begin (and, at
    /// 256, `count`): a lookup searches a few records, not all.
    starts: Box<[u32; 257]>,
    /// Where the imports text the records point into starts in `bytes`.
    /// It is checked as UTF-8 record by record, as looked up (a vector
    /// check: `str::from_utf8` per record was 4% of a one-file commit's
    /// instructions, a checked copy of the whole text 0.3 ms of page
    /// faults and copying on a 1,500-module repository).
    text_start: usize,
    /// Which records this run looked up: what is written back with the
    /// new entries.
    hit: Vec<AtomicBool>,
    /// Entries computed in this run.
    fresh: Mutex<Vec<(BlobId, u8, String)>>,
}

impl FactsCache {
    /// The cache of the repository whose common directory is `common_dir`,
    /// for facts computed with `extra_tokens`.
    pub fn open(common_dir: &Path, extra_tokens: &[String]) -> FactsCache {
        let path = common_dir.join("flask-bind-guard").join("facts");
        let salt = salt(extra_tokens);
        let bytes = crate::file_bytes::read(&path).unwrap_or_default();
        let (count, text_start) = valid(&bytes, salt).unwrap_or_default();
        let bytes = if count == 0 { FileBytes::default() } else { bytes };
        let hit = (0..count).map(|_| AtomicBool::new(false)).collect();
        let mut starts = Box::new([0u32; 257]);
        for i in 0..count {
            starts[usize::from(bytes[HEADER + i * RECORD]) + 1] += 1;
        }
        for b in 0..256 {
            starts[b + 1] += starts[b];
        }
        FactsCache { path, salt, bytes, count, starts, text_start, hit, fresh: Mutex::default() }
    }

    /// What the cache knows of blob `id`.
    pub fn get(&self, id: &BlobId) -> Option<Entry<'_>> {
        let (i, flags, text) = self.find(id)?;
        self.hit[i].store(true, Ordering::Relaxed);
        let facts = (flags & FACTS != 0).then_some(Portable {
            run_call: flags & RUN_CALL != 0,
            settled_run: flags & SETTLED_RUN != 0,
            app_import: flags & APP_IMPORT != 0,
            app_maker: flags & APP_MAKER != 0,
            text,
        });
        let script = match (flags & SCRIPT != 0, flags & NOT_PYTHON != 0) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            _ => None,
        };
        Some(Entry { facts, script })
    }

    /// Remember what this run learnt of blob `id`: its facts, when read as
    /// Python, and whether its first line makes it a script, when looked at.
    pub fn put(&self, id: BlobId, facts: Option<&Facts>, script: Option<bool>) {
        let (mut flags, text) = match facts {
            Some(facts) => {
                let p = facts.portable();
                let flag = |on: bool, bit: u8| if on { bit } else { 0 };
                (
                    FACTS
                        | flag(p.run_call, RUN_CALL)
                        | flag(p.app_import, APP_IMPORT)
                        | flag(p.app_maker, APP_MAKER)
                        | flag(p.settled_run, SETTLED_RUN),
                    p.text,
                )
            }
            None => (0, ""),
        };
        flags |= match script {
            Some(true) => SCRIPT,
            Some(false) => NOT_PYTHON,
            None => 0,
        };
        lock(&self.fresh).push((id, flags, text.to_string()));
    }

    fn record(&self, i: usize) -> &[u8] {
        &self.bytes[HEADER + i * RECORD..HEADER + (i + 1) * RECORD]
    }

    /// The record of `id`: its number, flags and imports text.
    fn find(&self, id: &BlobId) -> Option<(usize, u8, &str)> {
        let first = usize::from(id[0]);
        let (mut lo, mut hi) = (self.starts[first] as usize, self.starts[first + 1] as usize);
        // Most steps are told apart by the first eight bytes.
        let key = |b: &[u8]| u64::from_be_bytes(b[..8].try_into().unwrap_or_default());
        let wanted = key(id);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let r = self.record(mid);
            match key(r).cmp(&wanted).then_with(|| r[8..20].cmp(&id[8..])) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some((mid, r[20], self.text(r)?)),
            }
        }
        None
    }

    fn text(&self, r: &[u8]) -> Option<&str> {
        let start = u32::from_le_bytes(r[21..25].try_into().ok()?) as usize;
        let len = u32::from_le_bytes(r[25..29].try_into().ok()?) as usize;
        // A range outside the file, or text that is not UTF-8, is a miss.
        let from = self.text_start.checked_add(start)?;
        let bytes = self.bytes.get(from..from.checked_add(len)?)?;
        simdutf8::basic::from_utf8(bytes).ok()
    }

    /// Write back what this run used, when it read something the file did
    /// not hold (or the file holds more than was used). Errors are ignored:
    /// the cache only saves time.
    pub fn save(mut self) {
        let path = &self.path;
        let fresh = std::mem::take(self.fresh.get_mut().unwrap_or_else(|e| e.into_inner()));
        let hits = self.hit.iter().filter(|h| h.load(Ordering::Relaxed)).count();
        // Nothing new, and not grown stale (twice the entries in use).
        if fresh.is_empty() && self.count <= hits.saturating_mul(2) {
            return;
        }
        let mut used: Vec<(&[u8], u8, &str)> = fresh.iter().map(|(id, f, t)| (&id[..], *f, t.as_str())).collect();
        for i in (0..self.count).filter(|&i| self.hit[i].load(Ordering::Relaxed)) {
            let r = self.record(i);
            if let Some(text) = self.text(r) {
                used.push((&r[..20], r[20], text));
            }
        }
        // One record per blob: what two names of it taught is merged (the
        // facts come from the record that has them).
        used.sort_unstable_by(|a, b| a.0.cmp(b.0).then((b.1 & FACTS).cmp(&(a.1 & FACTS))));
        used.dedup_by(|later, first| {
            let same = later.0 == first.0;
            if same {
                first.1 |= later.1 & (SCRIPT | NOT_PYTHON);
            }
            same
        });
        let mut out = Vec::with_capacity(HEADER + used.len() * RECORD + used.iter().map(|u| u.2.len()).sum::<usize>());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.salt.to_le_bytes());
        out.extend_from_slice(&(used.len() as u32).to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        let mut offset = 0u32;
        for (id, flags, text) in &used {
            out.extend_from_slice(id);
            out.push(*flags);
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&(text.len() as u32).to_le_bytes());
            offset = offset.saturating_add(text.len() as u32);
        }
        for (_, _, text) in &used {
            out.extend_from_slice(text.as_bytes());
        }
        let sum = checksum(&out[HEADER..]);
        out[HEADER - 8..HEADER].copy_from_slice(&sum.to_le_bytes());
        let Some(dir) = path.parent() else { return };
        let _ = std::fs::create_dir_all(dir).and_then(|()| {
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            std::io::Write::write_all(&mut tmp, &out)?;
            tmp.persist(path).map(|_| ()).map_err(|e| e.error)
        });
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the facts were computed with: this build and the configured names.
fn salt(extra_tokens: &[String]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(env!("CARGO_PKG_VERSION").as_bytes());
    // Bumped whenever what the facts hold changes (a rebuilt binary of the
    // same version must not read older facts).
    h.write(b"\0facts-v10: imports (continued lines followed), loaded modules, settled calls (not under connexion, and noted), Flask-Script Server imported here, connexion an app module, app makers named outside comments, app imports only of what may lead to an app; checksummed\0");
    for t in extra_tokens {
        h.write(t.as_bytes());
        h.write(b"\0");
    }
    h.finish()
}

fn checksum(bytes: &[u8]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(0x6662_6766_6163_7473).build_hasher();
    h.write(bytes);
    h.finish()
}

/// The number of records of a well-formed file with this salt, and where
/// its text starts.
fn valid(bytes: &[u8], salt: u64) -> Option<(usize, usize)> {
    if bytes.get(..8)? != MAGIC || u64::from_le_bytes(bytes.get(8..16)?.try_into().ok()?) != salt {
        return None;
    }
    let count = u32::from_le_bytes(bytes.get(16..20)?.try_into().ok()?) as usize;
    let sum = u64::from_le_bytes(bytes.get(20..HEADER)?.try_into().ok()?);
    if checksum(&bytes[HEADER..]) != sum {
        return None;
    }
    let text_start = count.checked_mul(RECORD)?.checked_add(HEADER)?;
    bytes.get(text_start..)?;
    Some((count, text_start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &[u8]) -> Facts {
        crate::prefilter::facts(Path::new("pkg/a.py"), text, &[])
    }

    #[test]
    fn facts_survive_a_round_trip_and_corruption_empties_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let body = b"from flask import Flask\nfrom . import config\nimport os.path\napp.run(host=h)\n";
        let first = facts(body);
        let cache = FactsCache::open(dir.path(), &[]);
        assert!(cache.get(&[7; 20]).is_none());
        cache.put([7; 20], Some(&first), None);
        cache.put([9; 20], None, Some(false));
        // One blob, two names: `app.py` read as Python, `app` no script.
        cache.put([5; 20], None, Some(false));
        cache.put([5; 20], Some(&first), None);
        cache.save();
        let cache = FactsCache::open(dir.path(), &[]);
        assert_eq!(cache.get(&[7; 20]), Some(Entry { facts: Some(first.portable()), script: None }));
        assert_eq!(cache.get(&[9; 20]), Some(Entry { facts: None, script: Some(false) }));
        assert_eq!(cache.get(&[5; 20]), Some(Entry { facts: Some(first.portable()), script: Some(false) }));
        assert!(cache.get(&[8; 20]).is_none());
        // Another configuration: not the same facts.
        let other = FactsCache::open(dir.path(), &["myapp".into()]);
        assert!(other.get(&[7; 20]).is_none());
        // Truncated or garbled: empty or intact, never a panic.
        let file = dir.path().join("flask-bind-guard").join("facts");
        let bytes = std::fs::read(&file).unwrap();
        for cut in 0..bytes.len() {
            std::fs::write(&file, &bytes[..cut]).unwrap();
            assert!(FactsCache::open(dir.path(), &[]).get(&[7; 20]).is_none());
        }
        let mut bad = bytes.clone();
        bad[HEADER + 21..HEADER + 29].fill(0xff);
        std::fs::write(&file, &bad).unwrap();
        assert!(FactsCache::open(dir.path(), &[]).get(&[7; 20]).is_none());
        // Well-formed but altered (a flag bit, a byte of text): empty too,
        // not a changed verdict.
        for at in [HEADER + 20, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 1;
            std::fs::write(&file, &bad).unwrap();
            assert!(FactsCache::open(dir.path(), &[]).get(&[7; 20]).is_none(), "byte {at} flipped");
        }
    }
}
