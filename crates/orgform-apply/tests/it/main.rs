//! The integration tests of `orgform-apply`, linked as one binary: each module holds the tests of
//! one concern. Run one module with `cargo test -p orgform-apply --test it <module>::`.

mod common;
mod executor;
mod federation;
mod interrupt;
mod property;
mod scenarios;
