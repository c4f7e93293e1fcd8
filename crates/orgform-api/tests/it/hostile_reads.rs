//! Read integrity against a scripted server that plays a hostile or inconsistent Admin API:
//! lists cut short, endless pagination, contradicting duplicates, members that do not fit
//! the users or the workspace, duplicate emails, and organizations that change mid-read.
//! Each must end in `ApiError::InconsistentRead`, never in a snapshot.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orgform_api::{ApiError, ListCap, READ_ATTEMPTS, ReadProblem, UserFilter};
use serde_json::{Value, json};

use crate::support::server;

use server::{Action, Seen, Server, member, org, page, paged, user, workspace};

const USERS: &str = "/v1/organizations/users";
const MEMBERS: &str = "/v1/organizations/workspaces/wrkspc_1/members";

/// An organization with one workspace `wrkspc_1`; `users` answers the user list and
/// `members` the workspace's member list.
fn org_script(
    mut users: impl FnMut(&Seen) -> Action + Send + 'static,
    members: Vec<Value>,
) -> impl FnMut(&Seen) -> Action + Send + 'static {
    move |seen| match seen.path.as_str() {
        "/v1/organizations/me" => org(),
        USERS => users(seen),
        "/v1/organizations/workspaces" => page(vec![workspace("wrkspc_1", "W")], false),
        MEMBERS => paged(&members, seen, 1000, "user_id"),
        _ => page(vec![], false),
    }
}

fn problem(err: &ApiError) -> (&str, &ReadProblem) {
    match err {
        ApiError::InconsistentRead {
            collection,
            problem,
        } => (collection.as_str(), problem),
        other => panic!("expected an inconsistent read, got {other:?}"),
    }
}

fn requests_to(server: &Server, path: &str) -> usize {
    server.log().iter().filter(|s| s.path == path).count()
}

/// A users page without `has_more` (the list cut short) is not taken as the last page.
#[tokio::test]
async fn users_page_without_has_more_is_refused() {
    let script = org_script(
        |_| Action::Json(200, vec![], json!({"data": [user(1)]})),
        vec![member("wrkspc_1", "user_00001")],
    );
    let server = Server::start(script).await;
    let err = server.client(0).fetch_snapshot().await.unwrap_err();
    let (collection, what) = problem(&err);
    assert_eq!(collection, "users");
    assert_eq!(
        what,
        &ReadProblem::MissingEnvelopeField {
            page: 1,
            field: "has_more"
        }
    );
    assert!(
        err.to_string()
            .starts_with("inconsistent read of users: page 1 has no `has_more`"),
        "{err}"
    );
}

/// A non-empty page needs `first_id` and `last_id`; `null` counts as missing.
#[tokio::test]
async fn page_without_ids_is_refused() {
    for (first, last, field) in [
        (Value::Null, json!("user_00001"), "first_id"),
        (json!("user_00001"), Value::Null, "last_id"),
    ] {
        let server = Server::start(move |_| {
            Action::Json(
                200,
                vec![],
                json!({"data": [user(1)], "first_id": first, "last_id": last, "has_more": false}),
            )
        })
        .await;
        let err = server
            .client(0)
            .list_users(&UserFilter::default())
            .await
            .unwrap_err();
        assert_eq!(
            problem(&err).1,
            &ReadProblem::MissingEnvelopeField { page: 1, field }
        );
    }
}

/// `has_more: true` forever with ever-new cursors: the read ends at the collection's page
/// cap, within seconds, after exactly that many requests.
#[tokio::test]
async fn endless_pagination_with_new_cursors_ends_at_the_page_cap() {
    let n = Arc::new(AtomicUsize::new(0));
    let counter = n.clone();
    let server = Server::start(move |_| {
        let base = counter.fetch_add(1, SeqCst) * 1000;
        page((base..base + 1000).map(user).collect(), true)
    })
    .await;
    let started = Instant::now();
    let err = server
        .client(0)
        .list_users(&UserFilter::default())
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    let (collection, what) = problem(&err);
    assert_eq!(collection, "users");
    assert_eq!(
        what,
        &ReadProblem::TooManyPages {
            pages: 100,
            items: 100_000
        }
    );
    assert_eq!(server.log().len(), ListCap::USERS.pages());
    // About 2.5 s of CPU in a debug build; the bound leaves room for a loaded machine.
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
}

/// Pages of one item each, forever: the same page caps apply, per collection.
#[tokio::test]
async fn endless_small_pages_end_at_the_page_cap() {
    let mut n = 0;
    let server = Server::start(move |_| {
        n += 1;
        page(vec![user(n)], true)
    })
    .await;
    let err = server
        .client(0)
        .list_users(&UserFilter::default())
        .await
        .unwrap_err();
    assert!(matches!(
        problem(&err).1,
        ReadProblem::TooManyPages { pages: 100, .. }
    ));
    assert_eq!(server.log().len(), 100);
    let mut n = 0;
    let server = Server::start(move |_| {
        n += 1;
        page(vec![workspace(&format!("wrkspc_{n}"), "W")], true)
    })
    .await;
    let err = server.client(0).list_workspaces(true).await.unwrap_err();
    assert_eq!(problem(&err).0, "workspaces");
    assert!(matches!(
        problem(&err).1,
        ReadProblem::TooManyPages { pages: 10, .. }
    ));
    assert_eq!(server.log().len(), ListCap::WORKSPACES.pages());
}

/// Members are identified by `user_id`: an item without it is refused.
#[tokio::test]
async fn member_without_user_id_is_refused() {
    let server = Server::start(|_| page(vec![user(1)], false)).await;
    let err = server
        .client(0)
        .list_workspace_members("wrkspc_1")
        .await
        .unwrap_err();
    assert!(matches!(
        problem(&err).1,
        ReadProblem::MissingId {
            field: "user_id",
            page: 1
        }
    ));
}

/// The same user id on two pages with two emails: refused, not "second copy wins".
#[tokio::test]
async fn same_id_with_two_emails_is_refused() {
    let mut other = user(2);
    other["email"] = json!("someone-else@x.example");
    let all = vec![user(1), user(2), other, user(3)];
    let script = org_script(move |seen| paged(&all, seen, 2, "id"), vec![]);
    let server = Server::start(script).await;
    let err = server.client(0).fetch_snapshot().await.unwrap_err();
    let (collection, what) = problem(&err);
    assert_eq!(collection, "users");
    assert_eq!(
        what,
        &ReadProblem::DuplicateDiffers {
            id: "user_00002".into(),
            first_page: 1,
            page: 2
        }
    );
}

/// An identical duplicate (a page boundary seen twice) is harmless and kept once.
#[tokio::test]
async fn identical_duplicates_are_kept_once() {
    let all = vec![user(1), user(2), user(2), user(3)];
    let script = org_script(move |seen| paged(&all, seen, 2, "id"), vec![]);
    let server = Server::start(script).await;
    let snapshot = server.client(0).fetch_snapshot().await.unwrap();
    let ids: Vec<&str> = snapshot.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["user_00001", "user_00002", "user_00003"]);
}

/// A member whose user was not read makes the read inconsistent, instead of becoming an
/// unmanaged member to remove.
#[tokio::test]
async fn member_with_unknown_user_is_refused() {
    let script = org_script(
        |seen| paged(&[user(1)], seen, 1000, "id"),
        vec![
            member("wrkspc_1", "user_00001"),
            member("wrkspc_1", "user_00099"),
        ],
    );
    let server = Server::start(script).await;
    let err = server.client(0).fetch_snapshot().await.unwrap_err();
    let (collection, what) = problem(&err);
    assert_eq!(collection, "members of workspace wrkspc_1");
    assert_eq!(
        what,
        &ReadProblem::UnknownUser {
            user_id: "user_00099".into()
        }
    );
}

/// A member list item naming another workspace is refused, not filed under it.
#[tokio::test]
async fn member_of_another_workspace_is_refused() {
    let script = org_script(
        |seen| paged(&[user(1), user(2)], seen, 1000, "id"),
        vec![
            member("wrkspc_1", "user_00001"),
            member("wrkspc_other", "user_00002"),
        ],
    );
    let server = Server::start(script).await;
    let err = server.client(0).fetch_snapshot().await.unwrap_err();
    let (collection, what) = problem(&err);
    assert_eq!(collection, "members of workspace wrkspc_1");
    assert_eq!(
        what,
        &ReadProblem::WrongWorkspace {
            user_id: "user_00002".into(),
            listed: "wrkspc_other".into()
        }
    );
}

/// Two users whose emails differ only by case are refused.
#[tokio::test]
async fn duplicate_emails_are_refused() {
    let mut twin = user(2);
    twin["email"] = json!("U1@X.example");
    let all = vec![user(1), twin];
    let script = org_script(move |seen| paged(&all, seen, 1000, "id"), vec![]);
    let server = Server::start(script).await;
    let err = server.client(0).fetch_snapshot().await.unwrap_err();
    let (collection, what) = problem(&err);
    assert_eq!(collection, "users");
    assert!(
        matches!(what, ReadProblem::DuplicateEmail { email, .. } if email == "u1@x.example"),
        "{what:?}"
    );
}

/// A user added while the organization is read: the second listing differs, so the whole
/// organization is read again, and the stable result is returned.
#[tokio::test]
async fn user_added_mid_read_is_read_again() {
    let listings = Arc::new(AtomicUsize::new(0));
    let count = listings.clone();
    let script = org_script(
        move |seen| {
            if seen.q("after_id").is_none() {
                count.fetch_add(1, SeqCst);
            }
            let all: Vec<Value> = if count.load(SeqCst) == 1 {
                (1..=3).map(user).collect()
            } else {
                (1..=4).map(user).collect()
            };
            paged(&all, seen, 2, "id")
        },
        vec![],
    );
    let server = Server::start(script).await;
    let snapshot = server.client(0).fetch_snapshot().await.unwrap();
    assert_eq!(snapshot.users.len(), 4);
    // First read, its check (differs), second read, its check (same).
    assert_eq!(listings.load(SeqCst), 4);
    assert_eq!(requests_to(&server, "/v1/organizations/me"), 2);
}

/// A user removed between two pages of the first read (after its page was served): the
/// organization is read again, and the removed user is not kept.
#[tokio::test]
async fn user_removed_mid_read_is_read_again() {
    let removed = Arc::new(Mutex::new(false));
    let flag = removed.clone();
    let script = org_script(
        move |seen| {
            let mut gone = flag.lock().unwrap();
            let all: Vec<Value> = (1..=4).filter(|&n| !(*gone && n == 1)).map(user).collect();
            let answer = paged(&all, seen, 2, "id");
            // Removed right after the first page was served.
            *gone = true;
            answer
        },
        vec![],
    );
    let server = Server::start(script).await;
    let snapshot = server.client(0).fetch_snapshot().await.unwrap();
    let ids: Vec<&str> = snapshot.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["user_00002", "user_00003", "user_00004"]);
    assert!(*removed.lock().unwrap());
    assert_eq!(requests_to(&server, "/v1/organizations/me"), 2);
}

/// An organization that changes on every read is refused after a bounded number of reads.
#[tokio::test]
async fn organization_that_keeps_changing_is_refused() {
    let mut listing = 0;
    let script = org_script(
        move |seen| {
            if seen.q("after_id").is_none() {
                listing += 1;
            }
            paged(
                &(1..=listing).map(user).collect::<Vec<_>>(),
                seen,
                1000,
                "id",
            )
        },
        vec![],
    );
    let server = Server::start(script).await;
    let err = server.client(0).fetch_snapshot().await.unwrap_err();
    let (collection, what) = problem(&err);
    assert_eq!(collection, "users");
    assert_eq!(
        what,
        &ReadProblem::Changed {
            attempts: READ_ATTEMPTS
        }
    );
    let reads = usize::try_from(READ_ATTEMPTS).unwrap();
    assert_eq!(requests_to(&server, USERS), 2 * reads);
    assert_eq!(requests_to(&server, "/v1/organizations/me"), reads);
    assert!(
        err.to_string()
            .contains("changed while the organization was being read"),
        "{err}"
    );
}

/// A workspace created during the read is caught by the second listing too.
#[tokio::test]
async fn workspace_added_mid_read_is_read_again() {
    let mut listings = 0;
    let server = Server::start(move |seen| match seen.path.as_str() {
        "/v1/organizations/me" => org(),
        "/v1/organizations/workspaces" => {
            listings += 1;
            let mut all = vec![workspace("wrkspc_1", "W")];
            if listings > 1 {
                all.push(workspace("wrkspc_2", "New"));
            }
            page(all, false)
        }
        _ => page(vec![], false),
    })
    .await;
    let snapshot = server.client(0).fetch_snapshot().await.unwrap();
    assert_eq!(snapshot.workspaces.len(), 2);
    assert_eq!(
        requests_to(&server, "/v1/organizations/workspaces/wrkspc_2/members"),
        1
    );
}
