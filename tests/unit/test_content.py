"""Content production: videos, live sessions and their appeal."""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.kernels.content import APPEAL_NOISE_SD, MAX_VIDEOS_FACTOR, produce_content

ALPHA = 1e-4
K = 2
LISTING_CATEGORY = np.array([0, 1, 0, 1])


def produce(offer_count, offer_listing, videos, lives, skill, niche, seed=0):
    offer_count = np.asarray(offer_count, dtype=np.int64)
    return produce_content(
        offer_start=np.cumsum(offer_count) - offer_count,
        offer_count=offer_count,
        offer_listing=np.asarray(offer_listing, dtype=np.int64),
        videos_per_day=np.asarray(videos, dtype=np.float64),
        lives_per_week=np.asarray(lives, dtype=np.float64),
        skill=np.asarray(skill, dtype=np.float64),
        niche=np.asarray(niche, dtype=np.float64),
        listing_category=LISTING_CATEGORY,
        rng=np.random.default_rng(seed),
    )


def test_creator_without_offers_produces_nothing():
    """No live offer, no video and no live session, however productive the creator."""
    items = produce([0, 0], [], [5.0, 5.0], [7.0, 7.0], [0.9, 0.9], [[1, 0], [0, 1]])
    assert items.listing.size == 0
    assert items.creator_row.size == items.is_live.size == items.appeal.size == 0


def test_items_present_only_the_creators_own_offers():
    """Each item presents one of its creator's live offers."""
    items = produce(
        [2, 0, 1], [0, 1, 3], [3.0, 3.0, 3.0], [3.5, 3.5, 3.5], [0.5] * 3, [[0.5, 0.5]] * 3
    )
    offers = {0: {0, 1}, 2: {3}}
    assert items.listing.size > 0
    assert 1 not in set(items.creator_row.tolist())
    for row, listing in zip(items.creator_row, items.listing, strict=True):
        assert int(listing) in offers[int(row)]


def test_live_session_presents_every_offer_once():
    """lives_per_week 7 goes live daily and shows each carried offer exactly once."""
    items = produce([3, 2], [0, 1, 2, 3, 1], [0.0, 0.0], [7.0, 7.0], [0.5, 0.5], [[1, 0], [0, 1]])
    live = items.is_live
    assert live.all()
    assert sorted(items.listing[items.creator_row == 0].tolist()) == [0, 1, 2]
    assert sorted(items.listing[items.creator_row == 1].tolist()) == [1, 3]


def test_no_lives_per_week_never_goes_live():
    """lives_per_week 0 produces no live appearance."""
    items = produce([2], [0, 1], [4.0], [0.0], [0.5], [[0.5, 0.5]])
    assert not items.is_live.any()
    assert items.listing.size > 0


def test_going_live_happens_lives_per_week_over_seven_of_days():
    """Over many creators, the share that goes live is Binomial(n, lives_per_week / 7)."""
    n = 5000
    items = produce(
        np.ones(n), np.zeros(n), np.zeros(n), np.full(n, 2.0), np.full(n, 0.5), np.full((n, K), 0.5)
    )
    went_live = np.unique(items.creator_row[items.is_live]).size
    lo, hi = stats.binom.ppf([ALPHA / 2, 1 - ALPHA / 2], n, 2.0 / 7.0)
    assert lo <= went_live <= hi


def test_videos_are_poisson_around_videos_per_day():
    """Mean videos per creator is videos_per_day, within a normal bound on the Poisson mean."""
    n, rate = 4000, 1.5
    items = produce(
        np.ones(n),
        np.zeros(n),
        np.full(n, rate),
        np.zeros(n),
        np.full(n, 0.5),
        np.full((n, K), 0.5),
    )
    mean = np.bincount(items.creator_row[~items.is_live], minlength=n).mean()
    z = stats.norm.ppf(1 - ALPHA / 2)
    assert abs(mean - rate) < z * np.sqrt(rate / n)


def test_videos_are_capped():
    """No creator posts more than floor(MAX_VIDEOS_FACTOR x videos_per_day + 1) videos."""
    n, rate = 2000, 0.25
    items = produce(
        np.ones(n),
        np.zeros(n),
        np.full(n, rate),
        np.zeros(n),
        np.full(n, 0.5),
        np.full((n, K), 0.5),
    )
    per_creator = np.bincount(items.creator_row, minlength=n)
    assert per_creator.max() <= np.floor(MAX_VIDEOS_FACTOR * rate + 1)


def test_appeal_is_a_probability():
    """Appeal is clipped to [0, 1], even for a full-skill creator with the noise on top."""
    n = 3000
    items = produce(
        np.ones(n),
        np.zeros(n),
        np.full(n, 2.0),
        np.zeros(n),
        np.ones(n),
        np.tile([1.0, 0.0], (n, 1)),
    )
    assert items.appeal.dtype == np.float32
    assert np.all((items.appeal >= 0) & (items.appeal <= 1))


def test_appeal_follows_skill_and_niche_fit():
    """Mean appeal is skill x (0.6 + 0.4 fit): fit 1 in the niche, 0 outside it."""
    n = 3000
    niche = np.tile([1.0, 0.0], (n, 1))
    skill = np.full(n, 0.5)
    z = stats.norm.ppf(1 - ALPHA / 2)
    for listing, expected in ((0, 0.5), (1, 0.5 * 0.6)):
        items = produce(np.ones(n), np.full(n, listing), np.full(n, 1.0), np.zeros(n), skill, niche)
        m = items.appeal.size
        assert abs(items.appeal.mean() - expected) < z * APPEAL_NOISE_SD / np.sqrt(m)


def test_partial_niche_fit_is_scaled_by_the_number_of_categories():
    """Niche weight 0.25 on the offer's category with K = 2 gives fit 0.5."""
    n = 3000
    niche = np.tile([0.25, 0.75], (n, 1))
    items = produce(np.ones(n), np.zeros(n), np.ones(n), np.zeros(n), np.full(n, 0.5), niche)
    z = stats.norm.ppf(1 - ALPHA / 2)
    expected = 0.5 * (0.6 + 0.4 * 0.5)
    assert abs(items.appeal.mean() - expected) < z * APPEAL_NOISE_SD / np.sqrt(items.appeal.size)
