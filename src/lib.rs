//! dydx: closed-form derivatives, printed and proved right.
//!
//! The pipeline: [`parse`](fn@parse) text into an [`Expr`], [`diff`](fn@diff) it, [`print`](fn@print) the result,
//! evaluate it exactly or in floating point ([`eval`]), and cross-check the value
//! against an independent reverse-mode [`tape`] ([`check`]).
//!
//! ```
//! use dydx::{parse, diff, print};
//! let f = parse("5*x**4 + 3*x**3 + 7*x**2 + 9*x - 5").unwrap();
//! let df = diff(&f, "x");
//! assert_eq!(print(&df), "20*x^3 + 9*x^2 + 14*x + 9");
//! ```

#![warn(missing_docs)]

pub mod cancel;
pub mod check;
pub mod claim;
pub mod cli;
pub mod diff;
pub mod eval;
pub mod expr;
pub mod float;
pub mod format;
pub mod lang;
pub mod limits;
pub mod normal;
pub mod order;
pub mod parse;
pub mod plot;
pub mod poly;
pub mod print;
pub mod simplify;
pub mod steps;
pub mod tape;

pub use check::{cross_check, Comparison, Status, Tolerance};
pub use diff::{diff, diff_n, diff_wrt, gradient};
pub use eval::{eval_exact, eval_f64, Point, Undefined};
pub use expr::{Builder, Constant, Expr, Func, Id, Node, Rational};
pub use parse::{parse, ErrorKind, ParseError};
pub use print::print;
