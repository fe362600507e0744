"""Live sessions as events (docs/MODEL.md §7.26) and programs that create demand (§7.27): each
against the same market without the mechanism, on the same pinned seed."""

from __future__ import annotations

import numpy as np
from conftest import tiny_config
from market_runs import category, run

from sim.agents.merchant import MIN_MARKUP
from sim.model import MarketModel

NO_PRESTOCK = "creators.live.prestock=false"
RURAL_SUBSIDY = (
    "programs=[{kind: traffic_subsidy, name: subsidy, start_day: 0, end_day: 29, "
    "budget_yuan: 1000000, boost: 2.0, target: {merchant_kinds: [rural_producer], "
    "categories: []}}]"
)
NO_WAKING = "consumers.interest_wake_prob_per_program_impression=0"


def test_sessions_are_held_as_announced_ahead():
    """Every session held was announced: a creator goes live only on a day it booked, and
    the calendar holds the sessions of the lead window (none in the past)."""
    model = MarketModel(tiny_config("steps=6"))
    lead = model.config.creators.live.lead_days
    for _ in range(6):
        booked = {s.creator for s in model.live_schedule.sessions_on(model.day)}
        model.step()
        live = set(np.unique(model.last_day.content.creator[model.last_day.content.is_live]))
        assert live <= booked
        days = set(model.live_schedule.by_day)
        assert min(days) > model.day - 1 and max(days) <= model.day - 1 + max(lead, 30)
    assert model.last_day.counts.live_sessions > 0


def test_session_gmv_splits_into_own_account_and_creator_sessions():
    """Conserved: session GMV is own-account plus creator session GMV, every day, and never
    more than the day's GMV; the record session is at most the day's session GMV."""
    days = run().days
    np.testing.assert_allclose(
        days["session_gmv_yuan"],
        days["live_gmv_own_account_yuan"] + days["live_gmv_creator_yuan"],
        rtol=1e-9,
    )
    assert (days["session_gmv_yuan"] <= days["gmv_yuan"] + 1e-6).all()
    assert (days["max_session_gmv_yuan"] <= days["session_gmv_yuan"] + 1e-6).all()
    assert days["live_gmv_own_account_yuan"].sum() > 0 and days["live_gmv_creator_yuan"].sum() > 0


def test_prestocking_builds_stock_for_sessions():
    """Featured merchants produce ahead for announced sessions; without it, nothing is
    pre-stocked."""
    with_, without = run(), run(NO_PRESTOCK)
    assert with_.total("prestocked_units") > 0
    assert without.total("prestocked_units") == 0


def test_a_merchant_stocks_up_for_a_session_within_capacity_and_overtime():
    """The same merchant on the same day produces more when a session it is featured in is
    due tomorrow, but never more than capacity plus overtime, and pays for what it makes."""
    model = MarketModel(tiny_config("steps=3"))
    for _ in range(3):
        model.step()
    cover = model.config.merchants.learning.stock_cover_days
    # A merchant with cash and with room left under its capacity on a plain day.
    merchant = next(
        m
        for m in model.active_merchants()
        if m.cash_yuan > 1000 and cover * max(m.demand_ema, 1.0) < m.capacity - 1
    )
    merchant.stock = 0
    cash = merchant.cash_yuan
    merchant.produce(1.0, [])
    plain = merchant.stock
    merchant.stock = 0
    merchant.produce(1.0, [(1, 10_000.0)])
    most = int(merchant.capacity) + int(merchant.capacity * merchant.cfg.capacity.overtime_share)
    assert plain < merchant.stock <= most
    assert merchant.prestocked_today == merchant.stock - plain
    assert merchant.cash_yuan < cash


def test_a_session_that_cannot_draw_feed_traffic_sells_less():
    """Switching off the feed's entries into the rooms shrinks what sessions sell."""
    on, off = run(), run("creators.live.feed_entries=false")
    assert off.total("session_gmv_yuan") < on.total("session_gmv_yuan")
    assert off.total("live_viewers") < on.total("live_viewers")


def test_the_limited_time_price_is_a_discount_above_the_floor():
    model = MarketModel(tiny_config("steps=1"))
    merchant = model.merchants[0]
    merchant.price_yuan = 100.0
    merchant.unit_cost_yuan = 50.0
    assert merchant.session_price_yuan(0.1) == 90.0
    assert merchant.session_price_yuan(0.9) == MIN_MARKUP * 50.0
    # The floor leaves 5% over unit cost after the take rate and commission.
    assert merchant.session_price_yuan(0.5, 0.05, 0.2) == MIN_MARKUP * 50.0 / 0.75
    merchant.price_yuan = 50.0  # already below the floor: no cut
    assert merchant.session_price_yuan(0.1) == 50.0


def test_stock_for_sessions_is_built_just_in_time():
    """What a merchant must hold now for sessions ahead: what it cannot make before them."""
    model = MarketModel(tiny_config("steps=1"))
    merchant = model.merchants[0]
    merchant.demand_ema = 0.0
    rate = 10.0 * (1 + merchant.cfg.capacity.overtime_share)
    assert merchant.session_stock_units([], 10.0) == 0.0
    assert merchant.session_stock_units([(0, 50.0)], 10.0) == 50.0
    assert merchant.session_stock_units([(2, 50.0)], 10.0) == max(0.0, 50.0 - 2 * rate)
    both = merchant.session_stock_units([(5, 100.0), (1, 20.0)], 10.0)
    assert both == max(20.0 - rate, 120.0 - 5 * rate)


def test_program_impressions_wake_latent_interest_in_the_category():
    """A subsidy for rural producers wakes viewers' interest in their categories; with the
    waking off, none is woken and interest in produce ends lower."""
    awake, asleep = run(RURAL_SUBSIDY), run(RURAL_SUBSIDY, NO_WAKING)
    assert awake.total("interest_woken") > 0
    assert asleep.total("interest_woken") == 0
    produce = category(awake.model, "produce")

    def interest(r):
        return float(r.model.population.interest[:, produce].mean())

    assert interest(awake) > interest(asleep)


PRESALE = "creators.live.presale_days=30"


def test_a_merchant_presells_what_it_can_make_in_the_window_less_what_it_owes():
    model = MarketModel(tiny_config("steps=1"))
    merchant = model.merchants[0]
    merchant.capacity = 10.0
    output = 10 + int(10.0 * merchant.cfg.capacity.overtime_share)
    merchant.stock = 5
    assert merchant.units_owed == 0
    assert merchant.presale_units(0) == 0
    assert merchant.presale_units(4) == int(4 * output)
    merchant.stock = -int(3 * output)  # three days of output owed already
    assert merchant.presale_units(4) == int(4 * output) - int(3 * output)
    assert merchant.presale_units(2) == 0
    # The k-th unit pre-sold today ships once the units owed and k more are made.
    days = merchant.presale_ship_days(np.array([1, int(output), int(output) + 1]))
    owed = merchant.units_owed
    np.testing.assert_array_equal(
        days, np.ceil((owed + np.array([1, int(output), int(output) + 1])) / output)
    )
    assert days[0] >= 3 and np.all(np.diff(days) >= 0)


def test_presold_orders_ship_late_and_their_merchant_makes_them():
    """With pre-sale, sessions sell beyond stock: those orders are delivered later than the
    usual delivery time, in order of the places they were sold at, and the merchant's stock
    below zero is made up by production (no unit is owed for ever)."""
    model = MarketModel(tiny_config(PRESALE, "steps=60"))
    usual = model.config.consumers.experience.delivery_days
    presold, late = 0, 0
    for _ in range(40):
        model.step()
        counts = model.last_day.counts
        presold += counts.presold_units
        transit = model.in_transit
        today = transit["order_day"] == model.day - 1
        late += int((transit["delivery_day"][today] > model.day - 1 + usual).sum())
    assert presold > 0
    assert late >= presold  # every pre-sold order (and those of shocked regions) ships late
    # Production makes up what is owed first, at capacity and overtime a day: with no more
    # sales, every debt of units is cleared within the days its ship dates promised.
    owing = [m for m in model.active_merchants() if m.units_owed > 0]
    assert owing
    for merchant in owing:
        promised = int(merchant.presale_ship_days(np.array([0]))[0])
        for _ in range(promised):
            merchant.produce()
        assert merchant.units_owed == 0


def test_presale_lets_the_record_session_sell_more_of_its_merchants_output():
    on, off = run(PRESALE), run("creators.live.presale_days=0")
    assert off.total("presold_units") == 0
    assert on.total("presold_units") > 0
    assert on.days["max_session_capacity_days"].max() > off.days["max_session_capacity_days"].max()
