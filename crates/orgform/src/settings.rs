//! The one place that reads the process environment and merges it with flags and defaults
//! into what commands use. Commands never read the environment themselves.

use std::fmt;
use std::time::Duration;

use anyhow::Context as _;
use orgform_api::{AdminKey, Client, ClientConfig, CredentialKind, KeyError, RateLimit};

use crate::cli::GlobalArgs;

/// What orgform reads from the environment (besides `ANTHROPIC_BASE_URL`, which clap reads
/// for `--endpoint`).
#[derive(Clone, Default)]
pub struct Environment {
    /// `ANTHROPIC_ADMIN_KEY`.
    pub admin_key: Option<String>,
    /// `ANTHROPIC_AUTH_TOKEN`: an OAuth bearer token instead of the admin key.
    pub auth_token: Option<String>,
    /// `NO_COLOR` set to anything non-empty.
    pub no_color: bool,
    /// `RUST_LOG`: log directives that replace the `-q`/`-v` level.
    pub rust_log: Option<String>,
    /// `ANTHROPIC_FEDERATION_RULE_ID` and `ANTHROPIC_SERVICE_ACCOUNT_ID`: the federation rule
    /// and service account a workload identity federation run came through (ids, not
    /// secrets); the plan never archives or narrows them.
    pub pipeline: orgform_plan::Pipeline,
    /// The rest of the workload identity federation inputs the official SDKs read
    /// (`ANTHROPIC_ORGANIZATION_ID`, `ANTHROPIC_WORKSPACE_ID`, `ANTHROPIC_IDENTITY_TOKEN_FILE`,
    /// `ANTHROPIC_IDENTITY_TOKEN`): with them and no key or token, orgform exchanges the
    /// identity token itself (`crate::federation`).
    pub federation: crate::federation::FederationEnv,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("admin_key", &self.admin_key.as_ref().map(|_| "[redacted]"))
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "[redacted]"),
            )
            .field("no_color", &self.no_color)
            .field("rust_log", &self.rust_log)
            .field("pipeline", &self.pipeline)
            .field("federation", &self.federation)
            .finish()
    }
}

impl Environment {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        Self {
            admin_key: std::env::var("ANTHROPIC_ADMIN_KEY").ok(),
            auth_token: std::env::var("ANTHROPIC_AUTH_TOKEN").ok(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            rust_log: std::env::var("RUST_LOG").ok(),
            pipeline: orgform_plan::Pipeline {
                federation_rule_id: non_empty_var("ANTHROPIC_FEDERATION_RULE_ID"),
                service_account_id: non_empty_var("ANTHROPIC_SERVICE_ACCOUNT_ID"),
            },
            federation: crate::federation::FederationEnv {
                organization_id: non_empty_var("ANTHROPIC_ORGANIZATION_ID"),
                workspace_id: non_empty_var("ANTHROPIC_WORKSPACE_ID"),
                identity_token_file: non_empty_var("ANTHROPIC_IDENTITY_TOKEN_FILE")
                    .map(std::path::PathBuf::from),
                identity_token: std::env::var("ANTHROPIC_IDENTITY_TOKEN").ok(),
            },
        }
    }
}

/// A variable's trimmed value, unless unset or blank.
pub(crate) fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Where the run's credential comes from.
pub enum Credential {
    /// An admin key or a bearer token, given.
    Ready(AdminKey),
    /// Workload identity federation: the identity token is exchanged for an access token.
    Exchange(Box<orgform_api::FederationExchange>),
}

/// The credential: the admin key from `--admin-key-file` (which wins) or
/// `ANTHROPIC_ADMIN_KEY`, or an OAuth bearer token from `--auth-token-file` (which wins) or
/// `ANTHROPIC_AUTH_TOKEN`, or the workload identity federation inputs (an identity token from
/// `ANTHROPIC_IDENTITY_TOKEN_FILE` or `ANTHROPIC_IDENTITY_TOKEN` and the ids the official SDKs
/// read); exactly one of the three. Files must be regular files of at most
/// [`KEY_FILE_LIMIT`](crate::files::KEY_FILE_LIMIT) bytes (the identity token: 16 KiB), so a
/// FIFO cannot block the command and `/dev/zero` cannot exhaust memory.
pub fn credential_source(global: &GlobalArgs) -> anyhow::Result<Credential> {
    let c = &global.connection;
    let env = &global.env;
    // An empty variable counts as unset for the "both given" check, so a CI template that
    // exports `ANTHROPIC_ADMIN_KEY=` next to a token still works; given alone it is refused
    // as empty below.
    let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
    let key_origin = match (&c.admin_key_file, set(&env.admin_key)) {
        (Some(path), _) => Some(format!("--admin-key-file {}", path.display())),
        (None, true) => Some("ANTHROPIC_ADMIN_KEY".to_owned()),
        (None, false) => None,
    };
    let token_origin = match (&c.auth_token_file, set(&env.auth_token)) {
        (Some(path), _) => Some(format!("--auth-token-file {}", path.display())),
        (None, true) => Some("ANTHROPIC_AUTH_TOKEN".to_owned()),
        (None, false) => None,
    };
    if let Some(identity) = env.federation.identity_origin() {
        if let Some(other) = key_origin.or(token_origin) {
            return Err(crate::federation::both(&other, &identity));
        }
        return Ok(Credential::Exchange(Box::new(crate::federation::inputs(
            env,
        )?)));
    }
    let ready = |key: anyhow::Result<AdminKey>| key.map(Credential::Ready);
    match (key_origin, token_origin) {
        (Some(key), Some(token)) => Err(KeyError::Both { key, token }.into()),
        (None, Some(_)) => ready(credential(
            c.auth_token_file.as_deref(),
            "--auth-token-file",
            env.auth_token.as_deref(),
            "ANTHROPIC_AUTH_TOKEN",
            CredentialKind::BearerToken,
        )),
        (Some(_), None) => ready(credential(
            c.admin_key_file.as_deref(),
            "--admin-key-file",
            env.admin_key.as_deref(),
            "ANTHROPIC_ADMIN_KEY",
            CredentialKind::AdminKey,
        )),
        // Nothing usable: an empty variable is reported as empty, else as missing.
        (None, None) => match (&env.admin_key, &env.auth_token) {
            (Some(v), _) => ready(credential(
                None,
                "",
                Some(v),
                "ANTHROPIC_ADMIN_KEY",
                CredentialKind::AdminKey,
            )),
            (None, Some(v)) => ready(credential(
                None,
                "",
                Some(v),
                "ANTHROPIC_AUTH_TOKEN",
                CredentialKind::BearerToken,
            )),
            (None, None) => Err(crate::federation::missing(env)),
        },
    }
}

/// One credential from its file (which wins) or its variable, with the same file rules for
/// both kinds.
fn credential(
    file: Option<&std::path::Path>,
    flag: &str,
    env_value: Option<&str>,
    variable: &str,
    kind: CredentialKind,
) -> anyhow::Result<AdminKey> {
    match file {
        Some(path) => {
            let text = crate::files::read_capped(path, flag, crate::files::KEY_FILE_LIMIT)?;
            let origin = format!("{flag} {}", path.display());
            Ok(AdminKey::from_source(&text, &origin, kind)?)
        }
        None => Ok(AdminKey::from_source(
            env_value.unwrap_or_default(),
            variable,
            kind,
        )?),
    }
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
    let key = match credential_source(global)? {
        Credential::Ready(key) => key,
        Credential::Exchange(inputs) => {
            crate::federation::exchange(&client_config(global), &inputs)?
        }
    };
    Client::new(client_config(global), key).context("cannot set up the Admin API client")
}

/// A multi-threaded runtime for a command's network work.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Refuses (exit 64) an endpoint that does not parse as an absolute URL, or that the URL
/// policy refuses (plain `http://` off loopback, credentials, a query, another scheme), with a
/// hint. Nothing is sent either way.
fn check_endpoint(endpoint: &str) -> anyhow::Result<()> {
    let usage = |message: String| -> anyhow::Error {
        crate::commands::Refusal {
            exit: crate::exit::Exit::Usage,
            message,
        }
        .into()
    };
    let mut url = match url::Url::parse(endpoint) {
        Ok(url) if url.has_host() => url,
        Ok(_) | Err(_) => {
            return Err(usage(format!(
                "the endpoint {:?} is not a URL\n  hint: give the Admin API base URL with its \
                 scheme, e.g. --endpoint https://api.anthropic.com (or set ANTHROPIC_BASE_URL)",
                orgform_plan::render::clean(endpoint)
            )));
        }
    };
    let Err(orgform_api::ApiError::UrlPolicy { reason, .. }) =
        orgform_api::check_base_url(endpoint)
    else {
        return Ok(());
    };
    // Whatever credentials the URL carries are not repeated.
    let _ = url.set_password(None);
    let _ = url.set_username("");
    let hint = if url.scheme() == "http" {
        "plain http would carry the admin key in clear text, so it goes only to this machine \
         (127.0.0.1, ::1 or localhost, e.g. `orgform emulator`); give the Admin API's https \
         URL, e.g. --endpoint https://api.anthropic.com (or set ANTHROPIC_BASE_URL)"
    } else {
        "give the Admin API base URL alone, e.g. --endpoint https://api.anthropic.com (or set \
         ANTHROPIC_BASE_URL); the key goes in ANTHROPIC_ADMIN_KEY or --admin-key-file"
    };
    Err(usage(format!(
        "the endpoint {} is refused: {reason}\n  hint: {hint}",
        orgform_plan::render::clean(url.as_str())
    )))
}
