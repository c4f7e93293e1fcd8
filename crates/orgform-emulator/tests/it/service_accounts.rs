//! Service accounts and their workspace memberships: bearer-only authentication, every
//! operation validated by the spec oracle, and the documented semantics (slugs, 409,
//! idempotent archive, implicit default-workspace membership, archived objects).

use orgform_emulator::readings::{IdentityAdminKey, ServiceAccountNames};
use orgform_emulator::{EmulatorConfig, Readings};
use orgform_model::{FederationRule, RuleMatch};
use serde_json::{Value, json};

use crate::common::{Api, VERSION};

const SA: &str = "/v1/organizations/service_accounts";
const WS: &str = "/v1/organizations/workspaces";

async fn create(api: &Api, body: Value) -> String {
    let r = api.bearer("POST", SA, Some(body)).await;
    r.ok()["id"].as_str().unwrap().to_owned()
}

fn active_workspace(api: &Api) -> String {
    api.emu
        .state()
        .workspaces
        .iter()
        .find(|w| !w.is_archived())
        .unwrap()
        .id
        .clone()
}

#[tokio::test]
async fn an_admin_key_is_refused_on_every_identity_family_and_a_token_is_served() {
    let api = Api::small().await;
    let ws = active_workspace(&api);
    for path in [
        SA.to_owned(),
        format!("{SA}/svac_x"),
        format!("{SA}/svac_x/workspaces"),
        format!("{WS}/{ws}/service_accounts"),
        "/v1/organizations/federation_issuers".to_owned(),
        "/v1/organizations/federation_rules/fdrl_x".to_owned(),
    ] {
        api.get(&path).await.assert_error(
            403,
            "permission_error",
            "Admin API keys are not accepted",
        );
    }
    // The rest of the API still serves the admin key.
    api.get(&format!("{WS}/{ws}/members")).await.ok();
    api.bearer("GET", SA, None).await.ok();

    let flipped = Api::small_with(Readings {
        identity_admin_key: IdentityAdminKey::Unauthorized,
        ..Readings::default()
    })
    .await;
    flipped
        .get(SA)
        .await
        .assert_error(401, "authentication_error", "org:admin");

    // A configured OAuth token (not the admin key) is served too.
    let token = "oauth-token-for-identities";
    let api = Api::start(EmulatorConfig {
        seed: orgform_emulator::seeds::small(),
        bearer_tokens: vec![token.to_owned()],
        ..EmulatorConfig::default()
    })
    .await;
    let auth = format!("Bearer {token}");
    api.raw(
        "GET",
        SA,
        None,
        &[("authorization", &auth), ("anthropic-version", VERSION)],
    )
    .await
    .ok();
}

/// Every service-account operation, answered with a 200 the spec oracle validated, under
/// every readings profile.
#[tokio::test]
async fn every_service_account_operation_conforms_under_every_readings_profile() {
    for (_, readings) in Readings::profiles() {
        let api = Api::small_with(readings).await;
        let ws = active_workspace(&api);
        let id = create(
            &api,
            json!({"name": "ci-deploy", "description": "deploys", "organization_role": "developer"}),
        )
        .await;
        api.bearer("GET", &format!("{SA}?include_archived=true&limit=5"), None)
            .await
            .ok();
        api.bearer("GET", &format!("{SA}/{id}"), None).await.ok();
        api.bearer(
            "POST",
            &format!("{SA}/{id}"),
            Some(json!({"description": null, "organization_role": "admin"})),
        )
        .await
        .ok();
        let members = format!("{WS}/{ws}/service_accounts");
        api.bearer(
            "POST",
            &members,
            Some(json!({"service_account_id": id, "workspace_role": "workspace_developer"})),
        )
        .await
        .ok();
        api.bearer("GET", &members, None).await.ok();
        api.bearer("GET", &format!("{members}/{id}"), None)
            .await
            .ok();
        api.bearer(
            "POST",
            &format!("{members}/{id}"),
            Some(json!({"workspace_role": "workspace_admin"})),
        )
        .await
        .ok();
        api.bearer("DELETE", &format!("{members}/{id}"), None)
            .await
            .ok();
        let side = format!("{SA}/{id}/workspaces");
        api.bearer(
            "POST",
            &side,
            Some(json!({"workspace_id": ws, "workspace_role": "workspace_user"})),
        )
        .await
        .ok();
        api.bearer("GET", &side, None).await.ok();
        api.bearer("DELETE", &format!("{side}/{ws}"), None)
            .await
            .ok();
        api.bearer("POST", &format!("{SA}/{id}/archive"), None)
            .await
            .ok();
        let covered = api.covered.lock().unwrap().clone();
        let expected = [
            "DELETE /v1/organizations/service_accounts/{service_account_id}/workspaces/{workspace_id}",
            "DELETE /v1/organizations/workspaces/{workspace_id}/service_accounts/{service_account_id}",
            "GET /v1/organizations/service_accounts",
            "GET /v1/organizations/service_accounts/{service_account_id}",
            "GET /v1/organizations/service_accounts/{service_account_id}/workspaces",
            "GET /v1/organizations/workspaces/{workspace_id}/service_accounts",
            "GET /v1/organizations/workspaces/{workspace_id}/service_accounts/{service_account_id}",
            "POST /v1/organizations/service_accounts",
            "POST /v1/organizations/service_accounts/{service_account_id}",
            "POST /v1/organizations/service_accounts/{service_account_id}/archive",
            "POST /v1/organizations/service_accounts/{service_account_id}/workspaces",
            "POST /v1/organizations/workspaces/{workspace_id}/service_accounts",
            "POST /v1/organizations/workspaces/{workspace_id}/service_accounts/{service_account_id}",
        ];
        let expected: std::collections::BTreeSet<String> =
            expected.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(covered, expected);
    }
}

#[tokio::test]
async fn create_validates_slugs_defaults_the_role_and_refuses_duplicates() {
    let api = Api::small().await;
    let r = api.bearer("POST", SA, Some(json!({"name": "bot-1"}))).await;
    assert_eq!(r.ok()["organization_role"], "developer");
    assert_eq!(r.body["description"], Value::Null);
    for bad in ["Bot", "bot_1", "", "bot 1"] {
        api.bearer("POST", SA, Some(json!({"name": bad})))
            .await
            .assert_error(400, "invalid_request_error", "name");
    }
    api.bearer("POST", SA, Some(json!({"name": "bot-1"})))
        .await
        .assert_error(409, "conflict_error", "bot-1");
    api.bearer(
        "POST",
        SA,
        Some(json!({"name": "bot-2", "organization_role": "owner"})),
    )
    .await
    .assert_error(400, "invalid_request_error", "organization_role");
    api.bearer("POST", SA, Some(json!({"name": "bot-3", "colour": "red"})))
        .await
        .assert_error(400, "invalid_request_error", "colour");
}

#[tokio::test]
async fn archive_is_one_way_idempotent_and_archived_names_follow_the_reading() {
    for names in [ServiceAccountNames::Taken, ServiceAccountNames::Freed] {
        let api = Api::small_with(Readings {
            service_account_names: names,
            ..Readings::default()
        })
        .await;
        let id = create(&api, json!({"name": "old-bot", "description": "x"})).await;
        let first = api
            .bearer("POST", &format!("{SA}/{id}/archive"), None)
            .await;
        let at = first.ok()["archived_at"].clone();
        assert!(at.is_string());
        api.emu.advance_clock(jiff::SignedDuration::from_secs(60));
        let again = api
            .bearer("POST", &format!("{SA}/{id}/archive"), None)
            .await;
        assert_eq!(
            again.ok()["archived_at"],
            at,
            "re-archive keeps archived_at"
        );
        api.bearer(
            "POST",
            &format!("{SA}/{id}"),
            Some(json!({"description": "y"})),
        )
        .await
        .assert_error(400, "invalid_request_error", "archived");
        // Listed only with include_archived; its memberships list is empty.
        let listed = api.bearer("GET", SA, None).await;
        assert!(listed.ok()["data"].as_array().unwrap().is_empty());
        let all = api
            .bearer("GET", &format!("{SA}?include_archived=true"), None)
            .await;
        assert_eq!(all.ok()["data"].as_array().unwrap().len(), 1);
        let side = api
            .bearer("GET", &format!("{SA}/{id}/workspaces"), None)
            .await;
        assert_eq!(side.ok()["data"], json!([]));
        let again = api
            .bearer("POST", SA, Some(json!({"name": "old-bot"})))
            .await;
        match names {
            ServiceAccountNames::Taken => again.assert_error(409, "conflict_error", "old-bot"),
            ServiceAccountNames::Freed => assert_ne!(again.ok()["id"], json!(id)),
        }
    }
}

#[tokio::test]
async fn update_clears_the_description_to_empty_and_archive_waits_for_live_rules() {
    let api = Api::small().await;
    let id = create(&api, json!({"name": "desc-bot", "description": "x"})).await;
    let cleared = api
        .bearer(
            "POST",
            &format!("{SA}/{id}"),
            Some(json!({"description": null})),
        )
        .await;
    assert_eq!(cleared.ok()["description"], "");
    assert_eq!(cleared.body["organization_role"], "developer");
    let target = id.clone();
    api.emu.modify(move |s| {
        s.identities.federation_rules.push(FederationRule {
            id: "fdrl_live".into(),
            name: "ci".into(),
            description: None,
            issuer_id: "fdis_x".into(),
            rule_match: RuleMatch::default(),
            target_service_account_id: target,
            oauth_scope: "workspace:developer".into(),
            token_lifetime_seconds: 600,
            applies_to_all_workspaces: true,
            workspace_ids: Vec::new(),
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            archived_at: None,
        });
    });
    api.bearer("POST", &format!("{SA}/{id}/archive"), None)
        .await
        .assert_error(400, "invalid_request_error", "fdrl_live");
    assert!(
        api.emu
            .state_read_by_token()
            .identities
            .unwrap()
            .service_accounts[0]
            .archived_at
            .is_none()
    );
}

#[tokio::test]
async fn memberships_follow_the_documented_implicit_and_archived_rules() {
    let api = Api::small().await;
    let ws = active_workspace(&api);
    let default = api.emu.default_workspace_id();
    let id = create(&api, json!({"name": "member-bot"})).await;
    let members = format!("{WS}/{ws}/service_accounts");
    api.bearer(
        "POST",
        &members,
        Some(json!({"service_account_id": id, "workspace_role": "workspace_billing"})),
    )
    .await
    .assert_error(400, "invalid_request_error", "workspace_billing");
    // The implicit default-workspace membership: first on the service-account side, not
    // on the workspace side, GET-able, and a DELETE of it is a 200 no-op.
    api.bearer(
        "POST",
        &members,
        Some(json!({"service_account_id": id, "workspace_role": "workspace_developer"})),
    )
    .await
    .ok();
    let side = api
        .bearer("GET", &format!("{SA}/{id}/workspaces?limit=1"), None)
        .await;
    let data = side.ok()["data"].as_array().unwrap().clone();
    assert_eq!(data.len(), 2, "implicit entry plus one explicit: {data:?}");
    assert_eq!(data[0]["implicit"], true);
    assert_eq!(data[0]["workspace_id"], json!(default));
    assert_eq!(data[0]["workspace_role"], "workspace_user");
    assert_eq!(data[1]["workspace_id"], json!(ws));
    let default_list = api
        .bearer("GET", &format!("{WS}/{default}/service_accounts"), None)
        .await;
    assert_eq!(default_list.ok()["data"], json!([]));
    let implicit = api
        .bearer(
            "GET",
            &format!("{WS}/{default}/service_accounts/{id}"),
            None,
        )
        .await;
    assert_eq!(implicit.ok()["implicit"], true);
    api.bearer(
        "DELETE",
        &format!("{WS}/{default}/service_accounts/{id}"),
        None,
    )
    .await
    .ok();
    let implicit = api
        .bearer(
            "GET",
            &format!("{WS}/{default}/service_accounts/{id}"),
            None,
        )
        .await;
    assert_eq!(
        implicit.ok()["implicit"],
        true,
        "the implicit membership persists"
    );
    // Adding again replaces the role; removal is idempotent.
    let again = api
        .bearer(
            "POST",
            &members,
            Some(json!({"service_account_id": id, "workspace_role": "workspace_admin"})),
        )
        .await;
    assert_eq!(again.ok()["workspace_role"], "workspace_admin");
    for _ in 0..2 {
        api.bearer("DELETE", &format!("{members}/{id}"), None)
            .await
            .ok();
    }
    api.bearer(
        "POST",
        &format!("{members}/{id}"),
        Some(json!({"workspace_role": "workspace_user"})),
    )
    .await
    .assert_error(404, "not_found_error", "no explicit membership");
    // Archived workspaces are 400 on the workspace side.
    let archived = api
        .emu
        .state()
        .workspaces
        .iter()
        .find(|w| w.is_archived())
        .unwrap()
        .id
        .clone();
    api.bearer("GET", &format!("{WS}/{archived}/service_accounts"), None)
        .await
        .assert_error(400, "invalid_request_error", "archived");
    // An archived service account cannot be added and its membership GET is 404.
    api.bearer("POST", &format!("{SA}/{id}/archive"), None)
        .await
        .ok();
    api.bearer(
        "POST",
        &members,
        Some(json!({"service_account_id": id, "workspace_role": "workspace_user"})),
    )
    .await
    .assert_error(400, "invalid_request_error", "archived");
    api.bearer(
        "GET",
        &format!("{WS}/{default}/service_accounts/{id}"),
        None,
    )
    .await
    .assert_error(404, "not_found_error", &id);
}

#[tokio::test]
async fn lists_page_by_cursor_newest_first_and_refuse_an_unknown_cursor() {
    let api = Api::small().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(create(&api, json!({"name": format!("page-bot-{n}")})).await);
        api.emu.advance_clock(jiff::SignedDuration::from_secs(1));
    }
    let mut seen = Vec::new();
    let mut path = format!("{SA}?limit=2");
    loop {
        let page = api.bearer("GET", &path, None).await;
        let body = page.ok().clone();
        seen.extend(
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_owned()),
        );
        match body["next_page"].as_str() {
            Some(next) => path = format!("{SA}?limit=2&page={next}"),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids, "newest first, each once");
    api.bearer("GET", &format!("{SA}?page=page_nothing"), None)
        .await
        .assert_error(400, "invalid_request_error", "page");
    api.bearer("GET", &format!("{SA}?limit=101"), None)
        .await
        .assert_error(400, "invalid_request_error", "limit");
}
