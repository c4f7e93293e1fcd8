//! Semantic validation of the merged manifest: every check of `docs/manifest.md`, each problem
//! pointing at the exact key or value.
//!
//! Decisions where the contract leaves room:
//! - A workspace member must be declared under `members`, admins and billing members included
//!   (declared with `role: admin` / `role: billing`): offline, the validator cannot know who is
//!   an admin in the live organization, so an undeclared email is always an error.
//! - `workspace_billing` is refused, except for a member declared `role: billing`, for whom
//!   it states the implicit role (a no-op, as `docs/manifest.md` describes).
//! - An org admin or billing member given a workspace role other than the implicit one is only
//!   a warning here (the plan reports it as blocked; billing -> `workspace_admin` is allowed).
//! - `archived: true` together with `members`, `tags`, `display_color` or `data_residency` is a
//!   warning: archiving wins and those fields are ignored (an export of a live archived
//!   workspace may legitimately carry them).
//! - A workspace named `default` (any case) is an error: `default` means the default
//!   workspace in `api_keys[].workspace`, and the default workspace is never managed.
//! - An API key's `workspace` may name a workspace the manifest does not list (an unmanaged
//!   live one), but it must not be empty.
//! - Tag keys are refused when they start with `anthropic` in any case (the API's rule,
//!   read conservatively).
//! - Geographies: the Admin API documents `workspace_geo` `us` and inference geos `global`
//!   and `us` only "today" (`docs/reference/admin-api.md`). A geography outside those is a
//!   warning, not an error: the API may add regions within a version, the API itself refuses
//!   a geography it does not know, and a changed `workspace_geo` is blocked by the plan. An
//!   empty `allowed_inference_geos` list and a default outside the allowed list are errors.
//! - Emails are compared trimmed and case-insensitively, printed as written, and must look
//!   like `local@domain.tld`.

use std::collections::HashMap;
use std::ops::Range;

use orgform_model::{AllowedGeos, OrgRole, WorkspaceRole, normalize_email};

use crate::diag::{Problem, SourceFile};
use crate::emails;
use crate::load::{Fragment, Origins, key_span};
use crate::suggest::did_you_mean;
use crate::types::{Manifest, Platform};
use crate::yaml::Node;

mod federation;
mod keys;
mod service_accounts;

pub use service_accounts::{
    MAX_SERVICE_ACCOUNT_DESCRIPTION, MAX_SERVICE_ACCOUNT_NAME, is_service_account_name,
};

/// Geographies a workspace may live in.
pub const WORKSPACE_GEOS: &[&str] = &["us"];
/// Geographies inference may use.
pub const INFERENCE_GEOS: &[&str] = &["global", "us"];
/// Longest workspace name.
pub const MAX_NAME_CHARS: usize = 40;

/// Organization roles a manifest may name on a platform.
pub fn platform_roles(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::Console => &["user", "developer", "billing", "claude_code_user", "admin"],
        Platform::Enterprise => &[
            "user",
            "managed",
            "owner",
            "primary_owner",
            "membership_admin",
        ],
        Platform::Aws => &[],
    }
}

/// Whether `email` looks like an email: `local@domain.tld`, no spaces inside.
pub fn looks_like_email(email: &str) -> bool {
    let email = email.trim();
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
        && domain
            .split_once('.')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
        && !domain.ends_with('.')
}

/// Whether `color` is `#RRGGBB`.
pub fn is_hex_color(color: &str) -> bool {
    color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// Whether `id` is a UUID (8-4-4-4-12 hex digits).
pub fn is_uuid(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Whether a tag key is reserved (`anthropic...`, any case).
pub fn is_reserved_tag(key: &str) -> bool {
    key.len() >= 9 && key[..9].eq_ignore_ascii_case("anthropic")
}

struct Ctx<'a> {
    fragments: &'a [Fragment],
    problems: &'a mut Vec<Problem>,
}

/// A located list entry: its file and node.
#[derive(Clone, Copy)]
struct At<'a> {
    file: &'a SourceFile,
    node: Option<&'a Node>,
}

impl<'a> At<'a> {
    fn span(&self) -> Range<usize> {
        self.node.map_or(0..0, |n| n.span.clone())
    }

    /// The value of `key` (or the entry itself).
    fn value(&self, key: &str) -> At<'a> {
        At {
            file: self.file,
            node: self.node.and_then(|n| n.get(key)).or(self.node),
        }
    }

    /// The key node of `key` (or the entry itself).
    fn key(&self, key: &str) -> At<'a> {
        At {
            file: self.file,
            node: self
                .node
                .and_then(|n| n.entry(key))
                .map(|(k, _)| k)
                .or(self.node),
        }
    }

    fn item(&self, index: usize) -> At<'a> {
        At {
            file: self.file,
            node: self.node.and_then(|n| n.item(index)).or(self.node),
        }
    }

    fn place(&self) -> String {
        self.file.place(self.span().start)
    }
}

impl<'a> Ctx<'a> {
    fn entry(&self, list: &str, (fragment, index): (usize, usize)) -> At<'a> {
        let fragment = &self.fragments[fragment];
        let node = fragment
            .doc
            .root
            .as_ref()
            .and_then(|r| r.get(list))
            .map(|l| fragment.doc.resolve(l))
            .and_then(|l| l.item(index))
            .map(|n| fragment.doc.resolve(n));
        At {
            file: &fragment.file,
            node,
        }
    }

    fn top(&self, fragment: usize, key: &str) -> At<'a> {
        let fragment = &self.fragments[fragment];
        At {
            file: &fragment.file,
            node: fragment.doc.root.as_ref().and_then(|r| r.get(key)),
        }
    }

    fn error(
        &mut self,
        at: At<'_>,
        code: &'static str,
        message: String,
        label: &str,
    ) -> &mut Problem {
        self.problems
            .push(Problem::error(code, message).at(at.file, at.span(), label));
        self.problems.last_mut().expect("just pushed")
    }

    fn warn(
        &mut self,
        at: At<'_>,
        code: &'static str,
        message: String,
        label: &str,
    ) -> &mut Problem {
        self.problems.push(
            Problem::error(code, message)
                .warning()
                .at(at.file, at.span(), label),
        );
        self.problems.last_mut().expect("just pushed")
    }

    /// Reports a second declaration, citing the first.
    fn duplicate(&mut self, here: At<'_>, first: At<'_>, code: &'static str, message: String) {
        let mut problem =
            Problem::error(code, message).at(here.file, here.span(), "declared again here");
        if std::ptr::eq(here.file, first.file) {
            problem = problem.at(first.file, first.span(), "first declared here");
        }
        problem = problem.help(format!(
            "first declared at {}; keep one entry",
            first.place()
        ));
        self.problems.push(problem);
    }
}

/// Refuses an email with control or invisible characters (false when refused); with `warn`,
/// warns about an email that mixes scripts.
fn check_email_chars(ctx: &mut Ctx<'_>, at: At<'_>, email: &str, warn: bool) -> bool {
    if let Some(c) = email.chars().find(|c| emails::is_hidden(*c)) {
        ctx.error(
            at,
            "orgform::email_character",
            format!(
                "`{}` contains {}, a control or invisible character",
                emails::visible(email),
                emails::describe(c)
            ),
            "hidden character",
        )
        .help = Some("retype the email: a copied address can carry characters that change what is compared or how it is shown".to_owned());
        return false;
    }
    if warn && let Some((scripts, odd)) = emails::mixed_scripts(email) {
        let points: Vec<String> = odd.iter().map(|c| emails::describe(*c)).collect();
        ctx.warn(
            at,
            "orgform::confusable_email",
            format!(
                "`{email}` mixes scripts ({}): {}",
                scripts.join(", "),
                points.join(", ")
            ),
            "mixed scripts",
        )
        .help = Some("check that this is the intended address: letters of another script can imitate Latin ones".to_owned());
    }
    true
}

fn set_help(problem: &mut Problem, help: Option<String>) {
    if let Some(help) = help {
        problem.help = Some(help);
    }
}

/// Runs every semantic check; problems (errors and warnings) go to `problems`.
pub(crate) fn validate(
    manifest: &Manifest,
    fragments: &[Fragment],
    origins: &Origins,
    problems: &mut Vec<Problem>,
) {
    let mut ctx = Ctx {
        fragments,
        problems,
    };
    check_head(&mut ctx, manifest, origins);
    check_settings(&mut ctx, manifest, origins);
    let members = check_members(&mut ctx, manifest, origins);
    check_workspaces(&mut ctx, manifest, origins, &members);
    keys::check_api_keys(&mut ctx, manifest, origins);
    keys::check_key_settings(&mut ctx, manifest, origins);
    service_accounts::check_service_accounts(&mut ctx, manifest, origins);
    let accounts: std::collections::HashSet<&str> = manifest
        .service_accounts
        .iter()
        .filter(|sa| !sa.archived)
        .map(|sa| sa.name.as_str())
        .collect();
    federation::check_federation(&mut ctx, manifest, origins, Some(&accounts));
    keys::check_grace_days(&mut ctx, manifest, origins);
}

fn check_head(ctx: &mut Ctx<'_>, manifest: &Manifest, origins: &Origins) {
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

fn check_settings(ctx: &mut Ctx<'_>, manifest: &Manifest, origins: &Origins) {
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

/// Checks `members`; returns normalized email -> role of the declared members.
fn check_members(
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

fn check_workspaces(
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
