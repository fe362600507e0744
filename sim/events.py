"""Phase 1, events: what the scenario's calendar switches on for a day."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import EventConfig, FestivalEvent, LogisticsShockEvent


@dataclass(frozen=True)
class DayConditions:
    """The day's market conditions set by events.

    Overlapping festivals add their purchase logits and multiply their activity multipliers;
    overlapping shocks hit the union of their regions with the largest delay and damage.
    """

    purchase_logit: float
    active_prob_multiplier: float
    shocked_regions: np.ndarray  # (R,) bool
    extra_delivery_days: int
    extra_dissatisfied_prob: float
    capacity_multiplier: float
    """Multiplier of production capacity in shocked regions (the smallest of the shocks')."""
    festival: bool

    @property
    def shock(self) -> bool:
        return bool(self.shocked_regions.any())


def conditions_on(events: list[EventConfig], day: int, n_regions: int) -> DayConditions:
    logit, multiplier, festival = 0.0, 1.0, False
    regions = np.zeros(n_regions, dtype=bool)
    extra_days, extra_prob, capacity = 0, 0.0, 1.0
    for event in events:
        if not event.is_on(day):
            continue
        if isinstance(event, FestivalEvent):
            festival = True
            logit += event.purchase_logit
            multiplier *= event.active_prob_multiplier
        elif isinstance(event, LogisticsShockEvent):
            regions[: round(event.region_share * n_regions)] = True
            extra_days = max(extra_days, event.extra_delivery_days)
            extra_prob = max(extra_prob, event.extra_dissatisfied_prob)
            capacity = min(capacity, event.capacity_multiplier)
    return DayConditions(logit, multiplier, regions, extra_days, extra_prob, capacity, festival)
