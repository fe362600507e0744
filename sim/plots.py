"""Figures from result files only — never from a live model.

Each kind of figure reads a run folder or a comparison folder (:mod:`sim.results`) and is
written as PNG and SVG (atomically), with axis labels, units and a legend. For a comparison,
lines are the mean across seeds with a 95% t-band, and every policy has its own colour.

Kinds: ``timeseries``, ``compare`` (comparisons only), ``channels``, ``inequality``,
``followers``, ``governance``, ``network``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no screen needed
matplotlib.rcParams["svg.fonttype"] = "none"  # keep text as text in SVG (searchable labels)
matplotlib.rcParams["svg.hashsalt"] = "zhongcao"  # the same figure gives the same SVG

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from sim.io import atomic_write  # noqa: E402
from sim.metrics import REGISTRY, fit_power_law_tail, gini  # noqa: E402
from sim.results import ComparisonResults, Results, RunResults  # noqa: E402
from sim.stats import mean_ci, mean_ci_rows  # noqa: E402
from sim.vocabulary import CHANNELS, CREATOR_KINDS, INDEPENDENT_CREATOR_KINDS  # noqa: E402

FORMATS = ("png", "svg")
DPI = 120
GOVERNANCE_COUNTS = (
    "gov_intercepted",
    "gov_banned",
    "gov_delisted",
    "gov_penalized",
    "gov_removed",
)
NETWORK_CONSUMERS = 300
"""Consumers drawn from the follow sample for the network figure (layout cost grows fast)."""


@dataclass(frozen=True)
class Figure:
    """A written figure: its files, and the series it shows per panel with their labels."""

    kind: str
    paths: tuple[Path, ...]
    series: int
    labels: tuple[str, ...]


# --- helpers --------------------------------------------------------------------------------


def metric_label(name: str) -> str:
    """Axis label for a metric: its name and unit."""
    metric = REGISTRY.get(name)
    return f"{name} ({metric.unit})" if metric is not None else name


def _number(value: float, _pos=None) -> str:
    if not np.isfinite(value):
        return ""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if magnitude >= limit:
            return f"{value / (limit if suffix != 'k' else 1e3):,.3g}{suffix}"
    return f"{value:,.4g}"


NUMBER_FORMAT = FuncFormatter(_number)


def save(fig: plt.Figure, stem: Path) -> tuple[Path, ...]:
    """Write ``stem.png`` and ``stem.svg``; close the figure. Returns the paths."""
    paths = []
    for fmt in FORMATS:
        path = Path(f"{stem}.{fmt}")
        atomic_write(
            path,
            lambda p, fmt=fmt: fig.savefig(
                p, format=fmt, dpi=DPI, bbox_inches="tight", metadata={"Date": None}
                if fmt == "svg" else None,
            ),
        )  # fmt: skip
        paths.append(path)
    plt.close(fig)
    return tuple(paths)


def _grid(n: int, width: float = 4.4, height: float = 3.2, ncols: int = 3):
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)[:n]


def _colors(n: int) -> list:
    palette = plt.get_cmap("tab10").colors
    return [palette[i % len(palette)] for i in range(n)]


def _title(results: Results, what: str, pooled: bool = False) -> str:
    """Figure title; for a comparison, how the seeds were combined."""
    if isinstance(results, ComparisonResults):
        seeds = len(results.info.get("seed_indices", []))
        how = f"{seeds} seeds pooled" if pooled else f"mean over {seeds} seeds, 95% band"
        return f"{results.name}: {what} ({how})"
    return f"{results.name}, seed {results.seed}: {what}"


def _legend_below(fig, handles, labels, title: str | None = None) -> None:
    fig.legend(handles, labels, title=title, loc="lower center", ncol=min(len(labels), 6),
               bbox_to_anchor=(0.5, -0.02), frameon=False)  # fmt: skip
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))


def style_axis(ax, xlabel: str, ylabel: str, title: str) -> None:
    """Labels, title, readable numbers and a light grid: the look every panel shares."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.yaxis.set_major_formatter(NUMBER_FORMAT)
    ax.grid(alpha=0.3)


def band(runs: list[RunResults], metric: str) -> pd.DataFrame:
    """Per step: mean across runs and the 95% t-interval (columns step, mean, low, high)."""
    table = pd.concat([r.wide[metric].rename(i) for i, r in enumerate(runs)], axis=1).sort_index()
    mean, low, high = mean_ci_rows(table.to_numpy())
    return pd.DataFrame({"step": table.index, "mean": mean, "low": low, "high": high})


def last_snapshot(table: pd.DataFrame) -> pd.DataFrame:
    """The agents active at the last sampled step of an agent table."""
    last = table[table["step"] == table["step"].max()]
    return last[last["status"] == "active"]


def lorenz(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve: cumulative share of holders (x) and of the total (y), from (0, 0)."""
    x = np.sort(np.clip(np.asarray(values, dtype=np.float64), 0.0, None))
    total = x.sum()
    share = np.r_[0.0, np.cumsum(x) / total] if total > 0 else np.linspace(0, 1, x.size + 1)
    return np.linspace(0.0, 1.0, x.size + 1), share


def ccdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Complementary CDF P(X >= x) at the distinct positive values."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    x = x[x > 0]
    if x.size == 0:
        return x, x
    distinct, first = np.unique(x, return_index=True)
    return distinct, 1.0 - first / x.size


# --- kinds ----------------------------------------------------------------------------------


def plot_timeseries(results: Results, stem: Path, metrics: list[str]) -> Figure:
    """Chosen metrics over days; for a comparison, the mean per policy with a 95% band."""
    fig, axes = _grid(len(metrics))
    labels: list[str] = []
    handles = []
    for ax, metric in zip(axes, metrics, strict=True):
        if isinstance(results, ComparisonResults):
            for color, policy in zip(_colors(len(results.policies)), results.policies, strict=True):
                runs = results.runs[policy]
                if not runs:
                    continue
                b = band(runs, metric)
                (line,) = ax.plot(b["step"], b["mean"], color=color, label=policy)
                ax.fill_between(b["step"], b["low"], b["high"], color=color, alpha=0.2, linewidth=0)
                if ax is axes[0]:
                    handles.append(line)
                    labels.append(policy)
        else:
            series = results.wide[metric]
            (line,) = ax.plot(series.index, series.to_numpy(), color="tab:blue", label=results.name)
            if ax is axes[0]:
                handles.append(line)
                labels.append(results.name)
        style_axis(ax, "day", metric_label(metric), metric)
    fig.suptitle(_title(results, "metrics over days"))
    _legend_below(
        fig, handles, labels, "policy" if isinstance(results, ComparisonResults) else None
    )
    return Figure("timeseries", save(fig, stem), len(labels), tuple(labels))


def plot_compare(results: ComparisonResults, stem: Path, metrics: list[str]) -> Figure:
    """Whole-run value of each metric per policy: the mean across seeds and its 95% interval."""
    table = results.comparison
    policies = results.policies
    fig, axes = _grid(len(metrics), width=4.0, height=3.3)
    x = np.arange(len(policies))
    colors = _colors(len(policies))
    handles = []
    for ax, metric in zip(axes, metrics, strict=True):
        rows = table[table["metric"] == metric].set_index("policy").reindex(policies)
        mean = rows["mean"].to_numpy(dtype=float)
        low = rows["ci_low"].to_numpy(dtype=float)
        high = rows["ci_high"].to_numpy(dtype=float)
        for i, policy in enumerate(policies):
            err = (
                None
                if np.isnan([low[i], high[i]]).any()
                else [[mean[i] - low[i]], [high[i] - mean[i]]]
            )
            h = ax.errorbar(
                x[i], mean[i], yerr=err, fmt="o", capsize=5, color=colors[i], label=policy
            )
            if ax is axes[0]:
                handles.append(h)
        ax.set_xticks(x, policies, rotation=20, ha="right")
        ax.set_xlim(-0.6, len(policies) - 0.4)
        ax.set_xlabel("policy")
        ax.set_ylabel(metric_label(metric))
        ax.set_title(metric, fontsize=10)
        ax.yaxis.set_major_formatter(NUMBER_FORMAT)
        ax.grid(axis="y", alpha=0.3)
    n = int(table["n"].max()) if len(table) else 0
    fig.suptitle(f"{results.name}: whole-run values per policy")
    _legend_below(fig, handles, policies, f"policy (mean and 95% CI over {n} seeds)")
    return Figure("compare", save(fig, stem), len(policies), tuple(policies))


def plot_channels(results: Results, stem: Path, metrics: list[str]) -> Figure:
    """GMV by channel as a stacked area over days (one panel per policy for a comparison)."""
    columns = [f"gmv_{ch}_yuan" for ch in CHANNELS]
    if isinstance(results, ComparisonResults):
        panels = [(p, results.runs[p]) for p in results.policies if results.runs[p]]
    else:
        panels = [(results.name, [results])]
    fig, axes = _grid(len(panels), width=5.0, height=3.4)
    colors = _colors(len(CHANNELS))
    handles = []
    for ax, (label, runs) in zip(axes, panels, strict=True):
        means = [band(runs, c)["mean"].to_numpy() for c in columns]
        steps = band(runs, columns[0])["step"].to_numpy()
        polys = ax.stackplot(steps, *means, labels=CHANNELS, colors=colors, alpha=0.85)
        if not handles:
            handles = list(polys)
        style_axis(ax, "day", "GMV (yuan per day)", label)
    what = "GMV by channel" + (
        " (mean over seeds)" if isinstance(results, ComparisonResults) else ""
    )
    fig.suptitle(f"{results.name}: {what}")
    _legend_below(fig, handles, list(CHANNELS), "channel")
    return Figure("channels", save(fig, stem), len(CHANNELS), tuple(CHANNELS))


def _inequality_values(run: RunResults) -> dict[str, np.ndarray]:
    creators = last_snapshot(run.creators)
    independent = creators[creators["kind"].isin(INDEPENDENT_CREATOR_KINDS)]
    return {
        "creator income (yuan, independent creators)": independent["income_yuan"].to_numpy(),
        "merchant sales (units)": last_snapshot(run.merchants)["sales"].to_numpy(),
        "followers (all creators)": creators["followers"].to_numpy(),
    }


def plot_inequality(results: Results, stem: Path, metrics: list[str]) -> Figure:
    """Lorenz curves of creator income, merchant sales and followers on the last day, with the
    Gini coefficient in the legend (for a comparison: seeds pooled for the curve, the Gini as
    mean and 95% interval over seeds)."""
    groups = (
        [(p, results.runs[p]) for p in results.policies if results.runs[p]]
        if isinstance(results, ComparisonResults)
        else [(results.name, [results])]
    )
    per_group = {label: [_inequality_values(r) for r in runs] for label, runs in groups}
    panels = list(next(iter(per_group.values()))[0])
    fig, axes = _grid(len(panels), width=4.4, height=4.0)
    colors = _colors(len(groups))
    labels = []
    for ax, panel in zip(axes, panels, strict=True):
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="equality")
        for color, (label, values) in zip(colors, per_group.items(), strict=True):
            pooled = np.concatenate([v[panel] for v in values])
            x, y = lorenz(pooled)
            ginis = np.array([gini(v[panel]) for v in values])
            mean, low, high, n = mean_ci(ginis)
            g = f"Gini {mean:.2f}" + (
                f" [{low:.2f}, {high:.2f}]" if n > 1 and np.isfinite(low) else ""
            )
            ax.plot(x, y, color=color, label=f"{label} ({g})")
        ax.set_xlabel("cumulative share of holders")
        ax.set_ylabel("cumulative share of the total")
        ax.set_title(panel, fontsize=10)
        ax.set_aspect("equal")
        ax.legend(fontsize=8, loc="upper left")
        labels.append(panel)
    fig.suptitle(_title(results, "inequality on the last day", pooled=True))
    fig.tight_layout()
    return Figure("inequality", save(fig, stem), len(groups), tuple(label for label, _ in groups))


def plot_followers(results: Results, stem: Path, metrics: list[str]) -> Figure:
    """Follower counts on the last day as a log-log complementary CDF, with the tail exponent
    fitted by maximum likelihood (Clauset et al. 2009) in the legend."""
    groups = (
        [(p, results.runs[p]) for p in results.policies if results.runs[p]]
        if isinstance(results, ComparisonResults)
        else [(results.name, [results])]
    )
    fig, ax = plt.subplots(figsize=(6.0, 4.4))
    labels = []
    for color, (label, runs) in zip(_colors(len(groups)), groups, strict=True):
        followers = np.concatenate(
            [last_snapshot(r.creators)["followers"].to_numpy() for r in runs]
        )
        x, p = ccdf(followers)
        alpha, xmin, n_tail = fit_power_law_tail(followers)
        fit = (
            f"tail alpha {alpha:.2f} for x >= {xmin:,.0f} ({n_tail} creators)"
            if np.isfinite(alpha)
            else "too few creators to fit a tail"
        )
        text = f"{label}: {fit}"
        ax.loglog(x, p, marker=".", linestyle="none", color=color, label=text)
        if np.isfinite(alpha):
            xs = np.logspace(np.log10(xmin), np.log10(x.max()), 50)
            at_xmin = p[np.searchsorted(x, xmin)]
            ax.loglog(xs, at_xmin * (xs / xmin) ** (1 - alpha), color=color, linewidth=1)
        labels.append(label)
    ax.set_xlabel("followers (creators active on the last day)")
    ax.set_ylabel("P(followers >= x)")
    ax.set_title(_title(results, "follower distribution", pooled=True), fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return Figure("followers", save(fig, stem), len(groups), tuple(labels))


def plot_governance(results: Results, stem: Path, metrics: list[str]) -> Figure:
    """The five governance actions, cumulated over days (a panel each; one line per policy
    for a comparison, with a 95% band)."""
    fig, axes = _grid(len(GOVERNANCE_COUNTS), width=4.0, height=3.0)
    policies = results.policies if isinstance(results, ComparisonResults) else [results.name]
    color_of = dict(zip(policies, _colors(len(policies)), strict=True))
    if isinstance(results, ComparisonResults):  # a policy with no successful run has no line
        policies = [p for p in policies if results.runs[p]]
    handles = []
    for ax, metric in zip(axes, GOVERNANCE_COUNTS, strict=True):
        for policy in policies:
            color = color_of[policy]
            runs = results.runs[policy] if isinstance(results, ComparisonResults) else [results]
            cumulative = [r.wide[metric].cumsum().rename(i) for i, r in enumerate(runs)]
            table = pd.concat(cumulative, axis=1)
            mean, low, high = mean_ci_rows(table.to_numpy())
            (line,) = ax.plot(table.index, mean, color=color, label=policy)
            if len(runs) > 1:
                ax.fill_between(table.index, low, high, color=color, alpha=0.2, linewidth=0)
            if ax is axes[0]:
                handles.append(line)
        style_axis(ax, "day", f"{metric.removeprefix('gov_')} (cumulative count)", metric)
    fig.suptitle(_title(results, "governance actions"))
    _legend_below(
        fig, handles, policies, "policy" if isinstance(results, ComparisonResults) else None
    )
    return Figure("governance", save(fig, stem), len(policies), tuple(policies))


def plot_network(results: Results, stem: Path, metrics: list[str]) -> Figure:
    """A sample of the follow network on the last day: consumers (grey) linked to the
    creators they follow, creators sized by their followers and coloured by kind. The sample
    and the layout are drawn from the run's seed, so the figure is reproducible."""
    runs = (
        [(p, results.runs[p][0]) for p in results.policies if results.runs[p]]
        if isinstance(results, ComparisonResults)
        else [(results.name, results)]
    )
    fig, axes = _grid(len(runs), width=6.0, height=6.0, ncols=2)
    kind_colors = dict(zip(CREATOR_KINDS, _colors(len(CREATOR_KINDS)), strict=True))
    shown: set[str] = set()
    for ax, (label, run) in zip(axes, runs, strict=True):
        rng = np.random.default_rng(run.seed)
        follows = run.follows
        consumers = np.unique(follows["consumer"].to_numpy())
        chosen = rng.choice(consumers, size=min(NETWORK_CONSUMERS, consumers.size), replace=False)
        edges = follows[follows["consumer"].isin(chosen)]
        creators = last_snapshot(run.creators).set_index("id")
        everyone = run.creators.drop_duplicates("id", keep="last").set_index("id")
        graph = nx.Graph()
        graph.add_nodes_from((f"c{c}" for c in chosen), side="consumer")
        graph.add_nodes_from((f"k{k}" for k in edges["creator"].unique()), side="creator")
        graph.add_edges_from((f"c{a}", f"k{b}") for a, b in edges.itertuples(index=False))
        pos = nx.spring_layout(graph, seed=int(run.seed) % (2**32), k=None, iterations=60)
        nx.draw_networkx_edges(graph, pos, ax=ax, width=0.3, alpha=0.3, edge_color="grey")
        nx.draw_networkx_nodes(graph, pos, ax=ax, nodelist=[f"c{c}" for c in chosen], node_size=4,
                               node_color="lightgrey")  # fmt: skip
        ids = edges["creator"].unique()
        followers = np.array([creators["followers"].get(k, 0) for k in ids], dtype=float)
        kinds = [everyone["kind"].get(k, "general") for k in ids]
        sizes = 10 + 290 * np.sqrt(followers / max(followers.max(), 1.0))
        for kind in CREATOR_KINDS:
            mask = np.array([k == kind for k in kinds], dtype=bool)
            if mask.any():
                nx.draw_networkx_nodes(
                    graph, pos, ax=ax, nodelist=[f"k{k}" for k in ids[mask]], node_size=sizes[mask],
                    node_color=[kind_colors[kind]], edgecolors="black", linewidths=0.3,
                    label=kind if kind not in shown else None,
                )  # fmt: skip
                shown.add(kind)
        ax.set_title(
            f"{label}: {chosen.size} consumers and the {ids.size} creators they follow", fontsize=9
        )
        ax.set_axis_off()
    handles = [
        plt.Line2D([], [], marker="o", linestyle="none", color=kind_colors[k], label=k)
        for k in CREATOR_KINDS
        if k in shown
    ]
    handles.append(
        plt.Line2D([], [], marker="o", linestyle="none", color="lightgrey", label="consumer")
    )
    fig.suptitle(f"{results.name}: follow network sample (creator size ~ sqrt(followers))")
    _legend_below(fig, handles, [h.get_label() for h in handles], "creator kind")
    return Figure("network", save(fig, stem), len(runs), tuple(label for label, _ in runs))


PlotFunction = Callable[[Results, Path, list[str]], Figure]
KINDS: dict[str, tuple[PlotFunction, frozenset[str]]] = {
    "compare": (plot_compare, frozenset({"comparison"})),
    "timeseries": (plot_timeseries, frozenset({"run", "comparison"})),
    "channels": (plot_channels, frozenset({"run", "comparison"})),
    "inequality": (plot_inequality, frozenset({"run", "comparison"})),
    "followers": (plot_followers, frozenset({"run", "comparison"})),
    "governance": (plot_governance, frozenset({"run", "comparison"})),
    "network": (plot_network, frozenset({"run", "comparison"})),
}
"""Every kind of figure, and the folders it fits."""


def folder_kind(results: Results) -> str:
    return "comparison" if isinstance(results, ComparisonResults) else "run"


def kinds_for(results: Results) -> list[str]:
    """The kinds that fit a folder, in the order they are drawn."""
    kind = folder_kind(results)
    return [name for name, (_, fits) in KINDS.items() if kind in fits]


def draw(results: Results, kinds: list[str], metrics: list[str], out: Path) -> list[Figure]:
    """Draw the given kinds into ``out`` (``<kind>.png`` and ``.svg``)."""
    out.mkdir(parents=True, exist_ok=True)
    return [KINDS[kind][0](results, out / kind, metrics) for kind in kinds]
