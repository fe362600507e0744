"""MarketModel: the market's state, and one day per step composed of the phases in
:mod:`sim.phases`."""

from __future__ import annotations

import time

import mesa
import numpy as np

from sim.agents.creator import Creator
from sim.agents.merchant import Merchant
from sim.bookkeeping import InMarket, InMarketHooks, PhaseClock
from sim.build import AgentFactory, build_market
from sim.config import Scenario
from sim.day import Day
from sim.events import after_warmup, conditions_on
from sim.kernels.consumer_day import choose_engine
from sim.ledger import Ledger
from sim.live import LiveSchedule
from sim.metrics import collect
from sim.orders import AWAITING_PAYOUT, IN_TRANSIT, BuyerHistory, ColumnTable
from sim.phases.content import make_content
from sim.phases.delivery import deliver
from sim.phases.entry_exit import entry_and_exit
from sim.phases.governance import govern
from sim.phases.interest import wake_by_programs
from sim.phases.learning import learn
from sim.phases.listing import honesty_terms, list_products
from sim.phases.matching import match
from sim.phases.population import renew_population
from sim.phases.purchase import purchase
from sim.phases.record import (
    day_counts,
    exits_by_kind,
    merchant_cash,
    merchant_cash_flow,
    merchant_equity,
    merchant_profit,
)
from sim.phases.settlement import settle
from sim.programs import Programs
from sim.recommenders import interest_exponent
from sim.rng import Streams, run_seed
from sim.vocabulary import FEED, LIVE


class MarketModel(InMarketHooks, mesa.Model):
    """An interest e-commerce market: consumers (a vectorised population), creators, merchants,
    MCNs, service providers and the platform (mesa agents), on a follow network, with every
    yuan moving through one ledger.

    ``seed`` is the root seed (default: the scenario's); ``seed_index`` picks the run in a sweep
    (:func:`sim.rng.run_seed`), so ``MarketModel(config)`` is run 0 of ``config.seed``.
    ``engine`` (``"numpy"`` or ``"numba"``) and ``threads`` choose how the consumer kernel runs;
    they change the speed, never the results (default: numba when installed, one thread per
    CPU; the environment variables ZHONGCAO_ENGINE and ZHONGCAO_THREADS set other defaults).
    ``kernel`` (:class:`sim.shards.ShardedKernel`) runs the consumer kernel's chunks on the
    workers of a Dask cluster, a shard of consumers per worker: the same results again.

    After each step, :attr:`last_day` is the record of the day just simulated and
    :attr:`metrics` its metrics.
    """

    def __init__(
        self,
        config: Scenario,
        seed: int | None = None,
        seed_index: int = 0,
        engine: str | None = None,
        threads: int | None = None,
        kernel=None,
    ):
        root = config.seed if seed is None else seed
        self.kernel = kernel
        """A :class:`~sim.shards.ShardedKernel` running the consumers on a Dask cluster, or
        None (here)."""
        self.engine, self.threads = choose_engine(engine, threads)
        streams = Streams(run_seed(root, seed_index))
        self.in_market = InMarket(lambda: self.agents_by_type)
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
        self.history = BuyerHistory()
        self.in_transit = ColumnTable(IN_TRANSIT)
        self.awaiting_payout = ColumnTable(AWAITING_PAYOUT)
        self.warmup_days = config.warmup_days
        # The scenario's calendar counts days from the end of the warm-up.
        self.events = after_warmup(config.events, self.warmup_days)
        self.programs = Programs.from_config(
            after_warmup(config.programs, self.warmup_days), self.category_names
        )
        self.live_schedule = LiveSchedule(config.creators.live)
        self.metrics: dict[str, float] = {}
        self.last_day: Day | None = None
        self.clock = PhaseClock()
        self.phase_seconds = self.clock.seconds  # wall time per phase since the model was built

        self.factory = AgentFactory(
            self, config, streams, self.ledger, self.category_names, self.reference_price
        )
        market = build_market(self.factory)
        self.platform = market.platform
        self.population = market.population
        self.mcns = market.mcns
        self.follows = market.follows
        self.merchants = self.factory.merchants
        self.creators = self.factory.creators
        self.providers = self.factory.providers
        if kernel is not None:
            kernel.attach(self.population, self.follows)

    # ------------------------------------------------------------------------------------------
    # Lookups
    # ------------------------------------------------------------------------------------------

    @property
    def listings(self):
        """The live listings of the day just simulated (None before the first step)."""
        return None if self.last_day is None else self.last_day.listings

    def active_merchants(self) -> list[Merchant]:
        return list(self.in_market.of(Merchant))

    def active_creators(self) -> list[Creator]:
        return list(self.in_market.of(Creator))

    def independent_creators(self) -> list[Creator]:
        return list(self.in_market.of(Creator, independent=True))

    # ------------------------------------------------------------------------------------------
    # The day
    # ------------------------------------------------------------------------------------------

    def step(self) -> None:
        """Advance the market by one day. Phases, in order:

        1. events: the calendar sets the day's conditions (festivals, logistics shocks);
        2. entry and exit: bankrupt merchants and unpaid creators leave, new ones arrive while
           the market pays; MCNs drop, scout and sign creators; consumers arrive (more when
           yesterday's content reached more people), some leave quietly and some come back,
           interests drift and memories of merchants fade;
        3. listing: merchants list products (the platform screens new listings and intercepts
           some), produce to a stock target (pre-stocking for announced live sessions) and pay
           overheads and service fees; programs pick whom they serve;
        4. content: creators choose offers (选品) and produce short videos; those who announced a
           session for today go live (the featured merchants' limited-time prices, the room's
           audience), and sessions for the days ahead are announced (:mod:`sim.live`);
        5. matching: the recommender scores the day's content; each active consumer's
           impressions from every enabled channel (feed, live, follow, search, mall), by the
           consumer kernel, chunk by chunk of consumers;
        6. purchase: impressions become orders within budget, then stock rations them; the
           day's sessions are recorded and their creators learn what they sold; impressions
           programs added wake some viewers' latent interest (:mod:`sim.phases.interest`);
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
        day, cfg, streams = self.day, self.config, self.streams
        timed = self.clock.run
        self.ledger.start_day()
        self.programs.start_day()
        cash_before = merchant_cash(self.merchants, self.ledger)
        equity_before = self._merchant_equity()

        conditions = timed("events", conditions_on, self.events, day, cfg.market.regions)
        entry_exit = timed(
            "entry_exit",
            entry_and_exit,
            day,
            cfg,
            self.factory,
            self.active_merchants(),
            self.independent_creators(),
            self.mcns,
            self.follows,
            streams.generator("entry_exit", day),
        )
        yesterday = self.last_day.counts.impressions if self.last_day is not None else None
        population_day = timed(
            "entry_exit",
            renew_population,
            cfg,
            self.population,
            self.follows,
            int(yesterday[FEED] + yesterday[LIVE]) if yesterday is not None else 0,
            interest_exponent(cfg),
            streams.generator("population", day),
        )
        listing = timed(
            "listing",
            list_products,
            day,
            cfg,
            self.active_merchants(),
            len(self.merchants),
            self.providers,
            self.platform,
            self.programs,
            conditions,
            honesty_terms(cfg, self.platform, self.population.mean_trust(), self.k),
            streams,
            self.live_schedule.announced_units(day),
        )
        listings = listing.listings
        content = timed(
            "content",
            make_content,
            day,
            self.active_creators(),
            len(self.creators),
            listings,
            self.programs,
            self.k,
            self.follows.followers,
            streams.generator("content", day),
            lambda creator_idx: self.live_schedule.going_live(day, creator_idx),
        )
        sessions_today = timed(
            "content",
            self.live_schedule.open_and_announce,
            day,
            listings,
            content,
            self.merchants,
            self.active_creators(),
            self.follows.followers,
            streams.generator("live", day),
        )
        matching = timed(
            "matching_purchase",
            match,
            day,
            cfg,
            self.population,
            self.follows,
            listings,
            content,
            conditions,
            self.reference_price,
            self.need_weight,
            streams.key("consumers", day),
            self.engine,
            self.threads,
            len(self.creators),
            self.kernel,
        )
        purchases = timed(
            "purchase",
            purchase,
            matching.intents,
            listings,
            self.merchants,
            self.population,
            self.history,
            streams.generator("ration", day),
            day,
            cfg.consumers.new_customer_window_days,
        )
        session_record = timed(
            "purchase",
            self.live_schedule.close,
            sessions_today,
            matching,
            purchases.orders,
            listings,
            content,
            self.merchants,
            self.creators,
        )
        woken = timed(
            "purchase",
            wake_by_programs,
            cfg,
            self.population,
            listings,
            content,
            matching,
            streams.generator("wake", day),
        )
        settlement = timed(
            "settlement",
            settle,
            day,
            cfg,
            purchases.orders,
            listings,
            listing.traffic,
            content,
            matching,
            conditions,
            self.population,
            self.merchants,
            self.creators,
            self.platform,
            self.programs,
            self.ledger,
            self.in_transit,
            self.awaiting_payout,
            self.follows,
        )
        delivery = timed(
            "delivery",
            deliver,
            day,
            cfg,
            listing.merchant_program,
            self.reference_price,
            self.population,
            self.follows,
            self.merchants,
            self.creators,
            self.platform,
            self.programs,
            self.ledger,
            self.in_transit,
            self.awaiting_payout,
            streams.generator("experience", day),
        )
        governance = timed(
            "governance",
            govern,
            day,
            self.active_merchants(),
            self.platform,
            delivery.feedback,
            streams.generator("governance", day),
        )
        timed(
            "learning",
            learn,
            self.agents_by_type.get(Merchant),
            self.agents_by_type.get(Creator),
            self.mcns,
            self.platform,
            purchases.units_sold,
        )
        start = time.perf_counter()
        profit = merchant_profit(self.merchants, equity_before, self._merchant_equity())
        self.ledger.check(day)
        self.last_day = Day(
            day=day,
            conditions=conditions,
            listings=listings,
            content=content,
            counts=day_counts(
                entry_exit,
                matching,
                purchases,
                settlement,
                delivery,
                governance,
                profit,
                merchant_cash_flow(self.merchants, self.ledger, cash_before),
                exits_by_kind(self.merchants, day),
                listing,
                population_day,
                session_record,
                sum(m.prestocked_today for m in self.active_merchants()),
                woken.count,
            ),
            governance=listing.screening + governance.counts,
            listing_impressions=matching.listing_impressions,
            active=matching.active,
            subsidy_spent_yuan=self.programs.spent_today_yuan,
            units_sold=purchases.units_sold,
            feedback=delivery.feedback,
            orders=purchases.orders,
            woken=woken,
        )
        self.metrics = collect(self, self.last_day)
        self.clock.add("record", start)
        self.day += 1

    def _merchant_equity(self) -> np.ndarray:  # (M,) yuan: cash, stock and receivables
        return merchant_equity(self.merchants, self.ledger, self.in_transit, self.awaiting_payout)

    @property
    def calendar_day(self) -> int:
        """The scenario's day of the day just simulated: negative during the warm-up."""
        return self.day - 1 - self.warmup_days
