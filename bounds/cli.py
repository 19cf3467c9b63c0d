"""``mono bounds``: the plan's exact counts and error terms for a list of ε, as a table.

Also exports the problem options shared with ``mono eval`` and ``mono verify``:
:func:`add_problem_arguments` and :func:`problem_from_args`.  Every value is parsed
with :func:`mono.bounds.expr.parse_number` (so ``--s 3/2`` works; nothing is passed to
``eval``) and every bad value raises :class:`InputError` naming the option.
"""

from __future__ import annotations

import argparse
import dataclasses
from contextlib import contextmanager

import mpmath

from mono.bounds.expr import parse_number
from mono.bounds.modulus import Modulus
from mono.bounds.plan import Problem, to_mpf
from mono.bounds.space import SobolevBox
from mono.bounds.targets import TARGET_NAMES, target_parameters, target_spec
from mono.errors import InputError, require

__all__ = ["configure", "run", "add_problem_arguments", "problem_from_args", "FORMATS", "DEFAULT_EPS"]

FORMATS = ("markdown", "latex", "csv", "json")
DEFAULT_EPS = ("0.2", "0.1", "0.05", "0.025")


def add_problem_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that define a problem and its accuracies (shared by every command)."""
    g = parser.add_argument_group("problem")
    g.add_argument("--target", default="sin", metavar="NAME",
                   help=f"target operator or functional: {', '.join(TARGET_NAMES)} (default sin)")
    g.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="target parameter, repeatable (e.g. --param T=0.05 for heat)")
    g.add_argument("--d", default="1", help="dimension of the domain [0,1]^d (default 1)")
    g.add_argument("--s", default="2", help="Sobolev smoothness of the box K(s, r), s > d/2 (default 2)")
    g.add_argument("--r", default="1", help="radius of the box K(s, r), r > 0 (default 1)")
    g.add_argument("--eps", nargs="+", default=list(DEFAULT_EPS), metavar="EPS",
                   help=f"target accuracies, each > 0 (default {' '.join(DEFAULT_EPS)})")
    g.add_argument("--split", default="1/3,1/3,1/3", metavar="A,B,C",
                   help="error split θ_in,θ_out,θ_int: each > 0, summing to 1 (default thirds)")
    g.add_argument("--granularity", default=None, metavar="B",
                   help="block experts of B cells per axis (default: one expert per simplex)")
    g.add_argument("--modulus", default=None, metavar="EXPR",
                   help="override the target's modulus of continuity ω(t), an expression in t "
                        "(e.g. 0.1*t); a claimed modulus, used to show that an understated one is caught")


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``mono bounds``."""
    add_problem_arguments(parser)
    parser.add_argument("--format", default="markdown", metavar="FORMAT",
                        help=f"output format: {', '.join(FORMATS)} (default markdown)")


@contextmanager
def as_option(names: dict[str, str], default: str | None = None):
    """Re-raise an InputError of a library parameter under the user's option name."""
    try:
        yield
    except InputError as exc:
        option = names.get(exc.parameter, default)
        if option is None or option == exc.parameter:
            raise
        detail = exc.detail if exc.parameter in option else f"{exc.detail} ({exc.parameter})"
        raise InputError(option, detail) from None


def _number(text, option: str):
    with as_option({}, option):
        value = parse_number(text, option)
    return value


def _real(text, option: str):
    value = to_mpf(_number(text, option), option)
    require(bool(mpmath.isfinite(value)), option, f"must be a finite number, got {text!r}")
    return value


def _integer(text, option: str, minimum: int) -> int:
    value = _real(text, option)
    require(value == int(value) and value >= minimum, option,
            f"must be an integer >= {minimum}, got {text!r}")
    return int(value)


def _params(items) -> dict[str, str]:
    params = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        key = key.strip()
        require(sep == "=" and key != "" and value.strip() != "", "--param",
                f"must be KEY=VALUE, got {item!r}")
        require(key not in params, "--param", f"{key} given twice")
        params[key] = value.strip()
    return params


def _split(text) -> tuple:
    parts = [p for p in str(text).split(",")]
    require(len(parts) == 3 and all(p.strip() for p in parts), "--split",
            f"must be three numbers θ_in,θ_out,θ_int separated by commas, got {text!r}")
    return tuple(_real(p.strip(), "--split") for p in parts)


def problem_from_args(args: argparse.Namespace) -> tuple[Problem, list, int | None]:
    """The problem, the list of ε (mpf) and the granularity (None or int) from the options.

    Raises
    ------
    InputError
        Naming the offending option (``--eps``, ``--s``, ``--param``, ...).
    """
    name = str(args.target)
    require(name in TARGET_NAMES, "--target", f"unknown target {name!r}; choose one of {', '.join(TARGET_NAMES)}")
    params = _params(args.param)
    known = target_parameters(name)
    for key in params:
        require(key in known, "--param",
                f"unknown parameter {key!r} of the {name} target; accepted: {', '.join(known) or 'none'}")
    d = _integer(args.d, "--d", 1)
    s = _real(args.s, "--s")
    r = _real(args.r, "--r")
    require(s > mpmath.mpf(d) / 2, "--s", f"must be > d/2 = {d / 2:g} (K must be compact in L²), got {args.s}")
    require(r > 0, "--r", f"must be > 0, got {args.r}")
    box_options = {"d": "--d", "s": "--s", "r": "--r"}
    with as_option(box_options):
        box = SobolevBox(d, _number(args.s, "--s"), _number(args.r, "--r"))
    with as_option({**box_options, **{k: "--param" for k in known}, "target": "--target"}, "--param"):
        spec = target_spec(name, box, **{k: _number(v, f"--param {k}") for k, v in params.items()})
    claimed = getattr(args, "modulus", None)
    if claimed is not None:
        with as_option({}, "--modulus"):
            omega = Modulus.parse(str(claimed))
        spec = dataclasses.replace(spec, modulus=omega,
                                   description=f"{spec.description} [claimed ω(t) = {omega.expr}]")
    with as_option({"split": "--split"}):
        problem = Problem(spec, _split(args.split))

    eps_list = []
    for text in args.eps:
        value = _real(text, "--eps") if str(text).strip().lower() not in ("nan", "inf", "oo") else None
        require(value is not None and value > 0, "--eps", f"every eps must be a finite number > 0, got {text!r}")
        eps_list.append(value)
    granularity = None if args.granularity is None else _integer(args.granularity, "--granularity", 1)
    return problem, eps_list, granularity


def run(args: argparse.Namespace) -> int:
    """Print the bound table for the chosen problem; 0 on success."""
    from mono.bounds import rates as rates_module
    from mono.bounds import tables

    fmt = str(args.format).lower()
    require(fmt in FORMATS, "--format", f"must be one of {', '.join(FORMATS)}, got {args.format!r}")
    problem, eps_list, granularity = problem_from_args(args)
    with as_option({"eps": "--eps", "granularity": "--granularity"}):
        rows = tables.bound_table(problem, eps_list, granularity)
    if fmt == "json":
        print(tables.to_json(rows), end="")
    elif fmt == "csv":
        print(tables.to_csv(rows), end="")
    elif fmt == "latex":
        try:
            rates = rates_module.rates(problem)
        except InputError:  # a modulus without a power law has no rate row
            rates = None
        print(tables.to_latex(rows, rates=rates, caption=_title(problem, granularity)), end="")
    else:
        print(f"**{_title(problem, granularity)}**\n")
        print(tables.to_markdown(rows), end="")
    return 0


def _title(problem: Problem, granularity) -> str:
    box = problem.box
    split = ", ".join(mpmath.nstr(x, 4) for x in problem.split)
    experts = "simplex experts" if granularity is None else f"block experts of {granularity} cells per axis"
    return (f"{problem.target.description} on K(s={box.s}, r={box.r}), d={box.d}; "
            f"split θ = ({split}); {experts}")
