"""Consumers: a vectorised population, one NumPy array per attribute, never one object each.

The attributes are declared once in :data:`ATTRIBUTES`; :class:`Population` allocates exactly
those and then refuses any other attribute, so a typo cannot silently create a new array.
Index ``i`` in every array is the same consumer for the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import Scenario
from sim.rng import CONSUMER_BLOCK, Streams

NO_NEED = -1
NO_MERCHANT = -1
DORMANT, ON_PLATFORM, LEFT = 0, 1, 2
"""Consumer statuses: a reserved row not yet arrived, on the platform, left (may return)."""


@dataclass(frozen=True)
class Attribute:
    dtype: type
    per_category: bool = False
    doc: str = ""


ATTRIBUTES: dict[str, Attribute] = {
    "interest": Attribute(np.float32, True, "share of interest per category; rows sum to 1"),
    "affinity": Attribute(
        np.float32, True, "interest ** (1 / recommender temperature): the feed's sampling weight"
    ),
    "log_affinity": Attribute(np.float32, True, "log(K x interest): the purchase logit's term"),
    "active_prob": Attribute(np.float32, doc="chance of opening the app on a day"),
    "attention": Attribute(np.float32, doc="mean content items seen per active day"),
    "budget_yuan": Attribute(np.float32, doc="daily spending limit (yuan/day)"),
    "price_sensitivity": Attribute(np.float32, doc="multiplier of the price term (median 1)"),
    "platform_trust": Attribute(np.float32, doc="trust in the platform, 0-1"),
    "on_platform": Attribute(np.bool_, doc="True while the consumer is on the platform"),
    "status": Attribute(np.int8, doc="DORMANT (a reserved row), ON_PLATFORM or LEFT"),
    "region": Attribute(np.int16, doc="home region"),
    "need_category": Attribute(np.int8, doc="category of the open explicit need, or -1"),
    "need_days_left": Attribute(np.int16, doc="days until the open need lapses"),
    "favorite_merchant": Attribute(np.int32, doc="merchant remembered after a good order, or -1"),
    "disappointing_merchant": Attribute(
        np.int32, doc="merchant of the last disappointing order, whose claims it discounts, or -1"
    ),
}


def consumer_rows(config: Scenario) -> int:
    """Rows of the consumer arrays: the consumers at the start plus the room reserved for
    arrivals (allocated up front, dormant until used)."""
    n = config.population.n_consumers
    return n + int(np.ceil(n * config.population.arrival_room_share))


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

    def rows_with(self, status: int) -> np.ndarray:
        """Indices of the consumers with a status."""
        return np.flatnonzero(self.status == status)

    def set_status(self, rows: np.ndarray, status: int) -> None:
        """Move consumers to a status; ``on_platform`` follows it."""
        self.status[rows] = status
        self.on_platform[rows] = status == ON_PLATFORM

    def mean_trust(self) -> float:
        """Mean platform trust of the consumers on the platform (0.5 if none is): the public
        figure merchants read consumers' belief in claims from."""
        on = self.on_platform
        return float(self.platform_trust[on].mean()) if on.any() else 0.5

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays (an array shared by two attributes counts once)."""
        arrays = {id(a): a for a in (getattr(self, name) for name in ATTRIBUTES)}
        return sum(a.nbytes for a in arrays.values())

    def update_interest(self, rows, interest: np.ndarray, exponent: float) -> None:
        """Set the interest of some consumers (rows: a slice or indices) and the two arrays
        derived from it, affinity = interest ** exponent and log_affinity = log(K x interest).
        Interest never changes in a run; its daily uses are computed here, once."""
        self.interest[rows] = interest
        if self.affinity is not self.interest:
            self.affinity[rows] = interest**exponent
        self.log_affinity[rows] = np.log(self.k * np.asarray(interest, dtype=np.float64))

    def blocks(self) -> range:
        """Indices of the random-number blocks (see :data:`sim.rng.CONSUMER_BLOCK`)."""
        return range((self.n + CONSUMER_BLOCK - 1) // CONSUMER_BLOCK)

    @staticmethod
    def block_slice(block: int, n: int) -> slice:
        start = block * CONSUMER_BLOCK
        return slice(start, min(start + CONSUMER_BLOCK, n))


def build_population(
    config: Scenario,
    n: int,
    streams: Streams,
    interest_exponent: float = 1.0,
    n_present: int | None = None,
) -> Population:
    """Draw the initial consumers, block by block (:data:`sim.rng.CONSUMER_BLOCK`), each
    attribute from its own stream keyed by the block: memory stays bounded at any size, and
    changing how one attribute is drawn leaves every other attribute as it was.

    * interest ~ Dirichlet(concentration * K * w / sum(w)), w = categories' interest weights
    * daily-active chance ~ Beta with the configured mean and concentration
    * attention ~ mean * LogNormal(-sigma^2/2, sigma)  (so the mean is as configured)
    * budget ~ median * LogNormal(0, sigma); price sensitivity ~ LogNormal(0, sigma)
    * platform trust ~ Beta with the configured mean and concentration
    * region ~ uniform over regions

    The first ``n_present`` rows (all by default) are on the platform; the rest are dormant
    rows reserved for consumers who arrive later (:mod:`sim.phases.population`), drawn the
    same way, so a consumer is the same person whenever it arrives.
    """
    cfg = config.consumers
    k = len(config.market.categories)
    pop = Population(n, k)
    alpha = interest_alpha(config)
    sigma = cfg.attention_sigma
    if interest_exponent == 1.0:
        pop.affinity = pop.interest  # the same array: no memory spent on a copy
    for block in pop.blocks():
        sl = pop.block_slice(block, n)
        size = sl.stop - sl.start

        def rng(attribute: str, block=block) -> np.random.Generator:
            return streams.generator(f"population.{attribute}", block)

        interest = rng("interest").dirichlet(alpha, size=size)
        # Small alphas can underflow to exact zeros; a floor keeps log-affinities finite.
        np.maximum(interest, 1e-6, out=interest)
        pop.update_interest(sl, interest / interest.sum(axis=1, keepdims=True), interest_exponent)
        pop.active_prob[sl] = _beta(
            rng("active_prob"),
            cfg.daily_active_prob_mean,
            cfg.daily_active_prob_concentration,
            size,
        )
        pop.attention[sl] = cfg.attention_items_per_day_mean * rng("attention").lognormal(
            -0.5 * sigma**2, sigma, size
        )
        pop.budget_yuan[sl] = cfg.budget_yuan_per_day_median * rng("budget").lognormal(
            0.0, cfg.budget_sigma, size
        )
        pop.price_sensitivity[sl] = rng("price_sensitivity").lognormal(
            0.0, cfg.price_sensitivity_sigma, size
        )
        pop.platform_trust[sl] = _beta(
            rng("platform_trust"), cfg.platform_trust_mean, cfg.platform_trust_concentration, size
        )
        pop.region[sl] = rng("region").integers(0, config.market.regions, size)
    n_present = n if n_present is None else n_present
    pop.set_status(np.arange(n_present), ON_PLATFORM)
    pop.set_status(np.arange(n_present, n), DORMANT)
    pop.need_category[:] = NO_NEED
    pop.favorite_merchant[:] = NO_MERCHANT
    pop.disappointing_merchant[:] = NO_MERCHANT
    return pop


def interest_alpha(config: Scenario) -> np.ndarray:
    """(K,) Dirichlet parameters of interest: concentration x K x w / sum(w), w = the
    categories' interest weights."""
    weights = np.array(
        [c.interest_weight for c in config.market.categories.values()], dtype=np.float64
    )
    return config.consumers.interest_concentration * weights.size * weights / weights.sum()


def _beta(rng: np.random.Generator, mean: float, concentration: float, n: int) -> np.ndarray:
    mean = min(max(mean, 1e-6), 1 - 1e-6)
    return rng.beta(mean * concentration, (1 - mean) * concentration, n)
