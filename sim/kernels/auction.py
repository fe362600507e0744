"""Paid traffic as an auction: a generalised second-price clearing of each category's paid
impressions, paced to budgets. A pure function of arrays.

Each bidder bids an eCPM (expected yuan per 1000 impressions: its bid per conversion times the
platform's predicted conversion rate, oCPM). Within a category, bidders are served in order of
eCPM; each pays, per 1000 impressions, the eCPM of the bidder ranked just below it (the reserve
if none is, and never less than the reserve) and buys as many impressions as its budget pays
for at that price, until the category's supply runs out. What a bidder pays depends on what
the others bid; what it spends never exceeds its budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Clearing:
    won: np.ndarray
    """(L,) float64 impressions won by each bidder (0 for those that won nothing)."""
    price_cpm_yuan: np.ndarray
    """(L,) float64 price per 1000 impressions each bidder pays (0 for those that won
    nothing)."""


def clear(
    category: np.ndarray,
    ecpm_yuan: np.ndarray,
    budget_yuan: np.ndarray,
    supply: np.ndarray,
    reserve_cpm_yuan: float,
) -> Clearing:
    """Clear one day's auction.

    category (L,) int64: each bidder's category, in [0, K); ecpm_yuan (L,) float64: bids per
    1000 impressions; budget_yuan (L,) float64: daily budgets; supply (K,) float64: paid
    impressions for sale per category; reserve_cpm_yuan: the reserve price.

    Bidders with a budget and an eCPM at least the reserve take part. Sorted by category, then
    eCPM from high to low (ties: lower index first), bidder ``r`` of its category pays
    ``p_r = max(reserve, eCPM of bidder r + 1 of the same category)`` (the reserve for the
    last), demands ``q_r = budget_r / p_r x 1000`` impressions and wins
    ``clip(supply_k - sum of q over the bidders above it, 0, q_r)``.
    """
    n = category.size
    won = np.zeros(n)
    price = np.zeros(n)
    bidding = np.flatnonzero((budget_yuan > 0) & (ecpm_yuan >= reserve_cpm_yuan) & (ecpm_yuan > 0))
    if bidding.size == 0:
        return Clearing(won, price)
    cat = category[bidding]
    bid = ecpm_yuan[bidding]
    order = np.lexsort((bidding, -bid, cat))
    idx, cat, bid = bidding[order], cat[order], bid[order]
    same_next = np.r_[cat[1:] == cat[:-1], False]
    next_bid = np.where(same_next, np.r_[bid[1:], 0.0], 0.0)
    p = np.maximum(next_bid, reserve_cpm_yuan)
    p = np.maximum(p, 1e-12)
    demand = budget_yuan[idx] / p * 1000.0
    # Demand of the bidders above each one in its category.
    cum = np.cumsum(demand)
    first = np.r_[True, cat[1:] != cat[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(idx.size), 0))
    above = cum - demand - np.where(start > 0, cum[start - 1], 0.0)
    got = np.clip(supply[cat] - above, 0.0, demand)
    won[idx] = got
    price[idx] = np.where(got > 0, p, 0.0)
    return Clearing(won, price)
