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
        "man",
    ] {
        insta::assert_snapshot!(format!("{command}_help"), help(&[command, "--help"]));
    }
}

#[test]
fn completions_are_generated() {
    let bash = help(&["completions", "bash"]);
    assert!(bash.contains("orgform") && bash.contains("--detailed-exitcode"));
}

/// Every `--flag VALUE` that docs/cli.md's tables give for a command is in that command's
/// help with the same value name (a unit in the name, such as `SECONDS` or `MS`, must agree).
#[test]
fn documented_flag_values_match_the_help() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli.md"),
    )
    .unwrap();
    let mut checked = 0;
    for row in doc.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let command = cells[0].trim_start_matches("| ").trim_matches('`');
        let commands = [
            "plan", "apply", "drift", "emulator", "doctor", "demo", "man", "snapshot", "export",
        ];
        if !commands.contains(&command) || cells.len() < 3 {
            continue;
        }
        let help = help(&[command, "--help"]);
        for flag in cells[1].split('`').skip(1).step_by(2) {
            let mut words = flag.split_whitespace();
            let (Some(name), Some(value)) = (words.next(), words.next()) else {
                continue;
            };
            if !name.starts_with("--") || value.starts_with('[') || value.contains('|') {
                continue;
            }
            let shown = format!("{name} <{value}>");
            assert!(
                help.contains(&shown),
                "`orgform {command} --help` lacks {shown}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} flags checked");
}
