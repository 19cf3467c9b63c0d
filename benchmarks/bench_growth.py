"""Growth as ε shrinks: the cost of verifying one ε point, and how far a query stays fast.

Run:  python benchmarks/bench_growth.py   (about 3–5 minutes on 2 cores)

Part 1 — verification per ε point.  Each ε point runs in a fresh child process (spawn),
so its memory is its own: wall time, peak resident memory (ru_maxrss) and the resident
memory after the imports (the floor every point pays).  It runs
``mono.construct.verify.verify_point`` with its defaults when that module is importable
(its default adversarial budget; baseline built when it fits verify's budget); otherwise the
fallback work is the MoNO build plus 4096 queries (reported in column ``work``).

Part 2 — the largest MoNO that still answers a query in under 10 ms.  Target heat
(T = 0.05, cheap to evaluate, so the time is the MoNO's, not G's) on boxes K(s, 1) with s
pushed toward 1/2 (s = 2, 1, 3/4; at s = 0.6 even ε = 0.9 needs more than the plan's
200 000 modes) and ε pushed down, which drives n (input modes) and the number of
experts Π q_k · n! up.  Per point: a single query end to end (``mono(u)``, samples on a
midpoint grid of 2^⌈log₂ 2 max(n, M)⌉ points) warm (node values cached; median) and cold
(a fresh point: G evaluated at its n + 1 new nodes inside the call; median of 3), and the
coefficient path warm.  Each sweep stops after the first point whose warm query exceeds
10 ms.
"""

from __future__ import annotations

import math
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy import fft

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_machine, print_table, problem, time_call, write_csv  # noqa: E402

VERIFY_SWEEP = ("sin", 2, {}, (0.2, 0.1, 0.05, 0.03, 0.02, 0.01, 0.005))
#: (s, ε values): each list runs coarse to fine until a warm query exceeds LIMIT.
QUERY_SWEEPS = [
    (2, (0.1, 0.03, 0.01, 0.005, 0.003, 0.002, 0.001)),
    (1, (0.3, 0.1, 0.07, 0.05, 0.04, 0.03, 0.02, 0.0175, 0.016, 0.015)),
    (0.75, (0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.22, 0.2)),
]
LIMIT = 0.010  # seconds
MAX_N = 20_000


def _rss_now() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096


def verify_in_child(name: str, s, params: dict, eps: float) -> dict:
    """One ε point in this (fresh) process: time and memory of the verification work."""
    import resource

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import problem as make_problem

    from mono.bounds.plan import plan
    from mono.construct.compact import sample_box
    from mono.construct.mono import build_mono
    prob, target = make_problem(name, s=s, **params)
    p = plan(prob, eps)
    try:
        from mono.construct.verify import verify_point
    except ImportError:
        verify_point = None
    start_rss = _rss_now()
    start = time.perf_counter()
    row = {"eps": eps, "n": p.n_modes_in, "M": p.n_modes_out, "log10_nodes": _log10(p.n_nodes)}
    if verify_point is not None:
        data = getattr(verify_point(prob, eps, target), "data", {})
        row.update(work="verify_point", passed=data.get("passed"),
                   baseline_built=data.get("baseline_built"))
    else:
        mono = build_mono(prob, eps, target)
        a = sample_box(target.box, mono.n, 4096, np.random.default_rng(0))
        mono.coefficients(a)
        row.update(work="build+4096 queries")
    row["seconds"] = time.perf_counter() - start
    row["rss_after_imports_B"] = start_rss
    row["peak_rss_B"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return row


def verification_growth() -> list[dict]:
    name, s, params, eps_values = VERIFY_SWEEP
    rows = []
    context = multiprocessing.get_context("spawn")
    for eps in eps_values:
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            row = pool.submit(verify_in_child, name, s, params, eps).result()
        row = {"target": f"{name} s={s}", **row}
        rows.append(row)
        print_table([row], list(row))
    return rows


def _samples(a: np.ndarray, G: int) -> np.ndarray:
    spectrum = np.zeros((len(a), G))
    spectrum[:, :a.shape[1]] = a
    return fft.idct(spectrum, type=2, norm="ortho", axis=1) * math.sqrt(G)


def _log10(count: int) -> float:
    """log10 of an exact (possibly astronomically large) positive int."""
    bits = count.bit_length()
    if bits < 1000:
        return math.log10(count)
    shift = bits - 60
    return math.log10(count >> shift) + shift * math.log10(2)


def query_point(s, eps, rng) -> dict | None:
    from mono.construct.compact import sample_box
    from mono.construct.mono import build_mono

    prob, target = problem("heat", s=s, T=0.05)
    start = time.perf_counter()
    try:
        mono = build_mono(prob, eps, target)
    except Exception as exc:  # e.g. more modes than the plan allows
        print(f"s={s} eps={eps}: not built ({exc})")
        return None
    build = time.perf_counter() - start
    if mono.n > MAX_N:
        return None
    G = 1 << math.ceil(math.log2(2 * max(mono.n, mono.M)))
    box = target.box
    cold = []
    for _ in range(3):
        u = _samples(sample_box(box, mono.n, 1, rng), G)
        t = time.perf_counter()
        mono(u)
        cold.append(time.perf_counter() - t)
    a = sample_box(box, mono.n, 1, rng)
    u = _samples(a, G)
    warm = time_call(lambda: mono(u), 5)
    warm_coef = time_call(lambda: mono.coefficients(a), 5)
    p = mono.plan
    return {"s": s, "eps": eps, "n": mono.n, "M": mono.M, "grid_G": G,
            "log10_nodes": _log10(p.n_nodes), "log10_experts": _log10(p.n_experts),
            "routing_depth": p.routing_depth, "backend": mono.table.backend, "build_s": build,
            "cold_ms": 1e3 * float(np.median(cold)), "warm_ms": 1e3 * warm,
            "warm_coef_ms": 1e3 * warm_coef}


def query_growth() -> list[dict]:
    rng = np.random.default_rng(20240607)
    rows = []
    for s, eps_values in QUERY_SWEEPS:
        for eps in eps_values:
            row = query_point(s, eps, rng)
            if row is None:
                break
            rows.append(row)
            print_table([row], list(row))
            if row["warm_ms"] > 1e3 * LIMIT:
                break
    return rows


def main() -> None:
    print_machine()
    verify_rows = verification_growth()
    print_table(verify_rows, list(verify_rows[-1]), title="verification per ε point (fresh process each)")
    write_csv("growth_verify", verify_rows)
    query_rows = query_growth()
    columns = list(query_rows[0])
    print_table(query_rows, columns, title="single-query latency as n and the expert count grow")
    write_csv("growth_query", query_rows)
    for key in ("warm_ms", "cold_ms"):
        fast = [r for r in query_rows if r[key] < 1e3 * LIMIT]
        if fast:
            best = max(fast, key=lambda r: r["n"])
            most = max(fast, key=lambda r: r["log10_experts"])
            print(f"under {1e3 * LIMIT:g} ms ({key}): largest n = {best['n']} (s={best['s']}, "
                  f"eps={best['eps']}); most experts = 10^{most['log10_experts']:.1f} "
                  f"(n = {most['n']}, s={most['s']}, eps={most['eps']})")


if __name__ == "__main__":
    main()
