"""Merchants (商家): sell one product line at a time, through creators, their own account and
search/mall; set price, commission and traffic budget; produce to a stock target; exit when
cash runs out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import ledger as L
from sim.agents.listing import Listing
from sim.arrays import ema

if TYPE_CHECKING:
    from sim.config import MerchantsConfig
    from sim.honesty import Option
    from sim.ledger import Ledger

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
    """One merchant. ``idx`` indexes every per-merchant array in the model.

    Built with its config section (``cfg``, the scenario's ``merchants``), the ledger and its
    own account there (already holding its starting cash); it moves money only from and to
    that account, and writes only its own state."""

    def __init__(
        self,
        model: mesa.Model,
        *,
        cfg: MerchantsConfig,
        ledger: Ledger,
        account: int,
        day: int,
        idx: int,
        kind: str,
        category: int,
        region: int,
        honest: Option,
        cheat: Option,
        scruple: float,
        price_yuan: float,
        commission_rate: float,
        capacity_units_per_day: float,
        traffic_budget_yuan_per_day: float,
        fixed_cost_yuan_per_day: float,
        cash_yuan: float,
    ):
        super().__init__(model)
        self.cfg = cfg
        self.ledger = ledger
        self.account = account
        self.idx = idx
        self.kind = kind
        self.category = category
        self.region = region
        self.honest = honest
        self.cheat = cheat
        self.scruple = scruple
        # The product on sale: honest until the merchant launches one (sim.honesty).
        self.violator = False
        """Whether the product on sale cheats (low quality claimed as high)."""
        self.true_quality = honest.true_quality
        self.claimed_quality = honest.claimed_quality
        self.unit_cost_yuan = honest.unit_cost_yuan
        self.cheating_launches = 0
        self.launches = 0
        self.strike_days: list[int] = []
        """Days of the convictions that still count on the enforcement ladder."""
        self.convictions = 0
        self.price_yuan = price_yuan
        self.commission_rate = commission_rate
        self.capacity = capacity_units_per_day
        self.traffic_budget_yuan = traffic_budget_yuan_per_day
        self.fixed_cost_yuan = fixed_cost_yuan_per_day
        self.entry_day = day
        self.exit_day: int | None = None
        self.initial_cash_yuan = cash_yuan
        self.status = "active"  # active | bankrupt | removed
        self.listing = Listing(relist_day=day)
        self.stock = 0
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

    # ------------------------------------------------------------------------------------------

    @property
    def cash_yuan(self) -> float:
        return self.ledger.balance(self.account)

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def is_live(self) -> bool:
        return self.active and self.listing.live

    # phase 2: exit ----------------------------------------------------------------------------

    def insolvent(self) -> bool:
        """Whether cash is below the credit limit (the merchant must leave)."""
        return self.cash_yuan < -self.cfg.credit_limit_yuan

    def leave(self, status: str, day: int) -> None:
        """Leave the market (``bankrupt`` or ``removed``)."""
        self.status = status
        self.listing.withdraw()
        self.exit_day = day
        self.remove()

    def hire(self, provider, cold_start_until: int) -> None:
        """A service provider runs the merchant's own account from now on."""
        self.provider = provider
        self.cold_start_until = cold_start_until

    def release_provider(self) -> None:
        self.provider = None

    def launch(self, cheating: bool) -> None:
        """Put a new product on sale: the honest one or the cheating one."""
        option = self.cheat if cheating else self.honest
        self.violator = cheating
        self.true_quality = option.true_quality
        self.claimed_quality = option.claimed_quality
        self.unit_cost_yuan = option.unit_cost_yuan
        self.launches += 1
        self.cheating_launches += int(cheating)

    def active_strikes(self, day: int, expiry_days: int) -> int:
        """Convictions in the last ``expiry_days`` days."""
        return sum(1 for d in self.strike_days if day - d < expiry_days)

    def strike(self, day: int, expiry_days: int) -> int:
        """A conviction today: expired strikes fall away, one is added. Returns the active
        strikes."""
        self.strike_days = [d for d in self.strike_days if day - d < expiry_days] + [day]
        self.convictions += 1
        return len(self.strike_days)

    # phase 3: production ----------------------------------------------------------------------

    def produce(self, capacity_multiplier: float = 1.0) -> None:
        """Produce towards ``stock_cover_days`` of expected demand, within capacity (times
        ``capacity_multiplier``, below 1 in a shocked region); pay costs."""
        cover = self.cfg.learning.stock_cover_days
        target = cover * max(self.demand_ema, 1.0)
        units = int(min(self.capacity * capacity_multiplier, max(0.0, target - self.stock)))
        if units > 0:
            cost = units * self.unit_cost_yuan
            self.ledger.transfer(self.account, L.OUTSIDE, cost, "production_cost")
            self.stock += units
        self.ledger.transfer(self.account, L.OUTSIDE, self.fixed_cost_yuan, "fixed_cost")
        self.period.cost_yuan += self.fixed_cost_yuan

    def pay(self, target_account: int, amount_yuan: float, kind: str, traffic: bool = False):
        """Pay ``amount_yuan`` from the merchant's account (a fee, a fine), booked as a cost."""
        self.ledger.transfer(self.account, target_account, amount_yuan, kind)
        self.record_cost(amount_yuan, traffic=traffic)

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
        learning = self.cfg.learning
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
        cmax = self.cfg.commission_rate_max
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
