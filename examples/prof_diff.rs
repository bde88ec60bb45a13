fn main() {
    let level = match std::env::args().nth(1).as_deref() {
        Some("fast") => dydx::simplify::Level::Fast,
        Some("full") => dydx::simplify::Level::Full,
        _ => dydx::simplify::Level::None,
    };
    let text = std::fs::read_to_string("tests/bench/rand1000.txt").unwrap();
    let exprs: Vec<dydx::Expr> = text.lines().map(|l| dydx::parse(l).unwrap()).collect();
    let budget = dydx::simplify::Budget::default();
    let mut n = 0;
    for _ in 0..3 {
        for f in &exprs {
            let d = dydx::simplify::simplify_at(&dydx::diff(f, "x"), level, &budget).0;
            n += d.len();
        }
    }
    println!("{n}");
}
