//! The shell blocks of `docs/*.md` and `README.md` marked ```` ```sh runnable ```` run as
//! written, under `bash --noprofile --norc -eo pipefail`, with `orgform` on `PATH` pointed at
//! the emulator (its small seed) and the demo manifest as `org.yaml`: a documented command
//! line whose flag, unit or exit code went stale fails here. A block that keeps an exit code
//! in `code` (`|| code=$?`) must end with 0 or 2 in it (no changes, or changes).

use std::path::{Path, PathBuf};

use crate::common::{Org, demo_manifest};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `(file, first line, script)` of every runnable block.
fn runnable_blocks() -> Vec<(String, usize, String)> {
    let mut files = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    let mut blocks = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut current: Option<(usize, String)> = None;
        for (n, line) in text.lines().enumerate() {
            match &mut current {
                None if line.trim() == "```sh runnable" => current = Some((n + 2, String::new())),
                Some(_) if line.trim() == "```" => {
                    let (first, script) = current.take().unwrap();
                    let name = file.strip_prefix(root()).unwrap_or(&file);
                    blocks.push((name.display().to_string(), first, script));
                }
                Some((_, script)) => {
                    script.push_str(line);
                    script.push('\n');
                }
                None => {}
            }
        }
    }
    blocks
}

#[test]
fn runnable_shell_blocks_of_the_docs_run_as_written() {
    let blocks = runnable_blocks();
    assert!(blocks.len() >= 2, "runnable blocks: {blocks:?}");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_orgform"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (file, line, script) in blocks {
        let org = Org::small();
        let dir = tempfile::tempdir().unwrap();
        demo_manifest(dir.path());
        let checked = format!(
            "{script}case \"${{code:-0}}\" in 0 | 2) ;; *) echo \"kept exit code $code\" >&2; exit 1 ;; esac\n"
        );
        let output = std::process::Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &checked])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("ANTHROPIC_BASE_URL", org.emulator.base_url())
            .env("ANTHROPIC_ADMIN_KEY", org.emulator.admin_key())
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{file}:{line}: the block failed ({:?}):\n{script}\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
