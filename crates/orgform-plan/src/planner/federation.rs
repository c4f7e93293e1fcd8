//! Federation issuers: create, update (inline keys compared by digest), archive; the shared
//! entry point of federation planning; and the report of unlisted live issuers and rules.
//!
//! Decisions where the contract leaves room, taken conservatively:
//! - Federation is planned only when the manifest declares `federation:`; then a read without
//!   identities (`None`: an admin key cannot read them) is a plan error, never "none exist".
//! - Entries match live objects by name (names are unique in the organization); a live
//!   archived object with the name only satisfies `archived: true`. Declared live, such a
//!   name is blocked, never created again: the API may keep it taken (409) or free it.
//! - Unlisted live issuers and rules are only reported (never archived): a rule may be the
//!   very one a pipeline authenticates with.
//! - An issuer that backs a live rule whose scope only a Console session may set
//!   (`org:admin`) cannot be changed through the API: the change is blocked, not planned.
//! - An issuer is archived after the rules archived with it; when a live rule that is not
//!   being archived still uses it, the archive is blocked (the API refuses it).

use std::collections::{BTreeMap, BTreeSet};

use orgform_manifest::{IssuerSpec, JwksSpec};
use orgform_model::{FederationIssuer, Identities, Jwks, jwks_digest};
use serde_json::Value;

use super::{Draft, Engine, change, class, s};
use crate::DriftCategory;
use crate::types::{BlockedKind, FieldChange, ObjectKind, Op, PlanErrorKind};

/// How a manifest issuer resolved.
#[derive(Clone, Debug)]
pub(super) enum IssuerRes {
    /// A live, non-archived issuer.
    Live(String),
    /// Created by the draft with this key.
    Create(String),
    /// Archived (live or by this plan), absent, or an error was reported.
    Gone,
}

/// The scopes an OAuth caller may manage.
const OAUTH_SCOPES: &[&str] = &["workspace:developer", "workspace:inference"];

/// Whether a rule with this scope can be managed through the Admin API.
pub(super) fn oauth_manageable(scope: &str) -> bool {
    scope.split_whitespace().all(|s| OAUTH_SCOPES.contains(&s))
}

/// The model form of a manifest key source (inline keys as their digest).
pub(super) fn jwks_model(spec: Option<&JwksSpec>) -> Jwks {
    let Some(spec) = spec else {
        return Jwks::Discovery {
            discovery_base: None,
            ca_cert_pem: None,
        };
    };
    if let Some(keys) = spec.key_values() {
        return Jwks::Inline {
            keys_digest: jwks_digest(&keys),
            key_count: keys.len(),
        };
    }
    match &spec.url {
        Some(url) => Jwks::ExplicitUrl {
            url: url.clone(),
            ca_cert_pem: spec.ca_cert_pem.clone(),
        },
        None => Jwks::Discovery {
            discovery_base: spec.discovery_base.clone(),
            ca_cert_pem: spec.ca_cert_pem.clone(),
        },
    }
}

/// A key source as a plan shows it: never an inline key, only its digest and count.
pub(super) fn jwks_value(jwks: &Jwks) -> Value {
    serde_json::to_value(jwks).unwrap_or(Value::Null)
}

impl Engine<'_> {
    /// Plans `federation:`; the caller has checked that the manifest declares it.
    pub(super) fn plan_federation(&mut self) {
        let Some(identities) = self.live.identities.as_ref() else {
            self.here = None;
            self.error(
                PlanErrorKind::IdentitiesNotRead,
                "federation".to_owned(),
                "the manifest declares federation issuers or rules, but they were not read: the Admin API serves them only to an OAuth bearer token".to_owned(),
                "run with an OAuth token that has the org:admin scope (ANTHROPIC_AUTH_TOKEN) instead of the admin key, or remove `federation:` from the manifest",
            );
            return;
        };
        let issuers = self.plan_issuers(identities);
        let archived_rules = self.plan_rules(identities, &issuers);
        self.archive_issuers(identities, &archived_rules);
        self.report_unlisted_federation(identities);
    }

    /// Creates and updates the declared issuers; returns how each name resolved.
    fn plan_issuers(&mut self, ids: &Identities) -> BTreeMap<String, IssuerRes> {
        let m = self.m;
        let mut out = BTreeMap::new();
        for (index, spec) in m.federation.issuers.iter().enumerate() {
            self.here = m.sources.issuer(index);
            let live = live_by_name(&ids.federation_issuers, &spec.name, |i| {
                (&i.name, i.is_archived())
            });
            let res = match live {
                _ if spec.archived => IssuerRes::Gone,
                Some(issuer) if !issuer.is_archived() => {
                    self.update_issuer(ids, spec, issuer);
                    IssuerRes::Live(issuer.id.clone())
                }
                Some(_) => {
                    self.block_archived_name("issuer", &spec.name);
                    IssuerRes::Gone
                }
                None => IssuerRes::Create(self.create_issuer(spec)),
            };
            out.insert(spec.name.clone(), res);
        }
        out
    }

    /// Blocks a declared, live issuer or rule whose name exists only archived: archiving
    /// cannot be undone, and the API may keep the name taken (409) or free it (the
    /// `federation-names` reading), so a create is planned under neither.
    pub(super) fn block_archived_name(&mut self, kind: &str, name: &str) {
        self.block(
            BlockedKind::ArchivedFederationObject,
            format!("federation {kind} {name}"),
            Some("archived"),
            Some(Value::Bool(true)),
            Some(Value::Bool(false)),
            &format!(
                "a federation {kind} with this name is archived, and archiving cannot be undone"
            ),
            &format!("declare it `archived: true`, or declare a new {kind} under another name"),
        );
    }

    fn create_issuer(&mut self, spec: &IssuerSpec) -> String {
        let key = format!("fdis-create:{}", spec.name);
        let mut changes = vec![
            change("name", None, Some(s(&spec.name))),
            change("issuer_url", None, Some(s(&spec.issuer_url))),
            change(
                "jwks",
                None,
                Some(jwks_value(&jwks_model(spec.jwks.as_ref()))),
            ),
        ];
        if let Some(l) = spec.max_jwt_lifetime_seconds {
            changes.push(change("max_jwt_lifetime_seconds", None, Some(l.into())));
        }
        if let Some(c) = spec.check_jti {
            changes.push(change("check_jti", None, Some(c.into())));
        }
        self.drafts.push(Draft {
            class: class::FEDERATION_ISSUER,
            sort_key: spec.name.clone(),
            key: key.clone(),
            op: Op::CreateFederationIssuer {
                name: spec.name.clone(),
                issuer_url: spec.issuer_url.clone(),
                jwks: spec.jwks.clone(),
                max_jwt_lifetime_seconds: spec.max_jwt_lifetime_seconds,
                check_jti: spec.check_jti,
            },
            target: format!("federation issuer {}", spec.name),
            changes,
            destructive: false,
            irreversible: false,
            deps: Vec::new(),
            consequences: Vec::new(),
            category: DriftCategory::Missing,
            source: self.here.clone(),
        });
        key
    }

    fn update_issuer(&mut self, ids: &Identities, spec: &IssuerSpec, live: &FederationIssuer) {
        let target = format!("federation issuer {}", spec.name);
        let mut changes: Vec<FieldChange> = Vec::new();
        let mut issuer_url = None;
        if spec.issuer_url != live.issuer_url {
            changes.push(change(
                "issuer_url",
                Some(s(&live.issuer_url)),
                Some(s(&spec.issuer_url)),
            ));
            issuer_url = Some(spec.issuer_url.clone());
        }
        let wanted = jwks_model(spec.jwks.as_ref());
        let mut jwks = None;
        if wanted != live.jwks {
            changes.push(change(
                "jwks",
                Some(jwks_value(&live.jwks)),
                Some(jwks_value(&wanted)),
            ));
            jwks = Some(spec.jwks.clone().unwrap_or_default());
        }
        let lifetime = spec
            .max_jwt_lifetime_seconds
            .filter(|l| *l != live.max_jwt_lifetime_seconds);
        if let Some(l) = lifetime {
            changes.push(change(
                "max_jwt_lifetime_seconds",
                Some(live.max_jwt_lifetime_seconds.into()),
                Some(l.into()),
            ));
        }
        let check_jti = spec.check_jti.filter(|c| *c != live.check_jti);
        if let Some(c) = check_jti {
            changes.push(change(
                "check_jti",
                Some(live.check_jti.into()),
                Some(c.into()),
            ));
        }
        if changes.is_empty() {
            return;
        }
        if let Some(rule) = ids.federation_rules.iter().find(|r| {
            r.issuer_id == live.id && !r.is_archived() && !oauth_manageable(&r.oauth_scope)
        }) {
            let first = changes.remove(0);
            let reason = format!(
                "the issuer backs rule {} (scope {:?}), which only a Console session may manage",
                rule.name, rule.oauth_scope
            );
            self.block(
                BlockedKind::ConsoleOnlyScope,
                target,
                Some(&first.field),
                first.before,
                first.after,
                &reason,
                "make this change in the Console, or align the manifest with the live issuer",
            );
            return;
        }
        self.drafts.push(Draft {
            class: class::FEDERATION_ISSUER,
            sort_key: format!("{}\u{0}{}", spec.name, live.id),
            key: format!("fdis-update:{}", live.id),
            op: Op::UpdateFederationIssuer {
                issuer_id: live.id.clone(),
                name: live.name.clone(),
                issuer_url,
                jwks,
                max_jwt_lifetime_seconds: lifetime,
                check_jti,
            },
            target,
            changes,
            destructive: false,
            irreversible: false,
            deps: Vec::new(),
            consequences: Vec::new(),
            category: DriftCategory::Changed,
            source: self.here.clone(),
        });
    }

    /// Archives the issuers declared `archived: true`, after the rules archived with them.
    fn archive_issuers(&mut self, ids: &Identities, archived_rules: &BTreeMap<String, String>) {
        let m = self.m;
        for (index, spec) in m.federation.issuers.iter().enumerate() {
            if !spec.archived {
                continue;
            }
            self.here = m.sources.issuer(index);
            let Some(live) = ids
                .federation_issuers
                .iter()
                .find(|i| i.name == spec.name && !i.is_archived())
            else {
                continue;
            };
            let target = format!("federation issuer {}", spec.name);
            let users: Vec<&str> = ids
                .federation_rules
                .iter()
                .filter(|r| r.issuer_id == live.id && !r.is_archived())
                .filter(|r| !archived_rules.contains_key(&r.id))
                .map(|r| r.name.as_str())
                .collect();
            if !users.is_empty() {
                let reason = format!(
                    "live rules still use it: {} (the API refuses to archive an issuer with live rules)",
                    users.join(", ")
                );
                self.block(
                    BlockedKind::IssuerInUse,
                    target,
                    Some("archived"),
                    Some(false.into()),
                    Some(true.into()),
                    &reason,
                    "declare those rules with `archived: true`, or archive them first",
                );
                continue;
            }
            let deps: Vec<String> = ids
                .federation_rules
                .iter()
                .filter(|r| r.issuer_id == live.id)
                .filter_map(|r| archived_rules.get(&r.id).cloned())
                .collect();
            self.drafts.push(Draft {
                class: class::FEDERATION_ISSUER_ARCHIVE,
                sort_key: format!("{}\u{0}{}", spec.name, live.id),
                key: format!("fdis-archive:{}", live.id),
                op: Op::ArchiveFederationIssuer {
                    issuer_id: live.id.clone(),
                    name: live.name.clone(),
                },
                target,
                changes: vec![change("archived", Some(false.into()), Some(true.into()))],
                destructive: true,
                irreversible: true,
                deps,
                consequences: vec![
                    "every rule on this issuer stops accepting its tokens".to_owned(),
                ],
                category: DriftCategory::Changed,
                source: self.here.clone(),
            });
        }
    }

    /// Reports live, non-archived issuers and rules the manifest does not declare.
    fn report_unlisted_federation(&mut self, ids: &Identities) {
        let m = self.m;
        let issuers: BTreeSet<&str> = m
            .federation
            .issuers
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        let rules: BTreeSet<&str> = m.federation.rules.iter().map(|r| r.name.as_str()).collect();
        for issuer in ids.federation_issuers.iter().filter(|i| !i.is_archived()) {
            if !issuers.contains(issuer.name.as_str()) {
                self.unmanaged(
                    ObjectKind::FederationIssuer,
                    &issuer.id,
                    format!("federation issuer {}", issuer.name),
                    "not in the manifest; federation objects are only reported, never archived unless declared `archived: true`",
                    false,
                );
            }
        }
        for rule in ids.federation_rules.iter().filter(|r| !r.is_archived()) {
            if !rules.contains(rule.name.as_str()) {
                let protected = self.rule_protection(rule, false).is_some();
                self.unmanaged(
                    ObjectKind::FederationRule,
                    &rule.id,
                    format!("federation rule {}", rule.name),
                    "not in the manifest; federation objects are only reported, never archived unless declared `archived: true`",
                    protected,
                );
            }
        }
    }
}

/// The object with this name: the non-archived one, else the newest archived one.
pub(super) fn live_by_name<'a, T>(
    list: &'a [T],
    name: &str,
    key: impl Fn(&T) -> (&String, bool),
) -> Option<&'a T> {
    list.iter()
        .filter(|x| key(x).0 == name)
        .min_by_key(|x| key(x).1)
}
