//! The integration tests of `orgform-emulator`, linked as one binary: each module holds the tests of
//! one concern. Run one module with `cargo test -p orgform-emulator --test it <module>::`.

mod common;
mod controls;
mod faults;
mod federation;
mod keys;
mod readings;
mod reports;
mod service_accounts;
mod smoke;
mod token_exchange;
mod transport;
mod users_invites;
mod workspaces;
