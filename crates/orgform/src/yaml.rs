//! A small YAML writer for the documents orgform generates (`snapshot`, `export`).
//!
//! Generated YAML must be byte-stable and diff well, so orgform writes it itself instead of
//! going through a serializer whose quoting may change between versions: block style, one
//! scalar per line, two-space indents, and a scalar is written plain only when it cannot be
//! read back as anything but that string; otherwise it is a YAML double-quoted scalar.
//!
//! Strings from the API or the manifest end up in scalars and comments, so both escape every
//! YAML line break (`\n`, `\r`, U+0085, U+2028, U+2029), every control character and the
//! characters YAML does not allow raw: a name cannot end a comment early and add an entry.

use std::fmt::Write as _;

/// Builds a YAML document line by line.
#[derive(Debug, Default)]
pub struct YamlWriter {
    out: String,
}

impl YamlWriter {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// `# text` on one line at the given indent; line breaks and control characters in
    /// `text` are escaped ([`comment_text`]), so it can never spill onto a line of its own.
    pub fn comment(&mut self, indent: usize, text: &str) {
        self.pad(indent);
        let _ = writeln!(self.out, "# {}", comment_text(text));
    }

    /// An empty line.
    pub fn blank(&mut self) {
        self.out.push('\n');
    }

    /// `key:` opening a nested block.
    pub fn key(&mut self, indent: usize, key: &str) {
        self.pad(indent);
        let _ = writeln!(self.out, "{}:", scalar(key));
    }

    /// `key: value` with `value` written as a string scalar.
    pub fn field(&mut self, indent: usize, key: &str, value: &str) {
        self.pad(indent);
        let _ = writeln!(self.out, "{}: {}", scalar(key), scalar(value));
    }

    /// `key: value` with `value` written verbatim (numbers, booleans, `[]`, `{}`).
    pub fn raw_field(&mut self, indent: usize, key: &str, value: &str) {
        self.pad(indent);
        let _ = writeln!(self.out, "{}: {value}", scalar(key));
    }

    /// `key: value  # comment`.
    pub fn field_with_comment(&mut self, indent: usize, key: &str, value: &str, comment: &str) {
        self.pad(indent);
        let _ = writeln!(self.out, "{}: {}  # {comment}", scalar(key), scalar(value));
    }

    /// `- key: value`, the first line of a list item that is a mapping.
    pub fn item_field(&mut self, indent: usize, key: &str, value: &str) {
        self.pad(indent);
        let _ = writeln!(self.out, "- {}: {}", scalar(key), scalar(value));
    }

    /// `- value`.
    pub fn item(&mut self, indent: usize, value: &str) {
        self.pad(indent);
        let _ = writeln!(self.out, "- {}", scalar(value));
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
    }

    fn pad(&mut self, indent: usize) {
        for _ in 0..indent {
            self.out.push_str("  ");
        }
    }
}

/// `value` as a YAML scalar that reads back as exactly this string.
pub fn scalar(value: &str) -> String {
    if is_plain_safe(value) {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => push_char(&mut out, c),
        }
    }
    out.push('"');
    out
}

/// `text` for a `#` comment: the same on one line, with every line break and control
/// character escaped as in a double-quoted scalar (`\r`, `\u2028`, ...).
pub fn comment_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_char(&mut out, c);
    }
    out
}

/// Pushes `c`, escaped when YAML would read it as a line break, does not allow it raw, or it
/// is a control character (bidirectional overrides included).
fn push_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        }
        c => out.push(c),
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{feff}'
                | '\u{fffe}'
                | '\u{ffff}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

fn is_plain_safe(value: &str) -> bool {
    // Words YAML 1.1 or 1.2 readers may turn into booleans or nulls.
    const RESERVED: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
    ];

    let Some(first) = value.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '_' || first == '/') {
        return false;
    }
    if value.ends_with([' ', ':']) {
        return false;
    }
    let chars_ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | '+' | '/'));
    if !chars_ok {
        return false;
    }
    !RESERVED.contains(&value.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_only_when_unambiguous() {
        assert_eq!(scalar("alice@acme.example"), "alice@acme.example");
        assert_eq!(scalar("workspace_admin"), "workspace_admin");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("No"), "\"No\"");
        assert_eq!(scalar("#6C5BB9"), "\"#6C5BB9\"");
        assert_eq!(scalar("123"), "\"123\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar("Acme Corp"), "\"Acme Corp\"");
        assert_eq!(scalar("2026-01-01T00:00:00Z"), "\"2026-01-01T00:00:00Z\"");
        assert_eq!(scalar("ends-"), "ends-");
        assert_eq!(scalar("quote\"d\n"), "\"quote\\\"d\\n\"");
        assert_eq!(scalar("\u{9b}2J\u{7f}"), "\"\\u009b2J\\u007f\"");
    }

    #[test]
    fn line_breaks_and_controls_are_escaped_in_scalars_and_comments() {
        assert_eq!(scalar("a\rb"), "\"a\\rb\"");
        assert_eq!(scalar("a\u{85}b"), "\"a\\u0085b\"");
        assert_eq!(scalar("a\u{2028}b\u{2029}"), "\"a\\u2028b\\u2029\"");
        assert_eq!(scalar("del\u{7f}"), "\"del\\u007f\"");
        assert_eq!(scalar("back\\slash"), "\"back\\\\slash\"");
        assert_eq!(scalar("Café Ünïcode"), "\"Café Ünïcode\"");
        assert_eq!(
            comment_text("x\r  - email: injected@evil.example"),
            "x\\r  - email: injected@evil.example"
        );
        assert_eq!(
            comment_text("a\nb\u{85}c\u{2028}d\u{2029}e\u{1b}f"),
            "a\\nb\\u0085c\\u2028d\\u2029e\\u001bf"
        );
        let mut w = YamlWriter::new();
        w.comment(1, "one\ntwo");
        assert_eq!(w.finish(), "  # one\\ntwo\n");
    }

    #[test]
    fn document_reads_back() {
        let mut w = YamlWriter::new();
        w.comment(0, "head");
        w.field(0, "name", "Acme: the \"best\"");
        w.key(0, "list");
        w.item_field(1, "email", "a@b.example");
        w.field(2, "role", "true");
        w.item(1, "null");
        w.comment(0, "name\rinjected: true\u{1b}[2J");
        w.field(0, "c1", "\u{85}\u{9b}");
        let text = w.finish();
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text}");
        let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert!(value.get("injected").is_none(), "{text}");
        assert_eq!(value["c1"], "\u{85}\u{9b}");
        assert_eq!(value["name"], "Acme: the \"best\"");
        assert_eq!(value["list"][0]["role"], "true");
        assert_eq!(value["list"][1], "null");
    }

    /// Characters that break YAML lines or carry YAML meaning, mixed into arbitrary text.
    fn hostile_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let hostile = prop_oneof![
            Just('\r'),
            Just('\n'),
            Just('\u{85}'),
            Just('\u{2028}'),
            Just('\u{2029}'),
            Just('#'),
            Just('"'),
            Just('\\'),
            Just(':'),
            Just('-'),
            Just(' '),
            proptest::char::range('\u{0}', '\u{a0}'),
        ];
        proptest::collection::vec(
            prop_oneof![any::<String>(), hostile.prop_map(String::from)],
            0..12,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Any string: its comment stays one comment line, and its scalar reads back as the
        /// same string, as a value and as a key.
        #[test]
        fn any_string_is_one_comment_line_and_round_trips_as_a_scalar(text in hostile_text()) {
            let mut w = YamlWriter::new();
            w.comment(1, &text);
            w.field(0, "value", &text);
            w.field(0, "after", "x");
            let doc = w.finish();
            let comment = doc.split_inclusive('\n').next().unwrap();
            proptest::prop_assert!(comment.starts_with("  # "));
            proptest::prop_assert!(
                !comment[..comment.len() - 1]
                    .contains(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']),
                "{comment:?}"
            );
            let back: std::collections::BTreeMap<String, String> =
                serde_saphyr::from_str(&doc).map_err(|e| {
                    proptest::test_runner::TestCaseError::fail(format!("{e}: {doc:?}"))
                })?;
            proptest::prop_assert_eq!(back.len(), 2, "{:?}", doc);
            proptest::prop_assert_eq!(&back["value"], &text);
            let mut keyed = YamlWriter::new();
            keyed.field(0, &text, "v");
            let back: std::collections::BTreeMap<String, String> =
                serde_saphyr::from_str(&keyed.finish()).map_err(|e| {
                    proptest::test_runner::TestCaseError::fail(format!("{e}"))
                })?;
            proptest::prop_assert_eq!(back.get(&text).map(String::as_str), Some("v"));
        }
    }
}
