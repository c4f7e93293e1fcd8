//! [`ApiError`]: every way a call can fail, and whether retrying could help.
//!
//! API errors keep the HTTP status, the stable `error.type`, the message and the
//! `request-id`; their `Display` names the request id so a user can quote it to support.
//! No variant ever holds the admin key: transport errors only carry the URL, and the key
//! travels in a header that reqwest does not include in its errors.

/// A failed Admin API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The server answered with an error status.
    #[error(
        "{method} {path} failed: http {status} {error_type}: {message} (request id {})",
        request_id.as_deref().unwrap_or("none")
    )]
    Api {
        /// HTTP method.
        method: String,
        /// Request path, without the query.
        path: String,
        /// HTTP status.
        status: u16,
        /// `error.type` from the body (`invalid_request_error`, ...), or `unknown`.
        error_type: String,
        /// `error.message` from the body, or a note that the body was not an error object.
        message: String,
        /// `request-id` header (or body `request_id`).
        request_id: Option<String>,
    },
    /// The request did not complete: connection refused or reset, timeout, broken body.
    #[error("{method} {path} failed: {detail}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Request path, without the query.
        path: String,
        /// What happened (from the HTTP library, without the key).
        detail: String,
        /// Whether the request may have reached the server (not a connect failure).
        maybe_sent: bool,
        /// Whether the failure was a timeout.
        timeout: bool,
    },
    /// A success response whose body did not match the expected shape.
    #[error(
        "{method} {path}: unexpected response body: {detail} (request id {})",
        request_id.as_deref().unwrap_or("none")
    )]
    Decode {
        /// HTTP method.
        method: String,
        /// Request path, without the query.
        path: String,
        /// The decoder's complaint.
        detail: String,
        /// `request-id` header.
        request_id: Option<String>,
    },
    /// What was read is incomplete or contradicts itself: planning from it could remove
    /// objects that exist. Never retried as a request; `Client::fetch_snapshot` reads the
    /// whole organization again only when it changed during the read.
    #[error("inconsistent read of {collection}: {problem}")]
    InconsistentRead {
        /// The collection, e.g. `users` or `members of workspace wrkspc_1`.
        collection: String,
        /// What was wrong.
        problem: crate::integrity::ReadProblem,
    },
    /// The base URL is not allowed.
    #[error("refusing base url {url}: {reason}")]
    UrlPolicy {
        /// The URL as given.
        url: String,
        /// Why.
        reason: String,
    },
    /// Invalid client settings.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// An argument the API could not be asked about (an empty or path-changing id).
    #[error("{0}")]
    InvalidArgument(String),
    /// A write may have been applied, and reading back to find out failed too.
    #[error("{operation}: the outcome is unknown, and reading it back failed: {source}")]
    OutcomeUnknown {
        /// The write, e.g. `create invite for a@example.com`.
        operation: String,
        /// Why the read-back failed.
        #[source]
        source: Box<ApiError>,
    },
}

impl ApiError {
    /// The `request-id` of the failing response, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api { request_id, .. } | Self::Decode { request_id, .. } => request_id.as_deref(),
            Self::OutcomeUnknown { source, .. } => source.request_id(),
            _ => None,
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::OutcomeUnknown { source, .. } => source.status(),
            _ => None,
        }
    }

    /// Whether the error is a 404 whose body is the API's `not_found_error`. A 404 without
    /// that body (a proxy's page, a wrong base path) does not count: reading it as "the
    /// object is gone" could turn a misconfiguration into a confirmed delete.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api { status: 404, error_type, .. } if error_type == "not_found_error")
    }

    /// Whether trying the same request again could succeed, by the official SDKs' rules
    /// (without the server's `x-should-retry` hint, which only the retry loop sees):
    /// 408, 409, 429, 5xx and transport failures.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, .. } => crate::retry::status_is_retryable(*status),
            Self::Transport { .. } => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_request_id_and_type() {
        let err = ApiError::Api {
            method: "POST".into(),
            path: "/v1/organizations/invites".into(),
            status: 400,
            error_type: "invalid_request_error".into(),
            message: "pending invite already exists".into(),
            request_id: Some("req_123".into()),
        };
        let text = err.to_string();
        assert!(text.contains("req_123"), "{text}");
        assert!(text.contains("invalid_request_error"), "{text}");
        assert!(text.contains("400"), "{text}");
        assert!(!err.is_retryable());
        assert!(!err.is_not_found());
        assert_eq!(err.request_id(), Some("req_123"));
    }

    #[test]
    fn retryable_classification() {
        let api = |status| ApiError::Api {
            method: "GET".into(),
            path: "/".into(),
            status,
            error_type: "x".into(),
            message: "m".into(),
            request_id: None,
        };
        for s in [408, 409, 429, 500, 502, 503, 504, 529] {
            assert!(api(s).is_retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 413, 422] {
            assert!(!api(s).is_retryable(), "{s}");
        }
        assert!(
            !api(404).is_not_found(),
            "a 404 without not_found_error is not an absence"
        );
        let mut not_found = api(404);
        if let ApiError::Api { error_type, .. } = &mut not_found {
            *error_type = "not_found_error".into();
        }
        assert!(not_found.is_not_found());
        assert!(
            ApiError::Transport {
                method: "GET".into(),
                path: "/".into(),
                detail: "reset".into(),
                maybe_sent: true,
                timeout: false
            }
            .is_retryable()
        );
        assert!(
            !ApiError::InconsistentRead {
                collection: "users".into(),
                problem: crate::integrity::ReadProblem::EmptyPageWithMore { page: 1 }
            }
            .is_retryable()
        );
    }
}
