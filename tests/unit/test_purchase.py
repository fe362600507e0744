"""Purchase: the logistic chance of buying, one order per pair, budgets and stock rationing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.kernels import purchase
from sim.kernels.matching import FEED, LIVE, SEARCH
from sim.kernels.purchase import (
    COEFFICIENT_NAMES,
    N_TERMS,
    PRICE,
    PurchaseCoefficients,
    first_per_pair,
    logistic,
    purchase_logit,
    purchase_logit_bound,
    purchase_probability,
    ration,
    term_inputs,
    term_weights,
    within_budget,
)

ALPHA = 1e-4

COEF = PurchaseCoefficients(
    base_logit=np.array([-3.0, -2.0, -2.0, -1.0, -1.5]),
    interest_coef=1.0,
    creator_trust_coef=1.5,
    live_urgency_logit=0.6,
    platform_trust_coef=2.0,
    need_match_logit=2.0,
    quality_belief_coef=1.5,
    appeal_coef=1.5,
    price_coef=1.2,
)

NEUTRAL = {
    "log_affinity": 0.0,
    "creator_trust": 0.0,
    "platform_trust": 0.5,
    "need_match": 0.0,
    "believed_quality": 0.5,
    "appeal": 0.5,
    "log_price_ratio": 0.0,
    "price_sensitivity": 1.0,
}


def prob(values, feature=None, channel=FEED, coef=COEF, event_logit=0.0):
    """Purchase probability with every feature neutral except ``feature`` set to ``values``."""
    values = np.asarray(values, dtype=np.float64)
    kwargs = {name: np.full(values.size, v, dtype=np.float64) for name, v in NEUTRAL.items()}
    if feature is not None:
        kwargs[feature] = values
    return purchase_probability(
        channel=np.full(values.size, channel),
        live_room=np.full(values.size, channel == LIVE),
        coef=coef,
        event_logit=event_logit,
        **kwargs,
    )


def test_neutral_offer_buys_at_the_channel_base_rate():
    """With every feature neutral the chance is the logistic of the channel's base logit."""
    for channel in (FEED, SEARCH):
        p = prob([0.0], channel=channel)
        expected = 1.0 / (1.0 + np.exp(-COEF.base_logit[channel]))
        np.testing.assert_allclose(p, expected)


def test_zero_logit_is_even_odds():
    """A base logit of 0 and neutral features give exactly one half."""
    coef = PurchaseCoefficients(np.zeros(5), 1, 1, 0, 1, 1, 1, 1, 1)
    np.testing.assert_allclose(prob([0.0], coef=coef), [0.5])


@pytest.mark.parametrize(
    ("feature", "values"),
    [
        ("log_affinity", [-3.0, -1.0, 0.0, 1.0, 2.0]),
        ("creator_trust", [0.0, 0.25, 0.5, 0.75, 1.0]),
        ("platform_trust", [0.0, 0.25, 0.5, 0.75, 1.0]),
        ("need_match", [0.0, 1.0]),
        ("believed_quality", [0.0, 0.5, 1.0]),
        ("appeal", [0.0, 0.5, 1.0]),
    ],
)
def test_probability_rises_with_each_attraction(feature, values):
    """More interest, trust, need match, believed quality or appeal: a higher chance."""
    p = prob(values, feature)
    assert np.all(np.diff(p) > 0)


def test_probability_falls_with_price():
    """A dearer offer (higher price / reference price) sells less."""
    p = prob(np.log([0.5, 1.0, 2.0, 4.0]), "log_price_ratio")
    assert np.all(np.diff(p) < 0)


def test_price_sensitive_consumers_react_more_to_price():
    """The price penalty grows with price sensitivity; at the reference price it has no effect."""
    dear = purchase_probability(
        channel=np.array([FEED, FEED]),
        live_room=np.zeros(2, dtype=bool),
        log_affinity=np.zeros(2),
        creator_trust=np.zeros(2),
        platform_trust=np.full(2, 0.5),
        need_match=np.zeros(2),
        believed_quality=np.full(2, 0.5),
        appeal=np.full(2, 0.5),
        log_price_ratio=np.full(2, np.log(2.0)),
        price_sensitivity=np.array([0.5, 2.0]),
        coef=COEF,
    )
    assert dear[1] < dear[0]
    at_reference = prob([0.5, 2.0], "price_sensitivity")
    assert at_reference[0] == pytest.approx(at_reference[1])


def test_live_room_adds_urgency():
    """A live impression sells more than a non-live one with the same base logit."""
    coef = PurchaseCoefficients(np.zeros(5), 1, 1, 0.6, 1, 1, 1, 1, 1)
    assert prob([0.0], channel=LIVE, coef=coef)[0] > prob([0.0], channel=FEED, coef=coef)[0]


def test_festival_logit_raises_the_chance():
    """A positive event logit raises the chance, a negative one lowers it."""
    assert prob([0.0], event_logit=0.5)[0] > prob([0.0])[0] > prob([0.0], event_logit=-0.5)[0]


def test_probability_matches_the_documented_logit():
    """One offer with every term switched on: p = logistic(sum of the documented terms)."""
    p = purchase_probability(
        channel=np.array([LIVE]),
        live_room=np.array([True]),
        log_affinity=np.array([0.4]),
        creator_trust=np.array([0.8]),
        platform_trust=np.array([0.9]),
        need_match=np.array([1.0]),
        believed_quality=np.array([0.7]),
        appeal=np.array([0.2]),
        log_price_ratio=np.array([0.3]),
        price_sensitivity=np.array([1.5]),
        coef=COEF,
        event_logit=0.25,
    )
    logit = (
        -2.0 + 0.4 + 1.5 * 0.8 + 0.6 + 2.0 * 0.4 + 2.0 + 1.5 * 0.2 + 1.5 * -0.3 - 1.2 * 1.5 * 0.3
    )
    logit += 0.25
    np.testing.assert_allclose(p, [1.0 / (1.0 + np.exp(-logit))])


def test_zero_interest_never_buys():
    """log(0) affinity (no interest at all) gives probability 0, not NaN."""
    with np.errstate(divide="ignore"):
        log_affinity = np.log(np.array([0.0]))
    p = prob(log_affinity, "log_affinity")
    assert p[0] == 0.0


def test_extreme_logits_give_probabilities_without_overflow():
    """Very negative or positive logits give 0 and 1 without a floating-point overflow warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        p = prob([-1000.0, 1000.0], "log_affinity")
    np.testing.assert_array_equal(p, [0.0, 1.0])


# the rule written once: coefficient vector, terms and bound -----------------------------------


def test_the_coefficient_vector_follows_the_names_and_the_fields():
    """COEFFICIENT_NAMES are the coefficient fields after base_logit, in order; the vector and
    the index constants (interest_coef -> INTEREST) follow them; the terms' weights are the coefficients, the price term's
    being -(price_coef x price_sensitivity)."""
    fields = list(PurchaseCoefficients.__dataclass_fields__)
    assert fields == ["base_logit", *COEFFICIENT_NAMES]
    assert len(COEFFICIENT_NAMES) == N_TERMS
    for i, name in enumerate(COEFFICIENT_NAMES):
        assert getattr(purchase, name.rsplit("_", 1)[0].upper()) == i  # INTEREST ... PRICE
    vector = COEF.vector()
    assert vector.dtype == np.float64 and vector.shape == (N_TERMS,)
    np.testing.assert_array_equal(vector, [getattr(COEF, n) for n in COEFFICIENT_NAMES])
    weights = term_weights(vector, 2.0)
    assert list(weights[:PRICE]) == list(vector[:PRICE])
    assert weights[PRICE] == -(COEF.price_coef * 2.0)


def test_purchase_probability_is_the_logistic_of_the_shared_logit():
    """purchase_probability computes exactly logistic(purchase_logit(...)) of the terms."""
    rng = np.random.default_rng(3)
    m = 50
    features = {
        "log_affinity": rng.normal(size=m),
        "creator_trust": rng.random(m),
        "live_room": rng.random(m) < 0.5,
        "platform_trust": rng.random(m),
        "need_match": rng.random(m) < 0.5,
        "believed_quality": rng.random(m),
        "appeal": rng.random(m),
        "log_price_ratio": rng.normal(size=m),
    }
    ps = rng.lognormal(size=m)
    channel = rng.integers(0, 5, m)
    p = purchase_probability(
        channel=channel, price_sensitivity=ps, coef=COEF, event_logit=0.3, **features
    )
    z = purchase_logit(
        COEF.base_logit[channel],
        term_weights(COEF.vector(), ps),
        term_inputs(*features.values()),
        0.3,
    )
    np.testing.assert_array_equal(p, logistic(z))


FINITE = st.floats(-20, 20, allow_nan=False)


@st.composite
def offers_in_ranges(draw):
    """Coefficients of either sign, and per term a feature's range [lo, hi] with a value x in
    it (three sorted draws)."""
    coefs = np.array(draw(st.lists(FINITE, min_size=N_TERMS, max_size=N_TERMS)))
    triples = draw(st.lists(st.tuples(FINITE, FINITE, FINITE), min_size=N_TERMS, max_size=N_TERMS))
    lo, x, hi = np.sort(np.array(triples), axis=1).T
    return coefs, draw(st.floats(0, 5)), draw(FINITE), draw(FINITE), lo, x, hi


@settings(max_examples=300, deadline=None)
@given(offers_in_ranges())
def test_the_bound_is_never_below_the_logit(args):
    """For any coefficients and features within their ranges, the logit (as rounded) is at most
    the bound over those ranges, and so is the chance of buying at most the logistic of the
    bound (as the compiled engine takes it)."""
    coefs, ps, base, event, lo, x, hi = args
    w = term_weights(coefs, ps)
    z = purchase_logit(base, w, term_inputs(*x), event)
    bound = purchase_logit_bound(base, w, term_inputs(*lo), term_inputs(*hi), event)
    assert z <= bound
    assert logistic(z) <= logistic(bound + 1e-6)


def test_the_bound_is_reached_at_the_ends_of_the_ranges():
    """The bound is the largest logit over the ranges: every corner of the box is at most the
    bound and one corner equals it."""
    rng = np.random.default_rng(11)
    coefs = rng.normal(size=N_TERMS) * 3
    lo = rng.normal(size=N_TERMS)
    hi = lo + rng.random(N_TERMS)
    w = term_weights(coefs, 1.3)
    bound = purchase_logit_bound(-1.0, w, term_inputs(*lo), term_inputs(*hi), 0.2)
    corners = [
        purchase_logit(-1.0, w, term_inputs(*np.where(mask, hi, lo)), 0.2)
        for mask in np.array(np.meshgrid(*[[False, True]] * N_TERMS)).reshape(N_TERMS, -1).T
    ]
    assert max(corners) == bound


def test_numba_compiles_the_same_rule_with_the_same_results():
    """The rule's functions compile as they are inside a numba function and give the NumPy
    results on scalars, bit for bit."""
    numba = pytest.importorskip("numba")

    @numba.njit
    def compiled(base, coefs, ps, x, lo, hi, event):
        w = term_weights(coefs, ps)
        z = purchase_logit(
            base, w, term_inputs(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]), event
        )
        bound = purchase_logit_bound(
            base,
            w,
            term_inputs(lo[0], lo[1], lo[2], lo[3], lo[4], lo[5], lo[6], lo[7]),
            term_inputs(hi[0], hi[1], hi[2], hi[3], hi[4], hi[5], hi[6], hi[7]),
            event,
        )
        return z, bound

    rng = np.random.default_rng(5)
    for _ in range(200):
        coefs = rng.normal(size=N_TERMS) * 4
        lo, x, hi = np.sort(rng.normal(size=(3, N_TERMS)), axis=0)
        ps, base, event = rng.lognormal(), rng.normal(), rng.normal()
        z, bound = compiled(base, coefs, ps, x, lo, hi, event)
        w = term_weights(coefs, ps)
        assert z == purchase_logit(base, w, term_inputs(*x), event)
        assert bound == purchase_logit_bound(base, w, term_inputs(*lo), term_inputs(*hi), event)
        assert z <= bound


# first_per_pair -------------------------------------------------------------------------------


def test_first_per_pair_keeps_one_order_per_consumer_and_listing():
    """Only the first sighting of each (consumer, listing) pair can become an order."""
    consumer = np.array([0, 1, 0, 0, 1, 2])
    listing = np.array([5, 5, 5, 3, 5, 0])
    keep = first_per_pair(consumer, listing)
    assert keep.tolist() == [True, True, False, True, False, True]


def test_first_per_pair_of_nothing_is_empty():
    """No impressions, no mask entries."""
    assert first_per_pair(np.empty(0, dtype=int), np.empty(0, dtype=int)).size == 0


# within_budget --------------------------------------------------------------------------------


def test_budget_keeps_purchases_in_order_until_it_is_spent():
    """Budget 100, prices 60, 30, 20 in that order: the first two are kept."""
    keep = within_budget(np.array([0, 0, 0]), np.array([60.0, 30.0, 20.0]), np.array([100.0]))
    assert keep.tolist() == [True, True, False]


def test_budget_spent_exactly_is_within_budget():
    """Spending exactly the budget is allowed."""
    keep = within_budget(np.array([0, 0]), np.array([50.0, 50.0]), np.array([100.0]))
    assert keep.all()


def test_budget_stops_at_the_first_purchase_that_does_not_fit():
    """Once the running total passes the budget, later purchases are dropped too."""
    keep = within_budget(np.array([0, 0, 0]), np.array([60.0, 50.0, 30.0]), np.array([100.0]))
    assert keep.tolist() == [True, False, False]


def test_budgets_are_per_consumer_whatever_the_interleaving():
    """Each consumer spends against their own budget; the order is each consumer's own order."""
    consumer = np.array([1, 0, 1, 0, 2, 1])
    price = np.array([30.0, 80.0, 30.0, 30.0, 5.0, 30.0])
    budget = np.array([100.0, 70.0, 4.0])
    keep = within_budget(consumer, price, budget)
    # Consumer 1 (budget 70): 30, 30 fit, the third 30 does not. Consumer 0 (budget 100): 80
    # fits, 30 more does not. Consumer 2 (budget 4) cannot afford 5.
    assert keep.tolist() == [True, True, True, False, False, False]


def test_budget_holds_exactly_after_large_spending_by_others():
    """Other consumers' large intents earlier in the batch do not loosen or tighten a consumer's
    budget by even one fen: 30 + 20.01 exceeds 50, 30 + 20.00 fits it exactly."""
    consumer = np.array([0, 1, 1, 2, 2])
    price = np.array([2e6 + 0.37, 30.0, 20.01, 30.0, 20.0])
    keep = within_budget(consumer, price, np.array([0.0, 50.0, 50.0]))
    assert keep.tolist() == [False, True, False, True, True]


def test_budget_smaller_than_any_price_buys_nothing():
    """A consumer who cannot afford the first item keeps nothing."""
    keep = within_budget(np.array([0, 0]), np.array([10.0, 1.0]), np.array([5.0]))
    assert not keep.any()


def test_budget_of_nothing_is_empty():
    """No purchases, no mask entries."""
    assert within_budget(np.empty(0, int), np.empty(0), np.ones(3)).size == 0


# ration ---------------------------------------------------------------------------------------


def test_ration_fills_exactly_the_stock():
    """A listing with stock 2 and 5 intents fills exactly 2; one with ample stock fills all."""
    listing = np.array([0, 1, 0, 0, 1, 0, 0])
    stock = np.array([2, 10])
    filled = ration(listing, stock, np.random.default_rng(0))
    assert filled[listing == 0].sum() == 2
    assert filled[listing == 1].all()


def test_ration_with_no_stock_fills_nothing():
    """Zero (or negative) stock fills no order."""
    filled = ration(np.array([0, 0, 1]), np.array([0, -3]), np.random.default_rng(1))
    assert not filled.any()


def test_ration_of_nothing_is_empty():
    """No intents, no mask entries."""
    assert ration(np.empty(0, dtype=int), np.array([3]), np.random.default_rng(0)).size == 0


def test_ration_serves_each_short_listing_by_its_priority_draws():
    """An oversubscribed listing fills the orders with the lowest of the priorities drawn for
    all of the day's orders (one draw per order, in order), whatever the other listings."""
    rng = np.random.default_rng(3)
    listing = rng.integers(0, 40, 5_000)
    stock = rng.integers(-2, 200, 40)
    filled = ration(listing, stock, np.random.default_rng(4))
    priority = np.random.default_rng(4).random(listing.size)
    for j in range(stock.size):
        mine = np.flatnonzero(listing == j)
        served = mine[np.argsort(priority[mine], kind="stable")][: max(stock[j], 0)]
        assert set(np.flatnonzero(filled & (listing == j))) == set(served)


def test_ration_serves_orders_in_random_order():
    """With stock 2 and 5 intents, each intent is filled with chance 2/5 (binomial bounds)."""
    rng = np.random.default_rng(2)
    listing = np.zeros(5, dtype=int)
    stock = np.array([2])
    trials = 3000
    filled = np.array([ration(listing, stock, rng) for _ in range(trials)])
    lo, hi = stats.binom.ppf([ALPHA / 2, 1 - ALPHA / 2], trials, 0.4)
    counts = filled.sum(axis=0)
    assert np.all((counts >= lo) & (counts <= hi))
