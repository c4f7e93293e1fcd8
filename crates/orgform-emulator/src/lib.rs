//! An in-memory Admin API emulator: the tool's tests, demo and benchmarks talk to it.
