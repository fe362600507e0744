"""Stylized facts of governance and quality: a lemons market that institutions must deter."""

from __future__ import annotations

import numpy as np

from sim.checks.base import Scale, Verdict, arm, case, mean_of, models

NO_INSTITUTIONS = (
    "platform.governance.enabled=false",
    "platform.reputation.visible=false",
    "platform.guarantee_fund.enabled=false",
    "platform.recommender.quality_weight=0",
    "platform.shelf_ranking.quality_weight=0",
)
"""Neither governance nor store scores nor the guarantee fund, and rankings blind to the
platform's quality estimate: buyers have only claims and their own experience to go by."""


def _weighted(run, metric: str, weight: str, days=slice(None)) -> float:
    part = run.iloc[days]
    w = part[weight]
    return float((part[metric] * w).sum() / w.sum()) if w.sum() > 0 else float("nan")


def _total(run, metric: str) -> float:
    return float(run[metric].sum())


@case(
    "lemons_unravel_without_institutions",
    "without governance, store scores and the fund, more products cheat (over twice the share), "
    "the quality bought is lower, and the market trades less quality: in every seed the "
    "quality GMV of the counted days is below that of the same seed with institutions",
    "Akerlof (1970): when buyers cannot tell quality, low quality drives out high and the "
    "market for quality shrinks; the articles' 劣币驱逐良币 and the platform's answer, "
    "governance and store scores (000, 002). The comparison is of the two arms' levels, seed "
    "by seed (common random numbers), not of a trend within the bare arm: that market is "
    "still sorting itself by buyers' own experience over the counted days, so the sign of "
    "its quality trade's trend from one third of the run to the next varies by seed "
    "(docs/MODEL.md §7.26(f)); the figure reports the trend.",
)
def lemons_unravel(scale: Scale) -> Verdict:
    bare = arm(scale, *NO_INSTITUTIONS)
    governed = arm(scale)
    third = scale.days // 3

    def cheating(runs):
        return mean_of(runs, lambda r: float(r["cheating_listing_share"].mean()))

    def quality(runs):
        return mean_of(runs, lambda r: _weighted(r, "gmv_weighted_true_quality", "gmv_yuan"))

    def quality_trade_change(runs):
        return mean_of(
            runs,
            lambda r: (
                _total(r.iloc[-third:], "quality_gmv_yuan")
                / max(_total(r.iloc[third : 2 * third], "quality_gmv_yuan"), 1e-9)
                - 1.0
            ),
        )

    quality_trade = [
        (_total(b, "quality_gmv_yuan"), _total(g, "quality_gmv_yuan"))
        for b, g in zip(bare, governed, strict=True)
    ]
    c_bare, c_gov = cheating(bare), cheating(governed)
    q_bare, q_gov = quality(bare), quality(governed)
    t_bare, t_gov = quality_trade_change(bare), quality_trade_change(governed)
    figure = (
        f"cheating listings {c_bare:.2f} vs {c_gov:.2f}; GMV-weighted true quality "
        f"{q_bare:.3f} vs {q_gov:.3f}; quality GMV per seed "
        + ", ".join(f"{b / 1e6:.1f} vs {g / 1e6:.1f}" for b, g in quality_trade)
        + f" million yuan; its change from the middle to the last third {t_bare:+.1%} vs "
        f"{t_gov:+.1%} (without vs with institutions)"
    )
    passed = c_bare > 2 * c_gov and q_bare < q_gov and all(b < g for b, g in quality_trade)
    return Verdict(figure, passed)


def _first_launch_cheating(run) -> float:
    return _weighted(run, "cheating_entrant_share", "first_launches")


def _launch_cheating(run) -> float:
    return _weighted(run, "cheating_launch_share", "launches")


@case(
    "enforcement_deters_cheating",
    "merchants choose to cheat with fewer of their products, first products included, at "
    "strictness 0.9 than at 0.1",
    "credible enforcement deters (Becker 1968): the expected cost of being caught enters the "
    "choice before anyone is caught.",
)
def enforcement_deters(scale: Scale) -> Verdict:
    lax = arm(scale, "platform.governance.strictness=0.1")
    strict = arm(scale, "platform.governance.strictness=0.9")
    first_lax, first_strict = (mean_of(r, _first_launch_cheating) for r in (lax, strict))
    all_lax, all_strict = (mean_of(r, _launch_cheating) for r in (lax, strict))
    figure = (
        f"cheating first products {first_lax:.3f} (lax) vs {first_strict:.3f} (strict); "
        f"all launches {all_lax:.3f} vs {all_strict:.3f}"
    )
    return Verdict(figure, first_strict < first_lax and all_strict < all_lax)


WINDOW = 5
"""Days in a 'week' of the event study."""


def _histories(days) -> dict[str, np.ndarray]:
    """(days, merchants) arrays over a run: units sold, bad reviews and complaints, good
    reviews, and whether the merchant was in business."""
    rows: dict[str, list] = {"sold": [], "bad": [], "good": [], "alive": []}
    for model in days:
        day = model.last_day
        rows["sold"].append(day.units_sold)
        rows["bad"].append(day.feedback["bad_reviews"] + day.feedback["complaints"])
        rows["good"].append(day.feedback["good_reviews"])
        rows["alive"].append(np.array([m.active for m in model.merchants]))
    width = max(len(x) for x in rows["sold"])
    return {name: np.array([_pad(x, width) for x in values]) for name, values in rows.items()}


def _pad(x, n):
    x = np.asarray(x)
    out = np.zeros(n, dtype=x.dtype)
    out[: min(n, x.size)] = x[:n]
    return out


def _growth_change(h: dict[str, np.ndarray], event: np.ndarray) -> list[float]:
    """For each merchant whose first ``event`` (a (days, merchants) count) came two 'weeks'
    into the run and a 'week' before its end, while it was in business: log(week after /
    week before) - log(week before / the week before that)."""
    sold = h["sold"].astype(np.float64)
    out = []
    for m in range(sold.shape[1]):
        hits = np.flatnonzero(event[:, m] > 0)
        if hits.size == 0:
            continue
        d = int(hits[0])
        if d < 2 * WINDOW or d + WINDOW >= sold.shape[0] or not h["alive"][d + WINDOW, m]:
            continue
        before2 = sold[d - 2 * WINDOW : d - WINDOW, m].sum()
        before = sold[d - WINDOW : d, m].sum()
        after = sold[d + 1 : d + 1 + WINDOW, m].sum()
        if min(before2, before, after) > 0:
            out.append(float(np.log(after / before) - np.log(before / before2)))
    return out


@case(
    "first_negative_review_cuts_sales_growth",
    "a merchant's weekly sales growth falls after its first negative review, by more than "
    "after a placebo event (its first good review two weeks into the run), the difference "
    "below zero by over two standard errors",
    "Cabral and Hortaçsu (2010): on eBay, weekly sales growth falls from +5% to -8% after a "
    "seller's first negative feedback. The placebo removes the bias of events that follow "
    "busy weeks.",
)
def first_negative_review(scale: Scale) -> Verdict:
    negative, placebo = [], []
    for days in models(scale.for_rare_events):
        h = _histories(days)
        negative += _growth_change(h, h["bad"])
        late_good = h["good"].copy()
        late_good[: 2 * WINDOW] = 0  # the first good review two weeks in
        placebo += _growth_change(h, late_good)
    if len(negative) < 5 or len(placebo) < 5:
        return Verdict(f"only {len(negative)} first negative reviews to measure", False)
    diff = float(np.mean(negative) - np.mean(placebo))
    se = float(
        np.sqrt(np.var(negative, ddof=1) / len(negative) + np.var(placebo, ddof=1) / len(placebo))
    )
    figure = (
        f"change in weekly log sales growth after a first negative review "
        f"{np.mean(negative):+.3f} vs {np.mean(placebo):+.3f} after the placebo: "
        f"{diff:+.3f} (se {se:.3f}; {len(negative)} and {len(placebo)} merchants)"
    )
    return Verdict(figure, diff + 2 * se < 0)


FUNNEL = ("gov_intercepted", "gov_banned", "gov_penalized", "gov_removed")


@case(
    "governance_funnel_narrows",
    "at the baseline, interceptions outnumber bans several times over, bans outnumber "
    "penalties, and penalties are at least as many as removals",
    "the 2021 funnel: 91M intercepted, 5.8M banned, 3.2M delisted, 400k penalties, 40k "
    "removals (000).",
)
def funnel_narrows(scale: Scale) -> Verdict:
    runs = arm(scale.for_rare_events)
    counts = [mean_of(runs, lambda r, k=k: _total(r, k)) for k in FUNNEL]
    intercepted, banned, penalized, removed = counts
    figure = (
        " : ".join(f"{c:.1f}" for c in counts) + " (intercepted : banned : penalized : removed)"
    )
    passed = intercepted > 3 * banned and banned > penalized >= removed and banned > 0
    return Verdict(figure, passed)


@case(
    "strict_governance_spares_honest_merchants",
    "at strictness 0.9, governance removes under 5% of honest merchants over the run",
    "graduated enforcement, rate-based triggers and appeals: a referee's test that strict "
    "rules punish misconduct, not size.",
)
def spares_honest(scale: Scale) -> Verdict:
    runs = arm(scale, "platform.governance.strictness=0.9")
    share = mean_of(
        runs,
        lambda r: (
            _total(r, "honest_merchants_removed")
            / max(float(r["honest_merchants_active"].iloc[0]), 1.0)
        ),
    )
    return Verdict(f"honest merchants removed: {share:.2%} of those at the start", share < 0.05)
