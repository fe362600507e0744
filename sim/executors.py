"""Where the runs of a study execute: in this process, a local process pool, or Dask.

Every executor is handed the same tasks — pure functions of (resolved scenario, seed index,
run folder) that write their run folder atomically and return its record — and calls
``done(task, record)`` in the calling thread as each run finishes, in whatever order they
finish. The study sorts the records, so results do not depend on the executor or on the
number of workers.

* :class:`InProcess`: one run after another in this process (``--workers 1``).
* :class:`LocalPool`: ``--workers N``, the default. N slots, each a one-worker
  :class:`~concurrent.futures.ProcessPoolExecutor` that runs one run at a time and is reused
  for the next. A run whose process dies — killed, out of memory, a crash in native code —
  breaks only its own slot's pool: that run is recorded as failed, the slot gets a fresh
  process and the other runs go on. (In one shared pool a dying worker breaks the pool and
  fails every run in flight, with no way to tell which one died; a process per run would
  attribute deaths as well but pay the imports, a few seconds, for every run.) Workers are
  started from the calling thread and die with it (``PR_SET_PDEATHSIG``).
* :class:`DaskExecutor`: ``--dask local[:N]`` starts a :class:`distributed.LocalCluster` of N
  one-thread workers (their processes die with this one as well); ``--scheduler ADDRESS``
  uses a running cluster (whose workers must see the study folder: a shared filesystem). A
  run whose worker dies is a :class:`distributed.KilledWorker`, recorded as failed; the
  local cluster's scheduler gives up on a task at its first dead worker
  (``distributed.scheduler.allowed-failures: 0``), a running cluster after its own setting.
  At most one run per worker thread is on the cluster at a time, so that a dying worker
  holds no queued runs: it takes only the run it was running with it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

Done = Callable[[Any, dict], None]

WORKER_DIED = "the worker process died (killed, out of memory or crashed)"

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a process gets when its parent dies (linux/prctl.h)."""


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker when the study that started it dies, even by
    SIGKILL (which runs no clean-up in the parent), instead of running on into a dead folder.

    On Linux the kernel does it: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` asks for SIGKILL when the
    parent thread goes; it costs nothing while running and needs no thread. The parent here is
    the thread that runs the study, which starts every worker and lives as long as the study.
    A parent that died before the call is caught by comparing ``getppid()`` afterwards.
    Elsewhere a daemon thread polls ``getppid()`` once a second."""
    import ctypes
    import signal
    import threading

    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent_pid:
        os._exit(1)
    if not armed:

        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def failure(task: Any, error: str, wall_time_s: float = 0.0) -> dict:
    """The record of a run that did not finish (``task`` is not part of it)."""
    return {"status": "failed", "error": error, "wall_time_s": wall_time_s}


class Executor(Protocol):
    workers: int
    """How many runs may execute at once (for the memory check and the threads per run)."""

    def execute(self, fn: Callable[[Any], dict], tasks: Iterable[Any], done: Done) -> None: ...

    def close(self) -> None: ...


@dataclass
class InProcess:
    workers: int = 1

    def execute(self, fn, tasks, done) -> None:
        for task in tasks:
            done(task, fn(task))

    def close(self) -> None:
        pass


@dataclass
class LocalPool:
    workers: int
    _slots: list = field(default_factory=list)
    """One one-worker pool per slot (None: to be started); a slot runs one run at a time."""

    def _pool(self, slot: int) -> ProcessPoolExecutor:
        if self._slots[slot] is None:
            self._slots[slot] = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),  # the parent may run threads
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )
        return self._slots[slot]

    def execute(self, fn, tasks, done) -> None:
        waiting = list(tasks)
        waiting.reverse()
        self._slots = self._slots or [None] * self.workers
        running: dict = {}  # future -> (task, slot, started)
        try:
            while waiting or running:
                busy = {slot for _, slot, _ in running.values()}
                for slot in range(self.workers):
                    if waiting and slot not in busy:
                        task = waiting.pop()
                        future = self._pool(slot).submit(fn, task)
                        running[future] = (task, slot, time.perf_counter())
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    task, slot, started = running.pop(future)
                    try:
                        record = future.result()
                    except BrokenProcessPool:  # this slot's process died: only its run is lost
                        record = failure(task, WORKER_DIED, time.perf_counter() - started)
                        self._slots[slot].shutdown(wait=True)
                        self._slots[slot] = None
                    except Exception as exc:  # a task that could not be sent or returned
                        message = " ".join(f"{type(exc).__name__}: {exc}".split())
                        record = failure(task, message, time.perf_counter() - started)
                    done(task, record)
        except BaseException:
            self.close()
            raise

    def processes(self) -> list:
        """The worker processes now running (one per started slot)."""
        return [p for pool in self._slots if pool for p in (pool._processes or {}).values()]

    def close(self) -> None:
        """Kill the worker processes now: on an interruption, runs in flight would otherwise go
        on writing into the study folder."""
        processes = self.processes()  # no public way before Python 3.14
        for pool in self._slots:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.kill()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(5)
        self._slots = []


class _DieWithParent:
    """A Dask worker plugin: the local cluster's workers die with this process."""

    def __init__(self, parent_pid: int):
        self.parent_pid = parent_pid

    def setup(self, worker) -> None:
        die_with_parent(self.parent_pid)


def parse_dask(spec: str) -> int:
    """``local`` or ``local:N`` -> N workers (``local``: one per CPU); ValueError otherwise."""
    name, _, count = spec.partition(":")
    if name != "local":
        raise ValueError(
            f"--dask {spec!r}: expected local or local:N (a running cluster: --scheduler ADDRESS)"
        )
    if not count:
        return os.cpu_count() or 1
    if not count.isdigit() or int(count) < 1:
        raise ValueError(f"--dask {spec!r}: N must be a whole number of workers, at least 1")
    return int(count)


class DaskExecutor:
    """Runs on a Dask cluster: a :class:`distributed.LocalCluster` started here (``workers``
    given) or a running one (``address``), or an existing ``client``."""

    def __init__(
        self, *, workers: int | None = None, address: str | None = None, client: Any = None
    ):
        import dask
        from distributed import Client, LocalCluster

        self._cluster = None
        self._own_client = client is None
        if client is None and address is None:
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                self._cluster = LocalCluster(
                    n_workers=workers or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=50,
                )
            client = Client(self._cluster)
            with contextlib.suppress(Exception):
                client.register_plugin(_DieWithParent(os.getpid()), name="zhongcao-die-with-parent")
        elif client is None:
            client = Client(address, timeout="30s")
        self.client = client
        self.workers = workers or max(1, sum(client.nthreads().values()))
        self._futures: list = []

    def execute(self, fn, tasks, done) -> None:
        from distributed import as_completed

        waiting = list(tasks)
        waiting.reverse()
        by_key: dict = {}

        def submit() -> None:
            task = waiting.pop()
            future = self.client.submit(fn, task, key=task_key(task), pure=False, retries=0)
            by_key[future.key] = task
            self._futures.append(future)
            running.add(future)

        # At most one run per worker thread on the cluster at a time, none queued on a
        # worker: a worker that dies takes only the run it was running with it.
        running = as_completed()
        for _ in range(min(self.workers, len(waiting))):
            submit()
        try:
            for future in running:
                task = by_key.pop(future.key)
                try:
                    record = future.result()
                except Exception as exc:
                    if type(exc).__name__ == "KilledWorker":
                        record = failure(task, WORKER_DIED)
                    else:
                        message = " ".join(f"{type(exc).__name__}: {exc}".split())
                        record = failure(task, message)
                self._futures.remove(future)
                future.release()
                if waiting:
                    submit()
                done(task, record)
        except BaseException:
            self.cancel()
            raise
        finally:
            self._futures = []

    def cancel(self) -> None:
        """Cancel the study's tasks; on a cluster started here, also restart its workers, so
        that runs in flight stop writing into the study folder now (a task already running on
        a running cluster's worker goes on: Dask cannot stop a thread)."""
        with contextlib.suppress(Exception):
            self.client.cancel(self._futures, force=True)
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self.client.restart(timeout=30)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self._own_client:
                self.client.close()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()


def task_key(task: Any) -> str:
    """A Dask key naming the run (unique within a study)."""
    return f"zhongcao-{task.study_id}-{task.variant}-seed{task.seed_index}"
