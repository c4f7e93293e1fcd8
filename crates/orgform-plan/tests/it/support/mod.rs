//! Helpers shared by several test modules.

pub mod conformance;
pub mod inputs;
