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
