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
