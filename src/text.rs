//! Text from outside (file names, file contents, configuration values) made
//! safe for a terminal: control characters become their visible "control
//! picture", so a file cannot move the cursor or recolour the terminal.
//! Only foreign text goes through here; our own messages keep their
//! newlines.

/// Any text from outside made safe for a terminal.
pub fn safe(s: &str) -> String {
    s.chars().map(safe_char).collect()
}

pub fn safe_char(c: char) -> char {
    match c {
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        '\u{80}'..='\u{9f}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => '\u{fffd}',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_pictured() {
        assert_eq!(safe("a\x1b[31mb"), "a\u{241b}[31mb");
        assert_eq!(safe("\u{202e}evil"), "\u{fffd}evil");
    }
}
