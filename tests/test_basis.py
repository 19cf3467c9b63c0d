"""Tests of construct.basis: the Neumann cosine basis and its DCT on midpoint grids.

Every expected value is computed independently of the DCT: by quadrature, by direct
evaluation of cosines, or by hand (closed-form integrals).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import integrate

from mono.construct import basis
from mono.errors import InputError


def phi_1d(k, x):
    """φ_k on [0, 1], written out from the definition."""
    return (1.0 if k == 0 else math.sqrt(2.0)) * np.cos(np.pi * k * x)


# --- orthonormality ------------------------------------------------------------------

@pytest.mark.parametrize("j,k", [(0, 0), (0, 3), (1, 1), (2, 5), (7, 7), (4, 9)])
def test_orthonormal_by_adaptive_quadrature_1d(j, k):
    value, _ = integrate.quad(lambda x: phi_1d(j, x) * phi_1d(k, x), 0.0, 1.0, limit=200)
    assert value == pytest.approx(1.0 if j == k else 0.0, abs=1e-12)


def test_orthonormal_by_gauss_legendre_2d():
    # 64-point Gauss–Legendre is exact for the polynomials approximating these
    # trigonometric products to machine precision at these low frequencies.
    nodes, weights = np.polynomial.legendre.leggauss(64)
    x = (nodes + 1) / 2
    w = weights / 2
    X1, X2 = np.meshgrid(x, x, indexing="ij")
    W = np.outer(w, w).ravel()
    points = np.stack([X1.ravel(), X2.ravel()], axis=1)
    modes = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [2, 3], [3, 2], [5, 0]])
    Phi = basis.basis_matrix(modes, points)
    gram = Phi.T @ (W[:, None] * Phi)
    np.testing.assert_allclose(gram, np.eye(len(modes)), atol=1e-12)


def test_basis_matrix_matches_definition_2d():
    rng = np.random.default_rng(0)
    points = rng.random((20, 2))
    modes = np.array([[0, 0], [3, 0], [0, 2], [4, 1]])
    Phi = basis.basis_matrix(modes, points)
    for j, (k1, k2) in enumerate(modes):
        expected = phi_1d(k1, points[:, 0]) * phi_1d(k2, points[:, 1])
        np.testing.assert_allclose(Phi[:, j], expected, rtol=1e-13, atol=1e-14)


# --- DCT round trips and exactness -----------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(G=st.integers(1, 70), batch=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
def test_round_trip_1d(G, batch, seed):
    samples = np.random.default_rng(seed).standard_normal((batch, G))
    back = basis.synthesis(basis.analysis(samples, 1), (G,))
    np.testing.assert_allclose(back, samples, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(G1=st.integers(1, 24), G2=st.integers(1, 24), seed=st.integers(0, 2**31 - 1))
def test_round_trip_2d(G1, G2, seed):
    coeffs = np.random.default_rng(seed).standard_normal((3, G1, G2))
    again = basis.analysis(basis.synthesis(coeffs, (G1, G2)), 2)
    np.testing.assert_allclose(again, coeffs, atol=1e-12)


def test_analysis_exact_on_cosine_sum_1d():
    # u = 0.3 φ_0 − 1.2 φ_2 + 0.5 φ_7, sampled directly from cosines.
    G = 16
    x = basis.midpoints(G)
    u = 0.3 * phi_1d(0, x) - 1.2 * phi_1d(2, x) + 0.5 * phi_1d(7, x)
    c = basis.analysis(u[None], 1)[0]
    expected = np.zeros(G)
    expected[[0, 2, 7]] = [0.3, -1.2, 0.5]
    np.testing.assert_allclose(c, expected, atol=1e-13)


def test_analysis_exact_on_highest_representable_mode():
    # Mode G − 1 is the highest one the G-point midpoint grid resolves.
    G = 9
    x = basis.midpoints(G)
    c = basis.analysis(phi_1d(G - 1, x)[None], 1)[0]
    np.testing.assert_allclose(c, np.eye(G)[G - 1], atol=1e-13)


def test_analysis_exact_on_cosine_sum_2d():
    G1, G2 = 12, 10
    x1, x2 = basis.midpoints(G1), basis.midpoints(G2)
    X1, X2 = np.meshgrid(x1, x2, indexing="ij")
    terms = {(0, 0): 1.5, (3, 1): -0.25, (11, 9): 0.75, (2, 0): 2.0}
    u = sum(a * phi_1d(k1, X1) * phi_1d(k2, X2) for (k1, k2), a in terms.items())
    grid = basis.analysis(u[None], 2)[0]
    expected = np.zeros((G1, G2))
    for (k1, k2), a in terms.items():
        expected[k1, k2] = a
    np.testing.assert_allclose(grid, expected, atol=1e-13)


def test_sample_and_coefficients_in_mode_order():
    modes = np.array([[0], [1], [2], [5]])
    c = np.array([[1.0, -2.0, 0.5, 0.25], [0.0, 1.0, 0.0, -1.0]])
    G = 32
    samples = basis.sample(c, modes, (G,))
    x = basis.midpoints(G)
    direct = sum(c[:, [j]] * phi_1d(k, x)[None] for j, k in enumerate(modes[:, 0]))
    np.testing.assert_allclose(samples, direct, atol=1e-13)
    np.testing.assert_allclose(basis.coefficients(samples, modes), c, atol=1e-13)


def test_evaluate_matches_samples():
    modes = np.array([[0, 0], [1, 0], [0, 1], [2, 2]])
    c = np.random.default_rng(1).standard_normal((2, 4))
    G = (8, 6)
    X1, X2 = np.meshgrid(basis.midpoints(8), basis.midpoints(6), indexing="ij")
    points = np.stack([X1.ravel(), X2.ravel()], axis=1)
    np.testing.assert_allclose(basis.evaluate(c, modes, points).reshape(2, *G),
                               basis.sample(c, modes, G), atol=1e-13)


# --- Sobolev norms ---------------------------------------------------------------------

def test_sobolev_h1_norm_equals_l2_plus_gradient_by_hand():
    # u(x) = 1 + cos(πx) − 2 cos(3πx) = φ_0 + φ_1/√2 − √2 φ_3.
    # By hand: ‖u‖² = 1 + 1/2 + 4/2 = 7/2; u' = −π sin(πx) + 6π sin(3πx),
    # ‖u'‖² = π²/2 + 36π²/2 = 37π²/2.  So ‖u‖²_{H¹} = 7/2 + 37π²/2.
    modes = np.array([[0], [1], [3]])
    c = np.array([[1.0, 1 / math.sqrt(2), -math.sqrt(2)]])
    expected = 7 / 2 + 37 * math.pi ** 2 / 2
    assert basis.sobolev_norm(c, modes, 1.0)[0] ** 2 == pytest.approx(expected, rel=1e-13)
    # and by adaptive quadrature of the same formula, from the function itself
    u = lambda x: 1 + np.cos(np.pi * x) - 2 * np.cos(3 * np.pi * x)
    du = lambda x: -np.pi * np.sin(np.pi * x) + 6 * np.pi * np.sin(3 * np.pi * x)
    quad = (integrate.quad(lambda x: u(x) ** 2, 0, 1)[0]
            + integrate.quad(lambda x: du(x) ** 2, 0, 1)[0])
    assert quad == pytest.approx(expected, rel=1e-10)


def test_sobolev_norm_s0_is_l2_norm_and_weights():
    modes = np.array([[0, 0], [1, 2], [3, 0]])
    c = np.array([[0.5, -1.0, 2.0]])
    assert basis.sobolev_norm(c, modes, 0.0)[0] == pytest.approx(math.sqrt(0.25 + 1 + 4))
    lam = np.pi ** 2 * np.array([0, 5, 9])
    np.testing.assert_allclose(basis.eigenvalues(modes), lam)
    np.testing.assert_allclose(basis.sobolev_weights(modes, 3.0), (1 + lam) ** 1.5)


def test_grid_modes_c_order():
    m = basis.grid_modes((2, 3))
    assert m.tolist() == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]


# --- bad input -------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    np.array([1.0, 2.0]),                       # no batch axis in d = 1
    np.zeros((2, 3, 4)),                        # d = 2 array for d = 1
    np.array([[1.0, np.nan, 0.0]]),             # NaN
    np.array([[1.0, np.inf]]),                  # inf
    np.zeros((2, 0)),                           # empty grid
    [["a", "b"]],                               # not numeric
])
def test_analysis_rejects_bad_samples(bad):
    with pytest.raises(InputError) as info:
        basis.analysis(bad, 1)
    assert info.value.parameter == "samples"


def test_coefficients_rejects_bad_samples_2d():
    with pytest.raises(InputError, match="samples"):
        basis.coefficients(np.zeros((4, 4)), np.array([[0, 0]]))


def test_to_grid_rejects_modes_beyond_grid():
    with pytest.raises(InputError):
        basis.to_grid(np.zeros((1, 2)), np.array([[0], [8]]), (8,))
