//! The generated organizations the benchmark reads and changes, and their manifests.
//!
//! An organization of `n` members has `n / 100` active workspaces (at least 1, at most 100)
//! and four times as many archived ones; every member who is neither admin nor billing is an
//! explicit member of one active workspace (at most 1,000 to a workspace, one page), and
//! every archived workspace keeps 5 members. Keys: `n / 10`, spread over the active
//! workspaces. Pending invites: `n / 50`. The manifest is `orgform export` of it, so a plan
//! of it changes nothing.

use std::collections::BTreeMap;

use orgform_model::{
    ActorRef, ApiKey, ApiKeyStatus, Invite, InviteStatus, OrgRole, Organization, Snapshot,
    Timestamp, User, Workspace, WorkspaceMember, WorkspaceRole,
};

/// The emulator's organization id.
const ORG: &str = orgform_emulator::DEFAULT_ORG_ID;

fn ts(text: &str) -> Timestamp {
    text.parse().expect("a fixed timestamp parses")
}

fn role(i: usize) -> OrgRole {
    match i % 20 {
        0 => OrgRole::Admin,
        1 => OrgRole::Billing,
        2..=7 => OrgRole::Developer,
        8..=10 => OrgRole::ClaudeCodeUser,
        _ => OrgRole::User,
    }
}

/// Active and archived workspaces of an organization of `n` members.
pub fn workspace_counts(n: usize) -> (usize, usize) {
    let active = (n / 100).clamp(1, 100);
    (active, active * 4)
}

/// The organization of `n` members.
pub fn organization(n: usize) -> Snapshot {
    let (active, archived) = workspace_counts(n);
    let users: Vec<User> = (0..n)
        .map(|i| User {
            id: format!("user_01{i:022}"),
            email: format!("person{i}@bench.example"),
            name: format!("Person {i}"),
            role: role(i),
            added_at: ts("2026-01-01T00:00:00Z"),
        })
        .collect();
    let workspaces: Vec<Workspace> = (0..active + archived)
        .map(|i| Workspace {
            id: format!("wrkspc_01{i:022}"),
            name: format!("team-{i:04}"),
            created_at: ts("2026-01-02T00:00:00Z"),
            archived_at: (i >= active).then(|| ts("2026-03-01T00:00:00Z")),
            display_color: "#6C5BB9".to_owned(),
            data_residency: None,
            tags: BTreeMap::new(),
        })
        .collect();
    let mut members = Vec::new();
    for (i, user) in users.iter().enumerate() {
        if user.role.implicit_workspace_role().is_none() {
            members.push(WorkspaceMember {
                workspace_id: workspaces[i % active].id.clone(),
                user_id: user.id.clone(),
                workspace_role: if i % 3 == 0 {
                    WorkspaceRole::WorkspaceDeveloper
                } else {
                    WorkspaceRole::WorkspaceUser
                },
            });
        }
    }
    let plain: Vec<&User> = users
        .iter()
        .filter(|u| u.role.implicit_workspace_role().is_none())
        .collect();
    for ws in &workspaces[active..] {
        for user in plain.iter().take(5) {
            members.push(WorkspaceMember {
                workspace_id: ws.id.clone(),
                user_id: user.id.clone(),
                workspace_role: WorkspaceRole::WorkspaceUser,
            });
        }
    }
    let api_keys = (0..n / 10)
        .map(|i| ApiKey {
            id: format!("apikey_01{i:022}"),
            name: format!("key-{i:06}"),
            created_at: ts("2026-04-01T00:00:00Z"),
            created_by: Some(ActorRef {
                id: users[i % n].id.clone(),
                kind: "user".to_owned(),
            }),
            partial_key_hint: None,
            status: ApiKeyStatus::Active,
            expires_at: None,
            workspace_id: Some(workspaces[i % active].id.clone()),
        })
        .collect();
    let invites = (0..n / 50)
        .map(|i| Invite {
            id: format!("invite_01{i:022}"),
            email: format!("invitee{i}@bench.example"),
            role: OrgRole::Developer,
            status: InviteStatus::Pending,
            invited_at: ts("2026-05-28T00:00:00Z"),
            expires_at: ts("2026-06-18T00:00:00Z"),
            accepted_at: None,
        })
        .collect();
    Snapshot {
        organization: Organization {
            id: ORG.to_owned(),
            name: "Bench Organization".to_owned(),
        },
        users,
        invites,
        workspaces,
        workspace_members: members,
        api_keys,
        identities: None,
    }
    .normalized()
}

/// The live organization for an apply of `count` invites: `wanted` without `count` of its
/// members (neither admins nor billing), who the manifest still lists.
pub fn without_members(wanted: &Snapshot, count: usize) -> Snapshot {
    let gone: std::collections::HashSet<String> = wanted
        .users
        .iter()
        .filter(|u| u.role.implicit_workspace_role().is_none())
        .take(count)
        .map(|u| u.id.clone())
        .collect();
    assert_eq!(gone.len(), count, "the organization is too small");
    let mut live = wanted.clone();
    live.users.retain(|u| !gone.contains(&u.id));
    live.workspace_members
        .retain(|m| !gone.contains(&m.user_id));
    live
}

/// The live organization for an apply of `count` role changes: `wanted` with `count`
/// developers and users swapped to the other role.
pub fn with_other_roles(wanted: &Snapshot, count: usize) -> Snapshot {
    let mut live = wanted.clone();
    let mut changed = 0;
    for user in &mut live.users {
        if changed == count {
            break;
        }
        user.role = match user.role {
            OrgRole::Developer => OrgRole::User,
            OrgRole::User => OrgRole::Developer,
            _ => continue,
        };
        changed += 1;
    }
    assert_eq!(changed, count, "the organization is too small");
    live
}

/// The manifest of `wanted`, as `orgform export` writes it.
pub fn manifest(wanted: &Snapshot) -> String {
    orgform::export::render(wanted)
}

/// The same manifest as a directory of fragments: the head (everything before `members:`),
/// the members in fragments of `per_fragment`, and the rest.
pub fn fragments(text: &str, per_fragment: usize) -> Vec<(String, String)> {
    let start = text.find("\nmembers:\n").expect("an export lists members") + 1;
    let end = text[start..]
        .find("\nworkspaces:")
        .map_or(text.len(), |i| start + i + 1);
    let mut out = vec![("00-head.yaml".to_owned(), text[..start].to_owned())];
    let body = &text[start + "members:\n".len()..end];
    let mut entries: Vec<String> = Vec::new();
    for line in body.lines() {
        if line.starts_with("  - ") || entries.is_empty() {
            entries.push(String::new());
        }
        let last = entries.last_mut().expect("pushed above");
        last.push_str(line);
        last.push('\n');
    }
    for (i, chunk) in entries.chunks(per_fragment.max(1)).enumerate() {
        out.push((
            format!("10-members-{i:04}.yaml"),
            format!("members:\n{}", chunk.concat()),
        ));
    }
    out.push(("20-rest.yaml".to_owned(), text[end..].to_owned()));
    out
}
