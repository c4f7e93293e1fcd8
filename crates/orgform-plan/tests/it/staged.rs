//! Staged removal (`settings.members.removal: staged`): stage 1 (keys deactivated,
//! explicit workspace memberships removed) while the person has access; then the removal only
//! once `grace_days` have passed since the audit snapshot recorded them without access; never
//! without that record; and `immediate` (the default) unchanged.

use std::collections::BTreeMap;

use crate::support::inputs;

use inputs::{manifest, opts, seed};
use orgform_plan::{
    BlockedKind, HygieneKind, NoAccessRecord, Op, PlanOptions, Refusal, StagedStep, drift, plan,
    render,
};
use proptest::prelude::*;

const ROOT: &str = "user_01Root00000000000000";
const LEAVER: &str = "user_01Leaver000000000000";

/// A leaver (not listed) with a workspace membership, an active and an inactive key they
/// created; a colleague's key; an admin who is not listed either.
const WITH_ACCESS: &str = "users:
  - {id: user_01Root00000000000000, email: root@acme.example, name: Root, role: admin, added_at: '2026-01-01T00:00:00Z'}
  - {id: user_01Leaver000000000000, email: leaver@acme.example, name: Leaver, role: developer, added_at: '2026-01-01T00:00:00Z'}
  - {id: user_01Stay00000000000000, email: stay@acme.example, name: Stay, role: developer, added_at: '2026-01-01T00:00:00Z'}
  - {id: user_01Boss00000000000000, email: boss@acme.example, name: Boss, role: admin, added_at: '2026-01-01T00:00:00Z'}
workspaces:
  - {id: wrkspc_01Research00000000, name: research, created_at: '2026-01-01T00:00:00Z', display_color: '#112233'}
workspace_members:
  - {workspace_id: wrkspc_01Research00000000, user_id: user_01Leaver000000000000, workspace_role: workspace_developer}
  - {workspace_id: wrkspc_01Research00000000, user_id: user_01Stay00000000000000, workspace_role: workspace_developer}
api_keys:
  - {id: apikey_01Leaver1000000000, name: leaver-ci, created_at: '2026-02-01T00:00:00Z', status: active, workspace_id: wrkspc_01Research00000000, created_by: {id: user_01Leaver000000000000, type: user}}
  - {id: apikey_01Leaver2000000000, name: leaver-old, created_at: '2026-02-01T00:00:00Z', status: inactive, created_by: {id: user_01Leaver000000000000, type: user}}
  - {id: apikey_01Stay000000000000, name: stay-ci, created_at: '2026-02-01T00:00:00Z', status: active, created_by: {id: user_01Stay00000000000000, type: user}}
";

/// The same organization after stage 1: the leaver has no access left.
const WITHOUT_ACCESS: &str = "users:
  - {id: user_01Root00000000000000, email: root@acme.example, name: Root, role: admin, added_at: '2026-01-01T00:00:00Z'}
  - {id: user_01Leaver000000000000, email: leaver@acme.example, name: Leaver, role: developer, added_at: '2026-01-01T00:00:00Z'}
  - {id: user_01Stay00000000000000, email: stay@acme.example, name: Stay, role: developer, added_at: '2026-01-01T00:00:00Z'}
workspaces:
  - {id: wrkspc_01Research00000000, name: research, created_at: '2026-01-01T00:00:00Z', display_color: '#112233'}
workspace_members:
  - {workspace_id: wrkspc_01Research00000000, user_id: user_01Stay00000000000000, workspace_role: workspace_developer}
api_keys:
  - {id: apikey_01Leaver1000000000, name: leaver-ci, created_at: '2026-02-01T00:00:00Z', status: inactive, workspace_id: wrkspc_01Research00000000, created_by: {id: user_01Leaver000000000000, type: user}}
  - {id: apikey_01Stay000000000000, name: stay-ci, created_at: '2026-02-01T00:00:00Z', status: active, created_by: {id: user_01Stay00000000000000, type: user}}
";

/// `removal` and extra `settings.members` keys; the workspace's members are not managed, so
/// only the staged removal touches the leaver's membership.
fn manifest_with(members_settings: &str, extra: &str) -> orgform_manifest::Manifest {
    manifest(&format!(
        "settings:
  members: {{unmanaged: remove{members_settings}}}
  limits: {{max_destructive: 10, max_destructive_percent: 100}}
members:
  - {{email: root@acme.example, role: admin}}
  - {{email: stay@acme.example, role: developer}}
workspaces:
  - name: research
{extra}"
    ))
}

fn staged(grace: u32) -> orgform_manifest::Manifest {
    manifest_with(&format!(", removal: staged, grace_days: {grace}"), "")
}

/// Options at `now`, with the audit snapshot's record of the leaver (if `since`).
fn at(now: &str, since: Option<&str>) -> PlanOptions {
    let mut record = NoAccessRecord {
        file: "audit/org.yaml".into(),
        since: BTreeMap::new(),
    };
    if let Some(since) = since {
        record.since.insert(LEAVER.into(), since.parse().unwrap());
    }
    PlanOptions {
        now: now.parse().unwrap(),
        no_access: Some(record),
        ..opts()
    }
}

fn ops(p: &orgform_plan::Plan) -> Vec<(&'static str, String)> {
    p.actions
        .iter()
        .map(|a| (a.op.name(), a.target.clone()))
        .collect()
}

#[test]
fn immediate_is_the_default_and_unchanged() {
    let default = manifest_with("", "");
    let explicit = manifest_with(", removal: immediate", "");
    let live = seed(WITH_ACCESS);
    let a = plan(&default, &live, &opts());
    let b = plan(&explicit, &live, &at("2026-11-01T00:00:00Z", None));
    assert_eq!(a.actions, b.actions);
    assert!(a.staged.is_empty() && b.staged.is_empty());
    assert_eq!(
        ops(&a),
        [("remove_user", "member leaver@acme.example".to_owned())]
    );
    assert!(
        a.actions[0]
            .consequences
            .contains(&"1 explicit workspace membership(s) end with it".to_owned()),
        "{:?}",
        a.actions[0].consequences
    );
    // Admins stay blocked, as before.
    assert!(
        a.blocked
            .iter()
            .any(|b| b.kind == BlockedKind::AdministrativeRemoval
                && b.target == "member boss@acme.example")
    );
}

#[test]
fn stage_one_deactivates_their_active_keys_and_removes_their_memberships() {
    let p = plan(
        &staged(7),
        &seed(WITH_ACCESS),
        &at("2026-11-01T00:00:00Z", None),
    );
    assert_eq!(
        ops(&p),
        [
            (
                "update_api_key",
                "api key leaver-ci (apikey_01Leaver1000000000)".to_owned()
            ),
            (
                "remove_workspace_member",
                "workspace member leaver@acme.example in research".to_owned()
            ),
        ],
        "{:#?}",
        p.actions
    );
    assert!(p.actions.iter().all(|a| a.destructive && !a.irreversible));
    assert!(matches!(
        &p.actions[0].op,
        Op::UpdateApiKey { key_id, status: Some(s), .. }
            if key_id == "apikey_01Leaver1000000000" && s.as_str() == "inactive"
    ));
    // No member removal, whatever the evidence says: the person still has access.
    let with_old_record = plan(
        &staged(7),
        &seed(WITH_ACCESS),
        &at("2026-11-01T00:00:00Z", Some("2026-01-01T00:00:00Z")),
    );
    assert!(
        with_old_record
            .actions
            .iter()
            .all(|a| a.op.name() != "remove_user")
    );
    assert_eq!(p.staged.len(), 1);
    assert_eq!(p.staged[0].step, StagedStep::RevokingAccess);
    assert_eq!(p.staged[0].user_id, LEAVER);
    let text = render::text(&p, false);
    assert!(
        text.contains("Staged removal (1): settings.members.removal: staged:"),
        "{text}"
    );
    assert!(
        text.contains("~ member leaver@acme.example: revoking access: stage 1: this plan deactivates 1 active api key(s) they created and removes 1 explicit workspace membership(s)"),
        "{text}"
    );
    // Admins stay blocked; they never reach a stage.
    assert!(
        p.blocked
            .iter()
            .any(|b| b.kind == BlockedKind::AdministrativeRemoval)
    );
    assert!(
        p.staged
            .iter()
            .all(|s| s.target != "member boss@acme.example")
    );
}

#[test]
fn stage_one_counts_against_the_destructive_limits() {
    let m = manifest(
        "settings:
  members: {unmanaged: remove, removal: staged}
  limits: {max_destructive: 0}
members:
  - {email: root@acme.example, role: admin}
  - {email: stay@acme.example, role: developer}
  - {email: boss@acme.example, role: admin}
",
    );
    let p = plan(&m, &seed(WITH_ACCESS), &opts());
    assert!(p.is_refused());
    assert!(
        p.refusals
            .iter()
            .any(|r| matches!(r, Refusal::DestructiveLimit { .. }))
    );
}

#[test]
fn the_removal_waits_for_the_grace_period_then_is_planned() {
    let live = seed(WITHOUT_ACCESS);
    // Recorded without access on 2026-10-28 at noon; 7 days of grace: from 2026-11-04 noon.
    let since = Some("2026-10-28T12:00:00Z");
    let before = plan(&staged(7), &live, &at("2026-11-01T00:00:00Z", since));
    assert!(before.actions.is_empty(), "{:#?}", before.actions);
    let waiting = &before.staged[0];
    assert_eq!(waiting.step, StagedStep::Waiting);
    assert_eq!(waiting.days_left, Some(4));
    assert_eq!(
        waiting.removal_from,
        Some("2026-11-04T12:00:00Z".parse().unwrap())
    );
    assert!(
        render::text(&before, false)
            .contains("waiting, 4 days left: no access since 2026-10-28T12:00:00Z"),
        "{}",
        render::text(&before, false)
    );
    let last_second = plan(&staged(7), &live, &at("2026-11-04T11:59:59Z", since));
    assert!(last_second.actions.is_empty());
    assert_eq!(last_second.staged[0].days_left, Some(1));

    let after = plan(&staged(7), &live, &at("2026-11-04T12:00:00Z", since));
    assert_eq!(
        ops(&after),
        [("remove_user", "member leaver@acme.example".to_owned())]
    );
    assert!(after.actions[0].destructive);
    assert!(
        after.actions[0]
            .consequences
            .iter()
            .any(|c| c.contains("staged removal: without access since 2026-10-28T12:00:00Z")),
        "{:?}",
        after.actions[0].consequences
    );
    assert_eq!(after.staged[0].step, StagedStep::Removing);
    // A longer grace period waits longer.
    let longer = plan(&staged(30), &live, &at("2026-11-04T12:00:00Z", since));
    assert!(longer.actions.is_empty());
    assert_eq!(longer.staged[0].days_left, Some(23));
}

#[test]
fn an_unknown_date_never_removes_and_says_what_is_missing() {
    let live = seed(WITHOUT_ACCESS);
    let no_snapshot = PlanOptions {
        now: "2030-01-01T00:00:00Z".parse().unwrap(),
        ..opts()
    };
    let p = plan(&staged(1), &live, &no_snapshot);
    assert!(p.actions.is_empty());
    assert_eq!(p.staged[0].step, StagedStep::Waiting);
    assert_eq!(p.staged[0].days_left, None);
    assert!(
        p.staged[0]
            .detail
            .contains("no audit snapshot was given (--audit-snapshot PATH)"),
        "{}",
        p.staged[0].detail
    );
    let not_recorded = plan(&staged(1), &live, &at("2030-01-01T00:00:00Z", None));
    assert!(not_recorded.actions.is_empty());
    assert!(
        not_recorded.staged[0]
            .detail
            .contains("audit/org.yaml does not record since when"),
        "{}",
        not_recorded.staged[0].detail
    );
}

#[test]
fn a_key_the_manifest_keeps_active_blocks_stage_one() {
    let m = manifest_with(
        ", removal: staged",
        "api_keys:\n  - {id: apikey_01Leaver1000000000, status: active}\n",
    );
    let p = plan(&m, &seed(WITH_ACCESS), &opts());
    let blocked: Vec<_> = p
        .blocked
        .iter()
        .filter(|b| b.kind == BlockedKind::StagedRemoval)
        .collect();
    assert_eq!(blocked.len(), 1, "{:#?}", p.blocked);
    assert_eq!(
        blocked[0].target,
        "api key leaver-ci (apikey_01Leaver1000000000)"
    );
    assert!(p.actions.iter().all(|a| a.op.name() != "update_api_key"));
    assert!(
        p.staged[0].detail.contains("1 blocked"),
        "{}",
        p.staged[0].detail
    );
}

#[test]
fn an_expired_entry_is_removed_in_stages_too() {
    let m = manifest(
        "settings:
  members: {removal: staged, grace_days: 3}
members:
  - {email: root@acme.example, role: admin}
  - {email: stay@acme.example, role: developer}
  - {email: boss@acme.example, role: admin}
  - {email: leaver@acme.example, role: developer, expires: 2026-10-15}
workspaces:
  - name: research
",
    );
    let p = plan(&m, &seed(WITH_ACCESS), &opts());
    let names: Vec<&str> = p.actions.iter().map(|a| a.op.name()).collect();
    assert_eq!(names, ["update_api_key", "remove_workspace_member"]);
    assert_eq!(p.staged[0].step, StagedStep::RevokingAccess);
    assert!(p.staged[0].source.is_none()); // built in code: no file
    let done = plan(
        &m,
        &seed(WITHOUT_ACCESS),
        &at("2026-11-01T00:00:00Z", Some("2026-10-20T00:00:00Z")),
    );
    assert_eq!(
        ops(&done),
        [("remove_user", "member leaver@acme.example".to_owned())]
    );
}

#[test]
fn drift_reports_staged_members_with_the_days_left() {
    let live = seed(WITHOUT_ACCESS);
    let report = drift(
        &staged(7),
        &live,
        &at("2026-11-01T00:00:00Z", Some("2026-10-31T00:00:00Z")),
    );
    let found: Vec<_> = report
        .hygiene
        .iter()
        .filter(|h| h.kind == HygieneKind::StagedRemoval)
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].object, "member leaver@acme.example");
    assert!(
        found[0].detail.contains("6 days left"),
        "{}",
        found[0].detail
    );
    assert!(!found[0].is_drift, "waiting is not drift");
    assert!(!report.has_drift());
}

proptest! {
    /// Whatever the dates and the grace period: the member removal is planned only when the
    /// live state shows no access, the audit snapshot records since when, and the grace
    /// period has passed; with no record it is never planned.
    #[test]
    fn the_removal_is_planned_only_after_the_recorded_grace_period(
        grace in 1u32..=365,
        since_offset_h in 0i64..(24 * 400),
        now_offset_h in 0i64..(24 * 800),
        recorded in any::<bool>(),
        access in any::<bool>(),
    ) {
        let base: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let since = base + jiff::SignedDuration::from_hours(since_offset_h);
        let now = base + jiff::SignedDuration::from_hours(now_offset_h);
        let live = seed(if access { WITH_ACCESS } else { WITHOUT_ACCESS });
        let mut record = NoAccessRecord { file: "a.yaml".into(), since: BTreeMap::new() };
        if recorded {
            record.since.insert(LEAVER.into(), since);
        }
        let options = PlanOptions { now, no_access: Some(record), ..opts() };
        let p = plan(&staged(grace), &live, &options);
        let removes = p.actions.iter().any(|a| matches!(&a.op, Op::RemoveUser { user_id, .. } if user_id == LEAVER));
        let due = now >= since + jiff::SignedDuration::from_hours(24 * i64::from(grace));
        prop_assert_eq!(removes, !access && recorded && due);
        let root_removed = p.actions.iter().any(|a| matches!(&a.op, Op::RemoveUser { user_id, .. } if user_id == ROOT));
        prop_assert!(!root_removed);
        prop_assert_eq!(p.staged.len(), 1);
    }
}
