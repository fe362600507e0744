"""Building the market: the consumers, the agents and the follow graph, from the config.

:class:`AgentFactory` makes every merchant, creator (independent or a merchant's own account),
MCN and service provider, on the day and with the stream that define it, and gives each the
config section and the ledger account it needs. The entry phase uses the same factory, so an
entrant is made by the same rule as an incumbent. :func:`build_market` lays out day 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import ledger as L
from sim.agents.creator import Creator
from sim.agents.mcn import Mcn, ServiceProvider
from sim.agents.merchant import Merchant
from sim.agents.platform import Platform
from sim.honesty import Option
from sim.ledger import Ledger
from sim.network import FollowGraph, build_follow_graph
from sim.population import Population, build_population, consumer_rows
from sim.recommenders import interest_exponent
from sim.vocabulary import INDEPENDENT_CREATOR_KINDS, OWN_ACCOUNT_KIND

if TYPE_CHECKING:
    from sim.config import Scenario
    from sim.rng import Streams


class AgentFactory:
    """Makes agents for ``model`` (the mesa model they register with) and keeps the lists of
    every merchant and creator ever made, indexed by ``idx``."""

    def __init__(
        self,
        model: mesa.Model,
        config: Scenario,
        streams: Streams,
        ledger: Ledger,
        category_names: list[str],
        reference_price: np.ndarray,
    ):
        self.model = model
        self.config = config
        self.streams = streams
        self.ledger = ledger
        self.category_names = category_names
        self.reference_price = reference_price
        self.merchants: list[Merchant] = []
        self.creators: list[Creator] = []
        self.providers: list[ServiceProvider] = []
        self.platform: Platform | None = None
        self.follows: FollowGraph | None = None

    @property
    def k(self) -> int:
        return len(self.category_names)

    def new_platform(self) -> Platform:
        self.platform = Platform(
            self.model,
            cfg=self.config.platform,
            cold_start_boost=self.config.service_providers.cold_start_boost,
            category_names=self.category_names,
            streams=self.streams,
            ledger=self.ledger,
        )
        return self.platform

    def new_merchant(
        self, day: int, initial: bool, kind: str | None = None, category: int | None = None
    ) -> Merchant:
        """A merchant drawn from its own stream (keyed by its index), so that what one
        merchant is does not depend on how others were drawn. An entrant's ``kind`` and
        ``category``, when given, are its own choice (§7.17); they are still drawn, so the
        stream's later numbers are the same either way."""
        rng = self.streams.generator("merchant", len(self.merchants))
        cfg = self.config.merchants
        kinds = list(cfg.kinds)
        shares = np.array([cfg.kinds[k].share for k in kinds])
        drawn_kind = kinds[int(rng.choice(len(kinds), p=shares / shares.sum()))]
        drawn_cats = cfg.kinds[drawn_kind].categories
        drawn_category = self.category_names.index(drawn_cats[int(rng.integers(len(drawn_cats)))])
        # The entrant's own choice of kind and category replaces the draw.
        kind = drawn_kind if kind is None else kind
        category = drawn_category if category is None else category
        kc = cfg.kinds[kind]
        ref = self.reference_price[category]
        # The merchant's honest product: its own quality at its own cost; what a cheating
        # product would be (cheap goods claimed as good); its scruples. Which it sells is its
        # choice at each launch (sim.honesty).
        honest_cost = ref * kc.unit_cost_share * rng.lognormal(0.0, 0.2)
        honest_q = float(np.clip(rng.normal(kc.true_quality_mean, kc.true_quality_sd), 0.05, 1.0))
        cheat_q = float(np.clip(rng.normal(cfg.cheat_true_quality_mean, 0.05), 0.01, 1.0))
        h = cfg.honesty
        scruple = h.scruple_median * rng.lognormal(0.0, h.scruple_sigma)
        # A cheating merchant prices like an honest seller of what it claims to sell.
        markup = max(1.1, rng.normal(cfg.markup_mean, cfg.markup_sd))
        price = honest_cost * markup
        capacity = kc.capacity_units_per_day_median * rng.lognormal(0.0, kc.capacity_sigma)
        commission = float(
            np.clip(rng.normal(cfg.commission_rate_mean, 0.05), 0.01, cfg.commission_rate_max)
        )
        idx = len(self.merchants)
        account = self.ledger.open_account(f"merchant:{idx}")
        merchant = Merchant(
            self.model,
            cfg=cfg,
            ledger=self.ledger,
            account=account,
            day=day,
            idx=idx,
            kind=kind,
            category=category,
            region=int(rng.integers(self.config.market.regions)),
            honest=Option(honest_q, min(1.0, honest_q + cfg.honest_claim_puffery), honest_cost),
            cheat=Option(cheat_q, cfg.cheat_claimed_quality, honest_cost * cfg.cheat_cost_factor),
            scruple=scruple,
            price_yuan=price,
            commission_rate=commission,
            capacity_units_per_day=capacity,
            traffic_budget_yuan_per_day=cfg.traffic_budget_share * price * capacity * 0.25,
            fixed_cost_yuan_per_day=kc.fixed_cost_yuan_per_day,
            cash_yuan=kc.initial_cash_yuan,
        )
        self.ledger.transfer(L.OUTSIDE, account, kc.initial_cash_yuan, "capital")
        if initial:
            # Incumbents start with their usual stock, bought before the simulation begins.
            merchant.stock = int(cfg.learning.stock_cover_days * merchant.demand_ema)
        self.merchants.append(merchant)
        self.platform.register(merchant)
        if rng.random() < kc.own_account_share:
            self.open_own_account(merchant, day)
        if (
            not initial
            and self.providers
            and rng.random() < self.config.service_providers.hire_prob_on_entry
        ):
            with_room = [p for p in self.providers if p.has_room]
            if with_room:
                self.hire(min(with_room, key=lambda p: (len(p.clients), p.idx)), merchant, day)
        return merchant

    def hire(self, provider: ServiceProvider, merchant: Merchant, day: int) -> None:
        """``provider`` takes ``merchant`` on, opening its own account (at the provider's
        skill) if it has none."""
        if provider.take_client(merchant, day):
            self.open_own_account(merchant, day, skill=provider.cfg.skill)

    def _creator(self, day: int, **fields) -> Creator:
        idx = len(self.creators)
        creator = Creator(
            self.model,
            cfg=self.config.creators,
            ledger=self.ledger,
            account=self.ledger.open_account(f"creator:{idx}"),
            day=day,
            idx=idx,
            **fields,
        )
        self.creators.append(creator)
        if self.follows is not None:
            self.follows.ensure_creators(len(self.creators))
        return creator

    def open_own_account(self, merchant: Merchant, day: int, skill: float | None = None):
        """Give a merchant its own account (自播): a creator agent that presents only its goods."""
        kind = OWN_ACCOUNT_KIND[merchant.kind]
        kc = self.config.creators.kinds[kind]
        rng = self.streams.generator("own_account", merchant.idx)
        niche = np.zeros(self.k)
        niche[merchant.category] = 1.0
        if skill is None:
            skill = float(np.clip(rng.normal(kc.skill_mean, kc.skill_sd), 0.05, 1.0))
        creator = self._creator(
            day,
            kind=kind,
            niche=niche,
            skill=skill,
            talent=1.0 + float(rng.pareto(self.config.creators.talent_pareto_alpha)),
            videos_per_day=kc.videos_per_day,
            lives_per_week=kc.lives_per_week,
            reservation_yuan_per_day=kc.reservation_yuan_per_day,
            owner=merchant,
        )
        merchant.own_account = creator
        return creator

    def new_creator(self, day: int) -> Creator:
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
        skill = float(np.clip(rng.normal(kc.skill_mean, kc.skill_sd), 0.05, 1.0))
        # Talent: a heavy-tailed draw (1 + Lomax); followers and income grow from it.
        talent = 1.0 + float(rng.pareto(cfg.talent_pareto_alpha))
        return self._creator(
            day,
            kind=kind,
            niche=niche,
            skill=skill,
            talent=talent,
            videos_per_day=kc.videos_per_day,
            lives_per_week=kc.lives_per_week,
            reservation_yuan_per_day=kc.reservation_yuan_per_day,
        )

    def new_mcn(self, idx: int) -> Mcn:
        return Mcn(
            self.model,
            cfg=self.config.mcn,
            streams=self.streams,
            ledger=self.ledger,
            account=self.ledger.open_account(f"mcn:{idx}"),
            idx=idx,
        )

    def new_provider(self, idx: int) -> ServiceProvider:
        provider = ServiceProvider(
            self.model,
            cfg=self.config.service_providers,
            ledger=self.ledger,
            account=self.ledger.open_account(f"provider:{idx}"),
            idx=idx,
        )
        self.providers.append(provider)
        return provider


@dataclass
class Market:
    """Day 0 of a market: who is in it and who follows whom."""

    platform: Platform
    population: Population
    mcns: list[Mcn]
    follows: FollowGraph


def build_market(factory: AgentFactory) -> Market:
    """Lay out day 0: the platform, the consumers, the incumbent merchants (with their own
    accounts) and creators, the MCNs and service providers, and the follow graph."""
    config, streams = factory.config, factory.streams
    platform = factory.new_platform()
    # Rows for arrivals are allocated up front (dormant): the arrays keep their size for the
    # whole run, so views of them stay valid and the memory estimate holds.
    n_present = config.population.n_consumers
    n_rows = consumer_rows(config)
    population = build_population(
        config, n_rows, streams, interest_exponent(config), n_present=n_present
    )
    for _ in range(config.population.n_merchants):
        factory.new_merchant(0, initial=True)
    for _ in range(config.population.n_creators):
        factory.new_creator(0)
    mcns = [factory.new_mcn(i) for i in range(config.population.n_mcns)]
    for i in range(config.population.n_service_providers):
        factory.new_provider(i)
    # Heavy-tailed popularity: the kind's weight times a log-normal factor.
    kinds = config.creators.kinds
    weights = np.array(
        [kinds[c.kind].popularity_weight for c in factory.creators]
    ) * streams.generator("follows.popularity").lognormal(0.0, 1.0, len(factory.creators))
    follows = build_follow_graph(
        population.interest[:n_present],
        np.array([c.main_category for c in factory.creators], dtype=np.int64),
        weights,
        config.consumers.initial_follows_mean,
        config.consumers.max_follows,
        config.consumers.initial_creator_trust,
        streams,
        n_rows=n_rows,
    )
    follows.ensure_creators(len(factory.creators))
    factory.follows = follows
    return Market(platform, population, mcns, follows)
