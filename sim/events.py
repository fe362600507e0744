"""Phase 1, events: what the scenario's calendar switches on for a day.

Each event kind registers how it changes the day's conditions (:func:`event_kind`); a new kind
is a schema class with a ``kind`` tag and one registered function here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


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


@dataclass
class ConditionsBuilder:
    """The day's conditions while the events that are on fold themselves in."""

    n_regions: int
    purchase_logit: float = 0.0
    active_prob_multiplier: float = 1.0
    festival: bool = False
    shocked_regions: np.ndarray = field(init=False)
    extra_delivery_days: int = 0
    extra_dissatisfied_prob: float = 0.0
    capacity_multiplier: float = 1.0

    def __post_init__(self) -> None:
        self.shocked_regions = np.zeros(self.n_regions, dtype=bool)

    def freeze(self) -> DayConditions:
        return DayConditions(
            self.purchase_logit,
            self.active_prob_multiplier,
            self.shocked_regions,
            self.extra_delivery_days,
            self.extra_dissatisfied_prob,
            self.capacity_multiplier,
            self.festival,
        )


EventEffect = Callable[[Any, ConditionsBuilder], None]
EVENT_KINDS: dict[str, EventEffect] = {}
"""Event kind (the schema's ``kind`` tag) -> how an event of that kind that is on changes the
day's conditions."""


def event_kind(kind: str) -> Callable[[EventEffect], EventEffect]:
    def register(effect: EventEffect) -> EventEffect:
        if kind in EVENT_KINDS:
            raise ValueError(f"event kind {kind!r} registered twice")
        EVENT_KINDS[kind] = effect
        return effect

    return register


@event_kind("festival")
def _festival(event, day: ConditionsBuilder) -> None:
    day.festival = True
    day.purchase_logit += event.purchase_logit
    day.active_prob_multiplier *= event.active_prob_multiplier


@event_kind("logistics_shock")
def _logistics_shock(event, day: ConditionsBuilder) -> None:
    day.shocked_regions[: round(event.region_share * day.n_regions)] = True
    day.extra_delivery_days = max(day.extra_delivery_days, event.extra_delivery_days)
    day.extra_dissatisfied_prob = max(day.extra_dissatisfied_prob, event.extra_dissatisfied_prob)
    day.capacity_multiplier = min(day.capacity_multiplier, event.capacity_multiplier)


def conditions_on(events: list, day: int, n_regions: int) -> DayConditions:
    """The conditions of ``day`` given the scenario's events (in calendar order)."""
    conditions = ConditionsBuilder(n_regions)
    for event in events:
        if event.is_on(day):
            EVENT_KINDS[event.kind](event, conditions)
    return conditions.freeze()


def after_warmup(dated: list, warmup_days: int) -> list:
    """Events or programs with their days moved past the warm-up (model days count from the
    start of the warm-up; the scenario's from its end)."""
    if not warmup_days:
        return list(dated)
    return [
        x.model_copy(
            update={"start_day": x.start_day + warmup_days, "end_day": x.end_day + warmup_days}
        )
        for x in dated
    ]
