"""Moduli of continuity: closed forms, certified inverses, validation, small-t law."""

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from mono.bounds.modulus import Modulus, t, y
from mono.errors import InputError

LEVELS = st.floats(min_value=1e-12, max_value=1e3, allow_nan=False)


def _certified(omega, level):
    """ω(x) ≤ y at x = ω⁻¹(y), and ω(x(1 + 1e-15)) > y (x is the supremum)."""
    x = omega.inverse(level)
    assert omega(x) <= level
    assert omega(x * (1 + mpmath.mpf("1e-15"))) > level
    return x


# --- Lipschitz and Hölder ---------------------------------------------------------------

def test_lipschitz_closed_forms():
    omega = Modulus.lipschitz(2)
    assert omega.kind == "lipschitz"
    assert omega.expr == 2 * t
    assert omega.inverse_expr == y / 2
    assert omega.lipschitz_constant == 2
    assert omega.exponent == 1 and omega.coefficient == 2
    assert omega(mpmath.mpf(3)) == 6


def test_lipschitz_accepts_exact_text_constants():
    omega = Modulus.lipschitz("1/sqrt(2)")
    assert sympy.simplify(omega.lipschitz_constant - 1 / sympy.sqrt(2)) == 0
    with mpmath.workdps(40):
        assert abs(omega.inverse(1) - mpmath.sqrt(2)) < mpmath.mpf(10) ** -35


def test_holder_closed_forms():
    omega = Modulus.holder(3, 0.5)
    assert omega.expr == 3 * sympy.sqrt(t)
    assert omega.inverse_expr == y ** 2 / 9
    assert omega.exponent == sympy.Rational(1, 2) and omega.coefficient == 3
    assert omega.lipschitz_constant is None
    assert "sqrt" in omega.latex()


@settings(max_examples=40, deadline=None)
@given(LEVELS, st.sampled_from([("lipschitz", 2), ("lipschitz", "1/3"), ("holder", (3, 0.5)),
                                ("holder", (0.7, "1/3")), ("holder", (2, 1))]))
def test_closed_form_inverses_are_certified_and_exact(level, case):
    kind, params = case
    omega = Modulus.lipschitz(params) if kind == "lipschitz" else Modulus.holder(*params)
    x = _certified(omega, level)
    with mpmath.workdps(50):
        c, a = (mpmath.mpf(str(sympy.N(v, 60))) for v in (omega.coefficient, omega.exponent))
        exact = (mpmath.mpf(level) / c) ** (1 / a)
        assert abs(x - exact) <= exact * mpmath.mpf("1e-25")


@pytest.mark.parametrize("args, parameter", [((0,), "L"), ((-1,), "L"), ((float("nan"),), "L"),
                                             ((float("inf"),), "L"), (("t",), "L")])
def test_lipschitz_validation(args, parameter):
    with pytest.raises(InputError) as info:
        Modulus.lipschitz(*args)
    assert info.value.parameter == parameter


@pytest.mark.parametrize("args, parameter", [((1, 0), "alpha"), ((1, 1.5), "alpha"),
                                             ((0, 0.5), "C"), ((-2, 0.5), "C"),
                                             ((1, float("nan")), "alpha")])
def test_holder_validation(args, parameter):
    with pytest.raises(InputError) as info:
        Modulus.holder(*args)
    assert info.value.parameter == parameter


# --- custom moduli --------------------------------------------------------------------

def test_bounded_modulus_has_infinite_inverse_above_its_supremum():
    omega = Modulus.parse("t/(1+t)")
    assert omega.kind == "custom"
    assert mpmath.isinf(omega.inverse(2))
    assert mpmath.isinf(omega.inverse(1))          # ω < 1 everywhere, so sup = ∞
    assert omega.inverse(0.5) == 1                 # t/(1+t) = 1/2 at t = 1
    assert omega.exponent == 1 and omega.coefficient == 1


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=1e-12, max_value=0.999))
def test_custom_inverse_of_t_over_one_plus_t(level):
    omega = Modulus.parse("t/(1+t)")
    x = _certified(omega, level)
    with mpmath.workdps(50):
        exact = mpmath.mpf(level) / (1 - mpmath.mpf(level))
        assert abs(x - exact) <= exact * mpmath.mpf("1e-20")


@settings(max_examples=30, deadline=None)
@given(LEVELS)
def test_custom_inverse_of_sqrt_t_plus_t(level):
    omega = Modulus.parse("sqrt(t) + t")
    x = _certified(omega, level)
    with mpmath.workdps(60):
        root = (mpmath.sqrt(1 + 4 * mpmath.mpf(level)) - 1) / 2    # √x solves r² + r = y
        exact = root ** 2
        assert abs(x - exact) <= exact * mpmath.mpf("1e-20")


def test_flat_pieces_give_the_right_end_of_the_plateau():
    omega = Modulus.parse("min(t, 1)")
    assert omega.inverse(0.5) == mpmath.mpf("0.5")
    assert mpmath.isinf(omega.inverse(1))          # ω ≤ 1 everywhere
    # a plateau in the middle: sup{t : ω(t) ≤ 1} is the right end 2 of the flat piece
    plateau = Modulus.parse("min(t, 1) + max(t - 2, 0)")
    x = plateau.inverse(1)
    assert plateau(x) <= 1 and abs(x - 2) < mpmath.mpf("1e-25")


def test_exponent_and_coefficient_of_a_custom_modulus():
    omega = Modulus.parse("3*t**0.5 + t")
    assert omega.exponent == sympy.Rational(1, 2)
    assert omega.coefficient == 3
    assert omega.inverse_expr is None and omega.lipschitz_constant is None
    assert Modulus.parse("log(1 + 2*t)").exponent == 1
    assert Modulus.parse("log(1 + 2*t)").coefficient == 2
    assert Modulus.parse("min(t, 1)").exponent == 1


def test_power_law_written_as_text_gets_closed_forms():
    omega = Modulus.parse("2*t**0.25")
    assert omega.inverse_expr == (y / 2) ** 4
    assert omega.exponent == sympy.Rational(1, 4)


def test_undecidable_small_t_law_is_an_input_error():
    omega = Modulus.parse("t*log(1 + 1/t)")        # ~ t log(1/t): no c t^α form
    with pytest.raises(InputError) as info:
        _ = omega.exponent
    assert info.value.parameter == "modulus"


@pytest.mark.parametrize("text", ["t - 1", "1 + t", "sin(t)", "-t", "t*(t - 2)**2", "0*t",
                                  "log(t)", "1/t", "sqrt(t - 1)", "t**-0.5", "t*(1 - t)",
                                  "exp(exp(t)) - E", "t.real"])
def test_invalid_custom_moduli_are_refused(text):
    with pytest.raises(InputError) as info:
        Modulus.parse(text)
    assert info.value.parameter == "modulus"


def test_foreign_symbols_are_refused():
    with pytest.raises(InputError):
        Modulus(sympy.Symbol("x") * 2, "custom")
    with pytest.raises(InputError):
        Modulus.from_expr(sympy.Symbol("t") * 2)    # t without the nonnegative assumption
    with pytest.raises(InputError):
        Modulus(2 * t, "linear")


# --- evaluation -------------------------------------------------------------------------

@pytest.mark.parametrize("level", [0, -1, float("nan"), "abc"])
def test_inverse_refuses_bad_levels(level):
    with pytest.raises(InputError) as info:
        Modulus.lipschitz(1).inverse(level)
    assert info.value.parameter == "y"


def test_inverse_of_infinity_is_infinity():
    assert mpmath.isinf(Modulus.parse("sqrt(t) + t").inverse(float("inf")))


def test_values_match_call_and_handle_zero():
    omega = Modulus.parse("sqrt(t) + t*log(1 + t)")
    x = np.array([0.0, 1e-8, 0.3, 2.0, 50.0])
    values = omega.values(x)
    assert values.shape == x.shape and values[0] == 0
    for xi, vi in zip(x, values):
        assert vi == pytest.approx(float(omega(float(xi))), rel=1e-14)
    with pytest.raises(InputError):
        omega.values([-1.0])
    with pytest.raises(InputError):
        omega(-0.5)


def test_zero_times_log_forms_vanish_at_zero():
    omega = Modulus.parse("t + t*log(1 + 1/t)")    # 0·log(∞) at t = 0: ω(0) is the limit 0
    assert omega(0) == 0
    assert omega.values(np.array([0.0]))[0] == 0


def test_large_arguments_do_not_hang_and_stay_monotone():
    omega = Modulus.parse("exp(t) - 1")
    big = omega(mpmath.mpf("1e300"))
    assert big > omega(mpmath.mpf("1e299"))
    assert omega.inverse(mpmath.mpf("1e100")) > 200
