//! `orgform snapshot`: the live organization as deterministic, secret-free YAML.

use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform snapshot`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

/// Runs `orgform snapshot`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    let client = crate::settings::client(global)?;
    let live = crate::settings::runtime()?.block_on(super::live::fetch(global, &client))?;
    let text = crate::audit::render(&live);
    match &args.out {
        Some(path) => super::live::write_file(path, &text)?,
        None => crate::output::stdout(&text),
    }
    Ok(Exit::Success)
}
