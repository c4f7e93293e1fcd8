//! The checks of `service_accounts`, of the service-account grants in workspace entries and
//! of `settings.protected_service_accounts`: slug names (the API's rule), unique names,
//! descriptions within 2,000 characters, grants only to declared, non-archived service
//! accounts and never `workspace_billing`.

use std::collections::HashMap;

use orgform_model::WorkspaceRole;

use super::Ctx;
use crate::load::Origins;
use crate::suggest::did_you_mean;
use crate::types::{Manifest, Platform};

/// Longest service account name the API accepts.
pub const MAX_SERVICE_ACCOUNT_NAME: usize = 255;
/// Longest service account description the API accepts.
pub const MAX_SERVICE_ACCOUNT_DESCRIPTION: usize = 2000;

/// Whether `name` is a slug the API accepts: lowercase letters, digits, hyphens, 1-255.
pub fn is_service_account_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_SERVICE_ACCOUNT_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn slug_hint(name: &str) -> String {
    let slug: String = name
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("names are slugs of lowercase letters, digits and hyphens, e.g. `{slug}`")
}

pub(super) fn check_service_accounts(ctx: &mut Ctx<'_>, manifest: &Manifest, origins: &Origins) {
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, sa) in manifest.service_accounts.iter().enumerate() {
        let at = ctx.entry("service_accounts", origins.service_accounts[i]);
        if manifest.organization.platform == Platform::Aws {
            ctx.error(
                at,
                "orgform::aws_platform",
                "`service_accounts` cannot be managed on `platform: aws`".to_owned(),
                "only workspaces exist on AWS",
            );
            return;
        }
        if !is_service_account_name(&sa.name) {
            ctx.error(
                at.value("name"),
                "orgform::service_account_name",
                format!("service account name `{}` is not a slug", sa.name),
                "lowercase letters, digits and hyphens, 1-255 characters",
            )
            .help = Some(slug_hint(&sa.name));
        }
        if let Some(d) = &sa.description {
            let n = d.chars().count();
            if n > MAX_SERVICE_ACCOUNT_DESCRIPTION {
                ctx.error(
                    at.value("description"),
                    "orgform::service_account_description",
                    format!(
                        "description is {n} characters long, over {MAX_SERVICE_ACCOUNT_DESCRIPTION}"
                    ),
                    "at most 2,000 characters",
                );
            }
        }
        if let Some(&first) = names.get(sa.name.as_str()) {
            let first_at = ctx
                .entry("service_accounts", origins.service_accounts[first])
                .value("name");
            ctx.duplicate(
                at.value("name"),
                first_at,
                "orgform::duplicate_service_account",
                format!("service account `{}` is declared twice", sa.name),
            );
        } else {
            names.insert(&sa.name, i);
        }
    }
    check_grants(ctx, manifest, origins);
    check_protected(ctx, manifest, origins);
}

/// Service-account grants in workspace entries name declared, non-archived service accounts
/// with a role they can hold.
fn check_grants(ctx: &mut Ctx<'_>, manifest: &Manifest, origins: &Origins) {
    let declared: HashMap<&str, bool> = manifest
        .service_accounts
        .iter()
        .map(|s| (s.name.as_str(), s.archived))
        .collect();
    for (i, ws) in manifest.workspaces.iter().enumerate() {
        let Some(grants) = &ws.service_accounts else {
            continue;
        };
        let at = ctx
            .entry("workspaces", origins.workspaces[i])
            .value("service_accounts");
        for (name, role) in grants {
            match declared.get(name.as_str()) {
                None => {
                    let hint = did_you_mean(name, declared.keys().copied());
                    let p = ctx.error(
                        at.key(name),
                        "orgform::undeclared_service_account",
                        format!(
                            "service account `{name}` is granted a role in workspace `{}` but not declared under `service_accounts`",
                            ws.name
                        ),
                        "not declared",
                    );
                    p.help = Some(hint.unwrap_or_else(|| {
                        format!("add `- name: {name}` under `service_accounts`")
                    }));
                }
                Some(true) => {
                    ctx.error(
                        at.key(name),
                        "orgform::archived_service_account_grant",
                        format!("service account `{name}` is declared archived, so it cannot hold a role in workspace `{}`", ws.name),
                        "archived",
                    )
                    .help = Some("remove the grant, or the service account's `archived: true`".to_owned());
                }
                Some(false) => {}
            }
            if *role == WorkspaceRole::WorkspaceBilling {
                ctx.error(
                    at.value(name),
                    "orgform::service_account_role",
                    format!("service account `{name}` cannot hold `workspace_billing`"),
                    "not assignable to a service account",
                )
                .help = Some(
                    "use workspace_user, workspace_developer, workspace_restricted_developer or workspace_admin"
                        .to_owned(),
                );
            } else if let WorkspaceRole::Unknown(other) = role {
                let hint = did_you_mean(
                    other,
                    [
                        "workspace_user",
                        "workspace_developer",
                        "workspace_restricted_developer",
                        "workspace_admin",
                    ],
                );
                ctx.error(
                    at.value(name),
                    "orgform::unknown_role",
                    format!("unknown workspace role `{other}`"),
                    "not a workspace role",
                )
                .help = hint;
            }
        }
    }
}

fn check_protected(ctx: &mut Ctx<'_>, manifest: &Manifest, origins: &Origins) {
    let Some(index) = origins.settings else {
        return;
    };
    for (i, name) in manifest
        .settings
        .protected_service_accounts
        .iter()
        .enumerate()
    {
        if !is_service_account_name(name) {
            let at = ctx
                .top(index, "settings")
                .value("protected_service_accounts")
                .item(i);
            ctx.error(
                at,
                "orgform::service_account_name",
                format!("protected service account `{name}` is not a slug"),
                "lowercase letters, digits and hyphens",
            )
            .help = Some(slug_hint(name));
        }
    }
}
