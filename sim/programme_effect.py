"""How much of a program's GMV is new and how much diverted, by common random numbers.

Two arms of the same scenario and seeds, with and without the program, see the same draws
wherever they make the same choices (the counter-based streams of :mod:`sim.rng`), so their
difference removes the luck the arms share. Paths part once a choice differs, so what remains
still varies with the seed: the split reports its standard error over the pairs.

    program GMV  = G_served(with) - G_served(without)   what the served merchants gained
    new GMV      = G_total(with)  - G_total(without)    what the market gained
    diverted GMV = program GMV - new GMV                 what other merchants lost

each summed over the counted days of a run and averaged over the seeds (docs/MODEL.md §7.27).
:func:`split_by_program_days` splits the same way over the days a program ran (to the last day
it spent) and over the days after: a program whose budget runs out leaves after-effects of its
own (the buyers it brought, disappointed or loyal; capacity built and then idle), which a
whole-run sum would mix into what it did while it ran.

Market totals carry every consumer's share of the paths' parting, which is large against
the demand a program wakes. :func:`split_woken_spend` compares instead the woken consumers'
own spending with the same consumers' in the paired run without waking: a sharper estimate of
whether the woken buy more in all, or only move their spending between categories.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from sim.model import MarketModel


@dataclass(frozen=True)
class ProgramSplit:
    program_gmv_yuan: float
    new_gmv_yuan: float
    diverted_gmv_yuan: float
    seeds: int
    new_gmv_se_yuan: float = float("nan")
    """Standard error of the new GMV over the paired seeds (NaN with one pair)."""

    @property
    def new_gmv_is_positive(self) -> bool:
        """The new GMV is above zero by more than two standard errors."""
        return bool(self.new_gmv_yuan > 2 * self.new_gmv_se_yuan)

    @property
    def new_share(self) -> float:
        """New GMV as a share of the program's GMV (NaN when it brought none)."""
        p = self.program_gmv_yuan
        return self.new_gmv_yuan / p if p > 0 else float("nan")

    @property
    def _share_text(self) -> str:
        share = self.new_share
        return "" if np.isnan(share) else f"; {share:.0%}"

    def describe(self) -> str:
        return (
            f"program GMV {self.program_gmv_yuan:,.0f} yuan = new {self.new_gmv_yuan:,.0f} "
            f"(se {self.new_gmv_se_yuan:,.0f}{self._share_text}) + diverted "
            f"{self.diverted_gmv_yuan:,.0f} (mean of {self.seeds} paired seeds)"
        )


def split_program_gmv(
    with_program: Sequence[pd.DataFrame],
    without: Sequence[pd.DataFrame],
    served_metric: str,
    total_metric: str = "gmv_yuan",
) -> ProgramSplit:
    """The split from per-day metric tables of paired runs (seed i with and without the
    program); ``served_metric`` is the GMV of the merchants the program serves (for a program
    targeting a merchant kind, ``gmv_kind_<kind>_yuan``)."""
    if len(with_program) != len(without) or not with_program:
        raise ValueError("the two arms need the same, non-zero number of paired runs")
    pairs = list(zip(with_program, without, strict=True))
    served = [a[served_metric].sum() - b[served_metric].sum() for a, b in pairs]
    total = [a[total_metric].sum() - b[total_metric].sum() for a, b in pairs]
    program, new = float(np.mean(served)), float(np.mean(total))
    se = float(stats.sem(total)) if len(total) > 1 else float("nan")
    return ProgramSplit(program, new, program - new, len(served), se)


SPEND_METRIC = "subsidy_cost_yuan"
"""The per-day metric of what the programs spent."""


def last_program_day(table: pd.DataFrame, spend_metric: str = SPEND_METRIC) -> int | None:
    """The last day (row label) on which the run's programs spent, or None if they never did."""
    spent = table.index[table[spend_metric].to_numpy() > 0]
    return None if spent.empty else int(spent.max())


@dataclass(frozen=True)
class ProgramWindows:
    """The split over the days each pair's program ran and over the days after."""

    while_on: ProgramSplit
    after: ProgramSplit | None
    """None when every pair's program spent to its run's last day."""
    last_days: tuple[int | None, ...]
    """Per pair, the last day the program spent (None: it never did)."""

    def describe(self) -> str:
        days = ", ".join("never" if d is None else str(d) for d in self.last_days)
        text = f"while it ran (to day {days}): {self.while_on.describe()}"
        if self.after is not None:
            text += f"; after: {self.after.describe()}"
        return text


def split_by_program_days(
    with_program: Sequence[pd.DataFrame],
    without: Sequence[pd.DataFrame],
    served_metric: str,
    total_metric: str = "gmv_yuan",
    spend_metric: str = SPEND_METRIC,
) -> ProgramWindows:
    """:func:`split_program_gmv` over the days each pair's program ran (from the run's first
    counted day up to the last day it spent in the run with it; both runs cut at that day) and
    over the days after. The paired tables share their day labels."""
    if len(with_program) != len(without) or not with_program:
        raise ValueError("the two arms need the same, non-zero number of paired runs")
    last_days = tuple(last_program_day(a, spend_metric) for a in with_program)
    on_with, on_without, off_with, off_without = [], [], [], []
    for a, b, last in zip(with_program, without, last_days, strict=True):
        cut = -np.inf if last is None else last
        on_with.append(a[a.index <= cut])
        on_without.append(b[b.index <= cut])
        off_with.append(a[a.index > cut])
        off_without.append(b[b.index > cut])
    while_on = split_program_gmv(on_with, on_without, served_metric, total_metric)
    has_after = any(len(a) or len(b) for a, b in zip(off_with, off_without, strict=True))
    after = (
        split_program_gmv(off_with, off_without, served_metric, total_metric) if has_after else None
    )
    return ProgramWindows(while_on, after, last_days)


@dataclass(frozen=True)
class ConsumerSpend:
    """One run's spending per consumer over its counted days."""

    spend_yuan: np.ndarray
    """(N, K) yuan of filled orders per consumer row and category."""
    woken: np.ndarray
    """(N, K) bool: a program woke the consumer's latent interest in the category on a
    counted day."""


def consumer_spend(days: Iterable[MarketModel]) -> ConsumerSpend:
    """Accumulate :class:`ConsumerSpend` over a run given as the market after each of its days
    (warm-up days are skipped)."""
    spend = woken = None
    for model in days:
        if spend is None:
            shape = (model.population.interest.shape[0], model.k)
            spend, woken = np.zeros(shape), np.zeros(shape, dtype=bool)
        if model.calendar_day < 0:
            continue
        record = model.last_day
        orders = record.orders
        category = record.listings.category[orders["listing"]]
        np.add.at(spend, (orders["consumer"], category), orders["price_yuan"])
        woken[record.woken.consumers, record.woken.categories] = True
    if spend is None:
        raise ValueError("a run with no days has no spending")
    return ConsumerSpend(spend, woken)


@dataclass(frozen=True)
class WokenSpend:
    """What waking changed, consumer by consumer: each figure is the spending of a group of
    consumers with waking minus the same consumers' in the paired run without, in yuan over
    the counted days, averaged over the seed pairs, with its standard error over them. The
    woken are those woken in the run with waking."""

    in_woken_categories_yuan: float
    in_woken_categories_se_yuan: float
    in_other_categories_yuan: float
    """The woken consumers' spending outside the categories they were woken in."""
    in_other_categories_se_yuan: float
    by_the_woken_yuan: float
    """The woken consumers' spending in all (the two above together)."""
    by_the_woken_se_yuan: float
    by_everyone_else_yuan: float
    """Consumers never woken: what the woken took from them (stock, ranking) and noise."""
    by_everyone_else_se_yuan: float
    consumers_woken: float
    seeds: int

    @property
    def the_woken_buy_more(self) -> bool:
        """The woken consumers spend more in all, by more than two standard errors."""
        return bool(self.by_the_woken_yuan > 2 * self.by_the_woken_se_yuan)

    def describe(self) -> str:
        return (
            f"the {self.consumers_woken:,.0f} consumers woken spend "
            f"{self.by_the_woken_yuan:+,.0f} yuan (se {self.by_the_woken_se_yuan:,.0f}): "
            f"{self.in_woken_categories_yuan:+,.0f} (se {self.in_woken_categories_se_yuan:,.0f}) "
            f"in the categories woken, {self.in_other_categories_yuan:+,.0f} "
            f"(se {self.in_other_categories_se_yuan:,.0f}) in others; everyone else "
            f"{self.by_everyone_else_yuan:+,.0f} (se {self.by_everyone_else_se_yuan:,.0f}) "
            f"(mean of {self.seeds} paired seeds)"
        )


def split_woken_spend(
    with_waking: Sequence[ConsumerSpend], without: Sequence[ConsumerSpend]
) -> WokenSpend:
    """The consumer-by-consumer comparison of paired runs (seed i with and without waking)."""
    if len(with_waking) != len(without) or not with_waking:
        raise ValueError("the two arms need the same, non-zero number of paired runs")
    rows = []
    for a, b in zip(with_waking, without, strict=True):
        if a.spend_yuan.shape != b.spend_yuan.shape:
            raise ValueError("paired runs must have the same consumer rows and categories")
        diff = a.spend_yuan - b.spend_yuan
        person = a.woken.any(axis=1)
        in_woken = float(diff[a.woken].sum())
        by_woken = float(diff[person].sum())
        rows.append(
            (in_woken, by_woken - in_woken, by_woken, float(diff[~person].sum()), person.sum())
        )
    table = np.array(rows, dtype=np.float64)
    mean = table.mean(axis=0)
    se = stats.sem(table, axis=0) if len(rows) > 1 else np.full(table.shape[1], np.nan)
    return WokenSpend(
        in_woken_categories_yuan=float(mean[0]),
        in_woken_categories_se_yuan=float(se[0]),
        in_other_categories_yuan=float(mean[1]),
        in_other_categories_se_yuan=float(se[1]),
        by_the_woken_yuan=float(mean[2]),
        by_the_woken_se_yuan=float(se[2]),
        by_everyone_else_yuan=float(mean[3]),
        by_everyone_else_se_yuan=float(se[3]),
        consumers_woken=float(mean[4]),
        seeds=len(rows),
    )
