//! API keys: the keys the manifest declares (matched by id or name) and the rest.
//!
//! - A key entry's `workspace:` names a manifest workspace (which may pin an id), or else a
//!   live workspace by exact name (a unique non-archived one wins over archived namesakes).
//! - An `expired` key already satisfies a wanted `inactive` (it cannot be used); `archived` on
//!   an expired key is planned; `active` is blocked. In a workspace that is archived, or that
//!   this plan archives, any key that is (or the archive makes) inactive, archived or expired
//!   satisfies a wanted `inactive` or `archived`: the archive did it, and the plan after an
//!   archive must be empty, not blocked.
//! - Keys of a workspace this plan archives are consequences of the archive and do not count
//!   against the key deactivation limit.

use std::collections::BTreeMap;

use orgform_manifest::{ApiKeyPolicy, ApiKeySpec};
use orgform_model::{ApiKey, ApiKeyStatus, Workspace};

use super::{Draft, Engine, KeyWs, WsRes, change, class, s};
use crate::DriftCategory;
use crate::types::{BlockedKind, Missing, ObjectKind, Op, PlanErrorKind};

impl<'a> Engine<'a> {
    /// Resolves a key entry's `workspace:`.
    fn key_workspace(&mut self, spec: &ApiKeySpec, label: &str) -> KeyWs {
        let Some(name) = &spec.workspace else {
            return KeyWs::Any;
        };
        if name == "default" {
            return KeyWs::In(None);
        }
        match self.ws_res.get(name) {
            Some(WsRes::Live { id, .. } | WsRes::Held { id }) => {
                return KeyWs::In(Some(id.clone()));
            }
            Some(WsRes::Create { .. }) => return KeyWs::Nowhere,
            Some(WsRes::Error) => return KeyWs::Error,
            // `archived: true` with no active namesake: its keys live in the archived one.
            Some(WsRes::Absent) | None => {}
        }
        let all: Vec<&Workspace> = self
            .ws_by_name
            .get(name.as_str())
            .cloned()
            .unwrap_or_default();
        let active: Vec<&Workspace> = all.iter().copied().filter(|w| !w.is_archived()).collect();
        let chosen = match (active.as_slice(), all.as_slice()) {
            ([one], _) | ([], [one]) => one,
            ([], []) => return KeyWs::Nowhere,
            _ => {
                self.error(
                    PlanErrorKind::AmbiguousKeyWorkspace,
                    label.to_owned(),
                    format!("{} live workspaces are named {name:?}", all.len()),
                    "match the key by `id:` instead",
                );
                return KeyWs::Error;
            }
        };
        KeyWs::In(Some(chosen.id.clone()))
    }

    pub(super) fn plan_api_keys(&mut self) {
        let m = self.m;
        let mut matched: BTreeMap<String, String> = BTreeMap::new();
        for (index, spec) in m.api_keys.iter().enumerate() {
            self.here = m.sources.api_key(index);
            let label = match (&spec.id, &spec.name) {
                (Some(id), _) => format!("api key {id}"),
                (None, Some(name)) => match &spec.workspace {
                    Some(ws) => format!("api key {name} in {ws}"),
                    None => format!("api key {name}"),
                },
                (None, None) => continue,
            };
            let key: &'a ApiKey = if let Some(id) = &spec.id {
                let Some(key) = self.keys_by_id.get(id.as_str()).copied() else {
                    self.error(
                        PlanErrorKind::UnknownApiKeyId,
                        label,
                        format!("api key id {id} matches no live key"),
                        "check the id; keys are created only in the Console",
                    );
                    continue;
                };
                key
            } else {
                let name = spec.name.as_deref().unwrap_or_default();
                let ws_filter = self.key_workspace(spec, &label);
                let candidates: Vec<&'a ApiKey> = match &ws_filter {
                    KeyWs::Error => continue,
                    KeyWs::Nowhere => Vec::new(),
                    KeyWs::Any | KeyWs::In(_) => self
                        .keys_by_name
                        .get(name)
                        .map(|list| {
                            list.iter()
                                .copied()
                                .filter(|k| match &ws_filter {
                                    KeyWs::In(ws) => k.workspace_id == *ws,
                                    _ => true,
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                match candidates.as_slice() {
                    [] => {
                        self.missing.push(Missing {
                            kind: ObjectKind::ApiKey,
                            target: label,
                            reason:
                                "no live key has this name; keys are created only in the Console"
                                    .to_owned(),
                        });
                        continue;
                    }
                    [one] => one,
                    many => {
                        let ids: Vec<&str> = many.iter().map(|k| k.id.as_str()).collect();
                        self.error(
                            PlanErrorKind::AmbiguousApiKey,
                            label,
                            format!("{} live keys match: {}", many.len(), ids.join(", ")),
                            "match the key by `id:`, or narrow it with `workspace:`",
                        );
                        continue;
                    }
                }
            };
            self.declared_keys
                .insert(key.id.as_str(), spec.status.clone());
            if let Some(other) = matched.insert(key.id.clone(), label.clone()) {
                self.error(
                    PlanErrorKind::DuplicateMatch,
                    label,
                    format!("entries {other:?} and this one both match {}", key.id),
                    "keep one entry per key",
                );
                continue;
            }
            self.plan_key(spec, key);
        }
        self.plan_unlisted_keys(&matched);
    }

    pub(super) fn key_creator_protected(&self, key: &ApiKey) -> bool {
        key.created_by
            .as_ref()
            .and_then(|c| self.users_by_id.get(c.id.as_str()))
            .is_some_and(|u| self.is_protected(&u.email))
    }

    fn plan_key(&mut self, spec: &ApiKeySpec, key: &'a ApiKey) {
        let target = key_label(key);
        let in_archiving = key
            .workspace_id
            .as_ref()
            .is_some_and(|w| self.archiving.contains(w));
        let ws_archived = key
            .workspace_id
            .as_deref()
            .and_then(|w| self.ws_by_id.get(w))
            .is_some_and(|w| w.is_archived());
        if in_archiving && spec.status == Some(ApiKeyStatus::Active) {
            self.block(
                BlockedKind::KeyInArchivedWorkspace,
                target,
                Some("status"),
                Some(s(key.status.as_str())),
                Some(s("active")),
                "this plan archives the key's workspace, which archives every key in it",
                "keep the workspace, or drop `status: active` from the key entry",
            );
            return;
        }
        // In a workspace that is archived (or that this plan archives), a key that is off, or
        // that the archive switches off, already is what `inactive` or `archived` asks for:
        // the archive did it, and the plan after an archive must not plan or block on it.
        let off = |status: &ApiKeyStatus| {
            matches!(
                status,
                ApiKeyStatus::Inactive | ApiKeyStatus::Archived | ApiKeyStatus::Expired
            )
        };
        let wanted_status = spec.status.as_ref().filter(|wanted| {
            let settled = (ws_archived || in_archiving)
                && matches!(wanted, ApiKeyStatus::Inactive | ApiKeyStatus::Archived)
                && (in_archiving || off(&key.status));
            **wanted != key.status && !settled
        });
        let mut changes = Vec::new();
        let mut new_name = None;
        let mut new_status = None;
        if spec.id.is_some()
            && let Some(name) = &spec.name
            && name != &key.name
        {
            changes.push(change("name", Some(s(&key.name)), Some(s(name))));
            new_name = Some(name.clone());
        }
        if let Some(wanted) = wanted_status {
            let before = Some(s(key.status.as_str()));
            let after = Some(s(wanted.as_str()));
            let blocked = match (&key.status, wanted) {
                (_, ApiKeyStatus::Expired | ApiKeyStatus::Unknown(_)) => Some((
                    BlockedKind::UnsupportedStatus,
                    "the API can only set active, inactive or archived",
                    "use one of active, inactive, archived",
                )),
                (ApiKeyStatus::Unknown(_), _) => Some((
                    BlockedKind::UnsupportedStatus,
                    "the live status is one this version of orgform does not know",
                    "check the key in the Console",
                )),
                (ApiKeyStatus::Archived, _) => Some((
                    BlockedKind::ArchivedKey,
                    "an archived key cannot be reactivated",
                    "create a new key in the Console and set `status: archived` on this entry",
                )),
                (ApiKeyStatus::Expired, ApiKeyStatus::Active) => Some((
                    BlockedKind::ExpiredKey,
                    "an expired key cannot be reactivated",
                    "create a new key in the Console",
                )),
                (_, ApiKeyStatus::Active) if ws_archived => Some((
                    BlockedKind::KeyInArchivedWorkspace,
                    "the key's workspace is archived",
                    "create a key in an active workspace",
                )),
                (_, ApiKeyStatus::Inactive | ApiKeyStatus::Archived)
                    if self.key_creator_protected(key) =>
                {
                    Some((
                        BlockedKind::Protected,
                        "the key's creator is protected (settings.protected): their keys are never deactivated",
                        "remove the email from settings.protected, or keep the key active",
                    ))
                }
                _ => None,
            };
            if let Some((kind, reason, remedy)) = blocked {
                self.block(
                    kind,
                    target.clone(),
                    Some("status"),
                    before,
                    after,
                    reason,
                    remedy,
                );
            } else if !(key.status == ApiKeyStatus::Expired && *wanted == ApiKeyStatus::Inactive) {
                changes.push(change("status", before, after));
                new_status = Some(wanted.clone());
            }
        }
        if changes.is_empty() {
            return;
        }
        let destructive = matches!(
            new_status,
            Some(ApiKeyStatus::Inactive | ApiKeyStatus::Archived)
        );
        let irreversible = new_status == Some(ApiKeyStatus::Archived);
        self.drafts.push(Draft {
            class: if destructive {
                class::KEY_DESTRUCTIVE
            } else {
                class::KEY_CONSTRUCTIVE
            },
            sort_key: format!("{}\u{0}{}", key.name, key.id),
            key: format!("key:{}", key.id),
            op: Op::UpdateApiKey {
                key_id: key.id.clone(),
                name: new_name,
                status: new_status,
            },
            target,
            changes,
            destructive,
            irreversible,
            deps: Vec::new(),
            consequences: Vec::new(),
            category: DriftCategory::Changed,
            source: self.here.clone(),
        });
    }

    fn plan_unlisted_keys(&mut self, matched: &BTreeMap<String, String>) {
        let policy = self.m.settings.api_keys.unmanaged;
        if policy == ApiKeyPolicy::Ignore {
            return;
        }
        self.here = self.m.sources.setting("api_keys.unmanaged");
        let mut keys: Vec<&'a ApiKey> = self.live.api_keys.iter().collect();
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        for key in keys {
            if matched.contains_key(&key.id)
                || !matches!(key.status, ApiKeyStatus::Active | ApiKeyStatus::Inactive)
                || key
                    .workspace_id
                    .as_ref()
                    .is_some_and(|w| self.archiving.contains(w))
            {
                continue;
            }
            let target = key_label(key);
            let protected = self.key_creator_protected(key);
            if policy == ApiKeyPolicy::Report || key.status == ApiKeyStatus::Inactive || protected {
                let reason = if protected {
                    "not declared; created by a protected email (settings.protected): kept"
                } else if policy == ApiKeyPolicy::Report {
                    "not declared; settings.api_keys.unmanaged: report"
                } else {
                    "not declared; already inactive"
                };
                self.unmanaged(ObjectKind::ApiKey, &key.id, target, reason, protected);
                continue;
            }
            self.drafts.push(Draft {
                class: class::KEY_DESTRUCTIVE,
                sort_key: format!("{}\u{0}{}", key.name, key.id),
                key: format!("key:{}", key.id),
                op: Op::UpdateApiKey {
                    key_id: key.id.clone(),
                    name: None,
                    status: Some(ApiKeyStatus::Inactive),
                },
                target,
                changes: vec![change("status", Some(s("active")), Some(s("inactive")))],
                destructive: true,
                irreversible: false,
                deps: Vec::new(),
                consequences: Vec::new(),
                category: DriftCategory::Unmanaged,
                source: self.here.clone(),
            });
        }
    }
}

fn key_label(key: &ApiKey) -> String {
    format!("api key {} ({})", key.name, key.id)
}
