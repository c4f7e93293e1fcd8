//! Checks recorded requests against the official OpenAPI Admin subset: the operation
//! exists, every query parameter is declared, the body validates against the request schema.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{Value, json};

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/reference/anthropic-admin-openapi.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    })
}

fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

/// Checks one request; returns the matched `METHOD template`.
pub fn check_request(
    method: &str,
    path: &str,
    query_names: &[String],
    body: Option<&Value>,
) -> Result<String, String> {
    let paths = spec()["paths"].as_object().unwrap();
    let (template, item) = paths
        .iter()
        .map(|(k, v)| (k.trim_end_matches("?beta=true"), v))
        .find(|(k, v)| template_matches(k, path) && v.get(method.to_lowercase()).is_some())
        .ok_or_else(|| format!("{method} {path}: no such operation in the spec"))?;
    let op = &item[method.to_lowercase()];
    let declared: BTreeSet<&str> = op["parameters"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    for name in query_names {
        // `beta=true` is part of every path key in the spec.
        if name != "beta" && !declared.contains(name.as_str()) {
            return Err(format!(
                "{method} {path}: undeclared query parameter {name:?} (declared: {declared:?})"
            ));
        }
    }
    let schema = op
        .pointer("/requestBody/content/application~1json/schema")
        .cloned();
    match (schema, body) {
        (None, Some(b)) => {
            return Err(format!(
                "{method} {path}: body {b} sent to an operation without one"
            ));
        }
        (Some(_), None) if op.pointer("/requestBody/required") == Some(&json!(true)) => {
            return Err(format!("{method} {path}: required body missing"));
        }
        (None | Some(_), None) => {}
        (Some(schema), Some(body)) => {
            let mut root = schema;
            root["components"] = spec()["components"].clone();
            let validator = jsonschema::validator_for(&root)
                .map_err(|e| format!("{method} {path}: bad schema: {e}"))?;
            let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
            if !errors.is_empty() {
                return Err(format!("{method} {path}: body {body} invalid: {errors:?}"));
            }
        }
    }
    Ok(format!("{method} {template}"))
}
