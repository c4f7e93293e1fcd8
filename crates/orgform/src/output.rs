//! All terminal output goes through here: data to stdout, diagnostics and progress to stderr,
//! and the colour decision (`--color`, `NO_COLOR`, whether the stream is a terminal) made once.

use std::io::{IsTerminal as _, Write as _};

use anyhow::Context as _;

use crate::cli::ColorChoice;

/// Whether to colour what goes to stdout.
pub fn stdout_color(choice: ColorChoice, no_color: bool) -> bool {
    decide(choice, no_color, std::io::stdout().is_terminal())
}

/// Whether to colour what goes to stderr.
pub fn stderr_color(choice: ColorChoice, no_color: bool) -> bool {
    decide(choice, no_color, std::io::stderr().is_terminal())
}

fn decide(choice: ColorChoice, no_color: bool, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !no_color,
    }
}

/// Writes data to stdout (ending it with a newline when it has none). A closed pipe
/// (`orgform plan | head`) ends the output quietly; any other failure (a full disk,
/// `/dev/full`) is an error, so a command never succeeds having written nothing.
pub fn stdout(text: &str) -> anyhow::Result<()> {
    match write_stdout(text) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.is_empty() && !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// Lines of a message for stderr with the control characters of each line escaped (the
/// message's own line breaks are kept): error messages quote names and API answers.
pub fn message_lines(text: &str) -> String {
    text.split('\n')
        .map(orgform_plan::render::clean)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes a message line to stderr.
pub fn stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = err.write_all(b"\n");
    }
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_lines_keep_line_breaks_and_escape_the_rest() {
        assert_eq!(
            message_lines("error: x\u{1b}]0;t\u{7}\r\n  caused by: \u{9b}2J"),
            "error: x\\u{1b}]0;t\\u{7}\\u{d}\n  caused by: \\u{9b}2J"
        );
    }

    #[test]
    fn colour_decision() {
        assert!(decide(ColorChoice::Always, true, false));
        assert!(!decide(ColorChoice::Never, false, true));
        assert!(decide(ColorChoice::Auto, false, true));
        assert!(
            !decide(ColorChoice::Auto, true, true),
            "NO_COLOR wins under auto"
        );
        assert!(
            !decide(ColorChoice::Auto, false, false),
            "pipes get no colour"
        );
    }
}
