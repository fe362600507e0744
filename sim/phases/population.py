"""Phase 2 (consumers): an open population. New consumers arrive, some leave quietly and some
of those who left come back; interests drift; memories of favourite merchants fade.

Arrivals take the population's dormant rows (allocated when the market is built, see
:func:`sim.population.consumer_rows`) in index order, never new rows: the arrays keep their size
for the whole run, so the views the kernel reads stay valid and the memory estimate
(:mod:`sim.resources`) holds. Rows of consumers who left are kept for them, since they may
return. When the dormant rows are used up, arrivals stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.population import DORMANT, LEFT, NO_MERCHANT, ON_PLATFORM, interest_alpha

if TYPE_CHECKING:
    from sim.config import Scenario
    from sim.network import FollowGraph
    from sim.population import Population


@dataclass(frozen=True)
class PopulationDay:
    arrived: int
    """Consumers who joined the platform today for the first time."""
    returned: int
    """Consumers who had left and came back today."""
    churned: int
    """Consumers who stopped using the platform today (quietly)."""
    drifted: int
    """Consumers whose interests moved today."""
    room_left: int
    """Dormant rows still free for arrivals."""


def renew_population(
    config: Scenario,
    population: Population,
    follows: FollowGraph,
    content_impressions_yesterday: int,
    interest_exponent: float,
    rng: np.random.Generator,
) -> PopulationDay:
    """In order, each decided from the state at the start of the day:

    * churn: each consumer on the platform leaves with ``churn_prob_per_day`` (its follows
      end, as for any consumer who leaves);
    * returns: each consumer who left comes back with ``return_prob_per_day``;
    * arrivals ~ Poisson(on-platform consumers x ``arrival_share_per_day`` +
      ``arrivals_per_1000_impressions`` x yesterday's feed and live impressions / 1000), at
      most the dormant rows left;
    * drift: each consumer on the platform, with ``interest_drift_prob_per_day``, moves its
      interest halfway to a fresh Dirichlet draw (the initial distribution);
    * memory: a favourite merchant is forgotten with chance 1 / ``merchant_memory_days``.
    """
    cfg = config.consumers
    pop = population
    on = pop.rows_with(ON_PLATFORM)
    left = pop.rows_with(LEFT)
    churn = on[rng.random(on.size) < cfg.churn_prob_per_day]
    back = left[rng.random(left.size) < cfg.return_prob_per_day]
    dormant = pop.rows_with(DORMANT)
    expected = (
        on.size * cfg.arrival_share_per_day
        + cfg.arrivals_per_1000_impressions * content_impressions_yesterday / 1000.0
    )
    arrivals = dormant[: min(int(rng.poisson(expected)), dormant.size)]
    pop.set_status(churn, LEFT)
    follows.clear_rows(churn)
    pop.set_status(back, ON_PLATFORM)
    pop.set_status(arrivals, ON_PLATFORM)

    on = pop.rows_with(ON_PLATFORM)
    drift = on[rng.random(on.size) < cfg.interest_drift_prob_per_day]
    if drift.size:
        fresh = rng.dirichlet(interest_alpha(config), size=drift.size)
        moved = 0.5 * pop.interest[drift].astype(np.float64) + 0.5 * np.maximum(fresh, 1e-6)
        pop.update_interest(drift, moved / moved.sum(axis=1, keepdims=True), interest_exponent)
    remembers = np.flatnonzero(pop.favorite_merchant != NO_MERCHANT)
    fade = remembers[rng.random(remembers.size) < 1.0 / cfg.merchant_memory_days]
    pop.favorite_merchant[fade] = NO_MERCHANT
    return PopulationDay(
        arrived=int(arrivals.size),
        returned=int(back.size),
        churned=int(churn.size),
        drifted=int(drift.size),
        room_left=int(dormant.size - arrivals.size),
    )
