"""Runs of the tiny market for the mechanism tests, shared between tests through a cache.

A run records, for every simulated day, every metric, every ledger flow (``flow_<kind>``) and
the day's event counters (``follows_gained``, ``delivered`` ...), and keeps every filled order
(read from the model's orders in transit on the day they are placed), each merchant's
impressions (from ``model.last_day.listing_impressions``) and each consumer's last active day (from
``model.today.active``). Two runs that differ only in their overrides use the same pinned seed,
so they face the same luck (common random numbers).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from conftest import tiny_config

from sim.ledger import FLOW_KINDS
from sim.model import MarketModel

SEED = 20220608
"""The pinned root seed of every comparison (the tiny scenario's own seed)."""

COUNTERS = (
    "follows_gained",
    "follows_lost",
    "delivered",
    "intents",
    "dissatisfied",
    "new_customer_orders",
)
"""Counters of the day (``model.today``) recorded next to the metrics."""


@dataclass(frozen=True)
class Run:
    """One run: ``days`` (one row per day), ``orders`` (one row per filled order, with the
    ``day`` it was placed), the model after the last day, and per-merchant and per-consumer
    records read from the model after each day (``model.today``)."""

    days: pd.DataFrame
    orders: pd.DataFrame
    model: MarketModel
    impressions: np.ndarray
    """Per merchant idx, the impressions of its listings over the run, in every channel."""
    left_day: np.ndarray
    """Per consumer, the day they left the platform, or -1."""
    last_active_day: np.ndarray
    """Per consumer, the last day they opened the app, or -1."""

    def total(self, column: str) -> float:
        return float(self.days[column].sum())

    def last(self, column: str) -> float:
        return float(self.days[column].iloc[-1])


Setup = Callable[[MarketModel], None]


def _add_impressions(model: MarketModel, impressions: np.ndarray) -> np.ndarray:
    """``impressions`` per merchant idx plus today's impressions of each merchant's listing
    (grown when merchants entered today)."""
    today = np.bincount(
        model.listings.merchant,
        weights=model.last_day.listing_impressions,
        minlength=len(model.merchants),
    ).astype(np.int64)
    today[: impressions.size] += impressions
    return today


def simulate(*overrides: str, seed: int = SEED, setup: Setup | None = None) -> Run:
    """Run the tiny scenario with ``overrides`` on ``seed``; ``setup`` may change the built
    model before the first day."""
    model = MarketModel(tiny_config(*overrides), seed=seed)
    if setup is not None:
        setup(model)
    impressions = np.zeros(len(model.merchants), dtype=np.int64)
    left_day = np.full(model.population.n, -1, dtype=np.int64)
    last_active = np.full(model.population.n, -1, dtype=np.int64)
    rows, orders = [], []
    for _ in range(model.config.steps):
        model.step()
        day = model.day - 1
        row = {"day": day, **model.metrics}
        row.update({f"flow_{kind}": model.ledger.flow(kind) for kind in FLOW_KINDS})
        row.update({name: getattr(model.last_day.counts, name) for name in COUNTERS})
        rows.append(row)
        placed = model.in_transit["order_day"] == day
        table = {name: values[placed] for name, values in model.in_transit.columns.items()}
        orders.append(pd.DataFrame(table).assign(day=day))
        impressions = _add_impressions(model, impressions)
        last_active[model.last_day.active] = day
        left_day[~model.population.on_platform & (left_day < 0)] = day
    return Run(
        days=pd.DataFrame(rows).set_index("day"),
        orders=pd.concat(orders, ignore_index=True),
        model=model,
        impressions=impressions,
        left_day=left_day,
        last_active_day=last_active,
    )


@cache
def run(*overrides: str, seed: int = SEED, setup: Setup | None = None) -> Run:
    """:func:`simulate`, once per distinct set of arguments; callers must not change the run."""
    return simulate(*overrides, seed=seed, setup=setup)


def listings_with(listings, **columns) -> object:
    """A copy of today's listings with some columns replaced (the model's stays as it was)."""
    return dataclasses.replace(listings, **columns)


def market(*overrides: str, days: int = 0, seed: int = SEED) -> MarketModel:
    """A fresh tiny market (not shared: tests may change it), after ``days`` simulated days."""
    model = MarketModel(tiny_config(*overrides), seed=seed)
    for _ in range(days):
        model.step()
    return model


def category(model: MarketModel, name: str) -> int:
    """Index of a category by name."""
    return model.category_names.index(name)
