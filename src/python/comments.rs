//! Suppression comments: ruff/flake8's `# noqa` and bandit's `# nosec`.
//!
//! A directive starts a `#` segment of the comment: `#`, optional blanks,
//! then the keyword as a whole word (so `# TODO: drop the noqa` is not one).
//! `# noqa` alone covers every code; `# noqa: A1, B2` (commas and/or blanks)
//! the codes listed. A list in which no code can be read covers nothing
//! (`# noqa: see ticket`): a comment that merely resembles a suppression must
//! never hide a finding. `# nosec` follows bandit: `# nosec`, `# nosec B104`,
//! `# nosec: B104,B201`, or a test's name (`hardcoded_bind_all_interfaces`).

/// What a directive covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeList {
    /// Bare: every code.
    All,
    /// The codes listed (as written; compare case-insensitively).
    Codes(Vec<String>),
    /// A list was started but holds no code: covers nothing.
    Invalid,
}

impl CodeList {
    /// Does this directive cover `code` (or, for `# nosec`, a test name)?
    pub fn covers(&self, code: &str) -> bool {
        match self {
            CodeList::All => true,
            CodeList::Codes(codes) => codes.iter().any(|c| c.eq_ignore_ascii_case(code)),
            CodeList::Invalid => false,
        }
    }
}

/// The directives of one comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    pub noqa: Option<CodeList>,
    pub nosec: Option<CodeList>,
}

impl Directives {
    pub fn is_empty(&self) -> bool {
        self.noqa.is_none() && self.nosec.is_none()
    }
}

/// The directives in one comment's text (starting with `#`), if any.
pub fn parse(comment: &str) -> Option<Directives> {
    let mut out = Directives::default();
    // Every `#` starts a segment: `# type: ignore # noqa` has a noqa.
    for segment in comment.split('#').skip(1) {
        let body = segment.trim_start();
        if let Some(rest) = keyword(body, "noqa") {
            out.noqa.get_or_insert(codes(rest, false));
        } else if let Some(rest) = keyword(body, "nosec") {
            out.nosec.get_or_insert(codes(rest, true));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// `text` after a leading `word` (ASCII case-insensitive) that is not part of
/// a longer word.
fn keyword<'t>(text: &'t str, word: &str) -> Option<&'t str> {
    let head = text.get(..word.len())?;
    if !head.eq_ignore_ascii_case(word) {
        return None;
    }
    let rest = &text[word.len()..];
    match rest.chars().next() {
        Some(c) if c.is_alphanumeric() || c == '_' || c == '-' => None,
        _ => Some(rest),
    }
}

/// `ABC123`: letters, then digits.
fn is_code(c: &str) -> bool {
    let letters = c.chars().take_while(|ch| ch.is_ascii_alphabetic()).count();
    letters > 0 && letters < c.len() && c[letters..].chars().all(|ch| ch.is_ascii_digit())
}

/// A bandit test name (`hardcoded_bind_all_interfaces`).
fn is_test_name(c: &str) -> bool {
    c.contains('_') && c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
}

/// The code list after the keyword. For noqa a list needs a `:`; bandit
/// also reads codes after a blank (`# nosec B104`).
fn codes(rest: &str, nosec: bool) -> CodeList {
    let (list, explicit) = match rest.trim_start().strip_prefix(':') {
        Some(list) => (list, true),
        None if nosec => (rest, false),
        // `# noqa S104` (colon forgotten): the codes still count as a
        // list, never as a blanket `# noqa` that would hide every rule.
        None if rest.split(|c: char| c == ',' || c.is_whitespace()).find(|t| !t.is_empty()).is_some_and(is_code) => {
            (rest, true)
        }
        None => return CodeList::All,
    };
    let mut found = Vec::new();
    for token in list.split(|c: char| c == ',' || c.is_whitespace()).filter(|t| !t.is_empty()) {
        if is_code(token) || (nosec && is_test_name(token)) {
            found.push(token.to_string());
        } else {
            break;
        }
    }
    match (found.is_empty(), explicit) {
        (false, _) => CodeList::Codes(found),
        // `# nosec` followed by prose (`# nosec -- reviewed`) is bare.
        (true, false) => CodeList::All,
        (true, true) => CodeList::Invalid,
    }
}

/// `comment` (one comment's text, from its `#`) made to cover `codes` as
/// well, the way [`parse`] reads it: merged into its first `# noqa` list
/// (`# noqa: S104` -> `# noqa: S104, FBG001`; codes it already names are
/// not repeated), written into a list that names no code (`# noqa: see
/// ticket` -> `# noqa: FBG001 -- see ticket`), or appended as a directive of
/// its own after a comment that has none (`# type: ignore  # noqa:
/// FBG001`). `reason` follows as ` -- REASON` where the comment does not
/// already go on after the list. `None` when the comment covers them all
/// already (a bare `# noqa` covers everything).
pub fn with_codes(comment: &str, codes: &[&str], reason: Option<&str>) -> Option<String> {
    let why = reason.map(|r| format!(" -- {r}")).unwrap_or_default();
    // The first `noqa` segment: only it counts (see `parse`).
    let found = comment.match_indices('#').find_map(|(at, _)| {
        let seg_end = comment[at + 1..].find('#').map_or(comment.len(), |n| at + 1 + n);
        let body = &comment[at + 1..seg_end];
        let lead = body.len() - body.trim_start().len();
        keyword(&body[lead..], "noqa").map(|_| (at + 1 + lead + "noqa".len(), seg_end))
    });
    let Some((after, seg_end)) = found else {
        return Some(format!("{comment}  # noqa: {}{why}", codes.join(", ")));
    };
    let rest = &comment[after..seg_end];
    let (list_at, explicit) = match rest.trim_start().strip_prefix(':') {
        Some(list) => (seg_end - list.len(), true),
        None => (after, false),
    };
    // The codes of the list, with where the last one ends.
    let mut named: Vec<&str> = Vec::new();
    let mut list_end = None;
    let list = &comment[list_at..seg_end];
    let mut i = 0;
    while i < list.len() {
        let skip = list[i..].find(|c: char| c != ',' && !c.is_whitespace()).unwrap_or(list.len() - i);
        i += skip;
        if i >= list.len() {
            break;
        }
        let len = list[i..].find(|c: char| c == ',' || c.is_whitespace()).unwrap_or(list.len() - i);
        let token = &list[i..i + len];
        if !is_code(token) {
            break;
        }
        named.push(token);
        i += len;
        list_end = Some(list_at + i);
    }
    let missing: Vec<&str> =
        codes.iter().copied().filter(|c| !named.iter().any(|n| n.eq_ignore_ascii_case(c))).collect();
    match (list_end, explicit) {
        // `# noqa` bare (or followed by prose): covers every code.
        (None, false) => None,
        _ if missing.is_empty() => None,
        (Some(end), _) => {
            let tail = &comment[end..];
            let why = if tail.trim().is_empty() { why } else { String::new() };
            Some(format!("{}, {}{why}{tail}", &comment[..end], missing.join(", ")))
        }
        // `# noqa:` with no code after it: the codes go first, and any
        // prose after them becomes the reason.
        (None, true) => {
            let text = &comment[list_at..seg_end];
            let blanks = text.len() - text.trim_start().len();
            let at = list_at + blanks;
            let gap = if blanks == 0 { " " } else { "" };
            let said = &comment[at..];
            let joint = if said.trim().is_empty() { why } else { " -- ".to_string() };
            Some(format!("{}{gap}{}{joint}{said}", &comment[..at], missing.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noqa(c: &str) -> Option<CodeList> {
        parse(c).and_then(|d| d.noqa)
    }

    fn nosec(c: &str) -> Option<CodeList> {
        parse(c).and_then(|d| d.nosec)
    }

    fn codes(list: &[&str]) -> Option<CodeList> {
        Some(CodeList::Codes(list.iter().map(|s| s.to_string()).collect()))
    }

    #[test]
    fn noqa_forms() {
        assert_eq!(noqa("# noqa"), Some(CodeList::All));
        assert_eq!(noqa("#noqa"), Some(CodeList::All));
        assert_eq!(noqa("# NOQA:FBG001,FBG002"), codes(&["FBG001", "FBG002"]));
        assert_eq!(noqa("# noqa: FBG001 S104 -- dev box only"), codes(&["FBG001", "S104"]));
        assert_eq!(noqa("# type: ignore  # noqa: S104"), codes(&["S104"]));
        assert_eq!(noqa("# noqa - reviewed"), Some(CodeList::All));
        // A forgotten colon does not turn a list into a blanket noqa.
        assert_eq!(noqa("# noqa S104"), codes(&["S104"]));
    }

    #[test]
    fn mentions_are_not_directives() {
        assert_eq!(noqa("# TODO: remove the noqa from setup.cfg"), None);
        assert_eq!(noqa("# noqa123"), None);
        assert_eq!(noqa("# noqa-like"), None);
        assert_eq!(noqa("# type: ignore"), None);
        assert_eq!(nosec("# nosecurity here"), None);
        assert_eq!(nosec("# see the nosec docs"), None);
    }

    #[test]
    fn lists_without_a_code_cover_nothing() {
        assert_eq!(noqa("# noqa: see ticket"), Some(CodeList::Invalid));
        assert_eq!(noqa("# noqa:"), Some(CodeList::Invalid));
        assert!(!CodeList::Invalid.covers("FBG001"));
        assert_eq!(nosec("# nosec: reviewed"), Some(CodeList::Invalid));
    }

    #[test]
    fn codes_are_merged_where_the_grammar_reads_them() {
        let with = |c: &str, codes: &[&str], why: Option<&str>| with_codes(c, codes, why);
        assert_eq!(with("# noqa: S104", &["FBG001"], None).as_deref(), Some("# noqa: S104, FBG001"));
        assert_eq!(with("# noqa:S104,E501", &["FBG001"], None).as_deref(), Some("# noqa:S104,E501, FBG001"));
        assert_eq!(
            with("# noqa: S104", &["FBG001"], Some("legacy")).as_deref(),
            Some("# noqa: S104, FBG001 -- legacy")
        );
        assert_eq!(
            with("# noqa: S104 -- dev box  # type: ignore", &["FBG001"], Some("x")).as_deref(),
            Some("# noqa: S104, FBG001 -- dev box  # type: ignore")
        );
        assert_eq!(with("# noqa S104", &["FBG002"], None).as_deref(), Some("# noqa S104, FBG002"));
        assert_eq!(with("# noqa: fbg001", &["FBG001"], None), None);
        assert_eq!(with("# noqa", &["FBG001"], None), None);
        assert_eq!(with("# noqa: see ticket", &["FBG001"], None).as_deref(), Some("# noqa: FBG001 -- see ticket"));
        assert_eq!(with("# noqa:", &["FBG001"], Some("r")).as_deref(), Some("# noqa: FBG001 -- r"));
        assert_eq!(
            with("# type: ignore", &["FBG001", "FBG002"], Some("old")).as_deref(),
            Some("# type: ignore  # noqa: FBG001, FBG002 -- old")
        );
        assert_eq!(
            with("# TODO: drop the noqa", &["FBG001"], None).as_deref(),
            Some("# TODO: drop the noqa  # noqa: FBG001")
        );
        // Each result reads back as covering the codes, keeping what it named.
        for c in ["# noqa: S104", "# noqa: see ticket", "# noqa:", "# type: ignore", "# nosec B104", "# noqa: S104#x"] {
            let new = with(c, &["FBG001"], Some("why")).unwrap();
            let list = parse(&new).and_then(|d| d.noqa).unwrap();
            assert!(list.covers("FBG001"), "{c} -> {new}");
            if c.contains("S104") {
                assert!(list.covers("S104"), "{c} -> {new}");
            }
        }
    }

    #[test]
    fn nosec_forms() {
        assert_eq!(nosec("# nosec"), Some(CodeList::All));
        assert_eq!(nosec("# nosec B104"), codes(&["B104"]));
        assert_eq!(nosec("# nosec: B104,B201"), codes(&["B104", "B201"]));
        assert_eq!(nosec("# nosec hardcoded_bind_all_interfaces"), codes(&["hardcoded_bind_all_interfaces"]));
        assert_eq!(nosec("# nosec -- dev only"), Some(CodeList::All));
        let both = parse("# noqa: S104  # nosec B104").unwrap();
        assert_eq!((both.noqa, both.nosec), (codes(&["S104"]), codes(&["B104"])));
    }
}
