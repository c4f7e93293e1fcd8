//! The HTTP side: connection handling, the per-request pipeline, and routing.
//!
//! Connections are served with hyper directly (not `axum::serve`) so that a fault can close
//! one connection without a response: each connection gets a kill switch in its request
//! extensions, and dropping the connection future closes the socket mid-exchange.
//!
//! Pipeline of every Admin API request, in order: request id; fault draw (scripted first,
//! then random); configured latency; pre-apply faults (429/500/529/409, drop before apply);
//! authentication; `anthropic-version`; rate limits; the handler; drop after apply; headers
//! (`request-id`, `anthropic-organization-id` once authenticated, never
//! `anthropic-workspace-id`) and the error body with its `request_id`; the request log.
//!
//! Authentication comes before the version check. Credentials: `x-api-key` equal to the admin
//! key, `Authorization: Bearer <token>` with one of the configured OAuth tokens
//! ([`crate::EmulatorConfig::bearer_tokens`]), or `Authorization: Bearer <admin key>` standing
//! in for an `org:admin` OAuth token ([`crate::Options::accept_bearer`]).
//! The service-account and federation endpoint families ([`bearer_only`]) accept only a
//! bearer credential: an admin key sent as `x-api-key` is refused there after
//! authentication, with 403 or 401 per [`crate::Readings::identity_admin_key`].
//! A workspace key (`sk-ant-api...`) is refused with 401 or 403 per
//! [`crate::Readings::workspace_key`]; anything else gets 401 `invalid x-api-key`.
//!
//! Every response, test-control routes included, carries `date` from the emulator clock
//! (RFC 7231 format). With [`crate::readings::RateLimitHeaders::Present`], every
//! authenticated Admin API response also carries `anthropic-ratelimit-requests-limit`,
//! `-remaining` and `-reset` (RFC 3339, emulator clock) of the budget it counted against.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::error::ApiError;
use crate::faults::Fault;
use crate::ratelimit::{Allowance, Budget, retry_after_secs};
use crate::readings::{IdentityAdminKey, RateLimitHeaders, WrongMethod};
use crate::state::fmt_ts;
use crate::{LoggedRequest, Shared, WorkspaceKeyRefusal, api, controls};

/// The per-connection kill switch.
#[derive(Clone, Debug)]
pub(crate) struct ConnKill(pub(crate) Arc<Notify>);

/// Accepts connections until `stop` flips.
pub(crate) async fn serve(listener: TcpListener, app: Router, mut stop: watch::Receiver<bool>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                conns.spawn(async move {
                    let kill = Arc::new(Notify::new());
                    let kill2 = kill.clone();
                    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(ConnKill(kill2.clone()));
                        let mut app = app.clone();
                        async move {
                            tower_service::Service::call(&mut app, req.map(Body::new)).await
                        }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
                    tokio::select! {
                        _ = conn => {}
                        () = kill.notified() => {}
                    }
                });
                while conns.try_join_next().is_some() {}
            }
        }
    }
    conns.abort_all();
}

/// The whole application router.
pub(crate) fn router(shared: &Arc<Shared>) -> Router {
    let not_found = || async { ApiError::not_found("Not found") };
    let api = Router::new()
        .route("/v1/organizations/me", get(api::me))
        .route("/v1/organizations/users", get(api::list_users))
        .route(
            "/v1/organizations/users/{user_id}",
            get(api::get_user)
                .post(api::update_user)
                .delete(api::delete_user),
        )
        .route(
            "/v1/organizations/invites",
            get(api::list_invites).post(api::create_invite),
        )
        .route(
            "/v1/organizations/invites/{invite_id}",
            get(api::get_invite).delete(api::delete_invite),
        )
        .route(
            "/v1/organizations/workspaces",
            get(api::list_workspaces).post(api::create_workspace),
        )
        .route(
            "/v1/organizations/workspaces/{workspace_id}",
            get(api::get_workspace).post(api::update_workspace),
        )
        .route(
            "/v1/organizations/workspaces/{workspace_id}/archive",
            post(api::archive_workspace),
        )
        .route(
            "/v1/organizations/workspaces/{workspace_id}/members",
            get(api::list_members).post(api::create_member),
        )
        .route(
            "/v1/organizations/workspaces/{workspace_id}/members/{user_id}",
            get(api::get_member)
                .post(api::update_member)
                .delete(api::delete_member),
        )
        .route(
            "/v1/organizations/workspaces/{workspace_id}/service_accounts",
            get(api::list_workspace_service_accounts).post(api::add_workspace_service_account),
        )
        .route(
            "/v1/organizations/workspaces/{workspace_id}/service_accounts/{service_account_id}",
            get(api::get_workspace_service_account)
                .post(api::update_workspace_service_account)
                .delete(api::remove_workspace_service_account),
        )
        .route(
            "/v1/organizations/service_accounts",
            get(api::list_service_accounts).post(api::create_service_account),
        )
        .route(
            "/v1/organizations/service_accounts/{service_account_id}",
            get(api::get_service_account).post(api::update_service_account),
        )
        .route(
            "/v1/organizations/service_accounts/{service_account_id}/archive",
            post(api::archive_service_account),
        )
        .route(
            "/v1/organizations/service_accounts/{service_account_id}/workspaces",
            get(api::list_service_account_workspaces).post(api::add_service_account_workspace),
        )
        .route(
            "/v1/organizations/service_accounts/{service_account_id}/workspaces/{workspace_id}",
            axum::routing::delete(api::remove_service_account_workspace),
        )
        .route(
            "/v1/organizations/federation_issuers",
            get(api::list_federation_issuers).post(api::create_federation_issuer),
        )
        .route(
            "/v1/organizations/federation_issuers/{federation_issuer_id}",
            get(api::get_federation_issuer).post(api::update_federation_issuer),
        )
        .route(
            "/v1/organizations/federation_issuers/{federation_issuer_id}/archive",
            post(api::archive_federation_issuer),
        )
        .route(
            "/v1/organizations/federation_rules",
            get(api::list_federation_rules).post(api::create_federation_rule),
        )
        .route(
            "/v1/organizations/federation_rules/{federation_rule_id}",
            get(api::get_federation_rule).post(api::update_federation_rule),
        )
        .route(
            "/v1/organizations/federation_rules/{federation_rule_id}/archive",
            post(api::archive_federation_rule),
        )
        .route(
            "/v1/organizations/federation_rules/{federation_rule_id}/workspaces",
            get(api::list_federation_rule_workspaces).post(api::add_federation_rule_workspace),
        )
        .route(
            "/v1/organizations/federation_rules/{federation_rule_id}/workspaces/{workspace_id}",
            axum::routing::delete(api::remove_federation_rule_workspace),
        )
        .route("/v1/organizations/api_keys", get(api::list_keys))
        .route(
            "/v1/organizations/api_keys/{api_key_id}",
            get(api::get_key).post(api::update_key),
        )
        .route("/v1/organizations/rate_limits", get(api::org_rate_limits))
        .route(
            "/v1/organizations/workspaces/{workspace_id}/rate_limits",
            get(api::workspace_rate_limits),
        )
        .route(
            "/v1/organizations/usage_report/messages",
            get(api::usage_report),
        )
        .route("/v1/compliance/activities", get(api::activities))
        .route(api::TOKEN_PATH, post(api::oauth_token))
        .fallback(not_found)
        .method_not_allowed_fallback(wrong_method)
        .layer(middleware::from_fn_with_state(shared.clone(), pipeline))
        .with_state(shared.clone());
    let app = if shared.test_controls {
        controls::router(shared).fallback_service(api)
    } else {
        api
    };
    app.layer(middleware::map_response_with_state(shared.clone(), date))
}

/// A method the path does not serve: 404 or 405 per [`crate::Readings::wrong_method`].
async fn wrong_method(AxState(shared): AxState<Arc<Shared>>, method: Method) -> ApiError {
    match shared.readings.wrong_method {
        WrongMethod::NotFound => ApiError::not_found("Not found"),
        WrongMethod::MethodNotAllowed => ApiError::other(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            format!("method {method} is not allowed on this path"),
        ),
    }
}

/// The HTTP date (RFC 7231 IMF-fixdate) of a timestamp.
pub(crate) fn http_date(ts: jiff::Timestamp) -> String {
    ts.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Sets `date` on every response from the emulator clock (not the host's).
async fn date(AxState(shared): AxState<Arc<Shared>>, mut response: Response) -> Response {
    let now = shared.core.read().now;
    if let Ok(v) = HeaderValue::from_str(&http_date(now)) {
        response.headers_mut().insert(header::DATE, v);
    }
    response
}

/// The `anthropic-ratelimit-requests-*` headers for an allowance, `reset` on the emulator
/// clock.
fn allowance_headers(a: &Allowance, now: jiff::Timestamp) -> Vec<(&'static str, String)> {
    let reset = now.saturating_add(a.reset_in).unwrap_or(now);
    vec![
        ("anthropic-ratelimit-requests-limit", a.limit.to_string()),
        (
            "anthropic-ratelimit-requests-remaining",
            a.remaining.to_string(),
        ),
        ("anthropic-ratelimit-requests-reset", fmt_ts(reset)),
    ]
}

/// How the request authenticated.
enum Auth {
    Ok(Caller),
    Refused(ApiError),
}

/// Who made an authenticated request (kept in the request's extensions for the activity
/// feed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    /// The admin key, sent as `x-api-key`.
    AdminKey,
    /// The admin key sent as `Authorization: Bearer`, standing in for an `org:admin` OAuth
    /// token ([`crate::Options::accept_bearer`]).
    AdminKeyAsBearer,
    /// The configured bearer token at this index.
    Token(usize),
    /// A token minted by the token exchange, by its minting order ([`crate::tokens`]).
    Federated(u64),
}

fn authenticate(shared: &Shared, headers: &HeaderMap) -> Auth {
    let api_key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    if api_key.is_none()
        && let Some(token) = &bearer
        && let Some(minted) = shared.tokens.lock().get(token).cloned()
    {
        // Cloned, so the token store is not locked while the clock is read (the exchange
        // takes them in the other order).
        let now = shared.core.read().now;
        return if now >= minted.expires_at {
            Auth::Refused(ApiError::other(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "OAuth access token has expired",
            ))
        } else if minted.admin {
            Auth::Ok(Caller::Federated(minted.serial))
        } else {
            Auth::Refused(ApiError::forbidden(format!(
                "the OAuth token's scope {:?} does not grant access to the Admin API (org:admin, for an admin service account, is required)",
                minted.scope
            )))
        };
    }
    if api_key.is_none()
        && let Some(token) = &bearer
        && let Some(index) = shared
            .bearer_tokens
            .iter()
            .position(|t| constant_time_eq(t.as_bytes(), token.as_bytes()))
    {
        return Auth::Ok(Caller::Token(index));
    }
    let as_bearer = api_key.is_none();
    let presented = api_key.or_else(|| bearer.filter(|_| shared.options.accept_bearer));
    match presented {
        Some(key) if constant_time_eq(key.as_bytes(), shared.admin_key.as_bytes()) => {
            Auth::Ok(if as_bearer {
                Caller::AdminKeyAsBearer
            } else {
                Caller::AdminKey
            })
        }
        Some(key) if key.starts_with("sk-ant-api") => match shared.readings.workspace_key {
            WorkspaceKeyRefusal::Unauthorized => Auth::Refused(ApiError::unauthenticated()),
            WorkspaceKeyRefusal::Forbidden => Auth::Refused(ApiError::forbidden(
                "this endpoint requires an Admin API key",
            )),
        },
        _ => Auth::Refused(ApiError::unauthenticated()),
    }
}

/// Whether `path` belongs to an endpoint family that accepts only an OAuth bearer token:
/// service accounts (`/v1/organizations/service_accounts...`), their workspace memberships
/// (`/v1/organizations/workspaces/{id}/service_accounts...`), federation issuers and
/// federation rules (`/v1/organizations/federation_issuers...`, `.../federation_rules...`).
pub(crate) fn bearer_only(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/v1/organizations/") else {
        return false;
    };
    let family = |p: &str, name: &str| {
        p.strip_prefix(name)
            .is_some_and(|tail| tail.is_empty() || tail.starts_with('/'))
    };
    if ["service_accounts", "federation_issuers", "federation_rules"]
        .iter()
        .any(|name| family(rest, name))
    {
        return true;
    }
    rest.strip_prefix("workspaces/")
        .and_then(|tail| tail.split_once('/'))
        .is_some_and(|(_, tail)| family(tail, "service_accounts"))
}

/// The refusal of an Admin API key (sent as `x-api-key`) on a [`bearer_only`] path, per
/// [`crate::Readings::identity_admin_key`]; `None` when `caller` may go on.
fn bearer_only_refusal(shared: &Shared, caller: Caller, path: &str) -> Option<ApiError> {
    if caller != Caller::AdminKey || !bearer_only(path) {
        return None;
    }
    let message = "this endpoint requires an OAuth access token with the org:admin scope; Admin API keys are not accepted";
    Some(match shared.readings.identity_admin_key {
        IdentityAdminKey::Forbidden => ApiError::forbidden(message),
        IdentityAdminKey::Unauthorized => {
            ApiError::other(StatusCode::UNAUTHORIZED, "authentication_error", message)
        }
    })
}

/// Checks the admin key of a test-control request.
pub(crate) fn control_auth(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    match authenticate(shared, headers) {
        Auth::Ok(_) => Ok(()),
        Auth::Refused(e) => Err(e),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn check_version(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get("anthropic-version") {
        None if shared.options.require_version => {
            Err(ApiError::invalid("anthropic-version: header is required"))
        }
        None => Ok(()),
        Some(v) => {
            let v = String::from_utf8_lossy(v.as_bytes());
            if v == "2023-06-01" || v == "2023-01-01" {
                Ok(())
            } else {
                Err(ApiError::invalid(format!(
                    "anthropic-version: \"{v}\" is not a valid version"
                )))
            }
        }
    }
}

fn fault_error(fault: &Fault) -> Option<(ApiError, Vec<(&'static str, String)>)> {
    match fault {
        Fault::RateLimit {
            retry_after_secs,
            retry_after_ms,
        } => {
            let mut headers = Vec::new();
            if let Some(s) = retry_after_secs {
                headers.push(("retry-after", s.to_string()));
            }
            if let Some(ms) = retry_after_ms {
                headers.push(("retry-after-ms", ms.to_string()));
            }
            Some((
                ApiError::other(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_error",
                    "Number of requests has exceeded your rate limit",
                ),
                headers,
            ))
        }
        Fault::ServerError { should_retry } => Some((
            ApiError::other(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                "Internal server error",
            ),
            should_retry
                .map(|r| vec![("x-should-retry", r.to_string())])
                .unwrap_or_default(),
        )),
        Fault::Overloaded => Some((
            ApiError::other(
                StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                "overloaded_error",
                "Overloaded",
            ),
            Vec::new(),
        )),
        Fault::Conflict => Some((
            ApiError::other(
                StatusCode::CONFLICT,
                "conflict_error",
                "The request conflicts with a concurrent modification",
            ),
            Vec::new(),
        )),
        Fault::DropBeforeApply | Fault::DropAfterApply | Fault::Latency { .. } => None,
    }
}

/// The per-request pipeline (see the module docs).
async fn pipeline(AxState(shared): AxState<Arc<Shared>>, req: Request, next: Next) -> Response {
    let request_id = shared.req_ids.next("req");
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let kill = parts.extensions.get::<ConnKill>().cloned();
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut served_to: Option<Caller> = None;
    let (bytes, too_large) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => (b, false),
        Err(_) => (Bytes::new(), true),
    };
    let exchange = path == api::TOKEN_PATH;
    let mut entry = LoggedRequest {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        body: serde_json::from_slice(&bytes).ok().map(|mut body| {
            // The identity token of an exchange is a credential: never logged.
            if exchange
                && let serde_json::Value::Object(map) = &mut body
                && map.contains_key("assertion")
            {
                map.insert("assertion".to_owned(), "[redacted]".into());
            }
            body
        }),
        status: None,
        request_id: request_id.clone(),
        fault: None,
    };

    let fault = shared.faults.lock().draw(method.as_str(), &path);
    entry.fault.clone_from(&fault);
    let mut delay = shared.faults.lock().config.latency;
    if let Some(Fault::Latency { ms }) = &fault {
        delay += std::time::Duration::from_millis(*ms);
    }
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }

    let mut authed = false;
    let mut extra_headers = Vec::new();
    let mut response = 'resp: {
        if let Some(f) = &fault {
            if let Some((err, headers)) = fault_error(f) {
                extra_headers = headers;
                break 'resp err.into_response();
            }
            if *f == Fault::DropBeforeApply {
                shared.record(entry);
                return drop_connection(kill).await;
            }
        }
        if too_large {
            break 'resp ApiError::other(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_too_large",
                format!("request body exceeds the maximum size of {MAX_BODY} bytes"),
            )
            .into_response();
        }
        if exchange {
            // The token exchange takes no credential, no `anthropic-version` and counts
            // against no Admin API budget; it is still faulted like any request.
            break 'resp next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
        }
        let caller = match authenticate(&shared, &parts.headers) {
            Auth::Refused(err) => break 'resp err.into_response(),
            Auth::Ok(caller) => caller,
        };
        authed = true;
        served_to = Some(caller);
        if let Some(err) = bearer_only_refusal(&shared, caller, &path) {
            break 'resp err.into_response();
        }
        // The Compliance API's examples send no `anthropic-version`.
        if !path.starts_with("/v1/compliance/")
            && let Err(err) = check_version(&shared, &parts.headers)
        {
            break 'resp err.into_response();
        }
        let budget = if method == Method::POST
            && path.trim_end_matches('/') == "/v1/organizations/invites"
        {
            Budget::InviteCreate
        } else {
            Budget::Admin
        };
        let now = shared.core.read().now;
        let send_headers = shared.readings.rate_limit_headers == RateLimitHeaders::Present;
        let admitted =
            shared
                .faults
                .lock()
                .admit(budget, shared.readings.rate_limit_model, now, send_headers);
        match admitted {
            Ok(Some(allowance)) if send_headers => {
                extra_headers.extend(allowance_headers(&allowance, now));
            }
            Ok(_) => {}
            Err(wait) => {
                let secs = retry_after_secs(wait);
                extra_headers.push(("retry-after", secs.to_string()));
                if send_headers {
                    let limit = match budget {
                        Budget::Admin => 100,
                        Budget::InviteCreate => 1200,
                    };
                    let refused = Allowance {
                        limit,
                        remaining: 0,
                        reset_in: wait,
                    };
                    extra_headers.extend(allowance_headers(&refused, now));
                }
                break 'resp ApiError::other(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_error",
                    "Number of requests has exceeded your rate limit",
                )
                .into_response();
            }
        }
        let mut req = Request::from_parts(parts, Body::from(bytes));
        req.extensions_mut().insert(caller);
        next.run(req).await
    };

    if let Some(caller) = served_to
        && response.status() == StatusCode::OK
        && method != Method::GET
    {
        response = record_activity(&shared, caller, user_agent.as_deref(), &entry, response).await;
    }

    if fault == Some(Fault::DropAfterApply) {
        entry.status = Some(response.status().as_u16());
        shared.record(entry);
        return drop_connection(kill).await;
    }

    let err = response.extensions_mut().remove::<ApiError>().or_else(|| {
        // A framework rejection (plain-text body) still gets the API's error envelope.
        let status = response.status();
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        (status.as_u16() >= 400 && !is_json).then(|| envelope_for(status))
    });
    if let Some(err) = err {
        let status = response.status();
        let mut fresh = (status, axum::Json(err.body(&request_id))).into_response();
        std::mem::swap(&mut response, &mut fresh);
    }
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("request-id", v);
    }
    let org_id = authed.then(|| shared.core.read().state.organization.id.clone());
    if let Some(org_id) = org_id
        && let Ok(v) = HeaderValue::from_str(&org_id)
    {
        headers.insert("anthropic-organization-id", v);
    }
    for (name, value) in extra_headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    entry.status = Some(response.status().as_u16());
    shared.record(entry);
    response
}

/// Records the activity a served write stands for, reading the response body (and giving it
/// back unchanged).
async fn record_activity(
    shared: &Shared,
    caller: Caller,
    user_agent: Option<&str>,
    entry: &LoggedRequest,
    response: Response,
) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    if let Some((kind, fields)) =
        crate::reports::write_activity(&entry.method, &entry.path, entry.body.as_ref(), &value)
    {
        let now = shared.core.read().now;
        let mut reports = shared.reports.lock();
        let actor = reports.actor(caller, user_agent);
        reports.push(now, actor, kind, fields);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The largest request body accepted (the limits are only documented for other APIs).
const MAX_BODY: usize = 2 * 1024 * 1024;

/// The error a bare status stands for.
fn envelope_for(status: StatusCode) -> ApiError {
    let kind = match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        404 | 405 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        500.. => "api_error",
        _ => "invalid_request_error",
    };
    let message = status.canonical_reason().unwrap_or("error").to_owned();
    ApiError::other(status, kind, message)
}

/// Closes the connection without a response.
async fn drop_connection(kill: Option<ConnKill>) -> Response {
    if let Some(ConnKill(kill)) = kill {
        kill.notify_one();
        std::future::pending::<()>().await;
    }
    // Without a connection to kill (the router used directly), answer with a bare 500.
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// A JSON response from pre-serialised bytes.
pub(crate) fn json_bytes(bytes: Vec<u8>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Bytes::from(bytes),
    )
        .into_response()
}
