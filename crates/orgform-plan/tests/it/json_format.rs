//! The JSON plan format (also the `--out` plan file), pinned by an insta snapshot of a plan
//! that exercises every operation, plus the fields `docs/cli.md` promises.

use std::collections::BTreeSet;
use std::path::Path;

use orgform_plan::render;

use crate::support::inputs::every_op_plan;

#[test]
fn json_plan_format() {
    let p = every_op_plan();
    let kinds: BTreeSet<&str> = p.actions.iter().map(|a| a.op.name()).collect();
    assert_eq!(kinds.len(), 12, "every operation appears: {kinds:?}");
    let json = render::json(&p);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    for field in [
        "format_version",
        "organization_id",
        "manifest_digest",
        "live_digest",
        "actions_digest",
        "actions",
        "deferred",
        "blocked",
        "unmanaged",
        "errors",
        "refusals",
        "warnings",
        "summary",
    ] {
        assert!(value.get(field).is_some(), "missing {field}");
    }
    for action in value["actions"].as_array().unwrap() {
        for field in [
            "id",
            "op",
            "target",
            "changes",
            "destructive",
            "irreversible",
            "depends_on",
        ] {
            assert!(action.get(field).is_some(), "action lacks {field}");
        }
        assert!(action["op"]["kind"].is_string());
    }
    assert_eq!(
        value["actions_digest"],
        orgform_plan::actions_digest(&p.actions),
        "the digest of the actions, as `apply PLANFILE` checks it"
    );
    assert_eq!(value["format_version"], orgform_plan::FORMAT_VERSION);
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("plan_json_every_op", json);
    });
}

/// The backticked names of the docs/cli.md line that starts with `lead`.
fn documented_fields(doc: &str, lead: &str) -> BTreeSet<String> {
    let line = doc
        .lines()
        .find(|l| l.starts_with(lead))
        .unwrap_or_else(|| panic!("docs/cli.md has no line starting with {lead:?}"));
    line[lead.len()..]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn docs_list_exactly_the_fields_of_json_actions() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli.md"))
            .unwrap();
    let action_fields = documented_fields(&doc, "Each action in `actions` has:");
    let change_fields = documented_fields(&doc, "Each entry of `changes` has:");
    let p = every_op_plan();
    let value: serde_json::Value = serde_json::from_str(&render::json(&p)).unwrap();
    let mut changes_seen = 0;
    for action in value["actions"].as_array().unwrap() {
        let keys: BTreeSet<String> = action.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, action_fields, "docs/cli.md and the JSON of {action}");
        assert_eq!(
            action["kind"], action["op"]["kind"],
            "`kind` repeats `op.kind`"
        );
        for change in action["changes"].as_array().unwrap() {
            let keys: BTreeSet<String> = change.as_object().unwrap().keys().cloned().collect();
            assert_eq!(keys, change_fields, "docs/cli.md and the JSON of {change}");
            changes_seen += 1;
        }
    }
    assert!(changes_seen > 0);
}

#[test]
fn the_top_level_kind_is_not_part_of_the_actions_digest() {
    let p = every_op_plan();
    let mut value: serde_json::Value = serde_json::from_str(&render::json(&p)).unwrap();
    for action in value["actions"].as_array_mut().unwrap() {
        action.as_object_mut().unwrap().remove("kind");
    }
    let reread: orgform_plan::Plan =
        orgform_plan::Plan::from_json(&serde_json::to_string(&value).unwrap())
            .expect("a plan written before `kind` was added still reads");
    assert_eq!(reread.actions, p.actions);
}
