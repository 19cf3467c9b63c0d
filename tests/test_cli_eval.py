"""``mono eval`` end to end through ``mono.cli.main``, and every kind of bad input."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from mono.bounds.space import SobolevBox, first_modes
from mono.cli import main
from mono.construct import basis
from mono.construct.operator import count, load
from mono.construct.targets import make_target

HEAT = ["eval", "--target", "heat", "--param", "T=0.05", "--eps", "0.1"]


def functions(n_modes, d, G, size=5, seed=0, scale=0.5, s=2, r=1):
    """Random functions of K(s, r) (|û_k| ≤ scale·ρ_k on the first modes) sampled on G^d."""
    box = SobolevBox(d, s, r)
    rho = np.asarray(box.radii(n_modes), dtype=float)
    c = np.random.default_rng(seed).uniform(-scale, scale, (size, n_modes)) * rho
    return basis.sample(c, first_modes(d, n_modes), (G,) * d), c


def run(args, capsys):
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_eval_heat_writes_exact_outputs_and_exports(tmp_path, capsys):
    u, c = functions(6, 1, 64)
    np.save(tmp_path / "u.npy", u)
    status, out, err = run(HEAT + ["--input", str(tmp_path / "u.npy"), "--output", str(tmp_path / "v.npy"),
                                   "--export", str(tmp_path / "net")], capsys)
    assert status == 0, err
    v = np.load(tmp_path / "v.npy")
    assert v.shape == u.shape
    # heat is linear and diagonal: A(u) = P_J e^{TΔ} P_I u exactly (up to rounding)
    index = json.loads((tmp_path / "net" / "index.json").read_text())
    n, M = index["n_modes_in"], index["n_modes_out"]
    lam = np.pi ** 2 * np.arange(max(n, M)) ** 2
    coef = np.zeros((len(u), M))
    k = min(n, M)
    coef[:, :k] = c[:, :k] * np.exp(-0.05 * lam[:k])
    np.testing.assert_allclose(v, basis.sample(coef, first_modes(1, M), (64,)), atol=1e-11)
    # every exported expert loads and reproduces the outputs of the inputs routed to it
    experts = [e for e in index["networks"] if e["kind"] == "simplex"]
    assert experts and sum(e["inputs"] for e in experts) == len(u)
    for entry in experts:
        op = load(tmp_path / "net" / entry["file"])
        assert count(op).as_dict() == {k: entry[k] for k in ("depth", "width", "rank", "params")}
    assert "routing depth" in out


def test_eval_baseline_and_blocks_agree_with_mono_d2(tmp_path, capsys):
    base = ["eval", "--target", "norm_sq", "--d", "2", "--eps", "0.5", "--split", "2/5,1/5,2/5"]
    u, c = functions(4, 2, 16)
    np.save(tmp_path / "u.npy", u)
    outputs = {}
    for tag, extra in [("mono", []), ("baseline", ["--baseline", "--export", str(tmp_path / "b")]),
                       ("blocks", ["--granularity", "2"])]:
        status, _, err = run(base + extra + ["--input", str(tmp_path / "u.npy"),
                                             "--output", str(tmp_path / f"{tag}.npy")], capsys)
        assert status == 0, err
        outputs[tag] = np.load(tmp_path / f"{tag}.npy")
        assert outputs[tag].shape == (len(u),)  # a functional: one number per input
    np.testing.assert_allclose(outputs["baseline"], outputs["mono"], atol=1e-9)
    np.testing.assert_allclose(outputs["blocks"], outputs["mono"], atol=1e-9)
    index = json.loads((tmp_path / "b" / "index.json").read_text())
    assert any(e["kind"] == "baseline" for e in index["networks"])
    # the interpolant of ‖u‖² is within eps of the exact values (Theorem E)
    assert np.abs(outputs["mono"] - (c ** 2).sum(axis=1)).max() <= 0.5


def bad(args, capsys, *needles):
    status, out, err = run(args, capsys)
    assert status == 2
    line = err.strip()
    assert "\n" not in line and "Traceback" not in line, err
    for needle in needles:
        assert needle in line, line
    return line


def test_bad_files(tmp_path, capsys):
    good, _ = functions(6, 1, 64)
    np.save(tmp_path / "good.npy", good)
    bad(HEAT + ["--input", str(tmp_path / "missing.npy")], capsys, "--input", "no such file")
    (tmp_path / "text.npy").write_text("not an array")
    bad(HEAT + ["--input", str(tmp_path / "text.npy")], capsys, "--input")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    bad(HEAT + ["--input", str(tmp_path / "objects.npy")], capsys, "--input", "pickle")
    np.savez(tmp_path / "archive.npz", u=good)
    bad(HEAT + ["--input", str(tmp_path / "archive.npz")], capsys, "--input", ".npz")
    np.save(tmp_path / "flat.npy", good[0])
    bad(HEAT + ["--input", str(tmp_path / "flat.npy")], capsys, "--input", "shape")
    np.save(tmp_path / "small.npy", good[:, :1])
    bad(HEAT + ["--input", str(tmp_path / "small.npy")], capsys, "--input", "too small")
    nan = good.copy()
    nan[1, 7] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    bad(HEAT + ["--input", str(tmp_path / "nan.npy")], capsys, "--input", "NaN")
    np.save(tmp_path / "text_dtype.npy", np.array([["a", "b"]]))
    bad(HEAT + ["--input", str(tmp_path / "text_dtype.npy")], capsys, "--input", "dtype")
    bad(HEAT + ["--input", str(tmp_path / "good.npy"), "--output", str(tmp_path / "no" / "dir" / "v.npy")],
        capsys, "--output", "does not exist")


def test_function_outside_K_says_where_and_by_how_much(tmp_path, capsys):
    box = SobolevBox(1, 2, 1)
    rho = np.asarray(box.radii(8), dtype=float)
    c = np.zeros((2, 8))
    c[1, 5] = 3 * rho[5]  # mode k = 5, three times its bound
    np.save(tmp_path / "out.npy", basis.sample(c, first_modes(1, 8), (64,)))
    line = bad(HEAT + ["--input", str(tmp_path / "out.npy")], capsys, "--input", "outside K",
               "mode k = (5,)", "input 1")
    assert "3 times" in line or "3.0" in line


def test_bad_problem_options(tmp_path, capsys):
    good, _ = functions(6, 1, 64)
    np.save(tmp_path / "good.npy", good)
    inp = ["--input", str(tmp_path / "good.npy")]
    bad(["eval", "--target", "nope", "--eps", "0.1"] + inp, capsys, "--target")
    bad(["eval", "--target", "heat", "--param", "Q=1", "--eps", "0.1"] + inp, capsys, "--param")
    bad(HEAT[:-1] + ["0.1", "0.2"] + inp, capsys, "--eps", "exactly one")
    bad(["eval", "--target", "heat", "--eps", "-1"] + inp, capsys, "--eps")
    bad(HEAT + ["--granularity", "0"] + inp, capsys, "--granularity")
    bad(HEAT + ["--budget", "-3"] + inp, capsys, "--budget")


def test_baseline_over_budget_refuses_with_prediction(tmp_path, capsys):
    good, _ = functions(12, 1, 64)
    np.save(tmp_path / "good.npy", good)
    line = bad(["eval", "--target", "heat", "--param", "T=0.05", "--eps", "0.01", "--baseline",
                "--input", str(tmp_path / "good.npy")], capsys, "budget", "bytes")
    assert "predicted" in line
    # the MoNO itself answers at the same eps
    status, out, err = run(["eval", "--target", "heat", "--param", "T=0.05", "--eps", "0.01",
                            "--input", str(tmp_path / "good.npy"), "--output", str(tmp_path / "v.npy")],
                           capsys)
    assert status == 0, err
    target = make_target("heat", SobolevBox(1, 2, 1), T=0.05)
    assert np.load(tmp_path / "v.npy").shape == good.shape
    assert target.kind == "operator"


def test_output_is_written_at_exactly_the_given_path(tmp_path, capsys):
    """A path without the .npy suffix is honoured (numpy alone would append one)."""
    u, _ = functions(6, 1, 64)
    np.save(tmp_path / "u.npy", u)
    status, _, err = run(HEAT + ["--input", str(tmp_path / "u.npy"), "--output", str(tmp_path / "v")], capsys)
    assert status == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["u.npy", "v"]
    assert np.load(tmp_path / "v").shape == u.shape
