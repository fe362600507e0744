"""Stylized facts of live sessions and programs: a session sells what its merchant stocked for
it, the record session sells a month of its merchant's output, and a traffic program creates
demand as well as diverting it."""

from __future__ import annotations

import numpy as np

from sim.checks.base import Scale, Verdict, arm, arm_with_spending, case, mean_of
from sim.programme_effect import split_by_program_days, split_program_gmv, split_woken_spend

NO_PRESTOCK = ("creators.live.prestock=false",)
NO_PRESALE = ("creators.live.presale_days=0",)
"""Pre-stocking is measured without pre-sale: pre-sale sells beyond stock what pre-stocking
would have stocked, so with it the record no longer shows what the stock built for a session
sold."""
RURAL_SUBSIDY = (
    "programs=[{kind: traffic_subsidy, name: 山货上头条, start_day: 0, end_day: 100000, "
    "budget_yuan: 200000, boost: 1.5, target: {merchant_kinds: [rural_producer], "
    "categories: []}}]"
)
"""The rural-goods subsidy of scenarios/rural_goods.yaml with no end day. It stops when its
200,000 yuan are spent: at the check's full scale between counted days 126 and 212 (seed
indices 0-2), in the quick version's 120 days not before the end."""
NO_WAKING = ("consumers.interest_wake_prob_per_program_impression=0",)


def _record(runs, metric: str) -> float:
    return mean_of(runs, lambda r: float(r[metric].max()))


def _total(runs, metric: str) -> float:
    return mean_of(runs, lambda r: float(r[metric].sum()))


@case(
    "live_sessions_sell_what_was_stocked_for_them",
    "with merchants pre-stocking for announced sessions, the record session sells more days of "
    "its merchant's capacity than when merchants only hold their usual stock (both without "
    "pre-sale, which sells beyond stock)",
    "One live stream sold over 400,000 yuan, three months of a factory's offline output, and "
    "the factory worked overtime to supply it (000): a session sells many days of output when "
    "the stock was built for it before.",
)
def sessions_sell_stock(scale: Scale) -> Verdict:
    scale = scale.for_many_merchants
    on, off = arm(scale, *NO_PRESALE), arm(scale, *NO_PRESTOCK, *NO_PRESALE)
    days_on, days_off = (_record(r, "max_session_capacity_days") for r in (on, off))
    out_on, out_off = (_total(r, "session_stockouts") for r in (on, off))
    figure = (
        f"record session {days_on:.1f} vs {days_off:.1f} days of its merchant's capacity, "
        f"session stock-outs {out_on:,.0f} vs {out_off:,.0f} units, "
        f"{_total(on, 'prestocked_units'):,.0f} units pre-stocked (with vs without pre-stocking)"
    )
    return Verdict(figure, days_on > days_off and _total(on, "prestocked_units") > 0)


MONTH_DAYS = 30


@case(
    "a_session_sells_a_month_of_output",
    f"the record live session sells more than a month ({MONTH_DAYS} days) of its merchant's "
    "capacity (mean over the seeds of each run's record)",
    "One rural live stream sold over 400,000 yuan of fermented tofu, about three months of a "
    "small factory's offline output, and the factory worked overtime to supply it (000).",
)
def a_session_sells_a_month(scale: Scale) -> Verdict:
    runs = arm(scale.for_many_merchants)
    records = [float(r["max_session_capacity_days"].max()) for r in runs]
    figure = (
        f"record session {np.mean(records):.1f} days of its merchant's capacity (per seed "
        + ", ".join(f"{d:.1f}" for d in records)
        + f"); record session GMV {_record(runs, 'max_session_gmv_yuan'):,.0f} yuan"
    )
    return Verdict(figure, bool(np.mean(records) > MONTH_DAYS))


@case(
    "programs_create_demand",
    "a traffic subsidy's GMV is not pure diversion: while the subsidy runs its merchants sell "
    "more than without it, and over the run the market's GMV with the subsidy is higher when "
    "the subsidy's impressions can wake latent interest than when they cannot (the new GMV "
    "the woken demand adds, above zero by two standard errors over the paired seeds); the "
    "figure splits the subsidy's GMV into new and diverted, while it ran and after",
    "Programs such as 山货上头条 and 看见手艺 reach consumers who had not looked for the goods "
    "(000, 003); the split of a program's GMV into new and diverted is by common random "
    "numbers: the same seeds with and without the program.",
)
def programs_create_demand(scale: Scale) -> Verdict:
    # The woken demand is a small part of the market's GMV: the quick version needs the
    # larger, longer market of the rare-events cases to see it through the noise.
    scale = scale.for_rare_events
    served = "gmv_kind_rural_producer_yuan"
    awake, asleep = (
        arm_with_spending(scale, RURAL_SUBSIDY),
        arm_with_spending(scale, RURAL_SUBSIDY, *NO_WAKING),
    )
    awake_tables, asleep_tables = [t for t, _ in awake], [t for t, _ in asleep]
    # What the subsidy did while it ran, apart from what its end left behind: once its budget
    # is spent the served merchants' GMV carries after-effects of its own (docs/MODEL.md §7.27).
    split = split_by_program_days(awake_tables, arm(scale), served)
    woken = split_program_gmv(awake_tables, asleep_tables, served)
    # Consumer by consumer: do the woken buy more in all, and what does it cost the others?
    spending = split_woken_spend([s for _, s in awake], [s for _, s in asleep])
    figure = (
        f"rural subsidy: {split.describe()}; waking latent interest adds "
        f"{woken.new_gmv_yuan:,.0f} yuan of GMV (se {woken.new_gmv_se_yuan:,.0f} over the "
        f"paired seeds): {spending.describe()}; the woken "
        f"{'buy' if spending.the_woken_buy_more else 'do not buy'} more in all by two "
        f"standard errors"
    )
    return Verdict(figure, split.while_on.program_gmv_yuan > 0 and woken.new_gmv_is_positive)
