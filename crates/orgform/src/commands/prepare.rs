//! What `plan`, `apply` and `drift` share: load and validate the manifest (exit 4 on
//! problems, printing every one), check the organization id against the key's organization
//! before reading anything else (exit 3 on a mismatch), then read the organization completely.

use std::path::Path;

use orgform_api::Client;
use orgform_manifest::Loaded;
use orgform_model::Snapshot;
use orgform_plan::render::clean;

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Loads the manifest, printing warnings; invalid manifests print every problem and exit 4.
pub fn manifest(global: &GlobalArgs, path: &Path) -> anyhow::Result<Loaded> {
    let color = crate::output::stderr_color(global.color, global.env.no_color);
    match orgform_manifest::load(path) {
        Ok(loaded) => {
            if !loaded.warnings.is_empty() && !global.quiet {
                crate::output::stderr(&orgform_manifest::render_problems(&loaded.warnings, color));
            }
            Ok(loaded)
        }
        Err(err) => {
            crate::output::stderr(&orgform_manifest::render_problems(&err.problems, color));
            Err(Stop::InvalidManifest(err).into())
        }
    }
}

/// The live organization, after checking it is the one the manifest describes.
pub async fn live(
    global: &GlobalArgs,
    client: &Client,
    loaded: &Loaded,
) -> anyhow::Result<Snapshot> {
    let me = client
        .me()
        .await
        .map_err(|err| first_contact(&global.connection.endpoint, err))?;
    let wanted = &loaded.manifest.organization.id;
    if !me.id.eq_ignore_ascii_case(wanted) {
        return Err(Stop::OrganizationMismatch {
            wanted: wanted.clone(),
            id: me.id,
            name: me.name,
        }
        .into());
    }
    super::live::fetch(global, client, orgform_api::ReadScope::Plan, Some(me)).await
}

/// The first request failed: say which endpoint, and what to check for that kind of failure.
/// The API's error follows as the cause, once.
pub fn first_contact(endpoint: &str, err: orgform_api::ApiError) -> anyhow::Error {
    let endpoint = clean(endpoint.trim_end_matches('/'));
    let (headline, hint) = match &err {
        orgform_api::ApiError::Transport { timeout: true, .. } => (
            format!("the Admin API at {endpoint} did not answer in time"),
            "check the endpoint (--endpoint or ANTHROPIC_BASE_URL) and the network, or raise \
             --timeout",
        ),
        orgform_api::ApiError::Transport { .. } => (
            format!("cannot reach the Admin API at {endpoint}"),
            "check the endpoint (--endpoint or ANTHROPIC_BASE_URL), the network and any proxy",
        ),
        orgform_api::ApiError::Api {
            status: 401 | 403, ..
        } => (
            format!("the Admin API at {endpoint} refused the admin key"),
            "use an Admin API key (sk-ant-admin...) of this organization, from \
             ANTHROPIC_ADMIN_KEY or --admin-key-file",
        ),
        _ => (
            format!("cannot read the organization of the admin key from {endpoint}"),
            "check that the endpoint is the Admin API (--endpoint or ANTHROPIC_BASE_URL)",
        ),
    };
    anyhow::Error::new(err).context(format!(
        "{headline}; nothing was read or changed\n  hint: {hint}"
    ))
}

/// Why a plan or a drift report could not be made, in a form the JSON and Markdown reports
/// describe (`crate::failure`); its exit code comes from [`Stop::exit`].
#[derive(Debug, thiserror::Error)]
pub enum Stop {
    /// The manifest is invalid or cannot be read (exit 4); the problems carry their places.
    #[error("{0}")]
    InvalidManifest(orgform_manifest::ManifestError),
    /// The key belongs to another organization than the manifest's (exit 3).
    #[error(
        "organization mismatch: the manifest describes organization {wanted}, but the admin key \
         belongs to organization {} ({}); nothing was read or changed\n  hint: use the admin \
         key of organization {wanted}, or fix `organization.id`",
        clean(.id),
        clean(.name)
    )]
    OrganizationMismatch {
        /// The manifest's `organization.id`.
        wanted: String,
        /// The key's organization id.
        id: String,
        /// The key's organization name.
        name: String,
    },
}

impl Stop {
    /// The exit code of the contract.
    pub fn exit(&self) -> Exit {
        match self {
            Self::InvalidManifest(_) => Exit::InvalidManifest,
            Self::OrganizationMismatch { .. } => Exit::Refused,
        }
    }
}

/// Everything a plan or a drift report is computed from.
pub struct Inputs {
    /// The validated manifest.
    pub loaded: Loaded,
    /// The client, for commands that go on to write.
    pub client: Client,
    /// The runtime the client runs on.
    pub runtime: tokio::runtime::Runtime,
    /// The complete live organization.
    pub live: Snapshot,
    /// Planning options.
    pub options: orgform_plan::PlanOptions,
}

/// Loads the manifest, checks the organization and reads it completely.
pub fn inputs(
    global: &GlobalArgs,
    path: &Path,
    allow_destructive: Option<u32>,
    audit_snapshot: Option<&Path>,
) -> anyhow::Result<Inputs> {
    let loaded = manifest(global, path)?;
    // Read before the organization, so a bad file costs no API calls.
    let no_access = audit_snapshot
        .map(|file| crate::no_access::read(file, &loaded.manifest.organization.id))
        .transpose()?;
    let client = crate::settings::client(global)?;
    let runtime = crate::settings::runtime()?;
    let live = runtime.block_on(live(global, &client, &loaded))?;
    let (now, clock_skew) = planning_clock(global, &client);
    let options = orgform_plan::PlanOptions {
        allow_destructive,
        now,
        clock_skew,
        manifest_digest: loaded.digest.clone(),
        pipeline: global.env.pipeline.clone(),
        no_access,
    };
    Ok(Inputs {
        loaded,
        client,
        runtime,
        live,
        options,
    })
}

/// The clock a plan runs on, after the organization was read: `--now` when given; else the
/// API's clock (the latest `Date` header it sent, so invite expiry and key age are judged as
/// the API judges them, whatever the local clock says), with its difference from the local
/// clock; else, when no response carried a `Date`, the local clock.
pub fn planning_clock(
    global: &GlobalArgs,
    client: &Client,
) -> (jiff::Timestamp, Option<jiff::SignedDuration>) {
    if let Some(now) = global.now {
        return (now, None);
    }
    if let Some(clock) = client.api_clock() {
        (clock.date, Some(clock.skew()))
    } else {
        tracing::debug!("no response carried a Date header; planning with the local clock");
        (jiff::Timestamp::now(), None)
    }
}

/// Why a plan is refused or incomplete, one line each, for stderr: so a pipeline that reads
/// only the exit code and the logs (JSON or Markdown on stdout) still sees the reason. The
/// lines quote names: their control characters are escaped.
pub fn refusal_lines(plan: &orgform_plan::Plan) -> Vec<String> {
    let mut lines: Vec<String> = plan
        .refusals
        .iter()
        .map(|r| format!("refused: {}", r.message()))
        .collect();
    for error in &plan.errors {
        let hint = error
            .hint
            .as_deref()
            .map(|h| format!(" (hint: {h})"))
            .unwrap_or_default();
        lines.push(format!(
            "plan error: {}: {}{hint}",
            error.target, error.message
        ));
    }
    if !plan.blocked.is_empty() {
        lines.push(format!(
            "blocked: {} wanted change(s) the API cannot make; see the plan for what a person must do",
            plan.blocked.len()
        ));
    }
    lines.iter().map(|line| clean(line)).collect()
}
