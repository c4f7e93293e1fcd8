//! Staged removal end to end, on the emulator's clock (its `Date` header), with no hidden
//! flags: stage 1 applied, the committed audit snapshot recording since when the leavers have
//! had no access, the removal waiting through the grace period, then planned and applied.

use crate::common::{self, Org};

const DEV_ONE: &str = "user_01YBP3opHrjLa4N9N8iqaevg";
const URSULA: &str = "user_01wHyMSYZqZxRKx2EM85otUC";

/// The demo manifest with dev.one no longer listed (nor their grants, nor the key entry of
/// theirs that asks for `active`), and staged removal with 3 days of grace.
fn staged_manifest(dir: &std::path::Path) {
    let path = common::demo_manifest(dir);
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text
        .replace(
            "    unmanaged: remove          # ursula@acme.example is not listed: she is removed\n",
            "    unmanaged: remove\n    removal: staged\n    grace_days: 3\n",
        )
        .replace("  - email: dev.one@acme.example\n    role: developer\n", "")
        .replace("      dev.one@acme.example: workspace_admin\n", "")
        .replace("      dev.one@acme.example: workspace_developer\n", "")
        .replace(
            "  - id: apikey_01tu7dAs1nrCJ3zn2nUZTDgH\n    name: prod-backend\n    status: active\n",
            "",
        );
    assert_eq!(text.lines().count() - edited.lines().count(), 5, "{edited}");
    std::fs::write(&path, edited).unwrap();
}

fn day(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_hours(24 * n)
}

#[test]
fn access_is_revoked_first_and_the_member_removed_after_the_recorded_grace_period() {
    let org = Org::small(); // the emulator's clock starts at 2026-06-01T00:00:00Z
    let key = org.emulator.admin_key().to_owned();
    let dir = tempfile::tempdir().unwrap();
    staged_manifest(dir.path());
    let audit = ["--audit-snapshot", "audit.yaml"];
    let with_audit = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(audit.iter())
            .map(|s| (*s).to_owned())
            .collect()
    };
    let run = |args: &[&str]| {
        let args = with_audit(args);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        org.run_plain(dir.path(), &refs, &key)
    };
    let snapshot = || {
        let out = org.run_plain(dir.path(), &["snapshot", "--out", "audit.yaml"], &key);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        std::fs::read_to_string(dir.path().join("audit.yaml")).unwrap()
    };

    // Day 0: the first snapshot; both leavers still have access, so it records no date for
    // them (ada, an admin with no explicit membership and no active key, has one).
    let first = snapshot();
    assert_eq!(first.matches("no_access_since:").count(), 1, "{first}");

    // Stage 1 is planned: keys deactivated, memberships removed; nobody removed.
    let plan = run(&["plan"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(
            "update api key prod-backend (apikey_01tu7dAs1nrCJ3zn2nUZTDgH) (destructive)"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("remove workspace member ursula@acme.example in Research (destructive)"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("remove member"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("~ member dev.one@acme.example: revoking access: stage 1: this plan deactivates 1 active api key(s)"),
        "{}",
        plan.stdout
    );
    let applied = run(&["apply", "--auto-approve", "--allow-destructive", "10"]);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let state = org.emulator.state();
    for id in [DEV_ONE, URSULA] {
        assert!(state.users.iter().any(|u| u.id == id), "still a member");
        assert!(
            state
                .workspace_members
                .iter()
                .filter(|m| m.user_id == id)
                .all(|m| m.workspace_id == "wrkspc_01ibgJpRq3r1eAzgGxcAfvEA"),
            "only the archived workspace's membership is left"
        );
    }
    assert!(
        state
            .api_keys
            .iter()
            .filter(|k| k.created_by.as_ref().is_some_and(|c| c.id == DEV_ONE))
            .all(|k| k.status.as_str() != "active")
    );

    // The old snapshot does not say since when: the removal waits, and says why.
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(
            "~ member dev.one@acme.example: waiting for evidence: no access left; the removal is not planned: audit.yaml does not record since when"
        ),
        "{}",
        plan.stdout
    );

    // Day 1: the snapshot records both; day 3: a day of grace is left.
    org.emulator.advance_clock(day(1));
    let recorded = snapshot();
    assert_eq!(
        recorded
            .matches("no_access_since: \"2026-06-02T00:00:00Z\"")
            .count(),
        2,
        "{recorded}"
    );
    org.emulator.advance_clock(day(2));
    assert_eq!(snapshot(), recorded, "the dates are kept, byte for byte");
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(
            "~ member ursula@acme.example: waiting, 1 day left: no access since 2026-06-02T00:00:00Z (audit snapshot); removal from 2026-06-05T00:00:00Z"
        ),
        "{}",
        plan.stdout
    );
    let drift = run(&["drift"]);
    assert!(
        drift
            .stdout
            .contains("member dev.one@acme.example: waiting, 1 day left"),
        "{}",
        drift.stdout
    );

    // Day 4: the grace period has passed; the removals are planned and applied.
    org.emulator.advance_clock(day(1));
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    for email in ["dev.one", "ursula"] {
        assert!(
            plan.stdout
                .contains(&format!("remove member {email}@acme.example (destructive)")),
            "{}",
            plan.stdout
        );
    }
    // Saved, the plan tells how to apply it with the same audit snapshot, and it applies.
    let saved = run(&["plan", "--out", "removal.json"]);
    assert_eq!(saved.code, 0, "{}{}", saved.stdout, saved.stderr);
    assert!(
        saved.stderr.contains(
            "apply it with: orgform apply -f org.yaml --audit-snapshot audit.yaml removal.json"
        ),
        "{}",
        saved.stderr
    );
    let applied = org.run_plain(
        dir.path(),
        &[
            "apply",
            "-f",
            "org.yaml",
            "--audit-snapshot",
            "audit.yaml",
            "--auto-approve",
            "removal.json",
        ],
        &key,
    );
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let state = org.emulator.state();
    assert!(
        state
            .users
            .iter()
            .all(|u| u.id != DEV_ONE && u.id != URSULA)
    );
    let again = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}

#[test]
fn without_an_audit_snapshot_nobody_is_removed_and_a_bad_one_stops_the_plan() {
    let org = Org::small();
    let key = org.emulator.admin_key().to_owned();
    let dir = tempfile::tempdir().unwrap();
    staged_manifest(dir.path());
    let applied = org.run_plain(
        dir.path(),
        &["apply", "--auto-approve", "--allow-destructive", "10"],
        &key,
    );
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    org.emulator.advance_clock(day(400));
    let plan = org.run_plain(dir.path(), &["plan"], &key);
    assert!(!plan.stdout.contains("remove member"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("no audit snapshot was given (--audit-snapshot PATH)"),
        "{}",
        plan.stdout
    );

    // Another organization's snapshot, or a file that is not a snapshot: exit 1, nothing read.
    std::fs::write(
        dir.path().join("other.yaml"),
        "snapshot_format: 1\norganization:\n  id: 11111111-2222-4333-8444-555555555555\n  name: Other\nmembers: []\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.yaml"), "just: notes\n").unwrap();
    for (file, says) in [
        (
            "other.yaml",
            "is a snapshot of organization 11111111-2222-4333-8444-555555555555",
        ),
        ("notes.yaml", "it is not an orgform snapshot"),
        ("missing.yaml", "cannot read --audit-snapshot missing.yaml"),
    ] {
        let before = org.writes().len();
        let out = org.run_plain(dir.path(), &["plan", "--audit-snapshot", file], &key);
        assert_eq!(out.code, 1, "{file}: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(says), "{file}: {}", out.stderr);
        assert_eq!(org.writes().len(), before);
    }
    // `snapshot --out` over a file that is not a snapshot (or is another organization's)
    // carries no date over: every one starts at this read, and a warning says so.
    org.emulator.advance_clock(day(1));
    for file in ["notes.yaml", "other.yaml"] {
        let out = org.run_plain(dir.path(), &["snapshot", "--out", file], &key);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains(&format!("warning: --out {file} is")),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("every one starts now"),
            "{}",
            out.stderr
        );
        let written = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert_eq!(
            written
                .matches("no_access_since: \"2027-07-07T00:00:00Z\"")
                .count(),
            written.matches("no_access_since:").count(),
            "{written}"
        );
        assert!(
            written.matches("no_access_since:").count() >= 2,
            "{written}"
        );
    }
}
