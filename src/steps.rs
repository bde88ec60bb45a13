//! The derivation step by step, from the rule applications that produced the result.
//!
//! [`steps`] differentiates with [`crate::diff::diff_nodes`], which keeps every node's
//! derivative, and walks the expression from the top: each node that depends on the
//! variable is one step, named by the branch of the differentiator that handled it
//! (sum rule, constant multiple, product rule, quotient rule, power rule, exponential
//! rule, chain rule, the derivative of each function), with the rule written out and
//! the sub-result. Each subexpression is explained once.
//!
//! ```
//! use dydx::{parse, steps::steps};
//! let s = steps(&parse("5*x^4 + sin(2*x)").unwrap(), "x");
//! assert_eq!(s[0].rule, "sum rule");
//! assert!(s.iter().any(|step| step.rule == "chain rule"));
//! ```

use crate::diff::diff_nodes;
use crate::expr::{Builder, Expr, Func, Id, IdIndex, Node};
use crate::print::{print_at_with, print_with, Numbers};

/// One step of a derivation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The rule's name: `sum rule`, `product rule`, `chain rule`, `power rule`, …
    pub rule: &'static str,
    /// The subexpression differentiated.
    pub expr: String,
    /// The rule written out for this subexpression (derivatives as `d/dx (…)`).
    pub applied: String,
    /// The derivative of the subexpression.
    pub result: String,
}

/// The steps of d(`e`)/d(`var`), outermost first.
pub fn steps(e: &Expr, var: &str) -> Vec<Step> {
    steps_with(e, var, Numbers::Fractions)
}

/// [`steps`], with numbers spelled as `numbers` says.
pub fn steps_with(e: &Expr, var: &str, numbers: Numbers) -> Vec<Step> {
    let mut b = Builder::new();
    let nd = diff_nodes(&mut b, e, var);
    let show = |b: &Builder, id: Id| print_with(&b.finish(id), numbers);
    let d_of = |c: &Id| format!("d/d{var} ({})", print_at_with(e, *c, usize::MAX, numbers));
    let text = |c: &Id| print_at_with(e, *c, usize::MAX, numbers);
    let paren = |c: &Id| match e.node(*c) {
        Node::Add(_) | Node::Mul(_) => format!("({})", text(c)),
        _ => text(c),
    };
    let mut out = Vec::new();
    let mut seen = vec![false; e.len()];
    let mut stack = vec![e.root()];
    while let Some(id) = stack.pop() {
        let i = id.index();
        // d/dx x = 1 is not worth a line, except as the whole derivation.
        let trivial = matches!(e.node(id), Node::Var(_)) && id != e.root();
        if seen[i] || !nd.depends[i] || trivial {
            continue;
        }
        seen[i] = true;
        let node = e.node(id);
        let varying: Vec<Id> = node
            .children()
            .iter()
            .copied()
            .filter(|c| nd.depends[c.index()])
            .collect();
        let mut explain_next = varying.clone();
        let (rule, applied): (&'static str, String) = match node {
            Node::Var(_) => ("variable", "1".to_string()),
            Node::Num(_) | Node::Const(_) => ("constant", "0".to_string()),
            Node::Add(ts) => (
                "sum rule",
                ts.iter()
                    .filter(|c| nd.depends[c.index()])
                    .map(d_of)
                    .collect::<Vec<_>>()
                    .join(" + "),
            ),
            Node::Mul(fs) => {
                let constants: Vec<String> = fs.iter().filter(|c| !nd.depends[c.index()]).map(paren).collect();
                let quotient = fs.iter().any(|c| {
                    nd.depends[c.index()]
                        && matches!(e.node(*c), Node::Pow([_, x]) if e.node(*x).as_num().is_some_and(|r| r < &num_traits::Zero::zero()))
                });
                // A quotient of two varying parts reads as the textbook quotient rule.
                let denominator = fs.iter().find_map(|c| match e.node(*c) {
                    Node::Pow([b, x])
                        if nd.depends[c.index()]
                            && e.node(*x).as_num().is_some_and(|r| crate::expr::rational_is(r, -1)) =>
                    {
                        Some(*b)
                    }
                    _ => None,
                });
                if varying.len() == 1 {
                    let rest = d_of(&varying[0]);
                    ("constant multiple", format!("{} * {rest}", constants.join("*")))
                } else if let (true, Some(den), Some(num)) = (
                    varying.len() == 2,
                    denominator,
                    varying.iter().find(|c| !matches!(e.node(**c), Node::Pow(_))),
                ) {
                    let scale = if constants.is_empty() {
                        String::new()
                    } else {
                        format!("{} * ", constants.join("*"))
                    };
                    explain_next = vec![*num, den];
                    let g = paren(&den);
                    (
                        "quotient rule",
                        format!("{scale}({}*{g} - {}*{})/{g}^2", d_of(num), paren(num), d_of(&den)),
                    )
                } else {
                    let terms: Vec<String> = varying
                        .iter()
                        .map(|v| {
                            let others: Vec<String> = fs.iter().filter(|c| *c != v).map(paren).collect();
                            format!("{}*{}", others.join("*"), d_of(v))
                        })
                        .collect();
                    (
                        if quotient { "quotient rule" } else { "product rule" },
                        terms.join(" + "),
                    )
                }
            }
            Node::Pow([base, x]) => {
                let (bv, xv) = (nd.depends[base.index()], nd.depends[x.index()]);
                if bv && !xv {
                    let n = text(x);
                    let inner = if matches!(e.node(*base), Node::Var(_)) {
                        String::new()
                    } else {
                        format!(" * {}", d_of(base))
                    };
                    (
                        if inner.is_empty() {
                            "power rule"
                        } else {
                            "power rule with the chain rule"
                        },
                        format!("{n}*{}^({n} - 1){inner}", paren(base)),
                    )
                } else if !bv {
                    (
                        "exponential rule",
                        format!("{}^{} * ln({}) * {}", paren(base), paren(x), text(base), d_of(x)),
                    )
                } else {
                    (
                        "general power rule",
                        format!(
                            "{}^{} * ({} * ln({}) + {} * {}/{})",
                            paren(base),
                            paren(x),
                            d_of(x),
                            text(base),
                            paren(x),
                            d_of(base),
                            paren(base)
                        ),
                    )
                }
            }
            Node::Call(f, [a]) => {
                let outer = outer_derivative(*f, &text(a));
                if matches!(e.node(*a), Node::Var(_)) {
                    (derivative_rule(*f), outer)
                } else {
                    ("chain rule", format!("{outer} * {}", d_of(a)))
                }
            }
            Node::Log([a, base]) => {
                if nd.depends[base.index()] {
                    (
                        "logarithm rule",
                        format!("d/d{var} (ln({}) / ln({}))", text(a), text(base)),
                    )
                } else {
                    (
                        "logarithm rule",
                        format!("{} / ({} * ln({}))", d_of(a), text(a), text(base)),
                    )
                }
            }
        };
        out.push(Step {
            rule,
            expr: text(&id),
            applied,
            result: show(&b, nd.derivative[i]),
        });
        // Children are explained after their parent, left to right.
        for c in explain_next.iter().rev() {
            stack.push(*c);
        }
    }
    out
}

/// The derivative of each function at a printed argument `u`, written out.
fn outer_derivative(f: Func, u: &str) -> String {
    match f {
        Func::Sin => format!("cos({u})"),
        Func::Cos => format!("-sin({u})"),
        Func::Tan => format!("sec({u})^2"),
        Func::Sec => format!("sec({u})*tan({u})"),
        Func::Csc => format!("-csc({u})*cot({u})"),
        Func::Cot => format!("-csc({u})^2"),
        Func::Asin => format!("1/sqrt(1 - ({u})^2)"),
        Func::Acos => format!("-1/sqrt(1 - ({u})^2)"),
        Func::Atan => format!("1/(1 + ({u})^2)"),
        Func::Sinh => format!("cosh({u})"),
        Func::Cosh => format!("sinh({u})"),
        Func::Tanh => format!("1 - tanh({u})^2"),
        Func::Asinh => format!("1/sqrt(({u})^2 + 1)"),
        Func::Acosh => format!("1/sqrt(({u})^2 - 1)"),
        Func::Atanh => format!("1/(1 - ({u})^2)"),
        Func::Exp => format!("exp({u})"),
        Func::Ln => format!("1/({u})"),
        Func::Sqrt => format!("1/(2*sqrt({u}))"),
        Func::Abs => format!("sign({u})"),
        Func::Sign => "0".to_string(),
    }
}

fn derivative_rule(f: Func) -> &'static str {
    match f {
        Func::Sin => "derivative of sin",
        Func::Cos => "derivative of cos",
        Func::Tan => "derivative of tan",
        Func::Sec => "derivative of sec",
        Func::Csc => "derivative of csc",
        Func::Cot => "derivative of cot",
        Func::Asin => "derivative of asin",
        Func::Acos => "derivative of acos",
        Func::Atan => "derivative of atan",
        Func::Sinh => "derivative of sinh",
        Func::Cosh => "derivative of cosh",
        Func::Tanh => "derivative of tanh",
        Func::Asinh => "derivative of asinh",
        Func::Acosh => "derivative of acosh",
        Func::Atanh => "derivative of atanh",
        Func::Exp => "derivative of exp",
        Func::Ln => "derivative of ln",
        Func::Sqrt => "derivative of sqrt",
        Func::Abs => "derivative of abs",
        Func::Sign => "derivative of sign",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    #[test]
    fn seed_reads_like_a_textbook() {
        let s = steps(&parse("5*x**4 + 3*x**3 + 7*x**2 + 9*x - 5").unwrap(), "x");
        assert_eq!(s[0].rule, "sum rule");
        assert_eq!(s[0].result, "20*x^3 + 9*x^2 + 14*x + 9");
        assert_eq!(
            (s[1].rule, s[1].applied.as_str()),
            ("constant multiple", "5 * d/dx (x^4)")
        );
        assert_eq!((s[2].rule, s[2].result.as_str()), ("power rule", "4*x^3"));
    }

    #[test]
    fn product_quotient_and_chain() {
        let rules = |f: &str| {
            steps(&parse(f).unwrap(), "x")
                .iter()
                .map(|s| s.rule)
                .collect::<Vec<_>>()
        };
        assert_eq!(rules("x^2*sin(x)"), ["product rule", "power rule", "derivative of sin"]);
        assert!(rules("sin(x)/(x^2 + 1)").contains(&"quotient rule"));
        assert_eq!(rules("sin(cos(x^2))"), ["chain rule", "chain rule", "power rule"]);
    }
}
