//! The integration tests of `orgform`, linked as one binary: each module holds the tests of
//! one concern. Run one module with `cargo test -p orgform --test it <module>::`.

mod audit;
mod catalogue;
mod ci_output;
mod cli;
mod common;
mod demo;
mod dockerfile;
mod docs_runnable;
mod doctor;
mod drift;
mod expiry;
mod export_escaping;
mod export_roundtrip;
mod help;
mod hostile_api;
mod hostile_manifests;
mod identity;
mod input_files;
mod interrupt_twice;
mod manifest_files;
mod out_files;
mod provenance;
mod read_integrity;
mod readings;
mod readme;
mod recipes;
mod recipes_gitlab;
mod rehearsal;
mod saved_plan;
mod signals;
mod staged;
mod stdout_errors;
mod support;
mod terminal;
mod validate;
