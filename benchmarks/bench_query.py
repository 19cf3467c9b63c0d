"""MoNO against the single-NO baseline, side by side at the same ε.

Run:  python benchmarks/bench_query.py   (about 2–4 minutes on 2 cores)

For each target and each ε: build the MoNO (simplex experts) and, when it fits the
default memory budget (4 GiB), the baseline (the hat network on the whole grid); both
compute the same function (checked here to rounding on the benchmark inputs).  Reported,
per ε:

* latency per query, end to end on sampled functions (``op(u)``, a midpoint grid of 256
  points): a single query (batch 1) and batches of 64 and 4096 (time per call / batch);
  medians over repeats after warm-up, node table warm;
* the MoNO's first answer at a fresh point (``cold``: includes evaluating G at the n + 1
  new nodes; median over 5 fresh points);
* weight bytes touched per query: MoNO = the n + 1 node rows of M values plus the routing
  thresholds compared (Σ_k ⌈log₂ q_k⌉), 8 bytes each; baseline = all its parameters;
* peak memory of one call (tracemalloc: bytes allocated on top of the existing weights),
  batch 1 and batch 4096, and the weights held (MoNO: node values evaluated so far;
  baseline: its parameters);
* ratios baseline / MoNO.

The baseline's batch of 4096 runs in chunks whose activations fit in ~256 MiB (how it
would be used); when a full 4096 batch would take longer than ``MAX_BASELINE_SECONDS``
its per-query time is measured on chunks and scaled (column ``base_4096_extrapolated``) —
chunks are independent, identical work, so the per-query time does not depend on how
many are run.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy import fft

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import peak_bytes, print_machine, print_table, problem, time_call, write_csv  # noqa: E402

from mono.construct.baseline import BudgetError, build_baseline, predicted_bytes  # noqa: E402
from mono.construct.compact import sample_box  # noqa: E402
from mono.construct.mono import build_mono  # noqa: E402
from mono.construct.operator import count  # noqa: E402
from mono.construct.triangulation import cell_comparisons  # noqa: E402

#: (label, target, s, parameters, ε values): coarse to fine; the baseline fits the budget
#: for the first few ε only.
SWEEPS = [
    ("sin s=2", "sin", 2, {}, (0.2, 0.1, 0.07, 0.05, 0.03, 0.02, 0.01)),
    ("heat s=3", "heat", 3, {"T": 0.05}, (0.05, 0.03, 0.02, 0.01, 0.005)),
]
BATCHES = (1, 64, 4096)
GRID = 256
ACTIVATION_BYTES = 256 * 2 ** 20
MAX_BASELINE_SECONDS = 8.0


def samples_of(a: np.ndarray, G: int = GRID) -> np.ndarray:
    """Samples on the midpoint grid of Σ_k a_k φ_k (d = 1, modes 0..n−1)."""
    spectrum = np.zeros((len(a), G))
    spectrum[:, :a.shape[1]] = a
    return fft.idct(spectrum, type=2, norm="ortho", axis=1) * math.sqrt(G)


def chunked(op, chunk: int):
    """Apply ``op`` in chunks of ``chunk`` inputs (bounded activation memory)."""
    def run(u):
        return np.concatenate([op(u[i:i + chunk]) for i in range(0, len(u), chunk)])
    return run


def mono_bytes_touched(mono) -> int:
    thresholds = sum(cell_comparisons(q) for q in mono.grid.cells)
    return 8 * ((mono.n + 1) * mono.M + thresholds)


def run_eps(label, mono, baseline, a, u, rng) -> dict:
    p = mono.plan
    row = {"sweep": label, "eps": float(p.eps), "n": mono.n, "M": mono.M, "nodes": p.n_nodes,
           "experts": p.n_experts, "routing_depth": p.routing_depth}
    # cold: fresh points, G evaluated at the new nodes inside the call
    cold = []
    for _ in range(5):
        fresh = samples_of(sample_box(mono.target.box, mono.n, 1, rng))
        start = time.perf_counter()
        mono(fresh)
        cold.append(time.perf_counter() - start)
    row["mono_cold_single_us"] = 1e6 * float(np.median(cold))
    mono(u)  # warm the node table for the benchmark inputs
    for b in BATCHES:
        row[f"mono_{b}_us"] = 1e6 * time_call(lambda: mono(u[:b]), 7 if b < 4096 else 5) / b
    row["mono_coef_1_us"] = 1e6 * time_call(lambda: mono.coefficients(a[:1]))
    row["mono_touched_B"] = mono_bytes_touched(mono)
    row["mono_peak_1_B"] = peak_bytes(lambda: mono(u[:1]))
    row["mono_peak_4096_B"] = peak_bytes(lambda: mono(u))
    row["mono_held_B"] = 8 * mono.table.stored_numbers
    row["mono_table_backend"] = mono.table.backend
    if baseline is None:
        row["baseline"] = f"refused: needs {predicted_bytes(mono.n, mono.M, mono.grid.cells):.3g} B"
        return row
    sizes = count(baseline)
    chunk = max(1, min(4096, ACTIVATION_BYTES // (16 * sizes.width)))
    run = chunked(baseline, chunk)
    check = min(len(u), 256)
    np.testing.assert_allclose(run(u[:check]), mono(u[:check]), rtol=0, atol=1e-9)
    row["baseline"] = "built"
    for b in BATCHES:
        if b < 4096:
            t = time_call(lambda: run(u[:b]), 5, warmup=1)
        else:
            t_chunk = time_call(lambda: baseline(u[:chunk]), 3, warmup=1)
            estimate = t_chunk * b / chunk
            row["base_4096_extrapolated"] = estimate > MAX_BASELINE_SECONDS
            t = estimate if estimate > MAX_BASELINE_SECONDS else time_call(lambda: run(u[:b]), 3, warmup=1)
        row[f"base_{b}_us"] = 1e6 * t / b
        row[f"speedup_{b}"] = row[f"base_{b}_us"] / row[f"mono_{b}_us"]
    row["base_touched_B"] = 8 * sizes.params
    row["touched_ratio"] = row["base_touched_B"] / row["mono_touched_B"]
    row["base_peak_1_B"] = peak_bytes(lambda: baseline(u[:1]))
    row["base_peak_chunk_B"] = peak_bytes(lambda: baseline(u[:chunk]))
    row["base_chunk"] = chunk
    row["base_held_B"] = 8 * sizes.params
    return row


def main() -> None:
    print_machine()
    rng = np.random.default_rng(20240607)
    rows = []
    for label, name, s, params, eps_values in SWEEPS:
        prob, target = problem(name, s=s, **params)
        for eps in eps_values:
            mono = build_mono(prob, eps, target)
            try:
                start = time.perf_counter()
                baseline = build_baseline(mono)
                built = time.perf_counter() - start
            except BudgetError:
                baseline, built = None, None
            a = sample_box(target.box, mono.n, max(BATCHES), rng)
            row = run_eps(label, mono, baseline, a, samples_of(a), rng)
            row["base_build_s"] = built
            rows.append(row)
            print_table([row], ["sweep", "eps", "n", "M", "nodes", "mono_1_us", "base_1_us",
                                "speedup_1", "speedup_64", "speedup_4096", "touched_ratio",
                                "baseline"])
            del baseline, mono
    columns = ["sweep", "eps", "n", "M", "nodes", "mono_cold_single_us", "mono_1_us", "mono_64_us",
               "mono_4096_us", "base_1_us", "base_64_us", "base_4096_us", "speedup_1",
               "speedup_64", "speedup_4096", "mono_touched_B", "base_touched_B",
               "mono_peak_1_B", "base_peak_1_B", "mono_peak_4096_B", "base_peak_chunk_B"]
    print_table(rows, columns, title="MoNO vs single NO (µs per query, medians; bytes)")
    write_csv("query", rows)
    big = [r for r in rows if r.get("baseline") == "built" and r["nodes"] > 10 ** 4]
    if big:
        worst = min(min(r[f"speedup_{b}"] for b in BATCHES) for r in big)
        print(f"\nsmallest speedup where the baseline has > 10^4 nodes: {worst:.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
