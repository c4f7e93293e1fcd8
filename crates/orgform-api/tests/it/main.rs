//! The integration tests of `orgform-api`, linked as one binary: each module holds the tests of
//! one concern. Run one module with `cargo test -p orgform-api --test it <module>::`.

mod emulator;
mod hostile_bodies;
mod hostile_reads;
mod identities;
mod pacing;
mod scripted;
mod support;
mod token_exchange;
mod write_readback;
