//! Benchmark: fetch the large seeded organization (2,000 users, 100 workspaces, 3,000 keys)
//! from an in-process emulator.
//!
//! Prints requests made against the minimum possible (target 1.0), then wall time with 20 ms
//! of emulated latency per request and rate limiting off, against the serial floor
//! (requests x 20 ms; target at least 5x faster).
//!
//! `cargo run --release -p orgform-api --example bench_fetch`

use std::time::{Duration, Instant};

use orgform_api::{AdminKey, Client, ClientConfig};
use orgform_emulator::{Emulator, EmulatorConfig, FaultConfig, seeds};
use orgform_model::Snapshot;

fn minimum_requests(s: &Snapshot) -> usize {
    let pages = |n: usize| n.div_ceil(1000).max(1);
    let members: usize = s
        .workspaces
        .iter()
        .map(|w| {
            pages(
                s.workspace_members
                    .iter()
                    .filter(|m| m.workspace_id == w.id)
                    .count(),
            )
        })
        .sum();
    1 + pages(s.users.len())
        + pages(s.invites.len())
        + pages(s.workspaces.len())
        + members
        + pages(s.api_keys.len())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let latency = Duration::from_millis(20);
    let emu = Emulator::start(EmulatorConfig {
        seed: seeds::large(42, 2000, 100, 3000),
        ..EmulatorConfig::default()
    })
    .await?;
    let state = emu.state();
    let client = Client::new(
        ClientConfig {
            base_url: emu.base_url(),
            rate_limit: None,
            ..ClientConfig::default()
        },
        AdminKey::new(emu.admin_key())?,
    )?;
    let concurrency = client.config().concurrency;

    // Warm-up without latency: connection set-up, and the request count.
    let snapshot = client.fetch_snapshot().await?;
    assert_eq!(snapshot, state, "the snapshot must equal the seeded state");
    let made = emu.request_log().len();
    let minimum = minimum_requests(&state);

    emu.set_faults(FaultConfig {
        latency,
        ..FaultConfig::default()
    });
    let runs = 5;
    let mut times = Vec::new();
    for _ in 0..runs {
        emu.clear_request_log();
        let started = Instant::now();
        let snapshot = client.fetch_snapshot().await?;
        times.push(started.elapsed());
        assert_eq!(snapshot, state);
        assert_eq!(emu.request_log().len(), made);
    }
    times.sort();
    let median = times[runs / 2];
    let serial = latency * u32::try_from(made)?;

    let out = format!(
        "bench_fetch: org of {} users, {} invites, {} workspaces, {} members, {} keys\n\
         requests made: {made}, minimum possible: {minimum}, ratio: {:.2} (target 1.0)\n\
         wall time with {} ms latency, concurrency {concurrency}, rate limit off: median {:.1} ms \
         (min {:.1}, max {:.1}) over {runs} runs\n\
         serial floor ({made} x {} ms): {:.1} ms, speed-up vs serial: {:.1}x (target >= 5x)\n",
        state.users.len(),
        state.invites.len(),
        state.workspaces.len(),
        state.workspace_members.len(),
        state.api_keys.len(),
        f64::from(u32::try_from(made)?) / f64::from(u32::try_from(minimum)?),
        latency.as_millis(),
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[runs - 1].as_secs_f64() * 1e3,
        latency.as_millis(),
        serial.as_secs_f64() * 1e3,
        serial.as_secs_f64() / median.as_secs_f64(),
    );
    std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes())?;
    emu.shutdown().await;
    Ok(())
}
