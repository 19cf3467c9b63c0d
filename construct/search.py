"""The sup-error search: a lower estimate of sup_K ‖G − A‖ for one built MoNO.

What is searched: inputs u of K with ``n_probe = n + max(4, n)`` modes (more than the n
the MoNO reads, so the input tail is exercised) — seeded sample families (uniform in the
box, corners, the H^s ball, cell centres and simplex barycentres, grid nodes, scaled
corners), then box-constrained maximisation (scipy's TNC, multi-start from the best
samples) of ‖G(u) − A(u)‖² = Σ_{j<M} (Ĝ_j − A_j)² + Σ_{j≥M} Ĝ_j², with Ĝ the spectrum
of G(u) sampled on the reference grid (Parseval on that grid); |G(u) − A(u)| for
functionals.  At given inputs the three terms of Theorem E (input tail, output tail,
interpolation) are measured separately, and the accuracy of G itself by grid doubling.

Why the result is a lower estimate: every input evaluated — samples, search iterates and
their finite-difference neighbours — lies in K ∩ span{φ_k : k < n_probe}, and a tracker
keeps the largest error seen, so the estimate is the error at a point of K (at most the
sup, up to G's reference accuracy) and the search can only raise it.  It may fall short:
the optimiser may miss the global maximum, and modes ≥ n_probe are never excited.
Derivations: docs/theory.md, §6.1–6.4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import optimize

from mono.construct import basis, compact
from mono.construct.mono import MoNO
from mono.construct.targets import Target

__all__ = [
    "ERROR_BATCH", "MAX_EVALUATIONS", "FD_STEP", "ErrorModel", "candidates", "Tracker",
    "starts", "adversarial", "terms", "reference_accuracy",
]

#: Inputs per batch of the error evaluation.
ERROR_BATCH = 512
#: Objective evaluations (each a batch of n_probe + 1 inputs) per start, and the
#: finite-difference step (in units of ρ_k).
MAX_EVALUATIONS = 200
FD_STEP = 1e-7


# ---------------------------------------------------------------- the error of A at inputs

@dataclass(frozen=True, eq=False)
class ErrorModel:
    """‖G(u) − A(u)‖ for coefficient vectors u of ``n_probe`` modes, batched.

    ``target`` evaluates G on its reference grid, ``mono`` is the MoNO, ``rho`` and
    ``modes`` are the radii and modes of the probe coordinates.  Spectra are the DCT
    coefficient grids of G(u) sampled on the reference grid (Parseval holds exactly
    there); the M output modes index into them.
    """

    mono: MoNO
    target: Target
    rho: np.ndarray            # radii of the n_probe modes (float64)
    modes: np.ndarray          # (n_probe, d)

    @property
    def n(self) -> int:
        return self.mono.n

    @property
    def functional(self) -> bool:
        return self.target.kind == "functional"

    def spectrum(self, c: np.ndarray, target: Target | None = None) -> np.ndarray:
        """G(u) as a coefficient grid ``(batch, *res)``, or values ``(batch,)`` (functional)."""
        target = self.target if target is None else target
        values = target(c)
        if self.functional:
            return np.asarray(values, dtype=float)
        return basis.analysis(values, target.box.d)

    def _out_index(self, shape) -> tuple:
        return (slice(None),) + tuple(self.mono.modes_out.T)

    def approximation(self, c: np.ndarray) -> np.ndarray:
        """The MoNO's output coefficients A_j(u), ``(batch, M)``: it reads only u's first n modes."""
        a = np.clip(c[:, :self.n], -self.mono.grid.radii, self.mono.grid.radii)
        return self.mono.coefficients(a)

    def distance(self, spectrum: np.ndarray, A: np.ndarray) -> np.ndarray:
        """‖G(u) − A(u)‖ from G's spectrum and A's M output coefficients."""
        if self.functional:
            return np.abs(spectrum - A[:, 0])
        diff = spectrum.copy()
        diff[self._out_index(diff.shape)] -= A
        return np.sqrt((diff.reshape(len(diff), -1) ** 2).sum(axis=1))

    def errors(self, c: np.ndarray) -> np.ndarray:
        """‖G(u) − A(u)‖ for rows of ``c`` ``(batch, n_probe)``, in batches."""
        c = np.asarray(c, dtype=float)
        out = np.empty(len(c))
        for start in range(0, len(c), ERROR_BATCH):
            chunk = c[start:start + ERROR_BATCH]
            out[start:start + len(chunk)] = self.distance(self.spectrum(chunk), self.approximation(chunk))
        return out

    def samples(self, c: np.ndarray, shape=None) -> np.ndarray:
        """u sampled on the reference grid (or ``shape``), ``(batch, *grid)``."""
        shape = self.target.resolution if shape is None else shape
        return basis.sample(np.asarray(c, dtype=float), self.modes, shape)


# ---------------------------------------------------------------- candidate inputs

def _centre_samples(model: ErrorModel, size: int, rng: np.random.Generator) -> np.ndarray:
    """Leading coordinates at cell centres (first half) or Kuhn-simplex barycentres
    (second half) of random cells, the tail coordinates uniform in the box.

    The interpolation error of a smooth F is largest inside cells, away from the nodes
    where it vanishes; these points start the search where it usually peaks.
    """
    grid = model.mono.grid
    n, q = grid.n, grid.q
    cell = (rng.random((size, n)) * q).astype(np.int64).clip(0, q - 1)
    frac = np.full((size, n), 0.5)
    half = size // 2
    if size - half:
        perms = np.argsort(rng.random((size - half, n)), axis=1)
        bary = (n - np.arange(n)) / (n + 1.0)           # f_π(i) = (n + 1 − i)/(n + 1)
        f = np.empty((size - half, n))
        f[np.arange(size - half)[:, None], perms] = bary[None, :]
        frac[half:] = f
    lead = -grid.radii + (cell + frac) * grid.spacing
    tail = rng.uniform(-1.0, 1.0, (size, len(model.rho) - n)) * model.rho[n:]
    return np.concatenate([np.clip(lead, -model.rho[:n], model.rho[:n]), tail], axis=1)


def _node_samples(model: ErrorModel, size: int, rng: np.random.Generator) -> np.ndarray:
    """Leading coordinates at grid nodes, the tail at random corners ±ρ_k.

    At a node A(u) = P_J G(P_I u) exactly, so these inputs isolate the input and output
    tails.  A quarter sit at the node nearest the origin: a target that is only Hölder
    (|u|^α) varies fastest around u = 0, where a tail of size τ moves G by ~τ^α.
    """
    grid = model.mono.grid
    n, q = grid.n, grid.q
    nodes = (rng.random((size, n)) * (q + 1)).astype(np.int64).clip(0, q)
    nodes[: size // 4] = q // 2
    lead = grid.node_coefficients(nodes)
    signs = rng.integers(0, 2, (size, len(model.rho) - n)) * 2 - 1
    return np.concatenate([np.clip(lead, -model.rho[:n], model.rho[:n]), signs * model.rho[n:]], axis=1)


def _scaled_samples(model: ErrorModel, size: int, rng: np.random.Generator) -> np.ndarray:
    """Corners of K scaled by λ, log-uniform in [1e-3, 1]: small inputs, where a Hölder
    target's modulus is steepest."""
    signs = rng.integers(0, 2, (size, len(model.rho))) * 2 - 1
    scale = 10.0 ** rng.uniform(-3.0, 0.0, (size, 1))
    return scale * signs * model.rho


def candidates(model: ErrorModel, budget: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Seeded sample families of K (all with n_probe modes), in a fixed order."""
    box, m = model.target.box, len(model.rho)
    per = 32 * (1 + budget)
    return {
        "box": compact.sample_box(box, m, 2 * per, rng),
        "extreme": compact.sample_extreme(box, m, per, rng),
        "ball": compact.sample_ball(box, m, per, rng),
        "centres": _centre_samples(model, per, rng),
        "nodes": _node_samples(model, per, rng),
        "scaled": _scaled_samples(model, per, rng),
    }


# ---------------------------------------------------------------- adversarial search

@dataclass
class Tracker:
    """Best input seen during the search (local to one search, i.e. one verify_point call)."""

    value: float = -1.0
    coefficients: np.ndarray | None = None
    source: str = ""
    evaluations: int = 0

    def offer(self, c: np.ndarray, errors: np.ndarray, source: str) -> None:
        self.evaluations += len(errors)
        i = int(np.argmax(errors))
        if errors[i] > self.value:
            self.value, self.coefficients, self.source = float(errors[i]), c[i].copy(), source


def _objective(model: ErrorModel, tracker: Tracker, scale: float, source: str):
    """−error/scale and its gradient in z (c = ρ z, z ∈ [−1, 1]), one batched call.

    Forward differences of step FD_STEP, taken backwards on the upper face, so every
    probe lies in K (and is offered to the tracker: the search never loses a point).
    """
    rho = model.rho
    m = len(rho)

    def fun(z):
        z = np.asarray(z, dtype=float)
        step = np.where(z + FD_STEP <= 1.0, FD_STEP, -FD_STEP)
        batch = np.repeat(z[None], m + 1, axis=0)
        batch[np.arange(1, m + 1), np.arange(m)] += step
        c = batch * rho
        e = model.errors(c)
        tracker.offer(c, e, source)
        grad = (e[1:] - e[0]) / step
        return -e[0] / scale, -grad / scale

    return fun


def starts(c: np.ndarray, errors: np.ndarray, k: int) -> np.ndarray:
    """The k best distinct rows (by error, ties by index: deterministic)."""
    order = np.lexsort((np.arange(len(errors)), -errors))
    picked, seen = [], set()
    for i in order:
        key = np.round(c[i], 12).tobytes()
        if key not in seen:
            seen.add(key)
            picked.append(i)
        if len(picked) == k:
            break
    return c[picked]


def adversarial(model: ErrorModel, tracker: Tracker, start_points: np.ndarray,
                 progress: Callable | None) -> None:
    """Maximise the error from each start with TNC (truncated Newton, box-constrained).

    TNC rather than L-BFGS-B: both find the closed-form worst cases of the tests to
    ~1e-11, but L-BFGS-B calls scipy's bundled OpenBLAS on tiny vectors, whose threads
    contend with numpy's OpenBLAS threads (10–20× slower on 2 cores); TNC uses no BLAS.
    """
    rho = model.rho
    scale = max(tracker.value, 1e-300)
    bounds = [(-1.0, 1.0)] * len(rho)
    for i, c0 in enumerate(start_points):
        fun = _objective(model, tracker, scale, f"adversarial (TNC, start {i + 1})")
        optimize.minimize(fun, np.clip(c0 / rho, -1.0, 1.0), jac=True, method="TNC", bounds=bounds,
                          options={"maxfun": MAX_EVALUATIONS, "ftol": 1e-15, "gtol": 1e-12,
                                   "xtol": 1e-14})
        if progress is not None:
            progress(f"adversarial start {i + 1}/{len(start_points)}")


# ---------------------------------------------------------------- term-by-term check

def _parseval(spectrum: np.ndarray) -> np.ndarray:
    return np.sqrt((spectrum.reshape(len(spectrum), -1) ** 2).sum(axis=1))


def _refinement_difference(coarse: np.ndarray, fine: np.ndarray) -> np.ndarray:
    """‖G_G − G_2G‖ from the two spectra: common modes differ, the fine grid's extra
    modes count in full (L² distance of the two trigonometric interpolants)."""
    common = (slice(None),) + tuple(slice(0, g) for g in coarse.shape[1:])
    diff = fine.copy()
    diff[common] -= coarse
    return _parseval(diff)


def terms(model: ErrorModel, c: np.ndarray) -> dict[str, np.ndarray]:
    """The three terms of Theorem E and the total error for rows u of ``c`` (n_probe modes).

    input tail ‖G(u) − G(P_I u)‖, output tail ‖G(P_I u) − P_J G(P_I u)‖, interpolation
    ‖P_J G(P_I u) − A(u)‖, total ‖G(u) − A(u)‖ (|·| for functionals), all from spectra
    on the reference grid.
    """
    out = {k: np.empty(len(c)) for k in ("input_tail", "output_tail", "interpolation", "total")}
    for start in range(0, len(c), ERROR_BATCH):
        rows = slice(start, start + ERROR_BATCH)
        chunk = c[rows]
        projected = np.zeros_like(chunk)
        projected[:, :model.n] = chunk[:, :model.n]
        A = model.approximation(chunk)
        S_u = model.spectrum(chunk)
        S_p = model.spectrum(projected)
        if model.functional:
            out["input_tail"][rows] = np.abs(S_u - S_p)
            out["output_tail"][rows] = 0.0
            out["interpolation"][rows] = np.abs(S_p - A[:, 0])
        else:
            idx = model._out_index(S_p.shape)
            out["input_tail"][rows] = _parseval(S_u - S_p)
            outside = S_p.copy()
            outside[idx] = 0.0
            out["output_tail"][rows] = _parseval(outside)
            out["interpolation"][rows] = np.sqrt(((S_p[idx] - A) ** 2).sum(axis=1))
        out["total"][rows] = model.distance(S_u, A)
    return out


def reference_accuracy(model: ErrorModel, c: np.ndarray) -> dict[str, float]:
    """Accuracy of G itself at one input: grid doubling, and the agreement of the node
    values' evaluator (``output_coefficients``) with the spectrum of the samples."""
    c = c[None]
    S_u = model.spectrum(c)
    fine_target = model.target.with_resolution(tuple(2 * g for g in model.target.resolution))
    S_fine = model.spectrum(c, fine_target)
    if model.functional:
        grid = abs(float(S_fine[0] - S_u[0]))
        consistency = abs(float(model.target.output_coefficients(c, 1)[0, 0] - S_u[0]))
    else:
        grid = float(_refinement_difference(S_u, S_fine)[0])
        idx = model._out_index(S_u.shape)
        consistency = float(np.sqrt(((model.target.output_coefficients(c, model.mono.M)
                                      - S_u[idx]) ** 2).sum()))
    return {"grid_doubling": grid, "coefficient_consistency": consistency}
