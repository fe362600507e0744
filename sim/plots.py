"""Figures from result files only — never from a live model.

Each kind of figure reads a run folder or a comparison folder (:mod:`sim.results`) and is
written as PNG and SVG, with a tidy CSV of exactly what it plots beside them (all three
atomically). Axes carry the metric's label and unit from the registry (:mod:`sim.labels`),
with the metric's name in small print, and numbers with thousands separators. For a
comparison, lines are the mean across seeds with a 95% t-band, every policy has its own
colour, and a figure from fewer than :data:`sim.stats.FEW_SEEDS` seeds says that its
intervals are rough.

Kinds: ``differences`` (the headline figure of a comparison: each policy minus the reference
policy, paired by seed), ``compare`` (comparisons only), ``timeseries``, ``channels``,
``inequality``, ``followers``, ``governance``, ``network``.

Importing this module changes no global state: figures are :class:`matplotlib.figure.Figure`
objects drawn without pyplot (no backend is chosen or switched, so inline plots in Jupyter
keep working), and the SVG settings apply only while a figure is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.io import atomic_write, write_csv
from sim.labels import display_unit, is_share, label, with_unit
from sim.metrics import fit_power_law_tail, gini
from sim.results import ComparisonResults, Results, RunResults
from sim.stats import FEW_SEEDS, mean_ci, mean_ci_rows
from sim.vocabulary import CHANNELS, CREATOR_KINDS, INDEPENDENT_CREATOR_KINDS

FORMATS = ("png", "svg")
DPI = 120
SAVE_STYLE = {
    "svg.fonttype": "none",  # keep text as text in SVG (searchable labels)
    "svg.hashsalt": "zhongcao",  # the same figure gives the same SVG
}
GOVERNANCE_COUNTS = (
    "gov_intercepted",
    "gov_banned",
    "gov_delisted",
    "gov_penalized",
    "gov_removed",
)
TOP_CREATORS = 12
"""Creators shown in the network figure: the most followed among the sampled follows."""
AUDIENCE = 25
"""Followers drawn per shown creator from the follow sample (the layout stays legible)."""


@dataclass(frozen=True)
class Figure:
    """A written figure: its files (PNG, SVG and the CSV of what it plots), and the series it
    shows per panel with their labels."""

    kind: str
    paths: tuple[Path, ...]
    series: int
    labels: tuple[str, ...]

    @property
    def data(self) -> Path:
        """The tidy CSV of what the figure plots."""
        return next(p for p in self.paths if p.suffix == ".csv")


# --- helpers --------------------------------------------------------------------------------


def metric_label(name: str) -> str:
    """Axis label for a metric: its reader's label and unit (``GMV (yuan)``)."""
    return with_unit(name)


def _number(value: float, _pos=None) -> str:
    """Tick text: thousands separators, millions and billions spelled with M and G."""
    if not np.isfinite(value):
        return ""
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:,.6g} G"
    if magnitude >= 1e6:
        return f"{value / 1e6:,.6g} M"
    return f"{value:,.6g}" if magnitude >= 1 else f"{value:.4g}"


NUMBER_FORMAT = FuncFormatter(_number)


def save(fig: MplFigure, stem: Path, data: pd.DataFrame) -> tuple[Path, ...]:
    """Write ``stem.png``, ``stem.svg`` and ``stem.csv`` (``data``: what the figure plots).
    Returns the paths."""
    paths = []
    with mpl.rc_context(SAVE_STYLE):
        for fmt in FORMATS:
            path = Path(f"{stem}.{fmt}")
            atomic_write(
                path,
                lambda p, fmt=fmt: fig.savefig(
                    p,
                    format=fmt,
                    dpi=DPI,
                    bbox_inches="tight",
                    metadata={"Date": None} if fmt == "svg" else None,
                ),
            )
            paths.append(path)
    csv = Path(f"{stem}.csv")
    write_csv(csv, data.reset_index(drop=True))
    paths.append(csv)
    return tuple(paths)


def _grid(n: int, width: float = 4.4, height: float = 3.2, ncols: int = 3):
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig = MplFigure(figsize=(width * ncols, height * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)[:n]


def _colors(n: int) -> list:
    palette = mpl.colormaps["tab10"].colors
    return [palette[i % len(palette)] for i in range(n)]


def _seeds(results: Results) -> int:
    return (
        len(results.info.get("seed_indices", [])) if isinstance(results, ComparisonResults) else 1
    )


def _title(results: Results, what: str, pooled: bool = False) -> str:
    """Figure title; for a comparison, how the seeds were combined."""
    if isinstance(results, ComparisonResults):
        seeds = _seeds(results)
        how = f"{seeds} seeds pooled" if pooled else f"mean over {seeds} seeds, 95% band"
        return f"{results.name}: {what} ({how})"
    return f"{results.name}, seed {results.seed}: {what}"


def few_seeds_warning(seeds: int) -> str | None:
    """The warning a comparison of fewer than FEW_SEEDS seeds carries, or None."""
    if seeds >= FEW_SEEDS:
        return None
    return (
        f"Only {seeds} seed{'s' if seeds != 1 else ''}: intervals are rough "
        f"(use {FEW_SEEDS} or more before drawing conclusions)."
    )


def _warn(fig, results: Results) -> None:
    """Print the few-seeds warning at the foot of a comparison's figure."""
    if not isinstance(results, ComparisonResults):
        return
    text = few_seeds_warning(_seeds(results))
    if text:
        fig.text(0.01, 0.005, "⚠ " + text, color="darkred", fontsize=9, ha="left", va="bottom")


def _legend_below(fig, handles, labels, title: str | None = None) -> None:
    fig.legend(
        handles,
        labels,
        title=title,
        loc="lower center",
        ncol=min(len(labels), 6),
        bbox_to_anchor=(0.5, 0.02),
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0.1, 1, 0.95))


def style_axis(ax, xlabel: str, ylabel: str, title: str, name: str | None = None) -> None:
    """Labels, title (with the metric's ``name`` in small print), readable numbers and a light
    grid: the look every panel shares."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10, loc="left", pad=12 if name else 6)
    if name:
        ax.text(
            0.0,
            1.01,
            name,
            transform=ax.transAxes,
            fontsize=7,
            color="grey",
            ha="left",
            va="bottom",
        )
    ax.yaxis.set_major_formatter(NUMBER_FORMAT)
    ax.grid(alpha=0.3)


def _metric_axis(ax, metric: str, xlabel: str, axis: str = "y") -> None:
    """An axis showing ``metric``: label with unit, name in small print, shares in %."""
    style_axis(ax, xlabel, with_unit(metric) if axis == "y" else "", label(metric), metric)
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(1.0) if is_share(metric) else NUMBER_FORMAT)


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


# --- kinds ----------------------------------------------------------------------------------


def plot_timeseries(results: Results, stem: Path, metrics: list[str]) -> Figure:
    """Chosen metrics over days; for a comparison, the mean per policy with a 95% band."""
    fig, axes = _grid(len(metrics))
    labels: list[str] = []
    handles = []
    rows = []
    for ax, metric in zip(axes, metrics, strict=True):
        if isinstance(results, ComparisonResults):
            for color, policy in zip(_colors(len(results.policies)), results.policies, strict=True):
                runs = results.runs[policy]
                if not runs:
                    continue
                b = band(runs, metric)
                (line,) = ax.plot(b["step"], b["mean"], color=color, label=policy)
                ax.fill_between(b["step"], b["low"], b["high"], color=color, alpha=0.2, linewidth=0)
                rows.append(b.assign(metric=metric, policy=policy))
                if ax is axes[0]:
                    handles.append(line)
                    labels.append(policy)
        else:
            series = results.wide[metric]
            (line,) = ax.plot(series.index, series.to_numpy(), color="tab:blue", label=results.name)
            rows.append(
                pd.DataFrame({"step": series.index, "mean": series.to_numpy()}).assign(
                    metric=metric, policy=results.name
                )
            )
            if ax is axes[0]:
                handles.append(line)
                labels.append(results.name)
        _metric_axis(ax, metric, "day")
    fig.suptitle(_title(results, "metrics over days"))
    _legend_below(
        fig, handles, labels, "policy" if isinstance(results, ComparisonResults) else None
    )
    _warn(fig, results)
    data = pd.concat(rows) if rows else pd.DataFrame()
    columns = ["metric", "policy", "step", "mean", "low", "high"]
    data = data.reindex(columns=[c for c in columns if c in data.columns])
    return Figure("timeseries", save(fig, stem, data), len(labels), tuple(labels))


def _interval_panel(ax, rows: pd.DataFrame, names: list[str], center: str, colors) -> list:
    """Points with 95% interval bars, one per name (x positions 0..n-1)."""
    handles = []
    x = np.arange(len(names))
    mean = rows[center].to_numpy(dtype=float)
    low = rows["ci_low"].to_numpy(dtype=float)
    high = rows["ci_high"].to_numpy(dtype=float)
    for i, name in enumerate(names):
        err = (
            None if np.isnan([low[i], high[i]]).any() else [[mean[i] - low[i]], [high[i] - mean[i]]]
        )
        handles.append(
            ax.errorbar(x[i], mean[i], yerr=err, fmt="o", capsize=5, color=colors[i], label=name)
        )
    ax.set_xticks(x, names, rotation=20, ha="right")
    ax.set_xlim(-0.6, len(names) - 0.4)
    return handles


def plot_differences(results: ComparisonResults, stem: Path, metrics: list[str]) -> Figure:
    """The headline figure of a comparison: each policy minus the reference policy, paired by
    seed (common random numbers), with the 95% interval of the mean difference. An interval
    that excludes zero is a difference the seeds resolve, even where the policies' own
    intervals overlap."""
    diff = results.differences
    reference = str(diff["reference"].iloc[0]) if len(diff) else results.policies[0]
    others = [p for p in results.policies if p != reference]
    colors = _colors(len(results.policies))[1 : len(others) + 1]
    fig, axes = _grid(len(metrics), width=4.0, height=3.3)
    handles = []
    shown = []
    for ax, metric in zip(axes, metrics, strict=True):
        rows = diff[diff["metric"] == metric].set_index("policy").reindex(others)
        h = _interval_panel(ax, rows, others, "mean_difference", colors)
        handles = handles or h
        ax.axhline(0.0, color="black", linewidth=0.8)
        _metric_axis(ax, metric, "policy")
        unit_text = display_unit(metric)
        ax.set_ylabel(f"difference ({unit_text}), minus {reference}")
        ax.grid(axis="x", visible=False)
        shown.append(rows.reset_index().assign(metric=metric))
    n = int(diff["n"].max()) if len(diff) else 0
    fig.suptitle(f"{results.name}: each policy minus {reference}, paired by seed")
    _legend_below(fig, handles, others, f"policy − {reference} (mean and 95% CI over {n} seeds)")
    _warn(fig, results)
    data = pd.concat(shown) if shown else diff.iloc[:0]
    columns = ["metric", "policy", "reference", "mean_difference", "ci_low", "ci_high", "n"]
    return Figure("differences", save(fig, stem, data[columns]), len(others), tuple(others))


def plot_compare(results: ComparisonResults, stem: Path, metrics: list[str]) -> Figure:
    """Whole-run value of each metric per policy: the mean across seeds and its 95% interval
    (within the metric's bounds: ``method`` in comparison.csv)."""
    table = results.comparison
    policies = results.policies
    fig, axes = _grid(len(metrics), width=4.0, height=3.3)
    colors = _colors(len(policies))
    handles = []
    shown = []
    for ax, metric in zip(axes, metrics, strict=True):
        rows = table[table["metric"] == metric].set_index("policy").reindex(policies)
        h = _interval_panel(ax, rows, policies, "mean", colors)
        handles = handles or h
        _metric_axis(ax, metric, "policy")
        ax.grid(axis="x", visible=False)
        shown.append(rows.reset_index().assign(metric=metric))
    n = int(table["n"].max()) if len(table) else 0
    fig.suptitle(
        f"{results.name}: whole-run values per policy (overlapping intervals can still differ: "
        "see the paired differences)",
        fontsize=10,
    )
    _legend_below(fig, handles, policies, f"policy (mean and 95% CI over {n} seeds)")
    _warn(fig, results)
    data = pd.concat(shown) if shown else table.iloc[:0]
    columns = [
        c for c in ("metric", "policy", "mean", "ci_low", "ci_high", "n", "method") if c in data
    ]
    return Figure("compare", save(fig, stem, data[columns]), len(policies), tuple(policies))


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
    rows = []
    for ax, (panel, runs) in zip(axes, panels, strict=True):
        means = [band(runs, c)["mean"].to_numpy() for c in columns]
        steps = band(runs, columns[0])["step"].to_numpy()
        polys = ax.stackplot(steps, *means, labels=CHANNELS, colors=colors, alpha=0.85)
        if not handles:
            handles = list(polys)
        style_axis(ax, "day", "GMV (yuan per day)", panel)
        for channel, mean in zip(CHANNELS, means, strict=True):
            rows.append(
                pd.DataFrame({"policy": panel, "channel": channel, "step": steps, "gmv_yuan": mean})
            )
    what = "GMV by channel" + (
        " (mean over seeds)" if isinstance(results, ComparisonResults) else ""
    )
    fig.suptitle(f"{results.name}: {what}")
    _legend_below(fig, handles, list(CHANNELS), "channel")
    _warn(fig, results)
    return Figure("channels", save(fig, stem, pd.concat(rows)), len(CHANNELS), tuple(CHANNELS))


def _inequality_values(run: RunResults) -> dict[str, np.ndarray]:
    creators = last_snapshot(run.creators)
    independent = creators[creators["kind"].isin(INDEPENDENT_CREATOR_KINDS)]
    return {
        "creator income (yuan, independent creators)": independent["income_yuan"].to_numpy(),
        "merchant sales (units)": last_snapshot(run.merchants)["sales"].to_numpy(),
        "followers (all creators)": creators["followers"].to_numpy(),
    }


def _groups(results: Results) -> list[tuple[str, list[RunResults]]]:
    if isinstance(results, ComparisonResults):
        return [(p, results.runs[p]) for p in results.policies if results.runs[p]]
    return [(results.name, [results])]


def plot_inequality(results: Results, stem: Path, metrics: list[str]) -> Figure:
    """Lorenz curves of creator income, merchant sales and followers on the last day, with the
    Gini coefficient in the legend (for a comparison: seeds pooled for the curve, the Gini as
    mean and 95% interval over seeds)."""
    groups = _groups(results)
    per_group = {name: [_inequality_values(r) for r in runs] for name, runs in groups}
    panels = list(next(iter(per_group.values()))[0])
    fig, axes = _grid(len(panels), width=4.4, height=4.0)
    colors = _colors(len(groups))
    rows = []
    for ax, panel in zip(axes, panels, strict=True):
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="equality")
        for color, (name, values) in zip(colors, per_group.items(), strict=True):
            pooled = np.concatenate([v[panel] for v in values])
            x, y = lorenz(pooled)
            ginis = np.array([gini(v[panel]) for v in values])
            mean, low, high, n = mean_ci(ginis)
            g = f"Gini {mean:.2f}" + (
                f" [{low:.2f}, {high:.2f}]" if n > 1 and np.isfinite(low) else ""
            )
            ax.plot(x, y, color=color, label=f"{name} ({g})")
            rows.append(
                pd.DataFrame(
                    {
                        "panel": panel,
                        "policy": name,
                        "holders_share": x,
                        "total_share": y,
                        "gini": mean,
                    }
                )
            )
        ax.set_xlabel("cumulative share of holders")
        ax.set_ylabel("cumulative share of the total")
        ax.set_title(panel, fontsize=10)
        ax.set_aspect("equal")
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(_title(results, "inequality on the last day", pooled=True))
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    _warn(fig, results)
    names = tuple(name for name, _ in groups)
    return Figure("inequality", save(fig, stem, pd.concat(rows)), len(groups), names)


def plot_followers(results: Results, stem: Path, metrics: list[str]) -> Figure:
    """Follower counts on the last day as a log-log complementary CDF, with the tail exponent
    fitted by maximum likelihood (Clauset et al. 2009) in the legend."""
    groups = _groups(results)
    fig = MplFigure(figsize=(6.0, 4.6))
    ax = fig.subplots()
    labels = []
    rows = []
    for color, (name, runs) in zip(_colors(len(groups)), groups, strict=True):
        followers = np.concatenate(
            [last_snapshot(r.creators)["followers"].to_numpy() for r in runs]
        )
        x, p = ccdf(followers)
        alpha, xmin, n_tail = fit_power_law_tail(followers)
        fit = (
            f"tail alpha {alpha:.2f} for x >= {xmin:,.0f} ({n_tail:,} creators)"
            if np.isfinite(alpha)
            else "too few creators to fit a tail"
        )
        ax.loglog(x, p, marker=".", linestyle="none", color=color, label=f"{name}: {fit}")
        if np.isfinite(alpha):
            xs = np.logspace(np.log10(xmin), np.log10(x.max()), 50)
            at_xmin = p[np.searchsorted(x, xmin)]
            ax.loglog(xs, at_xmin * (xs / xmin) ** (1 - alpha), color=color, linewidth=1)
        rows.append(
            pd.DataFrame(
                {"policy": name, "followers": x, "ccdf": p, "tail_alpha": alpha, "tail_xmin": xmin}
            )
        )
        labels.append(name)
    ax.set_xlabel("followers (creators active on the last day)")
    ax.set_ylabel("P(followers >= x)")
    ax.xaxis.set_major_formatter(NUMBER_FORMAT)
    ax.set_title(_title(results, "follower distribution", pooled=True), fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    _warn(fig, results)
    return Figure("followers", save(fig, stem, pd.concat(rows)), len(groups), tuple(labels))


def plot_governance(results: Results, stem: Path, metrics: list[str]) -> Figure:
    """The five governance actions, cumulated over days (a panel each; one line per policy
    for a comparison, with a 95% band)."""
    fig, axes = _grid(len(GOVERNANCE_COUNTS), width=4.0, height=3.0)
    policies = results.policies if isinstance(results, ComparisonResults) else [results.name]
    color_of = dict(zip(policies, _colors(len(policies)), strict=True))
    if isinstance(results, ComparisonResults):  # a policy with no successful run has no line
        policies = [p for p in policies if results.runs[p]]
    handles = []
    rows = []
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
            rows.append(
                pd.DataFrame(
                    {
                        "metric": metric,
                        "policy": policy,
                        "step": table.index,
                        "cumulative_mean": mean,
                        "low": low,
                        "high": high,
                    }
                )
            )
            if ax is axes[0]:
                handles.append(line)
        style_axis(ax, "day", f"{label(metric)} (cumulative)", label(metric), metric)
    fig.suptitle(_title(results, "governance actions"))
    _legend_below(
        fig, handles, policies, "policy" if isinstance(results, ComparisonResults) else None
    )
    _warn(fig, results)
    return Figure("governance", save(fig, stem, pd.concat(rows)), len(policies), tuple(policies))


def network_sample(run: RunResults) -> pd.DataFrame:
    """The edges the network figure shows: the :data:`TOP_CREATORS` most followed creators
    among the sampled follows, and up to :data:`AUDIENCE` of each one's sampled followers,
    drawn from the run's seed. Columns ``creator, kind, followers, consumer, shared`` (shared:
    how many of the shown creators that consumer follows)."""
    follows = run.follows
    creators = run.creators.drop_duplicates("id", keep="last").set_index("id")
    if follows.empty:
        return pd.DataFrame(columns=["creator", "kind", "followers", "consumer", "shared"])
    followers = creators["followers"].reindex(follows["creator"].unique()).fillna(0)
    top = followers.sort_values(ascending=False, kind="stable").index[:TOP_CREATORS]
    rng = np.random.default_rng(run.seed)
    edges = []
    for creator in top:
        audience = follows.loc[follows["creator"] == creator, "consumer"].to_numpy()
        chosen = np.sort(rng.choice(audience, size=min(AUDIENCE, audience.size), replace=False))
        edges += [(int(creator), int(c)) for c in chosen]
    table = pd.DataFrame(edges, columns=["creator", "consumer"])
    shown = follows[follows["creator"].isin(top) & follows["consumer"].isin(table["consumer"])]
    table = pd.concat([table, shown[["creator", "consumer"]]]).drop_duplicates()
    table["kind"] = creators["kind"].reindex(table["creator"]).fillna("general").to_numpy()
    table["followers"] = followers.reindex(table["creator"]).to_numpy().astype(int)
    table["shared"] = table.groupby("consumer")["creator"].transform("nunique").to_numpy()
    return table[["creator", "kind", "followers", "consumer", "shared"]].reset_index(drop=True)


def plot_network(results: Results, stem: Path, metrics: list[str]) -> Figure:
    """The structure of the follow network on the last day: the most followed creators
    (circles sized by followers, coloured by kind, labelled with their follower counts) and a
    sample of their audiences (dots; dark when a consumer follows two or more of the shown
    creators, the overlap that ties audiences together). Laid out by networkx's spring layout
    from the run's seed, so the figure is reproducible."""
    runs = (
        [(p, results.runs[p][0]) for p in results.policies if results.runs[p]]
        if isinstance(results, ComparisonResults)
        else [(results.name, results)]
    )
    fig, axes = _grid(len(runs), width=6.5, height=6.5, ncols=2)
    kind_colors = dict(zip(CREATOR_KINDS, _colors(len(CREATOR_KINDS)), strict=True))
    shown_kinds: set[str] = set()
    rows = []
    for ax, (panel, run) in zip(axes, runs, strict=True):
        sample = network_sample(run)
        graph = nx.Graph()
        graph.add_edges_from(
            (f"k{a}", f"c{b}") for a, b in sample[["creator", "consumer"]].to_numpy()
        )
        pos = nx.spring_layout(graph, seed=int(run.seed) % (2**32), iterations=100)
        xy = {node: np.asarray(p, dtype=float) for node, p in pos.items()}
        segments = [
            (xy[f"k{a}"], xy[f"c{b}"]) for a, b in sample[["creator", "consumer"]].to_numpy()
        ]
        ax.add_collection(LineCollection(segments, colors="grey", linewidths=0.4, alpha=0.35))
        consumers = sample.drop_duplicates("consumer")
        for shared, color, size in ((False, "#c8c8c8", 8), (True, "#333333", 14)):
            part = consumers[(consumers["shared"] > 1) == shared]
            pts = np.array([xy[f"c{c}"] for c in part["consumer"]]).reshape(-1, 2)
            ax.scatter(pts[:, 0], pts[:, 1], s=size, color=color, zorder=2, linewidths=0)
        creators = sample.drop_duplicates("creator")
        top = max(int(creators["followers"].max()) if len(creators) else 1, 1)
        for row in creators.itertuples(index=False):
            x, y = xy[f"k{row.creator}"]
            ax.scatter(
                [x],
                [y],
                s=80 + 700 * np.sqrt(row.followers / top),
                zorder=3,
                color=kind_colors.get(row.kind, "black"),
                edgecolors="black",
                linewidths=0.6,
            )
            ax.annotate(
                f"{row.followers:,}",
                (x, y),
                textcoords="offset points",
                xytext=(0, 11),
                ha="center",
                fontsize=7,
                zorder=4,
            )
            shown_kinds.add(row.kind)
        rows.append(
            sample.assign(
                policy=panel,
                creator_x=[xy[f"k{a}"][0] for a in sample["creator"]],
                creator_y=[xy[f"k{a}"][1] for a in sample["creator"]],
                consumer_x=[xy[f"c{b}"][0] for b in sample["consumer"]],
                consumer_y=[xy[f"c{b}"][1] for b in sample["consumer"]],
            )
        )
        n_shared = int((consumers["shared"] > 1).sum())
        ax.set_title(
            f"{panel}: top {len(creators)} creators, {len(consumers):,} of their followers "
            f"({n_shared:,} follow two or more)",
            fontsize=9,
        )
        ax.autoscale()
        ax.set_aspect("equal")
        ax.set_axis_off()
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            color=kind_colors[k],
            markeredgecolor="black",
            markersize=9,
            label=f"creator: {k}",
        )
        for k in CREATOR_KINDS
        if k in shown_kinds
    ]
    handles += [
        Line2D([], [], marker="o", linestyle="none", color="#c8c8c8", label="follower"),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            color="#333333",
            label="follows two or more shown creators",
        ),
    ]
    fig.suptitle(
        f"{results.name}: the most followed creators and a sample of their audiences "
        "(circle area ~ followers; numbers: followers)",
        fontsize=10,
    )
    _legend_below(fig, handles, [h.get_label() for h in handles])
    names = tuple(panel for panel, _ in runs)
    return Figure("network", save(fig, stem, pd.concat(rows)), len(runs), names)


PlotFunction = Callable[[Results, Path, list[str]], Figure]
KINDS: dict[str, tuple[PlotFunction, frozenset[str]]] = {
    "differences": (plot_differences, frozenset({"comparison"})),
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
