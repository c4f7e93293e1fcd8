//! Scheduling: waves of independent actions, bounded concurrency, skip-on-failed-dependency,
//! cancellation between actions.

use std::collections::BTreeMap;
use std::mem::discriminant;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures::StreamExt as _;
use orgform_plan::{Action, InvalidPlan, Op, Plan, WorkspaceRef};

use crate::backend::{Backend, Effect, Step};
use crate::report::{ActionOutcome, ApplyReport, Outcome};

/// Stops an apply between actions (Ctrl-C): nothing new starts, requests in flight finish.
/// It also knows which actions are in flight, for a caller that must exit before they end.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<CancelState>);

#[derive(Debug, Default)]
struct CancelState {
    cancelled: AtomicBool,
    in_flight: Mutex<BTreeMap<u32, String>>,
}

impl Cancel {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the apply to stop.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
    }

    /// Whether stopping was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// The actions started and not finished yet (id, target): if the process ends now, their
    /// outcome is unknown.
    pub fn in_flight(&self) -> Vec<(u32, String)> {
        self.lock()
            .iter()
            .map(|(id, target)| (*id, target.clone()))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u32, String>> {
        self.0
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// How to apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Actions run at once inside a wave (at least 1).
    pub concurrency: usize,
    /// Stops the apply between actions.
    pub cancel: Cancel,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            cancel: Cancel::new(),
        }
    }
}

/// Applies `plan` through `backend`, calling `progress` after each action finishes.
///
/// A plan whose actions cannot run as listed (a duplicate id, a dependency on a missing id
/// or on a later action, a dependency cycle) is refused before anything is executed: such
/// actions would otherwise be skipped without a failure, or hidden from the report.
///
/// A plan with errors or refusals is never applied: every action is reported as not
/// started (the CLI refuses before calling this; the check here keeps the library safe too).
pub async fn apply<B: Backend>(
    plan: &Plan,
    backend: &B,
    options: &ApplyOptions,
    progress: &(dyn Fn(&ActionOutcome) + Sync),
) -> Result<ApplyReport, InvalidPlan> {
    orgform_plan::check_actions(&plan.actions)?;
    let mut outcomes: BTreeMap<u32, ActionOutcome> = BTreeMap::new();
    let mut created: BTreeMap<String, String> = BTreeMap::new();
    let refused = plan.is_refused();
    let by_id: BTreeMap<u32, &Action> = plan.actions.iter().map(|a| (a.id, a)).collect();
    for wave in waves(&plan.actions) {
        let mut runnable = Vec::new();
        for action in wave {
            let blockers: Vec<u32> = action
                .depends_on
                .iter()
                .copied()
                .filter(|dep| outcomes.get(dep).is_none_or(|o| !o.outcome.is_success()))
                .collect();
            let outcome = if refused || options.cancel.is_cancelled() {
                Some(Outcome::NotStarted)
            } else if !blockers.is_empty() {
                Some(Outcome::Skipped { because: blockers })
            } else {
                None
            };
            match outcome {
                Some(outcome) => {
                    let done = ActionOutcome::new(action, outcome);
                    progress(&done);
                    outcomes.insert(action.id, done);
                }
                None => runnable.push(action),
            }
        }
        let created_ref = &created;
        let results: Vec<(u32, ActionOutcome)> =
            futures::stream::iter(runnable.into_iter().map(|action| async move {
                // Re-checked here: a wave's later actions wait for a free slot.
                if options.cancel.is_cancelled() {
                    return (action.id, ActionOutcome::new(action, Outcome::NotStarted));
                }
                let created_workspace_id = match &action.op {
                    Op::AddWorkspaceMember {
                        workspace: WorkspaceRef::Created { name },
                        ..
                    }
                    | Op::AddServiceAccountMember {
                        workspace: WorkspaceRef::Created { name },
                        ..
                    } => created_ref.get(name).map(String::as_str),
                    _ => None,
                };
                let step = Step {
                    op: &action.op,
                    created_workspace_id,
                };
                options
                    .cancel
                    .lock()
                    .insert(action.id, action.target.clone());
                let result = backend.execute(step).await;
                options.cancel.lock().remove(&action.id);
                let outcome = match result {
                    Ok(Effect::Applied {
                        request_id,
                        created_id,
                    }) => Outcome::Done {
                        request_id,
                        created_id,
                    },
                    Ok(Effect::AlreadyDone { note, existing_id }) => {
                        Outcome::AlreadyDone { note, existing_id }
                    }
                    Err(err) => Outcome::Failed {
                        error: err.message,
                        request_id: err.request_id,
                    },
                };
                let done = ActionOutcome::new(action, outcome);
                progress(&done);
                (action.id, done)
            }))
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await;
        for (id, outcome) in results {
            if let (Some(Op::CreateWorkspace { name, .. }), Some(ws_id)) =
                (by_id.get(&id).map(|a| &a.op), outcome.outcome.object_id())
            {
                created.insert(name.clone(), ws_id.to_owned());
            }
            outcomes.insert(id, outcome);
        }
    }
    Ok(ApplyReport::new(
        plan,
        outcomes.into_values().collect(),
        options.cancel.is_cancelled(),
    ))
}

/// Splits actions into waves: consecutive actions of one kind, none depending on another
/// action of the same wave.
fn waves(actions: &[Action]) -> Vec<Vec<&Action>> {
    let mut waves: Vec<Vec<&Action>> = Vec::new();
    for action in actions {
        let joins = waves.last().is_some_and(|wave| {
            discriminant(&wave[0].op) == discriminant(&action.op)
                && !wave
                    .iter()
                    .any(|other| action.depends_on.contains(&other.id))
        });
        if joins {
            waves.last_mut().expect("checked above").push(action);
        } else {
            waves.push(vec![action]);
        }
    }
    waves
}
