//! `orgform doctor`: a read-only first-contact check of an organization.
//!
//! It checks that the key works and is an Admin API key; names the organization and, with
//! `-f`, whether the manifest's `organization.id` pins it; reads every collection as a plan
//! does (counts, pages, and the time that takes under the client's rate limit); tells which
//! reading the API shows on each point its documentation leaves open (named like
//! `orgform emulator --reading`); compares the API's clock (`date` header) with the local one;
//! and asks for the permissions optional features need (the activity feed, the usage report).
//! Every request is a GET.
//!
//! Exit 0 when orgform can work with what it saw (warnings allowed), 1 otherwise.

mod observe;
mod readings;
mod report;

use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::exit::Exit;

pub use observe::ManifestPin;
pub use report::{DOCTOR_FORMAT, Report};

/// `--format` of `orgform doctor`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DoctorFormat {
    /// Terminal text.
    #[default]
    Text,
    /// Versioned JSON for machines.
    Json,
}

/// Arguments of `orgform doctor`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A manifest whose organization.id should match the key's organization (optional).
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DoctorFormat::Text)]
    pub format: DoctorFormat,
}

/// Runs `orgform doctor`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    let pin = match &args.manifest {
        None => ManifestPin::None,
        Some(path) => match orgform_manifest::load(path) {
            Ok(loaded) => ManifestPin::Pinned(loaded.manifest.organization.id.clone()),
            Err(err) => ManifestPin::Unusable(format!(
                "{}: {err} (hint: `orgform validate -f {}` lists every problem)",
                path.display(),
                path.display()
            )),
        },
    };
    let client = crate::settings::client(global)?;
    let endpoint = global.connection.endpoint.clone();
    let report = crate::settings::runtime()?.block_on(async {
        let spinner = super::live::progress(global, "examining the organization");
        let report = observe::examine(&client, &endpoint, &pin).await;
        if let Some(spinner) = spinner {
            spinner.finish_and_clear();
        }
        report
    });
    // Names, ids and messages come from the API: their control characters are escaped.
    crate::output::stdout(&match args.format {
        DoctorFormat::Text => crate::output::message_lines(&report.text()),
        DoctorFormat::Json => orgform_plan::render::json_controls(report.json()),
    })?;
    Ok(if report.ok() {
        Exit::Success
    } else {
        Exit::Error
    })
}
