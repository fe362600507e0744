"""Recorder: per-step metric rows and agent snapshots -> tidy tables.

Reads the model after each step (phase 11 has computed ``model.metrics``); writes nothing
itself — :mod:`sim.runner` turns the tables into files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.metrics import summarize

if TYPE_CHECKING:
    from sim.model import MarketModel

CREATOR_COLUMNS = (
    "id",
    "kind",
    "step",
    "sales",
    "income_yuan",
    "followers",
    "quality",
    "status",
    "mcn",
)
MERCHANT_COLUMNS = (
    "id",
    "kind",
    "step",
    "sales",
    "returns",
    "profit_yuan",
    "profit_accrual_yuan",
    "profit_accrual_day_yuan",
    "followers",
    "quality",
    "status",
    "violator",
)


FOLLOW_SAMPLE_CONSUMERS = 2000
"""Consumers whose follows are written to follows_sample.parquet at the end of a run."""


class Recorder:
    """Collects the metrics of every step and agent snapshots every ``sample_every`` days."""

    def __init__(self, sample_every: int = 1):
        self.sample_every = sample_every
        self.rows: list[dict[str, float]] = []
        self.creator_rows: list[tuple] = []
        self.merchant_rows: list[tuple] = []
        self.follow_sample = pd.DataFrame({"consumer": [], "creator": []}, dtype="int64")
        self.engine: dict = {}
        """How the consumer kernel ran: ``{"name": "numba" or "numpy", "threads": n}``."""

    def record(self, model: MarketModel) -> None:
        # The scenario's day just simulated: negative during the warm-up.
        step = model.calendar_day
        self.engine = {"name": model.engine, "threads": model.threads}
        self.rows.append({"step": step, **model.metrics})
        last = step == model.config.steps - 1
        if step >= 0 and (step % self.sample_every == 0 or last):
            self._snapshot(model, step)
        if last:
            self._sample_follows(model)

    def _sample_follows(self, model: MarketModel) -> None:
        """The follows of up to ``FOLLOW_SAMPLE_CONSUMERS`` consumers still on the platform,
        drawn from the run's own random stream (so the sample is reproducible from the seed)."""
        on = np.flatnonzero(model.population.on_platform)
        rng = model.streams.generator("follow_sample")
        chosen = np.sort(rng.choice(on, size=min(FOLLOW_SAMPLE_CONSUMERS, on.size), replace=False))
        consumer, creator = model.follows.edges(chosen)
        self.follow_sample = pd.DataFrame({"consumer": consumer, "creator": creator})

    def _snapshot(self, model: MarketModel, step: int) -> None:
        followers = model.follows.followers
        for c in model.creators:
            if c.active or c.exit_day == step:
                self.creator_rows.append(
                    (
                        c.idx,
                        c.kind,
                        step,
                        c.sales_total,
                        c.income_total_yuan,
                        int(followers[c.idx]),
                        c.skill,
                        c.status,
                        c.mcn.idx if c.mcn is not None else -1,
                    )
                )
        for m in model.merchants:
            if m.active or m.exit_day == step:
                own = int(followers[m.own_account.idx]) if m.own_account is not None else 0
                self.merchant_rows.append(
                    (
                        m.idx,
                        m.kind,
                        step,
                        m.sales_total,
                        m.returns_total,
                        m.cash_yuan - m.initial_cash_yuan,
                        m.profit_total_yuan,
                        m.profit_today_yuan,
                        own,
                        m.true_quality,
                        m.status,
                        m.violator,
                    )
                )

    # tables ------------------------------------------------------------------------------------

    def wide(self, warmup: bool = False) -> pd.DataFrame:
        """One row per counted step (with ``warmup``: the warm-up's steps too, negative), one
        column per metric."""
        wide = pd.DataFrame(self.rows)
        if warmup or wide.empty:
            return wide
        return wide[wide["step"] >= 0].reset_index(drop=True)

    def timeseries(self) -> pd.DataFrame:
        """Tidy: columns ``step``, ``metric``, ``value``; rows ordered by step, then metric
        registration order."""
        wide = self.wide(warmup=True)
        if wide.empty:
            return pd.DataFrame(
                {
                    "step": pd.Series(dtype="int64"),
                    "metric": pd.Series(dtype="str"),
                    "value": pd.Series(dtype="float64"),
                }
            )
        long = wide.melt(id_vars="step", var_name="metric", value_name="value")
        order = {name: i for i, name in enumerate(wide.columns)}
        long["_o"] = long["metric"].map(order)
        long = (
            long.sort_values(["step", "_o"], kind="stable")
            .drop(columns="_o")
            .reset_index(drop=True)
        )
        long["step"] = long["step"].astype("int64")
        long["value"] = long["value"].astype("float64")
        return long

    def summary(self) -> dict[str, float]:
        """Whole-run values over the counted days (the warm-up left out)."""
        return summarize(self.wide())

    def creators(self) -> pd.DataFrame:
        return pd.DataFrame(self.creator_rows, columns=list(CREATOR_COLUMNS))

    def merchants(self) -> pd.DataFrame:
        return pd.DataFrame(self.merchant_rows, columns=list(MERCHANT_COLUMNS))
