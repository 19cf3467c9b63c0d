"""The compact set K(s, r): a spectral Sobolev box, its modes, radii and tails.

K(s, r) = {u : |û_k| ≤ ρ_k for all k ∈ ℕ₀^d},  ρ_k = r (1 + π²|k|²)^{-s/2},  s > d/2.

Modes are ordered by |k|² ascending (= ρ_k descending for every s), ties broken by
the lexicographic order of k; I_n is the first n modes.  The input tail
τ_in(n)² = Σ_{k∉I_n} ρ_k² is computed to a relative 1e-20 or better, never as
``total − head`` in fixed precision (which cancels catastrophically for large n):

* 1-D sums Σ_{k≥a} g(k) are summed directly until the Euler–Maclaurin (E-M) correction
  series at the current point converges to 1e-28, then finished by E-M
  (:func:`_sum_from`).  The integral in E-M is closed form (incomplete beta) for the
  Sobolev weight and an mpmath quadrature otherwise.
* In d = 2 the modes with |k|² > m are summed row by row: for k₁ ≤ √m the row
  segment k₂ > √(m − k₁²), then full rows k₁ > √m.  A full row of the Sobolev weight
  is, by Poisson summation, ∫₀^∞ + ½·(first term) up to a relative 1e-30 once k₁ ≥ K
  (K = 12 for moderate s, see :func:`_poisson_start`), and the integral is
  C_s (1 + π²k₁²)^{1/2−s}; so all full rows from K on add up to two 1-D sums of the
  same family.  Ties at the boundary level are counted exactly.
* Other weights (:class:`SobolevWeight` with decay > 0, or any callable) are summed
  row by row until the rows become negligible.

Derivations: docs/theory.md, section 1.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real

import mpmath
import numpy as np
import sympy

from mono.errors import InputError, require

WORK_DPS = 34                  # working digits of every tail (results good to ~1e-28)
_TOL = mpmath.mpf("1e-28")     # truncation tolerance of E-M series and direct tails
_EM_TERMS = 10                 # Bernoulli terms tried per E-M attempt
_POISSON_ROW = 12              # full rows k₁ ≥ this (or more for large s) use the Poisson form
_ROW_CAP = 2000                # generic d = 2 path: most full rows summed directly
MAX_MODES = 10 ** 9            # largest n accepted anywhere


# ----------------------------------------------------------------------------------
# modes
# ----------------------------------------------------------------------------------
def _check_d(d) -> int:
    if isinstance(d, bool) or not isinstance(d, Integral) or int(d) not in (1, 2):
        raise InputError("d", f"the dimension must be 1 or 2, got {d!r}")
    return int(d)


def _check_n(n, name: str = "n", low: int = 0) -> int:
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise InputError(name, f"expected an integer, got {n!r}")
    n = int(n)
    require(low <= n <= MAX_MODES, name, f"must satisfy {low} <= {name} <= {MAX_MODES}, got {n}")
    return n


def _isqrt_array(a: np.ndarray) -> np.ndarray:
    """Exact floor square roots of a nonnegative int64 array (entries < 2^52)."""
    r = np.floor(np.sqrt(a.astype(np.float64))).astype(np.int64)
    r -= (r * r > a).astype(np.int64)
    r += ((r + 1) * (r + 1) <= a).astype(np.int64)
    return r


def _count_upto(m: int) -> int:
    """#{k ∈ ℕ₀² : |k|² ≤ m} (0 for m < 0)."""
    if m < 0:
        return 0
    k1 = np.arange(math.isqrt(m) + 1, dtype=np.int64)
    return int(np.sum(_isqrt_array(m - k1 * k1) + 1))


def _level_2d(n: int) -> int:
    """The smallest m with #{|k|² ≤ m} ≥ n, i.e. |k|² of the n-th mode (n ≥ 1)."""
    lo, hi = -1, max(4, 2 * n)          # count(-1) = 0 < n <= count(2n) since count(m) > m/2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _count_upto(mid) >= n:
            hi = mid
        else:
            lo = mid
    return hi


def first_modes(d: int, n: int) -> np.ndarray:
    """The first ``n`` modes k ∈ ℕ₀^d, by |k|² ascending, ties lexicographic in k.

    Returns
    -------
    ndarray of int64, shape (n, d)
    """
    d, n = _check_d(d), _check_n(n)
    if d == 1:
        return np.arange(n, dtype=np.int64).reshape(n, 1)
    if n == 0:
        return np.zeros((0, 2), dtype=np.int64)
    m = _level_2d(n)
    k1 = np.arange(math.isqrt(m) + 1, dtype=np.int64)
    lengths = _isqrt_array(m - k1 * k1) + 1
    rows = np.repeat(k1, lengths)
    starts = np.cumsum(lengths) - lengths
    cols = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(starts, lengths)
    order = np.lexsort((cols, rows, rows * rows + cols * cols))
    return np.stack([rows[order][:n], cols[order][:n]], axis=1)


def _split(d: int, n: int):
    """(m, missing): I_n's complement is {|k|² > m} plus ``missing`` modes of level m."""
    if n == 0:
        return -1, 0
    if d == 1:
        return (n - 1) ** 2, 0
    m = _level_2d(n)
    in_level = n - _count_upto(m - 1)
    return m, _count_upto(m) - _count_upto(m - 1) - in_level


# ----------------------------------------------------------------------------------
# 1-D summation: direct terms, then Euler–Maclaurin
# ----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _bernoulli_factors(dps: int):
    with mpmath.workdps(dps):
        return [mpmath.bernoulli(2 * p) / mpmath.factorial(2 * p)
                for p in range(1, _EM_TERMS + 1)]


def _quad_tail(g, start) -> mpmath.mpf:
    """∫_start^∞ g(x) dx for a positive decreasing g, start ≥ 1.

    With x = start·e^v the integrand decays exponentially in v even when g decays like
    a power close to 1/x (s near d/2); the range is extended by factors of 4 until the
    estimated remainder is below the tolerance.
    """
    start = mpmath.mpf(start)
    unit = g(start) * start         # mpmath.quad aims at an *absolute* error: normalise

    def phi(v):
        x = start * mpmath.exp(v)
        return g(x) * x / unit

    value = mpmath.quad(phi, [0, 1, 4, 16, 64])
    end = mpmath.mpf(64)
    while True:
        at_end, before = phi(end), phi(end / 4)
        if at_end == 0:
            return value * unit
        rate = mpmath.log(before / at_end) / (end * 3 / 4)
        if rate > 0 and at_end / rate <= _TOL * value:
            return value * unit
        if end > 10 ** 7:
            raise ArithmeticError("the tail integral converges too slowly")  # pragma: no cover
        value += mpmath.quad(phi, [end, 4 * end])
        end *= 4


def _euler_maclaurin(g, start: int, lower: mpmath.mpf, integral, derivatives_at):
    """Σ_{k≥start} g(k) by E-M at ``start``, or None if the correction series does not
    reach the tolerance (relative to ``lower`` + g(start)) before it starts growing."""
    x0 = mpmath.mpf(start)
    order = 2 * _EM_TERMS - 1
    if derivatives_at is not None:
        derivatives = derivatives_at(x0, order)
    else:
        derivatives = list(mpmath.diffs(g, x0, order))
    scale = lower + derivatives[0]
    correction, previous = mpmath.mpf(0), mpmath.inf
    for p, factor in enumerate(_bernoulli_factors(mpmath.mp.dps), start=1):
        term = factor * derivatives[2 * p - 1]
        correction += term
        if abs(term) <= _TOL * scale:
            break
        if abs(term) >= previous:
            return None                      # asymptotic series diverging: too early
        previous = abs(term)
    else:
        return None
    area = integral(x0) if integral is not None else _quad_tail(g, x0)
    return area + derivatives[0] / 2 - correction


def _sum_from(g, start: int, integral=None, derivatives_at=None) -> mpmath.mpf:
    """Σ_{k ≥ start} g(k) for g positive and nonincreasing on [start, ∞).

    ``integral(N)``, if given, returns ∫_N^∞ g exactly; ``derivatives_at(x, q)``, if
    given, returns [g(x), g'(x), ..., g^{(q)}(x)] (otherwise numerical differentiation,
    which is far slower).  E-M is never applied at 0:
    an even g (every row here is even in k) has vanishing odd derivatives there, which
    would hide the E-M error.
    """
    total = mpmath.mpf(0)
    k, batch = start, 8
    while True:
        if k >= 1:
            tail = _euler_maclaurin(g, k, total, integral, derivatives_at)
            if tail is not None:
                return total + tail
        term = None
        for _ in range(batch):
            term = g(mpmath.mpf(k))
            total += term
            k += 1
        following = g(mpmath.mpf(k))
        if following <= _TOL * total and following <= term / 2:
            return total + following          # the rest decays faster than geometrically
        batch *= 2
        if k - start > 10 ** 6:
            raise ArithmeticError("the series converges too slowly")  # pragma: no cover


# ----------------------------------------------------------------------------------
# the Sobolev weight and its sums
# ----------------------------------------------------------------------------------
def _exact(value, name: str, positive: bool = False, nonnegative: bool = False):
    """Validate a real parameter; return it as int, float or Fraction."""
    if isinstance(value, bool):
        raise InputError(name, "expected a number, got a bool")
    if isinstance(value, sympy.Basic):
        if not value.is_number or not value.is_real:
            raise InputError(name, f"expected a real number, got {value}")
        value = (Fraction(int(value.p), int(value.q)) if value.is_Rational
                 else float(value))
    elif isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            raise InputError(name, f"must be finite, got {value}")
        mantissa, exponent = value.man_exp
        value = Fraction(int(mantissa)) * Fraction(2) ** int(exponent)
    elif isinstance(value, Integral):
        value = int(value)
    elif isinstance(value, Fraction):
        pass
    elif isinstance(value, Real):
        value = float(value)
    else:
        raise InputError(name, f"expected a real number, got {type(value).__name__}")
    if isinstance(value, Fraction) and value.denominator == 1:
        value = int(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(name, f"must be finite, got {value}")
    if positive:
        require(value > 0, name, f"must be > 0, got {value}")
    if nonnegative:
        require(value >= 0, name, f"must be >= 0, got {value}")
    return value


def _mpf(value) -> mpmath.mpf:
    if isinstance(value, Fraction):
        return mpmath.mpf(value.numerator) / value.denominator
    return mpmath.mpf(value)


@dataclass(frozen=True)
class SobolevWeight:
    """f(m) = scale · e^{-decay·m} · (1 + π² m)^{-s}, a function of m = |k|².

    With scale = r² and decay = 0 this is ρ_k² of K(s, r); the heat semigroup e^{TΔ}
    damps it by decay = 2Tπ².  :func:`mode_tail_sum` recognises decay = 0 and then
    uses closed forms (much faster in d = 2); any other f is summed generically.
    """

    s: object
    scale: object = 1
    decay: object = 0

    def __post_init__(self):
        object.__setattr__(self, "s", _exact(self.s, "s"))
        object.__setattr__(self, "scale", _exact(self.scale, "scale", positive=True))
        object.__setattr__(self, "decay", _exact(self.decay, "decay", nonnegative=True))

    def __call__(self, m) -> mpmath.mpf:
        s, scale, decay, pi2 = _weight_constants(self.s, self.scale, self.decay, mpmath.mp.prec)
        m = mpmath.mpf(m)
        value = scale * (1 + pi2 * m) ** (-s)
        return value * mpmath.exp(-decay * m) if self.decay else value

    def row(self, q: int):
        """(g, integral, derivatives_at) for the row g(x) = f(q + x²), for :func:`_sum_from`.

        Both parts of f have Taylor series by recurrence, so E-M needs no numerical
        differentiation; the E-M integral is closed form when decay = 0.
        """
        s, scale, decay, pi2 = _weight_constants(self.s, self.scale, self.decay, mpmath.mp.prec)
        b = 1 + pi2 * q
        g_power, integral, power_derivatives = _power_row(b, pi2, s)
        if not self.decay:
            return ((lambda x: scale * g_power(x)),
                    (lambda x0: scale * integral(x0)),
                    (lambda x0, order: [scale * c for c in power_derivatives(x0, order)]))
        damp = scale * mpmath.exp(-decay * q)

        def g(x):
            return damp * mpmath.exp(-decay * x * x) * g_power(x)

        def derivatives_at(x0, order):
            # e^{-a(x0+h)²} = e^{-a x0²} exp(p(h)), p' = -2a x0 - 2a h, so the Taylor
            # coefficients obey (j+1) e_{j+1} = -2a x0 e_j - 2a e_{j-1}; multiply series.
            e = [damp * mpmath.exp(-decay * x0 * x0)]
            for j in range(order):
                e.append((-2 * decay * x0 * e[j] - 2 * decay * (e[j - 1] if j else 0)) / (j + 1))
            p = [c / mpmath.factorial(j) for j, c in enumerate(power_derivatives(x0, order))]
            return [mpmath.factorial(j) * mpmath.fsum(e[i] * p[j - i] for i in range(j + 1))
                    for j in range(order + 1)]

        return g, None, derivatives_at


@functools.lru_cache(maxsize=64)
def _weight_constants(s, scale, decay, prec):
    with mpmath.workprec(prec):
        return _mpf(s), _mpf(scale), _mpf(decay), mpmath.pi ** 2


def _power_row(b, beta, sigma):
    """(g, integral, derivatives_at) for g(x) = (b + β x²)^{-σ}, σ > 1/2:
    ∫_N^∞ g = ½ b^{1/2-σ} β^{-1/2} B(b/(b + βN²); σ − 1/2, 1/2) (incomplete beta)."""
    half = mpmath.mpf(1) / 2

    def g(x):
        return (b + beta * x * x) ** (-sigma)

    def integral(x0):
        w = b / (b + beta * x0 * x0)
        return b ** (half - sigma) / mpmath.sqrt(beta) / 2 * mpmath.betainc(sigma - half, half, 0, w)

    def derivatives_at(x0, order):
        # Taylor coefficients c_j of G(h) = u(h)^{-σ}, u(h) = q0 + q1 h + q2 h², from
        # u G' = -σ u' G:  q0 (j+1) c_{j+1} = -q1 (j+σ) c_j - q2 (j-1+2σ) c_{j-1}.
        q0, q1, q2 = b + beta * x0 * x0, 2 * beta * x0, beta
        coefficients = [q0 ** (-sigma)]
        previous = mpmath.mpf(0)
        for j in range(order):
            current = coefficients[-1]
            following = -(q1 * (j + sigma) * current + q2 * (j - 1 + 2 * sigma) * previous) \
                / (q0 * (j + 1))
            coefficients.append(following)
            previous = current
        return [c * mpmath.factorial(j) for j, c in enumerate(coefficients)]

    return g, integral, derivatives_at


def _power_sum_from(b, beta, sigma, start: int) -> mpmath.mpf:
    """Σ_{k≥start} (b + β k²)^{-σ} (σ > 1/2)."""
    g, integral, derivatives_at = _power_row(b, beta, sigma)
    return _sum_from(g, start, integral, derivatives_at)


def _first_index_above(m: int) -> int:
    """Smallest k ≥ 0 with k² > m."""
    return math.isqrt(m) + 1 if m >= 0 else 0


def _power_level_tail(d: int, s: mpmath.mpf, m: int) -> mpmath.mpf:
    """Σ_{k ∈ ℕ₀^d, |k|² > m} (1 + π²|k|²)^{-s} (m ≥ -1), at the ambient precision."""
    pi2 = mpmath.pi ** 2
    if d == 1:
        return _power_sum_from(mpmath.mpf(1), pi2, s, _first_index_above(m))
    top = _first_index_above(m)
    total = mpmath.mpf(0)
    for k1 in range(top):                               # row segments outside the disc
        total += _power_sum_from(1 + pi2 * k1 * k1, pi2, s, math.isqrt(m - k1 * k1) + 1)
    k1, first_poisson = top, _poisson_start(s)
    while k1 < first_poisson:                           # full rows, summed as rows
        total += _power_sum_from(1 + pi2 * k1 * k1, pi2, s, 0)
        k1 += 1
    # Full rows k1 >= K: row(k1) = C_s (1+π²k1²)^{1/2-s} + ½ (1+π²k1²)^{-s}, up to a
    # relative 1e-30 (Poisson summation, see _poisson_start).
    half = mpmath.mpf(1) / 2
    c_s = mpmath.gamma(s - half) / (2 * mpmath.sqrt(mpmath.pi) * mpmath.gamma(s))
    total += c_s * _power_sum_from(mpmath.mpf(1), pi2, s - half, k1)
    total += half * _power_sum_from(mpmath.mpf(1), pi2, s, k1)
    return total


@functools.lru_cache(maxsize=256)
def _poisson_start(s: mpmath.mpf) -> int:
    """First row index K ≥ 12 from which every full row is its Poisson main part.

    For g(x) = (b + π²x²)^{-s} = π^{-2s}(x² + β²)^{-s}, β = √b/π ≥ k₁, Poisson summation
    gives Σ_{k≥0} g(k) = ∫₀^∞ g + g(0)/2 + Σ_{ν≥1} ĝ(ν) with
    ĝ(ν)/ĝ(0) = 2 (zν/2)^{s-1/2} K_{s-1/2}(zν)/Γ(s - 1/2), z = 2πβ: positive and
    decreasing in ν and β.  Two times the ν = 1 ratio bounds the relative error (the
    ratios fall by at least e^{-z}/... per ν); it must be below 1e-30.  For moderate s
    this is K = 12 (e^{-2π·12} ≈ 2e-33); large s needs more rows.
    """
    nu = s - mpmath.mpf(1) / 2
    k1 = _POISSON_ROW
    while True:
        z = 2 * mpmath.sqrt(1 + mpmath.pi ** 2 * k1 * k1)        # 2πβ
        ratio = 2 * (z / 2) ** nu * mpmath.besselk(nu, z) / mpmath.gamma(nu)
        if 4 * ratio <= mpmath.mpf("1e-30"):
            return k1
        k1 = k1 + max(1, k1 // 4)


def _generic_level_tail(d: int, f, m: int) -> mpmath.mpf:
    """Σ_{k ∈ ℕ₀^d, |k|² > m} f(|k|²) for a positive decreasing f (no closed forms)."""
    def row_sum(q: int, start: int):
        if isinstance(f, SobolevWeight):
            g, integral, derivatives_at = f.row(q)
            return _sum_from(g, start, integral, derivatives_at)
        return _sum_from(lambda x: f(q + x * x), start)

    if d == 1:
        return row_sum(0, _first_index_above(m))
    top = _first_index_above(m)
    total = mpmath.mpf(0)
    for k1 in range(top):
        q = k1 * k1
        total += row_sum(q, math.isqrt(m - q) + 1)
    previous, k1 = None, top
    while True:
        row = row_sum(k1 * k1, 0)
        total += row
        if previous is not None and row <= _TOL * total and row <= previous / 2:
            return total
        previous, k1 = row, k1 + 1
        if k1 - top > _ROW_CAP:
            raise ArithmeticError(
                "f decays too slowly for the generic 2-D summation; pass a SobolevWeight "
                "(closed forms) or an f with exponential decay")


def mode_tail_sum(d: int, f, n: int) -> mpmath.mpf:
    """Σ_{k ∉ I_n} f(|k|²) over k ∈ ℕ₀^d, I_n the first ``n`` modes.

    Parameters
    ----------
    d : int
        1 or 2.
    f : callable mpf -> mpf
        Positive and nonincreasing in m = |k|² (m is an integer; f is also called at
        real m by the E-M formula, so it must be smooth).  A :class:`SobolevWeight`
        with decay 0 is summed with closed forms; with decay > 0 it still supplies
        exact derivatives (several times faster than a plain callable, which is
        differentiated numerically).  In d = 2 a plain callable must decay fast enough
        that rows become negligible within 2000 rows (any e^{-am} factor, a ≳ 1e-5).
    n : int
        Number of leading modes left out (0 gives the full sum).

    Returns
    -------
    mpmath.mpf
        Accurate to a relative 1e-20 or better (computed with 34 digits).
    """
    d, n = _check_d(d), _check_n(n)
    if not callable(f):
        raise InputError("f", "expected a callable f(m)")
    m, missing = _split(d, n)
    with mpmath.workdps(WORK_DPS):
        if isinstance(f, SobolevWeight) and f.decay == 0:
            s = _mpf(f.s)
            require(s > mpmath.mpf(d) / 2, "s", f"must exceed d/2 = {d / 2} for a finite sum")
            value = _power_level_tail(d, s, m) * _mpf(f.scale)
        else:
            value = _generic_level_tail(d, f, m)
        if missing:
            value += missing * f(mpmath.mpf(m))
        return +value


# ----------------------------------------------------------------------------------
# the box
# ----------------------------------------------------------------------------------
def _square(r) -> Fraction:
    """r² exactly (floats are exact binary fractions)."""
    return Fraction(r) ** 2


@functools.lru_cache(maxsize=4096)
def _box_tail_sq(d: int, s, r, n: int) -> mpmath.mpf:
    return mode_tail_sum(d, SobolevWeight(s, _square(r)), n)


@dataclass(frozen=True)
class SobolevBox:
    """The spectral Sobolev box K(s, r) = {u : |û_k| ≤ r (1 + π²|k|²)^{-s/2}}.

    Attributes
    ----------
    d : int
        Dimension, 1 or 2.
    s : int, float or Fraction
        Smoothness, s > d/2 (so that K is compact in L² and its diameter finite).
    r : int, float or Fraction
        Radius, r > 0.
    """

    d: int
    s: float
    r: float

    def __post_init__(self):
        d = _check_d(self.d)
        s = _exact(self.s, "s")
        r = _exact(self.r, "r")
        require(s > Fraction(d, 2), "s", f"must exceed d/2 = {d / 2} (got {s}): "
                                         "otherwise the box is not compact in L²")
        require(r > 0, "r", f"must be > 0, got {r}")
        object.__setattr__(self, "d", d)
        object.__setattr__(self, "s", s)
        object.__setattr__(self, "r", r)

    # radii -------------------------------------------------------------------------
    def radius(self, k) -> mpmath.mpf:
        """ρ_k = r (1 + π²|k|²)^{-s/2} for a mode k (a d-tuple of nonnegative ints)."""
        try:
            k = tuple(int(v) for v in np.atleast_1d(k))
        except (TypeError, ValueError):
            raise InputError("k", f"expected a {self.d}-tuple of integers, got {k!r}") from None
        require(len(k) == self.d and min(k) >= 0, "k",
                f"expected {self.d} nonnegative integers, got {k}")
        with mpmath.workdps(WORK_DPS):
            m = sum(v * v for v in k)
            return +(_mpf(self.r) * (1 + mpmath.pi ** 2 * m) ** (-_mpf(self.s) / 2))

    def modes(self, n) -> np.ndarray:
        """The first n modes, ``first_modes(d, n)``."""
        return first_modes(self.d, n)

    def radii(self, n) -> np.ndarray:
        """ρ_k (float64) for the first n modes, in mode order."""
        modes = self.modes(n)
        m = np.sum(modes.astype(np.float64) ** 2, axis=1)
        return float(self.r) * (1.0 + np.pi ** 2 * m) ** (-float(self.s) / 2)

    # sums ---------------------------------------------------------------------------
    def tail_sq(self, n) -> mpmath.mpf:
        """Σ_{k ∉ I_n} ρ_k² (relative accuracy 1e-20 or better)."""
        return _box_tail_sq(self.d, self.s, self.r, _check_n(n))

    def tail(self, n) -> mpmath.mpf:
        """τ_in(n) = sup_{u∈K} ‖u − P_{I_n} u‖ = (Σ_{k∉I_n} ρ_k²)^{1/2}."""
        with mpmath.workdps(WORK_DPS):
            return mpmath.sqrt(self.tail_sq(n))

    def total_sq(self) -> mpmath.mpf:
        """Σ_{k ∈ ℕ₀^d} ρ_k² (the full sum, not truncated)."""
        return self.tail_sq(0)

    def sup_norm(self) -> mpmath.mpf:
        """sup_{u∈K} ‖u‖_{L²} = (Σ ρ_k²)^{1/2} (attained at |û_k| = ρ_k)."""
        return self.tail(0)

    def diameter(self) -> mpmath.mpf:
        """diam K = 2 (Σ ρ_k²)^{1/2} (attained by the pair ±(ρ_k)_k)."""
        with mpmath.workdps(WORK_DPS):
            return 2 * self.tail(0)

    def grad_sq(self) -> mpmath.mpf:
        """sup_K ‖∇u‖² = Σ_k π²|k|² ρ_k², finite iff s > 1 + d/2."""
        limit = 1 + Fraction(self.d, 2)
        require(self.s > limit, "s", f"sup_K ‖∇u‖² = Σ π²|k|² ρ_k² is finite only for "
                                     f"s > 1 + d/2 = {float(limit)}, got s = {self.s}")
        # λρ² = r²[(1+λ)^{1-s} - (1+λ)^{-s}]; both sums over k ≠ 0 (level > 0), whose
        # terms differ by the factor 1 + π²|k|² >= 1 + π², so nothing cancels.
        with mpmath.workdps(WORK_DPS):
            s = _mpf(self.s)
            value = _power_level_tail(self.d, s - 1, 0) - _power_level_tail(self.d, s, 0)
            return +(value * _mpf(self.r) ** 2)

    def n_for_tail(self, tau, max_n: int = 10 ** 7) -> int:
        """The smallest n ≥ 1 with ``tail(n) <= tau``.

        Exponential then binary search on n with exact tails, finished by exact suffix
        sums inside a window of at most 2048 modes; the answer is checked against
        :meth:`tail` (``tail(n) <= tau < tail(n - 1)``).

        Raises
        ------
        InputError("eps", ...)
            If even ``max_n`` modes leave a tail above tau.
        """
        tau = _positive_mpf(tau, "tau")
        max_n = _check_n(max_n, "max_n", low=1)
        with mpmath.workdps(WORK_DPS):
            target = tau * tau
            lo, hi = 0, 1
            while self.tail_sq(hi) > target:       # tail_sq(lo) > target (lo = 0: total)
                if hi == max_n:
                    raise InputError("eps", f"the input tail stays above {mpmath.nstr(tau, 6)}"
                                            f" up to n = {max_n} modes (tail there "
                                            f"{mpmath.nstr(self.tail(max_n), 6)}); ask for "
                                            "a larger accuracy, or raise max_n")
                lo, hi = hi, min(2 * hi, max_n)
            while hi - lo > 2048:
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if self.tail_sq(mid) <= target else (mid, hi)
            n = self._scan_window(lo, hi, target)
            while self.tail(n) > tau:              # agree with the public tail exactly
                n += 1
            while n > 1 and self.tail(n - 1) <= tau:
                n -= 1
            return n

    def _scan_window(self, lo: int, hi: int, target) -> int:
        """Smallest n in (lo, hi] with tail_sq(n) <= target, from tail_sq(hi) plus the
        exact squared radii of modes lo..hi-1 (suffix sums, no cancellation)."""
        if hi - lo <= 1:
            return hi
        levels = np.sum(self.modes(hi)[lo:hi].astype(np.int64) ** 2, axis=1)
        weight = SobolevWeight(self.s, _square(self.r))
        value = self.tail_sq(hi)
        best = hi
        cache = {}
        for j in range(hi - 1, lo, -1):           # value = tail_sq(j) after the update
            level = int(levels[j - lo])
            if level not in cache:
                cache[level] = weight(level)
            value += cache[level]
            if value <= target:
                best = j
            else:
                break
        return best


def _positive_mpf(value, name: str) -> mpmath.mpf:
    v = _exact(value, name, positive=True)
    with mpmath.workdps(WORK_DPS):
        return _mpf(v)
