"""The MoNO: agreement with the baseline, exact counted sizes, routing depth, lazy nodes."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from mono.bounds.plan import Problem
from mono.bounds.sizes import hat_network_sizes, routing_depth, simplex_expert_sizes
from mono.bounds.space import SobolevBox, first_modes
from mono.bounds.targets import target_spec
from mono.construct import basis
from mono.construct.baseline import BudgetError, build_baseline, predicted_bytes
from mono.construct.compact import sample_box, sample_extreme
from mono.construct.mono import NodeTable, build_mono
from mono.construct.operator import count
from mono.construct.targets import make_target
from mono.construct.triangulation import CoefficientGrid, simplex_vertices
from mono.errors import InputError

THIRDS = (Fraction(1, 3),) * 3
# a coarse interpolation share keeps the grids small while n grows
COARSE = (Fraction(1, 10), Fraction(1, 10), Fraction(4, 5))


def make(name, d=1, s=2, r=1, eps=0.1, split=THIRDS, granularity=None, **params):
    box = SobolevBox(d, s, r)
    problem = Problem(target_spec(name, box, **params), split)
    # the RK4 reference needs no 1024-point grid to compare two interpolants of it
    resolution = (256,) if name == "ode" else None
    return build_mono(problem, eps, make_target(name, box, resolution, **params), granularity)


_BUILT = {}


def shared(name, d, s, r, eps, split, granularity, **params):
    """A MoNO built once per module (several tests read the same small constructions)."""
    key = (name, d, s, r, eps, split, granularity, tuple(sorted(params.items())))
    if key not in _BUILT:
        _BUILT[key] = make(name, d, s, r, eps, split, granularity, **params)
    return _BUILT[key]


def inputs(mono, size=40, seed=0):
    """Random points of the box, corners, and faces (where routing has ties)."""
    box = mono.target.box
    rng = np.random.default_rng(seed)
    a = np.concatenate([sample_box(box, mono.n, size, rng), sample_extreme(box, mono.n, 8, rng)])
    a[:4, 0] = mono.grid.radii[0]  # upper face of the first coordinate
    return a


# (name, d, s, eps, split, params): small grids (n = 2..3, at most ~10³ nodes), several
# targets, d = 1 and 2
SPLIT_J = (Fraction(2, 5), Fraction(1, 5), Fraction(2, 5))
CASES = [
    ("heat", 1, 2, 0.1, THIRDS, {"T": 0.05}),
    ("sin", 1, 2, 0.2, COARSE, {}),
    ("antiderivative", 1, 2, 0.2, COARSE, {}),
    ("ode", 1, 2, 0.1, THIRDS, {}),
    ("norm_sq", 2, 2, 0.5, SPLIT_J, {}),
    ("heat", 2, 2, 0.3, THIRDS, {"T": 0.02}),
    ("abs_power", 2, 2, 1.0, THIRDS, {"alpha": 0.5}),
    ("sin", 2, 3, 0.1, THIRDS, {}),
]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-d{c[1]}")
def case(request):
    name, d, s, eps, split, params = request.param
    mono = shared(name, d, s, 1, eps, split, None, **params)
    assert 2 <= mono.n and mono.plan.n_nodes <= 5000, "keep the case small and non-trivial"
    return request.param, mono, build_baseline(mono)


def test_mono_equals_baseline_to_rounding(case):
    _, mono, baseline = case
    a = inputs(mono)
    got = mono.coefficients(a)
    expected = baseline.forward_constant(a)
    scale = 1 + np.abs(expected).max()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9 * scale)
    # the full operators on sampled functions (encoder, DCT, decoder) agree as well
    grid = tuple(int(g) + 8 for g in np.maximum(mono.modes_in.max(0), mono.modes_out.max(0)))
    u = basis.sample(a[:6], mono.modes_in, grid)
    out = mono(u)
    ref = baseline(u)
    if mono.is_functional:
        assert out.shape == (6,)
        ref = ref.reshape(6, -1)[:, 0]
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-9 * scale)


@pytest.mark.parametrize("b", [1, 2, 3, "max"])
def test_block_experts_equal_baseline(case, b):
    (name, d, s, eps, split, params), simplex, baseline = case
    b = max(simplex.grid.cells) if b == "max" else b
    mono = shared(name, d, s, 1, eps, split, b, **params)
    a = inputs(mono, seed=1)
    np.testing.assert_allclose(mono.coefficients(a), baseline.forward_constant(a), rtol=0,
                               atol=1e-9 * (1 + np.abs(baseline.forward_constant(a)).max()))
    if b >= max(mono.grid.cells):
        # one block: the block expert is the baseline, weight for weight
        assert mono.plan.n_experts == 1
        assert mono.block_expert([0] * mono.n) == baseline


def test_counted_sizes_equal_closed_forms(case):
    (name, d, s, eps, split, params), mono, baseline = case
    n, M = mono.n, mono.M
    assert count(baseline) == mono.plan.baseline == hat_network_sizes(n, M, mono.grid.cells)
    route = mono.route(inputs(mono))
    for cell, perm in zip(route.cell[:5], route.perm[:5]):
        assert count(mono.expert(cell, perm)) == mono.plan.expert == simplex_expert_sizes(n, M)
    for b in (1, 2):
        blocks = shared(name, d, s, 1, eps, split, b, **params)
        seen = []
        for block in np.unique(blocks.route(inputs(blocks)).block, axis=0):
            lower, cells = blocks.block_cells(block)
            sizes = count(blocks.block_expert(block))
            assert sizes == hat_network_sizes(n, M, cells.tolist())
            seen.append(sizes)
        # the first block has min(b, q_k) cells per axis: the largest, as the plan reports
        first = count(blocks.block_expert([0] * n))
        assert first == blocks.plan.expert
        assert all(z.params <= first.params for z in seen)
        acc = blocks.accounting()
        assert acc["active_expert"] == blocks.plan.expert.as_dict()


def test_routing_depth_bounded_and_attained(case):
    (name, d, s, eps, split, params), mono, _ = case
    route = mono.route(inputs(mono), counted=True)
    predicted = mono.plan.routing_depth
    assert predicted == routing_depth(mono.grid.cells, mono.n)
    assert route.comparisons.max() <= predicted
    # the query in the last cell with strictly increasing fractional coordinates
    n = mono.n
    t = mono.grid.q - 1 + (np.arange(n) + 1) / (n + 1)
    worst = (t * mono.grid.spacing - mono.grid.radii)[None]
    assert mono.route(worst, counted=True).comparisons[0] == predicted
    assert mono.accounting()["routing_depth_used"] == predicted
    # blocks: binary search over ⌈q_k/b⌉ blocks per axis; the upper corner is deepest
    blocks = shared(name, d, s, 1, eps, split, 2, **params)
    predicted = blocks.plan.routing_depth
    assert predicted == routing_depth(blocks.grid.cells, n, 2)
    assert blocks.route(inputs(blocks), counted=True).comparisons.max() <= predicted
    corner = blocks.grid.radii[None]
    assert blocks.route(corner, counted=True).comparisons[0] == predicted


@pytest.mark.parametrize("name, d, eps, split, params", [
    ("heat", 1, 0.2, COARSE, {"T": 0.02}),          # n = 3
    ("heat", 2, 0.3, THIRDS, {"T": 0.02}),          # n = 3
    ("heat", 1, 0.03, THIRDS, {"T": 0.1}),          # n = 5, 10⁶ nodes, sparse table
    ("antiderivative", 1, 0.2, COARSE, {}),
])
def test_interpolant_reproduces_linear_targets(name, d, eps, split, params):
    mono = make(name, d, 2, 1, eps, split, **params)
    a = inputs(mono, seed=4)
    exact = mono.target.output_coefficients(a, mono.M)  # P_J G(P_I u), computed independently
    np.testing.assert_allclose(mono.coefficients(a), exact, rtol=0, atol=1e-12 * (1 + np.abs(exact).max()))
    # on sampled functions: A(u) = P_J G(P_I u) sampled on the grid
    grid = (64,) * d
    u = basis.sample(a, mono.modes_in, grid)
    np.testing.assert_allclose(mono(u), basis.sample(exact, mono.modes_out, grid), atol=1e-11)


def test_huge_grid_query_is_answered_lazily_and_baseline_refuses():
    mono = make("heat", 1, 2, 1, 0.01, THIRDS, T=0.05)
    assert mono.plan.n_nodes > 10 ** 9
    assert mono.table.backend == "sparse"
    a = sample_box(mono.target.box, mono.n, 1, np.random.default_rng(7))
    got = mono.coefficients(a)
    # heat is linear: the interpolant is exact, so the answer is P_J G(P_I u)
    exact = mono.target.output_coefficients(a, mono.M)
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-12)
    assert mono.table.evaluated == mono.n + 1
    # a second query in the same simplex costs no new evaluation: f ↦ f/2 + 1/4 keeps the
    # cell and the order of the fractional coordinates
    cell, frac = mono.grid.locate(a)
    b = mono.grid.node_coefficients(cell) + mono.grid.spacing * (0.5 * frac + 0.25)
    assert (mono.route(b).cell == cell).all() and (mono.route(b).perm == mono.route(a).perm).all()
    np.testing.assert_allclose(mono.coefficients(b), mono.target.output_coefficients(b, mono.M),
                               rtol=0, atol=1e-12)
    assert mono.table.evaluated == mono.n + 1
    with pytest.raises(BudgetError) as err:
        build_baseline(mono)
    predicted = predicted_bytes(mono.n, mono.M, mono.grid.cells)
    assert str(predicted) in str(err.value)
    assert mono.table.evaluated == mono.n + 1  # the refusal evaluated nothing


@pytest.mark.parametrize("cells, dense_budget, backend", [
    ((4, 3, 2), 10 ** 9, "dense"),
    ((4, 3, 2), 0, "sparse"),
    ((2 ** 22,) * 3, 10 ** 9, "dict"),  # (2^22 + 1)^3 > 2^63 nodes: no int64 index
])
def test_node_table_is_lazy_and_backends_agree(cells, dense_budget, backend):
    grid = CoefficientGrid(np.array([1.0, 0.5, 0.25]), cells)
    calls = []

    def F(c):
        calls.append(len(c))
        return np.stack([c.sum(axis=1), (c ** 2).sum(axis=1)], axis=1)

    table = NodeTable(grid, F, 2, budget=dense_budget, batch_size=7)
    assert table.backend == backend
    rng = np.random.default_rng(0)
    # few distinct nodes, many repeats: corners of a small sub-box
    nodes = rng.integers(0, 3, (30, 4, 3)) * (grid.q // 2)
    values = table.values(nodes)
    distinct = {tuple(v) for v in nodes.reshape(-1, 3).tolist()}
    assert table.evaluated == len(distinct) == len(table) == sum(calls)
    assert max(calls) <= 7
    np.testing.assert_allclose(values, F(grid.node_coefficients(nodes).reshape(-1, 3)).reshape(30, 4, 2))
    before = table.evaluated
    again = table.values(nodes[::-1])
    assert table.evaluated == before
    np.testing.assert_array_equal(again, values[::-1])
    # new nodes mixed with known ones: only the new ones are evaluated
    more = np.concatenate([nodes[0], grid.q[None] - 1])
    table.values(more)
    assert table.evaluated == before + 1
    np.testing.assert_allclose(table.values(grid.q[None] - 1), F(grid.node_coefficients(grid.q[None] - 1)))


def _columnwise_F(c):
    """A node function computed column by column (bitwise independent of the batch)."""
    calls_F.append(len(c))  # module-level call log, cleared by the tests that read it
    first = c[:, 0].copy()
    second = np.zeros(len(c))
    for k in range(c.shape[1]):
        first = first + (k + 1) * c[:, k]
        second = second + np.sin(c[:, k] + k)
    return np.stack([first, second], axis=1)


calls_F: list[int] = []


def _random_simplices(grid, batch, rng):
    cell = rng.integers(0, grid.q, (batch, grid.n))
    perm = np.argsort(rng.random((batch, grid.n)), axis=1)
    # repeats and neighbours: shared vertices must be evaluated once
    cell[batch // 2:] = cell[:batch - batch // 2]
    return cell, perm


def test_dict_backend_equals_sparse_and_evaluates_each_node_once():
    grid = CoefficientGrid(np.array([1.0, 0.5, 0.25, 2.0]), (4, 3, 2, 5))
    rng = np.random.default_rng(3)
    cell, perm = _random_simplices(grid, 40, rng)
    nodes = rng.integers(0, grid.q + 1, (25, grid.n))
    tables = {b: NodeTable(grid, _columnwise_F, 2, budget=0 if b != "dense" else 10 ** 6, batch_size=5,
                           backend=b) for b in ("dict", "sparse", "dense")}
    assert {b: t.backend for b, t in tables.items()} == {b: b for b in tables}
    out = {}
    for name, table in tables.items():
        calls_F.clear()
        got = table.simplex_values(cell, perm)
        distinct = {tuple(v) for v in simplex_vertices(cell, perm).reshape(-1, grid.n).tolist()}
        assert table.evaluated == sum(calls_F) == len(distinct) == len(table)
        assert max(calls_F) <= 5
        assert table.stored_numbers == 2 * len(distinct)
        before = table.evaluated
        again = table.simplex_values(cell[::-1], perm[::-1])
        assert table.evaluated == before
        np.testing.assert_array_equal(again, got[::-1])
        out[name] = (got, table.values(nodes), table.values(nodes.reshape(5, 5, -1)))
    for name in ("sparse", "dense"):
        for mine, theirs in zip(out["dict"], out[name]):
            np.testing.assert_array_equal(mine, theirs)
    # and the numbers are F at the vertices (independent of any table)
    want = _columnwise_F(grid.node_coefficients(simplex_vertices(cell, perm).reshape(-1, grid.n)))
    np.testing.assert_array_equal(out["dict"][0].reshape(-1, 2), want)


def test_dict_backend_on_a_huge_grid_tells_neighbouring_nodes_apart():
    # 2^50 cells per axis, 8 axes: ~2^400 nodes; nodes one step apart on the last axis
    # differ by 1 in an index of ~400 bits (a float key would merge them)
    n = 8
    grid = CoefficientGrid(np.linspace(1.0, 2.0, n), (2 ** 50,) * n)
    assert grid.n_nodes > 2 ** 399
    table = NodeTable(grid, _columnwise_F, 2)
    assert table.backend == "dict"
    rng = np.random.default_rng(11)
    cell, perm = _random_simplices(grid, 12, rng)
    cell[:3] = grid.q - 1                               # the top corner cell
    cell[3:6] = 0
    calls_F.clear()
    got = table.simplex_values(cell, perm)
    vertices = simplex_vertices(cell, perm)
    distinct = {tuple(v) for v in vertices.reshape(-1, n).tolist()}
    assert table.evaluated == len(distinct) == len(table) == sum(calls_F)
    np.testing.assert_array_equal(
        got, _columnwise_F(grid.node_coefficients(vertices.reshape(-1, n))).reshape(12, n + 1, 2))
    np.testing.assert_array_equal(table.values(vertices), got)
    assert table.evaluated == len(distinct)


def test_forced_backend_must_fit_the_grid():
    small = CoefficientGrid(np.array([1.0, 1.0]), (3, 3))
    huge = CoefficientGrid(np.array([1.0] * 3), (2 ** 22,) * 3)
    with pytest.raises(InputError, match="backend"):
        NodeTable(small, _columnwise_F, 2, budget=10, backend="dense")
    with pytest.raises(InputError, match="backend"):
        NodeTable(huge, _columnwise_F, 2, backend="sparse")
    with pytest.raises(InputError, match="backend"):
        NodeTable(small, _columnwise_F, 2, backend="hash")
    assert NodeTable(small, _columnwise_F, 2, backend="dict").backend == "dict"
    # more nodes than str() prints (> 4300 digits): built, and refused with an InputError
    vast = CoefficientGrid(np.ones(1500), (2 ** 10,) * 1500)
    assert vast.n_nodes.bit_length() > 15_000
    assert NodeTable(vast, _columnwise_F, 2).backend == "dict"
    with pytest.raises(InputError, match="2\\^"):
        NodeTable(vast, _columnwise_F, 2, backend="sparse")
    with pytest.raises(InputError, match="2\\^"):
        NodeTable(vast, _columnwise_F, 2, budget=0, backend="dense")


def test_expert_networks_compute_what_the_mono_computes():
    mono = make("sin", 1, 3, 1, 0.3, COARSE)
    a = inputs(mono, size=10, seed=5)
    route = mono.route(a)
    u = basis.sample(a, mono.modes_in, (32,))
    want = mono(u)
    for i in range(len(a)):
        op = mono.expert(route.cell[i], route.perm[i])
        np.testing.assert_allclose(op(u[i:i + 1])[0], want[i], atol=1e-12)
        np.testing.assert_allclose(op.forward_constant(a[i:i + 1])[0], mono.coefficients(a[i:i + 1])[0],
                                   atol=1e-13)
    assert mono.accounting()["experts_built"] == len({(tuple(c), tuple(p)) for c, p in
                                                      zip(route.cell.tolist(), route.perm.tolist())})


def test_accounting_reports_plan_counts():
    mono = make("heat", 1, 2, 1, 0.1, THIRDS, T=0.05)
    acc = mono.accounting()
    plan = mono.plan
    assert acc["n_experts"] == math.prod(mono.grid.cells) * math.factorial(mono.n) == plan.n_experts
    assert acc["routing_storage"] == sum(q - 1 for q in mono.grid.cells)
    assert acc["routing_depth_used"] is None and acc["active_expert"] is None
    assert acc["total_stored"]["node_table"] == plan.n_nodes * mono.M + acc["routing_storage"]
    mono.coefficients(inputs(mono, size=3), counted=True)
    acc = mono.accounting()
    assert acc["routing_depth_used"] <= acc["routing_depth_predicted"]
    assert acc["nodes_evaluated"] <= 3 * (mono.n + 1) + 8 * (mono.n + 1)


def test_bad_inputs_are_input_errors():
    mono = make("heat", 1, 2, 1, 0.1, THIRDS, T=0.05)
    a = np.zeros((2, mono.n))
    a[1, 1] = 2 * mono.grid.radii[1]
    with pytest.raises(InputError, match=r"mode k = \(1,\)"):
        mono.coefficients(a)
    with pytest.raises(InputError, match="NaN"):
        mono(np.full((1, 32), np.nan))
    with pytest.raises(InputError, match="too small"):
        mono(np.zeros((1, 1)))
    u = basis.sample(a, mono.modes_in, (32,))
    with pytest.raises(InputError, match="outside K"):
        mono(u)
    # a few ulps outside (DCT rounding) is accepted, not refused
    edge = basis.sample(mono.grid.radii[None] * (1 + 1e-13), mono.modes_in, (32,))
    assert np.isfinite(mono(edge)).all()


def test_mismatched_target_is_refused():
    box = SobolevBox(1, 2, 1)
    problem = Problem(target_spec("heat", box, T=0.05), THIRDS)
    with pytest.raises(InputError):
        build_mono(problem, 0.1, make_target("sin", box))


def test_modes_are_the_bounds_mode_order():
    mono = shared("heat", 2, 2, 1, 0.3, THIRDS, None, T=0.02)
    np.testing.assert_array_equal(mono.modes_in, first_modes(2, mono.n))
    np.testing.assert_array_equal(mono.modes_out, first_modes(2, mono.M))
    assert all(math.isclose(float(r), g) for r, g in zip(mono.plan.radii, mono.grid.radii))
