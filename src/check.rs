//! The cross-check: the symbolic derivative's value against the tape's gradient.
//!
//! Behaviour:
//! - At a point, the symbolic value `s` (exact where possible) and the tape's
//!   gradient `t` pass when `|s − t| ≤ max(rtol·(|s|+|t|)/2, atol, 64·ε·M)`, where `M`
//!   is the rounding magnitude of the evaluation ([`crate::eval::magnitude`]): the last
//!   term only matters for a small difference of large terms. The report gives the
//!   absolute error, the relative error and the distance in ULPs.
//! - If the expression or its derivative has no value at the point (outside the
//!   domain, or a point such as `abs` at 0 where the derivative does not exist), the
//!   status is [`Status::Undefined`] with the reason: neither pass nor fail.
//! - Second order (`d²/dx²`, `∂²/∂x∂y`, Hessian entries): hyper-dual evaluation of the
//!   expression itself, with no symbolic derivative involved. Higher orders: the tape
//!   records the (n−1)-th symbolic derivative and sweeps back for the last step, so the
//!   last differentiation is always checked independently (see ARCHITECTURE.md).
//! - Without a point, [`sample_check`] tries a fixed set of seeded points and reports
//!   how many were tried, passed and failed, and how many were skipped: outside the
//!   domain, or beyond `f64` there ([`Comparison::beyond_f64`]).
//!
//! ```
//! use dydx::{parse, check::{cross_check, Status, Tolerance}, eval::point};
//! let f = parse("5*x**4 + 3*x**3 + 7*x**2 + 9*x - 5").unwrap();
//! let r = cross_check(&f, &["x"], &point(&[("x", "2")]).unwrap(), &Tolerance::default()).unwrap();
//! assert_eq!(r.derivative.to_string(), "20*x^3 + 9*x^2 + 14*x + 9");
//! assert_eq!(r.value, Ok(233.0));
//! assert_eq!(r.comparison.status, Status::Pass);
//! ```

use crate::diff::diff;
use crate::eval::{eval_exact, eval_f64, Exact, Point, Undefined};
use crate::expr::{Expr, Rational};
use crate::tape::record;

/// How close the symbolic value and the tape's gradient must be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Relative tolerance (default 1e-9).
    pub rtol: f64,
    /// Absolute tolerance (default 1e-12).
    pub atol: f64,
    /// Allow for the rounding of a cancellation (default on; `--strict` turns it off).
    pub rounding: bool,
}

impl Default for Tolerance {
    fn default() -> Tolerance {
        Tolerance {
            rtol: 1e-9,
            atol: 1e-12,
            rounding: true,
        }
    }
}

/// The verdict of one comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Within tolerance.
    Pass,
    /// Outside tolerance.
    Fail,
    /// No value at this point.
    Undefined,
}

impl Status {
    /// `"pass"`, `"fail"` or `"undefined"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Undefined => "undefined",
        }
    }
}

/// The comparison of two values.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The verdict.
    pub status: Status,
    /// `|s − t|`.
    pub abs_err: f64,
    /// `|s − t| / max(|s|, |t|)`, 0 when both are 0.
    pub rel_err: f64,
    /// Distance in units in the last place.
    pub ulps: u64,
    /// The rounding allowance, `64·ε·M` for an evaluation of magnitude `M` (0 where
    /// rounding is not allowed for).
    pub rounding: f64,
    /// Which bound the values agree within, for a pass. A pass within `atol` or the
    /// rounding allowance but not `rtol` is a value at or near 0, often a cancellation
    /// (the derivative of `abs(x)/x` is 0, where the tape's `1/x - abs(x)/x^2` is 4e-16
    /// at 0.3), whose relative error says nothing.
    pub within: Within,
    /// Why the status is undefined, if it is.
    pub reason: Option<String>,
}

/// The bound two values agree within ([`Comparison::within`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Within {
    /// The relative tolerance `rtol` (also said of a failed or undefined comparison).
    Rtol,
    /// The absolute tolerance `atol`, not `rtol`.
    Atol,
    /// The rounding allowance, not `rtol` or `atol`.
    Rounding,
}

impl Within {
    /// `"rtol"`, `"atol"` or `"rounding"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Within::Rtol => "rtol",
            Within::Atol => "atol",
            Within::Rounding => "rounding",
        }
    }
}

/// How an ill-conditioned comparison's reason begins ([`Comparison::beyond_f64`]).
const ILL_CONDITIONED: &str = "too ill-conditioned to compare in floating point";

impl Comparison {
    /// Whether the comparison is undefined only because `f64` cannot hold or resolve
    /// the values (an overflow, or a point too ill-conditioned to compare), not because
    /// the point is outside a domain.
    pub fn beyond_f64(&self) -> bool {
        self.status == Status::Undefined
            && self
                .reason
                .as_deref()
                .is_some_and(|r| crate::eval::beyond_f64(r) || r.starts_with(ILL_CONDITIONED))
    }

    fn undefined(reason: String) -> Comparison {
        Comparison {
            status: Status::Undefined,
            abs_err: 0.0,
            rel_err: 0.0,
            ulps: 0,
            rounding: 0.0,
            within: Within::Rtol,
            reason: Some(reason),
        }
    }
}

/// Compares a symbolic value with a tape value by the tolerance rule alone.
pub fn compare(s: f64, t: f64, tol: &Tolerance) -> Comparison {
    compare_with_rounding(s, t, tol, 0.0)
}

/// How many units of rounding, times the evaluation's magnitude, a cancellation may
/// leave in either value (see [`crate::eval::magnitude`]).
pub const ROUNDING_UNITS: f64 = 64.0;

/// Compares a symbolic value with a tape value: they pass when
/// `|s − t| ≤ max(rtol·(|s|+|t|)/2, atol, 64·ε·M)`, where `M` is the magnitude of the
/// evaluation. The last term only matters when the value is a small difference of large
/// terms, where both sides carry rounding noise of that size.
pub fn compare_with_rounding(s: f64, t: f64, tol: &Tolerance, magnitude: f64) -> Comparison {
    let abs_err = (s - t).abs();
    let scale = s.abs().max(t.abs());
    let rel_err = if scale == 0.0 { 0.0 } else { abs_err / scale };
    let rounding = if tol.rounding {
        ROUNDING_UNITS * f64::EPSILON * magnitude
    } else {
        0.0
    };
    let relative = tol.rtol * (s.abs() + t.abs()) / 2.0;
    let within = if abs_err <= relative {
        Within::Rtol
    } else if abs_err <= tol.atol {
        Within::Atol
    } else {
        Within::Rounding
    };
    let pass = abs_err <= relative.max(tol.atol).max(rounding);
    Comparison {
        status: if pass { Status::Pass } else { Status::Fail },
        abs_err,
        rel_err,
        ulps: ulp_distance(s, t),
        rounding,
        within: if pass { within } else { Within::Rtol },
        reason: None,
    }
}

/// How many times its movement under a few-ulp move of the point a value may differ.
const CONDITION_UNITS: f64 = 4.0;

/// How far `e` (whose value at `at` is `value`) moves when every nonzero coordinate of
/// the point moves by 8 units of rounding, either way: the rounding error that the
/// conditioning of the point alone puts in any evaluation there.
pub(crate) fn sensitivity(e: &Expr, at: &Point, value: f64) -> f64 {
    let mut moved: f64 = 0.0;
    for sign in [1.0, -1.0] {
        let shifted: Point = at
            .iter()
            .map(|(k, r)| {
                let v = num_traits::ToPrimitive::to_f64(r).unwrap_or(0.0);
                let w = v * (1.0 + sign * 8.0 * f64::EPSILON);
                let q = num_traits::FromPrimitive::from_f64(w).unwrap_or_else(|| r.clone());
                (k.clone(), q)
            })
            .collect();
        if let Ok(v) = crate::eval::eval_f64(e, &shifted) {
            moved = moved.max((v - value).abs());
        }
    }
    moved
}

/// The number of representable `f64`s between two values.
pub fn ulp_distance(a: f64, b: f64) -> u64 {
    fn ordered(x: f64) -> i128 {
        let bits = x.to_bits() as i64;
        i128::from(if bits < 0 { i64::MIN - bits } else { bits })
    }
    (ordered(a) - ordered(b)).unsigned_abs().min(u128::from(u64::MAX)) as u64
}

/// A derivative evaluated symbolically and by the tape at one point.
#[derive(Clone, Debug)]
pub struct Report {
    /// The symbolic derivative.
    pub derivative: Expr,
    /// Its value at the point, or why it has none.
    pub value: Result<f64, Undefined>,
    /// The exact value, when it is rational.
    pub exact: Option<Rational>,
    /// Whether exact evaluation stopped at its size budget.
    pub exact_budget_hit: bool,
    /// The tape's gradient, or why it has none.
    pub autograd: Result<f64, Undefined>,
    /// The comparison of the two.
    pub comparison: Comparison,
    /// A bound on the rounding error of `value` ([`rounding_bound`]): 0 for an exact
    /// value or none, infinite where the bound is past `f64`'s range. Both sides agreeing
    /// says nothing of the digits below it, which both may have lost alike (`sin(exp(x))`
    /// at 28, whose argument, 1.4e12, is off by 1e-4 radians on both sides).
    pub value_bound: f64,
}

/// A bound on the rounding error of `e`'s value in `f64` at `at`: the rounding
/// allowance, `64·ε·M` for the value's rounding magnitude `M`
/// ([`crate::eval::magnitude`]). 0 where `e` is undefined there; infinite where the
/// bound is past `f64`'s range.
///
/// ```
/// use dydx::{parse, check::rounding_bound, eval::point};
/// let at = point(&[("x", "28")]).unwrap();
/// // exp(28) is 1.4e12, good to 1e-4: its cosine to about 4 digits.
/// assert!(rounding_bound(&parse("cos(exp(x))").unwrap(), &at) > 1e-3);
/// // 28^12 is exact in f64, and its cosine good to the last place.
/// assert!(rounding_bound(&parse("cos(x^12)").unwrap(), &at) < 1e-13);
/// ```
pub fn rounding_bound(e: &Expr, at: &Point) -> f64 {
    ROUNDING_UNITS * f64::EPSILON * crate::eval::magnitude(e, at).unwrap_or(0.0)
}

/// The symbolic value of `d` at `at`: exact first, then `f64`.
pub fn value_at(d: &Expr, at: &Point) -> (Result<f64, Undefined>, Option<Rational>, bool) {
    match eval_exact(d, at) {
        Exact::Value(r) => {
            use num_traits::ToPrimitive;
            match r.to_f64().filter(|v| v.is_finite()) {
                Some(v) => (Ok(v), Some(r), false),
                None => (
                    Err(Undefined {
                        reason: "overflows floating point".into(),
                        at: d.to_string(),
                    }),
                    Some(r),
                    false,
                ),
            }
        }
        Exact::Undefined(u) => (Err(u), None, false),
        Exact::TooLarge => (eval_f64(d, at), None, true),
        Exact::NotRational => (eval_f64(d, at), None, false),
    }
}

/// Differentiates `f` successively with respect to `wrt` and cross-checks the result
/// at `at`. Errors (as text) only for a variable with no value at the point.
pub fn cross_check(f: &Expr, wrt: &[&str], at: &Point, tol: &Tolerance) -> Result<Report, String> {
    let mut previous = f.clone();
    for v in &wrt[..wrt.len().saturating_sub(1)] {
        previous = diff(&previous, v);
    }
    let last = wrt.last().copied().unwrap_or("x");
    let derivative = diff(&previous, last);
    check_at(f, &previous, &derivative, last, at, tol)
}

/// The independent witness a derivative is checked against.
#[derive(Clone, Copy, Debug)]
pub enum Witness<'a> {
    /// The reverse-mode tape of `previous` (the expression, or the symbolic derivative
    /// one order lower), swept back with respect to `last`.
    Tape {
        /// What the tape records.
        previous: &'a Expr,
        /// The variable of the last differentiation.
        last: &'a str,
    },
    /// One entry of a gradient already swept back from a tape of the expression with
    /// every variable an input ([`check_gradient_at`], [`sample_gradient`]): the tape
    /// ran without a fault, forward and backward.
    Swept {
        /// ∂f/∂(the variable) from the tape.
        value: f64,
        /// Its rounding magnitude.
        magnitude: f64,
    },
    /// Hyper-dual evaluation of the expression itself: ∂²f/∂`xi`∂`xj`, with no symbolic
    /// derivative involved at all.
    HyperDual {
        /// The first variable.
        xi: &'a str,
        /// The second variable.
        xj: &'a str,
    },
}

/// Cross-checks a derivative already computed: `derivative` = d(`previous`)/d(`last`),
/// where `previous` is `f` or one of its derivatives.
pub fn check_at(
    f: &Expr,
    previous: &Expr,
    derivative: &Expr,
    last: &str,
    at: &Point,
    tol: &Tolerance,
) -> Result<Report, String> {
    check_with(f, derivative, Witness::Tape { previous, last }, at, tol)
}

/// Cross-checks `derivative` (a derivative of `f`) against a [`Witness`] at `at`.
pub fn check_with(
    f: &Expr,
    derivative: &Expr,
    witness: Witness<'_>,
    at: &Point,
    tol: &Tolerance,
) -> Result<Report, String> {
    for v in f.variables().iter().chain(derivative.variables().iter()) {
        if !at.contains_key(v) {
            return Err(format!("no value given for {v}"));
        }
    }
    check_bound(f, derivative, witness, at, tol)
}

/// [`check_with`] at a point known to bind every variable (a seeded point made from
/// them): listing a thousand variables for each of a thousand partial derivatives was
/// most of the time of checking a gradient.
fn check_bound(
    f: &Expr,
    derivative: &Expr,
    witness: Witness<'_>,
    at: &Point,
    tol: &Tolerance,
) -> Result<Report, String> {
    let (value, exact, exact_budget_hit) = value_at(derivative, at);
    // The original expression must be defined at the point as well. When the witness
    // tapes the expression itself, its tape says so: the forward pass is the same.
    let witness_tape = match witness {
        Witness::Tape { previous, last } => Some(record(previous, at, &[last])?),
        Witness::HyperDual { .. } | Witness::Swept { .. } => None,
    };
    let original_fault = match (witness, &witness_tape) {
        (Witness::Tape { previous, .. }, Some(tape)) if previous == f => tape.value(f).err(),
        (Witness::Swept { .. }, _) => None,
        _ => record(f, at, &[])?.value(f).err(),
    };
    let (autograd, witness_magnitude) = match (&original_fault, witness, &witness_tape) {
        (Some(u), _, _) => (Err(u.clone()), 0.0),
        (None, Witness::Tape { previous, .. }, Some(tape)) => {
            let g = tape.value(previous).and_then(|_| tape.gradient(previous)).map(|g| g[0]);
            (g, tape.gradient_magnitude().first().copied().unwrap_or(0.0))
        }
        (None, Witness::Tape { .. }, None) => return Err("the witness tape is missing".into()),
        (None, Witness::Swept { value, magnitude }, _) => (Ok(value), magnitude),
        (None, Witness::HyperDual { xi, xj }, _) => {
            match crate::tape::second_derivative_with_magnitude(f, at, xi, xj) {
                Ok((d, magnitude)) => (Ok(d), magnitude),
                Err(u) => (Err(u), 0.0),
            }
        }
    };
    // Name the most basic reason: the input itself undefined, then the witness's
    // derivative, then the symbolic value.
    let symbolic = if value.is_ok() {
        crate::eval::magnitude(derivative, at).unwrap_or(0.0)
    } else {
        0.0
    };
    let value_bound = if exact.is_some() {
        0.0
    } else {
        ROUNDING_UNITS * f64::EPSILON * symbolic
    };
    let (value, autograd, comparison) = match (value, autograd) {
        (Ok(s), Ok(t)) => {
            let magnitude = symbolic.max(witness_magnitude);
            let mut c = compare_with_rounding(s, t, tol, magnitude);
            // Where the rounding allowance is as large as the values themselves (csc of
            // 4.6e20, whose argument is off by 1e5 radians), f64 holds no information:
            // a pass there would say nothing, so neither a pass nor a fail is said.
            // So does a pass where the printed value is itself within its rounding allowance:
            // both sides may round the same way (`1 - tanh(x)^2` at 20 is 0 on both, and
            // 1.7e-17 in truth), and their agreement says nothing of the value. (An exact
            // value, `x - 1` at 1, has no rounding.)
            let noise = ROUNDING_UNITS * f64::EPSILON * magnitude;
            let own_noise = value_bound;
            let fails = compare(s, t, tol).status == Status::Fail;
            if tol.rounding && ((noise >= s.abs().max(t.abs()) && fails) || (own_noise > 0.0 && own_noise >= s.abs())) {
                let noise = if noise.is_finite() {
                    crate::eval::format_f64(noise)
                } else {
                    "past f64's range".to_string()
                };
                c = Comparison::undefined(format!("{ILL_CONDITIONED} here: the rounding error could be {noise}"));
            }
            if c.status == Status::Fail && tol.rounding {
                // At an ill-conditioned point (`tan(x^-9)` at x = -0.05, where x^-9 is
                // 5e11) moving the point by a few units in the last place moves the
                // value more than the two evaluations differ: they cannot be told
                // apart there, so that movement counts as rounding too.
                let moved = sensitivity(derivative, at, s);
                let conditioned = moved * CONDITION_UNITS / (ROUNDING_UNITS * f64::EPSILON);
                c = compare_with_rounding(s, t, tol, symbolic.max(witness_magnitude).max(conditioned));
                // Where a few units in the last place move the value by more than its
                // size (csc of 4.6e20, whose rounding error is 1e5 radians), f64 holds
                // no information about it: neither a pass nor a fail can be said.
                if c.status == Status::Fail && moved >= s.abs() {
                    c = Comparison::undefined(format!(
                        "{ILL_CONDITIONED} here: moving the point by 8 units in the last place \
                         moves the value by {}",
                        crate::eval::format_f64(moved)
                    ));
                }
                // A subnormal value on the way (`x^(pi^5)` at 0.09 is 1e-320, good to
                // three digits) leaves either side far less accurate than the rounding
                // bounds say, most of all the witness's derivatives of it: f64 cannot
                // tell the two apart there.
                if c.status == Status::Fail {
                    let tiny =
                        crate::eval::subnormal_value(f, at).or_else(|| crate::eval::subnormal_value(derivative, at));
                    if let Some(tiny) = tiny {
                        c = Comparison::undefined(format!(
                            "{ILL_CONDITIONED} here: {tiny} is subnormal, good to a few digits"
                        ));
                    }
                }
            }
            (Ok(s), Ok(t), c)
        }
        // An overflow is f64's limit, not the domain's: each side keeps what it has
        // (`400*x^399` at x = 10 is exactly 4e401, though neither side holds it in f64).
        (value, Err(u)) if u.is_beyond_f64() => {
            let c = Comparison::undefined(u.to_string());
            (value, Err(u), c)
        }
        (Err(u), Ok(t)) if u.is_beyond_f64() => {
            let c = Comparison::undefined(u.to_string());
            (Err(u), Ok(t), c)
        }
        (_, Err(u)) | (Err(u), _) => {
            let reason = u.to_string();
            (Err(u.clone()), Err(u), Comparison::undefined(reason))
        }
    };
    let exact = if value.as_ref().map_or_else(Undefined::is_beyond_f64, |_| true) {
        exact
    } else {
        None
    };
    Ok(Report {
        derivative: derivative.clone(),
        value,
        exact,
        exact_budget_hit,
        autograd,
        comparison,
        value_bound,
    })
}

/// The gradient of `f` at `at` from one tape with every variable in `vars` an input and
/// one backward sweep, with each entry's rounding magnitude; `None` when the tape
/// faults anywhere, forward or backward (a fault on one variable's path would stop the
/// others', so each is then checked on a tape of its own, as [`check_at`] does).
fn swept_gradient(f: &Expr, vars: &[&str], at: &Point) -> Option<(Vec<f64>, Vec<f64>)> {
    let tape = record(f, at, vars).ok()?;
    tape.value(f).ok()?;
    let gradient = tape.gradient(f).ok()?;
    let magnitude = tape.gradient_magnitude();
    (gradient.len() == vars.len() && magnitude.len() == vars.len()).then_some((gradient, magnitude))
}

/// Cross-checks every first partial derivative of `f` at `at`: `partials` pairs each
/// variable with ∂f/∂(it). Reverse mode's point: one tape and one backward sweep give
/// every partial's witness, where [`check_at`] tapes `f` once per variable. The
/// reports are the ones [`check_at`] gives, bit for bit (the sweep adds the same terms
/// in the same order); at a point where the shared tape faults, each partial falls
/// back to [`check_at`].
pub fn check_gradient_at(
    f: &Expr,
    partials: &[(String, Expr)],
    at: &Point,
    tol: &Tolerance,
) -> Result<Vec<Report>, String> {
    for v in f.variables() {
        if !at.contains_key(&v) {
            return Err(format!("no value given for {v}"));
        }
    }
    let vars: Vec<&str> = partials.iter().map(|(v, _)| v.as_str()).collect();
    let swept = swept_gradient(f, &vars, at);
    partials
        .iter()
        .enumerate()
        .map(|(k, (v, d))| match &swept {
            Some((g, m)) if d.variables().iter().all(|u| at.contains_key(u)) => check_bound(
                f,
                d,
                Witness::Swept {
                    value: g[k],
                    magnitude: m[k],
                },
                at,
                tol,
            ),
            _ => check_at(f, f, d, v, at, tol),
        })
        .collect()
}

/// [`sample_check`] for every first partial derivative of `f` at once (see
/// [`check_gradient_at`]): the same points and the same counts, one tape per point.
pub fn sample_gradient(f: &Expr, partials: &[(String, Expr)], tol: &Tolerance) -> Vec<SampleSummary> {
    let vars = f.variables();
    // Each partial is sampled at the points sample_check would choose for it: the
    // expression's variables, plus its own if the expression lacks it.
    let shared = |(v, d): &(String, Expr)| vars.contains(v) && d.variables().iter().all(|u| vars.contains(u));
    let names: Vec<&str> = vars.iter().map(String::as_str).collect();
    let index = |v: &str| names.iter().position(|n| *n == v);
    let points = seeded_points(&vars);
    let sweeps: Vec<Option<(Vec<f64>, Vec<f64>)>> = points.iter().map(|at| swept_gradient(f, &names, at)).collect();
    partials
        .iter()
        .map(|p| {
            let (v, d) = p;
            let Some(k) = index(v).filter(|_| shared(p)) else {
                return sample_check(f, f, d, v, tol);
            };
            let mut s = SampleSummary::default();
            for (at, sweep) in points.iter().zip(&sweeps) {
                let witness = match sweep {
                    Some((g, m)) => Witness::Swept {
                        value: g[k],
                        magnitude: m[k],
                    },
                    None => Witness::Tape { previous: f, last: v },
                };
                s.record(at, check_bound(f, d, witness, at, tol));
            }
            s
        })
        .collect()
}

/// Counts from checking at seeded points.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SampleSummary {
    /// Points tried.
    pub tried: usize,
    /// Points skipped: outside the domain of the expression or its derivative, or
    /// beyond `f64` there.
    pub skipped: usize,
    /// Of those, the points where the values exist but `f64` cannot hold or resolve
    /// them (an overflow, an ill-conditioned point): not outside any domain.
    pub beyond_f64: usize,
    /// Points where the values agreed.
    pub passed: usize,
    /// Of those, the points where they agreed within `atol` or the rounding allowance
    /// but not `rtol` ([`Comparison::within`]): values at or near 0.
    pub absolute: usize,
    /// Points where they did not.
    pub failed: usize,
    /// The largest relative error seen, at the points other than those that agreed
    /// within `atol` or rounding only (values at or near 0, where a relative error says
    /// nothing).
    pub max_rel_err: f64,
    /// The first point that failed, if any.
    pub first_failure: Option<Point>,
}

/// SplitMix64: a tiny, fixed pseudo-random sequence, the same on every machine.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Number of seeded points [`sample_check`] tries.
pub const SAMPLE_POINTS: usize = 8;

/// The [`SAMPLE_POINTS`] seeded points for these variables, remembered for the last
/// list asked for: checking each partial derivative of a gradient asks for the same
/// points again, and a point of a thousand variables is a thousand rationals.
fn seeded_points(vars: &[String]) -> std::rc::Rc<Vec<Point>> {
    type Memo = Option<(Vec<String>, std::rc::Rc<Vec<Point>>)>;
    thread_local! {
        static LAST: std::cell::RefCell<Memo> = const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((v, points)) = last.as_ref() {
            if v.as_slice() == vars {
                return points.clone();
            }
        }
        let points = std::rc::Rc::new((0..SAMPLE_POINTS).map(|k| seeded_point(vars, k)).collect::<Vec<_>>());
        *last = Some((vars.to_vec(), points.clone()));
        points
    })
}

/// The `k`-th seeded point for these variables: rationals with two decimals in
/// [-3, 3], from a fixed SplitMix64 sequence, so every run tries the same points.
pub fn seeded_point(vars: &[String], k: usize) -> Point {
    let mut rng = SplitMix64(0x9E37_79B9_7F4A_7C15 ^ (k as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    vars.iter()
        .map(|v| {
            let hundredths = (rng.next() % 601) as i64 - 300;
            (v.clone(), Rational::new(hundredths.into(), 100.into()))
        })
        .collect()
}

/// The `k`-th seeded point inside a box: each variable in `[lo, hi]` from `domain`
/// (default [-3, 3]), on a grid of thousandths of the width, from a fixed SplitMix64
/// sequence.
pub fn seeded_box_point(
    vars: &[String],
    domain: &std::collections::BTreeMap<String, (Rational, Rational)>,
    k: usize,
) -> Point {
    let mut rng = SplitMix64(0xD1B5_4A32_D192_ED03 ^ (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let default = (Rational::from_integer((-3).into()), Rational::from_integer(3.into()));
    vars.iter()
        .map(|v| {
            let (lo, hi) = domain.get(v).unwrap_or(&default);
            // Odd thousandths avoid landing exactly on 0 or on the ends of the box.
            let u = Rational::new(((rng.next() % 500) * 2 + 1).into(), 1000.into());
            (v.clone(), lo + (hi - lo) * u)
        })
        .collect()
}

/// Cross-checks `derivative` = d(`previous`)/d(`last`) at [`SAMPLE_POINTS`] seeded
/// points, binding every variable of `f` and the derivative.
pub fn sample_check(f: &Expr, previous: &Expr, derivative: &Expr, last: &str, tol: &Tolerance) -> SampleSummary {
    sample_with(f, derivative, Witness::Tape { previous, last }, tol)
}

/// Cross-checks `derivative` against a [`Witness`] at [`SAMPLE_POINTS`] seeded points,
/// binding every variable involved.
pub fn sample_with(f: &Expr, derivative: &Expr, witness: Witness<'_>, tol: &Tolerance) -> SampleSummary {
    let mut vars = f.variables();
    let extra: Vec<String> = match witness {
        // The expression's own variables are there already.
        Witness::Tape { previous, last } if previous == f => vec![last.to_string()],
        Witness::Tape { previous, last } => previous.variables().into_iter().chain([last.to_string()]).collect(),
        Witness::HyperDual { xi, xj } => vec![xi.to_string(), xj.to_string()],
        Witness::Swept { .. } => Vec::new(),
    };
    let known: std::collections::HashSet<String> = vars.iter().cloned().collect();
    for v in derivative.variables().into_iter().chain(extra) {
        if !known.contains(&v) && !vars.contains(&v) {
            vars.push(v);
        }
    }
    let points = seeded_points(&vars);
    let mut s = SampleSummary::default();
    for at in points.iter() {
        s.record(at, check_bound(f, derivative, witness, at, tol));
    }
    s
}

impl SampleSummary {
    /// Counts one point's check.
    fn record(&mut self, at: &Point, report: Result<Report, String>) {
        self.tried += 1;
        match report {
            Ok(r) => match r.comparison.status {
                Status::Pass if r.comparison.within != Within::Rtol => {
                    self.passed += 1;
                    self.absolute += 1;
                }
                Status::Pass => {
                    self.passed += 1;
                    self.max_rel_err = self.max_rel_err.max(r.comparison.rel_err);
                }
                Status::Fail => {
                    self.failed += 1;
                    self.max_rel_err = self.max_rel_err.max(r.comparison.rel_err);
                    if self.first_failure.is_none() {
                        self.first_failure = Some(at.clone());
                    }
                }
                Status::Undefined => {
                    self.skipped += 1;
                    self.beyond_f64 += usize::from(r.comparison.beyond_f64());
                }
            },
            Err(_) => self.skipped += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::point;
    use crate::parse;

    #[test]
    fn tolerance_rule() {
        let t = Tolerance::default();
        assert_eq!(compare(1.0, 1.0 + 1e-12, &t).status, Status::Pass);
        assert_eq!(compare(1.0, 1.0 + 1e-6, &t).status, Status::Fail);
        assert_eq!(compare(0.0, 1e-13, &t).status, Status::Pass);
        assert_eq!(compare(0.0, 1e-11, &t).status, Status::Fail);
    }

    #[test]
    fn a_pass_says_which_bound_it_is_within() {
        let t = Tolerance::default();
        assert_eq!(compare(1.0, 1.0 + 1e-12, &t).within, Within::Rtol);
        // 0 against the tape's 4e-16: a relative error of 1 that says nothing.
        let c = compare(0.0, 4e-16, &t);
        assert_eq!((c.status, c.within, c.rel_err), (Status::Pass, Within::Atol, 1.0));
        // A small value from terms of size 1e10, off by far less than their rounding.
        let c = compare_with_rounding(1e-5, 1e-5 + 1e-7, &t, 1e10);
        assert_eq!((c.status, c.within), (Status::Pass, Within::Rounding));
        assert!(c.rounding > 1e-7 && c.rounding < 1e-3, "{}", c.rounding);
        // A failure is measured relatively.
        let c = compare_with_rounding(1e-5, 2e-5, &t, 1.0);
        assert_eq!((c.status, c.within), (Status::Fail, Within::Rtol));
        // Points within atol or rounding are counted apart from the largest relative
        // error, which says nothing about values near 0.
        // (As written: the reader folds `abs(x)/x` to `sign(x)`, whose tape is exact.)
        let f = crate::parse::parse_verbatim("abs(x)/x").unwrap();
        let d = crate::parse("0").unwrap();
        let s = sample_check(&f, &f, &d, "x", &t);
        assert_eq!((s.passed, s.failed), (SAMPLE_POINTS, 0));
        assert!(s.absolute > 0 && s.max_rel_err == 0.0, "{s:?}");
    }

    #[test]
    fn ulps() {
        assert_eq!(ulp_distance(1.0, 1.0), 0);
        assert_eq!(ulp_distance(1.0, f64::from_bits(1.0f64.to_bits() + 3)), 3);
        assert_eq!(ulp_distance(-0.0, 0.0), 0);
        assert_eq!(ulp_distance(-f64::from_bits(1), f64::from_bits(1)), 2);
    }

    #[test]
    fn one_sweep_checks_a_gradient_as_one_tape_per_variable_does() {
        let tol = Tolerance::default();
        // The second has a fault on y's path only (d sqrt(y)/dy at 0): the shared sweep
        // faults, and each partial falls back to its own tape.
        for (src, at) in [
            ("sin(x*y) + x^2*exp(y) - ln(z)", "x=0.75,y=-1.5,z=2"),
            ("sqrt(y) + x*z", "x=1,y=0,z=3"),
            ("x/y + abs(z)", "x=2,y=0,z=1"),
        ] {
            let f = parse(src).unwrap();
            let pairs: Vec<(String, String)> = at
                .split(',')
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap();
                    (k.to_string(), v.to_string())
                })
                .collect();
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let at = point(&refs).unwrap();
            let partials: Vec<(String, Expr)> = f
                .variables()
                .into_iter()
                .map(|v| {
                    let d = diff(&f, &v);
                    (v, d)
                })
                .collect();
            let swept = check_gradient_at(&f, &partials, &at, &tol).unwrap();
            let sampled = sample_gradient(&f, &partials, &tol);
            for (k, (v, d)) in partials.iter().enumerate() {
                let alone = check_at(&f, &f, d, v, &at, &tol).unwrap();
                assert_eq!(
                    format!("{:?}", swept[k].autograd),
                    format!("{:?}", alone.autograd),
                    "{src} d/d{v}"
                );
                assert_eq!(swept[k].comparison.status, alone.comparison.status, "{src} d/d{v}");
                assert_eq!(
                    swept[k].comparison.rel_err.to_bits(),
                    alone.comparison.rel_err.to_bits(),
                    "{src} d/d{v}"
                );
                assert_eq!(sampled[k], sample_check(&f, &f, d, v, &tol), "{src} d/d{v}");
            }
        }
    }

    #[test]
    fn ill_conditioned_points_are_not_mismatches() {
        let tol = Tolerance::default();
        // The verdict on `d` as d/dx of `f` at x = `x`, against the tape.
        let status = |f: &Expr, d: &Expr, x: &str| {
            let at = point(&[("x", x)]).unwrap();
            check_at(f, f, d, "x", &at, &tol).unwrap().comparison.status
        };
        // asin' at cos(x^3) = 1 - 5e-13: the tape's local derivative is off by 1e-4 of
        // itself, which its rounding allowance now covers (about 1% there); a derivative
        // off by a factor of two still fails.
        let f = parse("asin(cos(x^3))").unwrap();
        assert_eq!(status(&f, &diff(&f, "x"), "-0.01"), Status::Pass);
        let wrong = parse("-6*x^2*sin(x^3)/sqrt(sin(x^3)^2)").unwrap();
        assert_eq!(status(&f, &wrong, "-0.01"), Status::Fail);
        // A cancellation in the tape's own values: ln(2^(x^4)) at x = 0.01 is ln of a number
        // 7e-9 above 1, good to 1.6e-8 of itself, and 1/ln(…) carries that into the
        // gradient. The tape's forward error bound now says so; a factor of 1.5 still fails.
        let f = parse("log(x + x, 2^(x^4))").unwrap();
        let right = crate::simplify::simplify(&diff(&f, "x"), &crate::simplify::Budget::default()).0;
        assert_eq!(status(&f, &right, "0.01"), Status::Pass);
        let wrong = parse("3*(1 - 4*ln(2*x))/(2*x^5*ln(2))").unwrap();
        assert_eq!(status(&f, &wrong, "0.01"), Status::Fail);
        // csc of 4.6e20: the value is noise in f64, so no verdict either way.
        let f = parse("csc((pi^x)^(pi^pi))").unwrap();
        let at = point(&[("x", "1.14")]).unwrap();
        let d2 = diff(&diff(&f, "x"), "x");
        let r = check_with(&f, &d2, Witness::HyperDual { xi: "x", xj: "x" }, &at, &tol).unwrap();
        assert_eq!(r.comparison.status, Status::Undefined, "{:?}", r.comparison);
        // 1 - tanh(x)^2 at 20 is 0 on both sides, and 1.7e-17 in truth: both round
        // tanh(20) to 1, so their agreement is no pass. 1/cosh(x)^2 there is a value.
        let f = parse("tanh(x)").unwrap();
        let d = crate::parse::parse_verbatim("1 - tanh(x)^2").unwrap();
        assert_eq!(status(&f, &d, "20"), Status::Undefined);
        let d = parse("1/cosh(x)^2").unwrap();
        assert_eq!(status(&f, &d, "20"), Status::Pass);
        // sin(x^128) at 28: the argument is off by 1e170 radians, and the rounding
        // bound is past f64's range.
        let f = parse("sin(x^128)").unwrap();
        assert_eq!(status(&f, &diff(&f, "x"), "28"), Status::Undefined);
        // An exact value has no rounding: x - 1 at 1 is 0, a pass.
        let f = parse("x^2/2 - x").unwrap();
        assert_eq!(status(&f, &parse("x - 1").unwrap(), "1"), Status::Pass);
        // Nor has a coordinate f64 holds exactly, however large: -sin(x) at 1e15 is
        // good to the last place, and so is sin(x^12) at 28, where 28^12 is exact.
        // One rounded on the way in is 0.06 radians off and says so.
        let f = parse("cos(x)").unwrap();
        assert_eq!(status(&f, &diff(&f, "x"), "1e15"), Status::Pass);
        assert_eq!(status(&f, &diff(&f, "x"), "1000000000000000.1"), Status::Undefined);
        let f = parse("cos(x^12)").unwrap();
        assert_eq!(status(&f, &diff(&f, "x"), "28"), Status::Pass);
    }

    #[test]
    fn abs_at_zero_is_undefined_not_zero() {
        let f = parse("abs(x)").unwrap();
        let r = cross_check(&f, &["x"], &point(&[("x", "0")]).unwrap(), &Tolerance::default()).unwrap();
        assert_eq!(r.comparison.status, Status::Undefined);
        assert!(r.value.is_err());
    }

    #[test]
    fn higher_order_checks_the_last_step() {
        let f = parse("sin(x)*exp(x)").unwrap();
        let r = cross_check(
            &f,
            &["x", "x", "x"],
            &point(&[("x", "0.5")]).unwrap(),
            &Tolerance::default(),
        )
        .unwrap();
        assert_eq!(r.comparison.status, Status::Pass);
    }

    #[test]
    fn hyper_dual_checks_allow_for_cancellation_but_not_for_errors() {
        // d²/dx² exp(log(x, x)) is exactly 0; the hyper-dual evaluation of the
        // expression leaves 7e-12 of cancellation near x = 1, within its magnitude.
        let f = parse("exp(log(x, x))").unwrap();
        let at = point(&[("x", "0.99")]).unwrap();
        let witness = Witness::HyperDual { xi: "x", xj: "x" };
        let zero = parse("0").unwrap();
        let r = check_with(&f, &zero, witness, &at, &Tolerance::default()).unwrap();
        assert_eq!(r.comparison.status, Status::Pass, "{r:?}");
        // A wrong second derivative still fails.
        let g = parse("sin(x)*x").unwrap();
        let wrong = parse("2*cos(x) + x*sin(x)").unwrap();
        let r = check_with(&g, &wrong, witness, &at, &Tolerance::default()).unwrap();
        assert_eq!(r.comparison.status, Status::Fail, "{r:?}");
    }

    #[test]
    fn a_hyper_dual_witness_after_a_cancellation_is_not_trusted() {
        // log(2*x, exp(y^(1/x))) at x = 0.04, y = 0.24: y^(1/x) is 3.2e-16, exp of it
        // rounds to 1 + 2.2e-16, and ln of that is off by a third. The hyper-dual
        // evaluation of the expression is off by a factor of 4 there; its magnitude now
        // carries that error forward, so the (right) derivative is not called wrong.
        let f = parse("log(2*x, exp(y^(1/x)))").unwrap();
        let d2 = crate::diff(&crate::diff(&f, "x"), "x");
        let at = point(&[("x", "0.04"), ("y", "0.24")]).unwrap();
        let witness = Witness::HyperDual { xi: "x", xj: "x" };
        let r = check_with(&f, &d2, witness, &at, &Tolerance::default()).unwrap();
        assert_eq!(r.comparison.status, Status::Undefined, "{r:?}");
        // Away from the cancellation the same check passes, and a wrong derivative fails.
        let at = point(&[("x", "0.5"), ("y", "0.24")]).unwrap();
        let r = check_with(&f, &d2, witness, &at, &Tolerance::default()).unwrap();
        assert_eq!(r.comparison.status, Status::Pass, "{r:?}");
        let wrong = crate::diff(&f, "x");
        let r = check_with(&f, &wrong, witness, &at, &Tolerance::default()).unwrap();
        assert_eq!(r.comparison.status, Status::Fail, "{r:?}");
    }

    #[test]
    fn an_ill_conditioned_point_is_not_a_disagreement() {
        // tan(x^-9) at x = -0.05: x^-9 is -5e11, and tan there moves by 1e-3 for a
        // one-ulp move of x; the symbolic value and the hyper-dual one differ by 7e-4.
        let f = parse("tan(x^-9)").unwrap();
        let d2 = crate::diff(&crate::diff(&f, "x"), "x");
        let at = point(&[("x", "-0.05")]).unwrap();
        let witness = Witness::HyperDual { xi: "x", xj: "x" };
        let r = check_with(&f, &d2, witness, &at, &Tolerance::default()).unwrap();
        assert_eq!(r.comparison.status, Status::Pass, "{r:?}");
        // Strict comparison does not widen.
        let strict = Tolerance {
            rounding: false,
            ..Tolerance::default()
        };
        let r = check_with(&f, &d2, witness, &at, &strict).unwrap();
        assert_eq!(r.comparison.status, Status::Fail, "{r:?}");
    }

    #[test]
    fn seeded_points_are_fixed() {
        let vars = vec!["x".to_string()];
        assert_eq!(seeded_point(&vars, 3), seeded_point(&vars, 3));
        assert_ne!(seeded_point(&vars, 3), seeded_point(&vars, 4));
        let f = parse("ln(x)").unwrap();
        let d = crate::diff(&f, "x");
        let s = sample_check(&f, &f, &d, "x", &Tolerance::default());
        assert_eq!(s.tried, SAMPLE_POINTS);
        assert!(s.skipped > 0 && s.passed > 0 && s.failed == 0, "{s:?}");
        assert_eq!(s.beyond_f64, 0, "ln(x) is undefined at x <= 0, not too large");
    }

    #[test]
    fn an_overflow_keeps_the_exact_value_and_a_domain_fault_does_not() {
        // x^400 at x = 10 overflows f64 on the tape; the derivative's exact value is
        // 4e401, which the report keeps, though no f64 holds it.
        let f = parse("x^400").unwrap();
        let r = cross_check(&f, &["x"], &point(&[("x", "10")]).unwrap(), &Tolerance::default()).unwrap();
        assert_eq!(r.comparison.status, Status::Undefined);
        assert!(r.comparison.beyond_f64(), "{r:?}");
        assert!(r.autograd.is_err() && r.value.is_err());
        let four = Rational::from_integer(num_bigint::BigInt::from(4) * num_bigint::BigInt::from(10).pow(401));
        assert_eq!(r.exact, Some(four));
        // ln(x) at x = -1: outside the domain, so no value at all, though 1/x has one.
        let f = parse("ln(x)").unwrap();
        let r = cross_check(&f, &["x"], &point(&[("x", "-1")]).unwrap(), &Tolerance::default()).unwrap();
        assert_eq!(r.comparison.status, Status::Undefined);
        assert!(!r.comparison.beyond_f64());
        assert!(r.value.is_err() && r.exact.is_none(), "{r:?}");
    }

    #[test]
    fn a_subnormal_intermediate_is_not_a_mismatch() {
        let check = |f: &Expr, d: &Expr, xj: &'static str, at: &Point| {
            check_with(f, d, Witness::HyperDual { xi: "x", xj }, at, &Tolerance::default()).unwrap()
        };
        let second = |f: &Expr, xj: &str| crate::diff(&crate::diff(f, "x"), xj);
        let at = point(&[("x", "9/100"), ("y", "1/100")]).unwrap();
        // x^(pi^5) at 0.09 is about 1e-320, a subnormal good to three digits, so both
        // sides' ln of it, and the mixed second derivative, are good to about 1e-6
        // (found by the property test, which reported a mismatch there).
        let f = parse("log(x^(pi^5), y*x)").unwrap();
        let dxy = second(&f, "y");
        let r = check(&f, &dxy, "y", &at);
        assert_eq!(r.comparison.status, Status::Pass, "{r:?}");
        let r = check(&f, &second(&f, "x"), "x", &at);
        assert_ne!(r.comparison.status, Status::Fail, "{r:?}");
        // The second derivative in x of this one is -pi^5/(x^2*ln(y^2)), computed
        // without a subnormal, but the witness differentiates x^(pi^5) itself: its
        // parts are subnormal too, and good to 1e-4. Neither a pass nor a fail can be
        // said, and the reason names the value.
        let g = parse("log(x^(pi^5), y*y)").unwrap();
        let r = check(&g, &second(&g, "x"), "x", &at);
        assert!(r.comparison.beyond_f64(), "{r:?}");
        let reason = r.comparison.reason.as_deref().unwrap_or_default();
        assert!(reason.contains("x^(pi^5) is subnormal"), "{r:?}");
        // Away from the subnormal range the mixed derivative passes within rtol.
        let at = point(&[("x", "9/10"), ("y", "1/100")]).unwrap();
        let r = check(&f, &dxy, "y", &at);
        assert_eq!(
            (r.comparison.status, r.comparison.within),
            (Status::Pass, Within::Rtol),
            "{r:?}"
        );
    }

    #[test]
    fn an_overflow_is_skipped_as_beyond_f64_not_outside_the_domain() {
        // exp(exp(x^2)) is defined everywhere; at the seeded points with |x| > 2.5 it
        // is beyond f64's range.
        let f = parse("exp(exp(x^2))").unwrap();
        let d = crate::diff(&f, "x");
        let s = sample_check(&f, &f, &d, "x", &Tolerance::default());
        assert!(s.skipped > 0 && s.passed > 0 && s.failed == 0, "{s:?}");
        assert_eq!(s.beyond_f64, s.skipped, "{s:?}");
    }
}
