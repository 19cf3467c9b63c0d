"""Shared helpers of the benchmark scripts: timing, peak memory, tables, CSV, machine info.

Not part of the package: the scripts run from a checkout (``python benchmarks/bench_x.py``)
against the installed ``mono``.  Timing uses ``time.perf_counter``; every reported time is
the median over repeats, after warm-up calls, of the time per call (a repeat loops a
callable enough times to last at least ``MIN_REPEAT_SECONDS``, so microsecond calls are
not dominated by the clock's resolution).
"""

from __future__ import annotations

import csv
import gc
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from fractions import Fraction
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

#: The default error split (1/3, 1/3, 1/3) of DESIGN §2.
THIRDS = (Fraction(1, 3),) * 3

#: A repeat lasts at least this long (seconds), looping the call.
MIN_REPEAT_SECONDS = 0.02


def problem(name: str, s=2, r=1, d: int = 1, split=THIRDS, resolution=None, **params):
    """A (Problem, Target) pair of a registered target on the box K(s, r)."""
    from mono.bounds.plan import Problem
    from mono.bounds.space import SobolevBox
    from mono.bounds.targets import target_spec
    from mono.construct.targets import make_target

    box = SobolevBox(d, s, r)
    return (Problem(target_spec(name, box, **params), split),
            make_target(name, box, resolution, **params))


def time_call(fn, repeats: int = 7, warmup: int = 2, max_loops: int = 100_000) -> float:
    """Median seconds per call of ``fn()`` over ``repeats`` repeats, after ``warmup`` calls.

    The number of calls per repeat is chosen once, from the last warm-up, so that a
    repeat lasts at least :data:`MIN_REPEAT_SECONDS`.
    """
    elapsed = 0.0
    for _ in range(max(1, warmup)):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
    loops = int(min(max_loops, max(1, math.ceil(MIN_REPEAT_SECONDS / max(elapsed, 1e-9)))))
    samples = []
    gc_was = gc.isenabled()
    gc.disable()  # a collection inside one repeat is noise, not the cost of the call
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(loops):
                fn()
            samples.append((time.perf_counter() - start) / loops)
    finally:
        if gc_was:
            gc.enable()
    return statistics.median(samples)


def peak_bytes(fn) -> int:
    """Peak bytes allocated (Python and numpy, via tracemalloc) during one call of ``fn()``.

    Counts what the call allocates on top of what already exists (the weights held
    before the call are reported separately by the scripts).
    """
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return max(0, peak - base)


def max_rss_bytes() -> int:
    """Peak resident set size of this process so far (bytes, Linux ru_maxrss is KiB)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def fmt(value, digits: int = 3) -> str:
    """Compact text of a number for the console table."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)) and abs(int(value)) < 10 ** 7:
        return str(int(value))
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return str(value)
    if 1e-3 <= abs(value) < 1e5:
        return f"{value:.{digits}g}"
    return f"{value:.{digits - 1}e}"


def print_table(rows: list[dict], columns: list[str], title: str = "") -> None:
    """A plain, aligned console table of the given columns."""
    if title:
        print(f"\n{title}")
    cells = [[fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c)
              for i, c in enumerate(columns)]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    for r in cells:
        print("  ".join(v.rjust(w) for v, w in zip(r, widths)))
    sys.stdout.flush()


def write_csv(name: str, rows: list[dict]) -> Path:
    """Write the rows (union of keys, in first-seen order) to benchmarks/results/<name>.csv."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    path = RESULTS / f"{name}.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in keys})
    print(f"\nwrote {path}")
    return path


def machine() -> dict:
    """nproc, CPU model, Python/numpy/scipy versions, BLAS (threadpoolctl if installed)."""
    import scipy

    model = "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
    }
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = "; ".join(f"{p.get('internal_api')} {p.get('version')} "
                                 f"({p.get('num_threads')} threads)" for p in threadpool_info())
    except ImportError:
        try:
            config = np.show_config(mode="dicts")
            blas = config["Build Dependencies"]["blas"]
            info["blas"] = f"{blas.get('name')} {blas.get('version')} (numpy.show_config)"
        except Exception:  # older numpy: no dict mode
            info["blas"] = "see numpy.show_config()"
    return info


def print_machine() -> dict:
    info = machine()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    return info


def time_pair(first, second, repeats: int = 7, warmup: int = 2) -> tuple[float, float, float]:
    """Median seconds per call of two callables timed in alternating repeats.

    On a shared machine the load drifts; alternating the two measurements exposes both
    to the same drift, and the median of the per-repeat ratios first/second is robust
    to it.  Returns (median first, median second, median ratio).
    """
    loops = []
    for fn in (first, second):
        elapsed = 0.0
        for _ in range(max(1, warmup)):
            start = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - start
        loops.append(int(min(100_000, max(1, math.ceil(MIN_REPEAT_SECONDS / max(elapsed, 1e-9))))))
    a, b = [], []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for fn, count, out in ((first, loops[0], a), (second, loops[1], b)):
                start = time.perf_counter()
                for _ in range(count):
                    fn()
                out.append((time.perf_counter() - start) / count)
    finally:
        if gc_was:
            gc.enable()
    ratio = statistics.median(x / y for x, y in zip(a, b))
    return statistics.median(a), statistics.median(b), ratio
