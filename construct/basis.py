"""The Neumann cosine basis on [0, 1]^d, by DCT on midpoint grids.

φ_k(x) = Π_j c(k_j) cos(π k_j x_j), c(0) = 1, c(m > 0) = √2, is orthonormal in
L²(Ω).  On the midpoint grid x_i = (i + 1/2)/G the orthonormal DCT-II divided by √G
returns the exact coefficients of every cosine sum whose modes are below G on each
axis (discrete orthogonality of the DCT-II), so analysis and synthesis are exact
inverses on such sums.

Arrays carry a leading batch axis: samples ``(batch, *grid)``, coefficient grids
``(batch, *grid)`` (entry ``[b, k1, k2]`` is the coefficient of φ_(k1,k2)), and
coefficient vectors ``(batch, n)`` in the mode order of
:func:`mono.bounds.space.first_modes`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import fft

from mono.errors import InputError, require


def midpoints(size: int) -> np.ndarray:
    """The midpoint grid ``(i + 1/2) / size`` of one axis."""
    return (np.arange(size) + 0.5) / size


def _as_batch(array, d: int, name: str) -> np.ndarray:
    """A finite float array with a batch axis followed by ``d`` grid axes."""
    try:
        x = np.asarray(array, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(name, f"expected a numeric array ({exc})") from None
    require(x.ndim == d + 1, name,
            f"expected shape (batch, {', '.join(['grid'] * d)}) for d = {d}, got {x.shape}")
    require(all(g >= 1 for g in x.shape[1:]), name, f"grid axes must be non-empty, got {x.shape}")
    require(bool(np.isfinite(x).all()), name, "contains NaN or infinite values")
    return x


def analysis(samples, d: int = 1) -> np.ndarray:
    """Coefficient grid of functions sampled on a midpoint grid.

    Parameters
    ----------
    samples : array_like, shape (batch, G) or (batch, G1, G2)
        Values at the midpoint grid.
    d : int
        Dimension of the domain.

    Returns
    -------
    ndarray, same shape
        ``out[b, k] = ⟨u_b, φ_k⟩``, exact for cosine sums with modes below the grid size.
    """
    x = _as_batch(samples, d, "samples")
    axes = tuple(range(1, d + 1))
    return fft.dctn(x, type=2, norm="ortho", axes=axes) / math.sqrt(math.prod(x.shape[1:]))


def synthesis(coefficient_grid, shape) -> np.ndarray:
    """Samples on the midpoint grid of ``shape`` of Σ_k c_k φ_k.

    Modes beyond ``shape`` cannot be represented on that grid and are dropped (the
    result is the samples of the L² projection); missing modes are zero.
    """
    shape = tuple(int(g) for g in np.atleast_1d(shape))
    c = _as_batch(coefficient_grid, len(shape), "coefficients")
    padded = np.zeros((c.shape[0],) + shape)
    common = tuple(slice(0, min(a, b)) for a, b in zip(c.shape[1:], shape))
    padded[(slice(None),) + common] = c[(slice(None),) + common]
    axes = tuple(range(1, len(shape) + 1))
    return fft.idctn(padded, type=2, norm="ortho", axes=axes) * math.sqrt(math.prod(shape))


def _check_modes(modes) -> np.ndarray:
    m = np.asarray(modes)
    require(m.ndim == 2 and m.shape[1] in (1, 2) and np.issubdtype(m.dtype, np.integer)
            and (m >= 0).all(), "modes", "expected an (n, d) array of non-negative integers")
    return m


def to_grid(coefficients, modes, shape) -> np.ndarray:
    """Scatter coefficient vectors (mode order) into a coefficient grid of ``shape``."""
    m = _check_modes(modes)
    shape = tuple(int(g) for g in np.atleast_1d(shape))
    c = np.asarray(coefficients, dtype=float)
    require(c.ndim == 2 and c.shape[1] == len(m), "coefficients",
            f"expected shape (batch, {len(m)}), got {c.shape}")
    require(len(shape) == m.shape[1] and (m < np.array(shape)).all(), "shape",
            f"grid {shape} is too small for modes up to {m.max(axis=0).tolist()}")
    grid = np.zeros((c.shape[0],) + shape)
    grid[(slice(None),) + tuple(m.T)] = c
    return grid


def from_grid(coefficient_grid, modes) -> np.ndarray:
    """Gather the coefficients of ``modes`` (mode order) from a coefficient grid."""
    m = _check_modes(modes)
    g = np.asarray(coefficient_grid)
    require(g.ndim == m.shape[1] + 1 and (m < np.array(g.shape[1:])).all(), "modes",
            f"modes up to {m.max(axis=0).tolist()} do not fit the grid {g.shape[1:]}")
    return g[(slice(None),) + tuple(m.T)]


def sample(coefficients, modes, shape) -> np.ndarray:
    """Samples of Σ_j c_j φ_{modes[j]} on the midpoint grid of ``shape``."""
    return synthesis(to_grid(coefficients, modes, shape), shape)


def coefficients(samples, modes) -> np.ndarray:
    """Coefficients ⟨u, φ_k⟩ for ``modes`` (mode order) of sampled functions."""
    m = _check_modes(modes)
    return from_grid(analysis(samples, m.shape[1]), m)


def evaluate(coefficients, modes, points) -> np.ndarray:
    """Σ_j c_j φ_{modes[j]} at arbitrary points of shape ``(m, d)``; returns ``(batch, m)``."""
    m = _check_modes(modes)
    x = np.asarray(points, dtype=float).reshape(-1, m.shape[1])
    return np.asarray(coefficients, dtype=float) @ basis_matrix(m, x).T


def basis_matrix(modes, points) -> np.ndarray:
    """Φ[i, j] = φ_{modes[j]}(points[i]), shape ``(len(points), len(modes))``."""
    m = np.asarray(modes)
    x = np.asarray(points, dtype=float).reshape(-1, m.shape[1])
    scale = np.where(m == 0, 1.0, math.sqrt(2.0))
    return np.prod(scale[None] * np.cos(np.pi * x[:, None, :] * m[None]), axis=-1)


def eigenvalues(modes) -> np.ndarray:
    """λ_k = π² |k|² of the Neumann Laplacian."""
    m = np.asarray(modes, dtype=float)
    return np.pi ** 2 * (m ** 2).sum(axis=-1)


def sobolev_weights(modes, s: float) -> np.ndarray:
    """w_k(s) = (1 + λ_k)^{s/2}."""
    return (1.0 + eigenvalues(modes)) ** (s / 2)


def sobolev_norm(coefficients, modes, s: float) -> np.ndarray:
    """Spectral H^s norm (Σ_k w_k(s)² c_k²)^{1/2} of each coefficient vector."""
    c = np.asarray(coefficients, dtype=float)
    return np.sqrt(((sobolev_weights(modes, s) * c) ** 2).sum(axis=-1))


def grid_modes(shape) -> np.ndarray:
    """All modes of a coefficient grid, in C order, as an ``(prod(shape), d)`` array."""
    shape = tuple(int(g) for g in np.atleast_1d(shape))
    return np.stack(np.unravel_index(np.arange(math.prod(shape)), shape), axis=1)
