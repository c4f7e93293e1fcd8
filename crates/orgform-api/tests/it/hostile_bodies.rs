//! Arbitrary bytes and mutated JSON into every response decoder ([`orgform_api::decode_body`]):
//! each returns a value, a decode error or an inconsistent-read error naming the request, and
//! never panics.

use orgform_api::{ApiError, Body, decode_body};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A well-formed body of each kind.
fn valid(body: Body) -> Value {
    let user = json!({"id": "user_01", "type": "user", "email": "a@b.example", "name": "A",
        "role": "developer", "added_at": "2025-01-01T00:00:00Z"});
    let invite = json!({"id": "invite_01", "type": "invite", "email": "b@b.example",
        "role": "user", "status": "pending", "invited_at": "2025-01-01T00:00:00Z",
        "expires_at": "2025-01-22T00:00:00Z"});
    let workspace = json!({"id": "wrkspc_01", "type": "workspace", "name": "research",
        "created_at": "2025-01-01T00:00:00Z", "archived_at": null, "display_color": "#6C5BB9",
        "data_residency": {"workspace_geo": "us", "allowed_inference_geos": "unrestricted",
            "default_inference_geo": "global"},
        "tags": {"team": "ml", "gone": null}});
    let member = json!({"type": "workspace_member", "workspace_id": "wrkspc_01",
        "user_id": "user_01", "workspace_role": "workspace_developer"});
    let key = json!({"id": "apikey_01", "type": "api_key", "name": "ci",
        "created_at": "2025-01-01T00:00:00Z", "created_by": {"id": "user_01", "type": "user"},
        "partial_key_hint": "sk-ant-api03-abc...xyz", "status": "active",
        "expires_at": null, "workspace_id": "wrkspc_01"});
    let page = |item: Value| json!({"data": [item.clone(), item], "has_more": false, "first_id": "x", "last_id": "y"});
    match body {
        Body::Organization => json!({"id": "6f0c2a4e-0000-4000-8000-000000000001",
            "type": "organization", "name": "Acme"}),
        Body::User => user,
        Body::Invite => invite,
        Body::Workspace => workspace,
        Body::WorkspaceMember => member,
        Body::ApiKey => key,
        Body::UserPage => page(user),
        Body::InvitePage => page(invite),
        Body::WorkspacePage => page(workspace),
        Body::WorkspaceMemberPage => page(member),
        Body::ApiKeyPage => page(key),
        Body::Error => json!({"type": "error", "error": {"type": "not_found_error",
            "message": "nope"}, "request_id": "req_01"}),
    }
}

/// Decodes and checks that a failure is reported as a decode error naming the body.
fn decode(body: Body, bytes: &[u8]) -> Result<usize, String> {
    decode_body(body, bytes).map_err(|err| {
        assert!(
            matches!(
                err,
                ApiError::Decode { .. } | ApiError::InconsistentRead { .. }
            ),
            "{body:?}: not a decode error: {err}"
        );
        let text = err.to_string();
        assert!(text.contains(&format!("{body:?}")), "{text}");
        text
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String("2025-01-01T00:00:00Z".into())),
        Just(Value::String("galactic_overlord".into())),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn every_valid_body_decodes() {
    for body in Body::ALL {
        let bytes = serde_json::to_vec(&valid(body)).unwrap();
        let n = decode(body, &bytes).unwrap_or_else(|e| panic!("{body:?}: {e}"));
        assert!(n >= 1, "{body:?}");
    }
}

#[test]
fn unknown_enum_values_are_kept_not_refused() {
    let mut user = valid(Body::User);
    user["role"] = json!("galactic_overlord");
    assert_eq!(
        decode(Body::User, &serde_json::to_vec(&user).unwrap()).unwrap(),
        1
    );
    let mut key = valid(Body::ApiKey);
    key["status"] = json!("quarantined");
    assert_eq!(
        decode(Body::ApiKey, &serde_json::to_vec(&key).unwrap()).unwrap(),
        1
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for body in Body::ALL {
            let _ = decode(body, &bytes);
        }
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        for body in Body::ALL {
            let _ = decode(body, &bytes);
        }
    }

    #[test]
    fn a_valid_body_with_one_field_replaced_never_panics(
        kind in proptest::sample::select(Body::ALL.to_vec()),
        field in any::<prop::sample::Index>(),
        replacement in json_value(),
    ) {
        let mut value = valid(kind);
        let target = match value.get_mut("data") {
            Some(Value::Array(items)) => &mut items[0],
            _ => &mut value,
        };
        if let Value::Object(map) = target {
            let key = field.get(&map.keys().cloned().collect::<Vec<_>>()).clone();
            map.insert(key, replacement);
        }
        let _ = decode(kind, &serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn a_valid_body_cut_anywhere_is_a_decode_error(
        kind in proptest::sample::select(Body::ALL.to_vec()),
        at in any::<prop::sample::Index>(),
    ) {
        let bytes = serde_json::to_vec(&valid(kind)).unwrap();
        let cut = at.index(bytes.len());
        prop_assert!(decode(kind, &bytes[..cut]).is_err());
    }
}
