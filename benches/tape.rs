//! Tape benchmarks: the gradient of chain1000 (1000 inputs, about 7,000 operations)
//! at one point, record + backward. Target from the issue: <= 57 us (JAX jit `grad`).

// The allocator the dydx binary ships with (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use dydx::eval::Point;
use dydx::{parse, Rational};

fn workload(name: &str) -> String {
    let path = format!("{}/tests/bench/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("benchmark workload")
}

fn chain1000(c: &mut Criterion) {
    let f = parse(workload("chain1000.txt").trim()).expect("chain1000 parses");
    let vars = f.variables();
    let point: Point = vars
        .iter()
        .enumerate()
        .map(|(i, v)| (v.clone(), Rational::new(((i % 17) as i64 - 8).into(), 10.into())))
        .collect();
    let names: Vec<&str> = vars.iter().map(String::as_str).collect();
    let rec = dydx::tape::record(&f, &point, &names).unwrap();
    eprintln!("chain1000: {} inputs, {} tape entries", names.len(), rec.tape.len());
    c.bench_function("tape/chain1000 record+backward", |b| {
        b.iter(|| {
            let r = dydx::tape::record(black_box(&f), black_box(&point), &names).unwrap();
            black_box(r.tape.gradient(r.output).unwrap())
        })
    });
    let values: Vec<f64> = names
        .iter()
        .map(|n| num_traits::ToPrimitive::to_f64(&point[*n]).unwrap())
        .collect();
    c.bench_function("tape/chain1000 record_f64+backward", |b| {
        b.iter(|| {
            let r = dydx::tape::record_f64(black_box(&f), &names, black_box(&values), |_| None).unwrap();
            black_box(r.tape.gradient(r.output).unwrap())
        })
    });
    let mut replayed = rec.tape.clone();
    c.bench_function("tape/chain1000 replay+backward", |b| {
        b.iter(|| {
            replayed.replay(black_box(&values));
            black_box(replayed.gradient(rec.output).unwrap())
        })
    });
    c.bench_function("tape/chain1000 backward only", |b| {
        b.iter(|| black_box(rec.tape.gradient(rec.output).unwrap()))
    });
}

criterion_group!(benches, chain1000);
criterion_main!(benches);
