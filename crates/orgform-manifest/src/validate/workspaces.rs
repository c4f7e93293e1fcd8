//! The checks of `workspaces`: names, ids, colours, tags, data residency, archived entries and
//! the people granted a workspace role.

use std::collections::HashMap;

use orgform_model::{AllowedGeos, OrgRole, WorkspaceRole, normalize_email};

use super::{
    At, Ctx, INFERENCE_GEOS, MAX_NAME_CHARS, WORKSPACE_GEOS, check_email_chars, is_hex_color,
    is_reserved_tag, looks_like_email, set_help,
};
use crate::load::Origins;
use crate::suggest::did_you_mean;
use crate::types::{Manifest, Platform};

pub(super) fn check_workspaces(
    ctx: &mut Ctx<'_>,
    manifest: &Manifest,
    origins: &Origins,
    members: &HashMap<String, OrgRole>,
) {
    let aws = manifest.organization.platform == Platform::Aws;
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, ws) in manifest.workspaces.iter().enumerate() {
        let at = ctx.entry("workspaces", origins.workspaces[i]);
        let count = ws.name.chars().count();
        if ws.name.trim().is_empty() {
            ctx.error(
                at.value("name"),
                "orgform::name",
                "workspace name is empty".to_owned(),
                "1-40 characters",
            );
        } else if count > MAX_NAME_CHARS {
            ctx.error(
                at.value("name"),
                "orgform::name",
                format!("workspace name is {count} characters long, over {MAX_NAME_CHARS}"),
                "1-40 characters",
            )
            .help = Some("shorten the name; the API refuses names over 40 characters".to_owned());
        } else if ws.name.eq_ignore_ascii_case("default") {
            ctx.error(
                at.value("name"),
                "orgform::default_workspace",
                "`default` names the default workspace, which is never managed".to_owned(),
                "reserved",
            )
            .help = Some(
                "pick another name; the default workspace cannot be listed, created or archived"
                    .to_owned(),
            );
        }
        if let Some(&first) = names.get(ws.name.as_str()) {
            let first_at = ctx
                .entry("workspaces", origins.workspaces[first])
                .value("name");
            ctx.duplicate(
                at.value("name"),
                first_at,
                "orgform::duplicate_workspace",
                format!("workspace `{}` is declared twice", ws.name),
            );
        } else {
            names.insert(&ws.name, i);
        }
        if let Some(id) = &ws.id {
            if !id.starts_with("wrkspc_") {
                ctx.error(
                    at.value("id"),
                    "orgform::workspace_id",
                    format!("workspace id `{id}` does not start with `wrkspc_`"),
                    "not a workspace id",
                )
                .help = Some(
                    "workspace ids look like `wrkspc_01...`; remove `id` to match by name"
                        .to_owned(),
                );
            }
            if let Some(&first) = ids.get(id.as_str()) {
                let first_at = ctx
                    .entry("workspaces", origins.workspaces[first])
                    .value("id");
                ctx.duplicate(
                    at.value("id"),
                    first_at,
                    "orgform::duplicate_workspace_id",
                    format!("two workspace entries pin the id `{id}`"),
                );
            } else {
                ids.insert(id, i);
            }
        }
        if let Some(color) = &ws.display_color
            && !is_hex_color(color)
        {
            ctx.error(
                at.value("display_color"),
                "orgform::color",
                format!("`{color}` is not a `#RRGGBB` colour"),
                "expected #RRGGBB",
            )
            .help = Some("write six hex digits after `#`, quoted: `\"#6C5BB9\"`".to_owned());
        }
        if let Some(tags) = &ws.tags {
            for key in tags.keys() {
                if is_reserved_tag(key) {
                    ctx.error(at.value("tags").key(key), "orgform::reserved_tag", format!("tag key `{key}` starts with `anthropic`"), "reserved prefix")
                        .help = Some("tag keys starting with `anthropic` are reserved by the platform; rename the tag".to_owned());
                } else if key.trim().is_empty() {
                    ctx.error(
                        at.value("tags").key(key),
                        "orgform::tag",
                        "empty tag key".to_owned(),
                        "empty",
                    );
                }
            }
        }
        if let Some(residency) = &ws.data_residency {
            let res_at = at.value("data_residency");
            if let Some(geo) = &residency.workspace_geo
                && !WORKSPACE_GEOS.contains(&geo.as_str())
            {
                let hint = did_you_mean(geo, WORKSPACE_GEOS.iter().copied());
                let p = ctx.warn(
                    res_at.value("workspace_geo"),
                    "orgform::geo",
                    format!("unknown workspace geo `{geo}`"),
                    "known: us",
                );
                set_help(p, hint);
            }
            if let Some(AllowedGeos::List(list)) = &residency.allowed_inference_geos {
                let list_at = res_at.value("allowed_inference_geos");
                if list.is_empty() {
                    ctx.error(
                        list_at,
                        "orgform::geo",
                        "`allowed_inference_geos` is empty".to_owned(),
                        "no geography allowed",
                    )
                    .help = Some(
                        "list at least one of: global, us; or write \"unrestricted\"".to_owned(),
                    );
                }
                for (j, geo) in list.iter().enumerate() {
                    if !INFERENCE_GEOS.contains(&geo.as_str()) {
                        let hint = did_you_mean(geo, INFERENCE_GEOS.iter().copied());
                        let p = ctx.warn(
                            list_at.item(j),
                            "orgform::geo",
                            format!("unknown inference geo `{geo}`"),
                            "known: global, us",
                        );
                        set_help(p, hint);
                    }
                }
            }
            if let Some(default) = &residency.default_inference_geo {
                if !INFERENCE_GEOS.contains(&default.as_str()) {
                    let hint = did_you_mean(default, INFERENCE_GEOS.iter().copied());
                    let p = ctx.warn(
                        res_at.value("default_inference_geo"),
                        "orgform::geo",
                        format!("unknown inference geo `{default}`"),
                        "known: global, us",
                    );
                    set_help(p, hint);
                }
                if let Some(allowed) = &residency.allowed_inference_geos
                    && !allowed.allows(default)
                {
                    ctx.error(
                        res_at.value("default_inference_geo"),
                        "orgform::default_geo",
                        format!(
                            "`default_inference_geo` `{default}` is not in `allowed_inference_geos`"
                        ),
                        "not allowed",
                    )
                    .help = Some(format!(
                        "add `{default}` to `allowed_inference_geos`, or pick an allowed default"
                    ));
                }
            }
        }
        if let Some(ws_members) = &ws.members {
            let members_at = at.value("members");
            if aws {
                ctx.error(
                    at.key("members"),
                    "orgform::aws_platform",
                    "workspace `members` cannot be managed on `platform: aws`".to_owned(),
                    "only workspaces exist on AWS",
                )
                .help = Some("remove `members` from the workspace".to_owned());
            } else {
                check_workspace_members(ctx, members_at, ws_members, members, origins);
            }
        }
        if ws.archived {
            let ignored: Vec<&str> = [
                ("members", ws.members.is_some()),
                ("tags", ws.tags.is_some()),
                ("display_color", ws.display_color.is_some()),
                ("data_residency", ws.data_residency.is_some()),
            ]
            .into_iter()
            .filter_map(|(k, set)| set.then_some(k))
            .collect();
            if !ignored.is_empty() {
                ctx.warn(
                    at.key("archived"),
                    "orgform::archived_changes",
                    format!(
                        "workspace `{}` is archived; its `{}` are ignored",
                        ws.name,
                        ignored.join("`, `")
                    ),
                    "archiving wins",
                )
                .help =
                    Some("an archived workspace cannot be changed; remove those keys".to_owned());
            }
        }
    }
}

fn check_workspace_members(
    ctx: &mut Ctx<'_>,
    at: At<'_>,
    ws_members: &indexmap::IndexMap<String, crate::types::Grant>,
    members: &HashMap<String, OrgRole>,
    origins: &Origins,
) {
    let assignable: Vec<&str> = WorkspaceRole::KNOWN
        .iter()
        .copied()
        .filter(|r| *r != WorkspaceRole::WorkspaceBilling.as_str())
        .collect();
    let mut seen: HashMap<String, &str> = HashMap::new();
    for (email, grant) in ws_members {
        let role = &grant.role;
        let key_at = at.key(email);
        let value_at = at.value(email);
        if !check_email_chars(ctx, key_at, email, false) {
            continue;
        }
        if !looks_like_email(email) {
            ctx.error(
                key_at,
                "orgform::email",
                format!("`{email}` is not an email"),
                "expected local@domain",
            );
            continue;
        }
        let key = normalize_email(email);
        if let Some(first) = seen.get(&key) {
            ctx.duplicate(key_at, at.key(first), "orgform::duplicate_email", format!("`{email}` is listed twice in this workspace (emails are compared case-insensitively)"));
            continue;
        }
        seen.insert(key.clone(), email);
        match role {
            WorkspaceRole::Unknown(value) => {
                let hint = did_you_mean(value, assignable.iter().copied());
                let p = ctx.error(
                    value_at,
                    "orgform::unknown_role",
                    format!("unknown workspace role `{value}`"),
                    "not a workspace role",
                );
                set_help(
                    p,
                    Some(
                        hint.unwrap_or_else(|| {
                            format!("workspace roles: {}", assignable.join(", "))
                        }),
                    ),
                );
            }
            WorkspaceRole::WorkspaceBilling if members.get(&key) != Some(&OrgRole::Billing) => {
                ctx.error(value_at, "orgform::workspace_billing", "`workspace_billing` cannot be assigned".to_owned(), "inherited only")
                    .help = Some("members with the `billing` organization role hold it in every workspace; assign another role or give the person `role: billing`".to_owned());
            }
            _ => {}
        }
        match members.get(&key) {
            // Not known to be undeclared: a member entry could not be read.
            None if !origins.members_complete || origins.partial_emails.contains(&key) => {}
            None => {
                ctx.error(
                    key_at,
                    "orgform::undeclared_member",
                    format!("`{email}` is not declared under `members`"),
                    "not a declared member",
                )
                .help = Some(format!(
                    "add `- email: {email}` with its organization role under `members` (org admins and billing members too, as `role: admin` or `role: billing`)"
                ));
            }
            Some(org_role) => {
                if let Some(implicit) = org_role.implicit_workspace_role()
                    && role.is_known()
                    && *role != implicit
                    && !(*org_role == OrgRole::Billing && *role == WorkspaceRole::WorkspaceAdmin)
                    && *role != WorkspaceRole::WorkspaceBilling
                {
                    ctx.warn(
                        value_at,
                        "orgform::implicit_role",
                        format!("`{email}` is `{org_role}` and implicitly `{implicit}` in every workspace"),
                        "the plan will block this",
                    )
                    .help = Some(format!("write `{implicit}` or leave the email out of this workspace"));
                }
            }
        }
    }
}
