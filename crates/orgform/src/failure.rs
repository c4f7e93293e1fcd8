//! The body `plan` and `drift` print on stdout under `--format json|markdown` when no plan or
//! report could be made: an invalid manifest (exit 4), an organization mismatch (exit 3) or an
//! error (exit 1). A pipeline that posts stdout as a pull-request comment then posts what went
//! wrong and what to do, never an empty comment; stderr and the exit code are unchanged.
//!
//! The JSON document (`docs/cli.md`, "When no plan can be made") has `format_version`,
//! `command`, `outcome` (`invalid_manifest`, `refused`, `error`), `exit_code`, `message`,
//! `causes`, `hint`, `errors` (the manifest's problems, each with its place) and `refusal`
//! (`null`, or the organization mismatch).

use std::fmt::Write as _;

use orgform_plan::render::{clean, json_pretty, markdown_fenced};
use serde_json::{Value, json};

use crate::cli::OutputFormat;
use crate::commands::prepare::Stop;

/// The version of the failure document's shape.
pub const FAILURE_FORMAT_VERSION: u32 = 1;

/// The body for `format` (none for text: stderr already says everything).
pub fn body(format: OutputFormat, command: &str, err: &anyhow::Error) -> Option<String> {
    match format {
        OutputFormat::Text => None,
        OutputFormat::Json => Some(json(command, err)),
        OutputFormat::Markdown => Some(markdown(command, err)),
    }
}

/// Prints the body for `format` on stdout (nothing for text). A failure to write it is not
/// reported: the error being reported matters more, and stderr carries it.
pub fn print(format: OutputFormat, command: &str, err: &anyhow::Error) {
    if let Some(body) = body(format, command, err) {
        let _ = crate::output::stdout(&body);
    }
}

/// The headline (first line of the message) and the hint written under it, if any.
fn headline_and_hint(err: &anyhow::Error) -> (String, Option<String>) {
    let text = err.to_string();
    let mut lines = text.lines();
    let headline = clean(lines.next().unwrap_or_default());
    let hint = lines
        .filter_map(|l| l.trim_start().strip_prefix("hint: "))
        .map(clean)
        .reduce(|a, b| format!("{a}; {b}"));
    (headline, hint)
}

fn causes(err: &anyhow::Error) -> Vec<String> {
    err.chain().skip(1).map(|c| clean(&c.to_string())).collect()
}

fn outcome(err: &anyhow::Error) -> (&'static str, u8) {
    let exit = crate::commands::exit_of(err);
    let name = match exit {
        crate::exit::Exit::InvalidManifest => "invalid_manifest",
        crate::exit::Exit::Refused => "refused",
        _ => "error",
    };
    (name, exit as u8)
}

/// The manifest's errors with their places, as JSON objects.
fn problems(err: &anyhow::Error) -> Vec<Value> {
    let Some(Stop::InvalidManifest(invalid)) = err.downcast_ref::<Stop>() else {
        return Vec::new();
    };
    invalid
        .errors()
        .map(|p| {
            let (file, line, column) = p.location.as_ref().map_or((None, None, None), |l| {
                (Some(clean(&l.file)), Some(l.line), Some(l.column))
            });
            json!({
                "code": p.code,
                "message": clean(&p.message),
                "help": p.help.as_deref().map(clean),
                "file": file,
                "line": line,
                "column": column,
            })
        })
        .collect()
}

fn refusal(err: &anyhow::Error) -> Value {
    match err.downcast_ref::<Stop>() {
        Some(Stop::OrganizationMismatch { wanted, id, name }) => json!({
            "kind": "organization_mismatch",
            "manifest_organization_id": clean(wanted),
            "key_organization": { "id": clean(id), "name": clean(name) },
        }),
        _ => Value::Null,
    }
}

/// The JSON failure document.
pub fn json(command: &str, err: &anyhow::Error) -> String {
    let (headline, hint) = headline_and_hint(err);
    let (outcome, exit_code) = outcome(err);
    let mut out = json_pretty(&json!({
        "format_version": FAILURE_FORMAT_VERSION,
        "command": command,
        "outcome": outcome,
        "exit_code": exit_code,
        "message": headline,
        "causes": causes(err),
        "hint": hint,
        "errors": problems(err),
        "refusal": refusal(err),
    }));
    out.push('\n');
    out
}

/// The Markdown failure comment: a heading saying what happened, what it means, then the
/// details in a code block (they quote the manifest and the API, so they are never Markdown).
pub fn markdown(command: &str, err: &anyhow::Error) -> String {
    let (headline, hint) = headline_and_hint(err);
    let (outcome, exit_code) = outcome(err);
    let mut out = String::new();
    let (title, meaning) = match outcome {
        "invalid_manifest" => (
            "the manifest is invalid",
            "Nothing was read from the organization or changed. Fix these problems (each with \
             its file, line and column), then push again; `orgform validate` checks them \
             offline.",
        ),
        "refused" => (
            "refused",
            "Nothing was read or changed: orgform refused to work on this organization.",
        ),
        _ => (
            "error",
            "No plan was made and nothing was changed. Run the job again; if it fails the same \
             way, check what the details say.",
        ),
    };
    let _ = writeln!(
        out,
        "### orgform {command}: {title} (exit {exit_code})\n\n{meaning}\n"
    );
    let mut details = String::new();
    if let Some(Stop::InvalidManifest(invalid)) = err.downcast_ref::<Stop>() {
        let _ = writeln!(details, "{headline}");
        for p in invalid.errors() {
            let place = p.location.as_ref().map_or_else(
                || "(no place)".to_owned(),
                |l| format!("{}:{}:{}", l.file, l.line, l.column),
            );
            let _ = writeln!(details, "- {}: {}", clean(&place), clean(&p.message));
            if let Some(help) = &p.help {
                let _ = writeln!(details, "  hint: {}", clean(help));
            }
        }
    } else {
        let _ = writeln!(details, "{headline}");
        for cause in causes(err) {
            let _ = writeln!(details, "  caused by: {cause}");
        }
    }
    out.push_str(&markdown_fenced("text", &details));
    if let Some(hint) = hint {
        out.push('\n');
        out.push_str(&markdown_fenced("text", &format!("hint: {hint}")));
    }
    out
}
