"""The platform: recommendation, channels, take rates, traffic sales, its estimate of each
listing's quality, screening and the guarantee fund. What governance does after trading is
decided by :func:`sim.governance.enforce` and applied by the governance phase."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import ledger as L
from sim.arrays import ema, ensure_size
from sim.governance import GovernanceRules, excess_rate_se, screening_intercepts
from sim.kernels.auction import clear

if TYPE_CHECKING:
    from sim.agents.merchant import Merchant
    from sim.config import PlatformConfig
    from sim.ledger import Ledger
    from sim.rng import Streams

MIN_ORGANIC_IMPRESSIONS = 100.0
"""Organic impressions per day assumed for a listing too new to have a record."""
MAX_PAID_FACTOR = 20.0
"""Paid traffic multiplies a listing's ranking weight by at most this factor."""
IMPRESSION_MEMORY_DAYS = 7.0
"""Time constant of the platform's moving averages of impressions (listings, categories)."""


@dataclass(frozen=True)
class TrafficSale:
    """The day's auction of paid traffic, per live listing (L,)."""

    ecpm_yuan: np.ndarray
    """Bid per 1000 impressions: bid per conversion x predicted conversion rate x 1000."""
    won: np.ndarray
    """Impressions won."""
    price_cpm_yuan: np.ndarray
    """Price per 1000 impressions (second price); 0 for listings that won nothing."""
    paid_boost: np.ndarray
    """float32 log-weight the won impressions buy in the ranking: log(1 + won / organic)."""


PRIOR_QUALITY = 0.5
"""The platform's prior mean for a new shop's quality, before any review."""


class Platform(mesa.Agent):
    """The one platform agent: the policy maker. Built with its config section, the cold-start
    boost service providers' new clients get, the category names, the run's random streams
    (screening draws are keyed by merchant and day) and the ledger (it pays from and is paid
    into the platform's account)."""

    def __init__(
        self,
        model: mesa.Model,
        *,
        cfg: PlatformConfig,
        cold_start_boost: float,
        category_names: list[str],
        streams: Streams,
        ledger: Ledger,
    ):
        super().__init__(model)
        self.cfg = cfg
        self.cold_start_boost = cold_start_boost
        self.streams = streams
        self.ledger = ledger
        self.rules = GovernanceRules.from_config(cfg.governance)
        self.take_rates = np.array(
            [cfg.take_rate_by_category.get(name, cfg.take_rate) for name in category_names]
        )
        # Per merchant idx: Beta pseudo-counts of the current listing's quality estimate and of
        # the shop's lifetime record, recent complaints, recent units sold per day.
        self.good = np.zeros(0)
        self.bad = np.zeros(0)
        self.shop_good = np.zeros(0)
        self.shop_bad = np.zeros(0)
        # Recent deliveries, complaints and returns per day (moving averages over
        # governance.complaint_memory_days): the rates investigations are triggered by.
        self.deliveries_recent = np.zeros(0)
        self.complaints_recent = np.zeros(0)
        self.returns_recent = np.zeros(0)
        self.popularity = np.zeros(0)
        self.organic_impressions = np.zeros(0)
        self.deposit_held = np.zeros(0)
        """Each merchant's deposit (保证金) the platform holds, yuan."""
        # The store's record as buyers see it: good reviews, and bad reviews and complaints.
        self.reviews_good = np.zeros(0)
        self.reviews_bad = np.zeros(0)
        self.merchant_category = np.zeros(0, dtype=np.int64)
        """Each merchant's category (for the category norms)."""
        self.impressions_ema = np.zeros(0)
        self.k = len(category_names)
        self.category_impressions = np.zeros(len(category_names))
        """Moving average of each category's daily impressions: the auction's supply."""

    def ensure_merchants(self, n: int) -> None:
        strength = self.cfg.quality_prior_strength
        self.good = ensure_size(self.good, n)
        self.bad = ensure_size(self.bad, n)
        self.shop_good = ensure_size(self.shop_good, n, PRIOR_QUALITY * strength)
        self.shop_bad = ensure_size(self.shop_bad, n, (1 - PRIOR_QUALITY) * strength)
        self.deliveries_recent = ensure_size(self.deliveries_recent, n)
        self.complaints_recent = ensure_size(self.complaints_recent, n)
        self.returns_recent = ensure_size(self.returns_recent, n)
        self.deposit_held = ensure_size(self.deposit_held, n)
        self.reviews_good = ensure_size(self.reviews_good, n)
        self.reviews_bad = ensure_size(self.reviews_bad, n)
        self.merchant_category = ensure_size(self.merchant_category, n).astype(np.int64)
        self.popularity = ensure_size(self.popularity, n)
        self.organic_impressions = ensure_size(self.organic_impressions, n)
        self.impressions_ema = ensure_size(self.impressions_ema, n)

    def register(self, merchant: Merchant) -> None:
        """A merchant joins: its arrays, its category, its deposit."""
        self.ensure_merchants(merchant.idx + 1)
        self.merchant_category[merchant.idx] = merchant.category
        self.take_deposit(merchant)

    # terms of trade ---------------------------------------------------------------------------

    def take_rate_for(self, merchant: Merchant) -> float:
        return float(self.take_rates[merchant.category])

    def predicted_conversion(self, merchant_idx: np.ndarray) -> np.ndarray:
        """Each listing's predicted conversion rate (units per impression) for oCPM: its
        recent units sold over its recent impressions, shrunk towards the market-wide rate
        with the weight of ``conversion_prior_impressions`` impressions."""
        units, imps = self.popularity[merchant_idx], self.impressions_ema[merchant_idx]
        total = imps.sum()
        market = units.sum() / total if total > 0 else 0.0
        prior = self.cfg.traffic.conversion_prior_impressions
        return (units + prior * market) / (imps + prior)

    def sell_traffic(
        self,
        idx: np.ndarray,
        category: np.ndarray,
        cash_yuan: np.ndarray,
        traffic_budget_yuan: np.ndarray,
        cpa: np.ndarray,
    ) -> TrafficSale:
        """Phase 3: the auction of the day's paid impressions among the live listings, (L,)
        each: their merchants' idx, category, cash, daily traffic budget and bid per
        conversion. Per category, ``ad_load_share`` of its recent daily impressions, cleared by
        generalised second price (:func:`sim.kernels.auction.clear`) and paced to budgets. A
        merchant without cash or budget does not bid. The impressions won become a ranking
        log-weight, ``log(1 + won / organic)`` with organic the listing's recent impressions
        without paid traffic (at least ``MIN_ORGANIC_IMPRESSIONS``), capped at
        ``log(MAX_PAID_FACTOR)``."""
        t = self.cfg.traffic
        budget = np.where(cash_yuan > 0, traffic_budget_yuan, 0.0)
        ecpm = cpa * self.predicted_conversion(idx) * 1000.0 if idx.size else np.zeros(0)
        supply = t.ad_load_share * self.category_impressions
        result = clear(category, ecpm, budget, supply, t.reserve_cpm_yuan)
        organic = np.maximum(self.organic_impressions[idx], MIN_ORGANIC_IMPRESSIONS)
        factor = np.minimum(1.0 + result.won / organic, MAX_PAID_FACTOR)
        return TrafficSale(
            ecpm_yuan=ecpm,
            won=result.won,
            price_cpm_yuan=result.price_cpm_yuan,
            paid_boost=np.log(factor).astype(np.float32),
        )

    def observe_impressions(
        self,
        merchants: np.ndarray,
        impressions: np.ndarray,
        paid: np.ndarray,
        category: np.ndarray,
    ) -> None:
        """Phase 7: each listing's impressions today, and those less the ones its paid
        traffic bought, into the merchants' moving averages (one-week memory); each
        category's impressions into its moving average (the auction's supply; the first
        day's value when there is no record yet)."""
        today = np.zeros_like(self.organic_impressions)
        today[merchants] = np.maximum(impressions - paid, 0.0)
        listed = np.zeros(self.organic_impressions.size, dtype=bool)
        listed[merchants] = True
        m = IMPRESSION_MEMORY_DAYS
        self.organic_impressions[listed] = ema(self.organic_impressions[listed], today[listed], m)
        total = np.zeros_like(self.impressions_ema)
        total[merchants] = impressions
        self.impressions_ema[listed] = ema(self.impressions_ema[listed], total[listed], m)
        by_category = np.bincount(
            category,
            weights=impressions.astype(np.float64),
            minlength=self.category_impressions.size,
        )
        fresh = self.category_impressions == 0
        self.category_impressions = np.where(
            fresh, by_category, ema(self.category_impressions, by_category, m)
        )

    def boost(self, cold_start_until: np.ndarray, day: int) -> np.ndarray:
        """Cold-start boost for service providers' new clients: (n,) the day each merchant's
        cold start ends -> (n,) boost."""
        return np.where(day < cold_start_until, self.cold_start_boost, 0.0)

    def charge_traffic(
        self,
        merchants: list[Merchant],
        paid_impressions: np.ndarray,
        price_cpm_yuan: np.ndarray,
        incremental_units: np.ndarray,
    ) -> None:
        """Phase 7: bill merchants for the paid impressions delivered, at their auction
        price, up to their budget; report to each the units its paid traffic added.

        merchants (k,); paid_impressions (k,): for each impression of the listing, the share
        owed to the paid log-weight, 1 - exp(-paid log-weight), summed; price_cpm_yuan (k,);
        incremental_units (k,) (see :func:`incremental_share`)."""
        for merchant, n, price, extra in zip(
            merchants, paid_impressions, price_cpm_yuan, incremental_units, strict=True
        ):
            bill = min(merchant.traffic_budget_yuan, n * price / 1000.0)
            merchant.pay_traffic(float(bill), float(extra))

    # quality estimate -------------------------------------------------------------------------

    def reset_quality_estimate(self, i: int) -> None:
        """A new or rectified listing starts from the shop's lifetime record (店铺口碑): its
        mean, worth ``quality_prior_strength`` reviews. A new shop's record is the prior
        ``PRIOR_QUALITY``; a shop with a bad record does not shed it by relisting."""
        strength = self.cfg.quality_prior_strength
        shop_mean = self.shop_good[i] / (self.shop_good[i] + self.shop_bad[i])
        self.good[i] = shop_mean * strength
        self.bad[i] = (1 - shop_mean) * strength

    def est_quality(self, merchant_idx: np.ndarray) -> np.ndarray:
        g, b = self.good[merchant_idx], self.bad[merchant_idx]
        return (g / np.maximum(g + b, 1e-12)).astype(np.float32)

    def learn_from_feedback(
        self,
        good_reviews: np.ndarray,
        bad_reviews: np.ndarray,
        returns: np.ndarray,
        complaints: np.ndarray,
        delivered: np.ndarray,
    ) -> None:
        """Phase 9: the day's reviews, returns, complaints and deliveries, each (M,) per
        merchant idx, update the listing's Beta estimate and the store's record (a complaint
        counts ``complaint_weight`` bad reviews, a return one) and the moving averages of
        daily deliveries, complaints and returns that trigger investigations. Called every
        day, with zeros on a day without deliveries, so the averages decay."""
        cfg = self.cfg
        n = good_reviews.size
        bad = bad_reviews + returns + cfg.complaint_weight * complaints
        self.good[:n] += good_reviews
        self.bad[:n] += bad
        self.shop_good[:n] += good_reviews
        self.shop_bad[:n] += bad
        self.reviews_good[:n] += good_reviews
        self.reviews_bad[:n] += bad_reviews + complaints
        memory = cfg.governance.complaint_memory_days
        for name, counts in (
            ("deliveries_recent", delivered),
            ("complaints_recent", complaints),
            ("returns_recent", returns),
        ):
            today = np.zeros_like(getattr(self, name))
            today[:n] = counts
            setattr(self, name, ema(getattr(self, name), today, memory))

    # store scores (商家体验分) -----------------------------------------------------------------

    def store_score(self, merchant_idx: np.ndarray) -> np.ndarray:
        """The store's score (商家体验分): the share of good reviews among its reviews and
        complaints, an estimate of the share of its buyers who were satisfied (0.5 with no
        record; it then has no weight)."""
        g, b = self.reviews_good[merchant_idx], self.reviews_bad[merchant_idx]
        return np.where(g + b > 0, g / np.maximum(g + b, 1e-12), 0.5)

    def store_record(self, merchant_idx: np.ndarray) -> np.ndarray:
        """Reviews and complaints on the store's record."""
        return self.reviews_good[merchant_idx] + self.reviews_bad[merchant_idx]

    def score_weight(self, merchant_idx: np.ndarray) -> np.ndarray:
        """The weight consumers give a store's score over its claims: ``n / (n + prior)``
        for ``n`` on record; 0 when scores are not shown."""
        if not self.cfg.reputation.visible:
            return np.zeros(np.size(merchant_idx))
        n = self.store_record(merchant_idx)
        return n / (n + self.cfg.reputation.prior_reviews)

    def excess_se(self, merchant_idx: np.ndarray, category: np.ndarray) -> np.ndarray:
        """For each merchant, the larger excess (standard errors) of its recent complaint
        and return rates over its category's (:func:`sim.governance.excess_rate_se`)."""
        memory = self.cfg.governance.complaint_memory_days
        complaint_rate, return_rate = self.category_rates(
            category.max() + 1 if category.size else 0
        )
        n = self.deliveries_recent[merchant_idx] * memory
        complaints = self.complaints_recent[merchant_idx] * memory
        returns = self.returns_recent[merchant_idx] * memory
        return np.maximum(
            excess_rate_se(complaints, n, complaint_rate[category]),
            excess_rate_se(returns, n, return_rate[category]),
        )

    def category_rates(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(K,) recent complaints and returns per delivery in each category (the norms)."""
        category = self.merchant_category[: self.deliveries_recent.size]
        delivered = np.bincount(category, self.deliveries_recent, minlength=k)
        complaints = np.bincount(category, self.complaints_recent, minlength=k)
        returns = np.bincount(category, self.returns_recent, minlength=k)
        safe = np.maximum(delivered, 1e-12)
        return (
            np.where(delivered > 0, complaints / safe, 0.0),
            np.where(delivered > 0, returns / safe, 0.0),
        )

    def observe_sales(self, units_per_merchant: np.ndarray) -> None:
        """Recent units sold per day, per merchant (a one-week moving average)."""
        today = np.zeros_like(self.popularity)
        today[: units_per_merchant.size] = units_per_merchant
        self.popularity = ema(self.popularity, today, 7.0)

    # governance -------------------------------------------------------------------------------

    def charge_governance(self, amount_yuan: float) -> None:
        """Screening and investigations cost the platform money."""
        self.ledger.transfer(L.PLATFORM, L.OUTSIDE, amount_yuan, "governance_cost")

    def screen_launch(self, merchant: Merchant, day: int, skus: int) -> bool:
        """Phase 3: screen a merchant's product launch of ``skus`` listings (at a cost per
        listing). Returns True if it may go live, False if intercepted. Without governance
        nothing is screened."""
        if not self.rules.enabled:
            return True
        self.charge_governance(skus * self.rules.screening_cost_yuan)
        u = self.streams.generator("governance.screen", day, merchant.idx).random()
        return not screening_intercepts(merchant.violator, self.rules, u)

    # guarantee fund ---------------------------------------------------------------------------

    def take_deposit(self, merchant: Merchant) -> None:
        """An entrant posts its deposit (保证金), when the guarantee fund is on."""
        fund = self.cfg.guarantee_fund
        if fund.enabled and fund.deposit_yuan > 0:
            self.ledger.transfer(merchant.account, L.DEPOSITS, fund.deposit_yuan, "deposit")
            self.deposit_held[merchant.idx] += fund.deposit_yuan

    def settle_deposit(self, merchant: Merchant, forfeit: bool) -> float:
        """A merchant leaves: its deposit goes back to it, or to the platform when it was
        removed (forfeited). Returns the amount."""
        amount = float(self.deposit_held[merchant.idx])
        self.deposit_held[merchant.idx] = 0.0
        if forfeit:
            self.ledger.transfer(L.DEPOSITS, L.PLATFORM, amount, "deposit_forfeit")
        else:
            self.ledger.transfer(L.DEPOSITS, merchant.account, amount, "deposit_refund")
        return amount

    def compensate(
        self, merchant: np.ndarray, price_yuan: np.ndarray, at_fault: np.ndarray
    ) -> tuple[float, float]:
        """Pay buyers of disappointing orders who complained and kept the goods (a returned
        order was refunded already) from the guarantee fund (保障基金): ``compensation_share``
        of the price; recover what was paid for orders of a cheating product (``at_fault``)
        from that merchant's deposit, as far as it goes. All (m,). Returns (paid, recovered)."""
        fund = self.cfg.guarantee_fund
        if not fund.enabled or price_yuan.size == 0:
            return 0.0, 0.0
        pay = price_yuan * fund.compensation_share
        paid = float(pay.sum())
        self.ledger.transfer(L.PLATFORM, L.CONSUMERS, paid, "guarantee_payout")
        owed = np.bincount(merchant[at_fault], pay[at_fault], minlength=self.deposit_held.size)
        recovered = np.minimum(owed, self.deposit_held)
        self.deposit_held -= recovered
        total = float(recovered.sum())
        self.ledger.transfer(L.DEPOSITS, L.PLATFORM, total, "guarantee_recovery")
        return paid, total


def incremental_share(
    impressions: np.ndarray, paid: np.ndarray, category: np.ndarray, k: int
) -> np.ndarray:
    """Share of each listing's sales that its paid traffic added, against the counterfactual
    organic share (§7.11). Per listing (L,): impressions today, the paid part of them, and the
    category (in [0, k)).

    In a softmax a listing with share ``s`` of its category's impressions, whose weight paid
    traffic multiplied by ``f``, would have had the share ``s0 = s / (s + f (1 - s))``
    without it, the others' weights unchanged; ``f = 1 / (1 - paid share)``. The added share
    of its impressions, and (at an unchanged conversion rate) of its sales, is
    ``1 - s0 / s = 1 - 1 / (s + f (1 - s))``: the paid share for a small listing, less for a
    listing that would have been seen anyway, with diminishing returns as ``f`` grows."""
    imps = impressions.astype(np.float64)
    total = np.bincount(category, weights=imps, minlength=k)[category]
    s = np.divide(imps, total, out=np.zeros_like(imps), where=total > 0)
    paid_share = np.divide(paid, imps, out=np.zeros_like(imps), where=imps > 0)
    f = 1.0 / np.maximum(1.0 - np.minimum(paid_share, 1.0 - 1e-9), 1e-9)
    return np.where(imps > 0, 1.0 - 1.0 / (s + f * (1.0 - s)), 0.0)
