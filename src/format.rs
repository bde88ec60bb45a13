//! Output formats besides the input syntax: LaTeX, Python (NumPy), C, Rust, and egg's
//! s-expressions.
//!
//! Behaviour:
//! - [`latex`]: `\frac{}{}` for quotients, `\sin`, `\ln`, `\sqrt{}`, `e^{…}`,
//!   `\left(\right)` only where needed, `\cdot` between numbers.
//! - [`python`]: NumPy names (`np.sin`, `np.log`, `np.pi`) and `**`; exact numbers as
//!   floating-point literals (the shortest that read back, `0.5`, `1e20`), so the code
//!   runs as it is.
//! - [`c`]: C99 with `<math.h>` (`pow`, `sin`, `log`, `fabs`, `M_PI`); [`c_function`]
//!   wraps it as `double f(double x, …)`.
//! - [`rust`]: `f64` methods (`x.sin()`, `x.powi(2)`, `x.powf(y)`); [`rust_function`]
//!   wraps it as `fn f(x: f64, …) -> f64`.
//! - Each has a `_with` form ([`latex_with`], [`python_with`], …) that spells numbers
//!   as [`Numbers`] says: with decimals, `0.6 x` and `1.3348 \cdot 10^{-10}` in LaTeX,
//!   `0.6*x` in code, where fractions give `\frac{3 x}{5}` and `3.0*x/5.0`.
//! - [`sexpr`]: egg's syntax, which reads back with [`from_sexpr`].
//!
//! ```
//! use dydx::{parse, format};
//! let e = parse("x^2/(2*y) + sin(x)").unwrap();
//! assert_eq!(format::latex(&e), r"\sin\left(x\right) + \frac{x^{2}}{2 y}");
//! assert_eq!(format::python(&e), "np.sin(x) + x**2/(2.0*y)");
//! assert_eq!(format::sexpr(&e), "(+ (sin x) (* 1/2 (^ x 2) (^ y -1)))");
//! assert_eq!(format::from_sexpr(&format::sexpr(&e)).unwrap(), e);
//! ```

use crate::expr::{rational_is, Constant, Expr, Func, Id, IdIndex, Node, Rational};
use crate::print::Numbers;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// The expression in egg's s-expression syntax (n-ary sums and products).
pub fn sexpr(e: &Expr) -> String {
    let rec: egg::RecExpr<Node> = e.nodes().to_vec().into();
    rec.to_string()
}

/// How many nodes the expression has written out as a tree (shared subexpressions
/// counted each time they occur), the size of [`ast`] and of the printed text;
/// saturating, so a DAG whose tree is astronomically large says `u64::MAX`.
///
/// ```
/// use dydx::{parse, format::tree_nodes};
/// // sin(x) twice, x once more, the product and the sum: 2*2 + 1 + 1 + 1.
/// assert_eq!(tree_nodes(&parse("sin(x)*x + sin(x)").unwrap()), 7);
/// ```
pub fn tree_nodes(e: &Expr) -> u64 {
    let mut size: Vec<u64> = Vec::with_capacity(e.len());
    for node in e.nodes() {
        let children = node
            .children()
            .iter()
            .fold(0u64, |acc, c| acc.saturating_add(size[c.index()]));
        size.push(children.saturating_add(1));
    }
    size.last().copied().unwrap_or(0)
}

/// The expression as a JSON tree: `{"op": "+", "args": [...]}` for operations and
/// calls, `{"num": "3/2"}`, `{"var": "x"}` and `{"const": "pi"}` for leaves.
pub fn ast(e: &Expr) -> serde_json::Value {
    ast_at(e, e.root())
}

fn ast_at(e: &Expr, id: Id) -> serde_json::Value {
    use serde_json::json;
    stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || match e.node(id) {
        Node::Num(r) => json!({"num": crate::print::rational_to_string(r)}),
        Node::Var(s) => json!({"var": s.as_str()}),
        Node::Const(k) => json!({"const": k.name()}),
        other => {
            // Built in place: `json!` would serialize the children's values again at
            // every level, cubic in the depth of a nested chain.
            let args: Vec<serde_json::Value> = other.children().iter().map(|&c| ast_at(e, c)).collect();
            let mut m = serde_json::Map::new();
            m.insert("op".into(), serde_json::Value::String(other.to_string()));
            m.insert("args".into(), serde_json::Value::Array(args));
            serde_json::Value::Object(m)
        }
    })
}

/// Reads an s-expression written by [`sexpr`] (or any in the same syntax).
pub fn from_sexpr(text: &str) -> Result<Expr, String> {
    let rec: egg::RecExpr<Node> = text.parse().map_err(|e| format!("{e:?}"))?;
    if rec.as_ref().is_empty() {
        return Err("empty s-expression".into());
    }
    Ok(crate::lang::from_rec_expr(&rec))
}

/// A term split for printing: sign, numeric coefficient, numerator and denominator
/// factors (denominator exponents made positive).
struct Split {
    negative: bool,
    coefficient: Rational,
    numerator: Vec<Id>,
    denominator: Vec<(Id, Rational)>,
    /// `k` for a factor `exp(-k)` (a number `k > 0`), which prints in the denominator
    /// as `e^{k}`: `\frac{6}{e x}`, as the text's `6/(e*x)`, not `6 e^{-1} x^{-1}`.
    e_denominator: Option<Rational>,
    /// A numerator sum whose terms are all negative, written negated with its sign
    /// taken by the term, as the text does ([`crate::print`]): `-e^{-t} \left(2
    /// \sin\left(2 t\right) + \cos\left(2 t\right)\right)`, not `e^{-t}
    /// \left(-2 \sin\left(2 t\right) - \cos\left(2 t\right)\right)`.
    flipped: Option<Id>,
    /// The factors other than the number, in canonical order.
    factors: Vec<Id>,
}

/// Whether a term's coefficient is negative (the canonical form keeps a product's
/// number first).
fn term_negative(e: &Expr, t: Id) -> bool {
    match e.node(t) {
        Node::Num(r) => r.is_negative(),
        Node::Mul(fs) => e.node(fs[0]).as_num().is_some_and(Signed::is_negative),
        _ => false,
    }
}

fn split(e: &Expr, id: Id) -> Split {
    let factors: Vec<Id> = match e.node(id) {
        Node::Mul(fs) => fs.to_vec(),
        _ => vec![id],
    };
    let lone = factors.len() == 1;
    let mut s = Split {
        negative: false,
        coefficient: Rational::one(),
        numerator: Vec::new(),
        denominator: Vec::new(),
        e_denominator: None,
        flipped: None,
        factors: Vec::new(),
    };
    for f in factors {
        if e.node(f).as_num().is_none() {
            s.factors.push(f);
        }
        match e.node(f) {
            Node::Num(r) => s.coefficient *= &**r,
            // As in the text: alone, only `exp(-1)` is a quotient (`\frac{1}{e}`);
            // `e^{-2}` is as short as `\frac{1}{e^{2}}`.
            Node::Call(Func::Exp, [x])
                if e.node(*x)
                    .as_num()
                    .is_some_and(|r| r.is_negative() && (!lone || rational_is(r, -1))) =>
            {
                s.e_denominator = e.node(*x).as_num().map(|r| -r);
            }
            Node::Pow([b, x]) if e.node(*x).as_num().is_some_and(Signed::is_negative) => {
                let r = e.node(*x).as_num().cloned().unwrap_or_else(Rational::one);
                s.denominator.push((*b, -r));
            }
            _ => s.numerator.push(f),
        }
    }
    crate::print::display_order(&mut s.numerator, |&f| crate::print::display_rank(e, f));
    crate::print::display_order(&mut s.denominator, |&(b, _)| crate::print::display_rank(e, b));
    if s.coefficient.is_negative() {
        s.negative = true;
        s.coefficient = -s.coefficient.clone();
        return s;
    }
    // One all-negative sum beside at least one other factor takes the sign out.
    let all_negative = |f: Id| {
        matches!(e.node(f), Node::Add(ts)
            if ts.iter().all(|&t| term_negative(e, t) && !matches!(e.node(t), Node::Add(_))))
    };
    let sums: Vec<Id> = s
        .numerator
        .iter()
        .copied()
        .filter(|&f| matches!(e.node(f), Node::Add(_)))
        .collect();
    let others = s.numerator.len().saturating_sub(1)
        + s.denominator.len()
        + usize::from(s.e_denominator.is_some())
        + usize::from(!s.coefficient.is_one());
    if let [sum] = sums[..] {
        if all_negative(sum) && others >= 1 {
            s.negative = true;
            s.flipped = Some(sum);
        }
    }
    s
}

/// The expression in LaTeX, numbers as fractions.
pub fn latex(e: &Expr) -> String {
    latex_with(e, Numbers::Fractions)
}

/// The expression in LaTeX, numbers spelled as `numbers` says: with
/// [`Numbers::Decimals`], `0.6 x` and `1.3348 \cdot 10^{-10}` where the text output
/// writes `0.6*x` and `1.3348e-10`.
///
/// ```
/// use dydx::{parse, format::latex_with, print::Numbers};
/// let e = parse("-1.3348e-10*m/x^3 + 0.6*x").unwrap();
/// assert_eq!(latex_with(&e, Numbers::Decimals), r"0.6 x - \frac{1.3348 \cdot 10^{-10} m}{x^{3}}");
/// assert_eq!(latex_with(&e, Numbers::Fractions), r"\frac{3 x}{5} - \frac{3337 m}{25000000000000 x^{3}}");
/// ```
pub fn latex_with(e: &Expr, numbers: Numbers) -> String {
    latex_at(e, e.root(), numbers)
}

/// A sum negated, term by term.
fn latex_negated(e: &Expr, id: Id, numbers: Numbers) -> String {
    stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || {
        signed_sum(e, id, true, |s| latex_term(e, s, numbers))
    })
}

fn latex_at(e: &Expr, id: Id, numbers: Numbers) -> String {
    stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || latex_sum(e, id, numbers))
}

fn latex_sum(e: &Expr, id: Id, numbers: Numbers) -> String {
    signed_sum(e, id, false, |s| latex_term(e, s, numbers))
}

/// A sum with `a - b` for negative terms, leading with a positive term (as the text
/// printer does), every term's sign turned with `negate`; `term` writes each term's
/// magnitude.
fn signed_sum(e: &Expr, id: Id, negate: bool, term: impl Fn(&Split) -> String) -> String {
    let terms: Vec<Id> = match e.node(id) {
        Node::Add(ts) => ts.to_vec(),
        _ => vec![id],
    };
    // A term whose mostly negative polynomial turns after ` - ` leads only when no
    // other positive term can, as in the text ([`crate::print::turnable_sum`]).
    let turnable = |t: Id| !negate && crate::print::turnable_sum(e, t).is_some();
    let lead = terms
        .iter()
        .position(|&t| split(e, t).negative == negate && !turnable(t))
        .or_else(|| terms.iter().position(|&t| split(e, t).negative == negate))
        .unwrap_or(0);
    let order =
        std::iter::once(terms[lead]).chain(terms.iter().enumerate().filter(|(k, _)| *k != lead).map(|(_, t)| *t));
    let mut out = String::new();
    for (k, t) in order.enumerate() {
        let mut s = split(e, t);
        if k > 0 && !negate && !s.negative && s.flipped.is_none() {
            if let Some(sum) = crate::print::turnable_sum(e, t) {
                s.negative = true;
                s.flipped = Some(sum);
            }
        }
        let negative = s.negative != negate;
        if k == 0 {
            if negative {
                out.push('-');
            }
        } else {
            out.push_str(if negative { " - " } else { " + " });
        }
        out.push_str(&term(&s));
    }
    out
}

/// A number's decimal spelling in LaTeX, with [`Numbers::Decimals`] where the text
/// output has one ([`crate::print::decimal_text`], [`crate::print::scientific_text`]):
/// `0.6`, `1.3348 \cdot 10^{-10}`, `10^{400}`. `None` otherwise.
fn latex_decimal(r: &Rational, numbers: Numbers) -> Option<String> {
    if numbers != Numbers::Decimals {
        return None;
    }
    let text = if r.is_integer() {
        crate::print::scientific_text(r)?
    } else {
        crate::print::decimal_text(r)?
    };
    let (sign, text) = match text.strip_prefix('-') {
        Some(t) => ("-", t),
        None => ("", text.as_str()),
    };
    Some(match text.split_once('e') {
        Some(("1", k)) => format!("{sign}10^{{{k}}}"),
        Some((m, k)) => format!("{sign}{m} \\cdot 10^{{{k}}}"),
        None => format!("{sign}{text}"),
    })
}

/// An integer in LaTeX: [`latex_decimal`]'s scientific spelling where it has one.
fn latex_integer(n: &num_bigint::BigInt, numbers: Numbers) -> String {
    latex_decimal(&Rational::from_integer(n.clone()), numbers).unwrap_or_else(|| n.to_string())
}

fn latex_rational(r: &Rational, numbers: Numbers) -> String {
    if let Some(text) = latex_decimal(r, numbers) {
        return text;
    }
    if r.is_integer() {
        r.numer().to_string()
    } else {
        format!("\\frac{{{}}}{{{}}}", r.numer(), r.denom())
    }
}

/// The coefficient's text (if it is written) and the factors, joined.
fn latex_product(
    e: &Expr,
    coefficient: Option<String>,
    factors: &[Id],
    flipped: Option<Id>,
    numbers: Numbers,
) -> String {
    let mut parts: Vec<String> = coefficient.into_iter().collect();
    for &f in factors {
        let text = match e.node(f) {
            Node::Add(_) if flipped == Some(f) => format!("\\left({}\\right)", latex_negated(e, f, numbers)),
            Node::Add(_) => format!("\\left({}\\right)", latex_at(e, f, numbers)),
            _ => latex_factor(e, f, numbers),
        };
        parts.push(text);
    }
    // `\cdot` between numbers (and before a factor that starts with a digit).
    let mut out = String::new();
    for (k, p) in parts.iter().enumerate() {
        if k > 0 {
            let starts_digit = p.starts_with(|c: char| c.is_ascii_digit());
            out.push_str(if starts_digit { " \\cdot " } else { " " });
        }
        out.push_str(p);
    }
    out
}

fn latex_term(e: &Expr, s: &Split, numbers: Numbers) -> String {
    // A lone denominator sum's content joins the coefficient, as in the text
    // ([`crate::print`]): `\frac{3 \sqrt{x}}{2 \left(x^{2} + 1\right)}`,
    // `\frac{0.5}{y^{2} + 1}`.
    let joined = crate::print::denominator_content(e, numbers, &s.coefficient, &s.factors).map(|(sum, g, _)| {
        let mut b = crate::expr::Builder::new();
        let ids = b.import_all(e);
        let scale = b.num(g.recip());
        let scaled = b.mul([scale, ids[sum.index()]]);
        (sum, g, b.finish(scaled))
    });
    let coefficient = match &joined {
        Some((_, g, _)) => &s.coefficient / g,
        None => s.coefficient.clone(),
    };
    // The coefficient as one decimal in the numerator (`0.6 x`), or as an integer
    // numerator and denominator (`\frac{3 x}{5}`).
    let decimal = (!coefficient.is_one())
        .then(|| latex_decimal(&coefficient, numbers))
        .flatten();
    let (numer_coefficient, denom_coefficient) = match decimal {
        Some(text) => (Some(text), None),
        None => (
            (!coefficient.numer().is_one() || s.numerator.is_empty())
                .then(|| latex_integer(coefficient.numer(), numbers)),
            (!coefficient.denom().is_one()).then(|| latex_integer(coefficient.denom(), numbers)),
        ),
    };
    let lone_numerator_sum =
        s.numerator.len() == 1 && numer_coefficient.is_none() && matches!(e.node(s.numerator[0]), Node::Add(_));
    let numer = latex_product(e, numer_coefficient, &s.numerator, s.flipped, numbers);
    if s.denominator.is_empty() && denom_coefficient.is_none() && s.e_denominator.is_none() {
        return match (s.numerator.as_slice(), coefficient.is_one()) {
            // A lone sum as a term keeps its parentheses only when negated.
            ([f], true) if matches!(e.node(*f), Node::Add(_)) && !s.negative => latex_at(e, *f, numbers),
            _ => numer,
        };
    }
    let written_denominators =
        s.denominator.len() + usize::from(denom_coefficient.is_some()) + usize::from(s.e_denominator.is_some());
    let mut den_parts: Vec<String> = denom_coefficient.into_iter().collect();
    // `e` leads its denominator after the number, as in the text (`x/(2*e)`).
    if let Some(k) = &s.e_denominator {
        den_parts.push(if k.is_one() {
            "e".to_string()
        } else {
            format!("e^{{{}}}", latex_rational(k, numbers))
        });
    }
    for (b, x) in &s.denominator {
        den_parts.push(
            if let Some((_, _, scaled)) = joined.as_ref().filter(|(sum, _, _)| sum == b) {
                match written_denominators {
                    1 => latex_with(scaled, numbers),
                    _ => format!("\\left({}\\right)", latex_with(scaled, numbers)),
                }
            } else if x.is_one() {
                match e.node(*b) {
                    Node::Add(_) if written_denominators > 1 => {
                        format!("\\left({}\\right)", latex_at(e, *b, numbers))
                    }
                    Node::Add(_) => latex_at(e, *b, numbers),
                    _ => latex_factor(e, *b, numbers),
                }
            } else {
                latex_power(e, *b, &LatexExp::Num(x.clone()), numbers)
            },
        );
    }
    let mut den = String::new();
    for (k, p) in den_parts.iter().enumerate() {
        if k > 0 {
            den.push_str(if p.starts_with(|c: char| c.is_ascii_digit()) {
                " \\cdot "
            } else {
                " "
            });
        }
        den.push_str(p);
    }
    let numer = if lone_numerator_sum && s.flipped.is_some() {
        latex_negated(e, s.numerator[0], numbers)
    } else if lone_numerator_sum {
        latex_at(e, s.numerator[0], numbers)
    } else {
        numer
    };
    format!("\\frac{{{numer}}}{{{den}}}")
}

enum LatexExp {
    Num(Rational),
    Node(Id),
}

fn latex_function_name(f: Func) -> &'static str {
    match f {
        Func::Sin => "\\sin",
        Func::Cos => "\\cos",
        Func::Tan => "\\tan",
        Func::Sec => "\\sec",
        Func::Csc => "\\csc",
        Func::Cot => "\\cot",
        Func::Asin => "\\arcsin",
        Func::Acos => "\\arccos",
        Func::Atan => "\\arctan",
        Func::Sinh => "\\sinh",
        Func::Cosh => "\\cosh",
        Func::Tanh => "\\tanh",
        Func::Asinh => "\\operatorname{arsinh}",
        Func::Acosh => "\\operatorname{arcosh}",
        Func::Atanh => "\\operatorname{artanh}",
        Func::Exp => "\\exp",
        Func::Ln => "\\ln",
        Func::Sqrt => "\\sqrt",
        Func::Abs => "\\operatorname{abs}",
        Func::Sign => "\\operatorname{sgn}",
    }
}

fn latex_power(e: &Expr, base: Id, x: &LatexExp, numbers: Numbers) -> String {
    let b = match e.node(base) {
        // Bars delimit their argument as parentheses would: `\left|x\right|^{3}`.
        Node::Var(_) | Node::Const(_) | Node::Call(Func::Abs, _) => latex_factor(e, base, numbers),
        Node::Num(r) if r.is_integer() && !r.is_negative() => r.to_string(),
        // Powers of functions read best as \sin^{2}\left(x\right).
        Node::Call(f, [a]) if !matches!(f, Func::Sqrt | Func::Abs | Func::Exp) => {
            let exp = match x {
                LatexExp::Num(r) => latex_rational(r, numbers),
                LatexExp::Node(n) => latex_at(e, *n, numbers),
            };
            return format!(
                "{}^{{{exp}}}\\left({}\\right)",
                latex_function_name(*f),
                latex_at(e, *a, numbers)
            );
        }
        _ => format!("\\left({}\\right)", latex_at(e, base, numbers)),
    };
    let exp = match x {
        LatexExp::Num(r) => latex_rational(r, numbers),
        LatexExp::Node(n) => latex_at(e, *n, numbers),
    };
    format!("{b}^{{{exp}}}")
}

fn latex_factor(e: &Expr, id: Id, numbers: Numbers) -> String {
    match e.node(id) {
        Node::Num(r) if !r.is_negative() => latex_rational(r, numbers),
        Node::Num(r) => format!("\\left({}\\right)", latex_rational(r, numbers)),
        Node::Var(s) => latex_variable(s.as_str()),
        Node::Const(Constant::Pi) => "\\pi".to_string(),
        Node::Const(Constant::E) => "e".to_string(),
        Node::Call(Func::Sqrt, [a]) => format!("\\sqrt{{{}}}", latex_at(e, *a, numbers)),
        Node::Call(Func::Exp, [a]) => format!("e^{{{}}}", latex_at(e, *a, numbers)),
        Node::Call(Func::Abs, [a]) => format!("\\left|{}\\right|", latex_at(e, *a, numbers)),
        Node::Call(f, [a]) => format!("{}\\left({}\\right)", latex_function_name(*f), latex_at(e, *a, numbers)),
        Node::Log([a, b]) => format!(
            "\\log_{{{}}}\\left({}\\right)",
            latex_at(e, *b, numbers),
            latex_at(e, *a, numbers)
        ),
        Node::Pow([b, x]) => match e.node(*x).as_num() {
            Some(r) if r.is_negative() => format!("\\frac{{1}}{{{}}}", latex_power(e, *b, &LatexExp::Num(-r), numbers)),
            Some(r) => latex_power(e, *b, &LatexExp::Num(r.clone()), numbers),
            None => latex_power(e, *b, &LatexExp::Node(*x), numbers),
        },
        Node::Add(_) | Node::Mul(_) => format!("\\left({}\\right)", latex_at(e, id, numbers)),
    }
}

/// Greek letter names become their symbols; a trailing number becomes a subscript.
fn latex_variable(name: &str) -> String {
    const GREEK: &[&str] = &[
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu",
        "xi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
        "Xi", "Sigma", "Phi", "Psi", "Omega",
    ];
    let (stem, sub) = match name.split_once('_') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => (a.to_string(), Some(b.to_string())),
        _ => {
            let k = name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            if k > 0 && k < name.len() {
                (name[..k].to_string(), Some(name[k..].to_string()))
            } else {
                (name.to_string(), None)
            }
        }
    };
    let stem = if GREEK.contains(&stem.as_str()) {
        format!("\\{stem}")
    } else if stem.len() > 1 {
        format!("\\mathrm{{{}}}", stem.replace('_', "\\_"))
    } else {
        stem
    };
    match sub {
        Some(s) => format!("{stem}_{{{}}}", s.replace('_', "\\_")),
        None => stem,
    }
}

/// A language for code output.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Code {
    Python,
    C,
    Rust,
}

/// The nearest `f64` to `r` as a literal: the shortest that reads back as it, in
/// scientific notation below 1e-4 and from 1e16 up (`3.0`, `0.5`, `1.3348e-10`,
/// `1e20`), as Python's `repr` writes it.
fn float_literal(r: &Rational, lang: Code) -> String {
    let v = r.to_f64().unwrap_or(f64::NAN);
    let text = format!("{v:?}");
    match lang {
        Code::Rust => format!("{text}_f64"),
        _ => text,
    }
}

fn code_function(f: Func, lang: Code) -> &'static str {
    match (lang, f) {
        (Code::Python, Func::Sin) => "np.sin",
        (Code::Python, Func::Cos) => "np.cos",
        (Code::Python, Func::Tan) => "np.tan",
        (Code::Python, Func::Asin) => "np.arcsin",
        (Code::Python, Func::Acos) => "np.arccos",
        (Code::Python, Func::Atan) => "np.arctan",
        (Code::Python, Func::Sinh) => "np.sinh",
        (Code::Python, Func::Cosh) => "np.cosh",
        (Code::Python, Func::Tanh) => "np.tanh",
        (Code::Python, Func::Asinh) => "np.arcsinh",
        (Code::Python, Func::Acosh) => "np.arccosh",
        (Code::Python, Func::Atanh) => "np.arctanh",
        (Code::Python, Func::Exp) => "np.exp",
        (Code::Python, Func::Ln) => "np.log",
        (Code::Python, Func::Sqrt) => "np.sqrt",
        (Code::Python, Func::Abs) => "np.abs",
        (Code::Python, Func::Sign) => "np.sign",
        (Code::C, Func::Sin) => "sin",
        (Code::C, Func::Cos) => "cos",
        (Code::C, Func::Tan) => "tan",
        (Code::C, Func::Asin) => "asin",
        (Code::C, Func::Acos) => "acos",
        (Code::C, Func::Atan) => "atan",
        (Code::C, Func::Sinh) => "sinh",
        (Code::C, Func::Cosh) => "cosh",
        (Code::C, Func::Tanh) => "tanh",
        (Code::C, Func::Asinh) => "asinh",
        (Code::C, Func::Acosh) => "acosh",
        (Code::C, Func::Atanh) => "atanh",
        (Code::C, Func::Exp) => "exp",
        (Code::C, Func::Ln) => "log",
        (Code::C, Func::Sqrt) => "sqrt",
        (Code::C, Func::Abs) => "fabs",
        (Code::Rust, Func::Sin) => "sin",
        (Code::Rust, Func::Cos) => "cos",
        (Code::Rust, Func::Tan) => "tan",
        (Code::Rust, Func::Asin) => "asin",
        (Code::Rust, Func::Acos) => "acos",
        (Code::Rust, Func::Atan) => "atan",
        (Code::Rust, Func::Sinh) => "sinh",
        (Code::Rust, Func::Cosh) => "cosh",
        (Code::Rust, Func::Tanh) => "tanh",
        (Code::Rust, Func::Asinh) => "asinh",
        (Code::Rust, Func::Acosh) => "acosh",
        (Code::Rust, Func::Atanh) => "atanh",
        (Code::Rust, Func::Exp) => "exp",
        (Code::Rust, Func::Ln) => "ln",
        (Code::Rust, Func::Sqrt) => "sqrt",
        (Code::Rust, Func::Abs) => "abs",
        // sec, csc, cot and sign are written out below.
        _ => "",
    }
}

/// The expression as a Python (NumPy) expression.
pub fn python(e: &Expr) -> String {
    python_with(e, Numbers::Fractions)
}

/// [`python`] with numbers spelled as `numbers` says: with [`Numbers::Decimals`], a
/// coefficient with a terminating decimal is one literal (`-1.3348e-10*m`, not
/// `-3337.0*m/25000000000000.0`).
pub fn python_with(e: &Expr, numbers: Numbers) -> String {
    code_at(e, e.root(), Code::Python, numbers)
}

/// The expression as a C99 expression (with `<math.h>`).
pub fn c(e: &Expr) -> String {
    c_with(e, Numbers::Fractions)
}

/// [`c`] with numbers spelled as `numbers` says: with [`Numbers::Decimals`], a
/// coefficient with a terminating decimal is one literal (`-1.3348e-10*m`, not
/// `-3337.0*m/25000000000000.0`).
pub fn c_with(e: &Expr, numbers: Numbers) -> String {
    code_at(e, e.root(), Code::C, numbers)
}

/// The expression as a Rust `f64` expression.
pub fn rust(e: &Expr) -> String {
    rust_with(e, Numbers::Fractions)
}

/// [`rust`] with numbers spelled as `numbers` says: with [`Numbers::Decimals`], a
/// coefficient with a terminating decimal is one literal (`-1.3348e-10*m`, not
/// `-3337.0*m/25000000000000.0`).
pub fn rust_with(e: &Expr, numbers: Numbers) -> String {
    code_at(e, e.root(), Code::Rust, numbers)
}

/// A complete C function `double NAME(double x, …)` returning the expression, with
/// `params` as its parameters (they must include the expression's variables).
pub fn c_function(e: &Expr, name: &str, params: &[String], numbers: Numbers) -> String {
    let params: Vec<String> = params.iter().map(|v| format!("double {v}")).collect();
    format!(
        "#include <math.h>\n\ndouble {name}({}) {{\n    return {};\n}}\n",
        params.join(", "),
        c_with(e, numbers)
    )
}

/// A complete Rust function `fn NAME(x: f64, …) -> f64` returning the expression.
pub fn rust_function(e: &Expr, name: &str, params: &[String], numbers: Numbers) -> String {
    let params: Vec<String> = params.iter().map(|v| format!("{v}: f64")).collect();
    format!(
        "#[allow(unused_variables, unused_parens)]\npub fn {name}({}) -> f64 {{\n    {}\n}}\n",
        params.join(", "),
        rust_with(e, numbers)
    )
}

/// A complete Python function `def NAME(x, …):` returning the expression.
pub fn python_function(e: &Expr, name: &str, params: &[String], numbers: Numbers) -> String {
    format!(
        "import numpy as np\n\n\ndef {name}({}):\n    return {}\n",
        params.join(", "),
        python_with(e, numbers)
    )
}

/// A language for generated code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// Python with NumPy.
    Python,
    /// C99 with `<math.h>`.
    C,
    /// Rust.
    Rust,
}

/// A function returning a matrix of expressions: NumPy `np.array`, a C function filling
/// `out[rows][cols]`, or a Rust function returning `[[f64; C]; R]`.
pub fn matrix_function(rows: &[Vec<&Expr>], name: &str, params: &[String], lang: Language, numbers: Numbers) -> String {
    matrix_function_cse(rows, name, params, lang, false, numbers)
}

/// [`matrix_function`], optionally with the subexpressions the entries share computed
/// once as temporaries (symmetric Hessian entries become one temporary).
pub fn matrix_function_cse(
    rows: &[Vec<&Expr>],
    name: &str,
    params: &[String],
    lang: Language,
    with_cse: bool,
    numbers: Numbers,
) -> String {
    let flat: Vec<&Expr> = rows.iter().flatten().copied().collect();
    let (temporaries, outputs) = if with_cse {
        let c = cse(&flat);
        (c.temporaries, c.outputs)
    } else {
        (Vec::new(), flat.iter().map(|e| (*e).clone()).collect())
    };
    let width = rows.first().map_or(0, Vec::len);
    let out_rows: Vec<Vec<&Expr>> = outputs.chunks(width.max(1)).map(|r| r.iter().collect()).collect();
    let code = |x: &Expr| code_at(x, x.root(), lang.code(), numbers);
    let temps = |indent: &str, decl: &str| {
        temporaries
            .iter()
            .map(|(t, x)| {
                format!(
                    "{indent}{decl}{t}{} = {}{}\n",
                    if lang == Language::Rust { ": f64" } else { "" },
                    code(x),
                    if lang == Language::Python { "" } else { ";" }
                )
            })
            .collect::<String>()
    };
    let rows = &out_rows;
    let (nr, nc) = (rows.len(), rows.first().map_or(0, Vec::len));
    match lang {
        Language::Python => {
            let body: Vec<String> = rows
                .iter()
                .map(|row| {
                    format!(
                        "        [{}]",
                        row.iter().map(|e| code(e)).collect::<Vec<_>>().join(", ")
                    )
                })
                .collect();
            format!(
                "import numpy as np\n\n\ndef {name}({}):\n{}    return np.array([\n{},\n    ])\n",
                params.join(", "),
                temps("    ", ""),
                body.join(",\n")
            )
        }
        Language::C => {
            let mut body = temps("    ", "const double ");
            for (i, row) in rows.iter().enumerate() {
                for (j, e) in row.iter().enumerate() {
                    body.push_str(&format!("    out[{i}][{j}] = {};\n", code(e)));
                }
            }
            let params: Vec<String> = params.iter().map(|v| format!("double {v}")).collect();
            format!(
                "#include <math.h>\n\nvoid {name}({}, double out[{nr}][{nc}]) {{\n{body}}}\n",
                params.join(", ")
            )
        }
        Language::Rust => {
            let body: Vec<String> = rows
                .iter()
                .map(|row| {
                    format!(
                        "        [{}],",
                        row.iter().map(|e| code(e)).collect::<Vec<_>>().join(", ")
                    )
                })
                .collect();
            let params: Vec<String> = params.iter().map(|v| format!("{v}: f64")).collect();
            format!(
                "#[allow(unused_variables, unused_parens)]\npub fn {name}({}) -> [[f64; {nc}]; {nr}] {{\n{}    [\n{}\n    ]\n}}\n",
                params.join(", "),
                temps("    ", "let "),
                body.join("\n")
            )
        }
    }
}

/// Common subexpressions of several expressions, as temporaries.
pub struct Cse {
    /// `(name, expression)` in order: each may use the ones before it.
    pub temporaries: Vec<(String, Expr)>,
    /// The expressions, written in terms of the temporaries.
    pub outputs: Vec<Expr>,
}

/// Finds the subexpressions (operations, not leaves) used more than once across
/// `exprs` and names them `t0, t1, …` in the order they are computed (or `cse0, …` if
/// a variable is already called `t0`).
pub fn cse(exprs: &[&Expr]) -> Cse {
    use crate::expr::Builder;
    let mut b = Builder::new();
    let roots: Vec<Id> = exprs.iter().map(|e| b.import(e)).collect();
    // One arena holding everything, children first.
    let mut all = Builder::new();
    let combined_roots: Vec<Id> = roots.iter().map(|&r| all.import(&b.finish(r))).collect();
    let sum_root = all.intern_tuple(&combined_roots);
    let arena = all.finish(sum_root);
    let n = arena.len();
    let mut uses = vec![0usize; n];
    for node in arena.nodes() {
        for c in node.children() {
            uses[c.index()] += 1;
        }
    }
    let taken = exprs
        .iter()
        .flat_map(|e| e.variables())
        .any(|v| v.starts_with('t') && v[1..].chars().all(|c| c.is_ascii_digit()) && v.len() > 1);
    let prefix = if taken { "cse" } else { "t" };
    let root = arena.root();
    let mut names: Vec<Option<String>> = vec![None; n];
    let mut temporaries = Vec::new();
    let mut out = Builder::new();
    let mut map: Vec<Id> = Vec::with_capacity(n);
    for (i, node) in arena.nodes().iter().enumerate() {
        let id = Id::from_index(i);
        if id == root {
            map.push(id);
            continue;
        }
        let built = out.make(node, |c| map[c.index()]);
        let worth = !matches!(node, Node::Num(_) | Node::Var(_) | Node::Const(_));
        if worth && uses[i] >= 2 {
            let name = format!("{prefix}{}", temporaries.len());
            temporaries.push((name.clone(), out.finish(built)));
            names[i] = Some(name.clone());
            map.push(out.var(&name));
        } else {
            map.push(built);
        }
    }
    let outputs = arena
        .node(root)
        .children()
        .iter()
        .map(|c| out.finish(map[c.index()]))
        .collect();
    Cse { temporaries, outputs }
}

/// A function computing one expression with common subexpressions as temporaries.
pub fn function_with_cse(e: &Expr, name: &str, params: &[String], lang: Language, numbers: Numbers) -> String {
    let c = cse(&[e]);
    let code = |x: &Expr| code_at(x, x.root(), lang.code(), numbers);
    match lang {
        Language::Python => {
            let mut body = String::new();
            for (t, x) in &c.temporaries {
                body.push_str(&format!("    {t} = {}\n", code(x)));
            }
            format!(
                "import numpy as np\n\n\ndef {name}({}):\n{body}    return {}\n",
                params.join(", "),
                code(&c.outputs[0])
            )
        }
        Language::C => {
            let mut body = String::new();
            for (t, x) in &c.temporaries {
                body.push_str(&format!("    const double {t} = {};\n", code(x)));
            }
            let params: Vec<String> = params.iter().map(|v| format!("double {v}")).collect();
            format!(
                "#include <math.h>\n\ndouble {name}({}) {{\n{body}    return {};\n}}\n",
                params.join(", "),
                code(&c.outputs[0])
            )
        }
        Language::Rust => {
            let mut body = String::new();
            for (t, x) in &c.temporaries {
                body.push_str(&format!("    let {t}: f64 = {};\n", code(x)));
            }
            let params: Vec<String> = params.iter().map(|v| format!("{v}: f64")).collect();
            format!(
                "#[allow(unused_variables, unused_parens)]\npub fn {name}({}) -> f64 {{\n{body}    {}\n}}\n",
                params.join(", "),
                code(&c.outputs[0])
            )
        }
    }
}

impl Language {
    fn code(self) -> Code {
        match self {
            Language::Python => Code::Python,
            Language::C => Code::C,
            Language::Rust => Code::Rust,
        }
    }
}

fn code_at(e: &Expr, id: Id, lang: Code, numbers: Numbers) -> String {
    stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || code_sum(e, id, lang, numbers))
}

fn code_sum(e: &Expr, id: Id, lang: Code, numbers: Numbers) -> String {
    signed_sum(e, id, false, |s| code_term(e, s, lang, numbers))
}

fn code_term(e: &Expr, s: &Split, lang: Code, numbers: Numbers) -> String {
    let mut numer: Vec<String> = Vec::new();
    // With decimals, a coefficient with a terminating decimal is one literal
    // (`0.6*x`); otherwise its numerator and denominator are (`3.0*x/5.0`).
    let decimal = numbers == Numbers::Decimals && crate::print::decimal_text(&s.coefficient).is_some();
    if decimal {
        numer.push(float_literal(&s.coefficient, lang));
    } else if !s.coefficient.numer().is_one() || s.numerator.is_empty() {
        numer.push(float_literal(
            &Rational::from_integer(s.coefficient.numer().clone()),
            lang,
        ));
    }
    for &f in &s.numerator {
        numer.push(if s.flipped == Some(f) {
            format!("({})", signed_sum(e, f, true, |s| code_term(e, s, lang, numbers)))
        } else {
            code_factor(e, f, lang, numbers)
        });
    }
    let mut den: Vec<String> = Vec::new();
    if !decimal && !s.coefficient.denom().is_one() {
        den.push(float_literal(
            &Rational::from_integer(s.coefficient.denom().clone()),
            lang,
        ));
    }
    // `exp(-k)` as a denominator, as the text and LaTeX write it (`x/e`).
    if let Some(k) = &s.e_denominator {
        let literal = float_literal(k, lang);
        den.push(match lang {
            Code::Python if k.is_one() => "np.e".to_string(),
            Code::C if k.is_one() => "M_E".to_string(),
            Code::Rust if k.is_one() => "std::f64::consts::E".to_string(),
            Code::Python => format!("np.exp({literal})"),
            Code::C => format!("exp({literal})"),
            Code::Rust => format!("({literal}).exp()"),
        });
    }
    for (b, x) in &s.denominator {
        den.push(if x.is_one() {
            code_factor(e, *b, lang, numbers)
        } else {
            code_power(e, *b, &CodeExp::Num(x.clone()), lang, numbers)
        });
    }
    let numer = numer.join("*");
    match den.len() {
        0 => numer,
        1 => format!("{numer}/{}", den[0]),
        _ => format!("{numer}/({})", den.join("*")),
    }
}

enum CodeExp {
    Num(Rational),
    Node(Id),
}

fn code_power(e: &Expr, base: Id, x: &CodeExp, lang: Code, numbers: Numbers) -> String {
    let b = code_factor(e, base, lang, numbers);
    // Python's `**` is right-associative: a power as a base needs parentheses.
    let b = if lang == Code::Python && matches!(e.node(base), Node::Pow(_)) {
        format!("({b})")
    } else {
        b
    };
    let exp = match x {
        CodeExp::Num(r) => r.clone(),
        CodeExp::Node(n) => {
            let xe = code_at(e, *n, lang, numbers);
            return match lang {
                Code::Python => format!("{b}**({xe})"),
                Code::C => format!("pow({b}, {xe})"),
                Code::Rust => format!("{b}.powf({xe})"),
            };
        }
    };
    match lang {
        Code::Python if exp.is_integer() => format!("{b}**{}", exp.numer()),
        Code::Python => format!("{b}**({})", float_literal(&exp, lang)),
        Code::C => format!("pow({b}, {})", float_literal(&exp, lang)),
        Code::Rust if exp.is_integer() && exp.numer().to_i32().is_some() => format!("{b}.powi({})", exp.numer()),
        Code::Rust => format!("{b}.powf({})", float_literal(&exp, lang)),
    }
}

/// A factor: an atom, a call, a power, or anything else in parentheses.
fn code_factor(e: &Expr, id: Id, lang: Code, numbers: Numbers) -> String {
    match e.node(id) {
        Node::Num(r) if !r.is_negative() && r.is_integer() => float_literal(r, lang),
        Node::Num(r) => format!("({})", float_literal(r, lang)),
        Node::Var(s) => s.as_str().to_string(),
        Node::Const(k) => match (lang, k) {
            (Code::Python, Constant::Pi) => "np.pi".into(),
            (Code::Python, Constant::E) => "np.e".into(),
            (Code::C, Constant::Pi) => "M_PI".into(),
            (Code::C, Constant::E) => "M_E".into(),
            (Code::Rust, Constant::Pi) => "std::f64::consts::PI".into(),
            (Code::Rust, Constant::E) => "std::f64::consts::E".into(),
        },
        Node::Call(f, [a]) => {
            let arg = code_at(e, *a, lang, numbers);
            let call = |name: &str| match lang {
                Code::Rust => format!("({arg}).{name}()"),
                _ => format!("{name}({arg})"),
            };
            match f {
                Func::Sec => format!("(1.0/{})", call(code_function(Func::Cos, lang))),
                Func::Csc => format!("(1.0/{})", call(code_function(Func::Sin, lang))),
                Func::Cot => format!("(1.0/{})", call(code_function(Func::Tan, lang))),
                Func::Sign => match lang {
                    Code::Python => format!("np.sign({arg})"),
                    Code::C => format!("(double)(({arg} > 0) - ({arg} < 0))"),
                    Code::Rust => format!(
                        "({{ let s = {arg}; if s > 0.0 {{ 1.0_f64 }} else if s < 0.0 {{ -1.0 }} else {{ 0.0 }} }})"
                    ),
                },
                _ => call(code_function(*f, lang)),
            }
        }
        Node::Log([a, b]) => {
            let (a, b) = (code_at(e, *a, lang, numbers), code_at(e, *b, lang, numbers));
            match lang {
                Code::Python => format!("(np.log({a})/np.log({b}))"),
                Code::C => format!("(log({a})/log({b}))"),
                Code::Rust => format!("(({a}).ln()/({b}).ln())"),
            }
        }
        Node::Pow([b, x]) => match e.node(*x).as_num() {
            Some(r) if r.is_negative() => {
                format!("(1.0/{})", code_power(e, *b, &CodeExp::Num(-r), lang, numbers))
            }
            Some(r) if r.is_zero() => "1.0".into(),
            Some(r) => code_power(e, *b, &CodeExp::Num(r.clone()), lang, numbers),
            None => code_power(e, *b, &CodeExp::Node(*x), lang, numbers),
        },
        Node::Add(_) | Node::Mul(_) => format!("({})", code_at(e, id, lang, numbers)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    #[test]
    fn latex_forms() {
        let l = |s: &str| latex(&parse(s).unwrap());
        assert_eq!(l("20*x^3 + 9*x^2 + 14*x + 9"), "20 x^{3} + 9 x^{2} + 14 x + 9");
        assert_eq!(l("1/(2*sqrt(x))"), "\\frac{1}{2 \\sqrt{x}}");
        assert_eq!(l("exp(-x^2)"), "e^{-x^{2}}");
        assert_eq!(l("sin(x)^2"), "\\sin^{2}\\left(x\\right)");
        assert_eq!(l("y/(x^2 + y^2)"), "\\frac{y}{x^{2} + y^{2}}");
        assert_eq!(l("2*pi*theta"), "2 \\pi \\theta");
        assert_eq!(l("x1 + x_2"), "x_{1} + x_{2}");
        assert_eq!(l("log(x, 2)"), "\\log_{2}\\left(x\\right)");
        assert_eq!(l("2*3^x"), "2 \\cdot 3^{x}");
        // A power of e with a negative number for exponent is a denominator, as in the
        // text (`6/(e*x)`), but alone only when it is 1/e.
        assert_eq!(l("6/(e*x)"), "\\frac{6}{e x}");
        assert_eq!(l("2*x + 1/e"), "2 x + \\frac{1}{e}");
        assert_eq!(l("x/(2*e^(3/2))"), "\\frac{x}{2 e^{\\frac{3}{2}}}");
        assert_eq!(l("-x/e^2"), "-\\frac{x}{e^{2}}");
        assert_eq!(l("exp(-2)"), "e^{-2}");
        // Bars need no parentheses under a power.
        assert_eq!(l("abs(sec(x))^3"), "\\left|\\sec\\left(x\\right)\\right|^{3}");
        // A lone denominator sum's content beside it, as in the text
        // (`3*sqrt(x)/(2*(x^2 + 1))`), and joining a decimal coefficient.
        assert_eq!(
            l("3*sqrt(x)/(2*x^2 + 2)"),
            "\\frac{3 \\sqrt{x}}{2 \\left(x^{2} + 1\\right)}"
        );
        assert_eq!(l("1/(4*x^2 + 4*x + 4)"), "\\frac{1}{4 \\left(x^{2} + x + 1\\right)}");
        assert_eq!(l("x/(6*x^2 + 3)"), "\\frac{x}{6 x^{2} + 3}");
        assert_eq!(
            latex_with(&parse("1/(2*y^2 + 2)").unwrap(), Numbers::Decimals),
            "\\frac{0.5}{y^{2} + 1}"
        );
    }

    #[test]
    fn code_forms() {
        let e = parse("x^2*sin(x) + sec(x)/y - 3/2").unwrap();
        assert_eq!(python(&e), "x**2*np.sin(x) + (1.0/np.cos(x))/y - 3.0/2.0");
        assert_eq!(c(&e), "pow(x, 2.0)*sin(x) + (1.0/cos(x))/y - 3.0/2.0");
        assert_eq!(rust(&e), "x.powi(2)*(x).sin() + (1.0/(x).cos())/y - 3.0_f64/2.0_f64");
        let e = parse("x/e + y/e^2").unwrap();
        assert_eq!(python(&e), "x/np.e + y/np.exp(2.0)");
        assert_eq!(c(&e), "x/M_E + y/exp(2.0)");
        assert_eq!(rust(&e), "x/std::f64::consts::E + y/(2.0_f64).exp()");
    }

    #[test]
    fn numbers_follow_the_spelling_asked_for() {
        let e = parse("0.3*x^2.5 - 1.3348e-10*m/x^3 + 5e20*y + 1/3").unwrap();
        assert_eq!(
            latex_with(&e, Numbers::Decimals),
            "0.3 x^{2.5} - \\frac{1.3348 \\cdot 10^{-10} m}{x^{3}} + 5 \\cdot 10^{20} y + \\frac{1}{3}"
        );
        assert_eq!(
            latex(&e),
            "\\frac{3 x^{\\frac{5}{2}}}{10} - \\frac{3337 m}{25000000000000 x^{3}} + 500000000000000000000 y + \\frac{1}{3}"
        );
        assert_eq!(
            python_with(&e, Numbers::Decimals),
            "0.3*x**(2.5) - 1.3348e-10*m/x**3 + 5e20*y + 1.0/3.0"
        );
        // Fractions: integer numerators and denominators, as floating-point literals.
        assert_eq!(
            python(&e),
            "3.0*x**(2.5)/10.0 - 3337.0*m/(25000000000000.0*x**3) + 5e20*y + 1.0/3.0"
        );
        assert_eq!(
            rust_with(&e, Numbers::Decimals),
            "0.3_f64*x.powf(2.5_f64) - 1.3348e-10_f64*m/x.powi(3) + 5e20_f64*y + 1.0_f64/3.0_f64"
        );
        assert_eq!(
            latex_with(&parse("1e-400*x").unwrap(), Numbers::Decimals),
            "10^{-400} x"
        );
        assert_eq!(latex_with(&parse("-1e-7").unwrap(), Numbers::Decimals), "-10^{-7}");
    }

    #[test]
    fn sexpr_round_trips() {
        for s in ["x^2*sin(x) - 1/y", "log(x, 2) + pi*e^x", "-x/(2*y^2) + 3"] {
            let e = parse(s).unwrap();
            assert_eq!(from_sexpr(&sexpr(&e)).unwrap(), e, "{s}");
        }
    }
}
