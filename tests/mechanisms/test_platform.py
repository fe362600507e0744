"""The platform: recommenders chosen by name, channels, the quality estimate learned from
feedback, take rates by category, traffic sales, governance and the guarantee fund."""

from __future__ import annotations

import numpy as np
import pytest
from market_runs import category, market, run

from sim.agents.platform import PRIOR_QUALITY
from sim.phases.matching import day_tables
from sim.vocabulary import LISTING_DELISTED

INTEREST_ONLY = "platform.recommender={kind: interest_only, temperature: 1.0}"
VIOLATORS = "merchants.honesty.forced_cheat_share=0.3"
NO_DELISTING = "platform.governance.delist_quality_threshold=0"
NO_PAID_RANKING = "platform.recommender.paid_weight=0"


def violator_gmv_share(r) -> float:
    d = r.days
    return float((d.violator_gmv_share * d.gmv_yuan).sum() / d.gmv_yuan.sum())


def est_quality(model, merchants) -> np.ndarray:
    return model.platform.est_quality(np.array([m.idx for m in merchants], dtype=np.int64))


# --------------------------------------------------------------------------------------------
# Recommenders and channels
# --------------------------------------------------------------------------------------------


ISOLATED = ("steps=12", VIOLATORS, NO_DELISTING, NO_PAID_RANKING)
"""Violators, and neither delisting (whose reset would hide what the estimate learned) nor
paid ranking (which violators, with their cheap goods, buy more of) in the way. Twelve days:
the estimate learns only from delivered orders (two days after purchase), and violators whose
listing was intercepted at screening come on the market days later."""


def test_quality_weighing_recommender_gives_violators_a_smaller_gmv_share():
    """Chosen by its registered name, interest_quality leaves violators a smaller share of GMV
    than interest_only."""
    quality = run(*ISOLATED)
    interest = run(*ISOLATED, INTEREST_ONLY)
    assert quality.model.config.platform.recommender.kind == "interest_quality"
    assert interest.model.config.platform.recommender.kind == "interest_only"
    assert violator_gmv_share(quality) < violator_gmv_share(interest)


def test_weight_on_estimated_quality_lowers_violators_gmv_share():
    """Within interest_quality, weighing the platform's quality estimate leaves violators a
    smaller share of GMV than ignoring it."""
    blind = run(*ISOLATED, "platform.recommender.quality_weight=0")
    weighing = run(*ISOLATED, "platform.recommender.quality_weight=4")
    assert violator_gmv_share(weighing) < violator_gmv_share(blind)


def test_disabling_live_removes_live_gmv():
    """Switching live rooms off leaves no live GMV while other channels still sell."""
    on = run("steps=4")
    off = run("steps=4", "platform.channels.live=false")
    assert on.total("gmv_live_yuan") > 0
    assert off.total("gmv_live_yuan") == 0
    assert off.total("gmv_yuan") > 0


def _largest_creator_share(model) -> float:
    """The largest share of a category's feed weight that one creator's feed items hold
    today, as a multiple of the mean creator's share there, over the categories."""
    last = model.last_day
    tables, _ = day_tables(
        model.config.platform, last.listings, last.content, model.reference_price, model.k
    )
    feed = tables.feed
    weight = np.empty(feed.order.size)
    weight[feed.order] = np.diff(feed.cumulative, prepend=0.0)
    in_feed = last.content.in_feed
    creator, category = last.content.creator, last.listings.category[last.content.listing]
    largest = 0.0
    for k in np.unique(category[in_feed]):
        in_k = in_feed & (category == k)
        per_creator = np.bincount(creator[in_k], weights=weight[in_k])
        mean_share = 1.0 / np.count_nonzero(per_creator)
        largest = max(largest, per_creator.max() / per_creator.sum() / mean_share)
    return largest


def test_the_exposure_cap_keeps_any_creator_below_it_in_every_category():
    """With platform.max_creator_weight_multiple = 1.5 no creator's items hold more than 1.5
    times the mean creator's share of a category's feed weight; without a cap one holds
    more."""
    free = _largest_creator_share(market("platform.max_creator_weight_multiple=null", days=3))
    capped = _largest_creator_share(market("platform.max_creator_weight_multiple=1.5", days=3))
    assert free > 1.5
    assert capped <= 1.5 + 1e-9


# --------------------------------------------------------------------------------------------
# Quality estimate
# --------------------------------------------------------------------------------------------


def with_feedback(model, merchants) -> list:
    """The merchants whose estimate rests on feedback as well as on the prior."""
    strength = model.config.platform.quality_prior_strength
    platform = model.platform
    return [m for m in merchants if platform.good[m.idx] + platform.bad[m.idx] > strength]


def test_quality_estimate_learns_that_violators_are_worse():
    """Every listing starts at the same prior estimate; after days of reviews, returns and
    complaints, live violators with feedback are estimated well below live honest merchants
    with feedback."""
    model = run(*ISOLATED).model
    live = with_feedback(model, [m for m in model.active_merchants() if m.listing.live])
    violators = [m for m in live if m.violator]
    honest = [m for m in live if not m.violator]
    assert violators and honest
    assert est_quality(model, violators).mean() < est_quality(model, honest).mean() - 0.1


def test_delisted_violators_are_not_estimated_above_honest_merchants():
    """On the day governance delists a violator as risky, its estimate is not above the mean
    estimate of live honest merchants with feedback."""
    model = market(VIOLATORS)
    days_compared = 0
    for _ in range(10):
        live_before = {m.idx for m in model.active_merchants() if m.listing.live}
        model.step()
        active = model.active_merchants()
        delisted_today = [
            m
            for m in active
            if m.violator and m.listing.state == LISTING_DELISTED and m.idx in live_before
        ]
        honest = with_feedback(model, [m for m in active if not m.violator and m.listing.live])
        if delisted_today and honest:
            days_compared += 1
            assert est_quality(model, delisted_today).max() <= est_quality(model, honest).mean()
    if not days_compared:
        pytest.fail("no violator was delisted")


def test_every_listing_starts_at_the_prior_estimate():
    """Before any feedback, the platform estimates every live listing at its prior."""
    model = run("steps=1").model
    live = [m for m in model.active_merchants() if m.listing.live]
    np.testing.assert_allclose(est_quality(model, live), PRIOR_QUALITY, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# Take rates and traffic
# --------------------------------------------------------------------------------------------

PAYOUTS = ("steps=5", "platform.payment_delay_days=0")
"""Kept orders pay out on delivery, so take commission flows within the run."""


def test_raising_a_categorys_take_rate_raises_take_commission_from_it():
    """Raising the take rate on books raises the take on books orders, the platform's take
    commission and its revenue, and leaves other categories' take rates as they were."""
    base = run(*PAYOUTS)
    dearer = run(*PAYOUTS, "platform.take_rate_by_category.books=0.3")
    books = category(base.model, "books")
    for r in (base, dearer):
        o = r.orders
        np.testing.assert_allclose(o.take_rate, r.model.platform.take_rates[o.category], rtol=1e-6)
    others = np.arange(base.model.k) != books
    assert dearer.model.platform.take_rates[books] > base.model.platform.take_rates[books]
    np.testing.assert_array_equal(
        dearer.model.platform.take_rates[others], base.model.platform.take_rates[others]
    )
    assert (dearer.orders.category == books).any()
    assert dearer.total("flow_take_commission") > base.total("flow_take_commission")
    assert dearer.total("platform_revenue_yuan") > base.total("platform_revenue_yuan")


TRAFFIC = "steps=8"


def test_paid_traffic_is_sold_by_auction_within_its_supply_and_reserve():
    """Without paid ranking no traffic fee is charged; with it merchants pay for traffic; a
    larger ad load sells more paid impressions and bills more; a reserve above every bid sells
    nothing; and no merchant's bill of a day exceeds its budget."""
    unpaid = run(
        TRAFFIC, "platform.recommender.paid_weight=0", "platform.shelf_ranking.paid_weight=0"
    )
    base = run(TRAFFIC)
    heavier = run(TRAFFIC, "platform.traffic.ad_load_share=0.4")
    reserved = run(TRAFFIC, "platform.traffic.reserve_cpm_yuan=100000")
    assert unpaid.total("flow_traffic_fee") == 0
    assert base.total("flow_traffic_fee") > 0
    assert heavier.total("traffic_paid_impressions") > base.total("traffic_paid_impressions")
    assert heavier.total("flow_traffic_fee") > base.total("flow_traffic_fee")
    assert reserved.total("flow_traffic_fee") == 0


# --------------------------------------------------------------------------------------------
# Governance and the guarantee fund
# --------------------------------------------------------------------------------------------


def test_stricter_governance_intercepts_more_and_leaves_violators_less_gmv():
    """A strict platform intercepts more listings at screening and violators sell a smaller
    share of GMV than under a lax one."""
    lax = run("steps=10", VIOLATORS, "platform.governance.strictness=0")
    strict = run("steps=10", VIOLATORS, "platform.governance.strictness=1")
    assert strict.total("gov_intercepted") > lax.total("gov_intercepted")
    assert violator_gmv_share(strict) < violator_gmv_share(lax)


GUARANTEE = ("steps=10", "merchants.honesty.forced_cheat_share=0.5")


def test_guarantee_fund_compensates_complainers():
    """With a compensation share of 0 the guarantee fund pays nothing; with 1 it pays buyers who
    complain, never more than the GMV delivered."""
    none = run(*GUARANTEE, "platform.guarantee_fund.compensation_share=0")
    full = run(*GUARANTEE, "platform.guarantee_fund.compensation_share=1")
    assert none.total("complaints") > 0
    assert none.total("guarantee_paid_yuan") == 0
    assert full.total("guarantee_paid_yuan") > 0
    assert full.total("guarantee_paid_yuan") < full.total("gmv_yuan")


def test_trust_loss_relief_keeps_platform_trust_higher():
    """When compensated buyers are spared their trust loss, consumers end with more trust in
    the platform than when they are not."""
    unrelieved = run(*GUARANTEE, "platform.guarantee_fund.trust_loss_relief=0")
    relieved = run(*GUARANTEE, "platform.guarantee_fund.trust_loss_relief=1")
    assert relieved.last("mean_platform_trust") > unrelieved.last("mean_platform_trust")
