"""Phase 3, listing: merchants bring products to market (the platform screens each new
product and intercepts some), produce to a stock target and pay overheads and service fees;
programs pick whom they serve. Returns the day's live listings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.catalog import Listings
from sim.day import GovernanceCounts
from sim.vocabulary import MERCHANT_KINDS

if TYPE_CHECKING:
    from sim.agents.mcn import ServiceProvider
    from sim.agents.merchant import Merchant
    from sim.agents.platform import Platform, TrafficSale
    from sim.events import DayConditions
    from sim.programs import Programs


@dataclass(frozen=True)
class ListingDay:
    listings: Listings
    merchant_program: np.ndarray
    """(M,) int: the recovery plan serving each merchant idx today, or -1 (its terms apply to
    the orders delivered today: payment delay, shipping insurance)."""
    screening: GovernanceCounts
    """Screenings and interceptions."""
    traffic: TrafficSale
    """The day's auction of paid traffic, per listing."""


def relative(values: np.ndarray) -> np.ndarray:
    """Values over their mean (0 where the mean is 0): popularity the same in any market size."""
    mean = float(values.mean()) if values.size else 0.0
    return values / mean if mean > 0 else np.zeros_like(values)


def list_products(
    day: int,
    merchants: list[Merchant],
    n_merchants_ever: int,
    providers: list[ServiceProvider],
    platform: Platform,
    programs: Programs,
    conditions: DayConditions,
    relist_delay_days: int,
) -> ListingDay:
    """``merchants`` are those in business (in activation order); ``n_merchants_ever`` sizes
    the per-merchant arrays."""
    shocked = conditions.shocked_regions
    screened = intercepted = false_positives = 0
    for merchant in merchants:
        if merchant.listing.start_day(day):
            merchant.listing.new_product()
            screened += 1
            passed = platform.screen_listing(merchant, day)
            # An intercepted listing misses exactly relist_delay_days days.
            merchant.listing.screened(passed, retry_day=day + relist_delay_days)
            if passed:
                platform.reset_quality_estimate(merchant.idx)
            else:
                intercepted += 1
                false_positives += int(not merchant.violator)
        merchant.produce(conditions.capacity_multiplier if shocked[merchant.region] else 1.0)
    for provider in providers:
        provider.collect_fees()
    # Programs serving each merchant today: boosts, and a recovery plan's terms (waived
    # take rate, payment delay, shipping insurance).
    service = programs.for_merchants(merchants, day, shocked)
    merchant_program = np.full(n_merchants_ever, -1, dtype=np.int64)
    merchant_program[[m.idx for m in merchants]] = service.recovery_program
    live_mask = np.array([m.listing.live for m in merchants], dtype=bool)
    live = [m for m in merchants if m.listing.live]
    program, program_boost = service.boost_program[live_mask], service.boost[live_mask]
    recovery = service.recovery_program[live_mask]
    idx = np.array([m.idx for m in live], dtype=np.int64)
    merchant_to_listing = np.full(n_merchants_ever, -1, dtype=np.int64)
    merchant_to_listing[idx] = np.arange(idx.size)
    category = np.array([m.category for m in live], dtype=np.int64)
    traffic = platform.sell_traffic(live, category)
    take_rate = np.array([platform.take_rate_for(m) for m in live], dtype=np.float64)
    free = np.array([_commission_free(programs, p) for p in recovery], dtype=bool)
    waived = np.where(free, take_rate, 0.0)
    take_rate = take_rate - waived
    listings = Listings(
        merchant=idx,
        category=category,
        price_yuan=np.array([m.price_yuan for m in live], dtype=np.float64),
        claimed_quality=np.array([m.claimed_quality for m in live], dtype=np.float32),
        true_quality=np.array([m.true_quality for m in live], dtype=np.float32),
        violator=np.array([m.violator for m in live], dtype=bool),
        est_quality=platform.est_quality(idx),
        popularity=relative(platform.popularity[idx]).astype(np.float32),
        # A commission can never exceed what the take rate leaves of the price.
        commission_rate=np.minimum(
            np.array([m.commission_rate for m in live]), 1.0 - take_rate
        ).astype(np.float32),
        take_rate=take_rate.astype(np.float32),
        paid_boost=traffic.paid_boost,
        boost=(np.array([platform.boost(m, day) for m in live]) + program_boost).astype(np.float32),
        stock=np.array([m.stock for m in live], dtype=np.int64),
        region=np.array([m.region for m in live], dtype=np.int64),
        unit_cost_yuan=np.array([m.unit_cost_yuan for m in live], dtype=np.float64),
        kind=np.array([MERCHANT_KINDS.index(m.kind) for m in live], dtype=np.int64),
        own_account=np.array(
            [m.own_account.idx if m.own_account is not None else -1 for m in live],
            dtype=np.int64,
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
    return ListingDay(listings, merchant_program, screening, traffic)


def _commission_free(programs: Programs, program: int) -> bool:
    plan = programs.recovery(int(program))
    return plan is not None and plan.commission_free
