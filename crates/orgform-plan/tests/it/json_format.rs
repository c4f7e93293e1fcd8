//! The JSON plan format (also the `--out` plan file), pinned by an insta snapshot of a plan
//! that exercises every operation, plus the fields `docs/cli.md` promises.

use std::collections::BTreeSet;

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
