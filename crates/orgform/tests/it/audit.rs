//! `snapshot` and `export` against the emulator: determinism, one-line diffs, the export
//! round trip (export, then plan, shows no changes), and no secret in any output.

use crate::common;

use crate::common::Org;

#[test]
fn snapshots_are_byte_identical_and_a_role_change_is_a_one_line_diff() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let first = org.run(dir.path(), &["snapshot"]);
    let second = org.run(dir.path(), &["snapshot", "--out", "snap.yaml"]);
    assert_eq!((first.code, second.code), (0, 0), "{first:?} {second:?}");
    let from_file = std::fs::read_to_string(dir.path().join("snap.yaml")).unwrap();
    // The file also records since when each member without access has had none (ada: an
    // admin with no explicit membership and no active key); stdout has no such dates.
    let dated: Vec<&str> = from_file
        .lines()
        .filter(|l| l.trim_start().starts_with("no_access_since:"))
        .collect();
    assert_eq!(dated, ["    no_access_since: \"2026-06-01T00:00:00Z\""]);
    let undated: String = from_file
        .split_inclusive('\n')
        .filter(|l| !l.trim_start().starts_with("no_access_since:"))
        .collect();
    assert_eq!(
        first.stdout, undated,
        "two snapshots of the same state are identical"
    );
    // A day later, the file written over the first is byte-identical: the date is kept.
    org.emulator
        .advance_clock(jiff::SignedDuration::from_hours(24));
    let third = org.run(dir.path(), &["snapshot", "--out", "snap.yaml"]);
    assert_eq!(third.code, 0, "{third:?}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("snap.yaml")).unwrap(),
        from_file
    );
    assert!(first.stdout.contains("email: dev.two@acme.example"));

    org.demote_dev_two();
    let changed = org.run(dir.path(), &["snapshot"]);
    let diff = similar::TextDiff::from_lines(&first.stdout, &changed.stdout);
    let changed_lines: Vec<String> = diff
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .map(|c| format!("{}{}", c.tag(), c.value()))
        .collect();
    assert_eq!(
        changed_lines,
        vec!["-    role: developer\n", "+    role: user\n"],
        "{changed_lines:?}"
    );
}

#[test]
fn export_round_trips_on_the_small_org() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let export = org.run(dir.path(), &["export", "--out", "org.yaml"]);
    assert_eq!(export.code, 0, "{export:?}");
    let validate = org.run(dir.path(), &["validate", "-f", "org.yaml"]);
    assert_eq!(
        validate.code, 0,
        "the export is a valid manifest: {validate:?}"
    );
    let plan = org.run(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.code, 0,
        "export then plan shows no changes: {}\n{}",
        plan.stdout, plan.stderr
    );
    let text = std::fs::read_to_string(dir.path().join("org.yaml")).unwrap();
    assert!(text.contains("role: admin  # an assertion only"), "{text}");
    assert!(text.contains("archived, left out"), "{text}");
    assert!(
        text.contains("late.responder@acme.example: only an expired invite"),
        "{text}"
    );
}

#[test]
fn export_round_trips_on_a_large_org() {
    let org = Org::start(orgform_emulator::seeds::large(7, 600, 40, 900));
    let dir = tempfile::tempdir().unwrap();
    let export = org.run(dir.path(), &["export", "--out", "org.yaml"]);
    assert_eq!(export.code, 0, "{export:?}");
    let plan = org.run(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.code, 0,
        "export then plan shows no changes: {}\n{}",
        plan.stdout, plan.stderr
    );
}

#[test]
fn no_output_carries_the_admin_key() {
    const CANARY: &str = "sk-ant-admin01-CANARY-7f3e9b2c-do-not-print";
    let config = orgform_emulator::EmulatorConfig {
        seed: orgform_emulator::seeds::small(),
        admin_key: CANARY.to_owned(),
        test_controls: true,
        ..orgform_emulator::EmulatorConfig::default()
    };
    let org = Org::start_with(config);
    let dir = tempfile::tempdir().unwrap();
    common::demo_manifest(dir.path());
    let runs = [
        org.run(dir.path(), &["-vvv", "plan", "--out", "plan.json"]),
        org.run(
            dir.path(),
            &["-vvv", "--log-format", "json", "plan", "--format", "json"],
        ),
        org.run(dir.path(), &["-vvv", "drift", "--format", "markdown"]),
        org.run(dir.path(), &["-vvv", "snapshot", "--out", "snap.yaml"]),
        org.run(dir.path(), &["-vvv", "export", "--out", "export.yaml"]),
        org.run(
            dir.path(),
            &["-vvv", "apply", "--auto-approve", "--format", "json"],
        ),
        org.run_with_key(dir.path(), &["-vvv", "plan"], "sk-ant-admin01-CANARY-wrong"),
    ];
    assert!(
        runs[0].stderr.contains("DEBUG") || runs[0].stderr.contains("TRACE"),
        "logs were on"
    );
    for run in &runs {
        assert!(!run.stdout.contains("CANARY"), "stdout: {}", run.stdout);
        assert!(!run.stderr.contains("CANARY"), "stderr: {}", run.stderr);
    }
    for file in ["plan.json", "snap.yaml", "export.yaml"] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(!text.contains("CANARY"), "{file}");
    }
}

#[test]
fn snapshot_writes_only_allow_listed_fields() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let run = org.run(dir.path(), &["snapshot"]);
    let value: serde_json::Value = serde_saphyr::from_str(&run.stdout).unwrap();
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&value),
        [
            "snapshot_format",
            "organization",
            "members",
            "invites",
            "workspaces",
            "api_keys",
            "rate_limits"
        ]
    );
    assert_eq!(keys(&value["rate_limits"]), ["organization", "workspaces"]);
    for group in value["rate_limits"]["organization"].as_array().unwrap() {
        for field in keys(group) {
            assert!(
                ["group_type", "id", "models", "limits"].contains(&field.as_str()),
                "unexpected rate limit field {field}"
            );
        }
    }
    let allowed_key_fields = [
        "name",
        "id",
        "status",
        "workspace",
        "workspace_id",
        "created_by",
        "partial_key_hint",
        "created_at",
        "expires_at",
    ];
    for key in value["api_keys"].as_array().unwrap() {
        for field in keys(key) {
            assert!(
                allowed_key_fields.contains(&field.as_str()),
                "unexpected key field {field}"
            );
        }
    }
    for member in value["members"].as_array().unwrap() {
        assert_eq!(keys(member), ["email", "role", "name", "id", "added_at"]);
    }
}

/// The emulator's default rate limits, with one workspace override of the Sonnet group.
fn limits_with_override(workspace_id: &str, rpm: u64) -> orgform_model::RateLimits {
    let mut limits = orgform_emulator::default_rate_limits();
    limits.workspaces.insert(
        workspace_id.to_owned(),
        vec![orgform_model::WorkspaceRateLimit {
            workspace_id: workspace_id.to_owned(),
            rate_limit_id: "ratelimit_01sonnet".to_owned(),
            group_type: "model_group".to_owned(),
            models: None,
            limits: vec![orgform_model::WorkspaceLimitValue {
                kind: "requests_per_minute".to_owned(),
                value: rpm,
                org_limit: None,
            }],
        }],
    );
    limits
}

#[test]
fn rate_limits_are_in_the_snapshot_and_a_limit_change_is_a_one_line_diff() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let state = org.emulator.state();
    let ws = state
        .workspaces
        .iter()
        .find(|w| w.archived_at.is_none())
        .unwrap();
    org.emulator
        .set_rate_limits(limits_with_override(&ws.id, 1000));
    let first = org.run(dir.path(), &["snapshot"]);
    assert_eq!(first.code, 0, "{first:?}");
    let section = &first.stdout[first.stdout.find("\nrate_limits:").unwrap()..];
    assert!(
        section.contains(&format!(
            "  workspaces:\n    - workspace: {}\n      workspace_id: {}\n",
            ws.name, ws.id
        )),
        "{section}"
    );
    assert!(
        section.contains(
            "    - group_type: model_group\n      id: ratelimit_01sonnet\n      models:\n        - claude-sonnet-4-5\n"
        ),
        "{section}"
    );

    org.emulator
        .set_rate_limits(limits_with_override(&ws.id, 1200));
    let changed = org.run(dir.path(), &["snapshot"]);
    let diff = similar::TextDiff::from_lines(&first.stdout, &changed.stdout);
    let changed_lines: Vec<String> = diff
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .map(|c| format!("{}{}", c.tag(), c.value()))
        .collect();
    assert_eq!(
        changed_lines,
        vec![
            "-            requests_per_minute: 1000\n",
            "+            requests_per_minute: 1200\n"
        ],
        "{changed_lines:?}"
    );

    // The snapshot seeds a copy that serves the same limits.
    std::fs::write(dir.path().join("copy.yaml"), &changed.stdout).unwrap();
    let (_, limits) =
        orgform_emulator::seeds::load_with_rate_limits(&dir.path().join("copy.yaml")).unwrap();
    let limits = limits.expect("the section is read back");
    assert_eq!(limits.workspaces[&ws.id][0].limits[0].value, 1200);
    assert_eq!(limits.organization.len(), 4);
}

#[test]
fn unreadable_rate_limits_are_recorded_as_such_never_as_none() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    org.emulator.push_fault(
        orgform_emulator::FaultMatcher::new("GET", "/v1/organizations/rate_limits"),
        orgform_emulator::Fault::ServerError {
            should_retry: Some(false),
        },
    );
    let failed = org.run(dir.path(), &["snapshot", "--out", "snap.yaml"]);
    assert_eq!(failed.code, 1, "a failed read writes nothing: {failed:?}");
    assert!(!dir.path().join("snap.yaml").exists());
    assert!(failed.stderr.contains("rate limits"), "{}", failed.stderr);
}
