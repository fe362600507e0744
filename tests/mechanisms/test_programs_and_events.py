"""Programs (traffic subsidies, newcomer support, merchant recovery plans) and calendar events
(shopping festivals, logistics shocks): each against the same market without it, on the same
pinned seed."""

from __future__ import annotations

import numpy as np
from market_runs import run

NO_EVENTS = "events=[]"
SHOCK = (
    "events=[{kind: logistics_shock, start_day: 5, end_day: 20, region_share: 1.0, "
    "extra_delivery_days: 4, extra_dissatisfied_prob: 0.3, capacity_multiplier: 0.5}]"
)
SHOCK_DAYS = slice(5, 20)


def traffic_subsidy(budget_yuan: float) -> str:
    return (
        "programs=[{kind: traffic_subsidy, name: subsidy, start_day: 5, end_day: 20, "
        f"budget_yuan: {budget_yuan}, boost: 1.5, "
        "target: {merchant_kinds: [small_business], categories: []}}]"
    )


NEWCOMER_SUPPORT = (
    "programs=[{kind: newcomer_support, name: support, start_day: 0, end_day: 29, "
    "budget_yuan: 1000000, boost: 2.0, newcomers: creators, max_age_days: 30}]"
)
CREATOR_ENTRY = "creators.entry_share_per_day=0.02"
RECOVERY_PLAN = (
    "programs=[{kind: recovery_plan, name: plan, start_day: 5, end_day: 25, "
    "budget_yuan: 1000000, boost: 0.0, target: {merchant_kinds: [], categories: []}, "
    "shocked_regions_only: true, payment_delay_days: 1, "
    "shipping_insurance_yuan_per_return: 10, commission_free: true}]"
)
PLAN_DAYS = slice(5, 25)


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------


def test_festival_brings_more_active_consumers_and_orders_on_its_days_only():
    """The tiny scenario's festival (days 20-21) raises active consumers and orders on its
    days; the days before it are exactly those of the same market without it."""
    festival = run()
    plain = run(NO_EVENTS)
    before, during = slice(0, 19), slice(20, 21)
    assert festival.days.gmv_yuan.loc[before].equals(plain.days.gmv_yuan.loc[before])
    assert (
        festival.days.active_consumers.loc[during] > plain.days.active_consumers.loc[during]
    ).all()
    assert festival.days.orders.loc[during].sum() > plain.days.orders.loc[during].sum()


def test_logistics_shock_brings_returns_complaints_stockouts_and_late_payouts():
    """A shock over every region: more returns and complaints (damaged, late orders), stock-outs
    (workshops at half capacity), fewer orders delivered and less cash paid out to merchants
    while it lasts."""
    shock = run(SHOCK).days.loc[SHOCK_DAYS]
    plain = run(NO_EVENTS).days.loc[SHOCK_DAYS]
    for column in ("returns", "complaints", "stockouts"):
        assert shock[column].sum() > plain[column].sum(), column
    assert shock.delivered.sum() < plain.delivered.sum()
    assert shock.flow_merchant_payout.sum() < plain.flow_merchant_payout.sum()


# --------------------------------------------------------------------------------------------
# Programs
# --------------------------------------------------------------------------------------------


def test_traffic_subsidy_raises_its_targets_gmv_only_while_it_is_on():
    """A traffic subsidy for small businesses raises their GMV, and it spends only between its
    start and end day."""
    subsidised = run(traffic_subsidy(1_000_000))
    plain = run()
    assert subsidised.total("gmv_kind_small_business_yuan") > plain.total(
        "gmv_kind_small_business_yuan"
    )
    spent = subsidised.days.subsidy_cost_yuan
    assert (spent.loc[5:20] > 0).all()
    assert spent.drop(index=range(5, 21)).eq(0).all()


def test_a_program_never_spends_beyond_its_budget():
    """With a budget smaller than what the subsidy would spend, it spends exactly the budget."""
    assert run(traffic_subsidy(1_000_000)).total("subsidy_cost_yuan") > 500
    assert np.isclose(run(traffic_subsidy(500)).total("subsidy_cost_yuan"), 500)


def test_newcomer_support_gives_new_creators_more_followers_and_income():
    """Boosting creators in their first month gives those who arrived after day 0 more
    followers and more income, on average, than the same market without the program."""

    def new_creators(r):
        return [c for c in r.model.creators if c.entry_day > 0 and c.owner is None]

    def followers(r):
        return np.mean([r.model.follows.followers[c.idx] for c in new_creators(r)])

    with_support, without = run(NEWCOMER_SUPPORT, CREATOR_ENTRY), run(CREATOR_ENTRY)
    assert new_creators(with_support) and new_creators(without)
    assert followers(with_support) > followers(without)
    assert np.mean([c.income_total_yuan for c in new_creators(with_support)]) > np.mean(
        [c.income_total_yuan for c in new_creators(without)]
    )


def test_recovery_plan_pays_faster_waives_commission_and_insures_returns():
    """Under a shock, a recovery plan pays merchants sooner (more payouts while it lasts),
    waives the take commission, pays shipping insurance on returns, and no more merchants leave
    than without it.

    Merchants' total profit is not compared: in the tiny market the commission the plan waives
    (about 5,000 yuan over its 20 days) are smaller than the spread of merchants' profit between seeds
    once the two runs diverge, and the merchants it keeps in business include loss-making
    ones (over seeds 0-5 its arm's profit was higher on four)."""
    plan = run(SHOCK, RECOVERY_PLAN).days.loc[PLAN_DAYS]
    without = run(SHOCK).days.loc[PLAN_DAYS]
    assert plan.flow_merchant_payout.sum() > without.flow_merchant_payout.sum()
    assert plan.flow_take_commission.sum() < without.flow_take_commission.sum()
    assert without.flow_shipping_subsidy.sum() == 0
    assert plan.flow_shipping_subsidy.sum() > 0
    assert plan.subsidy_cost_yuan.sum() > 0
    assert plan.merchant_exits.sum() <= without.merchant_exits.sum()
