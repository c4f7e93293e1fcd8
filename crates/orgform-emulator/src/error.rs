//! The Admin API error envelope and the emulator's own error type.
//!
//! Handlers return [`ApiError`]; the request middleware, which knows the request id, renders
//! it as exactly `{"type":"error","error":{"type","message"},"request_id"}` and copies the id
//! into the `request-id` header.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error the Admin API would return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error.type`.
    pub kind: &'static str,
    /// `error.message`.
    pub message: String,
}

impl ApiError {
    /// 400 `invalid_request_error`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            message: message.into(),
        }
    }

    /// 404 `not_found_error`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "not_found_error",
            message: message.into(),
        }
    }

    /// 401 `authentication_error` with the well-known message.
    pub fn unauthenticated() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            kind: "authentication_error",
            message: "invalid x-api-key".to_owned(),
        }
    }

    /// 403 `permission_error`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            kind: "permission_error",
            message: message.into(),
        }
    }

    /// Any status and type.
    pub fn other(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
        }
    }

    /// The JSON body for this error with the given request id.
    pub fn body(&self, request_id: &str) -> serde_json::Value {
        serde_json::json!({
            "type": "error",
            "error": {"type": self.kind, "message": self.message},
            "request_id": request_id,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The middleware renders the body once it knows the request id.
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Errors of the emulator's Rust API.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Requested address.
        addr: std::net::SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// A seed file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    ReadSeed {
        /// The file.
        path: std::path::PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A seed file is not a valid snapshot.
    #[error("invalid seed file {path}: {message}")]
    ParseSeed {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong, with its location when known.
        message: String,
    },
    /// A seed is inconsistent (duplicate ids, dangling references).
    #[error("invalid seed: {0}")]
    InvalidSeed(String),
    /// No invite with this email can be accepted.
    #[error("no pending invite for {0}")]
    NoPendingInvite(String),
    /// The email already belongs to a member.
    #[error("{0} is already a member of the organization")]
    AlreadyMember(String),
}
