//! The checks of `api_keys`: an identity (id or name), id prefixes, duplicates by id or by
//! name and workspace, a settable status; and the day counts of `settings` (`unused_days`,
//! `grace_days`).

use std::collections::HashMap;

use orgform_model::ApiKeyStatus;

use super::{Ctx, set_help};
use crate::load::Origins;
use crate::suggest::did_you_mean;
use crate::types::{Manifest, Platform};

/// The largest `settings.api_keys.unused_days`: a year of daily usage buckets.
pub const MAX_UNUSED_DAYS: u32 = 365;

/// `settings.api_keys.unused_days` is 1 to [`MAX_UNUSED_DAYS`].
pub(super) fn check_key_settings(ctx: &mut Ctx<'_>, manifest: &Manifest, origins: &Origins) {
    let (Some(index), Some(days)) = (origins.settings, manifest.settings.api_keys.unused_days)
    else {
        return;
    };
    if (1..=MAX_UNUSED_DAYS).contains(&days) {
        return;
    }
    let at = ctx
        .top(index, "settings")
        .value("api_keys")
        .value("unused_days");
    ctx.error(
        at,
        "orgform::unused_days",
        format!("`unused_days` is {days}, outside 1-{MAX_UNUSED_DAYS}"),
        "a number of days from 1 to 365",
    )
    .help = Some(
        "set the number of days without usage after which an active key is reported, e.g. 90"
            .to_owned(),
    );
}

/// `settings.members.grace_days` is 1 to [`crate::MAX_GRACE_DAYS`].
pub(super) fn check_grace_days(ctx: &mut Ctx<'_>, manifest: &Manifest, origins: &Origins) {
    let (Some(index), Some(days)) = (origins.settings, manifest.settings.members.grace_days) else {
        return;
    };
    let max = crate::MAX_GRACE_DAYS;
    if (1..=max).contains(&days) {
        return;
    }
    let at = ctx
        .top(index, "settings")
        .value("members")
        .value("grace_days");
    ctx.error(
        at,
        "orgform::grace_days",
        format!("`grace_days` is {days}, outside 1-{max}"),
        "a number of days from 1 to 365",
    )
    .help = Some(
        "set the days between revoking a leaver's access and removing them, e.g. 7".to_owned(),
    );
}

pub(super) fn check_api_keys(ctx: &mut Ctx<'_>, manifest: &Manifest, origins: &Origins) {
    if manifest.organization.platform == Platform::Aws {
        return; // reported once for the whole list
    }
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut names: HashMap<(&str, Option<&str>), usize> = HashMap::new();
    for (i, key) in manifest.api_keys.iter().enumerate() {
        let at = ctx.entry("api_keys", origins.api_keys[i]);
        let name = key.name.as_deref().filter(|n| !n.trim().is_empty());
        if key.id.is_none() && name.is_none() {
            ctx.error(
                at,
                "orgform::key_identity",
                "an API key entry needs `id` or `name`".to_owned(),
                "neither id nor name",
            )
            .help = Some("add the key's `id` (apikey_...) or its `name`".to_owned());
        }
        if key.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            ctx.error(
                at.value("name"),
                "orgform::key_name",
                "API key name is empty".to_owned(),
                "empty",
            );
        }
        if let Some(id) = &key.id {
            if !id.starts_with("apikey_") {
                ctx.error(at.value("id"), "orgform::key_id", format!("API key id `{id}` does not start with `apikey_`"), "not an API key id")
                    .help = Some("API key ids look like `apikey_01...`; the secret key itself (sk-ant-...) never belongs in the manifest".to_owned());
            }
            if let Some(&first) = ids.get(id.as_str()) {
                let first_at = ctx.entry("api_keys", origins.api_keys[first]).value("id");
                ctx.duplicate(
                    at.value("id"),
                    first_at,
                    "orgform::duplicate_key",
                    format!("API key `{id}` is declared twice"),
                );
            } else {
                ids.insert(id, i);
            }
        } else if let Some(name) = name {
            let scope = (name, key.workspace.as_deref());
            if let Some(&first) = names.get(&scope) {
                let first_at = ctx.entry("api_keys", origins.api_keys[first]).value("name");
                ctx.duplicate(
                    at.value("name"),
                    first_at,
                    "orgform::duplicate_key",
                    format!(
                        "API key `{name}` is declared twice in the same workspace without an id"
                    ),
                );
            } else {
                names.insert(scope, i);
            }
        }
        if let Some(workspace) = &key.workspace
            && workspace.trim().is_empty()
        {
            ctx.error(
                at.value("workspace"),
                "orgform::key_workspace",
                "API key `workspace` is empty".to_owned(),
                "empty",
            )
            .help = Some(
                "name the workspace, write `default` for the default workspace, or remove the key"
                    .to_owned(),
            );
        }
        match &key.status {
            Some(ApiKeyStatus::Unknown(value)) => {
                let hint = did_you_mean(value, ["active", "inactive", "archived"]);
                let p = ctx.error(
                    at.value("status"),
                    "orgform::key_status",
                    format!("unknown API key status `{value}`"),
                    "not a status",
                );
                set_help(
                    p,
                    Some(hint.unwrap_or_else(|| "statuses: active, inactive, archived".to_owned())),
                );
            }
            Some(ApiKeyStatus::Expired) => {
                ctx.error(
                    at.value("status"),
                    "orgform::key_status",
                    "API key status `expired` cannot be set".to_owned(),
                    "set by the platform only",
                )
                .help = Some("write `active`, `inactive` or `archived`".to_owned());
            }
            _ => {}
        }
    }
}
