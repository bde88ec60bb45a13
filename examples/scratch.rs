#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let name = std::env::args().nth(1).unwrap();
    let repeat: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let what = std::env::args().nth(3).unwrap_or_else(|| "norm".into());
    let text = std::fs::read_to_string(format!("{}/tests/bench/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let exprs: Vec<dydx::Expr> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| dydx::parse(l).unwrap())
        .collect();
    let ds: Vec<dydx::Expr> = exprs.iter().map(|f| dydx::diff(f, "x")).collect();
    let mut n = 0;
    for _ in 0..repeat {
        if what == "norm" {
            n += ds.iter().map(|d| dydx::normal::normalize(d).len()).sum::<usize>();
        } else {
            n += exprs.iter().map(|d| dydx::diff(d, "x").len()).sum::<usize>();
        }
    }
    println!("{n}");
}
