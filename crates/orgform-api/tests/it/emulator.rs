//! The client against the in-process emulator: complete snapshots, fault tolerance, writes
//! whose response is lost, spec conformance of every request, and the canary key.

use std::time::Duration;

use orgform_api::{
    AdminKey, Backoff, Client, ClientConfig, CreateWorkspace, UpdateApiKey, UpdateWorkspace,
};
use orgform_emulator::{Emulator, EmulatorConfig, Fault, FaultConfig, FaultMatcher, seeds};
use orgform_model::{ApiKeyStatus, InviteStatus, OrgRole, Snapshot, WorkspaceRole};
use serde_json::Value;

use crate::support::spec;

use crate::support::log_capture;

async fn emulator(seed: Snapshot) -> Emulator {
    Emulator::start(EmulatorConfig {
        seed,
        test_controls: true,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

fn client(emu: &Emulator, max_retries: u32) -> Client {
    Client::new(
        ClientConfig {
            base_url: emu.base_url(),
            timeout: Duration::from_secs(10),
            max_retries,
            backoff: Backoff {
                initial: Duration::from_millis(5),
                max: Duration::from_millis(50),
            },
            rate_limit: None,
            ..ClientConfig::default()
        },
        AdminKey::new(emu.admin_key()).unwrap(),
    )
    .unwrap()
}

fn large() -> Snapshot {
    seeds::large(42, 2000, 100, 3000)
}

/// The fewest requests a complete and consistent read can take (an empty list still costs
/// one): every collection once, then users and workspaces again to see that the
/// organization did not change during the read.
fn minimum_requests(s: &Snapshot) -> usize {
    let pages = |n: usize| n.div_ceil(1000).max(1);
    let members: usize = s
        .workspaces
        .iter()
        .map(|w| {
            pages(
                s.workspace_members
                    .iter()
                    .filter(|m| m.workspace_id == w.id)
                    .count(),
            )
        })
        .sum();
    1 + pages(s.users.len())
        + pages(s.invites.len())
        + pages(s.workspaces.len())
        + members
        + pages(s.api_keys.len())
        + pages(s.users.len())
        + pages(s.workspaces.len())
}

#[tokio::test]
async fn small_snapshot_equals_seeded_state() {
    let emu = emulator(seeds::small()).await;
    let snapshot = client(&emu, 0).fetch_snapshot().await.unwrap();
    assert_eq!(snapshot, emu.state());
    assert!(
        snapshot
            .workspaces
            .iter()
            .any(orgform_model::Workspace::is_archived)
    );
    assert!(!snapshot.invites.is_empty() && !snapshot.api_keys.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_snapshot_equals_seeded_state_with_minimum_requests() {
    let emu = emulator(large()).await;
    let snapshot = client(&emu, 0).fetch_snapshot().await.unwrap();
    let state = emu.state();
    assert_eq!(snapshot.users.len(), 2000);
    assert_eq!(snapshot.api_keys.len(), 3000);
    assert_eq!(snapshot.workspaces.len(), 100);
    assert_eq!(snapshot, state);
    assert_eq!(emu.request_log().len(), minimum_requests(&state));
}

fn faults(seed: u64, rate: f64) -> FaultConfig {
    FaultConfig {
        seed,
        rate,
        kinds: vec![
            Fault::RateLimit {
                retry_after_secs: None,
                retry_after_ms: Some(20),
            },
            Fault::ServerError { should_retry: None },
            Fault::Overloaded,
            Fault::DropBeforeApply,
            Fault::DropAfterApply,
        ],
        ..FaultConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_percent_faults_still_give_the_exact_snapshot() {
    let emu = emulator(large()).await;
    emu.set_faults(faults(7, 0.3));
    let snapshot = client(&emu, 15).fetch_snapshot().await.unwrap();
    emu.set_faults(FaultConfig::default());
    assert_eq!(snapshot, emu.state());
    let log = emu.request_log();
    assert!(
        log.iter().filter(|r| r.fault.is_some()).count() > 10,
        "faults were injected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_fail_the_whole_fetch() {
    let emu = emulator(large()).await;
    emu.set_faults(faults(11, 0.3));
    let result = client(&emu, 0).fetch_snapshot().await;
    let err = result.expect_err("with 30 % faults and no retries some page fails");
    assert!(err.is_retryable(), "{err}");
    // Every request failing: the fetch fails after exactly max_retries + 1 tries of the
    // first request it makes, never returning what it read elsewhere.
    emu.set_faults(FaultConfig {
        rate: 1.0,
        kinds: vec![Fault::Overloaded],
        ..FaultConfig::default()
    });
    let err = client(&emu, 2).fetch_snapshot().await.unwrap_err();
    assert_eq!(err.status(), Some(529));
}

#[tokio::test]
async fn create_invite_dropped_after_apply_makes_exactly_one_invite() {
    let emu = emulator(seeds::small()).await;
    let client = client(&emu, 2);
    emu.clear_request_log();
    emu.push_fault(
        FaultMatcher::new("POST", "/v1/organizations/invites"),
        Fault::DropAfterApply,
    );
    let written = client
        .create_invite("newcomer@example.com", &OrgRole::Developer)
        .await
        .unwrap();
    assert!(written.confirmed_by_read);
    assert_eq!(written.value.email, "newcomer@example.com");
    let posts = emu
        .request_log()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/organizations/invites")
        .count();
    assert_eq!(posts, 1);
    let invites: Vec<_> = emu
        .state()
        .invites
        .into_iter()
        .filter(|i| i.email == "newcomer@example.com")
        .collect();
    assert_eq!(invites.len(), 1);
    assert_eq!(invites[0].id, written.value.id);
    assert_eq!(invites[0].status, InviteStatus::Pending);
}

#[tokio::test]
async fn create_workspace_dropped_after_apply_makes_exactly_one_workspace() {
    let emu = emulator(seeds::small()).await;
    let client = client(&emu, 2);
    emu.push_fault(
        FaultMatcher::new("POST", "/v1/organizations/workspaces"),
        Fault::DropAfterApply,
    );
    let written = client
        .create_workspace(&CreateWorkspace {
            name: "Lost Response".into(),
            ..CreateWorkspace::default()
        })
        .await
        .unwrap();
    assert!(written.confirmed_by_read);
    let posts = emu
        .request_log()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/organizations/workspaces")
        .count();
    assert_eq!(posts, 1);
    let same: Vec<_> = emu
        .state()
        .workspaces
        .into_iter()
        .filter(|w| w.name == "Lost Response")
        .collect();
    assert_eq!(same.len(), 1);
    assert_eq!(same[0].id, written.value.id);
}

#[tokio::test]
async fn create_dropped_before_apply_is_sent_again() {
    let emu = emulator(seeds::small()).await;
    let client = client(&emu, 2);
    emu.push_fault(
        FaultMatcher::new("POST", "/v1/organizations/invites"),
        Fault::DropBeforeApply,
    );
    let written = client
        .create_invite("second-try@example.com", &OrgRole::User)
        .await
        .unwrap();
    assert!(!written.confirmed_by_read);
    let posts = emu
        .request_log()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/organizations/invites")
        .count();
    assert_eq!(posts, 2);
    let count = emu
        .state()
        .invites
        .iter()
        .filter(|i| i.email == "second-try@example.com")
        .count();
    assert_eq!(count, 1);
}

/// Every other write, with its response dropped after the server applied it: sent once,
/// confirmed by reading back, and the effect is there.
#[tokio::test]
async fn other_writes_dropped_after_apply_are_confirmed_not_repeated() {
    let emu = emulator(seeds::small()).await;
    let c = client(&emu, 2);
    let state = emu.state();
    let ws = state.workspaces.iter().find(|w| !w.is_archived()).unwrap();
    let plain =
        |u: &&orgform_model::User| !u.role.is_administrative() && u.role != OrgRole::Billing;
    let member = state
        .workspace_members
        .iter()
        .find(|m| m.workspace_id == ws.id && state.user(&m.user_id).is_some_and(|u| plain(&u)))
        .unwrap()
        .clone();
    let outsider = state
        .users
        .iter()
        .filter(plain)
        .find(|u| {
            !state
                .workspace_members
                .iter()
                .any(|m| m.workspace_id == ws.id && m.user_id == u.id)
        })
        .unwrap()
        .clone();
    let key = state
        .api_keys
        .iter()
        .find(|k| k.status == ApiKeyStatus::Active)
        .unwrap()
        .clone();
    let pending = state
        .invites
        .iter()
        .find(|i| i.status == InviteStatus::Pending)
        .unwrap()
        .clone();

    let drop_next = |method: &str, path: &str| {
        emu.clear_request_log();
        emu.push_fault(FaultMatcher::new(method, path), Fault::DropAfterApply);
    };
    let writes_to = |method: &str, path: &str| {
        emu.request_log()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    };

    let path = format!("/v1/organizations/users/{}", outsider.id);
    drop_next("POST", &path);
    let w = c
        .update_user_role(&outsider.id, &OrgRole::ClaudeCodeUser)
        .await
        .unwrap();
    assert!(w.confirmed_by_read && writes_to("POST", &path) == 1);
    assert_eq!(
        emu.state().user(&outsider.id).unwrap().role,
        OrgRole::ClaudeCodeUser
    );

    let path = format!("/v1/organizations/workspaces/{}/members", ws.id);
    drop_next("POST", &path);
    let w = c
        .add_workspace_member(&ws.id, &outsider.id, &WorkspaceRole::WorkspaceUser)
        .await
        .unwrap();
    assert!(w.confirmed_by_read && writes_to("POST", &path) == 1);

    let path = format!(
        "/v1/organizations/workspaces/{}/members/{}",
        ws.id, member.user_id
    );
    drop_next("POST", &path);
    let w = c
        .update_workspace_member(&ws.id, &member.user_id, &WorkspaceRole::WorkspaceAdmin)
        .await
        .unwrap();
    assert!(w.confirmed_by_read && writes_to("POST", &path) == 1);

    drop_next("DELETE", &path);
    let w = c
        .remove_workspace_member(&ws.id, &member.user_id)
        .await
        .unwrap();
    assert!(w.confirmed_by_read && writes_to("DELETE", &path) == 1);
    assert!(
        !emu.state()
            .workspace_members
            .iter()
            .any(|m| m.workspace_id == ws.id && m.user_id == member.user_id)
    );

    let path = format!("/v1/organizations/api_keys/{}", key.id);
    drop_next("POST", &path);
    let update = UpdateApiKey {
        name: Some("renamed".into()),
        status: Some(ApiKeyStatus::Inactive),
    };
    let w = c.update_api_key(&key.id, &update).await.unwrap();
    assert!(w.confirmed_by_read && writes_to("POST", &path) == 1);

    let path = format!("/v1/organizations/invites/{}", pending.id);
    drop_next("DELETE", &path);
    let w = c.delete_invite(&pending.id).await.unwrap();
    assert!(w.confirmed_by_read && writes_to("DELETE", &path) == 1);

    let path = format!("/v1/organizations/workspaces/{}", ws.id);
    drop_next("POST", &path);
    let w = c
        .update_workspace(
            &ws.id,
            &UpdateWorkspace {
                name: Some("Renamed".into()),
                ..UpdateWorkspace::default()
            },
        )
        .await
        .unwrap();
    assert!(w.confirmed_by_read && writes_to("POST", &path) == 1);

    let path = format!("/v1/organizations/workspaces/{}/archive", ws.id);
    drop_next("POST", &path);
    let w = c.archive_workspace(&ws.id).await.unwrap();
    assert!(w.confirmed_by_read && writes_to("POST", &path) == 1);
    assert!(emu.state().workspace(&ws.id).unwrap().is_archived());

    let path = format!("/v1/organizations/users/{}", outsider.id);
    drop_next("DELETE", &path);
    let w = c.delete_user(&outsider.id).await.unwrap();
    assert!(w.confirmed_by_read && writes_to("DELETE", &path) == 1);
    assert!(emu.state().user(&outsider.id).is_none());

    // After all that, a fresh read still equals the emulator's state.
    assert_eq!(c.fetch_snapshot().await.unwrap(), emu.state());
}

/// Every request the client sent to the emulator, including the read-backs, matches the
/// official spec's operations, query parameter names and body schemas.
#[tokio::test]
async fn emulator_request_log_matches_the_official_spec() {
    let emu = emulator(seeds::small()).await;
    let c = client(&emu, 2);
    let state = c.fetch_snapshot().await.unwrap();
    let ws = c
        .create_workspace(&CreateWorkspace {
            name: "Spec Check".into(),
            display_color: Some("#112233".into()),
            tags: Some([("team".to_owned(), "core".to_owned())].into()),
            ..CreateWorkspace::default()
        })
        .await
        .unwrap()
        .value;
    let user = state
        .users
        .iter()
        .find(|u| u.role == OrgRole::Developer)
        .unwrap();
    emu.push_fault(
        FaultMatcher::new("POST", "/v1/organizations/invites"),
        Fault::DropAfterApply,
    );
    c.create_invite("spec@example.com", &OrgRole::User)
        .await
        .unwrap();
    emu.push_fault(
        FaultMatcher::any_method("/v1/organizations/workspaces/"),
        Fault::DropAfterApply,
    );
    c.add_workspace_member(&ws.id, &user.id, &WorkspaceRole::WorkspaceDeveloper)
        .await
        .unwrap();
    c.get_workspace_member(&ws.id, &user.id).await.unwrap();
    c.update_user_role(&user.id, &OrgRole::User).await.unwrap();
    let mut checked = 0;
    for r in emu.request_log() {
        let names: Vec<String> = r
            .query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, _)| k.into_owned())
                    .collect()
            })
            .unwrap_or_default();
        spec::check_request(&r.method, &r.path, &names, r.body.as_ref())
            .unwrap_or_else(|e| panic!("{e}"));
        checked += 1;
    }
    assert!(checked > 10);
}

/// A canary key never appears in logs (every target, trace level), errors or Debug output,
/// through retries, dropped connections, read-backs and authentication failures.
#[tokio::test]
async fn canary_key_never_leaks_against_the_emulator() {
    const CANARY: &str = "sk-ant-admin01-CANARY-9f8e7d6c5b4a";

    let buf = log_capture::install();

    let emu = Emulator::start(EmulatorConfig {
        seed: seeds::small(),
        admin_key: CANARY.to_owned(),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    // Enough retries that 30 % faults never exhaust them (0.3^7 per request).
    let c = client(&emu, 6);
    let mut outputs = vec![format!("{c:?}")];
    emu.set_faults(faults(3, 0.3));
    let snapshot = c.fetch_snapshot().await.unwrap();
    outputs.push(format!("{snapshot:?}"));
    outputs.push(serde_json::to_string(&snapshot).unwrap());
    emu.set_faults(FaultConfig::default());
    emu.push_fault(
        FaultMatcher::new("POST", "/v1/organizations/invites"),
        Fault::DropAfterApply,
    );
    let w = c.create_invite("canary@example.com", &OrgRole::User).await;
    outputs.push(format!("{w:?}"));
    let wrong = Client::new(
        ClientConfig {
            base_url: emu.base_url(),
            rate_limit: None,
            ..ClientConfig::default()
        },
        AdminKey::new(&format!("{CANARY}-wrong")).unwrap(),
    )
    .unwrap();
    let err = wrong.fetch_snapshot().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    outputs.push(format!("{err} {err:?}"));
    let log: Vec<Value> = emu
        .request_log()
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    outputs.push(serde_json::to_string(&log).unwrap());
    let logs = buf.text();
    assert!(logs.contains("admin_api_request"), "spans were captured");
    for text in outputs.iter().chain([&logs]) {
        assert!(!text.contains("CANARY"), "key leaked: {text}");
    }
}

/// With the member GET serving stale values, a member write whose response was lost is
/// still confirmed (through the list) and not sent twice.
#[tokio::test]
async fn member_write_confirmed_through_list_despite_stale_get() {
    let emu = emulator(seeds::small()).await;
    let c = client(&emu, 2);
    let state = emu.state();
    let member = state
        .workspace_members
        .iter()
        .find(|m| {
            m.workspace_role == WorkspaceRole::WorkspaceUser
                && state
                    .user(&m.user_id)
                    .is_some_and(|u| !u.role.is_administrative() && u.role != OrgRole::Billing)
                && state
                    .workspace(&m.workspace_id)
                    .is_some_and(|w| !w.is_archived())
        })
        .expect("the small seed has a plain workspace_user member")
        .clone();
    emu.set_faults(FaultConfig {
        stale_member_get: Some(Duration::from_secs(120)),
        ..FaultConfig::default()
    });
    let path = format!(
        "/v1/organizations/workspaces/{}/members/{}",
        member.workspace_id, member.user_id
    );
    emu.clear_request_log();
    emu.push_fault(FaultMatcher::new("POST", &path), Fault::DropAfterApply);
    let w = c
        .update_workspace_member(
            &member.workspace_id,
            &member.user_id,
            &WorkspaceRole::WorkspaceDeveloper,
        )
        .await
        .unwrap();
    assert!(w.confirmed_by_read);
    let posts = emu
        .request_log()
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .count();
    assert_eq!(posts, 1);
    // The GET really is stale: it still shows the old role.
    let cached = c
        .get_workspace_member(&member.workspace_id, &member.user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cached.workspace_role, WorkspaceRole::WorkspaceUser);
}
