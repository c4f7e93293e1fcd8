//! Keyless CI, drift with a name on it, unused keys and rate limits in the snapshot: the real
//! binary against the emulator.

use crate::common::{Org, Run, demo_manifest};
use orgform_emulator::EmulatorConfig;

const TOKEN: &str = "oauth-org-admin-CANARY-token-0001";

fn token_org() -> Org {
    Org::start_with(EmulatorConfig {
        seed: orgform_emulator::seeds::small(),
        bearer_tokens: vec![TOKEN.to_owned()],
        test_controls: true,
        ..EmulatorConfig::default()
    })
}

/// `orgform ARGS` with the given credential variables only (the admin key removed unless
/// given).
fn run_with_env(org: &Org, dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = assert_cmd::Command::cargo_bin("orgform").unwrap();
    cmd.current_dir(dir)
        .args(args)
        .args([
            "--rate-limit",
            "0",
            "--now",
            &org.emulator.now().to_string(),
        ])
        .env("ANTHROPIC_BASE_URL", org.emulator.base_url())
        .env_remove("ANTHROPIC_ADMIN_KEY")
        .env_remove("ANTHROPIC_AUTH_TOKEN")
        .env("NO_COLOR", "1")
        .write_stdin("");
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.output().unwrap().into()
}

fn assert_secret_free(run: &Run) {
    for secret in [TOKEN, "CANARY"] {
        assert!(!run.stdout.contains(secret), "stdout: {}", run.stdout);
        assert!(!run.stderr.contains(secret), "stderr: {}", run.stderr);
    }
}

#[test]
fn a_bearer_token_from_the_environment_plans_and_applies() {
    let org = token_org();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let env = [("ANTHROPIC_AUTH_TOKEN", TOKEN)];
    let plan = run_with_env(&org, dir.path(), &["plan", "--detailed-exitcode"], &env);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert_secret_free(&plan);
    let apply = run_with_env(&org, dir.path(), &["apply", "--auto-approve"], &env);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_secret_free(&apply);
    let again = run_with_env(
        &org,
        dir.path(),
        &["plan", "--detailed-exitcode", "-v"],
        &env,
    );
    assert_eq!(again.code, 0, "{again:?}");
    assert_secret_free(&again);
}

#[test]
fn a_bearer_token_from_a_file_is_read_under_the_key_file_rules() {
    let org = token_org();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    std::fs::write(dir.path().join("token"), format!("  {TOKEN}\n")).unwrap();
    let ok = run_with_env(
        &org,
        dir.path(),
        &["snapshot", "--auth-token-file", "token"],
        &[],
    );
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(ok.stdout.contains("snapshot_format"), "{}", ok.stdout);
    assert_secret_free(&ok);

    std::fs::create_dir(dir.path().join("a-directory")).unwrap();
    let not_a_file = run_with_env(
        &org,
        dir.path(),
        &["snapshot", "--auth-token-file", "a-directory"],
        &[],
    );
    assert_eq!(not_a_file.code, 1, "{not_a_file:?}");
    assert!(
        not_a_file.stderr.contains("--auth-token-file a-directory")
            && not_a_file.stderr.contains("not a regular file"),
        "{}",
        not_a_file.stderr
    );

    std::fs::write(dir.path().join("empty"), "\n").unwrap();
    let empty = run_with_env(
        &org,
        dir.path(),
        &["snapshot", "--auth-token-file", "empty"],
        &[],
    );
    assert_eq!(empty.code, 1, "{empty:?}");
    assert!(
        empty
            .stderr
            .contains("the oauth token from --auth-token-file empty is empty"),
        "{}",
        empty.stderr
    );
    assert!(
        org.emulator
            .request_log()
            .iter()
            .all(|r| r.status == Some(200))
    );
}

#[test]
fn an_unknown_token_gets_the_reference_401_and_is_never_echoed() {
    let org = token_org();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let wrong = "oauth-org-admin-CANARY-not-issued";
    let run = run_with_env(
        &org,
        dir.path(),
        &["plan"],
        &[("ANTHROPIC_AUTH_TOKEN", wrong)],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("authentication_error"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("invalid x-api-key"), "{}", run.stderr);
    assert!(!run.stderr.contains(wrong) && !run.stdout.contains(wrong));
}

#[test]
fn both_credentials_or_none_are_refused_with_a_hint_before_any_request() {
    let org = token_org();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let both = run_with_env(
        &org,
        dir.path(),
        &["plan"],
        &[
            ("ANTHROPIC_AUTH_TOKEN", TOKEN),
            ("ANTHROPIC_ADMIN_KEY", org.emulator.admin_key()),
        ],
    );
    assert_eq!(both.code, 1, "{both:?}");
    assert!(
        both.stderr.contains("ANTHROPIC_ADMIN_KEY")
            && both.stderr.contains("ANTHROPIC_AUTH_TOKEN")
            && both.stderr.contains("exactly one")
            && both.stderr.contains("hint:"),
        "{}",
        both.stderr
    );
    assert!(!both.stderr.contains(org.emulator.admin_key()));
    assert_secret_free(&both);

    std::fs::write(dir.path().join("token"), TOKEN).unwrap();
    let file_and_key = run_with_env(
        &org,
        dir.path(),
        &["plan", "--auth-token-file", "token"],
        &[("ANTHROPIC_ADMIN_KEY", org.emulator.admin_key())],
    );
    assert_eq!(file_and_key.code, 1, "{file_and_key:?}");
    assert!(
        file_and_key.stderr.contains("--auth-token-file token"),
        "{}",
        file_and_key.stderr
    );

    let none = run_with_env(&org, dir.path(), &["plan"], &[]);
    assert_eq!(none.code, 1, "{none:?}");
    assert!(
        none.stderr.contains("ANTHROPIC_AUTH_TOKEN") && none.stderr.contains("--admin-key-file"),
        "{}",
        none.stderr
    );
    assert!(org.emulator.request_log().is_empty(), "nothing was sent");
}

#[test]
fn a_bearer_token_obeys_the_loopback_rule() {
    let org = token_org();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let run = run_with_env(
        &org,
        dir.path(),
        &["plan", "--endpoint", "http://orgform.invalid"],
        &[("ANTHROPIC_AUTH_TOKEN", TOKEN)],
    );
    assert_eq!(run.code, 64, "{run:?}");
    assert!(run.stderr.contains("loopback"), "{}", run.stderr);
    assert_secret_free(&run);
}

/// The small seed converged to the demo manifest, then `dev.two` demoted in the Console by
/// `owner@acme.example` (recorded in the activity feed).
fn drifted_org(readings: orgform_emulator::Readings) -> (Org, tempfile::TempDir) {
    let org = Org::start_with(EmulatorConfig {
        seed: orgform_emulator::seeds::small(),
        test_controls: true,
        readings,
        ..EmulatorConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let apply = org.run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let dev_two = org
        .emulator
        .state()
        .users
        .into_iter()
        .find(|u| u.email == "dev.two@acme.example")
        .unwrap();
    org.demote_dev_two();
    let mut fields = serde_json::Map::new();
    fields.insert("user_id".into(), dev_two.id.clone().into());
    fields.insert("role".into(), "user".into());
    org.emulator
        .record_activity("owner@acme.example", "org_user_role_updated", fields);
    (org, dir)
}

#[test]
fn drift_attribute_names_who_changed_a_drifted_object() {
    let (org, dir) = drifted_org(orgform_emulator::Readings::default());
    let plain = org.run(dir.path(), &["drift"]);
    assert_eq!(plain.code, 2, "{plain:?}");
    assert!(!plain.stdout.contains("changed by"), "{}", plain.stdout);

    let text = org.run(dir.path(), &["drift", "--attribute"]);
    assert_eq!(text.code, 2, "{text:?}");
    let at = org.emulator.now();
    let line = format!("changed by owner@acme.example at {at} (org_user_role_updated)");
    let lines: Vec<&str> = text.stdout.lines().collect();
    let finding = lines
        .iter()
        .position(|l| l.contains("dev.two@acme.example") && l.contains("role"))
        .unwrap_or_else(|| panic!("{}", text.stdout));
    assert_eq!(lines[finding + 1].trim(), line, "{}", text.stdout);
    assert_eq!(
        text.stdout.matches("changed by").count(),
        1,
        "{}",
        text.stdout
    );

    let json = org.run(dir.path(), &["drift", "--attribute", "--format", "json"]);
    assert_eq!(json.code, 2, "{json:?}");
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let attribution = &report["attribution"];
    assert_eq!(attribution["available"], true);
    let (object, changes) = attribution["changes"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    assert!(object.contains("dev.two@acme.example"), "{object}");
    assert_eq!(changes[0]["by"], "owner@acme.example");
    assert_eq!(changes[0]["activity"], "org_user_role_updated");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["object"] == object.as_str()),
        "keyed by the finding's object"
    );
    let plain_json = org.run(dir.path(), &["drift", "--format", "json"]);
    assert!(
        !plain_json.stdout.contains("attribution"),
        "only with --attribute"
    );

    let markdown = org.run(
        dir.path(),
        &["drift", "--attribute", "--format", "markdown"],
    );
    assert_eq!(markdown.code, 2, "{markdown:?}");
    assert!(markdown.stdout.contains(&line), "{}", markdown.stdout);
}

#[test]
fn drift_attribute_sees_out_of_band_writes_through_the_api() {
    let (org, dir) = drifted_org(orgform_emulator::Readings::default());
    // Someone else switches a declared key off with the admin key, outside orgform.
    let key = org
        .emulator
        .state()
        .api_keys
        .into_iter()
        .find(|k| k.name == "staging-ci")
        .expect("the demo manifest declares staging-ci");
    let client = orgform_api::Client::new(
        orgform_api::ClientConfig {
            base_url: org.emulator.base_url(),
            rate_limit: None,
            ..orgform_api::ClientConfig::default()
        },
        orgform_api::AdminKey::new(org.emulator.admin_key()).unwrap(),
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(client.update_api_key(
            &key.id,
            &orgform_api::UpdateApiKey {
                name: None,
                status: Some(orgform_model::ApiKeyStatus::Inactive),
            },
        ))
        .unwrap();
    let run = org.run(dir.path(), &["drift", "--attribute"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.contains("(platform_api_key_updated)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("changed by admin api key apikey_"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_unavailable_activity_feed_is_said_once_and_the_exit_code_kept() {
    for (reading, status) in [
        (
            orgform_emulator::readings::ActivityFeed::Forbidden,
            "http 403 permission_error",
        ),
        (
            orgform_emulator::readings::ActivityFeed::NotFound,
            "http 404 not_found_error",
        ),
    ] {
        let (org, dir) = drifted_org(orgform_emulator::Readings {
            activity_feed: reading,
            ..orgform_emulator::Readings::default()
        });
        let plain = org.run(dir.path(), &["drift"]);
        for format in ["text", "markdown", "json"] {
            let run = org.run(dir.path(), &["drift", "--attribute", "--format", format]);
            assert_eq!(run.code, plain.code, "{format}: {run:?}");
            assert_eq!(
                run.stdout.matches("activity feed not available").count(),
                1,
                "{format}: {}",
                run.stdout
            );
            assert!(run.stdout.contains(status), "{format}: {}", run.stdout);
            assert!(!run.stdout.contains("changed by"), "{}", run.stdout);
        }
    }
}

/// The demo manifest with `settings.api_keys.unused_days: DAYS`.
fn unused_days_manifest(dir: &std::path::Path, days: i64) {
    let path = demo_manifest(dir);
    let text = std::fs::read_to_string(&path).unwrap();
    let from = "  api_keys:\n    unmanaged: report\n";
    assert!(
        text.contains(from),
        "the demo manifest sets api_keys.unmanaged"
    );
    let text = text.replacen(from, &format!("{from}    unused_days: {days}\n"), 1);
    std::fs::write(path, text).unwrap();
}

#[test]
fn drift_reports_active_keys_without_usage_and_never_guesses() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    unused_days_manifest(dir.path(), 30);
    let validate = org.run(dir.path(), &["validate"]);
    assert_eq!(validate.code, 0, "{validate:?}");
    let apply = org.run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let now = org.emulator.now();
    let old_active: Vec<orgform_model::ApiKey> = org
        .emulator
        .state()
        .api_keys
        .into_iter()
        .filter(|k| {
            k.status == orgform_model::ApiKeyStatus::Active
                && now.duration_since(k.created_at) >= jiff::SignedDuration::from_hours(24 * 30)
        })
        .collect();
    assert!(old_active.len() >= 2, "the small seed has old active keys");
    let (used, idle) = old_active.split_at(1);
    org.emulator.record_usage(orgform_emulator::UsageRecord {
        api_key_id: Some(used[0].id.clone()),
        workspace_id: used[0].workspace_id.clone(),
        model: "claude-sonnet-4-5".to_owned(),
        at: now - jiff::SignedDuration::from_hours(24 * 2),
        uncached_input_tokens: 10,
        output_tokens: 5,
    });
    let run = org.run(dir.path(), &["drift", "--format", "json"]);
    assert_eq!(run.code, 2, "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let unused: Vec<&str> = report["hygiene"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == "key_unused")
        .map(|h| h["object"].as_str().unwrap())
        .collect();
    for key in idle {
        assert!(
            unused.iter().any(|o| o.contains(&key.id)),
            "{} is reported: {unused:?}",
            key.id
        );
    }
    assert!(
        !unused.iter().any(|o| o.contains(&used[0].id)),
        "a used key is not reported"
    );
    let text = org.run(dir.path(), &["drift"]);
    assert!(
        text.stdout.contains("no usage in the last 30 days"),
        "{}",
        text.stdout
    );

    // The report refused: said once, no key called unused, the exit code as without it.
    let refused = Org::start_with(EmulatorConfig {
        seed: org.emulator.state(),
        test_controls: true,
        readings: orgform_emulator::Readings {
            usage_report: orgform_emulator::readings::UsageReport::Forbidden,
            ..orgform_emulator::Readings::default()
        },
        ..EmulatorConfig::default()
    });
    let run = refused.run(dir.path(), &["drift"]);
    assert!(
        run.stdout
            .contains("usage report not available: http 403 permission_error"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("no usage in the last"),
        "{}",
        run.stdout
    );
    let other_dir = tempfile::tempdir().unwrap();
    demo_manifest(other_dir.path());
    let without = refused.run(other_dir.path(), &["drift"]);
    assert_eq!(run.code, without.code, "{run:?}\n{without:?}");
}

#[test]
fn unused_days_outside_one_to_365_is_an_invalid_manifest() {
    let org = Org::small();
    for days in [0, 366] {
        let dir = tempfile::tempdir().unwrap();
        unused_days_manifest(dir.path(), days);
        let run = org.run(dir.path(), &["validate"]);
        assert_eq!(run.code, 4, "{run:?}");
        assert!(run.stderr.contains("unused_days"), "{}", run.stderr);
        assert!(run.stderr.contains("outside 1-365"), "{}", run.stderr);
        assert!(
            run.stderr.contains("org.yaml"),
            "names the file: {}",
            run.stderr
        );
    }
}
