"""Markdown tables from a comparison folder: the numbers a README or a paper quotes, made from
the folder's files by one command (``zhongcao table FOLDER --metric …``), so they can be
regenerated instead of going stale.

A row per metric: its reader's label with the unit as shown (shares in %, money scaled when
asked: ``gmv_yuan:million``), then per policy the mean across seeds and its 95% interval
from ``comparison.csv``, with one precision per row: three significant digits of its largest
value.
"""

from __future__ import annotations

import math
import re

import numpy as np

from sim.labels import display_unit, is_share, label
from sim.metrics import REGISTRY
from sim.results import ComparisonResults

SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
SPEC = re.compile(r"^(?P<name>[A-Za-z0-9_]+)(?::(?P<scale>thousand|million|billion))?$")
BEGIN = re.compile(r"^<!-- zhongcao table (?P<args>.*?) -->$")
END = "<!-- /zhongcao table -->"
"""Markers around a generated table in a Markdown file: the opening one holds the command's
arguments after the folder (``<!-- zhongcao table --metric gmv_yuan:million ... -->``)."""


class TableError(ValueError):
    """A metric spec that names no metric of the folder, or a bad scale."""


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"gmv_yuan:million"`` -> (``"gmv_yuan"``, ``"million"``)."""
    match = SPEC.match(spec)
    if not match:
        raise TableError(f"bad metric {spec!r}: NAME or NAME:thousand|million|billion")
    return match["name"], match["scale"]


def _digits(value: float) -> int:
    """Decimals that show ``value`` to three significant digits (none at 100 and above)."""
    if not np.isfinite(value) or value == 0:
        return 0
    return max(0, 2 - math.floor(math.log10(abs(value))))


def _cell(mean: float, low: float, high: float, factor: float, d: int) -> str:
    if not np.isfinite(mean):
        return "–"
    m, lo, hi = mean / factor, low / factor, high / factor
    text = f"{m:,.{d}f}"
    if np.isfinite(lo) and np.isfinite(hi):
        text += f" [{lo:,.{d}f}, {hi:,.{d}f}]"
    return text


def row_label(name: str, scale: str | None) -> str:
    """``"GMV (million yuan)"``; a stock (summarised at its last day) says so."""
    u = display_unit(name)
    if scale:
        u = f"{scale} {u}"
    metric = REGISTRY.get(name)
    when = ", last day" if metric is not None and metric.summary == "last" else ""
    return f"{label(name)}{when} ({u})"


def markdown_table(results: ComparisonResults, specs: list[str], differences: bool = False) -> str:
    """The Markdown table of ``specs`` (``NAME`` or ``NAME:scale``) for every policy; with
    ``differences``, each other policy minus the reference, paired by seed
    (``differences.csv``)."""
    if differences:
        diff = results.differences
        reference = str(diff["reference"].iloc[0]) if len(diff) else ""
        table = diff.rename(columns={"mean_difference": "mean"})
        columns = [p for p in results.policies if p != reference]
        names = [f"{p} − {reference}" for p in columns]
    else:
        table = results.comparison
        columns = names = list(results.policies)
    known = set(table["metric"])
    rows = []
    for spec in specs:
        name, scale = parse_spec(spec)
        if name not in known:
            raise TableError(f"unknown metric {name!r} in {results.folder}")
        factor = 0.01 if is_share(name) else SCALES.get(scale or "", 1.0)
        values = []
        for policy in columns:
            row = table[(table["metric"] == name) & (table["policy"] == policy)]
            values.append(None if row.empty else tuple(row[["mean", "ci_low", "ci_high"]].iloc[0]))
        means = [abs(v[0] / factor) for v in values if v is not None and np.isfinite(v[0])]
        d = _digits(max(means)) if means else 0  # one precision per row: the largest value's
        cells = ["–" if v is None else _cell(*v, factor, d) for v in values]
        rows.append(f"| {row_label(name, scale)} | " + " | ".join(cells) + " |")
    seeds = len(results.info.get("seed_indices", []))
    what = "paired by seed, 95% CI" if differences else "95% CI"
    head = f"| metric ({what} over {seeds} seeds) | " + " | ".join(names) + " |"
    rule = "|---|" + "---:|" * len(names)
    return "\n".join([head, rule, *rows])


def table_blocks(text: str) -> list[tuple[str, list[str]]]:
    """The generated tables of a Markdown text: (arguments of the opening marker, the table's
    lines) for each block between the markers."""
    blocks = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = BEGIN.match(line.strip())
        if match:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == END)
            blocks.append((match["args"], [x for x in lines[i + 1 : end] if x.strip()]))
    return blocks
