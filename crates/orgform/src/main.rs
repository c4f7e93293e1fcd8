//! The `orgform` binary: parses arguments, runs one command, maps the outcome to an exit code.

fn main() -> std::process::ExitCode {
    orgform::main()
}
