"""The auction of paid traffic (generalised second price, paced to budgets) and the
counterfactual that measures what paid traffic adds."""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents.platform import incremental_share
from sim.kernels.auction import clear

RESERVE = 5.0


def one_category(ecpm, budget, supply):
    n = len(ecpm)
    return clear(
        np.zeros(n, dtype=np.int64),
        np.array(ecpm, dtype=float),
        np.array(budget, dtype=float),
        np.array([supply], dtype=float),
        RESERVE,
    )


def test_each_winner_pays_the_next_bid_and_the_last_the_reserve():
    """With supply to spare, the highest bidder pays the second's eCPM, the second the third's,
    the last the reserve; each buys what its budget pays for at its price, spending it all."""
    result = one_category([30.0, 20.0, 10.0], [10.0, 10.0, 10.0], supply=1e9)
    np.testing.assert_allclose(result.price_cpm_yuan, [20.0, 10.0, RESERVE])
    np.testing.assert_allclose(result.won * result.price_cpm_yuan / 1000, [10.0, 10.0, 10.0])


def test_supply_goes_to_the_highest_bids_first_and_is_never_oversold():
    """When supply is short, the top bidder is served in full, the next gets the rest, the
    last nothing; no more is sold than the supply."""
    # At 20 yuan per 1000 the top bidder's 10 yuan buy 500 impressions.
    result = one_category([30.0, 20.0, 10.0], [10.0, 10.0, 10.0], supply=700.0)
    np.testing.assert_allclose(result.won, [500.0, 200.0, 0.0])
    assert result.price_cpm_yuan[2] == 0.0
    assert result.won.sum() <= 700.0


def test_what_a_bidder_pays_depends_on_what_the_others_bid():
    """The winner's price rises with the bid of the one below it, and its spend never exceeds
    its budget."""
    low = one_category([30.0, 8.0], [10.0, 10.0], supply=1e9)
    high = one_category([30.0, 25.0], [10.0, 10.0], supply=1e9)
    assert high.price_cpm_yuan[0] > low.price_cpm_yuan[0]
    for r in (low, high):
        assert (r.won * r.price_cpm_yuan / 1000 <= 10.0 + 1e-9).all()


def test_bids_below_the_reserve_or_without_budget_take_no_part():
    result = one_category([30.0, 4.0, 50.0], [10.0, 10.0, 0.0], supply=1e9)
    assert result.won[1] == 0 and result.won[2] == 0
    # The top bid left alone pays the reserve.
    assert result.price_cpm_yuan[0] == RESERVE


def test_categories_clear_separately():
    """A bid in one category neither takes supply from nor sets the price of another."""
    result = clear(
        np.array([0, 1]), np.array([30.0, 20.0]), np.array([10.0, 10.0]), np.array([1e9, 1e9]), 5.0
    )
    np.testing.assert_allclose(result.price_cpm_yuan, [RESERVE, RESERVE])


def test_incremental_share_is_the_paid_share_for_a_small_listing_and_nothing_for_a_monopoly():
    """A listing with a tiny share of its category gets the paid share of its impressions from
    its traffic; one that has all of the category's impressions would have had them anyway;
    between the two, what traffic adds falls as the listing's share grows."""
    impressions = np.array([1.0, 1e6, 100.0, 100.0, 100.0])
    paid = np.array([0.5, 5e5, 50.0, 50.0, 50.0])
    category = np.array([0, 0, 1, 2, 2])
    share = incremental_share(impressions, paid, category, 3)
    assert share[0] == pytest.approx(0.5, abs=1e-5)
    assert share[2] == pytest.approx(0.0)
    assert share[1] < share[0]
    # Two equal listings of one category: s = 1/2, f = 2, 1 - 1 / (1/2 + 1) = 1/3.
    np.testing.assert_allclose(share[3:], [1 / 3, 1 / 3])
