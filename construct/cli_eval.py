"""``mono eval``: build the MoNO (or the baseline) for a problem and apply it to sampled functions.

Input: a ``.npy`` file of shape (batch, G) (d = 1) or (batch, G1, G2) (d = 2) holding the
functions' values on the midpoint grid.  Output: a ``.npy`` file of the approximations
A(u) on the same grid, or of shape (batch,) for functionals.  ``--export DIR`` writes the
experts that answered (and the baseline when built) in the operator ``.npz`` format with
an ``index.json``.

Every user mistake raises :class:`mono.errors.InputError` naming the option, which the
``mono`` command prints on one line (exit status 2).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import zipfile

import numpy as np

from mono.bounds.cli import add_problem_arguments, as_option, problem_from_args
from mono.construct import basis
from mono.construct.baseline import DEFAULT_BUDGET_BYTES, build_baseline
from mono.construct.mono import MoNO, build_mono, samples_slack
from mono.construct.operator import count, nonzeros, save
from mono.construct.targets import make_target
from mono.errors import InputError, require



def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``mono eval``."""
    add_problem_arguments(parser)
    for action in parser._actions:  # one accuracy here, not a list
        if action.dest == "eps":
            action.default = ["0.1"]
            action.help = "target accuracy: exactly one value > 0 (default 0.1)"
    g = parser.add_argument_group("evaluation")
    g.add_argument("--input", required=True, metavar="FILE.npy",
                   help="input functions sampled on the midpoint grid: batch × G (d = 1) or "
                        "batch × G1 × G2 (d = 2)")
    g.add_argument("--output", default=None, metavar="FILE.npy",
                   help="write A(u) on the same grid (batch × grid; batch values for functionals)")
    g.add_argument("--baseline", action="store_true",
                   help="evaluate the single-NO baseline instead of the MoNO")
    g.add_argument("--budget", default=None, metavar="GIB",
                   help=f"memory budget of the baseline and of each block expert in GiB "
                        f"(default {DEFAULT_BUDGET_BYTES / 2 ** 30:g})")
    g.add_argument("--export", default=None, metavar="DIR",
                   help="write the experts used (and the baseline) as .npz files with an index.json")


# ---------------------------------------------------------------------- input checks

def _budget(text) -> int:
    if text is None:
        return DEFAULT_BUDGET_BYTES
    try:
        value = float(text)
    except ValueError:
        raise InputError("--budget", f"must be a number of GiB > 0, got {text!r}") from None
    require(math.isfinite(value) and value > 0, "--budget", f"must be a number of GiB > 0, got {text!r}")
    return max(1, int(value * 2 ** 30))


def load_samples(path, d: int) -> np.ndarray:
    """Read an input ``.npy`` file: finite reals of shape (batch, *grid), never unpickled."""
    path = os.fspath(path)
    require(os.path.isfile(path), "--input", f"no such file: {path!r}")
    # np.load takes any file without the .npy magic for a pickle, which would call a
    # text file "pickled objects"; say what it really is instead
    try:
        with open(path, "rb") as handle:
            magic = handle.read(6)
    except OSError as exc:
        raise InputError("--input", f"cannot read {path!r} ({exc.strerror or exc})") from None
    if magic[:4] == b"PK\x03\x04":
        raise InputError("--input", f"{path!r} is an .npz archive; give a single .npy array")
    require(magic == b"\x93NUMPY", "--input",
            f"{path!r} is not a .npy file (no NumPy header); save the array with numpy.save")
    try:
        data = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError("--input", f"{path!r} holds pickled objects; only plain numeric "
                                        ".npy arrays are accepted") from None
        raise InputError("--input", f"{path!r} is not a readable .npy array ({exc})") from None
    except (OSError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        raise InputError("--input", f"{path!r} is not a readable .npy array ({exc})") from None
    if isinstance(data, np.lib.npyio.NpzFile):
        data.close()
        raise InputError("--input", f"{path!r} is an .npz archive; give a single .npy array")
    require(data.dtype.kind in "iuf", "--input",
            f"{path!r} holds dtype {data.dtype}; expected real numbers (integer or float)")
    axes = "batch × G" if d == 1 else "batch × G1 × G2"
    require(data.ndim == d + 1, "--input",
            f"expected an array of shape {axes} for d = {d}, got shape {data.shape}")
    require(data.shape[0] >= 1 and all(g >= 1 for g in data.shape[1:]), "--input",
            f"the array is empty: shape {data.shape}")
    u = data.astype(float)
    if not np.isfinite(u).all():
        bad = np.argwhere(~np.isfinite(u))[0]
        raise InputError("--input", f"contains NaN or infinite values (first at index {tuple(bad.tolist())})")
    return u


def check_grid(u: np.ndarray, mono: MoNO) -> None:
    """The grid must resolve the n input and M output modes."""
    top = np.maximum(mono.modes_in.max(axis=0), mono.modes_out.max(axis=0)) + 1
    grid = u.shape[1:]
    require(all(g >= t for g, t in zip(grid, top)), "--input",
            f"grid {grid} is too small: n = {mono.n} input and M = {mono.M} output modes need at "
            f"least {tuple(int(t) for t in top)} points per axis")


def check_in_K(u: np.ndarray, box) -> None:
    """Every input must lie in K: |û_k| ≤ ρ_k for every mode the grid resolves.

    Raises InputError naming the input, the mode and by how much it is outside.
    """
    spectrum = basis.analysis(u, box.d)
    shape = spectrum.shape[1:]
    modes = basis.grid_modes(shape)
    # ρ_k = r (1 + π²|k|²)^{-s/2}, as SobolevBox.radii computes it for the mode order
    rho = float(box.r) * (1.0 + basis.eigenvalues(modes)) ** (-float(box.s) / 2)
    coef = spectrum.reshape(len(u), -1)
    over = np.abs(coef) - samples_slack(rho, u)
    if (over > 0).any():
        ratio = np.abs(coef) / rho
        masked = np.where(over > 0, ratio, -np.inf)
        row, j = np.unravel_index(np.argmax(masked), masked.shape)
        n_bad = int((over > 0).any(axis=1).sum())
        raise InputError("--input",
                         f"{n_bad} of {len(u)} input(s) lie outside K(s={box.s}, r={box.r}): input "
                         f"{row} has coefficient {coef[row, j]:.6g} at mode k = "
                         f"{tuple(int(m) for m in modes[j])}, beyond ρ_k = {rho[j]:.6g} by "
                         f"{abs(coef[row, j]) - rho[j]:.3g} ({ratio[row, j]:.6g} times the bound)")


def check_output(path) -> None:
    """Fail before any work when the output cannot be written."""
    if path is None:
        return
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    require(not os.path.isdir(path), "--output", f"{path!r} is a directory")
    require(os.path.isdir(parent), "--output", f"the directory {parent!r} does not exist")
    require(os.access(parent, os.W_OK) and (not os.path.exists(path) or os.access(path, os.W_OK)),
            "--output", f"cannot write {path!r} (permission denied)")


# ---------------------------------------------------------------------- export

def _sizes_entry(op) -> dict:
    return {**count(op).as_dict(), "nonzeros": nonzeros(op)}


def export(directory, mono: MoNO, a: np.ndarray, baseline=None) -> dict:
    """Write the experts that answer the inputs ``a`` (and the baseline) to ``directory``."""
    directory = os.fspath(directory)
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise InputError("--export", f"cannot create {directory!r}: {exc}") from None
    route = mono.route(a)
    entries = []
    if mono.granularity is None:
        keys = np.concatenate([route.cell, route.perm], axis=1)
        unique, which, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
        for i, row in enumerate(unique):
            cell, perm = row[:mono.n], row[mono.n:]
            op = mono.expert(cell, perm)
            name = f"expert_{i:05d}.npz"
            _save(op, os.path.join(directory, name))
            entries.append({"file": name, "kind": "simplex", "cell": cell.tolist(),
                            "perm": perm.tolist(), "inputs": int(counts[i]), **_sizes_entry(op)})
    else:
        unique, counts = np.unique(route.block, axis=0, return_counts=True)
        for i, block in enumerate(unique):
            op = mono.block_expert(block)
            lower, cells = mono.block_cells(block)
            name = f"block_{i:05d}.npz"
            _save(op, os.path.join(directory, name))
            entries.append({"file": name, "kind": "block", "block": block.tolist(),
                            "lower_node": lower.tolist(), "cells": cells.tolist(),
                            "inputs": int(counts[i]), **_sizes_entry(op)})
    if baseline is not None:
        _save(baseline, os.path.join(directory, "baseline.npz"))
        entries.append({"file": "baseline.npz", "kind": "baseline", **_sizes_entry(baseline)})
    index = {"target": mono.target.spec.name, "eps": float(mono.plan.eps), "d": mono.d,
             "granularity": mono.granularity, "n_modes_in": mono.n, "n_modes_out": mono.M,
             "modes_in": mono.modes_in.tolist(), "modes_out": mono.modes_out.tolist(),
             "networks": entries}
    try:
        with open(os.path.join(directory, "index.json"), "w") as handle:
            json.dump(index, handle, indent=1)
    except OSError as exc:
        raise InputError("--export", f"cannot write index.json in {directory!r}: {exc}") from None
    return index


def _save(op, path) -> None:
    try:
        save(op, path)
    except InputError as exc:
        raise InputError("--export", str(exc)) from None


# ---------------------------------------------------------------------- run

def _big(value: int) -> str:
    """An exact int, or 10^k-style when it has more than 15 digits."""
    text = str(int(value))
    return text if len(text) <= 15 else f"{text[0]}.{text[1:4]}e{len(text) - 1}"


def run(args: argparse.Namespace) -> int:
    """Build, evaluate, write; 0 on success."""
    problem, eps_list, granularity = problem_from_args(args)
    require(len(eps_list) == 1, "--eps", f"mono eval takes exactly one eps, got {len(eps_list)}")
    budget = _budget(args.budget)
    check_output(args.output)
    d = problem.box.d
    u = load_samples(args.input, d)
    spec = problem.target
    options = {"eps": "--eps", "granularity": "--granularity", "budget": "--budget"}
    with as_option(options):
        target = make_target(spec.name, spec.box, **spec.parameters)
        mono = build_mono(problem, eps_list[0], target, granularity, block_budget=budget)
    check_grid(u, mono)
    check_in_K(u, problem.box)

    a = mono.input_coefficients(u)
    baseline = None
    if args.baseline:
        mono.route(a, counted=True)  # the routing the MoNO would do, for the report
        with as_option(options):
            baseline = build_baseline(mono, budget_bytes=budget)
        out = baseline(u)
        if mono.is_functional:
            out = out.reshape(len(u), -1)[:, 0].copy()
    else:
        y = mono.coefficients(a, counted=True)
        out = y[:, 0] if mono.is_functional else basis.sample(y, mono.modes_out, u.shape[1:])

    if args.output is not None:
        try:
            # through a file object: np.save would append ".npy" to a bare path
            with open(os.fspath(args.output), "wb") as handle:
                np.save(handle, out, allow_pickle=False)
        except OSError as exc:
            raise InputError("--output", f"cannot write {args.output!r}: {exc}") from None
    if args.export is not None:
        export(args.export, mono, a, baseline)

    acc = mono.accounting()
    which = "baseline" if args.baseline else (
        "MoNO (simplex experts)" if granularity is None else f"MoNO (blocks of {granularity} cells)")
    lines = [
        f"mono eval: {which} for {spec.name}, eps = {float(mono.plan.eps):g}, d = {d}: "
        f"n = {mono.n} input modes, M = {mono.M} output modes",
        f"  grid: {_big(acc['n_cells'])} cells, {_big(acc['n_nodes'])} nodes; "
        f"{_big(acc['n_experts'])} experts; nodes evaluated: {acc['nodes_evaluated']}",
        f"  routing depth: predicted {acc['routing_depth_predicted']}, used at most "
        f"{acc['routing_depth_used']} comparisons; routing storage {_big(acc['routing_storage'])}",
    ]
    active = acc["active_expert"] or acc["active_expert_predicted"]
    lines.append("  active expert: " + ", ".join(f"{k} {_big(v)}" for k, v in active.items()))
    if baseline is not None:
        lines.append("  baseline: " + ", ".join(f"{k} {_big(v)}" for k, v in count(baseline).as_dict().items()))
    if args.output is not None:
        lines.append(f"  wrote {len(u)} output(s) of shape {out.shape[1:] or '()'} to {args.output}")
    if args.export is not None:
        lines.append(f"  exported the networks used to {args.export}")
    print("\n".join(lines))
    return 0
