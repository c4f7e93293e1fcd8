//! `orgform validate` and `orgform schema` through the real binary.
//!
//! Every fixture under `tests/fixtures/invalid/` must exit 4 and print its diagnostics; the
//! full text (no colour, relative paths) is an insta snapshot, so a changed message, place or
//! hint shows up in review. Every fixture under `tests/fixtures/valid/` and the example must
//! exit 0 with a one-line summary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn orgform() -> Command {
    let mut cmd = Command::cargo_bin("orgform").expect("the binary builds");
    cmd.current_dir(repo_root())
        .env_remove("NO_COLOR")
        .env_remove("ANTHROPIC_ADMIN_KEY");
    cmd
}

fn fixtures(kind: &str) -> Vec<String> {
    let dir = repo_root().join("tests/fixtures").join(kind);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .into_string()
                .expect("utf-8 name")
        })
        .collect();
    names.sort();
    names
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8 output")
}

#[test]
fn every_invalid_fixture_exits_4_with_located_diagnostics() {
    let names = fixtures("invalid");
    assert!(
        names.len() >= 15,
        "expected at least 15 invalid fixtures, found {}",
        names.len()
    );
    for name in names {
        let path = format!("tests/fixtures/invalid/{name}");
        let output = orgform()
            .args(["--color", "never", "validate", "-f", &path])
            .output()
            .expect("runs");
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(4), "{name}: {stderr}");
        assert!(output.stdout.is_empty(), "{name}: nothing on stdout");
        assert!(
            !stderr.contains('\u{1b}'),
            "{name}: no colour under --color never"
        );
        assert!(
            stderr
                .lines()
                .last()
                .is_some_and(|l| l.starts_with("error: the manifest is invalid")),
            "{name}: ends with the summary line: {stderr}"
        );
        assert!(stderr.contains(&path), "{name}: names the file: {stderr}");
        insta::assert_snapshot!(name.replace('.', "_"), stderr);
    }
}

#[test]
fn one_run_reports_every_problem_even_beside_an_unknown_key() {
    // The manifest of the issue: an unknown key, an unknown role, a duplicate email and a
    // name too long, on lines 8, 10, 11 and 14: all four in one run.
    let path = "tests/fixtures/invalid/every-problem-at-once.yaml";
    let output = orgform()
        .args(["--color", "never", "validate", "-f", path])
        .output()
        .expect("runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    for line in [8, 10, 11, 14] {
        assert!(
            stderr.contains(&format!("{path}:{line}:")),
            "line {line}: {stderr}"
        );
    }
    assert!(
        stderr.ends_with("error: the manifest is invalid: 4 errors\n"),
        "{stderr}"
    );
}

#[test]
fn located_fixtures_show_line_and_column() {
    // Every fixture except those whose problem has no place in the text.
    for name in fixtures("invalid") {
        if matches!(name.as_str(), "empty.yaml" | "not-utf8.yaml") {
            continue;
        }
        let path = format!("tests/fixtures/invalid/{name}");
        let output = orgform()
            .args(["--color", "never", "validate", "-f", &path])
            .output()
            .expect("runs");
        let stderr = text(&output.stderr);
        let located = stderr.lines().any(|l| {
            l.contains("─[tests/fixtures/invalid/") && l.trim_end().ends_with(']') && {
                let inner = l.rsplit('[').next().unwrap_or("").trim_end_matches(']');
                let mut parts = inner.rsplitn(3, ':');
                let col = parts.next().unwrap_or("");
                let line = parts.next().unwrap_or("");
                !col.is_empty()
                    && col.chars().all(|c| c.is_ascii_digit())
                    && !line.is_empty()
                    && line.chars().all(|c| c.is_ascii_digit())
            }
        });
        assert!(located, "{name}: a file:line:column header: {stderr}");
    }
}

#[test]
fn valid_fixtures_and_the_example_exit_0_with_a_summary() {
    let mut paths: Vec<String> = fixtures("valid")
        .into_iter()
        .map(|n| format!("tests/fixtures/valid/{n}"))
        .collect();
    paths.push("examples/org.yaml".to_owned());
    for path in paths {
        let output = orgform()
            .args(["--color", "never", "validate", "-f", &path])
            .output()
            .expect("runs");
        let stdout = text(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{path}: {}",
            text(&output.stderr)
        );
        assert_eq!(stdout.lines().count(), 1, "{path}: one line: {stdout}");
        assert!(
            stdout.starts_with(&format!("{path} is valid: ")),
            "{path}: {stdout}"
        );
    }
}

#[test]
fn valid_summaries_count_members_workspaces_and_keys() {
    let output = orgform()
        .args(["validate", "-f", "examples/org.yaml"])
        .output()
        .expect("runs");
    assert_eq!(
        text(&output.stdout),
        "examples/org.yaml is valid: 15 members, 3 workspaces, 5 API keys\n"
    );
    let output = orgform()
        .args(["validate", "-f", "tests/fixtures/valid/fragments"])
        .output()
        .expect("runs");
    assert_eq!(
        text(&output.stdout),
        "tests/fixtures/valid/fragments is valid: 3 members, 2 workspaces, 1 API key\n"
    );
}

#[test]
fn missing_manifest_exits_4_naming_the_path_with_a_hint() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let output = Command::cargo_bin("orgform")
        .expect("the binary builds")
        .current_dir(dir.path())
        .args(["--color", "never", "validate"])
        .output()
        .expect("runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    insta::assert_snapshot!("missing_default_manifest", stderr);
}

#[test]
fn warnings_are_printed_but_do_not_fail() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let manifest = "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n\
                    workspaces:\n  - name: old\n    archived: true\n    tags: { team: x }\n";
    std::fs::write(dir.path().join("org.yaml"), manifest).expect("writes");
    let output = Command::cargo_bin("orgform")
        .expect("the binary builds")
        .current_dir(dir.path())
        .args(["--color", "never", "validate"])
        .output()
        .expect("runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("is archived; its `tags` are ignored"),
        "{stderr}"
    );
    assert!(stderr.contains("org.yaml:6:5"), "{stderr}");
    assert_eq!(
        text(&output.stdout),
        "org.yaml is valid: 0 members, 1 workspace, 0 API keys (1 warning)\n"
    );
}

#[test]
fn color_always_colours_the_diagnostics_and_never_does_not() {
    let path = "tests/fixtures/invalid/bad-role.yaml";
    let coloured = orgform()
        .args(["--color", "always", "validate", "-f", path])
        .output()
        .expect("runs");
    assert!(
        text(&coloured.stderr).contains('\u{1b}'),
        "ANSI codes under --color always"
    );
    let plain = orgform()
        .env("NO_COLOR", "1")
        .args(["validate", "-f", path])
        .output()
        .expect("runs");
    assert!(
        !text(&plain.stderr).contains('\u{1b}'),
        "NO_COLOR is honoured"
    );
}

#[test]
fn schema_prints_the_committed_schema() {
    let output = orgform().arg("schema").output().expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let committed = std::fs::read_to_string(repo_root().join("schema/orgform.schema.json"))
        .expect("the committed schema");
    assert_eq!(text(&output.stdout), committed);
    let parsed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        parsed["additionalProperties"],
        serde_json::Value::Bool(false)
    );
}
