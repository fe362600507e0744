"""Phase 8, delivery and experience: the true quality is revealed and buyers react.

For each delivered order:

    P(disappointed) = clip(base + gap_coef x max(0, claimed - true)
                           + low_quality_coef x (1 - true) + shock, 0, 1)

A disappointed buyer returns the item with ``return_prob_if_dissatisfied`` and complains with
``complaint_prob_if_dissatisfied``; a satisfied one still returns with
``return_prob_if_satisfied`` when the order met a need of theirs, ``return_prob_if_impulse``
when it did not (bought on impulse and regretted; the caller gives the chance per order).
Either reviews with ``review_prob`` (good if satisfied).

Trust moves multiplicatively: after a good order ``trust += gain x (1 - trust)``; after a bad
one ``trust -= loss x trust``. :func:`update_trust` applies several orders of one consumer in
one go.

Every function here is pure: arrays and a Generator in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Outcomes:
    """Per delivered order, (m,) bool each."""

    dissatisfied: np.ndarray
    returned: np.ndarray
    complained: np.ndarray
    reviewed: np.ndarray


def dissatisfaction_probability(
    true_quality: np.ndarray,
    claimed_quality: np.ndarray,
    shock_extra: np.ndarray,
    base: float,
    gap_coef: float,
    low_quality_coef: float,
) -> np.ndarray:
    """Chance each order disappoints; (m,) arrays -> (m,) float64 in [0, 1]."""
    gap = np.maximum(0.0, claimed_quality.astype(np.float64) - true_quality)
    p = base + gap_coef * gap + low_quality_coef * (1.0 - true_quality) + shock_extra
    return np.clip(p, 0.0, 1.0)


@dataclass(frozen=True)
class ExpectedOutcomes:
    """Expected shares of delivered orders (what :func:`draw_outcomes` draws, on average)."""

    dissatisfied: np.ndarray
    returned: np.ndarray
    complained: np.ndarray
    complained_and_kept: np.ndarray
    good_reviews: np.ndarray
    bad_reviews: np.ndarray


def expected_outcomes(
    p_dissatisfied: np.ndarray,
    return_if_dissatisfied: float,
    return_if_satisfied: float,
    complain_if_dissatisfied: float,
    review: float,
) -> ExpectedOutcomes:
    """The shares :func:`draw_outcomes` draws in expectation; (m,) -> (m,) each. (Returning
    and complaining are independent given disappointment.)"""
    p = np.asarray(p_dissatisfied, dtype=np.float64)
    complained = p * complain_if_dissatisfied
    return ExpectedOutcomes(
        dissatisfied=p,
        returned=p * return_if_dissatisfied + (1 - p) * return_if_satisfied,
        complained=complained,
        complained_and_kept=complained * (1 - return_if_dissatisfied),
        good_reviews=(1 - p) * review,
        bad_reviews=p * review,
    )


def draw_outcomes(
    p_dissatisfied: np.ndarray,
    return_if_dissatisfied: float,
    return_if_satisfied: float | np.ndarray,
    complain_if_dissatisfied: float,
    review: float,
    rng: np.random.Generator,
) -> Outcomes:
    m = p_dissatisfied.size
    dissatisfied = rng.random(m) < p_dissatisfied
    u_return = rng.random(m)
    returned = np.where(
        dissatisfied, u_return < return_if_dissatisfied, u_return < return_if_satisfied
    )
    complained = dissatisfied & (rng.random(m) < complain_if_dissatisfied)
    reviewed = rng.random(m) < review
    return Outcomes(dissatisfied, returned, complained, reviewed)


def update_trust(
    trust: np.ndarray, consumer: np.ndarray, good: np.ndarray, loss: np.ndarray, gain: float
) -> tuple[np.ndarray, np.ndarray]:
    """Trust after the day's orders, for the consumers who had any.

    trust (n,) in [0, 1]; consumer (m,) rows into it; good (m,) bool; loss (m,) the trust share
    each bad order takes (ignored where good). Good orders apply first, then bad ones, each as
    a factor: ``1 - trust`` shrinks by ``(1 - gain)`` per good order, ``trust`` by
    ``(1 - loss)`` per bad one. Returns (rows (u,) int64, new trust (u,) float32).
    """
    rows, inverse = np.unique(consumer, return_inverse=True)
    n_good = np.bincount(inverse[good], minlength=rows.size)
    keep = np.ones(rows.size, dtype=np.float64)
    np.multiply.at(keep, inverse[~good], 1.0 - loss[~good])
    t = 1.0 - (1.0 - trust[rows].astype(np.float64)) * (1.0 - gain) ** n_good
    return rows, np.clip(t * keep, 0.0, 1.0).astype(np.float32)
