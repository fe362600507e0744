"""Governance (治理): the rules strictness sets, and the platform's graduated enforcement.

The actions, in the order of the article's funnel (:data:`sim.vocabulary.GOVERNANCE_ACTIONS`):

1. intercept a cheating product launch before it goes live (拦截违规商品发布), each of its SKUs
   counted;
2. ban a product proven to cheat (封禁违规商品): every conviction bans the product;
3. delist a risky product (下架风险商品) whose estimated quality is low on enough evidence;
4. penalize a merchant (处罚违规商家): a fine scaled to the severity and the merchant's
   sales, once its active strikes reach ``fine_strikes``;
5. remove a merchant (清退严重违规商家) once its active strikes reach ``removal_strikes``.

Between them: a first conviction *warns* (and bans the product: rectification); from
``suspension_strikes`` a conviction also *suspends* the merchant for ``suspension_days``.
Strikes expire after ``strike_expiry_days``. A convicted merchant may *appeal*; an appeal
that wins overturns the conviction whole (no strike, ban or fine) and wins far more often
for a wrong conviction than for a right one.

Investigations are triggered by *rates*, not counts: a merchant whose recent complaint or
return rate exceeds its category's by more than ``excess_threshold_se`` standard errors of
that rate (the binomial standard error at the category's rate and the merchant's own number
of recent deliveries) is investigated with a chance that grows with the excess; every
merchant also faces a small chance of a spot check. So a large honest merchant is not
investigated more for being large.

:func:`enforce` decides a day's investigations and convictions as a pure function of arrays;
:func:`sentence` places a conviction on the ladder; the governance phase
(:mod:`sim.phases.governance`) applies both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.config import GovernanceConfig

MIN_SEVERITY = 0.1
"""Severity of a conviction whose product is not worse than claimed (a wrong conviction)."""
SALES_WINDOW_DAYS = 30
"""A fine is a share of the merchant's sales value over this many recent days."""


@dataclass(frozen=True)
class GovernanceRules:
    """Concrete rules: the scenario's values, or the strictness formulas where left null."""

    enabled: bool
    screening_detection_prob: float
    screening_false_alarm_prob: float
    investigation_base_prob_per_day: float
    investigation_prob_per_excess_se: float
    excess_threshold_se: float
    conviction_prob: float
    false_conviction_prob: float
    delist_quality_threshold: float
    fine_strikes: int
    suspension_strikes: int
    removal_strikes: int
    strike_expiry_days: int
    suspension_days: int
    fine_min_yuan: float
    fine_share_of_sales: float
    appeal_prob_if_innocent: float
    appeal_prob_if_guilty: float
    appeal_success_if_innocent: float
    appeal_success_if_guilty: float
    screening_cost_yuan: float
    investigation_cost_yuan: float

    @classmethod
    def from_config(cls, cfg: GovernanceConfig) -> GovernanceRules:
        s = cfg.strictness

        def pick(value, formula):
            return formula if value is None else value

        return cls(
            enabled=cfg.enabled,
            screening_detection_prob=pick(cfg.screening_detection_prob, 0.1 + 0.85 * s),
            screening_false_alarm_prob=pick(cfg.screening_false_alarm_prob, 0.002 + 0.02 * s),
            investigation_base_prob_per_day=pick(
                cfg.investigation_base_prob_per_day, 0.0005 + 0.002 * s
            ),
            investigation_prob_per_excess_se=pick(
                cfg.investigation_prob_per_excess_se, 0.01 + 0.05 * s
            ),
            excess_threshold_se=pick(cfg.excess_threshold_se, 3.0 - 1.5 * s),
            conviction_prob=pick(cfg.conviction_prob, 0.5 + 0.45 * s),
            false_conviction_prob=pick(cfg.false_conviction_prob, 0.01 + 0.05 * s),
            delist_quality_threshold=pick(cfg.delist_quality_threshold, 0.1 + 0.35 * s),
            fine_strikes=pick(cfg.fine_strikes, 2 - int(s >= 0.75)),
            suspension_strikes=pick(cfg.suspension_strikes, 3 - int(s >= 0.75)),
            removal_strikes=pick(cfg.removal_strikes, 5 + int(s < 0.25) - int(s >= 0.75)),
            strike_expiry_days=cfg.strike_expiry_days,
            suspension_days=cfg.suspension_days,
            fine_min_yuan=pick(cfg.fine_min_yuan, 500.0 * (1 + 4 * s)),
            fine_share_of_sales=pick(cfg.fine_share_of_sales, 0.1 + 0.4 * s),
            appeal_prob_if_innocent=cfg.appeal_prob_if_innocent,
            appeal_prob_if_guilty=cfg.appeal_prob_if_guilty,
            appeal_success_if_innocent=cfg.appeal_success_if_innocent,
            appeal_success_if_guilty=cfg.appeal_success_if_guilty,
            screening_cost_yuan=cfg.screening_cost_yuan * (0.2 + 0.8 * s),
            investigation_cost_yuan=cfg.investigation_cost_yuan,
        )


def screening_intercepts(cheating: bool, rules: GovernanceRules, u: float) -> bool:
    """Whether screening stops a product launch, given a uniform draw ``u``."""
    if not rules.enabled:
        return False
    chance = rules.screening_detection_prob if cheating else rules.screening_false_alarm_prob
    return u < chance


def excess_rate_se(
    events: np.ndarray, deliveries: np.ndarray, category_rate: np.ndarray
) -> np.ndarray:
    """Standard errors by which each merchant's rate of an event (complaints or returns)
    exceeds its category's: ``(events / n - p) / sqrt(p (1 - p) / n)`` with ``n`` the
    merchant's recent deliveries and ``p`` the category's rate; 0 without deliveries. All (m,)."""
    n = np.maximum(deliveries, 0.0)
    p = np.clip(category_rate, 1e-6, 1 - 1e-6)
    rate = np.divide(events, n, out=np.zeros_like(n), where=n > 0)
    se = np.sqrt(p * (1 - p) / np.maximum(n, 1e-12))
    return np.where(n > 0, (rate - p) / se, 0.0)


def investigation_chance(excess_se: np.ndarray, rules: GovernanceRules) -> np.ndarray:
    """Chance per merchant of an investigation today, from the larger excess (in standard
    errors) of its complaint and return rates. (m,) -> (m,) in [0, 1]:
    ``min(1, base + per_se x max(0, excess - threshold))``."""
    beyond = np.maximum(np.asarray(excess_se, dtype=np.float64) - rules.excess_threshold_se, 0.0)
    chance = rules.investigation_base_prob_per_day + rules.investigation_prob_per_excess_se * beyond
    return np.minimum(chance, 1.0) if rules.enabled else np.zeros_like(chance)


def conviction_chance(cheating: np.ndarray, rules: GovernanceRules) -> np.ndarray:
    """Chance an investigation convicts. (m,) bool -> (m,) float."""
    return np.where(cheating, rules.conviction_prob, rules.false_conviction_prob)


@dataclass(frozen=True)
class Enforcement:
    """A day's enforcement decisions, as rows into the arrays given to :func:`enforce`."""

    delist: np.ndarray
    """(d,) rows of live products delisted as risky."""
    investigated: int
    """Merchants investigated."""
    convict: np.ndarray
    """(c,) rows of merchants convicted, in row order (after appeals)."""
    appeals_won: np.ndarray
    """(a,) rows of merchants whose conviction an appeal overturned."""


def enforce(
    live: np.ndarray,
    est_quality: np.ndarray,
    evidence: np.ndarray,
    excess_se: np.ndarray,
    cheating: np.ndarray,
    rules: GovernanceRules,
    min_evidence: float,
    rng: np.random.Generator,
) -> Enforcement:
    """The day's enforcement over the merchants with a product on the market, after trading.

    All inputs (m,): whether the product is live (else delisted), the platform's quality
    estimate, the evidence behind it (reviews beyond the prior), the larger excess of the
    merchant's complaint and return rates over its category's (standard errors), whether the
    product cheats (what an investigation can find out).

    1. delist live products whose estimate is below the threshold on at least
       ``min_evidence`` of evidence;
    2. investigate each merchant with :func:`investigation_chance` (one uniform each);
    3. convict an investigated merchant with :func:`conviction_chance` (one uniform each);
    4. a convicted merchant appeals and the appeal wins with the chances for the innocent
       or the guilty (two uniforms each, drawn for every merchant so that the draws of one
       do not depend on another's fate).
    """
    m = live.size
    if not rules.enabled:
        empty = np.empty(0, dtype=np.int64)
        return Enforcement(empty, 0, empty, empty)
    risky = (est_quality < rules.delist_quality_threshold) & (evidence >= min_evidence)
    delist = np.flatnonzero(risky & live)
    investigated = rng.random(m) < investigation_chance(excess_se, rules)
    convicted = investigated & (rng.random(m) < conviction_chance(cheating, rules))
    appeal_p = np.where(cheating, rules.appeal_prob_if_guilty, rules.appeal_prob_if_innocent)
    win_p = np.where(cheating, rules.appeal_success_if_guilty, rules.appeal_success_if_innocent)
    won = convicted & (rng.random(m) < appeal_p) & (rng.random(m) < win_p)
    return Enforcement(
        delist=delist,
        investigated=int(investigated.sum()),
        convict=np.flatnonzero(convicted & ~won),
        appeals_won=np.flatnonzero(won),
    )


@dataclass(frozen=True)
class Sentence:
    """Where a conviction lands on the ladder (every conviction bans the product)."""

    warning: bool
    fine_yuan: float
    suspend: bool
    remove: bool


def sentence(
    active_strikes: int, severity: float, sales_30d_yuan: float, rules: GovernanceRules
) -> Sentence:
    """The ladder for a conviction that brings the merchant to ``active_strikes`` unexpired
    strikes: a warning at the first; a fine of ``max(fine_min, fine_share x sales x
    severity)`` from ``fine_strikes``; a suspension from ``suspension_strikes``; removal at
    ``removal_strikes``."""
    severity = max(severity, MIN_SEVERITY)
    fined = active_strikes >= rules.fine_strikes
    fine = max(rules.fine_min_yuan, rules.fine_share_of_sales * sales_30d_yuan * severity)
    return Sentence(
        warning=active_strikes < rules.fine_strikes,
        fine_yuan=fine if fined else 0.0,
        suspend=active_strikes >= rules.suspension_strikes,
        remove=active_strikes >= rules.removal_strikes,
    )
