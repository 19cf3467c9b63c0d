"""Tests of the targets: proved constants (bounds.targets) against evaluations
(construct.targets), and the evaluators against independent computations.

Independent references used here: scipy quadrature and solve_ivp, direct cosine sums,
mpmath sums of the radii written out by hand, and brute-force mode lists.
"""

import functools
import math

import mpmath
import numpy as np
import pytest
import sympy
from scipy import integrate

from mono.bounds.space import SobolevBox, first_modes
from mono.bounds import targets as bt
from mono.construct import basis, compact
from mono.construct import targets as ct
from mono.errors import InputError

BOX1 = SobolevBox(d=1, s=2, r=1)
BOX1_BIG = SobolevBox(d=1, s=1.5, r=4)      # large inputs: the cubic term of the ODE matters
BOX2 = SobolevBox(d=2, s=2.5, r=1)
N_IN = 12                                   # input modes used in sampling

E2 = math.exp(-2)
ODE_L = math.sqrt((1 + E2) / 4)


# --- independent constants -----------------------------------------------------------------

def total_sq(box):
    """U² = Σ_k ρ_k² by mpmath.nsum over the lattice (independent of SobolevBox)."""
    f = lambda m: box.r ** 2 * (1 + mpmath.pi ** 2 * m) ** (-box.s)
    if box.d == 1:
        return mpmath.nsum(lambda k: f(k * k), [0, mpmath.inf])
    return mpmath.nsum(lambda a, b: f(a * a + b * b), [0, mpmath.inf], [0, mpmath.inf])


@functools.lru_cache(maxsize=None)
def _total_sq_cached(box):
    return total_sq(box)


def grad_sq(box):
    """D² = Σ_k λ_k ρ_k² by mpmath.nsum."""
    f = lambda m: mpmath.pi ** 2 * m * box.r ** 2 * (1 + mpmath.pi ** 2 * m) ** (-box.s)
    if box.d == 1:
        return mpmath.nsum(lambda k: f(k * k), [0, mpmath.inf])
    return mpmath.nsum(lambda a, b: f(a * a + b * b), [0, mpmath.inf], [0, mpmath.inf])


def omega_by_hand(name, box, params):
    """The modulus each target claims, written out from the theory document."""
    if name in ("heat", "sin"):
        return lambda t: t
    if name == "antiderivative":
        return lambda t: t / math.sqrt(2)
    if name == "ode":
        return lambda t: ODE_L * t
    if name == "abs_power":
        return lambda t: t ** params.get("alpha", 0.5)
    if name == "norm_sq":
        diam = 2 * math.sqrt(float(_total_sq_cached(box)))
        return lambda t: diam * t
    raise KeyError(name)


# --- L² norms of outputs --------------------------------------------------------------------

def out_dist(target, cu, cv):
    """‖G(u) − G(v)‖ (|·| for functionals) by the midpoint rule on the reference grid."""
    gu, gv = target(cu), target(cv)
    if target.kind == "functional":
        return np.abs(gu - gv)
    diff = (gu - gv).reshape(len(gu), -1)
    return np.sqrt((diff ** 2).mean(axis=1))


CASES = [
    ("heat", BOX1, {}), ("heat", BOX2, {"T": 0.01}),
    ("antiderivative", BOX1, {}), ("antiderivative", BOX1_BIG, {}),
    ("sin", BOX1, {}), ("sin", SobolevBox(d=1, s=2, r=5), {}), ("sin", BOX2, {}),
    ("ode", BOX1, {}), ("ode", BOX1_BIG, {}),
    ("abs_power", BOX1, {}), ("abs_power", BOX1_BIG, {"alpha": 0.2}), ("abs_power", BOX2, {"alpha": 1}),
    ("norm_sq", BOX1, {}), ("norm_sq", BOX2, {}),
]
IDS = [f"{n}-d{b.d}-s{b.s}-r{b.r}-{p}" for n, b, p in CASES]


def resolution(box):
    return (2048,) if box.d == 1 else (64, 64)


@pytest.fixture(scope="module", params=CASES, ids=IDS)
def case(request):
    name, box, params = request.param
    return name, box, params, ct.make_target(name, box, resolution(box), **params)


# --- the modulus --------------------------------------------------------------------------------

def test_spec_modulus_is_the_proved_one(case):
    name, box, params, target = case
    hand = omega_by_hand(name, box, params)
    for t in (1e-6, 0.01, 0.3, 1.0, 2.5):
        assert float(target.spec.modulus(t)) == pytest.approx(hand(t), rel=1e-12)


def _pairs(box, rng):
    n = N_IN
    u_box, v_box = compact.sample_box(box, n, 60, rng), compact.sample_box(box, n, 60, rng)
    u_ext, v_ext = compact.sample_extreme(box, n, 40, rng), compact.sample_extreme(box, n, 40, rng)
    u_ball, v_ball = compact.sample_ball(box, n, 20, rng), compact.sample_ball(box, n, 20, rng)
    # adversarially close pairs, kept inside K by shrinking the base point first
    base = 0.95 * np.concatenate([compact.sample_extreme(box, n, 30, rng),
                                  compact.sample_box(box, n, 30, rng)])
    rho = box.radii(n)
    small = base + rng.uniform(-1, 1, base.shape) * rho * np.array([1e-3, 1e-6])[rng.integers(0, 2, (60, 1))]
    u = np.concatenate([u_box, u_ext, u_ext, u_ball, base])
    v = np.concatenate([v_box, v_ext, -u_ext, v_ball, small])
    compact.check_inside(box, u)
    compact.check_inside(box, v)
    return u, v


def test_modulus_holds_on_random_extreme_and_close_pairs(case):
    name, box, params, target = case
    u, v = _pairs(box, np.random.default_rng(2024))
    d_in = np.linalg.norm(u - v, axis=1)                 # orthonormal basis: exact L² distance
    d_out = out_dist(target, u, v)
    omega = omega_by_hand(name, box, params)
    bound = np.array([omega(t) for t in d_in])
    # the midpoint-rule L² norm is accurate to ~1e-7 relative on these grids
    assert np.all(d_out <= bound * (1 + 1e-6) + 1e-13), np.max(d_out / bound)


def _top_direction(target, base, delta):
    """Unit input direction maximising ‖G(base + δz) − G(base)‖ (top singular vector of
    the finite-difference Jacobian on the first N_IN modes)."""
    n = base.shape[1]
    cols = base + delta * np.eye(n)
    g0 = target(base)
    J = (target(cols) - g0).reshape(n, -1) / delta
    if target.kind == "operator":
        J = J / math.sqrt(J.shape[1])                    # midpoint-rule L² norm
    _, _, vt = np.linalg.svd(J.T if target.kind == "operator" else J.reshape(1, n))
    return vt[0]


@pytest.mark.parametrize("name,box,params,where", [
    ("antiderivative", BOX1, {}, "zero"), ("heat", BOX1, {}, "zero"),
    ("sin", BOX1, {}, "zero"), ("ode", BOX1, {}, "zero"), ("ode", BOX1_BIG, {}, "corner"),
    ("ode", BOX1_BIG, {}, "zero"), ("norm_sq", BOX1, {}, "corner"), ("sin", BOX2, {}, "zero"),
])
def test_modulus_against_worst_direction(name, box, params, where):
    """Pairs along the direction of largest local amplification: the ratio gets close to
    the Lipschitz constant but never above it."""
    target = ct.make_target(name, box, resolution(box), **params)
    base = np.zeros((1, N_IN)) if where == "zero" else 0.9 * box.radii(N_IN)[None]
    delta = 1e-4 * box.radii(N_IN)[-1]
    z = _top_direction(target, base, delta)
    v = base + delta * z[None]
    compact.check_inside(box, v)
    ratio = out_dist(target, base, v)[0] / delta
    L = omega_by_hand(name, box, params)(1.0)
    assert ratio <= L * (1 + 1e-6)
    if name == "antiderivative":
        # the operator norm of ∫_0^x on L² is 2/π; 12 modes get most of the way
        assert ratio == pytest.approx(2 / math.pi, rel=0.02)
    if name in ("heat", "sin") and where == "zero":
        assert ratio == pytest.approx(1.0, rel=1e-6)  # φ_0 direction: sharp


def test_abs_power_holder_sharp_at_zero():
    target = ct.make_target("abs_power", BOX1, alpha=0.5)
    delta = np.array([1e-8, 1e-4, 0.1])
    v = np.zeros((3, N_IN))
    v[:, 0] = delta
    ratio = np.abs(target(v) - target(np.zeros((3, N_IN)))) / delta ** 0.5
    np.testing.assert_allclose(ratio, 1.0, rtol=1e-12)   # |∫|c|^α| = |c|^α = ‖c φ_0‖^α


# --- radius / output tail ---------------------------------------------------------------------

def _inputs(box, rng, n=N_IN):
    return np.concatenate([compact.sample_box(box, n, 30, rng), compact.sample_extreme(box, n, 30, rng),
                           compact.sample_ball(box, n, 15, rng)])


def test_radius_values_match_hand_derivation():
    U2 = lambda b: float(total_sq(b))
    anti = bt.target_spec("antiderivative", BOX1)
    assert float(anti.radius) ** 2 == pytest.approx(1.5 * U2(BOX1), rel=1e-12)
    ode = bt.target_spec("ode", BOX1_BIG)
    assert float(ode.radius) ** 2 == pytest.approx((5 + E2) / 4 * U2(BOX1_BIG), rel=1e-12)
    for box in (BOX1, BOX2):
        sin = bt.target_spec("sin", box)
        assert float(sin.radius) ** 2 == pytest.approx(1 + float(grad_sq(box)), rel=1e-12)
        assert float(bt.target_spec("norm_sq", box).radius) == pytest.approx(U2(box), rel=1e-12)
        ap = bt.target_spec("abs_power", box, alpha=0.3)
        assert float(ap.radius) == pytest.approx(U2(box) ** 0.15, rel=1e-12)
    assert bt.target_spec("heat", BOX1).radius is None
    assert bt.target_spec("heat", BOX1).t == sympy.oo
    assert bt.target_spec("sin", BOX1).t == 1 and bt.target_spec("norm_sq", BOX1).t is None


def _h1_partial(coeffs, d):
    """Σ_{j<M} (1 + λ_j) ĝ_j²: a lower bound of ‖g‖²_{H¹}."""
    lam = basis.eigenvalues(first_modes(d, coeffs.shape[1]))
    return ((1 + lam) * coeffs ** 2).sum(axis=1)


@pytest.mark.parametrize("name,box", [("antiderivative", BOX1), ("antiderivative", BOX1_BIG),
                                      ("sin", BOX1), ("sin", BOX2), ("ode", BOX1), ("ode", BOX1_BIG)])
def test_radius_holds_on_samples(name, box):
    target = ct.make_target(name, box, resolution(box))
    c = _inputs(box, np.random.default_rng(5))
    R2 = float(target.spec.radius) ** 2
    M = 400 if box.d == 1 else 600
    partial = _h1_partial(target.output_coefficients(c, M), box.d)
    assert np.all(partial <= R2), (partial.max(), R2)
    if name == "antiderivative":
        # ‖Vu‖²_{H¹} = ‖Vu‖² + ‖u‖² exactly (lemma); the extreme points come within the
        # factor of Cauchy–Schwarz: ‖Vu‖² <= ‖u‖²/2
        full = (target(c) ** 2).mean(axis=1) + (c ** 2).sum(axis=1)
        assert np.all(full <= R2 * (1 + 1e-9))
        assert full.max() >= 0.6 * R2          # ‖u‖² alone is U_n² ≈ U² = R²/1.5
    if name == "ode":
        # ‖y‖² + ‖y'‖² with y' = u − y − y³ on the RK4 nodes (trapezoid rule)
        y, u = ct.ode_nodes(c, 1024)
        dy = u[:, ::2] - y - y ** 3
        full = integrate.trapezoid(y ** 2 + dy ** 2, dx=1 / 2048, axis=1)
        assert np.all(full <= R2)
        assert np.all(np.sqrt(integrate.trapezoid(dy ** 2, dx=1 / 2048, axis=1))
                      <= np.linalg.norm(c, axis=1) * (1 + 1e-6))   # ‖y'‖ <= ‖u‖


@pytest.mark.parametrize("box", [BOX1, BOX2])
def test_functional_bounds_hold(box):
    c = _inputs(box, np.random.default_rng(6))
    for name, params in (("abs_power", {"alpha": 0.5}), ("norm_sq", {})):
        t = ct.make_target(name, box, resolution(box), **params)
        assert np.all(np.abs(t(c)) <= float(t.spec.radius) * (1 + 1e-9))
        assert t.spec.output_tail(1) == 0 and t.spec.n_modes_out(1e-9) == 1


@pytest.mark.parametrize("box,T", [(BOX1, 0.05), (BOX1, 0.002), (BOX2, 0.01)])
def test_heat_exact_tail(box, T):
    spec = bt.target_spec("heat", box, T=T)
    n = 4000 if box.d == 1 else 4000
    modes = first_modes(box.d, n)
    lam = basis.eigenvalues(modes)
    rho = box.r * (1 + lam) ** (-box.s / 2)
    terms = np.exp(-2 * T * lam) * rho ** 2            # brute force, far past where it matters
    for M in (1, 2, 3, 5, 8, 20):
        brute = math.sqrt(terms[M:].sum())
        assert float(spec.output_tail(M)) == pytest.approx(brute, rel=1e-10)
    # and the tail bounds the true tail of sampled inputs
    target = ct.make_target("heat", box, resolution(box), T=T)
    c = _inputs(box, np.random.default_rng(7), n=40)
    g = target.output_coefficients(c, 40)
    for M in (1, 4, 9):
        tails = np.sqrt((g[:, M:] ** 2).sum(axis=1))
        assert np.all(tails <= float(spec.output_tail(M)) * (1 + 1e-12))
        # the corners of the 40-mode box attain the part of the tail inside those modes
        assert tails.max() ** 2 == pytest.approx(terms[M:40].sum(), rel=1e-9)


@pytest.mark.parametrize("name,box", [("sin", BOX1), ("sin", BOX2), ("ode", BOX1),
                                      ("antiderivative", BOX1_BIG)])
def test_power_tail_formula_and_minimal_M(name, box):
    spec = bt.target_spec(name, box)
    R = float(spec.radius)
    modes = first_modes(box.d, 5001)
    for M in (1, 2, 3, 7, 50, 1000, 5000):
        kM = modes[M]
        expected = R * (1 + math.pi ** 2 * (kM ** 2).sum()) ** -0.5
        assert float(spec.output_tail(M)) == pytest.approx(expected, rel=1e-13)
    for tau in (R * 2, R * 0.999, 0.3, 1e-2, 1e-3, 3e-4):
        M = spec.n_modes_out(tau)
        assert spec.output_tail(M) <= tau
        assert M == 1 or spec.output_tail(M - 1) > tau


def test_heat_n_modes_out_minimal():
    for box in (BOX1, BOX2):
        spec = bt.target_spec("heat", box)
        for tau in (1.0, 1e-2, 1e-5, 1e-9):
            M = spec.n_modes_out(tau)
            assert spec.output_tail(M) <= tau
            assert M == 1 or spec.output_tail(M - 1) > tau


def test_mode_counting_against_brute_force():
    for d in (1, 2):
        modes = first_modes(d, 3000)
        levels = (modes ** 2).sum(axis=1)
        for m in (-1, 0, 1, 2, 4, 5, 24, 25, 26, 99, 100, 500):
            assert bt.count_modes_at_most(d, m) == int((levels <= m).sum())
        for index in (0, 1, 2, 3, 10, 57, 999, 2999):
            assert bt.mode_level(d, index) == levels[index]
    # a huge exact count in d = 2: check against the Gauss circle estimate
    m = 10 ** 10
    count = bt.count_modes_at_most(2, m)
    assert isinstance(count, int)
    assert abs(count - (math.pi * m / 4 + math.sqrt(m))) < 10 * m ** 0.35


def test_large_M_stays_exact_and_fast():
    spec = bt.target_spec("sin", BOX2)
    M = spec.n_modes_out(1e-6)
    assert isinstance(M, int) and M > 10 ** 9
    assert spec.output_tail(M) <= 1e-6 < spec.output_tail(M - 1)


# --- independent evaluations --------------------------------------------------------------------

def test_heat_against_direct_cosine_series():
    rng = np.random.default_rng(8)
    for box, T in ((BOX1, 0.05), (BOX2, 0.003)):
        target = ct.make_target("heat", box, (32,) * box.d, T=T)
        c = compact.sample_box(box, 20, 3, rng)
        modes = first_modes(box.d, 20)
        axes = [basis.midpoints(32)] * box.d
        X = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)   # (*grid, d)
        direct = np.zeros((3,) + (32,) * box.d)
        for j, k in enumerate(modes):
            phi = np.ones((32,) * box.d)
            for a, ka in enumerate(k):
                phi = phi * (1.0 if ka == 0 else math.sqrt(2)) * np.cos(math.pi * ka * X[..., a])
            decay = math.exp(-T * math.pi ** 2 * (k ** 2).sum())
            direct += c[:, j].reshape((3,) + (1,) * box.d) * decay * phi
        np.testing.assert_allclose(target(c), direct, atol=1e-13)
        out = target.output_coefficients(c, 30)
        np.testing.assert_allclose(out[:, :20], c * np.exp(-T * basis.eigenvalues(modes)), rtol=1e-15)
        assert np.all(out[:, 20:] == 0)


def test_antiderivative_against_quadrature():
    rng = np.random.default_rng(9)
    c = compact.sample_box(BOX1_BIG, 10, 2, rng)
    target = ct.make_target("antiderivative", BOX1_BIG, (64,))
    modes = np.arange(10)[:, None]
    u = lambda x, b: basis.evaluate(c[b:b + 1], modes, np.array([[x]]))[0, 0]
    x = basis.midpoints(64)
    samples = target(c)
    for b in range(2):
        for i in (0, 5, 31, 63):
            ref = integrate.quad(u, 0, x[i], args=(b,), epsabs=1e-14, epsrel=1e-13, limit=200)[0]
            assert samples[b, i] == pytest.approx(ref, abs=1e-13)
    # output coefficients ⟨Vu, φ_j⟩ by quadrature of the exact closed form of Vu
    V = lambda x, b: c[b, 0] * x + sum(c[b, k] * math.sqrt(2) * math.sin(math.pi * k * x) / (math.pi * k)
                                       for k in range(1, 10))
    out = target.output_coefficients(c, 25)
    for b in range(2):
        for j in (0, 1, 2, 7, 10, 24):
            phi = lambda x: (1.0 if j == 0 else math.sqrt(2)) * math.cos(math.pi * j * x)
            ref = integrate.quad(lambda x: V(x, b) * phi(x), 0, 1, epsabs=1e-14, limit=200)[0]
            assert out[b, j] == pytest.approx(ref, abs=1e-13)


def test_sin_against_direct_evaluation():
    rng = np.random.default_rng(10)
    for box in (BOX1, BOX2):
        res = (100,) * box.d
        target = ct.make_target("sin", box, res)
        c = compact.sample_extreme(box, 15, 2, rng)
        axes = [basis.midpoints(g) for g in res]
        points = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, box.d)
        direct = np.sin(basis.evaluate(c, first_modes(box.d, 15), points)).reshape((2,) + res)
        np.testing.assert_allclose(target(c), direct, atol=1e-13)
    # coefficients of sin(u) in d = 1 by adaptive quadrature
    c = compact.sample_extreme(SobolevBox(d=1, s=2, r=5), 8, 1, rng)
    target = ct.make_target("sin", SobolevBox(d=1, s=2, r=5), (256,))
    out = target.output_coefficients(c, 12)
    u = lambda x: basis.evaluate(c, np.arange(8)[:, None], np.array([[x]]))[0, 0]
    for j in range(12):
        phi = lambda x: (1.0 if j == 0 else math.sqrt(2)) * math.cos(math.pi * j * x)
        ref = integrate.quad(lambda x: math.sin(u(x)) * phi(x), 0, 1, epsabs=1e-14, limit=200)[0]
        assert out[0, j] == pytest.approx(ref, abs=1e-12)


def test_ode_against_solve_ivp():
    rng = np.random.default_rng(11)
    box = BOX1_BIG
    c = np.concatenate([compact.sample_extreme(box, 10, 2, rng), compact.sample_box(box, 10, 1, rng)])
    target = ct.make_target("ode", box, (256,))
    modes = np.arange(10)[:, None]
    x = basis.midpoints(256)
    samples = target(c)
    out = target.output_coefficients(c, 16)
    for b in range(3):
        rhs = lambda t, y: -y - y ** 3 + basis.evaluate(c[b:b + 1], modes, np.array([[t]]))[0]
        sol = solve = integrate.solve_ivp(rhs, (0, 1), [0.0], method="DOP853", rtol=1e-13,
                                          atol=1e-14, dense_output=True)
        assert sol.success
        np.testing.assert_allclose(samples[b], solve.sol(x)[0], atol=1e-9)
        for j in (0, 1, 5, 15):
            phi = lambda t: (1.0 if j == 0 else math.sqrt(2)) * math.cos(math.pi * j * t)
            ref = integrate.quad(lambda t: sol.sol(t)[0] * phi(t), 0, 1, epsabs=1e-13, limit=200)[0]
            assert out[b, j] == pytest.approx(ref, abs=1e-9)


def test_abs_power_against_fine_quadrature():
    rng = np.random.default_rng(12)
    c = compact.sample_extreme(BOX1, 8, 2, rng)
    modes = np.arange(8)[:, None]
    for alpha in (0.5, 0.2, 1.0):
        target = ct.make_target("abs_power", BOX1, (4096,), alpha=alpha)
        values = target(c)
        for b in range(2):
            u = lambda x: basis.evaluate(c[b:b + 1], modes, np.array([[x]]))[0, 0]
            # split at the sign changes of u so the kinks of |u|^α are endpoints
            grid = np.linspace(0, 1, 20001)
            ug = basis.evaluate(c[b:b + 1], modes, grid[:, None])[0]
            roots = grid[1:][np.sign(ug[1:]) != np.sign(ug[:-1])]
            ref = integrate.quad(lambda x: abs(u(x)) ** alpha, 0, 1, points=roots, limit=400,
                                 epsabs=1e-12)[0]
            assert values[b] == pytest.approx(ref, abs=2e-6)
    # d = 2: against a 4x finer midpoint grid
    c2 = compact.sample_box(BOX2, 10, 3, rng)
    coarse = ct.make_target("abs_power", BOX2, (128, 128))(c2)
    fine = ct.make_target("abs_power", BOX2, (512, 512))(c2)
    np.testing.assert_allclose(coarse, fine, atol=1e-4)


def test_norm_sq_against_quadrature():
    c = compact.sample_box(BOX2, 10, 3, np.random.default_rng(13))
    target = ct.make_target("norm_sq", BOX2)
    samples = basis.sample(c, first_modes(2, 10), (40, 40))    # exact: modes below the grid
    np.testing.assert_allclose(target(c), (samples ** 2).mean(axis=(1, 2)), rtol=1e-13)
    np.testing.assert_allclose(target.output_coefficients(c, 1)[:, 0], target(c))


# --- reference accuracy by grid doubling --------------------------------------------------------

@pytest.mark.parametrize("name,box,G,tol", [
    ("heat", BOX1, 64, 1e-15), ("antiderivative", BOX1_BIG, 64, 1e-15),
    ("sin", SobolevBox(d=1, s=2, r=5), 256, 1e-13), ("sin", BOX2, 64, 1e-12),
    ("ode", BOX1_BIG, 1024, 1e-10), ("ode", BOX1_BIG, 256, 1e-8),
])
def test_reference_accuracy_by_grid_doubling(name, box, G, tol):
    c = _inputs(box, np.random.default_rng(14), n=16)
    M = 16
    coarse = ct.make_target(name, box, (G,) * box.d).output_coefficients(c, M)
    fine = ct.make_target(name, box, (2 * G,) * box.d).output_coefficients(c, M)
    assert np.abs(coarse - fine).max() <= tol * max(1.0, np.abs(fine).max())


def test_ode_converges_fourth_order():
    c = compact.sample_extreme(BOX1_BIG, 16, 4, np.random.default_rng(15))
    coeff = {G: ct.make_target("ode", BOX1_BIG, (G,)).output_coefficients(c, 8) for G in (32, 64, 128)}
    e1 = np.abs(coeff[32] - coeff[64]).max()
    e2 = np.abs(coeff[64] - coeff[128]).max()
    assert 10 < e1 / e2 < 24       # 2⁴ = 16


def test_abs_power_grid_refinement():
    # mean-zero inputs have sign changes, where |u|^α has its kinks (the hard case;
    # without zeros |u|^α is smooth and even, and the midpoint rule is spectrally exact).
    # The error is O(G^{-1-α}) with an oscillating constant, so compare a 16x refinement.
    c = _inputs(BOX1_BIG, np.random.default_rng(16), n=16)
    c[:, 0] = 0.0
    for alpha in (0.5, 0.2):
        values = {G: ct.make_target("abs_power", BOX1_BIG, (G,), alpha=alpha)(c)
                  for G in (256, 4096, 32768)}
        e_coarse = np.abs(values[256] - values[32768]).max()
        e_fine = np.abs(values[4096] - values[32768]).max()
        assert e_fine < 1e-4 * np.abs(values[32768]).max()
        assert e_fine < e_coarse / 8                    # 16^{1+α} >= 27 expected


# --- interface, input errors ---------------------------------------------------------------------

def test_registry_and_parameters():
    assert set(bt.TARGET_NAMES) == {"heat", "antiderivative", "sin", "ode", "abs_power", "norm_sq"}
    assert bt.target_parameters("heat")["T"][0] == 0.05
    assert bt.target_parameters("abs_power")["alpha"][0] == 0.5
    assert bt.target_parameters("sin") == {}
    spec = bt.target_spec("heat", BOX1, T="1/20")             # strings parse safely
    assert spec.params == (("T", 0.05),)
    assert spec == bt.target_spec("heat", BOX1) and hash(spec) == hash(bt.target_spec("heat", BOX1))
    t = ct.make_target("ode", BOX1)
    assert t.resolution == (1024,) and ct.make_target("sin", BOX2).resolution == (64, 64)
    assert t.with_resolution((128,)).resolution == (128,) and hash(t)


@pytest.mark.parametrize("call,parameter", [
    (lambda: bt.target_spec("nope", BOX1), "target"),
    (lambda: bt.target_spec("heat", BOX1, tau=1), "tau"),
    (lambda: bt.target_spec("heat", BOX1, T=0), "T"),
    (lambda: bt.target_spec("heat", BOX1, T=float("nan")), "T"),
    (lambda: bt.target_spec("abs_power", BOX1, alpha=1.5), "alpha"),
    (lambda: bt.target_spec("abs_power", BOX1, alpha="__import__('os')"), "alpha"),
    (lambda: bt.target_spec("antiderivative", BOX2), "d"),
    (lambda: bt.target_spec("ode", BOX2), "d"),
    (lambda: bt.target_spec("sin", SobolevBox(d=1, s=1.5, r=1)), "s"),
    (lambda: bt.target_spec("sin", SobolevBox(d=2, s=1.9, r=1)), "s"),
    (lambda: bt.target_spec("sin", BOX1).n_modes_out(0), "tau"),
    (lambda: bt.target_spec("sin", BOX1).output_tail(0), "M"),
    (lambda: bt.custom_target_spec(BOX1, "t", radius=-1), "radius"),
    (lambda: bt.custom_target_spec(BOX1, "t", radius=1, t=0), "t"),
    (lambda: bt.custom_target_spec(BOX1, "t", radius=1, kind="both"), "kind"),
    (lambda: ct.make_target("sin", BOX1)(np.array([[np.nan]])), "coefficients"),
    (lambda: ct.make_target("sin", BOX1)(np.zeros(3)), "coefficients"),
    (lambda: ct.make_target("ode", BOX1, (16,))(np.zeros((1, 17))), "coefficients"),
    (lambda: ct.make_target("sin", BOX2, (8, 8))(np.zeros((1, 60))), "coefficients"),
    (lambda: ct.make_target("sin", BOX1, (16,)).output_coefficients(np.zeros((1, 3)), 17), "M"),
    (lambda: ct.make_target("norm_sq", BOX1).output_coefficients(np.zeros((1, 3)), 2), "M"),
    (lambda: ct.make_target("sin", BOX1, (1,)), "resolution"),
    (lambda: ct.make_target("sin", BOX1, (64, 64)), "resolution"),
])
def test_bad_input_names_the_parameter(call, parameter):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.parameter == parameter


def test_custom_target():
    box = BOX1
    target = ct.custom_target(box, np.tanh, "t", radius=10, t=1, resolution=(256,))
    assert target.spec.kind == "operator" and float(target.spec.radius) == 10
    c = compact.sample_extreme(box, 6, 3, 0)
    np.testing.assert_allclose(target(c), np.tanh(basis.sample(c, first_modes(1, 6), (256,))))
    sin_like = ct.make_target("sin", box, (256,))
    diff = target.output_coefficients(c, 5) - basis.coefficients(np.tanh(basis.sample(c, first_modes(1, 6), (256,))),
                                                                 first_modes(1, 5))
    assert np.abs(diff).max() < 1e-14 and sin_like != target
    functional = ct.custom_target(box, lambda s: s.mean(axis=1), "t", radius=1, kind="functional")
    np.testing.assert_allclose(functional.output_coefficients(c, 1)[:, 0], c[:, 0], atol=1e-14)
    bad = ct.custom_target(box, lambda s: s[:, :3], "t", radius=1)
    with pytest.raises(InputError, match="fn"):
        bad(c)
