//! Planner CPU and peak memory, measured in a process of their own that does what
//! `orgform plan` does: load the manifest, read the organization (from an emulator the parent
//! runs, limits off), plan, render the plan. Its peak resident memory (`VmHWM` from
//! `/proc/self/status`, read as it ends) is the whole process's, runtime and client included.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use orgform_api::{AdminKey, Client, ClientConfig, ReadScope};
use orgform_emulator::{Emulator, EmulatorConfig};
use orgform_model::Snapshot;

/// What the child measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Measured {
    /// Loading and validating the manifest.
    pub load: Duration,
    /// One `plan()` (the median of 5), on one thread: its CPU time.
    pub plan: Duration,
    /// Peak resident memory of the process, KiB.
    pub peak_kib: u64,
}

/// Runs the child against an emulator seeded with `live`.
pub fn measure(live: &Snapshot, manifest: &Path) -> anyhow::Result<Measured> {
    let runtime = tokio::runtime::Runtime::new()?;
    let emu = runtime.block_on(Emulator::start(EmulatorConfig {
        seed: live.clone(),
        ..EmulatorConfig::default()
    }))?;
    let exe = std::env::current_exe()?;
    let output = Command::new(exe)
        .arg("bench-child")
        .arg(manifest)
        .arg(emu.base_url())
        .env("BENCH_ADMIN_KEY", emu.admin_key())
        .output()
        .context("cannot run the measuring process")?;
    runtime.block_on(emu.shutdown());
    if !output.status.success() {
        bail!(
            "the measuring process failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = String::from_utf8(output.stdout)?;
    let field = |name: &str| -> anyhow::Result<u64> {
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
            .context("the measuring process printed no figures")?
            .parse()
            .context("a figure of the measuring process is not a number")
    };
    Ok(Measured {
        load: Duration::from_micros(field("load_us")?),
        plan: Duration::from_micros(field("plan_us")?),
        peak_kib: field("peak_kib")?,
    })
}

/// The child: `bench-child MANIFEST ENDPOINT`, key in `BENCH_ADMIN_KEY`.
pub fn run(args: &[String]) -> anyhow::Result<String> {
    let [manifest, endpoint] = args else {
        bail!("usage: bench-child MANIFEST ENDPOINT");
    };
    let started = Instant::now();
    let loaded = orgform_manifest::load(Path::new(manifest)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let load = started.elapsed();
    let key = AdminKey::new(&std::env::var("BENCH_ADMIN_KEY").context("no BENCH_ADMIN_KEY")?)?;
    let client = Client::new(
        ClientConfig {
            base_url: endpoint.clone(),
            rate_limit: None,
            ..ClientConfig::default()
        },
        key,
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let live = runtime.block_on(async {
        let me = client.me().await?;
        client
            .fetch_snapshot_scoped(ReadScope::Plan, Some(me))
            .await
    })?;
    let options = orgform_plan::PlanOptions {
        allow_destructive: None,
        now: client
            .api_clock()
            .map_or_else(jiff::Timestamp::now, |c| c.date),
        clock_skew: None,
        manifest_digest: loaded.digest.clone(),
        archive_protected_service_accounts: false,
        pipeline: orgform_plan::Pipeline::default(),
        no_access: None,
    };
    let mut times = Vec::new();
    let mut rendered = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let plan = orgform_plan::plan(&loaded.manifest, &live, &options);
        times.push(started.elapsed());
        rendered = orgform_plan::render::text(&plan, false).len();
    }
    times.sort();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Ok(format!(
        "load_us={} plan_us={} peak_kib={peak_kib} rendered_bytes={rendered}",
        load.as_micros(),
        times[2].as_micros()
    ))
}
