"""The scenario schema: validated, immutable configuration with units in the names.

Every value lives in ``scenarios/baseline.yaml``; the models here hold no defaults so that the
baseline file is the one place a default is written down. Other scenarios name a base file
with ``extends:`` and override parts of it (see :mod:`sim.scenario`).

Units, everywhere in the simulator:

* money is in yuan (``*_yuan``), as float64;
* time is in days (``*_days``); one model step is one day;
* probabilities (``*_prob``) and shares (``*_share``) are in [0, 1];
* rates carry their denominator in the name (``*_per_day``, ``*_per_week``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    model_validator,
)

from sim.vocabulary import (  # noqa: F401  (re-exported: the schema's names)
    CHANNELS,
    CREATOR_KINDS,
    INDEPENDENT_CREATOR_KINDS,
    MERCHANT_KINDS,
)

SCHEMA_VERSION = 1

MAX_ENTRY_SHARE_PER_DAY = 0.25
"""Highest entry share a scenario may set for merchants and creators. Entries per day are at
most ``ENTRY_RATIO_CAP`` times the share of the incumbents, so the agents of a kind grow by at
most ``1 + 3 x 0.25`` = 1.75 times a day; :mod:`sim.resources` counts on that bound."""
ENTRY_RATIO_CAP = 3.0
"""The cap on the earnings ratio / 2 that scales entries (:mod:`sim.phases.entry_exit`)."""


class Strict(BaseModel):
    """Base for every section: unknown keys are errors, values cannot be changed, and types are
    strict: a boolean must be written ``true``/``false`` (not ``1`` or ``"no"``), a count must
    be an integer (not ``true`` or ``2.0``), a number cannot be a boolean and a text must be
    text. An integer is still accepted where a number is expected (``take_rate: 0``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _f(description: str, **bounds) -> object:
    return Field(description=description, **bounds)


Prob = Annotated[float, Field(ge=0.0, le=1.0)]


def _known_category(name: str, info: ValidationInfo) -> str:
    """Check a category name against ``market.categories``, passed in as validation context."""
    known = (info.context or {}).get("categories")
    if known is not None and name not in known:
        raise ValueError(f"unknown category {name!r}; known: {', '.join(sorted(known))}")
    return name


CategoryName = Annotated[str, AfterValidator(_known_category)]
"""A category name; validated against ``market.categories`` when loaded through
:func:`sim.scenario.load_scenario` (which passes the category names as context)."""


# --------------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------------


class AgentRatios(Strict):
    """Agents per 100,000 consumers: how the market's other roles scale with its consumers."""

    creators: float = _f(
        "Independent creators per 100,000 consumers (own accounts come on top).", ge=0, le=1e7
    )
    merchants: float = _f("Merchants per 100,000 consumers.", ge=0, le=1e7)
    mcns: float = _f("MCN agencies per 100,000 consumers.", ge=0, le=1e6)
    service_providers: float = _f("Service providers per 100,000 consumers.", ge=0, le=1e6)


class PopulationConfig(Strict):
    """How many of each role there are at the start. Creators, merchants, MCNs and service
    providers left null follow the consumers at the ``per_100k_consumers`` ratios, so a run at
    any number of consumers has the same proportions (docs/MODEL.md §2.11 says what still
    changes with size); a count set explicitly is used as it is, at any scale."""

    consumers: int = _f(
        "Number of consumers at the start at scale 1 (people).", ge=10, le=100_000_000
    )
    scale: float = _f(
        "Multiplier of the consumers (and so of every count that follows the ratios): 0.1 is "
        "the same market at a tenth of its size.",
        gt=0,
        le=1000,
    )
    per_100k_consumers: AgentRatios = _f(
        "Creators, merchants, MCNs and service providers per 100,000 consumers, for the counts "
        "left null."
    )
    creators: int | None = _f(
        "Number of independent creators at the start (达人/主播; merchants' own accounts come "
        "on top, see merchants.kinds.*.own_account_share); null: from the ratio.",
        ge=1,
        le=1_000_000,
    )
    arrival_room_share: float = _f(
        "Rows reserved for consumers who arrive during the run, as a share of the consumers at "
        "the start (allocated up front, dormant until they arrive; arrivals stop when they "
        "are used up).",
        ge=0,
        le=10,
    )
    merchants: int | None = _f(
        "Number of merchants at the start; null: from the ratio.", ge=1, le=1_000_000
    )
    mcns: int | None = _f(
        "Number of MCN agencies (多频道网络机构); null: from the ratio.", ge=0, le=10_000
    )
    service_providers: int | None = _f(
        "Number of service providers (服务商) that run merchants' own accounts; null: from the "
        "ratio.",
        ge=0,
        le=10_000,
    )

    @property
    def n_consumers(self) -> int:
        """Consumers at the start: ``consumers x scale``, at least 10."""
        return max(10, round(self.consumers * self.scale))

    def _count(self, role: str, floor: int) -> int:
        explicit = getattr(self, role)
        if explicit is not None:
            return explicit
        ratio = getattr(self.per_100k_consumers, role)
        return max(floor, round(self.n_consumers * ratio / 100_000))

    @property
    def n_creators(self) -> int:
        return self._count("creators", 1)

    @property
    def n_merchants(self) -> int:
        return self._count("merchants", 1)

    @property
    def n_mcns(self) -> int:
        return self._count("mcns", 0)

    @property
    def n_service_providers(self) -> int:
        return self._count("service_providers", 0)

    def ratios(self) -> dict[str, float]:
        """The resolved counts per 100,000 consumers, by role."""
        n = self.n_consumers
        return {
            role: getattr(self, f"n_{role}") * 100_000 / n
            for role in ("creators", "merchants", "mcns", "service_providers")
        }


# --------------------------------------------------------------------------------------------
# Market: categories
# --------------------------------------------------------------------------------------------


class CategoryConfig(Strict):
    reference_price_yuan: float = _f(
        "Typical price of one unit in this category (yuan); the purchase model compares an "
        "offer's price with it.",
        gt=0,
        le=1_000_000,
    )
    interest_weight: float = _f(
        "Relative prevalence of interest in this category across consumers (dimensionless; "
        "the Dirichlet base measure).",
        gt=0,
        le=100,
    )
    need_weight: float = _f(
        "Relative frequency of explicit needs in this category (dimensionless).", gt=0, le=100
    )


class MarketConfig(Strict):
    categories: dict[str, CategoryConfig] = _f(
        "Product categories, each with its price level and how common interest and needs in "
        "it are. Names are used by merchant kinds, creator niches and take rates.",
        min_length=1,
        max_length=64,
    )
    regions: int = _f(
        "Number of regions consumers and merchants live in; logistics shocks hit regions.",
        ge=1,
        le=1000,
    )


# --------------------------------------------------------------------------------------------
# Consumers
# --------------------------------------------------------------------------------------------


class ChannelLogits(Strict):
    feed: float = _f(
        "Base purchase log-odds for an impression in the recommendation feed.", ge=-20, le=5
    )
    live: float = _f("Base purchase log-odds for an impression in a live room.", ge=-20, le=5)
    follow: float = _f(
        "Base purchase log-odds for an impression in the following feed.", ge=-20, le=5
    )
    search: float = _f("Base purchase log-odds for a search result shown on a need.", ge=-20, le=5)
    mall: float = _f(
        "Base purchase log-odds for a mall listing shown on a need or a visit.", ge=-20, le=5
    )


class PurchaseConfig(Strict):
    base_logit: ChannelLogits = _f("Base log-odds of buying after one impression, per channel.")
    interest_coef: float = _f(
        "Log-odds per unit of log interest affinity for the offer's category (dimensionless).",
        ge=0,
        le=10,
    )
    creator_trust_coef: float = _f(
        "Log-odds added per unit of trust in the creator (0-1) when the consumer follows them.",
        ge=0,
        le=10,
    )
    live_urgency_logit: float = _f(
        "Log-odds added in a live room: scarcity and the host's urgency (限时限量).", ge=0, le=10
    )
    platform_trust_coef: float = _f(
        "Log-odds per unit of platform trust above 0.5 (trust in [0, 1]).", ge=0, le=20
    )
    need_match_logit: float = _f(
        "Log-odds added when the offer's category matches the consumer's open need.", ge=0, le=10
    )
    quality_belief_coef: float = _f(
        "Log-odds per unit of believed quality above 0.5: what the consumer believes of the "
        "offer's quality from its claim (discounted by platform trust), the store score (when "
        "shown) and its own bad experience with the merchant.",
        ge=0,
        le=10,
    )
    quality_prior: Prob = _f(
        "Quality a consumer expects of an offer whose claim it does not believe and whose "
        "store has no record."
    )
    appeal_coef: float = _f(
        "Log-odds per unit of content appeal above 0.5 (creator skill and niche fit).", ge=0, le=10
    )
    price_coef: float = _f(
        "Log-odds lost per unit of log(price / category reference price), times the "
        "consumer's price sensitivity.",
        ge=0,
        le=10,
    )


class ExperienceConfig(Strict):
    delivery_days: int = _f("Days from order to delivery in normal times.", ge=0, le=60)
    dissatisfied_base_prob: float = _f(
        "Chance a delivered order disappoints even when it is as claimed.", ge=0, le=1
    )
    dissatisfied_per_quality_gap: float = _f(
        "Added chance of disappointment per unit by which claimed quality exceeds true "
        "quality (both 0-1).",
        ge=0,
        le=5,
    )
    dissatisfied_per_low_quality: float = _f(
        "Added chance of disappointment per unit of (1 - true quality).", ge=0, le=5
    )
    return_prob_if_dissatisfied: Prob = _f("Chance a disappointed buyer returns the item.")
    return_prob_if_satisfied: Prob = _f(
        "Chance a satisfied buyer still returns an order that met a need (changed mind)."
    )
    return_prob_if_impulse: Prob = _f(
        "Chance a satisfied buyer still returns an order that met no need of theirs (bought on "
        "impulse, regretted)."
    )
    complaint_prob_if_dissatisfied: Prob = _f("Chance a disappointed buyer complains.")
    review_prob: Prob = _f("Chance a buyer leaves a review (good if satisfied, bad if not).")
    platform_trust_gain: Prob = _f(
        "Share of the distance to full trust gained after a satisfying order."
    )
    platform_trust_loss: Prob = _f("Share of platform trust lost after a disappointing order.")
    creator_trust_gain: Prob = _f(
        "Share of the distance to full trust in the creator gained after a satisfying order."
    )
    creator_trust_loss: Prob = _f("Share of trust in the creator lost after a disappointing order.")
    leave_trust_threshold: Prob = _f(
        "Platform trust below which a consumer may leave the platform."
    )
    leave_prob: Prob = _f(
        "Chance per disappointing order that a consumer below the trust threshold leaves."
    )
    follow_after_satisfied_prob: Prob = _f(
        "Chance a satisfied buyer follows the creator whose content sold the item."
    )
    unfollow_after_dissatisfied_prob: Prob = _f(
        "Chance a disappointed buyer unfollows the creator whose content sold the item."
    )
    favorite_after_satisfied_prob: Prob = _f(
        "Chance a satisfied buyer remembers the merchant for the next need (repurchase)."
    )
    disappointment_discount: Prob = _f(
        "Share of believed quality a consumer takes off the offers of the merchant that last "
        "disappointed it (remembered until another merchant disappoints it)."
    )


class ConsumersConfig(Strict):
    interest_concentration: float = _f(
        "Dirichlet concentration of each consumer's interest over categories (lower = more "
        "focused interests).",
        gt=0,
        le=1000,
    )
    daily_active_prob_mean: Prob = _f("Mean chance that a consumer opens the app on a given day.")
    daily_active_prob_concentration: float = _f(
        "Beta concentration of the daily-active chance across consumers.", gt=0, le=1000
    )
    attention_items_per_day_mean: float = _f(
        "Mean number of commerce content items (videos and live rooms) an active consumer sees "
        "per day.",
        gt=0,
        le=200,
    )
    attention_sigma: float = _f(
        "Log-normal spread of daily attention across consumers.", ge=0, le=3
    )
    feed_share: Prob = _f("Share of content attention spent in the recommendation feed.")
    live_share: Prob = _f("Share of content attention spent in live rooms.")
    follow_share: Prob = _f("Share of content attention spent in the following feed.")
    budget_yuan_per_day_median: float = _f(
        "Median daily spending limit of a consumer on the platform (yuan/day).", gt=0, le=1e6
    )
    budget_sigma: float = _f("Log-normal spread of daily budgets.", ge=0, le=3)
    price_sensitivity_sigma: float = _f(
        "Log-normal spread of price sensitivity (median 1, dimensionless).", ge=0, le=3
    )
    platform_trust_mean: Prob = _f("Mean initial trust in the platform.")
    platform_trust_concentration: float = _f(
        "Beta concentration of initial platform trust.", gt=0, le=1000
    )
    need_prob_per_day: Prob = _f(
        "Chance per day that an active consumer without an open need gets an explicit need "
        "(人找货)."
    )
    need_patience_days: int = _f("Days an unmet need stays open before it lapses.", ge=1, le=365)
    search_share_of_needs: Prob = _f(
        "Share of needs taken to search rather than the mall when both are open."
    )
    results_per_need: int = _f(
        "Listings a consumer looks at when serving a need in search or the mall.", ge=1, le=100
    )
    mall_browse_prob: Prob = _f(
        "Chance per active day that a consumer without a need browses the mall's "
        "recommendations (猜你喜欢) and sees one listing."
    )
    max_follows: int = _f(
        "Most creators one consumer follows (row capacity of the follow table); a new follow "
        "beyond it replaces the least trusted one.",
        ge=1,
        le=64,
    )
    initial_follows_mean: float = _f(
        "Mean number of creators a consumer follows at the start.", ge=0, le=64
    )
    initial_creator_trust: Prob = _f("Trust in a creator when a consumer starts following them.")
    follow_after_view_prob: Prob = _f(
        "Chance per content impression, times the content's appeal, that the viewer follows the "
        "creator."
    )
    arrival_share_per_day: float = _f(
        "New consumers arriving per day, as a share of the consumers on the platform, before "
        "word of mouth.",
        ge=0,
        le=0.1,
    )
    arrivals_per_1000_impressions: float = _f(
        "New consumers drawn in per 1000 feed and live impressions of the day before: content "
        "that is shared beyond the platform's audience (word of mouth).",
        ge=0,
        le=100,
    )
    churn_prob_per_day: Prob = _f(
        "Chance per day that a consumer on the platform stops using it (quietly, apart from "
        "leaving after a disappointing order)."
    )
    return_prob_per_day: Prob = _f("Chance per day that a consumer who left comes back.")
    interest_drift_prob_per_day: Prob = _f(
        "Chance per day that a consumer's interests move halfway towards a fresh draw from "
        "the population's distribution."
    )
    interest_gain_after_purchase: Prob = _f(
        "Share of the gap to 1 by which a satisfied order raises the buyer's interest in its "
        "category (latent interest woken), before renormalising."
    )
    interest_wake_prob_per_program_impression: Prob = _f(
        "Chance that an impression a program added (the boosted share of an impression) wakes "
        "its viewer's latent interest in the category: programs reach beyond the audience that "
        "already wants the category, and some of those reached come to want it."
    )
    interest_gain_after_wake: Prob = _f(
        "Share of the gap to 1 by which a woken interest rises, before renormalising."
    )
    merchant_memory_days: float = _f(
        "Mean days a consumer remembers a favourite merchant before forgetting it (each day "
        "the memory fades with chance 1 / this).",
        gt=0,
        le=100_000,
    )
    new_customer_window_days: int = _f(
        "An order is from a new customer when its buyer placed no order with that merchant "
        "in the last this many days (the buyer history forgets older orders).",
        ge=1,
        le=100_000,
    )
    purchase: PurchaseConfig
    experience: ExperienceConfig

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> ConsumersConfig:
        total = self.feed_share + self.live_share + self.follow_share
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"feed_share + live_share + follow_share must be 1 (they are {total:g})"
            )
        return self


# --------------------------------------------------------------------------------------------
# Merchants
# --------------------------------------------------------------------------------------------


class MerchantKindConfig(Strict):
    share: Prob = _f("Share of merchants of this kind, at the start and among entrants.")
    categories: list[CategoryName] = _f(
        "Categories a merchant of this kind sells in.", min_length=1
    )
    true_quality_mean: Prob = _f("Mean true quality of an honest merchant's product (0-1).")
    true_quality_sd: float = _f("Spread of true quality across honest merchants.", ge=0, le=1)
    unit_cost_share: float = _f(
        "Unit cost as a share of the category reference price, for an honest merchant.",
        gt=0,
        le=10,
    )
    capacity_units_per_day_median: float = _f(
        "Median daily production capacity (units/day).", gt=0, le=1e7
    )
    capacity_sigma: float = _f("Log-normal spread of capacity.", ge=0, le=3)
    initial_cash_yuan: float = _f("Cash at the start or on entry (yuan).", ge=0, le=1e12)
    fixed_cost_yuan_per_day: float = _f("Overheads paid every day (yuan/day).", ge=0, le=1e9)
    own_account_share: Prob = _f(
        "Chance that a merchant of this kind runs its own account (自播), a creator agent of "
        "its own."
    )


class MerchantLearningConfig(Strict):
    review_interval_days: int = _f("Days between a merchant's strategy reviews.", ge=1, le=365)
    price_step: float = _f("Relative price change per review (0.05 = 5%).", ge=0, le=1)
    commission_step: float = _f("Change of the creator commission rate per review.", ge=0, le=0.5)
    traffic_step: float = _f("Relative change of the traffic budget per review.", ge=0, le=5)
    stock_cover_days: float = _f(
        "Days of expected demand a merchant keeps in stock (production target).", gt=0, le=365
    )
    demand_memory_days: float = _f(
        "Time constant of the merchant's moving average of demand (days).", gt=0, le=365
    )


class HonestyConfig(Strict):
    """How merchants choose, for each product they launch, whether to cheat (sell low
    quality claimed as high): by expected profit against the expected cost of being caught
    and of a lost reputation, and their scruples."""

    forced_cheat_share: Prob | None = _f(
        "For experiments: each product cheats with this chance, whatever it earns. "
        "null: merchants choose (the default)."
    )
    scruple_median: float = _f(
        "Median of merchants' scruples: the cost they feel per cheating unit sold, as a share "
        "of its price (log-normal across merchants).",
        ge=0,
        le=10,
    )
    scruple_sigma: float = _f("Log-normal spread of scruples across merchants.", ge=0, le=5)
    choice_noise: float = _f(
        "Scale of the noise in the choice to cheat, as a share of the product's expected "
        "daily sales value (a logit choice; 0 = always the better option).",
        ge=0,
        le=10,
    )
    product_lifetime_days: float = _f(
        "Mean days a product stays on sale before the merchant replaces it with a new one "
        "(each new product is a new choice and a new screening).",
        ge=1,
        le=3650,
    )
    skus_per_product: int = _f(
        "Listings (SKUs) a product launch puts through screening; an intercepted launch "
        "counts each of them.",
        ge=1,
        le=1000,
    )
    reputation_horizon_days: float = _f(
        "Days of future sales over which a merchant weighs the store score it would lose by "
        "cheating.",
        ge=0,
        le=3650,
    )


class MerchantExitConfig(Strict):
    profit_fast_memory_days: float = _f(
        "Time constant of the fast moving average of a merchant's daily accrual profit (days).",
        ge=1,
        le=365,
    )
    profit_slow_memory_days: float = _f(
        "Time constant of the slow moving average of daily accrual profit (days); with the "
        "fast one it gives the profit's trend.",
        ge=1,
        le=3650,
    )
    lookahead_days: float = _f(
        "How far ahead a merchant extrapolates its profit's trend when it judges whether to "
        "stay (days).",
        ge=0,
        le=3650,
    )
    patience_days: int = _f(
        "Days in a row that expected profit must stay negative before a merchant exits.",
        ge=1,
        le=3650,
    )


class MerchantEntryConfig(Strict):
    cost_days: float = _f(
        "Cost of entry, paid from the starting cash on entry, in days of the kind's overheads "
        "(setting up a shop: a sunk cost).",
        ge=0,
        le=3650,
    )
    horizon_days: float = _f(
        "Days of incumbents' profit a potential entrant weighs against the cost of entry.",
        gt=0,
        le=3650,
    )
    noise: float = _f(
        "Spread of potential entrants' judgement of returns (logit scale, in units of the "
        "return on the entry cost): higher means kinds and categories are chosen more at "
        "random.",
        gt=0,
        le=100,
    )
    min_age_days: int = _f(
        "Incumbents younger than this (days since entry) do not count in the profits entrants "
        "look at, unless there are no older ones.",
        ge=0,
        le=3650,
    )


class MerchantCapacityConfig(Strict):
    overtime_share: float = _f(
        "Production beyond capacity possible in overtime (加班加点), as a share of capacity.",
        ge=0,
        le=10,
    )
    overtime_cost_premium: float = _f(
        "Extra cost of a unit made in overtime, as a share of the unit cost.", ge=0, le=10
    )
    utilisation_memory_days: float = _f(
        "Time constant of the moving average of capacity use (units produced / capacity).",
        ge=1,
        le=365,
    )
    invest_utilisation: float = _f(
        "Capacity use at or above which a profitable merchant invests at its review.",
        gt=0,
        le=10,
    )
    idle_utilisation: float = _f(
        "Capacity use below which a merchant shrinks its capacity at its review.", ge=0, le=10
    )
    step: float = _f("Relative change of capacity per review when it changes.", ge=0, le=1)
    min_share: float = _f(
        "Capacity never shrinks below this share of the capacity at entry.", gt=0, le=1
    )
    overhead_share: Prob = _f(
        "Share of the kind's overheads that grows and shrinks with capacity (the rest is fixed)."
    )


class MerchantTrafficConfig(Strict):
    initial_bid_margin_share: Prob = _f(
        "A merchant's first bid per conversion (oCPM), as a share of its unit margin."
    )
    bid_step: float = _f("Relative change of the bid per conversion per review.", ge=0, le=5)
    target_roi: float = _f(
        "Incremental return on traffic spend (incremental margin / spend) above which a "
        "merchant bids or spends more; below 1 it bids and spends less.",
        ge=1,
        le=100,
    )
    budget_margin_cap: float = _f(
        "The daily traffic budget never exceeds this share of the merchant's recent daily "
        "gross margin (budgets bounded by profit).",
        ge=0,
        le=10,
    )


class MerchantsConfig(Strict):
    kinds: dict[str, MerchantKindConfig] = _f("Merchant kinds (商家类型) and their parameters.")
    honesty: HonestyConfig
    cheat_true_quality_mean: Prob = _f("Mean true quality of a cheating product.")
    cheat_claimed_quality: Prob = _f("Quality a cheating product claims.")
    cheat_cost_factor: float = _f(
        "A cheating product's unit cost relative to the merchant's honest cost (cheap goods).",
        gt=0,
        le=1,
    )
    honest_claim_puffery: float = _f(
        "How far an honest merchant's claim exceeds its true quality.", ge=0, le=0.5
    )
    markup_mean: float = _f(
        "Mean initial price over unit cost (2 = price twice the cost).", gt=1, le=20
    )
    markup_sd: float = _f("Spread of initial markups.", ge=0, le=10)
    commission_rate_mean: Prob = _f("Mean initial commission offered to creators (share of price).")
    commission_rate_max: Prob = _f("Highest commission a merchant will offer.")
    traffic_budget_share: Prob = _f(
        "Initial daily traffic budget as a share of the merchant's expected daily revenue."
    )
    credit_limit_yuan: float = _f(
        "How far below zero a merchant's cash may go before it is bankrupt and exits (yuan).",
        ge=0,
        le=1e12,
    )
    entry_share_per_day: float = _f(
        "Potential entrants per day, as a share of the merchants at the start (so it scales "
        "with the market); each enters a kind and category, or stays out, by the profits "
        "incumbents earn. At most 0.25 (the memory estimate assumes that worst case).",
        ge=0,
        le=MAX_ENTRY_SHARE_PER_DAY,
    )
    learning: MerchantLearningConfig
    exit: MerchantExitConfig
    entry: MerchantEntryConfig
    capacity: MerchantCapacityConfig
    traffic: MerchantTrafficConfig

    @model_validator(mode="after")
    def _kinds_known(self) -> MerchantsConfig:
        unknown = sorted(set(self.kinds) - set(MERCHANT_KINDS))
        if unknown:
            raise ValueError(f"unknown merchant kinds {unknown}; known: {list(MERCHANT_KINDS)}")
        total = sum(k.share for k in self.kinds.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"merchant kind shares must sum to 1 (they sum to {total:g})")
        return self


# --------------------------------------------------------------------------------------------
# Creators
# --------------------------------------------------------------------------------------------


class CreatorKindConfig(Strict):
    share: Prob = _f(
        "Share of independent creators of this kind (ignored for own-account kinds, which come "
        "with their merchant)."
    )
    niche: list[CategoryName] = _f(
        "Categories the creator's audience cares about (an own account's niche is its "
        "merchant's category instead).",
        min_length=1,
    )
    skill_mean: Prob = _f("Mean content skill (0-1): how appealing the content is.")
    skill_sd: float = _f("Spread of content skill.", ge=0, le=1)
    videos_per_day: float = _f("Short videos produced per day (capacity).", ge=0, le=100)
    lives_per_week: float = _f("Live sessions per week (capacity).", ge=0, le=50)
    popularity_weight: float = _f(
        "Relative weight in the initial allocation of follows (higher = more followers).",
        gt=0,
        le=1e6,
    )
    reservation_yuan_per_day: float = _f(
        "What the creator's time is worth (yuan/day); income below it for long makes them quit.",
        ge=0,
        le=1e9,
    )


class LiveSessionsConfig(Strict):
    """Live sessions as events (直播场次): announced ahead, pre-stocked, sold at a limited-time
    price to an audience of notified followers and feed traffic drawn in."""

    lead_days: int = _f(
        "Days ahead a creator announces a live session (预告); the featured merchants learn of "
        "it then and can stock up before it.",
        ge=1,
        le=60,
    )
    discount_share: float = _f(
        "Limited-time price cut (直播间专享价) a featured merchant gives on the session day, as a "
        "share of its list price (never below its price floor over unit cost).",
        ge=0,
        lt=1,
    )
    prestock: bool = _f(
        "Whether featured merchants produce ahead for an announced session (on top of their "
        "usual stock target, within capacity, overtime and cash)."
    )
    presale_days: int = _f(
        "Pre-sale (预售): on a session day a featured merchant also takes orders beyond its "
        "stock, up to what it can make in this many days at capacity and overtime, less what "
        "it already owes; a pre-sold order ships once its unit is made (0: no pre-sale, a "
        "session sells only what is in stock).",
        ge=0,
        le=90,
    )
    stock_cover: float = _f(
        "Units a featured merchant stocks for a session, in multiples of the session's "
        "expected demand for its goods.",
        ge=0,
        le=100,
    )
    prior_units_per_1000_followers: float = _f(
        "Before a creator has a record, the units one featured offer of its session is "
        "expected to sell, per 1000 followers (plus one).",
        ge=0,
        le=1e6,
    )
    memory_sessions: float = _f(
        "Time constant, in sessions, of a creator's moving average of the units a featured "
        "offer of its sessions was asked for (the forecast merchants stock by).",
        ge=1,
        le=1000,
    )
    feed_entries: bool = _f(
        "Whether, on a session day, the creator's short videos lead into the live room "
        "(feed traffic drawn in: they are shown in the feed and count as room visits)."
    )
    session_boost: float = _f(
        "Log-weight the recommender adds to an announced session's items in the feed and live "
        "rooms (reminders to those who booked it, 预约提醒).",
        ge=0,
        le=20,
    )
    big_session_share: Prob = _f(
        "Share of a creator's sessions that are big sessions (大场): announced big_lead_days "
        "ahead and promoted with big_session_boost."
    )
    big_lead_days: int = _f("Days ahead a big session is announced.", ge=1, le=365)
    big_session_boost: float = _f(
        "Log-weight the recommender adds to a big session's items (its promotion).", ge=0, le=20
    )


class CreatorsConfig(Strict):
    kinds: dict[str, CreatorKindConfig] = _f("Creator kinds and their parameters.")
    offer_slots: int = _f("Offers a creator carries at a time (橱窗).", ge=1, le=100)
    candidate_offers: int = _f(
        "Offers a creator looks at from the selection market (精选联盟) when choosing.",
        ge=1,
        le=10_000,
    )
    reselect_interval_days: int = _f(
        "Days between a creator's product selections (选品).", ge=1, le=365
    )
    selection_temperature: float = _f(
        "Randomness of product selection (0 = always the best expected earnings).", ge=0, le=10
    )
    quality_prior_strength: float = _f(
        "How many observed sales a creator's belief about a merchant's quality is worth before "
        "any sale (pseudo-count).",
        gt=0,
        le=1e6,
    )
    sales_prior_days: float = _f(
        "How many days of carrying an offer a creator's prior guess of its sales is worth "
        "(days); more means creators learn more slowly from what sold.",
        gt=0,
        le=3650,
    )
    content_income_yuan_per_1000_impressions: float = _f(
        "Content income the platform pays a creator per 1000 impressions (yuan).", ge=0, le=1e4
    )
    income_memory_days: float = _f(
        "Time constant of a creator's moving average of income (days).", gt=0, le=365
    )
    exit_patience_days: int = _f(
        "Consecutive days of average income below the reservation wage before a creator quits.",
        ge=1,
        le=3650,
    )
    talent_pareto_alpha: float = _f(
        "Tail index of creators' talent: talent = 1 + Lomax(alpha), a heavy-tailed draw (mean "
        "alpha / (alpha - 1)); the recommender reads it as how engaging the creator's content "
        "is (watch time), not as a number of followers.",
        gt=1,
        le=100,
    )
    commission_keep_prior: Prob = _f(
        "Share of a sale's commission a creator expects to keep (not returned) before any "
        "delivery, used to book commissions earned but not yet paid."
    )
    entry_share_per_day: float = _f(
        "Expected new independent creators per day, as a share of the active ones, when "
        "creators earn twice their reservation wage on average (scaled by that ratio / 2, up to "
        "3x). At most 0.25, so creators grow at most 1.75-fold a day (the memory estimate "
        "assumes that worst case).",
        ge=0,
        le=MAX_ENTRY_SHARE_PER_DAY,
    )
    live: LiveSessionsConfig

    @model_validator(mode="after")
    def _kinds_known(self) -> CreatorsConfig:
        unknown = sorted(set(self.kinds) - set(CREATOR_KINDS))
        if unknown:
            raise ValueError(f"unknown creator kinds {unknown}; known: {list(CREATOR_KINDS)}")
        missing = sorted(set(CREATOR_KINDS) - set(self.kinds))
        if missing:
            raise ValueError(f"creator kinds missing: {missing}")
        total = sum(self.kinds[k].share for k in INDEPENDENT_CREATOR_KINDS)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"shares of the independent creator kinds {list(INDEPENDENT_CREATOR_KINDS)} "
                f"must sum to 1 (they sum to {total:g})"
            )
        return self


# --------------------------------------------------------------------------------------------
# MCNs and service providers
# --------------------------------------------------------------------------------------------


class McnConfig(Strict):
    revenue_share: Prob = _f("Share of a signed creator's commission income paid to the MCN.")
    roster_max: int = _f("Most creators one MCN signs.", ge=1, le=100_000)
    sign_interval_days: int = _f("Days between an MCN's scouting rounds.", ge=1, le=365)
    signings_per_round: int = _f("Creators an MCN tries to sign per scouting round.", ge=0, le=1000)
    accept_prob: Prob = _f("Chance a scouted creator accepts the contract.")
    training_skill_gain_per_day: float = _f(
        "Share of the gap to full skill a signed creator closes per day of training.", ge=0, le=1
    )
    training_cost_yuan_per_creator_per_day: float = _f(
        "What training costs the MCN per signed creator per day (yuan).", ge=0, le=1e6
    )
    screening_accuracy: Prob = _f(
        "Chance the MCN recognises a violating merchant when brokering offers."
    )
    brokered_offers: int = _f(
        "Screened offers the MCN adds to a signed creator's choice.", ge=0, le=1000
    )
    drop_income_yuan_per_day: float = _f(
        "A signed creator whose average income stays below this is dropped (yuan/day).",
        ge=0,
        le=1e9,
    )


class ServiceProviderConfig(Strict):
    fee_yuan_per_day: float = _f(
        "Fee a merchant pays per day for a run own account (yuan/day).", ge=0, le=1e9
    )
    clients_max: int = _f("Most merchants one provider serves.", ge=1, le=100_000)
    hire_prob_on_entry: Prob = _f("Chance a new merchant hires a provider on entry.")
    skill: Prob = _f("Content skill of the own account a provider runs for a client.")
    cold_start_days: int = _f(
        "Days a new client's listing gets the cold-start boost, from the day it is taken on.",
        ge=0,
        le=365,
    )
    cold_start_boost: float = _f(
        "Ranking boost (log-weight) for a client's listing during its cold start.", ge=0, le=10
    )


# --------------------------------------------------------------------------------------------
# Platform
# --------------------------------------------------------------------------------------------


class ChannelsConfig(Strict):
    feed: bool = _f("Recommendation feed of short videos (货找人).")
    live: bool = _f("Live rooms.")
    follow: bool = _f("Following feed: content of followed creators.")
    search: bool = _f("Search (人找货).")
    mall: bool = _f("Mall (商城).")


class InterestOnlyRecommender(Strict):
    kind: Literal["interest_only"] = _f(
        "Ranks content by the viewer's interest in its category and the content's appeal only."
    )
    temperature: float = _f(
        "Softmax temperature of the ranking (lower = more deterministic top-k).", gt=0, le=100
    )


class InterestQualityRecommender(Strict):
    kind: Literal["interest_quality"] = _f(
        "Also weighs the platform's quality estimate, popularity, paid traffic and boosts."
    )
    temperature: float = _f(
        "Softmax temperature of the ranking (lower = more deterministic top-k).", gt=0, le=100
    )
    quality_weight: float = _f("Log-weight per unit of estimated quality above 0.5.", ge=0, le=100)
    popularity_weight: float = _f(
        "Log-weight per unit of log(1 + recent daily sales over the average listing's).",
        ge=0,
        le=100,
    )
    paid_weight: float = _f(
        "Multiplier of the log-weight bought as traffic (1: a budget buys about budget / CPM x "
        "1000 extra impressions).",
        ge=0,
        le=100,
    )
    boost_weight: float = _f("Multiplier of program and cold-start boosts.", ge=0, le=100)
    follower_weight: float = _f(
        "Preferential attachment: log-weight per unit of log(1 + the creator's followers over "
        "the mean active creator's) for the creator's videos and live appearances (1: reach "
        "proportional to 1 + relative followers).",
        ge=0,
        le=10,
    )
    talent_weight: float = _f(
        "Log-weight per unit of log(creator talent) (1: reach proportional to talent).",
        ge=0,
        le=10,
    )


RecommenderConfig = Annotated[
    InterestOnlyRecommender | InterestQualityRecommender, Field(discriminator="kind")
]


class ShelfRankingConfig(Strict):
    quality_weight: float = _f(
        "Log-weight per unit of estimated quality above 0.5 in search and mall.", ge=0, le=100
    )
    sales_weight: float = _f(
        "Log-weight per unit of log(1 + recent daily sales over the average listing's).",
        ge=0,
        le=100,
    )
    price_weight: float = _f(
        "Log-weight lost per unit of log(price / reference price).", ge=0, le=100
    )
    paid_weight: float = _f(
        "Multiplier of the log-weight bought as traffic, in search and the mall.", ge=0, le=100
    )
    loyalty_prob: Prob = _f(
        "Chance a remembered merchant's listing is the first result on a matching need."
    )


class TrafficConfig(Strict):
    cpm_yuan: float = _f(
        "Value of 1000 impressions given by programs (yuan); paid traffic is priced by the "
        "auction.",
        gt=0,
        le=1e6,
    )
    ad_load_share: Prob = _f(
        "Share of a category's impressions the platform sells as paid traffic each day (the "
        "auction's supply)."
    )
    reserve_cpm_yuan: float = _f(
        "Reserve price of the auction (yuan per 1000 impressions): no bid below it wins, no "
        "winner pays less.",
        ge=0,
        le=1e6,
    )
    conversion_prior_impressions: float = _f(
        "Weight, in impressions, of the market-wide conversion rate in the platform's "
        "predicted conversion rate of a listing (oCPM).",
        gt=0,
        le=1e9,
    )


class GovernanceConfig(Strict):
    """Platform governance (治理). ``strictness`` sets every rule below that is left ``null``,
    by the formula in its description; a scenario may also set any rule by itself."""

    enabled: StrictBool = _f(
        "Whether the platform governs at all: screening, delisting, investigations and the "
        "enforcement ladder (false: none of them, and none of their costs)."
    )
    strictness: Prob = _f(
        "How strictly the platform governs (0 = lax, 1 = strict); sets each rule left null."
    )
    screening_detection_prob: Prob | None = _f(
        "Chance that screening intercepts a cheating product launch before it goes live. "
        "null: 0.1 + 0.85 x strictness."
    )
    screening_false_alarm_prob: Prob | None = _f(
        "Chance that screening wrongly intercepts an honest launch. null: 0.002 + 0.02 x strictness."
    )
    investigation_base_prob_per_day: Prob | None = _f(
        "Chance per day that a merchant with a product on the market is investigated at "
        "random (spot checks). null: 0.0005 + 0.002 x strictness."
    )
    investigation_prob_per_excess_se: Prob | None = _f(
        "Added chance of investigation per day for each standard error by which the "
        "merchant's recent complaint or return rate exceeds its category's (the larger of the "
        "two excesses beyond the threshold; the chance is capped at 1). "
        "null: 0.01 + 0.05 x strictness."
    )
    excess_threshold_se: float | None = _f(
        "Standard errors of excess complaint or return rate below which nothing triggers an "
        "investigation. null: 3 - 1.5 x strictness.",
        ge=0,
        le=100,
    )
    conviction_prob: Prob | None = _f(
        "Chance an investigation proves a cheating product. null: 0.5 + 0.45 x strictness."
    )
    false_conviction_prob: Prob | None = _f(
        "Chance an investigation wrongly convicts an honest merchant. null: 0.01 + 0.05 x strictness."
    )
    delist_quality_threshold: Prob | None = _f(
        "A listing whose estimated quality falls below this is delisted as risky. "
        "null: 0.1 + 0.35 x strictness."
    )
    fine_strikes: int | None = _f(
        "Active strikes (unexpired convictions) from which a conviction also fines the "
        "merchant (a first conviction only warns and bans the product). "
        "null: 2, or 1 at strictness 0.75 and above.",
        ge=1,
        le=100,
    )
    suspension_strikes: int | None = _f(
        "Active strikes from which a conviction also suspends the merchant. "
        "null: 3, or 2 at strictness 0.75 and above.",
        ge=1,
        le=100,
    )
    removal_strikes: int | None = _f(
        "Active strikes at which a conviction removes the merchant (清退). "
        "null: 5; 6 below strictness 0.25; 4 at 0.75 and above.",
        ge=1,
        le=100,
    )
    strike_expiry_days: int = _f(
        "Days after which a strike expires (no longer counts on the ladder).", ge=1, le=3650
    )
    suspension_days: int = _f("Days a suspended merchant may not list anything.", ge=1, le=3650)
    fine_min_yuan: float | None = _f(
        "Smallest fine (yuan). null: 500 x (1 + 4 x strictness).", ge=0, le=1e9
    )
    fine_share_of_sales: Prob | None = _f(
        "A fine as a share of the merchant's sales value over the last 30 days, times the "
        "severity (the quality gap of the convicted product, at least 0.1); at least "
        "fine_min_yuan. null: 0.1 + 0.4 x strictness."
    )
    appeal_prob_if_innocent: Prob = _f("Chance a merchant wrongly convicted appeals.")
    appeal_prob_if_guilty: Prob = _f("Chance a merchant rightly convicted appeals.")
    appeal_success_if_innocent: Prob = _f(
        "Chance an appeal of a wrong conviction overturns it (no strike, ban or fine)."
    )
    appeal_success_if_guilty: Prob = _f("Chance an appeal of a right conviction overturns it.")
    screening_cost_yuan: float = _f(
        "Cost of screening one new listing (SKU) at strictness 1 (yuan); at strictness s it "
        "costs (0.2 + 0.8 s) times this.",
        ge=0,
        le=1e6,
    )
    investigation_cost_yuan: float = _f("Cost of one investigation (yuan).", ge=0, le=1e6)
    relist_delay_days: int = _f(
        "Days a merchant needs to prepare a new listing after an interception or a ban.",
        ge=0,
        le=365,
    )
    delist_days: int = _f("Days a risky product stays delisted.", ge=1, le=365)
    complaint_memory_days: float = _f(
        "Time constant of the platform's moving averages of each merchant's daily deliveries, "
        "complaints and returns (days).",
        gt=0,
        le=365,
    )


class ReputationConfig(Strict):
    visible: StrictBool = _f(
        "Whether consumers see each store's score (商家体验分) next to its offers."
    )
    prior_reviews: float = _f(
        "How many reviews' worth of evidence a store score needs to weigh as much as the "
        "claim it is shown with: the score's weight is n / (n + prior_reviews) for n "
        "reviews, returns and complaints on record.",
        gt=0,
        le=1e6,
    )


class GuaranteeFundConfig(Strict):
    enabled: StrictBool = _f(
        "Whether the guarantee fund (保障基金) compensates buyers and deposits (保证金) are posted."
    )
    compensation_share: Prob = _f(
        "Share of the price paid from the guarantee fund to a buyer who complains about a "
        "disappointing order it kept (a returned order is refunded, not compensated)."
    )
    trust_loss_relief: Prob = _f("Share of the trust loss a compensated buyer is spared.")
    deposit_yuan: float = _f(
        "Deposit (保证金) a merchant posts with the platform on entry; the fund recovers from "
        "it what it pays for a cheating product's orders; returned when the merchant leaves, "
        "forfeited when it is removed.",
        ge=0,
        le=1e9,
    )


class PlatformConfig(Strict):
    take_rate: Prob = _f("Platform commission on each kept order (share of price).")
    take_rate_by_category: dict[CategoryName, Prob] = _f(
        "Per-category take rates overriding take_rate (share of price)."
    )
    payment_delay_days: int = _f(
        "Days after delivery before the platform pays a merchant for a kept order (账期).",
        ge=0,
        le=365,
    )
    channels: ChannelsConfig
    recommender: RecommenderConfig
    max_creator_weight_multiple: float | None = _f(
        "The most of a category's feed (and of its live) recommendation weight one creator's "
        "content may hold, as a multiple of the mean per creator with content there: the "
        "platform's exposure cap (流量扶持); a creator above it is scaled down to it "
        "(null = no cap). Stated against the mean, the cap means the same in a market of any "
        "size.",
        gt=1,
        le=1e6,
    )
    shelf_ranking: ShelfRankingConfig
    traffic: TrafficConfig
    quality_prior_strength: float = _f(
        "Pseudo-count of the platform's prior on a new listing's quality (reviews' worth).",
        gt=0,
        le=1e6,
    )
    complaint_weight: float = _f(
        "How many bad reviews one complaint counts for in the quality estimate.", ge=0, le=1000
    )
    governance: GovernanceConfig
    reputation: ReputationConfig
    guarantee_fund: GuaranteeFundConfig


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------


class DatedConfig(Strict):
    """Something that is on from ``start_day`` to ``end_day`` inclusive (0-based steps)."""

    start_day: int = _f("First day it is on (0-based step).", ge=0)
    end_day: int = _f("Last day it is on, inclusive (0-based step).", ge=0)

    @model_validator(mode="after")
    def _ordered(self):
        if self.end_day < self.start_day:
            raise ValueError(f"end_day ({self.end_day}) is before start_day ({self.start_day})")
        return self

    def is_on(self, day: int) -> bool:
        return self.start_day <= day <= self.end_day


class FestivalEvent(DatedConfig):
    kind: Literal["festival"] = _f("A shopping festival: more people shop and buy.")
    purchase_logit: float = _f("Log-odds added to every purchase decision.", ge=-10, le=10)
    active_prob_multiplier: float = _f("Multiplier of the daily-active chance.", gt=0, le=10)


class LogisticsShockEvent(DatedConfig):
    kind: Literal["logistics_shock"] = _f(
        "A logistics shock in some regions: slower delivery and more returns for consumers and "
        "merchants there."
    )
    region_share: Prob = _f("Share of regions hit (the lowest-numbered regions).")
    extra_delivery_days: int = _f("Days added to delivery in hit regions.", ge=0, le=60)
    extra_dissatisfied_prob: Prob = _f(
        "Added chance that an order touching a hit region disappoints (damage, delay)."
    )
    capacity_multiplier: float = _f(
        "Multiplier of the daily production capacity of merchants in hit regions (1 = unhurt).",
        ge=0,
        le=1,
    )


EventConfig = Annotated[FestivalEvent | LogisticsShockEvent, Field(discriminator="kind")]


# --------------------------------------------------------------------------------------------
# Programs
# --------------------------------------------------------------------------------------------

MerchantKind = Literal[MERCHANT_KINDS]


class ProgramTarget(Strict):
    """Which merchants a program serves: all of the listed kinds and categories (an empty list
    means any)."""

    merchant_kinds: list[MerchantKind] = _f("Merchant kinds served; [] = every kind.")
    categories: list[CategoryName] = _f("Categories served; [] = every category.")


class ProgramBase(DatedConfig):
    name: str = _f("Name of the program, e.g. 山货上头条 (rural goods).", min_length=1)
    budget_yuan: float = _f(
        "What the program may spend in all (yuan); it stops when the budget is spent. Traffic "
        "it gives is valued at the CPM price of the extra impressions.",
        ge=0,
        le=1e13,
    )
    boost: float = _f(
        "Ranking boost (log-weight) given to what the program serves: a merchant's listing in "
        "the feed, live rooms, search and the mall; a new creator's content in the feed and "
        "live rooms (0 = none).",
        ge=0,
        le=20,
    )


class TrafficSubsidyProgram(ProgramBase):
    kind: Literal["traffic_subsidy"] = _f(
        "A traffic subsidy for a kind of merchant or a category: 山货上头条 (rural goods), 看见手艺 "
        "(heritage crafts), 全民好书计划 (books)."
    )
    target: ProgramTarget


class NewcomerSupportProgram(ProgramBase):
    kind: Literal["newcomer_support"] = _f(
        "Support for new creators or new merchants: their content or listings get a boost."
    )
    newcomers: Literal["creators", "merchants"] = _f("Who the program supports.")
    max_age_days: int = _f(
        "A creator or merchant that arrived after the start counts as new for this many days "
        "(those present on day 0 never do; for creators, only independent ones).",
        ge=1,
        le=3650,
    )


class RecoveryPlanProgram(ProgramBase):
    kind: Literal["recovery_plan"] = _f(
        "A merchant recovery plan for a shock (商家复产护航计划): faster payment, a shipping-"
        "insurance subsidy, commission-free selling and a traffic boost."
    )
    target: ProgramTarget
    shocked_regions_only: bool = _f(
        "Serve only merchants in regions hit by a logistics shock that day."
    )
    payment_delay_days: int | None = _f(
        "Payment delay for served merchants' kept orders (急速收款); null = the platform's usual.",
        ge=0,
        le=365,
    )
    shipping_insurance_yuan_per_return: float = _f(
        "Paid by the platform to a served merchant for each returned order (运费险补贴, yuan).",
        ge=0,
        le=1e6,
    )
    commission_free: bool = _f("Served merchants pay no take rate (免佣).")


ProgramConfig = Annotated[
    TrafficSubsidyProgram | NewcomerSupportProgram | RecoveryPlanProgram,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def _known_metric(name: str, info: ValidationInfo) -> str:
    """A metric name the loader knows (it passes the registry's names as the validation
    context ``metric_names``; the schema itself knows no metrics)."""
    names = (info.context or {}).get("metric_names")
    if names is not None and name not in names:
        import difflib

        close = difflib.get_close_matches(name, list(names), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (see docs/METRICS.md)"
        raise ValueError(f"unknown metric {name!r}{hint}")
    return name


MetricName = Annotated[str, AfterValidator(_known_metric)]


class CalibrationParameter(Strict):
    low: float = _f("Lowest value the calibration tries.")
    high: float = _f("Highest value the calibration tries.")
    log: StrictBool = _f("Search on a log scale (low must then be above 0).")
    integer: StrictBool = Field(
        False, description="Search whole numbers only (for a key that takes an integer)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> CalibrationParameter:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("a log-scale range needs low > 0")
        if self.integer and not (float(self.low).is_integer() and float(self.high).is_integer()):
            raise ValueError("an integer range needs whole-number low and high")
        return self

    def value(self, x: float) -> float | int:
        """``x`` within the range, as the key takes it (rounded for an integer range)."""
        x = min(max(x, self.low), self.high)
        return round(x) if self.integer else x


class CalibrationConfig(Strict):
    """What `zhongcao calibrate` may change, and within which ranges (docs/CALIBRATION.md)."""

    parameters: dict[str, CalibrationParameter] = _f(
        "Free parameters: each dotted key of this scenario with the range searched.",
        min_length=1,
    )
    seeds: int = _f(
        "Seed indices each trial runs (common random numbers across trials).", ge=1, le=100
    )


class OutputConfig(Strict):
    headline_metrics: list[MetricName] = _f(
        "Metrics shown first in comparisons, figures and reports (names from docs/METRICS.md).",
        min_length=1,
    )
    agent_sample_every_days: int = _f(
        "Days between snapshots in the per-agent tables (creators.parquet, merchants.parquet).",
        ge=1,
        le=3650,
    )


# --------------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------------

DISTRIBUTION_PARAMETERS = {
    "uniform": ("low", "high"),
    "loguniform": ("low", "high"),
    "triangular": ("low", "high", "mode"),
    "normal": ("mean", "sd"),
    "truncated_normal": ("low", "high", "mean", "sd"),
    "lognormal": ("mean", "sd"),
}
"""The distributions a swept parameter may follow, and the numbers each needs (SALib's
``unif``, ``logunif``, ``triang``, ``norm``, ``truncnorm`` and ``lognorm``)."""


class DistributionConfig(Strict):
    kind: Literal[
        "uniform", "loguniform", "triangular", "normal", "truncated_normal", "lognormal"
    ] = _f("The distribution's family (see docs/MODEL.md, section 7).")
    low: float | None = _f(
        "Lower bound (uniform, loguniform, triangular, truncated_normal).", default=None
    )
    high: float | None = _f(
        "Upper bound (uniform, loguniform, triangular, truncated_normal).", default=None
    )
    mode: float | None = _f(
        "Peak of a triangular distribution, between low and high.", default=None
    )
    mean: float | None = _f(
        "Mean (normal, truncated_normal; lognormal: of the logarithm).", default=None
    )
    sd: float | None = _f(
        "Standard deviation (normal, truncated_normal; lognormal: of the logarithm).",
        default=None,
        gt=0,
    )

    @model_validator(mode="after")
    def _numbers_of_its_kind(self) -> DistributionConfig:
        needed = DISTRIBUTION_PARAMETERS[self.kind]
        given = {k for k in ("low", "high", "mode", "mean", "sd") if getattr(self, k) is not None}
        missing = [k for k in needed if k not in given]
        extra = sorted(given - set(needed))
        if missing or extra:
            parts = [f"needs {', '.join(missing)}"] if missing else []
            parts += [f"does not take {', '.join(extra)}"] if extra else []
            raise ValueError(
                f"a {self.kind} distribution {' and '.join(parts)} (it takes {', '.join(needed)})"
            )
        if "low" in needed and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.kind == "loguniform" and self.low <= 0:
            raise ValueError("a loguniform distribution needs low > 0")
        if self.kind == "triangular" and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode ({self.mode}) must lie between low and high")
        return self


SweepLevel = StrictBool | int | float | str | None


class SweepParameter(Strict):
    """One swept key: a range, a list of levels or a distribution (exactly one)."""

    range: list[float] | None = _f(
        "[low, high]: the key varies uniformly between the two.",
        default=None,
        min_length=2,
        max_length=2,
    )
    levels: list[SweepLevel] | None = _f(
        "The values the key takes (each equally likely; a grid takes them all).",
        default=None,
        min_length=1,
        max_length=1000,
    )
    distribution: DistributionConfig | None = _f(
        "The distribution the key's values are drawn from (not for a grid).", default=None
    )
    integer: StrictBool | None = _f(
        "Round drawn values to whole numbers (null: when the scenario's value is an integer).",
        default=None,
    )

    @model_validator(mode="after")
    def _one_kind(self) -> SweepParameter:
        given = [k for k in ("range", "levels", "distribution") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of range, levels or distribution"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range [{self.range[0]}, {self.range[1]}]: low must be below high")
        if self.levels is not None and len(set(map(repr, self.levels))) != len(self.levels):
            raise ValueError("levels must be distinct")
        return self


SWEEP_DESIGNS = ("grid", "lhs", "sobol", "morris")


class SweepConfig(Strict):
    """A parameter sweep for ``zhongcao sweep``: keys to vary (EMA Workbench's uncertain
    factors and levers) and the design that samples them (SALib)."""

    design: Literal["grid", "lhs", "sobol", "morris"] = _f(
        "How design points are chosen: a full grid, Latin hypercube, Sobol' sequence with "
        "Saltelli's scheme (for Sobol' indices) or Morris trajectories (elementary effects)."
    )
    samples: int = _f(
        "grid: values per range; lhs: points; sobol: base samples N (a power of 2; "
        "N x (D + 2) points, N x (2D + 2) with second_order); morris: trajectories "
        "(N x (D + 1) points).",
        ge=1,
        le=1_000_000,
    )
    seeds: int = _f(
        "Seed indices per design point (common random numbers across points).",
        default=1,
        ge=1,
        le=10_000,
    )
    factors: dict[str, SweepParameter] = _f(
        "Uncertain factors: dotted keys of the scenario the platform does not choose.",
        default_factory=dict,
    )
    levers: dict[str, SweepParameter] = _f(
        "Levers: dotted keys of the scenario the platform chooses (its policies).",
        default_factory=dict,
    )
    second_order: StrictBool = _f("sobol: also sample for second-order indices.", default=False)
    morris_levels: int = _f(
        "morris: levels of the grid trajectories move on (even).", default=4, ge=2, le=100
    )

    @model_validator(mode="after")
    def _coherent(self) -> SweepConfig:
        both = sorted(set(self.factors) & set(self.levers))
        if both:
            raise ValueError(f"a key is either a factor or a lever, not both: {', '.join(both)}")
        if not self.factors and not self.levers:
            raise ValueError("a sweep needs at least one factor or lever")
        for key in [*self.factors, *self.levers]:
            if key.split(".")[0] in ("seed", "policies", "sweep"):
                raise ValueError(
                    f"{key!r} cannot be swept: runs are paired by seed index across design "
                    "points (common random numbers), and sweeps and policies do not nest"
                )
        if self.design == "grid":
            drawn = [k for k, p in {**self.factors, **self.levers}.items() if p.distribution]
            if drawn:
                raise ValueError(
                    f"a grid takes ranges or levels, not distributions: {', '.join(drawn)}"
                )
        if self.design == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"sobol: samples must be a power of 2 (got {self.samples})")
        if self.design == "morris" and self.morris_levels % 2:
            raise ValueError(f"morris: morris_levels must be even (got {self.morris_levels})")
        return self


# --------------------------------------------------------------------------------------------
# The scenario
# --------------------------------------------------------------------------------------------


NAME_MAX_BYTES = 64
"""Longest scenario name in UTF-8 bytes: with the ``-seed<n>-<time>`` suffix a folder name
stays well under the 255 bytes filesystems allow."""
_NAME = re.compile(r"[^\W][\w.-]*")


def _folder_safe_name(name: str) -> str:
    """A scenario name names result folders: it must be a single printable path component."""
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"a scenario name may hold letters, digits, '_', '-' and '.', and must start with a "
            f"letter or digit (it names result folders); got {name!r}"
        )
    size = len(name.encode("utf-8"))
    if size > NAME_MAX_BYTES:
        raise ValueError(f"a scenario name is at most {NAME_MAX_BYTES} bytes (this one is {size})")
    return name


ScenarioName = Annotated[str, AfterValidator(_folder_safe_name)]


class Scenario(Strict):
    schema_version: Literal[1] = _f("Version of this file format; must be 1.")
    name: ScenarioName = _f(
        "Short name of the scenario, used in result folder names: letters, digits, '_', '-' "
        "and '.', not starting with '.' or '-', at most 64 bytes in UTF-8.",
        min_length=1,
    )
    description: str = _f("What the scenario is for.")
    seed: int = _f("Root random seed; one seed determines a run exactly.", ge=0, le=2**63 - 1)
    steps: int = _f(
        "Days to simulate and count (one step = one day), after the warm-up.", ge=1, le=100_000
    )
    warmup_days: int = _f(
        "Days simulated before day 0 so that the counted days start near the market's steady "
        "state: recorded in the time series (negative steps) but left out of whole-run "
        "summaries; the calendar (events, programs) counts days from the end of the warm-up.",
        ge=0,
        le=100_000,
    )
    population: PopulationConfig
    market: MarketConfig
    consumers: ConsumersConfig
    merchants: MerchantsConfig
    creators: CreatorsConfig
    mcn: McnConfig
    service_providers: ServiceProviderConfig
    platform: PlatformConfig
    events: list[EventConfig] = _f("Calendar of events (festivals, logistics shocks).")
    programs: list[ProgramConfig] = _f(
        "Platform programs with a start, an end, a target and a budget."
    )
    policies: dict[str, dict[str, Any]] = _f(
        "Policies to compare with `zhongcao compare`: each name maps dotted keys of this "
        "scenario to the values the policy gives them (e.g. platform.governance.strictness: "
        "0.9). A single run ignores them."
    )
    calibrate: CalibrationConfig | None = _f(
        "Free parameters for `zhongcao calibrate` (null: the scenario is not calibrated)."
    )
    sweep: SweepConfig | None = _f(
        "A parameter sweep for `zhongcao sweep` (absent: none). A single run and `compare` "
        "ignore it.",
        default=None,
    )
    output: OutputConfig


RATIO_WARNING_FACTOR = 4.0
"""``zhongcao validate`` warns when an agent ratio is more than this factor from the baseline's."""


def ratio_warnings(config: Scenario, reference: Scenario) -> list[str]:
    """Agent ratios (per 100,000 consumers) of ``config`` more than
    :data:`RATIO_WARNING_FACTOR` from those of ``reference`` (the baseline): such a market is
    not the baseline's in miniature."""
    mine, theirs = config.population.ratios(), reference.population.ratios()
    out = []
    for role, value in mine.items():
        ref = theirs[role]
        lo, hi = sorted((max(value, 1e-12), max(ref, 1e-12)))
        if hi / lo > RATIO_WARNING_FACTOR:
            out.append(
                f"population: {value:.3g} {role} per 100,000 consumers, the baseline has "
                f"{ref:.3g}: not the baseline's market at another size"
            )
    return out
