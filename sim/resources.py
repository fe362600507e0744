"""Will a run fit in this machine's memory? An estimate made before anything is built.

The estimate adds up what a run holds, per consumer and in all:

* the consumer arrays (:data:`sim.population.ATTRIBUTES`, exactly, from their dtypes);
* the follow table: ``max_follows`` creator ids (int32) and trusts (float32) per consumer;
* the buyer history (:class:`sim.orders.BuyerHistory`): 12 bytes per distinct (consumer,
  merchant) pair (key and day of the last order), at most one per order of the last
  ``consumers.new_customer_window_days`` days (older ones are forgotten), twice over while
  new pairs are merged in; orders are
  taken as :data:`ORDERS_PER_ACTIVE_CONSUMER_DAY` a day per active consumer;
* a day's working arrays: :data:`WORKING_BYTES_PER_CONSUMER` per consumer;
* the agents: :data:`AGENT_BYTES` per merchant (and its own account), creator, MCN and
  service provider, at the most there can be by the last day of the warm-up and the run:
  potential merchant entrants arrive at ``entry_share_per_day`` x the merchants at the start
  a day (linear growth at most), and creators' entries grow them by at most
  ``1 + 3 x entry_share_per_day`` a day (the schema bounds the share, see
  :data:`sim.config.MAX_ENTRY_SHARE_PER_DAY`), compounded;
* a fixed part for the interpreter and libraries (:data:`FIXED_BYTES`).

The constants were measured with ``zhongcao bench`` (see BENCHMARKS.md) and err on the high
side. A run whose estimate exceeds :data:`HEADROOM` of the memory available is refused; so are
``copies`` runs at once, where ``copies`` is the number of runs that can run at the same time
(a comparison's workers, or its runs if there are fewer).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from sim.config import ENTRY_RATIO_CAP, Scenario
from sim.population import ATTRIBUTES, consumer_rows

ORDERS_PER_ACTIVE_CONSUMER_DAY = 0.15
WORKING_BYTES_PER_CONSUMER = 64
FIXED_BYTES = 400 * 2**20
AGENT_BYTES = 4096
"""One mesa agent with its state (about 2.4 KiB measured with tracemalloc, rounded up)."""
HEADROOM = 0.85


class ResourceError(Exception):
    """A run that would not fit in memory: bad input (exit code 2)."""


@dataclass(frozen=True)
class MemoryEstimate:
    consumers_bytes: int
    follows_bytes: int
    history_bytes: int
    working_bytes: int
    fixed_bytes: int
    agents_bytes: int = 0
    max_agents: float = 0.0
    """The most agents there can be on the last day (entries at their highest rate)."""

    @property
    def total_bytes(self) -> int:
        return (
            self.consumers_bytes
            + self.follows_bytes
            + self.history_bytes
            + self.working_bytes
            + self.fixed_bytes
            + self.agents_bytes
        )


def growth(entry_share_per_day: float, days: int) -> float:
    """The most a kind of agent can multiply over ``days`` days of entries (inf if beyond
    what a float holds)."""
    try:
        return math.pow(1.0 + ENTRY_RATIO_CAP * entry_share_per_day, days)
    except OverflowError:
        return math.inf


def max_agents(config: Scenario) -> float:
    """The most merchants (with their own accounts), creators, MCNs and providers a run can
    hold on its last day, the warm-up included."""
    pop = config.population
    days = config.warmup_days + config.steps
    merchants = pop.n_merchants * (1.0 + config.merchants.entry_share_per_day * days)
    creators = pop.n_creators * growth(config.creators.entry_share_per_day, days)
    return 2 * merchants + creators + pop.n_mcns + pop.n_service_providers


def estimate_memory(config: Scenario) -> MemoryEstimate:
    # Every row, including those reserved for arrivals.
    n = consumer_rows(config)
    k = len(config.market.categories)
    per_consumer = 0
    for name, attr in ATTRIBUTES.items():
        if name == "affinity" and config.platform.recommender.temperature == 1.0:
            continue  # shares the interest array
        per_consumer += np.dtype(attr.dtype).itemsize * (k if attr.per_category else 1)
    f = config.consumers.max_follows
    orders = n * config.consumers.daily_active_prob_mean * ORDERS_PER_ACTIVE_CONSUMER_DAY
    agents = max_agents(config)
    return MemoryEstimate(
        consumers_bytes=n * per_consumer,
        follows_bytes=n * (f * 8 + 2),
        history_bytes=int(
            2
            * 12
            * orders
            * min(config.warmup_days + config.steps, config.consumers.new_customer_window_days)
        ),
        working_bytes=n * WORKING_BYTES_PER_CONSUMER,
        fixed_bytes=FIXED_BYTES,
        agents_bytes=int(min(agents * AGENT_BYTES, 2**62)),
        max_agents=agents,
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
        agents = (
            f", up to {estimate.max_agents:,.0f} agents"
            if math.isfinite(estimate.max_agents)
            else ", agents without bound"
        )
        raise ResourceError(
            f"{runs} would need about {need / gib:.1f} GiB of memory "
            f"({config.population.n_consumers:,} consumers, {config.steps} days{agents}), but "
            f"only {HEADROOM:.0%} of the {have / gib:.1f} GiB available "
            f"({HEADROOM * have / gib:.1f} GiB) may be used; lower population.consumers, steps "
            "or the entry shares" + (", or use fewer --workers" if copies > 1 else "")
        )
    return estimate
