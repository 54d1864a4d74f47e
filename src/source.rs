//! Turning the bytes of a Python file into text, the way CPython would.
//!
//! A BOM or a PEP 263 coding cookie decides the encoding; anything else must
//! be UTF-8. Offsets everywhere else in the crate are byte offsets into the
//! decoded text; the fixer writes text back with [`encode`].

use std::fmt;

/// The decoded text of one Python file.
#[derive(Debug, Clone)]
pub struct SourceText {
    pub text: String,
    /// The encoding named by the cookie (lower-case), or "utf-8".
    pub encoding: String,
    /// The file started with a UTF-8 byte order mark (stripped from `text`).
    pub bom: bool,
    /// A notebook's cells: `text` is its code cells joined (see
    /// [`crate::notebook`]), written back through the JSON, not [`encode`].
    pub notebook: Option<std::sync::Arc<crate::notebook::Cells>>,
}

/// Why a file could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not valid UTF-8 and no coding cookie says otherwise.
    InvalidUtf8 { line: usize },
    /// The coding cookie names an encoding we (or Python) do not know.
    UnknownEncoding(String),
    /// The bytes are not valid in the encoding the cookie names.
    Malformed { encoding: String },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::InvalidUtf8 { line } => write!(
                f,
                "not valid UTF-8 (line {line}) and no PEP 263 coding cookie; \
                 save it as UTF-8 or add `# -*- coding: <encoding> -*-`"
            ),
            DecodeError::UnknownEncoding(e) => write!(f, "unknown encoding `{e}` in coding cookie"),
            DecodeError::Malformed { encoding } => {
                write!(f, "bytes are not valid {encoding} as the coding cookie declares")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decode a Python source file.
pub fn decode(bytes: &[u8]) -> Result<SourceText, DecodeError> {
    let (bom, body) = match bytes.strip_prefix(BOM) {
        Some(rest) => (true, rest),
        None => (false, bytes),
    };
    let cookie = coding_cookie(body).map(normalize_encoding);
    let encoding = match cookie.as_deref() {
        None | Some("utf-8") | Some("ascii") | Some("us-ascii") => "utf-8".to_string(),
        Some(other) => other.to_string(),
    };
    if encoding == "utf-8" {
        return match std::str::from_utf8(body) {
            Ok(s) => Ok(SourceText { text: s.to_string(), encoding, bom, notebook: None }),
            Err(e) => {
                let line = 1 + memchr::memchr_iter(b'\n', &body[..e.valid_up_to()]).count();
                Err(DecodeError::InvalidUtf8 { line })
            }
        };
    }
    if bom {
        // CPython rejects a BOM with a cookie that is not utf-8.
        return Err(DecodeError::Malformed { encoding });
    }
    if matches!(encoding.as_str(), "latin-1" | "iso-8859-1" | "latin1" | "l1") {
        // Every byte is a code point: no table needed.
        let text = body.iter().map(|&b| b as char).collect();
        return Ok(SourceText { text, encoding, bom, notebook: None });
    }
    let enc = legacy_encoding(&encoding).ok_or_else(|| DecodeError::UnknownEncoding(encoding.clone()))?;
    let (text, had_errors) = enc.decode_without_bom_handling(body);
    if had_errors {
        return Err(DecodeError::Malformed { encoding });
    }
    Ok(SourceText { text: text.into_owned(), encoding, bom, notebook: None })
}

/// The table for a legacy encoding named by a cookie (normalised name).
fn legacy_encoding(name: &str) -> Option<&'static encoding_rs::Encoding> {
    encoding_rs::Encoding::for_label(name.as_bytes())
        .or_else(|| encoding_rs::Encoding::for_label(name.replace('-', "_").as_bytes()))
}

/// `text` in the encoding `source` was read with (BOM included); `None`
/// when some character has no byte form there, and for notebooks (their
/// text is written back by editing the JSON, see [`crate::notebook`]).
pub fn encode(source: &SourceText, text: &str) -> Option<Vec<u8>> {
    if source.notebook.is_some() {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() + 3);
    if source.bom {
        out.extend_from_slice(BOM);
    }
    match source.encoding.as_str() {
        "utf-8" => out.extend_from_slice(text.as_bytes()),
        "latin-1" => {
            for c in text.chars() {
                out.push(u8::try_from(u32::from(c)).ok()?);
            }
        }
        other => {
            let (bytes, _, unmappable) = legacy_encoding(other)?.encode(text);
            if unmappable {
                return None;
            }
            out.extend_from_slice(&bytes);
        }
    }
    Some(out)
}

/// The encoding named by a PEP 263 cookie on line 1 or 2, if any.
fn coding_cookie(bytes: &[u8]) -> Option<&str> {
    let mut lines = bytes.split(|&b| b == b'\n');
    for _ in 0..2 {
        let line = lines.next()?;
        let trimmed = trim_start(line);
        if !trimmed.starts_with(b"#") {
            // Line 2 counts only when line 1 is a comment or blank.
            if trimmed.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            return None;
        }
        if let Some(enc) = cookie_in_comment(trimmed) {
            return Some(enc);
        }
    }
    None
}

fn trim_start(line: &[u8]) -> &[u8] {
    let n = line.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\x0c')).count();
    &line[n..]
}

/// `coding[:=]\s*([-\w.]+)` inside a comment line.
fn cookie_in_comment(comment: &[u8]) -> Option<&str> {
    let pos = memchr::memmem::find(comment, b"coding")?;
    let rest = &comment[pos + 6..];
    let rest = match rest.first() {
        Some(b':') | Some(b'=') => &rest[1..],
        _ => return cookie_in_comment(rest),
    };
    let rest = &rest[rest.iter().take_while(|b| matches!(b, b' ' | b'\t')).count()..];
    let len = rest.iter().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')).count();
    if len == 0 {
        return None;
    }
    std::str::from_utf8(&rest[..len]).ok()
}

/// Python's own normalisation of the common spellings.
fn normalize_encoding(name: &str) -> String {
    let lower = name.to_ascii_lowercase().replace('_', "-");
    match lower.as_str() {
        "utf8" | "utf-8" | "utf-8-sig" | "u8" | "utf" | "cp65001" => "utf-8".into(),
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "l1" | "iso-latin-1" | "8859" => "latin-1".into(),
        _ => lower,
    }
}

/// Maps byte offsets of a text to 1-based lines and character columns.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }

    /// Byte offset where a 1-based line starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.starts[line.saturating_sub(1).min(self.starts.len() - 1)]
    }

    /// 1-based (line, column); the column counts Unicode scalar values.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.line(offset);
        let start = self.line_start(line);
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let col = text[start.min(offset)..offset].chars().count() + 1;
        (line, col)
    }

    /// The text of a 1-based line without its line ending.
    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let start = self.line_start(line);
        let end = self.starts.get(line).copied().unwrap_or(text.len());
        text[start..end].trim_end_matches(['\n', '\r'])
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Read access to the files of a project.
pub trait SourceTree: Send + Sync {
    /// The bytes of a file.
    fn read(&self, path: &std::path::Path) -> std::io::Result<Vec<u8>>;
    /// Whether a regular file exists at `path`.
    fn is_file(&self, path: &std::path::Path) -> bool;
    /// The size of a file, if known without reading it.
    fn size(&self, path: &std::path::Path) -> Option<u64>;
    /// The root of the project holding `dir` (a directory of `sys.path`
    /// for absolute imports), if any.
    fn project_root(&self, dir: &std::path::Path) -> Option<std::path::PathBuf>;
    /// Is `dir` itself the root of a project?
    fn is_project_root(&self, dir: &std::path::Path) -> bool {
        self.project_root(dir).is_some_and(|r| r == dir)
    }
    /// Every Python file of the project, when the tree can list them (the
    /// fixer looks for other uses of a constant it would rewrite).
    fn python_files(&self) -> Option<Vec<std::path::PathBuf>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_plain_and_bom() {
        let s = decode(b"x = 1\n").unwrap();
        assert!(!s.bom && s.encoding == "utf-8");
        let s = decode(b"\xEF\xBB\xBFx = 1\n").unwrap();
        assert_eq!(s.text, "x = 1\n");
        assert!(s.bom);
    }

    #[test]
    fn cookie_latin1_on_second_line() {
        let s = decode(b"#!/usr/bin/python\n# -*- coding: latin-1 -*-\nx = '\xe9'\n").unwrap();
        assert_eq!(s.encoding, "latin-1");
        assert!(s.text.contains('\u{e9}'));
    }

    #[test]
    fn cookie_only_on_first_two_lines() {
        let err = decode(b"x = 1\ny = 2\n# coding: latin-1\n'\xe9'\n").unwrap_err();
        assert_eq!(err, DecodeError::InvalidUtf8 { line: 4 });
    }

    #[test]
    fn cookie_with_shift_jis() {
        let s = decode(b"# coding=shift_jis\nx = '\x82\xa0'\n").unwrap();
        assert!(s.text.contains('\u{3042}'));
    }

    #[test]
    fn unknown_encoding() {
        assert!(matches!(decode(b"# coding: klingon\n"), Err(DecodeError::UnknownEncoding(_))));
    }

    #[test]
    fn line_col_counts_chars() {
        let t = "é = 1\nab\r\ncd";
        let idx = LineIndex::new(t);
        assert_eq!(idx.line_col(t, 0), (1, 1));
        assert_eq!(idx.line_col(t, 2), (1, 2));
        assert_eq!(idx.line_col(t, t.find("cd").unwrap() + 1), (3, 2));
        assert_eq!(idx.line_text(t, 2), "ab");
    }
}
