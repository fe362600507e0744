"""After phase 6: programs can create demand, not only divert it. An impression a program
added (the boosted share of an impression, :class:`sim.phases.matching.Matching`) reaches
beyond the audience that already wants the category; with chance
``interest_wake_prob_per_program_impression`` it wakes its viewer's latent interest in the
category, which rises by ``interest_gain_after_wake`` of its gap to 1
(:func:`sim.phases.delivery.wake_interest`, the rule a satisfied order follows too).

The viewers woken in category k are ``Binomial(round(A_k), p)`` of today's active consumers,
drawn without replacement with chance proportional to their feed weight for k (``affinity``,
as the feed draws its viewers), where A_k is the sum over k's listings and items of the
impressions programs added today."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.phases.delivery import wake_interest
from sim.recommenders import interest_exponent

if TYPE_CHECKING:
    from sim.catalog import Content, Listings
    from sim.config import Scenario
    from sim.phases.matching import Matching
    from sim.population import Population


@dataclass(frozen=True)
class Woken:
    """Today's wakings: consumer row and category, (w,) int each (a consumer appears once
    per category it was woken in)."""

    consumers: np.ndarray
    categories: np.ndarray

    @property
    def count(self) -> int:
        return int(self.consumers.size)


NONE_WOKEN = Woken(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))


def wake_by_programs(
    config: Scenario,
    population: Population,
    listings: Listings,
    content: Content,
    matching: Matching,
    rng: np.random.Generator,
) -> Woken:
    """Wake latent interest by today's program impressions; returns who was woken in what."""
    c = config.consumers
    p, gain = c.interest_wake_prob_per_program_impression, c.interest_gain_after_wake
    k = population.k
    if p <= 0 or gain <= 0 or listings.n == 0:
        return NONE_WOKEN
    added = np.bincount(listings.category, matching.bought_listing_program, minlength=k)
    if content.n:
        added += np.bincount(
            listings.category[content.listing], matching.bought_item_program, minlength=k
        )
    viewers = np.flatnonzero(matching.active)
    consumers, categories = [], []
    for category in np.flatnonzero(added >= 0.5):
        n = int(rng.binomial(int(np.rint(added[category])), p))
        weight = population.affinity[viewers, category].astype(np.float64)
        n = min(n, int(np.count_nonzero(weight)))
        if n == 0:
            continue
        chosen = rng.choice(viewers, size=n, replace=False, p=weight / weight.sum())
        wake_interest(population, chosen, np.full(n, category), gain, interest_exponent(config))
        consumers.append(chosen)
        categories.append(np.full(n, category, dtype=np.int64))
    if not consumers:
        return NONE_WOKEN
    return Woken(np.concatenate(consumers), np.concatenate(categories))
