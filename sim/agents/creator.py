"""Creators (达人/主播) and merchants' own accounts (自播): choose offers (选品), earn
commissions and content income, learn which merchants' goods come back, and quit when income
stays below what their time is worth. Their output capacity (videos per day, live sessions per
week) becomes content in :mod:`sim.kernels.content`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import mesa
import numpy as np

from sim.arrays import ema
from sim.vocabulary import INDEPENDENT_CREATOR_KINDS

DROP_AFTER_SALES = 5
"""A creator drops an offer once at least this many of its units were delivered and more than
half of them came back."""

if TYPE_CHECKING:
    from sim.agents.merchant import Merchant
    from sim.catalog import Listings
    from sim.config import CreatorsConfig, LiveSessionsConfig
    from sim.ledger import Ledger


class Agency(Protocol):
    """What a creator knows of the MCN that signed it (:class:`sim.agents.mcn.Mcn`)."""

    account: int

    def share_of(self, commission_yuan: float) -> float: ...

    def receive_share(self, amount_yuan: float) -> None: ...

    def brokered_listings(self, creator: Creator, listings: Listings, day: int) -> np.ndarray: ...


@dataclass
class OfferRecord:
    """What a creator has learned about one merchant's goods."""

    fit: float
    """How well the goods fit the creator's audience: 0.25 + K x niche weight of the category."""
    sold: int = 0
    returned: int = 0
    days_carried: int = 0


class Creator(mesa.Agent):
    """One creator or own account. ``idx`` indexes every per-creator array in the model.

    Built with its config section (``cfg``, the scenario's ``creators``) and its ledger
    account; the MCN that signs it is its only link to another agent's money."""

    def __init__(
        self,
        model: mesa.Model,
        *,
        cfg: CreatorsConfig,
        ledger: Ledger,
        account: int,
        day: int,
        idx: int,
        kind: str,
        niche: np.ndarray,
        skill: float,
        videos_per_day: float,
        lives_per_week: float,
        reservation_yuan_per_day: float,
        talent: float = 1.0,
        owner: Merchant | None = None,
    ):
        super().__init__(model)
        self.cfg = cfg
        self.ledger = ledger
        self.account = account
        self.idx = idx
        self.kind = kind
        self.niche = niche  # (K,) weights summing to 1
        self.main_category = int(np.argmax(niche))
        self.skill = skill
        self.talent = talent  # >= 1, heavy-tailed: how engaging the content is (reach)
        self.videos_per_day = videos_per_day
        self.lives_per_week = lives_per_week
        self.reservation_yuan = reservation_yuan_per_day
        self.owner = owner
        self.mcn: Agency | None = None
        self.entry_day = day
        self.exit_day: int | None = None
        self.status = "active"
        self.offers: list[int] = [owner.idx] if owner is not None else []
        self.records: dict[int, OfferRecord] = {}
        self.next_selection_day = day
        self.income_today_yuan = 0.0
        """Cash received today (content income, commissions paid out, less MCN shares)."""
        self.income_total_yuan = 0.0
        self.earned_today_yuan = 0.0
        """Income earned today on accrual: content income, plus the expected kept part of the
        commissions on today's sales (net of the MCN's share), paid or not."""
        self.earned_total_yuan = 0.0
        """Lifetime income on accrual."""
        self.gmv_total_yuan = 0.0
        """Lifetime GMV of orders placed through the creator's content."""
        self.income_ema_yuan = reservation_yuan_per_day  # starts content with its prospects
        self.days_below_reservation = 0
        self.sales_total = 0
        self.committed: dict[int, int] = {}
        """Merchant idx -> last day of an announced session featuring it: the creator keeps
        carrying the offer until then."""
        self.session_units_ema: dict[bool, float] = {}
        """Units one featured offer of the creator's regular (False) and big (True) sessions
        was asked for, moving average over such sessions (absent before the first)."""

    @property
    def independent(self) -> bool:
        return self.kind in INDEPENDENT_CREATOR_KINDS

    @property
    def payee_account(self) -> int:
        """Where the account's income goes: an own account's to its merchant."""
        return self.owner.account if self.owner is not None else self.account

    @property
    def active(self) -> bool:
        return self.status == "active"

    # phase 2: exit ----------------------------------------------------------------------------

    def wants_to_quit(self) -> bool:
        """An independent creator quits after ``exit_patience_days`` with expected income (the
        moving average of income earned, commissions booked when the sale is made) below the
        reservation wage."""
        return self.independent and self.days_below_reservation >= self.cfg.exit_patience_days

    def leave(self, day: int) -> None:
        """Quit (or close, for an own account whose merchant left)."""
        self.status = "exited"
        self.exit_day = day
        self.remove()

    def join_mcn(self, mcn: Agency | None) -> None:
        """Sign with ``mcn`` (None: the contract ended)."""
        self.mcn = mcn

    def raise_skill(self, skill: float) -> None:
        """A service provider running the account brings its skill up to at least ``skill``."""
        self.skill = max(self.skill, skill)

    def train(self, gain: float) -> None:
        """MCN training closes ``gain`` of the gap to full skill."""
        self.skill += gain * (1.0 - self.skill)

    # phase 4: selection and content -----------------------------------------------------------

    def expected_earnings(self, listings: Listings, candidates: np.ndarray) -> np.ndarray:
        """Expected commission per day (yuan/day) from carrying each candidate listing:

            commission rate x price x keep belief x sales-rate estimate

        * keep belief: (kept + q x public score) / (sold + q), the platform's public quality
          score (口碑分; the prior when the platform hides scores) worth
          ``quality_prior_strength`` = q sales of the creator's own record;
        * sales rate: (sold + s x base x fit) / (days carried + s), where fit = 0.25 + K x the
          niche weight of the category, base is the creator's own units sold per day per unit
          of fit over everything it carried (1 before any record), and s =
          ``sales_prior_days``. What sold raises an offer's estimate; what did not lowers it.
        """
        cfg = self.cfg
        merchant = listings.merchant[candidates]
        fit = 0.25 + len(self.niche) * self.niche[listings.category[candidates]]
        records = [self.records.get(int(m)) for m in merchant]
        sold = np.array([r.sold if r else 0 for r in records], dtype=np.float64)
        returned = np.array([r.returned if r else 0 for r in records], dtype=np.float64)
        days = np.array([r.days_carried if r else 0 for r in records], dtype=np.float64)
        q = cfg.quality_prior_strength
        public = listings.public_quality[candidates].astype(np.float64)
        keep_belief = (sold - returned + q * public) / (sold + q)
        s = cfg.sales_prior_days
        rate = (sold + s * self.base_sales_rate() * fit) / (days + s)
        return (
            listings.commission_rate[candidates]
            * listings.price_yuan[candidates]
            * keep_belief
            * rate
        )

    def base_sales_rate(self) -> float:
        """Units sold per day per unit of fit, over every offer carried so far (1 before any)."""
        exposure = sum(r.days_carried * r.fit for r in self.records.values())
        sold = sum(r.sold for r in self.records.values())
        return (sold + 1.0) / (exposure + 1.0)

    def select_offers(
        self,
        listings: Listings,
        rng: np.random.Generator,
        day: int,
        on_sale: np.ndarray | None = None,
    ) -> None:
        """选品: every ``reselect_interval_days``, or when most carried offers are not live or
        sold out, pick ``offer_slots`` offers by a softmax over log expected earnings among a
        random sample of the selection market's listings on sale plus the offers an MCN
        brokers; offers featured in a session it announced are kept until the session.
        ``on_sale``: :meth:`sim.catalog.Listings.on_sale`, if already worked out today."""
        cfg = self.cfg
        if self.owner is not None or listings.n == 0:
            return
        # A sold-out offer earns nothing until it is made again: the creator replaces it.
        on_sale = listings.on_sale() if on_sale is None else on_sale
        live = [m for m in self.offers if (j := listings.of_merchant(m)) >= 0 and on_sale[j]]
        due = day >= self.next_selection_day
        if not due and len(live) * 2 >= len(self.offers) and self.offers:
            return
        n_sample = min(cfg.candidate_offers, listings.n)
        pool = listings.commissionable
        candidates = (
            rng.choice(pool, size=min(n_sample, pool.size), replace=False) if pool.size else pool
        )
        if self.mcn is not None:
            candidates = np.union1d(candidates, self.mcn.brokered_listings(self, listings, day))
        carried = np.array([listings.of_merchant(m) for m in live], dtype=np.int64)
        candidates = np.union1d(candidates, carried).astype(np.int64)
        candidates = candidates[on_sale[candidates]]
        if candidates.size == 0:
            self.offers = []
            return
        value = self.expected_earnings(listings, candidates)
        score = np.log(np.maximum(value, 1e-12))
        if cfg.selection_temperature > 0:
            score = score + cfg.selection_temperature * rng.gumbel(size=score.size)
        self.committed = {m: d for m, d in self.committed.items() if d >= day}
        kept = [m for m in self.committed if listings.of_merchant(m) >= 0][: cfg.offer_slots]
        ranked = [int(m) for m in listings.merchant[candidates[np.argsort(-score)]]]
        rest = [m for m in ranked if m not in kept]
        self.offers = kept + rest[: cfg.offer_slots - len(kept)]
        self.next_selection_day = day + cfg.reselect_interval_days

    def live_offers(self, listings: Listings) -> list[int]:
        """Listing indices of the carried offers that are live today."""
        return [j for j in (listings.of_merchant(m) for m in self.offers) if j >= 0]

    def note_carried(self, listings: Listings, live: list[int]) -> None:
        """Count a day of carrying each live offer (the exposure its sales are judged by)."""
        for j in live:
            m = int(listings.merchant[j])
            record = self.records.get(m)
            if record is None:
                record = self.records[m] = OfferRecord(fit=self.fit(int(listings.category[j])))
            record.days_carried += 1

    def expected_session_units(
        self, followers: float, live: LiveSessionsConfig, big: bool = False
    ) -> float:
        """What one featured offer of a session announced now is expected to be asked for:
        the record of past sessions of the kind, or before any, ``1 +
        prior_units_per_1000_followers x followers / 1000`` for a regular session and the
        regular expectation x exp(big_session_boost - session_boost) for a big one (its room
        drawn that much more)."""
        if big in self.session_units_ema:
            return self.session_units_ema[big]
        if big:
            lift = np.exp(live.big_session_boost - live.session_boost)
            return float(lift * self.expected_session_units(followers, live, False))
        return 1.0 + live.prior_units_per_1000_followers * followers / 1000.0

    def commit(self, merchants: tuple[int, ...], day: int) -> None:
        """Announce a session on ``day`` featuring ``merchants``: carry them until then."""
        for m in merchants:
            self.committed[m] = max(day, self.committed.get(m, day))

    def learn_session(
        self, units_asked_per_offer: float, memory_sessions: float, big: bool = False
    ) -> None:
        """After a session: fold the units one featured offer was asked for into the record
        of sessions of its kind (regular or big)."""
        previous = self.session_units_ema.get(big, units_asked_per_offer)
        self.session_units_ema[big] = ema(previous, units_asked_per_offer, memory_sessions)

    # phase 7-8: income and learning -----------------------------------------------------------

    def receive(self, amount_yuan: float) -> None:
        """Cash paid to the creator (content income, or a commission paid out)."""
        self.income_today_yuan += amount_yuan
        self.income_total_yuan += amount_yuan

    def earn(self, amount_yuan: float) -> None:
        """Income earned today on accrual (content income is earned and paid at once)."""
        self.earned_today_yuan += amount_yuan
        self.earned_total_yuan += amount_yuan

    def keep_rate(self) -> float:
        """Expected share of sold units that are kept: (kept + p x m) / (sold + m) over every
        offer's record, p = ``commission_keep_prior``, m = ``quality_prior_strength``."""
        sold = sum(r.sold for r in self.records.values())
        returned = sum(r.returned for r in self.records.values())
        m = self.cfg.quality_prior_strength
        return (sold - returned + self.cfg.commission_keep_prior * m) / (sold + m)

    def accrue_commission(self, commission_yuan: float) -> None:
        """Book the commissions on today's sales when they are made, not when they are paid
        out (after delivery and the payment delay): the expected kept share, net of the
        MCN's share."""
        net = commission_yuan * self.keep_rate()
        if self.mcn is not None:
            net -= self.mcn.share_of(net)
        self.earn(net)

    def learn_outcomes(self, merchant_idx: int, sold: int, returned: int) -> None:
        """Delivered orders through this creator: what sold, and what came back."""
        # The record exists: the offer was carried (phase 4) on the day the sale was made.
        record = self.records[merchant_idx]
        self.sales_total += sold
        record.sold += sold
        record.returned += returned
        if (
            self.owner is None
            and record.sold >= DROP_AFTER_SALES
            and record.returned > 0.5 * record.sold
        ):
            # Drop goods that mostly come back; the next selection replaces them.
            self.offers = [m for m in self.offers if m != merchant_idx]

    def fit(self, category: int) -> float:
        """How well a category fits the audience: 0.25 + K x the niche weight on it."""
        return 0.25 + len(self.niche) * float(self.niche[category])

    def end_day(self) -> None:
        """Phase 10: fold today's income earned (on accrual: commissions count on the day of
        the sale, not of the payout) into the moving average, the creator's expected income;
        count days it stays below the reservation wage."""
        cfg = self.cfg
        self.income_ema_yuan = ema(
            self.income_ema_yuan, self.earned_today_yuan, cfg.income_memory_days
        )
        self.earned_today_yuan = 0.0
        if self.income_ema_yuan < self.reservation_yuan:
            self.days_below_reservation += 1
        else:
            self.days_below_reservation = 0
        self.income_today_yuan = 0.0

    def pay_mcn_share(self, commission_yuan: float) -> None:
        """A signed creator passes its MCN's share of a commission on."""
        if self.mcn is not None and commission_yuan > 0:
            share = self.mcn.share_of(commission_yuan)
            self.ledger.transfer(self.account, self.mcn.account, share, "mcn_share")
            self.mcn.receive_share(share)
            self.income_today_yuan -= share
            self.income_total_yuan -= share
