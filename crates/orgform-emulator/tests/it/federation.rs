//! Federation issuers and rules: every operation validated by the spec oracle, and the
//! documented semantics (slugs, 409, JWKS shapes, match constraints, Console-only scopes,
//! one-way archive, workspace enablements).

use orgform_emulator::Readings;
use orgform_emulator::readings::{ConsoleScope, FederationNames};
use serde_json::{Value, json};

use crate::common::Api;

const SA: &str = "/v1/organizations/service_accounts";
const FI: &str = "/v1/organizations/federation_issuers";
const FR: &str = "/v1/organizations/federation_rules";

fn workspaces(api: &Api) -> Vec<String> {
    api.emu
        .state()
        .workspaces
        .iter()
        .filter(|w| !w.is_archived())
        .map(|w| w.id.clone())
        .collect()
}

async fn post(api: &Api, path: &str, body: Value) -> Value {
    api.bearer("POST", path, Some(body)).await.ok().clone()
}

/// A service account, an issuer and a rule on it enabled for the first workspace.
async fn setup(api: &Api) -> (String, String, String, String) {
    let ws = workspaces(api)[0].clone();
    let sa = post(api, SA, json!({"name": "ci"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let issuer = post(
        api,
        FI,
        json!({"name": "lab", "issuer_url": "https://idp.acme.example"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rule = post(
        api,
        FR,
        json!({
            "name": "deploy", "issuer_id": issuer, "oauth_scope": "workspace:developer",
            "match": {"subject_prefix": "deployer"},
            "target": {"type": "service_account", "service_account_id": sa},
            "workspace_id": ws,
        }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (sa, issuer, rule, ws)
}

/// Every federation operation, answered with a 200 the spec oracle validated, under every
/// readings profile.
#[tokio::test]
async fn every_federation_operation_conforms_under_every_readings_profile() {
    for (_, readings) in Readings::profiles() {
        let api = Api::small_with(readings).await;
        let (_, issuer, rule, ws) = setup(&api).await;
        let other_ws = workspaces(&api)[1].clone();
        let inline = post(
            &api,
            FI,
            json!({
                "name": "pinned", "issuer_url": "https://pinned.acme.example",
                "jwks": {"type": "inline", "keys": [{"kty": "RSA", "kid": "a", "n": "x", "e": "AQAB"}]},
                "max_jwt_lifetime_seconds": 600, "check_jti": false,
            }),
        )
        .await;
        assert_eq!(inline["jwks"]["keys"][0]["kid"], "a");
        api.bearer("GET", &format!("{FI}?include_archived=true&limit=1"), None)
            .await
            .ok();
        api.bearer("GET", &format!("{FI}/{issuer}"), None)
            .await
            .ok();
        post(
            &api,
            &format!("{FI}/{issuer}"),
            json!({"jwks": {"type": "explicit_url", "url": "https://idp.acme.example/jwks"}, "jwks_polling_disabled": false}),
        )
        .await;
        api.bearer(
            "GET",
            &format!("{FR}?issuer_id={issuer}&include_archived=true"),
            None,
        )
        .await
        .ok();
        api.bearer("GET", &format!("{FR}/{rule}"), None).await.ok();
        post(
            &api,
            &format!("{FR}/{rule}"),
            json!({"description": null, "token_lifetime_seconds": 600, "match": {"claims": {"team": "infra"}}}),
        )
        .await;
        post(
            &api,
            &format!("{FR}/{rule}/workspaces"),
            json!({"workspace_id": other_ws}),
        )
        .await;
        let listed = api
            .bearer("GET", &format!("{FR}/{rule}/workspaces?limit=1"), None)
            .await;
        let listed = listed.ok();
        assert_eq!(
            listed["data"].as_array().unwrap().len(),
            2,
            "limit has no effect"
        );
        assert!(listed["next_page"].is_null());
        api.bearer("DELETE", &format!("{FR}/{rule}/workspaces/{ws}"), None)
            .await
            .ok();
        let archived = post(&api, &format!("{FR}/{rule}/archive"), json!({})).await;
        assert_eq!(archived["workspace_ids"], json!([]));
        let done = post(&api, &format!("{FI}/{issuer}/archive"), json!({})).await;
        assert!(done["archived_at"].is_string());
    }
}

#[tokio::test]
async fn creation_validates_like_the_reference_and_refuses_duplicates() {
    let api = Api::small().await;
    let (sa, issuer, _, ws) = setup(&api).await;
    for (body, fragment) in [
        (
            json!({"name": "Lab Two", "issuer_url": "https://x.example"}),
            "slug",
        ),
        (
            json!({"name": "x", "issuer_url": "https://x.example", "max_jwt_lifetime_seconds": 176_401}),
            "176400",
        ),
        (
            json!({"name": "x", "issuer_url": "https://x.example", "jwks": {"type": "inline", "keys": []}}),
            "at least 1",
        ),
        (
            json!({"name": "x", "issuer_url": "https://x.example", "jwks": {"type": "explicit_url"}}),
            "url",
        ),
    ] {
        api.bearer("POST", FI, Some(body)).await.assert_error(
            400,
            "invalid_request_error",
            fragment,
        );
    }
    api.bearer(
        "POST",
        FI,
        Some(json!({"name": "lab", "issuer_url": "https://y.example"})),
    )
    .await
    .assert_error(409, "conflict_error", "already exists");
    let base = json!({
        "name": "r2", "issuer_id": issuer, "oauth_scope": "workspace:developer",
        "match": {"subject_prefix": "x"},
        "target": {"type": "service_account", "service_account_id": sa}, "workspace_id": ws,
    });
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    for (body, fragment) in [
        (with("match", json!({"subject_prefix": "*"})), "wildcard"),
        (with("match", json!({"audience": "aud"})), "audience alone"),
        (with("match", json!({"condition": "true"})), "constant-true"),
        (
            with("token_lifetime_seconds", json!(59)),
            "between 60 and 86400",
        ),
        (
            with("attributes", json!({"a": "claims.x"})),
            "not yet supported",
        ),
        (with("workspace_id", Value::Null), "required unless"),
        (with("workspace_id", json!("wrkspc_nope")), "does not exist"),
        (with("issuer_id", json!("fdis_nope")), "does not exist"),
        (
            with(
                "target",
                json!({"type": "service_account", "service_account_id": "svac_nope"}),
            ),
            "does not exist",
        ),
    ] {
        api.bearer("POST", FR, Some(body)).await.assert_error(
            400,
            "invalid_request_error",
            fragment,
        );
    }
    api.bearer("POST", FR, Some(with("name", json!("deploy"))))
        .await
        .assert_error(409, "conflict_error", "already exists");
    // `applies_to_all_workspaces` needs no workspace.
    let mut all = with("workspace_id", Value::Null);
    all["applies_to_all_workspaces"] = json!(true);
    post(&api, FR, all).await;
}

#[tokio::test]
async fn console_only_scopes_are_refused_per_the_reading() {
    for (readings, status, kind) in [
        (Readings::default(), 403, "permission_error"),
        (
            Readings {
                console_scope: ConsoleScope::Invalid,
                ..Readings::default()
            },
            400,
            "invalid_request_error",
        ),
    ] {
        let api = Api::small_with(readings).await;
        let (sa, issuer, rule, ws) = setup(&api).await;
        api.bearer(
            "POST",
            FR,
            Some(json!({
                "name": "admin-ci", "issuer_id": issuer, "oauth_scope": "org:admin",
                "match": {"subject_prefix": "x"},
                "target": {"type": "service_account", "service_account_id": sa}, "workspace_id": ws,
            })),
        )
        .await
        .assert_error(status, kind, "Console session");
        api.bearer(
            "POST",
            &format!("{FR}/{rule}"),
            Some(json!({"oauth_scope": "workspace:developer org:admin"})),
        )
        .await
        .assert_error(status, kind, "Console session");
    }
}

#[tokio::test]
async fn shared_issuers_must_pin_the_tenant() {
    let api = Api::small().await;
    let (sa, _, _, ws) = setup(&api).await;
    let gh = post(
        &api,
        FI,
        json!({"name": "github-actions", "issuer_url": "https://token.actions.githubusercontent.com"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rule = |name: &str, m: Value| {
        json!({
            "name": name, "issuer_id": gh, "oauth_scope": "workspace:developer", "match": m,
            "target": {"type": "service_account", "service_account_id": sa}, "workspace_id": ws,
        })
    };
    api.bearer(
        "POST",
        FR,
        Some(rule("loose", json!({"subject_prefix": "repo:*"}))),
    )
    .await
    .assert_error(400, "invalid_request_error", "tenant");
    for (name, m) in [
        (
            "by-subject",
            json!({"subject_prefix": "repo:acme/infra:ref:refs/heads/main"}),
        ),
        ("by-claim", json!({"claims": {"repository_owner": "acme"}})),
        (
            "by-condition",
            json!({"condition": "claims.repository_owner == 'acme'"}),
        ),
    ] {
        post(&api, FR, rule(name, m)).await;
    }
}

#[tokio::test]
async fn archives_are_one_way_and_ordered_and_names_follow_the_reading() {
    for (names, conflict) in [
        (FederationNames::Taken, true),
        (FederationNames::Freed, false),
    ] {
        let api = Api::small_with(Readings {
            federation_names: names,
            ..Readings::default()
        })
        .await;
        let (_, issuer, rule, ws) = setup(&api).await;
        // The issuer waits for its live rules.
        api.bearer("POST", &format!("{FI}/{issuer}/archive"), Some(json!({})))
            .await
            .assert_error(400, "invalid_request_error", "live federation rule");
        let first = post(&api, &format!("{FR}/{rule}/archive"), json!({})).await;
        let again = post(&api, &format!("{FR}/{rule}/archive"), json!({})).await;
        assert_eq!(first["archived_at"], again["archived_at"]);
        for (path, body) in [
            (format!("{FR}/{rule}"), json!({"name": "renamed"})),
            (
                format!("{FR}/{rule}/workspaces"),
                json!({"workspace_id": ws}),
            ),
        ] {
            api.bearer("POST", &path, Some(body)).await.assert_error(
                400,
                "invalid_request_error",
                "archived",
            );
        }
        post(&api, &format!("{FI}/{issuer}/archive"), json!({})).await;
        api.bearer(
            "POST",
            &format!("{FI}/{issuer}"),
            Some(json!({"check_jti": false})),
        )
        .await
        .assert_error(400, "invalid_request_error", "archived");
        let recreate = api
            .bearer(
                "POST",
                FI,
                Some(json!({"name": "lab", "issuer_url": "https://idp.acme.example"})),
            )
            .await;
        assert_eq!(recreate.status == 409, conflict, "{:?}", recreate.body);
        // Archived objects are listed only on request.
        let listed = api.bearer("GET", FR, None).await;
        assert!(listed.ok()["data"].as_array().unwrap().is_empty());
        let all = api
            .bearer("GET", &format!("{FR}?include_archived=true"), None)
            .await;
        assert_eq!(all.ok()["data"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn workspace_targeting_follows_the_documented_rules() {
    let api = Api::small().await;
    let (_, _, rule, ws) = setup(&api).await;
    let other = workspaces(&api)[1].clone();
    // Enabling is idempotent; the legacy single binding is replaced while there is one.
    post(
        &api,
        &format!("{FR}/{rule}/workspaces"),
        json!({"workspace_id": ws}),
    )
    .await;
    let moved = post(
        &api,
        &format!("{FR}/{rule}"),
        json!({"workspace_id": other}),
    )
    .await;
    assert_eq!(moved["workspace_ids"], json!([other]));
    post(
        &api,
        &format!("{FR}/{rule}/workspaces"),
        json!({"workspace_id": ws}),
    )
    .await;
    api.bearer(
        "POST",
        &format!("{FR}/{rule}"),
        Some(json!({"workspace_id": ws})),
    )
    .await
    .assert_error(400, "invalid_request_error", "more than one workspace");
    // Leaving `all` needs a workspace to remain.
    post(
        &api,
        &format!("{FR}/{rule}"),
        json!({"applies_to_all_workspaces": true}),
    )
    .await;
    for id in [&ws, &other] {
        api.bearer("DELETE", &format!("{FR}/{rule}/workspaces/{id}"), None)
            .await
            .ok();
    }
    // Disabling again is idempotent.
    api.bearer("DELETE", &format!("{FR}/{rule}/workspaces/{ws}"), None)
        .await
        .ok();
    api.bearer(
        "POST",
        &format!("{FR}/{rule}"),
        Some(json!({"applies_to_all_workspaces": false})),
    )
    .await
    .assert_error(400, "invalid_request_error", "no workspace would remain");
    api.bearer(
        "POST",
        &format!("{FR}/{rule}/workspaces"),
        Some(json!({"workspace_id": "wrkspc_nope"})),
    )
    .await
    .assert_error(404, "not_found_error", "wrkspc_nope");
}

#[tokio::test]
async fn an_inline_key_set_is_served_back_but_held_as_a_digest() {
    let api = Api::small().await;
    let keys = json!([{"kty": "RSA", "kid": "a", "n": "modulus", "e": "AQAB"}]);
    let id = post(
        &api,
        FI,
        json!({"name": "pinned", "issuer_url": "https://p.example", "jwks": {"type": "inline", "keys": keys}}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = api.bearer("GET", &format!("{FI}/{id}"), None).await;
    assert_eq!(got.ok()["jwks"]["keys"], keys);
    let state = api.emu.state_read_by_token();
    let snapshot = serde_json::to_string(&state).unwrap();
    assert!(!snapshot.contains("modulus"));
    assert!(snapshot.contains("keys_digest"));
}
