//! The committed JSON Schema: fresh, and a faithful oracle.
//!
//! The example and every valid fixture satisfy it; the invalid fixtures whose problem a
//! schema can express are rejected by it too (the table below lists them; the others need
//! cross-field or YAML-level checks that only the validator does).

use std::path::{Path, PathBuf};

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(orgform_manifest::SCHEMA_JSON).expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

fn yaml_as_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

#[test]
fn committed_schema_is_up_to_date() {
    let committed = std::fs::read_to_string(repo_root().join("schema/orgform.schema.json"))
        .expect("the committed schema");
    assert!(
        committed == orgform_manifest::generate_schema(),
        "schema/orgform.schema.json is out of date; run `cargo run -p xtask -- schema`"
    );
    assert_eq!(
        orgform_manifest::SCHEMA_JSON,
        committed,
        "the embedded copy is the committed file"
    );
}

#[test]
fn example_and_valid_fixtures_satisfy_the_schema() {
    let validator = validator();
    let mut files = vec![repo_root().join("examples/org.yaml")];
    let valid = repo_root().join("tests/fixtures/valid");
    for entry in std::fs::read_dir(&valid).expect("valid fixtures") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            // A directory's fragments are partial; the merged manifest must satisfy the schema.
            let loaded = orgform_manifest::load(&path).expect("the fragments load");
            let json = serde_json::to_value(&loaded.manifest).expect("serializes");
            assert_eq!(
                errors(&validator, &json),
                Vec::<String>::new(),
                "{}",
                path.display()
            );
        } else {
            files.push(path);
        }
    }
    for path in files {
        let json = yaml_as_json(&path);
        assert_eq!(
            errors(&validator, &json),
            Vec::<String>::new(),
            "{}",
            path.display()
        );
        orgform_manifest::load(&path).expect("the validator agrees");
    }
}

/// Invalid fixtures that a schema can express, with a fragment of the JSON pointer that the
/// schema's complaint must mention.
const EXPRESSIBLE: &[(&str, &str)] = &[
    ("unknown-key.yaml", "/members/0"),
    ("bad-role.yaml", "/members/0/role"),
    ("name-too-long.yaml", "/workspaces/0/name"),
    ("bad-colour.yaml", "/workspaces/0/display_color"),
    ("anthropic-tag.yaml", "/workspaces/0/tags"),
    ("api-key-without-identity.yaml", "/api_keys/1"),
    ("api-key-expired-status.yaml", "/api_keys/0/status"),
    ("version-2.yaml", "/version"),
    ("bad-organization-id.yaml", "/organization/id"),
    (
        "limits-percent.yaml",
        "/settings/limits/max_destructive_percent",
    ),
    ("wrong-type.yaml", "/version"),
    ("missing-organization.yaml", ""),
    ("several-problems.yaml", "/organization/id"),
    ("every-problem-at-once.yaml", "/workspaces/0/name"),
    ("unknown-key-and-undeclared-member.yaml", "/members/0"),
    (
        "wrong-type-and-duplicate-workspace.yaml",
        "/workspaces/1/archived",
    ),
];

/// Invalid fixtures the schema cannot reject: cross-field rules, fragments, or text that is
/// not a YAML document at all.
const NOT_EXPRESSIBLE: &[&str] = &[
    "alias-bomb.yaml",
    "aws-with-members.yaml",
    "duplicate-api-key-name.yaml",
    "duplicate-email-case.yaml",
    "duplicate-workspace.yaml",
    "duplicate-yaml-key.yaml",
    "empty.yaml",
    "enterprise-role-on-console.yaml",
    "fragments-duplicate-email",
    "fragments-structural-and-semantic",
    "not-utf8.yaml",
    "residency-default-not-allowed.yaml",
    "syntax-error.yaml",
    "several-structural-problems.yaml",
    "two-documents.yaml",
    "two-organizations",
    "undeclared-workspace-member.yaml",
    "workspace-billing.yaml",
    "workspace-named-default.yaml",
];

#[test]
fn expressible_invalid_fixtures_are_rejected_by_the_schema() {
    let validator = validator();
    for (name, pointer) in EXPRESSIBLE {
        let json = yaml_as_json(&repo_root().join("tests/fixtures/invalid").join(name));
        let found = errors(&validator, &json);
        assert!(!found.is_empty(), "{name}: the schema accepts it");
        assert!(
            found.iter().any(|e| e.contains(&format!(" at {pointer}"))),
            "{name}: expected a complaint at {pointer}, got {found:?}"
        );
    }
}

#[test]
fn every_invalid_fixture_is_classified() {
    let dir = repo_root().join("tests/fixtures/invalid");
    for entry in std::fs::read_dir(&dir).expect("invalid fixtures") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf-8");
        let listed =
            EXPRESSIBLE.iter().any(|(n, _)| *n == name) || NOT_EXPRESSIBLE.contains(&name.as_str());
        assert!(listed, "{name}: add it to EXPRESSIBLE or NOT_EXPRESSIBLE");
    }
}
