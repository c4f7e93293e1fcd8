//! What `drift` adds from the read-only reports: who changed a drifted object and when
//! (`drift --attribute`, from the Compliance API activity feed) and active keys nobody used
//! (`settings.api_keys.unused_days`, from the usage report grouped by API key).
//!
//! The planner never reads these: they only annotate a drift report, and an unavailable
//! report never turns into a finding (no key is called unused when usage could not be read).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use orgform_manifest::Manifest;
use orgform_model::{ApiKeyStatus, Snapshot};
use serde::{Deserialize, Serialize};

use crate::drift::{DriftReport, HygieneFinding, HygieneKind};
use crate::types::{Op, WorkspaceRef};

/// One change to a drifted object, from the activity feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// When (RFC 3339).
    pub at: Timestamp,
    /// Who: an email, or the key, token or account the feed names.
    pub by: String,
    /// The activity type, e.g. `platform_workspace_member_updated`.
    pub activity: String,
    /// The activity's id.
    pub id: String,
}

/// The attribution of a drift report (`drift --attribute`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// Whether the activity feed could be read.
    pub available: bool,
    /// Start of the period read.
    pub since: Option<Timestamp>,
    /// Why the feed is not available, or that it was cut short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The changes to each drifted object (keyed by the finding's `object`), newest first;
    /// objects with no change in the period are absent.
    pub changes: BTreeMap<String, Vec<Change>>,
}

/// What identifies a drifted object in the activity feed: alternatives, each a set of strings
/// (ids, lowercased emails) that an activity must all mention.
pub type Needles = Vec<BTreeSet<String>>;

/// The needles of the live object an action is about.
pub(crate) fn op_needles(op: &Op) -> Needles {
    let one = |values: &[&str]| {
        values
            .iter()
            .map(|v| (*v).to_owned())
            .collect::<BTreeSet<_>>()
    };
    let email = |e: &str| e.to_lowercase();
    match op {
        Op::CreateInvite { email: e, .. } => vec![one(&[&email(e)])],
        Op::ReplaceInvite {
            invite_id,
            email: e,
            ..
        }
        | Op::RevokeInvite {
            invite_id,
            email: e,
        } => vec![one(&[invite_id]), one(&[&email(e)])],
        Op::UpdateUserRole {
            user_id, email: e, ..
        }
        | Op::RemoveUser {
            user_id, email: e, ..
        } => vec![one(&[user_id]), one(&[&email(e)])],
        Op::UpdateWorkspace { workspace_id, .. } | Op::ArchiveWorkspace { workspace_id, .. } => {
            vec![one(&[workspace_id])]
        }
        Op::AddWorkspaceMember {
            workspace: WorkspaceRef::Id(workspace_id),
            user_id,
            ..
        }
        | Op::UpdateWorkspaceMember {
            workspace_id,
            user_id,
            ..
        }
        | Op::RemoveWorkspaceMember {
            workspace_id,
            user_id,
            ..
        } => vec![one(&[workspace_id, user_id])],
        // Nothing live yet: a workspace to create, a grant in a workspace to create.
        Op::CreateWorkspace { .. }
        | Op::AddWorkspaceMember { .. }
        | Op::CreateFederationIssuer { .. }
        | Op::CreateFederationRule { .. } => Vec::new(),
        Op::UpdateApiKey { key_id, .. } => vec![one(&[key_id])],
        Op::UpdateFederationIssuer { issuer_id, .. }
        | Op::ArchiveFederationIssuer { issuer_id, .. } => vec![one(&[issuer_id])],
        Op::UpdateFederationRule { rule_id, .. }
        | Op::ArchiveFederationRule { rule_id, .. }
        | Op::EnableFederationRuleWorkspace { rule_id, .. }
        | Op::DisableFederationRuleWorkspace { rule_id, .. } => vec![one(&[rule_id])],
    }
}

/// The needles of an unlisted object from its id (`workspace/user` for a membership).
pub(crate) fn id_needles(id: &str) -> Needles {
    vec![id.split('/').map(str::to_owned).collect()]
}

/// What the usage report said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageReading {
    /// Tokens per API key id since the start of the period (keys without usage absent).
    Read(BTreeMap<String, u64>),
    /// The report could not be read: why.
    Unavailable(String),
}

/// Adds a [`HygieneKind::KeyUnused`] finding for each active key older than
/// `settings.api_keys.unused_days` with no usage in that period; when usage could not be read,
/// a warning instead, and no finding (never a guess).
pub fn unused_keys(
    report: &mut DriftReport,
    manifest: &Manifest,
    live: &Snapshot,
    now: Timestamp,
    usage: &UsageReading,
) {
    let Some(days) = manifest.settings.api_keys.unused_days else {
        return;
    };
    if report.is_refused() {
        return;
    }
    let used = match usage {
        UsageReading::Read(used) => used,
        UsageReading::Unavailable(why) => {
            report.warnings.push(format!(
                "usage report not available: {why}; unused keys were not checked (settings.api_keys.unused_days: {days})"
            ));
            return;
        }
    };
    let period = jiff::SignedDuration::from_hours(i64::from(days) * 24);
    for key in live
        .api_keys
        .iter()
        .filter(|k| k.status == ApiKeyStatus::Active)
    {
        if now.duration_since(key.created_at) < period
            || used.get(&key.id).is_some_and(|tokens| *tokens > 0)
        {
            continue;
        }
        let object = format!("api key {} ({})", key.name, key.id);
        report
            .refs
            .insert(object.clone(), vec![BTreeSet::from([key.id.clone()])]);
        report.hygiene.push(HygieneFinding {
            kind: HygieneKind::KeyUnused,
            object,
            detail: format!(
                "active, no usage in the last {days} days (settings.api_keys.unused_days); deactivate it if nobody needs it"
            ),
            is_drift: true,
            source: manifest.sources.setting("api_keys.unused_days"),
        });
    }
    report
        .hygiene
        .sort_by(|a, b| (a.kind, &a.object).cmp(&(b.kind, &b.object)));
    report.summary = crate::drift::summarize(report);
}
