//! The planner: a pure, deterministic function from (manifest, snapshot) to an ordered plan.
