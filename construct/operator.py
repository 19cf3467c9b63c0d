"""Neural operators as plain arrays: layers, the exact forward pass, counting, ``.npz`` I/O.

A layer maps channel functions v_in : Ω → ℝ^{c_in} to

    v_out(x) = σ( W v_in(x) + b + Σ_{j<r} ψ_j(x) C_j ⟨v_in, χ_j⟩ ),

with a pointwise (possibly grouped, i.e. block-diagonal) channel map ``W``, a bias
``b``, a finite-rank kernel with coefficient matrices ``C_j`` and fixed cosine
functions χ_j = φ_{chi[j]}, ψ_j = φ_{psi[j]}, and σ = ReLU or the identity.  The
definition, the counting rules and the file format are derived in
``docs/theory.md`` (section "The neural-operator layer").

Forward pass
------------
An activation is either *constant* in x, stored as ``(batch, channels)``, or
*sampled* on the midpoint grid, ``(batch, channels, *grid)``.  Constants stay
constants whenever the mathematics allows it: ⟨v, χ_j⟩ of a constant v is
v·[χ_j = φ_0] (every other cosine integrates to zero), and a kernel whose ψ are all
φ_0 writes a constant.  So the hidden layers of the encoder–MLP–decoder networks run
on ``(batch, channels)`` arrays with no grid at all.  For a sampled v, ⟨v, χ_j⟩ is
read from the DCT of the samples (the midpoint rule, exact for cosine sums that the
grid resolves), and Σ_j ψ_j C_j c_j is synthesised by the inverse DCT.

File format (``save``/``load``)
-------------------------------
An ``.npz`` archive (zip of ``.npy`` arrays, no pickled objects) with keys

* ``format_version`` — 0-d int, currently ``1``;
* ``d`` — 0-d int, the domain dimension; ``n_layers`` — 0-d int;
* for each layer ``i`` in ``0 .. n_layers-1``: ``layer{i}/activation`` (0-d unicode
  array, ``"relu"`` or ``"identity"``) and those of ``layer{i}/W``, ``layer{i}/b``,
  ``layer{i}/C`` (float64), ``layer{i}/chi``, ``layer{i}/psi`` (int64) that the layer
  has, with exactly the shapes of the :class:`Layer` fields.

No other key is allowed.  ``load`` validates everything and raises
:class:`mono.errors.InputError` naming ``"path"``; the round trip is exact.
"""

from __future__ import annotations

import math
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from mono.bounds.sizes import Sizes
from mono.construct import basis
from mono.errors import InputError, require

ACTIVATIONS = ("relu", "identity")
FORMAT_VERSION = 1
_WEIGHTS = ("W", "b", "C")
_MODES = ("chi", "psi")


def _frozen(array, dtype) -> np.ndarray:
    """A private read-only copy, so that nobody can change a layer behind its back."""
    out = np.array(array, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


def _frozen_modes(array, name: str) -> np.ndarray:
    a = np.asarray(array)
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must be an integer array of modes, got dtype {a.dtype}")
    return _frozen(a, np.int64)


@dataclass(frozen=True, eq=False)
class Layer:
    """One neural-operator layer; see the module docstring for the formula.

    Parameters
    ----------
    W : ndarray, shape (groups, c_out // groups, c_in // groups), optional
        Pointwise channel map; block g of the output channels reads only block g of
        the input channels (consecutive blocks of equal size).
    b : ndarray, shape (c_out,), optional
        Bias.
    C : ndarray, shape (rank, c_out, c_in), optional
        Kernel coefficient matrices C_j.
    chi, psi : ndarray, shape (rank, d), int
        Modes of χ_j and ψ_j; required exactly when ``C`` is given.
    activation : {"relu", "identity"}

    Notes
    -----
    The arrays are copied and made read-only, so a layer is immutable.  Equality is
    exact equality of activation and arrays.  Violations of the shape rules raise
    ``ValueError`` (they are programming errors, not user input).
    """

    W: np.ndarray | None = None
    b: np.ndarray | None = None
    C: np.ndarray | None = None
    chi: np.ndarray | None = None
    psi: np.ndarray | None = None
    activation: str = "relu"

    def __post_init__(self):
        for name in _WEIGHTS:
            value = getattr(self, name)
            if value is not None:
                value = _frozen(value, np.float64)
                if not np.isfinite(value).all():
                    raise ValueError(f"layer {name} contains NaN or infinite weights")
                object.__setattr__(self, name, value)
        for name in _MODES:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _frozen_modes(value, name))
        _check_layer(self)

    # Shapes are derived from the arrays only, so they can never disagree with them.
    @property
    def groups(self) -> int:
        """Number of blocks of the channel map (1 without ``W``)."""
        return 1 if self.W is None else int(self.W.shape[0])

    @property
    def c_in(self) -> int:
        """Input channel count."""
        if self.W is not None:
            return int(self.W.shape[0] * self.W.shape[2])
        return int(self.C.shape[2])

    @property
    def c_out(self) -> int:
        """Output channel count."""
        if self.W is not None:
            return int(self.W.shape[0] * self.W.shape[1])
        return int(self.C.shape[1])

    @property
    def rank(self) -> int:
        """Kernel rank r (0 without a kernel)."""
        return 0 if self.C is None else int(self.C.shape[0])

    @property
    def d(self) -> int | None:
        """Domain dimension read from the kernel modes (None without a kernel)."""
        return None if self.chi is None else int(self.chi.shape[1])

    @property
    def writes_constant(self) -> bool:
        """True when a constant input gives a constant output (no ψ_j other than φ_0)."""
        return self.psi is None or not self.psi.any()

    def __eq__(self, other):
        if not isinstance(other, Layer):
            return NotImplemented
        return self.activation == other.activation and all(
            _same(getattr(self, n), getattr(other, n)) for n in _WEIGHTS + _MODES)

    __hash__ = None  # equality is by value of mutable-typed arrays

    def __repr__(self):
        return (f"Layer(c_in={self.c_in}, c_out={self.c_out}, groups={self.groups}, "
                f"rank={self.rank}, bias={self.b is not None}, activation={self.activation!r})")


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _check_layer(layer: Layer) -> None:
    """Raise ValueError unless the arrays of ``layer`` fit together."""
    W, b, C, chi, psi = layer.W, layer.b, layer.C, layer.chi, layer.psi
    if layer.activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {layer.activation!r}")
    if W is None and C is None:
        raise ValueError("a layer needs a channel map W or a kernel C")
    if W is not None and (W.ndim != 3 or min(W.shape) < 1):
        raise ValueError("W must have shape (groups, c_out // groups, c_in // groups) with "
                         f"all axes >= 1, got {W.shape}")
    if C is None:
        if chi is not None or psi is not None:
            raise ValueError("chi and psi are only allowed together with a kernel C")
    else:
        if C.ndim != 3 or min(C.shape) < 1:
            raise ValueError(f"C must have shape (rank, c_out, c_in) with all axes >= 1, got {C.shape}")
        if chi is None or psi is None:
            raise ValueError("a kernel C needs both chi and psi")
        for name, m in (("chi", chi), ("psi", psi)):
            if m.ndim != 2 or m.shape[0] != C.shape[0] or m.shape[1] not in (1, 2):
                raise ValueError(f"{name} must have shape (rank={C.shape[0]}, d) with d in "
                                 f"(1, 2), got {m.shape}")
            if (m < 0).any():
                raise ValueError(f"{name} modes must be non-negative")
        if chi.shape[1] != psi.shape[1]:
            raise ValueError(f"chi and psi disagree on d: {chi.shape[1]} != {psi.shape[1]}")
        if W is not None and (C.shape[1], C.shape[2]) != (layer.c_out, layer.c_in):
            raise ValueError(f"C has (c_out, c_in) = {C.shape[1:]} but W gives "
                             f"({layer.c_out}, {layer.c_in})")
    if b is not None and b.shape != (layer.c_out,):
        raise ValueError(f"b must have shape (c_out,) = ({layer.c_out},), got {b.shape}")


@dataclass(frozen=True, eq=False)
class NeuralOperator:
    """A stack of :class:`Layer` s acting on scalar functions on [0, 1]^d.

    Parameters
    ----------
    layers : sequence of Layer
        Consecutive layers chain (c_out of layer ℓ = c_in of layer ℓ+1); the first
        reads one channel and the last writes one.  Identity activations are allowed
        only on the first layer (encoder), the last layer (decoder) and the
        second-to-last layer (readout channel map); every other layer is ReLU.
    d : int
        Domain dimension, 1 or 2; every kernel's modes must have d components.
    """

    layers: tuple[Layer, ...]
    d: int

    def __post_init__(self):
        layers = tuple(self.layers)
        object.__setattr__(self, "layers", layers)
        if not isinstance(self.d, (int, np.integer)) or isinstance(self.d, bool) or self.d not in (1, 2):
            raise ValueError(f"d must be 1 or 2, got {self.d!r}")
        object.__setattr__(self, "d", int(self.d))
        if not layers:
            raise ValueError("a neural operator needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"layer {i} is a {type(layer).__name__}, not a Layer")
            if layer.d is not None and layer.d != self.d:
                raise ValueError(f"layer {i} has kernel modes of dimension {layer.d}, "
                                 f"the operator has d = {self.d}")
        if layers[0].c_in != 1:
            raise ValueError(f"the first layer must read 1 channel, it reads {layers[0].c_in}")
        if layers[-1].c_out != 1:
            raise ValueError(f"the last layer must write 1 channel, it writes {layers[-1].c_out}")
        for i in range(len(layers) - 1):
            if layers[i].c_out != layers[i + 1].c_in:
                raise ValueError(f"layer {i} writes {layers[i].c_out} channels but layer "
                                 f"{i + 1} reads {layers[i + 1].c_in}")
        last = len(layers) - 1
        for i, layer in enumerate(layers):
            if layer.activation == "identity" and i not in (0, last - 1, last):
                raise ValueError(f"layer {i} has the identity activation; only the first, the "
                                 "second-to-last and the last layer may (all others are ReLU)")

    @property
    def grid_min(self) -> tuple[int, ...]:
        """Smallest grid (per axis) resolving every χ_j and ψ_j of every kernel.

        On such grids the DCT inner products are exact for cosine sums of these modes
        and every ψ_j is represented, so nothing is dropped silently.
        """
        sizes = [np.ones(self.d, dtype=np.int64)]
        for layer in self.layers:
            if layer.C is not None:
                sizes.append(np.maximum(layer.chi.max(axis=0), layer.psi.max(axis=0)) + 1)
        return tuple(int(g) for g in np.max(sizes, axis=0))

    def __call__(self, samples) -> np.ndarray:
        """Apply the operator to functions sampled on a midpoint grid.

        Parameters
        ----------
        samples : array_like, shape (batch, G) for d = 1 or (batch, G1, G2) for d = 2
            Input values at the midpoint grid, every axis at least :attr:`grid_min`.

        Returns
        -------
        ndarray, same shape
            The output function sampled on the same grid (a constant is broadcast).
        """
        u = _check_samples(samples, self.d, self.grid_min)
        grid = u.shape[1:]
        v = u[:, None]
        for layer in self.layers:
            v = _apply(layer, v, grid)
        out = v[:, 0]
        if out.ndim == 1:  # a constant output: broadcast over the grid
            out = np.broadcast_to(out.reshape((-1,) + (1,) * self.d), u.shape)
        return np.array(out, dtype=np.float64)

    def forward_constant(self, channels) -> np.ndarray:
        """Run the layers strictly between the encoder and the decoder on constants.

        ``op(u)`` equals the decoder applied to ``forward_constant(a)`` where ``a`` are
        the encoder's output channels — when those are constant.  Networks use this
        to compute their output coefficients with no grid.

        Parameters
        ----------
        channels : array_like, shape (batch, layers[0].c_out)
            Constant channels, as the encoder writes them.

        Returns
        -------
        ndarray, shape (batch, layers[-1].c_in)
            The readout channels, i.e. the input of the decoder.  With two layers
            (encoder, decoder) this is ``channels`` itself.

        Raises
        ------
        ValueError
            If the operator has fewer than two layers or a middle layer's kernel has a
            ψ_j other than φ_0 (its output would not be constant).
        """
        if len(self.layers) < 2:
            raise ValueError("forward_constant needs an encoder and a decoder (>= 2 layers)")
        middle = self.layers[1:-1]
        for i, layer in enumerate(middle, start=1):
            if not layer.writes_constant:
                raise ValueError(f"layer {i} writes x-dependent output (a ψ_j other than φ_0); "
                                 "forward_constant needs constant hidden layers")
        width = self.layers[0].c_out
        try:
            v = np.array(channels, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError("channels", f"expected a numeric array ({exc})") from None
        require(v.ndim == 2 and v.shape[1] == width, "channels",
                f"expected shape (batch, {width}), got {v.shape}")
        require(bool(np.isfinite(v).all()), "channels", "contains NaN or infinite values")
        for layer in middle:
            v = _apply(layer, v, None)
        return v

    def __eq__(self, other):
        if not isinstance(other, NeuralOperator):
            return NotImplemented
        return self.d == other.d and len(self.layers) == len(other.layers) and all(
            a == b for a, b in zip(self.layers, other.layers))

    __hash__ = None

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"NeuralOperator(d={self.d}, depth={len(self.layers)}, layers=[{inner}])"


def _check_samples(samples, d: int, grid_min: tuple[int, ...]) -> np.ndarray:
    """Validate user samples: finite floats of shape (batch, *grid) on a large enough grid."""
    try:
        u = np.asarray(samples, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError("samples", f"expected a numeric array ({exc})") from None
    axes = "G" if d == 1 else "G1, G2"
    require(u.ndim == d + 1, "samples", f"expected shape (batch, {axes}) for d = {d}, got {u.shape}")
    require(all(g >= m for g, m in zip(u.shape[1:], grid_min)), "samples",
            f"grid {u.shape[1:]} is too small: this operator's modes need at least {grid_min}")
    require(bool(np.isfinite(u).all()), "samples", "contains NaN or infinite values")
    return u


def _apply(layer: Layer, v: np.ndarray, grid: tuple[int, ...] | None) -> np.ndarray:
    """One layer on v of shape (batch, c_in) [constant] or (batch, c_in, *grid) [sampled]."""
    parts = []
    if layer.W is not None:
        parts.append(_channel_map(layer.W, v))
    if layer.C is not None:
        parts.append(_kernel(layer, v, grid))
    if layer.b is not None:
        parts.append(layer.b[None])  # a constant; _add broadcasts it over a grid
    out = parts[0]  # W or kernel output: a fresh array, safe to modify in place
    for part in parts[1:]:
        out = _add(out, part)
    if layer.activation == "relu":
        np.maximum(out, 0.0, out=out)
    return out


def _add(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sum of a constant and/or sampled activation; constants broadcast over the grid."""
    if x.ndim < y.ndim:
        x, y = y, x
    return x + y.reshape(y.shape + (1,) * (x.ndim - y.ndim))


def _channel_map(W: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Block-diagonal W applied pointwise: block g of the output reads block g of v."""
    groups, o, i = W.shape
    batch, rest = v.shape[0], v.shape[2:]
    if not rest:  # constant: (groups, batch, i) @ (groups, i, o) is one batched GEMM
        blocks = v.reshape(batch, groups, i).transpose(1, 0, 2)
        return (blocks @ W.transpose(0, 2, 1)).transpose(1, 0, 2).reshape(batch, groups * o)
    points = math.prod(rest)
    blocks = v.reshape(batch, groups, i, points)
    return (W[None] @ blocks).reshape((batch, groups * o) + rest)


def _kernel(layer: Layer, v: np.ndarray, grid: tuple[int, ...] | None) -> np.ndarray:
    """Σ_j ψ_j(x) C_j ⟨v, χ_j⟩, constant when every ψ_j = φ_0."""
    batch, c_in = v.shape[:2]
    if v.ndim == 2:
        # ⟨c, φ_k⟩ = c·[k = 0]: the non-constant cosines integrate to zero on [0, 1]^d.
        is_zero = ~layer.chi.any(axis=1)
        coef = v[:, :, None] * is_zero[None, None, :].astype(np.float64)
    else:
        d = v.ndim - 2
        spectra = basis.analysis(v.reshape((batch * c_in,) + v.shape[2:]), d)
        coef = basis.from_grid(spectra, layer.chi).reshape(batch, c_in, layer.rank)
    # y[b, j, o] = Σ_i C[j, o, i] coef[b, i, j]
    y = np.einsum("joi,bij->bjo", layer.C, coef)
    if layer.writes_constant:
        return y.sum(axis=1)
    if grid is None:
        raise ValueError("a kernel with a ψ_j other than φ_0 needs a grid to write on")
    # Several j may share a ψ mode: sum their contributions into one coefficient.
    shape = tuple(grid)
    flat = np.ravel_multi_index(tuple(layer.psi.T), shape)
    modes, which = np.unique(flat, return_inverse=True)
    scatter = np.zeros((layer.rank, len(modes)))
    scatter[np.arange(layer.rank), which.ravel()] = 1.0
    spectrum = np.zeros((batch, layer.c_out, math.prod(shape)))
    spectrum[:, :, modes] = np.einsum("bjo,ju->bou", y, scatter)
    samples = basis.synthesis(spectrum.reshape((batch * layer.c_out,) + shape), shape)
    return samples.reshape((batch, layer.c_out) + shape)


# ---------------------------------------------------------------- building blocks

def _modes(modes) -> np.ndarray:
    m = np.asarray(modes)
    require(m.ndim == 2 and m.shape[0] >= 1 and m.shape[1] in (1, 2)
            and np.issubdtype(m.dtype, np.integer) and bool((m >= 0).all()), "modes",
            f"expected an (n, d) array of non-negative integers with n >= 1 and d in (1, 2), "
            f"got shape {m.shape} and dtype {m.dtype}")
    return m.astype(np.int64)


def encoder(modes) -> Layer:
    """Kernel layer reading the coefficients ⟨u, φ_k⟩, k in ``modes``, into constant channels.

    c_in = 1, c_out = rank = n, χ_j = φ_{modes[j]}, ψ_j = φ_0, C_j = e_j, identity.
    """
    m = _modes(modes)
    n = len(m)
    C = np.zeros((n, n, 1))
    C[np.arange(n), np.arange(n), 0] = 1.0
    return Layer(C=C, chi=m, psi=np.zeros_like(m), activation="identity")


def decoder(modes) -> Layer:
    """Kernel layer writing Σ_j y_j φ_{modes[j]} from M constant channels y.

    c_in = rank = M, c_out = 1, χ_j = φ_0, ψ_j = φ_{modes[j]}, C_j = e_jᵀ, identity.
    """
    m = _modes(modes)
    M = len(m)
    C = np.zeros((M, 1, M))
    C[np.arange(M), 0, np.arange(M)] = 1.0
    return Layer(C=C, chi=np.zeros_like(m), psi=m, activation="identity")


def dense(W, b=None, activation: str = "relu") -> Layer:
    """A layer with one ungrouped channel map ``W`` of shape (c_out, c_in) and bias ``b``."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"dense W must have shape (c_out, c_in), got {W.shape}")
    return Layer(W=W[None], b=b, activation=activation)


# ---------------------------------------------------------------------- counting

def count(op: NeuralOperator) -> Sizes:
    """Depth, width, rank and params read off the arrays of ``op``.

    depth = number of layers; width = largest c_out over all layers but the last
    (0 for a single layer); rank = largest kernel rank (0 without kernels);
    params = total size of the W, b and C arrays present (modes are structure).

    Returns
    -------
    mono.bounds.sizes.Sizes
    """
    layers = op.layers
    depth = len(layers)
    width = max((layer.c_out for layer in layers[:-1]), default=0)
    rank = max(layer.rank for layer in layers)
    params = sum(int(getattr(layer, n).size) for layer in layers for n in _WEIGHTS
                 if getattr(layer, n) is not None)
    return Sizes(depth=depth, width=width, rank=rank, params=params)


def nonzeros(op: NeuralOperator) -> int:
    """Number of nonzero entries of the W, b and C arrays of ``op``."""
    return sum(int(np.count_nonzero(getattr(layer, n))) for layer in op.layers for n in _WEIGHTS
               if getattr(layer, n) is not None)


# ---------------------------------------------------------------------- file I/O

def save(op: NeuralOperator, path) -> None:
    """Write ``op`` to ``path`` in the ``.npz`` format of the module docstring.

    The file is written exactly at ``path`` (no extension is appended).
    """
    if not isinstance(op, NeuralOperator):
        raise TypeError(f"save expects a NeuralOperator, got {type(op).__name__}")
    arrays = {"format_version": np.array(FORMAT_VERSION, dtype=np.int64),
              "d": np.array(op.d, dtype=np.int64),
              "n_layers": np.array(len(op.layers), dtype=np.int64)}
    for i, layer in enumerate(op.layers):
        arrays[f"layer{i}/activation"] = np.array(layer.activation, dtype=np.str_)
        for name in _WEIGHTS + _MODES:
            value = getattr(layer, name)
            if value is not None:
                arrays[f"layer{i}/{name}"] = value
    try:
        with open(os.fspath(path), "wb") as handle:
            np.savez_compressed(handle, **arrays)
    except (OSError, TypeError) as exc:
        raise InputError("path", f"cannot write {path!r}: {exc}") from None


def _get(archive, key: str, path) -> np.ndarray:
    require(key in archive.files, "path", f"{path}: missing key {key!r}")
    return archive[key]


def _scalar_int(archive, key: str, path) -> int:
    value = _get(archive, key, path)
    require(value.shape == () and np.issubdtype(value.dtype, np.integer), "path",
            f"{path}: {key!r} must be a 0-d integer array, got shape {value.shape} "
            f"and dtype {value.dtype}")
    return int(value)


def _read_layer(archive, i: int, path) -> Layer:
    try:
        return Layer(**_layer_fields(archive, i, path))
    except InputError:
        raise
    except ValueError as exc:
        raise InputError("path", f"{path}: layer {i}: {exc}") from None


def _layer_fields(archive, i: int, path) -> dict:
    activation = _get(archive, f"layer{i}/activation", path)
    require(activation.shape == () and activation.dtype.kind == "U", "path",
            f"{path}: 'layer{i}/activation' must be a 0-d unicode array")
    fields = {"activation": str(activation)}
    for name in _WEIGHTS + _MODES:
        key = f"layer{i}/{name}"
        if key in archive.files:
            value = archive[key]
            kinds = "fiu" if name in _WEIGHTS else "iu"
            require(value.dtype.kind in kinds, "path",
                    f"{path}: {key!r} has dtype {value.dtype}, expected "
                    + ("real numbers" if name in _WEIGHTS else "integers"))
            fields[name] = value
    return fields


def load(path) -> NeuralOperator:
    """Read a :class:`NeuralOperator` written by :func:`save`.

    Never unpickles anything.  Missing or unknown keys, a wrong ``format_version``,
    pickled objects and inconsistent shapes raise :class:`InputError` naming ``"path"``.
    """
    try:
        archive = np.load(os.fspath(path), allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError("path", f"cannot read {path!r} as a .npz network file: {exc}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise InputError("path", f"{path!r} is a single .npy array, not a .npz network file")
    with archive:
        try:
            return _read_archive(archive, path)
        except InputError:
            raise
        except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
            # Object arrays (pickles) land here, and so do inconsistent layer shapes.
            raise InputError("path", f"{path}: invalid network file: {exc}") from None


def _read_archive(archive, path) -> NeuralOperator:
    version = _scalar_int(archive, "format_version", path)
    require(version == FORMAT_VERSION, "path",
            f"{path}: format_version {version} is not supported (expected {FORMAT_VERSION})")
    d = _scalar_int(archive, "d", path)
    n_layers = _scalar_int(archive, "n_layers", path)
    require(n_layers >= 1, "path", f"{path}: n_layers must be >= 1, got {n_layers}")
    allowed = {"format_version", "d", "n_layers"}
    allowed |= {f"layer{i}/{name}" for i in range(min(n_layers, len(archive.files)))
                for name in _WEIGHTS + _MODES + ("activation",)}
    unknown = sorted(set(archive.files) - allowed)
    require(not unknown, "path", f"{path}: unexpected keys {unknown[:5]}")
    layers = tuple(_read_layer(archive, i, path) for i in range(n_layers))
    return NeuralOperator(layers=layers, d=d)
