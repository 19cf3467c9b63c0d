"""Tests of construct.compact: samplers of K(s, r) and the H^s ball, membership in K."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mono.bounds.space import SobolevBox
from mono.construct import compact
from mono.errors import InputError

BOXES = [SobolevBox(d=1, s=1.0, r=1.0), SobolevBox(d=1, s=2.5, r=3.0),
         SobolevBox(d=2, s=1.5, r=0.5), SobolevBox(d=2, s=3.0, r=2.0)]


def rho_by_hand(box, n):
    """ρ_k = r (1 + π²|k|²)^{-s/2}, from the modes, independently of box.radii."""
    k = box.modes(n)
    return box.r * (1 + math.pi ** 2 * (k ** 2).sum(axis=1)) ** (-box.s / 2)


@pytest.mark.parametrize("box", BOXES)
@pytest.mark.parametrize("sampler", [compact.sample_box, compact.sample_extreme, compact.sample_ball])
def test_samplers_land_inside_K(box, sampler):
    c = sampler(box, 30, 500, 0)
    assert c.shape == (500, 30)
    assert np.all(np.abs(c) <= rho_by_hand(box, 30) * (1 + 1e-12))
    assert np.all(compact.excess(box, c) <= 1 + 1e-12)
    compact.check_inside(box, c)  # does not raise


@pytest.mark.parametrize("box", BOXES)
def test_extreme_points_have_excess_exactly_one(box):
    c = compact.sample_extreme(box, 17, 200, np.random.default_rng(3))
    np.testing.assert_allclose(np.abs(c), np.broadcast_to(rho_by_hand(box, 17), c.shape), rtol=1e-14)
    np.testing.assert_allclose(compact.excess(box, c), 1.0, rtol=1e-14)
    # both signs occur on every mode
    assert np.all((c > 0).any(axis=0)) and np.all((c < 0).any(axis=0))


@pytest.mark.parametrize("box", BOXES)
def test_ball_samples_lie_in_the_Hs_ball_and_fill_it(box):
    n = 8
    c = compact.sample_ball(box, n, 4000, 1)
    k = box.modes(n)
    w = (1 + math.pi ** 2 * (k ** 2).sum(axis=1)) ** (box.s / 2)
    hs = np.sqrt(((w * c) ** 2).sum(axis=1)) / box.r
    assert np.all(hs <= 1 + 1e-12)
    # uniform in an n-ball: P(‖z‖ <= q r) = q^n, so the median of ‖z‖/r is 2^{-1/n}
    assert np.median(hs) == pytest.approx(0.5 ** (1 / n), abs=0.02)
    # direction uniform: each normalised coordinate has mean 0 and variance 1/n
    z = (w * c) / (hs[:, None] * box.r)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=0.05)
    np.testing.assert_allclose((z ** 2).mean(axis=0), 1 / n, atol=0.02)


def test_box_samples_are_uniform_per_coordinate():
    box = BOXES[1]
    c = compact.sample_box(box, 5, 20000, 7) / rho_by_hand(box, 5)
    # uniform on [−1, 1]: mean 0, variance 1/3, and the range is nearly filled
    np.testing.assert_allclose(c.mean(axis=0), 0, atol=0.02)
    np.testing.assert_allclose(c.var(axis=0), 1 / 3, atol=0.01)
    assert np.all(c.max(axis=0) > 0.99) and np.all(c.min(axis=0) < -0.99)


def test_seed_and_generator_reproducible():
    box = BOXES[0]
    a = compact.sample_box(box, 4, 3, 11)
    b = compact.sample_box(box, 4, 3, np.random.default_rng(11))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, compact.sample_box(box, 4, 3, 12))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), j=st.integers(0, 39), factor=st.floats(1.001, 50.0),
       box_index=st.integers(0, 3))
def test_check_inside_names_mode_and_factor(n, j, factor, box_index):
    box = BOXES[box_index]
    j = j % n
    c = compact.sample_box(box, n, 3, 5) * 0.5
    rho = rho_by_hand(box, n)
    c[1, j] = -factor * rho[j]
    assert compact.excess(box, c)[1] == pytest.approx(factor, rel=1e-12)
    with pytest.raises(InputError) as info:
        compact.check_inside(box, c, parameter="u")
    message = str(info.value)
    assert info.value.parameter == "u"
    assert f"k = {tuple(int(m) for m in box.modes(n)[j])}" in message
    assert f"{factor:.6g} times" in message
    assert "row 1" in message


def test_check_inside_tolerance_and_rows():
    box = BOXES[2]
    rho = rho_by_hand(box, 6)
    compact.check_inside(box, rho * (1 + 1e-12))          # within rtol: accepted
    compact.check_inside(box, rho[None] * np.ones((3, 1)))  # exactly on the boundary
    with pytest.raises(InputError, match="outside K"):
        compact.check_inside(box, rho * (1 + 1e-6))


@pytest.mark.parametrize("call", [
    lambda b: compact.sample_box(b, 0, 3, 0),
    lambda b: compact.sample_box(b, 3, 0, 0),
    lambda b: compact.sample_box(b, 3.0, 2, 0),
    lambda b: compact.sample_ball(b, 3, 2, -1),
    lambda b: compact.sample_extreme(b, 3, 2, "seed"),
    lambda b: compact.excess(b, [[np.nan, 0.0]]),
    lambda b: compact.check_inside(b, np.zeros((2, 2, 2))),
])
def test_bad_arguments_raise_input_error(call):
    with pytest.raises(InputError):
        call(BOXES[0])
