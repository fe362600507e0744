"""Recommenders, chosen by registered name (``platform.recommender.kind``).

A recommender turns today's content into sampling weights for the feed and live channels. Its
ranking score must split into a viewer-and-category part and an item part (see
:mod:`sim.kernels.sampling`):

    score(c, i) = log(K * interest[c, category(i)]) + b(i),

and the feed shows item ``i`` to viewer ``c`` with probability ∝ exp(score / temperature).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.catalog import Content, Listings
from sim.config import InterestOnlyRecommender, InterestQualityRecommender


@dataclass(frozen=True)
class ItemScores:
    """Per-item log-weights b(i)/T and the exponent applied to interest, for one day."""

    item_log_weight: np.ndarray  # (I,) float64
    interest_exponent: float
    paid_log_weight: np.ndarray  # (I,) float64: the part of b(i)/T bought as traffic
    listing_program_log_weight: np.ndarray  # (I,): the part a program serving the listing gave
    creator_program_log_weight: np.ndarray  # (I,): the part a newcomer program gave


Recommender = Callable[[object, Content, Listings], ItemScores]
REGISTRY: dict[str, Recommender] = {}


def register(name: str):
    def add(fn: Recommender) -> Recommender:
        if name in REGISTRY:
            raise ValueError(f"recommender {name!r} registered twice")
        REGISTRY[name] = fn
        return fn

    return add


def interest_exponent(scenario) -> float:
    """The exponent the recommender applies to interest: 1 / temperature."""
    return 1.0 / scenario.platform.recommender.temperature


def score_items(config, content: Content, listings: Listings) -> ItemScores:
    """Score today's content with the recommender the scenario names."""
    return REGISTRY[config.kind](config, content, listings)


@register("interest_only")
def interest_only(
    config: InterestOnlyRecommender, content: Content, listings: Listings
) -> ItemScores:
    """b(i) = appeal(i) - 0.5 + the session boost of a live session's items (reminders):
    interest match and the content itself, nothing else."""
    t = config.temperature
    b = (content.appeal.astype(np.float64) - 0.5 + content.session_boost) / t
    zero = np.zeros(content.n)
    return ItemScores(b, 1.0 / t, zero, zero, zero)


@register("interest_quality")
def interest_quality(
    config: InterestQualityRecommender, content: Content, listings: Listings
) -> ItemScores:
    """b(i) = appeal - 0.5 + quality_weight (est_quality - 0.5) + popularity_weight log(1 +
    relative popularity) + paid_weight x paid_boost + boost_weight x (boost of the item's listing +
    program boost of the item's creator) + follower_weight x log(1 + the creator's followers /
    the mean active creator's) + talent_weight x log(talent) + the session boost of an
    announced live session's items (creators.live.session_boost, reminders to those who
    booked it).

    The follower term is preferential attachment: reach grows with the followers a creator
    has, and followers come from reach (follows after viewing), so success compounds."""
    t = config.temperature
    j = content.listing
    paid = config.paid_weight * listings.paid_boost[j].astype(np.float64)
    b = (
        content.appeal.astype(np.float64)
        - 0.5
        + config.quality_weight * (listings.est_quality[j] - 0.5)
        + config.popularity_weight * np.log1p(listings.popularity[j])
        + paid
        + config.boost_weight * (listings.boost[j] + content.program_boost)
        + config.follower_weight * content.log_followers
        + config.talent_weight * content.log_talent
        + content.session_boost
    )
    listing_program = config.boost_weight * listings.program_boost[j] / t
    creator_program = config.boost_weight * content.program_boost / t
    return ItemScores(b / t, 1.0 / t, paid / t, listing_program, creator_program)


def cap_creator_shares(
    weights: np.ndarray, creator: np.ndarray, category: np.ndarray, multiple: float | None
) -> np.ndarray:
    """The items' sampling weights (I,) with no creator holding more than ``multiple`` times
    the mean creator's share of its category's total: the platform's exposure cap
    (``platform.max_creator_weight_multiple``; ``multiple > 1``, None = no cap).

    ``creator`` and ``category`` are (I,) int per item. In a category whose items with weight
    belong to ``n`` creators the cap is ``c = multiple / n`` of the total, and a creator's
    weight ``s`` becomes ``min(s, c x T)``, where ``T`` is the category's total after capping
    (the fixed point, found exactly by water-filling over the creators sorted by weight); a
    capped creator's items keep their ratios, and creators under the cap keep their weights.
    A share cap (the same ``c`` in every market) would bind harder the fewer creators a market
    has; against the mean it bounds the same concentration at any size."""
    if multiple is None or weights.size == 0:
        return weights
    out = np.array(weights, dtype=np.float64, copy=True)
    live = out > 0
    for k in np.unique(category[live]):
        idx = np.flatnonzero(live & (category == k))
        _, inv = np.unique(creator[idx], return_inverse=True)
        held = np.bincount(inv, weights=out[idx])
        n = held.size
        cap = multiple / n
        if cap >= 1.0:
            continue
        order = np.argsort(-held, kind="stable")
        ranked = held[order]
        # With the m largest capped, the rest sum to rest[m] and the total is rest[m] /
        # (1 - m cap), possible only while m cap < 1 (the rest keep some weight); the smallest
        # such m whose next creator fits under the cap is the fixed point (one exists since
        # n cap = multiple > 1).
        rest = ranked[::-1].cumsum()[::-1]
        free = 1.0 - np.arange(n) * cap
        capped_value = np.full(n, -np.inf)
        possible = free > 1e-12
        capped_value[possible] = cap * rest[possible] / free[possible]
        m = int(np.argmax(ranked <= capped_value))
        ranked_target = ranked.copy()
        ranked_target[:m] = capped_value[m]
        target = np.empty(n)
        target[order] = ranked_target
        out[idx] *= (target / held)[inv]
    return out
