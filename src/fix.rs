//! `--fix` and `--diff`: the host string literal becomes its loopback twin.
//!
//! A fix is a set of [`Edit`]s applied by one function ([`apply`]); the
//! fixed text is re-parsed and re-checked before anyone may write it, and a
//! fix that would not hold (a new syntax error, a finding left that was
//! meant to go) is refused. Only string literals are rewritten: a name, an
//! environment lookup or a `**` dict is never replaced by a literal.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::analysis::value::Loc;
use crate::analysis::{check_module, loopback_for};
use crate::finding::{Finding, Origin, Position};
use crate::project::Project;
use crate::python::{Arg, Module, ModuleRef, parse_module};
use crate::scan::FileReport;

/// Replace `span` (bytes of the decoded text) with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Range<usize>,
    pub replacement: String,
}

/// The edits of one file and what they fix.
#[derive(Debug, Clone)]
pub struct FileFix {
    pub path: PathBuf,
    pub old: String,
    pub new: String,
    /// The file as it was and as it will be, in its own encoding.
    pub old_bytes: Vec<u8>,
    pub new_bytes: Vec<u8>,
    pub fixed: usize,
    /// Each edit, with the findings (by path and start) it fixes.
    pub edits: Vec<(Edit, Vec<(PathBuf, Position)>)>,
    /// A notebook's cells: `old` and `new` are its code, and the diff is
    /// shown cell by cell.
    pub notebook: Option<std::sync::Arc<crate::notebook::Cells>>,
}

/// A finding the fixer leaves alone, and why.
#[derive(Debug, Clone)]
pub struct Unfixable {
    pub path: PathBuf,
    /// In a notebook: the line in the cell.
    pub line: usize,
    pub column: usize,
    pub reason: String,
    /// In a notebook: the cell's number as Jupyter shows it (1-based).
    pub cell: Option<usize>,
}

impl Unfixable {
    fn new(path: &Path, at: Position, reason: String, cells: Option<&crate::notebook::Cells>) -> Self {
        let cell = cells.and_then(|c| c.locate(at.line));
        Unfixable {
            path: path.to_path_buf(),
            line: cell.map_or(at.line, |c| c.line),
            column: at.column,
            reason,
            cell: cell.map(|c| c.number()),
        }
    }

    /// `path:line:column`, or `path:cell N:line:column` in a notebook.
    pub fn location(&self) -> String {
        match self.cell {
            Some(n) => format!("{}:cell {n}:{}:{}", self.path.display(), self.line, self.column),
            None => format!("{}:{}:{}", self.path.display(), self.line, self.column),
        }
    }
}

/// Apply non-overlapping edits to `text`.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, String> {
    let mut edits: Vec<&Edit> = edits.iter().collect();
    edits.sort_by_key(|e| e.span.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in edits {
        if e.span.start < at || e.span.end > text.len() || !text.is_char_boundary(e.span.start) {
            return Err("overlapping or out-of-range edits".into());
        }
        out.push_str(&text[at..e.span.start]);
        out.push_str(&e.replacement);
        at = e.span.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// The literal `text` (one string, or an implicit concatenation) rewritten
/// to hold `value`, keeping the first part's prefix and quotes.
pub fn rewrite_literal(text: &str, value: &str) -> Option<String> {
    let prefix: String = text.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    if prefix.len() > 2 || prefix.chars().any(|c| matches!(c, 'b' | 'B' | 't' | 'T')) {
        return None;
    }
    let rest = &text[prefix.len()..];
    let quote = ["\"\"\"", "'''", "\"", "'"].into_iter().find(|q| rest.starts_with(q))?;
    Some(format!("{prefix}{quote}{value}{quote}"))
}

/// Byte offsets where one of `words` is read as a name in the code of
/// `text`. Comments and plain strings are skipped; an f-string's text is
/// searched whole (its fields are code). A name followed by `=` binds
/// rather than reads (a keyword argument, an assignment target), as does
/// one annotated at the start of a line (`HOST: str = ...`).
fn name_uses(text: &str, words: &[String]) -> Vec<usize> {
    let b = text.as_bytes();
    let ident_start = |c: u8| c == b'_' || c.is_ascii_alphabetic() || c >= 0x80;
    let ident = |c: u8| ident_start(c) || c.is_ascii_digit();
    let whole = |at: usize, len: usize| (at == 0 || !ident(b[at - 1])) && b.get(at + len).is_none_or(|&c| !ident(c));
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'#' {
            i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
        } else if c == b'"' || c == b'\'' {
            i = string_end(b, i);
        } else if c.is_ascii_digit() {
            while i < b.len() && ident(b[i]) {
                i += 1;
            }
        } else if ident_start(c) {
            let start = i;
            while i < b.len() && ident(b[i]) {
                i += 1;
            }
            let word = &b[start..i];
            if matches!(b.get(i), Some(b'"' | b'\''))
                && word.len() <= 2
                && word.iter().all(|c| b"rRbBuUfFtT".contains(c))
            {
                let end = string_end(b, i);
                if word.iter().any(|c| b"fFtT".contains(c)) {
                    for w in words {
                        for at in memchr::memmem::find_iter(&b[i..end], w.as_bytes()) {
                            if whole(i + at, w.len()) {
                                out.push(i + at);
                            }
                        }
                    }
                }
                i = end;
            } else if words.iter().any(|w| w.as_bytes() == word) && !binds(b, start, i) {
                out.push(start);
            }
        } else {
            i += 1;
        }
    }
    out.sort_unstable();
    out
}

/// Does the name at `start..end` bind (see [`name_uses`])?
fn binds(b: &[u8], start: usize, end: usize) -> bool {
    let rest = &b[end..];
    let next = rest.iter().position(|c| !matches!(c, b' ' | b'\t')).map_or(&[][..], |n| &rest[n..]);
    if next.starts_with(b"=") && !next.starts_with(b"==") {
        return true;
    }
    let line_start = b[..start].iter().rposition(|&c| c == b'\n').map_or(0, |n| n + 1);
    next.starts_with(b":") && !next.starts_with(b":=") && b[line_start..start].iter().all(|c| matches!(c, b' ' | b'\t'))
}

/// Where the string literal opening at `b[i]` (a quote) ends.
fn string_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let triple = b.get(i..i + 3) == Some(&[q, q, q][..]);
    let close: &[u8] = if triple { &b[i..i + 3] } else { &b[i..i + 1] };
    let mut j = i + close.len();
    while j < b.len() {
        if b[j] == b'\\' {
            j += 2;
        } else if b[j..].starts_with(close) {
            return j + close.len();
        } else if !triple && b[j] == b'\n' {
            return j;
        } else {
            j += 1;
        }
    }
    b.len()
}

/// Another read of the constant `name` (`HOST`, `Config.HOST`) whose
/// literal is at `literal` in `module`, other than the host argument of the
/// findings it is the host of: in `module`, or in any module of the project
/// that imports it (or imports one that does: re-exports). `Err` when the
/// project's files cannot be listed to find out.
fn other_use(
    project: &Project,
    module: &Module,
    name: &str,
    literal: &Loc,
    all: &[&Finding],
) -> Result<Option<(PathBuf, usize)>, String> {
    let short = name.rsplit('.').next().unwrap_or(name);
    let dotted = name.contains('.');
    // `attrs`: whether `x.HOST` counts. In the defining module a plain
    // name's `sock.bind` or `self.HOST` is another thing; in an importer
    // `config.HOST` is this one.
    let first_use = |m: &Module, words: &[String], skip: &[Range<usize>], attrs: bool| {
        let hosts: Vec<Range<usize>> = all
            .iter()
            .filter(|g| g.literal.as_ref() == Some(literal) && g.path == m.path)
            .map(|g| g.host_span.clone())
            .collect();
        let text = m.text().as_bytes();
        let after_dot = |at: usize| text[..at].iter().rev().find(|c| !matches!(c, b' ' | b'\t')) == Some(&b'.');
        name_uses(m.text(), words)
            .into_iter()
            .filter(|&at| attrs || !after_dot(at))
            .find(|at| !hosts.iter().chain(skip).any(|s| s.contains(at)))
            .map(|at| (m.path.clone(), m.line_of(at)))
    };
    let mut words = vec![short.to_string()];
    if let Some(found) = first_use(module, &words, &[], dotted) {
        return Ok(Some(found));
    }
    // A name bound only inside functions cannot be imported.
    let global = dotted || module.statements().iter().any(|(scope, st)| {
        *scope == 0
            && matches!(st, crate::python::ir::Stmt::Assign { targets, .. } if targets.iter().any(|t| t.binds(short)))
    });
    if !global {
        return Ok(None);
    }
    let files = project.tree().python_files().ok_or("its other uses cannot be looked for")?;
    let mut sources = vec![module.path.clone()];
    let mut importers: Vec<ModuleRef> = Vec::new();
    loop {
        let mut grew = false;
        for path in &files {
            if sources.contains(path) {
                continue;
            }
            // Only files that hold one of the names at all are parsed.
            let Ok(bytes) = project.tree().read(path) else { continue };
            if !words.iter().any(|w| memchr::memmem::find(&bytes, w.as_bytes()).is_some()) {
                continue;
            }
            let Ok(m) = project.load(path) else { continue };
            let (imports, aliases) = imports_of(project, &m, &sources, &words);
            if imports.is_empty() {
                continue;
            }
            for a in aliases {
                if !words.contains(&a) {
                    words.push(a);
                }
            }
            sources.push(path.clone());
            importers.push(m);
            grew = true;
        }
        if !grew {
            break;
        }
    }
    // Checked once every alias is known.
    for m in &importers {
        let (imports, _) = imports_of(project, m, &sources, &words);
        if let Some(found) = first_use(m, &words, &imports, true) {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The spans of `m`'s import statements that import one of `sources`, and
/// the names they bind one of `words` to (`from config import HOST as H`).
fn imports_of(
    project: &Project,
    m: &Module,
    sources: &[PathBuf],
    words: &[String],
) -> (Vec<Range<usize>>, Vec<String>) {
    use crate::python::ir::Stmt;
    let hits = |level: u32, dotted: &str| project.resolve(&m.path, level, dotted).is_some_and(|p| sources.contains(&p));
    let (mut spans, mut aliases) = (Vec::new(), Vec::new());
    for (_, st) in m.statements() {
        match st {
            Stmt::Import { bindings, span } => {
                let mut any = false;
                for (local, r) in bindings {
                    let joined = |tail: &str| {
                        if r.module.is_empty() { tail.to_string() } else { format!("{}.{tail}", r.module) }
                    };
                    let hit = hits(r.level, &r.module)
                        || (!r.submodules.is_empty() && hits(r.level, &joined(&r.submodules)))
                        || r.name.as_deref().is_some_and(|n| hits(r.level, &joined(n)));
                    if hit {
                        any = true;
                        if r.name.as_ref().is_some_and(|n| words.contains(n)) {
                            aliases.push(local.clone());
                        }
                    }
                }
                if any {
                    spans.push(span.clone());
                }
            }
            Stmt::StarImport { level, module, span } if hits(*level, module) => spans.push(span.clone()),
            _ => {}
        }
    }
    (spans, aliases)
}

/// What [`other_use`] found, by literal and name: several findings may
/// share one constant, and the search may read every file of the project.
type UseCache = rustc_hash::FxHashMap<(PathBuf, usize, String), Result<Option<(PathBuf, usize)>, String>>;

/// Plan the edit for one finding of `module`.
fn plan(
    project: &Project,
    module: &Module,
    f: &Finding,
    all: &[&Finding],
    cache: &mut UseCache,
) -> Result<Edit, String> {
    if let Origin::ServerDefault { .. } = f.origin {
        return pass_loopback(module, f);
    }
    let Some(literal) = &f.literal else {
        return Err("the host is not a string literal".into());
    };
    if f.shared_call {
        return Err("the callable is the development server on some paths only; the host goes to the other server too: change it by hand".into());
    }
    if literal.path != module.path {
        return Err(format!("the host is set in {}; fix it there", literal.path.display()));
    }
    let constant = match &f.origin {
        // An argument is the caller's to choose; the function may use it
        // for more than the host.
        Origin::Passed { line, .. } => {
            return Err(format!(
                "the host is passed by the call at {}; change it there by hand",
                f.place_of(&f.path, *line)
            ));
        }
        Origin::Constant { name, .. } if name.contains('[') => {
            return Err(format!("the host is `{name}` of the app's configuration; change its value by hand"));
        }
        Origin::Constant { name, .. } => Some(name.clone()),
        Origin::EnvDefault { constant: Some((name, _, _)), .. }
        | Origin::Default { constant: Some((name, _, _)), .. } => Some(name.clone()),
        _ => None,
    };
    if let Some(name) = constant {
        // A constant may be rewritten only when it is read for nothing but
        // the hosts of these findings, here and in every importer:
        // otherwise the fix would change what else reads it, unseen.
        let key = (literal.path.clone(), literal.span.start, name.clone());
        let found = cache.entry(key).or_insert_with(|| other_use(project, module, &name, literal, all)).clone();
        match found {
            Ok(None) => {}
            Ok(Some((path, line))) => {
                let at = f.place_of(&path, line);
                return Err(format!(
                    "`{name}` is used for more than the server host (also at {at}); change its value by hand"
                ));
            }
            Err(why) => {
                return Err(format!(
                    "`{name}` may be used for more than the server host ({why}); change its value by hand"
                ));
            }
        }
    }
    // (A dict written in the call itself, `**{"host": ...}`, is read there only.)
    let inline = f.span.start <= literal.span.start && literal.span.end <= f.span.end;
    if let Origin::DictKey { key, .. } = &f.origin
        && !inline
    {
        // A dict value may be rewritten only when the key is read for
        // nothing else: its quoted name appears in the dict and in the
        // calls it is the host of, no more.
        let quoted = |t: &str| t.matches(&format!("\"{key}\"")).count() + t.matches(&format!("'{key}'")).count();
        let in_calls: usize = all
            .iter()
            .filter(|g| g.literal == f.literal && g.path == module.path)
            .map(|g| module.text().get(g.span.clone()).map_or(0, quoted))
            .sum();
        if quoted(module.text()) > 1 + in_calls {
            return Err(format!("key \"{key}\" is read for more than the server host; change its value by hand"));
        }
    }
    let text = module.text().get(literal.span.clone()).ok_or("the literal is out of range")?;
    let replacement = rewrite_literal(text, loopback_for(&f.host)).ok_or("the literal cannot be rewritten")?;
    Ok(Edit { span: literal.span.clone(), replacement })
}

/// A server whose default binds every interface gets its host passed:
/// `host="127.0.0.1"` after the call's last argument (before a trailing
/// comma's line break it stays on the argument's line). A call whose
/// argument list holds a comment is left for a hand fix.
fn pass_loopback(module: &Module, f: &Finding) -> Result<Edit, String> {
    let call = module.run_calls.iter().map(|rc| &rc.call).find(|c| c.span == f.span).ok_or("the call is not found")?;
    // A host given as None or "" (or possibly by position or a splat): a
    // second one cannot be added.
    let positional = call.args.iter().filter(|a| matches!(a, Arg::Pos(_))).count();
    if call.keyword("host").is_some()
        || positional > 3
        || call.args.iter().any(|a| matches!(a, Arg::Star(_) | Arg::DoubleStar(_)))
    {
        return Err("the call passes a host that is not a string literal; pass host=\"127.0.0.1\" by hand".into());
    }
    let text = module.text();
    let open =
        text.get(call.func.span().end..call.span.end).and_then(|t| t.find('(')).map(|i| call.func.span().end + i);
    let close = call.span.end.checked_sub(1).filter(|&c| text.as_bytes().get(c) == Some(&b')'));
    let (Some(open), Some(close)) = (open, close) else { return Err("the call's brackets are not found".into()) };
    let inside = &text[open + 1..close];
    if inside.contains('#') {
        return Err("the call's arguments hold a comment; add host=\"127.0.0.1\" by hand".into());
    }
    let head = inside.trim_end();
    let at = open + 1 + head.len();
    let replacement = match head {
        "" => "host=\"127.0.0.1\"".to_string(),
        h if h.ends_with(',') => " host=\"127.0.0.1\",".to_string(),
        _ => ", host=\"127.0.0.1\"".to_string(),
    };
    Ok(Edit { span: at..at, replacement })
}

/// Plan, apply and verify the fixes of checked files. A host set in
/// another module is fixed there only when `allow_other` says that file may
/// change too (in staged mode: it is part of the same commit).
pub fn fix_all(
    project: &Project,
    reports: &[FileReport],
    allow_other: &dyn Fn(&Path) -> bool,
) -> (Vec<(ModuleRef, FileFix)>, Vec<Unfixable>) {
    let all: Vec<&Finding> = reports.iter().flat_map(|r| &r.findings).collect();
    let mut unfixable = Vec::new();
    let mut cache = UseCache::default();
    // Per file to change: the module, its edits (with the findings each
    // fixes), how many findings they fix.
    type Fixes = Vec<(Edit, Vec<(PathBuf, Position)>)>;
    let mut targets: Vec<(ModuleRef, Fixes, usize)> = Vec::new();
    for r in reports {
        for f in &r.findings {
            let target = match &f.literal {
                Some(l) if l.path != r.module.path => {
                    if allow_other(&l.path) {
                        project.load(&l.path).map_err(|e| format!("cannot read {}: {e}", l.path.display()))
                    } else {
                        Err(format!(
                            "the host is set in {}; it is fixed there only when that file is part of the same change",
                            l.path.display()
                        ))
                    }
                }
                _ => Ok(r.module.clone()),
            };
            match target.and_then(|m| plan(project, &m, f, &all, &mut cache).map(|e| (m, e))) {
                Ok((module, edit)) => {
                    let i = match targets.iter().position(|(m, _, _)| m.path == module.path) {
                        Some(i) => i,
                        None => {
                            targets.push((module, Vec::new(), 0));
                            targets.len() - 1
                        }
                    };
                    let (_, edits, fixed) = &mut targets[i];
                    *fixed += 1;
                    let key = (f.path.clone(), f.start);
                    match edits.iter_mut().find(|(e, _)| *e == edit) {
                        Some((_, keys)) => keys.push(key),
                        None => edits.push((edit, vec![key])),
                    }
                }
                Err(reason) => unfixable.push(Unfixable::new(&f.path, f.host_start, reason, f.notebook.as_deref())),
            }
        }
    }
    let mut fixes = Vec::new();
    for (module, mut edits, mut fixed) in targets {
        // In a notebook, a literal split over two strings of a cell's
        // source list cannot be edited in place: only that finding is left
        // (with its cell), not every fix of the notebook.
        if let Some(cells) = module.source.notebook.clone() {
            let (keep, drop): (Vec<_>, Vec<_>) = edits.into_iter().partition(|(e, _)| cells.maps(&e.span));
            let why = "the literal spans two strings of the cell's source list; edit it by hand";
            fixed -= leave(&drop, why, &all, &mut unfixable);
            edits = keep;
            if edits.is_empty() {
                continue;
            }
        }
        let own: Vec<&Finding> = all.iter().copied().filter(|f| f.path == module.path).collect();
        let mut plain: Vec<Edit> = edits.iter().map(|(e, _)| e.clone()).collect();
        // One edit that would not hold (a caller still passes "0.0.0.0")
        // must not cost the others: keep those that hold on their own.
        if verify(project, &module, &plain, &own).is_err() {
            let (keep, drop): (Vec<_>, Vec<_>) =
                edits.into_iter().partition(|(e, _)| verify(project, &module, std::slice::from_ref(e), &own).is_ok());
            fixed -= leave(&drop, "fix refused: a finding would remain after it", &all, &mut unfixable);
            edits = keep;
            plain = edits.iter().map(|(e, _)| e.clone()).collect();
            if edits.is_empty() {
                continue;
            }
        }
        match verify(project, &module, &plain, &own).and_then(|new| encoded(project, &module, &plain, new)) {
            Ok((new, old_bytes, new_bytes)) => {
                let old = module.text().to_string();
                let notebook = module.source.notebook.clone();
                let fix = FileFix { path: module.path.clone(), old, new, old_bytes, new_bytes, fixed, edits, notebook };
                fixes.push((module, fix));
            }
            Err(reason) => {
                unfixable.push(Unfixable { path: module.path.clone(), line: 1, column: 1, reason, cell: None })
            }
        }
    }
    recheck_across_files(project, &mut fixes, &mut unfixable);
    (fixes, unfixable)
}

/// A fix in one file may be meant for findings in others (the constant in
/// `config.py`, the server in `server.py`); checking the edited file alone
/// does not show that those findings end. Re-check every module holding
/// such a finding, with every fixed module in place, and drop the fixes of
/// any whose findings would not all end.
fn recheck_across_files(project: &Project, fixes: &mut Vec<(ModuleRef, FileFix)>, unfixable: &mut Vec<Unfixable>) {
    let unsuppressed =
        |p: &Project, m: &ModuleRef| check_module(p, m).iter().filter(|f| f.suppressed.is_none()).count();
    loop {
        let mut elsewhere: Vec<PathBuf> = fixes
            .iter()
            .flat_map(|(m, fix)| {
                fix.edits.iter().flat_map(|(_, keys)| keys.iter().map(|(p, _)| p)).filter(|p| **p != m.path)
            })
            .cloned()
            .collect();
        elsewhere.sort();
        elsewhere.dedup();
        if elsewhere.is_empty() {
            return;
        }
        let replaced: Vec<ModuleRef> = fixes
            .iter()
            .map(|(m, fix)| {
                let mut source = m.source.clone();
                source.text = fix.new.clone();
                std::sync::Arc::new(parse_module(m.path.clone(), source))
            })
            .collect();
        let fixed = project.with_replaced(&replaced);
        let holds = |path: &PathBuf| {
            let (Ok(before), Ok(after)) = (project.load(path), fixed.load(path)) else { return false };
            let ended = fixes
                .iter()
                .flat_map(|(_, fix)| fix.edits.iter().flat_map(|(_, keys)| keys))
                .filter(|(p, _)| p == path)
                .count();
            unsuppressed(&fixed, &after) + ended <= unsuppressed(project, &before)
        };
        let Some(failing) = elsewhere.into_iter().find(|p| !holds(p)) else { return };
        let (drop, keep): (Vec<_>, Vec<_>) = std::mem::take(fixes).into_iter().partition(|(m, fix)| {
            m.path != failing && fix.edits.iter().any(|(_, keys)| keys.iter().any(|(p, _)| *p == failing))
        });
        *fixes = keep;
        if drop.is_empty() {
            return;
        }
        for (_, fix) in drop {
            for (path, at) in fix.edits.iter().flat_map(|(_, keys)| keys) {
                let reason = format!("fix refused: a finding would remain in {} after it", failing.display());
                let cells = fixes.iter().find(|(m, _)| &m.path == path).and_then(|(m, _)| m.source.notebook.as_deref());
                let cells = cells.or(if path == &fix.path { fix.notebook.as_deref() } else { None });
                unfixable.push(Unfixable::new(path, *at, reason, cells));
            }
        }
    }
}

/// Notes for the findings of edits left undone, and why; how many they are.
fn leave(
    dropped: &[(Edit, Vec<(PathBuf, Position)>)],
    why: &str,
    all: &[&Finding],
    unfixable: &mut Vec<Unfixable>,
) -> usize {
    let keys: Vec<&(PathBuf, Position)> = dropped.iter().flat_map(|(_, keys)| keys).collect();
    for (path, at) in &keys {
        unfixable.push(Unfixable::new(path, *at, why.to_string(), cells_of(all, path)));
    }
    keys.len()
}

/// The cells of the notebook `path` names, from its findings.
fn cells_of<'a>(all: &[&'a Finding], path: &Path) -> Option<&'a crate::notebook::Cells> {
    all.iter().find(|f| f.path == path).and_then(|f| f.notebook.as_deref())
}

/// The old and new file bytes in the file's own encoding; refused unless
/// encoding the text read gives back exactly the bytes read. A notebook's
/// `edits` are made inside the JSON strings that hold its code.
pub(crate) fn encoded(
    project: &Project,
    module: &Module,
    edits: &[Edit],
    new: String,
) -> Result<(String, Vec<u8>, Vec<u8>), String> {
    let original = project.tree().read(&module.path).map_err(|e| format!("cannot read it again: {e}"))?;
    if let Some(cells) = &module.source.notebook {
        // The map is good only for the notebook it was made from.
        let same = crate::notebook::parse(&original).is_ok_and(|nb| nb.text == module.text() && nb.cells == **cells);
        if !same {
            return Err("the notebook changed while it was checked; run again".into());
        }
        let edits: Vec<(Range<usize>, &str)> = edits.iter().map(|e| (e.span.clone(), e.replacement.as_str())).collect();
        let new_bytes = cells.rewrite(&original, &edits, &new).map_err(|e| format!("fix refused: {e}"))?;
        return Ok((new, original, new_bytes));
    }
    let old_bytes = crate::source::encode(&module.source, module.text());
    if old_bytes.as_deref() != Some(&original[..]) {
        return Err(format!(
            "its {} text does not encode back to the same bytes; edit it by hand",
            module.source.encoding
        ));
    }
    let new_bytes =
        crate::source::encode(&module.source, &new).ok_or("the fix cannot be written in the file's encoding")?;
    Ok((new, original, new_bytes))
}

/// Apply `edits` to `module` and check the result: it must parse as well
/// as before, and hold no more findings than those the edits do not touch
/// (so a second fix would change nothing).
fn verify(project: &Project, module: &Module, edits: &[Edit], own: &[&Finding]) -> Result<String, String> {
    let new = apply(module.text(), edits).map_err(|e| format!("fix refused: {e}"))?;
    let mut source = module.source.clone();
    source.text = new.clone();
    let reparsed = parse_module(module.path.clone(), source);
    if reparsed.has_syntax_error && !module.has_syntax_error {
        return Err("fix refused: the fixed file would not parse".into());
    }
    let ended = own
        .iter()
        .filter(|f| f.literal.as_ref().is_some_and(|l| l.path == module.path && edits.iter().any(|e| e.span == l.span)))
        .count();
    let unsuppressed = |m: &ModuleRef| check_module(project, m).iter().filter(|f| f.suppressed.is_none()).count();
    // Counted against every finding the file holds now: a staged check
    // reports only those on added lines, and the others remain.
    let before = project.load(&module.path).map_or(own.len(), |m| unsuppressed(&m));
    let left = unsuppressed(&std::sync::Arc::new(reparsed));
    if left + ended > before {
        return Err("fix refused: findings would remain".into());
    }
    Ok(new)
}

/// A write refused because it could not be made without changing more
/// than the file's text (see [`write_atomically`]).
#[derive(Debug)]
pub struct WriteRefused(pub String);

impl std::fmt::Display for WriteRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WriteRefused {}

/// Is this error a [`WriteRefused`] (a note, not a failure)?
pub fn is_refused(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<WriteRefused>())
}

/// Replace the file at `path` atomically: write a temporary file beside it
/// with the same permissions, then rename it over the original.
///
/// A symbolic link (or a chain of them) is followed and its final target
/// replaced: renaming over the link itself would turn it into a copy and
/// leave the real file unfixed. A file with more than one hard link is
/// refused ([`WriteRefused`]): a new file would split the names (the others
/// keeping the old text), and writing in place would not be atomic.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let target = std::fs::canonicalize(path)?;
    let metadata = std::fs::metadata(&target)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if metadata.nlink() > 1 {
            return Err(std::io::Error::other(WriteRefused(format!(
                "it has {} hard links, and a new file would leave the other names holding the old text; apply the diff by hand",
                metadata.nlink()
            ))));
        }
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".flask-bind-guard-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    std::fs::set_permissions(tmp.path(), metadata.permissions())?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}

/// A unified diff of one fix (`a/` and `b/` headers, 3 lines of context).
/// A notebook's is of its code, one diff per changed cell, its lines
/// counted in the cell (`a/demo.ipynb (cell 4)`).
pub fn unified_diff(fix: &FileFix) -> String {
    let name = fix.path.display().to_string();
    if fix.notebook.is_some() {
        let cells = |bytes: &[u8]| crate::notebook::cell_sources(bytes).unwrap_or_default();
        let (old, new) = (cells(&fix.old_bytes), cells(&fix.new_bytes));
        let mut out = String::new();
        for ((index, a), (_, b)) in old.iter().zip(&new).filter(|((_, a), (_, b))| a != b) {
            let label = format!("{name} (cell {})", index + 1);
            let diff = similar::TextDiff::from_lines(a, b);
            out.push_str(
                &diff.unified_diff().context_radius(3).header(&format!("a/{label}"), &format!("b/{label}")).to_string(),
            );
        }
        return out;
    }
    similar::TextDiff::from_lines(&fix.old, &fix.new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_keep_their_prefix_and_quotes() {
        assert_eq!(rewrite_literal("\"0.0.0.0\"", "127.0.0.1").unwrap(), "\"127.0.0.1\"");
        assert_eq!(rewrite_literal("r'0.0.0.0'", "127.0.0.1").unwrap(), "r'127.0.0.1'");
        assert_eq!(rewrite_literal("'''::'''", "::1").unwrap(), "'''::1'''");
        assert_eq!(rewrite_literal("f\"0.0.0.0\"", "127.0.0.1").unwrap(), "f\"127.0.0.1\"");
        assert_eq!(rewrite_literal("'0.0' '.0.0'", "127.0.0.1").unwrap(), "'127.0.0.1'");
        assert_eq!(rewrite_literal("b'0.0.0.0'", "127.0.0.1"), None);
    }

    #[test]
    fn edits_apply_in_order_and_refuse_overlaps() {
        let text = "abcdef";
        let e = |s: Range<usize>, r: &str| Edit { span: s, replacement: r.into() };
        assert_eq!(apply(text, &[e(4..5, "X"), e(0..1, "Y")]).unwrap(), "YbcdXf");
        assert!(apply(text, &[e(0..3, "X"), e(2..4, "Y")]).is_err());
    }

    #[test]
    fn name_uses_skip_comments_strings_and_bindings() {
        let words = vec!["HOST".to_string()];
        let text = "HOST = 1\nHOST: str = 2\nMY_HOST = HOST  # HOST\nx = 'HOST' + f'{HOST}'\nrun(HOST=3, y=HOST == 1)\nHOSTS\n";
        let lines: Vec<usize> =
            name_uses(text, &words).iter().map(|&at| text[..at].matches('\n').count() + 1).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert_eq!(name_uses("'''a\nHOST'''\nb\"HOST\\\"\"HOST", &words).len(), 1);
    }
}
