//! `orgform export`: a manifest generated from the live organization.

use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

/// Runs `orgform export`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    super::live::render_live(
        global,
        args.out.as_deref(),
        orgform_api::ReadScope::Plan,
        crate::export::render,
        crate::files::NewFile::Shared,
    )
}
