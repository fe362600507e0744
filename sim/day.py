"""What one day produced: the day's counters, declared once with their metric, and the day's
record that the metrics and the recorder read.

Each counter is a field of :class:`DayCounts` (or of
:class:`GovernanceCounts`) with its unit, definition and whole-run
summary in the field's metadata; :mod:`sim.metrics` registers one metric per declared field,
so a counter and its metric cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.vocabulary import CHANNELS, MERCHANT_KINDS

if TYPE_CHECKING:
    from sim.catalog import Content, Listings
    from sim.events import DayConditions
    from sim.phases.interest import Woken

N_CHANNELS = len(CHANNELS)


@dataclass(frozen=True)
class CounterMetric:
    """How a counter is reported as a metric (see :class:`sim.metrics.Metric`)."""

    name: str
    unit: str
    definition: str
    summary: str | tuple[str, str] = "sum"
    weight: str | None = None


def counter(
    default: Any = 0,
    *,
    metric: str | None = None,
    unit: str = "",
    definition: str = "",
    summary: str | tuple[str, str] = "sum",
    weight: str | None = None,
):
    """A dataclass field that is a day counter; with ``metric`` it is also reported as that
    metric (name, unit, definition, summary as in :func:`sim.metrics.metric`)."""
    meta = (
        {"metric": CounterMetric(metric, unit, " ".join(definition.split()), summary, weight)}
        if metric
        else {}
    )
    if isinstance(default, np.ndarray):
        return field(default_factory=default.copy, metadata=meta)
    return field(default=default, metadata=meta)


def declared_metrics(cls) -> list[tuple[str, CounterMetric]]:
    """(field name, metric) for every field of a dataclass declared with a metric."""
    return [
        (f.name, f.metadata["metric"]) for f in dataclasses.fields(cls) if "metric" in f.metadata
    ]


@dataclass(frozen=True)
class DayCounts:
    """The day's counts, gathered from the phases' results by the record phase."""

    active_consumers: int = counter(
        metric="active_consumers",
        unit="consumers",
        definition="Consumers who opened the app that day (daily active). Over a run: the mean "
        "per day.",
        summary="mean",
    )
    impressions: np.ndarray = counter(np.zeros(N_CHANNELS, dtype=np.int64))
    """(5,) impressions per channel."""
    orders: np.ndarray = counter(np.zeros(N_CHANNELS, dtype=np.int64))
    """(5,) orders placed per channel (after budget and stock)."""
    gmv_yuan: np.ndarray = counter(np.zeros(N_CHANNELS))
    """(5,) GMV per channel."""
    gmv_by_kind_yuan: np.ndarray = counter(np.zeros(len(MERCHANT_KINDS)))
    """(kinds,) GMV per merchant kind, in the order of MERCHANT_KINDS."""
    violator_gmv_yuan: float = counter(0.0)
    new_customer_orders: int = counter()
    """Orders whose buyer had never bought from that merchant before."""
    buyers: int = counter(
        metric="buyers",
        unit="consumers",
        definition="Consumers who placed at least one order that day.",
    )
    repurchasing_buyers: int = counter()
    """Buyers with an order from a merchant they had bought from before."""
    intents: int = counter()
    """Purchase intents before stock rationing."""
    stockout_units: int = counter(
        metric="stockouts",
        unit="units",
        definition="Units wanted that day that could not be sold because stock ran out.",
    )
    stockouts_by_kind: np.ndarray = counter(np.zeros(len(MERCHANT_KINDS), dtype=np.int64))
    delivered: int = counter()
    """Orders delivered that day."""
    returns: int = counter(
        metric="returns", unit="orders", definition="Orders returned on delivery that day."
    )
    delivered_by_channel: np.ndarray = counter(np.zeros(N_CHANNELS, dtype=np.int64))
    """(5,) orders delivered that day, by the channel they were bought from."""
    returns_by_channel: np.ndarray = counter(np.zeros(N_CHANNELS, dtype=np.int64))
    """(5,) orders returned on delivery that day, by the channel they were bought from."""
    complaints: int = counter(
        metric="complaints", unit="complaints", definition="Complaints made on delivery that day."
    )
    dissatisfied: int = counter()
    """Delivered orders whose buyer was disappointed."""
    quality_gmv_yuan: float = counter(
        0.0,
        metric="quality_gmv_yuan",
        unit="yuan",
        definition="""Quality GMV (有质量的GMV): the price of orders delivered that day that the
        buyer kept (not returned) and that were sold by honest merchants (not violators).
        Counted on the delivery day, since only then is it known whether an order is kept.""",
    )
    consumer_surplus_yuan: float = counter(
        0.0,
        metric="consumer_surplus_yuan",
        unit="yuan",
        definition="""Value minus price of the orders delivered and kept that day, where a
        unit's value to its buyer is the category's reference price x (0.5 + true quality);
        returned orders count 0 (refunded).""",
    )
    consumers_left: int = counter(
        metric="consumers_left",
        unit="consumers",
        definition="Consumers who left the platform that day for good.",
    )
    merchant_entries: int = counter(
        metric="merchant_entries", unit="merchants", definition="Merchants that entered that day."
    )
    merchant_exits: int = counter(
        metric="merchant_exits",
        unit="merchants",
        definition="Merchants that left that day: bankrupt (cash below the credit limit) or "
        "removed by governance.",
    )
    violator_exits: int = counter(
        metric="merchant_exits_violator",
        unit="merchants",
        definition="Violators among the day's merchant exits.",
    )
    creator_entries: int = counter(
        metric="creator_entries",
        unit="creators",
        definition="Independent creators that started that day.",
    )
    creator_exits: int = counter(
        metric="creator_exits",
        unit="creators",
        definition="Independent creators that quit that day.",
    )
    follows_gained: int = counter()
    """New follows: after viewing content, and after a satisfying purchase."""
    follows_lost: int = counter()
    """Unfollows after a disappointing purchase."""
    merchant_profit_honest_yuan: float = counter(
        0.0,
        metric="merchant_profit_honest_yuan",
        unit="yuan",
        definition="merchant_profit_accrual_yuan of honest merchants.",
    )
    merchant_profit_violator_yuan: float = counter(
        0.0,
        metric="merchant_profit_violator_yuan",
        unit="yuan",
        definition="merchant_profit_accrual_yuan of violators.",
    )
    merchant_cash_flow_yuan: float = counter(0.0)
    """Change of all merchants' cash, less entrants' starting capital."""
    merchant_profit_by_kind_yuan: np.ndarray = counter(np.zeros(len(MERCHANT_KINDS)))
    """(kinds,) accrual profit per merchant kind."""
    merchant_entries_by_kind: np.ndarray = counter(np.zeros(len(MERCHANT_KINDS), dtype=np.int64))
    """(kinds,) entrants per merchant kind."""
    merchant_exits_by_kind: np.ndarray = counter(np.zeros(len(MERCHANT_KINDS), dtype=np.int64))
    """(kinds,) merchants of each kind that left (bankrupt, exited or removed)."""
    potential_merchant_entrants: int = counter(
        metric="merchant_potential_entrants",
        unit="merchants",
        definition="""Potential merchant entrants who looked at the market that day: those who
        entered and those who stayed out (§7.17).""",
    )
    paid_impressions: float = counter(
        0.0,
        metric="traffic_paid_impressions",
        unit="impressions",
        definition="""Impressions delivered to paid traffic that day: for each impression, the
        share owed to the paid log-weight, summed.""",
    )
    traffic_incremental_margin_yuan: float = counter(
        0.0,
        metric="traffic_incremental_margin_yuan",
        unit="yuan",
        definition="""Margin (net revenue less unit cost) of the units paid traffic added that
        day, against the counterfactual organic share of each listing (§7.11).""",
    )
    launches: int = counter(
        metric="launches",
        unit="products",
        definition="Products launched (put through screening) that day.",
    )
    cheating_launches: int = counter()
    entrant_launches: int = counter(
        metric="first_launches",
        unit="products",
        definition="Merchants' first products launched that day.",
    )
    cheating_entrant_launches: int = counter()
    convictions_honest: int = counter(
        metric="convictions_honest",
        unit="convictions",
        definition="Convictions (after appeals) of merchants whose product was honest: wrong "
        "convictions.",
    )
    convictions_cheating: int = counter(
        metric="convictions_cheating",
        unit="convictions",
        definition="Convictions (after appeals) of merchants whose product cheated.",
    )
    honest_removed: int = counter(
        metric="honest_merchants_removed",
        unit="merchants",
        definition="Merchants removed by governance whose product was honest.",
    )
    fines_yuan: float = counter(
        0.0,
        metric="fines_yuan",
        unit="yuan",
        definition="Fines the platform levied that day (reported apart from its commission "
        "revenue).",
    )
    fines_on_honest_yuan: float = counter(
        0.0,
        metric="fines_on_honest_yuan",
        unit="yuan",
        definition="Fines levied on merchants whose product was honest.",
    )
    guarantee_recovered_yuan: float = counter(
        0.0,
        metric="guarantee_recovered_yuan",
        unit="yuan",
        definition="What the guarantee fund recovered from the deposits of merchants whose "
        "cheating products it compensated buyers for.",
    )
    true_quality_gmv_yuan: float = counter(0.0)
    """Sum over the day's orders of price x true quality (for the GMV-weighted quality)."""
    merchant_margin_yuan: float = counter(0.0)
    """Merchants' sales net of take rate and commission, less unit costs and traffic fees."""
    program_traffic_value_yuan: float = counter(0.0)
    """The traffic programs gave today, valued at CPM."""
    new_customer_orders_by_channel: np.ndarray = counter(np.zeros(N_CHANNELS, dtype=np.int64))
    """(5,) orders from new customers per channel."""
    consumers_arrived: int = counter(
        metric="consumers_arrived",
        unit="consumers",
        definition="""Consumers who joined the platform that day for the first time: a base
        share of those on it plus word of mouth from the previous day's feed and live
        impressions (consumers.arrival_share_per_day, consumers.arrivals_per_1000_impressions).""",
    )
    consumers_returned: int = counter(
        metric="consumers_returned",
        unit="consumers",
        definition="Consumers who had left the platform and came back that day.",
    )
    consumers_churned: int = counter(
        metric="consumers_churned",
        unit="consumers",
        definition="""Consumers who stopped using the platform that day without a disappointing
        order (consumers.churn_prob_per_day); consumers_left counts those who left after one.""",
    )
    live_sessions: int = counter(
        metric="live_sessions",
        unit="sessions",
        definition="""Live sessions held that day: creators (merchants' own accounts included)
        who went live for a session they had announced creators.live.lead_days before, one
        session each, presenting every offer they carry.""",
    )
    live_gmv_own_yuan: float = counter(
        0.0,
        metric="live_gmv_own_account_yuan",
        unit="yuan",
        definition="Session GMV of merchants' own accounts (自播) on their own goods.",
    )
    live_gmv_creator_yuan: float = counter(
        0.0,
        metric="live_gmv_creator_yuan",
        unit="yuan",
        definition="Session GMV through independent creators (达人带货).",
    )
    max_session_gmv_yuan: float = counter(
        0.0,
        metric="max_session_gmv_yuan",
        unit="yuan",
        definition="""GMV of the day's best-selling live session (orders placed in its room).
        Over a run: the record session (the maximum over days).""",
        summary="max",
    )
    max_session_capacity_days: float = counter(
        0.0,
        metric="max_session_capacity_days",
        unit="days",
        definition="""Most units of one merchant's product sold in one live session that day,
        in days of that merchant's daily capacity. Over a run: the maximum over days.""",
        summary="max",
    )
    gmv_million_follower_creators_yuan: float = counter(
        0.0,
        metric="gmv_million_follower_creators_yuan",
        unit="yuan",
        definition="""GMV sold that day through head creators (头部, a million followers or more):
        the top 3,000 in 733,000 (0.41%, at least one) by followers of the creators with content
        that day, the head's share of the creators selling on an average day in the 2024 Douyin
        e-commerce creator report.""",
    )
    session_gmv_yuan: float = counter(
        0.0,
        metric="session_gmv_yuan",
        unit="yuan",
        definition="""GMV of orders placed in live sessions' rooms: through a creator live that
        day, from the live channel, and (with creators.live.feed_entries, when every item of
        the creator's day leads into its room) from the feed and the following feed.""",
    )
    live_viewers: int = counter(
        metric="live_viewers",
        unit="visits",
        definition="""Visits of live sessions' rooms that day: impressions of their items from
        the live channel, the feed's room entries and the following feed.""",
    )
    session_stockout_units: int = counter(
        metric="session_stockouts",
        unit="units",
        definition="Units asked for in live sessions that day that stock could not fill.",
    )
    featured_offers: int = counter(
        metric="featured_offers",
        unit="offers",
        definition="Offers featured in the day's live sessions (announced and presented), "
        "one per session and offer.",
    )
    featured_offers_stocked_out: int = counter(
        metric="featured_offers_stocked_out",
        unit="offers",
        definition="Featured offers whose session asked for more units than stock filled.",
    )
    prestocked_units: int = counter(
        metric="prestocked_units",
        unit="units",
        definition="""Units merchants produced that day for live sessions announced to feature
        them, beyond their usual stock target.""",
    )
    presold_units: int = counter(
        metric="presold_units",
        unit="units",
        definition="""Units sold that day on pre-sale (creators.live.presale_days): ordered in a live
        session beyond the merchant's stock, shipped once made.""",
    )
    interest_woken: int = counter(
        metric="interest_woken",
        unit="consumers",
        definition="""Consumers whose latent interest in a category was woken that day by an
        impression a program added
        (consumers.interest_wake_prob_per_program_impression).""",
    )


@dataclass(frozen=True)
class GovernanceCounts:
    """The day's governance actions; false positives are actions that hit honest merchants."""

    intercepted: int = counter(
        metric="gov_intercepted",
        unit="actions",
        definition="Listings stopped by screening before going live (拦截). Counted per day.",
    )
    banned: int = counter(
        metric="gov_banned",
        unit="actions",
        definition="Products banned after an investigation proved a violation (封禁). Counted "
        "per day.",
    )
    delisted: int = counter(
        metric="gov_delisted",
        unit="actions",
        definition="Risky products delisted for low estimated quality (下架). Counted per day.",
    )
    penalized: int = counter(
        metric="gov_penalized",
        unit="actions",
        definition="Merchants fined after a conviction (处罚). Counted per day.",
    )
    removed: int = counter(
        metric="gov_removed",
        unit="actions",
        definition="Merchants removed from the platform after repeated convictions (清退). "
        "Counted per day.",
    )
    false_positives: int = counter(
        metric="gov_false_positives",
        unit="actions",
        definition="Governance actions of any kind that hit an honest merchant. Counted per day.",
    )
    warnings: int = counter(
        metric="gov_warnings",
        unit="actions",
        definition="Convictions that warned the merchant (below the fine rung of the ladder; "
        "the product is banned for rectification). Counted per day.",
    )
    suspended: int = counter(
        metric="gov_suspended",
        unit="actions",
        definition="Convictions that suspended the merchant from listing for suspension_days. "
        "Counted per day.",
    )
    appeals_won: int = counter(
        metric="gov_appeals_won",
        unit="actions",
        definition="Convictions overturned on appeal (no strike, ban or fine). Counted per day.",
    )
    investigations: int = counter(
        metric="gov_investigations",
        unit="investigations",
        definition="Merchants investigated that day (spot checks and excess complaint or "
        "return rates).",
    )
    screened: int = counter(
        metric="gov_screened",
        unit="listings",
        definition="Listings (SKUs) of product launches screened that day.",
    )

    def __add__(self, other: GovernanceCounts) -> GovernanceCounts:
        return GovernanceCounts(
            **{
                f.name: getattr(self, f.name) + getattr(other, f.name)
                for f in dataclasses.fields(self)
            }
        )


@dataclass(frozen=True)
class Day:
    """The record of one simulated day: what the metrics and the recorder read."""

    day: int
    conditions: DayConditions
    listings: Listings
    content: Content
    counts: DayCounts
    governance: GovernanceCounts
    listing_impressions: np.ndarray
    """(L,) impressions per listing today, over all channels."""
    active: np.ndarray
    """(n,) bool: which consumers opened the app today."""
    subsidy_spent_yuan: float
    """What programs spent today."""
    units_sold: np.ndarray
    """(M,) units each merchant sold today (filled orders), by merchant idx."""
    feedback: dict[str, np.ndarray]
    """Per merchant idx, (M,) each: today's good and bad reviews, returns, complaints and
    deliveries (sim.phases.delivery.FEEDBACK)."""
    orders: dict[str, np.ndarray]
    """Today's filled orders (sim.phases.purchase.Purchases.orders), (o,) each column."""
    woken: Woken
    """Whose latent interest programs woke today, in which category."""
