//! `orgform drift`: report-only comparison of the live organization with the manifest.
//!
//! Beyond the planner's findings: active keys without usage
//! (`settings.api_keys.unused_days`, from the usage report) and, with `--attribute`, who
//! changed each drifted object and when (the Compliance API activity feed). Neither report
//! changes the exit code when it cannot be read: the report says so once and carries on.

use orgform_api::{ActivityFeed, ApiError};
use orgform_plan::DriftReport;
use orgform_plan::attribution::{Attribution, Change, UsageReading};

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
    /// Show who changed each drifted object and when, from the organization's activity feed
    /// (the Compliance API; the credential must be allowed to read it).
    #[arg(long)]
    pub attribute: bool,
    /// How many days of the activity feed `--attribute` reads.
    #[arg(long, value_name = "DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub attribute_days: u32,
    /// The audit snapshot (staged removal).
    #[command(flatten)]
    pub audit: super::AuditSnapshotArg,
}

/// Runs `orgform drift`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<Exit> {
    let inputs = super::prepare::inputs(
        global,
        &args.manifest.path,
        None,
        args.audit.audit_snapshot.as_deref(),
    )
    .inspect_err(|err| crate::failure::print(args.format, "drift", err))?;
    let manifest = &inputs.loaded.manifest;
    let mut report = orgform_plan::drift(manifest, &inputs.live, &inputs.options);
    let now = inputs.options.now;
    if let Some(days) = manifest.settings.api_keys.unused_days
        && !report.is_refused()
    {
        let since = orgform_api::days_before(now, days);
        let usage = match inputs
            .runtime
            .block_on(inputs.client.usage_by_api_key(since))
        {
            Ok(used) => UsageReading::Read(used),
            Err(err) => UsageReading::Unavailable(reason(&err)),
        };
        orgform_plan::attribution::unused_keys(&mut report, manifest, &inputs.live, now, &usage);
    }
    if args.attribute && !report.is_refused() {
        let since = orgform_api::days_before(now, args.attribute_days);
        let feed = inputs.runtime.block_on(inputs.client.activities(since));
        report.attribution = Some(attribute(&report, since, feed));
    }
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

/// Why a report could not be read, in one line (the API's status, type and message).
fn reason(err: &ApiError) -> String {
    match err {
        ApiError::Api {
            status,
            error_type,
            message,
            ..
        } => format!("http {status} {error_type}: {message}"),
        other => other.to_string(),
    }
}

/// The changes the feed shows for each drift item with a live object.
fn attribute(
    report: &DriftReport,
    since: jiff::Timestamp,
    feed: Result<ActivityFeed, ApiError>,
) -> Attribution {
    let feed = match feed {
        Ok(feed) => feed,
        Err(err) => {
            let what = if matches!(err.status(), Some(403 | 404)) {
                "activity feed not available"
            } else {
                "activity feed could not be read"
            };
            return Attribution {
                available: false,
                since: Some(since),
                note: Some(format!("{what}: {}", reason(&err))),
                changes: std::collections::BTreeMap::new(),
            };
        }
    };
    let objects = report
        .findings
        .iter()
        .filter(|f| f.is_drift)
        .map(|f| f.object.as_str())
        .chain(
            report
                .hygiene
                .iter()
                .filter(|h| h.is_drift)
                .map(|h| h.object.as_str()),
        );
    let mut changes = std::collections::BTreeMap::new();
    for object in objects {
        let Some(needles) = report.refs.get(object) else {
            continue;
        };
        let found: Vec<Change> = feed
            .activities
            .iter()
            .filter(|a| !a.is_read())
            .filter(|a| {
                needles
                    .iter()
                    .any(|set| set.iter().all(|n| a.mentions_one(n)))
            })
            .map(|a| Change {
                at: a.created_at,
                by: a.actor_label(),
                activity: a.kind.clone(),
                id: a.id.clone(),
            })
            .collect();
        if !found.is_empty() {
            changes.insert(object.to_owned(), found);
        }
    }
    Attribution {
        available: true,
        since: Some(since),
        note: feed.truncated.then(|| {
            format!(
                "activity feed cut at {} activities; older changes are not shown",
                orgform_api::MAX_ACTIVITIES
            )
        }),
        changes,
    }
}
