//! Pacing against the emulator enforcing the documented limits, in either counting model,
//! with and without the rate-limit headers; and the requests a plan's read makes. Runs in
//! virtual time: the client and the emulator share a paused runtime clock.

use std::time::Duration;

use orgform_api::{AdminKey, Client, ClientConfig, RateLimit, ReadScope};
use orgform_emulator::readings::{RateLimitHeaders, RateLimitModel};
use orgform_emulator::{Emulator, EmulatorConfig, FaultConfig, LoggedRequest, Readings, seeds};
use orgform_model::{OrgRole, Snapshot};
use tokio::time::Instant;

async fn enforcing(seed: Snapshot, model: RateLimitModel, headers: RateLimitHeaders) -> Emulator {
    let readings = Readings {
        rate_limit_model: model,
        rate_limit_headers: headers,
        ..Readings::default()
    };
    Emulator::start(EmulatorConfig {
        seed,
        readings,
        faults: FaultConfig {
            enforce_rate_limits: true,
            latency: Duration::from_millis(20),
            ..FaultConfig::default()
        },
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

fn paced(emu: &Emulator) -> Client {
    Client::new(
        ClientConfig {
            base_url: emu.base_url(),
            timeout: Duration::from_secs(3600),
            rate_limit: Some(RateLimit::default()),
            ..ClientConfig::default()
        },
        AdminKey::new(emu.admin_key()).unwrap(),
    )
    .unwrap()
}

/// 150 workspaces, the last 50 archived: a plan's read takes 109 requests, more than one
/// window holds.
fn over_one_window() -> Snapshot {
    seeds::large(42, 2000, 150, 300)
}

fn refused(log: &[LoggedRequest]) -> usize {
    log.iter().filter(|r| r.status == Some(429)).count()
}

#[tokio::test(start_paused = true)]
async fn a_paced_read_over_one_window_gets_no_429_in_any_model() {
    let cases = [
        (RateLimitModel::RollingWindow, RateLimitHeaders::Absent),
        (RateLimitModel::RollingWindow, RateLimitHeaders::Present),
        (RateLimitModel::TokenBucket, RateLimitHeaders::Absent),
        (RateLimitModel::TokenBucket, RateLimitHeaders::Present),
    ];
    for (model, headers) in cases {
        let emu = enforcing(over_one_window(), model, headers).await;
        let client = paced(&emu);
        let started = Instant::now();
        client
            .fetch_snapshot_scoped(ReadScope::Plan, None)
            .await
            .unwrap();
        let elapsed = started.elapsed();
        let log = emu.request_log();
        assert!(log.len() > 100, "{model} {headers}: {} requests", log.len());
        assert_eq!(refused(&log), 0, "{model} {headers}");
        if model == RateLimitModel::TokenBucket && headers == RateLimitHeaders::Present {
            // The headers show the bucket refilling: about 0.6 s per request over 100.
            assert!(
                elapsed < Duration::from_secs(15),
                "{model} {headers}: {elapsed:?}"
            );
        } else {
            // The 101st request waits for the first to leave the window.
            assert!(
                elapsed >= Duration::from_secs(60) && elapsed < Duration::from_secs(62),
                "{model} {headers}: {elapsed:?}"
            );
        }
        emu.shutdown().await;
    }
}

#[tokio::test(start_paused = true)]
async fn invite_creation_draws_from_its_own_budget() {
    for model in [RateLimitModel::RollingWindow, RateLimitModel::TokenBucket] {
        let emu = enforcing(
            EmulatorConfig::default().seed,
            model,
            RateLimitHeaders::Absent,
        )
        .await;
        let client = paced(&emu);
        let started = Instant::now();
        // 150 invites and 50 reads: over the general budget if invites counted there.
        for i in 0..150 {
            client
                .create_invite(&format!("p{i}@x.example"), &OrgRole::User)
                .await
                .unwrap();
        }
        for _ in 0..50 {
            client.me().await.unwrap();
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{model}");
        assert_eq!(refused(&emu.request_log()), 0, "{model}");
        emu.shutdown().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_429_from_a_server_counting_other_traffic_pauses_and_recovers() {
    let emu = enforcing(
        over_one_window(),
        RateLimitModel::RollingWindow,
        RateLimitHeaders::Absent,
    )
    .await;
    // Another client of the organization used 95 of the 100.
    let other = paced(&emu);
    for _ in 0..95 {
        other.me().await.unwrap();
    }
    let client = paced(&emu);
    client
        .fetch_snapshot_scoped(ReadScope::Plan, None)
        .await
        .unwrap();
    let refusals = refused(&emu.request_log());
    // A refusal pauses every request of the budget until its retry-after, so refusals come
    // in waves of at most the requests already in flight (8, plus the one answered), not
    // one per remaining request; without headers, how much of the window the other client
    // still holds after the pause is unknown, so a second wave may follow. The read
    // completes within the retry budget.
    assert!(refusals >= 1, "the server never refused");
    assert!(
        refusals <= 2 * 9,
        "{refusals} refusals: the pause was not shared"
    );
}

#[tokio::test]
async fn a_plan_read_asks_for_the_organization_once_and_skips_archived_members() {
    let seed = seeds::large(42, 300, 120, 50);
    let archived: Vec<String> = seed
        .workspaces
        .iter()
        .filter(|w| w.is_archived())
        .map(|w| format!("/v1/organizations/workspaces/{}/members", w.id))
        .collect();
    assert_eq!(archived.len(), 20);
    let emu = Emulator::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let client = Client::new(
        ClientConfig {
            base_url: emu.base_url(),
            rate_limit: None,
            ..ClientConfig::default()
        },
        AdminKey::new(emu.admin_key()).unwrap(),
    )
    .unwrap();
    let me = client.me().await.unwrap();
    let live = client
        .fetch_snapshot_scoped(ReadScope::Plan, Some(me))
        .await
        .unwrap();
    let log = emu.request_log();
    let count = |path: &str| log.iter().filter(|r| r.path == path).count();
    assert_eq!(count("/v1/organizations/me"), 1);
    assert!(archived.iter().all(|p| count(p) == 0));
    let state = emu.state();
    let archived_ids: Vec<&str> = state
        .workspaces
        .iter()
        .filter(|w| w.is_archived())
        .map(|w| w.id.as_str())
        .collect();
    let mut expected = state.clone();
    expected
        .workspace_members
        .retain(|m| !archived_ids.contains(&m.workspace_id.as_str()));
    assert_eq!(live, expected);
    assert_eq!(live.workspaces.len(), 120, "archived workspaces are listed");

    // A snapshot reads everything, archived workspaces' members included.
    emu.clear_request_log();
    let everything = client.fetch_snapshot().await.unwrap();
    assert_eq!(everything, state);
    let log = emu.request_log();
    assert!(
        archived
            .iter()
            .all(|p| log.iter().filter(|r| &r.path == p).count() == 1)
    );
    assert_eq!(
        log.iter()
            .filter(|r| r.path == "/v1/organizations/me")
            .count(),
        1
    );
}

/// What a progress line reports: during a read held back by the window, the requests sent
/// so far, the collections read of how many, and the wait; once done, every collection and
/// every request the server saw.
#[tokio::test(start_paused = true)]
async fn progress_counts_requests_and_collections_and_shows_the_wait() {
    let emu = enforcing(
        over_one_window(),
        RateLimitModel::RollingWindow,
        RateLimitHeaders::Absent,
    )
    .await;
    let client = paced(&emu);
    assert_eq!(client.progress(), orgform_api::Progress::default());
    // Half a window in: the first 100 requests were answered, the 101st waits for the first
    // to leave the window.
    let (read, during) = tokio::join!(client.fetch_snapshot_scoped(ReadScope::Plan, None), async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        client.progress()
    });
    read.unwrap();
    assert_eq!(during.requests, 100, "{during:?}");
    assert!(during.waiting_on_rate_limit, "{during:?}");
    // Users, invites, keys, workspaces, and the members of the 100 active workspaces.
    let (done, total) = during.collections.unwrap();
    assert_eq!(total, 4 + 100, "{during:?}");
    assert!(done < total, "{during:?}");
    assert!(during.to_string().ends_with(", waiting on the rate limit"));

    let after = client.progress();
    assert_eq!(after.collections, Some((104, 104)));
    assert_eq!(after.requests, emu.request_log().len() as u64);
    assert!(!after.waiting_on_rate_limit);
    assert_eq!(refused(&emu.request_log()), 0);
}
