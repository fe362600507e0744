"""The listing state machine and the governance enforcement rule, on their own."""

from __future__ import annotations

import numpy as np
from conftest import tiny_config

from sim.agents.listing import Listing
from sim.governance import GovernanceRules, enforce
from sim.vocabulary import LISTING_DELISTED, LISTING_LIVE, LISTING_PREPARING


def test_a_new_listing_waits_for_its_relist_day_then_goes_to_screening():
    listing = Listing(relist_day=3)
    assert listing.state == LISTING_PREPARING
    assert not listing.start_day(2)
    assert listing.start_day(3)


def test_an_intercepted_product_is_retried_on_its_retry_day_and_a_passed_one_is_live():
    listing = Listing(relist_day=0)
    assert listing.start_day(0)
    listing.new_product()
    listing.screened(False, retry_day=4)
    assert listing.state == LISTING_PREPARING and listing.relist_day == 4
    assert not listing.start_day(3) and listing.start_day(4)
    listing.new_product()
    listing.screened(True, retry_day=9)
    assert listing.live and listing.product_id == 2


def test_a_delisted_product_comes_back_live_on_its_day():
    listing = Listing(state=LISTING_LIVE)
    assert listing.delist(until_day=5)
    assert listing.state == LISTING_DELISTED and listing.on_market and not listing.live
    assert not listing.delist(until_day=9), "only a live product can be delisted"
    listing.start_day(4)
    assert listing.state == LISTING_DELISTED
    assert not listing.start_day(5)
    assert listing.live


def test_a_ban_takes_a_product_off_the_market_until_a_new_one_is_prepared():
    for state in (LISTING_LIVE, LISTING_DELISTED):
        listing = Listing(state=state)
        assert listing.ban(relist_day=7)
        assert listing.state == LISTING_PREPARING and listing.relist_day == 7
    assert not Listing(state=LISTING_PREPARING).ban(relist_day=7), "nothing on the market"


def rules(**changes) -> GovernanceRules:
    from dataclasses import replace

    base = GovernanceRules.from_config(tiny_config().platform.governance)
    return replace(base, **changes)


def arrays(m: int, **columns):
    defaults = {
        "live": np.ones(m, dtype=bool),
        "est_quality": np.full(m, 0.8),
        "evidence": np.full(m, 100.0),
        "excess_se": np.zeros(m),
        "cheating": np.zeros(m, dtype=bool),
    }
    return defaults | columns


def test_enforcement_delists_only_live_products_estimated_low_on_enough_evidence():
    cols = arrays(
        4,
        est_quality=np.array([0.1, 0.1, 0.1, 0.9]),
        evidence=np.array([50.0, 1.0, 50.0, 50.0]),
        live=np.array([True, True, False, True]),
    )
    r = rules(
        delist_quality_threshold=0.3,
        investigation_base_prob_per_day=0.0,
        investigation_prob_per_excess_se=0.0,
    )
    action = enforce(**cols, rules=r, min_evidence=10.0, rng=np.random.default_rng(0))
    assert action.delist.tolist() == [0]
    assert action.investigated == 0 and action.convict.size == 0


def test_certain_investigation_convicts_the_guilty_and_appeals_overturn_wrong_convictions():
    r = rules(
        investigation_base_prob_per_day=1.0,
        conviction_prob=1.0,
        false_conviction_prob=1.0,
        appeal_prob_if_innocent=1.0,
        appeal_success_if_innocent=1.0,
        appeal_prob_if_guilty=1.0,
        appeal_success_if_guilty=0.0,
    )
    cols = arrays(2, cheating=np.array([True, False]))
    action = enforce(**cols, rules=r, min_evidence=10.0, rng=np.random.default_rng(0))
    assert action.investigated == 2
    assert action.convict.tolist() == [0]
    assert action.appeals_won.tolist() == [1]


def test_without_governance_nothing_is_enforced():
    r = rules(enabled=False, investigation_base_prob_per_day=1.0, conviction_prob=1.0)
    cols = arrays(3, cheating=np.ones(3, dtype=bool), est_quality=np.zeros(3))
    action = enforce(**cols, rules=r, min_evidence=0.0, rng=np.random.default_rng(0))
    assert action.investigated == 0 and action.convict.size == 0 and action.delist.size == 0


def test_enforcement_is_a_pure_function_of_its_inputs_and_draws():
    cols = arrays(50, cheating=np.arange(50) % 3 == 0, excess_se=np.linspace(0, 20, 50))
    r = rules(investigation_base_prob_per_day=0.3)
    a = enforce(**cols, rules=r, min_evidence=10.0, rng=np.random.default_rng(7))
    b = enforce(**cols, rules=r, min_evidence=10.0, rng=np.random.default_rng(7))
    assert a.investigated == b.investigated > 0
    np.testing.assert_array_equal(a.convict, b.convict)
    np.testing.assert_array_equal(cols["excess_se"], np.linspace(0, 20, 50))  # inputs unchanged
