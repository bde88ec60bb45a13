//! Differentiates and simplifies a workload many times (for profilers), at the fast
//! level or, with `LEVEL=full`, the full one.
//! `cargo run --release --example prof_fast [FILE] [REPEAT]`
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let name = std::env::args().nth(1).unwrap_or_else(|| "rand1000.txt".into());
    let repeat: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let text = std::fs::read_to_string(format!("{root}/tests/bench/{name}")).expect("workload");
    let exprs: Vec<dydx::Expr> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| dydx::parse(l).expect("parse"))
        .collect();
    let budget = dydx::simplify::Budget::default();
    let level = match std::env::var("LEVEL").as_deref() {
        Ok("full") => dydx::simplify::Level::Full,
        _ => dydx::simplify::Level::Fast,
    };
    let mut total = 0;
    for _ in 0..repeat {
        total += exprs
            .iter()
            .map(|f| dydx::simplify::simplify_at(&dydx::diff(f, "x"), level, &budget).0.len())
            .sum::<usize>();
    }
    println!("{total}");
}
