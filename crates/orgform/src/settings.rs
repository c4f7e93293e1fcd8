//! The one place that reads the process environment and merges it with flags and defaults
//! into what commands use. Commands never read the environment themselves.

use std::fmt;
use std::time::Duration;

use anyhow::Context as _;
use orgform_api::{AdminKey, Client, ClientConfig, KeyError, RateLimit};

use crate::cli::GlobalArgs;

/// What orgform reads from the environment (besides `ANTHROPIC_BASE_URL`, which clap reads
/// for `--endpoint`).
#[derive(Clone, Default)]
pub struct Environment {
    /// `ANTHROPIC_ADMIN_KEY`.
    pub admin_key: Option<String>,
    /// `NO_COLOR` set to anything non-empty.
    pub no_color: bool,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("admin_key", &self.admin_key.as_ref().map(|_| "[redacted]"))
            .field("no_color", &self.no_color)
            .finish()
    }
}

impl Environment {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        Self {
            admin_key: std::env::var("ANTHROPIC_ADMIN_KEY").ok(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        }
    }
}

/// The admin key from `--admin-key-file` (which wins) or `ANTHROPIC_ADMIN_KEY`. The file must
/// be a regular file of at most [`KEY_FILE_LIMIT`](crate::files::KEY_FILE_LIMIT) bytes, so a
/// FIFO cannot block the command and `/dev/zero` cannot exhaust memory.
pub fn admin_key(global: &GlobalArgs) -> anyhow::Result<AdminKey> {
    let Some(path) = global.connection.admin_key_file.as_deref() else {
        return Ok(AdminKey::resolve(None, global.env.admin_key.clone())?);
    };
    let text = crate::files::read_capped(path, "--admin-key-file", crate::files::KEY_FILE_LIMIT)?;
    let origin = format!("--admin-key-file {}", path.display());
    AdminKey::new(&text).map_err(|err| {
        match err {
            KeyError::Empty { .. } => KeyError::Empty { origin },
            KeyError::InvalidCharacters { .. } => KeyError::InvalidCharacters { origin },
            other => other,
        }
        .into()
    })
}

/// The client configuration from the connection flags.
pub fn client_config(global: &GlobalArgs) -> ClientConfig {
    let c = &global.connection;
    ClientConfig {
        base_url: c.endpoint.clone(),
        timeout: Duration::from_secs(c.timeout.max(1)),
        max_retries: c.max_retries,
        rate_limit: (c.rate_limit > 0).then(|| RateLimit {
            per_minute: c.rate_limit,
            ..RateLimit::default()
        }),
        ..ClientConfig::default()
    }
}

/// A client for the configured endpoint and key.
pub fn client(global: &GlobalArgs) -> anyhow::Result<Client> {
    let key = admin_key(global)?;
    Client::new(client_config(global), key).context("cannot set up the Admin API client")
}

/// A multi-threaded runtime for a command's network work.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
