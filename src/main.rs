//! The `dydx` command: see `dydx --help` and the README.

// Small allocations dominate building expressions; see Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    dydx::cli::main()
}
