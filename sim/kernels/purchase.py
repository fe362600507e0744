"""Phase 6, purchase: whether an impression turns into an order, within budget and stock.

The chance of buying after one impression is logistic in the offer's features (so it is always
in [0, 1]):

    logit = base[channel]
          + interest_coef x log(K x interest[category])         interest in the category
          + creator_trust_coef x trust in the creator             only if following
          + live_urgency_logit x [a live room, reached from live or following]
          + platform_trust_coef x (platform trust - 0.5)
          + need_match_logit x [category = open need]
          + quality_belief_coef x (believed quality - 0.5)         see below
          + appeal_coef x (content appeal - 0.5)                  search/mall: appeal = 0.5
          - price_coef x price_sensitivity x log(price / reference price)
          + event logit                                           festivals

This module is the one place the rule is written. Every engine uses it: the NumPy engine
through :func:`purchase_probability` on arrays, the compiled engine
(:mod:`sim.kernels.consumer_day`) by calling the same functions on scalars inside its loop
(numba compiles them where it is installed), and the Mesa reference
(:mod:`sim.reference_mesa`) on Python floats. The logit is a list of terms, one per
coefficient, each ``weight[i] x input[i]``:

* :data:`COEFFICIENT_NAMES` gives the terms' order, the order of the coefficient vector
  (:meth:`PurchaseCoefficients.vector`) and the index constants :data:`INTEREST` ...
  :data:`PRICE`;
* :func:`term_weights` gives each term's weight: its coefficient, and for the price term
  ``-(price_coef x price_sensitivity)`` (the one weight that depends on the consumer);
* :func:`term_inputs` gives each term's input from the offer's features (the ``- 0.5``
  centring of platform trust, believed quality and appeal is done here);
* :func:`purchase_logit` adds ``base``, the terms in that order and the event logit, left to
  right (this order of additions is the engines' and must not change: results are pinned
  bit for bit).

The upper bound (:func:`purchase_logit_bound`), which the compiled engine uses to skip working
out the chance of impressions whose draw is above every chance the consumer could have today,
follows from the same two functions. When each input lies in ``[lo[i], hi[i]]`` (the inputs
of :func:`term_inputs` applied to the features' lowest and highest values: the centring is
increasing, so it maps bounds to bounds), the largest value of term ``i`` is
``max(weight[i] x lo[i], weight[i] x hi[i])``, for a weight of either sign; adding these in the
logit's order gives the bound. It holds in floating point too, not only in exact arithmetic:
rounding is monotone, so each rounded product is at most the larger rounded product at an end
of its interval, and each rounded partial sum at most the bound's partial sum at the same
step. (The compiled engine still adds 1e-6 before taking the logistic of the bound.)

The believed quality (:func:`believed_quality`) is what the consumer expects of the offer:

    believed = (doubting + platform trust x (trusting - doubting)) x (1 - d x [disappointed])
    trusting = a x store score + (1 - a) x claimed quality     a consumer who believes claims
    doubting = a x store score + (1 - a) x quality prior       one who does not

with ``a`` the weight of the store score (0 when scores are not shown, else n / (n + prior)
for n reviews on record) and ``d`` the discount a consumer applies to the merchant that last
disappointed it. The listing's two values come from the platform each day; the consumer's
trust and memory are its own. The belief lies between the smallest of the listings' two
values times ``1 - d`` and the largest of them, which bounds its term.

Every function here is pure: arrays and a Generator in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.arrays import group_rank

try:  # numba is optional: without it these are plain functions for the NumPy engine
    from numba.extending import register_jitable
except ImportError:  # pragma: no cover - exercised only without numba installed

    def register_jitable(fn):
        return fn


def scalar_rule(fn):
    """Mark ``fn`` as part of the rule that compiled kernels call: it stays a plain Python
    function (NumPy callers pass arrays, the Mesa reference floats), and numba compiles and
    inlines it when a jitted function calls it with scalars."""
    return register_jitable(fn)


COEFFICIENT_NAMES = (
    "interest_coef",
    "creator_trust_coef",
    "live_urgency_logit",
    "platform_trust_coef",
    "need_match_logit",
    "quality_belief_coef",
    "appeal_coef",
    "price_coef",
)
"""The logit's terms, in the order they are added; also the order of the coefficient vector."""
(
    INTEREST,
    CREATOR_TRUST,
    LIVE_URGENCY,
    PLATFORM_TRUST,
    NEED_MATCH,
    QUALITY_BELIEF,
    APPEAL,
    PRICE,
) = range(len(COEFFICIENT_NAMES))
N_TERMS = len(COEFFICIENT_NAMES)


@dataclass(frozen=True)
class PurchaseCoefficients:
    """The channels' base log-odds and one coefficient per term of the logit (fields after
    ``base_logit`` in :data:`COEFFICIENT_NAMES` order)."""

    base_logit: np.ndarray  # (5,) float per channel
    interest_coef: float
    creator_trust_coef: float
    live_urgency_logit: float
    platform_trust_coef: float
    need_match_logit: float
    quality_belief_coef: float
    appeal_coef: float
    price_coef: float

    def vector(self) -> np.ndarray:
        """The coefficients as one (N_TERMS,) float64 array in :data:`COEFFICIENT_NAMES` order
        (what :func:`term_weights` reads)."""
        return np.array([getattr(self, name) for name in COEFFICIENT_NAMES], dtype=np.float64)


@scalar_rule
def term_weights(coefs, price_sensitivity):
    """Each term's weight, in :data:`COEFFICIENT_NAMES` order: the coefficient, except the
    price term's, ``-(price_coef x price_sensitivity)``. coefs (N_TERMS,); price_sensitivity
    a float or (m,) array."""
    return (
        coefs[INTEREST],
        coefs[CREATOR_TRUST],
        coefs[LIVE_URGENCY],
        coefs[PLATFORM_TRUST],
        coefs[NEED_MATCH],
        coefs[QUALITY_BELIEF],
        coefs[APPEAL],
        -(coefs[PRICE] * price_sensitivity),
    )


@scalar_rule
def term_inputs(
    log_affinity,
    creator_trust,
    live_room,
    platform_trust,
    need_match,
    believed_quality,
    appeal,
    log_price_ratio,
):
    """Each term's input, in :data:`COEFFICIENT_NAMES` order, from the offer's features
    (floats, or (m,) arrays; ``live_room`` and ``need_match`` 0/1 or bool). Every input is an
    increasing function of its feature."""
    return (
        log_affinity,
        creator_trust,
        live_room,
        platform_trust - 0.5,
        need_match,
        believed_quality - 0.5,
        appeal - 0.5,
        log_price_ratio,
    )


@scalar_rule
def believed_quality(trusting, doubting, platform_trust, disappointed, discount):
    """What a consumer believes of an offer's quality (see the module docstring): floats or
    (m,) arrays; ``disappointed`` 0/1 or bool."""
    return (doubting + platform_trust * (trusting - doubting)) * (1.0 - discount * disappointed)


@scalar_rule
def purchase_logit(base, weights, inputs, event_logit):
    """``base + weights[0] x inputs[0] + ... + event_logit``, added left to right (see the
    module docstring). Floats or (m,) arrays."""
    z = base
    for i in range(N_TERMS):
        z = z + weights[i] * inputs[i]
    return z + event_logit


@scalar_rule
def purchase_logit_bound(base, weights, lo, hi, event_logit):
    """The largest :func:`purchase_logit` ``(base, weights, inputs, event_logit)`` over inputs
    with ``lo[i] <= inputs[i] <= hi[i]`` (each from :func:`term_inputs`), as rounded in
    floating point (see the module docstring). Floats only."""
    z = base
    for i in range(N_TERMS):
        z = z + max(weights[i] * lo[i], weights[i] * hi[i])
    return z + event_logit


def purchase_probability(
    channel: np.ndarray,
    live_room: np.ndarray,
    log_affinity: np.ndarray,
    creator_trust: np.ndarray,
    platform_trust: np.ndarray,
    need_match: np.ndarray,
    believed_quality: np.ndarray,
    appeal: np.ndarray,
    log_price_ratio: np.ndarray,
    price_sensitivity: np.ndarray,
    coef: PurchaseCoefficients,
    event_logit: float = 0.0,
) -> np.ndarray:
    """Chance of buying after each impression. All inputs (m,); returns (m,) float64 in [0, 1]."""
    logit = purchase_logit(
        coef.base_logit[channel],
        term_weights(coef.vector(), price_sensitivity),
        term_inputs(
            log_affinity,
            creator_trust,
            live_room,
            platform_trust,
            need_match,
            believed_quality,
            appeal,
            log_price_ratio,
        ),
        event_logit,
    )
    return logistic(np.asarray(logit, dtype=np.float64))


def logistic(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)) without overflow: e / (1 + e) with e = exp(-|z|) below zero. Only
    ``exp``: NumPy and numba take it from the same library, so both engines agree exactly."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def first_per_pair(consumer: np.ndarray, listing: np.ndarray) -> np.ndarray:
    """Mask keeping the first occurrence of each (consumer, listing) pair; (m,) -> (m,) bool.

    A consumer buys a given listing at most once a day, however often they see it.
    """
    keep = np.zeros(consumer.size, dtype=bool)
    if consumer.size:
        key = consumer.astype(np.int64) * (int(listing.max()) + 1) + listing
        _, first = np.unique(key, return_index=True)
        keep[first] = True
    return keep


def price_fen(price_yuan: np.ndarray) -> np.ndarray:
    """Prices rounded up to whole fen (0.01 yuan), as budgets count them. The 1e-6 keeps prices
    that are whole fen in floating point (30.000000001) from rounding up to the next fen."""
    return np.ceil(np.asarray(price_yuan, dtype=np.float64) * 100 - 1e-6).astype(np.int64)


def budget_fen(budget_yuan: np.ndarray) -> np.ndarray:
    """Budgets rounded down to whole fen."""
    return np.floor(np.asarray(budget_yuan, dtype=np.float64) * 100 + 1e-6).astype(np.int64)


def within_budget(consumer: np.ndarray, price: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Mask of purchases that fit each consumer's daily budget, taken in the given order.

    consumer (m,) int rows into ``budget`` (b,) yuan; price (m,) yuan. A purchase is kept while
    the consumer's running total stays within budget. Sums are taken in whole fen (0.01 yuan)
    as integers, so they are exact whatever else is in the batch; prices are rounded up and
    budgets down to whole fen, so the kept spending never exceeds the budget.
    """
    if consumer.size == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(consumer, kind="stable")
    c = consumer[order]
    fen = price_fen(np.asarray(price)[order])
    running = np.cumsum(fen)
    first = np.r_[True, c[1:] != c[:-1]]
    start_total = np.maximum.accumulate(np.where(first, running - fen, 0))
    spent = running - start_total
    keep = np.empty(consumer.size, dtype=bool)
    keep[order] = spent <= budget_fen(np.asarray(budget)[c])
    return keep


def queue_positions(listing: np.ndarray, stock: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each order's place (0, 1, ...) in the queue of its listing's orders, served in random
    order, for listings asked for more than their ``stock``; -1 for the orders of every other
    listing (stock serves them all, in any order).

    listing (m,) int into ``stock`` (L,) units. Returns (m,) int64.
    """
    position = np.full(listing.size, -1, dtype=np.int64)
    if listing.size == 0:
        return position
    priority = rng.random(listing.size)
    # Only the orders of listings asked for more than their stock need an order of service;
    # sorting just those (a few stock-outs a day) instead of every order saves a sort of the
    # whole day's orders.
    asked = np.bincount(listing, minlength=stock.size)
    rows = np.flatnonzero((asked > stock)[listing])
    if rows.size:
        short = listing[rows]
        order = np.lexsort((priority[rows], short))
        position[rows[order]] = group_rank(short[order])
    return position


def ration(listing: np.ndarray, stock: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mask of orders filled when demand meets stock: each listing's orders are served in random
    order (:func:`queue_positions`) until its stock runs out.

    listing (m,) int into ``stock`` (L,) units. Returns (m,) bool.
    """
    return queue_positions(listing, stock, rng) < stock[listing]
