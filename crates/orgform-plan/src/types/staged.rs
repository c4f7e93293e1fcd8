//! Staged removal (`settings.members.removal: staged`): what a plan says of the people it
//! removes in two stages, and the evidence it reads from the audit snapshot.

use std::collections::BTreeMap;

use orgform_manifest::Source;
use serde::{Deserialize, Serialize};

/// What the committed audit snapshot (`orgform snapshot --out`) records of members without
/// access: since when (the API's clock of the snapshot that first saw it) each member has had
/// no explicit workspace membership and no active API key they created. Given to the planner
/// by `--audit-snapshot PATH`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoAccessRecord {
    /// The file it was read from, as given (for messages).
    pub file: String,
    /// `no_access_since` of each member recorded with it, by user id.
    pub since: BTreeMap<String, jiff::Timestamp>,
}

/// Where a staged removal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StagedStep {
    /// Stage 1: this plan deactivates the person's keys and removes their explicit workspace
    /// memberships; the grace period starts when an audit snapshot records them without
    /// access.
    RevokingAccess,
    /// Stage 1 is done in the live state; the removal waits for the grace period, or for the
    /// evidence of when it started.
    Waiting,
    /// The grace period has passed: this plan removes the person.
    Removing,
}

/// A person this plan removes in stages (`settings.members.removal: staged`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staged {
    /// Human label, e.g. `member alice@acme.example`.
    pub target: String,
    /// The live user id.
    pub user_id: String,
    /// Where the removal stands.
    pub step: StagedStep,
    /// When the audit snapshot first recorded the person without access, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_access_since: Option<jiff::Timestamp>,
    /// The first instant the removal may be planned (`no_access_since` + `grace_days`), when
    /// known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removal_from: Option<jiff::Timestamp>,
    /// Whole days left until `removal_from` (rounded up), when it is known and not reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    /// What happens now and what the removal waits for, in words.
    pub detail: String,
    /// The manifest line (or setting) that asks for the removal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}
