"""Orders between purchase and payout, as column tables.

An order is paid into escrow when placed (phase 7), delivered some days later (phase 8) and,
if kept, paid out to the platform, the creator and the merchant after the payment delay
(phase 7 of a later day). :class:`ColumnTable` holds the orders waiting for each of those
moments; rows leave a table when their day comes.
"""

from __future__ import annotations

import numpy as np

from sim.arrays import unique_ints


class ColumnTable:
    """Rows stored as one array per named column, appended in batches and removed by mask."""

    def __init__(self, dtypes: dict[str, type]):
        self.dtypes = dict(dtypes)
        self.columns = {name: np.empty(0, dtype=dt) for name, dt in self.dtypes.items()}

    def __len__(self) -> int:
        return int(next(iter(self.columns.values())).size)

    def append(self, **columns: np.ndarray) -> None:
        if set(columns) != set(self.dtypes):
            missing = set(self.dtypes) - set(columns)
            extra = set(columns) - set(self.dtypes)
            raise KeyError(f"columns missing {sorted(missing)}, unexpected {sorted(extra)}")
        sizes = {np.asarray(v).size for v in columns.values()}
        if len(sizes) != 1:
            raise ValueError(f"columns of different lengths: {sizes}")
        for name, values in columns.items():
            self.columns[name] = np.concatenate(
                [self.columns[name], np.asarray(values, dtype=self.dtypes[name])]
            )

    def pop(self, mask: np.ndarray) -> dict[str, np.ndarray]:
        """Remove and return the rows where ``mask`` is True."""
        taken = {name: values[mask] for name, values in self.columns.items()}
        self.columns = {name: values[~mask] for name, values in self.columns.items()}
        return taken

    def pop_due(self, column: str, day: int) -> dict[str, np.ndarray]:
        """Remove and return the rows whose ``column`` is at most ``day``."""
        return self.pop(self.columns[column] <= day)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]


IN_TRANSIT = {
    "order_day": np.int32,
    "delivery_day": np.int32,
    "consumer": np.int64,
    "merchant": np.int64,
    "category": np.int64,
    "creator": np.int64,  # -1: no creator (search, mall)
    "channel": np.int8,
    "price_yuan": np.float64,
    "take_rate": np.float32,
    "commission_rate": np.float32,  # 0 for own accounts and shelf sales
    "true_quality": np.float32,
    "claimed_quality": np.float32,
    "violator": np.bool_,
    "shock_dissatisfied_prob": np.float32,  # added disappointment: shipped through a shock
    "recovery_program": np.int64,  # recovery plan serving the merchant on the order day, or -1
    "waived_take_rate": np.float32,  # take rate that plan waived
    "impulse": np.bool_,  # the order met no need of its buyer's
}
"""Orders placed and paid, not yet delivered."""

AWAITING_PAYOUT = {
    "due_day": np.int32,
    "merchant": np.int64,
    "creator": np.int64,
    "price_yuan": np.float64,
    "take_rate": np.float32,
    "commission_rate": np.float32,
}
"""Kept orders whose money waits in escrow for the payment delay to pass."""


class BuyerHistory:
    """When each consumer last ordered from each merchant, for new-customer and repurchase
    counts; orders older than the memory window are forgotten (:meth:`forget`), so the
    history holds at most the pairs of the last window of days.

    Stored as a sorted array of keys ``consumer * 2**32 + merchant`` with the day of the last
    order per key; membership is a binary search and new pairs are merged in with
    ``np.insert`` (no Python loop over consumers).
    """

    def __init__(self) -> None:
        self.keys = np.empty(0, dtype=np.int64)
        self.last_day = np.empty(0, dtype=np.int32)

    @staticmethod
    def key(consumer: np.ndarray, merchant: np.ndarray) -> np.ndarray:
        return (consumer.astype(np.int64) << 32) | merchant.astype(np.int64)

    def __len__(self) -> int:
        return int(self.keys.size)

    def _find(self, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.searchsorted(self.keys, k)
        found = np.zeros(k.size, dtype=bool)
        inside = pos < self.keys.size
        found[inside] = self.keys[pos[inside]] == k[inside]
        return pos, found

    def seen(
        self, consumer: np.ndarray, merchant: np.ndarray, since_day: int | None = None
    ) -> np.ndarray:
        """(m,) bool: the consumer ordered from the merchant before (on ``since_day`` or
        later, when given)."""
        pos, found = self._find(self.key(consumer, merchant))
        if since_day is not None and found.any():
            found[found] = self.last_day[pos[found]] >= since_day
        return found

    def add(self, consumer: np.ndarray, merchant: np.ndarray, day: int = 0) -> None:
        """Record orders placed on ``day``."""
        k = unique_ints(self.key(consumer, merchant))
        pos, found = self._find(k)
        self.last_day[pos[found]] = day
        new = k[~found]
        at = np.searchsorted(self.keys, new)
        self.keys = np.insert(self.keys, at, new)
        self.last_day = np.insert(self.last_day, at, np.full(new.size, day, dtype=np.int32))

    def forget(self, before_day: int) -> None:
        """Drop the pairs whose last order was before ``before_day``."""
        keep = self.last_day >= before_day
        if not keep.all():
            self.keys, self.last_day = self.keys[keep], self.last_day[keep]
