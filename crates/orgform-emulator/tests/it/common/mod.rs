//! Shared test harness: an emulator, an HTTP client, and the OpenAPI conformance oracle that
//! checks every response (and every accepted request body) against the official spec.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};

use orgform_emulator::readings::KeyShape;
use orgform_emulator::{Emulator, EmulatorConfig, Readings};
use serde_json::Value;

pub const VERSION: &str = "2023-06-01";

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/reference/anthropic-admin-openapi.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).expect("spec file")).expect("spec json")
    })
}

/// The spec's components with `BetaApiKey` in its earlier (August 2026 docs) shape: no
/// `scope`, and `principal` the creator (`{id, type}`) or null. The current spec requires
/// `scope`, so the earlier reading is held to the shape it stands for.
fn earlier_components() -> &'static Value {
    static EARLIER: OnceLock<Value> = OnceLock::new();
    EARLIER.get_or_init(|| {
        let mut components = spec()["components"].clone();
        let key = &mut components["schemas"]["BetaApiKey"];
        key["properties"].as_object_mut().unwrap().remove("scope");
        key["properties"]["principal"] = serde_json::json!({
            "anyOf": [{"$ref": "#/components/schemas/BetaCreatedBy"}, {"type": "null"}]
        });
        key["required"] = Value::Array(
            key["required"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| *r != "scope")
                .cloned()
                .collect(),
        );
        components
    })
}

/// Validates `instance` against `schema` (a sub-schema of the spec).
pub fn validate(schema: &Value, instance: &Value) -> Result<(), String> {
    validate_in(&spec()["components"], schema, instance)
}

/// Validates against the spec as `readings` shape it.
pub fn validate_under(readings: &Readings, schema: &Value, instance: &Value) -> Result<(), String> {
    let components = match readings.key_shape {
        KeyShape::Current => &spec()["components"],
        KeyShape::Earlier => earlier_components(),
    };
    validate_in(components, schema, instance)
}

fn validate_in(components: &Value, schema: &Value, instance: &Value) -> Result<(), String> {
    let root = serde_json::json!({
        "allOf": [schema],
        "components": components,
    });
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| format!("bad schema: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// The spec path template (without `?beta=true`) matching a concrete path.
pub fn template_for(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    spec()["paths"].as_object()?.keys().find_map(|k| {
        let t = k.trim_end_matches("?beta=true");
        let tsegs: Vec<&str> = t.split('/').collect();
        (tsegs.len() == segs.len()
            && tsegs
                .iter()
                .zip(&segs)
                .all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}'))))
        .then(|| t.to_owned())
    })
}

fn operation(template: &str, method: &str) -> Option<&'static Value> {
    let op = &spec()["paths"][format!("{template}?beta=true")][method.to_ascii_lowercase()];
    (!op.is_null()).then_some(op)
}

/// A response as the tests see it.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn error_type(&self) -> &str {
        self.body["error"]["type"].as_str().unwrap_or_default()
    }
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
    /// Asserts an error response: status, type and a message fragment.
    #[track_caller]
    pub fn assert_error(&self, status: u16, kind: &str, fragment: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.error_type(), kind, "body: {}", self.body);
        assert!(
            self.message().contains(fragment),
            "message {:?} lacks {fragment:?}",
            self.message()
        );
        assert_eq!(
            self.body["request_id"].as_str(),
            self.headers.get("request-id").and_then(|v| v.to_str().ok())
        );
    }
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "body: {}", self.body);
        &self.body
    }
}

pub struct Api {
    pub emu: Emulator,
    pub client: reqwest::Client,
    /// `METHOD template` of every operation exercised with a 200.
    pub covered: Arc<Mutex<BTreeSet<String>>>,
    /// The readings the emulator serves under (the oracle follows the key shape).
    pub readings: Readings,
}

impl Api {
    pub async fn start(config: EmulatorConfig) -> Self {
        let readings = config.readings;
        let emu = Emulator::start(config).await.expect("emulator starts");
        Self {
            emu,
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
            covered: Arc::default(),
            readings,
        }
    }

    pub async fn small() -> Self {
        Self::small_with(Readings::default()).await
    }

    /// The small seed served under `readings`.
    pub async fn small_with(readings: Readings) -> Self {
        Self::start(EmulatorConfig {
            seed: orgform_emulator::seeds::small(),
            test_controls: true,
            readings,
            ..EmulatorConfig::default()
        })
        .await
    }

    /// Sends an authenticated, versioned request and checks it against the spec.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let key = self.emu.admin_key().to_owned();
        self.raw(
            method,
            path,
            body,
            &[("x-api-key", key.as_str()), ("anthropic-version", VERSION)],
        )
        .await
    }

    /// [`Api::call`] with the admin key sent as `Authorization: Bearer`, standing in for an
    /// `org:admin` OAuth token (the only credential the identity endpoints accept).
    pub async fn bearer(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let auth = format!("Bearer {}", self.emu.admin_key());
        self.raw(
            method,
            path,
            body,
            &[
                ("authorization", auth.as_str()),
                ("anthropic-version", VERSION),
            ],
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.call("DELETE", path, None).await
    }

    /// Sends a request with exactly these headers, then checks conformance.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let url = format!("{}{path}", self.emu.base_url());
        let mut req = self.client.request(method.parse().expect("method"), &url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = &body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("non-JSON body {text:?} for {method} {path}: {e}"));
        let resp = Resp {
            status,
            headers,
            body: json,
        };
        self.check(method, path, body.as_ref(), &resp);
        resp
    }

    /// The conformance oracle.
    fn check(&self, method: &str, path_q: &str, body: Option<&Value>, resp: &Resp) {
        let path = path_q.split('?').next().unwrap_or_default();
        let request_id = resp
            .headers
            .get("request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            request_id.starts_with("req_01"),
            "request-id {request_id:?}"
        );
        assert!(resp.headers.get("anthropic-workspace-id").is_none());
        let date = resp
            .headers
            .get("date")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no date header on {method} {path_q}"));
        assert_eq!(
            date,
            self.emu
                .now()
                .strftime("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
            "date comes from the emulator clock"
        );
        if resp.status != 200 {
            let schema = serde_json::json!({"$ref": "#/components/schemas/BetaErrorResponse"});
            if !["conflict_error", "request_too_large", "invalid_grant"]
                .contains(&resp.error_type())
            {
                // Documented error types absent from the spec's error union (`invalid_grant`:
                // the token exchange under one reading).
                validate(&schema, &resp.body)
                    .unwrap_or_else(|e| panic!("error body {} invalid: {e}", resp.body));
            }
            assert_eq!(resp.body["request_id"].as_str(), Some(request_id));
            let keys: BTreeSet<&str> = resp
                .body
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, BTreeSet::from(["type", "error", "request_id"]));
            return;
        }
        if path.starts_with("/v1/compliance/") {
            // Not in the Admin OpenAPI subset: held to the documented envelope instead.
            validate(&activity_list_schema(), &resp.body).unwrap_or_else(|e| {
                panic!(
                    "{method} {path} response does not match the documented feed: {e}\n{}",
                    resp.body
                )
            });
            return;
        }
        if path == "/v1/oauth/token" {
            // Not in the Admin OpenAPI subset: held to the "WIF reference" response instead.
            let keys: BTreeSet<&str> = resp
                .body
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                BTreeSet::from(["access_token", "token_type", "expires_in", "scope"])
            );
            assert!(
                resp.body["access_token"]
                    .as_str()
                    .unwrap()
                    .starts_with("sk-ant-oat01-")
            );
            assert_eq!(resp.body["token_type"], "Bearer");
            assert!(resp.body["expires_in"].is_u64() && resp.body["scope"].is_string());
            assert!(resp.headers.get("anthropic-organization-id").is_none());
            return;
        }
        if !path.starts_with("/v1/") {
            return;
        }
        let template = template_for(path).unwrap_or_else(|| panic!("no spec path for {path}"));
        let op = operation(&template, method)
            .unwrap_or_else(|| panic!("no spec operation {method} {template}"));
        let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
        validate_under(&self.readings, schema, &resp.body).unwrap_or_else(|e| {
            panic!(
                "{method} {path} response does not match the spec: {e}\n{}",
                resp.body
            )
        });
        if let Some(b) = body {
            let req_schema = &op["requestBody"]["content"]["application/json"]["schema"];
            if !req_schema.is_null() {
                validate(req_schema, b).unwrap_or_else(|e| {
                    panic!("{method} {path} request body does not match the spec: {e}\n{b}")
                });
            }
        }
        assert!(resp.headers.get("anthropic-organization-id").is_some());
        self.covered
            .lock()
            .unwrap()
            .insert(format!("{method} {template}"));
    }
}

/// The Compliance API activity list as documented (`docs/reference/admin-api.md` section 14):
/// `{data: [Activity], has_more, first_id, last_id}`, each activity with `id` (`activity_...`),
/// `created_at` (RFC 3339), `organization_id` and `organization_uuid` (string or null), an
/// `actor` object with a `type`, and a `type`; type-specific fields beside them.
pub fn activity_list_schema() -> Value {
    let nullable_string = serde_json::json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
    serde_json::json!({
        "type": "object",
        "required": ["data", "has_more", "first_id", "last_id"],
        "additionalProperties": false,
        "properties": {
            "data": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "created_at", "organization_id", "organization_uuid", "actor", "type"],
                "properties": {
                    "id": {"type": "string", "pattern": "^activity_"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "organization_id": nullable_string,
                    "organization_uuid": nullable_string,
                    "actor": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}},
                    "type": {"type": "string"}
                }
            }},
            "has_more": {"type": "boolean"},
            "first_id": nullable_string,
            "last_id": nullable_string
        }
    })
}
