"""Delivery and experience: disappointment, outcomes and trust updates."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.kernels.experience import dissatisfaction_probability, draw_outcomes, update_trust

ALPHA = 1e-4
BASE, GAP, LOW = 0.04, 0.9, 0.2


def p_bad(true_q, claimed_q, shock=0.0):
    true_q = np.atleast_1d(np.asarray(true_q, dtype=np.float64))
    claimed_q = np.atleast_1d(np.asarray(claimed_q, dtype=np.float64))
    shock = np.broadcast_to(np.asarray(shock, dtype=np.float64), true_q.shape)
    return dissatisfaction_probability(true_q, claimed_q, shock, BASE, GAP, LOW)


# dissatisfaction_probability ------------------------------------------------------------------


def test_perfect_honest_product_disappoints_at_the_base_rate():
    """True quality 1 as claimed: only the base chance remains."""
    np.testing.assert_allclose(p_bad(1.0, 1.0), [BASE])


def test_disappointment_adds_gap_and_low_quality_terms():
    """Claimed 0.9, true 0.2: base + 0.9 x 0.7 + 0.2 x 0.8."""
    np.testing.assert_allclose(p_bad(0.2, 0.9), [BASE + GAP * 0.7 + LOW * 0.8])


def test_underclaiming_carries_no_gap_penalty():
    """Claiming less than the true quality does not reduce the chance below the no-gap value."""
    np.testing.assert_allclose(p_bad(0.8, 0.3), p_bad(0.8, 0.8))


def test_disappointment_rises_with_the_gap_and_falls_with_quality():
    """Bigger overclaim, more disappointment; better true quality (same claim gap), less."""
    assert np.all(np.diff(p_bad([0.5, 0.5, 0.5], [0.5, 0.7, 0.9])) > 0)
    assert np.all(np.diff(p_bad([0.2, 0.5, 0.8], [0.2, 0.5, 0.8])) < 0)


def test_disappointment_is_clipped_to_a_probability():
    """A shock cannot push the chance above 1, nor a negative base below 0."""
    assert p_bad(0.0, 1.0, shock=0.9)[0] == 1.0
    low = dissatisfaction_probability(np.ones(1), np.ones(1), np.zeros(1), -0.5, GAP, LOW)
    assert low[0] == 0.0


def test_shock_adds_to_the_chance():
    """A logistics shock adds its extra chance to the order's."""
    np.testing.assert_allclose(p_bad(1.0, 1.0, shock=0.1), [BASE + 0.1])


# draw_outcomes --------------------------------------------------------------------------------


def test_certain_outcomes():
    """p = 1 disappoints every order, p = 0 none; return and complaint chances of 1 and 0 hold."""
    out = draw_outcomes(
        np.array([1.0, 1.0, 0.0, 0.0]), 1.0, 0.0, 1.0, 0.0, np.random.default_rng(0)
    )
    assert out.dissatisfied.tolist() == [True, True, False, False]
    assert out.returned.tolist() == [True, True, False, False]
    assert out.complained.tolist() == [True, True, False, False]
    assert not out.reviewed.any()


def test_only_disappointed_buyers_complain():
    """Satisfied buyers never complain, whatever the complaint chance."""
    out = draw_outcomes(np.full(2000, 0.3), 0.5, 0.5, 1.0, 0.5, np.random.default_rng(1))
    assert not np.any(out.complained & ~out.dissatisfied)
    np.testing.assert_array_equal(out.complained, out.dissatisfied)


def test_outcome_rates_match_their_chances():
    """Disappointment, return and review counts lie within binomial bounds of their chances."""
    n = 20_000
    out = draw_outcomes(np.full(n, 0.2), 0.6, 0.05, 0.3, 0.25, np.random.default_rng(2))

    def within(count, trials, p):
        lo, hi = stats.binom.ppf([ALPHA / 2, 1 - ALPHA / 2], trials, p)
        return lo <= count <= hi

    d = out.dissatisfied
    assert within(d.sum(), n, 0.2)
    assert within(out.returned[d].sum(), d.sum(), 0.6)
    assert within(out.returned[~d].sum(), (~d).sum(), 0.05)
    assert within(out.complained.sum(), d.sum(), 0.3)
    assert within(out.reviewed.sum(), n, 0.25)


# update_trust ---------------------------------------------------------------------------------


def test_good_order_closes_part_of_the_gap_to_full_trust():
    """trust 0.5, gain 0.2, one good order: 1 - 0.5 x 0.8 = 0.6."""
    rows, trust = update_trust(
        np.array([0.5], np.float32), np.array([0]), np.array([True]), np.array([0.3]), 0.2
    )
    assert rows.tolist() == [0]
    np.testing.assert_allclose(trust, [0.6], rtol=1e-6)


def test_bad_order_takes_its_share_of_trust():
    """trust 0.5, loss 0.3, one bad order: 0.5 x 0.7 = 0.35."""
    _, trust = update_trust(
        np.array([0.5], np.float32), np.array([0]), np.array([False]), np.array([0.3]), 0.2
    )
    np.testing.assert_allclose(trust, [0.35], rtol=1e-6)


def test_good_orders_apply_before_bad_ones_whatever_their_order():
    """Orders [bad, good] give the good-then-bad result: (1 - 0.5 x 0.8) x 0.5 = 0.3."""
    _, trust = update_trust(
        np.array([0.5], np.float32),
        np.array([0, 0]),
        np.array([False, True]),
        np.array([0.5, 0.5]),
        0.2,
    )
    np.testing.assert_allclose(trust, [0.3], rtol=1e-6)


def test_several_orders_compound():
    """Two good orders shrink the gap by (1 - gain)^2; two bad ones keep (1 - l1)(1 - l2)."""
    trust = np.array([0.5, 0.8], np.float32)
    rows, new = update_trust(
        trust,
        np.array([0, 1, 0, 1]),
        np.array([True, False, True, False]),
        np.array([0.0, 0.5, 0.0, 0.25]),
        0.2,
    )
    assert rows.tolist() == [0, 1]
    np.testing.assert_allclose(new, [1 - 0.5 * 0.8**2, 0.8 * 0.5 * 0.75], rtol=1e-6)


def test_only_consumers_with_orders_are_returned():
    """Rows are the distinct consumers with orders, ascending; others are not touched."""
    trust = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    before = trust.copy()
    rows, new = update_trust(
        trust, np.array([3, 1, 3]), np.array([True, False, True]), np.full(3, 0.1), 0.1
    )
    assert rows.tolist() == [1, 3]
    assert new.dtype == np.float32 and new.size == 2
    np.testing.assert_array_equal(trust, before)


@pytest.mark.parametrize("good", [True, False])
def test_trust_moves_in_the_direction_of_the_experience(good):
    """A good order never lowers trust; a bad one never raises it."""
    trust = np.linspace(0.0, 1.0, 11).astype(np.float32)
    consumer = np.arange(11)
    rows, new = update_trust(trust, consumer, np.full(11, good), np.full(11, 0.3), 0.1)
    if good:
        assert np.all(new >= trust[rows])
    else:
        assert np.all(new <= trust[rows])
