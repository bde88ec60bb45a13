//! Compares the size (operation count) of dydx's derivatives with SymPy's on the
//! reference corpus, and totals the rand1000 workload.
//!
//! `cargo run --release --example sizes [SHOW]`. SymPy's size is the same count of its
//! printed text (the measure); SymPy's own `count_ops`, where the corpus has it,
//! is shown beside it. `CORPUS=path.jsonl` takes another file of the same fields
//! (`expr`, `wrt`, `order`, `sympy_diff`). `PER=1` prints each case's id, count and
//! derivative to stderr, to compare two versions case by case.

use dydx::print::op_count_text;
use dydx::{diff, parse};

fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut budget = dydx::simplify::Budget::default();
    if let Some(n) = std::env::var("NODE_LIMIT").ok().and_then(|v| v.parse().ok()) {
        budget.node_limit = n;
    }
    if let Some(n) = std::env::var("ITER_LIMIT").ok().and_then(|v| v.parse().ok()) {
        budget.iter_limit = n;
    }
    if let Some(n) = std::env::var("MAX_INPUT").ok().and_then(|v| v.parse().ok()) {
        budget.max_input_nodes = n;
    }
    let level = match std::env::var("LEVEL").as_deref() {
        Ok("none") => dydx::simplify::Level::None,
        Ok("fast") => dydx::simplify::Level::Fast,
        _ => dydx::simplify::Level::Full,
    };
    let corpus_path = std::env::var("CORPUS").unwrap_or_else(|_| format!("{root}/tests/corpus/diff_cases.jsonl"));
    let corpus = std::fs::read_to_string(corpus_path).expect("corpus");
    let (mut within_count_ops, mut below_count_ops, mut with_count_ops) = (0, 0, 0);
    let mut refused = 0;
    let (mut smaller, mut equal, mut larger, mut n) = (0, 0, 0, 0);
    let (mut total_ours, mut total_theirs) = (0i64, 0i64);
    let mut deltas: Vec<i64> = Vec::new();
    let mut worst: Vec<(i64, String, String, String)> = Vec::new();
    for line in corpus.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).expect("json");
        // A generated corpus may hold inputs dydx refuses (an undefined number that
        // the rest cancels): those are skipped, and counted.
        let Ok(f) = parse(case["expr"].as_str().unwrap_or_default()) else {
            refused += 1;
            continue;
        };
        let wrt = case["wrt"].as_str().unwrap_or("x");
        let order = case["order"].as_u64().unwrap_or(1) as usize;
        let mut d = f.clone();
        for _ in 1..order {
            d = dydx::simplify::step_form(&dydx::diff(&d, wrt), level, &mut Default::default());
        }
        // Printed as the command line prints it: decimals for input with a decimal literal.
        let numbers = dydx::print::Numbers::of_input(case["expr"].as_str().unwrap_or_default());
        d = dydx::simplify::simplify_for(&dydx::diff(&d, wrt), level, &budget, numbers).0;
        let ours = op_count_text(&dydx::print::print_with(&d, numbers)) as i64;
        let theirs = op_count_text(case["sympy_diff"].as_str().unwrap_or_default()) as i64;
        if let Some(count_ops) = case["sympy_diff_ops"].as_i64() {
            with_count_ops += 1;
            within_count_ops += usize::from(ours <= count_ops);
            below_count_ops += usize::from(ours < count_ops);
        }
        if std::env::var("PER").is_ok() {
            eprintln!(
                "{} {ours} {}",
                case["id"].as_str().unwrap_or(""),
                dydx::print::print_with(&d, numbers)
            );
        }
        n += 1;
        (total_ours, total_theirs) = (total_ours + ours, total_theirs + theirs);
        deltas.push(ours - theirs);
        match ours.cmp(&theirs) {
            std::cmp::Ordering::Less => smaller += 1,
            std::cmp::Ordering::Equal => equal += 1,
            std::cmp::Ordering::Greater => {
                larger += 1;
                worst.push((
                    ours - theirs,
                    case["id"].as_str().unwrap_or("").to_string(),
                    dydx::print::print_with(&d, numbers),
                    case["sympy_diff"].as_str().unwrap_or("").to_string(),
                ));
            }
        }
    }
    println!("corpus: {n} cases: smaller than SymPy {smaller}, equal {equal}, larger {larger}; {refused} refused");
    println!(
        "  <= SymPy: {:.1}%, < SymPy: {:.1}%",
        100.0 * (smaller + equal) as f64 / n as f64,
        100.0 * smaller as f64 / n as f64
    );
    if with_count_ops > 0 {
        println!(
            "  against SymPy's count_ops: <= {:.1}%, < {:.1}%",
            100.0 * within_count_ops as f64 / with_count_ops as f64,
            100.0 * below_count_ops as f64 / with_count_ops as f64
        );
    }
    let bucket = |lo: i64, hi: i64| deltas.iter().filter(|&&d| lo <= d && d <= hi).count();
    println!(
        "  ours - SymPy: <= -10: {}, -9..-5: {}, -4..-1: {}, 0: {}, +1..+4: {}, >= +5: {}; total {total_ours} against {total_theirs}",
        bucket(i64::MIN, -10),
        bucket(-9, -5),
        bucket(-4, -1),
        bucket(0, 0),
        bucket(1, 4),
        bucket(5, i64::MAX)
    );
    worst.sort_by_key(|w| (w.2.len(), w.0));
    let show: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    for (delta, id, ours, theirs) in worst.iter().take(show) {
        println!(
            "  +{delta} {id}\n    ours:  {}\n    sympy: {}",
            &ours[..ours.len().min(300)],
            &theirs[..theirs.len().min(300)]
        );
    }
    let rand = std::fs::read_to_string(format!("{root}/tests/bench/rand1000.txt")).expect("rand1000");
    let inputs: Vec<(dydx::Expr, dydx::print::Numbers)> = rand
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| (parse(l).expect("parse"), dydx::print::Numbers::of_input(l)))
        .collect();
    let start = std::time::Instant::now();
    let outs: Vec<(dydx::Expr, dydx::print::Numbers)> = inputs
        .iter()
        .map(|(f, numbers)| {
            let d = dydx::simplify::simplify_for(&diff(f, "x"), level, &budget, *numbers).0;
            (d, *numbers)
        })
        .collect();
    let elapsed = start.elapsed();
    let total: usize = outs
        .iter()
        .map(|(d, numbers)| op_count_text(&dydx::print::print_with(d, *numbers)))
        .sum();
    let fractions: usize = outs.iter().map(|(d, _)| op_count_text(&d.to_string())).sum();
    println!(
        "rand1000 ({level:?}): total output ops {total}, {fractions} all in fractions (SymEngine 63,866; target <= 51,093) in {elapsed:?}"
    );
}
