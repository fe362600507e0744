"""Consumers: a vectorised population, one NumPy array per attribute, never one object each.

The attributes are declared once in :data:`ATTRIBUTES`; :class:`Population` allocates exactly
those and then refuses any other attribute, so a typo cannot silently create a new array.
Index ``i`` in every array is the same consumer for the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import Scenario
from sim.rng import CONSUMER_BLOCK

NO_NEED = -1
NO_MERCHANT = -1


@dataclass(frozen=True)
class Attribute:
    dtype: type
    per_category: bool = False
    doc: str = ""


ATTRIBUTES: dict[str, Attribute] = {
    "interest": Attribute(np.float32, True, "share of interest per category; rows sum to 1"),
    "active_prob": Attribute(np.float32, doc="chance of opening the app on a day"),
    "attention": Attribute(np.float32, doc="mean content items seen per active day"),
    "budget_yuan": Attribute(np.float32, doc="daily spending limit (yuan/day)"),
    "price_sensitivity": Attribute(np.float32, doc="multiplier of the price term (median 1)"),
    "platform_trust": Attribute(np.float32, doc="trust in the platform, 0-1"),
    "on_platform": Attribute(np.bool_, doc="False once the consumer has left"),
    "region": Attribute(np.int16, doc="home region"),
    "need_category": Attribute(np.int8, doc="category of the open explicit need, or -1"),
    "need_days_left": Attribute(np.int16, doc="days until the open need lapses"),
    "favorite_merchant": Attribute(np.int32, doc="merchant remembered after a good order, or -1"),
}


class Population:
    """Structure-of-arrays for ``n`` consumers over ``k`` categories."""

    __slots__ = ("_locked", "k", "n", *ATTRIBUTES)

    def __init__(self, n: int, k: int):
        object.__setattr__(self, "_locked", False)
        self.n = n
        self.k = k
        for name, attr in ATTRIBUTES.items():
            shape = (n, k) if attr.per_category else (n,)
            setattr(self, name, np.zeros(shape, dtype=attr.dtype))
        self._locked = True

    def __setattr__(self, name: str, value) -> None:
        if getattr(self, "_locked", False):
            if name not in ATTRIBUTES:
                raise AttributeError(
                    f"Population has no attribute {name!r} (declare it in ATTRIBUTES)"
                )
            current = getattr(self, name)
            if value.shape != current.shape or value.dtype != current.dtype:
                raise ValueError(
                    f"{name}: expected {current.shape} {current.dtype}, got {value.shape} {value.dtype}"
                )
        object.__setattr__(self, name, value)

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in ATTRIBUTES)

    def blocks(self) -> range:
        """Indices of the random-number blocks (see :data:`sim.rng.CONSUMER_BLOCK`)."""
        return range((self.n + CONSUMER_BLOCK - 1) // CONSUMER_BLOCK)

    @staticmethod
    def block_slice(block: int, n: int) -> slice:
        start = block * CONSUMER_BLOCK
        return slice(start, min(start + CONSUMER_BLOCK, n))


def build_population(config: Scenario, n: int, rng: np.random.Generator) -> Population:
    """Draw the initial consumers.

    * interest ~ Dirichlet(concentration * K * w / sum(w)), w = categories' interest weights
    * daily-active chance ~ Beta with the configured mean and concentration
    * attention ~ mean * LogNormal(-sigma^2/2, sigma)  (so the mean is as configured)
    * budget ~ median * LogNormal(0, sigma); price sensitivity ~ LogNormal(0, sigma)
    * platform trust ~ Beta with the configured mean and concentration
    * region ~ uniform over regions
    """
    cfg = config.consumers
    cats = list(config.market.categories.values())
    k = len(cats)
    pop = Population(n, k)
    weights = np.array([c.interest_weight for c in cats], dtype=np.float64)
    alpha = cfg.interest_concentration * k * weights / weights.sum()
    pop.interest = rng.dirichlet(alpha, size=n).astype(np.float32)
    # Dirichlet draws with small alphas can underflow to exact zeros; keep a floor so that
    # log-affinities stay finite.
    np.maximum(pop.interest, 1e-6, out=pop.interest)
    pop.interest /= pop.interest.sum(axis=1, keepdims=True)

    pop.active_prob = _beta(rng, cfg.daily_active_prob_mean, cfg.daily_active_prob_concentration, n)
    sigma = cfg.attention_sigma
    pop.attention = (
        cfg.attention_items_per_day_mean * rng.lognormal(-0.5 * sigma**2, sigma, n)
    ).astype(np.float32)
    pop.budget_yuan = (
        cfg.budget_yuan_per_day_median * rng.lognormal(0.0, cfg.budget_sigma, n)
    ).astype(np.float32)
    pop.price_sensitivity = rng.lognormal(0.0, cfg.price_sensitivity_sigma, n).astype(np.float32)
    pop.platform_trust = _beta(rng, cfg.platform_trust_mean, cfg.platform_trust_concentration, n)
    pop.on_platform = np.ones(n, dtype=np.bool_)
    pop.region = rng.integers(0, config.market.regions, n).astype(np.int16)
    pop.need_category = np.full(n, NO_NEED, dtype=np.int8)
    pop.favorite_merchant = np.full(n, NO_MERCHANT, dtype=np.int32)
    return pop


def _beta(rng: np.random.Generator, mean: float, concentration: float, n: int) -> np.ndarray:
    mean = min(max(mean, 1e-6), 1 - 1e-6)
    return rng.beta(mean * concentration, (1 - mean) * concentration, n).astype(np.float32)
