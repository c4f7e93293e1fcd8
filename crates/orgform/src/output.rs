//! All terminal output goes through here: data to stdout, diagnostics and progress to stderr,
//! and the colour decision (`--color`, `NO_COLOR`, whether the stream is a terminal) made once.

use std::io::{IsTerminal as _, Write as _};

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

/// Writes data to stdout. A closed pipe (`orgform plan | head`) is not an error worth a
/// message, so write errors end the output quietly.
pub fn stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.is_empty() && !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
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
