//! Member removal, at once or in stages (`settings.members.removal`).
//!
//! Every path that removes a member (an unlisted one under `settings.members.unmanaged:
//! remove`, one whose `expires` date has passed) goes through [`Engine::remove_user`]. With
//! `removal: immediate` (the default) the removal is planned at once. With `removal: staged`:
//!
//! - **Stage 1**, while the person still has access (an explicit workspace membership in a
//!   non-archived workspace, or an active API key they created): this plan deactivates those
//!   keys and removes those memberships, every one destructive and under the usual limits. A
//!   key the manifest declares `status: active`, or a membership the API cannot remove (an
//!   org billing member's), blocks the stage: a person must decide. Keys of a workspace this
//!   plan archives are left to the archive.
//! - **Waiting**, once the live state shows no such access: the removal waits until
//!   `grace_days` have passed since the audit snapshot (`orgform snapshot --out`, given by
//!   `--audit-snapshot`) first recorded the person without access (`no_access_since`). No
//!   snapshot given, or no date recorded for the person: the removal is never planned, and
//!   the plan says which evidence is missing. The date is never guessed, and a snapshot only
//!   records it after the fact, so the grace period can only come out longer, never shorter.
//! - **Removal**: on the first plan at or after `no_access_since + grace_days`, the member
//!   removal is planned as with `immediate` (destructive, under the member removal limit).
//!
//! Admins, owners and protected emails are handled by the callers as before (blocked or
//! kept); they never reach a stage.

use std::fmt::Write as _;

use jiff::SignedDuration;
use orgform_manifest::{RemovalPolicy, Source};
use orgform_model::{ApiKeyStatus, User, normalize_email};

use super::{Draft, Engine, change, class, s};
use crate::DriftCategory;
use crate::types::{BlockedKind, ObjectKind, Op, Staged, StagedStep};

/// A person in the first stage, whose access is revoked after the keys are planned.
pub(super) struct Leaving<'a> {
    user: &'a User,
    target: String,
    category: DriftCategory,
    source: Option<Source>,
}

impl<'a> Engine<'a> {
    /// Plans the removal of `user` (labelled `target`) under `settings.members.removal`;
    /// `why` is the first consequence shown (e.g. the date their access ended).
    pub(super) fn remove_user(
        &mut self,
        user: &'a User,
        target: String,
        category: DriftCategory,
        why: Option<String>,
    ) {
        if self.m.settings.members.removal == RemovalPolicy::Immediate {
            self.draft_removal(user, target, category, why.into_iter().collect());
            return;
        }
        let id = user.id.as_str();
        if self.wm_by_user.contains_key(id) || self.active_keys_by_creator.contains_key(id) {
            self.leaving.push(Leaving {
                user,
                target,
                category,
                source: self.here.clone(),
            });
            return;
        }
        let grace = self.m.settings.members.grace_days();
        let since = self
            .no_access
            .and_then(|record| record.since.get(id))
            .copied();
        let from = since.and_then(|t| {
            t.checked_add(SignedDuration::from_hours(24 * i64::from(grace)))
                .ok()
        });
        let mut staged = Staged {
            target: target.clone(),
            user_id: user.id.clone(),
            step: StagedStep::Waiting,
            no_access_since: since,
            removal_from: from,
            days_left: None,
            detail: String::new(),
            source: self.here.clone(),
        };
        match (self.no_access, since, from) {
            (None, _, _) => {
                staged.detail.push_str(
                    "no access left; the removal is not planned: no audit snapshot was given \
                     (--audit-snapshot PATH), so when the grace period started is unknown",
                );
            }
            (Some(record), None, _) | (Some(record), Some(_), None) => {
                staged.detail = format!(
                    "no access left; the removal is not planned: {} does not record since when \
                     (no `no_access_since`); it is planned {grace} day(s) after `orgform snapshot \
                     --out` first records it",
                    record.file
                );
            }
            (Some(_), Some(since), Some(from)) if self.now < from => {
                let secs = from.duration_since(self.now).as_secs();
                let days = (secs + 86_399) / 86_400;
                staged.days_left = Some(days);
                staged.detail = format!(
                    "no access since {since} (audit snapshot); removal from {from}, {days} \
                     day(s) left (settings.members.grace_days: {grace})"
                );
            }
            (Some(_), Some(since), Some(_)) => {
                staged.step = StagedStep::Removing;
                staged.detail = format!(
                    "no access since {since} (audit snapshot); the grace period of {grace} \
                     day(s) has passed: this plan removes the member"
                );
                let mut consequences: Vec<String> = why.into_iter().collect();
                consequences.push(format!(
                    "staged removal: without access since {since}, {grace} day(s) of grace passed"
                ));
                self.draft_removal(user, target, category, consequences);
            }
        }
        self.staged.push(staged);
    }

    /// The `remove_user` action itself; `consequences` come first.
    fn draft_removal(
        &mut self,
        user: &'a User,
        target: String,
        category: DriftCategory,
        mut consequences: Vec<String>,
    ) {
        self.removed_users.insert(user.id.as_str());
        if let Some(list) = self.wm_by_user.get(user.id.as_str()) {
            consequences.push(format!(
                "{} explicit workspace membership(s) end with it",
                list.len()
            ));
        }
        if let Some(n) = self.keys_by_creator.get(user.id.as_str()) {
            consequences.push(format!(
                "{n} api key(s) this person created keep their status (Claude Code keys stop working)"
            ));
        }
        self.drafts.push(Draft {
            class: class::MEMBER_REMOVAL,
            sort_key: format!("{}\u{0}{}", normalize_email(&user.email), user.id),
            key: format!("remove-user:{}", user.id),
            op: Op::RemoveUser {
                user_id: user.id.clone(),
                email: user.email.clone(),
            },
            target,
            changes: vec![change("role", Some(s(user.role.as_str())), None)],
            destructive: true,
            irreversible: false,
            deps: Vec::new(),
            consequences,
            category,
            source: self.here.clone(),
        });
    }

    /// Stage 1 of every staged removal: deactivates the keys and removes the explicit
    /// workspace memberships, after the key entries were planned (so that a key entry's own
    /// change, or a membership removal already planned, is not planned twice).
    pub(super) fn plan_staged_access(&mut self) {
        let leaving = std::mem::take(&mut self.leaving);
        for person in leaving {
            self.here = person.source.clone();
            let (keys, held_keys) = self.stage_keys(&person);
            let (memberships, held_memberships) = self.stage_memberships(&person);
            let grace = self.m.settings.members.grace_days();
            let mut detail = format!(
                "stage 1: this plan deactivates {keys} active api key(s) they created and removes \
                 {memberships} explicit workspace membership(s); the removal is planned {grace} \
                 day(s) after the audit snapshot records them without access"
            );
            if held_keys + held_memberships > 0 {
                let _ = write!(
                    detail,
                    "; {} blocked (see Blocked), so the stage cannot finish yet",
                    held_keys + held_memberships
                );
            }
            self.staged.push(Staged {
                target: person.target.clone(),
                user_id: person.user.id.clone(),
                step: StagedStep::RevokingAccess,
                no_access_since: None,
                removal_from: None,
                days_left: None,
                detail,
                source: person.source.clone(),
            });
        }
    }

    /// Deactivates the active keys `person` created; returns (planned, blocked).
    fn stage_keys(&mut self, person: &Leaving<'a>) -> (usize, usize) {
        let keys = self
            .active_keys_by_creator
            .get(person.user.id.as_str())
            .cloned()
            .unwrap_or_default();
        let (mut planned, mut held) = (0, 0);
        for key in keys {
            if key
                .workspace_id
                .as_ref()
                .is_some_and(|w| self.archiving.contains(w))
            {
                continue; // the archive deactivates it
            }
            let draft_key = format!("key:{}", key.id);
            let target = format!("api key {} ({})", key.name, key.id);
            if self.declared_keys.get(key.id.as_str()) == Some(&Some(ApiKeyStatus::Active)) {
                self.block(
                    BlockedKind::StagedRemoval,
                    target,
                    Some("status"),
                    Some(s("active")),
                    Some(s("inactive")),
                    &format!(
                        "{} is being removed in stages, but `api_keys` keeps this key they created active",
                        person.target
                    ),
                    "drop `status: active` from the key's entry (or set it inactive), or keep the person",
                );
                held += 1;
                continue;
            }
            // Reported as unmanaged no more: this plan deactivates it.
            self.unmanaged
                .retain(|u| !(u.kind == ObjectKind::ApiKey && u.id == key.id));
            let consequence = format!("stage 1 of the staged removal of {}", person.target);
            if let Some(draft) = self.drafts.iter_mut().find(|d| d.key == draft_key) {
                if let Op::UpdateApiKey { status, .. } = &mut draft.op
                    && !matches!(
                        status,
                        Some(ApiKeyStatus::Inactive | ApiKeyStatus::Archived)
                    )
                {
                    // A rename the key entry asks for: the same call also deactivates.
                    *status = Some(ApiKeyStatus::Inactive);
                    draft
                        .changes
                        .push(change("status", Some(s("active")), Some(s("inactive"))));
                    draft.class = class::KEY_DESTRUCTIVE;
                    draft.destructive = true;
                    draft.consequences.push(consequence);
                }
                planned += 1;
                continue;
            }
            self.drafts.push(Draft {
                class: class::KEY_DESTRUCTIVE,
                sort_key: format!("{}\u{0}{}", key.name, key.id),
                key: draft_key,
                op: Op::UpdateApiKey {
                    key_id: key.id.clone(),
                    name: None,
                    status: Some(ApiKeyStatus::Inactive),
                },
                target,
                changes: vec![change("status", Some(s("active")), Some(s("inactive")))],
                destructive: true,
                irreversible: false,
                deps: Vec::new(),
                consequences: vec![consequence],
                category: person.category,
                source: self.here.clone(),
            });
            planned += 1;
        }
        (planned, held)
    }

    /// Removes the explicit workspace memberships of `person`; returns (planned, blocked).
    fn stage_memberships(&mut self, person: &Leaving<'a>) -> (usize, usize) {
        let user = person.user;
        let list = self
            .wm_by_user
            .get(user.id.as_str())
            .cloned()
            .unwrap_or_default();
        let (mut planned, mut held) = (0, 0);
        for wm in list {
            if self.archiving.contains(&wm.workspace_id) {
                continue; // the archive ends it
            }
            let draft_key = format!("wm-remove:{}/{}", wm.workspace_id, user.id);
            let id = format!("{}/{}", wm.workspace_id, user.id);
            if self.drafts.iter().any(|d| d.key == draft_key) {
                planned += 1;
                continue;
            }
            let ws_name = self
                .ws_by_id
                .get(wm.workspace_id.as_str())
                .map_or_else(|| wm.workspace_id.clone(), |w| w.name.clone());
            let target = format!("workspace member {} in {ws_name}", user.email);
            if !wm.workspace_role.is_known() {
                self.block_unknown_role(target, wm, None);
                held += 1;
                continue;
            }
            if let Some(role) = self.effective_role.get(user.id.as_str())
                && role.implicit_workspace_role().is_some()
            {
                self.block(
                    BlockedKind::StagedRemoval,
                    target,
                    Some("workspace_role"),
                    Some(s(wm.workspace_role.as_str())),
                    None,
                    &format!(
                        "{} is being removed in stages, but as an org {role} they cannot be removed from a workspace through the API",
                        person.target
                    ),
                    "remove the membership in the Console, or change the org role first",
                );
                held += 1;
                continue;
            }
            // Reported as unmanaged no more: this plan removes it.
            self.unmanaged
                .retain(|u| !(u.kind == ObjectKind::WorkspaceMember && u.id == id));
            self.drafts.push(Draft {
                class: class::WORKSPACE_MEMBER_REMOVAL,
                sort_key: format!(
                    "{ws_name}\u{0}{}\u{0}{}",
                    normalize_email(&user.email),
                    user.id
                ),
                key: draft_key,
                op: Op::RemoveWorkspaceMember {
                    workspace_id: wm.workspace_id.clone(),
                    user_id: user.id.clone(),
                    email: user.email.clone(),
                },
                target,
                changes: vec![change(
                    "workspace_role",
                    Some(s(wm.workspace_role.as_str())),
                    None,
                )],
                destructive: true,
                irreversible: false,
                deps: Vec::new(),
                consequences: vec![format!(
                    "stage 1 of the staged removal of {}",
                    person.target
                )],
                category: person.category,
                source: self.here.clone(),
            });
            planned += 1;
        }
        (planned, held)
    }
}
