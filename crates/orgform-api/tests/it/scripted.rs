//! The client against a tiny scripted HTTP server: retries, pagination guards, headers,
//! redirects and writes whose response is lost.

use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::Method;
use orgform_api::{
    AdminKey, ApiError, Backoff, Client, ClientConfig, InviteFilter, ReadProblem, UserFilter,
};
use orgform_model::OrgRole;
use serde_json::{Value, json};

use crate::support::spec;

use crate::support::log_capture;

use crate::support::server;

use server::{Action, KEY, Seen, Server, error, invite, org, page, user, workspace};

#[tokio::test]
async fn every_request_carries_version_and_sensitive_key_and_beta() {
    let server = Server::start(|_| org()).await;
    let me = server.client(0).me().await.unwrap();
    assert_eq!(me.id, "org-uuid");
    let log = server.log();
    assert_eq!(log.len(), 1);
    let h = &log[0].headers;
    assert_eq!(h["anthropic-version"], "2023-06-01");
    assert_eq!(h["x-api-key"], KEY);
    assert_eq!(log[0].path, "/v1/organizations/me");
    assert_eq!(log[0].q("beta"), Some("true"));
}

#[tokio::test]
async fn retries_429_honouring_retry_after_ms_then_succeeds() {
    let mut calls = 0;
    let server = Server::start(move |_| {
        calls += 1;
        if calls < 3 {
            Action::Json(
                429,
                vec![("retry-after-ms", "20".into())],
                json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}),
            )
        } else {
            org()
        }
    })
    .await;
    let started = std::time::Instant::now();
    server.client(2).me().await.unwrap();
    assert_eq!(server.log().len(), 3);
    assert!(started.elapsed() >= Duration::from_millis(40));
}

#[tokio::test]
async fn x_should_retry_false_stops_retries() {
    let server = Server::start(|_| {
        Action::Json(
            500,
            vec![("x-should-retry", "false".into())],
            json!({"type": "error", "error": {"type": "api_error", "message": "deterministic"}}),
        )
    })
    .await;
    let err = server.client(5).me().await.unwrap_err();
    assert_eq!(server.log().len(), 1);
    assert_eq!(err.status(), Some(500));
    assert!(err.to_string().contains("req_scripted"), "{err}");
}

#[tokio::test]
async fn overloaded_retries_until_budget_exhausted() {
    let server = Server::start(|_| error(529, "overloaded_error")).await;
    let err = server.client(3).me().await.unwrap_err();
    assert_eq!(server.log().len(), 4, "one attempt plus three retries");
    assert!(matches!(err, ApiError::Api { status: 529, .. }));
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for (status, kind) in [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (404, "not_found_error"),
    ] {
        let server = Server::start(move |_| error(status, kind)).await;
        let err = server.client(3).me().await.unwrap_err();
        assert_eq!(server.log().len(), 1, "{status}");
        match err {
            ApiError::Api {
                error_type,
                request_id,
                ..
            } => {
                assert_eq!(error_type, kind);
                assert_eq!(request_id.as_deref(), Some("req_scripted"));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn timeouts_are_retried_for_reads() {
    let mut calls = 0;
    let server = Server::start(move |_| {
        calls += 1;
        if calls == 1 { Action::Hang } else { org() }
    })
    .await;
    server.client(1).me().await.unwrap();
    assert_eq!(server.log().len(), 2);
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::new(
        ClientConfig {
            base_url: url,
            max_retries: 1,
            backoff: Backoff {
                initial: Duration::from_millis(1),
                max: Duration::from_millis(1),
            },
            rate_limit: None,
            ..ClientConfig::default()
        },
        AdminKey::new(KEY).unwrap(),
    )
    .unwrap();
    let err = client.me().await.unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Transport {
                maybe_sent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("CANARY"));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = Server::start(|_| {
        Action::Json(
            302,
            vec![("location", "http://127.0.0.1:9/elsewhere".into())],
            json!({}),
        )
    })
    .await;
    let err = server.client(2).me().await.unwrap_err();
    assert_eq!(err.status(), Some(302));
    assert_eq!(server.log().len(), 1);
}

#[tokio::test]
async fn pagination_follows_last_id_with_limit_1000() {
    let users: Vec<Value> = (0..2500).map(user).collect();
    let all = users.clone();
    let server = Server::start(move |seen| {
        assert_eq!(seen.q("limit"), Some("1000"));
        let start = match seen.q("after_id") {
            None => 0,
            Some(after) => all.iter().position(|u| u["id"] == after).unwrap() + 1,
        };
        let end = (start + 1000).min(all.len());
        page(all[start..end].to_vec(), end < all.len())
    })
    .await;
    let got = server
        .client(0)
        .list_users(&UserFilter::default())
        .await
        .unwrap();
    assert_eq!(got.len(), 2500);
    assert_eq!(server.log().len(), 3);
    assert_eq!(server.log()[2].q("after_id"), Some("user_01999"));
}

#[tokio::test]
async fn repeated_cursor_is_an_error_not_a_loop() {
    let server = Server::start(|_| page(vec![user(1), user(2)], true)).await;
    let err = server
        .client(0)
        .list_users(&UserFilter::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::InconsistentRead {
                problem: ReadProblem::RepeatedCursor { page: 2, .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.log().len(), 2);
}

#[tokio::test]
async fn empty_page_with_has_more_is_an_error() {
    let server = Server::start(|_| page(vec![], true)).await;
    let err = server
        .client(0)
        .list_users(&UserFilter::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::InconsistentRead {
                problem: ReadProblem::EmptyPageWithMore { page: 1 },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.log().len(), 1);
}

#[tokio::test]
async fn query_arrays_use_brackets() {
    let server = Server::start(|_| page(vec![], false)).await;
    server
        .client(0)
        .list_invites(&InviteFilter {
            email: Some("a@x.example".into()),
            roles: vec![OrgRole::Developer, OrgRole::User],
            statuses: vec![orgform_model::InviteStatus::Pending],
        })
        .await
        .unwrap();
    let q = &server.log()[0].query;
    let roles: Vec<&str> = q
        .iter()
        .filter(|(k, _)| k == "roles[]")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(roles, ["developer", "user"]);
    assert!(q.iter().any(|(k, v)| k == "statuses[]" && v == "pending"));
}

/// A create-invite whose response never arrives, though the server applied it: the client
/// reads back, finds the invite and does not send the POST again.
#[tokio::test]
async fn lost_create_invite_response_is_resolved_by_reading_back() {
    let store: Arc<Mutex<Vec<Value>>> = Arc::default();
    let s = store.clone();
    let server = Server::start(
        move |seen| match (seen.method.as_str(), seen.path.as_str()) {
            ("POST", "/v1/organizations/invites") => {
                let body: Value = serde_json::from_slice(&seen.body).unwrap();
                let mut store = s.lock().unwrap();
                if store.is_empty() {
                    store.push(invite("invite_1", body["email"].as_str().unwrap()));
                    Action::Hang
                } else {
                    error(400, "invalid_request_error")
                }
            }
            ("GET", "/v1/organizations/invites") => {
                assert_eq!(seen.q("statuses[]"), Some("pending"));
                page(s.lock().unwrap().clone(), false)
            }
            _ => error(404, "not_found_error"),
        },
    )
    .await;
    let written = server
        .client(2)
        .create_invite("New@X.example", &OrgRole::Developer)
        .await
        .unwrap();
    assert!(written.confirmed_by_read);
    assert_eq!(written.value.id, "invite_1");
    let posts = server
        .log()
        .iter()
        .filter(|s| s.method == Method::POST)
        .count();
    assert_eq!(posts, 1);
    assert_eq!(store.lock().unwrap().len(), 1);
}

/// The first attempt broke off before the server applied it: the read-back finds nothing
/// and the write is sent again.
#[tokio::test]
async fn unapplied_write_is_retried_after_read_back() {
    let mut posts = 0;
    let server = Server::start(move |seen| match seen.method.as_str() {
        "POST" => {
            posts += 1;
            if posts == 1 {
                Action::BrokenBody
            } else {
                Action::Json(200, vec![], invite("invite_2", "n@x.example"))
            }
        }
        _ => page(vec![], false),
    })
    .await;
    let written = server
        .client(2)
        .create_invite("n@x.example", &OrgRole::Developer)
        .await
        .unwrap();
    assert!(!written.confirmed_by_read);
    assert_eq!(written.request_id.as_deref(), Some("req_scripted"));
    let log = server.log();
    let methods: Vec<&str> = log.iter().map(|s| s.method.as_str()).collect();
    assert_eq!(methods, ["POST", "GET", "POST"]);
}

/// The read-back missed the invite (a lagging read), the resend is refused as a duplicate:
/// the refusal after an unknown outcome is resolved by reading again.
#[tokio::test]
async fn duplicate_refusal_after_unknown_outcome_resolves_to_existing() {
    let mut gets = 0;
    let server = Server::start(move |seen| match seen.method.as_str() {
        "POST" if gets == 0 => Action::Hang,
        "POST" => error(400, "invalid_request_error"),
        _ => {
            gets += 1;
            if gets == 1 {
                page(vec![], false)
            } else {
                page(vec![invite("invite_3", "d@x.example")], false)
            }
        }
    })
    .await;
    let written = server
        .client(2)
        .create_invite("d@x.example", &OrgRole::Developer)
        .await
        .unwrap();
    assert!(written.confirmed_by_read);
    assert_eq!(written.value.id, "invite_3");
}

/// Without an unknown outcome, a 400 is the caller's answer: no read-back, no retry.
#[tokio::test]
async fn plain_refusal_is_returned_as_is() {
    let server = Server::start(|_| error(400, "invalid_request_error")).await;
    let err = server
        .client(2)
        .create_invite("d@x.example", &OrgRole::Developer)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert_eq!(server.log().len(), 1);
}

/// The write's outcome is unknown and the read-back fails too: the error says so.
#[tokio::test]
async fn failing_read_back_reports_unknown_outcome() {
    let server = Server::start(|seen| match seen.method.as_str() {
        "POST" => Action::Hang,
        _ => error(403, "permission_error"),
    })
    .await;
    let err = server
        .client(2)
        .update_user_role("user_1", &OrgRole::User)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::OutcomeUnknown { .. }), "{err:?}");
    assert!(err.to_string().contains("outcome is unknown"), "{err}");
}

/// Calls every endpoint once and checks each recorded request against the official spec:
/// operation, query parameter names and body schema.
#[tokio::test]
async fn every_request_matches_the_official_spec() {
    use orgform_api::{
        ApiKeyFilter, CreateWorkspace, DataResidencyCreate, DataResidencyUpdate, UpdateApiKey,
        UpdateWorkspace,
    };
    use orgform_model::{AllowedGeos, ApiKeyStatus, InviteStatus, WorkspaceRole};

    let server = Server::start(|seen| match seen.method.as_str() {
        "GET" => page(vec![], false),
        _ => error(400, "invalid_request_error"),
    })
    .await;
    let c = server.client(0);
    let _ = c.me().await;
    let _ = c
        .list_users(&UserFilter {
            email: Some("a@x.example".into()),
            roles: vec![OrgRole::Developer, OrgRole::Admin],
        })
        .await;
    let _ = c.get_user("user_1").await;
    let _ = c.update_user_role("user_1", &OrgRole::ClaudeCodeUser).await;
    let _ = c.delete_user("user_1").await;
    let _ = c
        .list_invites(&InviteFilter {
            email: Some("a@x.example".into()),
            roles: vec![OrgRole::User],
            statuses: vec![InviteStatus::Pending, InviteStatus::Expired],
        })
        .await;
    let _ = c.get_invite("invite_1").await;
    let _ = c.create_invite("a@x.example", &OrgRole::Billing).await;
    let _ = c.delete_invite("invite_1").await;
    let _ = c.list_workspaces(true).await;
    let _ = c.get_workspace("wrkspc_1").await;
    let _ = c
        .create_workspace(&CreateWorkspace {
            name: "Research".into(),
            display_color: Some("#6C5BB9".into()),
            data_residency: Some(DataResidencyCreate {
                workspace_geo: Some("us".into()),
                allowed_inference_geos: Some(AllowedGeos::List(vec!["us".into()])),
                default_inference_geo: Some("us".into()),
            }),
            tags: Some([("team".to_owned(), "core".to_owned())].into()),
        })
        .await;
    let _ = c
        .update_workspace(
            "wrkspc_1",
            &UpdateWorkspace {
                name: Some("Renamed".into()),
                display_color: Some("#000000".into()),
                data_residency: Some(DataResidencyUpdate {
                    allowed_inference_geos: Some(AllowedGeos::UNRESTRICTED),
                    default_inference_geo: Some("global".into()),
                }),
                tags: Some([("team".to_owned(), None)].into()),
            },
        )
        .await;
    let _ = c.archive_workspace("wrkspc_1").await;
    let _ = c.list_workspace_members("wrkspc_1").await;
    let _ = c.get_workspace_member("wrkspc_1", "user_1").await;
    let _ = c
        .add_workspace_member(
            "wrkspc_1",
            "user_1",
            &WorkspaceRole::WorkspaceRestrictedDeveloper,
        )
        .await;
    let _ = c
        .update_workspace_member("wrkspc_1", "user_1", &WorkspaceRole::WorkspaceAdmin)
        .await;
    let _ = c.remove_workspace_member("wrkspc_1", "user_1").await;
    let _ = c
        .list_api_keys(&ApiKeyFilter {
            status: Some(ApiKeyStatus::Active),
            workspace_id: Some("wrkspc_1".into()),
            created_by_user_id: Some("user_1".into()),
        })
        .await;
    let _ = c.get_api_key("apikey_1").await;
    let _ = c
        .update_api_key(
            "apikey_1",
            &UpdateApiKey {
                name: Some("renamed".into()),
                status: Some(ApiKeyStatus::Inactive),
            },
        )
        .await;

    let mut covered = std::collections::BTreeSet::new();
    for seen in server.log() {
        let names: Vec<String> = seen.query.iter().map(|(k, _)| k.clone()).collect();
        let body: Option<Value> =
            (!seen.body.is_empty()).then(|| serde_json::from_slice(&seen.body).unwrap());
        if body.is_some() {
            assert_eq!(seen.headers["content-type"], "application/json");
        }
        covered.insert(
            spec::check_request(seen.method.as_str(), &seen.path, &names, body.as_ref())
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    assert_eq!(covered.len(), 22, "{covered:#?}");
}

/// A canary key never shows in logs (every target, trace level), errors or Debug output.
#[tokio::test]
async fn canary_key_never_leaks() {
    let buf = log_capture::install();

    let mut calls = 0;
    let server = Server::start(move |seen| {
        calls += 1;
        match (calls, seen.method.as_str()) {
            (1, _) => error(529, "overloaded_error"),
            (2, _) => org(),
            (_, "POST") => Action::Hang,
            _ => error(401, "authentication_error"),
        }
    })
    .await;
    let client = server.client(1);
    let mut outputs = vec![format!("{client:?}")];
    outputs.push(format!("{:?}", client.me().await.unwrap()));
    let err = client
        .create_invite("a@x.example", &OrgRole::User)
        .await
        .unwrap_err();
    outputs.push(format!("{err} {err:?}"));
    let err = client.fetch_snapshot().await.unwrap_err();
    outputs.push(format!("{err} {err:?}"));
    let key = AdminKey::new(KEY).unwrap();
    outputs.push(format!("{key} {key:?} {key:#?}"));
    let logs = buf.text();
    assert!(
        logs.contains("admin_api_request"),
        "request spans are logged: {logs}"
    );
    assert!(logs.contains("retrying"), "{logs}");
    assert!(
        logs.contains("status=529") && logs.contains("request_id=\"req_scripted\""),
        "spans record status and request id: {logs}"
    );
    for text in outputs.iter().chain([&logs]) {
        assert!(!text.contains("CANARY"), "key leaked: {text}");
    }
}

/// A same-name workspace that existed before is never taken for the one being created: the
/// lost first attempt did not apply, so the POST is sent again.
#[tokio::test]
async fn create_workspace_does_not_mistake_an_existing_same_name_workspace() {
    let store = Arc::new(Mutex::new(vec![workspace("wrkspc_old", "Research")]));
    let s = store.clone();
    let mut posts = 0;
    let server = Server::start(move |seen| match seen.method.as_str() {
        "POST" => {
            posts += 1;
            if posts == 1 {
                Action::Hang
            } else {
                let w = workspace("wrkspc_new", "Research");
                s.lock().unwrap().push(w.clone());
                Action::Json(200, vec![], w)
            }
        }
        _ => page(s.lock().unwrap().clone(), false),
    })
    .await;
    let written = server
        .client(2)
        .create_workspace(&orgform_api::CreateWorkspace {
            name: "Research".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(written.value.id, "wrkspc_new");
    assert!(!written.confirmed_by_read);
    let methods: Vec<String> = server.log().iter().map(|s| s.method.to_string()).collect();
    assert_eq!(methods, ["GET", "POST", "GET", "POST"]);
}

/// The lost create did apply: the new same-name workspace is found and not created twice.
#[tokio::test]
async fn create_workspace_lost_response_finds_the_new_one() {
    let store = Arc::new(Mutex::new(vec![workspace("wrkspc_old", "Research")]));
    let s = store.clone();
    let server = Server::start(move |seen| {
        if seen.method == Method::POST {
            s.lock().unwrap().push(workspace("wrkspc_new", "Research"));
            Action::Hang
        } else {
            assert_ne!(seen.q("include_archived"), Some("true"));
            page(s.lock().unwrap().clone(), false)
        }
    })
    .await;
    let written = server
        .client(2)
        .create_workspace(&orgform_api::CreateWorkspace {
            name: "Research".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(written.value.id, "wrkspc_new");
    assert!(written.confirmed_by_read);
    assert_eq!(store.lock().unwrap().len(), 2);
}

/// Member writes are verified through the list, never the (possibly stale) member GET.
#[tokio::test]
async fn member_writes_verify_through_the_list() {
    let server = Server::start(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("POST", _) => Action::Hang,
        ("GET", "/v1/organizations/workspaces/wrkspc_1/members") => page(
            vec![json!({"type": "workspace_member", "workspace_id": "wrkspc_1",
                        "user_id": "user_1", "workspace_role": "workspace_developer", "id": "user_1"})],
            false,
        ),
        _ => error(404, "not_found_error"),
    })
    .await;
    let written = server
        .client(2)
        .update_workspace_member(
            "wrkspc_1",
            "user_1",
            &orgform_model::WorkspaceRole::WorkspaceDeveloper,
        )
        .await
        .unwrap();
    assert!(written.confirmed_by_read);
    assert!(server.log().iter().all(|s| s.path
        != "/v1/organizations/workspaces/wrkspc_1/members/user_1"
        || s.method == Method::POST));
}

/// The client-side limiter spaces requests: 10 per second with a burst of 1 means four
/// requests take at least 300 ms.
#[tokio::test]
async fn rate_limiter_spaces_requests() {
    let server = Server::start(|_| org()).await;
    let client = Client::new(
        ClientConfig {
            base_url: server.url.clone(),
            rate_limit: Some(orgform_api::RateLimit {
                per_minute: 600,
                burst: 1,
            }),
            ..ClientConfig::default()
        },
        AdminKey::new(KEY).unwrap(),
    )
    .unwrap();
    let started = std::time::Instant::now();
    for _ in 0..4 {
        client.me().await.unwrap();
    }
    assert!(
        started.elapsed() >= Duration::from_millis(290),
        "{:?}",
        started.elapsed()
    );
}

fn snapshot_server(
    workspaces: usize,
    failing: Option<&'static str>,
) -> impl FnMut(&Seen) -> Action + Send + 'static {
    move |seen| {
        if let Some(f) = failing
            && seen.path.contains(f)
        {
            return error(500, "api_error");
        }
        match seen.path.as_str() {
            "/v1/organizations/me" => org(),
            "/v1/organizations/workspaces" => page(
                (0..workspaces)
                    .map(|i| workspace(&format!("wrkspc_{i:03}"), "W"))
                    .collect(),
                false,
            ),
            "/v1/organizations/users" => page(vec![user(1)], false),
            _ => page(vec![], false),
        }
    }
}

/// Any member list that finally fails fails the whole snapshot.
#[tokio::test]
async fn snapshot_fails_whole_when_one_workspace_fails() {
    let server = Server::start(snapshot_server(5, Some("wrkspc_003/members"))).await;
    let err = server.client(1).fetch_snapshot().await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(err.to_string().contains("wrkspc_003"), "{err}");
}

/// Requests in flight never exceed the configured concurrency, and do run concurrently.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn snapshot_concurrency_is_bounded() {
    let server = Server::start(snapshot_server(12, None)).await;
    *server.shared.delay.lock().unwrap() = Duration::from_millis(30);
    let client = Client::new(
        ClientConfig {
            base_url: server.url.clone(),
            concurrency: 3,
            rate_limit: None,
            ..ClientConfig::default()
        },
        AdminKey::new(KEY).unwrap(),
    )
    .unwrap();
    let snapshot = client.fetch_snapshot().await.unwrap();
    assert_eq!(snapshot.workspaces.len(), 12);
    assert_eq!(snapshot.users.len(), 1);
    // me, users, invites, workspaces, 12 member lists, keys; then users and workspaces
    // again to see that nothing changed during the read.
    assert_eq!(server.log().len(), 1 + 1 + 1 + 1 + 12 + 1 + 2);
    let peak = server.shared.peak.load(SeqCst);
    assert!((2..=3).contains(&peak), "peak {peak}");
}

/// A 2xx whose body cannot be decoded: the write happened, so it is not resent; the object
/// comes from reading back.
#[tokio::test]
async fn unreadable_success_is_resolved_by_reading_back_not_resending() {
    let server = Server::start(|seen| {
        if seen.method == Method::POST {
            Action::Json(200, vec![], json!({"unexpected": true}))
        } else {
            page(vec![invite("invite_9", "u@x.example")], false)
        }
    })
    .await;
    let written = server
        .client(2)
        .create_invite("u@x.example", &OrgRole::Developer)
        .await
        .unwrap();
    assert!(written.confirmed_by_read);
    assert_eq!(written.value.id, "invite_9");
    assert_eq!(written.request_id.as_deref(), Some("req_scripted"));
    let posts = server
        .log()
        .iter()
        .filter(|s| s.method == Method::POST)
        .count();
    assert_eq!(posts, 1);
}

/// Every retryable answer to a write may hide an applied request: read back before
/// resending, and resend when the read-back finds nothing.
#[tokio::test]
async fn every_retryable_write_failure_triggers_a_read_back() {
    for (status, kind) in [
        (408, "timeout_error"),
        (409, "conflict_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (502, "api_error"),
        (529, "overloaded_error"),
    ] {
        let mut posts = 0;
        let server = Server::start(move |seen| {
            if seen.method == Method::POST {
                posts += 1;
                if posts == 1 {
                    error(status, kind)
                } else {
                    Action::Json(200, vec![], invite("invite_5", "r@x.example"))
                }
            } else {
                page(vec![], false)
            }
        })
        .await;
        let written = server
            .client(2)
            .create_invite("r@x.example", &OrgRole::Developer)
            .await
            .unwrap();
        assert!(!written.confirmed_by_read);
        let methods: Vec<String> = server.log().iter().map(|s| s.method.to_string()).collect();
        assert_eq!(methods, ["POST", "GET", "POST"], "{status}");
    }
}
