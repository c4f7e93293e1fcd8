//! The checks of `members`: emails (shape, hidden characters, mixed scripts, duplicates) and
//! organization roles known on the declared platform.

use std::collections::HashMap;

use orgform_model::{OrgRole, normalize_email};

use super::{Ctx, check_email_chars, looks_like_email, platform_roles, set_help};
use crate::load::Origins;
use crate::suggest::did_you_mean;
use crate::types::{Manifest, Platform};

/// Checks `members`; returns normalized email -> role of the declared members.
pub(super) fn check_members(
    ctx: &mut Ctx<'_>,
    manifest: &Manifest,
    origins: &Origins,
) -> HashMap<String, OrgRole> {
    let platform = manifest.organization.platform;
    let allowed = platform_roles(platform);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut roles = HashMap::new();
    for (i, member) in manifest.members.iter().enumerate() {
        let at = ctx.entry("members", origins.members[i]);
        if !check_email_chars(ctx, at.value("email"), &member.email, true) {
            // Reported; still declared, so references to it are not reported again.
            roles.insert(normalize_email(&member.email), member.role.clone());
        } else if looks_like_email(&member.email) {
            let key = normalize_email(&member.email);
            if let Some(&first) = seen.get(&key) {
                let first_at = ctx.entry("members", origins.members[first]).value("email");
                ctx.duplicate(
                    at.value("email"),
                    first_at,
                    "orgform::duplicate_email",
                    format!(
                        "`{}` is declared twice (emails are compared case-insensitively)",
                        member.email
                    ),
                );
            } else {
                seen.insert(key.clone(), i);
                roles.insert(key, member.role.clone());
            }
        } else {
            ctx.error(
                at.value("email"),
                "orgform::email",
                format!("`{}` is not an email", member.email),
                "expected local@domain",
            );
        }
        let role = member.role.as_str();
        if platform == Platform::Aws {
            continue; // reported once for the whole list
        }
        if !member.role.is_known() {
            let hint = did_you_mean(role, allowed.iter().copied());
            let problem = ctx.error(
                at.value("role"),
                "orgform::unknown_role",
                format!("unknown role `{role}`"),
                "not an organization role",
            );
            set_help(
                problem,
                Some(hint.unwrap_or_else(|| {
                    format!(
                        "roles on {}: {}",
                        platform_name(platform),
                        allowed.join(", ")
                    )
                })),
            );
        } else if origins.platform_known && !allowed.contains(&role) {
            let hint = did_you_mean(role, allowed.iter().copied());
            let problem = ctx.error(
                at.value("role"),
                "orgform::platform_role",
                format!(
                    "role `{role}` does not exist on {}",
                    platform_name(platform)
                ),
                "not a role of this platform",
            );
            set_help(
                problem,
                Some(hint.unwrap_or_else(|| {
                    format!(
                        "roles on {}: {}",
                        platform_name(platform),
                        allowed.join(", ")
                    )
                })),
            );
        }
    }
    roles
}

fn platform_name(platform: Platform) -> &'static str {
    match platform {
        Platform::Console => "the console platform",
        Platform::Enterprise => "the enterprise platform",
        Platform::Aws => "the aws platform",
    }
}
