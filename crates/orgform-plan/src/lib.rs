//! The planner: a pure, deterministic function from (manifest, snapshot) to an ordered plan.
//!
//! [`plan`] compares an [`orgform_manifest::Manifest`] with a complete
//! [`orgform_model::Snapshot`] of the live organization and returns a [`Plan`]: the actions
//! to execute in order (each with everything the executor needs, so it makes no choices),
//! plus what is deferred, blocked, unmanaged, pending or missing, plan errors, refusals and
//! warnings. No I/O happens here and no clock is read (the caller passes `now`, the API's
//! clock); maps are
//! sorted, so the same inputs give a byte-identical plan and renderings.
//!
//! The rules are those of `docs/manifest.md` ("Meaning"); decisions the contract leaves open
//! are written down in the `planner` and `limits` modules.
//!
//! ```
//! # use orgform_manifest::Manifest;
//! # use orgform_model::Snapshot;
//! # use orgform_plan::{plan, render, Op, PlanOptions, PlanOutcome};
//! let manifest: Manifest = serde_saphyr::from_str(
//!     "version: 1
//! organization: {id: 6f0c2a4e-0000-4000-8000-000000000001}
//! members:
//!   - {email: alice@acme.example, role: developer}
//! ",
//! )?;
//! let live: Snapshot = serde_saphyr::from_str(
//!     "organization: {id: 6f0c2a4e-0000-4000-8000-000000000001, name: Acme}",
//! )?;
//! let options = PlanOptions {
//!     allow_destructive: None,
//!     now: "2026-11-01T00:00:00Z".parse()?,
//!     clock_skew: None,
//!     manifest_digest: "sha256:...".into(),
//!     pipeline: orgform_plan::Pipeline::default(),
//!     no_access: None,
//! };
//! let plan = plan(&manifest, &live, &options);
//! assert_eq!(plan.outcome(), PlanOutcome::Changes);
//! assert!(matches!(&plan.actions[0].op, Op::CreateInvite { email, .. } if email == "alice@acme.example"));
//! assert!(render::text(&plan, false).contains(
//!     "Plan: 1 to add, 0 to change, 0 to remove (0 irreversible). 0 deferred, 0 blocked."
//! ));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod attribution;
mod compare;
mod drift;
mod integrity;
mod limits;
mod planner;
pub mod render;
mod types;

pub use compare::differences;
pub use drift::{
    DRIFT_FORMAT_VERSION, DriftReport, DriftSummary, Finding, HygieneFinding, HygieneKind, drift,
};

pub use integrity::{InvalidPlan, actions_digest, check_actions};
pub use limits::{limit as destructive_limit, live_total, percent_limit};
pub use types::*;

use serde::{Deserialize, Serialize};

/// What a plan depends on besides the manifest and the live state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// `--allow-destructive N`: replaces both destructive limits for this run.
    pub allow_destructive: Option<u32>,
    /// The instant the plan is computed at (invite expiry, key age): the API's clock (the
    /// `Date` header of the responses read), or `--now`.
    pub now: jiff::Timestamp,
    /// How far the API's clock is ahead of the local clock (negative: behind), when `now` is
    /// the API's clock; a difference of more than a minute is warned about.
    pub clock_skew: Option<jiff::SignedDuration>,
    /// Digest of the manifest, recorded in the plan so a saved plan can be checked.
    pub manifest_digest: String,
    /// The audit snapshot's record of members without access (`--audit-snapshot`): when a
    /// staged removal's grace period started. `None`: no snapshot was given, and no staged
    /// removal is planned past its first stage.
    pub no_access: Option<NoAccessRecord>,
    /// What the running credential says about the pipeline it belongs to (the federation
    /// rule and service account it came through): those are never archived or narrowed.
    pub pipeline: Pipeline,
}

/// The federation identity of the running pipeline, from the environment the workload
/// identity federation SDKs read: `ANTHROPIC_FEDERATION_RULE_ID` and
/// `ANTHROPIC_SERVICE_ACCOUNT_ID`. The access token itself (`sk-ant-oat01-...`) is opaque and
/// tells nothing; the JWT exchanged for it names the outside identity, not the rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pipeline {
    /// The federation rule (`fdrl_...`) this run's token was minted through.
    pub federation_rule_id: Option<String>,
    /// The service account (`svac_...`) this run's token acts as.
    pub service_account_id: Option<String>,
}

/// The drift category of a finding (`docs/manifest.md`, "Drift categories").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftCategory {
    /// Live, not declared.
    Unmanaged,
    /// A value differs.
    Changed,
    /// Declared, not live.
    Missing,
    /// An invite outstanding or a deferred action.
    Pending,
    /// The API cannot make the change.
    Blocked,
}

/// Plans the changes that make the live organization match the manifest.
pub fn plan(
    manifest: &orgform_manifest::Manifest,
    live: &orgform_model::Snapshot,
    options: &PlanOptions,
) -> Plan {
    planner::run(manifest, live, options).plan
}
