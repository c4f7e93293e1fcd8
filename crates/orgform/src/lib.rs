//! orgform's command line: argument parsing ([`cli`]), one module per command
//! ([`commands`]) and the documented exit codes ([`exit`]).

pub mod audit;
pub mod cli;
pub mod commands;
pub mod exit;
pub mod export;
pub mod export_federation;
pub mod failure;
pub mod federation;
pub mod files;
pub mod logging;
pub mod no_access;
pub mod output;
pub mod settings;
pub mod yaml;

/// Runs the command line and returns the process exit code.
pub fn main() -> std::process::ExitCode {
    let mut cli = match cli::parse() {
        Ok(cli) => cli,
        Err(err) => return exit::clap_error(&err),
    };
    cli.global.env = settings::Environment::from_process();
    let color = output::stderr_color(cli.global.color, cli.global.env.no_color);
    // The demo reads its own in-process emulator: its progress is the story it prints.
    let progress = !matches!(cli.command, cli::Command::Demo(_));
    logging::init(&cli.global, color, progress);
    let code = commands::run(cli);
    code.into()
}
