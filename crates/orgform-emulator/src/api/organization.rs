//! `GET /v1/organizations/me`: the organization the key belongs to.

use axum::extract::State as AxState;
use axum::response::Response;
use serde_json::json;

use super::{Shd, ok};

/// `GET /v1/organizations/me`.
pub(crate) async fn me(AxState(s): Shd) -> Response {
    let core = s.core.read();
    ok(&json!({
        "type": "organization",
        "id": core.state.organization.id,
        "name": core.state.organization.name,
    }))
}
