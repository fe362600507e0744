"""Small array helpers shared by the model's tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter

import numpy as np


def ensure_size(array: np.ndarray, n: int, fill=0) -> np.ndarray:
    """``array`` if it already has ``n`` rows, else a copy grown (doubling) and filled."""
    if n <= array.shape[0]:
        return array
    grown = np.full((max(n, 2 * array.shape[0]), *array.shape[1:]), fill, dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown


def group_rank(keys: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal, adjacent ``keys``. (m,) -> (m,) int64."""
    if keys.size == 0:
        return np.empty(0, dtype=np.int64)
    first = np.r_[True, keys[1:] != keys[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(keys.size), 0))
    return np.arange(keys.size) - start


def unique_ints(values: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, sorted: ``np.unique(values)``, found by
    sorting (NumPy's ``np.unique`` uses a hash table, many times slower on arrays of a million
    and more)."""
    values = np.sort(np.asarray(values).ravel())
    if values.size == 0:
        return values
    distinct = np.empty(values.size, dtype=bool)
    distinct[0] = True
    np.not_equal(values[1:], values[:-1], out=distinct[1:])
    return values[distinct]


def count_distinct(values: np.ndarray) -> int:
    """How many distinct values an integer array holds; in one pass when it is sorted (the
    day's orders are in consumer order), else by sorting."""
    values = np.asarray(values).ravel()
    if values.size < 2:
        return int(values.size)
    if bool(np.all(values[1:] >= values[:-1])):
        return int(np.count_nonzero(values[1:] != values[:-1])) + 1
    return int(unique_ints(values).size)


def ema(previous: float | np.ndarray, value: float | np.ndarray, memory_days: float):
    """Exponential moving average with time constant ``memory_days``."""
    alpha = 1.0 / max(memory_days, 1.0)
    return previous + alpha * (value - previous)


def column(agents: Sequence, name: str, dtype=np.float64) -> np.ndarray:
    """(n,) the attribute ``name`` of each of the n ``agents``, in order, as ``dtype``."""
    return np.fromiter(map(attrgetter(name), agents), dtype, len(agents))


def columns(agents: Sequence, dtypes: Mapping[str, type]) -> dict[str, np.ndarray]:
    """The attributes named in ``dtypes`` (at least two) of each of the n ``agents``, read in
    one pass over them (an agent's attributes together): name -> (n,) array of its dtype."""
    table = np.empty((len(agents), len(dtypes)), dtype=object)
    if agents:
        table[:] = list(map(attrgetter(*dtypes), agents))
    return {name: table[:, j].astype(dtype) for j, (name, dtype) in enumerate(dtypes.items())}
