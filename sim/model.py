"""MarketModel: builds the market and advances it one day per step."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import mesa
import numpy as np

from sim import ledger as L
from sim.agents.creator import Creator
from sim.agents.mcn import Mcn, ServiceProvider
from sim.agents.merchant import LIVE, Merchant
from sim.agents.platform import Platform
from sim.arrays import ema
from sim.catalog import Content, Listings
from sim.config import CHANNELS, INDEPENDENT_CREATOR_KINDS, MERCHANT_KINDS, Scenario
from sim.events import DayConditions, conditions_on
from sim.kernels.consumer_day import (
    Chunk,
    Rules,
    Sampler,
    Tables,
    choose_engine,
    run_chunks,
)
from sim.kernels.content import produce_content
from sim.kernels.experience import dissatisfaction_probability, draw_outcomes, update_trust
from sim.kernels.matching import FOLLOW
from sim.kernels.purchase import PurchaseCoefficients, ration
from sim.kernels.sampling import index_by_category
from sim.ledger import Ledger
from sim.network import build_follow_graph
from sim.orders import AWAITING_PAYOUT, IN_TRANSIT, BuyerHistory, ColumnTable
from sim.population import NO_NEED, build_population
from sim.programs import Programs
from sim.recommenders import interest_exponent, score_items
from sim.rng import Streams, run_seed

N_CHANNELS = len(CHANNELS)
CHUNK_CONSUMERS = 1 << 16
"""Consumers per kernel call: bounds memory; results do not depend on it."""
INTENT_DTYPES = {
    "consumer": np.int64,
    "listing": np.int64,
    "creator": np.int64,
    "channel": np.int8,
    "paid_share": np.float64,
}
OWN_ACCOUNT_KIND = {kind: "brand_account" for kind in MERCHANT_KINDS} | {
    "heritage_craft": "heritage_artisan"
}
"""The creator kind of a merchant's own account: heritage craftspeople sell their own craft
(看见手艺); every other kind runs a brand or publisher account (自播)."""


@dataclass(frozen=True)
class BoughtShares:
    """For each impression, the share owed to paid traffic or to a program's boost:
    1 - exp(-log-weight they added). Per content item (I,) and per listing on the shelf (L,)."""

    item_paid: np.ndarray
    item_listing_program: np.ndarray
    item_creator_program: np.ndarray
    shelf_paid: np.ndarray
    shelf_program: np.ndarray


@dataclass
class DayStats:
    """What happened today; the metrics read it in phase 11."""

    active_consumers: int = 0
    impressions: np.ndarray = field(default_factory=lambda: np.zeros(N_CHANNELS, dtype=np.int64))
    orders: np.ndarray = field(default_factory=lambda: np.zeros(N_CHANNELS, dtype=np.int64))
    gmv_yuan: np.ndarray = field(default_factory=lambda: np.zeros(N_CHANNELS))
    gmv_by_kind_yuan: dict[str, float] = field(default_factory=dict)
    violator_gmv_yuan: float = 0.0
    new_customer_orders: int = 0
    buyers: int = 0
    repurchasing_buyers: int = 0
    stockout_units: int = 0
    intents: int = 0
    delivered: int = 0
    returns: int = 0
    complaints: int = 0
    dissatisfied: int = 0
    quality_gmv_yuan: float = 0.0
    consumer_surplus_yuan: float = 0.0
    consumers_left: int = 0
    merchant_entries: int = 0
    merchant_exits: int = 0
    creator_entries: int = 0
    creator_exits: int = 0
    follows_gained: int = 0
    follows_lost: int = 0
    listing_impressions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Impressions per listing today, over all channels."""
    active: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    """(n,) which consumers opened the app today."""
    merchant_profit_honest_yuan: float = 0.0
    merchant_profit_violator_yuan: float = 0.0
    violator_exits: int = 0
    stockouts_by_kind: np.ndarray = field(
        default_factory=lambda: np.zeros(len(MERCHANT_KINDS), dtype=np.int64)
    )
    merchant_margin_yuan: float = 0.0
    """Merchants' sales net of take rate and commission, less unit costs and traffic fees."""
    program_traffic_value_yuan: float = 0.0
    """The traffic programs gave today, valued at CPM."""


def relative(values: np.ndarray) -> np.ndarray:
    """Values over their mean (0 where the mean is 0): popularity the same in any market size."""
    mean = float(values.mean()) if values.size else 0.0
    return values / mean if mean > 0 else np.zeros_like(values)


class MarketModel(mesa.Model):
    """An interest e-commerce market: consumers (a vectorised population), creators, merchants,
    MCNs, service providers and the platform (mesa agents), on a follow network, with every
    yuan moving through one ledger.

    ``seed`` is the root seed (default: the scenario's); ``seed_index`` picks the run in a sweep
    (:func:`sim.rng.run_seed`), so ``MarketModel(config)`` is run 0 of ``config.seed``.
    ``engine`` (``"numpy"`` or ``"numba"``) and ``threads`` choose how the consumer kernel runs;
    they change the speed, never the results (default: numba when installed, one thread per
    CPU; the environment variables ZHONGCAO_ENGINE and ZHONGCAO_THREADS set other defaults).
    """

    def __init__(
        self,
        config: Scenario,
        seed: int | None = None,
        seed_index: int = 0,
        engine: str | None = None,
        threads: int | None = None,
    ):
        root = config.seed if seed is None else seed
        self.engine, self.threads = choose_engine(engine, threads)
        streams = Streams(run_seed(root, seed_index))
        super().__init__(seed=streams.seed_int("mesa"))
        self.config = config
        self.streams = streams
        self.root_seed = root
        self.seed_index = seed_index
        self.day = 0
        self.category_names = list(config.market.categories)
        self.k = len(self.category_names)
        cats = list(config.market.categories.values())
        self.reference_price = np.array([c.reference_price_yuan for c in cats])
        self.need_weight = np.array([c.need_weight for c in cats])
        self.ledger = Ledger()
        self.today = DayStats()
        self.conditions = conditions_on(config.events, 0, config.market.regions)
        self.merchants: list[Merchant] = []
        self.creators: list[Creator] = []
        self.listings: Listings | None = None
        self.content: Content | None = None
        self.history = BuyerHistory()
        self.in_transit = ColumnTable(IN_TRANSIT)
        self.awaiting_payout = ColumnTable(AWAITING_PAYOUT)
        self.merchant_margin_ema = 0.0
        self.merchant_overhead_ema = 0.0
        self.units_sold_today = np.zeros(0)
        self.content_impressions = np.zeros(0, dtype=np.int64)  # per creator, today
        # Today's impressions bought by paid traffic (per listing) and given by programs (per
        # listing and per content item), as sums of shares.
        self.bought_paid = np.zeros(0)
        self.bought_listing_program = np.zeros(0)
        self.bought_item_program = np.zeros(0)
        self.programs = Programs.from_config(config.programs, self.category_names)
        self.merchant_program = np.zeros(0, dtype=np.int64)  # program serving each merchant today
        self.metrics: dict[str, float] = {}
        self.phase_seconds: dict[str, float] = {}
        """Wall time spent in each phase since the model was built."""

        self.platform = Platform(self)
        self.population = build_population(
            config, config.population.consumers, streams, interest_exponent(config)
        )
        for _ in range(config.population.merchants):
            self._new_merchant(initial=True)
        for _ in range(config.population.creators):
            self._new_creator()
        self.mcns = [Mcn(self, idx=i) for i in range(config.population.mcns)]
        self.providers = [
            ServiceProvider(self, idx=i) for i in range(config.population.service_providers)
        ]
        # Heavy-tailed popularity: the kind's weight times a log-normal factor.
        weights = np.array(
            [c.popularity_weight for c in self._creator_kind_cfgs()]
        ) * streams.generator("follows.popularity").lognormal(0.0, 1.0, len(self.creators))
        self.follows = build_follow_graph(
            self.population.interest,
            np.array([c.main_category for c in self.creators], dtype=np.int64),
            weights,
            config.consumers.initial_follows_mean,
            config.consumers.max_follows,
            config.consumers.initial_creator_trust,
            streams,
        )
        self.follows.ensure_creators(len(self.creators))

    # ------------------------------------------------------------------------------------------
    # Construction
    # ------------------------------------------------------------------------------------------

    def _creator_kind_cfgs(self):
        kinds = self.config.creators.kinds
        return [kinds[c.kind] for c in self.creators]

    def _new_merchant(self, initial: bool) -> Merchant:
        """A merchant drawn from its own stream (keyed by its index), so that what one
        merchant is does not depend on how others were drawn."""
        rng = self.streams.generator("merchant", len(self.merchants))
        cfg = self.config.merchants
        kinds = list(cfg.kinds)
        shares = np.array([cfg.kinds[k].share for k in kinds])
        kind = kinds[int(rng.choice(len(kinds), p=shares / shares.sum()))]
        kc = cfg.kinds[kind]
        category = self.category_names.index(kc.categories[int(rng.integers(len(kc.categories)))])
        violator = bool(
            rng.random() < (cfg.violator_share if initial else cfg.entrant_violator_share)
        )
        ref = self.reference_price[category]
        honest_cost = ref * kc.unit_cost_share * rng.lognormal(0.0, 0.2)
        if violator:
            true_q = float(np.clip(rng.normal(cfg.violator_true_quality_mean, 0.05), 0.01, 1.0))
            claimed_q = cfg.violator_claimed_quality
            unit_cost = honest_cost * cfg.violator_cost_factor
        else:
            true_q = float(np.clip(rng.normal(kc.true_quality_mean, kc.true_quality_sd), 0.05, 1.0))
            claimed_q = min(1.0, true_q + cfg.honest_claim_puffery)
            unit_cost = honest_cost
        # A violator prices like an honest seller of what it claims to sell.
        markup = max(1.1, rng.normal(cfg.markup_mean, cfg.markup_sd))
        price = honest_cost * markup
        capacity = kc.capacity_units_per_day_median * rng.lognormal(0.0, kc.capacity_sigma)
        commission = float(
            np.clip(rng.normal(cfg.commission_rate_mean, 0.05), 0.01, cfg.commission_rate_max)
        )
        merchant = Merchant(
            self,
            idx=len(self.merchants),
            kind=kind,
            category=category,
            region=int(rng.integers(self.config.market.regions)),
            violator=violator,
            true_quality=true_q,
            claimed_quality=claimed_q,
            unit_cost_yuan=unit_cost,
            price_yuan=price,
            commission_rate=commission,
            capacity_units_per_day=capacity,
            traffic_budget_yuan_per_day=cfg.traffic_budget_share * price * capacity * 0.25,
            fixed_cost_yuan_per_day=kc.fixed_cost_yuan_per_day,
            cash_yuan=kc.initial_cash_yuan,
        )
        if initial:
            # Incumbents start with their usual stock, bought before the simulation begins.
            merchant.stock = int(cfg.learning.stock_cover_days * merchant.demand_ema)
        self.merchants.append(merchant)
        self.platform.ensure_merchants(len(self.merchants))
        if rng.random() < kc.own_account_share:
            self.open_own_account(merchant)
        if (
            not initial
            and self.providers
            and rng.random() < self.config.service_providers.hire_prob_on_entry
        ):
            with_room = [p for p in self.providers if p.has_room]
            if with_room:
                min(with_room, key=lambda p: (len(p.clients), p.idx)).take_client(merchant)
        return merchant

    def open_own_account(self, merchant: Merchant, skill: float | None = None) -> Creator:
        """Give a merchant its own account (自播): a creator agent that presents only its goods."""
        kind = OWN_ACCOUNT_KIND[merchant.kind]
        kc = self.config.creators.kinds[kind]
        rng = self.streams.generator("own_account", merchant.idx)
        niche = np.zeros(self.k)
        niche[merchant.category] = 1.0
        if skill is None:
            skill = float(np.clip(rng.normal(kc.skill_mean, kc.skill_sd), 0.05, 1.0))
        creator = Creator(
            self,
            idx=len(self.creators),
            kind=kind,
            niche=niche,
            skill=skill,
            videos_per_day=kc.videos_per_day,
            lives_per_week=kc.lives_per_week,
            reservation_yuan_per_day=kc.reservation_yuan_per_day,
            owner=merchant,
        )
        self.creators.append(creator)
        merchant.own_account = creator
        if hasattr(self, "follows"):
            self.follows.ensure_creators(len(self.creators))
        return creator

    def _new_creator(self) -> Creator:
        """An independent creator drawn from its own stream (keyed by its index)."""
        rng = self.streams.generator("creator", len(self.creators))
        cfg = self.config.creators
        kinds = list(INDEPENDENT_CREATOR_KINDS)
        shares = np.array([cfg.kinds[k].share for k in kinds])
        kind = kinds[int(rng.choice(len(kinds), p=shares / shares.sum()))]
        kc = cfg.kinds[kind]
        niche = np.zeros(self.k)
        cats = [self.category_names.index(c) for c in kc.niche]
        niche[cats] = rng.dirichlet(np.ones(len(cats)))
        creator = Creator(
            self,
            idx=len(self.creators),
            kind=kind,
            niche=niche,
            skill=float(np.clip(rng.normal(kc.skill_mean, kc.skill_sd), 0.05, 1.0)),
            videos_per_day=kc.videos_per_day,
            lives_per_week=kc.lives_per_week,
            reservation_yuan_per_day=kc.reservation_yuan_per_day,
        )
        self.creators.append(creator)
        if hasattr(self, "follows"):
            self.follows.ensure_creators(len(self.creators))
        return creator

    # ------------------------------------------------------------------------------------------
    # Lookups
    # ------------------------------------------------------------------------------------------

    def merchant(self, idx: int) -> Merchant:
        return self.merchants[idx]

    def active_merchants(self) -> list[Merchant]:
        return list(self.agents_by_type.get(Merchant, []))

    def active_creators(self) -> list[Creator]:
        return list(self.agents_by_type.get(Creator, []))

    def independent_creators(self) -> list[Creator]:
        return [c for c in self.active_creators() if c.independent]

    # ------------------------------------------------------------------------------------------
    # The day
    # ------------------------------------------------------------------------------------------

    def step(self) -> None:
        """Advance the market by one day. Phases, in order:

        1. events: the calendar sets the day's conditions (festivals, logistics shocks);
        2. entry and exit: bankrupt merchants and unpaid creators leave, new ones arrive while
           the market pays; MCNs drop, scout and sign creators;
        3. listing: merchants list products (the platform screens new listings and intercepts
           some), produce to a stock target and pay overheads and service fees; programs pick
           whom they serve;
        4. content: creators choose offers (选品) and produce short videos and live sessions;
        5. matching: the recommender scores the day's content; each active consumer's
           impressions from every enabled channel (feed, live, follow, search, mall), by the
           consumer kernel, chunk by chunk of consumers;
        6. purchase: impressions become orders within budget, then stock rations them;
        7. settlement: payments into escrow, traffic fees, content income, program costs, and
           payouts of orders whose payment delay has passed (take rate, commission, MCN share,
           merchant);
        8. delivery and experience: true quality is revealed; returns, complaints, reviews,
           guarantee-fund payouts, trust, follows and unfollows; some consumers leave;
        9. governance: the quality estimate learns from feedback; risky listings are delisted,
           merchants investigated, products banned, merchants fined and removed;
        10. learning: merchants adapt price, commission and traffic; creators fold in income;
            MCNs train their creators;
        11. record: the ledger is checked and the day's metrics computed.
        """
        day = self.day
        self.ledger.start_day()
        self.platform.start_day()
        self.programs.start_day()
        self.today = DayStats()
        cash_before = self._merchant_cash()
        n_before = cash_before.size

        timed = self._timed
        self.conditions = timed("events", self._phase_events, day)
        timed("entry_exit", self._phase_entry_exit, day)
        self.listings = timed("listing", self._phase_listing)
        self.content = timed("content", self._phase_content, self.listings)
        intents, follow_events = timed(
            "matching_purchase", self._phase_matching_and_intents, self.listings, self.content
        )
        orders = timed("purchase", self._phase_purchase, intents, self.listings)
        timed("settlement", self._phase_settlement, orders, self.listings, self.content)
        timed("settlement", self._apply_follow_events, follow_events)
        feedback = timed("delivery", self._phase_delivery, day)
        timed("governance", self._phase_governance, day, feedback)
        timed("learning", self._phase_learning)
        timed("record", self._merchant_profit, cash_before, n_before)
        timed("record", self._phase_record, day)
        self.day += 1

    def _timed(self, phase: str, fn, *args):
        """Run one phase and add its wall time to :attr:`phase_seconds` (for the benchmark)."""
        start = time.perf_counter()
        result = fn(*args)
        self.phase_seconds[phase] = self.phase_seconds.get(phase, 0.0) + time.perf_counter() - start
        return result

    def _merchant_profit(self, cash_before: np.ndarray, n_before: int) -> None:
        """Merchants' profit today: change of cash, less the starting capital entrants brought."""
        cash = self._merchant_cash()
        profit = cash - np.r_[cash_before, np.zeros(cash.size - n_before)]
        profit[n_before:] -= [m.initial_cash_yuan for m in self.merchants[n_before:]]
        violator = np.array([m.violator for m in self.merchants], dtype=bool)
        self.today.merchant_profit_honest_yuan = float(profit[~violator].sum())
        self.today.merchant_profit_violator_yuan = float(profit[violator].sum())

    # 1 -----------------------------------------------------------------------------------------

    def _phase_events(self, day: int) -> DayConditions:
        return conditions_on(self.config.events, day, self.config.market.regions)

    # 2 -----------------------------------------------------------------------------------------

    def _phase_entry_exit(self, day: int) -> None:
        rng = self.streams.generator("entry_exit", day)
        for merchant in self.active_merchants():
            merchant.check_solvency()
        for creator in self.independent_creators():
            if creator.wants_to_quit():
                creator.leave()
                self.today.creator_exits += 1
        if day > 0:
            self._entries(rng)
        for mcn in self.mcns:
            mcn.manage_roster(rng)

    def _entries(self, rng: np.random.Generator) -> None:
        """New merchants and creators arrive at Poisson rates that follow how well the
        incumbents do: incumbents x entry share x clip(earnings ratio / 2, 0, 3), where the
        ratio is merchants' gross margin over overheads, or creators' mean income over their
        reservation wage."""
        cfg = self.config
        margin_ratio = self.merchant_margin_ema / max(self.merchant_overhead_ema, 1e-9)
        incumbents = max(len(self.active_merchants()), 1)
        n_merchants = rng.poisson(
            incumbents * cfg.merchants.entry_share_per_day * np.clip(margin_ratio / 2, 0, 3)
        )
        creators = self.independent_creators()
        income_ratio = (
            float(np.mean([c.income_ema_yuan / max(c.reservation_yuan, 1.0) for c in creators]))
            if creators
            else 2.0
        )
        n_creators = rng.poisson(
            max(len(creators), 1)
            * cfg.creators.entry_share_per_day
            * np.clip(income_ratio / 2, 0, 3)
        )
        for _ in range(n_merchants):
            self._new_merchant(initial=False)
        for _ in range(n_creators):
            self._new_creator()
        self.today.merchant_entries += int(n_merchants)
        self.today.creator_entries += int(n_creators)

    # 3 -----------------------------------------------------------------------------------------

    def _phase_listing(self) -> Listings:
        merchants = self.active_merchants()
        shocked = self.conditions.shocked_regions
        for merchant in merchants:
            merchant.prepare_listing()
            merchant.produce(
                self.conditions.capacity_multiplier if shocked[merchant.region] else 1.0
            )
        for provider in self.providers:
            provider.collect_fees()
        # Programs serving each merchant today: boosts, and a recovery plan's terms (waived
        # take rate, payment delay, shipping insurance).
        service = self.programs.for_merchants(merchants, self.day, shocked)
        self.merchant_program = np.full(len(self.merchants), -1, dtype=np.int64)
        self.merchant_program[[m.idx for m in merchants]] = service.recovery_program
        live_mask = np.array([m.listing == LIVE for m in merchants], dtype=bool)
        live = [m for m in merchants if m.listing == LIVE]
        program, program_boost = service.boost_program[live_mask], service.boost[live_mask]
        recovery = service.recovery_program[live_mask]
        idx = np.array([m.idx for m in live], dtype=np.int64)
        merchant_to_listing = np.full(len(self.merchants), -1, dtype=np.int64)
        merchant_to_listing[idx] = np.arange(idx.size)
        platform = self.platform
        take_rate = np.array([platform.take_rate_for(m) for m in live], dtype=np.float64)
        free = np.array([self._commission_free(p) for p in recovery], dtype=bool)
        waived = np.where(free, take_rate, 0.0)
        take_rate = take_rate - waived
        return Listings(
            merchant=idx,
            category=np.array([m.category for m in live], dtype=np.int64),
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
            paid_boost=np.array([platform.paid_boost(m) for m in live], dtype=np.float32),
            boost=(np.array([platform.boost(m) for m in live]) + program_boost).astype(np.float32),
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

    def _commission_free(self, program: int) -> bool:
        plan = self.programs.recovery(int(program))
        return plan is not None and plan.commission_free

    def _payment_delay(self, merchant: np.ndarray) -> np.ndarray:
        """Payment delay (days) for kept orders of each merchant idx: a recovery plan's when
        one serves the merchant today, else the platform's."""
        delay = np.full(merchant.size, self.config.platform.payment_delay_days, dtype=np.int64)
        for p in np.unique(self.merchant_program[merchant]):
            plan = self.programs.recovery(int(p))
            if plan is not None and plan.payment_delay_days is not None:
                delay[self.merchant_program[merchant] == p] = plan.payment_delay_days
        return delay

    # 4 -----------------------------------------------------------------------------------------

    def _phase_content(self, listings: Listings) -> Content:
        rng = self.streams.generator("content", self.day)
        creators = self.active_creators()
        for creator in creators:
            creator.select_offers(listings, rng)
        carried = [creator.live_offers(listings) for creator in creators]
        for creator, live in zip(creators, carried, strict=True):
            creator.note_carried(listings, live)
        count = np.array([len(x) for x in carried], dtype=np.int64)
        items = produce_content(
            offer_start=np.cumsum(count) - count,
            offer_count=count,
            offer_listing=np.array([j for x in carried for j in x], dtype=np.int64),
            videos_per_day=np.array([c.videos_per_day for c in creators]),
            lives_per_week=np.array([c.lives_per_week for c in creators]),
            skill=np.array([c.skill for c in creators]),
            niche=np.array([c.niche for c in creators]).reshape(len(creators), self.k),
            listing_category=listings.category,
            rng=rng,
        )
        creator_idx = np.array([c.idx for c in creators], dtype=np.int64)
        program, boost = self.programs.for_new_creators(
            np.array([c.entry_day for c in creators], dtype=np.int64),
            np.array([c.independent for c in creators], dtype=bool),
            self.day,
        )
        return Content.from_items(
            creator_idx[items.creator_row],
            items.listing,
            items.is_live,
            items.appeal,
            len(self.creators),
            program[items.creator_row],
            boost[items.creator_row],
        )

    def _day_tables(self, listings: Listings, content: Content) -> tuple[Tables, BoughtShares]:
        """The day's samplers and lookups for the consumer kernel, and the shares of
        impressions bought by paid traffic and programs."""
        cfg = self.config.platform
        scores = score_items(cfg.recommender, content, listings)
        k = self.k
        item_category = (
            listings.category[content.listing] if content.n else np.empty(0, dtype=np.int64)
        )

        def index(mask: np.ndarray):
            if not mask.any():
                return None
            ids = np.flatnonzero(mask)
            logw = scores.item_log_weight[ids]
            weights = np.zeros(content.n)
            weights[ids] = np.exp(logw - logw.max())
            return index_by_category(item_category, weights, k)

        feed = index(~content.is_live) if content.n else None
        live = index(content.is_live) if content.n else None
        shelf_cfg = cfg.shelf_ranking
        shelf = None
        shelf_paid = np.zeros(listings.n)
        log_price_ratio = np.log(listings.price_yuan / self.reference_price[listings.category])
        if listings.n:
            shelf_paid = shelf_cfg.paid_weight * listings.paid_boost.astype(np.float64)
            # listings.boost holds the program boost too: the shelf adds boosts at weight 1.
            log_w = (
                shelf_cfg.quality_weight * (listings.est_quality - 0.5)
                + shelf_cfg.sales_weight * np.log1p(listings.popularity)
                - shelf_cfg.price_weight * log_price_ratio
                + shelf_paid
                + listings.boost
            )
            shelf = index_by_category(listings.category, np.exp(log_w - log_w.max()), k)
        tables = Tables(
            feed=Sampler.of(feed, k),
            live=Sampler.of(live, k),
            shelf=Sampler.of(shelf, k),
            creator_start=content.creator_start.astype(np.int64),
            creator_count=content.creator_count.astype(np.int64),
            item_listing=content.listing.astype(np.int64),
            item_creator=content.creator.astype(np.int64),
            item_appeal=content.appeal.astype(np.float64),
            item_is_live=content.is_live,
            listing_category=listings.category.astype(np.int64),
            listing_claimed=listings.claimed_quality.astype(np.float64),
            listing_log_price_ratio=log_price_ratio,
            listing_price_yuan=listings.price_yuan.astype(np.float64),
        )
        shares = BoughtShares(
            item_paid=-np.expm1(-scores.paid_log_weight),
            item_listing_program=-np.expm1(-scores.listing_program_log_weight),
            item_creator_program=-np.expm1(-scores.creator_program_log_weight),
            shelf_paid=-np.expm1(-shelf_paid),
            shelf_program=-np.expm1(-listings.program_boost),
        )
        return tables, shares

    # 5 and 6 -----------------------------------------------------------------------------------

    def _day_rules(self) -> Rules:
        c = self.config.consumers
        p = c.purchase
        ch = self.config.platform.channels
        return Rules(
            channels=np.array([ch.feed, ch.live, ch.follow, ch.search, ch.mall], dtype=bool),
            shares=np.array([c.feed_share, c.live_share, c.follow_share]),
            active_multiplier=self.conditions.active_prob_multiplier,
            need_prob=c.need_prob_per_day,
            need_weight=self.need_weight.astype(np.float64),
            search_share=c.search_share_of_needs,
            results_per_need=c.results_per_need,
            mall_browse_prob=c.mall_browse_prob,
            loyalty_prob=self.config.platform.shelf_ranking.loyalty_prob,
            coefficients=PurchaseCoefficients(
                base_logit=np.array([getattr(p.base_logit, name) for name in CHANNELS]),
                interest_coef=p.interest_coef,
                creator_trust_coef=p.creator_trust_coef,
                live_urgency_logit=p.live_urgency_logit,
                platform_trust_coef=p.platform_trust_coef,
                need_match_logit=p.need_match_logit,
                claimed_quality_coef=p.claimed_quality_coef,
                appeal_coef=p.appeal_coef,
                price_coef=p.price_coef,
            ),
            event_logit=self.conditions.purchase_logit,
            follow_after_view_prob=c.follow_after_view_prob,
        )

    def _chunks(self, favorite_listing: np.ndarray):
        """The population in chunks of :data:`CHUNK_CONSUMERS`: views of its arrays, as
        stored (the kernel widens each value to float64 as it reads it)."""
        pop = self.population
        follows = self.follows
        for start in range(0, pop.n, CHUNK_CONSUMERS):
            sl = slice(start, min(start + CHUNK_CONSUMERS, pop.n))
            yield Chunk(
                index=np.arange(sl.start, sl.stop, dtype=np.int64),
                on_platform=pop.on_platform[sl],
                active_prob=pop.active_prob[sl],
                attention=pop.attention[sl],
                need_category=pop.need_category[sl],
                favorite_listing=favorite_listing[sl],
                interest=pop.interest[sl],
                affinity=pop.affinity[sl],
                log_affinity=pop.log_affinity[sl],
                follow_creator=follows.creator[sl],
                follow_trust=follows.trust[sl],
                follow_count=follows.count[sl],
                platform_trust=pop.platform_trust[sl],
                price_sensitivity=pop.price_sensitivity[sl],
                budget_yuan=pop.budget_yuan[sl],
            )

    def _phase_matching_and_intents(self, listings: Listings, content: Content):
        """Phases 5 and 6 up to stock: the consumer kernel decides, chunk by chunk, who is
        active, what they see in each channel, what they want to buy (within budget) and whom
        they follow after viewing. Returns the purchase intents (a dict of (k,) arrays, in
        consumer order) and the (consumers, creators) who follow after viewing."""
        pop = self.population
        day = self.day
        # Open needs age; lapsed ones close.
        has_need = pop.need_category >= 0
        pop.need_days_left[has_need] -= 1
        pop.need_category[has_need & (pop.need_days_left <= 0)] = NO_NEED

        tables, shares = self._day_tables(listings, content)
        rules = self._day_rules()
        key = self.streams.key("consumers", day)
        favorite_listing = np.where(
            pop.favorite_merchant >= 0,
            listings.merchant_to_listing[np.maximum(pop.favorite_merchant, 0)],
            -1,
        )
        content_imps = np.zeros(content.n, dtype=np.int64)
        follow_imps = np.zeros(content.n, dtype=np.int64)
        shelf_imps = np.zeros(listings.n, dtype=np.int64)
        intents, follows = [], []
        patience = self.config.consumers.need_patience_days
        self.today.active = np.zeros(pop.n, dtype=bool)
        chunks = self._chunks(favorite_listing)
        for chunk, out in run_chunks(self.engine, chunks, tables, rules, key, self.threads):
            sl = slice(int(chunk.index[0]), int(chunk.index[-1]) + 1)
            arrived = out.new_need >= 0
            pop.need_category[sl][arrived] = out.new_need[arrived]
            pop.need_days_left[sl][arrived] = patience
            self.today.active[sl] = out.active
            self.today.active_consumers += int(out.active.sum())
            self.today.impressions += out.channel_impressions
            content_imps += out.content_impressions
            follow_imps += out.follow_impressions
            shelf_imps += out.shelf_impressions
            follows.append((chunk.index[out.follow_row], out.follow_creator))
            item = out.intent_item
            has_item = item >= 0
            safe = np.maximum(item, 0)
            intents.append(
                {
                    "consumer": chunk.index[out.intent_row],
                    "listing": out.intent_listing,
                    "creator": np.where(
                        has_item, tables.item_creator[safe] if content.n else -1, -1
                    ),
                    "channel": out.intent_channel.astype(np.int8),
                    # The paid share of the impression that sold: organic in the following feed.
                    "paid_share": np.where(
                        has_item,
                        np.where(
                            out.intent_channel == FOLLOW,
                            0.0,
                            shares.item_paid[safe] if content.n else 0.0,
                        ),
                        shares.shelf_paid[out.intent_listing],
                    ),
                }
            )
        self._count_bought_impressions(
            listings, content, shares, content_imps, follow_imps, shelf_imps
        )
        merged = {
            key: np.concatenate([x[key] for x in intents]) if intents else np.empty(0, dtype)
            for key, dtype in INTENT_DTYPES.items()
        }
        return merged, follows

    def _count_bought_impressions(
        self, listings, content, shares, content_imps, follow_imps, shelf_imps
    ) -> None:
        """Impressions per listing and per creator, and the shares of them paid traffic and
        programs bought: counts (exact integers) times each item's or listing's share, summed
        in a fixed order, so the result does not depend on how consumers were processed."""
        listing_of_item = content.listing
        self.today.listing_impressions = shelf_imps + np.bincount(
            listing_of_item, content_imps + follow_imps, minlength=listings.n
        ).astype(np.int64)
        self.content_impressions = np.bincount(
            content.creator, content_imps + follow_imps, minlength=len(self.creators)
        ).astype(np.int64)
        self.bought_paid = shelf_imps * shares.shelf_paid + np.bincount(
            listing_of_item, content_imps * shares.item_paid, minlength=listings.n
        )
        self.bought_listing_program = shelf_imps * shares.shelf_program + np.bincount(
            listing_of_item, content_imps * shares.item_listing_program, minlength=listings.n
        )
        self.bought_item_program = content_imps * shares.item_creator_program

    def _phase_purchase(self, intents: dict, listings: Listings) -> dict:
        """Phase 6, stock: ration intents per listing; record stock-outs, new customers and
        closed needs. Returns the filled orders."""
        rng = self.streams.generator("ration", self.day)
        filled = ration(intents["listing"], listings.stock, rng)
        self.today.intents = int(filled.size)
        self.today.stockout_units = int((~filled).sum())
        demanded = np.bincount(intents["listing"], minlength=listings.n)
        short = intents["listing"][~filled]
        self.today.stockouts_by_kind = np.bincount(
            listings.kind[short], minlength=len(MERCHANT_KINDS)
        )
        orders = {k: v[filled] for k, v in intents.items()}
        j = orders["listing"]
        consumer = orders["consumer"]
        merchant = listings.merchant[j]
        orders["merchant"] = merchant
        orders["price_yuan"] = listings.price_yuan[j]
        seen = self.history.seen(consumer, merchant)
        self.today.new_customer_orders = int((~seen).sum())
        self.today.buyers = int(np.unique(consumer).size)
        self.today.repurchasing_buyers = int(np.unique(consumer[seen]).size)
        self.history.add(consumer, merchant)
        pop = self.population
        met = pop.need_category[consumer] == listings.category[j]
        pop.need_category[consumer[met]] = NO_NEED
        # Sales per listing, back to the merchants.
        sold = np.bincount(j, minlength=listings.n)
        # A merchant's own account earns no commission on its own goods.
        commissioned = (orders["creator"] >= 0) & (orders["creator"] != listings.own_account[j])
        orders["commission_rate"] = np.where(commissioned, listings.commission_rate[j], 0.0).astype(
            np.float32
        )
        orders["take_rate"] = listings.take_rate[j]
        net = orders["price_yuan"] * (1 - orders["take_rate"] - orders["commission_rate"])
        net_by_listing = np.bincount(j, weights=net, minlength=listings.n)
        creator_units = np.bincount(j[commissioned], minlength=listings.n)
        paid_units = np.bincount(j, weights=orders["paid_share"], minlength=listings.n)
        for jj in np.flatnonzero(demanded):
            self.merchants[int(listings.merchant[jj])].record_sales(
                int(sold[jj]),
                int(demanded[jj]),
                int(creator_units[jj]),
                float(paid_units[jj]),
                float(net_by_listing[jj]),
            )
        self.units_sold_today = np.bincount(merchant, minlength=len(self.merchants)).astype(
            np.float64
        )
        self.today.merchant_margin_yuan = float(net.sum() - listings.unit_cost_yuan[j].sum())
        return orders

    # 7 -----------------------------------------------------------------------------------------

    def _phase_settlement(self, orders: dict, listings: Listings, content: Content) -> None:
        ledger = self.ledger
        day = self.day
        t = self.today
        price = orders["price_yuan"]
        total = float(price.sum())
        ledger.transfer(L.CONSUMERS, L.ESCROW, total, "order_payment")
        ledger.hold(total)
        t.orders += np.bincount(orders["channel"], minlength=N_CHANNELS)
        t.gmv_yuan += np.bincount(orders["channel"], weights=price, minlength=N_CHANNELS)
        j = orders["listing"]
        by_kind = np.bincount(listings.kind[j], weights=price, minlength=len(MERCHANT_KINDS))
        t.gmv_by_kind_yuan = dict(zip(MERCHANT_KINDS, by_kind.tolist(), strict=True))
        t.violator_gmv_yuan = float(price[listings.violator[j]].sum())

        shocked_regions = self.conditions.shocked_regions
        consumer = orders["consumer"]
        shocked = (
            shocked_regions[self.population.region[consumer]] | shocked_regions[listings.region[j]]
        )
        delivery = (
            day
            + self.config.consumers.experience.delivery_days
            + np.where(shocked, self.conditions.extra_delivery_days, 0)
        )
        self.in_transit.append(
            order_day=np.full(j.size, day),
            delivery_day=delivery,
            consumer=consumer,
            merchant=orders["merchant"],
            category=listings.category[j],
            creator=orders["creator"],
            channel=orders["channel"],
            price_yuan=price,
            take_rate=orders["take_rate"],
            commission_rate=orders["commission_rate"],
            true_quality=listings.true_quality[j],
            claimed_quality=listings.claimed_quality[j],
            violator=listings.violator[j],
            shock_dissatisfied_prob=np.where(shocked, self.conditions.extra_dissatisfied_prob, 0.0),
            recovery_program=listings.recovery_program[j],
            waived_take_rate=listings.waived_take_rate[j],
        )

        # Traffic fees: the paid part of each listing's impressions, at CPM, within budget.
        self.platform.observe_impressions(
            listings.merchant, self.today.listing_impressions, self.bought_paid
        )
        billed = np.flatnonzero(self.bought_paid > 0)
        self.platform.charge_traffic(listings.merchant[billed], self.bought_paid[billed])
        # Traffic given by programs, valued at CPM, is charged to their budgets.
        cpm = self.config.platform.traffic.cpm_yuan / 1000.0
        before = self.programs.spent_today_yuan
        self.programs.charge_traffic(listings.program, self.bought_listing_program * cpm)
        self.programs.charge_traffic(content.program, self.bought_item_program * cpm)
        t.program_traffic_value_yuan = self.programs.spent_today_yuan - before

        t.merchant_margin_yuan -= ledger.flow("traffic_fee")

        # Content income for impressions.
        rate = self.config.creators.content_income_yuan_per_1000_impressions / 1000.0
        earners = np.flatnonzero(self.content_impressions)
        if earners.size and rate > 0:
            pay = self.content_impressions[earners] * rate
            # An own account's income is its merchant's money.
            accounts = np.array([self.creators[c].payee_account for c in earners])
            ledger.transfer_many(L.PLATFORM, accounts, pay, "content_income")
            for c, amount in zip(earners, pay, strict=True):
                self.creators[c].receive(float(amount))

        # Payouts whose payment delay has passed.
        due = self.awaiting_payout.pop_due("due_day", day)
        if due["price_yuan"].size:
            p = due["price_yuan"]
            take = p * due["take_rate"]
            commission = p * due["commission_rate"]
            rest = p - take - commission
            ledger.transfer(L.ESCROW, L.PLATFORM, float(take.sum()), "take_commission")
            has_creator = due["creator"] >= 0
            creator_ids = due["creator"][has_creator]
            creator_pay = np.bincount(
                creator_ids, weights=commission[has_creator], minlength=len(self.creators)
            )
            payees = np.flatnonzero(creator_pay)
            ledger.transfer_many(
                L.ESCROW,
                np.array([self.creators[c].account for c in payees], dtype=np.int64),
                creator_pay[payees],
                "creator_commission",
            )
            merchant_pay = np.bincount(due["merchant"], weights=rest, minlength=len(self.merchants))
            paid = np.flatnonzero(merchant_pay)
            ledger.transfer_many(
                L.ESCROW,
                np.array([self.merchants[m].account for m in paid], dtype=np.int64),
                merchant_pay[paid],
                "merchant_payout",
            )
            ledger.release(float(p.sum()))
            for c in payees:
                creator = self.creators[c]
                creator.receive(float(creator_pay[c]))
                creator.pay_mcn_share(float(creator_pay[c]))

    def _apply_follow_events(self, follow_events: list) -> None:
        if not follow_events:
            return
        consumers = np.concatenate([f[0] for f in follow_events])
        creators = np.concatenate([f[1] for f in follow_events])
        self.today.follows_gained += self.follows.follow(
            consumers, creators, self.config.consumers.initial_creator_trust
        )

    # 8 -----------------------------------------------------------------------------------------

    def _phase_delivery(self, day: int) -> dict:
        """Deliver today's orders: reveal quality, then refunds and payouts, the guarantee
        fund, and consumers' and creators' reactions. Returns per-merchant feedback."""
        cfg = self.config.consumers.experience
        rng = self.streams.generator("experience", day)
        d = self.in_transit.pop_due("delivery_day", day)
        self.today.delivered = d["price_yuan"].size
        nm = len(self.merchants)
        if d["price_yuan"].size == 0:
            empty = np.zeros(nm, dtype=np.int64)
            return dict.fromkeys(("good_reviews", "bad_reviews", "returns", "complaints"), empty)
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
            cfg.return_prob_if_satisfied,
            cfg.complaint_prob_if_dissatisfied,
            cfg.review_prob,
            rng,
        )
        self._settle_delivered(day, d, out)
        compensated = out.complained
        self.platform.compensate(d["price_yuan"][compensated])
        self._consumers_react(d, out, compensated, rng)
        self._creators_react(d, out, compensated, rng)
        good = ~out.dissatisfied
        merchant = d["merchant"]
        return {
            "good_reviews": np.bincount(merchant[out.reviewed & good], minlength=nm),
            "bad_reviews": np.bincount(merchant[out.reviewed & ~good], minlength=nm),
            "returns": np.bincount(merchant[out.returned], minlength=nm),
            "complaints": np.bincount(merchant[out.complained], minlength=nm),
        }

    def _settle_delivered(self, day: int, d: dict, out) -> None:
        """Refund returns from escrow; schedule kept orders for payout after the payment delay;
        tell merchants what came back; count quality GMV and consumer surplus."""
        t = self.today
        price = d["price_yuan"]
        returned, kept = out.returned, ~out.returned
        t.returns = int(returned.sum())
        t.complaints = int(out.complained.sum())
        t.dissatisfied = int(out.dissatisfied.sum())
        t.quality_gmv_yuan = float(price[kept & ~d["violator"]].sum())
        value = self.reference_price[d["category"]] * (0.5 + d["true_quality"])
        t.consumer_surplus_yuan = float((value - price)[kept].sum())

        refund = float(price[returned].sum())
        self.ledger.transfer(L.ESCROW, L.CONSUMERS, refund, "refund")
        self.ledger.release(refund)
        self.awaiting_payout.append(
            due_day=day + self._payment_delay(d["merchant"][kept]),
            merchant=d["merchant"][kept],
            creator=d["creator"][kept],
            price_yuan=price[kept],
            take_rate=d["take_rate"][kept],
            commission_rate=d["commission_rate"][kept],
        )
        # A commission-free plan pays for the take commission it waived on kept orders.
        self.programs.charge_traffic(
            d["recovery_program"][kept], (d["waived_take_rate"] * price)[kept]
        )
        net = price * (1 - d["take_rate"] - d["commission_rate"])
        units = np.bincount(d["merchant"][returned], minlength=len(self.merchants))
        lost = np.bincount(d["merchant"][returned], net[returned], minlength=len(self.merchants))
        for m in np.flatnonzero(units):
            self.merchants[m].record_returns(int(units[m]), float(lost[m]))
        self._shipping_insurance(d["merchant"][returned])

    def _shipping_insurance(self, merchant: np.ndarray) -> None:
        """A recovery plan pays served merchants a fixed sum per returned order (运费险补贴)."""
        program = self.merchant_program[merchant]
        for p in np.unique(program[program >= 0]):
            plan = self.programs.recovery(int(p))
            if plan is None or plan.shipping_insurance_yuan_per_return == 0:
                continue
            served = merchant[program == p]
            state = self.programs.states[int(p)]
            per_return = plan.shipping_insurance_yuan_per_return
            affordable = int((plan.budget_yuan - state.spent_yuan) // per_return)
            served = served[:affordable]
            if served.size == 0:
                continue
            counts = np.bincount(served, minlength=len(self.merchants))
            paid = np.flatnonzero(counts)
            accounts = np.array([self.merchants[m].account for m in paid], dtype=np.int64)
            self.ledger.transfer_many(
                L.PLATFORM, accounts, counts[paid] * per_return, "shipping_subsidy"
            )
            state.charge(float(served.size * per_return))

    def _consumers_react(self, d: dict, out, compensated: np.ndarray, rng) -> None:
        """Platform trust moves with experience (less for buyers the guarantee fund paid);
        satisfied buyers may remember the merchant; disappointed ones forget it and, below
        the trust threshold, may leave the platform."""
        cfg = self.config.consumers.experience
        pop = self.population
        consumer, merchant = d["consumer"], d["merchant"]
        good = ~out.dissatisfied
        relief = self.config.platform.guarantee_fund.trust_loss_relief
        loss = cfg.platform_trust_loss * np.where(compensated, 1 - relief, 1.0)
        rows, trust = update_trust(
            pop.platform_trust, consumer, good, loss, cfg.platform_trust_gain
        )
        pop.platform_trust[rows] = trust

        remember = good & (rng.random(consumer.size) < cfg.favorite_after_satisfied_prob)
        pop.favorite_merchant[consumer[remember]] = merchant[remember]
        forget = ~good & (pop.favorite_merchant[consumer] == merchant)
        pop.favorite_merchant[consumer[forget]] = -1

        leaving = (
            ~good
            & (pop.platform_trust[consumer] < cfg.leave_trust_threshold)
            & (rng.random(consumer.size) < cfg.leave_prob)
        )
        leavers = np.unique(consumer[leaving])
        leavers = leavers[pop.on_platform[leavers]]
        pop.on_platform[leavers] = False
        self.follows.clear_rows(leavers)  # who leaves the platform follows no one there
        self.today.consumers_left = int(leavers.size)

    def _creators_react(self, d: dict, out, compensated: np.ndarray, rng) -> None:
        """Orders sold through a creator move the buyer's trust in them; satisfied buyers may
        follow, disappointed ones may unfollow; creators learn what sold and came back."""
        cfg = self.config.consumers.experience
        via = d["creator"] >= 0
        if not via.any():
            return
        c, cr, m = d["consumer"][via], d["creator"][via], d["merchant"][via]
        good = ~out.dissatisfied[via]
        stayed = self.population.on_platform[c]  # who has left follows no one
        relief = self.config.platform.guarantee_fund.trust_loss_relief
        loss = cfg.creator_trust_loss * np.where(compensated[via], 1 - relief, 1.0)
        self.follows.adjust_trust(
            c, cr, np.where(good, cfg.creator_trust_gain, 0.0), np.where(good, 0.0, loss)
        )
        u = rng.random(c.size)
        follow = good & stayed & (u < cfg.follow_after_satisfied_prob)
        unfollow = ~good & (u < cfg.unfollow_after_dissatisfied_prob)
        trust = self.config.consumers.initial_creator_trust
        self.today.follows_gained += self.follows.follow(c[follow], cr[follow], trust)
        self.today.follows_lost += self.follows.unfollow(c[unfollow], cr[unfollow])
        pairs, inverse = np.unique(np.stack([cr, m], axis=1), axis=0, return_inverse=True)
        inverse = inverse.ravel()
        sold = np.bincount(inverse, minlength=len(pairs))
        returned = np.bincount(inverse, out.returned[via], minlength=len(pairs))
        for (ci, mi), n_sold, n_returned in zip(pairs, sold, returned, strict=True):
            self.creators[int(ci)].learn_outcomes(int(mi), int(n_sold), int(n_returned))

    # 9 -----------------------------------------------------------------------------------------

    def _phase_governance(self, day: int, feedback: dict) -> None:
        self.platform.learn_from_feedback(**feedback)
        self.platform.govern(self.streams.generator("governance", day))

    # 10 ----------------------------------------------------------------------------------------

    def _phase_learning(self) -> None:
        merchants = self.agents_by_type.get(Merchant)
        if merchants is not None:
            merchants.shuffle_do("review")
        creators = self.agents_by_type.get(Creator)
        if creators is not None:
            creators.do("end_day")
        for mcn in self.mcns:
            mcn.train()
        self.platform.observe_sales(self.units_sold_today)
        # How well merchants do, for entry: daily gross margin against overheads.
        memory = self.config.merchants.learning.demand_memory_days
        self.merchant_margin_ema = ema(
            self.merchant_margin_ema, self.today.merchant_margin_yuan, memory
        )
        self.merchant_overhead_ema = ema(
            self.merchant_overhead_ema, self.ledger.flow("fixed_cost"), memory
        )

    # 11 ----------------------------------------------------------------------------------------

    def _phase_record(self, day: int) -> None:
        from sim.metrics import collect

        self.ledger.check(day)
        self.metrics = collect(self)

    def _merchant_cash(self) -> np.ndarray:
        """Cash of every merchant ever present, by idx."""
        accounts = np.array([m.account for m in self.merchants], dtype=np.int64)
        return self.ledger.balances[accounts].copy()
