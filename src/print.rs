//! Printing expressions in the input syntax, the way a person writes them.
//!
//! Behaviour:
//! - Sums print `a - b` for a term with a negative coefficient, products print `a/b`
//!   for factors with negative exponents, and a negative coefficient prints as a
//!   leading minus: `-x/(2*y^2)`, never `-1*x*y^(-2)/2`.
//! - Parentheses appear only where the grammar needs them (`2*(x + 1)`, `(x*y)^z`,
//!   `x^(2/3)`, `(-2)^x`).
//! - `^` is the power operator; the output never uses `**`.
//! - The printed text parses back to the same expression: `parse(print(e)) == e`.
//! - Depth is not limited by the call stack: deep expressions grow the stack on the
//!   heap as needed.
//!
//! ```
//! use dydx::{parse, print};
//! let e = parse("-x*y^-2/2 + 3").unwrap();
//! assert_eq!(print(&e), "3 - x/(2*y^2)");
//! assert_eq!(parse(&print(&e)).unwrap(), e);
//! ```

use crate::expr::{Expr, Id, IdIndex, Node, Rational};
use num_traits::{One, Signed, Zero};

/// Prints an expression in the input syntax.
pub fn print(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(e, e.root(), &mut out);
    out
}

/// Prints the subexpression rooted at `id`, cut to at most `max` characters.
pub fn print_at(e: &Expr, id: Id, max: usize) -> String {
    let mut out = String::new();
    write_expr(e, id, &mut out);
    if out.len() > max {
        let mut cut = max.saturating_sub(1);
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// Prints a rational as `p` or `p/q` in lowest terms.
pub fn rational_to_string(r: &Rational) -> String {
    if r.is_integer() {
        r.numer().to_string()
    } else {
        format!("{}/{}", r.numer(), r.denom())
    }
}

/// The number of operations in the printed form (see [`Expr::op_count`]), counted on
/// the expression's nodes the way the printer would write them, once per node: the
/// same number as [`op_count_text`] of [`print`] (a property test holds them equal),
/// without building the text, whose length is the size of the unshared tree.
/// Saturates at `usize::MAX`.
///
/// ```
/// use dydx::{parse, print::{op_count, op_count_text, print}};
/// let e = parse("3 - x/(2*y^2) + sin(x)^(1/2)").unwrap();
/// assert_eq!(op_count(&e), op_count_text(&print(&e)));
/// ```
pub fn op_count(e: &Expr) -> usize {
    let mut memo: Vec<Option<usize>> = vec![None; e.len()];
    count_expr(e, e.root(), &mut memo)
}

/// Operations written by [`write_expr`].
fn count_expr(e: &Expr, id: Id, memo: &mut Vec<Option<usize>>) -> usize {
    if let Some(n) = memo[id.index()] {
        return n;
    }
    let n = stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || match e.node(id) {
        Node::Add(ts) => {
            let lead = ts.iter().position(|&t| !starts_negative(e, t)).unwrap_or(0);
            let mut n = count_term(e, ts[lead], false, memo);
            for (k, &t) in ts.iter().enumerate() {
                if k != lead {
                    // ` + ` or ` - `, then the term (negated when it starts negative).
                    n = n
                        .saturating_add(1)
                        .saturating_add(count_term(e, t, starts_negative(e, t), memo));
                }
            }
            n
        }
        _ => count_term(e, id, false, memo),
    });
    memo[id.index()] = Some(n);
    n
}

/// Operations in a rational as [`rational_to_string`] writes it.
fn count_rational(r: &Rational) -> usize {
    usize::from(r.is_negative()) + usize::from(!r.is_integer())
}

/// Operations written by [`write_term`].
fn count_term(e: &Expr, id: Id, negate: bool, memo: &mut Vec<Option<usize>>) -> usize {
    match e.node(id) {
        Node::Num(r) => {
            let negative = r.is_negative() != negate && !r.is_zero();
            usize::from(negative) + usize::from(!r.is_integer())
        }
        Node::Mul(fs) => count_product(e, fs, negate, memo),
        Node::Pow(_) if negative_exponent(e, id).is_some() => count_product(e, &[id], false, memo),
        // `(-1)*(…)`.
        Node::Add(_) if negate => count_expr(e, id, memo).saturating_add(2),
        Node::Add(_) => count_expr(e, id, memo),
        _ => count_atom(e, id, memo),
    }
}

/// Operations written by [`write_product`].
fn count_product(e: &Expr, fs: &[Id], negate: bool, memo: &mut Vec<Option<usize>>) -> usize {
    let (c, rest) = match e.node(fs[0]).as_num() {
        Some(r) => (r.clone(), &fs[1..]),
        None => (Rational::one(), fs),
    };
    let c_negative = c.is_negative() != negate && !c.is_zero();
    let mut n = usize::from(c_negative);
    let (mut numer, mut denom, mut by_zero) = (0usize, 0usize, 0usize);
    let mut items = 0usize;
    for &f in rest {
        match negative_exponent(e, f) {
            Some((b, x)) if e.node(b).as_num().is_some_and(Zero::is_zero) => {
                // `/0` or `/0^k`.
                by_zero = by_zero.saturating_add(1);
                if !x.is_one() {
                    by_zero = by_zero.saturating_add(count_power_num(e, b, &x, memo));
                }
            }
            Some((b, x)) => {
                denom += 1;
                let part = if x.is_one() {
                    count_factor(e, b, memo)
                } else {
                    count_power_num(e, b, &x, memo)
                };
                n = n.saturating_add(part);
            }
            None => {
                numer += 1;
                n = n.saturating_add(count_factor(e, f, memo));
            }
        }
    }
    // The numerator: the coefficient's numerator (when not 1, or when alone) and the
    // factors, joined by `*`.
    if !c.numer().abs().is_one() || numer == 0 {
        items += 1;
    }
    items += numer;
    n = n.saturating_add(items.saturating_sub(1));
    let den_count = denom + usize::from(!c.denom().is_one());
    if den_count > 0 {
        // One `/`, and `*` between the denominator's parts.
        n = n.saturating_add(1).saturating_add(den_count - 1);
    }
    n.saturating_add(by_zero)
}

/// Operations written by [`write_factor`].
fn count_factor(e: &Expr, id: Id, memo: &mut Vec<Option<usize>>) -> usize {
    match e.node(id) {
        Node::Add(_) | Node::Mul(_) | Node::Num(_) => count_expr(e, id, memo),
        _ => count_atom(e, id, memo),
    }
}

/// Operations written by [`write_power`] with a numeric exponent.
fn count_power_num(e: &Expr, base: Id, r: &Rational, memo: &mut Vec<Option<usize>>) -> usize {
    count_base(e, base, memo)
        .saturating_add(1)
        .saturating_add(count_rational(r))
}

/// Operations in the base of a power.
fn count_base(e: &Expr, base: Id, memo: &mut Vec<Option<usize>>) -> usize {
    if is_atomic(e, base) {
        count_atom(e, base, memo)
    } else {
        count_expr(e, base, memo)
    }
}

/// Operations written by [`write_atom`].
fn count_atom(e: &Expr, id: Id, memo: &mut Vec<Option<usize>>) -> usize {
    match e.node(id) {
        Node::Var(_) | Node::Const(_) => 0,
        Node::Num(r) if r.is_integer() && !r.is_negative() => 0,
        Node::Call(_, [a]) => count_expr(e, *a, memo).saturating_add(1),
        Node::Log([a, b]) => count_expr(e, *a, memo)
            .saturating_add(count_expr(e, *b, memo))
            .saturating_add(1),
        Node::Pow([b, x]) => match e.node(*x).as_num() {
            Some(r) if !r.is_zero() => count_power_num(e, *b, r, memo),
            _ => {
                let exponent =
                    if is_atomic(e, *x) || (negative_exponent(e, *x).is_none() && matches!(e.node(*x), Node::Pow(_))) {
                        count_atom(e, *x, memo)
                    } else {
                        count_expr(e, *x, memo)
                    };
                count_base(e, *b, memo).saturating_add(1).saturating_add(exponent)
            }
        },
        _ => count_expr(e, id, memo),
    }
}

/// Counts operations in text in the input syntax: each of `+ - * / ^`, unary minus
/// included, and each function call counts one; `**` counts once.
pub fn op_count_text(s: &str) -> usize {
    let s = s.replace("**", "^");
    let bytes = s.as_bytes();
    let mut n = 0;
    for (i, &c) in bytes.iter().enumerate() {
        match c {
            b'+' | b'-' | b'*' | b'/' | b'^' => {
                // An exponent sign inside a number literal such as 1e-3 is not an operation.
                let in_number = (c == b'-' || c == b'+')
                    && i >= 2
                    && (bytes[i - 1] == b'e' || bytes[i - 1] == b'E')
                    && bytes[i - 2].is_ascii_digit();
                if !in_number {
                    n += 1;
                }
            }
            b'(' if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') => n += 1,
            _ => {}
        }
    }
    n
}

fn starts_negative(e: &Expr, id: Id) -> bool {
    match e.node(id) {
        Node::Num(r) => r.is_negative(),
        Node::Mul(fs) => e.node(fs[0]).as_num().is_some_and(|r| r.is_negative()),
        Node::Add(ts) => ts.iter().all(|&t| starts_negative(e, t)),
        _ => false,
    }
}

/// Whether a node prints as a single token or call, so it needs no parentheses as a
/// base or exponent.
fn is_atomic(e: &Expr, id: Id) -> bool {
    match e.node(id) {
        Node::Var(_) | Node::Const(_) | Node::Call(..) | Node::Log(_) => true,
        Node::Num(r) => r.is_integer() && !r.is_negative(),
        _ => false,
    }
}

fn negative_exponent(e: &Expr, id: Id) -> Option<(Id, Rational)> {
    if let Node::Pow([b, x]) = e.node(id) {
        if let Some(r) = e.node(*x).as_num() {
            if r.is_negative() {
                return Some((*b, -r));
            }
        }
    }
    None
}

fn write_expr(e: &Expr, id: Id, out: &mut String) {
    stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || write_expr_inner(e, id, out));
}

fn write_expr_inner(e: &Expr, id: Id, out: &mut String) {
    match e.node(id) {
        Node::Add(ts) => {
            // Lead with the first positive term, as a person writes `1 - x`, not
            // `-x + 1`; the parser re-sorts, so the text still reads back the same.
            let lead = ts.iter().position(|&t| !starts_negative(e, t)).unwrap_or(0);
            let order =
                std::iter::once(ts[lead]).chain(ts.iter().enumerate().filter(|(k, _)| *k != lead).map(|(_, t)| *t));
            for (i, t) in order.enumerate() {
                if i == 0 {
                    write_term(e, t, false, out);
                } else if starts_negative(e, t) {
                    out.push_str(" - ");
                    write_term(e, t, true, out);
                } else {
                    out.push_str(" + ");
                    write_term(e, t, false, out);
                }
            }
        }
        _ => write_term(e, id, false, out),
    }
}

/// Writes a term; with `negate`, writes the negation of a term that starts negative.
fn write_term(e: &Expr, id: Id, negate: bool, out: &mut String) {
    match e.node(id) {
        Node::Num(r) => {
            let r = if negate { -(**r).clone() } else { (**r).clone() };
            out.push_str(&rational_to_string(&r));
        }
        Node::Mul(fs) => write_product(e, fs, negate, out),
        Node::Pow(_) if negative_exponent(e, id).is_some() => write_product(e, &[id], false, out),
        Node::Add(_) if negate => {
            // A grouped sum used as a term: only reached for very wide sums.
            out.push_str("(-1)*(");
            write_expr(e, id, out);
            out.push(')');
        }
        Node::Add(_) => {
            out.push('(');
            write_expr(e, id, out);
            out.push(')');
        }
        _ => write_atom(e, id, out),
    }
}

fn write_product(e: &Expr, fs: &[Id], negate: bool, out: &mut String) {
    let (mut c, rest) = match e.node(fs[0]).as_num() {
        Some(r) => (r.clone(), &fs[1..]),
        None => (Rational::one(), fs),
    };
    if negate {
        c = -c;
    }
    if c.is_negative() {
        out.push('-');
        c = -c;
    }
    let mut numer: Vec<Id> = Vec::new();
    let mut denom: Vec<(Id, Rational)> = Vec::new();
    // Division by a literal zero prints on its own (`x/10/0`), because `10*0` in a
    // grouped denominator would fold to 0 and not read back the same.
    let mut by_zero: Vec<(Id, Rational)> = Vec::new();
    for &f in rest {
        match negative_exponent(e, f) {
            Some((b, x)) if e.node(b).as_num().is_some_and(Zero::is_zero) => by_zero.push((b, x)),
            Some(d) => denom.push(d),
            None => numer.push(f),
        }
    }
    let mut first = true;
    if !c.numer().is_one() || numer.is_empty() {
        out.push_str(&c.numer().to_string());
        first = false;
    }
    for &f in &numer {
        if !first {
            out.push('*');
        }
        first = false;
        write_factor(e, f, out);
    }
    let den_count = denom.len() + usize::from(!c.denom().is_one());
    let write_by_zero = |out: &mut String| {
        for (b, x) in &by_zero {
            out.push('/');
            if x.is_one() {
                out.push('0');
            } else {
                write_power(e, *b, Exponent::Num(x), out);
            }
        }
    };
    if den_count == 0 {
        write_by_zero(out);
        return;
    }
    out.push('/');
    if den_count > 1 {
        out.push('(');
    }
    let mut first = true;
    if !c.denom().is_one() {
        out.push_str(&c.denom().to_string());
        first = false;
    }
    for (b, x) in &denom {
        if !first {
            out.push('*');
        }
        first = false;
        if x.is_one() {
            write_factor(e, *b, out);
        } else {
            write_power(e, *b, Exponent::Num(x), out);
        }
    }
    if den_count > 1 {
        out.push(')');
    }
    write_by_zero(out);
}

/// Writes a factor of a product, in parentheses where `*` would bind wrongly.
fn write_factor(e: &Expr, id: Id, out: &mut String) {
    match e.node(id) {
        Node::Add(_) | Node::Mul(_) | Node::Num(_) => {
            out.push('(');
            write_expr(e, id, out);
            out.push(')');
        }
        _ => write_atom(e, id, out),
    }
}

enum Exponent<'a> {
    Node(Id),
    Num(&'a Rational),
}

fn write_power(e: &Expr, base: Id, exponent: Exponent<'_>, out: &mut String) {
    if is_atomic(e, base) {
        write_atom(e, base, out);
    } else {
        out.push('(');
        write_expr(e, base, out);
        out.push(')');
    }
    out.push('^');
    match exponent {
        Exponent::Num(r) if r.is_integer() && !r.is_negative() => out.push_str(&r.to_string()),
        Exponent::Num(r) => {
            out.push('(');
            out.push_str(&rational_to_string(r));
            out.push(')');
        }
        Exponent::Node(x) if is_atomic(e, x) => write_atom(e, x, out),
        // Powers are right-associative, so `2^x^y` needs no parentheses.
        Exponent::Node(x) if negative_exponent(e, x).is_none() && matches!(e.node(x), Node::Pow(_)) => {
            write_atom(e, x, out)
        }
        Exponent::Node(x) => {
            out.push('(');
            write_expr(e, x, out);
            out.push(')');
        }
    }
}

/// Writes a variable, constant, call or power, or anything else in parentheses.
fn write_atom(e: &Expr, id: Id, out: &mut String) {
    match e.node(id) {
        Node::Var(s) => out.push_str(s.as_str()),
        Node::Const(c) => out.push_str(c.name()),
        Node::Num(r) if r.is_integer() && !r.is_negative() => out.push_str(&r.to_string()),
        Node::Call(f, [a]) => {
            out.push_str(f.name());
            out.push('(');
            write_expr(e, *a, out);
            out.push(')');
        }
        Node::Log([a, b]) => {
            out.push_str("log(");
            write_expr(e, *a, out);
            out.push_str(", ");
            write_expr(e, *b, out);
            out.push(')');
        }
        Node::Pow([b, x]) => match e.node(*x).as_num() {
            Some(r) if !r.is_zero() => write_power(e, *b, Exponent::Num(r), out),
            _ => write_power(e, *b, Exponent::Node(*x), out),
        },
        _ => {
            out.push('(');
            write_expr(e, id, out);
            out.push(')');
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::parse;

    fn round(s: &str) -> String {
        let e = parse(s).unwrap();
        let p = e.to_string();
        assert_eq!(parse(&p).unwrap(), e, "round trip of {s} via {p}");
        p
    }

    #[test]
    fn sums_print_subtraction() {
        assert_eq!(
            round("5*x**4 + 3*x**3 + 7*x**2 + 9*x - 5"),
            "5*x^4 + 3*x^3 + 7*x^2 + 9*x - 5"
        );
        assert_eq!(round("1 - x"), "1 - x");
        assert_eq!(round("-x - 1"), "-x - 1");
        assert_eq!(round("x - 2*y"), "x - 2*y");
    }

    #[test]
    fn products_print_division() {
        assert_eq!(round("x/y"), "x/y");
        assert_eq!(round("x/(2*y^2)"), "x/(2*y^2)");
        assert_eq!(round("-1/x"), "-1/x");
        assert_eq!(round("x/2"), "x/2");
        assert_eq!(round("3*x/2"), "3*x/2");
        assert_eq!(round("1/(x+1)^2"), "1/(x + 1)^2");
        assert_eq!(round("-x/10/0"), "-x/10/0");
        assert_eq!(round("x/0^(2/3)"), "x/0");
        assert_eq!(round("x/0^2"), "x/0");
    }

    #[test]
    fn powers_parenthesise_only_when_needed() {
        assert_eq!(round("x^(2/3)"), "x^(2/3)");
        assert_eq!(round("(-2)^x"), "(-2)^x");
        assert_eq!(round("(x*y)^z"), "(x*y)^z");
        assert_eq!(round("2^x^y"), "2^x^y");
        assert_eq!(round("(x^y)^z"), "(x^y)^z");
        assert_eq!(round("-x^2"), "-x^2");
        assert_eq!(round("x^-y"), "x^(-y)");
    }

    #[test]
    fn functions_and_constants() {
        assert_eq!(round("sin(x)*cos(x)"), "sin(x)*cos(x)");
        assert_eq!(round("log(x, 2)"), "log(x, 2)");
        assert_eq!(round("2*pi*x"), "2*pi*x");
        assert_eq!(round("e^x"), "exp(x)");
    }

    #[test]
    fn op_count_counts_what_sympy_counts() {
        assert_eq!(super::op_count_text("20*x^3 + 9*x^2 + 14*x + 9"), 8);
        assert_eq!(super::op_count_text("2*x*sin(x) + x^2*cos(x)"), 7);
        assert_eq!(super::op_count_text("x**2"), 1);
        assert_eq!(super::op_count_text("log(x, 2)"), 1);
    }
}
