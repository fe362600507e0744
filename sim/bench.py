"""The benchmark: how fast full model steps run, and how much memory they take, by size.

Each size runs in a fresh process (so its peak memory is its own): the scenario is loaded
with ``population.consumers`` set to the size, the market is built (timed), a few warm-up
steps run (the first compiles the numba kernel, and the market settles), then ``steps`` full
steps are timed one by one — every phase, not only matching. Reported per size: the median
seconds per step, consumer-steps per second, the build time, the peak resident memory and the
bytes per consumer above the process's memory before the build, the memory the run expected
(:mod:`sim.resources`), and each phase's share of the step time.
"""

from __future__ import annotations

import multiprocessing
import platform
import resource
import statistics
import time
from importlib import metadata
from pathlib import Path

from sim.io import write_text
from sim.resources import check_fits, estimate_memory

MIB = 2**20


def _rss_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(
    scenario: str, consumers: int, steps: int, warmup: int, engine: str | None, threads: int | None
) -> dict:
    """Build the market at one size and time its steps (in this process)."""
    from sim.model import MarketModel
    from sim.scenario import load_scenario

    config = load_scenario(
        scenario, [f"population.consumers={consumers}", f"steps={warmup + steps}"]
    ).config
    check_fits(config)
    before = _rss_bytes()
    start = time.perf_counter()
    model = MarketModel(config, engine=engine, threads=threads)
    build_s = time.perf_counter() - start
    for _ in range(warmup):
        model.step()
    model.phase_seconds.clear()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - start)
    peak = _rss_bytes()
    per_step = statistics.median(times)
    total = sum(model.phase_seconds.values())
    return {
        "consumers": consumers,
        "seconds_per_step": round(per_step, 4),
        "consumer_steps_per_s": round(consumers / per_step),
        "peak_rss_mb": round(peak / MIB, 1),
        "bytes_per_consumer": round((peak - before) / consumers, 1),
        "build_s": round(build_s, 2),
        "estimated_mb": round(estimate_memory(config).total_bytes / MIB, 1),
        "steps": steps,
        "warmup": warmup,
        "engine": model.engine,
        "threads": model.threads,
        "creators": config.population.n_creators,
        "merchants": config.population.n_merchants,
        "phase_share": {k: round(v / total, 3) for k, v in sorted(model.phase_seconds.items())},
    }


def measure_isolated(**kwargs) -> dict:
    """:func:`measure` in a fresh process."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(measure, kwds=kwargs)


def machine() -> dict:
    import os

    info = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    for package in ("numpy", "numba", "mesa"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            info["memory_gib"] = round(int(meminfo.readline().split()[1]) / 2**20, 1)
    except OSError:
        pass
    return info


def markdown(rows: list[dict], mesa: dict | None, info: dict, date: str, command: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured on {date} with `{command}`.",
        "",
        f"Machine: {info.get('platform')}, {info.get('cpus')} CPUs, "
        f"{info.get('memory_gib', '?')} GiB; Python {info.get('python')}, NumPy "
        f"{info.get('numpy')}, numba {info.get('numba')}, Mesa {info.get('mesa')}.",
        "",
        "Every row times full model steps (all eleven phases) of `scenarios/large.yaml` with "
        "`population.consumers` set to the size, after warm-up steps; each size runs in a "
        "fresh process. Memory: the process's peak resident set; bytes per consumer count what "
        "the run added above the memory before the market was built.",
        "",
        "| consumers | creators | merchants | s per step (median) | consumer-steps/s | build s | "
        "peak RSS MB | bytes/consumer | estimated MB | engine, threads |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['consumers']:,} | {r['creators']:,} | {r['merchants']:,} | "
            f"{r['seconds_per_step']:.3f} | {r['consumer_steps_per_s']:,} | {r['build_s']:.1f} | "
            f"{r['peak_rss_mb']:,.0f} | {r['bytes_per_consumer']:.0f} | {r['estimated_mb']:,.0f} | "
            f"{r['engine']}, {r['threads']} |"
        )
    lines += ["", "Share of step time by phase:", ""]
    phases = sorted({p for r in rows for p in r["phase_share"]})
    lines.append("| consumers | " + " | ".join(phases) + " |")
    lines.append("|---:|" + "---:|" * len(phases))
    for r in rows:
        cells = " | ".join(f"{r['phase_share'].get(p, 0):.0%}" for p in phases)
        lines.append(f"| {r['consumers']:,} | {cells} |")
    if mesa is not None:
        lines += [
            "",
            f"Against idiomatic Mesa (one `mesa.Agent` per consumer, `sim/reference_mesa.py`) "
            f"on the same market of {mesa['consumers']:,} consumers, the consumer side of one "
            f"day (matching and purchase) takes {mesa['mesa_s']:.2f} s in Mesa and "
            f"{mesa['vectorised_s']:.3f} s vectorised: **{mesa['ratio']:.0f}x**.",
        ]
    return "\n".join(lines) + "\n"


def write_markdown(path: Path, text: str) -> None:
    write_text(path, text)
