//! Each readings switch changes exactly what it names; the defaults keep the long-standing
//! behaviour. Every response still passes the conformance oracle.

use crate::common;

use crate::common::Api;
use jiff::SignedDuration;
use orgform_emulator::readings::{
    DeletedInviteDelete, ExpiredKeyInactive, ImplicitMemberGet, ImplicitMembers, KeyShape,
    ListOrder, NewestFirstOrder, RateLimitHeaders, RateLimitModel, WrongMethod,
};
use orgform_emulator::{EmulatorConfig, FaultConfig, Readings, seeds};
use orgform_model::{ApiKeyStatus, InviteStatus};
use serde_json::{Value, json};

const ADA: &str = "user_01Fa61bFawh2xVu6MAzRno1C"; // admin
const BILL: &str = "user_01EM5ADMMj1mTUxqzrMLovUq"; // billing

fn flipped(f: impl FnOnce(&mut Readings)) -> Readings {
    let mut r = Readings::default();
    f(&mut r);
    r
}

fn ids(body: &Value, field: &str) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o[field].as_str().unwrap().to_owned())
        .collect()
}

fn first_workspace(api: &Api) -> String {
    api.emu.state().workspaces[0].id.clone()
}

#[tokio::test]
async fn implicit_members_are_listed_only_under_that_reading() {
    let hidden = Api::small().await;
    let ws = first_workspace(&hidden);
    let path = format!("/v1/organizations/workspaces/{ws}/members");
    let body = hidden.get(&path).await.ok().clone();
    assert!(!ids(&body, "user_id").contains(&ADA.to_owned()));
    assert!(!ids(&body, "user_id").contains(&BILL.to_owned()));

    let listed = Api::small_with(flipped(|r| r.implicit_members = ImplicitMembers::Listed)).await;
    let body = listed.get(&path).await.ok().clone();
    let roles: Vec<(String, String)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().unwrap().to_owned(),
                m["workspace_role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(roles.contains(&(ADA.to_owned(), "workspace_admin".to_owned())));
    assert!(roles.contains(&(BILL.to_owned(), "workspace_billing".to_owned())));
    // Explicit memberships are still there, each person once, and paging walks them all.
    let explicit = hidden.get(&path).await.ok()["data"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(roles.len(), explicit + 2);
    let mut walked = Vec::new();
    let mut url = format!("{path}?limit=1");
    loop {
        let page = listed.get(&url).await.ok().clone();
        walked.extend(ids(&page, "user_id"));
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        url = format!(
            "{path}?limit=1&after_id={}",
            page["last_id"].as_str().unwrap()
        );
    }
    assert_eq!(walked, ids(&body, "user_id"));
    // The model state holds explicit memberships only.
    assert_eq!(listed.emu.state(), hidden.emu.state());
}

#[tokio::test]
async fn implicit_member_get_is_404_or_200() {
    let api = Api::small().await;
    let ws = first_workspace(&api);
    let path = format!("/v1/organizations/workspaces/{ws}/members/{BILL}");
    api.get(&path)
        .await
        .assert_error(404, "not_found_error", BILL);
    let found = Api::small_with(flipped(|r| {
        r.implicit_member_get = ImplicitMemberGet::Found;
    }))
    .await;
    let body = found.get(&path).await.ok().clone();
    assert_eq!(body["workspace_role"], "workspace_billing");
    // A developer with no membership is still 404.
    let dev = "user_01ZqJsLgsupBoAG1JzMkuXpt";
    let listed_dev = api
        .get(&format!("/v1/organizations/workspaces/{ws}/members"))
        .await
        .ok()
        .clone();
    if !ids(&listed_dev, "user_id").contains(&dev.to_owned()) {
        found
            .get(&format!("/v1/organizations/workspaces/{ws}/members/{dev}"))
            .await
            .assert_error(404, "not_found_error", dev);
    }
}

#[tokio::test]
async fn deleting_a_deleted_invite_is_404_or_400() {
    for (reading, status, kind) in [
        (DeletedInviteDelete::NotFound, 404, "not_found_error"),
        (
            DeletedInviteDelete::BadRequest,
            400,
            "invalid_request_error",
        ),
    ] {
        let api = Api::small_with(flipped(|r| r.deleted_invite_delete = reading)).await;
        let pending = api
            .emu
            .state()
            .invites
            .into_iter()
            .find(|i| i.status == InviteStatus::Pending)
            .unwrap()
            .id;
        let path = format!("/v1/organizations/invites/{pending}");
        api.delete(&path).await.ok();
        api.delete(&path).await.assert_error(status, kind, &pending);
    }
}

#[tokio::test]
async fn a_wrong_method_is_404_or_405() {
    let api = Api::small().await;
    api.post("/v1/organizations/api_keys", json!({}))
        .await
        .assert_error(404, "not_found_error", "Not found");
    let strict = Api::small_with(flipped(|r| r.wrong_method = WrongMethod::MethodNotAllowed)).await;
    strict
        .post("/v1/organizations/api_keys", json!({}))
        .await
        .assert_error(405, "invalid_request_error", "POST");
    let ws = first_workspace(&strict);
    strict
        .get(&format!("/v1/organizations/workspaces/{ws}/archive"))
        .await
        .assert_error(405, "invalid_request_error", "GET");
    // An unknown path is still 404.
    strict
        .get("/v1/organizations/nothing")
        .await
        .assert_error(404, "not_found_error", "Not found");
}

#[tokio::test]
async fn every_list_order_can_be_reversed() {
    let lists = [
        ("/v1/organizations/users?limit=100", "id"),
        ("/v1/organizations/invites?limit=100", "id"),
        ("/v1/organizations/workspaces?include_archived=true", "id"),
        ("/v1/organizations/api_keys?limit=100", "id"),
    ];
    let plain = Api::small().await;
    let reversed = Api::small_with(flipped(|r| {
        r.users_order = NewestFirstOrder::OldestFirst;
        r.invites_order = NewestFirstOrder::OldestFirst;
        r.workspaces_order = ListOrder::NewestFirst;
        r.members_order = ListOrder::NewestFirst;
        r.api_keys_order = ListOrder::NewestFirst;
    }))
    .await;
    for (path, field) in lists {
        let a = ids(plain.get(path).await.ok(), field);
        let mut b = ids(reversed.get(path).await.ok(), field);
        assert!(a.len() > 1, "{path}");
        b.reverse();
        assert_eq!(a, b, "{path}");
    }
    // The documented orders by default: users newest first, workspaces oldest first.
    let users = plain.get("/v1/organizations/users").await.ok().clone();
    let added: Vec<&str> = users["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["added_at"].as_str().unwrap())
        .collect();
    assert!(added.windows(2).all(|w| w[0] >= w[1]));
    let ws = first_workspace(&plain);
    let members = format!("/v1/organizations/workspaces/{ws}/members");
    let a = ids(plain.get(&members).await.ok(), "user_id");
    let mut b = ids(reversed.get(&members).await.ok(), "user_id");
    b.reverse();
    assert_eq!(a, b);
    assert!(a.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn the_earlier_key_shape_has_no_scope_and_the_creator_as_principal() {
    let api = Api::small_with(flipped(|r| r.key_shape = KeyShape::Earlier)).await;
    let keys = api
        .get("/v1/organizations/api_keys?limit=100")
        .await
        .ok()
        .clone();
    for k in keys["data"].as_array().unwrap() {
        assert!(k.get("scope").is_none(), "{k}");
        assert_eq!(k["principal"], k["created_by"], "{k}");
    }
    let current = Api::small().await;
    let keys = current.get("/v1/organizations/api_keys").await.ok().clone();
    assert!(keys["data"][0]["scope"]["type"] == "workspace");
    assert!(keys["data"][0]["principal"].is_null());
}

#[tokio::test]
async fn setting_an_expired_key_inactive_is_refused_or_accepted() {
    for (reading, accepted) in [
        (ExpiredKeyInactive::Refused, false),
        (ExpiredKeyInactive::Accepted, true),
    ] {
        let api = Api::small_with(flipped(|r| r.expired_key_inactive = reading)).await;
        let now = api.emu.now();
        let id = api.emu.modify(|s| {
            let key = s
                .api_keys
                .iter_mut()
                .find(|k| k.status == ApiKeyStatus::Active)
                .unwrap();
            key.expires_at = Some(now.checked_sub(SignedDuration::from_hours(1)).unwrap());
            key.id.clone()
        });
        let path = format!("/v1/organizations/api_keys/{id}");
        let resp = api.post(&path, json!({"status": "inactive"})).await;
        if accepted {
            // Accepted, and still read as expired.
            assert_eq!(resp.ok()["status"], "expired");
        } else {
            resp.assert_error(400, "invalid_request_error", "cannot be reactivated");
        }
        // Reactivating is refused under both readings.
        api.post(&path, json!({"status": "active"}))
            .await
            .assert_error(400, "invalid_request_error", "cannot be reactivated");
    }
}

#[tokio::test]
async fn rate_limit_headers_are_sent_only_under_that_reading() {
    let quiet = Api::small().await;
    let resp = quiet.get("/v1/organizations/me").await;
    assert!(
        resp.headers
            .get("anthropic-ratelimit-requests-limit")
            .is_none()
    );
    let loud = Api::small_with(flipped(|r| {
        r.rate_limit_headers = RateLimitHeaders::Present;
    }))
    .await;
    for n in 0..3 {
        let resp = loud.get("/v1/organizations/me").await;
        let h = |name: &str| resp.headers.get(name).unwrap().to_str().unwrap().to_owned();
        assert_eq!(h("anthropic-ratelimit-requests-limit"), "100");
        assert_eq!(
            h("anthropic-ratelimit-requests-remaining"),
            (99 - n).to_string()
        );
        let reset: jiff::Timestamp = h("anthropic-ratelimit-requests-reset").parse().unwrap();
        assert_eq!(
            reset,
            loud.emu
                .now()
                .checked_add(SignedDuration::from_secs(60))
                .unwrap()
        );
    }
    // Invite creation reports its own budget.
    let resp = loud
        .post(
            "/v1/organizations/invites",
            json!({"email": "rl@acme.example", "role": "user"}),
        )
        .await;
    resp.ok();
    assert_eq!(
        resp.headers["anthropic-ratelimit-requests-limit"]
            .to_str()
            .unwrap(),
        "1200"
    );
}

async fn enforcing(readings: Readings) -> Api {
    Api::start(EmulatorConfig {
        seed: seeds::small(),
        test_controls: true,
        readings,
        faults: FaultConfig {
            enforce_rate_limits: true,
            ..FaultConfig::default()
        },
        ..EmulatorConfig::default()
    })
    .await
}

/// Sends 100 requests, checks the 101st is refused, and returns its `retry-after`.
async fn exhaust(api: &Api) -> (u64, reqwest::header::HeaderMap) {
    for _ in 0..100 {
        api.get("/v1/organizations/me").await.ok();
    }
    let refused = api.get("/v1/organizations/me").await;
    refused.assert_error(429, "rate_limit_error", "rate limit");
    let secs = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    (secs, refused.headers)
}

#[tokio::test]
async fn both_counting_models_refuse_the_101st_request_and_differ_in_recovery() {
    let window = enforcing(Readings::default()).await;
    let (wait, _) = exhaust(&window).await;
    // The oldest request leaves the window a minute after it was counted (less the wall time
    // the 100 requests took).
    assert!(
        (30..=60).contains(&wait),
        "rolling window: retry-after {wait}"
    );
    window.emu.advance_clock(SignedDuration::from_secs(1));
    window
        .get("/v1/organizations/me")
        .await
        .assert_error(429, "rate_limit_error", "rate limit");

    let bucket = enforcing(flipped(|r| {
        r.rate_limit_model = RateLimitModel::TokenBucket;
        r.rate_limit_headers = RateLimitHeaders::Present;
    }))
    .await;
    // The bucket refills in wall time while the requests are sent, so more than 100 may pass
    // before one is refused; then one request's refill (0.6 s) is the wait.
    let mut sent = 0;
    let refused = loop {
        let resp = bucket.get("/v1/organizations/me").await;
        if resp.status == 429 {
            break resp;
        }
        resp.ok();
        sent += 1;
        assert!(sent < 1000, "the bucket never ran dry");
    };
    assert!(
        sent >= 100,
        "a full bucket admits a burst of 100, got {sent}"
    );
    let headers = refused.headers;
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(wait, 1, "token bucket: one request refills in 0.6 s");
    assert_eq!(headers["anthropic-ratelimit-requests-remaining"], "0");
    bucket.emu.advance_clock(SignedDuration::from_secs(1));
    bucket.get("/v1/organizations/me").await.ok();
    // The separate invite budget is untouched by the general one.
    bucket
        .post(
            "/v1/organizations/invites",
            json!({"email": "budget@acme.example", "role": "user"}),
        )
        .await
        .ok();
}

#[tokio::test]
async fn every_response_carries_the_emulator_clock_as_date() {
    let api = Api::small().await;
    let date = |resp: &common::Resp| resp.headers["date"].to_str().unwrap().to_owned();
    let ok = api.get("/v1/organizations/me").await;
    assert_eq!(date(&ok), "Mon, 01 Jun 2026 00:00:00 GMT");
    api.emu.advance_clock(SignedDuration::from_hours(24 * 200));
    let err = api.get("/v1/organizations/users/user_nobody").await;
    assert_eq!(err.status, 404);
    assert_eq!(date(&err), "Fri, 18 Dec 2026 00:00:00 GMT");
    // Test-control routes too.
    let resp = api
        .client
        .get(format!("{}/_emulator/clock", api.emu.base_url()))
        .header("x-api-key", api.emu.admin_key())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["date"], "Fri, 18 Dec 2026 00:00:00 GMT");
}

#[tokio::test]
async fn defaults_are_the_long_standing_readings() {
    let d = Readings::default();
    assert_eq!(d.implicit_members, ImplicitMembers::Hidden);
    assert_eq!(d.key_shape, KeyShape::Current);
    assert_eq!(d.rate_limit_model, RateLimitModel::RollingWindow);
    assert_eq!(d.users_order, NewestFirstOrder::NewestFirst);
    assert_eq!(d.workspaces_order, ListOrder::OldestFirst);
    assert!(d.differences().is_empty());
}
