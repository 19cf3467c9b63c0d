"""Tests of mono.construct.operator against hand computations.

Every expected value is computed here from the formula of a layer, with cosines
evaluated directly by numpy (no DCT), so the tests are independent of the forward
pass they check.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mono.bounds.sizes import Sizes
from mono.construct.operator import (
    Layer, NeuralOperator, count, decoder, dense, encoder, load, nonzeros, save,
)
from mono.errors import InputError

SQ2 = math.sqrt(2.0)


def grid1(G):
    return (np.arange(G) + 0.5) / G


def grid2(G1, G2):
    return np.meshgrid(grid1(G1), grid1(G2), indexing="ij")


def phi(k, *xs):
    """φ_k at points, straight from the definition Π_j c(k_j) cos(π k_j x_j)."""
    out = np.ones_like(xs[0])
    for kj, xj in zip(k, xs):
        out = out * (1.0 if kj == 0 else SQ2) * np.cos(np.pi * kj * xj)
    return out


def midpoint_inner(f, g):
    """(1/#points) Σ f g: the midpoint rule for ⟨f, g⟩ on [0, 1]^d."""
    return float(np.mean(f * g))


def relu(x):
    return np.maximum(x, 0.0)


# ------------------------------------------------------------------- hand networks

def hand_network_1d():
    """Layer 1: W, b and a rank-2 kernel (χ = φ_1, φ_2; ψ = φ_0, φ_3), ReLU.
    Layer 2: rank-2 kernel (χ = φ_0, φ_1; ψ = φ_2, φ_0), identity."""
    l1 = Layer(W=[[[1.0], [-2.0]]], b=[3.0, 0.1],
               C=[[[0.5], [1.0]], [[0.2], [-0.7]]],
               chi=[[1], [2]], psi=[[0], [3]], activation="relu")
    l2 = Layer(C=[[[1.5, -0.25]], [[0.75, 2.0]]], chi=[[0], [1]], psi=[[2], [0]],
               activation="identity")
    return NeuralOperator((l1, l2), d=1)


def hand_network_2d():
    l1 = Layer(W=[[[0.5], [-1.0]]], b=[2.0, -0.2],
               C=[[[1.0], [0.3]], [[-0.4], [0.8]]],
               chi=[[1, 0], [0, 2]], psi=[[0, 0], [2, 1]], activation="relu")
    l2 = Layer(C=[[[0.6, -1.2]], [[0.9, 0.5]]], chi=[[0, 0], [1, 1]], psi=[[1, 2], [0, 0]],
               activation="identity")
    return NeuralOperator((l1, l2), d=2)


def test_two_layer_1d_matches_hand_formula():
    G = 32
    x = grid1(G)
    # u = 0.4 + 0.9 φ_1 − 0.5 φ_2 + 0.3 φ_5, so ⟨u, φ_1⟩ = 0.9 and ⟨u, φ_2⟩ = −0.5.
    u = 0.4 + 0.9 * phi([1], x) - 0.5 * phi([2], x) + 0.3 * phi([5], x)
    pre0 = 1.0 * u + 3.0 + 0.5 * 0.9 + 0.2 * (-0.5) * phi([3], x)
    pre1 = -2.0 * u + 0.1 + 1.0 * 0.9 + (-0.7) * (-0.5) * phi([3], x)
    assert (pre0 > 0).all()                     # channel 0: ReLU inert, an exact cosine sum
    assert (pre1 < 0).any() and (pre1 > 0).any()  # channel 1: the ReLU really cuts
    v0, v1 = relu(pre0), relu(pre1)
    # Channel 0 is 3.85 + 0.9 φ_1 − 0.5 φ_2 − 0.1 φ_3 + 0.3 φ_5: its inner products are exact.
    a0, b0 = 3.85, 0.9
    a1, b1 = midpoint_inner(v1, 1.0), midpoint_inner(v1, phi([1], x))
    expected = phi([2], x) * (1.5 * a0 - 0.25 * a1) + (0.75 * b0 + 2.0 * b1)
    out = hand_network_1d()(u[None])
    assert out.shape == (1, G)
    np.testing.assert_allclose(out[0], expected, rtol=0, atol=1e-12)
    # a batch of two is two independent evaluations
    out2 = hand_network_1d()(np.stack([u, 2 * u]))
    np.testing.assert_allclose(out2[0], expected, atol=1e-12)
    assert not np.allclose(out2[1], 2 * expected)  # the network is not linear


def test_two_layer_2d_matches_hand_formula():
    G1, G2 = 16, 12
    x, y = grid2(G1, G2)
    # u = 0.3 + 0.7 φ_(1,0) − 0.4 φ_(0,2) + 0.5 φ_(3,1)
    u = 0.3 + 0.7 * phi([1, 0], x, y) - 0.4 * phi([0, 2], x, y) + 0.5 * phi([3, 1], x, y)
    c1, c2 = 0.7, -0.4
    pre0 = 0.5 * u + 2.0 + 1.0 * c1 + (-0.4) * c2 * phi([2, 1], x, y)
    pre1 = -1.0 * u - 0.2 + 0.3 * c1 + 0.8 * c2 * phi([2, 1], x, y)
    assert (pre1 < 0).any() and (pre1 > 0).any()
    v0, v1 = relu(pre0), relu(pre1)
    p = [midpoint_inner(v, 1.0) for v in (v0, v1)]
    q = [midpoint_inner(v, phi([1, 1], x, y)) for v in (v0, v1)]
    expected = phi([1, 2], x, y) * (0.6 * p[0] - 1.2 * p[1]) + (0.9 * q[0] + 0.5 * q[1])
    out = hand_network_2d()(u[None])
    assert out.shape == (1, G1, G2)
    np.testing.assert_allclose(out[0], expected, rtol=0, atol=1e-12)


def test_constant_input_kernel_with_nonconstant_psi_becomes_sampled():
    # encoder reads a0 = ⟨u, 1⟩, a1 = ⟨u, φ_1⟩; the hidden kernel writes a0 φ_2 on a constant
    # input, and its second term vanishes: ⟨constant, φ_3⟩ = 0.
    hidden = Layer(W=[[[0.0, 1.0]]], b=[0.2], C=[[[1.0, 0.0]], [[5.0, 5.0]]],
                   chi=[[0], [3]], psi=[[2], [0]], activation="relu")
    op = NeuralOperator((encoder([[0], [1]]), hidden, dense([[2.0]], [-0.1], "identity")), d=1)
    x = grid1(24)
    u = 0.6 - 0.3 * phi([1], x) + 0.2 * phi([4], x)
    expected = 2.0 * relu(-0.3 + 0.2 + 0.6 * phi([2], x)) - 0.1
    np.testing.assert_allclose(op(u[None])[0], expected, atol=1e-13)
    with pytest.raises(ValueError, match="x-dependent"):
        op.forward_constant([[0.6, -0.3]])


def test_constant_output_is_broadcast_over_the_grid():
    # A functional: encoder of φ_0 and φ_1, relu(a0 − a1), readout, decoder onto φ_0.
    op = NeuralOperator((encoder([[0], [1]]), dense([[1.0, -1.0]], [0.0]),
                         dense([[3.0]], [0.5], "identity"), decoder([[0]])), d=1)
    x = grid1(8)
    u = np.stack([1.0 + 0.25 * phi([1], x), 0.1 + 0.5 * phi([1], x)])
    out = op(u)
    np.testing.assert_allclose(out, np.array([[3 * 0.75 + 0.5] * 8, [0.5] * 8]), atol=1e-14)
    out[0, 0] = 7.0  # the result is an ordinary writeable array, not a broadcast view
    assert out[0, 1] != 7.0


# --------------------------------------------------------------------------- groups

def block_diagonal(W):
    g, o, i = W.shape
    D = np.zeros((g * o, g * i))
    for k in range(g):
        D[k * o:(k + 1) * o, k * i:(k + 1) * i] = W[k]
    return D


@settings(max_examples=25, deadline=None)
@given(groups=st.integers(1, 4), o=st.integers(1, 3), i=st.integers(1, 3),
       seed=st.integers(0, 2 ** 31 - 1))
def test_grouped_map_equals_block_diagonal_dense(groups, o, i, seed):
    rng = np.random.default_rng(seed)
    n = groups * i
    W = rng.normal(size=(groups, o, i))
    b = rng.normal(size=groups * o)
    readout = dense(rng.normal(size=(2, groups * o)), rng.normal(size=2), "identity")
    modes = np.arange(n)[:, None]
    grouped = NeuralOperator((encoder(modes), Layer(W=W, b=b), readout, decoder([[0], [3]])), d=1)
    plain = NeuralOperator((encoder(modes), dense(block_diagonal(W), b), readout,
                            decoder([[0], [3]])), d=1)
    samples = rng.normal(size=(3, max(n, 4) + 3))
    np.testing.assert_allclose(grouped(samples), plain(samples), rtol=1e-12, atol=1e-12)
    a = rng.normal(size=(5, n))
    np.testing.assert_allclose(grouped.forward_constant(a), plain.forward_constant(a),
                               rtol=1e-12, atol=1e-12)
    # and against the block formula itself, channel by channel
    h = a.reshape(5, groups, i)
    hidden = relu(np.einsum("goi,bgi->bgo", W, h).reshape(5, -1) + b)
    np.testing.assert_allclose(grouped.forward_constant(a), hidden @ readout.W[0].T + readout.b,
                               rtol=1e-12, atol=1e-12)


def test_grouped_map_on_sampled_channels():
    # The first layer writes x-dependent channels, so the grouped map runs on samples.
    rng = np.random.default_rng(1)
    lift = Layer(W=rng.normal(size=(1, 6, 1)), C=rng.normal(size=(2, 6, 1)),
                 chi=[[0], [2]], psi=[[1], [3]], activation="identity")
    W = rng.normal(size=(3, 2, 2))
    tail = (dense(rng.normal(size=(4, 6)), None, "identity"),
            dense(rng.normal(size=(1, 4)), [0.3], "identity"))
    grouped = NeuralOperator((lift, Layer(W=W, b=rng.normal(size=6)), *tail), d=1)
    plain = NeuralOperator((lift, dense(block_diagonal(W), grouped.layers[1].b), *tail), d=1)
    samples = rng.normal(size=(2, 16))
    np.testing.assert_allclose(grouped(samples), plain(samples), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------- counting

def test_count_hand_network():
    op = hand_network_1d()
    # layer 1: W 2 + b 2 + C 2·2·1 = 8; layer 2: C 2·1·2 = 4.
    assert count(op) == Sizes(depth=2, width=2, rank=2, params=12)
    assert isinstance(count(op).params, int)
    # nonzeros of the hand network are all 12; zero two entries and count 10.
    l1 = op.layers[0]
    W = np.array(l1.W)
    W[0, 1, 0] = 0.0
    C = np.array(l1.C)
    C[1, 0, 0] = 0.0
    sparse = NeuralOperator((Layer(W=W, b=l1.b, C=C, chi=l1.chi, psi=l1.psi), op.layers[1]), d=1)
    assert nonzeros(op) == 12 and nonzeros(sparse) == 10
    assert count(sparse).params == 12  # zeros are stored numbers too


def test_count_simplex_expert_shape():
    # encoder (n²) + affine M×n with bias + decoder (M²); width max(n, M), rank max(n, M).
    for n, M in [(3, 5), (6, 2), (4, 4)]:
        op = NeuralOperator((encoder(np.arange(n)[:, None]),
                             dense(np.ones((M, n)), np.ones(M), "identity"),
                             decoder(np.arange(M)[:, None])), d=1)
        assert count(op) == Sizes(depth=3, width=max(n, M), rank=max(n, M),
                                  params=n * n + M * n + M + M * M)
        assert nonzeros(op) == n + M * n + M + M  # e_j matrices have one nonzero each


def test_count_grouped_and_kernel_free():
    op = NeuralOperator((dense([[1.0], [2.0], [0.0]], [0.0, 1.0, 0.0], "identity"),
                         Layer(W=np.ones((3, 2, 1)), b=np.zeros(6)),
                         dense(np.ones((1, 6)), None, "identity")), d=2)
    # 3 + 3 | 3·2·1 + 6 | 6
    assert count(op) == Sizes(depth=3, width=6, rank=0, params=24)
    assert nonzeros(op) == 2 + 1 + 6 + 0 + 6
    assert count(NeuralOperator((dense([[1.0]], None, "identity"),), d=1)).width == 0


# ----------------------------------------------------------------- encoder/decoder

@pytest.mark.parametrize("modes", [[[0], [1], [2], [3], [4]], [[5], [0], [2]], [[7]]])
def test_encoder_decoder_is_projection_1d(modes):
    rng = np.random.default_rng(2)
    G = 64
    x = grid1(G)
    coef = rng.normal(size=(3, 20))
    u = coef @ np.stack([phi([k], x) for k in range(20)])
    op = NeuralOperator((encoder(modes), decoder(modes)), d=1)
    ks = [m[0] for m in modes]
    expected = coef[:, ks] @ np.stack([phi([k], x) for k in ks])
    np.testing.assert_allclose(op(u), expected, atol=1e-12)
    enc = encoder(modes)
    assert (enc.c_in, enc.c_out, enc.rank) == (1, len(modes), len(modes))
    assert count(NeuralOperator((enc, decoder(modes)), d=1)).params == 2 * len(modes) ** 2


def test_encoder_decoder_is_projection_2d():
    rng = np.random.default_rng(3)
    G1, G2 = 20, 16
    x, y = grid2(G1, G2)
    all_modes = [(a, b) for a in range(6) for b in range(6)]
    coef = rng.normal(size=(2, len(all_modes)))
    basis = np.stack([phi(k, x, y) for k in all_modes])
    u = np.einsum("bk,kij->bij", coef, basis)
    modes = [(0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (3, 4)]
    op = NeuralOperator((encoder(modes), decoder(modes)), d=2)
    idx = [all_modes.index(m) for m in modes]
    expected = np.einsum("bk,kij->bij", coef[:, idx], basis[idx])
    np.testing.assert_allclose(op(u), expected, atol=1e-12)
    # two layers: the readout is the encoder output itself
    np.testing.assert_allclose(op.forward_constant(coef[:, idx]), coef[:, idx])


def test_forward_constant_gives_the_output_coefficients():
    rng = np.random.default_rng(4)
    n, M, H = 4, 3, 7
    hidden = dense(rng.normal(size=(H, n)), rng.normal(size=H))
    readout = dense(rng.normal(size=(M, H)), rng.normal(size=M), "identity")
    in_modes, out_modes = [[0], [1], [2], [3]], [[0], [2], [5]]
    op = NeuralOperator((encoder(in_modes), hidden, readout, decoder(out_modes)), d=1)
    x = grid1(40)
    a = rng.normal(size=(6, n))
    u = a @ np.stack([phi(k, x) for k in in_modes]) + 0.3 * phi([9], x)  # a mode outside I_n
    hand = relu(a @ hidden.W[0].T + hidden.b) @ readout.W[0].T + readout.b
    y = op.forward_constant(a)
    np.testing.assert_allclose(y, hand, atol=1e-12)
    np.testing.assert_allclose(op(u), y @ np.stack([phi(k, x) for k in out_modes]), atol=1e-12)


# ------------------------------------------------------------------------ save/load

def networks():
    rng = np.random.default_rng(5)
    grouped = NeuralOperator((encoder([[0], [1], [2], [3]]),
                              Layer(W=rng.normal(size=(2, 3, 2)), b=rng.normal(size=6)),
                              dense(rng.normal(size=(2, 6)), None, "identity"),
                              decoder([[1], [0]])), d=1)
    return [hand_network_1d(), hand_network_2d(), grouped]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_save_load_round_trip_is_exact(tmp_path, index):
    op = networks()[index]
    path = tmp_path / "net"  # no extension: the file must land exactly here
    save(op, path)
    assert path.exists() and not (tmp_path / "net.npz").exists()
    back = load(path)
    assert back == op and back.d == op.d
    for a, b in zip(op.layers, back.layers):
        for name in ("W", "b", "C", "chi", "psi"):
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None) == (y is None)
            if x is not None:
                assert x.dtype == y.dtype and np.array_equal(x, y)
        assert a.activation == b.activation
    grid = (24,) if op.d == 1 else (10, 12)
    u = np.random.default_rng(6).normal(size=(2,) + grid)
    assert np.array_equal(op(u), back(u))
    assert load(str(path)) == op  # str paths work too


def archive_dict(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def rewrite(path, arrays, allow_pickle=False):
    with open(path, "wb") as f:
        np.savez(f, allow_pickle=allow_pickle, **arrays)


def corrupt_cases():
    return {
        "missing layer key": lambda a: a.pop("layer1/C"),
        "missing activation": lambda a: a.pop("layer0/activation"),
        "missing n_layers": lambda a: a.pop("n_layers"),
        "wrong version": lambda a: a.update({"format_version": np.array(99)}),
        "bias too short": lambda a: a.update({"layer0/b": np.zeros(1)}),
        "psi wrong rank": lambda a: a.update({"layer0/psi": np.zeros((3, 1), dtype=np.int64)}),
        "float modes": lambda a: a.update({"layer0/chi": np.array([[1.0], [2.0]])}),
        "nan weight": lambda a: a.update({"layer0/W": np.full((1, 2, 1), np.nan)}),
        "bad activation": lambda a: a.update({"layer0/activation": np.array("tanh")}),
        "activation not 0-d": lambda a: a.update({"layer0/activation": np.array(["relu"])}),
        "unknown key": lambda a: a.update({"layer7/W": np.zeros((1, 1, 1))}),
        "n_layers too large": lambda a: a.update({"n_layers": np.array(3)}),
        "d wrong": lambda a: a.update({"d": np.array(2)}),
        "chain broken": lambda a: a.update({"layer1/C": np.zeros((2, 1, 3))}),
        "string weights": lambda a: a.update({"layer0/b": np.array(["a", "b"])}),
    }


@pytest.mark.parametrize("case", sorted(corrupt_cases()))
def test_load_rejects_corrupted_files(tmp_path, case):
    path = tmp_path / "net.npz"
    save(hand_network_1d(), path)
    arrays = archive_dict(path)
    corrupt_cases()[case](arrays)
    rewrite(path, arrays)
    with pytest.raises(InputError) as info:
        load(path)
    assert info.value.parameter == "path"


def test_load_refuses_pickled_objects(tmp_path):
    path = tmp_path / "net.npz"
    save(hand_network_1d(), path)
    arrays = archive_dict(path)
    arrays["layer0/W"] = np.array([{"evil": 1}], dtype=object)
    rewrite(path, arrays, allow_pickle=True)
    with pytest.raises(InputError, match="path"):
        load(path)
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps({"layers": []}))
    with pytest.raises(InputError, match="path"):
        load(raw)


def test_load_rejects_unreadable_paths(tmp_path):
    with pytest.raises(InputError, match="path"):
        load(tmp_path / "absent.npz")
    text = tmp_path / "text.npz"
    text.write_text("not a zip")
    with pytest.raises(InputError, match="path"):
        load(text)
    single = tmp_path / "one.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(InputError, match="path"):
        load(single)
    with pytest.raises(InputError, match="path"):
        save(hand_network_1d(), tmp_path / "no" / "such" / "dir.npz")


# ----------------------------------------------------------------------- validation

@pytest.mark.parametrize("kwargs, message", [
    (dict(b=[1.0]), "needs a channel map W or a kernel C"),
    (dict(W=np.ones((2, 2))), "W must have shape"),
    (dict(W=np.ones((1, 2, 1)), b=np.ones(3)), "b must have shape"),
    (dict(C=np.ones((2, 1, 1)), chi=[[0], [1]]), "needs both chi and psi"),
    (dict(W=np.ones((1, 1, 1)), chi=[[0]]), "only allowed together with a kernel"),
    (dict(C=np.ones((2, 1, 1)), chi=[[0]], psi=[[0], [1]]), "chi must have shape"),
    (dict(C=np.ones((1, 1, 1)), chi=[[0, 0, 0]], psi=[[0, 0, 0]]), "d in"),
    (dict(C=np.ones((1, 1, 1)), chi=[[0]], psi=[[0, 1]]), "disagree on d"),
    (dict(C=np.ones((1, 1, 1)), chi=[[-1]], psi=[[0]]), "non-negative"),
    (dict(C=np.ones((1, 1, 1)), chi=[[0.5]], psi=[[0]]), "integer"),
    (dict(W=np.ones((1, 2, 1)), C=np.ones((1, 2, 2)), chi=[[0]], psi=[[0]]), "but W gives"),
    (dict(W=np.ones((1, 1, 1)), activation="tanh"), "activation"),
    (dict(W=np.full((1, 1, 1), np.inf)), "NaN or infinite"),
])
def test_layer_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Layer(**kwargs)


def test_layer_is_immutable():
    W = np.ones((1, 2, 1))
    layer = Layer(W=W)
    W[0, 0, 0] = 5.0  # the caller's array is not shared
    assert layer.W[0, 0, 0] == 1.0
    with pytest.raises(ValueError):
        layer.W[0, 0, 0] = 2.0
    with pytest.raises(AttributeError):
        layer.activation = "identity"
    assert (layer.groups, layer.c_in, layer.c_out, layer.rank) == (1, 1, 2, 0)
    grouped = Layer(W=np.ones((3, 2, 4)))
    assert (grouped.groups, grouped.c_in, grouped.c_out) == (3, 12, 6)


def test_operator_validation():
    enc, dec = encoder([[0], [1]]), decoder([[0], [1], [2]])
    with pytest.raises(ValueError, match="layer 0 writes 2 channels but layer 1 reads 3"):
        NeuralOperator((enc, dec), d=1)
    with pytest.raises(ValueError, match="first layer must read 1 channel"):
        NeuralOperator((dense(np.ones((1, 2)), None, "identity"),), d=1)
    with pytest.raises(ValueError, match="last layer must write 1 channel"):
        NeuralOperator((enc,), d=1)
    middle = [dense(np.eye(2), None, act) for act in ("relu", "identity", "relu")]
    with pytest.raises(ValueError, match="layer 2 has the identity activation"):
        NeuralOperator((enc, middle[0], middle[1], middle[2], decoder([[0], [1]])), d=1)
    NeuralOperator((enc, middle[0], middle[2], middle[1], decoder([[0], [1]])), d=1)  # fine
    with pytest.raises(ValueError, match="dimension 1"):
        NeuralOperator((enc, decoder([[0], [1]])), d=2)
    with pytest.raises(ValueError, match="d must be 1 or 2"):
        NeuralOperator((dense([[1.0]], None, "identity"),), d=3)
    with pytest.raises(ValueError, match="at least one layer"):
        NeuralOperator((), d=1)
    with pytest.raises(ValueError, match="not a Layer"):
        NeuralOperator(("encoder",), d=1)


@pytest.mark.parametrize("bad", [
    np.zeros(16),                      # no batch axis
    np.zeros((1, 4, 4)),               # 2-d samples for a d = 1 operator
    np.zeros((1, 3)),                  # grid too small for the modes
    np.full((1, 16), np.nan),
    np.array([[0.0] * 15 + [np.inf]]),
    [["a"] * 16],
])
def test_call_rejects_bad_samples(bad):
    op = hand_network_1d()
    with pytest.raises(InputError) as info:
        op(bad)
    assert info.value.parameter == "samples"


def test_call_grid_minimum_and_forward_constant_checks():
    op = hand_network_2d()
    assert op.grid_min == (3, 3)  # modes up to (2, 1), (1, 2), (1, 1)
    op(np.zeros((1, 3, 3)))
    with pytest.raises(InputError, match="samples"):
        op(np.zeros((1, 3, 2)))
    net = NeuralOperator((encoder([[0], [1]]), dense(np.eye(2)),
                          dense(np.ones((1, 2)), None, "identity"), decoder([[0]])), d=1)
    for bad in (np.zeros(2), np.zeros((1, 3)), [[np.nan, 0.0]]):
        with pytest.raises(InputError, match="channels"):
            net.forward_constant(bad)
    with pytest.raises(ValueError, match=">= 2 layers"):
        NeuralOperator((dense([[1.0]], None, "identity"),), d=1).forward_constant([[1.0]])
