//! `orgform drift`: report-only comparison of the live organization with the manifest.

use orgform_plan::PlanOptions;

use super::ManifestArg;
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
}

/// Runs `orgform drift`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    let loaded = super::prepare::manifest(global, &args.manifest.path)?;
    let client = crate::settings::client(global)?;
    let live =
        crate::settings::runtime()?.block_on(super::prepare::live(global, &client, &loaded))?;
    let options = PlanOptions {
        allow_destructive: None,
        now: super::prepare::now(global),
        manifest_digest: loaded.digest.clone(),
    };
    let report = orgform_plan::drift(&loaded.manifest, &live, &options);
    let color = crate::output::stdout_color(global.color, global.env.no_color);
    let text = match args.format {
        OutputFormat::Text => orgform_plan::render::drift_text(&report, color),
        OutputFormat::Json => orgform_plan::render::drift_json(&report),
        OutputFormat::Markdown => orgform_plan::render::drift_markdown(&report),
    };
    crate::output::stdout(&text);
    Ok(if report.is_refused() {
        Exit::Refused
    } else if report.has_drift() {
        Exit::Changes
    } else {
        Exit::Success
    })
}
