fn main() {
    for s in std::env::args().skip(1) {
        let e = dydx::parse(&s).unwrap();
        println!("{:?}", e.nodes());
        println!("{}", e);
    }
}
