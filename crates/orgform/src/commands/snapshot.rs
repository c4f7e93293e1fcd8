//! `orgform snapshot`: the live organization as deterministic, secret-free YAML.

use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform snapshot`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

/// Runs `orgform snapshot`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    super::live::render_live(
        global,
        args.out.as_deref(),
        orgform_api::ReadScope::Everything,
        crate::audit::render,
        crate::files::NewFile::Private,
    )
}
