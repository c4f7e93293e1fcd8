//! The executor: runs a plan's actions in order against the Admin API and reports every
//! outcome.
//!
//! The planner made every choice; the executor makes none. It runs the actions in the plan's
//! order, in *waves*: consecutive actions of the same kind with no dependency among them run
//! concurrently (bounded), and a wave starts only when the previous one has finished, so
//! nothing ever runs before what it depends on. It keeps going past a failure: only the
//! actions that depend (directly or through others) on a failed action are skipped, and every
//! error is returned with its request id.
//!
//! Idempotency: each step tolerates its effect being there already (a re-run after an
//! interruption, a write whose response was lost): the backend checks, through the list
//! endpoints, and reports `AlreadyDone` instead of doing the work twice.
//!
//! Interruption: [`Cancel`] stops new actions from starting; requests in flight finish; the
//! report says which actions were done and which were not started. The next run re-plans from
//! the live state and converges.

mod backend;
mod client_backend;
mod executor;
mod federation_backend;
mod report;

pub use backend::{Backend, Effect, Step, StepError};
pub use executor::{ApplyOptions, Cancel, apply};
pub use report::{ActionOutcome, ApplyReport, Outcome, ReportSummary};
