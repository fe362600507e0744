"""Merchants (商家): sell one product line at a time, through creators, their own account and
search/mall; set price, commission and traffic budget; produce to a stock target; exit when
cash runs out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import ledger as L
from sim.arrays import ema

if TYPE_CHECKING:
    from sim.model import MarketModel

# Listing states
LIVE = "live"
PREPARING = (
    "preparing"  # no live listing; a new one is being prepared (after a ban or interception)
)
DELISTED = "delisted"  # the platform took the product down for a while

MIN_MARKUP = 1.05
"""A merchant never prices below 5% over unit cost."""


@dataclass
class PeriodStats:
    """What a merchant saw since its last strategy review."""

    days: int = 0
    units_sold: int = 0
    returned_units: int = 0
    units_demanded: int = 0
    stockout_units: int = 0
    creator_units: int = 0
    paid_units: float = 0.0
    """Units sold owed to paid traffic (each sale counts its impression's paid share)."""
    revenue_yuan: float = 0.0
    """Order value net of take rate and commission, for orders placed in the period."""
    cost_yuan: float = 0.0
    """Unit cost of the units sold, plus overheads, traffic and fees paid in the period."""
    traffic_yuan: float = 0.0
    paid_margin_yuan: float = 0.0

    @property
    def profit_yuan(self) -> float:
        return self.revenue_yuan - self.cost_yuan


class Merchant(mesa.Agent):
    """One merchant. ``idx`` indexes every per-merchant array in the model."""

    def __init__(
        self,
        model: MarketModel,
        *,
        idx: int,
        kind: str,
        category: int,
        region: int,
        violator: bool,
        true_quality: float,
        claimed_quality: float,
        unit_cost_yuan: float,
        price_yuan: float,
        commission_rate: float,
        capacity_units_per_day: float,
        traffic_budget_yuan_per_day: float,
        fixed_cost_yuan_per_day: float,
        cash_yuan: float,
    ):
        super().__init__(model)
        self.idx = idx
        self.kind = kind
        self.category = category
        self.region = region
        self.violator = violator
        self.true_quality = true_quality
        self.claimed_quality = claimed_quality
        self.unit_cost_yuan = unit_cost_yuan
        self.price_yuan = price_yuan
        self.commission_rate = commission_rate
        self.capacity = capacity_units_per_day
        self.traffic_budget_yuan = traffic_budget_yuan_per_day
        self.fixed_cost_yuan = fixed_cost_yuan_per_day
        self.entry_day = model.day
        self.exit_day: int | None = None
        self.initial_cash_yuan = cash_yuan
        self.status = "active"  # active | bankrupt | removed
        self.listing = PREPARING
        self.product_id = 0
        self.relist_day = model.day
        self.delisted_until = -1
        self.stock = 0
        self.strikes = 0
        self.demand_ema = 0.25 * capacity_units_per_day
        self.demand_today = 0
        self.own_account = None  # a Creator, when the merchant sells on its own account
        self.provider = None  # a ServiceProvider running that account
        self.cold_start_until = -1
        self.period = PeriodStats()
        self.last_profit: float | None = None
        self.price_direction = 1.0
        self.commission_direction = 1.0
        self.sales_total = 0
        self.returns_total = 0
        self.revenue_total_yuan = 0.0
        self.account = model.ledger.open_account(f"merchant:{idx}")
        model.ledger.transfer(L.OUTSIDE, self.account, cash_yuan, "capital")

    # ------------------------------------------------------------------------------------------

    @property
    def cash_yuan(self) -> float:
        return self.model.ledger.balance(self.account)

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def is_live(self) -> bool:
        return self.active and self.listing == LIVE

    def take_rate(self) -> float:
        return self.model.platform.take_rate_for(self)

    # phase 2: exit ----------------------------------------------------------------------------

    def check_solvency(self) -> bool:
        """Exit when cash is below the credit limit. Returns True if the merchant left."""
        if self.cash_yuan < -self.model.config.merchants.credit_limit_yuan:
            self.leave("bankrupt")
            return True
        return False

    def leave(self, status: str) -> None:
        """Leave the market (``bankrupt`` or ``removed``); counted in the day's exits."""
        self.model.today.merchant_exits += 1
        self.model.today.violator_exits += int(self.violator)
        self.status = status
        self.listing = PREPARING
        self.exit_day = self.model.day
        if self.own_account is not None:
            self.own_account.leave()
        if self.provider is not None:
            self.provider.release(self)
        self.remove()

    # phase 3: listing and production ----------------------------------------------------------

    def prepare_listing(self) -> None:
        """Bring a listing live: back from delisting, or a new product through screening."""
        day = self.model.day
        if self.listing == DELISTED and day >= self.delisted_until:
            self.listing = LIVE
        if self.listing == PREPARING and day >= self.relist_day:
            self.product_id += 1
            if self.model.platform.screen_listing(self):
                self.listing = LIVE
                self.model.platform.reset_quality_estimate(self)
            else:
                # Retry on day d + delay: the listing misses exactly relist_delay_days days.
                self.relist_day = day + self.model.config.platform.governance.relist_delay_days

    def produce(self, capacity_multiplier: float = 1.0) -> None:
        """Produce towards ``stock_cover_days`` of expected demand, within capacity (times
        ``capacity_multiplier``, below 1 in a shocked region); pay costs."""
        cover = self.model.config.merchants.learning.stock_cover_days
        target = cover * max(self.demand_ema, 1.0)
        units = int(min(self.capacity * capacity_multiplier, max(0.0, target - self.stock)))
        if units > 0:
            cost = units * self.unit_cost_yuan
            self.model.ledger.transfer(self.account, L.OUTSIDE, cost, "production_cost")
            self.stock += units
        self.model.ledger.transfer(self.account, L.OUTSIDE, self.fixed_cost_yuan, "fixed_cost")
        self.period.cost_yuan += self.fixed_cost_yuan

    # phase 6-7: sales -------------------------------------------------------------------------

    def record_sales(
        self, units: int, demanded: int, creator_units: int, paid_units: float, net_revenue: float
    ) -> None:
        p = self.period
        p.units_sold += units
        p.units_demanded += demanded
        p.stockout_units += demanded - units
        p.creator_units += creator_units
        p.paid_units += paid_units
        p.revenue_yuan += net_revenue
        p.cost_yuan += units * self.unit_cost_yuan
        if units:
            p.paid_margin_yuan += paid_units * (net_revenue / units - self.unit_cost_yuan)
        self.stock -= units
        self.sales_total += units
        self.revenue_total_yuan += units * self.price_yuan
        self.demand_today += demanded

    def record_returns(self, units: int, net_revenue_lost_yuan: float) -> None:
        """Delivered units that came back: their revenue is refunded (the goods are lost)."""
        self.period.revenue_yuan -= net_revenue_lost_yuan
        self.period.returned_units += units
        self.returns_total += units

    def record_cost(self, amount_yuan: float, traffic: bool = False) -> None:
        self.period.cost_yuan += amount_yuan
        if traffic:
            self.period.traffic_yuan += amount_yuan

    # phase 10: learning -----------------------------------------------------------------------

    def review(self) -> None:
        """Adapt price, commission and traffic budget from the period's profit.

        * price: up after stock-outs (demand beyond stock); otherwise hill-climb on profit —
          keep the last direction if profit rose, reverse it if profit fell.
        * commission: hill-climb on profit likewise, within [0.01, commission_rate_max].
        * traffic: grow the budget when paid sales earned more margin than they cost, shrink it
          when not.
        """
        learning = self.model.config.merchants.learning
        # Every day, with or without demand, feeds the moving average production follows.
        self.demand_ema = ema(self.demand_ema, self.demand_today, learning.demand_memory_days)
        self.demand_today = 0
        self.period.days += 1
        if self.period.days < learning.review_interval_days:
            return
        p = self.period
        profit = p.profit_yuan
        improved = self.last_profit is None or profit >= self.last_profit
        if not improved:
            self.price_direction *= -1
            self.commission_direction *= -1
        if p.stockout_units > 0.1 * max(p.units_demanded, 1):
            self.price_direction = 1.0
        floor = MIN_MARKUP * self.unit_cost_yuan
        self.price_yuan = max(
            floor, self.price_yuan * (1 + self.price_direction * learning.price_step)
        )
        cmax = self.model.config.merchants.commission_rate_max
        self.commission_rate = float(
            np.clip(
                self.commission_rate + self.commission_direction * learning.commission_step,
                0.01,
                cmax,
            )
        )
        if p.traffic_yuan > 0:
            roi = p.paid_margin_yuan / p.traffic_yuan
            factor = 1 + learning.traffic_step if roi > 1.0 else 1 - learning.traffic_step
            self.traffic_budget_yuan = max(0.0, self.traffic_budget_yuan * factor)
        elif self.traffic_budget_yuan == 0 and profit > 0:
            # Try a little traffic again once the business is profitable.
            self.traffic_budget_yuan = 0.02 * profit / max(p.days, 1)
        self.last_profit = profit
        self.period = PeriodStats()
