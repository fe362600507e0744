"""Statistics across seeds: means with confidence intervals, and paired policy differences.

Runs of different policies at the same seed index share their random numbers (common random
numbers), so the difference between two policies is best estimated seed by seed: a paired
t-interval on the per-seed differences, usually far narrower than comparing two separate
intervals. Intervals use Student's t with n - 1 degrees of freedom (scipy.stats); with one
seed there is no interval (NaN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
ID_COLUMNS = ("policy", "seed_index")
FEW_SEEDS = 5
"""Below this many seeds, intervals are flagged as rough in figures and reports."""
BOOTSTRAP_RESAMPLES = 9_999


def mean_ci(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """Mean, lower and upper bound of its t-interval, and the number of finite values."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    mean = float(x.mean())
    if n < 2:
        return mean, float("nan"), float("nan"), n
    sem = stats.sem(x)
    if sem == 0:
        return mean, mean, mean, n
    low, high = stats.t.interval(confidence, n - 1, loc=mean, scale=sem)
    return mean, float(low), float(high), n


def bounded_mean_ci(
    values: np.ndarray,
    limits: tuple[float, float] | None,
    confidence: float = CONFIDENCE,
) -> tuple[float, float, float, int, str]:
    """:func:`mean_ci`, unless its interval crosses ``limits`` (lower, upper): then the
    percentile bootstrap interval of the mean, which stays within the observed values.
    Returns mean, low, high, n and the method (``"t"`` or ``"bootstrap"``)."""
    mean, low, high, n = mean_ci(values, confidence)
    if limits is None or not np.isfinite(low):
        return mean, low, high, n, "t"
    lower, upper = limits
    if low >= lower and high <= upper:
        return mean, low, high, n, "t"
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    result = stats.bootstrap(
        (x,),
        np.mean,
        n_resamples=BOOTSTRAP_RESAMPLES,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(0),
    )
    ci = result.confidence_interval
    return mean, float(ci.low), float(ci.high), n, "bootstrap"


def mean_ci_rows(
    table: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`mean_ci` for every row of a (rows, samples) table at once (NaNs ignored):
    mean, lower and upper bound per row, each (rows,)."""
    x = np.asarray(table, dtype=np.float64)
    finite = np.isfinite(x)
    n = finite.sum(axis=1)
    filled = np.where(finite, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=1) / n
        var = np.where(finite, (x - mean[:, None]) ** 2, 0.0).sum(axis=1) / (n - 1)
        half = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * np.sqrt(var / n)
    half = np.where(n >= 2, half, np.nan)
    return mean, mean - half, mean + half


def metric_columns(summary: pd.DataFrame) -> list[str]:
    skip = {*ID_COLUMNS, "status", "error", "wall_time_s"}
    return [c for c in summary.columns if c not in skip]


def comparison_table(summary: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """One row per policy and metric: ``policy, metric, mean, ci_low, ci_high, n, method``
    over seeds; intervals respect each metric's bounds (:func:`bounded_mean_ci`,
    :func:`sim.labels.bounds`).

    ``summary`` has one row per finished run (``policy``, ``seed_index``, metrics).
    """
    from sim.labels import bounds

    rows = []
    for policy, group in summary.groupby("policy", sort=False):
        for metric in metric_columns(summary):
            values = group[metric].to_numpy()
            rows.append((policy, metric, *bounded_mean_ci(values, bounds(metric), confidence)))
    columns = ["policy", "metric", "mean", "ci_low", "ci_high", "n", "method"]
    return pd.DataFrame(rows, columns=columns)


def paired_differences(
    summary: pd.DataFrame, reference: str, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Each other policy minus ``reference``, seed by seed: ``policy, reference, metric,
    mean_difference, ci_low, ci_high, n`` (n = seeds where both runs finished)."""
    ref = summary[summary["policy"] == reference].set_index("seed_index")
    rows = []
    for policy, group in summary.groupby("policy", sort=False):
        if policy == reference:
            continue
        other = group.set_index("seed_index")
        common = other.index.intersection(ref.index)
        for metric in metric_columns(summary):
            diff = other.loc[common, metric].to_numpy() - ref.loc[common, metric].to_numpy()
            mean, low, high, n = mean_ci(diff, confidence)
            rows.append((policy, reference, metric, mean, low, high, n))
    columns = ["policy", "reference", "metric", "mean_difference", "ci_low", "ci_high", "n"]
    return pd.DataFrame(rows, columns=columns)
