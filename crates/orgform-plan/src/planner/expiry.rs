//! Time-boxed access: `expires: YYYY-MM-DD` on a member entry or a workspace grant.
//!
//! - The entry is in force through the end of that day, UTC; "today" is the day of
//!   [`crate::PlanOptions::now`], the API's clock (as for invite expiry).
//! - Before the end, the entry is planned as any other and listed under `expiring` with the
//!   whole days left (0 on the last day).
//! - From the first plan after the end: a live member is removed (`remove_user`, destructive,
//!   under the member removal limit; in two stages under `settings.members.removal: staged`,
//!   see [`super::staged`]), a pending invite is revoked (destructive), nobody is
//!   invited, and the person's workspace grants in the manifest are not planned. Admins and
//!   owners cannot be removed through the API, and protected emails are never removed: both
//!   are blocked, and their grants are planned as usual.
//! - A workspace grant (`email: {role, expires}`) works the same way for one membership:
//!   listed under `expiring` before the end; from the first plan after it, the grant is not
//!   planned and a live explicit membership is removed (`remove_workspace_member`,
//!   destructive, under the workspace member removal limit), whatever
//!   `settings.workspace_members.unmanaged` says. A protected email's membership, an org
//!   admin's or billing member's (which the API does not remove), and one whose role orgform
//!   does not know are blocked; an implicit membership is left alone (it comes with the org
//!   role); a person this plan removes loses it with the removal.

use std::collections::BTreeMap;

use orgform_manifest::{Expiry, MemberSpec, WorkspaceSpec};
use orgform_model::{WorkspaceMember, normalize_email};

use super::{Draft, Engine, change, class, is_implicit, s};
use crate::DriftCategory;
use crate::types::{BlockedKind, Expiring, Op};

impl<'a> Engine<'a> {
    /// Plans the expiry of `members[index]`; returns whether its access has ended (then the
    /// entry is planned no further).
    pub(super) fn plan_member_expiry(
        &mut self,
        index: usize,
        spec: &MemberSpec,
        expiry: Expiry,
    ) -> bool {
        let source = self.m.sources.member_field(index, "expires");
        if !expiry.has_passed(self.now) {
            self.expiring.push(Expiring {
                target: format!("member {}", spec.email),
                expires: expiry,
                days_left: expiry.days_left(self.now),
                source,
            });
            return false;
        }
        self.here = source;
        let email = normalize_email(&spec.email);
        let ended = format!("access ended with {expiry} (expires: {expiry}, UTC)");
        if let Some(user) = self.users_by_email.get(&email).copied() {
            let target = format!("member {}", spec.email);
            if self.is_protected(&spec.email) {
                self.block(
                    BlockedKind::Protected,
                    target,
                    Some("expires"),
                    Some(s(user.role.as_str())),
                    None,
                    "this email is protected (settings.protected): it is never removed",
                    "remove the email from settings.protected, or move the `expires` date",
                );
                return false;
            }
            if user.role.is_administrative() {
                self.block(
                    BlockedKind::AdministrativeRemoval,
                    target,
                    Some("expires"),
                    Some(s(user.role.as_str())),
                    None,
                    "admins and owners cannot be removed through the API",
                    "remove this person in the Console, or move the `expires` date",
                );
                return false;
            }
            self.remove_user(user, target, DriftCategory::Changed, Some(ended));
        } else {
            let pending: Vec<_> = self
                .invites_by_email
                .get(&email)
                .map(|list| {
                    list.iter()
                        .copied()
                        .filter(|i| self.invite_pending(i))
                        .collect()
                })
                .unwrap_or_default();
            for invite in pending {
                self.drafts.push(Draft {
                    class: class::INVITE_REVOCATION,
                    sort_key: format!("{email}\u{0}{}", invite.id),
                    key: format!("revoke:{}", invite.id),
                    op: Op::RevokeInvite {
                        invite_id: invite.id.clone(),
                        email: invite.email.clone(),
                    },
                    target: format!("invite {}", invite.email),
                    changes: vec![change("status", Some(s("pending")), Some(s("deleted")))],
                    destructive: true,
                    irreversible: false,
                    deps: Vec::new(),
                    consequences: vec![ended.clone()],
                    category: DriftCategory::Changed,
                    source: self.here.clone(),
                });
            }
        }
        self.expired.insert(email);
        true
    }

    /// Plans the expiry of the grant `email` in the workspace entry `workspaces[index]`
    /// (`live_members`: the live workspace's memberships by user id).
    pub(super) fn plan_grant_expiry(
        &mut self,
        index: usize,
        ws: &WorkspaceSpec,
        live_members: &BTreeMap<&str, &'a WorkspaceMember>,
        email: &str,
        expiry: Expiry,
    ) -> GrantEnd<'a> {
        let source = self
            .m
            .sources
            .workspace_field(index, &format!("members.{email}.expires"));
        let target = format!("workspace member {email} in {}", ws.name);
        if !expiry.has_passed(self.now) {
            self.expiring.push(Expiring {
                target,
                expires: expiry,
                days_left: expiry.days_left(self.now),
                source,
            });
            return GrantEnd::InForce;
        }
        self.here = source;
        let Some(user) = self.users_by_email.get(&normalize_email(email)).copied() else {
            return GrantEnd::Ended(None);
        };
        let uid = user.id.as_str();
        let Some(wm) = live_members.get(uid).copied() else {
            return GrantEnd::Ended(Some(uid));
        };
        if self.removed_users.contains(uid) || is_implicit(user, wm) {
            return GrantEnd::Ended(Some(uid));
        }
        if !wm.workspace_role.is_known() {
            self.block_unknown_role(target, wm, None);
            return GrantEnd::Ended(Some(uid));
        }
        let live_role = Some(s(wm.workspace_role.as_str()));
        if self.is_protected(email) {
            self.block(
                BlockedKind::Protected,
                target,
                Some("expires"),
                live_role,
                None,
                "this email is protected (settings.protected): its memberships are never removed",
                "remove the email from settings.protected, or move the `expires` date",
            );
            return GrantEnd::Ended(Some(uid));
        }
        if let Some(role) = self.effective_role.get(uid)
            && role.implicit_workspace_role().is_some()
        {
            self.block(
                BlockedKind::ImplicitWorkspaceRole,
                target,
                Some("expires"),
                live_role,
                None,
                &format!("as an org {role} this person cannot be removed from a workspace through the API"),
                "remove the membership in the Console, or change the org role first",
            );
            return GrantEnd::Ended(Some(uid));
        }
        self.drafts.push(Draft {
            class: class::WORKSPACE_MEMBER_REMOVAL,
            sort_key: format!("{}\u{0}{}\u{0}{uid}", ws.name, normalize_email(email)),
            key: format!("wm-remove:{}/{uid}", wm.workspace_id),
            op: Op::RemoveWorkspaceMember {
                workspace_id: wm.workspace_id.clone(),
                user_id: uid.to_owned(),
                email: user.email.clone(),
            },
            target,
            changes: vec![change("workspace_role", live_role, None)],
            destructive: true,
            irreversible: false,
            deps: Vec::new(),
            consequences: vec![format!(
                "access ended with {expiry} (expires: {expiry}, UTC)"
            )],
            category: DriftCategory::Changed,
            source: self.here.clone(),
        });
        GrantEnd::Ended(Some(uid))
    }
}

/// Whether a time-boxed grant is still in force.
pub(super) enum GrantEnd<'a> {
    /// In force: planned as any other grant.
    InForce,
    /// Ended: not planned; the live user it accounts for, if any (its membership is handled).
    Ended(Option<&'a str>),
}
