"""Phases 5 and 6 for consumers: who shows up, what they see, what they buy, whom they follow.

One function of arrays, in two engines that give identical results:

* :func:`consumer_day_numpy`, the reference: vectorised NumPy over a chunk of consumers;
* :func:`consumer_day_numba`, the fast path: a compiled loop over consumers, run on several
  chunks at once in threads (it releases the GIL).

Every random number is a counter-based uniform (:mod:`sim.kernels.counter_rng`) keyed by the
consumer, what it is for and its slot, and every step below is written with the same
arithmetic, in the same order, in both engines; so results do not depend on the engine, the
chunk size or the number of threads. The logistic uses ``exp`` only (``1 / (1 + exp(-z))``,
``e / (1 + e)`` below zero), whose float64 results NumPy and numba take from the same
library; a test checks the engines agree exactly.

For each consumer ``c`` (all draws are ``U(purpose, slot)`` for that consumer):

1. active: on the platform and ``U(ACTIVE) < active_prob x multiplier``;
2. need: an active consumer without one gets a need with ``U(NEED) < need_prob``, in the
   category where ``U(NEED_CATEGORY) x sum`` falls in the running sums of
   ``interest x need_weight``;
3. content slots: ``Poisson(min(attention, MAX_ATTENTION_MEAN))`` by inversion of
   ``U(ATTENTION)`` (at most ``MAX_ATTENTION``); slot ``s`` goes to feed, live or follow as ``U(SPLIT, s)`` falls in the
   running sums of the enabled channels' shares (a consumer who follows nobody has follow
   slots moved to the feed when it is on);
4. feed and live slot ``s``: the category where ``U(CATEGORY, s)`` falls in the running sums
   of ``affinity x Z_k`` (softmax over categories), then the item where
   ``before_k + U(ITEM, s) x Z_k`` falls in the category's running item weights;
5. follow slot ``s``: followed creator ``floor(U(FOLLOW_PICK, s) x count)``; if that creator
   posted today, item ``floor(U(FOLLOW_ITEM, s) x n_items)`` of theirs;
6. an active consumer with a need in a category with listings goes to search (``U(SHELF_CHANNEL) < search_share`` when both
   search and mall are on) or the mall and sees ``results_per_need`` listings of the need's
   category, slots ``total + q``; a remembered merchant's listing of that category comes
   first when ``U(LOYALTY) < loyalty_prob``;
7. an active consumer without a need browses the mall with ``U(BROWSE) < mall_browse_prob``:
   one listing, its category drawn by ``U(CATEGORY, total)`` from the running sums of
   ``affinity x`` the shelf's category weights and the listing as in step 4, slot ``total``
   (a consumer whose need has no listings neither searches nor browses);
8. impression at position ``s`` (content slots first, then search or mall results) is bought
   when ``U(BUY, s) < P(buy)`` (:mod:`sim.kernels.purchase`; a live room's urgency applies to
   live appearances, reached from the live channel or the following feed), and makes the viewer follow the
   content's creator when ``U(FOLLOW_VIEW, s) < follow_after_view_prob x appeal``;
9. in position order, a consumer buys a listing at most once a day and stops buying for the
   day at the first purchase that would take spending (in whole fen) over the budget.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.kernels import counter_rng as R
from sim.kernels import purchase
from sim.kernels.matching import FEED, FOLLOW, LIVE, MALL, SEARCH
from sim.kernels.purchase import (
    PurchaseCoefficients,
    believed_quality,
    budget_fen,
    first_per_pair,
    price_fen,
    purchase_logit,
    purchase_logit_bound,
    purchase_probability,
    term_inputs,
    term_weights,
    within_budget,
)

MAX_ATTENTION = 1000
"""Most content slots one consumer gets in a day."""
MAX_ATTENTION_MEAN = 500.0
"""Mean attention is capped here: inversion of Poisson(mean) starts from exp(-mean), which
would underflow to 0 beyond about 745."""
N_CHANNELS = 5


@dataclass(frozen=True)
class Chunk:
    """Consumers ``index`` (b,) and their arrays (rows match), in the population's own dtypes
    (float32, int8, int16, int32); every engine widens each value to float64 or int64 before
    computing with it (exact), so both engines compute in the same precision."""

    index: np.ndarray  # (b,) int64 absolute consumer index (keys the random numbers)
    on_platform: np.ndarray  # (b,) bool
    active_prob: np.ndarray  # (b,) float64
    attention: np.ndarray  # (b,) float64
    need_category: np.ndarray  # (b,) int64, -1 = none (before today's arrivals)
    favorite_listing: np.ndarray  # (b,) int64, -1 = none live today
    disappointing_listing: np.ndarray  # (b,) int64: the last disappointing merchant's, or -1
    interest: np.ndarray  # (b, K) float64
    affinity: np.ndarray  # (b, K) float64: interest ** interest_exponent (sampling weight)
    log_affinity: np.ndarray  # (b, K) float64: log(K x interest) (purchase logit)
    follow_creator: np.ndarray  # (b, F) int64, -1 = empty
    follow_trust: np.ndarray  # (b, F) float64
    follow_count: np.ndarray  # (b,) int64
    platform_trust: np.ndarray  # (b,) float64
    price_sensitivity: np.ndarray  # (b,) float64
    budget_yuan: np.ndarray  # (b,) float64

    def widened(self) -> Chunk:
        """The same chunk with float64 and int64 arrays (what the NumPy engine computes on)."""
        wide = {}
        for name in self.__dataclass_fields__:
            a = getattr(self, name)
            if a.dtype.kind == "f":
                wide[name] = a.astype(np.float64)
            elif a.dtype.kind in "iu":
                wide[name] = a.astype(np.int64)
            else:
                wide[name] = a
        return Chunk(**wide)


@dataclass(frozen=True)
class Sampler:
    """Items grouped by category with running weights (see :mod:`sim.kernels.sampling`);
    all arrays empty when there is nothing to show."""

    order: np.ndarray  # (m,) int64
    cumulative: np.ndarray  # (m,) float64
    start: np.ndarray  # (K,) int64
    stop: np.ndarray  # (K,) int64
    total: np.ndarray  # (K,) float64
    guide: np.ndarray  # (m,) int64: where to start looking for a draw (see guide_table)

    @classmethod
    def of(cls, index, k: int) -> Sampler:
        if index is None:
            z = np.zeros(k, dtype=np.int64)
            empty = np.empty(0, np.int64)
            return cls(empty, np.empty(0), z, z.copy(), np.zeros(k), empty.copy())
        cumulative = index.cumulative.astype(np.float64)
        start, stop = index.start.astype(np.int64), index.stop.astype(np.int64)
        total = index.total.astype(np.float64)
        return cls(
            index.order.astype(np.int64),
            cumulative,
            start,
            stop,
            total,
            guide_table(cumulative, start, stop, total),
        )

    @property
    def on(self) -> bool:
        return bool(np.any(self.total > 0))


def guide_table(cumulative, start, stop, total) -> np.ndarray:
    """Guide table for inverse-CDF draws (Chen and Asau's indexed search): for category k
    with m items at [start, stop), entry ``start + i`` is where the running weights first
    exceed ``before + (i / m) x total``. A draw u starts at entry ``floor(u x m)`` and walks a
    step or two to the answer, instead of a binary search."""
    guide = np.empty(cumulative.size, dtype=np.int64)
    for s, e, t in zip(start, stop, total, strict=True):
        m = e - s
        if m == 0:
            continue
        before = cumulative[s - 1] if s > 0 else 0.0
        targets = before + (np.arange(m) / m) * t
        guide[s:e] = s + np.searchsorted(cumulative[s:e], targets, side="right")
    return guide


@dataclass(frozen=True)
class Tables:
    """The day's offer as the kernel reads it."""

    feed: Sampler
    live: Sampler
    shelf: Sampler
    creator_start: np.ndarray  # (C,) int64
    creator_count: np.ndarray  # (C,) int64
    item_listing: np.ndarray  # (I,) int64
    item_creator: np.ndarray  # (I,) int64
    item_appeal: np.ndarray  # (I,) float64
    item_is_live: np.ndarray  # (I,) bool: an appearance in a live room
    listing_category: np.ndarray  # (L,) int64
    listing_quality_trusting: np.ndarray  # (L,) float64: believed by one who believes claims
    listing_quality_doubting: np.ndarray  # (L,) float64: believed by one who does not
    listing_log_price_ratio: np.ndarray  # (L,) float64
    listing_price_yuan: np.ndarray  # (L,) float64


@dataclass(frozen=True)
class Rules:
    """Channel switches, consumer behaviour and purchase coefficients for the day."""

    channels: np.ndarray  # (5,) bool: feed, live, follow, search, mall
    shares: np.ndarray  # (3,) float64: feed, live, follow shares of attention
    active_multiplier: float
    need_prob: float
    need_weight: np.ndarray  # (K,) float64
    search_share: float
    results_per_need: int
    mall_browse_prob: float
    loyalty_prob: float
    coefficients: PurchaseCoefficients
    disappointment_discount: float
    event_logit: float
    follow_after_view_prob: float


@dataclass(frozen=True)
class Outcome:
    """What a chunk of consumers did. Intents and follows are ordered by consumer, then by
    position in the consumer's day; rows index the chunk."""

    active: np.ndarray  # (b,) bool
    new_need: np.ndarray  # (b,) int64, -1 = no new need
    channel_impressions: np.ndarray  # (5,) int64
    content_impressions: np.ndarray  # (I,) int64: feed and live impressions per item
    follow_impressions: np.ndarray  # (I,) int64: following-feed impressions per item
    shelf_impressions: np.ndarray  # (L,) int64: search and mall impressions per listing
    intent_row: np.ndarray  # (k,) int64
    intent_listing: np.ndarray  # (k,) int64
    intent_item: np.ndarray  # (k,) int64, -1 for search and mall
    intent_channel: np.ndarray  # (k,) int64
    follow_row: np.ndarray  # (f,) int64
    follow_creator: np.ndarray  # (f,) int64


# ============================================================================================
# NumPy reference
# ============================================================================================


def _count_le(cumulative: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per row: how many running sums are <= the target. (n, K), (n,) -> (n,) int64."""
    return np.sum(cumulative <= target[:, None], axis=1).astype(np.int64)


def _pick_category(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Category where ``u x sum`` falls in the row's running sums (-1 if the row sums to 0).
    weights (n, K), u (n,) -> (n,) int64."""
    k = weights.shape[1]
    cumulative = np.cumsum(weights, axis=1)
    total = cumulative[:, -1] if k else np.zeros(len(u))
    chosen = np.minimum(_count_le(cumulative, u * total), k - 1)
    return np.where(total > 0, chosen, -1)


def _pick_item(sampler: Sampler, category: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Item of each category drawn by inverse CDF (categories with weight only)."""
    start = sampler.start[category]
    stop = sampler.stop[category]
    before = np.where(start > 0, sampler.cumulative[np.maximum(start - 1, 0)], 0.0)
    target = before + u * sampler.total[category]
    position = np.searchsorted(sampler.cumulative, target, side="right")
    position = np.minimum(np.maximum(position, start), stop - 1)
    return sampler.order[position]


def _poisson(lam: np.ndarray, u: np.ndarray, cap: int) -> np.ndarray:
    """Poisson(lam) by sequential inversion of u, at most ``cap``."""
    k = np.zeros(lam.size, dtype=np.int64)
    p = np.exp(-lam)
    cdf = p.copy()
    going = (u > cdf) & (k < cap)
    while going.any():
        idx = np.flatnonzero(going)
        k[idx] += 1
        p[idx] = p[idx] * lam[idx] / k[idx]
        cdf[idx] = cdf[idx] + p[idx]
        going[idx] = (u[idx] > cdf[idx]) & (k[idx] < cap)
    return k


def consumer_day_numpy(chunk: Chunk, t: Tables, r: Rules, key: np.uint64) -> Outcome:
    """The reference engine: vectorised NumPy over the chunk (see the module docstring)."""
    chunk = chunk.widened()
    b = chunk.index.size
    ids = chunk.index
    U = R.uniform

    # 1-2. activity and needs
    active = chunk.on_platform & (U(key, ids, R.ACTIVE) < chunk.active_prob * r.active_multiplier)
    new_need = np.full(b, -1, dtype=np.int64)
    arrives = active & (chunk.need_category < 0) & (U(key, ids, R.NEED) < r.need_prob)
    if arrives.any():
        rows = np.flatnonzero(arrives)
        weights = chunk.interest[rows] * r.need_weight[None, :]
        new_need[rows] = _pick_category(weights, U(key, ids[rows], R.NEED_CATEGORY))
    need = np.where(new_need >= 0, new_need, chunk.need_category)

    # 3. content slots and their channels
    total = np.zeros(b, dtype=np.int64)
    rows = np.flatnonzero(active)
    lam = np.minimum(chunk.attention[rows], MAX_ATTENTION_MEAN)
    total[rows] = _poisson(lam, U(key, ids[rows], R.ATTENTION), MAX_ATTENTION)
    shares = _shares(r, t)
    slot_row = np.repeat(np.arange(b), total)
    slot = np.arange(slot_row.size) - np.repeat(np.cumsum(total) - total, total)
    channel = _split(U(key, ids[slot_row], R.SPLIT, slot), shares, chunk.follow_count[slot_row] > 0)
    keep = channel >= 0
    slot_row, slot, channel = slot_row[keep], slot[keep], channel[keep]

    imp_row, imp_item, imp_listing, imp_channel, imp_pos = [], [], [], [], []
    for ch, sampler in ((FEED, t.feed), (LIVE, t.live)):
        sel = channel == ch
        if not sel.any():
            continue
        rr, ss = slot_row[sel], slot[sel]
        cat = _pick_category(
            chunk.affinity[rr] * sampler.total[None, :], U(key, ids[rr], R.CATEGORY, ss)
        )
        ok = cat >= 0
        rr, ss, cat = rr[ok], ss[ok], cat[ok]
        item = _pick_item(sampler, cat, U(key, ids[rr], R.ITEM, ss))
        imp_row.append(rr), imp_item.append(item), imp_listing.append(t.item_listing[item])
        imp_channel.append(np.full(rr.size, ch)), imp_pos.append(ss)
    sel = channel == FOLLOW
    if sel.any():
        rr, ss = slot_row[sel], slot[sel]
        count = chunk.follow_count[rr]
        pick = (U(key, ids[rr], R.FOLLOW_PICK, ss) * count).astype(np.int64)
        creator = chunk.follow_creator[rr, pick]
        n_items = np.zeros(rr.size, dtype=np.int64)
        known = (creator >= 0) & (creator < t.creator_count.size)
        n_items[known] = t.creator_count[creator[known]]
        posted = n_items > 0
        rr, ss, creator, n_items = rr[posted], ss[posted], creator[posted], n_items[posted]
        item = t.creator_start[creator] + (U(key, ids[rr], R.FOLLOW_ITEM, ss) * n_items).astype(
            np.int64
        )
        imp_row.append(rr), imp_item.append(item), imp_listing.append(t.item_listing[item])
        imp_channel.append(np.full(rr.size, FOLLOW)), imp_pos.append(ss)

    # 6-7. search and mall
    search_on, mall_on = bool(r.channels[SEARCH]), bool(r.channels[MALL])
    if t.shelf.on and (search_on or mall_on):
        seekers = np.flatnonzero(active & (need >= 0))
        seekers = seekers[t.shelf.total[need[seekers]] > 0]
        if seekers.size:
            if search_on and mall_on:
                to_search = U(key, ids[seekers], R.SHELF_CHANNEL) < r.search_share
            else:
                to_search = np.full(seekers.size, search_on)
            q = r.results_per_need
            rr = np.repeat(seekers, q)
            ss = total[rr] + np.tile(np.arange(q), seekers.size)
            listing = _pick_item(t.shelf, need[rr], U(key, ids[rr], R.ITEM, ss))
            fav = chunk.favorite_listing[seekers]
            fav_ok = (fav >= 0) & (t.listing_category[np.maximum(fav, 0)] == need[seekers])
            loyal = fav_ok & (U(key, ids[seekers], R.LOYALTY) < r.loyalty_prob) & (q > 0)
            listing[(np.arange(seekers.size) * q)[loyal]] = fav[loyal]
            imp_row.append(rr), imp_item.append(np.full(rr.size, -1)), imp_listing.append(listing)
            imp_channel.append(np.repeat(np.where(to_search, SEARCH, MALL), q)), imp_pos.append(ss)
        if mall_on and r.mall_browse_prob > 0:
            browsers = np.flatnonzero(active & (need < 0))
            browsers = browsers[U(key, ids[browsers], R.BROWSE) < r.mall_browse_prob]
            if browsers.size:
                ss = total[browsers]
                weights = chunk.affinity[browsers] * t.shelf.total[None, :]
                cat = _pick_category(weights, U(key, ids[browsers], R.CATEGORY, ss))
                ok = cat >= 0
                rr, ss, cat = browsers[ok], ss[ok], cat[ok]
                listing = _pick_item(t.shelf, cat, U(key, ids[rr], R.ITEM, ss))
                (
                    imp_row.append(rr),
                    imp_item.append(np.full(rr.size, -1)),
                    imp_listing.append(listing),
                )
                imp_channel.append(np.full(rr.size, MALL)), imp_pos.append(ss)

    row = np.concatenate(imp_row) if imp_row else np.empty(0, np.int64)
    item = np.concatenate(imp_item).astype(np.int64) if imp_item else np.empty(0, np.int64)
    listing = np.concatenate(imp_listing).astype(np.int64) if imp_listing else np.empty(0, np.int64)
    ch = np.concatenate(imp_channel).astype(np.int64) if imp_channel else np.empty(0, np.int64)
    pos = np.concatenate(imp_pos).astype(np.int64) if imp_pos else np.empty(0, np.int64)
    order = np.lexsort((pos, row))
    row, item, listing, ch, pos = row[order], item[order], listing[order], ch[order], pos[order]

    # 8. purchase and follow-after-view decisions
    has_item = item >= 0
    safe = np.maximum(item, 0)
    creator = np.where(has_item, t.item_creator[safe] if t.item_creator.size else -1, -1)
    appeal = np.where(has_item, t.item_appeal[safe] if t.item_appeal.size else 0.5, 0.5)
    category = t.listing_category[listing]
    p = purchase_probability(
        channel=ch,
        live_room=has_item & (t.item_is_live[safe] if t.item_is_live.size else False),
        log_affinity=chunk.log_affinity[row, category],
        creator_trust=_creator_trust(chunk.follow_creator[row], chunk.follow_trust[row], creator),
        platform_trust=chunk.platform_trust[row],
        need_match=need[row] == category,
        believed_quality=believed_quality(
            t.listing_quality_trusting[listing],
            t.listing_quality_doubting[listing],
            chunk.platform_trust[row],
            listing == chunk.disappointing_listing[row],
            r.disappointment_discount,
        ),
        appeal=appeal,
        log_price_ratio=t.listing_log_price_ratio[listing],
        price_sensitivity=chunk.price_sensitivity[row],
        coef=r.coefficients,
        event_logit=r.event_logit,
    )
    buy = U(key, ids[row], R.BUY, pos) < p
    follows = has_item & (U(key, ids[row], R.FOLLOW_VIEW, pos) < r.follow_after_view_prob * appeal)

    # 9. once per listing, within budget, in position order
    b_idx = np.flatnonzero(buy)
    b_idx = b_idx[first_per_pair(row[b_idx], listing[b_idx])]
    b_idx = b_idx[
        within_budget(row[b_idx], t.listing_price_yuan[listing[b_idx]], chunk.budget_yuan)
    ]

    n_items, n_listings = t.item_listing.size, t.listing_category.size
    content = has_item & (ch != FOLLOW)
    return Outcome(
        active=active,
        new_need=new_need,
        channel_impressions=np.bincount(ch, minlength=N_CHANNELS).astype(np.int64),
        content_impressions=np.bincount(item[content], minlength=n_items).astype(np.int64),
        follow_impressions=np.bincount(item[ch == FOLLOW], minlength=n_items).astype(np.int64),
        shelf_impressions=np.bincount(listing[~has_item], minlength=n_listings).astype(np.int64),
        intent_row=row[b_idx],
        intent_listing=listing[b_idx],
        intent_item=item[b_idx],
        intent_channel=ch[b_idx],
        follow_row=row[follows],
        follow_creator=creator[follows],
    )


def _shares(r: Rules, t: Tables) -> np.ndarray:
    """Running thresholds (2,) of the enabled content channels' attention shares, and whether
    follow slots may move to the feed, as (t1, t2, feed_on)."""
    s = np.array(
        [
            r.shares[0] if r.channels[FEED] and t.feed.on else 0.0,
            r.shares[1] if r.channels[LIVE] and t.live.on else 0.0,
            r.shares[2] if r.channels[FOLLOW] else 0.0,
        ]
    )
    total = s[0] + s[1] + s[2]
    if total <= 0:
        return np.array([0.0, 0.0, 0.0, 0.0])
    return np.array([s[0] / total, s[0] / total + s[1] / total, 1.0, 1.0 if s[0] > 0 else 0.0])


def _split(u: np.ndarray, shares: np.ndarray, has_follows: np.ndarray) -> np.ndarray:
    """Channel of each content slot from its draw (-1 = no channel)."""
    if shares[2] == 0.0:
        return np.full(u.size, -1, dtype=np.int64)
    channel = np.where(u < shares[0], FEED, np.where(u < shares[1], LIVE, FOLLOW)).astype(np.int64)
    moved = (channel == FOLLOW) & ~has_follows
    channel[moved] = FEED if shares[3] > 0 else -1
    return channel


def _creator_trust(
    rows_creator: np.ndarray, rows_trust: np.ndarray, creator: np.ndarray
) -> np.ndarray:
    """Trust in the first matching follow slot, 0 if none. (m, F), (m, F), (m,) -> (m,)."""
    match = (rows_creator == creator[:, None]) & (creator[:, None] >= 0)
    slot = match.argmax(axis=1)
    found = match[np.arange(creator.size), slot]
    return np.where(found, rows_trust[np.arange(creator.size), slot], 0.0)


# ============================================================================================
# numba engine
# ============================================================================================

try:  # numba is optional: without it the NumPy engine runs
    import numba
except ImportError:  # pragma: no cover - exercised only without numba installed
    numba = None


def numba_available() -> bool:
    return numba is not None


if numba is not None:
    _njit = numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy")
    _inline = numba.njit(
        cache=True, nogil=True, fastmath=False, error_model="numpy", inline="always"
    )

    @_inline
    def _u(key, consumer, purpose, slot):
        z = np.uint64(key) + (
            (np.uint64(consumer) << np.uint64(R.SLOT_BITS + R.PURPOSE_BITS))
            | (np.uint64(purpose) << np.uint64(R.SLOT_BITS))
            | np.uint64(slot)
        ) * np.uint64(0x9E3779B97F4A7C15)
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
        return np.float64(z >> np.uint64(11)) * R.TO_UNIT

    @_inline
    def _category(weights, scale, u):
        """Index where u x sum falls in the running sums of weights x scale (-1 if 0). The
        running sums are recomputed in a second pass (same additions, same values) rather
        than stored: no allocation per draw."""
        k = weights.size
        acc = 0.0
        for j in range(k):
            acc = acc + np.float64(weights[j]) * scale[j]
        if acc <= 0.0:
            return -1
        target = u * acc
        n = 0
        run = 0.0
        for j in range(k):
            run = run + np.float64(weights[j]) * scale[j]
            if run <= target:
                n += 1
        return min(n, k - 1)

    @_inline
    def _running(weights, scale, out):
        """out[j] = running sum of weights x scale (same additions as _category's)."""
        acc = 0.0
        for j in range(weights.size):
            acc = acc + np.float64(weights[j]) * scale[j]
            out[j] = acc
        return acc

    @_inline
    def _category_from(running, total, u):
        """_category with the running sums already computed (-1 if the total is 0)."""
        if total <= 0.0:
            return -1
        target = u * total
        n = 0
        for j in range(running.size):
            if running[j] <= target:
                n += 1
        return min(n, running.size - 1)

    @_inline
    def _item(order, cumulative, start, stop, total, guide, category, u):
        """The same index as the reference's searchsorted(side="right") clipped to the
        category's span [s, e): the first position whose running weight exceeds the target
        (everything before the span is <= it). Found from the guide table's entry by a
        short walk, in either direction, so rounding in the guide cannot mislead it."""
        s = start[category]
        e = stop[category]
        before = cumulative[s - 1] if s > 0 else 0.0
        target = before + u * total[category]
        p = guide[s + min(np.int64(u * (e - s)), e - s - 1)]
        while p > s and cumulative[p - 1] > target:
            p -= 1
        while p < e and cumulative[p] <= target:
            p += 1
        return order[min(p, e - 1)]

    @_inline
    def _logistic(z):
        e = np.exp(-abs(z))
        return 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)

    def _rule_digest() -> str:
        """SHA-256 of the source of the modules compiled into the kernel besides this one: the
        purchase rule and the counter-based uniforms. numba's cache checks only the source of
        the file a cached function is in; the digest is a closure variable of the kernel, and
        those are part of its cache key, so editing those modules compiles it again."""
        h = hashlib.sha256()
        for module in (purchase, R):
            h.update(Path(module.__file__).read_bytes())
        return h.hexdigest()

    def _compile_kernel(rule_digest: str):
        """The compiled kernel, cached on disk under a key that includes ``rule_digest``."""

        @_njit
        def _kernel(
            first_row,
            active,
            new_need,
            channel_imps,
            content_imps,
            follow_imps,
            shelf_imps,
            i_row,
            i_listing,
            i_item,
            i_channel,
            f_row,
            f_creator,
            key, ids, on_platform, active_prob, attention, need_category, favorite_listing,
            disappointing_listing,
            interest, affinity, log_affinity, follow_creator, follow_trust, follow_count,
            platform_trust, price_sensitivity, budget_fen_, feed, live, shelf,
            creator_start, creator_count, item_listing, item_creator, item_appeal, item_is_live,
            listing_category, quality_trusting, quality_doubting, listing_lpr, listing_price_fen,
            channels, shares, active_mult, need_prob, need_weight, search_share, results_per_need,
            mall_browse_prob, loyalty_prob, base_logit, coefs, discount, event_logit,
            follow_view_prob,
        ):  # fmt: skip
            """Process consumers from ``first_row`` on, adding to the counters and writing intents
            and follows into the given buffers; stop before a consumer whose day might not fit in
            what is left of them. Returns (next row, intents written, follows written). The
            buffers are never replaced inside the loop: that would make numba count references
            to them at every step."""
            rule_digest  # noqa: B018 - a closure variable: part of the cache key
            b = ids.size
            k = interest.shape[1]
            f_slots = follow_creator.shape[1]
            most = MAX_ATTENTION + results_per_need + 1  # impressions one consumer can have
            n_intents = 0
            n_follows = 0
            # per-consumer scratch: the day's impressions in position order
            p_listing = np.empty(MAX_ATTENTION + results_per_need + 2, np.int64)
            p_item = np.empty_like(p_listing)
            p_channel = np.empty_like(p_listing)
            p_slot = np.empty_like(p_listing)
            bought = np.empty_like(p_listing)
            search_on, mall_on = channels[SEARCH], channels[MALL]
            f_order, f_cum, f_start, f_stop, f_total, f_guide = feed
            l_order, l_cum, l_start, l_stop, l_total, l_guide = live
            s_order, s_cum, s_start, s_stop, s_total, s_guide = shelf
            shelf_on = False
            for j in range(k):
                if s_total[j] > 0:
                    shelf_on = True
            # The day's range of the listing and item features of the purchase logit, for the
            # upper bound on each consumer's chance of buying.
            # believed quality: between the smaller of a listing's two values (times the
            # discount for a disappointing merchant) and the larger
            belief_lo, belief_hi = 0.0, 0.0
            if quality_trusting.size:
                belief_lo = min(quality_trusting.min(), quality_doubting.min()) * (1.0 - discount)
                belief_hi = max(quality_trusting.max(), quality_doubting.max())
            lpr_lo = listing_lpr.min() if listing_lpr.size else 0.0
            lpr_hi = listing_lpr.max() if listing_lpr.size else 0.0
            appeal_lo = item_appeal.min() if item_appeal.size else 0.5
            appeal_hi = item_appeal.max() if item_appeal.size else 0.5
            p_max = np.empty(N_CHANNELS)
            feed_run = np.empty(k)
            live_run = np.empty(k)
            for r in range(first_row, b):
                if n_intents + most > i_row.size or n_follows + most > f_row.size:
                    return r, n_intents, n_follows
                c = ids[r]
                if not on_platform[r]:
                    continue
                if not (_u(key, c, R.ACTIVE, 0) < np.float64(active_prob[r]) * active_mult):
                    continue
                active[r] = True
                need = np.int64(need_category[r])
                if need < 0 and _u(key, c, R.NEED, 0) < need_prob:
                    new = _category(interest[r], need_weight, _u(key, c, R.NEED_CATEGORY, 0))
                    if new >= 0:
                        new_need[r] = new
                        need = new
                # content slots
                lam = min(np.float64(attention[r]), MAX_ATTENTION_MEAN)
                u = _u(key, c, R.ATTENTION, 0)
                total = 0
                p = np.exp(-lam)
                cdf = p
                while u > cdf and total < MAX_ATTENTION:
                    total += 1
                    p = p * lam / total
                    cdf = cdf + p
                n = 0
                if total > 0:
                    feed_sum = _running(affinity[r], f_total, feed_run)
                    live_sum = _running(affinity[r], l_total, live_run)
                for s in range(total):
                    if shares[2] == 0.0:
                        break
                    us = _u(key, c, R.SPLIT, s)
                    ch = FEED if us < shares[0] else (LIVE if us < shares[1] else FOLLOW)
                    if ch == FOLLOW and follow_count[r] == 0:
                        if shares[3] > 0:
                            ch = FEED
                        else:
                            continue
                    if ch == FOLLOW:
                        pick = np.int64(_u(key, c, R.FOLLOW_PICK, s) * follow_count[r])
                        cr = follow_creator[r, pick]
                        if cr < 0 or cr >= creator_count.size or creator_count[cr] == 0:
                            continue
                        item = creator_start[cr] + np.int64(
                            _u(key, c, R.FOLLOW_ITEM, s) * creator_count[cr]
                        )
                    elif ch == FEED:
                        cat = _category_from(feed_run, feed_sum, _u(key, c, R.CATEGORY, s))
                        if cat < 0:
                            continue
                        item = _item(
                            f_order, f_cum, f_start, f_stop, f_total, f_guide, cat,
                            _u(key, c, R.ITEM, s),
                        )  # fmt: skip
                    else:
                        cat = _category_from(live_run, live_sum, _u(key, c, R.CATEGORY, s))
                        if cat < 0:
                            continue
                        item = _item(
                            l_order, l_cum, l_start, l_stop, l_total, l_guide, cat,
                            _u(key, c, R.ITEM, s),
                        )  # fmt: skip
                    p_item[n] = item
                    p_listing[n] = item_listing[item]
                    p_channel[n] = ch
                    p_slot[n] = s
                    n += 1
                # search and mall
                if shelf_on and (search_on or mall_on):
                    if need >= 0 and s_total[need] > 0:
                        if search_on and mall_on:
                            ch = SEARCH if _u(key, c, R.SHELF_CHANNEL, 0) < search_share else MALL
                        else:
                            ch = SEARCH if search_on else MALL
                        fav = favorite_listing[r]
                        loyal = False
                        if fav >= 0 and listing_category[fav] == need:
                            loyal = _u(key, c, R.LOYALTY, 0) < loyalty_prob
                        for q in range(results_per_need):
                            s = total + q
                            listing = _item(
                                s_order, s_cum, s_start, s_stop, s_total, s_guide, need,
                                _u(key, c, R.ITEM, s),
                            )  # fmt: skip
                            if q == 0 and loyal:
                                listing = fav
                            p_item[n] = -1
                            p_listing[n] = listing
                            p_channel[n] = ch
                            p_slot[n] = s
                            n += 1
                    elif (
                        need < 0
                        and mall_on
                        and mall_browse_prob > 0
                        and _u(key, c, R.BROWSE, 0) < mall_browse_prob
                    ):
                        s = total
                        cat = _category(affinity[r], s_total, _u(key, c, R.CATEGORY, s))
                        if cat >= 0:
                            listing = _item(
                                s_order, s_cum, s_start, s_stop, s_total, s_guide, cat,
                                _u(key, c, R.ITEM, s),
                            )  # fmt: skip
                            p_item[n] = -1
                            p_listing[n] = listing
                            p_channel[n] = MALL
                            p_slot[n] = s
                            n += 1
                # decisions, in position order. The bound on the log-odds
                # (purchase_logit_bound: each term's largest value over the range of its input
                # today) gives each channel's highest possible chance of buying; a draw above it
                # is a "no" without working the exact chance out (the decision is the same).
                la_lo, la_hi = np.inf, -np.inf
                for j in range(k):
                    la_lo = min(la_lo, np.float64(log_affinity[r, j]))
                    la_hi = max(la_hi, np.float64(log_affinity[r, j]))
                trust_lo, trust_hi = 0.0, 0.0  # 0 for a creator not followed
                for j in range(f_slots):
                    if follow_creator[r, j] >= 0:
                        trust_lo = min(trust_lo, np.float64(follow_trust[r, j]))
                        trust_hi = max(trust_hi, np.float64(follow_trust[r, j]))
                pt = np.float64(platform_trust[r])
                need_hi = 1.0 if need >= 0 else 0.0
                weights = term_weights(coefs, np.float64(price_sensitivity[r]))
                # content: any followed creator, maybe a live room, the day's range of appeal
                content_lo = term_inputs(
                    la_lo, trust_lo, 0.0, pt, 0.0, belief_lo, appeal_lo, lpr_lo
                )
                content_hi = term_inputs(
                    la_hi, trust_hi, 1.0, pt, need_hi, belief_hi, appeal_hi, lpr_hi
                )
                # search and mall: no creator, no live room, appeal 0.5
                shelf_lo = term_inputs(la_lo, 0.0, 0.0, pt, 0.0, belief_lo, 0.5, lpr_lo)
                shelf_hi = term_inputs(la_hi, 0.0, 0.0, pt, need_hi, belief_hi, 0.5, lpr_hi)
                for chn in range(N_CHANNELS):
                    if chn <= FOLLOW:
                        z_max = purchase_logit_bound(
                            base_logit[chn], weights, content_lo, content_hi, event_logit
                        )
                    else:
                        z_max = purchase_logit_bound(
                            base_logit[chn], weights, shelf_lo, shelf_hi, event_logit
                        )
                    p_max[chn] = _logistic(z_max + 1e-6)
                spent = 0
                stopped = False
                n_bought = 0
                for i in range(n):
                    ch = p_channel[i]
                    item = p_item[i]
                    listing = p_listing[i]
                    s = p_slot[i]
                    channel_imps[ch] += 1
                    if item >= 0:
                        if ch == FOLLOW:
                            follow_imps[item] += 1
                        else:
                            content_imps[item] += 1
                    else:
                        shelf_imps[listing] += 1
                    creator = item_creator[item] if item >= 0 else -1
                    appeal = item_appeal[item] if item >= 0 else 0.5
                    u_buy = _u(key, c, R.BUY, s)
                    buys = False
                    if u_buy < p_max[ch]:
                        trust = 0.0
                        if creator >= 0:
                            for j in range(f_slots):
                                if follow_creator[r, j] == creator:
                                    trust = np.float64(follow_trust[r, j])
                                    break
                        cat = listing_category[listing]
                        inputs = term_inputs(
                            np.float64(log_affinity[r, cat]),
                            trust,
                            1.0 if (item >= 0 and item_is_live[item]) else 0.0,
                            pt,
                            1.0 if need == cat else 0.0,
                            believed_quality(
                                quality_trusting[listing],
                                quality_doubting[listing],
                                pt,
                                1.0 if listing == disappointing_listing[r] else 0.0,
                                discount,
                            ),
                            np.float64(appeal),
                            np.float64(listing_lpr[listing]),
                        )
                        z = purchase_logit(base_logit[ch], weights, inputs, event_logit)
                        buys = u_buy < _logistic(z)
                    if buys:
                        seen = False
                        for j in range(n_bought):
                            if bought[j] == listing:
                                seen = True
                                break
                        if not seen:
                            bought[n_bought] = listing
                            n_bought += 1
                            if not stopped:
                                if spent + listing_price_fen[listing] <= budget_fen_[r]:
                                    spent += listing_price_fen[listing]
                                    i_row[n_intents] = r
                                    i_listing[n_intents] = listing
                                    i_item[n_intents] = item
                                    i_channel[n_intents] = ch
                                    n_intents += 1
                                else:
                                    stopped = True
                    if item >= 0 and _u(key, c, R.FOLLOW_VIEW, s) < follow_view_prob * appeal:
                        f_row[n_follows] = r
                        f_creator[n_follows] = creator
                        n_follows += 1
            return b, n_intents, n_follows

        return _kernel

    _kernel = _compile_kernel(_rule_digest())


def _sampler_tuple(s: Sampler):
    return (s.order, s.cumulative, s.start, s.stop, s.total, s.guide)


def _kernel_args(chunk: Chunk, t: Tables, r: Rules, key: np.uint64):
    shares = _shares(r, t)
    c = r.coefficients
    return (
        np.uint64(key), chunk.index, chunk.on_platform, chunk.active_prob, chunk.attention,
        chunk.need_category, chunk.favorite_listing, chunk.disappointing_listing,
        chunk.interest, chunk.affinity,
        chunk.log_affinity, chunk.follow_creator, chunk.follow_trust, chunk.follow_count,
        chunk.platform_trust, chunk.price_sensitivity, budget_fen(chunk.budget_yuan),
        _sampler_tuple(t.feed), _sampler_tuple(t.live), _sampler_tuple(t.shelf),
        t.creator_start, t.creator_count, t.item_listing, t.item_creator, t.item_appeal,
        t.item_is_live,
        t.listing_category, t.listing_quality_trusting, t.listing_quality_doubting,
        t.listing_log_price_ratio,
        price_fen(t.listing_price_yuan),
        r.channels.astype(np.bool_), shares, float(r.active_multiplier), float(r.need_prob),
        r.need_weight, float(r.search_share), int(r.results_per_need), float(r.mall_browse_prob),
        float(r.loyalty_prob), np.asarray(c.base_logit, dtype=np.float64), c.vector(),
        float(r.disappointment_discount), float(r.event_logit), float(r.follow_after_view_prob),
    )  # fmt: skip


BUFFER = 1 << 18
"""Intents and follows the compiled kernel writes per call before it returns to be resumed
with fresh buffers."""


def consumer_day_numba(chunk: Chunk, t: Tables, r: Rules, key: np.uint64) -> Outcome:
    """The compiled engine (same results as :func:`consumer_day_numpy`)."""
    if numba is None:  # pragma: no cover
        raise RuntimeError("numba is not installed; use the numpy engine")
    b = chunk.index.size
    counters = (
        np.zeros(b, np.bool_),
        np.full(b, -1, np.int64),
        np.zeros(N_CHANNELS, np.int64),
        np.zeros(t.item_listing.size, np.int64),
        np.zeros(t.item_listing.size, np.int64),
        np.zeros(t.listing_category.size, np.int64),
    )
    args = _kernel_args(chunk, t, r, key)
    intents, follows = [], []
    row = 0
    while row < b:
        buffers = tuple(np.empty(BUFFER, np.int64) for _ in range(6))
        row, n_i, n_f = _kernel(row, *counters, *buffers, *args)
        intents.append(tuple(x[:n_i] for x in buffers[:4]))
        follows.append(tuple(x[:n_f] for x in buffers[4:]))
    return Outcome(
        *counters,
        *(np.concatenate([part[i] for part in intents]) for i in range(4)),
        *(np.concatenate([part[i] for part in follows]) for i in range(2)),
    )


ENGINES = {"numpy": consumer_day_numpy, "numba": consumer_day_numba}


def choose_engine(engine: str | None = None, threads: int | None = None) -> tuple[str, int]:
    """The engine and thread count to use: the arguments, else the environment variables
    ZHONGCAO_ENGINE and ZHONGCAO_THREADS, else numba (when installed) on every CPU."""
    engine = engine or os.environ.get("ZHONGCAO_ENGINE") or ("numba" if numba else "numpy")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; engines: {', '.join(ENGINES)}")
    if engine == "numba" and numba is None:
        raise ValueError("the numba engine needs numba installed (pip install numba)")
    threads = threads or int(os.environ.get("ZHONGCAO_THREADS", 0)) or os.cpu_count() or 1
    return engine, max(1, threads)


def run_chunks(engine: str, chunks, t: Tables, r: Rules, key: np.uint64, threads: int = 1):
    """Run the engine over chunks (an iterable of :class:`Chunk`) and yield outcomes in chunk
    order; the numba engine runs up to ``threads`` chunks at once."""
    fn = ENGINES[engine]
    if engine != "numba" or threads <= 1:
        for chunk in chunks:
            yield chunk, fn(chunk, t, r, key)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending = []
        for chunk in chunks:
            pending.append((chunk, pool.submit(fn, chunk, t, r, key)))
            if len(pending) >= 2 * threads:
                done_chunk, future = pending.pop(0)
                yield done_chunk, future.result()
        for done_chunk, future in pending:
            yield done_chunk, future.result()
