//! API keys and the organization endpoint.

use crate::common::Api;
use orgform_emulator::{EmulatorConfig, Options, seeds};
use orgform_model::{ApiKeyStatus, Snapshot};
use serde_json::json;

const KEYS: &str = "/v1/organizations/api_keys";

fn key_with(snap: &Snapshot, status: &ApiKeyStatus) -> String {
    snap.api_keys
        .iter()
        .find(|k| k.status == *status)
        .unwrap()
        .id
        .clone()
}

#[tokio::test]
async fn me_returns_the_organization() {
    let api = Api::small().await;
    assert_eq!(
        api.get("/v1/organizations/me").await.ok(),
        &json!({"type": "organization", "id": "4f6b2a1e-8c3d-4e5f-9a7b-1c2d3e4f5a6b", "name": "Acme Research"})
    );
}

#[tokio::test]
async fn expired_cannot_be_set_and_expired_keys_cannot_be_reactivated() {
    let api = Api::small().await;
    let snap = api.emu.state();
    let active = key_with(&snap, &ApiKeyStatus::Active);
    api.post(&format!("{KEYS}/{active}"), json!({"status": "expired"}))
        .await
        .assert_error(400, "invalid_request_error", "expired cannot be set");
    let expired = key_with(&snap, &ApiKeyStatus::Expired);
    api.post(&format!("{KEYS}/{expired}"), json!({"status": "active"}))
        .await
        .assert_error(400, "invalid_request_error", "cannot be reactivated");
    api.post(&format!("{KEYS}/{expired}"), json!({"status": "inactive"}))
        .await
        .assert_error(400, "invalid_request_error", "cannot be reactivated");
    let renamed = api
        .post(
            &format!("{KEYS}/{expired}"),
            json!({"name": "still expired"}),
        )
        .await;
    assert_eq!(renamed.ok()["status"], "expired");
}

#[tokio::test]
async fn keys_expire_on_the_emulator_clock() {
    let api = Api::small().await;
    let snap = api.emu.state();
    let key = snap
        .api_keys
        .iter()
        .find(|k| k.status == ApiKeyStatus::Active && k.expires_at.is_some())
        .unwrap()
        .clone();
    let until = api.emu.now().duration_until(key.expires_at.unwrap());
    api.emu.advance_clock(until);
    let got = api.get(&format!("{KEYS}/{}", key.id)).await;
    assert_eq!(got.ok()["status"], "expired");
    let listed = api.get(&format!("{KEYS}?status=expired&limit=100")).await;
    assert!(
        listed.ok()["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == key.id.as_str())
    );
}

#[tokio::test]
async fn active_inactive_toggle_and_archived_is_terminal_by_default() {
    let api = Api::small().await;
    let active = key_with(&api.emu.state(), &ApiKeyStatus::Active);
    let path = format!("{KEYS}/{active}");
    assert_eq!(
        api.post(&path, json!({"status": "inactive"})).await.ok()["status"],
        "inactive"
    );
    assert_eq!(
        api.post(&path, json!({"status": "active"})).await.ok()["status"],
        "active"
    );
    assert_eq!(
        api.post(&path, json!({"status": "archived"})).await.ok()["status"],
        "archived"
    );
    api.post(&path, json!({"status": "active"}))
        .await
        .assert_error(400, "invalid_request_error", "cannot be undone");
    let lenient = Api::start(EmulatorConfig {
        seed: seeds::small(),
        options: Options {
            allow_unarchive_keys: true,
            ..Options::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let archived = key_with(&lenient.emu.state(), &ApiKeyStatus::Archived);
    let back = lenient
        .post(&format!("{KEYS}/{archived}"), json!({"status": "active"}))
        .await;
    assert_eq!(back.ok()["status"], "active");
}

#[tokio::test]
async fn key_names_are_1_to_500_characters() {
    let api = Api::small().await;
    let active = key_with(&api.emu.state(), &ApiKeyStatus::Active);
    let path = format!("{KEYS}/{active}");
    api.post(&path, json!({"name": ""})).await.assert_error(
        400,
        "invalid_request_error",
        "between 1 and 500",
    );
    api.post(&path, json!({"name": "k".repeat(501)}))
        .await
        .assert_error(400, "invalid_request_error", "between 1 and 500");
    let ok = api.post(&path, json!({"name": "k".repeat(500)})).await;
    assert_eq!(ok.ok()["name"].as_str().unwrap().len(), 500);
    api.post(&path, json!({"status": "paused"}))
        .await
        .assert_error(400, "invalid_request_error", "status");
    api.post(&path, json!({"scope": "x"})).await.assert_error(
        400,
        "invalid_request_error",
        "Extra inputs are not permitted",
    );
}

#[tokio::test]
async fn list_filters_by_status_workspace_and_creator() {
    let api = Api::start(EmulatorConfig {
        seed: seeds::large(9, 50, 5, 200),
        ..EmulatorConfig::default()
    })
    .await;
    let snap = api.emu.state();
    let inactive = api.get(&format!("{KEYS}?status=inactive&limit=1000")).await;
    let n = snap
        .api_keys
        .iter()
        .filter(|k| k.status == ApiKeyStatus::Inactive)
        .count();
    assert_eq!(inactive.ok()["data"].as_array().unwrap().len(), n);
    let ws = snap.workspaces[1].id.clone();
    let in_ws = api
        .get(&format!("{KEYS}?workspace_id={ws}&limit=1000"))
        .await;
    let n = snap
        .api_keys
        .iter()
        .filter(|k| k.workspace_id.as_deref() == Some(ws.as_str()))
        .count();
    assert_eq!(in_ws.ok()["data"].as_array().unwrap().len(), n);
    let creator = snap.api_keys[3].created_by.clone().unwrap().id;
    let by = api
        .get(&format!("{KEYS}?created_by_user_id={creator}&limit=1000"))
        .await;
    let n = snap
        .api_keys
        .iter()
        .filter(|k| k.created_by.as_ref().is_some_and(|c| c.id == creator))
        .count();
    assert_eq!(by.ok()["data"].as_array().unwrap().len(), n);
    api.get(&format!("{KEYS}?status=revoked"))
        .await
        .assert_error(400, "invalid_request_error", "status");
}

#[tokio::test]
async fn unknown_key_is_404() {
    let api = Api::small().await;
    api.get(&format!("{KEYS}/apikey_01nope"))
        .await
        .assert_error(404, "not_found_error", "apikey_01nope");
}
