//! `orgform snapshot`: the live organization as deterministic, secret-free YAML, with its rate
//! limits (the organization's and each active workspace's overrides).

use std::path::PathBuf;

use crate::audit::LimitsRead;
use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `orgform snapshot`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write to this file instead of stdout; the `no_access_since` dates it records are kept
    /// for members still without access.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

/// Runs `orgform snapshot`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    let client = crate::settings::client(global)?;
    let runtime = crate::settings::runtime()?;
    let (live, limits) = runtime.block_on(async {
        let live = super::live::fetch(global, &client, orgform_api::ReadScope::Everything, None).await?;
        let active: Vec<String> = live
            .workspaces
            .iter()
            .filter(|w| !w.is_archived())
            .map(|w| w.id.clone())
            .collect();
        let limits = match client.rate_limits(&active).await {
            Ok(limits) => LimitsRead::Read(limits),
            // The credential may not read rate limits: recorded as unreadable, so the
            // snapshot never claims the limits are gone.
            Err(err) if matches!(err.status(), Some(403 | 404)) => {
                let reason = match &err {
                    orgform_api::ApiError::Api {
                        status, error_type, ..
                    } => format!("http {status} {error_type}"),
                    other => other.to_string(),
                };
                if !global.quiet {
                    crate::output::stderr(&format!(
                        "warning: rate limits not readable ({}); the snapshot records them as unreadable\n",
                        orgform_plan::render::clean(&err.to_string())
                    ));
                }
                LimitsRead::Unreadable(reason)
            }
            Err(err) => {
                return Err(anyhow::Error::new(err).context(
                    "cannot read the rate limits completely; nothing was written (run again)",
                ));
            }
        };
        anyhow::Ok((live, limits))
    })?;
    // The instant of this read, for members newly without access (`no_access_since`): the
    // API's clock, as for plans. Only a file has dates to carry over; stdout gets none.
    let no_access = match &args.out {
        Some(path) => {
            let (now, _) = super::prepare::planning_clock(global, &client);
            let (dates, warning) = crate::no_access::carry(Some(path), &live, now);
            if let Some(warning) = warning
                && !global.quiet
            {
                crate::output::stderr(&format!(
                    "warning: {}",
                    orgform_plan::render::clean(&warning)
                ));
            }
            dates
        }
        None => std::collections::BTreeMap::new(),
    };
    let text = crate::audit::render_with_limits(&live, &limits, &no_access);
    match &args.out {
        Some(path) => {
            crate::files::write_output(path, "--out", &text, crate::files::NewFile::Private)?;
        }
        None => crate::output::stdout(&text)?,
    }
    Ok(Exit::Success)
}
