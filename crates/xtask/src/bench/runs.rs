//! Runs against the built-in emulator on loopback, in **virtual time**: the client and the
//! emulator share one tokio runtime whose clock is paused, so waiting for a rate-limit
//! window takes no real time (the runtime jumps to the next timer when every task waits).
//! The emulator counts its limits on that clock too, and adds a fixed latency to every
//! request, so the times are those of a network with that latency.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use orgform_api::{AdminKey, Client, ClientConfig, ReadScope};
use orgform_emulator::readings::{RateLimitHeaders, RateLimitModel};
use orgform_emulator::{Emulator, EmulatorConfig, FaultConfig, Readings};
use orgform_model::Snapshot;

/// Latency the emulator adds to every request.
pub const LATENCY: Duration = Duration::from_millis(20);

/// How the server counts its limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerModel {
    /// Rolling window or token bucket.
    pub model: RateLimitModel,
    /// Whether it sends `anthropic-ratelimit-requests-*`.
    pub headers: bool,
}

impl ServerModel {
    /// The models the table shows.
    pub const ALL: [Self; 3] = [
        Self {
            model: RateLimitModel::RollingWindow,
            headers: false,
        },
        Self {
            model: RateLimitModel::TokenBucket,
            headers: false,
        },
        Self {
            model: RateLimitModel::TokenBucket,
            headers: true,
        },
    ];

    /// A short label.
    pub fn label(self) -> String {
        let model = match self.model {
            RateLimitModel::RollingWindow => "window",
            RateLimitModel::TokenBucket => "bucket",
        };
        if self.headers {
            format!("{model}+headers")
        } else {
            model.to_owned()
        }
    }

    /// The shortest time `requests` of one budget (`cap` per `window`) take under this model.
    pub fn floor(self, requests: u32, cap: u32, window: Duration) -> Duration {
        match self.model {
            RateLimitModel::RollingWindow => {
                orgform_api::pacing::window_floor(requests, cap, window)
            }
            RateLimitModel::TokenBucket => orgform_api::pacing::bucket_floor(requests, cap, window),
        }
    }
}

/// What one run did.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Requests the emulator served.
    pub requests: u32,
    /// Invite creations among them.
    pub invite_creations: u32,
    /// 429 answers.
    pub refused: u32,
    /// Virtual time from the first request to the end.
    pub wall: Duration,
    /// Actions applied (apply runs).
    pub applied: u32,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .context("cannot start the benchmark runtime")
}

async fn emulator(live: &Snapshot, server: Option<ServerModel>) -> anyhow::Result<Emulator> {
    let mut readings = Readings::default();
    if let Some(s) = server {
        readings.rate_limit_model = s.model;
        readings.rate_limit_headers = if s.headers {
            RateLimitHeaders::Present
        } else {
            RateLimitHeaders::Absent
        };
    }
    Emulator::start(EmulatorConfig {
        seed: live.clone(),
        readings,
        faults: FaultConfig {
            latency: LATENCY,
            enforce_rate_limits: server.is_some(),
            ..FaultConfig::default()
        },
        ..EmulatorConfig::default()
    })
    .await
    .context("cannot start the emulator")
}

fn client(emu: &Emulator, paced: bool) -> anyhow::Result<Client> {
    let config = ClientConfig {
        base_url: emu.base_url(),
        // No real timeout can pass in virtual time; a paced run may wait whole windows.
        timeout: Duration::from_secs(3600),
        rate_limit: if paced {
            ClientConfig::default().rate_limit
        } else {
            None
        },
        ..ClientConfig::default()
    };
    Ok(Client::new(config, AdminKey::new(emu.admin_key())?)?)
}

/// What `plan` does: the organization once, then a complete read of what a plan needs.
async fn read(client: &Client) -> anyhow::Result<(Snapshot, orgform_plan::PlanOptions)> {
    let me = client.me().await?;
    let live = client
        .fetch_snapshot_scoped(ReadScope::Plan, Some(me))
        .await?;
    let now = client
        .api_clock()
        .map_or_else(jiff::Timestamp::now, |c| c.date);
    Ok((
        live,
        orgform_plan::PlanOptions {
            allow_destructive: None,
            now,
            clock_skew: None,
            manifest_digest: String::new(),
            pipeline: orgform_plan::Pipeline::default(),
            no_access: None,
        },
    ))
}

fn tally(emu: &Emulator, started: tokio::time::Instant) -> Run {
    let log = emu.request_log();
    let count = |f: &dyn Fn(&orgform_emulator::LoggedRequest) -> bool| {
        u32::try_from(log.iter().filter(|r| f(r)).count()).unwrap_or(u32::MAX)
    };
    Run {
        requests: count(&|_| true),
        invite_creations: count(&|r| r.method == "POST" && r.path == "/v1/organizations/invites"),
        refused: count(&|r| r.status == Some(429)),
        wall: started.elapsed(),
        applied: 0,
    }
}

/// A plan of `manifest` against `live`: the requests made and the time taken under `server`
/// (`None`: limits not enforced, client pacing off).
pub fn plan(live: &Snapshot, manifest: &Path, server: Option<ServerModel>) -> anyhow::Result<Run> {
    let loaded = orgform_manifest::load(manifest).map_err(|e| anyhow::anyhow!("{e}"))?;
    runtime()?.block_on(async {
        let emu = emulator(live, server).await?;
        let client = client(&emu, server.is_some())?;
        let started = tokio::time::Instant::now();
        let (snapshot, options) = read(&client).await?;
        let plan = orgform_plan::plan(&loaded.manifest, &snapshot, &options);
        let run = tally(&emu, started);
        if !plan.actions.is_empty() || !plan.errors.is_empty() {
            bail!(
                "the exported manifest planned {} actions and {} errors",
                plan.actions.len(),
                plan.errors.len()
            );
        }
        emu.shutdown().await;
        Ok(run)
    })
}

/// A plan and apply of `manifest` against `live` under `server`.
pub fn apply(live: &Snapshot, manifest: &Path, server: ServerModel) -> anyhow::Result<Run> {
    let loaded = orgform_manifest::load(manifest).map_err(|e| anyhow::anyhow!("{e}"))?;
    runtime()?.block_on(async {
        let emu = emulator(live, Some(server)).await?;
        let client = client(&emu, true)?;
        let started = tokio::time::Instant::now();
        let (snapshot, options) = read(&client).await?;
        let plan = orgform_plan::plan(&loaded.manifest, &snapshot, &options);
        if plan.is_refused() || !plan.errors.is_empty() {
            bail!("the plan to apply is refused or has errors");
        }
        let report = orgform_apply::apply(
            &plan,
            &client,
            &orgform_apply::ApplyOptions::default(),
            &|_| {},
        )
        .await?;
        if report.has_failures() {
            bail!("the apply failed: {}", report.to_text());
        }
        let mut run = tally(&emu, started);
        run.applied = u32::try_from(report.actions.len()).unwrap_or(u32::MAX);
        emu.shutdown().await;
        Ok(run)
    })
}
