"""Kuhn triangulation of the coefficient grid: hat basis, point location, routing tree."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mono.bounds.sizes import routing_depth, sorting_comparisons
from mono.construct.triangulation import (
    CoefficientGrid, barycentric, hat, interpolate, kuhn_order, route_counted,
    routing_comparisons, simplex_vertices,
)
from mono.errors import InputError

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def grids(draw, max_n=4, max_q=4):
    n = draw(st.integers(1, max_n))
    radii = draw(st.lists(st.floats(0.05, 3.0), min_size=n, max_size=n))
    cells = draw(st.lists(st.integers(1, max_q), min_size=n, max_size=n))
    return CoefficientGrid(np.array(radii), tuple(cells))


@st.composite
def grid_and_points(draw, max_n=4, max_q=4, size=8):
    grid = draw(grids(max_n, max_q))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (size, grid.n)) * grid.radii
    # points on faces and nodes, where ties and boundaries live
    nodes = rng.integers(0, grid.q + 1, (size, grid.n))
    on_node = grid.node_coefficients(nodes)
    mix = rng.random((size, grid.n)) < 0.5
    a = np.concatenate([a, np.where(mix, on_node, a)])
    return grid, a


def all_nodes(grid):
    idx = np.array(list(itertools.product(*[range(q + 1) for q in grid.cells])), dtype=np.int64)
    return idx, grid.node_coefficients(idx)


@SETTINGS
@given(grid_and_points())
def test_hat_basis_is_partition_of_unity(data):
    grid, a = data
    _, coords = all_nodes(grid)
    z = (a[:, None, :] - coords[None]) / grid.spacing
    weights = hat(z)
    assert weights.min() >= 0
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-12)


@SETTINGS
@given(grids())
def test_hat_basis_is_nodal(grid):
    idx, coords = all_nodes(grid)
    z = (coords[:, None, :] - coords[None]) / grid.spacing
    np.testing.assert_allclose(hat(z), np.eye(len(idx)), atol=1e-12)


def test_hat_closed_form_hand_values():
    # Λ(z) = max(0, 1 + min(0, z) − max(0, z)): hand-computed points in 2-D
    z = np.array([[0.0, 0.0], [0.5, 0.25], [0.5, -0.25], [-0.3, -0.6], [1.0, 0.0], [0.6, -0.6]])
    np.testing.assert_allclose(hat(z), [1.0, 0.5, 0.25, 0.4, 0.0, 0.0])


@SETTINGS
@given(grid_and_points())
def test_routed_simplex_contains_point_and_hats_are_barycentric(data):
    grid, a = data
    cell, frac = grid.locate(a)
    assert (cell >= 0).all() and (cell < grid.q).all()
    assert (frac >= 0).all() and (frac <= 1).all()
    perm = kuhn_order(frac)
    vertices = simplex_vertices(cell, perm)
    beta = barycentric(frac, perm)
    assert beta.min() >= -1e-12
    np.testing.assert_allclose(beta.sum(axis=1), 1.0, atol=1e-12)
    # the point is the barycentric combination of its simplex vertices
    points = np.einsum("bi,bin->bn", beta, grid.node_coefficients(vertices))
    np.testing.assert_allclose(points, a, atol=1e-12 * grid.radii.max())
    # vertices are distinct nodes of the cell: v_i − v_0 ∈ {0,1}^n, increasing chain
    steps = vertices - cell[:, None, :]
    assert steps.min() == 0 and steps.max() <= 1
    assert (np.diff(steps.sum(axis=2), axis=1) == 1).all()
    # the hat of each vertex at the point is its barycentric weight
    z = (a[:, None, :] - grid.node_coefficients(vertices)) / grid.spacing
    np.testing.assert_allclose(hat(z), beta, atol=1e-9)


@SETTINGS
@given(grid_and_points(), st.integers(1, 3), st.integers(0, 2 ** 31))
def test_interpolant_matches_hat_sum_and_reproduces_affine_maps(data, M, seed):
    grid, a = data
    rng = np.random.default_rng(seed)
    idx, coords = all_nodes(grid)
    values = rng.normal(size=(len(idx), M))
    # hat-basis sum over every node of the grid (independent of the simplex)
    z = (a[:, None, :] - coords[None]) / grid.spacing
    expected = hat(z) @ values
    cell, frac = grid.locate(a)
    perm = kuhn_order(frac)
    vertices = simplex_vertices(cell, perm)
    flat = np.ravel_multi_index(tuple(np.moveaxis(vertices, -1, 0)), tuple(grid.q + 1))
    got = interpolate(values[flat], frac, perm)
    np.testing.assert_allclose(got, expected, atol=1e-9)
    # an affine map is reproduced exactly
    A = rng.normal(size=(M, grid.n))
    c = rng.normal(size=M)
    affine = lambda x: x @ A.T + c  # noqa: E731
    np.testing.assert_allclose(interpolate(affine(grid.node_coefficients(vertices)), frac, perm),
                               affine(a), atol=1e-10 * (1 + np.abs(A).sum()))


@SETTINGS
@given(grid_and_points(max_n=6, max_q=9, size=16))
def test_routing_tree_agrees_with_fast_path_and_respects_depth(data):
    grid, a = data
    cell, frac = grid.locate(a)
    perm = kuhn_order(frac)
    cell2, perm2, count = route_counted(grid, a)
    np.testing.assert_array_equal(cell2, cell)
    np.testing.assert_array_equal(perm2, perm)
    assert count.max() <= routing_depth(grid.cells, grid.n)
    assert routing_comparisons(grid.cells) == routing_depth(grid.cells, grid.n)


@pytest.mark.parametrize("cells", [(1,), (2,), (5,), (8, 3), (7, 1, 4, 2), (3, 3, 3, 3, 3, 9), (1,) * 7])
def test_routing_depth_is_attained(cells):
    grid = CoefficientGrid(np.linspace(1.0, 0.2, len(cells)), cells)
    n = grid.n
    # last cell on every axis (the longer half at every bisection) and fractional
    # coordinates strictly increasing in the index (each key inserted at the front)
    frac = (np.arange(n) + 1) / (n + 1)
    t = grid.q - 1 + frac
    a = (t * grid.spacing - grid.radii)[None]
    _, _, count = route_counted(grid, a)
    assert count[0] == routing_depth(cells, n)


def test_sort_comparison_count_hand_values():
    # Σ_{i=2}^n ⌈log₂ i⌉ by hand: n=2:1, 3:1+2, 4:1+2+2, 5:+3 → 8
    for n, expected in [(1, 0), (2, 1), (3, 3), (4, 5), (5, 8)]:
        assert sorting_comparisons(n) == expected
        grid = CoefficientGrid(np.ones(n), (1,) * n)
        assert routing_comparisons(grid.cells) == expected


def test_upper_face_belongs_to_last_cell_and_lower_face_to_first():
    grid = CoefficientGrid(np.array([1.0, 0.5]), (4, 3))
    cell, frac = grid.locate(np.array([[1.0, 0.5], [-1.0, -0.5]]))
    np.testing.assert_array_equal(cell, [[3, 2], [0, 0]])
    np.testing.assert_allclose(frac, [[1, 1], [0, 0]])
    np.testing.assert_array_equal(route_counted(grid, np.array([[1.0, 0.5]]))[0], [[3, 2]])


def test_extreme_nodes_are_exactly_on_the_faces():
    grid = CoefficientGrid(np.array([0.1, 0.7, 1 / 3]), (3, 7, 11))
    corners = grid.node_coefficients(np.array([[0, 0, 0], [3, 7, 11]]))
    np.testing.assert_array_equal(corners, [-grid.radii, grid.radii])


def test_outside_box_is_refused_with_amount_and_coordinate():
    grid = CoefficientGrid(np.array([1.0, 0.5]), (4, 3))
    with pytest.raises(InputError) as err:
        grid.locate(np.array([[0.0, 0.0], [0.2, -0.75]]))
    message = str(err.value)
    assert "coordinate 1" in message and "0.25" in message
    # a few ulps outside is on the face, not an error (and not silently elsewhere)
    cell, frac = grid.locate(np.array([[1.0 + 1e-15, -0.5 - 1e-16]]))
    np.testing.assert_array_equal(cell, [[3, 0]])
    with pytest.raises(InputError):
        route_counted(grid, np.array([[1.001, 0.0]]))


@pytest.mark.parametrize("bad", [np.array([[np.nan, 0.0]]), np.zeros((2, 3)), np.zeros(2), "x"])
def test_bad_coefficient_arrays_are_input_errors(bad):
    grid = CoefficientGrid(np.array([1.0, 0.5]), (4, 3))
    with pytest.raises(InputError):
        grid.locate(bad)


def test_bad_grids_are_input_errors():
    with pytest.raises(InputError):
        CoefficientGrid(np.array([1.0, -1.0]), (2, 2))
    with pytest.raises(InputError):
        CoefficientGrid(np.array([1.0]), (0,))
    with pytest.raises(InputError):
        CoefficientGrid(np.array([1.0, 1.0]), (2,))


def test_node_count_is_exact_for_huge_grids():
    grid = CoefficientGrid(np.ones(40), (10 ** 6,) * 40)
    assert grid.n_nodes == (10 ** 6 + 1) ** 40
    assert isinstance(grid.n_nodes, int)
