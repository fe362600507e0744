"""Phases 5 and 6 up to stock: the recommender scores the day's content; the consumer kernel
decides, chunk by chunk of consumers, who is active, what they see in each channel (feed,
live, follow, search, mall), what they want to buy (within budget) and whom they follow after
viewing.

:func:`day_tables`, :func:`day_rules` and :func:`consumer_chunks` are the kernel's inputs for a
day; the Mesa reference model (:mod:`sim.reference_mesa`) uses them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.kernels.consumer_day import Chunk, Rules, Sampler, Tables, run_chunks
from sim.kernels.purchase import PurchaseCoefficients
from sim.kernels.sampling import index_by_category
from sim.population import NO_NEED
from sim.recommenders import cap_creator_shares, score_items
from sim.vocabulary import CHANNELS, FOLLOW

if TYPE_CHECKING:
    from sim.catalog import Content, Listings
    from sim.config import PlatformConfig, Scenario
    from sim.events import DayConditions
    from sim.network import FollowGraph
    from sim.population import Population

N_CHANNELS = len(CHANNELS)
CHUNK_CONSUMERS = 1 << 16
"""Consumers per kernel call: bounds memory; results do not depend on it."""
INTENT_DTYPES = {
    "consumer": np.int64,
    "listing": np.int64,
    "creator": np.int64,
    "channel": np.int8,
    "paid_share": np.float64,
}


@dataclass(frozen=True)
class BoughtShares:
    """For each impression, the share owed to paid traffic or to a program's boost:
    1 - exp(-log-weight they added). Per content item (I,) and per listing on the shelf (L,)."""

    item_paid: np.ndarray
    item_listing_program: np.ndarray
    item_creator_program: np.ndarray
    shelf_paid: np.ndarray
    shelf_program: np.ndarray


@dataclass(frozen=True)
class Matching:
    """What the consumers did today, up to stock."""

    intents: dict[str, np.ndarray]
    """Purchase intents in consumer order: columns of :data:`INTENT_DTYPES`, (m,) each."""
    follow_events: list[tuple[np.ndarray, np.ndarray]]
    """(consumers, creators) who follow after viewing, per chunk."""
    active: np.ndarray
    """(n,) bool: who opened the app."""
    active_consumers: int
    impressions: np.ndarray
    """(5,) int64 impressions per channel."""
    listing_impressions: np.ndarray
    """(L,) int64 impressions per listing, over all channels."""
    creator_impressions: np.ndarray
    """(C,) int64 impressions of each creator's content (feed, live and follow)."""
    bought_paid: np.ndarray
    """(L,) impressions of each listing bought by paid traffic, as sums of shares."""
    bought_listing_program: np.ndarray
    """(L,) impressions of each listing given by programs' listing boosts."""
    bought_item_program: np.ndarray
    """(I,) impressions of each content item given by newcomer programs."""
    item_impressions: np.ndarray | None = None
    """(I,) impressions of each content item (feed, live and following feed)."""


def day_tables(
    platform: PlatformConfig,
    listings: Listings,
    content: Content,
    reference_price: np.ndarray,
    k: int,
) -> tuple[Tables, BoughtShares]:
    """The day's samplers and lookups for the consumer kernel, and the shares of
    impressions bought by paid traffic and programs."""
    scores = score_items(platform.recommender, content, listings)
    item_category = listings.category[content.listing] if content.n else np.empty(0, dtype=np.int64)

    def index(mask: np.ndarray):
        if not mask.any():
            return None
        ids = np.flatnonzero(mask)
        logw = scores.item_log_weight[ids]
        weights = np.zeros(content.n)
        weights[ids] = np.exp(logw - logw.max())
        weights = cap_creator_shares(
            weights, content.creator, item_category, platform.max_creator_weight_multiple
        )
        return index_by_category(item_category, weights, k)

    feed = index(content.in_feed) if content.n else None
    live = index(content.in_live_channel) if content.n else None
    shelf_cfg = platform.shelf_ranking
    shelf = None
    shelf_paid = np.zeros(listings.n)
    log_price_ratio = np.log(listings.price_yuan / reference_price[listings.category])
    if listings.n:
        shelf_paid = shelf_cfg.paid_weight * listings.paid_boost.astype(np.float64)
        # listings.boost holds the program boost too: the shelf adds boosts at weight 1.
        log_w = (
            shelf_cfg.quality_weight * (listings.est_quality - 0.5)
            + shelf_cfg.sales_weight * np.log1p(listings.popularity)
            - shelf_cfg.price_weight * log_price_ratio
            + shelf_paid
            + listings.boost
        )
        shelf = index_by_category(listings.category, np.exp(log_w - log_w.max()), k)
    tables = Tables(
        feed=Sampler.of(feed, k),
        live=Sampler.of(live, k),
        shelf=Sampler.of(shelf, k),
        creator_start=content.creator_start.astype(np.int64),
        creator_count=content.creator_count.astype(np.int64),
        item_listing=content.listing.astype(np.int64),
        item_creator=content.creator.astype(np.int64),
        item_appeal=content.appeal.astype(np.float64),
        item_is_live=content.is_live,
        listing_category=listings.category.astype(np.int64),
        listing_quality_trusting=listings.quality_if_trusting.astype(np.float64),
        listing_quality_doubting=listings.quality_if_doubting.astype(np.float64),
        listing_log_price_ratio=log_price_ratio,
        listing_price_yuan=listings.price_yuan.astype(np.float64),
    )
    shares = BoughtShares(
        item_paid=-np.expm1(-scores.paid_log_weight),
        item_listing_program=-np.expm1(-scores.listing_program_log_weight),
        item_creator_program=-np.expm1(-scores.creator_program_log_weight),
        shelf_paid=-np.expm1(-shelf_paid),
        shelf_program=-np.expm1(-listings.program_boost),
    )
    return tables, shares


def day_rules(config: Scenario, conditions: DayConditions, need_weight: np.ndarray) -> Rules:
    """The day's behavioural rules for the consumer kernel: the scenario's, with the day's
    events folded in."""
    c = config.consumers
    p = c.purchase
    ch = config.platform.channels
    return Rules(
        channels=np.array([getattr(ch, name) for name in CHANNELS], dtype=bool),
        shares=np.array([c.feed_share, c.live_share, c.follow_share]),
        active_multiplier=conditions.active_prob_multiplier,
        need_prob=c.need_prob_per_day,
        need_weight=need_weight.astype(np.float64),
        search_share=c.search_share_of_needs,
        results_per_need=c.results_per_need,
        mall_browse_prob=c.mall_browse_prob,
        loyalty_prob=config.platform.shelf_ranking.loyalty_prob,
        coefficients=PurchaseCoefficients(
            base_logit=np.array([getattr(p.base_logit, name) for name in CHANNELS]),
            interest_coef=p.interest_coef,
            creator_trust_coef=p.creator_trust_coef,
            live_urgency_logit=p.live_urgency_logit,
            platform_trust_coef=p.platform_trust_coef,
            need_match_logit=p.need_match_logit,
            quality_belief_coef=p.quality_belief_coef,
            appeal_coef=p.appeal_coef,
            price_coef=p.price_coef,
        ),
        disappointment_discount=c.experience.disappointment_discount,
        event_logit=conditions.purchase_logit,
        follow_after_view_prob=c.follow_after_view_prob,
    )


def _listing_of(merchant: np.ndarray, listings: Listings) -> np.ndarray:
    """Each merchant's live listing today (-1 for none, and for merchant -1)."""
    return np.where(merchant >= 0, listings.merchant_to_listing[np.maximum(merchant, 0)], -1)


def favorite_listings(population: Population, listings: Listings, rows=slice(None)) -> np.ndarray:
    """(n,) each consumer's remembered merchant's live listing today, or -1 (of the consumers
    in ``rows`` only, when given)."""
    return _listing_of(population.favorite_merchant[rows], listings)


def disappointing_listings(
    population: Population, listings: Listings, rows=slice(None)
) -> np.ndarray:
    """(n,) the live listing today of the merchant of each consumer's last disappointing
    order, or -1 (of the consumers in ``rows`` only, when given)."""
    return _listing_of(population.disappointing_merchant[rows], listings)


def consumer_chunks(
    population: Population,
    follows: FollowGraph,
    favorite_listing: np.ndarray | None,
    disappointing_listing: np.ndarray | None,
    listings: Listings | None = None,
):
    """The population in chunks of :data:`CHUNK_CONSUMERS`: views of its arrays, as
    stored (the kernel widens each value to float64 as it reads it). Without
    ``favorite_listing`` and ``disappointing_listing`` (None), each chunk's are looked up in
    ``listings`` as it is cut (no array over the whole population)."""
    pop = population
    for start in range(0, pop.n, CHUNK_CONSUMERS):
        sl = slice(start, min(start + CHUNK_CONSUMERS, pop.n))
        yield Chunk(
            index=np.arange(sl.start, sl.stop, dtype=np.int64),
            on_platform=pop.on_platform[sl],
            active_prob=pop.active_prob[sl],
            attention=pop.attention[sl],
            need_category=pop.need_category[sl],
            favorite_listing=(
                favorite_listings(pop, listings, sl)
                if favorite_listing is None
                else favorite_listing[sl]
            ),
            disappointing_listing=(
                disappointing_listings(pop, listings, sl)
                if disappointing_listing is None
                else disappointing_listing[sl]
            ),
            interest=pop.interest[sl],
            affinity=pop.affinity[sl],
            log_affinity=pop.log_affinity[sl],
            follow_creator=follows.creator[sl],
            follow_trust=follows.trust[sl],
            follow_count=follows.count[sl],
            platform_trust=pop.platform_trust[sl],
            price_sensitivity=pop.price_sensitivity[sl],
            budget_yuan=pop.budget_yuan[sl],
        )


def age_needs(population: Population) -> None:
    """Open needs age by a day; lapsed ones close."""
    pop = population
    has_need = pop.need_category >= 0
    pop.need_days_left[has_need] -= 1
    pop.need_category[has_need & (pop.need_days_left <= 0)] = NO_NEED


def match(
    day: int,
    config: Scenario,
    population: Population,
    follows: FollowGraph,
    listings: Listings,
    content: Content,
    conditions: DayConditions,
    reference_price: np.ndarray,
    need_weight: np.ndarray,
    key: np.uint64,
    engine: str,
    threads: int,
    n_creators_ever: int,
    kernel=None,
) -> Matching:
    """Run the consumer kernel over every consumer; open needs age first, and the needs that
    arise today are stored in the population. ``kernel`` (a
    :class:`~sim.shards.ShardedKernel`) runs the chunks on a Dask cluster instead of here: the
    same results."""
    pop = population
    k = reference_price.size
    age_needs(pop)
    tables, shares = day_tables(config.platform, listings, content, reference_price, k)
    rules = day_rules(config, conditions, need_weight)
    content_imps = np.zeros(content.n, dtype=np.int64)
    follow_imps = np.zeros(content.n, dtype=np.int64)
    shelf_imps = np.zeros(listings.n, dtype=np.int64)
    impressions = np.zeros(N_CHANNELS, dtype=np.int64)
    active = np.zeros(pop.n, dtype=bool)
    active_consumers = 0
    intents, follow_events = [], []
    patience = config.consumers.need_patience_days
    chunks = consumer_chunks(pop, follows, None, None, listings)
    run = run_chunks if kernel is None else kernel.run_chunks
    for chunk, out in run(engine, chunks, tables, rules, key, threads):
        sl = slice(int(chunk.index[0]), int(chunk.index[-1]) + 1)
        arrived = out.new_need >= 0
        pop.need_category[sl][arrived] = out.new_need[arrived]
        pop.need_days_left[sl][arrived] = patience
        active[sl] = out.active
        active_consumers += int(out.active.sum())
        impressions += out.channel_impressions
        content_imps += out.content_impressions
        follow_imps += out.follow_impressions
        shelf_imps += out.shelf_impressions
        follow_events.append((chunk.index[out.follow_row], out.follow_creator))
        item = out.intent_item
        has_item = item >= 0
        safe = np.maximum(item, 0)
        intents.append(
            {
                "consumer": chunk.index[out.intent_row],
                "listing": out.intent_listing,
                "creator": np.where(has_item, tables.item_creator[safe] if content.n else -1, -1),
                "channel": out.intent_channel.astype(np.int8),
                # The paid share of the impression that sold: organic in the following feed.
                "paid_share": np.where(
                    has_item,
                    np.where(
                        out.intent_channel == FOLLOW,
                        0.0,
                        shares.item_paid[safe] if content.n else 0.0,
                    ),
                    shares.shelf_paid[out.intent_listing],
                ),
            }
        )
    merged = {
        name: np.concatenate([x[name] for x in intents]) if intents else np.empty(0, dtype)
        for name, dtype in INTENT_DTYPES.items()
    }
    # Impressions per listing and per creator, and the shares of them paid traffic and
    # programs bought: counts (exact integers) times each item's or listing's share, summed
    # in a fixed order, so the result does not depend on how consumers were processed.
    listing_of_item = content.listing
    return Matching(
        intents=merged,
        follow_events=follow_events,
        active=active,
        active_consumers=active_consumers,
        impressions=impressions,
        listing_impressions=shelf_imps
        + np.bincount(listing_of_item, content_imps + follow_imps, minlength=listings.n).astype(
            np.int64
        ),
        creator_impressions=np.bincount(
            content.creator, content_imps + follow_imps, minlength=n_creators_ever
        ).astype(np.int64),
        bought_paid=shelf_imps * shares.shelf_paid
        + np.bincount(listing_of_item, content_imps * shares.item_paid, minlength=listings.n),
        bought_listing_program=shelf_imps * shares.shelf_program
        + np.bincount(
            listing_of_item, content_imps * shares.item_listing_program, minlength=listings.n
        ),
        bought_item_program=content_imps * shares.item_creator_program,
        item_impressions=content_imps + follow_imps,
    )
