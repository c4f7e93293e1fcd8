//! Time-boxed access: `expires:` on a member entry, judged by the plan's clock (the API's):
//! in force through the end of the day (UTC), days left shown before, removal planned after,
//! under the usual limits and protections, and drift's warning window.

use crate::support::inputs;

use inputs::{manifest, opts, seed};
use orgform_manifest::Expiry;
use orgform_plan::{BlockedKind, HygieneKind, Op, PlanOptions, Refusal, drift, plan, render};
use proptest::prelude::*;

const LIVE: &str = "users:
  - {id: user_01Root00000000000000, email: root@acme.example, name: Root, role: admin, added_at: '2026-01-01T00:00:00Z'}
  - {id: user_01Temp00000000000000, email: temp@acme.example, name: Temp, role: developer, added_at: '2026-01-01T00:00:00Z'}
workspaces:
  - {id: wrkspc_01Research00000000, name: research, created_at: '2026-01-01T00:00:00Z', display_color: '#112233'}
workspace_members:
  - {workspace_id: wrkspc_01Research00000000, user_id: user_01Temp00000000000000, workspace_role: workspace_developer}
invites:
  - {id: invite_01Guest000000000000, email: guest@acme.example, role: user, status: pending, invited_at: '2026-11-25T00:00:00Z', expires_at: '2026-12-16T00:00:00Z'}
";

fn at(instant: &str) -> PlanOptions {
    PlanOptions {
        now: instant.parse().unwrap(),
        ..opts()
    }
}

fn members(temp: &str, extra: &str) -> String {
    format!(
        "settings: {{limits: {{max_destructive: 10, max_destructive_percent: 100}}{extra}}}
members:
  - {{email: root@acme.example, role: admin}}
  - {{email: temp@acme.example, role: developer, expires: {temp}}}
  - {{email: guest@acme.example, role: user, expires: 2026-12-05}}
workspaces:
  - name: research
    members: {{temp@acme.example: workspace_developer}}
"
    )
}

#[test]
fn in_force_through_the_last_day_then_removed() {
    let m = manifest(&members("2026-12-10", ""));
    let live = seed(LIVE);
    // The last second of the last day: in force, 0 days left (only the guest, whose entry
    // ended on 2026-12-05, loses their invite).
    let p = plan(&m, &live, &at("2026-12-10T23:59:59Z"));
    let ops: Vec<&str> = p.actions.iter().map(|a| a.op.name()).collect();
    assert_eq!(ops, ["revoke_invite"], "{:#?}", p.actions);
    let temp = p
        .expiring
        .iter()
        .find(|e| e.target == "member temp@acme.example")
        .unwrap();
    assert_eq!(temp.days_left, 0);
    assert!(
        render::text(&p, false)
            .contains("~ member temp@acme.example: expires 2026-12-10, last day")
    );
    // Ten days before.
    let p = plan(&m, &live, &at("2026-11-30T08:00:00Z"));
    let temp = p
        .expiring
        .iter()
        .find(|e| e.target.contains("temp"))
        .unwrap();
    assert_eq!(temp.days_left, 10);
    // The first instant after: removed, destructive, and nothing else about them.
    let p = plan(&m, &live, &at("2026-12-11T00:00:00Z"));
    let ops: Vec<&str> = p.actions.iter().map(|a| a.op.name()).collect();
    assert_eq!(ops, ["revoke_invite", "remove_user"], "{:#?}", p.actions);
    let removal = &p.actions[1];
    assert!(removal.destructive);
    assert!(matches!(&removal.op, Op::RemoveUser { email, .. } if email == "temp@acme.example"));
    assert!(
        removal.consequences[0].contains("access ended with 2026-12-10"),
        "{:?}",
        removal.consequences
    );
    // The guest's pending invite is revoked (their entry expired on 2026-12-05).
    assert!(
        matches!(&p.actions[0].op, Op::RevokeInvite { email, .. } if email == "guest@acme.example")
    );
    assert!(p.expiring.is_empty());
}

#[test]
fn an_expired_entry_counts_against_the_limits_and_respects_protection() {
    let live = seed(LIVE);
    let after = at("2027-01-01T00:00:00Z");
    let limited = manifest(
        "settings: {limits: {max_destructive: 0}}
members:
  - {email: root@acme.example, role: admin}
  - {email: temp@acme.example, role: developer, expires: 2026-12-10}
",
    );
    let p = plan(&limited, &live, &after);
    assert!(
        p.refusals
            .iter()
            .any(|r| matches!(r, Refusal::DestructiveLimit { .. })),
        "{p:#?}"
    );
    let protected = manifest(
        "settings: {protected: [temp@acme.example]}
members:
  - {email: root@acme.example, role: admin, expires: 2026-12-10}
  - {email: temp@acme.example, role: developer, expires: 2026-12-10}
",
    );
    let p = plan(&protected, &live, &after);
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    let kinds: Vec<BlockedKind> = p.blocked.iter().map(|b| b.kind).collect();
    assert_eq!(
        kinds,
        [BlockedKind::AdministrativeRemoval, BlockedKind::Protected]
    );
}

#[test]
fn drift_warns_within_the_window_only() {
    let live = seed(LIVE);
    let m = manifest(&members("2026-12-10", ", expiry_warning_days: 5"));
    let report = drift(&m, &live, &at("2026-11-30T00:00:00Z"));
    let warned: Vec<&str> = report
        .hygiene
        .iter()
        .filter(|h| h.kind == HygieneKind::AccessExpiring)
        .map(|h| h.object.as_str())
        .collect();
    // guest (5 days left) is inside 5 days; temp (10 days) is not.
    assert_eq!(warned, ["member guest@acme.example"]);
    assert!(report.has_drift());
    // The default window is 14 days: both.
    let m = manifest(&members("2026-12-10", ""));
    let report = drift(&m, &live, &at("2026-11-30T00:00:00Z"));
    let warned = report
        .hygiene
        .iter()
        .filter(|h| h.kind == HygieneKind::AccessExpiring)
        .count();
    assert_eq!(warned, 2);
}

proptest! {
    /// For any date and instant: in force exactly while `now` is before the next midnight
    /// UTC, and `days_left` is non-negative exactly then.
    #[test]
    fn in_force_until_the_next_midnight(day in 0i64..3000, secs in 0i64..(3000 * 86_400)) {
        let start: jiff::civil::Date = "2026-01-01".parse().unwrap();
        let date = start.checked_add(jiff::Span::new().days(day)).unwrap();
        let expiry = Expiry(date);
        let now = jiff::Timestamp::from_second(1_767_225_600 + secs).unwrap();
        let end = date.tomorrow().unwrap().to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp();
        prop_assert_eq!(expiry.has_passed(now), now >= end);
        prop_assert_eq!(expiry.days_left(now) >= 0, !expiry.has_passed(now));
    }
}

/// A time-boxed grant of temp's in research; members of research not listed are only
/// reported, so a removal can only come from the grant's end.
fn grant(expires: &str, settings: &str) -> String {
    format!(
        "settings: {{workspace_members: {{unmanaged: report}}{settings}}}
members:
  - {{email: root@acme.example, role: admin}}
  - {{email: temp@acme.example, role: developer}}
workspaces:
  - name: research
    members: {{temp@acme.example: {{role: workspace_developer, expires: {expires}}}}}
"
    )
}

#[test]
fn a_grant_is_in_force_through_its_last_day_then_its_membership_removed() {
    let live = seed(LIVE);
    let m = manifest(&grant("2026-12-10", ""));
    let before = plan(&m, &live, &at("2026-12-01T12:00:00Z"));
    assert!(before.actions.is_empty(), "{:#?}", before.actions);
    assert_eq!(before.expiring.len(), 1);
    assert_eq!(
        before.expiring[0].target,
        "workspace member temp@acme.example in research"
    );
    assert_eq!(before.expiring[0].days_left, 9);
    let last = plan(&m, &live, &at("2026-12-10T23:59:59Z"));
    assert!(last.actions.is_empty());
    assert_eq!(last.expiring[0].days_left, 0);

    let after = plan(&m, &live, &at("2026-12-11T00:00:00Z"));
    assert!(after.expiring.is_empty());
    assert_eq!(after.actions.len(), 1, "{:#?}", after.actions);
    let action = &after.actions[0];
    assert!(matches!(
        &action.op,
        Op::RemoveWorkspaceMember { workspace_id, user_id, .. }
            if workspace_id == "wrkspc_01Research00000000" && user_id == "user_01Temp00000000000000"
    ));
    assert!(action.destructive);
    assert_eq!(
        action.consequences,
        ["access ended with 2026-12-10 (expires: 2026-12-10, UTC)"]
    );
    // The person stays a member of the organization; only the grant ended.
    assert!(
        after
            .actions
            .iter()
            .all(|a| !matches!(a.op, Op::RemoveUser { .. }))
    );
    // Under the usual limits.
    let limited = manifest(&grant("2026-12-10", ", limits: {max_destructive: 0}"));
    let refused = plan(&limited, &live, &at("2026-12-11T00:00:00Z"));
    assert!(
        refused
            .refusals
            .iter()
            .any(|r| matches!(r, Refusal::DestructiveLimit { .. }))
    );
    // Once removed, nothing more is planned.
    let mut gone = live.clone();
    gone.workspace_members.clear();
    assert!(
        plan(&m, &gone, &at("2026-12-11T00:00:00Z"))
            .actions
            .is_empty()
    );
}

#[test]
fn an_ended_grant_of_a_protected_email_is_blocked_and_drift_warns_before_the_end() {
    let live = seed(LIVE);
    let protected = manifest(&grant("2026-12-10", ", protected: [temp@acme.example]"));
    let p = plan(&protected, &live, &at("2026-12-11T00:00:00Z"));
    assert!(p.actions.is_empty());
    assert_eq!(p.blocked.len(), 1);
    assert_eq!(p.blocked[0].kind, BlockedKind::Protected);
    assert_eq!(
        p.blocked[0].target,
        "workspace member temp@acme.example in research"
    );

    let m = manifest(&grant("2026-12-10", ", expiry_warning_days: 5"));
    let early = drift(&m, &live, &at("2026-12-01T00:00:00Z"));
    assert!(
        early
            .hygiene
            .iter()
            .all(|h| h.kind != HygieneKind::AccessExpiring)
    );
    let close = drift(&m, &live, &at("2026-12-06T00:00:00Z"));
    let found: Vec<_> = close
        .hygiene
        .iter()
        .filter(|h| h.kind == HygieneKind::AccessExpiring)
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].object,
        "workspace member temp@acme.example in research"
    );
    assert!(
        found[0].detail.contains("4 days left"),
        "{}",
        found[0].detail
    );
}

proptest! {
    /// For any grant date and plan instant: the membership is removed exactly when the date
    /// has passed, the grant is listed with its days left exactly while it has not, and the
    /// person is never removed from the organization for it.
    #[test]
    fn a_grant_is_removed_exactly_after_its_date(day in 0i64..400, hours in 0i64..(400 * 24)) {
        let start: jiff::civil::Date = "2026-11-01".parse().unwrap();
        let date = start.checked_add(jiff::Span::new().days(day)).unwrap();
        let now = jiff::Timestamp::from_second(1_793_491_200 + hours * 3600).unwrap();
        let m = manifest(&grant(&date.to_string(), ""));
        let p = plan(&m, &seed(LIVE), &PlanOptions { now, ..opts() });
        let passed = Expiry(date).has_passed(now);
        let removed = p.actions.iter().any(|a| matches!(a.op, Op::RemoveWorkspaceMember { .. }));
        prop_assert_eq!(removed, passed);
        prop_assert_eq!(p.expiring.len(), usize::from(!passed));
        let member_removed = p.actions.iter().any(|a| matches!(a.op, Op::RemoveUser { .. }));
        prop_assert!(!member_removed);
    }
}
