//! Test-control routes, seeds, and the endpoint coverage of the conformance oracle.

use crate::common;

use crate::common::Api;
use orgform_emulator::{Emulator, EmulatorConfig, EmulatorError, Readings, seeds};
use orgform_model::{InviteStatus, Snapshot};
use serde_json::{Value, json};

async fn control(
    api: &Api,
    method: &str,
    path: &str,
    body: Option<Value>,
    key: &str,
) -> (u16, Value) {
    let mut req = api
        .client
        .request(
            method.parse().unwrap(),
            format!("{}{path}", api.emu.base_url()),
        )
        .header("x-api-key", key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn control_routes_drive_state_clock_log_and_faults() {
    let api = Api::small().await;
    let key = api.emu.admin_key().to_owned();
    let (status, body) = control(&api, "GET", "/_emulator/state", None, "wrong").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "authentication_error");

    let (status, state) = control(&api, "GET", "/_emulator/state", None, &key).await;
    assert_eq!(status, 200);
    let snap: Snapshot = serde_json::from_value(state).unwrap();
    assert_eq!(snap, api.emu.state_read_by_token());

    api.post(
        "/v1/organizations/invites",
        json!({"email": "ctl@acme.example", "role": "user"}),
    )
    .await
    .ok();
    let (status, user) = control(
        &api,
        "POST",
        "/_emulator/invites/accept",
        Some(json!({"email": "ctl@acme.example"})),
        &key,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(user["email"], "ctl@acme.example");
    let (status, _) = control(
        &api,
        "POST",
        "/_emulator/invites/accept",
        Some(json!({"email": "ctl@acme.example"})),
        &key,
    )
    .await;
    assert_eq!(status, 400);

    let (_, now) = control(
        &api,
        "POST",
        "/_emulator/clock/advance",
        Some(json!({"seconds": 3600})),
        &key,
    )
    .await;
    assert_eq!(now["now"], "2026-06-01T01:00:00.000000Z");
    assert_eq!(
        control(&api, "GET", "/_emulator/clock", None, &key).await.1,
        now
    );

    let (_, log) = control(&api, "GET", "/_emulator/requests", None, &key).await;
    assert_eq!(
        log.as_array().unwrap().len(),
        1,
        "control routes are not logged"
    );
    control(&api, "DELETE", "/_emulator/requests", None, &key).await;
    assert!(api.emu.request_log().is_empty());

    let (status, _) = control(
        &api,
        "POST",
        "/_emulator/faults/push",
        Some(json!({"matcher": {"method": "GET", "path_prefix": "/v1/organizations/me"}, "fault": {"kind": "overloaded"}})),
        &key,
    )
    .await;
    assert_eq!(status, 200);
    api.get("/v1/organizations/me")
        .await
        .assert_error(529, "overloaded_error", "Overloaded");
    let (status, _) = control(
        &api,
        "PUT",
        "/_emulator/faults",
        Some(json!({"seed": 1, "rate": 1.0, "kinds": [{"kind": "conflict"}]})),
        &key,
    )
    .await;
    assert_eq!(status, 200);
    api.get("/v1/organizations/me")
        .await
        .assert_error(409, "conflict_error", "conflict");
    control(&api, "PUT", "/_emulator/faults", Some(json!({})), &key).await;

    let (status, _) = control(
        &api,
        "PUT",
        "/_emulator/state",
        Some(serde_json::to_value(seeds::large(1, 5, 2, 3)).unwrap()),
        &key,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(api.emu.state().users.len(), 5);
    let (status, body) = control(&api, "PUT", "/_emulator/state", Some(json!({"organization": {"id": "x", "name": "y"}, "workspace_members": [{"workspace_id": "wrkspc_01x", "user_id": "user_01x", "workspace_role": "workspace_user"}]})), &key).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn control_routes_are_absent_unless_enabled() {
    let api = Api::start(EmulatorConfig::default()).await;
    api.get("/_emulator/state")
        .await
        .assert_error(404, "not_found_error", "Not found");
}

#[tokio::test]
async fn small_seed_has_the_promised_shape() {
    let emu = Emulator::start(EmulatorConfig {
        seed: seeds::small(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let s = emu.state();
    assert_eq!(s.users.len(), 8);
    let statuses: Vec<_> = s.invites.iter().map(|i| i.status.clone()).collect();
    for st in [
        InviteStatus::Pending,
        InviteStatus::Expired,
        InviteStatus::Accepted,
    ] {
        assert!(statuses.contains(&st), "{st} missing");
    }
    assert_eq!(s.workspaces.len(), 4);
    assert_eq!(s.workspaces.iter().filter(|w| w.is_archived()).count(), 1);
    assert_eq!(s.api_keys.len(), 8);
    assert!(s.api_keys.iter().any(|k| k.workspace_id.is_none()));
    for st in ["active", "inactive", "archived", "expired"] {
        assert!(
            s.api_keys.iter().any(|k| k.status.as_str() == st),
            "{st} key missing"
        );
    }
}

#[test]
fn large_seed_is_deterministic() {
    let a = seeds::large(42, 2000, 100, 3000);
    assert_eq!(a, seeds::large(42, 2000, 100, 3000));
    assert_ne!(a, seeds::large(43, 2000, 100, 3000));
    assert_eq!(
        (a.users.len(), a.workspaces.len(), a.api_keys.len()),
        (2000, 100, 3000)
    );
}

#[test]
fn seed_files_load_from_yaml_and_json_with_located_errors() {
    let dir = std::env::temp_dir().join(format!("orgform-emu-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json_path = dir.join("seed.json");
    std::fs::write(&json_path, serde_json::to_string(&seeds::small()).unwrap()).unwrap();
    assert_eq!(seeds::load(&json_path).unwrap(), seeds::small());
    let yaml_path = dir.join("seed.yaml");
    std::fs::write(&yaml_path, include_str!("../../seeds/small.yaml")).unwrap();
    assert_eq!(seeds::load(&yaml_path).unwrap(), seeds::small());
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "organization:\n  id: x\n  name: y\nusers:\n  - id: 3\n    colour: red\n",
    )
    .unwrap();
    let err = seeds::load(&bad).unwrap_err();
    assert!(matches!(err, EmulatorError::ParseSeed { .. }));
    assert!(err.to_string().contains("bad.yaml"), "{err}");
    assert!(matches!(
        seeds::load(&dir.join("missing.yaml")),
        Err(EmulatorError::ReadSeed { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every Admin API operation the emulator serves, exercised once with a 200 that the spec
/// oracle validated.
#[tokio::test]
async fn every_endpoint_conforms_to_the_spec() {
    exercise_every_endpoint(&Api::small().await).await;
}

/// The same under every readings profile (`all-flipped` included): whatever the reading,
/// every response still validates against the spec (the earlier key shape against the shape
/// it stands for).
#[tokio::test]
async fn every_endpoint_conforms_under_every_readings_profile() {
    for (_, readings) in Readings::profiles() {
        exercise_every_endpoint(&Api::small_with(readings).await).await;
    }
}

async fn exercise_every_endpoint(api: &Api) {
    let snap = api.emu.state();
    let user = snap
        .users
        .iter()
        .find(|u| u.role.as_str() == "user")
        .unwrap()
        .id
        .clone();
    let ws_path = "/v1/organizations/workspaces";
    api.get("/v1/organizations/me").await.ok();
    api.get("/v1/organizations/users").await.ok();
    api.get(&format!("/v1/organizations/users/{user}"))
        .await
        .ok();
    api.post(
        &format!("/v1/organizations/users/{user}"),
        json!({"role": "developer"}),
    )
    .await
    .ok();
    let inv = api
        .post(
            "/v1/organizations/invites",
            json!({"email": "conf@acme.example", "role": "billing"}),
        )
        .await;
    let inv_id = inv.ok()["id"].as_str().unwrap().to_owned();
    api.get("/v1/organizations/invites?statuses[]=pending&roles[]=billing")
        .await
        .ok();
    api.get(&format!("/v1/organizations/invites/{inv_id}"))
        .await
        .ok();
    api.delete(&format!("/v1/organizations/invites/{inv_id}"))
        .await
        .ok();
    let ws = api
        .post(ws_path, json!({"name": "Conformance", "display_color": "#123456", "tags": {"k": "v"}, "data_residency": {"workspace_geo": "us", "allowed_inference_geos": ["us", "global"], "default_inference_geo": "us"}}))
        .await;
    let ws_id = ws.ok()["id"].as_str().unwrap().to_owned();
    api.get(&format!("{ws_path}?include_archived=true"))
        .await
        .ok();
    api.get(&format!("{ws_path}/{ws_id}")).await.ok();
    api.post(&format!("{ws_path}/{ws_id}"), json!({"name": "Conformance 2", "tags": {"k": null}, "data_residency": {"allowed_inference_geos": "unrestricted", "default_inference_geo": "global"}})).await.ok();
    let members = format!("{ws_path}/{ws_id}/members");
    api.post(
        &members,
        json!({"user_id": user, "workspace_role": "workspace_developer"}),
    )
    .await
    .ok();
    api.get(&members).await.ok();
    api.get(&format!("{members}/{user}")).await.ok();
    api.post(
        &format!("{members}/{user}"),
        json!({"workspace_role": "workspace_admin"}),
    )
    .await
    .ok();
    api.delete(&format!("{members}/{user}")).await.ok();
    api.post(&format!("{ws_path}/{ws_id}/archive"), json!({}))
        .await
        .ok();
    api.get("/v1/organizations/api_keys?status=active")
        .await
        .ok();
    let key = snap.api_keys[0].id.clone();
    api.get(&format!("/v1/organizations/api_keys/{key}"))
        .await
        .ok();
    api.post(
        &format!("/v1/organizations/api_keys/{key}"),
        json!({"name": "renamed"}),
    )
    .await
    .ok();
    api.delete(&format!("/v1/organizations/users/{user}"))
        .await
        .ok();
    // Lists of every collection again, with implicit members (when listed) and every order.
    for path in [
        "/v1/organizations/users",
        "/v1/organizations/invites",
        "/v1/organizations/workspaces?include_archived=true",
        "/v1/organizations/api_keys",
    ] {
        api.get(path).await.ok();
    }
    for ws in &snap.workspaces {
        api.get(&format!("{ws_path}/{}/members", ws.id)).await.ok();
    }
    let covered = api.covered.lock().unwrap().clone();
    let expected = [
        "DELETE /v1/organizations/invites/{invite_id}",
        "DELETE /v1/organizations/users/{user_id}",
        "DELETE /v1/organizations/workspaces/{workspace_id}/members/{user_id}",
        "GET /v1/organizations/api_keys",
        "GET /v1/organizations/api_keys/{api_key_id}",
        "GET /v1/organizations/invites",
        "GET /v1/organizations/invites/{invite_id}",
        "GET /v1/organizations/me",
        "GET /v1/organizations/users",
        "GET /v1/organizations/users/{user_id}",
        "GET /v1/organizations/workspaces",
        "GET /v1/organizations/workspaces/{workspace_id}",
        "GET /v1/organizations/workspaces/{workspace_id}/members",
        "GET /v1/organizations/workspaces/{workspace_id}/members/{user_id}",
        "POST /v1/organizations/api_keys/{api_key_id}",
        "POST /v1/organizations/invites",
        "POST /v1/organizations/users/{user_id}",
        "POST /v1/organizations/workspaces",
        "POST /v1/organizations/workspaces/{workspace_id}",
        "POST /v1/organizations/workspaces/{workspace_id}/archive",
        "POST /v1/organizations/workspaces/{workspace_id}/members",
        "POST /v1/organizations/workspaces/{workspace_id}/members/{user_id}",
    ];
    let expected: std::collections::BTreeSet<String> =
        expected.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(covered, expected);
}

#[test]
fn the_oracle_rejects_a_malformed_object() {
    let schema = json!({"$ref": "#/components/schemas/BetaUser"});
    let good = json!({"type": "user", "id": "user_01", "email": "a@b.example", "name": "A", "role": "user", "added_at": "2026-06-01T00:00:00.000000Z"});
    common::validate(&schema, &good).unwrap();
    let mut bad_time = good.clone();
    bad_time["added_at"] = json!("yesterday");
    assert!(common::validate(&schema, &bad_time).is_err());
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("email");
    assert!(common::validate(&schema, &missing).is_err());
}
