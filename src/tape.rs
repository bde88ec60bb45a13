//! A reverse-mode autograd tape (a Wengert list): the independent witness.
//!
//! The tape records the *original* expression while evaluating it at a point, then
//! sweeps back once to get the gradient with respect to every input. It never calls
//! [`crate::diff`](fn@crate::diff): every operation's local partial derivative is written out here,
//! so a mistake in a symbolic rule cannot be repeated by the tape.
//!
//! Behaviour:
//! - Operations are a `Copy` enum with `u32` operand indices in one `Vec`, values in a
//!   parallel `Vec<f64>`: no `Rc`, no closures, no recursion.
//! - A value outside the real domain (ln of 0, division by zero) is recorded as a
//!   fault with its reason; so is a point where an input-dependent operation has no
//!   derivative (`abs` or `sign` at 0, `sqrt` at 0, `asin` at ±1).
//! - Use it on its own, like micrograd, through [`Graph`] and [`Var`]; or record a
//!   parsed [`Expr`] with [`record`].
//!
//! ```
//! use dydx::tape::Graph;
//! let g = Graph::new();
//! let x = g.var(2.0);
//! let y = g.var(3.0);
//! let z = x * y + x.sin();
//! let grad = g.gradient(z).unwrap();
//! assert_eq!(z.value(), 6.0 + dydx::float::sin(2.0));
//! assert_eq!(grad.wrt(x), 3.0 + dydx::float::cos(2.0));
//! assert_eq!(grad.wrt(y), 2.0);
//! ```

use crate::eval::Point;
use crate::expr::{Expr, Func, Id, IdIndex, Node};
use crate::float;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cell::RefCell;
use std::fmt;

/// One recorded operation; operands are indices of earlier entries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// An input (a variable the gradient is taken with respect to).
    Input,
    /// A constant, or a variable held fixed.
    Const,
    /// `a + b`
    Add(u32, u32),
    /// `a - b`
    Sub(u32, u32),
    /// `a * b`
    Mul(u32, u32),
    /// `a / b`
    Div(u32, u32),
    /// `-a`
    Neg(u32),
    /// `a ^ n` for a constant integer `n`
    Powi(u32, i32),
    /// `a ^ b`
    Pow(u32, u32),
    /// `f(a)`
    Call(Func, u32),
    /// `log(a, b)`
    Log(u32, u32),
}

/// Why the tape has no value or no derivative at the point.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Fault {
    /// What went wrong.
    pub reason: String,
    /// The entry where it happened.
    pub entry: u32,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// The Wengert list: operations, their values, and which depend on an input.
#[derive(Clone, Default, Debug)]
pub struct Tape {
    ops: Vec<Op>,
    vals: Vec<f64>,
    active: Vec<bool>,
    inputs: Vec<u32>,
    /// The first point where a value was undefined, if any.
    pub value_fault: Option<Fault>,
    /// The entries whose value `f64` rounded to 0 though it is not (`exp(-800)`), in
    /// entry order, with what is known of them.
    tiny: Vec<(u32, Tiny)>,
}

/// A value the tape holds as 0 though it is not.
#[derive(Clone, Copy, Debug)]
struct Tiny {
    /// An upper bound on log2 of its magnitude.
    log2: f64,
    /// Whether the sign bit of the zero is the value's sign.
    signed: bool,
}

/// Values below 2^-1075 round to 0; a unit of margin keeps `f64`-computed bounds safe.
const ROUNDS_TO_ZERO: f64 = -1076.0;

/// From 2^53 on every `f64` is even, so a whole exponent there has lost its parity, and
/// a negative base's sign with it (`(-1)^(3^625)` would be 1): the tape calls such a
/// power undefined rather than give it a sign it cannot know.
const WHOLE_BEYOND_PARITY: f64 = 9_007_199_254_740_992.0;

/// The reason given for such a power.
const PARITY_UNKNOWN: &str = "a negative base to an exponent too large for f64 to know its parity";

impl Tape {
    /// An empty tape.
    pub fn new() -> Tape {
        Tape::default()
    }

    /// Number of recorded operations.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// The value of an entry.
    pub fn value(&self, entry: u32) -> f64 {
        self.vals[entry as usize]
    }

    /// Records an input with this value and returns its entry.
    pub fn input(&mut self, value: f64) -> u32 {
        let i = self.push_raw(Op::Input, value, true);
        self.inputs.push(i);
        i
    }

    /// Records a constant.
    pub fn constant(&mut self, value: f64) -> u32 {
        self.push_raw(Op::Const, value, false)
    }

    #[inline]
    fn push_raw(&mut self, op: Op, value: f64, active: bool) -> u32 {
        let i = self.ops.len() as u32;
        self.ops.push(op);
        self.vals.push(value);
        self.active.push(active);
        i
    }

    /// Records an operation, computing its value now.
    #[inline]
    pub fn push(&mut self, op: Op) -> u32 {
        let (value, bad) = compute(&self.vals, op);
        let act = |i: u32| self.active[i as usize];
        let active = match op {
            Op::Input | Op::Const => false,
            Op::Neg(a) | Op::Powi(a, _) | Op::Call(_, a) => act(a),
            Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) | Op::Pow(a, b) | Op::Log(a, b) => {
                act(a) || act(b)
            }
        };
        let i = self.push_raw(op, value, active);
        if bad.is_some() || !value.is_finite() || value == 0.0 {
            self.check_zero(i, op, value, bad);
            self.check(i, value, bad);
        }
        i
    }

    /// Records a constant that `f64` holds as 0 though it is not (`1e-400`), with a
    /// bound on log2 of its magnitude, so what is computed from it is followed (see
    /// [`Tape::check_zero`]).
    pub(crate) fn mark_tiny(&mut self, entry: u32, log2: f64, signed: bool) {
        self.mark(entry, Tiny { log2, signed });
    }

    /// Adds a tiny mark, keeping the marks in entry order (a replay recomputes
    /// operations between constants marked before).
    fn mark(&mut self, entry: u32, tiny: Tiny) {
        let at = self.tiny.partition_point(|&(k, _)| k < entry);
        self.tiny.insert(at, (entry, tiny));
    }

    fn tiny_at(&self, entry: u32) -> Option<Tiny> {
        self.tiny
            .binary_search_by_key(&entry, |&(k, _)| k)
            .ok()
            .map(|k| self.tiny[k].1)
    }

    /// The operands of an operation.
    fn operands(op: Op) -> [Option<u32>; 2] {
        match op {
            Op::Input | Op::Const => [None, None],
            Op::Neg(a) | Op::Powi(a, _) | Op::Call(_, a) => [Some(a), None],
            Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) | Op::Pow(a, b) | Op::Log(a, b) => {
                [Some(a), Some(b)]
            }
        }
    }

    /// Whether an operand of entry `i` is a value `f64` holds as 0 though it is not.
    fn meets_tiny(&self, i: usize) -> bool {
        Self::operands(self.ops[i])
            .into_iter()
            .flatten()
            .any(|k| self.tiny_at(k).is_some())
    }

    /// Follows values that `f64` rounds to 0 though they are not. A tiny value can be
    /// multiplied back into range (`x^200*exp(-x^2)` at 28 is 8.8e-52, though
    /// `exp(-784)` is 0), so each one carries a bound on its size through products,
    /// powers, roots and odd functions; where the bound no longer says the result rounds
    /// to 0, or a tiny value meets a domain edge only 0 is on (`ln`, a quotient, `sign`),
    /// the value is lost and the tape says so rather than compute from the zero.
    #[cold]
    fn check_zero(&mut self, i: u32, op: Op, value: f64, bad: Option<&str>) {
        let tiny = |k: u32| self.tiny_at(k);
        let v = |k: u32| self.vals[k as usize];
        let lost = || Some(Err(()));
        let kept = |log2: f64, signed: bool| Some(Ok(Tiny { log2, signed }));
        let judged = |log2: f64, signed: bool| {
            if log2 < ROUNDS_TO_ZERO {
                kept(log2, signed)
            } else {
                lost()
            }
        };
        // A bound on log2 of an operand's magnitude, and whether it is known to be tiny.
        let size = |k: u32| tiny(k).map_or_else(|| float::log2(v(k).abs()), |t| t.log2);
        let any_tiny = Self::operands(op).into_iter().flatten().any(|k| tiny(k).is_some());
        let outcome: Option<Result<Tiny, ()>> = if bad.is_some() {
            (any_tiny && !matches!(op, Op::Call(Func::Acosh, _))).then_some(Err(()))
        } else if value != 0.0 {
            None
        } else {
            match op {
                Op::Input | Op::Const | Op::Log(..) => None,
                Op::Add(a, b) | Op::Sub(a, b) => {
                    let flipped = |k: u32| v(k).is_sign_negative() != (matches!(op, Op::Sub(..)) && k == b);
                    let tinies: Vec<(u32, Tiny)> = [a, b].into_iter().filter_map(|k| tiny(k).map(|t| (k, t))).collect();
                    tinies.iter().map(|(_, t)| t.log2).reduce(f64::max).and_then(|largest| {
                        let signed = tinies
                            .iter()
                            .all(|&(k, t)| t.signed && flipped(k) == value.is_sign_negative());
                        kept(largest + 1.0, signed)
                    })
                }
                Op::Neg(a) => tiny(a).and_then(|t| kept(t.log2, t.signed)),
                Op::Mul(a, b) => {
                    if [a, b].into_iter().any(|k| v(k) == 0.0 && tiny(k).is_none()) {
                        None
                    } else if !any_tiny {
                        kept(size(a) + size(b) + 1.0, true)
                    } else {
                        let signed = [a, b].into_iter().filter_map(tiny).all(|t| t.signed)
                            && value.is_sign_negative() == (v(a).is_sign_negative() != v(b).is_sign_negative());
                        judged(size(a) + size(b) + 1.0, signed)
                    }
                }
                Op::Div(a, b) => match tiny(a) {
                    _ if v(a) == 0.0 && tiny(a).is_none() => None,
                    // Past an overflow (`1/cosh(800)`) the zero is the limit, as `eval` has it.
                    _ if v(b).is_infinite() && tiny(a).is_none() => None,
                    _ if v(b).is_infinite() => kept(size(a) - 1024.0, tiny(a).is_some_and(|t| t.signed)),
                    Some(t) => judged(t.log2 - float::log2(v(b).abs()) + 1.0, t.signed),
                    None => kept(size(a) - float::log2(v(b).abs()) + 1.0, true),
                },
                Op::Powi(a, n) => self.power_zero(a, f64::from(n)),
                Op::Pow(a, b) => self.power_zero(a, v(b)),
                Op::Call(f, a) => match (tiny(a), f) {
                    (
                        Some(t),
                        Func::Sin
                        | Func::Tan
                        | Func::Asin
                        | Func::Atan
                        | Func::Sinh
                        | Func::Tanh
                        | Func::Asinh
                        | Func::Atanh,
                    ) => kept(
                        t.log2 + 0.5,
                        t.signed && value.is_sign_negative() == v(a).is_sign_negative(),
                    ),
                    (Some(t), Func::Abs) => kept(t.log2, true),
                    (Some(t), Func::Sqrt) if t.signed && v(a).is_sign_positive() => judged(t.log2 / 2.0, true),
                    (Some(_), _) => lost(),
                    (None, Func::Exp) => kept(v(a) * std::f64::consts::LOG2_E + 1.0, true),
                    (None, _) => None,
                },
            }
        };
        match outcome {
            Some(Ok(t)) => self.mark(i, t),
            Some(Err(())) if self.value_fault.is_none() => {
                self.value_fault = Some(Fault {
                    reason: crate::eval::UNDERFLOW.to_string(),
                    entry: i,
                });
            }
            _ => {}
        }
    }

    /// What a power `a^k` that `f64` computed as 0 is (see [`Tape::check_zero`]).
    fn power_zero(&self, a: u32, k: f64) -> Option<Result<Tiny, ()>> {
        let u = self.vals[a as usize];
        let tiny = |log2: f64, signed: bool| Some(Ok(Tiny { log2, signed }));
        match self.tiny_at(a) {
            // A root of a tiny value is defined only where it is positive.
            Some(t) if k > 0.0 && (k.fract() == 0.0 || (t.signed && u.is_sign_positive())) => {
                if k * t.log2 < ROUNDS_TO_ZERO {
                    tiny(k * t.log2, t.signed)
                } else {
                    Some(Err(()))
                }
            }
            Some(_) => Some(Err(())),
            None if u == 0.0 || u.is_infinite() => None,
            None => tiny(k * float::log2(u.abs()) + 1.0, true),
        }
    }

    #[cold]
    fn check(&mut self, entry: u32, value: f64, bad: Option<&str>) {
        if self.value_fault.is_some() {
            return;
        }
        let reason = match bad {
            Some(r) => r,
            None if value.is_nan() => "not a real number",
            None if value.is_infinite() => "overflows floating point",
            None => return,
        };
        self.value_fault = Some(Fault {
            reason: reason.to_string(),
            entry,
        });
    }

    /// Re-evaluates the recorded operations with new input values (in the order the
    /// inputs were recorded), keeping the structure: the tape's analogue of calling a
    /// compiled function again. Constants keep their values.
    pub fn replay(&mut self, inputs: &[f64]) {
        // Tiny constants stay; the inputs are new.
        let ops = &self.ops;
        self.tiny.retain(|&(k, _)| matches!(ops[k as usize], Op::Const));
        for (k, &i) in self.inputs.iter().enumerate() {
            self.vals[i as usize] = inputs.get(k).copied().unwrap_or(f64::NAN);
        }
        self.recompute();
    }

    /// Computes every operation again from the inputs and constants as they are, with
    /// what is marked tiny among them.
    fn recompute(&mut self) {
        self.value_fault = None;
        let ops = &self.ops;
        self.tiny
            .retain(|&(k, _)| matches!(ops[k as usize], Op::Const | Op::Input));
        for i in 0..self.ops.len() {
            let op = self.ops[i];
            if matches!(op, Op::Input | Op::Const) {
                continue;
            }
            let (value, bad) = compute(&self.vals, op);
            self.vals[i] = value;
            if bad.is_some() || !value.is_finite() || value == 0.0 {
                self.check_zero(i as u32, op, value, bad);
                self.check(i as u32, value, bad);
            }
        }
    }

    /// One backward sweep from `output`: the adjoint of every entry, or the first
    /// point where an input-dependent operation has no derivative.
    pub fn backward(&self, output: u32) -> Result<Vec<f64>, Fault> {
        self.sweep::<false>(output)
    }

    /// The rounding magnitude of the backward sweep: the same sweep with every
    /// contribution taken in absolute value, so a gradient that is a small difference of
    /// large contributions shows its scale (see [`crate::eval::magnitude`]).
    pub fn backward_magnitude(&self, output: u32) -> Result<Vec<f64>, Fault> {
        self.sweep::<true>(output)
    }

    /// A first-order bound on each of the first `n` values' error, in units of rounding
    /// (the error is about `f64::EPSILON` times it): its own rounding plus its operands'
    /// errors times how much it moves with each. A cancellation shows here: `ln(u)` at
    /// u = 2^(1e-8) is 6.9e-9 with an error of about one unit, a relative 1.6e-8.
    fn value_errors(&self, n: usize) -> Vec<f64> {
        let mut err: Vec<f64> = Vec::with_capacity(n);
        for i in 0..n {
            let v = |k: u32| self.vals[k as usize];
            let e = |k: u32| err[k as usize];
            let own = self.vals[i].abs();
            let carried = match self.ops[i] {
                Op::Input | Op::Const => 0.0,
                Op::Add(a, b) | Op::Sub(a, b) => e(a) + e(b),
                Op::Mul(a, b) => v(b).abs() * e(a) + v(a).abs() * e(b),
                Op::Div(a, b) => e(a) / v(b).abs() + (v(a) / (v(b) * v(b))).abs() * e(b),
                Op::Neg(a) => e(a),
                Op::Powi(a, k) => (f64::from(k) * powi(v(a), k - 1)).abs() * e(a),
                Op::Pow(a, b) => {
                    let (x, y) = (v(a), v(b));
                    (y * float::powf(x, y - 1.0)).abs() * e(a) + (self.vals[i] * float::ln(x.abs())).abs() * e(b)
                }
                Op::Call(f, a) => local_derivative(f, v(a), self.vals[i]).map_or(0.0, |d| d.abs()) * e(a),
                Op::Log(a, b) => {
                    let (x, y) = (v(a), v(b));
                    let ly = float::ln(y);
                    e(a) / (x * ly).abs() + (float::ln(x) / (y * ly * ly)).abs() * e(b)
                }
            };
            // Non-finite bounds (a derivative infinite at the point) say nothing useful.
            err.push(if carried.is_finite() { own + carried } else { own });
        }
        err
    }

    /// The backward sweep; `MAGNITUDE` selects the absolute-value variant at compile
    /// time, so the gradient's hot loop carries no extra branch.
    fn sweep<const MAGNITUDE: bool>(&self, output: u32) -> Result<Vec<f64>, Fault> {
        if let Some(f) = &self.value_fault {
            return Err(f.clone());
        }
        let n = output as usize + 1;
        let mut adj = vec![0.0; n];
        adj[output as usize] = 1.0;
        // In magnitude mode every contribution is added in absolute value, with the
        // error of its local derivative: that derivative is computed from operands that
        // carry their own rounding (`errors`, in units of rounding), and near a
        // singularity or after a cancellation that error is most of it (asin' at
        // cos(1e-6), 5e-13 below 1; 1/ln(u) at u = 2^(1e-8)). `$s` is the derivative's
        // change per unit of rounding of its operands.
        let errors = if MAGNITUDE { self.value_errors(n) } else { Vec::new() };
        let err = |k: u32| errors.get(k as usize).copied().unwrap_or(0.0);
        macro_rules! add {
            ($adj:expr, $k:expr, $c:expr) => {{
                let c: f64 = $c;
                $adj[$k as usize] += if MAGNITUDE { c.abs() } else { c };
            }};
            // `$c` is the contribution exactly as the value sweep computes it (the same
            // rounding, so gradients do not move), `$s` its derivative's error scale.
            ($adj:expr, $k:expr, $c:expr, $g:expr, $s:expr) => {{
                let c: f64 = $c;
                if MAGNITUDE {
                    let s: f64 = $s;
                    let g: f64 = $g;
                    $adj[$k as usize] += c.abs() + g.abs() * s;
                } else {
                    $adj[$k as usize] += c;
                }
            }};
        }
        for i in (0..n).rev() {
            if !self.active[i] {
                continue;
            }
            let g = adj[i];
            let v = |k: u32| self.vals[k as usize];
            // (At a tiny operand the derivative exists but f64 lost it: `sqrt` at
            // exp(-2400) has slope 1e521.)
            let nondiff = |reason: &str| Fault {
                reason: if self.meets_tiny(i) {
                    crate::eval::UNDERFLOW
                } else {
                    reason
                }
                .to_string(),
                entry: i as u32,
            };
            match self.ops[i] {
                Op::Input | Op::Const => {}
                Op::Add(a, b) => {
                    add!(adj, a, g);
                    add!(adj, b, g);
                }
                Op::Sub(a, b) => {
                    add!(adj, a, g);
                    add!(adj, b, -g);
                }
                Op::Mul(a, b) => {
                    add!(adj, a, g * v(b), g, err(b));
                    add!(adj, b, g * v(a), g, err(a));
                }
                Op::Div(a, b) => {
                    let (x, y) = (v(a), v(b));
                    add!(adj, a, g / y, g, err(b) / (y * y));
                    add!(
                        adj,
                        b,
                        -g * x / (y * y),
                        g,
                        err(a) / (y * y) + 2.0 * (x / (y * y * y)).abs() * err(b)
                    );
                }
                Op::Neg(a) => add!(adj, a, -g),
                Op::Powi(a, k) => {
                    let x = v(a);
                    if x == 0.0 && k < 1 {
                        return Err(nondiff("no derivative of a power at base 0"));
                    }
                    let kf = f64::from(k);
                    let curvature = if MAGNITUDE {
                        (kf * (kf - 1.0) * powi(x, k - 2)).abs() * err(a)
                    } else {
                        0.0
                    };
                    add!(adj, a, g * kf * powi(x, k - 1), g, curvature);
                }
                Op::Pow(a, b) => {
                    let (x, y) = (v(a), v(b));
                    if self.active[a as usize] {
                        if x == 0.0 && y < 1.0 {
                            return Err(nondiff("no derivative of a power at base 0"));
                        }
                        let s = if MAGNITUDE {
                            (y * (y - 1.0) * float::powf(x, y - 2.0)).abs() * err(a)
                                + (float::powf(x, y - 1.0) * (1.0 + y * float::ln(x.abs()))).abs() * err(b)
                        } else {
                            0.0
                        };
                        add!(adj, a, g * y * float::powf(x, y - 1.0), g, s);
                    }
                    if self.active[b as usize] {
                        if x <= 0.0 {
                            return Err(nondiff(
                                "no derivative of a power with a varying exponent at a base <= 0",
                            ));
                        }
                        let s = if MAGNITUDE {
                            (float::powf(x, y - 1.0) * (1.0 + y * float::ln(x))).abs() * err(a)
                                + (self.vals[i] * float::ln(x) * float::ln(x)).abs() * err(b)
                        } else {
                            0.0
                        };
                        add!(adj, b, g * self.vals[i] * float::ln(x), g, s);
                    }
                }
                Op::Call(f, a) => {
                    let local = local_derivative(f, v(a), self.vals[i]).map_err(nondiff)?;
                    let curvature = if MAGNITUDE {
                        second_order(f, v(a)).map_or(0.0, |(_, _, y2)| y2.abs() * err(a))
                    } else {
                        0.0
                    };
                    add!(adj, a, g * local, g, curvature);
                }
                Op::Log(a, b) => {
                    let (x, y) = (v(a), v(b));
                    let ly = float::ln(y);
                    let (sa, sb) = if MAGNITUDE {
                        (
                            err(a) / (x * x * ly.abs()) + err(b) / (x * y * ly * ly).abs(),
                            err(a) / (x * y * ly * ly).abs()
                                + (float::ln(x) * (ly.abs() + 2.0) / (y * y * ly * ly * ly)).abs() * err(b),
                        )
                    } else {
                        (0.0, 0.0)
                    };
                    add!(adj, a, g / (x * ly), g, sa);
                    add!(adj, b, -g * float::ln(x) / (y * ly * ly), g, sb);
                }
            }
        }
        if let Some(bad) = adj.iter().position(|a| !a.is_finite()) {
            return Err(Fault {
                reason: "the derivative overflows floating point".into(),
                entry: bad as u32,
            });
        }
        Ok(adj)
    }

    /// The gradient of `output` with respect to every input, in the order they were
    /// recorded.
    pub fn gradient(&self, output: u32) -> Result<Vec<f64>, Fault> {
        let adj = self.backward(output)?;
        Ok(self
            .inputs
            .iter()
            .map(|&i| adj.get(i as usize).copied().unwrap_or(0.0))
            .collect())
    }
}

/// The value of one operation from the values of its operands, and, outside the
/// domain, the reason it has none.
#[inline(always)]
fn compute(vals: &[f64], op: Op) -> (f64, Option<&'static str>) {
    let v = |i: u32| vals[i as usize];
    match op {
        Op::Input | Op::Const => (f64::NAN, Some("an input or constant pushed as an operation")),
        Op::Add(a, b) => (v(a) + v(b), None),
        Op::Sub(a, b) => (v(a) - v(b), None),
        Op::Mul(a, b) => (v(a) * v(b), None),
        Op::Div(a, b) => (v(a) / v(b), (v(b) == 0.0).then_some("division by zero")),
        Op::Neg(a) => (-v(a), None),
        Op::Powi(a, n) => {
            let x = v(a);
            (powi(x, n), (x == 0.0 && n < 0).then_some("division by zero"))
        }
        Op::Pow(a, b) => {
            let (x, y) = (v(a), v(b));
            let bad = if x == 0.0 && y < 0.0 {
                Some("division by zero")
            } else if x < 0.0 && y.fract() != 0.0 {
                Some("a negative base to a fractional power")
            } else if x < 0.0 && y.abs() >= WHOLE_BEYOND_PARITY {
                Some(PARITY_UNKNOWN)
            } else {
                None
            };
            (float::powf(x, y), bad)
        }
        Op::Call(f, a) => call(f, v(a)),
        Op::Log(a, b) => {
            let (x, y) = (v(a), v(b));
            let bad = if x <= 0.0 || y <= 0.0 {
                Some("log of a non-positive number")
            } else if y == 1.0 {
                Some("log to base 1")
            } else {
                None
            };
            (float::ln(x) / float::ln(y), bad)
        }
    }
}

/// `x^n` with the common small exponents done by hand (`powi` is a library call).
#[inline(always)]
fn powi(x: f64, n: i32) -> f64 {
    match n {
        -2 => 1.0 / (x * x),
        -1 => 1.0 / x,
        0 => 1.0,
        1 => x,
        2 => x * x,
        3 => x * x * x,
        _ => float::powi(x, n),
    }
}

/// A function's value and, outside its domain, the reason it has none.
#[inline(always)]
fn call(f: Func, x: f64) -> (f64, Option<&'static str>) {
    match f {
        Func::Sin => (float::sin(x), None),
        Func::Cos => (float::cos(x), None),
        Func::Tan => (float::tan(x), None),
        Func::Sec => {
            let c = float::cos(x);
            (1.0 / c, (c == 0.0).then_some("division by zero"))
        }
        Func::Csc => {
            let s = float::sin(x);
            (1.0 / s, (s == 0.0).then_some("division by zero"))
        }
        Func::Cot => {
            let s = float::sin(x);
            (float::cos(x) / s, (s == 0.0).then_some("division by zero"))
        }
        Func::Asin => (float::asin(x), (x.abs() > 1.0).then_some("outside the domain [-1, 1]")),
        Func::Acos => (float::acos(x), (x.abs() > 1.0).then_some("outside the domain [-1, 1]")),
        Func::Atan => (float::atan(x), None),
        Func::Sinh => (float::sinh(x), None),
        Func::Cosh => (float::cosh(x), None),
        Func::Tanh => (float::tanh(x), None),
        Func::Asinh => (float::asinh(x), None),
        Func::Acosh => (float::acosh(x), (x < 1.0).then_some("outside the domain [1, inf)")),
        Func::Atanh => (
            float::atanh(x),
            (x.abs() >= 1.0).then_some("outside the domain (-1, 1)"),
        ),
        Func::Exp => (float::exp(x), None),
        Func::Ln => (float::ln(x), (x <= 0.0).then_some("ln of a non-positive number")),
        Func::Sqrt => (x.sqrt(), (x < 0.0).then_some("sqrt of a negative number")),
        Func::Abs => (x.abs(), None),
        Func::Sign => (
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            },
            None,
        ),
    }
}

/// d f(x) / dx at `x`, where `y` = f(x). Written here, independently of `diff`.
pub(crate) fn local_derivative(f: Func, x: f64, y: f64) -> Result<f64, &'static str> {
    Ok(match f {
        Func::Sin => float::cos(x),
        Func::Cos => -float::sin(x),
        Func::Tan => 1.0 + y * y,
        Func::Sec => y * float::tan(x),
        Func::Csc => -y * float::cos(x) / float::sin(x),
        Func::Cot => -(1.0 + y * y),
        Func::Asin | Func::Acos => {
            if x.abs() >= 1.0 {
                return Err("asin and acos have no derivative at -1 and 1");
            }
            let d = 1.0 / (1.0 - x * x).sqrt();
            if f == Func::Asin {
                d
            } else {
                -d
            }
        }
        Func::Atan => 1.0 / (1.0 + x * x),
        Func::Sinh => float::cosh(x),
        Func::Cosh => float::sinh(x),
        Func::Tanh => 1.0 - y * y,
        Func::Asinh => 1.0 / (x * x + 1.0).sqrt(),
        Func::Acosh => {
            if x <= 1.0 {
                return Err("acosh has no derivative at 1");
            }
            1.0 / (x * x - 1.0).sqrt()
        }
        Func::Atanh => 1.0 / (1.0 - x * x),
        Func::Exp => y,
        Func::Ln => 1.0 / x,
        Func::Sqrt => {
            if x == 0.0 {
                return Err("sqrt has no derivative at 0");
            }
            0.5 / y
        }
        Func::Abs | Func::Sign => {
            if x == 0.0 {
                return Err(if f == Func::Abs {
                    "abs has no derivative at 0"
                } else {
                    "sign has no derivative at 0"
                });
            }
            if f == Func::Abs {
                x.signum()
            } else {
                0.0
            }
        }
    })
}

/// A tape recorded from an expression at a point.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The tape itself.
    pub tape: Tape,
    /// The entry holding the expression's value.
    pub output: u32,
    /// The tape entry holding each expression node's value, for naming faults.
    entry_of_node: Vec<u32>,
}

impl Recording {
    /// The expression's value, or why it has none.
    pub fn value(&self, e: &Expr) -> Result<f64, crate::eval::Undefined> {
        match &self.tape.value_fault {
            Some(f) => Err(self.undefined(e, f)),
            None => Ok(self.tape.value(self.output)),
        }
    }

    /// The gradient with respect to every input (in the order the inputs were given to [`record`]), or
    /// why there is none.
    pub fn gradient(&self, e: &Expr) -> Result<Vec<f64>, crate::eval::Undefined> {
        self.tape.gradient(self.output).map_err(|f| self.undefined(e, &f))
    }

    /// The rounding magnitude of each gradient entry (see [`Tape::backward_magnitude`]).
    pub fn gradient_magnitude(&self) -> Vec<f64> {
        match self.tape.backward_magnitude(self.output) {
            Ok(adj) => self
                .tape
                .inputs
                .iter()
                .map(|&i| adj.get(i as usize).copied().unwrap_or(0.0))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn undefined(&self, e: &Expr, f: &Fault) -> crate::eval::Undefined {
        // Operations are appended in node order, so the faulting entry belongs to the
        // first operation node whose value is at or after it.
        let node = e
            .nodes()
            .iter()
            .enumerate()
            .find(|(i, n)| {
                !matches!(n, Node::Num(_) | Node::Var(_) | Node::Const(_))
                    && self.entry_of_node.get(*i).is_some_and(|&t| t >= f.entry)
            })
            .map_or(e.root().index(), |(i, _)| i);
        crate::eval::Undefined {
            reason: f.reason.clone(),
            at: crate::print::print_at(e, Id::from_index(node), 80),
        }
    }
}

/// Records `e` at `at`, with `inputs` as the variables to differentiate by; other
/// variables are constants at their values in `at`. Variables missing from `at` are
/// an error naming them.
pub fn record(e: &Expr, at: &Point, inputs: &[&str]) -> Result<Recording, String> {
    let values = inputs
        .iter()
        .map(|name| {
            at.get(*name)
                .map(|r| r.to_f64().unwrap_or(f64::NAN))
                .ok_or_else(|| format!("no value given for {name}"))
        })
        .collect::<Result<Vec<f64>, String>>()?;
    let mut recording = record_f64(e, inputs, &values, |name| {
        at.get(name).map(|r| r.to_f64().unwrap_or(f64::NAN))
    })?;
    // A coordinate beyond f64 (`1e-400`) is held as 0 though it is not: mark it, and
    // record again so what is computed from it is followed.
    let beyond = |name: &str| at.get(name).filter(|r| !r.is_zero() && r.to_f64() == Some(0.0));
    if at.keys().any(|name| beyond(name).is_some()) {
        let tape = &mut recording.tape;
        for (node, &entry) in e.nodes().iter().zip(&recording.entry_of_node) {
            if let Node::Var(s) = node {
                if let Some(r) = beyond(s.as_str()) {
                    if tape.tiny_at(entry).is_none() {
                        let (log2, signed) = (
                            crate::eval::log2_bound(r),
                            r.is_negative() == tape.value(entry).is_sign_negative(),
                        );
                        tape.mark_tiny(entry, log2, signed);
                    }
                }
            }
        }
        tape.recompute();
    }
    // A domain fault the evaluator finds to be rounding's doing (an operand `f64` put on
    // or past a domain edge its exact value may not be on: `sqrt(cosh(x)^2 - sinh(x)^2 - 1)`
    // at x = 10) is given the evaluator's reason, so that the witness does not call the
    // point outside the domain. Only the reason: the fault still stops the tape, which
    // computes nothing from it.
    if let Some(fault) = recording.tape.value_fault.take() {
        let diagnosed = crate::eval::rounded_edge_diagnosis(e, at, recording.undefined(e, &fault));
        recording.tape.value_fault = Some(Fault {
            reason: diagnosed.reason,
            ..fault
        });
    }
    Ok(recording)
}

/// Records `e` with the inputs at `values` (in the order of `inputs`) and every other
/// variable at `fixed(name)`: the floating-point entry point, for callers that already
/// hold `f64`s (a training loop, a benchmark).
pub fn record_f64(
    e: &Expr,
    inputs: &[&str],
    values: &[f64],
    fixed: impl Fn(&str) -> Option<f64>,
) -> Result<Recording, String> {
    if inputs.len() != values.len() {
        return Err(format!("{} inputs but {} values", inputs.len(), values.len()));
    }
    let mut tape = Tape::new();
    tape.ops.reserve(e.len() * 2);
    tape.vals.reserve(e.len() * 2);
    tape.active.reserve(e.len() * 2);
    // Inputs first, in the order asked, so the gradient comes back in that order.
    let input_entry: Vec<u32> = values.iter().map(|v| tape.input(*v)).collect();
    let input_index: rustc_hash::FxHashMap<&str, usize> = inputs.iter().enumerate().map(|(k, n)| (*n, k)).collect();
    let mut entry: Vec<u32> = Vec::with_capacity(e.len());
    for node in e.nodes() {
        let at_entry = |c: &Id| entry[c.index()];
        let out = match node {
            Node::Num(r) => {
                let value = r.to_f64().unwrap_or(f64::NAN);
                let entry = tape.constant(value);
                if value == 0.0 && !r.is_zero() {
                    let signed = value.is_sign_negative() == r.is_negative();
                    tape.mark_tiny(entry, crate::eval::log2_bound(r), signed);
                }
                entry
            }
            Node::Const(c) => tape.constant(c.value()),
            Node::Var(s) => match input_index.get(s.as_str()).copied() {
                Some(k) => input_entry[k],
                None => {
                    let value = fixed(s.as_str()).ok_or_else(|| format!("no value given for {}", s.as_str()))?;
                    tape.constant(value)
                }
            },
            Node::Add(ts) => {
                let mut acc = at_entry(&ts[0]);
                for t in &ts[1..] {
                    acc = tape.push(Op::Add(acc, at_entry(t)));
                }
                acc
            }
            Node::Mul(fs) => {
                // A coefficient beyond f64's normal range (`6^518/25^518` is 1e-321,
                // a few bits) is taped as normal pieces: one before the other factors
                // and the rest after, so no intermediate product leaves the range
                // early and the coefficient keeps its precision.
                let pieces = crate::eval::extreme_coefficient(e, fs).map(crate::eval::normal_pieces);
                match pieces {
                    Some(pieces) => {
                        let mut acc = tape.constant(pieces[0]);
                        for f in &fs[1..] {
                            acc = tape.push(Op::Mul(acc, at_entry(f)));
                        }
                        for &p in &pieces[1..] {
                            let c = tape.constant(p);
                            acc = tape.push(Op::Mul(acc, c));
                        }
                        acc
                    }
                    None => {
                        let mut acc = at_entry(&fs[0]);
                        for f in &fs[1..] {
                            acc = tape.push(Op::Mul(acc, at_entry(f)));
                        }
                        acc
                    }
                }
            }
            Node::Pow([b, x]) => {
                let integer = e
                    .node(*x)
                    .as_num()
                    .filter(|r| r.denom().is_one())
                    .and_then(|r| r.numer().to_i32());
                match integer {
                    Some(n) => tape.push(Op::Powi(at_entry(b), n)),
                    None => tape.push(Op::Pow(at_entry(b), at_entry(x))),
                }
            }
            Node::Call(f, [a]) => {
                let i = tape.push(Op::Call(*f, at_entry(a)));
                // A pole at a multiple of π (`csc(pi)`), which f64's π misses.
                if matches!(f, Func::Tan | Func::Sec | Func::Csc | Func::Cot) {
                    if let Some(reason) = crate::expr::undefined_number(node, |k| e.node(k)) {
                        tape.check(i, f64::NAN, Some(reason));
                    }
                }
                i
            }
            Node::Log([a, b]) => tape.push(Op::Log(at_entry(a), at_entry(b))),
        };
        entry.push(out);
    }
    let output = entry.last().copied().unwrap_or(0);
    Ok(Recording {
        tape,
        output,
        entry_of_node: entry,
    })
}

/// A tape to build by hand, like micrograd: make variables, combine them with
/// operators and methods, then ask for the gradient.
#[derive(Default)]
pub struct Graph {
    tape: RefCell<Tape>,
}

/// A value recorded on a [`Graph`].
#[derive(Clone, Copy)]
pub struct Var<'g> {
    graph: &'g Graph,
    entry: u32,
}

/// The gradient of one output with respect to every variable of a [`Graph`].
pub struct Gradient {
    adjoints: Vec<f64>,
}

impl Gradient {
    /// The partial derivative with respect to `v`.
    pub fn wrt(&self, v: Var<'_>) -> f64 {
        self.adjoints.get(v.entry as usize).copied().unwrap_or(0.0)
    }
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// A new input variable with this value.
    pub fn var(&self, value: f64) -> Var<'_> {
        let entry = self.tape.borrow_mut().input(value);
        Var { graph: self, entry }
    }

    /// A constant.
    pub fn constant(&self, value: f64) -> Var<'_> {
        let entry = self.tape.borrow_mut().constant(value);
        Var { graph: self, entry }
    }

    fn push(&self, op: Op) -> Var<'_> {
        let entry = self.tape.borrow_mut().push(op);
        Var { graph: self, entry }
    }

    /// The gradient of `output` with respect to every variable, or where it fails.
    pub fn gradient(&self, output: Var<'_>) -> Result<Gradient, Fault> {
        let adjoints = self.tape.borrow().backward(output.entry)?;
        Ok(Gradient { adjoints })
    }
}

impl<'g> Var<'g> {
    /// The recorded value.
    pub fn value(self) -> f64 {
        self.graph.tape.borrow().value(self.entry)
    }
    /// `self ^ other`
    pub fn pow(self, other: Var<'g>) -> Var<'g> {
        self.graph.push(Op::Pow(self.entry, other.entry))
    }
    /// `self ^ n`
    pub fn powi(self, n: i32) -> Var<'g> {
        self.graph.push(Op::Powi(self.entry, n))
    }
    /// `f(self)` for any function of the language.
    pub fn apply(self, f: Func) -> Var<'g> {
        self.graph.push(Op::Call(f, self.entry))
    }
    /// `sin(self)`
    pub fn sin(self) -> Var<'g> {
        self.apply(Func::Sin)
    }
    /// `cos(self)`
    pub fn cos(self) -> Var<'g> {
        self.apply(Func::Cos)
    }
    /// `exp(self)`
    pub fn exp(self) -> Var<'g> {
        self.apply(Func::Exp)
    }
    /// `ln(self)`
    pub fn ln(self) -> Var<'g> {
        self.apply(Func::Ln)
    }
    /// `tanh(self)`
    pub fn tanh(self) -> Var<'g> {
        self.apply(Func::Tanh)
    }
    /// `sqrt(self)`
    pub fn sqrt(self) -> Var<'g> {
        self.apply(Func::Sqrt)
    }
}

macro_rules! binary {
    ($trait:ident, $method:ident, $op:ident) => {
        impl<'g> std::ops::$trait for Var<'g> {
            type Output = Var<'g>;
            fn $method(self, rhs: Var<'g>) -> Var<'g> {
                self.graph.push(Op::$op(self.entry, rhs.entry))
            }
        }
        impl<'g> std::ops::$trait<f64> for Var<'g> {
            type Output = Var<'g>;
            fn $method(self, rhs: f64) -> Var<'g> {
                let c = self.graph.constant(rhs);
                self.graph.push(Op::$op(self.entry, c.entry))
            }
        }
    };
}
binary!(Add, add, Add);
binary!(Sub, sub, Sub);
binary!(Mul, mul, Mul);
binary!(Div, div, Div);

impl<'g> std::ops::Neg for Var<'g> {
    type Output = Var<'g>;
    fn neg(self) -> Var<'g> {
        self.graph.push(Op::Neg(self.entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::point;
    use crate::parse;

    fn grad(f: &str, x: &str) -> Result<f64, String> {
        let e = parse(f).unwrap();
        let r = record(&e, &point(&[("x", x)]).unwrap(), &["x"])?;
        r.gradient(&e).map(|g| g[0]).map_err(|u| u.reason)
    }

    #[test]
    fn a_negative_base_to_a_whole_number_past_2_to_the_53_is_undefined() {
        // Every f64 from 2^53 on is even: the tape cannot know the sign of
        // (-x)^(3^40) (odd), and says so rather than give it the sign of an even power.
        assert_eq!(grad("(-x)^(3^40)", "1"), Err(PARITY_UNKNOWN.to_string()));
        assert_eq!(grad("x^(3^625)", "-1"), Err(PARITY_UNKNOWN.to_string()));
        let e = parse("(-x)^(3^40)*x^2").unwrap();
        let at = point(&[("x", "1")]).unwrap();
        assert_eq!(
            second_derivative(&e, &at, "x", "x").map_err(|u| u.reason),
            Err(PARITY_UNKNOWN.to_string())
        );
        // Below 2^53 the parity is exact: (-1)^(2^40 + 1) is -1.
        assert_eq!(grad("x^(2^40 + 1)", "-1"), Ok(1_099_511_627_777.0));
        // And a positive base has no sign to lose.
        assert_eq!(grad("x^(3^40)", "1"), Ok(12_157_665_459_056_928_801.0));
    }

    #[test]
    fn a_fault_rounding_may_have_caused_gets_the_evaluator_s_reason() {
        // cosh(x)^2 - sinh(x)^2 - 1 is 0, and -1.5e-8 in f64 at x = 10: the tape cannot
        // take the root, and does not call the point outside the domain either.
        let at = crate::eval::point(&[("x", "10")]).unwrap();
        let e = parse("x + sqrt(cosh(x)^2 - sinh(x)^2 - 1)").unwrap();
        let tape = record(&e, &at, &["x"]).unwrap();
        let u = tape.value(&e).unwrap_err();
        assert_eq!(u.reason, crate::eval::ROUNDED_PAST_EDGE);
        assert_eq!(tape.gradient(&e).unwrap_err().reason, crate::eval::ROUNDED_PAST_EDGE);
        let hyper = second_derivative(&e, &at, "x", "x").unwrap_err();
        assert_eq!(hyper.reason, crate::eval::ROUNDED_PAST_EDGE);
        // And on the edge: tanh(pi^3) is 1 in f64, less than 1 in truth.
        let e = parse("x/ln(1/tanh(pi^3)^4)").unwrap();
        let tape = record(&e, &at, &["x"]).unwrap();
        assert_eq!(tape.value(&e).unwrap_err().reason, crate::eval::ROUNDED_EDGE);
        // A fault that is no rounding's doing keeps its reason.
        let e = parse("sqrt(x - 12)").unwrap();
        let tape = record(&e, &at, &["x"]).unwrap();
        assert_eq!(tape.value(&e).unwrap_err().reason, "sqrt of a negative number");
        let hyper = second_derivative(&e, &at, "x", "x").unwrap_err();
        assert_eq!(hyper.reason, "sqrt of a negative number");
    }

    #[test]
    fn a_tiny_value_is_followed_through_the_tape() {
        let underflow = crate::eval::UNDERFLOW;
        // exp(-784) is 0 in f64, but x^200 times it is 8.8e-52 at 28: lost, not 0.
        assert_eq!(grad("x^200*exp(-x^2)", "28"), Err(underflow.to_string()));
        // Where the derivative itself is below f64's range, 0 is right.
        assert_eq!(grad("x*exp(-x^2)", "40"), Ok(0.0));
        // A coordinate beyond f64: the root of 1e-400 is 1e-200, its slope 5e199.
        assert_eq!(grad("sqrt(x)", "1e-400"), Err(underflow.to_string()));
        assert_eq!(grad("x^3", "1e-400"), Ok(0.0));
        // By hand: a replay with new inputs forgets the old inputs' marks.
        let g = Graph::new();
        let x = g.var(-800.0);
        let y = (x.exp() * float::powi(2.0, 1000)).sqrt();
        assert_eq!(
            g.gradient(y).map(|_| ()).map_err(|f| f.reason),
            Err(underflow.to_string())
        );
        let mut tape = g.tape.borrow().clone();
        tape.replay(&[-10.0]);
        assert!(tape.value_fault.is_none());
        assert!((tape.value(y.entry) - float::exp(-5f64) * float::powi(2f64, 500)).abs() < 1e-3 * tape.value(y.entry));
    }

    #[test]
    fn seed_gradient() {
        assert_eq!(grad("5*x**4 + 3*x**3 + 7*x**2 + 9*x - 5", "2"), Ok(233.0));
    }

    #[test]
    fn coefficients_beyond_the_normal_range_keep_their_precision() {
        // (6/25)^518 is 1e-321 in f64, with a few bits: taped in normal pieces.
        // Reference value from mpmath at 50 digits.
        let g = grad("(-6*pi/(25*x))^518*exp(x)", "-0.76").unwrap();
        let want = 5.196_435_532_769_427;
        assert!((g - want).abs() <= 1e-12 * want, "{g}");
        // The hyper-dual evaluation likewise (mpmath: 3553.8048941682884).
        let e = parse("(-6*pi/(25*x))^518*exp(x)").unwrap();
        let d2 = second_derivative(&e, &point(&[("x", "-0.76")]).unwrap(), "x", "x").unwrap();
        assert!((d2 - 3_553.804_894_168_288).abs() <= 1e-11 * d2, "{d2}");
        for r in ["6^518/25^518", "-10^400/3", "1/7^400", "3/2^1070"] {
            let r = parse(r).unwrap().as_num().cloned().unwrap();
            let pieces = crate::eval::normal_pieces(&r);
            assert!(pieces.iter().all(|p| p.is_normal()), "{r}: {pieces:?}");
            // The pieces' product has the rational's size (bit lengths agree to one).
            let log2: f64 = pieces.iter().map(|p| float::log2(p.abs())).sum();
            let want = r.numer().bits() as f64 - r.denom().bits() as f64;
            assert!((log2 - want).abs() <= 1.0, "{r}: {log2} vs about {want}");
            assert_eq!(
                pieces[0].is_sign_negative(),
                r.numer().sign() == num_bigint::Sign::Minus
            );
        }
    }

    #[test]
    fn every_function_against_central_differences() {
        let h = 1e-6;
        for f in Func::ALL {
            if *f == Func::Sign {
                continue;
            }
            let x = if *f == Func::Acosh { 1.7 } else { 0.3 };
            let (fx, _) = call(*f, x);
            let (fp, _) = call(*f, x + h);
            let (fm, _) = call(*f, x - h);
            let numeric = (fp - fm) / (2.0 * h);
            let local = local_derivative(*f, x, fx).unwrap();
            assert!(
                (numeric - local).abs() < 1e-6 * (1.0 + local.abs()),
                "{}: {local} vs {numeric}",
                f.name()
            );
        }
    }

    #[test]
    fn nondifferentiable_points_are_faults() {
        assert_eq!(grad("abs(x)", "0"), Err("abs has no derivative at 0".into()));
        assert_eq!(grad("sqrt(x)", "0"), Err("sqrt has no derivative at 0".into()));
        assert_eq!(grad("ln(x)", "0"), Err("ln of a non-positive number".into()));
        assert_eq!(grad("abs(x)", "-2"), Ok(-1.0));
    }

    #[test]
    fn variable_exponent() {
        let g = grad("x^x", "2").unwrap();
        assert!((g - 4.0 * (float::ln(2f64) + 1.0)).abs() < 1e-12);
    }

    #[test]
    fn graph_api() {
        let g = Graph::new();
        let x = g.var(0.5);
        let y = (x * x).tanh() / x - 3.0;
        let grad = g.gradient(y).unwrap();
        let t = float::tanh(0.25f64);
        let expected = (1.0 - t * t) * 2.0 * 0.5 / 0.5 - t / 0.25;
        assert!((grad.wrt(x) - expected).abs() < 1e-12);
    }
}

/// A hyper-dual number `re + e1·ε₁ + e2·ε₂ + e12·ε₁ε₂` with `ε₁² = ε₂² = 0`: evaluating
/// an expression on these gives a second partial derivative exactly (no step size), in
/// `e12`. The second derivatives of each function are written out here, like the first
/// ones: this is the independent witness for second-order derivatives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HyperDual {
    /// The value.
    pub re: f64,
    /// The derivative along the first direction.
    pub e1: f64,
    /// The derivative along the second direction.
    pub e2: f64,
    /// The mixed second derivative.
    pub e12: f64,
}

impl HyperDual {
    /// A constant.
    pub fn constant(re: f64) -> HyperDual {
        HyperDual {
            re,
            e1: 0.0,
            e2: 0.0,
            e12: 0.0,
        }
    }

    /// `g(self)`, given g, g′ and g″ at `self.re`.
    fn chain(self, g: f64, g1: f64, g2: f64) -> HyperDual {
        HyperDual {
            re: g,
            e1: g1 * self.e1,
            e2: g1 * self.e2,
            e12: g1 * self.e12 + g2 * self.e1 * self.e2,
        }
    }

    /// `ln(self)` for a positive value, written so that it holds for huge values: with
    /// ln″(t) = -1/t², `g2 * e1 * e2` would lose `-(e1/t)*(e2/t)` to an overflow of `t*t`
    /// at t = 1e155 (`log(pi^(x^7), x)` at x = 2.27), while each ratio is moderate.
    fn ln(self) -> HyperDual {
        let t = self.re;
        let (a, b) = (self.e1 / t, self.e2 / t);
        HyperDual {
            re: float::ln(t),
            e1: a,
            e2: b,
            e12: self.e12 / t - a * b,
        }
    }

    /// `self^n` for a constant `n` and a nonzero value, in ratios for the same reason as
    /// [`HyperDual::ln`]: `n(n-1)u^(n-2)*e1*e2` overflows or underflows in parts
    /// (`sqrt(x^1296)` at x = 1.45) while `n(n-1)*u^n*(e1/u)*(e2/u)` does not.
    fn powf(self, n: f64) -> HyperDual {
        let u = self.re;
        let g = float::powf(u, n);
        let (a, b) = (self.e1 / u, self.e2 / u);
        HyperDual {
            re: g,
            e1: n * g * a,
            e2: n * g * b,
            e12: n * g * (self.e12 / u) + n * (n - 1.0) * g * a * b,
        }
    }

    fn add(self, o: HyperDual) -> HyperDual {
        HyperDual {
            re: self.re + o.re,
            e1: self.e1 + o.e1,
            e2: self.e2 + o.e2,
            e12: self.e12 + o.e12,
        }
    }

    fn mul(self, o: HyperDual) -> HyperDual {
        HyperDual {
            re: self.re * o.re,
            e1: self.re * o.e1 + self.e1 * o.re,
            e2: self.re * o.e2 + self.e2 * o.re,
            e12: self.re * o.e12 + self.e1 * o.e2 + self.e2 * o.e1 + self.e12 * o.re,
        }
    }

    /// Each part's absolute value.
    fn abs(self) -> HyperDual {
        HyperDual {
            re: self.re.abs(),
            e1: self.e1.abs(),
            e2: self.e2.abs(),
            e12: self.e12.abs(),
        }
    }

    /// Each part the larger of the two.
    fn max(self, o: HyperDual) -> HyperDual {
        HyperDual {
            re: self.re.max(o.re),
            e1: self.e1.max(o.e1),
            e2: self.e2.max(o.e2),
            e12: self.e12.max(o.e12),
        }
    }

    /// [`HyperDual::chain`] on rounding magnitudes: every term taken by its size.
    fn chain_magnitude(self, g: f64, g1: f64, g2: f64) -> HyperDual {
        HyperDual {
            re: g.abs(),
            e1: g1.abs() * self.e1,
            e2: g1.abs() * self.e2,
            e12: g1.abs() * self.e12 + g2.abs() * self.e1 * self.e2,
        }
    }
}

/// f(x), f′(x), f″(x) for each function, or why there is no second derivative.
fn second_order(f: Func, x: f64) -> Result<(f64, f64, f64), &'static str> {
    let (y, bad) = call(f, x);
    if let Some(b) = bad {
        return Err(b);
    }
    let y1 = local_derivative(f, x, y)?;
    let y2 = match f {
        Func::Sin => -float::sin(x),
        Func::Cos => -float::cos(x),
        Func::Tan => 2.0 * y * (1.0 + y * y),
        Func::Sec => y * (float::powi(float::tan(x), 2) + y * y),
        Func::Csc => {
            let cot = float::cos(x) / float::sin(x);
            y * (cot * cot + y * y)
        }
        Func::Cot => 2.0 * (1.0 + y * y) * y,
        Func::Asin => x / float::powf(1.0 - x * x, 1.5),
        Func::Acos => -x / float::powf(1.0 - x * x, 1.5),
        Func::Atan => -2.0 * x / float::powi(1.0 + x * x, 2),
        Func::Sinh => float::sinh(x),
        Func::Cosh => float::cosh(x),
        Func::Tanh => -2.0 * y * (1.0 - y * y),
        Func::Asinh => -x / float::powf(x * x + 1.0, 1.5),
        Func::Acosh => -x / float::powf(x * x - 1.0, 1.5),
        Func::Atanh => 2.0 * x / float::powi(1.0 - x * x, 2),
        Func::Exp => y,
        Func::Ln => -1.0 / (x * x),
        Func::Sqrt => -0.25 / (x * y),
        Func::Abs | Func::Sign => 0.0,
    };
    Ok((y, y1, y2))
}

/// f‴(x) for each function, given y = f(x): how fast f″ moves, for the rounding
/// magnitude of a second derivative whose argument carries an error.
fn third_order(f: Func, x: f64, y: f64) -> f64 {
    match f {
        Func::Sin => -float::cos(x),
        Func::Cos => float::sin(x),
        Func::Tan => 2.0 * (1.0 + y * y) * (1.0 + 3.0 * y * y),
        Func::Sec => {
            let t = float::tan(x);
            y * t * (t * t + 5.0 * y * y)
        }
        Func::Csc => {
            let cot = float::cos(x) / float::sin(x);
            -y * cot * (cot * cot + 5.0 * y * y)
        }
        Func::Cot => -2.0 * (1.0 + y * y) * (1.0 + 3.0 * y * y),
        Func::Asin => (1.0 + 2.0 * x * x) / float::powf(1.0 - x * x, 2.5),
        Func::Acos => -(1.0 + 2.0 * x * x) / float::powf(1.0 - x * x, 2.5),
        Func::Atan => (6.0 * x * x - 2.0) / float::powi(1.0 + x * x, 3),
        Func::Sinh => float::cosh(x),
        Func::Cosh => float::sinh(x),
        Func::Tanh => (1.0 - y * y) * (6.0 * y * y - 2.0),
        Func::Asinh => (2.0 * x * x - 1.0) / float::powf(x * x + 1.0, 2.5),
        Func::Acosh => (2.0 * x * x + 1.0) / float::powf(x * x - 1.0, 2.5),
        Func::Atanh => (2.0 + 6.0 * x * x) / float::powi(1.0 - x * x, 3),
        Func::Exp => y,
        Func::Ln => 2.0 / (x * x * x),
        Func::Sqrt => 0.375 / (x * x * y),
        Func::Abs | Func::Sign => 0.0,
    }
}

/// The rounding magnitude of `g(u)` for a hyper-dual `u` of magnitude `m` whose value
/// carries the error `err` (in units of rounding): [`HyperDual::chain_magnitude`], plus
/// what that error moves g′ and g″ by (`g2`·err and `g3`·err) times `u`'s parts (its
/// values', not its magnitude's: the error is first order).
fn chain_magnitude_with_error(m: HyperDual, u: HyperDual, err: f64, g: [f64; 4]) -> HyperDual {
    let [g0, g1, g2, g3] = g;
    let mut out = m.chain_magnitude(g0, g1, g2);
    let (d1, d2) = ((g2 * err).abs(), (g3 * err).abs());
    // An infinite bound (a derivative infinite at the point) says nothing useful.
    if d1.is_finite() && d2.is_finite() {
        out.e1 += d1 * u.e1.abs();
        out.e2 += d1 * u.e2.abs();
        out.e12 += d1 * u.e12.abs() + d2 * (u.e1 * u.e2).abs();
    }
    out
}

/// `m` plus what an error `err` (in units of rounding) in a factor's value moves a
/// product's derivative parts by: `err` times the other factors' product `others`
/// (∂(a·b).e1/∂a.re is b.e1, and so on).
fn with_factor_error(mut m: HyperDual, err: f64, others: HyperDual) -> HyperDual {
    let parts = [others.e1 * err, others.e2 * err, others.e12 * err];
    if parts.iter().all(|p| p.is_finite()) {
        m.e1 += parts[0].abs();
        m.e2 += parts[1].abs();
        m.e12 += parts[2].abs();
    }
    m
}

/// The rounding error of a number as `f64`, in units of rounding: none when it is
/// exactly representable (an integer, a binary fraction), else its size.
fn representation_error(r: &crate::Rational, x: f64) -> f64 {
    if crate::Rational::from_float(x).is_some_and(|exact| &exact == r) {
        0.0
    } else {
        x.abs()
    }
}

/// ∂²e/∂`xi`∂`xj` at `at`, by hyper-dual evaluation (independent of [`crate::diff`](fn@crate::diff)).
pub fn second_derivative(e: &Expr, at: &Point, xi: &str, xj: &str) -> Result<f64, crate::eval::Undefined> {
    second_derivative_with_magnitude(e, at, xi, xj).map(|(d, _)| d)
}

/// [`second_derivative`] and its rounding magnitude: the same evaluation with every
/// sum and product taken term by term in absolute value (as the tape's magnitude sweep
/// does for first derivatives), so a second derivative that is a cancellation of large
/// terms (`log(x, x)`, exactly 1) is told from a wrong one.
///
/// Like the tape's, the sweep also carries a first-order bound on each value's own
/// error forward (in units of rounding) and adds to the magnitude what that error moves
/// each local derivative by: after a cancellation (`ln(exp(0.24^25))`, whose f64 value
/// is 2.2e-16 for 3.2e-16) the derivatives built on that value are mostly error, and
/// the magnitude says so.
pub fn second_derivative_with_magnitude(
    e: &Expr,
    at: &Point,
    xi: &str,
    xj: &str,
) -> Result<(f64, f64), crate::eval::Undefined> {
    // A domain fault the evaluator finds to be rounding's doing is given its reason, as
    // on the tape ([`record`]).
    hyper_dual_with_magnitude(e, at, xi, xj).map_err(|u| crate::eval::rounded_edge_diagnosis(e, at, u))
}

/// [`second_derivative_with_magnitude`] before its faults are diagnosed.
fn hyper_dual_with_magnitude(e: &Expr, at: &Point, xi: &str, xj: &str) -> Result<(f64, f64), crate::eval::Undefined> {
    let mut vals: Vec<HyperDual> = Vec::with_capacity(e.len());
    let mut mags: Vec<HyperDual> = Vec::with_capacity(e.len());
    // Each value's error bound, in units of rounding (the error is about EPSILON times it).
    let mut errs: Vec<f64> = Vec::with_capacity(e.len());
    let undefined = |id: usize, reason: &str| crate::eval::Undefined {
        reason: reason.to_string(),
        at: crate::print::print_at(e, Id::from_index(id), 80),
    };
    for (i, node) in e.nodes().iter().enumerate() {
        let v = |c: &Id| vals[c.index()];
        let m = |c: &Id| mags[c.index()];
        let err = |c: &Id| errs[c.index()];
        let mut magnitude = HyperDual::constant(0.0);
        // This value's error: carried in from its operands, and its own rounding.
        let mut value_error = 0.0;
        let h = match node {
            Node::Num(r) => {
                let x = r.to_f64().unwrap_or(f64::NAN);
                value_error = representation_error(r, x);
                HyperDual::constant(x)
            }
            Node::Const(c) => {
                value_error = c.value().abs();
                HyperDual::constant(c.value())
            }
            Node::Var(s) => {
                let r = at.get(s.as_str()).ok_or_else(|| undefined(i, "no value given"))?;
                let x = r.to_f64().unwrap_or(f64::NAN);
                value_error = representation_error(r, x);
                let mut h = HyperDual::constant(x);
                if s.as_str() == xi {
                    h.e1 = 1.0;
                }
                if s.as_str() == xj {
                    h.e2 = 1.0;
                }
                h
            }
            Node::Add(ts) => {
                magnitude = ts.iter().map(m).fold(HyperDual::constant(0.0), HyperDual::add);
                // Each partial sum rounds, by at most the terms' sizes in all.
                value_error = ts.iter().map(|t| err(t) + v(t).re.abs()).sum::<f64>();
                ts.iter().map(v).fold(HyperDual::constant(0.0), HyperDual::add)
            }
            Node::Mul(fs) => {
                magnitude = fs.iter().map(m).fold(HyperDual::constant(1.0), HyperDual::mul);
                // A coefficient beyond f64's normal range in normal pieces, as `record`
                // tapes it: one before the other factors and the rest after.
                let pieces = crate::eval::extreme_coefficient(e, fs).map(crate::eval::normal_pieces);
                let product = match pieces {
                    Some(pieces) => {
                        let inner = fs[1..]
                            .iter()
                            .map(v)
                            .fold(HyperDual::constant(pieces[0]), HyperDual::mul);
                        pieces[1..]
                            .iter()
                            .map(|&p| HyperDual::constant(p))
                            .fold(inner, HyperDual::mul)
                    }
                    None => fs.iter().map(v).fold(HyperDual::constant(1.0), HyperDual::mul),
                };
                // A factor's error moves the product by the other factors' product.
                for (k, f) in fs.iter().enumerate() {
                    if err(f) == 0.0 {
                        continue;
                    }
                    let others = fs
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != k)
                        .map(|(_, g)| v(g))
                        .fold(HyperDual::constant(1.0), HyperDual::mul);
                    magnitude = with_factor_error(magnitude, err(f), others);
                    value_error += err(f) * others.re.abs();
                }
                value_error += product.re.abs() * fs.len().saturating_sub(1) as f64;
                product
            }
            Node::Pow([b, x]) => {
                let (base, ex) = (v(b), v(x));
                if ex.e1 == 0.0 && ex.e2 == 0.0 && ex.e12 == 0.0 {
                    // A constant exponent: g(u) = u^n, g' = n u^(n-1), g'' = n (n-1) u^(n-2).
                    let n = ex.re;
                    let u = base.re;
                    if u == 0.0 && n < 2.0 && n != 0.0 && n != 1.0 {
                        return Err(undefined(i, "no second derivative of a power at base 0"));
                    }
                    if u < 0.0 && n.fract() != 0.0 {
                        return Err(undefined(i, "a negative base to a fractional power"));
                    }
                    if u < 0.0 && n.abs() >= WHOLE_BEYOND_PARITY {
                        return Err(undefined(i, PARITY_UNKNOWN));
                    }
                    let (g, g1, g2) = (
                        float::powf(u, n),
                        n * float::powf(u, n - 1.0),
                        n * (n - 1.0) * float::powf(u, n - 2.0),
                    );
                    let g3 = n * (n - 1.0) * (n - 2.0) * float::powf(u, n - 3.0);
                    magnitude = chain_magnitude_with_error(m(b), base, err(b), [g, g1, g2, g3]);
                    // The exponent's own error moves the power by g*ln|u| per unit.
                    value_error = (g1 * err(b)).abs() + (g * float::ln(u.abs()) * err(x)).abs() + g.abs();
                    if u == 0.0 {
                        base.chain(g, g1, g2)
                    } else {
                        base.powf(n)
                    }
                } else {
                    // u^w = exp(w ln u), for u > 0.
                    if base.re <= 0.0 {
                        return Err(undefined(i, "a varying exponent needs a positive base"));
                    }
                    let (l, l1, l2) = (float::ln(base.re), 1.0 / base.re, -1.0 / (base.re * base.re));
                    let l3 = 2.0 / (base.re * base.re * base.re);
                    let ln = base.ln();
                    let w = ex.mul(ln);
                    let ew = float::exp(w.re);
                    let ln_error = (l1 * err(b)).abs() + l.abs();
                    let m_ln = chain_magnitude_with_error(m(b), base, err(b), [l, l1, l2, l3]);
                    let mw = with_factor_error(with_factor_error(m(x).mul(m_ln), err(x), ln), ln_error, ex);
                    let w_error = ex.re.abs() * ln_error + l.abs() * err(x) + w.re.abs();
                    magnitude = chain_magnitude_with_error(mw, w, w_error, [ew, ew, ew, ew]);
                    value_error = ew * w_error + ew;
                    w.chain(ew, ew, ew)
                }
            }
            Node::Call(f, [a]) => {
                let x = v(a);
                let (y, y1, y2) = second_order(*f, x.re).map_err(|r| undefined(i, r))?;
                let y3 = third_order(*f, x.re, y);
                magnitude = chain_magnitude_with_error(m(a), x, err(a), [y, y1, y2, y3]);
                value_error = (y1 * err(a)).abs() + y.abs();
                match f {
                    Func::Ln => x.ln(),
                    Func::Sqrt if x.re > 0.0 => x.powf(0.5),
                    _ => x.chain(y, y1, y2),
                }
            }
            Node::Log([a, b]) => {
                let (x, base) = (v(a), v(b));
                if x.re <= 0.0 || base.re <= 0.0 || base.re == 1.0 {
                    return Err(undefined(i, "log of a non-positive number or to base 1"));
                }
                let ln_parts = |t: f64| (float::ln(t), 1.0 / t, -1.0 / (t * t), 2.0 / (t * t * t));
                let (ax, bx) = (ln_parts(x.re), ln_parts(base.re));
                let lx = x.ln();
                let lb = base.ln();
                // 1/lb by the chain rule of t -> 1/t.
                let r = (1.0 / lb.re, -1.0 / (lb.re * lb.re), 2.0 / (lb.re * lb.re * lb.re));
                let r3 = -6.0 / (lb.re * lb.re * lb.re * lb.re);
                let inv = lb.chain(r.0, r.1, r.2);
                let lx_error = (ax.1 * err(a)).abs() + ax.0.abs();
                let lb_error = (bx.1 * err(b)).abs() + bx.0.abs();
                let inv_error = (r.1 * lb_error).abs() + r.0.abs();
                let mlx = chain_magnitude_with_error(m(a), x, err(a), [ax.0, ax.1, ax.2, ax.3]);
                let mlb = chain_magnitude_with_error(m(b), base, err(b), [bx.0, bx.1, bx.2, bx.3]);
                let minv = chain_magnitude_with_error(mlb, lb, lb_error, [r.0, r.1, r.2, r3]);
                magnitude = with_factor_error(with_factor_error(mlx.mul(minv), lx_error, inv), inv_error, lx);
                value_error = inv.re.abs() * lx_error + lx.re.abs() * inv_error + (lx.re * inv.re).abs();
                lx.mul(inv)
            }
        };
        if !h.re.is_finite() || !h.e12.is_finite() {
            return Err(undefined(i, "not a finite real number"));
        }
        // A bound that is not finite (a derivative infinite at the point) says nothing.
        errs.push(if value_error.is_finite() {
            value_error
        } else {
            h.re.abs()
        });
        vals.push(h);
        mags.push(magnitude.max(h.abs()));
    }
    match (vals.pop(), mags.pop()) {
        (Some(h), Some(m)) => Ok((h.e12, m.e12)),
        _ => Err(undefined(0, "empty expression")),
    }
}

#[cfg(test)]
mod hyper_dual_tests {
    use super::*;
    use crate::eval::point;
    use crate::parse;

    #[test]
    fn second_derivatives_of_every_function() {
        // Against central second differences of the function values.
        let h = 1e-4;
        for f in Func::ALL {
            if matches!(f, Func::Sign | Func::Abs) {
                continue;
            }
            let x = if *f == Func::Acosh { 1.7 } else { 0.3 };
            let (_, _, y2) = second_order(*f, x).unwrap();
            let g = |t: f64| call(*f, t).0;
            let numeric = (g(x + h) - 2.0 * g(x) + g(x - h)) / (h * h);
            assert!(
                (numeric - y2).abs() < 1e-5 * (1.0 + y2.abs()),
                "{}: {y2} vs {numeric}",
                f.name()
            );
        }
    }

    #[test]
    fn logarithms_and_roots_of_huge_values_keep_their_second_derivative() {
        // pi^(x^7) is 2.6e154 at x = 2.27: squaring it overflows, and ln's -1/t^2
        // term was lost. Reference values from mpmath (40 digits), rounded.
        for (src, x, want) in [
            ("log(pi^(x^7), x)", "2.27", 2450.745047668844),
            ("ln(pi^(x^7))", "2.27", 2897.888007475536),
            // The same for sqrt and powers of 1e209 (x^1296 at x = 1.45).
            ("sqrt(x^1296)", "1.45", 7.348669745855805e109),
        ] {
            let at = point(&[("x", x)]).unwrap();
            let (d, _) = second_derivative_with_magnitude(&parse(src).unwrap(), &at, "x", "x").unwrap();
            assert!((d - want).abs() <= 1e-9 * want, "{src}: {d} vs {want}");
        }
    }

    #[test]
    fn third_derivatives_of_every_function() {
        // Against central differences of the second derivatives written out above.
        let h = 1e-5;
        for f in Func::ALL {
            if matches!(f, Func::Sign | Func::Abs) {
                continue;
            }
            let x = if *f == Func::Acosh { 1.7 } else { 0.3 };
            let y = call(*f, x).0;
            let y3 = third_order(*f, x, y);
            let g2 = |t: f64| second_order(*f, t).map(|(_, _, y2)| y2).unwrap();
            let numeric = (g2(x + h) - g2(x - h)) / (2.0 * h);
            assert!(
                (numeric - y3).abs() < 1e-5 * (1.0 + y3.abs()),
                "{}: {y3} vs {numeric}",
                f.name()
            );
        }
    }

    #[test]
    fn mixed_partials() {
        let e = parse("x^3*y^2 + sin(x*y)").unwrap();
        let at = point(&[("x", "0.5"), ("y", "2")]).unwrap();
        let want = 6.0 * 0.25 * 2.0 + float::cos(1.0f64) - 1.0 * float::sin(1.0f64);
        assert!((second_derivative(&e, &at, "x", "y").unwrap() - want).abs() < 1e-12);
        let xx = second_derivative(&e, &at, "x", "x").unwrap();
        assert!((xx - (6.0 * 0.5 * 4.0 - 4.0 * float::sin(1.0f64))).abs() < 1e-12);
    }
}
