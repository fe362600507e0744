"""The merchant's choice, for each product it launches, to sell it honestly or to cheat.

An honest product has the merchant's own true quality ``q_h`` at its honest unit cost
``c_h`` and claims ``q_h`` plus a little puffery; a cheating product has a low true quality
at ``cheat_cost_factor x c_h`` and claims a high one. The merchant compares the two by their
expected profit per day of the product's life (``product_lifetime_days``, ``L``):

    units_o   = min(capacity, D x exp(b x t x (1 - a) x (claim_o - claim_h)))
    margin_o  = units_o x (price x net x (1 - returned_o) - cost_o)

with ``D`` its expected sales of an honest product (its demand average), ``b`` the purchase
logit's coefficient on believed quality, ``t`` consumers' mean trust in claims (platform
trust), ``a`` the weight consumers give its store score instead of the claim (0 when scores
are not shown), ``net`` the share of the price left after take rate and commission, and
``returned_o`` the expected return share (:func:`sim.kernels.experience.expected_outcomes`:
the same rule that draws outcomes on delivery). Cheating then costs, per day:

* screening: ``d x relist_delay x margin_c / L`` (an intercepted launch waits to relist);
* conviction: hazard ``h x k x (1 - appeal x win)`` (the platform's investigation chance at
  the excess complaint and return rates a cheating product would show, its conviction
  chance, the appeal) times the ban (``relist_delay`` days of honest margin), the fine,
  a suspension (``suspension_days`` of honest margin) and a removal (``H`` days of honest
  margin) its next strike would bring (:func:`sim.governance.sentence`);
* the guarantee fund's recovery from its deposit: compensation for complaints it keeps;
* reputation: the store score it would lose, ``exp(b x a' x phi x (s_c - s_h))``-fold sales
  over the planning horizon ``H`` (``s_o`` the score the option earns, ``phi`` the share of
  the store's record the product's own reviews would make up, ``a'`` the score's weight
  after them), spread over the product's life;
* scruples: ``psi x price x units_c`` (the merchant's own).

It cheats with probability ``logistic(gain / (noise x price x D))`` (a logit choice; with
noise 0, exactly when the gain is positive). Merchants know the platform's rules (published),
its mean trust and the category norms, so stricter rules and visible scores deter cheating
before any cheater is caught.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from sim.governance import (
    SALES_WINDOW_DAYS,
    GovernanceRules,
    excess_rate_se,
    investigation_chance,
    sentence,
)
from sim.kernels.experience import dissatisfaction_probability, expected_outcomes


@dataclass(frozen=True)
class Terms:
    """What every merchant knows today: the platform's published rules and public figures."""

    rules: GovernanceRules
    mean_trust: float
    """Consumers' mean trust in claims (platform trust)."""
    category_complaint_rate: np.ndarray
    """(K,) recent complaints per delivered order in each category."""
    category_return_rate: np.ndarray
    """(K,) recent returns per delivered order in each category."""
    reputation_visible: bool
    prior_reviews: float
    belief_coef: float
    """The purchase logit's coefficient on believed quality."""
    memory_days: float
    """Days of deliveries the platform's recent rates cover."""
    fund_enabled: bool
    compensation_share: float
    relist_delay_days: int
    lifetime_days: float
    horizon_days: float
    noise: float
    experience: tuple[float, float, float, float, float, float, float]
    """dissatisfied base, per quality gap, per low quality, return if dissatisfied, return if
    satisfied, complain if dissatisfied, review."""


@dataclass(frozen=True)
class Option:
    true_quality: float
    claimed_quality: float
    unit_cost_yuan: float


@dataclass(frozen=True)
class Shop:
    """The merchant's own position."""

    price_yuan: float
    net_share: float
    """Share of the price left after take rate and expected commission."""
    demand: float
    """Expected units per day of an honest product."""
    capacity: float
    category: int
    record: float
    """Reviews and complaints on the store's record (what its score rests on)."""
    active_strikes: int
    scruple: float


def _outcomes(option: Option, terms: Terms):
    return _expected(option.true_quality, option.claimed_quality, terms.experience)


@functools.lru_cache(maxsize=1 << 16)
def _expected(true_quality: float, claimed_quality: float, experience: tuple):
    """The expected outcomes of one product (a merchant's options are fixed, so each is
    computed once per set of experience terms). The arrays are shared: read, never write."""
    base, gap, low, ret_bad, ret_good, complain, review = experience
    p = dissatisfaction_probability(
        np.array([true_quality]), np.array([claimed_quality]), np.zeros(1), base, gap, low
    )
    return expected_outcomes(p, ret_bad, ret_good, complain, review)


def _score(o) -> float:
    """The store score an option earns (:meth:`sim.agents.platform.Platform.store_score`)."""
    good = float(o.good_reviews[0])
    bad = float(o.bad_reviews[0] + o.complained[0])
    return good / (good + bad) if good + bad > 0 else 0.5


def cheat_gain_per_day(honest: Option, cheat: Option, shop: Shop, terms: Terms) -> float:
    """Expected profit per day of the cheating product less the honest one's, after the
    expected costs of cheating (see the module docstring)."""
    rules = terms.rules
    weight = shop.record / (shop.record + terms.prior_reviews) if terms.reputation_visible else 0
    o_h, o_c = _outcomes(honest, terms), _outcomes(cheat, terms)
    lift = terms.belief_coef * terms.mean_trust * (1 - weight)
    units_h = min(shop.capacity, shop.demand)
    units_c = min(
        shop.capacity,
        shop.demand * math.exp(lift * (cheat.claimed_quality - honest.claimed_quality)),
    )

    def margin(units, option, o) -> float:
        keep = 1.0 - float(o.returned[0])
        return units * (shop.price_yuan * shop.net_share * keep - option.unit_cost_yuan)

    margin_h, margin_c = margin(units_h, honest, o_h), margin(units_c, cheat, o_c)
    gain = margin_c - margin_h
    lost_day = max(margin_h, 0.0)
    L = terms.lifetime_days
    if rules.enabled:
        gain -= rules.screening_detection_prob * terms.relist_delay_days * max(margin_c, 0.0) / L
        n = units_c * terms.memory_days
        c = shop.category
        excess = max(
            float(
                excess_rate_se(
                    o_c.complained * n, np.array([n]), terms.category_complaint_rate[c : c + 1]
                )[0]
            ),
            float(
                excess_rate_se(
                    o_c.returned * n, np.array([n]), terms.category_return_rate[c : c + 1]
                )[0]
            ),
        )
        h = float(investigation_chance(np.array([excess]), rules)[0])
        hazard = (
            h
            * rules.conviction_prob
            * (1 - rules.appeal_prob_if_guilty * rules.appeal_success_if_guilty)
        )
        severity = max(cheat.claimed_quality - cheat.true_quality, 0.0)
        sales = shop.price_yuan * units_c * SALES_WINDOW_DAYS
        s = sentence(shop.active_strikes + 1, severity, sales, rules)
        cost = terms.relist_delay_days * lost_day + s.fine_yuan
        if s.suspend:
            cost += rules.suspension_days * lost_day
        if s.remove:
            cost += terms.horizon_days * lost_day
        gain -= hazard * cost
    if terms.fund_enabled:
        gain -= (
            units_c * float(o_c.complained_and_kept[0]) * terms.compensation_share * shop.price_yuan
        )
    if terms.reputation_visible and terms.horizon_days > 0:
        events_h = float(
            o_h.good_reviews[0] + o_h.bad_reviews[0] + o_h.returned[0] + o_h.complained[0]
        )
        added = units_c * L * events_h
        share = added / (shop.record + added) if shop.record + added > 0 else 0.0
        after = (shop.record + added) / (shop.record + added + terms.prior_reviews)
        drop = share * (_score(o_c) - _score(o_h))
        lost = 1.0 - math.exp(terms.belief_coef * after * drop)
        gain -= lost * lost_day * terms.horizon_days / L
    gain -= shop.scruple * shop.price_yuan * units_c
    return gain


def cheat_probability(honest: Option, cheat: Option, shop: Shop, terms: Terms) -> float:
    """Chance the merchant cheats with its next product (see the module docstring)."""
    gain = cheat_gain_per_day(honest, cheat, shop, terms)
    scale = terms.noise * shop.price_yuan * max(shop.demand, 1e-9)
    if scale <= 0:
        return float(gain > 0)
    z = gain / scale
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
