fn main() {
    for s in std::env::args().skip(1) {
        let e = dydx::parse(&s).unwrap();
        let d = dydx::diff(&e, "x");
        for (i, n) in d.nodes().iter().enumerate() {
            println!("{i}: {n:?}");
        }
        println!("{d}");
    }
}
