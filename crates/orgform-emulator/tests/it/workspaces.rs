//! Workspaces and workspace members.

use std::time::Duration;

use crate::common::Api;
use jiff::SignedDuration;
use orgform_emulator::readings::WorkspaceNames;
use orgform_emulator::{EmulatorConfig, FaultConfig, Options, Readings, WorkspaceRecord, seeds};
use orgform_model::{ApiKeyStatus, OrgRole, Snapshot, WorkspaceRole};
use serde_json::{Value, json};

const WS: &str = "/v1/organizations/workspaces";

fn active_ws(snap: &Snapshot) -> String {
    snap.workspaces
        .iter()
        .find(|w| !w.is_archived())
        .unwrap()
        .id
        .clone()
}

fn archived_ws(snap: &Snapshot) -> String {
    snap.workspaces
        .iter()
        .find(|w| w.is_archived())
        .unwrap()
        .id
        .clone()
}

fn user_with(snap: &Snapshot, role: &OrgRole) -> String {
    snap.users
        .iter()
        .find(|u| u.role == *role)
        .unwrap()
        .id
        .clone()
}

#[tokio::test]
async fn create_applies_defaults_and_server_colour() {
    let api = Api::small().await;
    let ws = api.post(WS, json!({"name": "Analytics"})).await;
    let body = ws.ok();
    assert_eq!(
        body["data_residency"],
        json!({"workspace_geo": "us", "allowed_inference_geos": "unrestricted", "default_inference_geo": "global"})
    );
    assert_eq!(body["archived_at"], Value::Null);
    assert_eq!(body["tags"], json!({}));
    let color = body["display_color"].as_str().unwrap();
    assert!(color.len() == 7 && color.starts_with('#'));
    let chosen = api
        .post(
            WS,
            json!({"name": "Blue", "display_color": "#0000ff", "tags": {"env": "dev"}}),
        )
        .await;
    assert_eq!(chosen.ok()["display_color"], "#0000ff");
    assert_eq!(chosen.body["tags"], json!({"env": "dev"}));
}

#[tokio::test]
async fn name_must_be_1_to_40_characters() {
    let api = Api::small().await;
    api.post(WS, json!({"name": ""})).await.assert_error(
        400,
        "invalid_request_error",
        "at least 1",
    );
    api.post(WS, json!({"name": "x".repeat(41)}))
        .await
        .assert_error(400, "invalid_request_error", "at most 40");
    api.post(WS, json!({"name": "é".repeat(40)})).await.ok();
    let id = active_ws(&api.emu.state());
    api.post(&format!("{WS}/{id}"), json!({"name": "y".repeat(41)}))
        .await
        .assert_error(400, "invalid_request_error", "at most 40");
}

#[tokio::test]
async fn residency_rules_are_enforced() {
    let api = Api::small().await;
    api.post(
        WS,
        json!({"name": "a", "data_residency": {"allowed_inference_geos": ["us"]}}),
    )
    .await
    .assert_error(
        400,
        "invalid_request_error",
        "must be one of allowed_inference_geos",
    );
    api.post(
        WS,
        json!({"name": "a", "data_residency": {"allowed_inference_geos": ["eu"]}}),
    )
    .await
    .assert_error(400, "invalid_request_error", "allowed_inference_geos");
    api.post(
        WS,
        json!({"name": "a", "data_residency": {"workspace_geo": "eu"}}),
    )
    .await
    .assert_error(400, "invalid_request_error", "workspace_geo");
    let ok = api
        .post(WS, json!({"name": "a", "data_residency": {"allowed_inference_geos": ["us"], "default_inference_geo": "us"}}))
        .await;
    let id = ok.ok()["id"].as_str().unwrap().to_owned();
    api.post(
        &format!("{WS}/{id}"),
        json!({"data_residency": {"workspace_geo": "us"}}),
    )
    .await
    .assert_error(
        400,
        "invalid_request_error",
        "workspace_geo cannot be changed",
    );
    api.post(
        &format!("{WS}/{id}"),
        json!({"data_residency": {"allowed_inference_geos": ["global"]}}),
    )
    .await
    .assert_error(
        400,
        "invalid_request_error",
        "must be one of allowed_inference_geos",
    );
    let widened = api
        .post(
            &format!("{WS}/{id}"),
            json!({"data_residency": {"allowed_inference_geos": "unrestricted"}}),
        )
        .await;
    assert_eq!(
        widened.ok()["data_residency"]["allowed_inference_geos"],
        "unrestricted"
    );
}

#[tokio::test]
async fn tag_keys_may_not_start_with_anthropic_and_null_removes_on_update() {
    let api = Api::small().await;
    api.post(WS, json!({"name": "t", "tags": {"anthropic_env": "x"}}))
        .await
        .assert_error(400, "invalid_request_error", "anthropic");
    let ws = api
        .post(WS, json!({"name": "t", "tags": {"a": "1", "b": "2"}}))
        .await;
    let id = ws.ok()["id"].as_str().unwrap().to_owned();
    let updated = api
        .post(
            &format!("{WS}/{id}"),
            json!({"tags": {"a": null, "c": "3"}}),
        )
        .await;
    assert_eq!(updated.ok()["tags"], json!({"b": "2", "c": "3"}));
    api.post(&format!("{WS}/{id}"), json!({"display_color": "blue"}))
        .await
        .assert_error(400, "invalid_request_error", "display_color");
}

#[tokio::test]
async fn external_key_id_needs_cmek_and_is_write_once() {
    let api = Api::small().await;
    api.post(WS, json!({"name": "c", "external_key_id": "ekey_01a"}))
        .await
        .assert_error(400, "invalid_request_error", "not enabled");
    let cmek = Api::start(EmulatorConfig {
        options: Options {
            cmek_enabled: true,
            ..Options::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let id = cmek.post(WS, json!({"name": "c"})).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let set = cmek
        .post(
            &format!("{WS}/{id}"),
            json!({"external_key_id": "ekey_01a"}),
        )
        .await;
    assert_eq!(set.ok()["external_key_id"], "ekey_01a");
    cmek.post(
        &format!("{WS}/{id}"),
        json!({"external_key_id": "ekey_01a"}),
    )
    .await
    .ok();
    cmek.post(
        &format!("{WS}/{id}"),
        json!({"external_key_id": "ekey_01b"}),
    )
    .await
    .assert_error(400, "invalid_request_error", "write-once");
}

#[tokio::test]
async fn at_most_100_active_workspaces_and_archived_ones_do_not_count() {
    let api = Api::start(EmulatorConfig {
        seed: seeds::large(3, 10, 100, 0),
        ..EmulatorConfig::default()
    })
    .await;
    api.post(WS, json!({"name": "one too many"}))
        .await
        .assert_error(400, "invalid_request_error", "maximum is 100");
    let first = active_ws(&api.emu.state());
    api.post(&format!("{WS}/{first}/archive"), json!({}))
        .await
        .ok();
    api.post(WS, json!({"name": "now fits"})).await.ok();
}

#[tokio::test]
async fn names_are_unique_only_when_asked() {
    let api = Api::small().await;
    api.post(WS, json!({"name": "Production"})).await.ok();
    let strict = Api::start(EmulatorConfig {
        seed: seeds::small(),
        readings: Readings {
            workspace_names: WorkspaceNames::Unique,
            ..Readings::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    strict
        .post(WS, json!({"name": "Production"}))
        .await
        .assert_error(400, "invalid_request_error", "already exists");
}

#[tokio::test]
async fn archive_is_one_way_idempotent_and_archives_the_keys() {
    let api = Api::small().await;
    let snap = api.emu.state();
    let id = snap
        .workspaces
        .iter()
        .find(|w| {
            !w.is_archived()
                && snap.api_keys.iter().any(|k| {
                    k.workspace_id.as_deref() == Some(w.id.as_str())
                        && k.status == ApiKeyStatus::Active
                })
        })
        .unwrap()
        .id
        .clone();
    let first = api.post(&format!("{WS}/{id}/archive"), json!({})).await;
    let archived_at = first.ok()["archived_at"].clone();
    assert_eq!(archived_at, "2026-06-01T00:00:00.000000Z");
    api.emu.advance_clock(SignedDuration::from_hours(5));
    let again = api.post(&format!("{WS}/{id}/archive"), json!({})).await;
    assert_eq!(again.ok()["archived_at"], archived_at);
    let after = api.emu.state();
    assert!(
        after
            .api_keys
            .iter()
            .filter(|k| k.workspace_id.as_deref() == Some(id.as_str()))
            .all(|k| k.status == ApiKeyStatus::Archived)
    );
    api.post(&format!("{WS}/{id}"), json!({"name": "revived"}))
        .await
        .assert_error(400, "invalid_request_error", "archived");
    let dev = user_with(&after, &OrgRole::User);
    api.post(
        &format!("{WS}/{id}/members"),
        json!({"user_id": dev, "workspace_role": "workspace_user"}),
    )
    .await
    .assert_error(400, "invalid_request_error", "archived");
}

#[tokio::test]
async fn list_excludes_archived_unless_asked() {
    let api = Api::small().await;
    let archived = archived_ws(&api.emu.state());
    let plain = api.get(WS).await;
    assert!(
        plain.ok()["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["id"] != archived.as_str())
    );
    let all = api.get(&format!("{WS}?include_archived=true")).await;
    assert!(
        all.ok()["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == archived.as_str())
    );
    api.get(&format!("{WS}?include_archived=maybe"))
        .await
        .assert_error(400, "invalid_request_error", "include_archived");
    api.get(&format!("{WS}/{archived}")).await.ok();
}

#[tokio::test]
async fn default_workspace_is_hidden_but_readable_and_immutable() {
    let api = Api::small().await;
    let id = api.emu.default_workspace_id();
    assert!(id.starts_with("wrkspc_01"));
    let list = api
        .get(&format!("{WS}?include_archived=true&limit=100"))
        .await;
    assert!(
        list.ok()["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["id"] != id.as_str())
    );
    let got = api.get(&format!("{WS}/{id}")).await;
    assert_eq!(got.ok()["name"], "Default");
    api.post(&format!("{WS}/{id}"), json!({"name": "Renamed"}))
        .await
        .assert_error(400, "invalid_request_error", "cannot be renamed");
    api.post(&format!("{WS}/{id}/archive"), json!({}))
        .await
        .assert_error(400, "invalid_request_error", "cannot be archived");
    api.get(&format!("{WS}/{id}/members")).await.assert_error(
        400,
        "invalid_request_error",
        "no member list",
    );
    // Keys of the default workspace list under its real id.
    let keys = api
        .get(&format!("/v1/organizations/api_keys?workspace_id={id}"))
        .await;
    let data = keys.ok()["data"].as_array().unwrap();
    assert!(!data.is_empty());
    assert!(
        data.iter()
            .all(|k| k["workspace_id"].is_null() && k["scope"]["workspace_id"] == id.as_str())
    );
}

#[tokio::test]
async fn workspace_billing_is_never_assignable() {
    let api = Api::small().await;
    let snap = api.emu.state();
    let ws = active_ws(&snap);
    let user = user_with(&snap, &OrgRole::ClaudeCodeUser);
    api.post(
        &format!("{WS}/{ws}/members"),
        json!({"user_id": user, "workspace_role": "workspace_billing"}),
    )
    .await
    .assert_error(
        400,
        "invalid_request_error",
        "workspace_billing cannot be assigned",
    );
    let member = snap
        .workspace_members
        .iter()
        .find(|m| m.workspace_id == ws)
        .unwrap();
    let u = snap.user(&member.user_id).unwrap();
    assert!(u.role.implicit_workspace_role().is_none());
    api.post(
        &format!("{WS}/{ws}/members/{}", member.user_id),
        json!({"workspace_role": "workspace_billing"}),
    )
    .await
    .assert_error(
        400,
        "invalid_request_error",
        "workspace_billing cannot be assigned",
    );
}

#[tokio::test]
async fn org_admins_are_implicit_and_untouchable() {
    let api = Api::small().await;
    let snap = api.emu.state();
    let ws = active_ws(&snap);
    let admin = user_with(&snap, &OrgRole::Admin);
    api.post(
        &format!("{WS}/{ws}/members"),
        json!({"user_id": admin, "workspace_role": "workspace_admin"}),
    )
    .await
    .assert_error(400, "invalid_request_error", "implicitly workspace_admin");
    let listed = api.get(&format!("{WS}/{ws}/members?limit=100")).await;
    assert!(
        listed.ok()["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["user_id"] != admin.as_str())
    );
    api.get(&format!("{WS}/{ws}/members/{admin}"))
        .await
        .assert_error(404, "not_found_error", &admin);
    // Changing or removing an org admin's (implicit) membership is the documented 400, not
    // a 404 for a membership the list does not show.
    api.post(
        &format!("{WS}/{ws}/members/{admin}"),
        json!({"workspace_role": "workspace_user"}),
    )
    .await
    .assert_error(400, "invalid_request_error", "implicitly workspace_admin");
    api.delete(&format!("{WS}/{ws}/members/{admin}"))
        .await
        .assert_error(400, "invalid_request_error", "implicitly workspace_admin");
    // Someone with no membership at all is still 404.
    let nobody = snap
        .users
        .iter()
        .find(|u| {
            u.role.implicit_workspace_role().is_none()
                && !snap
                    .workspace_members
                    .iter()
                    .any(|m| m.workspace_id == ws && m.user_id == u.id)
        })
        .unwrap()
        .id
        .clone();
    api.delete(&format!("{WS}/{ws}/members/{nobody}"))
        .await
        .assert_error(404, "not_found_error", &nobody);
}

#[tokio::test]
async fn an_admin_with_an_explicit_membership_still_cannot_lose_it() {
    let api = Api::small().await;
    let snap = api.emu.state();
    let ws = active_ws(&snap);
    let admin = user_with(&snap, &OrgRole::Admin);
    api.emu.modify(|s| {
        s.workspace_members.push(orgform_model::WorkspaceMember {
            workspace_id: ws.clone(),
            user_id: admin.clone(),
            workspace_role: WorkspaceRole::WorkspaceAdmin,
        });
    });
    api.delete(&format!("{WS}/{ws}/members/{admin}"))
        .await
        .assert_error(400, "invalid_request_error", "implicitly workspace_admin");
}

#[tokio::test]
async fn billing_members_may_only_become_workspace_admins() {
    let api = Api::small().await;
    let snap = api.emu.state();
    let billing = user_with(&snap, &OrgRole::Billing);
    let ws = snap
        .workspaces
        .iter()
        .find(|w| {
            !w.is_archived()
                && !snap
                    .workspace_members
                    .iter()
                    .any(|m| m.workspace_id == w.id && m.user_id == billing)
        })
        .unwrap()
        .id
        .clone();
    api.post(
        &format!("{WS}/{ws}/members"),
        json!({"user_id": billing, "workspace_role": "workspace_developer"}),
    )
    .await
    .assert_error(400, "invalid_request_error", "implicitly workspace_billing");
    let added = api
        .post(
            &format!("{WS}/{ws}/members"),
            json!({"user_id": billing, "workspace_role": "workspace_admin"}),
        )
        .await;
    assert_eq!(added.ok()["workspace_role"], "workspace_admin");
    api.post(
        &format!("{WS}/{ws}/members/{billing}"),
        json!({"workspace_role": "workspace_user"}),
    )
    .await
    .assert_error(
        400,
        "invalid_request_error",
        "change the organization role first",
    );
    api.delete(&format!("{WS}/{ws}/members/{billing}"))
        .await
        .assert_error(
            400,
            "invalid_request_error",
            "change the organization role first",
        );
}

#[tokio::test]
async fn member_lifecycle_and_demotion_keeps_explicit_memberships() {
    let api = Api::small().await;
    let snap = api.emu.state();
    let ws = active_ws(&snap);
    let user = snap
        .users
        .iter()
        .find(|u| {
            u.role.implicit_workspace_role().is_none()
                && !snap
                    .workspace_members
                    .iter()
                    .any(|m| m.workspace_id == ws && m.user_id == u.id)
        })
        .unwrap()
        .id
        .clone();
    let path = format!("{WS}/{ws}/members");
    let created = api
        .post(
            &path,
            json!({"user_id": user, "workspace_role": "workspace_developer"}),
        )
        .await;
    assert_eq!(
        created.ok(),
        &json!({"type": "workspace_member", "user_id": user, "workspace_id": ws, "workspace_role": "workspace_developer"})
    );
    api.post(
        &path,
        json!({"user_id": user, "workspace_role": "workspace_user"}),
    )
    .await
    .assert_error(400, "invalid_request_error", "already a member");
    api.post(
        &path,
        json!({"user_id": "user_01ghost", "workspace_role": "workspace_user"}),
    )
    .await
    .assert_error(404, "not_found_error", "user_01ghost");
    let updated = api
        .post(
            &format!("{path}/{user}"),
            json!({"workspace_role": "workspace_restricted_developer"}),
        )
        .await;
    assert_eq!(
        updated.ok()["workspace_role"],
        "workspace_restricted_developer"
    );
    assert_eq!(
        api.get(&format!("{path}/{user}")).await.ok()["workspace_role"],
        "workspace_restricted_developer"
    );
    // An org admin demoted in the Console keeps only explicit memberships.
    let admin = user_with(&snap, &OrgRole::Admin);
    api.emu.modify(|s| {
        s.users.iter_mut().find(|u| u.id == admin).unwrap().role = OrgRole::Developer;
    });
    api.post(
        &path,
        json!({"user_id": admin, "workspace_role": "workspace_user"}),
    )
    .await
    .ok();
    let deleted = api.delete(&format!("{path}/{user}")).await;
    assert_eq!(
        deleted.ok(),
        &json!({"type": "workspace_member_deleted", "user_id": user, "workspace_id": ws})
    );
    api.get(&format!("{path}/{user}"))
        .await
        .assert_error(404, "not_found_error", &user);
    assert!(
        api.emu
            .state()
            .workspace_members
            .iter()
            .any(|m| m.user_id == admin && m.workspace_role == WorkspaceRole::WorkspaceUser)
    );
}

#[tokio::test]
async fn stale_member_get_serves_the_pre_write_value_while_the_list_is_fresh() {
    let api = Api::start(EmulatorConfig {
        seed: seeds::small(),
        faults: FaultConfig {
            stale_member_get: Some(Duration::from_secs(30)),
            ..FaultConfig::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let snap = api.emu.state();
    let m = snap
        .workspace_members
        .iter()
        .find(|m| {
            snap.user(&m.user_id)
                .unwrap()
                .role
                .implicit_workspace_role()
                .is_none()
                && m.workspace_role != WorkspaceRole::WorkspaceUser
                && !snap.workspace(&m.workspace_id).unwrap().is_archived()
        })
        .unwrap()
        .clone();
    let one = format!("{WS}/{}/members/{}", m.workspace_id, m.user_id);
    api.post(&one, json!({"workspace_role": "workspace_user"}))
        .await
        .ok();
    let stale = api.get(&one).await;
    assert_eq!(stale.ok()["workspace_role"], m.workspace_role.as_str());
    let list = api
        .get(&format!("{WS}/{}/members?limit=100", m.workspace_id))
        .await;
    let fresh = list.ok()["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["user_id"] == m.user_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(fresh["workspace_role"], "workspace_user");
    api.emu.advance_clock(SignedDuration::from_secs(30));
    assert_eq!(api.get(&one).await.ok()["workspace_role"], "workspace_user");
}

#[tokio::test]
async fn out_of_band_changes_show_through_the_api() {
    let api = Api::small().await;
    let id = api.emu.modify(|s| {
        let mut rec: WorkspaceRecord = s.workspaces[0].clone();
        rec.workspace.id = "wrkspc_01ConsoleMade1111111111".to_owned();
        rec.workspace.name = "Console made".to_owned();
        rec.workspace.archived_at = None;
        s.workspaces.push(rec);
        "wrkspc_01ConsoleMade1111111111".to_owned()
    });
    assert_eq!(
        api.get(&format!("{WS}/{id}")).await.ok()["name"],
        "Console made"
    );
}
