"""Phase 4, content: creators choose offers (选品) and produce short videos and live
appearances for today's live listings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.catalog import Content
from sim.kernels.content import produce_content

if TYPE_CHECKING:
    from sim.agents.creator import Creator
    from sim.catalog import Listings
    from sim.programs import Programs


def make_content(
    day: int,
    creators: list[Creator],
    n_creators_ever: int,
    listings: Listings,
    programs: Programs,
    k: int,
    followers: np.ndarray,
    rng: np.random.Generator,
    going_live=None,
) -> Content:
    """``creators`` are the active ones (in activation order); ``n_creators_ever`` sizes the
    per-creator arrays; ``k`` categories; ``followers`` (C,) per creator idx.

    ``going_live(creator idx array)`` says who holds a live session today (None: each creator
    with chance lives_per_week / 7). Each item carries its creator's reach terms for the recommender: log(1 + followers / the
    mean active creator's followers) and log(talent)."""
    on_sale = listings.on_sale()
    for creator in creators:
        creator.select_offers(listings, rng, day, on_sale)
    # Each creator's carried offers that are live today, in its order of offers.
    n_offers = np.array([len(c.offers) for c in creators], dtype=np.int64)
    listing_of = listings.of_merchants(
        np.fromiter((m for c in creators for m in c.offers), np.int64, int(n_offers.sum()))
    )
    live = listing_of >= 0
    count = np.bincount(
        np.repeat(np.arange(len(creators)), n_offers)[live], minlength=len(creators)
    ).astype(np.int64)
    offer_listing = listing_of[live]
    start = np.cumsum(count) - count
    for creator, s, n in zip(creators, start.tolist(), count.tolist(), strict=True):
        if n:
            creator.note_carried(listings, offer_listing[s : s + n].tolist())
    creator_idx = np.array([c.idx for c in creators], dtype=np.int64)
    items = produce_content(
        offer_start=start,
        offer_count=count,
        offer_listing=offer_listing,
        videos_per_day=np.array([c.videos_per_day for c in creators]),
        lives_per_week=np.array([c.lives_per_week for c in creators]),
        skill=np.array([c.skill for c in creators]),
        niche=np.array([c.niche for c in creators]).reshape(len(creators), k),
        listing_category=listings.category,
        rng=rng,
        goes_live=None if going_live is None else going_live(creator_idx),
    )
    program, boost = programs.for_new_creators(
        np.array([c.entry_day for c in creators], dtype=np.int64),
        np.array([c.independent for c in creators], dtype=bool),
        day,
    )
    own = followers[creator_idx].astype(np.float64) if creators else np.zeros(0)
    log_followers = np.log1p(own / max(float(own.mean()) if own.size else 1.0, 1.0))
    log_talent = np.log(np.array([c.talent for c in creators], dtype=np.float64))
    return Content.from_items(
        creator_idx[items.creator_row],
        items.listing,
        items.is_live,
        items.appeal,
        n_creators_ever,
        program[items.creator_row],
        boost[items.creator_row],
        log_followers[items.creator_row] if creators else None,
        log_talent[items.creator_row] if creators else None,
    )
