"""Softmax sampling of items for many consumers without a consumers x items matrix.

A ranking score that splits into a consumer-and-category part plus an item part,

    score(c, i) = a(c, category(i)) + b(i),

gives a softmax policy that factorises:

    P(i | c) = exp(score(c, i)) / Z_c
             = P(k | c) * P(i | k),   P(k | c) ∝ exp(a(c, k)) * Z_k,   P(i | k) ∝ exp(b(i)),

with Z_k the sum of exp(b) over the items of category k. Drawing a category per slot from a
(n, K) table and then an item within it by inverse CDF costs O(slots * log(items)) time and
O(n * K + items) memory, for any number of items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CategoryIndex:
    """Items grouped by category, with cumulative weights for inverse-CDF draws.

    ``order`` (m,) int: item ids sorted by category. ``cumulative`` (m,) float64: running sum
    of weights in that order. ``start``/``stop`` (K,) int: each category's span in ``order``.
    ``total`` (K,) float64: each category's weight Z_k.
    """

    order: np.ndarray
    cumulative: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    total: np.ndarray

    @property
    def empty(self) -> bool:
        return not np.any(self.total > 0)


def index_by_category(category: np.ndarray, weight: np.ndarray, k: int) -> CategoryIndex:
    """Group items by category for sampling.

    category: (m,) int, values in [0, k). weight: (m,) float >= 0 (exp of the item score).
    """
    category = np.asarray(category)
    weight = np.asarray(weight, dtype=np.float64)
    order = np.argsort(category, kind="stable")
    sorted_weight = weight[order]
    cumulative = np.cumsum(sorted_weight)
    counts = np.bincount(category, minlength=k)[:k]
    stop = np.cumsum(counts)
    start = stop - counts
    total = np.bincount(category, weights=weight, minlength=k)[:k]
    return CategoryIndex(order, cumulative, start, stop, total)


def sample_categories(
    category_weight: np.ndarray, slots: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a category for each slot of each row.

    category_weight: (n, K) float >= 0, unnormalised P(k | row); rows summing to 0 get no slot.
    slots: (n,) int >= 0, draws per row.
    Returns ``rows`` (s,) int64 and ``categories`` (s,) int64, s = slots.sum() over rows with
    positive weight, rows in ascending order.
    """
    n, k = category_weight.shape
    row_total = category_weight.sum(axis=1)
    slots = np.where(row_total > 0, slots, 0)
    rows = np.repeat(np.arange(n), slots)
    if rows.size == 0:
        return rows, rows.copy()
    # One monotone array over all rows: row r's normalised CDF shifted by r. A draw r + u then
    # lands inside row r's span, so one searchsorted serves every row.
    cdf = np.cumsum(category_weight, axis=1) / np.where(row_total > 0, row_total, 1.0)[:, None]
    cdf[:, -1] = 1.0
    shifted = (cdf + np.arange(n)[:, None]).ravel()
    u = rng.random(rows.size)
    flat = np.searchsorted(shifted, rows + u, side="right")
    categories = np.minimum(flat - rows * k, k - 1)
    # Guard against round-off landing on a zero-weight category.
    return rows, categories


def sample_in_category(
    index: CategoryIndex, categories: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw one item per entry of ``categories`` with probability ∝ weight within the category.

    categories: (s,) int, each with positive total weight. Returns item ids (s,) int64.
    """
    if categories.size == 0:
        return np.empty(0, dtype=np.int64)
    start = index.start[categories]
    stop = index.stop[categories]
    before = np.where(start > 0, index.cumulative[np.maximum(start - 1, 0)], 0.0)
    target = before + rng.random(categories.size) * index.total[categories]
    position = np.searchsorted(index.cumulative, target, side="right")
    position = np.clip(position, start, stop - 1)
    return index.order[position]


def sample_items(
    category_weight: np.ndarray,
    index: CategoryIndex,
    slots: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax draw of ``slots[r]`` items for each row r.

    category_weight: (n, K) float, exp(a(r, k)) for each row and category. index: the items.
    Returns ``rows`` (s,) int64 and ``items`` (s,) int64.
    """
    rows, categories = sample_categories(category_weight * index.total[None, :], slots, rng)
    return rows, sample_in_category(index, categories, rng)
