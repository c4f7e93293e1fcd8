//! The integration tests of `orgform-plan`, linked as one binary: each module holds the tests of
//! one concern. Run one module with `cargo test -p orgform-plan --test it <module>::`.

mod expiry;
mod federation;
mod hostile_plan_files;
mod json_format;
mod properties;
mod provenance;
mod readings;
mod rules;
mod scenarios;
mod staged;
mod support;
