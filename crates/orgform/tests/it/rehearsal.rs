//! Rehearsal on a copy, end to end with the real binary: `orgform snapshot` of an
//! organization, served by `orgform emulator --seed`, plans exactly as the original does;
//! an export of the original plans empty against the copy; and a change rehearsed on the copy
//! converges without touching the original.

use crate::common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::common::{Org, Run};
use orgform_emulator::{EmulatorConfig, seeds};

const COPY_KEY: &str = "sk-ant-admin01-rehearsal-copy";

/// `orgform emulator` serving a file, stopped when dropped.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(seed: &Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_orgform"))
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--clock",
            "now",
            "--seed",
        ])
        .arg(seed)
        .env("ANTHROPIC_ADMIN_KEY", COPY_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Served { child, url }
}

fn orgform(dir: &Path, url: &str, key: &str, args: &[&str]) -> Run {
    common::run_plain(dir, url, key, args)
}

#[test]
fn a_snapshot_served_by_the_emulator_plans_like_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let original = Org::start_with(EmulatorConfig {
        seed: seeds::small(),
        test_controls: true,
        clock_start: jiff::Timestamp::now(),
        ..EmulatorConfig::default()
    });
    let (url, key) = (
        original.emulator.base_url(),
        original.emulator.admin_key().to_owned(),
    );
    let snap = orgform(dir.path(), &url, &key, &["snapshot", "--out", "real.yaml"]);
    assert_eq!(snap.code, 0, "{snap:?}");
    let copy = serve(&dir.path().join("real.yaml"));

    // The same manifest gives the same plan against both (same ids, same live digest).
    common::demo_manifest(dir.path());
    let plan = [
        "plan",
        "-f",
        "org.yaml",
        "--detailed-exitcode",
        "--format",
        "json",
    ];
    let on_original = orgform(dir.path(), &url, &key, &plan);
    let on_copy = orgform(dir.path(), &copy.url, COPY_KEY, &plan);
    assert_eq!(on_original.code, 2, "{on_original:?}");
    assert_eq!(on_copy.code, on_original.code, "{on_copy:?}");
    assert_eq!(on_copy.stdout, on_original.stdout);
    let text = ["plan", "-f", "org.yaml"];
    assert_eq!(
        orgform(dir.path(), &copy.url, COPY_KEY, &text).stdout,
        orgform(dir.path(), &url, &key, &text).stdout
    );

    // An export of the original plans empty against the copy.
    let export = orgform(
        dir.path(),
        &url,
        &key,
        &["export", "--out", "exported.yaml"],
    );
    assert_eq!(export.code, 0, "{export:?}");
    let empty = orgform(
        dir.path(),
        &copy.url,
        COPY_KEY,
        &["plan", "-f", "exported.yaml", "--detailed-exitcode"],
    );
    assert_eq!(empty.code, 0, "{empty:?}");

    // Rehearse the change on the copy: apply, then re-plan converges.
    let apply = orgform(
        dir.path(),
        &copy.url,
        COPY_KEY,
        &["apply", "-f", "org.yaml", "--auto-approve"],
    );
    assert_eq!(apply.code, 0, "{apply:?}");
    let again = orgform(
        dir.path(),
        &copy.url,
        COPY_KEY,
        &["plan", "-f", "org.yaml", "--detailed-exitcode"],
    );
    assert_eq!(again.code, 0, "{again:?}");
    // The original saw reads only.
    assert_eq!(original.writes(), Vec::<String>::new());
}

#[test]
fn a_snapshot_of_another_format_is_refused_with_its_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.yaml");
    std::fs::write(
        &path,
        "snapshot_format: 9\norganization:\n  id: x\n  name: y\n",
    )
    .unwrap();
    let output = assert_cmd::Command::cargo_bin("orgform")
        .unwrap()
        .args(["emulator", "--listen", "127.0.0.1:0", "--seed"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("future.yaml"), "{stderr}");
    assert!(
        stderr.contains("snapshot_format 9 is not supported"),
        "{stderr}"
    );
}
