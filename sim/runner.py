"""Running scenarios: one run -> one results folder.

A run folder holds

* ``config.yaml``: the resolved scenario (every value, after ``extends`` and ``--set``);
* ``timeseries.parquet``: tidy metrics, columns ``step``, ``metric``, ``value``;
* ``summary.csv``: one row, one column per metric, for the whole run;
* ``creators.parquet`` and ``merchants.parquet``: agent snapshots every
  ``output.agent_sample_every_days`` days;
* ``follows_sample.parquet``: who a sample of consumers follows on the last day (for network
  figures);
* ``run.json``: provenance (seed, the version of every dependency, the git commit and
  whether the tree was dirty, the consumer kernel's engine and threads, config hash, command,
  wall time), written last.

The folder is reserved under a hidden ``.<name>.partial`` name before the simulation starts
(so an unwritable ``--out`` fails at once, and concurrent runs get distinct folders), every
file is flushed to disk, and the folder is renamed when ``run.json`` is in it, so a folder with
the final name is always complete; a failure or Ctrl-C removes the partial folder; one left by
a hard crash is listed (and removed on request) by ``zhongcao clean``.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim.config import Scenario
from sim.io import Reservation, atomic_folder, write_csv, write_json, write_parquet, write_text
from sim.model import MarketModel
from sim.provenance import dependency_versions, git_state
from sim.recorder import Recorder
from sim.scenario import LoadedScenario, config_sha256, dump_yaml

PACKAGES = (
    "zhongcao",
    "mesa",
    "numpy",
    "pandas",
    "pyarrow",
    "pydantic",
    "ruamel.yaml",
    "networkx",
    "matplotlib",
    "typer",
)
FIGURES = "figures"
RUN_FILES = (
    "config.yaml",
    "timeseries.parquet",
    "summary.csv",
    "creators.parquet",
    "merchants.parquet",
    "follows_sample.parquet",
    "run.json",
)

Progress = Callable[[int, int], None]
"""Called with (steps done, steps in all) after each step."""


@dataclass(frozen=True)
class RunResult:
    folder: Path
    summary: dict[str, float]
    wall_time_s: float


def package_versions() -> dict[str, str]:
    """Python's version and that of zhongcao and every package it depends on
    (:func:`sim.provenance.dependency_versions`)."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:  # named even if the installed metadata does not reach them
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {**versions, **dependency_versions()}


def simulate(
    config: Scenario,
    seed_index: int = 0,
    progress: Progress | None = None,
    threads: int | None = None,
    kernel=None,
) -> Recorder:
    """Build the market and run every step; return the filled recorder. ``threads`` and
    ``kernel`` (the consumers on a Dask cluster) only change the speed (see
    :class:`~sim.model.MarketModel`)."""
    model = MarketModel(config, seed_index=seed_index, threads=threads, kernel=kernel)
    recorder = Recorder(config.output.agent_sample_every_days)
    days = config.warmup_days + config.steps
    for step in range(days):
        model.step()
        recorder.record(model)
        if progress is not None:
            progress(step + 1, days)
    return recorder


def timestamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def write_run_folder(
    folder: Path,
    config: Scenario,
    resolved: dict,
    recorder: Recorder,
    *,
    seed_index: int,
    command: Sequence[str],
    wall_time_s: float,
    started_at: str,
    extra: dict | None = None,
    plot: bool = False,
) -> dict[str, float]:
    """Write every file of a run into ``folder`` (which must not be the final name yet):
    the tables, then (``plot``) the default figures drawn from those files into
    ``figures/``, and ``run.json`` last, with ``extra`` entries added. Returns the summary."""
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / "config.yaml", dump_yaml(resolved))
    write_parquet(folder / "timeseries.parquet", recorder.timeseries())
    summary = recorder.summary()
    write_csv(folder / "summary.csv", pd.DataFrame([summary]))
    write_parquet(folder / "creators.parquet", recorder.creators())
    write_parquet(folder / "merchants.parquet", recorder.merchants())
    write_parquet(folder / "follows_sample.parquet", recorder.follow_sample)
    info = {
        "status": "complete",
        "kind": "run",
        "scenario": config.name,
        "seed": config.seed,
        "seed_index": seed_index,
        "steps": config.steps,
        "warmup_days": config.warmup_days,
        "consumers": config.population.n_consumers,
        "config_sha256": config_sha256(resolved),
        "command": list(command),
        "started_at": started_at,
        "wall_time_s": round(wall_time_s, 3),
        "versions": package_versions(),
        "git": git_state(),
        "engine": dict(recorder.engine),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "files": list(RUN_FILES),
        **(extra or {}),
    }
    if plot:
        from sim.plots import draw, kinds_for  # matplotlib only when figures are drawn
        from sim.results import read_results

        results = read_results(folder, info)
        draw(results, kinds_for(results), results.headline_metrics, folder / FIGURES)
    write_json(folder / "run.json", info)
    return summary


def run_scenario(
    loaded: LoadedScenario,
    out_root: Path,
    *,
    command: Sequence[str] | None = None,
    progress: Progress | None = None,
    plot: bool = True,
    reserved: Callable[[Reservation], None] | None = None,
    seed_index: int = 0,
    extra: dict | None = None,
    kernel=None,
) -> RunResult:
    """Run a loaded scenario once and write its results folder under ``out_root`` (with its
    default figures unless ``plot`` is False). The folder is reserved before the simulation
    starts and ``reserved`` is told of it. ``seed_index`` picks run ``i`` of a study
    (:func:`sim.rng.run_seed`: the same run as seed index ``i`` of a comparison or sweep);
    ``extra`` is added to run.json; ``kernel`` (:class:`~sim.shards.ShardedKernel`) runs the
    consumers on a Dask cluster."""
    config = loaded.config
    index = f"-i{seed_index}" if seed_index else ""
    name = f"{config.name}-seed{config.seed}{index}-{timestamp()}"
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with atomic_folder(Path(out_root), name, reserved) as (partial, final):
        t0 = time.perf_counter()
        recorder = simulate(config, seed_index, progress=progress, kernel=kernel)
        wall = time.perf_counter() - t0
        summary = write_run_folder(
            partial,
            config,
            loaded.resolved,
            recorder,
            seed_index=seed_index,
            command=command if command is not None else sys.argv,
            wall_time_s=wall,
            started_at=started_at,
            extra=extra,
            plot=plot,
        )
    return RunResult(final, summary, wall)
