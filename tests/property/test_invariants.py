"""Invariants that hold for any seed, policy and input: money, stock, probabilities, budgets."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
from conftest import tiny_config
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim import ledger as L
from sim.governance import GovernanceRules, investigation_chance
from sim.kernels.experience import dissatisfaction_probability, update_trust
from sim.kernels.purchase import (
    PurchaseCoefficients,
    purchase_probability,
    ration,
    within_budget,
)
from sim.model import MarketModel
from sim.network import FollowGraph

CHANNEL_NAMES = ("feed", "live", "follow", "search", "mall")
MODEL_SETTINGS = settings(max_examples=20, deadline=None, derandomize=True)
KERNEL_SETTINGS = settings(max_examples=150, deadline=None, derandomize=True)

seeds = st.integers(min_value=0, max_value=2**32 - 1)
probabilities = st.floats(0.0, 1.0)
# Large enough to reach logits far beyond any the model produces, small enough that sums of
# products stay finite.
features = st.floats(-1e6, 1e6, allow_nan=False)


@st.composite
def market_policies(draw):
    """Overrides of the tiny scenario (400 consumers): policy levers and channel switches.

    The take rate stays at most 1 - commission_rate_max, where take plus commission fits in
    the price; higher take rates are covered in tests/unit/test_ledger.py.
    """
    channels = draw(st.tuples(*[st.booleans()] * 5))
    overrides = [
        "population.consumers=400",
        f"platform.take_rate={draw(st.floats(0.0, 0.5))}",
        f"platform.governance.strictness={draw(probabilities)}",
        f"platform.payment_delay_days={draw(st.integers(0, 3))}",
        *(
            f"platform.channels.{name}={'true' if on else 'false'}"
            for name, on in zip(CHANNEL_NAMES, channels, strict=True)
        ),
    ]
    return overrides


def escrow_due(model: MarketModel) -> float:
    """Payments of orders still in transit or waiting for their payout."""
    return float(model.in_transit["price_yuan"].sum() + model.awaiting_payout["price_yuan"].sum())


@MODEL_SETTINGS
@given(overrides=market_policies(), seed=seeds, steps=st.integers(4, 6))
def test_money_is_conserved(overrides, seed, steps):
    """Account balances sum to zero and escrow holds exactly the open orders' payments."""
    model = MarketModel(tiny_config(*overrides), seed=seed)
    for day in range(steps):
        model.step()
        ledger = model.ledger
        ledger.check(day)
        tolerance = 1e-9 * max(ledger.volume, 1.0)
        assert abs(ledger.balances[: ledger.n_accounts].sum()) <= tolerance
        assert abs(ledger.balance(L.ESCROW) - ledger.escrow_expected) <= tolerance
        assert abs(ledger.balance(L.ESCROW) - escrow_due(model)) <= tolerance


@MODEL_SETTINGS
@given(overrides=market_policies(), seed=seeds, cover=st.floats(0.05, 2.0))
def test_stock_is_never_negative(overrides, seed, cover):
    """No merchant, active or gone, ever holds negative stock, even when stock runs short, but
    for units it sold on pre-sale: without pre-sale never, and with it the units owed are at
    most those pre-sold so far."""
    for presale in (0, 30):
        config = tiny_config(
            *overrides,
            f"merchants.learning.stock_cover_days={cover}",
            f"creators.live.presale_days={presale}",
        )
        model = MarketModel(config, seed=seed)
        presold = 0
        for _ in range(5):
            model.step()
            presold += model.last_day.counts.presold_units
            assert sum(m.units_owed for m in model.merchants) <= presold
            if presale == 0:
                assert min(m.stock for m in model.merchants) >= 0


@st.composite
def impressions(draw):
    m = draw(st.integers(1, 40))

    def column(elements=features):
        return draw(hnp.arrays(np.float64, m, elements=elements))

    coef = PurchaseCoefficients(
        base_logit=draw(hnp.arrays(np.float64, 5, elements=st.floats(-20, 20))),
        interest_coef=draw(st.floats(-10, 10)),
        creator_trust_coef=draw(st.floats(-10, 10)),
        live_urgency_logit=draw(st.floats(-10, 10)),
        platform_trust_coef=draw(st.floats(-10, 10)),
        need_match_logit=draw(st.floats(-10, 10)),
        quality_belief_coef=draw(st.floats(-10, 10)),
        appeal_coef=draw(st.floats(-10, 10)),
        price_coef=draw(st.floats(-10, 10)),
    )
    return {
        "channel": draw(hnp.arrays(np.int8, m, elements=st.integers(0, 4))),
        "live_room": draw(hnp.arrays(np.bool_, m)),
        "log_affinity": column(),
        "creator_trust": column(),
        "platform_trust": column(),
        "need_match": column(),
        "believed_quality": column(),
        "appeal": column(),
        "log_price_ratio": column(),
        "price_sensitivity": column(),
        "coef": coef,
        "event_logit": draw(st.floats(-10, 10)),
    }


@KERNEL_SETTINGS
@given(kwargs=impressions())
def test_purchase_probability_is_a_probability(kwargs):
    """Any finite features and coefficients give a chance in [0, 1]."""
    # exp overflows for logits below -709; that warning is pinned in tests/unit/test_purchase.py.
    with np.errstate(over="ignore"):
        p = purchase_probability(**kwargs)
    assert p.shape == kwargs["channel"].shape
    assert np.all((p >= 0) & (p <= 1))


@KERNEL_SETTINGS
@given(
    data=st.integers(1, 40).flatmap(
        lambda m: st.tuples(*[hnp.arrays(np.float64, m, elements=features)] * 3)
    ),
    base=st.floats(-1e3, 1e3),
    gap=st.floats(-1e3, 1e3),
    low=st.floats(-1e3, 1e3),
)
def test_dissatisfaction_probability_is_a_probability(data, base, gap, low):
    """Any finite qualities, shocks and coefficients give a chance in [0, 1]."""
    true_q, claimed_q, shock = data
    p = dissatisfaction_probability(true_q, claimed_q, shock, base, gap, low)
    assert np.all((p >= 0) & (p <= 1))


@cache
def tiny_rules() -> GovernanceRules:
    return GovernanceRules.from_config(tiny_config().platform.governance)


@KERNEL_SETTINGS
@given(
    excess=hnp.arrays(
        np.float64,
        st.integers(0, 40),
        elements=st.floats(allow_nan=False, allow_infinity=False),
    ),
    base=probabilities,
    per_se=probabilities,
    threshold=st.floats(0, 100),
)
def test_investigation_chance_is_a_probability(excess, base, per_se, threshold):
    """Any finite excess rates and any rule probabilities give a chance in [0, 1]."""
    rules = replace(
        tiny_rules(),
        investigation_base_prob_per_day=base,
        investigation_prob_per_excess_se=per_se,
        excess_threshold_se=threshold,
    )
    with np.errstate(over="ignore"):
        p = investigation_chance(excess, rules)
    assert np.all((p >= 0) & (p <= 1))


@KERNEL_SETTINGS
@given(
    data=st.integers(0, 60).flatmap(
        lambda m: st.tuples(
            hnp.arrays(np.int64, m, elements=st.integers(0, 5)),
            hnp.arrays(np.int64, 6, elements=st.integers(-3, 12)),
        )
    ),
    seed=seeds,
)
def test_ration_never_fills_beyond_stock(data, seed):
    """Each listing fills min(demand, stock) orders, never more than its stock."""
    listing, stock = data
    filled = ration(listing, stock, np.random.default_rng(seed))
    served = np.bincount(listing[filled], minlength=stock.size)
    demand = np.bincount(listing, minlength=stock.size)
    assert np.all(served <= np.maximum(stock, 0))
    np.testing.assert_array_equal(served, np.minimum(demand, np.maximum(stock, 0)))


@KERNEL_SETTINGS
@given(
    data=st.integers(0, 60).flatmap(
        lambda m: st.tuples(
            hnp.arrays(np.int64, m, elements=st.integers(0, 4)),
            # Prices are money: whole fen (0.01 yuan).
            hnp.arrays(np.float64, m, elements=st.integers(0, 1_000_000).map(lambda f: f / 100)),
        )
    ),
    budget=hnp.arrays(np.float64, 5, elements=st.floats(0.0, 1e4)),
)
def test_within_budget_never_overspends(data, budget):
    """Each consumer's kept purchases cost at most their budget, and form a prefix of them."""
    consumer, price = data
    keep = within_budget(consumer, price, budget)
    for c in range(budget.size):
        mine = consumer == c
        kept = keep[mine]
        # Budgets count whole fen; the sum of a few whole-fen prices is exact to 1e-9 yuan.
        assert price[mine][kept].sum() <= budget[c] + 1e-9
        # Kept purchases come first: once one is dropped, all later ones are.
        assert not np.any(kept[1:] & ~kept[:-1])


@KERNEL_SETTINGS
@given(
    data=st.integers(0, 40).flatmap(
        lambda m: st.tuples(
            hnp.arrays(np.int64, m, elements=st.integers(0, 7)),
            hnp.arrays(np.bool_, m),
            hnp.arrays(np.float64, m, elements=probabilities),
        )
    ),
    trust=hnp.arrays(np.float32, 8, elements=st.floats(0.0, 1.0, width=32)),
    gain=probabilities,
)
def test_updated_trust_stays_in_unit_interval(data, trust, gain):
    """Trust after any mix of good and bad orders stays in [0, 1]."""
    consumer, good, loss = data
    rows, new = update_trust(trust, consumer, good, loss, gain)
    assert rows.size == np.unique(consumer).size
    assert np.all((new >= 0) & (new <= 1))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    ops=st.lists(
        st.tuples(
            st.booleans(),
            st.lists(st.tuples(st.integers(0, 4), st.integers(0, 9)), max_size=12),
            st.floats(0.0, 1.0),
        ),
        max_size=10,
    )
)
def test_follow_graph_stays_consistent(ops):
    """After any follows and unfollows, rows are packed, within capacity, duplicate-free, and
    follower counts equal a recount of the follow table."""
    graph = FollowGraph(5, capacity=3)
    graph.ensure_creators(10)
    for is_follow, pairs, trust in ops:
        consumers = np.array([p[0] for p in pairs], dtype=np.int64)
        creators = np.array([p[1] for p in pairs], dtype=np.int64)
        if is_follow:
            graph.follow(consumers, creators, trust)
        else:
            graph.unfollow(consumers, creators)
        filled = graph.creator >= 0
        assert np.array_equal(filled.sum(axis=1), graph.count)
        assert np.array_equal(filled, np.arange(3)[None, :] < graph.count[:, None])
        for row in graph.creator:
            live = row[row >= 0]
            assert live.size == np.unique(live).size
        recount = np.bincount(graph.creator[filled], minlength=graph.followers.size)
        np.testing.assert_array_equal(recount, graph.followers)
