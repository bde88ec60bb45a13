//! Differentiates and normalizes nest40 many times (for profilers).
//! `cargo run --release --example prof_nest`
fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{root}/tests/bench/nest40.txt")).expect("workload");
    let f = dydx::parse(text.trim()).expect("parse");
    let d = dydx::diff(&f, "x");
    let mut n = 0;
    for _ in 0..500 {
        n += dydx::normal::normalize(&d).len();
    }
    println!("{n}");
}
