//! Benchmark: list requests of 1,000 users each from a 2,000-user organization, served over
//! loopback to several concurrent clients. Prints requests per second.
//!
//! Run: `cargo run --release -p orgform-emulator --example bench_list [-- SECONDS CLIENTS]`

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use orgform_emulator::{Emulator, EmulatorConfig, seeds};

#[expect(
    clippy::cast_precision_loss,
    reason = "request and byte counts stay far below 2^52"
)]
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let emu = Emulator::start(EmulatorConfig {
        seed: seeds::large(42, 2000, 100, 3000),
        ..EmulatorConfig::default()
    })
    .await?;
    let base = emu.base_url();
    let key = emu.admin_key().to_owned();
    let http = reqwest::Client::builder().no_proxy().build()?;
    // The second page starts after the first page's last user.
    let first: serde_json::Value = http
        .get(format!("{base}/v1/organizations/users?limit=1000"))
        .header("x-api-key", &key)
        .header("anthropic-version", "2023-06-01")
        .send()
        .await?
        .json()
        .await?;
    let cursor = first["last_id"].as_str().unwrap_or_default().to_owned();
    let pages = Arc::new([
        format!("{base}/v1/organizations/users?limit=1000"),
        format!("{base}/v1/organizations/users?limit=1000&after_id={cursor}"),
    ]);
    let done = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, key, pages, done, bytes) = (
            http.clone(),
            key.clone(),
            pages.clone(),
            done.clone(),
            bytes.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = c;
            while Instant::now() < deadline {
                let resp = http
                    .get(&pages[i % 2])
                    .header("x-api-key", &key)
                    .header("anthropic-version", "2023-06-01")
                    .send()
                    .await
                    .expect("request");
                assert_eq!(resp.status(), 200);
                let body = resp.bytes().await.expect("body");
                bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                done.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    let mb = bytes.load(Ordering::Relaxed) as f64 / 1e6;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "bench_list: {n} requests of 1000 users in {elapsed:.2} s with {clients} clients: {:.0} requests/s, {:.1} MB/s, mean body {:.0} KB",
        n as f64 / elapsed,
        mb / elapsed,
        mb * 1000.0 / n.max(1) as f64
    )?;
    emu.shutdown().await;
    Ok(())
}
