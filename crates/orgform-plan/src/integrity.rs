//! What makes a list of actions safe to hand to the executor: a canonical digest (recorded in
//! the plan file as `actions_digest`, so an edit to the actions that forgets the digest is
//! caught on reading), and a structural check (unique ids, every dependency present and
//! earlier in the order, no cycle), so that nothing can be skipped silently or hidden from the
//! report.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::types::Action;

/// `sha256:<hex>` of the actions' canonical JSON: compact, object keys sorted at every level,
/// so the same actions give the same digest whatever the file's layout or key order.
pub fn actions_digest(actions: &[Action]) -> String {
    let mut value = serde_json::to_value(actions).unwrap_or(Value::Null);
    // Each action's top-level `kind` repeats `op.kind` for readers: it is left out, so the
    // digest is the same as before it was written.
    if let Value::Array(items) = &mut value {
        for item in items {
            if let Value::Object(map) = item {
                map.remove("kind");
            }
        }
    }
    let canonical = serde_json::to_string(&sorted(value)).unwrap_or_default();
    orgform_model::sha256_hex(canonical.as_bytes())
}

/// `value` with every object's keys in sorted order.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let entries: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(entries.into_iter().collect::<Map<String, Value>>())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Why a list of actions cannot be executed as it stands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPlan {
    /// Two actions share an id: one of them would be hidden from the report.
    #[error("action id #{id} appears more than once")]
    DuplicateId {
        /// The repeated id.
        id: u32,
    },
    /// An action depends on an id that no action has: it could never run.
    #[error("action #{id} depends on #{missing}, which is not in the plan")]
    MissingDependency {
        /// The dependent action.
        id: u32,
        /// The id it names.
        missing: u32,
    },
    /// Actions depend on each other in a circle: none of them could ever run.
    #[error("actions depend on each other in a cycle: {}", cycle_text(.ids))]
    DependencyCycle {
        /// The ids around the cycle, in dependency order.
        ids: Vec<u32>,
    },
    /// An action depends on one that comes later in the order: it would run first.
    #[error("action #{id} depends on #{later}, which comes after it in the plan")]
    LaterDependency {
        /// The dependent action.
        id: u32,
        /// The later action it names.
        later: u32,
    },
}

fn cycle_text(ids: &[u32]) -> String {
    let mut parts: Vec<String> = ids.iter().map(|id| format!("#{id}")).collect();
    if let Some(first) = parts.first().cloned() {
        parts.push(first);
    }
    parts.join(" -> ")
}

/// Checks that every action can run in the given order: ids are unique, every dependency is
/// an action of the list, there is no cycle, and every dependency comes before its dependent.
pub fn check_actions(actions: &[Action]) -> Result<(), InvalidPlan> {
    let mut index: BTreeMap<u32, usize> = BTreeMap::new();
    for (position, action) in actions.iter().enumerate() {
        if index.insert(action.id, position).is_some() {
            return Err(InvalidPlan::DuplicateId { id: action.id });
        }
    }
    let mut deps: Vec<BTreeSet<usize>> = Vec::with_capacity(actions.len());
    for action in actions {
        let mut mine = BTreeSet::new();
        for dep in &action.depends_on {
            let Some(&at) = index.get(dep) else {
                return Err(InvalidPlan::MissingDependency {
                    id: action.id,
                    missing: *dep,
                });
            };
            mine.insert(at);
        }
        deps.push(mine);
    }
    if let Some(cycle) = find_cycle(&deps) {
        return Err(InvalidPlan::DependencyCycle {
            ids: cycle.into_iter().map(|i| actions[i].id).collect(),
        });
    }
    for (position, action) in actions.iter().enumerate() {
        if let Some(&later) = deps[position].iter().find(|&&at| at >= position) {
            return Err(InvalidPlan::LaterDependency {
                id: action.id,
                later: actions[later].id,
            });
        }
    }
    Ok(())
}

/// A cycle of the dependency graph (`deps[i]`: the positions `i` depends on), if there is
/// one: peel off actions whose dependencies are all peeled (Kahn); every action left has a
/// dependency left, so walking dependencies from one of them must come back on itself.
fn find_cycle(deps: &[BTreeSet<usize>]) -> Option<Vec<usize>> {
    let mut waiting: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); deps.len()];
    for (i, mine) in deps.iter().enumerate() {
        for &d in mine {
            dependents[d].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..deps.len()).filter(|&i| waiting[i] == 0).collect();
    let mut peeled = vec![false; deps.len()];
    while let Some(i) = ready.pop() {
        peeled[i] = true;
        for &j in &dependents[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push(j);
            }
        }
    }
    let start = peeled.iter().position(|p| !p)?;
    let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
    let mut path = Vec::new();
    let mut at = start;
    loop {
        if let Some(&from) = seen.get(&at) {
            return Some(path.split_off(from));
        }
        seen.insert(at, path.len());
        path.push(at);
        at = *deps[at].iter().find(|&&d| !peeled[d])?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Op;

    fn action(id: u32, depends_on: Vec<u32>) -> Action {
        Action {
            id,
            op: Op::RemoveUser {
                user_id: format!("user_{id}"),
                email: format!("u{id}@acme.example"),
            },
            target: format!("member u{id}@acme.example"),
            changes: vec![],
            destructive: true,
            irreversible: false,
            depends_on,
            consequences: vec![],
            source: None,
        }
    }

    #[test]
    fn a_well_formed_list_passes() {
        let actions = vec![action(1, vec![]), action(2, vec![1]), action(3, vec![1, 2])];
        assert_eq!(check_actions(&actions), Ok(()));
        assert_eq!(check_actions(&[]), Ok(()));
    }

    #[test]
    fn duplicates_missing_cycles_and_later_dependencies_are_named() {
        assert_eq!(
            check_actions(&[action(1, vec![]), action(1, vec![])]),
            Err(InvalidPlan::DuplicateId { id: 1 })
        );
        assert_eq!(
            check_actions(&[action(1, vec![]), action(2, vec![9])]),
            Err(InvalidPlan::MissingDependency { id: 2, missing: 9 })
        );
        let cycle = check_actions(&[
            action(1, vec![]),
            action(2, vec![4]),
            action(3, vec![2]),
            action(4, vec![3]),
        ]);
        assert_eq!(
            cycle,
            Err(InvalidPlan::DependencyCycle { ids: vec![2, 4, 3] })
        );
        assert_eq!(
            cycle.unwrap_err().to_string(),
            "actions depend on each other in a cycle: #2 -> #4 -> #3 -> #2"
        );
        assert_eq!(
            check_actions(&[action(1, vec![1])]),
            Err(InvalidPlan::DependencyCycle { ids: vec![1] })
        );
        assert_eq!(
            check_actions(&[action(1, vec![2]), action(2, vec![])]),
            Err(InvalidPlan::LaterDependency { id: 1, later: 2 })
        );
    }

    #[test]
    fn the_digest_ignores_layout_and_key_order_but_not_content() {
        let mut actions = vec![action(1, vec![]), action(2, vec![1])];
        actions[0].changes.push(crate::FieldChange {
            field: "tags".into(),
            before: None,
            after: Some(serde_json::json!({"team": "ml", "cost": "x"})),
        });
        let digest = actions_digest(&actions);
        assert!(digest.starts_with("sha256:"));
        let json = serde_json::to_string_pretty(&actions).unwrap();
        let reordered = json.replace(
            "\"team\": \"ml\",\n          \"cost\": \"x\"",
            "\"cost\": \"x\",\n          \"team\": \"ml\"",
        );
        assert_ne!(json, reordered, "the test reorders keys");
        let back: Vec<Action> = serde_json::from_str(&reordered).unwrap();
        assert_eq!(actions_digest(&back), digest);
        let compact: Vec<Action> =
            serde_json::from_str(&serde_json::to_string(&actions).unwrap()).unwrap();
        assert_eq!(actions_digest(&compact), digest);
        let mut flipped = actions.clone();
        flipped[1].destructive = false;
        assert_ne!(actions_digest(&flipped), digest);
        let mut retargeted = actions;
        retargeted[0].target.push('!');
        assert_ne!(actions_digest(&retargeted), digest);
    }
}
