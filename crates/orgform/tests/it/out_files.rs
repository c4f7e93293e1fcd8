//! `--out` of `plan`, `snapshot` and `export` against what a shared directory can hold: links
//! planted at the old fixed temporary name, links to regular files, FIFOs, devices, a full
//! or size-limited disk, and the permissions of new and replaced files.

use crate::common;

use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::path::Path;
use std::time::Duration;

use crate::common::{Org, demo_manifest, entries, mkfifo, run_command as run};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_link_planted_at_the_old_temporary_name_is_not_followed() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    for name in ["plan.json", "snapshot.yaml", "export.yaml"] {
        std::os::unix::fs::symlink(&victim, dir.path().join(format!(".{name}.orgform-tmp")))
            .unwrap();
    }
    for args in [
        &["plan", "--out", "plan.json"][..],
        &["snapshot", "--out", "snapshot.yaml"],
        &["export", "--out", "export.yaml"],
    ] {
        let out = run(org.user_command(dir.path()).args(args));
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        let written = dir.path().join(args[2]);
        assert!(
            std::fs::symlink_metadata(&written)
                .unwrap()
                .file_type()
                .is_file()
        );
        assert!(std::fs::read_to_string(&written).unwrap().len() > 100);
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    // Nothing but the outputs, the manifest and the planted links is left in the directory.
    assert_eq!(
        entries(dir.path()),
        [
            ".export.yaml.orgform-tmp",
            ".plan.json.orgform-tmp",
            ".snapshot.yaml.orgform-tmp",
            "export.yaml",
            "org.yaml",
            "plan.json",
            "snapshot.yaml",
            "victim.txt"
        ]
    );
}

#[test]
fn new_plans_and_snapshots_are_0600_and_exports_0644() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    for (args, want) in [
        (&["plan", "--out", "plan.json"][..], 0o600),
        (&["snapshot", "--out", "snapshot.yaml"], 0o600),
        (&["export", "--out", "export.yaml"], 0o644),
    ] {
        let out = run(org.user_command(dir.path()).args(args));
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert_eq!(mode(&dir.path().join(args[2])), want, "{args:?}");
    }
}

#[test]
fn an_existing_file_keeps_its_mode() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    demo_manifest(dir.path());
    for (args, existing) in [
        (&["plan", "--out", "plan.json"][..], 0o600),
        (&["snapshot", "--out", "snapshot.yaml"], 0o600),
        (&["export", "--out", "export.yaml"], 0o600),
        (&["snapshot", "--out", "shared.yaml"], 0o640),
    ] {
        let path = dir.path().join(args[2]);
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(existing)).unwrap();
        let out = run(org.user_command(dir.path()).args(args));
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert_eq!(mode(&path), existing, "{args:?}");
        assert_ne!(std::fs::read_to_string(&path).unwrap(), "old");
    }
}

#[test]
fn a_fifo_is_written_through_not_replaced() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("snapshot.fifo");
    mkfifo(&fifo);
    let (sent, received) = std::sync::mpsc::channel();
    let reader = fifo.clone();
    std::thread::spawn(move || {
        let _ = sent.send(std::fs::read_to_string(reader));
    });
    let out = run(org
        .user_command(dir.path())
        .args(["snapshot", "--out", "snapshot.fifo"]));
    assert_eq!(out.code, 0, "{out:?}");
    let text = received
        .recv_timeout(Duration::from_secs(20))
        .expect("the FIFO's reader got the snapshot")
        .unwrap();
    assert!(text.starts_with("# orgform snapshot"), "{text}");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo(),
        "still a FIFO"
    );
    assert_eq!(entries(dir.path()), ["snapshot.fifo"]);
}

/// Device-shaped `--out` paths inside `dir`, never the system's own `/dev` entries (a
/// regression replacing them would break the machine): a link to the system device, and,
/// where the test may create device nodes (as root), a node of the same device.
fn devices(dir: &Path, system: &str, major_minor: (&str, &str)) -> Vec<String> {
    let mut paths = vec!["link-to-device".to_owned()];
    std::os::unix::fs::symlink(system, dir.join("link-to-device")).unwrap();
    let node = dir.join("device-node");
    let made = std::process::Command::new("mknod")
        .arg(&node)
        .args(["c", major_minor.0, major_minor.1])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    // A file system mounted `nodev` refuses to open device nodes: no node test there.
    if made && std::fs::OpenOptions::new().write(true).open(&node).is_ok() {
        paths.push("device-node".to_owned());
    } else if made {
        std::fs::remove_file(&node).unwrap();
    }
    paths
}

/// The link is still a link, the node still a device.
#[track_caller]
fn assert_untouched(dir: &Path, out_path: &str) {
    let kind = std::fs::symlink_metadata(dir.join(out_path))
        .unwrap()
        .file_type();
    if out_path == "link-to-device" {
        assert!(kind.is_symlink(), "{out_path} is still a link");
    } else {
        assert!(kind.is_char_device(), "{out_path} is still a device");
    }
}

#[test]
fn a_full_device_is_an_error_and_stays_a_device() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let outputs = devices(dir.path(), "/dev/full", ("1", "7"));
    demo_manifest(dir.path());
    for out_path in &outputs {
        for command in ["snapshot", "export", "plan"] {
            let out = run(org
                .user_command(dir.path())
                .args([command, "--out", out_path]));
            assert_eq!(out.code, 1, "{command} {out_path}: {out:?}");
            assert!(
                out.stderr
                    .contains(&format!("error: cannot write --out {out_path}")),
                "{}",
                out.stderr
            );
            assert!(
                out.stderr.contains("No space left on device"),
                "{}",
                out.stderr
            );
            assert_untouched(dir.path(), out_path);
        }
    }
    let mut want = outputs.clone();
    want.push("org.yaml".to_owned());
    want.sort();
    assert_eq!(entries(dir.path()), want, "no temporary file");
}

#[test]
fn a_null_device_is_written_through() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    for out_path in devices(dir.path(), "/dev/null", ("1", "3")) {
        let out = run(org
            .user_command(dir.path())
            .args(["snapshot", "--out", &out_path]));
        assert_eq!(out.code, 0, "{out_path}: {out:?}");
        assert_untouched(dir.path(), &out_path);
    }
}

#[test]
fn links_to_files_dangling_links_and_directories_are_refused() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, dir.path().join("to-file.yaml")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("nowhere"), dir.path().join("dangling.yaml"))
        .unwrap();
    std::fs::create_dir(dir.path().join("a-dir")).unwrap();
    for (out_path, says) in [
        ("to-file.yaml", "it is a symbolic link to a regular file"),
        ("dangling.yaml", "it is a symbolic link to nothing"),
        ("a-dir", "it is a directory"),
    ] {
        let out = run(org
            .user_command(dir.path())
            .args(["snapshot", "--out", out_path]));
        assert_eq!(out.code, 1, "{out_path}: {out:?}");
        assert!(
            out.stderr
                .contains(&format!("refusing to write --out {out_path}: {says}")),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("hint:"), "{}", out.stderr);
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(
        entries(dir.path()),
        ["a-dir", "dangling.yaml", "to-file.yaml", "victim.txt"]
    );
    assert!(entries(&dir.path().join("a-dir")).is_empty());
}

#[test]
fn a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file() {
    let org = Org::small();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.yaml");
    std::fs::write(&path, "old").unwrap();
    // A file size limit of one 512-byte block makes the write fail with EFBIG (the signal it
    // would raise is ignored, and stays ignored across exec).
    let out = run(common::command_as_user(
        "sh",
        &org.emulator.base_url(),
        org.emulator.admin_key(),
        dir.path(),
    )
    .args([
        "-c",
        r#"trap "" XFSZ; ulimit -f 1 && exec "$0" "$@""#,
        env!("CARGO_BIN_EXE_orgform"),
        "snapshot",
        "--out",
        "snapshot.yaml",
    ]));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("error: cannot write --out snapshot.yaml"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    assert_eq!(entries(dir.path()), ["snapshot.yaml"]);
}
