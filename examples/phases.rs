//! Times each phase of `diff --simplify fast` on a workload: parse, diff, normal form,
//! operation count. `cargo run --release --example phases [FILE] [REPEAT]`; with `STEPS=1`
//! the normal form is the one without presentation steps (`normalize_for_steps`).
use std::time::Instant;
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let name = std::env::args().nth(1).unwrap_or_else(|| "rand1000.txt".into());
    let repeat: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(20);
    let text = std::fs::read_to_string(format!("{root}/tests/bench/{name}")).expect("workload");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut best = [f64::MAX; 4];
    for _ in 0..repeat {
        let t = Instant::now();
        let exprs: Vec<dydx::Expr> = lines.iter().map(|l| dydx::parse(l).expect("parse")).collect();
        let t_parse = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let ds: Vec<dydx::Expr> = exprs.iter().map(|f| dydx::diff(f, "x")).collect();
        let t_diff = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let ns: Vec<dydx::Expr> = if std::env::var("STEPS").is_ok() {
            ds.iter()
                .map(|d| dydx::normal::normalize_for_steps(d, &mut Default::default()))
                .collect()
        } else {
            ds.iter().map(dydx::normal::normalize).collect()
        };
        let t_norm = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let ops: usize = ns.iter().chain(ds.iter()).map(|e| e.op_count()).sum();
        let t_ops = t.elapsed().as_secs_f64();
        std::hint::black_box(ops);
        for (b, v) in best.iter_mut().zip([t_parse, t_diff, t_norm, t_ops]) {
            *b = b.min(v);
        }
    }
    println!(
        "{name}: parse {:.3} ms, diff {:.3} ms, normalize {:.3} ms, op_count x2 {:.3} ms",
        best[0] * 1e3,
        best[1] * 1e3,
        best[2] * 1e3,
        best[3] * 1e3
    );
}
