"""Phase 6, purchase: whether an impression turns into an order, within budget and stock.

The chance of buying after one impression is logistic in the offer's features (so it is always
in [0, 1]):

    logit = base[channel]
          + interest_coef x log(K x interest[category])         interest in the category
          + creator_trust_coef x trust in the creator             only if following
          + live_urgency_logit x [live room]
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
from sim.kernels.matching import LIVE


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
        + coef.live_urgency_logit * (channel == LIVE)
        + coef.platform_trust_coef * (platform_trust - 0.5)
        + coef.need_match_logit * need_match
        + coef.claimed_quality_coef * (claimed_quality - 0.5)
        + coef.appeal_coef * (appeal - 0.5)
        - coef.price_coef * price_sensitivity * log_price_ratio
        + event_logit
    )
    # The logistic as 0.5 (1 + tanh(x / 2)): the same function, without overflow for any x.
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(logit, dtype=np.float64)))


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
    # The 1e-6 keeps prices that are whole fen in floating point (30.000000001) from rounding
    # up to the next fen.
    fen = np.ceil(np.asarray(price, dtype=np.float64)[order] * 100 - 1e-6).astype(np.int64)
    running = np.cumsum(fen)
    first = np.r_[True, c[1:] != c[:-1]]
    start_total = np.maximum.accumulate(np.where(first, running - fen, 0))
    spent = running - start_total
    budget_fen = np.floor(np.asarray(budget, dtype=np.float64)[c] * 100 + 1e-6).astype(np.int64)
    keep = np.empty(consumer.size, dtype=bool)
    keep[order] = spent <= budget_fen
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


@dataclass(frozen=True)
class OfferTerms:
    """What the purchase decision reads about listings (L,) and content items (I,)."""

    listing_category: np.ndarray  # (L,) int64
    listing_claimed_quality: np.ndarray  # (L,) float32
    listing_log_price_ratio: np.ndarray  # (L,) float64: log(price / category reference price)
    listing_price_yuan: np.ndarray  # (L,) float64
    item_creator: np.ndarray  # (I,) int64
    item_appeal: np.ndarray  # (I,) float32
    k: int  # number of categories


@dataclass(frozen=True)
class BlockDecisions:
    """Decisions of one block, as indices into its impressions."""

    buy: np.ndarray  # (k,) int64: purchase intents, one per (consumer, listing), within budget
    follow: np.ndarray  # (f,) int64: impressions after which the viewer follows the creator
    creator: np.ndarray  # (m,) int64: creator of each impression's item, -1 for search/mall


def creator_trust_of(
    follow_creator: np.ndarray, follow_trust: np.ndarray, rows: np.ndarray, creator: np.ndarray
) -> np.ndarray:
    """Trust of block row ``rows[j]`` in ``creator[j]``, 0 if not followed (or no creator).

    follow_creator, follow_trust (b, F); rows, creator (m,) -> (m,) float32.
    """
    match = (follow_creator[rows] == creator[:, None]) & (creator[:, None] >= 0)
    slot = match.argmax(axis=1)
    found = match[np.arange(rows.size), slot]
    return np.where(found, follow_trust[rows, slot], 0.0).astype(np.float32)


def decide_purchases(
    imp,
    block,
    need_category: np.ndarray,
    terms: OfferTerms,
    coef: PurchaseCoefficients,
    event_logit: float,
    follow_after_view_prob: float,
    rng: np.random.Generator,
) -> BlockDecisions:
    """Phase 6 for one block: who buys, and who follows a creator after viewing.

    ``imp``: the block's :class:`~sim.kernels.matching.Impressions`; ``block``: its
    :class:`~sim.kernels.matching.ConsumerBlock`; ``need_category`` (b,): open needs after
    today's arrivals. Each impression becomes a purchase with :func:`purchase_probability`;
    a consumer buys a listing at most once a day, and only while their budget lasts
    (:func:`within_budget`). A content impression makes the viewer follow its creator with
    chance ``follow_after_view_prob`` x appeal.
    """
    m = imp.consumer.size
    rows, j = imp.consumer, imp.listing
    has_item = imp.item >= 0
    item = np.where(has_item, imp.item, 0)
    if terms.item_creator.size:
        creator = np.where(has_item, terms.item_creator[item], -1)
        appeal = np.where(has_item, terms.item_appeal[item], 0.5)
    else:
        creator = np.full(m, -1, dtype=np.int64)
        appeal = np.full(m, 0.5)
    category = terms.listing_category[j]
    p = purchase_probability(
        channel=imp.channel,
        log_affinity=np.log(terms.k * block.interest[rows, category]),
        creator_trust=creator_trust_of(block.follow_creator, block.follow_trust, rows, creator),
        platform_trust=block.platform_trust[rows],
        need_match=need_category[rows] == category,
        claimed_quality=terms.listing_claimed_quality[j],
        appeal=appeal,
        log_price_ratio=terms.listing_log_price_ratio[j],
        price_sensitivity=block.price_sensitivity[rows],
        coef=coef,
        event_logit=event_logit,
    )
    buy = np.flatnonzero(rng.random(m) < p)
    follow = np.flatnonzero(has_item & (rng.random(m) < follow_after_view_prob * appeal))
    buy = buy[first_per_pair(rows[buy], j[buy])]
    buy = buy[within_budget(rows[buy], terms.listing_price_yuan[j[buy]], block.budget_yuan)]
    return BlockDecisions(buy=buy, follow=follow, creator=creator)
