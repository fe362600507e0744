"""Governance rules from strictness, screening, investigations and convictions."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import tiny_config

from sim.governance import (
    GovernanceRules,
    conviction_chance,
    investigation_chance,
    screening_intercepts,
)
from sim.model import MarketModel
from sim.vocabulary import LISTING_PREPARING


def rules_at(strictness: float, *overrides: str) -> GovernanceRules:
    cfg = tiny_config(f"platform.governance.strictness={strictness}", *overrides)
    return GovernanceRules.from_config(cfg.platform.governance)


@pytest.fixture(scope="module")
def lax() -> GovernanceRules:
    return rules_at(0)


@pytest.fixture(scope="module")
def strict() -> GovernanceRules:
    return rules_at(1)


def test_lax_rules_follow_the_documented_formulas(lax):
    """Strictness 0 with every rule left null gives each formula's intercept."""
    assert lax.screening_detection_prob == pytest.approx(0.1)
    assert lax.screening_false_alarm_prob == pytest.approx(0.002)
    assert lax.investigation_base_prob_per_day == pytest.approx(0.002)
    assert lax.investigation_prob_per_complaint == pytest.approx(0.02)
    assert lax.conviction_prob == pytest.approx(0.5)
    assert lax.false_conviction_prob == pytest.approx(0.01)
    assert lax.delist_quality_threshold == pytest.approx(0.15)
    assert lax.removal_strikes == 3
    assert lax.fine_yuan == pytest.approx(1000.0)


def test_strict_rules_follow_the_documented_formulas(strict):
    """Strictness 1 with every rule left null gives intercept + slope of each formula."""
    assert strict.screening_detection_prob == pytest.approx(0.95)
    assert strict.screening_false_alarm_prob == pytest.approx(0.022)
    assert strict.investigation_base_prob_per_day == pytest.approx(0.022)
    assert strict.investigation_prob_per_complaint == pytest.approx(0.22)
    assert strict.conviction_prob == pytest.approx(0.95)
    assert strict.false_conviction_prob == pytest.approx(0.06)
    assert strict.delist_quality_threshold == pytest.approx(0.45)
    assert strict.removal_strikes == 1
    assert strict.fine_yuan == pytest.approx(5000.0)


def test_screening_cost_scales_with_strictness(lax, strict):
    """Screening one listing costs (0.2 + 0.8 s) x the configured cost."""
    base = tiny_config().platform.governance.screening_cost_yuan
    assert lax.screening_cost_yuan == pytest.approx(0.2 * base)
    assert strict.screening_cost_yuan == pytest.approx(base)


def test_stricter_platform_is_stricter_on_every_rule(lax, strict):
    """Every detection, fine and threshold grows with strictness; fewer strikes are needed."""
    for name in (
        "screening_detection_prob",
        "investigation_base_prob_per_day",
        "investigation_prob_per_complaint",
        "conviction_prob",
        "delist_quality_threshold",
        "fine_yuan",
    ):
        assert getattr(strict, name) > getattr(lax, name), name
    assert strict.removal_strikes < lax.removal_strikes


def test_explicit_rules_override_strictness():
    """A rule set in the scenario is used as given, whatever the strictness."""
    rules = rules_at(
        1,
        "platform.governance.fine_yuan=123",
        "platform.governance.removal_strikes=7",
        "platform.governance.conviction_prob=0.3",
    )
    assert rules.fine_yuan == 123
    assert rules.removal_strikes == 7
    assert rules.conviction_prob == pytest.approx(0.3)
    assert rules.screening_detection_prob == pytest.approx(0.95)


def test_screening_intercepts_below_the_chance(lax):
    """A violator is stopped when u is below the detection chance; an honest listing only
    below the false-alarm chance."""
    d = lax.screening_detection_prob
    f = lax.screening_false_alarm_prob
    assert screening_intercepts(True, lax, d - 1e-9)
    assert not screening_intercepts(True, lax, d)
    assert screening_intercepts(False, lax, f / 2)
    assert not screening_intercepts(False, lax, (f + d) / 2)


def test_investigation_without_complaints_is_the_base_rate(strict):
    """With no complaints the chance is the base rate; negative counts count as none."""
    p = investigation_chance(np.array([0.0, -3.0]), strict)
    np.testing.assert_allclose(p, [strict.investigation_base_prob_per_day] * 2)


def test_investigation_triggers_combine_independently():
    """One complaint: 1 - (1 - base)(1 - per complaint); two: with the square."""
    rules = replace(
        rules_at(0.5), investigation_base_prob_per_day=0.1, investigation_prob_per_complaint=0.5
    )
    p = investigation_chance(np.array([1.0, 2.0]), rules)
    np.testing.assert_allclose(p, [1 - 0.9 * 0.5, 1 - 0.9 * 0.25])


def test_investigation_chance_rises_with_complaints(lax):
    """More recent complaints, higher chance of investigation; never above 1."""
    p = investigation_chance(np.array([0.0, 0.5, 1.0, 5.0, 50.0, 1e6]), lax)
    assert np.all(np.diff(p) >= 0)
    assert p[3] > p[0]
    assert p[-1] <= 1.0


def test_conviction_depends_on_guilt(strict):
    """Violators are convicted at conviction_prob, honest merchants at false_conviction_prob."""
    p = conviction_chance(np.array([True, False]), strict)
    np.testing.assert_allclose(p, [strict.conviction_prob, strict.false_conviction_prob])


# the platform applying the rules in the model ---------------------------------------------------

GOV = "platform.governance."


def step_once(*overrides: str) -> MarketModel:
    model = MarketModel(
        tiny_config("population.consumers=300", "population.merchants=30", *overrides), seed=5
    )
    model.step()
    return model


def test_perfect_screening_keeps_every_violator_off_the_market():
    """Detection 1 and no false alarms: after day 0 only honest merchants have a live listing."""
    model = step_once(
        f"{GOV}screening_detection_prob=1",
        f"{GOV}screening_false_alarm_prob=0",
        f"{GOV}false_conviction_prob=0",
        "merchants.violator_share=0.5",
    )
    violators = [m for m in model.merchants if m.violator]
    honest = [m for m in model.merchants if not m.violator]
    assert violators and honest
    assert all(m.listing.state == LISTING_PREPARING for m in violators)
    assert all(m.listing.live for m in honest)
    assert model.last_day.governance.intercepted == len(violators)
    assert model.last_day.governance.false_positives == 0


def test_certain_conviction_removes_every_violator_and_fines_it():
    """Investigated daily, always convicted, one strike: each violator is fined and removed."""
    fine = 777.0
    model = step_once(
        f"{GOV}screening_detection_prob=0",
        f"{GOV}screening_false_alarm_prob=0",
        f"{GOV}investigation_base_prob_per_day=1",
        f"{GOV}conviction_prob=1",
        f"{GOV}false_conviction_prob=0",
        f"{GOV}removal_strikes=1",
        f"{GOV}fine_yuan={fine}",
        "merchants.violator_share=0.5",
    )
    violators = [m for m in model.merchants if m.violator]
    assert violators
    assert all(m.status == "removed" for m in violators)
    assert all(m.status == "active" for m in model.merchants if not m.violator)
    assert model.ledger.flow("fine") == pytest.approx(fine * len(violators))
    assert model.last_day.governance.removed == len(violators)
