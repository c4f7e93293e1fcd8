//! The executor: runs a plan's actions in order, idempotently, and reports every outcome.
