"""One self-contained HTML page per comparison: scenario, policies, tables and every figure.

Figures are embedded as base64 PNG, and the page carries its own CSS, so it reads offline
and can be mailed as a single file.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from sim.io import write_text
from sim.labels import label
from sim.plots import Figure, few_seeds_warning, metric_label
from sim.results import ComparisonResults

CAPTIONS = {
    "differences": "The headline figure: each policy minus the reference policy, paired by seed, with the 95% t-interval of the mean difference; an interval clear of zero is a difference the seeds resolve.",
    "compare": "Whole-run value of the headline metrics per policy: mean across seeds with its 95% interval (Student-t, or a percentile bootstrap where t would cross the metric's bounds). Overlapping intervals can still hide a resolved paired difference.",
    "timeseries": "Headline metrics over days: mean across seeds per policy, with a 95% band.",
    "channels": "GMV by channel over days, stacked (mean across seeds), one panel per policy.",
    "inequality": "Lorenz curves on the last day; legend: Gini, mean and 95% interval over seeds.",
    "followers": "Follower distribution on the last day (complementary CDF, log-log) with the fitted tail exponent.",
    "governance": "The five governance actions, cumulated over days (mean across seeds, 95% band).",
    "network": "A sample of the follow network on the last day (seed index 0 of each policy).",
}

STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; } code { background: #f3f3f3; padding: 0 0.2em; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; } .muted { color: #666; font-size: 0.9em; }
.warning { color: #8b0000; font-weight: bold; }
"""


def _fmt(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:,.2f}"
    return f"{value:.4f}"


def _interval(mean: float, low: float, high: float) -> str:
    if not np.isfinite(low):
        return _fmt(mean)
    return f"{_fmt(mean)} <span class=muted>[{_fmt(low)}, {_fmt(high)}]</span>"


def comparison_rows(results: ComparisonResults, metrics: list[str]) -> str:
    table = results.comparison
    head = "".join(f"<th>{html.escape(p)}</th>" for p in results.policies)
    rows = []
    for metric in metrics:
        cells = []
        for policy in results.policies:
            row = table[(table["metric"] == metric) & (table["policy"] == policy)]
            cells.append(
                "<td>–</td>"
                if row.empty
                else f"<td>{_interval(*row[['mean', 'ci_low', 'ci_high']].iloc[0])}</td>"
            )
        rows.append(
            f"<tr><td>{html.escape(metric_label(metric))} <span class=muted><code>"
            f"{html.escape(metric)}</code></span></td>{''.join(cells)}</tr>"
        )
    return f"<table><tr><th>metric (whole run)</th>{head}</tr>{''.join(rows)}</table>"


def difference_rows(results: ComparisonResults, metrics: list[str]) -> str:
    diff = results.differences
    if diff.empty:
        return "<p class=muted>Only one policy: no differences.</p>"
    reference = diff["reference"].iloc[0]
    others = list(dict.fromkeys(diff["policy"]))
    head = "".join(f"<th>{html.escape(p)} − {html.escape(reference)}</th>" for p in others)
    rows = []
    for metric in metrics:
        cells = []
        for policy in others:
            row = diff[(diff["metric"] == metric) & (diff["policy"] == policy)]
            cells.append(
                "<td>–</td>"
                if row.empty
                else f"<td>{_interval(*row[['mean_difference', 'ci_low', 'ci_high']].iloc[0])}</td>"
            )
        rows.append(
            f"<tr><td>{html.escape(label(metric))} <span class=muted><code>"
            f"{html.escape(metric)}</code></span></td>{''.join(cells)}</tr>"
        )
    return f"<table><tr><th>metric</th>{head}</tr>{''.join(rows)}</table>"


def folder_name(folder: Path) -> str:
    """The folder's name as readers will see it: a report is written while its folder still
    has its hidden ``.<name>.partial`` name."""
    return folder.name.removeprefix(".").removesuffix(".partial")


def write_report(results: ComparisonResults, figures: list[Figure], path: Path) -> Path:
    """Write ``report.html`` for a comparison from its files and drawn figures."""
    info = results.info
    config = results.config
    metrics = results.headline_metrics or results.metrics[:8]
    policies = "".join(
        f"<tr><td>{html.escape(name)}</td><td><code>{html.escape(json.dumps(overrides, ensure_ascii=False))}</code></td></tr>"
        for name, overrides in info.get("policies", {}).items()
    )
    failures = info.get("failures", [])
    failure_note = (
        "<p><strong>Failed runs:</strong> "
        + "; ".join(
            html.escape(f"{f['policy']} seed {f['seed_index']}: {f['error']}") for f in failures
        )
        + "</p>"
        if failures
        else ""
    )
    figure_html = []
    for figure in figures:
        png = next(p for p in figure.paths if p.suffix == ".png")
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        caption = CAPTIONS.get(figure.kind, figure.kind)
        figure_html.append(
            f'<figure><img alt="{figure.kind}" src="data:image/png;base64,{data}">'
            f"<figcaption><strong>{figure.kind}</strong>: {html.escape(caption)}</figcaption></figure>"
        )
    seeds = info.get("seeds", "?")
    warning = few_seeds_warning(len(info.get("seed_indices", [])))
    warning_note = f"<p class=warning>⚠ {html.escape(warning)}</p>" if warning else ""
    methods = set(results.comparison.get("method", []))
    bootstrap_note = (
        " Where a t-interval would cross what a metric allows (a share below 0, a count below "
        "0), the table gives the percentile bootstrap interval (scipy.stats.bootstrap) "
        "instead, which stays within the observed values; comparison.csv says which in its "
        "<code>method</code> column."
        if "bootstrap" in methods
        else ""
    )
    runs_ok = int((results.summary["status"] == "ok").sum()) if "status" in results.summary else 0
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(results.name)}: policy comparison</title><style>{STYLE}</style></head>
<body>
<h1>{html.escape(results.name)}: policy comparison</h1>
<p>{html.escape(str(config.get("description", "")))}</p>
<p class=muted>{len(results.policies)} policies × {seeds} seeds ({runs_ok} runs finished);
{config.get("steps", "?")} days; {config.get("population", {}).get("consumers", 0):,} consumers;
root seed {info.get("seed")}; seed index i of every policy starts from
SeedSequence(seed, spawn_key=(i,)) (common random numbers). Intervals are 95% Student-t
intervals across seeds; differences are paired by seed.{bootstrap_note}</p>
{warning_note}
{failure_note}
<h2>Policies</h2>
<table><tr><th>policy</th><th>overrides of the scenario</th></tr>{policies}</table>
<h2>Comparison</h2>
{comparison_rows(results, metrics)}
<h2>Differences from {html.escape(results.policies[0] if results.policies else "")}</h2>
{difference_rows(results, metrics)}
<h2>Figures</h2>
{"".join(figure_html)}
<p class=muted>Generated from the files of <code>{html.escape(folder_name(results.folder))}</code>;
every metric is defined in docs/METRICS.md.</p>
</body></html>
"""
    write_text(path, page)
    return path
