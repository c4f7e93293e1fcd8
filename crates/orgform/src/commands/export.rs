//! `orgform export`.

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform export`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `orgform export`.
pub fn run(_global: &GlobalArgs, _args: &Args) -> anyhow::Result<Exit> {
    super::not_implemented("export")
}
