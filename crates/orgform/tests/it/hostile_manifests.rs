//! Hostile manifests through the real binary (`orgform validate -f ...`): random bytes,
//! truncation, deep nesting, huge files, alias bombs, duplicate keys, encodings, NUL, tabs,
//! control and invisible characters, special files. Each case must end within its deadline
//! with exit 0 (a valid manifest) or 4 (invalid, with a diagnostic naming the file), never
//! a panic, a crash or a hang. Rows of docs/reliability.md cite these tests by name.

use crate::support::bounded;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use bounded::Outcome;

/// A valid manifest to mutate.
const VALID: &str = "\
version: 1
organization:
  id: 6f0c2a4e-0000-4000-8000-000000000001
members:
  - email: alice@acme.example
    role: developer
workspaces:
  - name: research
    members:
      alice@acme.example: workspace_developer
";

fn example() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/org.yaml"
    ))
    .unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/invalid")
            .join(name),
    )
    .unwrap()
}

/// `orgform validate -f PATH` from `dir`, with a 60-second deadline.
fn validate_path(dir: &Path, path: &str) -> Outcome {
    bounded::run(
        bounded::orgform(dir, &["validate", "-f", path]),
        Duration::from_secs(60),
    )
}

/// Writes `bytes` as `org.yaml` and validates it.
fn validate(bytes: &[u8]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.yaml"), bytes).unwrap();
    validate_path(dir.path(), "org.yaml")
}

/// Invalid: exit 4, with a diagnostic that names the file.
fn invalid(bytes: &[u8]) -> Outcome {
    let outcome = validate(bytes);
    outcome.assert_clean_exit(&[4]);
    assert!(outcome.stderr.contains("org.yaml"), "{}", outcome.stderr);
    outcome
}

/// Valid: exit 0.
fn valid(bytes: &[u8]) -> Outcome {
    let outcome = validate(bytes);
    outcome.assert_clean_exit(&[0]);
    outcome
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next().to_le_bytes()[3]).collect()
    }
}

#[test]
fn random_bytes_are_invalid() {
    let mut rng = Rng(0x5eed_0001);
    for _ in 0..6 {
        invalid(&rng.bytes(4096));
    }
}

#[test]
fn random_yaml_punctuation_is_invalid() {
    let alphabet = b"-:[]{}&*!|>'\"%@`#?, \n\t abc123";
    let mut rng = Rng(0x5eed_0002);
    for _ in 0..6 {
        let text: Vec<u8> = (0..2048)
            .map(|_| alphabet[usize::try_from(rng.next() % alphabet.len() as u64).unwrap()])
            .collect();
        let outcome = validate(&text);
        outcome.assert_clean_exit(&[4]);
    }
}

#[test]
fn a_truncated_manifest_is_valid_or_invalid_never_worse() {
    let text = example();
    let step = text.len() / 25;
    for cut in (1..text.len()).step_by(step) {
        validate(&text[..cut]).assert_clean_exit(&[0, 4]);
    }
}

#[test]
fn deeply_nested_flow_sequences_are_refused() {
    let depth = 100_000;
    let mut text = VALID.as_bytes().to_vec();
    text.extend_from_slice(b"extra: ");
    text.extend(std::iter::repeat_n(b'[', depth));
    text.extend(std::iter::repeat_n(b']', depth));
    text.push(b'\n');
    invalid(&text);
}

#[test]
fn deeply_nested_flow_mappings_are_refused() {
    let depth = 50_000;
    let mut text = String::from(VALID);
    text.push_str("extra: ");
    text.push_str(&"{a: ".repeat(depth));
    text.push_str(&"}".repeat(depth));
    text.push('\n');
    invalid(text.as_bytes());
}

#[test]
fn deeply_nested_block_mappings_are_refused() {
    let mut text = String::from(VALID);
    text.push_str("extra:\n");
    for level in 1..2_000 {
        text.push_str(&" ".repeat(level));
        text.push_str("a:\n");
    }
    invalid(text.as_bytes());
}

#[test]
fn an_unclosed_flow_sequence_is_refused() {
    let mut text = String::from(VALID);
    text.push_str("extra: [[[[[ {\n");
    invalid(text.as_bytes());
}

#[test]
fn the_alias_bomb_fixture_is_refused_quickly() {
    let outcome = invalid(&fixture("alias-bomb.yaml"));
    assert!(
        outcome.elapsed < Duration::from_secs(20),
        "{:?}",
        outcome.elapsed
    );
}

#[test]
fn a_merge_key_bomb_is_refused_quickly() {
    let mut text = String::from(VALID);
    text.push_str("settings:\n  x0: &x0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\n");
    for n in 1..30 {
        let p = n - 1;
        let _ = writeln!(
            text,
            "  x{n}: &x{n} {{<<: [*x{p}, *x{p}, *x{p}, *x{p}], k{n}: [*x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}]}}"
        );
    }
    let outcome = invalid(text.as_bytes());
    assert!(
        outcome.elapsed < Duration::from_secs(20),
        "{:?}",
        outcome.elapsed
    );
}

#[test]
fn an_alias_to_itself_is_refused() {
    let mut text = String::from(VALID);
    text.push_str("extra: &loop [1, *loop]\n");
    invalid(text.as_bytes());
}

#[test]
fn an_alias_to_an_undefined_anchor_is_refused() {
    let mut text = String::from(VALID);
    text.push_str("extra: *nowhere\n");
    invalid(text.as_bytes());
}

#[test]
fn duplicate_keys_are_refused() {
    invalid(&fixture("duplicate-yaml-key.yaml"));
    invalid(format!("{VALID}version: 1\n").as_bytes());
}

#[test]
fn latin1_bytes_are_refused() {
    let text = VALID.replace("alice@acme.example\n", "al\u{e9}\n");
    let bytes: Vec<u8> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let outcome = invalid(&bytes);
    assert!(outcome.stderr.contains("UTF-8"), "{}", outcome.stderr);
}

#[test]
fn utf16_with_a_byte_order_mark_is_refused() {
    let mut bytes = vec![0xff, 0xfe];
    for unit in VALID.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    invalid(&bytes);
}

#[test]
fn a_utf8_byte_order_mark_is_accepted() {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend_from_slice(VALID.as_bytes());
    valid(&bytes);
}

#[test]
fn a_nul_byte_in_a_value_is_refused() {
    invalid(VALID.replace("research", "rese\0arch").as_bytes());
}

#[test]
fn a_trailing_nul_byte_is_refused() {
    invalid(format!("{VALID}\0").as_bytes());
}

#[test]
fn tab_indentation_is_refused() {
    invalid(
        VALID
            .replace("  - email: alice", "\t- email: alice")
            .as_bytes(),
    );
}

#[test]
fn tabs_between_tokens_and_crlf_line_ends_are_accepted() {
    valid(
        VALID
            .replace("role: developer", "role:\tdeveloper")
            .as_bytes(),
    );
    valid(VALID.replace('\n', "\r\n").as_bytes());
}

#[test]
fn a_raw_escape_character_is_refused() {
    invalid(VALID.replace("research", "re\u{1b}[2Jsearch").as_bytes());
}

#[test]
fn an_escaped_control_character_never_reaches_the_terminal_raw() {
    let outcome = validate(
        VALID
            .replace("name: research", "name: \"re\\e]0;pwned\\asearch\"")
            .as_bytes(),
    );
    outcome.assert_clean_exit(&[0, 4]);
    assert!(
        !outcome.stdout.contains('\u{1b}') && !outcome.stderr.contains('\u{1b}'),
        "{outcome:?}"
    );
}

#[test]
fn invisible_and_bidi_characters_in_names_end_cleanly() {
    for odd in ["\u{200b}", "\u{202e}", "\u{2028}", "\u{feff}", "\u{85}"] {
        let text = VALID.replace("name: research", &format!("name: \"re{odd}search\""));
        validate(text.as_bytes()).assert_clean_exit(&[0, 4]);
    }
}

#[test]
fn a_sixteen_megabyte_manifest_of_comments_is_read() {
    let mut text = String::from(VALID);
    let line = format!("# {}\n", "c".repeat(1022));
    text.reserve(16 << 20);
    while text.len() < 16 << 20 {
        text.push_str(&line);
    }
    valid(text.as_bytes());
}

#[test]
fn a_four_megabyte_name_is_refused() {
    let text = VALID.replace("name: research", &format!("name: {}", "r".repeat(4 << 20)));
    invalid(text.as_bytes());
}

#[test]
fn ten_thousand_members_are_read() {
    let mut text = String::from(
        "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\nmembers:\n",
    );
    for n in 0..10_000 {
        let _ = write!(text, "  - email: person{n}@acme.example\n    role: user\n");
    }
    let outcome = valid(text.as_bytes());
    assert!(
        outcome.stdout.contains("10000 members"),
        "{}",
        outcome.stdout
    );
}

#[test]
fn several_documents_are_refused() {
    invalid(format!("{VALID}---\n{VALID}").as_bytes());
}

#[test]
fn only_document_markers_are_refused() {
    invalid(b"---\n...\n");
    invalid(b"# nothing but a comment\n");
}

#[test]
fn yaml_tags_are_refused_or_ignored_never_obeyed() {
    for tagged in [
        "organization: !ruby/object:Gem::Installer\n  id: 6f0c2a4e-0000-4000-8000-000000000001",
        "organization: !!binary aGVsbG8=",
        "organization: !!python/object/apply:os.system [\"true\"]",
    ] {
        let text = VALID.replace(
            "organization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001",
            tagged,
        );
        validate(text.as_bytes()).assert_clean_exit(&[0, 4]);
    }
}

#[test]
fn out_of_range_and_odd_numbers_are_refused() {
    for version in [
        "99999999999999999999999999",
        "-1",
        "1.5",
        ".inf",
        "1e3",
        "2",
    ] {
        invalid(
            VALID
                .replace("version: 1", &format!("version: {version}"))
                .as_bytes(),
        );
    }
}

#[test]
fn complex_keys_are_refused() {
    invalid(format!("{VALID}? [a, b]\n: c\n").as_bytes());
    invalid(format!("{VALID}? {{x: 1}}\n: c\n").as_bytes());
}

#[test]
fn an_empty_file_is_refused() {
    invalid(b"");
}

#[test]
fn dev_null_as_the_manifest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = validate_path(dir.path(), "/dev/null");
    outcome.assert_clean_exit(&[4]);
    assert!(outcome.stderr.contains("/dev/null"), "{}", outcome.stderr);
}

#[test]
fn a_directory_without_fragments_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("org")).unwrap();
    std::fs::write(dir.path().join("org/readme.txt"), "not yaml").unwrap();
    validate_path(dir.path(), "org").assert_clean_exit(&[4]);
}

#[test]
fn a_symlink_loop_as_the_manifest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("org.yaml", dir.path().join("org.yaml")).unwrap();
    let outcome = validate_path(dir.path(), "org.yaml");
    outcome.assert_clean_exit(&[4]);
    assert!(outcome.stderr.contains("org.yaml"), "{}", outcome.stderr);
}

#[test]
fn a_missing_manifest_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = validate_path(dir.path(), "nowhere.yaml");
    outcome.assert_clean_exit(&[4]);
    assert!(
        outcome.stderr.contains("nowhere.yaml"),
        "{}",
        outcome.stderr
    );
}
