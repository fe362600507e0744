"""MCNs (多频道网络机构) and service providers (服务商).

An MCN signs promising creators for a share of their commission income, trains them (their
skill rises), brokers screened offers to them and drops those who do not earn. A service
provider runs merchants' own accounts for a daily fee and helps a new merchant through its cold
start with a ranking boost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import ledger as L

if TYPE_CHECKING:
    from sim.agents.creator import Creator
    from sim.agents.merchant import Merchant
    from sim.catalog import Listings
    from sim.config import McnConfig, ServiceProviderConfig
    from sim.ledger import Ledger
    from sim.rng import Streams

MIN_DAYS_BEFORE_DROP = 30
"""An MCN judges a signed creator's income only after this many days under contract."""
FALSE_ALARM_FACTOR = 0.2
"""An MCN wrongly flags an honest merchant with chance (1 - accuracy) x this factor."""


class Mcn(mesa.Agent):
    """An MCN agency with a roster of signed creators. Built with its config section, the run's
    random streams (its judgements of merchants are keyed draws) and its ledger account."""

    def __init__(
        self,
        model: mesa.Model,
        *,
        cfg: McnConfig,
        streams: Streams,
        ledger: Ledger,
        account: int,
        idx: int,
    ):
        super().__init__(model)
        self.cfg = cfg
        self.streams = streams
        self.ledger = ledger
        self.account = account
        self.idx = idx
        self.roster: dict[Creator, int] = {}  # creator -> day signed
        self.flagged: dict[int, bool] = {}  # merchant idx -> judged a violator
        self.income_today_yuan = 0.0
        self.income_total_yuan = 0.0
        self.signed_total = 0
        self.dropped_total = 0

    @property
    def cash_yuan(self) -> float:
        return self.ledger.balance(self.account)

    # phase 2: contracts -----------------------------------------------------------------------

    def manage_roster(
        self,
        rng: np.random.Generator,
        day: int,
        independent: list[Creator],
        followers: np.ndarray,
    ) -> None:
        """Drop creators who do not earn, then scout on the scouting days among the active
        ``independent`` creators (``followers`` per creator idx)."""
        cfg = self.cfg
        for creator, signed_day in list(self.roster.items()):
            if (
                day - signed_day >= MIN_DAYS_BEFORE_DROP
                and creator.income_ema_yuan < cfg.drop_income_yuan_per_day
            ):
                self.release(creator)
                self.dropped_total += 1
        if (day + self.idx) % cfg.sign_interval_days == 0:
            self.scout(rng, day, independent, followers)

    def scout(
        self,
        rng: np.random.Generator,
        day: int,
        independent: list[Creator],
        followers: np.ndarray,
    ) -> None:
        """Offer contracts to the most promising unsigned creators of a random sample.

        Promise = skill + log(1 + followers) / 10 + min(income / reservation, 3) / 10.
        """
        cfg = self.cfg
        room = cfg.roster_max - len(self.roster)
        if room <= 0 or cfg.signings_per_round == 0:
            return
        free = [c for c in independent if c.mcn is None]
        if not free:
            return
        sample_size = min(len(free), 10 * cfg.signings_per_round)
        sample = [free[i] for i in rng.choice(len(free), size=sample_size, replace=False)]
        promise = [
            c.skill
            + np.log1p(int(followers[c.idx])) / 10
            + min(c.income_ema_yuan / max(c.reservation_yuan, 1.0), 3) / 10
            for c in sample
        ]
        for i in np.argsort(promise)[::-1][: min(room, cfg.signings_per_round)]:
            if rng.random() < cfg.accept_prob:
                self.sign(sample[int(i)], day)

    def sign(self, creator: Creator, day: int) -> None:
        creator.join_mcn(self)
        self.roster[creator] = day
        self.signed_total += 1

    def release(self, creator: Creator) -> None:
        creator.join_mcn(None)
        self.roster.pop(creator, None)

    def share_of(self, commission_yuan: float) -> float:
        """The MCN's share of a signed creator's commission."""
        return commission_yuan * self.cfg.revenue_share

    def receive_share(self, amount_yuan: float) -> None:
        self.income_today_yuan += amount_yuan

    # phase 4: brokering -----------------------------------------------------------------------

    def brokered_listings(self, creator: Creator, listings: Listings, day: int) -> np.ndarray:
        """Up to ``brokered_offers`` listings in the creator's niche with the best commission x
        price among a random half of the niche's listings (an MCN's merchant network is not
        the whole market), leaving out merchants the MCN judges to be violators (it recognises
        a violator with chance ``screening_accuracy``; its judgement of a merchant is made
        once)."""
        cfg = self.cfg
        if cfg.brokered_offers == 0 or listings.n == 0:
            return np.empty(0, dtype=np.int64)
        in_niche = np.flatnonzero(creator.niche[listings.category] > 0)
        network = self.streams.generator("mcn.network", self.idx, day).random(in_niche.size) < 0.5
        in_niche = in_niche[network]
        if in_niche.size == 0:
            return in_niche
        value = listings.commission_rate[in_niche] * listings.price_yuan[in_niche]
        ranked = in_niche[np.argsort(-value, kind="stable")]
        chosen = []
        for j in ranked:
            if not self._judged_violator(int(listings.merchant[j]), bool(listings.violator[j])):
                chosen.append(int(j))
                if len(chosen) == cfg.brokered_offers:
                    break
        return np.array(chosen, dtype=np.int64)

    def _judged_violator(self, merchant_idx: int, violator: bool) -> bool:
        if merchant_idx not in self.flagged:
            accuracy = self.cfg.screening_accuracy
            chance = accuracy if violator else (1 - accuracy) * FALSE_ALARM_FACTOR
            rng = self.streams.generator("mcn.screen", self.idx, merchant_idx)
            self.flagged[merchant_idx] = bool(rng.random() < chance)
        return self.flagged[merchant_idx]

    # phase 10: training -----------------------------------------------------------------------

    def train(self) -> None:
        """Signed creators close ``training_skill_gain_per_day`` of their gap to full skill; the
        MCN pays the training cost."""
        cfg = self.cfg
        for creator in self.roster:
            creator.train(cfg.training_skill_gain_per_day)
        cost = cfg.training_cost_yuan_per_creator_per_day * len(self.roster)
        self.ledger.transfer(self.account, L.OUTSIDE, cost, "training_cost")
        self.income_total_yuan += self.income_today_yuan
        self.income_today_yuan = 0.0


class ServiceProvider(mesa.Agent):
    """A service provider (服务商) running merchants' own accounts."""

    def __init__(
        self,
        model: mesa.Model,
        *,
        cfg: ServiceProviderConfig,
        ledger: Ledger,
        account: int,
        idx: int,
    ):
        super().__init__(model)
        self.cfg = cfg
        self.ledger = ledger
        self.account = account
        self.idx = idx
        self.clients: dict[Merchant, int] = {}  # merchant -> day taken on (insertion-ordered)

    @property
    def has_room(self) -> bool:
        return len(self.clients) < self.cfg.clients_max

    def take_client(self, merchant: Merchant, day: int) -> bool:
        """Run the merchant's own account and give it a cold start. Returns whether the
        merchant needs an own account opened (at the provider's skill); an existing one is
        brought up to that skill."""
        self.clients[merchant] = day
        merchant.hire(self, day + self.cfg.cold_start_days)
        if merchant.own_account is None:
            return True
        merchant.own_account.raise_skill(self.cfg.skill)
        return False

    def release(self, merchant: Merchant) -> None:
        self.clients.pop(merchant, None)
        merchant.release_provider()

    def collect_fees(self) -> None:
        fee = self.cfg.fee_yuan_per_day
        for merchant in self.clients:
            merchant.pay(self.account, fee, "service_fee")
