//! `orgform validate`: load and check the manifest offline, print every problem.
//!
//! Problems go to stderr (coloured per `--color`), then one `error:` line; the exit code is 4
//! for any error, including a manifest that cannot be read. A valid manifest prints its
//! warnings on stderr and one summary line on stdout.

use std::fmt::Write as _;

use super::ManifestArg;
use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Parse and check the manifest offline (no network, no admin key): every problem is printed
/// with its file, line and column. Exits 4 when the manifest is invalid.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The manifest.
    #[command(flatten)]
    pub manifest: ManifestArg,
}

/// Runs `orgform validate`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    let loaded = super::prepare::manifest(global, &args.manifest.path)?;
    crate::output::stdout(&summary(&args.manifest.path.display().to_string(), &loaded))?;
    Ok(Exit::Success)
}

/// The one-line summary of a valid manifest.
fn summary(path: &str, loaded: &orgform_manifest::Loaded) -> String {
    let m = &loaded.manifest;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut line = format!(
        "{path} is valid: {}, {}, {}",
        plural(m.members.len(), "member", "members"),
        plural(m.workspaces.len(), "workspace", "workspaces"),
        plural(m.api_keys.len(), "API key", "API keys"),
    );
    if !loaded.warnings.is_empty() {
        let _ = write!(
            line,
            " ({})",
            plural(loaded.warnings.len(), "warning", "warnings")
        );
    }
    line
}
