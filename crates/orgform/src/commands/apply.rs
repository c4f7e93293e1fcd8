//! `orgform apply`.

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform apply`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `orgform apply`.
pub fn run(_global: &GlobalArgs, _args: &Args) -> anyhow::Result<Exit> {
    super::not_implemented("apply")
}
