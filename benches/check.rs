//! `dydx check` on the hand-derived claims of the reference corpus (tests/corpus/):
//! target from the issue, at most 50 ms per case.

// The allocator the dydx binary ships with (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use dydx::claim::{check_claim, ClaimOptions};
use dydx::eval::parse_number;
use dydx::{parse, Expr};

struct Case {
    f: Expr,
    claim: Expr,
    wrt: String,
    opts: ClaimOptions,
}

fn cases() -> Vec<Case> {
    let path = format!("{}/tests/corpus/check_cases.jsonl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("corpus");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            let mut opts = ClaimOptions::default();
            if let Some(d) = v["domain"].as_object() {
                for (k, r) in d {
                    let lo = parse_number(r[0].as_str().unwrap_or("-3")).expect("number");
                    let hi = parse_number(r[1].as_str().unwrap_or("3")).expect("number");
                    opts.domain.insert(k.clone(), (lo, hi));
                }
            }
            Case {
                f: parse(v["expr"].as_str().unwrap_or("x")).expect("parses"),
                claim: parse(v["claim"].as_str().unwrap_or("x")).expect("parses"),
                wrt: v["wrt"].as_str().unwrap_or("x").to_string(),
                opts,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let cases = cases();
    let mut group = c.benchmark_group("check corpus");
    group.sample_size(10);
    group.bench_function(format!("all {} cases", cases.len()), |b| {
        b.iter(|| {
            for case in &cases {
                black_box(check_claim(&case.f, &case.claim, &[case.wrt.as_str()], &case.opts));
            }
        })
    });
    group.finish();
    // The slowest single case, timed once per case for the report.
    let mut worst = (std::time::Duration::ZERO, String::new());
    for case in &cases {
        let start = std::time::Instant::now();
        black_box(check_claim(&case.f, &case.claim, &[case.wrt.as_str()], &case.opts));
        let t = start.elapsed();
        if t > worst.0 {
            worst = (t, format!("{} claimed {}", case.f, case.claim));
        }
    }
    eprintln!("slowest single check: {:?} ({})", worst.0, worst.1);
}

criterion_group!(benches, bench);
criterion_main!(benches);
