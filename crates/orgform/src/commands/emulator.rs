//! `orgform emulator`.

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform emulator`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `orgform emulator`.
pub fn run(_global: &GlobalArgs, _args: &Args) -> anyhow::Result<Exit> {
    super::not_implemented("emulator")
}
