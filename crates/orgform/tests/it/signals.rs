//! SIGINT, SIGTERM and SIGHUP at each phase of a run: while reading the organization (plan
//! with `--out`) and while writing (apply). The process must end promptly, leave no
//! half-written `--out` file or stray temporary file, and the next run must converge.
//! Rows of docs/reliability.md cite these tests by name.

use crate::support::raw_http;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Org, command_as_user, demo_manifest, send_signal, wait_for};
use raw_http::{Reply, Server};

/// Sends `signal` (a name such as `TERM`) to `child` and waits for it to end; returns how
/// long that took and the exit status.
fn signal_and_wait(child: &mut Child, signal: &str) -> (Duration, std::process::ExitStatus) {
    let sent = Instant::now();
    send_signal(child, signal);
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
    let mut child = command_as_user(
        env!("CARGO_BIN_EXE_orgform"),
        &server.url,
        "sk-ant-admin01-signals-0000",
        dir.path(),
    )
    .args(["plan", "--out", "plan.json"])
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    wait_for("the user list requested", Duration::from_secs(30), || {
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
    let org = Org::slow_small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let mut child = org
        .user_command(dir.path())
        .args(["apply", "--auto-approve", "--concurrency", "1"])
        .args(["--now", &org.emulator.now().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("three writes", Duration::from_secs(30), || {
        org.writes().len() >= 3
    });
    let (took, status) = signal_and_wait(&mut child, signal);
    assert!(took < Duration::from_secs(5), "SIG{signal} took {took:?}");
    assert!(
        !status.success(),
        "an interrupted apply must not report success"
    );
    org.assert_stopped_early_then_converges(dir.path());
}

#[test]
fn sigterm_during_apply_ends_promptly_and_the_next_run_converges() {
    during_apply("TERM");
}

#[test]
fn sighup_during_apply_ends_promptly_and_the_next_run_converges() {
    during_apply("HUP");
}
