"""Comparing policies over many seeds: one comparison -> one folder.

Every policy runs on the same seed indices 0..N-1; run ``i`` of every policy starts from
``SeedSequence(scenario seed, spawn_key=(i,))``, so seed index ``i`` gives every policy the
same initial market and the same luck (common random numbers). Runs go to a local process
pool; each run depends only on its policy and seed index, so the results are the same for
any number of workers.

A comparison folder holds

* ``runs/<policy>/seed<i>/``: one complete run folder per finished run;
* ``summary.csv``: a row per run: ``policy``, ``seed_index``, ``status``, ``error``,
  ``wall_time_s`` and every metric's whole-run value;
* ``comparison.csv``: ``policy, metric, mean, ci_low, ci_high, n``: 95% t-intervals across
  seeds;
* ``differences.csv``: each policy minus the first, paired by seed, with 95% t-intervals;
* ``figures/``: every figure that fits a comparison (PNG and SVG), ``report.html``: one
  self-contained page with the scenario, the policies, the tables and every figure;
* ``config.yaml``: the scenario with its policies; ``run.json``: provenance, written last.

A run that fails is recorded with its seed index and error; the others still finish. The
folder is built under a hidden ``.…partial`` name and renamed when ``run.json`` is written.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.config import Scenario
from sim.io import Reservation, atomic_folder, finish_folder, write_csv, write_json, write_text
from sim.runner import (
    FIGURES,
    package_versions,
    simulate,
    timestamp,
    write_run_folder,
)
from sim.scenario import LoadedScenario, dump_yaml
from sim.stats import CONFIDENCE, comparison_table, paired_differences

CompareProgress = Callable[[int, int, dict], None]
"""Called with (runs finished, runs in all, the finished run's record)."""


@dataclass(frozen=True)
class RunTask:
    policy: str
    seed_index: int
    config: Scenario
    resolved: dict
    folder: Path
    command: tuple[str, ...]
    threads: int = 1
    """Threads for the run's consumer kernel: the machine's CPUs shared among the workers."""


@dataclass(frozen=True)
class CompareResult:
    folder: Path
    summary: pd.DataFrame
    failures: list[dict]


def run_task(task: RunTask) -> dict:
    """Run one policy at one seed index and write its run folder; never raises for a failed
    simulation — the failure is returned as a record."""
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    partial = task.folder.parent / f".{task.folder.name}.partial"
    record = {"policy": task.policy, "seed_index": task.seed_index}
    try:
        recorder = simulate(task.config, task.seed_index, threads=task.threads)
        wall = time.perf_counter() - t0
        summary = write_run_folder(
            partial,
            task.config,
            task.resolved,
            recorder,
            seed_index=task.seed_index,
            command=task.command,
            wall_time_s=wall,
            started_at=started,
            extra={"policy": task.policy},
        )
        finish_folder(Reservation(partial, task.folder))
        return {**record, "status": "ok", "error": "", "wall_time_s": wall, **summary}
    except Exception as exc:
        shutil.rmtree(partial, ignore_errors=True)
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        return {
            **record,
            "status": "failed",
            "error": message,
            "wall_time_s": time.perf_counter() - t0,
        }


PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a process gets when its parent dies (linux/prctl.h)."""


def _die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker when the comparison that started it dies, even by
    SIGKILL (which runs no clean-up in the parent), instead of running on into a dead folder.

    On Linux the kernel does it: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` asks for SIGKILL when the
    parent goes; it costs nothing while running and needs no thread. The parent here is the
    comparison's main thread, which spawns every worker and lives as long as the process. A
    parent that died before the call is caught by comparing ``getppid()`` afterwards.
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


def _execute(tasks: list[RunTask], workers: int, progress: CompareProgress | None) -> list[dict]:
    records: list[dict] = []

    def done(record: dict) -> None:
        records.append(record)
        if progress is not None:
            progress(len(records), len(tasks), record)

    if workers <= 1:
        for task in tasks:
            done(run_task(task))
        return records
    # spawn, not fork: the parent may run threads (a progress bar) that fork would copy locked.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        futures = [pool.submit(run_task, task) for task in tasks]
        try:
            for future in as_completed(futures):
                done(future.result())
        except BaseException:
            _stop_workers(pool)
            raise
    return records


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and kill the workers now: on an interruption, runs still in
    progress would otherwise go on writing into the comparison folder being removed."""
    if hasattr(pool, "terminate_workers"):  # Python >= 3.14
        pool.terminate_workers()
        return
    processes = list((pool._processes or {}).values())  # no public way before 3.14
    pool.shutdown(wait=False, cancel_futures=True)  # forgets its processes: taken above
    for process in processes:
        process.terminate()


def draw_comparison(folder: Path, info: dict) -> Path:
    """Every figure that fits a comparison, from its files, and report.html."""
    from sim.plots import draw, kinds_for  # matplotlib only when figures are drawn
    from sim.report import write_report
    from sim.results import read_results

    results = read_results(folder, info)
    figures = draw(results, kinds_for(results), results.headline_metrics, folder / FIGURES)
    return write_report(results, figures, folder / "report.html")


def compare(
    scenario: LoadedScenario,
    policies: dict[str, LoadedScenario],
    out_root: Path,
    *,
    seeds: int,
    workers: int = 1,
    command: Sequence[str] | None = None,
    progress: CompareProgress | None = None,
    plot: bool = True,
    reserved: Callable[[Reservation], None] | None = None,
) -> CompareResult:
    """Run every policy on seed indices 0..seeds-1 and write the comparison folder (with its
    figures and report.html unless ``plot`` is False)."""
    config = scenario.config
    command = tuple(command if command is not None else sys.argv)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    name = f"{config.name}-compare-{timestamp()}"
    with atomic_folder(Path(out_root), name, reserved) as (partial, final):
        tasks = []
        threads = max(1, (os.cpu_count() or 1) // max(workers, 1))
        for seed_index in range(seeds):  # seed-major: every policy progresses together
            for policy, loaded in policies.items():
                folder = partial / "runs" / policy / f"seed{seed_index}"
                folder.parent.mkdir(parents=True, exist_ok=True)
                tasks.append(
                    RunTask(
                        policy, seed_index, loaded.config, loaded.resolved, folder, command, threads
                    )
                )
        records = _execute(tasks, workers, progress)
        order = {policy: i for i, policy in enumerate(policies)}
        records.sort(key=lambda r: (order[r["policy"]], r["seed_index"]))
        summary = pd.DataFrame(records)
        write_csv(partial / "summary.csv", summary)
        ok = summary[summary["status"] == "ok"].drop(columns=["status", "error"])
        write_csv(partial / "comparison.csv", comparison_table(ok))
        reference = next(iter(policies))
        write_csv(partial / "differences.csv", paired_differences(ok, reference))
        write_text(partial / "config.yaml", dump_yaml(scenario.resolved))
        failures = [
            {"policy": r["policy"], "seed_index": r["seed_index"], "error": r["error"]}
            for r in records
            if r["status"] != "ok"
        ]
        info = {
            "status": "complete" if not failures else "complete with failures",
            "kind": "comparison",
            "scenario": config.name,
            "seed": config.seed,
            "seeds": seeds,
            "seed_indices": list(range(seeds)),
            "policies": {p: scenario.resolved["policies"].get(p, {}) for p in policies},
            "reference_policy": reference,
            "confidence": CONFIDENCE,
            "workers": workers,
            "failures": failures,
            "command": list(command),
            "started_at": started,
            "versions": package_versions(),
        }
        if plot and not ok.empty:
            draw_comparison(partial, info)
        info["wall_time_s"] = round(time.perf_counter() - t0, 3)
        write_json(partial / "run.json", info)
    return CompareResult(final, summary, failures)
