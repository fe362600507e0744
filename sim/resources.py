"""Will a run fit in this machine's memory? An estimate made before anything is built.

The estimate adds up what a run holds, per consumer and in all:

* the consumer arrays (:data:`sim.population.ATTRIBUTES`, exactly, from their dtypes);
* the follow table: ``max_follows`` creator ids (int32) and trusts (float32) per consumer;
* the buyer history (:class:`sim.orders.BuyerHistory`): 8 bytes per distinct (consumer,
  merchant) pair, at most one per order, twice over while new pairs are merged in; orders are
  taken as :data:`ORDERS_PER_ACTIVE_CONSUMER_DAY` a day per active consumer;
* a day's working arrays: :data:`WORKING_BYTES_PER_CONSUMER` per consumer;
* the agents: :data:`AGENT_BYTES` per creator and per merchant, with an own account for each
  merchant on top (the counts follow the consumers at the scenario's ratios, so the agents
  grow with the population);
* a fixed part for the interpreter, libraries and agents (:data:`FIXED_BYTES`).

The constants were measured with ``zhongcao bench`` (see BENCHMARKS.md) and err on the high
side. A run whose estimate exceeds :data:`HEADROOM` of the memory available is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from sim.config import Scenario
from sim.population import ATTRIBUTES

ORDERS_PER_ACTIVE_CONSUMER_DAY = 0.15
WORKING_BYTES_PER_CONSUMER = 64
AGENT_BYTES = 16 * 2**10
FIXED_BYTES = 400 * 2**20
HEADROOM = 0.85


class ResourceError(Exception):
    """A run that would not fit in memory: bad input (exit code 2)."""


@dataclass(frozen=True)
class MemoryEstimate:
    consumers_bytes: int
    follows_bytes: int
    history_bytes: int
    working_bytes: int
    agents_bytes: int
    fixed_bytes: int

    @property
    def total_bytes(self) -> int:
        return (
            self.consumers_bytes
            + self.follows_bytes
            + self.history_bytes
            + self.working_bytes
            + self.agents_bytes
            + self.fixed_bytes
        )


def estimate_memory(config: Scenario) -> MemoryEstimate:
    pop = config.population
    n = pop.n_consumers
    k = len(config.market.categories)
    per_consumer = 0
    for name, attr in ATTRIBUTES.items():
        if name == "affinity" and config.platform.recommender.temperature == 1.0:
            continue  # shares the interest array
        per_consumer += np.dtype(attr.dtype).itemsize * (k if attr.per_category else 1)
    f = config.consumers.max_follows
    orders = n * config.consumers.daily_active_prob_mean * ORDERS_PER_ACTIVE_CONSUMER_DAY
    return MemoryEstimate(
        consumers_bytes=n * per_consumer,
        follows_bytes=n * (f * 8 + 2),
        history_bytes=int(2 * 8 * orders * (config.warmup_days + config.steps)),
        working_bytes=n * WORKING_BYTES_PER_CONSUMER,
        agents_bytes=(pop.n_creators + 2 * pop.n_merchants) * AGENT_BYTES,
        fixed_bytes=FIXED_BYTES,
    )


def available_bytes() -> int:
    """Memory available to new work: MemAvailable from /proc/meminfo, else all of it."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(config: Scenario, copies: int = 1) -> MemoryEstimate:
    """Refuse (ResourceError) a run, or ``copies`` runs at once, that will not fit."""
    estimate = estimate_memory(config)
    need = estimate.total_bytes * copies
    have = available_bytes()
    if need > HEADROOM * have:
        gib = 2**30
        runs = f"{copies} runs at once" if copies > 1 else "this run"
        raise ResourceError(
            f"{runs} would need about {need / gib:.1f} GiB of memory "
            f"({config.population.n_consumers:,} consumers, {config.steps} days), but only "
            f"{have / gib:.1f} GiB is available; lower population.consumers or steps"
            + (", or use fewer --workers" if copies > 1 else "")
        )
    return estimate
