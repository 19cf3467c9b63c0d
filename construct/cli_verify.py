"""``mono verify``: measure sup-error and sizes against the bounds over a sweep of ε; write a report.

With no options it verifies the built-in default problem: the pointwise sin target (a
nonlinear Lipschitz operator) in d = 1 on K(s = 2, r = 1), where the active expert's
width and rank are O(ε⁻¹), at ε = 0.2, 0.1, …, 0.00625 (six values, a factor of 32),
the baseline built where it fits the memory budget (the three largest ε).  About 10 s
on 2 cores.

Exit status: 0 when every bound holds, 1 when any is violated (each violation named on
stderr and in report.md), 2 for a user error (one line naming the option).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys

from mono.bounds.cli import add_problem_arguments, as_option, problem_from_args
from mono.bounds.expr import parse_number
from mono.construct.verify import DEFAULT_BASELINE_BUDGET, DEFAULT_BUDGET, DEFAULT_SEED, check_out, verify
from mono.errors import InputError, require

__all__ = ["configure", "run", "DEFAULT_EPS", "DEFAULT_OUT", "FORMATS"]

#: The default sweep (the shared problem options default to sin on K(2, 1), d = 1).
DEFAULT_EPS = ("0.2", "0.1", "0.05", "0.025", "0.0125", "0.00625")
DEFAULT_OUT = "mono-report"
FORMATS = ("text", "json")


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``mono verify``: the shared problem options and the verification's own."""
    add_problem_arguments(parser)
    for action in parser._actions:  # a longer default sweep than mono bounds
        if action.dest == "eps":
            action.default = list(DEFAULT_EPS)
            action.help = f"target accuracies, each > 0, distinct (default {' '.join(DEFAULT_EPS)})"
    g = parser.add_argument_group("verification")
    g.add_argument("--budget", default=str(DEFAULT_BUDGET), metavar="N",
                   help=f"adversarial effort, an integer >= 0: 32·(1+N) samples per family of inputs "
                        f"and N optimiser starts (default {DEFAULT_BUDGET}; 0 = sampling only)")
    g.add_argument("--seed", default=str(DEFAULT_SEED), metavar="N",
                   help=f"random seed, an integer >= 0 (default {DEFAULT_SEED}); the same seed gives "
                        "a byte-identical report.json")
    g.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                   help=f"report folder (default ./{DEFAULT_OUT}); finished points are kept in DIR/points "
                        "and a rerun with the same DIR resumes from them")
    g.add_argument("--format", default="text", metavar="FORMAT",
                   help="console output: text (summary table) or json (report.json on stdout)")
    g.add_argument("--workers", default="1", metavar="N",
                   help="parallel processes for the eps points (default 1 = in-process)")
    g.add_argument("--no-baseline", action="store_true",
                   help="do not build the single-NO baseline")
    g.add_argument("--baseline-budget", default=str(DEFAULT_BASELINE_BUDGET), metavar="BYTES",
                   help=f"memory budget of the baseline in bytes (default {DEFAULT_BASELINE_BUDGET} = "
                        f"{DEFAULT_BASELINE_BUDGET // 2 ** 20} MiB); larger baselines are not built")


def _integer(text, option: str, minimum: int) -> int:
    """An integer option given as text (safe parser: ``2**28`` works)."""
    try:
        value = parse_number(str(text), option)
    except InputError as exc:
        raise exc.renamed(option) from None
    require(bool(value.is_integer) and bool(value >= minimum), option,
            f"must be an integer >= {minimum}, got {text!r}")
    return int(value)


def run(args: argparse.Namespace) -> int:
    """Run the sweep, print the summary (or the JSON), write the report; exit status 0/1."""
    from mono.construct import report as report_module

    fmt = str(args.format).lower()
    require(fmt in FORMATS, "--format", f"must be one of {', '.join(FORMATS)}, got {args.format!r}")
    budget = _integer(args.budget, "--budget", 0)
    seed = _integer(args.seed, "--seed", 0)
    workers = _integer(args.workers, "--workers", 1)
    baseline_budget = _integer(args.baseline_budget, "--baseline-budget", 1)
    problem, eps_list, granularity = problem_from_args(args)
    out = check_out(args.out)

    progress = report_module.Progress(sys.stderr)
    executor = concurrent.futures.ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    names = {"eps": "--eps", "granularity": "--granularity", "budget": "--budget",
             "seed": "--seed", "baseline_budget": "--baseline-budget"}
    try:
        with as_option(names):
            result = verify(problem, eps_list, executor=executor, out=out, granularity=granularity,
                            budget=budget, seed=seed, baseline=not args.no_baseline,
                            baseline_budget=baseline_budget, progress=progress)
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    report, timings = result["report"], result["timings"]
    if fmt == "json":
        sys.stdout.write(report_module.json_text(report))
    else:
        sys.stdout.write(report_module.summary_table(report, timings))
        sys.stdout.write(f"report written to {os.path.join(out, 'report.md')} "
                         f"(and report.json, results.csv, {', '.join(report_module.PLOTS)})\n")
    sys.stdout.flush()
    if not report["passed"]:
        sys.stderr.write(report_module.violations_text(report))
        for p in report["points"]:
            if not p["passed"]:
                sys.stderr.write(f"mono verify: worst input at eps = {p['key']}: "
                                 f"{os.path.join(out, p['worst_input'])}\n")
        return 1
    return 0
