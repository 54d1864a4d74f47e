//! Jupyter notebooks (`.ipynb`) read as Python modules.
//!
//! A notebook is one module: its code cells in order, each starting on a
//! new line, as Jupyter runs them. IPython syntax (`%magic`, `!shell`,
//! `x = !cmd`, `obj?`, and cells under a cell magic such as `%%bash`) is
//! blanked byte for byte (the line keeps its length and line ending), so
//! offsets inside a cell's code are offsets inside its decoded `source`
//! strings. Markdown and raw cells contribute nothing.
//!
//! The JSON is scanned here rather than with serde_json because a fix must
//! edit the host literal inside the `source` string in place, which needs
//! the byte span of every string (serde gives none), and because outputs
//! (base64 images, large tables) need only be validated, never decoded.
//! Nothing here depends on the rest of the crate.

use std::ops::Range;
use std::path::Path;

/// Is this a notebook, by name?
pub fn is_notebook(path: &Path) -> bool {
    crate::paths::extension(path.as_os_str().as_encoded_bytes()) == Some(b"ipynb")
}

/// A notebook as one module.
#[derive(Debug, Clone)]
pub struct Notebook {
    /// The code cells joined, IPython syntax blanked.
    pub text: String,
    pub cells: Cells,
}

/// Where the module text of a notebook comes from: its cells, and the
/// JSON string literals that hold each part of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cells {
    /// Code cells with text, in order.
    spans: Vec<CellSpan>,
    /// The decoded `source` strings, in order (module and JSON alike).
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CellSpan {
    /// 0-based position among all cells of the notebook (markdown too).
    index: usize,
    /// 1-based module line of the cell's first line.
    first_line: usize,
    lines: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    /// Byte offset of the decoded string in the module text.
    start: usize,
    /// Its decoded length in bytes.
    len: usize,
    /// The string's content in the JSON text, between the quotes.
    json: Range<usize>,
    /// 1-based line of the JSON text it is on.
    json_line: usize,
}

/// Where a line of a notebook's module text is in the notebook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellLine {
    /// 0-based index of the cell among all cells (`cells[index]`).
    pub index: usize,
    /// 1-based line inside the cell.
    pub line: usize,
}

impl CellLine {
    /// The cell's number as Jupyter shows it: 1-based, every cell counted.
    pub fn number(&self) -> usize {
        self.index + 1
    }
}

impl Cells {
    /// The cell and line in it of a 1-based module line.
    pub fn locate(&self, line: usize) -> Option<CellLine> {
        let i = self.spans.partition_point(|s| s.first_line <= line).checked_sub(1)?;
        let s = &self.spans[i];
        (line < s.first_line + s.lines).then(|| CellLine { index: s.index, line: line - s.first_line + 1 })
    }

    /// The 1-based line of the notebook's JSON text holding a module byte
    /// offset (what a code host annotating the raw file points at).
    pub fn json_line(&self, offset: usize) -> Option<usize> {
        let i = self.pieces.partition_point(|p| p.start <= offset).checked_sub(1)?;
        Some(self.pieces[i].json_line)
    }

    /// Each code cell as (0-based index, first module line, line count).
    pub fn cell_lines(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        self.spans.iter().map(|s| (s.index, s.first_line, s.lines))
    }

    /// Whether a module byte range lies inside one JSON string of a cell's
    /// `source` (so that [`Cells::rewrite`] can edit it in place).
    pub fn maps(&self, span: &Range<usize>) -> bool {
        self.pieces.iter().any(|p| p.start <= span.start && span.end <= p.start + p.len)
    }

    /// The notebook `json` with `edits` (module byte ranges and their new
    /// text) made inside its `source` strings, every other byte kept. The
    /// result must read back as `new_text`.
    pub fn rewrite(&self, json: &[u8], edits: &[(Range<usize>, &str)], new_text: &str) -> Result<Vec<u8>, String> {
        let mut json_edits: Vec<(Range<usize>, String)> = Vec::with_capacity(edits.len());
        for (span, replacement) in edits {
            let piece = self
                .pieces
                .iter()
                .find(|p| p.start <= span.start && span.end <= p.start + p.len)
                .ok_or("the literal spans two lines of the cell's source list")?;
            let at = |offset: usize| {
                json_offset(json, piece.json.clone(), offset - piece.start).ok_or("the cell's source does not map back")
            };
            json_edits.push((at(span.start)?..at(span.end)?, escape(replacement)));
        }
        json_edits.sort_by_key(|(r, _)| r.start);
        let mut out = Vec::with_capacity(json.len() + 16);
        let mut at = 0;
        for (r, text) in &json_edits {
            if r.start < at || r.end > json.len() {
                return Err("overlapping edits".into());
            }
            out.extend_from_slice(&json[at..r.start]);
            out.extend_from_slice(text.as_bytes());
            at = r.end;
        }
        out.extend_from_slice(&json[at..]);
        match parse(&out) {
            Ok(nb) if nb.text == new_text => Ok(out),
            _ => Err("the edited notebook would not read back as the fixed code".into()),
        }
    }
}

/// Why a notebook could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotebookError(pub String);

impl std::fmt::Display for NotebookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a valid Jupyter notebook: {}", self.0)
    }
}

impl std::error::Error for NotebookError {}

/// The code of a notebook for the byte prefilter: its module text, or
/// nothing when it cannot be read (loading it reports why).
pub fn code_or_empty(bytes: &[u8]) -> String {
    parse(bytes).map(|nb| nb.text).unwrap_or_default()
}

/// Read a notebook (nbformat 4, or 3's `worksheets`).
pub fn parse(bytes: &[u8]) -> Result<Notebook, NotebookError> {
    let mut nb = Notebook { text: String::new(), cells: Cells::default() };
    let mut line = 1;
    for (index, strings) in code_cells(bytes)? {
        let start = nb.text.len();
        let mut code = String::new();
        for s in strings {
            let text = decode(bytes, s.clone());
            nb.cells.pieces.push(Piece { start: start + code.len(), len: text.len(), json: s, json_line: 0 });
            code.push_str(&text);
        }
        if code.is_empty() {
            continue;
        }
        let code = blank_ipython(code);
        let lines = memchr::memchr_iter(b'\n', code.as_bytes()).count() + usize::from(!code.ends_with('\n'));
        nb.cells.spans.push(CellSpan { index, first_line: line, lines });
        line += lines;
        nb.text.push_str(&code);
        if !code.ends_with('\n') {
            nb.text.push('\n');
        }
    }
    // JSON lines of the pieces, counted once in order (they are in order).
    let (mut at, mut json_line) = (0, 1);
    for p in &mut nb.cells.pieces {
        json_line += memchr::memchr_iter(b'\n', &bytes[at..p.json.start]).count();
        at = p.json.start;
        p.json_line = json_line;
    }
    Ok(nb)
}

/// Each code cell's source as written (IPython syntax kept), with its
/// 0-based index among all cells: what a diff of a fix shows.
pub fn cell_sources(bytes: &[u8]) -> Result<Vec<(usize, String)>, NotebookError> {
    let cells = code_cells(bytes)?;
    Ok(cells.into_iter().map(|(i, strings)| (i, strings.into_iter().map(|s| decode(bytes, s)).collect())).collect())
}

/// A code cell: its index among all cells, the spans of its `source` strings.
type CodeCell = (usize, Vec<Range<usize>>);

/// The code cells of a notebook: each one's index among all cells and the
/// spans of its `source` strings. Validates the whole JSON text.
fn code_cells(bytes: &[u8]) -> Result<Vec<CodeCell>, NotebookError> {
    let err = |m: &str| NotebookError(m.to_string());
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(err("the file is empty"));
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = 1 + memchr::memchr_iter(b'\n', &bytes[..e.valid_up_to()]).count();
        return Err(NotebookError(format!("not valid UTF-8 (line {line})")));
    }
    let mut sc = Scanner { b: bytes, i: 0 };
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        sc.i = 3;
    }
    sc.ws();
    let root = sc.value(0).map_err(|m| sc.error(&m))?;
    sc.ws();
    if sc.i != bytes.len() {
        return Err(sc.error("unexpected text after the JSON document"));
    }
    let Node::Obj(root) = root else { return Err(err("the JSON document is not an object")) };
    let mut cells: Vec<&Node> = Vec::new();
    match (get(bytes, &root, "cells"), get(bytes, &root, "worksheets")) {
        (Some(Node::Arr(list)), _) => cells.extend(list),
        (None, Some(Node::Arr(sheets))) => {
            for sheet in sheets {
                match sheet {
                    Node::Obj(sheet) => match get(bytes, sheet, "cells") {
                        Some(Node::Arr(list)) => cells.extend(list),
                        None => {}
                        Some(_) => return Err(err("a worksheet's `cells` is not a list")),
                    },
                    _ => return Err(err("a worksheet is not an object")),
                }
            }
        }
        (Some(_), _) => return Err(err("`cells` is not a list")),
        (None, Some(_)) => return Err(err("`worksheets` is not a list")),
        (None, None) => return Err(err("no `cells` list")),
    }
    if !is_python(bytes, &root) {
        // An R or Julia notebook holds no Python to check.
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (index, cell) in cells.iter().enumerate() {
        let Node::Obj(cell) = cell else {
            return Err(NotebookError(format!("cell {} is not an object", index + 1)));
        };
        match get(bytes, cell, "cell_type") {
            Some(Node::Str(t)) if key_is(bytes, t.clone(), "code") => {}
            Some(Node::Str(_)) => continue,
            _ => return Err(NotebookError(format!("cell {} has no `cell_type`", index + 1))),
        }
        // nbformat 3 names a code cell's text `input`.
        let source = get(bytes, cell, "source").or_else(|| get(bytes, cell, "input"));
        let strings: Vec<Range<usize>> = match source {
            Some(Node::Str(s)) => vec![s.clone()],
            Some(Node::Arr(items)) => items
                .iter()
                .map(|n| match n {
                    Node::Str(s) => Ok(s.clone()),
                    _ => Err(NotebookError(format!("cell {}: `source` holds a non-string", index + 1))),
                })
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
            Some(_) => return Err(NotebookError(format!("cell {}: `source` is not a string or list", index + 1))),
        };
        out.push((index, strings));
    }
    Ok(out)
}

/// Is the notebook's language Python (or not said)?
fn is_python(b: &[u8], root: &[(Range<usize>, Node)]) -> bool {
    let Some(Node::Obj(meta)) = get(b, root, "metadata") else { return true };
    let lang = |outer: &str, key: &str| match get(b, meta, outer) {
        Some(Node::Obj(o)) => match get(b, o, key) {
            Some(Node::Str(s)) => Some(decode(b, s.clone()).to_ascii_lowercase()),
            _ => None,
        },
        _ => None,
    };
    match lang("language_info", "name").or_else(|| lang("kernelspec", "language")) {
        Some(l) => l.is_empty() || l.starts_with("python") || l == "ipython",
        None => true,
    }
}

/// Cell magics whose body is Python that runs (`%%time` times it): their
/// body is checked, only the magic's line is blanked. Any other cell magic
/// (`%%bash`, `%%writefile`, `%%html`, ...) makes the cell something else.
const PYTHON_CELL_MAGICS: &[&str] = &["time", "timeit", "capture", "prun", "debug"];

/// `code` with IPython syntax replaced by blanks of the same byte length
/// (see the module docs): a line keeps its indentation and becomes `pass`
/// where it fits, so a magic inside a block still leaves a statement.
fn blank_ipython(code: String) -> String {
    let mut b = code.into_bytes();
    let lines = line_ranges(&b);
    let first = lines.iter().position(|r| !b[r.clone()].iter().all(u8::is_ascii_whitespace));
    let mut skip_to = 0;
    if let Some(first) = first
        && b[lines[first].clone()].starts_with(b"%%")
    {
        let line = &b[lines[first].clone()];
        let name_len = line[2..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
        let python = PYTHON_CELL_MAGICS.iter().any(|m| m.as_bytes() == &line[2..2 + name_len]);
        let upto = if python { first + 1 } else { lines.len() };
        for r in &lines[first..upto] {
            blank(&mut b, r.clone(), false);
        }
        skip_to = upto;
    }
    let mut state = LineState::default();
    let mut magic_goes_on = false;
    for r in lines.iter().skip(skip_to) {
        let line = &b[r.clone()];
        if magic_goes_on {
            magic_goes_on = line.ends_with(b"\\");
            blank(&mut b, r.clone(), false);
            continue;
        }
        if state.at_statement_start() && is_ipython_line(line) {
            magic_goes_on = line.ends_with(b"\\");
            blank(&mut b, r.clone(), true);
            continue;
        }
        state.feed(line);
    }
    String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The byte ranges of the lines of `b`, without their `\n` or `\r\n`.
fn line_ranges(b: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', b) {
        let end = if nl > start && b[nl - 1] == b'\r' { nl - 1 } else { nl };
        out.push(start..end);
        start = nl + 1;
    }
    if start < b.len() {
        out.push(start..b.len());
    }
    out
}

/// Replace a line's text after its indentation by `pass` (when asked and
/// it fits) and spaces: ASCII over whole characters, so the text stays
/// UTF-8 and every offset after it stays put.
fn blank(b: &mut [u8], r: Range<usize>, statement: bool) {
    let indent = b[r.clone()].iter().take_while(|c| matches!(c, b' ' | b'\t')).count();
    let rest = r.start + indent..r.end;
    let fill = if statement && rest.len() >= 4 { &b"pass"[..] } else { &b""[..] };
    for (k, i) in rest.enumerate() {
        b[i] = fill.get(k).copied().unwrap_or(b' ');
    }
}

/// Is this line (at the start of a statement) IPython syntax rather than
/// Python: a line magic, a shell escape, help, or `x = !cmd` / `x = %magic`?
fn is_ipython_line(line: &[u8]) -> bool {
    let t = &line[line.iter().take_while(|c| c.is_ascii_whitespace()).count()..];
    let Some(&c) = t.first() else { return false };
    if matches!(c, b'%' | b'!' | b'?') {
        return true;
    }
    // `obj?` / `obj??`: a dotted name asking for help.
    let end = t.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(0, |e| e + 1);
    let body = &t[..end];
    if body.ends_with(b"?") {
        let name = body.strip_suffix(b"??").or_else(|| body.strip_suffix(b"?")).unwrap_or(body);
        if !name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.')) {
            return true;
        }
    }
    // `files = !ls`, `t = %timeit -o f()`.
    if let Some(eq) = t.iter().position(|&c| c == b'=') {
        let lhs = &t[..eq];
        let names = !lhs.is_empty()
            && lhs.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b',' | b' ' | b'\t'))
            && lhs.iter().any(|c| !c.is_ascii_whitespace());
        let rhs = &t[eq + 1..];
        let rhs = &rhs[rhs.iter().take_while(|c| matches!(c, b' ' | b'\t')).count()..];
        if names && t.get(eq + 1) != Some(&b'=') && matches!(rhs.first(), Some(b'!' | b'%')) {
            return true;
        }
    }
    false
}

/// Just enough of Python's tokenizer to know whether a line starts a
/// statement: open brackets, strings running on, backslash continuations.
#[derive(Default)]
struct LineState {
    depth: usize,
    /// The quote of a triple-quoted string running on.
    string: Option<u8>,
    continued: bool,
}

impl LineState {
    fn at_statement_start(&self) -> bool {
        self.depth == 0 && self.string.is_none() && !self.continued
    }

    fn feed(&mut self, line: &[u8]) {
        let mut i = 0;
        let mut single: Option<u8> = None;
        while i < line.len() {
            let c = line[i];
            if let Some(q) = self.string {
                if c == b'\\' {
                    i += 2;
                    continue;
                }
                if line[i..].starts_with(&[q, q, q]) {
                    self.string = None;
                    i += 3;
                    continue;
                }
                i += 1;
                continue;
            }
            if let Some(q) = single {
                if c == b'\\' {
                    i += 2;
                    continue;
                }
                if c == q {
                    single = None;
                }
                i += 1;
                continue;
            }
            match c {
                b'#' => break,
                b'"' | b'\'' => {
                    if line[i..].starts_with(&[c, c, c]) {
                        self.string = Some(c);
                        i += 3;
                        continue;
                    }
                    single = Some(c);
                }
                b'(' | b'[' | b'{' => self.depth += 1,
                b')' | b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
        self.continued = single.is_none() && self.string.is_none() && line.ends_with(b"\\");
    }
}

/// A JSON value, with the spans of its strings (their content, between the
/// quotes); numbers and literals are validated and dropped.
enum Node {
    Str(Range<usize>),
    Other,
    Arr(Vec<Node>),
    Obj(Vec<(Range<usize>, Node)>),
}

/// The last value of `key` in an object (a later duplicate wins, as in
/// Python's `json`).
fn get<'n>(b: &[u8], obj: &'n [(Range<usize>, Node)], key: &str) -> Option<&'n Node> {
    obj.iter().rev().find(|(k, _)| key_is(b, k.clone(), key)).map(|(_, v)| v)
}

fn key_is(b: &[u8], k: Range<usize>, key: &str) -> bool {
    if !b[k.clone()].contains(&b'\\') {
        return &b[k] == key.as_bytes();
    }
    decode(b, k) == key
}

/// JSON nesting deeper than this is refused (recursion must stay bounded
/// on any input); real notebooks nest a few levels.
const MAX_DEPTH: usize = 256;

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn error(&self, message: &str) -> NotebookError {
        let at = self.i.min(self.b.len());
        let line = 1 + memchr::memchr_iter(b'\n', &self.b[..at]).count();
        NotebookError(format!("invalid JSON at line {line}: {message}"))
    }

    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, String> {
        if depth > MAX_DEPTH {
            return Err("nested too deep".into());
        }
        match self.b.get(self.i) {
            None => Err("unexpected end".into()),
            Some(b'"') => self.string().map(Node::Str),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Node::Arr(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Node::Arr(items));
                        }
                        _ => return Err("expected `,` or `]`".into()),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Node::Obj(members));
                }
                loop {
                    self.ws();
                    if self.b.get(self.i) != Some(&b'"') {
                        return Err("expected a key".into());
                    }
                    let key = self.string()?;
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return Err("expected `:`".into());
                    }
                    self.i += 1;
                    self.ws();
                    let value = self.value(depth + 1)?;
                    members.push((key, value));
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Node::Obj(members));
                        }
                        _ => return Err("expected `,` or `}`".into()),
                    }
                }
            }
            Some(b't') => self.word(b"true"),
            Some(b'f') => self.word(b"false"),
            Some(b'n') => self.word(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err("unexpected character".into()),
        }
    }

    fn word(&mut self, w: &[u8]) -> Result<Node, String> {
        if !self.b[self.i..].starts_with(w) {
            return Err("unexpected word".into());
        }
        self.i += w.len();
        Ok(Node::Other)
    }

    fn number(&mut self) -> Result<Node, String> {
        let digits = |s: &mut Self| {
            let n = s.b[s.i..].iter().take_while(|c| c.is_ascii_digit()).count();
            s.i += n;
            n
        };
        if self.b[self.i] == b'-' {
            self.i += 1;
        }
        if self.b.get(self.i) == Some(&b'0') {
            self.i += 1;
        } else if digits(self) == 0 {
            return Err("invalid number".into());
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return Err("invalid number".into());
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err("invalid number".into());
            }
        }
        Ok(Node::Other)
    }

    /// A string, validated; returns its content's span.
    fn string(&mut self) -> Result<Range<usize>, String> {
        self.i += 1;
        let start = self.i;
        loop {
            let rest = &self.b[self.i..];
            let Some(n) = rest.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20) else {
                self.i = self.b.len();
                return Err("unterminated string".into());
            };
            self.i += n;
            match self.b[self.i] {
                b'"' => {
                    self.i += 1;
                    return Ok(start..self.i - 1);
                }
                b'\\' => match self.b.get(self.i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 2,
                    Some(b'u')
                        if self.b.get(self.i + 2..self.i + 6).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
                    {
                        self.i += 6
                    }
                    _ => return Err("invalid escape in a string".into()),
                },
                _ => return Err("control character in a string".into()),
            }
        }
    }
}

/// One character of a validated JSON string's content at `i`: the char and
/// how many JSON bytes it takes. A lone surrogate reads as U+FFFD.
fn next_char(b: &[u8], i: usize) -> (char, usize) {
    if b[i] != b'\\' {
        let len = match b[i] {
            0x00..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            _ => 4,
        };
        let len = len.min(b.len() - i);
        let c = std::str::from_utf8(&b[i..i + len]).ok().and_then(|s| s.chars().next()).unwrap_or('\u{fffd}');
        return (c, len);
    }
    let hex = |at: usize| {
        b.get(at..at + 4).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    match b.get(i + 1) {
        Some(b'n') => ('\n', 2),
        Some(b't') => ('\t', 2),
        Some(b'r') => ('\r', 2),
        Some(b'b') => ('\u{8}', 2),
        Some(b'f') => ('\u{c}', 2),
        Some(b'u') => {
            let Some(u) = hex(i + 2) else { return ('\u{fffd}', 2) };
            if (0xd800..0xdc00).contains(&u)
                && b.get(i + 6..i + 8) == Some(b"\\u")
                && let Some(low) = hex(i + 8).filter(|l| (0xdc00..0xe000).contains(l))
            {
                let c = char::from_u32(0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00));
                return (c.unwrap_or('\u{fffd}'), 12);
            }
            (char::from_u32(u).unwrap_or('\u{fffd}'), 6)
        }
        Some(&c) => (c as char, 2),
        None => ('\u{fffd}', 1),
    }
}

/// The text of a validated JSON string's content.
fn decode(b: &[u8], r: Range<usize>) -> String {
    let raw = &b[r.clone()];
    if !raw.contains(&b'\\') {
        return String::from_utf8_lossy(raw).into_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut i = r.start;
    while i < r.end {
        let (c, n) = next_char(b, i);
        out.push(c);
        i += n;
    }
    out
}

/// The JSON byte offset of decoded byte `offset` of the string whose
/// content is at `r`; `None` inside a character.
fn json_offset(b: &[u8], r: Range<usize>, offset: usize) -> Option<usize> {
    let (mut i, mut decoded) = (r.start, 0);
    while decoded < offset {
        if i >= r.end {
            return None;
        }
        let (c, n) = next_char(b, i);
        decoded += c.len_utf8();
        i += n;
    }
    (decoded == offset).then_some(i)
}

/// `s` as JSON string content, the way Jupyter writes it (non-ASCII kept).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nb(cells: &str) -> String {
        format!(r#"{{"nbformat": 4, "nbformat_minor": 5, "metadata": {{}}, "cells": [{cells}]}}"#)
    }

    #[test]
    fn code_cells_join_and_markdown_is_skipped() {
        let text = nb(r##"{"cell_type": "code", "source": ["from flask import Flask\n", "app = Flask(__name__)"]},
            {"cell_type": "markdown", "source": "app.run(host=\"0.0.0.0\")"},
            {"cell_type": "code", "source": "app.run(host='0.0.0.0')\n"}"##);
        let n = parse(text.as_bytes()).unwrap();
        assert_eq!(n.text, "from flask import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0')\n");
        assert_eq!(n.cells.locate(3), Some(CellLine { index: 2, line: 1 }));
        assert_eq!(n.cells.locate(2), Some(CellLine { index: 0, line: 2 }));
        assert_eq!(n.cells.locate(4), None);
    }

    #[test]
    fn magics_are_blanked_keeping_lengths() {
        let code = "%matplotlib inline\n!pip install flask\nfor x in y:\n    !echo hé\nfiles = !ls\nx = (a\n     % b)\nlen?\ns = '''\n%notmagic\n'''\n";
        let out = blank_ipython(code.to_string());
        assert_eq!(out.len(), code.len());
        let want = "pass              \npass              \nfor x in y:\n    pass     \npass       \nx = (a\n     % b)\npass\ns = '''\n%notmagic\n'''\n";
        assert_eq!(out, want);
        assert_eq!(blank_ipython("%%bash\necho hi\n".into()), "      \n       \n");
        assert_eq!(blank_ipython("\n%%time\nf()\n".into()), "\n      \nf()\n");
        assert_eq!(blank_ipython("!ls \\\n  -l\nx = 1\n".into()), "pass \n    \nx = 1\n");
    }

    #[test]
    fn escapes_decode_and_map_back() {
        let text =
            nb(r#"{"cell_type": "code", "source": ["x = \"\ud83d\ude00\"\n", "app.run(host=\"0.0.0.\u0030\")"]}"#);
        let n = parse(text.as_bytes()).unwrap();
        assert_eq!(n.text, "x = \"😀\"\napp.run(host=\"0.0.0.0\")\n");
        let at = n.text.find("\"0.0.0.0\"").unwrap();
        let new_text = n.text.replace("\"0.0.0.0\"", "\"127.0.0.1\"");
        let out = n.cells.rewrite(text.as_bytes(), &[(at..at + 9, "\"127.0.0.1\"")], &new_text).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out, text.replace(r#"\"0.0.0.\u0030\""#, r#"\"127.0.0.1\""#));
    }

    #[test]
    fn invalid_inputs_are_errors() {
        for bad in ["", "  ", "nope", "[]", "{\"cells\": 3}", "{}", "{\"cells\": [1]}", "{\"cells\": [\"a\\x\"]}"] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(100_000);
        assert!(parse(deep.as_bytes()).is_err());
        assert!(parse(b"{\"cells\": [], \"x\": \"\xff\"}").is_err());
    }

    #[test]
    fn nbformat_3_and_other_languages() {
        let v3 = r#"{"nbformat": 3, "worksheets": [{"cells": [{"cell_type": "code", "input": ["x = 1\n"], "language": "python"}]}]}"#;
        assert_eq!(parse(v3.as_bytes()).unwrap().text, "x = 1\n");
        let r =
            r#"{"metadata": {"kernelspec": {"language": "R"}}, "cells": [{"cell_type": "code", "source": "x <- 1"}]}"#;
        assert_eq!(parse(r.as_bytes()).unwrap().text, "");
    }
}
