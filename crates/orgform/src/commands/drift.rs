//! `orgform drift`: report-only comparison of the live organization with the manifest.

use super::{ManifestArg, SourceLinkArg};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::exit::Exit;

/// Arguments of `orgform drift`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The manifest.
    #[command(flatten)]
    pub manifest: ManifestArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Links to the manifest lines (Markdown).
    #[command(flatten)]
    pub source_links: SourceLinkArg,
}

/// Runs `orgform drift`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    let inputs = super::prepare::inputs(global, &args.manifest.path, None)
        .inspect_err(|err| crate::failure::print(args.format, "drift", err))?;
    let report = orgform_plan::drift(&inputs.loaded.manifest, &inputs.live, &inputs.options);
    let color = crate::output::stdout_color(global.color, global.env.no_color);
    let text = match args.format {
        OutputFormat::Text => orgform_plan::render::drift_text(&report, color),
        OutputFormat::Json => orgform_plan::render::drift_json(&report),
        OutputFormat::Markdown => {
            orgform_plan::render::drift_markdown_with(&report, &args.source_links.markdown())
        }
    };
    crate::output::stdout(&text)?;
    Ok(if report.is_refused() {
        Exit::Refused
    } else if report.has_drift() {
        Exit::Changes
    } else {
        Exit::Success
    })
}
