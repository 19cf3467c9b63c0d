"""Leading-order rates against exact plans, and the paper's claims."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from mono.bounds.plan import Problem, plan
from mono.bounds.rates import (
    ALPHA, D, EPS, S, T,
    claims, fit_exponents, general_rates, predicted_slopes, quantities, rates, width_condition,
)
from mono.bounds.space import SobolevBox
from mono.bounds.targets import target_spec

#: Allowed difference between a slope fitted on exact counts and the predicted slope
#: of the leading-order expression over the same decade of ε.
TOL = 0.15

# the quantities whose slopes are compared (depths are O(1)/O(log): slope ~ 0 either way)
COMPARED = ("n_modes_in", "n_modes_out", "mesh", "expert_width", "expert_rank", "expert_params",
            "routing_depth", "log_n_experts", "log_baseline_width", "baseline_depth",
            "log_stored_node_table", "log_stored_explicit_experts")


def _problem(name, d, s, r=1, **params):
    return Problem(target_spec(name, SobolevBox(d, s, r), **params))


def _sweep(problem, lo, hi, k=4):
    eps = np.geomspace(lo, hi, k)
    return eps, [plan(problem, e) for e in eps]


CASES = {
    # name: (problem args, ε range over one decade)
    "sin d=1 s=5/2 (γ_n = 1/2, γ_M = 1)": (("sin", 1, sympy.Rational(5, 2)), {}, (1e-4, 1e-3)),
    "heat d=1 s=2 (γ_n = 2/3, M polylog)": (("heat", 1, 2), {"T": 0.05}, (1e-5, 1e-4)),
    "norm_sq d=1 s=2 (Lipschitz, C = diam K)": (("norm_sq", 1, 2), {}, (1e-4, 1e-3)),
    "abs_power α=1/2 d=1 s=2 (Hölder)": (("abs_power", 1, 2), {"alpha": 0.5}, (0.01, 0.1)),
    # d = 2 needs n in the hundreds: below that the lattice boundary term (the count of
    # modes is πρ²/4 + ρ, not πρ²/4) bends the local slopes away from the leading order
    "heat d=2 s=4 (γ_n = 2/3)": (("heat", 2, 4), {"T": 0.05}, (1e-7, 1e-6)),
}


@pytest.fixture(scope="module", params=list(CASES))
def sweep(request):
    args, params, (lo, hi) = CASES[request.param]
    problem = _problem(*args, **params)
    eps, plans = _sweep(problem, lo, hi)
    return problem, eps, plans


def test_fitted_slopes_match_predictions(sweep):
    problem, eps, plans = sweep
    fitted = fit_exponents(plans)
    predicted = predicted_slopes(problem, eps)
    for q in COMPARED:
        assert abs(fitted[q] - predicted[q]) <= TOL, (q, fitted[q], predicted[q])
    r = rates(problem)
    # the counts that are pure powers also match the bare exponent
    for q in ("n_modes_in", "expert_width", "log_baseline_width"):
        assert abs(fitted[q] - float(r[q].exponent)) <= TOL, (q, fitted[q], r[q].exponent)
    assert fitted["expert_depth"] == pytest.approx(0, abs=1e-12)


def test_exponent_of_n_by_hand(sweep):
    # γ_n = 1/(α(s/d − 1/2)), computed here from the box and modulus
    problem, _, _ = sweep
    alpha = problem.modulus.exponent
    s_over_d = sympy.nsimplify(problem.box.s) / problem.box.d
    gamma = 1 / (sympy.nsimplify(alpha) * (s_over_d - sympy.Rational(1, 2)))
    assert sympy.simplify(rates(problem)["n_modes_in"].exponent - gamma) == 0


def test_leading_constant_of_n_d1():
    # n ≈ (r² π^{−2s}/(2s−1))^{1/(2s−1)} (θε)^{−2/(2s−1)} for the heat target (ω = t)
    problem = _problem("heat", 1, 2, T=0.05)
    for eps in (1e-4, 3e-5):
        p = plan(problem, eps)
        by_hand = (np.pi ** -4 / 3) ** (1 / 3) * (eps / 3) ** (-2 / 3)
        assert p.n_modes_in == pytest.approx(by_hand, rel=0.02)
        lead = float(sympy.N(rates(problem)["n_modes_in"].leading.subs(EPS, eps)))
        assert lead == pytest.approx(by_hand, rel=1e-9)


def test_leading_constant_of_M_sin():
    # t = 1: M ≈ R/(π θ_out ε)
    problem = _problem("sin", 1, 2)
    R = float(problem.target.radius)
    for eps in (1e-3, 1e-4):
        p = plan(problem, eps)
        assert p.n_modes_out == pytest.approx(R / (np.pi * eps / 3), rel=0.01)


def test_holder_is_slower_than_lipschitz():
    lip = _problem("norm_sq", 1, 2)
    hol = _problem("abs_power", 1, 2, alpha=0.5)
    g_lip = float(rates(lip)["n_modes_in"].exponent)
    g_hol = float(rates(hol)["n_modes_in"].exponent)
    assert g_hol == pytest.approx(2 * g_lip)  # γ_n ∝ 1/α
    _, plans_hol = _sweep(hol, 0.01, 0.1)
    _, plans_lip = _sweep(lip, 1e-4, 1e-3)
    f_hol = fit_exponents(plans_hol)["n_modes_in"]
    f_lip = fit_exponents(plans_lip)["n_modes_in"]
    assert f_hol > 1.6 * f_lip
    # at the same ε the Hölder functional needs more modes
    assert plan(hol, 0.05).n_modes_in > plan(lip, 0.05).n_modes_in


def test_general_rates_specialise():
    g = general_rates("operator")
    d1 = {D: 1, ALPHA: 1}
    assert sympy.simplify(g["n_modes_in"].exponent.subs(d1) - 1 / (S - sympy.Rational(1, 2))) == 0
    assert sympy.simplify(g["n_modes_out"].exponent.subs(d1) - 1 / T) == 0
    assert general_rates("functional")["n_modes_out"].leading == 1
    assert general_rates("heat")["n_modes_out"].exponent == 0
    cond, text = width_condition()
    assert cond.subs({D: 1, ALPHA: 1, S: sympy.Rational(3, 2), T: 1}) == sympy.true
    assert cond.subs({D: 1, ALPHA: 1, S: sympy.Rational(7, 5), T: 1}) == sympy.false
    assert cond.subs({D: 1, ALPHA: 1, S: 2, T: sympy.Rational(1, 2)}) == sympy.false
    assert "3/2" in text
    # the diameter enters the symbolic form for the norm_sq functional
    sym = rates(_problem("norm_sq", 1, 2), symbolic=True)
    assert any(s.name == "D_K" for s in sym["n_modes_in"].leading.free_symbols)


def _claim(cs, words):
    (c,) = [c for c in cs if c.statement == words]
    return c


@pytest.mark.parametrize(
    "args, params, width_ok",
    [
        (("sin", 1, 2), {}, True),  # Lipschitz, s ≥ 3/2, t = 1
        (("heat", 1, sympy.Rational(3, 2)), {"T": 0.05}, True),  # γ_n = 1 exactly, M polylog
        (("heat", 1, sympy.Rational(6, 5)), {"T": 0.05}, False),  # s < 3/2
        (("antiderivative", 1, 1), {}, False),  # s = 1 < 3/2
        (("abs_power", 1, 2), {"alpha": 0.5}, False),  # Hölder: needs s ≥ 1/2 + 1/α = 5/2
        (("abs_power", 1, 3), {"alpha": 0.5}, True),
        (("norm_sq", 2, 3), {}, True),  # d = 2: s ≥ 3
        (("norm_sq", 2, sympy.Rational(5, 2)), {}, False),
    ],
)
def test_claims(args, params, width_ok):
    problem = _problem(*args, **params)
    cs = claims(problem, eps=0.2)
    assert _claim(cs, "active expert depth is O(ε⁻¹)").holds
    assert _claim(cs, "active expert width is O(ε⁻¹)").holds is width_ok
    assert _claim(cs, "active expert rank is O(ε⁻¹)").holds is width_ok
    # independent check of the condition: max(γ_n, γ_M) <= 1
    r = rates(problem)
    gamma = max(float(r["n_modes_in"].exponent), float(r["n_modes_out"].exponent))
    assert (gamma <= 1 + 1e-12) is width_ok
    p = plan(problem, 0.2)
    depth = _claim(cs, "active expert depth is smaller than the single NO's")
    assert depth.holds and depth.holds_at_eps is (p.expert.depth < p.baseline.depth) is True
    rank = _claim(cs, "active expert rank is smaller than the single NO's")
    assert rank.holds is False and rank.holds_at_eps is False
    assert p.expert.rank == p.baseline.rank
    width = _claim(cs, "active expert width is smaller than the single NO's")
    assert width.holds_at_eps is (p.expert.width < p.baseline.width)


def test_quantities_are_exact_logs():
    p = plan(_problem("heat", 1, 0.75, T=0.05), 0.3)  # astronomically many experts
    q = quantities(p)
    assert q["log_n_experts"] > 690  # > log(1e300), computed without overflow
    assert np.isfinite(float(q["log_baseline_width"]))
