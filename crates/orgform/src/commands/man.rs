//! `orgform man`: the manual pages, generated from the same command line as `--help`.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Print the manual page (roff) on stdout, or write one page per command to a directory.
///
/// Install it with e.g. `orgform man > ~/.local/share/man/man1/orgform.1`, or
/// `orgform man --out /usr/local/share/man/man1` for `man orgform-plan` too.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write orgform.1 and orgform-COMMAND.1 for every command into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Runs `orgform man`.
pub fn run(_global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    let command = crate::cli::command();
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create --out {}", dir.display()))?;
        clap_mangen::generate_to(command, dir)
            .with_context(|| format!("cannot write the manual pages to {}", dir.display()))?;
    } else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .context("cannot render the manual page")?;
        crate::output::stdout(&String::from_utf8_lossy(&page))?;
    }
    Ok(Exit::Success)
}
