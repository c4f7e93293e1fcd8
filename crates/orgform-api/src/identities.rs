//! Reading the organization's non-human identities into [`Snapshot::identities`]:
//! [`Client::read_identities`].
//!
//! These endpoints serve only an OAuth bearer token. With an admin key no request is made and
//! the result is `None` ("not read"). With a bearer token that the first identity request
//! refuses (401 or 403: a token without the `org:admin` scope, or a server that does not
//! serve these endpoints to it), the result is also `None`, with one warning: the rest of the
//! organization can still be planned, and `None` never plans anything for these kinds. Any
//! other failure fails the whole read, as for every collection: a partial list would look
//! like objects to archive.
//!
//! Service accounts are one list (archived ones included). Their explicit workspace
//! memberships are read from whichever side takes fewer requests: one list per non-archived
//! workspace (`GET /workspaces/{id}/service_accounts`, as people's memberships are read), or
//! one per non-archived service account (`GET /service_accounts/{id}/workspaces`). Either
//! way the result holds exactly the explicit memberships of non-archived service accounts in
//! non-archived, listed workspaces: the per-service-account side's implicit default-workspace
//! entry, explicit rows in the default workspace (which orgform does not manage, as for
//! people) and rows in archived workspaces (which the workspace side cannot list) are left
//! out, so both sides read the same snapshot.
//!
//! [`Snapshot::identities`]: orgform_model::Snapshot::identities

use futures::{StreamExt as _, TryStreamExt as _};
use orgform_model::{Identities, ServiceAccountMember, Workspace};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::client::{Client, Req};
use crate::integrity::{ListCheck, NextPage, ReadProblem, inconsistent};
use crate::{ApiError, CredentialKind};

/// The page size of the identity lists (their `limit` is at most 100).
pub(crate) const IDENTITY_PAGE_SIZE: usize = 100;

/// One page of a `next_page`-paginated list; `next_page` must be present (`null` on the
/// last page) for the list to be known complete.
#[derive(Debug, Deserialize)]
struct CursorPage {
    data: Vec<serde_json::Value>,
    #[serde(default)]
    next_page: NextPage,
}

impl Client {
    /// Whether this client's credential can read identities at all.
    pub fn reads_identities(&self) -> bool {
        self.credential_kind() == CredentialKind::BearerToken
    }

    /// Every item of a `page`-cursor list, each page checked by `check` (as
    /// [`Client::list_all`] does for `after_id` lists).
    pub(crate) async fn list_cursor<T: DeserializeOwned>(
        &self,
        base: Req,
        check: ListCheck,
    ) -> Result<Vec<T>, ApiError> {
        let mut check = check.with_page_size(IDENTITY_PAGE_SIZE);
        let mut page: Option<String> = None;
        loop {
            let mut req = base.clone().query("limit", IDENTITY_PAGE_SIZE.to_string());
            if let Some(cursor) = page.take() {
                req = req.query("page", cursor);
            }
            let raw: CursorPage = self.read_json(&req).await?;
            match check.cursor_page(raw.data, raw.next_page)? {
                Some(next) => page = Some(next),
                None => return check.finish(&base.path),
            }
        }
    }

    /// The organization's identities, or `None` when this credential cannot read them (see
    /// the module docs). `workspaces` is the workspace list of the same read.
    pub async fn read_identities(
        &self,
        workspaces: &[Workspace],
    ) -> Result<Option<Identities>, ApiError> {
        if !self.reads_identities() {
            return Ok(None);
        }
        let Some(mut identities) = refused_as_none(self.read_service_accounts(workspaces).await)?
        else {
            return Ok(None);
        };
        let (issuers, rules) =
            futures::try_join!(self.list_federation_issuers(), self.list_federation_rules())?;
        check_rule_references(&identities, &issuers, &rules)?;
        identities.federation_issuers = issuers;
        identities.federation_rules = rules;
        identities.normalize();
        Ok(Some(identities))
    }

    /// Service accounts and their explicit memberships in the non-archived `workspaces`.
    async fn read_service_accounts(
        &self,
        workspaces: &[Workspace],
    ) -> Result<Identities, ApiError> {
        let service_accounts = self.list_service_accounts(true).await?;
        let active_workspaces: Vec<&str> = workspaces
            .iter()
            .filter(|w| !w.is_archived())
            .map(|w| w.id.as_str())
            .collect();
        let active_accounts: Vec<&str> = service_accounts
            .iter()
            .filter(|s| !s.is_archived())
            .map(|s| s.id.as_str())
            .collect();
        let concurrency = self.config().concurrency.max(1);
        let members: Vec<ServiceAccountMember> = if active_accounts.is_empty() {
            Vec::new()
        } else if active_workspaces.len() <= active_accounts.len() {
            futures::stream::iter(
                active_workspaces
                    .iter()
                    .map(|ws| self.list_workspace_service_accounts(ws)),
            )
            .buffer_unordered(concurrency)
            .try_collect::<Vec<_>>()
            .await?
            .into_iter()
            .flatten()
            .collect()
        } else {
            futures::stream::iter(
                active_accounts
                    .iter()
                    .map(|sa| self.list_service_account_workspaces(sa)),
            )
            .buffer_unordered(concurrency)
            .try_collect::<Vec<_>>()
            .await?
            .into_iter()
            .flatten()
            .collect()
        };
        let members = keep_managed(members, &active_workspaces, &active_accounts)?;
        Ok(Identities {
            service_accounts,
            service_account_members: members,
            ..Identities::default()
        })
    }
}

/// Every rule must name an issuer and a service account of the same read: a rule whose
/// references are missing means a list was cut short, and a plan from it could archive.
fn check_rule_references(
    identities: &Identities,
    issuers: &[orgform_model::FederationIssuer],
    rules: &[orgform_model::FederationRule],
) -> Result<(), ApiError> {
    for rule in rules {
        if !issuers.iter().any(|i| i.id == rule.issuer_id) {
            return Err(inconsistent(
                "federation rules",
                ReadProblem::UnknownIssuer {
                    issuer_id: rule.issuer_id.clone(),
                },
            ));
        }
        if identities
            .service_account(&rule.target_service_account_id)
            .is_none()
        {
            return Err(inconsistent(
                "federation rules",
                ReadProblem::UnknownRuleTarget {
                    service_account_id: rule.target_service_account_id.clone(),
                },
            ));
        }
    }
    Ok(())
}

/// A 401 or 403 becomes `Ok(None)` with one warning; anything else is kept.
fn refused_as_none<T>(result: Result<T, ApiError>) -> Result<Option<T>, ApiError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(ApiError::Api {
            status: status @ (401 | 403),
            message,
            ..
        }) => {
            tracing::warn!(
                status,
                message = %message,
                "the oauth token cannot read service accounts or federation; they are left out of this run (hint: use a token with the org:admin scope)"
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The explicit memberships orgform manages: non-archived service accounts in non-archived,
/// listed workspaces. A membership naming a service account that was not listed makes the
/// read inconsistent.
fn keep_managed(
    members: Vec<ServiceAccountMember>,
    workspaces: &[&str],
    accounts: &[&str],
) -> Result<Vec<ServiceAccountMember>, ApiError> {
    let mut out = Vec::with_capacity(members.len());
    for m in members {
        if !accounts.contains(&m.service_account_id.as_str()) {
            return Err(inconsistent(
                "service account memberships",
                ReadProblem::UnknownServiceAccount {
                    service_account_id: m.service_account_id,
                },
            ));
        }
        if workspaces.contains(&m.workspace_id.as_str()) {
            out.push(m);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod federation_read_tests {
    use orgform_model::{FederationRule, Identities, RuleMatch};

    use super::check_rule_references;

    fn rule(issuer: &str, sa: &str) -> FederationRule {
        FederationRule {
            id: "fdrl_1".into(),
            name: "deploy".into(),
            description: None,
            issuer_id: issuer.into(),
            rule_match: RuleMatch::default(),
            target_service_account_id: sa.into(),
            oauth_scope: "workspace:developer".into(),
            token_lifetime_seconds: 3600,
            applies_to_all_workspaces: true,
            workspace_ids: Vec::new(),
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            archived_at: None,
        }
    }

    /// A read whose rules name an issuer or service account the same read did not list (a
    /// list cut short, or an answer tampered with) is an error, never a snapshot to plan
    /// archives from.
    #[test]
    fn a_rule_naming_an_unlisted_issuer_or_service_account_fails_the_read() {
        let ids = Identities::default();
        let err = check_rule_references(&ids, &[], &[rule("fdis_gone", "svac_x")]).unwrap_err();
        assert!(err.to_string().contains("fdis_gone"), "{err}");
        let issuer = orgform_model::FederationIssuer {
            id: "fdis_1".into(),
            name: "lab".into(),
            issuer_url: "https://idp.example".into(),
            jwks: orgform_model::Jwks::Discovery {
                discovery_base: None,
                ca_cert_pem: None,
            },
            max_jwt_lifetime_seconds: 3600,
            check_jti: true,
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            archived_at: None,
        };
        let err = check_rule_references(
            &ids,
            std::slice::from_ref(&issuer),
            &[rule("fdis_1", "svac_gone")],
        )
        .unwrap_err();
        assert!(err.to_string().contains("svac_gone"), "{err}");
        assert!(err.to_string().contains("a rule targets"), "{err}");
        assert!(check_rule_references(&ids, &[issuer], &[]).is_ok());
    }
}
