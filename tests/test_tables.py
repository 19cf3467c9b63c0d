"""Bound tables: JSON keys and exact ints, CSV and LaTeX parse back, huge counts."""

from __future__ import annotations

import csv
import io
import json
import math
import random
import re

import pytest

from mono.bounds.plan import Problem, plan
from mono.bounds.rates import rates
from mono.bounds.space import SobolevBox
from mono.bounds.tables import (
    COLUMNS,
    bound_table,
    decimal_digits,
    format_count,
    power_of_ten,
    to_csv,
    to_json,
    to_latex,
    to_markdown,
)
from mono.bounds.targets import target_spec
from mono.errors import InputError

EPS = [0.2, 0.1, 0.05]


@pytest.fixture(scope="module")
def problem():
    return Problem(target_spec("sin", SobolevBox(1, 2, 1)))


@pytest.fixture(scope="module")
def rows(problem):
    return bound_table(problem, EPS)


def _log10(value: int) -> float:
    # independent of the module: from the bit length and the top 60 bits
    shift = max(value.bit_length() - 60, 0)
    return math.log10(value >> shift) + shift * math.log10(2)


def test_json_keys_and_exact_ints(problem, rows):
    keys = {"eps", "n_modes_in", "n_modes_out", "mesh", "cells_per_axis", "n_cells", "n_nodes",
            "n_experts", "routing_depth", "error_terms", "expert", "baseline"}
    back = json.loads(to_json(rows))
    assert back == rows
    for row, eps in zip(back, EPS):
        assert keys <= set(row)
        assert set(row["error_terms"]) == {"input_tail", "output_tail", "interpolation", "total"}
        p = plan(problem, eps)
        for key in ("n_modes_in", "n_modes_out", "n_cells", "n_nodes", "n_experts", "routing_depth"):
            assert type(row[key]) is int and row[key] == getattr(p, key)
        assert isinstance(row["cells_per_axis"], list) and row["cells_per_axis"] == list(p.cells_per_axis)
        for part in ("expert", "baseline"):
            for field in ("depth", "width", "rank", "params"):
                assert type(row[part][field]) is int
                assert row[part][field] == getattr(getattr(p, part), field)
        assert row["error_terms"]["total"] <= row["eps"]


def test_csv_parses_back(rows):
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert len(parsed) == len(rows)
    for got, row in zip(parsed, rows):
        assert int(got["n_nodes"]) == row["n_nodes"]
        assert int(got["n_experts"]) == row["n_experts"]
        assert int(got["baseline.params"]) == row["baseline"]["params"]
        assert float(got["eps"]) == row["eps"]
        assert float(got["error_terms.total"]) == row["error_terms"]["total"]
        assert [int(x) for x in got["cells_per_axis"].split()] == row["cells_per_axis"]


def _parse_latex_number(cell: str) -> float | int:
    cell = cell.strip()
    m = re.fullmatch(r"\$\\approx ([0-9.]+)\\times 10\^\{(-?\d+)\}\$", cell)
    if m:
        return ("approx", float(m.group(1)), int(m.group(2)))
    m = re.fullmatch(r"\$([0-9.]+)\\times 10\^\{(-?\d+)\}\$", cell)
    if m:
        return float(m.group(1)) * 10 ** int(m.group(2))
    return int(cell) if re.fullmatch(r"\d+", cell) else float(cell)


def _check_latex(tex: str, rows: list[dict]):
    body = tex.split(r"\midrule")[1].split(r"\bottomrule")[0]
    lines = [l.strip() for l in body.split(r"\\") if l.strip()]
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows):
        cells = [c.strip() for c in line.split("&")]
        assert len(cells) == len(COLUMNS)
        for cell, (key, *_) in zip(cells, COLUMNS):
            value = row
            for part in key.split("."):
                value = value[part]
            got = _parse_latex_number(cell)
            if isinstance(got, tuple):  # a power of ten: within the rounding of 2 digits
                _, mantissa, exponent = got
                if isinstance(value, str):  # already approximated in the row
                    m, e = value[2:].split("e")
                    exact_log = math.log10(float(m)) + int(e)
                else:
                    exact_log = _log10(value)
                assert abs(math.log10(mantissa) + exponent - exact_log) < 0.03
            elif isinstance(got, int):
                assert got == value
            else:
                assert got == pytest.approx(value, rel=1e-3)


def test_latex_parses_back(rows, problem):
    tex = to_latex(rows)
    assert tex.startswith(r"\begin{tabular}") and tex.rstrip().endswith(r"\end{tabular}")
    _check_latex(tex, rows)
    with_rates = to_latex(rows, rates=rates(problem))
    assert r"\varepsilon" in with_rates.split(r"\midrule")[-1]
    _check_latex(with_rates.replace(with_rates.split(r"\midrule")[2].split(r"\bottomrule")[0], ""), rows)


def test_markdown_shape(rows):
    md = to_markdown(rows).strip().splitlines()
    assert len(md) == 2 + len(rows)
    assert all(line.count("|") == len(COLUMNS) + 1 for line in md)


def test_astronomical_counts_render_as_powers_of_ten():
    problem = Problem(target_spec("heat", SobolevBox(1, 0.75, 1)))
    p = plan(problem, 0.3)
    rows = bound_table(problem, [0.3])
    row = rows[0]
    assert json.loads(to_json(rows))[0]["n_modes_in"] == p.n_modes_in  # no int → str limit hit
    for rendered in (to_markdown(rows), to_latex(rows), to_csv(rows)):
        assert "inf" not in rendered.lower()
    # n_experts has more digits than a JSON row keeps exactly: a power of ten instead
    assert decimal_digits(p.n_experts) > 4000
    assert re.fullmatch(r"≈ \d\.\de\d+", row["n_experts"])
    assert abs(row["log10"]["n_experts"] - _log10(p.n_experts)) < 1e-6
    # counts below that limit stay exact ints even when astronomically large
    assert type(row["n_cells"]) is int and row["n_cells"] == p.n_cells > 10**300
    assert re.fullmatch(r"≈ \d\.\de\d+", format_count(p.n_cells))
    _check_latex(to_latex(rows), rows)


def test_power_of_ten_hand():
    assert power_of_ten(32 * 10**411) == "≈ 3.2e412"
    assert power_of_ten(10**5000) == "≈ 1.0e5000"  # beyond the int → str limit
    assert power_of_ten(996 * 10**10) == "≈ 1.0e13"  # 9.96 rounds up a decade
    assert power_of_ten(7) == "≈ 7.0e0"
    assert format_count(123456) == "123456"
    assert format_count(10**20) == "≈ 1.0e20"
    with pytest.raises(InputError):
        power_of_ten(0)


def test_decimal_digits_against_str():
    rng = random.Random(1)
    for _ in range(300):
        v = rng.randrange(1, 10 ** rng.randrange(1, 400))
        assert decimal_digits(v) == len(str(v))
    for k in range(1, 60):
        assert decimal_digits(10**k) == k + 1 and decimal_digits(10**k - 1) == k


def test_bad_rows():
    with pytest.raises(InputError):
        to_markdown([{"eps": 0.1}])
