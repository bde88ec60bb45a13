//! Printing expressions in the input syntax, the way a person writes them.
//!
//! Behaviour:
//! - Sums print `a - b` for a term with a negative coefficient, products print `a/b`
//!   for factors with negative exponents, and a negative coefficient prints as a
//!   leading minus: `-x/(2*y^2)`, never `-1*x*y^(-2)/2`.
//! - Parentheses appear only where the grammar needs them (`2*(x + 1)`, `(x*y)^z`,
//!   `x^(2/3)`, `(-2)^x`).
//! - `^` is the power operator; the output never uses `**`.
//! - A product's factors print in canonical order, except that a function of a
//!   variable or a constant comes before a function of anything larger:
//!   `exp(x)*sec(exp(x) + 2)`, `sqrt(x)*cos(x^(3/2))`.
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

use crate::expr::{rational_is, Expr, Id, IdIndex, Node, Rational};
use num_traits::{One, Signed, ToPrimitive, Zero};

/// How numbers print.
///
/// Every number in an expression is an exact rational; this only chooses its spelling,
/// and both spellings parse back to the same number.
/// - [`Numbers::Fractions`]: `3*x/10`, `x^(1/2)`, `9/4`, integers in full (the default).
/// - [`Numbers::Decimals`]: a number whose decimal expansion ends within
///   [`MAX_DECIMAL_PLACES`] places (and [`MAX_DECIMAL_DIGITS`] digits) prints as that
///   decimal, `0.3*x`, `x^0.5`, `2.25`; one of few significant digits below 1e-4 or
///   from 1e16 up in scientific notation ([`scientific_text`]: `2e-30*x`, `5e20`); any
///   other (`1/3`) stays a fraction. This is how
///   a person who wrote `0.3*x` reads the result, and what [`Numbers::of_input`] picks
///   for input with a decimal literal.
///
/// ```
/// use dydx::{parse, print::{print_with, Numbers}};
/// let e = parse("0.3*x^2 + x/3 + 9/4").unwrap();
/// assert_eq!(print_with(&e, Numbers::Fractions), "3*x^2/10 + x/3 + 9/4");
/// assert_eq!(print_with(&e, Numbers::Decimals), "0.3*x^2 + x/3 + 2.25");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Numbers {
    /// `p/q` in lowest terms.
    #[default]
    Fractions,
    /// Terminating decimals where short, fractions otherwise.
    Decimals,
}

impl Numbers {
    /// The spelling that matches how `input` writes its numbers: [`Numbers::Decimals`]
    /// when it holds a decimal literal (`0.5`, `2.25`, `1e-3`), otherwise
    /// [`Numbers::Fractions`].
    ///
    /// ```
    /// use dydx::print::Numbers;
    /// assert_eq!(Numbers::of_input("0.5*x^2"), Numbers::Decimals);
    /// assert_eq!(Numbers::of_input("2e-3*x"), Numbers::Decimals);
    /// assert_eq!(Numbers::of_input("x^2/2 + exp(x) + x1"), Numbers::Fractions);
    /// ```
    pub fn of_input(input: &str) -> Numbers {
        let bytes = input.as_bytes();
        // A literal starts with a digit not preceded by a name's letter, digit or `_`
        // (`x1` and `e2e` are names); it is decimal when a `.` or an exponent follows
        // its digits.
        let mut i = 0;
        while i < bytes.len() {
            let starts_literal = bytes[i].is_ascii_digit()
                && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b'.'));
            let starts_fraction = bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
            if starts_fraction {
                return Numbers::Decimals;
            }
            if !starts_literal {
                i += 1;
                continue;
            }
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let exponent = matches!(bytes.get(i), Some(b'e' | b'E'))
                && match bytes.get(i + 1) {
                    Some(b'+' | b'-') => bytes.get(i + 2).is_some_and(u8::is_ascii_digit),
                    Some(c) => c.is_ascii_digit(),
                    None => false,
                };
            if bytes.get(i) == Some(&b'.') || exponent {
                return Numbers::Decimals;
            }
        }
        Numbers::Fractions
    }
}

/// Most places after the point a number prints with as a decimal ([`Numbers::Decimals`]).
pub const MAX_DECIMAL_PLACES: u64 = 12;

/// Most digits a number prints with as a decimal ([`Numbers::Decimals`]).
pub const MAX_DECIMAL_DIGITS: usize = 24;

/// Prints an expression in the input syntax, numbers as fractions.
pub fn print(e: &Expr) -> String {
    print_with(e, Numbers::Fractions)
}

/// Prints an expression in the input syntax, numbers spelled as `numbers` says.
pub fn print_with(e: &Expr, numbers: Numbers) -> String {
    let mut out = String::new();
    write_whole(e, numbers, e.root(), &mut out);
    out
}

/// Prints the subexpression rooted at `id`, cut to at most `max` characters.
pub fn print_at(e: &Expr, id: Id, max: usize) -> String {
    print_at_with(e, id, max, Numbers::Fractions)
}

/// [`print_at`] with numbers spelled as `numbers` says.
pub fn print_at_with(e: &Expr, id: Id, max: usize, numbers: Numbers) -> String {
    let mut out = String::new();
    write_whole(e, numbers, id, &mut out);
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

/// A rational that is not an integer as a terminating decimal (`-3/8` is `-0.375`),
/// when it has one within [`MAX_DECIMAL_PLACES`] places and [`MAX_DECIMAL_DIGITS`]
/// digits, or in scientific notation below 1e-4 ([`scientific_text`]: `1e-30`,
/// `2.5e-7`); `None` otherwise. The text parses back to the same rational.
///
/// ```
/// use dydx::{print::decimal_text, Rational};
/// let r = |p: i64, q: i64| Rational::new(p.into(), q.into());
/// assert_eq!(decimal_text(&r(-3, 8)).as_deref(), Some("-0.375"));
/// assert_eq!(decimal_text(&r(81, 16)).as_deref(), Some("5.0625"));
/// assert_eq!(decimal_text(&r(1, 3)), None);
/// assert_eq!(decimal_text(&r(4, 1)), None);
/// assert_eq!(decimal_text(&r(3, 100_000)).as_deref(), Some("3e-5"));
/// ```
pub fn decimal_text(r: &Rational) -> Option<String> {
    use num_bigint::BigInt;
    if r.is_integer() {
        return None;
    }
    if let Some(text) = scientific_text(r) {
        return Some(text);
    }
    // A numerator this large has more digits than allowed whatever the denominator
    // (at most 10^12): say so before any arithmetic on it.
    if r.numer().bits() > 200 {
        return None;
    }
    let denom = r.denom();
    let places = decimal_places(denom, MAX_DECIMAL_PLACES)?;
    let scale = BigInt::from(10).pow(places as u32);
    let scaled = r.numer().abs() * scale / denom;
    let mut digits = scaled.to_string();
    let places = places as usize;
    if digits.len() <= places {
        digits.insert_str(0, &"0".repeat(places + 1 - digits.len()));
    }
    if digits.len() > MAX_DECIMAL_DIGITS {
        return None;
    }
    digits.insert(digits.len() - places, '.');
    if r.is_negative() {
        digits.insert(0, '-');
    }
    Some(digits)
}

/// A rational as `numbers` spells it: [`decimal_text`] where that applies, else
/// [`rational_to_string`] (with [`Numbers::Decimals`], its integers as
/// `integer_text` spells them).
pub fn rational_text(r: &Rational, numbers: Numbers) -> String {
    match numbers {
        Numbers::Decimals => decimal_text(r).unwrap_or_else(|| {
            let numer = integer_text(r.numer(), numbers);
            if r.is_integer() {
                numer
            } else {
                format!("{numer}/{}", integer_text(r.denom(), numbers))
            }
        }),
        Numbers::Fractions => rational_to_string(r),
    }
}

/// The places after the point of a fraction over `denom`, when it has a terminating
/// decimal expansion within `limit` places: `denom` is 2^a*5^b, and the places are
/// max(a, b) (`r*10^max(a, b)` is an integer). `None` otherwise.
fn decimal_places(denom: &num_bigint::BigInt, limit: u64) -> Option<u64> {
    let twos = denom.trailing_zeros().unwrap_or(0);
    if twos > limit {
        return None;
    }
    let mut rest = denom >> twos;
    let five = num_bigint::BigInt::from(5);
    let mut fives = 0u64;
    while !rest.is_one() {
        if fives == limit || !(&rest % &five).is_zero() {
            return None;
        }
        rest /= &five;
        fives += 1;
    }
    Some(twos.max(fives))
}

/// Most significant digits a number prints with in scientific notation.
pub const MAX_SCIENTIFIC_DIGITS: usize = 17;

/// The decimal exponents outside which a number that is a few digits times a power of
/// ten prints in scientific notation with [`Numbers::Decimals`], as Python's `repr`
/// does: below 1e-4 and from 1e16 up.
const SCIENTIFIC_BELOW: i64 = -4;
const SCIENTIFIC_FROM: i64 = 16;

/// `r` in scientific notation, `m.mmme±E`, when it is at most
/// [`MAX_SCIENTIFIC_DIGITS`] significant digits times a power of ten, outside the plain
/// range, and for an integer shorter than its digits (`1e-30`, `2.5e-7`, `1e400`,
/// `2.5e20`, but not `0.001`, `1000` or `47024601566261766`); `None` otherwise. The text parses back to the same rational.
///
/// ```
/// use dydx::{print::scientific_text, Rational};
/// use num_bigint::BigInt;
/// let r = |p: i64, q: i64| Rational::new(p.into(), q.into());
/// assert_eq!(scientific_text(&r(-1, 1_000_000)).as_deref(), Some("-1e-6"));
/// assert_eq!(scientific_text(&r(1, 4_000_000)).as_deref(), Some("2.5e-7"));
/// assert_eq!(scientific_text(&Rational::from_integer(BigInt::from(10).pow(400))).as_deref(), Some("1e400"));
/// assert_eq!(scientific_text(&r(1, 1000)), None);
/// assert_eq!(scientific_text(&r(1, 3_000_000)), None);
/// assert_eq!(scientific_text(&r(47_024_601_566_261_766, 1)), None);
/// ```
pub fn scientific_text(r: &Rational) -> Option<String> {
    use num_bigint::BigInt;
    // Past these sizes the digits are not worth writing out to look (and a number
    // that large has more significant digits than allowed anyway, or is a power of 10
    // beyond any use); the plain spelling stays.
    const MAX_BITS: u64 = 8192;
    if r.is_zero() || r.numer().bits() > MAX_BITS || r.denom().bits() > MAX_BITS {
        return None;
    }
    let denom = r.denom();
    let places = decimal_places(denom, MAX_BITS)?;
    let scaled = r.numer().abs() * BigInt::from(10).pow(u32::try_from(places).ok()?) / denom;
    let digits = scaled.to_string();
    let significant = digits.trim_end_matches('0');
    if significant.len() > MAX_SCIENTIFIC_DIGITS {
        return None;
    }
    let exponent = i64::try_from(digits.len()).ok()? - 1 - i64::try_from(places).ok()?;
    if (SCIENTIFIC_BELOW..SCIENTIFIC_FROM).contains(&exponent) {
        return None;
    }
    let sign = if r.is_negative() { "-" } else { "" };
    let (lead, tail) = significant.split_at(1);
    let point = if tail.is_empty() { "" } else { "." };
    let text = format!("{sign}{lead}{point}{tail}e{exponent}");
    // An integer stays in full unless this is shorter (`47024601566261766`, not
    // `4.7024601566261766e16`); below 1e-4 it always is.
    (!r.is_integer() || text.len() < sign.len() + digits.len()).then_some(text)
}

/// An integer as `numbers` spells it: in scientific notation where
/// [`scientific_text`] gives it one and `numbers` is [`Numbers::Decimals`] (`1e400`),
/// in full otherwise.
fn integer_text(n: &num_bigint::BigInt, numbers: Numbers) -> String {
    match numbers {
        Numbers::Decimals => scientific_text(&Rational::from_integer(n.clone())).unwrap_or_else(|| n.to_string()),
        Numbers::Fractions => n.to_string(),
    }
}

/// Whether a number that is not an integer prints as a decimal.
pub(crate) fn is_decimal(r: &Rational, numbers: Numbers) -> bool {
    numbers == Numbers::Decimals && has_decimal(r)
}

/// Whether [`decimal_text`] gives `r` a decimal, decided without writing it: in
/// machine integers when numerator and denominator fit, since operation counts ask
/// this of every coefficient.
fn has_decimal(r: &Rational) -> bool {
    if r.is_integer() {
        return false;
    }
    let (Some(n), Some(d)) = (r.numer().to_i64(), r.denom().to_u64()) else {
        return decimal_text(r).is_some();
    };
    let twos = d.trailing_zeros();
    let mut rest = d >> twos;
    let mut fives = 0u32;
    while rest % 5 == 0 {
        rest /= 5;
        fives += 1;
    }
    let places = twos.max(fives);
    if rest != 1 {
        return false;
    }
    if u64::from(places) > MAX_DECIMAL_PLACES {
        // Too many places for the plain spelling; perhaps few enough significant
        // digits for the scientific one (`1e-15`), which is rarer: ask it.
        return scientific_text(r).is_some();
    }
    // The digits of |r|*10^places, an integer below 2^63*10^12 < 2^103.
    let scaled = u128::from(n.unsigned_abs()) * 10u128.pow(places) / u128::from(d);
    let digits = scaled
        .checked_ilog10()
        .map_or(1, |k| k as usize + 1)
        .max(places as usize + 1);
    digits <= MAX_DECIMAL_DIGITS
}

/// The number of operations in the printed form (see [`Expr::op_count`]), counted on
/// the expression's nodes the way the printer would write them, once per node: the
/// same number as [`op_count_text`] of [`print`](fn@print) (a property test holds them equal),
/// without building the text, whose length is the size of the unshared tree.
/// Saturates at `usize::MAX`.
///
/// ```
/// use dydx::{parse, print::{op_count, op_count_text, print}};
/// let e = parse("3 - x/(2*y^2) + sin(x)^(1/2)").unwrap();
/// assert_eq!(op_count(&e), op_count_text(&print(&e)));
/// ```
pub fn op_count(e: &Expr) -> usize {
    op_count_with(e, Numbers::Fractions)
}

/// [`op_count`] of the text [`print_with`] writes with `numbers`: the same number as
/// [`op_count_text`] of it.
///
/// ```
/// use dydx::{parse, print::{op_count_with, Numbers}};
/// let e = parse("0.3*x + 2.25").unwrap();
/// assert_eq!(op_count_with(&e, Numbers::Fractions), 4);
/// assert_eq!(op_count_with(&e, Numbers::Decimals), 2);
/// ```
pub fn op_count_with(e: &Expr, numbers: Numbers) -> usize {
    let mut memo: Vec<Option<usize>> = vec![None; e.len()];
    count_whole(e, numbers, e.root(), &mut memo)
}

/// The operations of subexpressions printed alone, as [`op_count_with`] counts them,
/// for many subexpressions of one expression, sharing what it has counted (each
/// node's count does not depend on where it is asked from).
pub(crate) struct OpCounts<'a> {
    e: &'a Expr,
    numbers: Numbers,
    memo: Vec<Option<usize>>,
}

impl<'a> OpCounts<'a> {
    pub(crate) fn new(e: &'a Expr, numbers: Numbers) -> OpCounts<'a> {
        OpCounts {
            e,
            numbers,
            memo: vec![None; e.len()],
        }
    }

    /// The operations of the subexpression at `id` printed alone.
    pub(crate) fn at(&mut self, id: Id) -> usize {
        count_whole(self.e, self.numbers, id, &mut self.memo)
    }
}

/// Operations written by [`write_expr`].
fn count_expr(e: &Expr, numbers: Numbers, id: Id, memo: &mut Vec<Option<usize>>) -> usize {
    if let Some(n) = memo[id.index()] {
        return n;
    }
    let n = stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || match e.node(id) {
        Node::Add(ts) => {
            let mut n = 0usize;
            // A term that turns its polynomial counts as it would with ` + `: not
            // looked for.
            for (i, (t, sign)) in signed_terms(e, ts, false).enumerate() {
                // ` + ` or ` - ` before every term but the first, then the term: negated
                // when it starts negative, and one `-` shorter when its sum factor
                // prints negated.
                let term = count_term(e, numbers, t, sign == Sign::Minus, memo);
                n = match sign {
                    Sign::Flip(_) => n.saturating_add(term),
                    _ => n.saturating_add(term).saturating_add(usize::from(i > 0)),
                };
            }
            n
        }
        _ => count_term(e, numbers, id, false, memo),
    });
    memo[id.index()] = Some(n);
    n
}

/// Operations in a rational as [`rational_to_string`] writes it.
fn count_rational(r: &Rational, numbers: Numbers) -> usize {
    usize::from(r.is_negative()) + usize::from(!r.is_integer() && !is_decimal(r, numbers))
}

/// Operations written by [`write_term`].
fn count_term(e: &Expr, numbers: Numbers, id: Id, negate: bool, memo: &mut Vec<Option<usize>>) -> usize {
    match e.node(id) {
        Node::Num(r) => {
            let negative = r.is_negative() != negate && !r.is_zero();
            usize::from(negative) + usize::from(!r.is_integer() && !is_decimal(r, numbers))
        }
        Node::Mul(fs) => count_product(e, numbers, fs, negate, memo),
        _ if lone_denominator(e, id) => count_product(e, numbers, &[id], false, memo),
        // `(-1)*(…)`.
        Node::Add(_) if negate => count_expr(e, numbers, id, memo).saturating_add(2),
        Node::Add(_) => count_expr(e, numbers, id, memo),
        _ => count_atom(e, numbers, id, memo),
    }
}

/// The rational 1, made once: counting asks for a coefficient 1 of every product
/// without one, and a new `Rational` allocates.
fn one() -> &'static Rational {
    static ONE: std::sync::LazyLock<Rational> = std::sync::LazyLock::new(Rational::one);
    &ONE
}

/// Operations written by [`write_product`].
fn count_product(e: &Expr, numbers: Numbers, fs: &[Id], negate: bool, memo: &mut Vec<Option<usize>>) -> usize {
    let (c, rest) = match e.node(fs[0]).as_num() {
        Some(r) => (r, &fs[1..]),
        None => (one(), fs),
    };
    let c_negative = c.is_negative() != negate && !c.is_zero();
    let mut n = usize::from(c_negative);
    let (mut numer, mut denom, mut by_zero) = (0usize, 0usize, 0usize);
    let mut items = 0usize;
    for &f in rest {
        match negative_exponent(e, f) {
            Some((Base::Node(b), Flipped::Num(x))) if e.node(b).as_num().is_some_and(Zero::is_zero) => {
                // `/0` or `/0^k`.
                by_zero = by_zero.saturating_add(1);
                if !rational_is(x, -1) {
                    by_zero = by_zero.saturating_add(count_power_num(e, numbers, b, &-x, memo));
                }
            }
            Some((Base::E, x)) => {
                denom += 1;
                // `e`, or `e^k`.
                if let (false, Flipped::Num(x)) = (x.is_one(), x) {
                    n = n.saturating_add(1).saturating_add(count_rational(&-x, numbers));
                }
            }
            Some((Base::Node(b), x)) => {
                denom += 1;
                let part = match x {
                    _ if x.is_one() => count_factor(e, numbers, b, memo),
                    Flipped::Num(x) => count_power_num(e, numbers, b, &-x, memo),
                    Flipped::Node(x) => count_base(e, numbers, b, memo)
                        .saturating_add(1)
                        .saturating_add(count_negated_exponent(e, numbers, x, memo)),
                };
                n = n.saturating_add(part);
            }
            None => {
                numer += 1;
                n = n.saturating_add(count_factor(e, numbers, f, memo));
            }
        }
    }
    // The numerator: the coefficient's numerator (when not 1, or when alone) and the
    // factors, joined by `*`; a decimal coefficient is all in the numerator.
    let decimal = is_decimal(c, numbers);
    if decimal || !c.numer().magnitude().is_one() || numer == 0 {
        items += 1;
    }
    items += numer;
    n = n.saturating_add(items.saturating_sub(1));
    let den_count = denom + usize::from(!decimal && !c.denom().is_one());
    if den_count > 0 {
        // One `/`, and `*` between the denominator's parts.
        n = n.saturating_add(1).saturating_add(den_count - 1);
    }
    let saved = denominator_content(e, numbers, c, rest).map_or(0, |(_, _, saved)| saved);
    n.saturating_add(by_zero).saturating_sub(saved)
}

/// A product's one denominator, a sum with an integer content `g`, whose content can
/// print as part of the product's integer coefficient `a`, as `a/g`: with decimals
/// where that is shorter (`1/(2*y^2 + 2)` prints as `0.5/(y^2 + 1)` and
/// `9*x/(4*x^2 + 4)` as `2.25*x/(x^2 + 1)`), and as a fraction, which writes `g`
/// beside the sum in the denominator, where that is no longer, as a person writes it
/// (`3*sqrt(atan(x))/(2*(x^2 + 1))`, not `3*sqrt(atan(x))/(2*x^2 + 2)`; and
/// `x/(4*(x^2 + x + 1))`, one operation shorter than `x/(4*x^2 + 4*x + 4)`). The text
/// reads back the same, since a number times a lone sum distributes and a
/// coefficient's denominator moves into the one sum of a product's denominator
/// ([`crate::expr::Builder::mul`]); so `a` and `g` must be coprime, or the denominator
/// read back would be smaller. The sum, `g`, and the operations saved.
pub(crate) fn denominator_content(
    e: &Expr,
    numbers: Numbers,
    c: &Rational,
    rest: &[Id],
) -> Option<(Id, Rational, usize)> {
    use num_integer::Integer;
    if !c.is_integer() || c.is_zero() {
        return None;
    }
    let mut denominators = rest.iter().filter(|&&f| negative_exponent(e, f).is_some());
    let f = *denominators.next()?;
    if denominators.next().is_some() {
        return None;
    }
    let Node::Pow([sum, k]) = e.node(f) else {
        return None;
    };
    let Node::Add(ts) = e.node(*sum) else {
        return None;
    };
    if !e.node(*k).as_num().is_some_and(|r| rational_is(r, -1)) || ts.len() > crate::expr::SUM_WIDTH {
        return None;
    }
    // Each term's coefficient, and how many factors print in its numerator and its
    // denominator (`None` for a number).
    let mut parts: Vec<(&Rational, Option<(usize, usize)>)> = Vec::with_capacity(ts.len());
    for &t in ts.iter() {
        parts.push(match e.node(t) {
            Node::Num(r) => (&**r, None),
            Node::Mul(gs) => {
                let r = e.node(gs[0]).as_num()?;
                let d = gs[1..].iter().filter(|&&g| negative_exponent(e, g).is_some()).count();
                (r, Some((gs.len() - 1 - d, d)))
            }
            _ => return None,
        });
    }
    // Most sums have a term with coefficient 1, and so no content: seen first.
    if parts
        .iter()
        .any(|(r, _)| !r.is_integer() || r.numer().magnitude().is_one())
    {
        return None;
    }
    let g = parts
        .iter()
        .fold(num_bigint::BigInt::zero(), |g, (r, _)| g.gcd(r.numer()));
    if g <= num_bigint::BigInt::one() || !c.numer().gcd(&g).is_one() {
        return None;
    }
    let g = Rational::from_integer(g);
    let joined = c / &g;
    let decimal = is_decimal(&joined, numbers);
    // Nor may the sum divided by its content meet another factor, with which reading
    // would merge it (`x*(y + 1)/(10*y + 10)` is no `0.1*x*(y + 1)/(y + 1)`). The light
    // form leaves such pairs where a sign or a content tells them apart.
    let meets = rest.iter().filter(|&&h| h != f).any(|&h| {
        let base = match e.node(h) {
            Node::Pow([b, _]) | Node::Call(crate::expr::Func::Sqrt, [b]) => *b,
            _ => h,
        };
        // (Either sign: a flipped factor prints negated.)
        is_multiple(e, *sum, base, &g) || is_multiple(e, *sum, base, &-&g)
    });
    if meets {
        return None;
    }
    let m = rest.len() - 1;
    let cost = |r: &Rational, shape: Option<(usize, usize)>| match shape {
        None => usize::from(!r.is_integer() && !is_decimal(r, numbers)),
        Some((m, d)) => coefficient_cost(r, m, d, numbers),
    };
    let mut before = coefficient_cost(c, m, 1, numbers);
    let mut after = coefficient_cost(&joined, m, 1, numbers);
    for (r, shape) in &parts {
        before += cost(r, *shape);
        after += cost(&(*r / &g), *shape);
    }
    // A decimal only where shorter (`0.5/(y^2 + 1)`); a fraction on a tie too.
    (after < before || (after == before && !decimal)).then(|| (*sum, g, before - after))
}

/// Operations written by [`write_factor`].
fn count_factor(e: &Expr, numbers: Numbers, id: Id, memo: &mut Vec<Option<usize>>) -> usize {
    match e.node(id) {
        Node::Add(_) | Node::Mul(_) | Node::Num(_) => count_expr(e, numbers, id, memo),
        _ => count_atom(e, numbers, id, memo),
    }
}

/// Operations written by [`write_power`] with a numeric exponent.
fn count_power_num(e: &Expr, numbers: Numbers, base: Id, r: &Rational, memo: &mut Vec<Option<usize>>) -> usize {
    count_base(e, numbers, base, memo)
        .saturating_add(1)
        .saturating_add(count_rational(r, numbers))
}

/// Operations in the base of a power.
fn count_base(e: &Expr, numbers: Numbers, base: Id, memo: &mut Vec<Option<usize>>) -> usize {
    if is_atomic(e, numbers, base) {
        count_atom(e, numbers, base, memo)
    } else {
        count_whole(e, numbers, base, memo)
    }
}

/// Operations written by [`write_atom`].
fn count_atom(e: &Expr, numbers: Numbers, id: Id, memo: &mut Vec<Option<usize>>) -> usize {
    match e.node(id) {
        Node::Var(_) | Node::Const(_) => 0,
        Node::Num(_) if is_atomic(e, numbers, id) => 0,
        Node::Call(_, [a]) => count_whole(e, numbers, *a, memo).saturating_add(1),
        Node::Log([a, b]) => count_whole(e, numbers, *a, memo)
            .saturating_add(count_whole(e, numbers, *b, memo))
            .saturating_add(1),
        Node::Pow([b, x]) => match e.node(*x).as_num() {
            Some(r) if !r.is_zero() => count_power_num(e, numbers, *b, r, memo),
            _ => {
                let exponent = if is_atomic(e, numbers, *x) {
                    count_atom(e, numbers, *x, memo)
                } else {
                    count_whole(e, numbers, *x, memo)
                };
                count_base(e, numbers, *b, memo)
                    .saturating_add(1)
                    .saturating_add(exponent)
            }
        },
        _ => count_expr(e, numbers, id, memo),
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
fn is_atomic(e: &Expr, numbers: Numbers, id: Id) -> bool {
    match e.node(id) {
        Node::Var(_) | Node::Const(_) | Node::Call(..) | Node::Log(_) => true,
        Node::Num(r) => (r.is_integer() || is_decimal(r, numbers)) && !r.is_negative(),
        _ => false,
    }
}

/// The base of a factor that prints in a product's denominator.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Base {
    /// A node: `b^(-k)` prints as `/b^k`.
    Node(Id),
    /// Euler's number: `exp(-k)` for a number `k` prints as `/e^k` (`x/e`, as a person
    /// writes it, not `x*exp(-1)`), which reads back as the same `exp(-k)`.
    E,
}

impl Base {
    /// Whether this is the number 0 (`/0` prints on its own).
    fn is_zero(self, e: &Expr) -> bool {
        matches!(self, Base::Node(b) if e.node(b).as_num().is_some_and(Zero::is_zero))
    }
}

/// Whether a term that is one factor prints as a quotient: a power with a negative
/// exponent (`1/x^2`), and `exp(-1)` as `1/e`; `exp(-2)` stays, as short as `1/e^2`.
fn lone_denominator(e: &Expr, id: Id) -> bool {
    match negative_exponent(e, id) {
        Some((Base::Node(_), Flipped::Num(_))) => true,
        Some((Base::Node(_), Flipped::Node(_))) => false,
        Some((Base::E, k)) => k.is_one(),
        None => false,
    }
}

/// The factor `id` as a power with a negative numeric exponent, `b^(-k)` or
/// `exp(-k)`: its base and the positive `k`, borrowed as the `-k` the node holds
/// (operation counts ask this of every factor, and most only whether it is 1).
fn negative_exponent(e: &Expr, id: Id) -> Option<(Base, Flipped<'_>)> {
    match e.node(id) {
        Node::Pow([b, x]) => match e.node(*x) {
            Node::Num(r) if r.is_negative() => Some((Base::Node(*b), Flipped::Num(r))),
            // `b^(-c*u)`; not `0^(-x)`, which prints on its own as any power of 0 does,
            // nor `b^(-(u + v))` for a sum `u + v` too wide to take the sign, which
            // would print as `b^((u + v))`.
            Node::Mul(fs)
                if e.node(fs[0]).as_num().is_some_and(|c| c.is_negative())
                    && !(fs.len() == 2 && matches!(e.node(fs[1]), Node::Add(_)))
                    && !e.node(*b).as_num().is_some_and(Zero::is_zero) =>
            {
                Some((Base::Node(*b), Flipped::Node(*x)))
            }
            _ => None,
        },
        Node::Call(crate::expr::Func::Exp, [x]) => match e.node(*x).as_num() {
            Some(r) if r.is_negative() => Some((Base::E, Flipped::Num(r))),
            _ => None,
        },
        _ => None,
    }
}

/// A positive exponent `k`, held as the negative `-k` a node holds.
#[derive(Clone, Copy)]
enum Flipped<'a> {
    /// A number: `x^(-2)` prints as `/x^2`.
    Num(&'a Rational),
    /// A product with a negative coefficient, which prints negated: `2^(-x)` prints
    /// as `/2^x` and `y^(-2*x)` as `/y^(2*x)`, as SymPy prints them. Only in a product
    /// with other factors: alone, `2^(-x)` is as short as `1/2^x` and stays.
    Node(Id),
}

impl Flipped<'_> {
    /// Whether `k` is 1.
    fn is_one(self) -> bool {
        matches!(self, Flipped::Num(r) if rational_is(r, -1))
    }
}

/// A sum's positive rational content (the gcd of its coefficients' numerators over
/// the lcm of their denominators) when printing it outside parentheses is strictly
/// shorter, `2*(x - x^2 + 7)` for `2*x - 2*x^2 + 14`, and the operations that saves.
///
/// Only for a sum that stands alone ([`write_whole`]): the text `c*(…)` reads back as
/// the same sum, since a number times a lone sum distributes
/// ([`crate::expr::Builder::mul`]); as a factor of a product the normal form decides.
fn sum_content(e: &Expr, numbers: Numbers, id: Id) -> Option<(Rational, usize)> {
    let Node::Add(ts) = e.node(id) else {
        return None;
    };
    if ts.len() < 2 || ts.len() > crate::expr::SUM_WIDTH {
        return None;
    }
    let coefficient = |t: Id| match e.node(t) {
        Node::Num(r) => Some(&**r),
        Node::Mul(fs) => e.node(fs[0]).as_num(),
        _ => None,
    };
    if ts.iter().any(|&t| matches!(e.node(t), Node::Add(_))) {
        return None;
    }
    // Most sums have no content (a coefficient 1 among integers), seen first and
    // most cheaply.
    let content = crate::expr::rational_content(ts.iter().map(|&t| coefficient(t)))?;
    // A term whose denominator's content joins its coefficient, and is shorter that
    // way, is written whole. (A term it joins on a tie is written with the sum's
    // content as any other, as long either way.)
    let saves = |found: Option<(Id, Rational, usize)>| found.is_some_and(|(_, _, saved)| saved > 0);
    let joins = |t: Id| match e.node(t) {
        Node::Mul(fs) => match e.node(fs[0]).as_num() {
            Some(r) => saves(denominator_content(e, numbers, r, &fs[1..])),
            None => saves(denominator_content(e, numbers, one(), fs)),
        },
        Node::Pow(_) => saves(denominator_content(e, numbers, one(), &[t])),
        _ => false,
    };
    if ts.iter().any(|&t| joins(t)) {
        return None;
    }
    // Each term's coefficient, and how many other factors print in its numerator and
    // its denominator (`None` for a number term).
    let mut parts: Vec<(Rational, Option<(usize, usize)>)> = Vec::with_capacity(ts.len());
    for &t in ts.iter() {
        let (c, shape) = match e.node(t) {
            Node::Num(r) => ((**r).clone(), None),
            Node::Mul(fs) => {
                let (c, rest) = match e.node(fs[0]).as_num() {
                    Some(r) => (r.clone(), &fs[1..]),
                    None => (Rational::one(), &fs[..]),
                };
                let (mut m, mut d) = (0, 0);
                for &f in rest {
                    match negative_exponent(e, f) {
                        Some((b, _)) if b.is_zero(e) => return None,
                        Some(_) => d += 1,
                        None => m += 1,
                    }
                }
                (c, Some((m, d)))
            }
            Node::Pow(_) | Node::Call(..) => match negative_exponent(e, t) {
                Some((b, _)) if b.is_zero(e) => return None,
                Some(_) if lone_denominator(e, t) => (Rational::one(), Some((0, 1))),
                _ => (Rational::one(), Some((1, 0))),
            },
            _ => (Rational::one(), Some((1, 0))),
        };
        parts.push((c, shape));
    }
    let cost = |c: &Rational, shape: Option<(usize, usize)>| -> usize {
        match shape {
            None => usize::from(!c.is_integer() && !is_decimal(c, numbers)),
            Some((m, d)) => coefficient_cost(c, m, d, numbers),
        }
    };
    let (mut before, mut after) = (0usize, coefficient_cost(&content, 1, 0, numbers));
    for (c, shape) in &parts {
        let scaled = c / &content;
        // Only a content that makes no number larger: `(x + 1)/2` for `x/2 + 1/2`, but
        // not `(18*x^2 + 20*x + 135)/60` for `3*x^2/10 + x/3 + 9/4`.
        if scaled.numer().magnitude() > c.numer().magnitude() {
            return None;
        }
        before += cost(c, *shape);
        after += cost(&scaled, *shape);
    }
    (after < before).then(|| (content, before - after))
}

/// Operations a product's number `c` takes part in, with `m` other factors in its
/// numerator and `d` in its denominator: the `*` between the numerator's items and
/// the denominator's parts, as [`count_product`] counts them (signs aside).
pub(crate) fn coefficient_cost(c: &Rational, m: usize, d: usize, numbers: Numbers) -> usize {
    let decimal = is_decimal(c, numbers);
    let items = m + usize::from(decimal || !c.numer().magnitude().is_one() || m == 0);
    let den = d + usize::from(!decimal && !c.denom().is_one());
    items.saturating_sub(1) + den
}

/// Operations written by [`write_whole`].
fn count_whole(e: &Expr, numbers: Numbers, id: Id, memo: &mut Vec<Option<usize>>) -> usize {
    let n = count_expr(e, numbers, id, memo);
    match sum_content(e, numbers, id) {
        Some((_, saving)) => n.saturating_sub(saving),
        None => n,
    }
}

/// Writes an expression that stands alone: the printed root, a function's argument,
/// a power's base or exponent. There a sum prints its content outside parentheses
/// where that is shorter (see [`sum_content`]).
fn write_whole(e: &Expr, numbers: Numbers, id: Id, out: &mut String) {
    let Some((content, _)) = sum_content(e, numbers, id) else {
        return write_expr(e, numbers, id, out);
    };
    let Node::Add(ts) = e.node(id) else {
        return write_expr(e, numbers, id, out);
    };
    // An all-negative sum takes the sign out too: `-2*(x + y + 1)`, not
    // `2*(-x - y - 1)` (the same count: its leading `-` moves outside).
    let negative = ts.iter().all(|&t| starts_negative(e, t));
    if negative {
        out.push('-');
    }
    let decimal = decimal_text(&content).filter(|_| numbers == Numbers::Decimals);
    if let Some(text) = &decimal {
        out.push_str(text);
        out.push('*');
    } else if !content.numer().is_one() {
        out.push_str(&integer_text(content.numer(), numbers));
        out.push('*');
    }
    out.push('(');
    // Each term divided by the content (`sum_content` saw no sum among them).
    write_scaled_sum(e, numbers, id, &content.recip(), negative, out);
    out.push(')');
    if decimal.is_none() && !content.denom().is_one() {
        out.push('/');
        out.push_str(&integer_text(content.denom(), numbers));
    }
}

/// The sign a term of a sum prints with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sign {
    /// As it is, after ` + ` (or first).
    Plus,
    /// Negated, after ` - `: the term starts negative.
    Minus,
    /// After ` - `, with its sum factor (the id) negated: see [`flippable_sum`].
    Flip(Id),
    /// After ` - `, with its mostly negative sum factor (the id) negated, as long as
    /// `+` and the sum as it is: see [`turnable_sum`].
    Turn(Id),
}

/// A sum's terms in printing order, each with its sign. The first term that is
/// positive as it stands leads, as a person writes `1 - x`, not `-x + 1`; failing that
/// the first whose mostly negative sum could turn (written as it is, which costs
/// nothing), failing that the first with an all-negative sum, failing that the first.
/// (The parser re-sorts, so the text still reads back the same.)
///
/// With `turn`, terms whose polynomial factor turns are found ([`turnable_sum`]);
/// without, they are taken as they are, which counts the same.
fn signed_terms(e: &Expr, ts: &[Id], turn: bool) -> impl Iterator<Item = (Id, Sign)> {
    // Each term's sign, worked out once.
    let signs: smallvec::SmallVec<[(Id, Sign); 8]> = ts
        .iter()
        .map(|&t| {
            let sign = if starts_negative(e, t) {
                Sign::Minus
            } else if let Some(sum) = flippable_sum(e, t) {
                Sign::Flip(sum)
            } else {
                let turned = if turn { turnable_sum(e, t) } else { None };
                turned.map_or(Sign::Plus, Sign::Turn)
            };
            (t, sign)
        })
        .collect();
    let lead = signs
        .iter()
        .position(|(_, s)| *s == Sign::Plus)
        .or_else(|| signs.iter().position(|(_, s)| matches!(s, Sign::Turn(_))))
        .or_else(|| signs.iter().position(|(_, s)| matches!(s, Sign::Flip(_))))
        .unwrap_or(0);
    let first = (signs[lead].0, Sign::Plus);
    std::iter::once(first).chain(
        signs
            .into_iter()
            .enumerate()
            .filter(move |(k, _)| *k != lead)
            .map(|(_, ts)| ts),
    )
}

/// The sum factor of a term that can print negated with the term's sign taken out in
/// front, one `-` shorter: a product with a positive coefficient, at least one other
/// factor, and a sum (as a plain factor) that prints with a leading minus.
/// `3*x^2 + 2*x^3*(-x - 3)` prints as `3*x^2 - 2*x^3*(x + 3)`. The text reads back the
/// same: a negative product carries its sign into its one sum
/// ([`crate::expr::Builder::mul`]).
fn flippable_sum(e: &Expr, t: Id) -> Option<Id> {
    let rest = factors_of_positive_product(e, t)?;
    // Every term negative, and none a sum itself (that would print as `(-1)*(…)`).
    let negative_sum = |f: &&Id| {
        matches!(e.node(**f), Node::Add(ts) if ts.len() <= crate::expr::SUM_WIDTH
            && ts.iter().all(|&u| starts_negative(e, u) && !matches!(e.node(u), Node::Add(_))))
    };
    // One such sum: the canonical form leaves at most one, the one a negative product
    // carried its sign into, which is where reading puts it back.
    let mut sums = rest.iter().filter(negative_sum);
    let sum = *sums.next()?;
    if sums.next().is_some() {
        return None;
    }
    (!meets_its_negation(e, rest, sum)).then_some(sum)
}

/// A product's factors besides its coefficient, where that is positive (or 1) and at
/// least two remain: a term whose sign could be taken out of one of its sums.
fn factors_of_positive_product(e: &Expr, t: Id) -> Option<&[Id]> {
    let Node::Mul(fs) = e.node(t) else {
        return None;
    };
    let rest = match e.node(fs[0]).as_num() {
        Some(r) if r.is_negative() => return None,
        Some(_) => &fs[1..],
        None => &fs[..],
    };
    (rest.len() >= 2).then_some(rest)
}

/// Whether the negation of `sum` is the base of a power among the other `factors`,
/// where reading would merge them (`(-x - y)/(x + y)^2` is no `(x + y)/(x + y)^2`): a
/// sum that does may not print negated.
fn meets_its_negation(e: &Expr, factors: &[Id], sum: Id) -> bool {
    factors.iter().filter(|&&f| f != sum).any(|&f| match e.node(f) {
        Node::Pow([b, _]) | Node::Call(crate::expr::Func::Sqrt, [b]) => is_negation(e, *b, sum),
        _ => false,
    })
}

/// The sum factor of a term in a sum that reads better negated, with the term's sign
/// taken out: a product with a positive coefficient, at least one other factor, and
/// one sum, more of whose terms are negative than not (though not all:
/// [`flippable_sum`]), its first term among them. `y + x*(7 - x^3 - 7*x)` prints as
/// `y - x*(x^3 + 7*x - 7)`, in descending degree, as a person writes it, with as many
/// operations (the sum leads with a positive term either way). Only in a sum: a
/// product alone would need a `-` in front. The text reads back the same: a negative
/// product carries its sign into its one sum ([`crate::expr::Builder::mul`]).
pub(crate) fn turnable_sum(e: &Expr, t: Id) -> Option<Id> {
    let rest = factors_of_positive_product(e, t)?;
    let mut sums = rest.iter().filter(|&&f| matches!(e.node(f), Node::Add(_)));
    let sum = *sums.next()?;
    if sums.next().is_some() {
        return None;
    }
    let Node::Add(ts) = e.node(sum) else {
        return None;
    };
    // Mostly negative, and the sum's first term in the canonical order (its highest
    // degree) too, so that turned it reads in that order: `x^3 + 7*x - 7` for
    // `7 - x^3 - 7*x`, but `10*x^3 - 6*x - 8` stays.
    let negative = ts.iter().filter(|&&u| starts_negative(e, u)).count();
    let mostly = 2 * negative > ts.len() && negative < ts.len() && starts_negative(e, ts[0]);
    // Only a polynomial, whose canonical order is by degree; other sums' order is
    // structural, and turning them reads no better.
    if !mostly || ts.len() > crate::expr::SUM_WIDTH || !ts.iter().all(|&u| is_monomial(e, u)) {
        return None;
    }
    // In several variables the order is by the first variable, not the degree: turn
    // only where the positive terms are numbers (`x + y - 7` for `7 - x - y`, but
    // `y^2 - 2*x*y - 8` stays).
    let mut variables: smallvec::SmallVec<[Id; 4]> = smallvec::SmallVec::new();
    for &u in ts.iter() {
        let factors = match e.node(u) {
            Node::Mul(fs) => &fs[..],
            _ => std::slice::from_ref(&u),
        };
        for &f in factors {
            let v = match e.node(f) {
                Node::Pow([b, _]) => *b,
                _ => f,
            };
            if matches!(e.node(v), Node::Var(_)) && !variables.contains(&v) {
                variables.push(v);
            }
        }
    }
    let several = variables.len() > 1;
    if several
        && !ts
            .iter()
            .all(|&u| starts_negative(e, u) || e.node(u).as_num().is_some())
    {
        return None;
    }
    (!meets_its_negation(e, rest, sum)).then_some(sum)
}

/// Whether a term is a number times powers of variables (`-7*x^3*y`).
fn is_monomial(e: &Expr, t: Id) -> bool {
    let power_of_variable = |f: Id| match e.node(f) {
        Node::Var(_) => true,
        Node::Pow([b, k]) => {
            matches!(e.node(*b), Node::Var(_)) && e.node(*k).as_num().is_some_and(|r| r.is_integer() && r.is_positive())
        }
        _ => false,
    };
    match e.node(t) {
        Node::Num(_) => true,
        Node::Mul(fs) => fs
            .iter()
            .enumerate()
            .all(|(i, &f)| (i == 0 && e.node(f).as_num().is_some()) || power_of_variable(f)),
        _ => power_of_variable(t),
    }
}

/// Whether the sums `a` and `b` are each other's negation, term by term.
fn is_negation(e: &Expr, a: Id, b: Id) -> bool {
    is_multiple(e, a, b, &-Rational::one())
}

/// Whether the sum `a` is `k` times the sum `b`, term by term.
fn is_multiple(e: &Expr, a: Id, b: Id, k: &Rational) -> bool {
    let (Node::Add(us), Node::Add(vs)) = (e.node(a), e.node(b)) else {
        return false;
    };
    // A term's coefficient and the rest of its factors (`x` for both `x` and `-x`).
    fn parts<'a>(e: &'a Expr, t: &'a Id) -> (Rational, &'a [Id]) {
        match e.node(*t) {
            Node::Num(r) => ((**r).clone(), &[]),
            Node::Mul(fs) => match e.node(fs[0]).as_num() {
                Some(r) => (r.clone(), &fs[1..]),
                None => (Rational::one(), &fs[..]),
            },
            _ => (Rational::one(), std::slice::from_ref(t)),
        }
    }
    us.len() == vs.len()
        && us.iter().all(|u| {
            let (c, rest) = parts(e, u);
            vs.iter().any(|v| {
                let (d, other) = parts(e, v);
                rest == other && c == k * d
            })
        })
}

/// Writes a sum with every term multiplied by `scale` (a content taken out:
/// [`write_whole`], [`denominator_content`]), and with `negated`, every term negated
/// (an all-negative sum whose sign is written outside).
fn write_scaled_sum(e: &Expr, numbers: Numbers, sum: Id, scale: &Rational, negated: bool, out: &mut String) {
    let Node::Add(ts) = e.node(sum) else {
        return;
    };
    for (i, (t, sign)) in signed_terms(e, ts, true).enumerate() {
        // An all-negative sum has no positive term to lead or to flip: every term
        // prints negated after the `-` outside.
        let sign = if negated { Sign::Minus } else { sign };
        if i > 0 {
            out.push_str(if negated || sign == Sign::Plus { " + " } else { " - " });
        }
        let negate = negated || (i > 0 && sign == Sign::Minus);
        let flip = match sign {
            Sign::Flip(s) | Sign::Turn(s) => Some(s),
            _ => None,
        };
        match e.node(t) {
            Node::Num(r) => {
                let r = &**r * scale;
                out.push_str(&rational_text(&if negate { -r } else { r }, numbers));
            }
            Node::Mul(fs) => {
                let (c, rest) = match e.node(fs[0]).as_num() {
                    Some(r) => (r * scale, &fs[1..]),
                    None => (scale.clone(), &fs[..]),
                };
                write_product_parts(e, numbers, c, rest, negate, flip, None, out);
            }
            _ => write_product_parts(e, numbers, scale.clone(), &[t], negate, None, None, out),
        }
    }
}

/// Writes the negation of a sum whose terms are all or mostly negative: `x + 3` for
/// `-x - 3`, `x^3 + 7*x - 7` for `7 - x^3 - 7*x`. A term that turns positive leads.
fn write_negated_sum(e: &Expr, numbers: Numbers, sum: Id, out: &mut String) {
    if let Node::Add(ts) = e.node(sum) {
        let lead = ts.iter().position(|&t| starts_negative(e, t)).unwrap_or(0);
        let order = std::iter::once(ts[lead]).chain(ts.iter().enumerate().filter(|(k, _)| *k != lead).map(|(_, &t)| t));
        for (i, t) in order.enumerate() {
            let negative = starts_negative(e, t);
            if i > 0 {
                out.push_str(if negative { " + " } else { " - " });
            }
            write_term(e, numbers, t, negative, out);
        }
    }
}

fn write_expr(e: &Expr, numbers: Numbers, id: Id, out: &mut String) {
    stacker::maybe_grow(64 * 1024, 4 * 1024 * 1024, || write_expr_inner(e, numbers, id, out));
}

fn write_expr_inner(e: &Expr, numbers: Numbers, id: Id, out: &mut String) {
    match e.node(id) {
        Node::Add(ts) => {
            for (i, (t, sign)) in signed_terms(e, ts, true).enumerate() {
                match sign {
                    // A sum with no positive term leads with one that can flip, if any:
                    // `-(s + 2)/(x - 3)^2 - c`, not `(-s - 2)/(x - 3)^2 - c` (a term
                    // that is positive as it is never has a sum to flip).
                    Sign::Plus if i == 0 => match leading_flip(e, t) {
                        Some(sum) => {
                            out.push('-');
                            write_flipped(e, numbers, t, sum, out);
                        }
                        None => write_term(e, numbers, t, false, out),
                    },
                    Sign::Plus => {
                        out.push_str(" + ");
                        write_term(e, numbers, t, false, out);
                    }
                    Sign::Minus => {
                        out.push_str(" - ");
                        write_term(e, numbers, t, true, out);
                    }
                    Sign::Flip(sum) | Sign::Turn(sum) => {
                        out.push_str(" - ");
                        write_flipped(e, numbers, t, sum, out);
                    }
                }
            }
        }
        // A product standing alone takes its all-negative sum's sign out in front too:
        // `-exp(-t)*(2*sin(2*t) + cos(2*t))`, not `exp(-t)*(-2*sin(2*t) - cos(2*t))`
        // (the same count: the sum's leading `-` moves outside).
        Node::Mul(_) => match leading_flip(e, id) {
            Some(sum) => {
                out.push('-');
                write_flipped(e, numbers, id, sum, out);
            }
            None => write_term(e, numbers, id, false, out),
        },
        _ => write_term(e, numbers, id, false, out),
    }
}

/// [`flippable_sum`] for a product that prints with a `-` in front, leading a sum or
/// standing alone: only where the product has no other sum factor. Read back,
/// `-(a + b)*(c + d)` negates the first sum, not the one the canonical form chose, but
/// with one sum the sign has one place to go.
fn leading_flip(e: &Expr, t: Id) -> Option<Id> {
    let Node::Mul(fs) = e.node(t) else {
        return None;
    };
    let sums = fs.iter().filter(|&&f| matches!(e.node(f), Node::Add(_))).count();
    flippable_sum(e, t).filter(|_| sums == 1)
}

/// Writes the product `t` with its all-negative sum factor `sum` negated
/// ([`flippable_sum`]); the caller writes the `-` the sum gave up.
fn write_flipped(e: &Expr, numbers: Numbers, t: Id, sum: Id, out: &mut String) {
    if let Node::Mul(fs) = e.node(t) {
        let (c, rest) = match e.node(fs[0]).as_num() {
            Some(r) => (r.clone(), &fs[1..]),
            None => (Rational::one(), &fs[..]),
        };
        let den = denominator_content(e, numbers, &c, rest).map(|(s, g, _)| (s, g));
        write_product_parts(e, numbers, c, rest, false, Some(sum), den, out);
    }
}

/// Writes a term; with `negate`, writes the negation of a term that starts negative.
fn write_term(e: &Expr, numbers: Numbers, id: Id, negate: bool, out: &mut String) {
    match e.node(id) {
        Node::Num(r) => {
            let r = if negate { -(**r).clone() } else { (**r).clone() };
            out.push_str(&rational_text(&r, numbers));
        }
        Node::Mul(fs) => write_product(e, numbers, fs, negate, out),
        _ if lone_denominator(e, id) => write_product(e, numbers, &[id], false, out),
        Node::Add(_) if negate => {
            // A grouped sum used as a term: only reached for very wide sums.
            out.push_str("(-1)*(");
            write_expr(e, numbers, id, out);
            out.push(')');
        }
        Node::Add(_) => {
            out.push('(');
            write_expr(e, numbers, id, out);
            out.push(')');
        }
        _ => write_atom(e, numbers, id, out),
    }
}

fn write_product(e: &Expr, numbers: Numbers, fs: &[Id], negate: bool, out: &mut String) {
    let (c, rest) = match e.node(fs[0]).as_num() {
        Some(r) => (r.clone(), &fs[1..]),
        None => (Rational::one(), fs),
    };
    let den = denominator_content(e, numbers, &c, rest).map(|(sum, g, _)| (sum, g));
    write_product_parts(e, numbers, c, rest, negate, None, den, out);
}

/// Puts the factors of a product, in canonical order ([`crate::order`]), in the order
/// they print in, by their [`display_rank`]: the canonical order, except that a
/// function of a variable or a constant comes before a function of anything larger,
/// as a person writes the chain rule's factor first: `exp(x)*sec(exp(x) + 2)`,
/// `sqrt(x)*cos(x^(3/2))`. A spelling only: the text reads back as the same product.
pub(crate) fn display_order<T>(factors: &mut [T], rank: impl Fn(&T) -> u8) {
    // Most products hold at most one function: nothing to move.
    if factors.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])) {
        return;
    }
    // Stable: factors of one rank keep their canonical order.
    factors.sort_by_key(rank);
}

/// Where the factor `f` prints among a product's others ([`display_order`]), by the
/// node it is a power of: numbers, constants (with the square roots of numbers, which
/// read as part of the coefficient), variables and powers first (0), then functions
/// of a variable or a constant (1), then other functions (2), then products
/// and sums (3). This is the canonical order but for the split of the functions.
pub(crate) fn display_rank(e: &Expr, f: Id) -> u8 {
    let base = match e.node(f) {
        Node::Pow([b, x]) if e.node(*x).as_num().is_some() => *b,
        _ => f,
    };
    let atomic = |k: &Id| matches!(e.node(*k), Node::Var(_) | Node::Const(_) | Node::Num(_));
    match e.node(base) {
        // `sqrt(2)` reads as part of the coefficient, which it follows.
        Node::Call(crate::expr::Func::Sqrt, [k]) if e.node(*k).as_num().is_some() => 0,
        Node::Call(_, args) => 2 - u8::from(args.iter().all(atomic)),
        Node::Log(args) => 2 - u8::from(args.iter().all(atomic)),
        Node::Mul(_) | Node::Add(_) => 3,
        _ => 0,
    }
}

/// Writes the product of the number `c` and the factors `rest`, the factor `flip`
/// negated (an all-negative sum, [`flippable_sum`]), and the denominator sum of `den`
/// divided by its content, which joins the coefficient ([`denominator_content`]).
#[allow(clippy::too_many_arguments)]
fn write_product_parts(
    e: &Expr,
    numbers: Numbers,
    mut c: Rational,
    rest: &[Id],
    negate: bool,
    flip: Option<Id>,
    den: Option<(Id, Rational)>,
    out: &mut String,
) {
    if negate {
        c = -c;
    }
    if let Some((_, g)) = &den {
        c /= g;
    }
    if c.is_negative() {
        out.push('-');
        c = -c;
    }
    let mut numer: Vec<Id> = Vec::new();
    let mut denom: Vec<(Base, Flipped<'_>)> = Vec::new();
    // Division by a literal zero prints on its own (`x/10/0`), because `10*0` in a
    // grouped denominator would fold to 0 and not read back the same.
    let mut by_zero: Vec<(Id, Rational)> = Vec::new();
    for &f in rest {
        match negative_exponent(e, f) {
            Some((Base::Node(b), Flipped::Num(x))) if e.node(b).as_num().is_some_and(Zero::is_zero) => {
                by_zero.push((b, -x))
            }
            Some((b, x)) => denom.push((b, x)),
            None => numer.push(f),
        }
    }
    display_order(&mut numer, |&f| display_rank(e, f));
    display_order(&mut denom, |&(b, _)| match b {
        Base::Node(b) => display_rank(e, b),
        Base::E => 0,
    });
    // `e` leads its denominator, as a constant does a product: `6/(e*x)`.
    denom.sort_by_key(|(b, _)| *b != Base::E);
    let mut first = true;
    let decimal = decimal_text(&c).filter(|_| numbers == Numbers::Decimals);
    if let Some(text) = &decimal {
        out.push_str(text);
        first = false;
    } else if !c.numer().is_one() || numer.is_empty() {
        out.push_str(&integer_text(c.numer(), numbers));
        first = false;
    }
    for &f in &numer {
        if !first {
            out.push('*');
        }
        first = false;
        if flip == Some(f) {
            out.push('(');
            write_negated_sum(e, numbers, f, out);
            out.push(')');
        } else {
            write_factor(e, numbers, f, out);
        }
    }
    let den_count = denom.len() + usize::from(decimal.is_none() && !c.denom().is_one());
    let write_by_zero = |out: &mut String| {
        for (b, x) in &by_zero {
            out.push('/');
            if rational_is(x, 1) {
                out.push('0');
            } else {
                write_power(e, numbers, *b, Exponent::Num(x), out);
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
    if decimal.is_none() && !c.denom().is_one() {
        out.push_str(&integer_text(c.denom(), numbers));
        first = false;
    }
    for &(b, x) in &denom {
        if !first {
            out.push('*');
        }
        first = false;
        let b = match b {
            Base::Node(b) => b,
            Base::E => {
                out.push('e');
                if let (false, Flipped::Num(x)) = (x.is_one(), x) {
                    write_exponent(e, numbers, Exponent::Num(&-x), out);
                }
                continue;
            }
        };
        if let Some((sum, g)) = den.as_ref().filter(|(sum, _)| *sum == b) {
            out.push('(');
            write_scaled_sum(e, numbers, *sum, &g.recip(), false, out);
            out.push(')');
        } else if x.is_one() {
            write_factor(e, numbers, b, out);
        } else {
            match x {
                Flipped::Num(x) => write_power(e, numbers, b, Exponent::Num(&-x), out),
                Flipped::Node(x) => write_power(e, numbers, b, Exponent::Negated(x), out),
            }
        }
    }
    if den_count > 1 {
        out.push(')');
    }
    write_by_zero(out);
}

/// Writes a factor of a product, in parentheses where `*` would bind wrongly.
fn write_factor(e: &Expr, numbers: Numbers, id: Id, out: &mut String) {
    match e.node(id) {
        Node::Add(_) | Node::Mul(_) | Node::Num(_) => {
            out.push('(');
            write_expr(e, numbers, id, out);
            out.push(')');
        }
        _ => write_atom(e, numbers, id, out),
    }
}

enum Exponent<'a> {
    Node(Id),
    Num(&'a Rational),
    /// A product with a negative coefficient, written negated ([`Flipped::Node`]).
    Negated(Id),
}

fn write_power(e: &Expr, numbers: Numbers, base: Id, exponent: Exponent<'_>, out: &mut String) {
    if is_atomic(e, numbers, base) {
        write_atom(e, numbers, base, out);
    } else {
        out.push('(');
        write_whole(e, numbers, base, out);
        out.push(')');
    }
    write_exponent(e, numbers, exponent, out);
}

/// Writes `^` and the exponent of a power.
fn write_exponent(e: &Expr, numbers: Numbers, exponent: Exponent<'_>, out: &mut String) {
    out.push('^');
    match exponent {
        Exponent::Num(r) if r.is_integer() && !r.is_negative() => out.push_str(&r.to_string()),
        Exponent::Num(r) if is_decimal(r, numbers) && !r.is_negative() => out.push_str(&rational_text(r, numbers)),
        Exponent::Num(r) => {
            out.push('(');
            out.push_str(&rational_text(r, numbers));
            out.push(')');
        }
        // A power as an exponent is in parentheses, `3^(x^2)`, as a person writes it:
        // `3^x^2` means the same (powers are right-associative) but reads ambiguously.
        Exponent::Node(x) if is_atomic(e, numbers, x) => write_atom(e, numbers, x, out),
        Exponent::Node(x) => {
            out.push('(');
            write_whole(e, numbers, x, out);
            out.push(')');
        }
        Exponent::Negated(x) => {
            let Node::Mul(fs) = e.node(x) else {
                return write_exponent(e, numbers, Exponent::Node(x), out);
            };
            match negated_atom(e, numbers, fs) {
                Some(a) => write_atom(e, numbers, a, out),
                None => {
                    out.push('(');
                    write_product(e, numbers, fs, true, out);
                    out.push(')');
                }
            }
        }
    }
}

/// The one factor of `-u` that, negated, prints as a single token or call (so as an
/// exponent without parentheses): `x` of `-x`.
fn negated_atom(e: &Expr, numbers: Numbers, fs: &[Id]) -> Option<Id> {
    match fs {
        [c, a] if e.node(*c).as_num().is_some_and(|c| rational_is(c, -1)) && is_atomic(e, numbers, *a) => Some(*a),
        _ => None,
    }
}

/// Operations written for the exponent of [`Exponent::Negated`].
fn count_negated_exponent(e: &Expr, numbers: Numbers, x: Id, memo: &mut Vec<Option<usize>>) -> usize {
    match e.node(x) {
        Node::Mul(fs) => match negated_atom(e, numbers, fs) {
            Some(a) => count_atom(e, numbers, a, memo),
            None => count_product(e, numbers, fs, true, memo),
        },
        _ => count_atom(e, numbers, x, memo),
    }
}

/// Writes a variable, constant, call or power, or anything else in parentheses.
fn write_atom(e: &Expr, numbers: Numbers, id: Id, out: &mut String) {
    match e.node(id) {
        Node::Var(s) => out.push_str(s.as_str()),
        Node::Const(c) => out.push_str(c.name()),
        Node::Num(r) if is_atomic(e, numbers, id) => out.push_str(&rational_text(r, numbers)),
        Node::Call(f, [a]) => {
            out.push_str(f.name());
            out.push('(');
            write_whole(e, numbers, *a, out);
            out.push(')');
        }
        Node::Log([a, b]) => {
            out.push_str("log(");
            write_whole(e, numbers, *a, out);
            out.push_str(", ");
            write_whole(e, numbers, *b, out);
            out.push(')');
        }
        Node::Pow([b, x]) => match e.node(*x).as_num() {
            Some(r) if !r.is_zero() => write_power(e, numbers, *b, Exponent::Num(r), out),
            _ => write_power(e, numbers, *b, Exponent::Node(*x), out),
        },
        _ => {
            out.push('(');
            write_expr(e, numbers, id, out);
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
    fn a_term_takes_the_sign_of_its_all_negative_sum_in_front() {
        // The canonical form keeps the sign in the sum (`2*x^3*(-x - 3)`); in a sum the
        // term reads one `-` shorter with the sign in front.
        let cases = [
            ("3*x^2 - 2*x^3*(x + 3)", "3*x^2 - 2*x^3*(x + 3)"),
            ("y - sin(x)*(x + 1)/x", "y - sin(x)*(x + 1)/x"),
            // Leading, or standing alone, the same: no shorter, but as a person writes
            // it (the sign reads back into the sum).
            ("-sin(x)*(x + 1) - y", "-sin(x)*(x + 1) - y"),
            ("-sin(x)*(x + 1)", "-sin(x)*(x + 1)"),
            ("cos(-sin(x)*(x + 1))", "cos(-sin(x)*(x + 1))"),
            ("-(x + 1)/(x - 3)^2 - y", "-(x + 1)/(x - 3)^2 - y"),
            // Two sums: the one the canonical form gave the sign (reading puts it there
            // again).
            ("y - sin(x)*(x + 1)*(x + 2)", "y - sin(x)*(x + 2)*(x + 1)"),
            ("y - sin(x)*(x + 2)*(x - 1)", "sin(x)*(x + 2)*(1 - x) + y"),
            // A sum and a power of its negation merge on reading (so the printer
            // never needs to keep them apart).
            ("y + (-x - 1)/(x + 1)^2*sin(x)", "y - sin(x)/(x + 1)"),
        ];
        for (input, printed) in cases {
            assert_eq!(round(input), printed, "{input}");
            let e = parse(input).unwrap();
            assert_eq!(e.op_count(), super::op_count_text(printed), "{printed}");
        }
    }

    #[test]
    fn a_term_in_a_sum_turns_its_mostly_negative_polynomial() {
        let cases = [
            // Turned, the polynomial reads in descending degree, with as many
            // operations.
            ("y + x*(7 - x^3 - 7*x)", "y - x*(x^3 + 7*x - 7)"),
            ("y - x*(x^3 + 7*x - 7)", "y - x*(x^3 + 7*x - 7)"),
            ("cos(x)*(2 - x - z) + y", "y - cos(x)*(x + z - 2)"),
            // A positive term leads, if there is one; otherwise one that could turn
            // stays as it is.
            (
                "x*(7 - x^3 - 7*x) + z*(1 - x^2 - x)",
                "z*(1 - x^2 - x) - x*(x^3 + 7*x - 7)",
            ),
            // Alone it would need a `-` in front: as it is.
            ("x*(7 - x^3 - 7*x)", "x*(7 - x^3 - 7*x)"),
            // Not mostly negative, or its highest degree positive: as it is.
            ("y + x*(1 - x^2)", "x*(1 - x^2) + y"),
            ("y + x*(10*x^3 - 6*x - 8)", "x*(10*x^3 - 6*x - 8) + y"),
            // In several variables, with a positive term other than a number: as it is.
            ("w + x*(y^2 - 2*x*y - 8)", "x*(y^2 - 2*x*y - 8) + w"),
            // Not a polynomial, whose order says nothing of degree: as it is.
            ("y + x*(2 - sin(x) - x^2)", "x*(2 - sin(x) - x^2) + y"),
            // Two sums: reading would put the sign in the first.
            (
                "y + sin(x)*(x + 2)*(7 - x^3 - 7*x)",
                "sin(x)*(x + 2)*(7 - x^3 - 7*x) + y",
            ),
        ];
        for (input, printed) in cases {
            assert_eq!(round(input), printed, "{input}");
            let e = parse(input).unwrap();
            assert_eq!(e.op_count(), super::op_count_text(printed), "{printed}");
        }
        let e = parse("y + x*(7 - x^3 - 7*x)").unwrap();
        assert_eq!(crate::format::latex(&e), r"y - x \left(x^{3} + 7 x - 7\right)");
    }

    #[test]
    fn with_decimals_a_denominator_sums_content_joins_the_coefficient() {
        let cases = [
            ("exp(0.5/(y^2 + 1))", "exp(0.5/(y^2 + 1))"),
            ("2.25*x/(x^2 + 1)", "2.25*x/(x^2 + 1)"),
            // As a fraction the content would only move: the form stays.
            ("(9/4)*x/(x^2 + 1)", "2.25*x/(x^2 + 1)"),
            // A coefficient sharing a factor with the content: written as it is.
            ("4*x/(4*y^2 + 4)", "4*x/(4*y^2 + 4)"),
            // Two denominators: the coefficient's denominator stays with it.
            ("0.5*x/((y^2 + 1)*y)", "0.5*x/(y*(y^2 + 1))"),
            // No decimal for the coefficient: the content beside the sum, as with
            // fractions.
            ("x/(3*y^2 + 3)", "x/(3*(y^2 + 1))"),
        ];
        for (input, printed) in cases {
            // `round_decimal` checks the round trip and the operation count too.
            assert_eq!(round_decimal(input), printed, "{input}");
        }
        // The form is one: with fractions its content prints beside the sum.
        assert_eq!(round("exp(0.5/(y^2 + 1))"), "exp(1/(2*(y^2 + 1)))");
    }

    #[test]
    fn a_denominator_sums_content_prints_beside_it_where_no_longer() {
        let cases = [
            ("3*sqrt(atan(x))/(2*x^2 + 2)", "3*sqrt(atan(x))/(2*(x^2 + 1))"),
            ("1/(2*x + 2)", "1/(2*(x + 1))"),
            // One operation shorter.
            ("x/(4*x^2 + 4*x + 4)", "x/(4*(x^2 + x + 1))"),
            // Longer that way (`3*(2*x^2 + 1)`): written as it is.
            ("x/(6*x^2 + 3)", "x/(6*x^2 + 3)"),
            // A coefficient sharing a factor with the content would read back smaller.
            ("4*x/(4*y^2 + 4)", "4*x/(4*y^2 + 4)"),
            // Nor when the sum divided by its content would merge with another factor.
            ("x*(y + 1)/(10*y + 10)", "x*(y + 1)/(10*y + 10)"),
            // Only a lone denominator, and only to the power 1.
            ("x/(y*(2*x^2 + 2))", "x/(y*(2*x^2 + 2))"),
            ("x/(2*x^2 + 2)^2", "x/(2*x^2 + 2)^2"),
        ];
        for (input, printed) in cases {
            // `round` checks the round trip; the count follows the text.
            assert_eq!(round(input), printed, "{input}");
            assert_eq!(
                super::op_count(&parse(input).unwrap()),
                super::op_count_text(printed),
                "{input}"
            );
        }
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
    fn powers_parenthesise_where_needed_or_ambiguous() {
        assert_eq!(round("x^(2/3)"), "x^(2/3)");
        assert_eq!(round("(-2)^x"), "(-2)^x");
        assert_eq!(round("(x*y)^z"), "(x*y)^z");
        // Right-associative, so `2^x^y` would read back the same; it is written as a
        // person writes it.
        assert_eq!(round("2^x^y"), "2^(x^y)");
        assert_eq!(round("(x^y)^z"), "(x^y)^z");
        assert_eq!(round("-x^2"), "-x^2");
        assert_eq!(round("x^-y"), "x^(-y)");
    }

    #[test]
    fn a_function_of_a_variable_prints_before_a_function_of_more() {
        // The canonical order puts `sec` before `exp` and `cos` before `sqrt`; the
        // chain rule's factor, a function of the variable alone, is written first.
        assert_eq!(
            round("sec(exp(x) + 2)*tan(exp(x) + 2)*exp(x)"),
            "exp(x)*sec(exp(x) + 2)*tan(exp(x) + 2)"
        );
        assert_eq!(round("-3*cos(x^(3/2))*sqrt(x)/2"), "-3*sqrt(x)*cos(x^(3/2))/2");
        assert_eq!(round("1/(cos(x^2)*sqrt(x))"), "1/(sqrt(x)*cos(x^2))");
        assert_eq!(round("x*exp(2)*sin(x^2 + 1)*(x + 1)"), "x*exp(2)*sin(x^2 + 1)*(x + 1)");
        // Variables and powers stay first, and sums last; functions of one kind keep
        // the canonical order among themselves.
        assert_eq!(round("sin(x)*cos(x)*x^2*(x + 1)"), "x^2*sin(x)*cos(x)*(x + 1)");
        assert_eq!(round("sin(2*x)*cos(3*x)"), "sin(2*x)*cos(3*x)");
        // A root of a number reads as part of the coefficient, which it follows.
        assert_eq!(round("sin(sqrt(5)*x)*sqrt(3)*x"), "sqrt(3)*x*sin(sqrt(5)*x)");
        assert_eq!(
            crate::format::latex(&parse("cos(x^(3/2))*sqrt(x)/exp(x^2)").unwrap()),
            "\\sqrt{x} \\cos\\left(x^{\\frac{3}{2}}\\right) e^{-x^{2}}"
        );
    }

    #[test]
    fn functions_and_constants() {
        assert_eq!(round("sin(x)*cos(x)"), "sin(x)*cos(x)");
        assert_eq!(round("log(x, 2)"), "log(x, 2)");
        assert_eq!(round("2*pi*x"), "2*pi*x");
        assert_eq!(round("e^x"), "exp(x)");
    }

    fn round_decimal(s: &str) -> String {
        use super::{op_count_text, op_count_with, print_with, Numbers};
        let e = parse(s).unwrap();
        let p = print_with(&e, Numbers::Decimals);
        assert_eq!(parse(&p).unwrap(), e, "round trip of {s} via {p}");
        assert_eq!(op_count_with(&e, Numbers::Decimals), op_count_text(&p), "{p}");
        p
    }

    #[test]
    fn the_decimal_test_agrees_with_the_decimal_text() {
        use crate::expr::Rational;
        let mut cases: Vec<Rational> = Vec::new();
        for p in [-7i64, -1, 1, 3, 81, 999_999_999_999, 123_456_789_012_345_678, i64::MAX] {
            for q in [
                1u64,
                2,
                3,
                5,
                8,
                10,
                16,
                40,
                625,
                1 << 12,
                1 << 13,
                5u64.pow(12),
                5u64.pow(13),
                10u64.pow(12),
                3 << 40,
            ] {
                cases.push(Rational::new(p.into(), q.into()));
            }
        }
        cases.push(Rational::new(1.into(), num_bigint::BigInt::from(2).pow(80)));
        cases.push(Rational::new(3.into(), num_bigint::BigInt::from(10).pow(20)));
        cases.push(Rational::new(1.into(), num_bigint::BigInt::from(10).pow(15)));
        cases.push(Rational::new(1.into(), 1_000_000_000_000_000i64.into()));
        cases.push(Rational::new(7.into(), (3i64 << 40).into()));
        cases.push(Rational::new(num_bigint::BigInt::from(10).pow(30) + 1, 2.into()));
        for r in cases {
            assert_eq!(super::has_decimal(&r), super::decimal_text(&r).is_some(), "{r}");
        }
    }

    #[test]
    fn decimals_print_where_they_end() {
        assert_eq!(round_decimal("0.3*x"), "0.3*x");
        assert_eq!(round_decimal("-0.3*x/y"), "-0.3*x/y");
        assert_eq!(round_decimal("x/2 - 2.25"), "0.5*x - 2.25");
        assert_eq!(round_decimal("x/3 + 1/4"), "x/3 + 0.25");
        assert_eq!(round_decimal("3*x/(10*y)"), "0.3*x/y");
        assert_eq!(round_decimal("x^1.5 + y^(-0.5)*z"), "x^1.5 + z/sqrt(y)");
        assert_eq!(round_decimal("(x + 1)^(-2.5) + x^(1/3)"), "x^(1/3) + 1/(x + 1)^2.5");
        assert_eq!(round_decimal("0.3^x"), "0.3^x");
        assert_eq!(round_decimal("(-0.3)^x"), "(-0.3)^x");
        assert_eq!(round_decimal("x^(-1/3)*y"), "y/x^(1/3)");
        assert_eq!(round_decimal("0.000244140625*x"), "0.000244140625*x");
        // Beyond the places allowed, a fraction.
        assert_eq!(round_decimal("x/8192"), "x/8192");
        assert_eq!(round_decimal("123456789012345678901.5*x"), "123456789012345678901.5*x");
        assert_eq!(
            round_decimal("1234567890123456789012345.5*x"),
            "2469135780246913578024691*x/2"
        );
    }

    #[test]
    fn decimals_print_in_scientific_notation_below_1e_minus_4_and_from_1e16() {
        assert_eq!(round_decimal("1e-30*x^2"), "1e-30*x^2");
        assert_eq!(round_decimal("0.00003*x"), "3e-5*x");
        assert_eq!(round_decimal("-2.5e-7*x"), "-2.5e-7*x");
        assert_eq!(round_decimal("0.0001*x"), "0.0001*x");
        assert_eq!(round_decimal("2.5e20*x"), "2.5e20*x");
        assert_eq!(round_decimal("1e400 + x"), "x + 1e400");
        assert_eq!(round_decimal("1e15*x"), "1000000000000000*x");
        assert_eq!(round_decimal("47024601566261766*x"), "47024601566261766*x");
        assert_eq!(round_decimal("47000000000000000000*x"), "4.7e19*x");
        assert_eq!(round_decimal("x/3e30"), "x/3e30");
        assert_eq!(round_decimal("x^(1e-5)"), "x^1e-5");
        // More significant digits than the notation allows: written out.
        assert_eq!(
            round_decimal("123456789012345678e10*x"),
            "1234567890123456780000000000*x"
        );
        assert_eq!(round_decimal("x/3e-30"), "1e30*x/3");
        // Fractions spell every integer in full.
        assert_eq!(super::print(&parse("2.5e20*x").unwrap()), "250000000000000000000*x");
    }

    #[test]
    fn reciprocals_of_powers_of_e_print_in_the_denominator() {
        assert_eq!(round("x/e"), "x/e");
        assert_eq!(round("6/(e*x)"), "6/(e*x)");
        assert_eq!(round("x^2/e^2"), "x^2/e^2");
        assert_eq!(round("x*exp(-3/2)"), "x/e^(3/2)");
        assert_eq!(round_decimal("x*exp(-1.5)"), "x/e^1.5");
        assert_eq!(round("x + exp(-1)"), "x + 1/e");
        assert_eq!(round("-exp(-1)"), "-1/e");
        // Alone, `exp(-2)` is as short as `1/e^2`, and stays; so does a symbolic one.
        assert_eq!(round("exp(-2)"), "exp(-2)");
        assert_eq!(round("sin(x)*exp(-x)"), "sin(x)*exp(-x)");
        // In an exponent it is an atom.
        assert_eq!(round("x^exp(-1)"), "x^exp(-1)");
    }

    #[test]
    fn a_sum_standing_alone_prints_its_content_outside_when_shorter() {
        assert_eq!(round("exp(2*x - 2*x^2 + 14)"), "exp(2*(x - x^2 + 7))");
        assert_eq!(round("x/2 + 1/2"), "(x + 1)/2");
        assert_eq!(round("3*x*y + 3*z"), "3*(x*y + z)");
        assert_eq!(round("-2*x - 2*y - 2"), "-2*(x + y + 1)");
        assert_eq!(round("sin(3*x/2 - 3/2)"), "sin(3*(x - 1)/2)");
        assert_eq!(round("(4*x + 4*y)^z"), "(4*(x + y))^z");
        assert_eq!(round("x^(2*y + 2*z)"), "x^(2*(y + z))");
        // Not when it is no shorter, or would make a number larger.
        assert_eq!(round("2*x + 2"), "2*x + 2");
        assert_eq!(round("-2*x - 2"), "-2*x - 2");
        assert_eq!(round("2*x + 4*y^2"), "2*x + 4*y^2");
        assert_eq!(round("3*x^2/10 + x/3 + 9/4"), "3*x^2/10 + x/3 + 9/4");
        assert_eq!(round("x/2 + 1/4"), "x/2 + 1/4");
        // As a factor of a product the normal form decides; printing leaves it.
        assert_eq!(round("y*(2*x + 2*z + 2)"), "y*(2*x + 2*z + 2)");
        assert_eq!(round_decimal("0.5*x*y + 0.5*z"), "0.5*(x*y + z)");
    }

    #[test]
    fn op_count_counts_what_sympy_counts() {
        assert_eq!(super::op_count_text("20*x^3 + 9*x^2 + 14*x + 9"), 8);
        assert_eq!(super::op_count_text("2*x*sin(x) + x^2*cos(x)"), 7);
        assert_eq!(super::op_count_text("x**2"), 1);
        assert_eq!(super::op_count_text("log(x, 2)"), 1);
    }
}
