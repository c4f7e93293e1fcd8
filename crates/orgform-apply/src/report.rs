//! The apply report: every action's outcome, plus the plan's deferred and blocked items.

use orgform_plan::render::clean;
use orgform_plan::{Action, Plan};
use serde::{Deserialize, Serialize};

/// What happened to one action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The write was made.
    Done {
        /// Request id of the write.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        /// Id of the object created.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        created_id: Option<String>,
    },
    /// The effect was already there.
    AlreadyDone {
        /// Why.
        note: String,
        /// Id of the object found.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        existing_id: Option<String>,
    },
    /// The API refused or could not be reached.
    Failed {
        /// What went wrong.
        error: String,
        /// Request id to quote to support.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
    /// Not attempted because an action it depends on did not succeed.
    Skipped {
        /// The actions that did not succeed.
        because: Vec<u32>,
    },
    /// Not attempted because the apply was interrupted (or the plan was refused).
    NotStarted,
}

impl Outcome {
    /// Done or already done.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Done { .. } | Self::AlreadyDone { .. })
    }

    /// The id of the object created or found, if any.
    pub fn object_id(&self) -> Option<&str> {
        match self {
            Self::Done { created_id, .. } => created_id.as_deref(),
            Self::AlreadyDone { existing_id, .. } => existing_id.as_deref(),
            _ => None,
        }
    }
}

/// One action and its outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionOutcome {
    /// The action's id in the plan.
    pub id: u32,
    /// The operation's kind (`create_invite`, ...).
    pub kind: String,
    /// The action's human label.
    pub target: String,
    /// Whether the action was destructive.
    pub destructive: bool,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl ActionOutcome {
    /// Pairs an action with its outcome.
    pub fn new(action: &Action, outcome: Outcome) -> Self {
        let kind = action.op.name().to_owned();
        Self {
            id: action.id,
            kind,
            target: action.target.clone(),
            destructive: action.destructive,
            outcome,
        }
    }
}

/// Counts of outcomes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    /// Writes made.
    pub done: usize,
    /// Effects found already there.
    pub already_done: usize,
    /// Failed actions.
    pub failed: usize,
    /// Actions skipped because of a failed dependency.
    pub skipped: usize,
    /// Actions not started (interrupted).
    pub not_started: usize,
    /// Deferred items of the plan (not executed by design).
    pub deferred: usize,
    /// Blocked items of the plan (the API cannot make them).
    pub blocked: usize,
}

/// The result of an apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// Layout version of the JSON report.
    pub format_version: u32,
    /// Every action of the plan, in plan order.
    pub actions: Vec<ActionOutcome>,
    /// Whether the apply was interrupted.
    pub interrupted: bool,
    /// Deferred items, copied from the plan.
    pub deferred: Vec<serde_json::Value>,
    /// Blocked items, copied from the plan.
    pub blocked: Vec<serde_json::Value>,
    /// Counts.
    pub summary: ReportSummary,
}

impl ApplyReport {
    /// Builds the report of `plan` from its outcomes.
    pub fn new(plan: &Plan, actions: Vec<ActionOutcome>, interrupted: bool) -> Self {
        let deferred: Vec<serde_json::Value> = plan
            .deferred
            .iter()
            .filter_map(|d| serde_json::to_value(d).ok())
            .collect();
        let blocked: Vec<serde_json::Value> = plan
            .blocked
            .iter()
            .filter_map(|b| serde_json::to_value(b).ok())
            .collect();
        let mut summary = ReportSummary {
            deferred: deferred.len(),
            blocked: blocked.len(),
            ..ReportSummary::default()
        };
        for action in &actions {
            match action.outcome {
                Outcome::Done { .. } => summary.done += 1,
                Outcome::AlreadyDone { .. } => summary.already_done += 1,
                Outcome::Failed { .. } => summary.failed += 1,
                Outcome::Skipped { .. } => summary.skipped += 1,
                Outcome::NotStarted => summary.not_started += 1,
            }
        }
        Self {
            format_version: 1,
            actions,
            interrupted,
            deferred,
            blocked,
            summary,
        }
    }

    /// Whether any action failed.
    pub fn has_failures(&self) -> bool {
        self.summary.failed > 0
    }

    /// The report as pretty JSON (control characters in names and messages escaped).
    pub fn to_json(&self) -> String {
        orgform_plan::render::json_pretty(self)
    }

    /// The report as text: one line per action that was not simply done, then a summary.
    /// Names, notes, errors and request ids come from the manifest or the API: their control
    /// characters are escaped.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for action in &self.actions {
            let line = match &action.outcome {
                Outcome::Done { request_id, .. } => {
                    format!(
                        "  done      #{} {}{}",
                        action.id,
                        clean(&action.target),
                        rid(request_id.as_ref())
                    )
                }
                Outcome::AlreadyDone { note, .. } => {
                    format!(
                        "  unchanged #{} {} ({})",
                        action.id,
                        clean(&action.target),
                        clean(note)
                    )
                }
                Outcome::Failed { error, request_id } => format!(
                    "  FAILED    #{} {}: {}{}",
                    action.id,
                    clean(&action.target),
                    clean(error),
                    rid(request_id.as_ref())
                ),
                Outcome::Skipped { because } => {
                    let because: Vec<String> = because.iter().map(|b| format!("#{b}")).collect();
                    format!(
                        "  skipped   #{} {} (depends on {}, which did not succeed)",
                        action.id,
                        clean(&action.target),
                        because.join(", ")
                    )
                }
                Outcome::NotStarted => {
                    format!("  not done  #{} {}", action.id, clean(&action.target))
                }
            };
            let _ = writeln!(out, "{line}");
        }
        if self.interrupted {
            let _ = writeln!(
                out,
                "\nInterrupted: actions marked \"not done\" were not started. Run apply again to converge."
            );
        }
        let s = &self.summary;
        let _ = writeln!(
            out,
            "\nApply: {} done, {} already done, {} failed, {} skipped, {} not started. {} deferred, {} blocked.",
            s.done, s.already_done, s.failed, s.skipped, s.not_started, s.deferred, s.blocked
        );
        out
    }
}

fn rid(request_id: Option<&String>) -> String {
    request_id.map_or_else(String::new, |r| format!(" [request-id {}]", clean(r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\r\u{85}";

    fn outcome(outcome: Outcome) -> ActionOutcome {
        ActionOutcome {
            id: 1,
            kind: "remove_user".to_owned(),
            target: format!("member x{HOSTILE}@acme.example"),
            destructive: true,
            outcome,
        }
    }

    #[test]
    fn text_and_json_escape_names_errors_notes_and_request_ids() {
        let report = ApplyReport {
            format_version: 1,
            actions: vec![
                outcome(Outcome::Failed {
                    error: format!("http 400: bad{HOSTILE}\nFAILED fake line"),
                    request_id: Some(format!("req{HOSTILE}")),
                }),
                outcome(Outcome::AlreadyDone {
                    note: format!("gone{HOSTILE}"),
                    existing_id: None,
                }),
                outcome(Outcome::Done {
                    request_id: Some(format!("req{HOSTILE}")),
                    created_id: None,
                }),
                outcome(Outcome::Skipped { because: vec![1] }),
                outcome(Outcome::NotStarted),
            ],
            interrupted: true,
            deferred: Vec::new(),
            blocked: Vec::new(),
            summary: ReportSummary::default(),
        };
        for text in [report.to_text(), report.to_json()] {
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{}",
                text.escape_debug()
            );
            assert!(text.contains("pwned"), "{text}");
        }
        let text = report.to_text();
        assert!(
            !text.lines().any(|line| line.starts_with("FAILED fake")),
            "an error message cannot start a line of its own: {text}"
        );
        let back: ApplyReport = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(
            back, report,
            "the JSON escapes read back as the same strings"
        );
    }
}
