//! The admin key file and a saved plan file of odd shapes: a FIFO (which would block the
//! command forever), `/dev/zero` (which would be read until memory runs out), a directory and
//! files over the size limits. Each is refused quickly, with a message naming where it came
//! from, before any request.

use crate::common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::mkfifo;

/// Nothing listens there: a command that got as far as the network would fail differently.
const DEAD_ENDPOINT: &str = "http://127.0.0.1:9";

struct Run {
    code: i32,
    stderr: String,
}

/// Runs `orgform ARGS` in `dir` with an address-space limit (so a regression reading
/// `/dev/zero` fails on its own instead of exhausting the machine) and a deadline (so a
/// regression blocking on a FIFO fails the test instead of hanging it).
fn orgform(dir: &Path, args: &[&str]) -> Run {
    let mut child = common::command_as_user(
        "sh",
        DEAD_ENDPOINT,
        "sk-ant-admin01-from-the-environment",
        dir,
    )
    .arg("-c")
    .arg(r#"ulimit -v 4194304 && exec "$0" "$@""#)
    .arg(env!("CARGO_BIN_EXE_orgform"))
    .args(args)
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("orgform {args:?} did not finish within 15 seconds");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stderr,
    }
}

fn assert_refused(run: &Run, what: &str, path: &str, says: &str) {
    assert_eq!(run.code, 1, "{what} {path}: {}", run.stderr);
    let want = format!("error: refusing to read {what} {path}: {says}");
    assert!(
        run.stderr.contains(&want),
        "want {want:?} in:\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("from-the-environment"),
        "the key never shows"
    );
}

#[test]
fn key_files_that_are_not_regular_files_are_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("key.fifo"));
    std::fs::create_dir(dir.path().join("key.d")).unwrap();
    for (path, says) in [
        ("key.fifo", "it is a FIFO, not a regular file"),
        ("/dev/zero", "it is a character device, not a regular file"),
        ("key.d", "it is a directory, not a regular file"),
    ] {
        let run = orgform(dir.path(), &["snapshot", "--admin-key-file", path]);
        assert_refused(&run, "--admin-key-file", path, says);
    }
}

#[test]
fn a_key_file_over_4_kib_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key"), "k".repeat(4097)).unwrap();
    let run = orgform(dir.path(), &["snapshot", "--admin-key-file", "key"]);
    assert_refused(&run, "--admin-key-file", "key", "it is larger than 4 KiB");
}

#[test]
fn a_key_file_of_4_kib_with_a_bad_key_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    std::fs::write(&path, format!("{}\u{7}", "k".repeat(4095))).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = orgform(dir.path(), &["snapshot", "--admin-key-file", "key"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the admin api key from --admin-key-file key contains characters"),
        "{}",
        run.stderr
    );
    std::fs::write(&path, " \n").unwrap();
    let run = orgform(dir.path(), &["snapshot", "--admin-key-file", "key"]);
    assert!(
        run.stderr
            .contains("the admin api key from --admin-key-file key is empty"),
        "{}",
        run.stderr
    );
}

#[test]
fn plan_files_that_are_not_regular_files_are_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("plan.fifo"));
    for (path, says) in [
        ("plan.fifo", "it is a FIFO, not a regular file"),
        ("/dev/zero", "it is a character device, not a regular file"),
    ] {
        let run = orgform(dir.path(), &["apply", path, "--auto-approve"]);
        assert_refused(&run, "the plan file", path, says);
    }
}

#[test]
fn a_plan_file_over_256_mib_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Sparse: no disk space is used.
    let file = std::fs::File::create(dir.path().join("plan.json")).unwrap();
    file.set_len(256 * 1024 * 1024 + 1).unwrap();
    let run = orgform(dir.path(), &["apply", "plan.json", "--auto-approve"]);
    assert_refused(
        &run,
        "the plan file",
        "plan.json",
        "it is larger than 256 MiB",
    );
}
