//! Structural symbolic differentiation.
//!
//! Behaviour:
//! - Total over the grammar: sums, products (the product rule over any number of
//!   factors), powers (constant exponent, constant base, or both varying), every
//!   function with the chain rule, and `log(x, b)` with either argument varying.
//! - One forward loop over the expression's arena, children before parents: no
//!   recursion, and each node's derivative is built once and shared, so the work is
//!   linear in the size of the DAG (for a product of many factors the terms share
//!   prefix and suffix products).
//! - The result is built with the smart constructors of [`Builder`], so it is already
//!   in the light canonical form: `d/dx (5*x^4 + …)` is `20*x^3 + …`.
//! - Signs from `cos`, `acos`, `csc` and `cot` are carried up the chain rather than
//!   multiplied in at once, until they cancel or a sum must take one; the result is the
//!   same expression, built without negating each level's derivative below it.
//! - `abs(u)` differentiates to `sign(u)*u'`, which is wrong at `u = 0`, where `abs`
//!   has no derivative; the cross-check reports that point as undefined.
//!
//! ```
//! use dydx::{parse, diff, diff_n, gradient};
//! let f = parse("x^2*sin(x)").unwrap();
//! assert_eq!(diff(&f, "x").to_string(), "2*x*sin(x) + x^2*cos(x)");
//! assert_eq!(diff_n(&parse("x^3").unwrap(), "x", 2).to_string(), "6*x");
//! let g = gradient(&parse("x*y + y^2").unwrap());
//! assert_eq!(g[1].0, "y");
//! assert_eq!(g[1].1.to_string(), "x + 2*y");
//! ```

use crate::expr::{Builder, Expr, Func, Id, IdIndex, Node, FLATTEN_WIDTH, Q};
use smallvec::SmallVec;

/// The derivative of `e` with respect to the variable `var`.
pub fn diff(e: &Expr, var: &str) -> Expr {
    // A derivative is typically a few times the size of its input.
    let mut b = Builder::with_capacity(4 * e.len());
    let root = diff_into(&mut b, e, var);
    b.into_expr(root)
}

/// Differentiates successively with respect to each variable in turn (a mixed partial).
pub fn diff_wrt(e: &Expr, vars: &[&str]) -> Expr {
    vars.iter().fold(e.clone(), |acc, v| diff(&acc, v))
}

/// The `n`-th derivative with respect to `var`.
pub fn diff_n(e: &Expr, var: &str, n: usize) -> Expr {
    (0..n).fold(e.clone(), |acc, _| diff(&acc, var))
}

/// The gradient: the partial derivative with respect to every variable, sorted by
/// name in natural order (`x2` before `x10`).
pub fn gradient(e: &Expr) -> Vec<(String, Expr)> {
    e.variables()
        .into_iter()
        .map(|v| {
            let d = diff(e, &v);
            (v, d)
        })
        .collect()
}

/// Differentiates `e` into the builder `b` and returns the derivative's root.
pub fn diff_into(b: &mut Builder, e: &Expr, var: &str) -> Id {
    let signed = diff_signed(b, e, var);
    let root = e.root().index();
    signed.plain(b, root)
}

/// Every node's derivative, for the step-by-step view ([`crate::steps`]).
pub struct NodeDerivatives {
    /// Each node of the expression, in the builder.
    pub node: Vec<Id>,
    /// Each node's derivative, in the builder.
    pub derivative: Vec<Id>,
    /// Whether each node depends on the variable.
    pub depends: Vec<bool>,
}

/// Differentiates every node of `e` into `b`: one forward loop, children first.
pub fn diff_nodes(b: &mut Builder, e: &Expr, var: &str) -> NodeDerivatives {
    let signed = diff_signed(b, e, var);
    let derivative = (0..e.len()).map(|i| signed.plain(b, i)).collect();
    NodeDerivatives {
        node: signed.node,
        derivative,
        depends: signed.depends,
    }
}

/// Every node's derivative up to its sign: node `i`'s derivative is `-magnitude[i]`
/// where `negated[i]`, else `magnitude[i]`.
///
/// The sign is carried rather than built because building it costs a negation of
/// the whole derivative below: in `cos(sin(cos(…) + x) + x)` each `cos` level's
/// `-sin(…)` would push its sign into the sum below, rebuilding that level's
/// derivative with the opposite sign, and the next `cos` level flips it back. Carried,
/// two signs meet and cancel, and only the derivatives that are asked for (the root's,
/// or a sum's with other terms) are negated. A product puts a sign into its first sum,
/// so a sign is carried only past factors that hold no sum ([`holds_sum`]), where it
/// lands as it would have: the result is the same expression, byte for byte.
struct SignedDerivatives {
    node: Vec<Id>,
    magnitude: Vec<Id>,
    negated: Vec<bool>,
    depends: Vec<bool>,
}

impl SignedDerivatives {
    /// Node `i`'s derivative with its sign built in.
    fn plain(&self, b: &mut Builder, i: usize) -> Id {
        if self.negated[i] {
            b.neg(self.magnitude[i])
        } else {
            self.magnitude[i]
        }
    }

    /// Node `i`'s derivative over the sign carried on (`-1` where `carried`): its
    /// magnitude where its own sign is the one carried, or it is zero, else the
    /// magnitude negated.
    fn signed(&self, b: &mut Builder, i: usize, carried: bool) -> Id {
        if self.negated[i] == carried || !self.depends[i] {
            self.magnitude[i]
        } else {
            b.neg(self.magnitude[i])
        }
    }
}

/// Whether a factor is, or holds among its own factors, a sum or a power of one: a
/// product's sign goes into its first sum, so where another factor holds one, a sign
/// carried past it could land elsewhere than where the product would put it.
fn holds_sum(b: &Builder, id: Id) -> bool {
    let is_sum = |f: Id| match b.node(f) {
        Node::Add(_) => true,
        Node::Pow([base, _]) => matches!(b.node(*base), Node::Add(_)),
        _ => false,
    };
    match b.node(id) {
        Node::Mul(fs) => fs.iter().any(|&f| is_sum(f)),
        _ => is_sum(id),
    }
}

/// Differentiates every node of `e` into `b`, carrying signs ([`SignedDerivatives`]).
fn diff_signed(b: &mut Builder, e: &Expr, var: &str) -> SignedDerivatives {
    let ids = b.import_all(e);
    let x = egg::Symbol::from(var);
    let zero = b.int(0);
    let one = b.int(1);
    let mut out = SignedDerivatives {
        node: ids,
        magnitude: Vec::with_capacity(e.len()),
        negated: Vec::with_capacity(e.len()),
        depends: Vec::with_capacity(e.len()),
    };
    for (i, node) in e.nodes().iter().enumerate() {
        let dep = match node {
            Node::Var(s) => *s == x,
            other => other.children().iter().any(|c| out.depends[c.index()]),
        };
        out.depends.push(dep);
        if !dep {
            out.magnitude.push(zero);
            out.negated.push(false);
            continue;
        }
        let ids = &out.node;
        let u = ids[i];
        let id_of = |c: &Id| ids[c.index()];
        let (di, negated) = match node {
            Node::Num(_) | Node::Const(_) => (zero, false),
            Node::Var(_) => (one, false),
            Node::Add(ts) => {
                // A sum whose varying terms all carry a sign, beside numbers, carries
                // it too: `-p + 1` is `-(p - 1)`.
                let carries = ts.iter().any(|c| out.negated[c.index()])
                    && ts
                        .iter()
                        .all(|c| out.negated[c.index()] || b.as_num(out.magnitude[c.index()]).is_some());
                let parts: SmallVec<[Id; 8]> = ts.iter().map(|c| out.signed(b, c.index(), carries)).collect();
                (b.add(parts), carries)
            }
            Node::Mul(fs) => {
                let fs: SmallVec<[Id; 8]> = fs.iter().map(id_of).collect();
                let children = e.node(Id::from_index(i)).children();
                // One varying factor: its sign carries through the product rule, if no
                // other factor holds a sum to take it.
                let carries = children.iter().any(|c| out.negated[c.index()]) && {
                    let mut varying = children.iter().filter(|c| out.depends[c.index()]);
                    match (varying.next(), varying.next()) {
                        (Some(c), None) => children.iter().all(|f| f == c || !holds_sum(b, id_of(f))),
                        _ => false,
                    }
                };
                let ds: SmallVec<[Id; 8]> = children.iter().map(|c| out.signed(b, c.index(), carries)).collect();
                (product_rule(b, &fs, &ds, zero), carries)
            }
            Node::Pow([base, ex]) => {
                let (bu, eu) = (id_of(base), id_of(ex));
                if !out.depends[ex.index()] {
                    // n * f^(n-1) * f'; a numeric n - 1 is worked out at once, as
                    // the sum of two numbers would fold.
                    let n1 = match b.as_num(eu).map(Q::of) {
                        Some(mut n) => {
                            n.add(&Q::Small(-1, 1));
                            b.num_q(&n)
                        }
                        None => {
                            let m1 = b.int(-1);
                            b.add([eu, m1])
                        }
                    };
                    let p = b.pow(bu, n1);
                    let carries = out.negated[base.index()] && !holds_sum(b, eu) && !holds_sum(b, p);
                    let db = out.signed(b, base.index(), carries);
                    (b.mul([eu, p, db]), carries)
                } else if !out.depends[base.index()] {
                    // a^g * ln(a) * g'
                    let ln = b.call(Func::Ln, bu);
                    let carries = out.negated[ex.index()] && !holds_sum(b, u);
                    let de = out.signed(b, ex.index(), carries);
                    (b.mul([u, ln, de]), carries)
                } else {
                    // f^g * (g' ln f + g f'/f)
                    let (db, de) = (out.plain(b, base.index()), out.plain(b, ex.index()));
                    let ln = b.call(Func::Ln, bu);
                    let t1 = b.mul([de, ln]);
                    let inv = b.recip(bu);
                    let t2 = b.mul([eu, db, inv]);
                    let s = b.add([t1, t2]);
                    (b.mul([u, s]), false)
                }
            }
            Node::Call(f, [a]) => {
                let (outer, outer_negated) = function_derivative(b, *f, id_of(a), u);
                if holds_sum(b, outer) {
                    // Signs stay where they are: either could be taken by the sum.
                    let outer = if outer_negated { b.neg(outer) } else { outer };
                    let da = out.plain(b, a.index());
                    (b.mul([outer, da]), false)
                } else {
                    let da = out.magnitude[a.index()];
                    (b.mul([outer, da]), outer_negated != out.negated[a.index()])
                }
            }
            Node::Log([a, base]) => {
                let (au, bu) = (id_of(a), id_of(base));
                let (da, db) = (out.plain(b, a.index()), out.plain(b, base.index()));
                let ln_b = b.call(Func::Ln, bu);
                let inv_a = b.recip(au);
                let inv_ln_b = b.recip(ln_b);
                let t1 = b.mul([da, inv_a, inv_ln_b]);
                if !out.depends[base.index()] {
                    (t1, false)
                } else {
                    // d/dx ln(a)/ln(b) = a'/(a ln b) - ln(a) b' / (b ln(b)^2)
                    let ln_a = b.call(Func::Ln, au);
                    let inv_b = b.recip(bu);
                    let m2 = b.int(-2);
                    let sq = b.pow(ln_b, m2);
                    let m1 = b.int(-1);
                    let t2 = b.mul([m1, ln_a, db, inv_b, sq]);
                    (b.add([t1, t2]), false)
                }
            }
        };
        out.magnitude.push(di);
        out.negated.push(negated);
    }
    out
}

/// The product rule over all factors. Small products get one flat term per varying
/// factor; wide ones share prefix and suffix products so the result stays linear.
fn product_rule(b: &mut Builder, fs: &[Id], ds: &[Id], zero: Id) -> Id {
    let active: SmallVec<[usize; 8]> = (0..fs.len()).filter(|&i| ds[i] != zero).collect();
    if fs.len() <= FLATTEN_WIDTH || active.len() == 1 {
        let terms: SmallVec<[Id; 8]> = active
            .iter()
            .map(|&i| {
                if let Some(rest) = b.product_without(fs, i, ds[i]) {
                    return rest;
                }
                let mut factors: SmallVec<[Id; 8]> = fs
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, f)| *f)
                    .collect();
                factors.push(ds[i]);
                b.mul(factors)
            })
            .collect();
        return b.add(terms);
    }
    let one = b.int(1);
    let mut prefix = vec![one; fs.len() + 1];
    for i in 0..fs.len() {
        prefix[i + 1] = b.mul([prefix[i], fs[i]]);
    }
    let mut suffix = vec![one; fs.len() + 1];
    for i in (0..fs.len()).rev() {
        suffix[i] = b.mul([fs[i], suffix[i + 1]]);
    }
    let terms: Vec<Id> = active
        .iter()
        .map(|&i| b.mul([prefix[i], ds[i], suffix[i + 1]]))
        .collect();
    b.add(terms)
}

/// f'(a) for each function f, where `u` is the node f(a) itself, up to its sign: the
/// magnitude, and whether it is negated ([`SignedDerivatives`]).
fn function_derivative(b: &mut Builder, f: Func, a: Id, u: Id) -> (Id, bool) {
    let two = b.int(2);
    let one = b.int(1);
    // `a^2`, built only by the functions that need it: for the others it would be a
    // dead node, and a power of a sum is not cheap to build.
    let square = |b: &mut Builder| b.pow(a, two);
    match f {
        Func::Sin => (b.call(Func::Cos, a), false),
        Func::Cos => (b.call(Func::Sin, a), true),
        Func::Tan => {
            let s = b.call(Func::Sec, a);
            (b.pow(s, two), false)
        }
        Func::Sec => {
            let t = b.call(Func::Tan, a);
            (b.mul([u, t]), false)
        }
        Func::Csc => {
            let c = b.call(Func::Cot, a);
            (b.mul([u, c]), true)
        }
        Func::Cot => {
            let c = b.call(Func::Csc, a);
            (b.pow(c, two), true)
        }
        Func::Asin | Func::Acos => {
            let a2 = square(b);
            let d = b.sub(one, a2);
            let s = b.call(Func::Sqrt, d);
            (b.recip(s), f == Func::Acos)
        }
        Func::Atan => {
            let a2 = square(b);
            let d = b.add([one, a2]);
            (b.recip(d), false)
        }
        Func::Sinh => (b.call(Func::Cosh, a), false),
        Func::Cosh => (b.call(Func::Sinh, a), false),
        Func::Tanh => {
            let t2 = b.pow(u, two);
            (b.sub(one, t2), false)
        }
        Func::Asinh => {
            let a2 = square(b);
            let d = b.add([a2, one]);
            let s = b.call(Func::Sqrt, d);
            (b.recip(s), false)
        }
        Func::Acosh => {
            let a2 = square(b);
            let d = b.sub(a2, one);
            let s = b.call(Func::Sqrt, d);
            (b.recip(s), false)
        }
        Func::Atanh => {
            let a2 = square(b);
            let d = b.sub(one, a2);
            (b.recip(d), false)
        }
        Func::Exp => (u, false),
        Func::Ln => (b.recip(a), false),
        Func::Sqrt => {
            let half = b.num(crate::Rational::new(1.into(), 2.into()));
            let r = b.recip(u);
            (b.mul([half, r]), false)
        }
        Func::Abs => (b.call(Func::Sign, a), false),
        Func::Sign => (b.int(0), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn d(s: &str) -> String {
        diff(&parse(s).unwrap(), "x").to_string()
    }

    #[test]
    fn seed() {
        assert_eq!(d("5*x**4 + 3*x**3 + 7*x**2 + 9*x - 5"), "20*x^3 + 9*x^2 + 14*x + 9");
    }

    #[test]
    fn constants_and_variables() {
        assert_eq!(d("7"), "0");
        assert_eq!(d("pi"), "0");
        assert_eq!(d("x"), "1");
        assert_eq!(d("y"), "0");
    }

    #[test]
    fn sum_and_constant_multiple() {
        assert_eq!(d("3*x + y"), "3");
        assert_eq!(d("x/2 - 1"), "1/2");
    }

    #[test]
    fn product_rule() {
        assert_eq!(d("x^2*sin(x)"), "2*x*sin(x) + x^2*cos(x)");
        assert_eq!(d("x*y"), "y");
    }

    #[test]
    fn quotient_via_negative_power() {
        assert_eq!(d("1/x"), "-1/x^2");
        assert_eq!(d("sin(x)/x"), "cos(x)/x - sin(x)/x^2");
    }

    #[test]
    fn power_rules() {
        assert_eq!(d("x^(2/3)"), "2/(3*x^(1/3))");
        assert_eq!(d("2^x"), "2^x*ln(2)");
        assert_eq!(d("x^x"), "x^x*(ln(x) + 1)");
        assert_eq!(d("e^x"), "exp(x)");
        assert_eq!(d("sqrt(x)"), "1/(2*sqrt(x))");
    }

    #[test]
    fn odd_and_even_functions_take_out_the_sign() {
        assert_eq!(parse("sin(-x)").unwrap().to_string(), "-sin(x)");
        assert_eq!(parse("cos(-2*x)").unwrap().to_string(), "cos(2*x)");
        assert_eq!(parse("sinh(1 - x)").unwrap().to_string(), "sinh(1 - x)");
        // A sum with some terms negative keeps them: `sin(2 - x)` and `cos(2 - x)`
        // share their argument.
        assert_eq!(parse("cos(2 - x)").unwrap().to_string(), "cos(2 - x)");
        assert_eq!(d("cos(2 - x)^2"), "2*sin(2 - x)*cos(2 - x)");
        assert_eq!(parse("tan(-x - 1)").unwrap().to_string(), "-tan(x + 1)");
        assert_eq!(parse("(1/2)^x").unwrap().to_string(), "2^(-x)");
        assert_eq!(parse("(1/2)^(-3/4)").unwrap().to_string(), "2^(3/4)");
        // A positive coefficient whose power is a number leaves the power.
        assert_eq!(parse("(125*exp(x)/64)^(2/3)").unwrap().to_string(), "25*exp(2*x/3)/16");
        assert_eq!(parse("(4*x)^(3/2)").unwrap().to_string(), "8*x^(3/2)");
        assert_eq!(parse("(2*x)^(3/2)").unwrap().to_string(), "(2*x)^(3/2)");
        assert_eq!(parse("ln(1/3)").unwrap().to_string(), "-ln(3)");
    }

    #[test]
    fn chain_rule_for_each_function() {
        let cases = [
            ("sin(2*x)", "2*cos(2*x)"),
            ("cos(x)", "-sin(x)"),
            ("tan(x)", "sec(x)^2"),
            ("sec(x)", "sec(x)*tan(x)"),
            ("csc(x)", "-csc(x)*cot(x)"),
            ("cot(x)", "-csc(x)^2"),
            ("asin(x)", "1/sqrt(1 - x^2)"),
            ("acos(x)", "-1/sqrt(1 - x^2)"),
            ("atan(x)", "1/(x^2 + 1)"),
            ("sinh(x)", "cosh(x)"),
            ("cosh(x)", "sinh(x)"),
            ("tanh(x)", "1 - tanh(x)^2"),
            ("asinh(x)", "1/sqrt(x^2 + 1)"),
            ("acosh(x)", "1/sqrt(x^2 - 1)"),
            ("atanh(x)", "1/(1 - x^2)"),
            ("exp(x^2)", "2*x*exp(x^2)"),
            ("ln(x)", "1/x"),
            ("log(x)", "1/x"),
            ("abs(x)", "sign(x)"),
            ("sign(x)", "0"),
        ];
        for (f, want) in cases {
            assert_eq!(d(f), want, "d/dx {f}");
        }
    }

    #[test]
    fn signs_carried_up_a_chain_cancel_where_they_meet() {
        // Each `cos` level's sign is carried up rather than pushed into the sum
        // below; the next one cancels it. The result is the one the product puts
        // together from signed factors.
        assert_eq!(
            d("cos(sin(cos(sin(x) + x) + x) + x)"),
            "sin(sin(cos(sin(x) + x) + x) + x)*(cos(cos(sin(x) + x) + x)*(sin(sin(x) + x)*(cos(x) + 1) - 1) - 1)"
        );
        assert_eq!(d("cos(sin(x) + x)"), "-sin(sin(x) + x)*(cos(x) + 1)");
        assert_eq!(d("exp(cos(x))"), "-sin(x)*exp(cos(x))");
        assert_eq!(d("cot(cos(x))"), "sin(x)*csc(cos(x))^2");
        // Not carried past a factor holding a sum, which would take the sign where
        // the product would not put it: `(1 - sin(x))` stays, as the sum built it.
        assert_eq!(
            d("tan((cos(x) + x)^3)"),
            "3*sec((cos(x) + x)^3)^2*(cos(x) + x)^2*(1 - sin(x))"
        );
        assert_eq!(
            d("tanh(cos(x) - 3*x/2)^2"),
            "2*tanh(cos(x) - 3*x/2)*(1 - tanh(cos(x) - 3*x/2)^2)*(-sin(x) - 3/2)"
        );
        assert_eq!(d("cos(x)*(x + 1)"), "cos(x) - sin(x)*(x + 1)");
        // One product per level: pushing each sign down built four.
        let mut text = "x".to_string();
        for _ in 0..300 {
            text = format!("cos({text} + x)");
        }
        let mut built = Builder::new();
        diff_into(&mut built, &parse(&text).unwrap(), "x");
        assert!(built.products_built <= 2 * 300, "{} products", built.products_built);
    }

    #[test]
    fn log_with_base() {
        assert_eq!(d("log(x, 2)"), "1/(x*ln(2))");
        let got = d("log(2, x)");
        assert_eq!(got, "-ln(2)/(x*ln(x)^2)");
    }

    #[test]
    fn higher_order_and_partials() {
        let f = parse("x^3*y^2").unwrap();
        assert_eq!(diff_n(&f, "x", 3).to_string(), "6*y^2");
        assert_eq!(diff_wrt(&f, &["x", "y"]).to_string(), "6*x^2*y");
        let g = gradient(&f);
        assert_eq!(g.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>(), ["x", "y"]);
    }

    #[test]
    fn nested_chain_is_linear() {
        let deep = |n: usize| {
            let s = format!("{}x{}", "sin(".repeat(n), ")".repeat(n));
            diff(&parse(&s).unwrap(), "x").len()
        };
        let (a, b) = (deep(100), deep(200));
        assert!(b <= 2 * a + 8, "100 deep: {a} nodes, 200 deep: {b} nodes");
        let total_children = |n: usize| {
            let s = format!("{}x{}", "sin(".repeat(n), ")".repeat(n));
            let e = diff(&parse(&s).unwrap(), "x");
            e.nodes().iter().map(|n| n.children().len()).sum::<usize>()
        };
        let (ca, cb) = (total_children(400), total_children(800));
        assert!(cb * 10 <= ca * 21, "children 400 deep: {ca}, 800 deep: {cb}");
    }

    #[test]
    fn wide_product_is_linear() {
        let prod = |n: usize| {
            let s: Vec<String> = (1..=n).map(|k| format!("(x + {k})")).collect();
            let e = diff(&parse(&s.join("*")).unwrap(), "x");
            e.nodes().iter().map(|n| n.children().len()).sum::<usize>()
        };
        let (a, b) = (prod(200), prod(400));
        // Linear: doubling the factors doubles the size (quadratic would quadruple it).
        assert!(b * 10 <= a * 21, "200 factors: {a}, 400 factors: {b}");
    }
}
