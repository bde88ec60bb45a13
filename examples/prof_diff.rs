//! Differentiates a workload many times (for profilers).
//! `cargo run --release --example prof_diff [REPEAT] [FILE]`
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let repeat: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let name = std::env::args().nth(2).unwrap_or_else(|| "rand1000.txt".into());
    let text = std::fs::read_to_string(format!("{root}/tests/bench/{name}")).expect("workload");
    let exprs: Vec<dydx::Expr> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| dydx::parse(l).expect("parse"))
        .collect();
    let mut total = 0;
    for _ in 0..repeat {
        total += exprs.iter().map(|f| dydx::diff(f, "x").len()).sum::<usize>();
    }
    println!("{total}");
}
