"""Phase 11, record: merchants' profit of the day, the ledger checked, and the phases'
results gathered into the day's counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.day import DayCounts
from sim.vocabulary import MERCHANT_KINDS

if TYPE_CHECKING:
    from sim.agents.merchant import Merchant
    from sim.ledger import Ledger
    from sim.live import SessionRecord
    from sim.orders import ColumnTable
    from sim.phases.delivery import Delivery
    from sim.phases.entry_exit import EntryExit
    from sim.phases.governance import GovernanceDay
    from sim.phases.listing import ListingDay
    from sim.phases.matching import Matching
    from sim.phases.population import PopulationDay
    from sim.phases.purchase import Purchases
    from sim.phases.settlement import Settlement


@dataclass(frozen=True)
class MerchantProfit:
    honest_yuan: float
    violator_yuan: float
    by_kind_yuan: np.ndarray
    """(kinds,) accrual profit per merchant kind, in the order of MERCHANT_KINDS."""
    per_merchant_yuan: np.ndarray
    """(M,) each merchant's accrual profit today, by idx."""


def merchant_equity(
    merchants: list[Merchant],
    ledger: Ledger,
    in_transit: ColumnTable,
    awaiting_payout: ColumnTable,
) -> np.ndarray:
    """What every merchant ever present owns, by idx (§7.17): cash, plus stock valued at unit
    cost, plus receivables: the net revenue ``price x (1 - take rate - commission rate)`` of
    its orders in escrow (in transit or awaiting payout), which it will be paid unless they
    are returned."""
    n = len(merchants)
    accounts = np.array([m.account for m in merchants], dtype=np.int64)
    equity = ledger.balances[accounts].copy()
    equity += np.array([m.stock * m.unit_cost_yuan for m in merchants], dtype=np.float64)
    for table in (in_transit, awaiting_payout):
        if len(table):
            net = table["price_yuan"] * (1 - table["take_rate"] - table["commission_rate"])
            equity += np.bincount(table["merchant"], weights=net, minlength=n)[:n]
    return equity


def merchant_profit(merchants: list[Merchant], equity_before: np.ndarray, equity: np.ndarray):
    """Merchants' accrual profit today: the change of what they own since ``equity_before``
    (taken at the start of the day); an entrant's starts from its starting capital less its
    sunk cost of entry. Each merchant in business books its own."""
    n_before = equity_before.size
    start = np.array([m.initial_cash_yuan - m.entry_cost_yuan for m in merchants[n_before:]])
    profit = equity - np.r_[equity_before, start]
    violator = np.array([m.violator for m in merchants], dtype=bool)
    kind = np.array([MERCHANT_KINDS.index(m.kind) for m in merchants], dtype=np.int64)
    for m in merchants:
        if m.active:
            m.book_day(float(profit[m.idx]))
    return MerchantProfit(
        float(profit[~violator].sum()),
        float(profit[violator].sum()),
        np.bincount(kind, weights=profit, minlength=len(MERCHANT_KINDS)),
        profit,
    )


def merchant_cash(merchants: list[Merchant], ledger: Ledger) -> np.ndarray:
    """Cash of every merchant ever present, by idx."""
    accounts = np.array([m.account for m in merchants], dtype=np.int64)
    return ledger.balances[accounts].copy()


def merchant_cash_flow(merchants: list[Merchant], ledger: Ledger, cash_before: np.ndarray) -> float:
    """Change of all merchants' cash since ``cash_before``, less entrants' starting capital."""
    cash = merchant_cash(merchants, ledger)
    return float(
        cash.sum()
        - cash_before.sum()
        - sum(m.initial_cash_yuan for m in merchants[cash_before.size :])
    )


def exits_by_kind(merchants: list[Merchant], day: int) -> np.ndarray:
    """(kinds,) merchants of each kind that left today."""
    out = np.zeros(len(MERCHANT_KINDS), dtype=np.int64)
    for m in merchants:
        if m.exit_day == day:
            out[MERCHANT_KINDS.index(m.kind)] += 1
    return out


def day_counts(
    entry_exit: EntryExit,
    matching: Matching,
    purchases: Purchases,
    settlement: Settlement,
    delivery: Delivery,
    governance: GovernanceDay,
    profit: MerchantProfit,
    cash_flow_yuan: float,
    exits_by_kind: np.ndarray,
    listing: ListingDay,
    population: PopulationDay,
    sessions: SessionRecord,
    prestocked_units: int,
    interest_woken: int,
) -> DayCounts:
    return DayCounts(
        active_consumers=matching.active_consumers,
        impressions=matching.impressions,
        orders=settlement.orders,
        gmv_yuan=settlement.gmv_yuan,
        gmv_by_kind_yuan=settlement.gmv_by_kind_yuan,
        violator_gmv_yuan=settlement.violator_gmv_yuan,
        new_customer_orders=purchases.new_customer_orders,
        buyers=purchases.buyers,
        repurchasing_buyers=purchases.repurchasing_buyers,
        intents=purchases.intents,
        stockout_units=purchases.stockout_units,
        stockouts_by_kind=purchases.stockouts_by_kind,
        delivered=delivery.delivered,
        returns=delivery.returns,
        delivered_by_channel=delivery.delivered_by_channel,
        returns_by_channel=delivery.returns_by_channel,
        complaints=delivery.complaints,
        dissatisfied=delivery.dissatisfied,
        quality_gmv_yuan=delivery.quality_gmv_yuan,
        consumer_surplus_yuan=delivery.consumer_surplus_yuan,
        consumers_left=delivery.consumers_left,
        merchant_entries=entry_exit.merchant_entries,
        merchant_exits=entry_exit.merchant_exits + governance.merchant_exits,
        violator_exits=entry_exit.violator_exits + governance.violator_exits,
        creator_entries=entry_exit.creator_entries,
        creator_exits=entry_exit.creator_exits,
        follows_gained=settlement.follows_gained + delivery.follows_gained,
        follows_lost=delivery.follows_lost,
        merchant_profit_honest_yuan=profit.honest_yuan,
        merchant_profit_violator_yuan=profit.violator_yuan,
        merchant_cash_flow_yuan=cash_flow_yuan,
        merchant_profit_by_kind_yuan=profit.by_kind_yuan,
        merchant_entries_by_kind=entry_exit.merchant_entries_by_kind,
        merchant_exits_by_kind=exits_by_kind,
        potential_merchant_entrants=entry_exit.potential_entrants,
        paid_impressions=settlement.paid_impressions,
        traffic_incremental_margin_yuan=settlement.incremental_margin_yuan,
        merchant_margin_yuan=merchant_margin(purchases, settlement),
        program_traffic_value_yuan=settlement.program_traffic_value_yuan,
        launches=listing.launches,
        cheating_launches=listing.cheating_launches,
        entrant_launches=listing.entrant_launches,
        cheating_entrant_launches=listing.cheating_entrant_launches,
        convictions_honest=governance.convictions_honest,
        convictions_cheating=governance.convictions_cheating,
        honest_removed=governance.honest_removed,
        fines_yuan=governance.fines_yuan,
        fines_on_honest_yuan=governance.fines_on_honest_yuan,
        guarantee_recovered_yuan=delivery.guarantee_recovered_yuan,
        true_quality_gmv_yuan=settlement.true_quality_gmv_yuan,
        new_customer_orders_by_channel=purchases.new_customer_orders_by_channel,
        consumers_arrived=population.arrived,
        consumers_returned=population.returned,
        consumers_churned=population.churned,
        live_sessions=sessions.sessions,
        live_gmv_own_yuan=sessions.gmv_own_yuan,
        live_gmv_creator_yuan=sessions.gmv_creator_yuan,
        max_session_gmv_yuan=sessions.max_gmv_yuan,
        max_session_capacity_days=sessions.max_capacity_days,
        gmv_million_follower_creators_yuan=settlement.gmv_million_follower_creators_yuan,
        session_gmv_yuan=sessions.gmv_yuan,
        live_viewers=sessions.viewers,
        session_stockout_units=sessions.stockout_units,
        featured_offers=sessions.featured_offers,
        featured_offers_stocked_out=sessions.featured_stocked_out,
        prestocked_units=prestocked_units,
        presold_units=purchases.presold_units,
        interest_woken=interest_woken,
    )


def merchant_margin(purchases: Purchases, settlement: Settlement) -> float:
    """Merchants' sales today net of take rate and commission, less unit costs and traffic."""
    return purchases.margin_yuan - settlement.traffic_fee_yuan
