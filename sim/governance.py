"""Governance (治理): the rules strictness sets, and the five actions of the articles
(:data:`sim.vocabulary.GOVERNANCE_ACTIONS`).

1. intercept a violating listing before it goes live (拦截违规商品发布)
2. ban a product proven to violate (封禁违规商品)
3. delist a risky product (下架风险商品)
4. penalize a merchant (处罚违规商家): a fine and a strike
5. remove a merchant (清退严重违规商家) once its strikes reach the limit

:func:`enforce` decides a day's actions after trading as a pure function of arrays; the
governance phase (:mod:`sim.phases.governance`) applies them.

Detection is imperfect both ways: violators slip through, honest merchants are sometimes hit
(false positives are counted). Screening and investigations cost the platform money.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.vocabulary import GOVERNANCE_ACTIONS

if TYPE_CHECKING:
    from sim.config import GovernanceConfig

ACTIONS = GOVERNANCE_ACTIONS


@dataclass(frozen=True)
class GovernanceRules:
    """Concrete rules: the scenario's values, or the strictness formulas where left null."""

    screening_detection_prob: float
    screening_false_alarm_prob: float
    investigation_base_prob_per_day: float
    investigation_prob_per_complaint: float
    conviction_prob: float
    false_conviction_prob: float
    delist_quality_threshold: float
    removal_strikes: int
    fine_yuan: float
    screening_cost_yuan: float
    investigation_cost_yuan: float

    @classmethod
    def from_config(cls, cfg: GovernanceConfig) -> GovernanceRules:
        s = cfg.strictness

        def pick(value, formula):
            return formula if value is None else value

        return cls(
            screening_detection_prob=pick(cfg.screening_detection_prob, 0.1 + 0.85 * s),
            screening_false_alarm_prob=pick(cfg.screening_false_alarm_prob, 0.002 + 0.02 * s),
            investigation_base_prob_per_day=pick(
                cfg.investigation_base_prob_per_day, 0.002 + 0.02 * s
            ),
            investigation_prob_per_complaint=pick(
                cfg.investigation_prob_per_complaint, 0.02 + 0.2 * s
            ),
            conviction_prob=pick(cfg.conviction_prob, 0.5 + 0.45 * s),
            false_conviction_prob=pick(cfg.false_conviction_prob, 0.01 + 0.05 * s),
            delist_quality_threshold=pick(cfg.delist_quality_threshold, 0.15 + 0.3 * s),
            removal_strikes=pick(cfg.removal_strikes, 3 - round(2 * s)),
            fine_yuan=pick(cfg.fine_yuan, 1000.0 * (1 + 4 * s)),
            screening_cost_yuan=cfg.screening_cost_yuan * (0.2 + 0.8 * s),
            investigation_cost_yuan=cfg.investigation_cost_yuan,
        )


@dataclass
class GovernanceCounts:
    """The day's governance actions; false positives are actions that hit honest merchants."""

    intercepted: int = 0
    banned: int = 0
    delisted: int = 0
    penalized: int = 0
    removed: int = 0
    false_positives: int = 0
    investigations: int = 0
    screened: int = 0
    cost_yuan: float = 0.0


def screening_intercepts(violator: bool, rules: GovernanceRules, u: float) -> bool:
    """Whether screening stops a new listing, given a uniform draw ``u``."""
    chance = rules.screening_detection_prob if violator else rules.screening_false_alarm_prob
    return u < chance


def investigation_chance(complaints_recent: np.ndarray, rules: GovernanceRules) -> np.ndarray:
    """Chance per merchant of an investigation today. (m,) float -> (m,) float in [0, 1].

    Independent triggers: a base rate, and each recent complaint.
    """
    quiet = (1 - rules.investigation_base_prob_per_day) * (
        1 - rules.investigation_prob_per_complaint
    ) ** np.maximum(complaints_recent, 0.0)
    return 1.0 - quiet


def conviction_chance(violator: np.ndarray, rules: GovernanceRules) -> np.ndarray:
    """Chance an investigation convicts. (m,) bool -> (m,) float."""
    return np.where(violator, rules.conviction_prob, rules.false_conviction_prob)


@dataclass(frozen=True)
class Enforcement:
    """A day's enforcement decisions, as rows into the arrays given to :func:`enforce`."""

    delist: np.ndarray
    """(d,) rows of live listings delisted as risky."""
    investigated: int
    """Merchants investigated."""
    convict: np.ndarray
    """(c,) rows of merchants convicted, in row order."""
    remove: np.ndarray
    """(c,) bool, for each convicted merchant: its strikes reach the removal limit."""


def enforce(
    live: np.ndarray,
    est_quality: np.ndarray,
    evidence: np.ndarray,
    complaints_recent: np.ndarray,
    violator: np.ndarray,
    strikes: np.ndarray,
    rules: GovernanceRules,
    min_evidence: float,
    rng: np.random.Generator,
) -> Enforcement:
    """The day's enforcement over the merchants with a product on the market, after trading.

    All inputs (m,): whether the product is live (else delisted), the platform's quality
    estimate, the evidence behind it (reviews beyond the prior), recent complaints, whether
    the merchant violates (what an investigation can find out), strikes so far.

    1. delist live products whose estimate is below the threshold on at least
       ``min_evidence`` of evidence;
    2. investigate each merchant with :func:`investigation_chance` (one uniform each);
    3. convict an investigated merchant with :func:`conviction_chance` (one more uniform
       each); a conviction bans the product, fines and strikes, and removes the merchant
       once its strikes reach ``removal_strikes``.
    """
    risky = (est_quality < rules.delist_quality_threshold) & (evidence >= min_evidence)
    delist = np.flatnonzero(risky & live)
    investigated = rng.random(live.size) < investigation_chance(complaints_recent, rules)
    convicted = investigated & (rng.random(live.size) < conviction_chance(violator, rules))
    convict = np.flatnonzero(convicted)
    return Enforcement(
        delist=delist,
        investigated=int(investigated.sum()),
        convict=convict,
        remove=strikes[convict] + 1 >= rules.removal_strikes,
    )
