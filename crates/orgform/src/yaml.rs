//! A small YAML writer for the documents orgform generates (`snapshot`, `export`).
//!
//! Generated YAML must be byte-stable and diff well, so orgform writes it itself instead of
//! going through a serializer whose quoting may change between versions: block style, one
//! scalar per line, two-space indents, and a scalar is written plain only when it cannot be
//! read back as anything but that string; otherwise it is a JSON string, which is also a valid
//! YAML double-quoted scalar.

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

    /// `# text` at the given indent (each line of `text` becomes one comment line). Comments
    /// name live objects: control characters are escaped, so a name holding a carriage return
    /// (a line break to YAML) cannot end the comment and inject a key.
    pub fn comment(&mut self, indent: usize, text: &str) {
        for line in text.lines() {
            self.pad(indent);
            if line.is_empty() {
                self.out.push_str("#\n");
            } else {
                let _ = writeln!(self.out, "# {}", orgform_plan::render::clean(line));
            }
        }
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

/// `value` as a YAML scalar that reads back as exactly this string. Quoted scalars have every
/// control character escaped (YAML forbids raw C1 characters, and terminals obey some).
pub fn scalar(value: &str) -> String {
    if is_plain_safe(value) {
        value.to_owned()
    } else {
        orgform_plan::render::json_string(value)
    }
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
    fn document_reads_back() {
        let mut w = YamlWriter::new();
        w.comment(0, "head\n\nmore");
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
}
