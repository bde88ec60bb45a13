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

/// Highest derivative order accepted by the command line and the batch runner.
pub const MAX_ORDER: usize = 64;

/// Largest derivative, in DAG nodes, the command line will build; a higher-order
/// derivative that grows past it is refused with an error naming the limit.
pub const MAX_DERIVATIVE_NODES: usize = 200_000;
