//! One module per command, each with its `Args` (whose doc comment is the help) and `run`.

pub mod apply;
pub mod completions;
pub mod demo;
pub mod doctor;
pub mod drift;
pub mod emulator;
pub mod export;
mod live;
pub mod man;
pub mod plan;
pub(crate) mod prepare;
mod saved_plan;
pub mod schema;
pub mod snapshot;
pub mod validate;

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// `-f/--file PATH`: the manifest, one file or a directory of fragments.
#[derive(Clone, Debug, clap::Args)]
pub struct ManifestArg {
    /// Manifest file, or a directory whose *.yaml/*.yml files are its fragments.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "PATH",
        default_value = "org.yaml"
    )]
    pub path: PathBuf,
}

/// `--audit-snapshot PATH`: the committed audit snapshot, whose `no_access_since` dates tell a
/// staged removal when its grace period started.
#[derive(Clone, Debug, clap::Args)]
pub struct AuditSnapshotArg {
    /// The audit snapshot `orgform snapshot --out` keeps (committed to git): with
    /// `settings.members.removal: staged`, a member is removed only once it records them
    /// without access for `grace_days`.
    #[arg(long, value_name = "PATH")]
    pub audit_snapshot: Option<PathBuf>,
}

/// `--source-url-prefix URL`: where the manifest's files can be browsed, for links from a
/// Markdown report to the manifest lines behind each item.
#[derive(Clone, Debug, clap::Args)]
pub struct SourceLinkArg {
    /// With --format markdown: link each item to its manifest line as URL/FILE#LLINE (e.g.
    /// the blob URL of a pull request's head commit; FILE is the manifest path as given to -f,
    /// so run from the repository root).
    #[arg(long, value_name = "URL", value_parser = source_url_prefix)]
    pub source_url_prefix: Option<String>,
}

impl SourceLinkArg {
    /// The Markdown choices this flag makes.
    pub fn markdown(&self) -> orgform_plan::render::MarkdownOptions {
        orgform_plan::render::MarkdownOptions {
            source_url_prefix: self.source_url_prefix.clone(),
        }
    }
}

/// An http(s) URL without characters that could end a Markdown link or hide in a terminal.
fn source_url_prefix(text: &str) -> Result<String, String> {
    let parsed = url::Url::parse(text).map_err(|err| format!("not a URL: {err}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("the URL must start with https:// (or http://)".to_owned());
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "<>()[]\"'`".contains(*c))
    {
        return Err(format!(
            "the URL may not contain {c:?}; percent-encode it (e.g. %20 for a space)"
        ));
    }
    Ok(text.to_owned())
}

/// A failure that carries its exit code; anything else that goes wrong exits 1.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// The exit code to use.
    pub exit: Exit,
    /// What to tell the user.
    pub message: String,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Exit {
    let Cli { global, command } = cli;
    let result = match command {
        Command::Validate(args) => validate::run(&global, &args),
        Command::Plan(args) => plan::run(&global, &args),
        Command::Apply(args) => apply::run(&global, &args),
        Command::Drift(args) => drift::run(&global, &args),
        Command::Snapshot(args) => snapshot::run(&global, &args),
        Command::Export(args) => export::run(&global, &args),
        Command::Schema(args) => schema::run(&global, &args),
        Command::Emulator(args) => emulator::run(&global, &args),
        Command::Demo(args) => demo::run(&global, &args),
        Command::Doctor(args) => doctor::run(&global, &args),
        Command::Completions(args) => completions::run(&global, &args),
        Command::Man(args) => man::run(&global, &args),
    };
    match result {
        Ok(exit) => exit,
        Err(err) => report_error(&err),
    }
}

/// Prints an error with its causes on stderr and picks its exit code. Messages quote names
/// and API answers: their control characters are escaped, and an API error (whose text is the
/// server's) is kept on its one line.
fn report_error(err: &anyhow::Error) -> Exit {
    let exit = exit_of(err);
    // Hints go last, after the causes they are about.
    let mut hints = Vec::new();
    let mut text = String::from("error: ");
    for (i, cause) in err.chain().enumerate() {
        let message = shown(cause);
        let mut lines = message.split('\n');
        if i > 0 {
            text.push_str("\n  caused by: ");
        }
        text.push_str(lines.next().unwrap_or_default());
        for line in lines {
            if line.trim_start().starts_with("hint: ") {
                hints.push(line.trim_start().to_owned());
            } else {
                let _ = write!(text, "\n{line}");
            }
        }
    }
    for hint in hints {
        let _ = write!(text, "\n  {hint}");
    }
    crate::output::stderr(&text);
    exit
}

/// The exit code of an error: its own when it carries one, else 1.
pub(crate) fn exit_of(err: &anyhow::Error) -> Exit {
    if let Some(refusal) = err.downcast_ref::<Refusal>() {
        refusal.exit
    } else if let Some(stop) = err.downcast_ref::<prepare::Stop>() {
        stop.exit()
    } else {
        Exit::Error
    }
}

fn shown(err: &(dyn std::error::Error + 'static)) -> String {
    if err.is::<orgform_api::ApiError>() {
        orgform_plan::render::clean(&err.to_string())
    } else {
        crate::output::message_lines(&err.to_string())
    }
}
