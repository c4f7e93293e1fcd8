//! Provenance through the real binary: a directory manifest whose fragments ask for different
//! things, planned against the emulator in text, JSON and Markdown; each item names the
//! fragment and line that ask for it, and `--source-url-prefix` turns them into links.

use crate::common::{self, Org};
use serde_json::Value;

/// The demo manifest split in three fragments: the head and settings, the people, the rest.
fn fragments(dir: &std::path::Path) -> std::path::PathBuf {
    let text = orgform::commands::demo::DEMO_MANIFEST;
    let at = |key: &str| text.find(&format!("\n{key}:\n")).expect(key) + 1;
    let (members, workspaces) = (at("members"), at("workspaces"));
    let root = dir.join("manifest");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("00-head.yaml"), &text[..members]).unwrap();
    std::fs::write(root.join("10-people.yaml"), &text[members..workspaces]).unwrap();
    std::fs::write(root.join("20-workspaces.yaml"), &text[workspaces..]).unwrap();
    root
}

/// The 1-based line of the first line of `file` that contains `needle`.
fn line_of(file: &std::path::Path, needle: &str) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    let index = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {}", file.display()));
    u64::try_from(index + 1).unwrap()
}

#[test]
fn every_format_names_the_fragment_and_line() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let root = fragments(dir.path());
    let people = root.join("10-people.yaml");
    let grace = line_of(&people, "grace@acme.example");
    let head = root.join("00-head.yaml");
    let unmanaged = line_of(&head, "unmanaged: remove ");

    let text = org.run(dir.path(), &["plan", "-f", "manifest"]);
    assert_eq!(text.code, 0, "{}{}", text.stdout, text.stderr);
    assert!(
        text.stdout.contains(&format!(
            "send invite grace@acme.example  manifest/10-people.yaml:{grace}\n"
        )),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(&format!(
            "remove member ursula@acme.example (destructive)  manifest/00-head.yaml:{unmanaged} (settings.members.unmanaged)\n"
        )),
        "{}",
        text.stdout
    );

    let json = org.run(dir.path(), &["plan", "-f", "manifest", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let plan: Value = serde_json::from_str(&json.stdout).unwrap();
    let actions = plan["actions"].as_array().unwrap();
    assert!(
        actions
            .iter()
            .all(|a| a["source"]["file"].is_string() || a["source"]["default"] == true),
        "every action has a source: {actions:#?}"
    );
    let invite = actions
        .iter()
        .find(|a| a["target"] == "invite grace@acme.example")
        .unwrap();
    assert_eq!(
        invite["source"],
        serde_json::json!({"file": "manifest/10-people.yaml", "line": grace, "column": 5})
    );
    let workspace = actions
        .iter()
        .find(|a| a["op"]["kind"] == "create_workspace")
        .unwrap();
    assert_eq!(workspace["source"]["file"], "manifest/20-workspaces.yaml");
    assert_eq!(
        workspace["source"]["line"],
        line_of(&root.join("20-workspaces.yaml"), "name: Data Science")
    );

    let markdown = org.run(
        dir.path(),
        &[
            "plan",
            "-f",
            "manifest",
            "--format",
            "markdown",
            "--source-url-prefix",
            "https://example.invalid/acme/org/blob/0123abc",
        ],
    );
    assert_eq!(markdown.code, 0, "{}", markdown.stderr);
    assert!(
        markdown.stdout.contains(&format!(
            "[`manifest/10-people.yaml:{grace}`](https://example.invalid/acme/org/blob/0123abc/manifest/10-people.yaml#L{grace})"
        )),
        "{}",
        markdown.stdout
    );

    // Drift: the same places, and the same links.
    let drift = org.run(
        dir.path(),
        &[
            "drift",
            "-f",
            "manifest",
            "--format",
            "markdown",
            "--source-url-prefix",
            "https://example.invalid/x",
        ],
    );
    assert_eq!(drift.code, 2, "{}", drift.stderr);
    assert!(
        drift
            .stdout
            .contains("(https://example.invalid/x/manifest/10-people.yaml#L"),
        "{}",
        drift.stdout
    );
    assert!(org.writes().is_empty(), "plan and drift never write");
}

#[test]
fn a_prefix_that_could_break_the_comment_is_refused() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    common::demo_manifest(dir.path());
    for bad in [
        "ftp://example.invalid/x",
        "https://example.invalid/a b",
        "https://example.invalid/x)[y](z",
        "not a url",
    ] {
        let run = org.run(
            dir.path(),
            &["plan", "--format", "markdown", "--source-url-prefix", bad],
        );
        assert_eq!(run.code, 64, "{bad}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.is_empty(), "{bad}: {}", run.stdout);
        assert!(run.stderr.contains("--source-url-prefix"), "{}", run.stderr);
    }
    assert!(org.writes().is_empty());
}
