fn main() {
    for s in std::env::args().skip(1) {
        let e = dydx::parse(&s).unwrap();
        let p = dydx::print(&e);
        let back = dydx::parse(&p).unwrap();
        println!("e: {p}  roundtrip ok: {}", back == e);
        let d = dydx::diff(&e, "x");
        let p = dydx::print(&d);
        let back = dydx::parse(&p).unwrap();
        println!("d: {p}  roundtrip ok: {}", back == d);
    }
}
