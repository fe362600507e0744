"""Merchants (商家): sell one product line at a time, through creators, their own account and
search/mall; set price, commission, traffic bid and budget; produce to a stock target within a
capacity that overtime stretches and investment grows; keep accrual accounts; exit when
expected profit stays negative or cash runs out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import ledger as L
from sim.agents.listing import Listing
from sim.arrays import column, columns, ema, group_rank

if TYPE_CHECKING:
    from sim.config import MerchantsConfig
    from sim.honesty import Option
    from sim.ledger import Ledger

MIN_MARKUP = 1.05
"""A merchant never prices below 5% over unit cost."""
BUDGET_BINDING_SHARE = 0.9
"""A period's traffic spend at or above this share of its budget means the budget bound."""
MIN_TRAFFIC_BUDGET_YUAN = 1.0
"""A daily traffic budget below this is dropped to 0."""


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
    incremental_units: float = 0.0
    """Units sold that paid traffic added, by the platform's counterfactual (§7.11)."""
    traffic_budget_yuan: float = 0.0
    """Sum of the daily traffic budgets of the days traffic was billed."""

    @property
    def profit_yuan(self) -> float:
        return self.revenue_yuan - self.cost_yuan


@dataclass(frozen=True)
class AnnouncedStock:
    """What announced sessions ask featured merchants to hold: one row per session and
    merchant it features, (n,) each."""

    merchant: np.ndarray
    """(n,) int: the merchant idx."""
    ahead: np.ndarray
    """(n,) int: days until the session (0: today)."""
    units: np.ndarray
    """(n,) float: the units to hold for it."""

    @classmethod
    def none(cls) -> AnnouncedStock:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))

    @classmethod
    def of(cls, merchant: int, sessions: Sequence[tuple[int, float]]) -> AnnouncedStock:
        """One merchant's (days ahead, units) of its sessions."""
        return cls(
            np.full(len(sessions), merchant, dtype=np.int64),
            np.array([a for a, _ in sessions], dtype=np.int64),
            np.array([u for _, u in sessions], dtype=np.float64),
        )


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
        self.base_fixed_cost_yuan = fixed_cost_yuan_per_day
        self.entry_capacity = capacity_units_per_day
        self.entry_cost_yuan = 0.0
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
        # Accrual accounts (§7.17): the day's profit and its moving averages.
        self.profit_today_yuan = 0.0
        self.profit_total_yuan = 0.0
        self.profit_fast_ema = 0.0
        self.profit_slow_ema = 0.0
        self.forecast_ema = 0.0
        """The expected profit (:meth:`expected_profit_yuan`) averaged over the fast memory."""
        self.days_expecting_loss = 0
        self.days_loss_making = 0
        self.margin_ema = 0.0
        """Daily gross margin (net revenue less unit costs of units sold), moving average."""
        self.margin_today = 0.0
        # Capacity (§7.4).
        self.produced_today = 0
        self.prestocked_today = 0
        """Units produced today for announced live sessions (beyond the usual stock target)."""
        self.overtime_units_total = 0
        self.utilisation_ema = 0.25
        # Paid traffic (§7.11): the bid per conversion (oCPM).
        margin = price_yuan * (1 - commission_rate) - honest.unit_cost_yuan
        self.cpa_bid_yuan = max(0.0, cfg.traffic.initial_bid_margin_share * margin)

    # ------------------------------------------------------------------------------------------

    @property
    def cash_yuan(self) -> float:
        return self.ledger.balance(self.account)

    @property
    def active(self) -> bool:
        return self.status == "active"

    # phase 2: exit ----------------------------------------------------------------------------

    def insolvent(self) -> bool:
        """Whether cash is below the credit limit (the merchant must leave)."""
        return self.cash_yuan < -self.cfg.credit_limit_yuan

    def expected_profit_yuan(self) -> float:
        """Expected daily accrual profit ``lookahead_days`` ahead: the recent level (fast
        moving average) plus the trend the two moving averages show, extrapolated.

        With time constants Tf < Ts, a profit growing by g a day lags g x T behind in an
        average of constant T, so g = (fast - slow) / (Ts - Tf) and today's level is
        fast + g x Tf."""
        ex = self.cfg.exit
        tf, ts = ex.profit_fast_memory_days, ex.profit_slow_memory_days
        trend = (self.profit_fast_ema - self.profit_slow_ema) / max(ts - tf, 1.0)
        return self.profit_fast_ema + trend * (tf + ex.lookahead_days)

    def wants_to_exit(self) -> bool:
        """Expected profit has stayed negative: its loss count reached ``patience_days``; or
        the slow average has been negative for ``patience_days + lookahead_days`` in a row (a
        forecast of recovery that did not come true within its look-ahead is not believed
        again: in a business selling a few units a week, each sale after a refund makes the
        trend extrapolate above zero)."""
        ex = self.cfg.exit
        return (
            self.days_expecting_loss >= ex.patience_days
            or self.days_loss_making >= ex.patience_days + ex.lookahead_days
        )

    def book_day(self, profit_yuan: float) -> None:
        """Phase 11: the day's accrual profit (§7.17), into the moving averages the exit
        decision reads."""
        ex = self.cfg.exit
        self.profit_today_yuan = profit_yuan
        self.profit_total_yuan += profit_yuan
        self.profit_fast_ema = ema(self.profit_fast_ema, profit_yuan, ex.profit_fast_memory_days)
        self.profit_slow_ema = ema(self.profit_slow_ema, profit_yuan, ex.profit_slow_memory_days)
        # The forecast extrapolates the two averages' gap, so one lumpy sale in a quiet
        # business lifts it for days; the decision reads a week's forecasts, not one day's.
        self.forecast_ema = ema(
            self.forecast_ema, self.expected_profit_yuan(), ex.profit_fast_memory_days
        )
        # A leaky count: up a day when expected profit is negative, down a day when not, so
        # a few lucky days do not reset a business that mostly loses.
        if self.forecast_ema < 0:
            self.days_expecting_loss += 1
        else:
            self.days_expecting_loss = max(0, self.days_expecting_loss - 1)
        self.days_loss_making = self.days_loss_making + 1 if self.profit_slow_ema < 0 else 0

    def leave(self, status: str, day: int) -> None:
        """Leave the market (``bankrupt`` or ``removed``)."""
        self.status = status
        self.listing.withdraw()
        self.exit_day = day
        self.remove()

    def set_up_shop(self, cost_yuan: float) -> None:
        """Phase 2, on entry: pay the cost of entry (a sunk cost, left out of accrual profit)."""
        self.entry_cost_yuan = cost_yuan
        if cost_yuan > 0:
            self.ledger.transfer(self.account, L.OUTSIDE, cost_yuan, "entry_cost")

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

    def produce(
        self, capacity_multiplier: float = 1.0, sessions: Sequence[tuple[int, float]] = ()
    ) -> None:
        """This merchant alone (:func:`produce`), its announced sessions' (days ahead,
        units)."""
        produce([self], np.array([capacity_multiplier]), AnnouncedStock.of(self.idx, sessions))

    def session_stock_units(self, sessions: Sequence[tuple[int, float]], capacity: float) -> float:
        """This merchant alone (:func:`session_stock_units`)."""
        rate = max(0.0, most_output(capacity, self.cfg.capacity.overtime_share) - self.demand_ema)
        announced = AnnouncedStock.of(0, sessions)
        return float(
            session_stock_units(
                np.array([rate]), announced.merchant, announced.ahead, announced.units
            )[0]
        )

    @property
    def units_owed(self) -> int:
        """Units sold on pre-sale and not yet made (a stock below zero)."""
        return max(0, -self.stock)

    def presale_units(self, presale_days: int) -> int:
        """Units this merchant takes orders for today beyond its stock (预售): what it can make
        in ``presale_days`` at capacity and overtime (:func:`most_output`), less what it
        already owes."""
        made = most_output(self.capacity, self.cfg.capacity.overtime_share) * presale_days
        return max(0, int(made) - self.units_owed)

    def presale_ship_days(self, place: np.ndarray) -> np.ndarray:
        """Days until the pre-sold units at ``place`` (1, 2, ...: their places among today's
        pre-sold units, in order of sale) are made: the k-th is made once the units owed
        before today and k units more are, at capacity and overtime a day. (p,) -> (p,)
        int32."""
        output = max(most_output(self.capacity, self.cfg.capacity.overtime_share), 1e-9)
        return np.ceil((self.units_owed + place) / output).astype(np.int32)

    def session_price_yuan(
        self, discount_share: float, take_rate: float = 0.0, commission_rate: float = 0.0
    ) -> float:
        """The limited-time price (直播间专享价) for a live session featuring the product: the
        list price less ``discount_share``, never below the price that still leaves 5% over
        unit cost after the take rate and the commission (no cut when the list price is
        already below it)."""
        net_share = max(1.0 - take_rate - commission_rate, 0.05)
        floor = MIN_MARKUP * self.unit_cost_yuan / net_share
        return max(min(self.price_yuan, floor), self.price_yuan * (1.0 - discount_share))

    def pay(self, target_account: int, amount_yuan: float, kind: str, traffic: bool = False):
        """Pay ``amount_yuan`` from the merchant's account (a fee, a fine), booked as a cost."""
        self.ledger.transfer(self.account, target_account, amount_yuan, kind)
        self.record_cost(amount_yuan, traffic=traffic)

    def pay_traffic(self, bill_yuan: float, incremental_units: float) -> None:
        """Phase 7: the day's traffic bill (within the budget) and the units the platform
        reports paid traffic added."""
        if bill_yuan > 0:
            self.pay(L.PLATFORM, bill_yuan, "traffic_fee", traffic=True)
            self.period.traffic_budget_yuan += self.traffic_budget_yuan
        self.period.incremental_units += incremental_units

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
        self.margin_today += net_revenue - units * self.unit_cost_yuan
        self.stock -= units
        self.sales_total += units
        self.revenue_total_yuan += units * self.price_yuan
        self.demand_today += demanded

    def record_returns(self, units: int, net_revenue_lost_yuan: float) -> None:
        """Delivered units that came back: their revenue is refunded (the goods are lost)."""
        self.period.revenue_yuan -= net_revenue_lost_yuan
        self.margin_today -= net_revenue_lost_yuan
        self.period.returned_units += units
        self.returns_total += units

    def record_cost(self, amount_yuan: float, traffic: bool = False) -> None:
        self.period.cost_yuan += amount_yuan
        if traffic:
            self.period.traffic_yuan += amount_yuan

    # phase 10: learning -----------------------------------------------------------------------

    def review(self) -> None:
        """Every day: fold the day's demand, gross margin and capacity use into their moving
        averages. Every review period: adapt price, commission, traffic bid and budget, and
        capacity.

        * price: up after stock-outs (demand beyond stock); otherwise hill-climb on profit —
          keep the last direction if profit rose, reverse it if profit fell.
        * commission: hill-climb on profit likewise, within [0.01, commission_rate_max].
        * traffic (§7.11): from the incremental return on the period's spend.
        * capacity (§7.4): invest when capacity use stays beyond capacity, shrink when idle.
        """
        learning = self.cfg.learning
        # Every day, with or without demand, feeds the moving average production follows.
        self.demand_ema = ema(self.demand_ema, self.demand_today, learning.demand_memory_days)
        self.demand_today = 0
        self.margin_ema = ema(self.margin_ema, self.margin_today, learning.demand_memory_days)
        self.margin_today = 0.0
        self.utilisation_ema = ema(
            self.utilisation_ema,
            self.produced_today / max(self.capacity, 1e-9),
            self.cfg.capacity.utilisation_memory_days,
        )
        self.produced_today = 0
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
        self._review_traffic(p, profit)
        self._review_capacity()
        self.last_profit = profit
        self.period = PeriodStats()

    def unit_margin_yuan(self, p: PeriodStats) -> float:
        """Net revenue per unit sold in the period (after take rate, commission and returns)
        less the unit cost; before any sale, the list price less commission and unit cost."""
        if p.units_sold > 0:
            return p.revenue_yuan / p.units_sold - self.unit_cost_yuan
        return self.price_yuan * (1 - self.commission_rate) - self.unit_cost_yuan

    def incremental_roi(self, p: PeriodStats) -> float:
        """Margin of the units paid traffic added, per yuan of traffic spent (§7.11)."""
        return p.incremental_units * self.unit_margin_yuan(p) / p.traffic_yuan

    def _review_traffic(self, p: PeriodStats, profit: float) -> None:
        """oCPM bidding (§7.11): raise the bid per conversion (to win more auctions) or the
        budget (when it bound) while the incremental return beats the target; lower both when
        traffic does not pay for itself. The bid never exceeds the unit margin, and the budget
        never exceeds ``budget_margin_cap`` of the recent daily gross margin."""
        t = self.cfg.traffic
        step = self.cfg.learning.traffic_step
        margin = max(self.unit_margin_yuan(p), 0.0)
        if p.traffic_yuan > 0:
            roi = self.incremental_roi(p)
            binding = p.traffic_yuan >= BUDGET_BINDING_SHARE * p.traffic_budget_yuan
            if roi >= t.target_roi:
                if binding:
                    self.traffic_budget_yuan *= 1 + step
                else:
                    self.cpa_bid_yuan *= 1 + t.bid_step
            elif roi < 1.0:
                self.traffic_budget_yuan *= 1 - step
                self.cpa_bid_yuan *= 1 - t.bid_step
        elif self.traffic_budget_yuan == 0 and profit > 0:
            # Try a little traffic again once the business is profitable.
            self.traffic_budget_yuan = 0.02 * profit / max(p.days, 1)
        self.cpa_bid_yuan = min(self.cpa_bid_yuan, margin)
        if self.cpa_bid_yuan <= 0 and margin > 0:
            self.cpa_bid_yuan = t.initial_bid_margin_share * margin
        cap = t.budget_margin_cap * max(self.margin_ema, 0.0)
        self.traffic_budget_yuan = min(self.traffic_budget_yuan, cap)
        if self.traffic_budget_yuan < MIN_TRAFFIC_BUDGET_YUAN:
            self.traffic_budget_yuan = 0.0

    def _review_capacity(self) -> None:
        """Invest (capacity up by ``step``) when capacity use has stayed at or beyond
        ``invest_utilisation`` (overtime) and the business earns; shrink when use stays below
        ``idle_utilisation``, to no less than ``min_share`` of the capacity at entry. The
        share ``overhead_share`` of the overheads follows capacity."""
        c = self.cfg.capacity
        if self.utilisation_ema >= c.invest_utilisation and self.profit_slow_ema > 0:
            self.capacity *= 1 + c.step
        elif self.utilisation_ema < c.idle_utilisation:
            self.capacity = max(c.min_share * self.entry_capacity, self.capacity * (1 - c.step))
        else:
            return
        relative = self.capacity / self.entry_capacity
        self.fixed_cost_yuan = self.base_fixed_cost_yuan * (
            1 - c.overhead_share + c.overhead_share * relative
        )


def most_output(capacity, overtime_share: float):
    """Whole units a merchant can make in a day: its capacity and the overtime beyond it
    (加班加点), each in whole units, as production makes them (:func:`produce`). Floats or
    (m,) arrays."""
    return np.floor(capacity) + np.floor(capacity * overtime_share)


def session_stock_units(
    rate: np.ndarray, owner: np.ndarray, ahead: np.ndarray, units: np.ndarray
) -> np.ndarray:
    """Units each of m merchants holds now, beyond its usual target, for its announced
    sessions, just in time: max over its sessions s of (the units of its sessions up to s -
    what it can add to stock before s), adding ``rate`` ((m,) units a day: capacity x (1 +
    overtime_share) - expected daily demand, at least 0) a day. The sessions: (n,) each,
    ``owner`` (the merchant's row in [0, m)), ``ahead`` (days until the session) and
    ``units``; a merchant's sessions are taken in order of (ahead, units). -> (m,)."""
    need = np.zeros(rate.size)
    if owner.size == 0:
        return need
    order = np.lexsort((units, ahead, owner))
    owner, ahead, units = owner[order], ahead[order], units[order]
    rank = group_rank(owner)
    total = np.zeros(rate.size)
    # The r-th session of every merchant at once: each merchant's running total is added up
    # session by session, in order.
    for r in range(int(rank.max()) + 1):
        at = rank == r
        o = owner[at]
        total[o] += units[at]
        need[o] = np.maximum(need[o], total[o] - rate[o] * ahead[at])
    return need


PRODUCTION_COLUMNS = {
    "idx": np.int64,
    "account": np.int64,
    "stock": np.int64,
    "unit_cost_yuan": np.float64,
    "fixed_cost_yuan": np.float64,
    "demand_ema": np.float64,
    "capacity": np.float64,
}
"""The merchants' attributes production reads (:func:`produce`), with their dtypes."""


def produce(
    merchants: Sequence[Merchant],
    capacity_multiplier: np.ndarray,
    sessions: AnnouncedStock,
    known: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Phase 3, every merchant of ``merchants`` (m, built with one config and ledger) at once:
    produce towards ``stock_cover_days`` of expected demand (first the units owed to pre-sale
    buyers, a stock below zero) plus what announced live sessions
    need in stock now (:meth:`Merchant.session_stock_units`, as far as its cash pays for it),
    within capacity (times ``capacity_multiplier``, (m,), below 1 in a shocked region), then
    in overtime (加班加点) up to ``overtime_share`` more at a premium on the unit cost; pay
    costs. ``sessions``: the announced sessions and the merchants they feature (rows of
    merchants not in ``merchants`` are left out); ``known``: the merchants' columns of
    ``PRODUCTION_COLUMNS`` (n,), if already read. Returns (m,) their stock after production."""
    if not merchants:
        return np.zeros(0, dtype=np.int64)
    cfg, ledger = merchants[0].cfg, merchants[0].ledger
    cover = cfg.learning.stock_cover_days
    cap = cfg.capacity
    known = known if known is not None else columns(merchants, PRODUCTION_COLUMNS)
    idx, accounts, stock = known["idx"], known["account"], known["stock"]
    unit_cost, fixed_cost, demand = (
        known["unit_cost_yuan"],
        known["fixed_cost_yuan"],
        known["demand_ema"],
    )
    target = cover * np.maximum(demand, 1.0)
    capacity = known["capacity"] * capacity_multiplier
    affordable = np.maximum(0.0, ledger.balances[accounts]) / np.maximum(unit_cost, 1e-9)
    position = np.full(max(int(idx.max()), int(sessions.merchant.max(initial=0))) + 1, -1)
    position[idx] = np.arange(idx.size)
    owner = position[sessions.merchant]
    featured = owner >= 0
    rate = np.maximum(0.0, most_output(capacity, cap.overtime_share) - demand)
    for_sessions = np.minimum(
        session_stock_units(
            rate, owner[featured], sessions.ahead[featured], sessions.units[featured]
        ),
        affordable,
    )

    def plan(wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Whole units within capacity, then in overtime: at most most_output(capacity) a day.
        regular = np.minimum(capacity, wanted).astype(np.int64)
        overtime = np.minimum(capacity * cap.overtime_share, wanted - regular).astype(np.int64)
        return regular, overtime

    regular, overtime = plan(np.maximum(0.0, target + for_sessions - stock))
    units = regular + overtime
    usual_regular, usual_overtime = plan(np.maximum(0.0, target - stock))
    prestocked = units - (usual_regular + usual_overtime)
    cost = np.where(units > 0, units * unit_cost, 0.0)
    premium = np.where(overtime > 0, overtime * unit_cost * cap.overtime_cost_premium, 0.0)
    ledger.pay_rows(
        accounts,
        L.OUTSIDE,
        np.column_stack([cost, premium, fixed_cost]),
        ("production_cost", "production_cost", "fixed_cost"),
    )
    periods = [m.period for m in merchants]
    period_cost = column(periods, "cost_yuan") + premium + fixed_cost
    stock = stock + units
    for m, p, s, made, pre, extra, c in zip(
        merchants,
        periods,
        stock.tolist(),
        units.tolist(),
        prestocked.tolist(),
        overtime.tolist(),
        period_cost.tolist(),
        strict=True,
    ):
        m.stock = s
        m.produced_today = made
        m.prestocked_today = pre
        m.overtime_units_total += extra
        p.cost_yuan = c
    return stock
