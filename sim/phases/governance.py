"""Phase 9, governance: the platform's quality estimates and store records learn from the
day's feedback; then the day's enforcement (:func:`sim.governance.enforce`) is applied: risky
products delisted, investigations paid for, appeals decided, and each remaining conviction
placed on the ladder (:func:`sim.governance.sentence`): the product banned, a warning, a fine,
a suspension or a removal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import ledger as L
from sim.day import GovernanceCounts
from sim.governance import SALES_WINDOW_DAYS, enforce, sentence
from sim.phases.entry_exit import retire_merchant

if TYPE_CHECKING:
    from sim.agents.merchant import Merchant
    from sim.agents.platform import Platform


@dataclass(frozen=True)
class GovernanceDay:
    counts: GovernanceCounts
    """Delistings, investigations, bans, warnings, fines, suspensions, removals, appeals won
    and the false positives among them."""
    merchant_exits: int
    violator_exits: int
    honest_removed: int
    fines_yuan: float
    fines_on_honest_yuan: float
    convictions_honest: int
    convictions_cheating: int


def govern(
    day: int,
    merchants: list[Merchant],
    platform: Platform,
    feedback: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> GovernanceDay:
    """``merchants`` are those in business (in activation order)."""
    platform.learn_from_feedback(**feedback)
    cfg = platform.cfg
    rules = platform.rules
    watched = [m for m in merchants if m.listing.on_market]
    if not watched or not rules.enabled:
        return GovernanceDay(GovernanceCounts(), 0, 0, 0, 0.0, 0.0, 0, 0)
    idx = np.array([m.idx for m in watched])
    action = enforce(
        live=np.array([m.listing.live for m in watched], dtype=bool),
        est_quality=platform.est_quality(idx),
        evidence=platform.good[idx] + platform.bad[idx] - cfg.quality_prior_strength,
        excess_se=platform.excess_se(idx, np.array([m.category for m in watched])),
        cheating=np.array([m.violator for m in watched]),
        rules=rules,
        min_evidence=cfg.quality_prior_strength,
        rng=rng,
    )
    false_positives = 0
    for i in action.delist:
        merchant = watched[i]
        # Acted on after the day's trading: off the market for exactly delist_days days.
        merchant.listing.delist(day + 1 + cfg.governance.delist_days)
        platform.reset_quality_estimate(merchant.idx)  # it comes back rectified, judged afresh
        false_positives += int(not merchant.violator)
    if action.investigated:
        platform.charge_governance(action.investigated * rules.investigation_cost_yuan)
    banned = warnings = penalized = suspended = removed = exits = violator_exits = 0
    honest_removed = convicted_honest = convicted_cheating = 0
    fines = fines_on_honest = 0.0
    for i in action.convict:
        merchant = watched[i]
        honest = not merchant.violator
        false_positives += int(honest)
        convicted_honest += int(honest)
        convicted_cheating += int(not honest)
        strikes = merchant.strike(day, rules.strike_expiry_days)
        sales = merchant.price_yuan * merchant.demand_ema * SALES_WINDOW_DAYS
        severity = merchant.claimed_quality - merchant.true_quality
        s = sentence(strikes, severity, sales, rules)
        # Acted on after the day's trading: the product is banned (rectification); a new one
        # no sooner than relist_delay_days full days later, or after the suspension.
        delay = cfg.governance.relist_delay_days
        if s.suspend:
            delay = max(delay, rules.suspension_days)
            suspended += 1
        banned += merchant.listing.ban(day + 1 + delay)
        warnings += int(s.warning)
        if s.fine_yuan > 0:
            merchant.pay(L.PLATFORM, s.fine_yuan, "fine")
            penalized += 1
            fines += s.fine_yuan
            fines_on_honest += s.fine_yuan if honest else 0.0
        if s.remove:
            removed += 1
            honest_removed += int(honest)
            exit_ = retire_merchant(merchant, "removed", day, platform)
            exits += exit_.merchants
            violator_exits += exit_.violators
    counts = GovernanceCounts(
        banned=banned,
        delisted=len(action.delist),
        penalized=penalized,
        removed=removed,
        false_positives=false_positives,
        warnings=warnings,
        suspended=suspended,
        appeals_won=len(action.appeals_won),
        investigations=action.investigated,
    )
    return GovernanceDay(
        counts,
        exits,
        violator_exits,
        honest_removed,
        fines,
        fines_on_honest,
        convicted_honest,
        convicted_cheating,
    )
