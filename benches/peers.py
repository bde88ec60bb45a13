#!/usr/bin/env python3
"""Times dydx and SymEngine on the issue's speed workloads in one run, and prints ratios.

The peer figures in the issues were measured on another machine; a ratio measured
here, in one run, is what can be compared. SymEngine is timed through its Python
module (`pip install symengine`), whose call overhead counts against SymEngine; its
diff is called on already-parsed expressions, as dydx's is (parsing is not timed).
dydx is timed by `cargo run --release --example speed`, best of many runs each.

    python3 benches/peers.py [RUNS]

Not a test and not a dependency of the library: a measuring script.
"""
import os
import re
import subprocess
import sys
import time

import symengine as se

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
X = se.Symbol("x")


def workload(name):
    with open(os.path.join(ROOT, "tests", "bench", name)) as f:
        lines = [l.strip() for l in f if l.strip()]
    return [se.sympify(l.replace("^", "**").replace("ln(", "log(")) for l in lines]


def best_ms(runs, work):
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def diff_all(exprs):
    for e in exprs:
        e.diff(X)


def tenth(e):
    for _ in range(10):
        e = e.diff(X)
    return e


def op_count(text):
    """The issue's size measure, by pattern: each `+ - * / ^` (`**` once, a unary
    minus included) and each function call counts one."""
    text = text.replace("**", "^")
    return len(re.findall(r"[-+*/^]", re.sub(r"\de-", "", text))) + len(re.findall(r"[a-z]\w*\(", text))


def expand_figures():
    """SymEngine's diff followed by `expand`, the nearest it has to a normal form:
    time on rand1000 and the operations it prints, beside dydx's `fast` output on the
    same workload (the first 1000 lines of `examples/dump`), counted the same way."""
    rand = workload("rand1000.txt")
    ms = best_ms(max(RUNS // 4, 1), lambda: [se.expand(e.diff(X)) for e in rand])
    theirs = sum(op_count(str(se.expand(e.diff(X)))) for e in rand)
    dump = subprocess.run(
        ["cargo", "run", "--quiet", "--release", "--example", "dump"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "LEVEL": "fast"},
    ).stdout.splitlines()[: len(rand)]
    ours = sum(op_count(line) for line in dump)
    plain = sum(op_count(str(e.diff(X))) for e in rand)
    return ms, theirs, ours, plain


def symengine_times():
    rand = workload("rand1000.txt")
    times = {"rand1000-diff": best_ms(RUNS, lambda: diff_all(rand))}
    times["rand1000-diff+fast"] = times["rand1000-diff"]
    for name in ["nest40", "prod40", "poly2000"]:
        exprs = workload(name + ".txt")
        times[name + "-diff+fast"] = best_ms(RUNS * 10, lambda: diff_all(exprs))
    sin4 = workload("sin4.txt")[0]
    times["sin4-10th+fast"] = best_ms(RUNS, lambda: tenth(sin4))
    return times


def dydx_times():
    out = subprocess.run(
        ["cargo", "run", "--quiet", "--release", "--example", "speed", "--", str(RUNS)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {name: float(ms) for name, ms in (line.split() for line in out.splitlines())}


def main():
    # dydx first, so the build is not timed against SymEngine's runs.
    ours = dydx_times()
    theirs = symengine_times()
    print(f"SymEngine {se.__version__}, best of {RUNS} runs (x10 for the single-expression workloads)")
    print()
    print("| workload | dydx ms | SymEngine diff ms | dydx / SymEngine |")
    print("|---|---|---|---|")
    for name, ms in ours.items():
        if name in theirs:
            print(f"| {name} | {ms:.3f} | {theirs[name]:.3f} | {ms / theirs[name]:.2f} |")
        else:
            print(f"| {name} | {ms:.3f} | | |")
    ms, theirs, size, plain = expand_figures()
    print()
    print("rand1000, a normal form each (operations counted by pattern):")
    print(f"  SymEngine diff + expand: {ms:.3f} ms, {theirs} operations (diff alone {plain})")
    fast = ours["rand1000-diff+fast"]
    print(f"  dydx diff + fast:        {fast:.3f} ms, {size} operations")
    print(f"  time ratio {fast / ms:.2f}, size ratio {size / theirs:.3f}")


if __name__ == "__main__":
    main()
