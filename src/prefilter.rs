//! A byte-level first pass that decides which files can hold a finding,
//! so that only those are parsed.
//!
//! A finding is a server start: `<x>.run` / `.run_server` called (or passed
//! on to a thread, a partial, a variable), or `run_simple`, on an object
//! that comes, through assignments and imports, from an import of an
//! application module (`flask`, `dash`, `flask_socketio`, `werkzeug`, ...).
//! So a file can hold a finding only if it has such a start and either
//! imports such a module itself or imports (transitively) a module of the
//! repository that does. Every test here over-approximates (an `import flask` in a docstring
//! makes a file a candidate), never the other way round;
//! `tests/prefilter.rs` checks that the prefiltered scan finds exactly what
//! parsing every file finds.

use memchr::memmem;

/// What the first pass learns about one file.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// A `.run` / `.run_server` attribute followed by a call may be here.
    pub run_call: bool,
    /// A server word's call was passed over as settled from its literals
    /// (see [`settled_call`]): such a call is a start after all where the
    /// callee may be a Connexion 1/2 app, whose `run()` binds every
    /// interface without a host, so a project that imports Connexion
    /// counts these files too.
    pub settled_run: bool,
    /// An application module may be imported here (or an extra app name
    /// from the configuration occurs).
    pub app_import: bool,
    /// What makes an app may be named here: an app module is imported and
    /// one of its app names (`Flask`, `Dash`, see [`framework_markers`])
    /// occurs as a word, or an extra app name occurs. Only such a module
    /// (or one that imports it) can hand an app to a helper it imports.
    pub app_maker: bool,
    /// Modules the file may import, see [`Imports`].
    pub imports: Imports,
}

/// A hash naming a module: absolute imports by their dotted name (`a.b`),
/// relative ones by the path they lead to from the importer (`pkg/sub/a/b`,
/// as [`path_key`] hashes a module's path). Equal names give equal keys; a
/// collision only adds a candidate that resolution then rejects.
pub fn import_key(importer: &std::path::Path, level: u32, dotted: &str) -> Option<u64> {
    KeyMaker::new(importer).key(level, dotted.as_bytes())
}

/// Computes [`import_key`]s for one importer without allocating per import:
/// the directories the dots lead to are found once, and relative paths are
/// assembled in one reused buffer.
struct KeyMaker<'p> {
    importer: &'p std::path::Path,
    /// The directories `level` dots lead to, in key form (`/`-separated).
    bases: Vec<Option<String>>,
    scratch: Vec<u8>,
}

impl<'p> KeyMaker<'p> {
    fn new(importer: &'p std::path::Path) -> Self {
        KeyMaker { importer, bases: Vec::new(), scratch: Vec::new() }
    }

    /// The key of `dotted` (UTF-8 text, as bytes) at `level`.
    fn key(&mut self, level: u32, dotted: &[u8]) -> Option<u64> {
        if level == 0 {
            return Some(hash_bytes(dotted));
        }
        let level = level as usize;
        while self.bases.len() < level {
            let up = self.bases.len();
            let base = self.importer.parent().and_then(|p| (0..up).try_fold(p, |b, _| b.parent()));
            self.bases.push(base.map(crate::paths::key_path));
        }
        let base = self.bases[level - 1].as_deref()?;
        self.scratch.clear();
        self.scratch.extend_from_slice(base.as_bytes());
        for part in dotted.split(|&c| c == b'.').filter(|p| !p.is_empty()) {
            if !self.scratch.is_empty() {
                self.scratch.push(b'/');
            }
            self.scratch.extend_from_slice(part);
        }
        Some(hash_bytes(&self.scratch))
    }
}

/// The key of the module at `module_path` (`a/b` for `a/b.py` or
/// `a/b/__init__.py`, `/`-separated), as a relative import names it.
pub fn path_key(module_path: &str) -> u64 {
    hash(module_path)
}

/// The key of an absolute import of `dotted` (`pkg.mod`), as
/// [`import_key`] makes it.
pub fn absolute_key(dotted: &str) -> u64 {
    hash(dotted)
}

/// The key of every relative import of the module in file `module`: its
/// path (`a/pkg/mod` for `a/pkg/mod.py` or `a/pkg/mod/__init__.py`).
pub fn relative_key(module: &std::path::Path) -> u64 {
    path_key(&crate::paths::key_path(&module_path(module)))
}

/// The path naming the module in file `module`: without `.py`, or its
/// package's directory for an `__init__.py`.
pub fn module_path(module: &std::path::Path) -> std::path::PathBuf {
    if module.file_name().is_some_and(|n| n == "__init__.py") {
        module.parent().map(std::path::Path::to_path_buf).unwrap_or_default()
    } else {
        module.with_extension("")
    }
}

fn hash(s: &str) -> u64 {
    hash_bytes(s.as_bytes())
}

fn hash_bytes(b: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(b);
    h.finish()
}

/// The modules a file may import, as their written form with the leading
/// dots of a relative import (`a.b`, `.x`, `..`), one per line in one
/// buffer: a file's facts cost one allocation, not one per import.
#[derive(Debug, Clone, Default)]
pub struct Imports {
    text: String,
    /// For each import (same order): [`import_key`] of the module it names,
    /// so the scanner finds importers by hash without re-reading text.
    keys: Vec<u64>,
    /// For each import: where its line starts in `text`.
    starts: Vec<u32>,
    /// An application module is among them.
    app: bool,
    /// One of them binds a name that may lead to an app or a server (see
    /// [`crate::frameworks::leads_to_one`]): `import flask`, `from flask
    /// import Flask`, `from werkzeug import serving`, a star import of such
    /// a module; not `from flask import request`.
    source: bool,
    /// Flask-Script is among them (see [`imports_script_server`]).
    script: bool,
    /// Connexion is among them: its `App.run()` binds every interface
    /// without a host (1/2), so no call settles from its literals.
    connexion: bool,
}

impl Imports {
    /// (level, dotted) pairs; duplicates are possible.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> {
        self.text.lines().map(split_level)
    }

    /// The `i`th import, as [`Imports::iter`] yields it.
    pub fn get(&self, i: usize) -> Option<(u32, &str)> {
        let rest = self.text.get(*self.starts.get(i)? as usize..)?;
        rest.lines().next().map(split_level)
    }

    pub fn keys(&self) -> &[u64] {
        &self.keys
    }

    /// Is Connexion among them?
    pub fn connexion(&self) -> bool {
        self.connexion
    }
}

/// Collects one file's [`Imports`]: the text as bytes, checked as UTF-8
/// once at the end (a `from_utf8` per name, an allocation per growth step
/// and `str` searches were a third of the prefilter's CPU time on an
/// 11,672-file audit), in buffers each thread reuses from file to file.
struct Builder<'p> {
    text: Vec<u8>,
    keys: Vec<u64>,
    starts: Vec<u32>,
    app: bool,
    source: bool,
    script: bool,
    connexion: bool,
    maker: KeyMaker<'p>,
    /// Names are converted lossily: the file's names are not all UTF-8
    /// (a file decoded through its coding cookie), as [`Imports`] shows them.
    lossy: bool,
}

type Buffers = (Vec<u8>, Vec<u64>, Vec<u32>);

thread_local! {
    static BUFFERS: std::cell::Cell<Buffers> = const { std::cell::Cell::new((Vec::new(), Vec::new(), Vec::new())) };
}

impl<'p> Builder<'p> {
    /// A builder that starts from `imports` (empty: a file's first pass).
    fn new(importer: &'p std::path::Path, imports: &Imports, lossy: bool) -> Self {
        let (mut text, mut keys, mut starts) = BUFFERS.take();
        text.clear();
        keys.clear();
        starts.clear();
        text.extend_from_slice(imports.text.as_bytes());
        keys.extend_from_slice(&imports.keys);
        starts.extend_from_slice(&imports.starts);
        Builder {
            text,
            keys,
            starts,
            app: imports.app,
            source: imports.source,
            script: imports.script,
            connexion: imports.connexion,
            maker: KeyMaker::new(importer),
            lossy,
        }
    }

    /// Append one import, its key, and whether it names an app module.
    fn push(&mut self, level: u32, parts: &[&[u8]]) {
        self.starts.push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
        self.text.extend(std::iter::repeat_n(b'.', level as usize));
        let dotted_start = self.text.len();
        for p in parts.iter().filter(|p| !p.is_empty()) {
            if self.text.len() > dotted_start {
                self.text.push(b'.');
            }
            if self.lossy {
                self.text.extend_from_slice(String::from_utf8_lossy(p).as_bytes());
            } else {
                self.text.extend_from_slice(p);
            }
        }
        let dotted = &self.text[dotted_start..];
        if level == 0 && !self.app {
            self.app = is_app_module(dotted);
        }
        if level == 0 && !self.script {
            self.script = dotted.starts_with(b"flask_script") || dotted.starts_with(b"flask.ext.script");
        }
        if level == 0 && !self.connexion {
            self.connexion = dotted.split(|&c| c == b'.').next() == Some(b"connexion");
        }
        self.keys.push(self.maker.key(level, dotted).unwrap_or(0));
        self.text.push(b'\n');
    }

    /// The imports collected; `None` if their text is not UTF-8 (collect
    /// them again, lossily). The buffers go back to the thread.
    fn finish(self) -> Option<Imports> {
        let imports = std::str::from_utf8(&self.text).ok().map(|text| Imports {
            text: text.to_owned(),
            keys: self.keys.clone(),
            starts: self.starts.clone(),
            app: self.app,
            source: self.source,
            script: self.script,
            connexion: self.connexion,
        });
        BUFFERS.set((self.text, self.keys, self.starts));
        imports
    }
}

/// [`Facts`] without what depends on the file's path: what a cache keyed
/// by content keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Portable<'a> {
    pub run_call: bool,
    pub settled_run: bool,
    pub app_import: bool,
    pub app_maker: bool,
    /// The imports as written, one per line (see [`split_level`]).
    pub text: &'a str,
}

impl Facts {
    /// What these facts are apart from the file's path (import keys depend
    /// on it): whether a start may be here, whether an app module may be
    /// imported, and the imports as written, one per line (see
    /// [`split_level`]): what a cache keyed by content stores.
    pub fn portable(&self) -> Portable<'_> {
        Portable {
            run_call: self.run_call,
            settled_run: self.settled_run,
            app_import: self.app_import,
            app_maker: self.app_maker,
            text: &self.imports.text,
        }
    }
}

/// Loaders that import a module named by a string while the program runs.
const LOADERS: &[&[u8]] = &[b"from_object", b"import_module", b"import_string"];

impl Facts {
    /// Adds the modules the file may load by name while it runs
    /// (`app.config.from_object("settings.Dev")`, `import_module(name)`):
    /// in a file that calls such a loader, every string literal that reads
    /// as a (dotted) module path, with its prefixes. The staged verdict
    /// follows them as imports; the audit does not need them (a file that
    /// loads configuration this way imports its app module itself).
    pub fn add_loaded_modules(&mut self, b: &[u8], importer: &std::path::Path) {
        if crate::notebook::is_notebook(importer) {
            let code = crate::notebook::code_or_empty(b);
            return self.add_loaded_modules_of_text(code.as_bytes(), importer);
        }
        self.add_loaded_modules_of_text(b, importer)
    }

    fn add_loaded_modules_of_text(&mut self, b: &[u8], importer: &std::path::Path) {
        if !LOADERS.iter().any(|l| memmem::find(b, l).is_some()) {
            return;
        }
        // Only ASCII names are pushed: the text stays UTF-8.
        let mut out = Builder::new(importer, &self.imports, false);
        let mut i = 0;
        while let Some(at) = memchr::memchr2(b'"', b'\'', &b[i..]) {
            let start = i + at + 1;
            let quote = b[start - 1];
            let Some(len) = b[start..].iter().position(|&c| c == quote || c == b'\n') else { break };
            let text = &b[start..start + len];
            i = start + len + 1;
            let is_path = !text.is_empty()
                && text.split(|&c| c == b'.').all(|part| {
                    part.first().is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                        && part.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
                });
            if is_path {
                for (k, &c) in text.iter().enumerate() {
                    if c == b'.' {
                        out.push(0, &[&text[..k]]);
                    }
                }
                out.push(0, &[text]);
            }
        }
        if let Some(imports) = out.finish() {
            self.imports = imports;
        }
    }
}

/// `(level, dotted)` of one line of [`Facts::portable`]'s imports text.
pub fn split_level(line: &str) -> (u32, &str) {
    let dotted = line.trim_start_matches('.');
    ((line.len() - dotted.len()) as u32, dotted)
}

/// What a framework's package provides (defines in its `__init__.py`, or
/// imports there from its own modules): the names an app is made by.
pub fn framework_markers(package: &str) -> Option<&'static [&'static str]> {
    Some(match package {
        "flask" => &["Flask"],
        "werkzeug" => &["run_simple"],
        "dash" => &["Dash"],
        "jupyter_dash" => &["JupyterDash"],
        "flask_socketio" => &["SocketIO"],
        "apiflask" => &["APIFlask"],
        "flask_openapi3" => &["OpenAPI"],
        "flask_script" => &["Manager"],
        "eve" => &["Eve"],
        "connexion" => &["FlaskApp", "App"],
        _ => return None,
    })
}

/// Top-level modules whose import makes a file a root of application values.
pub const APP_MODULES: &[&str] = &[
    "flask",
    "dash",
    "flask_socketio",
    "apiflask",
    "flask_openapi3",
    "jupyter_dash",
    "werkzeug",
    "flask_script",
    "eve",
    "connexion",
];

pub fn facts(path: &std::path::Path, bytes: &[u8], extra_tokens: &[String]) -> Facts {
    // A notebook's code, not its JSON (outputs may quote any code), is
    // what can start a server; the test costs nothing for other files.
    if crate::notebook::is_notebook(path) {
        return facts_of_code(path, crate::notebook::code_or_empty(bytes).as_bytes(), extra_tokens);
    }
    facts_of_code(path, bytes, extra_tokens)
}

/// The facts of `code`, the Python text of the file at `path` (for a
/// notebook, its joined cells).
pub fn facts_of_code(path: &std::path::Path, bytes: &[u8], extra_tokens: &[String]) -> Facts {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let imports = imports(bytes, path);
    let (run_call, settled_run) = server_words(bytes, !imports.connexion);
    let run_call = run_call || (imports_script_server(&imports) && has_script_server(bytes));
    let extra = extra_tokens.iter().any(|t| memmem::find(bytes, t.as_bytes()).is_some());
    let app_maker = extra || (imports.app && names_an_app(bytes, &imports));
    // (A file that names what a framework it imports makes counts however
    // its imports are spelt: the scan of imports may misread one.)
    let app_import = imports.source || app_maker;
    Facts { run_call, settled_run, app_import, app_maker, imports }
}

/// Does the file name what an app module it imports makes (`Flask` where
/// `flask` is imported): the word anywhere but in a comment, however it is
/// spelt around it (`from flask import \` then `Flask`, `flask. Flask`,
/// `getattr(flask, "Flask")`, a star import then `Flask(...)`).
fn names_an_app(b: &[u8], imports: &Imports) -> bool {
    imports
        .iter()
        .filter(|(level, _)| *level == 0)
        .filter_map(|(_, dotted)| framework_markers(dotted.split('.').next().unwrap_or(dotted)))
        .flatten()
        .any(|marker| {
            memmem::find_iter(b, marker.as_bytes()).any(|pos| {
                let end = pos + marker.len();
                (pos == 0 || !is_ident(b[pos - 1])) && b.get(end).is_none_or(|&c| !is_ident(c)) && !in_comment(b, pos)
            })
        })
}

/// Is the byte at `pos` in a `#` comment? Read from its line's start,
/// skipping quoted strings on that line (a string that spans lines is read
/// as code: the answer is then no).
fn in_comment(b: &[u8], pos: usize) -> bool {
    let start = b[..pos].iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
    let mut quote: Option<u8> = None;
    let mut i = start;
    while i < pos {
        match (quote, b[i]) {
            (Some(_), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, c @ (b'"' | b'\'')) => quote = Some(c),
            (None, b'#') => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

fn is_ident(b: u8) -> bool {
    NAME_BYTES[usize::from(b)] & IDENT != 0
}

/// A byte of a dotted name (`a.b`): what import scanning walks over.
fn is_dotted(b: u8) -> bool {
    NAME_BYTES[usize::from(b)] != 0
}

const IDENT: u8 = 1;
const DOT: u8 = 2;

/// Per byte: [`IDENT`] for a name's bytes (ASCII letters, digits, `_`,
/// and every byte of a non-ASCII character), [`DOT`] for `.`. One load
/// instead of a chain of comparisons in the scanning loops.
static NAME_BYTES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            table[b] = IDENT;
        }
        b += 1;
    }
    table[b'.' as usize] = DOT;
    table
};

/// Does the file import Flask-Script (`flask_script`, `flask.ext.script`)
/// itself? Only then is it searched for `Server(...)` (one pass less over
/// every other file, and no parse of the many projects with a `Server`
/// class of their own); the analysis takes `Server` for a start in such
/// files only too, so the two agree.
fn imports_script_server(imports: &Imports) -> bool {
    // Noted as each import was collected: asking every file's text again
    // was 3% of an audit's instructions.
    imports.script
}

/// Flask-Script's `Server(...)` called with arguments that may bind every
/// interface (`manager.add_command("runserver", Server(host="0.0.0.0"))`).
fn has_script_server(b: &[u8]) -> bool {
    static SERVER: std::sync::LazyLock<memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memmem::Finder::new("Server"));
    SERVER.find_iter(b).any(|pos| {
        let after = &b[pos + 6..];
        let called = after.iter().find(|&&c| !matches!(c, b' ' | b'\t')) == Some(&b'(');
        (pos == 0 || !is_ident(b[pos - 1])) && called && !settled_call(after)
    })
}

/// Can a server be started here on every interface? `.run` / `.run_server`
/// as an attribute, called with arguments or passed on as a value
/// (`Thread(target=app.run)`, `run = app.run`), or the word `run_simple`.
/// A call whose arguments are all literals that cannot bind every
/// interface (`app.run()`, `app.run(debug=True)`, `app.run(host=
/// "127.0.0.1", port=5000)`) does not count (see [`settled_call`]).
pub fn has_run_call(b: &[u8]) -> bool {
    server_words(b, true).0
}

/// [`has_run_call`], where `settle` says whether a call of literals that
/// cannot bind may be passed over (not in a file importing Connexion,
/// whose `App.run()` binds every interface without a host).
/// Also whether a call was passed over as settled (until the first that is
/// not: then the file counts anyway).
fn server_words(b: &[u8], settle: bool) -> (bool, bool) {
    let settled = std::cell::Cell::new(false);
    let settled_call = |after: &[u8]| {
        let s = settle && settled_call(after);
        settled.set(settled.get() | s);
        s
    };
    static RUN: std::sync::LazyLock<memmem::Finder<'static>> = std::sync::LazyLock::new(|| memmem::Finder::new("run"));
    for pos in RUN.find_iter(b) {
        if pos > 0 && is_ident(b[pos - 1]) {
            continue;
        }
        let after = &b[pos + 3..];
        let word = |suffix: &[u8]| after.starts_with(suffix) && after.get(suffix.len()).is_none_or(|&c| !is_ident(c));
        if word(b"_simple") {
            // A bare `run_simple(...)` may be a partial that holds the host
            // (brought in by a star import): only the attribute settles.
            if preceded_by_dot(b, pos) && settled_call(&after[7..]) {
                continue;
            }
            return (true, settled.get());
        }
        let word_len = match after.first() {
            None => 0,
            Some(&c) if !is_ident(c) => 0,
            Some(_) if word(b"_server") => 7,
            Some(_) => continue,
        };
        if preceded_by_dot(b, pos) && !settled_call(&after[word_len..]) {
            return (true, settled.get());
        }
    }
    (false, settled.get())
}

/// Do the bytes after a server word make a call that cannot bind every
/// interface, whatever the callee turns out to be? That is a call on the
/// same line (`run (`, not `run` then a line break) whose arguments are
/// each a literal (a number, `True`/`False`/`None`, a plain string that
/// [`binds_all_interfaces`](crate::hosts::binds_all_interfaces) rejects),
/// optionally by keyword, with no `*`/`**`, comment or nested bracket.
///
/// Why this is exact: the analysis reads a start's host from the call's own
/// arguments (or from a partial's, but a partial or a bound method kept in a
/// variable needs the word without a call, which this does not accept, and
/// a file with such a word stays a candidate); a call that passes no host
/// binds the default, and calling a server yields no server. So a file
/// whose every server word is such a call has nothing to find, and is not
/// parsed. Anything else, including text this does not understand, answers
/// no: the file stays a candidate.
pub fn settled_call(after: &[u8]) -> bool {
    let blank = |c: u8| matches!(c, b' ' | b'\t' | b'\x0c');
    let mut i = after.iter().take_while(|&&c| blank(c)).count();
    if after.get(i) != Some(&b'(') {
        return false;
    }
    i += 1;
    // Inside the brackets line breaks (and continuations) are blanks.
    let skip = |mut i: usize| {
        while let Some(&c) = after.get(i) {
            match c {
                b' ' | b'\t' | b'\x0c' | b'\r' | b'\n' => i += 1,
                b'\\' if matches!(after.get(i + 1), Some(b'\n' | b'\r')) => i += 2,
                _ => break,
            }
        }
        i
    };
    loop {
        i = skip(i);
        match after.get(i) {
            Some(b')') => return true,
            None => return false,
            Some(_) => {}
        }
        // `name=` (not `==`): a keyword; the value follows.
        let name_len = after[i..].iter().take_while(|&&c| is_ident(c)).count();
        if name_len > 0 && !after[i].is_ascii_digit() {
            let j = skip(i + name_len);
            if after.get(j) == Some(&b'=') && after.get(j + 1) != Some(&b'=') {
                i = skip(j + 1);
            }
        }
        let Some(end) = settled_literal(after, i) else { return false };
        i = skip(end);
        match after.get(i) {
            Some(b',') => i += 1,
            Some(b')') => return true,
            _ => return false,
        }
    }
}

/// The end of the literal at `i` when it is one that cannot bind every
/// interface; `None` for anything else.
fn settled_literal(b: &[u8], mut i: usize) -> Option<usize> {
    let word_end = |i: usize| i + b[i..].iter().take_while(|&&c| is_dotted(c)).count();
    if matches!(b.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let first = *b.get(i)?;
    if first.is_ascii_digit() || (first == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
        // 5000, 0x1F, 1_000, 2.5 (an exponent's sign is not taken: no).
        return Some(word_end(i));
    }
    let end = word_end(i);
    let word = &b[i..end];
    if matches!(word, b"True" | b"False" | b"None") {
        return Some(end);
    }
    // A string: an optional r/u prefix, one or three quotes, no escapes.
    let prefix_ok = matches!(word, b"" | b"r" | b"R" | b"u" | b"U");
    let quote = *b.get(end)?;
    if !prefix_ok || !matches!(quote, b'"' | b'\'') {
        return None;
    }
    let triple = b.get(end..end + 3).is_some_and(|q| q.iter().all(|&c| c == quote));
    let open = if triple { 3 } else { 1 };
    let body_start = end + open;
    let close =
        |j: usize| if triple { b.get(j..j + 3).is_some_and(|q| q.iter().all(|&c| c == quote)) } else { b[j] == quote };
    let mut j = body_start;
    while j < b.len() && !close(j) {
        if b[j] == b'\\' || (!triple && matches!(b[j], b'\n' | b'\r')) {
            return None;
        }
        j += 1;
    }
    if j >= b.len() {
        return None;
    }
    let body = std::str::from_utf8(&b[body_start..j]).ok()?;
    if crate::hosts::binds_all_interfaces(body) {
        return None;
    }
    let after = j + open;
    // `"0.0." "0.0"` is one string: adjacent literals are not followed.
    let next = b[after..].iter().position(|&c| !matches!(c, b' ' | b'\t' | b'\x0c' | b'\r' | b'\n' | b'\\'));
    if next.is_some_and(|k| matches!(b[after + k], b'"' | b'\'') || is_ident(b[after + k])) {
        return None;
    }
    Some(after)
}

/// Is the token at `pos` preceded by `.` (across blanks, line
/// continuations, and lines that might end in a comment)?
fn preceded_by_dot(b: &[u8], pos: usize) -> bool {
    let mut i = pos;
    while i > 0 {
        match b[i - 1] {
            b' ' | b'\t' | b'\x0c' | b'\\' => i -= 1,
            b'\n' | b'\r' => {
                // Inside brackets the dot may end the previous line, or sit
                // before a comment there: stay conservative.
                let line_end = i - 1;
                let line_start = memchr::memrchr(b'\n', &b[..line_end]).map_or(0, |p| p + 1);
                let line = &b[line_start..line_end];
                if line.contains(&b'#') {
                    return true;
                }
                i = line_end;
            }
            b'.' => return true,
            _ => return false,
        }
    }
    false
}

/// Every module an import statement in the file may load, as
/// (level, dotted). `from a import b` yields `a` and `a.b` (b may be a
/// submodule); `import a.b.c` yields `a`, `a.b`, `a.b.c`.
pub fn imports(b: &[u8], importer: &std::path::Path) -> Imports {
    let mut out = Builder::new(importer, &Imports::default(), false);
    collect_imports(b, &mut out);
    out.finish().unwrap_or_else(|| {
        let mut out = Builder::new(importer, &Imports::default(), true);
        collect_imports(b, &mut out);
        out.finish().unwrap_or_default()
    })
}

/// The finder of [`imports`], built once (not once per file).
static IMPORT: std::sync::LazyLock<memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memmem::Finder::new("import"));

fn collect_imports(b: &[u8], out: &mut Builder) {
    for pos in IMPORT.find_iter(b) {
        if (pos > 0 && is_ident(b[pos - 1])) || b.get(pos + 6).is_some_and(|&c| is_ident(c)) {
            continue;
        }
        let mut i = pos;
        skip_blanks_back(b, &mut i);
        let end = i;
        while i > 0 && is_dotted(b[i - 1]) {
            i -= 1;
        }
        // Blanks or continued lines may part the module's names where a
        // dot joins them (`from flask . app import`, `from werkzeug.\`):
        // such runs are read too, up to the `from` keyword.
        let mut spaced = false;
        loop {
            let mut j = i;
            skip_blanks_back(b, &mut j);
            if j == i || i == end || !(b[i] == b'.' || (j > 0 && b[j - 1] == b'.')) {
                break;
            }
            let mut k = j;
            while k > 0 && is_dotted(b[k - 1]) {
                k -= 1;
            }
            if k == j || &b[k..j] == b"from" {
                break;
            }
            i = k;
            spaced = true;
        }
        let joined: Vec<u8>;
        let module = if spaced {
            joined = b[i..end].iter().copied().filter(|&c| is_dotted(c)).collect();
            &joined[..]
        } else {
            &b[i..end]
        };
        let mut j = i;
        skip_blanks_back(b, &mut j);
        let is_from = !module.is_empty() && b[..j].ends_with(b"from") && (j < 5 || !is_ident(b[j - 5]));
        if is_from {
            let level = module.iter().take_while(|&&c| c == b'.').count();
            let module = &module[level..];
            let level = level as u32;
            let framework = level == 0 && is_app_module(module);
            for_each_name(b, pos + 6, |name| {
                out.source |= framework && leads_to_one(&[module, name]);
                out.push(level, &[module, name]);
            });
            if framework && star_follows(b, pos + 6) {
                out.source |= leads_to_one(&[module]);
            }
            if level > 0 || !module.is_empty() {
                out.push(level, &[module]);
            }
        } else {
            for_each_name(b, pos + 6, |dotted| {
                // (`import a.b` binds `a`; an alias binds `a.b`, but any
                // import of an app module counts: aliases are not read.)
                out.source |= is_app_module(dotted);
                for (k, &c) in dotted.iter().enumerate() {
                    if c == b'.' {
                        out.push(0, &[&dotted[..k]]);
                    }
                }
                out.push(0, &[dotted]);
            });
        }
    }
}

/// Is `dotted`'s first part an app module ([`APP_MODULES`])?
fn is_app_module(dotted: &[u8]) -> bool {
    let top = dotted.split(|&c| c == b'.').next().unwrap_or(dotted);
    APP_MODULES.iter().any(|m| m.as_bytes() == top)
}

/// Do the parts, joined by dots, name a path of [`crate::frameworks`] or
/// a module or class on the way to one? (Asked of app modules' imports
/// only: a few in a file.)
fn leads_to_one(parts: &[&[u8]]) -> bool {
    let dotted: Vec<u8> = parts.join(&b'.');
    std::str::from_utf8(&dotted).is_ok_and(crate::frameworks::leads_to_one)
}

/// Is the first thing after `import` (at `i`) a `*` (in brackets too)?
fn star_follows(b: &[u8], i: usize) -> bool {
    b[i.min(b.len())..].iter().find(|&&c| !matches!(c, b' ' | b'\t' | b'\x0c' | b'(' | b'\\' | b'\r' | b'\n'))
        == Some(&b'*')
}

fn skip_blanks_back(b: &[u8], i: &mut usize) {
    while *i > 0 {
        match b[*i - 1] {
            b' ' | b'\t' | b'\x0b' | b'\x0c' => *i -= 1,
            b'\n' | b'\r' if *i >= 2 && b[*i - 2] == b'\\' => *i -= 2,
            b'\n' if *i >= 3 && b[*i - 2] == b'\r' && b[*i - 3] == b'\\' => *i -= 3,
            _ => break,
        }
    }
}

/// Calls `f` with each dotted name listed after `import` (aliases
/// dropped), up to the end of the statement; inside parentheses, newlines
/// and comments are skipped.
fn for_each_name(b: &[u8], mut i: usize, mut f: impl FnMut(&[u8])) {
    let mut parens = false;
    let mut expect_alias = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\x0b' | b'\x0c' | b',' => i += 1,
            // A line continuation (`import flask, \` then `helper`), also
            // with the old Mac line end (`\r` alone).
            b'\\' if b.get(i + 1) == Some(&b'\n') => i += 2,
            b'\\' if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') => i += 3,
            b'\\' if b.get(i + 1) == Some(&b'\r') => i += 2,
            b'\\' => i += 1,
            b'(' if !parens => {
                parens = true;
                i += 1;
            }
            b'\n' | b'\r' if parens => i += 1,
            b'#' if parens => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            _ if is_dotted(c) => {
                let start = i;
                i += b[i..].iter().take_while(|&&c| is_dotted(c)).count();
                let word = &b[start..i];
                if expect_alias {
                    expect_alias = false;
                } else if word == b"as" {
                    expect_alias = true;
                } else {
                    f(word);
                }
            }
            _ => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_calls() {
        assert!(has_run_call(b"app.run(host='0.0.0.0')"));
        assert!(has_run_call(b"app . run (x)"));
        assert!(has_run_call(b"app.run_server(**kw)"));
        assert!(has_run_call(b"(app.\n    run(h))"));
        assert!(has_run_call(b"(app.  # c\n    run(h))"));
        assert!(has_run_call(b"app.run(\n    # the host\n)"));
        assert!(has_run_call(b"app.run(  \n  host=h)"));
        // Passed on as a value: a thread, a partial, a variable may call it.
        assert!(has_run_call(b"Thread(target=app.run, kwargs=kw)"));
        assert!(has_run_call(b"f = app.run\n"));
        assert!(has_run_call(b"from werkzeug.serving import run_simple as rs"));
        // No arguments: never a finding.
        assert!(!has_run_call(b"app.run()\nsocketio.run( )\napp.run_server(\n)"));
        assert!(!has_run_call(b"run(main())\nrunner.go()\nx.running = 1\nrun_simpler()\n"));
        assert!(!has_run_call(b"def run(self): pass"));
        // Only literals that cannot bind every interface: settled here.
        assert!(!has_run_call(b"app.run(host='127.0.0.1', port=5000)\nsocketio.run(debug=True, port=0x1F)\n"));
        assert!(!has_run_call(b"app.run(\n    host=\"localhost\",  \n    port=-1,\n    debug=None,\n)\n"));
        assert!(!has_run_call(b"app.run_server(host=u'''::1''', port=8050)\napp.run(host='')\n"));
        assert!(!has_run_call(b"app.run('127.0.0.1', 5000, True)\nprint('0.0.0.0')\n"));
        // One unsettled start keeps the file.
        assert!(has_run_call(b"app.run(host='127.0.0.1')\nrun_simple('0.0.0.0', 1, app)\n"));
        assert!(!has_run_call(b"serving.run_simple('localhost', 5000, use_debugger=True)\n"));
        assert!(has_run_call(b"from tools import *\nrun_simple(port=5000)\n"));
        // Flask-Script's runserver command.
        assert!(has_script_server(b"manager.add_command('runserver', Server(host='0.0.0.0'))"));
        assert!(has_script_server(b"script.Server (host=HOST)"));
        assert!(!has_script_server(b"Server(host='127.0.0.1', port=5000)\nHTTPServer(addr)\nServerError('x')\n"));
        // A `def run_simple` elsewhere in the file does not hide a call.
        assert!(has_run_call(b"def run_simple_dev():\n    run_simple('0.0.0.0', 1, a)\n"));
    }

    #[test]
    fn settled_calls() {
        let settled = |s: &str| settled_call(s.as_bytes());
        for yes in [
            "()",
            " ( )",
            "(host='127.0.0.1', port=5000)",
            "(port=5000,)",
            "(\n  '10.0.0.1',\n  8080, \\\n  debug=False)",
            "(host=\"\"\"localhost\"\"\")",
            "(host=R'::1', threaded=True, port=.5)",
            "(host='0.0.0.0.0')",
        ] {
            assert!(settled(yes), "{yes}");
        }
        for no in [
            "",
            "\n()",
            "(",
            "(host='0.0.0.0')",
            "('0.0.0.0', 5000)",
            "(host=\"::\")",
            "(port=1, host='0')",
            "(host='0.0.' '0.0')",
            "(host='0.0.'\n  '0.0')",
            "(host='\\x30.0.0.0')",
            "(host=b'0.0.0.0')",
            "(host=f'{h}')",
            "(host=h)",
            "(host=HOSTS[0])",
            "(host=get())",
            "(**options)",
            "(*args)",
            "(host='127.0.0.1' if x else '0.0.0.0')",
            "(host='127.0.0.1',  # '0.0.0.0' in production\n)",
            "(host := '0.0.0.0')",
            "(port=1e-3)",
            "(host='127.0.0.1'",
            "(host='127.0.0.1)",
            "(host='''127.0.0.1)",
            "(x=lambda: '0.0.0.0')",
            "(host='127.0.0.1', app)",
        ] {
            assert!(!settled(no), "{no}");
        }
    }

    #[test]
    fn import_forms() {
        let list = imports(
            b"import a.b as c, d\nfrom .x import (y,\n  z as w,  # c\n)\nfrom .. import q\nfrom m import *\n",
            std::path::Path::new("t.py"),
        );
        let mut got: Vec<(u32, String)> = list.iter().map(|(l, m)| (l, m.to_string())).collect();
        got.sort();
        got.dedup();
        let want: Vec<(u32, String)> = vec![
            (0, "a".into()),
            (0, "a.b".into()),
            (0, "d".into()),
            (0, "m".into()),
            (1, "x".into()),
            (1, "x.y".into()),
            (1, "x.z".into()),
            (2, "q".into()),
        ];
        let mut got_sorted = got.clone();
        got_sorted.retain(|(l, m)| !(*l == 2 && m.is_empty()));
        assert_eq!(got_sorted, want);
        assert!(got.contains(&(2, String::new())));
    }

    #[test]
    fn names_not_utf8_read_lossily() {
        // A file decoded through its coding cookie: its names as text show
        // the replacement character, and their keys are those of that text.
        let path = std::path::Path::new("t.py");
        let list = imports(b"import caf\xe9.x\nimport ok\n", path);
        let got: Vec<(u32, &str)> = list.iter().collect();
        assert_eq!(got, [(0, "caf\u{FFFD}"), (0, "caf\u{FFFD}.x"), (0, "ok")]);
        let want: Vec<u64> = got.iter().map(|(l, d)| import_key(path, *l, d).unwrap()).collect();
        assert_eq!(list.keys(), want);
    }

    #[test]
    fn module_keys_match_import_keys() {
        use std::path::Path;
        for dotted in ["mod", "pkg.mod", "a.pkg.mod"] {
            assert_eq!(Some(absolute_key(dotted)), import_key(Path::new("a/b.py"), 0, dotted), "{dotted}");
        }
        // A module is found by the key of a relative import, from a module
        // beside it or further down, whether it is a file or a package.
        let relative = [
            import_key(Path::new("a/pkg/sub/x.py"), 2, "mod").unwrap(),
            import_key(Path::new("a/pkg/y.py"), 1, "mod").unwrap(),
            import_key(Path::new("a/z.py"), 1, "pkg.mod").unwrap(),
        ];
        for module in ["a/pkg/mod.py", "a/pkg/mod/__init__.py"] {
            let key = relative_key(Path::new(module));
            assert!(relative.iter().all(|&k| k == key), "{module}");
        }
        assert_ne!(relative_key(Path::new("a/pkg/other.py")), relative[0]);
    }

    #[test]
    fn tokens() {
        assert!(facts(std::path::Path::new("t.py"), b"from flask import Flask", &[]).app_import);
        assert!(facts(std::path::Path::new("t.py"), b"import jupyter_dash", &[]).app_import);
        assert!(facts(std::path::Path::new("t.py"), b"from dash import Dash", &[]).app_import);
        assert!(!facts(std::path::Path::new("t.py"), b"import sanic\n# flask and dash", &[]).app_import);
        assert!(!facts(std::path::Path::new("t.py"), b"from .flask import x", &[]).app_import);
    }

    /// An app module's import counts only when what it binds may lead to an
    /// app or a server: a module that imports `request` from Flask hands
    /// nothing on that could start one.
    #[test]
    fn app_imports_are_those_that_may_lead_to_an_app() {
        let app_import = |text: &str| facts(std::path::Path::new("t.py"), text.as_bytes(), &[]).app_import;
        for text in [
            "import flask",
            "import werkzeug.exceptions",
            "import flask as f",
            "from flask import Flask as F",
            "from flask import (\n    request,\n    Flask,\n)",
            "from flask import *",
            "from werkzeug import serving",
            "from werkzeug.serving import run_simple",
            "from flask.ext.script import Manager",
            "from connexion import apps",
            "from flask_socketio import SocketIO, emit",
            // Parted around the dots, or continued: read as Python reads it.
            "from flask import request\nfrom werkzeug . serving import *",
            "from flask import request\nfrom werkzeug.\\\n    serving import *",
            "from flask import request\nfrom werkzeug import exceptions, \\\rserving",
        ] {
            assert!(app_import(text), "{text}");
        }
        for text in [
            "from flask import request, jsonify, render_template",
            "from werkzeug.exceptions import *",
            "from werkzeug.serving import make_server, BaseWSGIServer",
            "from dash import html, dcc",
            "from flask import current_app",
            "from .flask import Flask",
        ] {
            assert!(!app_import(text), "{text}");
        }
    }

    #[test]
    fn every_framework_path_is_under_an_app_module() {
        for p in crate::frameworks::all() {
            assert!(is_app_module(p.as_bytes()), "{p}");
        }
    }
}
