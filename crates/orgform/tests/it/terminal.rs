//! Terminal escapes in live names and API messages never reach the terminal raw: every
//! command's stdout and stderr (reports, progress log lines, refusal lines and error chains)
//! is free of ESC, BEL, carriage returns and C1 control characters, whatever the
//! organization's names or the API's answers hold.

use crate::common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::Path;

use crate::common::{Org, Run, demo_manifest, run_command};

/// Sets the window title, clears the screen (twice: ESC and C1 CSI), returns the cursor and
/// starts a fake line.
const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\r\u{85}x";

/// The small organization with hostile names on everything the demo manifest does not match
/// by name: people's names, an unmanaged member's email (removed by the demo), unmanaged
/// workspaces and keys, the organization's name.
fn hostile_org() -> Org {
    let mut seed = orgform_emulator::seeds::small();
    seed.organization.name.push_str(HOSTILE);
    for user in &mut seed.users {
        user.name.push_str(HOSTILE);
        if user.email.starts_with("ursula@") {
            user.email = format!("ursula{HOSTILE}@acme.example");
        }
    }
    for ws in &mut seed.workspaces {
        if ["Research", "Old Experiments"].contains(&ws.name.as_str()) {
            ws.name.push_str(HOSTILE);
        }
    }
    for key in &mut seed.api_keys {
        if [
            "staging-old",
            "research-notebook",
            "experiments",
            "default-playground",
        ]
        .contains(&key.name.as_str())
        {
            key.name.push_str(HOSTILE);
        }
    }
    Org::start(seed)
}

/// `orgform ARGS` as a user runs it, against `base_url`.
fn orgform(base_url: &str, key: &str, dir: &Path, args: &[&str]) -> Run {
    run_command(
        common::command_as_user(env!("CARGO_BIN_EXE_orgform"), base_url, key, dir).args(args),
    )
}

/// Neither stream holds a control character other than a line feed.
#[track_caller]
fn assert_clean(what: &str, run: &Run) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        if let Some((at, c)) = text
            .char_indices()
            .find(|(_, c)| c.is_control() && *c != '\n')
        {
            panic!(
                "{what}: raw U+{:04X} on {name} at byte {at}:\n{}",
                u32::from(c),
                text.escape_debug()
            );
        }
    }
}

#[test]
fn plan_drift_snapshot_and_export_escape_live_names() {
    let org = hostile_org();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let url = org.emulator.base_url();
    let key = org.emulator.admin_key();
    for args in [
        &["plan"][..],
        &["plan", "--format", "json"],
        &["plan", "--format", "markdown"],
        &["drift"],
        &["drift", "--format", "json"],
        &["drift", "--format", "markdown"],
        &["snapshot"],
        &["export"],
    ] {
        let run = orgform(&url, key, dir.path(), args);
        assert!([0, 2].contains(&run.code), "{args:?}: {run:?}");
        assert_clean(&format!("{args:?}"), &run);
        assert!(
            run.stdout.contains("pwned"),
            "{args:?} shows the hostile names, escaped:\n{}",
            run.stdout
        );
    }
    // The escaped documents still read back as the same names.
    let snapshot = orgform(&url, key, dir.path(), &["snapshot"]);
    let value: serde_json::Value = serde_saphyr::from_str(&snapshot.stdout).unwrap();
    assert_eq!(
        value["organization"]["name"],
        format!("Acme Research{HOSTILE}")
    );
    let export = orgform(&url, key, dir.path(), &["export"]);
    let value: serde_json::Value = serde_saphyr::from_str(&export.stdout).unwrap();
    assert_eq!(
        value["organization"]["name"],
        format!("Acme Research{HOSTILE}")
    );
}

#[test]
fn apply_report_and_progress_lines_escape_live_names() {
    for args in [
        &["apply", "--auto-approve", "-v"][..],
        &[
            "apply",
            "--auto-approve",
            "-v",
            "--format",
            "json",
            "--log-format",
            "json",
        ],
    ] {
        let org = hostile_org();
        let dir = tempfile::tempdir().unwrap();
        demo_manifest(dir.path());
        let run = orgform(
            &org.emulator.base_url(),
            org.emulator.admin_key(),
            dir.path(),
            args,
        );
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        assert_clean(&format!("{args:?}"), &run);
        assert!(
            run.stdout.contains("ursula") && run.stdout.contains("pwned"),
            "the removal of the hostile member is reported: {}",
            run.stdout
        );
        assert!(
            run.stderr.contains("action finished") && run.stderr.contains("pwned"),
            "progress lines name the hostile member: {}",
            run.stderr
        );
    }
}

/// A server that answers every request with `400` and an error message full of escapes.
fn hostile_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let body = serde_json::json!({
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": format!("bad request{HOSTILE}\nerror: a fake line"),
        },
        "request_id": format!("req_{HOSTILE}"),
    })
    .to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn api_error_messages_are_escaped_in_error_chains() {
    let url = hostile_server();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    for args in [
        &["snapshot"][..],
        &["export"],
        &["plan"],
        &["drift"],
        &["apply", "--auto-approve"],
        &["snapshot", "-vv"],
        &["snapshot", "-vv", "--log-format", "json"],
    ] {
        let run = orgform(&url, "sk-ant-admin01-terminal-test", dir.path(), args);
        assert_eq!(run.code, 1, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("invalid_request_error") && run.stderr.contains("pwned"),
            "{args:?}: the API's message is shown, escaped: {}",
            run.stderr
        );
        assert_clean(&format!("{args:?}"), &run);
        assert!(
            !run.stderr
                .lines()
                .any(|l| l.starts_with("error: a fake line")),
            "{args:?}: the API's message stays on its line: {}",
            run.stderr
        );
    }
}

#[test]
fn an_organization_mismatch_names_the_live_organization_escaped() {
    let mut seed = orgform_emulator::seeds::small();
    seed.organization.name = format!("Acme{HOSTILE}\nerror: a fake line");
    let org = Org::start(seed);
    let dir = tempfile::tempdir().unwrap();
    common::other_organization_manifest(dir.path());
    let run = orgform(
        &org.emulator.base_url(),
        org.emulator.admin_key(),
        dir.path(),
        &["plan"],
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("organization mismatch"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("pwned"), "{}", run.stderr);
    assert_clean("plan", &run);
    assert!(
        !run.stderr
            .lines()
            .any(|l| l.starts_with("error: a fake line")),
        "{}",
        run.stderr
    );
}
