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
    /// `RUST_LOG`: log directives that replace the `-q`/`-v` level.
    pub rust_log: Option<String>,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("admin_key", &self.admin_key.as_ref().map(|_| "[redacted]"))
            .field("no_color", &self.no_color)
            .field("rust_log", &self.rust_log)
            .finish()
    }
}

impl Environment {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        Self {
            admin_key: std::env::var("ANTHROPIC_ADMIN_KEY").ok(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            rust_log: std::env::var("RUST_LOG").ok(),
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

/// A client for the configured endpoint and key. An endpoint that is not a URL at all is a
/// usage error (exit 64), found before the key is looked at.
pub fn client(global: &GlobalArgs) -> anyhow::Result<Client> {
    check_endpoint(&global.connection.endpoint)?;
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

/// Refuses (exit 64) an endpoint that does not parse as an absolute URL, with a hint.
fn check_endpoint(endpoint: &str) -> anyhow::Result<()> {
    match url::Url::parse(endpoint) {
        Ok(url) if url.has_host() => Ok(()),
        Ok(_) | Err(_) => Err(crate::commands::Refusal {
            exit: crate::exit::Exit::Usage,
            message: format!(
                "the endpoint {:?} is not a URL\n  hint: give the Admin API base URL with its \
                 scheme, e.g. --endpoint https://api.anthropic.com (or set ANTHROPIC_BASE_URL)",
                orgform_plan::render::clean(endpoint)
            ),
        }
        .into()),
    }
}
