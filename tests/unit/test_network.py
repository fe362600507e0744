"""The follow network: packed rows, follower counts, capacity and trust."""

from __future__ import annotations

import numpy as np
import pytest

from sim.network import EMPTY, FollowGraph, build_follow_graph
from sim.rng import Streams


def assert_consistent(graph: FollowGraph) -> None:
    """Rows are packed, counts match, no duplicates, follower counts equal a recount."""
    filled = graph.creator >= 0
    cap = graph.capacity
    assert np.array_equal(filled.sum(axis=1), graph.count)
    packed = np.arange(cap)[None, :] < graph.count[:, None]
    assert np.array_equal(filled, packed)
    assert np.all(graph.trust[~filled] == 0)
    for row in graph.creator:
        live = row[row >= 0]
        assert live.size == np.unique(live).size
    recount = np.bincount(graph.creator[filled], minlength=graph.followers.size)
    assert np.array_equal(recount[: graph.followers.size], graph.followers)
    assert recount.size == graph.followers.size


def edges(graph: FollowGraph) -> set[tuple[int, int]]:
    c, k = graph.edges()
    return set(zip(c.tolist(), k.tolist(), strict=True))


def test_follow_adds_edges_and_counts_followers():
    """New follows appear in the rows, with the given trust, and in the follower counts."""
    g = FollowGraph(3, capacity=4)
    added = g.follow(np.array([0, 0, 2]), np.array([5, 1, 5]), trust=0.5)
    assert added == 3
    assert edges(g) == {(0, 5), (0, 1), (2, 5)}
    assert g.followers[5] == 2 and g.followers[1] == 1
    np.testing.assert_allclose(g.trust_in(np.array([0, 2, 1]), np.array([1, 5, 5])), [0.5, 0.5, 0])
    assert_consistent(g)


def test_following_twice_changes_nothing():
    """A pair already present, or repeated within a call, is added once."""
    g = FollowGraph(2, capacity=3)
    g.follow(np.array([0]), np.array([1]), trust=0.5)
    added = g.follow(np.array([0, 1, 1]), np.array([1, 2, 2]), trust=0.9)
    assert added == 1
    assert g.followers[1] == 1 and g.followers[2] == 1
    assert g.trust_in(np.array([0]), np.array([1]))[0] == pytest.approx(0.5)
    assert_consistent(g)


def test_full_row_replaces_its_least_trusted_creator():
    """At capacity, a new follow takes the slot of the least trusted creator."""
    g = FollowGraph(1, capacity=3)
    for creator, trust in ((0, 0.9), (1, 0.2), (2, 0.6)):
        g.follow(np.array([0]), np.array([creator]), trust=trust)
    g.follow(np.array([0]), np.array([3]), trust=0.5)
    assert edges(g) == {(0, 0), (0, 2), (0, 3)}
    assert g.count[0] == 3
    assert g.followers[1] == 0 and g.followers[3] == 1
    assert_consistent(g)


def test_many_follows_for_one_consumer_in_one_call_respect_capacity():
    """More new follows than the capacity in one call leave a full, duplicate-free row."""
    g = FollowGraph(2, capacity=3)
    g.follow(np.zeros(6, dtype=int), np.arange(6), trust=0.5)
    assert g.count[0] == 3
    assert g.followers.sum() == 3
    assert_consistent(g)


def test_unfollow_keeps_rows_packed():
    """Removing a follow from the middle of a row moves the last one into its slot."""
    g = FollowGraph(2, capacity=4)
    g.follow(np.zeros(4, dtype=int), np.array([10, 11, 12, 13]), trust=0.5)
    g.adjust_trust(np.array([0]), np.array([13]), np.array([0.5]), np.array([0.0]))
    removed = g.unfollow(np.array([0, 0, 1]), np.array([11, 11, 10]))
    assert removed == 1
    assert edges(g) == {(0, 10), (0, 12), (0, 13)}
    assert g.followers[11] == 0 and g.followers[10] == 1
    assert g.trust_in(np.array([0]), np.array([13]))[0] == pytest.approx(0.75)
    assert_consistent(g)


def test_unfollow_everything_empties_the_row():
    """Unfollowing every creator of a row, in one call, leaves it empty."""
    g = FollowGraph(1, capacity=3)
    g.follow(np.zeros(3, dtype=int), np.array([1, 2, 3]), trust=0.5)
    assert g.unfollow(np.zeros(3, dtype=int), np.array([3, 1, 2])) == 3
    assert g.count[0] == 0
    assert np.all(g.creator[0] == EMPTY)
    assert_consistent(g)


def test_adjust_trust_moves_followed_pairs_only():
    """trust += gain (1 - trust) - loss x trust, clipped; pairs not followed are ignored."""
    g = FollowGraph(2, capacity=2)
    g.follow(np.array([0, 0]), np.array([1, 2]), trust=0.5)
    g.adjust_trust(
        np.array([0, 0, 1]),
        np.array([1, 2, 1]),
        np.array([0.2, 0.0, 0.9]),
        np.array([0.0, 0.4, 0.0]),
    )
    np.testing.assert_allclose(g.trust_in(np.array([0, 0]), np.array([1, 2])), [0.6, 0.3])
    assert g.n_edges == 2
    g.adjust_trust(np.array([0]), np.array([1]), np.array([5.0]), np.array([0.0]))
    assert g.trust_in(np.array([0]), np.array([1]))[0] == 1.0


def test_slot_of_and_trust_in_of_nothing():
    """Empty queries return empty arrays."""
    g = FollowGraph(1, capacity=2)
    assert g.slot_of(np.empty(0, int), np.empty(0, int)).size == 0
    assert g.trust_in(np.empty(0, int), np.empty(0, int)).size == 0


def test_ensure_creators_only_grows():
    """Making room for more creators keeps existing follower counts."""
    g = FollowGraph(1, capacity=2)
    g.follow(np.array([0]), np.array([2]), trust=0.5)
    g.ensure_creators(50)
    assert g.followers.size >= 50 and g.followers[2] == 1
    size = g.followers.size
    g.ensure_creators(3)
    assert g.followers.size == size


def test_build_respects_capacity_and_counts():
    """The initial network is packed, within capacity, duplicate-free and counted right."""
    rng = np.random.default_rng(0)
    n, k, c = 500, 4, 30
    interest = rng.dirichlet(np.ones(k), size=n)
    g = build_follow_graph(
        interest, rng.integers(0, k, c), rng.lognormal(0, 1, c), 3.0, 4, 0.5, Streams(0)
    )
    assert g.count.max() <= 4
    assert g.n_edges > 0
    assert np.all(g.trust[g.creator >= 0] == np.float32(0.5))
    assert_consistent(g)


def test_build_follows_only_creators_of_categories_of_interest():
    """Consumers interested only in category 1 follow only creators whose main category is 1."""
    n = 200
    interest = np.tile([0.0, 1.0, 0.0], (n, 1))
    creator_category = np.array([0, 1, 2, 1, 0, 1])
    g = build_follow_graph(interest, creator_category, np.ones(6), 2.0, 3, 0.5, Streams(1))
    _, creators = g.edges()
    assert creators.size > 0
    assert np.all(creator_category[creators] == 1)


def test_build_with_no_follows_wanted_is_empty():
    """A mean of zero follows, or no creators, gives an empty network."""
    streams = Streams(2)
    interest = np.full((10, 2), 0.5)
    none = build_follow_graph(interest, np.array([0, 1]), np.ones(2), 0.0, 3, 0.5, streams)
    assert none.n_edges == 0
    empty = build_follow_graph(interest, np.empty(0, int), np.empty(0), 3.0, 3, 0.5, streams)
    assert empty.n_edges == 0


def test_build_mean_follows_when_far_below_capacity():
    """With a large creator pool the mean follows per consumer is close to the Poisson mean."""
    n, c = 4000, 400
    interest = np.full((n, 2), 0.5)
    g = build_follow_graph(interest, np.arange(c) % 2, np.ones(c), 2.0, 20, 0.5, Streams(3))
    # Poisson(2) truncated at 20 has mean 2; repeats among 400 creators are rare enough that
    # the extra draws make them up. Bound: 4 standard errors of a Poisson(2) mean.
    assert abs(g.count.mean() - 2.0) < 4 * np.sqrt(2.0 / n)


def test_edges_of_some_consumers():
    """edges(consumers) lists only those consumers' follows."""
    g = FollowGraph(3, capacity=2)
    g.follow(np.array([0, 1, 2]), np.array([4, 5, 6]), trust=0.5)
    c, k = g.edges(np.array([2, 0]))
    assert set(zip(c.tolist(), k.tolist(), strict=True)) == {(2, 6), (0, 4)}
