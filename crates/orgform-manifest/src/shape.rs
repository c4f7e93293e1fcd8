//! The structural check of one fragment: every key known, no key repeated, every closed enum
//! spelled right, all found in one pass with a "did you mean" hint. YAML merge keys (`<<`)
//! are followed: the merged mapping's keys are checked as keys of the mapping they merge into.
//!
//! The table below mirrors the `deny_unknown_fields` types in [`crate::types`]; a unit test
//! keeps the two in sync through the generated JSON Schema. Enums that keep unknown values
//! (`OrgRole`, `WorkspaceRole`, `ApiKeyStatus`) are checked later, with the platform in mind.

use std::collections::{HashMap, HashSet};

use crate::de::describe;
use crate::diag::{Problem, SourceFile};
use crate::suggest::did_you_mean;
use crate::yaml::{ALIAS_BUDGET, Doc, Kind, MAX_DEPTH, Node};

/// What a node should look like.
pub(crate) enum Shape {
    /// Anything (its own type is checked by serde).
    Any,
    /// A mapping with these keys only.
    Map(&'static [(&'static str, Shape)]),
    /// A sequence of these.
    Seq(&'static Shape),
    /// A mapping with free keys and values of this shape.
    MapOf(&'static Shape),
    /// One of these strings.
    Enum(&'static [&'static str]),
}

const POLICY_MEMBERS: Shape = Shape::Map(&[
    ("unmanaged", Shape::Enum(&["ignore", "report", "remove"])),
    ("removal", Shape::Enum(&["immediate", "staged"])),
    ("grace_days", Shape::Any),
]);
const POLICY_INVITES: Shape = Shape::Map(&[
    ("unmanaged", Shape::Enum(&["ignore", "report", "revoke"])),
    ("reissue_expired", Shape::Any),
]);
const POLICY_WORKSPACES: Shape =
    Shape::Map(&[("unmanaged", Shape::Enum(&["ignore", "report", "archive"]))]);
const POLICY_WORKSPACE_MEMBERS: Shape =
    Shape::Map(&[("unmanaged", Shape::Enum(&["report", "remove"]))]);
const POLICY_KEYS: Shape = Shape::Map(&[
    (
        "unmanaged",
        Shape::Enum(&["ignore", "report", "deactivate"]),
    ),
    ("max_age_days", Shape::Any),
    ("unused_days", Shape::Any),
]);
const LIMITS: Shape = Shape::Map(&[
    ("max_destructive", Shape::Any),
    ("max_destructive_percent", Shape::Any),
]);
const SETTINGS: Shape = Shape::Map(&[
    ("members", POLICY_MEMBERS),
    ("invites", POLICY_INVITES),
    ("workspaces", POLICY_WORKSPACES),
    ("workspace_members", POLICY_WORKSPACE_MEMBERS),
    ("api_keys", POLICY_KEYS),
    ("limits", LIMITS),
    ("protected", Shape::Seq(&Shape::Any)),
    ("protected_service_accounts", Shape::Seq(&Shape::Any)),
    ("expiry_warning_days", Shape::Any),
]);
const ORGANIZATION: Shape = Shape::Map(&[
    ("id", Shape::Any),
    ("name", Shape::Any),
    ("platform", Shape::Enum(&["console", "enterprise", "aws"])),
]);
const MEMBER: Shape = Shape::Map(&[
    ("email", Shape::Any),
    ("role", Shape::Any),
    ("expires", Shape::Any),
]);
const RESIDENCY: Shape = Shape::Map(&[
    ("workspace_geo", Shape::Any),
    ("allowed_inference_geos", Shape::Any),
    ("default_inference_geo", Shape::Any),
]);
const WORKSPACE: Shape = Shape::Map(&[
    ("name", Shape::Any),
    ("id", Shape::Any),
    ("display_color", Shape::Any),
    ("data_residency", RESIDENCY),
    ("tags", Shape::MapOf(&Shape::Any)),
    ("members", Shape::MapOf(&Shape::Any)),
    ("archived", Shape::Any),
]);
const API_KEY: Shape = Shape::Map(&[
    ("id", Shape::Any),
    ("name", Shape::Any),
    ("workspace", Shape::Any),
    ("status", Shape::Any),
]);

const JWKS: Shape = Shape::Map(&[
    ("discovery_base", Shape::Any),
    ("url", Shape::Any),
    ("ca_cert_pem", Shape::Any),
    ("keys", Shape::Seq(&Shape::Any)),
]);
const ISSUER: Shape = Shape::Map(&[
    ("name", Shape::Any),
    ("issuer_url", Shape::Any),
    ("jwks", JWKS),
    ("max_jwt_lifetime_seconds", Shape::Any),
    ("check_jti", Shape::Any),
    ("archived", Shape::Any),
]);
const RULE_MATCH: Shape = Shape::Map(&[
    ("subject_prefix", Shape::Any),
    ("claims", Shape::MapOf(&Shape::Any)),
    ("condition", Shape::Any),
    ("audience", Shape::Any),
]);
const RULE: Shape = Shape::Map(&[
    ("name", Shape::Any),
    ("description", Shape::Any),
    ("issuer", Shape::Any),
    ("match", RULE_MATCH),
    ("service_account", Shape::Any),
    ("oauth_scope", Shape::Any),
    ("token_lifetime_seconds", Shape::Any),
    ("workspaces", Shape::Any),
    ("archived", Shape::Any),
]);
const FEDERATION: Shape = Shape::Map(&[
    ("issuers", Shape::Seq(&ISSUER)),
    ("rules", Shape::Seq(&RULE)),
]);

/// The shape of a fragment (any subset of a manifest's top-level keys).
pub(crate) const FRAGMENT: Shape = Shape::Map(&[
    ("version", Shape::Any),
    ("organization", ORGANIZATION),
    ("settings", SETTINGS),
    ("members", Shape::Seq(&MEMBER)),
    ("workspaces", Shape::Seq(&WORKSPACE)),
    ("api_keys", Shape::Seq(&API_KEY)),
    ("federation", FEDERATION),
]);

/// The outcome of the shape check of one fragment.
pub(crate) struct ShapeReport {
    /// False when the document is refused as a whole (an alias bomb), after recording that.
    pub(crate) usable: bool,
    /// Start offsets of the nodes already reported, so the typed reading does not report
    /// them again.
    pub(crate) flagged: HashSet<usize>,
}

/// Checks `root` against [`FRAGMENT`], recording every problem found.
pub(crate) fn check_shape(
    doc: &Doc,
    root: &Node,
    file: &SourceFile,
    problems: &mut Vec<Problem>,
) -> ShapeReport {
    check_with_budget(doc, root, file, problems, ALIAS_BUDGET)
}

fn check_with_budget(
    doc: &Doc,
    root: &Node,
    file: &SourceFile,
    problems: &mut Vec<Problem>,
    budget: usize,
) -> ShapeReport {
    let mut walker = Walker {
        doc,
        file,
        problems,
        budget,
        flagged: HashSet::new(),
    };
    let usable = walker.check(root, &FRAGMENT, "the top level", 0, false);
    if !usable {
        walker.problems.push(alias_bomb(file, root.span.start));
    }
    ShapeReport {
        usable,
        flagged: walker.flagged,
    }
}

/// The problem of a document whose aliases expand too far or nest too deep.
pub(crate) fn alias_bomb(file: &SourceFile, offset: usize) -> Problem {
    Problem::error(
        "orgform::alias_bomb",
        format!(
            "the aliases expand past the limit of {ALIAS_BUDGET} nodes or {MAX_DEPTH} levels of nesting"
        ),
    )
    .at(file, offset..offset, "expansion starts here")
    .help("anchors and aliases are allowed, but what they expand to is bounded; write the values out or use fewer nested aliases")
}

/// The hint for a value of the wrong type.
pub(crate) fn type_hint(expected: &str) -> String {
    match expected {
        "a list" => "write a list: one `- item` per line, or `[a, b]`".to_owned(),
        "a mapping" => "write `key: value` pairs, one per line, indented under the key".to_owned(),
        "a text value" => {
            "write a single value; quote it if it could be read as something else".to_owned()
        }
        "`true` or `false`" => "write `true` or `false`".to_owned(),
        _ => format!("write {expected} here; see docs/manifest.md for this key"),
    }
}

fn duplicate_key(file: &SourceFile, name: &str, key: &Node, first: &Node) -> Problem {
    Problem::error("orgform::duplicate_key", format!("duplicate key `{name}`"))
        .at(file, key.span.clone(), "repeated here")
        .at(file, first.span.clone(), "first here")
        .help("a YAML mapping holds each key once; merge the two entries")
}

struct Walker<'a> {
    doc: &'a Doc,
    file: &'a SourceFile,
    problems: &'a mut Vec<Problem>,
    budget: usize,
    flagged: HashSet<usize>,
}

impl Walker<'_> {
    /// Returns false when the alias budget ran out or the nesting went too deep.
    fn check(
        &mut self,
        node: &Node,
        shape: &Shape,
        context: &str,
        depth: usize,
        aliased: bool,
    ) -> bool {
        let aliased = aliased || matches!(node.kind, Kind::Alias(_));
        if depth > MAX_DEPTH {
            return false;
        }
        if aliased {
            if self.budget == 0 {
                return false;
            }
            self.budget -= 1;
        }
        let place = node;
        let node = self.doc.resolve(node);
        if node.is_null() && !matches!(shape, Shape::Enum(_)) {
            return true;
        }
        let depth = depth + 1;
        match shape {
            Shape::Any => self.walk_any(node, depth, aliased),
            Shape::Enum(values) => {
                if let Kind::Scalar { value, .. } = &node.kind
                    && !values.contains(&value.as_str())
                {
                    let hint = did_you_mean(value, values.iter().copied())
                        .unwrap_or_else(|| format!("write one of: {}", values.join(", ")));
                    self.flag(place, node);
                    self.problems.push(
                        Problem::error(
                            "orgform::unknown_value",
                            format!("unknown value `{value}` for {context}"),
                        )
                        .at(
                            self.file,
                            place.span.clone(),
                            format!("expected one of: {}", values.join(", ")),
                        )
                        .help(hint),
                    );
                }
                true
            }
            Shape::Seq(item) => {
                let Kind::Seq(items) = &node.kind else {
                    self.type_error(place, node, context, "a list");
                    return true;
                };
                let context = format!("an entry of {context}");
                items
                    .iter()
                    .all(|i| self.check(i, item, &context, depth, aliased))
            }
            Shape::MapOf(value_shape) => {
                let Kind::Map(entries) = &node.kind else {
                    self.type_error(place, node, context, "a mapping");
                    return true;
                };
                self.duplicates(entries);
                entries
                    .iter()
                    .all(|(_, v)| self.check(v, value_shape, context, depth, aliased))
            }
            Shape::Map(fields) => {
                let Kind::Map(entries) = &node.kind else {
                    self.type_error(place, node, context, "a mapping");
                    return true;
                };
                self.duplicates(entries);
                for (key, value) in entries {
                    let name = key.scalar().unwrap_or("");
                    if name == "<<" {
                        // A YAML merge key: the merged mappings' keys belong to this mapping.
                        let doc = self.doc;
                        let merged = doc.resolve(value);
                        let sources: Vec<&Node> = match &merged.kind {
                            Kind::Seq(items) => items.iter().collect(),
                            _ => vec![value],
                        };
                        for source in sources {
                            if !self.check(source, shape, context, depth, aliased) {
                                return false;
                            }
                        }
                        continue;
                    }
                    if let Some((field, field_shape)) = fields.iter().find(|(k, _)| *k == name) {
                        if !self.check(value, field_shape, &format!("`{field}`"), depth, aliased) {
                            return false;
                        }
                        continue;
                    }
                    let known: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
                    let hint = did_you_mean(name, known.iter().copied())
                        .unwrap_or_else(|| format!("known keys here: {}", known.join(", ")));
                    self.problems.push(
                        Problem::error(
                            "orgform::unknown_key",
                            format!("unknown key `{name}` in {context}"),
                        )
                        .at(self.file, key.span.clone(), "not a known key here")
                        .help(hint),
                    );
                }
                true
            }
        }
    }

    fn walk_any(&mut self, node: &Node, depth: usize, aliased: bool) -> bool {
        match &node.kind {
            Kind::Map(entries) => {
                self.duplicates(entries);
                entries
                    .iter()
                    .all(|(_, v)| self.check(v, &Shape::Any, "", depth, aliased))
            }
            Kind::Seq(items) => items
                .iter()
                .all(|i| self.check(i, &Shape::Any, "", depth, aliased)),
            _ => true,
        }
    }

    fn flag(&mut self, place: &Node, node: &Node) {
        self.flagged.insert(place.span.start);
        self.flagged.insert(node.span.start);
    }

    fn type_error(&mut self, place: &Node, node: &Node, context: &str, expected: &str) {
        self.flag(place, node);
        self.problems.push(
            Problem::error(
                "orgform::wrong_type",
                format!("{context} must be {expected}, found {}", describe(node)),
            )
            .at(
                self.file,
                place.span.clone(),
                format!("expected {expected}"),
            )
            .help(type_hint(expected)),
        );
    }

    fn duplicates(&mut self, entries: &[(Node, Node)]) {
        if entries.len() < 2 {
            return;
        }
        if entries.len() <= 16 {
            for (i, (key, _)) in entries.iter().enumerate() {
                let Some(name) = key.scalar() else { continue };
                if let Some((first, _)) =
                    entries[..i].iter().find(|(k, _)| k.scalar() == Some(name))
                {
                    self.problems
                        .push(duplicate_key(self.file, name, key, first));
                }
            }
            return;
        }
        let mut seen: HashMap<&str, &Node> = HashMap::with_capacity(entries.len());
        for (key, _) in entries {
            let Some(name) = key.scalar() else { continue };
            if let Some(first) = seen.get(name) {
                self.problems
                    .push(duplicate_key(self.file, name, key, first));
            } else {
                seen.insert(name, key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::yaml::Doc;

    fn resolve<'a>(node: &'a Value, defs: &'a Value) -> &'a Value {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let name = reference.trim_start_matches("#/$defs/");
            return resolve(&defs[name], defs);
        }
        if let Some(any) = node.get("anyOf").and_then(Value::as_array)
            && let Some(inner) = any.iter().find(|s| s.get("$ref").is_some())
        {
            return resolve(inner, defs);
        }
        node
    }

    fn enum_values(node: &Value) -> Vec<String> {
        if let Some(values) = node.get("enum").and_then(Value::as_array) {
            return values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
        }
        node.get("oneOf")
            .and_then(Value::as_array)
            .map(|variants| {
                variants
                    .iter()
                    .filter_map(|v| v.get("const").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn compare(shape: &Shape, node: &Value, defs: &Value, path: &str) {
        let node = resolve(node, defs);
        match shape {
            Shape::Any | Shape::MapOf(_) => {}
            Shape::Enum(values) => {
                assert_eq!(enum_values(node), values.to_vec(), "{path}: enum values");
            }
            Shape::Seq(item) => compare(item, &node["items"], defs, &format!("{path}[]")),
            Shape::Map(fields) => {
                let properties = node["properties"].as_object().expect(path);
                let schema_keys: Vec<&str> = properties.keys().map(String::as_str).collect();
                let shape_keys: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
                assert_eq!(shape_keys, schema_keys, "{path}: keys");
                assert_eq!(node["additionalProperties"], Value::Bool(false), "{path}");
                for (key, field) in *fields {
                    compare(field, &properties[*key], defs, &format!("{path}.{key}"));
                }
            }
        }
    }

    #[test]
    fn the_table_matches_the_types_through_the_schema() {
        let schema: Value = serde_json::from_str(crate::SCHEMA_JSON).unwrap();
        compare(&FRAGMENT, &schema, &schema["$defs"], "manifest");
    }

    fn problems(text: &str) -> Vec<(&'static str, String)> {
        let doc = Doc::parse(text).unwrap();
        let file = SourceFile::new("t.yaml", text);
        let mut problems = Vec::new();
        check_shape(&doc, doc.root.as_ref().unwrap(), &file, &mut problems);
        problems.into_iter().map(|p| (p.code, p.message)).collect()
    }

    #[test]
    fn every_unknown_and_repeated_key_is_found_in_one_pass() {
        let found = problems(
            "organisation: {}\nmembers:\n  - {email: a, rol: b, email: c}\nsettings: {limits: {max: 1}}\n",
        );
        assert_eq!(
            found,
            vec![
                (
                    "orgform::unknown_key",
                    "unknown key `organisation` in the top level".to_owned()
                ),
                ("orgform::duplicate_key", "duplicate key `email`".to_owned()),
                (
                    "orgform::unknown_key",
                    "unknown key `rol` in an entry of `members`".to_owned()
                ),
                (
                    "orgform::unknown_key",
                    "unknown key `max` in `limits`".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn wrong_shapes_and_enum_values_are_reported() {
        let found = problems("members: {a: b}\nworkspaces: [x]\norganization: {platform: cloud}\n");
        let codes: Vec<_> = found.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            codes,
            [
                "orgform::wrong_type",
                "orgform::wrong_type",
                "orgform::unknown_value"
            ]
        );
    }

    #[test]
    fn only_nodes_reached_through_aliases_count_against_the_budget() {
        let usable = |text: &str| {
            let doc = Doc::parse(text).unwrap();
            let file = SourceFile::new("t.yaml", text);
            let mut problems = Vec::new();
            let report =
                check_with_budget(&doc, doc.root.as_ref().unwrap(), &file, &mut problems, 10);
            (report.usable, problems)
        };
        let written: Vec<String> = (0..1_000).map(|i| format!("p{i}")).collect();
        let (ok, problems) = usable(&format!(
            "settings: {{protected: [{}]}}\n",
            written.join(", ")
        ));
        assert!(
            ok,
            "1,000 nodes written out pass a budget of 10: {problems:?}"
        );
        let (ok, problems) = usable("settings: {protected: [&a [x, x, x, x], *a, *a, *a]}\n");
        assert!(!ok, "15 nodes through aliases exceed it");
        assert_eq!(problems[0].code, "orgform::alias_bomb");
        assert!(problems[0].message.contains("aliases"));
    }

    #[test]
    fn merge_keys_are_checked_as_part_of_their_mapping() {
        assert!(
            problems("members:\n  - &m {email: a, role: user}\n  - <<: *m\n    email: b\n")
                .is_empty()
        );
        let found = problems("base: &b {colour: x}\n");
        assert_eq!(found.len(), 1);
        let found = problems("workspaces:\n  - <<: {colour: x}\n    name: a\n");
        assert_eq!(
            found,
            vec![(
                "orgform::unknown_key",
                "unknown key `colour` in an entry of `workspaces`".to_owned()
            )]
        );
    }
}
