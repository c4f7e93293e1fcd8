//! Destructive limits: how many destructive actions of one kind a run may take.
//!
//! Each kind (member removals, invite revocations, workspace member removals, key
//! deactivations and archivals, workspace archives, service account archives, removals of
//! service accounts from workspaces) is checked on its own, against the live
//! objects of that kind: members; pending invites; explicit workspace memberships (an implicit
//! one the API may list, an org admin's `workspace_admin` or a billing member's
//! `workspace_billing`, does not count) as read for a plan, which reads the members of
//! non-archived workspaces only; active and inactive keys; non-archived workspaces;
//! non-archived service accounts; explicit service-account memberships as read (the implicit
//! default-workspace one is never read).
//!
//! The limit of a kind is the smaller of `settings.limits.max_destructive` and the percent
//! limit. Rounding of the percent limit: `floor(live * percent / 100)`, but never below 1
//! while `percent > 0` and the kind has live objects — otherwise a small organization (three
//! members at 25 %) could never remove anyone without an override, which teaches people to
//! always pass one. `max_destructive_percent: 0` (or `max_destructive: 0`) forbids the kind.
//! `--allow-destructive N` replaces both limits for that run: up to N of each kind.

use orgform_manifest::Manifest;
use std::collections::HashMap;

use orgform_model::{ApiKeyStatus, InviteStatus, Snapshot, User};

use crate::types::{Action, DestructiveKind, Refusal};

/// The live objects a kind counts against.
pub fn live_total(live: &Snapshot, kind: DestructiveKind) -> u32 {
    let n = match kind {
        DestructiveKind::MemberRemovals => live.users.len(),
        DestructiveKind::InviteRevocations => live
            .invites
            .iter()
            .filter(|i| i.status == InviteStatus::Pending)
            .count(),
        DestructiveKind::WorkspaceMemberRemovals => {
            let users: HashMap<&str, &User> =
                live.users.iter().map(|u| (u.id.as_str(), u)).collect();
            live.workspace_members
                .iter()
                .filter(|wm| {
                    !users
                        .get(wm.user_id.as_str())
                        .is_some_and(|u| crate::planner::is_implicit(u, wm))
                })
                .count()
        }
        DestructiveKind::KeyDeactivations => live
            .api_keys
            .iter()
            .filter(|k| matches!(k.status, ApiKeyStatus::Active | ApiKeyStatus::Inactive))
            .count(),
        DestructiveKind::WorkspaceArchives => {
            live.workspaces.iter().filter(|w| !w.is_archived()).count()
        }
        DestructiveKind::FederationIssuerArchives => live.identities.as_ref().map_or(0, |i| {
            i.federation_issuers
                .iter()
                .filter(|x| !x.is_archived())
                .count()
        }),
        DestructiveKind::FederationRuleArchives => live.identities.as_ref().map_or(0, |i| {
            i.federation_rules
                .iter()
                .filter(|r| !r.is_archived())
                .count()
        }),
        DestructiveKind::FederationRuleWorkspaceRemovals => {
            live.identities.as_ref().map_or(0, |i| {
                i.federation_rules
                    .iter()
                    .filter(|r| !r.is_archived())
                    .map(|r| r.workspace_ids.len() + usize::from(r.applies_to_all_workspaces))
                    .sum()
            })
        }
        DestructiveKind::ServiceAccountArchives => live.identities.as_ref().map_or(0, |ids| {
            ids.service_accounts
                .iter()
                .filter(|s| !s.is_archived())
                .count()
        }),
        // Explicit memberships in listed workspaces only: an entry of the default workspace
        // (the implicit membership, should a read ever carry it) can never be removed.
        DestructiveKind::ServiceAccountMemberRemovals => {
            live.identities.as_ref().map_or(0, |ids| {
                ids.service_account_members
                    .iter()
                    .filter(|m| live.workspace(&m.workspace_id).is_some())
                    .count()
            })
        }
    };
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The percent limit: `floor(total * percent / 100)`, at least 1 when both are non-zero.
pub fn percent_limit(total: u32, percent: u32) -> u32 {
    if percent == 0 || total == 0 {
        return 0;
    }
    let floor = u64::from(total) * u64::from(percent) / 100;
    u32::try_from(floor).unwrap_or(u32::MAX).max(1)
}

/// The limit for a kind: `--allow-destructive N` if given, else the smaller of the count and
/// percent limits.
pub fn limit(count_limit: u32, percent: u32, total: u32, allow_destructive: Option<u32>) -> u32 {
    allow_destructive.unwrap_or_else(|| count_limit.min(percent_limit(total, percent)))
}

/// The refusals for every kind whose destructive actions exceed its limit.
pub fn check(
    manifest: &Manifest,
    live: &Snapshot,
    actions: &[Action],
    allow_destructive: Option<u32>,
) -> Vec<Refusal> {
    let limits = &manifest.settings.limits;
    let mut refusals = Vec::new();
    for kind in DestructiveKind::ALL {
        let count = actions
            .iter()
            .filter(|a| a.destructive_kind() == Some(kind))
            .count();
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        if count == 0 {
            continue;
        }
        let total = live_total(live, kind);
        let limit = limit(
            limits.max_destructive,
            limits.max_destructive_percent,
            total,
            allow_destructive,
        );
        if count > limit {
            let override_hint = match allow_destructive {
                Some(n) => format!(
                    "this run allows {n} (--allow-destructive); pass --allow-destructive {count} to allow them"
                ),
                None => format!(
                    "pass --allow-destructive {count}, or raise settings.limits.max_destructive ({}) / max_destructive_percent ({})",
                    limits.max_destructive, limits.max_destructive_percent
                ),
            };
            refusals.push(Refusal::DestructiveLimit {
                destructive_kind: kind,
                count,
                limit,
                live_total: total,
                override_hint,
            });
        }
    }
    refusals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_limit_floors_but_keeps_one() {
        assert_eq!(percent_limit(100, 25), 25);
        assert_eq!(percent_limit(10, 25), 2, "2.5 floors to 2");
        assert_eq!(percent_limit(3, 25), 1, "0.75 would floor to 0; at least 1");
        assert_eq!(percent_limit(0, 25), 0, "nothing live, nothing to remove");
        assert_eq!(percent_limit(50, 0), 0, "0 % forbids the kind");
        assert_eq!(percent_limit(u32::MAX, 100), u32::MAX);
    }

    #[test]
    fn smaller_limit_wins_and_override_replaces_both() {
        assert_eq!(limit(10, 25, 1000, None), 10, "count is smaller");
        assert_eq!(limit(10, 25, 20, None), 5, "percent is smaller");
        assert_eq!(limit(0, 25, 20, None), 0);
        assert_eq!(limit(10, 25, 20, Some(50)), 50, "override replaces both");
        assert_eq!(limit(10, 25, 20, Some(0)), 0);
    }
}
