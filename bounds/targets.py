"""What the bounds need to know about a target G : K → L²(Ω) or G : K → ℝ.

A :class:`TargetSpec` carries the target's modulus of continuity ω on K, its output
regularity t and a radius R with sup_K ‖G(u)‖_{H^t} ≤ R (or an exact output tail), and
from them the output tail τ_out(M) = sup_K ‖G(u) − P_{J_M} G(u)‖ and the smallest M
reaching a given tail.  Every constant is proved in the theory document (section
"Targets"); the evaluators themselves live in :mod:`mono.construct.targets`.

Registry (DESIGN.md §6):

============== ====== ======================= ============ ===================================
name           d      ω                       t            R (U² = sup_K ‖u‖² = Σ ρ_k²)
============== ====== ======================= ============ ===================================
heat           1, 2   t                       ∞ (exact)    exact tail Σ_{k∉J_M} e^{−2Tλ_k} ρ_k²
antiderivative 1      t/√2                    1            (3/2 · U²)^{1/2}
sin            1, 2   t                       1            (1 + Σ λ_k ρ_k²)^{1/2}, s > 1 + d/2
ode            1      ((1+e^{−2})/4)^{1/2} t  1            ((5 + e^{−2})/4 · U²)^{1/2}
abs_power      1, 2   t^α                     — (value)    U^α  (bound on |G|)
norm_sq        1, 2   diam K · t              — (value)    U²   (bound on |G|)
============== ====== ======================= ============ ===================================
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import mpmath
import numpy as np
import sympy

from mono.bounds.expr import parse_number
from mono.bounds.modulus import Modulus
from mono.bounds.space import SobolevBox, SobolevWeight, mode_tail_sum
from mono.errors import InputError, require

KINDS = ("operator", "functional")

#: Largest |k|² whose lattice count n_modes_out will compute exactly in d = 2
#: (the count is a sum of about √m integer square roots).
MAX_COUNT_LEVEL = 10 ** 12

_DPS = 30


# --- exact mode counting -----------------------------------------------------------------

def count_modes_at_most(d: int, m: int) -> int:
    """#{k ∈ ℕ₀^d : |k|² ≤ m}, exactly (0 for m < 0).

    In d = 2 the count is Σ_{k1 ≤ √m} (⌊√(m − k1²)⌋ + 1), evaluated with int64
    arithmetic and an exact integer correction of the floating square roots.
    """
    m = int(m)
    if m < 0:
        return 0
    if d == 1:
        return math.isqrt(m) + 1
    require(d == 2, "d", f"must be 1 or 2, got {d}")
    require(m <= MAX_COUNT_LEVEL, "eps",
            f"the output needs modes with |k|² up to {m}, beyond the exact counting limit "
            f"{MAX_COUNT_LEVEL}; use a larger eps")
    k1 = np.arange(math.isqrt(m) + 1, dtype=np.int64)
    rest = m - k1 * k1
    root = np.floor(np.sqrt(rest.astype(float))).astype(np.int64)
    # float sqrt is within one unit here (rest < 2^53); make ⌊√rest⌋ exact
    root -= (root * root > rest).astype(np.int64)
    root += ((root + 1) * (root + 1) <= rest).astype(np.int64)
    return int((root + 1).sum(dtype=np.int64))


def mode_level(d: int, index: int) -> int:
    """|k|² of the mode at position ``index`` (0-based) of the mode order of ``first_modes``.

    Found without listing the modes: the smallest m with ``count_modes_at_most(d, m) > index``.
    """
    index = int(index)
    require(index >= 0, "M", f"mode index must be >= 0, got {index}")
    if d == 1:
        return index * index
    lo, hi = 0, 1
    while count_modes_at_most(d, hi) <= index:
        lo, hi = hi, 2 * hi
    while lo < hi:  # smallest m in [lo, hi] with count > index
        mid = (lo + hi) // 2
        if count_modes_at_most(d, mid) > index:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _to_mpf(value) -> mpmath.mpf:
    """A sympy number, Fraction, float, int or mpf as an mpf at the working precision."""
    if isinstance(value, mpmath.mpf):
        return value
    if isinstance(value, Fraction):
        return mpmath.mpf(value.numerator) / value.denominator
    if isinstance(value, sympy.Basic):
        if value == sympy.oo:
            return mpmath.inf
        return mpmath.mpf(sympy.Float(value.evalf(_DPS + 10), _DPS + 10)._mpf_)
    return mpmath.mpf(value)


# --- the specification ---------------------------------------------------------------------

@dataclass(frozen=True)
class TargetSpec:
    """A target's modulus, output regularity and output radius (or exact output tail).

    Attributes
    ----------
    name : str
        Registry name (or the user's name for a custom target).
    kind : str
        ``"operator"`` (output a function) or ``"functional"`` (output a number).
    box : SobolevBox
        The compact set K on which the constants hold.
    params : tuple of (str, float)
        The target's parameters, sorted by name.
    modulus : Modulus
        ω with ‖G(u) − G(v)‖ ≤ ω(‖u − v‖) for u, v ∈ K (L² norms; |·| for functionals).
    t : sympy.Expr or None
        Output Sobolev regularity; ``sympy.oo`` when an exact tail decays faster than any
        power (heat); ``None`` for functionals.
    radius : mpmath.mpf or None
        Operators: R with sup_K ‖G(u)‖_{H^t} ≤ R (``None`` when an exact tail is used).
        Functionals: a bound on sup_K |G(u)| (not needed by the bounds, offered for
        plots and tests).
    description : str
        One line for tables and the command line.
    """

    name: str
    kind: str
    box: SobolevBox
    params: tuple[tuple[str, float], ...]
    modulus: Modulus
    t: sympy.Expr | None
    radius: mpmath.mpf | None
    description: str
    # τ_out(M)² for targets with an exact tail; a function of (box, params, M)
    _exact_tail_sq: Callable | None = field(default=None, compare=False, repr=False)

    @property
    def parameters(self) -> dict[str, float]:
        """The parameters as a dict."""
        return dict(self.params)

    @property
    def has_exact_tail(self) -> bool:
        """True when τ_out is an exact sum rather than R / w_{k_M}(t)."""
        return self._exact_tail_sq is not None

    def output_tail(self, M: int) -> mpmath.mpf:
        """τ_out(M) = sup_{u ∈ K} ‖G(u) − P_{J_M} G(u)‖ (an upper bound; 0 for functionals).

        Without an exact tail: R / min_{k ∉ J_M} w_k(t) = R (1 + π²|k_M|²)^{-t/2}, where
        k_M is the first mode not in J_M (mode orders are sorted by |k|²).
        """
        M = _check_count(M, "M")
        if self.kind == "functional":
            return mpmath.mpf(0)
        with mpmath.workdps(_DPS):
            if self._exact_tail_sq is not None:
                return mpmath.sqrt(self._exact_tail_sq(self.box, self.parameters, M))
            return self._power_tail(mode_level(self.box.d, M))

    def _power_tail(self, level: int) -> mpmath.mpf:
        """R (1 + π² level)^{-t/2}: the tail when the first omitted mode has |k|² = level."""
        t = _to_mpf(self.t)
        return +(self.radius * (1 + mpmath.pi ** 2 * level) ** (-t / 2))

    def n_modes_out(self, tau) -> int:
        """Smallest M >= 1 with ``output_tail(M) <= tau`` (1 for functionals)."""
        tau = _check_positive(tau, "tau")
        if self.kind == "functional":
            return 1
        with mpmath.workdps(_DPS):
            if self._exact_tail_sq is not None:
                return _smallest(lambda M: self.output_tail(M) <= tau)
            if self.radius <= tau:
                return 1
            # smallest integer level m with R (1 + π² m)^{-t/2} <= tau, then the number of
            # modes below that level; the defining inequality decides at the boundary
            t = _to_mpf(self.t)
            guess = ((self.radius / tau) ** (2 / t) - 1) / mpmath.pi ** 2
            require(mpmath.isfinite(guess) and guess < 10 ** 30, "eps",
                    f"an output tail {mpmath.nstr(tau, 5)} needs modes beyond |k|² = 1e30")
            level = max(0, int(mpmath.ceil(guess)))
            while level > 0 and self._power_tail(level - 1) <= tau:
                level -= 1
            while self._power_tail(level) > tau:
                level += 1
            return max(1, count_modes_at_most(self.box.d, level - 1))


def _smallest(ok: Callable[[int], bool]) -> int:
    """Smallest M >= 1 with ok(M), for ok monotone in M (doubling, then bisection)."""
    hi = 1
    while not ok(hi):
        hi *= 2
        require(hi <= 2 ** 40, "eps", "no number of output modes reaches this tail")
    lo = hi // 2 + 1 if hi > 1 else 1
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _check_count(M, name: str) -> int:
    require(isinstance(M, (int, np.integer)) and not isinstance(M, bool) and M >= 1, name,
            f"must be an integer >= 1, got {M!r}")
    return int(M)


def _check_positive(value, name: str) -> mpmath.mpf:
    try:
        x = _to_mpf(value)
    except (TypeError, ValueError):
        raise InputError(name, f"must be a positive number, got {value!r}") from None
    require(mpmath.isfinite(x) and x > 0, name, f"must be a positive finite number, got {value!r}")
    return x


# --- the registry ----------------------------------------------------------------------------

def _heat_tail_sq(box: SobolevBox, params: dict, M: int) -> mpmath.mpf:
    return _heat_tail_sq_cached(box, params["T"], M)


@functools.lru_cache(maxsize=4096)
def _heat_tail_sq_cached(box: SobolevBox, T: float, M: int) -> mpmath.mpf:
    # Σ_{k ∉ J_M} e^{−2Tλ_k} ρ_k², ρ_k² = r² (1 + π²|k|²)^{−s}: decreasing in |k|²
    # (cached: the 2-D sums take a fraction of a second and n_modes_out bisects on M)
    # SobolevWeight lets mode_tail_sum use its closed-form row sums (5-8x faster in d = 2)
    weight = SobolevWeight(box.s, scale=_to_mpf(box.r) ** 2,
                           decay=2 * mpmath.mpf(T) * mpmath.pi ** 2)
    return mode_tail_sum(box.d, weight, M)


def _heat(box, p, exact):
    return dict(kind="operator", modulus=Modulus.lipschitz(1), t=sympy.oo, radius=None,
                exact_tail=_heat_tail_sq,
                description=f"heat semigroup e^(TΔ) (Neumann), T = {p['T']:g}")


def _antiderivative(box, p, exact):
    with mpmath.workdps(_DPS):
        R = mpmath.sqrt(mpmath.mpf(3) / 2 * box.total_sq())
    return dict(kind="operator", modulus=Modulus.lipschitz(1 / sympy.sqrt(2)), t=sympy.Integer(1),
                radius=R, description="antiderivative x ↦ ∫_0^x u")


def _sin(box, p, exact):
    with mpmath.workdps(_DPS):
        try:
            R = mpmath.sqrt(1 + box.grad_sq())
        except InputError:
            raise InputError("s", f"the sin target needs s > 1 + d/2 = {1 + box.d / 2:g} "
                                  f"(sup_K ‖∇u‖ is infinite otherwise, so no H¹ radius), "
                                  f"got s = {box.s}") from None
    return dict(kind="operator", modulus=Modulus.lipschitz(1), t=sympy.Integer(1), radius=R,
                description="pointwise sin(u)")


#: Lipschitz constant of the ODE solution operator, and the H¹ factor (5 + e^{−2})/4 = 1 + L².
ODE_LIPSCHITZ = sympy.sqrt((1 + sympy.exp(-2)) / 4)


def _ode(box, p, exact):
    with mpmath.workdps(_DPS):
        R = mpmath.sqrt((5 + mpmath.exp(-2)) / 4 * box.total_sq())
    return dict(kind="operator", modulus=Modulus.lipschitz(ODE_LIPSCHITZ), t=sympy.Integer(1),
                radius=R, description="solution of y' = −y − y³ + u, y(0) = 0 on [0, 1]")


def _abs_power(box, p, exact):
    alpha = p["alpha"]
    with mpmath.workdps(_DPS):
        bound = box.total_sq() ** (mpmath.mpf(alpha) / 2)
    return dict(kind="functional", modulus=Modulus.holder(1, exact["alpha"]), t=None,
                radius=bound, description=f"functional ∫|u|^α, α = {alpha:g}")


def _norm_sq(box, p, exact):
    with mpmath.workdps(_DPS):
        diam = box.diameter()
        bound = box.total_sq()
    L = sympy.Float(mpmath.nstr(diam, _DPS), _DPS)
    return dict(kind="functional", modulus=Modulus.lipschitz(L), t=None, radius=bound,
                description="functional ‖u‖² (Lipschitz constant diam K)")


# name -> (builder, supported d, {param: (default, description, check, accepted range)})
_REGISTRY = {
    "heat": (_heat, (1, 2), {"T": (0.05, "time of the heat flow", lambda x: x > 0, "T > 0")}),
    "antiderivative": (_antiderivative, (1,), {}),
    "sin": (_sin, (1, 2), {}),
    "ode": (_ode, (1,), {}),
    "abs_power": (_abs_power, (1, 2),
                  {"alpha": (0.5, "exponent α of ∫|u|^α", lambda x: 0 < x <= 1, "0 < alpha <= 1")}),
    "norm_sq": (_norm_sq, (1, 2), {}),
}

TARGET_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def _check_name(name) -> str:
    require(name in _REGISTRY, "target",
            f"unknown target {name!r}; choose one of {', '.join(TARGET_NAMES)}")
    return name


def target_parameters(name: str) -> dict[str, tuple[float, str]]:
    """The parameters of a registered target: ``{name: (default, description)}``."""
    _, _, params = _REGISTRY[_check_name(name)]
    return {key: (default, text) for key, (default, text, _, _) in params.items()}


def _parameter_value(key: str, value, check, accepted: str) -> tuple[float, sympy.Expr]:
    """(float value, exact sympy value) of a parameter given as a number or safe text."""
    if isinstance(value, bool):
        raise InputError(key, f"must be a number with {accepted}, got {value!r}")
    if isinstance(value, (str, sympy.Basic)):
        exact = parse_number(value, key)
    else:
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise InputError(key, f"must be a number with {accepted}, got {value!r}") from None
        require(math.isfinite(x), key, f"must satisfy {accepted}, got {value!r}")
        # a float is taken at its shortest decimal repr (0.3 → 3/10)
        exact = sympy.Integer(value) if isinstance(value, (int, np.integer)) else sympy.Rational(repr(x))
    x = float(exact)
    require(math.isfinite(x) and check(x), key, f"must satisfy {accepted}, got {value!r}")
    return x, exact


def target_spec(name: str, box: SobolevBox, **params) -> TargetSpec:
    """The specification of a registered target on the compact set ``box``.

    Raises
    ------
    InputError
        Unknown target or parameter, a parameter out of range, a dimension the target
        does not support, or (sin) a box whose H¹ radius is infinite.
    """
    builder, dims, known = _REGISTRY[_check_name(name)]
    require(isinstance(box, SobolevBox), "box", f"expected a SobolevBox, got {type(box).__name__}")
    require(box.d in dims, "d",
            f"the {name} target is defined for d in {{{', '.join(map(str, dims))}}}, got d = {box.d}")
    for key in params:
        require(key in known, key,
                f"unknown parameter of the {name} target; accepted: "
                f"{', '.join(known) if known else 'none'}")
    parsed = {key: _parameter_value(key, params.get(key, default), check, accepted)
              for key, (default, _, check, accepted) in known.items()}
    values = {key: x for key, (x, _) in parsed.items()}
    parts = builder(box, values, {key: exact for key, (_, exact) in parsed.items()})
    return TargetSpec(name=name, kind=parts["kind"], box=box, params=tuple(sorted(values.items())),
                      modulus=parts["modulus"], t=parts["t"], radius=parts["radius"],
                      description=parts["description"], _exact_tail_sq=parts.get("exact_tail"))


def custom_target_spec(box: SobolevBox, modulus, radius, t=1, kind: str = "operator",
                       name: str = "custom") -> TargetSpec:
    """The specification of a user's target from its modulus, radius and regularity.

    Parameters
    ----------
    box : SobolevBox
    modulus : Modulus or str
        ω on K; a string is parsed with :meth:`Modulus.parse`.
    radius : number or str
        Operators: R with sup_K ‖G(u)‖_{H^t} <= R.  Functionals: a bound on sup_K |G(u)|.
    t : number or str
        Output regularity t > 0 (ignored for functionals).
    kind : {"operator", "functional"}
    name : str
    """
    require(isinstance(box, SobolevBox), "box", f"expected a SobolevBox, got {type(box).__name__}")
    require(kind in KINDS, "kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    require(isinstance(name, str) and name.strip() != "", "name", "must be a non-empty string")
    if isinstance(modulus, str):
        modulus = Modulus.parse(modulus)
    require(isinstance(modulus, Modulus), "modulus",
            f"expected a Modulus or an expression in t, got {type(modulus).__name__}")
    R = parse_number(radius, "radius")
    require(R.is_finite and bool(R > 0), "radius", f"must be a positive finite number, got {radius!r}")
    with mpmath.workdps(_DPS):
        R = _to_mpf(R)
    if kind == "functional":
        t_expr = None
    else:
        t_expr = parse_number(t, "t")
        require(t_expr.is_finite and bool(t_expr > 0), "t",
                f"must be a positive finite number, got {t!r}")
    return TargetSpec(name=name, kind=kind, box=box, params=(), modulus=modulus, t=t_expr,
                      radius=R, description=f"custom target {name}")
