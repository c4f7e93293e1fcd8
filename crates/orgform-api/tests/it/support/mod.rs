//! Helpers shared by several test modules.

pub mod log_capture;
pub mod server;
pub mod spec;
