"""The coefficient grid, its Kuhn triangulation, point location and the hat basis.

The box B = Π_k [−ρ_k, ρ_k] of input coefficients is cut into q_k cells on
coordinate k (spacing h_k = 2ρ_k/q_k).  Every cell is split into the n! Kuhn
(Freudenthal) simplices {f_π(1) ≥ … ≥ f_π(n)} of its fractional coordinates f, one per
permutation π.  The simplex of a point is found by locating its cell and sorting its
fractional coordinates in decreasing order; its vertices are v_0 = cell and
v_i = v_{i−1} + e_π(i), and its barycentric coordinates are differences of the sorted
fractional coordinates.  On that simplex the continuous piecewise-linear interpolant is

    I_h F(a) = Σ_i β_i F(v_i) = F(v_0) + Σ_i (F(v_i) − F(v_{i−1})) f_π(i).

Two ways of locating are offered and must agree: the fast path (:meth:`locate` then
:func:`kuhn_order`, numpy floor and stable argsort) and :func:`route_counted`, the
routing *tree* executed comparison by comparison (binary search per axis, binary
insertion sort), which counts the comparisons each query makes.  Both work on the
scaled coordinate t_k = (a_k + ρ_k)/h_k ∈ [0, q_k] and compare it with integers, so they
see the same numbers and return the same cell and the same permutation.

Pure numpy; every function is vectorised over a leading batch axis.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from mono.errors import InputError, require

#: Relative slack (of ρ_k) within which a coordinate on the far side of a face still
#: counts as on the face: values computed as ``−ρ + q·h`` land a few ulps outside.
OUTSIDE_TOLERANCE = 1e-12


@dataclass(frozen=True, eq=False)
class CoefficientGrid:
    """The uniform grid of cells on the box Π_k [−ρ_k, ρ_k].

    Parameters
    ----------
    radii : ndarray, shape (n,)
        ρ_k > 0, in mode order.
    cells : tuple of int
        q_k ≥ 1 cells on coordinate k.
    modes : ndarray, shape (n, d), optional
        The mode k of each coordinate; only used to name it in error messages.
    """

    radii: np.ndarray
    cells: tuple[int, ...]
    modes: np.ndarray | None = None

    def __post_init__(self):
        try:
            radii = np.array(self.radii, dtype=float).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise InputError("radii", f"expected a numeric array of radii ({exc})") from None
        try:
            raw = tuple(self.cells)
        except TypeError:
            raise InputError("cells", f"expected a sequence of cell counts, got {self.cells!r}") from None
        # int() would silently truncate 1.5 to 1 and raise a bare ValueError on text
        require(all(isinstance(q, numbers.Integral) and not isinstance(q, bool) for q in raw), "cells",
                f"every cell count must be an integer >= 1, got {self.cells!r}")
        cells = tuple(int(q) for q in raw)
        require(radii.size >= 1, "radii", "at least one coordinate is needed")
        require(bool(np.isfinite(radii).all() and (radii > 0).all()), "radii",
                "every radius must be finite and > 0")
        require(len(cells) == radii.size, "cells",
                f"expected {radii.size} cell counts (one per radius), got {len(cells)}")
        require(all(q >= 1 for q in cells), "cells", "every cell count must be an integer ≥ 1")
        radii.setflags(write=False)
        if self.modes is not None:
            modes = np.array(self.modes, dtype=np.int64).reshape(radii.size, -1)
            modes.setflags(write=False)
            object.__setattr__(self, "modes", modes)
        object.__setattr__(self, "radii", radii)
        object.__setattr__(self, "cells", cells)

    @property
    def n(self) -> int:
        """Number of coordinates (input modes)."""
        return len(self.cells)

    @property
    def q(self) -> np.ndarray:
        """Cell counts as an int64 array."""
        return np.array(self.cells, dtype=np.int64)

    @property
    def spacing(self) -> np.ndarray:
        """h_k = 2ρ_k / q_k."""
        return 2.0 * self.radii / self.q

    @property
    def lower(self) -> np.ndarray:
        """The lower corner −ρ of the box."""
        return -self.radii

    @property
    def n_nodes(self) -> int:
        """Π_k (q_k + 1), exact."""
        return math.prod(q + 1 for q in self.cells)

    @property
    def n_cells(self) -> int:
        """Π_k q_k, exact."""
        return math.prod(self.cells)

    def node_coefficients(self, nodes) -> np.ndarray:
        """Coordinates of nodes given by multi-indices ``(..., n)`` in {0..q_k}.

        Computed as ρ_k (2i − q_k)/q_k, which is exactly ±ρ_k at the two faces (so
        the extreme nodes lie in the box, not an ulp outside) and symmetric about 0.
        """
        i = np.asarray(nodes, dtype=np.int64)
        q = self.q
        return self.radii * ((2 * i - q) / q)

    def scaled(self, a, parameter: str = "coefficients") -> np.ndarray:
        """t_k = (a_k + ρ_k)/h_k ∈ [0, q_k], after checking that a lies in the box.

        Raises
        ------
        InputError
            If ``a`` is not a finite ``(batch, n)`` array or a coordinate lies outside
            [−ρ_k, ρ_k] by more than :data:`OUTSIDE_TOLERANCE` · ρ_k; the message gives
            the worst coordinate and by how much it is outside.
        """
        try:
            a = np.asarray(a, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InputError(parameter, f"expected a numeric array ({exc})") from None
        require(a.ndim == 2 and a.shape[1] == self.n, parameter,
                f"expected shape (batch, {self.n}), got {a.shape}")
        require(bool(np.isfinite(a).all()), parameter, "contains NaN or infinite values")
        excess = np.abs(a) - self.radii
        relative = excess / self.radii
        if a.size and relative.max() > OUTSIDE_TOLERANCE:
            row, j = np.unravel_index(np.argmax(relative), relative.shape)
            label = f"coordinate {j}"
            if self.modes is not None:
                label += f" (mode k = {tuple(int(m) for m in self.modes[j])})"
            raise InputError(
                parameter,
                f"outside the box: {label} of input {row} is "
                f"{a[row, j]:.6g}, beyond the radius ρ = {self.radii[j]:.6g} by "
                f"{excess[row, j]:.3g} ({relative[row, j]:.3g} relative); every "
                f"coordinate must lie in [−ρ_k, ρ_k]")
        q = self.q.astype(float)
        return np.clip((a + self.radii) / self.spacing, 0.0, q)

    def locate(self, a) -> tuple[np.ndarray, np.ndarray]:
        """Cell multi-index and fractional coordinates of each point.

        Parameters
        ----------
        a : array_like, shape (batch, n)

        Returns
        -------
        cell : ndarray of int64, shape (batch, n)
            In {0, …, q_k − 1}; the upper face belongs to the last cell.
        frac : ndarray, shape (batch, n)
            Position inside the cell, in [0, 1].
        """
        t = self.scaled(a)
        cell = np.minimum(np.floor(t).astype(np.int64), self.q - 1)
        frac = np.clip(t - cell, 0.0, 1.0)
        return cell, frac


def kuhn_order(frac) -> np.ndarray:
    """The permutation sorting fractional coordinates decreasingly (stable).

    Ties keep the lower index first; any tie-break gives a simplex containing the
    point and the same interpolated value (the tied barycentric weight is 0).
    """
    f = np.asarray(frac, dtype=float)
    return np.argsort(-f, axis=-1, kind="stable")


def simplex_vertices(cell, perm) -> np.ndarray:
    """Node multi-indices v_0 = cell, v_i = v_{i−1} + e_{perm[i−1]}; shape (batch, n+1, n)."""
    cell = np.asarray(cell, dtype=np.int64)
    perm = np.asarray(perm, dtype=np.int64)
    batch, n = cell.shape
    steps = np.zeros((batch, n + 1, n), dtype=np.int64)
    rows = np.arange(batch)[:, None]
    steps[rows, np.arange(1, n + 1)[None, :], perm] = 1
    return cell[:, None, :] + np.cumsum(steps, axis=1)


def barycentric(frac, perm) -> np.ndarray:
    """β_0 = 1 − f_π(1), β_i = f_π(i) − f_π(i+1), β_n = f_π(n); shape (batch, n+1)."""
    f = np.take_along_axis(np.asarray(frac, dtype=float), np.asarray(perm), axis=-1)
    upper = np.concatenate([np.ones_like(f[:, :1]), f], axis=1)
    lower = np.concatenate([f, np.zeros_like(f[:, :1])], axis=1)
    return upper - lower


def hat(z) -> np.ndarray:
    """Λ(z) = max(0, 1 + min(0, z_1..z_n) − max(0, z_1..z_n)) along the last axis."""
    z = np.asarray(z, dtype=float)
    low = np.minimum(z.min(axis=-1), 0.0)
    high = np.maximum(z.max(axis=-1), 0.0)
    return np.maximum(0.0, 1.0 + low - high)


def interpolate(node_values, frac, perm) -> np.ndarray:
    """I_h F on the located simplices from the values at its n+1 vertices.

    Parameters
    ----------
    node_values : ndarray, shape (batch, n+1, M)
        F at v_0..v_n.
    frac, perm : as returned by :meth:`CoefficientGrid.locate`, :func:`kuhn_order`.

    Returns
    -------
    ndarray, shape (batch, M)
        F(v_0) + Σ_i (F(v_i) − F(v_{i−1})) f_π(i).
    """
    values = np.asarray(node_values, dtype=float)
    f = np.take_along_axis(np.asarray(frac, dtype=float), np.asarray(perm), axis=-1)
    return values[:, 0] + np.einsum("bim,bi->bm", np.diff(values, axis=1), f)


def cell_comparisons(cells: int) -> int:
    """Worst-case comparisons of the binary search over ``cells`` cells: ⌈log₂ q⌉."""
    return (int(cells) - 1).bit_length()


def sort_comparisons(n: int) -> int:
    """Worst-case comparisons of binary insertion sort of n keys: Σ_{i=2}^n ⌈log₂ i⌉."""
    return sum((i - 1).bit_length() for i in range(2, int(n) + 1))


def _search_bins(t: np.ndarray, bins: np.ndarray, width: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Binary search of each scaled coordinate among its bins, counting comparisons.

    Bin j of axis k is [j·width, (j+1)·width) (the last one closed and possibly shorter):
    cells for width 1, blocks of b cells for width b.  The candidate bins of a query
    are [lo, hi); one comparison ``t ≥ mid·width`` with mid = ⌊(lo + hi)/2⌋ halves them
    (left part ⌊m/2⌋, right part ⌈m/2⌉ bins), so at most ⌈log₂ bins_k⌉ comparisons are
    made, and a query in the last bin makes exactly that many.  The upper face ends in
    the last bin.  Thresholds are integers, compared with the same t as the fast path.
    """
    batch, n = t.shape
    lo = np.zeros((batch, n), dtype=np.int64)
    hi = np.broadcast_to(np.asarray(bins, dtype=np.int64), (batch, n)).copy()
    count = np.zeros(batch, dtype=np.int64)
    while True:
        active = hi - lo > 1
        if not active.any():
            return lo, count
        mid = (lo + hi) // 2
        right = t >= mid * width
        lo = np.where(active & right, mid, lo)
        hi = np.where(active & ~right, mid, hi)
        count += active.sum(axis=1)


def _insertion_sort(frac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Binary insertion sort of the fractional coordinates, decreasing and stable.

    Key i (0-based) is inserted among the i keys already sorted by bisection over the
    i + 1 gaps; it goes after every key ≥ it (stability: ties keep the lower index
    first, exactly like a stable argsort of −f).  At most ⌈log₂(i + 1)⌉ comparisons per
    key; a key larger than all before it makes exactly that many.
    """
    batch, n = frac.shape
    rows = np.arange(batch)
    order = np.zeros((batch, n), dtype=np.int64)
    count = np.zeros(batch, dtype=np.int64)
    positions = np.arange(n)[None, :]
    for i in range(1, n):
        key = frac[:, i]
        lo = np.zeros(batch, dtype=np.int64)
        hi = np.full(batch, i, dtype=np.int64)
        while True:
            active = lo < hi
            if not active.any():
                break
            mid = (lo + hi) // 2
            pivot = frac[rows, order[rows, np.minimum(mid, i - 1)]]
            after = pivot >= key  # the new key goes after equal ones: stable
            lo = np.where(active & after, mid + 1, lo)
            hi = np.where(active & ~after, mid, hi)
            count += active
        # insert i at position lo: entries at ≥ lo shift one place right
        shifted = np.concatenate([order[:, :1], order[:, :-1]], axis=1)
        p = positions[:, : i + 1]
        head = order[:, : i + 1]
        new = np.where(p < lo[:, None], head,
                       np.where(p == lo[:, None], i, shifted[:, : i + 1]))
        order[:, : i + 1] = new
    return order, count


def route_counted(grid: CoefficientGrid, a) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The routing tree, executed comparison by comparison for a batch of queries.

    Returns
    -------
    cell : ndarray of int64, shape (batch, n)
    perm : ndarray of int64, shape (batch, n)
        Equal to ``grid.locate(a)`` and ``kuhn_order(frac)``.
    comparisons : ndarray of int64, shape (batch,)
        Comparisons made by each query: at most
        Σ_k ⌈log₂ q_k⌉ + Σ_{i=2}^n ⌈log₂ i⌉.
    """
    t = grid.scaled(a)
    cell, cell_count = _search_bins(t, grid.q)
    frac = np.clip(t - cell, 0.0, 1.0)
    perm, sort_count = _insertion_sort(frac)
    return cell, perm, cell_count + sort_count


def blocks_per_axis(grid: CoefficientGrid, granularity: int) -> np.ndarray:
    """⌈q_k / b⌉ blocks of b consecutive cells per axis (the last one possibly shorter)."""
    return -(-grid.q // int(granularity))


def route_blocks_counted(grid: CoefficientGrid, a, granularity: int) -> tuple[np.ndarray, np.ndarray]:
    """Block routing tree: binary search per axis over the ⌈q_k/b⌉ blocks, counted.

    Returns the block multi-index (equal to ``locate(a)[0] // b``) and the comparisons
    of each query, at most Σ_k ⌈log₂ ⌈q_k/b⌉⌉.
    """
    t = grid.scaled(a)
    return _search_bins(t, blocks_per_axis(grid, granularity), int(granularity))


def routing_comparisons(cells) -> int:
    """Predicted worst case of :func:`route_counted`: Σ_k ⌈log₂ q_k⌉ + Σ_{i=2}^n ⌈log₂ i⌉."""
    cells = tuple(int(q) for q in cells)
    return sum(cell_comparisons(q) for q in cells) + sort_comparisons(len(cells))
