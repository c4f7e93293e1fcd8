//! Characters in emails: control, zero-width and bidirectional-control characters make an
//! email invalid (they hide what the address is, or reorder how a terminal or a review shows
//! it), and an email whose letters come from more than one script (a Cyrillic `а` among Latin
//! letters) gets a warning naming the code points, as it may imitate another address.
//!
//! The script table covers the alphabets that imitate Latin letters (Greek, Cyrillic,
//! Armenian, Cherokee, full-width forms) and tells other letters apart by block; it does not
//! try to be the Unicode script database.

/// Whether `c` is a character that must not appear in an email: a control character, or an
/// invisible formatting character (zero-width, bidirectional controls, byte-order mark, tags).
pub(crate) fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// `U+202E (right-to-left override)`: a code point and, for the common ones, its name.
pub(crate) fn describe(c: char) -> String {
    let name = match c {
        '\u{00AD}' => Some("soft hyphen"),
        '\u{061C}' => Some("arabic letter mark"),
        '\u{200B}' => Some("zero width space"),
        '\u{200C}' => Some("zero width non-joiner"),
        '\u{200D}' => Some("zero width joiner"),
        '\u{200E}' => Some("left-to-right mark"),
        '\u{200F}' => Some("right-to-left mark"),
        '\u{2028}' => Some("line separator"),
        '\u{2029}' => Some("paragraph separator"),
        '\u{202A}' => Some("left-to-right embedding"),
        '\u{202B}' => Some("right-to-left embedding"),
        '\u{202C}' => Some("pop directional formatting"),
        '\u{202D}' => Some("left-to-right override"),
        '\u{202E}' => Some("right-to-left override"),
        '\u{2060}' => Some("word joiner"),
        '\u{2066}' => Some("left-to-right isolate"),
        '\u{2067}' => Some("right-to-left isolate"),
        '\u{2068}' => Some("first strong isolate"),
        '\u{2069}' => Some("pop directional isolate"),
        '\u{FEFF}' => Some("zero width no-break space / byte-order mark"),
        c if c.is_control() => Some("control character"),
        _ => None,
    };
    match name {
        Some(name) => format!("U+{:04X} ({name})", u32::from(c)),
        None => format!("U+{:04X}", u32::from(c)),
    }
}

/// `email` with hidden characters written as `<U+202E>`, safe to print.
pub(crate) fn visible(email: &str) -> String {
    email
        .chars()
        .map(|c| {
            if is_hidden(c) {
                format!("<U+{:04X}>", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The script of a letter, coarse: the alphabets that imitate Latin by name, others by block.
fn script(c: char) -> Option<&'static str> {
    if !c.is_alphabetic() {
        return None;
    }
    Some(match u32::from(c) {
        0x0000..=0x024F | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF => "Latin",
        0xFF21..=0xFF3A | 0xFF41..=0xFF5A => "full-width Latin",
        0x0370..=0x03FF | 0x1F00..=0x1FFF => "Greek",
        0x0400..=0x052F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => "Cyrillic",
        0x0530..=0x058F => "Armenian",
        0x0590..=0x05FF => "Hebrew",
        0x0600..=0x06FF | 0x0750..=0x077F => "Arabic",
        0x13A0..=0x13FF | 0xAB70..=0xABBF => "Cherokee",
        0x0900..=0x0DFF => "Indic",
        0x0E00..=0x0EFF => "Thai/Lao",
        0x10A0..=0x10FF => "Georgian",
        0x3040..=0x30FF => "Japanese kana",
        0x1100..=0x11FF | 0xAC00..=0xD7AF => "Hangul",
        0x4E00..=0x9FFF | 0x3400..=0x4DBF => "Han",
        0x1D400..=0x1D7FF => "mathematical letters",
        _ => "other",
    })
}

/// When the letters of `email` come from more than one script: the scripts (in the order
/// met), and the code points of the letters outside the script most letters use.
pub(crate) fn mixed_scripts(email: &str) -> Option<(Vec<&'static str>, Vec<char>)> {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for c in email.chars() {
        let Some(s) = script(c) else { continue };
        match counts.iter_mut().find(|(name, _)| *name == s) {
            Some((_, n)) => *n += 1,
            None => counts.push((s, 1)),
        }
    }
    if counts.len() < 2 {
        return None;
    }
    let main = counts.iter().max_by_key(|(_, n)| *n).map(|(s, _)| *s)?;
    let mut odd: Vec<char> = Vec::new();
    for c in email.chars() {
        if script(c).is_some_and(|s| s != main) && !odd.contains(&c) {
            odd.push(c);
        }
    }
    Some((counts.into_iter().map(|(s, _)| s).collect(), odd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_found_and_named() {
        assert!(is_hidden('\u{202E}'));
        assert!(is_hidden('\u{200B}'));
        assert!(is_hidden('\u{1B}'));
        assert!(!is_hidden('é'));
        assert_eq!(describe('\u{202E}'), "U+202E (right-to-left override)");
        assert_eq!(visible("a\u{200B}b@x.example"), "a<U+200B>b@x.example");
    }

    #[test]
    fn mixed_scripts_name_the_odd_letters() {
        assert_eq!(mixed_scripts("alice@acme.example"), None);
        assert_eq!(mixed_scripts("josé@acme.example"), None);
        assert_eq!(mixed_scripts("андрей@пример.рф"), None);
        let (scripts, odd) = mixed_scripts("\u{0430}lice@acme.example").unwrap();
        assert_eq!(scripts, ["Cyrillic", "Latin"]);
        assert_eq!(odd, ['\u{0430}']);
        let (scripts, odd) = mixed_scripts("p\u{0430}ypal@acme.example").unwrap();
        assert_eq!(scripts, ["Latin", "Cyrillic"]);
        assert_eq!(odd, ['\u{0430}']);
    }
}
