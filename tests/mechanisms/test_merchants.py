"""Merchants: selling through their own account and through creators, buying traffic, what
violators are, how they adapt price, commission and traffic budget, bankruptcy and entry, and
stock that runs out. Reviews are checked on a built market by calling ``Merchant.review``;
everything else compares two runs of the tiny market on one seed."""

from __future__ import annotations

import numpy as np
import pytest
from market_runs import market, run

from sim.agents.merchant import PeriodStats

SHORT = "steps=4"
WITH_DELIVERIES = "steps=8"
KINDS = ("brand", "new_brand", "small_business", "rural_producer", "heritage_craft", "publisher")
INDEPENDENT_KINDS = ("mega_influencer", "general", "knowledge", "new_farmer")


def every_kind(key: str, value) -> list[str]:
    return [f"merchants.kinds.{k}.{key}={value}" for k in KINDS]


# --------------------------------------------------------------------------------------------
# Own accounts and creators
# --------------------------------------------------------------------------------------------


def test_without_own_accounts_nothing_is_sold_through_them():
    """With an own-account share of 0 (and no service provider to open one) no merchant has an
    own account and every content sale goes through an independent creator; by default some
    sales go through own accounts."""
    default = run(SHORT)
    none = run(SHORT, *every_kind("own_account_share", 0), "population.service_providers=0")

    def own_account_orders(r) -> int:
        own = [c.idx for c in r.model.creators if c.owner is not None]
        return int(r.orders.creator.isin(own).sum())

    assert all(m.own_account is None for m in none.model.merchants)
    assert all(c.owner is None for c in none.model.creators)
    assert own_account_orders(none) == 0
    assert (none.orders.creator >= 0).any()
    assert own_account_orders(default) > 0


def test_commission_is_paid_only_for_sales_through_independent_creators():
    """When only merchants' own accounts make content, content still sells but no creator
    commission flows; when independent creators make content too, it does."""
    quick = ("steps=5", "platform.payment_delay_days=0")
    silent = [
        f"creators.kinds.{k}.{key}=0"
        for k in INDEPENDENT_KINDS
        for key in ("videos_per_day", "lives_per_week")
    ]
    own_only = run(*quick, *every_kind("own_account_share", 1), *silent)
    both = run(*quick, *every_kind("own_account_share", 1))
    content = ("gmv_feed_yuan", "gmv_live_yuan", "gmv_follow_yuan")
    assert sum(own_only.total(c) for c in content) > 0
    assert own_only.total("flow_take_commission") > 0
    assert own_only.total("flow_creator_commission") == 0
    assert both.total("flow_creator_commission") > 0


# --------------------------------------------------------------------------------------------
# Bought traffic
# --------------------------------------------------------------------------------------------

TRAFFIC_BUDGET_YUAN = 300.0


def traffic_buyer(model):
    """The merchant whose traffic budget the traffic tests set: the first honest one."""
    return next(m for m in model.merchants if not m.violator)


def _one_merchant_buys_traffic(model) -> None:
    traffic_buyer(model).traffic_budget_yuan = TRAFFIC_BUDGET_YUAN


def test_bought_traffic_costs_fees_and_brings_the_buyer_more_impressions():
    """A merchant with a traffic budget pays traffic fees (within its budget) and gets more
    impressions than with none; without budgets nobody pays."""
    # No budgets but the one set; five days end before the first review changes budgets.
    no_budgets = ("steps=5", "merchants.traffic_budget_share=0")
    without = run(*no_budgets)
    with_ = run(*no_budgets, setup=_one_merchant_buys_traffic)
    buyer = traffic_buyer(with_.model)
    assert without.total("flow_traffic_fee") == 0
    assert 0 < buyer.period.traffic_yuan <= TRAFFIC_BUDGET_YUAN * 5
    assert with_.total("flow_traffic_fee") == pytest.approx(buyer.period.traffic_yuan)
    assert with_.impressions[buyer.idx] > without.impressions[buyer.idx]


# --------------------------------------------------------------------------------------------
# Violators
# --------------------------------------------------------------------------------------------


def test_violators_have_low_true_quality_and_claim_high_quality():
    """Violators' true quality is below honest merchants' while they claim more, so the gap
    between claim and truth is wider for every violator than for any honest merchant."""
    model = market("merchants.honesty.forced_cheat_share=0.5", days=1)
    violators = [m for m in model.merchants if m.violator]
    honest = [m for m in model.merchants if not m.violator]
    assert violators and honest
    assert np.mean([m.true_quality for m in violators]) < np.mean([m.true_quality for m in honest])
    assert np.mean([m.claimed_quality for m in violators]) > np.mean(
        [m.claimed_quality for m in honest]
    )
    gap = {m.idx: m.claimed_quality - m.true_quality for m in model.merchants}
    assert min(gap[m.idx] for m in violators) > max(gap[m.idx] for m in honest)


# --------------------------------------------------------------------------------------------
# Strategy reviews
# --------------------------------------------------------------------------------------------


def reviewed(
    direction: float, last_profit: float | None, margin_ema: float | None = None, **period
):
    """A merchant of a freshly built market after one strategy review of a period with the
    given statistics, heading in ``direction`` (price and commission) since its last review
    (with ``margin_ema`` as its recent daily gross margin, else one that leaves its budget
    uncapped). Returns the merchant before and after, as (price, commission, traffic budget)
    pairs."""
    model = market()
    m = model.merchants[0]
    m.margin_ema = 1e9 if margin_ema is None else margin_ema
    m.price_direction = m.commission_direction = direction
    m.last_profit = last_profit
    interval = model.config.merchants.learning.review_interval_days
    m.period = PeriodStats(days=interval - 1, **period)
    before = m.price_yuan, m.commission_rate, m.traffic_budget_yuan
    m.review()
    return before, (m.price_yuan, m.commission_rate, m.traffic_budget_yuan)


def test_price_rises_after_stock_outs():
    """A merchant that was cutting its price keeps cutting after a period without stock-outs,
    but raises it after a period in which half the demand found no stock."""
    calm = dict(units_demanded=100, units_sold=100, revenue_yuan=1000.0)
    short = dict(units_demanded=100, units_sold=50, stockout_units=50, revenue_yuan=1000.0)
    (price, _, _), (price_calm, _, _) = reviewed(-1.0, None, **calm)
    _, (price_short, _, _) = reviewed(-1.0, None, **short)
    assert price_calm < price < price_short


def test_price_and_commission_hill_climbing_reverses_when_profit_falls():
    """A merchant raising price and commission keeps raising them while profit rises and
    lowers both once profit falls below the last period's."""
    (price, commission, _), (price_up, commission_up, _) = reviewed(
        1.0, 1000.0, revenue_yuan=1500.0
    )
    _, (price_down, commission_down, _) = reviewed(1.0, 1000.0, revenue_yuan=500.0)
    assert price_down < price < price_up
    assert commission_down < commission < commission_up


def test_traffic_budget_grows_when_incremental_sales_pay_and_shrinks_when_not():
    """With a binding budget, the budget grows after a period whose incremental sales earned
    more margin than the traffic cost (beyond the target return) and shrinks after one where
    they earned less; it never exceeds its cap, a share of the recent daily gross margin."""
    # 100 units sold at 10 yuan of net revenue over a unit cost the merchant's own.
    model = market()
    m = model.merchants[0]
    unit_cost = m.unit_cost_yuan
    sales = dict(units_sold=100, revenue_yuan=100 * (unit_cost + 10.0))
    spend = dict(traffic_yuan=100.0, traffic_budget_yuan=100.0, **sales)
    rich = 1e9  # a gross margin so high the cap does not bind

    def budget_after(incremental_units: float, margin_ema: float = rich) -> tuple[float, float]:
        before, after = reviewed(
            1.0, None, incremental_units=incremental_units, margin_ema=margin_ema, **spend
        )
        return before[2], after[2]

    budget, paid_off = budget_after(30.0)  # 300 yuan of margin for 100 of traffic
    _, lost = budget_after(5.0)  # 50 yuan of margin for 100 of traffic
    share = model.config.merchants.traffic.budget_margin_cap
    margin = paid_off / (2 * share)  # a recent margin whose cap is half the grown budget
    _, capped = budget_after(30.0, margin_ema=margin)
    assert budget > 0
    assert lost < budget < paid_off
    cap = share * margin
    assert capped <= cap < paid_off


# --------------------------------------------------------------------------------------------
# Exit and entry
# --------------------------------------------------------------------------------------------


def test_merchants_go_bankrupt_when_overheads_exhaust_their_cash():
    """With overheads of 3000 yuan a day, merchants run out of cash and exit as bankrupt; each
    of them was below the credit limit when it left (its deposit came back to it then)."""
    base = run("steps=6")
    costly = run("steps=6", *every_kind("fixed_cost_yuan_per_day", 3000))
    bankrupt = [m for m in costly.model.merchants if m.status == "bankrupt"]
    assert costly.total("merchant_exits") > base.total("merchant_exits")
    assert len(bankrupt) > 0
    limit = costly.model.config.merchants.credit_limit_yuan
    deposit = costly.model.config.platform.guarantee_fund.deposit_yuan
    assert all(m.cash_yuan - deposit < -limit for m in bankrupt)
    assert all(not m.active for m in bankrupt)


ENTRY = (WITH_DELIVERIES, "merchants.entry_share_per_day=0.2")


def entrants(r) -> list:
    return [m for m in r.model.merchants if m.entry_day > 0]


def test_new_merchants_enter_while_the_market_pays():
    """With a positive entry share merchants enter; with none, none do."""
    closed = run(WITH_DELIVERIES, "merchants.entry_share_per_day=0")
    open_ = run(*ENTRY)
    assert closed.total("merchant_entries") == 0
    assert open_.total("merchant_entries") > 0
    assert len(entrants(open_)) == open_.total("merchant_entries")


def test_cohort_retention_counts_the_first_days_merchants_only():
    """Costly overheads make merchants leave while entry brings others in: the day-0 cohort's
    retention falls with the exits, and the entrants (in business or not) do not count, so
    it is not one minus exits over the first day's merchants."""
    costly = run(*ENTRY, *every_kind("fixed_cost_yuan_per_day", 3000))
    first = [m for m in costly.model.merchants if m.entry_day <= 0]
    staying = sum(m.exit_day is None for m in first)
    assert len(entrants(costly)) > 0 and staying < len(first)
    assert costly.last("merchant_cohort_retention") == pytest.approx(staying / len(first))
    assert run(*ENTRY).last("merchant_cohort_retention") > costly.last("merchant_cohort_retention")


def test_a_forced_cheating_share_of_1_or_0_makes_every_or_no_launch_cheat():
    """The experimenter's switch: with forced_cheat_share 1 every product launched cheats
    (entrants' first products included); with 0, none does."""
    all_cheat = run(*ENTRY, "merchants.honesty.forced_cheat_share=1")
    none_cheat = run(*ENTRY, "merchants.honesty.forced_cheat_share=0")
    launched = [m for m in entrants(all_cheat) if m.launches]
    assert launched and entrants(none_cheat)
    assert all(m.cheating_launches == m.launches for m in launched)
    assert not any(m.cheating_launches for m in none_cheat.model.merchants)


NO_INSTITUTIONS = (
    "steps=20",
    "platform.governance.enabled=false",
    "platform.reputation.visible=false",
    "platform.guarantee_fund.enabled=false",
)


def cheating_share(r) -> float:
    """Share of every product launched in the run that cheated."""
    merchants = r.model.merchants
    return sum(m.cheating_launches for m in merchants) / max(sum(m.launches for m in merchants), 1)


def test_merchants_without_scruples_cheat_more_when_nothing_stops_them():
    """Cheating is a choice: with no institutions, merchants who feel no scruples cheat with
    more of their products than merchants whose scruples cost them the whole price."""
    shameless = run(*NO_INSTITUTIONS, "merchants.honesty.scruple_median=0")
    scrupulous = run(*NO_INSTITUTIONS, "merchants.honesty.scruple_median=1")
    assert cheating_share(shameless) > 0.3
    assert cheating_share(scrupulous) < 0.05


def test_visible_store_scores_and_governance_deter_cheating():
    """With governance, store scores and the guarantee fund, merchants cheat with fewer of
    their products than with none of them: the institutions deter, not only catch."""
    bare = run(*NO_INSTITUTIONS, "merchants.honesty.scruple_median=0.02")
    governed = run("steps=20", "merchants.honesty.scruple_median=0.02")
    assert cheating_share(governed) < cheating_share(bare)


# --------------------------------------------------------------------------------------------
# Stock
# --------------------------------------------------------------------------------------------


def test_demand_beyond_capacity_is_rationed_and_counted_as_stockouts():
    """With a capacity of about one unit a day, demand exceeds stock: stock-outs are counted,
    and no listing ever sells more units in a day than it had in stock and on pre-sale (zero
    but on a live session's day)."""
    model = market(*every_kind("capacity_units_per_day_median", 1), "steps=4")
    stockouts = 0
    for _ in range(model.config.steps):
        model.step()
        listings = model.listings
        placed = model.in_transit["order_day"] == model.day - 1
        j = listings.merchant_to_listing[model.in_transit["merchant"][placed]]
        assert (j >= 0).all()
        sold = np.bincount(j, minlength=listings.n)
        assert (sold <= listings.stock + listings.presale_units).all()
        stockouts += model.metrics["stockouts"]
    assert stockouts > 0
    assert stockouts > run(SHORT).total("stockouts")
