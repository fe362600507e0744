"""One run's consumers spread over the workers of a Dask cluster.

The consumers are split into shards, contiguous ranges of rows, one per worker: every day each
worker runs the consumer kernel (:mod:`sim.kernels.consumer_day`) over the chunks of its shard,
with the day's tables and rules broadcast to it once, and sends back each chunk's outcome (the
impressions per item, listing and channel, the purchase intents and follow events, who was
active and the needs that arose). The outcomes are gathered in chunk order, as a single
process yields them, and the kernel's draws are counter-based (keyed by the day and the
consumer's row), so a run gives the same results, to the bit, on any number of workers.

The phases other than matching still run in the process that built the market, which owns the
consumers' arrays: a chunk's columns travel to its worker every day. :attr:`ShardedKernel.bytes`
counts what moved each day, by direction.

* ``ShardedKernel(workers=N)``: a :class:`distributed.LocalCluster` of N worker processes,
  ``CPUs // N`` threads each (``zhongcao run --dask local:N``);
* ``ShardedKernel(address=...)``: a running cluster (``--scheduler ADDRESS``); its workers need
  this package installed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
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
        self.bytes: list[dict[str, int]] = []
        """Per day run: bytes sent to the workers (``out``: the chunks' columns; ``tables``:
        the day's tables and rules, once per worker) and back (``back``: the outcomes)."""

    def run_chunks(self, engine: str, chunks, t: Tables, r: Rules, key: np.uint64, threads=1):
        """Yield (chunk, outcome) in chunk order; ``threads`` is the workers' business."""
        chunks = list(chunks)
        [day] = self.client.scatter([(t, r)], broadcast=True, hash=False)
        n = len(self.workers)
        futures = []
        for i, chunk in enumerate(chunks):
            worker = [self.workers[i * n // max(len(chunks), 1)]]  # contiguous rows per worker
            [data] = self.client.scatter([chunk], workers=worker, hash=False)
            futures.append(data)
            futures.append(
                self.client.submit(
                    _kernel,
                    engine,
                    data,
                    day,
                    key,
                    pure=False,
                    workers=worker,
                    allow_other_workers=False,
                )
            )
        moved = {"out": 0, "tables": nbytes((t, r)) * min(n, len(chunks)), "back": 0}
        try:
            for chunk, future in zip(chunks, futures[1::2], strict=True):
                outcome = future.result()
                moved["out"] += nbytes(chunk)
                moved["back"] += nbytes(outcome)
                future.release()
                yield chunk, outcome
        finally:
            with contextlib.suppress(Exception):
                self.client.cancel([*futures, day])
            self.bytes.append(moved)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()

    def __enter__(self) -> ShardedKernel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
