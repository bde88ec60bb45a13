//! The workloads and the timed work shared by `benches/simplify.rs` and
//! `examples/speed.rs`, so the benchmark and the peer comparison time the same thing.

use dydx::simplify::{simplify_at, Budget, Level};
use dydx::{diff, parse, Expr};

/// The expressions of a workload in `tests/bench/`, one per line.
pub fn workload(name: &str) -> Vec<Expr> {
    let path = format!("{}/tests/bench/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("benchmark workload");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| parse(l).expect("workload parses"))
        .collect()
}

/// Differentiates each expression with respect to x and simplifies at `level`.
pub fn diff_all(exprs: &[Expr], level: Level) -> usize {
    let budget = Budget::default();
    exprs
        .iter()
        .map(|f| simplify_at(&diff(f, "x"), level, &budget).0.len())
        .sum()
}
