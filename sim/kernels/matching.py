"""Phase 5, matching: which listings each active consumer of a block sees today, and where.

Channels (index into :data:`sim.config.CHANNELS`):

* feed (0): recommended short videos, sampled by the recommender's softmax (货找人)
* live (1): live rooms, sampled the same way among today's live appearances
* follow (2): content of creators the consumer follows
* search (3) and mall (4): listings in the category of an open need (人找货), ranked by the
  shelf score; the mall also shows one recommended listing to some consumers without a need

Every function here is pure: arrays and a Generator in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.kernels.sampling import CategoryIndex, sample_in_category, sample_items

FEED, LIVE, FOLLOW, SEARCH, MALL = range(5)
NO_ITEM = -1


@dataclass(frozen=True)
class ConsumerBlock:
    """The consumers of one block, as views or copies of the population's arrays; (b,) or (b, K)."""

    index: np.ndarray  # (b,) int64 absolute consumer index
    interest: np.ndarray  # (b, K) float32
    on_platform: np.ndarray  # (b,) bool
    active_prob: np.ndarray  # (b,) float32
    attention: np.ndarray  # (b,) float32
    need_category: np.ndarray  # (b,) int8, -1 = none
    favorite_listing: np.ndarray  # (b,) int64, -1 = none live today
    follow_creator: np.ndarray  # (b, F) int32, -1 = empty
    follow_trust: np.ndarray  # (b, F) float32
    follow_count: np.ndarray  # (b,) int16
    platform_trust: np.ndarray  # (b,) float32
    price_sensitivity: np.ndarray  # (b,) float32
    budget_yuan: np.ndarray  # (b,) float32


@dataclass(frozen=True)
class DayOffer:
    """What can be shown today: samplers over content and listings, and lookups.

    ``feed``/``live``: samplers over content items (None when there are none);
    ``shelf``: sampler over listings for search and the mall; ``creator_start``/``_count``
    (C,) locate each creator's items; ``listing_category`` (L,) int.
    """

    feed: CategoryIndex | None
    live: CategoryIndex | None
    shelf: CategoryIndex | None
    interest_exponent: float
    creator_start: np.ndarray
    creator_count: np.ndarray
    listing_category: np.ndarray
    item_listing: np.ndarray


@dataclass(frozen=True)
class MatchRules:
    """Consumer behaviour and channel switches that shape matching (from the scenario)."""

    channels: tuple[bool, bool, bool, bool, bool]
    attention_shares: tuple[float, float, float]  # feed, live, follow
    active_prob_multiplier: float
    need_prob: float
    need_weight: np.ndarray  # (K,) relative need frequency per category
    search_share: float
    results_per_need: int
    mall_browse_prob: float
    loyalty_prob: float


@dataclass(frozen=True)
class Impressions:
    """One row per impression; ``consumer`` is the row in the block (0..b-1)."""

    consumer: np.ndarray  # (m,) int64
    listing: np.ndarray  # (m,) int64
    item: np.ndarray  # (m,) int64 content item, or -1 for search and mall
    channel: np.ndarray  # (m,) int8

    @classmethod
    def concat(cls, parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]]) -> Impressions:
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return cls(empty, empty.copy(), empty.copy(), np.empty(0, dtype=np.int8))
        return cls(
            consumer=np.concatenate([p[0] for p in parts]).astype(np.int64),
            listing=np.concatenate([p[1] for p in parts]).astype(np.int64),
            item=np.concatenate([p[2] for p in parts]).astype(np.int64),
            channel=np.concatenate([np.full(p[0].size, p[3], dtype=np.int8) for p in parts]),
        )


@dataclass(frozen=True)
class MatchResult:
    active: np.ndarray  # (b,) bool: opened the app today
    new_need: np.ndarray  # (b,) int8: category of a need that arrived today, or -1
    impressions: Impressions


def split_attention(
    total: np.ndarray,
    shares: tuple[float, float, float],
    has_follows: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split each consumer's content slots among feed, live and follow.

    total: (b,) int; shares: among the enabled content channels (disabled = 0); a consumer who
    follows nobody has their follow slots moved to the feed when the feed is on.
    Returns three (b,) int64 arrays summing to ``total``.
    """
    s = np.array(shares, dtype=np.float64)
    if s.sum() <= 0:
        zero = np.zeros_like(total)
        return zero, zero.copy(), zero.copy()
    s = s / s.sum()
    feed = rng.binomial(total, s[0])
    rest = total - feed
    p_live = s[1] / (s[1] + s[2]) if s[1] + s[2] > 0 else 0.0
    live = rng.binomial(rest, p_live)
    follow = rest - live
    if s[0] > 0:
        moved = np.where(has_follows, 0, follow)
        feed = feed + moved
        follow = follow - moved
    return feed.astype(np.int64), live.astype(np.int64), follow.astype(np.int64)


def sample_followed(
    rows: np.ndarray,
    follow_creator: np.ndarray,
    follow_count: np.ndarray,
    slots: np.ndarray,
    creator_start: np.ndarray,
    creator_count: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Following feed: per slot, a uniformly chosen followed creator and, if that creator posted
    today, one of their items (uniformly). Slots on creators who posted nothing stay empty.

    rows (b,) block rows; follow_creator (b, F); follow_count (b,); slots (b,).
    Returns (rows (s,), items (s,)) for the filled slots.
    """
    r = np.repeat(rows, slots)
    if r.size == 0:
        return r, r.copy()
    pick = (rng.random(r.size) * follow_count[r]).astype(np.int64)
    creator = follow_creator[r, pick].astype(np.int64)
    valid = creator >= 0
    count = np.zeros(r.size, dtype=np.int64)
    in_range = valid & (creator < creator_count.size)
    count[in_range] = creator_count[creator[in_range]]
    offset = (rng.random(r.size) * count).astype(np.int64)
    posted = count > 0
    items = creator_start[np.where(posted, creator, 0)] + offset
    return r[posted], items[posted]


def match_block(
    block: ConsumerBlock, offer: DayOffer, rules: MatchRules, rng: np.random.Generator
) -> MatchResult:
    """All of a block's impressions for the day.

    1. who is active: on the platform and a draw below active_prob x festival multiplier;
    2. needs: an active consumer without one gets a need with chance need_prob, in a category
       drawn ∝ interest x need_weight;
    3. content slots ~ Poisson(attention), split among feed, live and follow;
    4. feed and live: softmax over items (see :mod:`sim.kernels.sampling`);
    5. follow: items of followed creators;
    6. needs go to search (chance search_share) or the mall, ``results_per_need`` listings of
       the need's category; a remembered merchant's listing comes first with chance
       loyalty_prob;
    7. the mall recommends one listing to a share of active consumers without a need.
    """
    b = block.index.size
    feed_on, live_on, follow_on, search_on, mall_on = rules.channels
    active = block.on_platform & (rng.random(b) < block.active_prob * rules.active_prob_multiplier)

    # 2. needs
    new_need = np.full(b, -1, dtype=np.int8)
    can_need = active & (block.need_category < 0)
    arrives = can_need & (rng.random(b) < rules.need_prob)
    if arrives.any():
        weights = block.interest[arrives] * rules.need_weight[None, :]
        cdf = np.cumsum(weights, axis=1)
        u = rng.random(int(arrives.sum())) * cdf[:, -1]
        new_need[arrives] = (cdf < u[:, None]).sum(axis=1).astype(np.int8)
    need = np.where(new_need >= 0, new_need, block.need_category).astype(np.int64)

    # 3. content slots
    rows = np.flatnonzero(active)
    total = rng.poisson(block.attention[rows]).astype(np.int64)
    shares = (
        rules.attention_shares[0] if feed_on and offer.feed is not None else 0.0,
        rules.attention_shares[1] if live_on and offer.live is not None else 0.0,
        rules.attention_shares[2] if follow_on else 0.0,
    )
    n_feed, n_live, n_follow = split_attention(total, shares, block.follow_count[rows] > 0, rng)
    parts = []
    affinity = block.interest[rows].astype(np.float64) ** offer.interest_exponent

    # 4. feed and live
    for channel, index, slots in ((FEED, offer.feed, n_feed), (LIVE, offer.live, n_live)):
        if index is None or index.empty or not slots.any():
            continue
        local, items = sample_items(affinity, index, slots, rng)
        parts.append((rows[local], offer.item_listing[items], items, channel))

    # 5. follow
    if follow_on and n_follow.any():
        r, items = sample_followed(
            rows,
            block.follow_creator,
            block.follow_count,
            n_follow,
            offer.creator_start,
            offer.creator_count,
            rng,
        )
        parts.append((r, offer.item_listing[items], items, FOLLOW))

    # 6. needs -> search or mall
    shelf = offer.shelf
    if shelf is not None and (search_on or mall_on):
        seekers = np.flatnonzero(active & (need >= 0))
        seekers = seekers[shelf.total[need[seekers]] > 0]
        if seekers.size:
            if search_on and mall_on:
                to_search = rng.random(seekers.size) < rules.search_share
            else:
                to_search = np.full(seekers.size, search_on)
            k = rules.results_per_need
            r = np.repeat(seekers, k)
            listings = sample_in_category(shelf, need[r], rng)
            # A remembered merchant's live listing in the need's category comes first.
            fav = block.favorite_listing[seekers]
            fav_ok = (fav >= 0) & (offer.listing_category[np.maximum(fav, 0)] == need[seekers])
            loyal = fav_ok & (rng.random(seekers.size) < rules.loyalty_prob)
            first = np.arange(seekers.size) * k
            listings[first[loyal]] = fav[loyal]
            channel_of_row = np.repeat(np.where(to_search, SEARCH, MALL), k)
            for channel in (SEARCH, MALL):
                sel = channel_of_row == channel
                if sel.any():
                    parts.append((r[sel], listings[sel], np.full(int(sel.sum()), NO_ITEM), channel))

        # 7. mall recommendations for consumers without a need
        if mall_on and rules.mall_browse_prob > 0 and not shelf.empty:
            browsers = np.flatnonzero(active & (need < 0))
            browsers = browsers[rng.random(browsers.size) < rules.mall_browse_prob]
            if browsers.size:
                local, picked = sample_items(
                    affinity[np.searchsorted(rows, browsers)],
                    shelf,
                    np.ones(browsers.size, dtype=np.int64),
                    rng,
                )
                parts.append((browsers[local], picked, np.full(local.size, NO_ITEM), MALL))

    return MatchResult(active=active, new_need=new_need, impressions=Impressions.concat(parts))
