//! `orgform snapshot`.

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform snapshot`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `orgform snapshot`.
pub fn run(_global: &GlobalArgs, _args: &Args) -> anyhow::Result<Exit> {
    super::not_implemented("snapshot")
}
