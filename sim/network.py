"""The follow network: which creators each consumer follows, and how much they trust each.

Stored as CSR with a fixed row capacity (ELLPACK): row ``c`` of ``creator`` holds the creators
consumer ``c`` follows in its first ``count[c]`` slots, and ``-1`` after them; ``trust`` holds the
trust in each followed creator. Unlike plain CSR, follows and unfollows change the arrays in
place with vectorised writes, which the model does every day; the row capacity
(``consumers.max_follows``) bounds memory at ``n * capacity * 8`` bytes. A follow beyond the
capacity replaces the consumer's least trusted creator.

networkx is used only off the hot path, to export a small sample for analysis and plots.
"""

from __future__ import annotations

import numpy as np

from sim.arrays import group_rank
from sim.kernels.sampling import index_by_category, sample_items
from sim.rng import CONSUMER_BLOCK, Streams

EMPTY = -1


class FollowGraph:
    """Consumers x followed creators, with trust per edge and follower counts per creator."""

    def __init__(self, n_consumers: int, capacity: int):
        self.capacity = capacity
        self.creator = np.full((n_consumers, capacity), EMPTY, dtype=np.int32)
        self.trust = np.zeros((n_consumers, capacity), dtype=np.float32)
        self.count = np.zeros(n_consumers, dtype=np.int16)
        self.followers = np.zeros(0, dtype=np.int64)
        """Followers per creator index."""

    @property
    def nbytes(self) -> int:
        return self.creator.nbytes + self.trust.nbytes + self.count.nbytes + self.followers.nbytes

    @property
    def n_edges(self) -> int:
        return int(self.count.sum())

    def ensure_creators(self, n_creators: int) -> None:
        """Make room for creator indices below ``n_creators`` in the follower counts."""
        if n_creators > self.followers.size:
            grown = np.zeros(max(n_creators, 2 * self.followers.size), dtype=np.int64)
            grown[: self.followers.size] = self.followers
            self.followers = grown

    def fill(self, consumers: np.ndarray, creators: np.ndarray, trust: float) -> None:
        """Write follows into empty rows: ``consumers`` (m,) ascending, each with at most
        ``capacity`` distinct ``creators`` (m,); rows must hold no follows yet."""
        slot = group_rank(consumers)
        self.creator[consumers, slot] = creators
        self.trust[consumers, slot] = trust
        rows, counts = np.unique(consumers, return_counts=True)
        self.count[rows] = counts
        self.followers += np.bincount(creators, minlength=self.followers.size)[
            : self.followers.size
        ]

    # queries ---------------------------------------------------------------------------------

    def slot_of(self, consumers: np.ndarray, creators: np.ndarray) -> np.ndarray:
        """Slot of ``creators[j]`` in ``consumers[j]``'s row, or -1. Both (m,) int -> (m,) int."""
        if consumers.size == 0:
            return np.empty(0, dtype=np.int64)
        match = self.creator[consumers] == creators[:, None]
        return np.where(match.any(axis=1), match.argmax(axis=1), EMPTY)

    def trust_in(self, consumers: np.ndarray, creators: np.ndarray) -> np.ndarray:
        """Trust of each consumer in each creator, 0 where not following. (m,) -> (m,) float32."""
        slot = self.slot_of(consumers, creators)
        found = slot >= 0
        out = np.zeros(consumers.size, dtype=np.float32)
        out[found] = self.trust[consumers[found], slot[found]]
        return out

    # changes ---------------------------------------------------------------------------------

    def follow(self, consumers: np.ndarray, creators: np.ndarray, trust: float) -> int:
        """Add follows; pairs already present are ignored. Returns the number of new follows.

        Each round handles at most one new follow per consumer, so that slots are assigned
        without conflicts; a full row replaces its least trusted creator.
        """
        consumers, creators = _unique_pairs(consumers, creators)
        if consumers.size == 0:
            return 0
        present = self.slot_of(consumers, creators) >= 0
        consumers, creators = consumers[~present], creators[~present]
        self.ensure_creators(int(creators.max()) + 1 if creators.size else 0)
        added = 0
        for round_consumers, round_creators in _rounds(consumers, creators):
            count = self.count[round_consumers].astype(np.int64)
            full = count >= self.capacity
            slot = np.where(full, 0, count)
            if full.any():
                slot[full] = self.trust[round_consumers[full]].argmin(axis=1)
                dropped = self.creator[round_consumers[full], slot[full]]
                np.subtract.at(self.followers, dropped[dropped >= 0], 1)
            self.creator[round_consumers, slot] = round_creators
            self.trust[round_consumers, slot] = trust
            self.count[round_consumers] += (~full).astype(np.int16)
            np.add.at(self.followers, round_creators, 1)
            added += round_consumers.size
        return added

    def unfollow(self, consumers: np.ndarray, creators: np.ndarray) -> int:
        """Remove follows (absent pairs are ignored); rows stay packed. Returns removals."""
        consumers, creators = _unique_pairs(consumers, creators)
        removed = 0
        for round_consumers, round_creators in _rounds(consumers, creators):
            slot = self.slot_of(round_consumers, round_creators)
            found = slot >= 0
            c, s = round_consumers[found], slot[found]
            last = self.count[c].astype(np.int64) - 1
            # Move each row's last follow into the freed slot, then clear the last slot.
            self.creator[c, s] = self.creator[c, last]
            self.trust[c, s] = self.trust[c, last]
            self.creator[c, last] = EMPTY
            self.trust[c, last] = 0.0
            self.count[c] -= 1
            np.subtract.at(self.followers, round_creators[found], 1)
            removed += int(found.sum())
        return removed

    def adjust_trust(
        self, consumers: np.ndarray, creators: np.ndarray, gain: np.ndarray, loss: np.ndarray
    ) -> None:
        """trust += gain * (1 - trust) - loss * trust for followed pairs; (m,) arrays.

        A pair that appears several times is updated once per appearance, in order.
        """
        order = np.lexsort((np.arange(consumers.size), consumers))
        consumers, creators = consumers[order], creators[order]
        gain, loss = np.asarray(gain)[order], np.asarray(loss)[order]
        rank = group_rank(consumers)
        for r in range(int(rank.max()) + 1 if rank.size else 0):
            take = rank == r
            c, cr = consumers[take], creators[take]
            slot = self.slot_of(c, cr)
            found = slot >= 0
            c, s = c[found], slot[found]
            t = self.trust[c, s]
            g, lo = gain[take][found], loss[take][found]
            self.trust[c, s] = np.clip(t + g * (1 - t) - lo * t, 0.0, 1.0)

    def clear_rows(self, consumers: np.ndarray) -> None:
        """Remove every follow of the given consumers (who left the platform)."""
        rows = self.creator[consumers]
        followed = rows[rows >= 0]
        np.subtract.at(self.followers, followed, 1)
        self.creator[consumers] = EMPTY
        self.trust[consumers] = 0.0
        self.count[consumers] = 0

    # export ----------------------------------------------------------------------------------

    def edges(self, consumers: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(consumer, creator) pairs of the given consumers (all by default)."""
        rows = np.arange(self.creator.shape[0]) if consumers is None else np.asarray(consumers)
        block = self.creator[rows]
        r, s = np.nonzero(block >= 0)
        return rows[r], block[r, s]


def _unique_pairs(consumers: np.ndarray, creators: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (consumer, creator) pairs, sorted by consumer then creator."""
    consumers, creators = consumers.astype(np.int64), creators.astype(np.int64)
    if consumers.size == 0:
        return consumers, creators
    width = int(creators.max()) + 1
    key = np.unique(consumers * width + creators)
    return key // width, key % width


def _rounds(consumers: np.ndarray, creators: np.ndarray):
    """Split pairs (sorted by consumer) into rounds with at most one pair per consumer."""
    if consumers.size == 0:
        return
    rank = group_rank(consumers)
    for r in range(int(rank.max()) + 1):
        take = rank == r
        yield consumers[take], creators[take]


def build_follow_graph(
    interest: np.ndarray,
    creator_category: np.ndarray,
    creator_weight: np.ndarray,
    mean_follows: float,
    capacity: int,
    trust: float,
    streams: Streams,
    n_rows: int | None = None,
) -> FollowGraph:
    """Initial follows: each consumer follows ~Poisson(mean) distinct creators (at most
    ``capacity``), drawn with probability ∝ the consumer's interest in the creator's main
    category times the creator's popularity weight (the same factorised softmax the feed
    uses). Built block by block of consumers, each from its own stream, so memory stays
    bounded and the result does not depend on how the blocks are processed.

    interest: (n, K) float. creator_category: (C,) int. creator_weight: (C,) float > 0.
    ``n_rows`` (>= n, default n): rows of the graph; rows past ``n`` start with no follows.
    """
    n, k = interest.shape
    n_creators = creator_category.size
    graph = FollowGraph(n if n_rows is None else n_rows, capacity)
    graph.ensure_creators(n_creators)
    if n_creators == 0 or mean_follows <= 0:
        return graph
    index = index_by_category(creator_category, creator_weight, k)
    for start in range(0, n, CONSUMER_BLOCK):
        stop = min(start + CONSUMER_BLOCK, n)
        rng = streams.generator("follows", start // CONSUMER_BLOCK)
        wanted = np.minimum(rng.poisson(mean_follows, stop - start), capacity)
        # A few extra draws make up for repeats of the same creator.
        rows, picks = sample_items(interest[start:stop].astype(np.float64), index, wanted + 2, rng)
        # Keep each consumer's first ``wanted`` distinct creators, in the order drawn.
        _, first = np.unique(rows * (n_creators + 1) + picks, return_index=True)
        first.sort()
        rows, picks = rows[first], picks[first]
        take = group_rank(rows) < wanted[rows]
        graph.fill(start + rows[take], picks[take], trust)
    return graph
