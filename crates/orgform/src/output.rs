//! All terminal output goes through here: data to stdout, diagnostics and progress to stderr,
//! and the colour decision made once per stream. Under `--color auto` that decision is
//! `anstream`'s: no colour when `NO_COLOR` is set or `CLICOLOR=0`, colour when
//! `CLICOLOR_FORCE` is set, else colour only on a terminal whose `TERM` is not `dumb`.

use std::io::Write as _;

use anyhow::Context as _;

use crate::cli::ColorChoice;

/// Whether to colour what goes to stdout (`no_color`: `NO_COLOR` as read at start-up).
pub fn stdout_color(choice: ColorChoice, no_color: bool) -> bool {
    decide(
        choice,
        no_color,
        anstream::AutoStream::choice(&std::io::stdout()),
    )
}

/// Whether to colour what goes to stderr.
pub fn stderr_color(choice: ColorChoice, no_color: bool) -> bool {
    decide(
        choice,
        no_color,
        anstream::AutoStream::choice(&std::io::stderr()),
    )
}

fn decide(choice: ColorChoice, no_color: bool, auto: anstream::ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && auto != anstream::ColorChoice::Never,
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
        use anstream::ColorChoice as Stream;
        assert!(decide(ColorChoice::Always, true, Stream::Never));
        assert!(!decide(ColorChoice::Never, false, Stream::Always));
        assert!(decide(ColorChoice::Auto, false, Stream::Always));
        assert!(
            !decide(ColorChoice::Auto, true, Stream::Always),
            "NO_COLOR wins under auto"
        );
        assert!(
            !decide(ColorChoice::Auto, false, Stream::Never),
            "pipes, TERM=dumb and CLICOLOR=0 get no colour"
        );
    }
}
