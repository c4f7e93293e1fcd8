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

/// What the child measured. CPU times are of the measuring thread (`/proc/thread-self/stat`,
/// in clock ticks of 10 ms, so a phase is repeated until it has used at least a second).
#[derive(Clone, Copy, Debug, Default)]
pub struct Measured {
    /// Loading and validating the manifest: wall time (once, as `orgform plan` does it).
    pub load: Duration,
    /// The same, CPU time of the thread.
    pub load_cpu: Duration,
    /// One `plan()`: CPU time (the mean over the repetitions).
    pub plan: Duration,
    /// One `plan()`: wall time (the median of the repetitions).
    pub plan_wall: Duration,
    /// Of which the live snapshot's digest: CPU time.
    pub digest: Duration,
    /// Rendering the plan as text: CPU time.
    pub render: Duration,
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
    let micros = |name: &str| field(name).map(Duration::from_micros);
    Ok(Measured {
        load: micros("load_us")?,
        load_cpu: micros("load_cpu_us")?,
        plan: micros("plan_cpu_us")?,
        plan_wall: micros("plan_us")?,
        digest: micros("digest_cpu_us")?,
        render: micros("render_cpu_us")?,
        peak_kib: field("peak_kib")?,
    })
}

/// CPU time used so far by the calling thread (user + system), from
/// `/proc/thread-self/stat`: clock ticks of 1/100 s.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // The command name may hold spaces: fields are counted after its closing parenthesis,
    // where field 3 (state) comes first; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| -> u64 { fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0) };
    Duration::from_millis((tick(11) + tick(12)) * 10)
}

/// Runs `f` until it has used at least a second of CPU (at least 3 times, at most 10,000);
/// returns the mean CPU time of one run and the median wall time.
fn repeat(mut f: impl FnMut()) -> (Duration, Duration) {
    let cpu_start = thread_cpu();
    let mut walls = Vec::new();
    while walls.len() < 3
        || (thread_cpu().saturating_sub(cpu_start) < Duration::from_secs(1) && walls.len() < 10_000)
    {
        let started = Instant::now();
        f();
        walls.push(started.elapsed());
    }
    let cpu =
        thread_cpu().saturating_sub(cpu_start) / u32::try_from(walls.len()).unwrap_or(u32::MAX);
    walls.sort();
    (cpu, walls[walls.len() / 2])
}

/// The child: `bench-child MANIFEST ENDPOINT`, key in `BENCH_ADMIN_KEY`.
pub fn run(args: &[String]) -> anyhow::Result<String> {
    let [manifest, endpoint] = args else {
        bail!("usage: bench-child MANIFEST ENDPOINT");
    };
    let cpu_started = thread_cpu();
    let started = Instant::now();
    let loaded = orgform_manifest::load(Path::new(manifest)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let load = started.elapsed();
    let load_cpu = thread_cpu().saturating_sub(cpu_started);
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
    let (plan_cpu, plan_wall) = repeat(|| {
        std::hint::black_box(orgform_plan::plan(&loaded.manifest, &live, &options));
    });
    let (digest_cpu, _) = repeat(|| {
        std::hint::black_box(live.digest());
    });
    let plan = orgform_plan::plan(&loaded.manifest, &live, &options);
    let mut rendered = 0;
    let (render_cpu, _) = repeat(|| {
        rendered = std::hint::black_box(orgform_plan::render::text(&plan, false)).len();
    });
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Ok(format!(
        "load_us={} load_cpu_us={} plan_us={} plan_cpu_us={} digest_cpu_us={} \
         render_cpu_us={} peak_kib={peak_kib} rendered_bytes={rendered} actions={}",
        load.as_micros(),
        load_cpu.as_micros(),
        plan_wall.as_micros(),
        plan_cpu.as_micros(),
        digest_cpu.as_micros(),
        render_cpu.as_micros(),
        plan.actions.len()
    ))
}
