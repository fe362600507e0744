"""Small array helpers: growing tables, ranks within runs, moving averages."""

from __future__ import annotations

import numpy as np
import pytest

from sim.arrays import ema, ensure_size, group_rank


def test_ensure_size_returns_the_same_array_when_big_enough():
    """No copy when the array already has the rows."""
    a = np.arange(5)
    assert ensure_size(a, 5) is a
    assert ensure_size(a, 2) is a


def test_ensure_size_grows_at_least_doubling_and_fills():
    """A grown array keeps its rows, has at least double the rows, and fills the rest."""
    a = np.array([[1, 2], [3, 4]])
    g = ensure_size(a, 3, fill=-1)
    assert g.shape == (4, 2) and g.dtype == a.dtype
    np.testing.assert_array_equal(g[:2], a)
    assert np.all(g[2:] == -1)
    assert ensure_size(a, 9).shape == (9, 2)


def test_group_rank_counts_positions_within_runs():
    """Ranks restart at 0 at every change of key."""
    keys = np.array([4, 4, 4, 1, 7, 7, 4])
    assert group_rank(keys).tolist() == [0, 1, 2, 0, 0, 1, 0]
    assert group_rank(np.empty(0, dtype=int)).size == 0


def test_ema_moves_a_share_one_over_memory_toward_the_value():
    """ema(p, v, m) = p + (v - p) / m; memories below one day act as one day."""
    assert ema(10.0, 20.0, 4.0) == pytest.approx(12.5)
    assert ema(10.0, 20.0, 0.5) == pytest.approx(20.0)
    np.testing.assert_allclose(ema(np.zeros(2), np.array([7.0, -7.0]), 7.0), [1.0, -1.0])
