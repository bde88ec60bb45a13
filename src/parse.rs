//! The parser: text in the input language to an [`Expr`].
//!
//! One small function per precedence level, lowest first:
//! [`sum`] → [`product`] → [`unary`] → [`power`] → [`atom`]. Tokens (numbers,
//! identifiers, whitespace) are recognised with nom.
//!
//! Behaviour:
//! - Numbers are exact: `2.5` is 5/2, `1e-3` is 1/1000.
//! - `^` and `**` are powers, right-associative, binding tighter than unary minus:
//!   `-x^2` is `-(x^2)`, `2^3^2` is 512; the exponent may carry signs: `x^-2`.
//! - Implicit multiplication after a number literal (`3x`, `2(x+1)`, `2 sin(x)`) and
//!   between `)` and `(`; `x y` is an error whose hint suggests `x*y`.
//! - Every error carries a byte offset, a kind, a message and, where one helps, a hint.
//! - A number that does not exist (`1/0`, `ln(0)`, `asin(2)`) makes the expression
//!   undefined for every value of its variables. Where the smart constructors would
//!   cancel it (`x/0 - x/0`, `0*ln(0) + x`, `sin(asin(2))`), the input is refused
//!   ([`ErrorKind::UndefinedEverywhere`]) rather than read as defined; where it stays
//!   (`x*ln(0)`), the expression parses, and evaluating it says it is undefined.
//! - Parsing never panics and never overflows the stack: nesting deeper than
//!   [`MAX_DEPTH`] is an error, and input larger than [`MAX_INPUT_BYTES`] is refused.
//!
//! ```
//! use dydx::parse;
//! assert_eq!(parse("5*x**4 - 5").unwrap().to_string(), "5*x^4 - 5");
//! let err = parse("(x + 1").unwrap_err();
//! assert_eq!((err.kind.as_str(), err.offset), ("unbalanced-parenthesis", 0));
//! ```

use crate::expr::{Builder, Constant, Expr, Func, Id, Rational};
use crate::limits::{MAX_DEPTH, MAX_INPUT_BYTES, MAX_LITERAL_DIGITS};
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while};
use nom::character::complete::{char, digit1, multispace0, one_of, satisfy};
use nom::combinator::{opt, recognize};
use nom::{IResult, Parser as _};
use num_bigint::BigInt;
use num_traits::Num;
use std::fmt;

/// What went wrong in a parse; `as_str` gives the stable kebab-case name used in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ErrorKind {
    /// Nothing but whitespace.
    Empty,
    /// A `(` without its `)`, or a `)` without its `(`.
    UnbalancedParenthesis,
    /// An operator with no operand after or before it.
    MissingOperand,
    /// Two operands side by side where implicit multiplication is not allowed.
    MissingOperator,
    /// A call of a function the language does not have.
    UnknownFunction,
    /// A function called with the wrong number of arguments.
    WrongArity,
    /// A function name used without arguments.
    FunctionAsValue,
    /// A character that is not part of the language.
    StrayCharacter,
    /// A malformed number literal.
    MalformedNumber,
    /// Nesting deeper than [`MAX_DEPTH`].
    NestingTooDeep,
    /// Input larger than [`MAX_INPUT_BYTES`].
    InputTooLarge,
    /// A number literal longer than [`MAX_LITERAL_DIGITS`].
    NumberTooLarge,
    /// A number that does not exist (`1/0`, `ln(0)`), cancelled by the rest of the
    /// expression (`x/0 - x/0`), which is undefined for every value of its variables
    /// but would read as defined. (Where the undefined number stays, as in
    /// `x*ln(0)`, the expression parses, and evaluating it says it is undefined.)
    UndefinedEverywhere,
}

impl ErrorKind {
    /// The stable name of this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Empty => "empty-input",
            ErrorKind::UnbalancedParenthesis => "unbalanced-parenthesis",
            ErrorKind::MissingOperand => "missing-operand",
            ErrorKind::MissingOperator => "missing-operator",
            ErrorKind::UnknownFunction => "unknown-function",
            ErrorKind::WrongArity => "wrong-arity",
            ErrorKind::FunctionAsValue => "function-as-value",
            ErrorKind::StrayCharacter => "stray-character",
            ErrorKind::MalformedNumber => "malformed-number",
            ErrorKind::NestingTooDeep => "nesting-too-deep",
            ErrorKind::InputTooLarge => "input-too-large",
            ErrorKind::NumberTooLarge => "number-too-large",
            ErrorKind::UndefinedEverywhere => "undefined-everywhere",
        }
    }
}

/// A parse error at a byte offset of the input.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ParseError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Byte offset of the spot in the input.
    pub offset: usize,
    /// Length in bytes of the offending text (at least 1 where there is any).
    pub len: usize,
    /// One sentence saying what is wrong.
    pub message: String,
    /// What to write instead, where that is known.
    pub hint: Option<String>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)?;
        if let Some(h) = &self.hint {
            write!(f, "; hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

type PResult<'s> = Result<(&'s str, Id), ParseError>;

/// Parses text in the input language (see the module docs).
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let mut b = Builder::new();
    let root = parse_into(&mut b, src)?;
    Ok(b.into_expr(root))
}

/// Parses text as written, each operation one node, nothing folded or cancelled
/// ([`Builder::verbatim`]): `x/x` is `x*x^-1`, undefined at `x = 0`, where [`parse`]
/// reads it as `1`; `exp(ln(x))` stays, undefined at `x = -4`. The tape records this
/// form and the cross-check asks it whether the input is defined at a point, so both
/// see the function the user wrote; differentiation works on [`parse`]'s form.
/// Errors as [`parse`] does, except that a number undefined everywhere is not
/// reported (parse the text with [`parse`] first).
///
/// ```
/// use dydx::{parse, parse::parse_verbatim, eval::{eval_f64, point}};
/// let text = "exp(ln(x)) + x/x";
/// assert_eq!(parse(text).unwrap().to_string(), "x + 1");
/// let written = parse_verbatim(text).unwrap();
/// let at = point(&[("x", "-4")]).unwrap();
/// assert!(eval_f64(&parse(text).unwrap(), &at).is_ok());
/// assert!(eval_f64(&written, &at).is_err());
/// ```
pub fn parse_verbatim(src: &str) -> Result<Expr, ParseError> {
    let mut b = Builder::verbatim();
    let root = parse_into(&mut b, src)?;
    Ok(b.into_expr(root))
}

/// Parses into an existing builder, so several inputs can share nodes.
pub fn parse_into(b: &mut Builder, src: &str) -> Result<Id, ParseError> {
    if src.len() > MAX_INPUT_BYTES {
        return Err(ParseError {
            kind: ErrorKind::InputTooLarge,
            offset: 0,
            len: 0,
            message: format!("input is {} bytes; the limit is {MAX_INPUT_BYTES} bytes", src.len()),
            hint: None,
        });
    }
    if src.trim().is_empty() {
        return Err(ParseError {
            kind: ErrorKind::Empty,
            offset: 0,
            len: 0,
            message: "the input is empty".into(),
            hint: Some("type an expression such as `x^2 + 1`".into()),
        });
    }
    let undefined_before = b.undefined_made();
    let mut p = Parser {
        src,
        b,
        depth: 0,
        opens: Vec::new(),
        undefined_at: None,
    };
    let (rest, id) = sum(&mut p, src)?;
    let rest = ws(rest);
    if let Some(c) = rest.chars().next() {
        return Err(p.trailing(rest, c));
    }
    // An undefined number made along the way and gone from the result: the
    // expression is undefined everywhere, though it would read as defined.
    if p.b.undefined_made() > undefined_before && !p.b.holds_undefined_number(id) {
        let (offset, len, why) = p.undefined_at.unwrap_or((0, src.len(), "no value"));
        return Err(ParseError {
            kind: ErrorKind::UndefinedEverywhere,
            offset,
            len,
            message: format!(
                "this has no value ({why}), so the expression has none for any value of its \
                 variables, though the rest of it cancels this"
            ),
            hint: Some("remove the term, or write what was meant".into()),
        });
    }
    Ok(id)
}

/// Parser state: the builder, the nesting depth and the offsets of open parentheses.
pub struct Parser<'s, 'b> {
    src: &'s str,
    b: &'b mut Builder,
    depth: usize,
    opens: Vec<usize>,
    /// Where the first undefined number was made (offset, length), and why it is.
    undefined_at: Option<(usize, usize, &'static str)>,
}

impl<'s> Parser<'s, '_> {
    fn offset(&self, rest: &str) -> usize {
        self.src.len() - rest.len()
    }

    /// Records the text from `start` to `end` as where the first undefined number was
    /// made, if the builder made one since it had made `before`.
    fn note_undefined(&mut self, before: usize, start: &str, end: &str, made: Id) {
        if self.undefined_at.is_none() && self.b.undefined_made() > before {
            let offset = self.offset(start);
            // The reason, where the number made is still the node built (`ln(0)`);
            // otherwise it was folded into another (`sin(asin(2))`).
            let b = &*self.b;
            let why = crate::expr::undefined_number(b.node(made), |k| b.node(k)).unwrap_or("no value");
            self.undefined_at = Some((offset, self.offset(end).saturating_sub(offset).max(1), why));
        }
    }

    fn err(&self, kind: ErrorKind, rest: &str, message: impl Into<String>, hint: Option<String>) -> ParseError {
        let len = rest.chars().next().map_or(0, char::len_utf8);
        ParseError {
            kind,
            offset: self.offset(rest),
            len,
            message: message.into(),
            hint,
        }
    }

    /// The error for text left over after a complete expression.
    fn trailing(&self, rest: &str, c: char) -> ParseError {
        match c {
            ')' => self.err(
                ErrorKind::UnbalancedParenthesis,
                rest,
                "this ')' has no matching '('",
                Some("remove it, or add the '(' it closes".into()),
            ),
            ',' => self.err(
                ErrorKind::StrayCharacter,
                rest,
                "',' outside a function call",
                Some("commas only separate arguments, as in `log(x, 2)`".into()),
            ),
            _ => stray(self, rest, c),
        }
    }
}

fn ws(i: &str) -> &str {
    let r: IResult<&str, &str> = multispace0(i);
    r.map_or(i, |(rest, _)| rest)
}

/// The text of a number literal: `12`, `2.5`, `1e-3`, `1.5E+2`.
fn number_token(i: &str) -> IResult<&str, &str> {
    recognize((
        digit1,
        opt((char('.'), digit1)),
        opt((one_of("eE"), opt(one_of("+-")), digit1)),
    ))
    .parse(i)
}

/// An identifier: `[A-Za-z_][A-Za-z0-9_]*`.
fn identifier_token(i: &str) -> IResult<&str, &str> {
    recognize((
        satisfy(|c| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    ))
    .parse(i)
}

/// `**` or `^`.
fn power_operator(i: &str) -> IResult<&str, &str> {
    alt((tag("**"), tag("^"))).parse(i)
}

/// Converts a number literal to an exact rational.
fn literal_value(text: &str) -> Option<Rational> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(k) => (&text[..k], text[k + 1..].parse::<i64>().ok()?),
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = BigInt::from_str_radix(&format!("{int}{frac}"), 10).ok()?;
    let scale = exponent - frac.len() as i64;
    let ten = BigInt::from(10);
    let p = ten.pow(u32::try_from(scale.unsigned_abs()).ok()?);
    Some(if scale >= 0 {
        Rational::from_integer(digits * p)
    } else {
        Rational::new(digits, p)
    })
}

/// sum := product (('+' | '-') product)*
pub fn sum<'s>(p: &mut Parser<'s, '_>, i: &'s str) -> PResult<'s> {
    let (mut rest, first) = product(p, i)?;
    let mut terms = vec![first];
    loop {
        let r = ws(rest);
        let Some(op) = r.chars().next().filter(|c| *c == '+' || *c == '-') else {
            break;
        };
        let (r2, t) = product(p, &r[1..])?;
        terms.push(if op == '-' { p.b.neg(t) } else { t });
        rest = r2;
    }
    let id = if terms.len() == 1 { terms[0] } else { p.b.add(terms) };
    Ok((rest, id))
}

/// Whether the text starts a new operand (for implicit multiplication).
fn starts_operand(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '(' || c == '.'
}

/// product := unary (('*' | '/' | implicit) unary)*
///
/// Implicit multiplication is allowed after a number literal (before a name or `(`)
/// and between `)` and `(`.
pub fn product<'s>(p: &mut Parser<'s, '_>, i: &'s str) -> PResult<'s> {
    let start = ws(i);
    let (mut rest, first) = unary(p, i)?;
    let mut factors = vec![first];
    let mut last_start = start;
    loop {
        let r = ws(rest);
        let Some(c) = r.chars().next() else { break };
        if c == '*' && !r.starts_with("**") {
            let operand = ws(&r[1..]);
            let (r2, f) = unary(p, &r[1..])?;
            factors.push(f);
            last_start = operand;
            rest = r2;
        } else if c == '/' {
            let operand = ws(&r[1..]);
            let (r2, f) = unary(p, &r[1..])?;
            let before = p.b.undefined_made();
            let reciprocal = p.b.recip(f);
            factors.push(reciprocal);
            p.note_undefined(before, r, r2, reciprocal);
            last_start = operand;
            rest = r2;
        } else if starts_operand(c) {
            let prev = &p.src[p.offset(last_start)..p.offset(rest)];
            let after_number = prev.ends_with(|ch: char| ch.is_ascii_digit()) && number_ends_token(prev);
            let after_paren = prev.ends_with(')') && c == '(';
            let allowed = (after_number && (c.is_ascii_alphabetic() || c == '_' || c == '(')) || after_paren;
            if !allowed {
                return Err(missing_operator(p, prev, r, c));
            }
            let (r2, f) = unary(p, r)?;
            factors.push(f);
            last_start = r;
            rest = r2;
        } else {
            break;
        }
    }
    let id = if factors.len() == 1 {
        factors[0]
    } else {
        p.b.mul(factors)
    };
    Ok((rest, id))
}

/// Whether the text of an operand ends with a complete number literal (not a name
/// such as `x1`).
fn number_ends_token(prev: &str) -> bool {
    let trimmed = prev.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_');
    let token = &prev[trimmed.len()..];
    token.starts_with(|c: char| c.is_ascii_digit())
        && !token.chars().any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
}

fn missing_operator(p: &Parser<'_, '_>, prev: &str, r: &str, c: char) -> ParseError {
    let next: String = r
        .chars()
        .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
        .collect();
    let prev_tail: String = {
        let t = prev.trim_end();
        let k = t
            .rfind(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == ')'))
            .map_or(0, |k| k + 1);
        t[k..].to_string()
    };
    if c == '.' {
        return p.err(
            ErrorKind::MalformedNumber,
            r,
            "malformed number: a second '.'",
            Some("a number has at most one decimal point".into()),
        );
    }
    if c.is_ascii_digit() {
        return p.err(
            ErrorKind::MissingOperator,
            r,
            "a number cannot follow here without an operator",
            Some(format!("write `{prev_tail}*{next}` for a product")),
        );
    }
    let shown = if next.is_empty() { "(…)".to_string() } else { next };
    p.err(
        ErrorKind::MissingOperator,
        r,
        "missing operator between two operands",
        Some(format!(
            "write `{prev_tail}*{shown}` for a product (implicit multiplication is only allowed after a number, as in `3x`, or between `)(`)"
        )),
    )
}

/// unary := ('-' | '+')* power
///
/// Signs are counted in a loop, so a hundred thousand of them need no recursion.
pub fn unary<'s>(p: &mut Parser<'s, '_>, i: &'s str) -> PResult<'s> {
    let mut rest = ws(i);
    let mut negative = false;
    while let Some(c) = rest.chars().next().filter(|c| *c == '-' || *c == '+') {
        if c == '-' {
            negative = !negative;
        }
        rest = ws(&rest[1..]);
    }
    let (rest, id) = power(p, rest)?;
    Ok((rest, if negative { p.b.neg(id) } else { id }))
}

/// power := atom (('^' | '**') ('-' | '+')* atom)*, folded from the right.
pub fn power<'s>(p: &mut Parser<'s, '_>, i: &'s str) -> PResult<'s> {
    let (mut rest, first) = atom(p, i)?;
    let mut chain: Vec<(bool, Id)> = Vec::new();
    loop {
        let r = ws(rest);
        let Ok((after_op, _)) = power_operator(r) else { break };
        let mut r = ws(after_op);
        let mut negative = false;
        while let Some(c) = r.chars().next().filter(|c| *c == '-' || *c == '+') {
            if c == '-' {
                negative = !negative;
            }
            r = ws(&r[1..]);
        }
        if r.starts_with('*') {
            return Err(p.err(
                ErrorKind::MissingOperand,
                r,
                "expected an exponent, found '*'",
                Some("'***' is not an operator: use `^` or `**` for powers and `*` for products".into()),
            ));
        }
        let (r2, a) = atom(p, r)?;
        chain.push((negative, a));
        rest = r2;
    }
    let Some((last_neg, last)) = chain.pop() else {
        return Ok((rest, first));
    };
    let before = p.b.undefined_made();
    let mut acc = if last_neg { p.b.neg(last) } else { last };
    while let Some((neg, a)) = chain.pop() {
        let pw = p.b.pow(a, acc);
        acc = if neg { p.b.neg(pw) } else { pw };
    }
    let id = p.b.pow(first, acc);
    p.note_undefined(before, ws(i), rest, id);
    Ok((rest, id))
}

/// atom := number | constant | variable | function '(' sum (',' sum)* ')' | '(' sum ')'
pub fn atom<'s>(p: &mut Parser<'s, '_>, i: &'s str) -> PResult<'s> {
    stacker::maybe_grow(64 * 1024, 2 * 1024 * 1024, || atom_inner(p, i))
}

fn atom_inner<'s>(p: &mut Parser<'s, '_>, i: &'s str) -> PResult<'s> {
    let i = ws(i);
    let Some(c) = i.chars().next() else {
        let (message, hint) = match p.opens.last() {
            Some(_) => (
                "expected an operand, found the end of the input",
                Some("finish the expression".to_string()),
            ),
            None => (
                "expected an operand after the operator, found the end of the input",
                Some("remove the dangling operator or add an operand".to_string()),
            ),
        };
        return Err(p.err(ErrorKind::MissingOperand, i, message, hint));
    };
    if c.is_ascii_digit() {
        return number(p, i);
    }
    if c.is_ascii_alphabetic() || c == '_' {
        return name(p, i);
    }
    if c == '(' {
        let open = p.offset(i);
        let inner = ws(&i[1..]);
        if inner.starts_with(')') {
            return Err(p.err(
                ErrorKind::MissingOperand,
                i,
                "empty parentheses",
                Some("put an expression inside `( )`".into()),
            ));
        }
        let (rest, id) = nested(p, open, |p| sum(p, &i[1..]))?;
        return Ok((close_paren(p, rest, open)?, id));
    }
    Err(match c {
        '*' | '/' | '^' => {
            let before = p.src[..p.offset(i)].trim_end();
            let hint = if before.ends_with(['+', '-', '*', '/', '^', '(']) || before.is_empty() {
                Some("an operator needs an operand on each side".to_string())
            } else {
                None
            };
            p.err(
                ErrorKind::MissingOperand,
                i,
                format!("expected an operand, found '{c}'"),
                hint,
            )
        }
        ')' => p.err(
            ErrorKind::MissingOperand,
            i,
            "expected an operand, found ')'",
            Some("an operator needs an operand on each side".into()),
        ),
        ',' => p.err(ErrorKind::MissingOperand, i, "expected an operand, found ','", None),
        _ => stray(p, i, c),
    })
}

/// Runs `f` one nesting level deeper, refusing to go past [`MAX_DEPTH`].
fn nested<'s, 'b, T>(
    p: &mut Parser<'s, 'b>,
    open: usize,
    f: impl FnOnce(&mut Parser<'s, 'b>) -> Result<(&'s str, T), ParseError>,
) -> Result<(&'s str, T), ParseError> {
    if p.depth >= MAX_DEPTH {
        return Err(ParseError {
            kind: ErrorKind::NestingTooDeep,
            offset: open,
            len: 1,
            message: format!("nesting is deeper than the limit of {MAX_DEPTH} levels"),
            hint: Some("simplify the input or split it up".into()),
        });
    }
    p.depth += 1;
    p.opens.push(open);
    let r = f(p);
    p.opens.pop();
    p.depth -= 1;
    r
}

fn close_paren<'s>(p: &Parser<'s, '_>, rest: &'s str, open: usize) -> Result<&'s str, ParseError> {
    let r = ws(rest);
    if let Some(after) = r.strip_prefix(')') {
        return Ok(after);
    }
    // Whatever else is left could not continue the expression, so name it.
    match r.chars().next() {
        None => Err(ParseError {
            kind: ErrorKind::UnbalancedParenthesis,
            offset: open,
            len: 1,
            message: "this '(' is never closed".into(),
            hint: Some("add the missing ')'".into()),
        }),
        Some(c) => Err(p.trailing(r, c)),
    }
}

fn number<'s>(p: &mut Parser<'s, '_>, i: &'s str) -> PResult<'s> {
    if (i.starts_with("0x") || i.starts_with("0X") || i.starts_with("0b") || i.starts_with("0o"))
        && i[2..].starts_with(|c: char| c.is_ascii_hexdigit())
    {
        return Err(p.err(
            ErrorKind::MalformedNumber,
            i,
            "hexadecimal, binary and octal literals are not supported",
            Some("write the number in decimal".into()),
        ));
    }
    let Ok((rest, text)) = number_token(i) else {
        return Err(p.err(ErrorKind::MalformedNumber, i, "malformed number", None));
    };
    if rest.starts_with('.') {
        return Err(p.err(
            ErrorKind::MalformedNumber,
            i,
            "malformed number",
            Some("a number has at most one decimal point and a digit after it".into()),
        ));
    }
    let exponent_digits = text
        .find(['e', 'E'])
        .and_then(|k| text[k + 1..].trim_start_matches(['+', '-']).parse::<i64>().ok());
    let mantissa_digits = text.find(['e', 'E']).unwrap_or(text.len());
    let too_big = mantissa_digits > MAX_LITERAL_DIGITS
        || exponent_digits.is_some_and(|x| x.unsigned_abs() > MAX_LITERAL_DIGITS as u64)
        || text.find(['e', 'E']).is_some_and(|k| text.len() - k > 12);
    if too_big {
        return Err(p.err(
            ErrorKind::NumberTooLarge,
            i,
            format!("number literal is larger than the limit of {MAX_LITERAL_DIGITS} digits"),
            None,
        ));
    }
    let Some(value) = literal_value(text) else {
        return Err(p.err(ErrorKind::MalformedNumber, i, "malformed number", None));
    };
    Ok((rest, p.b.num(value)))
}

fn name<'s>(p: &mut Parser<'s, '_>, i: &'s str) -> PResult<'s> {
    let Ok((rest, ident)) = identifier_token(i) else {
        return Err(p.err(ErrorKind::StrayCharacter, i, "expected a name", None));
    };
    let after = ws(rest);
    let is_call = after.starts_with('(');
    if !is_call {
        if let Some(c) = match ident {
            "pi" => Some(Constant::Pi),
            "e" => Some(Constant::E),
            _ => None,
        } {
            return Ok((rest, p.b.constant(c)));
        }
        if Func::from_name(ident).is_some() || ident == "log" || reciprocal_hyperbolic(ident).is_some() {
            return Err(ParseError {
                kind: ErrorKind::FunctionAsValue,
                offset: p.offset(i),
                len: ident.len(),
                message: format!("'{ident}' is a function and needs an argument"),
                hint: Some(format!("write `{ident}(x)`")),
            });
        }
        return Ok((rest, p.b.var(ident)));
    }
    let open = p.offset(after);
    let func = Func::from_name(ident);
    let reciprocal = reciprocal_hyperbolic(ident);
    if func.is_none() && ident != "log" && reciprocal.is_none() {
        let hint = match closest_function(ident) {
            Some(f) => format!("did you mean `{f}`?"),
            None => format!(
                "the functions are {}, log, sech, csch, coth; for a product write `{ident}*(…)`",
                Func::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
            ),
        };
        return Err(ParseError {
            kind: ErrorKind::UnknownFunction,
            offset: p.offset(i),
            len: ident.len(),
            message: format!("unknown function '{ident}'"),
            hint: Some(hint),
        });
    }
    let (rest, args) = nested(p, open, |p| arguments(p, &after[1..]))?;
    let rest = close_paren(p, rest, open)?;
    let arity_error = |expected: &str| ParseError {
        kind: ErrorKind::WrongArity,
        offset: p.offset(i),
        len: ident.len(),
        message: format!("'{ident}' takes {expected}, but was given {}", args.len()),
        hint: None,
    };
    let before = p.b.undefined_made();
    let id = match (func, args.as_slice()) {
        (Some(f), [a]) => p.b.call(f, *a),
        (Some(_), _) => return Err(arity_error("one argument")),
        (None, [a]) if reciprocal.is_some() => {
            let (numerator, denominator) = reciprocal.unwrap_or((None, Func::Cosh));
            let below = p.b.call(denominator, *a);
            match numerator {
                Some(f) => {
                    let above = p.b.call(f, *a);
                    p.b.div(above, below)
                }
                None => p.b.recip(below),
            }
        }
        (None, _) if reciprocal.is_some() => return Err(arity_error("one argument")),
        (None, [a]) => p.b.call(Func::Ln, *a),
        (None, [a, base]) => p.b.log(*a, *base),
        (None, _) => return Err(arity_error("one or two arguments: `log(x)` or `log(x, base)`")),
    };
    p.note_undefined(before, i, rest, id);
    Ok((rest, id))
}

/// The reciprocal hyperbolic functions, which the reader writes over `sinh` and
/// `cosh` (as `tan` is not, since these are rare in output): `sech(u)` is `1/cosh(u)`,
/// `csch(u)` is `1/sinh(u)`, `coth(u)` is `cosh(u)/sinh(u)`, each with the same value
/// and domain. The numerator's function (none for 1) and the denominator's.
fn reciprocal_hyperbolic(ident: &str) -> Option<(Option<Func>, Func)> {
    match ident {
        "sech" => Some((None, Func::Cosh)),
        "csch" => Some((None, Func::Sinh)),
        "coth" => Some((Some(Func::Cosh), Func::Sinh)),
        _ => None,
    }
}

fn arguments<'s>(p: &mut Parser<'s, '_>, i: &'s str) -> Result<(&'s str, Vec<Id>), ParseError> {
    let first = ws(i);
    if first.starts_with(')') {
        return Ok((first, Vec::new()));
    }
    let (mut rest, a) = sum(p, i)?;
    let mut args = vec![a];
    loop {
        let r = ws(rest);
        let Some(after) = r.strip_prefix(',') else { break };
        let (r2, a) = sum(p, after)?;
        args.push(a);
        rest = r2;
    }
    Ok((rest, args))
}

/// The known function whose name is closest to `ident` (edit distance at most 2,
/// ignoring case), for the "did you mean" hint.
fn closest_function(ident: &str) -> Option<&'static str> {
    let lower = ident.to_ascii_lowercase();
    let names = Func::ALL.iter().map(|f| f.name()).chain(["log"]);
    names
        .map(|n| {
            (
                edit_distance(&lower, n),
                !(lower.starts_with(n) || n.starts_with(lower.as_str())),
                n,
            )
        })
        .filter(|(d, _, _)| *d <= if lower.len() <= 4 { 1 } else { 2 })
        .min()
        .map(|(_, _, n)| n)
}

/// Edit distance counting an adjacent transposition as one edit (`atna` → `atan`).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The error for a character that is not part of the language, with a hint for the
/// look-alikes people paste from documents.
fn stray(p: &Parser<'_, '_>, rest: &str, c: char) -> ParseError {
    let hint = match c {
        '\u{2212}' | '\u{2013}' | '\u{2014}' => Some("use the ASCII minus sign '-'".to_string()),
        '\u{00d7}' | '\u{22c5}' | '\u{00b7}' => Some("use '*' for multiplication".to_string()),
        '\u{00f7}' => Some("use '/' for division".to_string()),
        '\u{00b2}' => Some("write `^2` for a square".to_string()),
        '\u{00b3}' => Some("write `^3` for a cube".to_string()),
        '\u{03c0}' => Some("write `pi`".to_string()),
        '\u{03b8}' => Some("write `theta`".to_string()),
        '\u{221a}' => Some("write `sqrt(…)`".to_string()),
        '\u{ff01}'..='\u{ff5e}' => {
            let ascii = char::from_u32(c as u32 - 0xfee0).unwrap_or('?');
            Some(format!("this is a full-width character; write the ASCII '{ascii}'"))
        }
        '=' => Some("dydx takes an expression, not an equation: drop the `=` part".to_string()),
        '!' => Some("factorials are not supported".to_string()),
        '[' | ']' | '{' | '}' => Some("use round parentheses `( )`".to_string()),
        _ if c.is_alphabetic() => {
            Some("names are ASCII letters, digits and '_': spell Greek letters out (`theta`, `alpha`)".to_string())
        }
        _ => None,
    };
    let message = if c.is_ascii() && !c.is_ascii_control() {
        format!("unexpected character '{c}'")
    } else {
        format!("unexpected character '{c}' (U+{:04X})", c as u32)
    };
    p.err(ErrorKind::StrayCharacter, rest, message, hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses with one precedence-level function and returns the printed result and
    /// the unparsed rest.
    fn level(f: for<'s, 'b> fn(&mut Parser<'s, 'b>, &'s str) -> PResult<'s>, src: &str) -> (String, String) {
        let mut b = Builder::new();
        let mut p = Parser {
            src,
            b: &mut b,
            depth: 0,
            opens: Vec::new(),
            undefined_at: None,
        };
        let (rest, id) = f(&mut p, src).unwrap();
        let rest = rest.to_string();
        (b.finish(id).to_string(), rest)
    }

    #[test]
    fn atom_level() {
        assert_eq!(level(atom, "2.5 + x"), ("5/2".into(), " + x".into()));
        assert_eq!(level(atom, "1e-3"), ("1/1000".into(), "".into()));
        assert_eq!(level(atom, "1.5E+2"), ("150".into(), "".into()));
        assert_eq!(level(atom, "theta*2"), ("theta".into(), "*2".into()));
        assert_eq!(level(atom, "x_2"), ("x_2".into(), "".into()));
        assert_eq!(level(atom, "pi"), ("pi".into(), "".into()));
        assert_eq!(level(atom, "(x + 1)^2"), ("x + 1".into(), "^2".into()));
        assert_eq!(level(atom, "sin ( x )"), ("sin(x)".into(), "".into()));
        assert_eq!(level(atom, "log(x, 2)"), ("log(x, 2)".into(), "".into()));
        assert_eq!(level(atom, "log(x)"), ("ln(x)".into(), "".into()));
        assert_eq!(level(atom, "xy"), ("xy".into(), "".into()));
    }

    #[test]
    fn reciprocal_hyperbolic_functions_read_over_sinh_and_cosh() {
        assert_eq!(level(atom, "sech(x)^2"), ("1/cosh(x)".into(), "^2".into()));
        assert_eq!(level(atom, "csch(2*x)"), ("1/sinh(2*x)".into(), "".into()));
        assert_eq!(level(atom, "coth(x)"), ("cosh(x)/sinh(x)".into(), "".into()));
        // Written out too, so the tape sees the same operations; undefined where
        // `sinh` is 0, as `csch` and `coth` are.
        let written = parse_verbatim("coth(x)").unwrap();
        assert_eq!(written.to_string(), "cosh(x)/sinh(x)");
        let at = crate::eval::point(&[("x", "0")]).unwrap();
        assert!(crate::eval::eval_f64(&written, &at).is_err());
        assert_eq!(parse("sech").unwrap_err().kind, ErrorKind::FunctionAsValue);
        assert_eq!(parse("coth(x, y)").unwrap_err().kind, ErrorKind::WrongArity);
    }

    #[test]
    fn verbatim_keeps_every_operation_as_written() {
        use crate::expr::Node;
        // One node per operation: nothing folded, cancelled or reordered.
        let e = parse_verbatim("x/x").unwrap();
        assert!(matches!(e.node(e.root()), Node::Mul(fs) if fs.len() == 2));
        let e = parse_verbatim("2 + 3 - y*1").unwrap();
        assert_eq!(e.len(), 8, "2, 3, y, 1, y*1, -1, -1*(y*1), the sum");
        let e = parse_verbatim("sin(asin(x))").unwrap();
        assert!(matches!(e.node(e.root()), Node::Call(crate::expr::Func::Sin, _)));
        // Where the text is undefined, so is its tape, though the read form is not.
        let at = crate::eval::point(&[("x", "0")]).unwrap();
        for text in ["x/x", "sqrt(x - 1)^2 + 1", "ln(x) - ln(x)"] {
            let written = parse_verbatim(text).unwrap();
            let read = parse(text).unwrap();
            assert!(crate::eval::eval_f64(&read, &at).is_ok(), "{text}");
            let tape = crate::tape::record(&written, &at, &["x"]).unwrap();
            assert!(tape.value(&written).is_err(), "{text}");
        }
        // Constants fold exactly, as they read: sin(pi) is 0, not f64's 1.2e-16, so
        // sqrt(-sin(pi)) is 0, not the root of a negative number.
        let written = parse_verbatim("sqrt(-sin(pi))*x + x").unwrap();
        let at = crate::eval::point(&[("x", "1")]).unwrap();
        let tape = crate::tape::record(&written, &at, &["x"]).unwrap();
        assert_eq!(tape.value(&written), Ok(1.0));
        // Errors are the reader's.
        assert_eq!(parse_verbatim("x +").unwrap_err().kind, ErrorKind::MissingOperand);
    }

    #[test]
    fn power_level() {
        assert_eq!(level(power, "2^3^2"), ("512".into(), "".into()));
        assert_eq!(level(power, "x**2"), ("x^2".into(), "".into()));
        assert_eq!(level(power, "x^-2"), ("1/x^2".into(), "".into()));
        assert_eq!(level(power, "e^-x^2"), ("exp(-x^2)".into(), "".into()));
        assert_eq!(level(power, "x^2*y"), ("x^2".into(), "*y".into()));
    }

    #[test]
    fn unary_level() {
        assert_eq!(level(unary, "-x^2"), ("-x^2".into(), "".into()));
        assert_eq!(level(unary, "--x"), ("x".into(), "".into()));
        assert_eq!(level(unary, "+x"), ("x".into(), "".into()));
        assert_eq!(level(unary, "-2"), ("-2".into(), "".into()));
    }

    #[test]
    fn product_level() {
        assert_eq!(level(product, "2*x/y + 1"), ("2*x/y".into(), " + 1".into()));
        assert_eq!(level(product, "3x"), ("3*x".into(), "".into()));
        assert_eq!(level(product, "2(x+1)"), ("2*x + 2".into(), "".into()));
        assert_eq!(level(product, "2 sin(x)"), ("2*sin(x)".into(), "".into()));
        assert_eq!(level(product, "(x+1)(x-1)"), ("(x - 1)*(x + 1)".into(), "".into()));
        assert_eq!(level(product, "3x^2"), ("3*x^2".into(), "".into()));
    }

    #[test]
    fn sum_level() {
        assert_eq!(level(sum, "1 - x + 2"), ("3 - x".into(), "".into()));
        assert_eq!(level(sum, "x - -1"), ("x + 1".into(), "".into()));
        assert_eq!(level(sum, "x + y)"), ("x + y".into(), ")".into()));
    }

    #[test]
    fn errors_point_at_the_spot() {
        let cases = [
            ("(x + 1", ErrorKind::UnbalancedParenthesis, 0),
            ("x + (1 + (2)", ErrorKind::UnbalancedParenthesis, 4),
            ("x)", ErrorKind::UnbalancedParenthesis, 1),
            ("x y", ErrorKind::MissingOperator, 2),
            ("(x)y", ErrorKind::MissingOperator, 3),
            ("2 + * 3", ErrorKind::MissingOperand, 4),
            ("x +", ErrorKind::MissingOperand, 3),
            ("foo(x)", ErrorKind::UnknownFunction, 0),
            ("sin(x, y)", ErrorKind::WrongArity, 0),
            ("cos", ErrorKind::FunctionAsValue, 0),
            ("x $ 1", ErrorKind::StrayCharacter, 2),
            ("1.2.3", ErrorKind::MalformedNumber, 0),
            ("", ErrorKind::Empty, 0),
            ("2 3", ErrorKind::MissingOperator, 2),
            ("x/0 - x/0", ErrorKind::UndefinedEverywhere, 1),
            ("y + 0*ln(-2)", ErrorKind::UndefinedEverywhere, 6),
            ("sin(asin(3/2))", ErrorKind::UndefinedEverywhere, 4),
        ];
        for (src, kind, offset) in cases {
            let e = parse(src).unwrap_err();
            assert_eq!((e.kind, e.offset), (kind, offset), "{src}: {}", e.message);
        }
    }

    #[test]
    fn a_number_that_does_not_exist_parses_where_it_stays() {
        // Evaluating these says they are undefined; only a cancelled one is refused.
        for src in [
            "x*ln(0)",
            "x/0",
            "x/(2 - 2)",
            "sqrt(-1) + x",
            "log(x, 1)",
            "(-8)^(1/3)*x",
        ] {
            assert!(parse(src).is_ok(), "{src}");
        }
        assert_eq!(parse("x/0").unwrap().to_string(), "x/0");
        // One parse's undefined number does not count against the next on a shared
        // builder.
        let mut b = Builder::new();
        assert!(parse_into(&mut b, "x/0").is_ok());
        assert!(parse_into(&mut b, "x - x + 1").is_ok());
    }

    #[test]
    fn unknown_functions_get_the_closest_name() {
        let hint = |s: &str| parse(s).unwrap_err().hint.unwrap_or_default();
        assert!(hint("Sin(x)").contains("`sin`"));
        assert!(hint("sinn(x)").contains("`sin`"));
        assert!(hint("atna(x)").contains("`atan`"));
        assert!(hint("foo(x)").contains("for a product"));
    }

    #[test]
    fn literal_limits() {
        let long = "9".repeat(MAX_LITERAL_DIGITS + 1);
        assert_eq!(parse(&long).unwrap_err().kind, ErrorKind::NumberTooLarge);
        assert_eq!(parse("1e999999999").unwrap_err().kind, ErrorKind::NumberTooLarge);
    }
}
