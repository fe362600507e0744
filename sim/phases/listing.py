"""Phase 3, listing: merchants bring products to market. A merchant whose product is due (a
new merchant, a product at the end of its life, one banned or intercepted whose delay is
over) launches a new one, choosing whether it cheats (:mod:`sim.honesty`); the platform
screens the launch's SKUs and intercepts some. Merchants produce to a stock target and pay
overheads and service fees; programs pick whom they serve. Returns the day's live listings,
with what consumers believe of each (claims, store scores)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.agents.merchant import PRODUCTION_COLUMNS, AnnouncedStock, produce
from sim.arrays import columns
from sim.catalog import Listings
from sim.day import GovernanceCounts
from sim.honesty import Shop, Terms, cheat_probability
from sim.programs import paced_to_stock
from sim.vocabulary import MERCHANT_KINDS

if TYPE_CHECKING:
    from sim.agents.mcn import ServiceProvider
    from sim.agents.merchant import Merchant
    from sim.agents.platform import Platform, TrafficSale
    from sim.config import Scenario
    from sim.events import DayConditions
    from sim.programs import Programs
    from sim.rng import Streams

KIND_INDEX = {kind: i for i, kind in enumerate(MERCHANT_KINDS)}

LISTING_COLUMNS = PRODUCTION_COLUMNS | {
    "region": np.int64,
    "category": np.int64,
    "price_yuan": np.float64,
    "commission_rate": np.float64,
    "claimed_quality": np.float32,
    "true_quality": np.float32,
    "violator": bool,
    "cold_start_until": np.int64,
    "traffic_budget_yuan": np.float64,
    "cpa_bid_yuan": np.float64,
    "kind": object,
    "own_account": object,
}
"""The merchants' attributes the listing phase reads, with their dtypes."""

EXPECTED_COMMISSIONED_SHARE = 0.5
"""Share of its sales a merchant expects to pay creators' commission on, when it weighs a
product (the rest sells through search, the mall or its own account)."""


@dataclass(frozen=True)
class ListingDay:
    listings: Listings
    merchant_program: np.ndarray
    """(M,) int: the recovery plan serving each merchant idx today, or -1 (its terms apply to
    the orders delivered today: payment delay, shipping insurance)."""
    screening: GovernanceCounts
    """Listings screened and intercepted."""
    traffic: TrafficSale
    """The day's auction of paid traffic, per listing."""
    launches: int
    """Products launched (screened) today."""
    cheating_launches: int
    entrant_launches: int
    """Launches of merchants' first products."""
    cheating_entrant_launches: int


def relative(values: np.ndarray) -> np.ndarray:
    """Values over their mean (0 where the mean is 0): popularity the same in any market size."""
    mean = float(values.mean()) if values.size else 0.0
    return values / mean if mean > 0 else np.zeros_like(values)


def honesty_terms(config: Scenario, platform: Platform, mean_trust: float, k: int) -> Terms:
    """What every merchant knows today when it weighs cheating: the published rules, the
    consumers' mean trust and the categories' complaint and return rates."""
    exp = config.consumers.experience
    complaint_rate, return_rate = platform.category_rates(k)
    h = config.merchants.honesty
    return Terms(
        rules=platform.rules,
        mean_trust=mean_trust,
        category_complaint_rate=complaint_rate,
        category_return_rate=return_rate,
        reputation_visible=config.platform.reputation.visible,
        prior_reviews=config.platform.reputation.prior_reviews,
        belief_coef=config.consumers.purchase.quality_belief_coef,
        memory_days=config.platform.governance.complaint_memory_days,
        fund_enabled=config.platform.guarantee_fund.enabled,
        compensation_share=config.platform.guarantee_fund.compensation_share,
        relist_delay_days=config.platform.governance.relist_delay_days,
        lifetime_days=h.product_lifetime_days,
        horizon_days=h.reputation_horizon_days,
        noise=h.choice_noise,
        experience=(
            exp.dissatisfied_base_prob,
            exp.dissatisfied_per_quality_gap,
            exp.dissatisfied_per_low_quality,
            exp.return_prob_if_dissatisfied,
            exp.return_prob_if_satisfied,
            exp.complaint_prob_if_dissatisfied,
            exp.review_prob,
        ),
    )


def chooses_to_cheat(
    merchant: Merchant,
    platform: Platform,
    terms: Terms,
    forced_share: float | None,
    day: int,
    u: float,
) -> bool:
    """The merchant's choice for its next product, given a uniform draw ``u``."""
    if forced_share is not None:
        return u < forced_share
    i = np.array([merchant.idx])
    take = platform.take_rate_for(merchant)
    shop = Shop(
        price_yuan=merchant.price_yuan,
        net_share=1.0 - take - EXPECTED_COMMISSIONED_SHARE * merchant.commission_rate,
        demand=max(merchant.demand_ema, 1.0),
        capacity=merchant.capacity,
        category=merchant.category,
        record=float(platform.store_record(i)[0]),
        active_strikes=merchant.active_strikes(day, terms.rules.strike_expiry_days),
        scruple=merchant.scruple,
    )
    return u < cheat_probability(merchant.honest, merchant.cheat, shop, terms)


def list_products(
    day: int,
    config: Scenario,
    merchants: list[Merchant],
    n_merchants_ever: int,
    providers: list[ServiceProvider],
    platform: Platform,
    programs: Programs,
    conditions: DayConditions,
    terms: Terms,
    streams: Streams,
    sessions: AnnouncedStock | None = None,
) -> ListingDay:
    """``merchants`` are those in business (in activation order); ``n_merchants_ever`` sizes
    the per-merchant arrays; ``sessions`` are the announced live sessions and the merchants they
    feature (:meth:`sim.live.LiveSchedule.announced_units`)."""
    sessions = sessions if sessions is not None else AnnouncedStock.none()
    honesty = config.merchants.honesty
    relist_delay_days = config.platform.governance.relist_delay_days
    shocked = conditions.shocked_regions
    screened = intercepted = false_positives = 0
    launches = cheating = entrant = cheating_entrant = 0
    for merchant in merchants:
        if not merchant.listing.start_day(day):
            continue
        merchant.listing.new_product()
        rng = streams.generator("product", merchant.idx, merchant.listing.product_id)
        first = merchant.launches == 0
        cheats = chooses_to_cheat(
            merchant, platform, terms, honesty.forced_cheat_share, day, rng.random()
        )
        merchant.launch(cheats)
        launches += 1
        cheating += int(cheats)
        entrant += int(first)
        cheating_entrant += int(first and cheats)
        skus = honesty.skus_per_product
        screened += skus if platform.rules.enabled else 0
        passed = platform.screen_launch(merchant, day, skus)
        lifetime = int(rng.geometric(1.0 / honesty.product_lifetime_days))
        # An intercepted launch misses exactly relist_delay_days days.
        merchant.listing.screened(
            passed, retry_day=day + relist_delay_days, ends_day=day + lifetime
        )
        if passed:
            platform.reset_quality_estimate(merchant.idx)
        else:
            intercepted += skus
            false_positives += skus * int(not cheats)
    # Every merchant's columns the day's listings need, read in one pass over the merchants.
    state = columns(merchants, LISTING_COLUMNS)
    state["stock"] = produce(
        merchants,
        np.where(shocked[state["region"]], conditions.capacity_multiplier, 1.0),
        sessions,
        state,
    )
    for provider in providers:
        provider.collect_fees()
    # Programs serving each merchant today: boosts, and a recovery plan's terms (waived
    # take rate, payment delay, shipping insurance).
    service = programs.for_merchants(merchants, day, shocked)
    merchant_program = np.full(n_merchants_ever, -1, dtype=np.int64)
    merchant_program[state["idx"]] = service.recovery_program
    live_mask = np.fromiter((m.listing.live for m in merchants), bool, len(merchants))
    live = {name: values[live_mask] for name, values in state.items()}
    program, program_boost = service.boost_program[live_mask], service.boost[live_mask]
    recovery = service.recovery_program[live_mask]
    # A stock below zero is owed to pre-sale buyers: nothing of it is on sale.
    idx, category, stock = live["idx"], live["category"], np.maximum(live["stock"], 0)
    merchant_to_listing = np.full(n_merchants_ever, -1, dtype=np.int64)
    merchant_to_listing[idx] = np.arange(idx.size)
    program, program_boost = paced_to_stock(program, program_boost, stock, platform.popularity[idx])
    traffic = platform.sell_traffic(
        idx,
        category,
        platform.ledger.balances[live["account"]],
        live["traffic_budget_yuan"],
        live["cpa_bid_yuan"],
    )
    take_rate = platform.take_rates[category].astype(np.float64)
    free_programs = [p for p in np.unique(recovery).tolist() if _commission_free(programs, p)]
    free = np.isin(recovery, free_programs)
    waived = np.where(free, take_rate, 0.0)
    take_rate = take_rate - waived
    claimed = live["claimed_quality"]
    weight = platform.score_weight(idx)
    score = platform.store_score(idx)
    prior = config.consumers.purchase.quality_prior
    est_quality = platform.est_quality(idx)
    listings = Listings(
        merchant=idx,
        category=category,
        price_yuan=live["price_yuan"],
        claimed_quality=claimed,
        true_quality=live["true_quality"],
        violator=live["violator"],
        est_quality=est_quality,
        # Hidden scores are hidden from creators too: they then judge goods by their own
        # record and the prior alone.
        public_quality=est_quality
        if config.platform.reputation.visible
        else np.full_like(est_quality, prior),
        quality_if_trusting=weight * score + (1 - weight) * claimed,
        quality_if_doubting=weight * score + (1 - weight) * prior,
        popularity=relative(platform.popularity[idx]).astype(np.float32),
        # A commission can never exceed what the take rate leaves of the price.
        commission_rate=np.minimum(live["commission_rate"], 1.0 - take_rate).astype(np.float32),
        take_rate=take_rate.astype(np.float32),
        paid_boost=traffic.paid_boost,
        boost=(platform.boost(live["cold_start_until"], day) + program_boost).astype(np.float32),
        stock=stock,
        presale_units=np.zeros(idx.size, dtype=np.int64),
        region=live["region"],
        unit_cost_yuan=live["unit_cost_yuan"],
        kind=np.fromiter((KIND_INDEX[k] for k in live["kind"]), np.int64, idx.size),
        own_account=np.fromiter(
            (a.idx if a is not None else -1 for a in live["own_account"]), np.int64, idx.size
        ),
        program=program,
        program_boost=program_boost,
        recovery_program=recovery,
        waived_take_rate=waived.astype(np.float32),
        merchant_to_listing=merchant_to_listing,
    )
    screening = GovernanceCounts(
        intercepted=intercepted, false_positives=false_positives, screened=screened
    )
    return ListingDay(
        listings,
        merchant_program,
        screening,
        traffic,
        launches,
        cheating,
        entrant,
        cheating_entrant,
    )


def _commission_free(programs: Programs, program: int) -> bool:
    plan = programs.recovery(int(program))
    return plan is not None and plan.commission_free
