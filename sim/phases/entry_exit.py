"""Phase 2, entry and exit: bankrupt merchants and unpaid creators leave, new ones arrive
while the market pays; MCNs drop, scout and sign creators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import ema
from sim.config import ENTRY_RATIO_CAP

if TYPE_CHECKING:
    from sim.agents.creator import Creator
    from sim.agents.mcn import Mcn
    from sim.agents.merchant import Merchant
    from sim.agents.platform import Platform
    from sim.build import AgentFactory
    from sim.config import Scenario
    from sim.network import FollowGraph


@dataclass
class EntrySignal:
    """How well incumbents do, as entrants see it: moving averages of merchants' daily gross
    margin and overheads (updated in the learning phase)."""

    merchant_margin_ema: float = 0.0
    merchant_overhead_ema: float = 0.0

    def observe(self, margin_yuan: float, overhead_yuan: float, memory_days: float) -> None:
        self.merchant_margin_ema = ema(self.merchant_margin_ema, margin_yuan, memory_days)
        self.merchant_overhead_ema = ema(self.merchant_overhead_ema, overhead_yuan, memory_days)

    @property
    def margin_ratio(self) -> float:
        return self.merchant_margin_ema / max(self.merchant_overhead_ema, 1e-9)


@dataclass(frozen=True)
class Exits:
    merchants: int = 0
    violators: int = 0


@dataclass(frozen=True)
class EntryExit:
    merchant_entries: int
    merchant_exits: int
    violator_exits: int
    creator_entries: int
    creator_exits: int


def retire_merchant(merchant: Merchant, status: str, day: int, platform: Platform) -> Exits:
    """A merchant leaves (``bankrupt`` or ``removed``): its deposit is returned (forfeited
    when it was removed), its own account closes, its service provider lets it go. Returns
    the exit to count."""
    platform.settle_deposit(merchant, forfeit=status == "removed")
    merchant.leave(status, day)
    if merchant.own_account is not None:
        retire_creator(merchant.own_account, day)
    if merchant.provider is not None:
        merchant.provider.release(merchant)
    return Exits(1, int(merchant.violator))


def retire_creator(creator: Creator, day: int) -> None:
    """A creator quits (or an own account closes); its MCN contract ends."""
    if creator.mcn is not None:
        creator.mcn.release(creator)
    creator.leave(day)


def entry_and_exit(
    day: int,
    config: Scenario,
    factory: AgentFactory,
    merchants: list[Merchant],
    independent: list[Creator],
    mcns: list[Mcn],
    follows: FollowGraph,
    signal: EntrySignal,
    rng: np.random.Generator,
) -> EntryExit:
    """Exits first (merchants below their credit limit; independent creators out of
    patience), then entries (from day 1), then MCN contracts.

    New merchants and creators arrive at Poisson rates that follow how well the incumbents
    do: incumbents x entry share x clip(earnings ratio / 2, 0, 3), where the ratio is
    merchants' gross margin over overheads, or creators' mean income over their reservation
    wage."""
    merchant_exits = violator_exits = 0
    for merchant in merchants:
        if merchant.insolvent():
            exit_ = retire_merchant(merchant, "bankrupt", day, factory.platform)
            merchant_exits += exit_.merchants
            violator_exits += exit_.violators
    creator_exits = 0
    staying = []
    for creator in independent:
        if creator.wants_to_quit():
            retire_creator(creator, day)
            creator_exits += 1
        else:
            staying.append(creator)
    n_merchants = n_creators = 0
    if day > 0:
        incumbents = max(sum(m.active for m in merchants), 1)
        n_merchants = rng.poisson(
            incumbents
            * config.merchants.entry_share_per_day
            * np.clip(signal.margin_ratio / 2, 0, ENTRY_RATIO_CAP)
        )
        income_ratio = (
            float(np.mean([c.income_ema_yuan / max(c.reservation_yuan, 1.0) for c in staying]))
            if staying
            else 2.0
        )
        n_creators = rng.poisson(
            max(len(staying), 1)
            * config.creators.entry_share_per_day
            * np.clip(income_ratio / 2, 0, ENTRY_RATIO_CAP)
        )
        for _ in range(n_merchants):
            factory.new_merchant(day, initial=False)
        for _ in range(n_creators):
            staying.append(factory.new_creator(day))
    for mcn in mcns:
        mcn.manage_roster(rng, day, staying, follows.followers)
    return EntryExit(
        merchant_entries=int(n_merchants),
        merchant_exits=merchant_exits,
        violator_exits=violator_exits,
        creator_entries=int(n_creators),
        creator_exits=creator_exits,
    )
