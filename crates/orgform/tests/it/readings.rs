//! Readings of the API the documentation leaves open, through the real binary run as a user
//! runs it (no `--now`): the planning clock is the API's (its `Date` header), not the local
//! clock, even months away; implicit workspace members listed by the API are not drift.

use crate::common::{Org, Run, run_command};
use jiff::{SignedDuration, Timestamp};
use orgform_emulator::EmulatorConfig;
use orgform_emulator::readings::{ImplicitMembers, Readings};
use orgform_model::{Invite, InviteStatus, OrgRole};

/// The small sample organization with a clock `offset` away from the local one, and an
/// invite sent a day before the emulator's now: pending by the API's clock, long expired
/// (or not yet sent) by the local one.
fn org_with_clock(offset: SignedDuration) -> Org {
    let start = Timestamp::now() + offset;
    let invited_at = start - SignedDuration::from_hours(24);
    let mut seed = orgform_emulator::seeds::small();
    seed.invites.push(Invite {
        id: "invite_01ClockSkewxxxxxxxxxxxxxx".into(),
        email: "newcomer@acme.example".into(),
        role: OrgRole::Developer,
        status: InviteStatus::Pending,
        invited_at,
        expires_at: invited_at + SignedDuration::from_hours(21 * 24),
        accepted_at: None,
    });
    Org::start_with(EmulatorConfig {
        seed,
        clock_start: start,
        test_controls: true,
        ..EmulatorConfig::default()
    })
}

/// Runs `orgform ARGS` as a user does: no `--now`, the default rate limit.
fn as_user(org: &Org, dir: &std::path::Path, args: &[&str]) -> Run {
    run_command(org.user_command(dir).args(args))
}

fn export_plan_apply_converges(offset: SignedDuration) {
    let org = org_with_clock(offset);
    let dir = tempfile::tempdir().unwrap();
    let export = as_user(&org, dir.path(), &["export", "--out", "org.yaml"]);
    assert_eq!(export.code, 0, "{export:?}");
    assert!(
        std::fs::read_to_string(dir.path().join("org.yaml"))
            .unwrap()
            .contains("newcomer@acme.example"),
        "the pending invitee is exported"
    );

    let plan = as_user(&org, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout.contains("clock skew: the local clock is"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("invite newcomer@acme.example"),
        "the invite is shown as pending: {}",
        plan.stdout
    );

    let drift = as_user(&org, dir.path(), &["drift"]);
    assert_eq!(drift.code, 0, "{drift:?}");

    let apply = as_user(&org, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        org.writes().is_empty(),
        "nothing to write: {:?}",
        org.writes()
    );
    let again = as_user(&org, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
}

#[test]
fn api_clock_months_behind_the_local_clock() {
    export_plan_apply_converges(SignedDuration::from_hours(-24 * 120));
}

#[test]
fn api_clock_months_ahead_of_the_local_clock() {
    export_plan_apply_converges(SignedDuration::from_hours(24 * 120));
}

#[test]
fn now_overrides_the_api_clock_and_the_api_clock_decides_expiry() {
    let org = org_with_clock(SignedDuration::from_hours(-24 * 120));
    let dir = tempfile::tempdir().unwrap();
    let export = as_user(&org, dir.path(), &["export", "--out", "org.yaml"]);
    assert_eq!(export.code, 0, "{export:?}");
    // `--now` overrides the API's clock: a month on, the pending invite counts as expired
    // and is re-issued (and no skew is reported).
    let later = (org.emulator.now() + SignedDuration::from_hours(24 * 30)).to_string();
    let pinned = as_user(
        &org,
        dir.path(),
        &["plan", "--detailed-exitcode", "--now", &later],
    );
    assert_eq!(pinned.code, 2, "{pinned:?}");
    assert!(
        pinned.stdout.contains("send invite newcomer@acme.example"),
        "{pinned:?}"
    );
    assert!(!pinned.stdout.contains("clock skew"), "{pinned:?}");
    // Once the API's own clock passes expires_at, the invite is expired and re-issued.
    org.emulator
        .advance_clock(SignedDuration::from_hours(24 * 21));
    let plan = as_user(&org, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout.contains("send invite newcomer@acme.example"),
        "{plan:?}"
    );
}

#[test]
fn a_clock_within_a_minute_gives_no_warning() {
    let org = org_with_clock(SignedDuration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        as_user(&org, dir.path(), &["export", "--out", "org.yaml"]).code,
        0
    );
    let plan = as_user(&org, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(!plan.stdout.contains("clock skew"), "{plan:?}");
}

#[test]
fn a_clean_org_with_implicit_members_listed_has_no_drift() {
    let start = |implicit_members| {
        Org::start_with(EmulatorConfig {
            seed: orgform_emulator::seeds::small(),
            clock_start: Timestamp::now(),
            test_controls: true,
            readings: Readings {
                implicit_members,
                ..Readings::default()
            },
            ..EmulatorConfig::default()
        })
    };
    // The manifest is exported where implicit members are not listed, so it declares none
    // of them; it manages every workspace's members and removes whoever is not declared.
    let dir = tempfile::tempdir().unwrap();
    let hidden = start(ImplicitMembers::Hidden);
    let export = as_user(&hidden, dir.path(), &["export", "--out", "org.yaml"]);
    assert_eq!(export.code, 0, "{export:?}");
    let manifest = std::fs::read_to_string(dir.path().join("org.yaml")).unwrap();
    assert!(manifest.contains("unmanaged: remove"), "{manifest}");

    let org = start(ImplicitMembers::Listed);
    let drift = as_user(&org, dir.path(), &["drift"]);
    assert_eq!(drift.code, 0, "{drift:?}");
    assert!(
        drift
            .stdout
            .contains("implicit: the org role admin gives workspace_admin"),
        "{drift:?}"
    );
    assert!(drift.stdout.contains("No drift."), "{drift:?}");
    let plan = as_user(&org, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let apply = as_user(&org, dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        org.writes().is_empty(),
        "nothing removed: {:?}",
        org.writes()
    );
}
