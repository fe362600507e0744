"""The vectorised consumer kernel against its Mesa reference (:mod:`sim.reference_mesa`).

The tiny market is built with 20,000 consumers and stepped four days, so that consumers have
open needs, follows and remembered merchants; its current day's tables and rules (the model's
own ``_day_tables`` and ``_day_rules``) are then put to the same consumers by the kernel (NumPy
and numba engines) and by the reference, each over several independent days (kernel: other
keys; reference: its generators run on), and the totals are pooled.

The two implementations share no random numbers, so they are compared in distribution. The
consumers are cut into groups of 200; each group is the same in both runs, and its totals in
the two runs are independent draws of the same distribution when the rules agree. So for each
statistic the per-group differences are independent with mean 0, whatever the heterogeneity
between groups, and a one-sample t-test on them is valid by the central limit theorem:

* activity, new needs, follows after viewing and impressions per channel: the differences of
  the group totals;
* conversion per channel (intents / impressions): the linearised difference of two ratios,
  ``(I_k - I_r) - rate x (M_k - M_r)`` per group (``I`` intents, ``M`` impressions, ``rate``
  the pooled conversion), which has mean 0 when both conversions are equal;
* purchases per merchant: a chi-square test of homogeneity of the 2 x merchants table,
  merchants with few purchases pooled into one cell.

Each test controls its family-wise error at ``ALPHA`` (Bonferroni over its comparisons). The
control tests run the reference with one rule deliberately changed and check that the same
comparison rejects it: the oracle has the power to see a rule that differs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest
from conftest import tiny_config
from scipy import stats

from sim.kernels.consumer_day import ENGINES, numba_available
from sim.kernels.matching import FEED, FOLLOW, LIVE, MALL, SEARCH
from sim.model import MarketModel
from sim.reference_mesa import (
    MarketDay,
    ReferenceConsumers,
    ReferenceOutcome,
    consumer_chunks,
    favorite_listings,
    market_day,
)

N = 20_000
GROUP = 200
GROUPS = N // GROUP
DAYS = 3
"""Independent days pooled per comparison."""
CONTROL_DAYS = 2
ALPHA = 1e-3
"""Family-wise false-alarm rate of each test."""
MIN_EXPECTED = 5
"""Merchants with fewer expected purchases in either run share one chi-square cell."""
CHANNEL_NAMES = {FEED: "feed", LIVE: "live", FOLLOW: "follow", SEARCH: "search", MALL: "mall"}
ENGINE_SEED = {"numpy": 1, "numba": 2}

# Columns of a tally's per-group table.
IMPRESSIONS = slice(0, 5)
INTENTS = slice(5, 10)
ACTIVE, NEW_NEEDS, FOLLOWS = 10, 11, 12
COLUMNS = 13


@dataclass(frozen=True)
class Tally:
    """One implementation's results pooled over days: per group of consumers, impressions
    and intents per channel, active consumers, new needs and follows (GROUPS, COLUMNS); and
    intents per listing (L,)."""

    per_group: np.ndarray
    per_listing: np.ndarray


@pytest.fixture(scope="module")
def market() -> MarketModel:
    market = MarketModel(
        tiny_config(f"population.consumers={N}", "population.arrival_room_share=0")
    )
    for _ in range(4):
        market.step()
    assert (market.population.need_category >= 0).sum() > 100
    assert (market.follows.count > 0).mean() > 0.5
    assert (favorite_listings(market) >= 0).sum() > 100
    return market


@pytest.fixture(scope="module")
def today(market) -> MarketDay:
    return market_day(market)


@pytest.fixture(scope="module")
def reference(market) -> ReferenceConsumers:
    return ReferenceConsumers(market)


def kernel_tally(engine: str, market: MarketModel, today: MarketDay, days: int) -> Tally:
    """The kernel on each group of consumers, on ``days`` keys drawn for the engine."""
    n_listings = today.tables.listing_category.size
    per_group = np.zeros((GROUPS, COLUMNS), dtype=np.int64)
    per_listing = np.zeros(n_listings, dtype=np.int64)
    run = ENGINES[engine]
    for d in range(days):
        key = market.streams.key("oracle", ENGINE_SEED[engine], d)
        for g, chunk in enumerate(consumer_chunks(market, N, GROUP)):
            out = run(chunk, today.tables, today.rules, key)
            per_group[g, IMPRESSIONS] += out.channel_impressions
            per_group[g, INTENTS] += np.bincount(out.intent_channel, minlength=5)
            per_group[g, ACTIVE] += out.active.sum()
            per_group[g, NEW_NEEDS] += (out.new_need >= 0).sum()
            per_group[g, FOLLOWS] += out.follow_row.size
            per_listing += np.bincount(out.intent_listing, minlength=n_listings)
    return Tally(per_group, per_listing)


def reference_tally(
    reference: ReferenceConsumers, today: MarketDay, days: int, seed: int, **changes
) -> Tally:
    """The reference's days from ``seed``, with ``changes`` to the day's purchase
    coefficients or other rules."""
    coefficient_names = set(type(today.rules.coefficients).__dataclass_fields__)
    coefficients = {k: changes.pop(k) for k in list(changes) if k in coefficient_names}
    rules = replace(
        today.rules, coefficients=replace(today.rules.coefficients, **coefficients), **changes
    )
    n_listings = today.tables.listing_category.size
    per_group = np.zeros((GROUPS, COLUMNS), dtype=np.int64)
    per_listing = np.zeros(n_listings, dtype=np.int64)
    reference.reseed(seed)
    for _ in range(days):
        out = reference.day(today.tables, rules)
        per_group += group_totals(out)
        per_listing += np.bincount(out.intent_listing, minlength=n_listings)
    return Tally(per_group, per_listing)


def group_totals(out: ReferenceOutcome) -> np.ndarray:
    """(GROUPS, COLUMNS) totals of one reference day."""
    table = np.zeros((GROUPS, COLUMNS), dtype=np.int64)
    table[:, IMPRESSIONS] = out.consumer_impressions.reshape(GROUPS, GROUP, 5).sum(axis=1)
    intents = np.bincount(
        (out.intent_consumer // GROUP) * 5 + out.intent_channel, minlength=GROUPS * 5
    )
    table[:, INTENTS] = intents.reshape(GROUPS, 5)
    table[:, ACTIVE] = out.active.reshape(GROUPS, GROUP).sum(axis=1)
    table[:, NEW_NEEDS] = (out.new_need >= 0).reshape(GROUPS, GROUP).sum(axis=1)
    table[:, FOLLOWS] = np.bincount(out.follow_consumer // GROUP, minlength=GROUPS)
    return table


@pytest.fixture(scope="module")
def reference_days(reference, today) -> Tally:
    return reference_tally(reference, today, DAYS, seed=0)


@pytest.fixture(scope="module", params=["numpy", "numba"])
def kernel_days(request, market, today) -> tuple[str, Tally]:
    if request.param == "numba":
        pytest.importorskip("numba")
    return request.param, kernel_tally(request.param, market, today, DAYS)


# --------------------------------------------------------------------------------------------
# The comparisons
# --------------------------------------------------------------------------------------------


def paired_pvalue(differences: np.ndarray) -> float:
    """Two-sided p-value of a one-sample t-test that per-group differences have mean 0."""
    if not differences.any():
        return 1.0
    return float(stats.ttest_1samp(differences, 0.0).pvalue)


def counts_pvalues(a: Tally, b: Tally) -> dict[str, float]:
    """Same expected activity, new needs, follows and impressions per channel (per consumer)."""
    d = a.per_group - b.per_group
    pvalues = {
        "active": paired_pvalue(d[:, ACTIVE]),
        "new needs": paired_pvalue(d[:, NEW_NEEDS]),
        "follows": paired_pvalue(d[:, FOLLOWS]),
    }
    for ch, name in CHANNEL_NAMES.items():
        pvalues[f"{name} impressions"] = paired_pvalue(d[:, IMPRESSIONS][:, ch])
    return pvalues


def conversion_pvalues(a: Tally, b: Tally) -> dict[str, float]:
    """Same conversion (intents / impressions) per channel: the linearised difference."""
    pvalues = {}
    for ch, name in CHANNEL_NAMES.items():
        ia, ib = a.per_group[:, INTENTS][:, ch], b.per_group[:, INTENTS][:, ch]
        ma, mb = a.per_group[:, IMPRESSIONS][:, ch], b.per_group[:, IMPRESSIONS][:, ch]
        rate = (ia.sum() + ib.sum()) / (ma.sum() + mb.sum())
        pvalues[f"{name} conversion"] = paired_pvalue((ia - ib) - rate * (ma - mb))
    return pvalues


def merchant_pvalue(a: Tally, b: Tally) -> tuple[float, int]:
    """Chi-square test that purchases spread over merchants (one listing each on a day) in
    the same proportions; returns the p-value and the number of merchants tested on their
    own. Each merchant's count is a sum over consumers of at most one purchase each, so the
    counts are close to independent Poisson and the test's chi-square law holds."""
    table = np.stack([a.per_listing, b.per_listing])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    enough = (expected >= MIN_EXPECTED).all(axis=0)
    cells = np.column_stack([table[:, enough], table[:, ~enough].sum(axis=1)])
    cells = cells[:, cells.sum(axis=0) > 0]
    return float(stats.chi2_contingency(cells, correction=False).pvalue), int(enough.sum())


def rejected(pvalues: dict[str, float]) -> dict[str, float]:
    """Comparisons rejected at family-wise level ALPHA (Bonferroni)."""
    return {k: p for k, p in pvalues.items() if p < ALPHA / len(pvalues)}


def per_consumer(t: Tally, column) -> np.ndarray:
    return t.per_group[:, column].sum(axis=0) / (N * DAYS)


# --------------------------------------------------------------------------------------------
# The kernel agrees with the reference
# --------------------------------------------------------------------------------------------


def test_activity_needs_follows_and_impressions_per_channel_match(kernel_days, reference_days):
    """Per consumer and day, the kernel's active consumers, new needs, follows after viewing
    and impressions in each channel match the reference's (paired t-tests over groups)."""
    engine, kernel = kernel_days
    pvalues = counts_pvalues(kernel, reference_days)
    assert reference_days.per_group[:, IMPRESSIONS].sum(axis=0).min() > 5_000
    assert not rejected(pvalues), (
        engine,
        rejected(pvalues),
        per_consumer(kernel, IMPRESSIONS),
        per_consumer(reference_days, IMPRESSIONS),
    )


def test_conversion_per_channel_matches(kernel_days, reference_days):
    """The kernel's intents per impression in each channel match the reference's."""
    engine, kernel = kernel_days
    assert reference_days.per_group[:, INTENTS].sum(axis=0).min() > 200
    pvalues = conversion_pvalues(kernel, reference_days)
    assert not rejected(pvalues), (engine, rejected(pvalues))


def test_purchases_per_merchant_match(kernel_days, reference_days):
    """Purchases spread over merchants in the same proportions in both (chi-square)."""
    engine, kernel = kernel_days
    pvalue, merchants = merchant_pvalue(kernel, reference_days)
    assert merchants >= 10
    assert pvalue >= ALPHA, (engine, pvalue, kernel.per_listing, reference_days.per_listing)


# --------------------------------------------------------------------------------------------
# The oracle sees a rule that differs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "comparisons", "caught"),
    [
        ({"live_urgency_logit": 0.0}, conversion_pvalues, "live conversion"),
        ({"creator_trust_coef": 0.0}, conversion_pvalues, "follow conversion"),
        ({"results_per_need": 5}, counts_pvalues, ("search impressions", "mall impressions")),
    ],
    ids=["live urgency off", "creator trust off", "one search result fewer"],
)
def test_the_oracle_detects_a_changed_rule(market, today, reference, change, comparisons, caught):
    """A reference with one rule changed (no live urgency, no creator trust in the logit, one
    result fewer per need in search and the mall) fails a comparison that rule drives, at the same family-wise
    level, against the numba kernel (NumPy when numba is missing) on fewer days."""
    engine = "numba" if numba_available() else "numpy"
    kernel = kernel_tally(engine, market, today, CONTROL_DAYS)
    changed = reference_tally(reference, today, CONTROL_DAYS, seed=1, **change)
    # ``caught``: the comparison the change drives, or several of which one must reject.
    expected = {caught} if isinstance(caught, str) else set(caught)
    assert expected & set(rejected(comparisons(kernel, changed))), comparisons(kernel, changed)


# --------------------------------------------------------------------------------------------
# The reference keeps its own rules
# --------------------------------------------------------------------------------------------


def test_reference_buys_within_budget_and_once_per_listing(market, today, reference):
    """In a reference day nobody spends over their budget (in whole fen), buys a listing
    twice, or does anything while inactive; new needs arrive only for consumers without one;
    and the day leaves the agents' needs as they were."""
    reference.reseed(2)
    needs_before = [agent.need for agent in reference.consumers]
    out = reference.day(today.tables, today.rules)
    assert [agent.need for agent in reference.consumers] == needs_before
    price = np.ceil(today.tables.listing_price_yuan * 100 - 1e-6).astype(np.int64)
    spent = np.bincount(out.intent_consumer, price[out.intent_listing], minlength=N)
    budget = np.floor(market.population.budget_yuan[:N].astype(np.float64) * 100 + 1e-6)
    assert out.intent_consumer.size > 0
    assert np.all(spent <= budget)
    pairs = out.intent_consumer * today.tables.listing_category.size + out.intent_listing
    assert np.unique(pairs).size == pairs.size
    idle = ~out.active
    assert not out.consumer_impressions[idle].any()
    assert not np.isin(out.intent_consumer, np.flatnonzero(idle)).any()
    assert not np.isin(out.follow_consumer, np.flatnonzero(idle)).any()
    had_need = market.population.need_category[:N] >= 0
    assert not (out.new_need[had_need] >= 0).any()
    assert (out.new_need >= 0).sum() > 0
    assert out.listing_impressions.sum() == out.channel_impressions.sum()
