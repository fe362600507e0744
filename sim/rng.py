"""One root seed -> a named, independent NumPy Generator per decision.

Every random decision in the simulator draws from a stream named after it (``"population.
budget"``, ``"merchant"``, ``"content"``, ``"experience"``, ``"governance"`` ...) and keyed by
what it is about: the day, a merchant's or creator's index, a block of consumers. A stream's
numbers depend only on the root seed, its name and its keys, so adding a draw in one module
never shifts the numbers another module sees, and policies compared at the same seed face the
same luck (common random numbers).

Consumers' daily draws are not taken from generators at all: the day's stream gives a 64-bit
key (:meth:`Streams.key`) and each draw is a hash of that key, the consumer, its purpose and
slot (:mod:`sim.kernels.counter_rng`), so they do not depend on how consumers are processed.

The global ``random`` and ``np.random`` states are never used.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

CONSUMER_BLOCK = 1 << 16
"""Consumers per block when the population and the initial follows are drawn: one stream per
block, so memory stays bounded and the draws do not depend on how blocks are processed."""


@lru_cache(maxsize=4096)
def _name_key(name: str) -> int:
    """A stable 32-bit integer for a stream name (Python's ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "little")


class Streams:
    """Named random streams derived from one root :class:`numpy.random.SeedSequence`."""

    def __init__(self, root: int | np.random.SeedSequence):
        self.root = (
            root if isinstance(root, np.random.SeedSequence) else np.random.SeedSequence(root)
        )

    def generator(self, name: str, *keys: int) -> np.random.Generator:
        """The generator for decision ``name`` at ``keys`` (e.g. the day and a block index)."""
        spawn_key = (*self.root.spawn_key, _name_key(name), *(int(k) for k in keys))
        seq = np.random.SeedSequence(self.root.entropy, spawn_key=spawn_key)
        return np.random.Generator(np.random.PCG64(seq))

    def key(self, name: str, *keys: int) -> np.uint64:
        """A 64-bit key for counter-based draws (:mod:`sim.kernels.counter_rng`)."""
        return np.uint64(self.generator(name, *keys).integers(0, 2**64, dtype=np.uint64))

    def seed_int(self, name: str, *keys: int) -> int:
        """A 63-bit integer seed for libraries that want one (mesa's ``random.Random``)."""
        return int(self.generator(name, *keys).integers(0, 2**63 - 1))


def run_seed(root_seed: int, seed_index: int) -> np.random.SeedSequence:
    """The root of run ``seed_index`` in a sweep: ``SeedSequence(root, spawn_key=(i,))``.

    Never ``root + i``: neighbouring integer seeds are not guaranteed independent streams.
    """
    return np.random.SeedSequence(root_seed, spawn_key=(int(seed_index),))
