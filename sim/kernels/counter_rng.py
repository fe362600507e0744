"""Counter-based uniform random numbers: a pure function of (key, consumer, purpose, slot).

A consumer's draws on a day do not come from a generator's running state but from a hash of
where they are used: the day's stream key, the consumer's index, what the draw is for (a
``purpose``) and which slot of that purpose. So the numbers are the same whatever the order in
which consumers are processed, however they are split into chunks and threads, and in the
NumPy reference and the numba kernel alike.

The hash is SplitMix64's finaliser (Steele, Lea & Flood 2014) applied to ``key + counter x
golden ratio``; the top 53 bits give a float64 in [0, 1). Both implementations use only 64-bit
integer arithmetic, which wraps the same way everywhere.
"""

from __future__ import annotations

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
TO_UNIT = 1.0 / (1 << 53)

SLOT_BITS = 14
PURPOSE_BITS = 6
MAX_SLOTS = 1 << SLOT_BITS
"""Slots per consumer and purpose: more impressions than this in one day for one purpose are
not drawn (attention is capped well below)."""

# What a draw is for. Each consumer's draws of one purpose are numbered by slot.
ACTIVE = 0
NEED = 1
NEED_CATEGORY = 2
ATTENTION = 3
SPLIT = 4
CATEGORY = 5
ITEM = 6
FOLLOW_PICK = 7
FOLLOW_ITEM = 8
BUY = 9
FOLLOW_VIEW = 10
SHELF_CHANNEL = 11
LOYALTY = 12
BROWSE = 13


def counter(consumer, purpose: int, slot) -> np.ndarray:
    """The counter of a draw: consumer x 2^20 + purpose x 2^14 + slot, as uint64."""
    c = np.asarray(consumer).astype(np.uint64)
    s = np.asarray(slot).astype(np.uint64)
    return (
        (c << np.uint64(SLOT_BITS + PURPOSE_BITS))
        | (np.uint64(purpose) << np.uint64(SLOT_BITS))
        | s
    )


def mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on uint64 arrays (wrapping arithmetic)."""
    z = z.copy()
    z ^= z >> np.uint64(30)
    z *= MIX1
    z ^= z >> np.uint64(27)
    z *= MIX2
    z ^= z >> np.uint64(31)
    return z


def uniform(key: np.uint64, consumer, purpose: int, slot=0) -> np.ndarray:
    """Uniform float64 in [0, 1) for each (consumer, slot) of one purpose; arguments broadcast
    and the result is always an array. (NumPy warns when uint64 scalars wrap, not arrays, so
    everything here is an array.)"""
    c, s = np.broadcast_arrays(np.atleast_1d(consumer), np.atleast_1d(slot))
    z = np.atleast_1d(np.uint64(key)) + counter(c, purpose, s) * GOLDEN
    return (mix(z) >> np.uint64(11)).astype(np.float64) * TO_UNIT
