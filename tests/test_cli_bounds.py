"""`mono bounds` through the real dispatcher: output formats and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import sympy

import pytest

from mono.bounds.plan import Problem, plan
from mono.bounds.space import SobolevBox
from mono.bounds.targets import target_spec
from mono.cli import main


def test_json_output_matches_the_library(capsys):
    code = main(["bounds", "--target", "heat", "--param", "T=0.1", "--s", "3/2",
                 "--eps", "0.1", "1/20", "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0
    rows = json.loads(out)
    assert [r["eps"] for r in rows] == [0.1, 0.05]
    problem = Problem(target_spec("heat", SobolevBox(1, sympy.Rational(3, 2), 1), T=0.1))
    for row, eps in zip(rows, (0.1, 0.05)):
        p = plan(problem, eps)
        assert row["n_modes_in"] == p.n_modes_in and row["n_modes_out"] == p.n_modes_out
        assert row["cells_per_axis"] == list(p.cells_per_axis)
        assert row["n_experts"] == p.n_experts and row["routing_depth"] == p.routing_depth
        assert row["expert"] == {"depth": p.expert.depth, "width": p.expert.width,
                                 "rank": p.expert.rank, "params": p.expert.params}
        assert row["baseline"]["params"] == p.baseline.params
        assert set(row["error_terms"]) == {"input_tail", "output_tail", "interpolation", "total"}


def test_defaults_and_other_formats(capsys):
    assert main(["bounds"]) == 0
    md = capsys.readouterr().out
    assert md.count("\n|") >= 5  # header, rule, four default eps
    assert main(["bounds", "--format", "csv", "--granularity", "2", "--eps", "0.1"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 1 and rows[0]["granularity"] == "2"
    assert main(["bounds", "--format", "latex", "--d", "2", "--s", "5/2", "--eps", "0.3"]) == 0
    tex = capsys.readouterr().out
    assert r"\begin{tabular}" in tex and r"\varepsilon" in tex


def test_split_and_functional(capsys):
    code = main(["bounds", "--target", "abs_power", "--param", "alpha=1/2", "--split", "1/2,1/4,1/4",
                 "--eps", "0.2", "--format", "json"])
    assert code == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["n_modes_out"] == 1
    assert row["shares"]["input_tail"] == pytest.approx(0.1)


@pytest.mark.parametrize(
    "argv, option",
    [
        (["--eps", "0"], "--eps"),
        (["--eps", "nan"], "--eps"),
        (["--eps", "0.1", "-1"], "--eps"),
        (["--eps", "__import__('os')"], "--eps"),
        (["--split", "0.5,0.5,0.5"], "--split"),
        (["--split", "0.5,0.5"], "--split"),
        (["--s", "0.4"], "--s"),
        (["--s", "1"], "--s"),  # sin needs s > 3/2 in d = 1
        (["--r", "-1"], "--r"),
        (["--d", "0"], "--d"),
        (["--d", "1.5"], "--d"),
        (["--target", "nope"], "--target"),
        (["--param", "X=1"], "--param"),
        (["--target", "heat", "--param", "T"], "--param"),
        (["--target", "heat", "--param", "T=-1"], "--param"),
        (["--granularity", "0"], "--granularity"),
        (["--format", "xml"], "--format"),
    ],
)
def test_bad_options_exit_2_with_one_line(argv, option, capsys):
    code = main(["bounds", *argv])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert option in lines[0]
    assert "Traceback" not in err
