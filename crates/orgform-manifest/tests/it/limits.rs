//! Large manifests: what is bounded is the expansion of aliases and the nesting, not the
//! size of what is written out. Many members load (in one file and across fragments), an
//! alias bomb is still refused as one, a large alias-free file is not called one, and a
//! diagnostic on a very long line prints a bounded snippet.
//!
//! The cases here stay over the 250,000-node budget that used to refuse large manifests but
//! small enough for a debug build; 100,000 members (one file) are loaded and timed by
//! `cargo run --release -p orgform-manifest --example bench_validate`, and the unit tests of
//! the shape check show that nodes written out are not counted at all.

use std::fmt::Write as _;
use std::time::Instant;

use orgform_manifest::{load, load_str, render};

const HEAD: &str = "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n";

fn members(from: usize, to: usize) -> String {
    let mut text = String::from("members:\n");
    for i in from..to {
        let _ = writeln!(text, "  - email: person{i}@acme.example\n    role: user");
    }
    text
}

/// 55,000 members: 275,000 nodes.
const MANY: usize = 55_000;

#[test]
fn many_members_load_from_one_file() {
    let text = format!("{HEAD}{}", members(0, MANY));
    let start = Instant::now();
    let loaded = load_str("big.yaml", &text).expect("a large manifest is valid");
    assert_eq!(loaded.manifest.members.len(), MANY);
    // Generous for a debug build on a busy machine; the release figure is in the example.
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
}

#[test]
fn many_members_load_across_fragments() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("00-org.yaml"), HEAD).unwrap();
    let part = MANY / 5;
    for i in 0..5 {
        let text = members(i * part, (i + 1) * part);
        std::fs::write(dir.path().join(format!("1{i}-people.yaml")), text).unwrap();
    }
    let loaded = load(dir.path()).expect("valid");
    assert_eq!(loaded.manifest.members.len(), MANY);
    assert_eq!(loaded.files.len(), 6);
}

#[test]
fn a_large_file_without_aliases_is_not_called_an_alias_bomb() {
    // Many nodes written out, and one real problem.
    let mut text = format!("{HEAD}settings:\n  protected: [");
    for i in 0..MANY * 5 {
        let _ = write!(text, "p{i}@acme.example, ");
    }
    text.push_str("]\nmembers:\n  - email: a@acme.example\n    role: develper\n");
    let err = load_str("big.yaml", &text).unwrap_err();
    let codes: Vec<&str> = err.errors().map(|p| p.code).collect();
    assert_eq!(codes, ["orgform::unknown_role"], "{:?}", err.problems);
    assert!(
        !err.problems.iter().any(|p| p.message.contains("alias")),
        "{:?}",
        err.problems
    );
}

#[test]
fn an_alias_bomb_is_refused_with_the_word_alias_and_the_limit() {
    let mut text =
        format!("{HEAD}settings:\n  protected:\n    - &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        let aliases = vec![format!("*{prev}"); 10].join(", ");
        let _ = writeln!(text, "    - &{name} [{aliases}]");
    }
    let start = Instant::now();
    let err = load_str("bomb.yaml", &text).unwrap_err();
    let problem = err.errors().next().unwrap();
    assert_eq!(problem.code, "orgform::alias_bomb");
    assert!(problem.message.contains("aliases"), "{}", problem.message);
    assert!(
        problem.message.contains("1000000 nodes"),
        "{}",
        problem.message
    );
    assert!(
        !problem.message.contains('{'),
        "no Debug output: {}",
        problem.message
    );
    assert!(start.elapsed().as_secs() < 30);
}

#[test]
fn aliases_nested_too_deep_are_refused_as_an_alias_bomb() {
    let mut text = format!("{HEAD}settings:\n  protected:\n    - &a0 [x]\n");
    for i in 1..100 {
        let _ = writeln!(text, "    - &a{i} [*a{}]", i - 1);
    }
    let err = load_str("deep.yaml", &text).unwrap_err();
    assert_eq!(err.errors().next().unwrap().code, "orgform::alias_bomb");
}

#[test]
fn deep_nesting_is_refused_plainly() {
    for (text, words) in [
        (
            format!("{HEAD}x: {}{}\n", "[".repeat(50_000), "]".repeat(50_000)),
            "recursion limit",
        ),
        (
            format!("{HEAD}x:\n  {}y\n", "- ".repeat(5_000)),
            "more than 64 levels",
        ),
    ] {
        let err = load_str("deep.yaml", &text).unwrap_err();
        let problem = err.errors().next().unwrap();
        assert_eq!(problem.code, "orgform::yaml_syntax");
        assert!(problem.message.contains(words), "{}", problem.message);
    }
}

#[test]
fn a_diagnostic_on_a_very_long_line_is_bounded() {
    let value = "x".repeat(10_000_000);
    let text = format!("{HEAD}workspaces:\n  - name: {value}\n");
    let err = load_str("long.yaml", &text).unwrap_err();
    let rendered = render(&err, false);
    assert!(
        rendered.len() < 4_000,
        "{} bytes of diagnostics for a 10 MB value",
        rendered.len()
    );
    assert!(rendered.contains("long.yaml:5:11"), "{rendered}");
    assert!(rendered.contains("over 40"), "{rendered}");
}
