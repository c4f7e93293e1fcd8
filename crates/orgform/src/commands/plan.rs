//! `orgform plan`: read the live organization and print the ordered plan.

use std::fmt::Write as _;
use std::path::PathBuf;

use orgform_plan::PlanOutcome;

use super::{AuditSnapshotArg, ManifestArg, SourceLinkArg};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::exit::Exit;

/// Arguments of `orgform plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The manifest.
    #[command(flatten)]
    pub manifest: ManifestArg,
    /// Save the plan (JSON) for `orgform apply PLANFILE`.
    #[arg(long, value_name = "PLANFILE")]
    pub out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Exit 2 when there are changes to apply, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Allow up to N destructive actions of each kind in this run (replaces the manifest's
    /// limits).
    #[arg(long, value_name = "N")]
    pub allow_destructive: Option<u32>,
    /// Links to the manifest lines (Markdown).
    #[command(flatten)]
    pub source_links: SourceLinkArg,
    /// The audit snapshot (staged removal).
    #[command(flatten)]
    pub audit: AuditSnapshotArg,
}

/// Runs `orgform plan`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    let inputs = super::prepare::inputs(
        global,
        &args.manifest.path,
        args.allow_destructive,
        args.audit.audit_snapshot.as_deref(),
    )
    .inspect_err(|err| crate::failure::print(args.format, "plan", err))?;
    let plan = orgform_plan::plan(&inputs.loaded.manifest, &inputs.live, &inputs.options);
    let color = crate::output::stdout_color(global.color, global.env.no_color);
    let text = match args.format {
        OutputFormat::Text => orgform_plan::render::text(&plan, color),
        OutputFormat::Json => orgform_plan::render::json(&plan),
        OutputFormat::Markdown => {
            orgform_plan::render::markdown_with(&plan, &args.source_links.markdown())
        }
    };
    crate::output::stdout(&text)?;
    for line in super::prepare::refusal_lines(&plan) {
        crate::output::stderr(&line);
    }
    if let Some(path) = &args.out {
        if plan.is_refused() {
            crate::output::stderr(&format!(
                "not saving the plan to {}: it is refused",
                path.display()
            ));
        } else {
            crate::files::write_output(
                path,
                "--out",
                &orgform_plan::render::json(&plan),
                crate::files::NewFile::Private,
            )?;
            if !global.quiet {
                crate::output::stderr(&format!(
                    "Saved the plan to {}; apply it with: {}",
                    path.display(),
                    apply_command(args, path)
                ));
            }
        }
    }
    Ok(match plan.outcome() {
        PlanOutcome::Refused | PlanOutcome::Blocked => Exit::Refused,
        PlanOutcome::Changes if args.detailed_exitcode => Exit::Changes,
        PlanOutcome::Changes | PlanOutcome::NoChanges => Exit::Success,
    })
}

/// The `orgform apply` command line that applies a saved plan: the same manifest (`-f`), the
/// same `--allow-destructive` and `--audit-snapshot`, or the plan made at apply time would differ or be refused.
fn apply_command(args: &Args, plan_file: &std::path::Path) -> String {
    let mut command = format!(
        "orgform apply -f {}",
        shell_word(&args.manifest.path.to_string_lossy())
    );
    if let Some(n) = args.allow_destructive {
        let _ = write!(command, " --allow-destructive {n}");
    }
    if let Some(path) = &args.audit.audit_snapshot {
        let _ = write!(
            command,
            " --audit-snapshot {}",
            shell_word(&path.to_string_lossy())
        );
    }
    command.push(' ');
    command.push_str(&shell_word(&plan_file.to_string_lossy()));
    command
}

/// `word` as one POSIX shell word: as is when it is made of safe characters, else in single
/// quotes (a quote inside becomes `'\''`); a leading `-` gets `./` so it is not read as a flag.
fn shell_word(word: &str) -> String {
    if word.starts_with('-') {
        return shell_word(&format!("./{word}"));
    }
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:,+@%=".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("envs/prod/org.yaml"), "envs/prod/org.yaml");
        assert_eq!(shell_word("my org.yaml"), "'my org.yaml'");
        assert_eq!(shell_word("it's.yaml"), "'it'\\''s.yaml'");
        assert_eq!(shell_word("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("-plan.json"), "./-plan.json");
    }
}
