//! The canonical total order of terms and factors.
//!
//! Output must be byte-identical across runs and machines, so nothing here looks at
//! hashes, node ids or the order in which names first appeared: every comparison
//! is structural.
//!
//! Behaviour:
//! - [`cmp_struct`] is a total structural order on expressions: numbers by value,
//!   then `pi`/`e`, variables in natural name order (`x2` < `x10`), powers, function
//!   calls in textbook order (`sin` < `cos` < … see [`crate::Func::ALL`]), logs, products,
//!   sums; ties are broken child by child. It runs with an explicit stack, so depth is
//!   never a problem.
//! - Factors of a product: the numeric coefficient first, then factors that read as
//!   part of it (`pi`, `sqrt(2)`), then by base in structural order, then by exponent:
//!   `2*pi*x^2*y*sin(x)*ln(2)`.
//! - Terms of a sum compare like a lexicographic monomial order over their "atoms"
//!   (variables, function calls, sums raised to powers), taking function calls first,
//!   then symbolic powers, sums, variables in name order: the higher exponent of the
//!   first atom that differs comes first. So polynomials print in descending degree
//!   (`20*x^3 + 9*x^2 + 14*x + 9`), `x^2 + y^2` keeps `x` first, and a term with
//!   `sin(x)` comes before one with `cos(x)`. The constant term is always last.

use crate::expr::{natural_cmp, rational_cmp, Builder, Id, IdIndex, Node, Rational};
use num_traits::{One, ToPrimitive, Zero};
use smallvec::SmallVec;
use std::cmp::Ordering;

/// Anything whose nodes can be read by id: a [`Builder`] or an [`crate::Expr`].
pub trait Nodes {
    /// The node with this id.
    fn get(&self, id: Id) -> &Node;
}

impl Nodes for Builder {
    fn get(&self, id: Id) -> &Node {
        self.node(id)
    }
}

impl Nodes for crate::Expr {
    fn get(&self, id: Id) -> &Node {
        self.node(id)
    }
}

fn kind_rank(n: &Node) -> u8 {
    match n {
        Node::Num(_) => 0,
        Node::Const(_) => 1,
        Node::Var(_) => 2,
        Node::Pow(_) => 3,
        Node::Call(..) => 4,
        Node::Log(_) => 5,
        Node::Mul(_) => 6,
        Node::Add(_) => 7,
    }
}

/// Compares the parts of two nodes that are not children.
fn cmp_header(a: &Node, b: &Node) -> Ordering {
    kind_rank(a).cmp(&kind_rank(b)).then_with(|| match (a, b) {
        (Node::Num(x), Node::Num(y)) => rational_cmp(x, y),
        (Node::Const(x), Node::Const(y)) => x.cmp(y),
        (Node::Var(x), Node::Var(y)) => natural_cmp(x.as_str(), y.as_str()),
        (Node::Call(f, _), Node::Call(g, _)) => f.rank().cmp(&g.rank()),
        _ => Ordering::Equal,
    })
}

/// A total structural order on expressions (see the module docs).
pub fn cmp_struct<N: Nodes>(nodes: &N, a: Id, b: Id) -> Ordering {
    enum Task {
        Pair(Id, Id),
        Decide(Ordering),
    }
    // Pairs still to compare, left to right from the top, each node's arity decision
    // below its children. The first child pair is compared at once rather than
    // pushed, so a chain of calls (`sin(cos(sin(…)))`) needs no stack at all.
    // Inline for the common shallow case: most comparisons are of small terms, and a
    // heap allocation per comparison was most of their cost.
    let mut stack: smallvec::SmallVec<[Task; 8]> = smallvec::SmallVec::new();
    let (mut a, mut b) = (a, b);
    loop {
        if a != b {
            let (na, nb) = (nodes.get(a), nodes.get(b));
            let o = cmp_header(na, nb);
            if o != Ordering::Equal {
                return o;
            }
            let (ca, cb) = (na.children(), nb.children());
            let common = ca.len().min(cb.len());
            if ca.len() != cb.len() {
                if common == 0 {
                    return ca.len().cmp(&cb.len());
                }
                stack.push(Task::Decide(ca.len().cmp(&cb.len())));
            }
            if common > 0 {
                for (x, y) in ca[1..common].iter().zip(&cb[1..common]).rev() {
                    stack.push(Task::Pair(*x, *y));
                }
                a = ca[0];
                b = cb[0];
                continue;
            }
        }
        loop {
            match stack.pop() {
                None => return Ordering::Equal,
                Some(Task::Decide(o)) if o != Ordering::Equal => return o,
                Some(Task::Decide(_)) => {}
                Some(Task::Pair(x, y)) => {
                    a = x;
                    b = y;
                    break;
                }
            }
        }
    }
}

/// An exponent as the orders compare it, borrowed from the nodes.
#[derive(Clone, Copy)]
enum Exponent<'a> {
    Zero,
    One,
    Num(&'a Rational),
}

fn exponent_cmp(a: Exponent<'_>, b: Exponent<'_>) -> Ordering {
    match (a, b) {
        // Equal at a glance: most exponents compared are 1, or one interned number.
        (Exponent::One, Exponent::One) | (Exponent::Zero, Exponent::Zero) => return Ordering::Equal,
        (Exponent::Num(x), Exponent::Num(y)) if std::ptr::eq(x, y) => return Ordering::Equal,
        // Integers, most exponents, compare without reading them as fractions.
        (Exponent::Num(x), Exponent::Num(y)) if x.denom().is_one() && y.denom().is_one() => {
            return x.numer().cmp(y.numer())
        }
        _ => {}
    }
    let small = |e: Exponent<'_>| -> Option<(i128, i128)> {
        match e {
            Exponent::Zero => Some((0, 1)),
            Exponent::One => Some((1, 1)),
            Exponent::Num(r) => Some((i128::from(r.numer().to_i64()?), i128::from(r.denom().to_i64()?))),
        }
    };
    if let (Some((an, ad)), Some((bn, bd))) = (small(a), small(b)) {
        return (an * bd).cmp(&(bn * ad));
    }
    let big = |e: Exponent<'_>| match e {
        Exponent::Zero => Rational::zero(),
        Exponent::One => Rational::one(),
        Exponent::Num(r) => r.clone(),
    };
    rational_cmp(&big(a), &big(b))
}

fn split_power<N: Nodes>(nodes: &N, f: Id) -> (Id, Exponent<'_>) {
    if let Node::Pow([b, e]) = nodes.get(f) {
        if let Node::Num(r) = nodes.get(*e) {
            return (*b, Exponent::Num(r));
        }
    }
    (f, Exponent::One)
}

/// The order of two factors of a product (see the module docs).
pub(crate) fn cmp_factors(b: &Builder, x: Id, y: Id) -> Ordering {
    let (bx, ex) = split_power(b, x);
    let (by, ey) = split_power(b, y);
    (!coefficient_like(b, x))
        .cmp(&!coefficient_like(b, y))
        .then_with(|| cmp_struct(b, bx, by))
        .then_with(|| exponent_cmp(ex, ey))
}

/// Sorts the (non-numeric) factors of a product into canonical order.
pub fn sort_factors(b: &Builder, factors: &mut [Id]) {
    // Stable, so factors that compare equal keep their order.
    factors.sort_by(|&x, &y| cmp_factors(b, x, y));
}

/// Factors that read as part of the coefficient and print right after it:
/// `pi`, `e`, `2^(1/3)`, `sqrt(2)`.
fn coefficient_like(b: &Builder, f: Id) -> bool {
    match b.node(f) {
        Node::Const(_) => true,
        Node::Pow([x, y]) => b.as_num(*x).is_some() && b.as_num(*y).is_some(),
        Node::Call(crate::Func::Sqrt, [x]) => b.as_num(*x).is_some(),
        _ => false,
    }
}

/// How early an atom is looked at when ordering terms (higher first).
fn atom_priority(b: &Builder, atom: Id) -> u8 {
    if b.is_constant(atom) {
        return 0;
    }
    match b.node(atom) {
        Node::Call(..) | Node::Log(_) => 5,
        Node::Pow(_) => 4,
        Node::Add(_) => 3,
        Node::Mul(_) => 2,
        _ => 1,
    }
}

fn cmp_atoms(b: &Builder, memo: &mut OrderMemo, x: Id, y: Id) -> Ordering {
    // Keys of like terms share most atoms (the products of the product rule).
    if x == y {
        return Ordering::Equal;
    }
    atom_priority(b, y)
        .cmp(&atom_priority(b, x))
        .then_with(|| memo.cmp(b, x, y))
}

/// Structural comparisons ([`cmp_struct`]) already made in one builder, by a hash of
/// the pair: nodes never change, and a derivative's terms and products compare the
/// same few atoms (the sines and cosines of `sin(sin(sin(sin(x))))`) over and over.
/// The table is made only once a builder has compared enough pairs for it to pay:
/// most builders (one per derivative of a small expression) compare a few.
#[derive(Default)]
pub(crate) struct OrderMemo {
    table: Vec<(Id, Id, Ordering)>,
    unremembered: usize,
}

impl OrderMemo {
    const SLOTS: usize = 256;
    /// Comparisons made before the table is.
    const FIRST: usize = 64;

    /// [`cmp_struct`] of `a` and `b`, remembered.
    pub(crate) fn cmp(&mut self, nodes: &Builder, a: Id, b: Id) -> Ordering {
        if a == b {
            return Ordering::Equal;
        }
        if self.table.is_empty() {
            if self.unremembered < Self::FIRST {
                self.unremembered += 1;
                return cmp_struct(nodes, a, b);
            }
            self.table
                .resize(Self::SLOTS, (Id::from(0), Id::from(0), Ordering::Equal));
        }
        let key = (a.index() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (b.index() as u64);
        let slot = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % Self::SLOTS;
        // An empty slot holds (0, 0), a pair never looked up (`a != b`).
        let (x, y, o) = self.table[slot];
        if x == a && y == b {
            return o;
        }
        let o = cmp_struct(nodes, a, b);
        self.table[slot] = (a, b, o);
        o
    }
}

/// A term's atoms with their exponents, in key order ([`sort_terms`]). Inline for the
/// common short term: a heap allocation per term was a large part of sorting.
type TermKey<'b> = SmallVec<[(Id, Exponent<'b>); 4]>;

/// The monomial key of a term: its atoms in priority order with their exponents.
fn term_key<'b>(b: &'b Builder, memo: &mut OrderMemo, t: Id) -> TermKey<'b> {
    let fs = match b.node(t) {
        Node::Mul(fs) => fs,
        Node::Num(_) => return SmallVec::new(),
        _ => return smallvec::smallvec![split_power(b, t)],
    };
    let mut key: TermKey<'_> = SmallVec::with_capacity(fs.len());
    key.extend(
        fs.iter()
            .filter(|f| b.as_num(**f).is_none())
            .map(|&f| split_power(b, f)),
    );
    // A canonical product's factors are sorted by base already (`cmp_factors`), and
    // the key order differs from that only in taking some kinds of atom first and in
    // where the coefficient-like constants go. Without constants, grouping by kind is
    // the whole sort; a product of forty binomials then needs no structural comparison,
    // and is usually grouped already (all its factors are sums).
    let (mut constants, mut grouped, mut last) = (false, true, u8::MAX);
    for x in &key {
        let p = atom_priority(b, x.0);
        constants |= p == 0;
        grouped &= p <= last;
        last = p;
    }
    if constants {
        key.sort_by(|x, y| cmp_atoms(b, memo, x.0, y.0));
    } else if !grouped {
        key.sort_by_key(|x| std::cmp::Reverse(atom_priority(b, x.0)));
    }
    debug_assert!(key.is_sorted_by(|x, y| cmp_atoms(b, &mut OrderMemo::default(), x.0, y.0) != Ordering::Greater));
    key
}

fn cmp_keys(b: &Builder, memo: &mut OrderMemo, ka: &[(Id, Exponent<'_>)], kb: &[(Id, Exponent<'_>)]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    loop {
        let (ea, eb) = match (ka.get(i), kb.get(j)) {
            (None, None) => return Ordering::Equal,
            (Some((_, ea)), None) => {
                i += 1;
                (*ea, Exponent::Zero)
            }
            (None, Some((_, eb))) => {
                j += 1;
                (Exponent::Zero, *eb)
            }
            (Some((x, ea)), Some((y, eb))) => match cmp_atoms(b, memo, *x, *y) {
                Ordering::Equal => {
                    i += 1;
                    j += 1;
                    (*ea, *eb)
                }
                Ordering::Less => {
                    i += 1;
                    (*ea, Exponent::Zero)
                }
                Ordering::Greater => {
                    j += 1;
                    (Exponent::Zero, *eb)
                }
            },
        };
        // The higher exponent comes first.
        let o = exponent_cmp(eb, ea);
        if o != Ordering::Equal {
            return o;
        }
    }
}

/// Sorts the non-constant terms of a sum into canonical order.
pub(crate) fn sort_terms(b: &Builder, memo: &mut OrderMemo, terms: &mut [Id]) {
    if terms.len() < 2 {
        return;
    }
    let keys: SmallVec<[TermKey<'_>; 4]> = terms.iter().map(|&t| term_key(b, memo, t)).collect();
    let mut idx: SmallVec<[usize; 8]> = (0..terms.len()).collect();
    idx.sort_by(|&i, &j| cmp_keys(b, memo, &keys[i], &keys[j]).then_with(|| cmp_struct(b, terms[i], terms[j])));
    let sorted: SmallVec<[Id; 8]> = idx.iter().map(|&i| terms[i]).collect();
    terms.copy_from_slice(&sorted);
}
