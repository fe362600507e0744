"""Phase 8, delivery and experience: today's deliveries reveal true quality; returns are
refunded and kept orders scheduled for payout; the guarantee fund pays complainers; consumers'
trust, memory of merchants and follows move; some consumers leave; creators learn what sold
and came back. Returns the per-merchant feedback governance learns from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim import ledger as L
from sim.kernels.experience import dissatisfaction_probability, draw_outcomes, update_trust
from sim.population import LEFT
from sim.recommenders import interest_exponent
from sim.vocabulary import CHANNELS

if TYPE_CHECKING:
    from sim.agents.creator import Creator
    from sim.agents.merchant import Merchant
    from sim.agents.platform import Platform
    from sim.config import Scenario
    from sim.kernels.experience import Outcomes
    from sim.ledger import Ledger
    from sim.network import FollowGraph
    from sim.orders import ColumnTable
    from sim.population import Population
    from sim.programs import Programs

N_CHANNELS = len(CHANNELS)
FEEDBACK = ("good_reviews", "bad_reviews", "returns", "complaints", "delivered")


@dataclass(frozen=True)
class Delivery:
    feedback: dict[str, np.ndarray]
    """Per merchant idx, (M,) int each: good and bad reviews, returns, complaints."""
    delivered: int = 0
    returns: int = 0
    complaints: int = 0
    dissatisfied: int = 0
    quality_gmv_yuan: float = 0.0
    consumer_surplus_yuan: float = 0.0
    consumers_left: int = 0
    follows_gained: int = 0
    follows_lost: int = 0
    guarantee_paid_yuan: float = 0.0
    guarantee_recovered_yuan: float = 0.0
    """Recovered from the deposits of merchants whose cheating products were compensated."""
    true_quality_sum: float = 0.0
    """Sum of the true quality of the orders delivered (for the mean)."""
    delivered_by_channel: np.ndarray = field(default_factory=lambda: np.zeros(N_CHANNELS, int))
    """(5,) orders delivered per channel they were bought from."""
    returns_by_channel: np.ndarray = field(default_factory=lambda: np.zeros(N_CHANNELS, int))
    """(5,) orders returned per channel they were bought from."""


def deliver(
    day: int,
    config: Scenario,
    merchant_program: np.ndarray,
    reference_price: np.ndarray,
    population: Population,
    follows: FollowGraph,
    merchants: list[Merchant],
    creators: list[Creator],
    platform: Platform,
    programs: Programs,
    ledger: Ledger,
    in_transit: ColumnTable,
    awaiting_payout: ColumnTable,
    rng: np.random.Generator,
) -> Delivery:
    """``merchant_program`` (M,) is the recovery plan serving each merchant today, or -1;
    ``merchants`` and ``creators`` are every one ever made, by idx."""
    cfg = config.consumers.experience
    d = in_transit.pop_due("delivery_day", day)
    nm = len(merchants)
    if d["price_yuan"].size == 0:
        empty = np.zeros(nm, dtype=np.int64)
        return Delivery(feedback=dict.fromkeys(FEEDBACK, empty))
    p_bad = dissatisfaction_probability(
        d["true_quality"],
        d["claimed_quality"],
        d["shock_dissatisfied_prob"],
        cfg.dissatisfied_base_prob,
        cfg.dissatisfied_per_quality_gap,
        cfg.dissatisfied_per_low_quality,
    )
    out = draw_outcomes(
        p_bad,
        cfg.return_prob_if_dissatisfied,
        np.where(d["impulse"], cfg.return_prob_if_impulse, cfg.return_prob_if_satisfied),
        cfg.complaint_prob_if_dissatisfied,
        cfg.review_prob,
        rng,
    )
    price = d["price_yuan"]
    returned, kept = out.returned, ~out.returned
    value = reference_price[d["category"]] * (0.5 + d["true_quality"])
    refund = float(price[returned].sum())
    ledger.transfer(L.ESCROW, L.CONSUMERS, refund, "refund")
    ledger.release(refund)
    awaiting_payout.append(
        due_day=day + _payment_delay(d["merchant"][kept], merchant_program, programs, config),
        merchant=d["merchant"][kept],
        creator=d["creator"][kept],
        price_yuan=price[kept],
        take_rate=d["take_rate"][kept],
        commission_rate=d["commission_rate"][kept],
    )
    # A commission-free plan pays for the take commission it waived on kept orders.
    programs.charge_traffic(d["recovery_program"][kept], (d["waived_take_rate"] * price)[kept])
    net = price * (1 - d["take_rate"] - d["commission_rate"])
    units = np.bincount(d["merchant"][returned], minlength=nm)
    lost = np.bincount(d["merchant"][returned], net[returned], minlength=nm)
    for m in np.flatnonzero(units):
        merchants[m].record_returns(int(units[m]), float(lost[m]))
    _shipping_insurance(d["merchant"][returned], merchant_program, programs, merchants, ledger)

    # The guarantee fund pays for the loss a complaint was about when the buyer kept the
    # goods; a returned order was refunded already.
    compensated = out.complained & kept & config.platform.guarantee_fund.enabled
    paid, recovered = platform.compensate(
        d["merchant"][compensated], price[compensated], d["violator"][compensated]
    )
    consumers_left = _consumers_react(config, d, out, compensated, population, follows, rng)
    wake_interest(
        population,
        d["consumer"][~out.dissatisfied],
        d["category"][~out.dissatisfied],
        config.consumers.interest_gain_after_purchase,
        interest_exponent(config),
    )
    gained, lost_follows = _creators_react(
        config, d, out, compensated, population, follows, creators, rng
    )
    good = ~out.dissatisfied
    merchant = d["merchant"]
    return Delivery(
        feedback={
            "good_reviews": np.bincount(merchant[out.reviewed & good], minlength=nm),
            "bad_reviews": np.bincount(merchant[out.reviewed & ~good], minlength=nm),
            "returns": np.bincount(merchant[out.returned], minlength=nm),
            "complaints": np.bincount(merchant[out.complained], minlength=nm),
            "delivered": np.bincount(merchant, minlength=nm),
        },
        delivered=int(price.size),
        returns=int(returned.sum()),
        delivered_by_channel=np.bincount(d["channel"], minlength=N_CHANNELS),
        returns_by_channel=np.bincount(d["channel"][returned], minlength=N_CHANNELS),
        complaints=int(out.complained.sum()),
        dissatisfied=int(out.dissatisfied.sum()),
        quality_gmv_yuan=float(price[kept & ~d["violator"]].sum()),
        consumer_surplus_yuan=float((value - price)[kept].sum()),
        consumers_left=consumers_left,
        follows_gained=gained,
        follows_lost=lost_follows,
        guarantee_paid_yuan=paid,
        guarantee_recovered_yuan=recovered,
        true_quality_sum=float(d["true_quality"].astype(np.float64).sum()),
    )


def _payment_delay(
    merchant: np.ndarray, merchant_program: np.ndarray, programs: Programs, config: Scenario
) -> np.ndarray:
    """Payment delay (days) for kept orders of each merchant idx: a recovery plan's when
    one serves the merchant today, else the platform's."""
    delay = np.full(merchant.size, config.platform.payment_delay_days, dtype=np.int64)
    for p in np.unique(merchant_program[merchant]):
        plan = programs.recovery(int(p))
        if plan is not None and plan.payment_delay_days is not None:
            delay[merchant_program[merchant] == p] = plan.payment_delay_days
    return delay


def _shipping_insurance(
    merchant: np.ndarray,
    merchant_program: np.ndarray,
    programs: Programs,
    merchants: list[Merchant],
    ledger: Ledger,
) -> None:
    """A recovery plan pays served merchants a fixed sum per returned order (运费险补贴)."""
    program = merchant_program[merchant]
    for p in np.unique(program[program >= 0]):
        plan = programs.recovery(int(p))
        if plan is None or plan.shipping_insurance_yuan_per_return == 0:
            continue
        served = merchant[program == p]
        state = programs.states[int(p)]
        per_return = plan.shipping_insurance_yuan_per_return
        affordable = int((plan.budget_yuan - state.spent_yuan) // per_return)
        served = served[:affordable]
        if served.size == 0:
            continue
        counts = np.bincount(served, minlength=len(merchants))
        paid = np.flatnonzero(counts)
        accounts = np.array([merchants[m].account for m in paid], dtype=np.int64)
        ledger.transfer_many(L.PLATFORM, accounts, counts[paid] * per_return, "shipping_subsidy")
        state.charge(float(served.size * per_return))


def wake_interest(
    population: Population,
    consumers: np.ndarray,
    categories: np.ndarray,
    gain: float,
    exponent: float,
) -> None:
    """Latent interest woken: a satisfied order raises its buyer's interest in the category
    by ``gain`` of the gap to 1 (once per buyer and category a day), then the row is
    renormalised to sum to 1. What content sells today, its buyers want more of later."""
    if gain <= 0 or consumers.size == 0:
        return
    rows, inverse = np.unique(consumers, return_inverse=True)
    interest = population.interest[rows].astype(np.float64)
    bought = np.zeros(interest.shape, dtype=bool)
    bought[inverse, categories] = True
    interest += np.where(bought, gain * (1.0 - interest), 0.0)
    interest /= interest.sum(axis=1, keepdims=True)
    population.update_interest(rows, interest, exponent)


def _consumers_react(
    config: Scenario,
    d: dict,
    out: Outcomes,
    compensated: np.ndarray,
    population: Population,
    follows: FollowGraph,
    rng: np.random.Generator,
) -> int:
    """Platform trust moves with experience (less for buyers the guarantee fund paid);
    satisfied buyers may remember the merchant; disappointed ones forget it and, below
    the trust threshold, may leave the platform. Returns how many left."""
    cfg = config.consumers.experience
    pop = population
    consumer, merchant = d["consumer"], d["merchant"]
    good = ~out.dissatisfied
    relief = config.platform.guarantee_fund.trust_loss_relief
    loss = cfg.platform_trust_loss * np.where(compensated, 1 - relief, 1.0)
    rows, trust = update_trust(pop.platform_trust, consumer, good, loss, cfg.platform_trust_gain)
    pop.platform_trust[rows] = trust

    remember = good & (rng.random(consumer.size) < cfg.favorite_after_satisfied_prob)
    pop.favorite_merchant[consumer[remember]] = merchant[remember]
    forget = ~good & (pop.favorite_merchant[consumer] == merchant)
    pop.favorite_merchant[consumer[forget]] = -1
    # A disappointed buyer discounts that merchant's claims from now on (the last such).
    pop.disappointing_merchant[consumer[~good]] = merchant[~good]

    leaving = (
        ~good
        & (pop.platform_trust[consumer] < cfg.leave_trust_threshold)
        & (rng.random(consumer.size) < cfg.leave_prob)
    )
    leavers = np.unique(consumer[leaving])
    leavers = leavers[pop.on_platform[leavers]]
    pop.set_status(leavers, LEFT)
    follows.clear_rows(leavers)  # who leaves the platform follows no one there
    return int(leavers.size)


def _creators_react(
    config: Scenario,
    d: dict,
    out: Outcomes,
    compensated: np.ndarray,
    population: Population,
    follows: FollowGraph,
    creators: list[Creator],
    rng: np.random.Generator,
) -> tuple[int, int]:
    """Orders sold through a creator move the buyer's trust in them; satisfied buyers may
    follow, disappointed ones may unfollow; creators learn what sold and came back. Returns
    (follows gained, follows lost)."""
    cfg = config.consumers.experience
    via = d["creator"] >= 0
    if not via.any():
        return 0, 0
    c, cr, m = d["consumer"][via], d["creator"][via], d["merchant"][via]
    good = ~out.dissatisfied[via]
    stayed = population.on_platform[c]  # who has left follows no one
    relief = config.platform.guarantee_fund.trust_loss_relief
    loss = cfg.creator_trust_loss * np.where(compensated[via], 1 - relief, 1.0)
    follows.adjust_trust(
        c, cr, np.where(good, cfg.creator_trust_gain, 0.0), np.where(good, 0.0, loss)
    )
    u = rng.random(c.size)
    follow = good & stayed & (u < cfg.follow_after_satisfied_prob)
    unfollow = ~good & (u < cfg.unfollow_after_dissatisfied_prob)
    trust = config.consumers.initial_creator_trust
    gained = follows.follow(c[follow], cr[follow], trust)
    lost = follows.unfollow(c[unfollow], cr[unfollow])
    pairs, inverse = np.unique(np.stack([cr, m], axis=1), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    sold = np.bincount(inverse, minlength=len(pairs))
    returned = np.bincount(inverse, out.returned[via], minlength=len(pairs))
    for (ci, mi), n_sold, n_returned in zip(pairs, sold, returned, strict=True):
        creators[int(ci)].learn_outcomes(int(mi), int(n_sold), int(n_returned))
    return int(gained), int(lost)
