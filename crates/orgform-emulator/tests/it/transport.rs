//! Authentication, headers, error envelope, query parsing and pagination rules.

use crate::common::{Api, VERSION};
use orgform_emulator::{EmulatorConfig, Options, Readings, WorkspaceKeyRefusal, seeds};
use orgform_model::OrgRole;
use serde_json::{Value, json};

const USERS: &str = "/v1/organizations/users";

#[tokio::test]
async fn missing_or_wrong_key_is_401_with_the_exact_body() {
    let api = Api::small().await;
    let missing = api
        .raw("GET", USERS, None, &[("anthropic-version", VERSION)])
        .await;
    missing.assert_error(401, "authentication_error", "invalid x-api-key");
    assert_eq!(missing.message(), "invalid x-api-key");
    let wrong = api
        .raw(
            "GET",
            USERS,
            None,
            &[
                ("x-api-key", "sk-ant-admin01-wrong"),
                ("anthropic-version", VERSION),
            ],
        )
        .await;
    wrong.assert_error(401, "authentication_error", "invalid x-api-key");
    assert!(wrong.headers.get("anthropic-organization-id").is_none());
}

#[tokio::test]
async fn workspace_keys_are_refused_as_configured() {
    let api = Api::small().await;
    let headers = [
        ("x-api-key", "sk-ant-api03-workspacekey"),
        ("anthropic-version", VERSION),
    ];
    api.raw("GET", USERS, None, &headers).await.assert_error(
        401,
        "authentication_error",
        "invalid x-api-key",
    );
    let strict = Api::start(EmulatorConfig {
        readings: Readings {
            workspace_key: WorkspaceKeyRefusal::Forbidden,
            ..Readings::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    strict.raw("GET", USERS, None, &headers).await.assert_error(
        403,
        "permission_error",
        "Admin API key",
    );
}

#[tokio::test]
async fn bearer_token_is_accepted() {
    let api = Api::small().await;
    let bearer = format!("Bearer {}", api.emu.admin_key());
    let resp = api
        .raw(
            "GET",
            "/v1/organizations/me",
            None,
            &[("authorization", &bearer), ("anthropic-version", VERSION)],
        )
        .await;
    assert_eq!(resp.ok()["type"], "organization");
}

#[tokio::test]
async fn anthropic_version_is_required_unless_disabled() {
    let api = Api::small().await;
    let key = api.emu.admin_key().to_owned();
    api.raw("GET", USERS, None, &[("x-api-key", &key)])
        .await
        .assert_error(
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
        );
    api.raw(
        "GET",
        USERS,
        None,
        &[("x-api-key", &key), ("anthropic-version", "2099-01-01")],
    )
    .await
    .assert_error(
        400,
        "invalid_request_error",
        "anthropic-version: \"2099-01-01\" is not a valid version",
    );
    let lax = Api::start(EmulatorConfig {
        options: Options {
            require_version: false,
            ..Options::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let key = lax.emu.admin_key().to_owned();
    lax.raw("GET", USERS, None, &[("x-api-key", &key)])
        .await
        .ok();
}

#[tokio::test]
async fn beta_query_and_header_are_ignored() {
    let api = Api::small().await;
    let key = api.emu.admin_key().to_owned();
    let resp = api
        .raw(
            "GET",
            "/v1/organizations/users?beta=true&limit=3",
            None,
            &[
                ("x-api-key", &key),
                ("anthropic-version", VERSION),
                ("anthropic-beta", "fast-mode-2026-02-01"),
            ],
        )
        .await;
    assert_eq!(resp.ok()["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn every_response_has_request_and_organization_headers() {
    let api = Api::small().await;
    let ok = api.get("/v1/organizations/me").await;
    let err = api.get("/v1/organizations/users/user_01nope").await;
    err.assert_error(404, "not_found_error", "user_01nope");
    for resp in [&ok, &err] {
        let id = resp.headers["request-id"].to_str().unwrap();
        assert!(id.starts_with("req_01") && id.len() == "req_01".len() + 22);
        assert_eq!(
            resp.headers["anthropic-organization-id"].to_str().unwrap(),
            "4f6b2a1e-8c3d-4e5f-9a7b-1c2d3e4f5a6b"
        );
        assert!(resp.headers.get("anthropic-workspace-id").is_none());
    }
    assert_ne!(ok.headers["request-id"], err.headers["request-id"]);
}

#[tokio::test]
async fn validation_errors_are_400_and_unknown_fields_are_refused() {
    let api = Api::small().await;
    api.post(
        "/v1/organizations/invites",
        json!({"email": "x@y.example", "role": "user", "team": "a"}),
    )
    .await
    .assert_error(
        400,
        "invalid_request_error",
        "team: Extra inputs are not permitted",
    );
    api.post("/v1/organizations/invites", json!({"email": "x@y.example"}))
        .await
        .assert_error(400, "invalid_request_error", "role: Field required");
    api.post(
        "/v1/organizations/invites",
        json!({"email": "not-an-email", "role": "user"}),
    )
    .await
    .assert_error(400, "invalid_request_error", "not a valid email");
    api.post("/v1/organizations/workspaces", json!(["a"]))
        .await
        .assert_error(400, "invalid_request_error", "JSON object");
}

#[tokio::test]
async fn limit_bounds_double_cursor_and_unknown_cursor_are_400() {
    let api = Api::small().await;
    for bad in ["limit=0", "limit=1001", "limit=ten"] {
        api.get(&format!("{USERS}?{bad}")).await.assert_error(
            400,
            "invalid_request_error",
            "limit",
        );
    }
    api.get(&format!("{USERS}?limit=1000")).await.ok();
    let first = api.get(&format!("{USERS}?limit=1")).await;
    let id = first.ok()["first_id"].as_str().unwrap().to_owned();
    api.get(&format!("{USERS}?before_id={id}&after_id={id}"))
        .await
        .assert_error(400, "invalid_request_error", "before_id and after_id");
    api.get(&format!("{USERS}?after_id=user_01doesnotexist"))
        .await
        .assert_error(400, "invalid_request_error", "after_id");
    api.get(&format!("{USERS}?before_id=user_01doesnotexist"))
        .await
        .assert_error(400, "invalid_request_error", "before_id");
}

#[tokio::test]
async fn bracketed_and_plain_array_parameters_combine() {
    let api = Api::small().await;
    let resp = api
        .get(&format!("{USERS}?roles[]=admin&roles=billing&limit=100"))
        .await;
    let roles: Vec<&str> = resp.ok()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles.len(), 2, "{roles:?}");
    assert!(roles.contains(&"admin") && roles.contains(&"billing"));
    api.get(&format!("{USERS}?roles[]=emperor"))
        .await
        .assert_error(400, "invalid_request_error", "roles");
}

#[tokio::test]
async fn default_limit_is_20_and_empty_pages_have_null_ids() {
    let api = Api::start(EmulatorConfig {
        seed: seeds::large(5, 30, 0, 0),
        ..EmulatorConfig::default()
    })
    .await;
    let page = api.get(USERS).await;
    assert_eq!(page.ok()["data"].as_array().unwrap().len(), 20);
    assert_eq!(page.body["has_more"], true);
    let empty = api.get(&format!("{USERS}?email=nobody@none.example")).await;
    assert_eq!(
        empty.ok(),
        &json!({"data": [], "first_id": null, "last_id": null, "has_more": false})
    );
}

#[tokio::test]
async fn users_and_invites_are_newest_first() {
    let api = Api::small().await;
    for path in [USERS, "/v1/organizations/invites"] {
        let resp = api.get(&format!("{path}?limit=100")).await;
        let field = if path == USERS {
            "added_at"
        } else {
            "invited_at"
        };
        let times: Vec<&str> = resp.ok()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o[field].as_str().unwrap())
            .collect();
        let mut sorted = times.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(times, sorted, "{path}");
    }
}

async fn walk(api: &Api, path: &str, limit: usize, backwards_from: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cursor = backwards_from.map(|c| format!("before_id={c}"));
    loop {
        let q = cursor.clone().map_or_else(String::new, |c| format!("&{c}"));
        let sep = if path.contains('?') { '&' } else { '?' };
        let resp = api.get(&format!("{path}{sep}limit={limit}{q}")).await;
        let body = resp.ok();
        let ids: Vec<String> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(ids.len() <= limit);
        if let Some(first) = ids.first() {
            assert_eq!(body["first_id"].as_str(), Some(first.as_str()));
            assert_eq!(body["last_id"].as_str(), ids.last().map(String::as_str));
        }
        let more = body["has_more"].as_bool().unwrap();
        if backwards_from.is_some() {
            let mut page = ids;
            page.extend(out);
            out = page;
            cursor = Some(format!(
                "before_id={}",
                body["first_id"].as_str().unwrap_or("")
            ));
        } else {
            out.extend(ids);
            cursor = Some(format!(
                "after_id={}",
                body["last_id"].as_str().unwrap_or("")
            ));
        }
        if !more {
            return out;
        }
    }
}

#[tokio::test]
async fn pagination_walks_2500_items_both_ways_exactly_once_in_order() {
    let api = Api::start(EmulatorConfig {
        seed: seeds::large(77, 2500, 10, 2500),
        ..EmulatorConfig::default()
    })
    .await;
    let state = api.emu.state();
    for (path, total) in [(USERS, 2500), ("/v1/organizations/api_keys", 2500)] {
        for limit in [1000, 333] {
            let forward = walk(&api, path, limit, None).await;
            assert_eq!(forward.len(), total, "{path} limit {limit}");
            let unique: std::collections::HashSet<&String> = forward.iter().collect();
            assert_eq!(unique.len(), total);
            let last = forward.last().unwrap().clone();
            let mut backward = walk(&api, path, limit, Some(&last)).await;
            backward.push(last);
            assert_eq!(backward, forward, "{path} limit {limit}");
        }
    }
    // Newest first for users.
    let forward = walk(&api, USERS, 1000, None).await;
    let added: Vec<_> = forward
        .iter()
        .map(|id| state.user(id).unwrap().added_at)
        .collect();
    assert!(added.windows(2).all(|w| w[0] >= w[1]));
    // Filters page too: only developers, each once.
    let devs = walk(&api, &format!("{USERS}?roles[]=developer"), 7, None).await;
    let expected = state
        .users
        .iter()
        .filter(|u| u.role == OrgRole::Developer)
        .count();
    assert_eq!(devs.len(), expected);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_404_envelopes() {
    let api = Api::small().await;
    api.post("/v1/organizations/api_keys", json!({"name": "k"}))
        .await
        .assert_error(404, "not_found_error", "Not found");
    let key = api.emu.state().api_keys[0].id.clone();
    api.delete(&format!("/v1/organizations/api_keys/{key}"))
        .await
        .assert_error(404, "not_found_error", "Not found");
    api.post("/v1/organizations/users", json!({}))
        .await
        .assert_error(404, "not_found_error", "Not found");
    api.get("/v1/organizations/nothing")
        .await
        .assert_error(404, "not_found_error", "Not found");
}

#[tokio::test]
async fn oversized_bodies_are_413_in_the_envelope() {
    let api = Api::small().await;
    let huge = "x".repeat(3 * 1024 * 1024);
    api.post("/v1/organizations/workspaces", json!({ "name": huge }))
        .await
        .assert_error(413, "request_too_large", "maximum size");
    assert_eq!(api.emu.state().workspaces.len(), 4);
}

#[tokio::test]
async fn a_cursor_outside_the_current_filter_still_pages() {
    let api = Api::small().await;
    let all = api.get(&format!("{USERS}?limit=100")).await;
    let data = all.ok()["data"].as_array().unwrap().clone();
    let admin_pos = data.iter().position(|u| u["role"] == "admin").unwrap();
    let cursor = data[0]["id"].as_str().unwrap();
    assert_ne!(data[0]["role"], "admin");
    let page = api
        .get(&format!("{USERS}?roles[]=admin&after_id={cursor}"))
        .await;
    let ids: Vec<&Value> = page.ok()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["id"])
        .collect();
    assert_eq!(ids, vec![&data[admin_pos]["id"]]);
}

#[tokio::test]
async fn configured_oauth_tokens_are_accepted_as_bearer_and_others_refused() {
    let api = Api::start(EmulatorConfig {
        seed: seeds::small(),
        bearer_tokens: vec!["oauth-token-one".into(), "oauth-token-two".into()],
        options: Options {
            accept_bearer: false,
            ..Options::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    for token in ["oauth-token-one", "oauth-token-two"] {
        let bearer = format!("Bearer {token}");
        let resp = api
            .raw(
                "GET",
                "/v1/organizations/me",
                None,
                &[("authorization", &bearer), ("anthropic-version", VERSION)],
            )
            .await;
        assert_eq!(resp.ok()["type"], "organization");
    }
    for headers in [
        // An unknown token.
        [
            ("authorization", "Bearer oauth-token-three"),
            ("anthropic-version", VERSION),
        ],
        // A token is not an admin key: it goes in `Authorization`, not `x-api-key`.
        [
            ("x-api-key", "oauth-token-one"),
            ("anthropic-version", VERSION),
        ],
        // The admin key as a bearer token, with `accept_bearer` off.
        [
            ("authorization", "Bearer sk-ant-admin01-emulator-test-key"),
            ("anthropic-version", VERSION),
        ],
    ] {
        let resp = api.raw("GET", USERS, None, &headers).await;
        resp.assert_error(401, "authentication_error", "invalid x-api-key");
        assert!(resp.headers.get("anthropic-organization-id").is_none());
    }
}
