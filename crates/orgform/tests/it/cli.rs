//! The real binary against the emulator: exit codes of the CLI contract, confirmation,
//! saved plans, organization pin, credentials and URL policy.

use std::time::Duration;

use crate::common::{self, Org, demo_manifest, send_signal, wait_for, write_replaced};

#[test]
fn plan_then_apply_then_plan_reports_exit_codes() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let plan = org.run(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "changes pending: {plan:?}");
    assert!(
        plan.stdout
            .contains("Plan: 5 to add, 5 to change, 1 to remove"),
        "{}",
        plan.stdout
    );
    assert!(
        org.writes().is_empty(),
        "plan writes nothing: {:?}",
        org.writes()
    );

    let without_flag = org.run(dir.path(), &["plan"]);
    assert_eq!(
        without_flag.code, 0,
        "without --detailed-exitcode changes are success"
    );

    let apply = org.run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        apply
            .stdout
            .contains("Apply: 11 done, 0 already done, 0 failed"),
        "{}",
        apply.stdout
    );

    let again = org.run(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(
        again.code, 0,
        "converged (deferred and pending are not changes): {again:?}"
    );
    assert!(again.stdout.contains("No changes."));
}

#[test]
fn apply_refuses_without_a_terminal_or_auto_approve() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let run = org.run(dir.path(), &["apply"]);
    assert_eq!(run.code, 64, "{run:?}");
    assert!(
        run.stderr.contains("stdin is not a terminal"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--auto-approve"), "{}", run.stderr);
    assert!(
        org.writes().is_empty(),
        "nothing written: {:?}",
        org.writes()
    );
}

#[test]
fn a_saved_plan_applies_when_fresh_and_is_refused_when_stale() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let manifest = demo_manifest(dir.path());

    // Saves a plan, lets `change` happen, and expects apply to refuse naming `reason`.
    let refused_after = |change: &dyn Fn(), reason: &str| {
        let saved = org.run(dir.path(), &["plan", "--out", "plan.json"]);
        assert_eq!(saved.code, 0, "{saved:?}");
        change();
        let stale = org.run(dir.path(), &["apply", "plan.json", "--auto-approve"]);
        assert_eq!(stale.code, 3, "{stale:?}");
        assert!(stale.stderr.contains(reason), "{}", stale.stderr);
        assert!(
            org.writes().is_empty(),
            "nothing written: {:?}",
            org.writes()
        );
    };
    // Stale live state: an out-of-band change after the plan was saved.
    refused_after(
        &|| {
            org.emulator.modify(|state| {
                let user = state
                    .users
                    .iter_mut()
                    .find(|u| u.email == "dev.two@acme.example")
                    .unwrap();
                user.role = orgform_model::OrgRole::User;
            });
        },
        "the live organization changed",
    );
    // Stale manifest.
    refused_after(
        &|| {
            let text = std::fs::read_to_string(&manifest).unwrap();
            let edited = text.replace("role: user                 # new", "role: developer");
            std::fs::write(&manifest, edited).unwrap();
        },
        "the manifest changed",
    );

    // Fresh: applies, then nothing is left.
    let saved = org.run(dir.path(), &["plan", "--out", "plan.json"]);
    assert_eq!(saved.code, 0);
    let applied = org.run(dir.path(), &["apply", "plan.json", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert!(!org.writes().is_empty());
    let again = org.run(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again:?}");
}

#[test]
fn organization_mismatch_is_refused_before_reading_the_org() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    common::other_organization_manifest(dir.path());
    for command in [&["plan"][..], &["apply", "--auto-approve"], &["drift"]] {
        org.emulator.clear_request_log();
        let run = org.run(dir.path(), command);
        assert_eq!(run.code, 3, "{command:?}: {run:?}");
        assert!(
            run.stderr.contains("organization mismatch"),
            "{}",
            run.stderr
        );
        let paths: Vec<String> = org
            .emulator
            .request_log()
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(
            paths,
            vec!["/v1/organizations/me".to_owned()],
            "only /me was read"
        );
    }
}

#[test]
fn plan_apply_and_drift_read_the_organization_once_and_no_archived_members() {
    let org = Org::small();
    let archived: Vec<String> = org
        .emulator
        .state()
        .workspaces
        .iter()
        .filter(|w| w.is_archived())
        .map(|w| format!("/v1/organizations/workspaces/{}/members", w.id))
        .collect();
    assert!(!archived.is_empty(), "the sample has an archived workspace");
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    for command in [&["plan"][..], &["apply", "--auto-approve"], &["drift"]] {
        org.emulator.clear_request_log();
        let run = org.run(dir.path(), command);
        assert!(run.code == 0 || run.code == 2, "{command:?}: {run:?}");
        let log = org.emulator.request_log();
        let me = log
            .iter()
            .filter(|r| r.path == "/v1/organizations/me")
            .count();
        assert_eq!(me, 1, "{command:?}: GET /me once per run");
        assert!(
            log.iter().all(|r| !archived.contains(&r.path)),
            "{command:?}: an archived workspace's members were read"
        );
    }
    // `snapshot` is the complete record: archived workspaces' members included.
    org.emulator.clear_request_log();
    let snapshot = org.run(dir.path(), &["snapshot"]);
    assert_eq!(snapshot.code, 0, "{snapshot:?}");
    let log = org.emulator.request_log();
    assert!(archived.iter().all(|p| log.iter().any(|r| &r.path == p)));
}

#[test]
fn an_invalid_manifest_exits_4_and_touches_nothing() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("org.yaml"),
        "version: 1\norganization: {id: nope}\nmembrs: []\n",
    )
    .unwrap();
    for command in [&["plan"][..], &["apply", "--auto-approve"], &["drift"]] {
        let run = org.run(dir.path(), command);
        assert_eq!(run.code, 4, "{command:?}: {run:?}");
        assert!(run.stderr.contains("org.yaml"), "{}", run.stderr);
    }
    assert!(
        org.emulator.request_log().is_empty(),
        "no request before the manifest is valid"
    );
}

#[test]
fn drift_exit_codes() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let before = org.run(dir.path(), &["drift"]);
    assert_eq!(before.code, 2, "{before:?}");
    assert!(org.writes().is_empty(), "drift never writes");
    let apply = org.run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0);
    // The demo manifest reports two unmanaged objects (Research, default-playground): drift.
    let after = org.run(dir.path(), &["drift", "--format", "json"]);
    assert_eq!(after.code, 2, "{after:?}");
    let json: serde_json::Value = serde_json::from_str(&after.stdout).unwrap();
    assert!(json.is_object());
    let text = std::fs::read_to_string(dir.path().join("org.yaml")).unwrap();
    std::fs::write(
        dir.path().join("org.yaml"),
        text.replace(
            "unmanaged: report          # Research",
            "unmanaged: archive          # Research",
        )
        .replace(
            "  api_keys:\n    unmanaged: report",
            "  api_keys:\n    unmanaged: ignore",
        ),
    )
    .unwrap();
    let apply = org.run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let clean = org.run(dir.path(), &["drift"]);
    assert_eq!(clean.code, 0, "{clean:?}");
}

#[test]
fn credentials_and_endpoint_errors_are_clear() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let missing = assert_cmd::Command::cargo_bin("orgform")
        .unwrap()
        .current_dir(dir.path())
        .args(["plan", "--endpoint", &org.emulator.base_url()])
        .env_remove("ANTHROPIC_ADMIN_KEY")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("ANTHROPIC_ADMIN_KEY") && stderr.contains("--admin-key-file"),
        "{stderr}"
    );

    let plain_http = org.run(
        dir.path(),
        &["plan", "--endpoint", "http://orgform.invalid"],
    );
    assert_eq!(plain_http.code, 64, "{plain_http:?}");
    assert!(
        plain_http.stderr.contains("loopback"),
        "{}",
        plain_http.stderr
    );

    let wrong_key = org.run_with_key(dir.path(), &["plan"], "sk-ant-admin01-wrong");
    assert_eq!(wrong_key.code, 1, "{wrong_key:?}");
    assert!(
        wrong_key.stderr.contains("authentication_error"),
        "{}",
        wrong_key.stderr
    );

    let usage = org.run(dir.path(), &["plan", "--no-such-flag"]);
    assert_eq!(
        usage.code, 64,
        "bad flags are usage errors, not 2: {usage:?}"
    );

    let key_file = dir.path().join("key");
    std::fs::write(&key_file, format!("  {}\n", org.emulator.admin_key())).unwrap();
    let from_file = assert_cmd::Command::cargo_bin("orgform")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "plan",
            "--rate-limit",
            "0",
            "--endpoint",
            &org.emulator.base_url(),
        ])
        .arg("--admin-key-file")
        .arg(&key_file)
        .env_remove("ANTHROPIC_ADMIN_KEY")
        .output()
        .unwrap();
    assert_eq!(
        from_file.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&from_file.stderr)
    );
}

/// Runs `orgform apply` with a terminal on stdin (through `script`, which gives the child a
/// pseudo-terminal), answering the prompt with `answer`.
fn apply_on_a_terminal(org: &Org, dir: &std::path::Path, answer: &str) -> (i32, String) {
    let binary = assert_cmd::cargo::cargo_bin("orgform");
    let command = format!(
        "{} apply --rate-limit 0 --now {}",
        binary.display(),
        org.emulator.now()
    );
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .env("ANTHROPIC_BASE_URL", org.emulator.base_url())
        .env("ANTHROPIC_ADMIN_KEY", org.emulator.admin_key())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{answer}\n").as_bytes())?;
            child.wait_with_output()
        })
        .expect("`script` (util-linux) runs the binary on a pseudo-terminal");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn apply_on_a_terminal_needs_yes_typed_in_full() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    for answer in ["y", "no", "YES please"] {
        let (code, out) = apply_on_a_terminal(&org, dir.path(), answer);
        assert_eq!(code, 1, "{answer:?}: {out}");
        assert!(out.contains("Only 'yes' will be accepted"), "{out}");
        assert!(
            out.contains("apply cancelled; nothing was changed"),
            "{out}"
        );
        assert!(org.writes().is_empty(), "{answer:?} changed nothing");
    }
    let (code, out) = apply_on_a_terminal(&org, dir.path(), "yes");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Apply: 11 done"), "{out}");
}

#[test]
fn a_refused_plan_says_why_on_stderr_in_every_format() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let manifest = demo_manifest(dir.path());
    let text = std::fs::read_to_string(&manifest).unwrap();
    // Removing every unlisted member of 8 with a limit of 0 is refused.
    write_replaced(&manifest, &text, "max_destructive: 5", "max_destructive: 0");
    for format in ["text", "json", "markdown"] {
        let run = org.run(dir.path(), &["plan", "--format", format]);
        assert_eq!(run.code, 3, "{run:?}");
        assert!(run.stderr.contains("refused:"), "{}", run.stderr);
        assert!(run.stderr.contains("--allow-destructive"), "{}", run.stderr);
    }
    let allowed = org.run(dir.path(), &["plan", "--allow-destructive", "5"]);
    assert_eq!(allowed.code, 0, "{allowed:?}");
    let apply = org.run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 3, "{apply:?}");
    assert!(org.writes().is_empty(), "a refused plan writes nothing");
}

#[test]
fn ctrl_c_during_apply_stops_cleanly_and_the_next_run_converges() {
    let org = Org::slow_small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let child = org.spawn_apply(dir.path());
    // Wait until the apply has made a few writes, then interrupt it.
    wait_for("the apply writing", Duration::from_secs(20), || {
        org.writes().len() >= 3
    });
    send_signal(&child, "INT");
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("interrupt: finishing the requests in flight"),
        "{stderr}"
    );
    assert!(
        stdout.contains("Interrupted: actions marked \"not done\" were not started"),
        "{stdout}"
    );
    org.assert_stopped_early_then_converges(dir.path());
}

#[test]
fn a_deferred_grant_happens_on_the_first_run_after_the_invite_is_accepted() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let first = org.run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains("1 deferred"), "{}", first.stdout);

    org.emulator.accept_invite("grace@acme.example").unwrap();
    let plan = org.run(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout
            .contains("add workspace member grace@acme.example in Data Science"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("0 deferred"), "{}", plan.stdout);
    let second = org.run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(second.code, 0, "{second:?}");
    let grace = org.emulator.state();
    let grace_id = &grace.user_by_email("grace@acme.example").unwrap().id;
    assert!(
        grace
            .workspace_members
            .iter()
            .any(|m| &m.user_id == grace_id && m.workspace_role.as_str() == "workspace_developer"),
        "grace was added to Data Science"
    );
    let last = org.run(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(last.code, 0, "{last:?}");
}
