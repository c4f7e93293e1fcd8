//! The orgform manifest (version 1): the desired state of one organization.
//!
//! [`types`] holds the merged, validated manifest that the planner consumes. Loading (one
//! file or a directory of fragments, with file/line/column kept for every value) and
//! validation (every problem reported at once) turn YAML into those types.

pub mod types;

pub use types::*;
