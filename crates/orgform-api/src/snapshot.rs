//! [`Client::fetch_snapshot`]: the whole organization in one complete read.
//!
//! Collections are read concurrently, and the member lists of all workspaces with at most
//! `concurrency` in flight; the client's global limit bounds the total either way. Any
//! request that finally fails fails the whole read (`try_join`), so a partial snapshot is
//! never returned: a missing page would otherwise look like objects to remove.
//!
//! Archived workspaces' member lists are read too: the API documents no refusal for them,
//! and a snapshot that silently skipped them could not be compared with the seeded state.

use futures::{StreamExt as _, TryStreamExt as _};
use orgform_model::Snapshot;

use crate::endpoints::{ApiKeyFilter, InviteFilter, UserFilter};
use crate::{ApiError, Client};

impl Client {
    /// Reads the whole organization: the organization itself, users, invites of every
    /// listed status, workspaces (archived included) with their members, and API keys.
    /// The result is normalised.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn fetch_snapshot(&self) -> Result<Snapshot, ApiError> {
        let workspaces_and_members = async {
            let workspaces = self.list_workspaces(true).await?;
            let members: Vec<Vec<_>> = futures::stream::iter(workspaces.iter().map(|w| {
                let id = w.id.clone();
                async move { self.list_workspace_members(&id).await }
            }))
            .buffer_unordered(self.config().concurrency.max(1))
            .try_collect()
            .await?;
            Ok::<_, ApiError>((workspaces, members.into_iter().flatten().collect()))
        };
        let (user_filter, invite_filter, key_filter) = (
            UserFilter::default(),
            InviteFilter::default(),
            ApiKeyFilter::default(),
        );
        let (organization, users, invites, api_keys, (workspaces, workspace_members)) = futures::try_join!(
            self.me(),
            self.list_users(&user_filter),
            self.list_invites(&invite_filter),
            self.list_api_keys(&key_filter),
            workspaces_and_members,
        )?;
        let snapshot = Snapshot {
            organization,
            users,
            invites,
            workspaces,
            workspace_members,
            api_keys,
        };
        tracing::debug!(
            users = snapshot.users.len(),
            invites = snapshot.invites.len(),
            workspaces = snapshot.workspaces.len(),
            members = snapshot.workspace_members.len(),
            api_keys = snapshot.api_keys.len(),
            "snapshot read"
        );
        Ok(snapshot.normalized())
    }
}
