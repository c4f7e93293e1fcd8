//! Logging to stderr with `tracing`: `-q` errors only, default warnings, `-v` info, `-vv`
//! debug (one line per API request), `-vvv` trace. `--log-format json` writes one JSON object
//! per line. The admin key never reaches a log line: the client redacts it at the source.

use tracing_subscriber::EnvFilter;

use crate::cli::{GlobalArgs, LogFormat};

/// Installs the global subscriber once; later calls do nothing.
pub fn init(global: &GlobalArgs, color: bool) {
    let level = if global.quiet {
        "error"
    } else {
        match global.verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    // Only orgform's own crates log above warnings; dependencies stay quiet unless -vvv.
    let directive = if global.verbose >= 3 {
        level.to_owned()
    } else {
        format!(
            "warn,orgform={level},orgform_api={level},orgform_apply={level},orgform_emulator={level}"
        )
    };
    let filter = EnvFilter::new(directive);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(global.verbose >= 2);
    let _ = match global.log_format {
        LogFormat::Text => builder.with_ansi(color).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
