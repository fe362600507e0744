"""Phase 9, governance: the platform's quality estimate learns from the day's feedback; then
the day's enforcement (:func:`sim.governance.enforce`) is applied: risky products delisted,
investigations paid for, convicted merchants' products banned, fines and strikes, removals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import ledger as L
from sim.day import GovernanceCounts
from sim.governance import enforce
from sim.phases.entry_exit import retire_merchant

if TYPE_CHECKING:
    from sim.agents.merchant import Merchant
    from sim.agents.platform import Platform


@dataclass(frozen=True)
class GovernanceDay:
    counts: GovernanceCounts
    """Delistings, investigations, bans, penalties, removals and their false positives."""
    merchant_exits: int
    violator_exits: int


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
    if not watched:
        return GovernanceDay(GovernanceCounts(), 0, 0)
    idx = np.array([m.idx for m in watched])
    action = enforce(
        live=np.array([m.listing.live for m in watched], dtype=bool),
        est_quality=platform.est_quality(idx),
        evidence=platform.good[idx] + platform.bad[idx] - cfg.quality_prior_strength,
        complaints_recent=platform.complaints_recent[idx],
        violator=np.array([m.violator for m in watched]),
        strikes=np.array([m.strikes for m in watched], dtype=np.int64),
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
    banned = removed = exits = violator_exits = 0
    for i, remove in zip(action.convict, action.remove, strict=True):
        merchant = watched[i]
        false_positives += int(not merchant.violator)
        # Acted on after the day's trading: a new listing no sooner than relist_delay_days
        # full days later, as after an interception.
        banned += merchant.listing.ban(day + 1 + cfg.governance.relist_delay_days)
        merchant.pay(L.PLATFORM, rules.fine_yuan, "fine")
        merchant.strike()
        if remove:
            removed += 1
            exit_ = retire_merchant(merchant, "removed", day)
            exits += exit_.merchants
            violator_exits += exit_.violators
    counts = GovernanceCounts(
        banned=banned,
        delisted=len(action.delist),
        penalized=len(action.convict),
        removed=removed,
        false_positives=false_positives,
        investigations=action.investigated,
    )
    return GovernanceDay(counts, exits, violator_exits)
