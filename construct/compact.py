"""Sampling the compact set K(s, r) and the H^s ball, and membership in K.

K = { u : |û_k| <= ρ_k for all k } with ρ_k = r / w_k(s); a coefficient vector of its
first n modes (mode order) lies in K exactly when |c_k| <= ρ_k for each of them.

The H^s ball { Σ_k w_k(s)² c_k² <= r² } lies inside K: each single term gives
w_k(s)² c_k² <= r², i.e. |c_k| <= ρ_k.  So every sampler here returns points of K.
"""

from __future__ import annotations

import numpy as np

from mono.bounds.space import SobolevBox
from mono.errors import InputError, require


def _generator(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    require(isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0, "rng",
            f"expected a numpy Generator or a non-negative integer seed, got {rng!r}")
    return np.random.default_rng(int(rng))


def _count(value, name: str, minimum: int = 1) -> int:
    require(isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum,
            name, f"must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _radii(box: SobolevBox, n_modes) -> np.ndarray:
    return np.asarray(box.radii(_count(n_modes, "n_modes")), dtype=float)


def sample_box(box: SobolevBox, n_modes: int, size: int, rng) -> np.ndarray:
    """Uniform samples of the box Π_k [−ρ_k, ρ_k] of the first ``n_modes`` modes, ``(size, n_modes)``."""
    rho = _radii(box, n_modes)
    size = _count(size, "size")
    return _generator(rng).uniform(-1.0, 1.0, (size, len(rho))) * rho


def sample_extreme(box: SobolevBox, n_modes: int, size: int, rng) -> np.ndarray:
    """Corners ±ρ_k of the box with independent random signs, ``(size, n_modes)``."""
    rho = _radii(box, n_modes)
    size = _count(size, "size")
    signs = _generator(rng).integers(0, 2, (size, len(rho))) * 2 - 1
    return signs * rho


def sample_ball(box: SobolevBox, n_modes: int, size: int, rng) -> np.ndarray:
    """Uniform samples of the H^s ball of radius r restricted to the first ``n_modes`` modes.

    In the coordinates z_k = w_k(s) c_k = r c_k / ρ_k the ball is the Euclidean ball of
    radius r: a uniform direction (normalised Gaussian) times r U^{1/n}.  These points lie
    in K since |z_k| <= ‖z‖ <= r gives |c_k| <= ρ_k.
    """
    rho = _radii(box, n_modes)
    size = _count(size, "size")
    gen = _generator(rng)
    n = len(rho)
    direction = gen.standard_normal((size, n))
    norms = np.linalg.norm(direction, axis=1, keepdims=True)
    direction /= np.where(norms > 0, norms, 1.0)
    radius = gen.random((size, 1)) ** (1.0 / n)
    # z = r · radius · direction, c_k = z_k ρ_k / r
    return radius * direction * rho


def _as_rows(coefficients, parameter: str) -> np.ndarray:
    try:
        c = np.asarray(coefficients, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(parameter, f"expected a numeric array ({exc})") from None
    if c.ndim == 1:
        c = c[None]
    require(c.ndim == 2 and c.shape[1] >= 1, parameter,
            f"expected coefficient vectors of shape (batch, n), got {np.shape(coefficients)}")
    require(bool(np.isfinite(c).all()), parameter, "contains NaN or infinite values")
    return c


def excess(box: SobolevBox, coefficients, parameter: str = "coefficients") -> np.ndarray:
    """max_k |c_k| / ρ_k per row (<= 1 means the row lies in K)."""
    c = _as_rows(coefficients, parameter)
    return (np.abs(c) / _radii(box, c.shape[1])).max(axis=1)


def check_inside(box: SobolevBox, coefficients, parameter: str = "u", rtol: float = 1e-9) -> None:
    """Raise InputError, naming the row, the mode and the factor, when a row lies outside K.

    A row is accepted when |c_k| <= (1 + rtol) ρ_k for every mode (``rtol`` absorbs the
    rounding of coefficients computed from samples).
    """
    c = _as_rows(coefficients, parameter)
    rho = _radii(box, c.shape[1])
    ratio = np.abs(c) / rho
    worst = ratio.max(axis=1)
    bad = np.flatnonzero(worst > 1 + rtol)
    if bad.size:
        row = int(bad[np.argmax(worst[bad])])
        j = int(np.argmax(ratio[row]))
        mode = tuple(int(m) for m in box.modes(c.shape[1])[j])
        raise InputError(parameter,
                         f"{bad.size} of {len(c)} input(s) lie outside K(s={box.s}, r={box.r}): "
                         f"row {row} has |c| = {abs(c[row, j]):.6g} at mode k = {mode} "
                         f"(position {j}), {worst[row]:.6g} times the bound ρ_k = "
                         f"{rho[j]:.6g}")
