//! What a pipeline sees: a body on stdout for every outcome of `plan` and `drift` under
//! `--format json|markdown`, `unmanaged: ignore` letting `drift` go green, progress lines and
//! structured logs without a terminal, the colour variables, and usage errors and hints.

use std::path::Path;

use crate::common::{Org, Run, demo_manifest, other_organization_manifest};

const INVALID: &str = "version: 1\norganization: {id: 4f6b2a1e-8c3d-4e5f-9a7b-1c2d3e4f5a6b}\nmembers:\n  - {email: a@acme.example, rol: developer}\n";

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}): {run:?}"))
}

/// `orgform ARGS` with no emulator behind it: offline checks and usage errors.
fn offline(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = assert_cmd::Command::cargo_bin("orgform").unwrap();
    command
        .current_dir(dir)
        .args(args)
        .env_remove("ANTHROPIC_BASE_URL")
        .env_remove("ANTHROPIC_ADMIN_KEY")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("RUST_LOG")
        .write_stdin("");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap().into()
}

#[test]
fn an_invalid_manifest_gives_a_located_body_in_json_and_markdown() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.yaml"), INVALID).unwrap();
    for command in ["plan", "drift"] {
        let run = org.run(dir.path(), &[command, "--format", "json"]);
        assert_eq!(run.code, 4, "{run:?}");
        let body = json(&run);
        assert_eq!(body["command"], command);
        assert_eq!(body["outcome"], "invalid_manifest");
        assert_eq!(body["exit_code"], 4);
        assert_eq!(body["refusal"], serde_json::Value::Null);
        let errors = body["errors"].as_array().unwrap();
        assert!(!errors.is_empty(), "{body}");
        assert_eq!(errors[0]["file"], "org.yaml");
        assert_eq!(errors[0]["line"], 4, "{body}");
        assert!(
            errors[0]["message"].as_str().unwrap().contains("rol"),
            "{body}"
        );
        assert!(
            run.stderr.contains("org.yaml"),
            "stderr is unchanged: {}",
            run.stderr
        );

        let run = org.run(dir.path(), &[command, "--format", "markdown"]);
        assert_eq!(run.code, 4, "{run:?}");
        assert!(
            run.stdout.starts_with(&format!(
                "### orgform {command}: the manifest is invalid (exit 4)"
            )),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("org.yaml:4:"), "{}", run.stdout);
        assert!(run.stdout.contains("orgform validate"), "{}", run.stdout);
    }
    assert!(org.emulator.request_log().is_empty());
}

#[test]
fn an_organization_mismatch_gives_a_refusal_body() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    other_organization_manifest(dir.path());
    let run = org.run(
        dir.path(),
        &["plan", "--format", "json", "--detailed-exitcode"],
    );
    assert_eq!(run.code, 3, "{run:?}");
    let body = json(&run);
    assert_eq!(body["outcome"], "refused");
    assert_eq!(body["refusal"]["kind"], "organization_mismatch");
    assert_eq!(
        body["refusal"]["manifest_organization_id"],
        "11111111-2222-4333-8444-555555555555"
    );
    assert_eq!(
        body["refusal"]["key_organization"]["id"],
        "4f6b2a1e-8c3d-4e5f-9a7b-1c2d3e4f5a6b"
    );
    assert!(
        body["hint"].as_str().unwrap().contains("organization.id"),
        "{body}"
    );

    let run = org.run(dir.path(), &["drift", "--format", "markdown"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout
            .starts_with("### orgform drift: refused (exit 3)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("organization mismatch"),
        "{}",
        run.stdout
    );
    // Text output is unchanged: stderr says it, stdout stays empty.
    let run = org.run(dir.path(), &["plan"]);
    assert_eq!((run.code, run.stdout.as_str()), (3, ""), "{run:?}");
}

#[test]
fn a_connection_failure_names_the_endpoint_and_gives_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let run = offline(
        dir.path(),
        &[
            "plan",
            "--endpoint",
            &endpoint,
            "--max-retries",
            "0",
            "--format",
            "json",
        ],
        &[("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-test")],
    );
    assert_eq!(run.code, 1, "{run:?}");
    let first = run.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("error: cannot reach the Admin API at {endpoint}")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("beta=true"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: check the endpoint"),
        "{}",
        run.stderr
    );
    // Each cause once: no line says the same thing twice.
    for line in run.stderr.lines() {
        let parts: Vec<&str> = line.split(": ").collect();
        for (i, part) in parts.iter().enumerate() {
            assert!(
                part.len() < 8 || !parts[i + 1..].contains(part),
                "{part:?} repeated in {line:?}"
            );
        }
    }
    let body = json(&run);
    assert_eq!(body["outcome"], "error");
    assert_eq!(body["exit_code"], 1);
    assert!(!body["causes"].as_array().unwrap().is_empty(), "{body}");
}

#[test]
fn with_unmanaged_ignore_drift_is_clean_right_after_an_apply() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let path = demo_manifest(dir.path());
    let text = std::fs::read_to_string(&path).unwrap();
    let ignoring = text
        .replace(
            "unmanaged: remove          # ursula",
            "unmanaged: ignore          # ursula",
        )
        .replace(
            "  invites:\n    unmanaged: report",
            "  invites:\n    unmanaged: ignore",
        )
        .replace(
            "unmanaged: report          # Research",
            "unmanaged: ignore          # Research",
        )
        .replace(
            "  api_keys:\n    unmanaged: report",
            "  api_keys:\n    unmanaged: ignore",
        );
    assert_eq!(
        ignoring.matches("unmanaged: ignore").count(),
        4,
        "{ignoring}"
    );
    std::fs::write(&path, &ignoring).unwrap();
    assert_eq!(org.run(dir.path(), &["validate"]).code, 0);
    let apply = org.run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        !apply.stdout.contains("ursula"),
        "ignored, not removed: {}",
        apply.stdout
    );
    let plan = org.run(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(!plan.stdout.contains("Unmanaged"), "{}", plan.stdout);
    let drift = org.run(dir.path(), &["drift", "--format", "json"]);
    assert_eq!(drift.code, 0, "{drift:?}");
    assert_eq!(json(&drift)["summary"]["unmanaged"], 0);

    // The same organization under `report`: the objects left alone are drift.
    std::fs::write(
        &path,
        ignoring.replace(
            "unmanaged: ignore          # Research",
            "unmanaged: report          # Research",
        ),
    )
    .unwrap();
    let drift = org.run(dir.path(), &["drift"]);
    assert_eq!(drift.code, 2, "{drift:?}");
    assert!(
        drift.stdout.contains("workspace Research"),
        "{}",
        drift.stdout
    );
}

#[test]
fn without_a_terminal_a_read_prints_progress_lines_and_json_logs_are_structured() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let plan = org.run(dir.path(), &["plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stderr.contains("read 8 members"), "{}", plan.stderr);
    // Three active workspaces: a plan does not read the archived one's members.
    assert!(
        plan.stderr.contains("read the members of 3/3 workspaces"),
        "{}",
        plan.stderr
    );
    // Once read: the collections (users, invites, keys, workspaces and three member lists)
    // and every request the run sent, as the emulator counted them.
    let requests = org.emulator.request_log().len();
    let summary = format!("read 7/7 collections, {requests} requests (");
    assert!(plan.stderr.contains(&summary), "{summary}\n{}", plan.stderr);
    let quiet = org.run(dir.path(), &["plan", "-q"]);
    assert!(!quiet.stderr.contains("read "), "{}", quiet.stderr);
    // -v adds one line per request.
    let verbose = org.run(dir.path(), &["plan", "-v"]);
    assert!(
        verbose.stderr.lines().any(|l| l.contains("response")
            && l.contains("path=/v1/organizations/users")
            && l.contains("status=200")),
        "{}",
        verbose.stderr
    );
    // RUST_LOG replaces the level: debug lines of the client without -v.
    let rust_log = assert_cmd::Command::cargo_bin("orgform")
        .unwrap()
        .current_dir(dir.path())
        .args(["plan", "--rate-limit", "0"])
        .env("ANTHROPIC_BASE_URL", org.emulator.base_url())
        .env("ANTHROPIC_ADMIN_KEY", org.emulator.admin_key())
        .env("RUST_LOG", "orgform_api=debug")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&rust_log.stderr);
    assert!(stderr.contains("DEBUG"), "{stderr}");

    let apply = org.run(
        dir.path(),
        &["apply", "--auto-approve", "-v", "--log-format", "json"],
    );
    assert_eq!(apply.code, 0, "{apply:?}");
    let mut finished = 0;
    for line in apply.stderr.lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for (name, value) in event["fields"].as_object().unwrap() {
            if let Some(text) = value.as_str() {
                for debug in ["Some(", "AlreadyDone {", "Done {", "{ note:", "Duration"] {
                    assert!(!text.contains(debug), "{name}={text:?} in {line}");
                }
            }
        }
        if event["fields"]["message"] == "action finished" {
            finished += 1;
            assert_eq!(event["fields"]["outcome"], "done", "{line}");
        }
    }
    assert_eq!(finished, 11, "{}", apply.stderr);
}

#[test]
fn colour_follows_clicolor_force_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.yaml"), INVALID).unwrap();
    let ansi = |run: &Run| run.stderr.contains("\u{1b}[");
    let plain = offline(dir.path(), &["validate"], &[]);
    assert_eq!(plain.code, 4);
    assert!(!ansi(&plain), "no terminal, no colour");
    let forced = offline(dir.path(), &["validate"], &[("CLICOLOR_FORCE", "1")]);
    assert!(ansi(&forced), "{}", forced.stderr);
    let both = offline(
        dir.path(),
        &["validate"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(!ansi(&both), "NO_COLOR wins");
    let never = offline(
        dir.path(),
        &["validate", "--color", "never"],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(!ansi(&never));
}

#[test]
fn usage_errors_exit_64_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let bare = offline(dir.path(), &[], &[]);
    assert_eq!(bare.code, 64, "{bare:?}");
    assert!(
        bare.stdout.is_empty(),
        "help goes to stderr: {}",
        bare.stdout
    );
    assert!(bare.stderr.contains("Usage: orgform"), "{}", bare.stderr);

    demo_manifest(dir.path());
    let not_a_url = offline(
        dir.path(),
        &["plan", "--endpoint", "notaurl"],
        &[("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-test")],
    );
    assert_eq!(not_a_url.code, 64, "{not_a_url:?}");
    assert!(
        not_a_url.stderr.contains("is not a URL"),
        "{}",
        not_a_url.stderr
    );
    assert!(
        not_a_url
            .stderr
            .contains("hint: give the Admin API base URL"),
        "{}",
        not_a_url.stderr
    );

    // A URL the policy refuses is a usage error too: plain http off loopback, and a URL
    // with credentials in it (which the message does not repeat).
    for (endpoint, hint) in [
        (
            "http://api.orgform.invalid",
            "hint: plain http would carry the admin key",
        ),
        (
            "https://user:hunter2@api.orgform.invalid",
            "hint: give the Admin API base URL alone",
        ),
    ] {
        let refused = offline(
            dir.path(),
            &["plan", "--endpoint", endpoint],
            &[("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-test")],
        );
        assert_eq!(refused.code, 64, "{refused:?}");
        assert!(
            refused.stderr.starts_with("error: the endpoint ")
                && refused.stderr.contains("api.orgform.invalid")
                && refused.stderr.contains(" is refused: "),
            "{}",
            refused.stderr
        );
        assert!(refused.stderr.contains(hint), "{}", refused.stderr);
        assert!(!refused.stderr.contains("hunter2"), "{}", refused.stderr);
        assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    }
}

#[test]
fn a_manifest_given_as_a_plan_file_gets_a_did_you_mean_hint() {
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let run = offline(
        dir.path(),
        &["apply", "org.yaml"],
        &[("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-test")],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr
            .contains("org.yaml looks like a manifest, not a saved plan: did you mean `orgform apply -f org.yaml`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn offline_commands_do_not_list_connection_flags() {
    let dir = tempfile::tempdir().unwrap();
    for command in orgform::cli::OFFLINE_COMMANDS {
        let help = offline(dir.path(), &[command, "--help"], &[]);
        assert_eq!(help.code, 0, "{command}: {help:?}");
        for flag in [
            "--endpoint",
            "--admin-key-file",
            "--timeout",
            "--max-retries",
            "--rate-limit",
        ] {
            let listed = format!("{flag} <");
            assert!(
                !help.stdout.contains(&listed),
                "{command} --help lists {flag}"
            );
        }
    }
    for command in ["plan", "apply", "drift", "snapshot", "export", "doctor"] {
        let help = offline(dir.path(), &[command, "--help"], &[]);
        assert!(
            help.stdout.contains("--endpoint <URL>"),
            "{command} --help lacks --endpoint"
        );
    }
}

#[test]
fn the_manual_page_and_the_completions_the_readme_installs_are_generated() {
    let dir = tempfile::tempdir().unwrap();
    let page = offline(dir.path(), &["man"], &[]);
    assert_eq!(page.code, 0, "{page:?}");
    assert!(
        page.stdout.starts_with(".ie \\n(.g .ds Aq") || page.stdout.contains(".TH orgform 1"),
        "{}",
        &page.stdout[..200.min(page.stdout.len())]
    );
    assert!(page.stdout.contains(".TH orgform 1"), "a roff page");
    assert!(page.stdout.contains("plan"));
    let out = dir.path().join("man1");
    let written = offline(dir.path(), &["man", "--out", out.to_str().unwrap()], &[]);
    assert_eq!(written.code, 0, "{written:?}");
    for page in ["orgform.1", "orgform-plan.1", "orgform-drift.1"] {
        let text = std::fs::read_to_string(out.join(page)).unwrap();
        assert!(text.contains(".TH"), "{page}");
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    for shell in ["bash", "zsh", "fish"] {
        assert!(
            readme.contains(&format!("orgform completions {shell} > ")),
            "{shell}"
        );
        let script = offline(dir.path(), &["completions", shell], &[]);
        assert_eq!(script.code, 0);
        assert!(script.stdout.contains("detailed-exitcode"), "{shell}");
    }
}
