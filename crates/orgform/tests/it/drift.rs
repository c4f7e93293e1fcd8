//! `orgform drift` scenarios (`tests/fixtures/drift/<case>/`: `seed.json` for the emulator and
//! `manifest.yaml`): one per drift category and per hygiene finding, each run through the
//! real binary in text, JSON and Markdown, with the exit code asserted from the table below
//! (so a wrong exit code cannot be blessed into a snapshot).

use std::fmt::Write as _;
use std::path::Path;

use crate::common::Org;

/// Case -> expected exit code (0 clean, 2 drift).
const CASES: &[(&str, i32)] = &[
    ("clean", 0),
    ("unmanaged-member", 2),
    ("changed-role", 2),
    ("missing-workspace-and-key", 2),
    ("pending-deferred-grant", 0),
    ("blocked-admin-demotion", 2),
    ("hygiene-key-too-old", 2),
    ("hygiene-key-creator-gone", 2),
    ("hygiene-key-in-archived-workspace", 2),
    ("hygiene-expired-invite-listed", 2),
    ("hygiene-expired-invite-unlisted", 0),
];

#[test]
fn drift_scenarios() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/drift");
    let mut on_disk: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CASES.iter().map(|(c, _)| (*c).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every folder has an expected exit code");

    let mut failures = Vec::new();
    for (case, expected) in CASES {
        let dir = root.join(case);
        let seed = orgform_emulator::seeds::load(&dir.join("seed.json")).unwrap();
        let org = Org::start(seed);
        let mut record = String::new();
        for format in ["text", "json", "markdown"] {
            let run = org.run(&dir, &["drift", "-f", "manifest.yaml", "--format", format]);
            if run.code != *expected {
                failures.push(format!(
                    "{case} ({format}): exit {} not {expected}\n{}{}",
                    run.code, run.stdout, run.stderr
                ));
            }
            let _ = writeln!(
                record,
                "--- {format} (exit {}) ---\n{}",
                run.code, run.stdout
            );
        }
        assert!(org.writes().is_empty(), "{case}: drift never writes");
        insta::assert_snapshot!(format!("drift__{case}"), record);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
