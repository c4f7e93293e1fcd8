//! `no_access_since` in the audit snapshot: the evidence a staged removal waits for
//! (`settings.members.removal: staged`, `docs/manifest.md`).
//!
//! A member has **no access** when the live state shows no explicit membership of theirs in a
//! non-archived workspace (an org admin's or billing member's implicit one does not count) and
//! no active API key they created. `orgform snapshot --out PATH` writes, for each such member,
//! the instant since which the snapshot has seen them so: kept from the file it replaces when
//! that file records it for the same member of the same organization, else the instant of this
//! read (the API's clock, or `--now`). A member with access gets none, so regaining access
//! starts the count again. Written to stdout, a snapshot has no file to carry dates from and
//! writes none.
//!
//! `plan`, `apply` and `drift` read the committed file with `--audit-snapshot PATH`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use jiff::Timestamp;
use orgform_model::{ApiKeyStatus, Snapshot};
use orgform_plan::NoAccessRecord;
use serde::Deserialize;

/// The largest audit snapshot read back (the manifest's own cap is similar in spirit).
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The ids of the members who have no access in `live`.
pub fn without_access(live: &Snapshot) -> BTreeSet<&str> {
    let roles: HashMap<&str, &orgform_model::User> =
        live.users.iter().map(|u| (u.id.as_str(), u)).collect();
    let archived: BTreeSet<&str> = live
        .workspaces
        .iter()
        .filter(|w| w.is_archived())
        .map(|w| w.id.as_str())
        .collect();
    let mut with_access: BTreeSet<&str> = BTreeSet::new();
    for wm in &live.workspace_members {
        if archived.contains(wm.workspace_id.as_str()) {
            continue;
        }
        let implicit = roles
            .get(wm.user_id.as_str())
            .is_some_and(|u| u.role.implicit_workspace_role().as_ref() == Some(&wm.workspace_role));
        if !implicit {
            with_access.insert(wm.user_id.as_str());
        }
    }
    for key in &live.api_keys {
        if key.status == ApiKeyStatus::Active
            && let Some(by) = &key.created_by
        {
            with_access.insert(by.id.as_str());
        }
    }
    live.users
        .iter()
        .map(|u| u.id.as_str())
        .filter(|id| !with_access.contains(id))
        .collect()
}

/// What an audit snapshot file records, as far as staged removal needs it.
#[derive(Debug, Deserialize)]
struct Document {
    snapshot_format: u32,
    organization: Organization,
    #[serde(default)]
    members: Vec<Member>,
}

#[derive(Debug, Deserialize)]
struct Organization {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Member {
    id: String,
    #[serde(default)]
    no_access_since: Option<Timestamp>,
}

/// A snapshot file's organization id and `no_access_since` by user id.
fn parse(text: &str) -> Result<(String, BTreeMap<String, Timestamp>), String> {
    let doc: Document = serde_saphyr::from_str(text).map_err(|err| err.to_string())?;
    if doc.snapshot_format != crate::audit::SNAPSHOT_FORMAT {
        return Err(format!(
            "snapshot_format {} is not one this orgform reads ({})",
            doc.snapshot_format,
            crate::audit::SNAPSHOT_FORMAT
        ));
    }
    let since = doc
        .members
        .into_iter()
        .filter_map(|m| m.no_access_since.map(|t| (m.id, t)))
        .collect();
    Ok((doc.organization.id, since))
}

/// The dates to write in a snapshot of `live` read at `now` that replaces the file at
/// `previous` (if it is a regular file): kept for members still without access, set to `now`
/// for members newly without access. A file that cannot be read as an orgform snapshot of
/// this organization carries no dates: every date starts at `now` (which can only delay a
/// staged removal), and the second value says why, for a warning.
pub fn carry(
    previous: Option<&Path>,
    live: &Snapshot,
    now: Timestamp,
) -> (BTreeMap<String, Timestamp>, Option<String>) {
    let mut recorded = BTreeMap::new();
    let mut warning = None;
    if let Some(path) = previous
        && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
    {
        let shown = path.display();
        match crate::files::read_capped(path, "--out", MAX_BYTES)
            .map_err(|err| format!("{err:#}"))
            .and_then(|text| parse(&text))
        {
            Ok((org, since)) if org.eq_ignore_ascii_case(&live.organization.id) => {
                recorded = since;
            }
            Ok((org, _)) => {
                warning = Some(format!(
                    "--out {shown} is a snapshot of organization {org}; no no_access_since date \
                     is carried over, every one starts now"
                ));
            }
            Err(why) => {
                warning = Some(format!(
                    "--out {shown} is not an orgform snapshot ({why}); no no_access_since date \
                     is carried over, every one starts now"
                ));
            }
        }
    }
    let dates = without_access(live)
        .into_iter()
        .map(|id| (id.to_owned(), recorded.get(id).copied().unwrap_or(now)))
        .collect();
    (dates, warning)
}

/// Reads `--audit-snapshot PATH` for a plan of organization `organization_id`.
pub fn read(path: &Path, organization_id: &str) -> anyhow::Result<NoAccessRecord> {
    let text = crate::files::read_capped(path, "--audit-snapshot", MAX_BYTES)?;
    let shown = path.display();
    let (org, since) = parse(&text).map_err(|why| {
        anyhow::anyhow!(
            "cannot read --audit-snapshot {shown}: it is not an orgform snapshot ({}); nothing \
             was planned\n  hint: give the file `orgform snapshot --out` writes",
            orgform_plan::render::clean(&why)
        )
    })?;
    if !org.eq_ignore_ascii_case(organization_id) {
        anyhow::bail!(
            "--audit-snapshot {shown} is a snapshot of organization {}, not of {organization_id}; \
             nothing was planned\n  hint: give this organization's audit snapshot",
            orgform_plan::render::clean(&org)
        );
    }
    Ok(NoAccessRecord {
        file: path.display().to_string(),
        since,
    })
}
