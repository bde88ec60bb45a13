//! [`Node`] as an egg `Language`: the e-graph simplifier works on the same nodes as
//! the rest of dydx, with sums and products binary inside the e-graph.
//!
//! Behaviour:
//! - `Node` implements `egg::Language`, `egg::FromOp` and `Display`, so rewrite
//!   patterns are written in egg's s-expression syntax: `(+ ?a 0)`, `(* ?a (^ ?a -1))`,
//!   `(sin ?x)`, `(log ?x ?b)`.
//! - [`to_rec_expr`] turns an [`Expr`] into a `RecExpr` with binary sums and products;
//!   [`from_rec_expr`] rebuilds an [`Expr`] through the smart constructors, so the
//!   result is canonical again.
//!
//! ```
//! use dydx::{parse, lang::{to_rec_expr, from_rec_expr}};
//! let e = parse("x + y + 2*x*y").unwrap();
//! let rec = to_rec_expr(&e);
//! assert_eq!(rec.to_string(), "(+ (+ (* (* 2 x) y) x) y)");
//! assert_eq!(from_rec_expr(&rec), e);
//! ```

use crate::expr::{Builder, Constant, Expr, Func, Id, IdIndex, Node, Rational};
use egg::{Language, RecExpr};
use std::fmt;

/// The discriminant of a node: its kind, its payload for leaves, and its arity. Cheap
/// to make (egg asks for it on every e-matching step): a number is represented by a
/// hash of its value, and `matches` tells numbers apart exactly.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Discriminant {
    /// A number, by a hash of its value.
    Num(u64),
    /// A variable.
    Var(egg::Symbol),
    /// `pi` or `e`.
    Const(Constant),
    /// A sum of this many terms.
    Add(usize),
    /// A product of this many factors.
    Mul(usize),
    /// A power.
    Pow,
    /// A function application.
    Call(Func),
    /// A logarithm to a base.
    Log,
}

fn number_hash(r: &Rational) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    r.numer().hash(&mut h);
    r.denom().hash(&mut h);
    h.finish()
}

impl Language for Node {
    type Discriminant = Discriminant;

    fn discriminant(&self) -> Discriminant {
        match self {
            Node::Num(r) => Discriminant::Num(number_hash(r)),
            Node::Var(s) => Discriminant::Var(*s),
            Node::Const(c) => Discriminant::Const(*c),
            Node::Add(c) => Discriminant::Add(c.len()),
            Node::Mul(c) => Discriminant::Mul(c.len()),
            Node::Pow(_) => Discriminant::Pow,
            Node::Call(f, _) => Discriminant::Call(*f),
            Node::Log(_) => Discriminant::Log,
        }
    }

    fn matches(&self, other: &Self) -> bool {
        match (self, other) {
            (Node::Num(a), Node::Num(b)) => crate::expr::rational_eq(a, b),
            (Node::Var(a), Node::Var(b)) => a == b,
            (Node::Const(a), Node::Const(b)) => a == b,
            (Node::Add(a), Node::Add(b)) | (Node::Mul(a), Node::Mul(b)) => a.len() == b.len(),
            (Node::Pow(_), Node::Pow(_)) | (Node::Log(_), Node::Log(_)) => true,
            (Node::Call(f, _), Node::Call(g, _)) => f == g,
            _ => false,
        }
    }

    fn children(&self) -> &[Id] {
        Node::children(self)
    }

    fn children_mut(&mut self) -> &mut [Id] {
        match self {
            Node::Num(_) | Node::Var(_) | Node::Const(_) => &mut [],
            Node::Add(c) | Node::Mul(c) => c,
            Node::Pow(c) | Node::Log(c) => c,
            Node::Call(_, c) => c,
        }
    }
}

/// An operator that is not part of the language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOp(pub String);

impl egg::FromOp for Node {
    type Error = UnknownOp;

    fn from_op(op: &str, children: Vec<Id>) -> Result<Node, UnknownOp> {
        let bad = || UnknownOp(format!("{op} with {} children", children.len()));
        Ok(match (op, children.as_slice()) {
            ("+", [_, _, ..]) => Node::Add(children.into()),
            ("*", [_, _, ..]) => Node::Mul(children.into()),
            ("^", [a, b]) => Node::Pow([*a, *b]),
            ("log", [a, b]) => Node::Log([*a, *b]),
            ("pi", []) => Node::Const(Constant::Pi),
            ("e", []) => Node::Const(Constant::E),
            (name, [a]) => Node::Call(Func::from_name(name).ok_or_else(bad)?, [*a]),
            (text, []) => match crate::eval::parse_number(text) {
                Ok(r) => Node::Num(Box::new(r)),
                Err(_) if text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                    Node::Var(egg::Symbol::from(text))
                }
                Err(_) => return Err(bad()),
            },
            _ => return Err(bad()),
        })
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Num(r) => f.write_str(&crate::print::rational_to_string(r)),
            Node::Var(s) => f.write_str(s.as_str()),
            Node::Const(c) => f.write_str(c.name()),
            Node::Add(_) => f.write_str("+"),
            Node::Mul(_) => f.write_str("*"),
            Node::Pow(_) => f.write_str("^"),
            Node::Log(_) => f.write_str("log"),
            Node::Call(g, _) => f.write_str(g.name()),
        }
    }
}

/// The expression as a `RecExpr` with binary sums and products (left-nested).
pub fn to_rec_expr(e: &Expr) -> RecExpr<Node> {
    let mut rec: RecExpr<Node> = RecExpr::default();
    let mut map: Vec<Id> = Vec::with_capacity(e.len());
    for node in e.nodes() {
        let id = match node {
            Node::Add(c) | Node::Mul(c) => {
                let is_add = matches!(node, Node::Add(_));
                let mut acc = map[c[0].index()];
                for k in &c[1..] {
                    let pair: Box<[Id]> = Box::new([acc, map[k.index()]]);
                    acc = rec.add(if is_add { Node::Add(pair) } else { Node::Mul(pair) });
                }
                acc
            }
            other => {
                let mut n = other.clone();
                for ch in n.children_mut() {
                    *ch = map[ch.index()];
                }
                rec.add(n)
            }
        };
        map.push(id);
    }
    rec
}

/// Rebuilds a canonical [`Expr`] from a `RecExpr` through the smart constructors.
pub fn from_rec_expr(rec: &RecExpr<Node>) -> Expr {
    let mut b = Builder::new();
    let root = build(&mut b, rec);
    b.finish(root)
}

/// Builds the `RecExpr` into a builder and returns its root.
pub fn build(b: &mut Builder, rec: &RecExpr<Node>) -> Id {
    let nodes = rec.as_ref();
    let mut map: Vec<Id> = Vec::with_capacity(nodes.len());
    for node in nodes {
        let id = b.make(node, |k| map[k.index()]);
        map.push(id);
    }
    map.last()
        .copied()
        .unwrap_or_else(|| b.num(Rational::from_integer(0.into())))
}
