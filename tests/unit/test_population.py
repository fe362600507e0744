"""The vectorised consumer population."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny_config

from sim.population import ATTRIBUTES, NO_NEED, Population, build_population
from sim.rng import CONSUMER_BLOCK, Streams

SEED = 20220608


@pytest.fixture(scope="module")
def population() -> Population:
    config = tiny_config("population.consumers=2000")
    return build_population(config, 2000, Streams(SEED))


def test_every_declared_attribute_has_its_shape_and_dtype(population):
    """Each attribute is one array of n (or n x K) entries of the declared dtype."""
    for name, attr in ATTRIBUTES.items():
        value = getattr(population, name)
        shape = (population.n, population.k) if attr.per_category else (population.n,)
        assert value.shape == shape, name
        assert value.dtype == np.dtype(attr.dtype), name


def test_interest_rows_are_positive_shares(population):
    """Interest rows sum to 1 and have no exact zero (log-affinities stay finite)."""
    np.testing.assert_allclose(population.interest.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(population.interest > 0)


def test_drawn_attributes_are_in_their_ranges(population):
    """Probabilities in [0, 1], budgets and attention positive, regions valid, no needs yet."""
    for name in ("active_prob", "platform_trust"):
        values = getattr(population, name)
        assert np.all((values >= 0) & (values <= 1)), name
    assert np.all(population.budget_yuan > 0)
    assert np.all(population.attention > 0)
    assert np.all(population.price_sensitivity > 0)
    regions = tiny_config().market.regions
    assert np.all((population.region >= 0) & (population.region < regions))
    assert population.on_platform.all()
    assert np.all(population.need_category == NO_NEED)
    assert np.all(population.favorite_merchant == -1)


def test_median_budget_is_the_configured_median(population):
    """Budget ~ median x LogNormal(0, sigma): half the consumers lie below the median."""
    median = tiny_config().consumers.budget_yuan_per_day_median
    below = (population.budget_yuan < median).sum()
    n = population.n
    assert abs(below - n / 2) < 4 * np.sqrt(n / 4)


def test_population_refuses_undeclared_attributes(population):
    """A typo cannot create a new array."""
    with pytest.raises(AttributeError):
        population.budget = np.zeros(population.n)


def test_population_refuses_arrays_of_the_wrong_shape_or_dtype(population):
    """Replacing an attribute needs the same shape and dtype."""
    with pytest.raises(ValueError):
        population.budget_yuan = np.zeros(population.n + 1, dtype=np.float32)
    with pytest.raises(ValueError):
        population.budget_yuan = np.zeros(population.n, dtype=np.float64)


def test_blocks_cover_every_consumer_once():
    """The random-number blocks tile [0, n) without gaps or overlaps."""
    n = 2 * CONSUMER_BLOCK + 5
    population = Population(n, 1)
    covered = np.zeros(n, dtype=int)
    for block in population.blocks():
        covered[population.block_slice(block, n)] += 1
    assert np.all(covered == 1)
    assert len(population.blocks()) == 3


def _attributes(population: Population) -> dict[str, np.ndarray]:
    return {name: getattr(population, name) for name in ATTRIBUTES}


def test_same_seed_builds_the_same_population():
    """Building twice from streams with the same root seed gives identical consumers."""
    config = tiny_config()
    a = _attributes(build_population(config, 1500, Streams(SEED)))
    b = _attributes(build_population(config, 1500, Streams(SEED)))
    for name in ATTRIBUTES:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


INTEREST = ("interest", "affinity", "log_affinity")
"""Interest and the attributes computed from it."""


@pytest.mark.parametrize(
    ("override", "changed"),
    [
        ("consumers.platform_trust_mean=0.9", ("platform_trust",)),
        ("consumers.budget_yuan_per_day_median=15", ("budget_yuan",)),
        ("consumers.interest_concentration=5", INTEREST),
    ],
)
def test_one_consumer_parameter_changes_only_its_own_attribute(override, changed):
    """Each attribute is drawn from its own stream: changing one consumer parameter changes
    that attribute (and what is computed from it) and leaves every other attribute identical,
    across several blocks."""
    n = CONSUMER_BLOCK + 500
    base = _attributes(build_population(tiny_config(), n, Streams(SEED)))
    other = _attributes(build_population(tiny_config(override), n, Streams(SEED)))
    assert not np.array_equal(base[changed[0]], other[changed[0]])
    for name in ATTRIBUTES:
        if name not in changed:
            np.testing.assert_array_equal(base[name], other[name], err_msg=name)
