//! Every budget dydx enforces on user input, in one place.
//!
//! Each limit is deterministic (a count, never a clock), and hitting one is reported:
//! the parser returns an error naming the limit, and evaluation says when it gave up
//! on an exact value.

/// Largest accepted input, in bytes (16 MiB: a sum of a million terms fits).
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// Deepest accepted nesting of parentheses and function calls.
pub const MAX_DEPTH: usize = 10_000;

/// Most digits (mantissa plus decimal exponent) of one number literal.
pub const MAX_LITERAL_DIGITS: usize = 100_000;

/// Largest intermediate result, in bits, of exact rational evaluation; beyond it the
/// value is computed in floating point and the report says so.
pub const MAX_EXACT_BITS: u64 = 1 << 20;

/// Most bits, all intermediate results together, that exact rational evaluation may
/// compute; beyond it the value is computed in floating point and the report says so.
/// It bounds the time: a polynomial of six thousand terms at `x = 3/100` has terms of
/// up to 40,000 bits each, and evaluating it exactly took seconds.
pub const MAX_EXACT_WORK: u64 = 1 << 23;

/// Largest integer constant folding will build (see [`crate::expr::FOLD_BITS`]).
pub const MAX_FOLD_BITS: u64 = crate::expr::FOLD_BITS;

/// Most nodes of the JSON `"ast"` tree, which writes shared subexpressions out each
/// time they occur: a 9,000-deep `sin(sin(…))` has a derivative of 27,000 DAG nodes
/// whose tree has 40 million, 1 GB of JSON and 21 GB of memory as a
/// `serde_json::Value`. Past it the field is `null` and `"ast_limit"` says why.
pub const MAX_AST_NODES: u64 = 1_000_000;

/// Highest derivative order accepted by the command line and the batch runner.
pub const MAX_ORDER: usize = 64;

/// Largest derivative, in DAG nodes, the command line will build; a higher-order
/// derivative that grows past it is refused with an error naming the limit.
pub const MAX_DERIVATIVE_NODES: usize = 200_000;

/// A bound on the simplifier's search: where one is hit, a rewrite was left untried
/// because it would pass the bound, and the result, still correct, may be longer than
/// it could be. [`crate::simplify::Report::bounds`] lists the ones hit.
///
/// Only bounds on size are listed. The breadth of the search (how many candidate
/// factors are tried, how deep into nested sums factoring looks) shapes every search
/// alike, is documented where it is set, and is not reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bound {
    /// A product of sums was not multiplied out: it would pass
    /// [`crate::normal::MAX_EXPANDED_TERMS`] terms.
    ExpandedTerms,
    /// A sum was not brought over a common denominator: it has more than
    /// [`crate::normal::MAX_DENOMINATORS`] distinct ones.
    Denominators,
    /// A sum was not factored: it has more than 64 terms, or more than 256 factors in
    /// all.
    FactorSize,
    /// A polynomial was not factored or written out, or a rational function of several
    /// variables not brought to lowest terms ([`crate::cancel::lowest_terms`]): its
    /// degree, terms or coefficients' bits pass their bounds, or the work its arithmetic
    /// may take.
    PolynomialSize,
    /// A polynomial's rational roots were not all sought: its end coefficients pass
    /// 2^20, or allow more than 256 candidate roots.
    RootCandidates,
    /// A number was left unevaluated (`2^70000`): folding it would pass
    /// [`MAX_FOLD_BITS`].
    FoldBits,
    /// The e-graph was not run: its input has more nodes than
    /// [`crate::simplify::Budget::max_input_nodes`].
    EgraphInput,
}

impl Bound {
    /// Every bound, in the order reports list them.
    pub const ALL: [Bound; 7] = [
        Bound::ExpandedTerms,
        Bound::Denominators,
        Bound::FactorSize,
        Bound::PolynomialSize,
        Bound::RootCandidates,
        Bound::FoldBits,
        Bound::EgraphInput,
    ];

    /// The name used in reports and JSON: `expanded-terms`, `denominators`,
    /// `factor-size`, `polynomial-size`, `root-candidates`, `fold-bits`,
    /// `e-graph-input`.
    pub fn as_str(self) -> &'static str {
        match self {
            Bound::ExpandedTerms => "expanded-terms",
            Bound::Denominators => "denominators",
            Bound::FactorSize => "factor-size",
            Bound::PolynomialSize => "polynomial-size",
            Bound::RootCandidates => "root-candidates",
            Bound::FoldBits => "fold-bits",
            Bound::EgraphInput => "e-graph-input",
        }
    }
}

/// A set of [`Bound`]s, listed in a fixed order whatever order they were hit in.
///
/// ```
/// use dydx::limits::{Bound, Bounds};
/// let mut hit = Bounds::default();
/// hit.insert(Bound::FoldBits);
/// hit.insert(Bound::ExpandedTerms);
/// hit.insert(Bound::FoldBits);
/// assert_eq!(hit.names(), ["expanded-terms", "fold-bits"]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bounds(u8);

impl Bounds {
    /// Records that `bound` was hit.
    pub fn insert(&mut self, bound: Bound) {
        self.0 |= 1 << bound as u8;
    }

    /// Records every bound `other` holds.
    pub fn extend(&mut self, other: Bounds) {
        self.0 |= other.0;
    }

    /// Whether `bound` was hit.
    pub fn contains(self, bound: Bound) -> bool {
        self.0 & (1 << bound as u8) != 0
    }

    /// Whether none was hit.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The bounds hit, in the order of [`Bound::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Bound> {
        Bound::ALL.into_iter().filter(move |&b| self.contains(b))
    }

    /// The names of the bounds hit ([`Bound::as_str`]), in the order of [`Bound::ALL`].
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Bound::as_str).collect()
    }
}
