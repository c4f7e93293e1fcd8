//! A tiny scripted Admin API server for the client's tests: each request is logged and
//! answered by a closure, so a test can play a hostile or failing server.

#![allow(
    dead_code,
    reason = "orgform's read_integrity tests include this file too and use a part of it"
)]

use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use orgform_api::{AdminKey, Backoff, Client, ClientConfig};
use serde_json::{Value, json};

pub const KEY: &str = "sk-ant-admin01-scripted-CANARY-0000";

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub enum Action {
    Json(u16, Vec<(&'static str, String)>, Value),
    /// Never answers within the client's timeout.
    Hang,
    /// Starts a 200 response whose body then breaks off.
    BrokenBody,
}

pub type Script = Box<dyn FnMut(&Seen) -> Action + Send>;

pub struct Shared {
    pub script: Mutex<Script>,
    pub log: Mutex<Vec<Seen>>,
    /// Delay before every answer.
    pub delay: Mutex<Duration>,
    pub in_flight: std::sync::atomic::AtomicUsize,
    pub peak: std::sync::atomic::AtomicUsize,
}

pub async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let seen = Seen {
        method,
        path: uri.path().to_owned(),
        query,
        headers,
        body: body.to_vec(),
    };
    shared.log.lock().unwrap().push(seen.clone());
    let now = shared.in_flight.fetch_add(1, SeqCst) + 1;
    shared.peak.fetch_max(now, SeqCst);
    let delay = *shared.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    shared.in_flight.fetch_sub(1, SeqCst);
    let action = (shared.script.lock().unwrap())(&seen);
    match action {
        Action::Json(status, headers, body) => {
            let mut resp = (
                StatusCode::from_u16(status).unwrap(),
                [("request-id", "req_scripted")],
                axum::Json(body),
            )
                .into_response();
            for (k, v) in headers {
                resp.headers_mut().insert(k, v.parse().unwrap());
            }
            resp
        }
        Action::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Action::BrokenBody => {
            let stream = futures::stream::iter(vec![
                Ok::<_, std::io::Error>(Bytes::from_static(b"{\"id\":")),
                Err(std::io::Error::other("connection dropped")),
            ]);
            Response::new(Body::from_stream(stream))
        }
    }
}

pub struct Server {
    pub shared: Arc<Shared>,
    pub url: String,
}

impl Server {
    pub async fn start(script: impl FnMut(&Seen) -> Action + Send + 'static) -> Self {
        let shared = Arc::new(Shared {
            script: Mutex::new(Box::new(script)),
            log: Mutex::new(Vec::new()),
            delay: Mutex::new(Duration::ZERO),
            in_flight: 0.into(),
            peak: 0.into(),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { shared, url }
    }

    pub fn log(&self) -> Vec<Seen> {
        self.shared.log.lock().unwrap().clone()
    }

    pub fn client(&self, max_retries: u32) -> Client {
        Client::new(
            ClientConfig {
                base_url: self.url.clone(),
                timeout: Duration::from_millis(400),
                max_retries,
                backoff: Backoff {
                    initial: Duration::from_millis(5),
                    max: Duration::from_millis(20),
                },
                rate_limit: None,
                ..ClientConfig::default()
            },
            AdminKey::new(KEY).unwrap(),
        )
        .unwrap()
    }
}

impl Server {
    /// A client whose credential is an OAuth bearer token (the only one the identity
    /// endpoints serve).
    pub fn bearer_client(&self, max_retries: u32) -> Client {
        Client::new(
            ClientConfig {
                base_url: self.url.clone(),
                timeout: Duration::from_millis(400),
                max_retries,
                backoff: Backoff {
                    initial: Duration::from_millis(5),
                    max: Duration::from_millis(20),
                },
                rate_limit: None,
                ..ClientConfig::default()
            },
            AdminKey::bearer(TOKEN).unwrap(),
        )
        .unwrap()
    }
}

/// The bearer token of [`Server::bearer_client`].
pub const TOKEN: &str = "oauth-scripted-CANARY-TOKEN-0000";

pub fn error(status: u16, kind: &str) -> Action {
    Action::Json(
        status,
        vec![],
        json!({"type": "error", "error": {"type": kind, "message": "scripted"}, "request_id": "req_scripted"}),
    )
}

pub fn org() -> Action {
    Action::Json(
        200,
        vec![],
        json!({"type": "organization", "id": "org-uuid", "name": "Org"}),
    )
}

pub fn invite(id: &str, email: &str) -> Value {
    json!({"type": "invite", "id": id, "email": email, "role": "developer", "status": "pending",
           "invited_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-22T00:00:00Z",
           "accepted_at": null, "rbac_group_ids": []})
}

pub fn user(n: usize) -> Value {
    json!({"type": "user", "id": format!("user_{n:05}"), "email": format!("u{n}@x.example"),
           "name": "U", "role": "user", "added_at": "2026-01-01T00:00:00Z"})
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "call sites build the vector inline"
)]
pub fn page(data: Vec<Value>, has_more: bool) -> Action {
    let first = data
        .first()
        .and_then(|v| v["id"].as_str())
        .map(str::to_owned);
    let last = data
        .last()
        .and_then(|v| v["id"].as_str())
        .map(str::to_owned);
    Action::Json(
        200,
        vec![],
        json!({"data": data, "first_id": first, "last_id": last, "has_more": has_more}),
    )
}

pub fn workspace(id: &str, name: &str) -> Value {
    json!({"type": "workspace", "id": id, "name": name, "created_at": "2026-01-01T00:00:00Z",
           "archived_at": null, "display_color": "#6C5BB9"})
}

/// A workspace member list item.
pub fn member(workspace_id: &str, user_id: &str) -> Value {
    json!({"type": "workspace_member", "workspace_id": workspace_id, "user_id": user_id,
           "workspace_role": "workspace_developer"})
}

/// `all` served `per_page` at a time, following `after_id` on `id_field`.
pub fn paged(all: &[Value], seen: &Seen, per_page: usize, id_field: &str) -> Action {
    let start = seen.q("after_id").map_or(0, |after| {
        all.iter().position(|v| v[id_field] == after).unwrap() + 1
    });
    let end = (start + per_page).min(all.len());
    let data = all[start..end].to_vec();
    let id = |v: Option<&Value>| v.map(|v| v[id_field].clone());
    Action::Json(
        200,
        vec![],
        json!({"data": data, "first_id": id(data.first()), "last_id": id(data.last()),
               "has_more": end < all.len()}),
    )
}
