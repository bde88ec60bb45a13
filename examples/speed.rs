//! Times the speed workloads as `benches/simplify.rs` does, best of many runs,
//! one line per workload (`name milliseconds`), for `benches/peers.py`, which times
//! SymEngine on the same workloads in the same run and prints the ratios.
//!
//! `cargo run --release --example speed [RUNS]`
#[path = "../benches/common/mod.rs"]
mod common;

use common::{diff_all, workload};
use dydx::diff;
use dydx::simplify::{simplify_at, step_form, Budget, Level};
use std::hint::black_box;
use std::time::Instant;

// The allocator the dydx binary ships with (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The fastest of `runs` runs of `work`, in milliseconds: the least disturbed by
/// whatever else the machine does.
fn best_ms(runs: usize, mut work: impl FnMut() -> usize) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(work());
            start.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let rand = workload("rand1000.txt");
    println!(
        "rand1000-diff {:.4}",
        best_ms(runs, || rand.iter().map(|f| diff(f, "x").len()).sum())
    );
    println!(
        "rand1000-diff+fast {:.4}",
        best_ms(runs, || diff_all(&rand, Level::Fast))
    );
    for name in ["nest40", "prod40", "poly2000"] {
        let exprs = workload(&format!("{name}.txt"));
        println!(
            "{name}-diff+fast {:.4}",
            best_ms(runs * 10, || diff_all(&exprs, Level::Fast))
        );
    }
    let sin4 = workload("sin4.txt");
    let budget = Budget::default();
    let tenth = || {
        let mut d = sin4[0].clone();
        for _ in 0..9 {
            d = step_form(&diff(&d, "x"), Level::Fast, &mut Default::default());
        }
        simplify_at(&diff(&d, "x"), Level::Fast, &budget).0.len()
    };
    println!("sin4-10th+fast {:.4}", best_ms(runs, tenth));
    println!(
        "rand1000-diff+full {:.4}",
        best_ms(runs.div_ceil(10), || diff_all(&rand, Level::Full))
    );
}
