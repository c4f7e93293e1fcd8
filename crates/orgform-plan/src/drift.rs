//! Drift: the planner in report-only mode.
//!
//! [`drift`] runs the same engine as [`crate::plan`] and sorts what it found into the five
//! categories of `docs/manifest.md` (`unmanaged`, `changed`, `missing`, `pending`, `blocked`),
//! one finding per object (per field for `changed`), plus hygiene findings. Destructive limits
//! do not apply (nothing is executed), so a report never carries a limit refusal.
//!
//! What counts as drift (`docs/cli.md`): unmanaged, changed, missing and blocked findings.
//! Pending invites inside their 21 days and deferred grants do not. Hygiene findings count,
//! except expired invites of unlisted emails, which are informational (the API cannot delete
//! them), and implicit workspace memberships (an org admin's `workspace_admin`, a billing
//! member's `workspace_billing`) that the API lists and the manifest does not declare. Hygiene: active keys older than `settings.api_keys.max_age_days` (only when set),
//! active keys whose creating user is no longer a member, active keys in archived
//! workspaces, expired invites of listed people when `reissue_expired` is off, and entries
//! whose `expires` date is within `settings.expiry_warning_days` (default 14).

use std::collections::{BTreeSet, HashSet};

use orgform_manifest::{Manifest, Source};
use orgform_model::{ApiKeyStatus, InviteStatus, Snapshot, normalize_email};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::planner;
use crate::types::{ChangeKind, PendingKind, PlanError, Refusal};
use crate::{DriftCategory, PlanOptions};

/// The drift report format this crate writes (independent of the plan's
/// [`crate::FORMAT_VERSION`]).
pub const DRIFT_FORMAT_VERSION: u32 = 1;

/// A drift report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftReport {
    /// [`DRIFT_FORMAT_VERSION`].
    pub format_version: u32,
    /// The live organization's id.
    pub organization_id: String,
    /// Digest of the manifest (given by the caller).
    pub manifest_digest: String,
    /// Digest of the live state.
    pub live_digest: String,
    /// Findings, grouped by category in the order of [`DriftCategory`].
    pub findings: Vec<Finding>,
    /// Hygiene findings.
    pub hygiene: Vec<HygieneFinding>,
    /// Plan errors: the manifest cannot be matched to the live org (no findings then).
    pub errors: Vec<PlanError>,
    /// Only an organization mismatch (no findings then).
    pub refusals: Vec<Refusal>,
    /// Warnings, e.g. the organization name differs.
    pub warnings: Vec<String>,
    /// Counts.
    pub summary: DriftSummary,
    /// Who changed the drifted objects (`drift --attribute` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<crate::attribution::Attribution>,
    /// What identifies each finding's live object in the activity feed (by `object`); not
    /// part of the report's JSON.
    #[serde(skip)]
    pub refs: std::collections::BTreeMap<String, crate::attribution::Needles>,
}

impl DriftReport {
    /// Whether there is drift (exit 2): unmanaged, changed, missing or blocked findings, or
    /// hygiene findings other than informational ones.
    pub fn has_drift(&self) -> bool {
        self.findings.iter().any(|f| f.is_drift) || self.hygiene.iter().any(|h| h.is_drift)
    }

    /// Whether the report could not be made (organization mismatch or plan errors: exit 3).
    pub fn is_refused(&self) -> bool {
        !self.refusals.is_empty() || !self.errors.is_empty()
    }
}

/// One difference between the manifest and the live organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Category.
    pub category: DriftCategory,
    /// The object, e.g. `member alice@acme.example`.
    pub object: String,
    /// The field, when one field differs.
    #[serde(default)]
    pub field: Option<String>,
    /// The manifest's value.
    #[serde(default)]
    pub wanted: Option<Value>,
    /// The live value.
    #[serde(default)]
    pub live: Option<Value>,
    /// Explanation.
    pub detail: String,
    /// Whether it counts as drift (pending findings do not).
    pub is_drift: bool,
    /// The manifest file and line (or the setting) behind the action or blocked item this
    /// finding comes from, as in the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// Kinds of hygiene findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HygieneKind {
    /// Active key older than `max_age_days`.
    KeyTooOld,
    /// Active key whose creating user is no longer a member.
    KeyCreatorGone,
    /// Active key in an archived workspace.
    KeyInArchivedWorkspace,
    /// Expired invite of a listed person, not re-issued (`reissue_expired: false`).
    ExpiredInvite,
    /// Expired invite of an unlisted email (information only).
    ExpiredUnlistedInvite,
    /// An implicit workspace membership the manifest does not declare (information only).
    ImplicitMembership,
    /// An entry whose `expires` date is within `settings.expiry_warning_days`.
    AccessExpiring,
    /// Active key with no usage in the last `settings.api_keys.unused_days` days.
    KeyUnused,
    /// A member removed in stages (`settings.members.removal: staged`): where the removal
    /// stands, with the days left.
    StagedRemoval,
}

/// A hygiene finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HygieneFinding {
    /// Kind.
    pub kind: HygieneKind,
    /// The object.
    pub object: String,
    /// Explanation.
    pub detail: String,
    /// Whether it counts as drift.
    pub is_drift: bool,
    /// The manifest line or setting responsible for the finding, where one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// Counts per category.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftSummary {
    /// Unmanaged findings.
    pub unmanaged: u32,
    /// Changed findings.
    pub changed: u32,
    /// Missing findings.
    pub missing: u32,
    /// Pending findings (not drift).
    pub pending: u32,
    /// Blocked findings.
    pub blocked: u32,
    /// Hygiene findings that count as drift.
    pub hygiene: u32,
    /// Informational hygiene findings.
    pub info: u32,
    /// Plan errors.
    pub errors: u32,
}

fn finding(
    category: DriftCategory,
    object: &str,
    field: Option<&str>,
    wanted: Option<Value>,
    live: Option<Value>,
    detail: String,
) -> Finding {
    Finding {
        category,
        object: object.to_owned(),
        field: field.map(str::to_owned),
        wanted,
        live,
        detail,
        is_drift: category != DriftCategory::Pending,
        source: None,
    }
}

fn sourced(mut finding: Finding, source: Option<&Source>) -> Finding {
    finding.source = source.cloned();
    finding
}

/// Reports how the live organization differs from the manifest, changing nothing.
pub fn drift(manifest: &Manifest, live: &Snapshot, options: &PlanOptions) -> DriftReport {
    let outcome = planner::run(manifest, live, options);
    let plan = outcome.plan;
    let mut report = DriftReport {
        format_version: DRIFT_FORMAT_VERSION,
        organization_id: plan.organization_id.clone(),
        manifest_digest: plan.manifest_digest.clone(),
        live_digest: plan.live_digest.clone(),
        findings: Vec::new(),
        hygiene: Vec::new(),
        errors: plan.errors.clone(),
        refusals: plan
            .refusals
            .iter()
            .filter(|r| matches!(r, Refusal::OrganizationMismatch { .. }))
            .cloned()
            .collect(),
        warnings: plan.warnings.clone(),
        summary: DriftSummary::default(),
        attribution: None,
        refs: std::collections::BTreeMap::new(),
    };
    if report.is_refused() {
        report.summary = summarize(&report);
        return report;
    }
    let mut findings = Vec::new();
    for (action, category) in plan.actions.iter().zip(&outcome.categories) {
        let category = *category;
        let needles = crate::attribution::op_needles(&action.op);
        if !needles.is_empty() {
            report.refs.entry(action.target.clone()).or_insert(needles);
        }
        if category == DriftCategory::Changed && action.kind() != ChangeKind::Remove {
            for c in &action.changes {
                findings.push(sourced(
                    finding(
                        category,
                        &action.target,
                        Some(&c.field),
                        c.after.clone(),
                        c.before.clone(),
                        "differs".to_owned(),
                    ),
                    action.source.as_ref(),
                ));
            }
            continue;
        }
        let detail = match category {
            DriftCategory::Missing => "declared, not live".to_owned(),
            DriftCategory::Unmanaged => {
                format!("live, not declared; the plan would {}", verb(action))
            }
            _ => format!("the plan would {}", verb(action)),
        };
        // An unmanaged object has no wanted value: the manifest does not declare it.
        let (field, wanted, live_value) = match action.changes.as_slice() {
            [one] if category == DriftCategory::Unmanaged => {
                (Some(one.field.as_str()), None, one.before.clone())
            }
            [one] => (
                Some(one.field.as_str()),
                one.after.clone(),
                one.before.clone(),
            ),
            _ => (None, None, None),
        };
        findings.push(sourced(
            finding(category, &action.target, field, wanted, live_value, detail),
            action.source.as_ref(),
        ));
    }
    for u in &plan.unmanaged {
        report
            .refs
            .entry(u.target.clone())
            .or_insert_with(|| crate::attribution::id_needles(&u.id));
        if u.implicit {
            report.hygiene.push(HygieneFinding {
                kind: HygieneKind::ImplicitMembership,
                object: u.target.clone(),
                detail: u.reason.clone(),
                is_drift: false,
                source: None,
            });
            continue;
        }
        findings.push(finding(
            DriftCategory::Unmanaged,
            &u.target,
            None,
            None,
            None,
            u.reason.clone(),
        ));
    }
    for m in &plan.missing {
        findings.push(finding(
            DriftCategory::Missing,
            &m.target,
            None,
            None,
            None,
            m.reason.clone(),
        ));
    }
    for b in &plan.blocked {
        findings.push(sourced(
            finding(
                DriftCategory::Blocked,
                &b.target,
                b.field.as_deref(),
                b.wanted.clone(),
                b.live.clone(),
                format!("{}; {}", b.reason, b.remedy),
            ),
            b.source.as_ref(),
        ));
    }
    for p in &plan.pending {
        match p.kind {
            PendingKind::InvitePending => findings.push(finding(
                DriftCategory::Pending,
                &format!("invite {}", p.email),
                None,
                None,
                Some(Value::String(p.role.as_str().to_owned())),
                format!("invite {} waits for acceptance until {}", p.invite_id, p.expires_at),
            )),
            PendingKind::InviteExpired => report.hygiene.push(HygieneFinding {
                kind: HygieneKind::ExpiredInvite,
                object: format!("invite {}", p.email),
                detail: format!(
                    "invite {} expired at {} and is not re-issued (settings.invites.reissue_expired: false)",
                    p.invite_id, p.expires_at
                ),
                is_drift: true,
                source: manifest.sources.setting("invites.reissue_expired"),
            }),
        }
    }
    let warn_days = manifest
        .settings
        .expiry_warning_days
        .unwrap_or(orgform_manifest::DEFAULT_EXPIRY_WARNING_DAYS);
    for e in &plan.expiring {
        if e.days_left <= i64::from(warn_days) {
            report.hygiene.push(HygieneFinding {
                kind: HygieneKind::AccessExpiring,
                object: e.target.clone(),
                detail: format!(
                    "{} (settings.expiry_warning_days: {warn_days}); then the plan removes it",
                    crate::render::expiring_line(e)
                ),
                is_drift: true,
                source: e.source.clone(),
            });
        }
    }
    for st in &plan.staged {
        // The first stage is drift (this plan has its actions); a removal that only waits
        // for its grace period is not, until the plan removes the member.
        report.hygiene.push(HygieneFinding {
            kind: HygieneKind::StagedRemoval,
            object: st.target.clone(),
            detail: crate::render::staged_line(st),
            is_drift: st.step != crate::StagedStep::Waiting,
            source: st.source.clone(),
        });
    }
    for d in &plan.deferred {
        findings.push(finding(
            DriftCategory::Pending,
            &d.target,
            Some("workspace_role"),
            Some(Value::String(d.role.as_str().to_owned())),
            None,
            format!("deferred: {}", d.reason),
        ));
    }
    // Within a category, objects come in the plan's order of kinds (members, invites,
    // workspaces, workspace members, keys), so `plan` and `drift` list them alike.
    findings.sort_by(|a, b| {
        (a.category, kind_rank(&a.object), &a.object, &a.field).cmp(&(
            b.category,
            kind_rank(&b.object),
            &b.object,
            &b.field,
        ))
    });
    report.findings = findings;
    hygiene(manifest, live, options, &mut report.hygiene);
    for key in &live.api_keys {
        let object = format!("api key {} ({})", key.name, key.id);
        if report.hygiene.iter().any(|h| h.object == object) {
            report
                .refs
                .entry(object)
                .or_insert_with(|| crate::attribution::id_needles(&key.id));
        }
    }
    report
        .hygiene
        .sort_by(|a, b| (a.kind, &a.object).cmp(&(b.kind, &b.object)));
    report.summary = summarize(&report);
    report
}

/// The rank of an object's kind, from its label, in the order of [`crate::ObjectKind`].
fn kind_rank(object: &str) -> u8 {
    const KINDS: [&str; 5] = [
        "member ",
        "invite ",
        "workspace member ",
        "workspace ",
        "api key ",
    ];
    const RANKS: [u8; 5] = [0, 1, 3, 2, 4];
    KINDS
        .iter()
        .position(|kind| object.starts_with(kind))
        .map_or(5, |i| RANKS[i])
}

fn verb(action: &crate::Action) -> &'static str {
    match &action.op {
        crate::Op::RemoveUser { .. } => "remove it",
        crate::Op::RevokeInvite { .. } => "revoke it",
        crate::Op::RemoveWorkspaceMember { .. } => "remove it from the workspace",
        crate::Op::ArchiveWorkspace { .. }
        | crate::Op::ArchiveFederationIssuer { .. }
        | crate::Op::ArchiveFederationRule { .. } => "archive it",
        crate::Op::DisableFederationRuleWorkspace { .. } => "disable it for the workspace",
        crate::Op::UpdateApiKey { .. } => "deactivate it",
        _ => "change it",
    }
}

fn hygiene(
    manifest: &Manifest,
    live: &Snapshot,
    options: &PlanOptions,
    out: &mut Vec<HygieneFinding>,
) {
    let members: HashSet<&str> = live.users.iter().map(|u| u.id.as_str()).collect();
    let archived: HashSet<&str> = live
        .workspaces
        .iter()
        .filter(|w| w.is_archived())
        .map(|w| w.id.as_str())
        .collect();
    let max_age = manifest
        .settings
        .api_keys
        .max_age_days
        .map(|days| jiff::SignedDuration::from_hours(i64::from(days) * 24));
    for key in live
        .api_keys
        .iter()
        .filter(|k| k.status == ApiKeyStatus::Active)
    {
        let object = format!("api key {} ({})", key.name, key.id);
        if let Some(max_age) = max_age {
            let age = options.now.duration_since(key.created_at);
            if age > max_age {
                out.push(HygieneFinding {
                    kind: HygieneKind::KeyTooOld,
                    object: object.clone(),
                    detail: format!(
                        "created {} days ago (settings.api_keys.max_age_days: {}); rotate it",
                        age.as_hours() / 24,
                        manifest.settings.api_keys.max_age_days.unwrap_or_default()
                    ),
                    is_drift: true,
                    source: manifest.sources.setting("api_keys.max_age_days"),
                });
            }
        }
        if let Some(creator) = &key.created_by
            && creator.kind == "user"
            && !members.contains(creator.id.as_str())
        {
            out.push(HygieneFinding {
                kind: HygieneKind::KeyCreatorGone,
                object: object.clone(),
                detail: format!("its creator {} is no longer a member", creator.id),
                is_drift: true,
                source: None,
            });
        }
        if let Some(ws) = &key.workspace_id
            && archived.contains(ws.as_str())
        {
            out.push(HygieneFinding {
                kind: HygieneKind::KeyInArchivedWorkspace,
                object,
                detail: format!("active in archived workspace {ws}"),
                is_drift: true,
                source: None,
            });
        }
    }
    let listed: BTreeSet<String> = manifest
        .members
        .iter()
        .map(|m| normalize_email(&m.email))
        .collect();
    let users: HashSet<String> = live
        .users
        .iter()
        .map(|u| normalize_email(&u.email))
        .collect();
    let mut pending_emails: HashSet<String> = HashSet::new();
    for invite in &live.invites {
        if invite.status == InviteStatus::Pending && invite.expires_at > options.now {
            pending_emails.insert(normalize_email(&invite.email));
        }
    }
    let mut seen = HashSet::new();
    for invite in &live.invites {
        let expired = invite.status == InviteStatus::Expired
            || (invite.status == InviteStatus::Pending && invite.expires_at <= options.now);
        let email = normalize_email(&invite.email);
        if !expired
            || listed.contains(&email)
            || users.contains(&email)
            || pending_emails.contains(&email)
            || !seen.insert(invite.id.clone())
        {
            continue;
        }
        out.push(HygieneFinding {
            kind: HygieneKind::ExpiredUnlistedInvite,
            object: format!("invite {}", invite.email),
            detail: format!(
                "invite {} expired at {}; shown for information only (the API cannot delete expired invites)",
                invite.id, invite.expires_at
            ),
            is_drift: false,
            source: None,
        });
    }
}

pub(crate) fn summarize(report: &DriftReport) -> DriftSummary {
    let mut s = DriftSummary::default();
    for f in &report.findings {
        match f.category {
            DriftCategory::Unmanaged => s.unmanaged += 1,
            DriftCategory::Changed => s.changed += 1,
            DriftCategory::Missing => s.missing += 1,
            DriftCategory::Pending => s.pending += 1,
            DriftCategory::Blocked => s.blocked += 1,
        }
    }
    for h in &report.hygiene {
        if h.is_drift {
            s.hygiene += 1;
        } else {
            s.info += 1;
        }
    }
    s.errors = u32::try_from(report.errors.len()).unwrap_or(u32::MAX);
    s
}

#[cfg(test)]
mod tests {
    use super::kind_rank;

    #[test]
    fn kinds_rank_in_the_plans_order() {
        let objects = [
            "member a@x.example",
            "invite b@x.example",
            "workspace Research",
            "workspace member a@x.example in Research",
            "api key default (apikey_1)",
        ];
        let ranks: Vec<u8> = objects.iter().map(|o| kind_rank(o)).collect();
        assert_eq!(ranks, [0, 1, 2, 3, 4]);
    }
}
