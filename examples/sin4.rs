//! The 10th derivative of sin(sin(sin(sin(x)))) at each simplification level: time and size.
//!
//! `cargo run --release --example sin4`
fn main() {
    let f = dydx::parse("sin(sin(sin(sin(x))))").expect("parses");
    let budget = dydx::simplify::Budget::default();
    for level in [dydx::simplify::Level::None, dydx::simplify::Level::Fast] {
        let start = std::time::Instant::now();
        let mut d = f.clone();
        for k in 1..=10 {
            d = if k < 10 {
                dydx::simplify::step_form(&dydx::diff(&d, "x"), level, &mut Default::default())
            } else {
                dydx::simplify::simplify_at(&dydx::diff(&d, "x"), level, &budget).0
            };
            println!(
                "  order {k}: {} DAG nodes, {} ops, {:?}",
                d.len(),
                d.op_count(),
                start.elapsed()
            );
        }
        let elapsed = start.elapsed();
        println!(
            "{level:?}: {elapsed:?}, {} DAG nodes, {} printed ops (SymEngine: 11.8 ms, 16,598 ops)",
            d.len(),
            d.op_count()
        );
    }
}
