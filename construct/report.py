"""The report of ``mono verify``: progress bar, console table, Markdown, JSON, CSV and plots.

Everything here reads the JSON-ready report built by :func:`mono.construct.verify.verify`
(a dict), so a report can be re-rendered from ``report.json`` alone.  ``report.json`` is
written exactly as given (deterministic); timings appear only on the console and in
``report.md``.  Plots use matplotlib's Agg canvas directly (no global backend switch, no
display needed).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
import time
from typing import Sequence

import mpmath
import numpy as np

from mono.construct.verify import atomic_text

__all__ = ["Progress", "summary_table", "violations_text", "markdown", "csv_text", "write_report",
           "PLOTS", "json_text"]

#: File names of the plots, in the order they are described.
PLOTS = ("sup_error.png", "sizes.png", "experts.png")


# ---------------------------------------------------------------- progress

class Progress:
    """A plain-text progress bar on a stream (stderr by default).

    On a terminal the bar is redrawn in place (carriage return); otherwise one line is
    written per finished point, so logs stay readable.  ``enabled=False`` silences it.
    """

    def __init__(self, stream=None, enabled: bool = True, width: int = 24):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.width = width
        self.total = 0
        self.done = 0
        self.text = ""
        self.started = time.perf_counter()
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = bool(isatty and isatty())

    def _bar(self) -> str:
        filled = int(round(self.width * self.done / max(self.total, 1)))
        elapsed = time.perf_counter() - self.started
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} points"
                f"  {elapsed:6.1f}s  {self.text}")

    def _draw(self, final: bool = False) -> None:
        if not self.enabled:
            return
        if self.interactive:
            line = self._bar()
            self.stream.write("\r" + line[:110].ljust(110) + ("\n" if final else ""))
            self.stream.flush()

    def start(self, total: int, done: int = 0) -> None:
        self.total, self.done = int(total), int(done)
        self.started = time.perf_counter()
        self.text = f"{done} reused" if done else ""
        if self.enabled and not self.interactive and done:
            self.stream.write(f"mono verify: {done} of {total} points reused from earlier runs\n")
        self._draw()

    def step(self, text: str) -> None:
        """A stage of the point being computed (in-process runs only)."""
        self.text = text
        self._draw()

    def point_done(self, key: str, seconds: float, passed: bool) -> None:
        self.done += 1
        status = "passed" if passed else "FAILED"
        self.text = f"eps = {key} {status} ({seconds:.1f}s)"
        if self.enabled and not self.interactive:
            self.stream.write(f"mono verify: [{self.done}/{self.total}] eps = {key} {status} "
                              f"in {seconds:.1f}s\n")
            self.stream.flush()
        self._draw()

    def finish(self) -> None:
        self._draw(final=True)


# ---------------------------------------------------------------- number formatting

def _g(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):  # an exact int too large for a double
        return _big(int(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return _big(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def _big(value: int) -> str:
    text = str(int(value))
    if len(text) <= 12:
        return text
    return f"{text[0]}.{text[1:3]}e{len(text) - 1}"


def _log10(value) -> float:
    with mpmath.workdps(30):
        return float(mpmath.log10(mpmath.mpf(int(value))))


def _as_float(value) -> float:
    """A JSON count (int or exact-int string) as a float (inf beyond the double range)."""
    if isinstance(value, str):
        value = int(value)
    try:
        return float(value)
    except OverflowError:
        return math.inf


# ---------------------------------------------------------------- console table

_COLUMNS = ("eps", "n", "M", "sup error", "bound", "in-tail m/p", "out-tail m/p", "interp m/p",
            "ref", "expert w/p", "baseline", "route u/p", "experts", "status", "time")


def _row(point: dict, seconds) -> list[str]:
    t = point["terms"]
    e = point["sizes"]["expert"]
    counted = e["counted"] or {}
    base = point["sizes"]["baseline"]
    if point["baseline_built"]:
        baseline = f"built, w {_g(base['counted']['width'])}"
    else:
        baseline = f"w {_g(base['predicted']['width'])} (not built)"
    routing = point["routing"]

    def term(name):
        return f"{_g(t[name]['max_over_samples'])}/{_g(t[name]['predicted'])}"

    return [
        point["key"], str(point["n_modes_in"]), str(point["n_modes_out"]),
        _g(point["sup_error"], 4), _g(point["bound"], 4),
        term("input_tail"), term("output_tail"), term("interpolation"),
        _g(t["reference"]["measured"], 2),
        f"{_g(counted.get('width'))}/{_g(e['predicted']['width'])}",
        baseline,
        f"{_g(routing['depth_used'])}/{_g(routing['depth_predicted'])}",
        "10^" + f"{routing['log10_n_experts']:.1f}" if routing["log10_n_experts"] > 6 else _g(routing["n_experts"]),
        "ok" if point["passed"] else "FAILED",
        "reused" if seconds is None else f"{seconds:.1f}s",
    ]


def _table(header: Sequence[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def summary_table(report: dict, timings: dict | None = None) -> str:
    """The console summary: one row per ε, then slopes and the verdict.

    m/p = measured (largest over the sampled inputs) / predicted; route u/p = routing
    comparisons used / predicted depth.
    """
    timings = timings or {}
    prob = report["problem"]
    head = (f"mono verify: {prob['description']} on K(s={prob['s']}, r={prob['r']}), d = {prob['d']}; "
            f"ω(t) = {prob['modulus']}")
    rows = [_row(p, timings.get(p["key"])) for p in report["points"]]
    out = [head, _table(_COLUMNS, rows), ""]
    slopes = [[name, _g(v["fitted"]), _g(v["predicted"]), _g(v["exponent"])]
              for name, v in report["slopes"].items()]
    out.append(_table(("log-log slope vs 1/eps", "fitted", "predicted", "asymptotic"), slopes))
    out.append("")
    out.append("passed: every bound holds at every eps" if report["passed"]
               else f"FAILED: {len(report['violations'])} violation(s)")
    return "\n".join(out) + "\n"


def violations_text(report: dict) -> str:
    """One line per violated bound (which ε, which bound, measured vs predicted)."""
    return "".join(f"mono verify: violation: {v}\n" for v in report["violations"])


# ---------------------------------------------------------------- Markdown

def _md_table(header: Sequence[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def markdown(report: dict, timings: dict | None = None) -> str:
    """report.md: the problem, per-ε results, terms, sizes, slopes, claims, violations, plots."""
    timings = timings or {}
    prob, settings = report["problem"], report["settings"]
    lines = [f"# mono verify — {prob['description']}", ""]
    lines.append(f"* Compact set K(s = {prob['s']}, r = {prob['r']}) in d = {prob['d']}; claimed modulus "
                 f"ω(t) = `{prob['modulus']}`; output regularity t = {prob['t']}; split θ = "
                 f"({', '.join(_g(x) for x in prob['split'])}); reference grid {prob['resolution']}.")
    experts = "simplex experts" if settings["granularity"] is None else \
        f"block experts of {settings['granularity']} cells per axis"
    lines.append(f"* {experts}; adversarial budget {settings['budget']}, seed {settings['seed']}; baseline "
                 + ("built when it fits " + _bytes(settings["baseline_budget"]) if settings["baseline"]
                    else "not requested") + ".")
    lines.append("* The sup-error is a **lower estimate** of sup_K ‖G − A‖ (the largest error found by "
                 "sampling K and adversarial search); it passes when it stays below the bound of "
                 "Theorem E. Terms are measured at the worst input found and, separately, as their "
                 "largest value over every sampled input.")
    lines.append("")
    lines.append("**Verdict: " + ("passed** — every bound holds at every ε." if report["passed"]
                                  else f"FAILED** — {len(report['violations'])} violation(s), listed below."))
    lines.append("")

    lines.append("## Sup-error")
    lines.append("")
    rows = []
    for p in report["points"]:
        rows.append([p["key"], str(p["n_modes_in"]), str(p["n_modes_out"]), str(p["n_probe"]),
                     _g(p["sup_error"], 5), _g(p["bound"], 5), p["sup_source"],
                     f"[{os.path.basename(p['worst_input'])}]({p['worst_input']})",
                     "ok" if p["passed"] else "**FAILED**"])
    lines.append(_md_table(("ε", "n", "M", "probe modes", "sup-error (lower estimate)", "bound (Thm E)",
                            "found by", "worst input", "status"), rows))

    lines.append("## Terms of Theorem E")
    lines.append("")
    rows = []
    for p in report["points"]:
        t = p["terms"]
        for name in ("input_tail", "output_tail", "interpolation"):
            rows.append([p["key"], name.replace("_", " "), _g(t[name]["measured"], 4),
                         _g(t[name]["max_over_samples"], 4), _g(t[name]["predicted"], 4),
                         "ok" if t[name]["passed"] else "**FAILED**"])
        r = t["reference"]
        rows.append([p["key"], "reference accuracy of G", _g(r["measured"], 2),
                     f"doubling {_g(r['grid_doubling'], 2)}, consistency {_g(r['coefficient_consistency'], 2)}",
                     f"limit {_g(r['predicted'], 2)}", "ok" if r["passed"] else "**FLAGGED**"])
    lines.append(_md_table(("ε", "term", "at worst input", "largest over samples", "predicted", "status"), rows))

    lines.append("## Sizes (counted from the built networks vs closed forms)")
    lines.append("")
    rows = []
    for p in report["points"]:
        for which in ("expert", "baseline"):
            s = p["sizes"][which]
            counted = s["counted"]
            if which == "baseline" and not p["baseline_built"]:
                status = "not built: " + (p["baseline_note"] or "")
            else:
                status = "exact" if s["passed"] else "**MISMATCH**"
            cells = []
            for f in ("depth", "width", "rank", "params"):
                pred = _g(s["predicted"][f])
                cells.append(f"{_g(counted[f])} / {pred}" if counted else f"– / {pred}")
            rows.append([p["key"], which, *cells, status])
    lines.append(_md_table(("ε", "network", "depth c/p", "width c/p", "rank c/p", "params c/p", "status"), rows))
    rows = []
    for p in report["points"]:
        r = p["routing"]
        diff = p["mono_vs_baseline_max_diff"]
        rows.append([p["key"], _g(r["n_experts"]), f"{r['log10_n_experts']:.2f}", _g(r["depth_used"]),
                     _g(r["depth_predicted"]), _g(r["storage"]), _g(p["stored"]["node_table"]),
                     _g(p["stored"]["explicit_experts"]), _g(p["stored"]["baseline"]),
                     "–" if diff is None else _g(diff, 2)])
    lines.append(_md_table(("ε", "experts", "log10 experts", "routing used", "routing depth", "routing storage",
                            "stored (node table)", "stored (explicit experts)", "stored (baseline)",
                            "max |MoNO − baseline|"), rows))

    lines.append("## Rates")
    lines.append("")
    lines.append("Least-squares slopes of log(quantity) against log(1/ε) over the sweep: fitted on the "
                 "counted sizes, predicted by the same fit on the leading-order expressions of "
                 "`mono.bounds.rates` at the same ε, and the asymptotic exponent γ of ε^(−γ).")
    lines.append("")
    rows = [[name, _g(v["fitted"]), _g(v["predicted"]), _g(v["exponent"]),
             _g(v["log_power"])] for name, v in report["slopes"].items()]
    lines.append(_md_table(("quantity", "fitted slope", "predicted slope", "asymptotic γ", "log power"), rows))

    lines.append("## The paper's claims")
    lines.append("")
    for c in report["claims"]:
        verdict = "holds" if c["holds"] else ("does not hold" if c["holds"] is False else "undecided")
        extra = f" (fitted slope {_g(c['fitted_slope'])})" if c.get("fitted_slope") is not None else ""
        lines.append(f"* **{c['statement']}** — {verdict} for this problem; condition: {c['condition']}"
                     f"{extra}. {c['detail']}")
    lines.append("")

    lines.append("## Violations")
    lines.append("")
    if report["violations"]:
        lines += [f"* {v}" for v in report["violations"]]
    else:
        lines.append("None.")
    lines.append("")

    lines.append("## Plots")
    lines.append("")
    captions = ("sup-error vs ε with the predicted terms", "active expert vs baseline sizes",
                "number of experts and routing depth")
    lines += [f"![{c}]({name})" for name, c in zip(PLOTS, captions)]
    lines.append("")

    lines.append("## Timings")
    lines.append("")
    rows = [[p["key"], "reused from an earlier run" if timings.get(p["key"]) is None
             else f"{timings[p['key']]:.2f} s"] for p in report["points"]]
    lines.append(_md_table(("ε", "wall time"), rows))
    return "\n".join(lines)


def _bytes(value) -> str:
    if value is None:
        return "(no budget)"
    value = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.4g} {unit}"
        value /= 1024
    return str(value)  # pragma: no cover


# ---------------------------------------------------------------- CSV and JSON

CSV_FIELDS = (
    "eps", "n_modes_in", "n_modes_out", "n_probe", "sup_error", "bound", "sup_source",
    "input_tail_measured", "input_tail_max", "input_tail_predicted",
    "output_tail_measured", "output_tail_max", "output_tail_predicted",
    "interpolation_measured", "interpolation_max", "interpolation_predicted",
    "reference_measured", "reference_limit",
    "expert_depth", "expert_width", "expert_rank", "expert_params",
    "expert_depth_predicted", "expert_width_predicted", "expert_rank_predicted", "expert_params_predicted",
    "baseline_built", "baseline_depth", "baseline_width", "baseline_rank", "baseline_params",
    "baseline_depth_predicted", "baseline_width_predicted", "baseline_rank_predicted",
    "baseline_params_predicted", "mono_vs_baseline_max_diff",
    "routing_depth_predicted", "routing_depth_used", "routing_storage", "n_experts", "log10_n_experts",
    "worst_input", "passed",
)


def _csv_row(p: dict) -> dict:
    t = p["terms"]
    row = {"eps": p["eps"], "n_modes_in": p["n_modes_in"], "n_modes_out": p["n_modes_out"],
           "n_probe": p["n_probe"], "sup_error": p["sup_error"], "bound": p["bound"],
           "sup_source": p["sup_source"]}
    for name in ("input_tail", "output_tail", "interpolation"):
        row[f"{name}_measured"] = t[name]["measured"]
        row[f"{name}_max"] = t[name]["max_over_samples"]
        row[f"{name}_predicted"] = t[name]["predicted"]
    row["reference_measured"] = t["reference"]["measured"]
    row["reference_limit"] = t["reference"]["predicted"]
    for which in ("expert", "baseline"):
        s = p["sizes"][which]
        for f in ("depth", "width", "rank", "params"):
            row[f"{which}_{f}"] = "" if s["counted"] is None else s["counted"][f]
            row[f"{which}_{f}_predicted"] = s["predicted"][f]
    row["baseline_built"] = p["baseline_built"]
    row["mono_vs_baseline_max_diff"] = "" if p["mono_vs_baseline_max_diff"] is None else p["mono_vs_baseline_max_diff"]
    r = p["routing"]
    row.update({"routing_depth_predicted": r["depth_predicted"], "routing_depth_used": r["depth_used"],
                "routing_storage": r["storage"], "n_experts": r["n_experts"],
                "log10_n_experts": r["log10_n_experts"], "worst_input": p["worst_input"],
                "passed": p["passed"]})
    return row


def csv_text(report: dict) -> str:
    """results.csv: one row per ε (exact counts written in full)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for p in report["points"]:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in _csv_row(p).items()})
    return buffer.getvalue()


def json_text(report: dict) -> str:
    """report.json, byte-for-byte deterministic for a given report."""
    return json.dumps(report, indent=1, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- plots

def _figure(ncols: int = 1, width: float = 6.4):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, 4.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def _save(fig, path: str) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    data = buffer.getvalue()

    def write(handle):
        handle.write(data)

    from mono.construct.verify import _atomic_write  # the one atomic writer
    _atomic_write(path, write, "wb")


def _positive(xs, ys, floor: float = 0.0):
    """The pairs with a finite y > floor (log axes cannot show 0)."""
    pairs = [(x, y) for x, y in zip(xs, ys) if y is not None and math.isfinite(y) and y > max(floor, 0.0)]
    return [x for x, _ in pairs], [y for _, y in pairs]


#: Measured terms below this fraction of the smallest ε are rounding noise, not plotted.
ROUNDING_FLOOR = 1e-12


def _eps_axis(ax, points) -> None:
    """Log-scaled ε axis with one labelled tick per ε of the sweep (no minor clutter)."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    ax.set_xscale("log")
    eps = [p["eps"] for p in points]
    ax.xaxis.set_major_locator(FixedLocator(eps))
    ax.set_xticklabels([p["key"] for p in points], rotation=0)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("target accuracy ε")


def _legend(ax, fig=None) -> None:
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)


def _slope_text(eps: Sequence[float], logs: Sequence[float]) -> str:
    """Fitted slope of log(value) against log(1/ε), for a legend."""
    if len(set(eps)) < 2:
        return ""
    x = -np.log(np.asarray(eps, dtype=float))
    slope = float(np.polyfit(x, np.asarray(logs, dtype=float), 1)[0])
    return f", slope {slope:.2f}"


def plot_sup_error(report: dict, path: str) -> None:
    """(1) sup-error vs ε, the line y = ε, the three predicted terms and their sum (log–log)."""
    points = report["points"]
    eps = [p["eps"] for p in points]
    floor = ROUNDING_FLOOR * min(eps)
    fig, (ax,) = _figure(width=8.4)
    ax.plot(eps, eps, "k--", lw=1, label="y = ε")
    ax.plot(*_positive(eps, [p["bound"] for p in points]), "k-", lw=1.5, marker="s", ms=4,
            label="predicted bound (sum of terms)")
    colours = {"input_tail": "tab:blue", "output_tail": "tab:green", "interpolation": "tab:orange"}
    for name, colour in colours.items():
        label = name.replace("_", " ")
        xs, ys = _positive(eps, [p["terms"][name]["predicted"] for p in points])
        if xs:
            ax.plot(xs, ys, color=colour, lw=1, ls=":", marker="^", ms=4, label=f"predicted {label}")
        xs, ys = _positive(eps, [p["terms"][name]["max_over_samples"] for p in points], floor)
        if xs:
            ax.plot(xs, ys, color=colour, lw=0, marker="o", mfc="none", ms=6, label=f"measured {label} (max)")
    ax.plot(*_positive(eps, [p["sup_error"] for p in points]), color="tab:red", lw=2, marker="o", ms=7,
            label="measured sup-error (lower estimate)")
    bad = [p for p in points if not p["passed"]]
    if bad:
        ax.plot([p["eps"] for p in bad], [p["sup_error"] for p in bad], "rx", ms=14, mew=2, label="violation")
    _eps_axis(ax, points)
    ax.set_yscale("log")
    ax.set_ylabel("error in L² (|·| for functionals)")
    ax.set_title(f"sup-error vs ε — {report['problem']['target']}\n"
                 f"(measured terms below {ROUNDING_FLOOR:g}·ε are rounding level, not shown)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    _legend(ax)
    _save(fig, path)


def _size_series(points, which: str, field: str):
    """(eps, log10 value, counted?) for one size; baseline falls back to the closed form."""
    out = []
    for p in points:
        s = p["sizes"][which]
        value = s["counted"][field] if s["counted"] is not None else s["predicted"][field]
        out.append((p["eps"], _log10(int(value)), s["counted"] is not None))
    return out


def plot_sizes(report: dict, path: str) -> None:
    """(2) active expert vs baseline width and params vs ε, log–log, fitted slopes in the legend.

    Baseline sizes are counted where it was built (filled) and predicted elsewhere
    (hollow); values beyond the double range are plotted as log10 on a linear axis.
    """
    points = report["points"]
    fig, axes = _figure(2, width=6.0)
    for ax, field in zip(axes, ("width", "params")):
        series = {w: _size_series(points, w, field) for w in ("expert", "baseline")}
        huge = any(v > 300 for s in series.values() for _, v, _ in s)
        for which, colour in (("expert", "tab:blue"), ("baseline", "tab:red")):
            data = series[which]
            eps = [e for e, _, _ in data]
            logs = [v * math.log(10) for _, v, _ in data]
            label = ("active expert" if which == "expert" else "baseline (single NO)") + _slope_text(eps, logs)
            ys = [v if huge else 10 ** v for _, v, _ in data]
            ax.plot(eps, ys, color=colour, lw=1.2, label=label)
            filled = [(e, y) for (e, _, c), y in zip(data, ys) if c]
            hollow = [(e, y) for (e, _, c), y in zip(data, ys) if not c]
            if filled:
                ax.plot(*zip(*filled), color=colour, lw=0, marker="o", ms=6)
            if hollow:
                ax.plot(*zip(*hollow), color=colour, lw=0, marker="o", mfc="none", ms=7,
                        label=f"{which}: predicted (not built)")
        _eps_axis(ax, points)
        if huge:
            ax.set_ylabel(f"log10({field})")
        else:
            ax.set_yscale("log")
            ax.set_ylabel(field)
        ax.set_title(f"{field}: active expert vs baseline\n(slopes: log–log against 1/ε)", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    _save(fig, path)


def plot_experts(report: dict, path: str) -> None:
    """(3) log10(number of experts) (exact, via mpmath) and routing depth vs ε."""
    points = report["points"]
    eps = [p["eps"] for p in points]
    fig, (left, right) = _figure(2)
    left.plot(eps, [p["routing"]["log10_n_experts"] for p in points], "o-", color="tab:purple",
              label="log10(number of experts)")
    _eps_axis(left, points)
    left.set_ylabel("log10(number of experts)")
    left.set_title("number of experts (exact count)")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)
    right.plot(eps, [p["routing"]["depth_predicted"] for p in points], "s-", color="k",
               label="predicted routing depth")
    used = [(e, p["routing"]["depth_used"]) for e, p in zip(eps, points) if p["routing"]["depth_used"] is not None]
    if used:
        right.plot(*zip(*used), "o", color="tab:orange", mfc="none", ms=9, label="comparisons used (max)")
    _eps_axis(right, points)
    right.set_ylabel("comparisons")
    right.set_title("routing depth")
    right.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=8)
    _save(fig, path)


def write_report(out, report: dict, timings: dict | None = None) -> dict:
    """Write report.json, report.md, results.csv and the plots to ``out`` (atomically).

    Returns the paths written, by kind.
    """
    out = os.fspath(out)
    paths = {
        "json": os.path.join(out, "report.json"),
        "markdown": os.path.join(out, "report.md"),
        "csv": os.path.join(out, "results.csv"),
    }
    atomic_text(paths["json"], json_text(report))
    atomic_text(paths["csv"], csv_text(report))
    atomic_text(paths["markdown"], markdown(report, timings))
    for name, draw in zip(PLOTS, (plot_sup_error, plot_sizes, plot_experts)):
        path = os.path.join(out, name)
        draw(report, path)
        paths[name] = path
    return paths
