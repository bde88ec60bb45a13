//! Differentiates nest40 many times (for profilers). `cargo run --release --example prof_nest`
fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{root}/tests/bench/nest40.txt")).expect("workload");
    let f = dydx::parse(text.trim()).expect("parse");
    let mut n = 0;
    for _ in 0..200 {
        n += dydx::diff(&f, "x").len();
    }
    println!("{n}");
}
