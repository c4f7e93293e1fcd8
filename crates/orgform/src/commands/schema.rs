//! `orgform schema`: print the manifest's JSON Schema (the committed
//! `schema/orgform.schema.json`, embedded at build time).

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Print the manifest's JSON Schema, for editors and CI (e.g. the yaml-language-server
/// `$schema` comment).
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `orgform schema`.
pub fn run(_global: &GlobalArgs, _args: &Args) -> anyhow::Result<Exit> {
    crate::output::stdout(orgform_manifest::SCHEMA_JSON)?;
    Ok(Exit::Success)
}
