//! Differentiates prod40 and simplifies it at the fast level many times (for profilers).
//! `cargo run --release --example prof_prod`
fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{root}/tests/bench/prod40.txt")).expect("workload");
    let f = dydx::parse(text.trim()).expect("parse");
    let budget = dydx::simplify::Budget::default();
    let mut n = 0;
    for _ in 0..200 {
        let d = dydx::diff(&f, "x");
        n += dydx::simplify::simplify_at(&d, dydx::simplify::Level::Fast, &budget)
            .0
            .len();
    }
    println!("{n}");
}
