"""The benchmark: how fast full model steps run, and how much memory they take, by size.

Each size runs in a fresh process (so its peak memory is its own): the scenario is loaded
with ``population.consumers`` set to the size, the market is built (timed), a few warm-up
steps run (the first compiles the numba kernel, and the market settles), then ``steps`` full
steps are timed one by one — every phase, not only matching. Reported per size: the median
seconds per step, consumer-steps per second, the build time, the peak resident memory and the
bytes per consumer above the process's memory before the build, the memory the run expected
(:mod:`sim.resources`), and each phase's share of the step time.

``sellers`` multiplies the creators, merchants, MCNs and service providers the scenario
resolves at that size (2: the seller side doubled at fixed consumers), so that a pair of rows
measures what a seller costs per step and in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import platform
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path

from sim.io import write_text
from sim.resources import check_fits, estimate_memory
from sim.scenario import load_scenario

MIB = 2**20


def _rss_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


SELLER_ROLES = ("creators", "merchants", "mcns", "service_providers")


def bench_overrides(scenario: str, consumers: int, steps: int, sellers: float = 1.0) -> list[str]:
    """The ``--set`` overrides of one benchmark row: the size, the steps, and (``sellers`` not
    1) every seller count set to ``sellers`` x what the scenario resolves at that size."""
    from sim.scenario import load_scenario

    overrides = [f"population.consumers={consumers}", f"steps={steps}"]
    if sellers != 1.0:
        pop = load_scenario(scenario, overrides).config.population
        overrides += [
            f"population.{role}={round(sellers * getattr(pop, f'n_{role}'))}"
            for role in SELLER_ROLES
        ]
    return overrides


def exchange_bytes(model) -> dict:
    """Run one more step and measure, pickled as Dask sends them, what a shard of consumers
    would exchange with the sellers' side that day: the day's tables and rules (sent to every
    shard), the per-seller tallies (impressions per item, per listing and per channel: one
    set back from every shard) and the rows (purchase intents and follow events: split
    among the shards). Bytes."""
    import sim.phases.matching as matching

    seen = {"out": 0, "tallies": 0, "rows": 0, "chunks": 0}
    run = matching.run_chunks

    def recording(engine, chunks, tables, rules, key, threads=1):
        seen["out"] = len(pickle.dumps((tables, rules, key), protocol=5))
        for chunk, out in run(engine, chunks, tables, rules, key, threads):
            tallies = (
                out.channel_impressions,
                out.content_impressions,
                out.follow_impressions,
                out.shelf_impressions,
            )
            rows = (
                chunk.index[out.intent_row],
                out.intent_listing,
                out.intent_item,
                out.intent_channel,
                chunk.index[out.follow_row],
                out.follow_creator,
            )
            seen["tallies"] = len(pickle.dumps(tallies, protocol=5))
            seen["rows"] += len(pickle.dumps(rows, protocol=5))
            seen["chunks"] += 1
            yield chunk, out

    matching.run_chunks = recording
    try:
        model.step()
    finally:
        matching.run_chunks = run
    return {
        "tables_bytes": seen["out"],
        "tallies_bytes": seen["tallies"],
        "rows_bytes": seen["rows"],
        "chunks": seen["chunks"],
    }


def measure(
    scenario: str,
    consumers: int,
    steps: int,
    warmup: int,
    engine: str | None,
    threads: int | None,
    sellers: float = 1.0,
    dask_workers: int | None = None,
) -> dict:
    """Build the market at one size and time its steps (in this process, or with the
    consumers on a Dask LocalCluster of ``dask_workers`` started here)."""
    config = load_scenario(
        scenario, bench_overrides(scenario, consumers, warmup + steps, sellers)
    ).config
    check_fits(config)
    if dask_workers is None:
        return _measure(config, steps, warmup, engine, threads, None) | {"sellers_factor": sellers}
    from sim.shards import ShardedKernel

    with ShardedKernel(workers=dask_workers) as kernel:
        return _measure(config, steps, warmup, engine, threads, kernel) | {
            "sellers_factor": sellers,
            "dask_workers": dask_workers,
        }


def _measure(config, steps, warmup, engine, threads, kernel) -> dict:
    from sim.model import MarketModel

    consumers = config.population.n_consumers
    before = _rss_bytes()
    start = time.perf_counter()
    model = MarketModel(config, engine=engine, threads=threads, kernel=kernel)
    build_s = time.perf_counter() - start
    for _ in range(warmup):
        model.step()
    model.phase_seconds.clear()
    moved_before = len(kernel.bytes) if kernel is not None else 0
    times, cpu = [], []
    for _ in range(steps):
        start, start_cpu = time.perf_counter(), time.process_time()
        model.step()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    peak = _rss_bytes()
    load = os.getloadavg()[0]
    digest = hashlib.sha256(json.dumps(model.metrics, sort_keys=True).encode()).hexdigest()
    moved = (
        {
            k: round(statistics.mean(day[k] for day in kernel.bytes[moved_before:]))
            for k in ("out", "tables", "back")
        }
        if kernel is not None
        else None
    )
    per_step = statistics.median(times)
    total = sum(model.phase_seconds.values())
    phase_seconds = dict(model.phase_seconds)
    exchange = exchange_bytes(model)
    return {
        "consumers": consumers,
        "seconds_per_step": round(per_step, 4),
        "cpu_seconds_per_step": round(statistics.median(cpu), 4),
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
        "mcns": config.population.n_mcns,
        "service_providers": config.population.n_service_providers,
        "scenario": config.name,
        "phase_share": {k: round(v / total, 3) for k, v in sorted(phase_seconds.items())},
        "phase_seconds_per_step": {
            k: round(v / steps, 4) for k, v in sorted(phase_seconds.items())
        },
        "exchange": exchange,
        "metrics_sha256": digest,
        "load_average": round(load, 2),
        "bytes_moved_per_step": moved,
    }


def measure_isolated(**kwargs) -> dict:
    """:func:`measure` in a fresh process (one that may start a Dask cluster of its own)."""
    import multiprocessing

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure, **kwargs).result()


def machine() -> dict:
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
    """BENCHMARKS.md from the rows of one benchmark command or several (``command`` names
    them; a row's ``batch``, when present, names its command: rows are paired, for the
    sellers doubled and the sharded run, only within one)."""
    lines = [
        "# Benchmarks",
        "",
        f"Measured on {date} with `{command}`.",
        "",
        f"Machine: {info.get('platform')}, {info.get('cpus')} CPUs, "
        f"{info.get('memory_gib', '?')} GiB; Python {info.get('python')}, NumPy "
        f"{info.get('numpy')}, numba {info.get('numba')}, Mesa {info.get('mesa')}.",
        "",
        "Every row times full model steps (all eleven phases) of the scenario named in the "
        "row with `population.consumers` set to the size, after warm-up steps; each size runs "
        "in a fresh process. Memory: the process's peak resident set; bytes per consumer count "
        "what the run added above the memory before the market was built. Load: the machine's "
        "one-minute load average at the end of the timed steps (above the CPUs, other "
        "processes were competing for them).",
        "",
        "| scenario | consumers | creators | merchants | s per step (median) | CPU s per step | "
        "consumer-steps/s | build s | peak RSS MB | bytes/consumer | estimated MB | "
        "engine, threads | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in (r for r in rows if not r.get("dask_workers")):
        lines.append(
            f"| {r.get('scenario', '')} | {r['consumers']:,} | {r['creators']:,} | "
            f"{r['merchants']:,} | "
            f"{r['seconds_per_step']:.3f} | "
            + (f"{r['cpu_seconds_per_step']:.3f}" if "cpu_seconds_per_step" in r else "—")
            + f" | {r['consumer_steps_per_s']:,} | {r['build_s']:.1f} | "
            f"{r['peak_rss_mb']:,.0f} | {r['bytes_per_consumer']:.0f} | {r['estimated_mb']:,.0f} | "
            f"{r['engine']}, {r['threads']} | "
            + (f"{r['load_average']:.1f} |" if "load_average" in r else "— |")
        )
    lines += ["", "Share of step time by phase:", ""]
    phases = sorted({p for r in rows for p in r["phase_share"]})
    lines.append("| consumers | creators | merchants | " + " | ".join(phases) + " |")
    lines.append("|---:|---:|---:|" + "---:|" * len(phases))
    for r in (r for r in rows if not r.get("dask_workers")):
        cells = " | ".join(f"{r['phase_share'].get(p, 0):.0%}" for p in phases)
        lines.append(f"| {r['consumers']:,} | {r['creators']:,} | {r['merchants']:,} | {cells} |")
    if mesa is not None:
        lines += [
            "",
            f"Against idiomatic Mesa (one `mesa.Agent` per consumer, `sim/reference_mesa.py`) "
            f"on the same market of {mesa['consumers']:,} consumers, the consumer side of one "
            f"day (matching and purchase) takes {mesa['mesa_s']:.2f} s in Mesa and "
            f"{mesa['vectorised_s']:.3f} s vectorised: **{mesa['ratio']:.0f}x**.",
        ]
    sharded = [r for r in rows if r.get("dask_workers")]
    if sharded:
        lines += sharded_markdown(rows, sharded)
    checks = target_checks(rows)
    if checks:
        lines += [
            "",
            "## Targets",
            "",
            "Each target against the rows above (met or missed on this machine, as measured):",
            "",
            "| target | measured | |",
            "|---|---|---|",
            *(f"| {t} | {m} | {'met' if ok else '**missed**'} |" for t, m, ok in checks),
        ]
    capacity = capacity_model(rows)
    if capacity is not None:
        lines += capacity_markdown(capacity)
    return "\n".join(lines) + "\n"


def write_markdown(path: Path, text: str) -> None:
    write_text(path, text)


CAPACITY_CONSUMERS = (100_000_000, 600_000_000)
CAPACITY_WORKERS = (8, 32, 128)
NETWORK_BYTES_PER_S = 1.25e9
"""The capacity model's network: 10 Gbit/s into the process that holds the sellers."""


def sellers_of(row: dict) -> int:
    return row["creators"] + row["merchants"]


def capacity_model(rows: list[dict]) -> dict | None:
    """Unit costs from the measured rows, and the projections they give (see
    :func:`capacity_markdown` for the assumptions). Needs two rows at the same consumers, one
    with the sellers doubled (``sellers_factor`` 1 and 2); None otherwise."""
    pairs = [
        (a, b)
        for a in rows
        for b in rows
        if a["consumers"] == b["consumers"]
        and a.get("batch") == b.get("batch")
        and ("cpu_seconds_per_step" in a) == ("cpu_seconds_per_step" in b)
        and not a.get("dask_workers")
        and not b.get("dask_workers")
        and a["sellers_factor"] == 1.0
        and b["sellers_factor"] == 2.0
    ]
    if not pairs:
        return None
    one, two = max(pairs, key=lambda p: ("cpu_seconds_per_step" in p[0], p[0]["consumers"]))
    cpu = "cpu_seconds_per_step" in one
    key = "cpu_seconds_per_step" if cpu else "seconds_per_step"
    d_sellers = sellers_of(two) - sellers_of(one)
    s_per_seller_step = (two[key] - one[key]) / d_sellers
    added_one = one["bytes_per_consumer"] * one["consumers"]
    added_two = two["bytes_per_consumer"] * two["consumers"]
    bytes_per_seller = max(added_two - added_one, 0.0) / d_sellers
    consumer_s = one[key] - s_per_seller_step * sellers_of(one)
    s_per_consumer_step = consumer_s / one["consumers"]
    bytes_per_consumer = (added_one - bytes_per_seller * sellers_of(one)) / one["consumers"]
    ex = one["exchange"]
    sellers_per_consumer = sellers_of(one) / one["consumers"]
    projections = []
    for n in CAPACITY_CONSUMERS:
        sellers = n * sellers_per_consumer
        scale = sellers / sellers_of(one)  # the day's tables grow with the sellers
        for w in CAPACITY_WORKERS:
            per_shard = (ex["tables_bytes"] + ex["tallies_bytes"]) * scale + ex[
                "rows_bytes"
            ] * n / one["consumers"] / w
            moved = per_shard * w
            projections.append(
                {
                    "consumers": n,
                    "workers": w,
                    "sellers": round(sellers),
                    # CPU seconds spread over the worker's cores (the seller side: one thread).
                    "consumer_s": s_per_consumer_step * n / w / (one["threads"] if cpu else 1),
                    "seller_s": s_per_seller_step * sellers,
                    "network_s": moved / NETWORK_BYTES_PER_S,
                    "bytes_per_shard": per_shard,
                    "worker_gb": (bytes_per_consumer * n / w + ex["tables_bytes"] * scale) / 1e9,
                    "coordinator_gb": bytes_per_seller * sellers / 1e9,
                }
            )
    return {
        "from_consumers": one["consumers"],
        "cpu": cpu,
        "threads": one["threads"],
        "s_per_consumer_step": s_per_consumer_step,
        "s_per_seller_step": s_per_seller_step,
        "bytes_per_consumer": bytes_per_consumer,
        "bytes_per_seller": bytes_per_seller,
        "exchange": ex,
        "sellers_per_consumer": sellers_per_consumer,
        "projections": projections,
    }


def capacity_markdown(model: dict) -> list[str]:
    ex = model["exchange"]
    lines = [
        "",
        "## Capacity model",
        "",
        f"Unit costs, from the two rows at {model['from_consumers']:,} consumers (the sellers "
        f"as resolved, then doubled; {model['threads']} threads), in "
        + (
            "CPU seconds (the process's, every thread's) per step, which other processes "
            "competing for the CPUs disturb far less than wall time"
            if model["cpu"]
            else "wall seconds per step"
        )
        + ": a seller-step costs the difference of the two steps over the difference of "
        "sellers (creators + merchants), a consumer-step the rest of the first step over its "
        "consumers; the same for the memory the run added.",
        "",
        "| quantity | measured |",
        "|---|---:|",
        f"| {'CPU ' if model['cpu'] else ''}seconds per consumer-step | "
        f"{model['s_per_consumer_step']:.3g} |",
        f"| {'CPU ' if model['cpu'] else ''}seconds per seller-step | "
        f"{model['s_per_seller_step']:.3g} |",
        f"| bytes per consumer | {model['bytes_per_consumer']:,.0f} |",
        f"| bytes per seller | {model['bytes_per_seller']:,.0f} |",
        f"| day's tables and rules, pickled (to every shard) | {ex['tables_bytes']:,} |",
        f"| per-seller tallies, pickled (from every shard, summed over its chunks) | "
        f"{ex['tallies_bytes']:,} |",
        f"| intents and follow events, pickled (all shards together) | {ex['rows_bytes']:,} |",
        "",
        "Projected for a day of a market at the same ratios "
        f"({model['sellers_per_consumer'] * 1e5:,.0f} sellers per 100,000 consumers), the "
        "consumers in one shard per worker. Assumptions: each worker is this machine, "
        + (
            f"the consumer kernel keeping its {model['threads']} cores busy (wall = CPU "
            f"seconds / {model['threads']}), the seller side on one (wall = CPU seconds); "
            if model["cpu"]
            else "as fast as it was here; "
        )
        + "the consumer side "
        "scales linearly in consumers and splits evenly; the seller side stays in one process "
        "and is linear in sellers (as measured); the day's tables and a shard's tallies grow "
        "with the sellers, the rows with the consumers; all of a day's bytes pass the "
        "coordinator's "
        f"network at {NETWORK_BYTES_PER_S * 8 / 1e9:.0f} Gbit/s, one after another; consumers "
        "and sellers do not overlap in time (wall = consumer + seller + network). Memory per "
        "worker: its consumers and a copy of the day's tables.",
        "",
        "| consumers | workers | sellers | consumer s | seller s | network s | wall s per day | "
        "bytes per shard | GB per worker | GB for sellers |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in model["projections"]:
        wall = p["consumer_s"] + p["seller_s"] + p["network_s"]
        lines.append(
            f"| {p['consumers']:,} | {p['workers']} | {p['sellers']:,} | {p['consumer_s']:.1f} | "
            f"{p['seller_s']:.1f} | {p['network_s']:.2f} | {wall:.1f} | "
            f"{p['bytes_per_shard'] / 1e6:,.1f} MB | {p['worker_gb']:.1f} | "
            f"{p['coordinator_gb']:.1f} |"
        )
    return lines


def sharded_markdown(rows: list[dict], sharded: list[dict]) -> list[str]:
    """The rows run with the consumers on a Dask LocalCluster, beside the single process at the
    same size and sellers: time per step, whether the last day's metrics are the same to the
    bit, and the bytes moved per step."""
    lines = [
        "",
        "Sharded: the consumers in a shard per worker of a Dask LocalCluster started by the "
        "benchmark (each worker CPUs / workers threads), the other phases in the benchmark's "
        "process. Same metrics: the SHA-256 of the last timed day's metrics equals the single "
        "process's. Bytes moved per step: the chunks' consumer columns out to the workers (none: "
        "on a local cluster the consumers stay in shared memory), the day's tables and rules "
        "(once per worker), and the outcomes back (impressions per item, listing and channel, "
        "intents, follow events). Peak memory is the benchmark's process alone (its share of "
        "the shared memory included).",
        "",
        "| consumers | creators | merchants | workers | s per step, sharded | s per step, one "
        "process | same metrics | MB out (consumers) | MB out (tables) | MB back |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in sharded:
        single = next(
            (
                x
                for x in rows
                if not x.get("dask_workers")
                and x["consumers"] == r["consumers"]
                and x.get("batch") == r.get("batch")
                and x["sellers_factor"] == r["sellers_factor"]
            ),
            None,
        )
        same = (
            "—"
            if single is None
            else ("yes" if single["metrics_sha256"] == r["metrics_sha256"] else "**no**")
        )
        one = "—" if single is None else f"{single['seconds_per_step']:.3f}"
        b = r["bytes_moved_per_step"]
        lines.append(
            f"| {r['consumers']:,} | {r['creators']:,} | {r['merchants']:,} | {r['dask_workers']} | "
            f"{r['seconds_per_step']:.3f} | {one} | {same} | {b['out'] / 1e6:,.1f} | "
            f"{b['tables'] / 1e6:,.2f} | {b['back'] / 1e6:,.1f} |"
        )
    return lines


PLATFORM_CONSUMERS_PER_SELLER = (600, 300)
"""A platform's consumers per creator and per merchant (the ratios of scenarios/platform.yaml)."""


def at_platform_ratios(row: dict) -> bool:
    """A row of a market at the platform's ratios (within 5%), its sellers not multiplied."""
    creators, merchants = (row["consumers"] / n for n in PLATFORM_CONSUMERS_PER_SELLER)
    return (
        row["sellers_factor"] == 1.0
        and abs(row["creators"] / creators - 1) < 0.05
        and abs(row["merchants"] / merchants - 1) < 0.05
    )


def target_checks(rows: list[dict]) -> list[tuple[str, str, bool]]:
    """The scale targets the rows can tell: (target, what was measured, met)."""
    single = [r for r in rows if not r.get("dask_workers")]
    out = []

    def step(r: dict) -> str:
        cpu = r.get("cpu_seconds_per_step")
        extra = "" if cpu is None else f" (CPU {cpu:.3f} s on {r['threads']} threads)"
        return f"{r['seconds_per_step']:.3f} s{extra}"

    for r in single:
        if r["consumers"] == 1_000_000 and at_platform_ratios(r):
            s = r["seconds_per_step"]
            out.append(("10^6 at platform ratios: <= 0.5 s per step", step(r), s <= 0.5))
        if r["consumers"] == 10_000_000 and at_platform_ratios(r):
            s, b, m = r["seconds_per_step"], r["build_s"], r["peak_rss_mb"]
            out.append(("10^7 at platform ratios: <= 6 s per step", step(r), s <= 6))
            out.append(("10^7 at platform ratios: build <= 60 s", f"{b:.1f} s", b <= 60))
            out.append(("10^7 at platform ratios: peak <= 4 GB", f"{m / 1024:.2f} GiB", m <= 4096))
    for a in single:
        for b in single:
            if (
                a["consumers"] == b["consumers"]
                and a.get("batch") == b.get("batch")
                and a["sellers_factor"] == 1.0
                and b["sellers_factor"] == 2.0
                and ("cpu_seconds_per_step" in a) == ("cpu_seconds_per_step" in b)
            ):
                key = "cpu_seconds_per_step" if "cpu_seconds_per_step" in a else "seconds_per_step"
                more = b[key] / a[key] - 1
                out.append(
                    (
                        f"{a['consumers']:,} consumers, sellers doubled: <= +25% per step",
                        f"{more:+.0%} ({'CPU' if key.startswith('cpu') else 'wall'} seconds)",
                        more <= 0.25,
                    )
                )
    for r in rows:
        if not r.get("dask_workers"):
            continue
        one = next(
            (
                x
                for x in single
                if x["consumers"] == r["consumers"]
                and x.get("batch") == r.get("batch")
                and x["sellers_factor"] == r["sellers_factor"]
            ),
            None,
        )
        if one is None:
            continue
        same = one["metrics_sha256"] == r["metrics_sha256"]
        out.append(
            (
                f"{r['consumers']:,} consumers ({r['creators']:,} creators) on "
                f"{r['dask_workers']} Dask workers: no slower than one process, same results",
                f"{r['seconds_per_step']:.3f} s vs {one['seconds_per_step']:.3f} s, "
                f"{'same' if same else 'different'} metrics",
                same and r["seconds_per_step"] <= one["seconds_per_step"],
            )
        )
    return out
