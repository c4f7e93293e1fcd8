//! Federation issuers and rules: order, updates (inline keys by digest), workspace
//! enablements, archives under their limits, protection, the unread-identities error, and a
//! property: applying the plan's effects gives a live state that plans empty.

use orgform_model::{Jwks, Snapshot, jwks_digest};
use orgform_plan::{
    BlockedKind, ChangeKind, DestructiveKind, ObjectKind, ObjectRef, Op, Pipeline, Plan,
    PlanErrorKind, PlanOptions, Refusal, WorkspaceRef, check_actions, plan,
};

use crate::support::conformance;
use crate::support::inputs::{manifest, opts, seed};

const WORKSPACES: &str = "workspaces:\n  - id: wrkspc_prod\n    name: production\n    created_at: 2026-01-01T00:00:00Z\n    display_color: \"#000000\"\n  - id: wrkspc_stage\n    name: staging\n    created_at: 2026-01-01T00:00:00Z\n    display_color: \"#000000\"\n";

const MANIFEST_WS: &str = "workspaces:\n  - name: production\n  - name: staging\n";

/// A live organization with one issuer (`github-actions`), one service account (`ci`) and
/// the rules given.
fn live(rules: &str) -> Snapshot {
    seed(&format!(
        "{WORKSPACES}identities:\n  service_accounts:\n    - id: svac_ci\n      name: ci\n      organization_role: developer\n      created_at: 2026-01-01T00:00:00Z\n    - id: svac_bot\n      name: bot\n      organization_role: developer\n      created_at: 2026-01-01T00:00:00Z\n  federation_issuers:\n    - id: fdis_gh\n      name: github-actions\n      issuer_url: https://token.actions.githubusercontent.com\n      jwks: {{type: discovery}}\n      max_jwt_lifetime_seconds: 3600\n      check_jti: true\n      created_at: 2026-01-01T00:00:00Z\n  federation_rules:\n{rules}"
    ))
}

const DEPLOY: &str = "    - id: fdrl_deploy\n      name: deploy\n      issuer_id: fdis_gh\n      match: {subject_prefix: \"repo:acme/infra:ref:refs/heads/main\"}\n      target_service_account_id: svac_ci\n      oauth_scope: workspace:developer\n      token_lifetime_seconds: 3600\n      applies_to_all_workspaces: false\n      workspace_ids: [wrkspc_prod]\n      created_at: 2026-01-01T00:00:00Z\n";

const ISSUER: &str =
    "    - name: github-actions\n      issuer_url: https://token.actions.githubusercontent.com\n";

fn rule(extra: &str) -> String {
    format!(
        "    - name: deploy\n      issuer: github-actions\n      service_account: ci\n      oauth_scope: workspace:developer\n      match: {{subject_prefix: \"repo:acme/infra:ref:refs/heads/main\"}}\n{extra}"
    )
}

fn fed(settings: &str, issuers: &str, rules: &str) -> orgform_manifest::Manifest {
    let rules = if rules.is_empty() {
        " []\n".to_owned()
    } else {
        format!("\n{rules}")
    };
    manifest(&format!(
        "{settings}{MANIFEST_WS}federation:\n  issuers:\n{issuers}  rules:{rules}"
    ))
}

fn kinds(p: &Plan) -> Vec<&'static str> {
    p.actions.iter().map(|a| a.op.name()).collect()
}

fn checked(p: &Plan) {
    assert!(p.errors.is_empty(), "{:#?}", p.errors);
    check_actions(&p.actions).expect("actions run in order");
    for action in &p.actions {
        conformance::check(action).unwrap_or_else(|e| panic!("{}: {e}", action.target));
    }
}

#[test]
fn an_identical_live_state_plans_nothing() {
    let m = fed("", ISSUER, &rule("      workspaces: [production]\n"));
    let p = plan(&m, &live(DEPLOY), &opts());
    checked(&p);
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert!(p.blocked.is_empty() && p.unmanaged.is_empty());
}

#[test]
fn issuers_come_before_the_rules_that_name_them() {
    let m = fed(
        "",
        &format!(
            "{ISSUER}    - name: lab\n      issuer_url: https://idp.acme.example\n      jwks: {{url: https://idp.acme.example/jwks}}\n"
        ),
        &format!(
            "{}    - name: lab-ci\n      issuer: lab\n      service_account: bot\n      oauth_scope: workspace:inference\n      match: {{claims: {{team: infra}}}}\n      workspaces: [production, staging]\n",
            rule("      workspaces: [production]\n")
        ),
    );
    let p = plan(&m, &live(DEPLOY), &opts());
    checked(&p);
    assert_eq!(
        kinds(&p),
        ["create_federation_issuer", "create_federation_rule"]
    );
    let create = &p.actions[1];
    assert_eq!(create.depends_on, [1]);
    let Op::CreateFederationRule {
        issuer,
        service_account,
        workspaces,
        applies_to_all_workspaces,
        ..
    } = &create.op
    else {
        panic!()
    };
    assert_eq!(*issuer, ObjectRef::Created { name: "lab".into() });
    assert_eq!(*service_account, ObjectRef::Id("svac_bot".into()));
    assert!(!applies_to_all_workspaces);
    assert_eq!(
        *workspaces,
        [
            WorkspaceRef::Id("wrkspc_prod".into()),
            WorkspaceRef::Id("wrkspc_stage".into())
        ]
    );
}

#[test]
fn inline_keys_are_compared_by_digest_and_never_shown() {
    let keys = r#"[{"kty":"RSA","kid":"k1","n":"modulus-one","e":"AQAB"}]"#;
    let values: Vec<serde_json::Value> = serde_json::from_str(keys).unwrap();
    let digest = jwks_digest(&values);
    let mut s = live(DEPLOY);
    let issuer = &mut s.identities.as_mut().unwrap().federation_issuers[0];
    issuer.jwks = Jwks::Inline {
        keys_digest: digest,
        key_count: 1,
    };
    let same = fed(
        "",
        &format!(
            "{ISSUER}      jwks:\n        keys:\n          - {{e: AQAB, n: modulus-one, kid: k1, kty: RSA}}\n"
        ),
        &rule("      workspaces: [production]\n"),
    );
    assert!(plan(&same, &s, &opts()).actions.is_empty());
    let other = fed(
        "",
        &format!(
            "{ISSUER}      jwks:\n        keys:\n          - {{e: AQAB, n: modulus-two, kid: k1, kty: RSA}}\n"
        ),
        &rule("      workspaces: [production]\n"),
    );
    let p = plan(&other, &s, &opts());
    checked(&p);
    assert_eq!(kinds(&p), ["update_federation_issuer"]);
    let shown = serde_json::to_string(&p.actions[0].changes).unwrap();
    assert!(shown.contains("keys_digest"), "{shown}");
    assert!(!shown.contains("modulus"), "{shown}");
}

#[test]
fn workspace_changes_enable_before_they_disable() {
    let m = fed("", ISSUER, &rule("      workspaces: [staging]\n"));
    let p = plan(&m, &live(DEPLOY), &opts());
    checked(&p);
    assert_eq!(
        kinds(&p),
        [
            "enable_federation_rule_workspace",
            "disable_federation_rule_workspace"
        ]
    );
    assert!(!p.actions[0].destructive);
    assert!(p.actions[1].destructive && !p.actions[1].irreversible);
    assert_eq!(p.actions[1].depends_on, [1]);
    // `all` only widens: the live list is left alone.
    let all = fed("", ISSUER, &rule("      workspaces: all\n"));
    let p = plan(&all, &live(DEPLOY), &opts());
    assert_eq!(kinds(&p), ["update_federation_rule"]);
    assert_eq!(p.actions[0].kind(), ChangeKind::Change);
}

#[test]
fn archives_are_last_destructive_irreversible_and_limited_per_kind() {
    let m = fed(
        "settings:\n  limits: {max_destructive: 10, max_destructive_percent: 100}\n",
        &format!("{ISSUER}      archived: true\n"),
        &rule("      archived: true\n"),
    );
    let p = plan(&m, &live(DEPLOY), &opts());
    checked(&p);
    assert_eq!(
        kinds(&p),
        ["archive_federation_rule", "archive_federation_issuer"]
    );
    assert!(p.actions.iter().all(|a| a.destructive && a.irreversible));
    assert_eq!(p.actions[1].depends_on, [1]);
    assert_eq!(
        p.actions[0].destructive_kind(),
        Some(DestructiveKind::FederationRuleArchives)
    );
    // A limit of zero refuses the plan, naming the kind.
    let zero = fed(
        "settings:\n  limits: {max_destructive: 0}\n",
        ISSUER,
        &rule("      archived: true\n"),
    );
    let p = plan(&zero, &live(DEPLOY), &opts());
    assert!(p.refusals.iter().any(|r| matches!(
        r,
        Refusal::DestructiveLimit {
            destructive_kind: DestructiveKind::FederationRuleArchives,
            ..
        }
    )));
}

#[test]
fn an_issuer_with_live_rules_not_archived_is_blocked_not_archived() {
    let m = fed("", &format!("{ISSUER}      archived: true\n"), "");
    let p = plan(&m, &live(DEPLOY), &opts());
    assert!(p.actions.is_empty());
    assert_eq!(p.blocked[0].kind, BlockedKind::IssuerInUse);
    assert!(p.blocked[0].reason.contains("deploy"));
}

#[test]
fn the_pipelines_own_rule_is_never_archived_or_narrowed() {
    let archive = fed("", ISSUER, &rule("      archived: true\n"));
    let narrow = fed("", ISSUER, &rule("      workspaces: [staging]\n"));
    let by_rule = PlanOptions {
        pipeline: Pipeline {
            federation_rule_id: Some("fdrl_deploy".into()),
            service_account_id: None,
        },
        ..opts()
    };
    let by_sa = PlanOptions {
        pipeline: Pipeline {
            federation_rule_id: None,
            service_account_id: Some("svac_ci".into()),
        },
        ..opts()
    };
    for options in [&by_rule, &by_sa] {
        let p = plan(&archive, &live(DEPLOY), options);
        assert!(p.actions.is_empty(), "{:#?}", p.actions);
        assert_eq!(p.blocked[0].kind, BlockedKind::Protected);
        let p = plan(&narrow, &live(DEPLOY), options);
        assert_eq!(kinds(&p), ["enable_federation_rule_workspace"]);
        assert_eq!(p.blocked[0].kind, BlockedKind::Protected);
    }
    // From settings: a rule targeting a protected service account.
    let settings = fed(
        "settings:\n  protected_service_accounts: [ci]\n",
        ISSUER,
        &rule("      archived: true\n"),
    );
    let p = plan(&settings, &live(DEPLOY), &opts());
    assert!(p.actions.is_empty());
    assert!(p.blocked[0].reason.contains("protected_service_accounts"));
    // Another credential (no pipeline identity, no protected setting) may archive it.
    assert_eq!(
        kinds(&plan(&archive, &live(DEPLOY), &opts())),
        ["archive_federation_rule"]
    );
}

#[test]
fn console_only_rules_are_reported_never_changed() {
    let admin_rule = DEPLOY.replace("workspace:developer", "org:admin");
    let m = fed(
        "",
        ISSUER,
        &rule("      workspaces: [staging]\n      archived: true\n"),
    );
    let p = plan(&m, &live(&admin_rule), &opts());
    assert!(p.actions.is_empty());
    assert_eq!(p.blocked[0].kind, BlockedKind::ConsoleOnlyScope);
    // An unlisted one is only reported.
    let m = fed("", ISSUER, "");
    let p = plan(&m, &live(&admin_rule), &opts());
    assert!(p.actions.is_empty());
    assert_eq!(p.unmanaged.len(), 1);
    assert_eq!(p.unmanaged[0].kind, ObjectKind::FederationRule);
}

/// A declared `org:admin` rule (the keyless pipeline's own): its creation is blocked with the
/// Console as remedy, the live one equal to it plans nothing, a difference is blocked and never
/// written, and it is protected like any rule.
#[test]
fn a_declared_console_rule_is_compared_never_written() {
    let admin_rule = DEPLOY.replace("workspace:developer", "org:admin");
    let declared =
        rule("      workspaces: [production]\n").replace("workspace:developer", "org:admin");
    let m = fed("", ISSUER, &declared);
    let mut absent = live(&admin_rule);
    absent.identities.as_mut().unwrap().federation_rules.clear();
    let p = plan(&m, &absent, &opts());
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert_eq!(p.blocked[0].kind, BlockedKind::ConsoleOnlyScope);
    assert!(
        p.blocked[0].remedy.contains("create it in the Console"),
        "{:?}",
        p.blocked
    );
    let same = plan(&m, &live(&admin_rule), &opts());
    assert!(
        same.actions.is_empty() && same.blocked.is_empty(),
        "{same:?}"
    );
    let changed = fed("", ISSUER, &declared.replace("production", "staging"));
    let p = plan(&changed, &live(&admin_rule), &opts());
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert_eq!(p.blocked[0].kind, BlockedKind::ConsoleOnlyScope);
    // A workspace rule is never turned into a Console one through the API either.
    let p = plan(&m, &live(DEPLOY), &opts());
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert_eq!(p.blocked[0].kind, BlockedKind::ConsoleOnlyScope);
}

#[test]
fn federation_without_identities_is_an_error_with_the_bearer_hint() {
    let m = fed("", ISSUER, &rule("      workspaces: [production]\n"));
    let mut s = live(DEPLOY);
    s.identities = None;
    let p = plan(&m, &s, &opts());
    assert!(p.actions.is_empty());
    assert_eq!(p.errors[0].kind, PlanErrorKind::IdentitiesNotRead);
    assert!(
        p.errors[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("ANTHROPIC_AUTH_TOKEN")
    );
    // A manifest without federation plans the rest as before.
    let plain = manifest(MANIFEST_WS);
    assert!(plan(&plain, &s, &opts()).errors.is_empty());
}

#[test]
fn a_changed_issuer_is_blocked_and_a_new_service_account_is_an_error() {
    let mut s = live(DEPLOY);
    let ids = s.identities.as_mut().unwrap();
    let mut other = ids.federation_issuers[0].clone();
    other.id = "fdis_lab".into();
    other.name = "lab".into();
    ids.federation_issuers.push(other);
    let m = fed(
        "",
        &format!(
            "{ISSUER}    - name: lab\n      issuer_url: https://token.actions.githubusercontent.com\n"
        ),
        &rule("      workspaces: [production]\n").replace("issuer: github-actions", "issuer: lab"),
    );
    let p = plan(&m, &s, &opts());
    assert_eq!(p.blocked[0].kind, BlockedKind::RuleIssuer);
    let m = fed(
        "",
        ISSUER,
        &rule("      workspaces: [production]\n")
            .replace("service_account: ci", "service_account: ghost"),
    );
    let p = plan(&m, &live(DEPLOY), &opts());
    assert_eq!(p.errors[0].kind, PlanErrorKind::UnknownServiceAccount);
    assert!(p.actions.is_empty());
}

/// A declared, live issuer or rule whose name exists only archived is blocked, never
/// created again: the API may keep an archived name taken (409 mid-apply) or free it (the
/// `federation-names` reading), and archiving cannot be undone either way.
#[test]
fn an_archived_name_declared_live_is_blocked_not_created_again() {
    let archived_rule = DEPLOY.replace(
        "      created_at: 2026-01-01T00:00:00Z\n",
        "      created_at: 2026-01-01T00:00:00Z\n      archived_at: 2026-02-01T00:00:00Z\n",
    );
    let m = fed("", ISSUER, &rule("      workspaces: [production]\n"));
    let p = plan(&m, &live(&archived_rule), &opts());
    checked(&p);
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert_eq!(p.blocked.len(), 1, "{:#?}", p.blocked);
    assert_eq!(p.blocked[0].kind, BlockedKind::ArchivedFederationObject);
    assert_eq!(p.blocked[0].target, "federation rule deploy");
    assert!(p.blocked[0].remedy.contains("archived: true"));
    // Declared archived, the same rule plans nothing.
    let m = fed("", ISSUER, &rule("      archived: true\n"));
    let p = plan(&m, &live(&archived_rule), &opts());
    checked(&p);
    assert!(p.actions.is_empty() && p.blocked.is_empty(), "{p:#?}");

    // The issuer: archived live, declared live with no rule.
    let mut s = live(&archived_rule);
    s.identities.as_mut().unwrap().federation_issuers[0].archived_at =
        Some("2026-02-01T00:00:00Z".parse().unwrap());
    let p = plan(&fed("", ISSUER, ""), &s, &opts());
    checked(&p);
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert_eq!(p.blocked.len(), 1, "{:#?}", p.blocked);
    assert_eq!(p.blocked[0].kind, BlockedKind::ArchivedFederationObject);
    assert_eq!(p.blocked[0].target, "federation issuer github-actions");
}

mod properties {
    use std::collections::BTreeSet;
    use std::fmt::Write as _;

    use proptest::prelude::*;

    use super::*;

    const IDS: [(&str, &str); 4] = [
        ("wrkspc_a", "alpha"),
        ("wrkspc_b", "bravo"),
        ("wrkspc_c", "charlie"),
        ("wrkspc_d", "delta"),
    ];

    fn org(live_all: bool, live_ws: &BTreeSet<usize>) -> Snapshot {
        let mut body = String::from("workspaces:\n");
        for (id, name) in IDS {
            write!(
                body,
                "  - id: {id}\n    name: {name}\n    created_at: 2026-01-01T00:00:00Z\n    display_color: \"#000000\"\n"
            )
            .unwrap();
        }
        let ids: Vec<&str> = live_ws.iter().map(|i| IDS[*i].0).collect();
        write!(
            body,
            "identities:\n  service_accounts:\n    - {{id: svac_ci, name: ci, organization_role: developer, created_at: 2026-01-01T00:00:00Z}}\n  federation_issuers:\n    - {{id: fdis_gh, name: github-actions, issuer_url: \"https://token.actions.githubusercontent.com\", jwks: {{type: discovery}}, max_jwt_lifetime_seconds: 3600, check_jti: true, created_at: 2026-01-01T00:00:00Z}}\n  federation_rules:\n    - {{id: fdrl_deploy, name: deploy, issuer_id: fdis_gh, match: {{subject_prefix: \"repo:acme/infra:ref:refs/heads/main\"}}, target_service_account_id: svac_ci, oauth_scope: workspace:developer, token_lifetime_seconds: 3600, applies_to_all_workspaces: {live_all}, workspace_ids: [{}], created_at: 2026-01-01T00:00:00Z}}\n",
            ids.join(", ")
        )
        .unwrap();
        seed(&body)
    }

    fn wanted(all: bool, ws: &BTreeSet<usize>) -> orgform_manifest::Manifest {
        let list = if all {
            "all".to_owned()
        } else {
            format!(
                "[{}]",
                ws.iter().map(|i| IDS[*i].1).collect::<Vec<_>>().join(", ")
            )
        };
        let mut m = String::from(
            "settings:\n  limits: {max_destructive: 10, max_destructive_percent: 100}\nworkspaces:\n",
        );
        for (_, name) in IDS {
            writeln!(m, "  - name: {name}").unwrap();
        }
        write!(
            m,
            "federation:\n  issuers:\n{ISSUER}  rules:\n{}",
            rule(&format!("      workspaces: {list}\n"))
        )
        .unwrap();
        manifest(&m)
    }

    proptest! {
        /// Whatever the live and wanted targeting, the plan's steps in order turn one into
        /// the other, every enable comes before any disable (the rule is never left with
        /// fewer workspaces than it ends with), and planning again finds nothing to do.
        #[test]
        fn workspace_targeting_converges_and_never_narrows_first(
            live_all in any::<bool>(),
            live_ws in proptest::collection::btree_set(0usize..4, 0..4),
            want_all in any::<bool>(),
            want_ws in proptest::collection::btree_set(0usize..4, 1..4),
        ) {
            let live = org(live_all, &live_ws);
            let m = wanted(want_all, &want_ws);
            let p = plan(&m, &live, &opts());
            prop_assert!(p.errors.is_empty() && p.refusals.is_empty(), "{:#?}", p);
            check_actions(&p.actions).unwrap();
            let mut all = live_all;
            let mut set: BTreeSet<String> = live_ws.iter().map(|i| IDS[*i].0.to_owned()).collect();
            let mut narrowed = false;
            for a in &p.actions {
                match &a.op {
                    Op::EnableFederationRuleWorkspace { workspace: WorkspaceRef::Id(id), .. } => {
                        prop_assert!(!narrowed, "an enable after a narrowing step");
                        set.insert(id.clone());
                    }
                    Op::DisableFederationRuleWorkspace { workspace_id, .. } => {
                        narrowed = true;
                        set.remove(workspace_id);
                    }
                    Op::UpdateFederationRule { applies_to_all_workspaces: Some(v), .. } => {
                        if !*v {
                            narrowed = true;
                            prop_assert!(!set.is_empty(), "leaving all with no workspace");
                        }
                        all = *v;
                    }
                    other => prop_assert!(false, "unexpected {}", other.name()),
                }
            }
            let live_after = {
                let mut s = live.clone();
                let r = &mut s.identities.as_mut().unwrap().federation_rules[0];
                r.applies_to_all_workspaces = all;
                r.workspace_ids = set.iter().cloned().collect();
                s
            };
            prop_assert_eq!(all, want_all);
            if !want_all {
                let want: BTreeSet<String> = want_ws.iter().map(|i| IDS[*i].0.to_owned()).collect();
                prop_assert_eq!(&set, &want);
            }
            let again = plan(&m, &live_after, &opts());
            prop_assert!(again.actions.is_empty(), "{:#?}", again.actions);
        }
    }
}

/// A rule enabled for a workspace its service account is not a member of (neither declared
/// nor live) is a warning, not an error: token exchange into that workspace is rejected
/// until it is (the reference). A grant in the manifest, or a live membership, silences it.
#[test]
fn a_rule_enabled_where_its_service_account_is_not_a_member_is_a_warning() {
    let m = fed("", ISSUER, &rule("      workspaces: [production]\n"));
    let p = plan(&m, &live(DEPLOY), &opts());
    checked(&p);
    assert!(p.actions.is_empty());
    assert_eq!(p.warnings.len(), 1, "{:#?}", p.warnings);
    assert!(
        p.warnings[0].contains("not a member") && p.warnings[0].contains("production"),
        "{}",
        p.warnings[0]
    );
    let granted = manifest(&format!(
        "workspaces:\n  - name: production\n    service_accounts: {{ci: workspace_developer}}\n  - name: staging\nservice_accounts:\n  - {{name: ci}}\n  - {{name: bot}}\nfederation:\n  issuers:\n{ISSUER}  rules:\n{}",
        rule("      workspaces: [production]\n")
    ));
    let p = plan(&granted, &live(DEPLOY), &opts());
    assert!(p.warnings.is_empty(), "{:#?}", p.warnings);
    let mut member = live(DEPLOY);
    member
        .identities
        .as_mut()
        .unwrap()
        .service_account_members
        .push(orgform_model::ServiceAccountMember {
            workspace_id: "wrkspc_prod".into(),
            service_account_id: "svac_ci".into(),
            workspace_role: orgform_model::WorkspaceRole::WorkspaceUser,
        });
    assert!(plan(&m, &member, &opts()).warnings.is_empty());
    // `all` includes the default workspace, where every service account is a member.
    let all = fed("", ISSUER, &rule("      workspaces: all\n"));
    assert!(plan(&all, &live(DEPLOY), &opts()).warnings.is_empty());
}

/// A protected rule (here the pipeline's own) is never moved to another service account:
/// that would end its protection and change what the pipeline acts as.
#[test]
fn a_protected_rule_is_not_moved_to_another_service_account() {
    let m = fed(
        "",
        ISSUER,
        &rule("      workspaces: [production]\n")
            .replace("service_account: ci", "service_account: bot"),
    );
    let by_sa = PlanOptions {
        pipeline: Pipeline {
            federation_rule_id: None,
            service_account_id: Some("svac_ci".into()),
        },
        ..opts()
    };
    let p = plan(&m, &live(DEPLOY), &by_sa);
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert_eq!(p.blocked[0].kind, BlockedKind::Protected);
    assert_eq!(p.blocked[0].field.as_deref(), Some("service_account"));
    assert_eq!(
        kinds(&plan(&m, &live(DEPLOY), &opts())),
        ["update_federation_rule"]
    );
}
