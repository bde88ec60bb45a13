//! The command line, end to end: text and JSON output, exit codes, batch mode.
//! Snapshots live in the top-level snapshots/ folder.

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};
use std::process::Command;

fn dydx(args: &[&str]) -> Command {
    let mut c = Command::new(get_cargo_bin("dydx"));
    c.args(args);
    c
}

/// What `dydx batch` prints for `input` on stdin.
fn batch(input: &str) -> String {
    use std::io::Write;
    let mut child = dydx(&["batch"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("dydx runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    String::from_utf8(child.wait_with_output().expect("dydx ends").stdout).expect("utf-8")
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots");
    s.set_prepend_module_to_snapshot(false);
    s
}

const SEED: &str = "5*x**4 + 3*x**3 + 7*x**2 + 9*x - 5";

macro_rules! snap {
    ($name:ident, $cmd:expr) => {
        #[test]
        fn $name() {
            settings().bind(|| assert_cmd_snapshot!(stringify!($name), $cmd));
        }
    };
}

snap!(cli_seed_text, dydx(&["diff", SEED, "--at", "x=2"]));
snap!(cli_seed_json, dydx(&["diff", SEED, "--at", "x=2", "--format", "json"]));
snap!(cli_diff_sampled_without_point, dydx(&["diff", "ln(x)*x"]));
// The input reads as x, but as written it is undefined at x = -4: the tape records the
// text as written, so both sides say so.
snap!(
    cli_diff_input_undefined_as_written,
    dydx(&["diff", "exp(ln(x))", "--at", "x=-4"])
);
snap!(
    cli_eval_input_undefined_as_written,
    dydx(&["eval", "exp(ln(x)) + y", "--at", "x=-4,y=1"])
);
snap!(
    cli_grad_input_undefined_as_written,
    dydx(&["grad", "sqrt(x)^2*y", "--at", "x=-1,y=2"])
);
// x/x reads as 1, which holds no variable, but a point that gives x tapes the text as
// written, and that is undefined at 0; a point without x still tapes the read form.
snap!(
    cli_diff_lost_variable_taped_as_written,
    dydx(&["diff", "x/x + y", "--wrt", "y", "--at", "x=0,y=1"])
);
snap!(
    cli_diff_lost_variable_not_given,
    dydx(&["diff", "x/x + y", "--wrt", "y", "--at", "y=1"])
);
snap!(
    cli_jacobian_lost_variable_taped_as_written,
    dydx(&["jacobian", "x/x*y; y", "--at", "x=0,y=2", "--format", "json"])
);
// Claims are sampled inside the domain of the input as written: sign(x) is the
// derivative of sqrt(x)^2 wherever that is defined (x >= 0), though it reads as x.
snap!(
    cli_check_samples_the_input_as_written,
    dydx(&["check", "sqrt(x)^2", "--claim", "sign(x)"])
);
// With a decimal literal in the input, LaTeX and code spell numbers as decimals too.
snap!(
    cli_latex_decimals,
    dydx(&["diff", "6.674e-11*m/x^2 + 0.3*x^2.5", "--wrt", "x", "--format", "latex"])
);
snap!(
    cli_python_decimals,
    dydx(&[
        "diff",
        "6.674e-11*m/x^2 + 0.3*x^2.5",
        "--wrt",
        "x",
        "--format",
        "python"
    ])
);
// A refuted claim written with decimals gets its witness point in decimals too.
snap!(
    cli_check_refuted_decimals,
    dydx(&["check", "0.5*cos(3*x)", "--claim", "1.5*sin(3*x)"])
);
// A value f64 cannot hold is still given, from its exact value: 4e401, not "undefined".
snap!(cli_diff_value_beyond_f64, dydx(&["diff", "x^400", "--at", "x=10"]));
// Seeded points where the value exists but overflows f64 are not "outside the domain".
snap!(cli_diff_sampled_beyond_f64, dydx(&["diff", "exp(exp(x^2)) + ln(x)"]));
// The derivative is 0, and the tape's is rounding noise: agreement within atol.
snap!(cli_diff_within_atol, dydx(&["diff", "abs(x)/x", "--at", "x=0.3"]));
snap!(cli_diff_sampled_within_atol, dydx(&["diff", "abs(x)/x"]));
// Seven sums too many to multiply out: the simplifier says it left that untried, in text
// and in JSON ("bounds").
snap!(
    cli_diff_size_bound_text,
    dydx(&[
        "diff",
        "(a + 1)*(b + 1)*(c + 1)*(d + 1)*(f + 1)*(g + 1)*(h + 1)*x^2",
        "--wrt",
        "x"
    ])
);
snap!(
    cli_diff_size_bound_json,
    dydx(&[
        "diff",
        "(a + 1)*(b + 1)*(c + 1)*(d + 1)*(f + 1)*(g + 1)*(h + 1)*x^2",
        "--wrt",
        "x",
        "--format",
        "json"
    ])
);
snap!(
    cli_diff_undefined_at_point,
    dydx(&["diff", "abs(x)", "--at", "x=0", "--format", "json"])
);
snap!(
    cli_diff_mismatch_exits_1,
    dydx(&[
        "diff",
        "sin(x)^2*exp(x)/x",
        "--at",
        "x=1.7",
        "--rtol",
        "0",
        "--atol",
        "0",
        "--strict"
    ])
);
snap!(cli_parse_error_text, dydx(&["diff", "2*sinn(x) + 1"]));
// `x/0 - x/0` is not 0: it has no value anywhere, and saying 0 would hide that.
snap!(cli_undefined_everywhere, dydx(&["diff", "x/0 - x/0 + x^2"]));
snap!(
    cli_format_latex,
    dydx(&["diff", "x^2*sin(x)/(1 + x^2)", "--format", "latex"])
);
snap!(
    cli_format_python,
    dydx(&["diff", "x^2*sin(y)", "--wrt", "x", "--format", "python"])
);
snap!(cli_format_c, dydx(&["diff", "sqrt(x)*exp(-x)", "--format", "c"]));
snap!(
    cli_format_rust,
    dydx(&["diff", "x^3*y^2", "--wrt", "x", "--wrt", "y", "--format", "rust"])
);
snap!(
    cli_format_sexpr,
    dydx(&["diff", "atan(x/y)", "--wrt", "x", "--format", "sexpr"])
);
snap!(
    cli_jacobian_text,
    dydx(&["jacobian", "x*y; x^2 + z", "--at", "x=1,y=2,z=3"])
);
snap!(
    cli_jacobian_json,
    dydx(&["jacobian", "x*y; x^2 + z", "--format", "json"])
);
snap!(
    cli_hessian_text,
    dydx(&["hessian", "x^2*y + sin(x*y)", "--at", "x=0.5,y=2"])
);
snap!(
    cli_hessian_latex,
    dydx(&["hessian", "x^2*y + sin(x*y)", "--format", "latex"])
);
snap!(cli_hessian_rust, dydx(&["hessian", "x^3*y", "--format", "rust"]));
snap!(cli_steps_seed, dydx(&["diff", SEED, "--at", "x=2", "--steps"]));
snap!(
    cli_steps_product,
    dydx(&["diff", "x^2*sin(x)", "--steps", "--at", "x=1"])
);
snap!(
    cli_steps_quotient,
    dydx(&["diff", "sin(x)/(x^2 + 1)", "--steps", "--at", "x=1"])
);
snap!(
    cli_steps_nested_chain,
    dydx(&["diff", "exp(sin(cos(x^2)))", "--steps", "--at", "x=1"])
);
snap!(
    cli_steps_json,
    dydx(&["diff", "x*ln(x)", "--steps", "--format", "json", "--at", "x=2"])
);
snap!(
    cli_hessian_c_cse,
    dydx(&["hessian", "exp(x*y)*sin(x*y)", "--format", "c", "--cse"])
);
snap!(
    cli_diff_python_cse,
    dydx(&[
        "diff",
        "exp(sin(x)^2)*sin(x)^2/(1 + sin(x)^2)",
        "--format",
        "python",
        "--cse"
    ])
);
snap!(
    cli_steps_latex,
    dydx(&["diff", "x^2*sin(x)", "--steps", "--format", "latex"])
);
snap!(
    cli_eval_latex,
    dydx(&["eval", "x^2*y", "--at", "x=1/3,y=2", "--format", "latex"])
);
snap!(
    cli_grad_python_cse,
    dydx(&["grad", "exp(x*y)*sin(x*y) + z", "--format", "python", "--cse"])
);
snap!(cli_grad_latex, dydx(&["grad", "x*y + y^2*z", "--format", "latex"]));
snap!(cli_parse_error_json, dydx(&["diff", "(x + 1", "--format", "json"]));
snap!(cli_several_variables_need_wrt, dydx(&["diff", "x*y"]));
snap!(
    cli_mixed_partial,
    dydx(&[
        "diff",
        "x^3*y^2",
        "--wrt",
        "x",
        "--wrt",
        "y",
        "--order",
        "2",
        "--at",
        "x=2,y=1/3"
    ])
);
snap!(cli_leading_minus, dydx(&["diff", "-x^2", "--at", "x=-0.5"]));
snap!(cli_grad_text, dydx(&["grad", "x*y + y^2*z", "--at", "x=1,y=2,z=3"]));
snap!(
    cli_grad_json,
    dydx(&["grad", "x*y + y^2*z", "--at", "x=1,y=2,z=3", "--format", "json"])
);
snap!(cli_eval_text, dydx(&["eval", "x^2*y + sin(y)", "--at", "x=1/3,y=2"]));
snap!(
    cli_eval_json,
    dydx(&["eval", "x^2*y", "--at", "x=1/3,y=2", "--format", "json"])
);
snap!(cli_bad_point, dydx(&["diff", "x^2", "--at", "x=abc"]));
// Both sides agree to the last bit, but exp(28) = 1.4e12 is off by 1e-4 radians on
// both: the value is good to a few digits, and a note says how many are certain.
snap!(
    cli_diff_few_digits_certain,
    dydx(&["diff", "sin(exp(x))", "--at", "x=28"])
);
// A coordinate f64 holds exactly leaves the sine of 1e15 good to the last place.
snap!(cli_diff_exact_large_point, dydx(&["diff", "cos(x)", "--at", "x=1e15"]));
// The sine of 28^210, whose argument is off by far more than 2*pi: no digit is certain.
snap!(cli_eval_no_digit_certain, dydx(&["eval", "sin(x^210)", "--at", "x=28"]));
snap!(
    cli_grad_few_digits_certain,
    dydx(&["grad", "y*sin(exp(x))", "--at", "x=28,y=2"])
);
snap!(
    cli_hessian_few_digits_certain,
    dydx(&["hessian", "y*sin(exp(x))", "--at", "x=28,y=2"])
);
// The matrix shows "undefined"; a note says why, once per reason: outside the domain,
// an overflow, and a check f64 cannot make (the root of a cancellation to 0).
snap!(
    cli_jacobian_says_why_entries_are_undefined,
    dydx(&["jacobian", "ln(x*y); x*y", "--at", "x=-1,y=1"])
);
snap!(
    cli_hessian_says_why_entries_are_undefined,
    dydx(&["hessian", "x^3*y + exp(x*y)", "--at", "x=800,y=1"])
);
snap!(
    cli_jacobian_says_why_entries_are_undefined_json,
    dydx(&["jacobian", "ln(x*y); x*y", "--at", "x=-1,y=1", "--format", "json"])
);
snap!(
    cli_hessian_says_why_entries_are_not_checked,
    dydx(&[
        "hessian",
        "x*y + sqrt(cosh(x)^2 - sinh(x)^2 - 1)",
        "--at",
        "x=10,y=2",
        "--simplify",
        "none"
    ])
);
snap!(
    cli_check_proved,
    dydx(&["check", "sin(2*x)", "--claim", "2*(cos(x)^2 - sin(x)^2)"])
);
snap!(
    cli_check_refuted_json,
    dydx(&["check", "x^2*sin(x)", "--claim", "2*x*cos(x)", "--format", "json"])
);
snap!(
    cli_check_numeric_in_a_box,
    dydx(&["check", "abs(x)", "--claim", "1", "--domain", "x=0.1..4"])
);
snap!(cli_check_unknown, dydx(&["check", "sqrt(-x^2 - 1)", "--claim", "0"]));
// Agrees to 5e-14 at every point, inside rtol; the residual says it differs.
snap!(
    cli_check_refuted_inside_the_tolerance,
    dydx(&["check", "x^2", "--claim", "2*x + 1e-13*sin(x)"])
);

#[test]
fn cli_batch_mixed_lines() {
    let input = [
        r#"{"expr": "5*x**4 + 3*x**3 + 7*x**2 + 9*x - 5", "at": {"x": "2"}}"#,
        r#"{"expr": "x^2*y", "wrt": ["x", "y"], "at": {"x": "1", "y": "2"}}"#,
        "not json",
        r#"{"expr": "sin(x"}"#,
        r#"{"expr": "ln(x)", "at": {"x": "0"}}"#,
        "",
        r#"{"expr": "x^3", "order": 2, "at": {"x": 3}}"#,
        r#"{"expr": "x^2*sin(x)", "claim": "x*(2*sin(x) + x*cos(x))"}"#,
        r#"{"expr": "abs(x)", "claim": "-1", "domain": {"x": ["-4", "-0.1"]}}"#,
    ]
    .join("\n");
    settings().bind(|| assert_cmd_snapshot!("cli_batch_mixed_lines", dydx(&["batch"]).pass_stdin(input)));
}

#[test]
fn batch_gives_one_line_per_line_and_is_deterministic() {
    let lines: Vec<String> = (0..50)
        .map(|k| format!(r#"{{"expr": "x^{k} + sin({k}*x)", "at": {{"x": "0.5"}}}}"#))
        .collect();
    let run = |input: String| batch(&input);
    let first = run(lines.join("\n"));
    assert_eq!(first.lines().count(), 50);
    assert_eq!(first, run(lines.join("\n")), "same input, same bytes");
    // Reversing the batch reverses the lines; each result is the same apart from its line number.
    let reversed: Vec<String> = lines.iter().rev().cloned().collect();
    let second = run(reversed.join("\n"));
    let strip = |l: &str| l.split_once(',').map(|(_, rest)| rest.to_string()).unwrap();
    let a: Vec<String> = first.lines().map(strip).collect();
    let mut b: Vec<String> = second.lines().map(strip).collect();
    b.reverse();
    assert_eq!(a, b);
}

#[test]
fn a_ten_megabyte_input_from_a_file() {
    let path = std::env::temp_dir().join(format!("dydx-big-{}.txt", std::process::id()));
    let terms: Vec<String> = (0..1_000_000).map(|k| format!("{}*x", k % 97 + 1)).collect();
    let text = terms.join(" + ");
    assert!(text.len() > 6_000_000);
    std::fs::write(&path, format!("{text} + {}", "y + ".repeat(1_000_000) + "1")).unwrap();
    let out = dydx(&["diff", &format!("@{}", path.display()), "--wrt", "x", "--at", "x=1,y=2"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected: u64 = (0..1_000_000u64).map(|k| k % 97 + 1).sum();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("  = {expected}\n")));
}

/// A batch read from a file is answered on several threads; its bytes and exit code are
/// those of one thread, and of the same lines on stdin: every kind of line (answers,
/// claims, errors, a line that is not UTF-8, a nesting past the limit) in any place.
#[test]
fn a_file_batch_on_threads_matches_one_thread_and_stdin() {
    let deep = format!("{}x{}", "sin(".repeat(12_000), ")".repeat(12_000));
    let kinds = [
        r#"{"expr": "5*x**4 + 3*x**3 + 7*x**2 + 9*x - 5", "at": {"x": "2"}}"#.to_string(),
        r#"{"expr": "x^2*y", "wrt": ["x", "y"], "at": {"x": "1", "y": "2"}}"#.to_string(),
        "not json".to_string(),
        r#"{"expr": "sin(x"}"#.to_string(),
        r#"{"expr": "x^2*sin(x)", "claim": "x*(2*sin(x) + x*cos(x))"}"#.to_string(),
        r#"{"expr": "x^2", "claim": "2*x + 1"}"#.to_string(),
        r#"{"expr": "sin(sin(sin(sin(x))))", "order": 4, "simplify": "fast"}"#.to_string(),
        format!(r#"{{"expr": "{deep}"}}"#),
        String::new(),
    ];
    let mut bytes: Vec<u8> = Vec::new();
    for k in 0..120 {
        bytes.extend_from_slice(kinds[k % kinds.len()].as_bytes());
        if k % 37 == 5 {
            bytes.extend_from_slice(b" \xff");
        }
        bytes.push(b'\n');
    }
    let path = std::env::temp_dir().join(format!("dydx-batch-jobs-{}.jsonl", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let file = path.display().to_string();
    let on = |jobs: &str| dydx(&["batch", &file, "--jobs", jobs]).output().unwrap();
    let one = on("1");
    let three = on("3");
    let default = dydx(&["batch", &file]).output().unwrap();
    let stdin = {
        use std::io::Write;
        let mut child = dydx(&["batch"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Written from another thread: the answers come back while lines still go in.
        let mut input = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || input.write_all(&bytes));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        out
    };
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8(one.stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 120);
    assert!(
        text.contains(r#""verdict":"not_equivalent""#) && text.contains(r#""derivative":"20*x^3 + 9*x^2 + 14*x + 9""#)
    );
    assert!(
        text.contains("nest") || text.contains("deep"),
        "the deep line is refused: {text}"
    );
    assert_eq!(one.status.code(), Some(2));
    for other in [&three, &default, &stdin] {
        assert_eq!(other.stdout, one.stdout);
        assert_eq!(other.status.code(), one.status.code());
        assert!(other.stderr.is_empty(), "{}", String::from_utf8_lossy(&other.stderr));
    }
}

/// Output bytes do not depend on the order in which names first appear, in the input
/// or earlier in a batch.
#[test]
fn output_does_not_depend_on_first_appearance() {
    use std::io::Write;
    let run = |input: &str| {
        let mut child = dydx(&["batch"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    let derivative = |out: &str, line: usize| -> String {
        let v: serde_json::Value = serde_json::from_str(out.lines().nth(line).unwrap()).unwrap();
        v["derivative"].as_str().unwrap().to_string()
    };
    let a = run(r#"{"expr": "y*x + sin(y)*x^2 + zeta*exp(x)", "wrt": "x"}"#);
    let b = run(
        "{\"expr\": \"zeta + w + y\", \"wrt\": \"y\"}\n{\"expr\": \"exp(x)*zeta + x^2*sin(y) + x*y\", \"wrt\": \"x\"}",
    );
    assert_eq!(derivative(&a, 0), derivative(&b, 1));
    assert_eq!(derivative(&a, 0), "2*x*sin(y) + zeta*exp(x) + y");
}

#[test]
fn plot_draws_the_three_series_and_the_point() {
    let dir = std::env::temp_dir().join(format!("dydx-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg_path = dir.join("seed.svg");
    let out = dydx(&["plot", SEED, "--at", "x=2", "-o", svg_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("(slope 233)"));
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    let texts: Vec<&str> = svg
        .split("<text")
        .skip(1)
        .filter_map(|t| t.split_once('>'))
        .map(|(_, rest)| rest.split("</text>").next().unwrap_or("").trim())
        .collect();
    for series in ["f(x)", "f&apos;(x)", "tangent at x = 2"] {
        assert!(texts.contains(&series), "legend entry {series} in {texts:?}");
    }
    assert!(
        svg.contains("#0000FF") && svg.contains("#FF0000") && svg.contains("#000000"),
        "three colours"
    );
    assert!(svg.contains("<circle"), "the point is marked");
    assert!(texts.contains(&"slope 233"), "with its slope");
    // A pole is never bridged: 1/x across 0 is two separate curves.
    let recip = dir.join("recip.svg");
    let out = dydx(&[
        "plot",
        "1/x",
        "--at",
        "x=1",
        "--range=-3..3",
        "-o",
        recip.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let svg = std::fs::read_to_string(&recip).unwrap();
    let blue_paths = svg.matches("stroke=\"#0000FF\"").count();
    assert!(
        blue_paths >= 3,
        "f is drawn in separate pieces (plus its legend sample), found {blue_paths}"
    );
    // The curve is the input as written: exp(ln(x)) reads as x, but is drawn only for
    // x > 0, and has no tangent at x = -1.
    let written = dir.join("written.svg");
    let plot = |at: &str| {
        dydx(&[
            "plot",
            "exp(ln(x))",
            "--at",
            at,
            "--range=-3..3",
            "-o",
            written.to_str().unwrap(),
        ])
        .output()
        .unwrap()
    };
    let out = plot("x=1");
    assert_eq!(out.status.code(), Some(0));
    let svg = std::fs::read_to_string(&written).unwrap();
    let line = plot("x=-1");
    assert_eq!(line.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&line.stderr).contains("f is undefined at the point"));
    // Half the range: f's curve (blue) spans x > 0 only, f' (red) the whole range.
    let widths = |colour: &str| {
        svg.split("<polyline")
            .filter(|p| p.contains(colour))
            .map(|p| p.len())
            .max()
            .unwrap_or(0)
    };
    assert!(widths("#0000FF") < widths("#FF0000"), "f drawn over half the range");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plot_snapshot() {
    let dir = std::env::temp_dir().join(format!("dydx-plot-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("square.svg");
    let out = dydx(&[
        "plot",
        "x^2",
        "--at",
        "x=1",
        "--range",
        "0..2",
        "-o",
        path.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let svg = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    settings().bind(|| insta::assert_snapshot!("plot_square_svg", svg));
}

#[test]
fn exit_codes() {
    let code = |args: &[&str]| dydx(args).output().unwrap().status.code();
    assert_eq!(code(&["diff", SEED, "--at", "x=2"]), Some(0));
    assert_eq!(
        code(&[
            "diff",
            "sin(x)^2*exp(x)/x",
            "--at",
            "x=1.7",
            "--rtol",
            "0",
            "--atol",
            "0",
            "--strict"
        ]),
        Some(1)
    );
    assert_eq!(code(&["diff", "x +"]), Some(2));
    assert_eq!(code(&["diff", "x", "--order", "0"]), Some(2));
    assert_eq!(code(&["frobnicate"]), Some(2));
    assert_eq!(code(&["eval", "x"]), Some(2));
    assert_eq!(code(&["check", "x^2", "--claim", "2*x"]), Some(0));
    assert_eq!(code(&["check", "x^2", "--claim", "2*x + 1"]), Some(1));
    assert_eq!(code(&["check", "sqrt(-x^2 - 1)", "--claim", "0"]), Some(1));
    assert_eq!(code(&["check", "x^2", "--claim", "2*x +"]), Some(2));
    assert_eq!(code(&["check", "x^2", "--claim", "2*x", "--domain", "x=3..1"]), Some(2));
}

#[test]
fn deep_input_gives_an_error_not_a_crash() {
    use std::io::Write;
    let deep = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
    let mut child = dydx(&["diff", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(deep.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("nesting is deeper than the limit"), "{err}");
    assert!(err.len() < 2000, "the error shows an excerpt, not the whole input");
}

#[test]
fn a_reader_that_goes_away_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    // Some 200 KB of output, more than a pipe holds: the write fails with a broken
    // pipe once the reader has gone, as with `dydx diff … | head`.
    let poly: Vec<String> = (1..=6000).map(|k| format!("{k}*x^{k}")).collect();
    let mut child = dydx(&["diff", &poly.join(" + "), "--simplify", "none"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dydx starts");
    let mut first = [0u8; 16];
    let mut stdout = child.stdout.take().expect("piped stdout");
    stdout.read_exact(&mut first).expect("the output begins");
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    let status = child.wait().expect("dydx exits");
    assert!(!stderr.contains("internal error"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}

#[test]
fn long_exact_values_print_as_decimals_in_text_and_in_full_in_json() {
    let text = dydx(&["eval", "x^1296", "--at", "x=1.45"]).output().expect("dydx runs");
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(
        text.contains("at x = 1.45: 1.3580973335288763e209 (the exact value, 3584 characters long"),
        "{text}"
    );
    let json = dydx(&["eval", "x^1296", "--at", "x=1.45", "--format", "json"])
        .output()
        .expect("dydx runs");
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(json["exact"].as_str().map(str::len), Some(3584), "{json}");
}

snap!(
    cli_decimal_input_prints_decimals,
    dydx(&["diff", "0.3*x^2 + sin(2.5*x)", "--at", "x=2"])
);

#[test]
fn numbers_print_as_the_input_writes_them_unless_told() {
    let derivative = |args: &[&str]| {
        let out = dydx(args).arg("--format").arg("json").output().expect("dydx runs");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        json["derivative"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(derivative(&["diff", "0.25*x^2 + x/3"]), "0.5*x + 1/3");
    assert_eq!(derivative(&["diff", "x^2/4 + x/3"]), "x/2 + 1/3");
    assert_eq!(derivative(&["diff", "x^2/4", "--numbers", "decimals"]), "0.5*x");
    assert_eq!(derivative(&["diff", "0.25*x^2", "--numbers", "fractions"]), "x/2");
    let grad = dydx(&["grad", "0.5*x^2*y", "--format", "json"])
        .output()
        .expect("dydx runs");
    let grad: serde_json::Value = serde_json::from_slice(&grad.stdout).expect("json");
    assert_eq!(grad["gradient"]["x"], "x*y");
    assert_eq!(grad["gradient"]["y"], "0.5*x^2");
    // A proof's lines are spelled the same way.
    let check = dydx(&["check", "0.5*sin(x)^2", "--claim", "0.5*sin(2*x)", "--format", "json"])
        .output()
        .expect("dydx runs");
    let check: serde_json::Value = serde_json::from_slice(&check.stdout).expect("json");
    assert_eq!(check["verdict"], "equivalent");
    assert_eq!(check["method"], "proof");
    let proof = check["proof"].as_array().expect("proof steps");
    assert_eq!(
        proof.last().map(|s| &s["term"]),
        Some(&serde_json::json!("0.5*sin(2*x)"))
    );
    // Batch lines choose for themselves, and may say.
    let input = [
        r#"{"expr": "1.5*x^2"}"#,
        r#"{"expr": "3*x^2/2"}"#,
        r#"{"expr": "3*x^2/2", "numbers": "decimals"}"#,
        r#"{"expr": "1.5*x^2", "claim": "3*x"}"#,
        r#"{"expr": "x", "numbers": "roman"}"#,
    ]
    .join("\n");
    let lines: Vec<serde_json::Value> = batch(&input)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines[0]["derivative"], "3*x");
    assert_eq!(lines[1]["expr"], "3*x^2/2");
    assert_eq!(lines[2]["expr"], "1.5*x^2");
    assert_eq!(lines[3]["expr"], "1.5*x^2");
    assert_eq!(lines[3]["verdict"], "equivalent");
    assert_eq!(lines[4]["error"]["kind"], "bad-request");
}

/// The JSON tree writes shared subexpressions out each time: past its bound it is left
/// out, and the output says so, rather than growing to gigabytes (a 9,000-deep chain
/// took 21 GB).
#[test]
fn cli_json_ast_is_bounded() {
    let deep = (0..1500).fold("x".to_string(), |e, _| format!("sin({e})"));
    let out = dydx(&["diff", &deep, "--simplify", "none", "--format", "json"])
        .output()
        .expect("dydx runs");
    assert!(out.status.success());
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(j["ast"].is_null());
    let nodes = j["ast_limit"]["nodes"].as_u64().expect("nodes");
    assert!(nodes > 1_000_000, "{nodes}");
    assert_eq!(j["ast_limit"]["limit"], 1_000_000);
    // A small derivative keeps its tree.
    let out = dydx(&["diff", "sin(x)", "--format", "json"])
        .output()
        .expect("dydx runs");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(j["ast"]["op"], "cos");
    assert!(j.get("ast_limit").is_none());
}
