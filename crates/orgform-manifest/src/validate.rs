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

use std::ops::Range;

use crate::diag::{Problem, SourceFile};
use crate::emails;
use crate::load::{Fragment, Origins};
use crate::types::{Manifest, Platform};
use crate::yaml::Node;

mod federation;
mod keys;
mod members;
mod org;
mod service_accounts;
mod workspaces;

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
    org::check_head(&mut ctx, manifest, origins);
    org::check_settings(&mut ctx, manifest, origins);
    let members = members::check_members(&mut ctx, manifest, origins);
    workspaces::check_workspaces(&mut ctx, manifest, origins, &members);
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
