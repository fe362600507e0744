"""The consumer side of a day (phases 5 and 6) as idiomatic Mesa: one agent per consumer.

:mod:`sim.kernels.consumer_day` runs who is active, what each channel shows, what is bought and
whom viewers follow as array code over chunks of consumers. This module runs the same rules the
plain way: :class:`ReferenceConsumers` is a :class:`mesa.Model` with one :class:`ConsumerAgent`
per consumer (up to :data:`MAX_CONSUMERS`), built from a :class:`~sim.model.MarketModel`'s
population, and each agent's ``step`` lives one consumer's day with ordinary Python: uniform
draws from the model's ``random.Random``, ``random.choices`` on cumulative weights for every
weighted draw, NumPy's Poisson generator for the number of content slots, ``math.exp`` for the
logistic, a budget in whole fen and a set of the listings bought today.

It is an independent implementation of the model, not a translation of the kernel: it shares
no random numbers with it (the kernel's are counter-based) and the agents call none of its
code, so the two agree in distribution, not draw for draw. The one rule they share is the
purchase logit, written once in :mod:`sim.kernels.purchase` and called by both. It serves twice:

* as an oracle: ``tests/unit/test_mesa_oracle.py`` checks that the kernel's impressions per
  channel, conversion per channel and purchases per merchant match this reference within
  sampling error on the same market;
* as the speed anchor: :func:`speed_ratio` times one day of both at 10^5 consumers.

The rules, for one consumer on one day (the kernel's module docstring states them too):

1. they are active with chance ``active_prob x active_multiplier`` (never once they have left);
2. an active consumer without an open need gets one with chance ``need_prob``, in a category
   drawn in proportion to ``interest x need_weight``;
3. they see ``Poisson(min(attention, MAX_ATTENTION_MEAN))`` content slots (at most
   ``MAX_ATTENTION``); each slot goes to
   the feed, live rooms or the following feed in proportion to those channels' shares of
   attention (the feed or live rooms get none when off or with nothing to show; the
   following feed gets its share whenever it is on); a consumer who follows nobody sees a
   following-feed slot in the feed instead, when the feed gets slots, else nothing;
4. a feed or live slot shows a category drawn in proportion to ``affinity x Z_k`` (``Z_k`` the
   category's total ranking weight in that channel), then an item of it in proportion to its
   weight;
5. a following-feed slot picks a followed creator uniformly; if they posted today it shows one
   of their items uniformly, else nothing;
6. an active consumer whose need's category is on the shelf takes it to search (chance
   ``search_share`` when the mall is open too) or the mall and sees ``results_per_need``
   listings of that category, drawn in proportion to their shelf weight; the first result is
   the remembered listing, if it is of that category, with chance ``loyalty_prob``;
7. an active consumer without a need browses the mall with chance ``mall_browse_prob`` and
   sees one listing, its category drawn in proportion to ``affinity x Z_k`` on the shelf;
8. content slots come first, in order, then the shelf; each impression is bought with the
   chance :mod:`sim.kernels.purchase` gives, and a content impression makes the viewer follow
   its creator with chance ``follow_after_view_prob x appeal``;
9. a listing is bought at most once a day, and the first purchase that would take the day's
   spending (in whole fen) over the budget ends buying for the day.

A day changes no agent's state: like the kernel, it reports new needs and follows, and the
market decides what to keep.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

import mesa
import numpy as np

from sim.kernels.consumer_day import (
    MAX_ATTENTION,
    MAX_ATTENTION_MEAN,
    Chunk,
    Rules,
    Sampler,
    Tables,
    run_chunks,
)
from sim.kernels.purchase import believed_quality, purchase_logit, term_inputs, term_weights
from sim.model import MarketModel
from sim.phases import matching
from sim.scenario import load_scenario
from sim.vocabulary import FEED, FOLLOW, LIVE, MALL, SEARCH

MAX_CONSUMERS = 100_000
"""Most consumers a :class:`ReferenceConsumers` holds: it is for checking and timing."""
N_CHANNELS = 5
CONTENT_CHANNELS = (FEED, LIVE, FOLLOW)
ROOT = Path(__file__).resolve().parents[1]
CONSUMER_ATTRIBUTES = (
    "on_platform",
    "interest",
    "affinity",
    "log_affinity",
    "active_prob",
    "attention",
    "budget_yuan",
    "price_sensitivity",
    "platform_trust",
    "need_category",
)
"""The population's arrays an agent copies."""


# ============================================================================================
# The day's offer and rules, in plain Python
# ============================================================================================


class Ranked:
    """One kind of thing to show (videos, live rooms or shelf listings), grouped by category:
    per category the ids, their cumulative ranking weights and the total ``Z_k``."""

    def __init__(self, sampler: Sampler):
        self.totals: list[float] = sampler.total.tolist()
        self.ids: list[list[int]] = []
        self.cumulative: list[list[float]] = []
        for start, stop in zip(sampler.start.tolist(), sampler.stop.tolist(), strict=True):
            before = float(sampler.cumulative[start - 1]) if start > 0 else 0.0
            self.ids.append(sampler.order[start:stop].tolist())
            self.cumulative.append((sampler.cumulative[start:stop] - before).tolist())
        self.on = any(z > 0 for z in self.totals)
        """Whether anything can be shown."""

    def pick(self, rng, category: int) -> int:
        """An id of ``category`` (which must have weight), drawn in proportion to its weight."""
        return rng.choices(self.ids[category], cum_weights=self.cumulative[category])[0]


@dataclass
class Offer:
    """What the platform shows today (:class:`~sim.kernels.consumer_day.Tables` as lists)."""

    feed: Ranked
    live: Ranked
    shelf: Ranked
    posted: dict[int, range]
    """Creator -> the content items they posted today (creators who posted only)."""
    item_listing: list[int]
    item_creator: list[int]
    item_appeal: list[float]
    item_is_live: list[bool]
    listing_category: list[int]
    listing_quality_trusting: list[float]
    listing_quality_doubting: list[float]
    listing_log_price_ratio: list[float]
    listing_price_fen: list[int]
    """Prices rounded up to whole fen, as budgets count them."""

    @classmethod
    def of(cls, t: Tables) -> Offer:
        posted = {
            creator: range(start, start + count)
            for creator, (start, count) in enumerate(
                zip(t.creator_start.tolist(), t.creator_count.tolist(), strict=True)
            )
            if count > 0
        }
        return cls(
            feed=Ranked(t.feed),
            live=Ranked(t.live),
            shelf=Ranked(t.shelf),
            posted=posted,
            item_listing=t.item_listing.tolist(),
            item_creator=t.item_creator.tolist(),
            item_appeal=t.item_appeal.tolist(),
            item_is_live=t.item_is_live.tolist(),
            listing_category=t.listing_category.tolist(),
            listing_quality_trusting=t.listing_quality_trusting.tolist(),
            listing_quality_doubting=t.listing_quality_doubting.tolist(),
            listing_log_price_ratio=t.listing_log_price_ratio.tolist(),
            listing_price_fen=[math.ceil(p * 100 - 1e-6) for p in t.listing_price_yuan.tolist()],
        )


@dataclass
class Behaviour:
    """Today's rules (:class:`~sim.kernels.consumer_day.Rules`) as Python numbers, with the
    content channels' weights worked out against what the offer can show."""

    active_multiplier: float
    need_prob: float
    need_weight: list[float]
    content_weights: list[float]
    """Cumulative weights of feed, live and following feed for a content slot."""
    loners_to_feed: bool
    """Whether a following-feed slot of a consumer who follows nobody goes to the feed."""
    search_on: bool
    mall_on: bool
    search_share: float
    results_per_need: int
    mall_browse_prob: float
    loyalty_prob: float
    base_logit: list[float]
    coefficients: tuple[float, ...]
    """The purchase logit's coefficients in :data:`~sim.kernels.purchase.COEFFICIENT_NAMES`
    order."""
    disappointment_discount: float
    event_logit: float
    follow_after_view_prob: float

    @property
    def any_content(self) -> bool:
        return self.content_weights[-1] > 0

    @classmethod
    def of(cls, r: Rules, offer: Offer) -> Behaviour:
        on = [bool(x) for x in r.channels]
        feed = float(r.shares[0]) if on[FEED] and offer.feed.on else 0.0
        live = float(r.shares[1]) if on[LIVE] and offer.live.on else 0.0
        follow = float(r.shares[2]) if on[FOLLOW] else 0.0
        return cls(
            active_multiplier=float(r.active_multiplier),
            need_prob=float(r.need_prob),
            need_weight=[float(w) for w in r.need_weight],
            content_weights=list(accumulate((feed, live, follow))),
            loners_to_feed=feed > 0,
            search_on=on[SEARCH],
            mall_on=on[MALL],
            search_share=float(r.search_share),
            results_per_need=int(r.results_per_need),
            mall_browse_prob=float(r.mall_browse_prob),
            loyalty_prob=float(r.loyalty_prob),
            base_logit=[float(b) for b in r.coefficients.base_logit],
            coefficients=tuple(r.coefficients.vector().tolist()),
            disappointment_discount=float(r.disappointment_discount),
            event_logit=float(r.event_logit),
            follow_after_view_prob=float(r.follow_after_view_prob),
        )


def logistic(z: float) -> float:
    """1 / (1 + e^-z), computed without overflow."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


# ============================================================================================
# One consumer
# ============================================================================================


@dataclass
class Today:
    """What one consumer did today, and their running purchase state."""

    active: bool = False
    new_need: int | None = None
    impressions: list[int] = field(default_factory=lambda: [0] * N_CHANNELS)
    """Impressions per channel."""
    intents: list[tuple[int, int]] = field(default_factory=list)
    """(listing, channel) of each purchase, in the order made."""
    follows: list[int] = field(default_factory=list)
    """Creators followed after viewing their content (repeats included)."""
    bought: set[int] = field(default_factory=set)
    """Listings the consumer decided to buy today, within budget or not."""
    spent_fen: int = 0
    out_of_budget: bool = False


class ConsumerAgent(mesa.Agent):
    """One consumer: their tastes, means and memory as plain attributes, and a day's behaviour
    in :meth:`step`. ``index`` is the consumer's row in the market's population."""

    def __init__(
        self,
        model: ReferenceConsumers,
        index: int,
        *,
        on_platform: bool,
        interest: list[float],
        affinity: list[float],
        log_affinity: list[float],
        active_prob: float,
        attention: float,
        budget_yuan: float,
        price_sensitivity: float,
        platform_trust: float,
        need: int | None,
        remembered_listing: int | None,
        disappointing_listing: int | None,
        followed: list[int],
        trust: dict[int, float],
    ):
        super().__init__(model)
        self.index = index
        self.on_platform = on_platform
        self.interest = interest
        """Share of interest per category (sums to 1): where needs arise."""
        self.affinity = affinity
        """interest ** exponent: how the recommender weighs categories for this consumer."""
        self.log_affinity = log_affinity
        """log(K x interest): the purchase logit's interest term per category."""
        self.active_prob = active_prob
        self.attention = attention
        """Mean content slots on an active day."""
        self.budget_fen = math.floor(budget_yuan * 100 + 1e-6)
        """Daily budget rounded down to whole fen."""
        self.price_sensitivity = price_sensitivity
        self.platform_trust = platform_trust
        self.need = need
        """Category of the open need, or None."""
        self.remembered_listing = remembered_listing
        """Today's listing of the merchant remembered after a good order, or None."""
        self.disappointing_listing = disappointing_listing
        """Today's listing of the merchant of the last disappointing order, or None."""
        self.followed = followed
        """Creators followed, one per follow slot."""
        self.trust = trust
        """Trust in each followed creator."""
        self.today = Today()

    # -- the day ------------------------------------------------------------------------------

    def step(self, offer: Offer, rules: Behaviour) -> None:
        """Live one day: open the app or not, maybe get a need, watch content, then search or
        browse the shelf, deciding at each impression whether to buy and whether to follow."""
        self.today = today = Today()
        rng = self.random
        if not self.on_platform or rng.random() >= self.active_prob * rules.active_multiplier:
            return
        today.active = True
        need = self.need
        if need is None and rng.random() < rules.need_prob:
            need = today.new_need = self.draw_need(rules)
        if rules.any_content:
            self.watch_content(offer, rules, need)
        if offer.shelf.on and (rules.search_on or rules.mall_on):
            if need is not None and offer.shelf.totals[need] > 0:
                self.serve_need(offer, rules, need)
            elif need is None and rules.mall_on and rng.random() < rules.mall_browse_prob:
                category = self.draw_category(offer.shelf)
                if category is not None:
                    self.see(offer, rules, MALL, offer.shelf.pick(rng, category), None, need)

    def draw_need(self, rules: Behaviour) -> int | None:
        """A category drawn in proportion to interest x need weight (None if all are 0)."""
        weights = [i * w for i, w in zip(self.interest, rules.need_weight, strict=True)]
        if sum(weights) <= 0:
            return None
        return self.random.choices(range(len(weights)), weights=weights)[0]

    def draw_category(self, ranked: Ranked) -> int | None:
        """A category drawn in proportion to affinity x the category's weight Z_k (the
        category part of the recommender's softmax), or None if nothing fits."""
        weights = [a * z for a, z in zip(self.affinity, ranked.totals, strict=True)]
        if sum(weights) <= 0:
            return None
        return self.random.choices(range(len(weights)), weights=weights)[0]

    def content_slots(self) -> int:
        """How many content slots today: Poisson(min(attention, MAX_ATTENTION_MEAN)), at most
        MAX_ATTENTION."""
        mean = min(self.attention, MAX_ATTENTION_MEAN)
        return min(int(self.model.rng.poisson(mean)), MAX_ATTENTION)

    def watch_content(self, offer: Offer, rules: Behaviour, need: int | None) -> None:
        """Content slots in order: a channel for each, then what it shows."""
        rng = self.random
        # The category weights of feed and live are the same for every slot of the day.
        category_weights = {}
        for channel, ranked in ((FEED, offer.feed), (LIVE, offer.live)):
            weights = [a * z for a, z in zip(self.affinity, ranked.totals, strict=True)]
            category_weights[channel] = list(accumulate(weights))
        categories = range(len(self.affinity))
        for _ in range(self.content_slots()):
            channel = rng.choices(CONTENT_CHANNELS, cum_weights=rules.content_weights)[0]
            if channel == FOLLOW and not self.followed:
                if not rules.loners_to_feed:
                    continue
                channel = FEED
            if channel == FOLLOW:
                items = offer.posted.get(rng.choice(self.followed))
                if items is None:
                    continue  # the creator posted nothing today
                item = rng.choice(items)
            else:
                cumulative = category_weights[channel]
                if cumulative[-1] <= 0:
                    continue
                category = rng.choices(categories, cum_weights=cumulative)[0]
                item = (offer.feed if channel == FEED else offer.live).pick(rng, category)
            self.see(offer, rules, channel, offer.item_listing[item], item, need)

    def serve_need(self, offer: Offer, rules: Behaviour, need: int) -> None:
        """Search (or the mall) for the need: results_per_need listings of its category, the
        remembered listing first with chance loyalty_prob when it is of that category."""
        rng = self.random
        if rules.search_on and rules.mall_on:
            channel = SEARCH if rng.random() < rules.search_share else MALL
        else:
            channel = SEARCH if rules.search_on else MALL
        results = [offer.shelf.pick(rng, need) for _ in range(rules.results_per_need)]
        remembered = self.remembered_listing
        if (
            results
            and remembered is not None
            and offer.listing_category[remembered] == need
            and rng.random() < rules.loyalty_prob
        ):
            results[0] = remembered
        for listing in results:
            self.see(offer, rules, channel, listing, None, need)

    # -- one impression -----------------------------------------------------------------------

    def see(
        self,
        offer: Offer,
        rules: Behaviour,
        channel: int,
        listing: int,
        item: int | None,
        need: int | None,
    ) -> None:
        """One impression of ``listing`` (through content ``item``, or on the shelf when None):
        count it, maybe buy, maybe follow the creator."""
        self.today.impressions[channel] += 1
        self.model.listing_impressions[listing] += 1
        creator = offer.item_creator[item] if item is not None else None
        appeal = offer.item_appeal[item] if item is not None else 0.5
        live_room = item is not None and offer.item_is_live[item]
        chance = self.purchase_chance(
            offer, rules, channel, listing, creator, appeal, need, live_room
        )
        if self.random.random() < chance:
            self.buy(offer, listing, channel)
        if item is not None and self.random.random() < rules.follow_after_view_prob * appeal:
            self.today.follows.append(creator)

    def purchase_chance(
        self,
        offer: Offer,
        rules: Behaviour,
        channel: int,
        listing: int,
        creator: int | None,
        appeal: float,
        need: int | None,
        live_room: bool,
    ) -> float:
        """The chance of buying after this impression: the logit of
        :mod:`sim.kernels.purchase`, on Python floats."""
        category = offer.listing_category[listing]
        logit = purchase_logit(
            rules.base_logit[channel],
            term_weights(rules.coefficients, self.price_sensitivity),
            term_inputs(
                self.log_affinity[category],
                self.trust.get(creator, 0.0),
                1.0 if live_room else 0.0,
                self.platform_trust,
                1.0 if category == need else 0.0,
                believed_quality(
                    offer.listing_quality_trusting[listing],
                    offer.listing_quality_doubting[listing],
                    self.platform_trust,
                    1.0 if listing == self.disappointing_listing else 0.0,
                    rules.disappointment_discount,
                ),
                appeal,
                offer.listing_log_price_ratio[listing],
            ),
            rules.event_logit,
        )
        return logistic(logit)

    def buy(self, offer: Offer, listing: int, channel: int) -> None:
        """Decide to buy: once per listing a day, and none after the first purchase the budget
        cannot cover."""
        today = self.today
        if listing in today.bought:
            return
        today.bought.add(listing)
        if today.out_of_budget:
            return
        price = offer.listing_price_fen[listing]
        if today.spent_fen + price > self.budget_fen:
            today.out_of_budget = True
            return
        today.spent_fen += price
        today.intents.append((listing, channel))


# ============================================================================================
# The consumers of a market
# ============================================================================================


@dataclass(frozen=True)
class ReferenceOutcome:
    """What the consumers did in one day; rows are consumers' population indices. Intents and
    follows are ordered by consumer, then by when they happened in the consumer's day."""

    active: np.ndarray  # (n,) bool
    new_need: np.ndarray  # (n,) int64, -1 = no new need
    consumer_impressions: np.ndarray  # (n, 5) int64: impressions per consumer and channel
    listing_impressions: np.ndarray  # (L,) int64: impressions per listing, every channel
    intent_consumer: np.ndarray  # (k,) int64
    intent_listing: np.ndarray  # (k,) int64
    intent_channel: np.ndarray  # (k,) int64
    follow_consumer: np.ndarray  # (f,) int64
    follow_creator: np.ndarray  # (f,) int64

    @property
    def channel_impressions(self) -> np.ndarray:
        """(5,) impressions per channel."""
        return self.consumer_impressions.sum(axis=0)


def favorite_listings(market: MarketModel) -> np.ndarray:
    """(n,) today's listing of each consumer's remembered merchant, -1 if none (the merchant
    forgotten or not listed on the market's current day), as the model computes it."""
    if market.last_day is None:
        return np.full(market.population.n, -1, dtype=np.int64)
    return matching.favorite_listings(market.population, market.last_day.listings).astype(np.int64)


def disappointing_listings(market: MarketModel) -> np.ndarray:
    """(n,) today's listing of the merchant of each consumer's last disappointing order, -1
    if none, as the model computes it."""
    if market.last_day is None:
        return np.full(market.population.n, -1, dtype=np.int64)
    return matching.disappointing_listings(market.population, market.last_day.listings).astype(
        np.int64
    )


class ReferenceConsumers(mesa.Model):
    """The first ``n`` consumers of ``market`` (all by default, at most
    :data:`MAX_CONSUMERS`) as :class:`ConsumerAgent` s, with the market's current state: open
    needs, follows and trust, and the listings of remembered merchants on the market's
    current day (``favorite_listing`` overrides them).

    ``seed`` seeds the model's ``random.Random`` and NumPy generator; by default it is drawn
    from the market's root seed (stream ``"reference_mesa"``).
    """

    def __init__(
        self,
        market: MarketModel,
        n: int | None = None,
        seed: int | None = None,
        favorite_listing: np.ndarray | None = None,
    ):
        pop = market.population
        n = pop.n if n is None else n
        if not 0 <= n <= min(pop.n, MAX_CONSUMERS):
            raise ValueError(f"n must be in [0, {min(pop.n, MAX_CONSUMERS)}], got {n}")
        super().__init__(seed=market.streams.seed_int("reference_mesa") if seed is None else seed)
        if favorite_listing is None:
            favorite_listing = favorite_listings(market)
        # Each attribute as a Python list, read row by row below.
        col = {name: getattr(pop, name)[:n].tolist() for name in CONSUMER_ATTRIBUTES}
        favorite = favorite_listing[:n].tolist()
        disappointing = disappointing_listings(market)[:n].tolist()
        followed, trust, count = (
            market.follows.creator[:n].tolist(),
            market.follows.trust[:n].tolist(),
            market.follows.count[:n].tolist(),
        )
        self.consumers: list[ConsumerAgent] = []
        """The agents in population order."""
        for i in range(n):
            trust_in: dict[int, float] = {}
            for creator, t in zip(followed[i], trust[i], strict=True):
                if creator >= 0:
                    trust_in.setdefault(creator, t)  # the first slot's, as the kernel reads it
            agent = ConsumerAgent(
                self,
                i,
                on_platform=col["on_platform"][i],
                interest=col["interest"][i],
                affinity=col["affinity"][i],
                log_affinity=col["log_affinity"][i],
                active_prob=col["active_prob"][i],
                attention=col["attention"][i],
                budget_yuan=col["budget_yuan"][i],
                price_sensitivity=col["price_sensitivity"][i],
                platform_trust=col["platform_trust"][i],
                need=col["need_category"][i] if col["need_category"][i] >= 0 else None,
                remembered_listing=favorite[i] if favorite[i] >= 0 else None,
                disappointing_listing=disappointing[i] if disappointing[i] >= 0 else None,
                followed=followed[i][: count[i]],
                trust=trust_in,
            )
            self.consumers.append(agent)
        self.listing_impressions: list[int] = []

    def reseed(self, seed: int) -> None:
        """Restart both random generators (``random`` and ``rng``) from ``seed``."""
        self.reset_randomizer(seed)
        self.reset_rng(seed)

    def day(self, tables: Tables, rules: Rules) -> ReferenceOutcome:
        """One day: every consumer, in random order (``shuffle_do``), lives it against the
        day's offer and rules; the agents' state is left as it was."""
        offer = Offer.of(tables)
        behaviour = Behaviour.of(rules, offer)
        self.listing_impressions = [0] * len(offer.listing_category)
        self.agents.shuffle_do("step", offer, behaviour)
        return self.outcome()

    def outcome(self) -> ReferenceOutcome:
        """The agents' records of the day, gathered in population order."""
        days = [(agent.index, agent.today) for agent in self.consumers]
        intents = [(i, listing, ch) for i, d in days for listing, ch in d.intents]
        follows = [(i, creator) for i, d in days for creator in d.follows]
        intent = np.array(intents, dtype=np.int64).reshape(-1, 3)
        follow = np.array(follows, dtype=np.int64).reshape(-1, 2)
        impressions = np.array([d.impressions for _, d in days], dtype=np.int64)
        return ReferenceOutcome(
            active=np.array([d.active for _, d in days], dtype=bool),
            new_need=np.array(
                [-1 if d.new_need is None else d.new_need for _, d in days], dtype=np.int64
            ),
            consumer_impressions=impressions.reshape(-1, N_CHANNELS),
            listing_impressions=np.array(self.listing_impressions, dtype=np.int64),
            intent_consumer=intent[:, 0],
            intent_listing=intent[:, 1],
            intent_channel=intent[:, 2],
            follow_consumer=follow[:, 0],
            follow_creator=follow[:, 1],
        )


# ============================================================================================
# A market's day for both implementations, and their speeds
# ============================================================================================


@dataclass(frozen=True)
class MarketDay:
    """One day's offer and rules from the market's own methods, and the kernel's key."""

    tables: Tables
    rules: Rules
    key: np.uint64


def market_day(market: MarketModel) -> MarketDay:
    """The offer of the market's last day (its listings and content, through
    :func:`sim.phases.matching.day_tables`) and that day's rules
    (:func:`sim.phases.matching.day_rules`), to put to the consumers as they are now. The
    market must have been stepped at least once."""
    last = market.last_day
    if last is None:
        raise ValueError("step the market at least once first")
    tables, _ = matching.day_tables(
        market.config.platform, last.listings, last.content, market.reference_price, market.k
    )
    rules = matching.day_rules(market.config, last.conditions, market.need_weight)
    return MarketDay(tables, rules, market.streams.key("consumers", market.day))


def consumer_chunks(market: MarketModel, n: int | None = None, size: int | None = None):
    """The first ``n`` consumers (all by default) as the model hands them to the kernel
    (:func:`sim.phases.matching.consumer_chunks`), cut into chunks of at most ``size``
    consumers (the model's by default)."""
    n = market.population.n if n is None else n
    for chunk in matching.consumer_chunks(
        market.population,
        market.follows,
        favorite_listings(market),
        disappointing_listings(market),
    ):
        first = int(chunk.index[0])
        if first >= n:
            return
        rows = min(chunk.index.size, n - first)
        step = size or rows
        for start in range(0, rows, step):
            part = slice(start, min(start + step, rows))
            yield Chunk(**{name: getattr(chunk, name)[part] for name in Chunk.__dataclass_fields__})


def build_market(
    n: int, scenario: str | Path = "scenarios/baseline.yaml", days: int = 3, **kwargs
) -> MarketModel:
    """The scenario's market with ``n`` consumers, stepped ``days`` days so that needs,
    follows and remembered merchants exist. ``kwargs`` go to :class:`MarketModel`."""
    path = Path(scenario)
    if not path.exists():
        path = ROOT / path
    config = load_scenario(path, [f"population.consumers={n}"]).config
    market = MarketModel(config, **kwargs)
    for _ in range(days):
        market.step()
    return market


def speed_ratio(
    n: int = 100_000, scenario: str | Path = "scenarios/baseline.yaml", repeats: int = 3
) -> dict:
    """Time one day of the consumer side for ``n`` consumers of the scenario's market: the Mesa
    reference (one run) and the vectorised kernel with the default engine and threads (best of
    ``repeats`` runs after a warm-up), on the same tables, rules and consumers.

    Returns ``consumers``, ``scenario``, ``engine`` and ``threads``; ``mesa_s`` and
    ``vectorised_s``, the two times in seconds, and ``ratio`` = mesa_s / vectorised_s;
    ``mesa_build_s``, the time to create the agents (not in mesa_s); and each side's
    impressions and intents, as a check that both did the same work."""
    market = build_market(n, scenario)
    day = market_day(market)
    started = time.perf_counter()
    reference = ReferenceConsumers(market, n)
    build_seconds = time.perf_counter() - started

    started = time.perf_counter()
    outcome = reference.day(day.tables, day.rules)
    mesa_seconds = time.perf_counter() - started

    def vectorised() -> tuple[int, int]:
        impressions = intents = 0
        chunks = consumer_chunks(market, n)
        for _, out in run_chunks(
            market.engine, chunks, day.tables, day.rules, day.key, market.threads
        ):
            impressions += int(out.channel_impressions.sum())
            intents += int(out.intent_row.size)
        return impressions, intents

    kernel_impressions, kernel_intents = vectorised()  # warm-up: loads the compiled kernel
    times = []
    for _ in range(max(repeats, 1)):
        started = time.perf_counter()
        vectorised()
        times.append(time.perf_counter() - started)
    vectorised_seconds = min(times)
    return {
        "consumers": n,
        "scenario": str(scenario),
        "engine": market.engine,
        "threads": market.threads,
        "mesa_s": mesa_seconds,
        "vectorised_s": vectorised_seconds,
        "ratio": mesa_seconds / vectorised_seconds,
        "mesa_build_s": build_seconds,
        "mesa_impressions": int(outcome.channel_impressions.sum()),
        "vectorised_impressions": kernel_impressions,
        "mesa_intents": int(outcome.intent_consumer.size),
        "vectorised_intents": kernel_intents,
    }
