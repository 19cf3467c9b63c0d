"""Safe parsing of user expressions into sympy, without ``eval``.

``sympy.sympify`` and ``parse_expr`` run Python's ``eval`` on the text, so a string
such as ``"__import__('os').system(...)"`` would execute.  Here the text is only
*parsed* by :func:`ast.parse`; the syntax tree is then walked node by node and the
sympy expression is built from the nodes that a whitelist allows.  Nothing from the
text is ever executed, imported or looked up as an attribute.

Besides the shape of the tree, the *size* of the numbers is bounded: sympy evaluates
integer powers of integers exactly, so ``9**9**9`` would otherwise try to build a
number with hundreds of millions of digits.  Every constant sub-expression is tracked
with an mpmath value while the tree is built, and a node is refused *before* sympy
sees it if its magnitude would leave ``10^±1000`` or a numeric exponent exceeds
``1000`` in absolute value.

Decimal literals become exact rationals (``0.5`` is ``1/2``, ``0.1`` is ``1/10``):
the user means the number they typed, and exact rationals keep sympy limits exact.
"""

from __future__ import annotations

import ast
import decimal
import math
from fractions import Fraction
from numbers import Integral, Real

import mpmath
import sympy

from mono.errors import InputError

#: largest ``|exponent|`` allowed when the exponent of ``**`` is a number
MAX_EXPONENT = 1000
#: constant sub-expressions must satisfy ``10**-MAX_LOG10 <= |c| <= 10**MAX_LOG10`` (or be 0)
MAX_LOG10 = 1000
_MAX_LN = MAX_LOG10 * math.log(10) * (1 + 1e-12)
_GUARD_DPS = 30

# name -> (sympy constructor, min arity, max arity)
_FUNCTIONS = {
    "sqrt": (sympy.sqrt, 1, 1),
    "exp": (sympy.exp, 1, 1),
    "log": (sympy.log, 1, 2),
    "sin": (sympy.sin, 1, 1),
    "cos": (sympy.cos, 1, 1),
    "tan": (sympy.tan, 1, 1),
    "atan": (sympy.atan, 1, 1),
    "sinh": (sympy.sinh, 1, 1),
    "cosh": (sympy.cosh, 1, 1),
    "tanh": (sympy.tanh, 1, 1),
    "abs": (sympy.Abs, 1, 1),
    "Abs": (sympy.Abs, 1, 1),
    "min": (sympy.Min, 1, 64),
    "Min": (sympy.Min, 1, 64),
    "max": (sympy.Max, 1, 64),
    "Max": (sympy.Max, 1, 64),
}
_CONSTANTS = {"pi": sympy.pi, "E": sympy.E, "e": sympy.E}
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


class _Refused(Exception):
    """Internal: the expression is outside the whitelist (message says why)."""


def _allowed(variables) -> str:
    names = ("the variable(s) " + ", ".join(variables) + ", ") if variables else ""
    return ("allowed are numbers, " + names + "the constants pi and E, "
            "the operators + - * / ** and unary -, and calls of "
            "sqrt, exp, log, sin, cos, tan, atan, sinh, cosh, tanh, abs, min, max "
            "(positional arguments only)")


def _symbol(name: str) -> sympy.Symbol:
    """The one symbol per variable name used throughout mono (nonnegative, real)."""
    return sympy.Symbol(name, nonnegative=True)


def _check_constant(value, what: str):
    """Refuse a constant sub-expression that is not a finite real of bounded size."""
    if isinstance(value, mpmath.mpc):
        if value.imag != 0:
            raise _Refused(f"{what} is not a real number")
        value = value.real
    if not mpmath.isfinite(value):
        raise _Refused(f"{what} is not finite (division by zero or overflow)")
    if value != 0 and abs(mpmath.log10(abs(value))) > MAX_LOG10 * (1 + 1e-12):
        raise _Refused(f"{what} has magnitude outside 10^-{MAX_LOG10}..10^{MAX_LOG10}")
    return value


def _finish(expr, value, what: str):
    """Common checks after sympy built a node; returns (expr, tracked value or None)."""
    if expr.has(sympy.zoo, sympy.oo, sympy.nan, sympy.I):
        raise _Refused(f"{what} is not a finite real expression")
    if value is None:
        return expr, None
    if expr.is_zero:
        return expr, mpmath.mpf(0)
    return expr, _check_constant(value, what)


class _Builder:
    """Walks a Python AST and builds the sympy expression; refuses everything else."""

    def __init__(self, variables):
        self.variables = {name: _symbol(name) for name in variables}

    def build(self, node):
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise _Refused(f"{type(node).__name__} syntax is not allowed")
        return method(node)

    # leaves -------------------------------------------------------------------
    def _Constant(self, node):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _Refused(f"the literal {v!r} is not a number")
        if isinstance(v, float):
            if not math.isfinite(v):
                raise _Refused(f"the literal {v!r} is not finite")
            expr = sympy.Rational(repr(v))
        else:
            if v != 0 and len(str(abs(v))) > MAX_LOG10 + 1:
                raise _Refused(f"the integer literal has more than {MAX_LOG10} digits")
            expr = sympy.Integer(v)
        with mpmath.workdps(_GUARD_DPS):
            return _finish(expr, mpmath.mpf(expr.p) / expr.q, "a literal")

    def _Name(self, node):
        if node.id in self.variables:
            return self.variables[node.id], None
        if node.id in _CONSTANTS:
            with mpmath.workdps(_GUARD_DPS):
                value = mpmath.pi if node.id == "pi" else mpmath.e
                return _CONSTANTS[node.id], +value
        raise _Refused(f"unknown name {node.id!r}")

    # operators ----------------------------------------------------------------
    def _UnaryOp(self, node):
        if not isinstance(node.op, (ast.UAdd, ast.USub)):
            raise _Refused(f"the operator {type(node.op).__name__} is not allowed")
        expr, value = self.build(node.operand)
        if isinstance(node.op, ast.UAdd):
            return expr, value
        return _finish(-expr, None if value is None else -value, "a negation")

    def _BinOp(self, node):
        symbol = _BINARY.get(type(node.op))
        if symbol is None:
            raise _Refused(f"the operator {type(node.op).__name__} is not allowed")
        (a, va), (b, vb) = self.build(node.left), self.build(node.right)
        constant = va is not None and vb is not None
        with mpmath.workdps(_GUARD_DPS):
            if symbol == "+":
                return _finish(a + b, va + vb if constant else None, "a sum")
            if symbol == "-":
                return _finish(a - b, va - vb if constant else None, "a difference")
            if symbol == "*":
                return _finish(a * b, va * vb if constant else None, "a product")
            if symbol == "/":
                if vb is not None and vb == 0 or b.is_zero:
                    raise _Refused("division by zero")
                return _finish(a / b, va / vb if constant else None, "a quotient")
            return self._power(a, va, b, vb)

    def _power(self, a, va, b, vb):
        # Bound the work sympy will do *before* it evaluates the power exactly.
        if vb is not None and abs(vb) > MAX_EXPONENT:
            raise _Refused(f"the exponent {mpmath.nstr(vb, 6)} exceeds {MAX_EXPONENT} in size")
        if va is None or vb is None:
            return _finish(a ** b, None, "a power")
        if va == 0:
            if vb <= 0:
                raise _Refused("0 raised to a non-positive power")
            return _finish(a ** b, mpmath.mpf(0), "a power")
        if va < 0 and not (b.is_integer or vb == int(vb)):
            raise _Refused("a negative number raised to a non-integer power is not real")
        if abs(vb * mpmath.log(abs(va))) > _MAX_LN:
            raise _Refused(f"a power has magnitude outside 10^-{MAX_LOG10}..10^{MAX_LOG10}")
        return _finish(a ** b, mpmath.power(va, vb), "a power")

    def _Call(self, node):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            if isinstance(node.func, ast.Name):
                raise _Refused(f"calling {node.func.id!r} is not allowed")
            raise _Refused("only whitelisted functions may be called, by their bare name")
        name = node.func.id
        if node.keywords:
            raise _Refused(f"{name}() takes positional arguments only")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise _Refused(f"{name}() does not accept *arguments")
        func, low, high = _FUNCTIONS[name]
        if not low <= len(node.args) <= high:
            raise _Refused(f"{name}() takes {low}" + (f" to {high}" if high > low else "")
                           + f" argument(s), got {len(node.args)}")
        built = [self.build(arg) for arg in node.args]
        exprs = [e for e, _ in built]
        values = [v for _, v in built]
        with mpmath.workdps(_GUARD_DPS):
            value = _call_value(name, values)
            return _finish(func(*exprs), value, f"{name}(...)")

    def _Expression(self, node):
        return self.build(node.body)


def _call_value(name: str, values):
    """mpmath value of a whitelisted call on constant arguments (None if not constant)."""
    if any(v is None for v in values):
        return None
    x = values[0]
    if name in ("exp", "sinh", "cosh") and abs(x) > _MAX_LN:
        raise _Refused(f"{name}() of {mpmath.nstr(x, 6)} overflows")
    if name == "sqrt" and x < 0:
        raise _Refused("sqrt() of a negative number is not real")
    if name == "log":
        if x <= 0 or (len(values) == 2 and (values[1] <= 0 or values[1] == 1)):
            raise _Refused("log() needs a positive argument and a positive base other than 1")
        return mpmath.log(x) / (mpmath.log(values[1]) if len(values) == 2 else 1)
    if name in ("min", "Min"):
        return min(values)
    if name in ("max", "Max"):
        return max(values)
    table = {"sqrt": mpmath.sqrt, "exp": mpmath.exp, "sin": mpmath.sin, "cos": mpmath.cos,
             "tan": mpmath.tan, "atan": mpmath.atan, "sinh": mpmath.sinh,
             "cosh": mpmath.cosh, "tanh": mpmath.tanh, "abs": abs, "Abs": abs}
    return table[name](x)


def parse_expression(text, variables=("t",), parameter: str = "modulus",
                     max_length: int = 200) -> sympy.Expr:
    """Build a sympy expression from user text without evaluating the text.

    Parameters
    ----------
    text : str
        The expression, e.g. ``"3*t**0.5 + t"``.
    variables : sequence of str
        Names allowed as variables; each becomes ``sympy.Symbol(name, nonnegative=True)``
        (the same symbol as :data:`mono.bounds.modulus.t` for ``"t"``).
    parameter : str
        Name of the user parameter, used in error messages.
    max_length : int
        Longest accepted text.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    InputError
        For anything but numbers, the variables, ``pi``/``E``, ``+ - * / **``, unary
        signs and calls of the whitelisted functions; for oversized numbers/exponents,
        division by zero and non-real constants.
    """
    variables = tuple(variables)
    for name in variables:
        if not (isinstance(name, str) and name.isidentifier()):
            raise InputError("variables", f"{name!r} is not a valid variable name")
    if not isinstance(text, str):
        raise InputError(parameter, f"expected an expression as a string, got "
                                    f"{type(text).__name__}; {_allowed(variables)}")
    if not text.strip():
        raise InputError(parameter, f"the expression is empty; {_allowed(variables)}")
    if len(text) > max_length:
        raise InputError(parameter, f"the expression has {len(text)} characters, at most "
                                    f"{max_length} are accepted")
    shown = text if len(text) <= 60 else text[:57] + "..."
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        reason = getattr(exc, "msg", None) or type(exc).__name__
        raise InputError(parameter, f"cannot parse {shown!r} ({reason}); "
                                    f"{_allowed(variables)}") from None
    try:
        expr, _ = _Builder(variables).build(tree)
    except _Refused as exc:
        raise InputError(parameter, f"refused {shown!r}: {exc}; {_allowed(variables)}") from None
    except RecursionError:
        raise InputError(parameter, f"refused {shown!r}: nested too deeply") from None
    return expr


def _number_value(expr) -> mpmath.mpf | None:
    """Finite real mpmath value of a constant sympy expression, else None."""
    if expr.free_symbols:
        return None
    value = sympy.N(expr, 30)
    if not (value.is_real and value.is_finite):
        return None
    return mpmath.mpf(sympy.Float(value, 30)._mpf_)


def parse_number(value, parameter: str) -> sympy.Expr:
    """A finite real number from user input, as an exact sympy expression when possible.

    Accepts ``int``, ``float`` (converted through its shortest decimal ``repr``, so
    ``0.1`` becomes ``1/10``), :class:`fractions.Fraction`, :class:`decimal.Decimal`,
    mpmath ``mpf``, constant sympy expressions, and strings with the whitelist of
    :func:`parse_expression` but no variables (``"1/sqrt(2)"``, ``"2*pi"``).

    Raises
    ------
    InputError
        If the value is not a finite real number (``bool``, NaN, infinities, complex
        numbers and expressions with free symbols are refused).
    """
    if isinstance(value, bool):
        raise InputError(parameter, "expected a number, got a bool")
    if isinstance(value, str):
        expr = parse_expression(value, variables=(), parameter=parameter)
    elif isinstance(value, sympy.Basic):
        expr = value
    elif isinstance(value, Integral):
        expr = sympy.Integer(int(value))
    elif isinstance(value, Fraction):
        expr = sympy.Rational(value.numerator, value.denominator)
    elif isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise InputError(parameter, f"expected a finite real number, got {value}")
        expr = sympy.Rational(str(value))
    elif isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            raise InputError(parameter, f"expected a finite real number, got {value}")
        expr = sympy.Float(value, max(15, mpmath.mp.dps))
    elif isinstance(value, Real):
        x = float(value)
        if not math.isfinite(x):
            raise InputError(parameter, f"expected a finite real number, got {x}")
        expr = sympy.Rational(repr(x))
    else:
        raise InputError(parameter, f"expected a real number, got {type(value).__name__}")
    if not isinstance(expr, sympy.Expr) or _number_value(expr) is None:
        raise InputError(parameter, f"expected a finite real number, got {value!r}")
    return expr
