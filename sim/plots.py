"""Figures from result files only — never from a live model.

Every figure is written as PNG and SVG (atomically), with axis labels, units and a legend.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no screen needed

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.io import atomic_write
from sim.metrics import REGISTRY

FORMATS = ("png", "svg")
DPI = 120


def metric_label(name: str) -> str:
    """Axis label for a metric: its name and unit."""
    metric = REGISTRY.get(name)
    return f"{name} ({metric.unit})" if metric is not None else name


def save(fig: plt.Figure, stem: Path) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg``; close the figure. Returns the paths."""
    paths = []
    for fmt in FORMATS:
        path = Path(f"{stem}.{fmt}")
        atomic_write(
            path, lambda p, fmt=fmt: fig.savefig(p, format=fmt, dpi=DPI, bbox_inches="tight")
        )
        paths.append(path)
    plt.close(fig)
    return paths


def plot_comparison(
    comparison: pd.DataFrame, metrics: list[str], stem: Path, title: str = ""
) -> list[Path]:
    """Headline metrics per policy: the mean across seeds with its 95% interval.

    ``comparison``: columns policy, metric, mean, ci_low, ci_high, n (comparison.csv).
    """
    metrics = [m for m in metrics if m in set(comparison["metric"])]
    policies = list(dict.fromkeys(comparison["policy"]))
    ncols = min(3, len(metrics))
    nrows = int(np.ceil(len(metrics) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False)
    colors = plt.get_cmap("tab10").colors
    x = np.arange(len(policies))
    for ax, metric in zip(axes.flat, metrics, strict=False):
        rows = comparison[comparison["metric"] == metric].set_index("policy").reindex(policies)
        mean = rows["mean"].to_numpy(dtype=float)
        low = rows["ci_low"].to_numpy(dtype=float)
        high = rows["ci_high"].to_numpy(dtype=float)
        err = np.vstack([mean - low, high - mean])
        for i, policy in enumerate(policies):
            ax.errorbar(
                x[i],
                mean[i],
                yerr=None if np.isnan(err[:, i]).any() else err[:, [i]],
                fmt="o",
                capsize=5,
                color=colors[i % len(colors)],
                label=policy,
            )
        ax.set_xticks(x, policies, rotation=20, ha="right")
        ax.set_xlabel("policy")
        ax.set_ylabel(metric_label(metric))
        ax.set_title(metric, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    n = int(comparison["n"].max()) if len(comparison) else 0
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        title=f"policy (mean, 95% CI over {n} seeds)",
        loc="upper center",
        ncol=min(len(policies), 5),
        bbox_to_anchor=(0.5, 1.0 + 0.06 / nrows),
        frameon=False,
    )
    if title:
        fig.suptitle(title, y=1.0 + 0.14 / nrows)
    fig.tight_layout()
    return save(fig, stem)
