//! How a saved plan differs from the plan made now from the same manifest and a fresh read:
//! what `apply PLANFILE` shows when it refuses to run a plan file whose actions (or blocked
//! items) are not exactly the ones it would run.

use std::collections::BTreeMap;

use crate::render::clean;
use crate::types::{Action, Blocked, Plan};

/// Longest description of one action in a difference, in characters.
const DESCRIPTION_LIMIT: usize = 240;

/// Every difference between `saved` and `now` that matters for running it: actions (only in
/// one of them, or different), blocked items, and refusals or plan errors the saved plan
/// records. Each entry is one line, or three for a changed action; empty when the saved plan
/// is the plan made now.
///
/// Actions are paired by op kind and target (in order), so an edited field shows as a change
/// of that action and an action added or dropped by a live change does not make every later
/// action look different; actions that differ only in their ids or in dependencies on
/// renumbered ids are counted on one last line.
pub fn differences(saved: &Plan, now: &Plan) -> Vec<String> {
    // Where the manifest asks for an item is not compared: the manifest digest already
    // decides whether the manifest is the same, and the same bytes read through another path
    // (`-f ./org.yaml`, another working directory) name their files differently.
    let saved = &without_sources(saved);
    let now = &without_sources(now);
    let mut out = Vec::new();
    let mut theirs: BTreeMap<(&str, &str), Vec<&Action>> = BTreeMap::new();
    for action in now.actions.iter().rev() {
        theirs
            .entry((action.op.name(), action.target.as_str()))
            .or_default()
            .push(action);
    }
    let pairs: Vec<(&Action, Option<&Action>)> = saved
        .actions
        .iter()
        .map(|a| {
            let b = theirs
                .get_mut(&(a.op.name(), a.target.as_str()))
                .and_then(Vec::pop);
            (a, b)
        })
        .collect();
    let new_id: BTreeMap<u32, u32> = pairs
        .iter()
        .filter_map(|(a, b)| b.map(|b| (a.id, b.id)))
        .collect();
    let mut renumbered = 0;
    for (a, paired) in pairs {
        let Some(b) = paired else {
            out.push(format!(
                "- #{} only in the saved plan: {}",
                a.id,
                describe(a)
            ));
            continue;
        };
        if a == b {
            continue;
        }
        let mapped: Vec<u32> = a
            .depends_on
            .iter()
            .map(|d| new_id.get(d).copied().unwrap_or(u32::MAX))
            .collect();
        let parts: Vec<&str> = differing_parts(a, b)
            .into_iter()
            .filter(|p| *p != "id" && (*p != "depends_on" || mapped != b.depends_on))
            .collect();
        if parts.is_empty() {
            renumbered += 1;
            continue;
        }
        let ids = if a.id == b.id {
            format!("#{}", a.id)
        } else {
            format!("#{} (now #{})", a.id, b.id)
        };
        out.push(format!(
            "~ {ids} differs in {}:\n      saved: {}\n      now:   {}",
            parts.join(", "),
            describe(a),
            describe(b)
        ));
    }
    let mut added: Vec<&Action> = theirs.into_values().flatten().collect();
    added.sort_by_key(|b| b.id);
    for b in added {
        out.push(format!(
            "+ #{} only in a plan made now: {}",
            b.id,
            describe(b)
        ));
    }
    for blocked in only_in(&saved.blocked, &now.blocked) {
        out.push(format!(
            "- blocked item only in the saved plan: {}",
            blocked_line(blocked)
        ));
    }
    for blocked in only_in(&now.blocked, &saved.blocked) {
        out.push(format!(
            "+ blocked item only in a plan made now: {}",
            blocked_line(blocked)
        ));
    }
    if !saved.refusals.is_empty() || !saved.errors.is_empty() {
        out.push(format!(
            "- the saved plan records {} refusal(s) and {} plan error(s): it was never meant to be applied",
            saved.refusals.len(),
            saved.errors.len()
        ));
    }
    if renumbered > 0 {
        out.push(format!(
            "~ {renumbered} action(s) differ only in their ids or dependencies (renumbered)"
        ));
    }
    out
}

/// `plan` with every action's and blocked item's `source` left out.
fn without_sources(plan: &Plan) -> Plan {
    let mut plan = plan.clone();
    for action in &mut plan.actions {
        action.source = None;
    }
    for blocked in &mut plan.blocked {
        blocked.source = None;
    }
    plan
}

/// The items of `mine` that `other` does not have (as many times as they are missing).
fn only_in<'a>(mine: &'a [Blocked], other: &[Blocked]) -> Vec<&'a Blocked> {
    let mut left: Vec<&Blocked> = other.iter().collect();
    mine.iter()
        .filter(|item| {
            if let Some(at) = left.iter().position(|o| o == item) {
                left.swap_remove(at);
                false
            } else {
                true
            }
        })
        .collect()
}

fn blocked_line(blocked: &Blocked) -> String {
    bounded(&format!(
        "{}: {}",
        clean(&blocked.target),
        clean(&blocked.reason)
    ))
}

/// The parts of two actions with the same id that differ, e.g. `op kind, destructive`.
fn differing_parts(a: &Action, b: &Action) -> Vec<&'static str> {
    let mut parts = Vec::new();
    if a.id != b.id {
        parts.push("id");
    }
    if a.op.name() != b.op.name() {
        parts.push("op kind");
    } else if a.op != b.op {
        parts.push("op fields");
    }
    if a.target != b.target {
        parts.push("target");
    }
    if a.destructive != b.destructive {
        parts.push("destructive");
    }
    if a.irreversible != b.irreversible {
        parts.push("irreversible");
    }
    if a.depends_on != b.depends_on {
        parts.push("depends_on");
    }
    if a.changes != b.changes {
        parts.push("changes");
    }
    if a.consequences != b.consequences {
        parts.push("consequences");
    }
    parts
}

/// One action on one line: op kind, its fields as JSON (which escapes control characters),
/// the target, flags and dependencies; cut at [`DESCRIPTION_LIMIT`] characters.
fn describe(action: &Action) -> String {
    let mut fields = serde_json::to_value(&action.op).unwrap_or_default();
    if let Some(map) = fields.as_object_mut() {
        map.shift_remove("kind");
    }
    let mut text = format!(
        "{} {} {}",
        action.op.name(),
        serde_json::to_string(&fields).unwrap_or_default(),
        serde_json::to_string(&action.target).unwrap_or_default()
    );
    if action.destructive {
        text.push_str(" destructive");
    }
    if action.irreversible {
        text.push_str(" irreversible");
    }
    if !action.depends_on.is_empty() {
        let deps: Vec<String> = action.depends_on.iter().map(|d| format!("#{d}")).collect();
        text.push_str(" after ");
        text.push_str(&deps.join(","));
    }
    bounded(&text)
}

fn bounded(text: &str) -> String {
    if text.chars().count() <= DESCRIPTION_LIMIT {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(DESCRIPTION_LIMIT - 1).collect();
    cut.push('…');
    cut
}
