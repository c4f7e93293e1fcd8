//! Manifest files that are not plain files, through the real binary: a directory entry that
//! cannot be read as a regular file (a dangling symlink, a symlink loop, a FIFO) and a `-f`
//! that is a FIFO or a device are refused with exit 4, naming the path, without waiting and
//! before any request; so are files over the size cap.

#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::Org;

/// A directory manifest `org` in a temporary directory, with the head (and
/// `members.unmanaged: remove`) in `00-org.yaml`: (the temporary directory, `org`).
fn manifest_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("org");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("00-org.yaml"),
        "version: 1\norganization:\n  id: 6f0c2a4e-0000-4000-8000-000000000001\n\
         settings:\n  members:\n    unmanaged: remove\n  limits:\n    max_destructive: 100\n    max_destructive_percent: 100\n",
    )
    .unwrap();
    (tmp, dir)
}

/// Runs the binary from `dir` against `org` without any test-only flag, with a time limit.
fn run(org: &Org, dir: &Path, args: &[&str]) -> (i32, String, Duration) {
    let start = Instant::now();
    let output = assert_cmd::Command::cargo_bin("orgform")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .env("ANTHROPIC_BASE_URL", org.emulator.base_url())
        .env("ANTHROPIC_ADMIN_KEY", org.emulator.admin_key())
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(20))
        .write_stdin("")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        start.elapsed(),
    )
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Every command that reads the manifest refuses it, naming the entry and the reason, and
/// nothing reaches the organization.
fn refused(org: &Org, dir: &Path, entry: &str, reason: &str) {
    for args in [&["validate", "-f", "org"][..], &["plan", "-f", "org"]] {
        let (code, stderr, took) = run(org, dir, args);
        assert_eq!(code, 4, "{args:?}: {stderr}");
        assert!(stderr.contains(entry), "{args:?} names {entry}: {stderr}");
        assert!(stderr.contains(reason), "{args:?} says {reason}: {stderr}");
        assert!(!stderr.contains("valid:"), "{stderr}");
        assert!(took < Duration::from_secs(10), "{args:?} took {took:?}");
    }
    assert!(org.emulator.request_log().is_empty(), "no request was made");
}

#[test]
fn a_dangling_fragment_symlink_is_an_error_not_an_empty_fragment() {
    let org = Org::small();
    let (tmp, dir) = manifest_dir();
    std::os::unix::fs::symlink(tmp.path().join("gone.yaml"), dir.join("10-people.yaml")).unwrap();
    refused(&org, tmp.path(), "10-people.yaml", "dangling symlink");
}

#[test]
fn a_fragment_symlink_loop_is_an_error() {
    let org = Org::small();
    let (tmp, dir) = manifest_dir();
    std::os::unix::fs::symlink(dir.join("20-b.yml"), dir.join("10-a.yaml")).unwrap();
    std::os::unix::fs::symlink(dir.join("10-a.yaml"), dir.join("20-b.yml")).unwrap();
    refused(&org, tmp.path(), "10-a.yaml", "symlink loop");
}

#[test]
fn a_fifo_fragment_is_an_error_and_nothing_waits_on_it() {
    let org = Org::small();
    let (tmp, dir) = manifest_dir();
    mkfifo(&dir.join("10-people.yaml"));
    refused(
        &org,
        tmp.path(),
        "10-people.yaml",
        "not a regular file (a FIFO)",
    );
}

#[test]
fn a_directory_named_like_a_fragment_is_an_error() {
    let org = Org::small();
    let (tmp, dir) = manifest_dir();
    std::fs::create_dir(dir.join("10-people.yaml")).unwrap();
    refused(
        &org,
        tmp.path(),
        "10-people.yaml",
        "not a regular file (a directory)",
    );
}

#[test]
fn a_fifo_or_a_device_as_the_manifest_is_refused_at_once() {
    let org = Org::small();
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("org.yaml");
    mkfifo(&fifo);
    for (path, reason) in [
        (fifo.to_str().unwrap(), "not a regular file (a FIFO)"),
        ("/dev/zero", "not a regular file (a character device)"),
    ] {
        for command in ["validate", "plan"] {
            let (code, stderr, took) = run(&org, tmp.path(), &[command, "-f", path]);
            assert_eq!(code, 4, "{command} -f {path}: {stderr}");
            assert!(stderr.contains(path), "names the path: {stderr}");
            assert!(stderr.contains(reason), "{stderr}");
            assert!(took < Duration::from_secs(10), "took {took:?}");
        }
    }
    assert!(org.emulator.request_log().is_empty());
}

#[test]
fn a_manifest_over_64_mib_is_refused_without_reading_it_all() {
    let org = Org::small();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("org.yaml");
    let file = std::fs::File::create(&path).unwrap();
    // Sparse: 65 MiB of zeros that take no disk space.
    file.set_len(65 * 1024 * 1024).unwrap();
    let (code, stderr, _) = run(&org, tmp.path(), &["validate", "-f", "org.yaml"]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("org.yaml"), "{stderr}");
    assert!(stderr.contains("larger than the 64 MiB limit"), "{stderr}");
    assert!(stderr.len() < 2_000, "a short message: {stderr}");
}
