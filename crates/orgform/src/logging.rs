//! Logging to stderr with `tracing`: `-q` errors only, default warnings, `-v` info (progress
//! of reads and applies), `-vv` debug (one line per API request), `-vvv` trace. `RUST_LOG`,
//! when set, replaces that choice with its own directives (e.g. `RUST_LOG=orgform_api=debug`).
//! `--log-format json` writes one JSON object per line, with structured fields only. The admin key never reaches a log line: the client redacts it at the source.
//! Field values may quote live names and API answers: their control characters are escaped
//! in both formats, like everything else orgform prints.

use std::io::IsTerminal as _;

use orgform_plan::render::{clean, json_controls};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::MakeExt as _;
use tracing_subscriber::fmt::format::debug_fn;

use crate::cli::{GlobalArgs, LogFormat};

/// Installs the global subscriber once; later calls do nothing. `progress`: whether the
/// command's progress lines may be shown (see [`progress_lines`]).
pub fn init(global: &GlobalArgs, color: bool, progress: bool) {
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
    let mut directive = if global.verbose >= 3 {
        level.to_owned()
    } else {
        format!(
            "warn,orgform={level},orgform_api={level},orgform_apply={level},orgform_emulator={level}"
        )
    };
    // Progress lines (a collection read, an action done, a long wait) are shown when stderr
    // is not a terminal, as in CI, where no spinner can show that a long read is alive.
    if progress && progress_lines(global) {
        directive.push_str(",orgform::progress=info");
    }
    let filter = match global.env.rust_log.as_deref() {
        Some(spec) if !spec.trim().is_empty() => EnvFilter::builder().parse_lossy(spec),
        _ => EnvFilter::new(directive),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(global.verbose >= 2);
    let _ = match global.log_format {
        LogFormat::Text => builder
            .with_writer(std::io::stderr)
            .fmt_fields(
                debug_fn(|writer, field, value| {
                    let value = clean(&format!("{value:?}"));
                    if field.name() == "message" {
                        write!(writer, "{value}")
                    } else {
                        write!(writer, "{field}={value}")
                    }
                })
                .delimited(" "),
            )
            .with_ansi(color)
            .try_init(),
        LogFormat::Json => builder.with_writer(|| JsonStderr).json().try_init(),
    };
}

/// Whether plain progress lines go to stderr at the default level: not with `-q`, and not on
/// a terminal (a spinner or bar is drawn there instead).
pub fn progress_lines(global: &GlobalArgs) -> bool {
    !global.quiet && !std::io::stderr().is_terminal()
}

/// stderr for JSON log lines, escaping the DEL and C1 characters serde_json leaves raw (see
/// [`json_controls`]). Each log line arrives in one write.
struct JsonStderr;

impl std::io::Write for JsonStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = json_controls(String::from_utf8_lossy(buf).into_owned());
        std::io::stderr().write_all(line.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
