"""``mono verify`` end to end: the built-in default, a caught understated modulus, the JSON
output, a real interrupted run that resumes, and every kind of bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from mono.cli import main

FAST = ["verify", "--eps", "0.4", "0.2", "0.1", "--budget", "1", "--seed", "2"]


def run(args, capsys):
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_default_run_passes_and_writes_the_report(tmp_path, monkeypatch, capsys):
    """The one end-to-end run of the built-in default (no options at all)."""
    monkeypatch.chdir(tmp_path)
    status, out, err = run(["verify"], capsys)
    assert status == 0, err
    folder = tmp_path / "mono-report"
    report = json.loads((folder / "report.json").read_text())
    assert report["passed"] and report["problem"]["target"] == "sin"
    eps = [p["eps"] for p in report["points"]]
    assert len(eps) >= 4 and max(eps) / min(eps) >= 4
    # the baseline is built for the larger ε and refused (memory budget) for the smaller
    built = [p["baseline_built"] for p in report["points"]]
    assert built[0] and not built[-1]
    # the O(ε⁻¹) regime: the claim holds for this problem
    claims = {c["statement"]: c for c in report["claims"]}
    assert claims["active expert width is O(ε⁻¹)"]["holds"]
    for name in ("report.md", "results.csv", "sup_error.png", "sizes.png", "experts.png"):
        assert (folder / name).is_file()
    assert "passed" in out and "eps" in out


def test_understated_modulus_exits_1_naming_the_bound_and_the_worst_input(tmp_path, capsys):
    status, out, err = run(["verify", "--modulus", "0.1*t", "--eps", "0.1", "--budget", "0",
                            "--no-baseline", "--out", str(tmp_path)], capsys)
    assert status == 1
    assert "input tail" in err and "eps = 0.1" in err
    worst = [line.split(": ")[-1] for line in err.splitlines() if "worst input" in line]
    assert worst and os.path.isfile(worst[0])
    assert np.load(worst[0]).shape == (1024,)
    md = (tmp_path / "report.md").read_text()
    assert "FAILED" in md and "input tail" in md
    assert "FAILED" in out


def test_json_format_prints_report_json(tmp_path, capsys):
    status, out, err = run(FAST + ["--out", str(tmp_path), "--format", "json", "--no-baseline"], capsys)
    assert status == 0, err
    assert json.loads(out) == json.loads((tmp_path / "report.json").read_text())
    assert out == (tmp_path / "report.json").read_text()


def test_killed_run_resumes_to_the_same_report(tmp_path, capsys):
    args = ["--eps", "0.2", "0.1", "0.05", "--budget", "1", "--seed", "7"]
    # the uninterrupted run, on two worker processes (the resumed run below is in-process:
    # the bytes must not depend on the executor either)
    status, _, err = run(["verify", *args, "--workers", "2", "--out", str(tmp_path / "whole")], capsys)
    assert status == 0, err
    reference = (tmp_path / "whole" / "report.json").read_bytes()

    # a real run, killed as soon as its first point is on disk
    out = tmp_path / "killed"
    points = out / "points"
    proc = subprocess.Popen([sys.executable, "-m", "mono", "verify", *args, "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if points.is_dir() and any(p.suffix == ".json" for p in points.iterdir()):
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    written = sorted(p.name for p in points.iterdir() if p.suffix == ".json")
    assert 1 <= len(written) < 3, written       # interrupted mid-sweep
    assert not (out / "report.json").exists()
    before = {name: (points / name).stat().st_mtime_ns for name in written}

    status, _, err = run(["verify", *args, "--out", str(out)], capsys)
    assert status == 0, err
    assert f"{len(written)} of 3 points reused" in err
    for name, mtime in before.items():
        assert (points / name).stat().st_mtime_ns == mtime
    assert (out / "report.json").read_bytes() == reference


@pytest.mark.parametrize("extra, option", [
    (["--budget", "-1"], "--budget"),
    (["--budget", "1.5"], "--budget"),
    (["--seed", "x"], "--seed"),
    (["--workers", "0"], "--workers"),
    (["--format", "xml"], "--format"),
    (["--baseline-budget", "0"], "--baseline-budget"),
    (["--eps", "0.1", "0.1"], "--eps"),
    (["--eps", "-0.1"], "--eps"),
    (["--eps", "1e-9"], "--eps"),
    (["--modulus", "__import__('os').system('true')"], "--modulus"),
    (["--modulus", "t - 1"], "--modulus"),
    (["--s", "1/2"], "--s"),
    (["--target", "nope"], "--target"),
])
def test_bad_input_exits_2_with_one_line(extra, option, tmp_path, capsys):
    status, out, err = run(["verify", "--out", str(tmp_path / "r"), *extra], capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and option in lines[0], err
    assert "Traceback" not in err


def test_unwritable_out_is_refused(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    status, _, err = run(["verify", "--eps", "0.4", "--out", str(blocker)], capsys)
    assert status == 2 and "--out" in err
