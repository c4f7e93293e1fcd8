//! `orgform demo`.

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform demo`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `orgform demo`.
pub fn run(_global: &GlobalArgs, _args: &Args) -> anyhow::Result<Exit> {
    super::not_implemented("demo")
}
