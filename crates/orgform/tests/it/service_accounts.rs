//! Service accounts through the binary: read, planned and applied only with an OAuth bearer
//! token, the protection override flag, and a plan error (never a plan) with an admin key.

use orgform_emulator::EmulatorConfig;
use orgform_model::{Identities, ServiceAccount, ServiceAccountRole};

use crate::common::{Org, Run};

const TOKEN: &str = "oauth-org-admin-CANARY-token-0002";

fn org() -> Org {
    let mut seed = orgform_emulator::seeds::small();
    seed.identities = Some(Identities {
        service_accounts: vec![ServiceAccount {
            id: "svac_old".into(),
            name: "old-bot".into(),
            description: None,
            organization_role: ServiceAccountRole::Developer,
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            archived_at: None,
        }],
        ..Identities::default()
    });
    Org::start_with(EmulatorConfig {
        seed,
        bearer_tokens: vec![TOKEN.to_owned()],
        test_controls: true,
        ..EmulatorConfig::default()
    })
}

const MANIFEST: &str = "version: 1
organization:
  id: 4f6b2a1e-8c3d-4e5f-9a7b-1c2d3e4f5a6b
settings:
  members: {unmanaged: ignore}
  invites: {unmanaged: ignore}
  workspaces: {unmanaged: ignore}
  protected_service_accounts: [old-bot]
service_accounts:
  - name: old-bot
    archived: true
  - name: ci-bot
    description: runs orgform
";

/// `orgform ARGS` with the bearer token only.
fn run_token(org: &Org, dir: &std::path::Path, args: &[&str]) -> Run {
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
        .env("ANTHROPIC_AUTH_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .write_stdin("");
    let run: Run = cmd.output().unwrap().into();
    assert!(!run.stdout.contains("CANARY") && !run.stderr.contains("CANARY"));
    run
}

fn archived(org: &Org) -> bool {
    org.emulator
        .state_read_by_token()
        .identities
        .unwrap()
        .service_accounts
        .iter()
        .any(|s| s.name == "old-bot" && s.is_archived())
}

#[test]
fn a_protected_archive_waits_for_the_override_flag() {
    let org = org();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.yaml"), MANIFEST).unwrap();
    let plan = run_token(&org, dir.path(), &["plan"]);
    assert!(plan.stdout.contains("service account ci-bot"), "{plan:?}");
    assert!(
        plan.stdout.contains("protected_service_accounts"),
        "{plan:?}"
    );
    let apply = run_token(&org, dir.path(), &["apply", "--auto-approve"]);
    assert!(!archived(&org), "{apply:?}");
    assert!(
        apply.stdout.contains("done      #1 service account ci-bot"),
        "{apply:?}"
    );
    let apply = run_token(
        &org,
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--archive-protected-service-accounts",
        ],
    );
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(archived(&org), "{apply:?}");
    let again = run_token(&org, dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
    let snapshot = run_token(&org, dir.path(), &["snapshot"]);
    assert!(snapshot.stdout.contains("ci-bot"), "{snapshot:?}");
    let export = run_token(&org, dir.path(), &["export"]);
    assert!(export.stdout.contains("- name: ci-bot"), "{export:?}");
}

#[test]
fn an_admin_key_plan_of_service_accounts_is_an_error_with_the_hint() {
    let org = org();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.yaml"), MANIFEST).unwrap();
    let plan = org.run(dir.path(), &["plan"]);
    assert_ne!(plan.code, 0, "{plan:?}");
    let text = format!("{}{}", plan.stdout, plan.stderr);
    assert!(text.contains("OAuth bearer token"), "{text}");
    assert!(text.contains("--auth-token-file"), "{text}");
    assert!(org.writes().is_empty());
}
