//! `orgform completions SHELL`: shell completion scripts.

use crate::cli::GlobalArgs;
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
    let mut command = crate::cli::command();
    // Generated into memory first: the generator panics when its writer fails.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "orgform", &mut script);
    crate::output::stdout(&String::from_utf8_lossy(&script))?;
    Ok(Exit::Success)
}
