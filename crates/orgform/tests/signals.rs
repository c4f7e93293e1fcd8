//! SIGINT, SIGTERM and SIGHUP at each phase of a run: while reading the organization (plan
//! with `--out`) and while writing (apply). The process must end promptly, leave no
//! half-written `--out` file or stray temporary file, and the next run must converge.
//! Rows of docs/reliability.md cite these tests by name.

mod common;
#[path = "support/raw_http.rs"]
mod raw_http;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Org, demo_manifest};
use raw_http::{Reply, Server};

/// Sends `signal` (a name such as `TERM`) to `child` and waits for it to end; returns how
/// long that took and the exit status.
fn signal_and_wait(child: &mut Child, signal: &str) -> (Duration, std::process::ExitStatus) {
    let sent = Instant::now();
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} failed");
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (sent.elapsed(), status);
        }
        if sent.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("still running 30 s after SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "never saw: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `plan --out plan.json` against a server that never answers the user list; the signal
/// arrives while the read is in flight.
fn during_plan(signal: &str) {
    let server = Server::start(|seen| match seen.path.as_str() {
        "/v1/organizations/me" => Reply::json(
            200,
            &serde_json::json!({"id": "6f0c2a4e-0000-4000-8000-000000000001", "type": "organization", "name": "Slow"}),
        ),
        "/v1/organizations/users" => Reply::Silent,
        _ => Reply::json(
            200,
            &serde_json::json!({"data": [], "has_more": false, "first_id": null, "last_id": null}),
        ),
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("org.yaml"),
        "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_orgform"))
        .args(["plan", "--out", "plan.json"])
        .current_dir(dir.path())
        .env("ANTHROPIC_BASE_URL", &server.url)
        .env("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-signals-0000")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the user list requested", || {
        server.hits("/v1/organizations/users") > 0
    });
    let (took, status) = signal_and_wait(&mut child, signal);
    assert!(took < Duration::from_secs(5), "SIG{signal} took {took:?}");
    assert!(
        !status.success(),
        "an interrupted plan must not report success"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "org.yaml")
        .collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

#[test]
fn sigint_during_plan_ends_promptly_without_an_out_file() {
    during_plan("INT");
}

#[test]
fn sigterm_during_plan_ends_promptly_without_an_out_file() {
    during_plan("TERM");
}

#[test]
fn sighup_during_plan_ends_promptly_without_an_out_file() {
    during_plan("HUP");
}

/// `apply` against a slow emulator; the signal arrives after a few writes. The process ends
/// promptly, and the next run converges without repeating what was done.
fn during_apply(signal: &str) {
    let org = Org::start_with(orgform_emulator::EmulatorConfig {
        seed: orgform_emulator::seeds::small(),
        test_controls: true,
        faults: orgform_emulator::FaultConfig {
            latency: Duration::from_millis(150),
            ..orgform_emulator::FaultConfig::default()
        },
        ..orgform_emulator::EmulatorConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_orgform"))
        .args(["apply", "--auto-approve", "--concurrency", "1"])
        .args(["--now", &org.emulator.now().to_string()])
        .current_dir(dir.path())
        .env("ANTHROPIC_BASE_URL", org.emulator.base_url())
        .env("ANTHROPIC_ADMIN_KEY", org.emulator.admin_key())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("three writes", || org.writes().len() >= 3);
    let (took, status) = signal_and_wait(&mut child, signal);
    assert!(took < Duration::from_secs(5), "SIG{signal} took {took:?}");
    assert!(
        !status.success(),
        "an interrupted apply must not report success"
    );
    let done_first = org.writes().len();
    assert!(
        done_first < 11,
        "the apply stopped early ({done_first} writes)"
    );

    org.emulator
        .set_faults(orgform_emulator::FaultConfig::default());
    let again = org.run(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{again:?}");
    let last = org.run(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(last.code, 0, "converged: {last:?}");
    let mut writes = org.emulator.request_log();
    writes.retain(|r| r.method != "GET" && r.status == Some(200));
    assert_eq!(
        writes.len(),
        11,
        "every action done exactly once across both runs"
    );
}

#[test]
fn sigterm_during_apply_ends_promptly_and_the_next_run_converges() {
    during_apply("TERM");
}

#[test]
fn sighup_during_apply_ends_promptly_and_the_next_run_converges() {
    during_apply("HUP");
}
