//! `apply PLANFILE` with a saved plan of service accounts, grants and federation edited
//! between review and apply: each edit (with the old digest, or resealed) is refused with
//! exit 3 and no write reaches the API; the untouched file applies.

use std::path::Path;

use orgform_emulator::FaultConfig;
use orgform_emulator::readings::Readings;
use serde_json::{Value, json};

use crate::common::Run;
use crate::identities_support::{
    IdOrg, V1, accounts_archived, manifest, rule_archived, sa_named, write,
};

/// Index of the first action whose op kind is `kind`.
fn find(plan: &Value, kind: &str) -> usize {
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .position(|a| a["op"]["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} action in {plan:#}"))
}

/// Sets `actions_digest` to the digest of the edited actions, as a careful attacker would.
fn reseal(plan: &mut Value) {
    let actions: Vec<orgform_plan::Action> =
        serde_json::from_value(plan["actions"].clone()).unwrap();
    plan["actions_digest"] = json!(orgform_plan::actions_digest(&actions));
}

fn apply_file(org: &IdOrg, dir: &Path, plan: &Value) -> Run {
    std::fs::write(
        dir.join("tampered.json"),
        serde_json::to_string_pretty(plan).unwrap(),
    )
    .unwrap();
    org.plain(dir, &["apply", "tampered.json", "--auto-approve"], &[])
}

type Edit = Box<dyn Fn(&mut Value)>;

/// Each edit is refused twice: under the old digest (before any request), then resealed.
fn assert_each_refused(org: &IdOrg, dir: &Path, saved: &Value, edits: Vec<(&str, Edit)>) {
    for (what, edit) in edits {
        let mut edited = saved.clone();
        edit(&mut edited);
        assert_ne!(&edited, saved, "{what}: the edit changes the file");
        org.emulator().clear_request_log();
        let run = apply_file(org, dir, &edited);
        assert_eq!(run.code, 3, "{what}: {run:?}");
        assert!(
            run.stderr.contains("actions_digest"),
            "{what}: {}",
            run.stderr
        );
        assert!(
            org.emulator().request_log().is_empty(),
            "{what}: refused before reading the organization"
        );
        reseal(&mut edited);
        let run = apply_file(org, dir, &edited);
        assert_eq!(run.code, 3, "{what} (resealed): {run:?}");
        assert!(
            run.stderr.contains("nothing was"),
            "{what} (resealed): {}",
            run.stderr
        );
        assert!(
            org.writes().is_empty(),
            "{what} (resealed): {:?}",
            org.writes()
        );
    }
}

#[test]
fn tampered_identity_plans_are_refused_with_no_write() {
    let org = IdOrg::start(Readings::default(), FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &manifest(V1));
    let saved = org.plain(dir.path(), &["plan", "--out", "plan.json"], &[]);
    assert_eq!(saved.code, 0, "{saved:?}");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    let create = find(&saved, "create_service_account");
    let rule = find(&saved, "create_federation_rule");
    let grant = find(&saved, "update_service_account_member");
    let staging = org.workspace_id("Staging");
    let keep = sa_named(&org, "keep-bot").id;
    let old = sa_named(&org, "old-bot").id;
    let next_id = saved["actions"].as_array().unwrap().len() + 1;
    let template = saved["actions"][create].clone();
    let edits: Vec<(&str, Edit)> = vec![
        (
            "service account created as admin",
            Box::new(move |p| p["actions"][create]["op"]["organization_role"] = json!("admin")),
        ),
        (
            "rule subject widened",
            Box::new(move |p| {
                p["actions"][rule]["op"]["rule_match"]["subject_prefix"] = json!("system:*");
            }),
        ),
        (
            "rule scope raised",
            Box::new(move |p| p["actions"][rule]["op"]["oauth_scope"] = json!("org:admin")),
        ),
        (
            "rule retargeted at another service account",
            Box::new(move |p| {
                p["actions"][rule]["op"]["service_account"] = json!({"id": keep.clone()});
            }),
        ),
        (
            "grant moved to another workspace",
            Box::new(move |p| {
                p["actions"][grant]["op"]["workspace_id"] = json!(staging.clone());
            }),
        ),
        (
            "service account archive appended",
            Box::new(move |p| {
                let mut extra = template.clone();
                extra["id"] = json!(next_id);
                extra["depends_on"] = json!([]);
                extra["destructive"] = json!(true);
                extra["irreversible"] = json!(true);
                extra["op"] = json!({
                    "kind": "archive_service_account",
                    "service_account_id": old.clone(),
                    "name": "old-bot",
                });
                p["actions"].as_array_mut().unwrap().push(extra);
            }),
        ),
    ];
    assert_each_refused(&org, dir.path(), &saved, edits);

    // The untouched file applies.
    let run = org.plain(dir.path(), &["apply", "plan.json", "--auto-approve"], &[]);
    assert_eq!(run.code, 0, "{run:?}");

    // A saved archive plan, its target swapped for a live service account.
    write(
        dir.path(),
        &manifest(&accounts_archived(&rule_archived(V1))),
    );
    let saved = org.plain(dir.path(), &["plan", "--out", "archive.json"], &[]);
    assert_eq!(saved.code, 0, "{saved:?}");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("archive.json")).unwrap())
            .unwrap();
    let archive = find(&saved, "archive_service_account");
    let rule = find(&saved, "archive_federation_rule");
    let ci = sa_named(&org, "ci-bot").id;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "archive of another service account",
            Box::new(move |p| {
                p["actions"][archive]["op"]["service_account_id"] = json!(ci.clone());
                p["actions"][archive]["op"]["name"] = json!("ci-bot");
            }),
        ),
        (
            "rule archive dropped",
            Box::new(move |p| {
                p["actions"].as_array_mut().unwrap().remove(rule);
            }),
        ),
    ];
    assert_each_refused(&org, dir.path(), &saved, edits);
    assert!(
        org.identities()
            .service_accounts
            .iter()
            .all(|s| !s.is_archived())
    );
}
