//! Prints the derivative of every rand1000 expression and every reference corpus case at
//! a level (LEVEL=none|fast|full, default fast): used to compare outputs before and
//! after a change to the simplifier. `cargo run --release --example dump > out.txt`
fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let level = match std::env::var("LEVEL").as_deref() {
        Ok("none") => dydx::simplify::Level::None,
        Ok("full") => dydx::simplify::Level::Full,
        _ => dydx::simplify::Level::Fast,
    };
    let budget = dydx::simplify::Budget::default();
    let rand = std::fs::read_to_string(format!("{root}/tests/bench/rand1000.txt")).expect("rand1000");
    for line in rand.lines().filter(|l| !l.trim().is_empty()) {
        let f = dydx::parse(line).expect("parse");
        println!(
            "{}",
            dydx::simplify::simplify_at(&dydx::diff(&f, "x"), level, &budget).0
        );
    }
    let corpus = std::fs::read_to_string(format!("{root}/tests/corpus/diff_cases.jsonl")).expect("corpus");
    for line in corpus.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).expect("json");
        let f = dydx::parse(case["expr"].as_str().unwrap_or_default()).expect("parse");
        let wrt = case["wrt"].as_str().unwrap_or("x");
        let order = case["order"].as_u64().unwrap_or(1) as usize;
        let mut d = f;
        for _ in 1..order {
            d = dydx::simplify::step_form(&dydx::diff(&d, wrt), level, &mut Default::default());
        }
        d = dydx::simplify::simplify_at(&dydx::diff(&d, wrt), level, &budget).0;
        println!("{d}");
    }
}
