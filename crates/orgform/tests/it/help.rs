//! The command line's help is part of the public contract: its snapshots are the CLI
//! reference, and a change to a flag shows up here for review.

fn help(args: &[&str]) -> String {
    let output = assert_cmd::Command::cargo_bin("orgform")
        .unwrap()
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("ANTHROPIC_BASE_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{args:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn plan_help() {
    insta::assert_snapshot!("plan_help", help(&["plan", "--help"]));
}

#[test]
fn every_command_has_help() {
    insta::assert_snapshot!("orgform_help", help(&["--help"]));
    for command in [
        "validate",
        "apply",
        "drift",
        "snapshot",
        "export",
        "schema",
        "emulator",
        "doctor",
        "demo",
        "completions",
    ] {
        insta::assert_snapshot!(format!("{command}_help"), help(&[command, "--help"]));
    }
}

#[test]
fn completions_are_generated() {
    let bash = help(&["completions", "bash"]);
    assert!(bash.contains("orgform") && bash.contains("--detailed-exitcode"));
}
