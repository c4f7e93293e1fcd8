//! The planner's service-account rules on their own: requests that match the spec, order
//! (service accounts before grants, archives last), grants in a new workspace depending on
//! both creations, the implicit membership never in the plan, unread identities refused.

use orgform_plan::{Op, PlanErrorKind, ServiceAccountRef, WorkspaceRef, plan};

use crate::support::conformance;
use crate::support::inputs::{manifest, opts, seed};

const LIVE: &str = "workspaces:
  - {id: wrkspc_a, name: Alpha, created_at: 2026-01-01T00:00:00Z, display_color: '#111111'}
identities:
  service_accounts:
    - {id: svac_keep, name: keep-bot, organization_role: developer, created_at: 2026-01-01T00:00:00Z}
    - {id: svac_gone, name: gone-bot, organization_role: developer, created_at: 2026-01-01T00:00:00Z}
  service_account_members:
    - {workspace_id: wrkspc_a, service_account_id: svac_keep, workspace_role: workspace_user}
";

const WANTED: &str = "settings: {limits: {max_destructive_percent: 100}}
service_accounts:
  - {name: new-bot, organization_role: admin, description: fresh}
  - {name: keep-bot, organization_role: admin}
  - {name: gone-bot, archived: true}
workspaces:
  - name: Alpha
    service_accounts: {keep-bot: workspace_user, new-bot: workspace_developer}
  - name: Beta
    service_accounts: {new-bot: workspace_admin}
";

#[test]
fn every_action_matches_the_spec_in_the_documented_order() {
    let p = plan(&manifest(WANTED), &seed(LIVE), &opts());
    assert!(p.errors.is_empty(), "{:#?}", p.errors);
    let ops: Vec<&str> = p.actions.iter().map(|a| a.op.name()).collect();
    assert_eq!(
        ops,
        [
            "create_workspace",
            "create_service_account",
            "update_service_account",
            "add_service_account_member",
            "add_service_account_member",
            "archive_service_account",
        ]
    );
    for action in &p.actions {
        conformance::check(action).unwrap_or_else(|e| panic!("{}: {e}", action.target));
    }
    let in_beta = p
        .actions
        .iter()
        .find(|a| {
            matches!(&a.op, Op::AddServiceAccountMember { workspace: WorkspaceRef::Created { name }, .. } if name == "Beta")
        })
        .unwrap();
    assert!(matches!(
        &in_beta.op,
        Op::AddServiceAccountMember {
            service_account: ServiceAccountRef::Created { .. },
            ..
        }
    ));
    assert_eq!(
        in_beta.depends_on,
        [1, 2],
        "the workspace and the service account first"
    );
}

/// A manifest that declares exactly the live service accounts and grants plans nothing and
/// reports nothing as unmanaged.
#[test]
fn a_declared_state_that_matches_plans_nothing() {
    let live = seed(LIVE);
    let m = manifest(
        "service_accounts:\n  - {name: keep-bot}\n  - {name: gone-bot}\nworkspaces:\n  - name: Alpha\n    service_accounts: {keep-bot: workspace_user}\n",
    );
    let p = plan(&m, &live, &opts());
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert!(p.unmanaged.is_empty(), "{:#?}", p.unmanaged);
}

#[test]
fn unread_identities_are_an_error_only_when_the_manifest_needs_them() {
    let mut live = seed(LIVE);
    live.identities = None;
    let p = plan(&manifest(WANTED), &live, &opts());
    assert!(p.actions.is_empty());
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].kind, PlanErrorKind::IdentitiesNotRead);
    let grants_only = manifest("workspaces:\n  - name: Alpha\n    service_accounts: {}\n");
    assert_eq!(
        plan(&grants_only, &live, &opts()).errors[0].kind,
        PlanErrorKind::IdentitiesNotRead,
        "an empty grant map still manages service-account memberships"
    );
    assert!(plan(&manifest(""), &live, &opts()).errors.is_empty());
}

/// The implicit `workspace_user` membership every service account has in the default
/// workspace: should a read ever carry it (the default workspace is never listed), it is not
/// planned, not reported, not drift, and not counted by the removal limit.
#[test]
fn the_implicit_default_workspace_membership_is_never_planned_reported_or_drifted() {
    let mut live = seed(LIVE);
    let ids = live.identities.as_mut().unwrap();
    for sa in ["svac_keep", "svac_gone"] {
        ids.service_account_members
            .push(orgform_model::ServiceAccountMember {
                workspace_id: "wrkspc_default".into(),
                service_account_id: sa.into(),
                workspace_role: orgform_model::WorkspaceRole::WorkspaceUser,
            });
    }
    let m = manifest(
        "settings: {workspace_members: {unmanaged: remove}}\nservice_accounts:\n  - {name: keep-bot}\n  - {name: gone-bot}\nworkspaces:\n  - name: Alpha\n    service_accounts: {keep-bot: workspace_user}\n",
    );
    let p = plan(&m, &live, &opts());
    assert!(p.errors.is_empty(), "{:#?}", p.errors);
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert!(p.unmanaged.is_empty(), "{:#?}", p.unmanaged);
    let drift = orgform_plan::drift(&m, &live, &opts());
    assert!(
        !orgform_plan::render::drift_json(&drift).contains("wrkspc_default"),
        "{drift:#?}"
    );
    assert_eq!(
        orgform_plan::live_total(
            &live,
            orgform_plan::DestructiveKind::ServiceAccountMemberRemovals
        ),
        1,
        "only the explicit membership in Alpha can be removed"
    );
}

/// `--archive-protected-service-accounts` is the override of
/// `settings.protected_service_accounts` for archives: with it, a protected service account
/// declared `archived: true` is archived together with the rules declared archived that
/// target it (first, the archive depending on them); without it both are blocked. It never
/// lifts the protection of the running credential's own rule or service account, nor
/// allows narrowing a protected rule.
#[test]
fn the_override_archives_a_protected_service_account_and_its_rules_but_not_the_pipelines() {
    let live = seed(&format!(
        "{LIVE}  federation_issuers:\n    - {{id: fdis_gh, name: gh, issuer_url: 'https://token.actions.githubusercontent.com', jwks: {{type: discovery}}, max_jwt_lifetime_seconds: 3600, check_jti: true, created_at: 2026-01-01T00:00:00Z}}\n  federation_rules:\n    - {{id: fdrl_old, name: old-rule, issuer_id: fdis_gh, match: {{subject_prefix: 'repo:acme/old:*'}}, target_service_account_id: svac_gone, oauth_scope: 'workspace:developer', token_lifetime_seconds: 3600, applies_to_all_workspaces: false, workspace_ids: [wrkspc_a], created_at: 2026-01-01T00:00:00Z}}\n"
    ));
    let body = "settings: {protected_service_accounts: [gone-bot], limits: {max_destructive: 10, max_destructive_percent: 100}}\nservice_accounts:\n  - {name: keep-bot}\n  - {name: gone-bot, archived: true}\nworkspaces:\n  - name: Alpha\nfederation:\n  issuers:\n    - {name: gh, issuer_url: 'https://token.actions.githubusercontent.com'}\n  rules:\n    - {name: old-rule, issuer: gh, service_account: gone-bot, oauth_scope: 'workspace:developer', match: {subject_prefix: 'repo:acme/old:*'}, archived: true}\n";
    let m = manifest(body);
    let kinds =
        |p: &orgform_plan::Plan| -> Vec<&str> { p.actions.iter().map(|a| a.op.name()).collect() };
    let p = plan(&m, &live, &opts());
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert!(
        p.blocked
            .iter()
            .all(|b| b.kind == orgform_plan::BlockedKind::Protected),
        "{:#?}",
        p.blocked
    );
    assert_eq!(p.blocked.len(), 2);
    let over = orgform_plan::PlanOptions {
        archive_protected_service_accounts: true,
        ..opts()
    };
    let p = plan(&m, &live, &over);
    assert_eq!(
        kinds(&p),
        ["archive_federation_rule", "archive_service_account"],
        "{:#?}",
        p.blocked
    );
    assert_eq!(p.actions[1].depends_on, [1]);
    // The pipeline's own service account: never, flag or not.
    let own = orgform_plan::PlanOptions {
        pipeline: orgform_plan::Pipeline {
            federation_rule_id: None,
            service_account_id: Some("svac_gone".into()),
        },
        ..over.clone()
    };
    let p = plan(&m, &live, &own);
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert_eq!(p.blocked.len(), 2);
    // Narrowing a rule of a protected service account stays blocked with the flag.
    let narrow = manifest(
        &body
            .replace(
                "match: {subject_prefix: 'repo:acme/old:*'}, archived: true}",
                "match: {subject_prefix: 'repo:acme/old:*'}, workspaces: [Alpha]}",
            )
            .replace("{name: gone-bot, archived: true}", "{name: gone-bot}")
            .replace("  - name: Alpha\n", "  - name: Alpha\n  - name: Beta\n"),
    );
    let p = plan(&narrow, &live, &over);
    assert!(p.errors.is_empty(), "{:#?}", p.errors);
    let narrowing = manifest(
        &body
            .replace(
                "match: {subject_prefix: 'repo:acme/old:*'}, archived: true}",
                "match: {subject_prefix: 'repo:acme/old:*'}, workspaces: [Beta]}",
            )
            .replace("{name: gone-bot, archived: true}", "{name: gone-bot}")
            .replace("  - name: Alpha\n", "  - name: Alpha\n  - name: Beta\n"),
    );
    let p = plan(&narrowing, &live, &over);
    assert!(
        !p.actions
            .iter()
            .any(|a| a.op.name() == "disable_federation_rule_workspace"),
        "{:#?}",
        p.actions
    );
    assert!(
        p.blocked
            .iter()
            .any(|b| b.kind == orgform_plan::BlockedKind::Protected)
    );
}

/// A service account declared `archived: true` while a live rule the manifest keeps still
/// targets it: the API would refuse the archive, so it is blocked, naming the rule.
#[test]
fn a_service_account_a_live_rule_still_targets_is_not_archived() {
    let live = seed(&format!(
        "{LIVE}  federation_issuers:\n    - {{id: fdis_gh, name: gh, issuer_url: 'https://token.actions.githubusercontent.com', jwks: {{type: discovery}}, max_jwt_lifetime_seconds: 3600, check_jti: true, created_at: 2026-01-01T00:00:00Z}}\n  federation_rules:\n    - {{id: fdrl_old, name: old-rule, issuer_id: fdis_gh, match: {{subject_prefix: 'repo:acme/old:*'}}, target_service_account_id: svac_gone, oauth_scope: 'workspace:developer', token_lifetime_seconds: 3600, applies_to_all_workspaces: false, workspace_ids: [wrkspc_a], created_at: 2026-01-01T00:00:00Z}}\n"
    ));
    let m =
        manifest("service_accounts:\n  - {name: keep-bot}\n  - {name: gone-bot, archived: true}\n");
    let p = plan(&m, &live, &opts());
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert_eq!(p.blocked.len(), 1);
    assert_eq!(
        p.blocked[0].kind,
        orgform_plan::BlockedKind::ServiceAccountInUse
    );
    assert!(
        p.blocked[0].reason.contains("old-rule"),
        "{}",
        p.blocked[0].reason
    );
}
