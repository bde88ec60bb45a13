//! The 10th derivative of sin(sin(sin(sin(x)))) as the benchmark takes it, repeated
//! (for profilers). `cargo run --release --example prof_sin4 [REPEAT]`
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let repeat: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let f = dydx::parse("sin(sin(sin(sin(x))))").expect("parses");
    let budget = dydx::simplify::Budget::default();
    let mut ops = 0;
    for _ in 0..repeat {
        let mut d = f.clone();
        for _ in 0..9 {
            d = dydx::simplify::step_form(
                &dydx::diff(&d, "x"),
                dydx::simplify::Level::Fast,
                &mut Default::default(),
            );
        }
        ops = dydx::simplify::simplify_at(&dydx::diff(&d, "x"), dydx::simplify::Level::Fast, &budget)
            .0
            .op_count();
    }
    println!("{ops}");
}
