"""Reference evaluators G for every target, batched over coefficient vectors.

A :class:`Target` pairs a :class:`mono.bounds.targets.TargetSpec` (the proved constants)
with a reference midpoint grid and evaluates G(u) for inputs u = Σ_j c_j φ_{k_j} given by
coefficient vectors in mode order.  ``target(c)`` samples G(u) on the reference grid (or
returns the values of a functional); ``target.output_coefficients(c, M)`` returns
P_{J_M} G(u), the vector F(a) that the constructions interpolate.

Reference accuracy (measured by grid refinement, see tests/test_targets.py; inputs with
16 modes at the corners and inside of K(s = 3/2, r = 4), d = 1, and K(5/2, 1), d = 2):

=============== ============================================================================
heat            exact in coefficient space (multipliers e^{−Tλ_k}); samples exact to rounding
antiderivative  exact: closed form of ∫_0^x φ_k for samples (DST) and for coefficients
sin             pointwise on the grid; coefficients by the DCT of sin(u), whose even
                2-periodic extension is smooth, so the aliasing error decays faster than any
                power of 1/G (rounding level, ~2e-16, at the default grids)
ode             classical RK4 with 2G steps of 1/(2G), u exact at every stage point
                (DCT-I on the nodes j/(4G)), O(G^{-4}); coefficients by the trapezoid rule on
                the RK4 nodes with the first Euler–Maclaurin end correction, O(G^{-4}).
                At G = 1024: samples ~3e-13, coefficients ~4e-12
abs_power       midpoint rule for ∫|u|^α; |u|^α has kinks at the zeros of u, so the error is
                O(G^{-1-α}) with an oscillating constant.  At G = 1024 (d = 1), relative to
                the value: ~3e-5 (α = 1/2), ~1e-4 (α = 0.2), ~2e-6 (α = 1); at 64 × 64
                (d = 2, α = 1/2) ~4e-5 absolute
norm_sq         exact: Σ c_k²
=============== ============================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
from scipy import fft

from mono.bounds.space import SobolevBox, first_modes
from mono.bounds.targets import TargetSpec, custom_target_spec, target_spec
from mono.construct import basis
from mono.errors import InputError, require

DEFAULT_RESOLUTION = {1: (1024,), 2: (64, 64)}


# --- kernels: pure functions of arrays --------------------------------------------------------

def _normalisation(k: np.ndarray) -> np.ndarray:
    """c(k): 1 for k = 0, √2 otherwise."""
    return np.where(np.asarray(k) == 0, 1.0, math.sqrt(2.0))


def heat_multipliers(modes: np.ndarray, T: float) -> np.ndarray:
    """e^{−Tλ_k} for each mode: e^{TΔ} is diagonal in the Neumann cosine basis."""
    return np.exp(-T * basis.eigenvalues(modes))


def antiderivative_matrix(n_out: int, n_in: int) -> np.ndarray:
    """B[j, k] = ⟨∫_0^x φ_k, φ_j⟩ in d = 1, exactly, shape ``(n_out, n_in)``.

    ∫_0^x φ_0 = x and ∫_0^x φ_k = √2 sin(πkx)/(πk) for k >= 1, and
    ∫_0^1 sin(πkx) cos(πjx) dx = k (1 − (−1)^{k+j}) / (π (k² − j²)) for j ≠ k (0 for j = k).
    """
    j = np.arange(n_out)[:, None].astype(float)
    k = np.arange(n_in)[None, :].astype(float)
    odd = (1 - (-1.0) ** (j + k))  # 2 when k + j is odd, else 0
    with np.errstate(divide="ignore", invalid="ignore"):
        # k >= 1, j >= 1, j != k: 2 (1 − (−1)^{k+j}) / (π² (k² − j²))
        B = np.where(j != k, 2 * odd / (math.pi ** 2 * (k * k - j * j)), 0.0)
        # j = 0, k >= 1: √2 (1 − (−1)^k) / (π² k²)
        B[0, :] = np.where(k[0] > 0, math.sqrt(2) * odd[0] / (math.pi ** 2 * k[0] ** 2), 0.5)
        # k = 0: ⟨x, φ_j⟩ = √2 ((−1)^j − 1) / (π² j²) for j >= 1, 1/2 for j = 0
        B[:, 0] = np.where(j[:, 0] > 0, -math.sqrt(2) * odd[:, 0] / (math.pi ** 2 * j[:, 0] ** 2), 0.5)
    return B


def antiderivative_samples(c: np.ndarray, size: int) -> np.ndarray:
    """Samples of ∫_0^x u on the midpoint grid of ``size`` points, u = Σ_k c_k φ_k (d = 1).

    The sine part Σ_{k>=1} b_k sin(πkx), b_k = √2 c_k/(πk), is a DST-III on the midpoint
    grid (scipy's DST-III weights the coefficients 2, ..., 2, 1); needs n_in <= size.
    """
    batch, n = c.shape
    x = basis.midpoints(size)
    z = np.zeros((batch, size))
    k = np.arange(1, n)
    z[:, : n - 1] = c[:, 1:] * (math.sqrt(2) / (math.pi * k))
    z[:, : size - 1] /= 2
    return c[:, :1] * x[None] + fft.dst(z, type=3, axis=1)


def cosine_nodes(c: np.ndarray, intervals: int) -> np.ndarray:
    """u = Σ_k c_k φ_k (d = 1) at the nodes j/N, j = 0..N, by a DCT-I (N = ``intervals``).

    scipy's DCT-I weights the interior coefficients by 2, hence the halving; needs n_in <= N + 1.
    """
    batch, n = c.shape
    z = np.zeros((batch, intervals + 1))
    z[:, :n] = c * _normalisation(np.arange(n))
    z[:, 1:intervals] /= 2
    return fft.dct(z, type=1, axis=1)


def ode_nodes(c: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """RK4 solution of y' = −y − y³ + u, y(0) = 0 at the nodes n/(2·size), n = 0..2·size.

    Steps of H = 1/(2·size); u is known exactly at every stage point (the nodes j/(4·size)).
    Returns ``(y, u)`` with y of shape ``(batch, 2·size + 1)`` and u at the nodes
    j/(4·size), shape ``(batch, 4·size + 1)``.
    """
    steps = 2 * size
    H = 1.0 / steps
    u = cosine_nodes(c, 2 * steps)
    y = np.zeros((c.shape[0], steps + 1))

    def f(v, w):
        return w - v - v ** 3

    v = y[:, 0]
    for n in range(steps):
        u0, uh, u1 = u[:, 2 * n], u[:, 2 * n + 1], u[:, 2 * n + 2]
        k1 = f(v, u0)
        k2 = f(v + H / 2 * k1, uh)
        k3 = f(v + H / 2 * k2, uh)
        k4 = f(v + H * k3, u1)
        v = v + H / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        y[:, n + 1] = v
    return y, u


def ode_coefficients(y: np.ndarray, u: np.ndarray, n_out: int) -> np.ndarray:
    """⟨y, φ_j⟩, j < n_out, from y at the uniform nodes n/N (n = 0..N, N = len − 1).

    Trapezoid rule (a DCT-I) with the first Euler–Maclaurin correction
    −(H²/12)[g']_0^1, g = y φ_j.  Since φ_j' vanishes at 0 and 1,
    g'(0) = y'(0) φ_j(0) = u(0) φ_j(0) (y(0) = 0) and g'(1) = (u(1) − y(1) − y(1)³) φ_j(1):
    the corrected rule is O(H⁴).
    """
    N = y.shape[1] - 1
    H = 1.0 / N
    trap = fft.dct(y, type=1, axis=1)[:, :n_out] * (H / 2)
    j = np.arange(n_out)
    scale = _normalisation(j)
    dy0 = u[:, 0]
    dy1 = u[:, -1] - y[:, -1] - y[:, -1] ** 3
    sign = (-1.0) ** j
    correction = (H * H / 12) * (dy1[:, None] * sign[None] - dy0[:, None])
    return scale[None] * (trap - correction)


# --- the target --------------------------------------------------------------------------------

def _check_resolution(resolution, d: int) -> tuple[int, ...]:
    if resolution is None:
        return DEFAULT_RESOLUTION[d]
    res = tuple(np.atleast_1d(np.asarray(resolution)).tolist())
    require(len(res) == d and all(isinstance(g, int) and g >= 2 for g in res), "resolution",
            f"expected {d} integer grid size(s) >= 2, got {resolution!r}")
    return res


@dataclass(frozen=True)
class Target:
    """A target G with its proved constants and a reference evaluator.

    Attributes
    ----------
    spec : TargetSpec
    resolution : tuple of int
        The reference midpoint grid.
    function : callable or None
        Only for custom targets: samples ``(batch, *grid)`` → samples or values ``(batch,)``.
    """

    spec: TargetSpec
    resolution: tuple[int, ...]
    function: Callable | None = field(default=None, compare=False, repr=False)

    @property
    def box(self) -> SobolevBox:
        return self.spec.box

    @property
    def kind(self) -> str:
        return self.spec.kind

    def with_resolution(self, resolution) -> "Target":
        """The same target on another reference grid."""
        return replace(self, resolution=_check_resolution(resolution, self.box.d))

    # input handling

    def _input(self, coefficients, on_grid: bool) -> tuple[np.ndarray, np.ndarray]:
        try:
            c = np.asarray(coefficients, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InputError("coefficients", f"expected a numeric array ({exc})") from None
        require(c.ndim == 2 and c.shape[0] >= 1 and c.shape[1] >= 1, "coefficients",
                f"expected shape (batch, n_in) with batch, n_in >= 1, got {c.shape}")
        require(bool(np.isfinite(c).all()), "coefficients", "contains NaN or infinite values")
        modes = first_modes(self.box.d, c.shape[1])
        if on_grid:
            top = modes.max(axis=0)
            require(bool((top < np.array(self.resolution)).all()), "coefficients",
                    f"{c.shape[1]} input modes reach k = {top.tolist()}, which the reference "
                    f"grid {self.resolution} cannot resolve; use a finer resolution")
        return c, modes

    def _output_modes(self, M) -> np.ndarray:
        require(isinstance(M, (int, np.integer)) and not isinstance(M, bool) and M >= 1, "M",
                f"must be an integer >= 1, got {M!r}")
        return first_modes(self.box.d, int(M))

    def _check_output_fits(self, modes: np.ndarray) -> None:
        top = modes.max(axis=0)
        require(bool((top < np.array(self.resolution)).all()), "M",
                f"{len(modes)} output modes reach k = {top.tolist()}, beyond the reference "
                f"grid {self.resolution}; use a finer resolution")

    # evaluation

    def __call__(self, coefficients) -> np.ndarray:
        """G(u) on the reference midpoint grid ``(batch, *resolution)``, or ``(batch,)`` values."""
        name = self.spec.name
        if self.function is not None:
            c, modes = self._input(coefficients, on_grid=True)
            return self._custom(basis.sample(c, modes, self.resolution))
        c, modes = self._input(coefficients, on_grid=name != "norm_sq")
        if name == "heat":
            mult = heat_multipliers(modes, self.spec.parameters["T"])
            return basis.sample(c * mult, modes, self.resolution)
        if name == "antiderivative":
            return antiderivative_samples(c, self.resolution[0])
        if name == "sin":
            return np.sin(basis.sample(c, modes, self.resolution))
        if name == "ode":
            y, _ = ode_nodes(c, self.resolution[0])
            return y[:, 1::2]
        if name == "abs_power":
            u = basis.sample(c, modes, self.resolution)
            alpha = self.spec.parameters["alpha"]
            return (np.abs(u) ** alpha).reshape(len(u), -1).mean(axis=1)
        if name == "norm_sq":
            return (c * c).sum(axis=1)
        raise AssertionError(f"no evaluator for {name}")  # registry and evaluators disagree

    def output_coefficients(self, coefficients, M: int) -> np.ndarray:
        """P_{J_M} G(u) in mode order, ``(batch, M)``; ``(batch, 1)`` (the value) for functionals."""
        if self.kind == "functional":
            require(M == 1, "M", f"a functional has one output (M = 1), got {M!r}")
            return self(coefficients)[:, None]
        out_modes = self._output_modes(M)
        name = self.spec.name
        if self.function is None and name == "heat":
            c, modes = self._input(coefficients, on_grid=False)
            n = min(len(modes), M)
            out = np.zeros((len(c), M))
            out[:, :n] = c[:, :n] * heat_multipliers(modes[:n], self.spec.parameters["T"])
            return out
        if self.function is None and name == "antiderivative":
            c, _ = self._input(coefficients, on_grid=False)
            return c @ antiderivative_matrix(M, c.shape[1]).T
        self._check_output_fits(out_modes)
        if self.function is None and name == "ode":
            c, _ = self._input(coefficients, on_grid=True)
            y, u = ode_nodes(c, self.resolution[0])
            return ode_coefficients(y, u, M)
        return basis.coefficients(self(coefficients), out_modes)

    def _custom(self, samples: np.ndarray) -> np.ndarray:
        out = np.asarray(self.function(samples), dtype=float)
        batch = samples.shape[0]
        expected = (batch,) if self.kind == "functional" else samples.shape
        require(out.shape == expected, "fn",
                f"the custom {self.kind} must map samples {samples.shape} to shape {expected}, "
                f"got {out.shape}")
        require(bool(np.isfinite(out).all()), "fn", "returned NaN or infinite values")
        return out


def make_target(name: str, box: SobolevBox, resolution=None, **params) -> Target:
    """A registered target (see :data:`mono.bounds.targets.TARGET_NAMES`) with its evaluator."""
    spec = target_spec(name, box, **params)
    return Target(spec=spec, resolution=_check_resolution(resolution, box.d))


def custom_target(box: SobolevBox, fn: Callable, modulus, radius, t=1, kind: str = "operator",
                  resolution=None, name: str = "custom") -> Target:
    """A user's target: ``fn`` maps midpoint-grid samples ``(batch, *grid)`` to samples
    (operator) or values ``(batch,)`` (functional), vectorised over the batch.

    The modulus, radius and t are the user's claims (see
    :func:`mono.bounds.targets.custom_target_spec`); output coefficients are the DCT of
    the returned samples on the reference grid.
    """
    require(callable(fn), "fn", "must be a callable mapping grid samples to samples or values")
    spec = custom_target_spec(box, modulus, radius, t=t, kind=kind, name=name)
    return Target(spec=spec, resolution=_check_resolution(resolution, box.d), function=fn)
