//! orgform's command line: argument parsing ([`cli`]), one module per command
//! ([`commands`]) and the documented exit codes ([`exit`]).

pub mod audit;
pub mod cli;
pub mod commands;
pub mod exit;
pub mod export;
pub mod files;
pub mod logging;
pub mod output;
pub mod settings;
pub mod yaml;

use clap::Parser as _;

/// Runs the command line and returns the process exit code.
pub fn main() -> std::process::ExitCode {
    let mut cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return exit::clap_error(&err),
    };
    cli.global.env = settings::Environment::from_process();
    let color = output::stderr_color(cli.global.color, cli.global.env.no_color);
    logging::init(&cli.global, color);
    let code = commands::run(cli);
    code.into()
}
