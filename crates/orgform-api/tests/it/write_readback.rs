//! Writes against a server that performs them and then answers with a retryable error: the
//! client reads back before any resend, so each write is sent exactly once and its effect is
//! confirmed by the read-back.

use std::sync::{Arc, Mutex};

use axum::http::Method;
use orgform_model::{OrgRole, WorkspaceRole};
use serde_json::{Value, json};

use crate::support::server;

use server::{Action, Server, error, invite, member, page, paged};

/// Every retryable answer a server may give after performing a write.
const AFTER_APPLY: [(u16, &str); 8] = [
    (408, "timeout_error"),
    (409, "conflict_error"),
    (429, "rate_limit_error"),
    (500, "api_error"),
    (502, "api_error"),
    (503, "api_error"),
    (504, "api_error"),
    (529, "overloaded_error"),
];

fn count(server: &Server, method: &Method) -> usize {
    server.log().iter().filter(|s| s.method == method).count()
}

#[tokio::test]
async fn create_invite_applied_then_refused_is_sent_once() {
    for (status, kind) in AFTER_APPLY {
        let store: Arc<Mutex<Vec<Value>>> = Arc::default();
        let s = store.clone();
        let server = Server::start(move |seen| {
            if seen.method == Method::POST {
                let body: Value = serde_json::from_slice(&seen.body).unwrap();
                let id = format!("invite_{}", s.lock().unwrap().len() + 1);
                s.lock()
                    .unwrap()
                    .push(invite(&id, body["email"].as_str().unwrap()));
                error(status, kind)
            } else {
                page(s.lock().unwrap().clone(), false)
            }
        })
        .await;
        let written = server
            .client(2)
            .create_invite("new@x.example", &OrgRole::Developer)
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert!(written.confirmed_by_read, "{status}");
        assert_eq!(written.value.id, "invite_1", "{status}");
        assert_eq!(count(&server, &Method::POST), 1, "{status}");
        assert_eq!(
            store.lock().unwrap().len(),
            1,
            "{status}: one pending invite"
        );
    }
}

/// The same for a removal: one DELETE, the absence confirmed by reading back.
#[tokio::test]
async fn delete_user_applied_then_refused_is_sent_once() {
    for (status, kind) in AFTER_APPLY {
        let gone = Arc::new(Mutex::new(false));
        let g = gone.clone();
        let server = Server::start(move |seen| {
            if seen.method == Method::DELETE {
                *g.lock().unwrap() = true;
                error(status, kind)
            } else if *g.lock().unwrap() {
                error(404, "not_found_error")
            } else {
                Action::Json(
                    200,
                    vec![],
                    json!({"type": "user", "id": "user_1", "email": "a@x.example",
                           "name": "A", "role": "user", "added_at": "2026-01-01T00:00:00Z"}),
                )
            }
        })
        .await;
        let written = server
            .client(2)
            .delete_user("user_1")
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert!(written.confirmed_by_read, "{status}");
        assert_eq!(count(&server, &Method::DELETE), 1, "{status}");
    }
}

/// A member grant performed, then answered 429: confirmed through the member list.
#[tokio::test]
async fn add_member_applied_then_rate_limited_is_sent_once() {
    let added = Arc::new(Mutex::new(false));
    let a = added.clone();
    let server = Server::start(move |seen| {
        if seen.method == Method::POST {
            *a.lock().unwrap() = true;
            error(429, "rate_limit_error")
        } else if *a.lock().unwrap() {
            paged(&[member("wrkspc_1", "user_1")], seen, 1000, "user_id")
        } else {
            page(vec![], false)
        }
    })
    .await;
    let written = server
        .client(2)
        .add_workspace_member("wrkspc_1", "user_1", &WorkspaceRole::WorkspaceDeveloper)
        .await
        .unwrap();
    assert!(written.confirmed_by_read);
    assert_eq!(count(&server, &Method::POST), 1);
}

/// A connection broken after the write was applied: read back, not resent.
#[tokio::test]
async fn broken_connection_after_apply_is_sent_once() {
    let store: Arc<Mutex<Vec<Value>>> = Arc::default();
    let s = store.clone();
    let server = Server::start(move |seen| {
        if seen.method == Method::POST {
            s.lock().unwrap().push(invite("invite_1", "b@x.example"));
            Action::BrokenBody
        } else {
            page(s.lock().unwrap().clone(), false)
        }
    })
    .await;
    let written = server
        .client(2)
        .create_invite("b@x.example", &OrgRole::Developer)
        .await
        .unwrap();
    assert!(written.confirmed_by_read);
    assert_eq!(count(&server, &Method::POST), 1);
}
