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
    // A product's factors as a person writes them: negative whole powers as one
    // division after the others (`ln(x^3)/(x^2*(x + 1))`, not `ln(x^3)*1/x^2*1/(x + 1)`).
    let product_text = |factors: &[Id]| {
        let mut above: Vec<String> = Vec::new();
        let mut below: Vec<String> = Vec::new();
        for c in factors {
            let negative_whole = match e.node(*c) {
                Node::Pow([base, k]) => e
                    .node(*k)
                    .as_num()
                    .filter(|r| r.is_integer() && r.numer() < &num_bigint::BigInt::from(0))
                    .map(|r| (*base, -r.numer())),
                _ => None,
            };
            match negative_whole {
                Some((base, k)) if k == num_bigint::BigInt::from(1) => below.push(paren(&base)),
                Some((base, k)) if is_bare(e, base) => below.push(format!("{}^{k}", text(&base))),
                Some((base, k)) => below.push(format!("({})^{k}", text(&base))),
                None => above.push(paren(c)),
            }
        }
        let mut t = if above.is_empty() {
            "1".to_string()
        } else {
            above.join("*")
        };
        match below.len() {
            0 => {}
            1 => t = format!("{t}/{}", below[0]),
            _ => t = format!("{t}/({})", below.join("*")),
        }
        t
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
                    // The product rule over every varying factor, the others written
                    // as a fraction where some are reciprocals (`sin(x)/ln(x)`, not
                    // `sin(x)*1/ln(x)`).
                    let terms: Vec<String> = varying
                        .iter()
                        .map(|v| {
                            let others: Vec<Id> = fs.iter().copied().filter(|c| c != v).collect();
                            format!("{}*{}", product_text(&others), d_of(v))
                        })
                        .collect();
                    ("product rule", terms.join(" + "))
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
                let outer = outer_derivative(*f, &Argument::of(e, *a, text(a)));
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

/// A function's argument as printed, alone (`u`), as the base of a power (`u^2`, `(2*x)^2`)
/// and after a division sign (`1/x`, `1/(x + 1)`).
struct Argument {
    plain: String,
    base: String,
    below: String,
}

impl Argument {
    fn of(e: &Expr, id: Id, plain: String) -> Argument {
        Argument {
            base: if is_bare(e, id) {
                plain.clone()
            } else {
                format!("({plain})")
            },
            below: denominator_text(e, id, &plain),
            plain,
        }
    }
}

/// `plain`, the text of node `id`, as it reads after a division sign: in parentheses
/// unless it is a name, a call, a whole number or a power of one of those.
fn denominator_text(e: &Expr, id: Id, plain: &str) -> String {
    let needs_none = match e.node(id) {
        Node::Pow([b, k]) => is_bare(e, *b) && is_bare(e, *k),
        _ => is_bare(e, id),
    };
    if needs_none {
        plain.to_string()
    } else {
        format!("({plain})")
    }
}

/// Whether node `id` prints as one token that no operator splits: a name, a call or a
/// whole number, not negative (`x`, `sin(x)`, `2`), so it needs no parentheses as a
/// power's base or after a division sign.
fn is_bare(e: &Expr, id: Id) -> bool {
    match e.node(id) {
        Node::Var(_) | Node::Const(_) | Node::Call(..) | Node::Log(_) => true,
        Node::Num(r) => r.is_integer() && r.numer() >= &num_bigint::BigInt::from(0),
        _ => false,
    }
}

/// The derivative of each function at its argument, written out.
fn outer_derivative(f: Func, a: &Argument) -> String {
    let (u, base, below) = (&a.plain, &a.base, &a.below);
    match f {
        Func::Sin => format!("cos({u})"),
        Func::Cos => format!("-sin({u})"),
        Func::Tan => format!("sec({u})^2"),
        Func::Sec => format!("sec({u})*tan({u})"),
        Func::Csc => format!("-csc({u})*cot({u})"),
        Func::Cot => format!("-csc({u})^2"),
        Func::Asin => format!("1/sqrt(1 - {base}^2)"),
        Func::Acos => format!("-1/sqrt(1 - {base}^2)"),
        Func::Atan => format!("1/(1 + {base}^2)"),
        Func::Sinh => format!("cosh({u})"),
        Func::Cosh => format!("sinh({u})"),
        Func::Tanh => format!("1 - tanh({u})^2"),
        Func::Asinh => format!("1/sqrt({base}^2 + 1)"),
        Func::Acosh => format!("1/sqrt({base}^2 - 1)"),
        Func::Atanh => format!("1/(1 - {base}^2)"),
        Func::Exp => format!("exp({u})"),
        Func::Ln => format!("1/{below}"),
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
        // Three varying factors, one a reciprocal: the product rule, which is what the
        // line writes out.
        assert_eq!(
            rules("x^2*sin(x)/ln(x)"),
            [
                "product rule",
                "power rule",
                "derivative of sin",
                "power rule with the chain rule",
                "derivative of ln"
            ]
        );
    }

    #[test]
    fn rules_are_written_as_a_person_writes_them() {
        let applied = |f: &str| {
            steps(&parse(f).unwrap(), "x")
                .into_iter()
                .map(|s| s.applied)
                .collect::<Vec<_>>()
        };
        // Reciprocal factors as one division, not `sin(x)*1/ln(x)`.
        assert_eq!(
            applied("x^2*sin(x)/ln(x)")[0],
            "sin(x)/ln(x)*d/dx (x^2) + x^2/ln(x)*d/dx (sin(x)) + x^2*sin(x)*d/dx (1/ln(x))"
        );
        assert_eq!(
            applied("ln(x)/(x^2*(x + 1))")[0],
            "ln(x)/(x + 1)*d/dx (1/x^2) + 1/(x^2*(x + 1))*d/dx (ln(x)) + ln(x)/x^2*d/dx (1/(x + 1))"
        );
        // Arguments in parentheses only where the operator around them needs them.
        assert_eq!(applied("ln(x)"), ["1/x"]);
        assert_eq!(applied("ln(2*x)")[0], "1/(2*x) * d/dx (2*x)");
        assert_eq!(applied("atan(x)"), ["1/(1 + x^2)"]);
        assert_eq!(applied("atan(2*x)")[0], "1/(1 + (2*x)^2) * d/dx (2*x)");
        assert_eq!(applied("asin(sin(x))")[0], "1/sqrt(1 - sin(x)^2) * d/dx (sin(x))");
        assert_eq!(applied("atanh(x^2)")[0], "1/(1 - (x^2)^2) * d/dx (x^2)");
    }
}
