//! A second Ctrl-C during `apply` exits at once (130) while a write is slow, naming the
//! actions in flight whose outcome is unknown.

use std::time::{Duration, Instant};

use crate::common::{Org, demo_manifest, send_signal, wait_for};
use orgform_emulator::{Fault, FaultMatcher};

#[test]
fn a_second_interrupt_exits_at_once_and_names_what_is_unknown() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    // The reads of a plan, to know when the apply has finished reading.
    let plan = org.run(dir.path(), &["plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let reads = org.emulator.request_log().len();
    org.emulator.clear_request_log();
    // The first write takes 30 seconds.
    org.emulator.push_fault(
        FaultMatcher::new("POST", "/v1/organizations"),
        Fault::Latency { ms: 30_000 },
    );
    let child = org.spawn_apply(dir.path());
    wait_for("the apply's reads", Duration::from_secs(20), || {
        org.emulator.request_log().len() >= reads
    });
    // Planning takes milliseconds; then the first write waits on the server.
    std::thread::sleep(Duration::from_millis(700));
    let started = Instant::now();
    send_signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(300));
    send_signal(&child, "INT");
    let output = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        elapsed < Duration::from_secs(10),
        "exited at once, not after the slow write ({elapsed:?})"
    );
    assert!(
        stderr.contains("interrupt: finishing the requests in flight"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the outcome of 1 action(s) in flight is unknown"),
        "{stderr}"
    );
    assert!(stderr.contains("? #1 workspace Data Science"), "{stderr}");
}
