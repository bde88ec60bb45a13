//! Lowest terms for rational functions of several variables: common factors of a
//! numerator and its denominator cancelled, by exact polynomial division.
//!
//! The normal form ([`crate::normal`]) brings fractions over a common denominator
//! but never divides one polynomial by another, and [`crate::normal::rational_function`]
//! does so in one variable only. So `(x^2 - y^2)/(x - y)` stayed as it was, and its
//! derivative read `(x^2 - 2*x*y + y^2)/(x - y)^2` where a person writes `1`.
//!
//! [`lowest_terms`] reads each rational part of an expression (the whole, and each
//! function's argument) as a fraction of polynomials whose variables are its atoms:
//! variables, constants, and whatever is not a sum, product or whole power (`sin(x)`,
//! `sqrt(y)`). The denominator is kept as a list of factors, as the expression wrote
//! them: each sum and each atom in a denominator, made primitive. Factors that divide
//! one another are split (`x^2 - y^2` over `x + y` leaves `x - y`), and then the
//! numerator is divided by each factor as often as it divides exactly. What is left is
//! written back, the numerator expanded and each factor as the input spelled it where
//! that is shorter, and kept only where it is shorter than the part was.
//!
//! Sound in Herbie's sense: a polynomial identity in the atoms holds wherever the atoms
//! are defined, and cancelling a factor only removes points where it was zero, where
//! the input was undefined. The arithmetic is exact and bounded (terms, degree,
//! coefficient bits and work); a part whose arithmetic passes a bound is left as it is,
//! and the bound is reported ([`Bound::PolynomialSize`]).

use crate::expr::{Builder, Expr, Func, Id, IdIndex, Node, Rational};
use crate::limits::{Bound, Bounds};
use crate::poly::{gcd_degree_mod, mul_mod, pow_mod, PRIME};
use crate::print::Numbers;
use num_traits::{One, Signed, ToPrimitive, Zero};
use smallvec::SmallVec;
use std::collections::BTreeMap;

/// Most distinct atoms in one rational part.
const MAX_ATOMS: usize = 4;

/// Most terms of any polynomial met on the way.
const MAX_TERMS: usize = 64;

/// Most an integer exponent may be, either sign, for a power to be read as one; a
/// higher power is an atom. A bound on reading, as [`MAX_PART_SIZE`] is, and not
/// reported: [`MAX_TERMS`] and [`MAX_WORK`] bound the arithmetic, and report what
/// they stop. (At 16, `(x + 1)^20*(x - 1)^20/(x^2 - 1)^19` did not cancel.)
const MAX_EXPONENT: u32 = 64;

/// Most bits of a coefficient's numerator or denominator.
const MAX_BITS: u64 = 128;

/// Most products of two terms (and division steps) for one expression.
const MAX_WORK: usize = 50_000;

/// Most nodes of a rational part, counted as a tree: larger parts are not read (a
/// bound on reading, as [`crate::normal::expand_polynomials`]'s, and not reported).
const MAX_PART_SIZE: usize = 64;

/// A polynomial in the atoms: each term's exponents (one per atom) and coefficient,
/// in lexicographic order of exponents, so the last term leads.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Poly(BTreeMap<Vec<u32>, Rational>);

/// What a computation may still spend; `None` from an operation once it is spent or a
/// result passes a bound, which `passed` records.
struct Work {
    left: usize,
    atoms: usize,
    passed: bool,
    /// Whether a factor was cancelled, or a fraction met inside a denominator: only
    /// then may the part read shorter in lowest terms than as it was written.
    changed: bool,
}

impl Work {
    /// The whole budget for one expression.
    fn new() -> Work {
        Work {
            left: MAX_WORK,
            atoms: 0,
            passed: false,
            changed: false,
        }
    }

    fn spend(&mut self, n: usize) -> Option<()> {
        match self.left.checked_sub(n) {
            Some(left) => {
                self.left = left;
                Some(())
            }
            None => {
                self.left = 0;
                self.passed = true;
                None
            }
        }
    }

    /// `p` if it is within the bounds on terms and coefficients.
    fn bounded(&mut self, p: Poly) -> Option<Poly> {
        let small = |r: &Rational| r.numer().bits() <= MAX_BITS && r.denom().bits() <= MAX_BITS;
        if p.0.len() <= MAX_TERMS && p.0.values().all(small) {
            Some(p)
        } else {
            self.passed = true;
            None
        }
    }
}

impl Poly {
    fn zero() -> Poly {
        Poly(BTreeMap::new())
    }

    fn constant(r: Rational, atoms: usize) -> Poly {
        let mut p = Poly::zero();
        if !r.is_zero() {
            p.0.insert(vec![0; atoms], r);
        }
        p
    }

    fn atom(i: usize, atoms: usize) -> Poly {
        let mut e = vec![0; atoms];
        e[i] = 1;
        let mut p = Poly::zero();
        p.0.insert(e, Rational::one());
        p
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn is_constant(&self) -> bool {
        self.0.len() <= 1 && self.0.keys().all(|e| e.iter().all(|&k| k == 0))
    }

    fn leading(&self) -> Option<(&Vec<u32>, &Rational)> {
        self.0.iter().next_back()
    }

    fn add(&self, other: &Poly, work: &mut Work) -> Option<Poly> {
        let mut out = self.0.clone();
        for (e, c) in &other.0 {
            let sum = out.get(e).map_or_else(|| c.clone(), |d| d + c);
            if sum.is_zero() {
                out.remove(e);
            } else {
                out.insert(e.clone(), sum);
            }
        }
        work.bounded(Poly(out))
    }

    fn scale(&self, r: &Rational) -> Poly {
        Poly(self.0.iter().map(|(e, c)| (e.clone(), c * r)).collect())
    }

    fn mul(&self, other: &Poly, work: &mut Work) -> Option<Poly> {
        work.spend(self.0.len().saturating_mul(other.0.len()))?;
        let mut out: BTreeMap<Vec<u32>, Rational> = BTreeMap::new();
        for (a, x) in &self.0 {
            for (b, y) in &other.0 {
                let e: Vec<u32> = a.iter().zip(b).map(|(p, q)| p + q).collect();
                if e.iter().any(|&k| k > MAX_EXPONENT * 4) {
                    work.passed = true;
                    return None;
                }
                let product = x * y;
                let sum = match out.remove(&e) {
                    Some(c) => c + product,
                    None => product,
                };
                if !sum.is_zero() {
                    out.insert(e, sum);
                }
            }
            if out.len() > 4 * MAX_TERMS {
                work.passed = true;
                return None;
            }
        }
        work.bounded(Poly(out))
    }

    fn pow(&self, k: u32, work: &mut Work) -> Option<Poly> {
        let mut out = Poly::constant(Rational::one(), work.atoms);
        for _ in 0..k {
            out = out.mul(self, work)?;
        }
        Some(out)
    }

    /// `self / d` when `d` divides `self` exactly; `None` when it does not (or the work
    /// runs out). With a single divisor, the division by leading terms leaves no
    /// remainder exactly when it divides.
    fn div_exact(&self, d: &Poly, work: &mut Work) -> Option<Poly> {
        let (lead, lc) = d.leading()?;
        let mut rest = self.clone();
        let mut quotient = Poly::zero();
        while let Some((e, c)) = rest.leading() {
            work.spend(d.0.len())?;
            if e.iter().zip(lead).any(|(p, q)| p < q) {
                return None;
            }
            let shift: Vec<u32> = e.iter().zip(lead).map(|(p, q)| p - q).collect();
            let factor = c / lc;
            let mut term = Poly::zero();
            term.0.insert(shift, factor);
            let step = term.mul(d, work)?.scale(&-Rational::one());
            rest = rest.add(&step, work)?;
            quotient = quotient.add(&term, work)?;
        }
        Some(quotient)
    }

    /// The rational content, signed so that the leading coefficient of what is left is
    /// positive, and what is left, with coprime integer coefficients.
    fn primitive(&self) -> (Rational, Poly) {
        use num_integer::Integer;
        let Some((_, lc)) = self.leading() else {
            return (Rational::one(), self.clone());
        };
        let numerators = self
            .0
            .values()
            .fold(num_bigint::BigInt::zero(), |g, c| g.gcd(c.numer()));
        let denominators = self.0.values().fold(num_bigint::BigInt::one(), |l, c| l.lcm(c.denom()));
        let mut content = Rational::new(numerators, denominators);
        if lc.is_negative() {
            content = -content;
        }
        let inverse = content.recip();
        (content, self.scale(&inverse))
    }

    /// The highest power of each atom dividing every term.
    fn monomial_content(&self) -> Vec<u32> {
        let mut least: Option<Vec<u32>> = None;
        for e in self.0.keys() {
            least = Some(match least {
                None => e.clone(),
                Some(l) => l.iter().zip(e).map(|(a, b)| *a.min(b)).collect(),
            });
        }
        least.unwrap_or_default()
    }

    fn div_monomial(&self, m: &[u32]) -> Poly {
        Poly(
            self.0
                .iter()
                .map(|(e, c)| (e.iter().zip(m).map(|(p, q)| p - q).collect(), c.clone()))
                .collect(),
        )
    }
}

impl Poly {
    /// `self` with each power of atom `square` written as that atom to the power 0 or
    /// 1 times a power of `k0 + k1*other^2`, which its square equals.
    fn square_replaced(&self, square: usize, other: usize, k: &(Rational, Rational), work: &mut Work) -> Option<Poly> {
        let n = work.atoms;
        let replacement = Poly::constant(k.0.clone(), n).add(&Poly::atom(other, n).pow(2, work)?.scale(&k.1), work)?;
        let mut powers = vec![Poly::constant(Rational::one(), n)];
        let mut out = Poly::zero();
        for (e, c) in &self.0 {
            let half = usize::try_from(e[square] / 2).ok()?;
            while powers.len() <= half {
                let next = powers[powers.len() - 1].mul(&replacement, work)?;
                powers.push(next);
            }
            let mut rest = e.clone();
            rest[square] %= 2;
            let mut term = Poly::zero();
            term.0.insert(rest, c.clone());
            out = out.add(&term.mul(&powers[half], work)?, work)?;
        }
        Some(out)
    }

    fn sub(&self, other: &Poly, work: &mut Work) -> Option<Poly> {
        self.add(&other.scale(&-Rational::one()), work)
    }

    /// The degree in atom `v`.
    fn degree(&self, v: usize) -> u32 {
        self.0.keys().map(|e| e[v]).max().unwrap_or(0)
    }

    /// The coefficients of the powers of atom `v`, each a polynomial in the others.
    fn coefficients(&self, v: usize) -> BTreeMap<u32, Poly> {
        let mut out: BTreeMap<u32, Poly> = BTreeMap::new();
        for (e, c) in &self.0 {
            let mut rest = e.clone();
            rest[v] = 0;
            out.entry(e[v]).or_insert_with(Poly::zero).0.insert(rest, c.clone());
        }
        out
    }

    /// The coefficient of the highest power of atom `v`.
    fn lead_in(&self, v: usize) -> Poly {
        self.coefficients(v).pop_last().map_or_else(Poly::zero, |(_, c)| c)
    }

    /// `self` times atom `v` to the power `k`.
    fn shift(&self, v: usize, k: u32) -> Poly {
        Poly(
            self.0
                .iter()
                .map(|(e, c)| {
                    let mut e = e.clone();
                    e[v] += k;
                    (e, c.clone())
                })
                .collect(),
        )
    }

    /// The greatest common divisor of the coefficients in atom `v`.
    fn content_in(&self, v: usize, work: &mut Work) -> Option<Poly> {
        let mut g = Poly::zero();
        for c in self.coefficients(v).into_values() {
            g = gcd(&g, &c, work)?;
            if g.is_constant() {
                break;
            }
        }
        Some(g)
    }
}

/// `r` modulo [`PRIME`]; `None` when its denominator is a multiple of it.
fn rational_mod(r: &Rational) -> Option<u64> {
    let p = num_bigint::BigInt::from(PRIME);
    let reduce = |n: &num_bigint::BigInt| -> u64 {
        let m = ((n % &p) + &p) % &p;
        m.to_u64().unwrap_or(0)
    };
    let (n, d) = (reduce(r.numer()), reduce(r.denom()));
    (d != 0).then(|| mul_mod(n, pow_mod(d, PRIME - 2)))
}

/// The coefficients in atom `v` (lowest degree first) of `p` with every other atom set
/// to `point`'s value, modulo [`PRIME`].
fn project(p: &Poly, v: usize, point: &[u64]) -> Option<Vec<u64>> {
    let mut out = vec![0u64; p.degree(v) as usize + 1];
    for (e, c) in &p.0 {
        let mut t = rational_mod(c)?;
        for (i, &k) in e.iter().enumerate() {
            if i != v {
                t = mul_mod(t, pow_mod(point[i], u64::from(k)));
            }
        }
        let slot = &mut out[e[v] as usize];
        *slot = (*slot + t) % PRIME;
    }
    Some(out)
}

/// Values for `n` atoms modulo [`PRIME`], from a fixed SplitMix64 sequence, so every
/// answer drawn from them is the same on every run.
fn fixed_point(seed: u64, n: usize) -> Vec<u64> {
    let mut sequence = crate::check::SplitMix64(seed);
    (0..n).map(|_| sequence.next() % PRIME).collect()
}

/// Whether `a` and `f` may share a factor that is not a number, decided cheaply: for
/// each atom `v` of `f`, with every other atom set to a fixed value modulo a prime,
/// the two are polynomials in `v`, and a shared factor holding `v` would divide both
/// (their degrees kept, so no leading coefficient vanished): if their greatest common
/// divisor there is a number, none holds `v`. `false` only when that holds for every
/// atom of `f`, so a factor the exact [`gcd`] would find is never missed; `true` when
/// unsure, so the exact one decides.
fn may_share_a_factor(a: &Poly, f: &Poly, atoms: usize) -> bool {
    let point = fixed_point(0x9E37_79B9_7F4A_7C15, atoms);
    for v in 0..atoms {
        let (da, df) = (a.degree(v), f.degree(v));
        if df == 0 {
            continue;
        }
        if da == 0 {
            // A factor holding `v` cannot divide `a`.
            continue;
        }
        let (Some(pa), Some(pf)) = (project(a, v, &point), project(f, v, &point)) else {
            return true;
        };
        if pa.last() == Some(&0) || pf.last() == Some(&0) || gcd_degree_mod(pa, pf) > 0 {
            return true;
        }
    }
    false
}

/// The greatest common divisor of two polynomials in several atoms, primitive (coprime
/// integer coefficients, the leading one positive): the recursive primitive
/// polynomial remainder sequence in the first atom either holds, with the contents
/// (polynomials in the other atoms) taken apart first. Exact; `None` when the work or
/// a size bound runs out.
fn gcd(a: &Poly, b: &Poly, work: &mut Work) -> Option<Poly> {
    if a.is_zero() {
        return Some(b.primitive().1);
    }
    if b.is_zero() {
        return Some(a.primitive().1);
    }
    let one = Poly::constant(Rational::one(), work.atoms);
    if a.is_constant() || b.is_constant() {
        return Some(one);
    }
    let Some(v) = (0..work.atoms).find(|&v| a.degree(v) > 0 || b.degree(v) > 0) else {
        return Some(one);
    };
    // An atom only one of them holds divides nothing of the other: the gcd divides the
    // other's content in it.
    if a.degree(v) == 0 {
        return gcd(a, &b.content_in(v, work)?, work);
    }
    if b.degree(v) == 0 {
        return gcd(&a.content_in(v, work)?, b, work);
    }
    let (ca, cb) = (a.content_in(v, work)?, b.content_in(v, work)?);
    let content = gcd(&ca, &cb, work)?;
    let (mut p, mut q) = (a.div_exact(&ca, work)?, b.div_exact(&cb, work)?);
    if p.degree(v) < q.degree(v) {
        std::mem::swap(&mut p, &mut q);
    }
    let g = loop {
        // The pseudo-remainder of `p` by `q` in `v`, made primitive.
        let (dq, lq) = (q.degree(v), q.lead_in(v));
        let mut r = p;
        while !r.is_zero() && r.degree(v) >= dq {
            work.spend(r.0.len())?;
            let step = r.lead_in(v).shift(v, r.degree(v) - dq).mul(&q, work)?;
            r = r.mul(&lq, work)?.sub(&step, work)?;
        }
        if r.is_zero() {
            break q;
        }
        if r.degree(v) == 0 {
            break one;
        }
        let cr = r.content_in(v, work)?;
        (p, q) = (q, r.div_exact(&cr, work)?);
    };
    let g = g.div_exact(&g.content_in(v, work)?, work)?;
    Some(g.mul(&content, work)?.primitive().1)
}

/// A rational function: a numerator over a product of factors, each primitive (coprime
/// integer coefficients, leading coefficient positive), distinct, not constant, with
/// its multiplicity.
#[derive(Clone, Debug)]
struct Fraction {
    num: Poly,
    den: Vec<(Poly, u32)>,
}

impl Fraction {
    fn of(num: Poly) -> Fraction {
        Fraction { num, den: Vec::new() }
    }

    fn multiplicity(&self, f: &Poly) -> u32 {
        self.den.iter().find(|(g, _)| g == f).map_or(0, |(_, m)| *m)
    }

    fn add(&self, other: &Fraction, work: &mut Work) -> Option<Fraction> {
        let mut den = self.den.clone();
        for (f, m) in &other.den {
            match den.iter_mut().find(|(g, _)| g == f) {
                Some(entry) => entry.1 = entry.1.max(*m),
                None => den.push((f.clone(), *m)),
            }
        }
        let lift = |x: &Fraction, work: &mut Work| -> Option<Poly> {
            let mut p = x.num.clone();
            for (f, m) in &den {
                p = p.mul(&f.pow(m - x.multiplicity(f), work)?, work)?;
            }
            Some(p)
        };
        let (a, b) = (lift(self, work)?, lift(other, work)?);
        let num = a.add(&b, work)?;
        Some(Fraction { num, den })
    }

    fn mul(&self, other: &Fraction, work: &mut Work) -> Option<Fraction> {
        let mut den = self.den.clone();
        for (f, m) in &other.den {
            match den.iter_mut().find(|(g, _)| g == f) {
                Some(entry) => entry.1 = entry.1.checked_add(*m)?,
                None => den.push((f.clone(), *m)),
            }
        }
        Some(Fraction {
            num: self.num.mul(&other.num, work)?,
            den,
        })
    }

    fn pow(&self, k: u32, work: &mut Work) -> Option<Fraction> {
        Some(Fraction {
            num: self.num.pow(k, work)?,
            den: self
                .den
                .iter()
                .map(|(f, m)| Some((f.clone(), m.checked_mul(k)?)))
                .collect::<Option<_>>()?,
        })
    }

    /// `1/self`: the numerator's atoms and its primitive part become factors.
    fn recip(&self, work: &mut Work) -> Option<Fraction> {
        if self.num.is_zero() {
            return None;
        }
        work.changed |= !self.den.is_empty();
        let mut num = Poly::constant(Rational::one(), work.atoms);
        for (f, m) in &self.den {
            num = num.mul(&f.pow(*m, work)?, work)?;
        }
        let mono = self.num.monomial_content();
        let rest = self.num.div_monomial(&mono);
        let (content, primitive) = rest.primitive();
        let mut den = Vec::new();
        for (i, &k) in mono.iter().enumerate() {
            if k > 0 {
                den.push((Poly::atom(i, work.atoms), k));
            }
        }
        if !primitive.is_constant() {
            den.push((primitive, 1));
        }
        Some(Fraction {
            num: num.scale(&content.recip()),
            den,
        })
    }

    /// `self` with the square of atom `square` replaced, wherever it divides a term,
    /// by `k0 + k1*other^2` (an identity between the atoms, such as
    /// `sin(u)^2 = 1 - cos(u)^2`), in its numerator and each factor, and then in lowest
    /// terms again. `None` where a factor becomes zero or a bound is passed.
    fn reduced(&self, square: usize, other: usize, k: &(Rational, Rational), work: &mut Work) -> Option<Fraction> {
        let mut out = Fraction::of(self.num.square_replaced(square, other, k, work)?);
        for (f, m) in &self.den {
            // A factor whose power holds the square is reduced as that power: `sin(u)`
            // twice over is `1 - cos(u)^2`.
            let (f, m) = if f.degree(square) > 0 && *m >= 2 {
                (&f.pow(*m, work)?, &1)
            } else {
                (f, m)
            };
            let g = f.square_replaced(square, other, k, work)?;
            if g.is_zero() {
                return None;
            }
            let mono = g.monomial_content();
            let (content, rest) = g.div_monomial(&mono).primitive();
            out.num = out.num.scale(&num_traits::Pow::pow(&content, *m).recip());
            let atoms = mono.iter().enumerate().filter(|(_, &k)| k > 0);
            let factors = atoms.map(|(i, &k)| (Poly::atom(i, work.atoms), k.checked_mul(*m)));
            for (h, j) in factors.chain((!rest.is_constant()).then_some((rest, Some(*m)))) {
                let j = j?;
                match out.den.iter_mut().find(|(g, _)| *g == h) {
                    Some(entry) => entry.1 = entry.1.checked_add(j)?,
                    None => out.den.push((h, j)),
                }
            }
        }
        out.cancel(work)?;
        out.split_by_gcd(work)?;
        out.cancel(work)?;
        Some(out)
    }

    /// Splits each factor that shares a divisor with the numerator into the greatest
    /// common divisor and the rest, so that [`Fraction::cancel`] can cancel it.
    fn split_by_gcd(&mut self, work: &mut Work) -> Option<()> {
        let mut i = 0;
        while i < self.den.len() {
            if !may_share_a_factor(&self.num, &self.den[i].0, work.atoms) {
                i += 1;
                continue;
            }
            let g = gcd(&self.num, &self.den[i].0, work)?;
            if g.is_constant() || g == self.den[i].0 {
                i += 1;
                continue;
            }
            let q = self.den[i].0.div_exact(&g, work)?;
            let (content, q) = q.primitive();
            let (_, m) = self.den.remove(i);
            self.num = self.num.scale(&num_traits::Pow::pow(&content, m).recip());
            for f in [g, q] {
                match self.den.iter_mut().find(|(h, _)| *h == f) {
                    Some(entry) => entry.1 = entry.1.saturating_add(m),
                    None => self.den.push((f, m)),
                }
            }
        }
        Some(())
    }

    /// Splits factors that divide one another, then divides the numerator by each
    /// factor as often as it divides exactly.
    fn cancel(&mut self, work: &mut Work) -> Option<()> {
        // A factor that another divides is that one times the quotient: `x^2 - y^2`
        // beside `x + y` is `(x + y)*(x - y)`. Each split lowers a degree, so this ends.
        let mut changed = true;
        while changed {
            changed = false;
            'pairs: for i in 0..self.den.len() {
                for j in 0..self.den.len() {
                    if i == j {
                        continue;
                    }
                    if let Some(q) = self.den[i].0.div_exact(&self.den[j].0, work) {
                        if q.is_constant() {
                            continue;
                        }
                        let (content, q) = q.primitive();
                        let m = self.den[i].1;
                        self.den.remove(i);
                        let j = if j > i { j - 1 } else { j };
                        self.den[j].1 = self.den[j].1.saturating_add(m);
                        self.num = self.num.scale(&num_traits::Pow::pow(&content, m).recip());
                        match self.den.iter_mut().find(|(g, _)| *g == q) {
                            Some(entry) => entry.1 = entry.1.saturating_add(m),
                            None => self.den.push((q, m)),
                        }
                        changed = true;
                        break 'pairs;
                    }
                }
            }
        }
        for (f, m) in self.den.iter_mut() {
            while *m > 0 {
                match self.num.div_exact(f, work) {
                    Some(q) => {
                        self.num = q;
                        work.changed = true;
                        *m -= 1;
                    }
                    None => break,
                }
            }
        }
        self.den.retain(|(_, m)| *m > 0);
        Some(())
    }
}

/// Which parts [`read`] reads exactly.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Screen {
    /// Every part.
    Nothing,
    /// Only a part that may change in lowest terms ([`may_reduce`]).
    MayReduce,
    /// Only a part with a sine and a cosine of one argument among its atoms
    /// ([`trig_pairs`]).
    TrigPairs,
}

/// Reads the rational part of `e` rooted at `root` as a fraction over its atoms, which
/// are collected into `atoms` (the input's ids), in lowest terms. `None` when a bound
/// is passed (`work.passed` says which kind), there are more than [`MAX_ATOMS`] atoms,
/// or a denominator is zero, or the part does not pass `screen`.
fn read(e: &Expr, root: Id, atoms: &mut Vec<Id>, work: &mut Work, screen: Screen) -> Option<Fraction> {
    // The part's nodes, children first: those reachable from the root without passing
    // through an atom.
    let mut order: Vec<Id> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![(root, false)];
    while let Some((id, done)) = stack.pop() {
        if done {
            order.push(id);
            continue;
        }
        if !seen.insert(id) {
            continue;
        }
        stack.push((id, true));
        if !is_atom(e, id) {
            for &c in e.node(id).children() {
                if !matches!(e.node(id), Node::Pow([_, k]) if *k == c) {
                    stack.push((c, false));
                }
            }
        }
    }
    for &id in &order {
        if is_atom(e, id) && !atoms.contains(&id) {
            atoms.push(id);
            if atoms.len() > MAX_ATOMS {
                return None;
            }
        }
    }
    // In the structural order, so that the leading term is the one printed first
    // (`x - y`, not `-(y - x)`), and the result does not depend on the order met.
    atoms.sort_by(|&a, &b| crate::order::cmp_struct(e, a, b));
    work.atoms = atoms.len();
    let passes = match screen {
        Screen::Nothing => true,
        Screen::MayReduce => may_reduce(e, root, &order, atoms),
        // A pair can reduce only where one of its atoms is squared, which on the
        // nodes is (but for a product of sums multiplied out) a power of it.
        Screen::TrigPairs => {
            let pairs = trig_pairs(e, atoms);
            let paired = |a: Id| pairs.iter().any(|&(s, c, _)| atoms[s] == a || atoms[c] == a);
            order.iter().any(|&id| {
                matches!(e.node(id), Node::Pow([b, k]) if paired(*b)
                    && e.node(*k).as_num().is_some_and(whole_and_at_least_two))
            })
        }
    };
    if !passes {
        return None;
    }
    let n = atoms.len();
    let mut values: std::collections::HashMap<Id, Fraction> = std::collections::HashMap::new();
    for &id in &order {
        let value = if is_atom(e, id) {
            let i = atoms.iter().position(|&a| a == id)?;
            Fraction::of(Poly::atom(i, n))
        } else {
            match e.node(id) {
                Node::Num(r) => Fraction::of(Poly::constant((**r).clone(), n)),
                Node::Add(ts) => {
                    let mut acc = values.get(&ts[0])?.clone();
                    for t in &ts[1..] {
                        acc = acc.add(values.get(t)?, work)?;
                    }
                    acc
                }
                Node::Mul(fs) => {
                    let mut acc = values.get(&fs[0])?.clone();
                    for f in &fs[1..] {
                        acc = acc.mul(values.get(f)?, work)?;
                    }
                    acc
                }
                Node::Pow([b, k]) => {
                    let k = e.node(*k).as_num()?.to_integer().to_i64()?;
                    let base = values.get(b)?;
                    let magnitude = u32::try_from(k.unsigned_abs()).ok()?;
                    if k < 0 {
                        base.recip(work)?.pow(magnitude, work)?
                    } else {
                        base.pow(magnitude, work)?
                    }
                }
                _ => return None,
            }
        };
        values.insert(id, value);
    }
    let mut whole = values.remove(&root)?;
    whole.cancel(work)?;
    whole.split_by_gcd(work)?;
    whole.cancel(work)?;
    Some(whole)
}

/// A rational part's value with every atom but one set to a fixed value modulo
/// [`PRIME`]: its numerator as a polynomial in that atom (lowest degree first), over
/// the denominators the part wrote, each the id of the node whose reciprocal it is, with
/// its multiplicity (a common denominator takes each once, at its highest power, as
/// [`Fraction::add`] does).
struct Projected {
    num: Vec<u64>,
    den: Vec<(Id, u32)>,
}

fn poly_mul_mod(a: &[u64], b: &[u64]) -> Vec<u64> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let mut out = vec![0u64; a.len() + b.len() - 1];
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            out[i + j] = (out[i + j] + mul_mod(x, y)) % PRIME;
        }
    }
    out
}

fn poly_pow_mod(a: &[u64], k: u32) -> Vec<u64> {
    (0..k).fold(vec![1], |acc, _| poly_mul_mod(&acc, a))
}

/// Whether reading the part exactly may change it: a denominator it wrote shares a
/// factor with its numerator, or a fraction stands inside a denominator. Decided modulo
/// [`PRIME`], atom by atom, with the other atoms at fixed values: a shared factor holds
/// some atom, and stays a common factor of the two polynomials in that atom unless its
/// leading coefficient vanishes at the point, which has probability about its degree
/// over 2^61. `false` spares the exact reading of the many parts with nothing to cancel.
fn may_reduce(e: &Expr, root: Id, order: &[Id], atoms: &[Id]) -> bool {
    let point = fixed_point(0x2545_F491_4F6C_DD1D, atoms.len());
    for v in 0..atoms.len() {
        let mut values: std::collections::HashMap<Id, Projected> = std::collections::HashMap::new();
        // The numerator of each reciprocal's base, the factor it stands for.
        let mut factors: std::collections::HashMap<Id, Vec<u64>> = std::collections::HashMap::new();
        for &id in order {
            let value = if let Some(i) = atoms.iter().position(|&a| a == id) {
                let num = if i == v { vec![0, 1] } else { vec![point[i]] };
                Projected { num, den: Vec::new() }
            } else {
                match e.node(id) {
                    Node::Num(r) => match rational_mod(r) {
                        Some(c) => Projected {
                            num: vec![c],
                            den: Vec::new(),
                        },
                        None => return true,
                    },
                    Node::Add(ts) => {
                        let mut den: Vec<(Id, u32)> = Vec::new();
                        for t in ts.iter() {
                            let Some(x) = values.get(t) else { return true };
                            for &(f, m) in &x.den {
                                match den.iter_mut().find(|(g, _)| *g == f) {
                                    Some(entry) => entry.1 = entry.1.max(m),
                                    None => den.push((f, m)),
                                }
                            }
                        }
                        let mut num: Vec<u64> = Vec::new();
                        for t in ts.iter() {
                            let Some(x) = values.get(t) else { return true };
                            let mut lifted = x.num.clone();
                            for &(f, m) in &den {
                                let have = x.den.iter().find(|(g, _)| *g == f).map_or(0, |(_, k)| *k);
                                let Some(base) = factors.get(&f) else { return true };
                                lifted = poly_mul_mod(&lifted, &poly_pow_mod(base, m - have));
                            }
                            if lifted.len() > num.len() {
                                num.resize(lifted.len(), 0);
                            }
                            for (o, c) in num.iter_mut().zip(&lifted) {
                                *o = (*o + c) % PRIME;
                            }
                        }
                        Projected { num, den }
                    }
                    Node::Mul(fs) => {
                        let mut num = vec![1u64];
                        let mut den: Vec<(Id, u32)> = Vec::new();
                        for f in fs.iter() {
                            let Some(x) = values.get(f) else { return true };
                            num = poly_mul_mod(&num, &x.num);
                            for &(g, m) in &x.den {
                                match den.iter_mut().find(|(h, _)| *h == g) {
                                    Some(entry) => entry.1 = entry.1.saturating_add(m),
                                    None => den.push((g, m)),
                                }
                            }
                        }
                        Projected { num, den }
                    }
                    Node::Pow([b, k]) => {
                        let Some(k) = e.node(*k).as_num().and_then(|k| k.to_integer().to_i64()) else {
                            return true;
                        };
                        let Some(x) = values.get(b) else { return true };
                        let m = u32::try_from(k.unsigned_abs()).unwrap_or(u32::MAX).min(MAX_EXPONENT);
                        if k > 0 {
                            Projected {
                                num: poly_pow_mod(&x.num, m),
                                den: x.den.iter().map(|&(f, j)| (f, j.saturating_mul(m))).collect(),
                            }
                        } else {
                            // A fraction inside a denominator: lowest terms may read
                            // shorter without anything to cancel.
                            if !x.den.is_empty() {
                                return true;
                            }
                            factors.insert(*b, x.num.clone());
                            Projected {
                                num: vec![1],
                                den: vec![(*b, m)],
                            }
                        }
                    }
                    _ => return true,
                }
            };
            values.insert(id, value);
        }
        let Some(whole) = values.get(&root) else { return true };
        for (f, _) in &whole.den {
            let Some(base) = factors.get(f) else { return true };
            if gcd_degree_mod(whole.num.clone(), base.clone()) > 0 {
                return true;
            }
        }
    }
    false
}

/// Whether a node is an atom of a rational part: anything but a number, a sum, a
/// product, or a power to a small whole exponent.
fn is_atom(e: &Expr, id: Id) -> bool {
    match e.node(id) {
        Node::Num(_) | Node::Add(_) | Node::Mul(_) => false,
        Node::Pow([_, k]) => !e.node(*k).as_num().is_some_and(|r| {
            r.is_integer() && r.numer().magnitude() <= &num_bigint::BigUint::from(MAX_EXPONENT) && !r.is_zero()
        }),
        _ => true,
    }
}

/// Whether a part holds a denominator other than a lone atom's: a negative power of a
/// sum or product, where there may be something to cancel.
fn has_sum_denominator(e: &Expr, root: Id) -> bool {
    let mut stack = vec![root];
    let mut seen = std::collections::HashSet::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) || is_atom(e, id) {
            continue;
        }
        if let Node::Pow([b, k]) = e.node(id) {
            if e.node(*k).as_num().is_some_and(Signed::is_negative) && matches!(e.node(*b), Node::Add(_)) {
                return true;
            }
        }
        stack.extend(e.node(id).children().iter().copied());
    }
    false
}

/// Node `i` of an expression imported into `b` (as `imported`), with its children
/// replaced by what `map` says they became: the imported node itself where none
/// changed.
fn rebuilt(b: &mut Builder, node: &Node, i: usize, map: &[Id], imported: &[Id]) -> Id {
    if node.children().iter().all(|c| map[c.index()] == imported[c.index()]) {
        imported[i]
    } else {
        b.make(node, |c| map[c.index()])
    }
}

/// Writes a polynomial over the atoms (their ids in the builder).
fn write_poly(b: &mut Builder, p: &Poly, atoms: &[Id]) -> Id {
    let mut terms = Vec::with_capacity(p.0.len());
    for (e, c) in &p.0 {
        let mut factors = vec![b.num(c.clone())];
        for (i, &k) in e.iter().enumerate() {
            if k > 0 {
                let exponent = b.int(i64::from(k));
                factors.push(b.pow(atoms[i], exponent));
            }
        }
        terms.push(b.mul(factors));
    }
    b.add(terms)
}

/// `e` with each rational part (the whole, and each function's argument, each
/// non-whole power's base and exponent) in lowest terms where that is shorter,
/// counted in `numbers`: `(x^2 - 2*x*y + y^2)/(x - y)^2` is 1. `None` when no part
/// changes. The size bounds the arithmetic hit are added to `hit`.
///
/// ```
/// use dydx::{parse, cancel::lowest_terms, limits::Bounds, print::Numbers};
/// let mut hit = Bounds::default();
/// let e = parse("(x^2 - 2*x*y + y^2)/(x - y)^2").unwrap();
/// assert_eq!(lowest_terms(&e, Numbers::Fractions, &mut hit).unwrap().to_string(), "1");
/// let e = parse("sin(z + (x^3 - y^3)/(x^2 + x*y + y^2))").unwrap();
/// assert_eq!(lowest_terms(&e, Numbers::Fractions, &mut hit).unwrap().to_string(), "sin(x - y + z)");
/// // `x^2 - y^2` shares `x + y` with the numerator, which shows it nowhere.
/// let e = parse("y*(-x*(x + 2*y) - y^2)/(x^2 - y^2)^2").unwrap();
/// assert_eq!(lowest_terms(&e, Numbers::Fractions, &mut hit).unwrap().to_string(), "-y/(x - y)^2");
/// // Nothing cancels: `None`.
/// let e = parse("x/(x + y)").unwrap();
/// assert!(lowest_terms(&e, Numbers::Fractions, &mut hit).is_none());
/// assert!(hit.is_empty());
/// ```
pub fn lowest_terms(e: &Expr, numbers: Numbers, hit: &mut Bounds) -> Option<Expr> {
    rewrite_parts(e, Rewrite::WhereShorter(numbers), hit)
}

/// `e` with each rational part (as [`lowest_terms`] reads them) written in one spelling:
/// in lowest terms, its numerator and each denominator factor expanded over its atoms,
/// whatever the length. Two parts equal as rational functions of the same atoms are
/// then written alike, so `exp(x*(x + 2))` and `exp(x^2 + 2*x)` are the same
/// expression: for proofs ([`crate::claim`]), not for reading. Applied until nothing
/// changes (at most four times), since writing an argument alike can make two atoms
/// of the part above it one. `None` when no part changes. Sound as [`lowest_terms`].
///
/// ```
/// use dydx::{parse, cancel::parts_expanded, limits::Bounds};
/// let mut hit = Bounds::default();
/// let a = parts_expanded(&parse("(2*x + 2)*exp(x*(x + 2))").unwrap(), &mut hit).unwrap();
/// let b = parts_expanded(&parse("2*(x + 1)*exp(x^2 + 2*x)").unwrap(), &mut hit).unwrap();
/// assert_eq!(a, b);
/// assert_eq!(a.to_string(), "2*(x*exp(x^2 + 2*x) + exp(x^2 + 2*x))");
/// assert!(parts_expanded(&parse("sin(x)").unwrap(), &mut hit).is_none());
/// ```
pub fn parts_expanded(e: &Expr, hit: &mut Bounds) -> Option<Expr> {
    let mut current = e.clone();
    for _ in 0..4 {
        match rewrite_parts(&current, Rewrite::Expanded, hit) {
            Some(next) if next != current => current = next,
            _ => break,
        }
    }
    (current != *e).then_some(current)
}

/// `e` with its trigonometric and hyperbolic functions written as sines and cosines
/// (`tan(u)` is `sin(u)/cos(u)`, and `sin(2*u)` is `2*sin(u)*cos(u)` where `sin(u)` or
/// `cos(u)` is there too; likewise three times an argument), and each rational part in
/// lowest terms modulo `sin(u)^2 + cos(u)^2 = 1` (and `cosh(u)^2 - sinh(u)^2 = 1`)
/// where that is shorter, counted in `numbers`: the square of a sine is written with
/// its cosine, or the square of the cosine with the sine, whichever reads shorter, and
/// the fraction cancelled again.
///
/// - `None` when that changes nothing, or only writes the functions longer.
/// - The whole may still be longer than `e` where one part is shorter and the
///   functions around it are longer as sines and cosines, so the caller compares.
/// - Sound as [`lowest_terms`]: each rewrite is an identity wherever both sides are
///   defined, and defined where the input is.
/// - Only expressions with a sine or cosine squared (or to a higher power) beside its
///   partner are read, and only parts whose atoms hold such a pair.
///
/// ```
/// use dydx::{parse, cancel::lowest_terms_in_sines_and_cosines, limits::Bounds, print::Numbers};
/// let mut hit = Bounds::default();
/// // d/dx sin(x)^2/(1 - cos(x)), where sin(x)^2 is (1 - cos(x))*(1 + cos(x)).
/// let e = parse("(sin(2*x) - sin(x)^3/(1 - cos(x)))/(1 - cos(x))").unwrap();
/// let out = lowest_terms_in_sines_and_cosines(&e, Numbers::Fractions, &mut hit).unwrap();
/// assert_eq!(out.to_string(), "-sin(x)");
/// // d/dx sin(2*x)/sin(x) is d/dx 2*cos(x).
/// let e = parse("(2*cos(2*x) - cot(x)*sin(2*x))/sin(x)").unwrap();
/// let out = lowest_terms_in_sines_and_cosines(&e, Numbers::Fractions, &mut hit).unwrap();
/// assert_eq!(out.to_string(), "-2*sin(x)");
/// // No sine beside a cosine of its argument: nothing to do.
/// assert!(lowest_terms_in_sines_and_cosines(&parse("sin(x)/(1 - cos(y))").unwrap(), Numbers::Fractions, &mut hit).is_none());
/// ```
pub fn lowest_terms_in_sines_and_cosines(e: &Expr, numbers: Numbers, hit: &mut Bounds) -> Option<Expr> {
    if !may_pair(e) {
        return None;
    }
    let written = in_base_angles(e);
    // A sine or cosine squared (or to a higher power, either sign) beside its partner.
    let holds_pair = {
        let nodes = written.nodes();
        let partner = |f: Func| match f {
            Func::Sin => Some(Func::Cos),
            Func::Cos => Some(Func::Sin),
            Func::Sinh => Some(Func::Cosh),
            Func::Cosh => Some(Func::Sinh),
            _ => None,
        };
        let squared = |b: Id, k: Id| {
            let Node::Call(f, [u]) = &nodes[b.index()] else {
                return false;
            };
            let Some(g) = partner(*f) else { return false };
            nodes[k.index()].as_num().is_some_and(whole_and_at_least_two)
                && nodes
                    .iter()
                    .any(|m| matches!(m, Node::Call(h, [v]) if *h == g && v == u))
        };
        nodes.iter().any(|n| matches!(n, Node::Pow([b, k]) if squared(*b, *k)))
    };
    let reduced = if holds_pair {
        rewrite_parts(&written, Rewrite::Pythagorean(numbers), hit)
    } else {
        None
    };
    let ops = |x: &Expr| crate::print::op_count_with(x, numbers);
    reduced.or_else(|| (ops(&written) < ops(e)).then_some(written))
}

/// Whether an exponent squares what it raises (or more), either sign: a whole number
/// of magnitude at least 2. A fractional power is an atom of its part, and squares
/// nothing there.
fn whole_and_at_least_two(r: &Rational) -> bool {
    r.is_integer() && r.numer().magnitude() >= &num_bigint::BigUint::from(2u32)
}

/// Whether [`in_base_angles`] may write a sine or cosine squared beside its partner:
/// a function of either family to a whole power of at least 2 (either sign), or two
/// functions of one family whose arguments are equal or one twice or three times the
/// other. Checked on the nodes, building only to divide arguments.
fn may_pair(e: &Expr) -> bool {
    let family = |f: Func| match f {
        Func::Sin | Func::Cos | Func::Tan | Func::Cot | Func::Sec | Func::Csc => Some(false),
        Func::Sinh | Func::Cosh | Func::Tanh => Some(true),
        _ => None,
    };
    let nodes = e.nodes();
    let mut calls: SmallVec<[(Func, Id, bool); 8]> = SmallVec::new();
    for node in nodes {
        match node {
            Node::Call(f, [u]) => {
                if let Some(hyperbolic) = family(*f) {
                    calls.push((*f, *u, hyperbolic));
                }
            }
            Node::Pow([b, k]) => {
                let called = matches!(&nodes[b.index()], Node::Call(f, _) if family(*f).is_some());
                if called && nodes[k.index()].as_num().is_some_and(whole_and_at_least_two) {
                    return true;
                }
            }
            _ => {}
        }
    }
    let same_family = |(f, u, h): &(Func, Id, bool), (g, v, k): &(Func, Id, bool)| h == k && (f != g || u != v);
    if calls
        .iter()
        .any(|a| calls.iter().any(|b| same_family(a, b) && a.1 == b.1))
    {
        return true;
    }
    if !calls.iter().any(|a| calls.iter().any(|b| same_family(a, b))) {
        return false;
    }
    let mut scratch = Builder::with_capacity(e.len() + 8);
    let ids = scratch.import_all(e);
    let parts = [2, 3].map(|k| scratch.num(Rational::new(1.into(), k.into())));
    calls.iter().any(|a| {
        parts.iter().any(|&r| {
            let base = scratch.mul([r, ids[a.1.index()]]);
            calls.iter().any(|b| b.2 == a.2 && ids[b.1.index()] == base)
        })
    })
}

/// `e` with every quotient function over sines and cosines
/// (`tan(u)` is `sin(u)/cos(u)`, `sec(u)` is `1/cos(u)`, and the like), and
/// each sine or cosine of an argument twice or three times another's, of the same
/// family, written in the other's: `sin(2*u)` is `2*sin(u)*cos(u)`, `cos(2*u)` is
/// `cos(u)^2 - sin(u)^2`, `sin(3*u)` is `3*sin(u) - 4*sin(u)^3`, and the like
/// (`cosh(2*u)` is `cosh(u)^2 + sinh(u)^2`). So that the functions of one argument
/// are sines and cosines of it, which can pair. Exact, and defined where `e` is.
///
/// ```
/// use dydx::{parse, cancel::in_base_angles};
/// let e = parse("cos(x)/(2*cos(x/2)^2) + tan(y)").unwrap();
/// assert_eq!(
///     in_base_angles(&e).to_string(),
///     "sin(y)/cos(y) + (cos(x/2)^2 - sin(x/2)^2)/(2*cos(x/2)^2)"
/// );
/// ```
pub fn in_base_angles(e: &Expr) -> Expr {
    let quotient = |n: &Node| {
        matches!(
            n,
            Node::Call(Func::Tan | Func::Sec | Func::Csc | Func::Cot | Func::Tanh, _)
        )
    };
    let mut current = if e.nodes().iter().any(quotient) {
        crate::expr::rewrite_calls(e, |b, f, _, v| crate::normal::over_sines_and_cosines(b, f, v))
    } else {
        e.clone()
    };
    let part = |k: i64| Rational::new(1.into(), k.into());
    // A chain `sin(4*x)`, `sin(2*x)`, `sin(x)` takes one round a link.
    for _ in 0..3 {
        let mut scratch = Builder::with_capacity(current.len() + 8);
        let ids = scratch.import_all(&current);
        let arguments: Vec<(Id, bool)> = current
            .nodes()
            .iter()
            .filter_map(|n| match n {
                Node::Call(Func::Sin | Func::Cos, [u]) => Some((*u, false)),
                Node::Call(Func::Sinh | Func::Cosh, [u]) => Some((*u, true)),
                _ => None,
            })
            .collect();
        // Each argument that is 2 or 3 times another of its family, with the multiple.
        let mut multiples: Vec<(Id, bool, i64)> = Vec::new();
        for &(u, hyperbolic) in &arguments {
            for k in [2, 3] {
                let r = scratch.num(part(k));
                let base = scratch.mul([r, ids[u.index()]]);
                let meets = arguments
                    .iter()
                    .any(|&(v, family)| family == hyperbolic && ids[v.index()] == base);
                if meets && !multiples.iter().any(|&(w, h, _)| w == u && h == hyperbolic) {
                    multiples.push((u, hyperbolic, k));
                }
            }
        }
        if multiples.is_empty() {
            break;
        }
        current = crate::expr::rewrite_calls(&current, |b, f, u, v| {
            let hyperbolic = matches!(f, Func::Sinh | Func::Cosh);
            if !matches!(f, Func::Sin | Func::Cos | Func::Sinh | Func::Cosh) {
                return None;
            }
            let &(_, _, k) = multiples.iter().find(|&&(w, h, _)| w == u && h == hyperbolic)?;
            let r = b.num(part(k));
            let base = b.mul([r, v]);
            let (sine, cosine) = if hyperbolic {
                (Func::Sinh, Func::Cosh)
            } else {
                (Func::Sin, Func::Cos)
            };
            let s = b.call(sine, base);
            let c = b.call(cosine, base);
            let sine_of_multiple = f == sine;
            // sin(2u) = 2*s*c; cos(2u) = c^2 - s^2; sinh(2u) = 2*s*c; cosh(2u) = c^2 + s^2;
            // sin(3u) = 3*s - 4*s^3; cos(3u) = 4*c^3 - 3*c; sinh(3u) = 3*s + 4*s^3;
            // cosh(3u) = 4*c^3 - 3*c.
            let term = |b: &mut Builder, coefficient: i64, factors: &[(Id, i64)]| {
                let mut parts = vec![b.int(coefficient)];
                for &(x, n) in factors {
                    let n = b.int(n);
                    parts.push(b.pow(x, n));
                }
                b.mul(parts)
            };
            let sign = if hyperbolic { 1 } else { -1 };
            let terms = match (k, sine_of_multiple) {
                (2, true) => vec![term(b, 2, &[(s, 1), (c, 1)])],
                (2, false) => vec![term(b, 1, &[(c, 2)]), term(b, sign, &[(s, 2)])],
                (_, true) => vec![term(b, 3, &[(s, 1)]), term(b, 4 * sign, &[(s, 3)])],
                (_, false) => vec![term(b, 4, &[(c, 3)]), term(b, -3, &[(c, 1)])],
            };
            Some(b.add(terms))
        });
    }
    current
}

/// The sines and cosines of one argument among a part's atoms (circular or
/// hyperbolic): the sine's index, the cosine's, and whether hyperbolic.
fn trig_pairs(e: &Expr, atoms: &[Id]) -> Vec<(usize, usize, bool)> {
    let mut pairs = Vec::new();
    for (i, &a) in atoms.iter().enumerate() {
        for (j, &c) in atoms.iter().enumerate() {
            match (e.node(a), e.node(c)) {
                (Node::Call(Func::Sin, [u]), Node::Call(Func::Cos, [v])) if u == v => pairs.push((i, j, false)),
                (Node::Call(Func::Sinh, [u]), Node::Call(Func::Cosh, [v])) if u == v => pairs.push((i, j, true)),
                _ => {}
            }
        }
    }
    pairs
}

/// `f` as it is, and reduced by each pair's identity, each pair in each of its two
/// directions (the sine's square written with the cosine, or the cosine's with the
/// sine): every combination that stays within the bounds. Only `f` where no atom of
/// a pair is squared.
fn pythagorean_forms(f: &Fraction, pairs: &[(usize, usize, bool)], work: &mut Work) -> Vec<Fraction> {
    let one = Rational::one();
    let mut forms = Vec::with_capacity(1 << pairs.len().min(2));
    // A pair neither of whose atoms is squared anywhere reduces to itself.
    let squared = |i: usize| {
        let in_poly = |p: &Poly| p.0.keys().any(|e| e[i] >= 2);
        in_poly(&f.num) || f.den.iter().any(|(g, m)| in_poly(g) || (g.degree(i) > 0 && *m >= 2))
    };
    let pairs: SmallVec<[(usize, usize, bool); 2]> = pairs
        .iter()
        .copied()
        .filter(|&(s, c, _)| squared(s) || squared(c))
        .collect();
    // In lowest terms as read, too: where a factor left holds the atom whose square
    // is replaced, the reduced numerator may no longer divide by it exactly.
    forms.push(f.clone());
    if pairs.is_empty() {
        return forms;
    }
    'combinations: for mask in 0..(1u32 << pairs.len()) {
        let mut g = f.clone();
        for (k, &(sine, cosine, hyperbolic)) in pairs.iter().enumerate() {
            // sin² = 1 - cos², cos² = 1 - sin²; sinh² = cosh² - 1, cosh² = 1 + sinh².
            let (square, other, coefficients) = match (mask >> k & 1 == 0, hyperbolic) {
                (true, false) => (sine, cosine, (one.clone(), -one.clone())),
                (false, false) => (cosine, sine, (one.clone(), -one.clone())),
                (true, true) => (sine, cosine, (-one.clone(), one.clone())),
                (false, true) => (cosine, sine, (one.clone(), one.clone())),
            };
            match g.reduced(square, other, &coefficients, work) {
                Some(h) => g = h,
                None => continue 'combinations,
            }
        }
        forms.push(g);
    }
    forms
}

/// `e` with the sums a product divides by to one power multiplied out together where
/// that is shorter, counted in `numbers`: `2/((x + 1)*(1 - x))` is `2/(1 - x^2)`, and
/// `1/((x - 1)^2*(x + 1)^2)` is `1/(x^2 - 1)^2`. The normal form multiplies out
/// products of sums in numerators only. Exact: `a^-k*b^-k` is `(a*b)^-k` for a whole
/// `k`, with the same zeros. `None` when nothing is shorter. The size bounds the
/// arithmetic hit are added to `hit`.
///
/// ```
/// use dydx::{parse, cancel::denominators_multiplied_out, limits::Bounds, print::Numbers};
/// let mut hit = Bounds::default();
/// let e = parse("2/((x + 1)*(1 - x))").unwrap();
/// assert_eq!(denominators_multiplied_out(&e, Numbers::Fractions, &mut hit).unwrap().to_string(), "2/(1 - x^2)");
/// // Longer multiplied out: as it is.
/// let e = parse("1/((x + y)*(x - 2*y))").unwrap();
/// assert!(denominators_multiplied_out(&e, Numbers::Fractions, &mut hit).is_none());
/// ```
pub fn denominators_multiplied_out(e: &Expr, numbers: Numbers, hit: &mut Bounds) -> Option<Expr> {
    let nodes = e.nodes();
    // Only a product dividing by two sums to one power.
    let sum_denominator = |f: &Id| match &nodes[f.index()] {
        Node::Pow([b, k]) if matches!(nodes[b.index()], Node::Add(_)) => nodes[k.index()]
            .as_num()
            .filter(|r| r.is_integer() && r.is_negative())
            .cloned(),
        _ => None,
    };
    let candidate = |node: &Node| match node {
        Node::Mul(fs) => {
            let ks: SmallVec<[Rational; 4]> = fs.iter().filter_map(sum_denominator).collect();
            ks.iter().enumerate().any(|(i, k)| ks[i + 1..].contains(k))
        }
        _ => false,
    };
    if !nodes.iter().any(candidate) {
        return None;
    }
    let mut work = Work::new();
    let mut b = Builder::with_capacity(2 * nodes.len());
    let imported = b.import_all(e);
    let mut map: Vec<Id> = Vec::with_capacity(nodes.len());
    let mut any = false;
    let ops = |b: &Builder, id: Id| crate::print::op_count_with(&b.finish(id), numbers);
    for (i, node) in nodes.iter().enumerate() {
        let plain = rebuilt(&mut b, node, i, &map, &imported);
        if !candidate(node) {
            map.push(plain);
            continue;
        }
        let Node::Mul(fs) = node else {
            map.push(plain);
            continue;
        };
        // The sums by their power, each with the rest of the factors.
        let mut groups: Vec<(Rational, Vec<Id>)> = Vec::new();
        let mut rest: Vec<Id> = Vec::new();
        for f in fs.iter() {
            match (sum_denominator(f), &nodes[f.index()]) {
                (Some(k), Node::Pow([base, _])) => match groups.iter_mut().find(|(j, _)| *j == k) {
                    Some((_, sums)) => sums.push(map[base.index()]),
                    None => groups.push((k, vec![map[base.index()]])),
                },
                _ => rest.push(map[f.index()]),
            }
        }
        let mut factors = rest;
        let mut changed = false;
        for (k, sums) in groups {
            let power = b.num(k);
            let separate =
                |b: &mut Builder, sums: &[Id]| -> Vec<Id> { sums.iter().map(|&s| b.pow(s, power)).collect() };
            if sums.len() < 2 {
                factors.extend(separate(&mut b, &sums));
                continue;
            }
            // The product of the sums read as a polynomial over its atoms, and written
            // multiplied out.
            let product = b.mul(sums.iter().copied());
            let written = b.finish(product);
            let mut atoms = Vec::new();
            let expanded = read(&written, written.root(), &mut atoms, &mut work, Screen::Nothing)
                .filter(|f| f.den.is_empty())
                .map(|f| {
                    let ids = b.import_all(&written);
                    let atoms: Vec<Id> = atoms.iter().map(|a| ids[a.index()]).collect();
                    let sum = write_poly(&mut b, &f.num, &atoms);
                    b.pow(sum, power)
                });
            match expanded {
                Some(x) => {
                    let apart = separate(&mut b, &sums);
                    let apart = b.mul(apart);
                    if ops(&b, x) < ops(&b, apart) {
                        factors.push(x);
                        changed = true;
                    } else {
                        factors.push(apart);
                    }
                }
                None => factors.extend(separate(&mut b, &sums)),
            }
        }
        if changed {
            let id = b.mul(factors);
            if ops(&b, id) < ops(&b, plain) {
                any = true;
                map.push(id);
                continue;
            }
        }
        map.push(plain);
    }
    if work.passed {
        hit.insert(Bound::PolynomialSize);
    }
    let root = map[e.root().index()];
    (any && root != imported[e.root().index()]).then(|| b.into_expr(root))
}

/// The square root of a rational number, where it is rational.
pub(crate) fn rational_sqrt(r: &Rational) -> Option<Rational> {
    if r.is_negative() {
        return None;
    }
    let (n, d) = (r.numer().sqrt(), r.denom().sqrt());
    (&n * &n == *r.numer() && &d * &d == *r.denom()).then(|| Rational::new(n, d))
}

impl Poly {
    /// The polynomial whose square this is, with a positive leading coefficient; `None`
    /// when there is none (or the work runs out). The square root's terms come out
    /// leading term first, as in long division: each is the leading term of what is
    /// left over twice the root's leading term.
    fn sqrt(&self, work: &mut Work) -> Option<Poly> {
        let (lead, lc) = self.leading()?;
        if lead.iter().any(|k| k % 2 != 0) {
            return None;
        }
        let root_lead: Vec<u32> = lead.iter().map(|k| k / 2).collect();
        let root_lc = rational_sqrt(lc)?;
        let twice = &root_lc * Rational::from_integer(2.into());
        let mut root = Poly::zero();
        root.0.insert(root_lead.clone(), root_lc);
        let mut last = root_lead.clone();
        for _ in 0..=self.0.len() {
            let rest = self.sub(&root.mul(&root, work)?, work)?;
            let Some((e, c)) = rest.leading() else {
                return Some(root);
            };
            if e.iter().zip(&root_lead).any(|(p, q)| p < q) {
                return None;
            }
            let shift: Vec<u32> = e.iter().zip(&root_lead).map(|(p, q)| p - q).collect();
            // Each new term must come after the ones found (its square leads otherwise).
            if shift >= last {
                return None;
            }
            root.0.insert(shift.clone(), c / &twice);
            last = shift;
        }
        None
    }
}

/// `sqrt(u)` (or `u^(k/2)`) for a `u` that is, as a rational function of its atoms, a
/// positive number times the square of one: `|p|/|q|` times the number's root
/// (`sqrt(1 - 4*x^2/(x^2 + 1)^2)` is `abs(x^2 - 1)/(x^2 + 1)`). Sound: where `u` is
/// defined it equals `c*p^2/q^2`, which is never negative, so the root is defined
/// exactly where `u` is (and `q`'s factors are not 0 there: they divide `u`'s
/// denominator in lowest terms), with the same value.
fn root_of_square(f: &Fraction, work: &mut Work) -> Option<Root> {
    if f.num.is_zero() || f.num.is_constant() && f.den.is_empty() {
        return None;
    }
    let (c, q) = f.num.primitive();
    if !c.is_positive() {
        return None;
    }
    let num = q.sqrt(work)?;
    let mut den = Vec::with_capacity(f.den.len());
    for (g, m) in &f.den {
        if m % 2 == 0 {
            den.push((g.clone(), m / 2));
        } else {
            den.push((g.sqrt(work)?, *m));
        }
    }
    Some(Root { number: c, num, den })
}

/// The square root of a [`Fraction`] that is a square: `sqrt(number)*|num|` over each
/// `|factor|` to its power.
struct Root {
    number: Rational,
    num: Poly,
    den: Vec<(Poly, u32)>,
}

/// `e` with each square root (and each power to half an odd integer) of a square
/// written without the root, where that is shorter, counted in `numbers`: d/dx
/// `asin(2*x/(1 + x^2))` has `sqrt(1 - 4*x^2/(x^2 + 1)^2)`, which is
/// `abs(x^2 - 1)/(x^2 + 1)`. `None` when none changes. The size bounds the arithmetic
/// hit are added to `hit`.
///
/// ```
/// use dydx::{parse, cancel::roots_of_squares, limits::Bounds, print::Numbers};
/// let mut hit = Bounds::default();
/// let e = parse("sqrt(1 - 4*x^2/(x^2 + 1)^2)").unwrap();
/// assert_eq!(roots_of_squares(&e, Numbers::Fractions, &mut hit).unwrap().to_string(), "abs(x^2 - 1)/(x^2 + 1)");
/// let e = parse("(x^2 + 2*x*y + y^2)^(3/2)").unwrap();
/// assert_eq!(roots_of_squares(&e, Numbers::Fractions, &mut hit).unwrap().to_string(), "abs(x + y)^3");
/// assert!(roots_of_squares(&parse("sqrt(x^2 + 1)").unwrap(), Numbers::Fractions, &mut hit).is_none());
/// assert!(hit.is_empty());
/// ```
pub fn roots_of_squares(e: &Expr, numbers: Numbers, hit: &mut Bounds) -> Option<Expr> {
    let nodes = e.nodes();
    let half_power = |node: &Node| -> Option<(Id, i64)> {
        let (u, k) = match node {
            Node::Call(Func::Sqrt, [u]) => (*u, 1),
            Node::Pow([u, k]) => {
                let r = nodes[k.index()].as_num()?;
                if r.denom() != &num_bigint::BigInt::from(2) {
                    return None;
                }
                (
                    *u,
                    r.numer()
                        .to_i64()
                        .filter(|n| n.unsigned_abs() <= u64::from(MAX_EXPONENT))?,
                )
            }
            _ => return None,
        };
        matches!(nodes[u.index()], Node::Add(_) | Node::Mul(_)).then_some((u, k))
    };
    if !nodes.iter().any(|n| half_power(n).is_some()) {
        return None;
    }
    let mut work = Work::new();
    let mut b = Builder::with_capacity(2 * nodes.len());
    let imported = b.import_all(e);
    let mut map: Vec<Id> = Vec::with_capacity(nodes.len());
    let mut any = false;
    let ops = |b: &Builder, id: Id| crate::print::op_count_with(&b.finish(id), numbers);
    for (i, node) in nodes.iter().enumerate() {
        let plain = rebuilt(&mut b, node, i, &map, &imported);
        let Some((u, k)) = half_power(node).filter(|_| work.left > 0) else {
            map.push(plain);
            continue;
        };
        let arg = b.finish(map[u.index()]);
        let mut atoms = Vec::new();
        let root = if arg.len() <= MAX_PART_SIZE {
            read(&arg, arg.root(), &mut atoms, &mut work, Screen::Nothing).and_then(|f| root_of_square(&f, &mut work))
        } else {
            None
        };
        let Some(Root { number: c, num, den }) = root else {
            map.push(plain);
            continue;
        };
        let ids = b.import_all(&arg);
        let atoms: Vec<Id> = atoms.iter().map(|a| ids[a.index()]).collect();
        let half = b.num(Rational::new(1.into(), 2.into()));
        let c = b.num(c);
        let mut parts = vec![b.pow(c, half)];
        let p = write_poly(&mut b, &num, &atoms);
        parts.push(b.call(Func::Abs, p));
        for (g, m) in &den {
            let g = write_poly(&mut b, g, &atoms);
            let g = b.call(Func::Abs, g);
            let m = b.int(-i64::from(*m));
            parts.push(b.pow(g, m));
        }
        let root = b.mul(parts);
        let k = b.int(k);
        let written = b.pow(root, k);
        if ops(&b, written) < ops(&b, plain) {
            any = true;
            map.push(written);
        } else {
            map.push(plain);
        }
    }
    if work.passed {
        hit.insert(Bound::PolynomialSize);
    }
    let root = map[e.root().index()];
    (any && root != imported[e.root().index()]).then(|| b.into_expr(root))
}

/// How [`rewrite_parts`] writes a part.
#[derive(Clone, Copy)]
enum Rewrite {
    /// In lowest terms where that is shorter, counted in these numbers; only parts
    /// with a sum in a denominator, screened by [`may_reduce`].
    WhereShorter(Numbers),
    /// Every part in lowest terms and expanded, whatever the length.
    Expanded,
    /// In lowest terms modulo the Pythagorean identities of the sines and cosines
    /// among its atoms ([`lowest_terms_in_sines_and_cosines`]), where that is shorter.
    Pythagorean(Numbers),
}

/// Each rational part of `e` read as a fraction over its atoms and written back as
/// `how` says; `None` when no part changes.
fn rewrite_parts(e: &Expr, how: Rewrite, hit: &mut Bounds) -> Option<Expr> {
    let nodes = e.nodes();
    // Tree sizes, to leave large parts unread.
    let mut size: Vec<usize> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let n = node
            .children()
            .iter()
            .fold(1usize, |acc, c| acc.saturating_add(size[c.index()]));
        size.push(n);
    }
    // The roots of rational parts: the root, and the children of atoms.
    let mut part_root = vec![false; nodes.len()];
    part_root[e.root().index()] = true;
    for (i, node) in nodes.iter().enumerate() {
        if is_atom(e, Id::from_index(i)) {
            for c in node.children() {
                part_root[c.index()] = true;
            }
        }
    }
    let mut work = Work::new();
    let mut b = Builder::with_capacity(2 * nodes.len());
    let imported = b.import_all(e);
    let mut map: Vec<Id> = Vec::with_capacity(nodes.len());
    let mut any = false;
    for (i, node) in nodes.iter().enumerate() {
        let id = Id::from_index(i);
        let plain = rebuilt(&mut b, node, i, &map, &imported);
        // Only a part with a sum in a denominator may read shorter in lowest terms, and
        // only one that may change is read exactly (`may_reduce`).
        let screened = matches!(how, Rewrite::WhereShorter(_));
        let candidate = part_root[i]
            && !is_atom(e, id)
            && size[i] <= MAX_PART_SIZE
            && (!screened || has_sum_denominator(e, id))
            && work.left > 0;
        if !candidate {
            map.push(plain);
            continue;
        }
        let mut atoms = Vec::new();
        work.changed = false;
        let screen = match how {
            Rewrite::WhereShorter(_) => Screen::MayReduce,
            Rewrite::Expanded => Screen::Nothing,
            Rewrite::Pythagorean(_) => Screen::TrigPairs,
        };
        let Some(fraction) = read(e, id, &mut atoms, &mut work, screen).filter(|_| work.changed || !screened) else {
            map.push(plain);
            continue;
        };
        let fractions = match how {
            Rewrite::Pythagorean(_) => pythagorean_forms(&fraction, &trig_pairs(e, &atoms), &mut work),
            _ => vec![fraction],
        };
        let atoms: Vec<Id> = atoms.iter().map(|a| map[a.index()]).collect();
        let ops = |b: &Builder, id: Id, numbers| crate::print::op_count_with(&b.finish(id), numbers);
        // The shortest of the forms, where it is shorter than the part as it was.
        let mut best: Option<(Id, usize)> = None;
        for fraction in &fractions {
            let mut parts = vec![write_poly(&mut b, &fraction.num, &atoms)];
            for (f, m) in &fraction.den {
                let base = write_poly(&mut b, f, &atoms);
                let k = b.int(-i64::from(*m));
                parts.push(b.pow(base, k));
            }
            let written = b.mul(parts);
            let count = match how {
                Rewrite::WhereShorter(numbers) | Rewrite::Pythagorean(numbers) => ops(&b, written, numbers),
                Rewrite::Expanded => 0,
            };
            if best.is_none_or(|(_, least)| count < least) {
                best = Some((written, count));
            }
        }
        let better = |b: &Builder, written: Id, count: usize| match how {
            Rewrite::WhereShorter(numbers) | Rewrite::Pythagorean(numbers) => count < ops(b, plain, numbers),
            Rewrite::Expanded => written != plain,
        };
        match best {
            Some((written, count)) if written != plain && better(&b, written, count) => {
                any = true;
                map.push(written);
            }
            _ => map.push(plain),
        }
    }
    if work.passed {
        hit.insert(Bound::PolynomialSize);
    }
    let root = map[e.root().index()];
    (any && root != imported[e.root().index()]).then(|| b.into_expr(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{eval_f64, point};
    use crate::parse;

    fn lowest(s: &str) -> String {
        let e = parse(s).unwrap();
        let mut hit = Bounds::default();
        let out = lowest_terms(&e, Numbers::Fractions, &mut hit).unwrap_or_else(|| e.clone());
        assert!(hit.is_empty(), "{s}: {:?}", hit.names());
        // Equal wherever the input is defined.
        for (x, y) in [("37/100", "13/10"), ("-2", "5/7"), ("7/3", "-1/9")] {
            let at = point(&[("x", x), ("y", y), ("z", "3/11")]).unwrap();
            if let Ok(a) = eval_f64(&e, &at) {
                let b = eval_f64(&out, &at).unwrap();
                assert!(
                    (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                    "{s} at {x}, {y}: {a} against {b}"
                );
            }
        }
        out.to_string()
    }

    /// A polynomial in `x` and `y` (both must occur, so that the atoms line up).
    fn poly(s: &str) -> Poly {
        let e = parse(s).unwrap();
        let mut atoms = Vec::new();
        let mut work = Work::new();
        let f = read(&e, e.root(), &mut atoms, &mut work, Screen::Nothing).unwrap();
        assert_eq!(atoms.len(), 2, "{s}");
        assert!(f.den.is_empty(), "{s}");
        f.num
    }

    #[test]
    fn greatest_common_divisors_of_several_variables() {
        let g = |a: &str, b: &str| {
            let mut work = Work {
                atoms: 2,
                ..Work::new()
            };
            gcd(&poly(a), &poly(b), &mut work).unwrap()
        };
        assert_eq!(g("(x + y)^2", "x^2 - y^2"), poly("x + y"));
        assert_eq!(g("x^3 - y^3", "x^2 - y^2"), poly("x - y"));
        assert_eq!(g("x^2*y + x*y^2", "x*y^2 + y^3"), poly("x*y + y^2"));
        assert_eq!(g("6*x^2*y - 6*y^3", "4*x*y + 4*y^2"), poly("x*y + y^2"));
        assert_eq!(
            g("(x + 2*y)*(x - y)^2*(3*x + y)", "(x - y)*(3*x + y)^2"),
            poly("3*x^2 - 2*x*y - y^2")
        );
        assert!(g("x^2 + y^2", "x + y").is_constant());
        assert!(g("x + y", "x - y").is_constant());
    }

    #[test]
    fn only_parts_that_may_change_are_read_exactly() {
        let may = |s: &str| {
            let e = parse(s).unwrap();
            let mut atoms = Vec::new();
            let mut work = Work::new();
            // Reading without the screen collects the atoms in order.
            read(&e, e.root(), &mut atoms, &mut work, Screen::Nothing);
            let mut order = Vec::new();
            let mut seen = std::collections::HashSet::new();
            fn walk(e: &Expr, id: Id, seen: &mut std::collections::HashSet<Id>, order: &mut Vec<Id>) {
                if !seen.insert(id) {
                    return;
                }
                if !is_atom(e, id) {
                    for (k, &c) in e.node(id).children().iter().enumerate() {
                        if !(matches!(e.node(id), Node::Pow(_)) && k == 1) {
                            walk(e, c, seen, order);
                        }
                    }
                }
                order.push(id);
            }
            walk(&e, e.root(), &mut seen, &mut order);
            may_reduce(&e, e.root(), &order, &atoms)
        };
        assert!(may("(x^2 - y^2)/(x - y)"));
        assert!(may("y*(-x*(x + 2*y) - y^2)/(x^2 - y^2)^2"));
        assert!(may("x/(x^2 + x*y)"));
        // A fraction inside a denominator.
        assert!(may("1/(1 + y/x)"));
        assert!(!may("x/(x + y)"));
        assert!(!may("(x^2 + y^2)/(x - y)^2 + 1/(x + y)"));
    }

    #[test]
    fn common_factors_of_several_variables_cancel() {
        assert_eq!(lowest("(x^2 - y^2)/(x - y)"), "x + y");
        assert_eq!(lowest("(x^2 - 2*x*y + y^2)/(x - y)^2"), "1");
        assert_eq!(lowest("(x^3 - y^3)/(x^2 + x*y + y^2)"), "x - y");
        // As long either way: left as it is.
        assert_eq!(lowest("(x^3 - y^3)/(x - y)"), "(x^3 - y^3)/(x - y)");
        assert_eq!(lowest("x/(x^2 + x*y)"), "1/(x + y)");
        // Factors that divide one another split: `x^2 - y^2` over `x + y`.
        assert_eq!(lowest("(x^2 + 2*x*y + y^2)/((x + y)*(x^2 - y^2))"), "1/(x - y)");
        // Atoms other than variables.
        assert_eq!(lowest("(sin(x)^2 - cos(x)^2)/(sin(x) - cos(x))"), "sin(x) + cos(x)");
        // A factor shared with a denominator's factor, found by their greatest common
        // divisor: `x + y` of `x^2 - y^2`.
        assert_eq!(lowest("2*(-x - y)*(x*y + y^2)/(x^2 - y^2)^2"), "-2*y/(x - y)^2");
        assert_eq!(lowest("y*(-x*(x + 2*y) - y^2)/(x^2 - y^2)^2"), "-y/(x - y)^2");
        // High powers, within the bounds on terms and work.
        assert_eq!(lowest("(x + y)^30*(x - y)^30/(x^2 - y^2)^29"), "x^2 - y^2");
        // The numerator is written expanded.
        assert_eq!(lowest("(x + 1)^40/(x^2 + 2*x + 1)^19"), "x^2 + 2*x + 1");
    }

    #[test]
    fn roots_of_squares_lose_their_root() {
        let root = |s: &str| {
            let e = parse(s).unwrap();
            let mut hit = Bounds::default();
            let out = roots_of_squares(&e, Numbers::Fractions, &mut hit)?;
            assert!(hit.is_empty(), "{s}: {:?}", hit.names());
            // Defined exactly where the input is, and equal there.
            for k in 0..40 {
                let x = format!("{}/13", 3 * k - 61);
                let at = point(&[("x", x.as_str()), ("y", "5/7")]).unwrap();
                match (eval_f64(&e, &at), eval_f64(&out, &at)) {
                    (Ok(a), Ok(b)) => assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{s} -> {out} at {x}"),
                    (Err(_), Err(_)) => {}
                    (a, b) => panic!("{s} -> {out} at {x}: {a:?} against {b:?}"),
                }
            }
            Some(out.to_string())
        };
        assert_eq!(root("sqrt(x^2 - 2*x + 1)").as_deref(), Some("abs(x - 1)"));
        assert_eq!(
            root("sqrt(1 - 4*x^2/(x^2 + 1)^2)").as_deref(),
            Some("abs(x^2 - 1)/(x^2 + 1)")
        );
        assert_eq!(root("sqrt(4*x^2 + 4*x*y + y^2)").as_deref(), Some("abs(2*x + y)"));
        assert_eq!(root("(9*x^2 - 6*x + 1)^(-3/2)").as_deref(), Some("1/abs(3*x - 1)^3"));
        // A number that is not a square stays under a root of its own.
        assert_eq!(root("sqrt(2*x^2 + 4*x + 2)").as_deref(), Some("sqrt(2)*abs(x + 1)"));
        // Not squares, or no shorter.
        assert_eq!(root("sqrt(x^2 + 1)"), None);
        assert_eq!(root("sqrt(x^2 - 2*x - 1)"), None);
        assert_eq!(root("sqrt(-x^2 + 2*x - 1)"), None);
        assert_eq!(root("sqrt(x^2/(x + 1))"), None);
    }

    #[test]
    fn nothing_cancels_or_it_is_no_shorter() {
        assert_eq!(lowest("x/(x + y)"), "x/(x + y)");
        assert_eq!(lowest("(x + 1)/(x + y) + z"), "(x + 1)/(x + y) + z");
        // No sum in a denominator: nothing is read.
        assert_eq!(lowest("x^2*y/x"), "x*y");
    }

    #[test]
    fn each_function_argument_is_a_part() {
        assert_eq!(lowest("exp((x^2 - y^2)/(x + y))*sin(x)"), "sin(x)*exp(x - y)");
    }

    #[test]
    fn large_arithmetic_is_bounded_and_reported() {
        // `(x + y + z + 1)^8` multiplied out has 165 terms, past the bound of 64 (and
        // the part is read: `x^2 - y^2` shares `x - y` with its denominator).
        let e = parse("(x + y + z + 1)^8*(x^2 - y^2)/(x - y)^2").unwrap();
        let mut hit = Bounds::default();
        assert!(lowest_terms(&e, Numbers::Fractions, &mut hit).is_none());
        assert_eq!(hit.names(), ["polynomial-size"]);
    }

    /// [`lowest_terms_in_sines_and_cosines`] of `s`, checked equal to `s` wherever `s`
    /// is defined, at 40 points.
    fn in_sines(s: &str) -> Option<String> {
        let e = parse(s).unwrap();
        let mut hit = Bounds::default();
        let out = lowest_terms_in_sines_and_cosines(&e, Numbers::Fractions, &mut hit)?;
        assert!(hit.is_empty(), "{s}: {:?}", hit.names());
        for k in 0..40 {
            let x = format!("{}/37", 7 * k - 131);
            let at = point(&[("x", x.as_str()), ("y", "5/7")]).unwrap();
            if let Ok(a) = eval_f64(&e, &at) {
                let b = eval_f64(&out, &at).unwrap_or_else(|why| panic!("{s} -> {out} at x = {x}: {why:?}"));
                assert!(
                    (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                    "{s} -> {out} at x = {x}: {a} against {b}"
                );
            }
        }
        Some(out.to_string())
    }

    #[test]
    fn sines_and_cosines_cancel_modulo_their_squares_sum() {
        let cases = [
            // d/dx sin(x)^2/(1 - cos(x)): sin(x)^2 is (1 - cos(x))*(1 + cos(x)).
            ("(sin(2*x) - sin(x)^3/(1 - cos(x)))/(1 - cos(x))", "-sin(x)"),
            ("(1 - cos(x))/sin(x)^2", "1/(cos(x) + 1)"),
            ("cos(x)^2/(1 + sin(x))", "1 - sin(x)"),
            ("sinh(x)^2/(cosh(x) - 1)", "cosh(x) + 1"),
            ("(cosh(y)^2 - 1)/sinh(y)", "sinh(y)"),
            // A tangent is a sine over a cosine; multiple angles are written in the
            // base angle.
            ("(2*cos(2*x) - cot(x)*sin(2*x))/sin(x)", "-2*sin(x)"),
            ("(3*cos(3*x) - cot(x)*sin(3*x))/sin(x)", "-8*sin(x)*cos(x)"),
            ("cos(2*x) - cos(x)^2", "-sin(x)^2"),
            ("cosh(2*x) - cosh(x)^2", "sinh(x)^2"),
            ("(sinh(3*x) - 3*sinh(x))/sinh(x)^2", "4*sinh(x)"),
            ("tan(x)^2*cos(x)^2/(1 - cos(x)^2)", "1"),
        ];
        for (input, expected) in cases {
            assert_eq!(in_sines(input).as_deref(), Some(expected), "{input}");
        }
    }

    #[test]
    fn sums_a_product_divides_by_multiply_out_where_shorter() {
        let cases = [
            ("2/((x + 1)*(1 - x))", Some("2/(1 - x^2)")),
            ("y/((x - 1)^2*(x + 1)^2)", Some("y/(x^2 - 1)^2")),
            ("exp(x)/((x + 2)*(x - 2)) + x", Some("exp(x)/(x^2 - 4) + x")),
            // Different powers, or longer multiplied out: as they are.
            ("1/((x + 1)*(x - 1)^2)", None),
            ("1/((x + y)*(x - 2*y))", None),
        ];
        for (input, expected) in cases {
            let e = parse(input).unwrap();
            let mut hit = Bounds::default();
            let out = denominators_multiplied_out(&e, Numbers::Fractions, &mut hit);
            assert_eq!(out.as_ref().map(|o| o.to_string()).as_deref(), expected, "{input}");
            assert!(hit.is_empty());
            if let Some(out) = out {
                for x in ["-7/3", "1/5", "3", "-5/2"] {
                    let at = point(&[("x", x), ("y", "5/7")]).unwrap();
                    let (a, b) = (eval_f64(&e, &at).unwrap(), eval_f64(&out, &at).unwrap());
                    assert!(
                        (a - b).abs() <= 1e-12 * a.abs().max(1.0),
                        "{input} at {x}: {a} against {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn without_a_sine_beside_its_cosine_nothing_changes() {
        for input in [
            "sin(x)/(1 - cos(y))",
            "sin(x)^2 + x",
            "sinh(3*x)/sinh(x)",
            "exp(x)^2/(1 - exp(x))",
        ] {
            assert_eq!(in_sines(input), None, "{input}");
        }
    }
}
