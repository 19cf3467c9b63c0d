"""The box K(s, r): mode order, tails against independent references, n for a tail.

Two independent references are used for the tails.

* Poisson summation with Bessel functions (the Chowla–Selberg form): for σ > 1/2,
  Σ_{j∈ℤ} (j² + b²)^{-σ} = √π Γ(σ−½)/Γ(σ) b^{1−2σ}
                          + 4π^σ/Γ(σ) b^{½−σ} Σ_{ν≥1} ν^{σ−½} K_{σ−½}(2πνb),
  applied once (d = 1) or twice (d = 2), gives the full sum to ~40 digits; the tail
  is that minus the head summed directly at 60 digits.  Nothing here is used by the
  library (it uses Euler–Maclaurin with incomplete beta functions).
* Brute force: an explicit partial sum plus a certified bracket of the remainder
  (convexity in d = 1, unit cells in d = 2).
"""

import itertools
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy

from mono.bounds.space import SobolevBox, SobolevWeight, first_modes, mode_tail_sum
from mono.errors import InputError


# --- references -------------------------------------------------------------------------

def _poisson_z(sigma, b):
    """Σ_{j∈ℤ} (j² + b²)^{-σ} by Poisson summation (Bessel K series)."""
    main = mpmath.sqrt(mpmath.pi) * mpmath.gamma(sigma - 0.5) / mpmath.gamma(sigma) * b ** (1 - 2 * sigma)
    return main + _bessel_part(sigma, b)


def _bessel_part(sigma, b):
    coefficient = 4 * mpmath.pi ** sigma / mpmath.gamma(sigma) * b ** (0.5 - sigma)
    total, nu = mpmath.mpf(0), 1
    while True:
        term = nu ** (sigma - 0.5) * mpmath.besselk(sigma - 0.5, 2 * mpmath.pi * nu * b)
        total += term
        if abs(term) < mpmath.mpf(10) ** (-mpmath.mp.dps - 8):
            return coefficient * total
        nu += 1


def _reference_total(d, s):
    """Σ_{k∈ℕ₀^d} (1 + π²|k|²)^{-s} = π^{-2s} Σ (|k|² + c²)^{-s}, c = 1/π."""
    s, c = mpmath.mpf(s), 1 / mpmath.pi
    z1 = _poisson_z(s, c)                                       # over ℤ
    if d == 1:
        return mpmath.pi ** (-2 * s) * (z1 + c ** (-2 * s)) / 2
    # over ℤ²: rows k1 give b² = k1² + c²; the main parts of all rows sum to a 1-D
    # Poisson sum with exponent s − 1/2, the Bessel parts decay like e^{-2π|k1|}.
    z2 = mpmath.sqrt(mpmath.pi) * mpmath.gamma(s - 0.5) / mpmath.gamma(s) * _poisson_z(s - 0.5, c)
    k1 = 0
    while True:
        term = _bessel_part(s, mpmath.sqrt(k1 * k1 + c * c)) * (1 if k1 == 0 else 2)
        z2 += term
        if k1 > 0 and abs(term) < mpmath.mpf(10) ** (-mpmath.mp.dps - 8):
            break
        k1 += 1
    # ℕ₀² from ℤ²: Σ_ℕ₀² = Σ_ℤ²/4 + Σ_{j≥1} F(j, 0) + 3F(0)/4
    axis = (z1 - c ** (-2 * s)) / 2
    return mpmath.pi ** (-2 * s) * (z2 / 4 + axis + 3 * c ** (-2 * s) / 4)


_TOTALS = {}


def _reference_tail_sq(d, s, r, n, dps=60):
    with mpmath.workdps(dps):
        if (d, s, dps) not in _TOTALS:
            _TOTALS[d, s, dps] = _reference_total(d, s)
        levels = [int(np.dot(k, k)) for k in first_modes(d, n)]
        head = mpmath.fsum((1 + mpmath.pi ** 2 * m) ** (-mpmath.mpf(s)) for m in levels)
        return (_TOTALS[d, s, dps] - head) * mpmath.mpf(r) ** 2


def test_reference_reproduces_a_closed_form():
    # Σ_{k≥0} 1/(1 + π²k²) = (1 + coth 1)/2 (partial fractions of coth)
    with mpmath.workdps(50):
        assert abs(_reference_total(1, 1) - (1 + mpmath.coth(1)) / 2) < mpmath.mpf(10) ** -45


# --- modes ------------------------------------------------------------------------------

def test_first_modes_d2_by_hand():
    # levels 0; 1: (0,1),(1,0); 2: (1,1); 4: (0,2),(2,0); 5: (1,2),(2,1); 8: (2,2);
    # 9: (0,3),(3,0); 10: (1,3),(3,1)
    expected = [[0, 0], [0, 1], [1, 0], [1, 1], [0, 2], [2, 0], [1, 2], [2, 1], [2, 2],
                [0, 3], [3, 0], [1, 3], [3, 1]]
    modes = first_modes(2, 13)
    assert modes.dtype == np.int64 and modes.shape == (13, 2)
    assert modes.tolist() == expected


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 17, 100, 501])
def test_first_modes_d2_against_brute_force_sorting(n):
    every = sorted(itertools.product(range(40), repeat=2), key=lambda k: (k[0] ** 2 + k[1] ** 2, k))
    assert first_modes(2, n).tolist() == [list(k) for k in every[:n]]


@pytest.mark.parametrize("d", [1, 2])
def test_first_modes_order_and_prefix_stability(d):
    modes = first_modes(d, 3000)
    assert modes.shape == (3000, d)
    assert len({tuple(k) for k in modes}) == 3000
    keys = [(int(np.dot(k, k)), tuple(k)) for k in modes]
    assert keys == sorted(keys)
    for n in (1, 7, 64, 999, 2950):
        assert np.array_equal(first_modes(d, n), first_modes(d, n + 50)[:n])
    if d == 1:
        assert modes[:, 0].tolist() == list(range(3000))


@pytest.mark.parametrize("args, parameter", [((3, 5), "d"), ((0, 5), "d"), ((True, 5), "d"),
                                             ((1, -1), "n"), ((2, 1.5), "n"), ((1, "4"), "n")])
def test_first_modes_validation(args, parameter):
    with pytest.raises(InputError) as info:
        first_modes(*args)
    assert info.value.parameter == parameter


# --- the box: validation and simple quantities -------------------------------------------

@pytest.mark.parametrize("args, parameter", [
    ((3, 2, 1), "d"), ((1.5, 2, 1), "d"), ((1, 0.5, 1), "s"), ((2, 1, 1), "s"),
    ((1, float("nan"), 1), "s"), ((1, float("inf"), 1), "s"), ((1, "2", 1), "s"),
    ((1, 2, 0), "r"), ((1, 2, -1), "r"), ((1, 2, float("nan")), "r"), ((1, 2, float("inf")), "r"),
])
def test_box_validation(args, parameter):
    with pytest.raises(InputError) as info:
        SobolevBox(*args)
    assert info.value.parameter == parameter


def test_exact_parameters_are_accepted():
    a = SobolevBox(1, Fraction(3, 2), 2)
    b = SobolevBox(1, 1.5, 2.0)
    c = SobolevBox(1, sympy.Rational(3, 2), sympy.Integer(2))
    assert a.tail_sq(5) == b.tail_sq(5) == c.tail_sq(5)


def test_radius_and_radii():
    box = SobolevBox(2, 2.5, 3)
    with mpmath.workdps(40):
        assert abs(box.radius((1, 2)) - 3 * (1 + 5 * mpmath.pi ** 2) ** -1.25) < 1e-30
    modes = box.modes(40)
    expected = [float(box.radius(tuple(k))) for k in modes]
    np.testing.assert_allclose(box.radii(40), expected, rtol=1e-14)
    assert np.all(np.diff(box.radii(40)) <= 0)
    with pytest.raises(InputError):
        box.radius((1,))
    with pytest.raises(InputError):
        box.radius((1, -2))


def test_norm_and_diameter_relations():
    box = SobolevBox(2, 1.75, 0.5)
    total = box.total_sq()
    with mpmath.workdps(34):
        assert abs(box.tail(0) ** 2 - total) <= total * mpmath.mpf("1e-30")
        assert abs(box.sup_norm() - mpmath.sqrt(total)) <= total * mpmath.mpf("1e-30")
        assert abs(box.diameter() - 2 * mpmath.sqrt(total)) <= total * mpmath.mpf("1e-30")


# --- tails against the Poisson–Bessel reference -----------------------------------------

@pytest.mark.parametrize("d, s, r, ns", [
    (1, 0.6, 1, [0, 1, 7, 100, 2000]),
    (1, 1, 2, [0, 3, 50, 1000]),
    (1, 3.25, 0.5, [0, 1, 10, 400]),
    (2, 1.25, 1, [0, 1, 2, 7, 100, 1000]),
    (2, 2.75, 3, [0, 5, 64, 500]),
])
def test_tails_match_poisson_bessel_reference(d, s, r, ns):
    box = SobolevBox(d, s, r)
    for n in ns:
        reference = _reference_tail_sq(d, s, r, n)
        assert abs(box.tail_sq(n) - reference) <= reference * mpmath.mpf("1e-25"), (d, s, n)


@pytest.mark.parametrize("d, n", [(1, 30), (2, 5), (2, 30)])
def test_tiny_tails_of_a_very_smooth_box(d, n):
    # s = 20.2: tails down to 1e-80, far below the total; the Poisson closed form of the
    # full rows needs more rows before it is accurate (see _poisson_start).
    box = SobolevBox(d, 20.2, 1)
    reference = _reference_tail_sq(d, 20.2, 1, n, dps=110)
    assert abs(box.tail_sq(n) - reference) <= reference * mpmath.mpf("1e-25")


@pytest.mark.parametrize("s", [1, 2])
@pytest.mark.parametrize("n", [10 ** 3, 10 ** 5, 10 ** 7])
def test_large_n_d1_against_digamma(s, n):
    # 1/(π²k² + 1) = π^{-2}/(k² + c²), Σ_{k≥n} 1/(k² + c²) = Im ψ(n + ic)/c, and the
    # square of the summand is -(1/2c) d/dc of it: S2 = (Im ψ/c² - Re ψ'/c)/(2c).
    box = SobolevBox(1, s, 1)
    with mpmath.workdps(50):
        c = 1 / mpmath.pi
        z = mpmath.mpc(n, c)
        s1 = mpmath.im(mpmath.digamma(z)) / c
        exact = s1 / mpmath.pi ** 2 if s == 1 else \
            (mpmath.im(mpmath.digamma(z)) / c ** 2 - mpmath.re(mpmath.psi(1, z)) / c) / (2 * c) \
            / mpmath.pi ** 4
        assert abs(box.tail_sq(n) - exact) <= exact * mpmath.mpf("1e-25")


# --- tails against brute force with a certified remainder ---------------------------------

def _quad_from(g, a):
    """∫_a^∞ g by mpmath quadrature in x = a + u/(1 - u), normalised (relative accuracy)."""
    unit = g(a)
    return unit * mpmath.quad(lambda x: g(x) / unit, [a, 2 * a, 8 * a, 64 * a, mpmath.inf])


@pytest.mark.parametrize("s, n", [(0.75, 0), (1, 10), (2.5, 3), (4, 40)])
def test_d1_brute_force_with_convexity_bracket(s, n):
    # Σ_{k=n}^{N-1} g(k) exactly (mpmath), and for convex decreasing g on [N - 1/2, ∞):
    # ∫_N^∞ g + g(N)/2 ≤ Σ_{k≥N} g(k) ≤ ∫_{N-1/2}^∞ g (trapezoid above, midpoint below).
    box = SobolevBox(1, s, 1)
    N = n + 20000
    with mpmath.workdps(40):
        sigma = mpmath.mpf(s)

        def g(x):
            return (1 + mpmath.pi ** 2 * x * x) ** (-sigma)

        head = mpmath.fsum(g(mpmath.mpf(k)) for k in range(n, N))
        low = head + _quad_from(g, mpmath.mpf(N)) + g(mpmath.mpf(N)) / 2
        high = head + _quad_from(g, mpmath.mpf(N) - 0.5)
        value = box.tail_sq(n)
        assert low * (1 - mpmath.mpf("1e-30")) <= value <= high * (1 + mpmath.mpf("1e-30"))
        assert (high - low) / value < 1e-9          # the bracket certifies 9+ digits


@pytest.mark.parametrize("s, n, digits", [(1.5, 0, 4), (1.5, 7, 4), (3, 100, 9), (3, 1000, 8),
                                          (4.5, 50, 14)])
def test_d2_brute_force_with_cell_bracket(s, n, digits):
    # Inside the disc |k| ≤ R: an exact float sum (math.fsum).  Outside, for decreasing
    # radial F = f(|x|²), each lattice point k (|k| > R) satisfies
    #   ∫_{k+[0,1]²} F ≤ F(k)            (cells reaching outward cover |x| > R + √2),
    #   F(k) ≤ ∫_{k-[0,1]²} F (k1,k2 ≥ 1) (cells reaching inward lie in |x| > R − √2),
    # and the axis points add at most 2∫_R^∞ f(x²) dx.
    R = 1500
    box = SobolevBox(2, s, 1)
    k1, k2 = np.meshgrid(np.arange(R + 1), np.arange(R + 1), indexing="ij")
    m = (k1 * k1 + k2 * k2).ravel()
    inside = m[m <= R * R]
    # the complement of I_n inside the disc, as counts per level (no cancellation)
    counts = np.bincount(inside, minlength=R * R + 1)
    counts -= np.bincount(np.sum(first_modes(2, n).astype(np.int64) ** 2, axis=1),
                          minlength=R * R + 1)
    levels = np.nonzero(counts)[0]
    partial = math.fsum(counts[levels] * (1.0 + np.pi ** 2 * levels.astype(float)) ** (-s))
    with mpmath.workdps(30):
        sigma = mpmath.mpf(s)

        def radial(rho):                                # ∫ over a quarter annulus: (π/2) ρ f(ρ²)
            return mpmath.pi / 2 * rho * (1 + mpmath.pi ** 2 * rho * rho) ** (-sigma)

        def axis(x):
            return 2 * (1 + mpmath.pi ** 2 * x * x) ** (-sigma)

        low = partial + _quad_from(radial, mpmath.mpf(R) + mpmath.sqrt(2))
        high = partial + _quad_from(radial, mpmath.mpf(R) - mpmath.sqrt(2)) + _quad_from(axis, mpmath.mpf(R))
        value = box.tail_sq(n)
        slack = abs(value) * 1e-14                      # float rounding of the terms
        assert low - slack <= value <= high + slack
        assert (high - low) / value < 10.0 ** -digits   # what this brute force certifies


# --- structure of the tails ---------------------------------------------------------------

@pytest.mark.parametrize("d, s", [(1, 0.8), (2, 1.6), (2, 4)])
def test_tails_strictly_decrease_by_exactly_the_removed_radius(d, s):
    box = SobolevBox(d, s, 1.5)
    tails = [box.tail_sq(n) for n in range(0, 50)]
    modes = box.modes(50)
    with mpmath.workdps(40):
        for n in range(49):
            removed = box.radius(tuple(modes[n])) ** 2
            assert tails[n + 1] < tails[n]
            # ties in d = 2 (equal |k|²) are counted one mode at a time
            assert abs((tails[n] - tails[n + 1]) - removed) <= removed * mpmath.mpf("1e-24")


def test_tail_zero_is_the_total():
    box = SobolevBox(2, 2.25, 1)
    assert box.tail_sq(0) == box.total_sq()
    with mpmath.workdps(34):
        assert abs(box.tail(0) ** 2 - box.total_sq()) <= box.total_sq() * mpmath.mpf("1e-30")


@pytest.mark.parametrize("d, s", [(1, 2.3), (2, 2.6), (1, 1.75), (2, 3.1)])
def test_grad_sq_against_reference(d, s):
    # Σ λ_k ρ_k² = Σ (1+λ_k) ρ_k² − Σ ρ_k² = r²[total(s − 1) − total(s)]
    box = SobolevBox(d, s, 2)
    with mpmath.workdps(50):
        reference = 4 * (_reference_total(d, s - 1) - _reference_total(d, s))
        assert abs(box.grad_sq() - reference) <= reference * mpmath.mpf("1e-25")


@pytest.mark.parametrize("d, s", [(1, 1.5), (1, 1.2), (2, 2), (2, 1.5)])
def test_grad_sq_diverges_for_s_at_most_one_plus_half_d(d, s):
    with pytest.raises(InputError) as info:
        SobolevBox(d, s, 1).grad_sq()
    assert info.value.parameter == "s"


# --- n for a tail -------------------------------------------------------------------------

@pytest.mark.parametrize("d, s, tau", [(1, 1, 0.3), (1, 1, 0.01), (1, 0.6, 0.3), (1, 3, 1e-4),
                                       (1, 2, 1e-9), (2, 3, 1e-4), (2, 1.5, 0.02),
                                       (2, 2.5, 1e-3), (2, 2, 0.5)])
def test_n_for_tail_is_minimal(d, s, tau):
    box = SobolevBox(d, s, 1)
    n = box.n_for_tail(tau)
    assert isinstance(n, int) and n >= 1
    assert box.tail(n) <= tau
    if n > 1:
        assert box.tail(n - 1) > tau


def test_n_for_tail_when_one_mode_suffices():
    box = SobolevBox(1, 3, 1)
    assert box.n_for_tail(box.tail(1)) == 1
    assert box.n_for_tail(1e6) == 1


def test_n_for_tail_at_an_exact_tail_value():
    box = SobolevBox(2, 2, 1)
    for n in (5, 6, 13, 40):
        assert box.n_for_tail(box.tail(n)) <= n
        assert box.n_for_tail(box.tail(n)) == min(m for m in range(1, n + 1) if box.tail(m) <= box.tail(n))


def test_n_for_tail_beyond_max_n():
    box = SobolevBox(1, 1, 1)
    with pytest.raises(InputError) as info:
        box.n_for_tail(1e-6, max_n=1000)
    assert info.value.parameter == "eps"
    for bad in (0, -1, float("nan")):
        with pytest.raises(InputError):
            box.n_for_tail(bad)


# --- mode_tail_sum for other weights ------------------------------------------------------

@pytest.mark.parametrize("s, n", [(0.6, 0), (1, 3), (3, 50), (3, 5000)])
def test_generic_callable_matches_the_closed_form_path_d1(s, n):
    sigma = mpmath.mpf(s)

    def f(m):
        return (1 + mpmath.pi ** 2 * m) ** (-sigma)

    closed = mode_tail_sum(1, SobolevWeight(s), n)
    assert abs(mode_tail_sum(1, f, n) - closed) <= closed * mpmath.mpf("1e-25")


@pytest.mark.parametrize("d, T, n", [(1, 0.002, 0), (1, 0.01, 3), (1, 0.1, 9), (2, 0.02, 0),
                                     (2, 0.02, 4), (2, 0.1, 40), (2, 0.01, 12)])
@pytest.mark.parametrize("plain", [False, True])
def test_heat_damped_weight_against_brute_force(d, T, n, plain):
    # f(m) = e^{-2Tπ²m} (1 + π²m)^{-3/2}: brute force over a box so large that the rest
    # is below e^{-300} of the sum (the square [0, R]^d contains the disc of radius R).
    decay = 2 * T * math.pi ** 2
    weight = SobolevWeight(Fraction(3, 2), 2, decay=decay)
    f = (lambda m: weight(m)) if plain else weight
    with mpmath.workdps(40):
        R = int(math.sqrt(300 / decay)) + 5 + int(math.sqrt(n))
        counts = {}
        for k in itertools.product(range(R + 1), repeat=d):
            m = sum(v * v for v in k)
            counts[m] = counts.get(m, 0) + 1
        for k in first_modes(d, n):
            counts[int(np.dot(k, k))] -= 1
        brute = mpmath.fsum(c * weight(m) for m, c in counts.items() if c)
    value = mode_tail_sum(d, f, n)
    assert abs(value - brute) <= brute * mpmath.mpf("1e-25")


def test_mode_tail_sum_validation():
    with pytest.raises(InputError):
        mode_tail_sum(3, SobolevWeight(2), 1)
    with pytest.raises(InputError):
        mode_tail_sum(1, "not callable", 1)
    with pytest.raises(InputError):
        mode_tail_sum(2, SobolevWeight(1), 1)          # s = d/2: the sum diverges
    with pytest.raises(InputError):
        SobolevWeight(2, scale=0)
