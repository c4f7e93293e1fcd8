//! Time-boxed access end to end, with no hidden flags: the plans run on the emulator's clock
//! (its `Date` header), which the test moves past an `expires:` date.

use crate::common::{self, Org};

#[test]
fn access_ends_on_the_first_plan_after_the_date_by_the_apis_clock() {
    let org = Org::small(); // the emulator's clock starts at 2026-06-01T00:00:00Z
    let key = org.emulator.admin_key().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::demo_manifest(dir.path());
    let text = std::fs::read_to_string(&manifest).unwrap();
    let timed = text.replace(
        "  - email: dev.one@acme.example\n    role: developer\n",
        "  - email: dev.one@acme.example\n    role: developer\n    expires: 2026-06-10\n",
    );
    assert_ne!(timed, text);
    std::fs::write(&manifest, timed).unwrap();
    let expires_line = std::fs::read_to_string(&manifest)
        .unwrap()
        .lines()
        .position(|l| l.contains("expires: 2026-06-10"))
        .unwrap()
        + 1;

    // Before: in force, with the days left; drift warns (inside the default 14 days).
    let plan = org.run_plain(dir.path(), &["plan"], &key);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(&format!(
            "~ member dev.one@acme.example: expires 2026-06-10, 9 days left  org.yaml:{expires_line}"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("remove member dev.one"),
        "{}",
        plan.stdout
    );
    let drift = org.run_plain(dir.path(), &["drift"], &key);
    assert!(
        drift
            .stdout
            .contains(&format!("member dev.one@acme.example: expires 2026-06-10, 9 days left (settings.expiry_warning_days: 14); then the plan removes it  org.yaml:{expires_line}")),
        "{}",
        drift.stdout
    );
    let applied = org.run_plain(dir.path(), &["apply", "--auto-approve"], &key);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let dev_one = org
        .emulator
        .state()
        .users
        .iter()
        .find(|u| u.email == "dev.one@acme.example")
        .map(|u| u.id.clone())
        .expect("dev.one is still a member");

    // The last day still counts; the next day does not.
    org.emulator
        .advance_clock(jiff::SignedDuration::from_hours(24 * 9 + 23));
    let plan = org.run_plain(dir.path(), &["plan", "--detailed-exitcode"], &key);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("expires 2026-06-10, last day"),
        "{}",
        plan.stdout
    );
    org.emulator
        .advance_clock(jiff::SignedDuration::from_hours(1));
    let plan = org.run_plain(dir.path(), &["plan", "--detailed-exitcode"], &key);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(&format!(
            "remove member dev.one@acme.example (destructive)  org.yaml:{expires_line}"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("consequence: access ended with 2026-06-10"),
        "{}",
        plan.stdout
    );
    let applied = org.run_plain(dir.path(), &["apply", "--auto-approve"], &key);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let state = org.emulator.state();
    assert!(state.users.iter().all(|u| u.id != dev_one), "removed");
    assert!(
        state.workspace_members.iter().all(|m| m.user_id != dev_one),
        "their memberships ended with them"
    );
    // Converged: the expired entry (and its grants in the manifest) asks for nothing more.
    let again = org.run_plain(dir.path(), &["plan", "--detailed-exitcode"], &key);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}

#[test]
fn a_time_boxed_grant_ends_with_its_membership_and_the_member_stays() {
    let org = Org::small(); // 2026-06-01T00:00:00Z
    let key = org.emulator.admin_key().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::demo_manifest(dir.path());
    let text = std::fs::read_to_string(&manifest).unwrap();
    let at = text.find("  - name: Staging").unwrap();
    let (head, tail) = text.split_at(at);
    let tail = tail.replacen(
        "      dev.two@acme.example: workspace_developer\n",
        "      dev.two@acme.example: {role: workspace_developer, expires: 2026-06-03}\n",
        1,
    );
    let timed = format!("{head}{tail}");
    assert_ne!(timed, text);
    std::fs::write(&manifest, &timed).unwrap();
    let line = timed
        .lines()
        .position(|l| l.contains("expires: 2026-06-03"))
        .unwrap()
        + 1;

    let plan = org.run_plain(dir.path(), &["plan"], &key);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(&format!(
            "~ workspace member dev.two@acme.example in Staging: expires 2026-06-03, 2 days left  org.yaml:{line}"
        )),
        "{}",
        plan.stdout
    );
    let applied = org.run_plain(dir.path(), &["apply", "--auto-approve"], &key);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);

    org.emulator
        .advance_clock(jiff::SignedDuration::from_hours(24 * 3));
    let plan = org.run_plain(dir.path(), &["plan", "--detailed-exitcode"], &key);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(&format!(
            "remove workspace member dev.two@acme.example in Staging (destructive)  org.yaml:{line}"
        )),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("remove member"), "{}", plan.stdout);
    let applied = org.run_plain(dir.path(), &["apply", "--auto-approve"], &key);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let state = org.emulator.state();
    let dev_two = "user_01ZqJsLgsupBoAG1JzMkuXpt";
    assert!(
        state.users.iter().any(|u| u.id == dev_two),
        "still a member"
    );
    assert!(
        state
            .workspace_members
            .iter()
            .all(|m| !(m.user_id == dev_two && m.workspace_id == "wrkspc_01NKQ5dnvrKTWArkssEZQXtz")),
        "the Staging membership ended"
    );
    assert!(
        state
            .workspace_members
            .iter()
            .any(|m| m.user_id == dev_two && m.workspace_id == "wrkspc_01Xn1E3K9k67krgYnm8vmu3a"),
        "the Production one stays"
    );
    let again = org.run_plain(dir.path(), &["plan", "--detailed-exitcode"], &key);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}
