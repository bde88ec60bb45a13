//! Profiling helper for the tape: records chain1000 many times.
fn main() {
    let text = std::fs::read_to_string("tests/bench/chain1000.txt").expect("workload");
    let f = dydx::parse(text.trim()).expect("parses");
    let vars = f.variables();
    let names: Vec<&str> = vars.iter().map(String::as_str).collect();
    let values: Vec<f64> = (0..names.len()).map(|i| ((i % 17) as f64 - 8.0) / 10.0).collect();
    let mut s = 0.0;
    for _ in 0..2000 {
        let r = dydx::tape::record_f64(&f, &names, &values, |_| None).expect("records");
        s += r.tape.value(r.output);
    }
    println!("{s}");
}
