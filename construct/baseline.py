"""The hat network (a ReLU neural operator computing I_h F on a block of cells) and the
single-NO baseline (the hat network on the whole grid).

The layers are exactly those of docs/architecture.md ("The building blocks"):
encoder, split, ⌈log₂ n⌉ max-tree layers, hat units, readout with the node values, decoder.
Why this computes the interpolant exactly is proved in the theory document
("The hat network computes I_h F exactly"): the tree layers turn the n split units of a
node into P = max(0, max z) and Q = −min(0, min z) using relu(x − y) + relu(y) = max(x, y)
for x, y ≥ 0, and relu(1 − P − Q) is the Kuhn hat Λ(z).

Before allocating, :func:`build_baseline` predicts the memory of the network from the
closed forms of :mod:`mono.bounds.sizes` and refuses (:class:`BudgetError`) beyond a
budget, with the prediction in the message.
"""

from __future__ import annotations

import math

import numpy as np

from mono.bounds.sizes import hat_network_sizes, tree_levels
from mono.construct.operator import Layer, NeuralOperator, decoder, dense, encoder
from mono.construct.triangulation import CoefficientGrid
from mono.errors import InputError

#: Default memory budget of one hat network (bytes); leaves room on a 24 GiB machine.
DEFAULT_BUDGET_BYTES = 4 * 2 ** 30

#: The forward pass is sized for this many inputs at once in the prediction.
PREDICTION_BATCH = 64

_BYTES = 8  # float64


class BudgetError(InputError):
    """A network would need more memory than the budget allows."""

    def __init__(self, predicted_bytes: int, budget_bytes: int, what: str = "baseline"):
        self.predicted_bytes = int(predicted_bytes)
        self.budget_bytes = int(budget_bytes)
        super().__init__(
            "budget",
            f"the {what} would need {format_bytes(self.predicted_bytes)} "
            f"({self.predicted_bytes} bytes predicted from its parameter count) but the "
            f"budget is {format_bytes(self.budget_bytes)} ({self.budget_bytes} bytes); "
            "raise the budget or use the MoNO (a finer granularity)")


def format_bytes(count: int) -> str:
    """A human-readable byte count that stays exact in size for astronomically large ints."""
    count = int(count)
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    if count < 1024 ** len(units):
        value, unit = float(count), 0
        while value >= 1024 and unit < len(units) - 1:
            value /= 1024
            unit += 1
        return f"{value:.4g} {units[unit]}"
    digits = len(str(count)) - 1  # beyond EiB, a power of ten (exact digit count)
    return f"about 10^{digits} B"


def predicted_bytes(n: int, M: int, cells) -> int:
    """Memory of a hat network: 8 bytes per parameter + activations of a batch of 64.

    The forward pass on constant channels keeps one layer's input and output at a time,
    at most 2·width numbers per input.  Exact Python int (never overflows).
    """
    sizes = hat_network_sizes(n, M, tuple(int(c) for c in cells))
    return _BYTES * sizes.params + _BYTES * PREDICTION_BATCH * 2 * sizes.width


def check_budget(n: int, M: int, cells, budget_bytes: int | None = DEFAULT_BUDGET_BYTES,
                 what: str = "baseline") -> int:
    """Raise :class:`BudgetError` if the hat network on ``cells`` exceeds the budget.

    Returns the prediction. ``budget_bytes=None`` disables the check.
    """
    predicted = predicted_bytes(n, M, cells)
    if budget_bytes is not None:
        if isinstance(budget_bytes, bool) or not isinstance(budget_bytes, (int, np.integer)) \
                or budget_bytes <= 0:
            raise InputError("budget", f"must be a positive integer number of bytes, got {budget_bytes!r}")
        if predicted > budget_bytes:
            raise BudgetError(predicted, int(budget_bytes), what)
    return predicted


def block_nodes(lower, cells) -> np.ndarray:
    """Global multi-indices of the nodes of a block, C order over ``cells + 1``; (N, n)."""
    lower = np.asarray(lower, dtype=np.int64)
    shape = tuple(int(m) + 1 for m in cells)
    local = np.stack(np.unravel_index(np.arange(math.prod(shape)), shape), axis=1)
    return lower[None, :] + local


def _tree_weights(n: int) -> list[np.ndarray]:
    """Per-tree channel maps of the T max-tree layers.

    Layer i reads the units of the previous layer (the n split units of one tree for
    i = 1), forms its c_{i−1} items as sums of unit pairs (pair (2j, 2j+1) of the
    previous layer holds relu(x − y), relu(y), whose sum is max(x, y)), and writes the
    units relu(x − y), relu(y) of each item pair (relu(x) for an odd last item).
    """
    c = tree_levels(n)
    maps = []
    units_in = n
    for i in range(1, len(c)):
        items = c[i - 1]
        # items as sums of input units
        E = np.zeros((items, units_in))
        if i == 1:
            E[np.arange(items), np.arange(items)] = 1.0
        else:
            for j in range(items):
                E[j, 2 * j: min(2 * j + 2, units_in)] = 1.0
        # units from items
        U = np.zeros((items, items))
        for m in range(0, items - 1, 2):
            U[m, m], U[m, m + 1] = 1.0, -1.0
            U[m + 1, m + 1] = 1.0
        if items % 2:
            U[items - 1, items - 1] = 1.0
        maps.append(U @ E)
        units_in = items
    return maps


def _two_trees(tree: np.ndarray) -> np.ndarray:
    """Block-diagonal copy of one tree's map for the p-tree and the q-tree of a node."""
    o, i = tree.shape
    both = np.zeros((2 * o, 2 * i))
    both[:o, :i] = tree
    both[o:, i:] = tree
    return both


def hat_network(grid: CoefficientGrid, node_values, lower, cells, modes_in, modes_out,
                d: int) -> NeuralOperator:
    """The hat network computing I_h F on a block of the grid.

    Parameters
    ----------
    grid : CoefficientGrid
        The coefficient grid (radii, cells, spacing).
    node_values : array_like, shape (N, M)
        F at the block's nodes, in the order of :func:`block_nodes` (C order over the
        block's ``cells + 1`` local node indices).
    lower : sequence of int, length n
        Global multi-index of the block's lowest node.
    cells : sequence of int, length n
        Cells per axis m_k ≥ 1 of the block (lower + cells ≤ q).
    modes_in, modes_out : ndarray, shapes (n, d), (M, d)
        Input and output modes (encoder χ's, decoder ψ's).
    d : int

    Returns
    -------
    NeuralOperator
        Depth ⌈log₂ n⌉ + 5, width max(2nN, M), rank max(n, M),
        params as :func:`mono.bounds.sizes.hat_network_sizes`.
    """
    n = grid.n
    lower = np.asarray(lower, dtype=np.int64).reshape(-1)
    cells = np.asarray(cells, dtype=np.int64).reshape(-1)
    if lower.size != n or cells.size != n or (cells < 1).any() or (lower < 0).any() \
            or (lower + cells > grid.q).any():
        raise ValueError(f"block lower={lower.tolist()}, cells={cells.tolist()} does not fit the "
                         f"grid of {list(grid.cells)} cells")
    nodes = block_nodes(lower, cells)
    N = len(nodes)
    F = np.asarray(node_values, dtype=float)
    if F.ndim != 2 or F.shape[0] != N:
        raise ValueError(f"node_values must have shape ({N}, M), got {F.shape}")
    M = F.shape[1]
    modes_in = np.asarray(modes_in, dtype=np.int64)
    modes_out = np.asarray(modes_out, dtype=np.int64)
    if len(modes_in) != n or len(modes_out) != M:
        raise ValueError(f"expected {n} input and {M} output modes, got {len(modes_in)} and {len(modes_out)}")

    # split: z_k = (a_k − x_k(i))/h_k = a_k/h_k − (i − q_k/2); the offset i − q_k/2 is
    # exact in floating point, so the node enters without rounding.
    inv_h = 1.0 / grid.spacing
    offset = nodes - grid.q / 2.0                        # (N, n)
    W_split = np.zeros((N, 2 * n, n))
    W_split[:, np.arange(n), np.arange(n)] = inv_h
    W_split[:, n + np.arange(n), np.arange(n)] = -inv_h
    b_split = np.concatenate([-offset, offset], axis=1)  # (N, 2n): p's then q's
    layers = [encoder(modes_in),
              dense(W_split.reshape(N * 2 * n, n), b_split.reshape(-1), "relu")]

    for tree in _tree_weights(n):
        both = _two_trees(tree)
        W = np.broadcast_to(both, (N,) + both.shape)
        layers.append(Layer(W=W, b=np.zeros(N * both.shape[0]), activation="relu"))

    # hat unit: relu(1 − P − Q), P, Q the sums of the last units of the two trees
    last_units = 2 * n if n == 1 else layers[-1].W.shape[1]
    layers.append(Layer(W=np.full((N, 1, last_units), -1.0), b=np.ones(N), activation="relu"))
    layers.append(dense(F.T, np.zeros(M), "identity"))
    layers.append(decoder(modes_out))
    return NeuralOperator(layers=tuple(layers), d=int(d))


def build_baseline(mono, budget_bytes: int | None = DEFAULT_BUDGET_BYTES) -> NeuralOperator:
    """The single-NO baseline: the hat network on the whole grid of a MoNO.

    Parameters
    ----------
    mono : mono.construct.mono.MoNO
        Supplies the grid, the node table (F at nodes, evaluated in batches and shared
        with the MoNO), the modes and d.
    budget_bytes : int or None
        Refuse, before evaluating or allocating anything, if the predicted memory
        (:func:`predicted_bytes`) exceeds it; None disables the check.

    Raises
    ------
    BudgetError
        Subclass of InputError (parameter "budget"); the message gives the predicted
        size and the budget.
    """
    grid = mono.grid
    M = len(mono.modes_out)
    check_budget(grid.n, M, grid.cells, budget_bytes, "baseline")
    lower = np.zeros(grid.n, dtype=np.int64)
    values = mono.table.values(block_nodes(lower, grid.cells))
    return hat_network(grid, values, lower, grid.cells, mono.modes_in, mono.modes_out, mono.d)
