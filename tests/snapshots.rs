//! Snapshot tests over the fixture corpus in tests/fixtures/ (one snapshot per file,
//! stored in the top-level snapshots/ folder). Review changes with `cargo insta review`.

use dydx::check::{check_at, Tolerance};
use dydx::eval::{format_f64, parse_number, Point};
use dydx::print::rational_to_string;
use dydx::print::{print_with, Numbers};
use dydx::simplify::{simplify_at, simplify_for, Budget, Level};
use dydx::{diff, parse};

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots");
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

/// Lines of a fixture file that are not blank or comments.
fn cases(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// One diff fixture line: `EXPR [; wrt VAR...] [; order N] [; at VAR=VALUE,...]`.
fn render_diff_case(line: &str) -> String {
    let mut parts = line.split(';').map(str::trim);
    let src = parts.next().unwrap_or_default();
    let (mut wrt, mut order, mut at) = (Vec::new(), 1usize, Point::new());
    let mut at_text = String::new();
    for p in parts {
        if let Some(v) = p.strip_prefix("wrt ") {
            wrt = v.split_whitespace().map(str::to_string).collect();
        } else if let Some(n) = p.strip_prefix("order ") {
            order = n.trim().parse().unwrap();
        } else if let Some(a) = p.strip_prefix("at ") {
            at_text = a.replace(',', ", ").replace('=', " = ");
            for kv in a.split(',') {
                let (k, v) = kv.split_once('=').unwrap();
                at.insert(k.trim().into(), parse_number(v).unwrap());
            }
        }
    }
    let f = parse(src).unwrap();
    if wrt.is_empty() {
        wrt = f.variables();
    }
    if wrt.is_empty() {
        wrt = vec!["x".to_string()];
    }
    let seq: Vec<&str> = (0..order).flat_map(|_| wrt.iter().map(String::as_str)).collect();
    // As the command line does: the fast normal form between steps, full at the end.
    let budget = Budget::default();
    let mut previous = f.clone();
    for v in &seq[..seq.len() - 1] {
        previous = simplify_at(&diff(&previous, v), Level::Fast, &budget).0;
    }
    let raw = diff(&previous, seq[seq.len() - 1]);
    // As the command line prints them: decimals for input with a decimal literal.
    let numbers = Numbers::of_input(src);
    let d = simplify_for(&raw, Level::Full, &budget, numbers).0;
    let operator = if seq.len() == 1 {
        format!("d/d{}", seq[0])
    } else {
        format!(
            "d^{}/({})",
            seq.len(),
            seq.iter().map(|v| format!("d{v}")).collect::<Vec<_>>().join(" ")
        )
    };
    let show = |e: &dydx::Expr| print_with(e, numbers);
    let mut out = format!("## `{src}`\n{operator} ({})\n  = {}\n", show(&f), show(&d));
    if raw != d {
        out.push_str(&format!("  (unsimplified: {})\n", show(&raw)));
    }
    if !at.is_empty() {
        let r = check_at(&f, &previous, &d, seq[seq.len() - 1], &at, &Tolerance::default()).unwrap();
        let value = match (&r.value, &r.exact) {
            (Ok(_), Some(x)) => rational_to_string(x),
            (Ok(v), None) => format_f64(*v),
            (Err(u), _) => format!("undefined ({u})"),
        };
        out.push_str(&format!(
            "at {at_text}: {value}\ncheck: {}\n",
            r.comparison.status.as_str()
        ));
    }
    out
}

#[test]
fn diff_fixtures() {
    settings().bind(|| {
        insta::glob!("fixtures/diff/*.txt", |path| {
            let text = std::fs::read_to_string(path).unwrap();
            let rendered: Vec<String> = cases(&text).map(render_diff_case).collect();
            insta::assert_snapshot!(rendered.join("\n"));
        });
    });
}

#[test]
fn error_fixtures() {
    settings().bind(|| {
        insta::glob!("fixtures/errors/*.txt", |path| {
            let text = std::fs::read_to_string(path).unwrap();
            let rendered: Vec<String> = cases(&text)
                .map(|src| {
                    let e = parse(src).expect_err(src);
                    format!(
                        "## `{src}`\nkind: {}\n{}",
                        e.kind.as_str(),
                        dydx::cli::render_parse_error(&e, src)
                    )
                })
                .collect();
            insta::assert_snapshot!(rendered.join("\n"));
        });
    });
}

/// One check fixture line: `EXPR | CLAIM [| wrt VAR] [| domain VAR=LO..HI]`.
fn render_check_case(line: &str) -> String {
    use dydx::claim::{check_claim, ClaimOptions};
    let mut parts = line.split('|').map(str::trim);
    let (src, claim_src) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let f = parse(src).unwrap();
    let claim = parse(claim_src).unwrap();
    let mut opts = ClaimOptions::default();
    let mut wrt = f.variables();
    for p in parts {
        if let Some(v) = p.strip_prefix("wrt ") {
            wrt = vec![v.trim().to_string()];
        } else if let Some(d) = p.strip_prefix("domain ") {
            let (v, range) = d.split_once('=').unwrap();
            let (lo, hi) = range.split_once("..").unwrap();
            opts.domain
                .insert(v.into(), (parse_number(lo).unwrap(), parse_number(hi).unwrap()));
        }
    }
    let names: Vec<&str> = wrt.iter().map(String::as_str).collect();
    let report = check_claim(&f, &claim, &names, &opts);
    format!(
        "## `{src}` claimed `{claim_src}`\n{}",
        dydx::cli::claim_text(&f, &wrt, 1, &report, Numbers::of_input(&format!("{src} {claim_src}")))
    )
}

#[test]
fn check_fixtures() {
    settings().bind(|| {
        insta::glob!("fixtures/check/*.txt", |path| {
            let text = std::fs::read_to_string(path).unwrap();
            let rendered: Vec<String> = cases(&text).map(render_check_case).collect();
            insta::assert_snapshot!(rendered.join("\n"));
        });
    });
}

/// Every output format of each fixture derivative.
#[test]
fn format_fixtures() {
    use dydx::format;
    settings().bind(|| {
        insta::glob!("fixtures/formats/*.txt", |path| {
            let text = std::fs::read_to_string(path).unwrap();
            let rendered: Vec<String> = cases(&text)
                .map(|src| {
                    let f = parse(src).unwrap();
                    let d = simplify_at(&diff(&f, "x"), Level::Full, &Budget::default()).0;
                    let params = f.variables();
                    format!(
                        "## `{src}`\ntext:   {d}\nlatex:  {}\npython: {}\nc:      {}\nrust:   {}\nsexpr:  {}\n",
                        format::latex(&d),
                        format::python(&d),
                        format::c(&d),
                        format::rust(&d),
                        format::sexpr(&d)
                    ) + &format::function_with_cse(
                        &d,
                        "df_dx",
                        &params,
                        format::Language::C,
                        dydx::print::Numbers::Fractions,
                    )
                })
                .collect();
            insta::assert_snapshot!(rendered.join("\n"));
        });
    });
}
