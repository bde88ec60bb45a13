//! The `dydx` command: see `dydx --help` and the README.
fn main() -> std::process::ExitCode {
    dydx::cli::main()
}
