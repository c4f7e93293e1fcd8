//! Exit codes of the CLI contract (`docs/cli.md`): 0 success, 1 error, 2 changes or drift,
//! 3 refused, 4 invalid manifest, 64 usage.

use std::process::ExitCode;

/// The documented exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Success; with `--detailed-exitcode` or `drift`: nothing to change.
    Success = 0,
    /// Network, API, or failed apply actions.
    Error = 1,
    /// Changes pending (`plan --detailed-exitcode`) or drift found (`drift`).
    Changes = 2,
    /// Refused: organization mismatch, destructive limit, stale plan, plan errors, blocked items.
    Refused = 3,
    /// The manifest is invalid.
    InvalidManifest = 4,
    /// Bad flags.
    Usage = 64,
    /// Interrupted twice during `apply`: exited at once, with actions in flight.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(value: Exit) -> Self {
        ExitCode::from(value as u8)
    }
}

/// Prints a clap error and maps it: asked-for help and version are successes, everything
/// else is a usage error (64, not clap's default 2, which means "changes pending" here). A
/// missing subcommand prints the help on stderr (stdout is for data) and exits 64.
pub fn clap_error(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            Exit::Success.into()
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            crate::output::stderr(&err.render().to_string());
            Exit::Usage.into()
        }
        _ => {
            let _ = err.print();
            Exit::Usage.into()
        }
    }
}
