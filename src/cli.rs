//! The command line: the only module that writes to stdout or stderr or chooses an
//! exit code.
//!
//! Exit codes: 0 ok, 1 a cross-check failed, 2 bad input or usage.

use crate::check::{
    check_gradient_at, check_with, sample_gradient, sample_with, Report, SampleSummary, Status, Tolerance, Within,
    Witness,
};
use crate::claim::{check_claim, ClaimOptions, ClaimReport, Method, Verdict};
use crate::diff::diff;
use crate::eval::{format_f64, parse_number, Point};
use crate::expr::{natural_cmp, Expr};
use crate::float;
use crate::format;
use crate::limits::MAX_ORDER;
use crate::parse::{parse, ParseError};
use crate::print::{print_with, rational_to_string, Numbers};
use crate::simplify::{simplify_for, step_form, Budget, Level, Report as SimplifyReport};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::process::ExitCode;

/// Closed-form derivatives, printed and cross-checked against an autograd tape.
#[derive(Parser, Debug)]
#[command(name = "dydx", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Differentiate EXPR and cross-check the result against the tape.
    Diff {
        /// The expression, e.g. '5*x**4 + 3*x**3 - 5'; `-` reads it from stdin, `@FILE` from a file.
        #[arg(allow_hyphen_values = true)]
        expr: String,
        #[command(flatten)]
        common: DiffArgs,
    },
    /// The gradient of EXPR: the partial derivative for every variable.
    Grad {
        /// The expression; `-` reads it from stdin, `@FILE` from a file.
        #[arg(allow_hyphen_values = true)]
        expr: String,
        #[command(flatten)]
        common: CheckArgs,
    },
    /// The value of EXPR at a point, and the tape's gradient there.
    Eval {
        /// The expression; `-` reads it from stdin, `@FILE` from a file.
        #[arg(allow_hyphen_values = true)]
        expr: String,
        #[command(flatten)]
        common: CheckArgs,
    },
    /// The Jacobian of several functions, separated by `;`.
    Jacobian {
        /// The functions, e.g. 'x*y; x^2 + z'; `-` reads them from stdin, `@FILE` from a file.
        #[arg(allow_hyphen_values = true)]
        exprs: String,
        /// The variables, comma-separated (default: all, sorted by name).
        #[arg(long, value_delimiter = ',')]
        wrt: Vec<String>,
        #[command(flatten)]
        common: CheckArgs,
    },
    /// The Hessian of EXPR; symmetric entries are computed once.
    Hessian {
        /// The expression; `-` reads it from stdin, `@FILE` from a file.
        #[arg(allow_hyphen_values = true)]
        expr: String,
        /// The variables, comma-separated (default: all, sorted by name).
        #[arg(long, value_delimiter = ',')]
        wrt: Vec<String>,
        #[command(flatten)]
        common: CheckArgs,
    },
    /// Plot f, f' and the tangent at a point, as SVG.
    Plot {
        /// The expression; `-` reads it from stdin, `@FILE` from a file.
        #[arg(allow_hyphen_values = true)]
        expr: String,
        /// The variable on the horizontal axis (default: the only one).
        #[arg(long)]
        wrt: Option<String>,
        /// The point of tangency, and values for any other variables.
        #[arg(long, value_name = "VAR=VALUE", allow_hyphen_values = true)]
        at: Vec<String>,
        /// The horizontal range LO..HI (default: 3 either side of the point).
        #[arg(long, allow_hyphen_values = true)]
        range: Option<String>,
        /// Where to write the SVG.
        #[arg(short = 'o', long = "output")]
        output: std::path::PathBuf,
    },
    /// Check a hand-derived derivative: proved, refuted with a witness, or unknown.
    Check {
        /// The expression; `-` reads it from stdin, `@FILE` from a file.
        #[arg(allow_hyphen_values = true)]
        expr: String,
        /// The claimed derivative.
        #[arg(long, allow_hyphen_values = true)]
        claim: String,
        /// Differentiate with respect to VAR; repeat for a mixed partial.
        #[arg(long = "wrt", value_name = "VAR")]
        wrt: Vec<String>,
        /// Repeat the differentiation N times.
        #[arg(long, default_value_t = 1, value_name = "N")]
        order: usize,
        /// Sampling box for a variable: VAR=LO..HI (default -3..3); repeatable.
        #[arg(long, value_name = "VAR=LO..HI", allow_hyphen_values = true)]
        domain: Vec<String>,
        /// How many seeded points to compare at.
        #[arg(long, default_value_t = 32)]
        points: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        numbers: NumbersArgs,
    },
    /// JSON Lines in (FILE, or stdin), one JSON line out per line in.
    Batch {
        /// A file of requests; stdin when absent.
        file: Option<std::path::PathBuf>,
        /// Answer a FILE's lines on N threads (default: one per core). The output is
        /// the same for every N. Lines from stdin are answered one at a time, each as
        /// soon as it is read, so a program can converse with the batch.
        #[arg(long, short = 'j', value_name = "N")]
        jobs: Option<std::num::NonZeroUsize>,
    },
}

#[derive(clap::Args, Debug)]
struct DiffArgs {
    /// Differentiate with respect to VAR; repeat for a mixed partial.
    #[arg(long = "wrt", value_name = "VAR")]
    wrt: Vec<String>,
    /// Repeat the differentiation N times.
    #[arg(long, default_value_t = 1, value_name = "N")]
    order: usize,
    /// Show the derivation step by step (of the last differentiation).
    #[arg(long)]
    steps: bool,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// The point: VAR=VALUE[,VAR=VALUE...]; values are exact (2, -0.7, 1/3, 1e-3).
    #[arg(long, value_name = "VAR=VALUE", allow_hyphen_values = true)]
    at: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Relative tolerance of the cross-check.
    #[arg(long, default_value_t = 1e-9)]
    rtol: f64,
    /// Absolute tolerance of the cross-check.
    #[arg(long, default_value_t = 1e-12)]
    atol: f64,
    /// Compare by --rtol and --atol alone, without the allowance for the rounding of a
    /// cancellation.
    #[arg(long)]
    strict: bool,
    /// In code formats, compute shared subexpressions once as temporaries t0, t1, …
    #[arg(long)]
    cse: bool,
    /// How much to simplify derivatives: none, fast (normal form) or full (e-graph).
    #[arg(long, value_enum, default_value_t = SimplifyArg::Full)]
    simplify: SimplifyArg,
    #[command(flatten)]
    numbers: NumbersArgs,
}

#[derive(clap::Args, Debug)]
struct NumbersArgs {
    /// How numbers print: as fractions (3*x/10), as decimals where they end (0.3*x),
    /// or auto: decimals when the input has a decimal literal.
    #[arg(long, value_enum, default_value_t = NumbersArg::Auto)]
    numbers: NumbersArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum NumbersArg {
    Auto,
    Fractions,
    Decimals,
}

impl NumbersArg {
    /// The spelling for output about `input`.
    fn for_input(self, input: &str) -> Numbers {
        match self {
            NumbersArg::Auto => Numbers::of_input(input),
            NumbersArg::Fractions => Numbers::Fractions,
            NumbersArg::Decimals => Numbers::Decimals,
        }
    }
}

/// A term the library printed with fractions (a proof step), spelled as `numbers` says:
/// the text reads back as the same expression, so it is read and printed again.
fn respell(term: &str, numbers: Numbers) -> String {
    match (numbers, parse(term)) {
        (Numbers::Decimals, Ok(e)) => print_with(&e, numbers),
        _ => term.to_string(),
    }
}

/// An expression printed with its numbers spelled one way.
struct Show<'a>(&'a Expr, Numbers);

impl std::fmt::Display for Show<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&print_with(self.0, self.1))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum SimplifyArg {
    None,
    Fast,
    Full,
}

impl From<SimplifyArg> for Level {
    fn from(a: SimplifyArg) -> Level {
        match a {
            SimplifyArg::None => Level::None,
            SimplifyArg::Fast => Level::Fast,
            SimplifyArg::Full => Level::Full,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Latex,
    Python,
    C,
    Rust,
    Sexpr,
}

fn unsupported(format: Format, command: &str) -> Failure {
    Failure::Usage(format!("--format {format:?} is not available for {command}").to_lowercase())
}

/// Something the user got wrong: exit code 2.
#[derive(Debug)]
enum Failure {
    Parse(ParseError, String),
    Usage(String),
}

impl Failure {
    fn to_json(&self) -> Value {
        match self {
            Failure::Parse(e, _) => json!({
                "kind": e.kind.as_str(),
                "message": e.message,
                "offset": e.offset,
                "hint": e.hint,
            }),
            Failure::Usage(m) => json!({"kind": "bad-request", "message": m, "offset": null, "hint": null}),
        }
    }

    fn render(&self) -> String {
        match self {
            Failure::Parse(e, src) => render_parse_error(e, src),
            Failure::Usage(m) => format!("error: {m}\n"),
        }
    }
}

/// Renders a parse error with the input, a caret under the spot, and the hint.
pub fn render_parse_error(e: &ParseError, src: &str) -> String {
    use annotate_snippets::{Level, Renderer, Snippet};
    if src.trim().is_empty() {
        let hint = e.hint.as_ref().map(|h| format!("  = help: {h}\n")).unwrap_or_default();
        return format!("error: {}\n{hint}", e.message);
    }
    // Show at most 60 characters either side of the spot, so a 10 MB input does not
    // flood the terminal.
    let mut lo = e.offset.saturating_sub(60).min(src.len());
    while !src.is_char_boundary(lo) {
        lo -= 1;
    }
    let mut hi = (e.offset + e.len.max(1) + 60).min(src.len());
    while !src.is_char_boundary(hi) {
        hi += 1;
    }
    let window = &src[lo..hi];
    let start = e.offset.min(src.len()) - lo;
    let mut end = (start + e.len.max(1)).min(window.len());
    while end < window.len() && !window.is_char_boundary(end) {
        end += 1;
    }
    let label = format!("at byte {}", e.offset);
    let origin = if lo > 0 || hi < src.len() {
        "input (excerpt)"
    } else {
        "input"
    };
    let mut message = Level::Error.title(&e.message).snippet(
        Snippet::source(window)
            .origin(origin)
            .fold(false)
            .annotation(Level::Error.span(start..end.max(start)).label(&label)),
    );
    if let Some(h) = &e.hint {
        message = message.footer(Level::Help.title(h));
    }
    format!("{}\n", Renderer::plain().render(message))
}

/// Parses `--at` values: `x=2,y=1/3`, possibly repeated. Sorted by name.
fn parse_point(items: &[String]) -> Result<Vec<(String, String, crate::Rational)>, Failure> {
    let mut out: Vec<(String, String, crate::Rational)> = Vec::new();
    for item in items {
        for pair in item.split(',').filter(|p| !p.trim().is_empty()) {
            let Some((name, value)) = pair.split_once('=') else {
                return Err(Failure::Usage(format!("--at expects VAR=VALUE, got '{pair}'")));
            };
            let name = name.trim().to_string();
            let value = value.trim().to_string();
            let r = parse_number(&value).map_err(|m| Failure::Usage(format!("--at {name}: {m}")))?;
            out.retain(|(n, _, _)| *n != name);
            out.push((name, value, r));
        }
    }
    out.sort_by(|a, b| natural_cmp(&a.0, &b.0));
    Ok(out)
}

fn to_point(at: &[(String, String, crate::Rational)]) -> Point {
    at.iter().map(|(n, _, r)| (n.clone(), r.clone())).collect()
}

fn at_json(at: &[(String, String, crate::Rational)]) -> Value {
    let mut m = Map::new();
    for (n, text, _) in at {
        m.insert(n.clone(), Value::String(text.clone()));
    }
    Value::Object(m)
}

fn at_text(at: &[(String, String, crate::Rational)]) -> String {
    at.iter()
        .map(|(n, t, _)| format!("{n} = {t}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_expr(src: &str) -> Result<Expr, Failure> {
    parse(src).map_err(|e| Failure::Parse(e, src.to_string()))
}

/// The input as the user wrote it ([`crate::parse::parse_verbatim`]), `read` being the
/// form [`parse`] made of it: the tape records this one, and it says where the input is
/// defined (`exp(ln(x))` not at x = -4, `x/x` not at 0, though both read as defined
/// there). Where the written form holds a variable the read one lost (`x/x` reads as 1,
/// `x - x + y` as `y`), it is taken only at a `point` that gives that variable too: a
/// point need not give `x` for `x - x + y`, and seeded points are drawn for the read
/// form's variables. Elsewhere, the read form.
fn as_written(src: &str, read: &Expr, point: Option<&Point>) -> Expr {
    let usable = |w: &Expr| {
        let (mut a, mut b) = (w.variables(), read.variables());
        a.sort();
        b.sort();
        a == b || point.is_some_and(|p| a.iter().all(|v| p.contains_key(v)))
    };
    match crate::parse::parse_verbatim(src) {
        Ok(w) if usable(&w) => w,
        _ => read.clone(),
    }
}

/// The expression argument: `-` reads standard input and `@FILE` reads a file, for
/// inputs too large for a command line; anything else is the expression itself.
fn read_expr_arg(arg: String) -> Result<String, Failure> {
    if arg == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| Failure::Usage(format!("cannot read the expression from stdin: {e}")))?;
        return Ok(s);
    }
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|e| Failure::Usage(format!("cannot read {path}: {e}"))),
        None => Ok(arg),
    }
}

fn number_json(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// A differentiation request, from the command line or a batch line.
struct DiffRequest {
    expr: String,
    wrt: Vec<String>,
    order: usize,
    at: Option<Vec<(String, String, crate::Rational)>>,
    tol: Tolerance,
    level: Level,
    numbers: NumbersArg,
}

/// Everything a diff run found, ready to print as text or JSON.
struct DiffOutcome {
    f: Expr,
    wrt: Vec<String>,
    order: usize,
    derivative: Expr,
    at: Option<Vec<(String, String, crate::Rational)>>,
    report: Option<Report>,
    samples: Option<SampleSummary>,
    simplified: SimplifyReport,
    /// The expression the last differentiation started from, and its variable.
    previous: Expr,
    last: String,
    /// How the output spells numbers.
    numbers: Numbers,
}

impl DiffOutcome {
    fn status(&self) -> Status {
        match (&self.report, &self.samples) {
            (Some(r), _) => r.comparison.status,
            (None, Some(s)) if s.failed > 0 => Status::Fail,
            (None, Some(s)) if s.passed == 0 => Status::Undefined,
            _ => Status::Pass,
        }
    }
}

fn run_diff(req: DiffRequest) -> Result<DiffOutcome, Failure> {
    let f = parse_expr(&req.expr)?;
    let numbers = req.numbers.for_input(&req.expr);
    if req.order == 0 || req.order > MAX_ORDER {
        return Err(Failure::Usage(format!(
            "--order must be between 1 and {MAX_ORDER}, got {}",
            req.order
        )));
    }
    let wrt = resolve_wrt(&f, &req.wrt)?;
    let sequence: Vec<&str> = differentiation_sequence(&wrt, req.order);
    let budget = Budget::default();
    // Intermediate derivatives get the normal form to differentiate again (when
    // simplifying at all), the last one the level asked for.
    let mut previous = f.clone();
    let mut hit = crate::limits::Bounds::default();
    for (k, v) in sequence[..sequence.len() - 1].iter().enumerate() {
        previous = step_form(&diff(&previous, v), req.level, &mut hit);
        if previous.len() > crate::limits::MAX_DERIVATIVE_NODES {
            return Err(Failure::Usage(format!(
                "the derivative of order {} has {} nodes, past the limit of {}",
                k + 1,
                previous.len(),
                crate::limits::MAX_DERIVATIVE_NODES
            )));
        }
    }
    let last = sequence[sequence.len() - 1];
    let (derivative, mut simplified) = simplify_for(&diff(&previous, last), req.level, &budget, numbers);
    simplified.bounds.extend(hit);
    // Second derivatives are checked by hyper-dual evaluation of the expression itself;
    // other orders by the tape of the derivative one order lower: for a first
    // derivative, the tape of the input as written.
    let point = req.at.as_deref().map(to_point);
    let written = as_written(&req.expr, &f, point.as_ref());
    let witness = match sequence[..] {
        [xi, xj] => Witness::HyperDual { xi, xj },
        [_] => Witness::Tape {
            previous: &written,
            last,
        },
        _ => Witness::Tape {
            previous: &previous,
            last,
        },
    };
    let (report, samples) = match &point {
        Some(point) => {
            let r = check_with(&written, &derivative, witness, point, &req.tol).map_err(Failure::Usage)?;
            (Some(r), None)
        }
        None => (None, Some(sample_with(&written, &derivative, witness, &req.tol))),
    };
    let last = last.to_string();
    Ok(DiffOutcome {
        f,
        wrt,
        order: req.order,
        derivative,
        at: req.at,
        report,
        samples,
        simplified,
        previous,
        last,
        numbers,
    })
}

fn comparison_json(c: &crate::check::Comparison) -> Value {
    let mut m = Map::new();
    m.insert("status".into(), json!(c.status.as_str()));
    if c.status == Status::Undefined {
        m.insert("reason".into(), json!(c.reason));
    } else {
        m.insert("abs_err".into(), number_json(c.abs_err));
        m.insert("rel_err".into(), number_json(c.rel_err));
        m.insert("ulps".into(), json!(c.ulps));
        if c.status == Status::Pass {
            m.insert("within".into(), json!(c.within.as_str()));
        }
    }
    Value::Object(m)
}

fn samples_json(s: &SampleSummary) -> Value {
    let status = if s.failed > 0 {
        "fail"
    } else if s.passed == 0 {
        "undefined"
    } else {
        "pass"
    };
    json!({
        "status": status,
        "points": {
            "tried": s.tried,
            "passed": s.passed,
            "absolute": s.absolute,
            "failed": s.failed,
            "skipped": s.skipped,
            "beyond_f64": s.beyond_f64,
        },
        "max_rel_err": number_json(s.max_rel_err),
    })
}

fn diff_json(o: &DiffOutcome) -> Value {
    let mut m = Map::new();
    m.insert("expr".into(), json!(print_with(&o.f, o.numbers)));
    m.insert("wrt".into(), json!(o.wrt));
    m.insert("order".into(), json!(o.order));
    m.insert("derivative".into(), json!(print_with(&o.derivative, o.numbers)));
    m.insert("at".into(), o.at.as_ref().map_or(Value::Null, |a| at_json(a)));
    match (&o.report, &o.samples) {
        (Some(r), _) => {
            m.insert(
                "value".into(),
                r.value.as_ref().map_or(Value::Null, |v| number_json(*v)),
            );
            m.insert(
                "exact".into(),
                r.exact.as_ref().map_or(Value::Null, |x| json!(rational_to_string(x))),
            );
            m.insert(
                "value_error_bound".into(),
                r.value.as_ref().map_or(Value::Null, |_| number_json(r.value_bound)),
            );
            m.insert(
                "autograd".into(),
                r.autograd.as_ref().map_or(Value::Null, |v| number_json(*v)),
            );
            if let Some(reason) = &r.comparison.reason {
                m.insert("reason".into(), json!(reason));
            }
            m.insert("check".into(), comparison_json(&r.comparison));
            if r.exact_budget_hit {
                m.insert(
                    "budget".into(),
                    json!({"exact_bits": crate::limits::MAX_EXACT_BITS, "exact_work_bits": crate::limits::MAX_EXACT_WORK}),
                );
            }
        }
        (None, Some(s)) => {
            m.insert("value".into(), Value::Null);
            m.insert("exact".into(), Value::Null);
            m.insert("value_error_bound".into(), Value::Null);
            m.insert("autograd".into(), Value::Null);
            m.insert("check".into(), samples_json(s));
        }
        (None, None) => {}
    }
    m.insert("simplify".into(), simplify_json(&o.simplified));
    // The tree writes shared subexpressions out each time: bounded, and reported.
    let tree = format::tree_nodes(&o.derivative);
    if tree <= crate::limits::MAX_AST_NODES {
        m.insert("ast".into(), format::ast(&o.derivative));
    } else {
        m.insert("ast".into(), Value::Null);
        m.insert(
            "ast_limit".into(),
            json!({"nodes": tree, "limit": crate::limits::MAX_AST_NODES}),
        );
    }
    Value::Object(m)
}

fn simplify_json(r: &SimplifyReport) -> Value {
    json!({
        "level": r.level.as_str(),
        "stop": r.stop.as_str(),
        "iterations": r.iterations,
        "nodes": r.nodes,
        "ops_before": r.ops_before,
        "ops_after": r.ops_after,
        "rules_fired": r.rules_fired.iter().map(|(n, k)| (n.clone(), json!(k))).collect::<Map<String, Value>>(),
        "bounds": r.bounds.names(),
    })
}

/// The variables differentiated by, in order: `wrt` repeated `order` times.
fn differentiation_sequence(wrt: &[String], order: usize) -> Vec<&str> {
    (0..order).flat_map(|_| wrt.iter().map(String::as_str)).collect()
}

fn operator_text(wrt: &[String], order: usize) -> String {
    let seq: Vec<&str> = differentiation_sequence(wrt, order);
    let n = seq.len();
    if seq.iter().all(|v| *v == seq[0]) {
        if n == 1 {
            format!("d/d{}", seq[0])
        } else {
            format!("d^{n}/d{}^{n}", seq[0])
        }
    } else {
        format!(
            "d^{n}/({})",
            seq.iter().map(|v| format!("d{v}")).collect::<Vec<_>>().join(" ")
        )
    }
}

/// Longest exact value the text output prints in full; beyond it, the decimal (JSON
/// keeps the exact value whatever its length).
const EXACT_TEXT_CHARS: usize = 80;

fn value_text(r: &Report, numbers: Numbers) -> String {
    exact_or_decimal_text(&r.value, r.exact.as_ref(), numbers)
}

/// A value for the text output: exact when it is rational and short (spelled as
/// `numbers` says: `3/5`, or `0.6` with decimals), else decimal:
/// the `f64` where it holds the value, else the exact value rounded to 17 digits
/// (`4e401` for 400*x^399 at x = 10, which overflows `f64`; not `-0` for a value of
/// 1e-478, which underflows).
fn exact_or_decimal_text(
    value: &Result<f64, crate::eval::Undefined>,
    exact: Option<&crate::Rational>,
    numbers: Numbers,
) -> String {
    match (value, exact) {
        (_, Some(x)) => {
            let exact = crate::print::rational_text(x, numbers);
            if exact.len() <= EXACT_TEXT_CHARS {
                return exact;
            }
            let approximation = match value {
                Ok(v) if v.is_normal() => format_f64(*v),
                _ => crate::eval::format_rational(x),
            };
            format!(
                "{approximation} (the exact value, {} characters long, is in --format json)",
                exact.len()
            )
        }
        (Ok(v), None) => format_f64(*v),
        (Err(u), _) => format!("undefined ({u})"),
    }
}

/// One checked matrix entry's value and its rounding bound, in JSON, and its note
/// ([`precision_note`], naming the entry `name`, if any) where f64 holds it to fewer
/// digits than the tolerance asks.
fn record_entry(
    r: &crate::check::Report,
    name: Option<String>,
    rtol: f64,
    values: &mut Vec<Value>,
    bounds: &mut Vec<Value>,
    notes: &mut Vec<String>,
) {
    values.push(r.value.as_ref().map_or(Value::Null, |x| number_json(*x)));
    bounds.push(r.value.as_ref().map_or(Value::Null, |_| number_json(r.value_bound)));
    if let Some(name) = name {
        notes.extend(report_precision_note(&name, r, rtol));
    }
}

/// [`precision_note`] for a checked value: none where the value is undefined, or the
/// verdict is (an undefined verdict already says why).
fn report_precision_note(what: &str, r: &crate::check::Report, rtol: f64) -> Option<String> {
    match (&r.value, r.comparison.status) {
        (Ok(x), Status::Pass | Status::Fail) => precision_note(what, *x, r.value_bound, rtol),
        _ => None,
    }
}

/// The reasons a matrix's entries are undefined at the point, or not cross-checked
/// there, each with the entries (row, column, from 0) it holds for, in the order met:
/// the matrix shows only "undefined", and a grid of one reason says it once.
#[derive(Default)]
struct UndefinedEntries {
    reasons: Vec<(String, Vec<(usize, usize)>)>,
}

impl UndefinedEntries {
    /// Notes entry `at`'s reason, where its value or its cross-check is undefined.
    fn add(&mut self, r: &crate::check::Report, at: (usize, usize)) {
        let reason = match (&r.value, r.comparison.status) {
            // A value that exists but f64 cannot hold or place is not called undefined.
            (Err(u), _) if u.is_beyond_f64() => format!("beyond f64's range or precision: {u}"),
            (Err(u), _) => format!("undefined: {u}"),
            (Ok(_), Status::Undefined) => format!(
                "not cross-checked: {}",
                r.comparison.reason.as_deref().unwrap_or("the witness has no value")
            ),
            _ => return,
        };
        match self.reasons.iter_mut().find(|(known, _)| *known == reason) {
            Some((_, entries)) => entries.push(at),
            None => self.reasons.push((reason, vec![at])),
        }
    }

    /// `[{"entries": [[1, 1], [2, 2]], "reason": "undefined: …"}, …]`, rows and columns
    /// from 1 as in the text.
    fn json(&self) -> Value {
        self.reasons
            .iter()
            .map(|(reason, entries)| {
                let entries: Vec<[usize; 2]> = entries.iter().map(|(i, j)| [i + 1, j + 1]).collect();
                json!({"entries": entries, "reason": reason})
            })
            .collect()
    }

    /// One `note:` line per reason: "note: entries (1, 1), (2, 2) are undefined: …", or
    /// "note: every entry is undefined: …" ("no entry is cross-checked: …") where the reason
    /// holds for all `entries_in_all` entries of the matrix (a 10×10 Hessian outside the
    /// domain is one short line).
    fn notes(&self, entries_in_all: usize) -> String {
        self.reasons
            .iter()
            .map(|(reason, entries)| {
                if entries.len() == entries_in_all && entries_in_all > 1 {
                    return match reason.strip_prefix("not cross-checked: ") {
                        Some(why) => format!("note: no entry is cross-checked: {why}\n"),
                        None => format!("note: every entry is {reason}\n"),
                    };
                }
                let listed: Vec<String> = entries.iter().map(|(i, j)| format!("({}, {})", i + 1, j + 1)).collect();
                let (noun, verb) = if entries.len() == 1 {
                    ("entry", "is")
                } else {
                    ("entries", "are")
                };
                format!("note: {noun} {} {verb} {reason}\n", listed.join(", "))
            })
            .collect()
    }
}

/// How a note names matrix entry (i, j), counted from 0: "entry (1, 2)". A Hessian's
/// entry off the diagonal is named with its mirror image, which is the same derivative
/// ("entries (1, 2) and (2, 1)"), and the one below the diagonal not at all.
fn entry_name((i, j): (usize, usize), symmetric: bool) -> Option<String> {
    match (symmetric, j.cmp(&i)) {
        (true, std::cmp::Ordering::Less) => None,
        (true, std::cmp::Ordering::Greater) => {
            Some(format!("entries ({}, {}) and ({}, {})", i + 1, j + 1, j + 1, i + 1))
        }
        _ => Some(format!("entry ({}, {})", i + 1, j + 1)),
    }
}

/// A `note:` line for a value whose rounding bound is more than `rtol` of it: how far
/// rounding could move it, and how many significant digits that leaves certain
/// ("about 2"), or that none is. `None` for a value good to `rtol`.
fn precision_note(what: &str, value: f64, bound: f64, rtol: f64) -> Option<String> {
    // (A NaN bound gives no note.)
    if bound.is_nan() || bound <= rtol * value.abs() {
        return None;
    }
    let digits = if bound.is_finite() {
        float::log10(value.abs() / bound).floor()
    } else {
        0.0
    };
    let bound = if bound.is_finite() {
        // Two digits say the size of a bound; more would claim a precision it has not.
        format!("up to {bound:.1e}")
    } else {
        "past f64's range".to_string()
    };
    Some(if digits >= 1.0 {
        let digits = digits.min(17.0) as u32;
        let (plural, verb) = if digits == 1 { ("", "is") } else { ("s", "are") };
        format!("note: f64 rounding could move {what} by {bound}: about {digits} significant digit{plural} {verb} certain\n")
    } else {
        format!("note: f64 rounding could move {what} by {bound}: no digit of it is certain\n")
    })
}

fn comparison_text(c: &crate::check::Comparison, tol: &Tolerance) -> String {
    match c.status {
        // A relative error of a value that cancels to about 0 says nothing (it is 1
        // beside an exact 0): say what the agreement rests on instead.
        Status::Pass if c.within == Within::Atol => format!(
            "agrees within atol (|Δ| = {} ≤ {})",
            format_f64(c.abs_err),
            format_f64(tol.atol)
        ),
        Status::Pass if c.within == Within::Rounding => format!(
            "agrees within rounding (|Δ| = {} ≤ {}, the rounding of the larger terms that cancel here)",
            format_f64(c.abs_err),
            format_f64(c.rounding)
        ),
        Status::Pass => format!(
            "agrees (|Δ| = {}, rel {}, {} ulps)",
            format_f64(c.abs_err),
            format_f64(c.rel_err),
            c.ulps
        ),
        Status::Fail => format!(
            "DISAGREES (|Δ| = {}, rel {}, {} ulps; tolerance rtol {}, atol {})",
            format_f64(c.abs_err),
            format_f64(c.rel_err),
            c.ulps,
            format_f64(tol.rtol),
            format_f64(tol.atol)
        ),
        Status::Undefined => match &c.reason {
            Some(reason) => format!("undefined ({reason})"),
            None => "undefined".to_string(),
        },
    }
}

/// "5 skipped (outside the domain)", or with the points `f64` could not hold told
/// apart: "5 skipped (3 outside the domain, 2 beyond f64's range or precision)".
fn skipped_text(skipped: usize, beyond_f64: usize, domain: &str) -> String {
    const BEYOND: &str = "beyond f64's range or precision";
    match (skipped - beyond_f64.min(skipped), beyond_f64) {
        (_, 0) => format!("{skipped} skipped (outside {domain})"),
        (0, _) => format!("{skipped} skipped ({BEYOND})"),
        (outside, beyond) => format!("{skipped} skipped ({outside} outside {domain}, {beyond} {BEYOND})"),
    }
}

fn samples_text(s: &SampleSummary) -> String {
    let passed = match s.absolute {
        0 => format!("{} passed", s.passed),
        n => format!("{} passed ({n} within atol or rounding)", s.passed),
    };
    let mut t = format!(
        "cross-checked at {} seeded points: {passed}, {} failed, {}",
        s.tried,
        s.failed,
        skipped_text(s.skipped, s.beyond_f64, "the domain")
    );
    // Points that agreed within atol or rounding have no meaningful relative error.
    if s.passed + s.failed > s.absolute {
        t.push_str(&format!("; largest relative error {}", format_f64(s.max_rel_err)));
    }
    if let Some(p) = &s.first_failure {
        let at: Vec<String> = p
            .iter()
            .map(|(k, v)| format!("{k} = {}", rational_to_string(v)))
            .collect();
        t.push_str(&format!("\nfirst failure at {}", at.join(", ")));
    }
    t
}

/// The step-by-step section of the text output.
fn steps_text(o: &DiffOutcome) -> String {
    let mut t = String::from("steps:\n");
    for (k, s) in crate::steps::steps_with(&o.previous, &o.last, o.numbers)
        .iter()
        .enumerate()
    {
        let head = format!("  {}. {}: d/d{} ({}) = ", k + 1, s.rule, o.last, s.expr);
        t.push_str(&head);
        if s.applied == s.result {
            t.push_str(&format!("{}\n", s.result));
        } else {
            t.push_str(&format!(
                "{}\n{:w$}= {}\n",
                s.applied,
                "",
                s.result,
                w = head.chars().count() - 2
            ));
        }
    }
    let r = &o.simplified;
    t.push_str(&format!(
        "simplification ({}): {} -> {} operations; e-graph {} after {} iterations, {} e-nodes\n",
        r.level.as_str(),
        r.ops_before,
        r.ops_after,
        r.stop.as_str(),
        r.iterations,
        r.nodes
    ));
    if !r.rules_fired.is_empty() {
        let fired: Vec<String> = r.rules_fired.iter().map(|(n, k)| format!("{n} ×{k}")).collect();
        t.push_str(&format!("rules fired: {}\n", fired.join(", ")));
    }
    t
}

fn steps_json(o: &DiffOutcome) -> Value {
    Value::Array(
        crate::steps::steps_with(&o.previous, &o.last, o.numbers)
            .iter()
            .map(|s| json!({"rule": s.rule, "expr": s.expr, "applied": s.applied, "result": s.result}))
            .collect(),
    )
}

fn diff_text(o: &DiffOutcome, tol: &Tolerance) -> String {
    let mut t = format!(
        "{} ({})\n  = {}\n",
        operator_text(&o.wrt, o.order),
        Show(&o.f, o.numbers),
        Show(&o.derivative, o.numbers)
    );
    match (&o.report, &o.samples, &o.at) {
        (Some(r), _, Some(at)) => {
            t.push_str(&format!("at {}: {}\n", at_text(at), value_text(r, o.numbers)));
            match &r.autograd {
                Ok(v) => t.push_str(&format!(
                    "autograd: {}  {}\n",
                    format_f64(*v),
                    comparison_text(&r.comparison, tol)
                )),
                Err(u) => t.push_str(&format!("autograd: undefined ({u})\n")),
            }
            // Where the two sides agree or disagree, but f64 holds the value to fewer
            // digits than the tolerance asks, say how many it holds.
            if let Some(note) = report_precision_note("the value", r, tol.rtol) {
                t.push_str(&note);
            }
            if r.exact_budget_hit {
                t.push_str(&format!(
                    "note: exact evaluation stopped at its budget ({} bits a result, {} in all); the value is floating point\n",
                    crate::limits::MAX_EXACT_BITS,
                    crate::limits::MAX_EXACT_WORK
                ));
            }
        }
        (None, Some(s), _) => {
            t.push_str(&samples_text(s));
            t.push('\n');
        }
        _ => {}
    }
    t.push_str(&bounds_note(o.simplified.bounds));
    t
}

/// A line saying which size bounds the simplification hit, if any.
fn bounds_note(hit: crate::limits::Bounds) -> String {
    if hit.is_empty() {
        return String::new();
    }
    format!(
        "note: simplification left a rewrite untried at a size bound ({}); the result is correct but may be longer than it could be\n",
        hit.names().join(", ")
    )
}

fn exit_for(status: Status) -> u8 {
    if status == Status::Fail {
        1
    } else {
        0
    }
}

fn tolerance(c: &CheckArgs) -> Result<Tolerance, Failure> {
    if !(c.rtol >= 0.0 && c.atol >= 0.0 && c.rtol.is_finite() && c.atol.is_finite()) {
        return Err(Failure::Usage(
            "--rtol and --atol must be finite and non-negative".into(),
        ));
    }
    Ok(Tolerance {
        rtol: c.rtol,
        atol: c.atol,
        rounding: !c.strict,
    })
}

fn cmd_diff(expr: String, args: DiffArgs, out: &mut String) -> Result<u8, Failure> {
    let expr = read_expr_arg(expr)?;
    let tol = tolerance(&args.check)?;
    let at = if args.check.at.is_empty() {
        None
    } else {
        Some(parse_point(&args.check.at)?)
    };
    let o = run_diff(DiffRequest {
        expr,
        wrt: args.wrt,
        order: args.order,
        at,
        tol,
        level: args.check.simplify.into(),
        numbers: args.check.numbers.numbers,
    })?;
    let name = function_name(&o.wrt, o.order);
    match args.check.format {
        Format::Json if args.steps => {
            let mut j = diff_json(&o);
            if let Value::Object(m) = &mut j {
                m.insert("steps".into(), steps_json(&o));
            }
            out.push_str(&format!("{j}\n"));
        }
        Format::Json => out.push_str(&format!("{}\n", diff_json(&o))),
        Format::Latex if args.steps => {
            let mut t = format!(
                "{}\\left({}\\right) = {}\n\\begin{{aligned}}\n",
                latex_operator(&o.wrt, o.order),
                format::latex_with(&o.f, o.numbers),
                format::latex_with(&o.derivative, o.numbers)
            );
            let lines: Vec<String> = crate::steps::steps_with(&o.previous, &o.last, o.numbers)
                .iter()
                .map(|st| {
                    let sub = crate::parse(&st.expr)
                        .map(|e| format::latex_with(&e, o.numbers))
                        .unwrap_or_default();
                    let res = crate::parse(&st.result)
                        .map(|e| format::latex_with(&e, o.numbers))
                        .unwrap_or_default();
                    format!(
                        "\\frac{{d}}{{d{}}}\\left({sub}\\right) &= {res} && \\text{{{}}}",
                        o.last, st.rule
                    )
                })
                .collect();
            t.push_str(&lines.join(" \\\\\n"));
            t.push_str("\n\\end{aligned}\n");
            out.push_str(&t);
        }
        Format::Text if args.steps => {
            let text = diff_text(&o, &tol);
            // The steps go between the result and the values.
            let (head, tail) = text
                .split_once('\n')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .unwrap_or_default();
            let (result, rest) = tail
                .split_once('\n')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .unwrap_or_default();
            out.push_str(&format!("{head}\n{result}\n{}{rest}", steps_text(&o)));
        }
        Format::Text => out.push_str(&diff_text(&o, &tol)),
        Format::Latex => out.push_str(&format!(
            "{}\\left({}\\right) = {}\n",
            latex_operator(&o.wrt, o.order),
            format::latex_with(&o.f, o.numbers),
            format::latex_with(&o.derivative, o.numbers)
        )),
        Format::Python | Format::C | Format::Rust if args.check.cse => out.push_str(&format::function_with_cse(
            &o.derivative,
            &name,
            &parameters(&o),
            args.check.format.code(),
            o.numbers,
        )),
        Format::Python => out.push_str(&format::python_function(
            &o.derivative,
            &name,
            &parameters(&o),
            o.numbers,
        )),
        Format::C => out.push_str(&format::c_function(&o.derivative, &name, &parameters(&o), o.numbers)),
        Format::Rust => out.push_str(&format::rust_function(&o.derivative, &name, &parameters(&o), o.numbers)),
        Format::Sexpr => out.push_str(&format!("{}\n", format::sexpr(&o.derivative))),
    }
    Ok(exit_for(o.status()))
}

/// The parameters of generated code: every variable of the original expression and
/// of the derivative, sorted by name, so the function has the expression's signature.
fn parameters(o: &DiffOutcome) -> Vec<String> {
    let mut vars = o.f.variables();
    for v in o.derivative.variables() {
        if !vars.contains(&v) {
            vars.push(v);
        }
    }
    vars.sort_by(|a, b| natural_cmp(a, b));
    vars
}

/// `df_dx`, `d2f_dx2`, `d2f_dxdy`: a function name for generated code.
fn function_name(wrt: &[String], order: usize) -> String {
    let seq: Vec<&str> = differentiation_sequence(wrt, order);
    if seq.len() == 1 {
        format!("df_d{}", seq[0])
    } else if seq.iter().all(|v| *v == seq[0]) {
        format!("d{}f_d{}{}", seq.len(), seq[0], seq.len())
    } else {
        format!("d{}f_d{}", seq.len(), seq.join("d"))
    }
}

/// `\frac{d}{dx}`, `\frac{d^{2}}{dx^{2}}`, `\frac{\partial^{2}}{\partial x \partial y}`.
fn latex_operator(wrt: &[String], order: usize) -> String {
    let seq: Vec<&str> = differentiation_sequence(wrt, order);
    let n = seq.len();
    if seq.iter().all(|v| *v == seq[0]) {
        if n == 1 {
            format!("\\frac{{d}}{{d{}}}", seq[0])
        } else {
            format!("\\frac{{d^{{{n}}}}}{{d{}^{{{n}}}}}", seq[0])
        }
    } else {
        let parts: Vec<String> = seq.iter().map(|v| format!("\\partial {v}")).collect();
        format!("\\frac{{\\partial^{{{n}}}}}{{{}}}", parts.join(" "))
    }
}

fn cmd_grad(expr: String, args: CheckArgs, out: &mut String) -> Result<u8, Failure> {
    let expr = read_expr_arg(expr)?;
    let tol = tolerance(&args)?;
    let f = parse_expr(&expr)?;
    let numbers = args.numbers.numbers.for_input(&expr);
    let at = if args.at.is_empty() {
        None
    } else {
        Some(parse_point(&args.at)?)
    };
    let vars = f.variables();
    let mut gradient = Map::new();
    let mut values = Map::new();
    let mut value_bounds = Map::new();
    let mut autograd = Map::new();
    let mut checks = Map::new();
    let mut simplify_reports = Map::new();
    let mut partials: Vec<(String, Expr)> = Vec::new();
    let mut text = format!("grad ({})\n", Show(&f, numbers));
    let mut worst = Status::Pass;
    let mut rows = Vec::new();
    let mut hit = crate::limits::Bounds::default();
    for v in &vars {
        let (d, simplified) = simplify_for(&diff(&f, v), args.simplify.into(), &Budget::default(), numbers);
        simplify_reports.insert(v.clone(), simplify_json(&simplified));
        hit.extend(simplified.bounds);
        partials.push((v.clone(), d));
    }
    // Every partial is checked against one tape of f per point, swept back once: of f
    // as written.
    let point = at.as_deref().map(to_point);
    let written = as_written(&expr, &f, point.as_ref());
    let reports = match &point {
        Some(point) => Some(check_gradient_at(&written, &partials, point, &tol).map_err(Failure::Usage)?),
        None => None,
    };
    let samples = match &at {
        Some(_) => Vec::new(),
        None => sample_gradient(&written, &partials, &tol),
    };
    for (k, (v, d)) in partials.iter().enumerate() {
        gradient.insert(v.clone(), json!(print_with(d, numbers)));
        text.push_str(&format!("  d/d{v} = {}\n", Show(d, numbers)));
        if let Some(r) = reports.as_ref().and_then(|rs| rs.get(k)) {
            values.insert(v.clone(), r.value.as_ref().map_or(Value::Null, |x| number_json(*x)));
            value_bounds.insert(
                v.clone(),
                r.value.as_ref().map_or(Value::Null, |_| number_json(r.value_bound)),
            );
            autograd.insert(v.clone(), r.autograd.as_ref().map_or(Value::Null, |x| number_json(*x)));
            checks.insert(v.clone(), comparison_json(&r.comparison));
            if r.comparison.status == Status::Fail {
                worst = Status::Fail;
            }
            rows.push((v.clone(), r.clone()));
        }
        if let Some(s) = samples.get(k) {
            if s.failed > 0 {
                worst = Status::Fail;
            }
            checks.insert(v.clone(), samples_json(s));
            text.push_str(&format!("    {}\n", samples_text(s).replace('\n', "\n    ")));
        }
    }
    if let Some(at) = &at {
        text.push_str(&format!("at {}:\n", at_text(at)));
        for (v, r) in &rows {
            let auto = match &r.autograd {
                Ok(x) => format!("autograd {}  {}", format_f64(*x), comparison_text(&r.comparison, &tol)),
                Err(u) => format!("autograd undefined ({u})"),
            };
            text.push_str(&format!("  d/d{v} = {}   {auto}\n", value_text(r, numbers)));
            if let Some(note) = report_precision_note(&format!("d/d{v}"), r, tol.rtol) {
                text.push_str(&format!("    {note}"));
            }
        }
    }
    // Which partial hit a bound is in the JSON; the text says that one did.
    text.push_str(&bounds_note(hit));
    match args.format {
        Format::Json => {
            let j = json!({
                "expr": print_with(&f, numbers),
                "variables": vars,
                "gradient": gradient,
                "at": at.as_ref().map_or(Value::Null, |a| at_json(a)),
                "values": if at.is_some() { Value::Object(values) } else { Value::Null },
                "value_error_bounds": if at.is_some() { Value::Object(value_bounds) } else { Value::Null },
                "autograd": if at.is_some() { Value::Object(autograd) } else { Value::Null },
                "check": checks,
                "simplify": simplify_reports,
            });
            out.push_str(&format!("{j}\n"));
        }
        Format::Text => out.push_str(&text),
        Format::Latex => {
            let rows: Vec<String> = partials
                .iter()
                .map(|(v, d)| {
                    format!(
                        "\\frac{{\\partial f}}{{\\partial {v}}} &= {}",
                        format::latex_with(d, numbers)
                    )
                })
                .collect();
            out.push_str(&format!(
                "\\begin{{aligned}}\n{}\n\\end{{aligned}}\n",
                rows.join(" \\\\\n")
            ));
        }
        Format::Python | Format::C | Format::Rust => {
            let mut params = vars.clone();
            params.sort_by(|a, b| natural_cmp(a, b));
            let row: Vec<&Expr> = partials.iter().map(|(_, d)| d).collect();
            out.push_str(&format::matrix_function_cse(
                &[row],
                "gradient",
                &params,
                args.format.code(),
                args.cse,
                numbers,
            ));
        }
        other => return Err(unsupported(other, "grad")),
    }
    Ok(exit_for(worst))
}

fn cmd_eval(expr: String, args: CheckArgs, out: &mut String) -> Result<u8, Failure> {
    let expr = read_expr_arg(expr)?;
    let f = parse_expr(&expr)?;
    let numbers = args.numbers.numbers.for_input(&expr);
    if args.at.is_empty() {
        return Err(Failure::Usage(
            "eval needs a point: --at VAR=VALUE[,VAR=VALUE...]".into(),
        ));
    }
    let at = parse_point(&args.at)?;
    let point = to_point(&at);
    let vars = f.variables();
    let names: Vec<&str> = vars.iter().map(String::as_str).collect();
    for v in &vars {
        if !point.contains_key(v) {
            return Err(Failure::Usage(format!("no value given for {v}: add it to --at")));
        }
    }
    // The value and the tape of the input as written: defined where it is.
    let written = as_written(&expr, &f, Some(&point));
    let (value, exact, _) = crate::check::value_at(&written, &point);
    // How far rounding could move the value: an exact one, not at all.
    let value_bound = match (&value, &exact) {
        (Ok(_), None) => crate::check::rounding_bound(&written, &point),
        _ => 0.0,
    };
    let rec = crate::tape::record(&written, &point, &names).map_err(Failure::Usage)?;
    let grad = rec.value(&written).and_then(|_| rec.gradient(&written));
    let mut gj = Map::new();
    if let Ok(g) = &grad {
        for (v, x) in vars.iter().zip(g) {
            gj.insert(v.clone(), number_json(*x));
        }
    }
    match args.format {
        Format::Json => {
            let mut m = Map::new();
            m.insert("expr".into(), json!(print_with(&f, numbers)));
            m.insert("at".into(), at_json(&at));
            m.insert("value".into(), value.as_ref().map_or(Value::Null, |v| number_json(*v)));
            m.insert(
                "exact".into(),
                exact.as_ref().map_or(Value::Null, |x| json!(rational_to_string(x))),
            );
            m.insert(
                "value_error_bound".into(),
                value.as_ref().map_or(Value::Null, |_| number_json(value_bound)),
            );
            m.insert(
                "autograd".into(),
                if grad.is_ok() { Value::Object(gj) } else { Value::Null },
            );
            if let Err(u) = value.as_ref().and(grad.as_ref()) {
                m.insert("reason".into(), json!(u.to_string()));
            }
            out.push_str(&format!("{}\n", Value::Object(m)));
        }
        Format::Text => {
            let v = exact_or_decimal_text(&value, exact.as_ref(), numbers);
            out.push_str(&format!("{}\nat {}: {v}\n", Show(&f, numbers), at_text(&at)));
            if let Ok(v) = &value {
                if let Some(note) = precision_note("the value", *v, value_bound, args.rtol) {
                    out.push_str(&note);
                }
            }
            match &grad {
                Ok(g) => {
                    let parts: Vec<String> = vars
                        .iter()
                        .zip(g)
                        .map(|(n, x)| format!("d/d{n} = {}", format_f64(*x)))
                        .collect();
                    if !parts.is_empty() {
                        out.push_str(&format!("autograd gradient: {}\n", parts.join(", ")));
                    }
                }
                Err(u) => out.push_str(&format!("autograd gradient: undefined ({u})\n")),
            }
        }
        Format::Latex => {
            let v = match (&value, &exact) {
                (Ok(_), Some(x)) => format::latex_with(&Expr::number(x.clone()), numbers),
                (Ok(v), None) => format_f64(*v),
                (Err(_), _) => "\\text{undefined}".to_string(),
            };
            let at_tex: Vec<String> = at
                .iter()
                .map(|(n, t, _)| {
                    format!(
                        "{} = {t}",
                        format::latex_with(
                            &crate::parse(n).unwrap_or_else(|_| Expr::number(crate::Rational::from_integer(0.into()))),
                            numbers
                        )
                    )
                })
                .collect();
            out.push_str(&format!(
                "{}\\Big|_{{{}}} = {v}\n",
                format::latex_with(&f, numbers),
                at_tex.join(",\\ ")
            ));
        }
        other => return Err(unsupported(other, "eval")),
    }
    Ok(0)
}

/// `plot`: f, f' and the tangent at the point, written as SVG.
fn cmd_plot(
    src: String,
    wrt: Option<String>,
    at: Vec<String>,
    range: Option<String>,
    output: std::path::PathBuf,
    out: &mut String,
) -> Result<u8, Failure> {
    let src = read_expr_arg(src)?;
    let f = parse_expr(&src)?;
    let var = resolve_wrt(&f, &wrt.into_iter().collect::<Vec<_>>())?.remove(0);
    let mut point = to_point(&parse_point(&at)?);
    if !point.contains_key(&var) {
        point.insert(var.clone(), crate::Rational::from_integer(0.into()));
    }
    for v in f.variables() {
        if !point.contains_key(&v) {
            return Err(Failure::Usage(format!("plot needs a value for {v}: add it to --at")));
        }
    }
    let a = num_traits::ToPrimitive::to_f64(&point[&var]).unwrap_or(0.0);
    let range = match range {
        None => (a - 3.0, a + 3.0),
        Some(r) => {
            let bad = || Failure::Usage(format!("--range expects LO..HI, got '{r}'"));
            let (lo, hi) = r.split_once("..").ok_or_else(bad)?;
            let lo = parse_number(lo).map_err(|_| bad())?;
            let hi = parse_number(hi).map_err(|_| bad())?;
            let (lo, hi) = (
                num_traits::ToPrimitive::to_f64(&lo).unwrap_or(0.0),
                num_traits::ToPrimitive::to_f64(&hi).unwrap_or(0.0),
            );
            if lo >= hi || lo.is_nan() || hi.is_nan() {
                return Err(bad());
            }
            (lo, hi)
        }
    };
    let numbers = Numbers::of_input(&src);
    let derivative = simplify_for(&diff(&f, &var), Level::Full, &Budget::default(), numbers).0;
    let (value, exact, _) = crate::check::value_at(&derivative, &point);
    let slope = value.map_err(|u| Failure::Usage(format!("the derivative is undefined at the point: {u}")))?;
    let slope_text = match &exact {
        Some(x) if rational_to_string(x).len() <= 12 => rational_to_string(x),
        _ => format!("{slope:.6}").trim_end_matches('0').to_string(),
    };
    let written = as_written(&src, &f, None);
    let req = crate::plot::PlotRequest {
        f: &f,
        written: &written,
        derivative: &derivative,
        var: &var,
        at: point,
        range,
        slope_text: slope_text.clone(),
    };
    let svg = crate::plot::plot_svg(&req).map_err(Failure::Usage)?;
    std::fs::write(&output, svg).map_err(|e| Failure::Usage(format!("cannot write {}: {e}", output.display())))?;
    out.push_str(&format!(
        "wrote {}: f, f' = {} and the tangent at {var} = {} (slope {slope_text})\n",
        output.display(),
        Show(&derivative, numbers),
        format_f64(a)
    ));
    Ok(0)
}

/// One matrix entry: its expression, and the variable of its last differentiation.
struct Entry {
    expr: Expr,
    var: String,
}

/// `jacobian` and `hessian`: a matrix of derivatives, each entry cross-checked.
fn cmd_matrix(src: String, wrt: Vec<String>, args: CheckArgs, hessian: bool, out: &mut String) -> Result<u8, Failure> {
    let src = read_expr_arg(src)?;
    let tol = tolerance(&args)?;
    let level: Level = args.simplify.into();
    let budget = Budget::default();
    let numbers = args.numbers.numbers.for_input(&src);
    // Each function as read, and its text (for the form as written: the tapes and the
    // domains).
    let (functions, texts): (Vec<Expr>, Vec<&str>) = if hessian {
        (vec![parse_expr(&src)?], vec![src.as_str()])
    } else {
        let (mut fs, mut ts) = (Vec::new(), Vec::new());
        let mut offset = 0;
        for part in src.split(';') {
            match parse(part) {
                Ok(f) => {
                    ts.push(part);
                    fs.push(f);
                }
                Err(mut e) => {
                    e.offset += offset;
                    return Err(Failure::Parse(e, src.clone()));
                }
            }
            offset += part.len() + 1;
        }
        (fs, ts)
    };
    let mut vars: Vec<String> = if wrt.is_empty() {
        let mut all: Vec<String> = functions.iter().flat_map(|f| f.variables()).collect();
        all.sort_by(|a, b| natural_cmp(a, b));
        all.dedup();
        all
    } else {
        wrt.iter().map(|v| v.trim().to_string()).collect()
    };
    if vars.is_empty() {
        vars.push("x".into());
    }
    for v in &vars {
        resolve_wrt(&functions[0], std::slice::from_ref(v))?;
    }
    // The size bounds any entry's simplification hit, reported for the whole matrix.
    let mut hit = crate::limits::Bounds::default();
    let mut d = |e: &Expr, v: &str| {
        let (x, report) = simplify_for(&diff(e, v), level, &budget, numbers);
        hit.extend(report.bounds);
        x
    };
    let rows: Vec<Vec<Entry>> = if hessian {
        let f = &functions[0];
        let grads: Vec<Expr> = vars.iter().map(|v| d(f, v)).collect();
        let n = vars.len();
        let mut h: Vec<Vec<Option<Entry>>> = (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
        for i in 0..n {
            for j in i..n {
                // Symmetric: computed once, the mirror entry shares it.
                let e = d(&grads[i], &vars[j]);
                h[j][i] = Some(Entry {
                    expr: e.clone(),
                    var: vars[i].clone(),
                });
                h[i][j] = Some(Entry {
                    expr: e,
                    var: vars[j].clone(),
                });
            }
        }
        h.into_iter().map(|row| row.into_iter().flatten().collect()).collect()
    } else {
        functions
            .iter()
            .map(|f| {
                vars.iter()
                    .map(|v| Entry {
                        expr: d(f, v),
                        var: v.clone(),
                    })
                    .collect()
            })
            .collect()
    };
    let at = if args.at.is_empty() {
        None
    } else {
        Some(parse_point(&args.at)?)
    };
    let point = at.as_deref().map(to_point);
    let written: Vec<Expr> = texts
        .iter()
        .zip(&functions)
        .map(|(text, f)| as_written(text, f, point.as_ref()))
        .collect();
    // Cross-check every entry: at the point, or at seeded points.
    let (mut passed, mut failed, mut undefined) = (0usize, 0usize, 0usize);
    let mut values: Vec<Vec<Value>> = Vec::new();
    let mut value_bounds: Vec<Vec<Value>> = Vec::new();
    // The entries f64 holds to fewer digits than rtol asks: their notes.
    let mut precision_notes: Vec<String> = Vec::new();
    // Why entries shown as undefined are, or why they are not cross-checked: each
    // reason once, with the entries it holds for.
    let mut undefined_entries = UndefinedEntries::default();
    let mut autograd: Vec<Vec<Value>> = Vec::new();
    let summary_status = |s: &SampleSummary| {
        if s.failed > 0 {
            Status::Fail
        } else if s.passed == 0 {
            Status::Undefined
        } else {
            Status::Pass
        }
    };
    for (i, row) in rows.iter().enumerate() {
        let mut vrow = Vec::new();
        let mut brow = Vec::new();
        let mut arow = Vec::new();
        let mut statuses: Vec<Status> = Vec::with_capacity(row.len());
        if !hessian {
            // A Jacobian row is a gradient: one tape of its function per point, swept
            // back once, witnesses every entry (as `grad` does).
            let partials: Vec<(String, Expr)> = row.iter().map(|e| (e.var.clone(), e.expr.clone())).collect();
            match &at {
                Some(at) => {
                    let reports =
                        check_gradient_at(&written[i], &partials, &to_point(at), &tol).map_err(Failure::Usage)?;
                    for (j, r) in reports.iter().enumerate() {
                        record_entry(
                            r,
                            entry_name((i, j), false),
                            tol.rtol,
                            &mut vrow,
                            &mut brow,
                            &mut precision_notes,
                        );
                        arow.push(r.autograd.as_ref().map_or(Value::Null, |x| number_json(*x)));
                        undefined_entries.add(r, (i, j));
                        statuses.push(r.comparison.status);
                    }
                }
                None => statuses.extend(sample_gradient(&written[i], &partials, &tol).iter().map(summary_status)),
            }
        }
        for (j, entry) in row.iter().enumerate().filter(|_| hessian) {
            // Hessian entries: hyper-dual evaluation of f as written.
            let origin = &written[0];
            let witness = Witness::HyperDual {
                xi: &vars[i],
                xj: &entry.var,
            };
            let status = match &at {
                Some(at) => {
                    let r = check_with(origin, &entry.expr, witness, &to_point(at), &tol).map_err(Failure::Usage)?;
                    record_entry(
                        &r,
                        entry_name((i, j), true),
                        tol.rtol,
                        &mut vrow,
                        &mut brow,
                        &mut precision_notes,
                    );
                    arow.push(r.autograd.as_ref().map_or(Value::Null, |x| number_json(*x)));
                    undefined_entries.add(&r, (i, j));
                    r.comparison.status
                }
                None => summary_status(&sample_with(origin, &entry.expr, witness, &tol)),
            };
            statuses.push(status);
        }
        for status in statuses {
            match status {
                Status::Pass => passed += 1,
                Status::Fail => failed += 1,
                Status::Undefined => undefined += 1,
            }
        }
        values.push(vrow);
        value_bounds.push(brow);
        autograd.push(arow);
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|e| print_with(&e.expr, numbers)).collect())
        .collect();
    let title = if hessian { "hessian" } else { "jacobian" };
    let names: Vec<String> = functions.iter().map(|f| print_with(f, numbers)).collect();
    match args.format {
        Format::Json => {
            let j = json!({
                if hessian { "expr" } else { "functions" }: if hessian { json!(names[0]) } else { json!(names) },
                "wrt": vars,
                "matrix": cells,
                "at": at.as_ref().map_or(Value::Null, |a| at_json(a)),
                "values": if at.is_some() { json!(values) } else { Value::Null },
                "value_error_bounds": if at.is_some() { json!(value_bounds) } else { Value::Null },
                "autograd": if at.is_some() { json!(autograd) } else { Value::Null },
                "undefined_entries": if at.is_some() { undefined_entries.json() } else { Value::Null },
                "check": {
                    "status": if failed > 0 { "fail" } else if passed == 0 { "undefined" } else { "pass" },
                    "entries": passed + failed + undefined, "passed": passed, "failed": failed, "undefined": undefined,
                },
                "simplify": {"level": level.as_str(), "bounds": hit.names()},
            });
            out.push_str(&format!("{j}\n"));
        }
        Format::Text => {
            out.push_str(&format!(
                "{title} of ({}) wrt ({})\n",
                names.join("; "),
                vars.join(", ")
            ));
            out.push_str(&aligned(&cells));
            if let Some(at) = &at {
                let shown: Vec<Vec<String>> = values
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|v| v.as_f64().map_or("undefined".to_string(), format_f64))
                            .collect()
                    })
                    .collect();
                out.push_str(&format!("at {}:\n", at_text(at)));
                out.push_str(&aligned(&shown));
            }
            out.push_str(&format!(
                "autograd: {passed} of {} entries agree, {failed} disagree, {undefined} undefined{}\n",
                passed + failed + undefined,
                if at.is_none() { " (at seeded points)" } else { "" }
            ));
            for note in &precision_notes {
                out.push_str(note);
            }
            out.push_str(&undefined_entries.notes(passed + failed + undefined));
            out.push_str(&bounds_note(hit));
        }
        Format::Latex => {
            let body: Vec<String> = rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|e| format::latex_with(&e.expr, numbers))
                        .collect::<Vec<_>>()
                        .join(" & ")
                })
                .collect();
            out.push_str(&format!(
                "\\begin{{pmatrix}}\n{}\n\\end{{pmatrix}}\n",
                body.join(" \\\\\n")
            ));
        }
        Format::Python | Format::C | Format::Rust => {
            let mut params: Vec<String> = functions.iter().flat_map(|f| f.variables()).collect();
            params.extend(vars.iter().cloned());
            params.sort_by(|a, b| natural_cmp(a, b));
            params.dedup();
            let entries: Vec<Vec<&Expr>> = rows.iter().map(|r| r.iter().map(|e| &e.expr).collect()).collect();
            out.push_str(&format::matrix_function_cse(
                &entries,
                title,
                &params,
                args.format.code(),
                args.cse,
                numbers,
            ));
        }
        Format::Sexpr => return Err(unsupported(Format::Sexpr, title)),
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

/// Rows of cells, each column padded to its widest cell.
fn aligned(cells: &[Vec<String>]) -> String {
    let cols = cells.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|j| {
            cells
                .iter()
                .filter_map(|r| r.get(j))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in cells {
        let padded: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(j, c)| format!("{c:<w$}", w = widths[j]))
            .collect();
        out.push_str(&format!("  [ {} ]\n", padded.join("  ")));
    }
    out
}

impl Format {
    fn code(self) -> format::Language {
        match self {
            Format::C => format::Language::C,
            Format::Rust => format::Language::Rust,
            _ => format::Language::Python,
        }
    }
}

/// A claim to check, from the command line or a batch line.
struct CheckRequest {
    expr: String,
    claim: String,
    wrt: Vec<String>,
    order: usize,
    domain: BTreeMap<String, (crate::Rational, crate::Rational)>,
    points: usize,
}

/// Parses `--domain x=LO..HI` items.
fn parse_domain(items: &[String]) -> Result<BTreeMap<String, (crate::Rational, crate::Rational)>, Failure> {
    let mut out = BTreeMap::new();
    for item in items {
        let bad = || Failure::Usage(format!("--domain expects VAR=LO..HI, got '{item}'"));
        let (name, range) = item.split_once('=').ok_or_else(bad)?;
        let (lo, hi) = range.split_once("..").ok_or_else(bad)?;
        let lo = parse_number(lo).map_err(|m| Failure::Usage(format!("--domain {name}: {m}")))?;
        let hi = parse_number(hi).map_err(|m| Failure::Usage(format!("--domain {name}: {m}")))?;
        if lo >= hi {
            return Err(Failure::Usage(format!(
                "--domain {name}: the low end must be below the high end"
            )));
        }
        out.insert(name.trim().to_string(), (lo, hi));
    }
    Ok(out)
}

fn run_check(req: &CheckRequest) -> Result<(Expr, Vec<String>, ClaimReport), Failure> {
    let f = parse_expr(&req.expr)?;
    let claim = parse_expr(&req.claim)?;
    if req.order == 0 || req.order > MAX_ORDER {
        return Err(Failure::Usage(format!(
            "--order must be between 1 and {MAX_ORDER}, got {}",
            req.order
        )));
    }
    if req.points == 0 || req.points > 10_000 {
        return Err(Failure::Usage("--points must be between 1 and 10000".into()));
    }
    let wrt = resolve_wrt(&f, &req.wrt)?;
    let sequence: Vec<&str> = differentiation_sequence(&wrt, req.order);
    let opts = ClaimOptions {
        points: req.points,
        domain: req.domain.clone(),
        written: Some(as_written(&req.expr, &f, None)),
        ..ClaimOptions::default()
    };
    let report = check_claim(&f, &claim, &sequence, &opts);
    Ok((f, wrt, report))
}

fn exit_for_verdict(v: Verdict) -> u8 {
    if v == Verdict::Equivalent {
        0
    } else {
        1
    }
}

/// The exact value when it is short enough to read, else the decimal.
/// A witness's value: exact where short, spelled as `numbers` says.
fn value_or_exact(v: f64, exact: &Option<crate::Rational>, numbers: Numbers) -> String {
    match exact.as_ref().map(|x| crate::print::rational_text(x, numbers)) {
        Some(text) if text.len() <= 12 => text,
        _ => format_f64(v),
    }
}

/// A point, its coordinates spelled as `numbers` says (`x = 0.906` with decimals).
fn point_text(p: &Point, numbers: Numbers) -> String {
    p.iter()
        .map(|(k, v)| format!("{k} = {}", crate::print::rational_text(v, numbers)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn point_json(p: &Point) -> Value {
    Value::Object(
        p.iter()
            .map(|(k, v)| (k.clone(), json!(rational_to_string(v))))
            .collect(),
    )
}

/// Most proof steps shown in text; JSON has them all.
const PROOF_LINES: usize = 12;

/// The text the `check` command prints for a report.
pub fn claim_text(f: &Expr, wrt: &[String], order: usize, r: &ClaimReport, numbers: Numbers) -> String {
    let mut t = format!(
        "{} ({})\n  = {}\nclaim: {}\n",
        operator_text(wrt, order),
        Show(f, numbers),
        Show(&r.derivative, numbers),
        Show(&r.claim, numbers)
    );
    match (r.verdict, r.method) {
        (Verdict::Equivalent, Some(Method::Proof)) => {
            t.push_str("verdict: equivalent, proved\n");
            let steps = crate::claim::readable_steps(r.proof.as_deref().unwrap_or(&[]));
            let width = steps.iter().map(|s| s.rule.len()).max().unwrap_or(0);
            let shown: Vec<&crate::claim::ProofStep> = if steps.len() <= PROOF_LINES {
                steps.clone()
            } else {
                steps[..PROOF_LINES / 2].iter().chain(steps[steps.len() - PROOF_LINES / 2..].iter()).copied().collect()
            };
            for (k, step) in shown.iter().enumerate() {
                if steps.len() > PROOF_LINES && k == PROOF_LINES / 2 {
                    t.push_str(&format!("  … {} more steps (all of them are in --format json)\n", steps.len() - PROOF_LINES));
                }
                t.push_str(&format!("  {:width$}  {}\n", step.rule, respell(&step.term, numbers)));
            }
            if !r.conditions.is_empty() {
                t.push_str(&format!("conditions: {}\n", r.conditions.join("; ")));
            }
        }
        (Verdict::Equivalent, _) => t.push_str(&format!(
            "verdict: equivalent, by numeric evidence (not a proof): agreed at {} of {} seeded points, {}; largest relative difference {}\n",
            r.points.agreed,
            r.points.tried,
            skipped_text(r.points.skipped, r.points.beyond_f64, "a domain"),
            format_f64(r.max_rel_diff)
        )),
        (Verdict::NotEquivalent, _) => {
            t.push_str("verdict: NOT equivalent\n");
            if let Some(w) = &r.witness {
                t.push_str(&format!(
                    "witness: at {}: the derivative is {}, your claim is {}\n",
                    point_text(&w.at, numbers),
                    value_or_exact(w.derivative, &w.derivative_exact, numbers),
                    value_or_exact(w.claim, &w.claim_exact, numbers)
                ));
            }
            if let Some(res) = &r.residual {
                t.push_str(&format!("your claim is off by {}\n", Show(res, numbers)));
            }
        }
        (Verdict::Unknown, _) => {
            t.push_str(&format!("verdict: unknown ({})\n", r.reason.as_deref().unwrap_or("undecided")));
        }
    }
    t
}

fn claim_json(f: &Expr, wrt: &[String], order: usize, r: &ClaimReport, numbers: Numbers) -> Value {
    let mut m = Map::new();
    m.insert("expr".into(), json!(print_with(f, numbers)));
    m.insert("wrt".into(), json!(wrt));
    m.insert("order".into(), json!(order));
    m.insert("verdict".into(), json!(r.verdict.as_str()));
    m.insert("method".into(), r.method.map_or(Value::Null, |x| json!(x.as_str())));
    m.insert("derivative".into(), json!(print_with(&r.derivative, numbers)));
    m.insert("claim".into(), json!(print_with(&r.claim, numbers)));
    m.insert(
        "proof".into(),
        r.proof.as_ref().map_or(Value::Null, |steps| {
            Value::Array(
                steps
                    .iter()
                    .map(|s| json!({"rule": s.rule, "term": respell(&s.term, numbers)}))
                    .collect(),
            )
        }),
    );
    m.insert("conditions".into(), json!(r.conditions));
    m.insert(
        "witness".into(),
        r.witness.as_ref().map_or(Value::Null, |w| {
            json!({
                "at": point_json(&w.at),
                "derivative": number_json(w.derivative),
                "claim": number_json(w.claim),
                "derivative_exact": w.derivative_exact.as_ref().map(rational_to_string),
                "claim_exact": w.claim_exact.as_ref().map(rational_to_string),
            })
        }),
    );
    m.insert(
        "residual".into(),
        r.residual
            .as_ref()
            .map_or(Value::Null, |x| json!(print_with(x, numbers))),
    );
    m.insert(
        "points".into(),
        json!({
            "tried": r.points.tried,
            "agreed": r.points.agreed,
            "skipped": r.points.skipped,
            "beyond_f64": r.points.beyond_f64,
        }),
    );
    m.insert("max_rel_diff".into(), number_json(r.max_rel_diff));
    if let Some(reason) = &r.reason {
        m.insert("reason".into(), json!(reason));
    }
    Value::Object(m)
}

/// The variables to differentiate by: as given, or the only variable.
fn resolve_wrt(f: &Expr, wrt: &[String]) -> Result<Vec<String>, Failure> {
    let wrt = if wrt.is_empty() {
        let vars = f.variables();
        match vars.len() {
            0 => vec!["x".to_string()],
            1 => vars,
            _ => {
                return Err(Failure::Usage(format!(
                    "the expression has several variables ({}); say which with --wrt",
                    vars.join(", ")
                )))
            }
        }
    } else {
        wrt.to_vec()
    };
    for v in &wrt {
        let is_var = crate::parse(v)
            .ok()
            .is_some_and(|e| matches!(e.node(e.root()), crate::Node::Var(_)));
        if !is_var {
            return Err(Failure::Usage(format!("--wrt expects a variable name, got '{v}'")));
        }
    }
    Ok(wrt)
}

/// A batch field holding one of the values its command-line option takes (clap's
/// names for them), `default` when absent or null.
fn choice<T: ValueEnum + Clone>(obj: &Map<String, Value>, key: &str, default: T) -> Result<T, Failure> {
    let names: Vec<String> = T::value_variants()
        .iter()
        .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
        .collect();
    match obj.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) => match names.iter().position(|n| n == s) {
            Some(k) => Ok(T::value_variants()[k].clone()),
            None => Err(choice_error(key, &names)),
        },
        Some(_) => Err(choice_error(key, &names)),
    }
}

/// `"simplify" must be "none", "fast" or "full"`.
fn choice_error(key: &str, names: &[String]) -> Failure {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let list = match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    };
    Failure::Usage(format!("\"{key}\" must be {list}"))
}

/// One batch line in, one JSON value out, and the exit code that line asks for.
fn batch_line(n: usize, line: &str) -> (Value, u8) {
    let error = |f: Failure| {
        let mut m = Map::new();
        m.insert("line".into(), json!(n));
        m.insert("error".into(), f.to_json());
        (Value::Object(m), 2)
    };
    let request: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            return error(Failure::Usage(format!("line {n} is not valid JSON: {e}")));
        }
    };
    let Some(obj) = request.as_object() else {
        return error(Failure::Usage("a request must be a JSON object".into()));
    };
    let Some(expr) = obj.get("expr").and_then(Value::as_str) else {
        return error(Failure::Usage("the request has no \"expr\" string".into()));
    };
    let wrt: Vec<String> = match obj.get("wrt") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => match a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
        {
            Some(v) => v,
            None => return error(Failure::Usage("\"wrt\" must be a string or a list of strings".into())),
        },
        Some(_) => return error(Failure::Usage("\"wrt\" must be a string or a list of strings".into())),
    };
    let order = match obj.get("order") {
        None | Some(Value::Null) => 1,
        Some(v) => match v.as_u64() {
            Some(k) => k as usize,
            None => return error(Failure::Usage("\"order\" must be a positive integer".into())),
        },
    };
    let at = match obj.get("at") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => {
            let mut items = Vec::new();
            for (k, v) in m {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(x) => x.to_string(),
                    _ => return error(Failure::Usage(format!("\"at\".{k} must be a number or a string"))),
                };
                items.push(format!("{k}={text}"));
            }
            match parse_point(&items) {
                Ok(p) => Some(p),
                Err(f) => return error(f),
            }
        }
        Some(_) => return error(Failure::Usage("\"at\" must be an object such as {\"x\": \"2\"}".into())),
    };
    let mut tol = Tolerance::default();
    if let Some(r) = obj.get("rtol").and_then(Value::as_f64) {
        tol.rtol = r;
    }
    if let Some(a) = obj.get("atol").and_then(Value::as_f64) {
        tol.atol = a;
    }
    if let Some(strict) = obj.get("strict").and_then(Value::as_bool) {
        tol.rounding = !strict;
    }
    let numbers = match choice(obj, "numbers", NumbersArg::Auto) {
        Ok(n) => n,
        Err(f) => return error(f),
    };
    let level: Level = match choice(obj, "simplify", SimplifyArg::Full) {
        Ok(l) => l.into(),
        Err(f) => return error(f),
    };
    if let Some(claim) = obj.get("claim") {
        let Some(claim) = claim.as_str() else {
            return error(Failure::Usage("\"claim\" must be a string".into()));
        };
        let domain = match obj.get("domain") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(d)) => {
                let mut items = Vec::new();
                for (k, v) in d {
                    let pair = v
                        .as_array()
                        .and_then(|a| Some((a.first()?.as_str()?.to_string(), a.get(1)?.as_str()?.to_string())));
                    match pair {
                        Some((lo, hi)) => items.push(format!("{k}={lo}..{hi}")),
                        None => return error(Failure::Usage(format!("\"domain\".{k} must be [\"lo\", \"hi\"]"))),
                    }
                }
                match parse_domain(&items) {
                    Ok(d) => d,
                    Err(f) => return error(f),
                }
            }
            Some(_) => {
                return error(Failure::Usage(
                    "\"domain\" must be an object such as {\"x\": [\"0\", \"1\"]}".into(),
                ))
            }
        };
        let points = obj.get("points").and_then(Value::as_u64).map_or(32, |p| p as usize);
        let req = CheckRequest {
            expr: expr.to_string(),
            claim: claim.to_string(),
            wrt,
            order,
            domain,
            points,
        };
        return match run_check(&req) {
            Ok((f, wrt, report)) => {
                let numbers = numbers.for_input(&format!("{expr} {claim}"));
                let mut j = claim_json(&f, &wrt, order, &report, numbers);
                if let Value::Object(m) = &mut j {
                    let mut with_line = Map::new();
                    with_line.insert("line".into(), json!(n));
                    with_line.extend(std::mem::take(m));
                    *m = with_line;
                }
                (j, exit_for_verdict(report.verdict))
            }
            Err(f) => error(f),
        };
    }
    match run_diff(DiffRequest {
        expr: expr.to_string(),
        wrt,
        order,
        at,
        tol,
        level,
        numbers,
    }) {
        Ok(o) => {
            let mut j = diff_json(&o);
            if let Value::Object(m) = &mut j {
                let mut with_line = Map::new();
                with_line.insert("line".into(), json!(n));
                with_line.extend(std::mem::take(m));
                *m = with_line;
            }
            (j, exit_for(o.status()))
        }
        Err(f) => error(f),
    }
}

/// Lines of a FILE a batch reads before answering them together, spread over its
/// threads: enough to keep every thread busy, few enough that a long file's answers
/// are not all held in memory at once.
const BATCH_CHUNK: usize = 1024;

/// The stack of a batch's worker threads: more than the main thread's usual 8 MiB, so a
/// request a single-threaded run answers is answered the same on a worker (reserved
/// address space; only the pages used are ever touched).
const WORKER_STACK_BYTES: usize = 64 << 20;

fn cmd_batch(file: Option<std::path::PathBuf>, jobs: Option<std::num::NonZeroUsize>) -> Result<u8, Failure> {
    let stdout = std::io::stdout();
    let mut lock = std::io::BufWriter::new(stdout.lock());
    let mut code = 0u8;
    let Some(path) = file else {
        // A conversation: each answer goes out before the next line is read.
        for (k, line) in std::io::stdin().lock().lines().enumerate() {
            let (value, c) = answer_line(k + 1, line);
            code = code.max(c);
            if writeln!(lock, "{value}").and_then(|()| lock.flush()).is_err() {
                return Ok(code);
            }
        }
        return Ok(code);
    };
    let reader = match std::fs::File::open(&path) {
        Ok(f) => std::io::BufReader::new(f),
        Err(e) => return Err(Failure::Usage(format!("cannot read {}: {e}", path.display()))),
    };
    let threads = jobs
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, std::num::NonZeroUsize::get);
    let mut lines = reader.lines().enumerate().peekable();
    while lines.peek().is_some() {
        let chunk: Vec<BatchLine> = lines.by_ref().take(BATCH_CHUNK).map(|(k, l)| (k + 1, l)).collect();
        for (value, c) in answer_all(chunk, threads) {
            code = code.max(c);
            if writeln!(lock, "{value}").is_err() {
                return Ok(code);
            }
        }
    }
    let _ = lock.flush();
    Ok(code)
}

/// Line `n` of a batch as read: its text, or why it could not be read.
type BatchLine = (usize, std::io::Result<String>);

/// The answer to line `n` of a batch; a line that could not be read is answered as
/// a malformed request.
fn answer_line(n: usize, line: std::io::Result<String>) -> (Value, u8) {
    match line {
        Ok(l) => batch_line(n, &l),
        Err(e) => batch_line(n, &format!("\u{0}{e}")),
    }
}

/// The answers to `lines`, in their order, computed on up to `threads` threads. Each
/// line is answered alone, exactly as a single thread would answer it (nothing is
/// shared between requests but the interned variable names, whose order no output
/// depends on), so the output is the same for every thread count.
fn answer_all(lines: Vec<BatchLine>, threads: usize) -> Vec<(Value, u8)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let threads = threads.min(lines.len());
    if threads <= 1 {
        return lines.into_iter().map(|(n, l)| answer_line(n, l)).collect();
    }
    // Requests differ a hundredfold in cost, so each thread takes the next line when
    // it is done with one, rather than a fixed share.
    let total = lines.len();
    let queue: Vec<Mutex<Option<BatchLine>>> = lines.into_iter().map(|l| Mutex::new(Some(l))).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, (Value, u8))> = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= total {
                return done;
            }
            // Each slot is taken once; a poisoned lock only means another thread
            // panicked, which the scope below reports.
            let taken = match queue[i].lock() {
                Ok(mut slot) => slot.take(),
                Err(poisoned) => poisoned.into_inner().take(),
            };
            if let Some((n, line)) = taken {
                done.push((i, answer_line(n, line)));
            }
        }
    };
    let mut answers: Vec<Option<(Value, u8)>> = (0..total).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (1..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .stack_size(WORKER_STACK_BYTES)
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        // This thread works too; if no worker could be started it answers them all.
        let mut finished = vec![work()];
        for w in workers {
            match w.join() {
                Ok(done) => finished.push(done),
                // A panic is a bug; report it as the single-threaded run would.
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        for (i, answer) in finished.into_iter().flatten() {
            answers[i] = Some(answer);
        }
    });
    answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|| (json!({"error": "internal: a batch line was not answered"}), 2)))
        .collect()
}

/// Runs the command line and returns the exit code.
pub fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        write_stderr(&format!(
            "internal error: {info}\nthis is a bug in dydx; please report it with the input that caused it\n"
        ));
    }));
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = std::panic::catch_unwind(move || {
        let mut out = String::new();
        let (format, code) = match cli.command {
            Command::Diff { expr, common } => (common.check.format, cmd_diff(expr, common, &mut out)),
            Command::Grad { expr, common } => (common.format, cmd_grad(expr, common, &mut out)),
            Command::Eval { expr, common } => (common.format, cmd_eval(expr, common, &mut out)),
            Command::Plot {
                expr,
                wrt,
                at,
                range,
                output,
            } => (Format::Text, cmd_plot(expr, wrt, at, range, output, &mut out)),
            Command::Jacobian { exprs, wrt, common } => {
                (common.format, cmd_matrix(exprs, wrt, common, false, &mut out))
            }
            Command::Hessian { expr, wrt, common } => (common.format, cmd_matrix(expr, wrt, common, true, &mut out)),
            Command::Check {
                expr,
                claim,
                wrt,
                order,
                domain,
                points,
                format,
                numbers,
            } => {
                let r = (|| {
                    let expr = read_expr_arg(expr)?;
                    let numbers = numbers.numbers.for_input(&format!("{expr} {claim}"));
                    let domain = parse_domain(&domain)?;
                    let req = CheckRequest {
                        expr,
                        claim,
                        wrt,
                        order,
                        domain,
                        points,
                    };
                    let (f, wrt, report) = run_check(&req)?;
                    match format {
                        Format::Json => out.push_str(&format!("{}\n", claim_json(&f, &wrt, order, &report, numbers))),
                        Format::Text => out.push_str(&claim_text(&f, &wrt, order, &report, numbers)),
                        Format::Latex => out.push_str(&format!(
                            "{}\\left({}\\right) = {} \\quad\\text{{claim: }} {} \\quad\\text{{({})}}\n",
                            latex_operator(&wrt, order),
                            format::latex_with(&f, numbers),
                            format::latex_with(&report.derivative, numbers),
                            format::latex_with(&report.claim, numbers),
                            report.verdict.as_str().replace('_', " ")
                        )),
                        other => return Err(unsupported(other, "check")),
                    }
                    Ok(exit_for_verdict(report.verdict))
                })();
                (format, r)
            }
            Command::Batch { file, jobs } => (Format::Json, cmd_batch(file, jobs)),
        };
        (format, code, out)
    });
    match result {
        Ok((_, Ok(code), out)) => match write_stdout(&out) {
            Ok(()) => ExitCode::from(code),
            Err(e) => {
                write_stderr(&format!("error: cannot write the output: {e}\n"));
                ExitCode::from(2)
            }
        },
        Ok((format, Err(f), _)) => {
            match format {
                Format::Json => {
                    let _ = write_stdout(&format!("{}\n", json!({"error": f.to_json()})));
                }
                _ => write_stderr(&f.render()),
            }
            ExitCode::from(2)
        }
        Err(_) => ExitCode::from(2),
    }
}

/// Writes a message to stderr; if even that fails there is no one left to tell.
fn write_stderr(message: &str) {
    let _ = std::io::stderr().lock().write_all(message.as_bytes());
}

/// Writes the output to stdout. A reader that has gone away (`dydx … | head`) is not an
/// error: the output is simply not wanted any more, so a broken pipe is success.
fn write_stdout(out: &str) -> std::io::Result<()> {
    let mut lock = std::io::stdout().lock();
    match lock.write_all(out.as_bytes()).and_then(|()| lock.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
