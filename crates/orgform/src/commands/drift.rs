//! `orgform drift`.

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform drift`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `orgform drift`.
pub fn run(_global: &GlobalArgs, _args: &Args) -> anyhow::Result<Exit> {
    super::not_implemented("drift")
}
