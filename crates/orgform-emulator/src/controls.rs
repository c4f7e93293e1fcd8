//! The `/_emulator/*` test-control routes (listed in the crate docs). They need the admin
//! key, but no `anthropic-version`, and are never faulted, rate-limited or logged.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use jiff::SignedDuration;
use orgform_model::Snapshot;
use serde::Deserialize;
use serde_json::json;

use crate::error::ApiError;
use crate::faults::{Fault, FaultConfigWire, FaultMatcher};
use crate::server::control_auth;
use crate::{EmulatorError, Shared};

type Shd = AxState<Arc<Shared>>;

pub(crate) fn router(shared: &Arc<Shared>) -> Router {
    Router::new()
        .route("/_emulator/state", get(get_state).put(put_state))
        .route("/_emulator/invites/accept", post(accept))
        .route("/_emulator/clock", get(clock))
        .route("/_emulator/clock/advance", post(advance))
        .route("/_emulator/requests", get(requests).delete(clear_requests))
        .route("/_emulator/faults", put(set_faults))
        .route("/_emulator/faults/push", post(push_fault))
        .with_state(shared.clone())
}

/// Renders an [`ApiError`] directly (these routes bypass the API pipeline).
fn fail(err: &ApiError) -> Response {
    let mut resp = (err.status, axum::Json(err.body("req_emulator_control"))).into_response();
    resp.headers_mut().insert(
        "request-id",
        HeaderValue::from_static("req_emulator_control"),
    );
    resp
}

fn parse<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(fail(&ApiError::invalid(format!(
            "invalid request body: {e}"
        ))))
    })
}

macro_rules! guard {
    ($s:expr, $h:expr) => {
        if let Err(e) = control_auth(&$s, &$h) {
            return fail(&e);
        }
    };
}

async fn get_state(AxState(s): Shd, h: HeaderMap) -> Response {
    guard!(s, h);
    let core = s.core.read();
    axum::Json(core.state.to_snapshot(core.now)).into_response()
}

async fn put_state(AxState(s): Shd, h: HeaderMap, body: Bytes) -> Response {
    guard!(s, h);
    let seed: Snapshot = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    match s.replace_state(seed) {
        Ok(()) => axum::Json(json!({"ok": true})).into_response(),
        Err(e) => fail(&ApiError::invalid(e.to_string())),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptBody {
    email: String,
}

async fn accept(AxState(s): Shd, h: HeaderMap, body: Bytes) -> Response {
    guard!(s, h);
    let b: AcceptBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    match s.accept_invite(&b.email) {
        Ok(user) => axum::Json(user).into_response(),
        Err(e @ (EmulatorError::NoPendingInvite(_) | EmulatorError::AlreadyMember(_))) => {
            fail(&ApiError::invalid(e.to_string()))
        }
        Err(e) => fail(&ApiError::invalid(e.to_string())),
    }
}

async fn clock(AxState(s): Shd, h: HeaderMap) -> Response {
    guard!(s, h);
    let now = s.core.read().now;
    axum::Json(json!({"now": crate::state::fmt_ts(now)})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    seconds: i64,
}

async fn advance(AxState(s): Shd, h: HeaderMap, body: Bytes) -> Response {
    guard!(s, h);
    let b: AdvanceBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    s.advance_clock(SignedDuration::from_secs(b.seconds));
    let now = s.core.read().now;
    axum::Json(json!({"now": crate::state::fmt_ts(now)})).into_response()
}

async fn requests(AxState(s): Shd, h: HeaderMap) -> Response {
    guard!(s, h);
    let log: Vec<_> = s.log.lock().iter().cloned().collect();
    axum::Json(log).into_response()
}

async fn clear_requests(AxState(s): Shd, h: HeaderMap) -> Response {
    guard!(s, h);
    s.log.lock().clear();
    axum::Json(json!({"ok": true})).into_response()
}

async fn set_faults(AxState(s): Shd, h: HeaderMap, body: Bytes) -> Response {
    guard!(s, h);
    let wire: FaultConfigWire = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if !(0.0..=1.0).contains(&wire.rate) {
        return fail(&ApiError::invalid("rate: must be between 0 and 1"));
    }
    s.faults.lock().reconfigure(wire.into());
    axum::Json(json!({"ok": true})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushBody {
    matcher: FaultMatcher,
    fault: Fault,
}

async fn push_fault(AxState(s): Shd, h: HeaderMap, body: Bytes) -> Response {
    guard!(s, h);
    let b: PushBody = match parse(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    s.faults.lock().push(b.matcher, b.fault);
    axum::Json(json!({"ok": true})).into_response()
}
