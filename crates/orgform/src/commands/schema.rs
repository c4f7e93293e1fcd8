//! `orgform schema`.

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform schema`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `orgform schema`.
pub fn run(_global: &GlobalArgs, _args: &Args) -> anyhow::Result<Exit> {
    super::not_implemented("schema")
}
