//! A failed write to stdout is an error (exit 1, the I/O error on stderr), so `snapshot >
//! /dev/full` cannot look like a success; a pipe closed by its reader (`orgform plan | head`)
//! ends the output quietly, as before.

use std::path::Path;
use std::process::Stdio;

use crate::common::{Org, Run, demo_manifest, run_command};

/// `orgform ARGS` as a user runs it, with `stdout` as its standard output.
fn orgform(org: &Org, dir: &Path, args: &[&str], stdout: Stdio) -> Run {
    run_command(org.user_command(dir).args(args).stdout(stdout))
}

fn dev_full() -> Stdio {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
        .into()
}

/// A pipe whose reading end is already closed.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer.into()
}

const COMMANDS: &[&[&str]] = &[
    &["snapshot"],
    &["export"],
    &["schema"],
    &["plan", "--format", "json"],
    &["plan"],
    &["drift", "--format", "json"],
    &["validate"],
    &["completions", "bash"],
];

#[test]
fn a_full_stdout_is_an_error() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    for args in COMMANDS {
        let run = orgform(&org, dir.path(), args, dev_full());
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("error: cannot write to stdout"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("No space left on device"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    for args in COMMANDS {
        let run = orgform(&org, dir.path(), args, closed_pipe());
        let want = if args[0] == "drift" { 2 } else { 0 };
        assert_eq!(run.code, want, "{args:?}: {run:?}");
        assert!(!run.stderr.contains("error"), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("pipe"), "{args:?}: {}", run.stderr);
    }
}
