//! The checks of the manifest's head (`version`, `organization`, what `platform: aws` cannot
//! manage) and of `settings` (limits, protected emails).

use std::collections::HashMap;

use orgform_model::normalize_email;

use super::{At, Ctx, check_email_chars, is_uuid, looks_like_email};
use crate::diag::Problem;
use crate::load::{Fragment, Origins, key_span};
use crate::types::{Manifest, Platform};

pub(super) fn check_head(ctx: &mut Ctx<'_>, manifest: &Manifest, origins: &Origins) {
    let Some(head) = origins.head else {
        return;
    };
    if origins.version_read && manifest.version != 1 {
        let at = ctx.top(head, "version");
        ctx.error(
            at,
            "orgform::version",
            format!("unsupported manifest version {}", manifest.version),
            "only version 1 exists",
        )
        .help = Some("write `version: 1`".to_owned());
    }
    if !origins.organization_read {
        return;
    }
    let org = ctx.top(head, "organization");
    if !is_uuid(manifest.organization.id.trim()) {
        ctx.error(
            org.value("id"),
            "orgform::organization_id",
            format!("organization id `{}` is not a UUID", manifest.organization.id),
            "expected a UUID",
        )
        .help = Some("copy the id from the Console's organization settings (or `GET /v1/organizations/me`), e.g. 6f0c2a4e-0000-4000-8000-000000000001".to_owned());
    }
    if manifest.organization.platform == Platform::Aws {
        for fragment in ctx.fragments {
            for key in ["members", "api_keys"] {
                if fragment_list_len(fragment, key) > 0
                    && let Some(span) = key_span(fragment, key)
                {
                    let at = At {
                        file: &fragment.file,
                        node: None,
                    };
                    ctx.problems.push(
                        Problem::error(
                            "orgform::aws_platform",
                            format!("`{key}` cannot be managed on `platform: aws`"),
                        )
                        .at(at.file, span, "only workspaces exist on AWS")
                        .help(format!(
                            "remove `{key}`, or set the right `organization.platform`"
                        )),
                    );
                }
            }
        }
        if let Some(index) = origins.settings {
            let settings = ctx.top(index, "settings");
            if settings.node.and_then(|n| n.entry("invites")).is_some() {
                ctx.error(
                    settings.key("invites"),
                    "orgform::aws_platform",
                    "`settings.invites` does not apply to `platform: aws`".to_owned(),
                    "no invites on AWS",
                )
                .help = Some("remove `settings.invites`".to_owned());
            }
        }
    }
}

fn fragment_list_len(fragment: &Fragment, key: &str) -> usize {
    fragment
        .doc
        .root
        .as_ref()
        .and_then(|r| r.get(key))
        .map_or(0, |l| fragment.doc.resolve(l).items().len())
}

pub(super) fn check_settings(ctx: &mut Ctx<'_>, manifest: &Manifest, origins: &Origins) {
    let Some(index) = origins.settings else {
        return;
    };
    let settings = ctx.top(index, "settings");
    let limits = &manifest.settings.limits;
    if limits.max_destructive_percent > 100 {
        let at = settings.value("limits").value("max_destructive_percent");
        ctx.error(
            at,
            "orgform::limits",
            format!(
                "`max_destructive_percent` is {}, over 100",
                limits.max_destructive_percent
            ),
            "a percentage of 0-100",
        );
    }
    let protected = settings.value("protected");
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, email) in manifest.settings.protected.iter().enumerate() {
        if !check_email_chars(ctx, protected.item(i), email, false) {
            continue;
        }
        if !looks_like_email(email) {
            ctx.error(
                protected.item(i),
                "orgform::protected_email",
                format!("protected entry `{email}` is not an email"),
                "expected an email",
            )
            .help = Some("`settings.protected` lists emails of people".to_owned());
        } else if let Some(&first) = seen.get(&normalize_email(email)) {
            ctx.duplicate(
                protected.item(i),
                protected.item(first),
                "orgform::duplicate_protected",
                format!("`{email}` is listed twice in `settings.protected`"),
            );
        } else {
            seen.insert(normalize_email(email), i);
        }
    }
}
