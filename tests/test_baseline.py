"""The hat network: exact interpolation on a block, counted sizes, the memory budget."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mono.bounds.sizes import hat_network_sizes
from mono.construct import basis
from mono.construct.baseline import (
    BudgetError, block_nodes, check_budget, format_bytes, hat_network, predicted_bytes,
)
from mono.construct.operator import count
from mono.construct.triangulation import CoefficientGrid, hat
from mono.errors import InputError


def modes_1d(count_):
    return np.arange(count_)[:, None]


def brute_force(grid, lower, cells, values, a):
    """Σ over the block's nodes of F(v) Λ((a − x(v))/h), node by node (no simplex)."""
    nodes = [np.array(lower) + np.array(off)
             for off in itertools.product(*[range(m + 1) for m in cells])]
    out = np.zeros((len(a), values.shape[1]))
    for j, v in enumerate(nodes):
        z = (a - grid.node_coefficients(v)) / grid.spacing
        out += hat(z)[:, None] * values[j]
    return out


@st.composite
def blocks(draw):
    n = draw(st.integers(1, 4))
    q = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    lower = [draw(st.integers(0, qk - 1)) for qk in q]
    cells = [draw(st.integers(1, qk - lo)) for qk, lo in zip(q, lower)]
    radii = draw(st.lists(st.floats(0.1, 2.0), min_size=n, max_size=n))
    M = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2 ** 31))
    return CoefficientGrid(np.array(radii), tuple(q)), lower, cells, M, seed


@settings(max_examples=30, deadline=None)
@given(blocks())
def test_hat_network_is_the_hat_expansion_on_its_block(data):
    grid, lower, cells, M, seed = data
    rng = np.random.default_rng(seed)
    n = grid.n
    nodes = block_nodes(lower, cells)
    values = rng.normal(size=(len(nodes), M))
    op = hat_network(grid, values, lower, cells, modes_1d(n), modes_1d(M), 1)
    # points of the block (its box in coefficient space), including its faces
    lo = grid.node_coefficients(np.array(lower))
    hi = grid.node_coefficients(np.array(lower) + np.array(cells))
    a = lo + rng.random((20, n)) * (hi - lo)
    a[:3] = np.where(rng.random((3, n)) < 0.5, lo, hi)
    expected = brute_force(grid, lower, cells, values, a)
    np.testing.assert_allclose(op.forward_constant(a), expected, atol=1e-12 * (1 + np.abs(values).max()))
    # and the counted sizes are the closed forms of bounds
    assert count(op) == hat_network_sizes(n, M, cells)


def test_hat_network_on_samples_partition_of_unity_and_nodal():
    # F = identity on the nodes: the readout returns every hat function's value
    grid = CoefficientGrid(np.array([0.8, 0.3, 0.2]), (2, 3, 1))
    nodes = block_nodes([0, 0, 0], grid.cells)
    N = len(nodes)
    modes_out = modes_1d(N)
    op = hat_network(grid, np.eye(N), [0, 0, 0], grid.cells, modes_1d(3), modes_out, 1)
    rng = np.random.default_rng(3)
    a = rng.uniform(-1, 1, (10, 3)) * grid.radii
    hats = op.forward_constant(a)
    assert hats.min() >= 0
    np.testing.assert_allclose(hats.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(op.forward_constant(grid.node_coefficients(nodes)), np.eye(N), atol=1e-12)
    # the full operator on sampled functions: encoder reads a, decoder writes Σ hats_j φ_j
    G = 64
    u = basis.sample(a, modes_1d(3), (G,))
    np.testing.assert_allclose(op(u), basis.sample(hats, modes_out, (G,)), atol=1e-11)


@pytest.mark.parametrize("n, M, cells", [(1, 1, (3,)), (2, 3, (2, 1)), (3, 2, (1, 2, 2)),
                                          (5, 4, (2, 1, 1, 1, 1)), (7, 1, (1,) * 7)])
def test_counted_sizes_equal_closed_forms(n, M, cells):
    grid = CoefficientGrid(np.linspace(1, 0.2, n), cells)
    N = grid.n_nodes
    op = hat_network(grid, np.ones((N, M)), [0] * n, cells, modes_1d(n), modes_1d(M), 1)
    assert count(op) == hat_network_sizes(n, M, cells)
    # the prediction covers the arrays actually allocated
    allocated = sum(getattr(layer, f).nbytes for layer in op.layers for f in ("W", "b", "C")
                    if getattr(layer, f) is not None)
    assert predicted_bytes(n, M, cells) >= allocated


def test_budget_refusal_names_predicted_size_and_budget():
    cells = (10 ** 4,) * 12
    predicted = predicted_bytes(12, 5, cells)
    with pytest.raises(BudgetError) as err:
        check_budget(12, 5, cells, budget_bytes=2 ** 30)
    assert isinstance(err.value, InputError) and err.value.parameter == "budget"
    assert str(predicted) in str(err.value) and str(2 ** 30) in str(err.value)
    assert err.value.predicted_bytes == predicted
    # a small network passes and the check can be switched off
    assert check_budget(2, 2, (3, 3), budget_bytes=2 ** 30) == predicted_bytes(2, 2, (3, 3))
    assert check_budget(12, 5, cells, budget_bytes=None) == predicted
    with pytest.raises(InputError):
        check_budget(2, 2, (3, 3), budget_bytes=-5)


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(3 * 2 ** 30) == "3 GiB"
    assert format_bytes(10 ** 40).startswith("about 10^40")


def test_block_outside_the_grid_is_refused():
    grid = CoefficientGrid(np.array([1.0, 1.0]), (2, 2))
    with pytest.raises(ValueError):
        hat_network(grid, np.ones((4, 1)), [1, 1], [2, 1], modes_1d(2), modes_1d(1), 1)
