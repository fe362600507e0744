"""Factorised softmax sampling: categories per row, items within a category."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.kernels.sampling import (
    index_by_category,
    sample_categories,
    sample_in_category,
    sample_items,
)

ALPHA = 1e-4


def test_index_groups_items_by_category():
    """Each category's span of ``order`` holds exactly its items, and ``total`` its weight."""
    category = np.array([2, 0, 2, 1, 0])
    weight = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    index = index_by_category(category, weight, 4)
    for k in range(4):
        members = index.order[index.start[k] : index.stop[k]]
        assert sorted(members.tolist()) == sorted(np.flatnonzero(category == k).tolist())
    np.testing.assert_allclose(index.total, [7.0, 4.0, 4.0, 0.0])
    np.testing.assert_allclose(index.cumulative[-1], weight.sum())


def test_index_with_no_positive_weight_is_empty():
    """An index whose weights are all zero reports itself empty; one positive weight does not."""
    assert index_by_category(np.array([0, 1]), np.zeros(2), 2).empty
    assert not index_by_category(np.array([0, 1]), np.array([0.0, 1e-9]), 2).empty


def test_row_with_all_weight_in_one_category_always_draws_it():
    """A row whose weight is all in category 2 draws category 2 in every slot."""
    weight = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 5.0]])
    rows, cats = sample_categories(weight, np.array([500, 500]), np.random.default_rng(1))
    assert rows.size == 1000
    assert np.all(cats == 2)


def test_first_and_middle_categories_are_reachable_alone():
    """Weight all in the first or a middle category draws only that category."""
    weight = np.array([[3.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    rows, cats = sample_categories(weight, np.array([300, 300]), np.random.default_rng(2))
    assert np.all(cats[rows == 0] == 0)
    assert np.all(cats[rows == 1] == 1)


def test_zero_weight_categories_are_never_drawn():
    """Categories with zero weight in a row never come out for that row."""
    weight = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]])
    rows, cats = sample_categories(weight, np.array([2000, 2000]), np.random.default_rng(3))
    assert set(cats[rows == 0].tolist()) <= {0, 2}
    assert set(cats[rows == 1].tolist()) <= {1, 3}


def test_rows_without_weight_get_no_slot_and_rows_come_sorted():
    """A zero-weight row gets no draws; the others get exactly their slots, rows ascending."""
    weight = np.array([[1.0, 1.0], [0.0, 0.0], [2.0, 0.0]])
    slots = np.array([3, 4, 2])
    rows, cats = sample_categories(weight, slots, np.random.default_rng(4))
    assert rows.tolist() == [0, 0, 0, 2, 2]
    assert cats.size == rows.size
    assert np.all(np.diff(rows) >= 0)


def test_no_slots_gives_empty_draws():
    """Zero slots everywhere yields empty arrays."""
    rows, cats = sample_categories(
        np.ones((3, 2)), np.zeros(3, dtype=int), np.random.default_rng(0)
    )
    assert rows.size == 0 and cats.size == 0


def test_category_frequencies_follow_the_weights():
    """Draws of one row follow P(k) ∝ weight (chi-square at alpha 1e-4, pinned seed)."""
    w = np.array([1.0, 2.0, 3.0, 4.0])
    n = 20_000
    # The row sits between others so that the shifted-CDF trick is exercised.
    weight = np.vstack([np.ones(4), w, np.array([4.0, 0.0, 0.0, 1.0])])
    rows, cats = sample_categories(weight, np.array([10, n, 10]), np.random.default_rng(5))
    observed = np.bincount(cats[rows == 1], minlength=4)
    assert stats.chisquare(observed, n * w / w.sum()).pvalue > ALPHA


def test_in_category_draws_stay_in_the_category():
    """Every item drawn for category k belongs to category k."""
    category = np.array([0, 1, 0, 1, 2, 2])
    index = index_by_category(category, np.ones(6), 3)
    cats = np.repeat(np.arange(3), 200)
    items = sample_in_category(index, cats, np.random.default_rng(6))
    assert np.array_equal(category[items], cats)


def test_in_category_zero_weight_item_is_never_drawn():
    """An item of weight 0 is never drawn, wherever it sits in its category."""
    category = np.array([1, 1, 1, 0, 1])
    weight = np.array([0.0, 2.0, 0.0, 1.0, 0.0])
    index = index_by_category(category, weight, 2)
    items = sample_in_category(index, np.ones(3000, dtype=int), np.random.default_rng(7))
    assert np.all(items == 1)


def test_in_category_frequencies_follow_item_weights():
    """Within a category, items are drawn ∝ their weight (chi-square, pinned seed)."""
    category = np.array([0, 1, 1, 1, 0])
    weight = np.array([5.0, 1.0, 2.0, 7.0, 5.0])
    index = index_by_category(category, weight, 2)
    n = 15_000
    items = sample_in_category(index, np.ones(n, dtype=int), np.random.default_rng(8))
    observed = np.bincount(items, minlength=5)[[1, 2, 3]]
    w = weight[[1, 2, 3]]
    assert stats.chisquare(observed, n * w / w.sum()).pvalue > ALPHA


def test_in_category_of_nothing_is_empty():
    """No categories in, no items out."""
    index = index_by_category(np.array([0]), np.ones(1), 1)
    out = sample_in_category(index, np.empty(0, dtype=int), np.random.default_rng(0))
    assert out.size == 0


def test_sample_items_is_the_softmax_over_all_items():
    """The factorised draw equals the full softmax: P(i | row) ∝ a(row, cat(i)) x w(i)."""
    category = np.array([0, 0, 1, 2, 2, 2])
    w = np.array([1.0, 3.0, 2.0, 0.5, 0.5, 1.0])
    a = np.array([[2.0, 1.0, 4.0]])
    index = index_by_category(category, w, 3)
    n = 30_000
    rows, items = sample_items(a, index, np.array([n]), np.random.default_rng(9))
    assert np.all(rows == 0)
    p = a[0, category] * w
    observed = np.bincount(items, minlength=w.size)
    assert stats.chisquare(observed, n * p / p.sum()).pvalue > ALPHA


def test_sample_items_skips_categories_without_items():
    """A row interested only in a category with no items gets no draws."""
    index = index_by_category(np.array([0, 0]), np.ones(2), 2)
    rows, items = sample_items(
        np.array([[0.0, 1.0], [1.0, 1.0]]), index, np.array([5, 5]), np.random.default_rng(0)
    )
    assert rows.tolist() == [1] * 5
    assert set(items.tolist()) <= {0, 1}


@pytest.mark.parametrize("seed", [11, 12])
def test_same_seed_same_draws(seed):
    """Draws depend only on the generator passed in."""
    weight = np.random.default_rng(0).random((5, 3))
    slots = np.array([1, 2, 3, 4, 5])
    a = sample_categories(weight, slots, np.random.default_rng(seed))
    b = sample_categories(weight, slots, np.random.default_rng(seed))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
