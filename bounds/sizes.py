"""Closed-form sizes of the networks built by ``mono.construct``.

Every function here is pure integer arithmetic derived from the layer-by-layer
definitions in ``docs/architecture.md`` ("The building blocks"); the derivations are
in ``docs/theory.md``.  The built networks are counted from their weight arrays and
compared with these numbers exactly, so nothing here may be approximate: all counts
are Python ints (node counts of the baseline can be astronomically large).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from math import prod
from typing import Sequence

from mono.errors import InputError, require

__all__ = [
    "Sizes",
    "ceil_log2",
    "tree_levels",
    "tree_units",
    "encoder_sizes",
    "decoder_sizes",
    "simplex_expert_sizes",
    "hat_network_sizes",
    "hat_network_params_linear",
    "hat_node_count",
    "routing_depth",
    "routing_storage",
    "sorting_comparisons",
    "blocks_per_axis",
    "largest_block",
]


@dataclass(frozen=True)
class Sizes:
    """Counted size of one neural operator.

    Attributes
    ----------
    depth : int
        Number of layers.
    width : int
        Largest output channel count over all layers but the last.
    rank : int
        Largest kernel rank (0 without kernel layers).
    params : int
        Total number of stored numbers in the W, b and C arrays.
    """

    depth: int
    width: int
    rank: int
    params: int

    def as_dict(self) -> dict:
        return {"depth": self.depth, "width": self.width, "rank": self.rank, "params": self.params}


def _check_count(value, parameter: str, minimum: int = 1) -> int:
    # operator.index accepts int and numpy integers but refuses floats ("2.0" is a
    # user mistake for a count); bool is an int subclass yet never a meaningful count
    try:
        if isinstance(value, bool):
            raise TypeError
        value = operator.index(value)
    except TypeError:
        raise InputError(parameter, f"must be an integer >= {minimum}, got {value!r}") from None
    if value < minimum:  # (not require(): the message must not format a huge int eagerly)
        raise InputError(parameter, f"must be an integer >= {minimum}, got {value}")
    return value


def ceil_log2(x: int) -> int:
    """⌈log₂ x⌉ for an integer x >= 1, exactly (0 for x = 1)."""
    x = _check_count(x, "x")
    return (x - 1).bit_length()


def tree_levels(n: int) -> tuple[int, ...]:
    """Items per tree before each tree layer: (c_0, ..., c_T), c_0 = n, c_i = ⌈c_{i−1}/2⌉.

    T = ⌈log₂ n⌉, so c_T = 1; for n = 1 the tuple is (1,) and there is no tree layer.
    """
    n = _check_count(n, "n")
    levels = [n]
    while levels[-1] > 1:
        levels.append((levels[-1] + 1) // 2)
    return tuple(levels)


def tree_units(n: int) -> tuple[int, ...]:
    """Units per node after the split layer and after each tree layer: (u_0, ..., u_T).

    u_0 = 2n (the p's and q's of one node); tree layer i keeps c_{i−1} units per tree,
    two trees per node, so u_i = 2 c_{i−1}.
    """
    c = tree_levels(n)
    return (2 * n,) + tuple(2 * c[i - 1] for i in range(1, len(c)))


def encoder_sizes(n: int) -> Sizes:
    """The encoder alone: one identity kernel layer of rank n, 1 → n channels (C: n×n×1)."""
    n = _check_count(n, "n")
    return Sizes(depth=1, width=0, rank=n, params=n * n)


def decoder_sizes(M: int) -> Sizes:
    """The decoder alone: one identity kernel layer of rank M, M → 1 channel (C: M×1×M)."""
    M = _check_count(M, "M")
    return Sizes(depth=1, width=0, rank=M, params=M * M)


def simplex_expert_sizes(n: int, M: int) -> Sizes:
    """Encoder, one affine channel map n → M, decoder.

    depth 3, width max(n, M) (the encoder emits n channels, the affine map M),
    rank max(n, M), params n² + (Mn + M) + M².
    """
    n = _check_count(n, "n")
    M = _check_count(M, "M")
    return Sizes(depth=3, width=max(n, M), rank=max(n, M), params=n * n + M * n + M + M * M)


def hat_network_params_linear(n: int, M: int) -> tuple[int, int]:
    """(A, B) with params of the hat network = A + B·N, N = number of nodes of its block.

    A = n² + M + M² (encoder, readout bias, decoder) does not depend on the block;
    B collects what every node costs: its split units (2n·n + 2n), its two max-trees
    (Σ_i u_i u_{i−1} + u_i), its hat unit (u_T + 1) and its readout column (M).
    Summing experts over blocks therefore needs only Σ N_block.
    """
    n = _check_count(n, "n")
    M = _check_count(M, "M")
    u = tree_units(n)
    per_node = 2 * n * n + 2 * n
    per_node += sum(u[i] * u[i - 1] + u[i] for i in range(1, len(u)))
    per_node += u[-1] + 1
    per_node += M
    return n * n + M + M * M, per_node


def hat_node_count(cells: Sequence[int]) -> int:
    """N = Π_k (m_k + 1), exactly."""
    return prod(int(m) + 1 for m in cells)


def _check_cells(cells_per_axis, parameter: str = "cells_per_axis") -> tuple[int, ...]:
    try:
        cells = tuple(cells_per_axis)
    except TypeError:
        raise InputError(parameter, "must be a sequence of integers >= 1") from None
    require(len(cells) >= 1, parameter, "must hold at least one axis")
    return tuple(_check_count(q, parameter) for q in cells)


def hat_network_sizes(n: int, M: int, cells_per_axis: Sequence[int]) -> Sizes:
    """Sizes of the hat network on a block of m_k cells per axis (the baseline when m = q).

    depth T + 5 (encoder, split, T tree layers, hat, readout, decoder);
    width max(2nN, M) (the split layer is the widest hidden layer: tree layers have
    N·u_i <= 2nN channels, the hat layer N); rank max(n, M); params A + B·N.
    """
    n = _check_count(n, "n")
    M = _check_count(M, "M")
    cells = _check_cells(cells_per_axis)
    require(len(cells) == n, "cells_per_axis", f"must have n = {n} entries, got {len(cells)}")
    N = hat_node_count(cells)
    A, B = hat_network_params_linear(n, M)
    T = len(tree_levels(n)) - 1
    return Sizes(depth=T + 5, width=max(2 * n * N, M), rank=max(n, M), params=A + B * N)


def _check_granularity(granularity) -> int | None:
    if granularity is None:
        return None
    return _check_count(granularity, "granularity")


def blocks_per_axis(cells_per_axis: Sequence[int], granularity: int) -> tuple[int, ...]:
    """⌈q_k / b⌉: consecutive runs of b cells along axis k, the last one possibly shorter."""
    cells = _check_cells(cells_per_axis)
    b = _check_count(granularity, "granularity")
    return tuple(-(-q // b) for q in cells)


def largest_block(cells_per_axis: Sequence[int], granularity: int) -> tuple[int, ...]:
    """Cells per axis of the largest block expert: min(b, q_k)."""
    cells = _check_cells(cells_per_axis)
    b = _check_count(granularity, "granularity")
    return tuple(min(b, q) for q in cells)


def sorting_comparisons(n: int) -> int:
    """Worst-case comparisons of binary insertion sort of n keys: Σ_{i=2}^{n} ⌈log₂ i⌉."""
    n = _check_count(n, "n")
    # Closed form of Σ_{i=1}^{n} ⌈log₂ i⌉ = n·L − 2^L + 1 with L = ⌈log₂ n⌉.
    L = (n - 1).bit_length()
    return n * L - (1 << L) + 1


def routing_depth(cells_per_axis: Sequence[int], n: int, granularity: int | None = None) -> int:
    """Comparisons on the root-to-leaf path of the routing tree (worst case).

    Simplex experts (granularity None): binary search for the cell on every axis,
    Σ_k ⌈log₂ q_k⌉, then binary insertion sort of the n fractional coordinates,
    Σ_{i=2}^{n} ⌈log₂ i⌉.  Block experts of granularity b: binary search for the
    block on every axis, Σ_k ⌈log₂ ⌈q_k/b⌉⌉ (no sorting: the expert covers the block).
    """
    cells = _check_cells(cells_per_axis)
    n = _check_count(n, "n")
    require(len(cells) == n, "cells_per_axis", f"must have n = {n} entries, got {len(cells)}")
    b = _check_granularity(granularity)
    if b is None:
        return sum((q - 1).bit_length() for q in cells) + sorting_comparisons(n)
    return sum((nb - 1).bit_length() for nb in blocks_per_axis(cells, b))


def routing_storage(cells_per_axis: Sequence[int], granularity: int | None = None) -> int:
    """Stored thresholds of the routing tree: the interior cell (or block) boundaries.

    Σ_k (q_k − 1) for simplex experts (the sort needs no stored numbers),
    Σ_k (⌈q_k/b⌉ − 1) for blocks of granularity b.
    """
    cells = _check_cells(cells_per_axis)
    b = _check_granularity(granularity)
    if b is None:
        return sum(q - 1 for q in cells)
    return sum(nb - 1 for nb in blocks_per_axis(cells, b))
