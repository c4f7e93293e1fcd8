//! Project chores. `cargo run -p xtask -- schema [--check]` regenerates the committed files;
//! `cargo run --release -p xtask -- bench [--quick]` prints the performance report.
//!
//! `schema` writes `schema/orgform.schema.json` from the manifest types; with `--check` it
//! writes nothing and fails when the committed file differs from what the types generate.
//! `bench` is described in its module and in `docs/performance.md`.

mod bench;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn schema(check: bool) -> anyhow::Result<String> {
    let path = repo_root().join("schema/orgform.schema.json");
    let fresh = orgform_manifest::generate_schema();
    if check {
        let committed = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if committed != fresh {
            bail!("schema/orgform.schema.json is out of date; run `cargo run -p xtask -- schema`");
        }
        return Ok("schema/orgform.schema.json is up to date".to_owned());
    }
    std::fs::write(&path, fresh).with_context(|| format!("cannot write {}", path.display()))?;
    Ok("wrote schema/orgform.schema.json".to_owned())
}

fn run(args: &[String]) -> anyhow::Result<String> {
    match args.first().map(String::as_str) {
        Some("schema") => match &args[1..] {
            [] => schema(false),
            [flag] if flag == "--check" => schema(true),
            other => bail!("unexpected arguments to `schema`: {}", other.join(" ")),
        },
        Some("bench") => bench::run(&args[1..]),
        // The measuring process `bench` starts (not for use by hand).
        Some("bench-child") => bench::child::run(&args[1..]),
        _ => bail!(
            "usage: cargo run -p xtask -- schema [--check]\n       cargo run --release -p xtask -- bench [--quick] [--sizes 100,2000] [--no-apply] [--no-large]"
        ),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(message) => {
            #[expect(clippy::print_stdout, reason = "a chore reports what it did")]
            {
                println!("{message}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            #[expect(clippy::print_stderr, reason = "a chore reports why it failed")]
            {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}
