//! Evaluating an expression at a point: exactly where it can be, else in `f64`.
//!
//! Behaviour:
//! - [`eval_exact`]: an expression of numbers, variables, `+ − × ÷`, integer powers,
//!   `abs`, `sign` and exact special values (`sqrt(4)`, `cos(0)`) evaluates at a
//!   rational point to an exact rational; anything else gives [`Exact::NotRational`].
//!   Intermediate results larger than [`MAX_EXACT_BITS`], or more than [`MAX_EXACT_WORK`]
//!   bits of them in all, give [`Exact::TooLarge`]
//!   (the budget is reported, and the caller falls back to `f64`).
//! - [`eval_f64`]: every expression, in `f64`.
//! - Outside the real domain (ln of a non-positive number, division by zero,
//!   `asin(2)`, `sqrt(-1)`, a negative base to a fractional power) the result is
//!   [`Undefined`], naming the offending subexpression: never NaN or infinity printed
//!   as a number. A result too large for `f64` is also reported, as an overflow.
//! - A negative base's exponent that is not an integer number is read exactly: it is
//!   an integer where its exact value is one, whatever `f64` rounded it to, and where
//!   there is no exact value (`(-pi)^tanh(exp(3))`, whose exponent is 1 in `f64` and
//!   less than 1) the power is [`Undefined`]: `f64` cannot tell.
//!
//! ```
//! use dydx::{parse, eval::{eval_exact, eval_f64, point, Exact}};
//! let f = parse("20*x^3 + 9*x^2 + 14*x + 9").unwrap();
//! let at = point(&[("x", "2")]).unwrap();
//! assert_eq!(eval_exact(&f, &at), Exact::Value(dydx::Rational::from_integer(233.into())));
//! assert_eq!(eval_f64(&f, &at), Ok(233.0));
//! let g = parse("ln(x)").unwrap();
//! let zero = point(&[("x", "0")]).unwrap();
//! assert!(eval_f64(&g, &zero).unwrap_err().reason.contains("ln"));
//! ```

use crate::expr::{exact_call, fold_power, Expr, Func, Id, IdIndex, Node, Rational};
use crate::float;
use crate::limits::{MAX_EXACT_BITS, MAX_EXACT_WORK};
use num_traits::{Signed, ToPrimitive, Zero};
use std::collections::BTreeMap;
use std::fmt;

/// A point: exact values for variables, by name.
pub type Point = BTreeMap<String, Rational>;

/// Builds a point from `(name, number)` pairs in the input number syntax
/// (`2`, `-0.7`, `1/3`, `1e-3`).
pub fn point(pairs: &[(&str, &str)]) -> Result<Point, String> {
    pairs
        .iter()
        .map(|(k, v)| Ok((k.to_string(), parse_number(v)?)))
        .collect()
}

/// Parses a number for a point: an optional sign, then a decimal literal or a
/// fraction of two literals (`1/3`, `-2.5e3`).
pub fn parse_number(text: &str) -> Result<Rational, String> {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lit = |s: &str| -> Result<Rational, String> {
        let e = crate::parse(s).map_err(|_| format!("'{text}' is not a number"))?;
        match e.as_num() {
            Some(r)
                if !s.trim_start().starts_with(['-', '+'])
                    && s.trim().chars().all(|c| c.is_ascii_digit() || ".eE+-".contains(c)) =>
            {
                Ok(r.clone())
            }
            _ => Err(format!("'{text}' is not a number")),
        }
    };
    let value = match body.split_once('/') {
        Some((p, q)) => {
            let (p, q) = (lit(p)?, lit(q)?);
            if q.is_zero() {
                return Err(format!("'{text}' divides by zero"));
            }
            p / q
        }
        None => lit(body)?,
    };
    Ok(if neg { -value } else { value })
}

/// Why an expression has no real value at a point.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Undefined {
    /// What went wrong, as a sentence fragment: "ln of a non-positive number".
    pub reason: String,
    /// The offending subexpression, printed (cut to 80 characters).
    pub at: String,
}

impl Undefined {
    /// Whether the value exists but is too large for `f64`: an overflow, not a point
    /// outside the domain.
    ///
    /// ```
    /// use dydx::{parse, eval::{eval_f64, point}};
    /// let at = point(&[("x", "3")]).unwrap();
    /// assert!(eval_f64(&parse("exp(exp(x^2))").unwrap(), &at).unwrap_err().is_overflow());
    /// assert!(!eval_f64(&parse("ln(-x)").unwrap(), &at).unwrap_err().is_overflow());
    /// ```
    pub fn is_overflow(&self) -> bool {
        self.reason.contains(OVERFLOW)
    }

    /// Whether the value exists but `f64` cannot hold it on the way: an overflow, or a
    /// value that underflowed to 0 part way and then met something that would make it
    /// large enough to print (`x^200*exp(-x^2)` at x = 28 is 8.8e-52, though
    /// `exp(-784)` is 0 in `f64`).
    ///
    /// ```
    /// use dydx::{parse, eval::{eval_f64, point}};
    /// let at = point(&[("x", "28")]).unwrap();
    /// let u = eval_f64(&parse("x^200*exp(-x^2)").unwrap(), &at).unwrap_err();
    /// assert!(u.is_beyond_f64() && !u.is_overflow());
    /// assert!(!eval_f64(&parse("ln(-x)").unwrap(), &at).unwrap_err().is_beyond_f64());
    /// ```
    pub fn is_beyond_f64(&self) -> bool {
        beyond_f64(&self.reason)
    }
}

impl fmt::Display for Undefined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}", self.reason, self.at)
    }
}

/// The outcome of exact evaluation.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Exact {
    /// The exact rational value.
    Value(Rational),
    /// The value is not (known to be) rational: use [`eval_f64`].
    NotRational,
    /// Exact evaluation stopped at the [`MAX_EXACT_BITS`] or [`MAX_EXACT_WORK`] budget.
    TooLarge,
    /// No real value at this point.
    Undefined(Undefined),
}

fn undefined(e: &Expr, id: Id, reason: impl Into<String>) -> Undefined {
    Undefined {
        reason: reason.into(),
        at: crate::print::print_at(e, id, 80),
    }
}

fn bits(r: &Rational) -> u64 {
    r.numer().bits() + r.denom().bits()
}

/// The outcome of [`exact_sum`].
enum Sum {
    Value(Rational),
    NotRational,
    TooLarge,
}

/// The exact sum of rationals, over a running common denominator reduced once at the
/// end. Adding `Rational`s one by one reduces every partial sum by a gcd of big
/// integers, and num-bigint's gcd is quadratic: a polynomial of a thousand terms at
/// `x = 3/100` took seconds. Here each term costs a division (the denominators of a
/// polynomial's terms at a point divide one another), and the gcd runs once.
fn exact_sum(terms: impl Iterator<Item = Option<Rational>>) -> Sum {
    use num_bigint::BigInt;
    use num_integer::Integer;
    use num_traits::One;
    let mut num = BigInt::zero();
    let mut den = BigInt::one();
    for t in terms {
        let Some(t) = t else {
            return Sum::NotRational;
        };
        let (n, d) = (t.numer(), t.denom());
        // Each quotient is tried only when the sizes allow it to be exact.
        let divides = |big: &BigInt, small: &BigInt| {
            use num_integer::Integer;
            if big.bits() < small.bits() {
                return None;
            }
            let (q, r) = big.div_rem(small);
            r.is_zero().then_some(q)
        };
        if d == &den {
            num += n;
        } else if let Some(q) = divides(&den, d) {
            num += n * q;
        } else if let Some(q) = divides(d, &den) {
            num = num * q + n;
            den = d.clone();
        } else {
            let l = den.lcm(d);
            num = num * (&l / &den) + n * (&l / d);
            den = l;
        }
        if num.bits() + den.bits() > MAX_EXACT_BITS {
            return Sum::TooLarge;
        }
    }
    Sum::Value(Rational::new(num, den))
}

/// The greatest common divisor, by one division when either side fits in a machine
/// word: num-bigint's gcd of a huge and a small integer shifts the huge one bit by bit.
fn gcd(a: &num_bigint::BigInt, b: &num_bigint::BigInt) -> num_bigint::BigInt {
    use num_integer::Integer;
    use num_traits::One;
    if a.is_one() || b.is_one() {
        return num_bigint::BigInt::one();
    }
    let small = |x: &num_bigint::BigInt| x.magnitude().to_u64().filter(|&v| v != 0);
    match (small(a), small(b)) {
        (Some(x), _) => num_bigint::BigInt::from(x.gcd(&(b.magnitude() % x).to_u64().unwrap_or(0))),
        (_, Some(y)) => num_bigint::BigInt::from(y.gcd(&(a.magnitude() % y).to_u64().unwrap_or(0))),
        _ => a.gcd(b),
    }
}

/// The exact product of rationals, each factor cancelled crosswise against the running
/// product (both stay in lowest terms) with [`gcd`], which is quick when one side is
/// small, as a coefficient is.
fn exact_product(factors: impl Iterator<Item = Option<Rational>>) -> Option<Rational> {
    use num_traits::One;
    let mut num = num_bigint::BigInt::one();
    let mut den = num_bigint::BigInt::one();
    for f in factors {
        let f = f?;
        let (n, d) = (f.numer(), f.denom());
        let g1 = gcd(&num, d);
        let g2 = gcd(n, &den);
        num = (num / &g1) * (n / &g2);
        den = (den / &g2) * (d / &g1);
    }
    // Lowest terms with a positive denominator, as `Ratio::new_raw` requires.
    if num.is_zero() {
        return Some(Rational::zero());
    }
    if den.is_negative() {
        num = -num;
        den = -den;
    }
    Some(Rational::new_raw(num, den))
}

/// Evaluates exactly at a rational point (see the module docs).
pub fn eval_exact(e: &Expr, at: &Point) -> Exact {
    let mut vals: Vec<Option<Rational>> = Vec::with_capacity(e.len());
    // Bits of all results so far, against MAX_EXACT_WORK.
    let mut work: u64 = 0;
    for (i, node) in e.nodes().iter().enumerate() {
        let id = Id::from_index(i);
        let get = |c: &Id| vals[c.index()].clone();
        let v: Option<Rational> = match node {
            Node::Num(r) => Some((**r).clone()),
            Node::Var(s) => at.get(s.as_str()).cloned(),
            Node::Const(_) | Node::Log(_) => None,
            Node::Add(ts) => match exact_sum(ts.iter().map(get)) {
                Sum::Value(r) => Some(r),
                Sum::NotRational => None,
                Sum::TooLarge => return Exact::TooLarge,
            },
            Node::Mul(fs) => exact_product(fs.iter().map(get)),
            Node::Pow([b, x]) => match (get(b), get(x)) {
                (Some(b), Some(x)) => {
                    if b.is_zero() && x.is_negative() {
                        return Exact::Undefined(undefined(e, id, "division by zero"));
                    }
                    if x.is_integer() {
                        let n = x.to_integer().abs().to_u64().unwrap_or(u64::MAX);
                        if bits(&b).saturating_mul(n) > MAX_EXACT_BITS {
                            return Exact::TooLarge;
                        }
                    } else if b.is_negative() {
                        return Exact::Undefined(undefined(e, id, "a negative base to a fractional power"));
                    }
                    fold_power(&b, &x)
                }
                _ => None,
            },
            Node::Call(f, [a]) => match get(a) {
                Some(r) => {
                    let bad = match f {
                        Func::Ln if !r.is_positive() => Some("ln of a non-positive number"),
                        Func::Sqrt if r.is_negative() => Some("sqrt of a negative number"),
                        Func::Csc | Func::Cot if r.is_zero() => Some("division by zero"),
                        Func::Asin | Func::Acos if r.abs() > Rational::from_integer(1.into()) => {
                            Some("outside the domain [-1, 1]")
                        }
                        Func::Atanh if r.abs() >= Rational::from_integer(1.into()) => {
                            Some("outside the domain (-1, 1)")
                        }
                        Func::Acosh if r < Rational::from_integer(1.into()) => Some("outside the domain [1, inf)"),
                        _ => None,
                    };
                    if let Some(reason) = bad {
                        return Exact::Undefined(undefined(e, id, reason));
                    }
                    exact_call(*f, &r)
                }
                None => None,
            },
        };
        if let Some(r) = &v {
            work = work.saturating_add(bits(r));
            if bits(r) > MAX_EXACT_BITS || work > MAX_EXACT_WORK {
                return Exact::TooLarge;
            }
        }
        vals.push(v);
    }
    match vals.pop().flatten() {
        Some(r) => Exact::Value(r),
        None => Exact::NotRational,
    }
}

/// Evaluates in `f64` (see the module docs).
///
/// An intermediate value may overflow to infinity when the result does not:
/// `1/cosh(u)^2` at `u = 800` is 0 (its true value, 1e-695, rounds to 0), the same as
/// `1 - tanh(u)^2`, so the two forms of one derivative agree. A result that is itself
/// infinite, or made not a number by infinities (`exp(800)*exp(-800)`), is reported as
/// an overflow at the first subexpression that overflowed.
pub fn eval_f64(e: &Expr, at: &Point) -> Result<f64, Undefined> {
    let mut vals: Vec<f64> = Vec::with_capacity(e.len());
    // What is known of each value f64 rounded to 0 though it is not (`exp(-800)`).
    let mut tiny: Vec<Option<Tiny>> = Vec::with_capacity(e.len());
    // For each value that overflowed, a lower bound on log2 of its size, where known.
    let mut huge: Vec<Option<f64>> = Vec::with_capacity(e.len());
    let mut first_overflow: Option<Id> = None;
    for (i, node) in e.nodes().iter().enumerate() {
        let id = Id::from_index(i);
        // A logarithm of an overflowed value is a moderate number f64 cannot know:
        // `1/ln(2^(3/x^3))` at x = 0.01 is 4.8e-7, not 1/ln(inf) = 0 (found by the long
        // property run, seed 799). (Other functions of an infinity are right in the
        // limit, or not a number.)
        let compressed = match node {
            Node::Call(Func::Ln | Func::Asinh | Func::Acosh, [a]) => vals[a.index()].is_infinite(),
            Node::Log([a, b]) => vals[a.index()].is_infinite() || vals[b.index()].is_infinite(),
            _ => false,
        };
        if compressed {
            return Err(undefined(e, first_overflow.unwrap_or(id), OVERFLOW));
        }
        let value = match single(e, id, node, &vals, at) {
            Ok(v) => v,
            Err(u) if u.reason == OVERFLOW => {
                first_overflow.get_or_insert(id);
                f64::INFINITY
            }
            Err(u) => {
                // Not a number after an overflow: the overflow is the reason.
                return Err(match first_overflow {
                    Some(o) if u.reason == NOT_A_NUMBER => undefined(e, o, OVERFLOW),
                    // Outside a domain only f64's zero is outside (`ln(exp(-800))` is -800,
                    // `1/exp(-800)` is exp(800)); acosh is undefined at every tiny value.
                    _ if node.children().iter().any(|c| tiny[c.index()].is_some())
                        && !matches!(node, Node::Call(Func::Acosh, _)) =>
                    {
                        undefined(e, id, UNDERFLOW)
                    }
                    // A domain edge (a zero divided by, a logarithm's 0 or base 1) that
                    // rounding may have put the operand on: `1/ln(1/tanh(pi^3)^4)` is
                    // 1/1.1e-26 and no division by zero, though tanh(pi^3) is 1 in f64
                    // (release property seed 953).
                    _ if on_rounded_edge(e, node, &vals, at) => undefined(e, id, ROUNDED_EDGE),
                    // And one that rounding may have pushed past such an edge:
                    // `sqrt(cosh(x)^2 - sinh(x)^2 - 1)` is 0 at x = 10, and the square
                    // root of -1.5e-8 in f64, whose rounding error is 1.6e-5 there.
                    _ if past_rounded_edge(e, node, &vals, at) => undefined(e, id, ROUNDED_PAST_EDGE),
                    _ => u,
                });
            }
        };
        let bound = if value == 0.0 {
            match underflow(e, node, value, &vals, &tiny, &huge, at) {
                Underflow::Exact => None,
                Underflow::Tiny(t) => Some(t),
                Underflow::Lost => return Err(undefined(e, id, UNDERFLOW)),
            }
        } else {
            None
        };
        tiny.push(bound);
        // Keep the sign of an infinity (`-exp(800)`) for the nodes above it.
        let value = match (value.is_infinite(), raw_value(node, &vals)) {
            (true, Some(raw)) if raw.is_infinite() => raw,
            _ => value,
        };
        let large = if value.is_infinite() {
            overflow_bound(e, node, &vals, &huge, at)
        } else {
            None
        };
        huge.push(large);
        vals.push(value);
    }
    match (vals.pop(), first_overflow) {
        // (A zero is printed as 0, whatever the sign of the tiny value it stands for.)
        (Some(0.0), _) => Ok(0.0),
        (Some(v), _) if v.is_finite() => Ok(v),
        (Some(_), Some(o)) => Err(undefined(e, o, OVERFLOW)),
        (Some(_), None) => Err(undefined(e, e.root(), OVERFLOW)),
        (None, _) => Err(Undefined {
            reason: "empty expression".into(),
            at: String::new(),
        }),
    }
}

/// A value `f64` holds as 0 though it is not: `exp(-800)`, or `x^200` at 1e-2.
#[derive(Clone, Copy, Debug)]
struct Tiny {
    /// An upper bound on log2 of the value's magnitude (at most about -1075, where
    /// rounding to the nearest `f64` gives 0).
    log2: f64,
    /// Whether the sign bit of `f64`'s zero is the value's sign (f64 keeps it through
    /// products and odd functions, but not through every sum).
    signed: bool,
}

/// What a value `f64` computed as 0 is.
enum Underflow {
    /// Exactly 0 (or, after an overflow, as close to it as the intermediate overflow
    /// allows, as before: `1/cosh(800)`).
    Exact,
    /// Nonzero but below what `f64` can hold: printing 0 is right.
    Tiny(Tiny),
    /// A tiny value met something that makes it large enough to print
    /// (`x^200*exp(-x^2)` at 28 is 8.8e-52): `f64` lost it part way.
    Lost,
}

/// Values whose magnitude is below 2^-1075 round to 0; one unit of margin keeps the
/// bounds, computed in `f64`, on the safe side.
const ROUNDS_TO_ZERO: f64 = -1076.0;

/// An upper bound on log2 |r|, for a nonzero rational.
pub(crate) fn log2_bound(r: &Rational) -> f64 {
    let (_, exponent) = split_rational(r);
    exponent as f64
}

/// What the 0 that `f64` computed for `node` stands for, given what is known of its
/// operands (`tiny`). A value that underflowed can be multiplied back into range
/// (`x^200*exp(-x^2)` at 28), so a tiny operand is followed through products, powers,
/// roots and odd functions with a bound on its size, and where that bound no longer
/// says the result rounds to 0, the value is lost rather than printed as 0.
fn underflow(
    e: &Expr,
    node: &Node,
    value: f64,
    vals: &[f64],
    tiny: &[Option<Tiny>],
    huge: &[Option<f64>],
    at: &Point,
) -> Underflow {
    let t = |c: &Id| tiny[c.index()];
    let v = |c: &Id| vals[c.index()];
    let judged = |bound: f64, signed: bool| {
        if bound < ROUNDS_TO_ZERO {
            Underflow::Tiny(Tiny { log2: bound, signed })
        } else {
            Underflow::Lost
        }
    };
    let nonzero = |r: &Rational| {
        if r.is_zero() {
            return Underflow::Exact;
        }
        Underflow::Tiny(Tiny {
            log2: log2_bound(r),
            signed: value.is_sign_negative() == r.is_negative(),
        })
    };
    match node {
        Node::Num(r) => nonzero(r),
        Node::Var(s) => at.get(s.as_str()).map_or(Underflow::Exact, nonzero),
        Node::Const(_) | Node::Log(_) => Underflow::Exact,
        Node::Add(ts) => {
            let tinies: Vec<Tiny> = ts.iter().filter_map(t).collect();
            let Some(largest) = tinies.iter().map(|x| x.log2).reduce(f64::max) else {
                return Underflow::Exact;
            };
            // The sum of n values below 2^b is below 2^(b + log2 n).
            let signed = tinies.iter().all(|x| x.signed)
                && ts
                    .iter()
                    .filter(|c| t(c).is_some())
                    .all(|c| v(c).is_sign_negative() == value.is_sign_negative());
            Underflow::Tiny(Tiny {
                log2: largest + float::log2(ts.len() as f64),
                signed,
            })
        }
        Node::Mul(fs) => {
            if fs.iter().any(|f| v(f) == 0.0 && t(f).is_none()) {
                return Underflow::Exact;
            }
            let coefficient = extreme_coefficient(e, fs);
            let bound: f64 = fs
                .iter()
                .enumerate()
                .map(|(k, f)| match (k, coefficient, t(f)) {
                    (0, Some(r), _) => log2_bound(r),
                    (_, _, Some(x)) => x.log2,
                    _ => float::log2(v(f).abs()),
                })
                .sum();
            // (An extreme coefficient is carried exactly, not as f64's zero.)
            let skip = usize::from(coefficient.is_some());
            let tinies: Vec<Tiny> = fs[skip..].iter().filter_map(t).collect();
            if tinies.is_empty() {
                // Finite nonzero factors whose product f64 scaled and still found below
                // its range.
                return Underflow::Tiny(Tiny {
                    log2: bound + 1.0,
                    signed: true,
                });
            }
            let sign: f64 = fs.iter().map(|f| v(f).signum()).product();
            judged(
                bound + 1.0,
                tinies.iter().all(|x| x.signed) && value.is_sign_negative() == sign.is_sign_negative(),
            )
        }
        Node::Pow([b, x]) => {
            let (u, k) = (v(b), v(x));
            match t(b) {
                // A root of a tiny value is defined only where it is positive.
                Some(base) if k > 0.0 && (k.fract() == 0.0 || (base.signed && u.is_sign_positive())) => {
                    judged(k * base.log2, base.signed)
                }
                Some(_) => Underflow::Lost,
                None if u == 0.0 => Underflow::Exact,
                // Past an overflow whose size is known (`1/cosh(800)`, cosh(800) being
                // above 2^1152), the power is below the matching bound; where it is not
                // known, the zero is the limit, as before.
                None if u.is_infinite() => match huge[b.index()] {
                    Some(log2) if k < 0.0 => Underflow::Tiny(Tiny {
                        log2: k * log2 + 1.0,
                        signed: true,
                    }),
                    _ => Underflow::Exact,
                },
                None => Underflow::Tiny(Tiny {
                    log2: k * float::log2(u.abs()) + 1.0,
                    signed: true,
                }),
            }
        }
        Node::Call(f, [a]) => match (t(a), f) {
            // Odd functions with slope 1 at 0 keep a tiny value's size.
            (
                Some(x),
                Func::Sin | Func::Tan | Func::Asin | Func::Atan | Func::Sinh | Func::Tanh | Func::Asinh | Func::Atanh,
            ) => Underflow::Tiny(Tiny {
                log2: x.log2 + 0.5,
                signed: x.signed && value.is_sign_negative() == v(a).is_sign_negative(),
            }),
            (Some(x), Func::Abs) => Underflow::Tiny(Tiny {
                log2: x.log2,
                signed: true,
            }),
            (Some(x), Func::Sqrt) if x.signed && v(a).is_sign_positive() => judged(x.log2 / 2.0, true),
            // A tiny value's sign (`sign`), or its root where its sign is unknown.
            (Some(_), _) => Underflow::Lost,
            (None, Func::Exp) => Underflow::Tiny(Tiny {
                log2: v(a) * std::f64::consts::LOG2_E + 1.0,
                signed: true,
            }),
            (None, _) => Underflow::Exact,
        },
    }
}

/// A lower bound on log2 of the size of a value that overflowed `f64`, where one is
/// known: `exp(1250)` is above 2^1802, so `1/exp(1250)` is below 2^-1802 and times
/// 1e271 still rounds to 0, where `x/cosh(800*x)` at 1 does.
fn overflow_bound(e: &Expr, node: &Node, vals: &[f64], huge: &[Option<f64>], at: &Point) -> Option<f64> {
    let v = |c: &Id| vals[c.index()];
    let size = |c: &Id| {
        huge[c.index()].or_else(|| {
            let x = v(c).abs();
            (x > 0.0 && x.is_finite()).then(|| float::log2(x))
        })
    };
    // Bounds past 2^1024 by less than this are too close to f64's edge to trust.
    let past = |bound: f64| (bound > 1030.0).then_some(bound);
    match node {
        Node::Num(r) => past(log2_bound(r) - 1.0),
        Node::Var(s) => at.get(s.as_str()).and_then(|r| past(log2_bound(r) - 1.0)),
        Node::Mul(fs) => {
            let coefficient = extreme_coefficient(e, fs);
            let sizes: Option<f64> = fs
                .iter()
                .enumerate()
                .map(|(k, f)| match (k, coefficient) {
                    (0, Some(r)) => Some(log2_bound(r) - 1.0),
                    _ => size(f),
                })
                .sum();
            past(sizes? - 1.0)
        }
        Node::Pow([b, x]) => {
            let k = v(x);
            let bound = if k > 0.0 {
                k * size(b)?
            } else if v(b).is_finite() && v(b) != 0.0 {
                k * float::log2(v(b).abs())
            } else {
                return None;
            };
            past(bound - 1.0)
        }
        Node::Call(Func::Exp, [a]) if v(a).is_finite() => past(v(a) * std::f64::consts::LOG2_E - 1.0),
        Node::Call(Func::Cosh | Func::Sinh, [a]) if v(a).is_finite() => {
            past(v(a).abs() * std::f64::consts::LOG2_E - 2.0)
        }
        Node::Call(Func::Exp | Func::Cosh | Func::Sinh, [a]) => huge[a.index()].map(|_| f64::INFINITY),
        // A sum of terms of one sign is at least its largest term.
        Node::Add(ts) => {
            let value = ts.iter().map(v).sum::<f64>();
            let same_sign = ts
                .iter()
                .all(|t| v(t) == 0.0 || v(t).is_sign_negative() == value.is_sign_negative());
            let largest = ts.iter().filter_map(|t| huge[t.index()]).reduce(f64::max)?;
            same_sign.then_some(largest)
        }
        _ => None,
    }
}

/// The product of finite factors, as exact as `f64` allows: multiplied in order, and
/// where that overflows or underflows part way (`1e200*1e200*1e-300`) multiplied
/// again with the binary exponents kept apart, so a product that fits is not
/// reported as infinite or zero; with a zero factor it is zero (a huge coefficient
/// times a `y^729` that underflowed), not `inf*0`.
fn product(factors: impl Iterator<Item = f64> + Clone) -> f64 {
    let naive: f64 = factors.clone().product();
    if (naive.is_finite() && naive != 0.0) || !factors.clone().all(f64::is_finite) {
        return naive;
    }
    // A zero factor (perhaps a power that underflowed) makes the product zero, as
    // multiplying it first would, not `inf*0`.
    // (With the sign of the factors' signs' product, which may be a tiny value's.)
    if factors.clone().any(|f| f == 0.0) {
        return 0f64.copysign(factors.map(f64::signum).product());
    }
    scaled_product((1.0, 0), factors)
}

/// `start.0 * 2^start.1` times the factors, with the binary exponents kept apart (no
/// overflow or underflow before the end). Infinite or zero factors are multiplied as
/// they are.
fn scaled_product(start: (f64, i64), factors: impl Iterator<Item = f64> + Clone) -> f64 {
    if !factors.clone().all(f64::is_finite) || factors.clone().any(|f| f == 0.0) {
        return ldexp(start.0, start.1) * factors.product::<f64>();
    }
    let (mut mantissa, mut exponent) = start;
    for f in factors {
        let (m, e) = split_exponent(f);
        let (m, e2) = split_exponent(mantissa * m);
        mantissa = m;
        exponent += i64::from(e) + i64::from(e2);
    }
    ldexp(mantissa, exponent)
}

/// `mantissa * 2^exponent`, in steps that neither overflow nor underflow early.
fn ldexp(mantissa: f64, mut exponent: i64) -> f64 {
    let mut value = mantissa;
    while exponent > 1000 {
        value *= float::powi(2f64, 1000);
        exponent -= 1000;
        if value.is_infinite() {
            return value;
        }
    }
    while exponent < -1000 {
        value *= float::powi(2f64, -1000);
        exponent += 1000;
        if value == 0.0 {
            return value;
        }
    }
    // Here |exponent| <= 1000, so the power of two is a normal f64.
    value * float::powi(2f64, exponent as i32)
}

/// A nonzero rational as `m * 2^e` with `0.5 <= |m| < 1`, `m` rounded once from a
/// quotient of at least 64 bits, whatever the sizes of numerator and denominator.
fn split_rational(r: &Rational) -> (f64, i64) {
    let (p, q) = (r.numer().magnitude(), r.denom().magnitude());
    // Scale so the integer quotient has 64 or 65 bits.
    let shift = 64 - (p.bits() as i64 - q.bits() as i64);
    let quotient = if shift >= 0 {
        (p << shift as u64) / q
    } else {
        p / (q << shift.unsigned_abs())
    };
    let n = quotient.to_f64().unwrap_or(f64::NAN);
    let (m, e) = split_exponent(n);
    let m = if r.is_negative() { -m } else { m };
    (m, i64::from(e) - shift)
}

/// A product's numeric coefficient when it lies beyond `f64`'s normal range (zero
/// aside), where rounding it to one `f64` would lose most of its bits or all of it.
pub(crate) fn extreme_coefficient<'e>(e: &'e Expr, factors: &[Id]) -> Option<&'e Rational> {
    e.node(*factors.first()?)
        .as_num()
        .filter(|r| !r.is_zero() && !r.to_f64().is_some_and(f64::is_normal))
}

/// A nonzero rational as normal `f64` factors whose product it is (to within one
/// rounding of the mantissa): the first carries the sign, the mantissa and up to
/// 2^±1000, each further one a power of two of at most 2^±1000.
pub(crate) fn normal_pieces(r: &Rational) -> Vec<f64> {
    let (m, mut e) = split_rational(r);
    let first = e.clamp(-1000, 1000);
    let mut pieces = vec![m * float::powi(2f64, first as i32)];
    e -= first;
    while e != 0 {
        let step = e.clamp(-1000, 1000);
        pieces.push(float::powi(2f64, step as i32));
        e -= step;
    }
    pieces
}

/// A finite nonzero `x` as `m * 2^e` with `0.5 <= |m| < 1` (C's `frexp`).
fn split_exponent(x: f64) -> (f64, i32) {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: scale into the normal range first.
        let (m, e) = split_exponent(x * float::powi(2f64, 54));
        return (m, e - 54);
    }
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, biased - 1022)
}

/// The reason given for a value too large for `f64`.
pub(crate) const OVERFLOW: &str = "overflows floating point";

/// The reason given for a value that underflowed to 0 and then met something that
/// makes it large enough to print, or that is undefined only at 0.
pub(crate) const UNDERFLOW: &str = "underflows floating point part way";

/// The reason given for a value undefined in `f64` only because rounding may have put an
/// operand on a domain edge ([`on_rounded_edge`]).
pub(crate) const ROUNDED_EDGE: &str = "f64 rounding may have put an operand on its domain's edge";

/// The reason given for a value undefined in `f64` only because rounding may have pushed
/// an operand past a domain edge ([`past_rounded_edge`]).
pub(crate) const ROUNDED_PAST_EDGE: &str = "f64 rounding may have put an operand past its domain's edge";

/// Whether a reason says `f64` cannot hold the value, which exists (or, for
/// [`ROUNDED_EDGE`] and [`ROUNDED_PAST_EDGE`], cannot tell whether it does).
pub(crate) fn beyond_f64(reason: &str) -> bool {
    reason.contains(OVERFLOW)
        || reason.contains(UNDERFLOW)
        || reason.contains(ROUNDED_EDGE)
        || reason.contains(ROUNDED_PAST_EDGE)
}

/// `fault`, a reason another evaluation of `e` at `at` in `f64` gave (the tape's), or
/// this evaluation's reason where it finds that rounding may have put the same operand on
/// or past a domain edge ([`ROUNDED_EDGE`], [`ROUNDED_PAST_EDGE`]): a point `f64` cannot
/// place in or out of the domain is not called outside it. Evaluates only where `fault`
/// is a domain fault.
pub(crate) fn rounded_edge_diagnosis(e: &Expr, at: &Point, fault: Undefined) -> Undefined {
    if beyond_f64(&fault.reason) {
        return fault;
    }
    match eval_f64(e, at) {
        Err(u) if (u.reason == ROUNDED_EDGE || u.reason == ROUNDED_PAST_EDGE) && u.at == fault.at => u,
        _ => fault,
    }
}

/// The reason given for a value that is not a real number.
const NOT_A_NUMBER: &str = "not a real number";

/// The reason given for a negative base to an exponent that `f64` computes as an integer
/// but exact arithmetic cannot confirm is one (`(-pi)^tanh(exp(3))`).
const UNDECIDED_EXPONENT: &str = "a negative base to an exponent f64 cannot tell from an integer";

/// The raw `f64` value of an operation node whose checked evaluation overflowed.
fn raw_value(node: &Node, vals: &[f64]) -> Option<f64> {
    let v = |c: &Id| vals[c.index()];
    Some(match node {
        Node::Add(ts) => ts.iter().map(v).sum(),
        Node::Mul(fs) => fs.iter().map(v).product(),
        Node::Pow([b, x]) => float::powf(v(b), v(x)),
        Node::Call(f, [a]) => apply(*f, v(a)).0,
        _ => return None,
    })
}

/// The first value in `e` at `at` that is subnormal in `f64` (nonzero, below
/// `f64::MIN_POSITIVE`), printed, if any. Such a value is rounded to a fixed step of
/// 2^-1074 rather than to a fraction of itself, so it holds only a few digits, and
/// what is computed from it (its logarithm, a quotient by it, a derivative of a power)
/// may be far less accurate than rounding usually leaves. `None` also where `e` is
/// undefined at `at`.
///
/// ```
/// use dydx::{parse, eval::{point, subnormal_value}};
/// let at = point(&[("x", "0.09")]).unwrap();
/// assert!(subnormal_value(&parse("ln(x^(pi^5))").unwrap(), &at).is_some());
/// assert!(subnormal_value(&parse("ln(x^2)").unwrap(), &at).is_none());
/// ```
pub fn subnormal_value(e: &Expr, at: &Point) -> Option<String> {
    let mut vals: Vec<f64> = Vec::with_capacity(e.len());
    for (i, node) in e.nodes().iter().enumerate() {
        let id = Id::from_index(i);
        let value = single(e, id, node, &vals, at).ok()?;
        if value.is_subnormal() {
            return Some(crate::print::print_at(e, id, 80));
        }
        vals.push(value);
    }
    None
}

/// The rounding magnitude of evaluating `e` at `at` in `f64`: like the value, but with
/// every sum replaced by the sum of its terms' magnitudes and every product by the
/// product of its factors' magnitudes. Rounding error in `eval_f64` is at most a small
/// multiple of `f64::EPSILON` times this, so it tells a cancellation (`1e6 - 1e6`) from a
/// wrong value. `None` where the expression is undefined; infinite where the bound
/// itself is past `f64`'s range.
pub fn magnitude(e: &Expr, at: &Point) -> Option<f64> {
    let mut vals: Vec<f64> = Vec::with_capacity(e.len());
    let mut mags: Vec<f64> = Vec::with_capacity(e.len());
    let mut exact: Vec<bool> = Vec::with_capacity(e.len());
    for (i, node) in e.nodes().iter().enumerate() {
        let id = Id::from_index(i);
        let value = match single(e, id, node, &vals, at) {
            Ok(v) => v,
            // A number past f64's range (`2^1072`) is a product's coefficient, which the
            // product carries as a mantissa and an exponent: the product says what it
            // costs. Anything else that takes it overflows, and has no bound.
            Err(u) if u.reason == OVERFLOW && matches!(node, Node::Num(_)) => {
                vals.push(f64::INFINITY);
                mags.push(f64::INFINITY);
                exact.push(false);
                continue;
            }
            Err(_) => return None,
        };
        // A value computed with no rounding at all has no error of its own and passes
        // none on: `sin(x)` at x = 1e15, whose coordinate `f64` holds exactly, is good
        // to the last place, though a rounding of 1e15 would be 0.1 radians.
        if computed_exactly(e, node, &vals, &exact, value, at) {
            vals.push(value);
            mags.push(0.0);
            exact.push(true);
            continue;
        }
        exact.push(false);
        let m = |c: &Id| mags[c.index()];
        let val = |c: &Id| vals[c.index()];
        // A first-order bound on the value's error in units of rounding: its own
        // rounding plus each operand's error times how much the value moves with it,
        // so a cancellation inside a call or a denominator shows (`ln(2^(1e-8))` is
        // 6.9e-9, good to about one unit of rounding of 1, not of itself). Linear in
        // the operands' bounds: products of bounds overstate the error by orders.
        let carried = match node {
            Node::Add(ts) => ts.iter().map(m).sum(),
            // Each factor's bound times the other factors' product, which is the value
            // over that factor: computed so, it stays finite where the product of the
            // others alone would overflow (`x^100*y^100*z` at 100, 100, 1e-300).
            Node::Mul(fs) => (0..fs.len())
                .map(|k| {
                    // A coefficient beyond f64's normal range, split into a mantissa
                    // and an exponent, is one rounding of the mantissa.
                    if k == 0 && extreme_coefficient(e, fs).is_some() {
                        return value.abs();
                    }
                    let own = val(&fs[k]);
                    // (Where the product underflowed to 0, the others' product is the
                    // better guess.)
                    if own != 0.0 && value != 0.0 {
                        return value.abs() * (m(&fs[k]) / own.abs());
                    }
                    let others: f64 = fs
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| j != k)
                        .map(|(_, f)| val(f).abs())
                        .product();
                    others * m(&fs[k])
                })
                .sum(),
            Node::Pow([b, x]) => {
                let (u, k) = (val(b), val(x));
                let slope = if u == 0.0 { 0.0 } else { (k * value / u).abs() * m(b) };
                // A root near 0 (`sqrt(1 - tanh(u)^2)` where tanh rounds to 1) has an
                // unbounded slope: its error is at most the base's error to the power k.
                let base = if k > 0.0 && k < 1.0 {
                    let root = root_bound(k, m(b));
                    if u == 0.0 {
                        root
                    } else {
                        slope.min(root)
                    }
                } else {
                    slope
                };
                let exponent = if e.node(*x).as_num().is_some() {
                    0.0
                } else {
                    (value * float::ln(u.abs())).abs() * m(x)
                };
                base + exponent
            }
            Node::Call(f, [a]) => {
                let slope = crate::tape::local_derivative(*f, val(a), value).map_or(f64::INFINITY, |d| d.abs()) * m(a);
                // At a subnormal argument the slope may overflow (`ln` at 1e-320 has
                // slope 1e320) though the argument's error is far smaller: measure how
                // far the value moves when the argument moves by its bound instead.
                let slope = if slope.is_finite() || !val(a).is_subnormal() {
                    slope
                } else {
                    let step = f64::EPSILON * m(a);
                    [val(a) - step, val(a) + step]
                        .into_iter()
                        .filter_map(|moved| match apply(*f, moved) {
                            (w, None) if w.is_finite() => Some((w - value).abs() / f64::EPSILON),
                            _ => None,
                        })
                        .fold(0.0, f64::max)
                };
                match f {
                    // Square-root singularities, at 0 and at ±1: `asin(1 - δ)` is
                    // `pi/2 - sqrt(2*δ)` to first order.
                    Func::Sqrt | Func::Asin | Func::Acos | Func::Acosh => {
                        slope.min(std::f64::consts::SQRT_2 * root_bound(0.5, m(a)))
                    }
                    _ if slope.is_finite() => slope,
                    _ => 0.0,
                }
            }
            Node::Log([a, b]) => {
                let (x, y) = (val(a), val(b));
                let ly = float::ln(y);
                m(a) / (x * ly).abs() + (float::ln(x) / (y * ly * ly)).abs() * m(b)
            }
            Node::Num(_) | Node::Var(_) | Node::Const(_) => 0.0,
        };
        // A bound past f64's range (sin(x^128) at 28, whose argument is off by 1e170
        // radians, has an error bound of 1e355) stays infinite: the value is noise.
        // Not a number (an infinite slope times no error) says nothing.
        let carried = if carried.is_nan() { 0.0 } else { carried };
        // A subnormal value is rounded to a fixed step, 2^-1074, not to a fraction of
        // itself: `x^(pi^5)` at 0.09 is about 1e-320, good to only three digits, and
        // its logarithm to seven. So its own bound is the bound of that step.
        // An integer power is a chain of products (`powi`), whose roundings add up to
        // about one unit per step: as many units as the exponent, at most.
        let steps = match node {
            Node::Pow([_, x]) => integer_exponent_number(e, *x).map_or(1.0, |n| f64::from(n).abs().max(1.0)),
            _ => 1.0,
        };
        let own = if value.is_subnormal() {
            f64::MIN_POSITIVE / 2.0
        } else {
            value.abs() * steps
        };
        vals.push(value);
        mags.push(own + carried);
    }
    mags.pop()
}

/// Whether `single` computed `value`, the value of `node`, with no rounding: a number
/// or coordinate that `f64` holds exactly, or a sum, product, integer power, absolute
/// value, sign or square root of values computed exactly whose result is exact too.
/// Each case follows `single`'s own order of operations, and each rounding is tested
/// with an error-free transformation (Knuth's two-sum; a fused multiply-add for a
/// product). Anything else is taken to be rounded, which only overstates a bound.
fn computed_exactly(e: &Expr, node: &Node, vals: &[f64], exact: &[bool], value: f64, at: &Point) -> bool {
    // (Most numbers are small integers: those f64 holds without a round trip.)
    let held = |r: &Rational| {
        (r.is_integer() && r.numer().bits() <= 53) || r.to_f64().and_then(Rational::from_float).is_some_and(|q| &q == r)
    };
    let all_exact = |cs: &[Id]| cs.iter().all(|c| exact[c.index()]);
    // A normal product: a subnormal or zero one may have lost bits the fused
    // multiply-add cannot show.
    let product_exact = |a: f64, b: f64| {
        let p = a * b;
        p.is_normal() && a.mul_add(b, -p) == 0.0
    };
    match node {
        Node::Num(r) => held(r),
        Node::Var(s) => at.get(s.as_str()).is_some_and(held),
        Node::Const(_) | Node::Log(_) => false,
        Node::Add(ts) => {
            if !all_exact(ts) {
                return false;
            }
            let mut sum = 0.0f64;
            for t in ts.iter().map(|t| vals[t.index()]) {
                let next = sum + t;
                let back = next - sum;
                if !next.is_finite() || (sum - (next - back)) + (t - back) != 0.0 {
                    return false;
                }
                sum = next;
            }
            true
        }
        Node::Mul(fs) => {
            if !all_exact(fs) || extreme_coefficient(e, fs).is_some() {
                return false;
            }
            let factors = fs.iter().map(|f| vals[f.index()]);
            if factors.clone().any(|f| f == 0.0) {
                return value == 0.0;
            }
            let mut p = 1.0f64;
            for f in factors {
                if !product_exact(p, f) {
                    return false;
                }
                p *= f;
            }
            true
        }
        Node::Pow([b, x]) => {
            let Some(n) = integer_exponent_number(e, *x) else {
                return false;
            };
            let u = vals[b.index()];
            if !exact[b.index()] {
                return false;
            }
            if n == 0 || u == 0.0 {
                return n >= 0;
            }
            if !u.is_normal() || !value.is_normal() {
                return false;
            }
            // `u` is `m*2^k` with `m` odd: `u^n` is `m^n*2^(k*n)`, exact where `m^n`
            // fits in the 53 bits of a mantissa (as every power of it on the way does),
            // and for a negative `n` only where `m` is 1 (the reciprocal of an odd number
            // is no binary fraction).
            let significand = (u.to_bits() & ((1u64 << 52) - 1)) | (1u64 << 52);
            let odd = u128::from(significand >> significand.trailing_zeros());
            if n < 0 {
                return odd == 1;
            }
            let mut power: u128 = 1;
            for _ in 0..n {
                power = match power.checked_mul(odd) {
                    Some(q) if q < (1u128 << 53) => q,
                    _ => return false,
                };
            }
            true
        }
        Node::Call(f, [a]) => {
            if !exact[a.index()] {
                return false;
            }
            match f {
                Func::Abs | Func::Sign => true,
                // A correctly rounded root is exact where its square is the argument.
                Func::Sqrt => value.is_normal() && value.mul_add(value, -vals[a.index()]) == 0.0,
                _ => false,
            }
        }
    }
}

/// The rounding bound, in units of `f64::EPSILON`, of `u^k` for 0 < k < 1 whose base
/// has the bound `m`: `|(u + δ)^k - u^k| <= δ^k` for `δ = EPSILON * m`, however close
/// `u` is to 0, where the slope `k*u^(k-1)` is unbounded.
fn root_bound(k: f64, m: f64) -> f64 {
    float::powf(f64::EPSILON * m, k) / f64::EPSILON
}

/// The exponent at `xid`, whose `f64` value `x` is not an integer, as the integer its
/// exact value is, where `x` is within rounding of one and the exponent evaluates
/// exactly at the point. `None` otherwise.
fn integer_exponent(e: &Expr, xid: Id, x: f64, at: &Point) -> Option<i32> {
    if (x - x.round()).abs() > 1e-9 * x.abs().max(1.0) {
        return None;
    }
    match subexpression_exactly(e, xid, at) {
        Exact::Value(r) if r.is_integer() => r.to_integer().to_i32(),
        _ => None,
    }
}

/// The exact value of the subexpression at `xid` (an exponent, an operand) at the point.
fn subexpression_exactly(e: &Expr, xid: Id, at: &Point) -> Exact {
    eval_exact(&subexpression(e, xid), at)
}

/// The subexpression of `e` at `id`, as an expression of its own.
fn subexpression(e: &Expr, id: Id) -> Expr {
    let mut b = crate::expr::Builder::new();
    let ids = b.import_all(e);
    b.finish(ids[id.index()])
}

/// Whether `f64` computed the operand at `operand` with no rounding ([`computed_exactly`]),
/// given the values of the nodes up to it: an operand on or past a domain edge that was
/// computed exactly is really there.
fn operand_computed_exactly(e: &Expr, operand: Id, vals: &[f64], at: &Point) -> bool {
    let mut exact: Vec<bool> = Vec::with_capacity(operand.index() + 1);
    for (k, n) in e.nodes()[..=operand.index()].iter().enumerate() {
        let flag = computed_exactly(e, n, vals, &exact, vals[k], at);
        exact.push(flag);
    }
    exact[operand.index()]
}

/// The exponent at `x` where it is a number that is an integer in `i32`'s range: a
/// power `single` takes with `powi`.
fn integer_exponent_number(e: &Expr, x: Id) -> Option<i32> {
    e.node(x)
        .as_num()
        .filter(|r| r.is_integer())
        .and_then(|r| r.to_integer().to_i32())
}

/// The value of one node from its children's values.
fn single(e: &Expr, id: Id, node: &Node, vals: &[f64], at: &Point) -> Result<f64, Undefined> {
    let v = |c: &Id| vals[c.index()];
    let value = match node {
        Node::Num(r) => r.to_f64().unwrap_or(f64::NAN),
        Node::Var(s) => match at.get(s.as_str()) {
            Some(r) => r.to_f64().unwrap_or(f64::NAN),
            None => return Err(undefined(e, id, format!("no value given for {}", s.as_str()))),
        },
        Node::Const(c) => c.value(),
        Node::Add(ts) => ts.iter().map(v).sum(),
        // A coefficient beyond f64's normal range (`6^518/25^518`, 1e-321, keeps a few
        // bits) is carried exactly as a mantissa and a binary exponent.
        Node::Mul(fs) => match extreme_coefficient(e, fs) {
            Some(r) => scaled_product(split_rational(r), fs[1..].iter().map(v)),
            None => product(fs.iter().map(v)),
        },
        Node::Pow([b, xid]) => {
            let (b, x) = (v(b), v(xid));
            if b == 0.0 && x < 0.0 {
                return Err(undefined(e, id, "division by zero"));
            }
            // A negative base to a whole number too large for `powi` (`(-1)^(4^625)`,
            // whose exponent is infinite in f64): its size from `powf`, its sign from
            // the exponent's parity (release property seed 952).
            // The exponent as an integer number `powi` takes, looked up once.
            let literal = integer_exponent_number(e, *xid);
            let large_whole = match e.node(*xid).as_num() {
                Some(n) if b < 0.0 && n.is_integer() && literal.is_none() => {
                    Some(num_integer::Integer::is_odd(n.numer()))
                }
                _ => None,
            };
            if let Some(odd) = large_whole {
                return finite(e, id, power_by_parity(b, x, odd));
            }
            // An exponent that rounding moved off an integer (`(3/5 - y)/y` is exactly 14
            // at y = 1/25, and 13.999999999999998 in f64) is read exactly before a
            // negative base calls the power undefined.
            let exact_integer = if b < 0.0 && x.fract() != 0.0 {
                match integer_exponent(e, *xid, x, at) {
                    Some(n) => Some(n),
                    None => return Err(undefined(e, id, "a negative base to a fractional power")),
                }
            } else if b < 0.0 && x.is_finite() && literal.is_none() {
                // And one that rounding moved onto an integer (`tanh(exp(3))` is 1 in
                // f64, and less than 1) is no integer: where the exact value does not
                // say it is one, the power has no value f64 can vouch for (debug
                // property seed 4322 met `(-pi)^tanh(exp(3))`, -pi in f64).
                match subexpression_exactly(e, *xid, at) {
                    Exact::Value(r) if r.is_integer() => match r.to_integer().to_i32() {
                        Some(n) => Some(n),
                        // Beyond `powi`, as above (`(-1)^(x^40)` at x = 3 is -1).
                        None => {
                            let odd = num_integer::Integer::is_odd(r.numer());
                            return finite(e, id, power_by_parity(b, x, odd));
                        }
                    },
                    Exact::Value(_) => return Err(undefined(e, id, "a negative base to a fractional power")),
                    Exact::Undefined(u) => return Err(u),
                    Exact::NotRational | Exact::TooLarge => return Err(undefined(e, id, UNDECIDED_EXPONENT)),
                }
            } else {
                None
            };
            let integer = exact_integer.or(literal);
            match integer {
                Some(n) => float::powi(b, n),
                None => float::powf(b, x),
            }
        }
        Node::Call(f, [a]) => {
            // A pole at a multiple of π (`csc(pi)`), which f64's π misses.
            if matches!(f, Func::Tan | Func::Sec | Func::Csc | Func::Cot) {
                if let Some(reason) = crate::expr::undefined_number(node, |k| e.node(k)) {
                    return Err(undefined(e, id, reason));
                }
            }
            let (value, bad) = apply(*f, v(a));
            if let Some(reason) = bad {
                return Err(undefined(e, id, reason));
            }
            value
        }
        Node::Log([a, b]) => {
            let (a, b) = (v(a), v(b));
            if a <= 0.0 || b <= 0.0 {
                return Err(undefined(e, id, "log of a non-positive number"));
            }
            if b == 1.0 {
                return Err(undefined(e, id, "log to base 1"));
            }
            float::ln(a) / float::ln(b)
        }
    };
    finite(e, id, value)
}

/// Whether `node`, undefined in `f64`, is so only because an operand sits on a domain
/// edge (0 for a division or a logarithm, 1 for a logarithm's base, ±1 for `atanh`) that its exact value
/// may not be on: the operand was not computed exactly ([`computed_exactly`]), and
/// exact arithmetic does not put it there either. Asked only when `node` is undefined,
/// so the exactness of the nodes before it is worked out here, once.
fn on_rounded_edge(e: &Expr, node: &Node, vals: &[f64], at: &Point) -> bool {
    let edge = |c: &Id, at_value: f64| vals[c.index()] == at_value;
    let operand = match node {
        Node::Pow([b, _]) if edge(b, 0.0) => Some((*b, 0)),
        Node::Call(Func::Ln, [a]) if edge(a, 0.0) => Some((*a, 0)),
        Node::Log([a, _]) if edge(a, 0.0) => Some((*a, 0)),
        Node::Log([_, b]) if edge(b, 0.0) => Some((*b, 0)),
        Node::Log([_, b]) if edge(b, 1.0) => Some((*b, 1)),
        Node::Call(Func::Atanh, [a]) if edge(a, 1.0) => Some((*a, 1)),
        Node::Call(Func::Atanh, [a]) if edge(a, -1.0) => Some((*a, -1)),
        _ => None,
    };
    let Some((operand, edge_value)) = operand else {
        return false;
    };
    if operand_computed_exactly(e, operand, vals, at) {
        return false;
    }
    match subexpression_exactly(e, operand, at) {
        Exact::Value(r) => r != Rational::from_integer(edge_value.into()),
        Exact::Undefined(_) => false,
        Exact::NotRational | Exact::TooLarge => true,
    }
}

/// Whether `node`, undefined in `f64` because an operand lies outside its domain (a
/// square root or logarithm of a negative number, a fractional power of one, an inverse
/// sine, cosine or hyperbolic function beyond its interval), is so only because rounding
/// may have put the operand there: it lies within its rounding allowance
/// ([`crate::check::rounding_bound`]) of the edge, it was not computed exactly
/// ([`computed_exactly`]), and exact arithmetic does not put it outside either. Asked only
/// when `node` is undefined.
fn past_rounded_edge(e: &Expr, node: &Node, vals: &[f64], at: &Point) -> bool {
    use num_traits::One;
    let v = |c: &Id| vals[c.index()];
    // The operand, the edge it lies beyond, and whether an exact value is outside the
    // domain.
    type Outside = fn(&Rational) -> bool;
    let negative: Outside = |r| r.is_negative();
    let beyond_one: Outside = |r| r.abs() > Rational::one();
    let below_one: Outside = |r| *r < Rational::one();
    let (operand, edge, outside): (Id, f64, Outside) = match node {
        Node::Call(Func::Sqrt | Func::Ln, [a]) if v(a) < 0.0 => (*a, 0.0, negative),
        Node::Log([a, _]) if v(a) < 0.0 => (*a, 0.0, negative),
        Node::Log([_, b]) if v(b) < 0.0 => (*b, 0.0, negative),
        Node::Pow([b, x]) if v(b) < 0.0 && v(x).fract() != 0.0 => (*b, 0.0, negative),
        Node::Call(Func::Asin | Func::Acos | Func::Atanh, [a]) if v(a).abs() > 1.0 => (*a, v(a).signum(), beyond_one),
        Node::Call(Func::Acosh, [a]) if v(a) < 1.0 => (*a, 1.0, below_one),
        _ => return false,
    };
    let sub = subexpression(e, operand);
    if (v(&operand) - edge).abs() > crate::check::rounding_bound(&sub, at) {
        return false;
    }
    if operand_computed_exactly(e, operand, vals, at) {
        return false;
    }
    match eval_exact(&sub, at) {
        Exact::Value(r) => !outside(&r),
        Exact::Undefined(_) => false,
        Exact::NotRational | Exact::TooLarge => true,
    }
}

/// A negative `b` to the whole number `x` that `f64` cannot hold exactly, whose parity is
/// `odd`: the size from `powf`, the sign from the parity.
fn power_by_parity(b: f64, x: f64, odd: bool) -> f64 {
    let size = float::powf(-b, x);
    if odd {
        -size
    } else {
        size
    }
}

/// `value` where it is a finite number; else why it is not one (an overflow, or not a
/// number).
fn finite(e: &Expr, id: Id, value: f64) -> Result<f64, Undefined> {
    if !value.is_finite() {
        let reason = if value.is_nan() { NOT_A_NUMBER } else { OVERFLOW };
        return Err(undefined(e, id, reason));
    }
    Ok(value)
}

/// A function's value and, outside its domain, the reason it has none.
fn apply(f: Func, a: f64) -> (f64, Option<&'static str>) {
    let bad = match f {
        Func::Ln if a <= 0.0 => Some("ln of a non-positive number"),
        Func::Sqrt if a < 0.0 => Some("sqrt of a negative number"),
        Func::Asin | Func::Acos if a.abs() > 1.0 => Some("outside the domain [-1, 1]"),
        Func::Atanh if a.abs() >= 1.0 => Some("outside the domain (-1, 1)"),
        Func::Acosh if a < 1.0 => Some("outside the domain [1, inf)"),
        Func::Csc | Func::Cot if float::sin(a) == 0.0 => Some("division by zero"),
        Func::Sec if float::cos(a) == 0.0 => Some("division by zero"),
        _ => None,
    };
    let v = match f {
        Func::Sin => float::sin(a),
        Func::Cos => float::cos(a),
        Func::Tan => float::tan(a),
        Func::Sec => 1.0 / float::cos(a),
        Func::Csc => 1.0 / float::sin(a),
        Func::Cot => float::cos(a) / float::sin(a),
        Func::Asin => float::asin(a),
        Func::Acos => float::acos(a),
        Func::Atan => float::atan(a),
        Func::Sinh => float::sinh(a),
        Func::Cosh => float::cosh(a),
        Func::Tanh => float::tanh(a),
        Func::Asinh => float::asinh(a),
        Func::Acosh => float::acosh(a),
        Func::Atanh => float::atanh(a),
        Func::Exp => float::exp(a),
        Func::Ln => float::ln(a),
        Func::Sqrt => a.sqrt(),
        Func::Abs => a.abs(),
        Func::Sign => {
            if a > 0.0 {
                1.0
            } else if a < 0.0 {
                -1.0
            } else {
                0.0
            }
        }
    };
    (v, bad)
}

/// An exact rational to 17 significant digits, rounded half up, in the scientific
/// spelling [`format_f64`] uses beyond its plain range: for a value `f64` cannot hold
/// (`4e401`, `-5.0425942154027332e-478`), so the text still says how large it is.
///
/// ```
/// use dydx::{eval::format_rational, Rational};
/// use num_bigint::BigInt;
/// let big = Rational::from_integer(BigInt::from(4) * BigInt::from(10).pow(401));
/// assert_eq!(format_rational(&big), "4e401");
/// let tiny = Rational::new((-2).into(), BigInt::from(3).pow(1001));
/// assert_eq!(format_rational(&tiny), "-5.0425942154027332e-478");
/// assert_eq!(format_rational(&Rational::new(1.into(), 3.into())), "3.3333333333333333e-1");
/// ```
pub fn format_rational(r: &Rational) -> String {
    use num_bigint::BigInt;
    const DIGITS: i64 = 17;
    if r.is_zero() {
        return "0".to_string();
    }
    let (n, d) = (r.numer().abs(), r.denom().clone());
    let ten = BigInt::from(10);
    // The decimal exponent, from the bit lengths, then corrected: |r| = q*10^(e-16)
    // with 10^16 <= q < 10^17.
    let estimate = (n.bits() as f64 - d.bits() as f64) * std::f64::consts::LOG10_2;
    let mut exponent = estimate.floor() as i64;
    let scaled = |exponent: i64| -> (BigInt, BigInt) {
        let shift = DIGITS - 1 - exponent;
        let magnitude = u32::try_from(shift.unsigned_abs()).unwrap_or(u32::MAX);
        if shift >= 0 {
            (&n * ten.pow(magnitude), d.clone())
        } else {
            (n.clone(), &d * ten.pow(magnitude))
        }
    };
    let low = ten.pow((DIGITS - 1) as u32);
    let high = ten.pow(DIGITS as u32);
    let mut q;
    loop {
        let (a, b) = scaled(exponent);
        // Rounded half up: floor((2a + b) / 2b).
        q = (BigInt::from(2) * a + &b) / (BigInt::from(2) * b);
        if q >= high {
            exponent += 1;
        } else if q < low {
            exponent -= 1;
        } else {
            break;
        }
    }
    let digits = q.to_string();
    let significant = digits.trim_end_matches('0');
    let (lead, tail) = significant.split_at(1);
    let sign = if r.is_negative() { "-" } else { "" };
    let point = if tail.is_empty() { "" } else { "." };
    format!("{sign}{lead}{point}{tail}e{exponent}")
}

/// Formats an `f64` deterministically: the shortest text that reads back as the same
/// number, in scientific notation for very large or very small magnitudes.
pub fn format_f64(x: f64) -> String {
    let a = x.abs();
    if a != 0.0 && !(1e-5..1e16).contains(&a) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn at(x: &str) -> Point {
        point(&[("x", x)]).unwrap()
    }

    #[test]
    fn a_subnormal_value_carries_its_rounding_step() {
        // x^(pi^5) at 0.09 is about 1e-320, a subnormal good to three digits; its
        // logarithm, about -737, is good to about 4e-4, not to 1e-13.
        let p = point(&[("x", "0.09")]).unwrap();
        let e = parse("ln(x^(pi^5))").unwrap();
        let m = magnitude(&e, &p).unwrap();
        assert!(f64::EPSILON * m > 1e-4, "{m}");
        // A normal value keeps its relative bound: ln(x^2) at 0.09 is good to 1e-13.
        let m = magnitude(&parse("ln(x^2)").unwrap(), &p).unwrap();
        assert!(f64::EPSILON * m < 1e-12, "{m}");
    }

    #[test]
    fn a_logarithm_of_an_overflow_is_unknown_not_zero() {
        // 1/ln(2^(3/x^3)) is x^3/(3*ln(2)) = 4.8e-7 at x = 0.01, but 2^3000000 overflows
        // and 1/ln(inf) would say 0.
        for src in ["1/ln(2^(3/x^3))", "1/log(2^(3/x^3), 2)", "1/asinh(exp(1/x^2))"] {
            let u = eval_f64(&parse(src).unwrap(), &at("0.01")).unwrap_err();
            assert!(u.is_overflow(), "{src}: {u}");
        }
        // An overflow whose limit is the value stays: 1/cosh(x)^2 at 800 is 0.
        assert_eq!(eval_f64(&parse("1/cosh(x)^2").unwrap(), &at("800")).unwrap(), 0.0);
    }

    #[test]
    fn a_value_that_underflowed_part_way_is_lost_not_printed_as_zero() {
        // exp(-784) is 0 in f64; times 28^200 = 1e289 it is 8.8e-52, and times
        // 2^1000 1.7e-39: a printed 0 would be wrong.
        let lost = [
            ("x^200*exp(-x^2)", "28"),
            ("exp(-x^2)*2^1000", "28"),
            ("exp(-x^2)/2^-1000", "28"),
            // A root (exp(-400) is 1.9e-174), a logarithm (-800), a quotient, a sign.
            ("sqrt(exp(-x))", "800"),
            ("exp(-x)^(1/3)", "800"),
            ("ln(exp(-x))", "800"),
            ("1/(exp(-x) + exp(-2*x))", "800"),
            ("sign(exp(-x))", "800"),
            ("sin(exp(-x))*2^1000", "800"),
            // A root of a tiny value of either sign, or of unknown sign.
            ("sqrt(-exp(-2*x))", "800"),
            ("sqrt(exp(-2*x) - exp(-x))", "800"),
        ];
        for (src, x) in lost {
            let e = crate::parse::parse_verbatim(src).unwrap();
            let u = eval_f64(&e, &at(x)).unwrap_err();
            assert!(u.is_beyond_f64() && !u.is_overflow(), "{src}: {u}");
            let tape = crate::tape::record(&e, &at(x), &["x"]).unwrap();
            let t = tape.gradient(&e).unwrap_err();
            assert!(t.is_beyond_f64(), "{src}: the tape says {t}");
        }
        // Where the value is below what f64 holds however it is computed, 0 is right.
        let zero = [
            ("exp(-x^2)", "40"),
            ("x*exp(-x^2)", "40"),
            ("-2*x*exp(-x^2)", "40"),
            ("x^20*exp(-x^2)*sin(x)", "40"),
            ("sqrt(exp(-x^2))", "40"),
            ("tanh(exp(-x^2)) + abs(-exp(-x^2))", "40"),
            ("exp(-x^2)^3", "40"),
            ("x*(exp(-x^2) + exp(-2*x^2))", "40"),
        ];
        for (src, x) in zero {
            let e = crate::parse::parse_verbatim(src).unwrap();
            assert_eq!(eval_f64(&e, &at(x)), Ok(0.0), "{src}");
            let tape = crate::tape::record(&e, &at(x), &["x"]).unwrap();
            assert_eq!(tape.value(&e), Ok(0.0), "{src}: the tape");
        }
        // Past an overflow the zero has a bound too: 1/cosh(800) is below 2^-1152, so
        // x/cosh(800*x) at 1 is 0 (1e-348), but 2^1000/cosh(800) is 7.7e-47, and
        // 2*x*exp(x^2)/(exp(2*x^2) + 1) at 25 is 1.8e-270. (The tape stops at the
        // overflow.)
        for (src, x) in [
            ("x/cosh(800*x)", "1"),
            ("x/cosh(800*x)^2", "1"),
            ("x^50/(exp(2*x^2) + 1)", "25"),
        ] {
            let e = crate::parse::parse_verbatim(src).unwrap();
            assert_eq!(eval_f64(&e, &at(x)), Ok(0.0), "{src}");
        }
        for (src, x) in [("2^1000*x/cosh(800*x)", "1"), ("2*x*exp(x^2)/(exp(2*x^2) + 1)", "25")] {
            let e = crate::parse::parse_verbatim(src).unwrap();
            let u = eval_f64(&e, &at(x)).unwrap_err();
            assert!(u.is_beyond_f64(), "{src}: {u}");
        }
        // A point beyond f64 is followed too: 1e-400 is 0 in f64, its root 1e-200 is not.
        let u = eval_f64(&parse("sqrt(x)").unwrap(), &at("1e-400")).unwrap_err();
        assert!(u.is_beyond_f64(), "{u}");
        assert_eq!(eval_f64(&parse("x^2").unwrap(), &at("1e-400")), Ok(0.0));
    }

    #[test]
    fn poles_at_multiples_of_pi_are_undefined_though_f64_misses_them() {
        for src in ["x*csc(pi)", "x*cot(-3*pi)", "x*tan(pi/2)", "x*sec(5*pi/2)"] {
            let e = parse(src).unwrap();
            let u = eval_f64(&e, &at("1")).unwrap_err();
            assert_eq!(u.reason, "division by zero", "{src}");
            let tape = crate::tape::record(&e, &at("1"), &["x"]).unwrap();
            assert!(tape.value(&e).is_err(), "{src}: the tape");
        }
        assert!(eval_f64(&parse("x*tan(pi/3) + csc(pi/2)").unwrap(), &at("1")).is_ok());
    }

    #[test]
    fn products_that_overflow_part_way_are_still_evaluated() {
        let p = |fs: &[f64]| product(fs.iter().copied());
        assert_eq!(p(&[2.0, 3.0, -0.5]), -3.0);
        let close = |a: f64, b: f64| (a - b).abs() <= 4.0 * f64::EPSILON * b.abs();
        assert!(close(p(&[1e200, 1e200, 1e-300]), 1e100));
        assert!(close(p(&[1e-300, 1e-300, 1e300, -1e300]), -1.0));
        // Exponents kept apart exactly, through a subnormal factor.
        assert_eq!(
            p(&[
                float::powi(2f64, 1000),
                float::powi(2f64, 1000),
                float::powi(2f64, -1074),
                float::powi(2f64, -926)
            ]),
            1.0
        );
        // A product that does not fit stays infinite or zero.
        assert_eq!(p(&[1e300, 1e300]), f64::INFINITY);
        assert_eq!(p(&[-1e300, 1e300, 2.0]), f64::NEG_INFINITY);
        assert_eq!(p(&[1e-300, 1e-300]), 0.0);
        // A zero factor (an underflowed power) makes zero, not inf*0.
        assert_eq!(p(&[1e300, 1e300, 0.0]), 0.0);
        // Infinite factors (an overflow reported elsewhere) are multiplied as they are.
        assert!(p(&[f64::INFINITY, 0.0]).is_nan());
        // Through eval_f64: a huge coefficient times a power that underflows.
        let at = point(&[("x", "1.32"), ("y", "0.01")]).unwrap();
        let e = crate::parse(&format!("{}*x^728*y^729", "9".repeat(222))).unwrap();
        assert_eq!(eval_f64(&e, &at), Ok(0.0));
    }

    #[test]
    fn coefficients_beyond_the_normal_range_keep_their_precision() {
        let mut at = Point::new();
        at.insert(
            "x".into(),
            Rational::from_integer(num_bigint::BigInt::from(10).pow(300u32)),
        );
        // 1e-330 is zero in f64 and 3/2^1070 keeps two bits: carried exactly instead.
        let e = crate::parse("x/10^330").unwrap();
        let v = eval_f64(&e, &at).unwrap();
        assert!((v - 1e-30).abs() <= 4.0 * f64::EPSILON * 1e-30, "{v}");
        let mut at = Point::new();
        at.insert(
            "x".into(),
            Rational::from_integer(num_bigint::BigInt::from(2).pow(1000u32)),
        );
        let e = crate::parse("x*7/2^1070").unwrap();
        assert_eq!(eval_f64(&e, &at), Ok(7.0 * float::powi(2f64, -70)));
        // Found by the long property run, seed 36: exp(518*ln(-6*pi/(25*x))) simplified
        // to (6/25)^518*pi^518/x^518, whose coefficient is 1e-321 in f64.
        let at = point(&[("x", "-0.76")]).unwrap();
        let f = crate::parse("exp(518*ln(-6*pi/(25*x)))").unwrap();
        let g = crate::parse("(-6*pi/(25*x))^518").unwrap();
        let (a, b) = (eval_f64(&f, &at).unwrap(), eval_f64(&g, &at).unwrap());
        assert!((a - b).abs() <= 1e-12 * a.abs(), "{a} vs {b}");
    }

    #[test]
    fn exact_rational_values() {
        let f = parse("x^2 - 3/x").unwrap();
        assert_eq!(
            eval_exact(&f, &at("2")),
            Exact::Value(Rational::new(5.into(), 2.into()))
        );
        assert_eq!(eval_exact(&parse("sin(x)").unwrap(), &at("1")), Exact::NotRational);
        assert!(matches!(
            eval_exact(&parse("1/x").unwrap(), &at("0")),
            Exact::Undefined(_)
        ));
    }

    #[test]
    fn exact_budget_is_reported() {
        let f = parse("x^10000000").unwrap();
        assert_eq!(eval_exact(&f, &at("3")), Exact::TooLarge);
        // Each term is small enough, but all of them together are not: the work budget.
        let terms = |n: usize| (1..=n).map(|k| format!("{k}*x^{k}")).collect::<Vec<_>>().join(" + ");
        let wide = parse(&terms(6000)).unwrap();
        assert_eq!(eval_exact(&wide, &at("3/100")), Exact::TooLarge);
        assert!(matches!(
            eval_exact(&parse(&terms(300)).unwrap(), &at("3/100")),
            Exact::Value(_)
        ));
    }

    #[test]
    fn magnitudes_carry_a_cancellation_forward() {
        // ln(2^(x^4)) at x = 0.01 is 6.9e-9, computed from a number 7e-9 above 1: its
        // error is about one unit of rounding of 1, so its magnitude is about 1, and a
        // quotient by it carries that. A well-conditioned value stays near its own size.
        let at = point(&[("x", "0.01")]).unwrap();
        let m = magnitude(&parse("ln(2^(x^4))").unwrap(), &at).unwrap();
        assert!((0.5..10.0).contains(&m), "{m}");
        let q = parse("1/(x*ln(2^(x^4)))").unwrap();
        let (v, m) = (eval_f64(&q, &at).unwrap(), magnitude(&q, &at).unwrap());
        assert!(m > 1e7 * v.abs(), "{v} {m}");
        let p = parse("3*x^2 + sin(x)").unwrap();
        let (v, m) = (eval_f64(&p, &at).unwrap(), magnitude(&p, &at).unwrap());
        assert!(m < 10.0 * v.abs(), "{v} {m}");
    }

    #[test]
    fn a_value_computed_exactly_has_no_rounding_bound() {
        // Whenever the bound is 0, the f64 value is the exact value, to the last bit;
        // and the cases that should be exact are found so.
        let exprs = [
            "x*y",
            "x + y",
            "x - y",
            "x^12",
            "x^-3",
            "x^2*y - x",
            "sqrt(x)",
            "abs(x) - y",
            "sign(x)*y",
            "3*x*y^2",
            "x/3",
            "x^53",
        ];
        let values = [
            "28",
            "0.5",
            "0.1",
            "1e16",
            "1",
            "-3",
            "16",
            "1/3",
            "8.8817841970012523233890533447265625e-16",
            "1e300",
            "7",
        ];
        let mut exact = 0;
        for s in exprs {
            let e = parse(s).unwrap();
            for x in values {
                for y in values {
                    let at = point(&[("x", x), ("y", y)]).unwrap();
                    let (Ok(v), Some(m), Exact::Value(r)) =
                        (eval_f64(&e, &at), magnitude(&e, &at), eval_exact(&e, &at))
                    else {
                        continue;
                    };
                    // (A value that rounds to 0 has a bound of 0 too: the underflow
                    // rules above judge it.)
                    if m == 0.0 && v != 0.0 {
                        exact += 1;
                        assert_eq!(Rational::from_float(v), Some(r), "{s} at x = {x}, y = {y}");
                    }
                }
            }
        }
        assert!(exact > 300, "{exact}");
        let bound = |s: &str, x: &str| magnitude(&parse(s).unwrap(), &point(&[("x", x)]).unwrap()).unwrap();
        for (s, x) in [
            ("x^12", "28"),
            ("x^-3", "0.5"),
            ("sqrt(x)", "16"),
            ("x*x + 1", "1e5"),
            ("x/4", "3"),
        ] {
            assert_eq!(bound(s, x), 0.0, "{s} at {x}");
        }
        for (s, x) in [
            ("x^2", "0.1"),
            ("x + 1", "1e16"),
            ("x/3", "1"),
            ("x^-1", "3"),
            ("x^23", "5"),
            ("sqrt(x)", "2"),
        ] {
            assert!(bound(s, x) > 0.0, "{s} at {x}");
        }
        // `sin` of a coordinate held exactly is good to a unit of rounding however large
        // the coordinate; `x^12` at 28 is exact too, so its sine is as good.
        for (s, x) in [("sin(x)", "1e15"), ("sin(x^12)", "28")] {
            let at = point(&[("x", x)]).unwrap();
            let e = parse(s).unwrap();
            assert_eq!(bound(s, x), eval_f64(&e, &at).unwrap().abs(), "{s} at {x}");
        }
        // A coordinate rounded on the way in carries its rounding into the sine.
        assert!(bound("sin(x)", "1000000000000000.1") > 1e14);
    }

    #[test]
    fn a_coefficient_past_f64s_range_has_a_bound() {
        // 2^1100/3^700 is 1.4e-3 but neither part is an f64: the product carries the
        // coefficient as a mantissa and an exponent, one rounding, and the bound is the
        // value's size, not unknown.
        let at = point(&[("x", "1.5")]).unwrap();
        let e = parse("sin(x)*2^1100/3^700").unwrap();
        let (v, m) = (eval_f64(&e, &at).unwrap(), magnitude(&e, &at).unwrap());
        assert!(m >= v.abs() && m < 4.0 * v.abs(), "{v} {m}");
        // A sum that takes it overflows, as before: no bound.
        assert!(magnitude(&parse("x + 2^1100").unwrap(), &at).is_none());
    }

    #[test]
    fn a_product_whose_other_factors_overflow_keeps_its_bound() {
        // x^100*y^100 is 1e400, beyond f64, but the whole is 1e100: each factor's error
        // carried through the rest must not overflow to infinity and be dropped, which
        // left only the value itself (no allowance for x^100's rounding at all).
        let at = point(&[("x", "100"), ("y", "100"), ("z", "1e-300")]).unwrap();
        let e = parse("x^100*y^100*z").unwrap();
        let (v, m) = (eval_f64(&e, &at).unwrap(), magnitude(&e, &at).unwrap());
        assert!((v / 1e100 - 1.0).abs() < 1e-9, "{v}");
        // x^100 alone carries about 100 units of rounding: its exponent's slope.
        let alone = magnitude(&parse("x^100").unwrap(), &at).unwrap() / 1e200;
        assert!(alone > 50.0, "{alone}");
        assert!(m > 50.0 * v, "{v} {m}");
        assert!(m.is_finite());
    }

    #[test]
    fn a_root_of_a_cancellation_carries_its_square_root_error() {
        // At x = 0.07, tanh(pi*(x + 6)) is 1 - 5.5e-17, which rounds to 1, so
        // 1 - tanh(...)^2 is 0 and its square root too, where the true value of the
        // whole is pi/cosh(19.07) = 3.3e-8 (as the simplified form evaluates it). The
        // rounding bound of a root must cover that: the square root of the base's.
        let at = point(&[("x", "0.07")]).unwrap();
        for src in ["pi*sqrt(1 - tanh(pi*(x + 6))^2)", "pi*(1 - tanh(pi*(x + 6))^2)^(1/3)"] {
            let e = parse(src).unwrap();
            let (v, m) = (eval_f64(&e, &at).unwrap(), magnitude(&e, &at).unwrap());
            assert_eq!(v, 0.0, "{src}");
            assert!(f64::EPSILON * m > 3.3e-8, "{src}: {m}");
        }
        // Away from 0 the slope's bound is the smaller one, as before.
        let at = point(&[("x", "4")]).unwrap();
        let m = magnitude(&parse("sqrt(x)").unwrap(), &at).unwrap();
        assert!(m < 4.0, "{m}");
        let m = magnitude(&parse("asin(x/8)").unwrap(), &at).unwrap();
        assert!(m < 4.0, "{m}");
    }

    #[test]
    fn sums_and_products_agree_with_rational_arithmetic() {
        use num_integer::Integer;
        use num_traits::One;
        // The running common denominator and the crosswise cancelling give what adding
        // and multiplying `Rational`s one at a time gives, in lowest terms.
        let r = |s: &str| parse_number(s).unwrap();
        let x = r("-3/4");
        let cases: Vec<(&str, Rational)> = vec![
            (
                "x/3 + x^2/6 - 5/7 + 2/x",
                &x / r("3") + &x * &x / r("6") - r("5/7") + r("2") / &x,
            ),
            ("x^3*(6/35)*(14/9)/x", &x * &x * r("6/35") * r("14/9")),
            ("(x + 3/4)*(x - 1)", Rational::zero()),
            ("x^5 + x^4 + x^3 + 1/12", x.pow(5) + x.pow(4) + x.pow(3) + r("1/12")),
            ("(-2/3)^3*x", r("-8/27") * &x),
        ];
        for (s, want) in cases {
            let got = eval_exact(&parse(s).unwrap(), &at("-3/4"));
            assert_eq!(got, Exact::Value(want.clone()), "{s}");
            if let Exact::Value(v) = got {
                // Lowest terms, positive denominator: the derived `==` relies on it.
                assert!(v.denom().is_positive() && v.numer().gcd(v.denom()).is_one(), "{s}");
            }
        }
    }

    #[test]
    fn an_exponent_that_rounding_moved_off_an_integer_is_read_exactly() {
        // (3/5 - y)/y is exactly 14 at y = 1/25, 13.999999999999998 in f64 (seed 598).
        let e = crate::parse("(y - x)^((3/5 - y)/y)").unwrap();
        let at = point(&[("x", "0.07"), ("y", "0.04")]).unwrap();
        let v = eval_f64(&e, &at).unwrap();
        assert!((v - float::powi(0.03f64, 14)).abs() <= 1e-12 * v, "{v}");
        // An exponent near an integer but not one stays a fractional power.
        let e = crate::parse("(-x)^(1 + 1/10000000000000)").unwrap();
        let at = point(&[("x", "2")]).unwrap();
        assert!(eval_f64(&e, &at).is_err());
        let e = crate::parse("(y - x)^((3/5 - y)/y + 1/10000000000000)").unwrap();
        let at = point(&[("x", "0.07"), ("y", "0.04")]).unwrap();
        assert!(eval_f64(&e, &at).is_err());
    }

    #[test]
    fn an_exponent_that_rounding_moved_onto_an_integer_is_no_integer() {
        // tanh(exp(3)) is 1 - 5e-18: 1 in f64, and no integer. A negative base to it has
        // no real value (debug property seed 4322 took it for -pi).
        let err = eval_f64(&parse("(-pi)^tanh(exp(3))").unwrap(), &at("0")).unwrap_err();
        assert_eq!(err.reason, UNDECIDED_EXPONENT);
        // Where the exponent evaluates exactly, its exact value decides: 3 here, and
        // 7/10 below.
        let e = parse("(-x)^(y*(x + 1/2))").unwrap();
        let p = point(&[("x", "0.5"), ("y", "3")]).unwrap();
        assert_eq!(eval_f64(&e, &p), Ok(-0.125));
        let p = point(&[("x", "0.5"), ("y", "0.7")]).unwrap();
        assert_eq!(
            eval_f64(&e, &p).unwrap_err().reason,
            "a negative base to a fractional power"
        );
        // A whole number exponent is a power as before.
        assert_eq!(eval_f64(&parse("(-x)^3").unwrap(), &at("2")), Ok(-8.0));
        assert_eq!(eval_f64(&parse("(-2)^x").unwrap(), &at("3")), Ok(-8.0));
    }

    #[test]
    fn an_operand_rounding_put_on_a_domain_edge_is_beyond_f64() {
        // tanh(pi^3) is 1 - 2.6e-27: 1 in f64, so ln(1/tanh(pi^3)^4) is 0 there and
        // 1.1e-26 in truth. Dividing by it is no division by zero (release property
        // seed 953); f64 cannot tell what it is.
        for f in ["1/ln(1/tanh(pi^3)^4)", "log(x, 1/tanh(pi^3)^4)", "ln(ln(1/tanh(pi^3)))"] {
            let err = eval_f64(&parse(f).unwrap(), &at("2")).unwrap_err();
            assert_eq!(err.reason, ROUNDED_EDGE, "{f}");
            assert!(err.is_beyond_f64());
        }
        // An edge the operand is on exactly, in f64 or in exact arithmetic, is still one.
        let cases = [
            ("1/(x - 0.1)", "0.1", "division by zero"),
            ("1/ln(exp(x))", "0", "division by zero"),
            ("ln(x - 1/3)", "1/3", "ln of a non-positive number"),
            ("log(2, x^2)", "1", "log to base 1"),
        ];
        for (f, x, reason) in cases {
            let err = eval_f64(&parse(f).unwrap(), &at(x)).unwrap_err();
            assert_eq!(err.reason, reason, "{f} at {x}");
        }
    }

    #[test]
    fn an_operand_rounding_put_past_a_domain_edge_is_beyond_f64() {
        // cosh(x)^2 - sinh(x)^2 is 1, exactly on the edge of asin's, acosh's and atanh's
        // domains, and 1 less is 0, on the edge of sqrt's, ln's and a root's. In f64 it
        // comes out either side of its edge, by less than its rounding error (1.6e-5 at
        // x = 10): f64 cannot tell whether the point is in the domain.
        let cases = [
            ("sqrt(cosh(x)^2 - sinh(x)^2 - 1)", "10"),
            ("ln(cosh(x)^2 - sinh(x)^2 - 1)", "13"),
            ("log(cosh(x)^2 - sinh(x)^2 - 1, 2)", "14"),
            ("(cosh(x)^2 - sinh(x)^2 - 1)^(1/3)", "10"),
            ("asin(cosh(x)^2 - sinh(x)^2)", "10.5"),
            ("acosh(cosh(x)^2 - sinh(x)^2)", "13"),
            ("atanh(cosh(x)^2 - sinh(x)^2)", "10.5"),
        ];
        for (f, x) in cases {
            let err = eval_f64(&parse(f).unwrap(), &at(x)).unwrap_err();
            assert_eq!(err.reason, ROUNDED_PAST_EDGE, "{f} at {x}");
            assert!(err.is_beyond_f64());
        }
        // Exactly on atanh's edge in f64, and not exactly there in truth as far as f64
        // can tell: the edge case of the same.
        let err = eval_f64(&parse("atanh(cosh(x)^2 - sinh(x)^2)").unwrap(), &at("0.09")).unwrap_err();
        assert_eq!(err.reason, ROUNDED_EDGE);
        // Outside the domain by more than the rounding error, or exactly: still outside.
        let cases = [
            ("sqrt(x)", "-1", "sqrt of a negative number"),
            ("sqrt(x - 0.1)", "0.09", "sqrt of a negative number"),
            ("sqrt(sin(x))", "11", "sqrt of a negative number"),
            ("asin(x/3)", "4", "outside the domain [-1, 1]"),
            ("acosh(cos(x))", "2", "outside the domain [1, inf)"),
            ("ln(-exp(x))", "1", "ln of a non-positive number"),
            ("(x - 1/3)^(1/3)", "0.25", "a negative base to a fractional power"),
        ];
        for (f, x, reason) in cases {
            let err = eval_f64(&parse(f).unwrap(), &at(x)).unwrap_err();
            assert_eq!(err.reason, reason, "{f} at {x}");
        }
    }

    #[test]
    fn a_negative_base_to_a_whole_number_beyond_powi_takes_its_sign_from_the_parity() {
        // 3^625 is odd and 2^990; 4^625 is even and infinite in f64 (release property
        // seed 952 read (-y)^(4^625) as (-1)^(4^625)*y^(4^625), "undefined" at y = 0).
        assert_eq!(eval_f64(&parse("(-1)^(3^625)*x").unwrap(), &at("2")), Ok(-2.0));
        assert_eq!(eval_f64(&parse("(-1)^(4^625)*x").unwrap(), &at("2")), Ok(2.0));
        assert_eq!(eval_f64(&parse("(-1)^(4^625)*x^(4^625)").unwrap(), &at("0")), Ok(0.0));
        assert_eq!(eval_f64(&parse("x^(3^625)").unwrap(), &at("-1")), Ok(-1.0));
        // Likewise an exponent whose exact value is such a whole number: 3^40 is odd.
        assert_eq!(eval_f64(&parse("(-1)^(x^40)").unwrap(), &at("3")), Ok(-1.0));
        assert_eq!(eval_f64(&parse("(-1)^(x^40)").unwrap(), &at("2")), Ok(1.0));
        assert_eq!(eval_f64(&parse("x^(3^625)").unwrap(), &at("-0.5")), Ok(0.0));
        assert_eq!(
            eval_f64(&parse("x^(3^625)").unwrap(), &at("-2")).unwrap_err().reason,
            OVERFLOW
        );
    }

    #[test]
    fn undefined_points_name_the_subexpression() {
        let cases = [
            ("ln(x)", "0", "ln of a non-positive number", "ln(x)"),
            ("1/x", "0", "division by zero", "1/x"),
            ("asin(x)", "2", "outside the domain [-1, 1]", "asin(x)"),
            ("sqrt(x) + 1", "-1", "sqrt of a negative number", "sqrt(x)"),
            ("x^(1/3)", "-8", "a negative base to a fractional power", "x^(1/3)"),
            ("exp(x)", "1000", "overflows floating point", "exp(x)"),
            ("2*exp(x) + 1", "1000", "overflows floating point", "exp(x)"),
            // Infinity times zero: the overflow is the reason, not "not a real number".
            ("exp(x)*(x - 1000)", "1000", "overflows floating point", "exp(x)"),
            ("exp(x) - exp(x + 1)", "1000", "overflows floating point", "exp(x)"),
        ];
        for (f, x, reason, sub) in cases {
            let err = eval_f64(&parse(f).unwrap(), &at(x)).unwrap_err();
            assert_eq!((err.reason.as_str(), err.at.as_str()), (reason, sub), "{f} at {x}");
        }
    }

    #[test]
    fn zero_to_the_zero_is_one_exactly_and_in_floating_point() {
        // d/dx x^sign(y) at x = 0: x^(sign(y) - 1)*sign(y) is 0^0 = 1, as the tape says.
        let d = parse("x^(sign(y) - 1)*sign(y)").unwrap();
        let at = point(&[("x", "0"), ("y", "1/100")]).unwrap();
        assert_eq!(eval_exact(&d, &at), Exact::Value(Rational::from_integer(1.into())));
        assert_eq!(eval_f64(&d, &at), Ok(1.0));
    }

    #[test]
    fn an_intermediate_overflow_with_a_finite_result_is_a_value() {
        // 1/cosh(800)^2 is 1e-695: 0 in f64, as 1 - tanh(800)^2 is.
        assert_eq!(eval_f64(&parse("1/cosh(x)^2").unwrap(), &at("800")), Ok(0.0));
        assert_eq!(eval_f64(&parse("1 - tanh(x)^2").unwrap(), &at("800")), Ok(0.0));
        assert_eq!(
            eval_f64(&parse("atan(exp(x))").unwrap(), &at("800")),
            Ok(std::f64::consts::FRAC_PI_2)
        );
        assert_eq!(eval_f64(&parse("-1/exp(x)").unwrap(), &at("800")), Ok(-0.0));
    }

    #[test]
    fn point_numbers() {
        assert_eq!(parse_number("1/3").unwrap(), Rational::new(1.into(), 3.into()));
        assert_eq!(parse_number("-0.7").unwrap(), Rational::new((-7).into(), 10.into()));
        assert_eq!(parse_number("1e-3").unwrap(), Rational::new(1.into(), 1000.into()));
        assert!(parse_number("x").is_err());
        assert!(parse_number("1/0").is_err());
        assert!(parse_number("--1").is_err());
    }

    #[test]
    fn formatting_is_shortest_round_trip() {
        assert_eq!(format_f64(233.0), "233");
        assert_eq!(format_f64(0.1), "0.1");
        assert_eq!(format_f64(1e300), "1e300");
        assert_eq!(format_f64(-2.5e-7), "-2.5e-7");
    }
}
