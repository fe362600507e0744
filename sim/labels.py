"""Readers' names for metrics, with their units and bounds: what figures and tables print.

A metric's label comes from the registry (:class:`sim.metrics.Metric` ``label``) when it sets
one, else from :data:`LABELS`, else it is spelled out from the name (``gmv_live_yuan`` ->
"GMV, live"), so a new metric always has a readable label. Its unit is the registry's.

Bounds are what a metric's definition allows: shares and 0-1 scores lie in [0, 1]; counts and
money that only flows one way (GMV, refunds, costs) are never negative; profits, net revenue
and surplus may take either sign, and so may a quantity in a unit not listed here. :mod:`sim.stats` uses them to choose intervals that respect
them.
"""

from __future__ import annotations

import math

from sim.metrics import REGISTRY

LABELS: dict[str, str] = {
    "gmv_yuan": "GMV",
    "quality_gmv_yuan": "quality GMV",
    "refunds_yuan": "refunds",
    "orders": "orders",
    "impressions": "impressions",
    "conversion_rate": "conversion (orders per impression)",
    "new_customer_share": "new customers' share of orders",
    "repurchase_rate": "buyers who bought again",
    "buyers": "buyers",
    "stockouts": "stock-outs",
    "returns": "returns",
    "complaints": "complaints",
    "consumer_surplus_yuan": "consumer surplus",
    "active_consumers": "active consumers",
    "consumers_left": "consumers who left",
    "mean_platform_trust": "consumers' trust in the platform",
    "merchants_active": "merchants in business",
    "violator_merchant_share": "violators' share of merchants",
    "violator_gmv_share": "violators' share of GMV",
    "merchant_entries": "merchant entries",
    "merchant_exits": "merchant exits",
    "merchant_profit_yuan": "merchants' profit",
    "merchant_profit_honest_yuan": "honest merchants' profit",
    "merchant_profit_violator_yuan": "violators' profit",
    "honest_merchants_active": "honest merchants in business",
    "violator_merchants_active": "violators in business",
    "creators_active": "creators active",
    "creator_entries": "creator entries",
    "creator_exits": "creator exits",
    "creator_income_gini": "Gini of creators' income",
    "creator_top1pct_income_share": "top 1% creators' share of income",
    "follower_gini": "Gini of followers",
    "mean_creator_skill": "creators' mean skill",
    "mcn_signed_creators": "creators signed to an MCN",
    "platform_revenue_yuan": "platform net revenue",
    "subsidy_cost_yuan": "programme subsidies",
    "guarantee_paid_yuan": "guarantee-fund payouts",
    "governance_cost_yuan": "governance cost",
    "gov_intercepted": "listings intercepted",
    "gov_banned": "products banned",
    "gov_delisted": "listings delisted",
    "gov_penalized": "merchants fined",
    "gov_removed": "merchants removed",
    "gov_false_positives": "actions against honest merchants",
    "gov_warnings": "warnings",
    "gov_suspended": "suspensions",
    "gov_appeals_won": "appeals won",
    "gov_investigations": "investigations",
    "gov_screened": "listings screened",
    "live_listings": "live listings",
    "cheating_listing_share": "cheating listings' share",
    "cheating_launch_share": "share of launches that cheat",
    "cheating_entrant_share": "entrants who cheat",
    "gmv_weighted_true_quality": "true quality of GMV",
    "mean_quality_belief": "consumers' belief of quality",
    "honest_removed_share": "honest merchants removed (share)",
}

ACRONYMS = {"gmv": "GMV", "mcn": "MCN", "gov": "governance"}
SIGNED = ("profit", "revenue", "surplus")
COUNTS = frozenset(
    {"orders", "impressions", "consumers", "units", "complaints", "merchants", "creators",
     "actions", "investigations", "listings", "convictions", "products", "share of capacity",
     "yuan per 1000 impressions", "yuan/day"}
)  # fmt: skip
"""Units of quantities that are never negative."""
"""Money metrics whose name holds one of these may be negative."""


def _spelled(name: str) -> str:
    """A label spelled out from a metric's name: ``gmv_kind_rural_producer_yuan`` -> "GMV,
    kind rural producer"."""
    words = name.removesuffix("_yuan").split("_")
    head = ACRONYMS.get(words[0], words[0])
    rest = " ".join(ACRONYMS.get(w, w) for w in words[1:])
    return f"{head}, {rest}" if rest and head.isupper() else f"{head} {rest}".strip()


def label(name: str) -> str:
    """The reader's name of a metric, without its unit."""
    metric = REGISTRY.get(name)
    if metric is not None and metric.label:
        return metric.label
    return LABELS.get(name, _spelled(name))


def unit(name: str) -> str:
    metric = REGISTRY.get(name)
    return metric.unit if metric is not None else ""


def is_share(name: str) -> bool:
    """A share in [0, 1], shown as a percentage."""
    return unit(name) == "share"


def display_unit(name: str) -> str:
    """The unit as shown: shares in %, a 0-1 score as "0-1" ("trust (0-1)": the label says
    what it is, the unit its scale)."""
    u = "%" if is_share(name) else unit(name)
    return "0-1" if "(0-1)" in u else u


def with_unit(name: str) -> str:
    """Label and unit: "GMV (yuan)", "violators' share of GMV (%)"."""
    u = display_unit(name)
    text = label(name)
    return f"{text} ({u})" if u and u not in text else text


def bounds(name: str) -> tuple[float, float] | None:
    """(lower, upper) that a metric's definition allows, or None when it may take any value.
    Unknown metrics have none."""
    metric = REGISTRY.get(name)
    if metric is None:
        return None
    u = metric.unit
    if u == "share" or "(0-1)" in u or u == "orders per impression":
        return (0.0, 1.0)
    if u == "flag (0 or 1)":
        return (0.0, 1.0)
    if u == "yuan":
        return None if any(word in name for word in SIGNED) else (0.0, math.inf)
    if u in COUNTS:
        return (0.0, math.inf)
    return None  # a unit not known here (a ratio that may fall either way): no bound
