//! A byte-level first pass that decides which files can hold a finding,
//! so that only those are parsed.
//!
//! A finding is a `<x>.run(...)` / `.run_server(...)` call on an object that
//! comes, through assignments and imports, from a `flask` / `dash` (or
//! `flask_socketio`, `apiflask`, ...) import. All those module names contain
//! `flask` or `dash`. So a file can hold a finding only if it has a `.run`
//! call and either mentions one of those words or imports (transitively) a
//! module of the repository that does. Every test here over-approximates
//! (a comment mentioning `flask` makes a file a candidate), never the other
//! way round; `tests/prefilter.rs` checks that the prefiltered scan finds
//! exactly what parsing every file finds.

use memchr::memmem;

/// What the first pass learns about one file.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// A `.run` / `.run_server` attribute followed by a call may be here.
    pub run_call: bool,
    /// The bytes `flask` or `dash` (or an extra app name) occur.
    pub app_token: bool,
    /// Modules the file may import: (leading dots, dotted name).
    pub imports: Vec<(u32, String)>,
}

/// Words whose presence makes a file a root of application values.
pub const APP_TOKENS: &[&str] = &["flask", "dash"];

pub fn facts(bytes: &[u8], extra_tokens: &[String]) -> Facts {
    let app_token = APP_TOKENS
        .iter()
        .any(|t| memmem::find(bytes, t.as_bytes()).is_some())
        || extra_tokens
            .iter()
            .any(|t| memmem::find(bytes, t.as_bytes()).is_some());
    let run_call = has_run_call(bytes);
    // Imports matter only for files that may call `.run` without naming an
    // app module themselves, and for modules on their import paths.
    let imports = if app_token {
        Vec::new()
    } else {
        imports(bytes)
    };
    Facts {
        run_call,
        app_token,
        imports,
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// `.run` or `.run_server` as an attribute name.
pub fn has_run_call(b: &[u8]) -> bool {
    for pos in memmem::find_iter(b, b"run") {
        if pos > 0 && is_ident(b[pos - 1]) {
            continue;
        }
        let after = &b[pos + 3..];
        let word_ends = match after.first() {
            None => true,
            Some(&c) if !is_ident(c) => true,
            Some(_) => after.starts_with(b"_server") && after.get(7).is_none_or(|&c| !is_ident(c)),
        };
        if word_ends && preceded_by_dot(b, pos) {
            return true;
        }
    }
    false
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
pub fn imports(b: &[u8]) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for pos in memmem::find_iter(b, b"import") {
        if (pos > 0 && is_ident(b[pos - 1])) || b.get(pos + 6).is_some_and(|&c| is_ident(c)) {
            continue;
        }
        let mut i = pos;
        skip_blanks_back(b, &mut i);
        let end = i;
        while i > 0 && (is_ident(b[i - 1]) || b[i - 1] == b'.') {
            i -= 1;
        }
        let module = &b[i..end];
        let mut j = i;
        skip_blanks_back(b, &mut j);
        let is_from =
            !module.is_empty() && b[..j].ends_with(b"from") && (j < 5 || !is_ident(b[j - 5]));
        let names = names_after(b, pos + 6);
        if is_from {
            let text = String::from_utf8_lossy(module);
            let level = text.chars().take_while(|&c| c == '.').count() as u32;
            let module = text.trim_start_matches('.').to_string();
            for name in &names {
                let sub = if module.is_empty() {
                    name.clone()
                } else {
                    format!("{module}.{name}")
                };
                out.push((level, sub));
            }
            out.push((level, module));
        } else {
            for dotted in names {
                let mut prefix = String::new();
                for part in dotted.split('.') {
                    if !prefix.is_empty() {
                        prefix.push('.');
                    }
                    prefix.push_str(part);
                    out.push((0, prefix.clone()));
                }
            }
        }
    }
    out.retain(|(level, m)| *level > 0 || !m.is_empty());
    out.sort();
    out.dedup();
    out
}

fn skip_blanks_back(b: &[u8], i: &mut usize) {
    while *i > 0 {
        match b[*i - 1] {
            b' ' | b'\t' | b'\x0c' => *i -= 1,
            b'\n' if *i >= 2 && b[*i - 2] == b'\\' => *i -= 2,
            b'\n' if *i >= 3 && b[*i - 2] == b'\r' && b[*i - 3] == b'\\' => *i -= 3,
            _ => break,
        }
    }
}

/// The dotted names listed after `import` (aliases dropped), up to the end
/// of the statement; inside parentheses, newlines and comments are skipped.
fn names_after(b: &[u8], mut i: usize) -> Vec<String> {
    let mut names = Vec::new();
    let mut parens = false;
    let mut expect_alias = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\x0c' | b',' => i += 1,
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
            _ if is_ident(c) || c == b'.' => {
                let start = i;
                while i < b.len() && (is_ident(b[i]) || b[i] == b'.') {
                    i += 1;
                }
                let word = &b[start..i];
                if expect_alias {
                    expect_alias = false;
                } else if word == b"as" {
                    expect_alias = true;
                } else {
                    names.push(String::from_utf8_lossy(word).into_owned());
                }
            }
            _ => break,
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_calls() {
        assert!(has_run_call(b"app.run(host='0.0.0.0')"));
        assert!(has_run_call(b"app . run (x)"));
        assert!(has_run_call(b"app.run_server()"));
        assert!(has_run_call(b"(app.\n    run())"));
        assert!(has_run_call(b"(app.  # c\n    run())"));
        assert!(!has_run_call(b"run(main())\nrunner.go()\nx.running = 1\n"));
        assert!(!has_run_call(b"def run(self): pass"));
    }

    #[test]
    fn import_forms() {
        let got = imports(b"import a.b as c, d\nfrom .x import (y,\n  z as w,  # c\n)\nfrom .. import q\nfrom m import *\n");
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
    fn tokens() {
        assert!(facts(b"from flask import Flask", &[]).app_token);
        assert!(facts(b"import jupyter_dash", &[]).app_token);
        assert!(!facts(b"import sanic", &[]).app_token);
    }
}
