//! Arbitrary and mutated JSON into the saved-plan reader (`Plan::from_json`): it returns a
//! plan or an error and never panics, and a plan it accepts renders in every format without
//! panicking either.

use orgform_plan::{Plan, render};
use proptest::prelude::*;
use serde_json::Value;

use crate::support::inputs::every_op_plan;

/// The JSON of a plan that holds every operation.
fn every_op_json() -> String {
    render::json(&every_op_plan())
}

/// Reads `text` as a plan file; an accepted plan is rendered in every format.
fn read(text: &str) -> Option<Plan> {
    let plan = Plan::from_json(text).ok()?;
    let _ = render::text(&plan, false);
    let _ = render::markdown(&plan);
    let _ = render::json(&plan);
    Some(plan)
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String("remove_user".into())),
        Just(Value::from(u64::MAX)),
        Just(Value::from(-1)),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    ".{0,8}",
                    Just("op".to_owned()),
                    Just("kind".to_owned()),
                    Just("id".to_owned()),
                    Just("depends_on".to_owned()),
                    Just("format_version".to_owned()),
                ],
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every (path to a node) in `value`, as a list of object keys or array indices.
fn paths(value: &Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(here.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                here.push(k.clone());
                paths(v, here, out);
                here.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                here.push(i.to_string());
                paths(v, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(value, |v, step| match v {
        Value::Object(map) => map.get_mut(step).unwrap(),
        Value::Array(items) => &mut items[step.parse::<usize>().unwrap()],
        _ => unreachable!(),
    })
}

#[test]
fn the_unmutated_plan_is_read_back() {
    let text = every_op_json();
    let plan = read(&text).expect("a plan this version wrote is readable");
    assert!(!plan.actions.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let _ = read(&value.to_string());
        let mut with_version = serde_json::json!({"format_version": orgform_plan::FORMAT_VERSION});
        with_version["actions"] = value;
        let _ = read(&with_version.to_string());
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,256}") {
        let _ = read(&text);
    }

    #[test]
    fn a_saved_plan_with_one_node_replaced_never_panics(
        pick in any::<prop::sample::Index>(),
        replacement in json_value(),
    ) {
        let text = every_op_json();
        let mut value: Value = serde_json::from_str(&text).unwrap();
        let mut all = Vec::new();
        paths(&value, &mut Vec::new(), &mut all);
        let path = pick.get(&all).clone();
        *node_mut(&mut value, &path) = replacement;
        let _ = read(&value.to_string());
    }

    #[test]
    fn a_saved_plan_cut_anywhere_never_panics(at in any::<prop::sample::Index>()) {
        let text = every_op_json();
        let cut = at.index(text.len());
        let _ = read(text.get(..cut).unwrap_or(""));
    }
}
