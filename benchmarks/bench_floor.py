"""MoNO query path against its floor: a bare numpy implementation of the essential work.

Run:  python benchmarks/bench_floor.py   (about 1–2 minutes on 2 cores)

The essential work of one query (d = 1) is: one DCT of the input samples (first n
coefficients), locating its cell (binary search among each axis' stored thresholds) and
its Kuhn simplex (sorting the n fractional coordinates), reading the n + 1 rows of M node
values, about n·M multiply-adds (F(v_0) + Σ_i (F(v_i) − F(v_{i−1})) f_π(i)), and, for an
output on the grid, one inverse DCT of the M output coefficients.  The floor below does
exactly that with bare numpy/scipy calls (searchsorted, argsort, gather, einsum, DCT) on a
dense node table that it fills itself from the target's reference evaluator, and is
checked to give the MoNO's numbers.  Reported: median time per query of

* ``MoNO.__call__`` (samples → samples) against ``floor_samples``,
* ``MoNO.coefficients`` (coefficients → coefficients) against ``floor_coefficients``,

and their ratio (median over alternating repeats of the per-repeat ratio), for batches of 1, 64, 4096 and 32768.  Both use warm node tables (every
node the queries need is already evaluated), so only the query path is compared.

Targets (issue 7): ratio ≤ 3 for batches ≥ 4096, ≤ 20 for a single query.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from scipy import fft

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_machine, print_table, problem, time_pair, write_csv  # noqa: E402

from mono.construct.compact import sample_box  # noqa: E402
from mono.construct.mono import build_mono  # noqa: E402

#: (label, target name, s, ε, parameters): dense node tables of 10³ .. 10⁶ nodes.
CASES = [
    ("sin s=2 eps=0.1", "sin", 2, 0.1, {}),
    ("sin s=2 eps=0.05", "sin", 2, 0.05, {}),
    ("heat s=2 eps=0.03", "heat", 2, 0.03, {"T": 0.05}),
]
BATCHES = (1, 64, 4096, 32768)
GRID = 256  # sample points of the query functions (midpoint grid)


class Floor:
    """The essential work of a MoNO query, written directly (d = 1, simplex experts).

    Uses only the grid parameters (radii, cells) and a dense node table of F values that
    it evaluates itself; nothing of the MoNO's query path.
    """

    def __init__(self, radii, cells, target, M: int):
        self.rho = np.asarray(radii, dtype=float)
        self.q = np.asarray(cells, dtype=np.int64)
        self.n = len(self.q)
        self.M = M
        h = 2 * self.rho / self.q
        # routing thresholds: the inner cell boundaries of each axis (q_k − 1 of them)
        self.thresholds = [-r + h_k * np.arange(1, q) for r, h_k, q in zip(self.rho, h, self.q)]
        self.lower = -self.rho
        self.h = h
        dims = self.q + 1
        self.strides = np.array([math.prod(dims[k + 1:].tolist()) for k in range(self.n)],
                                dtype=np.int64)
        # every node's coefficients, C order, then F at all of them
        index = np.stack(np.unravel_index(np.arange(math.prod(dims.tolist())), tuple(dims)), axis=1)
        nodes = self.rho * ((2 * index - self.q) / self.q)
        self.table = np.concatenate([target.output_coefficients(nodes[i:i + 8192], M)
                                     for i in range(0, len(nodes), 8192)])

    def coefficients(self, a: np.ndarray) -> np.ndarray:
        # cell: binary search among the thresholds of each axis
        cell = np.empty(a.shape, dtype=np.int64)
        for k in range(self.n):
            cell[:, k] = np.searchsorted(self.thresholds[k], a[:, k], side="right")
        frac = np.clip((a - self.lower) / self.h - cell, 0.0, 1.0)
        perm = np.argsort(-frac, axis=1, kind="stable")
        f_sorted = np.take_along_axis(frac, perm, axis=1)
        flat = np.empty((len(a), self.n + 1), dtype=np.int64)
        flat[:, 0] = cell @ self.strides
        np.cumsum(self.strides[perm], axis=1, out=flat[:, 1:])
        flat[:, 1:] += flat[:, :1]
        V = self.table[flat]                                    # (batch, n+1, M): the rows read
        return V[:, 0] + np.einsum("bim,bi->bm", np.diff(V, axis=1), f_sorted)

    def samples(self, u: np.ndarray) -> np.ndarray:
        G = u.shape[1]
        a = fft.dct(u, type=2, norm="ortho", axis=1)[:, :self.n] / math.sqrt(G)
        y = self.coefficients(a)
        spectrum = np.zeros((len(u), G))
        spectrum[:, :self.M] = y
        return fft.idct(spectrum, type=2, norm="ortho", axis=1) * math.sqrt(G)


def run_case(label, name, s, eps, params, rng) -> list[dict]:
    prob, target = problem(name, s=s, **params)
    mono = build_mono(prob, eps, target)
    assert mono.d == 1 and mono.table.dense, "the floor compares dense node tables in d = 1"
    floor = Floor(mono.grid.radii, mono.grid.cells, target, mono.M)
    big = max(BATCHES)
    a = sample_box(target.box, mono.n, big, rng)
    # samples with exactly these first n coefficients (the box point itself)
    spectrum = np.zeros((big, GRID))
    spectrum[:, :mono.n] = a
    u = fft.idct(spectrum, type=2, norm="ortho", axis=1) * math.sqrt(GRID)
    # correctness first: the floor computes what the MoNO computes
    np.testing.assert_allclose(floor.coefficients(a), mono.coefficients(a), rtol=0, atol=1e-10)
    np.testing.assert_allclose(floor.samples(u[:256]), mono(u[:256]), rtol=0, atol=1e-9)
    rows = []
    for b in BATCHES:
        ub, ab = u[:b], a[:b]
        repeats = 7 if b <= 4096 else 5
        t_call, t_floor_s, r_call = time_pair(lambda: mono(ub), lambda: floor.samples(ub), repeats)
        t_coef, t_floor_c, r_coef = time_pair(lambda: mono.coefficients(ab),
                                              lambda: floor.coefficients(ab), repeats)
        rows.append({
            "case": label, "n": mono.n, "M": mono.M, "nodes": mono.plan.n_nodes, "batch": b,
            "mono_call_us": 1e6 * t_call / b, "floor_samples_us": 1e6 * t_floor_s / b,
            "ratio_call": r_call,
            "mono_coef_us": 1e6 * t_coef / b, "floor_coef_us": 1e6 * t_floor_c / b,
            "ratio_coef": r_coef,
        })
    return rows


def main() -> None:
    print_machine()
    rng = np.random.default_rng(20240607)
    rows = []
    for case in CASES:
        rows += run_case(*case, rng)
        print_table(rows[-len(BATCHES):], list(rows[-1]), title=case[0] + " (µs per query, medians)")
    write_csv("floor", rows)
    worst_big = max(r["ratio_call"] for r in rows if r["batch"] >= 4096)
    worst_big_c = max(r["ratio_coef"] for r in rows if r["batch"] >= 4096)
    worst_one = max(max(r["ratio_call"], r["ratio_coef"]) for r in rows if r["batch"] == 1)
    print(f"\nworst overhead, batches >= 4096: samples path {worst_big:.2f}x, coefficient path "
          f"{worst_big_c:.2f}x (target <= 3x)")
    print(f"worst overhead, single query: {worst_one:.2f}x (target <= 20x)")


if __name__ == "__main__":
    main()
