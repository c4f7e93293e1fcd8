//! Reading the live organization for a command: a spinner on stderr while it lasts (only when
//! stderr is a terminal), and a clear error when the read fails. A failed read is never
//! turned into a partial picture: the command stops.

use std::io::IsTerminal as _;
use std::time::Duration;

use anyhow::Context as _;
use orgform_api::Client;
use orgform_model::Snapshot;

use crate::cli::GlobalArgs;

/// Reads the whole organization.
pub async fn fetch(global: &GlobalArgs, client: &Client) -> anyhow::Result<Snapshot> {
    let spinner = progress(global, "reading the organization");
    let ticker =
        crate::logging::progress_lines(global).then(|| heartbeat("reading the organization"));
    let result = client.fetch_snapshot().await;
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    let hint = match &result {
        Err(orgform_api::ApiError::InconsistentRead { .. }) => {
            "the organization was read incompletely or inconsistently; nothing was planned \
             or changed (run again; if it persists, the endpoint does not answer like the \
             Admin API)"
        }
        _ => {
            "cannot read the organization completely; nothing was planned or changed \
             (check the endpoint, the key and the network, then run again)"
        }
    };
    result.context(hint)
}

/// How often a long read or apply says it is still going, when stderr is not a terminal.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// A task that logs a progress line every [`HEARTBEAT`] until aborted: `what` and how long it
/// has taken so far (a rate-limited read of a large organization takes minutes).
pub fn heartbeat(what: &'static str) -> tokio::task::JoinHandle<()> {
    let started = tokio::time::Instant::now();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(started + HEARTBEAT, HEARTBEAT);
        loop {
            tick.tick().await;
            tracing::info!(
                target: orgform_api::PROGRESS_TARGET,
                "still {what} ({} s so far; requests are paced to the rate limit)",
                started.elapsed().as_secs()
            );
        }
    })
}

/// Reads the whole organization and writes `render` of it to `out` (a new file of the given
/// kind), or stdout.
pub fn render_live(
    global: &GlobalArgs,
    out: Option<&std::path::Path>,
    render: fn(&Snapshot) -> String,
    kind: crate::files::NewFile,
) -> anyhow::Result<crate::exit::Exit> {
    let client = crate::settings::client(global)?;
    let live = crate::settings::runtime()?.block_on(fetch(global, &client))?;
    let text = render(&live);
    match out {
        Some(path) => crate::files::write_output(path, "--out", &text, kind)?,
        None => crate::output::stdout(&text)?,
    }
    Ok(crate::exit::Exit::Success)
}

/// A spinner on stderr, or `None` when stderr is not a terminal or output is quiet.
pub fn progress(global: &GlobalArgs, message: &str) -> Option<indicatif::ProgressBar> {
    if global.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}
