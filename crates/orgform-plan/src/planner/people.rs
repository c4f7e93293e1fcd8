//! People: organization members and their invites.
//!
//! - An invite counts as expired when its status is `expired` or when it is `pending` but its
//!   `expires_at` is not after [`crate::PlanOptions::now`] (the API derives the status from the
//!   clock, so both views agree).
//! - An `admin` entry is also satisfied by a live `owner` or `primary_owner` (the Console
//!   counts owners as admins). Any other change to or from an administrative role (admin,
//!   owner, primary owner, membership admin, or a role orgform does not know) is blocked.
//! - "Demoting" a protected person means any role change that is not strictly upwards along
//!   user/managed < claude_code_user < developer < billing < admin; the same goes for their
//!   pending invite's role and their explicit workspace roles (workspace_user <
//!   workspace_restricted_developer < workspace_developer < workspace_admin).
//! - A removed member's explicit workspace memberships end with them: no separate actions.
//! - A pending invite with the wanted role waits, even an `admin` invite sent from the
//!   Console; only a new or changed invite with an administrative role is blocked.

use std::collections::HashSet;

use orgform_manifest::{InvitePolicy, MemberPolicy, MemberSpec};
use orgform_model::{Invite, OrgRole, User, normalize_email};

use super::{Draft, Engine, change, class, s};
use crate::DriftCategory;
use crate::types::{BlockedKind, ObjectKind, Op, Pending, PendingKind, PlanErrorKind};

impl<'a> Engine<'a> {
    pub(super) fn plan_people(&mut self) {
        let m = self.m;
        let mut seen = HashSet::with_capacity(m.members.len());
        for (index, spec) in m.members.iter().enumerate() {
            self.here = m.sources.member(index);
            let email = normalize_email(&spec.email);
            if !seen.insert(email.clone()) {
                self.error(
                    PlanErrorKind::DuplicateMatch,
                    format!("member {}", spec.email),
                    format!(
                        "{} is listed twice under `members` (emails compare case-insensitively)",
                        spec.email
                    ),
                    "keep one entry per person",
                );
                continue;
            }
            if let Some(expiry) = spec.expires {
                if self.plan_member_expiry(index, spec, expiry) {
                    continue;
                }
                self.here = m.sources.member(index);
            }
            if let Some(user) = self.users_by_email.get(&email).copied() {
                self.plan_member_role(spec, user);
            } else {
                self.plan_invitee(spec, &email);
            }
        }
    }

    fn plan_member_role(&mut self, spec: &MemberSpec, user: &'a User) {
        if role_satisfied(&user.role, &spec.role) {
            return;
        }
        let target = format!("member {}", spec.email);
        let before = Some(s(user.role.as_str()));
        let after = Some(s(spec.role.as_str()));
        if user.role.is_administrative() || spec.role.is_administrative() {
            self.block(
                BlockedKind::AdministrativeRole,
                target,
                Some("role"),
                before,
                after,
                "the API can neither grant nor revoke admin or owner roles",
                "change this person's role in the Console",
            );
            return;
        }
        if self.is_protected(&spec.email) && org_rank(&spec.role) <= org_rank(&user.role) {
            self.block(
                BlockedKind::Protected,
                target,
                Some("role"),
                before,
                after,
                "this email is protected (settings.protected): it is never demoted",
                "remove the email from settings.protected, or keep its current role in the manifest",
            );
            return;
        }
        let key = format!("role:{}", user.id);
        self.role_update_key.insert(user.id.as_str(), key.clone());
        self.effective_role
            .insert(user.id.as_str(), spec.role.clone());
        self.drafts.push(Draft {
            class: class::ROLE_UPDATE,
            sort_key: format!("{}\u{0}{}", normalize_email(&spec.email), user.id),
            key,
            op: Op::UpdateUserRole {
                user_id: user.id.clone(),
                email: user.email.clone(),
                role: spec.role.clone(),
            },
            target,
            changes: vec![change("role", before, after)],
            destructive: false,
            irreversible: false,
            deps: Vec::new(),
            consequences: Vec::new(),
            category: DriftCategory::Changed,
            source: self.here.clone(),
        });
    }

    fn plan_invitee(&mut self, spec: &MemberSpec, email: &str) {
        let invites: Vec<&'a Invite> = self
            .invites_by_email
            .get(email)
            .cloned()
            .unwrap_or_default();
        let pending = invites.iter().copied().find(|i| self.invite_pending(i));
        let expired = invites.iter().copied().find(|i| self.invite_expired(i));
        let target = format!("invite {}", spec.email);
        if let Some(invite) = pending
            && invite.role == spec.role
        {
            // Waiting for acceptance (even an admin invite sent from the Console).
            self.pending.push(Pending {
                kind: PendingKind::InvitePending,
                email: spec.email.clone(),
                invite_id: invite.id.clone(),
                role: invite.role.clone(),
                expires_at: invite.expires_at,
            });
            return;
        }
        if spec.role.is_administrative() {
            self.block(
                BlockedKind::AdministrativeInvite,
                target,
                Some("role"),
                pending.map(|i| s(i.role.as_str())),
                Some(s(spec.role.as_str())),
                "the API cannot invite someone with an admin or owner role",
                "invite this person from the Console, or list a non-admin role and promote them there later",
            );
            return;
        }
        if let Some(invite) = pending {
            if self.is_protected(&spec.email) && org_rank(&spec.role) <= org_rank(&invite.role) {
                self.block(
                    BlockedKind::Protected,
                    target,
                    Some("role"),
                    Some(s(invite.role.as_str())),
                    Some(s(spec.role.as_str())),
                    "this email is protected (settings.protected): it is never demoted",
                    "remove the email from settings.protected, or keep the invite's role in the manifest",
                );
                return;
            }
            let key = format!("invite:{email}");
            self.invite_key.insert(email.to_owned(), key.clone());
            self.drafts.push(Draft {
                class: class::INVITE,
                sort_key: email.to_owned(),
                key,
                op: Op::ReplaceInvite {
                    invite_id: invite.id.clone(),
                    email: spec.email.clone(),
                    role: spec.role.clone(),
                },
                target,
                changes: vec![change(
                    "role",
                    Some(s(invite.role.as_str())),
                    Some(s(spec.role.as_str())),
                )],
                destructive: false,
                irreversible: false,
                deps: Vec::new(),
                consequences: vec![format!(
                    "invite {} is deleted and a new one is sent; the 21 days start again",
                    invite.id
                )],
                category: DriftCategory::Changed,
                source: self.here.clone(),
            });
            return;
        }
        let mut consequences = Vec::new();
        let mut changes = vec![change("role", None, Some(s(spec.role.as_str())))];
        if let Some(old) = expired {
            if !self.m.settings.invites.reissue_expired {
                self.pending.push(Pending {
                    kind: PendingKind::InviteExpired,
                    email: spec.email.clone(),
                    invite_id: old.id.clone(),
                    role: old.role.clone(),
                    expires_at: old.expires_at,
                });
                return;
            }
            changes.insert(0, change("status", Some(s("expired")), Some(s("pending"))));
            consequences.push(format!("re-issues expired invite {}", old.id));
        }
        let key = format!("invite:{email}");
        self.invite_key.insert(email.to_owned(), key.clone());
        self.drafts.push(Draft {
            class: class::INVITE,
            sort_key: email.to_owned(),
            key,
            op: Op::CreateInvite {
                email: spec.email.clone(),
                role: spec.role.clone(),
            },
            target,
            changes,
            destructive: false,
            irreversible: false,
            deps: Vec::new(),
            consequences,
            category: DriftCategory::Missing,
            source: self.here.clone(),
        });
    }

    pub(super) fn plan_unlisted_users(&mut self) {
        let policy = self.m.settings.members.unmanaged;
        if policy == MemberPolicy::Ignore {
            return;
        }
        self.here = self.m.sources.setting("members.unmanaged");
        // The index is keyed by normalised email: only the unlisted are normalised again.
        let mut users: Vec<&'a User> = self
            .users_by_email
            .iter()
            .filter(|(email, _)| !self.listed.contains_key(*email))
            .map(|(_, user)| *user)
            .collect();
        users.sort_by(|a, b| a.id.cmp(&b.id));
        for user in users {
            let target = format!("member {}", user.email);
            if self.is_protected(&user.email) {
                self.unmanaged(
                    ObjectKind::Member,
                    &user.id,
                    target,
                    "not declared; protected (settings.protected): kept",
                    true,
                );
                continue;
            }
            match policy {
                MemberPolicy::Ignore => {}
                MemberPolicy::Report => self.unmanaged(
                    ObjectKind::Member,
                    &user.id,
                    target,
                    "not declared; settings.members.unmanaged: report",
                    false,
                ),
                MemberPolicy::Remove if user.role.is_administrative() => self.block(
                    BlockedKind::AdministrativeRemoval,
                    target,
                    None,
                    Some(s(user.role.as_str())),
                    None,
                    "admins and owners cannot be removed through the API",
                    "list this person in the manifest, or remove them in the Console",
                ),
                MemberPolicy::Remove => {
                    self.remove_user(user, target, DriftCategory::Unmanaged, None);
                }
            }
        }
    }

    pub(super) fn plan_unlisted_invites(&mut self) {
        let policy = self.m.settings.invites.unmanaged;
        if policy == InvitePolicy::Ignore {
            return;
        }
        self.here = self.m.sources.setting("invites.unmanaged");
        let mut found: Vec<&'a Invite> = Vec::new();
        for (email, invites) in &self.invites_by_email {
            if self.listed.contains_key(email) || self.users_by_email.contains_key(email) {
                continue;
            }
            found.extend(invites.iter().copied().filter(|i| self.invite_pending(i)));
        }
        for invite in found {
            let target = format!("invite {}", invite.email);
            if self.is_protected(&invite.email) {
                self.unmanaged(
                    ObjectKind::Invite,
                    &invite.id,
                    target,
                    "not declared; protected (settings.protected): kept",
                    true,
                );
                continue;
            }
            match policy {
                InvitePolicy::Ignore => {}
                InvitePolicy::Report => self.unmanaged(
                    ObjectKind::Invite,
                    &invite.id,
                    target,
                    "not declared; settings.invites.unmanaged: report",
                    false,
                ),
                InvitePolicy::Revoke => self.drafts.push(Draft {
                    class: class::INVITE_REVOCATION,
                    sort_key: format!("{}\u{0}{}", normalize_email(&invite.email), invite.id),
                    key: format!("revoke:{}", invite.id),
                    op: Op::RevokeInvite {
                        invite_id: invite.id.clone(),
                        email: invite.email.clone(),
                    },
                    target,
                    changes: vec![change("status", Some(s("pending")), Some(s("deleted")))],
                    destructive: true,
                    irreversible: false,
                    deps: Vec::new(),
                    consequences: Vec::new(),
                    category: DriftCategory::Unmanaged,
                    source: self.here.clone(),
                }),
            }
        }
    }
}

/// Rank of an org role for "demotion" of protected people.
fn org_rank(role: &OrgRole) -> u8 {
    match role {
        OrgRole::User | OrgRole::Managed => 0,
        OrgRole::ClaudeCodeUser => 1,
        OrgRole::Developer => 2,
        OrgRole::Billing => 3,
        OrgRole::Admin | OrgRole::MembershipAdmin | OrgRole::Unknown(_) => 4,
        OrgRole::Owner => 5,
        OrgRole::PrimaryOwner => 6,
    }
}

/// Whether the live role already is the wanted one (`admin` is satisfied by owners).
fn role_satisfied(live: &OrgRole, wanted: &OrgRole) -> bool {
    live == wanted
        || (*wanted == OrgRole::Admin && matches!(live, OrgRole::Owner | OrgRole::PrimaryOwner))
}
