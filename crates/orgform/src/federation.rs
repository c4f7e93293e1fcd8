//! Workload identity federation from the command line: the environment the official SDKs
//! read, checked into the inputs of one exchange, and the exchange itself (the "WIF
//! reference" page: the direct environment path is active when `ANTHROPIC_FEDERATION_RULE_ID`,
//! `ANTHROPIC_ORGANIZATION_ID`, `ANTHROPIC_SERVICE_ACCOUNT_ID` and one of
//! `ANTHROPIC_IDENTITY_TOKEN_FILE` or `ANTHROPIC_IDENTITY_TOKEN` are set; `ANTHROPIC_WORKSPACE_ID`
//! is read alongside).
//!
//! Unlike the SDKs, where a key or token silently shadows federation, orgform refuses a key or
//! token next to an identity token: a run must say which credential it uses. An identity
//! token with an incomplete set of ids is refused naming the missing variables. The identity
//! token file follows the `--auth-token-file` rules (a regular file, read once, capped, at
//! 16 KiB here: the exchange's own limit); neither token is ever printed.

use std::fmt;
use std::path::PathBuf;

use anyhow::anyhow;
use orgform_api::{AdminKey, ClientConfig, FederationExchange, IdentityToken};

use crate::settings::Environment;

/// The federation variables besides the rule and service account ids (which
/// [`orgform_plan::Pipeline`] holds, for protection).
#[derive(Clone, Default)]
pub struct FederationEnv {
    /// `ANTHROPIC_ORGANIZATION_ID`.
    pub organization_id: Option<String>,
    /// `ANTHROPIC_WORKSPACE_ID`.
    pub workspace_id: Option<String>,
    /// `ANTHROPIC_IDENTITY_TOKEN_FILE`.
    pub identity_token_file: Option<PathBuf>,
    /// `ANTHROPIC_IDENTITY_TOKEN` (the JWT itself).
    pub identity_token: Option<String>,
}

impl fmt::Debug for FederationEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FederationEnv")
            .field("organization_id", &self.organization_id)
            .field("workspace_id", &self.workspace_id)
            .field("identity_token_file", &self.identity_token_file)
            .field(
                "identity_token",
                &self.identity_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl FederationEnv {
    /// Where the identity token comes from, when one is given (the file wins).
    pub fn identity_origin(&self) -> Option<String> {
        match (&self.identity_token_file, &self.identity_token) {
            (Some(path), _) => Some(format!("ANTHROPIC_IDENTITY_TOKEN_FILE {}", path.display())),
            (None, Some(v)) if !v.trim().is_empty() => Some("ANTHROPIC_IDENTITY_TOKEN".to_owned()),
            _ => None,
        }
    }
}

/// The refusal of a key or token next to an identity token.
pub fn both(other: &str, identity: &str) -> anyhow::Error {
    anyhow!(
        "both a credential ({other}) and a workload identity federation token ({identity}) were given; use exactly one\n  hint: for a keyless run unset the key or token (e.g. `unset ANTHROPIC_ADMIN_KEY`); to use the key, unset ANTHROPIC_IDENTITY_TOKEN_FILE and ANTHROPIC_IDENTITY_TOKEN"
    )
}

/// The error when no credential at all is given.
pub fn missing(env: &Environment) -> anyhow::Error {
    let partial =
        env.pipeline.federation_rule_id.is_some() || env.federation.organization_id.is_some();
    let mut message = orgform_api::KeyError::Missing.to_string();
    message.push_str(
        "\n  hint: for workload identity federation set ANTHROPIC_IDENTITY_TOKEN_FILE (the CI job's OIDC token) with ANTHROPIC_FEDERATION_RULE_ID, ANTHROPIC_ORGANIZATION_ID and ANTHROPIC_SERVICE_ACCOUNT_ID",
    );
    if partial {
        message.push_str("; the federation ids are set but no identity token is");
    }
    anyhow!(message)
}

/// The inputs of the exchange, read and checked; an incomplete set names what is missing.
pub fn inputs(env: &Environment) -> anyhow::Result<FederationExchange> {
    let f = &env.federation;
    let missing: Vec<&str> = [
        (
            "ANTHROPIC_FEDERATION_RULE_ID",
            env.pipeline.federation_rule_id.is_none(),
        ),
        ("ANTHROPIC_ORGANIZATION_ID", f.organization_id.is_none()),
        (
            "ANTHROPIC_SERVICE_ACCOUNT_ID",
            env.pipeline.service_account_id.is_none(),
        ),
    ]
    .into_iter()
    .filter_map(|(name, absent)| absent.then_some(name))
    .collect();
    if !missing.is_empty() {
        return Err(anyhow!(
            "an identity token is given for workload identity federation, but {} {} not set\n  hint: set the federation rule's id (fdrl_...), the organization's UUID and the service account's id (svac_...), as the Console's workload identity page shows them",
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" }
        ));
    }
    let identity_token = match &f.identity_token_file {
        Some(path) => {
            let origin = format!("ANTHROPIC_IDENTITY_TOKEN_FILE {}", path.display());
            if !path.exists() && std::fs::symlink_metadata(path).is_err() {
                return Err(anyhow!(
                    "cannot read the identity token: {origin} does not exist\n  hint: the step that fetches the CI job's OIDC token must write it there before orgform runs"
                ));
            }
            let limit = u64::try_from(orgform_api::MAX_IDENTITY_TOKEN_BYTES).unwrap_or(u64::MAX);
            let text = crate::files::read_capped(path, "ANTHROPIC_IDENTITY_TOKEN_FILE", limit)?;
            IdentityToken::from_source(&text, &origin)?
        }
        None => IdentityToken::from_source(
            f.identity_token.as_deref().unwrap_or_default(),
            "ANTHROPIC_IDENTITY_TOKEN",
        )?,
    };
    Ok(FederationExchange {
        federation_rule_id: env.pipeline.federation_rule_id.clone().unwrap_or_default(),
        organization_id: f.organization_id.clone().unwrap_or_default(),
        service_account_id: env.pipeline.service_account_id.clone().unwrap_or_default(),
        workspace_id: f.workspace_id.clone(),
        identity_token,
    })
}

/// Exchanges the identity token; the access token as the run's bearer credential.
pub fn exchange(config: &ClientConfig, inputs: &FederationExchange) -> anyhow::Result<AdminKey> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow!("cannot start the async runtime: {e}"))?;
    let got = runtime.block_on(orgform_api::exchange_federation_token(config, inputs))?;
    tracing::info!(
        rule = %inputs.federation_rule_id,
        scope = %got.scope,
        expires_in = got.expires_in,
        "exchanged the identity token for an access token"
    );
    Ok(got.credential)
}
