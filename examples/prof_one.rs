fn main() {
    let name = std::env::args().nth(1).unwrap_or("nest40.txt".into());
    let level = match std::env::args().nth(2).as_deref() {
        Some("none") => dydx::simplify::Level::None,
        _ => dydx::simplify::Level::Fast,
    };
    let text = std::fs::read_to_string(format!("tests/bench/{name}")).unwrap();
    let f = dydx::parse(text.trim()).unwrap();
    let budget = dydx::simplify::Budget::default();
    let start = std::time::Instant::now();
    let mut n = 0;
    for _ in 0..200 {
        n += dydx::simplify::simplify_at(&dydx::diff(&f, "x"), level, &budget)
            .0
            .len();
    }
    println!("{n} {:?} per run", start.elapsed() / 200);
}
