//! `orgform doctor` against the emulator: its findings match the readings the emulator serves,
//! it only ever sends GETs, and it fails (exit 1) exactly when orgform could not work.

use crate::common;

use std::path::Path;

use crate::common::{Org, Run};
use orgform_emulator::readings::WorkspaceKeyRefusal;
use orgform_emulator::{EmulatorConfig, Readings, seeds};
use serde_json::Value;

/// The small organization on a clock that agrees with this machine's, under `readings`.
fn org(readings: Readings) -> Org {
    Org::start_with(EmulatorConfig {
        seed: seeds::small(),
        test_controls: true,
        clock_start: jiff::Timestamp::now(),
        readings,
        ..EmulatorConfig::default()
    })
}

/// Runs `orgform doctor ARGS` as a user would (no hidden flags).
fn doctor(org: &Org, dir: &Path, key: &str, args: &[&str]) -> Run {
    let mut line = vec!["doctor"];
    line.extend_from_slice(args);
    org.run_plain(dir, &line, key)
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"))
}

fn observed<'a>(report: &'a Value, name: &str) -> &'a Value {
    &report["readings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no reading {name}"))["observed"]
}

/// Readings the small organization shows through reads alone, whatever the profile.
const ALWAYS_SEEN: &[&str] = &[
    "implicit-members",
    "implicit-member-get",
    "wrong-method",
    "users-order",
    "invites-order",
    "workspaces-order",
    "members-order",
    "api-keys-order",
    "key-shape",
    "rate-limit-headers",
];

#[test]
fn findings_match_every_readings_profile_and_only_gets_are_sent() {
    let dir = tempfile::tempdir().unwrap();
    for (profile, readings) in Readings::profiles() {
        let org = org(readings);
        let run = doctor(
            &org,
            dir.path(),
            org.emulator.admin_key(),
            &["--format", "json", "--rate-limit", "0"],
        );
        assert_eq!(run.code, 0, "{profile}: {run:?}");
        let report = json(&run);
        assert_eq!(report["ok"], true, "{profile}");
        for r in report["readings"].as_array().unwrap() {
            let name = r["name"].as_str().unwrap();
            let served = readings
                .get(name)
                .unwrap_or_else(|| panic!("{name} is no switch"));
            match r["observed"].as_str() {
                Some(seen) => assert_eq!(seen, served, "{profile}: {name}: {}", r["evidence"]),
                None => assert!(
                    !ALWAYS_SEEN.contains(&name),
                    "{profile}: {name} not seen: {}",
                    r["evidence"]
                ),
            }
        }
        let headers = readings.get("rate-limit-headers") == Some("present");
        assert_eq!(
            observed(&report, "rate-limit-model").is_string(),
            headers,
            "{profile}: the counting model shows in the headers"
        );
        assert_eq!(
            org.writes(),
            Vec::<String>::new(),
            "{profile}: doctor wrote"
        );
    }
}

#[test]
fn counts_pages_and_requests_are_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let org = org(Readings::default());
    let run = doctor(
        &org,
        dir.path(),
        org.emulator.admin_key(),
        &["--format", "json", "--rate-limit", "0"],
    );
    let report = json(&run);
    let state = org.emulator.state();
    let count = |name: &str| {
        report["collections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count("users"), state.users.len() as u64);
    assert_eq!(count("invites"), state.invites.len() as u64);
    assert_eq!(count("workspaces"), state.workspaces.len() as u64);
    assert_eq!(
        count("workspace_members"),
        state.workspace_members.len() as u64
    );
    assert_eq!(count("api_keys"), state.api_keys.len() as u64);
    let list_reads = org
        .emulator
        .request_log()
        .iter()
        .filter(|r| {
            r.path == "/v1/organizations/me"
                || ["/users", "/invites", "/workspaces", "/members", "/api_keys"]
                    .iter()
                    .any(|end| r.path.ends_with(end))
        })
        .count();
    assert_eq!(
        report["plan"]["requests"].as_u64().unwrap(),
        list_reads as u64
    );
    assert_eq!(report["organization"]["id"], state.organization.id.as_str());
}

#[test]
fn text_report_under_the_default_rate_limit_and_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let org = org(Readings::default());
    let manifest = common::demo_manifest(dir.path());
    let run = doctor(
        &org,
        dir.path(),
        org.emulator.admin_key(),
        &["-f", manifest.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{run:?}");
    for expected in [
        "[ok  ] key: the key works and is an Admin API key",
        "[ok  ] manifest: the manifest's organization.id matches",
        "[ok  ] clock: this machine's clock is within",
        "requests/min",
        "implicit-members       hidden",
        "orgform can work with this organization.",
    ] {
        assert!(
            run.stdout.contains(expected),
            "{expected:?} missing:\n{}",
            run.stdout
        );
    }
    assert!(!run.stdout.contains(org.emulator.admin_key()));
    assert!(!run.stderr.contains(org.emulator.admin_key()));
    assert!(org.writes().is_empty());
}

#[test]
fn a_manifest_of_another_organization_fails() {
    let dir = tempfile::tempdir().unwrap();
    let org = org(Readings::default());
    let manifest = common::demo_manifest(dir.path());
    let text = std::fs::read_to_string(&manifest).unwrap();
    let id = org.emulator.state().organization.id;
    std::fs::write(
        &manifest,
        text.replace(&id, "00000000-0000-4000-8000-000000000000"),
    )
    .unwrap();
    let run = doctor(
        &org,
        dir.path(),
        org.emulator.admin_key(),
        &["-f", "org.yaml", "--format", "json"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let report = json(&run);
    assert_eq!(report["ok"], false);
    let fail = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["level"] == "error")
        .unwrap();
    assert_eq!(fail["check"], "manifest");
    assert!(
        fail["message"]
            .as_str()
            .unwrap()
            .contains("00000000-0000-4000-8000-000000000000")
    );
    // An unreadable manifest fails too, and still says which organization the key reaches.
    std::fs::write(&manifest, "organization: [").unwrap();
    let run = doctor(
        &org,
        dir.path(),
        org.emulator.admin_key(),
        &["-f", "org.yaml"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("[FAIL] manifest: cannot use the manifest: org.yaml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("organization: Acme Research"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_refused_key_fails_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let org = org(Readings {
        workspace_key: WorkspaceKeyRefusal::Forbidden,
        ..Readings::default()
    });
    let run = doctor(&org, dir.path(), "sk-ant-admin01-not-this-one", &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("[FAIL] key: the API refused the key (401"),
        "{}",
        run.stdout
    );
    let run = doctor(&org, dir.path(), "sk-ant-api03-a-workspace-key", &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("may not use the Admin API (403"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("sk-ant-api03-a-workspace-key"));
}

#[test]
fn a_distant_api_clock_is_a_warning_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    // The default emulator clock, 2026-06-01, months from this machine's.
    let org = Org::small();
    let run = doctor(
        &org,
        dir.path(),
        org.emulator.admin_key(),
        &["--format", "json", "--rate-limit", "0"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let report = json(&run);
    let skew = report["clock"]["skew_seconds"].as_i64().unwrap();
    let expected = org
        .emulator
        .now()
        .duration_since(jiff::Timestamp::now())
        .as_secs();
    assert!((skew - expected).abs() < 30, "{skew} vs {expected}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| { f["check"] == "clock" && f["level"] == "warning" })
    );
}

#[test]
fn a_collection_that_cannot_be_read_fails() {
    let dir = tempfile::tempdir().unwrap();
    let org = org(Readings::default());
    org.emulator.push_fault(
        orgform_emulator::FaultMatcher::new("GET", "/v1/organizations/api_keys"),
        orgform_emulator::Fault::ServerError {
            should_retry: Some(false),
        },
    );
    let run = doctor(
        &org,
        dir.path(),
        org.emulator.admin_key(),
        &["--rate-limit", "0", "--max-retries", "0"],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("[FAIL] read: GET /v1/organizations/api_keys answered 500"),
        "{}",
        run.stdout
    );
}

#[test]
fn control_characters_from_the_api_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = seeds::small();
    seed.organization.name = "Acme\u{1b}]0;owned\u{7}\u{9b}31m".to_owned();
    let org = Org::start_with(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    });
    for format in ["text", "json"] {
        let run = doctor(
            &org,
            dir.path(),
            org.emulator.admin_key(),
            &["--format", format, "--rate-limit", "0"],
        );
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            !run.stdout.contains(['\u{1b}', '\u{7}', '\u{9b}']),
            "{format}: raw control characters: {:?}",
            run.stdout
        );
        assert!(run.stdout.contains("Acme"), "{format}");
    }
}

#[test]
fn the_activity_feed_and_the_usage_report_are_probed_and_a_refusal_only_warns() {
    use orgform_emulator::readings::{ActivityFeed, UsageReport};
    let dir = tempfile::tempdir().unwrap();
    for (feed, usage, feed_says, usage_says) in [
        (
            ActivityFeed::Served,
            UsageReport::Served,
            "the activity feed is readable, for drift --attribute",
            "the usage report is readable, for unused-key reports",
        ),
        (
            ActivityFeed::Forbidden,
            UsageReport::Forbidden,
            "the activity feed is not readable with this key (403",
            "the usage report is not readable with this key (403",
        ),
        (
            ActivityFeed::NotFound,
            UsageReport::Served,
            "the activity feed is not available here (404",
            "the usage report is readable",
        ),
    ] {
        let org = org(Readings {
            activity_feed: feed,
            usage_report: usage,
            ..Readings::default()
        });
        let run = doctor(
            &org,
            dir.path(),
            org.emulator.admin_key(),
            &["--format", "json"],
        );
        assert_eq!(run.code, 0, "a refusal is no failure: {run:?}");
        let report = json(&run);
        let permissions: Vec<(String, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == "permissions")
            .map(|f| {
                (
                    f["level"].as_str().unwrap().to_owned(),
                    f["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(permissions.len(), 2, "{permissions:?}");
        for ((level, message), says, served) in [
            (&permissions[0], feed_says, feed == ActivityFeed::Served),
            (&permissions[1], usage_says, usage == UsageReport::Served),
        ] {
            assert!(message.starts_with(says), "{message}");
            assert_eq!(level, if served { "ok" } else { "warning" }, "{message}");
        }
        assert!(org.writes().is_empty(), "only reads");
    }
}
