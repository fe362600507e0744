"""Metrics: one number per model per day, and how each folds into a whole-run summary.

Every metric is registered once here with its unit, its exact definition (which
``docs/METRICS.md`` is generated from) and its whole-run aggregation:

* ``sum``: flows (GMV, orders, counts of events) add up over the days;
* ``last``: stocks (active merchants, trust) are reported at the last day;
* ``mean``: daily levels (active consumers) are averaged over the days;
* a ratio of two sums: rates are recomputed over the whole run (conversion = total orders /
  total impressions), never averaged day by day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from sim.day import Day, DayCounts, GovernanceCounts, declared_metrics
from sim.vocabulary import CHANNELS, GOVERNANCE_ACTIONS, MERCHANT_KINDS

Model = Any
"""The market model (:class:`sim.model.MarketModel`); typed loosely so that this module does
not import the model that imports it."""


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    definition: str
    summary: str | tuple[str, str]
    """"sum", "last", "mean", "max", or (numerator metric, denominator metric) for a ratio of sums;
    a ratio metric is summarised as sum(numerator) / sum(denominator)."""
    compute: Callable[[Model, Day], float]
    """(model after the day, the day's record) -> the day's value."""
    weight: str | None = None
    """For a share metric: the metric it is a share of; the summary is the weighted mean."""
    label: str | None = None
    """A reader's name for the metric, without its unit (figures, tables); None: the one
    :mod:`sim.labels` gives it."""


REGISTRY: dict[str, Metric] = {}


class Sellers:
    """The sellers' attributes the metrics read, as arrays, each taken from the agents once
    per day however many metrics read it (a metric over the sellers costs a pass over an
    array, not a walk over the agents)."""

    def __init__(self, model: Model):
        self.model = model
        self._fits: dict = {}

    @cached_property
    def merchants(self) -> list:
        """The merchants in business, in activation order."""
        return self.model.active_merchants()

    def _m(self, attr: str, dtype) -> np.ndarray:
        return np.array([getattr(x, attr) for x in self.merchants], dtype=dtype)

    @cached_property
    def merchant_kind(self) -> np.ndarray:
        """(active merchants,) index in MERCHANT_KINDS."""
        return np.array([MERCHANT_KINDS.index(x.kind) for x in self.merchants], dtype=np.int64)

    @cached_property
    def violator(self) -> np.ndarray:
        return self._m("violator", bool)

    @cached_property
    def utilisation_ema(self) -> np.ndarray:
        return self._m("utilisation_ema", np.float64)

    @cached_property
    def days_loss_making(self) -> np.ndarray:
        return self._m("days_loss_making", np.int64)

    @cached_property
    def traffic_budget_yuan(self) -> np.ndarray:
        return self._m("traffic_budget_yuan", np.float64)

    @cached_property
    def active_creators(self) -> list:
        return self.model.active_creators()

    @cached_property
    def independent_income_ema(self) -> np.ndarray:
        """(active independent creators,) their income moving averages."""
        return np.array([c.income_ema_yuan for c in self.model.independent_creators()])

    @cached_property
    def ever_independent(self) -> list:
        """Every independent creator who ever entered, by idx."""
        return [c for c in self.model.creators if c.independent]

    @cached_property
    def ever_independent_active(self) -> np.ndarray:
        return np.array([c.active for c in self.ever_independent], dtype=bool)

    def independent(self, survivors: bool, attr: str) -> np.ndarray:
        """``attr`` of the independent creators ever (or, ``survivors``, still active)."""
        key = ("independent", survivors, attr)
        if key not in self._fits:
            values = np.array([getattr(c, attr) for c in self.ever_independent], dtype=np.float64)
            self._fits[key] = values[self.ever_independent_active] if survivors else values
        return self._fits[key]

    def tail_fit(self, values_key: tuple, values: np.ndarray, discrete: bool):
        """:func:`fit_power_law_tail` of ``values`` once a day (its index and size are two
        metrics)."""
        key = ("fit", values_key, discrete)
        if key not in self._fits:
            self._fits[key] = fit_power_law_tail(
                values, max_candidates=TAIL_CANDIDATES, discrete=discrete
            )
        return self._fits[key]


_CURRENT: list[Sellers] = []
"""The day's :class:`Sellers` while :func:`collect` runs."""


def sellers(model: Model) -> Sellers:
    """The sellers' arrays of ``model`` today (shared by the metrics of one collect)."""
    if _CURRENT and _CURRENT[0].model is model:
        return _CURRENT[0]
    return Sellers(model)


def metric(name, unit, definition, summary="sum", weight=None, label=None):
    def add(fn):
        if name in REGISTRY:
            raise ValueError(f"metric {name!r} registered twice")
        REGISTRY[name] = Metric(
            name, unit, " ".join(definition.split()), summary, fn, weight, label
        )
        return fn

    return add


_DECLARED = {
    cls: {name: declared for name, declared in declared_metrics(cls)}
    for cls in (DayCounts, GovernanceCounts)
}


def counter_metric(cls: type, field_name: str) -> None:
    """Register the metric a day counter declares (see :mod:`sim.day`): its value is the
    counter's."""
    declared = _DECLARED[cls][field_name]
    part = "counts" if cls is DayCounts else "governance"

    def compute(m, day, part=part, field_name=field_name):
        return float(getattr(getattr(day, part), field_name))

    metric(declared.name, declared.unit, declared.definition, declared.summary, declared.weight)(
        compute
    )


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal, 1 = one holds everything).

    G = sum_i (2i - n - 1) x_(i) / (n sum x), over the sorted values x_(1) <= ... <= x_(n).
    """
    x = np.sort(np.clip(np.asarray(values, dtype=np.float64), 0.0, None))
    n = x.size
    if n == 0 or x.sum() == 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * x) / (n * x.sum()))


def top_share(values: np.ndarray, share: float) -> float:
    """Share of the total held by the top ``share`` of holders (at least one holder)."""
    x = np.sort(np.clip(np.asarray(values, dtype=np.float64), 0.0, None))[::-1]
    if x.size == 0 or x.sum() == 0:
        return float("nan")
    k = max(1, int(np.ceil(round(share * x.size, 9))))  # 0.07 x 100 is 7, not 8
    return float(x[:k].sum() / x.sum())


def fit_power_law_tail(
    values: np.ndarray,
    min_tail: int = 20,
    max_candidates: int | None = None,
    discrete: bool = True,
) -> tuple[float, float, int]:
    """Tail exponent of a discrete heavy tail, P(X >= x) ~ x^-(alpha - 1) for x >= xmin.

    Clauset, Shalizi & Newman (2009): for each candidate xmin the maximum-likelihood alpha
    (discrete approximation ``1 + n / sum(log(x / (xmin - 0.5)))``), keeping the xmin whose
    fitted tail is closest to the data in Kolmogorov-Smirnov distance. Candidates are the
    distinct values between the median and the point that leaves ``min_tail`` values.
    ``max_candidates`` keeps that many candidates evenly spaced in rank (all by default).
    ``discrete=False`` fits a continuous quantity (money) with the continuous estimator
    ``1 + n / sum(log(x / xmin))`` over the positive values, whatever their unit.
    Returns (alpha, xmin, tail size); NaN alpha when there are too few positive values.
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    x = x[x >= 1] if discrete else x[x > 0]
    if x.size < min_tail:
        return float("nan"), float("nan"), 0
    candidates = np.unique(x[x.size // 2 : x.size - min_tail + 1])
    if max_candidates is not None and candidates.size > max_candidates:
        candidates = candidates[np.linspace(0, candidates.size - 1, max_candidates).astype(int)]
    best = (np.inf, float("nan"), float("nan"), 0)
    for xmin in candidates:
        tail = x[x >= xmin]
        log_sum = np.sum(np.log(tail / (xmin - 0.5 if discrete else xmin)))
        if log_sum <= 0:
            continue
        alpha = 1.0 + tail.size / log_sum
        empirical = np.arange(tail.size) / tail.size
        model = 1.0 - (tail / xmin) ** (1.0 - alpha)
        distance = float(np.max(np.abs(empirical - model)))
        if distance < best[0]:
            best = (distance, float(alpha), float(xmin), int(tail.size))
    return _significant(best[1], ALPHA_DIGITS), best[2], best[3]


ALPHA_DIGITS = 9
"""Significant digits of a fitted tail exponent. NumPy's vectorised log and power differ in
the last bit between CPUs (the AVX-512 loops against the AVX2 ones); rounded, the exponent
does not move with them, and a run's tail metrics do not depend on the machine."""


def _significant(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant digits (NaN stays NaN)."""
    return float(f"{value:.{digits}g}")


# --- sales ----------------------------------------------------------------------------------


@metric(
    "gmv_yuan",
    "yuan",
    "Gross merchandise value: the price of every order placed that day, returned or not.",
)
def _gmv(m, day):
    return float(day.counts.gmv_yuan.sum())


for _i, _ch in enumerate(CHANNELS):

    def _channel_gmv(m, day, i=_i):
        return float(day.counts.gmv_yuan[i])

    metric(
        f"gmv_{_ch}_yuan",
        "yuan",
        f"GMV of orders placed from an impression in the {_ch} channel (the channel of the "
        "impression that led to the purchase).",
    )(_channel_gmv)

for _i, _kind in enumerate(MERCHANT_KINDS):

    def _kind_gmv(m, day, i=_i):
        return float(day.counts.gmv_by_kind_yuan[i])

    metric(f"gmv_kind_{_kind}_yuan", "yuan", f"GMV of orders from merchants of kind {_kind}.")(
        _kind_gmv
    )


counter_metric(DayCounts, "quality_gmv_yuan")


@metric("refunds_yuan", "yuan", "Money refunded to buyers for orders returned that day.")
def _refunds(m, day):
    return m.ledger.flow("refund")


@metric("orders", "orders", "Orders placed that day (after budget and stock).")
def _orders(m, day):
    return float(day.counts.orders.sum())


@metric("impressions", "impressions", "Listings shown to consumers that day, over all channels.")
def _impressions(m, day):
    return float(day.counts.impressions.sum())


@metric(
    "conversion_rate",
    "orders per impression",
    "orders / impressions that day; over a run, total orders / total impressions.",
    summary=("orders", "impressions"),
)
def _conversion(m, day):
    return _ratio(day.counts.orders.sum(), day.counts.impressions.sum())


@metric(
    "new_customer_share",
    "share",
    """Share of the day's orders whose buyer placed no order with that merchant in the last
    consumers.new_customer_window_days days (a new customer; the articles: over 85% of
    merchants' buyers are new customers). Over a run: weighted by orders.""",
    summary="mean",
    weight="orders",
)
def _new_customers(m, day):
    return _ratio(day.counts.new_customer_orders, day.counts.orders.sum())


for _i, _ch in enumerate(CHANNELS):

    def _channel_new_customers(m, day, i=_i):
        return _ratio(day.counts.new_customer_orders_by_channel[i], day.counts.orders[i])

    metric(
        f"new_customer_share_{_ch}",
        "share",
        f"""Share of the day's {_ch}-channel orders whose buyer placed no order with that
        merchant in the last consumers.new_customer_window_days days (a new customer). Over a
        run: weighted by the channel's orders.""",
        summary="mean",
        weight=f"orders_{_ch}",
    )(_channel_new_customers)

    def _channel_orders(m, day, i=_i):
        return float(day.counts.orders[i])

    metric(f"orders_{_ch}", "orders", f"Orders placed from the {_ch} channel that day.")(
        _channel_orders
    )


@metric(
    "repurchase_rate",
    "share",
    """Share of the day's buyers (consumers with at least one order that day) who bought
    again from a merchant they had bought from before (复购). Over a run: weighted by
    buyers.""",
    summary="mean",
    weight="buyers",
)
def _repurchase(m, day):
    return _ratio(day.counts.repurchasing_buyers, day.counts.buyers)


counter_metric(DayCounts, "buyers")


counter_metric(DayCounts, "stockout_units")


for _i, _kind in enumerate(MERCHANT_KINDS):

    def _kind_stockouts(m, day, i=_i):
        return float(day.counts.stockouts_by_kind[i])

    metric(
        f"stockouts_kind_{_kind}",
        "units",
        f"Stock-outs (units wanted but not in stock) of merchants of kind {_kind}.",
    )(_kind_stockouts)


counter_metric(DayCounts, "returns")


for _i, _ch in enumerate(CHANNELS):

    def _channel_deliveries(m, day, i=_i):
        return float(day.counts.delivered_by_channel[i])

    def _channel_returns(m, day, i=_i):
        return float(day.counts.returns_by_channel[i])

    def _channel_return_rate(m, day, i=_i):
        return _ratio(day.counts.returns_by_channel[i], day.counts.delivered_by_channel[i])

    metric(
        f"deliveries_{_ch}",
        "orders",
        f"Orders bought from the {_ch} channel and delivered that day.",
    )(_channel_deliveries)
    metric(
        f"returns_{_ch}",
        "orders",
        f"Orders bought from the {_ch} channel and returned on delivery that day.",
    )(_channel_returns)
    metric(
        f"return_rate_{_ch}",
        "share",
        f"""Share of the orders bought from the {_ch} channel and delivered that day that were
        returned. Over a run: returns / deliveries of the channel.""",
        summary=(f"returns_{_ch}", f"deliveries_{_ch}"),
    )(_channel_return_rate)


counter_metric(DayCounts, "complaints")


counter_metric(DayCounts, "consumer_surplus_yuan")


# --- consumers ------------------------------------------------------------------------------


counter_metric(DayCounts, "active_consumers")


counter_metric(DayCounts, "consumers_left")
for _name in ("consumers_arrived", "consumers_returned", "consumers_churned"):
    counter_metric(DayCounts, _name)


@metric(
    "consumers_on_platform",
    "consumers",
    "Consumers on the platform at the end of the day (arrived, not left).",
    summary="last",
)
def _on_platform(m, day):
    return float(m.population.on_platform.sum())


@metric(
    "mean_platform_trust",
    "trust (0-1)",
    "Mean trust in the platform of the consumers still on it, at the end of the day.",
    summary="last",
)
def _trust(m, day):
    pop = m.population
    return pop.mean_trust() if pop.on_platform.any() else float("nan")


# --- merchants ------------------------------------------------------------------------------


@metric(
    "merchants_active", "merchants", "Merchants in business at the end of the day.", summary="last"
)
def _merchants_active(m, day):
    return float(len(sellers(m).merchants))


@metric(
    "merchant_cohort_retention",
    "share",
    """Share of the merchants in business on the first counted day (the day after the warm-up)
    that are still in business at the end of the day: the retention of that cohort, entrants
    since then left out. Over a run: its last value (a year's retention after 365 days).""",
    summary="last",
)
def _cohort_retention(m, day):
    start = m.config.warmup_days
    cohort = [
        x
        for x in m.merchants
        if x.entry_day <= start and (x.exit_day is None or x.exit_day >= start)
    ]
    return _ratio(sum(x.exit_day is None for x in cohort), len(cohort))


@metric(
    "violator_merchant_share",
    "share",
    "Share of the merchants in business at the end of the day who are violators.",
    summary="last",
)
def _violator_share(m, day):
    s = sellers(m)
    return _ratio(int(s.violator.sum()), len(s.merchants))


@metric(
    "violator_gmv_share",
    "share",
    "Share of the day's GMV sold by violators. Over a run: weighted by GMV.",
    summary="mean",
    weight="gmv_yuan",
)
def _violator_gmv(m, day):
    return _ratio(day.counts.violator_gmv_yuan, day.counts.gmv_yuan.sum())


counter_metric(DayCounts, "merchant_entries")


counter_metric(DayCounts, "merchant_exits")


@metric(
    "merchant_profit_yuan",
    "yuan",
    """Merchants' net cash flow that day: the change of all merchants' cash, less starting
    capital put in by entrants: payouts received, shipping insurance and their own accounts'
    content income, minus production, overheads, traffic, service fees, fines and costs of
    entry. A sale counts when it is paid out, and stock bought counts as spent; for profit see
    merchant_profit_accrual_yuan.""",
)
def _m_profit(m, day):
    return day.counts.merchant_cash_flow_yuan


@metric(
    "merchant_profit_accrual_yuan",
    "yuan",
    """Merchants' accrual profit that day (§7.17): the change of what every merchant ever
    present owns — cash, plus stock at unit cost, plus the net revenue (price less take rate
    and commission) of its orders held in escrow — less entrants' starting capital net of
    their sunk cost of entry. A sale counts when it is placed and a return when it is
    refunded; making stock is not a loss, selling it costs its unit cost.""",
)
def _m_profit_accrual(m, day):
    return day.counts.merchant_profit_honest_yuan + day.counts.merchant_profit_violator_yuan


LONG_LOSS_DAYS = 90
"""Days in a row of a negative slow profit average counted as losing for long, per kind."""

for _i, _kind in enumerate(MERCHANT_KINDS):

    def _kind_profit(m, day, i=_i):
        return float(day.counts.merchant_profit_by_kind_yuan[i])

    def _kind_active(m, day, i=_i):
        return float((sellers(m).merchant_kind == i).sum())

    def _kind_entries(m, day, i=_i):
        return float(day.counts.merchant_entries_by_kind[i])

    def _kind_exits(m, day, i=_i):
        return float(day.counts.merchant_exits_by_kind[i])

    def _kind_utilisation(m, day, i=_i):
        s = sellers(m)
        use = s.utilisation_ema[s.merchant_kind == i]
        return float(np.mean(use)) if use.size else float("nan")

    metric(
        f"merchant_profit_accrual_kind_{_kind}_yuan",
        "yuan",
        f"merchant_profit_accrual_yuan of merchants of kind {_kind}.",
    )(_kind_profit)
    metric(
        f"merchants_active_kind_{_kind}",
        "merchants",
        f"Merchants of kind {_kind} in business at the end of the day.",
        summary="last",
    )(_kind_active)
    metric(
        f"merchant_entries_kind_{_kind}",
        "merchants",
        f"Merchants of kind {_kind} that entered that day (kind chosen by the entrant, §7.17).",
    )(_kind_entries)
    metric(
        f"merchant_exits_kind_{_kind}",
        "merchants",
        f"Merchants of kind {_kind} that left that day: bankrupt, exited or removed.",
    )(_kind_exits)

    def _kind_losing(m, day, i=_i):
        s = sellers(m)
        return float(((s.merchant_kind == i) & (s.days_loss_making >= LONG_LOSS_DAYS)).sum())

    metric(
        f"merchants_loss_making_90d_kind_{_kind}",
        "merchants",
        f"""Merchants of kind {_kind} in business at the end of the day whose slow moving
        average of accrual profit has been negative for 90 days or more in a row.""",
        summary="last",
    )(_kind_losing)
    metric(
        f"capacity_utilisation_kind_{_kind}",
        "share of capacity",
        f"""Mean over the merchants of kind {_kind} in business of their moving average of
        capacity use, units produced / capacity (above 1 in overtime, §7.4).""",
        summary="last",
    )(_kind_utilisation)


LOSS_MAKING_DAYS = 30
"""A merchant is counted as loss-making for long when its slow moving average of accrual profit
has been negative this many days in a row."""


@metric(
    "merchants_loss_making_30d_share",
    "share",
    """Share of the merchants in business at the end of the day whose slow moving average of
    daily accrual profit (merchants.exit.profit_slow_memory_days) has been negative for 30
    days or more in a row. Over a run: the mean over days.""",
    summary="mean",
)
def _loss_making(m, day):
    s = sellers(m)
    return _ratio(int((s.days_loss_making >= LOSS_MAKING_DAYS).sum()), len(s.merchants))


counter_metric(DayCounts, "potential_merchant_entrants")


counter_metric(DayCounts, "merchant_profit_honest_yuan")


counter_metric(DayCounts, "merchant_profit_violator_yuan")


@metric(
    "honest_merchants_active",
    "merchants",
    "Honest merchants in business at the end of the day.",
    summary="last",
)
def _honest_active(m, day):
    return float((~sellers(m).violator).sum())


@metric(
    "violator_merchants_active",
    "merchants",
    "Violators in business at the end of the day.",
    summary="last",
)
def _violator_active(m, day):
    return float(sellers(m).violator.sum())


counter_metric(DayCounts, "violator_exits")


# --- creators and MCNs ----------------------------------------------------------------------


@metric(
    "creators_active",
    "creators",
    "Creator agents active at the end of the day: independent creators and merchants' own accounts.",
    summary="last",
)
def _creators_active(m, day):
    return float(len(sellers(m).active_creators))


counter_metric(DayCounts, "creator_entries")


counter_metric(DayCounts, "creator_exits")


@metric(
    "creator_income_gini",
    "Gini (0-1)",
    "Gini coefficient of active independent creators' average daily income (moving average).",
    summary="last",
)
def _income_gini(m, day):
    return gini(sellers(m).independent_income_ema)


@metric(
    "creator_top1pct_income_share",
    "share",
    "Share of active independent creators' average daily income earned by the top 1% of them.",
    summary="last",
)
def _top1(m, day):
    return top_share(sellers(m).independent_income_ema, 0.01)


@metric(
    "follower_gini",
    "Gini (0-1)",
    "Gini coefficient of follower counts over active creators (own accounts included).",
    summary="last",
)
def _follower_gini(m, day):
    followers = m.follows.followers
    idx = np.array([c.idx for c in sellers(m).active_creators], dtype=np.int64)
    return gini(followers[idx])


TAIL_CANDIDATES = 60
"""xmin candidates of the daily tail fits (fit_power_law_tail's max_candidates)."""


def _lifetime_income(m, survivors: bool) -> np.ndarray:
    return sellers(m).independent(survivors, "earned_total_yuan")


def _followers_of(m, survivors: bool) -> np.ndarray:
    idx = sellers(m).independent(survivors, "idx").astype(np.int64)
    return m.follows.followers[idx].astype(np.float64)


def tail_index(values: np.ndarray, discrete: bool = True) -> float:
    """Pareto tail index of the CCDF, P(X >= x) ~ x^-a: a = alpha - 1, alpha the
    Clauset-Shalizi-Newman maximum-likelihood exponent of :func:`fit_power_law_tail` (the
    xmin minimising the KS distance, over at most TAIL_CANDIDATES candidates)."""
    alpha, _, _ = fit_power_law_tail(values, max_candidates=TAIL_CANDIDATES, discrete=discrete)
    return alpha - 1.0


for _who, _survivors, _text in (
    ("", False, "every independent creator who ever entered, active or not"),
    ("_survivors", True, "the independent creators active at the end of the day"),
):

    def _life_gini(m, day, s=_survivors):
        return gini(_lifetime_income(m, s))

    def _life_top1(m, day, s=_survivors):
        return top_share(_lifetime_income(m, s), 0.01)

    def _life_tail(m, day, s=_survivors):
        fit = sellers(m).tail_fit(("income", s), _lifetime_income(m, s), discrete=False)
        return fit[0] - 1.0

    def _fol_gini(m, day, s=_survivors):
        return gini(_followers_of(m, s))

    def _fol_tail(m, day, s=_survivors):
        return sellers(m).tail_fit(("followers", s), _followers_of(m, s), discrete=True)[0] - 1.0

    def _life_total(m, day, s=_survivors):
        return float(_lifetime_income(m, s).sum())

    def _life_tail_size(m, day, s=_survivors):
        fit = sellers(m).tail_fit(("income", s), _lifetime_income(m, s), discrete=False)
        return float(fit[2])

    def _fol_tail_size(m, day, s=_survivors):
        fit = sellers(m).tail_fit(("followers", s), _followers_of(m, s), discrete=True)
        return float(fit[2])

    _lifetime = """lifetime income on accrual (content income plus the expected kept part of
    commissions, net of MCN shares, booked on the day of the sale)"""
    metric(
        f"creator_lifetime_income_gini{_who}",
        "Gini (0-1)",
        f"Gini coefficient of the {_lifetime}, over {_text}.",
        summary="last",
    )(_life_gini)
    metric(
        f"creator_top1pct_lifetime_income_share{_who}",
        "share",
        f"Share of the {_lifetime} earned by the top 1%, over {_text}.",
        summary="last",
    )(_life_top1)
    metric(
        f"creator_lifetime_income_tail_index{_who}",
        "tail index",
        f"""Pareto tail index a of the {_lifetime} over {_text}, P(X >= x) ~ x^-a above the
        fitted xmin: the Clauset-Shalizi-Newman maximum-likelihood exponent (continuous
        estimator) minus 1, the xmin by Kolmogorov-Smirnov distance. Lower = heavier tail;
        NaN with fewer than 20 creators with positive income.""",
        summary="last",
    )(_life_tail)
    metric(
        f"follower_gini_creators{_who}",
        "Gini (0-1)",
        f"""Gini coefficient of follower counts over {_text} (a creator who quit keeps the
        followers who have not unfollowed it).""",
        summary="last",
    )(_fol_gini)
    metric(
        f"follower_tail_index{_who}",
        "tail index",
        f"""Pareto tail index of follower counts over {_text}, by the method of
        creator_lifetime_income_tail_index with the discrete estimator (1 + n / sum(log(x /
        (xmin - 0.5)))) over creators with at least one follower.""",
        summary="last",
    )(_fol_tail)
    metric(
        f"creator_lifetime_income_yuan{_who}",
        "yuan",
        f"Total {_lifetime}, over {_text}.",
        summary="last",
    )(_life_total)
    metric(
        f"creator_lifetime_income_tail_size{_who}",
        "creators",
        f"""Creators in the fitted tail of creator_lifetime_income_tail_index{_who} (0 when
        there are too few to fit).""",
        summary="last",
    )(_life_tail_size)
    metric(
        f"follower_tail_size{_who}",
        "creators",
        f"Creators in the fitted tail of follower_tail_index{_who} (0 when too few to fit).",
        summary="last",
    )(_fol_tail_size)


@metric(
    "creator_top1pct_gmv_share",
    "share",
    """Share of the lifetime GMV sold through independent creators' content that the top 1%
    of them (by that GMV, over every one who ever entered) sold.""",
    summary="last",
)
def _top1_gmv(m, day):
    return top_share(sellers(m).independent(False, "gmv_total_yuan"), 0.01)


@metric(
    "creator_lifetime_gmv_yuan",
    "yuan",
    "Lifetime GMV sold through the content of every independent creator who ever entered.",
    summary="last",
)
def _creator_gmv(m, day):
    return float(sum(sellers(m).independent(False, "gmv_total_yuan").tolist()))


@metric(
    "mega_influencers_active",
    "creators",
    "Mega-influencers among the initial creators (day 0) still active at the end of the day.",
    summary="last",
)
def _megas(m, day):
    return float(
        sum(c.active for c in m.creators if c.kind == "mega_influencer" and c.entry_day == 0)
    )


@metric(
    "mean_session_gmv_yuan",
    "yuan",
    "GMV per live session that day (session_gmv_yuan / live_sessions). Over a run: total "
    "session GMV / total sessions.",
    summary=("session_gmv_yuan", "live_sessions"),
)
def _session_gmv(m, day):
    return _ratio(day.counts.session_gmv_yuan, day.counts.live_sessions)


@metric(
    "live_gmv_own_account_share",
    "share",
    """Share of session GMV through merchants' own accounts (自播) rather than independent
    creators (达人). Over a run: weighted by session GMV.""",
    summary="mean",
    weight="session_gmv_yuan",
)
def _own_live_share(m, day):
    c = day.counts
    return _ratio(c.live_gmv_own_yuan, c.live_gmv_own_yuan + c.live_gmv_creator_yuan)


for _name in (
    "live_sessions",
    "live_gmv_own_yuan",
    "live_gmv_creator_yuan",
    "max_session_gmv_yuan",
    "max_session_capacity_days",
    "gmv_million_follower_creators_yuan",
    "session_gmv_yuan",
    "live_viewers",
    "session_stockout_units",
    "featured_offers",
    "featured_offers_stocked_out",
    "prestocked_units",
    "presold_units",
    "interest_woken",
):
    counter_metric(DayCounts, _name)


@metric(
    "gmv_share_million_follower_creators",
    "share",
    """Share of the day's GMV sold through head creators, those with a million followers or
    more (see gmv_million_follower_creators_yuan). Over a run: their GMV / all GMV.""",
    summary=("gmv_million_follower_creators_yuan", "gmv_yuan"),
)
def _million_follower_share(m, day):
    return _ratio(day.counts.gmv_million_follower_creators_yuan, day.counts.gmv_yuan.sum())


@metric(
    "featured_stockout_share",
    "share",
    """Share of the offers featured in live sessions whose session asked for more units than
    stock filled. Over a run: featured offers stocked out / featured offers.""",
    summary=("featured_offers_stocked_out", "featured_offers"),
)
def _featured_stockout_share(m, day):
    return _ratio(day.counts.featured_offers_stocked_out, day.counts.featured_offers)


@metric(
    "mean_creator_skill", "skill (0-1)", "Mean content skill of active creators.", summary="last"
)
def _skill(m, day):
    active = sellers(m).active_creators
    return float(np.mean([c.skill for c in active])) if active else float("nan")


@metric(
    "mcn_signed_creators",
    "creators",
    "Creators under contract with an MCN at the end of the day.",
    summary="last",
)
def _signed(m, day):
    return float(sum(len(x.roster) for x in m.mcns))


# --- platform and governance ----------------------------------------------------------------


@metric(
    "platform_revenue_yuan",
    "yuan",
    """The platform's net revenue that day: take-rate commission + traffic fees + fines,
    minus content income paid to creators, guarantee-fund payouts, governance costs and
    program subsidies (shipping insurance paid, and the traffic programs gave valued at CPM;
    commission a program waived is already missing from the take commission).""",
)
def _platform_revenue(m, day):
    f = m.ledger.flow
    return (
        f("take_commission")
        + f("traffic_fee")
        + f("fine")
        - f("content_income")
        - f("guarantee_payout")
        - f("governance_cost")
        - f("shipping_subsidy")
        - day.counts.program_traffic_value_yuan
    )


@metric(
    "traffic_spend_yuan",
    "yuan",
    "What merchants paid for paid traffic that day (the traffic_fee flow, at auction prices).",
)
def _traffic_spend(m, day):
    return m.ledger.flow("traffic_fee")


@metric(
    "traffic_spend_gmv_share",
    "share",
    "traffic_spend_yuan / gmv_yuan that day; over a run, total spend / total GMV.",
    summary=("traffic_spend_yuan", "gmv_yuan"),
)
def _traffic_share(m, day):
    return _ratio(m.ledger.flow("traffic_fee"), day.counts.gmv_yuan.sum())


counter_metric(DayCounts, "paid_impressions")


counter_metric(DayCounts, "traffic_incremental_margin_yuan")


@metric(
    "traffic_incremental_roi",
    "yuan per yuan",
    """Incremental return on paid traffic: traffic_incremental_margin_yuan /
    traffic_spend_yuan that day; over a run, the ratio of the totals.""",
    summary=("traffic_incremental_margin_yuan", "traffic_spend_yuan"),
)
def _traffic_roi(m, day):
    return _ratio(day.counts.traffic_incremental_margin_yuan, m.ledger.flow("traffic_fee"))


@metric(
    "auction_clearing_cpm_yuan",
    "yuan per 1000 impressions",
    """Mean price paid per 1000 paid impressions that day: 1000 x traffic_spend_yuan /
    traffic_paid_impressions (the auction's clearing prices, §7.11). Over a run: weighted by
    paid impressions.""",
    summary="mean",
    weight="traffic_paid_impressions",
)
def _clearing(m, day):
    return _ratio(1000.0 * m.ledger.flow("traffic_fee"), day.counts.paid_impressions)


@metric(
    "traffic_budget_mean_yuan",
    "yuan/day",
    "Mean daily traffic budget of the merchants in business at the end of the day.",
    summary="last",
)
def _budget(m, day):
    s = sellers(m)
    return float(np.mean(s.traffic_budget_yuan)) if s.merchants else float("nan")


@metric(
    "subsidy_cost_yuan",
    "yuan",
    """What platform programs spent that day: traffic given (extra impressions valued at
    CPM), take commission waived, and shipping insurance paid.""",
)
def _subsidies(m, day):
    return day.subsidy_spent_yuan


@metric(
    "guarantee_paid_yuan", "yuan", "Paid from the guarantee fund (保障基金) to buyers that day."
)
def _guarantee(m, day):
    return m.ledger.flow("guarantee_payout")


@metric(
    "governance_cost_yuan", "yuan", "What screening and investigations cost the platform that day."
)
def _gov_cost(m, day):
    return m.ledger.flow("governance_cost")


for _action in (*GOVERNANCE_ACTIONS, "false_positives"):
    counter_metric(GovernanceCounts, _action)
for _action in ("warnings", "suspended", "appeals_won", "investigations", "screened"):
    counter_metric(GovernanceCounts, _action)
for _name in (
    "convictions_honest",
    "convictions_cheating",
    "honest_removed",
    "fines_yuan",
    "fines_on_honest_yuan",
    "guarantee_recovered_yuan",
):
    counter_metric(DayCounts, _name)


# --- honesty and beliefs --------------------------------------------------------------------


@metric(
    "live_listings",
    "listings",
    "Merchants' products live on the market that day. Over a run: the mean per day.",
    summary="mean",
)
def _live_listings(m, day):
    return float(day.listings.n)


@metric(
    "cheating_listing_share",
    "share",
    """Share of the day's live listings whose product cheats (low true quality claimed as
    high). Over a run: the mean over days.""",
    summary="mean",
)
def _cheating_listings(m, day):
    return float(day.listings.violator.mean()) if day.listings.n else float("nan")


@metric(
    "cheating_launch_share",
    "share",
    """Share of the day's product launches that cheat: the merchants' choices (sim.honesty).
    Over a run: weighted by launches.""",
    summary="mean",
    weight="launches",
)
def _cheating_launches(m, day):
    return _ratio(day.counts.cheating_launches, day.counts.launches)


counter_metric(DayCounts, "launches")


@metric(
    "cheating_entrant_share",
    "share",
    """Share of the merchants that launched their first product that day whose product
    cheats (entrants' choice; day 0's incumbents included). Over a run: weighted by those
    first launches.""",
    summary="mean",
    weight="first_launches",
)
def _cheating_entrants(m, day):
    return _ratio(day.counts.cheating_entrant_launches, day.counts.entrant_launches)


counter_metric(DayCounts, "entrant_launches")


@metric(
    "gmv_weighted_true_quality",
    "quality (0-1)",
    """Mean true quality of the day's orders, weighted by price. Over a run: weighted by
    GMV.""",
    summary="mean",
    weight="gmv_yuan",
)
def _gmv_quality(m, day):
    return _ratio(day.counts.true_quality_gmv_yuan, day.counts.gmv_yuan.sum())


@metric(
    "mean_quality_belief",
    "quality (0-1)",
    """Consumers' mean belief of quality: what a consumer at the mean platform trust
    believes of the day's live listings (claims discounted by trust, store scores where
    shown; sim.kernels.purchase.believed_quality), weighted by each listing's impressions.""",
    summary="mean",
)
def _belief(m, day):
    listings = day.listings
    w = day.listing_impressions.astype(np.float64)
    if listings.n == 0 or w.sum() == 0:
        return float("nan")
    t = m.population.mean_trust()
    belief = listings.quality_if_doubting + t * (
        listings.quality_if_trusting - listings.quality_if_doubting
    )
    return float((belief * w).sum() / w.sum())


@metric(
    "honest_removed_share",
    "share",
    """Honest merchants removed that day as a share of the honest merchants in business at
    its end (over a run: their sum, the share of honest merchants removed).""",
)
def _honest_removed_share(m, day):
    honest = int((~sellers(m).violator).sum())
    return _ratio(day.counts.honest_removed, honest)


# --- the run --------------------------------------------------------------------------------


@metric(
    "warmup",
    "flag (0 or 1)",
    """1 on a day of the warm-up (scenario key warmup_days; its steps are negative in the time
    series), 0 on a counted day. Whole-run summaries leave the warm-up out, so the summary is
    0.""",
    summary="last",
)
def _warmup(m, day):
    return float(day.day < m.config.warmup_days)


# --- collection and summaries ---------------------------------------------------------------


def collect(model: Model, day: Day) -> dict[str, float]:
    """Every registered metric of the day just simulated (``day``, the model after it)."""
    _CURRENT[:] = [Sellers(model)]
    try:
        return {name: float(m.compute(model, day)) for name, m in REGISTRY.items()}
    finally:
        _CURRENT.clear()


def summarize(wide: pd.DataFrame) -> dict[str, float]:
    """Whole-run value of each metric from a wide table (one row per step, one column per
    metric), following each metric's ``summary`` rule."""
    out: dict[str, float] = {}
    for name, m in REGISTRY.items():
        if name not in wide:
            continue
        col = wide[name]
        if isinstance(m.summary, tuple):
            num, den = (wide[c].sum() for c in m.summary)
            out[name] = _ratio(num, den)
        elif m.weight is not None:
            w = wide[m.weight]
            ok = col.notna()
            out[name] = _ratio((col[ok] * w[ok]).sum(), w[ok].sum())
        elif m.summary == "sum":
            out[name] = float(col.sum())
        elif m.summary == "last":
            out[name] = float(col.iloc[-1]) if len(col) else float("nan")
        elif m.summary == "mean":
            out[name] = float(col.mean())
        elif m.summary == "max":
            out[name] = float(col.max()) if len(col) else float("nan")
        else:  # pragma: no cover - guarded by the registry
            raise ValueError(f"unknown summary {m.summary!r} for {name}")
    return out
