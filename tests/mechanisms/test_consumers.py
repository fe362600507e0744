"""Consumers: what steers their buying, how experience moves their trust, loyalty and follows,
and when they leave. Most tests compare two runs of the tiny market on the same seed that
differ in one parameter, or in one change made to the built market before the first day."""

from __future__ import annotations

import numpy as np
import pytest
from market_runs import category, market, run

from sim.population import DORMANT, LEFT, ON_PLATFORM
from sim.recommenders import interest_exponent

SHORT = "steps=4"
"""Enough days for impressions and orders to respond to a purchase or attention parameter."""
WITH_DELIVERIES = "steps=8"
"""Enough days for orders to be delivered and experienced (delivery takes two days)."""


# --------------------------------------------------------------------------------------------
# What is bought
# --------------------------------------------------------------------------------------------


def _focus_even_consumers_on_books(model) -> None:
    """Even consumers put 90% of their interest in books; what the population derives from
    interest (the feed's sampling weight and the purchase logit's term) follows."""
    k = model.k
    focused = np.full(k, 0.1 / (k - 1))
    focused[category(model, "books")] = 0.9
    model.population.update_interest(slice(None, None, 2), focused, interest_exponent(model.config))


def test_consumers_with_interest_concentrated_in_a_category_buy_more_there():
    """Consumers whose latent interest is concentrated in books buy a larger share of books than
    the same consumers with their drawn interests, and than the other consumers."""
    plain = run(SHORT)
    focused = run(SHORT, setup=_focus_even_consumers_on_books)
    books = category(plain.model, "books")

    def books_share(orders, even: bool) -> float:
        mine = orders[(orders.consumer % 2 == 0) == even]
        return float((mine.category == books).mean())

    assert books_share(focused.orders, even=True) > 2 * books_share(plain.orders, even=True)
    assert books_share(focused.orders, even=True) > 2 * books_share(focused.orders, even=False)


def test_more_daily_attention_brings_more_impressions_and_orders():
    """Doubling the content items consumers see per day raises impressions and orders."""
    base = run(SHORT)
    more = run(SHORT, "consumers.attention_items_per_day_mean=24")
    assert more.total("impressions") > 1.5 * base.total("impressions")
    assert more.total("orders") > base.total("orders")


def test_smaller_budget_means_less_gmv():
    """A quarter of the daily budget cuts GMV (purchases stop when the budget is spent)."""
    base = run(SHORT)
    poorer = run(SHORT, "consumers.budget_yuan_per_day_median=15")
    assert poorer.total("gmv_yuan") < base.total("gmv_yuan")


def test_stronger_price_response_buys_fewer_listings_priced_above_reference():
    """A stronger price coefficient means fewer orders of listings priced above their category's
    reference price and a cheaper basket (lower mean log price ratio)."""
    base = run(SHORT)
    sensitive = run(SHORT, "consumers.purchase.price_coef=4")

    def log_ratio(r):
        o = r.orders
        return np.log(o.price_yuan / r.model.reference_price[o.category])

    assert (log_ratio(sensitive) > 0).sum() < (log_ratio(base) > 0).sum()
    assert log_ratio(sensitive).mean() < log_ratio(base).mean()


def test_explicit_needs_bring_more_search_and_mall_gmv():
    """Ten times the chance of an explicit need raises GMV in search and in the mall."""
    base = run(SHORT)
    needy = run(SHORT, "consumers.need_prob_per_day=0.3")
    assert needy.total("gmv_search_yuan") > 2 * base.total("gmv_search_yuan")
    assert needy.total("gmv_mall_yuan") > base.total("gmv_mall_yuan")


def _wary(model) -> None:
    model.population.platform_trust[:] = 0.4


def _trusting(model) -> None:
    model.population.platform_trust[:] = 0.9


def test_higher_platform_trust_brings_more_orders():
    """The same consumers order more when they trust the platform more (0.9 against 0.4)."""
    wary = run(SHORT, setup=_wary)
    trusting = run(SHORT, setup=_trusting)
    assert trusting.total("orders") > wary.total("orders")


def test_trust_in_followed_creators_raises_follow_feed_and_content_gmv():
    """Trust in a followed creator adds to the chance of buying what they present: with the
    creator-trust coefficient on, GMV from the following feed and from content rises."""
    content = ["gmv_feed_yuan", "gmv_live_yuan", "gmv_follow_yuan"]
    off = run(SHORT, "consumers.purchase.creator_trust_coef=0")
    on = run(SHORT, "consumers.purchase.creator_trust_coef=3")
    assert on.total("gmv_follow_yuan") > 1.5 * off.total("gmv_follow_yuan")
    assert sum(on.total(c) for c in content) > sum(off.total(c) for c in content)


def test_live_urgency_raises_live_gmv():
    """The live room's urgency (限时限量) raises live GMV."""
    calm = run(SHORT, "consumers.purchase.live_urgency_logit=0")
    urgent = run(SHORT, "consumers.purchase.live_urgency_logit=2")
    assert urgent.total("gmv_live_yuan") > 1.5 * calm.total("gmv_live_yuan")


# --------------------------------------------------------------------------------------------
# Experience: returns, complaints, trust, leaving
# --------------------------------------------------------------------------------------------


def test_violators_buyers_return_more_complain_more_and_trust_the_platform_less():
    """With most merchants violating, a larger share of delivered orders is returned and
    complained about, and consumers end up trusting the platform less."""
    honest = run(WITH_DELIVERIES, "merchants.honesty.forced_cheat_share=0")
    violating = run(WITH_DELIVERIES, "merchants.honesty.forced_cheat_share=0.8")

    def per_delivery(r, metric):
        return r.total(metric) / r.total("delivered")

    assert per_delivery(violating, "returns") > 1.5 * per_delivery(honest, "returns")
    assert per_delivery(violating, "complaints") > 1.5 * per_delivery(honest, "complaints")
    assert violating.last("mean_platform_trust") < honest.last("mean_platform_trust")


def test_impulse_buys_are_returned_more_so_live_returns_exceed_search_returns():
    """Search results always meet a need and live-room buys seldom do: raising the chance
    that a satisfied buyer returns an impulse buy (return_prob_if_impulse) raises the return
    rate of live purchases by about as much, and leaves that of search purchases as it was
    (the gap comes from the mix of impulse buys per channel, not from a rate per channel)."""
    same = run(WITH_DELIVERIES, "consumers.experience.return_prob_if_impulse=0.03")
    regretted = run(WITH_DELIVERIES, "consumers.experience.return_prob_if_impulse=0.3")

    def rise(channel):
        """The change of the channel's return rate, and three standard errors of it (the
        orders of the two runs differ once their returns differ)."""
        n = [r.total(f"deliveries_{channel}") for r in (same, regretted)]
        rate = [
            r.total(f"returns_{channel}") / k for r, k in zip((same, regretted), n, strict=True)
        ]
        pooled = (rate[0] * n[0] + rate[1] * n[1]) / (n[0] + n[1])
        return rate[1] - rate[0], 3 * np.sqrt(pooled * (1 - pooled) * (1 / n[0] + 1 / n[1]))

    live, live_noise = rise("live")
    search, search_noise = rise("search")
    assert live > 0.15 and live > live_noise
    assert abs(search) < search_noise


CLOSED = (
    "population.arrival_room_share=0",
    "consumers.churn_prob_per_day=0",
    "consumers.return_prob_per_day=0",
)
"""No arrivals, quiet departures or returns: who leaves after a bad order stays away."""
LEAVING = (WITH_DELIVERIES, "consumers.experience.leave_trust_threshold=0.9", *CLOSED)


def test_disappointed_buyers_below_the_trust_threshold_leave():
    """Disappointed buyers whose platform trust is below the threshold leave when the leave
    chance is 1 and never when it is 0; every leaver is counted once."""
    stay = run(*LEAVING, "consumers.experience.leave_prob=0")
    leave = run(*LEAVING, "consumers.experience.leave_prob=1")
    assert stay.total("consumers_left") == 0
    assert leave.total("consumers_left") > 0
    assert leave.total("consumers_left") == (~leave.model.population.on_platform).sum()


def test_buyers_above_the_trust_threshold_never_leave():
    """With a trust threshold of 0 nobody is below it, so nobody leaves whatever the chance."""
    r = run(
        WITH_DELIVERIES,
        "consumers.experience.leave_trust_threshold=0",
        "consumers.experience.leave_prob=1",
    )
    assert r.total("consumers_left") == 0
    assert r.total("dissatisfied") > 0


def test_consumers_who_left_are_never_matched_or_order_again():
    """After the day they left, a consumer never opens the app again (so is shown nothing) and
    places no order, while they were active before."""
    leave = run(*LEAVING, "consumers.experience.leave_prob=1")
    left = leave.left_day >= 0
    assert (leave.left_day[left] < leave.model.config.steps - 1).any()
    assert (leave.last_active_day[left] <= leave.left_day[left]).all()
    assert (leave.last_active_day[left] >= 0).all()
    orders = leave.orders
    left_on = leave.left_day[orders.consumer]
    assert not ((left_on >= 0) & (orders.day > left_on)).any()


def _everyone_leaves(model) -> None:
    model.population.set_status(model.population.rows_with(ON_PLATFORM), LEFT)


def test_consumers_off_the_platform_are_never_matched():
    """When every consumer has left, nobody is active and nothing is shown or sold."""
    gone = run(SHORT, *CLOSED, setup=_everyone_leaves)
    for metric in ("active_consumers", "impressions", "orders"):
        assert gone.total(metric) == 0, metric
    assert run(SHORT).total("impressions") > 0


def test_consumers_who_left_come_back_and_newcomers_fill_the_reserved_rows():
    """With a return chance of 1 everyone who left is back the next day; with arrivals every
    day the dormant rows fill and arrivals stop when they are used up."""
    back = run(SHORT, "consumers.return_prob_per_day=1", setup=_everyone_leaves)
    assert back.days["consumers_returned"].iloc[0] == back.model.config.population.consumers
    assert back.total("impressions") > 0
    closed = run(SHORT, "consumers.return_prob_per_day=0", setup=_everyone_leaves)
    assert closed.total("consumers_returned") == 0
    full = run(SHORT, "consumers.arrival_share_per_day=0.1", "population.arrival_room_share=0.2")
    room = full.model.population.n - full.model.config.population.consumers
    assert 0 < full.total("consumers_arrived") <= room
    assert (full.model.population.status != DORMANT).sum() == (
        full.model.config.population.consumers + full.total("consumers_arrived")
    )


# --------------------------------------------------------------------------------------------
# Follows and loyalty
# --------------------------------------------------------------------------------------------


def test_satisfied_buyers_follow_the_creator_who_sold_to_them():
    """When satisfied buyers always follow the creator whose content sold the item, more follows
    are gained than when they never do."""
    never = run(WITH_DELIVERIES, "consumers.experience.follow_after_satisfied_prob=0")
    always = run(WITH_DELIVERIES, "consumers.experience.follow_after_satisfied_prob=1")
    assert always.total("follows_gained") > 1.5 * never.total("follows_gained")


LOYALTY = (
    "steps=30",
    "consumers.need_prob_per_day=0.6",
    "consumers.results_per_need=1",
    "platform.traffic.ad_load_share=0",
    "creators.live.presale_days=0",
)
"""Needs are where a remembered merchant comes first, so they are made common; a need shows
one result, so a remembered listing takes the place of a ranked one. No paid traffic: the
auction's winners would concentrate the shelf on a few listings for every buyer, loyal or
not. No pre-sale: a favourite that owes pre-sold units has nothing in stock for its loyal
buyers until it has made them, in this market of 30 merchants a large share of the loyal
buyers' needs."""


def test_remembered_merchants_raise_repurchase_and_lower_new_customer_share():
    """When satisfied buyers remember the merchant and its listing comes first on their next
    need, more buyers repurchase and a smaller share of orders comes from new customers."""
    forgetful = run(
        *LOYALTY,
        "consumers.experience.favorite_after_satisfied_prob=0",
        "platform.shelf_ranking.loyalty_prob=0",
    )
    loyal = run(
        *LOYALTY,
        "consumers.experience.favorite_after_satisfied_prob=1",
        "platform.shelf_ranking.loyalty_prob=1",
    )

    def repurchase_rate(r):
        d = r.days
        return (d.repurchase_rate * d.buyers).sum() / d.buyers.sum()

    def new_customer_share(r):
        d = r.days
        return (d.new_customer_share * d.orders).sum() / d.orders.sum()

    assert repurchase_rate(loyal) > repurchase_rate(forgetful)
    assert new_customer_share(loyal) < new_customer_share(forgetful)


def test_first_orders_from_a_merchant_are_new_and_later_ones_are_repeat():
    """An order counts as a new customer's exactly when its buyer never bought from that merchant
    before (a second order from the same merchant is not new, an order from another merchant
    is); a buyer repurchases on a day when one of their orders is such a repeat."""
    r = run(
        *LOYALTY,
        "consumers.experience.favorite_after_satisfied_prob=1",
        "platform.shelf_ranking.loyalty_prob=1",
    )
    seen: set[tuple[int, int]] = set()
    repeats = 0
    for day, today in r.orders.groupby("day"):
        pairs = list(zip(today.consumer, today.merchant, strict=True))
        repeat = np.array([p in seen for p in pairs])
        assert r.days.loc[day, "new_customer_share"] == pytest.approx((~repeat).mean(), rel=1e-12)
        repurchasing = today.consumer[repeat].nunique() / today.consumer.nunique()
        assert r.days.loc[day, "repurchase_rate"] == pytest.approx(repurchasing, rel=1e-12)
        seen.update(pairs)
        repeats += repeat.sum()
    assert repeats > 0
    by_consumer = r.orders.groupby("consumer").merchant.nunique()
    assert (by_consumer > 1).any()


# --------------------------------------------------------------------------------------------
# Common random numbers
# --------------------------------------------------------------------------------------------


def test_consumer_population_parameters_leave_merchants_and_creators_unchanged():
    """Two markets on one seed that differ only in consumers' mean platform trust have the
    same merchants and creators."""
    a = market()
    b = market("consumers.platform_trust_mean=0.9")

    def merchants(model):
        return [(m.kind, m.category, m.price_yuan, m.true_quality) for m in model.merchants]

    def creators(model):
        return [(c.kind, c.skill, tuple(c.niche)) for c in model.creators]

    assert merchants(a) == merchants(b)
    assert creators(a) == creators(b)
