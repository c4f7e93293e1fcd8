//! What the executor needs from the API: one call that carries out one resolved step.

use std::future::Future;

use orgform_plan::Op;

/// One action, ready to run: the plan's operation plus what became known while applying
/// (the id of a workspace created earlier in the same run).
#[derive(Clone, Debug)]
pub struct Step<'a> {
    /// The operation.
    pub op: &'a Op,
    /// For an operation on a workspace created by an earlier action: that workspace's id.
    pub created_workspace_id: Option<&'a str>,
}

/// What a step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// The write was made.
    Applied {
        /// The request id of the write, for support.
        request_id: Option<String>,
        /// The id of the object created, if the step created one.
        created_id: Option<String>,
    },
    /// The effect was already there; nothing was written.
    AlreadyDone {
        /// Why the step counts as done.
        note: String,
        /// The id of the object found, if the step would have created one.
        existing_id: Option<String>,
    },
}

/// A failed step.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    /// What went wrong, including the API's error type and message.
    pub message: String,
    /// The failing request's id, to quote to support.
    pub request_id: Option<String>,
}

/// Carries out steps. Implemented for the Admin API client, and by fakes in tests.
pub trait Backend: Sync {
    /// Runs one step; must tolerate the effect already being there.
    fn execute(&self, step: Step<'_>) -> impl Future<Output = Result<Effect, StepError>> + Send;
}
