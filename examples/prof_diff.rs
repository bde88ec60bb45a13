//! Differentiates a workload many times (for profilers); with `LEVEL=fast` or
//! `LEVEL=full`, simplifies each derivative at that level too.
//! `cargo run --release --example prof_diff [REPEAT] [FILE]`
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    use dydx::simplify::{simplify_at, Budget, Level};
    let root = env!("CARGO_MANIFEST_DIR");
    let repeat: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let name = std::env::args().nth(2).unwrap_or_else(|| "rand1000.txt".into());
    let text = std::fs::read_to_string(format!("{root}/tests/bench/{name}")).expect("workload");
    let exprs: Vec<dydx::Expr> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| dydx::parse(l).expect("parse"))
        .collect();
    let level = match std::env::var("LEVEL").as_deref() {
        Ok("fast") => Some(Level::Fast),
        Ok("full") => Some(Level::Full),
        _ => None,
    };
    let budget = Budget::default();
    let mut total = 0;
    for _ in 0..repeat {
        for f in &exprs {
            let d = dydx::diff(f, "x");
            total += match level {
                Some(level) => simplify_at(&d, level, &budget).0.len(),
                None => d.len(),
            };
        }
    }
    println!("{total}");
}
