"""The plan for one accuracy ε: every parameter and count of Theorem E, exactly.

A :class:`Problem` is a target (which carries the compact set K and the modulus ω)
and the error split θ = (θ_in, θ_out, θ_int).  :func:`plan` turns it and ε into the
parameter choice of DESIGN.md §2,

    n = min{n ≥ 1 : ω(τ_in(n)) ≤ θ_in ε},   M = min{M : τ_out(M) ≤ θ_out ε},
    h = ω⁻¹(θ_int ε)/√n,   q_k = max(1, ⌈2ρ_k/h⌉),   h_k = 2ρ_k/q_k,

and into every count the constructions must reproduce (cells, nodes, simplices,
experts, routing depth/storage, closed-form sizes of the active expert and of the
baseline) plus the three error terms of Theorem E.  Counts are Python ints (they
reach 10^1000 and beyond without overflow), reals are mpmath mpf.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

import mpmath
import sympy
from mpmath import mpf

from mono.bounds.sizes import (
    Sizes,
    blocks_per_axis,
    hat_network_params_linear,
    hat_network_sizes,
    largest_block,
    routing_depth,
    routing_storage,
    simplex_expert_sizes,
)
from mono.errors import InputError, require

__all__ = ["Problem", "Plan", "ErrorTerms", "plan", "to_mpf", "DPS", "MAX_MODES"]

#: Working precision (decimal digits) of every real computed here.
DPS = 30

#: Largest number of input modes a plan may use.  The plan stores one radius and one
#: cell count per mode, so this bounds its memory; beyond it the request is refused
#: (naming ε) rather than left running for hours.
MAX_MODES = 200_000

#: Tolerance on Σθ = 1 (the split is then normalised to sum to 1 exactly).
SPLIT_TOLERANCE = 1e-12


def to_mpf(value: Any, parameter: str) -> mpf:
    """A user-supplied real as mpf, refusing what is not a real number.

    Accepts Python ints/floats, Fractions, mpf, numpy and sympy numbers (±inf and NaN
    come through as mpf, for the caller to refuse with its own range).  Strings are
    refused on purpose: text goes through ``mono.bounds.expr.parse_number`` first.
    """
    if isinstance(value, (bool, str, bytes)):
        raise InputError(parameter, f"must be a real number, got {value!r}")
    with mpmath.workdps(DPS):
        if isinstance(value, mpf):
            return +value
        if isinstance(value, Fraction):
            return mpf(value.numerator) / value.denominator
        if isinstance(value, numbers.Integral):
            return mpf(int(value))
        if isinstance(value, numbers.Real):
            return mpf(float(value))
        if isinstance(value, sympy.Basic) and value.is_number:
            if value.is_infinite and value.is_extended_real:
                return mpf("inf") if value.is_extended_positive else mpf("-inf")
            if value is sympy.nan:
                return mpf("nan")
            ev = sympy.N(value, DPS + 5)
            if ev.is_real and ev.is_Number:
                # sympy Floats are mpmath numbers underneath: no decimal round trip
                return mpf(ev._mpf_) if isinstance(ev, sympy.Float) else mpf(str(ev))
    raise InputError(parameter, f"must be a real number, got {value!r}")


def _check_split(split) -> tuple[mpf, mpf, mpf]:
    try:
        parts = tuple(split)
    except TypeError:
        raise InputError("split", f"must be three numbers θ_in, θ_out, θ_int, got {split!r}") from None
    require(len(parts) == 3, "split", f"must be three numbers θ_in, θ_out, θ_int, got {len(parts)}")
    values = tuple(to_mpf(p, "split") for p in parts)
    require(all(mpmath.isfinite(v) and v > 0 for v in values), "split",
            f"every share must be finite and > 0, got {tuple(float(v) for v in values)}")
    with mpmath.workdps(DPS):
        total = mpmath.fsum(values)
        require(abs(total - 1) <= SPLIT_TOLERANCE, "split",
                f"the shares must sum to 1 (within {SPLIT_TOLERANCE:g}), they sum to {mpmath.nstr(total, 15)}")
        # normalise so that θ_in ε + θ_out ε + θ_int ε = ε holds to working precision
        a, b = values[0] / total, values[1] / total
        return (a, b, 1 - a - b)


@dataclass(frozen=True)
class Problem:
    """A target and how the error budget ε is split between the three terms.

    Parameters
    ----------
    target : mono.bounds.targets.TargetSpec
        Carries the box K(s, r) (``target.box``), the modulus ω, the output tail.
    split : tuple of three reals
        (θ_in, θ_out, θ_int): each > 0, summing to 1 within 1e-12; stored normalised
        (mpf, exact sum 1).
    """

    target: Any
    split: tuple = (Fraction(1, 3), Fraction(1, 3), Fraction(1, 3))

    def __post_init__(self):
        for attr in ("box", "modulus", "n_modes_out", "output_tail"):
            require(hasattr(self.target, attr), "target",
                    f"must be a TargetSpec (from mono.bounds.targets), got {type(self.target).__name__}")
        object.__setattr__(self, "split", _check_split(self.split))

    @property
    def box(self):
        """The compact set K(s, r) of the target."""
        return self.target.box

    @property
    def modulus(self):
        return self.target.modulus


@dataclass(frozen=True)
class ErrorTerms:
    """The three terms of Theorem E at a plan and their sum (all mpf)."""

    input_tail: mpf
    output_tail: mpf
    interpolation: mpf
    total: mpf

    def as_dict(self) -> dict:
        return {
            "input_tail": self.input_tail,
            "output_tail": self.output_tail,
            "interpolation": self.interpolation,
            "total": self.total,
        }


@dataclass(frozen=True)
class Plan:
    """Every parameter and count of the construction for one ε (see :func:`plan`).

    Counts are Python ints, reals mpf.  ``granularity`` None means simplex experts;
    an int b means block experts of b cells per axis (``expert`` is then the largest
    block expert).  ``stored`` holds the total stored numbers of the three ways of
    storing the approximant: ``node_table`` (the MoNO: node values plus routing
    thresholds), ``explicit_experts`` (every expert's weights written out) and
    ``baseline`` (the single NO).
    """

    problem: Problem
    eps: mpf
    granularity: int | None
    shares: tuple  # (θ_in ε, θ_out ε, θ_int ε)
    n_modes_in: int
    n_modes_out: int
    mesh: mpf
    radii: tuple
    cells_per_axis: tuple
    spacings: tuple
    n_cells: int
    n_nodes: int
    n_simplices: int
    n_experts: int
    routing_depth: int
    routing_storage: int
    error_terms: ErrorTerms
    expert: Sizes
    baseline: Sizes
    stored: dict = field(default_factory=dict)

    @property
    def n_blocks_per_axis(self) -> tuple:
        """Experts per axis for block experts; (1, …) would be the baseline."""
        if self.granularity is None:
            return tuple(self.cells_per_axis)
        return blocks_per_axis(self.cells_per_axis, self.granularity)


# ---------------------------------------------------------------- cached pieces
# The tails are sums over infinitely many modes; a table over many ε (or over many
# granularities at one ε) asks for the same ones again, so they are memoised on the
# (hashable, frozen) box and the threshold.

@lru_cache(maxsize=4096)
def _n_for_tail(box, tau: mpf, max_n: int) -> int:
    return int(box.n_for_tail(tau, max_n))


@lru_cache(maxsize=4096)
def _tail(box, n: int) -> mpf:
    return box.tail(n)


@lru_cache(maxsize=16)  # a tuple per n: keep few, they can hold 10^5 numbers
def _radii(box, n: int) -> tuple:
    # box.radii is float64 (for numpy); the plan needs ρ_k to working precision, so
    # each distinct level |k|² is evaluated once with box.radius (exact mpf)
    modes = box.modes(n)
    by_level = {}
    out = []
    for k in modes:
        level = int(sum(int(v) * int(v) for v in k))
        if level not in by_level:
            by_level[level] = mpf(box.radius(tuple(int(v) for v in k)))
        out.append(by_level[level])
    return tuple(out)


def _cached(function, *args):
    try:
        return function(*args)
    except TypeError:  # an unhashable box: compute without the cache
        return function.__wrapped__(*args)


def _n_modes_out(target, share: mpf) -> int:
    return int(target.n_modes_out(share))


# ---------------------------------------------------------------- the plan

def _check_eps(eps) -> mpf:
    value = to_mpf(eps, "eps")
    require(bool(mpmath.isfinite(value)) and value > 0, "eps",
            f"must be a finite real > 0, got {eps!r}")
    return value


def _check_granularity(granularity) -> int | None:
    if granularity is None:
        return None
    if isinstance(granularity, bool) or not isinstance(granularity, numbers.Integral):
        raise InputError("granularity", f"must be an integer >= 1 (cells per block and axis) or None, got {granularity!r}")
    granularity = int(granularity)
    if granularity < 1:
        raise InputError("granularity", f"must be an integer >= 1 (cells per block and axis), got {granularity}")
    return granularity


def _cells(radii: tuple, h: mpf) -> tuple[int, ...]:
    """q_k = max(1, ⌈2ρ_k/h⌉), exactly as integers (h = inf gives 1 cell)."""
    if mpmath.isinf(h):
        return (1,) * len(radii)
    cells = []
    for rho in radii:
        q = int(mpmath.ceil(2 * rho / h))
        # h_k = 2ρ_k/q_k <= h is what the error bound uses; a ratio that rounded to
        # just below an integer would break it, so the inequality is checked directly
        while q * h < 2 * rho:
            q += 1
        cells.append(max(1, q))
    return tuple(cells)


def plan(problem: Problem, eps, granularity: int | None = None, *, max_modes: int = MAX_MODES) -> Plan:
    """Parameters and exact counts of the MoNO for accuracy ``eps``.

    Parameters
    ----------
    problem : Problem
    eps : real > 0
        Target accuracy in sup_K ‖G − A‖.
    granularity : int >= 1 or None
        None: simplex experts (one per Kuhn simplex).  b: block experts, each the
        hat network on a block of b cells per axis; b >= max q_k is the baseline.
    max_modes : int
        Refuse (InputError "eps") if more input modes than this are needed.

    Returns
    -------
    Plan
        With ``error_terms.total <= eps`` (Theorem E) and every count exact.
    """
    require(isinstance(problem, Problem), "problem", f"must be a Problem, got {type(problem).__name__}")
    eps_value = _check_eps(eps)
    b = _check_granularity(granularity)
    box, omega, target = problem.box, problem.modulus, problem.target

    with mpmath.workdps(DPS):
        th_in, th_out, th_int = problem.split
        shares = (th_in * eps_value, th_out * eps_value, th_int * eps_value)

        # n: ω(τ_in(n)) <= θ_in ε  ⟺  τ_in(n) <= ω⁻¹(θ_in ε) (ω non-decreasing)
        tau_in = mpf(omega.inverse(shares[0]))
        try:
            n = _cached(_n_for_tail, box, tau_in, int(max_modes))
        except InputError as exc:
            detail = str(exc)[len(exc.parameter) + 2:]
            raise InputError("eps", f"eps = {mpmath.nstr(eps_value, 6)} needs more than {max_modes} "
                                    f"input modes ({detail})") from None
        M = _n_modes_out(target, shares[1])

        radii = _cached(_radii, box, n)
        h = mpf(omega.inverse(shares[2])) / mpmath.sqrt(n)
        cells = _cells(radii, h)
        spacings = tuple(2 * rho / q for rho, q in zip(radii, cells))

        input_tail = mpf(omega(_cached(_tail, box, n)))
        output_tail = mpf(target.output_tail(M))
        interpolation = mpf(omega(mpmath.sqrt(mpmath.fsum(hk * hk for hk in spacings))))
        errors = ErrorTerms(input_tail, output_tail, interpolation,
                            mpmath.fsum([input_tail, output_tail, interpolation]))

    n_cells = math.prod(cells)
    n_nodes = math.prod(q + 1 for q in cells)
    n_simplices = n_cells * math.factorial(n)
    baseline = hat_network_sizes(n, M, cells)
    r_depth = routing_depth(cells, n, b)
    r_store = routing_storage(cells, b)

    if b is None:
        n_experts = n_simplices
        expert = simplex_expert_sizes(n, M)
        explicit = n_experts * expert.params
    else:
        per_axis = blocks_per_axis(cells, b)
        n_experts = math.prod(per_axis)
        expert = hat_network_sizes(n, M, largest_block(cells, b))
        A, B = hat_network_params_linear(n, M)
        # Σ over blocks of N_block factorises: along axis k the blocks have
        # m + 1 nodes each, and Σ_blocks (m + 1) = q_k + ⌈q_k/b⌉
        explicit = n_experts * A + B * math.prod(q + nb for q, nb in zip(cells, per_axis))

    stored = {
        "node_table": n_nodes * M + r_store,
        "explicit_experts": explicit,
        "baseline": baseline.params,
    }
    return Plan(
        problem=problem,
        eps=eps_value,
        granularity=b,
        shares=shares,
        n_modes_in=n,
        n_modes_out=M,
        mesh=h,
        radii=radii,
        cells_per_axis=cells,
        spacings=spacings,
        n_cells=n_cells,
        n_nodes=n_nodes,
        n_simplices=n_simplices,
        n_experts=n_experts,
        routing_depth=r_depth,
        routing_storage=r_store,
        error_terms=errors,
        expert=expert,
        baseline=baseline,
        stored=stored,
    )
