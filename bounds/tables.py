"""Bound tables: one row per ε, as JSON-ready dicts, Markdown, LaTeX and CSV.

Rows keep counts exact: a count is a JSON integer unless it has more decimal digits
than Python will convert to text by default (``EXACT_DIGITS``); such a count is given
as a string ``"≈ 3.2e412"`` (its log10 is always in ``row["log10"]``).  Rendered tables
show a count exactly when it has at most ``SHORT_DIGITS`` digits and as a power of ten
otherwise.  Powers of ten are computed from the exact integer with mpmath, never
through a float, so nothing overflows to ``inf``.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable, Sequence

import mpmath
import sympy

from mono.bounds.plan import Plan, Problem, plan
from mono.errors import InputError, require

__all__ = [
    "EXACT_DIGITS", "SHORT_DIGITS", "COLUMNS",
    "bound_table", "plan_row", "format_count", "power_of_ten", "log10_int", "decimal_digits",
    "to_markdown", "to_latex", "to_csv", "to_json", "flatten_row",
]

#: Counts with more digits than this are given in rows as "≈ 3.2e412" strings
#: (below CPython's default int→str limit of 4300 digits).
EXACT_DIGITS = 4000

#: Rendered tables show counts of up to this many digits exactly.
SHORT_DIGITS = 12

#: (row key, Markdown header, LaTeX header, rate used in the LaTeX rate row)
COLUMNS = (
    ("eps", "ε", r"$\varepsilon$", None),
    ("n_modes_in", "n", r"$n$", "n_modes_in"),
    ("n_modes_out", "M", r"$M$", "n_modes_out"),
    ("mesh", "h", r"$h$", "mesh"),
    ("n_cells", "cells", r"cells", None),
    ("n_nodes", "nodes", r"nodes", None),
    ("n_experts", "experts", r"experts", "log_n_experts"),
    ("routing_depth", "routing depth", r"routing depth", "routing_depth"),
    ("routing_storage", "routing storage", r"routing storage", None),
    ("expert.depth", "expert depth", r"expert depth", "expert_depth"),
    ("expert.width", "expert width", r"expert width", "expert_width"),
    ("expert.rank", "expert rank", r"expert rank", "expert_rank"),
    ("expert.params", "expert params", r"expert params", "expert_params"),
    ("baseline.depth", "baseline depth", r"baseline depth", "baseline_depth"),
    ("baseline.width", "baseline width", r"baseline width", "log_baseline_width"),
    ("baseline.params", "baseline params", r"baseline params", None),
    ("stored.node_table", "stored (node table)", r"stored (node table)", "log_stored_node_table"),
    ("error_terms.total", "error bound", r"error bound", None),
)


# ---------------------------------------------------------------- numbers

def decimal_digits(value: int) -> int:
    """Number of decimal digits of |value| (exact, without converting to text)."""
    value = abs(int(value))
    if value == 0:
        return 1
    guess = int(value.bit_length() * 0.30102999566398120) + 1  # >= true count, off by <= 1
    return guess if value >= 10 ** (guess - 1) else guess - 1


def _check_positive_int(value) -> None:
    # the message is built only on failure: formatting a huge int as text would raise
    if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        raise InputError("value", f"must be a positive int, got {value!r}")


def log10_int(value: int) -> float:
    """log10 of a positive int of any size, through mpmath (never via float(value))."""
    _check_positive_int(value)
    with mpmath.workdps(30):
        return float(mpmath.log10(mpmath.mpf(value)))


def power_of_ten(value: int, digits: int = 2) -> str:
    """``"≈ 3.2e412"``: ``value`` rounded to ``digits`` significant digits, from the exact int."""
    _check_positive_int(value)
    with mpmath.workdps(40):
        x = mpmath.mpf(value)
        exponent = int(mpmath.floor(mpmath.log10(x)))
        mantissa = x / mpmath.mpf(10) ** exponent
        scale = 10 ** (digits - 1)
        rounded = int(mpmath.nint(mantissa * scale))
        if rounded >= 10 * scale:  # 9.96 rounds up to 10.0
            rounded //= 10
            exponent += 1
    text = str(rounded)
    text = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"≈ {text}e{exponent}"


def format_count(value, short_digits: int = SHORT_DIGITS) -> str:
    """A count as text: exact when it has at most ``short_digits`` digits, else ≈ a power of ten."""
    if isinstance(value, str):  # already approximated in the row
        return value
    if value is None:
        return "—"
    value = int(value)
    if value <= 0 or decimal_digits(value) <= short_digits:
        return str(value)
    return power_of_ten(value)


def _count(value: int):
    """A count for a JSON row: the int itself, or its power of ten when too long for text."""
    return value if decimal_digits(value) <= EXACT_DIGITS else power_of_ten(value)


def _real(value):
    """An mpf as a JSON number (float) when finite and in float range, else text."""
    x = mpmath.mpf(value)
    if mpmath.isinf(x):
        return "inf" if x > 0 else "-inf"
    if mpmath.isnan(x):
        return "nan"
    if x == 0 or mpmath.mpf("1e-300") < abs(x) < mpmath.mpf("1e300"):
        return float(x)
    return mpmath.nstr(x, 17)


def _format_real(value, digits: int = 4) -> str:
    if isinstance(value, str):
        return value
    return mpmath.nstr(mpmath.mpf(value), digits)


# ---------------------------------------------------------------- rows

def _check_eps_list(eps_list) -> list:
    if isinstance(eps_list, (str, bytes)) or not isinstance(eps_list, Iterable):
        eps_list = [eps_list]
    eps_list = list(eps_list)
    require(len(eps_list) >= 1, "eps", "give at least one eps")
    return eps_list


def plan_row(p: Plan) -> dict:
    """The JSON-ready row of one plan (see the module docstring for huge counts)."""
    sizes = lambda s: {"depth": _count(s.depth), "width": _count(s.width),
                       "rank": _count(s.rank), "params": _count(s.params)}
    big = {
        "n_cells": p.n_cells, "n_nodes": p.n_nodes, "n_experts": p.n_experts,
        "baseline_width": p.baseline.width, "baseline_params": p.baseline.params,
        "stored_node_table": p.stored["node_table"],
        "stored_explicit_experts": p.stored["explicit_experts"],
    }
    return {
        "eps": _real(p.eps),
        "granularity": p.granularity,
        "n_modes_in": p.n_modes_in,
        "n_modes_out": p.n_modes_out,
        "mesh": _real(p.mesh),
        "cells_per_axis": [int(q) for q in p.cells_per_axis],
        "n_cells": _count(p.n_cells),
        "n_nodes": _count(p.n_nodes),
        "n_simplices": _count(p.n_simplices),
        "n_experts": _count(p.n_experts),
        "routing_depth": p.routing_depth,
        "routing_storage": p.routing_storage,
        "shares": {"input_tail": _real(p.shares[0]), "output_tail": _real(p.shares[1]),
                   "interpolation": _real(p.shares[2])},
        "error_terms": {k: _real(v) for k, v in p.error_terms.as_dict().items()},
        "expert": sizes(p.expert),
        "baseline": sizes(p.baseline),
        "stored": {k: _count(v) for k, v in p.stored.items()},
        "log10": {k: log10_int(v) for k, v in big.items()},
    }


def bound_table(problem: Problem, eps_list: Sequence, granularity: int | None = None) -> list[dict]:
    """One JSON-ready row per ε (in the order given) for ``problem``.

    Keys: ``eps``, ``granularity``, ``n_modes_in``, ``n_modes_out``, ``mesh``,
    ``cells_per_axis`` (list), ``n_cells``, ``n_nodes``, ``n_simplices``, ``n_experts``,
    ``routing_depth``, ``routing_storage``, ``shares`` and ``error_terms`` (each with
    ``input_tail``, ``output_tail``, ``interpolation``; ``error_terms`` also ``total``),
    ``expert`` and ``baseline`` (``depth``, ``width``, ``rank``, ``params``), ``stored``
    (``node_table``, ``explicit_experts``, ``baseline``) and ``log10`` of the big counts.
    """
    return [plan_row(plan(problem, eps, granularity)) for eps in _check_eps_list(eps_list)]


def _get(row: dict, key: str):
    value = row
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise InputError("rows", f"a row has no field {key!r}; pass rows from bound_table")
        value = value[part]
    return value


def _cell(row: dict, key: str) -> str:
    value = _get(row, key)
    if key in ("eps", "mesh") or key.startswith("error_terms"):
        return _format_real(value, 4)
    return format_count(value)


def _check_rows(rows) -> list[dict]:
    rows = list(rows)
    require(all(isinstance(r, dict) for r in rows), "rows", "must be dicts from bound_table")
    return rows


# ---------------------------------------------------------------- renderings

def to_markdown(rows: Sequence[dict]) -> str:
    """A Markdown (GitHub) table, one line per ε."""
    rows = _check_rows(rows)
    lines = ["| " + " | ".join(c[1] for c in COLUMNS) + " |",
             "|" + "|".join("---:" for _ in COLUMNS) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row, c[0]) for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def _latex_cell(text: str) -> str:
    if text.startswith("≈ "):
        mantissa, exponent = text[2:].split("e")
        return rf"$\approx {mantissa}\times 10^{{{exponent}}}$"
    if text == "inf":
        return r"$\infty$"
    if text == "—":
        return "--"
    if "e" in text:  # mpmath's 1.0e-5 style
        mantissa, exponent = text.split("e")
        return rf"${mantissa}\times 10^{{{int(exponent)}}}$"
    return text


def _rate_cell(rate) -> str:
    """ε^{−γ} log(1/ε)^λ of a rate; for log-quantities the count is exp(Θ(·))."""
    from mono.bounds.rates import EPS, LATEX_NAMES  # rates imports plan, not tables

    order = EPS ** (-rate.exponent) * sympy.log(1 / EPS) ** rate.log_power
    body = sympy.latex(order, symbol_names=LATEX_NAMES)
    if rate.quantity.startswith("log_"):
        return rf"$e^{{\Theta({body})}}$"
    if rate.exponent == 0 and rate.log_power == 0:
        return rf"${sympy.latex(rate.leading)}$"
    return rf"$\Theta({body})$"


def to_latex(rows: Sequence[dict], rates: dict | None = None, caption: str | None = None) -> str:
    """A LaTeX ``tabular`` (booktabs rules), one line per ε.

    Parameters
    ----------
    rows : rows from :func:`bound_table`
    rates : dict, optional
        ``mono.bounds.rates.rates(problem)``: adds a last line with the order of every
        column as ε → 0 (rendered with ``sympy.latex``).
    caption : str, optional
        Wraps the tabular in a ``table`` environment with this caption.
    """
    rows = _check_rows(rows)
    lines = [r"\begin{tabular}{" + "r" * len(COLUMNS) + "}", r"\toprule",
             " & ".join(c[2] for c in COLUMNS) + r" \\", r"\midrule"]
    for row in rows:
        lines.append(" & ".join(_latex_cell(_cell(row, c[0])) for c in COLUMNS) + r" \\")
    if rates is not None:
        cells = [r"$\varepsilon \to 0$"]
        for _, _, _, name in COLUMNS[1:]:
            cells.append(_rate_cell(rates[name]) if name is not None and name in rates else "")
        lines.append(r"\midrule")
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    body = "\n".join(lines) + "\n"
    if caption is not None:
        body = "\\begin{table}\n\\centering\n" + body + f"\\caption{{{caption}}}\n\\end{{table}}\n"
    return body


def flatten_row(row: dict) -> dict:
    """A row with nested dicts flattened to dotted keys and lists joined by spaces."""
    flat = {}
    for key, value in row.items():
        if isinstance(value, dict):
            for sub, v in flatten_row(value).items():
                flat[f"{key}.{sub}"] = v
        elif isinstance(value, list):
            flat[key] = " ".join(str(v) for v in value)
        else:
            flat[key] = "" if value is None else value
    return flat


def to_csv(rows: Sequence[dict]) -> str:
    """CSV with one column per (flattened) field; counts exact (or "≈ …" when huge)."""
    rows = [flatten_row(r) for r in _check_rows(rows)]
    header = list(rows[0]) if rows else [c[0] for c in COLUMNS]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    return out.getvalue()


def to_json(rows: Sequence[dict]) -> str:
    """The rows as a JSON list (integers exact)."""
    return json.dumps(_check_rows(rows), indent=2, ensure_ascii=False) + "\n"
