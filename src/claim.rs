//! Verifying a hand-derived derivative: proved, refuted with a witness, or unknown.
//!
//! Behaviour of [`check_claim`]:
//! - The claim is first compared with the derivative at seeded points inside both
//!   domains (32 by default, inside the sampling box). A point where both are defined and
//!   they differ refutes the claim: the verdict is `not_equivalent`, with that witness,
//!   both values (exact where rational) and the residual `claim - derivative` simplified.
//!   Sampling first means no proof can ever overrule a counterexample.
//! - Otherwise the claim is proved if it can be: by normal forms (the residual
//!   `claim - derivative` normalises to 0, also with `sinh`, `cosh` and `tanh` written
//!   in exponentials: [`hyperbolic_in_exponentials`], or with `tan`, `sec`, `csc`, `cot`
//!   and `tanh` over sines and cosines: [`quotients_in_sines_and_cosines`], or with the
//!   roots in each product merged and every rational part expanded, so that `sqrt(x)*sqrt(x + 1)` meets
//!   `sqrt(x^2 + x)` and `exp(x*(x + 2))` meets `exp(x^2 + 2*x)`: [`roots_merged`],
//!   [`crate::cancel::parts_expanded`]), or by equality saturation with explanations,
//!   which gives the chain of rewrites, one rule per step. The conditions the rules rely
//!   on (a cancelled factor is not zero, …) are listed.
//! - With no proof within budget, the residual `claim - derivative`, simplified, is
//!   evaluated at the points where the sides agreed within the tolerance but not
//!   exactly: where it stands far above its own rounding error, the sides differ there
//!   and the claim is `not_equivalent` after all (`2*x + 1e-13*sin(x)` against `2*x`).
//! - Otherwise agreement at every sampled point is reported as numeric evidence, not
//!   proof, with how many points were tried, agreed and skipped.
//! - With no sampled point where both sides are defined and no proof: `unknown`, with why.
//!
//! ```
//! use dydx::{parse, claim::{check_claim, ClaimOptions, Verdict, Method}};
//! let f = parse("x^2*sin(x)").unwrap();
//! let right = check_claim(&f, &parse("x^2*cos(x) + 2*x*sin(x)").unwrap(), &["x"], &ClaimOptions::default());
//! assert_eq!((right.verdict, right.method), (Verdict::Equivalent, Some(Method::Proof)));
//! let wrong = check_claim(&f, &parse("2*x*cos(x)").unwrap(), &["x"], &ClaimOptions::default());
//! assert_eq!(wrong.verdict, Verdict::NotEquivalent);
//! assert!(wrong.witness.is_some());
//! ```

use crate::check::{compare_with_rounding, seeded_box_point, value_at, Status, Tolerance, Within};
use crate::eval::{eval_f64, magnitude, Point};
use crate::expr::{Builder, Expr, Rational};
use crate::lang::{from_rec_expr, to_rec_expr};
use crate::simplify::{simplify_at, step_form, Budget, ConstantFold, Level};
use egg::Runner;
use std::collections::BTreeMap;

/// Options for [`check_claim`].
#[derive(Clone, Debug)]
pub struct ClaimOptions {
    /// How close two values must be to agree.
    pub tolerance: Tolerance,
    /// How many seeded points to try.
    pub points: usize,
    /// The sampling box per variable; variables not listed use [-3, 3].
    pub domain: BTreeMap<String, (Rational, Rational)>,
    /// The e-graph budget for the proof.
    pub budget: Budget,
    /// The input as written ([`crate::parse::parse_verbatim`]), whose domain sampled
    /// points must lie in: `sqrt(x)^2` reads as `x`, but is defined only for x >= 0.
    /// `None`: the domain of the expression checked.
    pub written: Option<Expr>,
}

impl Default for ClaimOptions {
    fn default() -> ClaimOptions {
        ClaimOptions {
            tolerance: Tolerance::default(),
            points: 32,
            domain: BTreeMap::new(),
            budget: Budget::for_proofs(),
            written: None,
        }
    }
}

/// The verdict on a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Equal wherever both are defined (in the sampling box).
    Equivalent,
    /// Different somewhere inside the derivative's domain.
    NotEquivalent,
    /// Neither a proof nor a point decided.
    Unknown,
}

impl Verdict {
    /// `equivalent`, `not_equivalent` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Equivalent => "equivalent",
            Verdict::NotEquivalent => "not_equivalent",
            Verdict::Unknown => "unknown",
        }
    }
}

/// How an `equivalent` verdict was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// A chain of sound rewrites.
    Proof,
    /// Agreement at every sampled point: evidence, not proof.
    Numeric,
}

impl Method {
    /// `proof` or `numeric`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Proof => "proof",
            Method::Numeric => "numeric",
        }
    }
}

/// The steps a person needs: those whose printed term differs from the step before
/// (a reordering, re-association or folded constant prints the same and is dropped).
pub fn readable_steps(steps: &[ProofStep]) -> Vec<&ProofStep> {
    let mut out: Vec<&ProofStep> = Vec::new();
    for s in steps {
        if out.last().is_none_or(|last| last.term != s.term) {
            out.push(s);
        }
    }
    out
}

/// One step of a proof: the rule applied and the term after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofStep {
    /// The rule's name (`normal-form` for the canonicalisation steps).
    pub rule: String,
    /// The whole term after the step, in the input syntax.
    pub term: String,
}

/// A point where the claim and the derivative differ.
#[derive(Clone, Debug, PartialEq)]
pub struct Witness {
    /// The point.
    pub at: Point,
    /// The derivative's value there.
    pub derivative: f64,
    /// Its exact value, when rational.
    pub derivative_exact: Option<Rational>,
    /// The claim's value there.
    pub claim: f64,
    /// Its exact value, when rational.
    pub claim_exact: Option<Rational>,
}

/// Counts from sampling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Points {
    /// Points tried.
    pub tried: usize,
    /// Points where both sides agreed.
    pub agreed: usize,
    /// Points where a side (or the expression) was undefined, or too large for `f64`.
    pub skipped: usize,
    /// Of those, the points where every side is defined but one overflows `f64`: not
    /// outside any domain.
    pub beyond_f64: usize,
}

/// The outcome of [`check_claim`].
#[derive(Clone, Debug)]
pub struct ClaimReport {
    /// The verdict.
    pub verdict: Verdict,
    /// How `equivalent` was reached.
    pub method: Option<Method>,
    /// The derivative, simplified.
    pub derivative: Expr,
    /// The claim as parsed.
    pub claim: Expr,
    /// The proof, for `equivalent` by proof: every rewrite, in order.
    pub proof: Option<Vec<ProofStep>>,
    /// Conditions the proof's rules rely on.
    pub conditions: Vec<String>,
    /// The counterexample, for `not_equivalent`.
    pub witness: Option<Witness>,
    /// `claim - derivative`, simplified, for `not_equivalent`.
    pub residual: Option<Expr>,
    /// Sampling counts.
    pub points: Points,
    /// The largest relative difference seen at agreeing points, leaving out values near
    /// 0 that agree within `atol` or rounding only ([`crate::check::Within`]).
    pub max_rel_diff: f64,
    /// Why the verdict is `unknown`.
    pub reason: Option<String>,
}

/// The condition a rule relies on, if any, in words.
fn rule_condition(rule: &str) -> Option<&'static str> {
    Some(match rule {
        "cancel" => "the cancelled factor is not 0",
        "mul-zero" => "the factor multiplied by 0 is defined",
        "exp-ln" => "the argument of ln is positive",
        "recip-sec" => "cos of the argument is not 0",
        "recip-csc" => "sin of the argument is not 0",
        "normal-form" | "difference-is-zero" | "pythagorean-identity" => {
            "both sides are defined (terms that cancel are defined)"
        }
        _ => return None,
    })
}

/// Checks `claim` against the derivative of `f` with respect to `wrt` (successively).
pub fn check_claim(f: &Expr, claim: &Expr, wrt: &[&str], opts: &ClaimOptions) -> ClaimReport {
    let mut d = f.clone();
    for (k, v) in wrt.iter().enumerate() {
        d = if k + 1 == wrt.len() {
            simplify_at(&crate::diff(&d, v), Level::Full, &opts.budget).0
        } else {
            // A bound hit here leaves a longer intermediate derivative, which the
            // verdict does not depend on.
            step_form(&crate::diff(&d, v), Level::Full, &mut crate::limits::Bounds::default())
        };
    }
    let mut report = ClaimReport {
        verdict: Verdict::Unknown,
        method: None,
        derivative: d.clone(),
        claim: claim.clone(),
        proof: None,
        conditions: Vec::new(),
        witness: None,
        residual: None,
        points: Points::default(),
        max_rel_diff: 0.0,
        reason: None,
    };
    // The variables to sample: those of the expression, the claim and any box given.
    let mut vars = f.variables();
    for v in claim
        .variables()
        .into_iter()
        .chain(d.variables())
        .chain(opts.domain.keys().cloned())
    {
        if !vars.contains(&v) {
            vars.push(v);
        }
    }
    // The points where the sides agreed within the tolerance but not exactly: their
    // difference may still be real (see below).
    let mut agreeing: Vec<Witness> = Vec::new();
    for k in 0..opts.points {
        let at = seeded_box_point(&vars, &opts.domain, k);
        report.points.tried += 1;
        let (dv, dx, _) = value_at(&d, &at);
        let (cv, cx, _) = value_at(claim, &at);
        let (dv, cv) = match (dv, cv, eval_f64(opts.written.as_ref().unwrap_or(f), &at)) {
            (Ok(dv), Ok(cv), Ok(_)) => (dv, cv),
            (dv, cv, fv) => {
                report.points.skipped += 1;
                let faults = [dv.err(), cv.err(), fv.err()];
                report.points.beyond_f64 += usize::from(faults.iter().flatten().all(|u| u.is_beyond_f64()));
                continue;
            }
        };
        let m = magnitude(&d, &at)
            .unwrap_or(0.0)
            .max(magnitude(claim, &at).unwrap_or(0.0));
        // A rounding bound past f64's range (`sin(x^128)` at 28) leaves no digit of
        // either value: f64 says nothing at this point.
        if !m.is_finite() {
            report.points.skipped += 1;
            report.points.beyond_f64 += 1;
            continue;
        }
        // Whether they agree, and whether relatively: a value near 0 that agrees
        // within atol or rounding only has no meaningful relative difference.
        let (agree, relative) = match (&dx, &cx) {
            // Both exact: they agree only if equal.
            (Some(a), Some(b)) => (crate::expr::rational_eq(a, b), true),
            _ => {
                let c = compare_with_rounding(dv, cv, &opts.tolerance, m);
                (c.status == Status::Pass, c.within == Within::Rtol)
            }
        };
        if agree {
            report.points.agreed += 1;
            if dx.is_none() || cx.is_none() {
                agreeing.push(Witness {
                    at: at.clone(),
                    derivative: dv,
                    derivative_exact: dx.clone(),
                    claim: cv,
                    claim_exact: cx.clone(),
                });
            }
            let scale = dv.abs().max(cv.abs());
            if scale > 0.0 && relative {
                report.max_rel_diff = report.max_rel_diff.max((dv - cv).abs() / scale);
            }
        } else {
            report.verdict = Verdict::NotEquivalent;
            report.witness = Some(Witness {
                at,
                derivative: dv,
                derivative_exact: dx,
                claim: cv,
                claim_exact: cx,
            });
            let mut b = Builder::new();
            let (ci, di) = (b.import(claim), b.import(&d));
            let r = b.sub(ci, di);
            report.residual = Some(simplify_at(&b.finish(r), Level::Full, &opts.budget).0);
            return report;
        }
    }
    if let Some((steps, instantiated)) = prove(&d, claim, &opts.budget) {
        // Conditions with the matched subterm where the rule says which ("x ≠ 0"), else
        // the rule's condition in words.
        let mut conditions: Vec<String> = instantiated;
        conditions.extend(
            steps
                .iter()
                .filter(|s| !matches!(s.rule.as_str(), "cancel" | "exp-ln" | "recip-sec" | "recip-csc"))
                .filter_map(|s| rule_condition(&s.rule))
                .map(str::to_string),
        );
        conditions.sort();
        conditions.dedup();
        report.verdict = Verdict::Equivalent;
        report.method = Some(Method::Proof);
        report.proof = Some(steps);
        report.conditions = conditions;
        return report;
    }
    // Agreement within the tolerance is not equality: `2*x + 1e-13*sin(x)` agrees with
    // `2*x` to 5e-14. The residual `claim - derivative`, simplified (soundly: equal to the
    // difference wherever both sides are defined), is computed to its own rounding, not
    // the sides': where it is far above that, the sides differ there.
    if !agreeing.is_empty() {
        let mut b = Builder::new();
        let (ci, di) = (b.import(claim), b.import(&d));
        let r = b.sub(ci, di);
        let residual = simplify_at(&b.finish(r), Level::Full, &opts.budget).0;
        // A residual that is a number is exact: 0 leaves the evidence as it is, any
        // other number refutes at every point (`cos(x) + 2*x + 1e-13`).
        let constant = residual.as_num().map(|r| !num_traits::Zero::is_zero(r));
        if constant != Some(false) {
            for witness in agreeing {
                let at = &witness.at;
                let (Ok(rv), Some(m)) = (eval_f64(&residual, at), magnitude(&residual, at)) else {
                    continue;
                };
                let noise = crate::check::ROUNDING_UNITS * f64::EPSILON * m;
                let moved = crate::check::sensitivity(&residual, at, rv);
                if constant == Some(true) || (rv.is_finite() && rv.abs() > 2.0 * noise.max(moved)) {
                    report.verdict = Verdict::NotEquivalent;
                    report.points.agreed -= 1;
                    report.witness = Some(witness);
                    report.residual = Some(residual);
                    return report;
                }
            }
        }
    }
    if report.points.agreed > 0 {
        report.verdict = Verdict::Equivalent;
        report.method = Some(Method::Numeric);
    } else {
        report.reason = Some(format!(
            "no proof within the budget, and none of the {} sampled points lies inside both domains",
            report.points.tried
        ));
    }
    report
}

/// A proof that `a` and `b` are equal, as a chain of rewrites from `a` to `b`.
fn prove(a: &Expr, b: &Expr, budget: &Budget) -> Option<(Vec<ProofStep>, Vec<String>)> {
    if a == b {
        return Some((
            vec![ProofStep {
                rule: "identical".into(),
                term: b.to_string(),
            }],
            Vec::new(),
        ));
    }
    // Normal forms: the difference normalises to 0.
    let na = crate::normal::normalize(a);
    let nb = crate::normal::normalize(b);
    if na == nb || difference_normalizes_to_zero(&na, &nb) {
        // Read from the claim to the derivative: the claim, its normal form, then the
        // derivative's normal form (the same, or differing by terms that cancel).
        let mut steps = vec![ProofStep {
            rule: "claim".into(),
            term: b.to_string(),
        }];
        if nb != *b {
            steps.push(ProofStep {
                rule: "normal-form".into(),
                term: nb.to_string(),
            });
        }
        if na != nb {
            steps.push(ProofStep {
                rule: "difference-is-zero".into(),
                term: na.to_string(),
            });
        }
        if na != *a {
            steps.push(ProofStep {
                rule: "normal-form".into(),
                term: a.to_string(),
            });
        }
        return Some((steps, Vec::new()));
    }
    // Both sides rewritten alike, then their difference normalised.
    for rewrites in [
        IN_EXPONENTIALS,
        IN_SINES_AND_COSINES,
        WITH_PARTS_EXPANDED,
        IN_PRIME_POWERS,
    ] {
        if let Some(steps) = prove_by_rewrites(a, b, rewrites) {
            return Some((steps, Vec::new()));
        }
    }
    // Equality saturation with explanations; else the difference in sines and cosines
    // of its base angles, in lowest terms modulo `sin(u)^2 + cos(u)^2 = 1`, whose
    // proof reads less like a derivation, so it comes last.
    prove_by_saturation(a, b, &na, &nb, budget).or_else(|| Some((prove_modulo_pythagoras(a, b)?, Vec::new())))
}

/// A proof that `a` and `b` (whose normal forms are `na` and `nb`) are equal by
/// equality saturation with explanations, as a chain of rewrites from `a` to `b`.
fn prove_by_saturation(
    a: &Expr,
    b: &Expr,
    na: &Expr,
    nb: &Expr,
    budget: &Budget,
) -> Option<(Vec<ProofStep>, Vec<String>)> {
    let (ra, rb) = (to_rec_expr(na), to_rec_expr(nb));
    let mut runner: Runner<crate::Node, ConstantFold> = Runner::new(ConstantFold::default())
        .with_explanations_enabled()
        .with_iter_limit(budget.iter_limit)
        .with_node_limit(budget.node_limit)
        .with_time_limit(budget.time_limit)
        .with_expr(&ra)
        .with_expr(&rb)
        .with_hook(|runner| {
            let (x, y) = (runner.roots[0], runner.roots[1]);
            if runner.egraph.find(x) == runner.egraph.find(y) {
                Err("proved".to_string())
            } else if runner.egraph.analysis.conflict {
                Err("constant conflict".to_string())
            } else {
                Ok(())
            }
        })
        .run(crate::simplify::shared_proof_rules());
    if runner.egraph.analysis.conflict {
        return None;
    }
    let (x, y) = (runner.roots[0], runner.roots[1]);
    if runner.egraph.find(x) != runner.egraph.find(y) {
        return None;
    }
    let mut explanation = runner.explain_equivalence(&ra, &rb);
    let flat = explanation.make_flat_explanation().clone();
    let mut steps = vec![ProofStep {
        rule: "derivative".into(),
        term: a.to_string(),
    }];
    if *na != *a {
        steps.push(ProofStep {
            rule: "normal-form".into(),
            term: na.to_string(),
        });
    }
    let mut conditions = Vec::new();
    for pair in flat.windows(2) {
        if let Some(c) = instantiated_condition(&pair[0], &pair[1]) {
            conditions.push(c);
        }
    }
    for term in flat.iter().skip(1) {
        let rule = term_rule(term).unwrap_or_else(|| "congruence".to_string());
        steps.push(ProofStep {
            rule,
            term: from_rec_expr(&term.get_recexpr()).to_string(),
        });
    }
    if *nb != *b {
        steps.push(ProofStep {
            rule: "normal-form".into(),
            term: b.to_string(),
        });
    }
    Some((steps, conditions))
}

/// Whether the normal form of `a - b` is 0.
fn difference_normalizes_to_zero(a: &Expr, b: &Expr) -> bool {
    let mut builder = Builder::new();
    let (ia, ib) = (builder.import(a), builder.import(b));
    let diff = builder.sub(ia, ib);
    let residual = crate::normal::normalize(&builder.finish(diff));
    residual.as_num().is_some_and(num_traits::Zero::is_zero)
}

/// A rewrite of an expression for a proof: its rule name, and the rewritten form
/// (`None` where it changes nothing). Each keeps the value wherever the expression it
/// rewrites is defined.
type Rewrite = (&'static str, fn(&Expr) -> Option<Expr>);

/// `sinh`, `cosh` and `tanh` in exponentials: a hand derivation often writes them so
/// (`4/(exp(x) + exp(-x))^2` for the derivative of `tanh(x)`), and the normal form
/// reduces rational functions of exponentials.
const IN_EXPONENTIALS: &[Rewrite] = &[("hyperbolic-as-exponentials", hyperbolic_in_exponentials)];

/// `tan`, `sec`, `csc`, `cot` and `tanh` over sines and cosines: `2*sin(x)/cos(x)^3`
/// for the derivative of `tan(x)^2`, which the derivative writes `2*tan(x)*sec(x)^2`.
const IN_SINES_AND_COSINES: &[Rewrite] = &[("quotients-as-sines-and-cosines", quotients_in_sines_and_cosines)];

/// Roots of a product as one root, then every rational part expanded: a hand
/// derivation writes `sqrt(x^2 + x)` where the derivative has `sqrt(x)*sqrt(x + 1)`,
/// or `exp(x^2 + 2*x)` where it has `exp(x*(x + 2))`.
const WITH_PARTS_EXPANDED: &[Rewrite] = &[("roots-merged", roots_merged), ("parts-expanded", parts_expanded)];

/// Numbers to a power, and their logarithms, over their primes: a hand derivation
/// writes `3*ln(2)*8^x` where the derivative of `2^(3*x)` has `3*2^(3*x)*ln(2)`.
const IN_PRIME_POWERS: &[Rewrite] = &[("numbers-as-prime-powers", numbers_as_prime_powers)];

/// The largest trial divisor [`prime_factors`] tries.
const MAX_TRIAL_DIVISOR: u64 = 10_000;

/// `n`'s prime factors with their multiplicities, smallest first, for `n` that fits a
/// `u64`: trial division up to [`MAX_TRIAL_DIVISOR`], and what is left over (perhaps
/// not a prime, which keeps the product equal to `n`) as one more factor. `None` for
/// larger `n`.
fn prime_factors(n: &num_bigint::BigInt) -> Option<Vec<(u64, u32)>> {
    use num_traits::ToPrimitive;
    let mut n = n.to_u64()?;
    let mut factors = Vec::new();
    let mut d = 2u64;
    while d <= MAX_TRIAL_DIVISOR && d.saturating_mul(d) <= n {
        let mut k = 0;
        while n % d == 0 {
            n /= d;
            k += 1;
        }
        if k > 0 {
            factors.push((d, k));
        }
        d += if d == 2 { 1 } else { 2 };
    }
    if n > 1 {
        factors.push((n, 1));
    }
    Some(factors)
}

/// `e` with every positive number to a power that is not a number written as a
/// product of powers of its primes (`8^x` is `2^(3*x)`, `6^x` is `2^x*3^x`, `(4/9)^x`
/// is `2^(2*x)*3^(-2*x)`), and the logarithm of a positive number as a sum over its
/// primes (`ln(8)` is `3*ln(2)`). Two sides that write one number two ways then meet.
/// Equal everywhere, with the same domain, since the numbers are positive. `None`
/// where nothing changes.
///
/// ```
/// use dydx::{parse, claim::numbers_as_prime_powers};
/// let e = parse("3*ln(2)*8^x").unwrap();
/// assert_eq!(numbers_as_prime_powers(&e).unwrap().to_string(), "3*2^(3*x)*ln(2)");
/// assert!(numbers_as_prime_powers(&parse("2^x*ln(3)").unwrap()).is_none());
/// ```
pub fn numbers_as_prime_powers(e: &Expr) -> Option<Expr> {
    use crate::expr::{Func, IdIndex, Node};
    // A positive number's primes with their exponents (negative in the denominator);
    // `None` where it is one prime to the first power, or cannot be factored.
    let factored = |r: &Rational| {
        if !num_traits::Signed::is_positive(r) {
            return None;
        }
        let up = prime_factors(r.numer())?.into_iter().map(|(p, k)| (p, i64::from(k)));
        let down = prime_factors(r.denom())?.into_iter().map(|(p, k)| (p, -i64::from(k)));
        let all: Vec<(u64, i64)> = up.chain(down).collect();
        (!matches!(all.as_slice(), [(_, 1)])).then_some(all)
    };
    let mut b = Builder::with_capacity(e.len());
    let mut map: Vec<crate::Id> = Vec::with_capacity(e.len());
    let mut any = false;
    for node in e.nodes() {
        let rewritten = match node {
            Node::Pow([base, k]) if e.node(*k).as_num().is_none() => {
                e.node(*base).as_num().and_then(&factored).map(|primes| {
                    let k = map[k.index()];
                    let parts: Vec<crate::Id> = primes
                        .iter()
                        .map(|&(p, m)| {
                            let prime = b.num(Rational::from_integer(p.into()));
                            let m = b.int(m);
                            let exponent = b.mul([m, k]);
                            b.pow(prime, exponent)
                        })
                        .collect();
                    b.mul(parts)
                })
            }
            Node::Call(Func::Ln, [u]) => e.node(*u).as_num().and_then(&factored).map(|primes| {
                let terms: Vec<crate::Id> = primes
                    .iter()
                    .map(|&(p, m)| {
                        let prime = b.num(Rational::from_integer(p.into()));
                        let ln = b.call(Func::Ln, prime);
                        let m = b.int(m);
                        b.mul([m, ln])
                    })
                    .collect();
                b.add(terms)
            }),
            _ => None,
        };
        let id = match rewritten {
            Some(id) => {
                any = true;
                id
            }
            None => b.make(node, |c| map[c.index()]),
        };
        map.push(id);
    }
    let root = map[e.root().index()];
    let out = b.into_expr(root);
    (any && out != *e).then_some(out)
}

/// [`crate::cancel::parts_expanded`], as a [`Rewrite`].
fn parts_expanded(e: &Expr) -> Option<Expr> {
    crate::cancel::parts_expanded(e, &mut crate::limits::Bounds::default())
}

/// A proof that `a` and `b` are equal with `rewrites` applied to each side in turn:
/// the difference of the two forms normalises to 0. Every rewrite keeps the value
/// wherever the form it starts from is defined, so the two sides are equal wherever
/// both are defined. `None` where no rewrite changes either side, or the difference
/// does not vanish. The steps run from the claim `b` to its last form, then from the
/// last form of `a` back to `a`.
fn prove_by_rewrites(a: &Expr, b: &Expr, rewrites: &[Rewrite]) -> Option<Vec<ProofStep>> {
    // Each side's chain of forms, with the rule that made each one.
    let chain = |e: &Expr| {
        let mut forms: Vec<(&'static str, Expr)> = Vec::new();
        for (rule, rewrite) in rewrites {
            let last = forms.last().map_or(e, |(_, f)| f);
            if let Some(next) = rewrite(last) {
                forms.push((rule, next));
            }
        }
        forms
    };
    let (from_a, from_b) = (chain(a), chain(b));
    if from_a.is_empty() && from_b.is_empty() {
        return None;
    }
    let xa = from_a.last().map_or(a, |(_, f)| f);
    let xb = from_b.last().map_or(b, |(_, f)| f);
    if xa != xb && !difference_normalizes_to_zero(xa, xb) {
        return None;
    }
    let mut steps = vec![ProofStep {
        rule: "claim".into(),
        term: b.to_string(),
    }];
    for (rule, form) in &from_b {
        steps.push(ProofStep {
            rule: (*rule).into(),
            term: form.to_string(),
        });
    }
    steps.push(ProofStep {
        rule: "difference-is-zero".into(),
        term: xa.to_string(),
    });
    let earlier: Vec<&Expr> = std::iter::once(a).chain(from_a.iter().map(|(_, f)| f)).collect();
    for ((rule, _), before) in from_a.iter().zip(earlier).rev() {
        steps.push(ProofStep {
            rule: (*rule).into(),
            term: before.to_string(),
        });
    }
    Some(steps)
}

/// A proof that `a - b` is 0 once written in sines and cosines of its base angles
/// ([`crate::cancel::in_base_angles`]) and brought into lowest terms modulo
/// `sin(u)^2 + cos(u)^2 = 1` ([`crate::cancel::lowest_terms_in_sines_and_cosines`]):
/// `3*cos(x)*(1 - 4*sin(x)^2)` for the derivative of `sin(3*x)`, `1/(1 + cos(x))` for
/// that of `tan(x/2)`. Both rewrites keep the value wherever the difference is defined.
/// The difference is taken first, since the base angle of one side may show only in
/// the other. `None` where it does not come to 0.
fn prove_modulo_pythagoras(a: &Expr, b: &Expr) -> Option<Vec<ProofStep>> {
    let mut builder = Builder::new();
    let (ia, ib) = (builder.import(a), builder.import(b));
    let root = builder.sub(ia, ib);
    let difference = builder.finish(root);
    let mut hit = crate::limits::Bounds::default();
    let reduced =
        crate::cancel::lowest_terms_in_sines_and_cosines(&difference, crate::print::Numbers::Fractions, &mut hit)?;
    let is_zero = |e: &Expr| e.as_num().is_some_and(num_traits::Zero::is_zero);
    if !is_zero(&reduced) && !is_zero(&crate::normal::normalize(&reduced)) {
        return None;
    }
    let written = crate::cancel::in_base_angles(&difference);
    let mut steps = vec![
        ProofStep {
            rule: "claim".into(),
            term: b.to_string(),
        },
        ProofStep {
            rule: "derivative-minus-claim".into(),
            term: difference.to_string(),
        },
    ];
    if written != difference {
        steps.push(ProofStep {
            rule: "in-base-angles".into(),
            term: written.to_string(),
        });
    }
    steps.push(ProofStep {
        rule: "pythagorean-identity".into(),
        term: "0".into(),
    });
    Some(steps)
}

/// `e` with every `tan`, `sec`, `csc`, `cot` and `tanh` written over sines and
/// cosines (`sin(u)/cos(u)`, `1/cos(u)`, …), each equal to it wherever it is defined,
/// and defined in the same places. `None` where `e` holds none.
///
/// ```
/// use dydx::{parse, claim::quotients_in_sines_and_cosines};
/// let e = parse("2*tan(x)*sec(x)^2").unwrap();
/// assert_eq!(quotients_in_sines_and_cosines(&e).unwrap().to_string(), "2*sin(x)/cos(x)^3");
/// assert!(quotients_in_sines_and_cosines(&parse("sin(x)").unwrap()).is_none());
/// ```
pub fn quotients_in_sines_and_cosines(e: &Expr) -> Option<Expr> {
    use crate::expr::{Func, Node};
    let quotient = |f: &Func| matches!(f, Func::Tan | Func::Sec | Func::Csc | Func::Cot | Func::Tanh);
    if !e.nodes().iter().any(|n| matches!(n, Node::Call(f, _) if quotient(f))) {
        return None;
    }
    Some(crate::expr::rewrite_calls(e, |b, f, _, u| {
        crate::normal::over_sines_and_cosines(b, f, u)
    }))
}

/// `e` with the roots in each product to one power merged into one root of the
/// product of their bases: `sqrt(x)*sqrt(x + 1)` is `sqrt(x*(x + 1))`, and
/// `1/(x^(3/2)*y^(3/2))` is `1/(x*y)^(3/2)`. Equal wherever `e` is defined, since a
/// root's base is then not negative (negative bases to fractional powers are
/// undefined); defined in more places (`sqrt(x*(x + 1))` at x = -2). `None` where no
/// product holds two roots to one power.
///
/// ```
/// use dydx::{parse, claim::roots_merged};
/// let e = parse("(x + 1/2)/(sqrt(x)*sqrt(x + 1))").unwrap();
/// assert_eq!(roots_merged(&e).unwrap().to_string(), "(x + 1/2)/sqrt(x*(x + 1))");
/// assert!(roots_merged(&parse("sqrt(x)*x^(3/2)").unwrap()).is_none());
/// ```
pub fn roots_merged(e: &Expr) -> Option<Expr> {
    use crate::expr::{IdIndex, Node};
    let mut b = Builder::with_capacity(e.len());
    let mut map: Vec<crate::Id> = Vec::with_capacity(e.len());
    let mut any = false;
    for node in e.nodes() {
        let id = match node {
            Node::Mul(fs) => {
                let fs: Vec<crate::Id> = fs.iter().map(|f| map[f.index()]).collect();
                // The factors that are roots, grouped by their power; the rest as they are.
                let mut groups: Vec<(crate::expr::Q, Vec<crate::Id>, crate::Id)> = Vec::new();
                let mut rest: Vec<crate::Id> = Vec::new();
                for &f in &fs {
                    let (base, q) = b.split_power(f);
                    if q.is_integer() {
                        rest.push(f);
                    } else if let Some(g) = groups.iter_mut().find(|g| g.0.same(&q)) {
                        g.1.push(base);
                    } else {
                        groups.push((q, vec![base], f));
                    }
                }
                if groups.iter().all(|g| g.1.len() < 2) {
                    b.make(node, |c| map[c.index()])
                } else {
                    any = true;
                    for (q, bases, alone) in groups {
                        if bases.len() < 2 {
                            rest.push(alone);
                        } else {
                            let product = b.mul(bases);
                            let power = b.num_q(&q);
                            rest.push(b.pow(product, power));
                        }
                    }
                    b.mul(rest)
                }
            }
            other => b.make(other, |c| map[c.index()]),
        };
        map.push(id);
    }
    let root = map[e.root().index()];
    any.then(|| b.into_expr(root))
}

/// `e` with each `sinh(u)`, `cosh(u)` and `tanh(u)` written in exponentials:
/// `(exp(u) - exp(-u))/2`, `(exp(u) + exp(-u))/2` and
/// `(exp(u) - exp(-u))/(exp(u) + exp(-u))`, each equal to it everywhere. `None`
/// where `e` holds none.
///
/// ```
/// use dydx::{parse, claim::hyperbolic_in_exponentials};
/// let e = parse("x*tanh(x) + cosh(2*x)").unwrap();
/// assert_eq!(
///     hyperbolic_in_exponentials(&e).unwrap().to_string(),
///     "exp(-2*x)/2 + exp(2*x)/2 + x*(exp(x) - exp(-x))/(exp(x) + exp(-x))"
/// );
/// assert!(hyperbolic_in_exponentials(&parse("sin(x)").unwrap()).is_none());
/// ```
pub fn hyperbolic_in_exponentials(e: &Expr) -> Option<Expr> {
    use crate::expr::{Func, Node};
    if !e
        .nodes()
        .iter()
        .any(|n| matches!(n, Node::Call(Func::Sinh | Func::Cosh | Func::Tanh, _)))
    {
        return None;
    }
    Some(crate::expr::rewrite_calls(e, |b, f, _, u| {
        if !matches!(f, Func::Sinh | Func::Cosh | Func::Tanh) {
            return None;
        }
        let up = b.call(Func::Exp, u);
        let minus_u = b.neg(u);
        let down = b.call(Func::Exp, minus_u);
        let difference = b.sub(up, down);
        let sum = b.add([up, down]);
        let half = b.num(Rational::new(1.into(), 2.into()));
        Some(match f {
            Func::Sinh => b.mul([half, difference]),
            Func::Cosh => b.mul([half, sum]),
            _ => b.div(difference, sum),
        })
    }))
}

/// The condition of a conditional rule applied between two consecutive terms of an
/// explanation, with the matched subterm filled in: `x ≠ 0` for `cancel`.
fn instantiated_condition(before: &egg::FlatTerm<crate::Node>, after: &egg::FlatTerm<crate::Node>) -> Option<String> {
    use crate::Node;
    if let Some(rule) = after.forward_rule.or(after.backward_rule) {
        // The left-hand side is in `before` for a forward step, in `after` for a backward one.
        let lhs = if after.forward_rule.is_some() { before } else { after };
        let sub = |t: &egg::FlatTerm<Node>| from_rec_expr(&t.get_recexpr()).to_string();
        let child = |t: &egg::FlatTerm<Node>, k: usize| t.children.get(k).map(sub);
        return match rule.as_str() {
            "cancel" => child(lhs, 0).map(|a| format!("{a} ≠ 0")),
            "exp-ln" => lhs
                .children
                .first()
                .and_then(|ln| child(ln, 0))
                .map(|a| format!("{a} > 0")),
            "recip-sec" => lhs
                .children
                .first()
                .and_then(|sec| child(sec, 0))
                .map(|a| format!("cos({a}) ≠ 0")),
            "recip-csc" => lhs
                .children
                .first()
                .and_then(|csc| child(csc, 0))
                .map(|a| format!("sin({a}) ≠ 0")),
            _ => None,
        };
    }
    before
        .children
        .iter()
        .zip(after.children.iter())
        .find_map(|(b, a)| instantiated_condition(b, a))
}

/// The rule applied at some position of a flat explanation term.
fn term_rule(term: &egg::FlatTerm<crate::Node>) -> Option<String> {
    if let Some(r) = term.forward_rule.or(term.backward_rule) {
        return Some(r.to_string());
    }
    term.children.iter().find_map(term_rule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn check(f: &str, claim: &str, wrt: &str) -> ClaimReport {
        check_claim(
            &parse(f).unwrap(),
            &parse(claim).unwrap(),
            &[wrt],
            &ClaimOptions::default(),
        )
    }

    #[test]
    fn classic_cases() {
        let proved = check("x^2*sin(x)", "x*(2*sin(x) + x*cos(x))", "x");
        assert_eq!(
            (proved.verdict, proved.method),
            (Verdict::Equivalent, Some(Method::Proof))
        );
        let sign_slip = check("cos(3*x)", "3*sin(3*x)", "x");
        assert_eq!(sign_slip.verdict, Verdict::NotEquivalent);
        assert_eq!(sign_slip.residual.map(|r| r.to_string()).as_deref(), Some("6*sin(3*x)"));
        let missing_ln = check("2^x", "2^x", "x");
        assert_eq!(missing_ln.verdict, Verdict::NotEquivalent);
        let partial = check("sqrt(x^2)", "1", "x");
        assert_eq!(partial.verdict, Verdict::NotEquivalent, "agrees only for x > 0");
    }

    #[test]
    fn a_double_angle_on_one_side_only_is_proved() {
        // The derivative keeps `sin(x)*cos(x)` (as short as `sin(2*x)/2`); the claim
        // writes the double angle. The proof rules expand it to meet the derivative.
        for (f, claim) in [("sin(x)^2/2", "sin(2*x)/2"), ("sinh(x)^2/2", "sinh(2*x)/2")] {
            let r = check(f, claim, "x");
            assert_eq!(
                (r.verdict, r.method),
                (Verdict::Equivalent, Some(Method::Proof)),
                "{f}: {claim}"
            );
        }
    }

    /// Checks that the claim for d/dx `f` is proved with a step of `rule`, running from
    /// the claim to the derivative; returns the report.
    fn assert_proved_with(f: &str, claim: &str, rule: &str) -> ClaimReport {
        let r = check(f, claim, "x");
        assert_eq!(
            (r.verdict, r.method),
            (Verdict::Equivalent, Some(Method::Proof)),
            "{f}: {claim}"
        );
        let steps = r.proof.clone().unwrap_or_default();
        assert!(steps.iter().any(|s| s.rule == rule), "{f}: {steps:?}");
        r
    }

    #[test]
    fn hyperbolic_functions_written_in_exponentials_are_proved() {
        for (f, claim) in [
            ("tanh(x)", "4/(exp(x) + exp(-x))^2"),
            ("cosh(x)", "(exp(x) - exp(-x))/2"),
            ("ln(cosh(x))", "(exp(x) - exp(-x))/(exp(x) + exp(-x))"),
            ("exp(x)*cosh(x)", "exp(2*x)"),
            ("(exp(x) + exp(-x))/2", "sinh(x)"),
        ] {
            assert_proved_with(f, claim, "hyperbolic-as-exponentials");
        }
        // A wrong one is still refuted, by its witness.
        let wrong = check("cosh(x)", "(exp(x) + exp(-x))/2", "x");
        assert_eq!(wrong.verdict, Verdict::NotEquivalent);
    }

    #[test]
    fn roots_and_arguments_written_another_way_are_proved() {
        for (f, claim, rule) in [
            ("sqrt(x)*sqrt(x + 1)", "(2*x + 1)/(2*sqrt(x^2 + x))", "roots-merged"),
            (
                "1/(sqrt(x)*sqrt(x + 1))",
                "-(2*x + 1)/(2*(x^2 + x)^(3/2))",
                "roots-merged",
            ),
            ("exp(x*(x + 2))", "(2*x + 2)*exp(x^2 + 2*x)", "parts-expanded"),
            ("atan(x^2 + 2*x)", "(2*x + 2)/(1 + (x*(x + 2))^2)", "parts-expanded"),
            ("sqrt(x*(x + 1))", "(2*x + 1)/(2*sqrt(x^2 + x))", "parts-expanded"),
        ] {
            let r = assert_proved_with(f, claim, rule);
            let steps = r.proof.unwrap_or_default();
            // The chain runs from the claim to the derivative.
            assert_eq!(
                steps.first().map(|s| s.term.clone()),
                Some(parse(claim).unwrap().to_string())
            );
            assert_eq!(steps.last().map(|s| s.term.clone()), Some(r.derivative.to_string()));
        }
        // A wrong one is still refuted, by its witness.
        let wrong = check("sqrt(x)*sqrt(x + 1)", "(2*x + 1)/sqrt(x^2 + x)", "x");
        assert_eq!(wrong.verdict, Verdict::NotEquivalent);
    }

    #[test]
    fn quotient_functions_written_in_sines_and_cosines_are_proved() {
        for (f, claim) in [
            ("tan(x)^2", "2*sin(x)/cos(x)^3"),
            ("sec(x)", "sin(x)/cos(x)^2"),
            ("cot(x)^2", "-2*cos(x)/sin(x)^3"),
            ("x*tan(x)", "tan(x) + x/cos(x)^2"),
        ] {
            assert_proved_with(f, claim, "quotients-as-sines-and-cosines");
        }
        let wrong = check("tan(x)^2", "2*sin(x)/cos(x)^2", "x");
        assert_eq!(wrong.verdict, Verdict::NotEquivalent);
    }

    #[test]
    fn numbers_written_over_their_primes_are_proved() {
        for (f, claim) in [
            ("2^(3*x)", "3*ln(2)*8^x"),
            ("8^x", "3*ln(2)*2^(3*x)"),
            ("4^x", "ln(16)*2^(2*x - 1)"),
            ("9^(x/2)", "ln(3)*3^x"),
            ("6^x", "(ln(2) + ln(3))*2^x*3^x"),
            ("(4/9)^x", "2*(ln(2) - ln(3))*(2/3)^(2*x)"),
        ] {
            assert_proved_with(f, claim, "numbers-as-prime-powers");
        }
        assert_eq!(check("8^x", "2*ln(2)*8^x", "x").verdict, Verdict::NotEquivalent);
        // The rewrite keeps the value.
        use crate::eval::{eval_f64, point};
        for text in ["3*ln(2)*8^x", "(4/9)^x*ln(12/5)", "1000001^(x/2) - ln(1024)", "6^(x*y)"] {
            let e = parse(text).unwrap();
            let out = numbers_as_prime_powers(&e).unwrap();
            for (x, y) in [("-7/3", "1/2"), ("1/5", "-2"), ("3", "3/4")] {
                let at = point(&[("x", x), ("y", y)]).unwrap();
                let (a, b) = (eval_f64(&e, &at).unwrap(), eval_f64(&out, &at).unwrap());
                assert!(
                    (a - b).abs() <= 1e-12 * a.abs().max(1.0),
                    "{text} -> {out} at {x}: {a} against {b}"
                );
            }
        }
    }

    #[test]
    fn claims_equal_through_the_pythagorean_identity_are_proved() {
        for (f, claim) in [
            ("sin(3*x)", "3*cos(x)*(1 - 4*sin(x)^2)"),
            ("cos(3*x)", "3*sin(x)*(1 - 4*cos(x)^2)"),
            ("cosh(3*x)", "3*sinh(x)*(4*cosh(x)^2 - 1)"),
            ("tan(x/2)", "1/(1 + cos(x))"),
        ] {
            let r = assert_proved_with(f, claim, "pythagorean-identity");
            let steps = r.proof.unwrap_or_default();
            assert_eq!(steps.last().map(|s| s.term.as_str()), Some("0"), "{f}: {steps:?}");
        }
        for (f, claim) in [
            ("tan(x/2)", "1/(1 - cos(x))"),
            ("sin(3*x)", "3*cos(x)*(1 - 3*sin(x)^2)"),
        ] {
            assert_eq!(check(f, claim, "x").verdict, Verdict::NotEquivalent, "{f}: {claim}");
        }
    }

    #[test]
    fn merged_roots_and_expanded_parts_keep_the_value_where_the_input_is_defined() {
        use crate::eval::{eval_f64, point};
        for text in [
            "sqrt(x)*sqrt(x + 1)",
            "(x + 1/2)/(sqrt(x)*sqrt(1 - x))",
            "x^(3/2)*(x + 2)^(3/2)/(x + 3)",
            "exp(x*(x + 2))*sin((x - 1)*(x + 1)/(x + 1))",
            "ln(x*(x + 1)/x)*atan((x + 1)^3)",
        ] {
            let e = parse(text).unwrap();
            let mut hit = crate::limits::Bounds::default();
            let merged = roots_merged(&e);
            let expanded = crate::cancel::parts_expanded(merged.as_ref().unwrap_or(&e), &mut hit);
            assert!(merged.is_some() || expanded.is_some(), "{text}");
            for k in 0..41 {
                let x = format!("{}", -2.0 + 0.1 * f64::from(k) + 0.0123);
                let at = point(&[("x", x.as_str())]).unwrap();
                let Ok(v) = eval_f64(&e, &at) else { continue };
                for form in [&merged, &expanded].into_iter().flatten() {
                    let w = eval_f64(form, &at).unwrap_or(f64::NAN);
                    assert!(
                        (v - w).abs() <= 1e-12 * (1.0 + v.abs()),
                        "{text} -> {form} at {x}: {v} vs {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn conditions_name_the_cancelled_factor() {
        let a: egg::RecExpr<crate::Node> = "(* (+ x 1) (^ (+ x 1) -1))".parse().unwrap();
        let b: egg::RecExpr<crate::Node> = "1".parse().unwrap();
        let mut runner: Runner<crate::Node, ConstantFold> = Runner::new(ConstantFold::default())
            .with_explanations_enabled()
            .with_expr(&a)
            .with_expr(&b)
            .run(crate::simplify::shared_proof_rules());
        let mut explanation = runner.explain_equivalence(&a, &b);
        let flat = explanation.make_flat_explanation().clone();
        let conditions: Vec<String> = flat
            .windows(2)
            .filter_map(|w| instantiated_condition(&w[0], &w[1]))
            .collect();
        assert_eq!(conditions, ["x + 1 ≠ 0"]);
    }

    #[test]
    fn points_beyond_f64_are_told_apart_from_points_outside_a_domain() {
        // exp(exp(x^2)) is defined everywhere but overflows f64 for |x| > 2.5; ln(x)
        // is undefined for x <= 0.
        let r = check("exp(exp(x^2))", "2*x*exp(x^2)*exp(exp(x^2))", "x");
        assert!(r.points.skipped > 0, "{:?}", r.points);
        assert_eq!(r.points.beyond_f64, r.points.skipped);
        let r = check("ln(x)", "1/x", "x");
        assert!(r.points.skipped > 0, "{:?}", r.points);
        assert_eq!(r.points.beyond_f64, 0);
    }

    #[test]
    fn values_near_zero_have_no_relative_difference() {
        // The derivative is 0; the claim, 0 too, is rounding noise in f64 and beyond
        // the prover: numeric evidence, with no relative difference of 1 at 0.
        let r = check("abs(x)/x", "asin(x/4) + acos(x/4) - pi/2", "x");
        assert_eq!((r.verdict, r.method), (Verdict::Equivalent, Some(Method::Numeric)));
        assert_eq!(r.max_rel_diff, 0.0);
        // Values away from 0 still report theirs.
        let r = check("x*(asin(x/4) + acos(x/4))", "pi/2", "x");
        assert_eq!(r.method, Some(Method::Numeric));
        assert!(r.max_rel_diff > 0.0 && r.max_rel_diff < 1e-14, "{}", r.max_rel_diff);
    }

    #[test]
    fn a_difference_inside_the_tolerance_is_still_a_difference() {
        // 2*x + 1e-13*sin(x) agrees with 2*x to 5e-14, inside rtol; but the residual
        // 1e-13*sin(x) is computed to its own rounding, far below its value.
        let r = check("x^2", "2*x + 1e-13*sin(x)", "x");
        assert_eq!(r.verdict, Verdict::NotEquivalent);
        assert!(r.witness.is_some());
        assert_eq!(
            r.residual.map(|e| e.to_string()).as_deref(),
            Some("sin(x)/10000000000000")
        );
        // A residual that is a number other than 0 refutes exactly.
        let r = check("x^2 + sin(x)", "2*x + cos(x) + 1e-13", "x");
        assert_eq!(r.verdict, Verdict::NotEquivalent);
        assert_eq!(r.residual.map(|e| e.to_string()).as_deref(), Some("1/10000000000000"));
        // A true identity the prover cannot show leaves a residual of rounding noise
        // only, and stays numeric evidence.
        for (f, claim) in [
            ("x*(asin(x/4) + acos(x/4))", "pi/2"),
            ("abs(x)/x", "asin(x/4) + acos(x/4) - pi/2"),
        ] {
            let r = check(f, claim, "x");
            assert_eq!(
                (r.verdict, r.method),
                (Verdict::Equivalent, Some(Method::Numeric)),
                "{claim}"
            );
        }
    }

    #[test]
    fn sampling_box_restricts_the_domain() {
        let mut opts = ClaimOptions::default();
        opts.domain.insert(
            "x".into(),
            (Rational::new(1.into(), 10.into()), Rational::from_integer(4.into())),
        );
        let r = check_claim(&parse("abs(x)").unwrap(), &parse("1").unwrap(), &["x"], &opts);
        assert_eq!(r.verdict, Verdict::Equivalent);
        assert_eq!(r.method, Some(Method::Numeric));
    }

    #[test]
    fn unknown_when_no_point_is_in_the_domain() {
        let r = check("sqrt(-x^2 - 1)", "0", "x");
        assert_eq!(r.verdict, Verdict::Unknown);
        assert!(r.reason.is_some());
    }
}
