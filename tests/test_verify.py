"""Verification (mono.construct.verify, with the search of mono.construct.search): sup-error
estimation, term checks, sizes, sweeps.

The expected values come from independent computations: the sup of the norm_sq
functional is derived by hand (interpolation error of a quadratic on a Kuhn simplex),
errors at the saved worst input are recomputed by sampling on the grid (midpoint rule,
not Parseval), sizes from the layer-by-layer formulas of docs/architecture.md.
"""

from __future__ import annotations

import concurrent.futures
import csv
import json
import math

import numpy as np
import pytest

from mono.bounds.plan import Problem, plan
from mono.bounds.space import SobolevBox, first_modes
from mono.bounds.targets import target_spec
from mono.construct import basis
from mono.construct import verify as verify_module
from mono.construct.mono import build_mono
from mono.construct.report import PLOTS
from mono.construct.targets import custom_target, make_target
from mono.construct.verify import (
    eps_key, n_probe_modes, point_seed, verify, verify_point,
)
from mono.errors import InputError

BOX = SobolevBox(1, 2, 1)
SIN = Problem(target_spec("sin", BOX))
POINT_KEYS = {"eps", "sup_error", "worst_input", "terms", "sizes", "routing", "baseline_built",
              "mono_vs_baseline_max_diff", "passed"}


def rho(k):
    """ρ_k = r (1 + π² k²)^{−s/2} for s = 2, r = 1 in d = 1, by hand."""
    return 1.0 / (1.0 + math.pi ** 2 * k ** 2)


# ---------------------------------------------------------------- a tiny sweep

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    result = verify(SIN, [0.2, 0.4], out=out, budget=1, seed=3)
    return out, result


def test_tiny_sweep_passes_and_writes_every_file(tiny):
    out, result = tiny
    report = result["report"]
    assert report["passed"] and report["violations"] == []
    for name in ("report.md", "report.json", "results.csv", *PLOTS):
        path = out / name
        assert path.is_file() and path.stat().st_size > 0, name
    for name in PLOTS:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk == report
    assert set(on_disk) >= {"points", "slopes", "claims", "passed"}
    # points largest ε first, whatever the order given
    assert [p["eps"] for p in on_disk["points"]] == [0.4, 0.2]
    for p in on_disk["points"]:
        assert POINT_KEYS <= set(p)
        assert set(p["terms"]) == {"input_tail", "output_tail", "interpolation", "reference"}
        for term in p["terms"].values():
            assert {"measured", "predicted", "passed"} <= set(term)
        for which in ("expert", "baseline"):
            assert {"counted", "predicted"} <= set(p["sizes"][which])
        assert {"depth_predicted", "depth_used", "storage", "n_experts"} <= set(p["routing"])
    for q in ("n_modes_in", "n_modes_out", "expert_width", "expert_rank", "expert_params", "log_n_experts"):
        assert {"fitted", "predicted"} <= set(on_disk["slopes"][q])
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [float(r["eps"]) for r in rows] == [0.4, 0.2]
    md = (out / "report.md").read_text()
    assert "Verdict: passed" in md and all(name in md for name in PLOTS)


def test_sizes_match_the_layer_formulas_and_the_baseline_agrees(tiny):
    _, result = tiny
    for p in result["report"]["points"]:
        n, M = p["n_modes_in"], p["n_modes_out"]
        expert = p["sizes"]["expert"]
        # encoder n², affine map Mn + M, decoder M² (docs/architecture.md)
        assert expert["counted"] == {"depth": 3, "width": max(n, M), "rank": max(n, M),
                                     "params": n * n + M * n + M + M * M}
        assert expert["counted"] == expert["predicted"]
        assert p["baseline_built"]
        assert p["sizes"]["baseline"]["counted"] == p["sizes"]["baseline"]["predicted"]
        pl = plan(SIN, p["eps"])
        nodes = math.prod(q + 1 for q in pl.cells_per_axis)
        assert p["sizes"]["baseline"]["counted"]["width"] == max(2 * n * nodes, M)
        assert p["mono_vs_baseline_max_diff"] <= 1e-12
        assert p["routing"]["depth_used"] <= p["routing"]["depth_predicted"]
        assert p["routing"]["n_experts"] == math.prod(pl.cells_per_axis) * math.factorial(n)


def test_worst_input_is_saved_and_its_error_recomputes_on_the_grid(tiny):
    out, result = tiny
    for p in result["report"]["points"]:
        c = np.load(out / p["worst_input_coefficients"])
        u = np.load(out / p["worst_input"])
        assert u.shape == (1024,) and len(c) == p["n_probe"] > p["n_modes_in"]
        np.testing.assert_allclose(u, basis.sample(c[None], first_modes(1, len(c)), (1024,))[0], atol=1e-14)
        assert np.all(np.abs(c) <= BOX.radii(len(c)) * (1 + 1e-12))  # inside K
        # independent path: the MoNO applied to the samples (encoder DCT → expert →
        # decoder samples), G = sin pointwise, L² norm by the midpoint rule
        mono = build_mono(SIN, p["eps"], make_target("sin", BOX))
        A = mono(u[None])[0]
        error = math.sqrt(np.mean((np.sin(u) - A) ** 2))
        assert error == pytest.approx(p["sup_error"], rel=1e-9, abs=1e-13)
        # triangle inequality of the decomposition at the same input
        t = p["terms"]
        parts = t["input_tail"]["measured"] + t["output_tail"]["measured"] + t["interpolation"]["measured"]
        assert p["sup_error"] <= parts + 1e-12
        assert p["sup_error"] <= p["bound"] <= p["eps"] * (1 + 1e-12)


# ---------------------------------------------------------------- a known worst case

def test_adversarial_search_finds_the_closed_form_sup_of_norm_sq():
    """G(u) = ‖u‖² on K(2, 1), A from the MoNO. With n input modes and probes of m modes,
    G(u) − A(u) = Σ_{n≤k<m} c_k² − (I_h F − F)(a), F(a) = Σ_{k<n} a_k². On any Kuhn
    simplex I_h F − F = Σ_k h_k² f_k (1 − f_k) (F is separable and quadratic), so both
    parts are ≥ 0 and sup |G − A| = max(Σ_{n≤k<m} ρ_k², Σ_k h_k²/4), the first at a node
    with an extreme tail, the second at a cell centre with a zero tail."""
    problem = Problem(target_spec("norm_sq", BOX))
    target = make_target("norm_sq", BOX)
    for eps, dominant in ((0.4, "interpolation"), (0.2, "tail")):
        p = plan(problem, eps)
        n = p.n_modes_in
        m = n_probe_modes(n, target)
        tail = sum(rho(k) ** 2 for k in range(n, m))
        h = [2 * rho(k) / q for k, q in enumerate(p.cells_per_axis)]
        interp = sum(x * x for x in h) / 4
        truth = max(tail, interp)
        assert (interp > tail) == (dominant == "interpolation")
        found = verify_point(problem, eps, target, budget=2, seed=1, baseline=False).to_dict()
        assert found["sup_error"] <= truth * (1 + 1e-9)            # a lower estimate
        assert found["sup_error"] == pytest.approx(truth, rel=1e-7)  # ... that reaches the sup
        if dominant == "interpolation":
            # sampling alone misses the exact centre: the adversarial search closes the gap
            assert found["sup_error_samples"] < found["sup_error"]
            assert found["sup_source"].startswith("adversarial")


# ---------------------------------------------------------------- an understated modulus

def test_understated_modulus_fails_naming_the_bound(tmp_path):
    target = custom_target(BOX, np.sin, "0.1*t", radius=str(target_spec("sin", BOX).radius), t=1)
    problem = Problem(target.spec)
    result = verify(problem, [0.1], target, out=tmp_path, budget=1, baseline=False)
    report = result["report"]
    assert not report["passed"]
    (point,) = report["points"]
    assert not point["passed"] and not point["terms"]["input_tail"]["passed"]
    assert any("input tail" in v and "eps = 0.1" in v for v in report["violations"])
    # sin is 1-Lipschitz, not 0.1: the measured input tail exceeds 0.1·τ_in(n)
    t = point["terms"]["input_tail"]
    assert t["max_over_samples"] > 5 * t["predicted"]
    u = np.load(tmp_path / point["worst_input"])
    assert u.shape == (1024,)
    assert "input tail" in (tmp_path / "report.md").read_text()


# ---------------------------------------------------------------- Hölder rates

def test_holder_target_passes_and_follows_the_slower_rates():
    holder = Problem(target_spec("abs_power", BOX, alpha=0.5))
    lipschitz = Problem(target_spec("abs_power", BOX, alpha=1))
    eps = [0.4, 0.2, 0.1, 0.05]
    report = verify(holder, eps, budget=0, baseline=False)["report"]
    assert report["passed"], report["violations"]
    slopes = report["slopes"]
    # predicted: n ≍ ε^{−2d/(α(2s−d))} = ε^{−4/3} for α = 1/2 (ε^{−2/3} if Lipschitz)
    assert slopes["n_modes_in"]["exponent"] == pytest.approx(4 / 3)
    assert slopes["n_modes_in"]["predicted"] == pytest.approx(4 / 3, rel=1e-6)
    from mono.bounds.rates import predicted_slopes
    lip = predicted_slopes(lipschitz, eps)["n_modes_in"]
    assert lip == pytest.approx(2 / 3, rel=1e-6)
    fitted = slopes["n_modes_in"]["fitted"]
    assert abs(fitted - 4 / 3) < 0.25 and fitted > lip + 0.4
    # a functional: M = 1, the expert width is n, its slope that of n
    assert slopes["n_modes_out"]["fitted"] == 0
    assert slopes["expert_width"]["fitted"] == pytest.approx(fitted)
    # the measured error falls with ε (and stays below it)
    errors = [p["sup_error"] for p in report["points"]]
    assert errors == sorted(errors, reverse=True)
    assert all(p["sup_error"] < p["eps"] for p in report["points"])


# ---------------------------------------------------------------- resume and determinism

SWEEP = dict(budget=1, seed=5)
EPS = [0.4, 0.2, 0.1]


def test_resume_recomputes_only_missing_points_and_gives_the_same_bytes(tmp_path, monkeypatch):
    first = tmp_path / "first"
    verify(SIN, EPS, out=first, **SWEEP)
    reference = (first / "report.json").read_bytes()

    calls = []
    original = verify_module.verify_point

    def counting(*args, **kwargs):
        calls.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(verify_module, "verify_point", counting)
    points = first / "points"
    kept = {p: p.stat().st_mtime_ns for p in points.iterdir()}
    missing = points / f"eps_{eps_key(0.2)}.json"
    missing.unlink()
    result = verify(SIN, EPS, out=first, **SWEEP)
    assert calls == [0.2]                              # only the deleted point
    assert sorted(result["reused"]) == sorted([eps_key(0.4), eps_key(0.1)])
    for path, mtime in kept.items():
        if path != missing:
            assert path.stat().st_mtime_ns == mtime    # finished points untouched
    assert missing.is_file()
    assert (first / "report.json").read_bytes() == reference

    # a point whose parameters changed is recomputed, not reused
    calls.clear()
    verify(SIN, EPS, out=first, budget=0, seed=5)
    assert sorted(calls) == sorted(EPS)
    calls.clear()
    # a corrupt point file is recomputed
    (points / f"eps_{eps_key(0.4)}.json").write_text("{not json")
    verify(SIN, EPS, out=first, budget=0, seed=5)
    assert calls == [0.4]


def test_same_seed_same_bytes_other_seed_other_search(tmp_path):
    verify(SIN, EPS, out=tmp_path / "a", **SWEEP)
    verify(SIN, EPS, out=tmp_path / "b", **SWEEP)
    assert (tmp_path / "a" / "report.json").read_bytes() == (tmp_path / "b" / "report.json").read_bytes()
    other = verify(SIN, EPS, budget=1, seed=6)["report"]
    same = json.loads((tmp_path / "a" / "report.json").read_text())
    assert [p["seed"] for p in other["points"]] != [p["seed"] for p in same["points"]]
    assert point_seed(5, 0.1) == point_seed(5, 0.1) != point_seed(5, 0.2)


def test_a_thread_pool_executor_gives_the_same_report(tmp_path):
    sync = verify(SIN, EPS, out=tmp_path / "sync", **SWEEP)["report"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        threaded = verify(SIN, EPS, out=tmp_path / "pool", executor=pool, **SWEEP)["report"]
    assert threaded == sync
    assert (tmp_path / "sync" / "report.json").read_bytes() == (tmp_path / "pool" / "report.json").read_bytes()


# ---------------------------------------------------------------- other constructions

def test_block_experts_and_d2_are_verified():
    block = verify_point(SIN, 0.1, granularity=4, budget=0).to_dict()
    assert block["passed"]
    n, M = block["n_modes_in"], block["n_modes_out"]
    expert = block["sizes"]["expert"]["counted"]
    # hat network on a block of min(4, q_k) cells: N nodes, width 2nN (> M here)
    cells = plan(SIN, 0.1).cells_per_axis
    N = math.prod(min(4, q) + 1 for q in cells)
    assert expert["width"] == max(2 * n * N, M) and expert["rank"] == max(n, M)
    heat2 = Problem(target_spec("heat", SobolevBox(2, 2, 1)))
    point = verify_point(heat2, 0.3, budget=0).to_dict()
    assert point["passed"] and point["terms"]["reference"]["measured"] < 1e-12


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs, parameter", [
    (dict(eps_list=[]), "eps"),
    (dict(eps_list=[0.1, 0.1]), "eps"),
    (dict(eps_list=[-0.1]), "eps"),
    (dict(eps_list=[float("nan")]), "eps"),
    (dict(eps_list=[0.1], budget=-1), "budget"),
    (dict(eps_list=[0.1], seed=1.5), "seed"),
    (dict(eps_list=[0.1], baseline_budget=0), "baseline_budget"),
    (dict(eps_list=[0.1], executor="pool"), "executor"),
])
def test_bad_input_is_refused_with_the_parameter_named(kwargs, parameter):
    with pytest.raises(InputError) as info:
        verify(SIN, **kwargs)
    assert info.value.parameter == parameter


def test_mismatched_target_and_unwritable_out_are_refused(tmp_path):
    with pytest.raises(InputError) as info:
        verify_point(SIN, 0.1, make_target("ode", BOX))
    assert info.value.parameter == "target"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError) as info:
        verify(SIN, [0.4], out=blocker)
    assert info.value.parameter == "--out"
