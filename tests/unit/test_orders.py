"""Order tables and the buyer history."""

from __future__ import annotations

import numpy as np
import pytest

from sim.orders import AWAITING_PAYOUT, IN_TRANSIT, BuyerHistory, ColumnTable


def small_table() -> ColumnTable:
    return ColumnTable({"day": np.int32, "price": np.float64})


def test_new_table_is_empty_with_the_declared_dtypes():
    """A new table has no rows and one empty array per column, typed as declared."""
    table = ColumnTable(IN_TRANSIT)
    assert len(table) == 0
    for name, dtype in IN_TRANSIT.items():
        assert table[name].dtype == np.dtype(dtype)


def test_append_adds_rows_in_order_and_casts():
    """Batches append in order; values are cast to the column's dtype."""
    table = small_table()
    table.append(day=[3, 1], price=[10, 20])
    table.append(day=np.array([2]), price=np.array([5.5]))
    assert len(table) == 3
    assert table["day"].tolist() == [3, 1, 2]
    assert table["day"].dtype == np.int32
    assert table["price"].tolist() == [10.0, 20.0, 5.5]


def test_append_refuses_missing_or_extra_columns():
    """Every declared column, and only those, must be given."""
    table = small_table()
    with pytest.raises(KeyError):
        table.append(day=[1])
    with pytest.raises(KeyError):
        table.append(day=[1], price=[1.0], extra=[0])
    assert len(table) == 0


def test_append_refuses_columns_of_different_lengths():
    """Columns of a batch must be the same length; nothing is appended otherwise."""
    table = small_table()
    with pytest.raises(ValueError, match="different lengths"):
        table.append(day=[1, 2], price=[1.0])
    assert len(table) == 0


def test_pop_due_takes_rows_on_or_before_the_day_and_keeps_the_rest():
    """pop_due removes exactly the rows whose day has come, keeping row alignment."""
    table = small_table()
    table.append(day=[5, 2, 7, 3, 5], price=[1.0, 2.0, 3.0, 4.0, 5.0])
    due = table.pop_due("day", 5)
    assert sorted(zip(due["day"].tolist(), due["price"].tolist(), strict=True)) == [
        (2, 2.0),
        (3, 4.0),
        (5, 1.0),
        (5, 5.0),
    ]
    assert table["day"].tolist() == [7]
    assert table["price"].tolist() == [3.0]
    assert len(table.pop_due("day", 6)["day"]) == 0


def test_pop_with_a_mask_removes_those_rows():
    """pop(mask) returns the masked rows and keeps the others, in order."""
    table = small_table()
    table.append(day=[1, 2, 3, 4], price=[1.0, 2.0, 3.0, 4.0])
    taken = table.pop(np.array([True, False, True, False]))
    assert taken["price"].tolist() == [1.0, 3.0]
    assert table["price"].tolist() == [2.0, 4.0]


def test_payout_table_has_what_settlement_reads():
    """The awaiting-payout table carries price, rates and payees of each kept order."""
    table = ColumnTable(AWAITING_PAYOUT)
    table.append(
        due_day=[9],
        merchant=[2],
        creator=[-1],
        price_yuan=[99.0],
        take_rate=[0.05],
        commission_rate=[0.0],
    )
    assert table.pop_due("due_day", 9)["price_yuan"].tolist() == [99.0]
    assert len(table) == 0


# BuyerHistory ---------------------------------------------------------------------------------


def test_history_remembers_pairs_not_single_sides():
    """After (consumer 1, merchant 2) only that pair is seen; (1, 3) and (2, 2) are not."""
    h = BuyerHistory()
    assert not h.seen(np.array([1]), np.array([2]))[0]
    h.add(np.array([1]), np.array([2]))
    seen = h.seen(np.array([1, 1, 2]), np.array([2, 3, 2]))
    assert seen.tolist() == [True, False, False]


def test_history_adds_each_pair_once():
    """Repeated pairs, within a batch or across batches, are stored once; keys stay sorted."""
    h = BuyerHistory()
    h.add(np.array([5, 5, 1]), np.array([0, 0, 9]))
    h.add(np.array([1, 0, 5]), np.array([9, 3, 0]))
    assert len(h) == 3
    assert np.all(np.diff(h.keys) > 0)
    assert h.seen(np.array([5, 1, 0]), np.array([0, 9, 3])).all()


def test_history_matches_a_set_of_pairs():
    """Over random batches the history agrees with a plain set of (consumer, merchant)."""
    rng = np.random.default_rng(0)
    h = BuyerHistory()
    truth: set[tuple[int, int]] = set()
    for _ in range(20):
        c = rng.integers(0, 50, 30)
        m = rng.integers(0, 10, 30)
        expected = np.array([(int(a), int(b)) in truth for a, b in zip(c, m, strict=True)])
        assert np.array_equal(h.seen(c, m), expected)
        h.add(c, m)
        truth |= set(zip(c.tolist(), m.tolist(), strict=True))
    assert len(h) == len(truth)


def test_history_handles_large_consumer_indices():
    """A consumer index in the hundreds of millions keeps its pairs apart from small indices."""
    h = BuyerHistory()
    big = np.array([300_000_007])
    h.add(big, np.array([4]))
    assert h.seen(big, np.array([4]))[0]
    assert not h.seen(big, np.array([5]))[0]
    assert not h.seen(np.array([7]), np.array([4]))[0]
