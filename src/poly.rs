//! Univariate polynomials with exact rational coefficients, dense, lowest degree
//! first: just enough to find a polynomial's repeated factors, so that the normal form
//! can print `240*x*(x^2 - 1)^2*(3*x^2 - 1)` for the third derivative of `(x^2 - 1)^5`
//! where that is shorter than the expanded `720*x^7 - 1680*x^5 + 1200*x^3 - 240*x`.
//!
//! Behaviour:
//! - [`square_free`] splits a polynomial into its leading coefficient and monic
//!   square-free factors with their multiplicities (Yun's algorithm over the
//!   rationals). It is exact: the product of the parts is the polynomial, so printing
//!   the parts is sound everywhere (a polynomial is defined everywhere).
//! - [`linear_factors`] splits a square-free factor's rational roots off as linear
//!   factors (the rational root test), so a factor such as `5*x^2 + 6*x + 1` can print
//!   as `(x + 1)*(5*x + 1)`.
//! - Work is bounded: degrees above [`MAX_DEGREE`] and coefficients above
//!   [`MAX_COEFFICIENT_BITS`] give up (`None`), never a slow answer, and say so in
//!   the [`Bounds`] passed in ([`Bound::PolynomialSize`]).
//!
//! ```
//! use dydx::poly::square_free;
//! use dydx::{limits::Bounds, Rational};
//! let q = |n: i64| Rational::from_integer(n.into());
//! // 3x^6 - 7x^4 + 5x^2 - 1 = 3 (x^2 - 1/3) (x^2 - 1)^2
//! let mut hit = Bounds::default();
//! let (lead, factors) = square_free(&[q(-1), q(0), q(5), q(0), q(-7), q(0), q(3)], &mut hit).unwrap();
//! assert!(hit.is_empty());
//! assert_eq!(lead, q(3));
//! assert_eq!(factors.len(), 2);
//! assert_eq!(factors[1], (vec![q(-1), q(0), q(1)], 2));
//! ```

use crate::limits::{Bound, Bounds};
use crate::Rational;
use num_traits::{One, Zero};

/// The highest degree [`square_free`] takes.
pub const MAX_DEGREE: usize = 64;

/// The largest coefficient, in bits of numerator or denominator, [`square_free`]
/// works with: past it, it gives up.
pub const MAX_COEFFICIENT_BITS: u64 = 4096;

/// A monic square-free factor (lowest degree first) and its multiplicity.
pub type Factor = (Vec<Rational>, usize);

/// A polynomial's coefficients, lowest degree first, with no trailing zeros (the zero
/// polynomial is empty).
type Poly = Vec<Rational>;

/// `p` without its trailing zero coefficients (rationals, or residues modulo a prime).
fn trim<T: Zero>(mut p: Vec<T>) -> Vec<T> {
    while p.last().is_some_and(Zero::is_zero) {
        p.pop();
    }
    p
}

fn too_large(p: &[Rational]) -> bool {
    p.iter()
        .any(|c| c.numer().bits() > MAX_COEFFICIENT_BITS || c.denom().bits() > MAX_COEFFICIENT_BITS)
}

fn derivative(p: &[Rational]) -> Poly {
    trim(
        p.iter()
            .enumerate()
            .skip(1)
            .map(|(k, c)| c * Rational::from_integer(k.into()))
            .collect(),
    )
}

/// `p` divided by its leading coefficient (its last nonzero one).
fn monic(p: Poly) -> Poly {
    let p = trim(p);
    match p.last().cloned() {
        Some(lead) if !lead.is_one() => p.into_iter().map(|c| c / &lead).collect(),
        _ => p,
    }
}

/// Quotient and remainder of `a` by a nonzero `b`.
fn div_rem(a: &[Rational], b: &[Rational]) -> (Poly, Poly) {
    let mut r: Poly = a.to_vec();
    let Some(lead) = b.last() else {
        return (Vec::new(), r);
    };
    if a.len() < b.len() {
        return (Vec::new(), r);
    }
    let mut q = vec![Rational::zero(); a.len() - b.len() + 1];
    for k in (0..q.len()).rev() {
        let c = &r[k + b.len() - 1] / lead;
        if !c.is_zero() {
            for (j, bj) in b.iter().enumerate() {
                r[k + j] -= &c * bj;
            }
        }
        q[k] = c;
    }
    r.truncate(b.len() - 1);
    (trim(q), trim(r))
}

/// The monic greatest common divisor, or `None` past the coefficient bound.
fn gcd(a: &[Rational], b: &[Rational]) -> Option<Poly> {
    let (mut a, mut b) = (monic(a.to_vec()), monic(b.to_vec()));
    while !b.is_empty() {
        let (_, r) = div_rem(&a, &b);
        if too_large(&r) {
            return None;
        }
        (a, b) = (b, monic(r));
    }
    Some(a)
}

fn sub(a: &[Rational], b: &[Rational]) -> Poly {
    let n = a.len().max(b.len());
    let zero = Rational::zero();
    trim(
        (0..n)
            .map(|k| a.get(k).unwrap_or(&zero) - b.get(k).unwrap_or(&zero))
            .collect(),
    )
}

/// The polynomial `p` (lowest degree first) as its leading coefficient times monic
/// square-free factors, each with its multiplicity, by increasing multiplicity: `p =
/// lead · Π fᵢ^mᵢ`, each `fᵢ` of degree at least 1. `None` for a constant or zero
/// polynomial, and past [`MAX_DEGREE`] or [`MAX_COEFFICIENT_BITS`], which it records
/// in `hit`.
pub fn square_free(p: &[Rational], hit: &mut Bounds) -> Option<(Rational, Vec<Factor>)> {
    let p = trim(p.to_vec());
    if p.len() < 2 {
        return None;
    }
    if p.len() > MAX_DEGREE + 1 || too_large(&p) {
        hit.insert(Bound::PolynomialSize);
        return None;
    }
    let lead = p.last()?.clone();
    let f = monic(p);
    // Yun: with a = gcd(f, f'), b = f/a and d = f'/a - b', each step's gcd(b, d) is
    // the product of the factors of the next multiplicity.
    let df = derivative(&f);
    let Some(a) = gcd(&f, &df) else {
        hit.insert(Bound::PolynomialSize);
        return None;
    };
    let (mut b, _) = div_rem(&f, &a);
    let (c, _) = div_rem(&df, &a);
    let mut d = sub(&c, &derivative(&b));
    let mut factors = Vec::new();
    let mut multiplicity = 1;
    while b.len() > 1 {
        let Some(g) = gcd(&b, &d) else {
            hit.insert(Bound::PolynomialSize);
            return None;
        };
        let (next_b, _) = div_rem(&b, &g);
        let (c, _) = div_rem(&d, &g);
        d = sub(&c, &derivative(&next_b));
        if g.len() > 1 {
            factors.push((g, multiplicity));
        }
        b = next_b;
        multiplicity += 1;
        if too_large(&d) {
            hit.insert(Bound::PolynomialSize);
            return None;
        }
    }
    Some((lead, factors))
}

/// A univariate rational function in lowest terms: a numerator, and a monic
/// denominator with no factor in common with it (the zero function is `0/1`).
#[derive(Clone, Debug, PartialEq)]
pub struct Fraction {
    /// Coefficients, lowest degree first.
    pub numer: Vec<Rational>,
    /// Coefficients, lowest degree first; monic.
    pub denom: Vec<Rational>,
}

/// Most coefficient products the arithmetic of [`Fraction`]s may make for one
/// expression ([`Fraction::add`], [`Fraction::mul`], [`Fraction::powi`], whose
/// `work` counts them, with the divisions of their reductions): past it, each gives
/// up.
pub const MAX_FRACTION_WORK: usize = 1 << 13;

/// The highest degree of a [`Fraction`]'s numerator or denominator. A lowest-terms
/// form of higher degree is too long to print shorter than the nested one, and its
/// reductions cost the cube of the degree.
pub const MAX_FRACTION_DEGREE: usize = 16;

/// The largest coefficient, in bits of numerator or denominator, a [`Fraction`] may
/// hold: its reductions divide polynomials, whose coefficients grow fast.
const MAX_FRACTION_BITS: u64 = 128;

/// The product of two polynomials, counting its coefficient products in `work`;
/// `None` past [`MAX_DEGREE`] or [`MAX_FRACTION_WORK`].
fn times(a: &[Rational], b: &[Rational], work: &mut usize) -> Option<Poly> {
    if a.is_empty() || b.is_empty() {
        return Some(Vec::new());
    }
    *work = work.saturating_add(a.len() * b.len());
    if a.len() + b.len() > MAX_FRACTION_DEGREE + 2 || *work > MAX_FRACTION_WORK {
        return None;
    }
    let mut out = vec![Rational::zero(); a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    Some(trim(out))
}

impl Fraction {
    /// The constant `r`.
    pub fn constant(r: Rational) -> Fraction {
        Fraction {
            numer: trim(vec![r]),
            denom: vec![Rational::one()],
        }
    }

    /// The variable itself.
    pub fn variable() -> Fraction {
        Fraction {
            numer: vec![Rational::zero(), Rational::one()],
            denom: vec![Rational::one()],
        }
    }

    /// `numer/denom`, known to have no common factor, with the denominator made
    /// monic; `None` for a zero denominator, or past the bounds.
    fn coprime(numer: Poly, denom: Poly) -> Option<Fraction> {
        let (numer, denom) = (trim(numer), trim(denom));
        let lead = denom.last()?.clone();
        if numer.is_empty() {
            return Some(Fraction::constant(Rational::zero()));
        }
        let numer: Poly = numer.into_iter().map(|c| c / &lead).collect();
        let denom = monic(denom);
        let large = |p: &[Rational]| {
            p.iter()
                .any(|c| c.numer().bits() > MAX_FRACTION_BITS || c.denom().bits() > MAX_FRACTION_BITS)
        };
        let long = numer.len().max(denom.len()) > MAX_FRACTION_DEGREE + 1;
        (!large(&numer) && !large(&denom) && !long).then_some(Fraction { numer, denom })
    }

    /// The sum, in lowest terms; `None` past the bounds. Over coprime denominators
    /// the sum of two fractions in lowest terms is in lowest terms (a factor of one
    /// denominator divides every term of the numerator but one), so only the
    /// denominators' common factor is sought.
    pub fn add(&self, other: &Fraction, work: &mut usize) -> Option<Fraction> {
        let zero = Rational::zero();
        // Trimmed: leading terms may cancel (`(x + 1)/2 + (1 - x)/2`), and a zero
        // leading coefficient is no degree (property seed 933 divided by one).
        let plus = |a: &[Rational], b: &[Rational]| -> Poly {
            trim(
                (0..a.len().max(b.len()))
                    .map(|k| a.get(k).unwrap_or(&zero) + b.get(k).unwrap_or(&zero))
                    .collect(),
            )
        };
        let g = common_factor(&self.denom, &other.denom, work)?;
        if g.len() < 2 {
            let numer = plus(
                &times(&self.numer, &other.denom, work)?,
                &times(&other.numer, &self.denom, work)?,
            );
            return Fraction::coprime(numer, times(&self.denom, &other.denom, work)?);
        }
        // Over the least common denominator, then what the numerator shares with the
        // common factor cancels.
        let (a, b) = (div_rem(&self.denom, &g).0, div_rem(&other.denom, &g).0);
        let numer = plus(&times(&self.numer, &b, work)?, &times(&other.numer, &a, work)?);
        let denom = times(&times(&a, &b, work)?, &g, work)?;
        let h = common_factor(&numer, &g, work)?;
        if h.len() < 2 {
            return Fraction::coprime(numer, denom);
        }
        Fraction::coprime(div_rem(&numer, &h).0, div_rem(&denom, &h).0)
    }

    /// The product, in lowest terms; `None` past the bounds. Each numerator can share
    /// factors only with the other's denominator.
    pub fn mul(&self, other: &Fraction, work: &mut usize) -> Option<Fraction> {
        if self.numer.is_empty() || other.numer.is_empty() {
            return Some(Fraction::constant(Rational::zero()));
        }
        let cancel = |p: &[Rational], q: &[Rational], work: &mut usize| -> Option<(Poly, Poly)> {
            let g = common_factor(p, q, work)?;
            Some(if g.len() < 2 {
                (p.to_vec(), q.to_vec())
            } else {
                (div_rem(p, &g).0, div_rem(q, &g).0)
            })
        };
        let (a, d) = cancel(&self.numer, &other.denom, work)?;
        let (b, c) = cancel(&other.numer, &self.denom, work)?;
        Fraction::coprime(times(&a, &b, work)?, times(&c, &d, work)?)
    }

    /// The `k`th power for a nonzero integer `k`; `None` for a negative power of zero,
    /// or past the bounds. A power of a fraction in lowest terms is in lowest terms.
    pub fn powi(&self, k: i32, work: &mut usize) -> Option<Fraction> {
        let (mut numer, mut denom) = (vec![Rational::one()], vec![Rational::one()]);
        for _ in 0..k.unsigned_abs() {
            numer = times(&numer, &self.numer, work)?;
            denom = times(&denom, &self.denom, work)?;
        }
        if k < 0 {
            (numer, denom) = (denom, numer);
        }
        Fraction::coprime(numer, denom)
    }
}

/// The monic greatest common divisor of two nonzero polynomials, 1 at once when either
/// is a constant; its divisions are counted in `work` as coefficient products. `None`
/// past [`MAX_FRACTION_WORK`], or where Euclid's remainders over the rationals, which
/// swell before they shrink, pass four times a fraction's coefficient bound.
fn common_factor(a: &[Rational], b: &[Rational], work: &mut usize) -> Option<Poly> {
    if a.len() < 2 || b.len() < 2 {
        return Some(vec![Rational::one()]);
    }
    let (mut a, mut b) = (monic(a.to_vec()), monic(b.to_vec()));
    while !b.is_empty() {
        *work = work.saturating_add(a.len() * b.len());
        if *work > MAX_FRACTION_WORK {
            return None;
        }
        let (_, r) = div_rem(&a, &b);
        let swollen = |c: &Rational| c.numer().bits().max(c.denom().bits()) > 4 * MAX_FRACTION_BITS;
        if r.iter().any(swollen) {
            return None;
        }
        (a, b) = (b, monic(r));
    }
    Some(a)
}

/// Most a polynomial's constant or leading coefficient may be, made integer, for
/// [`linear_factors`] to try the rational roots its divisors allow.
const MAX_ROOT_BOUND: u64 = 1 << 20;

/// Most candidate roots [`linear_factors`] tries.
const MAX_ROOT_TRIES: usize = 256;

/// A monic square-free polynomial `p` (lowest degree first) split into its monic
/// linear factors over the rationals (`x - r` for each rational root `r`) and the
/// monic rest, whose product is `p`: `x^2 + 6/5*x + 1/5` is `(x + 1)(x + 1/5)` and 1.
/// Roots are found by the rational root test, bounded: `None` when `p` has degree
/// below 2 or no rational root. Where its integer form's end coefficients pass
/// 2^20 or have so many divisors that the candidates would pass twice 256, no root
/// is sought, and where 256 candidates do
/// not finish the search, it stops there; both are recorded in `hit`
/// ([`Bound::RootCandidates`]), as are the polynomial bounds of [`square_free`].
///
/// ```
/// use dydx::poly::linear_factors;
/// use dydx::{limits::Bounds, Rational};
/// let r = |n: i64, d: i64| Rational::new(n.into(), d.into());
/// // x^2 + 6/5 x + 1/5 = (x + 1)(x + 1/5)
/// let mut hit = Bounds::default();
/// let (linear, rest) = linear_factors(&[r(1, 5), r(6, 5), r(1, 1)], &mut hit).unwrap();
/// assert_eq!(linear, vec![vec![r(1, 5), r(1, 1)], vec![r(1, 1), r(1, 1)]]);
/// assert_eq!(rest, vec![r(1, 1)]);
/// ```
pub fn linear_factors(p: &[Rational], hit: &mut Bounds) -> Option<(Vec<Poly>, Poly)> {
    use num_bigint::BigInt;
    use num_integer::Integer;
    use num_traits::{Signed, ToPrimitive};
    if p.len() < 3 {
        return None;
    }
    if p.len() > MAX_DEGREE + 1 || too_large(p) {
        hit.insert(Bound::PolynomialSize);
        return None;
    }
    // Integer coefficients: times the denominators' lcm.
    let lcm = p.iter().fold(BigInt::one(), |l, c| l.lcm(c.denom()));
    let ints: Vec<BigInt> = p
        .iter()
        .map(|c| (c * Rational::from_integer(lcm.clone())).to_integer())
        .collect();
    // A zero constant term is a root at 0, which the callers take out before.
    let (a0, an) = (ints.first()?, ints.last()?);
    if a0.is_zero() || an.is_zero() {
        return None;
    }
    let bound = |n: &BigInt| n.abs().to_u64().filter(|&n| n <= MAX_ROOT_BOUND);
    let (Some(a0), Some(an)) = (bound(a0), bound(an)) else {
        hit.insert(Bound::RootCandidates);
        return None;
    };
    let divisors = |n: u64| -> Vec<u64> {
        let mut small = Vec::new();
        let mut large = Vec::new();
        let mut d = 1;
        while d * d <= n {
            if n % d == 0 {
                small.push(d);
                if d * d != n {
                    large.push(n / d);
                }
            }
            d += 1;
        }
        small.extend(large.into_iter().rev());
        small
    };
    let mut rest: Poly = p.to_vec();
    let mut linear: Vec<Poly> = Vec::new();
    let mut tries = 0;
    // Candidates ±num/den, smallest first, so the order of the factors found is fixed.
    let (nums, dens) = (divisors(a0), divisors(an));
    if nums.len() * dens.len() > 2 * MAX_ROOT_TRIES {
        hit.insert(Bound::RootCandidates);
        return None;
    }
    let mut candidates: Vec<Rational> = Vec::with_capacity(2 * nums.len() * dens.len());
    for &num in &nums {
        for &den in &dens {
            if num.gcd(&den) == 1 {
                for sign in [1i64, -1] {
                    candidates.push(Rational::new(BigInt::from(sign) * BigInt::from(num), BigInt::from(den)));
                }
            }
        }
    }
    candidates.sort_by(|a, b| a.abs().cmp(&b.abs()).then(b.cmp(a)));
    for r in candidates {
        if rest.len() < 2 {
            break;
        }
        tries += 1;
        if tries > MAX_ROOT_TRIES {
            hit.insert(Bound::RootCandidates);
            break;
        }
        // Horner's rule: the value at `r`, and the quotient by `x - r` on the way.
        let mut quotient: Vec<Rational> = vec![Rational::zero(); rest.len() - 1];
        let mut acc = Rational::zero();
        for k in (0..rest.len()).rev() {
            acc = &acc * &r + &rest[k];
            if k > 0 {
                quotient[k - 1] = acc.clone();
            }
        }
        if acc.is_zero() {
            linear.push(vec![-r, Rational::one()]);
            rest = quotient;
        }
    }
    (!linear.is_empty()).then_some((linear, rest))
}

/// The prime [`surely_square_free`] works modulo: 2^61 - 1 (as does
/// [`crate::cancel`]'s test for a shared factor).
pub(crate) const PRIME: u64 = (1 << 61) - 1;

pub(crate) fn mul_mod(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(PRIME)) as u64
}

/// `a^k` modulo [`PRIME`].
pub(crate) fn pow_mod(mut a: u64, mut k: u64) -> u64 {
    let mut out = 1;
    while k > 0 {
        if k & 1 == 1 {
            out = mul_mod(out, a);
        }
        a = mul_mod(a, a);
        k >>= 1;
    }
    out
}

fn inverse_mod(a: u64) -> u64 {
    // Fermat: a^(p - 2).
    pow_mod(a, PRIME - 2)
}

/// The degree of the greatest common divisor modulo [`PRIME`] of two polynomials
/// given by their residues, lowest degree first (0 when either is zero and the other
/// a nonzero number, or both are numbers).
pub(crate) fn gcd_degree_mod(a: Vec<u64>, b: Vec<u64>) -> usize {
    let (mut a, mut b) = (trim(a), trim(b));
    while !b.is_empty() {
        // a mod b
        let inv = inverse_mod(b[b.len() - 1]);
        while a.len() >= b.len() {
            let shift = a.len() - b.len();
            let q = mul_mod(a[a.len() - 1], inv);
            for (j, &bj) in b.iter().enumerate() {
                let t = mul_mod(q, bj);
                a[shift + j] = (a[shift + j] + PRIME - t) % PRIME;
            }
            a = trim(a);
            if a.is_empty() {
                break;
            }
        }
        std::mem::swap(&mut a, &mut b);
    }
    a.len().saturating_sub(1)
}

/// The residue of `n/d` modulo 2^61 - 1, if `d` is not a multiple of it.
pub fn residue(n: i64, d: i64) -> Option<u64> {
    let p = PRIME as i128;
    let (n, d) = ((i128::from(n) % p + p) % p, (i128::from(d) % p + p) % p);
    match d {
        0 => None,
        1 => Some(n as u64),
        d => Some(mul_mod(n as u64, inverse_mod(d as u64))),
    }
}

/// Whether the polynomial whose coefficients (lowest degree first) have these
/// residues ([`residue`]) is certainly square-free: its gcd with its derivative modulo
/// 2^61 - 1 is 1. A repeated factor of the rational polynomial would stay one modulo the
/// prime (which divides no denominator, and not the leading coefficient, whose residue
/// must not be 0), so `true` is certain; `false` only says Yun's algorithm must look.
/// No allocation beyond two small vectors: a quick test before [`square_free`].
pub fn surely_square_free(residues: &[u64]) -> bool {
    let f = trim(residues.to_vec());
    if f.len() != residues.len() || f.len() < 2 {
        return false;
    }
    let df = trim(
        f.iter()
            .enumerate()
            .skip(1)
            .map(|(k, &c)| mul_mod(c, k as u64 % PRIME))
            .collect(),
    );
    gcd_degree_mod(f, df) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64) -> Rational {
        Rational::from_integer(n.into())
    }

    fn poly(cs: &[i64]) -> Poly {
        cs.iter().map(|&c| q(c)).collect()
    }

    fn mul(a: &[Rational], b: &[Rational]) -> Poly {
        let mut out = vec![Rational::zero(); a.len() + b.len() - 1];
        for (i, x) in a.iter().enumerate() {
            for (j, y) in b.iter().enumerate() {
                out[i + j] += x * y;
            }
        }
        trim(out)
    }

    #[test]
    fn fractions_stay_in_lowest_terms() {
        let mut work = 0;
        let x = Fraction::variable();
        let one = Fraction::constant(q(1));
        // 1/(x + 1) + 1/(x - 1) = 2x/(x^2 - 1).
        let a = x.add(&one, &mut work).unwrap().powi(-1, &mut work).unwrap();
        let minus_one = Fraction::constant(q(-1));
        let b = x.add(&minus_one, &mut work).unwrap().powi(-1, &mut work).unwrap();
        let sum = a.add(&b, &mut work).unwrap();
        assert_eq!(sum.numer, poly(&[0, 2]));
        assert_eq!(sum.denom, poly(&[-1, 0, 1]));
        // (x^2 - 1)/(x - 1) cancels to x + 1, with the denominator 1.
        let square = x.mul(&x, &mut work).unwrap().add(&minus_one, &mut work).unwrap();
        let quotient = square.mul(&b, &mut work).unwrap();
        assert_eq!(
            quotient,
            Fraction {
                numer: poly(&[1, 1]),
                denom: poly(&[1])
            }
        );
        // The denominator is monic: 1/(2x) is (1/2)/x.
        let twice = Fraction::constant(q(2))
            .mul(&x, &mut work)
            .unwrap()
            .powi(-1, &mut work)
            .unwrap();
        assert_eq!(twice.numer, vec![Rational::new(1.into(), 2.into())]);
        assert_eq!(twice.denom, poly(&[0, 1]));
        // A negative power of zero has no value; x - x is 0/1.
        let zero = x.add(&x.mul(&minus_one, &mut work).unwrap(), &mut work).unwrap();
        assert_eq!(zero, Fraction::constant(q(0)));
        assert!(zero.powi(-2, &mut work).is_none());
        // Degrees are bounded: a product or power past the bound gives up.
        let big = x.powi(12, &mut work).unwrap();
        assert!(big.mul(&big, &mut work).is_none());
        assert!(x.powi(MAX_FRACTION_DEGREE as i32 + 1, &mut work).is_none());
    }

    #[test]
    fn linear_factors_multiply_back_to_the_polynomial() {
        let r = |n: i64, d: i64| Rational::new(n.into(), d.into());
        // 5x^2 + 6x + 1 = 5 (x + 1)(x + 1/5); 6x^3 - 5x^2 - 2x + 1 = 6 (x - 1)(x - 1/2)(x + 1/3);
        // x^3 - 2 = (x - 2^(1/3))(...) has no rational root; x^4 + x^3 - x - 1 has
        // the roots 1 and -1 and the rest x^2 + x + 1.
        for p in [poly(&[1, 6, 5]), poly(&[1, -2, -5, 6]), poly(&[-1, -1, 0, 1, 1])] {
            let (linear, rest) = linear_factors(&p, &mut Bounds::default()).unwrap();
            let mut product = rest.clone();
            for l in &linear {
                assert_eq!(l.len(), 2, "{l:?}");
                assert!(l[1].is_one());
                product = mul(&product, l);
            }
            assert_eq!(product, p);
        }
        let (linear, rest) = linear_factors(&poly(&[-1, -1, 0, 1, 1]), &mut Bounds::default()).unwrap();
        assert_eq!(linear, vec![vec![q(-1), q(1)], vec![q(1), q(1)]]);
        assert_eq!(rest, poly(&[1, 1, 1]));
        assert_eq!(linear_factors(&poly(&[-2, 0, 0, 1]), &mut Bounds::default()), None);
        assert_eq!(linear_factors(&poly(&[1, 0, 1]), &mut Bounds::default()), None);
        // Degree 1 is already linear; huge end coefficients are not tried, and that
        // is recorded.
        let mut hit = Bounds::default();
        assert_eq!(linear_factors(&poly(&[1, 2]), &mut hit), None);
        assert_eq!(linear_factors(&poly(&[1, 0, 1]), &mut hit), None);
        assert!(hit.is_empty());
        assert_eq!(linear_factors(&[r(1, 1), r(0, 1), r(-(1 << 40), 1)], &mut hit), None);
        assert_eq!(hit.names(), ["root-candidates"]);
        // So are end coefficients with too many divisors: 720720 has 240, so
        // 240 * 240 candidates.
        let mut hit = Bounds::default();
        assert_eq!(linear_factors(&poly(&[720_720, 0, 1, 720_720]), &mut hit), None);
        assert_eq!(hit.names(), ["root-candidates"]);
    }

    /// The product of the parts is the polynomial, each factor is monic, and no two
    /// factors share a root (their gcd is 1).
    fn assert_decomposes(p: &Poly) {
        let (lead, factors) = square_free(p, &mut Bounds::default()).unwrap();
        let mut product = vec![lead];
        for (f, m) in &factors {
            assert!(f.last().is_some_and(One::is_one), "monic: {f:?}");
            for _ in 0..*m {
                product = mul(&product, f);
            }
        }
        assert_eq!(&product, p);
        for (i, (f, _)) in factors.iter().enumerate() {
            for (g, _) in &factors[i + 1..] {
                assert_eq!(gcd(f, g).unwrap(), poly(&[1]), "{f:?} and {g:?} share a factor");
            }
        }
    }

    #[test]
    fn repeated_factors_are_found() {
        // (x^2 - 1)^2 (3x^2 - 1)
        let p = poly(&[-1, 0, 5, 0, -7, 0, 3]);
        let (lead, factors) = square_free(&p, &mut Bounds::default()).unwrap();
        assert_eq!(lead, q(3));
        assert_eq!(
            factors,
            vec![
                (vec![Rational::new((-1).into(), 3.into()), q(0), q(1)], 1),
                (poly(&[-1, 0, 1]), 2)
            ]
        );
        assert_decomposes(&p);
        // x^3 (x + 2)^2 (x - 1)^4, built by multiplying.
        let mut p = poly(&[1]);
        for f in [
            &[0, 1][..],
            &[0, 1],
            &[0, 1],
            &[2, 1],
            &[2, 1],
            &[-1, 1],
            &[-1, 1],
            &[-1, 1],
            &[-1, 1],
        ] {
            p = mul(&p, &poly(f));
        }
        let (_, factors) = square_free(&p, &mut Bounds::default()).unwrap();
        let multiplicities: Vec<usize> = factors.iter().map(|(_, m)| *m).collect();
        assert_eq!(multiplicities, vec![2, 3, 4]);
        assert_decomposes(&p);
    }

    #[test]
    fn a_square_free_polynomial_is_one_factor() {
        let p = poly(&[1, 0, 1]);
        assert_eq!(
            square_free(&p, &mut Bounds::default()).unwrap(),
            (q(1), vec![(p.clone(), 1)])
        );
        assert_decomposes(&poly(&[-9, 4, 0, 0, 2]));
    }

    #[test]
    fn the_modular_test_never_calls_a_repeated_factor_square_free() {
        let residues = |p: &Poly| -> Vec<u64> {
            p.iter()
                .map(|c| residue(c.numer().try_into().unwrap(), c.denom().try_into().unwrap()).unwrap())
                .collect()
        };
        // (x^2 - 1)^2 (3x^2 - 1), x^2 - 2x + 1, and (x/2 + 1/3)^2 (x - 5).
        let half_third = vec![Rational::new(1.into(), 3.into()), Rational::new(1.into(), 2.into())];
        for p in [
            poly(&[-1, 0, 5, 0, -7, 0, 3]),
            poly(&[1, -2, 1]),
            mul(&mul(&half_third, &half_third), &poly(&[-5, 1])),
        ] {
            assert!(!surely_square_free(&residues(&p)), "{p:?}");
        }
        for p in [poly(&[1, 0, 1]), poly(&[-9, 4, 0, 0, 2]), poly(&[-1, 0, 0, 3])] {
            assert!(surely_square_free(&residues(&p)), "{p:?}");
            assert!(square_free(&p, &mut Bounds::default())
                .unwrap()
                .1
                .iter()
                .all(|(_, m)| *m == 1));
        }
    }

    #[test]
    fn bounds_give_up_and_say_so() {
        let mut hit = Bounds::default();
        assert_eq!(square_free(&poly(&[5]), &mut hit), None);
        assert_eq!(square_free(&[], &mut hit), None);
        assert!(hit.is_empty(), "a constant is no bound");
        let mut wide = vec![q(0); MAX_DEGREE + 2];
        wide[MAX_DEGREE + 1] = q(1);
        assert_eq!(square_free(&wide, &mut hit), None);
        assert_eq!(hit.names(), ["polynomial-size"]);
        let mut hit = Bounds::default();
        let huge = Rational::from_integer(num_bigint::BigInt::from(3).pow(3000));
        assert_eq!(square_free(&[huge, q(0), q(1)], &mut hit), None);
        assert_eq!(hit.names(), ["polynomial-size"]);
    }
}
