//! Time-boxed access: `expires: YYYY-MM-DD` on a member entry.
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

use orgform_manifest::{Expiry, MemberSpec};
use orgform_model::normalize_email;

use super::{Draft, Engine, change, class, s};
use crate::DriftCategory;
use crate::types::{BlockedKind, Expiring, Op};

impl Engine<'_> {
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
}
