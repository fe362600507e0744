"""Phase 7, settlement: payments into escrow, traffic fees, program costs, content income,
and payouts of orders whose payment delay has passed (take rate, commission, MCN share,
merchant). Viewers who chose to follow a creator today are added to the follow graph."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import ledger as L
from sim.agents.platform import incremental_share
from sim.vocabulary import CHANNELS, MERCHANT_KINDS

if TYPE_CHECKING:
    from sim.agents.creator import Creator
    from sim.agents.merchant import Merchant
    from sim.agents.platform import Platform, TrafficSale
    from sim.catalog import Content, Listings
    from sim.config import Scenario
    from sim.events import DayConditions
    from sim.ledger import Ledger
    from sim.network import FollowGraph
    from sim.orders import ColumnTable
    from sim.phases.matching import Matching
    from sim.population import Population
    from sim.programs import Programs

N_CHANNELS = len(CHANNELS)


@dataclass(frozen=True)
class Settlement:
    orders: np.ndarray
    """(5,) orders placed per channel."""
    gmv_yuan: np.ndarray
    """(5,) GMV per channel."""
    gmv_by_kind_yuan: np.ndarray
    """(kinds,) GMV per merchant kind."""
    violator_gmv_yuan: float
    true_quality_gmv_yuan: float
    """Sum of price x true quality over the orders placed."""
    program_traffic_value_yuan: float
    """The traffic programs gave today, valued at CPM."""
    traffic_fee_yuan: float
    """What merchants paid for traffic today."""
    paid_impressions: float
    """Impressions delivered to paid traffic today (sums of paid shares)."""
    incremental_margin_yuan: float
    """Margin of the units paid traffic added today (counterfactual organic share, §7.11)."""
    follows_gained: int
    """Follows after viewing."""
    gmv_million_follower_creators_yuan: float = 0.0
    """GMV sold today through head creators (a million followers or more; see
    :data:`HEAD_CREATOR_SHARE`)."""


def settle(
    day: int,
    config: Scenario,
    orders: dict[str, np.ndarray],
    listings: Listings,
    traffic: TrafficSale,
    content: Content,
    matching: Matching,
    conditions: DayConditions,
    population: Population,
    merchants: list[Merchant],
    creators: list[Creator],
    platform: Platform,
    programs: Programs,
    ledger: Ledger,
    in_transit: ColumnTable,
    awaiting_payout: ColumnTable,
    follows: FollowGraph,
) -> Settlement:
    """``merchants`` and ``creators`` are every one ever made, by idx."""
    price = orders["price_yuan"]
    total = float(price.sum())
    ledger.transfer(L.CONSUMERS, L.ESCROW, total, "order_payment")
    ledger.hold(total)
    n_orders = np.bincount(orders["channel"], minlength=N_CHANNELS)
    gmv = np.bincount(orders["channel"], weights=price, minlength=N_CHANNELS)
    j = orders["listing"]
    by_kind = np.bincount(listings.kind[j], weights=price, minlength=len(MERCHANT_KINDS))
    violator_gmv = float(price[listings.violator[j]].sum())
    true_quality_gmv = float((price * listings.true_quality[j]).sum())

    shocked_regions = conditions.shocked_regions
    consumer = orders["consumer"]
    shocked = shocked_regions[population.region[consumer]] | shocked_regions[listings.region[j]]
    delivery = (
        day
        + config.consumers.experience.delivery_days
        + np.where(shocked, conditions.extra_delivery_days, 0)
        # A pre-sold order ships once it is made.
        + orders["ship_delay_days"]
    )
    in_transit.append(
        order_day=np.full(j.size, day),
        delivery_day=delivery,
        consumer=consumer,
        merchant=orders["merchant"],
        category=listings.category[j],
        creator=orders["creator"],
        channel=orders["channel"],
        price_yuan=price,
        take_rate=orders["take_rate"],
        commission_rate=orders["commission_rate"],
        true_quality=listings.true_quality[j],
        claimed_quality=listings.claimed_quality[j],
        violator=listings.violator[j],
        shock_dissatisfied_prob=np.where(shocked, conditions.extra_dissatisfied_prob, 0.0),
        recovery_program=listings.recovery_program[j],
        waived_take_rate=listings.waived_take_rate[j],
        impulse=orders["impulse"],
    )

    # Traffic fees: the paid part of each listing's impressions, at its auction price, within
    # budget; each buyer learns the units its traffic added.
    platform.observe_impressions(
        listings.merchant, matching.listing_impressions, matching.bought_paid, listings.category
    )
    billed = np.flatnonzero(matching.bought_paid > 0)
    sold = np.bincount(j, minlength=listings.n).astype(np.float64)
    added = sold * incremental_share(
        matching.listing_impressions, matching.bought_paid, listings.category, platform.k
    )
    platform.charge_traffic(
        [merchants[int(m)] for m in listings.merchant[billed]],
        matching.bought_paid[billed],
        traffic.price_cpm_yuan[billed],
        added[billed],
    )
    net_unit = np.divide(
        np.bincount(
            j,
            weights=price * (1 - orders["take_rate"] - orders["commission_rate"]),
            minlength=listings.n,
        ),
        sold,
        out=np.zeros(listings.n),
        where=sold > 0,
    )
    incremental_margin = float(
        (added[billed] * (net_unit[billed] - listings.unit_cost_yuan[billed])).sum()
    )
    # Traffic given by programs, valued at CPM, is charged to their budgets.
    cpm = config.platform.traffic.cpm_yuan / 1000.0
    before = programs.spent_today_yuan
    programs.charge_traffic(listings.program, matching.bought_listing_program * cpm)
    programs.charge_traffic(content.program, matching.bought_item_program * cpm)
    program_traffic_value = programs.spent_today_yuan - before
    traffic_fee = ledger.flow("traffic_fee")

    # Content income for impressions.
    rate = config.creators.content_income_yuan_per_1000_impressions / 1000.0
    earners = np.flatnonzero(matching.creator_impressions)
    if earners.size and rate > 0:
        pay = matching.creator_impressions[earners] * rate
        # An own account's income is its merchant's money.
        accounts = np.array([creators[c].payee_account for c in earners])
        ledger.transfer_many(L.PLATFORM, accounts, pay, "content_income")
        for c, amount in zip(earners, pay, strict=True):
            creators[c].receive(float(amount))
            creators[c].earn(float(amount))

    _count_creator_gmv(orders, creators)
    million_gmv = _million_follower_gmv(orders, follows.followers, content)

    # Commissions earned on today's sales, booked now and paid after delivery and the delay.
    owed = price * orders["commission_rate"]
    with_creator = (orders["creator"] >= 0) & (owed > 0)
    if with_creator.any():
        by_creator = np.bincount(
            orders["creator"][with_creator], weights=owed[with_creator], minlength=len(creators)
        )
        for c in np.flatnonzero(by_creator):
            creators[c].accrue_commission(float(by_creator[c]))

    _pay_out_due(day, awaiting_payout, merchants, creators, ledger)
    return Settlement(
        orders=n_orders,
        gmv_yuan=gmv,
        gmv_by_kind_yuan=by_kind,
        violator_gmv_yuan=violator_gmv,
        true_quality_gmv_yuan=true_quality_gmv,
        program_traffic_value_yuan=program_traffic_value,
        traffic_fee_yuan=traffic_fee,
        paid_impressions=float(matching.bought_paid.sum()),
        incremental_margin_yuan=incremental_margin,
        follows_gained=_follow_after_viewing(
            matching.follow_events, follows, config.consumers.initial_creator_trust
        ),
        gmv_million_follower_creators_yuan=million_gmv,
    )


HEAD_CREATOR_SHARE = 3000 / 733_000
"""Share of the day's selling creators who are head creators (头部, a million followers or
more): the 2024 Douyin e-commerce creator report counts over 560,000 small, 170,000 mid-tier and
3,000 head creators selling on an average day. Ranking by followers keeps the threshold the same
at any size of the modelled market."""


def _million_follower_gmv(
    orders: dict[str, np.ndarray], followers: np.ndarray, content: Content
) -> float:
    """GMV of today's orders through head creators: the top :data:`HEAD_CREATOR_SHARE` (at
    least one) by followers of the creators with content today. followers (C,)."""
    creator = orders["creator"]
    through = creator >= 0
    selling = np.unique(content.creator) if content.n else np.empty(0, np.int64)
    if not through.any() or not selling.size:
        return 0.0
    n_head = max(1, round(HEAD_CREATOR_SHARE * selling.size))
    threshold = np.sort(followers[selling])[-n_head]
    head = followers[creator[through]] >= threshold
    return float(orders["price_yuan"][through][head].sum())


def split_payment(
    price_yuan: np.ndarray, take_rate: np.ndarray, commission_rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A kept order's price split into the platform's take, the creator's commission and the
    merchant's rest, in float64 with the rest taken last. The commission never exceeds what
    the take leaves (rates stored as float32 can round above ``1 - take_rate``), so no part is
    negative and the parts add up to the price. All (m,)."""
    p = np.asarray(price_yuan, dtype=np.float64)
    take = p * np.asarray(take_rate, dtype=np.float64)
    left = p - take
    commission = np.minimum(p * np.asarray(commission_rate, dtype=np.float64), left)
    return take, commission, left - commission


def _count_creator_gmv(orders: dict[str, np.ndarray], creators: list[Creator]) -> None:
    """Creators' lifetime GMV: the orders placed through their content today."""
    creator = orders["creator"]
    price = orders["price_yuan"]
    through = creator >= 0
    if through.any():
        by_creator = np.bincount(creator[through], weights=price[through], minlength=len(creators))
        for c in np.flatnonzero(by_creator):
            creators[c].gmv_total_yuan += float(by_creator[c])


def _pay_out_due(
    day: int,
    awaiting_payout: ColumnTable,
    merchants: list[Merchant],
    creators: list[Creator],
    ledger: Ledger,
) -> None:
    """Payouts whose payment delay has passed: the take rate to the platform, commissions to
    creators (who pass their MCN's share on), the rest to merchants."""
    due = awaiting_payout.pop_due("due_day", day)
    if not due["price_yuan"].size:
        return
    p = due["price_yuan"]
    take, commission, rest = split_payment(p, due["take_rate"], due["commission_rate"])
    ledger.transfer(L.ESCROW, L.PLATFORM, float(take.sum()), "take_commission")
    has_creator = due["creator"] >= 0
    creator_ids = due["creator"][has_creator]
    creator_pay = np.bincount(creator_ids, weights=commission[has_creator], minlength=len(creators))
    payees = np.flatnonzero(creator_pay)
    ledger.transfer_many(
        L.ESCROW,
        np.array([creators[c].account for c in payees], dtype=np.int64),
        creator_pay[payees],
        "creator_commission",
    )
    merchant_pay = np.bincount(due["merchant"], weights=rest, minlength=len(merchants))
    paid = np.flatnonzero(merchant_pay)
    ledger.transfer_many(
        L.ESCROW,
        np.array([merchants[m].account for m in paid], dtype=np.int64),
        merchant_pay[paid],
        "merchant_payout",
    )
    ledger.release(float(p.sum()))
    for c in payees:
        creator = creators[c]
        creator.receive(float(creator_pay[c]))
        creator.pay_mcn_share(float(creator_pay[c]))


def _follow_after_viewing(follow_events: list, follows: FollowGraph, trust: float) -> int:
    if not follow_events:
        return 0
    consumers = np.concatenate([f[0] for f in follow_events])
    creators = np.concatenate([f[1] for f in follow_events])
    return follows.follow(consumers, creators, trust)
