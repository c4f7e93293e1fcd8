//! `orgform plan`: read the live organization and print the ordered plan.

use std::path::PathBuf;

use orgform_plan::PlanOutcome;

use super::ManifestArg;
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
}

/// Runs `orgform plan`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    let inputs = super::prepare::inputs(global, &args.manifest.path, args.allow_destructive)?;
    let plan = orgform_plan::plan(&inputs.loaded.manifest, &inputs.live, &inputs.options);
    let color = crate::output::stdout_color(global.color, global.env.no_color);
    let text = match args.format {
        OutputFormat::Text => orgform_plan::render::text(&plan, color),
        OutputFormat::Json => orgform_plan::render::json(&plan),
        OutputFormat::Markdown => orgform_plan::render::markdown(&plan),
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
                    "Saved the plan to {}; apply it with: orgform apply {}",
                    path.display(),
                    path.display()
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
