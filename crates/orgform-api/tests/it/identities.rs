//! Service accounts in a snapshot read: only with a bearer token, in the fewest requests,
//! refused tokens leaving them unread, and doubtful identity pages failing the whole read.

use std::time::Duration;

use orgform_api::{AdminKey, ApiError, Backoff, Client, ClientConfig, ReadProblem};
use orgform_emulator::{Emulator, EmulatorConfig, seeds};
use orgform_model::{
    Identities, ServiceAccount, ServiceAccountMember, ServiceAccountRole, Snapshot, WorkspaceRole,
};
use serde_json::{Value, json};

use crate::support::log_capture;
use crate::support::server::{self, Action, Seen, Server, org, page, workspace};

const TOKEN: &str = "oauth-token-emulated-0001";

/// The small seed with `n` service accounts (every fifth archived), each non-archived one a
/// member of the first `per` non-archived workspaces.
fn seed_with(n: usize, per: usize) -> Snapshot {
    let mut seed = seeds::small();
    let active: Vec<String> = seed
        .workspaces
        .iter()
        .filter(|w| !w.is_archived())
        .map(|w| w.id.clone())
        .collect();
    let mut ids = Identities::default();
    for i in 0..n {
        let archived = i % 5 == 4;
        let id = format!("svac_{i:04}");
        ids.service_accounts.push(ServiceAccount {
            id: id.clone(),
            name: format!("bot-{i}"),
            description: (i % 2 == 0).then(|| format!("bot number {i}")),
            organization_role: if i % 3 == 0 {
                ServiceAccountRole::Admin
            } else {
                ServiceAccountRole::Developer
            },
            created_at: format!("2026-01-01T00:{:02}:{:02}Z", i / 60, i % 60)
                .parse()
                .unwrap(),
            archived_at: archived.then(|| "2026-02-01T00:00:00Z".parse().unwrap()),
        });
        if !archived {
            for ws in active.iter().take(per) {
                ids.service_account_members.push(ServiceAccountMember {
                    workspace_id: ws.clone(),
                    service_account_id: id.clone(),
                    workspace_role: WorkspaceRole::WorkspaceDeveloper,
                });
            }
        }
    }
    seed.identities = Some(ids);
    seed
}

async fn emulator(seed: Snapshot) -> Emulator {
    Emulator::start(EmulatorConfig {
        seed,
        bearer_tokens: vec![TOKEN.to_owned()],
        test_controls: true,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

fn client(emu: &Emulator, key: AdminKey) -> Client {
    Client::new(
        ClientConfig {
            base_url: emu.base_url(),
            timeout: Duration::from_secs(10),
            max_retries: 0,
            backoff: Backoff {
                initial: Duration::from_millis(5),
                max: Duration::from_millis(50),
            },
            rate_limit: None,
            ..ClientConfig::default()
        },
        key,
    )
    .unwrap()
}

fn identity_requests(emu: &Emulator) -> usize {
    emu.request_log()
        .iter()
        .filter(|r| r.path.contains("service_accounts"))
        .count()
}

#[tokio::test]
async fn an_admin_key_read_asks_for_no_identity_and_leaves_them_unread() {
    let emu = emulator(seed_with(6, 2)).await;
    let snapshot = client(&emu, AdminKey::new(emu.admin_key()).unwrap())
        .fetch_snapshot()
        .await
        .unwrap();
    assert_eq!(snapshot.identities, None, "None means not read");
    assert_eq!(snapshot, emu.state());
    assert_eq!(identity_requests(&emu), 0);
}

#[tokio::test]
async fn a_bearer_read_holds_every_service_account_and_membership() {
    let emu = emulator(seed_with(12, 2)).await;
    let reader = client(&emu, AdminKey::bearer(TOKEN).unwrap());
    let snapshot = reader.fetch_snapshot().await.unwrap();
    // Progress counts service accounts as one collection more, and every request sent.
    let progress = reader.progress();
    let (read, total) = progress.collections.unwrap();
    assert_eq!(read, total, "{progress:?}");
    assert_eq!(total, 4 + snapshot.workspaces.len() + 1, "{progress:?}");
    assert_eq!(progress.requests, emu.request_log().len() as u64);
    let ids = snapshot.identities.clone().unwrap();
    assert_eq!(ids.service_accounts.len(), 12, "archived ones included");
    assert_eq!(ids.service_account_members.len(), 2 * 10);
    assert_eq!(snapshot, emu.state_read_by_token());
}

/// The measured request counts: one service-account list page per 100 service accounts,
/// then the membership lists (a page per 100) of every non-archived workspace or every non-archived service
/// account, whichever is fewer.
#[tokio::test]
async fn memberships_are_read_from_the_side_with_fewer_lists() {
    // (service accounts, non-archived of them) -> requests, with 3 non-archived workspaces.
    for (n, expected) in [(0, 1), (2, 1 + 2), (4, 1 + 3), (12, 1 + 3), (250, 3 + 5)] {
        let emu = emulator(seed_with(n, 2)).await;
        let snapshot = client(&emu, AdminKey::bearer(TOKEN).unwrap())
            .fetch_snapshot()
            .await
            .unwrap();
        assert_eq!(snapshot, emu.state_read_by_token(), "{n} service accounts");
        assert_eq!(identity_requests(&emu), expected, "{n} service accounts");
    }
}

/// Memberships the planner never manages (the default workspace's, an archived
/// workspace's) are left out whichever side they are read from.
#[tokio::test]
async fn both_sides_read_the_same_managed_memberships() {
    for n in [1, 40] {
        let mut seed = seed_with(n, 3);
        let archived_ws = seed
            .workspaces
            .iter()
            .find(|w| w.is_archived())
            .unwrap()
            .id
            .clone();
        seed.identities
            .as_mut()
            .unwrap()
            .service_account_members
            .push(ServiceAccountMember {
                workspace_id: archived_ws,
                service_account_id: "svac_0000".into(),
                workspace_role: WorkspaceRole::WorkspaceUser,
            });
        let emu = emulator(seed).await;
        let default = emu.default_workspace_id();
        let c = client(&emu, AdminKey::bearer(TOKEN).unwrap());
        c.add_service_account_member(&default, "svac_0000", &WorkspaceRole::WorkspaceAdmin)
            .await
            .unwrap();
        let read = c.fetch_snapshot().await.unwrap().identities.unwrap();
        let mut expected = emu.state_read_by_token().identities.unwrap();
        let workspaces: Vec<String> = emu
            .state()
            .workspaces
            .iter()
            .filter(|w| !w.is_archived())
            .map(|w| w.id.clone())
            .collect();
        expected
            .service_account_members
            .retain(|m| workspaces.contains(&m.workspace_id));
        assert_eq!(read, expected, "{n} service accounts");
    }
}

fn identity_server(
    sa_page: impl Fn(&Seen) -> Action + Send + 'static,
) -> impl FnMut(&Seen) -> Action + Send + 'static {
    move |seen| match seen.path.as_str() {
        "/v1/organizations/me" => org(),
        "/v1/organizations/workspaces" => page(vec![workspace("wrkspc_a", "A")], false),
        "/v1/organizations/users" => page(vec![server::user(1)], false),
        p if p.contains("service_accounts") => sa_page(seen),
        _ => page(vec![], false),
    }
}

/// How a scripted server answers the identity lists.
type PageScript = Box<dyn Fn(&Seen) -> Action + Send>;

fn sa(id: &str) -> Value {
    json!({"type": "service_account", "id": id, "name": id.replace('_', "-"),
           "description": null, "organization_role": "developer",
           "created_at": "2026-01-01T00:00:00Z", "created_by_actor_id": null,
           "updated_at": "2026-01-01T00:00:00Z", "updated_by_actor_id": null,
           "archived_at": null, "archived_by_actor_id": null})
}

#[tokio::test]
async fn a_refused_token_leaves_identities_unread_with_one_warning() {
    let logs = log_capture::install();
    for status in [401, 403] {
        let server = Server::start(identity_server(move |_| {
            server::error(status, "permission_error")
        }))
        .await;
        let reader = server.bearer_client(0);
        let snapshot = reader.fetch_snapshot().await.unwrap();
        assert_eq!(snapshot.identities, None, "status {status}");
        // A refused collection is done with: the read's progress ends complete.
        let (read, total) = reader.progress().collections.unwrap();
        assert_eq!(read, total, "status {status}");
        assert_eq!(snapshot.users.len(), 1);
    }
    assert!(
        logs.text()
            .contains("cannot read service accounts or federation"),
        "{}",
        logs.text()
    );
}

#[tokio::test]
async fn any_other_identity_failure_fails_the_whole_read() {
    let server = Server::start(identity_server(|_| server::error(500, "api_error"))).await;
    let err = server.bearer_client(0).fetch_snapshot().await.unwrap_err();
    assert_eq!(err.status(), Some(500));
}

/// Hostile service-account pages never become a snapshot (a missing account would read as
/// one to archive): a page without `next_page`, a cursor served twice, and endless pages.
#[tokio::test]
async fn doubtful_service_account_pages_fail_the_read() {
    let cases: Vec<(&str, PageScript)> = vec![
        (
            "next_page",
            Box::new(|_| Action::Json(200, vec![], json!({"data": [sa("svac_1")]}))),
        ),
        (
            "repeats the cursor",
            Box::new(|seen: &Seen| {
                let n = if seen.q("page").is_some() { 2 } else { 1 };
                Action::Json(
                    200,
                    vec![],
                    json!({"data": [sa(&format!("svac_{n}"))], "next_page": "same"}),
                )
            }),
        ),
        (
            "did not end",
            Box::new(|seen: &Seen| {
                let n: usize = seen
                    .q("page")
                    .and_then(|p| p.strip_prefix('c'))
                    .map_or(0, |p| p.parse().unwrap());
                Action::Json(
                    200,
                    vec![],
                    json!({"data": [sa(&format!("svac_{n}"))], "next_page": format!("c{}", n + 1)}),
                )
            }),
        ),
    ];
    for (fragment, script) in cases {
        let server = Server::start(identity_server(script)).await;
        let err = server.bearer_client(0).fetch_snapshot().await.unwrap_err();
        assert!(
            matches!(err, ApiError::InconsistentRead { .. }),
            "{fragment}: {err}"
        );
        assert!(err.to_string().contains(fragment), "{fragment}: {err}");
        assert!(server.log().len() <= 120, "{fragment}: bounded requests");
    }
}

/// A membership naming a service account the list did not hold is refused, not dropped.
#[tokio::test]
async fn a_membership_of_an_unlisted_service_account_fails_the_read() {
    let server = Server::start(identity_server(|seen: &Seen| {
        if seen.path == "/v1/organizations/service_accounts" {
            Action::Json(
                200,
                vec![],
                json!({"data": [sa("svac_1"), sa("svac_2")], "next_page": null}),
            )
        } else {
            Action::Json(
                200,
                vec![],
                json!({"data": [
                {"type": "service_account_workspace_member", "service_account_id": "svac_9",
                 "workspace_id": "wrkspc_a", "workspace_role": "workspace_user",
                 "implicit": false, "created_by_actor_id": null}
            ], "next_page": null}),
            )
        }
    }))
    .await;
    let err = server.bearer_client(0).fetch_snapshot().await.unwrap_err();
    assert!(
        matches!(
            &err,
            ApiError::InconsistentRead {
                problem: ReadProblem::UnknownServiceAccount { .. },
                ..
            }
        ),
        "{err}"
    );
}
