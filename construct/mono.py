"""The routed Mixture of Neural Operators: router, lazy node table, experts.

A MoNO routes the input coefficients a ∈ B to one expert and lets it answer:

* simplex experts (granularity None): the routing tree locates the cell (binary
  search per axis) and the Kuhn simplex (binary insertion sort of the fractional
  coordinates); the expert is the affine map I_h F restricted to that simplex,
  a NO encoder → one affine channel map → decoder;
* block experts (granularity b): the routing tree locates the block of b cells per
  axis; the expert is the hat network of :mod:`mono.construct.baseline` on the block.

Nothing is built in advance.  F at a grid node (F(v) = P_{J_M} G(Σ_k x_k(v_k) φ_k)) is
evaluated on demand and cached by :class:`NodeTable`; an expert needs only its n + 1
vertices (simplex) or its block's nodes.  So a MoNO whose grid has 10⁹ or 10¹⁰⁰ nodes
builds instantly and answers a query after n + 1 evaluations of G.

The batched evaluation :meth:`MoNO.coefficients` computes, for every query, the
weights of its simplex expert (W, b) from the gathered node values and applies them —
the same numbers as the expert NO that :meth:`MoNO.expert` would build, without building
NeuralOperator objects.

State: the node table, the caches of built experts and the largest routing depth used
are mutable caches held by the (otherwise frozen) MoNO; they never change what the MoNO
computes, only what has been computed so far.
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from mono.bounds.plan import Plan, Problem, plan as make_plan
from mono.bounds.sizes import Sizes
from mono.bounds.space import first_modes
from mono.construct import basis
from mono.construct.baseline import DEFAULT_BUDGET_BYTES, block_nodes, check_budget, hat_network
from mono.construct.operator import NeuralOperator, count, decoder, dense, encoder
from mono.construct.triangulation import (
    CoefficientGrid, blocks_per_axis, kuhn_order, route_blocks_counted, route_counted,
)
from mono.errors import InputError, require

#: Largest dense node table, in stored numbers (n_nodes · M); beyond it a dict is used.
DEFAULT_NODE_BUDGET = 50_000_000

#: F is evaluated on at most this many nodes at once.
EVALUATION_BATCH = 4096

#: Rounding slack of coefficients computed from samples by the DCT: relative to ρ_k
#: (as in :func:`mono.construct.compact.check_inside`) plus a few ulps of the input's
#: size, because the DCT's rounding errors are absolute, not relative to each mode.
SAMPLES_RTOL = 1e-9
SAMPLES_ATOL_ULPS = 64


def samples_slack(rho: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Largest |coefficient| accepted for each input (rows) and radius ρ_k (columns)."""
    size = np.abs(samples).reshape(len(samples), -1).max(axis=1)
    return rho[None, :] * (1 + SAMPLES_RTOL) + SAMPLES_ATOL_ULPS * np.finfo(float).eps * size[:, None]


def _count_text(count: int) -> str:
    """An exact count for a message, as 2^k-ish when it is too long to print."""
    return str(count) if count.bit_length() <= 200 else f"about 2^{count.bit_length() - 1}"


class NodeTable:
    """Lazy cache of F at grid nodes, evaluated on demand in batches.

    Parameters
    ----------
    grid : CoefficientGrid
    function : callable
        Node coefficients ``(k, n)`` → F values ``(k, M)``.
    M : int
        Number of output coefficients.
    budget : int
        Largest dense table (n_nodes · M numbers).
    batch_size : int
        Nodes per call of ``function``.
    backend : {None, "dense", "sparse", "dict"}
        None (default) chooses from the grid size as below; a name forces that backend
        (for tests and benchmarks: every backend returns the same numbers).  "dense"
        still needs n_nodes · M ≤ ``budget`` and "sparse" n_nodes < 2⁶³.

    Notes
    -----
    Three storage backends, chosen from the grid size:

    * ``"dense"`` (n_nodes · M ≤ budget): a float array n_nodes × M (zero-filled on
      demand by the OS) with a 'known' mask, addressed by the C-order node index;
    * ``"sparse"`` (more nodes, but the C-order index still fits in int64): the known
      nodes' indices kept sorted, looked up with ``searchsorted``;
    * ``"dict"`` (astronomically many nodes): the same C-order index, exact as a Python
      int, keys a dict of row positions in a growing value array.  Along a Kuhn simplex
      the index moves by one stride per vertex, so a simplex costs one n-term dot
      product and n big-int additions (no (n+1) × n multi-indices, no sort).

    This is a cache: it is mutable on purpose, and ``values`` returns the same numbers
    whatever was asked before.
    """

    def __init__(self, grid: CoefficientGrid, function: Callable[[np.ndarray], np.ndarray], M: int,
                 budget: int = DEFAULT_NODE_BUDGET, batch_size: int = EVALUATION_BATCH,
                 backend: str | None = None):
        require(isinstance(budget, (int, np.integer)) and budget >= 0, "node_budget",
                f"must be an integer >= 0 (numbers of a dense node table), got {budget!r}")
        require(isinstance(batch_size, (int, np.integer)) and batch_size >= 1, "batch_size",
                f"must be an integer >= 1, got {batch_size!r}")
        fits_dense = grid.n_nodes * int(M) <= int(budget)
        fits_int64 = grid.n_nodes < 2 ** 63
        require(backend in (None, "dense", "sparse", "dict"), "backend",
                f"must be None, 'dense', 'sparse' or 'dict', got {backend!r}")
        # messages built only on failure: n_nodes may have more digits than str() allows
        if backend == "dense" and not fits_dense:
            raise InputError("backend", f"'dense' needs n_nodes · M <= node_budget ({budget}), got "
                                        f"{_count_text(grid.n_nodes * int(M))}")
        if backend == "sparse" and not fits_int64:
            raise InputError("backend", f"'sparse' needs fewer than 2^63 nodes, got "
                                        f"{_count_text(grid.n_nodes)}")
        if backend is None:
            backend = "dense" if fits_dense else "sparse" if fits_int64 else "dict"
        self.grid = grid
        self.function = function
        self.M = int(M)
        self.batch_size = int(batch_size)
        self.evaluated = 0
        self.backend = backend
        self._dims = np.array([q + 1 for q in grid.cells], dtype=np.int64)
        # C-order strides Π_{j>k} (q_j + 1), exact Python ints (any grid size)
        strides = [1]
        for size in reversed(grid.cells[1:]):
            strides.append(strides[-1] * (size + 1))
        strides.reverse()
        if backend == "dense":
            self._values = np.zeros((grid.n_nodes, self.M))
            self._known = np.zeros(grid.n_nodes, dtype=bool)
        elif backend == "sparse":
            self._keys = np.zeros(0, dtype=np.int64)
            self._values = np.zeros((0, self.M))
        else:
            self._int_strides = tuple(strides)
            self._rows: dict[int, int] = {}      # node index → row of _values
            self._values = np.zeros((0, self.M))
        if backend != "dict":
            self._strides = np.array(strides, dtype=np.int64)  # exact: n_nodes < 2^63

    @property
    def dense(self) -> bool:
        return self.backend == "dense"

    def __len__(self) -> int:
        """Number of nodes whose value is known."""
        if self.backend == "dense":
            return int(self._known.sum())
        return len(self._keys) if self.backend == "sparse" else len(self._rows)

    @property
    def stored_numbers(self) -> int:
        """Numbers held so far: known nodes × M."""
        return len(self) * self.M

    def _evaluate(self, nodes: np.ndarray) -> np.ndarray:
        """F at the nodes ``(k, n)``, in batches of ``batch_size``."""
        out = np.empty((len(nodes), self.M))
        for start in range(0, len(nodes), self.batch_size):
            chunk = nodes[start:start + self.batch_size]
            values = np.asarray(self.function(self.grid.node_coefficients(chunk)), dtype=float)
            if values.shape != (len(chunk), self.M):
                raise ValueError(f"F returned shape {values.shape}, expected {(len(chunk), self.M)}")
            out[start:start + len(chunk)] = values
        self.evaluated += len(nodes)
        return out

    def _unflatten(self, flat: np.ndarray) -> np.ndarray:
        return (flat[:, None] // self._strides[None, :]) % self._dims[None, :]

    def values(self, nodes) -> np.ndarray:
        """F at node multi-indices of shape ``(..., n)``; returns ``(..., M)``."""
        nodes = np.asarray(nodes, dtype=np.int64)
        shape = nodes.shape[:-1]
        rows = nodes.reshape(-1, self.grid.n)
        if not rows.size:
            return np.zeros(shape + (self.M,))
        if (rows < 0).any() or (rows >= self._dims).any():
            raise ValueError("node multi-index outside the grid")
        if self.backend == "dict":
            strides = self._int_strides
            keys = [sum(map(operator.mul, row, strides)) for row in rows.tolist()]
            return self._dict_lookup(keys, lambda i: rows[i]).reshape(shape + (self.M,))
        return self._lookup(rows @ self._strides).reshape(shape + (self.M,))

    def simplex_values(self, cell, perm) -> np.ndarray:
        """F at the n + 1 vertices of Kuhn simplices, ``(batch, n+1, M)``.

        Same as ``values(simplex_vertices(cell, perm))``: the vertex indices are
        index(v_0) + cumulative strides of π (int64, or exact Python ints for the dict
        backend), which avoids building the (batch, n+1, n) multi-indices.
        """
        cell = np.asarray(cell, dtype=np.int64)
        if self.backend == "dict":
            return self._dict_simplex_values(cell, np.asarray(perm, dtype=np.int64))
        base = cell @ self._strides
        flat = np.empty((len(cell), self.grid.n + 1), dtype=np.int64)
        flat[:, 0] = base
        np.cumsum(self._strides[perm], axis=1, out=flat[:, 1:])
        flat[:, 1:] += base[:, None]
        return self._lookup(flat.reshape(-1)).reshape(len(cell), self.grid.n + 1, self.M)

    def _lookup(self, flat: np.ndarray) -> np.ndarray:
        """Values at C-order node indices (dense and sparse backends), evaluating the new."""
        if self.backend == "dense":
            missing = np.unique(flat[~self._known[flat]])
            if missing.size:
                self._values[missing] = self._evaluate(self._unflatten(missing))
                self._known[missing] = True
            return self._values[flat]
        # sparse: sorted keys
        pos = np.searchsorted(self._keys, flat)
        if len(self._keys):
            found = self._keys[np.minimum(pos, len(self._keys) - 1)] == flat
        else:
            found = np.zeros(len(flat), dtype=bool)
        if not found.all():
            missing = np.unique(flat[~found])
            fresh = self._evaluate(self._unflatten(missing))
            keys = np.concatenate([self._keys, missing])
            order = np.argsort(keys, kind="stable")
            self._keys = keys[order]
            self._values = np.concatenate([self._values, fresh])[order]
            pos = np.searchsorted(self._keys, flat)
        return self._values[pos]

    def _dict_simplex_values(self, cell: np.ndarray, perm: np.ndarray) -> np.ndarray:
        """:meth:`simplex_values` of the dict backend: exact indices walked along π."""
        strides = self._int_strides
        batch, n = cell.shape
        keys: list[int] = []
        for base_row, order in zip(cell.tolist(), perm.tolist()):
            base = sum(map(operator.mul, base_row, strides))
            keys.extend(itertools.accumulate([strides[k] for k in order], initial=base))

        ranks: list[np.ndarray] = []   # π⁻¹ of every simplex, built on the first miss

        def vertices(positions: np.ndarray) -> np.ndarray:
            # vertex i of simplex b is cell_b + Σ_{j<i} e_π(j): coordinate k is raised iff
            # its rank π⁻¹(k) is below i
            if not ranks:
                rank = np.empty_like(perm)
                np.put_along_axis(rank, perm, np.broadcast_to(np.arange(n), perm.shape), axis=1)
                ranks.append(rank)
            b, i = np.divmod(positions, n + 1)
            return cell[b] + (ranks[0][b] < i[:, None])

        return self._dict_lookup(keys, vertices).reshape(batch, n + 1, self.M)

    def _dict_lookup(self, keys: list[int], nodes: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Values at exact node indices ``keys`` (dict backend), evaluating the new ones.

        ``nodes(positions)`` gives the multi-indices ``(k, n)`` of ``keys[positions]``;
        it is asked only for the first occurrence of each unknown key.
        """
        rows = self._rows
        try:
            # warm path: one hash per key (hashing a huge int costs O(its length))
            where = np.fromiter(map(rows.__getitem__, keys), dtype=np.int64, count=len(keys))
        except KeyError:
            first: dict[int, int] = {}
            for position, key in enumerate(keys):
                if key not in rows and key not in first:
                    first[key] = position
            positions = np.fromiter(first.values(), dtype=np.int64, count=len(first))
            # multi-indices built chunk by chunk: a cold batch of huge simplices never
            # holds more than batch_size × n of them
            step = self.batch_size
            fresh = np.concatenate([self._evaluate(nodes(positions[i:i + step]))
                                    for i in range(0, len(positions), step)])
            start = len(rows)
            if start + len(first) > len(self._values):
                # grow geometrically so that many small inserts cost O(total) copies
                grown = np.empty((max(2 * len(self._values), start + len(first)), self.M))
                grown[:start] = self._values[:start]
                self._values = grown
            self._values[start:start + len(first)] = fresh
            rows.update(zip(first, range(start, start + len(first))))
            where = np.fromiter(map(rows.__getitem__, keys), dtype=np.int64, count=len(keys))
        return self._values[where]


@dataclass(frozen=True, eq=False)
class Route:
    """Where the router sends each query.

    Attributes
    ----------
    cell : ndarray (batch, n) of int64
        Cell multi-index.
    perm : ndarray (batch, n) of int64 or None
        Kuhn permutation (simplex experts), None for block experts.
    block : ndarray (batch, n) of int64 or None
        Block multi-index (block experts), None for simplex experts.
    comparisons : ndarray (batch,) of int64 or None
        Comparisons made by each query in the routing tree (when counted).
    """

    cell: np.ndarray
    perm: np.ndarray | None
    block: np.ndarray | None
    comparisons: np.ndarray | None


@dataclass(frozen=True, eq=False)
class MoNO:
    """A routed mixture of neural operators approximating G to the plan's ε on K.

    Attributes
    ----------
    plan : mono.bounds.plan.Plan
    target : mono.construct.targets.Target
    grid : CoefficientGrid
    table : NodeTable
    modes_in : ndarray (n, d)
    modes_out : ndarray (M, d)
    block_budget : int or None
        Memory budget (bytes) of one block expert (hat network), as for the baseline.
    """

    plan: Plan
    target: Any
    grid: CoefficientGrid
    table: NodeTable
    modes_in: np.ndarray
    modes_out: np.ndarray
    block_budget: int | None = DEFAULT_BUDGET_BYTES
    _experts: dict = field(default_factory=dict, repr=False)
    _blocks: dict = field(default_factory=dict, repr=False)
    _stats: dict = field(default_factory=lambda: {"max_comparisons": None, "queries": 0}, repr=False)

    # ------------------------------------------------------------------ properties

    @property
    def d(self) -> int:
        return int(self.modes_in.shape[1])

    @property
    def n(self) -> int:
        return int(self.modes_in.shape[0])

    @property
    def M(self) -> int:
        return int(self.modes_out.shape[0])

    @property
    def granularity(self) -> int | None:
        return self.plan.granularity

    @property
    def is_functional(self) -> bool:
        return self.target.kind == "functional"

    # ------------------------------------------------------------------ routing

    def route(self, a, counted: bool = False) -> Route:
        """Route coefficient vectors ``(batch, n)`` to their experts.

        With ``counted`` the routing tree is executed comparison by comparison and the
        comparisons of every query are returned (and the largest is recorded for
        :meth:`accounting`); otherwise numpy's floor and stable argsort give the same
        cell, block and permutation.
        """
        b = self.granularity
        if counted:
            if b is None:
                cell, perm, comparisons = route_counted(self.grid, a)
                block = None
            else:
                block, comparisons = route_blocks_counted(self.grid, a, b)
                cell, perm = self.grid.locate(a)[0], None
            if comparisons.size:
                seen = self._stats["max_comparisons"]
                top = int(comparisons.max())
                self._stats["max_comparisons"] = top if seen is None else max(seen, top)
            return Route(cell, perm, block, comparisons)
        cell, frac = self.grid.locate(a)
        if b is None:
            return Route(cell, kuhn_order(frac), None, None)
        return Route(cell, None, cell // b, None)

    # ------------------------------------------------------------------ simplex experts

    def _affine(self, cell: np.ndarray, perm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights of the simplex experts: Wt (batch, n, M) = Wᵀ and b (batch, M).

        Column π(i) of W is (F(v_i) − F(v_{i−1}))/h_π(i); b = F(v_0) − W x(v_0), so that
        W a + b = F(v_0) + Σ_i (F(v_i) − F(v_{i−1})) f_π(i) on the simplex.
        """
        values = self.table.simplex_values(cell, perm)           # (batch, n+1, M)
        steps = np.diff(values, axis=1)                          # row i ↔ coordinate π(i)
        Wt = np.empty_like(steps)                                # row k ↔ coordinate k
        Wt[np.arange(len(perm))[:, None], perm] = steps / self.grid.spacing[perm][:, :, None]
        origin = self.grid.node_coefficients(cell)               # x(v_0), (batch, n)
        bias = values[:, 0] - np.einsum("bkm,bk->bm", Wt, origin)
        return Wt, bias

    def expert(self, cell, perm) -> NeuralOperator:
        """The simplex expert of one cell and permutation: encoder, affine map, decoder.

        Built on first use and cached; its weights are exactly those applied by
        :meth:`coefficients`.
        """
        cell = np.asarray(cell, dtype=np.int64).reshape(1, -1)
        perm = np.asarray(perm, dtype=np.int64).reshape(1, -1)
        require(cell.shape[1] == self.n and perm.shape[1] == self.n
                and bool((cell >= 0).all() and (cell < self.grid.q).all())
                and sorted(perm[0].tolist()) == list(range(self.n)), "expert",
                f"expected a cell in the grid {list(self.grid.cells)} and a permutation of "
                f"0..{self.n - 1}")
        key = cell.tobytes() + perm.tobytes()
        op = self._experts.get(key)
        if op is None:
            Wt, bias = self._affine(cell, perm)
            op = NeuralOperator(layers=(encoder(self.modes_in),
                                        dense(Wt[0].T, bias[0], "identity"),
                                        decoder(self.modes_out)), d=self.d)
            self._experts[key] = op
        return op

    # ------------------------------------------------------------------ block experts

    def block_cells(self, block_index) -> tuple[np.ndarray, np.ndarray]:
        """Lowest node and cells per axis of a block: [j b, min((j+1) b, q_k)) on axis k."""
        b = self.granularity
        require(b is not None, "granularity", "block experts need a granularity b >= 1")
        j = np.asarray(block_index, dtype=np.int64).reshape(-1)
        nb = blocks_per_axis(self.grid, b)
        require(j.size == self.n and bool((j >= 0).all() and (j < nb).all()), "block",
                f"expected a block index in 0..{(nb - 1).tolist()}")
        lower = j * b
        return lower, np.minimum(lower + b, self.grid.q) - lower

    def block_expert(self, block_index) -> NeuralOperator:
        """The hat network of one block (granularity b), built on first use and cached.

        Refuses (:class:`mono.construct.baseline.BudgetError`) a block whose hat network
        would exceed ``block_budget``.
        """
        lower, cells = self.block_cells(block_index)
        key = lower.tobytes()
        op = self._blocks.get(key)
        if op is None:
            check_budget(self.n, self.M, cells.tolist(), self.block_budget, "block expert")
            values = self.table.values(block_nodes(lower, cells))
            op = hat_network(self.grid, values, lower, cells, self.modes_in, self.modes_out, self.d)
            self._blocks[key] = op
        return op

    # ------------------------------------------------------------------ evaluation

    def coefficients(self, a, counted: bool = False) -> np.ndarray:
        """Output coefficients A(a) ∈ ℝ^M of input coefficient vectors ``(batch, n)``.

        Raises InputError (parameter "coefficients") for a vector outside the box,
        naming the mode and by how much.
        """
        route = self.route(a, counted=counted)
        a = np.asarray(a, dtype=float)
        self._stats["queries"] += len(a)
        if self.granularity is None:
            Wt, bias = self._affine(route.cell, route.perm)
            return np.einsum("bkm,bk->bm", Wt, a) + bias
        out = np.empty((len(a), self.M))
        blocks, which = np.unique(route.block, axis=0, return_inverse=True)
        which = which.reshape(-1)
        for i, block in enumerate(blocks):
            rows = np.flatnonzero(which == i)
            out[rows] = self.block_expert(block).forward_constant(a[rows])
        return out

    def input_coefficients(self, samples) -> np.ndarray:
        """Encoder: the n input coefficients of sampled functions, checked against the box.

        Coefficients computed by the DCT carry rounding; within :func:`samples_slack`
        outside the box they are put on its face, beyond it InputError names the mode
        and the excess.
        """
        u = _check_grid(samples, self.d, self._grid_min(), "samples")
        a = basis.coefficients(u, self.modes_in)
        rho = self.grid.radii
        over = np.abs(a) - samples_slack(rho, u)
        if (over > 0).any():
            ratio = np.where(over > 0, np.abs(a) / rho, -np.inf)
            row, j = np.unravel_index(np.argmax(ratio), ratio.shape)
            mode = tuple(int(m) for m in self.modes_in[j])
            raise InputError("samples",
                             f"input {row} lies outside K: its coefficient at mode k = {mode} is "
                             f"{a[row, j]:.6g}, beyond ρ_k = {rho[j]:.6g} by "
                             f"{abs(a[row, j]) - rho[j]:.3g} ({ratio[row, j]:.6g} times the bound)")
        return np.clip(a, -rho, rho)

    def _grid_min(self) -> tuple[int, ...]:
        top = np.maximum(self.modes_in.max(axis=0), self.modes_out.max(axis=0))
        return tuple(int(g) + 1 for g in top)

    def __call__(self, samples, counted: bool = False) -> np.ndarray:
        """A(u) on the grid of the input samples ``(batch, *grid)``; ``(batch,)`` for functionals.

        Encoder (DCT) → routed expert on the coefficients → decoder (inverse DCT).
        """
        u = _check_grid(samples, self.d, self._grid_min(), "samples")
        y = self.coefficients(self.input_coefficients(u), counted=counted)
        if self.is_functional:
            return y[:, 0]
        return basis.sample(y, self.modes_out, u.shape[1:])

    # ------------------------------------------------------------------ accounting

    def accounting(self) -> dict:
        """Sizes reported separately: active expert, routing, number of experts, storage.

        ``active_expert`` holds the sizes counted from the built experts (the largest
        over the experts built so far; None before any), ``active_expert_predicted`` the
        closed form of :mod:`mono.bounds.sizes`.
        """
        p = self.plan
        built = list(self._experts.values()) + list(self._blocks.values())
        counted = [count(op) for op in built]
        active = None
        if counted:
            active = Sizes(depth=max(s.depth for s in counted), width=max(s.width for s in counted),
                           rank=max(s.rank for s in counted), params=max(s.params for s in counted))
        return {
            "n_modes_in": self.n,
            "n_modes_out": self.M,
            "granularity": self.granularity,
            "n_cells": p.n_cells,
            "n_nodes": p.n_nodes,
            "n_experts": p.n_experts,
            "routing_depth_predicted": p.routing_depth,
            "routing_depth_used": self._stats["max_comparisons"],
            "routing_storage": p.routing_storage,
            "active_expert": None if active is None else active.as_dict(),
            "active_expert_predicted": p.expert.as_dict(),
            "experts_built": len(built),
            "queries": self._stats["queries"],
            "nodes_evaluated": self.table.evaluated,
            "node_table_backend": self.table.backend,
            "node_table_stored": self.table.stored_numbers,
            "total_stored": dict(p.stored),
        }


def _check_grid(samples, d: int, grid_min: tuple[int, ...], parameter: str) -> np.ndarray:
    """Finite samples ``(batch, *grid)`` on a grid resolving every mode used."""
    try:
        u = np.asarray(samples, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(parameter, f"expected a numeric array ({exc})") from None
    axes = "G" if d == 1 else "G1, G2"
    require(u.ndim == d + 1 and u.shape[0] >= 1, parameter,
            f"expected shape (batch, {axes}) for d = {d}, got {u.shape}")
    require(all(g >= m for g, m in zip(u.shape[1:], grid_min)), parameter,
            f"grid {u.shape[1:]} is too small for the modes used: needs at least {grid_min} "
            "points per axis")
    require(bool(np.isfinite(u).all()), parameter, "contains NaN or infinite values")
    return u


def build_mono(problem: Problem, eps, target, granularity: int | None = None,
               node_budget: int = DEFAULT_NODE_BUDGET,
               block_budget: int | None = DEFAULT_BUDGET_BYTES) -> MoNO:
    """Plan the MoNO for accuracy ``eps`` and set it up (nothing is evaluated yet).

    Parameters
    ----------
    problem : mono.bounds.plan.Problem
    eps : real > 0
    target : mono.construct.targets.Target
        The evaluator of the problem's target (same name, kind and box).
    granularity : int >= 1 or None
        None: simplex experts; b: block experts of b cells per axis.
    node_budget : int
        Largest dense node table (numbers); beyond it the table is a dict.
    block_budget : int or None
        Memory budget (bytes) of one block expert.
    """
    require(isinstance(problem, Problem), "problem",
            f"must be a Problem (mono.bounds.plan), got {type(problem).__name__}")
    spec = problem.target
    require(getattr(target, "spec", None) is not None, "target",
            f"expected a construct Target, got {type(target).__name__}")
    require(target.spec.name == spec.name and target.kind == spec.kind and target.box == spec.box,
            "target", f"the evaluator ({target.spec.name}) does not match the problem's target "
                      f"({spec.name}) on the same box")
    p = make_plan(problem, eps, granularity)
    d = spec.box.d
    modes_in = first_modes(d, p.n_modes_in)
    modes_out = first_modes(d, p.n_modes_out)
    radii = np.array([float(r) for r in p.radii])
    grid = CoefficientGrid(radii, tuple(p.cells_per_axis), modes=modes_in)
    M = p.n_modes_out
    table = NodeTable(grid, lambda c: target.output_coefficients(c, M), M, budget=node_budget)
    return MoNO(plan=p, target=target, grid=grid, table=table, modes_in=modes_in,
                modes_out=modes_out, block_budget=block_budget)

