"""Nothing lost: a real ``mono verify`` run, interrupted (Ctrl-C) and killed (SIGKILL),
resumes from its finished points and ends with the same report.json, byte for byte,
as an uninterrupted run with the same seed.

tests/test_verify.py covers resume in-process (a deleted, a corrupt and a stale point
file) and determinism; this file interrupts the real console command.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

ARGS = ["verify", "--eps", "0.2", "0.1", "0.05", "0.025", "--budget", "6", "--seed", "5",
        "--no-baseline", "--format", "json"]
N_POINTS = 4


def _script():
    script = shutil.which("mono", path=os.path.dirname(sys.executable)) or shutil.which("mono")
    if script is None:
        pytest.skip("the mono console script is not installed")
    return script


def _points(out):
    folder = out / "points"
    return sorted(p for p in folder.glob("eps_*.json")) if folder.is_dir() else []


def _start(script, out):
    return subprocess.Popen([script, *ARGS, "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=out.parent)


def _interrupt_after(proc, out, count, sig, timeout=120):
    """Send ``sig`` as soon as ``count`` point files exist; return (status, stderr)."""
    deadline = time.monotonic() + timeout
    while len(_points(out)) < count:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before it could be interrupted: {proc.stderr.read()}")
        if time.monotonic() > deadline:  # pragma: no cover
            proc.kill()
            raise AssertionError("no point was finished in time")
        time.sleep(0.005)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def _check_points_are_whole(out):
    for path in _points(out):
        record = json.loads(path.read_text())       # atomic writes: never a torn file
        assert record["result"]["passed"] in (True, False)


def test_interrupted_and_killed_runs_resume_to_the_same_report(tmp_path):
    script = _script()
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    reference.mkdir()
    resumed.mkdir()
    uninterrupted = _start(script, reference)           # runs alongside (2 cores)

    # 1. Ctrl-C after the first finished point: exit 130, one line, the point kept
    status, err = _interrupt_after(_start(script, resumed), resumed, 1, signal.SIGINT)
    assert status == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "mono verify: interrupted"
    assert 1 <= len(_points(resumed)) < N_POINTS
    assert not (resumed / "report.json").exists()
    _check_points_are_whole(resumed)
    kept = {p.name: p.read_bytes() for p in _points(resumed)}
    mtimes = {p.name: p.stat().st_mtime_ns for p in _points(resumed)}

    # 2. resumed, then killed outright (no cleanup possible) after one more point
    status, _ = _interrupt_after(_start(script, resumed), resumed, len(kept) + 1, signal.SIGKILL)
    assert status == -signal.SIGKILL
    assert len(kept) < len(_points(resumed)) <= N_POINTS
    _check_points_are_whole(resumed)
    for path in _points(resumed):                        # finished points were reused, not redone
        if path.name in kept:
            assert path.read_bytes() == kept[path.name]
            assert path.stat().st_mtime_ns == mtimes[path.name]

    # 3. resumed to the end: the same report.json as the uninterrupted run
    final = subprocess.run([script, *ARGS, "--out", str(resumed)], capture_output=True, text=True,
                           cwd=tmp_path, timeout=300)
    assert final.returncode == 0, final.stderr
    out, err = uninterrupted.communicate(timeout=300)
    assert uninterrupted.returncode == 0, err
    assert len(_points(resumed)) == N_POINTS
    assert (resumed / "report.json").read_bytes() == (reference / "report.json").read_bytes()
    assert final.stdout == out                           # --format json prints report.json
