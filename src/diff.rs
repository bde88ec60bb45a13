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
    let nodes = diff_nodes(b, e, var);
    nodes.derivative[e.root().index()]
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
    let ids = b.import_all(e);
    let x = egg::Symbol::from(var);
    let zero = b.int(0);
    let one = b.int(1);
    let mut d: Vec<Id> = Vec::with_capacity(e.len());
    let mut depends: Vec<bool> = Vec::with_capacity(e.len());
    for (i, node) in e.nodes().iter().enumerate() {
        let dep = match node {
            Node::Var(s) => *s == x,
            other => other.children().iter().any(|c| depends[c.index()]),
        };
        depends.push(dep);
        if !dep {
            d.push(zero);
            continue;
        }
        let u = ids[i];
        let id_of = |c: &Id| ids[c.index()];
        let d_of = |c: &Id| d[c.index()];
        let di = match node {
            Node::Num(_) | Node::Const(_) => zero,
            Node::Var(_) => one,
            Node::Add(ts) => {
                let parts: SmallVec<[Id; 8]> = ts.iter().map(d_of).collect();
                b.add(parts)
            }
            Node::Mul(fs) => {
                let fs: SmallVec<[Id; 8]> = fs.iter().map(id_of).collect();
                let ds: SmallVec<[Id; 8]> = e.node(Id::from_index(i)).children().iter().map(d_of).collect();
                product_rule(b, &fs, &ds, zero)
            }
            Node::Pow([base, ex]) => {
                let (bu, eu) = (id_of(base), id_of(ex));
                let (db, de) = (d_of(base), d_of(ex));
                if !depends[ex.index()] {
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
                    b.mul([eu, p, db])
                } else if !depends[base.index()] {
                    // a^g * ln(a) * g'
                    let ln = b.call(Func::Ln, bu);
                    b.mul([u, ln, de])
                } else {
                    // f^g * (g' ln f + g f'/f)
                    let ln = b.call(Func::Ln, bu);
                    let t1 = b.mul([de, ln]);
                    let inv = b.recip(bu);
                    let t2 = b.mul([eu, db, inv]);
                    let s = b.add([t1, t2]);
                    b.mul([u, s])
                }
            }
            Node::Call(f, [a]) => {
                let outer = function_derivative(b, *f, id_of(a), u);
                let da = d_of(a);
                b.mul([outer, da])
            }
            Node::Log([a, base]) => {
                let (au, bu) = (id_of(a), id_of(base));
                let (da, db) = (d_of(a), d_of(base));
                let ln_b = b.call(Func::Ln, bu);
                let inv_a = b.recip(au);
                let inv_ln_b = b.recip(ln_b);
                let t1 = b.mul([da, inv_a, inv_ln_b]);
                if !depends[base.index()] {
                    t1
                } else {
                    // d/dx ln(a)/ln(b) = a'/(a ln b) - ln(a) b' / (b ln(b)^2)
                    let ln_a = b.call(Func::Ln, au);
                    let inv_b = b.recip(bu);
                    let m2 = b.int(-2);
                    let sq = b.pow(ln_b, m2);
                    let m1 = b.int(-1);
                    let t2 = b.mul([m1, ln_a, db, inv_b, sq]);
                    b.add([t1, t2])
                }
            }
        };
        d.push(di);
    }
    NodeDerivatives {
        node: ids,
        derivative: d,
        depends,
    }
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

/// f'(a) for each function f, where `u` is the node f(a) itself.
fn function_derivative(b: &mut Builder, f: Func, a: Id, u: Id) -> Id {
    let two = b.int(2);
    let one = b.int(1);
    // `a^2`, built only by the functions that need it: for the others it would be a
    // dead node, and a power of a sum is not cheap to build.
    let square = |b: &mut Builder| b.pow(a, two);
    match f {
        Func::Sin => b.call(Func::Cos, a),
        Func::Cos => {
            let s = b.call(Func::Sin, a);
            b.neg(s)
        }
        Func::Tan => {
            let s = b.call(Func::Sec, a);
            b.pow(s, two)
        }
        Func::Sec => {
            let t = b.call(Func::Tan, a);
            b.mul([u, t])
        }
        Func::Csc => {
            let c = b.call(Func::Cot, a);
            let m = b.mul([u, c]);
            b.neg(m)
        }
        Func::Cot => {
            let c = b.call(Func::Csc, a);
            let c2 = b.pow(c, two);
            b.neg(c2)
        }
        Func::Asin | Func::Acos => {
            let a2 = square(b);
            let d = b.sub(one, a2);
            let s = b.call(Func::Sqrt, d);
            let r = b.recip(s);
            if f == Func::Acos {
                b.neg(r)
            } else {
                r
            }
        }
        Func::Atan => {
            let a2 = square(b);
            let d = b.add([one, a2]);
            b.recip(d)
        }
        Func::Sinh => b.call(Func::Cosh, a),
        Func::Cosh => b.call(Func::Sinh, a),
        Func::Tanh => {
            let t2 = b.pow(u, two);
            b.sub(one, t2)
        }
        Func::Asinh => {
            let a2 = square(b);
            let d = b.add([a2, one]);
            let s = b.call(Func::Sqrt, d);
            b.recip(s)
        }
        Func::Acosh => {
            let a2 = square(b);
            let d = b.sub(a2, one);
            let s = b.call(Func::Sqrt, d);
            b.recip(s)
        }
        Func::Atanh => {
            let a2 = square(b);
            let d = b.sub(one, a2);
            b.recip(d)
        }
        Func::Exp => u,
        Func::Ln => b.recip(a),
        Func::Sqrt => {
            let half = b.num(crate::Rational::new(1.into(), 2.into()));
            let r = b.recip(u);
            b.mul([half, r])
        }
        Func::Abs => b.call(Func::Sign, a),
        Func::Sign => b.int(0),
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
