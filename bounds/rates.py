"""Leading-order rates of every planned quantity as ε → 0, and the paper's claims.

Each quantity Q of a plan behaves like

    Q(ε) ≍ ε^{−γ} · log(1/ε)^{λ}        (γ = ``exponent``, λ = ``log_power``)

and its leading-order expression (``leading``, a sympy expression in ``eps``) carries
the constant where it can be derived.  The derivations are in docs/theory.md
("Rates"); in short, with V_d = π^{d/2}/Γ(d/2 + 1) the volume of the unit ball,

    τ_in(n)² ≈ r² c_d(s) n^{1 − 2s/d},   c_d(s) = (d V_d/2^d) π^{−2s} (2^d/V_d)^{1−2s/d} / (2s − d),
    τ_out(M) ≈ R π^{−t} (2^d M/V_d)^{−t/d},
    ω(τ) ≈ C τ^α  (τ → 0),

so n ≍ ε^{−2d/(α(2s−d))}, M ≍ ε^{−d/t}, h ≍ ε^{1/α} n^{−1/2}.  The counts built on the
grid are products over the n coordinates, which is why their *logarithms* are the
natural quantities: log(#experts) ≈ n log n (the n! Kuhn simplices per cell dominate),
log(baseline width) ≈ κ n.

:func:`fit_exponents` measures the same slopes on exact plans, :func:`predicted_slopes`
evaluates the leading-order expressions over the same ε (so that the slow log factors
are compared like for like), and :func:`claims` checks the paper's headline statements.
"""

from __future__ import annotations

from fractions import Fraction
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import mpmath
import numpy as np
import sympy

from mono.errors import InputError, require

__all__ = [
    "EPS", "D", "S", "R_IN", "T", "ALPHA", "COEF", "R_OUT", "DIAM", "HEAT_TIME",
    "THETA_IN", "THETA_OUT", "THETA_INT",
    "Rate", "Claim", "QUANTITIES", "general_rates", "rates", "quantities",
    "fit_exponents", "predicted_slopes", "claims", "width_condition",
]

# ---------------------------------------------------------------- symbols

EPS = sympy.Symbol("eps", positive=True)
D = sympy.Symbol("d", positive=True, integer=True)
S = sympy.Symbol("s", positive=True)
R_IN = sympy.Symbol("r", positive=True)
T = sympy.Symbol("t", positive=True)
ALPHA = sympy.Symbol("alpha", positive=True)
COEF = sympy.Symbol("C", positive=True)
R_OUT = sympy.Symbol("R", positive=True)
DIAM = sympy.Symbol("D_K", positive=True)
HEAT_TIME = sympy.Symbol("T", positive=True)
THETA_IN = sympy.Symbol("theta_in", positive=True)
THETA_OUT = sympy.Symbol("theta_out", positive=True)
THETA_INT = sympy.Symbol("theta_int", positive=True)

#: LaTeX names for the symbols (``sympy.latex(expr, symbol_names=LATEX_NAMES)``).
LATEX_NAMES = {
    EPS: r"\varepsilon", DIAM: r"\operatorname{diam} K", THETA_IN: r"\theta_{\mathrm{in}}",
    THETA_OUT: r"\theta_{\mathrm{out}}", THETA_INT: r"\theta_{\mathrm{int}}",
}

#: The quantities with a rate, in table order.  ``log_*`` are natural logarithms of
#: counts that are exponential in n.
QUANTITIES = (
    "n_modes_in", "n_modes_out", "mesh",
    "expert_depth", "expert_width", "expert_rank", "expert_params",
    "routing_depth", "log_n_experts",
    "baseline_depth", "log_baseline_width", "baseline_rank",
    "log_stored_node_table", "log_stored_explicit_experts",
)


@dataclass(frozen=True)
class Rate:
    """Leading-order behaviour of one quantity as ε → 0.

    Attributes
    ----------
    quantity : str
    leading : sympy.Expr
        Leading-order expression in ``EPS`` (constants where derivable).
    exponent : sympy.Expr
        γ with Q ≍ ε^{−γ} log(1/ε)^λ (negative for quantities that shrink).
    log_power : sympy.Expr
        λ, the power of the logarithmic factor.
    note : str
        How the expression arises, and whether its constant is exact or an estimate.
    """

    quantity: str
    leading: sympy.Expr
    exponent: sympy.Expr
    log_power: sympy.Expr = sympy.Integer(0)
    note: str = ""

    def latex(self) -> str:
        return sympy.latex(self.leading, symbol_names=LATEX_NAMES)


@dataclass(frozen=True)
class Claim:
    """One headline statement of the paper, checked for this construction.

    ``holds`` is the asymptotic verdict (as ε → 0); ``holds_at_eps`` the verdict on the
    exact plan at ``eps`` when one was given (None otherwise).
    """

    statement: str
    holds: bool
    condition: str
    detail: str
    eps: float | None = None
    holds_at_eps: bool | None = None
    values: dict = field(default_factory=dict)


# ---------------------------------------------------------------- formulas

def _ball_volume(d):
    return sympy.pi ** (d / 2) / sympy.gamma(d / 2 + 1)


def _tail_constant(d, s):
    """c_d(s) of τ_in(n)² ≈ r² c_d(s) n^{1−2s/d} (lattice-point count as a volume)."""
    v = _ball_volume(d)
    return (d * v / 2**d) * sympy.pi ** (-2 * s) * (2**d / v) ** (1 - 2 * s / d) / (2 * s - d)


def _n_leading(d, s, r, alpha, coef, theta_in):
    gamma_n = 2 * d / (alpha * (2 * s - d))
    tau = (theta_in * EPS / coef) ** (1 / alpha)  # ω(τ) = θ_in ε with ω ≈ C τ^α
    n = (r**2 * _tail_constant(d, s) / tau**2) ** (d / (2 * s - d))
    return n, gamma_n


def _M_leading(kind, d, t, R, theta_out, heat_time):
    if kind == "functional":
        return sympy.Integer(1), sympy.Integer(0), sympy.Integer(0), "functional: one output number"
    v = _ball_volume(d)
    if kind == "heat":
        # τ_out(M) ≈ exp(−T π² K²) with M ≈ (V_d/2^d) K^d
        K2 = sympy.log(1 / (theta_out * EPS)) / (heat_time * sympy.pi**2)
        return (v / 2**d) * K2 ** (d / 2), sympy.Integer(0), d / 2, \
            "heat: the output tail decays like exp(−Tπ²|k|²), so M is polylogarithmic"
    M = (v / 2**d) * sympy.pi ** (-d) * (R / (theta_out * EPS)) ** (d / t)
    return M, d / t, sympy.Integer(0), "τ_out(M) ≈ R π^{−t} (2^d M/V_d)^{−t/d}"


def _kappa(d, s, alpha, theta_in, theta_int):
    """κ of log(baseline width) ≈ κ n: the mean of log(2ρ_k/h) over the n modes."""
    return s / d + sympy.log(2) + sympy.log((2 * s - d) / d) / 2 + sympy.log(theta_in / theta_int) / alpha


def _build(kind, d, s, r, t, alpha, coef, R, theta_in, theta_out, theta_int, heat_time) -> dict:
    n, g_n = _n_leading(d, s, r, alpha, coef, theta_in)
    M, g_M, l_M, note_M = _M_leading(kind, d, t, R, theta_out, heat_time)
    g_w = sympy.Max(g_n, g_M)
    kappa = _kappa(d, s, alpha, theta_in, theta_int)
    zero = sympy.Integer(0)
    one = sympy.Integer(1)
    h = (theta_int * EPS / coef) ** (1 / alpha) / sympy.sqrt(n)
    # log n_cells ≈ κn, log n! ≈ n log n − n: keeping the O(n) terms matters at the
    # moderate n of real tables, where log n is not yet large against 1 − κ
    cells_and_sort = n * (sympy.log(n) - 1 + kappa)
    out = [
        Rate("n_modes_in", n, g_n, zero, "n ≈ (r² c_d(s)/τ²)^{d/(2s−d)}, τ = (θ_in ε/C)^{1/α}; constant exact to leading order"),
        Rate("n_modes_out", M, g_M, l_M, note_M),
        Rate("mesh", h, -(1 / alpha + g_n / 2), zero, "h = ω⁻¹(θ_int ε)/√n"),
        Rate("expert_depth", sympy.Integer(3), zero, zero, "encoder, affine map, decoder"),
        # M has a log factor only when it is polylogarithmic (heat), and then n wins
        Rate("expert_width", sympy.Max(n, M), g_w, zero, "max(n, M)"),
        Rate("expert_rank", sympy.Max(n, M), g_w, zero,
             "max(n, M): the encoder reads n modes, the decoder writes M"),
        Rate("expert_params", n**2 + n * M + M + M**2, 2 * g_w, zero, "n² + Mn + M + M²"),
        Rate("routing_depth", cells_and_sort / sympy.log(2), g_n, one,
             "Σ⌈log₂ q_k⌉ + Σ⌈log₂ i⌉ ≈ (κn + log n!)/log 2 = n log₂ n + O(n) (the sort dominates)"),
        Rate("log_n_experts", cells_and_sort, g_n, one,
             "log(n_cells · n!) ≈ κn + n log n − n (Stirling) = n log n + O(n)"),
        Rate("baseline_depth", sympy.log(n) / sympy.log(2) + 5, zero, one, "⌈log₂ n⌉ + 5"),
        Rate("log_baseline_width", kappa * n, g_n, zero,
             "log(2n Π(q_k+1)) ≈ κ n with κ = s/d + log 2 + ½ log((2s−d)/d) + log(θ_in/θ_int)/α "
             "(ceilings ignored: an estimate of the constant, the order n is exact)"),
        Rate("baseline_rank", sympy.Max(n, M), g_w, zero, "max(n, M), as for the expert"),
        Rate("log_stored_node_table", kappa * n + sympy.log(M), g_n, zero,
             "log(Π(q_k+1) · M) ≈ κ n (estimate of the constant as for the baseline)"),
        Rate("log_stored_explicit_experts", cells_and_sort + sympy.log(n**2 + n * M + M + M**2), g_n, one,
             "log(#experts · expert params) = n log n + O(n)"),
    ]
    return {rate.quantity: rate for rate in out}


def _kind(target) -> str:
    if getattr(target, "kind", "operator") == "functional":
        return "functional"
    t = getattr(target, "t", None)
    if t is not None and sympy.sympify(t) == sympy.oo:
        return "heat"
    return "operator"


def general_rates(kind: str = "operator") -> dict[str, Rate]:
    """Rates symbolic in d, s, r, t, α, C, R and the split θ.

    ``kind`` is ``"operator"`` (output bound in H^t with radius R), ``"heat"``
    (exponentially decaying output tail, heat time T) or ``"functional"`` (M = 1).
    """
    require(kind in ("operator", "heat", "functional"), "kind",
            f"must be 'operator', 'heat' or 'functional', got {kind!r}")
    return _build(kind, D, S, R_IN, T, ALPHA, COEF, R_OUT, THETA_IN, THETA_OUT, THETA_INT, HEAT_TIME)


def _exact(value):
    """A number as an exact sympy Rational when it is one to working precision."""
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, int):
        return sympy.Integer(value)
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    f = mpmath.mpf(value)
    q = sympy.nsimplify(sympy.Float(f, 30), rational=True, tolerance=1e-20)
    if q.q < 10**6:
        return q
    return sympy.Float(f, 15)


def _modulus_power(modulus) -> tuple:
    alpha = getattr(modulus, "exponent", None)
    coef = getattr(modulus, "coefficient", None)
    alpha = alpha() if callable(alpha) else alpha
    coef = coef() if callable(coef) else coef
    if alpha is None or coef is None:
        raise InputError("modulus", "has no power law ω(t) ≈ C t^α as t → 0; rates need one")
    alpha, coef = _exact(alpha), _exact(coef)
    require(bool(alpha > 0) and bool(coef > 0), "modulus",
            f"rates need ω(t) ≈ C t^α with α > 0 and C > 0, got α = {alpha}, C = {coef}")
    return alpha, coef


def _check_problem(problem) -> None:
    require(all(hasattr(problem, a) for a in ("target", "box", "modulus", "split")), "problem",
            f"expected a mono.bounds.plan.Problem, got {type(problem).__name__}")


def rates(problem, symbolic: bool = False) -> dict[str, Rate]:
    """Rates for one problem.

    With ``symbolic=False`` every parameter (d, s, r, t, R, α, C, θ) is substituted by
    the problem's value, leaving expressions in ``EPS`` only.  With ``symbolic=True``
    the structure of the problem (operator, heat or functional) is kept but its
    parameters stay symbols; for a target whose Lipschitz constant is the diameter
    of K (``norm_sq``) the coefficient is written as ``DIAM``.
    """
    _check_problem(problem)
    target = problem.target
    kind = _kind(target)
    if symbolic:
        coef = DIAM if getattr(target, "name", "") == "norm_sq" else COEF
        return _build(kind, D, S, R_IN, T, ALPHA, coef, R_OUT, THETA_IN, THETA_OUT, THETA_INT, HEAT_TIME)
    box = problem.box
    alpha, coef = _modulus_power(problem.modulus)
    t = getattr(target, "t", None)
    radius = getattr(target, "radius", None)
    heat_time = dict(getattr(target, "params", ()) or ()).get("T", 1)
    return _build(
        kind, sympy.Integer(int(box.d)), _exact(box.s), _exact(box.r),
        sympy.sympify(t) if (t is not None and kind == "operator") else T,
        alpha, coef,
        _exact(radius) if (radius is not None and kind == "operator") else R_OUT,
        *(_exact(x) for x in problem.split), _exact(heat_time),
    )


def width_condition(problem=None) -> tuple[sympy.Basic, str]:
    """The condition (sympy relation, text) under which width and rank are O(ε⁻¹).

    Generally 2d/(α(2s − d)) ≤ 1 and d/t ≤ 1, i.e. s ≥ d/2 + d/α and t ≥ d (the
    output condition is void for functionals and for the heat semigroup).
    """
    cond_in = sympy.Ge(S, D / 2 + D / ALPHA)
    cond_out = sympy.Ge(T, D)
    if problem is None:
        return sympy.And(cond_in, cond_out), "s ≥ d/2 + d/α and t ≥ d (Lipschitz, d = 1: s ≥ 3/2, t ≥ 1)"
    kind = _kind(problem.target)
    alpha, _ = _modulus_power(problem.modulus)
    subs = {S: _exact(problem.box.s), D: int(problem.box.d), ALPHA: alpha}
    if kind == "operator":
        subs[T] = sympy.sympify(problem.target.t)
        expr = sympy.And(cond_in, cond_out)
        text = f"s ≥ d/2 + d/α = {cond_in.rhs.subs(subs)} and t ≥ d = {subs[D]}"
    else:
        expr = cond_in
        text = f"s ≥ d/2 + d/α = {cond_in.rhs.subs(subs)} (no condition on the output: {kind})"
    return expr.subs(subs), text


# ---------------------------------------------------------------- measured slopes

def _ln(x) -> mpmath.mpf:
    """Natural log of a positive exact int (or mpf) without converting to float."""
    return mpmath.log(mpmath.mpf(x))


def quantities(p) -> dict[str, mpmath.mpf]:
    """The values, on an exact plan, of the quantities that have a rate (mpf)."""
    with mpmath.workdps(30):
        return {
            "n_modes_in": mpmath.mpf(p.n_modes_in),
            "n_modes_out": mpmath.mpf(p.n_modes_out),
            "mesh": mpmath.mpf(p.mesh),
            "expert_depth": mpmath.mpf(p.expert.depth),
            "expert_width": mpmath.mpf(p.expert.width),
            "expert_rank": mpmath.mpf(p.expert.rank),
            "expert_params": mpmath.mpf(p.expert.params),
            "routing_depth": mpmath.mpf(p.routing_depth),
            "log_n_experts": _ln(p.n_experts),
            "baseline_depth": mpmath.mpf(p.baseline.depth),
            "log_baseline_width": _ln(p.baseline.width),
            "baseline_rank": mpmath.mpf(p.baseline.rank),
            "log_stored_node_table": _ln(p.stored["node_table"]),
            "log_stored_explicit_experts": _ln(p.stored["explicit_experts"]),
        }


def _slope(eps: Sequence, values: Sequence) -> float:
    """Least-squares slope of log(value) against log(1/ε); NaN if a value is not > 0."""
    x = np.array([-float(mpmath.log(mpmath.mpf(e))) for e in eps])
    if any(not (v > 0) or mpmath.isinf(v) for v in values):
        return float("nan")
    y = np.array([float(mpmath.log(mpmath.mpf(v))) for v in values])
    if np.ptp(x) == 0:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def fit_exponents(plans: Iterable) -> dict[str, float]:
    """Fitted γ of every quantity: the log–log slope against 1/ε over the given plans.

    Uses the exact counts of the plans (logs of huge ints are taken in mpmath).
    Needs at least two distinct ε.
    """
    plans = list(plans)
    require(len({p.eps for p in plans}) >= 2, "plans", "need plans at two or more distinct eps")
    table = [quantities(p) for p in plans]
    eps = [p.eps for p in plans]
    return {q: _slope(eps, [row[q] for row in table]) for q in QUANTITIES}


def predicted_slopes(problem, eps_list: Sequence) -> dict[str, float]:
    """The same least-squares slopes computed on the leading-order expressions.

    Over a finite range of ε a quantity like n log n has local slope γ + 1/log n, not
    γ; fitting the leading-order expression at the same ε compares like with like.
    """
    eps_list = [mpmath.mpf(e) for e in eps_list]
    require(len(set(eps_list)) >= 2, "eps_list", "need two or more distinct eps")
    result = {}
    for name, rate in rates(problem).items():
        f = sympy.lambdify(EPS, rate.leading, modules="mpmath")
        with mpmath.workdps(30):
            values = [mpmath.mpf(f(e)) for e in eps_list]
        result[name] = _slope(eps_list, values)
    return result


# ---------------------------------------------------------------- the paper's claims

def _order(rate: Rate) -> str:
    if rate.exponent == 0 and rate.log_power == 0:
        return f"= {rate.leading}"
    if rate.exponent == 0:
        return f"≍ log(1/ε)^{rate.log_power}"
    return f"≍ ε^(−{rate.exponent})"


def claims(problem, eps=None) -> list[Claim]:
    """The paper's headline claims, checked for this construction and this problem.

    1. "For Lipschitz targets the active expert's depth, width and rank are O(ε⁻¹)."
    2. "The active expert is smaller than the single-NO construction" (depth, width,
       rank; parameters added for completeness).

    Parameters
    ----------
    problem : Problem
    eps : real > 0, optional
        Also evaluate each claim on the exact plan at this ε.
    """
    _check_problem(problem)
    from mono.bounds.plan import plan  # plan imports nothing from here; keep it lazy anyway

    r = rates(problem)
    alpha, _ = _modulus_power(problem.modulus)
    lipschitz = bool(alpha == 1)
    cond_expr, cond_text = width_condition(problem)
    g_n = r["n_modes_in"].exponent
    g_M = r["n_modes_out"].exponent
    g_w = r["expert_width"].exponent
    width_ok = bool(cond_expr) if isinstance(cond_expr, (bool, sympy.logic.boolalg.BooleanAtom)) \
        else bool(sympy.simplify(cond_expr))
    p = plan(problem, eps) if eps is not None else None
    at = float(p.eps) if p is not None else None
    lip_text = "target is Lipschitz" if lipschitz else f"target is only Hölder (α = {alpha}): the paper's O(ε⁻¹) is stated for Lipschitz targets"

    out = [
        Claim(
            "active expert depth is O(ε⁻¹)", True, "always",
            "depth 3 (encoder, affine map, decoder) for every ε", at,
            None if p is None else p.expert.depth == 3, {} if p is None else {"expert_depth": p.expert.depth},
        ),
    ]
    for q in ("width", "rank"):
        detail = (f"{q} = max(n, M) ≍ ε^(−{g_w}) with n ≍ ε^(−{g_n}), M {_order(r['n_modes_out'])}; {lip_text}; "
                  + ("meets O(ε⁻¹)" if width_ok else "does NOT meet O(ε⁻¹) for this problem"))
        # an O(·) is asymptotic: one ε cannot decide it, so only the numbers are shown
        values = {} if p is None else {"n": p.n_modes_in, "M": p.n_modes_out,
                                       q: getattr(p.expert, q), "1/eps": float(1 / p.eps)}
        out.append(Claim(f"active expert {q} is O(ε⁻¹)", width_ok, cond_text, detail, at, None, values))

    out.append(Claim(
        "active expert depth is smaller than the single NO's", True, "always",
        "3 < ⌈log₂ n⌉ + 5", at,
        None if p is None else p.expert.depth < p.baseline.depth,
        {} if p is None else {"expert": p.expert.depth, "baseline": p.baseline.depth},
    ))
    out.append(Claim(
        "active expert width is smaller than the single NO's", True,
        "asymptotically always; at a given ε when M < 2nN",
        f"expert width ≍ ε^(−{g_w}) (polynomial), baseline width 2nΠ(q_k+1) = exp(Θ(ε^(−{g_n}))) (exponential in n)",
        at, None if p is None else p.expert.width < p.baseline.width,
        {} if p is None else {"expert": p.expert.width, "baseline": p.baseline.width},
    ))
    out.append(Claim(
        "active expert rank is smaller than the single NO's", False, "never in this construction",
        "both read the n input modes with a rank-n encoder and write the M output modes with a "
        "rank-M decoder: rank max(n, M) for both (equal, not smaller)",
        at, None if p is None else p.expert.rank < p.baseline.rank,
        {} if p is None else {"expert": p.expert.rank, "baseline": p.baseline.rank},
    ))
    out.append(Claim(
        "active expert has fewer parameters than the single NO", True,
        "asymptotically always",
        f"n² + Mn + M + M² (polynomial) against a count linear in Π(q_k+1) (exponential in n)",
        at, None if p is None else p.expert.params < p.baseline.params,
        {} if p is None else {"expert": p.expert.params, "baseline": p.baseline.params},
    ))
    return out
