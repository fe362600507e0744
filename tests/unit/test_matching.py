"""Matching: who is active, needs, attention split and each channel's impressions."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import stats

from sim.kernels.matching import (
    FEED,
    FOLLOW,
    LIVE,
    MALL,
    NO_ITEM,
    SEARCH,
    ConsumerBlock,
    DayOffer,
    Impressions,
    MatchRules,
    match_block,
    sample_followed,
    split_attention,
)
from sim.kernels.sampling import index_by_category

ALPHA = 1e-4
K = 3

# Five listings: categories 0, 1, 2, 2, 1.
LISTING_CATEGORY = np.array([0, 1, 2, 2, 1])
# Content: creator 0 has items 0-1 (videos), creator 1 has none, creator 2 has items 2-3
# (item 3 live). Items present listings 0, 1, 2, 3.
ITEM_LISTING = np.array([0, 1, 2, 3])
ITEM_LIVE = np.array([False, False, False, True])
CREATOR_START = np.array([0, 2, 2])
CREATOR_COUNT = np.array([2, 0, 2])


def make_offer(**changes) -> DayOffer:
    item_category = LISTING_CATEGORY[ITEM_LISTING]
    feed_w = np.where(~ITEM_LIVE, 1.0, 0.0)
    live_w = np.where(ITEM_LIVE, 1.0, 0.0)
    offer = DayOffer(
        feed=index_by_category(item_category, feed_w, K),
        live=index_by_category(item_category, live_w, K),
        shelf=index_by_category(LISTING_CATEGORY, np.ones(LISTING_CATEGORY.size), K),
        interest_exponent=1.0,
        creator_start=CREATOR_START,
        creator_count=CREATOR_COUNT,
        listing_category=LISTING_CATEGORY,
        item_listing=ITEM_LISTING,
    )
    return replace(offer, **changes)


def make_block(b: int = 200, **changes) -> ConsumerBlock:
    block = ConsumerBlock(
        index=np.arange(b, dtype=np.int64),
        interest=np.full((b, K), 1.0 / K, dtype=np.float32),
        on_platform=np.ones(b, dtype=bool),
        active_prob=np.ones(b, dtype=np.float32),
        attention=np.full(b, 10.0, dtype=np.float32),
        need_category=np.full(b, -1, dtype=np.int8),
        favorite_listing=np.full(b, -1, dtype=np.int64),
        follow_creator=np.full((b, 2), -1, dtype=np.int32),
        follow_trust=np.zeros((b, 2), dtype=np.float32),
        follow_count=np.zeros(b, dtype=np.int16),
        platform_trust=np.full(b, 0.7, dtype=np.float32),
        price_sensitivity=np.ones(b, dtype=np.float32),
        budget_yuan=np.full(b, 100.0, dtype=np.float32),
    )
    return replace(block, **changes)


def make_rules(**changes) -> MatchRules:
    rules = MatchRules(
        channels=(True, True, True, True, True),
        attention_shares=(0.6, 0.25, 0.15),
        active_prob_multiplier=1.0,
        need_prob=0.0,
        need_weight=np.ones(K),
        search_share=0.5,
        results_per_need=3,
        mall_browse_prob=0.0,
        loyalty_prob=0.0,
    )
    return replace(rules, **changes)


# split_attention ------------------------------------------------------------------------------


def test_split_attention_sums_to_total():
    """Feed, live and follow slots add up to each consumer's total."""
    total = np.array([0, 1, 5, 17, 40])
    feed, live, follow = split_attention(
        total, (0.5, 0.3, 0.2), np.ones(5, dtype=bool), np.random.default_rng(0)
    )
    np.testing.assert_array_equal(feed + live + follow, total)
    assert np.all(feed >= 0) and np.all(live >= 0) and np.all(follow >= 0)


def test_split_attention_moves_follow_slots_to_feed_without_follows():
    """A consumer following nobody gets no follow slots while the feed is on."""
    total = np.full(50, 20)
    has_follows = np.arange(50) % 2 == 0
    feed, live, follow = split_attention(
        total, (0.2, 0.2, 0.6), has_follows, np.random.default_rng(1)
    )
    assert np.all(follow[~has_follows] == 0)
    assert follow[has_follows].sum() > 0
    np.testing.assert_array_equal(feed + live + follow, total)


def test_split_attention_disabled_channels_get_nothing():
    """A channel with share 0 gets no slots; all shares 0 gives no slots at all."""
    total = np.full(30, 12)
    feed, live, follow = split_attention(
        total, (0.0, 1.0, 0.0), np.ones(30, dtype=bool), np.random.default_rng(2)
    )
    assert feed.sum() == 0 and follow.sum() == 0
    np.testing.assert_array_equal(live, total)
    parts = split_attention(
        total, (0.0, 0.0, 0.0), np.ones(30, dtype=bool), np.random.default_rng(2)
    )
    assert all(p.sum() == 0 for p in parts)


def test_split_attention_follows_the_shares_on_average():
    """Feed slots are Binomial(total, share): their sum lies within a binomial bound."""
    total = np.full(1000, 10)
    feed, _, _ = split_attention(
        total, (0.5, 0.3, 0.2), np.ones(1000, dtype=bool), np.random.default_rng(3)
    )
    lo, hi = stats.binom.ppf([ALPHA / 2, 1 - ALPHA / 2], total.sum(), 0.5)
    assert lo <= feed.sum() <= hi


# sample_followed ------------------------------------------------------------------------------


def test_followed_items_come_from_followed_creators_who_posted():
    """Follow slots show items of a followed creator; slots on a silent creator stay empty."""
    follow_creator = np.array([[0, 2], [1, -1], [-1, -1]], dtype=np.int32)
    follow_count = np.array([2, 1, 0], dtype=np.int16)
    rows, items = sample_followed(
        np.arange(3),
        follow_creator,
        follow_count,
        np.array([200, 50, 10]),
        CREATOR_START,
        CREATOR_COUNT,
        np.random.default_rng(4),
    )
    # Consumer 1 follows only creator 1, who posted nothing; consumer 2 follows nobody.
    assert set(rows.tolist()) == {0}
    assert rows.size == 200
    assert set(items.tolist()) == {0, 1, 2, 3}


def test_followed_creator_beyond_the_content_table_is_skipped():
    """A followed creator index the day's content does not know yields no item."""
    rows, items = sample_followed(
        np.arange(1),
        np.array([[7]], dtype=np.int32),
        np.array([1], dtype=np.int16),
        np.array([5]),
        CREATOR_START,
        CREATOR_COUNT,
        np.random.default_rng(0),
    )
    assert rows.size == 0 and items.size == 0


# match_block ----------------------------------------------------------------------------------


def test_consumers_off_the_platform_are_never_active():
    """Consumers who left are inactive and see nothing, even with active_prob 1."""
    on = np.arange(100) % 3 != 0
    result = match_block(
        make_block(100, on_platform=on), make_offer(), make_rules(), np.random.default_rng(0)
    )
    np.testing.assert_array_equal(result.active, on)
    assert not np.isin(result.impressions.consumer, np.flatnonzero(~on)).any()


def test_activity_rate_follows_active_prob_times_multiplier():
    """The share of active consumers is Binomial(n, active_prob x multiplier)."""
    n = 4000
    block = make_block(n, active_prob=np.full(n, 0.4, dtype=np.float32))
    result = match_block(
        block, make_offer(), make_rules(active_prob_multiplier=1.5), np.random.default_rng(1)
    )
    lo, hi = stats.binom.ppf([ALPHA / 2, 1 - ALPHA / 2], n, 0.6)
    assert lo <= result.active.sum() <= hi


def test_needs_arrive_only_for_active_consumers_without_one():
    """With need_prob 1 every active consumer without a need gets one; others get none."""
    n = 60
    need = np.where(np.arange(n) < 20, 1, -1).astype(np.int8)
    on = np.arange(n) < 40
    block = make_block(n, need_category=need, on_platform=on)
    result = match_block(block, make_offer(), make_rules(need_prob=1.0), np.random.default_rng(2))
    assert np.all(result.new_need[:20] == -1)
    assert np.all(result.new_need[20:40] >= 0)
    assert np.all(result.new_need[40:] == -1)


def test_need_category_follows_interest_times_need_weight():
    """A need's category is drawn ∝ interest x need_weight (chi-square, pinned seed)."""
    n = 6000
    interest = np.tile(np.array([0.5, 0.25, 0.25], dtype=np.float32), (n, 1))
    need_weight = np.array([1.0, 2.0, 0.0])
    result = match_block(
        make_block(n, interest=interest),
        make_offer(),
        make_rules(need_prob=1.0, need_weight=need_weight),
        np.random.default_rng(3),
    )
    observed = np.bincount(result.new_need, minlength=K)
    p = np.array([0.5, 0.5, 0.0])
    assert observed[2] == 0
    assert stats.chisquare(observed[:2], n * p[:2]).pvalue > ALPHA


def test_feed_and_live_follow_the_consumers_interest():
    """A consumer whose interest is all in category 2 sees only category-2 content in feed/live."""
    n = 300
    interest = np.tile(np.array([0.0, 0.0, 1.0], dtype=np.float32), (n, 1))
    result = match_block(
        make_block(n, interest=interest), make_offer(), make_rules(), np.random.default_rng(4)
    )
    imp = result.impressions
    content = np.isin(imp.channel, [FEED, LIVE])
    assert content.sum() > 0
    assert np.all(LISTING_CATEGORY[imp.listing[content]] == 2)
    # Feed shows only videos, live only live appearances.
    assert np.all(~ITEM_LIVE[imp.item[imp.channel == FEED]])
    assert np.all(ITEM_LIVE[imp.item[imp.channel == LIVE]])


def test_content_impressions_name_the_listing_their_item_presents():
    """Every content impression's listing is the listing of its content item."""
    result = match_block(make_block(), make_offer(), make_rules(), np.random.default_rng(5))
    imp = result.impressions
    has_item = imp.item != NO_ITEM
    assert has_item.sum() > 0
    np.testing.assert_array_equal(imp.listing[has_item], ITEM_LISTING[imp.item[has_item]])


def test_switched_off_channels_show_nothing():
    """A channel that is off produces no impressions; the others still do."""
    need = np.zeros(200, dtype=np.int8)
    follow_creator = np.tile(np.array([0, 2], dtype=np.int32), (200, 1))
    block = make_block(
        need_category=need,
        follow_creator=follow_creator,
        follow_count=np.full(200, 2, dtype=np.int16),
    )
    everything = match_block(block, make_offer(), make_rules(), np.random.default_rng(6))
    assert set(everything.impressions.channel.tolist()) == {FEED, LIVE, FOLLOW, SEARCH, MALL}
    for off in range(5):
        channels = tuple(i != off for i in range(5))
        result = match_block(
            block, make_offer(), make_rules(channels=channels), np.random.default_rng(6)
        )
        assert off not in set(result.impressions.channel.tolist())
        assert result.impressions.consumer.size > 0


def test_search_results_are_listings_of_the_need_category():
    """A seeker gets results_per_need listings, all in the need's category, without an item."""
    n = 100
    need = np.full(n, 2, dtype=np.int8)
    result = match_block(
        make_block(n, need_category=need, attention=np.zeros(n, dtype=np.float32)),
        make_offer(),
        make_rules(results_per_need=4, search_share=1.0),
        np.random.default_rng(7),
    )
    imp = result.impressions
    assert np.all(imp.channel == SEARCH)
    assert np.all(imp.item == NO_ITEM)
    assert np.all(LISTING_CATEGORY[imp.listing] == 2)
    np.testing.assert_array_equal(np.bincount(imp.consumer, minlength=n), np.full(n, 4))


def test_needs_go_to_the_mall_when_search_is_off():
    """With search off, every need's results appear in the mall."""
    n = 50
    result = match_block(
        make_block(n, need_category=np.ones(n, dtype=np.int8), attention=np.zeros(n, np.float32)),
        make_offer(),
        make_rules(channels=(True, True, True, False, True)),
        np.random.default_rng(8),
    )
    assert np.all(result.impressions.channel == MALL)
    assert result.impressions.consumer.size == 3 * n


def test_loyal_consumer_sees_the_remembered_listing_first():
    """With loyalty_prob 1, a remembered listing in the need's category is the first result."""
    n = 40
    block = make_block(
        n,
        need_category=np.full(n, 1, dtype=np.int8),
        favorite_listing=np.full(n, 4, dtype=np.int64),
        attention=np.zeros(n, dtype=np.float32),
    )
    result = match_block(
        block,
        make_offer(),
        make_rules(loyalty_prob=1.0, results_per_need=3),
        np.random.default_rng(9),
    )
    imp = result.impressions
    for c in range(n):
        assert imp.listing[imp.consumer == c][0] == 4


def test_remembered_listing_of_another_category_is_not_pushed():
    """A remembered listing outside the need's category never takes the first result."""
    n = 40
    block = make_block(
        n,
        need_category=np.full(n, 2, dtype=np.int8),
        favorite_listing=np.full(n, 0, dtype=np.int64),
        attention=np.zeros(n, dtype=np.float32),
    )
    result = match_block(
        block, make_offer(), make_rules(loyalty_prob=1.0), np.random.default_rng(10)
    )
    assert not np.any(result.impressions.listing == 0)


def test_mall_recommends_one_listing_to_browsers_without_a_need():
    """With mall_browse_prob 1 and no needs, each active consumer gets exactly one mall listing."""
    n = 80
    result = match_block(
        make_block(n, attention=np.zeros(n, dtype=np.float32)),
        make_offer(),
        make_rules(mall_browse_prob=1.0),
        np.random.default_rng(11),
    )
    imp = result.impressions
    assert np.all(imp.channel == MALL)
    np.testing.assert_array_equal(np.bincount(imp.consumer, minlength=n), np.ones(n))


def test_no_content_and_no_shelf_means_no_impressions():
    """With nothing on offer, active consumers see nothing."""
    offer = make_offer(feed=None, live=None, shelf=None)
    result = match_block(make_block(), offer, make_rules(need_prob=1.0), np.random.default_rng(12))
    assert result.impressions.consumer.size == 0
    assert result.active.all()


def test_concat_of_nothing_is_empty_and_typed():
    """Concatenating no parts gives empty impressions with the documented dtypes."""
    imp = Impressions.concat([])
    assert imp.consumer.size == 0 and imp.channel.dtype == np.int8
    assert imp.listing.dtype == np.int64 and imp.item.dtype == np.int64
