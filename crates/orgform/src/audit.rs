//! `orgform snapshot`: the whole live organization as deterministic, secret-free YAML, for
//! committing to git as an audit trail.
//!
//! Determinism: every list is sorted by a human key (email, workspace name, key name) with the
//! id as tie-breaker, so two snapshots of an unchanged organization are byte-identical and one
//! change is a small diff (a role change is a one-line diff).
//!
//! Allow-list: only the fields written below appear. No credential ever reaches the API
//! client (the API never returns key secrets); the key hint is written because the Console
//! shows it too. Values derived from the moment of reading are left out: there is no "read
//! at" time, and an invite's status is written as read (it changes only when the invite does).
//! `no_access_since` is the one date of a read that is written, and it is carried over from the
//! file a snapshot replaces ([`crate::no_access`]), so it too changes only when the member does.

use std::collections::BTreeMap;

use orgform_model::{RateLimits, Snapshot, Workspace, normalize_email};

use crate::yaml::YamlWriter;

/// Version of the snapshot document's layout.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// Renders the audit snapshot; `no_access` holds each member's `no_access_since`
/// ([`crate::no_access`]).
pub fn render(snapshot: &Snapshot, no_access: &BTreeMap<String, jiff::Timestamp>) -> String {
    let emails: BTreeMap<&str, &str> = snapshot
        .users
        .iter()
        .map(|u| (u.id.as_str(), u.email.as_str()))
        .collect();
    let workspaces: BTreeMap<&str, &Workspace> = snapshot
        .workspaces
        .iter()
        .map(|w| (w.id.as_str(), w))
        .collect();
    let mut w = YamlWriter::new();
    w.comment(
        0,
        "orgform snapshot of the live organization (generated; do not edit)",
    );
    w.raw_field(0, "snapshot_format", &SNAPSHOT_FORMAT.to_string());
    w.key(0, "organization");
    w.field(1, "id", &snapshot.organization.id);
    w.field(1, "name", &snapshot.organization.name);

    let mut users: Vec<_> = snapshot.users.iter().collect();
    users.sort_by(|a, b| {
        (normalize_email(&a.email), &a.id).cmp(&(normalize_email(&b.email), &b.id))
    });
    list_key(&mut w, "members", users.is_empty());
    for user in users {
        w.item_field(1, "email", &user.email);
        w.field(2, "role", user.role.as_str());
        w.field(2, "name", &user.name);
        w.field(2, "id", &user.id);
        w.field(2, "added_at", &user.added_at.to_string());
        if let Some(since) = no_access.get(&user.id) {
            w.field(2, "no_access_since", &since.to_string());
        }
    }

    let mut invites: Vec<_> = snapshot.invites.iter().collect();
    invites.sort_by(|a, b| {
        (normalize_email(&a.email), a.invited_at, &a.id).cmp(&(
            normalize_email(&b.email),
            b.invited_at,
            &b.id,
        ))
    });
    list_key(&mut w, "invites", invites.is_empty());
    for invite in invites {
        w.item_field(1, "email", &invite.email);
        w.field(2, "role", invite.role.as_str());
        w.field(2, "status", invite.status.as_str());
        w.field(2, "id", &invite.id);
        w.field(2, "invited_at", &invite.invited_at.to_string());
        w.field(2, "expires_at", &invite.expires_at.to_string());
        if let Some(at) = invite.accepted_at {
            w.field(2, "accepted_at", &at.to_string());
        }
    }

    let mut sorted_ws: Vec<_> = snapshot.workspaces.iter().collect();
    sorted_ws.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    list_key(&mut w, "workspaces", sorted_ws.is_empty());
    for ws in sorted_ws {
        w.item_field(1, "name", &ws.name);
        w.field(2, "id", &ws.id);
        w.field(2, "display_color", &ws.display_color);
        w.field(2, "created_at", &ws.created_at.to_string());
        if let Some(at) = ws.archived_at {
            w.field(2, "archived_at", &at.to_string());
        }
        write_residency_and_tags(&mut w, 2, ws);
        let mut members: Vec<(String, &str, &str)> = snapshot
            .workspace_members
            .iter()
            .filter(|m| m.workspace_id == ws.id)
            .map(|m| {
                let who = emails
                    .get(m.user_id.as_str())
                    .map_or_else(|| m.user_id.clone(), |e| (*e).to_owned());
                (who, m.user_id.as_str(), m.workspace_role.as_str())
            })
            .collect();
        members.sort();
        if members.is_empty() {
            w.raw_field(2, "members", "{}");
        } else {
            w.key(2, "members");
            for (who, _, role) in members {
                w.field(3, &who, role);
            }
        }
    }

    let ws_name = |id: Option<&str>| -> String {
        match id {
            None => "default".to_owned(),
            Some(id) => workspaces
                .get(id)
                .map_or_else(|| id.to_owned(), |ws| ws.name.clone()),
        }
    };
    let mut keys: Vec<_> = snapshot.api_keys.iter().collect();
    keys.sort_by(|a, b| {
        (ws_name(a.workspace_id.as_deref()), &a.name, &a.id).cmp(&(
            ws_name(b.workspace_id.as_deref()),
            &b.name,
            &b.id,
        ))
    });
    list_key(&mut w, "api_keys", keys.is_empty());
    for key in keys {
        w.item_field(1, "name", &key.name);
        w.field(2, "id", &key.id);
        w.field(2, "status", key.status.as_str());
        w.field(2, "workspace", &ws_name(key.workspace_id.as_deref()));
        if let Some(id) = &key.workspace_id {
            w.field(2, "workspace_id", id);
        }
        if let Some(by) = &key.created_by {
            match emails.get(by.id.as_str()) {
                Some(email) => w.field(2, "created_by", email),
                None => w.field(2, "created_by", &format!("{} {}", by.kind, by.id)),
            }
        }
        if let Some(hint) = &key.partial_key_hint {
            w.field(2, "partial_key_hint", hint);
        }
        w.field(2, "created_at", &key.created_at.to_string());
        if let Some(at) = key.expires_at {
            w.field(2, "expires_at", &at.to_string());
        }
    }
    w.finish()
}

/// `data_residency:` (when the API returned it) and `tags:` of a workspace, at `indent`.
/// Shared by the snapshot and the export, whose manifests use the same spelling.
pub(crate) fn write_residency_and_tags(w: &mut YamlWriter, indent: usize, ws: &Workspace) {
    if let Some(dr) = &ws.data_residency {
        w.key(indent, "data_residency");
        w.field(indent + 1, "workspace_geo", &dr.workspace_geo);
        match &dr.allowed_inference_geos {
            orgform_model::AllowedGeos::List(list) => {
                let inline: Vec<String> = list.iter().map(|g| crate::yaml::scalar(g)).collect();
                w.raw_field(
                    indent + 1,
                    "allowed_inference_geos",
                    &format!("[{}]", inline.join(", ")),
                );
            }
            orgform_model::AllowedGeos::Unrestricted(_) => {
                w.field(indent + 1, "allowed_inference_geos", "unrestricted");
            }
        }
        w.field(
            indent + 1,
            "default_inference_geo",
            &dr.default_inference_geo,
        );
    }
    if ws.tags.is_empty() {
        w.raw_field(indent, "tags", "{}");
    } else {
        w.key(indent, "tags");
        for (k, v) in &ws.tags {
            w.field(indent + 1, k, v);
        }
    }
}

/// What the snapshot records of rate limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitsRead {
    /// The organization's groups and the workspaces' overrides.
    Read(RateLimits),
    /// The Rate Limits API refused the credential (403 or 404): recorded as such, never as
    /// "no limits".
    Unreadable(String),
}

/// The audit snapshot with its `rate_limits:` section: the organization's groups sorted by
/// type and id, each with its models and its limiters by name; then, for each workspace with
/// overrides (sorted by name and id), the overridden limiters. Inherited values are not
/// repeated, so a changed limit is a one-line diff.
pub fn render_with_limits(
    snapshot: &Snapshot,
    limits: &LimitsRead,
    no_access: &BTreeMap<String, jiff::Timestamp>,
) -> String {
    let mut out = render(snapshot, no_access);
    let mut w = YamlWriter::new();
    w.key(0, "rate_limits");
    match limits {
        LimitsRead::Unreadable(reason) => w.field(1, "unreadable", reason),
        LimitsRead::Read(limits) => {
            let mut groups: Vec<_> = limits.organization.iter().collect();
            groups.sort_by(|a, b| (&a.group_type, &a.id).cmp(&(&b.group_type, &b.id)));
            if groups.is_empty() {
                w.raw_field(1, "organization", "[]");
            } else {
                w.key(1, "organization");
            }
            for g in groups {
                w.item_field(2, "group_type", &g.group_type);
                w.field(3, "id", &g.id);
                write_models(&mut w, 3, g.models.as_deref());
                let values: Vec<(&str, u64)> = g
                    .limits
                    .iter()
                    .map(|l| (l.kind.as_str(), l.value))
                    .collect();
                write_limits(&mut w, 3, values);
            }
            let names: BTreeMap<&str, &str> = snapshot
                .workspaces
                .iter()
                .map(|ws| (ws.id.as_str(), ws.name.as_str()))
                .collect();
            let mut overridden: Vec<(&str, &str, &Vec<orgform_model::WorkspaceRateLimit>)> = limits
                .workspaces
                .iter()
                .filter(|(_, o)| !o.is_empty())
                .map(|(id, o)| {
                    (
                        names.get(id.as_str()).copied().unwrap_or(id.as_str()),
                        id.as_str(),
                        o,
                    )
                })
                .collect();
            overridden.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            if overridden.is_empty() {
                w.raw_field(1, "workspaces", "[]");
            } else {
                w.key(1, "workspaces");
            }
            for (name, id, overrides) in overridden {
                w.item_field(2, "workspace", name);
                w.field(3, "workspace_id", id);
                w.key(3, "overrides");
                let mut overrides: Vec<_> = overrides.iter().collect();
                overrides.sort_by(|a, b| {
                    (&a.group_type, &a.rate_limit_id).cmp(&(&b.group_type, &b.rate_limit_id))
                });
                for o in overrides {
                    w.item_field(4, "group_type", &o.group_type);
                    w.field(5, "rate_limit_id", &o.rate_limit_id);
                    write_models(&mut w, 5, o.models.as_deref());
                    let values: Vec<(&str, u64)> = o
                        .limits
                        .iter()
                        .map(|l| (l.kind.as_str(), l.value))
                        .collect();
                    write_limits(&mut w, 5, values);
                }
            }
        }
    }
    out.push_str(&w.finish());
    out
}

fn write_models(w: &mut YamlWriter, indent: usize, models: Option<&[String]>) {
    let Some(models) = models else { return };
    let mut models: Vec<&String> = models.iter().collect();
    models.sort();
    if models.is_empty() {
        w.raw_field(indent, "models", "[]");
        return;
    }
    w.key(indent, "models");
    for m in models {
        w.item(indent + 1, m);
    }
}

fn write_limits(w: &mut YamlWriter, indent: usize, mut values: Vec<(&str, u64)>) {
    values.sort_unstable();
    if values.is_empty() {
        w.raw_field(indent, "limits", "{}");
        return;
    }
    w.key(indent, "limits");
    for (kind, value) in values {
        w.raw_field(indent + 1, kind, &value.to_string());
    }
}

fn list_key(w: &mut YamlWriter, key: &str, empty: bool) {
    if empty {
        w.raw_field(0, key, "[]");
    } else {
        w.key(0, key);
    }
}
