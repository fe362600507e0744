"""Phase 6, purchase: whether an impression turns into an order, within budget and stock.

The chance of buying after one impression is logistic in the offer's features (so it is always
in [0, 1]):

    logit = base[channel]
          + interest_coef x log(K x interest[category])         interest in the category
          + creator_trust_coef x trust in the creator             only if following
          + live_urgency_logit x [a live room, reached from live or following]
          + platform_trust_coef x (platform trust - 0.5)
          + need_match_logit x [category = open need]
          + claimed_quality_coef x (claimed quality - 0.5)
          + appeal_coef x (content appeal - 0.5)                  search/mall: appeal = 0.5
          - price_coef x price_sensitivity x log(price / reference price)
          + event logit                                           festivals

Every function here is pure: arrays and a Generator in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.arrays import group_rank


@dataclass(frozen=True)
class PurchaseCoefficients:
    base_logit: np.ndarray  # (5,) float per channel
    interest_coef: float
    creator_trust_coef: float
    live_urgency_logit: float
    platform_trust_coef: float
    need_match_logit: float
    claimed_quality_coef: float
    appeal_coef: float
    price_coef: float


def purchase_probability(
    channel: np.ndarray,
    live_room: np.ndarray,
    log_affinity: np.ndarray,
    creator_trust: np.ndarray,
    platform_trust: np.ndarray,
    need_match: np.ndarray,
    claimed_quality: np.ndarray,
    appeal: np.ndarray,
    log_price_ratio: np.ndarray,
    price_sensitivity: np.ndarray,
    coef: PurchaseCoefficients,
    event_logit: float = 0.0,
) -> np.ndarray:
    """Chance of buying after each impression. All inputs (m,); returns (m,) float64 in [0, 1]."""
    logit = (
        coef.base_logit[channel]
        + coef.interest_coef * log_affinity
        + coef.creator_trust_coef * creator_trust
        + coef.live_urgency_logit * live_room
        + coef.platform_trust_coef * (platform_trust - 0.5)
        + coef.need_match_logit * need_match
        + coef.claimed_quality_coef * (claimed_quality - 0.5)
        + coef.appeal_coef * (appeal - 0.5)
        - coef.price_coef * price_sensitivity * log_price_ratio
        + event_logit
    )
    return logistic(np.asarray(logit, dtype=np.float64))


def logistic(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)) without overflow: e / (1 + e) with e = exp(-|z|) below zero. Only
    ``exp``: NumPy and numba take it from the same library, so both engines agree exactly."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def first_per_pair(consumer: np.ndarray, listing: np.ndarray) -> np.ndarray:
    """Mask keeping the first occurrence of each (consumer, listing) pair; (m,) -> (m,) bool.

    A consumer buys a given listing at most once a day, however often they see it.
    """
    keep = np.zeros(consumer.size, dtype=bool)
    if consumer.size:
        key = consumer.astype(np.int64) * (int(listing.max()) + 1) + listing
        _, first = np.unique(key, return_index=True)
        keep[first] = True
    return keep


def price_fen(price_yuan: np.ndarray) -> np.ndarray:
    """Prices rounded up to whole fen (0.01 yuan), as budgets count them. The 1e-6 keeps prices
    that are whole fen in floating point (30.000000001) from rounding up to the next fen."""
    return np.ceil(np.asarray(price_yuan, dtype=np.float64) * 100 - 1e-6).astype(np.int64)


def budget_fen(budget_yuan: np.ndarray) -> np.ndarray:
    """Budgets rounded down to whole fen."""
    return np.floor(np.asarray(budget_yuan, dtype=np.float64) * 100 + 1e-6).astype(np.int64)


def within_budget(consumer: np.ndarray, price: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Mask of purchases that fit each consumer's daily budget, taken in the given order.

    consumer (m,) int rows into ``budget`` (b,) yuan; price (m,) yuan. A purchase is kept while
    the consumer's running total stays within budget. Sums are taken in whole fen (0.01 yuan)
    as integers, so they are exact whatever else is in the batch; prices are rounded up and
    budgets down to whole fen, so the kept spending never exceeds the budget.
    """
    if consumer.size == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(consumer, kind="stable")
    c = consumer[order]
    fen = price_fen(np.asarray(price)[order])
    running = np.cumsum(fen)
    first = np.r_[True, c[1:] != c[:-1]]
    start_total = np.maximum.accumulate(np.where(first, running - fen, 0))
    spent = running - start_total
    keep = np.empty(consumer.size, dtype=bool)
    keep[order] = spent <= budget_fen(np.asarray(budget)[c])
    return keep


def ration(listing: np.ndarray, stock: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mask of orders filled when demand meets stock: each listing's orders are served in random
    order until its stock runs out.

    listing (m,) int into ``stock`` (L,) units. Returns (m,) bool.
    """
    if listing.size == 0:
        return np.zeros(0, dtype=bool)
    priority = rng.random(listing.size)
    order = np.lexsort((priority, listing))
    rank = group_rank(listing[order])
    filled_sorted = rank < stock[listing[order]]
    filled = np.empty(listing.size, dtype=bool)
    filled[order] = filled_sorted
    return filled
