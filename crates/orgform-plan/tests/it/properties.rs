//! Property tests over generated manifests and live organizations.
//!
//! - a converged organization (a manifest exported from the live state) plans nothing;
//! - no action comes before an action it depends on;
//! - destructive actions appear only when the manifest or its settings ask for them, and
//!   never against protected emails;
//! - planning is deterministic (also across reorderings of the live lists), the JSON plan
//!   reads back to the same plan, plan errors leave no actions, Markdown stays bounded;
//! - the same for service accounts, their grants and federation (see [`identities`]).

mod convergence;
mod generators;
mod identities;
mod identity_generators;
mod identity_model;
mod safety;
