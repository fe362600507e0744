"""Phase 2, entry and exit: bankrupt merchants and unpaid creators leave, new ones arrive
while the market pays; MCNs drop, scout and sign creators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.config import ENTRY_RATIO_CAP
from sim.vocabulary import MERCHANT_KINDS

if TYPE_CHECKING:
    from sim.agents.creator import Creator
    from sim.agents.mcn import Mcn
    from sim.agents.merchant import Merchant
    from sim.agents.platform import Platform
    from sim.build import AgentFactory
    from sim.config import Scenario
    from sim.network import FollowGraph


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
    merchant_entries_by_kind: np.ndarray
    """(kinds,) entrants per merchant kind, in the order of MERCHANT_KINDS."""
    potential_entrants: int
    """Potential entrants who looked at the market today (entrants and those who stayed out)."""


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


def entry_returns(
    config: Scenario, merchants: list[Merchant], day: int, category_names: list[str]
) -> dict[str, np.ndarray]:
    """What entering each category of each kind returns on the entry cost, as potential
    entrants see it (§7.17): per kind, (number of its categories,)

        r = (profit x horizon_days - cost) / cost,    cost = max(cost_days x overheads, 1 yuan)

    with ``profit`` the mean slow moving average of daily accrual profit of the incumbents of
    that kind and category at least ``min_age_days`` old (all of them if none is; those of
    the kind in any category if the category has none; 0 if the kind has none)."""
    m_cfg = config.merchants
    entry = m_cfg.entry
    present = [m for m in merchants if m.active]
    kinds = list(m_cfg.kinds)
    kind = np.array([kinds.index(m.kind) for m in present], dtype=np.int64)
    category = np.array([m.category for m in present], dtype=np.int64)
    old_enough = np.array([day - m.entry_day for m in present]) >= entry.min_age_days
    profit_ema = np.array([m.profit_slow_ema for m in present], dtype=np.float64)
    out = {}
    for i, (name, kc) in enumerate(m_cfg.kinds.items()):
        ours = kind == i
        old = ours & old_enough
        pool = old if old.any() else ours
        kind_mean = float(np.mean(profit_ema[pool])) if pool.any() else 0.0
        cost = max(entry.cost_days * kc.fixed_cost_yuan_per_day, 1.0)
        r = []
        for cat in kc.categories:
            in_cat = category == category_names.index(cat)
            cell = old & in_cat if (old & in_cat).any() else ours & in_cat
            profit = float(np.mean(profit_ema[cell])) if cell.any() else kind_mean
            r.append((profit * entry.horizon_days - cost) / cost)
        out[name] = np.array(r)
    return out


def choose_entries(
    config: Scenario,
    returns: dict[str, np.ndarray],
    n_potential: int,
    category_names: list[str],
    rng: np.random.Generator,
) -> list[tuple[str, int]]:
    """Each potential entrant is of a kind drawn by ``merchants.kinds.<kind>.share`` and
    enters one of its kind's categories, or stays out, by a logit (§7.17):

        P(category c) = w_c / (1 + sum_c' w_c'),   w_c = exp(r_c / noise) / (categories of the kind)

    (staying out has weight 1: with every return 0, half the potential entrants enter).
    Returns the (kind, category index) of each entrant, in order."""
    m_cfg = config.merchants
    kinds = list(m_cfg.kinds)
    shares = np.array([m_cfg.kinds[k].share for k in kinds])
    chosen = []
    for _ in range(n_potential):
        kind = kinds[int(rng.choice(len(kinds), p=shares / shares.sum()))]
        r = returns[kind]
        w = np.exp(np.minimum(r / m_cfg.entry.noise, 50.0)) / r.size
        p = np.r_[w, 1.0] / (w.sum() + 1.0)
        pick = int(rng.choice(p.size, p=p))
        if pick < r.size:
            chosen.append((kind, category_names.index(m_cfg.kinds[kind].categories[pick])))
    return chosen


def entry_and_exit(
    day: int,
    config: Scenario,
    factory: AgentFactory,
    merchants: list[Merchant],
    independent: list[Creator],
    mcns: list[Mcn],
    follows: FollowGraph,
    rng: np.random.Generator,
) -> EntryExit:
    """Exits first (merchants below their credit limit, bankrupt; merchants whose expected
    profit has stayed negative for their patience, exited; independent creators out of
    patience), then entries (from day 1), then MCN contracts.

    Potential merchant entrants arrive in Poisson numbers, ``entry_share_per_day`` x the
    merchants at the start, and each chooses a kind and category or stays out by the profits
    incumbents earn (:func:`choose_entries`). New creators arrive at a Poisson rate that
    follows how well incumbents do: incumbents x entry share x clip(income ratio / 2, 0,
    ENTRY_RATIO_CAP),
    the ratio being creators' mean income over their reservation wage."""
    merchant_exits = violator_exits = 0
    for merchant in merchants:
        if merchant.insolvent():
            status = "bankrupt"
        elif merchant.wants_to_exit():
            status = "exited"
        else:
            continue
        exit_ = retire_merchant(merchant, status, day, factory.platform)
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
    n_potential = n_creators = 0
    by_kind = np.zeros(len(MERCHANT_KINDS), dtype=np.int64)
    if day > 0:
        n_potential = int(
            rng.poisson(config.merchants.entry_share_per_day * config.population.n_merchants)
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
        names = factory.category_names
        returns = entry_returns(config, merchants, day, names) if n_potential else {}
        for kind, category in choose_entries(config, returns, n_potential, names, rng):
            merchant = factory.new_merchant(day, initial=False, kind=kind, category=category)
            cost = config.merchants.entry.cost_days * merchant.base_fixed_cost_yuan
            merchant.set_up_shop(cost)
            by_kind[MERCHANT_KINDS.index(kind)] += 1
        for _ in range(n_creators):
            staying.append(factory.new_creator(day))
    for mcn in mcns:
        mcn.manage_roster(rng, day, staying, follows.followers)
    return EntryExit(
        merchant_entries=int(by_kind.sum()),
        merchant_exits=merchant_exits,
        violator_exits=violator_exits,
        creator_entries=int(n_creators),
        creator_exits=creator_exits,
        merchant_entries_by_kind=by_kind,
        potential_entrants=n_potential,
    )
