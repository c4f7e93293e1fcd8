//! Federation rules: create (with their workspaces), update, workspace enablements, archive,
//! and the protection of the rule the running pipeline depends on.
//!
//! Decisions where the contract leaves room, taken conservatively:
//! - A rule is created enabled for all its workspaces in one action; on a live rule each
//!   workspace to enable or disable is its own action, enables before disables, and leaving
//!   `all` for a list comes after the list's enables (the API refuses `false` while no
//!   workspace would remain). With `workspaces: all` the live list is left as it is (the API
//!   ignores it).
//! - Disabling a workspace and leaving `all` remove access: destructive, counted as
//!   "federation rule workspace removals".
//! - Protected rules: the rule the running credential came through
//!   ([`crate::Pipeline::federation_rule_id`]), a rule targeting the service account the
//!   credential acts as ([`crate::Pipeline::service_account_id`]) or one named in
//!   `settings.protected_service_accounts` is never archived nor narrowed: the change is
//!   blocked. The override is explicit and outside the plan: run with another credential, or
//!   take the service account out of `settings.protected_service_accounts`.
//! - A rule whose live scope only a Console session may manage is never changed (blocked).
//!   A declared rule with such a scope (`org:admin`: the rule a keyless pipeline runs through)
//!   is made in the Console: while it does not exist, its creation is blocked with that
//!   remedy; once it does, it is compared like any rule (a difference is blocked, never
//!   written), and protected like any rule.
//! - A rule's issuer is immutable: a different issuer is blocked (archive the rule and declare
//!   a new one under another name).

use std::collections::{BTreeMap, BTreeSet};

use orgform_manifest::{RuleSpec, RuleWorkspaces};
use orgform_model::{FederationRule, Identities, RuleMatch};
use serde_json::Value;

use super::federation::{IssuerRes, live_by_name, oauth_manageable};
use super::{Draft, Engine, WsRes, change, class, s};
use crate::DriftCategory;
use crate::types::{BlockedKind, FieldChange, ObjectRef, Op, PlanErrorKind, WorkspaceRef};

/// The model form of a manifest match.
fn match_model(spec: &RuleSpec) -> RuleMatch {
    let m = &spec.rule_match;
    RuleMatch {
        audience: m.audience.clone(),
        claims: m.claims.clone().unwrap_or_default(),
        condition: m.condition.clone(),
        subject_prefix: m.subject_prefix.clone(),
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Scopes compared as sets.
fn same_scope(a: &str, b: &str) -> bool {
    let set = |x: &str| {
        x.split_whitespace()
            .map(str::to_owned)
            .collect::<BTreeSet<_>>()
    };
    set(a) == set(b)
}

impl Engine<'_> {
    /// Why a live rule is protected, if it is. With `archiving` and
    /// `--archive-protected-service-accounts`, the protection `settings.protected_service_accounts`
    /// gives is lifted (the service account's archive needs its rules archived first); the
    /// protection of the running credential's own rule and service account never is.
    pub(super) fn rule_protection(&self, rule: &FederationRule, archiving: bool) -> Option<String> {
        if self.pipeline.federation_rule_id.as_deref() == Some(rule.id.as_str()) {
            return Some(
                "this run authenticates through this rule (ANTHROPIC_FEDERATION_RULE_ID)"
                    .to_owned(),
            );
        }
        if self.pipeline.service_account_id.as_deref()
            == Some(rule.target_service_account_id.as_str())
        {
            return Some(
                "its service account is the one this run acts as (ANTHROPIC_SERVICE_ACCOUNT_ID)"
                    .to_owned(),
            );
        }
        if archiving && self.archive_protected_service_accounts {
            return None;
        }
        let ids = self.live.identities.as_ref()?;
        let sa = ids.service_account(&rule.target_service_account_id)?;
        self.m
            .settings
            .protected_service_accounts
            .contains(&sa.name)
            .then(|| {
                format!(
                    "its service account {} is in settings.protected_service_accounts",
                    sa.name
                )
            })
    }

    /// Plans the declared rules; returns the live rule ids archived by this plan, with the
    /// key of their archive draft.
    pub(super) fn plan_rules(
        &mut self,
        ids: &Identities,
        issuers: &BTreeMap<String, IssuerRes>,
    ) -> BTreeMap<String, String> {
        let m = self.m;
        let mut archived = BTreeMap::new();
        for (index, spec) in m.federation.rules.iter().enumerate() {
            self.here = m.sources.rule(index);
            let named = live_by_name(&ids.federation_rules, &spec.name, |r| {
                (&r.name, r.is_archived())
            });
            if !spec.archived && named.is_some_and(FederationRule::is_archived) {
                self.block_archived_name("rule", &spec.name);
                continue;
            }
            let live = named.filter(|r| !r.is_archived());
            match live {
                Some(rule) if spec.archived => {
                    if let Some(key) = self.archive_rule(rule) {
                        archived.insert(rule.id.clone(), key);
                    }
                }
                None if spec.archived => {}
                Some(rule) => self.update_rule(ids, spec, rule, issuers),
                None => self.create_rule(ids, spec, issuers),
            }
            self.warn_non_member_workspaces(ids, spec);
        }
        archived
    }

    /// Warns (never refuses) when a rule is enabled for a listed workspace its service account
    /// is not a member of, neither by a grant of the manifest nor live: the API accepts the
    /// enablement, but token exchange into that workspace is rejected unless the service
    /// account is a member (the reference, `POST /v1/organizations/federation_rules`). `all`
    /// is not checked: it includes the default workspace, of which every service account is
    /// implicitly a member, and workspaces not yet created.
    fn warn_non_member_workspaces(&mut self, ids: &Identities, spec: &RuleSpec) {
        let Some(RuleWorkspaces::Named(names)) = &spec.workspaces else {
            return;
        };
        if spec.archived {
            return;
        }
        let live_sa = ids
            .service_accounts
            .iter()
            .find(|s| s.name == spec.service_account && !s.is_archived());
        for name in names {
            let declared = self.m.workspaces.iter().any(|w| {
                w.name == *name
                    && w.service_accounts
                        .as_ref()
                        .is_some_and(|g| g.contains_key(&spec.service_account))
            });
            let live = match (self.ws_res.get(name), live_sa) {
                (Some(WsRes::Live { id, .. }), Some(sa)) => ids
                    .service_account_members
                    .iter()
                    .any(|m| m.workspace_id == *id && m.service_account_id == sa.id),
                _ => false,
            };
            if !declared && !live {
                self.warnings.push(format!(
                    "federation rule {} is enabled for workspace {name}, but its service account {} is not a member of it (declared or live): token exchange into {name} is rejected until it is; grant it a role under the workspace's `service_accounts:`",
                    spec.name, spec.service_account
                ));
            }
        }
    }

    /// The issuer reference of a rule, with the draft it depends on.
    fn issuer_ref(
        &mut self,
        spec: &RuleSpec,
        issuers: &BTreeMap<String, IssuerRes>,
    ) -> Option<(ObjectRef, Option<String>)> {
        match issuers.get(&spec.issuer) {
            Some(IssuerRes::Live(id)) => Some((ObjectRef::Id(id.clone()), None)),
            Some(IssuerRes::Create(key)) => Some((
                ObjectRef::Created {
                    name: spec.issuer.clone(),
                },
                Some(key.clone()),
            )),
            // The validator refuses these; a plan error keeps a built manifest safe too.
            Some(IssuerRes::Gone) | None => {
                self.error(
                    PlanErrorKind::DuplicateMatch,
                    format!("federation rule {}", spec.name),
                    format!("issuer {:?} is not a live, declared issuer", spec.issuer),
                    "declare the issuer under federation.issuers, not archived",
                );
                None
            }
        }
    }

    /// The service account reference of a rule, with the draft it depends on.
    fn service_account_ref(
        &mut self,
        ids: &Identities,
        spec: &RuleSpec,
    ) -> Option<(ObjectRef, Option<String>)> {
        if let Some(sa) = ids
            .service_accounts
            .iter()
            .find(|s| s.name == spec.service_account && !s.is_archived())
        {
            return Some((ObjectRef::Id(sa.id.clone()), None));
        }
        let key = format!("sa-create:{}", spec.service_account);
        if self.drafts.iter().any(|d| d.key == key) {
            return Some((
                ObjectRef::Created {
                    name: spec.service_account.clone(),
                },
                Some(key),
            ));
        }
        self.error(
            PlanErrorKind::UnknownServiceAccount,
            format!("federation rule {}", spec.name),
            format!(
                "service account {:?} is neither live nor created by this plan",
                spec.service_account
            ),
            "declare the service account under service_accounts (not archived)",
        );
        None
    }

    /// The workspaces of a rule, with the drafts they depend on; `None` on error.
    fn rule_workspaces(&mut self, spec: &RuleSpec) -> Option<Vec<(WorkspaceRef, Option<String>)>> {
        let Some(RuleWorkspaces::Named(names)) = &spec.workspaces else {
            return Some(Vec::new());
        };
        let mut out = Vec::new();
        for name in names {
            match self.ws_res.get(name).cloned() {
                Some(WsRes::Live {
                    id,
                    archiving: false,
                    archived: false,
                }) => out.push((WorkspaceRef::Id(id), None)),
                Some(WsRes::Create { key }) => {
                    out.push((WorkspaceRef::Created { name: name.clone() }, Some(key)));
                }
                _ => {
                    self.error(
                        PlanErrorKind::UnknownWorkspaceId,
                        format!("federation rule {}", spec.name),
                        format!("workspace {name:?} is not a live, declared workspace"),
                        "list only declared, non-archived workspaces in the rule's workspaces",
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    fn create_rule(
        &mut self,
        ids: &Identities,
        spec: &RuleSpec,
        issuers: &BTreeMap<String, IssuerRes>,
    ) {
        if !oauth_manageable(&spec.oauth_scope) {
            self.block(
                BlockedKind::ConsoleOnlyScope,
                format!("federation rule {}", spec.name),
                Some("oauth_scope"),
                None,
                Some(s(&spec.oauth_scope)),
                "a rule with this scope is created in a Console session only",
                "create it in the Console (Settings, Workload identity) with this entry's issuer, match, service account and workspaces, then plan again: orgform compares it with this entry from then on",
            );
            return;
        }
        let (Some(issuer), Some(sa), Some(workspaces)) = (
            self.issuer_ref(spec, issuers),
            self.service_account_ref(ids, spec),
            self.rule_workspaces(spec),
        ) else {
            return;
        };
        let all = spec.workspaces.as_ref().is_some_and(RuleWorkspaces::is_all);
        let rule_match = match_model(spec);
        let mut deps: Vec<String> = [issuer.1, sa.1].into_iter().flatten().collect();
        deps.extend(workspaces.iter().filter_map(|(_, k)| k.clone()));
        let mut changes = vec![
            change("name", None, Some(s(&spec.name))),
            change("issuer", None, Some(s(&spec.issuer))),
            change("match", None, Some(to_value(&rule_match))),
            change("service_account", None, Some(s(&spec.service_account))),
            change("oauth_scope", None, Some(s(&spec.oauth_scope))),
            change("workspaces", None, spec.workspaces.as_ref().map(to_value)),
        ];
        if let Some(d) = &spec.description {
            changes.push(change("description", None, Some(s(d))));
        }
        if let Some(l) = spec.token_lifetime_seconds {
            changes.push(change("token_lifetime_seconds", None, Some(l.into())));
        }
        self.drafts.push(Draft {
            class: class::FEDERATION_RULE,
            sort_key: spec.name.clone(),
            key: format!("fdrl-create:{}", spec.name),
            op: Op::CreateFederationRule {
                name: spec.name.clone(),
                description: spec.description.clone(),
                issuer: issuer.0,
                rule_match,
                service_account: sa.0,
                oauth_scope: spec.oauth_scope.clone(),
                token_lifetime_seconds: spec.token_lifetime_seconds,
                applies_to_all_workspaces: all,
                workspaces: workspaces.into_iter().map(|(w, _)| w).collect(),
            },
            target: format!("federation rule {}", spec.name),
            changes,
            destructive: false,
            irreversible: false,
            deps,
            consequences: Vec::new(),
            category: DriftCategory::Missing,
            source: self.here.clone(),
        });
    }

    /// Archives a live rule unless it is protected or Console-only; returns the draft key.
    fn archive_rule(&mut self, rule: &FederationRule) -> Option<String> {
        let target = format!("federation rule {}", rule.name);
        let blocked = if let Some(why) = self.rule_protection(rule, true) {
            Some((
                BlockedKind::Protected,
                format!("protected: {why}"),
                "archive it from a run that does not depend on it (another credential); when only settings.protected_service_accounts protects it, take its service account out of the setting or pass --archive-protected-service-accounts for this run",
            ))
        } else if !oauth_manageable(&rule.oauth_scope) {
            Some((
                BlockedKind::ConsoleOnlyScope,
                format!(
                    "its scope {:?} is managed only in a Console session",
                    rule.oauth_scope
                ),
                "archive it in the Console",
            ))
        } else {
            None
        };
        if let Some((kind, reason, remedy)) = blocked {
            self.block(
                kind,
                target,
                Some("archived"),
                Some(false.into()),
                Some(true.into()),
                &reason,
                remedy,
            );
            return None;
        }
        let key = format!("fdrl-archive:{}", rule.id);
        self.drafts.push(Draft {
            class: class::FEDERATION_RULE_ARCHIVE,
            sort_key: format!("{}\u{0}{}", rule.name, rule.id),
            key: key.clone(),
            op: Op::ArchiveFederationRule {
                rule_id: rule.id.clone(),
                name: rule.name.clone(),
            },
            target,
            changes: vec![change("archived", Some(false.into()), Some(true.into()))],
            destructive: true,
            irreversible: true,
            deps: Vec::new(),
            consequences: vec![
                "token exchange through this rule stops at once; tokens already minted stay valid until they expire".to_owned(),
            ],
            category: DriftCategory::Changed,
            source: self.here.clone(),
        });
        Some(key)
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one comparison per field of a rule, in the order a plan shows them"
    )]
    fn update_rule(
        &mut self,
        ids: &Identities,
        spec: &RuleSpec,
        live: &FederationRule,
        issuers: &BTreeMap<String, IssuerRes>,
    ) {
        let target = format!("federation rule {}", spec.name);
        let live_issuer = ids.issuer(&live.issuer_id).map(|i| i.name.clone());
        if live_issuer.as_deref() != Some(spec.issuer.as_str()) {
            self.block(
                BlockedKind::RuleIssuer,
                target.clone(),
                Some("issuer"),
                live_issuer.map(Value::String),
                Some(s(&spec.issuer)),
                "a rule's issuer cannot be changed",
                "archive this rule (`archived: true`) and declare a new one under another name",
            );
            return;
        }
        if !matches!(issuers.get(&spec.issuer), Some(IssuerRes::Live(_))) {
            return;
        }
        let mut changes: Vec<FieldChange> = Vec::new();
        let description = spec
            .description
            .clone()
            .filter(|d| d != live.description.as_deref().unwrap_or_default());
        if let Some(d) = &description {
            changes.push(change(
                "description",
                live.description.as_deref().map(s),
                Some(s(d)),
            ));
        }
        let wanted_match = match_model(spec);
        let rule_match = (wanted_match != live.rule_match).then_some(wanted_match);
        if let Some(m) = &rule_match {
            changes.push(change(
                "match",
                Some(to_value(&live.rule_match)),
                Some(to_value(m)),
            ));
        }
        let live_sa = ids.service_account(&live.target_service_account_id);
        let mut deps = Vec::new();
        let mut service_account = None;
        let protection = self.rule_protection(live, false);
        let retarget = live_sa.is_none_or(|sa| sa.name != spec.service_account);
        if retarget && let Some(why) = &protection {
            // Moving a protected rule to another service account would end its protection
            // (and change what the pipeline acts as): blocked like a narrowing.
            self.block(
                BlockedKind::Protected,
                target.clone(),
                Some("service_account"),
                Some(live_sa.map_or_else(|| s(&live.target_service_account_id), |sa| s(&sa.name))),
                Some(s(&spec.service_account)),
                &format!("protected: {why}"),
                "change it from a run that does not depend on it (another credential), or take its service account out of settings.protected_service_accounts",
            );
        } else if retarget {
            let Some((sa, dep)) = self.service_account_ref(ids, spec) else {
                return;
            };
            changes.push(change(
                "service_account",
                Some(live_sa.map_or_else(|| s(&live.target_service_account_id), |sa| s(&sa.name))),
                Some(s(&spec.service_account)),
            ));
            deps.extend(dep);
            service_account = Some(sa);
        }
        let oauth_scope =
            (!same_scope(&spec.oauth_scope, &live.oauth_scope)).then(|| spec.oauth_scope.clone());
        if let Some(sc) = &oauth_scope {
            changes.push(change(
                "oauth_scope",
                Some(s(&live.oauth_scope)),
                Some(s(sc)),
            ));
        }
        let lifetime = spec
            .token_lifetime_seconds
            .filter(|l| *l != live.token_lifetime_seconds);
        if let Some(l) = lifetime {
            changes.push(change(
                "token_lifetime_seconds",
                Some(live.token_lifetime_seconds.into()),
                Some(l.into()),
            ));
        }
        let wants_all = spec.workspaces.as_ref().is_some_and(RuleWorkspaces::is_all);
        let to_all = (wants_all && !live.applies_to_all_workspaces).then_some(true);
        if to_all.is_some() {
            changes.push(change(
                "applies_to_all_workspaces",
                Some(false.into()),
                Some(true.into()),
            ));
        }
        let Some(workspaces) = self.rule_workspaces(spec) else {
            return;
        };
        let narrowing = !wants_all && live.applies_to_all_workspaces;
        let live_set: BTreeSet<&str> = live.workspace_ids.iter().map(String::as_str).collect();
        let wanted_ids: BTreeSet<&str> = workspaces
            .iter()
            .filter_map(|(w, _)| match w {
                WorkspaceRef::Id(id) => Some(id.as_str()),
                WorkspaceRef::Created { .. } => None,
            })
            .collect();
        let enables: Vec<(WorkspaceRef, Option<String>)> = workspaces
            .iter()
            .filter(|(w, _)| match w {
                WorkspaceRef::Id(id) => !live_set.contains(id.as_str()),
                WorkspaceRef::Created { .. } => true,
            })
            .cloned()
            .collect();
        let disables: Vec<&str> = if wants_all {
            Vec::new()
        } else {
            live_set.difference(&wanted_ids).copied().collect()
        };
        let any_change =
            !changes.is_empty() || !enables.is_empty() || !disables.is_empty() || narrowing;
        if !any_change {
            return;
        }
        if !oauth_manageable(&live.oauth_scope) || !oauth_manageable(&spec.oauth_scope) {
            self.block(
                BlockedKind::ConsoleOnlyScope,
                target,
                Some("oauth_scope"),
                Some(s(&live.oauth_scope)),
                Some(s(&spec.oauth_scope)),
                "the rule's scope is managed only in a Console session",
                "make the change in the Console, or align the manifest with the live rule",
            );
            return;
        }
        if !changes.is_empty() {
            self.drafts.push(Draft {
                class: class::FEDERATION_RULE,
                sort_key: format!("{}\u{0}{}", spec.name, live.id),
                key: format!("fdrl-update:{}", live.id),
                op: Op::UpdateFederationRule {
                    rule_id: live.id.clone(),
                    name: live.name.clone(),
                    description,
                    rule_match,
                    service_account,
                    oauth_scope,
                    token_lifetime_seconds: lifetime,
                    applies_to_all_workspaces: to_all,
                },
                target: target.clone(),
                changes,
                destructive: false,
                irreversible: false,
                deps,
                consequences: Vec::new(),
                category: DriftCategory::Changed,
                source: self.here.clone(),
            });
        }
        let mut enable_keys = Vec::new();
        for (workspace, dep) in enables {
            let label = match &workspace {
                WorkspaceRef::Id(id) => self
                    .ws_by_id
                    .get(id.as_str())
                    .map_or_else(|| id.clone(), |w| w.name.clone()),
                WorkspaceRef::Created { name } => name.clone(),
            };
            let key = format!("fdrl-enable:{}:{label}", live.id);
            enable_keys.push(key.clone());
            self.drafts.push(Draft {
                class: class::FEDERATION_RULE_ENABLE,
                sort_key: format!("{}\u{0}{label}", spec.name),
                key,
                op: Op::EnableFederationRuleWorkspace {
                    rule_id: live.id.clone(),
                    name: live.name.clone(),
                    workspace,
                },
                target: format!("federation rule {} in workspace {label}", spec.name),
                changes: vec![change("enabled", Some(false.into()), Some(true.into()))],
                destructive: false,
                irreversible: false,
                deps: dep.into_iter().collect(),
                consequences: Vec::new(),
                category: DriftCategory::Changed,
                source: self.here.clone(),
            });
        }
        if let Some(why) = &protection
            && (narrowing || !disables.is_empty())
        {
            self.block(
                BlockedKind::Protected,
                target,
                Some("workspaces"),
                Some(to_value(&live.workspace_ids)),
                spec.workspaces.as_ref().map(to_value),
                &format!("protected: {why}"),
                "narrow it from a run that does not depend on it (another credential), or take its service account out of settings.protected_service_accounts",
            );
            return;
        }
        if narrowing {
            self.drafts.push(Draft {
                class: class::FEDERATION_RULE_DISABLE,
                sort_key: format!("{}\u{0}{}", spec.name, live.id),
                key: format!("fdrl-narrow:{}", live.id),
                op: Op::UpdateFederationRule {
                    rule_id: live.id.clone(),
                    name: live.name.clone(),
                    description: None,
                    rule_match: None,
                    service_account: None,
                    oauth_scope: None,
                    token_lifetime_seconds: None,
                    applies_to_all_workspaces: Some(false),
                },
                target: target.clone(),
                changes: vec![change(
                    "applies_to_all_workspaces",
                    Some(true.into()),
                    Some(false.into()),
                )],
                destructive: true,
                irreversible: false,
                deps: enable_keys.clone(),
                consequences: vec![
                    "the rule stops applying to workspaces outside its list".to_owned(),
                ],
                category: DriftCategory::Changed,
                source: self.here.clone(),
            });
        }
        for ws_id in disables {
            let label = self
                .ws_by_id
                .get(ws_id)
                .map_or_else(|| ws_id.to_owned(), |w| w.name.clone());
            self.drafts.push(Draft {
                class: class::FEDERATION_RULE_DISABLE,
                sort_key: format!("{}\u{0}{label}\u{0}{ws_id}", spec.name),
                key: format!("fdrl-disable:{}:{ws_id}", live.id),
                op: Op::DisableFederationRuleWorkspace {
                    rule_id: live.id.clone(),
                    name: live.name.clone(),
                    workspace_id: ws_id.to_owned(),
                },
                target: format!("federation rule {} in workspace {label}", spec.name),
                changes: vec![change("enabled", Some(true.into()), Some(false.into()))],
                destructive: true,
                irreversible: false,
                deps: enable_keys.clone(),
                consequences: Vec::new(),
                category: DriftCategory::Changed,
                source: self.here.clone(),
            });
        }
    }
}
