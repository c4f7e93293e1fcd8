//! Workspaces: creation, updates, archives, and live workspaces the manifest does not declare.
//!
//! - A pinned workspace id that matches nothing is a plan error even with `archived: true`:
//!   archived workspaces stay readable, so a miss means a typo.
//! - Data residency is compared only when the live workspace reports it; inference geo lists
//!   compare as sets; colours compare case-insensitively.
//! - Archiving a workspace archives its keys, so a workspace holding active or inactive keys
//!   created by a protected email is never archived: blocked when the manifest asks, kept and
//!   reported under `settings.workspaces.unmanaged: archive`.

use std::collections::BTreeMap;

use orgform_manifest::{DataResidencySpec, WorkspacePolicy, WorkspaceSpec};
use orgform_model::{AllowedGeos, ApiKeyStatus, Workspace};
use serde_json::Value;

use super::{Draft, Engine, WsRes, change, class, s};
use crate::DriftCategory;
use crate::types::{BlockedKind, ObjectKind, Op, PlanErrorKind};

impl Engine<'_> {
    pub(super) fn plan_workspaces(&mut self) {
        let m = self.m;
        let mut claimed: BTreeMap<String, String> = BTreeMap::new();
        for (index, spec) in m.workspaces.iter().enumerate() {
            self.here = if spec.archived {
                m.sources.workspace_field(index, "archived")
            } else {
                m.sources.workspace(index)
            };
            if self.ws_res.contains_key(&spec.name) {
                self.error(
                    PlanErrorKind::DuplicateMatch,
                    format!("workspace {}", spec.name),
                    format!("workspace {:?} is listed twice", spec.name),
                    "keep one entry per workspace",
                );
                continue;
            }
            let res = self.plan_workspace(spec);
            if let WsRes::Live { id, .. } | WsRes::Held { id } = &res
                && let Some(other) = claimed.insert(id.clone(), spec.name.clone())
            {
                self.error(
                    PlanErrorKind::DuplicateMatch,
                    format!("workspace {}", spec.name),
                    format!(
                        "workspace entries {other:?} and {:?} both match live workspace {id}",
                        spec.name
                    ),
                    "give each entry its own workspace: pin distinct ids or remove one entry",
                );
            }
            self.ws_res.insert(spec.name.clone(), res);
        }
        // Unlisted live workspaces.
        let policy = m.settings.workspaces.unmanaged;
        self.here = m.sources.setting("workspaces.unmanaged");
        let mut workspaces: Vec<&Workspace> = self.live.workspaces.iter().collect();
        workspaces.sort_by(|a, b| a.id.cmp(&b.id));
        for ws in workspaces {
            if ws.is_archived() || claimed.contains_key(&ws.id) {
                continue;
            }
            match policy {
                WorkspacePolicy::Ignore => {}
                WorkspacePolicy::Report => self.unmanaged(
                    ObjectKind::Workspace,
                    &ws.id,
                    format!("workspace {}", ws.name),
                    "not declared; settings.workspaces.unmanaged: report",
                    false,
                ),
                WorkspacePolicy::Archive if self.holds_protected_keys(ws) => self.unmanaged(
                    ObjectKind::Workspace,
                    &ws.id,
                    format!("workspace {}", ws.name),
                    "not declared; holds keys created by a protected email (settings.protected): kept",
                    true,
                ),
                WorkspacePolicy::Archive => {
                    self.archive_workspace(ws, DriftCategory::Unmanaged);
                }
            }
        }
    }

    fn plan_workspace(&mut self, spec: &WorkspaceSpec) -> WsRes {
        let target = format!("workspace {}", spec.name);
        let live: &Workspace = if let Some(id) = &spec.id {
            let Some(ws) = self.ws_by_id.get(id.as_str()).copied() else {
                self.error(
                    PlanErrorKind::UnknownWorkspaceId,
                    target,
                    format!("workspace id {id} matches no live workspace"),
                    "check the id, or remove it to match by name",
                );
                return WsRes::Error;
            };
            if ws.is_archived() {
                if spec.archived {
                    return WsRes::Live {
                        id: ws.id.clone(),
                        archiving: false,
                        archived: true,
                    };
                }
                self.error(
                    PlanErrorKind::ArchivedWorkspacePinned,
                    target,
                    format!("workspace id {id} is archived, and archiving cannot be undone"),
                    "add `archived: true` to the entry, or remove the entry (or its id) to create a new workspace",
                );
                return WsRes::Error;
            }
            ws
        } else {
            let candidates: Vec<&Workspace> = self
                .ws_by_name
                .get(spec.name.as_str())
                .map(|list| list.iter().copied().filter(|w| !w.is_archived()).collect())
                .unwrap_or_default();
            match candidates.as_slice() {
                [] => {
                    if spec.archived {
                        return WsRes::Absent;
                    }
                    return self.create_workspace(spec);
                }
                [one] => one,
                many => {
                    let ids: Vec<&str> = many.iter().map(|w| w.id.as_str()).collect();
                    self.error(
                        PlanErrorKind::AmbiguousWorkspace,
                        target,
                        format!(
                            "{} live workspaces are named {:?}: {}",
                            many.len(),
                            spec.name,
                            ids.join(", ")
                        ),
                        "pin the intended workspace with `id:`",
                    );
                    return WsRes::Error;
                }
            }
        };
        if spec.archived && self.holds_protected_keys(live) {
            self.block(
                BlockedKind::Protected,
                target,
                Some("archived"),
                Some(Value::Bool(false)),
                Some(Value::Bool(true)),
                "archiving would archive keys created by a protected email (settings.protected)",
                "move or retire those keys in the Console first, or remove the email from settings.protected",
            );
            return WsRes::Held {
                id: live.id.clone(),
            };
        }
        if spec.archived {
            self.archive_workspace(live, DriftCategory::Changed);
            return WsRes::Live {
                id: live.id.clone(),
                archiving: true,
                archived: false,
            };
        }
        self.update_workspace(spec, live);
        WsRes::Live {
            id: live.id.clone(),
            archiving: false,
            archived: false,
        }
    }

    fn create_workspace(&mut self, spec: &WorkspaceSpec) -> WsRes {
        let key = format!("ws-create:{}", spec.name);
        let mut changes = vec![change("name", None, Some(s(&spec.name)))];
        if let Some(color) = &spec.display_color {
            changes.push(change("display_color", None, Some(s(color))));
        }
        if let Some(dr) = &spec.data_residency {
            changes.push(change("data_residency", None, Some(to_value(dr))));
        }
        if let Some(tags) = &spec.tags {
            changes.push(change("tags", None, Some(to_value(tags))));
        }
        self.drafts.push(Draft {
            class: class::CREATE_WORKSPACE,
            sort_key: spec.name.clone(),
            key: key.clone(),
            op: Op::CreateWorkspace {
                name: spec.name.clone(),
                display_color: spec.display_color.clone(),
                data_residency: spec.data_residency.clone(),
                tags: spec.tags.clone().unwrap_or_default(),
            },
            target: format!("workspace {}", spec.name),
            changes,
            destructive: false,
            irreversible: false,
            deps: Vec::new(),
            consequences: Vec::new(),
            category: DriftCategory::Missing,
            source: self.here.clone(),
        });
        WsRes::Create { key }
    }

    fn update_workspace(&mut self, spec: &WorkspaceSpec, live: &Workspace) {
        let target = format!("workspace {}", spec.name);
        let mut changes = Vec::new();
        let mut name = None;
        let mut display_color = None;
        let mut data_residency = None;
        let mut tags = None;
        if spec.name != live.name {
            changes.push(change("name", Some(s(&live.name)), Some(s(&spec.name))));
            name = Some(spec.name.clone());
        }
        if let Some(color) = &spec.display_color
            && !color.eq_ignore_ascii_case(&live.display_color)
        {
            changes.push(change(
                "display_color",
                Some(s(&live.display_color)),
                Some(s(color)),
            ));
            display_color = Some(color.clone());
        }
        if let Some(dr) = &spec.data_residency {
            let live_dr = live.data_residency.as_ref();
            if let (Some(geo), Some(live_dr)) = (&dr.workspace_geo, live_dr)
                && geo != &live_dr.workspace_geo
            {
                self.block(
                    BlockedKind::WorkspaceGeo,
                    target.clone(),
                    Some("data_residency.workspace_geo"),
                    Some(s(&live_dr.workspace_geo)),
                    Some(s(geo)),
                    "a workspace's storage geography is fixed when it is created",
                    "create a new workspace in the wanted geography and move work to it",
                );
            }
            let mut differs = false;
            if let Some(allowed) = &dr.allowed_inference_geos {
                let live_allowed = live_dr.map(|d| normalized_geos(&d.allowed_inference_geos));
                if live_allowed.as_ref() != Some(&normalized_geos(allowed)) {
                    differs = true;
                    changes.push(change(
                        "data_residency.allowed_inference_geos",
                        live_dr.map(|d| to_value(&d.allowed_inference_geos)),
                        Some(to_value(allowed)),
                    ));
                }
            }
            if let Some(default) = &dr.default_inference_geo {
                let live_default = live_dr.map(|d| d.default_inference_geo.as_str());
                if live_default != Some(default.as_str()) {
                    differs = true;
                    changes.push(change(
                        "data_residency.default_inference_geo",
                        live_default.map(s),
                        Some(s(default)),
                    ));
                }
            }
            if differs {
                data_residency = Some(DataResidencySpec {
                    workspace_geo: None,
                    allowed_inference_geos: dr.allowed_inference_geos.clone(),
                    default_inference_geo: dr.default_inference_geo.clone(),
                });
            }
        }
        if let Some(wanted) = &spec.tags
            && wanted != &live.tags
        {
            changes.push(change(
                "tags",
                Some(to_value(&live.tags)),
                Some(to_value(wanted)),
            ));
            tags = Some(wanted.clone());
        }
        if changes.is_empty() {
            return;
        }
        self.drafts.push(Draft {
            class: class::UPDATE_WORKSPACE,
            sort_key: format!("{}\u{0}{}", spec.name, live.id),
            key: format!("ws-update:{}", live.id),
            op: Op::UpdateWorkspace {
                workspace_id: live.id.clone(),
                name,
                display_color,
                data_residency,
                tags,
            },
            target,
            changes,
            destructive: false,
            irreversible: false,
            deps: Vec::new(),
            consequences: Vec::new(),
            category: DriftCategory::Changed,
            source: self.here.clone(),
        });
    }

    /// Whether archiving `ws` would archive active or inactive keys of a protected email.
    fn holds_protected_keys(&self, ws: &Workspace) -> bool {
        self.keys_by_ws
            .get(&Some(ws.id.as_str()))
            .is_some_and(|keys| {
                keys.iter().any(|k| {
                    matches!(k.status, ApiKeyStatus::Active | ApiKeyStatus::Inactive)
                        && self.key_creator_protected(k)
                })
            })
    }

    fn archive_workspace(&mut self, ws: &Workspace, category: DriftCategory) {
        self.archiving.insert(ws.id.clone());
        let mut consequences = Vec::new();
        if let Some(keys) = self.keys_by_ws.get(&Some(ws.id.as_str())) {
            for key in keys {
                if matches!(key.status, ApiKeyStatus::Active | ApiKeyStatus::Inactive) {
                    consequences.push(format!(
                        "api key {} ({}) will be archived",
                        key.name, key.id
                    ));
                }
            }
        }
        self.drafts.push(Draft {
            class: class::WORKSPACE_ARCHIVE,
            sort_key: format!("{}\u{0}{}", ws.name, ws.id),
            key: format!("ws-archive:{}", ws.id),
            op: Op::ArchiveWorkspace {
                workspace_id: ws.id.clone(),
                name: ws.name.clone(),
            },
            target: format!("workspace {}", ws.name),
            changes: vec![change(
                "archived",
                Some(Value::Bool(false)),
                Some(Value::Bool(true)),
            )],
            destructive: true,
            irreversible: true,
            deps: Vec::new(),
            consequences,
            category,
            source: self.here.clone(),
        });
    }
}

fn normalized_geos(geos: &AllowedGeos) -> AllowedGeos {
    match geos {
        AllowedGeos::List(list) => {
            let mut list = list.clone();
            list.sort();
            list.dedup();
            AllowedGeos::List(list)
        }
        AllowedGeos::Unrestricted(u) => AllowedGeos::Unrestricted(*u),
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
