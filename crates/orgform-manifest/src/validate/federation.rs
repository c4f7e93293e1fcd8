//! The checks of `federation.issuers` and `federation.rules`, mirroring what the Admin API
//! refuses: slugs, unique names, the lifetime ranges, one JWKS source, public inline keys
//! only, a match that constrains more than the audience, the scopes an OAuth caller may set,
//! and names that resolve (issuer, service account, workspaces).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{At, Ctx, set_help};
use crate::federation::{
    CONSOLE_SCOPES, JWT_LIFETIME_RANGE, PRIVATE_JWK_MEMBERS, RULE_SCOPES, RuleWorkspaces,
    TOKEN_LIFETIME_RANGE, is_slug, is_wildcard_only,
};
use crate::load::Origins;
use crate::suggest::did_you_mean;
use crate::types::Manifest;

/// Longest rule description the API accepts.
const MAX_DESCRIPTION: usize = 2000;
/// Longest `match.condition`.
const MAX_CONDITION: usize = 4096;
/// Longest `match.subject_prefix` and `match.audience`.
const MAX_MATCH_VALUE: usize = 1024;
/// Longest `jwks.ca_cert_pem`.
const MAX_CA_PEM: usize = 8192;

impl<'a> Ctx<'a> {
    /// `federation.<list>[index]` of a fragment.
    fn federation_entry(&self, list: &str, (fragment, index): (usize, usize)) -> At<'a> {
        let fragment = &self.fragments[fragment];
        let doc = &fragment.doc;
        let node = doc
            .root
            .as_ref()
            .and_then(|r| doc.resolve(r).get("federation"))
            .and_then(|f| doc.resolve(f).get(list))
            .map(|l| doc.resolve(l))
            .and_then(|l| l.item(index))
            .map(|n| doc.resolve(n));
        At {
            file: &fragment.file,
            node,
        }
    }
}

/// Runs every federation check. `service_accounts` are the names the manifest declares, or
/// `None` when they cannot be known (then a rule's target is not resolved).
pub(super) fn check_federation(
    ctx: &mut Ctx<'_>,
    manifest: &Manifest,
    origins: &Origins,
    service_accounts: Option<&HashSet<&str>>,
) {
    let issuers = check_issuers(ctx, manifest, origins);
    check_rules(ctx, manifest, origins, &issuers, service_accounts);
}

/// Checks the issuers; returns each name with whether it is archived.
fn check_issuers<'m>(
    ctx: &mut Ctx<'_>,
    manifest: &'m Manifest,
    origins: &Origins,
) -> HashMap<&'m str, bool> {
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut out = HashMap::new();
    for (i, issuer) in manifest.federation.issuers.iter().enumerate() {
        let at = ctx.federation_entry("issuers", origins.issuers[i]);
        check_slug(ctx, at, "issuer", &issuer.name);
        if let Some(&first) = names.get(issuer.name.as_str()) {
            let first_at = ctx
                .federation_entry("issuers", origins.issuers[first])
                .value("name");
            ctx.duplicate(
                at.value("name"),
                first_at,
                "orgform::duplicate_issuer",
                format!("federation issuer `{}` is declared twice", issuer.name),
            );
        } else {
            names.insert(&issuer.name, i);
            out.insert(issuer.name.as_str(), issuer.archived);
        }
        if issuer.issuer_url.trim().is_empty() {
            ctx.error(
                at.value("issuer_url"),
                "orgform::issuer_url",
                "`issuer_url` is empty".to_owned(),
                "empty",
            )
            .help = Some(
                "write the `iss` claim the issuer's tokens carry, e.g. https://token.actions.githubusercontent.com"
                    .to_owned(),
            );
        }
        if let Some(seconds) = issuer.max_jwt_lifetime_seconds
            && !JWT_LIFETIME_RANGE.contains(&seconds)
        {
            ctx.error(
                at.value("max_jwt_lifetime_seconds"),
                "orgform::jwt_lifetime",
                format!("`max_jwt_lifetime_seconds` is {seconds}, outside 1-176400"),
                "1 to 176400 seconds (49 hours)",
            )
            .help = Some(
                "the API accepts 1 to 176400 seconds; 3600 (one hour) is its default".to_owned(),
            );
        }
        if let Some(jwks) = &issuer.jwks {
            let at = at.value("jwks");
            let sources = [
                jwks.discovery_base.is_some(),
                jwks.url.is_some(),
                jwks.keys.is_some(),
            ];
            if sources.iter().filter(|s| **s).count() > 1 {
                ctx.error(
                    at,
                    "orgform::jwks_source",
                    "`jwks` names more than one key source".to_owned(),
                    "one of discovery_base, url, keys",
                )
                .help = Some(
                    "keep one: `discovery_base` (OIDC discovery elsewhere than issuer_url), `url` (a fixed JWKS URL) or `keys` (inline public keys)"
                        .to_owned(),
                );
            }
            if jwks.keys.is_some() && jwks.ca_cert_pem.is_some() {
                ctx.error(
                    at.value("ca_cert_pem"),
                    "orgform::jwks_source",
                    "`ca_cert_pem` has no use with inline `keys`".to_owned(),
                    "nothing is fetched",
                )
                .help = Some("remove `ca_cert_pem`, or serve the keys by `url`".to_owned());
            }
            if let Some(pem) = &jwks.ca_cert_pem
                && pem.len() > MAX_CA_PEM
            {
                ctx.error(
                    at.value("ca_cert_pem"),
                    "orgform::jwks_ca",
                    format!("`ca_cert_pem` is {} bytes, over {MAX_CA_PEM}", pem.len()),
                    "too long",
                );
            }
            for (field, value) in [("url", &jwks.url), ("discovery_base", &jwks.discovery_base)] {
                if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                    ctx.error(
                        at.value(field),
                        "orgform::jwks_url",
                        format!("`jwks.{field}` is empty"),
                        "empty",
                    );
                }
            }
            if let Some(keys) = &jwks.keys {
                if keys.is_empty() {
                    ctx.error(
                        at.value("keys"),
                        "orgform::jwks_keys",
                        "`jwks.keys` is empty".to_owned(),
                        "no keys",
                    )
                    .help = Some("list at least one public JWK, or use `url`".to_owned());
                }
                for (k, key) in keys.iter().enumerate() {
                    if let Some(member) = PRIVATE_JWK_MEMBERS.iter().find(|m| key.contains_key(**m))
                    {
                        ctx.error(
                            at.value("keys").item(k),
                            "orgform::private_jwk",
                            format!("inline key {} carries `{member}`, private key material", k + 1),
                            "private key material",
                        )
                        .help = Some(
                            "an issuer needs only public keys: remove the private members (d, p, q, dp, dq, qi, oth, k) and rotate this key, it has been written down"
                                .to_owned(),
                        );
                    }
                }
            }
        }
    }
    out
}

/// Reports a name that is not a slug.
fn check_slug(ctx: &mut Ctx<'_>, at: At<'_>, what: &str, name: &str) {
    if is_slug(name) {
        return;
    }
    let label = if name.is_empty() {
        "empty"
    } else if name.len() > 255 {
        "over 255 characters"
    } else {
        "not a slug"
    };
    let slug: String = name
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let p = ctx.error(
        at.value("name"),
        "orgform::federation_name",
        format!("federation {what} name `{name}` is not a slug"),
        label,
    );
    p.help = Some(if is_slug(&slug) {
        format!("use lowercase letters, digits and hyphens only, e.g. `{slug}`")
    } else {
        "use 1-255 lowercase letters, digits and hyphens".to_owned()
    });
}

fn check_rules(
    ctx: &mut Ctx<'_>,
    manifest: &Manifest,
    origins: &Origins,
    issuers: &HashMap<&str, bool>,
    service_accounts: Option<&HashSet<&str>>,
) {
    let workspaces: HashMap<&str, bool> = manifest
        .workspaces
        .iter()
        .map(|w| (w.name.as_str(), w.archived))
        .collect();
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, rule) in manifest.federation.rules.iter().enumerate() {
        let at = ctx.federation_entry("rules", origins.rules[i]);
        check_slug(ctx, at, "rule", &rule.name);
        if let Some(&first) = names.get(rule.name.as_str()) {
            let first_at = ctx
                .federation_entry("rules", origins.rules[first])
                .value("name");
            ctx.duplicate(
                at.value("name"),
                first_at,
                "orgform::duplicate_rule",
                format!("federation rule `{}` is declared twice", rule.name),
            );
        } else {
            names.insert(&rule.name, i);
        }
        if let Some(description) = &rule.description
            && description.chars().count() > MAX_DESCRIPTION
        {
            ctx.error(
                at.value("description"),
                "orgform::rule_description",
                format!("the description is over {MAX_DESCRIPTION} characters"),
                "too long",
            );
        }
        // References: the issuer must be declared (and live while the rule is).
        if origins.federation_complete {
            match issuers.get(rule.issuer.as_str()) {
                None => {
                    let hint = did_you_mean(&rule.issuer, issuers.keys().copied());
                    let p = ctx.error(
                        at.value("issuer"),
                        "orgform::unknown_issuer",
                        format!("rule `{}` names issuer `{}`, which `federation.issuers` does not declare", rule.name, rule.issuer),
                        "unknown issuer",
                    );
                    p.help = Some("declare the issuer under `federation.issuers`".to_owned());
                    set_help(p, hint);
                }
                Some(true) if !rule.archived => {
                    ctx.error(
                        at.value("issuer"),
                        "orgform::archived_issuer",
                        format!(
                            "rule `{}` is live but its issuer `{}` is archived",
                            rule.name, rule.issuer
                        ),
                        "archived issuer",
                    )
                    .help = Some(
                        "archive the rule too (`archived: true`): an issuer is archived only once no live rule uses it, and a rule's issuer cannot be changed"
                            .to_owned(),
                    );
                }
                Some(_) => {}
            }
        }
        if let Some(accounts) = service_accounts
            && !rule.archived
            && !accounts.contains(rule.service_account.as_str())
        {
            let hint = did_you_mean(&rule.service_account, accounts.iter().copied());
            let p = ctx.error(
                at.value("service_account"),
                "orgform::unknown_service_account",
                format!(
                    "rule `{}` targets service account `{}`, which `service_accounts` does not declare (or declares archived)",
                    rule.name, rule.service_account
                ),
                "unknown service account",
            );
            p.help = Some(
                "declare the service account under `service_accounts`, not archived".to_owned(),
            );
            set_help(p, hint);
        }
        check_match(ctx, at, rule);
        if let Some(issuer) = manifest
            .federation
            .issuers
            .iter()
            .find(|i| i.name == rule.issuer)
        {
            check_tenant(ctx, at, rule, &issuer.issuer_url);
        }
        check_scope(ctx, at, &rule.oauth_scope);
        if let Some(seconds) = rule.token_lifetime_seconds
            && !TOKEN_LIFETIME_RANGE.contains(&seconds)
        {
            ctx.error(
                at.value("token_lifetime_seconds"),
                "orgform::token_lifetime",
                format!("`token_lifetime_seconds` is {seconds}, outside 60-86400"),
                "60 to 86400 seconds (one day)",
            )
            .help = Some(
                "the API accepts 60 to 86400 seconds; 3600 (one hour) is its default".to_owned(),
            );
        }
        match &rule.workspaces {
            None if !rule.archived => {
                ctx.error(
                    at.key("name"),
                    "orgform::rule_workspaces",
                    format!("rule `{}` has no `workspaces`", rule.name),
                    "no workspaces",
                )
                .help = Some(
                    "add `workspaces: all` or a list of workspace names: a live rule is enabled for at least one workspace"
                        .to_owned(),
                );
            }
            Some(RuleWorkspaces::Named(list)) => {
                check_rule_workspaces(ctx, at, rule.archived, list, &workspaces);
            }
            _ => {}
        }
    }
}

fn check_rule_workspaces(
    ctx: &mut Ctx<'_>,
    at: At<'_>,
    archived: bool,
    list: &[String],
    workspaces: &HashMap<&str, bool>,
) {
    let at = at.value("workspaces");
    if list.is_empty() && !archived {
        ctx.error(
            at,
            "orgform::rule_workspaces",
            "`workspaces` is empty: the rule would be enabled nowhere".to_owned(),
            "empty",
        )
        .help = Some(
            "list at least one workspace, write `all`, or archive the rule (`archived: true`)"
                .to_owned(),
        );
    }
    let mut seen = HashSet::new();
    for (w, name) in list.iter().enumerate() {
        let item = at.item(w);
        if !seen.insert(name.as_str()) {
            ctx.error(
                item,
                "orgform::rule_workspaces",
                format!("workspace `{name}` is listed twice"),
                "listed again",
            );
            continue;
        }
        match workspaces.get(name.as_str()) {
            None => {
                let hint = did_you_mean(name, workspaces.keys().copied());
                let p = ctx.error(
                    item,
                    "orgform::unknown_rule_workspace",
                    format!("workspace `{name}` is not declared under `workspaces`"),
                    "unknown workspace",
                );
                p.help = Some(if name.eq_ignore_ascii_case("default") {
                    "the default workspace has no id a rule can name; use `all`, or a declared workspace".to_owned()
                } else {
                    "declare the workspace under `workspaces`, or write `all`".to_owned()
                });
                set_help(p, hint);
            }
            Some(true) if !archived => {
                ctx.error(
                    item,
                    "orgform::unknown_rule_workspace",
                    format!("workspace `{name}` is archived"),
                    "archived workspace",
                )
                .help = Some("remove it from the rule's `workspaces`".to_owned());
            }
            Some(_) => {}
        }
    }
}

fn check_match(ctx: &mut Ctx<'_>, at: At<'_>, rule: &crate::federation::RuleSpec) {
    let m = &rule.rule_match;
    let at = at.value("match");
    let subject = m.subject_prefix.as_deref().filter(|s| !is_wildcard_only(s));
    let claims = m.claims.as_ref().is_some_and(|c| !c.is_empty());
    let condition = m.condition.as_deref().is_some_and(|c| !c.trim().is_empty());
    if subject.is_none() && !claims && !condition {
        let wildcard = m.subject_prefix.as_deref().is_some_and(is_wildcard_only);
        ctx.error(
            at,
            "orgform::rule_match",
            format!(
                "rule `{}` matches {}",
                rule.name,
                if wildcard {
                    "every subject: `subject_prefix` is only a wildcard"
                } else if m.audience.is_some() {
                    "on the audience alone"
                } else {
                    "nothing specific"
                }
            ),
            "too broad",
        )
        .help = Some(
            "constrain the identity with `subject_prefix` (e.g. `repo:acme/infra:ref:refs/heads/main`), `claims` or `condition`; the API refuses a match that only sets `audience`"
                .to_owned(),
        );
    }
    if let Some(condition) = &m.condition {
        if condition.trim() == "true" {
            ctx.error(
                at.value("condition"),
                "orgform::rule_match",
                "`condition` is the constant `true`".to_owned(),
                "always true",
            )
            .help = Some(
                "write a condition over `claims`, e.g. `claims.repository_owner == \"acme\"`"
                    .to_owned(),
            );
        }
        if condition.chars().count() > MAX_CONDITION {
            ctx.error(
                at.value("condition"),
                "orgform::rule_match",
                format!("`condition` is over {MAX_CONDITION} characters"),
                "too long",
            );
        }
    }
    for (field, value) in [
        ("subject_prefix", &m.subject_prefix),
        ("audience", &m.audience),
    ] {
        if value
            .as_deref()
            .is_some_and(|v| v.chars().count() > MAX_MATCH_VALUE)
        {
            ctx.error(
                at.value(field),
                "orgform::rule_match",
                format!("`{field}` is over {MAX_MATCH_VALUE} characters"),
                "too long",
            );
        }
    }
}

fn check_scope(ctx: &mut Ctx<'_>, at: At<'_>, scope: &str) {
    let at = at.value("oauth_scope");
    if scope.split_whitespace().next().is_none() {
        ctx.error(
            at,
            "orgform::rule_scope",
            "`oauth_scope` is empty".to_owned(),
            "empty",
        )
        .help = Some("write `workspace:developer` or `workspace:inference`".to_owned());
        return;
    }
    for part in scope.split_whitespace() {
        if RULE_SCOPES.contains(&part) || CONSOLE_SCOPES.contains(&part) {
            continue;
        }
        let p = ctx.error(
            at,
            "orgform::rule_scope",
            format!("scope `{part}` cannot be set through the Admin API"),
            "not workspace:developer or workspace:inference",
        );
        p.help = Some(if part.starts_with("org:") {
            format!(
                "`{part}` is not a scope a rule can carry: rules managed through the Admin API take `workspace:developer` and `workspace:inference`, and a rule made in the Console may be declared with `org:admin`"
            )
        } else {
            "OAuth callers may set `workspace:developer` and `workspace:inference` only".to_owned()
        });
        set_help(
            p,
            did_you_mean(part, RULE_SCOPES.iter().chain(CONSOLE_SCOPES).copied()),
        );
    }
}

/// Well-known shared issuers, the claims that identify a tenant on them, and the subject
/// prefix that pins one (the API refuses a rule on them that does not pin the tenant).
const SHARED_ISSUERS: &[(&str, &[&str], &str)] = &[
    (
        "https://token.actions.githubusercontent.com",
        &[
            "repository_owner",
            "repository_owner_id",
            "repository",
            "repository_id",
            "enterprise",
            "enterprise_id",
        ],
        "repo:",
    ),
    (
        "https://gitlab.com",
        &[
            "namespace_path",
            "namespace_id",
            "project_path",
            "project_id",
        ],
        "project_path:",
    ),
];

/// A rule on a well-known shared issuer must pin the tenant: an identity-bearing claim, a
/// subject prefix naming the owner, or a condition over such a claim.
fn check_tenant(ctx: &mut Ctx<'_>, at: At<'_>, rule: &crate::federation::RuleSpec, url: &str) {
    let Some((_, claims, prefix)) = SHARED_ISSUERS
        .iter()
        .find(|(u, _, _)| url.trim_end_matches('/') == *u)
    else {
        return;
    };
    let m = &rule.rule_match;
    let by_claim = m
        .claims
        .as_ref()
        .is_some_and(|c| c.keys().any(|k| claims.contains(&k.as_str())));
    let by_subject = m.subject_prefix.as_deref().is_some_and(|s| {
        s.strip_prefix(prefix)
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(tenant, _)| !tenant.is_empty() && !tenant.contains('*'))
    });
    let by_condition = m.condition.as_deref().is_some_and(|c| {
        claims
            .iter()
            .any(|claim| c.contains(&format!("claims.{claim}")))
    });
    let broad = m.subject_prefix.as_deref().is_none_or(is_wildcard_only)
        && m.claims.as_ref().is_none_or(BTreeMap::is_empty)
        && m.condition.is_none();
    // A match that constrains nothing is reported once, as too broad.
    if by_claim || by_subject || by_condition || broad {
        return;
    }
    ctx.error(
        at.value("match"),
        "orgform::rule_tenant",
        format!(
            "rule `{}` is on the shared issuer {url} but does not pin your organization",
            rule.name
        ),
        "any tenant's tokens would match",
    )
    .help = Some(format!(
        "start `subject_prefix` with `{prefix}YOUR_ORG/`, or match an identity claim ({}) under `claims` or in `condition`",
        claims.join(", ")
    ));
}
