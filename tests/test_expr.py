"""Safe parsing: hostile text is refused without being evaluated; valid text is exact."""

import math
from fractions import Fraction

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from mono.bounds.expr import parse_expression, parse_number
from mono.bounds.modulus import t as T_SYMBOL
from mono.errors import InputError

t = sympy.Symbol("t", nonnegative=True)


# --- valid expressions --------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("3*t**0.5 + t", 3 * sympy.sqrt(t) + t),
    ("t/(1+t)", t / (1 + t)),
    ("0.1*t", t / 10),                       # decimal literals are exact rationals
    ("2**-3*t", t / 8),
    ("-t + 2*t", t),
    ("+t", t),
    ("pi*t + E", sympy.pi * t + sympy.E),
    ("e**2", sympy.exp(2)),
    ("log(8, 2)", sympy.Integer(3)),
    ("min(t, 1)", sympy.Min(t, 1)),
    ("Max(t, t**2)", sympy.Max(t, t ** 2)),
    ("abs(-t)", t),
    ("sqrt(t)*exp(-t)*atan(t)", sympy.sqrt(t) * sympy.exp(-t) * sympy.atan(t)),
    ("sinh(t) + cosh(t) - tanh(t) + sin(t) * cos(t) / (1 + tan(t)**2)",
     sympy.sinh(t) + sympy.cosh(t) - sympy.tanh(t)
     + sympy.sin(t) * sympy.cos(t) / (1 + sympy.tan(t) ** 2)),
    ("10**-1000*t", t / sympy.Integer(10) ** 1000),      # exactly at the size bound
])
def test_valid_expressions_give_the_exact_sympy_value(text, expected):
    assert sympy.simplify(parse_expression(text) - expected) == 0


def test_the_variable_is_the_shared_nonnegative_symbol():
    expr = parse_expression("t")
    assert expr == T_SYMBOL == t
    assert expr.is_nonnegative


def test_several_variables():
    expr = parse_expression("x*y + t", variables=("x", "y", "t"))
    assert expr.free_symbols == {sympy.Symbol(n, nonnegative=True) for n in "xyt"}


# A random arithmetic tree, as text and as the Python function it denotes: the parser's
# sympy value must agree with plain floating point (independent of sympy's own parser).
def _leaves():
    numbers = st.integers(1, 9).map(lambda k: (str(k), lambda x, k=k: float(k)))
    return st.one_of(numbers, st.just(("t", lambda x: x)))


def _extend(children):
    def binary(pair, op):
        (a, fa), (b, fb) = pair
        funcs = {"+": lambda x: fa(x) + fb(x), "-": lambda x: fa(x) - fb(x),
                 "*": lambda x: fa(x) * fb(x), "/": lambda x: fa(x) / (1 + fb(x) ** 2)}
        text = f"({a}){op}(1+({b})**2)" if op == "/" else f"({a}){op}({b})"
        return text, funcs[op]

    def unary(child, name):
        a, fa = child
        funcs = {"sqrt": lambda x: math.sqrt(1 + fa(x) ** 2),
                 "atan": lambda x: math.atan(fa(x)), "tanh": lambda x: math.tanh(fa(x))}
        text = f"sqrt(1+({a})**2)" if name == "sqrt" else f"{name}({a})"
        return text, funcs[name]

    return st.one_of(
        st.builds(binary, st.tuples(children, children), st.sampled_from("+-*/")),
        st.builds(unary, children, st.sampled_from(["sqrt", "atan", "tanh"])))


@settings(max_examples=60, deadline=None)
@given(st.recursive(_leaves(), _extend, max_leaves=6), st.floats(0, 3))
def test_random_arithmetic_matches_floating_point(tree, x):
    text, func = tree
    if len(text) > 200:
        return
    value = float(parse_expression(text).subs(t, sympy.Rational(repr(x))).evalf(30))
    assert value == pytest.approx(func(x), rel=1e-9, abs=1e-12)


# --- hostile and invalid text ---------------------------------------------------------

def _hostile(marker):
    return [
        f"__import__('os').system('touch {marker}')",
        f"open('{marker}', 'w')",
        f"exec(\"open('{marker}', 'w')\")",
        f"eval(\"open('{marker}', 'w')\")",
        "().__class__",
        "().__class__.__bases__[0].__subclasses__()",
        "(lambda: 1)()",
        "[x for x in ()]",
        "{x: 1 for x in ()}",
        "t.real",
        "t[0]",
        "open('x')",
        "9**9**9**9",
        "a" * 500,
        "sin(t=1)",
        "max(*t)",
        "f'{t}'",
        "t if t else 1",
        "t < 1",
        "t and 1",
        "(t := 1)",
        "t % 2",
        "t // 2",
        "t @ t",
        "'abc'",
        "b'abc'",
        "1j*t",
        "True*t",
        "...",
        "(t, 1)",
        "{t}",
        "x",
        "sympify('t')",
        "S.Half*t",
        "1e999",
        "10**1001",
        "10**1000*10**1000",
        "t**1001",
        "exp(10000)",
        "1/0",
        "1/(t - t)",
        "0**-1",
        "sqrt(-1)",
        "log(0)",
        "(-8)**(1/3)",
        "tan(pi/2)",
        "",
        "   ",
        "t +",
    ]


@pytest.mark.parametrize("index", range(len(_hostile("m"))))
def test_hostile_strings_are_refused_without_side_effects(tmp_path, index):
    marker = tmp_path / "pwned"
    text = _hostile(marker)[index]
    with pytest.raises(InputError) as info:
        parse_expression(text)
    assert info.value.parameter == "modulus"
    assert not marker.exists()
    message = str(info.value)
    assert message.startswith("modulus:")
    if text.strip() and len(text) <= 200:
        assert "allowed" in message or "cannot parse" in message


def test_messages_name_the_parameter_and_the_whitelist():
    with pytest.raises(InputError) as info:
        parse_expression("t.real", parameter="omega")
    assert info.value.parameter == "omega"
    assert "sqrt" in str(info.value) and "pi" in str(info.value)


@pytest.mark.parametrize("value", [None, 3, 1.5, b"t", ["t"]])
def test_non_strings_are_refused(value):
    with pytest.raises(InputError):
        parse_expression(value)


def test_length_bound_is_configurable():
    text = "t+" * 120 + "t"
    with pytest.raises(InputError):
        parse_expression(text)
    assert parse_expression(text, max_length=500) == 121 * t


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="t()[]{}.,:;*+-/%@^&|~<>=!'\"_ abcdefghijklmnopqrsuvwxyz0123456789",
               max_size=40))
def test_arbitrary_text_gives_an_expression_in_t_or_an_input_error(text):
    try:
        expr = parse_expression(text)
    except InputError:
        return
    assert isinstance(expr, sympy.Expr)
    assert expr.free_symbols <= {t}


# --- numbers ----------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (3, sympy.Integer(3)),
    (0.1, sympy.Rational(1, 10)),
    (Fraction(2, 3), sympy.Rational(2, 3)),
    ("1/sqrt(2)", 1 / sympy.sqrt(2)),
    ("2*pi", 2 * sympy.pi),
    (sympy.Rational(3, 2), sympy.Rational(3, 2)),
    (sympy.sqrt(3), sympy.sqrt(3)),
])
def test_parse_number_is_exact(value, expected):
    assert sympy.simplify(parse_number(value, "x") - expected) == 0


def test_parse_number_accepts_mpf():
    assert float(parse_number(mpmath.mpf("0.25"), "x")) == 0.25


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), True, "t",
                                   sympy.Symbol("x"), 1j, "sqrt(-2)", None, sympy.zoo,
                                   sympy.I, sympy.oo, "__import__('os')", mpmath.mpf("inf")])
def test_parse_number_refuses_non_numbers(value):
    with pytest.raises(InputError) as info:
        parse_number(value, "eps")
    assert info.value.parameter == "eps"
