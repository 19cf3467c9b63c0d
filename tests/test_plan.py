"""The plan for one ε: brute-force agreement, error budget, exact huge counts, bad input."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mono.bounds.plan import Plan, Problem, plan
from mono.bounds.sizes import hat_network_sizes, simplex_expert_sizes
from mono.bounds.space import SobolevBox
from mono.bounds.targets import target_spec
from mono.errors import InputError


def _problem(name="heat", d=1, s=2, r=1, split=(Fraction(1, 3),) * 3, **params):
    return Problem(target_spec(name, SobolevBox(d, s, r), **params), split)


# ------------------------------------------------ heat: independent brute force (d = 1)

def _brute_heat_d1(eps, s, r, T):
    """n, M, q_k and counts for the heat target in d = 1, by direct summation.

    Modes are k = 0, 1, 2, ... (|k|² ascending); ρ_k = r (1 + π²k²)^{−s/2}; ω(t) = t.
    """
    mpmath.mp.dps = 30
    share = mpmath.mpf(eps) / 3
    rho = lambda k: r * (1 + mpmath.pi**2 * k * k) ** (-mpmath.mpf(s) / 2)

    def tail_in(n):  # (Σ_{k ≥ n} ρ_k²)^{1/2}, summed directly by mpmath.nsum
        return mpmath.sqrt(mpmath.nsum(lambda k: rho(k) ** 2, [n, mpmath.inf]))

    def tail_out(M):  # (Σ_{k ≥ M} e^{−2Tπ²k²} ρ_k²)^{1/2}
        return mpmath.sqrt(mpmath.nsum(lambda k: mpmath.exp(-2 * T * mpmath.pi**2 * k * k) * rho(k) ** 2,
                                       [M, mpmath.inf]))

    n = 1
    while tail_in(n) > share:
        n += 1
    M = 1
    while tail_out(M) > share:
        M += 1
    h = share / mpmath.sqrt(n)
    q = [max(1, int(mpmath.ceil(2 * rho(k) / h))) for k in range(n)]
    return n, M, q, h, tail_in(n), tail_out(M)


@pytest.mark.parametrize("eps, s, r, T", [(0.2, 2, 1, 0.05), (0.05, 1.5, 1, 0.05),
                                          (0.02, 2, 0.5, 0.1), (0.01, 3, 2, 0.01)])
def test_heat_plan_matches_brute_force(eps, s, r, T):
    problem = _problem("heat", 1, s, r, T=T)
    p = plan(problem, eps)
    n, M, q, h, t_in, t_out = _brute_heat_d1(eps, s, r, T)
    assert (p.n_modes_in, p.n_modes_out) == (n, M)
    assert list(p.cells_per_axis) == q
    assert abs(p.mesh - h) <= mpmath.mpf("1e-25") * h
    assert p.n_cells == math.prod(q)
    assert p.n_nodes == math.prod(x + 1 for x in q)
    assert p.n_simplices == math.prod(q) * math.factorial(n)
    assert p.n_experts == p.n_simplices
    assert abs(p.error_terms.input_tail - t_in) <= mpmath.mpf("1e-20") * t_in
    assert abs(p.error_terms.output_tail - t_out) <= mpmath.mpf("1e-20") * max(t_out, mpmath.mpf("1e-300"))
    # the interpolation term is the cell diagonal, from spacings recomputed here
    diag = mpmath.sqrt(mpmath.fsum((2 * rho / qk) ** 2 for rho, qk in zip(p.radii, q)))
    assert abs(p.error_terms.interpolation - diag) <= mpmath.mpf("1e-25")
    assert p.expert == simplex_expert_sizes(n, M)
    assert p.baseline == hat_network_sizes(n, M, q)
    assert p.stored["node_table"] == p.n_nodes * M + sum(x - 1 for x in q)


def test_heat_plan_d2_brute_force():
    # d = 2: modes sorted by |k|²; tails summed in floats over a large lattice
    # (the input-tail remainder beyond K is bounded by an integral and is tiny).
    eps, s, r, T = 0.1, 2.0, 1.0, 0.05
    p = plan(_problem("heat", 2, s, r, T=T), eps)
    K = 1500
    k1, k2 = np.meshgrid(np.arange(K), np.arange(K), indexing="ij")
    lev = (k1**2 + k2**2).ravel()
    order = np.lexsort((k2.ravel(), k1.ravel(), lev))
    lev = lev[order]
    rho2 = r**2 * (1 + np.pi**2 * lev) ** (-s)
    rest = np.pi / 4 * r**2 / (np.pi**4 * (s - 1)) * (K - 1) ** (2 - 2 * s)  # ∫ beyond the box
    tail_in = np.sqrt(np.cumsum(rho2[::-1])[::-1] + rest)  # tail_in[n] = sum over index >= n
    share = eps / 3
    n = int(np.argmax(tail_in <= share))
    out2 = np.exp(-2 * T * np.pi**2 * lev) * rho2
    tail_out = np.sqrt(np.cumsum(out2[::-1])[::-1])
    M = int(np.argmax(tail_out <= share))
    assert (p.n_modes_in, p.n_modes_out) == (max(n, 1), max(M, 1))
    h = share / math.sqrt(p.n_modes_in)
    q = [max(1, math.ceil(2 * math.sqrt(x) / h)) for x in rho2[: p.n_modes_in]]
    assert list(p.cells_per_axis) == q


# ------------------------------------------------ the error budget

PROBLEMS = [
    ("heat", 1, 2, 1, {"T": 0.05}),
    ("heat", 2, 2, 1, {"T": 0.1}),
    ("sin", 1, 2, 1, {}),
    ("sin", 2, 2.5, 0.5, {}),
    ("antiderivative", 1, 1, 1, {}),
    ("ode", 1, 1.5, 2, {}),
    ("abs_power", 1, 2, 1, {"alpha": 0.5}),
    ("norm_sq", 2, 2, 1, {}),
]


@settings(max_examples=40, deadline=None)
@given(
    which=st.sampled_from(range(len(PROBLEMS))),
    eps=st.floats(0.02, 1.0),
    split=st.tuples(st.floats(0.2, 1), st.floats(0.2, 1), st.floats(0.2, 1)),
)
def test_error_terms_within_their_shares(which, eps, split):
    name, d, s, r, params = PROBLEMS[which]
    total = sum(split)
    theta = tuple(x / total for x in split)
    p = plan(_problem(name, d, s, r, split=theta, **params), eps)
    e = p.error_terms
    assert e.input_tail <= p.shares[0]
    assert e.output_tail <= p.shares[1]
    assert e.interpolation <= p.shares[2]
    assert e.total <= mpmath.mpf(eps)
    assert abs(mpmath.fsum(p.shares) - mpmath.mpf(eps)) <= mpmath.mpf("1e-25")
    # minimality of n: one mode fewer would break the input share
    if p.n_modes_in > 1:
        omega = p.problem.modulus
        assert omega(p.problem.box.tail(p.n_modes_in - 1)) > p.shares[0]
    assert all(hk <= p.mesh for hk in p.spacings)


def test_granularity_end_points():
    problem = _problem("sin", 1, 2, 1)
    simplex = plan(problem, 0.05)
    q = simplex.cells_per_axis
    whole = plan(problem, 0.05, granularity=max(q))
    assert whole.n_experts == 1 and whole.routing_depth == 0 and whole.routing_storage == 0
    assert whole.expert == whole.baseline == simplex.baseline
    assert whole.stored["explicit_experts"] == whole.baseline.params
    one = plan(problem, 0.05, granularity=1)
    assert one.n_experts == simplex.n_cells
    assert one.expert == hat_network_sizes(one.n_modes_in, one.n_modes_out, [1] * one.n_modes_in)


def test_block_explicit_storage_sums_over_blocks():
    # Σ over blocks of the block expert's params, enumerated block by block here
    problem = _problem("sin", 1, 2, 1)
    for b in (1, 2, 3, 5):
        p = plan(problem, 0.05, granularity=b)
        runs = [[min(b, q - i) for i in range(0, q, b)] for q in p.cells_per_axis]
        total = 0
        for block in itertools.product(*runs):
            total += hat_network_sizes(p.n_modes_in, p.n_modes_out, block).params
        assert p.stored["explicit_experts"] == total
        assert p.n_experts == math.prod(len(r) for r in runs)


def test_astronomical_plan_is_exact():
    # s barely above 1/2 and a small ε: thousands of modes, counts far beyond float range
    problem = _problem("heat", 1, 0.75, 1, T=0.05)
    p = plan(problem, 0.3)
    assert p.n_modes_in > 100
    for value in (p.n_cells, p.n_nodes, p.n_experts, p.baseline.params, p.baseline.width,
                  p.stored["node_table"], p.stored["explicit_experts"]):
        assert type(value) is int
    assert p.n_experts > 10**300
    assert p.n_experts == p.n_cells * math.factorial(p.n_modes_in)
    assert mpmath.isfinite(p.error_terms.total) and p.error_terms.total <= mpmath.mpf("0.3")


@pytest.mark.parametrize("eps", [0, -1, float("nan"), float("inf"), "0.1", None, True])
def test_bad_eps(eps):
    with pytest.raises(InputError) as info:
        plan(_problem(), eps)
    assert info.value.parameter == "eps"


@pytest.mark.parametrize("b", [0, -2, 1.5, "2", True])
def test_bad_granularity(b):
    with pytest.raises(InputError) as info:
        plan(_problem(), 0.1, granularity=b)
    assert info.value.parameter == "granularity"


@pytest.mark.parametrize("split", [(0.5, 0.5, 0.5), (0, 0.5, 0.5), (-0.1, 0.6, 0.5),
                                   (0.5, 0.5), (float("nan"), 0.5, 0.5), "abc"])
def test_bad_split(split):
    spec = target_spec("heat", SobolevBox(1, 2, 1))
    with pytest.raises(InputError) as info:
        Problem(spec, split)
    assert info.value.parameter == "split"


def test_split_within_tolerance_is_normalised():
    spec = target_spec("heat", SobolevBox(1, 2, 1))
    prob = Problem(spec, (0.2, 0.3, 0.5 + 1e-13))
    assert mpmath.fsum(prob.split) == 1
    assert isinstance(plan(prob, 0.1), Plan)
