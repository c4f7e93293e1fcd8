//! Helpers shared by several test modules.

pub mod bounded;
pub mod raw_http;
