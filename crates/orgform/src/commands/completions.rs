//! `orgform completions SHELL`: shell completion scripts.

use clap::CommandFactory as _;

use crate::cli::{Cli, GlobalArgs};
use crate::exit::Exit;

/// Print a shell completion script on stdout.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Runs `orgform completions`.
pub fn run(_global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    let mut command = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, "orgform", &mut out);
    Ok(Exit::Success)
}
