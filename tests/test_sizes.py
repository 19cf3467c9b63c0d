"""Closed-form network sizes against hand counts and an independent layer list."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings, strategies as st

from mono.bounds.sizes import (
    Sizes,
    blocks_per_axis,
    ceil_log2,
    hat_network_params_linear,
    hat_network_sizes,
    largest_block,
    routing_depth,
    routing_storage,
    simplex_expert_sizes,
    sorting_comparisons,
    tree_levels,
)
from mono.errors import InputError


# ---------------------------------------------------------------- hand counts

@pytest.mark.parametrize(
    "n, M, expected",
    [
        # n² + Mn + M + M², worked out by hand
        (1, 1, Sizes(3, 1, 1, 4)),
        (2, 4, Sizes(3, 4, 4, 32)),
        (3, 1, Sizes(3, 3, 3, 14)),
        (5, 4, Sizes(3, 5, 5, 65)),
        (1, 4, Sizes(3, 4, 4, 25)),
    ],
)
def test_simplex_expert_hand(n, M, expected):
    assert simplex_expert_sizes(n, M) == expected


@pytest.mark.parametrize(
    "n, M, cells, expected",
    [
        # n=1, M=1, one cell: enc 1, split 4+4, hat 2·3, readout 2+1, dec 1 = 19
        (1, 1, [1], Sizes(5, 4, 1, 19)),
        # n=1, M=4, 3 cells (N=4): enc 1, split 8+8, hat 12, readout 16+4, dec 16 = 65
        (1, 4, [3], Sizes(5, 8, 4, 65)),
        # n=2, M=4, N=4: enc 4, split 32+16, tree 4·20, hat 20, readout 20, dec 16 = 188
        (2, 4, [1, 1], Sizes(6, 16, 4, 188)),
        # n=3, M=4, N=12: 9 + 288 + 504 + 336 + 60 + 52 + 16 = 1265
        (3, 4, [1, 2, 1], Sizes(7, 72, 4, 1265)),
        # n=5, M=1, N=32: 25 + 1920 + 3520 + 2112 + 896 + 160 + 33 + 1 = 8667
        (5, 1, [1] * 5, Sizes(8, 320, 5, 8667)),
    ],
)
def test_hat_network_hand(n, M, cells, expected):
    assert hat_network_sizes(n, M, cells) == expected


def test_tree_levels_hand():
    assert tree_levels(1) == (1,)
    assert tree_levels(2) == (2, 1)
    assert tree_levels(3) == (3, 2, 1)
    assert tree_levels(5) == (5, 3, 2, 1)
    assert tree_levels(8) == (8, 4, 2, 1)


# ------------------------------------------- an independent layer-by-layer count

def _layers(n, M, cells):
    """The hat network as (c_in, c_out, groups, rank, has_W, has_b), straight from
    docs/architecture.md, built with a while loop over pairings (not the closed form)."""
    N = math.prod(m + 1 for m in cells)
    layers = [(1, n, 1, n, False, False)]  # encoder
    layers.append((n, 2 * n * N, 1, 0, True, True))  # split
    items = n  # items per tree
    units_prev = 2 * n
    while items > 1:
        units = 2 * items  # each item becomes one unit (pairs -> 2 units, odd -> 1)
        layers.append((N * units_prev, N * units, N, 0, True, True))
        units_prev = units
        items = items // 2 + items % 2
    layers.append((N * units_prev, N, N, 0, True, True))  # hat
    layers.append((N, M, 1, 0, True, True))  # readout
    layers.append((M, 1, 1, M, False, False))  # decoder
    return layers


def _count(layers):
    params = 0
    for c_in, c_out, g, r, has_w, has_b in layers:
        if has_w:
            params += g * (c_out // g) * (c_in // g)
        if has_b:
            params += c_out
        if r:
            params += r * c_out * c_in
    return Sizes(
        depth=len(layers),
        width=max(l[1] for l in layers[:-1]),
        rank=max(l[3] for l in layers),
        params=params,
    )


@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(st.integers(1, 4), min_size=1, max_size=7),
    M=st.integers(1, 9),
)
def test_hat_network_matches_layer_list(cells, M):
    n = len(cells)
    assert hat_network_sizes(n, M, cells) == _count(_layers(n, M, cells))


@settings(max_examples=40, deadline=None)
@given(cells=st.lists(st.integers(1, 5), min_size=1, max_size=6), M=st.integers(1, 9))
def test_params_linear_in_nodes(cells, M):
    n = len(cells)
    A, B = hat_network_params_linear(n, M)
    N = math.prod(m + 1 for m in cells)
    assert hat_network_sizes(n, M, cells).params == A + B * N
    # A is what a network without nodes would cost: encoder, readout bias, decoder
    assert A == n * n + M + M * M


def test_simplex_expert_matches_layer_list():
    for n, M in itertools.product(range(1, 6), range(1, 6)):
        layers = [(1, n, 1, n, False, False), (n, M, 1, 0, True, True), (M, 1, 1, M, False, False)]
        assert simplex_expert_sizes(n, M) == _count(layers)


def test_huge_node_count_stays_exact():
    cells = [10**6] * 60
    s = hat_network_sizes(60, 3, cells)
    assert isinstance(s.params, int) and isinstance(s.width, int)
    assert s.width == 2 * 60 * (10**6 + 1) ** 60
    assert s.params > 10**360


# ------------------------------------------------------------------- routing

def _search_depth(q):
    # comparisons of a balanced binary search among q intervals, by recursion
    return 0 if q == 1 else 1 + _search_depth(q - q // 2)


def _binary_insertion_worst(n):
    """Max comparisons of binary insertion sort over all permutations of n keys."""
    worst = 0
    for perm in itertools.permutations(range(n)):
        done, count = [], 0
        for x in perm:
            lo, hi = 0, len(done)
            while lo < hi:
                mid = (lo + hi) // 2
                count += 1
                if done[mid] < x:
                    lo = mid + 1
                else:
                    hi = mid
            done.insert(lo, x)
        worst = max(worst, count)
    return worst


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_sorting_comparisons_enumerated(n):
    assert sorting_comparisons(n) == _binary_insertion_worst(n)


@pytest.mark.parametrize(
    "cells, expected",
    [
        ([1], 0),  # one cell, one simplex
        ([2], 1),
        ([3], 2),
        ([4, 1], 2 + 0 + 1),  # sort of 2 keys: 1 comparison
        ([3, 3, 3], 2 * 3 + 3),  # sort of 3 keys: 1 + 2
        ([5, 1, 3, 8, 2], 3 + 0 + 2 + 3 + 1 + 8),
    ],
)
def test_routing_depth_simplex_hand(cells, expected):
    assert routing_depth(cells, len(cells)) == expected
    assert routing_depth(cells, len(cells)) == sum(map(_search_depth, cells)) + sorting_comparisons(len(cells))


def test_routing_blocks_hand():
    cells = [5, 1, 3]
    assert blocks_per_axis(cells, 2) == (3, 1, 2)
    assert largest_block(cells, 2) == (2, 1, 2)
    assert routing_depth(cells, 3, 2) == 2 + 0 + 1
    assert routing_storage(cells) == 4 + 0 + 2
    assert routing_storage(cells, 2) == 2 + 0 + 1
    # b >= max q: one block, nothing to route, nothing stored
    assert routing_depth(cells, 3, 5) == 0 and routing_storage(cells, 5) == 0
    # b = 1: one block per cell: the cell search without the sort
    assert routing_depth(cells, 3, 1) == routing_depth(cells, 3) - sorting_comparisons(3)


def test_ceil_log2():
    for x in range(1, 2000):
        assert ceil_log2(x) == math.ceil(math.log2(x))
    # the defining property, also far beyond float range
    for x in (2**400 - 1, 2**400, 2**400 + 1, 3**500):
        L = ceil_log2(x)
        assert 2**L >= x > 2 ** (L - 1)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: simplex_expert_sizes(0, 1), "n"),
        (lambda: simplex_expert_sizes(1, 0), "M"),
        (lambda: simplex_expert_sizes(2.0, 1), "n"),
        (lambda: hat_network_sizes(2, 1, [1]), "cells_per_axis"),
        (lambda: hat_network_sizes(1, 1, [0]), "cells_per_axis"),
        (lambda: routing_depth([2, 2], 2, 0), "granularity"),
        (lambda: routing_storage([2, 2], True), "granularity"),
    ],
)
def test_bad_input_names_parameter(call, name):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.parameter == name
