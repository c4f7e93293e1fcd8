//! Reading the live organization for a command: a spinner on stderr while it lasts (only when
//! stderr is a terminal), and a clear error when the read fails. A failed read is never
//! turned into a partial picture: the command stops.

use std::io::IsTerminal as _;
use std::time::Duration;

use anyhow::Context as _;
use orgform_api::{Client, ReadScope};
use orgform_model::{Organization, Snapshot};

use crate::cli::GlobalArgs;

/// Reads the whole organization within `scope` (`organization`: already read, not asked
/// again).
pub async fn fetch(
    global: &GlobalArgs,
    client: &Client,
    scope: ReadScope,
    organization: Option<Organization>,
) -> anyhow::Result<Snapshot> {
    let spinner = progress(global, "reading the organization");
    let ticker = crate::logging::progress_lines(global)
        .then(|| heartbeat("reading the organization", client.clone(), true));
    let started = tokio::time::Instant::now();
    let result = client.fetch_snapshot_scoped(scope, organization).await;
    if result.is_ok() {
        tracing::info!(
            target: orgform_api::PROGRESS_TARGET,
            "{}",
            line(client.progress(), started.elapsed())
        );
    }
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

/// A task that logs a progress line every [`HEARTBEAT`] until aborted: `what`, the
/// client's progress (the collections of its read when `reading`, requests sent, whether one
/// waits on the rate limit) and how long it has taken so far (a rate-limited read of a large
/// organization takes minutes).
pub fn heartbeat(what: &'static str, client: Client, reading: bool) -> tokio::task::JoinHandle<()> {
    let started = tokio::time::Instant::now();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(started + HEARTBEAT, HEARTBEAT);
        loop {
            tick.tick().await;
            tracing::info!(
                target: orgform_api::PROGRESS_TARGET,
                "still {what}: {}",
                line(client_progress(&client, reading), started.elapsed())
            );
        }
    })
}

/// The client's progress, without the collections of its latest read unless `reading`.
fn client_progress(client: &Client, reading: bool) -> orgform_api::Progress {
    let mut progress = client.progress();
    if !reading {
        progress.collections = None;
    }
    progress
}

/// A progress line: `read 4/9 collections, 57 requests, waiting on the rate limit (20 s)`.
fn line(progress: orgform_api::Progress, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs >= 10.0 {
        format!("{progress} ({secs:.0} s)")
    } else {
        format!("{progress} ({secs:.1} s)")
    }
}

/// Reads the organization within `scope` and writes `render` of it to `out` (a new file of
/// the given kind), or stdout.
pub fn render_live(
    global: &GlobalArgs,
    out: Option<&std::path::Path>,
    scope: ReadScope,
    render: fn(&Snapshot) -> String,
    kind: crate::files::NewFile,
) -> anyhow::Result<crate::exit::Exit> {
    let client = crate::settings::client(global)?;
    let live = crate::settings::runtime()?.block_on(fetch(global, &client, scope, None))?;
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use orgform_api::Progress;

    #[test]
    fn a_progress_line_says_what_was_read_how_many_requests_and_the_wait() {
        let waiting = Progress {
            requests: 57,
            waiting_on_rate_limit: true,
            collections: Some((4, 9)),
        };
        assert_eq!(
            super::line(waiting, Duration::from_secs(40)),
            "read 4/9 collections, 57 requests, waiting on the rate limit (40 s)"
        );
        let done = Progress {
            requests: 8,
            waiting_on_rate_limit: false,
            collections: Some((7, 7)),
        };
        assert_eq!(
            super::line(done, Duration::from_millis(1_240)),
            "read 7/7 collections, 8 requests (1.2 s)"
        );
    }
}
