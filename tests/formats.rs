//! The output formats on the whole reference corpus: LaTeX renders with KaTeX, and the
//! generated Python, C and Rust run and give the same values as dydx's own evaluation.
//! Each tool is used when the machine has it; when it does not, the test says so loudly
//! on stderr (`.ci/run` installs KaTeX and NumPy, so CI always runs them).

use dydx::eval::{eval_f64, parse_number, Point};
use dydx::print::Numbers;
use dydx::simplify::{simplify_at, Budget, Level};
use dydx::{diff, format, parse, Expr};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

struct Case {
    id: String,
    derivative: Expr,
    params: Vec<String>,
    at: Point,
    value: f64,
}

fn corpus() -> Vec<Case> {
    let path = format!("{}/tests/corpus/diff_cases.jsonl", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let budget = Budget::default();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let f = parse(v["expr"].as_str().unwrap()).unwrap();
            let wrt = v["wrt"].as_str().unwrap();
            let mut d = f.clone();
            for _ in 0..v["order"].as_u64().unwrap() {
                d = simplify_at(&diff(&d, wrt), Level::Full, &budget).0;
            }
            let at: Point = v["at"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, x)| (k.clone(), parse_number(x.as_str().unwrap()).unwrap()))
                .collect();
            let value = eval_f64(&d, &at).unwrap();
            let params: Vec<String> = at.keys().cloned().collect();
            Case {
                id: v["id"].as_str().unwrap().to_string(),
                derivative: d,
                params,
                at,
                value,
            }
        })
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool).arg(arg).output().is_ok_and(|o| o.status.success())
}

fn loud_skip(what: &str) {
    eprintln!("\n!!!!!!!!\n!!! NOT TESTED: {what}\n!!!!!!!!\n");
}

/// Both spellings of numbers: each generated program holds every case's function
/// twice, `f{k}` with fractions and `g{k}` with decimals (`0.6*x`, `1.3348e-10`).
const SPELLINGS: [(&str, Numbers); 2] = [("f", Numbers::Fractions), ("g", Numbers::Decimals)];

/// Compares printed values (one per line, in case order, for each of [`SPELLINGS`] in
/// turn) with dydx's.
fn compare(cases: &[Case], output: &str, language: &str) {
    let values: Vec<f64> = output.lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(
        values.len(),
        SPELLINGS.len() * cases.len(),
        "{language}: one value per case and spelling"
    );
    for (case, got) in cases.iter().cycle().zip(values) {
        let want = case.value;
        assert!(
            (got - want).abs() <= 1e-9 * (got.abs() + want.abs()) / 2.0 + 1e-12,
            "{language}, {}: {got} but dydx says {want}",
            case.id
        );
    }
}

fn args_in_order(case: &Case, lang: &str) -> String {
    case.params
        .iter()
        .map(|p| {
            let v = num_traits::ToPrimitive::to_f64(&case.at[p]).unwrap();
            match lang {
                "rust" => format!("{v:?}_f64"),
                _ => format!("{v:?}"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn latex_renders_with_katex() {
    let cases = corpus();
    if !have("node", "--version") || !have("npm", "--version") {
        loud_skip("LaTeX rendering: node and npm are not installed");
        return;
    }
    let dir = scratch("katex");
    if !dir.join("node_modules/katex").exists() {
        let status = Command::new("npm")
            .args(["install", "--no-save", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg("katex@0.16")
            .status()
            .unwrap();
        assert!(status.success(), "npm install katex failed");
    }
    let mut formulas: Vec<String> = cases
        .iter()
        .flat_map(|c| SPELLINGS.map(|(_, numbers)| format::latex_with(&c.derivative, numbers)))
        .collect();
    // The command line's LaTeX: a derivative with its operator, steps, a matrix, a value,
    // a gradient and a check.
    let bin = env!("CARGO_BIN_EXE_dydx");
    for args in [
        vec!["diff", "x^2*sin(x)/(1 + x^2)", "--format", "latex"],
        vec!["diff", "x^3*y^2", "--wrt", "x", "--wrt", "y", "--format", "latex"],
        vec!["diff", "sin(x)/(x^2 + 1)", "--steps", "--format", "latex"],
        vec!["hessian", "x^2*y + sin(x*y)", "--format", "latex"],
        vec!["jacobian", "x*y; x^2 + z", "--format", "latex"],
        vec!["grad", "x*y + y^2*z", "--format", "latex"],
        vec!["eval", "x^2*y", "--at", "x=1/3,y=2", "--format", "latex"],
        vec!["check", "sin(x)^2", "--claim", "sin(2*x)", "--format", "latex"],
        vec![
            "diff",
            "6.674e-11*m/x^2 + 2.5e20*x^3",
            "--wrt",
            "x",
            "--format",
            "latex",
        ],
        vec!["diff", "1e-30*x^2 + 0.5/(x + 1) - 1e400", "--format", "latex"],
    ] {
        let out = Command::new(bin).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        formulas.push(String::from_utf8(out.stdout).unwrap());
    }
    std::fs::write(dir.join("formulas.json"), serde_json::to_string(&formulas).unwrap()).unwrap();
    let script = r#"
const katex = require('katex');
const formulas = require('./formulas.json');
let bad = 0;
formulas.forEach((f, i) => {
  try { katex.renderToString(f, { throwOnError: true, displayMode: true }); }
  catch (e) { bad++; console.log(i + ': ' + e.message + ' in ' + f); }
});
process.exit(bad ? 1 : 0);
"#;
    std::fs::write(dir.join("render.js"), script).unwrap();
    let out = Command::new("node")
        .arg("render.js")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "KaTeX could not render:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn python_runs_and_agrees() {
    let cases = corpus();
    if !have("python3", "--version") {
        loud_skip("Python output: python3 is not installed");
        return;
    }
    let numpy = Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !numpy {
        loud_skip("Python output: NumPy is not installed (pip install numpy)");
        return;
    }
    let mut program = String::new();
    for (name, numbers) in SPELLINGS {
        for (k, c) in cases.iter().enumerate() {
            let f = format::python_function(&c.derivative, &format!("{name}{k}"), &c.params, numbers);
            program.push_str(&f.replace("import numpy as np\n", ""));
            program.push_str(&format!(
                "print(repr(float({name}{k}({}))))\n",
                args_in_order(c, "python")
            ));
        }
    }
    let dir = scratch("python");
    std::fs::write(dir.join("check.py"), format!("import numpy as np\n{program}")).unwrap();
    let out = Command::new("python3").arg(dir.join("check.py")).output().unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    compare(&cases, &String::from_utf8_lossy(&out.stdout), "python");
}

/// Compiles a C program with gcc and returns what it prints.
fn run_c(program: &str, name: &str) -> String {
    let dir = scratch(name);
    std::fs::write(dir.join("check.c"), program).unwrap();
    let out = Command::new("gcc")
        .args(["-std=gnu11", "-O1", "-Wall", "-Werror", "-o"])
        .arg(dir.join("check"))
        .arg(dir.join("check.c"))
        .arg("-lm")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gcc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(dir.join("check")).output().unwrap();
    String::from_utf8_lossy(&run.stdout).into_owned()
}

/// A C `main` printing each case's functions at its point, in [`SPELLINGS`] order.
fn c_main(cases: &[Case]) -> String {
    let mut main = String::from("int main(void) {\n");
    for (name, _) in SPELLINGS {
        for (k, c) in cases.iter().enumerate() {
            main.push_str(&format!(
                "    printf(\"%.17g\\n\", {name}{k}({}));\n",
                args_in_order(c, "c")
            ));
        }
    }
    main.push_str("    return 0;\n}\n");
    main
}

#[test]
fn c_compiles_and_agrees() {
    let cases = corpus();
    if !have("gcc", "--version") {
        loud_skip("C output: gcc is not installed");
        return;
    }
    let mut program = String::from("#include <math.h>\n#include <stdio.h>\n");
    for (name, numbers) in SPELLINGS {
        for (k, c) in cases.iter().enumerate() {
            program.push_str(
                &format::c_function(&c.derivative, &format!("{name}{k}"), &c.params, numbers)
                    .replace("#include <math.h>\n", ""),
            );
        }
    }
    program.push_str(&c_main(&cases));
    let output = run_c(&program, "c");
    compare(&cases, &output, "c");
}

#[test]
fn rust_compiles_and_agrees() {
    let cases = corpus();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if !have(&rustc, "--version") {
        loud_skip("Rust output: rustc is not installed");
        return;
    }
    let mut program = String::new();
    for (name, numbers) in SPELLINGS {
        for (k, c) in cases.iter().enumerate() {
            program.push_str(&format::rust_function(
                &c.derivative,
                &format!("{name}{k}"),
                &c.params,
                numbers,
            ));
        }
    }
    program.push_str("fn main() {\n");
    for (name, _) in SPELLINGS {
        for (k, c) in cases.iter().enumerate() {
            program.push_str(&format!(
                "    println!(\"{{:?}}\", {name}{k}({}));\n",
                args_in_order(c, "rust")
            ));
        }
    }
    program.push_str("}\n");
    let dir = scratch("rust");
    std::fs::write(dir.join("check.rs"), program).unwrap();
    let out = Command::new(&rustc)
        .args(["--edition", "2021", "-O", "-D", "warnings", "-o"])
        .arg(dir.join("check"))
        .arg(dir.join("check.rs"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rustc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(dir.join("check")).output().unwrap();
    compare(&cases, &String::from_utf8_lossy(&run.stdout), "rust");
}

#[test]
fn sexpr_round_trips_on_the_corpus() {
    for c in corpus() {
        assert_eq!(
            format::from_sexpr(&format::sexpr(&c.derivative)).unwrap(),
            c.derivative,
            "{}",
            c.id
        );
    }
}

#[test]
fn cse_code_compiles_and_agrees() {
    let cases = corpus();
    if !have("gcc", "--version") {
        loud_skip("C output with --cse: gcc is not installed");
        return;
    }
    let mut program = String::from("#include <math.h>\n#include <stdio.h>\n");
    for (name, numbers) in SPELLINGS {
        for (k, c) in cases.iter().enumerate() {
            let f = format::function_with_cse(
                &c.derivative,
                &format!("{name}{k}"),
                &c.params,
                format::Language::C,
                numbers,
            );
            program.push_str(&f.replace("#include <math.h>\n", ""));
        }
    }
    program.push_str(&c_main(&cases));
    let output = run_c(&program, "cse");
    compare(&cases, &output, "c with cse");
}

#[test]
fn cse_shares_symmetric_entries() {
    let f = parse("exp(x*y)*sin(x*y)").unwrap();
    let dxy = diff(&diff(&f, "x"), "y");
    let dyx = diff(&diff(&f, "y"), "x");
    let c = format::cse(&[&dxy, &dyx]);
    assert_eq!(c.outputs[0], c.outputs[1], "the two mixed partials are one temporary");
    assert!(!c.temporaries.is_empty());
}
