//! Readings of the API the documentation leaves open, as the planner meets them: implicit
//! workspace memberships listed by the API, live workspace roles orgform does not know, and
//! the planning clock (the API's) differing from the local one.

use crate::support::inputs;

use inputs::{manifest, opts, seed};
use orgform_plan::{
    BlockedKind, DestructiveKind, HygieneKind, PlanOptions, PlanOutcome, drift, live_total, plan,
    render,
};

const PEOPLE: &str = "users:
  - {id: user_01Root00000000000000, email: root@acme.example, name: Root, role: admin, added_at: '2026-01-01T00:00:00Z'}
  - {id: user_01Bill00000000000000, email: bill@acme.example, name: Bill, role: billing, added_at: '2026-01-01T00:00:00Z'}
  - {id: user_01Dev000000000000000, email: dev@acme.example, name: Dev, role: developer, added_at: '2026-01-01T00:00:00Z'}
workspaces:
  - {id: wrkspc_01Research00000000, name: research, created_at: '2026-01-01T00:00:00Z', display_color: '#112233'}
";

/// The memberships an API that lists implicit members shows, plus one explicit membership.
const LISTED_IMPLICIT: &str = "workspace_members:
  - {workspace_id: wrkspc_01Research00000000, user_id: user_01Root00000000000000, workspace_role: workspace_admin}
  - {workspace_id: wrkspc_01Research00000000, user_id: user_01Bill00000000000000, workspace_role: workspace_billing}
  - {workspace_id: wrkspc_01Research00000000, user_id: user_01Dev000000000000000, workspace_role: workspace_developer}
";

const MEMBERS: &str = "members:
  - {email: root@acme.example, role: admin}
  - {email: bill@acme.example, role: billing}
  - {email: dev@acme.example, role: developer}
";

#[test]
fn listed_implicit_members_are_information_not_drift() {
    for policy in ["report", "remove"] {
        let m = manifest(&format!(
            "{MEMBERS}settings: {{workspace_members: {{unmanaged: {policy}}}}}\nworkspaces:\n  - name: research\n    members: {{dev@acme.example: workspace_developer}}\n"
        ));
        let s = seed(&format!("{PEOPLE}{LISTED_IMPLICIT}"));
        let p = plan(&m, &s, &opts());
        assert_eq!(p.outcome(), PlanOutcome::NoChanges, "{policy}: {p:#?}");
        assert!(p.actions.is_empty() && p.blocked.is_empty());
        let implicit: Vec<_> = p.unmanaged.iter().filter(|u| u.implicit).collect();
        assert_eq!(implicit.len(), 2, "{policy}: {:#?}", p.unmanaged);
        assert_eq!(p.unmanaged.len(), 2, "nothing else is unmanaged");
        assert_eq!(
            p.summary.unmanaged, 0,
            "implicit memberships are not counted"
        );
        let text = render::text(&p, false);
        assert!(
            text.contains("implicit: the org role admin gives workspace_admin in every workspace"),
            "{text}"
        );
        assert!(!text.contains("Unmanaged ("), "{text}");
        assert!(text.contains("Implicit (2):"), "{text}");
        let markdown = render::markdown(&p);
        assert!(!markdown.contains("<summary>Unmanaged"), "{markdown}");
        assert!(
            markdown.contains("Implicit workspace memberships"),
            "{markdown}"
        );

        let report = drift(&m, &s, &opts());
        assert!(!report.has_drift(), "{policy}: {report:#?}");
        let info: Vec<_> = report
            .hygiene
            .iter()
            .filter(|h| h.kind == HygieneKind::ImplicitMembership)
            .collect();
        assert_eq!(info.len(), 2);
        assert!(info.iter().all(|h| !h.is_drift));
        assert_eq!(report.summary.info, 2);
    }
}

#[test]
fn implicit_members_in_workspaces_without_a_member_list_change_nothing() {
    let m = manifest(&format!("{MEMBERS}workspaces:\n  - name: research\n"));
    let s = seed(&format!("{PEOPLE}{LISTED_IMPLICIT}"));
    assert_eq!(plan(&m, &s, &opts()).outcome(), PlanOutcome::NoChanges);
    assert!(!drift(&m, &s, &opts()).has_drift());
}

#[test]
fn an_explicit_upgrade_of_a_billing_member_stays_unmanaged() {
    // A billing member's workspace_admin is explicit (the implicit role is workspace_billing):
    // it is drift when not declared, and the API refuses its removal, so it is only reported.
    let m = manifest(&format!(
        "{MEMBERS}settings: {{workspace_members: {{unmanaged: remove}}}}\nworkspaces:\n  - name: research\n    members: {{}}\n"
    ));
    let s = seed(&format!(
        "{PEOPLE}workspace_members:\n  - {{workspace_id: wrkspc_01Research00000000, user_id: user_01Bill00000000000000, workspace_role: workspace_admin}}\n"
    ));
    let p = plan(&m, &s, &opts());
    assert!(p.actions.is_empty(), "{p:#?}");
    assert_eq!(p.unmanaged.len(), 1);
    assert!(!p.unmanaged[0].implicit);
    assert!(drift(&m, &s, &opts()).has_drift());
}

#[test]
fn implicit_members_do_not_count_against_the_removal_limit() {
    let s = seed(&format!("{PEOPLE}{LISTED_IMPLICIT}"));
    assert_eq!(live_total(&s, DestructiveKind::WorkspaceMemberRemovals), 1);
}

#[test]
fn a_removed_billing_member_ends_only_explicit_memberships() {
    let m = manifest(
        "members:\n  - {email: root@acme.example, role: admin}\n  - {email: dev@acme.example, role: developer}\nsettings: {members: {unmanaged: remove}, limits: {max_destructive_percent: 100}}\n",
    );
    let s = seed(&format!("{PEOPLE}{LISTED_IMPLICIT}"));
    let p = plan(&m, &s, &opts());
    let removal = p
        .actions
        .iter()
        .find(|a| a.op.name() == "remove_user")
        .expect("bill is removed");
    assert!(
        removal
            .consequences
            .iter()
            .all(|c| !c.contains("membership")),
        "{:?}",
        removal.consequences
    );
}

#[test]
fn unknown_live_workspace_roles_are_blocked() {
    let live = "workspace_members:\n  - {workspace_id: wrkspc_01Research00000000, user_id: user_01Dev000000000000000, workspace_role: workspace_auditor}\n";
    // Declared with another role: no update, blocked.
    let m = manifest(&format!(
        "{MEMBERS}workspaces:\n  - name: research\n    members: {{dev@acme.example: workspace_developer}}\n"
    ));
    let p = plan(&m, &seed(&format!("{PEOPLE}{live}")), &opts());
    assert!(p.actions.is_empty(), "{p:#?}");
    assert_eq!(p.outcome(), PlanOutcome::Blocked);
    assert_eq!(p.blocked[0].kind, BlockedKind::UnknownWorkspaceRole);
    // Not declared, under `remove`: not removed, blocked.
    let m = manifest(&format!(
        "{MEMBERS}settings: {{workspace_members: {{unmanaged: remove}}}}\nworkspaces:\n  - name: research\n    members: {{}}\n"
    ));
    let p = plan(&m, &seed(&format!("{PEOPLE}{live}")), &opts());
    assert!(p.actions.is_empty(), "{p:#?}");
    assert_eq!(p.blocked[0].kind, BlockedKind::UnknownWorkspaceRole);
}

#[test]
fn clock_skew_over_a_minute_is_warned_about() {
    let m = manifest(MEMBERS);
    let s = seed(PEOPLE);
    let with = |secs: i64| PlanOptions {
        clock_skew: Some(jiff::SignedDuration::from_secs(secs)),
        ..opts()
    };
    assert!(plan(&m, &s, &with(60)).warnings.is_empty());
    assert!(plan(&m, &s, &with(-59)).warnings.is_empty());
    assert!(plan(&m, &s, &opts()).warnings.is_empty());
    let behind = plan(&m, &s, &with(90 * 86_400)).warnings;
    assert_eq!(behind.len(), 1);
    assert!(
        behind[0].contains("local clock is 90 days behind the API's clock"),
        "{behind:?}"
    );
    let ahead = plan(&m, &s, &with(-61)).warnings;
    assert!(
        ahead[0].contains("61 seconds ahead of the API's clock"),
        "{ahead:?}"
    );
    // Drift reports carry it too.
    assert_eq!(drift(&m, &s, &with(3 * 3_600)).warnings.len(), 1);
}

/// `unmanaged: ignore` for members, invites and workspaces: live objects the manifest leaves
/// alone are neither planned, nor reported, nor drift; under `report` the same objects are.
#[test]
fn ignored_kinds_are_neither_planned_nor_drift() {
    let live = seed(&format!(
        "{PEOPLE}  - {{id: wrkspc_01Other000000000000, name: other, created_at: '2026-01-01T00:00:00Z', display_color: '#445566'}}\ninvites:\n  - {{id: invite_01Guest000000000000, email: guest@acme.example, role: user, status: pending, invited_at: '2026-10-30T00:00:00Z', expires_at: '2026-11-20T00:00:00Z'}}\n"
    ));
    let body = |policy: &str| {
        format!(
            "members:\n  - {{email: root@acme.example, role: admin}}\nworkspaces:\n  - name: research\nsettings:\n  members: {{unmanaged: {policy}}}\n  invites: {{unmanaged: {policy}}}\n  workspaces: {{unmanaged: {policy}}}\n"
        )
    };
    let reported = manifest(&body("report"));
    let p = plan(&reported, &live, &opts());
    let kinds: Vec<String> = p.unmanaged.iter().map(|u| u.target.clone()).collect();
    assert_eq!(
        kinds,
        [
            "member bill@acme.example",
            "member dev@acme.example",
            "invite guest@acme.example",
            "workspace other"
        ],
        "{p:#?}"
    );
    assert!(drift(&reported, &live, &opts()).has_drift());

    let ignored = manifest(&body("ignore"));
    let p = plan(&ignored, &live, &opts());
    assert_eq!(p.outcome(), PlanOutcome::NoChanges, "{p:#?}");
    assert!(p.unmanaged.is_empty(), "{:#?}", p.unmanaged);
    assert_eq!(p.summary.unmanaged, 0);
    let text = render::text(&p, false);
    assert!(
        !text.contains("bill@") && !text.contains("guest@") && !text.contains("other"),
        "{text}"
    );
    let report = drift(&ignored, &live, &opts());
    assert!(!report.has_drift(), "{report:#?}");
    assert_eq!(report.summary.unmanaged, 0);
}
