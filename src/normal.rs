//! The fast normal form: rational functions over atoms, without an e-graph.
//!
//! Atoms are variables and applications such as `sin(x)` or `exp(x)`; coefficients are
//! exact rationals. On top of the light canonical form every [`Expr`] has, bottom-up:
//! - a sum with fractions is brought over a common denominator, and kept that way when
//!   it is no larger (so a parent can cancel: `1/(y*(x^2/y^2 + 1))` becomes
//!   `y/(x^2 + y^2)`);
//! - products of sums are expanded, within a bound on the number of terms, and kept
//!   only when smaller (`(x+1)(x+2) + (x+1)(x+3) + (x+2)(x+3)` becomes
//!   `3*x^2 + 12*x + 11`).
//!
//! Every step is sound (see [`crate::expr::Builder`]), deterministic, and linear in the
//! size of the expression times the term bound.
//!
//! ```
//! use dydx::{parse, normal::normalize};
//! let e = parse("(x+1)*(x+2) + (x+1)*(x+3) + (x+2)*(x+3)").unwrap();
//! assert_eq!(normalize(&e).to_string(), "3*x^2 + 12*x + 11");
//! ```

use crate::expr::{rational_is, Builder, Expr, Id, IdIndex, Node, Rational};
use num_traits::{One, Signed, ToPrimitive};
use rustc_hash::FxHashMap;

/// Most terms an expansion may produce.
pub const MAX_EXPANDED_TERMS: usize = 64;

/// Most distinct denominators a sum may be brought over.
pub const MAX_DENOMINATORS: usize = 4;

/// The normal form of `e` (see the module docs).
pub fn normalize(e: &Expr) -> Expr {
    let mut n = Normalizer {
        b: Builder::new(),
        cost: FxHashMap::default(),
        expanded: FxHashMap::default(),
        over_common: FxHashMap::default(),
    };
    let mut map: Vec<Id> = Vec::with_capacity(e.len());
    // For each node, a larger equivalent that may let its parent cancel: a sum over a
    // common denominator. The parent tries it and keeps it only if the parent shrinks.
    let mut alt: Vec<Option<Id>> = Vec::with_capacity(e.len());
    for node in e.nodes() {
        let plain = n.rebuild(node, |k| map[k.index()]);
        let mut best = n.improve(plain);
        let mut carried = None;
        if node.children().iter().any(|k| alt[k.index()].is_some()) {
            let variant = n.rebuild(node, |k| alt[k.index()].unwrap_or(map[k.index()]));
            let variant = n.improve(variant);
            if n.cost(variant) < n.cost(best) {
                best = variant;
            } else if variant != best && n.cost(variant) <= n.cost(best) + 2 {
                // Not better here, but it may be one level up: pass it on.
                carried = Some(variant);
            }
        }
        let together = carried.or_else(|| n.together(best).filter(|&t| t != best));
        map.push(best);
        alt.push(together);
    }
    let root = map[e.root().index()];
    n.b.finish(root)
}

struct Normalizer {
    b: Builder,
    cost: FxHashMap<Id, usize>,
    /// Expansions and common-denominator forms already computed, by node.
    expanded: FxHashMap<Id, Option<Vec<Id>>>,
    over_common: FxHashMap<Id, Option<Id>>,
}

impl Normalizer {
    /// Rebuilds a node of the input with new children.
    fn rebuild(&mut self, node: &Node, c: impl Fn(Id) -> Id) -> Id {
        self.b.make(node, c)
    }

    /// The best of `id`, its expansion and its form over a common denominator.
    fn improve(&mut self, id: Id) -> Id {
        let mut best = id;
        let mut best_cost = self.cost(id);
        if let Some(x) = self.expand(id) {
            let c = self.cost(x);
            if c < best_cost {
                best = x;
                best_cost = c;
            }
        }
        if let Some(t) = self.together(best) {
            if self.cost(t) <= best_cost {
                best = t;
            }
        }
        best
    }

    /// The terms of `id` as a sum.
    fn terms(&self, id: Id) -> Vec<Id> {
        match self.b.node(id) {
            Node::Add(ts) => ts.to_vec(),
            _ => vec![id],
        }
    }

    /// Expands products of sums (and small powers of sums) in `id`, or in each term of
    /// a sum; `None` when there is nothing to expand or the bound is exceeded.
    fn expand(&mut self, id: Id) -> Option<Id> {
        let terms = self.terms(id);
        let mut out: Vec<Id> = Vec::new();
        let mut changed = false;
        for t in terms {
            match self.expand_product(t) {
                Some(parts) => {
                    changed = true;
                    out.extend(parts);
                }
                None => out.push(t),
            }
            if out.len() > MAX_EXPANDED_TERMS * 4 {
                return None;
            }
        }
        changed.then(|| self.b.add(out))
    }

    /// The terms of a product of sums, multiplied out.
    fn expand_product(&mut self, t: Id) -> Option<Vec<Id>> {
        if let Some(done) = self.expanded.get(&t) {
            return done.clone();
        }
        let result = self.expand_product_uncached(t);
        self.expanded.insert(t, result.clone());
        result
    }

    fn expand_product_uncached(&mut self, t: Id) -> Option<Vec<Id>> {
        let factors: Vec<Id> = match self.b.node(t) {
            Node::Mul(fs) => fs.to_vec(),
            Node::Pow(_) => vec![t],
            _ => return None,
        };
        // Only products with a sum somewhere can expand.
        let has_sum = factors.iter().any(|&f| match self.b.node(f) {
            Node::Add(_) => true,
            Node::Pow([b, _]) => matches!(self.b.node(*b), Node::Add(_)),
            _ => false,
        });
        if !has_sum {
            return None;
        }
        let mut plain: Vec<Id> = Vec::new();
        let mut sums: Vec<Vec<Id>> = Vec::new();
        for f in factors {
            match self.b.node(f).clone() {
                Node::Add(ts) => sums.push(ts.to_vec()),
                Node::Pow([base, e]) => {
                    let k = self
                        .b
                        .as_num(e)
                        .filter(|r| r.is_integer() && r.is_positive())
                        .and_then(|r| r.to_integer().to_usize());
                    match (self.b.node(base).clone(), k) {
                        (Node::Add(ts), Some(k)) if k <= 4 => {
                            for _ in 0..k {
                                sums.push(ts.to_vec());
                            }
                        }
                        _ => plain.push(f),
                    }
                }
                _ => plain.push(f),
            }
        }
        if sums.is_empty() {
            return None;
        }
        let count = sums.iter().try_fold(1usize, |acc, s| acc.checked_mul(s.len()))?;
        if count > MAX_EXPANDED_TERMS {
            return None;
        }
        let mut partial: Vec<Vec<Id>> = vec![plain];
        for s in &sums {
            let mut next = Vec::with_capacity(partial.len() * s.len());
            for p in &partial {
                for &term in s {
                    let mut q = p.clone();
                    q.push(term);
                    next.push(q);
                }
            }
            partial = next;
        }
        Some(partial.into_iter().map(|fs| self.b.mul(fs)).collect())
    }

    /// A sum with fractions over a common denominator: `a/d1 + b/d2` becomes
    /// `(a*d2 + b*d1)/(d1*d2)` with shared factors taken once.
    fn together(&mut self, id: Id) -> Option<Id> {
        if let Some(done) = self.over_common.get(&id) {
            return *done;
        }
        let result = self.together_uncached(id);
        self.over_common.insert(id, result);
        result
    }

    fn together_uncached(&mut self, id: Id) -> Option<Id> {
        let Node::Add(ts) = self.b.node(id).clone() else {
            return None;
        };
        if ts.len() > 16 {
            return None;
        }
        // The common denominator: each base at its largest negative integer power.
        let mut denominators: Vec<(Id, Rational)> = Vec::new();
        for &t in ts.iter() {
            let factors: Vec<Id> = match self.b.node(t) {
                Node::Mul(fs) => fs.to_vec(),
                _ => vec![t],
            };
            for f in factors {
                if let Node::Pow([base, e]) = self.b.node(f) {
                    if let Some(r) = self.b.as_num(*e) {
                        if r.is_negative() && r.is_integer() {
                            let k = -r;
                            match denominators.iter_mut().find(|(b, _)| b == base) {
                                Some((_, m)) if *m < k => *m = k,
                                Some(_) => {}
                                None => denominators.push((*base, k)),
                            }
                        }
                    }
                }
            }
        }
        if denominators.is_empty() || denominators.len() > MAX_DENOMINATORS {
            return None;
        }
        let lifts: Vec<Id> = denominators
            .iter()
            .map(|(b, k)| {
                let k = self.b.num(k.clone());
                self.b.pow(*b, k)
            })
            .collect();
        let mut numer_terms: Vec<Id> = Vec::new();
        for &t in ts.iter() {
            let mut fs = vec![t];
            fs.extend(lifts.iter().copied());
            let lifted = self.b.mul(fs);
            match self.expand_product(lifted) {
                Some(parts) if parts.len() <= MAX_EXPANDED_TERMS => numer_terms.extend(parts),
                _ => numer_terms.push(lifted),
            }
        }
        let numer = self.b.add(numer_terms);
        let mut fs = vec![numer];
        for (b, k) in &denominators {
            let nk = self.b.num(-k.clone());
            fs.push(self.b.pow(*b, nk));
        }
        Some(self.b.mul(fs))
    }

    /// An estimate of the printed operation count, memoised per node.
    fn cost(&mut self, id: Id) -> usize {
        if let Some(&c) = self.cost.get(&id) {
            return c;
        }
        let node = self.b.node(id).clone();
        let c = match &node {
            Node::Num(r) => usize::from(r.is_negative()) + usize::from(!r.is_integer()),
            Node::Var(_) | Node::Const(_) => 0,
            Node::Add(ts) => {
                let inner: usize = ts.iter().map(|&t| self.cost(t)).sum();
                inner + ts.len() - 1
            }
            Node::Mul(fs) => {
                let mut c = 0;
                let mut count = 0;
                for &f in fs.iter() {
                    match self.b.node(f).clone() {
                        Node::Num(r) => {
                            c += usize::from(r.is_negative());
                            count += usize::from(!r.numer().abs().is_one()) + usize::from(!r.denom().is_one());
                        }
                        // A negative power prints in the denominator: `/b` or `/b^k`.
                        Node::Pow([b, e]) if self.b.as_num(e).is_some_and(|r| r.is_negative()) => {
                            let one = self.b.as_num(e).is_some_and(|r| rational_is(r, -1));
                            c += self.cost(b) + usize::from(!one);
                            count += 1;
                        }
                        _ => {
                            c += self.cost(f);
                            count += 1;
                        }
                    }
                }
                c + count.saturating_sub(1)
            }
            Node::Pow([b, e]) => match self.b.as_num(*e) {
                Some(r) if rational_is(r, -1) => self.cost(*b) + 1,
                Some(r) if r.is_negative() => self.cost(*b) + 2,
                _ => self.cost(*b) + self.cost(*e) + 1,
            },
            Node::Call(_, [a]) => self.cost(*a) + 1,
            Node::Log([a, b]) => self.cost(*a) + self.cost(*b) + 1,
        };
        self.cost.insert(id, c);
        c
    }
}
