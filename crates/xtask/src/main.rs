//! Project chores. `cargo run -p xtask -- schema [--check]` regenerates the committed files.

fn main() {}
