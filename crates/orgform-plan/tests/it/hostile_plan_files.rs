//! Arbitrary and mutated JSON into the saved-plan reader (`Plan::from_json`): it returns a
//! plan or an error and never panics, and a plan it accepts renders in every format without
//! panicking either.

use orgform_plan::{Plan, render};
use proptest::prelude::*;
use serde_json::Value;

use crate::support::inputs::every_op_plan;

/// The JSON of a plan that holds every operation.
fn every_op_json() -> String {
    render::json(&every_op_plan())
}

/// Reads `text` as a plan file; an accepted plan is rendered in every format.
fn read(text: &str) -> Option<Plan> {
    let plan = Plan::from_json(text).ok()?;
    let _ = render::text(&plan, false);
    let _ = render::markdown(&plan);
    let _ = render::json(&plan);
    Some(plan)
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String("remove_user".into())),
        Just(Value::from(u64::MAX)),
        Just(Value::from(-1)),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    ".{0,8}",
                    Just("op".to_owned()),
                    Just("kind".to_owned()),
                    Just("id".to_owned()),
                    Just("depends_on".to_owned()),
                    Just("format_version".to_owned()),
                ],
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every (path to a node) in `value`, as a list of object keys or array indices.
fn paths(value: &Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(here.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                here.push(k.clone());
                paths(v, here, out);
                here.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                here.push(i.to_string());
                paths(v, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(value, |v, step| match v {
        Value::Object(map) => map.get_mut(step).unwrap(),
        Value::Array(items) => &mut items[step.parse::<usize>().unwrap()],
        _ => unreachable!(),
    })
}

#[test]
fn the_unmutated_plan_is_read_back() {
    let text = every_op_json();
    let plan = read(&text).expect("a plan this version wrote is readable");
    assert!(!plan.actions.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let _ = read(&value.to_string());
        let mut with_version = serde_json::json!({"format_version": orgform_plan::FORMAT_VERSION});
        with_version["actions"] = value;
        let _ = read(&with_version.to_string());
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,256}") {
        let _ = read(&text);
    }

    #[test]
    fn a_saved_plan_with_one_node_replaced_never_panics(
        pick in any::<prop::sample::Index>(),
        replacement in json_value(),
    ) {
        let text = every_op_json();
        let mut value: Value = serde_json::from_str(&text).unwrap();
        let mut all = Vec::new();
        paths(&value, &mut Vec::new(), &mut all);
        let path = pick.get(&all).clone();
        *node_mut(&mut value, &path) = replacement;
        let _ = read(&value.to_string());
    }

    #[test]
    fn a_saved_plan_cut_anywhere_never_panics(at in any::<prop::sample::Index>()) {
        let text = every_op_json();
        let cut = at.index(text.len());
        let _ = read(text.get(..cut).unwrap_or(""));
    }
}

/// Tampered plan files of service-account and federation actions. The file's
/// `actions_digest` catches any edit to the actions made without recomputing it
/// (`PlanFileError::DigestMismatch`, before anything is read); an attacker can recompute it
/// (it is a digest, not a signature), and then the comparison with the plan made now from the
/// manifest and a fresh read (`differences`, which `apply PLANFILE` refuses on) catches the
/// edit. Blocked items are outside the digest: only the comparison sees them.
mod identities {
    use orgform_plan::{Plan, PlanFileError, actions_digest, differences, plan, render};
    use serde_json::{Value, json};

    use crate::support::inputs::{manifest, opts, seed};

    const LIVE: &str = "workspaces:
  - {id: wrkspc_prod, name: production, created_at: 2026-01-01T00:00:00Z, display_color: '#000000'}
  - {id: wrkspc_stage, name: staging, created_at: 2026-01-01T00:00:00Z, display_color: '#000000'}
identities:
  service_accounts:
    - {id: svac_ci, name: ci, organization_role: developer, created_at: 2026-01-01T00:00:00Z}
    - {id: svac_old, name: old-bot, organization_role: developer, created_at: 2026-01-01T00:00:00Z}
    - {id: svac_keep, name: keep, organization_role: developer, created_at: 2026-01-01T00:00:00Z}
  service_account_members:
    - {workspace_id: wrkspc_stage, service_account_id: svac_ci, workspace_role: workspace_user}
    - {workspace_id: wrkspc_prod, service_account_id: svac_keep, workspace_role: workspace_user}
  federation_issuers:
    - {id: fdis_gh, name: github-actions, issuer_url: 'https://token.actions.githubusercontent.com', jwks: {type: discovery}, max_jwt_lifetime_seconds: 3600, check_jti: true, created_at: 2026-01-01T00:00:00Z}
  federation_rules:
    - {id: fdrl_deploy, name: deploy, issuer_id: fdis_gh, match: {subject_prefix: 'repo:acme/infra:ref:refs/heads/main'}, target_service_account_id: svac_ci, oauth_scope: 'workspace:developer', token_lifetime_seconds: 3600, applies_to_all_workspaces: false, workspace_ids: [wrkspc_prod], created_at: 2026-01-01T00:00:00Z}
    - {id: fdrl_old, name: old-rule, issuer_id: fdis_gh, match: {subject_prefix: 'repo:acme/old:*'}, target_service_account_id: svac_old, oauth_scope: 'workspace:developer', token_lifetime_seconds: 3600, applies_to_all_workspaces: false, workspace_ids: [wrkspc_prod], created_at: 2026-01-01T00:00:00Z}
    - {id: fdrl_guard, name: guard, issuer_id: fdis_gh, match: {subject_prefix: 'repo:acme/orgform:ref:refs/heads/main'}, target_service_account_id: svac_keep, oauth_scope: 'workspace:developer', token_lifetime_seconds: 3600, applies_to_all_workspaces: false, workspace_ids: [wrkspc_prod, wrkspc_stage], created_at: 2026-01-01T00:00:00Z}
";

    const WANTED: &str = "settings:
  protected_service_accounts: [keep]
  limits: {max_destructive: 10, max_destructive_percent: 100}
service_accounts:
  - {name: ci, description: deploys}
  - {name: new-bot}
  - {name: old-bot, archived: true}
  - {name: keep}
workspaces:
  - name: production
    service_accounts: {ci: workspace_developer, new-bot: workspace_user, keep: workspace_user}
  - name: staging
    service_accounts: {ci: workspace_user}
federation:
  issuers:
    - {name: github-actions, issuer_url: 'https://token.actions.githubusercontent.com'}
    - {name: lab, issuer_url: 'https://idp.acme.example'}
  rules:
    - {name: deploy, issuer: github-actions, service_account: ci, oauth_scope: 'workspace:developer', match: {subject_prefix: 'repo:acme/infra:ref:refs/heads/main'}, workspaces: [staging]}
    - {name: old-rule, issuer: github-actions, service_account: ci, oauth_scope: 'workspace:developer', match: {subject_prefix: 'repo:acme/old:*'}, archived: true}
    - {name: guard, issuer: github-actions, service_account: keep, oauth_scope: 'workspace:developer', match: {subject_prefix: 'repo:acme/orgform:ref:refs/heads/main'}, workspaces: [production]}
    - {name: lab-ci, issuer: lab, service_account: new-bot, oauth_scope: 'workspace:inference', match: {claims: {team: infra}}, workspaces: [production]}
";

    /// The plan made now: every identity kind, and the protected rule's narrowing blocked.
    fn fresh() -> Plan {
        let p = plan(&manifest(WANTED), &seed(LIVE), &opts());
        assert!(p.errors.is_empty() && p.refusals.is_empty(), "{p:#?}");
        assert_eq!(p.blocked.len(), 1, "{:#?}", p.blocked);
        p
    }

    fn find(v: &Value, kind: &str) -> usize {
        v["actions"]
            .as_array()
            .unwrap()
            .iter()
            .position(|a| a["op"]["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in the plan"))
    }

    fn reseal(v: &mut Value) {
        let actions: Vec<orgform_plan::Action> =
            serde_json::from_value(v["actions"].clone()).unwrap();
        v["actions_digest"] = json!(actions_digest(&actions));
    }

    type Edit = Box<dyn Fn(&mut Value)>;

    /// One edit an attacker who can write the plan file makes, and the line the comparison
    /// with the plan made now shows once the digest is recomputed.
    fn tampers(v: &Value) -> Vec<(&'static str, Edit, &'static str)> {
        let archive_sa = find(v, "archive_service_account");
        let update_sa = find(v, "update_service_account");
        let add_member = find(v, "add_service_account_member");
        let create_rule = find(v, "create_federation_rule");
        let disable = find(v, "disable_federation_rule_workspace");
        let archive_rule = find(v, "archive_federation_rule");
        let next = v["actions"].as_array().unwrap().len() + 1;
        vec![
            (
                "archive target id edited to the protected service account",
                Box::new(move |p: &mut Value| {
                    p["actions"][archive_sa]["op"]["service_account_id"] = json!("svac_keep");
                }),
                "differs in op",
            ),
            (
                "service account role raised to admin",
                Box::new(move |p: &mut Value| {
                    p["actions"][update_sa]["op"]["organization_role"] = json!("admin");
                }),
                "differs in op",
            ),
            (
                "workspace grant raised to workspace_admin",
                Box::new(move |p: &mut Value| {
                    p["actions"][add_member]["op"]["role"] = json!("workspace_admin");
                }),
                "differs in op",
            ),
            (
                "an archive of the protected rule added",
                Box::new(move |p: &mut Value| {
                    let mut extra = p["actions"][archive_rule].clone();
                    extra["id"] = json!(next);
                    extra["depends_on"] = json!([]);
                    extra["op"] = json!({"kind": "archive_federation_rule", "rule_id": "fdrl_guard", "name": "guard"});
                    extra["target"] = json!("federation rule guard");
                    p["actions"].as_array_mut().unwrap().push(extra);
                }),
                "only in the saved plan",
            ),
            (
                "destructive mark removed from a workspace disable",
                Box::new(move |p: &mut Value| {
                    p["actions"][disable]["destructive"] = json!(false);
                }),
                "differs in destructive",
            ),
            (
                "irreversible mark removed from a rule archive",
                Box::new(move |p: &mut Value| {
                    p["actions"][archive_rule]["irreversible"] = json!(false);
                }),
                "differs in irreversible",
            ),
            (
                "a rule's scope widened",
                Box::new(move |p: &mut Value| {
                    p["actions"][create_rule]["op"]["oauth_scope"] = json!("org:admin");
                }),
                "differs in op",
            ),
            (
                "a rule's match loosened",
                Box::new(move |p: &mut Value| {
                    p["actions"][create_rule]["op"]["rule_match"] =
                        json!({"subject_prefix": "repo:*"});
                }),
                "differs in op",
            ),
            (
                "a created rule pointed at the protected service account",
                Box::new(move |p: &mut Value| {
                    p["actions"][create_rule]["op"]["service_account"] = json!({"id": "svac_keep"});
                }),
                "differs in op",
            ),
            (
                "the rule archive dropped",
                Box::new(move |p: &mut Value| {
                    p["actions"][archive_rule]["op"]["rule_id"] = json!("fdrl_deploy");
                }),
                "differs in op",
            ),
        ]
    }

    #[test]
    fn tampered_identity_actions_are_refused_by_the_digest_or_the_fresh_plan() {
        let fresh = fresh();
        let saved: Value = serde_json::from_str(&render::json(&fresh)).unwrap();
        assert!(Plan::from_json(&saved.to_string()).is_ok());
        assert!(differences(&fresh, &fresh).is_empty());
        for (what, edit, reason) in tampers(&saved) {
            let mut edited = saved.clone();
            edit(&mut edited);
            assert_ne!(edited, saved, "{what}: the edit changes the file");
            // Under the recorded digest: refused on reading.
            let err = Plan::from_json(&edited.to_string()).unwrap_err();
            assert!(
                matches!(err, PlanFileError::DigestMismatch { .. }),
                "{what}: {err}"
            );
            // Digest recomputed: the file reads, and the plan made now tells it apart.
            reseal(&mut edited);
            let reread = Plan::from_json(&edited.to_string())
                .unwrap_or_else(|e| panic!("{what}: a resealed file reads: {e}"));
            let diff = differences(&reread, &fresh);
            assert!(diff.iter().any(|d| d.contains(reason)), "{what}: {diff:#?}");
        }
    }

    /// The blocked item that records the protection is not in the digest: removing it (the
    /// attacker's way to make a protected narrowing look unprotected) reads fine, and only
    /// the comparison with the plan made now catches it.
    #[test]
    fn a_removed_protection_record_is_caught_by_the_fresh_plan_only() {
        let fresh = fresh();
        let mut saved: Value = serde_json::from_str(&render::json(&fresh)).unwrap();
        assert_eq!(saved["blocked"][0]["kind"], "protected");
        saved["blocked"] = json!([]);
        let reread = Plan::from_json(&saved.to_string()).expect("outside the digest");
        let diff = differences(&reread, &fresh);
        assert!(
            diff.iter()
                .any(|d| d.contains("blocked item only in a plan made now")),
            "{diff:#?}"
        );
        // And a narrowing of the protected rule smuggled in with a recomputed digest.
        let mut narrowed = saved.clone();
        let disable = find(&narrowed, "disable_federation_rule_workspace");
        let mut extra = narrowed["actions"][disable].clone();
        extra["id"] = json!(narrowed["actions"].as_array().unwrap().len() + 1);
        extra["depends_on"] = json!([]);
        extra["op"] = json!({"kind": "disable_federation_rule_workspace", "rule_id": "fdrl_guard", "name": "guard", "workspace_id": "wrkspc_stage"});
        narrowed["actions"].as_array_mut().unwrap().push(extra);
        reseal(&mut narrowed);
        let reread = Plan::from_json(&narrowed.to_string()).unwrap();
        let diff = differences(&reread, &fresh);
        assert!(
            diff.iter().any(|d| d.contains("only in the saved plan")),
            "{diff:#?}"
        );
    }
}
