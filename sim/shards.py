"""One run's consumers spread over the workers of a Dask cluster.

The consumers are split into shards, contiguous ranges of rows, one per worker: every day each
worker runs the consumer kernel (:mod:`sim.kernels.consumer_day`) over the chunks of its shard,
with the day's tables and rules broadcast to it once, and sends back each chunk's outcome (the
impressions per item, listing and channel, the purchase intents and follow events, who was
active and the needs that arose). The outcomes are gathered in chunk order, as a single
process yields them, and the kernel's draws are counter-based (keyed by the day and the
consumer's row), so a run gives the same results, to the bit, on any number of workers.

The phases other than matching run in the process that built the market. On a cluster started
here the consumers' arrays the kernel reads are moved, once, into shared memory
(:meth:`ShardedKernel.attach`), where the other phases go on updating them in place; a worker
is sent only where its chunk lies in them, and reads it in place: the consumers' state never
travels (the day's remembered and disappointing listings, computed each day, are written
into shared memory too). On a running cluster, whose workers may be other machines, a chunk's
columns travel to its worker every day. :attr:`ShardedKernel.bytes` counts what moved each
day, by direction.

* ``ShardedKernel(workers=N)``: a :class:`distributed.LocalCluster` of N worker processes,
  ``CPUs // N`` threads each (``zhongcao run --dask local:N``), consumers in shared memory;
* ``ShardedKernel(address=...)``: a running cluster (``--scheduler ADDRESS``); its workers need
  this package installed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from multiprocessing import resource_tracker, shared_memory
from typing import Any

import numpy as np

from sim.kernels.consumer_day import ENGINES, Chunk, Outcome, Rules, Tables


def nbytes(obj: Any) -> int:
    """Bytes of the arrays in ``obj`` (a dataclass, tuple, list or array; nested), what Dask
    sends of it (numpy buffers travel as they are)."""
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return sum(nbytes(getattr(obj, f.name)) for f in dataclasses.fields(obj))
    if isinstance(obj, tuple | list):
        return sum(nbytes(x) for x in obj)
    return 8


def _kernel(engine: str, chunk: Chunk, day: tuple[Tables, Rules], key: np.uint64) -> Outcome:
    """One chunk on a worker (a pure function of its arguments)."""
    tables, rules = day
    return ENGINES[engine](chunk, tables, rules, key)


@dataclasses.dataclass(frozen=True)
class Placed:
    """Where an array lies in a shared memory block: enough to view it in place."""

    block: str
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    dtype: str


_ATTACHED: dict[str, shared_memory.SharedMemory] = {}
"""The shared memory blocks this process has opened, by name (kept open for its lifetime:
views of them may be alive)."""


_OPENING = threading.Lock()


def _block(name: str) -> shared_memory.SharedMemory:
    with _OPENING:
        if name not in _ATTACHED:
            # The process that made the block owns it: opening it here must not register it
            # with the resource tracker, which would unlink it when this worker ends.
            register = resource_tracker.register
            resource_tracker.register = lambda *args, **kwargs: None
            try:
                _ATTACHED[name] = shared_memory.SharedMemory(name=name)
            finally:
                resource_tracker.register = register
        return _ATTACHED[name]


def _view(p: Placed) -> np.ndarray:
    return np.ndarray(
        p.shape, np.dtype(p.dtype), buffer=_block(p.block).buf, offset=p.offset, strides=p.strides
    )


def _kernel_in_place(
    engine: str,
    start: int,
    fields: dict[str, Placed],
    back: dict[str, Placed],
    day: tuple[Tables, Rules],
    key: np.uint64,
) -> Outcome:
    """One chunk on a worker of this machine, its arrays read in shared memory; the
    per-consumer part of its outcome (who was active, the needs that arose) is written there
    too (into ``back``) and left out of what is returned."""
    arrays = {name: _view(p) for name, p in fields.items()}
    b = next(iter(arrays.values())).shape[0]
    chunk = Chunk(index=np.arange(start, start + b, dtype=np.int64), **arrays)
    outcome = _kernel(engine, chunk, day, key)
    for name, placed in back.items():
        _view(placed)[...] = getattr(outcome, name)
    return dataclasses.replace(outcome, **{name: np.empty(0) for name in back})


TALLY_FIELDS = (
    "channel_impressions",
    "content_impressions",
    "follow_impressions",
    "shelf_impressions",
)
"""Outcome fields per seller (or channel), summed over a shard's chunks on its worker."""


def _shard(
    engine: str, tasks: list, day: tuple[Tables, Rules], key: np.uint64, threads: int
) -> tuple[list[Outcome], tuple[np.ndarray, ...]]:
    """A worker's chunks (``("in_place", start, fields, back)`` or ``("chunk", chunk)``), on
    up to ``threads`` threads: their outcomes without the per-seller tallies, and the tallies
    summed over them (integer counts: exact in any order)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(task) -> Outcome:
        if task[0] == "in_place":
            return _kernel_in_place(engine, *task[1:], day, key)
        return _kernel(engine, task[1], day, key)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        outcomes = list(pool.map(one, tasks))
    tallies = tuple(
        np.sum([getattr(o, f) for o in outcomes], axis=0, dtype=np.int64) for f in TALLY_FIELDS
    )
    empty = {f: np.empty(0, dtype=np.int64) for f in TALLY_FIELDS}
    return [dataclasses.replace(o, **empty) for o in outcomes], tallies


POPULATION_FIELDS = (
    "on_platform", "active_prob", "attention", "need_category", "interest", "affinity",
    "log_affinity", "platform_trust", "price_sensitivity", "budget_yuan",
)  # fmt: skip
"""The population's arrays the kernel reads (the chunk's fields of the same names)."""
FOLLOW_FIELDS = {"follow_creator": "creator", "follow_trust": "trust", "follow_count": "count"}
"""Chunk field -> the follow graph's array."""
DAILY_FIELDS = ("favorite_listing", "disappointing_listing")
"""Chunk fields computed afresh each day (copied into shared memory each day)."""
BACK_FIELDS = {"active": np.bool_, "new_need": np.int64}
"""Outcome fields per consumer, written by the workers into shared memory."""


class ShardedKernel:
    """Runs the consumer kernel's chunks on a Dask cluster, each shard of consumers on its own
    worker; :meth:`run_chunks` has the signature and the results of
    :func:`sim.kernels.consumer_day.run_chunks`."""

    def __init__(self, *, workers: int | None = None, address: str | None = None):
        from distributed import Client, LocalCluster

        self._cluster = None
        if address is None:
            n = workers or os.cpu_count() or 1
            self._cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=max(1, (os.cpu_count() or 1) // n),
                processes=True,
                dashboard_address=None,
                silence_logs=50,
            )
            self.client = Client(self._cluster)
        else:
            self.client = Client(address, timeout="30s")
        self.workers = sorted(self.client.scheduler_info()["workers"])
        self.in_place = address is None
        """Consumers in shared memory, read in place by the workers (a cluster started here)."""
        self._blocks: list[tuple[shared_memory.SharedMemory, np.ndarray]] = []
        self._daily: dict[str, np.ndarray] = {}
        self.bytes: list[dict[str, int]] = []
        """Per day run: bytes sent to the workers (``out``: the chunks' columns; ``tables``:
        the day's tables and rules, once per worker) and back (``back``: the outcomes)."""

    # shared memory ------------------------------------------------------------------------------

    def _shared(self, array: np.ndarray) -> np.ndarray:
        """A copy of ``array`` in a new shared memory block."""
        shm = shared_memory.SharedMemory(create=True, size=max(array.nbytes, 1))
        view = np.ndarray(array.shape, array.dtype, buffer=shm.buf)
        view[...] = array
        self._blocks.append((shm, view))
        _ATTACHED[shm.name] = shm
        return view

    def attach(self, population, follows) -> None:
        """Move the consumers' arrays the kernel reads into shared memory (on a cluster
        started here): the population and the follow graph hold the shared copies from now
        on, and the other phases update them in place. An array shared by two attributes
        (affinity and interest at interest exponent 1) stays shared."""
        if not self.in_place:
            return
        done: dict[int, np.ndarray] = {}
        for name in POPULATION_FIELDS:
            array = getattr(population, name)
            if id(array) not in done:
                done[id(array)] = self._shared(array)
            setattr(population, name, done[id(array)])
        for attr in FOLLOW_FIELDS.values():
            setattr(follows, attr, self._shared(getattr(follows, attr)))
        for name in DAILY_FIELDS:
            self._daily[name] = self._shared(np.zeros(population.n, dtype=np.int64))
        for name, dtype in BACK_FIELDS.items():
            self._daily[name] = self._shared(np.zeros(population.n, dtype=dtype))

    def _place(self, array: np.ndarray) -> Placed | None:
        """Where ``array`` (a view) lies in one of the shared blocks, or None."""
        address = array.__array_interface__["data"][0]
        for shm, view in self._blocks:
            base = view.__array_interface__["data"][0]
            if base <= address and address + array.nbytes <= base + view.nbytes:
                return Placed(shm.name, address - base, array.shape, array.strides, array.dtype.str)
        return None

    def _placed_chunk(self, chunk: Chunk) -> dict[str, Placed] | None:
        start = int(chunk.index[0]) if chunk.index.size else 0
        fields = {}
        for f in dataclasses.fields(Chunk):
            if f.name == "index":
                continue
            array = getattr(chunk, f.name)
            if f.name in DAILY_FIELDS:
                daily = self._daily[f.name][start : start + array.shape[0]]
                daily[...] = array
                array = daily
            placed = self._place(array)
            if placed is None:
                return None
            fields[f.name] = placed
        return fields

    # the day --------------------------------------------------------------------------------

    def run_chunks(self, engine: str, chunks, t: Tables, r: Rules, key: np.uint64, threads=1):
        """Yield (chunk, outcome) in chunk order; ``threads`` is the workers' business. Each
        worker runs its shard's chunks as one task and sends the per-seller tallies back
        once, summed over its chunks: they come with the shard's first chunk, zeros with the
        others (their sum, all :func:`sim.phases.matching.match` reads, is the same)."""
        chunks = list(chunks)
        [day] = self.client.scatter([(t, r)], broadcast=True, hash=False)
        n = len(self.workers)
        shards: list[list[int]] = [[] for _ in range(n)]
        for i in range(len(chunks)):
            shards[i * n // max(len(chunks), 1)].append(i)  # contiguous rows per worker
        threads_of = self.client.nthreads()
        held, results = [], []
        moved = {"out": 0, "tables": 0, "back": 0}
        for worker, rows in zip(self.workers, shards, strict=True):
            if not rows:
                continue
            moved["tables"] += nbytes((t, r))
            tasks = []
            for i in rows:
                chunk = chunks[i]
                placed = self._placed_chunk(chunk) if self.in_place and chunk.index.size else None
                if placed is not None:
                    start, b = int(chunk.index[0]), chunk.index.size
                    back = {f: self._place(self._daily[f][start : start + b]) for f in BACK_FIELDS}
                    tasks.append(("in_place", start, placed, back))
                else:
                    [data] = self.client.scatter([chunk], workers=[worker], hash=False)
                    held.append(data)
                    moved["out"] += nbytes(chunk)
                    tasks.append(("chunk", data))
            results.append(
                self.client.submit(
                    _shard,
                    engine,
                    tasks,
                    day,
                    key,
                    threads_of.get(worker, 1),
                    pure=False,
                    workers=[worker],
                    allow_other_workers=False,
                )
            )
        try:
            for rows, future in zip((x for x in shards if x), results, strict=True):
                outcomes, tallies = future.result()
                moved["back"] += nbytes(outcomes) + nbytes(tallies)
                future.release()
                for j, (i, outcome) in enumerate(zip(rows, outcomes, strict=True)):
                    chunk = chunks[i]
                    fill = tallies if j == 0 else tuple(np.zeros_like(x) for x in tallies)
                    outcome = dataclasses.replace(
                        outcome, **dict(zip(TALLY_FIELDS, fill, strict=True))
                    )
                    if outcome.active.size != chunk.index.size:  # written in shared memory
                        start, stop = int(chunk.index[0]), int(chunk.index[-1]) + 1
                        outcome = dataclasses.replace(
                            outcome, **{f: self._daily[f][start:stop].copy() for f in BACK_FIELDS}
                        )
                    yield chunk, outcome
        finally:
            with contextlib.suppress(Exception):
                self.client.cancel([*results, *held, day])
            self.bytes.append(moved)

    def close(self) -> None:
        """Stop the cluster (one started here) and unlink the shared memory: the model's
        arrays stay valid in this process until it ends."""
        with contextlib.suppress(Exception):
            self.client.close()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()
        for shm, _ in self._blocks:
            with contextlib.suppress(Exception):
                shm.unlink()

    def __enter__(self) -> ShardedKernel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
