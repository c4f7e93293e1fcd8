//! What the recipe tests share: the manifests, the emulated organizations, the key check
//! and the git checkout of a job.

use std::path::{Path, PathBuf};

use super::runner::{JobRun, Sandbox};
use crate::common::{self, Org};

/// The first line of the plan comment or note, by which later runs find it.
pub const MARKER: &str = "<!-- orgform-plan -->";

pub fn demo_manifest() -> String {
    orgform::commands::demo::DEMO_MANIFEST.to_owned()
}

/// The small seed without invites: its export plans to nothing and shows no drift.
pub fn quiet_org() -> Org {
    let mut seed = orgform_emulator::seeds::small();
    seed.invites.clear();
    Org::start(seed)
}

/// The manifest `orgform export` writes for `org` (it matches the organization).
pub fn exported(org: &Org) -> String {
    let dir = tempfile::tempdir().unwrap();
    let run = common::run_command(org.user_command(dir.path()).args(["export"]));
    assert_eq!(run.code, 0, "{run:?}");
    run.stdout
}

pub fn assert_no_key(org: &Org, sandbox: &Sandbox, run: &JobRun) {
    let key = org.emulator.admin_key();
    assert!(!run.log.contains(key), "the key reached the job log");
    let posted = std::fs::read_dir(&sandbox.state)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .collect::<String>();
    assert!(!posted.contains(key), "the key reached what was posted");
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// How many commits `main` of the bare `remote` has.
pub fn commit_count(remote: &Path) -> String {
    git(remote, &["rev-list", "--count", "main"])
        .trim()
        .to_owned()
}

/// The workspace as a clone of a bare remote with one commit on `main`.
pub fn git_checkout(sandbox: &Sandbox) -> PathBuf {
    let remote = sandbox.state.join("remote.git");
    git(
        &sandbox.state,
        &["init", "--quiet", "--bare", "-b", "main", "remote.git"],
    );
    let w = &sandbox.workspace;
    git(w, &["init", "--quiet", "-b", "main"]);
    git(w, &["remote", "add", "origin", remote.to_str().unwrap()]);
    git(w, &["add", "org.yaml"]);
    git(
        w,
        &[
            "-c",
            "user.name=a",
            "-c",
            "user.email=a@b.example",
            "commit",
            "-qm",
            "start",
        ],
    );
    git(w, &["push", "--quiet", "origin", "main"]);
    remote
}
