"""Property-based tests (hypothesis) across bounds and construct.

* the hat basis on the grid a plan really builds: partition of unity, nodal, and equal
  to the barycentric weights of the routed simplex (zero off its vertices);
* the routed simplex contains the point (both routers, ties included);
* the MoNO equals the single-NO baseline on random small problems;
* Theorem E holds on random small problems with random Lipschitz targets whose
  modulus is their true constant (the measured error never exceeds the plan's total);
* counts from ``bounds`` are monotone in ε.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from mono.bounds.modulus import Modulus
from mono.bounds.plan import Problem, plan
from mono.bounds.space import SobolevBox, first_modes
from mono.bounds.targets import target_spec
from mono.construct import basis
from mono.construct.baseline import build_baseline
from mono.construct.compact import sample_box, sample_extreme
from mono.construct.mono import build_mono
from mono.construct.targets import custom_target, make_target
from mono.construct.triangulation import (
    CoefficientGrid, barycentric, hat, kuhn_order, route_counted, simplex_vertices,
)
from mono.errors import InputError

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SLOW = settings(max_examples=12, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# registered targets usable in d = 1 with small grids, and their parameters
TARGETS = [("heat", {"T": 0.05}), ("heat", {"T": 0.2}), ("antiderivative", {}), ("sin", {}),
           ("norm_sq", {}), ("abs_power", {"alpha": 0.5}), ("abs_power", {"alpha": 1})]
SMOOTHNESS = [Fraction(2), Fraction(5, 2), Fraction(3)]
RADII = [Fraction(1, 2), Fraction(1), Fraction(3, 2)]
SPLITS = [(Fraction(1, 3),) * 3, (Fraction(1, 10), Fraction(1, 10), Fraction(4, 5)),
          (Fraction(1, 4), Fraction(1, 4), Fraction(1, 2))]


def _problem(name, params, s, r, split, d=1):
    box = SobolevBox(d, s, r)
    return Problem(target_spec(name, box, **params), split), box


# ----------------------------------------------------------------------------- grids

@st.composite
def plan_grids(draw):
    """A CoefficientGrid exactly as a plan builds it (radii, cells), kept small."""
    name, params = draw(st.sampled_from(TARGETS))
    s, r, split = draw(st.sampled_from(SMOOTHNESS)), draw(st.sampled_from(RADII)), draw(st.sampled_from(SPLITS))
    eps = draw(st.sampled_from([0.2, 0.3, 0.5, 0.8, 1.2]))
    try:
        problem, box = _problem(name, params, s, r, split)
    except InputError:
        assume(False)
    p = plan(problem, eps)
    assume(p.n_nodes <= 400 and p.n_modes_in <= 4)
    grid = CoefficientGrid(np.array([float(x) for x in p.radii]), p.cells_per_axis,
                           modes=first_modes(1, p.n_modes_in))
    return grid


@st.composite
def grids_and_points(draw):
    grid = draw(plan_grids())
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    a = rng.uniform(-1, 1, (16, grid.n)) * grid.radii
    # points on grid planes (ties between fractional coordinates, faces of cells)
    for row in range(4):
        k = rng.integers(0, grid.n)
        a[row, k] = grid.node_coefficients(rng.integers(0, grid.q + 1))[k]
    a[4] = grid.radii                                 # the upper corner of the box
    a[5] = -grid.radii                                # and the lower one
    if grid.n >= 2:
        a[6, 1] = a[6, 0] / grid.radii[0] * grid.radii[1]  # equal scaled coordinates
    return grid, a


def _all_nodes(grid):
    idx = np.array(list(itertools.product(*[range(q + 1) for q in grid.cells])), dtype=np.int64)
    return idx, grid.node_coefficients(idx)


@SETTINGS
@given(grids_and_points())
def test_hat_basis_partition_of_unity_and_equals_barycentric_weights(data):
    grid, a = data
    idx, coords = _all_nodes(grid)
    weights = hat((a[:, None, :] - coords[None]) / grid.spacing)      # (batch, nodes)
    assert weights.min() >= 0
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # the hats that do not vanish are the routed simplex's vertices, with its
    # barycentric weights: the hat expansion is the piecewise-linear interpolant
    cell, frac = grid.locate(a)
    perm = kuhn_order(frac)
    beta = barycentric(frac, perm)
    vertices = simplex_vertices(cell, perm)
    flat = {tuple(v): i for i, v in enumerate(idx.tolist())}
    expected = np.zeros_like(weights)
    for row in range(len(a)):
        for vertex, b in zip(vertices[row].tolist(), beta[row]):
            expected[row, flat[tuple(vertex)]] += b
    np.testing.assert_allclose(weights, expected, rtol=0, atol=1e-12)


@SETTINGS
@given(plan_grids())
def test_hat_basis_is_nodal_on_plan_grids(grid):
    _, coords = _all_nodes(grid)
    weights = hat((coords[:, None, :] - coords[None]) / grid.spacing)
    np.testing.assert_allclose(weights, np.eye(len(coords)), rtol=0, atol=1e-12)


@SETTINGS
@given(grids_and_points())
def test_routed_simplex_contains_the_point(data):
    grid, a = data
    cell, perm, comparisons = route_counted(grid, a)           # the routing tree
    fast_cell, frac = grid.locate(a)                           # the fast path
    assert np.array_equal(cell, fast_cell) and np.array_equal(perm, kuhn_order(frac))
    assert (cell >= 0).all() and (cell < grid.q).all()
    assert sorted(map(sorted, perm.tolist())) == [list(range(grid.n))] * len(a)
    beta = barycentric(frac, perm)
    assert beta.min() >= -1e-12                                # inside: weights >= 0
    np.testing.assert_allclose(beta.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    vertices = grid.node_coefficients(simplex_vertices(cell, perm))   # (batch, n+1, n)
    np.testing.assert_allclose(np.einsum("bi,bik->bk", beta, vertices), a,
                               rtol=0, atol=1e-12 * grid.radii.max())
    # every vertex is a grid node of the point's cell: within one spacing per axis
    low = grid.node_coefficients(cell)
    assert ((vertices - low[:, None]) >= -1e-12).all()
    assert ((vertices - low[:, None]) <= grid.spacing + 1e-12).all()


# ----------------------------------------------------------------------------- MoNO = baseline

@st.composite
def small_monos(draw):
    name, params = draw(st.sampled_from(TARGETS))
    s, r, split = draw(st.sampled_from(SMOOTHNESS)), draw(st.sampled_from(RADII)), draw(st.sampled_from(SPLITS))
    eps = draw(st.sampled_from([0.15, 0.3, 0.5, 0.8]))
    granularity = draw(st.sampled_from([None, None, 1, 2, 3]))
    try:
        problem, box = _problem(name, params, s, r, split)
    except InputError:
        assume(False)
    p = plan(problem, eps)
    assume(p.n_modes_in >= 1 and p.n_nodes <= 3000 and p.baseline.params <= 2_000_000)
    target = make_target(name, box, (256,), **params)
    return build_mono(problem, eps, target, granularity), draw(st.integers(0, 2 ** 32 - 1))


@SLOW
@given(small_monos())
def test_mono_equals_baseline_on_random_problems(data):
    mono, seed = data
    baseline = build_baseline(mono)
    rng = np.random.default_rng(seed)
    box = mono.target.box
    a = np.concatenate([sample_box(box, mono.n, 24, rng), sample_extreme(box, mono.n, 8, rng)])
    got = mono.coefficients(a)
    expected = baseline.forward_constant(a)
    scale = 1 + np.abs(expected).max()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9 * scale)


# ----------------------------------------------------------------------------- Theorem E

def _sin_target(box, L, resolution):
    """G(u) = L sin(u): ‖G(u) − G(v)‖ ≤ L ‖u − v‖ (|sin'| ≤ 1, attained near 0), and
    ‖G(u)‖²_{H¹} = L²(‖sin u‖² + ‖cos(u) u'‖²) ≤ L²(1 + ‖u'‖²) ≤ L²(1 + sup_K ‖∇u‖²)."""
    with mpmath.workdps(30):
        R = L * mpmath.sqrt(1 + box.grad_sq())
    return custom_target(box, lambda u: L * np.sin(u), Modulus.lipschitz(L), R, t=1,
                         resolution=resolution, name="L_sin")


def _linear_functional(box, L, m, rng, resolution):
    """G(u) = ⟨b, P_m u⟩ with ‖b‖ = L: Lipschitz with constant exactly L, |G| ≤ L sup_K ‖u‖."""
    b = rng.standard_normal(m)
    b *= L / np.linalg.norm(b)
    modes = first_modes(1, m)

    def fn(samples):
        return basis.coefficients(samples, modes) @ b

    with mpmath.workdps(30):
        bound = L * box.sup_norm() * (1 + mpmath.mpf("1e-12"))
    return custom_target(box, fn, Modulus.lipschitz(L), bound, kind="functional",
                         resolution=resolution, name="linear_functional")


def _linear_operator(box, L, m, rng, resolution):
    """G(u) = Σ_{j<m} (B P_m u)_j φ_j with ‖B‖₂ = L: Lipschitz constant exactly L; its
    output has modes < m, so ‖G(u)‖_{H¹} ≤ (1 + π²(m−1)²)^{1/2} L sup_K ‖u‖."""
    B = rng.standard_normal((m, m))
    B *= L / np.linalg.norm(B, 2)
    modes = first_modes(1, m)

    def fn(samples):
        c = basis.coefficients(samples, modes) @ B.T
        return basis.sample(c, modes, samples.shape[1:])

    with mpmath.workdps(30):
        R = (L * mpmath.sqrt(1 + mpmath.pi ** 2 * (m - 1) ** 2) * box.sup_norm()
             * (1 + mpmath.mpf("1e-12")))
    return custom_target(box, fn, Modulus.lipschitz(L), R, t=1, resolution=resolution,
                         name="linear_operator")


@st.composite
def lipschitz_problems(draw):
    kind = draw(st.sampled_from(["sin", "functional", "operator"]))
    s = draw(st.sampled_from(SMOOTHNESS))
    r = draw(st.sampled_from(RADII))
    L = draw(st.floats(0.2, 3.0))
    split = draw(st.sampled_from(SPLITS))
    eps_over_L = draw(st.sampled_from([0.08, 0.15, 0.3, 0.6]))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    box = SobolevBox(1, s, r)
    resolution = (256,)
    if kind == "sin":
        target = _sin_target(box, L, resolution)
    elif kind == "functional":
        target = _linear_functional(box, L, draw(st.integers(1, 6)), rng, resolution)
    else:
        target = _linear_operator(box, L, draw(st.integers(1, 6)), rng, resolution)
    problem = Problem(target.spec, split)
    eps = eps_over_L * L * float(box.sup_norm())       # a problem-relative accuracy
    try:
        p = plan(problem, eps)
    except InputError:
        assume(False)
    assume(p.n_modes_in <= 5 and p.n_modes_out <= 60)
    return problem, target, eps, seed


@SLOW
@given(lipschitz_problems())
def test_theorem_E_holds_for_random_lipschitz_targets(data):
    problem, target, eps, seed = data
    mono = build_mono(problem, eps, target)
    total = float(mono.plan.error_terms.total)
    assert total <= eps * (1 + 1e-12)
    box, grid = problem.box, target.resolution
    # inputs of K with more modes than n, so that the input tail is exercised
    k = min(mono.n + 10, grid[0] // 2)
    rng = np.random.default_rng(seed)
    c = np.concatenate([sample_box(box, k, 40, rng), sample_extreme(box, k, 40, rng)])
    u = basis.sample(c, first_modes(1, k), grid)
    exact = target.function(u)
    approx = mono(u)
    if mono.is_functional:
        errors = np.abs(exact - approx)
    else:
        # discrete L² norm on the midpoint grid (= Parseval on the DCT coefficients)
        errors = np.sqrt(np.mean((exact - approx) ** 2, axis=1))
    assert errors.max() <= total * (1 + 1e-9) + 1e-12, (errors.max(), total)


# ----------------------------------------------------------------------------- monotone counts

COUNTS = ("n_modes_in", "n_modes_out", "n_cells", "n_nodes", "n_simplices", "n_experts",
          "routing_depth", "routing_storage")


@SETTINGS
@given(target=st.sampled_from(TARGETS), s=st.sampled_from(SMOOTHNESS), r=st.sampled_from(RADII),
       split=st.sampled_from(SPLITS), eps=st.floats(0.05, 2.0), ratio=st.floats(0.2, 1.0),
       granularity=st.sampled_from([None, 1, 2, 5]), d=st.sampled_from([1, 1, 1, 2]))
def test_counts_are_monotone_in_eps(target, s, r, split, eps, ratio, granularity, d):
    name, params = target
    try:
        problem, _ = _problem(name, params, s, r, split, d=d)
    except InputError:
        assume(False)
    coarse = plan(problem, eps, granularity)
    try:
        fine = plan(problem, eps * ratio, granularity)
    except InputError:
        assume(False)
    for attribute in COUNTS:
        assert getattr(fine, attribute) >= getattr(coarse, attribute), attribute
    assert fine.expert.params >= coarse.expert.params
    assert fine.baseline.params >= coarse.baseline.params
    assert fine.mesh <= coarse.mesh
    assert fine.error_terms.total <= fine.eps * (1 + mpmath.mpf("1e-20"))
