"""Governance rules from strictness, screening, investigations and convictions."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny_config

from sim.governance import (
    GovernanceRules,
    conviction_chance,
    excess_rate_se,
    investigation_chance,
    screening_intercepts,
    sentence,
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
    assert lax.investigation_base_prob_per_day == pytest.approx(0.0005)
    assert lax.investigation_prob_per_excess_se == pytest.approx(0.01)
    assert lax.excess_threshold_se == pytest.approx(3.0)
    assert lax.conviction_prob == pytest.approx(0.5)
    assert lax.false_conviction_prob == pytest.approx(0.01)
    assert lax.delist_quality_threshold == pytest.approx(0.1)
    assert (lax.fine_strikes, lax.suspension_strikes, lax.removal_strikes) == (2, 3, 6)
    assert lax.fine_min_yuan == pytest.approx(500.0)
    assert lax.fine_share_of_sales == pytest.approx(0.1)


def test_strict_rules_follow_the_documented_formulas(strict):
    """Strictness 1 with every rule left null gives intercept + slope of each formula."""
    assert strict.screening_detection_prob == pytest.approx(0.95)
    assert strict.screening_false_alarm_prob == pytest.approx(0.022)
    assert strict.investigation_base_prob_per_day == pytest.approx(0.0025)
    assert strict.investigation_prob_per_excess_se == pytest.approx(0.06)
    assert strict.excess_threshold_se == pytest.approx(1.5)
    assert strict.conviction_prob == pytest.approx(0.95)
    assert strict.false_conviction_prob == pytest.approx(0.06)
    assert strict.delist_quality_threshold == pytest.approx(0.45)
    assert (strict.fine_strikes, strict.suspension_strikes, strict.removal_strikes) == (1, 2, 4)
    assert strict.fine_min_yuan == pytest.approx(2500.0)
    assert strict.fine_share_of_sales == pytest.approx(0.5)


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
        "investigation_prob_per_excess_se",
        "conviction_prob",
        "delist_quality_threshold",
        "fine_min_yuan",
        "fine_share_of_sales",
    ):
        assert getattr(strict, name) > getattr(lax, name), name
    assert strict.excess_threshold_se < lax.excess_threshold_se
    for rung in ("fine_strikes", "suspension_strikes", "removal_strikes"):
        assert getattr(strict, rung) < getattr(lax, rung), rung


def test_explicit_rules_override_strictness():
    """A rule set in the scenario is used as given, whatever the strictness."""
    rules = rules_at(
        1,
        "platform.governance.fine_min_yuan=123",
        "platform.governance.removal_strikes=7",
        "platform.governance.conviction_prob=0.3",
    )
    assert rules.fine_min_yuan == 123
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


def test_investigation_without_excess_is_the_spot_check_rate(strict):
    """Rates at or below the category's, or within the threshold, give the base rate."""
    p = investigation_chance(np.array([-5.0, 0.0, strict.excess_threshold_se]), strict)
    np.testing.assert_allclose(p, [strict.investigation_base_prob_per_day] * 3)


def test_investigation_chance_rises_with_the_excess_rate_and_is_capped(lax):
    p = investigation_chance(np.array([0.0, 4.0, 10.0, 50.0, 1e9]), lax)
    assert np.all(np.diff(p) >= 0)
    assert p[2] > p[1] > p[0]
    assert p[-1] == 1.0


def test_a_large_merchant_with_the_category_rate_is_not_flagged_for_its_size():
    """Complaints in proportion to sales: the same excess (none) at 10 or 10,000 deliveries;
    a small excess rate is flagged more surely the more deliveries back it."""
    norm = np.full(2, 0.05)
    n = np.array([10.0, 10_000.0])
    np.testing.assert_allclose(excess_rate_se(0.05 * n, n, norm), [0.0, 0.0], atol=1e-9)
    excess = excess_rate_se(0.08 * n, n, norm)
    assert excess[1] > 10 * excess[0] > 0


def test_no_deliveries_means_no_excess():
    assert excess_rate_se(np.zeros(1), np.zeros(1), np.full(1, 0.05))[0] == 0.0


def test_the_ladder_warns_then_fines_then_suspends_then_removes(lax):
    """Rungs by active strikes: a warning below the fine rung; a fine scaled to sales and
    severity (at least the minimum); a suspension; a removal."""
    first = sentence(1, 0.7, 100_000.0, lax)
    assert first.warning and first.fine_yuan == 0 and not first.suspend and not first.remove
    second = sentence(lax.fine_strikes, 0.7, 100_000.0, lax)
    assert not second.warning
    assert second.fine_yuan == pytest.approx(lax.fine_share_of_sales * 100_000.0 * 0.7)
    small = sentence(lax.fine_strikes, 0.7, 10.0, lax)
    assert small.fine_yuan == pytest.approx(lax.fine_min_yuan)
    assert sentence(lax.suspension_strikes, 0.7, 1.0, lax).suspend
    last = sentence(lax.removal_strikes, 0.7, 1.0, lax)
    assert last.remove and last.suspend and last.fine_yuan > 0


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
        "merchants.honesty.forced_cheat_share=0.5",
    )
    violators = [m for m in model.merchants if m.violator]
    honest = [m for m in model.merchants if not m.violator]
    assert violators and honest
    assert all(m.listing.state == LISTING_PREPARING for m in violators)
    assert all(m.listing.live for m in honest)
    skus = model.config.merchants.honesty.skus_per_product
    assert model.last_day.governance.intercepted == skus * len(violators)
    assert model.last_day.governance.false_positives == 0


def test_certain_conviction_removes_every_violator_and_fines_it():
    """Investigated daily, always convicted, never overturned, one strike: each cheating
    merchant is fined and removed, and no honest one is touched."""
    fine = 777.0
    model = step_once(
        f"{GOV}screening_detection_prob=0",
        f"{GOV}screening_false_alarm_prob=0",
        f"{GOV}investigation_base_prob_per_day=1",
        f"{GOV}conviction_prob=1",
        f"{GOV}false_conviction_prob=0",
        f"{GOV}appeal_success_if_guilty=0",
        f"{GOV}fine_strikes=1",
        f"{GOV}removal_strikes=1",
        f"{GOV}fine_min_yuan={fine}",
        f"{GOV}fine_share_of_sales=0",
        "merchants.honesty.forced_cheat_share=0.5",
    )
    violators = [m for m in model.merchants if m.violator]
    assert violators
    assert all(m.status == "removed" for m in violators)
    assert all(m.status == "active" for m in model.merchants if not m.violator)
    assert model.ledger.flow("fine") == pytest.approx(fine * len(violators))
    assert model.last_day.governance.removed == len(violators)
