"""Verification: measured sup-error and counted sizes against the plan, for one ε or a sweep.

For one accuracy ε (:func:`verify_point`) the MoNO of the plan is built and

* sup_K ‖G − A‖ is estimated *from below*, and the three terms of Theorem E and the
  reference accuracy of G are measured at the worst input found, by
  :mod:`mono.construct.search`; each is checked here against its predicted value, with
  the tolerances below;
* the experts met (worst input and a few random queries) and the baseline (when it
  fits the memory budget) are built and counted against the closed forms; the routing
  comparisons actually made are compared with the predicted routing depth.

A sweep (:func:`verify`) runs independent ε points through a caller's
``concurrent.futures.Executor``, writes each finished point atomically to
``out/points/`` (so an interrupted run resumes), fits log–log slopes and writes the
report (:mod:`mono.construct.report`).  Everything in ``report.json`` is a
deterministic function of the parameters and the seed: timings go to the console and
``report.md`` only.

The derivations (why the estimate is a lower bound, how each term is isolated, the
tolerances) are in docs/theory.md, section "Verification".
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import math
import os
import tempfile
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import mpmath
import numpy as np

import mono
from mono.bounds import rates as rates_module
from mono.bounds.plan import Plan, Problem, plan as make_plan, to_mpf
from mono.bounds.sizes import Sizes, hat_network_sizes
from mono.bounds.space import first_modes
from mono.bounds.targets import TARGET_NAMES
from mono.construct import basis, search
from mono.construct.baseline import BudgetError, build_baseline, check_budget
from mono.construct.mono import MoNO, build_mono
from mono.construct.operator import count
from mono.construct.targets import Target, make_target
from mono.errors import InputError, require

__all__ = [
    "DEFAULT_BUDGET", "DEFAULT_SEED", "DEFAULT_BASELINE_BUDGET", "REFERENCE_FRACTION",
    "PointResult", "SynchronousExecutor", "verify_point", "verify", "point_seed", "eps_key",
    "n_probe_modes", "fit_slopes", "SLOPE_QUANTITIES", "FORMAT",
]

#: Format tag of report.json and of the point files (bumped when their meaning changes,
#: so that a resumed run never mixes points computed under different rules).
FORMAT = "mono-verify/1"

#: Default adversarial effort: samples per family 32·(1 + budget), ``budget`` starts.
DEFAULT_BUDGET = 8
DEFAULT_SEED = 0
#: Default memory budget of the baseline in ``mono verify`` (bytes).
DEFAULT_BASELINE_BUDGET = 256 * 2 ** 20

#: The reference accuracy of G must stay below this fraction of ε ("far below ε").
REFERENCE_FRACTION = 0.01
#: A measured term passes when measured <= predicted·(1 + RELATIVE_SLACK)
#: + REFERENCE_SLACK·(reference accuracy) + ABSOLUTE_SLACK (see the theory part).
RELATIVE_SLACK = 1e-9
REFERENCE_SLACK = 4.0
ABSOLUTE_SLACK = 1e-12
#: MoNO and baseline must agree to this relative rounding level (of the output scale).
BASELINE_RTOL = 1e-9
#: The built expert NO applied to samples must reproduce the batched MoNO to this level.
NETWORK_RTOL = 1e-9

#: Random queries whose experts are built and counted (besides the worst input's).
SIZE_QUERIES = 4
#: Queries compared between MoNO and baseline (the worst input, then samples): as many
#: as BASELINE_WORK numbers of hidden activations allow, within [MIN, MAX].
BASELINE_QUERIES = 256
BASELINE_MIN_QUERIES = 16
BASELINE_WORK = 4_000_000
#: Largest batch × width handed to the baseline's forward pass at once (numbers).
BASELINE_CHUNK_NUMBERS = 8_000_000

#: Quantities whose log–log slopes against 1/ε are fitted over a sweep.
SLOPE_QUANTITIES = ("n_modes_in", "n_modes_out", "expert_width", "expert_rank",
                    "expert_params", "log_n_experts")


# ---------------------------------------------------------------- small helpers

def eps_key(eps) -> str:
    """The short text naming an ε in file names and reports (shortest float repr)."""
    return repr(float(to_mpf(eps, "eps")))


def point_seed(seed: int, eps) -> int:
    """The seed of one ε point, a deterministic function of (seed, ε) (48 bits: exact in JSON)."""
    text = f"mono-verify:{int(seed)}:{eps_key(eps)}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:6], "little")


def n_probe_modes(n: int, target: Target) -> int:
    """Modes of the probe inputs: n + max(4, n), capped to what the reference grid resolves."""
    wanted = n + max(4, n)
    if target.spec.name == "norm_sq" and target.function is None:
        return wanted  # evaluated in coefficient space: no grid limit
    res = np.array(target.resolution)
    # the largest count whose modes all fit the grid (first_modes is a prefix order)
    count_fit = wanted
    while count_fit > n and (first_modes(target.box.d, count_fit).max(axis=0) >= res).any():
        count_fit -= 1
    return count_fit


def _json_int(value) -> int | str:
    """An exact int, as a JSON number when a double holds it exactly, else as a string."""
    value = int(value)
    return value if abs(value) < 2 ** 53 else str(value)


def _sizes_json(sizes: Sizes | None) -> dict | None:
    if sizes is None:
        return None
    return {k: _json_int(v) for k, v in sizes.as_dict().items()}


def _float(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _mp_text(value, digits: int = 20) -> str:
    return mpmath.nstr(mpmath.mpf(value), digits)


def _log10_int(value: int) -> float:
    with mpmath.workdps(30):
        return float(mpmath.log10(mpmath.mpf(int(value))))


def _check_int(value, name: str, minimum: int) -> int:
    require(isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= minimum,
            name, f"must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _default_target(problem: Problem) -> Target:
    spec = problem.target
    require(spec.name in TARGET_NAMES, "target",
            f"the custom target {spec.name!r} needs its evaluator: pass target=custom_target(...)")
    target = make_target(spec.name, spec.box, **spec.parameters)
    # the problem's spec may carry an overridden (claimed) modulus: keep it
    return replace(target, spec=spec)


def _check_target(problem: Problem, target) -> Target:
    if target is None:
        return _default_target(problem)
    require(isinstance(target, Target), "target",
            f"expected a mono.construct.targets.Target, got {type(target).__name__}")
    spec = problem.target
    require(target.spec.name == spec.name and target.kind == spec.kind and target.box == spec.box,
            "target", f"the evaluator ({target.spec.name}) does not match the problem's target "
                      f"({spec.name}) on the same box")
    return target


def _passes(measured: float, predicted: float, reference: float) -> bool:
    allowance = predicted * (1 + RELATIVE_SLACK) + REFERENCE_SLACK * reference + ABSOLUTE_SLACK
    return bool(measured <= allowance)


# ---------------------------------------------------------------- networks and sizes

def _expert_checks(model: search.ErrorModel, queries: np.ndarray) -> dict:
    """Build the experts answering ``queries`` (n_probe rows), count them, and apply each
    built NO to the queries' samples: its output must equal the batched MoNO's."""
    mono = model.mono
    a = np.clip(queries[:, :mono.n], -mono.grid.radii, mono.grid.radii)
    route = mono.route(a)
    A = mono.coefficients(a)
    samples = model.samples(queries)
    counted, predicted_each, network_diff = [], [], 0.0
    scale = max(1.0, float(np.abs(A).max()))
    for i in range(len(a)):
        if mono.granularity is None:
            op = mono.expert(route.cell[i], route.perm[i])
            predicted = mono.plan.expert
        else:
            op = mono.block_expert(route.block[i])
            _, cells = mono.block_cells(route.block[i])
            predicted = hat_network_sizes(mono.n, mono.M, tuple(int(x) for x in cells))
        counted.append(count(op))
        predicted_each.append(predicted)
        out = op(samples[i:i + 1])
        if model.functional:
            expected = np.full(out.shape, A[i, 0])
        else:
            expected = basis.sample(A[i:i + 1], mono.modes_out, out.shape[1:])
        network_diff = max(network_diff, float(np.abs(out - expected).max()))
    exact = all(c == p for c, p in zip(counted, predicted_each))
    largest = Sizes(*(max(getattr(c, f) for c in counted) for f in ("depth", "width", "rank", "params")))
    return {"counted": largest, "exact": exact, "n_built": len(counted),
            "network_max_diff": network_diff, "network_scale": scale}


def _baseline_checks(model: search.ErrorModel, queries: np.ndarray, budget_bytes: int | None) -> dict:
    """Build the baseline if it fits, count it and compare it with the MoNO on the queries."""
    mono = model.mono
    try:
        check_budget(mono.n, mono.M, mono.grid.cells, budget_bytes, "baseline")
    except BudgetError as exc:
        return {"built": False, "note": exc.detail, "counted": None, "max_diff": None}
    net = build_baseline(mono, budget_bytes=budget_bytes)
    counted = count(net)
    a = np.clip(queries[:, :mono.n], -mono.grid.radii, mono.grid.radii)
    A = mono.coefficients(a)
    width = max(1, counted.width)
    chunk = max(1, BASELINE_CHUNK_NUMBERS // width)
    diff = 0.0
    for start in range(0, len(a), chunk):
        out = net.forward_constant(a[start:start + chunk])
        diff = max(diff, float(np.abs(out - A[start:start + chunk]).max()))
    # the full network on the first query's samples (encoder and decoder included)
    u = model.samples(queries[:1])
    full = net(u)
    if model.functional:
        expected = np.full(full.shape, A[0, 0])
    else:
        expected = basis.sample(A[:1], mono.modes_out, full.shape[1:])
    diff = max(diff, float(np.abs(full - expected).max()))
    return {"built": True, "note": "", "counted": counted, "max_diff": diff,
            "scale": max(1.0, float(np.abs(A).max()))}


# ---------------------------------------------------------------- the result of one point

@dataclass(frozen=True, eq=False)
class PointResult:
    """Everything measured at one ε.  ``to_dict()`` is JSON-ready and deterministic.

    Attributes
    ----------
    eps : float
    key : str
        Short name of ε (file names).
    params : dict
        The parameters that determine the result (a resumed sweep reuses a point only
        when they match).
    data : dict
        The JSON-ready record (see :func:`verify_point`).
    worst_coefficients : ndarray (n_probe,)
    worst_samples : ndarray (*resolution)
        The worst input found, u and its samples on the reference grid.
    seconds : float
        Wall time (not part of ``to_dict``).
    """

    eps: float
    key: str
    params: dict
    data: dict
    worst_coefficients: np.ndarray
    worst_samples: np.ndarray
    seconds: float = field(default=0.0, compare=False)

    @property
    def passed(self) -> bool:
        return bool(self.data["passed"])

    @property
    def violations(self) -> list[str]:
        return list(self.data["violations"])

    def to_dict(self) -> dict:
        """The JSON-ready record (a deep copy; no timings)."""
        return json.loads(json.dumps(self.data))

    def save_worst_input(self, out) -> tuple[str, str]:
        """Write the worst input's samples and coefficients (.npy, atomically) under ``out``.

        Returns the two absolute paths.
        """
        paths = []
        for rel, array in ((self.data["worst_input"], self.worst_samples),
                           (self.data["worst_input_coefficients"], self.worst_coefficients)):
            path = os.path.join(os.fspath(out), rel)
            _atomic_npy(path, array)
            paths.append(path)
        return paths[0], paths[1]


def worst_input_paths(key: str) -> tuple[str, str]:
    """Relative paths (under the report folder) of a point's worst input: samples, coefficients."""
    return f"worst/eps_{key}_samples.npy", f"worst/eps_{key}_coefficients.npy"


def point_parameters(problem: Problem, eps, target: Target, *, granularity, budget: int, seed: int,
                     baseline: bool, baseline_budget: int | None) -> dict:
    """The fingerprint of one point: every input its result depends on (JSON-ready)."""
    spec = problem.target
    box = spec.box
    return {
        "format": FORMAT,
        "mono_version": mono.__version__,
        "target": spec.name,
        "description": spec.description,
        "kind": spec.kind,
        "target_params": {k: repr(float(v)) for k, v in spec.params},
        "d": int(box.d), "s": str(box.s), "r": str(box.r),
        "modulus": str(spec.modulus.expr),
        "t": None if spec.t is None else str(spec.t),
        "radius": None if spec.radius is None else _mp_text(spec.radius),
        "split": [_mp_text(x) for x in problem.split],
        "resolution": [int(g) for g in target.resolution],
        "eps": eps_key(eps),
        "eps_exact": _mp_text(to_mpf(eps, "eps"), 25),
        "granularity": granularity,
        "budget": int(budget),
        "seed": int(seed),
        "point_seed": point_seed(seed, eps),
        "baseline": bool(baseline),
        "baseline_budget": None if baseline_budget is None else int(baseline_budget),
    }


# ---------------------------------------------------------------- one point, step by step

@dataclass(frozen=True, eq=False)
class _Search:
    """What the search for the worst input found: the sampled pool and the best input."""

    pool: np.ndarray           # every sampled input, families in order (n_probe columns)
    worst: np.ndarray          # the input of largest error seen (n_probe,)
    sup: float                 # its error: the lower estimate of the sup over K
    source: str                # which stage found it
    sample_best: float         # the largest error among the samples alone
    evaluations: int           # inputs evaluated (samples and search probes)


def _error_model(problem: Problem, target: Target, mono_: MoNO) -> search.ErrorModel:
    """The error model of ``mono_`` over probes of ``n_probe_modes`` modes of the problem's box."""
    m = n_probe_modes(mono_.n, target)
    box = problem.box
    return search.ErrorModel(mono=mono_, target=target, rho=np.asarray(box.radii(m), dtype=float),
                             modes=first_modes(box.d, m))


def _search_worst(model: search.ErrorModel, budget: int, rng: np.random.Generator,
                  note: Callable[[str], None], progress: Callable[[str], None] | None) -> _Search:
    """Evaluate the sample families of K, then search adversarially from the best of them."""
    tracker = search.Tracker()
    pool, pool_errors = [], []
    for name, c in search.candidates(model, budget, rng).items():
        e = model.errors(c)
        tracker.offer(c, e, f"samples ({name})")
        pool.append(c)
        pool_errors.append(e)
    pool = np.concatenate(pool)
    pool_errors = np.concatenate(pool_errors)
    sample_best = tracker.value
    note("samples evaluated")
    if budget > 0:
        search.adversarial(model, tracker, search.starts(pool, pool_errors, budget), progress)
    return _Search(pool=pool, worst=tracker.coefficients, sup=tracker.value, source=tracker.source,
                   sample_best=sample_best, evaluations=tracker.evaluations)


def _measure_terms(model: search.ErrorModel, found: _Search) -> tuple[dict, float]:
    """The terms of Theorem E against their predictions, and the reference accuracy of G.

    Each term is measured at the worst input and over every sampled input (a term can
    peak elsewhere than the total); it passes when its largest value is within the
    prediction.  Returns the term records and the total error at the worst input.
    """
    at_worst = {k: float(v[0]) for k, v in search.terms(model, found.worst[None]).items()}
    over_pool = search.terms(model, found.pool)
    ref = search.reference_accuracy(model, found.worst)
    reference = max(ref.values())
    predicted = model.mono.plan.error_terms
    terms = {}
    for name in ("input_tail", "output_tail", "interpolation"):
        pred = float(getattr(predicted, name))
        largest = max(at_worst[name], float(over_pool[name].max()))
        terms[name] = {"measured": at_worst[name], "max_over_samples": largest, "predicted": pred,
                       "passed": _passes(largest, pred, reference)}
    ref_limit = REFERENCE_FRACTION * float(model.mono.plan.eps)
    terms["reference"] = {"measured": reference, "predicted": ref_limit,
                          "passed": bool(reference <= ref_limit), **ref}
    return terms, at_worst["total"]


def _check_experts(model: search.ErrorModel, found: _Search) -> dict:
    """The experts met (worst input and the first samples): exact closed-form sizes within
    the plan's (equal to it for simplex experts), networks equal to the batched MoNO."""
    experts = _expert_checks(model, np.concatenate([found.worst[None], found.pool[:SIZE_QUERIES]]))
    predicted = model.mono.plan.expert
    sizes_ok = experts["exact"] and all(
        getattr(experts["counted"], f) <= getattr(predicted, f) for f in ("depth", "width", "rank", "params"))
    if model.mono.granularity is None:
        sizes_ok = sizes_ok and experts["counted"] == predicted
    network_ok = experts["network_max_diff"] <= NETWORK_RTOL * experts["network_scale"]
    return {**experts, "predicted": predicted, "sizes_passed": sizes_ok, "network_passed": network_ok}


def _check_routing(mono_: MoNO, found: _Search) -> dict:
    """Route the pool and the worst input with counted comparisons: at most the planned depth."""
    radii = mono_.grid.radii
    mono_.route(np.clip(found.pool[:, :mono_.n], -radii, radii), counted=True)
    mono_.route(np.clip(found.worst[None, :mono_.n], -radii, radii), counted=True)
    used = mono_.accounting()["routing_depth_used"]
    return {"used": used, "passed": used is not None and used <= mono_.plan.routing_depth}


def _check_baseline(model: search.ErrorModel, found: _Search, baseline: bool,
                    baseline_budget: int | None) -> dict:
    """The baseline (when requested and within budget): closed-form sizes, equal to the MoNO."""
    plan_ = model.mono.plan
    base = {"built": False, "note": "not requested (--no-baseline)", "counted": None, "max_diff": None}
    if baseline:
        width = int(plan_.baseline.width)
        k = int(min(BASELINE_QUERIES, max(BASELINE_MIN_QUERIES, BASELINE_WORK // max(width, 1))))
        base = _baseline_checks(model, np.concatenate([found.worst[None], found.pool[:k - 1]]), baseline_budget)
    size_ok = (not base["built"]) or base["counted"] == plan_.baseline
    diff_ok = (not base["built"]) or base["max_diff"] <= BASELINE_RTOL * base["scale"]
    return {**base, "size_passed": size_ok, "diff_passed": diff_ok}


def _violations(key: str, plan_: Plan, found: _Search, terms: dict, experts: dict, routing: dict,
                base: dict) -> list[str]:
    """One line per failed check, in a fixed order."""
    eps_f, bound = float(plan_.eps), float(plan_.error_terms.total)
    reference = terms["reference"]["measured"]
    sup = found.sup
    sup_ok = _passes(sup, bound, reference) and _passes(sup, eps_f, reference)
    violations = []
    label = f"eps = {key}"
    if not sup_ok:
        violations.append(f"{label}: sup-error {sup:.6g} exceeds the bound of Theorem E "
                          f"{bound:.6g} (eps = {eps_f:.6g})")
    for name in ("input_tail", "output_tail", "interpolation"):
        if not terms[name]["passed"]:
            violations.append(f"{label}: {name.replace('_', ' ')} term measured "
                              f"{terms[name]['max_over_samples']:.6g} > predicted {terms[name]['predicted']:.6g}")
    if not terms["reference"]["passed"]:
        ref_limit = terms["reference"]["predicted"]
        violations.append(f"{label}: reference accuracy of G {reference:.3g} is not far below eps "
                          f"(limit {ref_limit:.3g} = {REFERENCE_FRACTION:g}·eps); refine the reference grid")
    if not experts["sizes_passed"]:
        violations.append(f"{label}: counted expert sizes {experts['counted'].as_dict()} differ from "
                          f"the closed form {experts['predicted'].as_dict()}")
    if not experts["network_passed"]:
        violations.append(f"{label}: the built expert network differs from the batched MoNO by "
                          f"{experts['network_max_diff']:.3g}")
    if not routing["passed"]:
        violations.append(f"{label}: routing used {routing['used']} comparisons > predicted depth "
                          f"{plan_.routing_depth}")
    if not base["size_passed"]:
        violations.append(f"{label}: counted baseline sizes {base['counted'].as_dict()} differ from the "
                          f"closed form {plan_.baseline.as_dict()}")
    if not base["diff_passed"]:
        violations.append(f"{label}: MoNO and baseline differ by {base['max_diff']:.3g} (not rounding level)")
    return violations


def _point_record(params: dict, model: search.ErrorModel, found: _Search, terms: dict, total_at_worst: float,
                  experts: dict, routing: dict, base: dict, violations: list[str]) -> dict:
    """The JSON-ready record of one point (see :func:`verify_point`)."""
    mono_ = model.mono
    p = mono_.plan
    key = params["eps"]
    samples_rel, coeffs_rel = worst_input_paths(key)
    data = {
        "eps": float(p.eps),
        "key": key,
        "seed": params["point_seed"],
        "n_modes_in": mono_.n,
        "n_modes_out": mono_.M,
        "n_probe": len(model.rho),
        "granularity": params["granularity"],
        "sup_error": found.sup,
        "bound": float(p.error_terms.total),
        "sup_source": found.source,
        "sup_error_samples": found.sample_best,
        "worst_input": samples_rel,
        "worst_input_coefficients": coeffs_rel,
        "terms": terms,
        "measured_total_at_worst": total_at_worst,
        "sizes": {
            "expert": {"counted": _sizes_json(experts["counted"]), "predicted": _sizes_json(p.expert),
                       "built": experts["n_built"], "passed": bool(experts["sizes_passed"])},
            "baseline": {"counted": _sizes_json(base["counted"]), "predicted": _sizes_json(p.baseline),
                         "passed": bool(base["size_passed"])},
        },
        "routing": {
            "depth_predicted": p.routing_depth,
            "depth_used": routing["used"],
            "storage": _json_int(p.routing_storage),
            "n_experts": _json_int(p.n_experts),
            "log10_n_experts": _log10_int(p.n_experts),
            "n_cells": _json_int(p.n_cells),
            "n_nodes": _json_int(p.n_nodes),
            "passed": bool(routing["passed"]),
        },
        "stored": {k: _json_int(v) for k, v in p.stored.items()},
        "baseline_built": bool(base["built"]),
        "baseline_note": base["note"],
        "mono_vs_baseline_max_diff": base["max_diff"],
        "checks": {
            "expert_network_max_diff": experts["network_max_diff"],
            "nodes_evaluated": int(mono_.table.evaluated),
            "error_evaluations": int(found.evaluations),
        },
        "violations": violations,
        "passed": not violations,
    }
    return json.loads(json.dumps(data))  # JSON-normal form: what a resumed run reads back


def verify_point(problem: Problem, eps, target: Target | None = None, *, granularity: int | None = None,
                 budget: int = DEFAULT_BUDGET, seed: int = DEFAULT_SEED, baseline: bool = True,
                 baseline_budget: int | None = DEFAULT_BASELINE_BUDGET, out=None,
                 progress: Callable[[str], None] | None = None) -> PointResult:
    """Measure the MoNO of the plan at ``eps`` against every bound of the plan.

    Parameters
    ----------
    problem : mono.bounds.plan.Problem
    eps : real > 0
    target : mono.construct.targets.Target, optional
        The evaluator of G (default: the registry evaluator of the problem's target,
        with the problem's — possibly overridden — modulus).
    granularity : int >= 1 or None
        None: simplex experts; b: block experts.
    budget : int >= 0
        Adversarial effort: 32·(1 + budget) samples per family (twice that uniformly in
        the box) and ``budget`` TNC starts (0: samples only).
    seed : int >= 0
        The sweep seed; the point's generator is seeded with ``point_seed(seed, eps)``.
    baseline : bool
        Build the single-NO baseline when it fits ``baseline_budget`` (bytes).
    out : path, optional
        Also save the worst input there (``worst/eps_<key>_samples.npy`` and
        ``..._coefficients.npy``).
    progress : callable(str), optional
        Called after each stage (for a progress bar).

    Returns
    -------
    PointResult
        ``data`` holds: eps, n, M, n_probe, sup_error, bound, sup_source, worst_input
        (relative path), terms ({input_tail, output_tail, interpolation, reference}:
        measured, predicted, passed), sizes ({expert, baseline}: counted, predicted,
        passed), routing, baseline_built, mono_vs_baseline_max_diff, checks, violations,
        passed.
    """
    require(isinstance(problem, Problem), "problem", f"must be a Problem, got {type(problem).__name__}")
    budget = _check_int(budget, "budget", 0)
    seed = _check_int(seed, "seed", 0)
    if baseline_budget is not None:
        baseline_budget = _check_int(baseline_budget, "baseline_budget", 1)
    target = _check_target(problem, target)
    started = time.perf_counter()
    note = progress or (lambda text: None)

    params = point_parameters(problem, eps, target, granularity=granularity, budget=budget, seed=seed,
                              baseline=baseline, baseline_budget=baseline_budget)
    mono_ = build_mono(problem, eps, target, granularity)
    model = _error_model(problem, target, mono_)
    rng = np.random.default_rng(params["point_seed"])
    note("plan and MoNO set up")

    found = _search_worst(model, budget, rng, note, progress)
    terms, total_at_worst = _measure_terms(model, found)
    note("terms measured")
    experts = _check_experts(model, found)
    routing = _check_routing(mono_, found)
    base = _check_baseline(model, found, baseline, baseline_budget)
    note("sizes counted")

    violations = _violations(params["eps"], mono_.plan, found, terms, experts, routing, base)
    data = _point_record(params, model, found, terms, total_at_worst, experts, routing, base, violations)
    result = PointResult(eps=float(mono_.plan.eps), key=params["eps"], params=params, data=data,
                         worst_coefficients=np.asarray(found.worst, dtype=float),
                         worst_samples=model.samples(found.worst[None])[0],
                         seconds=time.perf_counter() - started)
    if out is not None:
        result.save_worst_input(out)
    return result


# ---------------------------------------------------------------- files

def _atomic_write(path: str, write: Callable[[Any], None], mode: str = "w") -> None:
    """Write via a temporary file in the same folder, then ``os.replace`` (atomic)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, mode) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _atomic_npy(path: str, array: np.ndarray) -> None:
    _atomic_write(path, lambda h: np.save(h, np.asarray(array, dtype=float), allow_pickle=False), "wb")


def atomic_text(path: str, text: str) -> None:
    """Write a text file atomically (UTF-8)."""
    _atomic_write(path, lambda h: h.write(text.encode("utf-8")), "wb")


def _point_path(out: str, key: str) -> str:
    return os.path.join(out, "points", f"eps_{key}.json")


def _load_point(out: str, key: str, params: dict) -> dict | None:
    """A finished point whose parameters match (and whose worst input exists), else None."""
    path = _point_path(out, key)
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("params") != params:
        return None
    data = record.get("result")
    if not isinstance(data, dict):
        return None
    for rel in (data.get("worst_input"), data.get("worst_input_coefficients")):
        if not isinstance(rel, str) or not os.path.isfile(os.path.join(out, rel)):
            return None
    return record


def _save_point(out: str, result: PointResult) -> None:
    result.save_worst_input(out)
    record = {"params": result.params, "result": result.to_dict(), "seconds": result.seconds}
    atomic_text(_point_path(out, result.key), json.dumps(record, indent=1, sort_keys=False) + "\n")


def check_out(out) -> str:
    """The report folder, created if needed; InputError("--out") when it cannot be written."""
    out = os.fspath(out)
    require(not os.path.exists(out) or os.path.isdir(out), "--out", f"{out!r} exists and is not a directory")
    try:
        os.makedirs(os.path.join(out, "points"), exist_ok=True)
        os.makedirs(os.path.join(out, "worst"), exist_ok=True)
    except OSError as exc:
        raise InputError("--out", f"cannot create the report folder {out!r}: {exc.strerror or exc}") from None
    probe = os.path.join(out, "points")
    require(os.access(probe, os.W_OK) and os.access(out, os.W_OK), "--out",
            f"cannot write to {out!r} (permission denied)")
    return out


# ---------------------------------------------------------------- executors

class SynchronousExecutor(concurrent.futures.Executor):
    """Runs each submitted call at once, in the caller's thread (the default)."""

    def submit(self, fn, /, *args, **kwargs):
        future = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # delivered through the future, like any executor
            if isinstance(exc, KeyboardInterrupt):
                raise
            future.set_exception(exc)
        return future


def _run_point(problem, eps, target, options) -> PointResult:
    """The unit of work sent to an executor (module level: picklable)."""
    return verify_point(problem, eps, target, **options)


# ---------------------------------------------------------------- slopes and claims

def _quantity(point: dict, name: str):
    sizes = point["sizes"]["expert"]
    counted = sizes["counted"] or sizes["predicted"]
    if name == "n_modes_in":
        return point["n_modes_in"]
    if name == "n_modes_out":
        return point["n_modes_out"]
    if name == "log_n_experts":
        with mpmath.workdps(30):
            return float(mpmath.log(mpmath.mpf(int(point["routing"]["n_experts"]))))
    return int(counted[name.replace("expert_", "")])


def _fit(eps: Sequence[float], values: Sequence[float]) -> float | None:
    """Least-squares slope of log(value) against log(1/ε); None if undefined."""
    if len(set(eps)) < 2 or any(not (v > 0) for v in values):
        return None
    x = -np.log(np.asarray(eps, dtype=float))
    y = np.log(np.asarray(values, dtype=float))
    return float(np.polyfit(x, y, 1)[0])


def fit_slopes(problem: Problem, points: Sequence[dict]) -> dict:
    """Fitted log–log slopes of the measured quantities against 1/ε, with the predictions.

    For each quantity: ``fitted`` (from the counted sizes of the points), ``predicted``
    (the same fit on the leading-order expressions of :mod:`mono.bounds.rates` at the
    same ε: like for like), ``exponent`` (the asymptotic γ of Q ≍ ε^{−γ} log(1/ε)^λ)
    and ``log_power`` λ.  Predictions are None for a modulus without a power law.
    """
    eps = [p["eps"] for p in points]
    try:
        table = rates_module.rates(problem)
        predicted = rates_module.predicted_slopes(problem, eps) if len(set(eps)) >= 2 else {}
    except InputError:
        table, predicted = {}, {}
    out = {}
    # the measured error itself: it should fall like the bound (∝ ε, slope −1 against 1/ε)
    out["sup_error"] = {"fitted": _fit(eps, [p["sup_error"] for p in points]),
                        "predicted": _fit(eps, [p["bound"] for p in points]),
                        "exponent": -1.0, "log_power": 0.0}
    for name in SLOPE_QUANTITIES:
        values = [_quantity(p, name) for p in points]
        rate = table.get(name)
        pred = predicted.get(name)
        out[name] = {
            "fitted": _fit(eps, values),
            "predicted": None if pred is None or not math.isfinite(pred) else float(pred),
            "exponent": None if rate is None else _float(rate.exponent),
            "log_power": None if rate is None else _float(rate.log_power),
        }
    return out


def claim_records(problem: Problem, slopes: dict) -> list[dict]:
    """The paper's headline claims (bounds.rates.claims), with the fitted slopes beside the
    O(ε⁻¹) ones: where the claim is met for this problem, and what the sweep measured."""
    try:
        claims = rates_module.claims(problem)
    except InputError as exc:
        return [{"statement": "active expert width and rank are O(ε⁻¹)", "holds": None,
                 "condition": "needs a power-law modulus", "detail": str(exc)}]
    records = []
    for claim in claims:
        record = {"statement": claim.statement, "holds": bool(claim.holds),
                  "condition": claim.condition, "detail": claim.detail}
        for q in ("width", "rank"):
            if claim.statement == f"active expert {q} is O(ε⁻¹)":
                record["fitted_slope"] = slopes.get(f"expert_{q}", {}).get("fitted")
        records.append(record)
    return records


# ---------------------------------------------------------------- the sweep

def _problem_record(problem: Problem, target: Target) -> dict:
    spec = problem.target
    box = spec.box
    return {
        "target": spec.name,
        "description": spec.description,
        "kind": spec.kind,
        "params": {k: float(v) for k, v in spec.params},
        "d": int(box.d), "s": str(box.s), "r": str(box.r),
        "modulus": str(spec.modulus.expr),
        "t": None if spec.t is None else str(spec.t),
        "split": [_float(x) for x in problem.split],
        "resolution": [int(g) for g in target.resolution],
    }


def _check_eps_list(eps_list) -> list:
    try:
        items = list(eps_list)
    except TypeError:
        raise InputError("eps", f"expected a list of accuracies, got {eps_list!r}") from None
    require(len(items) >= 1, "eps", "the list of accuracies is empty; give at least one eps > 0")
    values = []
    for e in items:
        v = to_mpf(e, "eps")
        require(bool(mpmath.isfinite(v)) and v > 0, "eps", f"every eps must be a finite number > 0, got {e!r}")
        values.append(v)
    keys = [eps_key(v) for v in values]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    require(not dup, "eps", f"each eps may appear once; repeated: {', '.join(dup)}")
    # largest first: a deterministic order whatever order the user typed
    return [v for _, v in sorted(zip(keys, values), key=lambda kv: -kv[1])]


def verify(problem: Problem, eps_list: Sequence, target: Target | None = None, *,
           executor: concurrent.futures.Executor | None = None, out=None,
           granularity: int | None = None, budget: int = DEFAULT_BUDGET, seed: int = DEFAULT_SEED,
           baseline: bool = True, baseline_budget: int | None = DEFAULT_BASELINE_BUDGET,
           progress=None, write: bool = True) -> dict:
    """Verify every ε of a sweep and write the report.

    Parameters
    ----------
    problem, target, granularity, budget, seed, baseline, baseline_budget
        As for :func:`verify_point` (per-point seeds derive from (seed, ε)).
    eps_list : sequence of reals > 0
        Distinct accuracies (reported largest first).
    executor : concurrent.futures.Executor, optional
        Runs the independent points (e.g. a ProcessPoolExecutor or a Dask client's
        ``get_executor()``); default: in-process, synchronous.
    out : path, optional
        Report folder.  Each finished point goes to ``out/points/eps_<key>.json``
        (atomically) with its worst input under ``out/worst/``; a rerun with the same
        ``out`` reuses the points whose parameters match and recomputes the others.
        Then ``report.json``, ``report.md``, ``results.csv`` and the plots are written.
    progress : mono.construct.report.Progress, optional
        Receives ``start(total)``, ``step(text)`` and ``point_done(key, seconds, reused)``.
    write : bool
        Write report files (when ``out`` is given).

    Returns
    -------
    dict
        The report (what ``report.json`` holds) under ``"report"``, plus ``"timings"``
        (seconds per point, None when reused) and ``"reused"`` (keys of reused points).
    """
    require(isinstance(problem, Problem), "problem", f"must be a Problem, got {type(problem).__name__}")
    eps_values = _check_eps_list(eps_list)
    budget = _check_int(budget, "budget", 0)
    seed = _check_int(seed, "seed", 0)
    if baseline_budget is not None:
        baseline_budget = _check_int(baseline_budget, "baseline_budget", 1)
    target = _check_target(problem, target)
    if executor is not None:
        require(isinstance(executor, concurrent.futures.Executor), "executor",
                f"expected a concurrent.futures.Executor, got {type(executor).__name__}")
    if out is not None:
        out = check_out(out)
    # plans first: a bad ε (too many modes, ...) is refused before any work
    for e in eps_values:
        make_plan(problem, e, granularity)

    options = dict(granularity=granularity, budget=budget, seed=seed, baseline=baseline,
                   baseline_budget=baseline_budget)
    params = {eps_key(e): point_parameters(problem, e, target, **options) for e in eps_values}
    records: dict[str, dict] = {}
    timings: dict[str, float | None] = {}
    reused = []
    if out is not None:
        for e in eps_values:
            key = eps_key(e)
            record = _load_point(out, key, params[key])
            if record is not None:
                records[key] = record["result"]
                timings[key] = None
                reused.append(key)
    todo = [e for e in eps_values if eps_key(e) not in records]
    if progress is not None:
        progress.start(len(eps_values), done=len(reused))

    synchronous = executor is None
    runner = SynchronousExecutor() if synchronous else executor

    def stage_reporter(key: str):
        # stages are reported only in-process (a callback does not cross processes)
        if not synchronous or progress is None:
            return None
        return lambda text: progress.step(f"eps = {key}: {text}")
    def finished(key: str, result: PointResult) -> None:
        # written at once: an interruption after this loses nothing already computed
        if out is not None:
            _save_point(out, result)
        records[key] = result.to_dict()
        timings[key] = result.seconds
        if progress is not None:
            progress.point_done(key, result.seconds, result.passed)

    futures = {}
    try:
        for e in todo:
            future = runner.submit(_run_point, problem, e, target,
                                   dict(options, progress=stage_reporter(eps_key(e))))
            if synchronous:
                finished(eps_key(e), future.result())
            else:
                futures[future] = eps_key(e)
        for future in concurrent.futures.as_completed(futures):
            finished(futures[future], future.result())
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    if progress is not None:
        progress.finish()

    points = [records[eps_key(e)] for e in eps_values]
    report = build_report(problem, target, points, options)
    if out is not None and write:
        from mono.construct import report as report_module
        report_module.write_report(out, report, timings)
    return {"report": report, "timings": timings, "reused": reused}


def build_report(problem: Problem, target: Target, points: list[dict], options: dict) -> dict:
    """The JSON-ready report of a sweep (deterministic: no timings, no paths outside out)."""
    slopes = fit_slopes(problem, points)
    claims = claim_records(problem, slopes)
    violations = [v for p in points for v in p["violations"]]
    report = {
        "format": FORMAT,
        "mono_version": mono.__version__,
        "problem": _problem_record(problem, target),
        "settings": {
            "granularity": options["granularity"],
            "budget": options["budget"],
            "seed": options["seed"],
            "baseline": options["baseline"],
            "baseline_budget": options["baseline_budget"],
            "reference_fraction": REFERENCE_FRACTION,
        },
        "points": points,
        "slopes": slopes,
        "claims": claims,
        "violations": violations,
        "passed": not violations,
    }
    return json.loads(json.dumps(report))
