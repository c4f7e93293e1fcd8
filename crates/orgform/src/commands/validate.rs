//! `orgform validate`.

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform validate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `orgform validate`.
pub fn run(_global: &GlobalArgs, _args: &Args) -> anyhow::Result<Exit> {
    super::not_implemented("validate")
}
