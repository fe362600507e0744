"""Figures of a sweep, from its files: each metric against each swept key, and sensitivity
indices with their confidence intervals (PNG, SVG and the CSV of what each plots, written as
:func:`sim.plots.save` writes every figure)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.plots import _grid, metric_label, save

INDEX_LABELS = {
    "S1": "first order S1",
    "ST": "total order ST",
    "mu_star": "mu* (mean |elementary effect|)",
    "delta": "delta",
}


def plot_sweep(summary: pd.DataFrame, keys: list[str], metrics: list[str], stem: Path):
    """One panel per metric and key: every finished run's value against the key's value."""
    ok = summary[summary["status"] == "ok"]
    fig, axes = _grid(len(metrics) * len(keys), width=3.6, height=2.8, ncols=len(keys))
    flat = axes
    for i, metric in enumerate(metrics):
        for j, key in enumerate(keys):
            ax = flat[i * len(keys) + j]
            x = ok[key]
            if not pd.api.types.is_numeric_dtype(x):
                x = x.astype("category").cat.codes
            ax.scatter(x, ok[metric], s=10, alpha=0.7)
            ax.set_xlabel(key, fontsize=8)
            ax.set_ylabel(metric_label(metric), fontsize=8)
    fig.suptitle("Sweep: each run's whole-run value against each swept key")
    fig.tight_layout()
    return save(fig, stem, ok[[*dict.fromkeys([*keys, *metrics])]])


def plot_sensitivity(table: pd.DataFrame, stem: Path):
    """One panel per metric: each key's indices as bars with their 95% intervals."""
    table = table[table["role"] != "pair"]
    metrics = list(dict.fromkeys(table["metric"]))
    indices = [i for i in INDEX_LABELS if i in set(table["index"])]
    fig, axes = _grid(len(metrics), width=5.0, height=0.5 + 0.45 * table["parameter"].nunique())
    flat = axes
    height = 0.8 / max(len(indices), 1)
    for ax, metric in zip(flat, metrics, strict=False):
        rows = table[table["metric"] == metric]
        names = list(dict.fromkeys(rows["parameter"]))
        y = np.arange(len(names))
        for k, index in enumerate(indices):
            part = rows[rows["index"] == index].set_index("parameter").reindex(names)
            value = part["value"].to_numpy(dtype=float)
            low = part["ci_low"].to_numpy(dtype=float)
            high = part["ci_high"].to_numpy(dtype=float)
            err = np.vstack([value - low, high - value])
            err = np.where(np.isfinite(err), err, 0.0)
            ax.barh(y + k * height, value, height, xerr=err, label=INDEX_LABELS[index], capsize=2)
        ax.set_yticks(y + height * (len(indices) - 1) / 2, names, fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_title(metric_label(metric), fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    method = table["method"].iloc[0] if not table.empty else ""
    fig.suptitle(f"Sensitivity ({method}): indices with 95% confidence intervals")
    fig.tight_layout()
    shown = table[table["index"].isin(indices)]
    return save(fig, stem, shown[["metric", "parameter", "index", "value", "ci_low", "ci_high"]])
