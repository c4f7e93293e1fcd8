//! The identity half of the model applier: what the Admin API does with each service-account
//! and federation action, refusals included (an archive while a live rule still needs the
//! object, leaving `all` with no workspace, an action on an archived object), so a plan that
//! would fail against the API fails here too.

use std::collections::BTreeMap;

use orgform_manifest::JwksSpec;
use orgform_model::{
    FederationIssuer, FederationRule, Jwks, ServiceAccount, ServiceAccountMember, Snapshot,
    jwks_digest,
};
use orgform_plan::{ObjectRef, Op, ServiceAccountRef, WorkspaceRef};

use super::generators::now;

/// Whether `op` is a service-account or federation action.
pub fn is_identity_op(op: &Op) -> bool {
    matches!(
        op,
        Op::CreateFederationIssuer { .. }
            | Op::UpdateFederationIssuer { .. }
            | Op::ArchiveFederationIssuer { .. }
            | Op::CreateFederationRule { .. }
            | Op::UpdateFederationRule { .. }
            | Op::ArchiveFederationRule { .. }
            | Op::EnableFederationRuleWorkspace { .. }
            | Op::DisableFederationRuleWorkspace { .. }
            | Op::CreateServiceAccount { .. }
            | Op::UpdateServiceAccount { .. }
            | Op::ArchiveServiceAccount { .. }
            | Op::AddServiceAccountMember { .. }
            | Op::UpdateServiceAccountMember { .. }
            | Op::RemoveServiceAccountMember { .. }
    )
}

fn jwks(spec: Option<&JwksSpec>) -> Jwks {
    match spec {
        Some(s) if s.keys.is_some() => {
            let keys = s.key_values().unwrap();
            Jwks::Inline {
                keys_digest: jwks_digest(&keys),
                key_count: keys.len(),
            }
        }
        Some(JwksSpec {
            url: Some(url),
            ca_cert_pem,
            ..
        }) => Jwks::ExplicitUrl {
            url: url.clone(),
            ca_cert_pem: ca_cert_pem.clone(),
        },
        Some(s) => Jwks::Discovery {
            discovery_base: s.discovery_base.clone(),
            ca_cert_pem: s.ca_cert_pem.clone(),
        },
        None => Jwks::Discovery {
            discovery_base: None,
            ca_cert_pem: None,
        },
    }
}

/// Ids made up for the objects this plan creates, by name.
#[derive(Default)]
pub struct Created {
    pub service_accounts: BTreeMap<String, String>,
    pub issuers: BTreeMap<String, String>,
}

fn ws(created_ws: &BTreeMap<String, String>, r: &WorkspaceRef) -> String {
    match r {
        WorkspaceRef::Id(id) => id.clone(),
        WorkspaceRef::Created { name } => created_ws[name].clone(),
    }
}

fn object(created: &BTreeMap<String, String>, r: &ObjectRef) -> String {
    match r {
        ObjectRef::Id(id) => id.clone(),
        ObjectRef::Created { name } => created[name].clone(),
    }
}

/// Applies one identity action of action `n` as the API would; `Err` is the API's refusal.
#[expect(clippy::too_many_lines, reason = "one arm per operation")]
pub fn apply(
    s: &mut Snapshot,
    n: usize,
    op: &Op,
    created_ws: &BTreeMap<String, String>,
    created: &mut Created,
) -> Result<(), String> {
    let ids = s
        .identities
        .as_mut()
        .ok_or("an identity action from a read without identities")?;
    let live_sa = |ids: &orgform_model::Identities, id: &str| {
        ids.service_accounts
            .iter()
            .any(|x| x.id == id && !x.is_archived())
    };
    match op {
        Op::CreateServiceAccount {
            name,
            description,
            organization_role,
        } => {
            if ids.service_accounts.iter().any(|x| &x.name == name) {
                return Err(format!("409: service account {name} exists"));
            }
            let id = format!("svac_01New{n:018}");
            created.service_accounts.insert(name.clone(), id.clone());
            ids.service_accounts.push(ServiceAccount {
                id,
                name: name.clone(),
                description: Some(description.clone().unwrap_or_default()),
                organization_role: organization_role.clone(),
                created_at: now(),
                archived_at: None,
            });
        }
        Op::UpdateServiceAccount {
            service_account_id,
            description,
            organization_role,
            ..
        } => {
            let sa = ids
                .service_accounts
                .iter_mut()
                .find(|x| &x.id == service_account_id && !x.is_archived())
                .ok_or("400: update of an archived or unknown service account")?;
            if let Some(d) = description {
                sa.description = Some(d.clone());
            }
            if let Some(r) = organization_role {
                sa.organization_role = r.clone();
            }
        }
        Op::ArchiveServiceAccount {
            service_account_id, ..
        } => {
            if ids
                .federation_rules
                .iter()
                .any(|r| &r.target_service_account_id == service_account_id && !r.is_archived())
            {
                return Err("400: a live federation rule targets the service account".into());
            }
            let sa = ids
                .service_accounts
                .iter_mut()
                .find(|x| &x.id == service_account_id)
                .ok_or("404")?;
            sa.archived_at.get_or_insert(now());
            ids.service_account_members
                .retain(|m| &m.service_account_id != service_account_id);
        }
        Op::AddServiceAccountMember {
            workspace,
            service_account,
            role,
            ..
        } => {
            let workspace_id = ws(created_ws, workspace);
            let sa_id = match service_account {
                ServiceAccountRef::Id(id) => id.clone(),
                ServiceAccountRef::Created { name } => created.service_accounts[name].clone(),
            };
            if !live_sa(ids, &sa_id) {
                return Err("400: an archived service account cannot be added".into());
            }
            ids.service_account_members
                .retain(|m| !(m.workspace_id == workspace_id && m.service_account_id == sa_id));
            ids.service_account_members.push(ServiceAccountMember {
                workspace_id,
                service_account_id: sa_id,
                workspace_role: role.clone(),
            });
        }
        Op::UpdateServiceAccountMember {
            workspace_id,
            service_account_id,
            role,
            ..
        } => {
            ids.service_account_members
                .iter_mut()
                .find(|m| {
                    &m.workspace_id == workspace_id && &m.service_account_id == service_account_id
                })
                .ok_or("404: only explicit memberships can be updated")?
                .workspace_role = role.clone();
        }
        Op::RemoveServiceAccountMember {
            workspace_id,
            service_account_id,
            ..
        } => ids.service_account_members.retain(|m| {
            !(&m.workspace_id == workspace_id && &m.service_account_id == service_account_id)
        }),
        Op::CreateFederationIssuer {
            name,
            issuer_url,
            jwks: keys,
            max_jwt_lifetime_seconds,
            check_jti,
        } => {
            let id = format!("fdis_01New{n:018}");
            created.issuers.insert(name.clone(), id.clone());
            ids.federation_issuers.push(FederationIssuer {
                id,
                name: name.clone(),
                issuer_url: issuer_url.clone(),
                jwks: jwks(keys.as_ref()),
                max_jwt_lifetime_seconds: max_jwt_lifetime_seconds.unwrap_or(3600),
                check_jti: check_jti.unwrap_or(true),
                created_at: now(),
                archived_at: None,
            });
        }
        Op::UpdateFederationIssuer {
            issuer_id,
            issuer_url,
            jwks: keys,
            max_jwt_lifetime_seconds,
            check_jti,
            ..
        } => {
            let i = ids
                .federation_issuers
                .iter_mut()
                .find(|x| &x.id == issuer_id && !x.is_archived())
                .ok_or("400: update of an archived or unknown issuer")?;
            if let Some(u) = issuer_url {
                i.issuer_url.clone_from(u);
            }
            if let Some(k) = keys {
                i.jwks = jwks(Some(k));
            }
            if let Some(l) = max_jwt_lifetime_seconds {
                i.max_jwt_lifetime_seconds = *l;
            }
            if let Some(c) = check_jti {
                i.check_jti = *c;
            }
        }
        Op::ArchiveFederationIssuer { issuer_id, .. } => {
            if ids
                .federation_rules
                .iter()
                .any(|r| &r.issuer_id == issuer_id && !r.is_archived())
            {
                return Err("400: a live rule uses the issuer".into());
            }
            ids.federation_issuers
                .iter_mut()
                .find(|x| &x.id == issuer_id)
                .ok_or("404")?
                .archived_at
                .get_or_insert(now());
        }
        Op::CreateFederationRule {
            name,
            description,
            issuer,
            rule_match,
            service_account,
            oauth_scope,
            token_lifetime_seconds,
            applies_to_all_workspaces,
            workspaces,
        } => {
            let sa = object(&created.service_accounts, service_account);
            if !live_sa(ids, &sa) {
                return Err("400: the target service account is not live".into());
            }
            let mut workspace_ids: Vec<String> =
                workspaces.iter().map(|w| ws(created_ws, w)).collect();
            workspace_ids.sort();
            workspace_ids.dedup();
            ids.federation_rules.push(FederationRule {
                id: format!("fdrl_01New{n:018}"),
                name: name.clone(),
                description: description.clone(),
                issuer_id: object(&created.issuers, issuer),
                rule_match: rule_match.clone(),
                target_service_account_id: sa,
                oauth_scope: oauth_scope.clone(),
                token_lifetime_seconds: token_lifetime_seconds.unwrap_or(3600),
                applies_to_all_workspaces: *applies_to_all_workspaces,
                workspace_ids,
                created_at: now(),
                archived_at: None,
            });
        }
        Op::UpdateFederationRule {
            rule_id,
            description,
            rule_match,
            service_account,
            oauth_scope,
            token_lifetime_seconds,
            applies_to_all_workspaces,
            ..
        } => {
            let sa = service_account
                .as_ref()
                .map(|r| object(&created.service_accounts, r));
            let r = ids
                .federation_rules
                .iter_mut()
                .find(|x| &x.id == rule_id && !x.is_archived())
                .ok_or("400: update of an archived or unknown rule")?;
            if let Some(d) = description {
                r.description = Some(d.clone());
            }
            if let Some(m) = rule_match {
                r.rule_match = m.clone();
            }
            if let Some(sa) = sa {
                r.target_service_account_id = sa;
            }
            if let Some(sc) = oauth_scope {
                r.oauth_scope.clone_from(sc);
            }
            if let Some(l) = token_lifetime_seconds {
                r.token_lifetime_seconds = *l;
            }
            if let Some(all) = applies_to_all_workspaces {
                if !*all && r.workspace_ids.is_empty() {
                    return Err("400: no workspace would remain".into());
                }
                r.applies_to_all_workspaces = *all;
            }
        }
        Op::ArchiveFederationRule { rule_id, .. } => {
            let r = ids
                .federation_rules
                .iter_mut()
                .find(|x| &x.id == rule_id)
                .ok_or("404")?;
            r.archived_at.get_or_insert(now());
            r.workspace_ids.clear();
            r.applies_to_all_workspaces = false;
        }
        Op::EnableFederationRuleWorkspace {
            rule_id, workspace, ..
        } => {
            let id = ws(created_ws, workspace);
            let r = ids
                .federation_rules
                .iter_mut()
                .find(|x| &x.id == rule_id && !x.is_archived())
                .ok_or("400: enable on an archived rule")?;
            r.workspace_ids.push(id);
            r.workspace_ids.sort();
            r.workspace_ids.dedup();
        }
        Op::DisableFederationRuleWorkspace {
            rule_id,
            workspace_id,
            ..
        } => {
            let r = ids
                .federation_rules
                .iter_mut()
                .find(|x| &x.id == rule_id)
                .ok_or("404")?;
            r.workspace_ids.retain(|w| w != workspace_id);
        }
        other => return Err(format!("not an identity action: {}", other.name())),
    }
    Ok(())
}
