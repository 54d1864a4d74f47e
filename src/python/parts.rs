//! Where a large module may be cut so that its parts parse apart, each on
//! its own thread, into the statements the whole would give.
//!
//! tree-sitter parses about 4 MB/s: a 100 KB module is 25 ms on one core
//! while the other waits. A cut is only made before a top-level statement
//! that nothing earlier continues, where the parser holds no state but
//! "at the start of a statement". Text this scan misreads (a string it takes
//! for code) can only move a cut inside a construct, and then the part
//! before the cut ends unfinished, which tree-sitter reports as an error:
//! the caller parses the whole module again (see `lower::parse_trees`).

/// Byte offsets (never 0) of the lines that begin a top-level statement
/// no earlier line continues: at column 0, outside brackets, strings and
/// continued lines, starting with a name or a decorator; not a clause of a
/// compound statement (`else`, `elif`, `except`, `finally`) and not a
/// definition under a decorator.
pub fn statement_starts(src: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut line_start = true;
    let mut after_decorator = false;
    let mut i = 0;
    while i < src.len() {
        if line_start {
            line_start = false;
            match src[i] {
                b'@' => {
                    if !after_decorator && i > 0 {
                        out.push(i);
                    }
                    after_decorator = true;
                }
                c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                    let word_len = src[i..].iter().take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_').count();
                    let clause = matches!(&src[i..i + word_len], b"else" | b"elif" | b"except" | b"finally");
                    if !after_decorator && !clause && i > 0 {
                        out.push(i);
                    }
                    after_decorator = false;
                }
                _ => {
                    // A blank or comment line leaves a decorator in force;
                    // anything else (an indented line, a bracket) ends it.
                    let first = src[i..].iter().position(|&c| !matches!(c, b' ' | b'\t' | b'\x0c'));
                    if first.is_some_and(|k| !matches!(src[i + k], b'#' | b'\n' | b'\r')) {
                        after_decorator = false;
                    }
                }
            }
        }
        let c = src[i];
        match c {
            b'#' => i += memchr::memchr(b'\n', &src[i..]).unwrap_or(src.len() - i),
            b'"' | b'\'' => i = string_end(src, i),
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            // A continued line: the next line is part of this statement.
            b'\\' => i += if src.get(i + 1) == Some(&b'\r') { 3 } else { 2 },
            b'\n' => {
                i += 1;
                line_start = depth == 0;
            }
            _ => i += 1,
        }
    }
    out
}

/// The offset after the string literal whose opening quote is at `i`
/// (prefixes are read as names before it: the quote opens the string either
/// way). A single-quoted string ends at its line's end if unclosed.
fn string_end(src: &[u8], i: usize) -> usize {
    let q = src[i];
    let triple = src.get(i + 1) == Some(&q) && src.get(i + 2) == Some(&q);
    let mut j = if triple { i + 3 } else { i + 1 };
    while j < src.len() {
        match src[j] {
            b'\\' => j += 2,
            c if c == q && (!triple || src.get(j + 1..j + 3) == Some(&[q, q][..])) => {
                return j + if triple { 3 } else { 1 };
            }
            b'\n' if !triple => return j,
            _ => j += 1,
        }
    }
    src.len()
}

/// Up to `parts - 1` cuts among `starts` (sorted), each the start nearest
/// an even share of `len`, in increasing order with no part empty.
pub fn cuts(starts: &[usize], len: usize, parts: usize) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for k in 1..parts {
        let target = len / parts * k;
        let after = starts.partition_point(|&s| s < target);
        let nearest = [after.checked_sub(1), Some(after)]
            .into_iter()
            .flatten()
            .filter_map(|i| starts.get(i).copied())
            .filter(|&s| out.last().is_none_or(|&last| s > last) && s < len)
            .min_by_key(|&s| s.abs_diff(target));
        out.extend(nearest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(src: &str) -> Vec<&str> {
        statement_starts(src.as_bytes()).into_iter().map(|i| src[i..].lines().next().unwrap()).collect()
    }

    #[test]
    fn statements_at_column_zero_outside_brackets_strings_and_continuations() {
        let src = "import os\n\
                   x = (1,\n\
                   y)\n\
                   s = \"\"\"\n\
                   def inside_string(): pass\n\
                   \"\"\"\n\
                   t = 'a' \\\n\
                   continued = 1\n\
                   # comment\n\
                   def f():\n    \
                       return 1\n\
                   if x:\n    \
                       pass\n\
                   else:\n    \
                       pass\n\
                   @decorator\n\
                   # a comment between\n\
                   @other\n\
                   class C:\n    \
                       @method_decorator\n    \
                       def m(self): pass\n\
                   u = f'{x[\"k\"]}'\n\
                   try:\n    \
                       pass\n\
                   except E:\n    \
                       pass\n\
                   finally:\n    \
                       pass\n\
                   z = 1\n";
        assert_eq!(
            starts(src),
            [
                "x = (1,",
                "s = \"\"\"",
                "t = 'a' \\",
                "def f():",
                "if x:",
                "@decorator",
                "u = f'{x[\"k\"]}'",
                "try:",
                "z = 1"
            ]
        );
    }

    #[test]
    fn escaped_quotes_and_unclosed_strings() {
        assert_eq!(starts("a = 'it\\'s'\nb = \"\"\"x\\\"\"\"\"\nc = 1\n"), ["b = \"\"\"x\\\"\"\"\"", "c = 1"]);
        // An unclosed single-quoted string ends with its line.
        assert_eq!(starts("a = 'open\nb = 1\n"), ["b = 1"]);
        // An unclosed triple-quoted string runs to the end.
        assert_eq!(starts("a = '''open\nb = 1\n"), Vec::<&str>::new());
    }

    #[test]
    fn cuts_near_even_shares() {
        assert_eq!(cuts(&[10, 40, 60, 90], 100, 2), [40]);
        assert_eq!(cuts(&[10, 40, 60, 90], 100, 3), [40, 60]);
        assert_eq!(cuts(&[10], 100, 3), [10]);
        assert_eq!(cuts(&[], 100, 2), Vec::<usize>::new());
    }
}
