"""The consumer day kernel: who is active, needs, what each channel shows, purchases within
budget and follows after viewing; the NumPy and numba engines agree exactly; results do not
depend on chunks or threads; the counter-based uniforms behind every draw."""

from __future__ import annotations

import hashlib
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_config
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import sim.phases.matching
from sim.kernels import consumer_day as CD
from sim.kernels import counter_rng as R
from sim.kernels import purchase
from sim.kernels.consumer_day import (
    Chunk,
    Outcome,
    Rules,
    Sampler,
    Tables,
    consumer_day_numba,
    consumer_day_numpy,
)
from sim.kernels.matching import FEED, FOLLOW, LIVE, MALL, SEARCH
from sim.kernels.purchase import COEFFICIENT_NAMES, PurchaseCoefficients
from sim.kernels.sampling import index_by_category
from sim.model import MarketModel
from sim.network import FollowGraph
from sim.population import ATTRIBUTES

ALPHA = 1e-4
KEY = np.uint64(20220608)
K = 3

# Five listings in categories 0, 1, 2, 2, 1.
LISTING_CATEGORY = np.array([0, 1, 2, 2, 1])
# Four content items presenting listings 0-3: creator 0 made items 0-1 (videos), creator 1
# posted nothing today, creator 2 made items 2 (video) and 3 (live).
ITEM_LISTING = np.array([0, 1, 2, 3])
ITEM_CREATOR = np.array([0, 0, 2, 2])
ITEM_LIVE = np.array([False, False, False, True])
CREATOR_START = np.array([0, 2, 2])
CREATOR_COUNT = np.array([2, 0, 2])
ITEM_CATEGORY = LISTING_CATEGORY[ITEM_LISTING]


def sampler(category: np.ndarray, weight: np.ndarray) -> Sampler:
    return Sampler.of(index_by_category(category, np.asarray(weight, dtype=np.float64), K), K)


NOTHING = Sampler.of(None, K)


def make_tables(**changes) -> Tables:
    """Feed: the videos; live: the live item; shelf: every listing, all with weight 1."""
    tables = Tables(
        feed=sampler(ITEM_CATEGORY, (~ITEM_LIVE).astype(float)),
        live=sampler(ITEM_CATEGORY, ITEM_LIVE.astype(float)),
        shelf=sampler(LISTING_CATEGORY, np.ones(LISTING_CATEGORY.size)),
        creator_start=CREATOR_START,
        creator_count=CREATOR_COUNT,
        item_listing=ITEM_LISTING,
        item_creator=ITEM_CREATOR,
        item_appeal=np.full(ITEM_LISTING.size, 0.5),
        item_is_live=ITEM_LIVE,
        listing_category=LISTING_CATEGORY,
        listing_quality_trusting=np.full(LISTING_CATEGORY.size, 0.5),
        listing_quality_doubting=np.full(LISTING_CATEGORY.size, 0.5),
        listing_log_price_ratio=np.zeros(LISTING_CATEGORY.size),
        listing_price_yuan=np.full(LISTING_CATEGORY.size, 10.0),
    )
    return replace(tables, **changes)


NEVER = -50.0
"""A base log-odds at which nobody buys."""
ALWAYS = 50.0
"""A base log-odds at which every impression is bought (while the budget lasts)."""


COEFFICIENTS = set(PurchaseCoefficients.__dataclass_fields__)


def make_rules(**changes) -> Rules:
    """Every channel on, no needs, no browsing, no loyalty, nobody buys or follows."""
    rules = Rules(
        channels=np.ones(5, dtype=bool),
        shares=np.array([0.6, 0.25, 0.15]),
        active_multiplier=1.0,
        need_prob=0.0,
        need_weight=np.ones(K),
        search_share=0.5,
        results_per_need=3,
        mall_browse_prob=0.0,
        loyalty_prob=0.0,
        coefficients=PurchaseCoefficients(
            np.full(5, NEVER), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
        ),
        disappointment_discount=0.0,
        event_logit=0.0,
        follow_after_view_prob=0.0,
    )
    coefficient_changes = {k: changes.pop(k) for k in list(changes) if k in COEFFICIENTS}
    rules = replace(rules, coefficients=replace(rules.coefficients, **coefficient_changes))
    return replace(rules, **changes)


def channels(*on: int) -> np.ndarray:
    mask = np.zeros(5, dtype=bool)
    mask[list(on)] = True
    return mask


def make_chunk(b: int = 200, **changes) -> Chunk:
    """``b`` active consumers with even interest, ten content items a day, no need, no
    favourite, following nobody, a budget of 100 yuan."""
    interest = np.full((b, K), 1.0 / K)
    chunk = Chunk(
        index=np.arange(b, dtype=np.int64),
        on_platform=np.ones(b, dtype=bool),
        active_prob=np.ones(b),
        attention=np.full(b, 10.0),
        need_category=np.full(b, -1, dtype=np.int64),
        favorite_listing=np.full(b, -1, dtype=np.int64),
        disappointing_listing=np.full(b, -1, dtype=np.int64),
        interest=interest,
        affinity=interest.copy(),
        log_affinity=np.zeros((b, K)),
        follow_creator=np.full((b, 2), -1, dtype=np.int64),
        follow_trust=np.zeros((b, 2)),
        follow_count=np.zeros(b, dtype=np.int64),
        platform_trust=np.full(b, 0.7),
        price_sensitivity=np.ones(b),
        budget_yuan=np.full(b, 100.0),
    )
    chunk = replace(chunk, **changes)
    return replace(
        chunk,
        need_category=chunk.need_category.astype(np.int64),
        favorite_listing=chunk.favorite_listing.astype(np.int64),
        disappointing_listing=chunk.disappointing_listing.astype(np.int64),
    )


def _stored_dtypes() -> dict[str, np.dtype]:
    """Each chunk field's dtype as the model hands it to the kernel: the population's and the
    follow graph's arrays as stored, the consumer index and favourite listings as int64."""
    graph = FollowGraph(0, 1)
    dtypes = {name: np.dtype(a.dtype) for name, a in ATTRIBUTES.items()}
    dtypes |= {
        "index": np.dtype(np.int64),
        "favorite_listing": np.dtype(np.int64),
        "disappointing_listing": np.dtype(np.int64),
        "follow_creator": graph.creator.dtype,
        "follow_trust": graph.trust.dtype,
        "follow_count": graph.count.dtype,
    }
    return {f.name: dtypes[f.name] for f in fields(Chunk)}


STORED = _stored_dtypes()
"""Chunk field -> dtype of the model's chunks. The numba engine is compiled once per distinct
set of argument types, so chunks in other dtypes would compile (and test) a second kernel
that the model never runs."""


def stored(chunk: Chunk) -> Chunk:
    """The chunk in the model's dtypes (see :data:`STORED`)."""
    return Chunk(**{name: getattr(chunk, name).astype(STORED[name], copy=False) for name in STORED})


def tile(row, b: int) -> np.ndarray:
    return np.tile(np.asarray(row, dtype=np.float64), (b, 1))


def following(b: int, creators, count=None) -> dict:
    """Chunk fields for ``b`` consumers who all follow ``creators``."""
    creators = np.asarray(creators, dtype=np.int64)
    return {
        "follow_creator": np.tile(creators, (b, 1)),
        "follow_trust": np.zeros((b, creators.size)),
        "follow_count": np.full(b, (creators >= 0).sum() if count is None else count),
    }


@pytest.fixture(params=["numpy", "numba"])
def day(request):
    """Each engine in turn, as a function of (chunk, tables, rules) on the pinned key."""
    if request.param == "numba":
        pytest.importorskip("numba")
    engine = CD.ENGINES[request.param]

    def run(chunk: Chunk, tables: Tables | None = None, rules: Rules | None = None) -> Outcome:
        return engine(stored(chunk), tables or make_tables(), rules or make_rules(), KEY)

    return run


def nothing_shown(out: Outcome) -> bool:
    return (
        out.channel_impressions.sum() == 0
        and out.content_impressions.sum() == 0
        and out.follow_impressions.sum() == 0
        and out.shelf_impressions.sum() == 0
    )


# --------------------------------------------------------------------------------------------
# Activity and needs
# --------------------------------------------------------------------------------------------


def test_consumers_off_the_platform_are_never_active(day):
    """Consumers who left are inactive even with active_prob 1, and a chunk of them sees,
    needs, buys and follows nothing however tempting the day."""
    on = np.arange(100) % 3 != 0
    out = day(make_chunk(100, on_platform=on))
    np.testing.assert_array_equal(out.active, on)
    b = 50
    gone = make_chunk(
        b, on_platform=np.zeros(b, dtype=bool), **following(b, [0, 2]), need_category=np.ones(b)
    )
    tempting = make_rules(
        need_prob=1.0,
        mall_browse_prob=1.0,
        base_logit=np.full(5, ALWAYS),
        follow_after_view_prob=1.0,
    )
    out = day(gone, rules=tempting)
    assert not out.active.any()
    assert nothing_shown(out)
    assert np.all(out.new_need == -1)
    assert out.intent_row.size == 0 and out.follow_row.size == 0


def test_activity_rate_follows_active_prob_times_multiplier(day):
    """The number of active consumers is Binomial(n, active_prob x multiplier)."""
    n = 4000
    out = day(make_chunk(n, active_prob=np.full(n, 0.4)), rules=make_rules(active_multiplier=1.5))
    lo, hi = stats.binom.ppf([ALPHA / 2, 1 - ALPHA / 2], n, 0.6)
    assert lo <= out.active.sum() <= hi


def test_needs_arrive_only_for_active_consumers_without_one(day):
    """With need_prob 1 every active consumer without a need gets one; consumers with a need,
    inactive consumers and consumers off the platform get none."""
    n = 80
    need = np.where(np.arange(n) < 20, 1, -1)
    active_prob = np.where((np.arange(n) >= 40) & (np.arange(n) < 60), 0.0, 1.0)
    on = np.arange(n) < 60
    chunk = make_chunk(n, need_category=need, active_prob=active_prob, on_platform=on)
    out = day(chunk, rules=make_rules(need_prob=1.0))
    arrived = out.new_need >= 0
    np.testing.assert_array_equal(arrived, (np.arange(n) >= 20) & (np.arange(n) < 40))
    assert np.all(out.new_need[arrived] < K)


def test_need_category_follows_interest_times_need_weight(day):
    """A need's category is drawn ∝ interest x need_weight (chi-square, pinned key); the
    feed's sampling weight (affinity) plays no part."""
    n = 6000
    chunk = make_chunk(n, interest=tile([0.5, 0.25, 0.25], n), affinity=tile([0.0, 0.0, 1.0], n))
    rules = make_rules(need_prob=1.0, need_weight=np.array([1.0, 2.0, 0.0]))
    observed = np.bincount(day(chunk, rules=rules).new_need, minlength=K)
    assert observed.sum() == n
    assert observed[2] == 0
    assert stats.chisquare(observed[:2], n * np.array([0.5, 0.5])).pvalue > ALPHA


# --------------------------------------------------------------------------------------------
# Feed, live and follow
# --------------------------------------------------------------------------------------------


def test_feed_shows_videos_and_live_shows_live_rooms_of_the_consumers_interest(day):
    """Consumers whose affinity is all in category 2 see only category-2 content; the feed
    shows only videos and live only live rooms."""
    n = 300
    chunk = make_chunk(n, affinity=tile([0.0, 0.0, 1.0], n))
    feed_only = day(chunk, rules=make_rules(channels=channels(FEED)))
    live_only = day(chunk, rules=make_rules(channels=channels(LIVE)))
    for out in (feed_only, live_only):
        shown = np.flatnonzero(out.content_impressions)
        assert shown.size > 0
        assert np.all(ITEM_CATEGORY[shown] == 2)
    assert np.all(~ITEM_LIVE[np.flatnonzero(feed_only.content_impressions)])
    assert np.all(ITEM_LIVE[np.flatnonzero(live_only.content_impressions)])
    assert feed_only.channel_impressions[FEED] == feed_only.content_impressions.sum()
    assert live_only.channel_impressions[LIVE] == live_only.content_impressions.sum()


# Seven videos: category 0 holds items 0 (weight 1), 1 (weight 3) and 2 (weight 0); category 1
# holds item 3 (weight 2); category 2 holds items 4-6 (weights 0.5, 0.5, 0).
FEED_CATEGORY = np.array([0, 0, 0, 1, 2, 2, 2])
FEED_WEIGHT = np.array([1.0, 3.0, 0.0, 2.0, 0.5, 0.5, 0.0])


def feed_tables() -> Tables:
    n = FEED_CATEGORY.size
    return make_tables(
        feed=sampler(FEED_CATEGORY, FEED_WEIGHT),
        live=NOTHING,
        creator_start=np.zeros(1, dtype=np.int64),
        creator_count=np.zeros(1, dtype=np.int64),
        item_listing=np.array([0, 0, 0, 1, 2, 2, 2]),
        item_creator=np.zeros(n, dtype=np.int64),
        item_appeal=np.full(n, 0.5),
        item_is_live=np.zeros(n, dtype=bool),
    )


def test_feed_category_frequencies_follow_affinity_times_category_weight(day):
    """Feed impressions fall in category k with probability ∝ affinity_k x Z_k (Z_k the
    category's total item weight): chi-square with a pinned key."""
    n = 2000
    affinity = np.array([0.5, 0.25, 0.25])
    chunk = make_chunk(n, affinity=tile(affinity, n))
    out = day(chunk, feed_tables(), make_rules(channels=channels(FEED)))
    per_category = np.bincount(FEED_CATEGORY, weights=out.content_impressions, minlength=K)
    z = np.bincount(FEED_CATEGORY, weights=FEED_WEIGHT, minlength=K)
    p = affinity * z / (affinity * z).sum()
    total = per_category.sum()
    assert total == out.channel_impressions[FEED] > 10_000
    assert stats.chisquare(per_category, total * p).pvalue > ALPHA


def test_items_within_a_category_are_drawn_in_proportion_to_their_weight(day):
    """Within a category an item is shown ∝ its weight, and an item of weight 0 never."""
    n = 2000
    out = day(make_chunk(n), feed_tables(), make_rules(channels=channels(FEED)))
    shown = out.content_impressions
    assert shown[2] == 0 and shown[6] == 0
    assert shown[0] + shown[1] > 1000
    lo, hi = stats.binom.ppf([ALPHA / 2, 1 - ALPHA / 2], shown[0] + shown[1], 0.25)
    assert lo <= shown[0] <= hi
    lo, hi = stats.binom.ppf([ALPHA / 2, 1 - ALPHA / 2], shown[4] + shown[5], 0.5)
    assert lo <= shown[4] <= hi


def test_follow_impressions_come_only_from_followed_creators_who_posted_today(day):
    """With only the following feed on, consumers following creators 0 and 1 (who posted
    nothing) see creator 0's items, evenly; consumers following only creator 1, or only a
    creator the day's content does not know, or nobody, see nothing."""
    rules = make_rules(channels=channels(FOLLOW))
    n = 300
    out = day(make_chunk(n, **following(n, [0, 1])), rules=rules)
    shown = out.follow_impressions
    assert shown.sum() > 0
    assert out.channel_impressions[FOLLOW] == shown.sum() == out.channel_impressions.sum()
    assert out.content_impressions.sum() == 0
    np.testing.assert_array_equal(np.flatnonzero(shown), [0, 1])
    lo, hi = stats.binom.ppf([ALPHA / 2, 1 - ALPHA / 2], shown.sum(), 0.5)
    assert lo <= shown[0] <= hi
    for creators in ([1, -1], [7, -1], [-1, -1]):
        assert nothing_shown(day(make_chunk(n, **following(n, creators)), rules=rules))


def test_follow_slots_of_consumers_who_follow_nobody_go_to_the_feed(day):
    """A consumer who follows nobody gets the slots the following feed would have had in the
    feed: the same consumers, following a creator who posted or nobody, see as many items."""
    n = 200
    rules = make_rules(channels=channels(FEED, FOLLOW), shares=np.array([0.5, 0.0, 0.5]))
    followers = day(make_chunk(n, **following(n, [0, -1])), rules=rules)
    loners = day(make_chunk(n), rules=rules)
    assert followers.channel_impressions[FOLLOW] > 0
    assert loners.channel_impressions[FOLLOW] == 0
    assert loners.channel_impressions[FEED] == followers.channel_impressions.sum()


def test_switched_off_channels_show_nothing(day):
    """A channel that is off produces no impressions while the others still do."""
    n = 200
    chunk = make_chunk(n, need_category=np.zeros(n), **following(n, [0, 2]))
    everything = day(chunk)
    assert np.all(everything.channel_impressions > 0)
    for off in range(5):
        out = day(chunk, rules=make_rules(channels=~channels(off)))
        assert out.channel_impressions[off] == 0
        assert out.channel_impressions.sum() > 0
    assert nothing_shown(day(chunk, rules=make_rules(channels=np.zeros(5, dtype=bool))))


# --------------------------------------------------------------------------------------------
# Search and mall
# --------------------------------------------------------------------------------------------


def test_search_results_are_listings_of_the_need_category(day):
    """A seeker gets results_per_need listings, all in the need's category."""
    n = 100
    chunk = make_chunk(n, need_category=np.full(n, 2), attention=np.zeros(n))
    out = day(chunk, rules=make_rules(results_per_need=4, search_share=1.0))
    assert out.channel_impressions[SEARCH] == 4 * n == out.channel_impressions.sum()
    assert out.shelf_impressions.sum() == 4 * n
    assert np.all(LISTING_CATEGORY[np.flatnonzero(out.shelf_impressions)] == 2)


def test_needs_are_split_between_search_and_mall_by_the_search_share(day):
    """With both on, a need's results go to search with probability search_share, all
    results_per_need of them together."""
    n = 3000
    chunk = make_chunk(n, need_category=np.full(n, 1), attention=np.zeros(n))
    out = day(chunk, rules=make_rules(search_share=0.3, results_per_need=2))
    searches, mall = out.channel_impressions[[SEARCH, MALL]]
    assert searches % 2 == 0 and searches + mall == 2 * n
    lo, hi = stats.binom.ppf([ALPHA / 2, 1 - ALPHA / 2], n, 0.3)
    assert lo <= searches // 2 <= hi


def test_needs_go_to_the_mall_when_search_is_off(day):
    """With search off, every need's results appear in the mall."""
    n = 50
    chunk = make_chunk(n, need_category=np.ones(n), attention=np.zeros(n))
    out = day(chunk, rules=make_rules(channels=~channels(SEARCH)))
    assert out.channel_impressions[MALL] == 3 * n == out.channel_impressions.sum()


def unranked(listing: int) -> Sampler:
    """A shelf on which ``listing`` has weight 0, so only loyalty can show it."""
    weight = np.ones(LISTING_CATEGORY.size)
    weight[listing] = 0.0
    return sampler(LISTING_CATEGORY, weight)


def test_loyal_consumer_sees_the_remembered_listing_first(day):
    """With loyalty_prob 1, a remembered listing of the need's category takes the first result:
    a listing the ranking never shows is shown once to each seeker, and seekers who buy
    everything but can afford one item buy it; with loyalty_prob 0 it is never shown."""
    n = 40
    chunk = make_chunk(
        n,
        need_category=np.full(n, 1),
        favorite_listing=np.full(n, 4),
        attention=np.zeros(n),
        budget_yuan=np.full(n, 15.0),
    )
    tables = make_tables(shelf=unranked(4))
    loyal = make_rules(loyalty_prob=1.0, base_logit=np.full(5, ALWAYS))
    out = day(chunk, tables, loyal)
    assert out.shelf_impressions[4] == n
    np.testing.assert_array_equal(out.intent_row, np.arange(n))
    np.testing.assert_array_equal(out.intent_listing, np.full(n, 4))
    assert day(chunk, tables, replace(loyal, loyalty_prob=0.0)).shelf_impressions[4] == 0


def test_remembered_listing_of_another_category_is_not_pushed(day):
    """A remembered listing outside the need's category never takes a result."""
    n = 40
    chunk = make_chunk(
        n, need_category=np.full(n, 2), favorite_listing=np.full(n, 0), attention=np.zeros(n)
    )
    out = day(chunk, make_tables(shelf=unranked(0)), make_rules(loyalty_prob=1.0))
    assert out.shelf_impressions[0] == 0
    assert out.shelf_impressions.sum() == 3 * n


def test_mall_recommends_one_listing_by_interest_to_browsers_without_a_need(day):
    """With mall_browse_prob 1, each active consumer without a need gets exactly one mall
    listing, of a category they have affinity for; consumers with a need get their results
    instead; with the mall off nobody browses."""
    n = 80
    has_need = np.arange(n) < 20
    chunk = make_chunk(
        n,
        attention=np.zeros(n),
        need_category=np.where(has_need, 0, -1),
        affinity=tile([0.0, 0.0, 1.0], n),
    )
    rules = make_rules(mall_browse_prob=1.0, search_share=1.0)
    out = day(chunk, rules=rules)
    assert out.channel_impressions[MALL] == n - has_need.sum()
    assert out.channel_impressions[SEARCH] == 3 * has_need.sum()
    assert out.shelf_impressions[[2, 3]].sum() == n - has_need.sum()
    assert out.shelf_impressions[0] == 3 * has_need.sum()
    no_mall = day(chunk, rules=replace(rules, channels=~channels(MALL)))
    assert no_mall.channel_impressions[MALL] == 0


def test_browsing_follows_the_browse_probability(day):
    """The number of browsers is Binomial(active consumers without a need, mall_browse_prob)."""
    n = 3000
    out = day(make_chunk(n, attention=np.zeros(n)), rules=make_rules(mall_browse_prob=0.2))
    lo, hi = stats.binom.ppf([ALPHA / 2, 1 - ALPHA / 2], n, 0.2)
    assert lo <= out.channel_impressions[MALL] <= hi


def test_no_content_and_no_shelf_means_no_impressions(day):
    """With nothing on offer, active consumers with needs, follows and browsing see nothing."""
    n = 100
    tables = make_tables(feed=NOTHING, live=NOTHING, shelf=NOTHING)
    chunk = make_chunk(n, need_category=np.where(np.arange(n) < 50, 1, -1))
    out = day(chunk, tables, make_rules(mall_browse_prob=1.0, need_prob=1.0))
    assert out.active.all()
    assert nothing_shown(out)


# --------------------------------------------------------------------------------------------
# Purchases and follows
# --------------------------------------------------------------------------------------------


def test_a_consumer_buys_a_listing_at_most_once_a_day(day):
    """Shown the same listing over and over and buying every impression, a consumer buys it
    once."""
    n = 50
    tables = make_tables(feed=sampler(ITEM_CATEGORY, [1.0, 0.0, 0.0, 0.0]), live=NOTHING)
    rules = make_rules(channels=channels(FEED), base_logit=np.full(5, ALWAYS))
    out = day(make_chunk(n, attention=np.full(n, 30.0)), tables, rules)
    assert out.content_impressions[0] > 10 * n
    np.testing.assert_array_equal(out.intent_row, np.arange(n))
    np.testing.assert_array_equal(out.intent_listing, np.zeros(n))
    np.testing.assert_array_equal(out.intent_channel, np.full(n, FEED))
    np.testing.assert_array_equal(out.intent_item, np.zeros(n))


def test_purchases_stop_at_the_first_one_over_budget(day):
    """Content comes before search results: a consumer whose content is priced over the
    budget buys nothing all day, not even the affordable results that follow; with a larger
    budget they buy both, the content first."""
    n = 50
    price = np.full(LISTING_CATEGORY.size, 5.0)
    price[0] = 80.0
    tables = make_tables(
        feed=sampler(ITEM_CATEGORY, [1.0, 0.0, 0.0, 0.0]),
        live=NOTHING,
        shelf=unranked(0),
        listing_price_yuan=price,
    )
    rules = make_rules(
        channels=channels(FEED, SEARCH), base_logit=np.full(5, ALWAYS), results_per_need=1
    )
    chunk = make_chunk(n, need_category=np.full(n, 2), attention=np.full(n, 40.0))
    poor = day(replace(chunk, budget_yuan=np.full(n, 50.0)), tables, rules)
    assert poor.channel_impressions[SEARCH] == n
    assert poor.intent_row.size == 0
    rich = day(replace(chunk, budget_yuan=np.full(n, 85.0)), tables, rules)
    np.testing.assert_array_equal(rich.intent_row, np.repeat(np.arange(n), 2))
    np.testing.assert_array_equal(rich.intent_channel, np.tile([FEED, SEARCH], n))
    np.testing.assert_array_equal(rich.intent_listing[::2], np.zeros(n))
    assert np.all(LISTING_CATEGORY[rich.intent_listing[1::2]] == 2)


def test_budgets_are_counted_in_whole_fen(day):
    """Two purchases of 0.10 and 0.20 yuan fit a budget of 0.30 yuan (their float sum,
    0.30000000000000004, does not matter) and not a budget of 0.29."""
    assert 0.1 + 0.2 > 0.3
    n = 30
    price = np.full(LISTING_CATEGORY.size, 0.2)
    price[4] = 0.1
    chunk = make_chunk(
        n,
        need_category=np.full(n, 1),
        favorite_listing=np.full(n, 4),
        attention=np.zeros(n),
        budget_yuan=np.full(n, 0.3),
    )
    tables = make_tables(shelf=unranked(4), listing_price_yuan=price)
    rules = make_rules(loyalty_prob=1.0, results_per_need=2, base_logit=np.full(5, ALWAYS))
    out = day(chunk, tables, rules)
    np.testing.assert_array_equal(out.intent_listing, np.tile([4, 1], n))
    tight = day(replace(chunk, budget_yuan=np.full(n, 0.29)), tables, rules)
    np.testing.assert_array_equal(tight.intent_listing, np.full(n, 4))


def test_purchase_chance_follows_the_logistic_of_the_offer(day):
    """At base log-odds 0 and every coefficient 0, half the impressions are bought (binomial,
    pinned key)."""
    n = 4000
    chunk = make_chunk(n, need_category=np.full(n, 1), attention=np.zeros(n))
    rules = make_rules(base_logit=np.zeros(5), results_per_need=1, channels=channels(SEARCH))
    out = day(chunk, rules=rules)
    lo, hi = stats.binom.ppf([ALPHA / 2, 1 - ALPHA / 2], n, 0.5)
    assert lo <= out.intent_row.size <= hi


def test_follow_after_view_only_for_content_impressions(day):
    """With follow_after_view_prob 1 and appeal 1, every feed, live and following-feed
    impression makes the viewer follow its creator; search and mall results never do; with
    appeal 0 nobody follows."""
    n = 100
    chunk = make_chunk(n, need_category=np.full(n, 1), **following(n, [2, -1]))
    tables = make_tables(item_appeal=np.ones(ITEM_LISTING.size))
    out = day(chunk, tables, make_rules(follow_after_view_prob=1.0))
    content = out.content_impressions + out.follow_impressions
    assert out.shelf_impressions.sum() == 3 * n
    assert out.follow_row.size == content.sum() > 0
    np.testing.assert_array_equal(
        np.bincount(out.follow_creator, minlength=3),
        np.bincount(ITEM_CREATOR, weights=content, minlength=3),
    )
    assert np.all(np.diff(out.follow_row) >= 0)
    dull = make_tables(item_appeal=np.zeros(ITEM_LISTING.size))
    assert day(chunk, dull, make_rules(follow_after_view_prob=1.0)).follow_row.size == 0


# --------------------------------------------------------------------------------------------
# The engines agree
# --------------------------------------------------------------------------------------------


def assert_same_outcome(a: Outcome, b: Outcome) -> None:
    for f in fields(Outcome):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert np.array_equal(x, y), f.name
        assert x.dtype == y.dtype, f.name


@st.composite
def small_days(draw):
    """A random small day: categories, listings, content, consumers and rules."""
    k = draw(st.integers(1, 4))
    n_listings = draw(st.integers(1, 8))
    n_items = draw(st.integers(0, 10))
    n_creators = draw(st.integers(1, 5))
    b = draw(st.integers(1, 25))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)

    def weights(size: int) -> np.ndarray:
        """Exponential weights with some zeros, or (now and then) all zeros."""
        if rng.random() < 0.1:
            return np.zeros(size)
        return rng.exponential(size=size) * (rng.random(size) < 0.8)

    def content_sampler(mask: np.ndarray) -> Sampler:
        if not n_items or rng.random() < 0.1:
            return Sampler.of(None, k)
        return Sampler.of(index_by_category(item_category, np.where(mask, w, 0.0), k), k)

    listing_category = rng.integers(0, k, n_listings)
    item_creator = np.sort(rng.integers(0, n_creators, n_items))
    creator_count = np.bincount(item_creator, minlength=n_creators)
    is_live = rng.random(n_items) < 0.3
    item_listing = rng.integers(0, n_listings, n_items)
    item_category = listing_category[item_listing]
    w = weights(n_items)
    shelf = (
        Sampler.of(index_by_category(listing_category, weights(n_listings), k), k)
        if rng.random() < 0.9
        else Sampler.of(None, k)
    )
    tables = Tables(
        feed=content_sampler(~is_live),
        live=content_sampler(is_live),
        shelf=shelf,
        creator_start=(np.cumsum(creator_count) - creator_count).astype(np.int64),
        creator_count=creator_count.astype(np.int64),
        item_listing=item_listing.astype(np.int64),
        item_creator=item_creator.astype(np.int64),
        item_appeal=rng.random(n_items),
        item_is_live=is_live,
        listing_category=listing_category.astype(np.int64),
        listing_quality_trusting=rng.random(n_listings),
        listing_quality_doubting=rng.random(n_listings),
        listing_log_price_ratio=rng.normal(0, 0.5, n_listings),
        listing_price_yuan=np.round(rng.uniform(0.01, 80, n_listings), 2),
    )
    interest = rng.dirichlet(np.full(k, 0.7), b).astype(np.float32)
    interest = np.maximum(interest, np.float32(1e-6))
    f = draw(st.integers(1, 4))
    follow_creator = np.where(rng.random((b, f)) < 0.6, rng.integers(0, n_creators + 2, (b, f)), -1)
    follow_creator = -np.sort(-follow_creator, axis=1)  # followed creators first
    first = int(draw(st.integers(0, 10**6)))
    chunk = Chunk(
        index=np.arange(first, first + b, dtype=np.int64),
        on_platform=rng.random(b) < 0.9,
        active_prob=rng.random(b).astype(np.float32),
        attention=rng.exponential(draw(st.sampled_from([0.5, 5.0, 30.0])), b).astype(np.float32),
        need_category=np.where(rng.random(b) < 0.3, rng.integers(0, k, b), -1).astype(np.int8),
        favorite_listing=np.where(rng.random(b) < 0.4, rng.integers(0, n_listings, b), -1).astype(
            np.int64
        ),
        disappointing_listing=np.where(
            rng.random(b) < 0.3, rng.integers(0, n_listings, b), -1
        ).astype(np.int64),
        interest=interest,
        affinity=(interest ** rng.uniform(0.5, 2)).astype(np.float32),
        log_affinity=np.log(k * interest),
        follow_creator=follow_creator.astype(np.int32),
        follow_trust=rng.random((b, f)).astype(np.float32),
        follow_count=(follow_creator >= 0).sum(axis=1).astype(np.int16),
        platform_trust=rng.random(b).astype(np.float32),
        price_sensitivity=rng.lognormal(0, 0.5, b).astype(np.float32),
        budget_yuan=rng.uniform(0, 150, b).astype(np.float32),
    )
    coef = rng.uniform(-5, 10, 8) * (rng.random(8) < 0.6)  # either sign: the bound holds for both
    rules = Rules(
        channels=rng.random(5) < 0.8,
        shares=rng.dirichlet(np.ones(3)),
        active_multiplier=float(rng.uniform(0.5, 1.5)),
        need_prob=float(rng.random()),
        need_weight=rng.uniform(0, 2, k),
        search_share=float(rng.random()),
        results_per_need=int(rng.integers(1, 6)),
        mall_browse_prob=float(rng.random()),
        loyalty_prob=float(rng.random()),
        coefficients=PurchaseCoefficients(rng.uniform(-20, 5, 5), *coef[:8]),
        disappointment_discount=float(rng.random()),
        event_logit=float(rng.normal(0, 2)),
        follow_after_view_prob=float(rng.random()),
    )
    key = np.uint64(int(rng.integers(0, 2**63)) * 2 + 1)
    return chunk, tables, rules, key


@settings(max_examples=40, deadline=None, derandomize=True)
@given(inputs=small_days())
def test_numpy_and_numba_engines_return_identical_outcomes(inputs):
    """On any small day, the compiled engine returns exactly the reference's outcome: every
    field, element for element."""
    pytest.importorskip("numba")
    chunk, tables, rules, key = inputs
    assert {f.name: getattr(chunk, f.name).dtype for f in fields(Chunk)} == STORED
    assert_same_outcome(
        consumer_day_numpy(chunk, tables, rules, key),
        consumer_day_numba(chunk, tables, rules, key),
    )


def varied_day(n: int = 300):
    """A day on which every term of the purchase logit varies: uneven interest, open needs in
    every category, followed creators with some trust, a live room, and listings that differ
    in believed quality, appeal and price."""
    rng = np.random.default_rng(8)
    interest = rng.dirichlet(np.ones(K), n)
    follow = following(n, [0, 2])
    follow["follow_trust"] = rng.random((n, 2))
    chunk = make_chunk(
        n,
        need_category=rng.integers(-1, K, n),
        interest=interest,
        affinity=interest,
        log_affinity=np.log(K * interest),
        platform_trust=rng.random(n),
        price_sensitivity=rng.lognormal(0, 0.5, n),
        budget_yuan=np.full(n, 1000.0),
        **follow,
    )
    tables = make_tables(
        item_appeal=rng.random(ITEM_LISTING.size),
        listing_quality_trusting=rng.random(LISTING_CATEGORY.size),
        listing_quality_doubting=rng.random(LISTING_CATEGORY.size),
        listing_log_price_ratio=rng.normal(0, 0.5, LISTING_CATEGORY.size),
    )
    return chunk, tables


@pytest.mark.parametrize("name", COEFFICIENT_NAMES)
def test_each_coefficient_changes_both_engines_alike(name):
    """The coefficient vector is read the same way by both engines: raising any one
    coefficient from 0 changes what is bought, and the compiled engine's outcome stays the
    reference's exactly, for either sign."""
    pytest.importorskip("numba")
    chunk, tables = varied_day()
    base = make_rules(base_logit=np.full(5, -1.0))
    before = consumer_day_numpy(chunk, tables, base, KEY)
    assert_same_outcome(before, consumer_day_numba(chunk, tables, base, KEY))
    for value in (3.0, -3.0):
        rules = make_rules(base_logit=np.full(5, -1.0), **{name: value})
        after = consumer_day_numpy(chunk, tables, rules, KEY)
        assert_same_outcome(after, consumer_day_numba(chunk, tables, rules, KEY))
        assert not np.array_equal(after.intent_listing, before.intent_listing), (name, value)


def test_the_compiled_kernel_is_cached_under_the_purchase_rule_source():
    """numba's on-disk cache checks only the kernel's own file; the kernel carries a digest of
    the purchase rule's source (and the uniforms') as a closure variable, which is part of its
    cache key, so an edit of sim/kernels/purchase.py compiles it again."""
    pytest.importorskip("numba")
    cells = [c.cell_contents for c in CD._kernel.py_func.__closure__]
    assert CD._rule_digest() in cells
    assert (
        CD._rule_digest()
        == hashlib.sha256(
            Path(purchase.__file__).read_bytes() + Path(R.__file__).read_bytes()
        ).hexdigest()
    )


def test_numba_engine_gives_the_same_outcome_when_its_buffers_fill(monkeypatch):
    """A day with more intents and follows than the compiled engine's buffers hold is
    processed in several passes with the same result as the reference."""
    pytest.importorskip("numba")
    n = 400
    chunk = make_chunk(n, need_category=np.full(n, 1), attention=np.full(n, 20.0))
    chunk = stored(replace(chunk, **following(n, [0, 2])))
    tables = make_tables(item_appeal=np.ones(ITEM_LISTING.size))
    rules = make_rules(base_logit=np.full(5, ALWAYS), follow_after_view_prob=1.0)
    reference = consumer_day_numpy(chunk, tables, rules, KEY)
    assert reference.follow_row.size > 3 * 1100
    monkeypatch.setattr(CD, "BUFFER", 1100)
    assert_same_outcome(reference, consumer_day_numba(chunk, tables, rules, KEY))


def test_engines_agree_on_days_of_the_tiny_market(monkeypatch):
    """On the consumers, tables and rules the tiny market hands the kernel on each of its first
    days (consumers with needs, follows and remembered merchants), both engines return the
    same outcome."""
    pytest.importorskip("numba")
    recorded = []
    run_chunks = sim.phases.matching.run_chunks

    def recording(engine, chunks, tables, rules, key, threads=1):
        chunks = list(chunks)
        recorded.append((chunks, tables, rules, key))
        return run_chunks(engine, chunks, tables, rules, key, threads)

    monkeypatch.setattr(sim.phases.matching, "run_chunks", recording)
    model = MarketModel(tiny_config(), engine="numpy", threads=1)
    for _ in range(4):
        model.step()
    assert len(recorded) == 4
    for chunks, tables, rules, key in recorded:
        for chunk in chunks:
            assert {f.name: getattr(chunk, f.name).dtype for f in fields(Chunk)} == STORED
            reference = consumer_day_numpy(chunk, tables, rules, key)
            assert reference.intent_row.size > 0 and reference.follow_row.size > 0
            assert_same_outcome(reference, consumer_day_numba(chunk, tables, rules, key))
    assert (model.population.need_category >= 0).any()
    assert (model.population.favorite_merchant >= 0).any()


# --------------------------------------------------------------------------------------------
# Chunks, threads and engines do not change a run
# --------------------------------------------------------------------------------------------

RUN_DAYS = 8


def timeseries(engine: str, threads: int) -> tuple[pd.DataFrame, MarketModel]:
    model = MarketModel(tiny_config(f"steps={RUN_DAYS}"), engine=engine, threads=threads)
    rows = []
    for _ in range(RUN_DAYS):
        model.step()
        rows.append(dict(model.metrics))
    return pd.DataFrame(rows), model


@pytest.fixture(scope="module")
def reference_run():
    """The tiny market on the NumPy engine, one chunk, one thread."""
    return timeseries("numpy", 1)


@pytest.mark.parametrize(
    ("engine", "threads", "chunk"),
    [
        ("numpy", 1, 1000),
        ("numba", 1, None),
        ("numba", 2, 1000),
        ("numba", 2, 777),
    ],
)
def test_runs_do_not_depend_on_engine_chunk_size_or_threads(
    reference_run, monkeypatch, engine, threads, chunk
):
    """The tiny market gives the identical daily metrics and end state whether its consumers
    are processed by NumPy or numba, in one chunk or several, on one thread or two."""
    if engine == "numba":
        pytest.importorskip("numba")
    if chunk is not None:
        monkeypatch.setattr(sim.phases.matching, "CHUNK_CONSUMERS", chunk)
    days, model = timeseries(engine, threads)
    expected, reference = reference_run
    assert expected["orders"].sum() > 0
    pd.testing.assert_frame_equal(days, expected, check_exact=True)
    for name in ("need_category", "platform_trust", "on_platform", "favorite_merchant"):
        np.testing.assert_array_equal(
            getattr(model.population, name), getattr(reference.population, name), err_msg=name
        )
    np.testing.assert_array_equal(model.follows.creator, reference.follows.creator)


def test_the_days_records_add_up_to_the_days_totals():
    """Each day of the tiny market, impressions per listing add up to the impressions of every
    channel, and the consumers marked active are as many as the active consumers counted."""
    model = MarketModel(tiny_config("steps=3"), threads=1)
    for _ in range(3):
        model.step()
        today = model.last_day
        assert today.listing_impressions.shape == (model.listings.n,)
        assert today.listing_impressions.sum() == today.counts.impressions.sum() > 0
        assert today.active.shape == (model.population.n,)
        assert today.active.sum() == today.counts.active_consumers > 0


# --------------------------------------------------------------------------------------------
# Counter-based uniforms
# --------------------------------------------------------------------------------------------


def test_uniforms_are_in_the_unit_interval():
    """Draws lie in [0, 1), the largest possible value included (the top 53 bits all set)."""
    u = R.uniform(KEY, np.arange(200_000), R.BUY, np.arange(200_000) % R.MAX_SLOTS)
    assert u.dtype == np.float64
    assert np.all((u >= 0) & (u < 1))
    top = float(np.uint64(2**64 - 1) >> np.uint64(11)) * R.TO_UNIT
    assert top < 1.0


def test_uniforms_are_reproducible_and_do_not_depend_on_evaluation_order():
    """The same (key, consumer, purpose, slot) always gives the same number, whether drawn
    alone, in any order, or in pieces."""
    consumer = np.repeat(np.arange(500), 20)
    slot = np.tile(np.arange(20), 500)
    u = R.uniform(KEY, consumer, R.ITEM, slot)
    np.testing.assert_array_equal(u, R.uniform(KEY, consumer, R.ITEM, slot))
    order = np.random.default_rng(0).permutation(consumer.size)
    np.testing.assert_array_equal(u[order], R.uniform(KEY, consumer[order], R.ITEM, slot[order]))
    pieces = [
        R.uniform(KEY, consumer[i : i + 333], R.ITEM, slot[i : i + 333])
        for i in range(0, consumer.size, 333)
    ]
    np.testing.assert_array_equal(u, np.concatenate(pieces))
    one = R.uniform(KEY, np.array([123]), R.ITEM, np.array([7]))
    np.testing.assert_array_equal(one, u[[123 * 20 + 7]])
    np.testing.assert_array_equal(R.uniform(KEY, 123, R.ITEM, slot[:20]), u[123 * 20 : 124 * 20])


def test_a_single_uniform_is_the_same_number_as_in_an_array():
    """Drawing one number with scalar consumer and slot gives the same number as drawing it
    among others, without a warning."""
    u = R.uniform(KEY, np.arange(200), R.ITEM, 7)
    assert R.uniform(KEY, 123, R.ITEM, 7)[0] == u[123]


def test_uniforms_differ_by_key_consumer_purpose_and_slot():
    """Changing any of key, consumer, purpose or slot gives other numbers."""
    c = np.arange(1000)
    base = R.uniform(KEY, c, R.BUY, 3)
    for other in (
        R.uniform(KEY + np.uint64(1), c, R.BUY, 3),
        R.uniform(KEY, c + 1000, R.BUY, 3),
        R.uniform(KEY, c, R.FOLLOW_VIEW, 3),
        R.uniform(KEY, c, R.BUY, 4),
    ):
        assert np.mean(base == other) < 0.01


def test_uniforms_look_uniform_and_independent():
    """Over consumers, over slots and across purposes the draws pass a Kolmogorov-Smirnov test
    against U(0, 1), and pairs (purpose a, purpose b) of one consumer fill a 10 x 10 grid
    evenly (chi-square), all on a pinned key."""
    consumers = np.arange(100_000)
    for u in (
        R.uniform(KEY, consumers, R.ACTIVE),
        R.uniform(KEY, 7, R.SPLIT, np.arange(R.MAX_SLOTS)),
        R.uniform(np.uint64(0x5EED5EED5EED5EED), consumers, R.CATEGORY, consumers % 50),
    ):
        assert stats.kstest(u, "uniform").pvalue > ALPHA
    a = R.uniform(KEY, consumers, R.ACTIVE)
    b = R.uniform(KEY, consumers, R.NEED)
    grid = np.bincount((a * 10).astype(int) * 10 + (b * 10).astype(int), minlength=100)
    assert stats.chisquare(grid).pvalue > ALPHA
    # Neighbouring slots of one consumer and neighbouring consumers are uncorrelated.
    s = R.uniform(KEY, 3, R.ITEM, np.arange(R.MAX_SLOTS))
    assert abs(stats.pearsonr(s[:-1], s[1:]).statistic) < 4 / np.sqrt(s.size)
    assert abs(stats.pearsonr(a[:-1], a[1:]).statistic) < 4 / np.sqrt(a.size)
