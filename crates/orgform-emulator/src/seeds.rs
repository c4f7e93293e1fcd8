//! Seed organizations: [`small`] (a realistic small org, also committed as
//! `seeds/small.yaml`), [`large`] (deterministic from a seed number, for benchmarks), and
//! [`load`] (a JSON or YAML file in the [`Snapshot`] format, or the output of
//! `orgform snapshot`).

use std::collections::BTreeMap;
use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use orgform_model::{
    ActorRef, AllowedGeos, ApiKey, ApiKeyStatus, DataResidency, Invite, InviteStatus, OrgRole,
    Organization, Snapshot, User, Workspace, WorkspaceMember, WorkspaceRole,
};

use crate::EmulatorError;
use crate::ids::{make_id, splitmix};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

fn after(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.saturating_add(d).unwrap_or(t)
}

/// Loads a seed file: `.json` as JSON, a document written by `orgform snapshot` (it has a
/// top-level `snapshot_format`) as such, anything else as YAML in the [`Snapshot`] format.
pub fn load(path: &Path) -> Result<Snapshot, EmulatorError> {
    load_with_rate_limits(path).map(|(snapshot, _)| snapshot)
}

/// As [`load`], plus the rate limits of an `orgform snapshot` document's `rate_limits:`
/// section (`None` for other formats, or when the snapshot recorded them as unreadable).
pub fn load_with_rate_limits(
    path: &Path,
) -> Result<(Snapshot, Option<orgform_model::RateLimits>), EmulatorError> {
    let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::ReadSeed {
        path: path.to_owned(),
        source,
    })?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let parsed = if is_json {
        serde_json::from_str(&text)
            .map(|s| (s, None))
            .map_err(|e| e.to_string())
    } else if crate::snapshot_seed::is_snapshot_document(&text) {
        crate::snapshot_seed::parse_with_rate_limits(&text)
    } else {
        serde_saphyr::from_str(&text)
            .map(|s| (s, None))
            .map_err(|e| e.to_string())
    };
    parsed.map_err(|message| EmulatorError::ParseSeed {
        path: path.to_owned(),
        message,
    })
}

/// The embedded `seeds/small.yaml`.
const SMALL_YAML: &str = include_str!("../seeds/small.yaml");

/// A small realistic organization: 8 users of mixed roles (an admin, a billing member),
/// pending, expired and accepted invites, three workspaces with explicit members plus one
/// archived workspace, and 8 keys across every status, some in the default workspace.
/// Relative to the default clock start (2026-06-01), one pending invite is still valid.
pub fn small() -> Snapshot {
    serde_saphyr::from_str(SMALL_YAML).expect("seeds/small.yaml is a valid snapshot")
}

/// A deterministic large organization for benchmarks, e.g. `large(42, 2000, 100, 3000)`.
///
/// About 5 % of users are admins and 3 % billing; every workspace has members; keys are
/// spread over the workspaces (one in ten in the default workspace) with mixed statuses.
/// At most 100 workspaces are active; the rest are archived.
pub fn large(seed: u64, users: usize, workspaces: usize, keys: usize) -> Snapshot {
    let base = ts("2024-01-01T00:00:00Z");
    let mut rng = splitmix(seed);
    let mut next = move || {
        rng = splitmix(rng);
        rng
    };
    let roles = [
        OrgRole::User,
        OrgRole::Developer,
        OrgRole::Developer,
        OrgRole::ClaudeCodeUser,
        OrgRole::User,
    ];
    let user_list: Vec<User> = (0..users)
        .map(|i| {
            let r = next() % 100;
            let role = if r < 5 {
                OrgRole::Admin
            } else if r < 8 {
                OrgRole::Billing
            } else {
                roles[usize::try_from(r).unwrap_or(0) % roles.len()].clone()
            };
            User {
                id: make_id("user", seed, i as u64),
                email: format!("user{i:05}@example.com"),
                name: format!("User {i:05}"),
                role,
                added_at: after(
                    base,
                    SignedDuration::from_mins(i64::try_from(i).unwrap_or(0) * 7),
                ),
            }
        })
        .collect();
    let ws_list: Vec<Workspace> = (0..workspaces)
        .map(|i| Workspace {
            id: make_id("wrkspc", seed, 1_000_000 + i as u64),
            name: format!("workspace-{i:03}"),
            created_at: after(
                base,
                SignedDuration::from_hours(i64::try_from(i).unwrap_or(0)),
            ),
            archived_at: (i >= 100).then(|| after(base, days(300))),
            display_color: "#1E88E5".to_owned(),
            data_residency: Some(DataResidency {
                workspace_geo: "us".to_owned(),
                allowed_inference_geos: AllowedGeos::UNRESTRICTED,
                default_inference_geo: "global".to_owned(),
            }),
            tags: BTreeMap::from([("team".to_owned(), format!("t{}", i % 7))]),
        })
        .collect();
    let mut members = Vec::new();
    if !user_list.is_empty() {
        for ws in &ws_list {
            let count = 3 + usize::try_from(next() % 8).unwrap_or(0);
            let mut chosen = std::collections::BTreeSet::new();
            for _ in 0..count {
                let u = &user_list[usize::try_from(next()).unwrap_or(0) % user_list.len()];
                if u.role.implicit_workspace_role().is_some() || !chosen.insert(u.id.clone()) {
                    continue;
                }
                let role = match next() % 4 {
                    0 => WorkspaceRole::WorkspaceAdmin,
                    1 => WorkspaceRole::WorkspaceUser,
                    2 => WorkspaceRole::WorkspaceRestrictedDeveloper,
                    _ => WorkspaceRole::WorkspaceDeveloper,
                };
                members.push(WorkspaceMember {
                    workspace_id: ws.id.clone(),
                    user_id: u.id.clone(),
                    workspace_role: role,
                });
            }
        }
    }
    let key_list: Vec<ApiKey> = (0..keys)
        .map(|i| {
            let workspace_id = if ws_list.is_empty() || i % 10 == 0 {
                None
            } else {
                Some(ws_list[i % ws_list.len()].id.clone())
            };
            let status = match next() % 10 {
                0 => ApiKeyStatus::Inactive,
                1 => ApiKeyStatus::Archived,
                _ => ApiKeyStatus::Active,
            };
            let archived_ws = workspace_id
                .as_ref()
                .and_then(|w| ws_list.iter().find(|x| &x.id == w))
                .is_some_and(Workspace::is_archived);
            ApiKey {
                id: make_id("apikey", seed, 2_000_000 + i as u64),
                name: format!("key-{i:05}"),
                created_at: after(
                    base,
                    SignedDuration::from_mins(i64::try_from(i).unwrap_or(0) * 3),
                ),
                created_by: user_list.get(i % user_list.len().max(1)).map(|u| ActorRef {
                    id: u.id.clone(),
                    kind: "user".to_owned(),
                }),
                partial_key_hint: Some(format!("sk-ant-api03-{:03}...AA", i % 1000)),
                status: if archived_ws {
                    ApiKeyStatus::Archived
                } else {
                    status
                },
                expires_at: (i % 13 == 0).then(|| after(base, days(400))),
                workspace_id,
            }
        })
        .collect();
    Snapshot {
        organization: Organization {
            id: crate::DEFAULT_ORG_ID.to_owned(),
            name: format!("Large Organization {seed}"),
        },
        users: user_list,
        invites: (0..users / 20)
            .map(|i| {
                let at = after(base, days(i64::try_from(i).unwrap_or(0)));
                Invite {
                    id: make_id("invite", seed, 3_000_000 + i as u64),
                    email: format!("invitee{i:05}@example.com"),
                    role: OrgRole::Developer,
                    status: InviteStatus::Pending,
                    invited_at: at,
                    expires_at: after(at, days(21)),
                    accepted_at: None,
                }
            })
            .collect(),
        workspaces: ws_list,
        workspace_members: members,
        api_keys: key_list,
        identities: None,
    }
}
