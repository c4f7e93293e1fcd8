//! The Admin API credential: where it comes from and how it is kept out of every output.
//!
//! Two kinds, exactly one per run: an Admin API key (`ANTHROPIC_ADMIN_KEY` or
//! `--admin-key-file`, sent as `x-api-key`) or an OAuth bearer token with the `org:admin`
//! scope (`ANTHROPIC_AUTH_TOKEN` or `--auth-token-file`, sent as `Authorization: Bearer`),
//! e.g. minted by a workload identity federation step in CI so no long-lived key is stored.
//! Both are held in a [`secrecy::SecretString`]; `Debug` and `Display` print `[redacted]`.
//! The library never reads the environment: the command line passes the value of
//! `ANTHROPIC_ADMIN_KEY` in, so tests can exercise every case without touching process state.
//! A key file wins over the environment value when both are given, because a file given on
//! the command line is the more specific instruction.

use std::fmt;
use std::path::{Path, PathBuf};

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

/// Why no usable key could be found.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Neither source was given.
    #[error(
        "no admin api key: pass --admin-key-file PATH or set the ANTHROPIC_ADMIN_KEY environment variable (or, for an OAuth token, --auth-token-file PATH or ANTHROPIC_AUTH_TOKEN)"
    )]
    Missing,
    /// Both an admin key and a bearer token were given.
    #[error(
        "both an admin api key ({key}) and an oauth token ({token}) were given; use exactly one\n  hint: unset one of them, e.g. `unset ANTHROPIC_ADMIN_KEY` when CI mints a token"
    )]
    Both {
        /// Where the key came from.
        key: String,
        /// Where the token came from.
        token: String,
    },
    /// The key file could not be read.
    #[error("cannot read admin key file {}: {source}", path.display())]
    Read {
        /// The file named by `--admin-key-file`.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The source held only whitespace.
    #[error("the {what} from {origin} is empty")]
    Empty {
        /// `admin api key` or `oauth token`.
        what: &'static str,
        /// `--admin-key-file <path>` or `ANTHROPIC_ADMIN_KEY`.
        origin: String,
    },
    /// The key holds characters an HTTP header cannot carry (the key itself is not shown).
    #[error(
        "the {what} from {origin} contains characters that cannot be sent in a header (hint: check the file for stray quotes or binary content)"
    )]
    InvalidCharacters {
        /// `admin api key` or `oauth token`.
        what: &'static str,
        /// `--admin-key-file <path>` or `ANTHROPIC_ADMIN_KEY`.
        origin: String,
    },
}

/// How the credential is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    /// An Admin API key, sent as `x-api-key`.
    AdminKey,
    /// An OAuth access token (`org:admin` scope), sent as `Authorization: Bearer`.
    BearerToken,
}

/// The Admin API credential: an admin key or an OAuth bearer token. Never printed: `Debug`
/// and `Display` show `[redacted]`.
#[derive(Clone)]
pub struct AdminKey(SecretString, CredentialKind);

impl AdminKey {
    /// Finds the key: the file when given (surrounding whitespace and a trailing newline
    /// ignored), else the environment value the caller read from `ANTHROPIC_ADMIN_KEY`.
    pub fn resolve(file: Option<&Path>, env_value: Option<String>) -> Result<Self, KeyError> {
        if let Some(path) = file {
            let raw = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            return Self::from_value(&raw, &format!("--admin-key-file {}", path.display()));
        }
        match env_value {
            Some(value) => Self::from_value(&value, "ANTHROPIC_ADMIN_KEY"),
            None => Err(KeyError::Missing),
        }
    }

    /// Wraps a key given directly (tests, the embedded emulator). Same checks as
    /// [`AdminKey::resolve`].
    pub fn new(value: &str) -> Result<Self, KeyError> {
        Self::from_value(value, "the caller")
    }

    /// Wraps an OAuth bearer token given directly; same checks as a key. Sent as
    /// `Authorization: Bearer <token>` instead of `x-api-key`.
    pub fn bearer(value: &str) -> Result<Self, KeyError> {
        Self::from_source(value, "the caller", CredentialKind::BearerToken)
    }

    /// Wraps a credential read from `origin` (a flag and its path, or a variable's name),
    /// naming `origin` in any error.
    pub fn from_source(value: &str, origin: &str, kind: CredentialKind) -> Result<Self, KeyError> {
        Self::checked(value, origin, kind)
    }

    /// Which kind of credential this is.
    pub fn kind(&self) -> CredentialKind {
        self.1
    }

    fn from_value(raw: &str, origin: &str) -> Result<Self, KeyError> {
        Self::checked(raw, origin, CredentialKind::AdminKey)
    }

    fn checked(raw: &str, origin: &str, kind: CredentialKind) -> Result<Self, KeyError> {
        let what = match kind {
            CredentialKind::AdminKey => "admin api key",
            CredentialKind::BearerToken => "oauth token",
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(KeyError::Empty {
                what,
                origin: origin.to_owned(),
            });
        }
        // Visible ASCII only: what `HeaderValue` accepts without obs-text.
        if !trimmed.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(KeyError::InvalidCharacters {
                what,
                origin: origin.to_owned(),
            });
        }
        Ok(Self(SecretString::from(trimmed.to_owned()), kind))
    }

    /// The secret itself, for the request header only.
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The header that carries the credential and its value (marked sensitive).
    pub(crate) fn header(&self) -> Result<(HeaderName, HeaderValue), KeyError> {
        let (name, value) = match self.1 {
            CredentialKind::AdminKey => (
                HeaderName::from_static("x-api-key"),
                self.expose().to_owned(),
            ),
            CredentialKind::BearerToken => (AUTHORIZATION, format!("Bearer {}", self.expose())),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| KeyError::InvalidCharacters {
            what: "credential",
            origin: "the caller".to_owned(),
        })?;
        value.set_sensitive(true);
        Ok((name, value))
    }
}

impl fmt::Debug for AdminKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            CredentialKind::AdminKey => f.write_str("AdminKey([redacted])"),
            CredentialKind::BearerToken => f.write_str("BearerToken([redacted])"),
        }
    }
}

impl fmt::Display for AdminKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    const CANARY: &str = "sk-ant-admin01-CANARY-key-value";

    #[test]
    fn file_wins_over_environment_and_is_trimmed() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "  {CANARY}  ").unwrap();
        let key = AdminKey::resolve(Some(file.path()), Some("sk-other".into())).unwrap();
        assert_eq!(key.expose(), CANARY);
    }

    #[test]
    fn environment_used_when_no_file() {
        let key = AdminKey::resolve(None, Some(format!("{CANARY}\n"))).unwrap();
        assert_eq!(key.expose(), CANARY);
    }

    #[test]
    fn missing_names_both_sources() {
        let err = AdminKey::resolve(None, None).unwrap_err().to_string();
        assert!(err.contains("--admin-key-file"), "{err}");
        assert!(err.contains("ANTHROPIC_ADMIN_KEY"), "{err}");
    }

    #[test]
    fn empty_sources_are_errors() {
        assert!(matches!(
            AdminKey::resolve(None, Some(" \n".into())),
            Err(KeyError::Empty { .. })
        ));
        let file = tempfile::NamedTempFile::new().unwrap();
        let err = AdminKey::resolve(Some(file.path()), Some(CANARY.into())).unwrap_err();
        assert!(matches!(err, KeyError::Empty { .. }), "{err}");
        assert!(err.to_string().contains("--admin-key-file"));
    }

    #[test]
    fn unreadable_file_is_an_error() {
        let err = AdminKey::resolve(Some(Path::new("/nonexistent/orgform-key")), None).unwrap_err();
        assert!(matches!(err, KeyError::Read { .. }));
    }

    #[test]
    fn control_characters_refused_without_echoing_the_key() {
        let err = AdminKey::resolve(None, Some(format!("{CANARY}\u{7}x"))).unwrap_err();
        assert!(matches!(err, KeyError::InvalidCharacters { .. }));
        assert!(!err.to_string().contains("CANARY"));
    }

    #[test]
    fn a_bearer_token_goes_in_the_authorization_header_and_stays_redacted() {
        let token = AdminKey::bearer("  oauth-CANARY-token\n").unwrap();
        assert_eq!(token.kind(), CredentialKind::BearerToken);
        let (name, value) = token.header().unwrap();
        assert_eq!(name, AUTHORIZATION);
        assert_eq!(value.to_str().unwrap(), "Bearer oauth-CANARY-token");
        assert!(value.is_sensitive());
        let shown = format!("{token} {token:?}");
        assert!(!shown.contains("CANARY"), "{shown}");
        let (name, _) = AdminKey::new(CANARY).unwrap().header().unwrap();
        assert_eq!(name.as_str(), "x-api-key");
    }

    #[test]
    fn from_source_names_its_origin() {
        let err = AdminKey::from_source(" ", "ANTHROPIC_AUTH_TOKEN", CredentialKind::BearerToken)
            .unwrap_err();
        assert!(err.to_string().contains("ANTHROPIC_AUTH_TOKEN"), "{err}");
    }

    #[test]
    fn debug_and_display_are_redacted() {
        let key = AdminKey::new(CANARY).unwrap();
        assert_eq!(key.to_string(), "[redacted]");
        let debug = format!("{key:?} {key:#?}");
        assert!(!debug.contains("CANARY"), "{debug}");
        assert!(debug.contains("[redacted]"));
    }
}
