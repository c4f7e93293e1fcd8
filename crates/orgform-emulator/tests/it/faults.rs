//! Fault injection over HTTP: every kind, reproducibility, scripted faults, latency.

use std::time::{Duration, Instant};

use crate::common::{Api, VERSION};
use orgform_emulator::{EmulatorConfig, Fault, FaultConfig, FaultMatcher, seeds};
use serde_json::json;

async fn send(
    api: &Api,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<reqwest::Response, reqwest::Error> {
    let mut req = api
        .client
        .request(
            method.parse().unwrap(),
            format!("{}{path}", api.emu.base_url()),
        )
        .header("x-api-key", api.emu.admin_key())
        .header("anthropic-version", VERSION);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await
}

#[tokio::test]
async fn error_faults_have_their_status_type_and_headers() {
    let api = Api::small().await;
    let m = || FaultMatcher::any_method("/v1/organizations/me");
    api.emu.push_fault(
        m(),
        Fault::RateLimit {
            retry_after_secs: Some(2),
            retry_after_ms: Some(1500),
        },
    );
    let r = api.get("/v1/organizations/me").await;
    r.assert_error(429, "rate_limit_error", "rate limit");
    assert_eq!(r.headers["retry-after"], "2");
    assert_eq!(r.headers["retry-after-ms"], "1500");
    api.emu.push_fault(
        m(),
        Fault::ServerError {
            should_retry: Some(false),
        },
    );
    let r = api.get("/v1/organizations/me").await;
    r.assert_error(500, "api_error", "Internal server error");
    assert_eq!(r.headers["x-should-retry"], "false");
    api.emu.push_fault(m(), Fault::Overloaded);
    api.get("/v1/organizations/me")
        .await
        .assert_error(529, "overloaded_error", "Overloaded");
    api.emu.push_fault(m(), Fault::Conflict);
    api.get("/v1/organizations/me")
        .await
        .assert_error(409, "conflict_error", "conflict");
    api.get("/v1/organizations/me").await.ok();
    let log = api.emu.request_log();
    assert_eq!(log.len(), 5);
    assert_eq!(
        log[1].fault,
        Some(Fault::ServerError {
            should_retry: Some(false)
        })
    );
    assert_eq!(log[1].status, Some(500));
}

#[tokio::test]
async fn drop_before_apply_changes_nothing_and_drop_after_apply_changes_state() {
    let api = Api::small().await;
    let before = api.emu.state();
    api.emu.push_fault(
        FaultMatcher::new("POST", "/v1/organizations/invites"),
        Fault::DropBeforeApply,
    );
    let err = send(
        &api,
        "POST",
        "/v1/organizations/invites",
        Some(json!({"email": "d@acme.example", "role": "user"})),
    )
    .await;
    assert!(err.is_err(), "connection dropped: {err:?}");
    assert_eq!(api.emu.state(), before);
    api.emu.push_fault(
        FaultMatcher::new("POST", "/v1/organizations/invites"),
        Fault::DropAfterApply,
    );
    let err = send(
        &api,
        "POST",
        "/v1/organizations/invites",
        Some(json!({"email": "d@acme.example", "role": "user"})),
    )
    .await;
    assert!(err.is_err(), "connection dropped: {err:?}");
    let after = api.emu.state();
    assert_eq!(after.invites.len(), before.invites.len() + 1);
    // The retry sees the conflict a real retried POST would.
    api.post(
        "/v1/organizations/invites",
        json!({"email": "d@acme.example", "role": "user"}),
    )
    .await
    .assert_error(
        400,
        "invalid_request_error",
        "pending invite already exists",
    );
    let log = api.emu.request_log();
    assert_eq!(log[0].status, None);
    assert_eq!(log[0].fault, Some(Fault::DropBeforeApply));
    assert_eq!(log[1].status, Some(200));
    assert_eq!(log[1].fault, Some(Fault::DropAfterApply));
}

async fn fault_sequence(seed: u64) -> Vec<Option<Fault>> {
    let api = Api::start(EmulatorConfig {
        seed: seeds::small(),
        faults: FaultConfig {
            seed,
            rate: 0.4,
            kinds: vec![
                Fault::RateLimit {
                    retry_after_secs: Some(1),
                    retry_after_ms: None,
                },
                Fault::ServerError { should_retry: None },
                Fault::Overloaded,
                Fault::Conflict,
                Fault::DropBeforeApply,
                Fault::DropAfterApply,
            ],
            ..FaultConfig::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    for i in 0..60 {
        let path = if i % 2 == 0 {
            "/v1/organizations/users"
        } else {
            "/v1/organizations/workspaces"
        };
        let _ = send(&api, "GET", path, None).await;
    }
    let faults = api.emu.request_log().into_iter().map(|r| r.fault).collect();
    api.emu.shutdown().await;
    faults
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults() {
    let a = fault_sequence(1234).await;
    let b = fault_sequence(1234).await;
    let c = fault_sequence(4321).await;
    assert_eq!(a.len(), 60);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.iter().filter(|f| f.is_some()).count() >= 10);
}

#[tokio::test]
async fn latency_is_added() {
    let api = Api::small().await;
    api.emu.set_faults(FaultConfig {
        latency: Duration::from_millis(150),
        ..FaultConfig::default()
    });
    let start = Instant::now();
    api.get("/v1/organizations/me").await.ok();
    assert!(start.elapsed() >= Duration::from_millis(150));
    api.emu.set_faults(FaultConfig::default());
    api.emu
        .push_fault(FaultMatcher::any_method("/v1/"), Fault::Latency { ms: 120 });
    let start = Instant::now();
    api.get("/v1/organizations/me").await.ok();
    assert!(start.elapsed() >= Duration::from_millis(120));
}

#[tokio::test]
async fn the_request_log_never_holds_the_key() {
    let api = Api::small().await;
    api.post(
        "/v1/organizations/invites",
        json!({"email": "log@acme.example", "role": "user"}),
    )
    .await
    .ok();
    let log = serde_json::to_string(&api.emu.request_log()).unwrap();
    assert!(log.contains("log@acme.example"));
    assert!(!log.contains(api.emu.admin_key()));
}
