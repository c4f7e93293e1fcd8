//! The read-only reports: rate limits, the messages usage report grouped by API key, and the
//! Compliance API activity feed with the activities the emulator records for the writes it
//! serves. Every 200 is checked against the official spec (the feed, which the Admin subset
//! does not hold, against its documented envelope).

use std::collections::BTreeMap;

use crate::common::{Api, VERSION};
use jiff::{SignedDuration, Timestamp};
use orgform_emulator::readings::{ActivityFeed, UsageReport};
use orgform_emulator::{EmulatorConfig, Readings, UsageRecord, seeds};
use orgform_model::{LimitValue, RateLimits, WorkspaceLimitValue, WorkspaceRateLimit};
use serde_json::{Value, json};

fn limits_with_override(workspace_id: &str) -> RateLimits {
    let mut limits = orgform_emulator::default_rate_limits();
    limits.workspaces.insert(
        workspace_id.to_owned(),
        vec![WorkspaceRateLimit {
            workspace_id: workspace_id.to_owned(),
            rate_limit_id: "ratelimit_01sonnet".to_owned(),
            group_type: String::new(),
            models: None,
            limits: vec![WorkspaceLimitValue {
                kind: "requests_per_minute".to_owned(),
                value: 500,
                org_limit: None,
            }],
        }],
    );
    limits
}

#[tokio::test]
async fn rate_limits_conform_and_filter_and_workspace_overrides_carry_the_org_value() {
    let seed = seeds::small();
    let ws = seed.workspaces[0].id.clone();
    let api = Api::start(EmulatorConfig {
        seed,
        rate_limits: Some(limits_with_override(&ws)),
        ..EmulatorConfig::default()
    })
    .await;
    let all = api.get("/v1/organizations/rate_limits").await;
    let groups = all.ok()["data"].as_array().unwrap().clone();
    assert_eq!(groups.len(), 4);
    assert_eq!(all.body["next_page"], Value::Null);
    let batch = api
        .get("/v1/organizations/rate_limits?group_type=batch&limit=5")
        .await;
    assert_eq!(batch.ok()["data"].as_array().unwrap().len(), 1);
    assert_eq!(batch.body["data"][0]["models"], Value::Null);
    let by_model = api
        .get("/v1/organizations/rate_limits?model=claude-sonnet-4-5")
        .await;
    assert_eq!(by_model.ok()["data"][0]["id"], "ratelimit_01sonnet");
    api.get("/v1/organizations/rate_limits?model=no-such-model")
        .await
        .assert_error(404, "not_found_error", "no-such-model");
    api.get("/v1/organizations/rate_limits?group_type=gpu")
        .await
        .assert_error(400, "invalid_request_error", "group_type");
    api.get("/v1/organizations/rate_limits?limit=0")
        .await
        .assert_error(400, "invalid_request_error", "limit");

    let overrides = api
        .get(&format!("/v1/organizations/workspaces/{ws}/rate_limits"))
        .await;
    let entry = &overrides.ok()["data"][0];
    assert_eq!(entry["type"], "workspace_rate_limit");
    assert_eq!(entry["workspace_id"], ws.as_str());
    assert_eq!(entry["group_type"], "model_group");
    assert_eq!(
        entry["limits"],
        json!([{"type": "requests_per_minute", "value": 500, "org_limit": 4000}])
    );
    let other = api
        .get(&format!(
            "/v1/organizations/workspaces/{}/rate_limits",
            api.emu.default_workspace_id()
        ))
        .await;
    assert_eq!(other.ok()["data"], json!([]));
    api.get("/v1/organizations/workspaces/wrkspc_01nope/rate_limits")
        .await
        .assert_error(404, "not_found_error", "wrkspc_01nope");
    let covered = api.covered.lock().unwrap().clone();
    assert!(covered.contains("GET /v1/organizations/rate_limits"));
    assert!(covered.contains("GET /v1/organizations/workspaces/{workspace_id}/rate_limits"));
}

#[tokio::test]
async fn a_rate_limit_change_is_served_at_once() {
    let api = Api::small().await;
    let mut limits = orgform_emulator::default_rate_limits();
    limits.organization[0].limits[0] = LimitValue {
        kind: "requests_per_minute".to_owned(),
        value: 1,
    };
    api.emu.set_rate_limits(limits);
    let read = api.get("/v1/organizations/rate_limits").await;
    assert_eq!(read.ok()["data"][0]["limits"][0]["value"], 1);
}

fn usage(key: &str, at: Timestamp, tokens: u64) -> UsageRecord {
    UsageRecord {
        api_key_id: Some(key.to_owned()),
        workspace_id: None,
        model: "claude-sonnet-4-5".to_owned(),
        at,
        uncached_input_tokens: tokens,
        output_tokens: tokens / 2,
    }
}

#[tokio::test]
async fn the_usage_report_groups_by_api_key_in_daily_buckets_and_pages() {
    let api = Api::small().await;
    let now = api.emu.now();
    let day = SignedDuration::from_hours(24);
    api.emu
        .record_usage(usage("apikey_01used", now - day * 3, 100));
    api.emu
        .record_usage(usage("apikey_01used", now - day * 3, 50));
    api.emu
        .record_usage(usage("apikey_01other", now - day * 20, 7));
    let start = (now - day * 30).to_string();
    let mut used: BTreeMap<String, u64> = BTreeMap::new();
    let mut page: Option<String> = None;
    let mut buckets = 0;
    let mut pages = 0;
    loop {
        let mut path = format!(
            "/v1/organizations/usage_report/messages?starting_at={start}&bucket_width=1d&group_by[]=api_key_id"
        );
        if let Some(p) = page.take() {
            path = format!("{path}&page={p}");
        }
        let resp = api.get(&path).await;
        let body = resp.ok().clone();
        pages += 1;
        for bucket in body["data"].as_array().unwrap() {
            buckets += 1;
            for r in bucket["results"].as_array().unwrap() {
                *used
                    .entry(r["api_key_id"].as_str().unwrap().to_owned())
                    .or_default() += r["uncached_input_tokens"].as_u64().unwrap();
            }
        }
        let Some(next) = body["next_page"].as_str() else {
            assert_eq!(body["has_more"], false);
            break;
        };
        assert_eq!(body["has_more"], true);
        page = Some(next.to_owned());
    }
    assert_eq!(buckets, 30, "one bucket per day, empty ones included");
    assert_eq!(pages, 5, "7 buckets per page by default");
    assert_eq!(
        used,
        BTreeMap::from([("apikey_01other".into(), 7), ("apikey_01used".into(), 150)])
    );
    let ungrouped = api
        .get(&format!(
            "/v1/organizations/usage_report/messages?starting_at={}&limit=31",
            now - day * 5
        ))
        .await;
    let results = &ungrouped.ok()["data"][2]["results"];
    assert_eq!(results[0]["api_key_id"], Value::Null, "not grouped: null");
    assert_eq!(results[0]["uncached_input_tokens"], 150);
    for (query, fragment) in [
        ("bucket_width=1d", "starting_at"),
        ("starting_at=yesterday", "starting_at"),
        (
            "starting_at=2026-05-01T00:00:00Z&bucket_width=1w",
            "bucket_width",
        ),
        ("starting_at=2026-05-01T00:00:00Z&limit=32", "limit"),
        (
            "starting_at=2026-05-01T00:00:00Z&group_by[]=colour",
            "group_by",
        ),
        ("starting_at=2026-05-01T00:00:00Z&page=nope", "page"),
    ] {
        api.get(&format!("/v1/organizations/usage_report/messages?{query}"))
            .await
            .assert_error(400, "invalid_request_error", fragment);
    }
    let covered = api.covered.lock().unwrap().clone();
    assert!(covered.contains("GET /v1/organizations/usage_report/messages"));

    let refused = Api::small_with(Readings {
        usage_report: UsageReport::Forbidden,
        ..Readings::default()
    })
    .await;
    refused
        .get(&format!(
            "/v1/organizations/usage_report/messages?starting_at={start}"
        ))
        .await
        .assert_error(403, "permission_error", "usage report");
}

async fn feed(api: &Api, query: &str) -> Value {
    let key = api.emu.admin_key().to_owned();
    // The Compliance API's examples send no anthropic-version.
    api.raw(
        "GET",
        &format!("/v1/compliance/activities{query}"),
        None,
        &[("x-api-key", key.as_str())],
    )
    .await
    .ok()
    .clone()
}

#[tokio::test]
async fn writes_are_recorded_in_the_activity_feed_newest_first_and_paged() {
    let api = Api::small().await;
    let snap = api.emu.state();
    let user = snap
        .users
        .iter()
        .find(|u| u.email == "dev.two@acme.example")
        .unwrap()
        .id
        .clone();
    let ws = snap.workspaces[0].id.clone();
    api.post(
        &format!("/v1/organizations/users/{user}"),
        json!({"role": "user"}),
    )
    .await
    .ok();
    api.post(
        "/v1/organizations/invites",
        json!({"email": "new.person@acme.example", "role": "developer"}),
    )
    .await
    .ok();
    api.post(
        &format!("/v1/organizations/workspaces/{ws}"),
        json!({"name": "renamed"}),
    )
    .await
    .ok();
    // A refused write records nothing.
    api.post(
        &format!("/v1/organizations/users/{user}"),
        json!({"role": "admin"}),
    )
    .await
    .assert_error(400, "invalid_request_error", "admin");
    let all = feed(&api, "").await;
    let types: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "platform_workspace_updated",
            "org_user_invite_sent",
            "org_user_role_updated"
        ]
    );
    let role = &all["data"][2];
    assert_eq!(role["user_id"], user.as_str());
    assert_eq!(role["role"], "user");
    assert_eq!(role["actor"]["type"], "admin_api_key_actor");
    assert!(
        role["actor"]["admin_api_key_id"]
            .as_str()
            .unwrap()
            .starts_with("apikey_")
    );

    let first = feed(&api, "?limit=2").await;
    assert_eq!(first["has_more"], true);
    let last = first["last_id"].as_str().unwrap().to_owned();
    let second = feed(&api, &format!("?limit=2&after_id={last}")).await;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert_eq!(second["has_more"], false);
    assert_eq!(second["data"][0]["type"], "org_user_role_updated");
    let asc = feed(&api, "?order=asc&activity_types[]=org_user_role_updated").await;
    assert_eq!(asc["data"].as_array().unwrap().len(), 1);
    let later = (api.emu.now() + SignedDuration::from_hours(1)).to_string();
    let none = feed(&api, &format!("?created_at.gte={later}")).await;
    assert_eq!(none["data"], json!([]));
    assert_eq!(none["first_id"], Value::Null);

    let key = api.emu.admin_key().to_owned();
    for (query, fragment) in [
        ("?limit=5001", "between 1 and 5000"),
        ("?after_id=activity_01nope", "after_id"),
        ("?after_id=a&before_id=b", "before_id"),
        ("?created_at.gte=yesterday", "created_at.gte"),
    ] {
        api.raw(
            "GET",
            &format!("/v1/compliance/activities{query}"),
            None,
            &[("x-api-key", key.as_str())],
        )
        .await
        .assert_error(400, "invalid_request_error", fragment);
    }
}

#[tokio::test]
async fn the_feed_is_refused_as_configured_and_console_changes_can_be_added() {
    for (reading, status, kind) in [
        (ActivityFeed::Forbidden, 403, "permission_error"),
        (ActivityFeed::NotFound, 404, "not_found_error"),
    ] {
        let api = Api::small_with(Readings {
            activity_feed: reading,
            ..Readings::default()
        })
        .await;
        let key = api.emu.admin_key().to_owned();
        let resp = api
            .raw(
                "GET",
                "/v1/compliance/activities",
                None,
                &[("x-api-key", key.as_str())],
            )
            .await;
        assert_eq!(resp.status, status, "{}", resp.body);
        assert_eq!(resp.error_type(), kind);
    }
    let api = Api::small().await;
    let mut fields = serde_json::Map::new();
    fields.insert("user_id".into(), json!("user_01x"));
    api.emu
        .record_activity("owner@acme.example", "org_user_role_updated", fields);
    let all = feed(&api, "").await;
    assert_eq!(
        all["data"][0]["actor"]["email_address"],
        "owner@acme.example"
    );
    assert_eq!(api.emu.activities().len(), 1);
}

#[tokio::test]
async fn a_bearer_token_write_is_attributed_to_the_token() {
    let api = Api::start(EmulatorConfig {
        seed: seeds::small(),
        bearer_tokens: vec!["oauth-token-one".into()],
        ..EmulatorConfig::default()
    })
    .await;
    let key = api.emu.state().api_keys[0].id.clone();
    api.raw(
        "POST",
        &format!("/v1/organizations/api_keys/{key}"),
        Some(json!({"name": "renamed by ci"})),
        &[
            ("authorization", "Bearer oauth-token-one"),
            ("anthropic-version", VERSION),
        ],
    )
    .await
    .ok();
    let activity = &api.emu.activities()[0];
    assert_eq!(activity["type"], "platform_api_key_updated");
    assert_eq!(activity["api_key_id"], key.as_str());
    assert_eq!(activity["actor"]["type"], "api_actor");
    let text = serde_json::to_string(activity).unwrap();
    assert!(
        !text.contains("oauth-token-one"),
        "the token is never recorded"
    );
}
