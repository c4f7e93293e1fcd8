//! [`Client::fetch_snapshot`]: the whole organization in one complete and consistent read.
//!
//! Collections are read concurrently, and the member lists of all workspaces with at most
//! `concurrency` in flight; the client's global limit bounds the total either way. Any
//! request that finally fails fails the whole read (`try_join`), so a partial snapshot is
//! never returned: a missing page would otherwise look like objects to remove. Every list is
//! checked page by page as it is read (the `integrity` module: envelope fields, cursors,
//! per-collection caps, duplicate ids, the workspace of each member).
//!
//! A read that changes while it is taken is never returned. Once everything is read, the
//! users and the workspaces are listed again; if either differs from the first listing, the
//! organization changed during the read (a user added or removed between two pages, a
//! workspace created...) and the whole organization is read again, at most
//! [`READ_ATTEMPTS`](crate::READ_ATTEMPTS) times in all; after that the read is refused as
//! inconsistent. Users and workspaces are the lists every other collection refers to; a
//! change to a member list alone (a member added or removed between its pages) is not
//! detected this way, but members are listed in a single page up to 1,000 per workspace,
//! and a member whose user changed is caught by the cross-checks below.
//!
//! Only a read whose second listing matched is checked across collections (user emails
//! unique case-insensitively, every member a user of the same snapshot); a failure there is
//! refused at once, since reading a stable organization again would give the same answer.
//!
//! What is read depends on the [`ReadScope`]. [`ReadScope::Everything`] (`orgform snapshot`)
//! reads the member lists of archived workspaces too: the API documents no refusal for them,
//! and a snapshot is the organization's complete record. [`ReadScope::Plan`] (`plan`, `apply`,
//! `drift`, `export`) lists archived workspaces but not their members: an archived workspace
//! cannot be changed, so nothing about its members can be planned, drift from them cannot be
//! corrected, and the destructive limits count only the memberships a run could remove (those
//! of non-archived workspaces). On an organization with many archived workspaces that is most
//! of the requests.
//!
//! Service accounts and their memberships are read only with an OAuth bearer token (the
//! `identities` module); with an admin key, `identities` stays `None` ("not read").
//!
//! The organization (`GET /v1/organizations/me`) is read once per run: a caller that already
//! read it (to check the manifest's `organization.id`) passes it in.

use futures::{StreamExt as _, TryStreamExt as _};
use orgform_model::{Organization, Snapshot, User, Workspace};
use tracing::Instrument as _;

use crate::endpoints::{ApiKeyFilter, InviteFilter, UserFilter};
use crate::integrity::{READ_ATTEMPTS, ReadProblem, check_snapshot, inconsistent};
use crate::{ApiError, Client};

/// Which member lists a read includes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadScope {
    /// Every workspace's members, archived workspaces included.
    #[default]
    Everything,
    /// The members of non-archived workspaces only; archived workspaces are still listed.
    Plan,
}

impl Client {
    /// Reads the whole organization: the organization itself, users, invites of every
    /// listed status, workspaces (archived included) with their members, and API keys.
    /// The result is normalised.
    ///
    /// Fails with [`ApiError::InconsistentRead`] when a list is cut short, paginates without
    /// end, contradicts itself or another list, or keeps changing while it is read.
    pub async fn fetch_snapshot(&self) -> Result<Snapshot, ApiError> {
        self.fetch_snapshot_scoped(ReadScope::Everything, None)
            .await
    }

    /// [`Client::fetch_snapshot`] within `scope`; with `organization` (already read by the
    /// caller), `GET /v1/organizations/me` is not asked again.
    pub async fn fetch_snapshot_scoped(
        &self,
        scope: ReadScope,
        organization: Option<Organization>,
    ) -> Result<Snapshot, ApiError> {
        self.read_consistent(scope, organization)
            .instrument(tracing::debug_span!("fetch_snapshot_scoped"))
            .await
    }

    async fn read_consistent(
        &self,
        scope: ReadScope,
        organization: Option<Organization>,
    ) -> Result<Snapshot, ApiError> {
        let organization = match organization {
            Some(org) => org,
            None => self.me().await?,
        };
        let mut changed = "users";
        for attempt in 1..=READ_ATTEMPTS {
            let snapshot = self
                .read_snapshot(scope, organization.clone())
                .await?
                .normalized();
            let all_users = UserFilter::default();
            let (users, workspaces) =
                futures::try_join!(self.list_users(&all_users), self.list_workspaces(true))?;
            match same_as(&snapshot, users, workspaces) {
                None => {
                    check_snapshot(&snapshot)?;
                    return Ok(snapshot);
                }
                Some(which) => {
                    changed = which;
                    tracing::warn!(
                        attempt,
                        collection = which,
                        "the organization changed while being read; reading it again"
                    );
                }
            }
        }
        Err(inconsistent(
            changed,
            ReadProblem::Changed {
                attempts: READ_ATTEMPTS,
            },
        ))
    }

    /// One pass over every collection within `scope`. Each collection read is logged as
    /// progress ([`PROGRESS_TARGET`], info), and so is each workspace's member list.
    async fn read_snapshot(
        &self,
        scope: ReadScope,
        organization: Organization,
    ) -> Result<Snapshot, ApiError> {
        let counters = self.counters();
        counters.read_started();
        let read = |collection: &'static str, count: usize| {
            counters.collection_read();
            tracing::info!(target: PROGRESS_TARGET, "read {} {collection}", thousands(count));
        };
        let workspaces_and_members = async {
            let workspaces = self.list_workspaces(true).await?;
            let wanted: Vec<&Workspace> = workspaces
                .iter()
                .filter(|w| scope == ReadScope::Everything || !w.is_archived())
                .collect();
            let total = wanted.len();
            // Service accounts are one collection more, read when the credential may.
            let identities_read = self.reads_identities();
            counters.more_collections(total + usize::from(identities_read));
            read(PROGRESS_WORKSPACES, workspaces.len());
            let done = std::sync::atomic::AtomicUsize::new(0);
            let members: Vec<Vec<_>> = futures::stream::iter(wanted.into_iter().map(|w| {
                let id = w.id.clone();
                let done = &done;
                async move {
                    let members = self.list_workspace_members(&id).await?;
                    counters.collection_read();
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    tracing::info!(
                        target: PROGRESS_TARGET,
                        "read the members of {n}/{total} workspaces"
                    );
                    Ok::<_, ApiError>(members)
                }
            }))
            .buffer_unordered(self.config().concurrency.max(1))
            .try_collect()
            .await?;
            let identities = self.read_identities(&workspaces).await?;
            match &identities {
                Some(ids) => read("service accounts", ids.service_accounts.len()),
                // Refused by the API: nothing more of it to read.
                None if identities_read => counters.collection_read(),
                None => {}
            }
            Ok::<_, ApiError>((
                workspaces,
                members.into_iter().flatten().collect(),
                identities,
            ))
        };
        let (user_filter, invite_filter, key_filter) = (
            UserFilter::default(),
            InviteFilter::default(),
            ApiKeyFilter::default(),
        );
        let (users, invites, api_keys, (workspaces, workspace_members, identities)) = futures::try_join!(
            async {
                let users = self.list_users(&user_filter).await?;
                read("members", users.len());
                Ok::<_, ApiError>(users)
            },
            async {
                let invites = self.list_invites(&invite_filter).await?;
                read("invites", invites.len());
                Ok::<_, ApiError>(invites)
            },
            async {
                let keys = self.list_api_keys(&key_filter).await?;
                read("api keys", keys.len());
                Ok::<_, ApiError>(keys)
            },
            workspaces_and_members,
        )?;
        let snapshot = Snapshot {
            organization,
            users,
            invites,
            workspaces,
            workspace_members,
            api_keys,
            identities,
        };
        tracing::debug!(
            users = snapshot.users.len(),
            invites = snapshot.invites.len(),
            workspaces = snapshot.workspaces.len(),
            members = snapshot.workspace_members.len(),
            api_keys = snapshot.api_keys.len(),
            "snapshot read"
        );
        Ok(snapshot)
    }
}

/// The `tracing` target of progress lines: orgform shows them on stderr when it is not a
/// terminal (where a spinner stands in for them), and from `-v` on.
pub const PROGRESS_TARGET: &str = "orgform::progress";

const PROGRESS_WORKSPACES: &str = "workspaces";

/// `1234567` as `1,234,567`.
pub(crate) fn thousands(n: impl std::fmt::Display) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Which collection of a normalised `snapshot` differs from a second listing, if any.
fn same_as(
    snapshot: &Snapshot,
    mut users: Vec<User>,
    mut workspaces: Vec<Workspace>,
) -> Option<&'static str> {
    users.sort_by(|a, b| a.id.cmp(&b.id));
    workspaces.sort_by(|a, b| a.id.cmp(&b.id));
    if users != snapshot.users {
        Some("users")
    } else if workspaces != snapshot.workspaces {
        Some("workspaces")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_200), "1,200");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }
}
