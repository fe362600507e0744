"""Phase 11, record: merchants' profit of the day, the ledger checked, and the phases'
results gathered into the day's counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.day import DayCounts

if TYPE_CHECKING:
    from sim.agents.merchant import Merchant
    from sim.ledger import Ledger
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


def merchant_cash(merchants: list[Merchant], ledger: Ledger) -> np.ndarray:
    """Cash of every merchant ever present, by idx."""
    accounts = np.array([m.account for m in merchants], dtype=np.int64)
    return ledger.balances[accounts].copy()


def merchant_profit(
    merchants: list[Merchant], ledger: Ledger, cash_before: np.ndarray
) -> MerchantProfit:
    """Merchants' profit today: change of cash since ``cash_before`` (taken at the start of
    the day), less the starting capital entrants brought."""
    n_before = cash_before.size
    cash = merchant_cash(merchants, ledger)
    profit = cash - np.r_[cash_before, np.zeros(cash.size - n_before)]
    profit[n_before:] -= [m.initial_cash_yuan for m in merchants[n_before:]]
    violator = np.array([m.violator for m in merchants], dtype=bool)
    return MerchantProfit(float(profit[~violator].sum()), float(profit[violator].sum()))


def day_counts(
    entry_exit: EntryExit,
    matching: Matching,
    purchases: Purchases,
    settlement: Settlement,
    delivery: Delivery,
    governance: GovernanceDay,
    profit: MerchantProfit,
    listing: ListingDay,
    population: PopulationDay,
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
        live_sessions=settlement.live_sessions,
        live_gmv_own_yuan=settlement.live_gmv_own_yuan,
        live_gmv_creator_yuan=settlement.live_gmv_creator_yuan,
        max_session_gmv_yuan=settlement.max_session_gmv_yuan,
        max_session_capacity_days=settlement.max_session_capacity_days,
    )


def merchant_margin(purchases: Purchases, settlement: Settlement) -> float:
    """Merchants' sales today net of take rate and commission, less unit costs and traffic."""
    return purchases.margin_yuan - settlement.traffic_fee_yuan
