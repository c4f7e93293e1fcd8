//! Service accounts and their workspace memberships.
//!
//! - They are planned only from a read that holds them (`Snapshot::identities` is `Some`):
//!   a manifest that declares service accounts or grants them workspace roles, planned from
//!   a read without them (an admin key, or a refused token), is a plan error, never a plan.
//!   A manifest that declares none plans nothing for them either way.
//! - The name is the identity (unique and immutable in the API). A declared service account
//!   whose name is live and not archived is updated (`description` and `organization_role`,
//!   each only when stated); one that is not live is created (as `developer` unless stated);
//!   one whose name exists only archived is blocked (archiving cannot be undone).
//! - Only `archived: true` archives: a live service account the manifest does not declare is
//!   reported as unmanaged, never archived. An archive is destructive and irreversible, counts
//!   against its own limit, and is blocked for a name in
//!   `settings.protected_service_accounts` unless the run passes
//!   `--archive-protected-service-accounts`.
//! - Grants (`service_accounts:` in a workspace entry) follow the workspace members' rules:
//!   added after the service account and the workspace exist, updated in place, and live
//!   explicit memberships not declared are removed or reported per
//!   `settings.workspace_members.unmanaged` (never those of a protected service account).
//!   The implicit default-workspace membership is never read, so it never drifts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use orgform_manifest::{ServiceAccountSpec, WorkspaceMemberPolicy};
use orgform_model::{ServiceAccount, ServiceAccountMember, ServiceAccountRole};
use serde_json::Value;

use super::{Draft, Engine, WsRes, change, class, s};
use crate::types::{BlockedKind, ObjectKind, Op, PlanErrorKind, ServiceAccountRef, WorkspaceRef};
use crate::{DriftCategory, PlanOptions};

/// How a declared service account resolved.
#[derive(Clone)]
enum SaRes {
    /// A live, non-archived service account (`archiving` when this plan archives it).
    Live { id: String, archiving: bool },
    /// Created by the draft with this key.
    Create { key: String },
    /// Nothing to grant to (archived, absent, or blocked).
    None,
}

impl Engine<'_> {
    pub(super) fn plan_service_accounts(&mut self, options: &PlanOptions) {
        let m = self.m;
        let any_declared = !m.service_accounts.is_empty()
            || m.workspaces.iter().any(|w| w.service_accounts.is_some());
        if !any_declared {
            return;
        }
        let Some(ids) = self.live.identities.as_ref() else {
            self.here = m
                .sources
                .service_account(0)
                .or_else(|| m.sources.workspace(0));
            self.error(
                PlanErrorKind::IdentitiesNotRead,
                "service_accounts".to_owned(),
                "the manifest declares service accounts, but they were not read: the Admin API serves them only to an OAuth bearer token, not to an admin key".to_owned(),
                "run with an OAuth token that has the org:admin scope (--auth-token-file PATH or ANTHROPIC_AUTH_TOKEN) instead of an admin key",
            );
            return;
        };
        let protected: BTreeSet<&str> = m
            .settings
            .protected_service_accounts
            .iter()
            .map(String::as_str)
            .collect();
        let mut by_name: HashMap<&str, Vec<&ServiceAccount>> = HashMap::new();
        for sa in &ids.service_accounts {
            by_name.entry(sa.name.as_str()).or_default().push(sa);
        }
        let mut resolved: BTreeMap<&str, SaRes> = BTreeMap::new();
        for (index, spec) in m.service_accounts.iter().enumerate() {
            self.here = m.sources.service_account(index);
            let live = by_name.get(spec.name.as_str());
            let active = live.and_then(|l| l.iter().find(|s| !s.is_archived()).copied());
            let res = match (active, spec.archived) {
                (Some(sa), false) => {
                    self.update_service_account(spec, sa);
                    SaRes::Live {
                        id: sa.id.clone(),
                        archiving: false,
                    }
                }
                (Some(sa), true) => {
                    let own = self.pipeline.service_account_id.as_deref() == Some(sa.id.as_str());
                    let allowed = !own
                        && (!protected.contains(spec.name.as_str())
                            || options.archive_protected_service_accounts);
                    if allowed {
                        self.archive_service_account(sa);
                    } else {
                        let (reason, remedy) = if own {
                            (
                                "this run acts as this service account (ANTHROPIC_SERVICE_ACCOUNT_ID)",
                                "archive it from a run that does not act as it (another credential)",
                            )
                        } else {
                            (
                                "the service account is in settings.protected_service_accounts",
                                "remove it from settings.protected_service_accounts, or pass --archive-protected-service-accounts for this run",
                            )
                        };
                        self.block(
                            BlockedKind::Protected,
                            format!("service account {}", spec.name),
                            Some("archived"),
                            Some(Value::Bool(false)),
                            Some(Value::Bool(true)),
                            reason,
                            remedy,
                        );
                    }
                    SaRes::Live {
                        id: sa.id.clone(),
                        archiving: allowed,
                    }
                }
                (None, true) => SaRes::None,
                (None, false) if live.is_some() => {
                    self.block(
                        BlockedKind::ArchivedServiceAccount,
                        format!("service account {}", spec.name),
                        Some("archived"),
                        Some(Value::Bool(true)),
                        Some(Value::Bool(false)),
                        "a service account with this name is archived, and archiving cannot be undone",
                        "declare it `archived: true`, or declare a new service account under another name",
                    );
                    SaRes::None
                }
                (None, false) => SaRes::Create {
                    key: self.create_service_account(spec),
                },
            };
            resolved.insert(spec.name.as_str(), res);
        }
        let declared: BTreeSet<&str> = m.service_accounts.iter().map(|s| s.name.as_str()).collect();
        self.here = None;
        for sa in ids.service_accounts.iter().filter(|s| !s.is_archived()) {
            if !declared.contains(sa.name.as_str()) {
                self.unmanaged(
                    ObjectKind::ServiceAccount,
                    &sa.id,
                    format!("service account {}", sa.name),
                    "not declared; service accounts are archived only by `archived: true`",
                    protected.contains(sa.name.as_str()),
                );
            }
        }
        self.plan_service_account_grants(
            ids.service_accounts.as_slice(),
            &ids.service_account_members,
            &resolved,
            &protected,
        );
    }

    fn create_service_account(&mut self, spec: &ServiceAccountSpec) -> String {
        let key = format!("sa-create:{}", spec.name);
        let role = spec
            .organization_role
            .clone()
            .unwrap_or(ServiceAccountRole::Developer);
        let mut changes = vec![change("organization_role", None, Some(s(role.as_str())))];
        if let Some(d) = &spec.description {
            changes.push(change("description", None, Some(s(d))));
        }
        self.drafts.push(Draft {
            class: class::SERVICE_ACCOUNT,
            sort_key: format!("0\u{0}{}", spec.name),
            key: key.clone(),
            op: Op::CreateServiceAccount {
                name: spec.name.clone(),
                description: spec.description.clone().filter(|d| !d.is_empty()),
                organization_role: role,
            },
            target: format!("service account {}", spec.name),
            changes,
            destructive: false,
            irreversible: false,
            deps: Vec::new(),
            consequences: Vec::new(),
            category: DriftCategory::Missing,
            source: self.here.clone(),
        });
        key
    }

    fn update_service_account(&mut self, spec: &ServiceAccountSpec, sa: &ServiceAccount) {
        let live_description = sa.description.clone().unwrap_or_default();
        let description = spec.description.clone().filter(|d| *d != live_description);
        let role = spec
            .organization_role
            .clone()
            .filter(|r| *r != sa.organization_role);
        if description.is_none() && role.is_none() {
            return;
        }
        let mut changes = Vec::new();
        if let Some(d) = &description {
            changes.push(change(
                "description",
                Some(s(&live_description)),
                Some(s(d)),
            ));
        }
        if let Some(r) = &role {
            changes.push(change(
                "organization_role",
                Some(s(sa.organization_role.as_str())),
                Some(s(r.as_str())),
            ));
        }
        self.drafts.push(Draft {
            class: class::SERVICE_ACCOUNT,
            sort_key: format!("1\u{0}{}\u{0}{}", sa.name, sa.id),
            key: format!("sa-update:{}", sa.id),
            op: Op::UpdateServiceAccount {
                service_account_id: sa.id.clone(),
                name: sa.name.clone(),
                description,
                organization_role: role,
            },
            target: format!("service account {}", sa.name),
            changes,
            destructive: false,
            irreversible: false,
            deps: Vec::new(),
            consequences: Vec::new(),
            category: DriftCategory::Changed,
            source: self.here.clone(),
        });
    }

    fn archive_service_account(&mut self, sa: &ServiceAccount) {
        self.drafts.push(Draft {
            class: class::SERVICE_ACCOUNT_ARCHIVE,
            sort_key: format!("{}\u{0}{}", sa.name, sa.id),
            key: format!("sa-archive:{}", sa.id),
            op: Op::ArchiveServiceAccount {
                service_account_id: sa.id.clone(),
                name: sa.name.clone(),
            },
            target: format!("service account {}", sa.name),
            changes: vec![change("archived", Some(Value::Bool(false)), Some(Value::Bool(true)))],
            destructive: true,
            irreversible: true,
            deps: Vec::new(),
            consequences: vec![
                "tokens minted for it stop working; the API refuses the archive while a federation rule targets it".to_owned(),
            ],
            category: DriftCategory::Changed,
            source: self.here.clone(),
        });
    }

    /// Blocks (instead of planning) the archive of a service account that a live rule still
    /// targets once this plan has run: the API refuses it while a non-archived rule targets
    /// the service account. A rule this plan archives, or moves to another service account,
    /// no longer counts, and the archive depends on that action.
    pub(super) fn hold_service_accounts_in_use(&mut self) {
        let Some(ids) = self.live.identities.as_ref() else {
            return;
        };
        let archives: Vec<(usize, String)> = self
            .drafts
            .iter()
            .enumerate()
            .filter_map(|(i, d)| match &d.op {
                Op::ArchiveServiceAccount {
                    service_account_id, ..
                } => Some((i, service_account_id.clone())),
                _ => None,
            })
            .collect();
        let mut held = Vec::new();
        for (index, sa_id) in archives {
            let mut users = Vec::new();
            let mut deps = Vec::new();
            for rule in ids
                .federation_rules
                .iter()
                .filter(|r| r.target_service_account_id == sa_id && !r.is_archived())
            {
                let freed = self.drafts.iter().find(|d| match &d.op {
                    Op::ArchiveFederationRule { rule_id, .. }
                    | Op::UpdateFederationRule {
                        rule_id,
                        service_account: Some(_),
                        ..
                    } => *rule_id == rule.id,
                    _ => false,
                });
                match freed {
                    Some(d) => deps.push(d.key.clone()),
                    None => users.push(rule.name.clone()),
                }
            }
            if users.is_empty() {
                self.drafts[index].deps.extend(deps);
            } else {
                held.push((index, users));
            }
        }
        for (index, users) in held.into_iter().rev() {
            let draft = self.drafts.remove(index);
            self.here.clone_from(&draft.source);
            self.block(
                BlockedKind::ServiceAccountInUse,
                draft.target,
                Some("archived"),
                Some(Value::Bool(false)),
                Some(Value::Bool(true)),
                &format!(
                    "live federation rules still target it: {} (the API refuses to archive a service account a live rule targets)",
                    users.join(", ")
                ),
                "declare those rules with `archived: true` (or point them at another service account) in the same manifest",
            );
        }
        self.here = None;
    }

    /// Grants of the workspace entries that state `service_accounts:`.
    fn plan_service_account_grants(
        &mut self,
        accounts: &[ServiceAccount],
        members: &[ServiceAccountMember],
        resolved: &BTreeMap<&str, SaRes>,
        protected: &BTreeSet<&str>,
    ) {
        let m = self.m;
        let names: HashMap<&str, &str> = accounts
            .iter()
            .map(|a| (a.id.as_str(), a.name.as_str()))
            .collect();
        let policy = m.settings.workspace_members.unmanaged;
        for (index, spec) in m.workspaces.iter().enumerate() {
            let Some(grants) = &spec.service_accounts else {
                continue;
            };
            let (ws_ref, live_id, ws_key) = match self.ws_res.get(&spec.name).cloned() {
                Some(WsRes::Live {
                    id,
                    archiving: false,
                    archived: false,
                }) => (WorkspaceRef::Id(id.clone()), Some(id), None),
                Some(WsRes::Create { key }) => (
                    WorkspaceRef::Created {
                        name: spec.name.clone(),
                    },
                    None,
                    Some(key),
                ),
                _ => continue,
            };
            let live: BTreeMap<&str, &ServiceAccountMember> = live_id
                .as_deref()
                .map(|ws| {
                    members
                        .iter()
                        .filter(|m| m.workspace_id == ws)
                        .map(|m| (m.service_account_id.as_str(), m))
                        .collect()
                })
                .unwrap_or_default();
            let mut wanted: BTreeSet<String> = BTreeSet::new();
            for (name, role) in grants {
                self.here = m
                    .sources
                    .workspace_field(index, &format!("service_accounts.{name}"));
                let target = format!("service account {name} in {}", spec.name);
                match resolved.get(name.as_str()) {
                    Some(SaRes::Live {
                        id,
                        archiving: false,
                    }) => {
                        wanted.insert(id.clone());
                        match (live.get(id.as_str()), &live_id) {
                            (Some(have), Some(ws_id)) if have.workspace_role != *role => {
                                self.drafts.push(Draft {
                                    class: class::SERVICE_ACCOUNT_MEMBER,
                                    sort_key: format!("{}\u{0}{name}", spec.name),
                                    key: format!("sam-update:{ws_id}/{id}"),
                                    op: Op::UpdateServiceAccountMember {
                                        workspace_id: ws_id.clone(),
                                        service_account_id: id.clone(),
                                        name: name.clone(),
                                        role: role.clone(),
                                    },
                                    target,
                                    changes: vec![change(
                                        "workspace_role",
                                        Some(s(have.workspace_role.as_str())),
                                        Some(s(role.as_str())),
                                    )],
                                    destructive: false,
                                    irreversible: false,
                                    deps: Vec::new(),
                                    consequences: Vec::new(),
                                    category: DriftCategory::Changed,
                                    source: self.here.clone(),
                                });
                            }
                            (Some(_), _) => {}
                            (None, _) => self.add_grant(
                                &ws_ref,
                                ws_key.as_deref(),
                                ServiceAccountRef::Id(id.clone()),
                                None,
                                name,
                                role,
                                target,
                            ),
                        }
                    }
                    Some(SaRes::Create { key }) => self.add_grant(
                        &ws_ref,
                        ws_key.as_deref(),
                        ServiceAccountRef::Created { name: name.clone() },
                        Some(key.clone()),
                        name,
                        role,
                        target,
                    ),
                    _ => {}
                }
            }
            let Some(ws_id) = live_id else { continue };
            self.here = m.sources.setting("workspace_members.unmanaged");
            for (sa_id, have) in live {
                if wanted.contains(sa_id) {
                    continue;
                }
                let name = names.get(sa_id).copied().unwrap_or(sa_id);
                let target = format!("service account {name} in {}", spec.name);
                let id = format!("{ws_id}/{sa_id}");
                let archiving = resolved
                    .values()
                    .any(|r| matches!(r, SaRes::Live { id, archiving: true } if id == sa_id));
                if archiving {
                    continue;
                }
                if protected.contains(name) {
                    self.unmanaged(
                        ObjectKind::ServiceAccountMember,
                        &id,
                        target,
                        "not declared; protected (settings.protected_service_accounts): kept",
                        true,
                    );
                    continue;
                }
                match policy {
                    WorkspaceMemberPolicy::Report => self.unmanaged(
                        ObjectKind::ServiceAccountMember,
                        &id,
                        target,
                        "not declared; settings.workspace_members.unmanaged: report",
                        false,
                    ),
                    WorkspaceMemberPolicy::Remove => self.drafts.push(Draft {
                        class: class::SERVICE_ACCOUNT_MEMBER_REMOVAL,
                        sort_key: format!("{}\u{0}{name}\u{0}{sa_id}", spec.name),
                        key: format!("sam-remove:{id}"),
                        op: Op::RemoveServiceAccountMember {
                            workspace_id: ws_id.clone(),
                            service_account_id: sa_id.to_owned(),
                            name: name.to_owned(),
                        },
                        target,
                        changes: vec![change(
                            "workspace_role",
                            Some(s(have.workspace_role.as_str())),
                            None,
                        )],
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

    #[expect(
        clippy::too_many_arguments,
        reason = "a grant names its workspace and service account, each live or created"
    )]
    fn add_grant(
        &mut self,
        ws_ref: &WorkspaceRef,
        ws_key: Option<&str>,
        sa_ref: ServiceAccountRef,
        sa_key: Option<String>,
        name: &str,
        role: &orgform_model::WorkspaceRole,
        target: String,
    ) {
        let ws_part = match ws_ref {
            WorkspaceRef::Id(id) => id.clone(),
            WorkspaceRef::Created { name } => format!("new:{name}"),
        };
        let deps: Vec<String> = ws_key
            .map(str::to_owned)
            .into_iter()
            .chain(sa_key)
            .collect();
        self.drafts.push(Draft {
            class: class::SERVICE_ACCOUNT_MEMBER,
            sort_key: format!("{target}\u{0}{ws_part}"),
            key: format!("sam-add:{ws_part}/{name}"),
            op: Op::AddServiceAccountMember {
                workspace: ws_ref.clone(),
                service_account: sa_ref,
                name: name.to_owned(),
                role: role.clone(),
            },
            target,
            changes: vec![change("workspace_role", None, Some(s(role.as_str())))],
            destructive: false,
            irreversible: false,
            deps,
            consequences: Vec::new(),
            category: DriftCategory::Missing,
            source: self.here.clone(),
        });
    }
}
