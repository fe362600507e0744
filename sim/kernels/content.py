"""Phase 4, content: creators' output capacity becomes today's videos and live appearances.

For each creator with at least one live offer:

* videos ~ Poisson(videos_per_day), capped at ``MAX_VIDEOS_FACTOR`` x the mean (+1); each
  presents one of the creator's live offers, chosen uniformly;
* a creator holding a live session today (announced ahead, :mod:`sim.live`; without a
  calendar, with chance lives_per_week / 7) goes live, and the session presents every live
  offer the creator carries (one live appearance per offer);
* appeal = clip(skill x (0.6 + 0.4 x fit) + Normal(0, 0.05), 0, 1), where fit = min(1, K x the
  creator's niche weight on the offer's category).

Pure: arrays and a Generator in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_VIDEOS_FACTOR = 4
APPEAL_NOISE_SD = 0.05


@dataclass(frozen=True)
class ContentItems:
    """(I,) arrays: the row of the producing creator in the inputs, listing, live flag, appeal."""

    creator_row: np.ndarray
    listing: np.ndarray
    is_live: np.ndarray
    appeal: np.ndarray


def produce_content(
    offer_start: np.ndarray,
    offer_count: np.ndarray,
    offer_listing: np.ndarray,
    videos_per_day: np.ndarray,
    lives_per_week: np.ndarray,
    skill: np.ndarray,
    niche: np.ndarray,
    listing_category: np.ndarray,
    rng: np.random.Generator,
    goes_live: np.ndarray | None = None,
) -> ContentItems:
    """Today's items of ``c`` creators.

    offer_start, offer_count (c,): each creator's live offers in ``offer_listing`` (CSR);
    videos_per_day, lives_per_week, skill (c,); niche (c, K) weights summing to 1 per row;
    listing_category (L,); goes_live (c,) bool: who holds a live session today (None: each
    creator with chance lives_per_week / 7).
    """
    c = offer_count.size
    k = niche.shape[1] if niche.ndim == 2 else 1
    has_offers = offer_count > 0
    cap = np.floor(MAX_VIDEOS_FACTOR * videos_per_day + 1).astype(np.int64)
    n_videos = np.where(has_offers, np.minimum(rng.poisson(videos_per_day), cap), 0)
    drawn = rng.random(c) < lives_per_week / 7.0
    goes_live = has_offers & (drawn if goes_live is None else goes_live)

    video_rows = np.repeat(np.arange(c), n_videos)
    pick = (rng.random(video_rows.size) * offer_count[video_rows]).astype(np.int64)
    video_listing = offer_listing[offer_start[video_rows] + pick]

    live_counts = np.where(goes_live, offer_count, 0)
    live_rows = np.repeat(np.arange(c), live_counts)
    within = np.arange(live_rows.size) - np.repeat(
        np.cumsum(live_counts) - live_counts, live_counts
    )
    live_listing = offer_listing[offer_start[live_rows] + within]

    rows = np.concatenate([video_rows, live_rows])
    listing = np.concatenate([video_listing, live_listing]).astype(np.int64)
    is_live = np.r_[np.zeros(video_rows.size, dtype=bool), np.ones(live_rows.size, dtype=bool)]
    fit = np.minimum(1.0, niche[rows, listing_category[listing]] * k) if rows.size else np.zeros(0)
    appeal = skill[rows] * (0.6 + 0.4 * fit) + rng.normal(0.0, APPEAL_NOISE_SD, rows.size)
    return ContentItems(rows, listing, is_live, np.clip(appeal, 0.0, 1.0).astype(np.float32))
