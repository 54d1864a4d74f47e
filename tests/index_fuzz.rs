//! Corrupt index files never abort the hook: thousands of deterministic
//! mutations (bit flips, byte sets, truncations, inflated counts and sizes,
//! overlong varints) of real indexes written by `git` (versions 2, 3 and 4,
//! with and without extensions), each judged by the binary in a child
//! process through `GIT_INDEX_FILE` (the hook's default mode, and `--all`).
//! Every run must end with 0, 1 or 2: never a panic (101), an abort (134)
//! or another signal, never a hang.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;
use common::{BAD, BIN, Repo, clean};

/// Mutants per base index (there are 8 bases).
const MUTANTS_PER_BASE: usize = 300;
/// A run longer than this is a hang (each takes milliseconds).
const TIMEOUT: Duration = Duration::from_secs(30);

/// xorshift64*: deterministic, no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

/// One base: a repository whose index holds a staged change (a modified
/// and a new module with a finding, nested directories), in one format.
struct Base {
    name: &'static str,
    repo: Repo,
    index: Vec<u8>,
}

fn base(name: &'static str, version: u32, tree: bool, extra: &[&[&str]]) -> Base {
    let r = Repo::new();
    r.seed(&[
        ("a.py", "x = 1\n"),
        ("pkg/__init__.py", ""),
        ("pkg/mod.py", "y = 2\n"),
        ("pkg/sub/deep.py", "from pkg import mod\n"),
        ("docs/readme", "words\n"),
        ("run_me", "#!/usr/bin/env python3\nprint(1)\n"),
    ]);
    r.write("pkg/mod.py", BAD);
    r.write("pkg/sub/app.py", format!("from pkg.mod import app\n{BAD}"));
    r.write("new/deeper/still/server.py", BAD);
    if tree {
        // A cache tree for HEAD, then the change: part of it stays valid.
        r.ok(&["read-tree", "HEAD"]);
        r.ok(&["add", "-A"]);
    } else {
        // An index written from scratch has no TREE extension.
        std::fs::remove_file(r.root.join(".git/index")).unwrap();
        let files = ["a.py", "pkg/__init__.py", "pkg/mod.py", "pkg/sub/deep.py", "docs/readme", "run_me"];
        let mut args = vec!["update-index", "--add"];
        args.extend(files);
        args.extend(["pkg/sub/app.py", "new/deeper/still/server.py"]);
        r.ok(&args);
    }
    // Untracked (the untracked cache lists it; one base adds it with -N).
    r.write("later.py", "z = 3\n");
    for args in extra {
        r.ok(args);
    }
    r.ok(&["update-index", "--index-version", &version.to_string()]);
    let index = std::fs::read(r.root.join(".git/index")).unwrap();
    assert_eq!(&index[..4], b"DIRC");
    assert_eq!(u32::from_be_bytes(index[4..8].try_into().unwrap()), version, "{name}");
    assert_eq!(contains(&index, b"TREE"), tree, "{name}: TREE extension");
    Base { name, repo: r, index }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn bases() -> Vec<Base> {
    vec![
        base("v2, TREE", 2, true, &[]),
        base("v2, full TREE", 2, true, &[&["write-tree"]]),
        base("v2, no TREE", 2, false, &[]),
        // Intent-to-add needs the extended flags: version 3.
        base("v3, TREE, intent-to-add", 3, true, &[&["add", "-N", "later.py"], &["write-tree"]]),
        base("v4, TREE", 4, true, &[&["write-tree"]]),
        base("v4, no TREE", 4, false, &[]),
        base(
            "v2, TREE, UNTR, EOIE, IEOT",
            2,
            true,
            &[
                &["config", "index.recordEndOfIndexEntries", "true"],
                &["config", "index.recordOffsetTable", "true"],
                &["config", "core.untrackedCache", "true"],
                &["update-index", "--untracked-cache"],
                &["status", "--porcelain"],
                &["write-tree"],
            ],
        ),
        base("v2, split index", 2, true, &[&["update-index", "--split-index"]]),
    ]
}

/// Where each entry starts and, for version 4, where its path varint is.
fn layout(index: &[u8]) -> (Vec<usize>, Vec<usize>, usize) {
    let version = u32::from_be_bytes(index[4..8].try_into().unwrap());
    let count = u32::from_be_bytes(index[8..12].try_into().unwrap()) as usize;
    let (mut starts, mut varints) = (Vec::new(), Vec::new());
    let mut at = 12;
    for _ in 0..count {
        starts.push(at);
        let flags = u16::from_be_bytes([index[at + 60], index[at + 61]]);
        let mut p = at + 62 + if flags & 0x4000 != 0 { 2 } else { 0 };
        if version == 4 {
            varints.push(p);
            while index[p] & 0x80 != 0 {
                p += 1;
            }
            p += 1;
            at = p + index[p..].iter().position(|&b| b == 0).unwrap() + 1;
        } else {
            let end = p + index[p..].iter().position(|&b| b == 0).unwrap();
            at += (end - at + 8) / 8 * 8;
        }
    }
    (starts, varints, at)
}

const HUGE: [u32; 4] = [0x7fff_ffff, 0xffff_ffff, 0x0100_0000, 0x8000_0000];

/// One mutation of `index`, chosen by `rng`.
fn mutate(index: &[u8], rng: &mut Rng) -> Vec<u8> {
    let (starts, varints, ext_start) = layout(index);
    let mut m = index.to_vec();
    let set32 = |m: &mut Vec<u8>, at: usize, v: u32| {
        if at + 4 <= m.len() {
            m[at..at + 4].copy_from_slice(&v.to_be_bytes());
        }
    };
    match rng.below(9) {
        0 => {
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(m.len());
                m[at] ^= 1 << rng.below(8);
            }
            m
        }
        1 => {
            let at = rng.below(m.len());
            m[at] = rng.next() as u8;
            m
        }
        2 => {
            m.truncate(rng.below(m.len()));
            m
        }
        3 => {
            // The entry count.
            let v = if rng.below(3) == 0 { rng.next() as u32 } else { HUGE[rng.below(HUGE.len())] };
            set32(&mut m, 8, v);
            m
        }
        4 => {
            // An extension's size.
            let mut exts = Vec::new();
            let mut at = ext_start;
            while at + 8 <= m.len().saturating_sub(20) {
                exts.push(at);
                at += 8 + u32::from_be_bytes(m[at + 4..at + 8].try_into().unwrap()) as usize;
            }
            match exts.get(rng.below(exts.len().max(1))) {
                Some(&e) => set32(&mut m, e + 4, HUGE[rng.below(HUGE.len())]),
                None => set32(&mut m, 8, HUGE[rng.below(HUGE.len())]),
            }
            m
        }
        5 => {
            // A cache-tree count: `name\0<entries> <subtrees>\n`, in text.
            let tree = (0..m.len().saturating_sub(4)).find(|&i| &m[i..i + 4] == b"TREE");
            let Some(tree) = tree else { return mutate_bytes(m, rng) };
            let nuls: Vec<usize> = (tree + 8..m.len()).filter(|&i| m[i] == 0).take(16).collect();
            let Some(&nul) = nuls.get(rng.below(nuls.len().max(1))) else { return m };
            let Some(nl) = m[nul..].iter().position(|&b| b == b'\n').map(|p| nul + p) else { return m };
            let Some(space) = m[nul..nl].iter().position(|&b| b == b' ').map(|p| nul + p) else { return m };
            let big: &[&[u8]] = &[b"99999999999999", b"4294967295", b"18446744073709551615", b"-1", b"2147483647"];
            let new = big[rng.below(big.len())];
            let mut out = m[..nul + 1].to_vec();
            if rng.below(2) == 0 {
                out.extend_from_slice(new);
                out.extend_from_slice(&m[space..]);
            } else {
                out.extend_from_slice(&m[nul + 1..space + 1]);
                out.extend_from_slice(new);
                out.extend_from_slice(&m[nl..]);
            }
            // Keep the extension's size consistent so the parser gets there.
            let grown = out.len() as i64 - m.len() as i64;
            let size = u32::from_be_bytes(out[tree + 4..tree + 8].try_into().unwrap()) as i64 + grown;
            set32(&mut out, tree + 4, size as u32);
            out
        }
        6 if !varints.is_empty() => {
            // An overlong path-prefix varint (version 4).
            let at = varints[rng.below(varints.len())];
            for b in m.iter_mut().skip(at).take(1 + rng.below(16)) {
                *b = 0xff;
            }
            m
        }
        7 if !starts.is_empty() => {
            // Flags of an entry: stage, extended bit, name length.
            let at = starts[rng.below(starts.len())] + 60;
            m[at] = rng.next() as u8;
            m
        }
        _ => mutate_bytes(m, rng),
    }
}

/// A run of random bytes somewhere.
fn mutate_bytes(mut m: Vec<u8>, rng: &mut Rng) -> Vec<u8> {
    let at = rng.below(m.len());
    let n = 1 + rng.below(32);
    for b in m.iter_mut().skip(at).take(n) {
        *b = rng.next() as u8;
    }
    m
}

/// Run the hook's check in `repo` with `index` as the index file.
fn judge(repo: &Path, index: &Path, args: &[&str]) -> Result<i32, String> {
    let mut cmd = clean(Command::new(BIN));
    let mut child = cmd
        .args(args)
        .current_dir(repo)
        .env("GIT_INDEX_FILE", index)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err("hung".to_string());
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stderr = reader.join().unwrap_or_default();
    match status.code() {
        Some(code @ 0..=2) if !stderr.contains("panicked") => Ok(code),
        code => Err(format!("exit {code:?} ({status}): {}", stderr.lines().take(3).collect::<Vec<_>>().join(" | "))),
    }
}

#[test]
fn corrupt_indexes_exit_cleanly() {
    let bases = bases();
    // Unmutated, every base judges the change: findings (exit 1); libgit2
    // cannot read a split index (a clear error, exit 2).
    for b in &bases {
        let path = b.repo.root.join(".git/index");
        let expected = if b.name.contains("split") { 2 } else { 1 };
        assert_eq!(judge(&b.repo.root, &path, &[]), Ok(expected), "{}", b.name);
    }
    let mut jobs: Vec<(usize, u64)> =
        (0..bases.len()).flat_map(|b| (0..MUTANTS_PER_BASE as u64).map(move |k| (b, k))).collect();
    // FBG_FUZZ_ONLY=3:81,3:102 reruns those mutants (base:number) alone.
    if let Ok(only) = std::env::var("FBG_FUZZ_ONLY") {
        jobs.retain(|(b, k)| only.split(',').any(|j| j == format!("{b}:{k}")));
    }
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let codes = Mutex::new([0usize; 3]);
    let dir = tempfile::tempdir().unwrap();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (bases, jobs, next, failures, codes) = (&bases, &jobs, &next, &failures, &codes);
            let file: PathBuf = dir.path().join(format!("index-{t}"));
            s.spawn(move || {
                while let Some(&(b, k)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let base = &bases[b];
                    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((b as u64) << 32 | k).wrapping_mul(0x1000_0000_01b3));
                    rng.next();
                    let mutant = mutate(&base.index, &mut rng);
                    std::fs::write(&file, &mutant).unwrap();
                    // FBG_FUZZ_KEEP=<dir>: keep the failing mutants there.
                    let keep = std::env::var_os("FBG_FUZZ_KEEP").map(PathBuf::from);
                    // Every fifth with --all: libgit2 reads the index alone.
                    let args: &[&str] = if k % 5 == 0 { &["--all"] } else { &[] };
                    match judge(&base.repo.root, &file, args) {
                        Ok(code) => codes.lock().unwrap()[code as usize] += 1,
                        Err(e) => {
                            if let Some(keep) = keep {
                                let _ = std::fs::copy(&file, keep.join(format!("{b}-{k}.index")));
                                let _ = Command::new("cp")
                                    .arg("-a")
                                    .arg(&base.repo.root)
                                    .arg(keep.join(format!("{b}-repo")))
                                    .status();
                            }
                            failures.lock().unwrap().push(format!("{} #{k}: {e}", base.name))
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let codes = codes.into_inner().unwrap();
    eprintln!("{} mutants: exit 0 x{}, 1 x{}, 2 x{}", jobs.len(), codes[0], codes[1], codes[2]);
    assert!(
        failures.is_empty(),
        "{} of {} mutants did not exit cleanly:\n{}",
        failures.len(),
        jobs.len(),
        failures.join("\n")
    );
}
