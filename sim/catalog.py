"""The day's offer: live listings (phase 3) and the content that presents them (phase 4).

Both are rebuilt each day from the agents' decisions, as flat arrays the kernels read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Listings:
    """Today's live listings, one per merchant with a live product; index ``j`` in (L,) arrays.

    ``merchant_to_listing`` maps a merchant idx to its listing index, or -1.
    """

    merchant: np.ndarray  # (L,) int64 merchant idx
    category: np.ndarray  # (L,) int64
    price_yuan: np.ndarray  # (L,) float64
    claimed_quality: np.ndarray  # (L,) float32
    true_quality: np.ndarray  # (L,) float32, hidden from consumers until delivery
    violator: np.ndarray  # (L,) bool, hidden: the product cheats
    est_quality: np.ndarray  # (L,) float32, the platform's estimate
    public_quality: np.ndarray  # (L,) float32, the estimate as the platform shows it (口碑分):
    # est_quality when store scores are shown, the consumers' quality prior when they are not
    quality_if_trusting: np.ndarray  # (L,) float64: believed by a consumer who believes claims
    quality_if_doubting: np.ndarray  # (L,) float64: believed by one who does not (see
    # sim.kernels.purchase.believed_quality)
    popularity: np.ndarray  # (L,) float32, recent units sold per day over the listings' mean
    commission_rate: np.ndarray  # (L,) float32, offered to creators
    take_rate: np.ndarray  # (L,) float32
    paid_boost: np.ndarray  # (L,) float32, log-weight bought as traffic today (0 = none)
    boost: np.ndarray  # (L,) float32, program and cold-start log-weight
    stock: np.ndarray  # (L,) int64 units in stock (none while the merchant owes pre-sold units)
    presale_units: np.ndarray  # (L,) int64 units the listing takes orders for beyond its stock
    # today (预售: set by a live session featuring it, sim.live.open_sessions)
    region: np.ndarray  # (L,) int64 merchant's region
    unit_cost_yuan: np.ndarray  # (L,) float64
    kind: np.ndarray  # (L,) int64 index into MERCHANT_KINDS
    own_account: np.ndarray  # (L,) int64 creator idx of the merchant's own account, or -1
    program: np.ndarray  # (L,) int64 program whose boost the listing gets today, or -1
    program_boost: np.ndarray  # (L,) float64 the part of ``boost`` that program gives
    recovery_program: np.ndarray  # (L,) int64 recovery plan whose terms apply, or -1
    waived_take_rate: np.ndarray  # (L,) float32 take rate waived by a commission-free program
    merchant_to_listing: np.ndarray  # (M,) int64

    @property
    def n(self) -> int:
        return int(self.merchant.size)

    @property
    def commissionable(self) -> np.ndarray:
        """Listings creators may carry (every live listing)."""
        return np.arange(self.n)

    def on_sale(self) -> np.ndarray:
        """(L,) bool: listings with units to sell now, in stock or on pre-sale (a sold-out
        listing's merchant owes pre-sold units, or a shock stopped its production)."""
        return (self.stock + self.presale_units) > 0

    def of_merchant(self, merchant_idx: int) -> int:
        if merchant_idx >= self.merchant_to_listing.size:
            return -1
        return int(self.merchant_to_listing[merchant_idx])

    def of_merchants(self, merchant_idx: np.ndarray) -> np.ndarray:
        """:meth:`of_merchant` of each: (m,) int64 merchant idx -> (m,) listing index or -1."""
        merchant_idx = np.asarray(merchant_idx, dtype=np.int64)
        known = merchant_idx < self.merchant_to_listing.size
        out = np.full(merchant_idx.size, -1, dtype=np.int64)
        out[known] = self.merchant_to_listing[merchant_idx[known]]
        return out


@dataclass
class Content:
    """Today's content items (short videos and live-room appearances); index ``i`` in (I,).

    Items are sorted by creator; ``creator_start``/``creator_count`` (C,) locate each creator's
    items for the following feed.
    """

    creator: np.ndarray  # (I,) int64 creator idx
    listing: np.ndarray  # (I,) int64 listing index
    is_live: np.ndarray  # (I,) bool
    appeal: np.ndarray  # (I,) float32 in [0, 1]
    program: np.ndarray  # (I,) int64 newcomer program boosting the item's creator, or -1
    program_boost: np.ndarray  # (I,) float64 its boost (log-weight)
    log_followers: np.ndarray  # (I,) float64 log(1 + creator's followers / mean active creator's)
    log_talent: np.ndarray  # (I,) float64 log of the creator's talent (>= 0)
    creator_start: np.ndarray  # (C,) int64
    creator_count: np.ndarray  # (C,) int64
    session: np.ndarray | None = None  # (I,) int64 today's live session holding the item, or -1
    feed_entry: np.ndarray | None = None  # (I,) bool: a short video leading into a live room
    session_boost: np.ndarray | None = None  # (I,) float64 the session's log-weight (reminders)

    def __post_init__(self) -> None:
        if self.session is None:
            self.session = np.full(self.creator.size, -1, dtype=np.int64)
        if self.feed_entry is None:
            self.feed_entry = np.zeros(self.creator.size, dtype=bool)
        if self.session_boost is None:
            self.session_boost = np.zeros(self.creator.size)

    @property
    def n(self) -> int:
        return int(self.creator.size)

    @property
    def in_feed(self) -> np.ndarray:
        """(I,) bool: items the feed shows: short videos, and those leading into live rooms."""
        return ~self.is_live | self.feed_entry

    @property
    def in_live_channel(self) -> np.ndarray:
        """(I,) bool: items the live channel shows: appearances in live rooms."""
        return self.is_live & ~self.feed_entry

    @classmethod
    def from_items(
        cls,
        creator: np.ndarray,
        listing: np.ndarray,
        is_live: np.ndarray,
        appeal: np.ndarray,
        n_creators: int,
        program: np.ndarray | None = None,
        program_boost: np.ndarray | None = None,
        log_followers: np.ndarray | None = None,
        log_talent: np.ndarray | None = None,
    ) -> Content:
        order = np.argsort(creator, kind="stable")
        creator = creator[order]
        count = np.bincount(creator, minlength=n_creators).astype(np.int64)
        start = np.cumsum(count) - count
        if program is None:
            program = np.full(creator.size, -1, dtype=np.int64)
        if program_boost is None:
            program_boost = np.zeros(creator.size)
        if log_followers is None:
            log_followers = np.zeros(creator.size)
        if log_talent is None:
            log_talent = np.zeros(creator.size)
        return cls(
            creator=creator,
            listing=listing[order],
            is_live=is_live[order],
            appeal=appeal[order],
            program=program[order],
            program_boost=program_boost[order],
            log_followers=np.asarray(log_followers, dtype=np.float64)[order],
            log_talent=np.asarray(log_talent, dtype=np.float64)[order],
            creator_start=start,
            creator_count=count,
        )
