"""Stylized facts of buyers: content brings merchants buyers who had not bought from them."""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.checks.base import Scale, Verdict, arm, case

CONTENT_CHANNELS = ("feed", "live", "follow")


def _new_share(run, channels) -> float:
    """The share of the run's orders through ``channels`` placed by new customers (each
    day's share weighted by that day's orders)."""
    new = sum((run[f"new_customer_share_{c}"] * run[f"orders_{c}"]).sum() for c in channels)
    orders = sum(run[f"orders_{c}"].sum() for c in channels)
    return float(new / orders) if orders > 0 else float("nan")


@case(
    "content_brings_first_time_buyers",
    "orders from short videos, live rooms and the following feed come from buyers new to the "
    "merchant more often than orders from search (the difference of the two shares above zero "
    "by two standard errors over the seeds)",
    "Interest e-commerce is 货找人: content puts goods before people who had not planned to buy "
    "them, so it brings merchants buyers they did not have (over 85% of a merchant's buyers "
    "new to it), while search serves those who already know what they want (人找货), often "
    "from a shop they know (000, 002). A new customer placed no order with the merchant in "
    "the last consumers.new_customer_window_days days.",
)
def content_brings_first_time_buyers(scale: Scale) -> Verdict:
    runs = arm(scale)
    content = np.array([_new_share(r, CONTENT_CHANNELS) for r in runs])
    search = np.array([_new_share(r, ("search",)) for r in runs])
    diff = content - search
    se = float(stats.sem(diff)) if diff.size > 1 else float("nan")
    figure = (
        f"new-customer share {content.mean():.3f} in content against {search.mean():.3f} in "
        f"search: difference {diff.mean():+.3f} (se {se:.3f}, {diff.size} seeds)"
    )
    return Verdict(figure, bool(diff.mean() > 2 * se))
