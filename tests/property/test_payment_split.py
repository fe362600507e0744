"""A kept order's price splits into take, commission and rest that are never negative and add
up to the price, whatever the take rate and commission cap (the rates are stored as float32,
which can round a commission capped at ``1 - take_rate`` above it)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.phases.settlement import split_payment


def stored_rates(take_rate: float, commission_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """The rates as the listing phase stores them: the commission capped at what the take
    leaves, both as float32."""
    take = np.array([take_rate])
    commission = np.minimum(np.array([commission_rate]), 1.0 - take).astype(np.float32)
    return take.astype(np.float32), commission


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    price=st.floats(0.01, 1e6),
    take_rate=st.floats(0.0, 1.0),
    commission_rate=st.floats(0.0, 1.0),
)
def test_no_part_is_negative_and_the_parts_add_up(price, take_rate, commission_rate):
    take, commission = stored_rates(take_rate, commission_rate)
    parts = split_payment(np.array([price]), take, commission)
    assert all(float(x[0]) >= 0.0 for x in parts)
    assert abs(sum(float(x[0]) for x in parts) - price) <= 1e-9 * price


def test_the_naive_split_would_go_negative_where_this_one_does_not():
    """With every commission at its cap, the plain ``p - p x take - p x commission`` is below
    zero for some of the take rates 0.01 ... 0.99 (float32 rounding); the split never is."""
    price = np.full(99, 123.45)
    rates = np.arange(1, 100) / 100
    take = rates.astype(np.float32)
    commission = np.minimum(np.ones(99), 1.0 - rates).astype(np.float32)
    naive = price - price * take - price * commission
    assert (naive < 0).any()
    _, _, rest = split_payment(price, take, commission)
    assert (rest >= 0).all()
