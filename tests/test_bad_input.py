"""Every user mistake gets one clear line and exit status 2, never a traceback.

Three tables:

* ``CLI_ROWS``: every option of ``mono bounds``, ``mono eval`` and ``mono verify`` given a
  bad value, run in-process through :func:`mono.cli.main` (one row per case: the command
  line, the words its one-line message must contain);
* ``API_ROWS``: the public Python functions with bad arguments, each raising
  :class:`mono.errors.InputError` naming the parameter;
* ``HOSTILE``: strings that would do harm if they reached ``eval``, typed into every
  place a user can type an expression; none has any side effect.

docs/reliability.md lists these rows with the messages they get.
"""

from __future__ import annotations

import builtins
import os
import pickle
import shutil
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from mono.bounds import rates
from mono.bounds.expr import parse_expression, parse_number
from mono.bounds.modulus import Modulus
from mono.bounds.plan import Problem, plan
from mono.bounds.space import SobolevBox, first_modes
from mono.bounds.targets import custom_target_spec, target_spec
from mono.cli import main
from mono.construct import basis
from mono.construct.compact import check_inside, sample_box
from mono.construct.mono import build_mono
from mono.construct.targets import custom_target, make_target
from mono.construct.triangulation import CoefficientGrid
from mono.errors import InputError

# ----------------------------------------------------------------------------- fixtures

BOX = SobolevBox(1, 2, 1)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Input files for ``mono eval`` and paths for --out/--output, by name."""
    root = tmp_path_factory.mktemp("bad_input")
    rho = np.asarray(BOX.radii(8), dtype=float)
    c = np.random.default_rng(0).uniform(-0.5, 0.5, (3, 8)) * rho
    good = basis.sample(c, first_modes(1, 8), (64,))
    paths = {"root": str(root)}

    def save(name, array):
        paths[name] = str(root / f"{name}.npy")
        np.save(paths[name], array)

    save("good", good)
    save("flat", good[0])                          # wrong ndim: no batch axis
    save("cube", good[:, :, None])                 # wrong ndim: d = 2 grid for d = 1
    save("small", good[:, :1])                     # grid too small for n
    save("empty", np.zeros((0, 64)))
    nan = good.copy()
    nan[1, 7] = np.nan
    save("nan", nan)
    inf = good.copy()
    inf[0, 3] = np.inf
    save("inf", inf)
    save("complex", good.astype(complex))
    save("strings", np.array([["a", "b"]]))
    outside = np.zeros((2, 8))
    outside[1, 5] = 3 * rho[5]                     # mode k = 5, three times its bound
    save("outside", basis.sample(outside, first_modes(1, 8), (64,)))
    np.save(root / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    paths["objects"] = str(root / "objects.npy")
    (root / "text.npy").write_text("this is not an array\n")
    paths["text"] = str(root / "text.npy")
    with open(root / "pickled.npy", "wb") as handle:
        pickle.dump({"payload": 1}, handle)
    paths["pickled"] = str(root / "pickled.npy")
    raw = (root / "good.npy").read_bytes()
    (root / "truncated.npy").write_bytes(raw[:100])
    paths["truncated"] = str(root / "truncated.npy")
    np.savez(root / "archive.npz", u=good)
    paths["archive"] = str(root / "archive.npz")
    (root / "afile").write_text("a regular file\n")
    paths["afile"] = str(root / "afile")
    (root / "adir").mkdir()
    paths["adir"] = str(root / "adir")
    paths["missing"] = str(root / "missing.npy")
    return paths


def run_cli(argv, capsys):
    """(exit status, stdout, stderr) of ``mono`` run in-process (argparse exits too)."""
    try:
        status = main(argv)
    except SystemExit as exc:      # argparse's own errors (one line, see mono.cli._Parser)
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# ----------------------------------------------------------------------------- CLI table

# Shared problem options: the same bad value must be refused by all three commands.
# (row id, options, words of the message)
PROBLEM_ROWS = [
    ("eps-zero", ["--eps", "0"], ["--eps", "> 0"]),
    ("eps-negative", ["--eps", "-1"], ["--eps", "> 0"]),
    ("eps-negative-in-list", ["--eps", "0.3", "-0.1"], ["--eps", "> 0"]),
    ("eps-nan", ["--eps", "nan"], ["--eps", "finite"]),
    ("eps-inf", ["--eps", "inf"], ["--eps", "finite"]),
    ("eps-overflow", ["--eps", "1e400"], ["--eps", "not finite"]),
    ("eps-underflow", ["--eps", "1e-400"], ["--eps", "> 0"]),
    ("eps-text", ["--eps", "abc"], ["--eps", "unknown name 'abc'"]),
    ("eps-empty-string", ["--eps", ""], ["--eps", "empty"]),
    ("eps-too-small", ["--eps", "1e-30"], ["--eps", "input modes", "larger"]),
    ("s-at-d/2", ["--s", "1/2"], ["--s", "d/2"]),
    ("s-below-d/2-d2", ["--d", "2", "--s", "1"], ["--s", "d/2"]),
    ("s-nan", ["--s", "nan"], ["--s", "'nan'"]),
    ("s-sin-needs-3/2", ["--s", "1.4"], ["--s", "1 + d/2"]),
    ("d-3", ["--d", "3"], ["--d", "1 or 2"]),
    ("d-0", ["--d", "0"], ["--d", ">= 1"]),
    ("d-fraction", ["--d", "1.5"], ["--d", "integer"]),
    ("d-unsupported-by-target", ["--target", "antiderivative", "--d", "2", "--s", "3"], ["--d", "d in {1}"]),
    ("r-zero", ["--r", "0"], ["--r", "> 0"]),
    ("r-negative", ["--r", "-2"], ["--r", "> 0"]),
    ("r-inf", ["--r", "1e999"], ["--r", "not finite"]),
    ("split-sum", ["--split", "0.5,0.5,0.5"], ["--split", "sum to 1"]),
    ("split-negative", ["--split", "0.6,0.6,-0.2"], ["--split", "> 0"]),
    ("split-zero", ["--split", "1,0,0"], ["--split", "> 0"]),
    ("split-two", ["--split", "0.5,0.5"], ["--split", "three numbers"]),
    ("split-text", ["--split", "a,b,c"], ["--split", "unknown name"]),
    ("target-unknown", ["--target", "nope"], ["--target", "unknown target", "heat"]),
    ("param-unknown-key", ["--target", "heat", "--param", "Q=1"], ["--param", "unknown parameter", "T"]),
    ("param-no-value", ["--target", "heat", "--param", "T"], ["--param", "KEY=VALUE"]),
    ("param-twice", ["--target", "heat", "--param", "T=1", "--param", "T=2"], ["--param", "twice"]),
    ("param-negative", ["--target", "heat", "--param", "T=-1"], ["--param", "T > 0"]),
    ("param-text", ["--target", "heat", "--param", "T=abc"], ["--param", "unknown name"]),
    ("param-range", ["--target", "abs_power", "--param", "alpha=2"], ["--param", "0 < alpha <= 1"]),
    ("granularity-zero", ["--granularity", "0"], ["--granularity", ">= 1"]),
    ("granularity-negative", ["--granularity", "-3"], ["--granularity", ">= 1"]),
    ("granularity-fraction", ["--granularity", "1.5"], ["--granularity", "integer"]),
    ("granularity-text", ["--granularity", "many"], ["--granularity", "unknown name"]),
    ("modulus-hostile", ["--modulus", "__import__('os').system('true')"], ["--modulus", "refused"]),
    ("modulus-attribute", ["--modulus", "t.__class__"], ["--modulus", "Attribute"]),
    ("modulus-not-zero-at-0", ["--modulus", "1 + t"], ["--modulus", "ω(0) = 0"]),
    ("modulus-decreasing", ["--modulus", "sin(t)"], ["--modulus", "nondecreasing"]),
    ("modulus-other-variable", ["--modulus", "x*t"], ["--modulus", "unknown name 'x'"]),
]

# What each command needs besides the problem options (kept cheap in case a row
# were wrongly accepted: one coarse eps, no adversarial search).
BASE = {
    "bounds": ["bounds", "--eps", "0.3"],
    "eval": ["eval", "--eps", "0.3", "--input", "{good}"],
    "verify": ["verify", "--eps", "0.3", "--budget", "0", "--no-baseline", "--out", "{root}/verify-out"],
}

COMMAND_ROWS = [
    # mono bounds
    ("bounds", "format", ["--format", "xml"], ["--format", "markdown"]),
    # mono eval
    ("eval", "eps-two-values", ["--eps", "0.1", "0.2"], ["--eps", "exactly one"]),
    ("eval", "input-missing", ["--input", "{missing}"], ["--input", "no such file"]),
    ("eval", "input-directory", ["--input", "{adir}"], ["--input", "no such file"]),
    ("eval", "input-text-file", ["--input", "{text}"], ["--input", "not a .npy file"]),
    ("eval", "input-pickle-file", ["--input", "{pickled}"], ["--input", "not a .npy file"]),
    ("eval", "input-object-array", ["--input", "{objects}"], ["--input", "pickled objects"]),
    ("eval", "input-truncated", ["--input", "{truncated}"], ["--input", "not a readable .npy"]),
    ("eval", "input-npz", ["--input", "{archive}"], ["--input", ".npz"]),
    ("eval", "input-ndim-1", ["--input", "{flat}"], ["--input", "shape", "batch × G"]),
    ("eval", "input-ndim-3", ["--input", "{cube}"], ["--input", "shape", "batch × G"]),
    ("eval", "input-d2-needs-3-axes", ["--target", "heat", "--d", "2", "--input", "{good}"],
     ["--input", "batch × G1 × G2"]),
    ("eval", "input-grid-too-small", ["--input", "{small}"], ["--input", "too small", "points per axis"]),
    ("eval", "input-empty", ["--input", "{empty}"], ["--input", "empty"]),
    ("eval", "input-nan", ["--input", "{nan}"], ["--input", "NaN"]),
    ("eval", "input-inf", ["--input", "{inf}"], ["--input", "infinite"]),
    ("eval", "input-complex", ["--input", "{complex}"], ["--input", "dtype complex128"]),
    ("eval", "input-strings", ["--input", "{strings}"], ["--input", "dtype"]),
    ("eval", "input-outside-K", ["--target", "heat", "--input", "{outside}"],
     ["--input", "outside K", "input 1", "mode k = (5,)", "beyond", "by", "3 times the bound"]),
    ("eval", "output-dir-missing", ["--output", "{root}/no/such/v.npy"], ["--output", "does not exist"]),
    ("eval", "output-under-a-file", ["--output", "{afile}/v.npy"], ["--output", "does not exist"]),
    ("eval", "output-is-a-directory", ["--output", "{adir}"], ["--output", "is a directory"]),
    ("eval", "output-unwritable", ["--output", "/proc/mono-test.npy"], ["--output", "cannot write"]),
    ("eval", "export-onto-a-file", ["--export", "{afile}"], ["--export", "cannot create"]),
    ("eval", "budget-negative", ["--budget", "-3"], ["--budget", "> 0"]),
    ("eval", "budget-nan", ["--budget", "nan"], ["--budget", "> 0"]),
    ("eval", "budget-text", ["--budget", "lots"], ["--budget", "> 0"]),
    ("eval", "budget-too-small-for-baseline", ["--baseline", "--budget", "1e-9"],
     ["--budget", "predicted", "bytes"]),
    # mono verify
    ("verify", "eps-repeated", ["--eps", "0.3", "3/10"], ["--eps", "once"]),
    ("verify", "budget-negative", ["--budget", "-1"], ["--budget", ">= 0"]),
    ("verify", "budget-fraction", ["--budget", "1.5"], ["--budget", "integer"]),
    ("verify", "budget-hostile", ["--budget", "__import__('os')"], ["--budget", "refused"]),
    ("verify", "seed-negative", ["--seed", "-1"], ["--seed", ">= 0"]),
    ("verify", "seed-text", ["--seed", "abc"], ["--seed", "unknown name"]),
    ("verify", "workers-zero", ["--workers", "0"], ["--workers", ">= 1"]),
    ("verify", "baseline-budget-zero", ["--baseline-budget", "0"], ["--baseline-budget", ">= 1"]),
    ("verify", "format", ["--format", "xml"], ["--format", "text"]),
    ("verify", "out-is-a-file", ["--out", "{afile}"], ["--out", "not a directory"]),
    ("verify", "out-under-a-file", ["--out", "{afile}/report"], ["--out", "cannot create"]),
    ("verify", "out-unwritable", ["--out", "/proc/mono-report"], ["--out", "cannot create"]),
]

CLI_ROWS = (
    [pytest.param(BASE[cmd] + opts, words, id=f"{cmd}:{name}")
     for cmd in ("bounds", "eval", "verify") for name, opts, words in PROBLEM_ROWS]
    + [pytest.param(BASE[cmd] + opts, words, id=f"{cmd}:{name}") for cmd, name, opts, words in COMMAND_ROWS]
)


def _fill(argv, files):
    return [a.format(**files) for a in argv]


@pytest.mark.parametrize("argv, words", CLI_ROWS)
def test_cli_bad_input_is_one_line_exit_2(argv, words, files, capsys):
    status, out, err = run_cli(_fill(argv, files), capsys)
    assert status == 2, (status, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith(f"mono {argv[0]}: error: "), line
    for word in words:
        assert word in line, (word, line)


# argparse refuses these itself: exit 2 and one error line pointing to --help
ARGPARSE_ROWS = [
    pytest.param(["bounds", "--eps"], ["--eps", "expected at least one argument"], id="bounds:eps-empty-list"),
    pytest.param(["verify", "--eps"], ["--eps", "expected at least one argument"], id="verify:eps-empty-list"),
    pytest.param(["eval", "--eps", "0.1"], ["--input", "required"], id="eval:input-not-given"),
    pytest.param(["bounds", "--eps", "-inf"], ["--eps", "expected at least one argument"], id="bounds:eps-minus-inf"),
    pytest.param(["bounds", "--no-such-option"], ["unrecognized arguments"], id="bounds:unknown-option"),
]


@pytest.mark.parametrize("argv, words", ARGPARSE_ROWS)
def test_argparse_errors_exit_2_without_traceback(argv, words, capsys):
    status, out, err = run_cli(argv, capsys)
    assert status == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("mono") and "error:" in lines[0] and "--help" in lines[0]
    for word in words:
        assert word in lines[0], lines[0]


def test_eps_equals_form_reaches_the_validator(capsys):
    """``--eps=-inf`` gets past argparse and is refused by mono itself."""
    status, _, err = run_cli(["bounds", "--eps=-inf"], capsys)
    assert status == 2 and len(err.strip().splitlines()) == 1 and "--eps" in err


def test_unwritable_output_is_refused_before_any_work(files, capsys, monkeypatch):
    """As root ``os.access`` says yes to everything; refusing a read-only folder must not
    depend on it.  Simulate a read-only folder: nothing may be built before the refusal."""
    import mono.construct.cli_eval as cli_eval

    real_access = os.access
    monkeypatch.setattr(cli_eval.os, "access",
                        lambda path, mode: False if mode == os.W_OK else real_access(path, mode))

    def boom(*args, **kwargs):  # pragma: no cover - reached only if the check is missing
        raise AssertionError("built a MoNO before checking --output")

    monkeypatch.setattr(cli_eval, "build_mono", boom)
    status, _, err = run_cli(["eval", "--eps", "0.3", "--input", files["good"],
                              "--output", os.path.join(files["adir"], "v.npy")], capsys)
    assert status == 2 and "--output" in err and "permission denied" in err


def test_real_console_script_prints_no_traceback(tmp_path):
    """The installed ``mono`` command (not just main()) turns a bad value into one line."""
    script = shutil.which("mono", path=os.path.dirname(sys.executable)) or shutil.which("mono")
    if script is None:
        pytest.skip("the mono console script is not installed")
    for argv, option in [(["bounds", "--eps", "0"], "--eps"),
                         (["bounds", "--eps", "__import__('os').system('touch PWNED')"], "--eps"),
                         (["eval", "--eps", "0.3", "--input", str(tmp_path / "missing.npy")], "--input")]:
        proc = subprocess.run([script, *argv], capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and option in lines[0], proc.stderr
    assert not (tmp_path / "PWNED").exists()


# ----------------------------------------------------------------------------- Python API table

HEAT = target_spec("heat", BOX, T=0.05)
PROBLEM = Problem(HEAT)


def _mono():
    return build_mono(PROBLEM, 0.1, make_target("heat", BOX, T=0.05))


def _verify_point(*args, **kwargs):
    verify = pytest.importorskip("mono.construct.verify")
    return verify.verify_point(*args, **kwargs)


def _verify(*args, **kwargs):
    verify = pytest.importorskip("mono.construct.verify")
    return verify.verify(*args, **kwargs)


# (id, call, parameter named by the InputError)
API_ROWS = [
    ("SobolevBox d=3", lambda: SobolevBox(3, 2, 1), "d"),
    ("SobolevBox d='1'", lambda: SobolevBox("1", 2, 1), "d"),
    ("SobolevBox s=d/2", lambda: SobolevBox(1, 0.5, 1), "s"),
    ("SobolevBox s=1 in d=2", lambda: SobolevBox(2, 1, 1), "s"),
    ("SobolevBox s=nan", lambda: SobolevBox(1, float("nan"), 1), "s"),
    ("SobolevBox s=inf", lambda: SobolevBox(1, float("inf"), 1), "s"),
    ("SobolevBox s='2'", lambda: SobolevBox(1, "2", 1), "s"),
    ("SobolevBox r=0", lambda: SobolevBox(1, 2, 0), "r"),
    ("SobolevBox r=-1", lambda: SobolevBox(1, 2, -1), "r"),
    ("SobolevBox r=nan", lambda: SobolevBox(1, 2, np.float64("nan")), "r"),
    ("SobolevBox r=None", lambda: SobolevBox(1, 2, None), "r"),
    ("SobolevBox r=1j", lambda: SobolevBox(1, 2, 1j), "r"),
    ("box.tail(-1)", lambda: BOX.tail(-1), "n"),
    ("box.tail(1.5)", lambda: BOX.tail(1.5), "n"),
    ("box.n_for_tail(0)", lambda: BOX.n_for_tail(0), "tau"),
    ("first_modes(0, 3)", lambda: first_modes(0, 3), "d"),
    ("Problem('heat')", lambda: Problem("heat"), "target"),
    ("Problem split sums to 3/2", lambda: Problem(HEAT, (0.5, 0.5, 0.5)), "split"),
    ("Problem negative share", lambda: Problem(HEAT, (0.6, 0.6, -0.2)), "split"),
    ("Problem two shares", lambda: Problem(HEAT, (0.5, 0.5)), "split"),
    ("Problem NaN share", lambda: Problem(HEAT, (float("nan"), 0.5, 0.5)), "split"),
    ("Problem split None", lambda: Problem(HEAT, None), "split"),
    ("plan eps=0", lambda: plan(PROBLEM, 0), "eps"),
    ("plan eps<0", lambda: plan(PROBLEM, -0.1), "eps"),
    ("plan eps=nan", lambda: plan(PROBLEM, float("nan")), "eps"),
    ("plan eps=inf", lambda: plan(PROBLEM, float("inf")), "eps"),
    ("plan eps='0.1'", lambda: plan(PROBLEM, "0.1"), "eps"),
    ("plan eps=None", lambda: plan(PROBLEM, None), "eps"),
    ("plan eps too small", lambda: plan(PROBLEM, 1e-300), "eps"),
    ("plan granularity=0", lambda: plan(PROBLEM, 0.1, 0), "granularity"),
    ("plan granularity=1.5", lambda: plan(PROBLEM, 0.1, 1.5), "granularity"),
    ("plan granularity=True", lambda: plan(PROBLEM, 0.1, True), "granularity"),
    ("plan problem='x'", lambda: plan("x", 0.1), "problem"),
    ("target_spec unknown", lambda: target_spec("nope", BOX), "target"),
    ("target_spec unknown param", lambda: target_spec("heat", BOX, Q=1), "Q"),
    ("target_spec T=-1", lambda: target_spec("heat", BOX, T=-1), "T"),
    ("target_spec T=nan", lambda: target_spec("heat", BOX, T=float("nan")), "T"),
    ("target_spec T=[1]", lambda: target_spec("heat", BOX, T=[1]), "T"),
    ("target_spec box='box'", lambda: target_spec("heat", "box"), "box"),
    ("target_spec sin s<=3/2", lambda: target_spec("sin", SobolevBox(1, Fraction(3, 2), 1)), "s"),
    ("make_target unknown", lambda: make_target("nope", BOX), "target"),
    ("make_target resolution=0", lambda: make_target("heat", BOX, resolution=0), "resolution"),
    ("make_target resolution=64.0", lambda: make_target("heat", BOX, resolution=64.0), "resolution"),
    ("make_target box=None", lambda: make_target("heat", None), "box"),
    ("custom_target fn=3", lambda: custom_target(BOX, 3, "t", 1), "fn"),
    ("custom_target radius=0", lambda: custom_target(BOX, np.sin, "t", 0), "radius"),
    ("custom_target radius=nan", lambda: custom_target(BOX, np.sin, "t", float("nan")), "radius"),
    ("custom_target t=0", lambda: custom_target(BOX, np.sin, "t", 1, t=0), "t"),
    ("custom_target kind='x'", lambda: custom_target(BOX, np.sin, "t", 1, kind="x"), "kind"),
    ("custom_target modulus ω(0)=1", lambda: custom_target(BOX, np.sin, "1/(1+t)", 1), "modulus"),
    ("custom_target modulus negative", lambda: custom_target(BOX, np.sin, "-t", 1), "modulus"),
    ("Modulus.lipschitz(0)", lambda: Modulus.lipschitz(0), "L"),
    ("Modulus.lipschitz(inf)", lambda: Modulus.lipschitz(float("inf")), "L"),
    ("Modulus.holder(1, 2)", lambda: Modulus.holder(1, 2), "alpha"),
    ("Modulus.parse(3)", lambda: Modulus.parse(3), "modulus"),
    ("Modulus.parse('sin(t)')", lambda: Modulus.parse("sin(t)"), "modulus"),
    ("modulus.inverse(0)", lambda: Modulus.lipschitz(1).inverse(0), "y"),
    ("modulus(-1)", lambda: Modulus.lipschitz(1)(-1), "t"),
    ("build_mono problem='p'", lambda: build_mono("p", 0.3, make_target("heat", BOX, T=0.05)), "problem"),
    ("build_mono eps=0", lambda: build_mono(PROBLEM, 0, make_target("heat", BOX, T=0.05)), "eps"),
    ("build_mono target=None", lambda: build_mono(PROBLEM, 0.3, None), "target"),
    ("build_mono wrong target", lambda: build_mono(PROBLEM, 0.3, make_target("norm_sq", BOX)), "target"),
    ("build_mono granularity=0", lambda: build_mono(PROBLEM, 0.3, make_target("heat", BOX, T=0.05), 0),
     "granularity"),
    ("mono(NaN samples)", lambda: _mono()(np.full((2, 64), np.nan)), "samples"),
    ("mono(1-D samples)", lambda: _mono()(np.zeros(64)), "samples"),
    ("mono(grid too small)", lambda: _mono()(np.zeros((2, 1))), "samples"),
    ("mono(text)", lambda: _mono()("abc"), "samples"),
    ("mono(outside K)", lambda: _mono()(np.full((2, 64), 10.0)), "samples"),
    ("mono.coefficients(wrong n)", lambda: _mono().coefficients(np.zeros((2, 100))), "coefficients"),
    ("CoefficientGrid radius<0", lambda: CoefficientGrid([-1.0], (1,)), "radii"),
    ("CoefficientGrid cells=0", lambda: CoefficientGrid([1.0], (0,)), "cells"),
    ("CoefficientGrid cells='a'", lambda: CoefficientGrid([1.0], ("a",)), "cells"),
    ("CoefficientGrid cells=1.5", lambda: CoefficientGrid([1.0], (1.5,)), "cells"),
    ("sample_box size=0", lambda: sample_box(BOX, 3, 0, 0), "size"),
    ("sample_box rng=-1", lambda: sample_box(BOX, 3, 3, -1), "rng"),
    ("check_inside outside", lambda: check_inside(BOX, [[5.0, 0.0]]), "u"),
    ("parse_number None", lambda: parse_number(None, "x"), "x"),
    ("parse_number 1j", lambda: parse_number(1j, "x"), "x"),
    ("parse_number 'sqrt(-1)'", lambda: parse_number("sqrt(-1)", "x"), "x"),
    ("parse_number '1/0'", lambda: parse_number("1/0", "x"), "x"),
    ("verify_point eps=0", lambda: _verify_point(PROBLEM, 0), "eps"),
    ("verify_point eps=nan", lambda: _verify_point(PROBLEM, float("nan")), "eps"),
    ("verify_point problem='p'", lambda: _verify_point("p", 0.3), "problem"),
    ("verify_point wrong target", lambda: _verify_point(PROBLEM, 0.3, make_target("norm_sq", BOX)), "target"),
    ("verify_point budget=-1", lambda: _verify_point(PROBLEM, 0.3, budget=-1), "budget"),
    ("verify_point seed=-1", lambda: _verify_point(PROBLEM, 0.3, seed=-1), "seed"),
    ("verify empty eps list", lambda: _verify(PROBLEM, [], write=False), "eps"),
    ("verify repeated eps", lambda: _verify(PROBLEM, [0.3, 0.3], write=False), "eps"),
    ("rates of a string", lambda: rates.rates("x"), "problem"),
    ("claims of a string", lambda: rates.claims("x"), "problem"),
]


@pytest.mark.parametrize("call, parameter", [pytest.param(c, p, id=i) for i, c, p in API_ROWS])
def test_public_functions_raise_input_error_naming_the_parameter(call, parameter):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.parameter == parameter, str(info.value)
    assert str(info.value).startswith(f"{parameter}: ")
    assert "\n" not in str(info.value)


# ----------------------------------------------------------------------------- hostile expressions

HOSTILE = [
    "__import__('os').system('touch {FILE}')",
    "open('{FILE}', 'w').write('x')",
    "exec(\"open('{FILE}','w')\")",
    "eval(\"open('{FILE}','w')\")",
    "getattr(__builtins__, 'open')('{FILE}', 'w')",
    "().__class__.__base__.__subclasses__()",
    "t.__class__",
    "sqrt.__globals__",
    "[open('{FILE}', 'w')][0]",
    "{{'a': 1}}['a']",
    "(lambda: open('{FILE}', 'w'))()",
    "[open('{FILE}', 'w') for _ in (1,)]",
    "max(open('{FILE}', 'w') for _ in (1,))",
    "f\"{{open('{FILE}', 'w')}}\"",
    "(x := open('{FILE}', 'w'))",
    "1 if open('{FILE}', 'w') else 2",
    "sin(t, key=open('{FILE}', 'w'))",
    "max(*[1, 2])",
    "1; open('{FILE}', 'w')",
    "1\nopen('{FILE}', 'w')",
    "9**9**9**9",
    "10**10**10",
    "(10**100)**(10**100)",
    "exp(exp(exp(10)))",
    "2**100000",
    "1" * 2000,
    "1+" * 5000 + "1",
    "(" * 150 + "1" + ")" * 150,
    "'a' * 10**9",
    "b'x'",
    "1 < 2",
    "7 // 2",
    "7 % 2",
    "~1",
    "not 1",
    "1 and 2",
    "1 ^ 2",
    "\x00",
    "",
]


def _entry_points(file):
    """Every place a user types an expression, as callables of the text."""

    def cli(option_args):
        def call(text):
            status = main(option_args(text))
            if status != 2:
                raise AssertionError(f"exit status {status}")
        return call

    return {
        "parse_expression": lambda text: parse_expression(text, ("t",)),
        "parse_number": lambda text: parse_number(text, "x"),
        "Modulus.parse": lambda text: Modulus.parse(text),
        "custom modulus": lambda text: custom_target_spec(BOX, text, 1),
        "custom radius": lambda text: custom_target_spec(BOX, "t", text),
        "custom t": lambda text: custom_target_spec(BOX, "t", 1, t=text),
        "target parameter": lambda text: target_spec("heat", BOX, T=text),
        "--eps": cli(lambda text: ["bounds", "--eps", text]),
        "--s": cli(lambda text: ["bounds", "--s", text]),
        "--r": cli(lambda text: ["bounds", "--r", text]),
        "--param": cli(lambda text: ["bounds", "--target", "heat", "--param", f"T={text}"]),
        "--split": cli(lambda text: ["bounds", "--split", f"{text},1/3,1/3"]),
        "--granularity": cli(lambda text: ["bounds", "--granularity", text]),
        "--modulus": cli(lambda text: ["bounds", "--modulus", text]),
    }


ENTRY_NAMES = list(_entry_points("x"))


@pytest.mark.parametrize("entry", ENTRY_NAMES)
def test_hostile_expressions_are_refused_without_side_effects(entry, tmp_path, capsys, monkeypatch):
    file = tmp_path / "PWNED"
    monkeypatch.chdir(tmp_path)
    # nothing on these paths may call eval/exec: make any call fail loudly
    calls = []

    def spy(*args, **kwargs):
        calls.append(args[:1])
        raise AssertionError("eval/exec was called")

    monkeypatch.setattr(builtins, "eval", spy)
    monkeypatch.setattr(builtins, "exec", spy)
    call = _entry_points(str(file))[entry]
    for template in HOSTILE:
        text = template.replace("{FILE}", str(file)).replace("{{", "{").replace("}}", "}")
        if entry.startswith("--") and ("\x00" in text or text == ""):
            continue  # the OS cannot pass NUL in argv; '' is covered in the CLI table
        if entry.startswith("--"):
            call(text)                      # exit status 2 asserted inside
            err = capsys.readouterr().err
            assert "Traceback" not in err and len(err.strip().splitlines()) == 1, (text, err)
        else:
            with pytest.raises(InputError):
                call(text)
        assert not file.exists(), text
    assert not calls


def test_safe_parser_builds_what_the_user_meant_without_eval(monkeypatch):
    """The whitelist still accepts ordinary input, with eval unavailable."""
    monkeypatch.setattr(builtins, "eval", lambda *a, **k: (_ for _ in ()).throw(AssertionError("eval")))
    omega = Modulus.parse("3*t**0.5 + t")
    assert float(omega(4)) == pytest.approx(10.0)
    assert float(parse_number("1/sqrt(2) + 2*pi", "x")) == pytest.approx(2 ** -0.5 + 2 * np.pi)
    spec = custom_target_spec(BOX, "2*t", "sqrt(2)", t="3/2")
    assert float(spec.radius) == pytest.approx(2 ** 0.5)
    assert spec.t == Fraction(3, 2)
