//! Users and invites: roles, removal, invite lifecycle and filters, rate limits.

use crate::common;

use crate::common::Api;
use jiff::SignedDuration;
use orgform_emulator::{DeletedInviteGet, EmulatorConfig, FaultConfig, Options, Readings, seeds};
use orgform_model::{InviteStatus, OrgRole, Snapshot};
use serde_json::json;

fn user_with(snap: &Snapshot, role: &OrgRole) -> String {
    snap.users
        .iter()
        .find(|u| u.role == *role)
        .unwrap()
        .id
        .clone()
}

#[tokio::test]
async fn admin_role_cannot_be_granted_and_managed_is_enterprise_only() {
    let api = Api::small().await;
    let dev = user_with(&api.emu.state(), &OrgRole::Developer);
    let path = format!("/v1/organizations/users/{dev}");
    api.post(&path, json!({"role": "admin"}))
        .await
        .assert_error(
            400,
            "invalid_request_error",
            "admin role cannot be assigned",
        );
    api.post(&path, json!({"role": "managed"}))
        .await
        .assert_error(400, "invalid_request_error", "Enterprise");
    api.post(
        "/v1/organizations/invites",
        json!({"email": "boss@acme.example", "role": "admin"}),
    )
    .await
    .assert_error(
        400,
        "invalid_request_error",
        "admin role cannot be assigned",
    );
    let updated = api.post(&path, json!({"role": "billing"})).await;
    assert_eq!(updated.ok()["role"], "billing");
    assert_eq!(api.emu.state().user(&dev).unwrap().role, OrgRole::Billing);
}

#[tokio::test]
async fn admins_cannot_be_updated_or_removed() {
    let api = Api::small().await;
    let admin = user_with(&api.emu.state(), &OrgRole::Admin);
    let path = format!("/v1/organizations/users/{admin}");
    api.post(&path, json!({"role": "user"})).await.assert_error(
        400,
        "invalid_request_error",
        "cannot change the role",
    );
    api.delete(&path)
        .await
        .assert_error(400, "invalid_request_error", "cannot remove");
    assert!(api.emu.state().user(&admin).is_some());
}

#[tokio::test]
async fn deleting_a_user_keeps_their_keys_and_drops_memberships() {
    let api = Api::small().await;
    let before = api.emu.state();
    let owner = before
        .api_keys
        .iter()
        .find_map(|k| {
            let by = k.created_by.as_ref()?;
            let u = before.user(&by.id)?;
            (!u.role.is_administrative()
                && before.workspace_members.iter().any(|m| m.user_id == u.id))
            .then(|| u.id.clone())
        })
        .unwrap();
    let resp = api
        .delete(&format!("/v1/organizations/users/{owner}"))
        .await;
    assert_eq!(resp.ok(), &json!({"id": owner, "type": "user_deleted"}));
    let after = api.emu.state();
    assert!(after.user(&owner).is_none());
    assert_eq!(after.api_keys, before.api_keys, "keys keep their status");
    assert!(after.workspace_members.iter().all(|m| m.user_id != owner));
    api.get(&format!("/v1/organizations/users/{owner}"))
        .await
        .assert_error(404, "not_found_error", &owner);
}

#[tokio::test]
async fn email_filter_is_normalised_and_case_insensitive() {
    let api = Api::small().await;
    let resp = api
        .get("/v1/organizations/users?email=%20ADA%2Bteam%40Acme.Example")
        .await;
    let data = resp.ok()["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["email"], "ada@acme.example");
}

#[tokio::test]
async fn email_filters_must_be_email_addresses() {
    let api = Api::small().await;
    for list in ["users", "invites"] {
        api.get(&format!("/v1/organizations/{list}?email=not-an-email"))
            .await
            .assert_error(400, "invalid_request_error", "not-an-email");
    }
}

#[tokio::test]
async fn role_filters_accept_only_the_roles_of_the_organization_kind() {
    let console = Api::small().await;
    for list in ["users", "invites"] {
        for role in ["owner", "primary_owner", "membership_admin", "managed"] {
            console
                .get(&format!("/v1/organizations/{list}?roles[]={role}"))
                .await
                .assert_error(400, "invalid_request_error", "Console organizations accept");
        }
        let admins = console
            .get(&format!(
                "/v1/organizations/{list}?roles[]=admin&roles[]=claude_code_user"
            ))
            .await;
        admins.ok();
    }
    let enterprise = Api::start(EmulatorConfig {
        seed: seeds::small(),
        options: Options {
            organization_kind: orgform_emulator::OrganizationKind::Enterprise,
            ..Options::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    enterprise
        .get("/v1/organizations/users?roles[]=owner&roles[]=managed")
        .await
        .ok();
    enterprise
        .get("/v1/organizations/users?roles[]=developer")
        .await
        .assert_error(
            400,
            "invalid_request_error",
            "Claude Enterprise organizations accept",
        );
}

#[tokio::test]
async fn invite_create_sets_pending_21_days_and_empty_groups() {
    let api = Api::small().await;
    let resp = api
        .post(
            "/v1/organizations/invites",
            json!({"email": "New.Person@acme.example", "role": "developer"}),
        )
        .await;
    let inv = resp.ok();
    assert_eq!(inv["status"], "pending");
    assert_eq!(inv["invited_at"], "2026-06-01T00:00:00.000000Z");
    assert_eq!(inv["expires_at"], "2026-06-22T00:00:00.000000Z");
    assert_eq!(inv["accepted_at"], json!(null));
    assert_eq!(inv["rbac_group_ids"], json!([]));
    assert!(inv["id"].as_str().unwrap().starts_with("invite_01"));
}

#[tokio::test]
async fn duplicate_pending_invite_and_existing_member_are_refused_naming_them() {
    let api = Api::small().await;
    let snap = api.emu.state();
    let pending = snap
        .invites
        .iter()
        .find(|i| i.status == InviteStatus::Pending)
        .unwrap();
    api.post(
        "/v1/organizations/invites",
        json!({"email": pending.email.to_uppercase(), "role": "user"}),
    )
    .await
    .assert_error(400, "invalid_request_error", &pending.id);
    let member = &snap.users[0];
    api.post(
        "/v1/organizations/invites",
        json!({"email": member.email, "role": "user"}),
    )
    .await
    .assert_error(400, "invalid_request_error", &member.id);
}

#[tokio::test]
async fn invites_expire_on_the_emulator_clock() {
    let api = Api::small().await;
    let created = api
        .post(
            "/v1/organizations/invites",
            json!({"email": "clock@acme.example", "role": "user"}),
        )
        .await;
    let id = created.ok()["id"].as_str().unwrap().to_owned();
    api.emu
        .advance_clock(SignedDuration::from_hours(21 * 24 - 1));
    assert_eq!(
        api.get(&format!("/v1/organizations/invites/{id}"))
            .await
            .ok()["status"],
        "pending"
    );
    api.emu.advance_clock(SignedDuration::from_hours(1));
    assert_eq!(
        api.get(&format!("/v1/organizations/invites/{id}"))
            .await
            .ok()["status"],
        "expired"
    );
    // An expired invite no longer blocks a new one.
    api.post(
        "/v1/organizations/invites",
        json!({"email": "clock@acme.example", "role": "user"}),
    )
    .await
    .ok();
}

#[tokio::test]
async fn accepting_an_invite_creates_the_member() {
    let api = Api::small().await;
    api.post(
        "/v1/organizations/invites",
        json!({"email": "joiner@acme.example", "role": "claude_code_user"}),
    )
    .await
    .ok();
    api.emu.advance_clock(SignedDuration::from_hours(2));
    let user = api.emu.accept_invite("Joiner@acme.example").unwrap();
    assert_eq!(user.role, OrgRole::ClaudeCodeUser);
    assert_eq!(user.added_at, api.emu.now());
    let listed = api.get("/v1/organizations/users?limit=1").await;
    assert_eq!(
        listed.ok()["data"][0]["id"],
        user.id.as_str(),
        "newest first"
    );
    let inv = api
        .get("/v1/organizations/invites?statuses[]=accepted&email=joiner@acme.example")
        .await;
    assert_eq!(
        inv.ok()["data"][0]["accepted_at"],
        "2026-06-01T02:00:00.000000Z"
    );
    assert!(api.emu.accept_invite("joiner@acme.example").is_err());
}

#[tokio::test]
async fn only_pending_invites_can_be_deleted_and_deleted_ones_disappear() {
    let api = Api::small().await;
    let snap = api.emu.state();
    let by_status = |s: InviteStatus| {
        snap.invites
            .iter()
            .find(|i| i.status == s)
            .unwrap()
            .id
            .clone()
    };
    let accepted = by_status(InviteStatus::Accepted);
    let expired = by_status(InviteStatus::Expired);
    let pending = by_status(InviteStatus::Pending);
    api.delete(&format!("/v1/organizations/invites/{accepted}"))
        .await
        .assert_error(400, "invalid_request_error", "remove the member instead");
    api.delete(&format!("/v1/organizations/invites/{expired}"))
        .await
        .assert_error(400, "invalid_request_error", "is expired");
    let resp = api
        .delete(&format!("/v1/organizations/invites/{pending}"))
        .await;
    assert_eq!(resp.ok(), &json!({"id": pending, "type": "invite_deleted"}));
    let listed = api.get("/v1/organizations/invites?limit=100").await;
    assert!(
        listed.ok()["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"] != pending.as_str())
    );
    api.get(&format!("/v1/organizations/invites/{pending}"))
        .await
        .assert_error(404, "not_found_error", &pending);
    api.delete(&format!("/v1/organizations/invites/{pending}"))
        .await
        .assert_error(404, "not_found_error", &pending);
    assert!(api.emu.state().invites.iter().all(|i| i.id != pending));
}

#[tokio::test]
async fn deleted_invite_get_can_show_the_deleted_status() {
    let api = Api::start(EmulatorConfig {
        seed: seeds::small(),
        readings: Readings {
            deleted_invite_get: DeletedInviteGet::ShowDeleted,
            ..Readings::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let pending = api
        .emu
        .state()
        .invites
        .into_iter()
        .find(|i| i.status == InviteStatus::Pending)
        .unwrap();
    api.delete(&format!("/v1/organizations/invites/{}", pending.id))
        .await
        .ok();
    let got = api
        .get(&format!("/v1/organizations/invites/{}", pending.id))
        .await;
    assert_eq!(got.ok()["status"], "deleted");
}

#[tokio::test]
async fn invite_filters_by_status_role_and_email() {
    let api = Api::small().await;
    let pending = api
        .get("/v1/organizations/invites?statuses[]=pending")
        .await;
    let data = pending.ok()["data"].as_array().unwrap().clone();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["status"], "pending");
    let two = api
        .get("/v1/organizations/invites?statuses[]=expired&statuses=accepted")
        .await;
    assert_eq!(two.ok()["data"].as_array().unwrap().len(), 2);
    let by_role = api.get("/v1/organizations/invites?roles[]=user").await;
    assert!(
        by_role.ok()["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["role"] == "user")
    );
    api.get("/v1/organizations/invites?statuses[]=deleted")
        .await
        .assert_error(400, "invalid_request_error", "statuses");
}

#[tokio::test]
async fn a_finite_seat_pool_refuses_invites_when_full() {
    let api = Api::start(EmulatorConfig {
        seed: seeds::small(),
        options: Options {
            seat_limit: Some(9),
            ..Options::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    // 8 members + 1 pending invite fill 9 seats.
    api.post(
        "/v1/organizations/invites",
        json!({"email": "seat@acme.example", "role": "user"}),
    )
    .await
    .assert_error(400, "invalid_request_error", "no seat is available");
}

#[tokio::test]
async fn rbac_group_ids_are_refused_outside_enterprise() {
    let api = Api::small().await;
    api.post(
        "/v1/organizations/invites",
        json!({"email": "g@acme.example", "role": "user", "rbac_group_ids": ["grp_1"]}),
    )
    .await
    .assert_error(400, "invalid_request_error", "rbac_group_ids");
    api.post(
        "/v1/organizations/invites",
        json!({"email": "g@acme.example", "role": "user", "rbac_group_ids": []}),
    )
    .await
    .ok();
}

#[tokio::test]
async fn rate_limits_count_on_the_emulator_clock_with_a_separate_invite_budget() {
    let api = Api::start(EmulatorConfig {
        seed: seeds::small(),
        faults: FaultConfig {
            enforce_rate_limits: true,
            ..FaultConfig::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    for _ in 0..100 {
        api.get("/v1/organizations/me").await.ok();
    }
    let limited = api.get("/v1/organizations/me").await;
    limited.assert_error(429, "rate_limit_error", "rate limit");
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((50..=60).contains(&wait), "retry-after {wait}");
    // Invite creation has its own budget.
    api.post(
        "/v1/organizations/invites",
        json!({"email": "rl@acme.example", "role": "user"}),
    )
    .await
    .ok();
    api.emu.advance_clock(SignedDuration::from_secs(60));
    api.get("/v1/organizations/me").await.ok();
}

#[tokio::test]
async fn invite_creation_budget_is_1200_per_hour() {
    let api = Api::start(EmulatorConfig {
        faults: FaultConfig {
            enforce_rate_limits: true,
            ..FaultConfig::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let url = format!("{}/v1/organizations/invites", api.emu.base_url());
    for i in 0..1200 {
        let status = api
            .client
            .post(&url)
            .header("x-api-key", api.emu.admin_key())
            .header("anthropic-version", common::VERSION)
            .json(&json!({"email": format!("p{i}@acme.example"), "role": "user"}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200, "invite {i}");
    }
    let limited = api
        .post(
            "/v1/organizations/invites",
            json!({"email": "last@acme.example", "role": "user"}),
        )
        .await;
    limited.assert_error(429, "rate_limit_error", "rate limit");
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3000..=3600).contains(&wait), "retry-after {wait}");
    // Other endpoints still have their own budget.
    api.get("/v1/organizations/me").await.ok();
}

#[tokio::test]
async fn enterprise_organizations_assign_user_and_managed_only() {
    let mut seed = seeds::small();
    seed.users[0].role = OrgRole::PrimaryOwner;
    seed.users.retain(|u| u.role != OrgRole::Admin);
    let api = Api::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await;
    let snap = api.emu.state();
    let owner = user_with(&snap, &OrgRole::PrimaryOwner);
    let dev = user_with(&snap, &OrgRole::Developer);
    let updated = api
        .post(
            &format!("/v1/organizations/users/{dev}"),
            json!({"role": "managed"}),
        )
        .await;
    assert_eq!(updated.ok()["role"], "managed");
    api.post(
        &format!("/v1/organizations/users/{dev}"),
        json!({"role": "developer"}),
    )
    .await
    .assert_error(
        400,
        "invalid_request_error",
        "not available in Claude Enterprise",
    );
    api.post(
        &format!("/v1/organizations/users/{owner}"),
        json!({"role": "user"}),
    )
    .await
    .assert_error(400, "invalid_request_error", "cannot change the role");
    api.post(
        "/v1/organizations/invites",
        json!({"email": "ent@acme.example", "role": "managed"}),
    )
    .await
    .ok();
    // Forced Console: managed is refused even with Enterprise roles in the seed.
    let console = Api::start(EmulatorConfig {
        seed: api.emu.state(),
        options: Options {
            organization_kind: orgform_emulator::OrganizationKind::Console,
            ..Options::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    console
        .post(
            "/v1/organizations/invites",
            json!({"email": "ent2@acme.example", "role": "managed"}),
        )
        .await
        .assert_error(
            400,
            "invalid_request_error",
            "only available in Claude Enterprise",
        );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_atomic() {
    let api = std::sync::Arc::new(Api::small().await);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            // Half the requests race on the same email.
            let email = if i % 2 == 0 {
                format!("racer{i}@acme.example")
            } else {
                "same@acme.example".to_owned()
            };
            api.post(
                "/v1/organizations/invites",
                json!({"email": email, "role": "user"}),
            )
            .await
            .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        21,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 19);
    let snap = api.emu.state();
    let ids: std::collections::HashSet<&str> = snap.invites.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids.len(), snap.invites.len());
    assert_eq!(
        snap.invites
            .iter()
            .filter(|i| i.email == "same@acme.example")
            .count(),
        1
    );
}

#[tokio::test]
async fn generated_ids_are_reproducible_and_skip_ids_the_seed_already_uses() {
    let first = Api::start(EmulatorConfig::default()).await;
    let body = json!({"email": "ids@acme.example", "role": "user"});
    let id = first
        .post("/v1/organizations/invites", body.clone())
        .await
        .ok()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = Api::start(EmulatorConfig::default()).await;
    assert_eq!(
        again
            .post("/v1/organizations/invites", body.clone())
            .await
            .ok()["id"],
        id.as_str()
    );
    let mut seed = EmulatorConfig::default().seed;
    let mut taken = first.emu.state().invites[0].clone();
    taken.email = "someone.else@acme.example".to_owned();
    seed.invites.push(taken);
    let clash = Api::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await;
    let fresh = clash.post("/v1/organizations/invites", body).await;
    assert_ne!(fresh.ok()["id"], id.as_str());
}
