"""Stylized facts of creators: reach that follows success makes stars, and stars stay."""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.checks.base import Scale, Verdict, arm, case, mean_of, models

NO_ATTACHMENT = ("platform.recommender.follower_weight=0", "platform.recommender.talent_weight=0")
"""Reach blind to followers and talent: interest match, appeal, quality and popularity only."""


def _last(run, metric: str) -> float:
    return float(run[metric].iloc[-1])


@case(
    "creators_are_heavy_tailed",
    "creators' lifetime income and followers are concentrated (income Gini over every creator "
    "who entered above 0.6) and more so than when reach ignores followers and talent",
    "Creator economies report income Gini above 0.8 and tail indices near 1-1.5; cumulative "
    "advantage (Price 1976; Barabási & Albert 1999) and social influence (Salganik et al. "
    "2006) make them so. The articles' creators with 8M and 12M followers (002, 000).",
)
def creators_heavy_tailed(scale: Scale) -> Verdict:
    reach = arm(scale)
    flat = arm(scale, *NO_ATTACHMENT)

    def income(runs):
        return mean_of(runs, lambda r: _last(r, "creator_lifetime_income_gini"))

    def followers(runs):
        return mean_of(runs, lambda r: _last(r, "follower_gini_creators"))

    def top1(runs):
        return mean_of(runs, lambda r: _last(r, "creator_top1pct_lifetime_income_share"))

    g, g_flat = income(reach), income(flat)
    f, f_flat = followers(reach), followers(flat)
    tails = [_last(r, "creator_lifetime_income_tail_index") for r in reach]
    tail = float(np.nanmean(tails)) if np.isfinite(tails).any() else float("nan")
    figure = (
        f"lifetime income Gini {g:.2f} vs {g_flat:.2f}, follower Gini {f:.2f} vs {f_flat:.2f}, "
        f"top-1% income share {top1(reach):.2f} vs {top1(flat):.2f} (reach following success "
        f"vs not); income tail index {tail:.2f} (CSN MLE)"
    )
    return Verdict(figure, g > 0.6 and g > g_flat and f > f_flat)


@case(
    "stars_survive",
    "creators in the top tenth by followers halfway through the run are still active at its "
    "end more often than the others, and at least 80% of them are",
    "A star with a good month does not quit: creators leave on expected income, with "
    "commissions counted when earned, not when paid (the articles' long-lived top creators, "
    "000, 002).",
)
def stars_survive(scale: Scale) -> Verdict:
    # The tiny market's top tenth is three creators a seed, so one quitting moves the figure
    # by a third: the quick version runs the market of many merchants (120 creators at 12,000
    # consumers, 12 stars a seed) over the run's own number of days.
    scale = dataclasses.replace(scale.for_many_merchants, days=scale.days)
    top_rates, rest_rates = [], []
    for days in models(scale):
        stars = rest = None
        model = None
        for model in days:
            if model.calendar_day == scale.days // 2:
                ind = [c for c in model.creators if c.independent and c.active]
                followers = np.array([model.follows.followers[c.idx] for c in ind])
                cut = np.quantile(followers, 0.9)
                stars = [c for c, x in zip(ind, followers, strict=True) if x >= cut]
                rest = [c for c, x in zip(ind, followers, strict=True) if x < cut]
        top_rates.append(np.mean([c.active for c in stars]))
        rest_rates.append(np.mean([c.active for c in rest]) if rest else np.nan)
    top, others = float(np.mean(top_rates)), float(np.nanmean(rest_rates))
    figure = (
        f"{top:.0%} of the top tenth by followers at day {scale.days // 2} still active at day "
        f"{scale.days}, vs {others:.0%} of the others"
    )
    return Verdict(figure, top >= 0.8 and top > others)
