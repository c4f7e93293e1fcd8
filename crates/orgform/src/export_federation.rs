//! `orgform export` of federation issuers and rules (only when the read included them: a
//! read with an admin key has none, and nothing is written then).
//!
//! Decisions, each written as a comment in the output too:
//! - Archived issuers and rules are left out (archiving is irreversible).
//! - An issuer with inline keys is left out, in a comment giving its key count and digest:
//!   a snapshot never holds the key documents, and writing anything in their place would
//!   invent keys; supply them (`jwks: {keys: [...]}`) to manage the issuer. Its rules are
//!   left out with it.
//! - A rule whose scope only a Console session may set (`org:admin`), or that is enabled for
//!   a workspace the export does not list, is left out in a comment. Unlisted live
//!   federation objects are only ever reported, never archived, so what is left out stays.

use std::collections::{BTreeMap, BTreeSet};

use orgform_model::{FederationRule, Identities, Jwks};

use crate::yaml::YamlWriter;

const OAUTH_SCOPES: &[&str] = &["workspace:developer", "workspace:inference"];

/// Writes `federation:`; `names` maps exported workspace ids to their names.
pub fn write_federation(w: &mut YamlWriter, ids: &Identities, names: &BTreeMap<String, String>) {
    let mut issuers: Vec<_> = ids.federation_issuers.iter().collect();
    issuers.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let mut rules: Vec<_> = ids.federation_rules.iter().collect();
    rules.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    w.key(0, "federation");
    let mut exported: BTreeMap<&str, &str> = BTreeMap::new();
    let mut notes = Vec::new();
    let live_issuers: Vec<_> = issuers.iter().filter(|i| !i.is_archived()).collect();
    if live_issuers.is_empty() {
        w.raw_field(1, "issuers", "[]");
    } else {
        w.key(1, "issuers");
    }
    for issuer in live_issuers {
        if let Jwks::Inline {
            keys_digest,
            key_count,
        } = &issuer.jwks
        {
            notes.push(format!(
                "issuer {} ({}): inline keys ({key_count}, {keys_digest}) are not exported; supply them under `jwks: {{keys: [...]}}` to manage it",
                issuer.name, issuer.id
            ));
            continue;
        }
        exported.insert(issuer.id.as_str(), issuer.name.as_str());
        w.item_field(2, "name", &issuer.name);
        w.field(3, "issuer_url", &issuer.issuer_url);
        match &issuer.jwks {
            Jwks::Discovery {
                discovery_base,
                ca_cert_pem,
            } if discovery_base.is_some() || ca_cert_pem.is_some() => {
                w.key(3, "jwks");
                if let Some(base) = discovery_base {
                    w.field(4, "discovery_base", base);
                }
                if let Some(pem) = ca_cert_pem {
                    w.field(4, "ca_cert_pem", pem);
                }
            }
            Jwks::ExplicitUrl { url, ca_cert_pem } => {
                w.key(3, "jwks");
                w.field(4, "url", url);
                if let Some(pem) = ca_cert_pem {
                    w.field(4, "ca_cert_pem", pem);
                }
            }
            _ => {}
        }
        w.raw_field(
            3,
            "max_jwt_lifetime_seconds",
            &issuer.max_jwt_lifetime_seconds.to_string(),
        );
        w.raw_field(3, "check_jti", &issuer.check_jti.to_string());
    }
    let accounts: BTreeMap<&str, &str> = ids
        .service_accounts
        .iter()
        .map(|s| (s.id.as_str(), s.name.as_str()))
        .collect();
    let mut written = Vec::new();
    for rule in rules.iter().filter(|r| !r.is_archived()) {
        match exportable(rule, &exported, &accounts, names) {
            Ok(()) => written.push(*rule),
            Err(why) => notes.push(format!("rule {} ({}): {why}", rule.name, rule.id)),
        }
    }
    if written.is_empty() {
        w.raw_field(1, "rules", "[]");
    } else {
        w.key(1, "rules");
    }
    for rule in written {
        write_rule(w, rule, &exported, &accounts, names);
    }
    for note in notes {
        w.comment(1, &format!("left out: {note}"));
    }
    let archived = ids
        .federation_issuers
        .iter()
        .filter(|i| i.is_archived())
        .count()
        + ids
            .federation_rules
            .iter()
            .filter(|r| r.is_archived())
            .count();
    if archived > 0 {
        w.comment(
            1,
            &format!("{archived} archived issuers and rules left out (archiving is irreversible)"),
        );
    }
}

fn exportable(
    rule: &FederationRule,
    issuers: &BTreeMap<&str, &str>,
    accounts: &BTreeMap<&str, &str>,
    names: &BTreeMap<String, String>,
) -> Result<(), &'static str> {
    if !rule
        .oauth_scope
        .split_whitespace()
        .all(|s| OAUTH_SCOPES.contains(&s))
    {
        return Err("its scope is managed only in a Console session");
    }
    if !issuers.contains_key(rule.issuer_id.as_str()) {
        return Err("its issuer is not exported");
    }
    if !accounts.contains_key(rule.target_service_account_id.as_str()) {
        return Err("its service account was not read");
    }
    if !rule.applies_to_all_workspaces
        && (rule.workspace_ids.is_empty()
            || rule.workspace_ids.iter().any(|w| !names.contains_key(w)))
    {
        return Err("it is enabled for a workspace the export does not list");
    }
    Ok(())
}

fn write_rule(
    w: &mut YamlWriter,
    rule: &FederationRule,
    issuers: &BTreeMap<&str, &str>,
    accounts: &BTreeMap<&str, &str>,
    names: &BTreeMap<String, String>,
) {
    w.item_field(2, "name", &rule.name);
    if let Some(d) = rule.description.as_deref().filter(|d| !d.is_empty()) {
        w.field(3, "description", d);
    }
    w.field(3, "issuer", issuers[rule.issuer_id.as_str()]);
    w.key(3, "match");
    let m = &rule.rule_match;
    if let Some(v) = &m.subject_prefix {
        w.field(4, "subject_prefix", v);
    }
    if !m.claims.is_empty() {
        w.key(4, "claims");
        for (k, v) in &m.claims {
            w.field(5, k, v);
        }
    }
    if let Some(v) = &m.condition {
        w.field(4, "condition", v);
    }
    if let Some(v) = &m.audience {
        w.field(4, "audience", v);
    }
    w.field(
        3,
        "service_account",
        accounts[rule.target_service_account_id.as_str()],
    );
    w.field(3, "oauth_scope", &rule.oauth_scope);
    w.raw_field(
        3,
        "token_lifetime_seconds",
        &rule.token_lifetime_seconds.to_string(),
    );
    if rule.applies_to_all_workspaces {
        w.raw_field(3, "workspaces", "all");
    } else {
        w.key(3, "workspaces");
        let listed: BTreeSet<&str> = rule
            .workspace_ids
            .iter()
            .filter_map(|id| names.get(id).map(String::as_str))
            .collect();
        for name in listed {
            w.item(4, name);
        }
    }
}
