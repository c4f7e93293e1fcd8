//! The integration tests of `orgform-manifest`, linked as one binary: each module holds the tests of
//! one concern. Run one module with `cargo test -p orgform-manifest --test it <module>::`.

mod checks;
mod emails;
mod every_problem;
mod federation;
mod hostile_bytes;
mod limits;
mod provenance;
mod schema;
