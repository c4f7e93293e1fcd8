//! `orgform plan`.

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform plan`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `orgform plan`.
pub fn run(_global: &GlobalArgs, _args: &Args) -> anyhow::Result<Exit> {
    super::not_implemented("plan")
}
