"""Moduli of continuity ω and their generalised inverses.

A target G : K → L² carries ω with ‖G(u) − G(v)‖ ≤ ω(‖u − v‖).  Theorem E uses ω at
three radii and the parameter choice uses the generalised inverse
ω⁻¹(y) = sup{t ≥ 0 : ω(t) ≤ y}.  Both are needed as certified numbers: the library
promises sup_K ‖G − A‖ ≤ ε, so a step size h computed from ω⁻¹ must really satisfy
ω(h√n) ≤ θ ε in the arithmetic that later checks it.  :meth:`Modulus.inverse`
therefore returns a value x with ``self(x) <= y`` *as computed by* :meth:`__call__`.

Evaluation does not use ``sympy.lambdify`` for mpmath: a modulus such as
``exp(exp(t))`` would make mpmath compute ``exp(10^434294)`` at large t, which takes
forever.  The expression tree is compiled into a small closure whose exponential-type
operations return ±inf / 0 once their argument exceeds 1e300 in size (far beyond any
value a bound can use) instead of attempting the computation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from numbers import Integral

import mpmath
import numpy as np
import sympy

from mono.bounds.expr import parse_expression, parse_number
from mono.errors import InputError, require

#: the argument of every modulus (the distance ‖u − v‖)
t = sympy.Symbol("t", nonnegative=True)
#: the argument of inverse moduli (an error level)
y = sympy.Symbol("y", positive=True)

KINDS = ("lipschitz", "holder", "custom")
EVAL_DPS = 40          # working precision of ω(x) and of ω⁻¹ (deterministic, not ambient)
_ARG_CAP = mpmath.mpf("1e300")
_MONOTONE_SLACK = mpmath.mpf("1e-25")   # relative rounding allowance in the sample checks


# ----------------------------------------------------------------------------------
# guarded evaluation of a sympy tree
# ----------------------------------------------------------------------------------
_NAN = mpmath.mpf("nan")
_INF = mpmath.mpf("inf")


def _mp_pow(a, b):
    if mpmath.isnan(a) or mpmath.isnan(b):
        return _NAN
    if a == 0:
        return mpmath.mpf(0) if b > 0 else (mpmath.mpf(1) if b == 0 else _INF)
    if a < 0:
        if b != int(b):
            return _NAN              # not real
        sign = -1 if int(b) % 2 else 1
        return sign * _mp_pow(-a, b)
    if mpmath.isinf(a) or mpmath.isinf(b):
        if b == 0:
            return mpmath.mpf(1)
        if mpmath.isinf(a):
            return _INF if b > 0 else mpmath.mpf(0)
        return (_INF if b > 0 else mpmath.mpf(0)) if a > 1 else (
            mpmath.mpf(0) if b > 0 else _INF) if a < 1 else mpmath.mpf(1)
    exponent = b * mpmath.log(a)
    if exponent > _ARG_CAP:
        return _INF
    if exponent < -_ARG_CAP:
        return mpmath.mpf(0)
    return mpmath.power(a, b)


def _mp_exp(x):
    if mpmath.isnan(x):
        return _NAN
    if x > _ARG_CAP:
        return _INF
    if x < -_ARG_CAP:
        return mpmath.mpf(0)
    return mpmath.exp(x)


def _mp_log(x):
    if mpmath.isnan(x) or x < 0:
        return _NAN
    return -_INF if x == 0 else mpmath.log(x)


def _mp_hyperbolic(name):
    func = getattr(mpmath, name)

    def evaluate(x):
        if mpmath.isnan(x):
            return _NAN
        if abs(x) > _ARG_CAP:
            if name == "cosh":
                return _INF
            return _INF if x > 0 else -_INF
        return func(x)
    return evaluate


def _mp_tanh(x):
    if mpmath.isnan(x):
        return _NAN
    if abs(x) > 1000:             # tanh is ±1 to far more than 40 digits there
        return mpmath.mpf(1) if x > 0 else mpmath.mpf(-1)
    return mpmath.tanh(x)


def _mp_trig(name):
    func = getattr(mpmath, name)

    def evaluate(x):
        if not mpmath.isfinite(x) or abs(x) > _ARG_CAP:
            return _NAN
        return func(x)
    return evaluate


def _mp_extreme(pick):
    def evaluate(*values):
        if any(mpmath.isnan(v) for v in values):
            return _NAN
        return pick(values)
    return evaluate


_MP_FUNCTIONS = {
    sympy.exp: _mp_exp, sympy.log: _mp_log,
    sympy.sin: _mp_trig("sin"), sympy.cos: _mp_trig("cos"), sympy.tan: _mp_trig("tan"),
    sympy.atan: lambda x: _NAN if mpmath.isnan(x) else mpmath.atan(x),
    sympy.sinh: _mp_hyperbolic("sinh"), sympy.cosh: _mp_hyperbolic("cosh"),
    sympy.tanh: _mp_tanh, sympy.Abs: lambda x: abs(x),
    sympy.Min: _mp_extreme(min), sympy.Max: _mp_extreme(max),
}

_NP_FUNCTIONS = {
    sympy.exp: np.exp, sympy.log: np.log, sympy.sin: np.sin, sympy.cos: np.cos,
    sympy.tan: np.tan, sympy.atan: np.arctan, sympy.sinh: np.sinh, sympy.cosh: np.cosh,
    sympy.tanh: np.tanh, sympy.Abs: np.abs,
    sympy.Min: lambda *v: functools.reduce(np.minimum, v),
    sympy.Max: lambda *v: functools.reduce(np.maximum, v),
}


def _constant_value(expr):
    """High-precision mpf of a constant sympy expression (NaN if not a finite real)."""
    with mpmath.workdps(EVAL_DPS + 10):
        value = sympy.N(expr, EVAL_DPS + 10)
        if not (value.is_real and value.is_finite):
            return _NAN
        return mpmath.mpf(sympy.Float(value, EVAL_DPS + 10)._mpf_)


def _compile(expr, backend: str):
    """Compile a sympy expression in ``t`` into a function of one mpf / ndarray."""
    if expr == t:
        return lambda x: x
    if not expr.free_symbols:
        value = _constant_value(expr)
        if backend == "numpy":
            value = float(value)
        return lambda x: value
    args = [_compile(a, backend) for a in expr.args]
    if isinstance(expr, sympy.Add):
        def add(x):
            total = args[0](x)
            for f in args[1:]:
                total = total + f(x)
            return total
        return add
    if isinstance(expr, sympy.Mul):
        def mul(x):
            total = args[0](x)
            for f in args[1:]:
                total = total * f(x)
            return total
        return mul
    if isinstance(expr, sympy.Pow):
        base, power = args
        if backend == "numpy":
            return lambda x: np.power(np.asarray(base(x), dtype=float), power(x))
        return lambda x: _mp_pow(base(x), power(x))
    table = _NP_FUNCTIONS if backend == "numpy" else _MP_FUNCTIONS
    func = table.get(expr.func)
    if func is not None:
        return lambda x: func(*(f(x) for f in args))
    # Not produced by the safe parser; only programmatic moduli get here.
    fallback = sympy.lambdify(t, expr, "numpy" if backend == "numpy" else "mpmath")
    return fallback


@functools.lru_cache(maxsize=256)
def _evaluator(expr, backend: str):
    return _compile(expr, backend)


# ----------------------------------------------------------------------------------
# small-t behaviour
# ----------------------------------------------------------------------------------
def _power_law(expr):
    """(c, α) if ``expr`` is literally c·t^α with constants c > 0, α > 0, else None."""
    c, a = expr.as_coeff_exponent(t)
    if c.has(t) or a.has(t) or a == 0:
        return None
    if not (c.is_positive and a.is_positive):
        return None
    return c, a


@functools.lru_cache(maxsize=256)
def _small_t_law(expr):
    """(c, α) with ω(t) ~ c t^α as t → 0+, by sympy limits."""
    law = _power_law(expr)
    if law is not None:
        return law
    try:
        try:
            alpha = sympy.limit(sympy.log(expr) / sympy.log(t), t, 0, "+")
        except NotImplementedError:
            # sympy's limit does not know Min/Max; their Piecewise form it does.
            form = expr.rewrite(sympy.Piecewise)
            alpha = sympy.limit(sympy.log(form) / sympy.log(t), t, 0, "+")
        else:
            form = expr
        coeff = None
        if alpha.is_positive and alpha.is_finite:
            coeff = sympy.limit(form / t ** alpha, t, 0, "+")
    except (NotImplementedError, ValueError, TypeError, RecursionError) as exc:
        raise InputError("modulus", f"sympy cannot find the small-t behaviour of {expr} "
                                    f"({type(exc).__name__}); give ω in a form where "
                                    "ω(t) ~ c·t^α as t → 0+ is visible") from None
    if not (alpha.is_positive and alpha.is_finite):
        raise InputError("modulus", f"cannot write ω(t) = {expr} as c·t^α near t = 0 with "
                                    f"α > 0 (sympy gives α = {alpha})")
    if coeff is None or not (coeff.is_positive and coeff.is_finite):
        raise InputError("modulus", f"ω(t) = {expr} is not ~ c·t^α with 0 < c < ∞ as "
                                    f"t → 0+ (α = {alpha}, c = {coeff})")
    return sympy.nsimplify(coeff) if coeff.is_Float else coeff, alpha


# ----------------------------------------------------------------------------------
# validation of custom moduli
# ----------------------------------------------------------------------------------
def _sample_points():
    """Dense sample of [0, 10] plus small and large t (increasing)."""
    with mpmath.workdps(EVAL_DPS):
        small = [mpmath.mpf(10) ** (mpmath.mpf(k) / 2) for k in range(-60, -4)]
        dense = [mpmath.mpf(k) / 100 for k in range(1, 1001)]
        large = [mpmath.mpf(10) ** (mpmath.mpf(k) / 2) for k in range(3, 41)]
        huge = [mpmath.mpf(10) ** k for k in range(30, 301, 10)]
    return small + dense + large + huge


def _digits_at(x) -> int:
    """Working digits for ω(x): forms like t·log(1 + 1/t) or t/(1+t) − 1 cancel about
    |log10 x| digits, so that many extra digits are carried."""
    return EVAL_DPS + 5 + int(abs(mpmath.log10(x)))


def _evaluate(omega, x):
    """ω(x) > 0 with the compiled evaluator at the precision rule of :func:`_digits_at`."""
    with mpmath.workdps(_digits_at(x)):
        value = omega(x)
        if isinstance(value, mpmath.mpc):
            value = value.real if value.imag == 0 else _NAN
        return +value


def _validate(expr, parameter: str) -> None:
    """Refuse ω unless ω(0) = 0 and ω is finite, ≥ 0 and nondecreasing on a sample."""
    extra = expr.free_symbols - {t}
    require(not extra, parameter, f"ω may depend on t only, found {sorted(map(str, extra))}")
    at_zero = expr.subs(t, 0)
    if not (at_zero.is_number and at_zero.is_finite is True):
        try:
            at_zero = sympy.limit(expr, t, 0, "+")
        except (NotImplementedError, ValueError, TypeError, RecursionError):
            raise InputError(parameter, f"cannot determine ω(0+) for ω(t) = {expr}") from None
    if at_zero.is_zero is not True:
        value = _constant_value(at_zero)
        if not (mpmath.isfinite(value) and abs(value) < mpmath.mpf(10) ** (-EVAL_DPS)):
            raise InputError(parameter, f"a modulus needs ω(0) = 0, but ω(0) = {at_zero} "
                                        f"for ω(t) = {expr}")
    omega = _evaluator(expr, "mpmath")
    previous, previous_t = mpmath.mpf(0), mpmath.mpf(0)
    positive = False
    for x in _sample_points():
        # Forms like t·log(1 + 1/t) cancel ~|log10 t| digits: evaluate with that many
        # extra digits so that rounding is not mistaken for a decrease.
        v = _evaluate(omega, x)
        with mpmath.workdps(_digits_at(x)):
            decreased = v < previous - _MONOTONE_SLACK * abs(previous)
        where = f"at t = {mpmath.nstr(x, 6)}"
        if not mpmath.isfinite(v):
            raise InputError(parameter, f"ω(t) = {expr} is not a finite real number {where}")
        if v < 0:
            raise InputError(parameter, f"ω(t) = {expr} is negative {where}; a modulus "
                                        "is nonnegative")
        if decreased:
            raise InputError(parameter, f"ω(t) = {expr} decreases between t = "
                                        f"{mpmath.nstr(previous_t, 6)} and "
                                        f"{mpmath.nstr(x, 6)}; a modulus is nondecreasing")
        positive = positive or v > 0
        previous, previous_t = v, x
    require(positive, parameter, f"ω(t) = {expr} vanishes on the whole sample; a modulus "
                                 "must be positive somewhere")


def _to_mpf(value, parameter: str, allow_inf: bool = False):
    """A real mpf from a user number (NaN refused; +inf only if ``allow_inf``)."""
    if isinstance(value, bool):
        raise InputError(parameter, "expected a number, got a bool")
    if isinstance(value, mpmath.mpf):
        x = value
    elif isinstance(value, float):
        x = mpmath.mpf(value)                      # exact binary value
    elif isinstance(value, Integral):
        x = mpmath.mpf(int(value))
    elif value is sympy.oo and allow_inf:
        return _INF
    else:
        x = _constant_value(parse_number(value, parameter))
    if mpmath.isnan(x):
        raise InputError(parameter, "expected a number, got NaN")
    if mpmath.isinf(x) and not (allow_inf and x > 0):
        raise InputError(parameter, f"expected a finite number, got {x}")
    return x


# ----------------------------------------------------------------------------------
# the modulus
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Modulus:
    """A modulus of continuity ω(t) as a sympy expression in :data:`t`.

    Construct with :meth:`lipschitz`, :meth:`holder`, :meth:`parse` (user text) or
    :meth:`from_expr` (a sympy expression); the latter two validate ω.  Theorem E
    needs ω nondecreasing and continuous with ω(0) = 0; the validation checks
    ω(0) = 0 symbolically and finiteness, nonnegativity and monotonicity on a dense
    sample, so a pathological ω can still slip between sample points — continuity
    holds automatically for the whitelisted functions wherever they are finite.

    Attributes
    ----------
    expr : sympy.Expr
        ω(t).
    kind : {"lipschitz", "holder", "custom"}
    """

    expr: sympy.Expr
    kind: str

    def __post_init__(self):
        require(self.kind in KINDS, "kind", f"must be one of {KINDS}, got {self.kind!r}")
        require(isinstance(self.expr, sympy.Expr), "modulus",
                f"expected a sympy expression, got {type(self.expr).__name__}")
        extra = self.expr.free_symbols - {t}
        require(not extra, "modulus", f"ω may depend only on mono.bounds.modulus.t "
                                      f"(nonnegative symbol t), found {sorted(map(str, extra))}")

    # construction ----------------------------------------------------------------
    @classmethod
    def lipschitz(cls, L) -> "Modulus":
        """ω(t) = L t with L > 0."""
        L = parse_number(L, "L")
        require(bool(L > 0), "L", f"the Lipschitz constant must be > 0, got {L}")
        return cls(L * t, "lipschitz")

    @classmethod
    def holder(cls, C, alpha) -> "Modulus":
        """ω(t) = C t^α with C > 0 and 0 < α ≤ 1."""
        C = parse_number(C, "C")
        alpha = parse_number(alpha, "alpha")
        require(bool(C > 0), "C", f"the Hölder constant must be > 0, got {C}")
        require(bool(alpha > 0) and bool(alpha <= 1), "alpha",
                f"the Hölder exponent must satisfy 0 < alpha <= 1, got {alpha}")
        return cls(C * t ** alpha, "holder")

    @classmethod
    def parse(cls, text) -> "Modulus":
        """A custom modulus from user text in ``t`` (safe parser, then validation)."""
        return cls.from_expr(parse_expression(text, ("t",), "modulus"))

    @classmethod
    def from_expr(cls, expr, parameter: str = "modulus") -> "Modulus":
        """A custom modulus from a sympy expression in :data:`t`, validated."""
        require(isinstance(expr, sympy.Expr), parameter,
                f"expected a sympy expression, got {type(expr).__name__}")
        _validate(expr, parameter)
        return cls(expr, "custom")

    # evaluation ------------------------------------------------------------------
    def __call__(self, x) -> mpmath.mpf:
        """ω(x) for x ≥ 0, computed with ``EVAL_DPS + 5 + |log10 x|`` digits.

        The precision depends on x only (not on the ambient ``mp.dps``), so the value
        is reproducible and :meth:`inverse` can certify against it.
        """
        x = _to_mpf(x, "t")
        require(x >= 0, "t", f"ω is defined for t >= 0, got {x}")
        if x == 0:
            return mpmath.mpf(0)            # ω(0) = 0 (validated; also for 0·log 0 forms)
        return _evaluate(_evaluator(self.expr, "mpmath"), x)

    def values(self, x) -> np.ndarray:
        """ω on an array of t ≥ 0 in float64 (vectorised; overflow gives inf)."""
        try:
            arr = np.asarray(x, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InputError("t", f"expected a numeric array ({exc})") from None
        require(bool(np.all(arr >= 0)), "t", "ω is defined for t >= 0 (no NaN)")
        with np.errstate(all="ignore"):
            out = np.asarray(_evaluator(self.expr, "numpy")(arr), dtype=float)
        out = np.array(np.broadcast_to(out, arr.shape), dtype=float)
        out[arr == 0] = 0.0
        return out

    def inverse(self, y_value) -> mpmath.mpf:
        """Certified generalised inverse sup{t ≥ 0 : ω(t) ≤ y}.

        The result x satisfies ``self(x) <= y`` (exactly, in the arithmetic of
        :meth:`__call__`) and lies within a relative 1e-20 of the true supremum
        (closed form for power laws, else bracketing and bisection).  Returns
        ``mpf('inf')`` if ω(t) ≤ y for every t up to 1e300.
        """
        yv = _to_mpf(y_value, "y", allow_inf=True)
        require(yv > 0, "y", f"the level must be > 0, got {yv}")
        if mpmath.isinf(yv):
            return _INF
        with mpmath.workdps(EVAL_DPS):
            law = _power_law(self.expr)
            if law is not None:
                c, a = (_constant_value(v) for v in law)
                return self._certify(mpmath.power(yv / c, 1 / a), yv)
            return self._bisect(yv)

    def _certify(self, x, yv):
        """Nudge a closed-form x down until ω(x) ≤ y holds in mpmath arithmetic."""
        step = mpmath.mpf(2) ** (-mpmath.mp.prec + 4)
        for _ in range(200):
            if self(x) <= yv:
                return x
            x = x * (1 - step)
            step *= 2
        raise ArithmeticError("could not certify the inverse modulus")  # pragma: no cover

    def _bisect(self, yv):
        def ok(x):
            value = self(x)
            return bool(mpmath.isfinite(value) and value <= yv)

        if ok(mpmath.mpf("1e300")):
            return _INF
        two = mpmath.mpf(2)
        if ok(mpmath.mpf(1)):
            good, e = 0, 1
            while ok(two ** e):                # e stays below 1000: ω(1e300) > y
                good, e = e, 2 * e
            bad = e
        else:
            bad, e = 0, -1
            while not ok(two ** e):
                if e < -(2 ** 22):
                    raise InputError("y", f"ω(t) > {mpmath.nstr(yv, 6)} even at t = 2^{e}; "
                                          "the level is too small for this modulus")
                bad, e = e, 2 * e
            good = e
        while abs(bad - good) > 1:             # bisection on the binary exponent
            mid = (good + bad) // 2
            good, bad = (mid, bad) if ok(two ** mid) else (good, mid)
        lo, hi = two ** good, two ** bad        # ω(lo) ≤ y < ω(hi), hi = 2 lo
        tolerance = mpmath.mpf(2) ** -100
        while hi - lo > lo * tolerance:
            mid = (lo + hi) / 2
            if ok(mid):
                lo = mid
            else:
                hi = mid
        return lo

    # closed forms ----------------------------------------------------------------
    @property
    def inverse_expr(self):
        """ω⁻¹ in the symbol :data:`y` when ω = c t^α (Lipschitz, Hölder), else None."""
        law = _power_law(self.expr)
        if law is None:
            return None
        c, a = law
        return (y / c) ** (1 / a)

    @property
    def lipschitz_constant(self):
        """L with ω(t) = L t, or None when ω is not linear."""
        law = _power_law(self.expr)
        if law is not None and law[1] == 1:
            return law[0]
        return None

    @property
    def exponent(self):
        """α with ω(t) ~ c t^α as t → 0+ (1 for Lipschitz)."""
        return _small_t_law(self.expr)[1]

    @property
    def coefficient(self):
        """c with ω(t) ~ c t^α as t → 0+."""
        return _small_t_law(self.expr)[0]

    def latex(self) -> str:
        """LaTeX of ω(t) (the right-hand side only)."""
        return sympy.latex(self.expr)
