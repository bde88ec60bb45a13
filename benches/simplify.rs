//! Differentiation and simplification benchmarks on the shared workloads
//! (tests/bench/, one expression per line). Peer figures from the issue, measured on
//! another machine: SymEngine diff of rand1000 13.4 ms, nest40 0.07 ms, prod40 0.08 ms,
//! poly2000 2.2 ms, 10th derivative of sin(sin(sin(sin(x)))) 11.8 ms. `benches/peers.py`
//! measures both on this machine in one run and prints the ratios.

// The allocator the dydx binary ships with (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;

use common::{diff_all, workload};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use dydx::diff;
use dydx::simplify::{simplify_at, step_form, Budget, Level};

fn benches(c: &mut Criterion) {
    let rand = workload("rand1000.txt");
    let mut group = c.benchmark_group("rand1000");
    group.sample_size(10);
    // Differentiation alone (SymEngine's 13.4 ms is for its diff alone).
    group.bench_function("diff", |b| {
        b.iter(|| black_box(&rand).iter().map(|f| diff(f, "x").len()).sum::<usize>())
    });
    group.bench_function("diff+fast", |b| b.iter(|| diff_all(black_box(&rand), Level::Fast)));
    group.bench_function("diff+full", |b| b.iter(|| diff_all(black_box(&rand), Level::Full)));
    group.finish();

    for name in ["nest40.txt", "prod40.txt", "poly2000.txt"] {
        let exprs = workload(name);
        c.bench_function(&format!("{name} diff+fast"), |b| {
            b.iter(|| diff_all(black_box(&exprs), Level::Fast))
        });
    }

    let sin4 = workload("sin4.txt");
    let budget = Budget::default();
    // As `dydx diff --order 10 --simplify fast` takes it: the form to differentiate
    // again at each step, the fast simplification at the last.
    c.bench_function("sin4 10th derivative (fast)", |b| {
        b.iter(|| {
            let mut d = sin4[0].clone();
            for _ in 0..9 {
                d = step_form(&diff(&d, "x"), Level::Fast, &mut Default::default());
            }
            black_box(simplify_at(&diff(&d, "x"), Level::Fast, &budget).0.len())
        })
    });
}

criterion_group!(simplify_benches, benches);
criterion_main!(simplify_benches);
