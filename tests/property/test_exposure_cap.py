"""The platform's exposure cap: no creator holds more than a multiple of the mean creator's share
of a category's weight."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.recommenders import cap_creator_shares


@st.composite
def items(draw):
    n = draw(st.integers(1, 60))
    weights = np.array(
        draw(st.lists(st.floats(1e-6, 1e6), min_size=n, max_size=n)), dtype=np.float64
    )
    creator = np.array(draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)))
    category = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    multiple = draw(st.floats(1.01, 20.0))
    return weights, creator, category, multiple


def _shares(weights, creator, category):
    out = {}
    for k in np.unique(category):
        m = category == k
        total = weights[m].sum()
        for c in np.unique(creator[m]):
            out[(int(k), int(c))] = weights[m & (creator == c)].sum() / total
    return out


@settings(max_examples=300, deadline=None)
@given(items())
def test_no_creator_holds_more_than_the_cap_and_the_rest_keep_their_weights(case):
    weights, creator, category, multiple = case
    capped = cap_creator_shares(weights, creator, category, multiple)
    before, after = _shares(weights, creator, category), _shares(capped, creator, category)
    for (k, c), share in after.items():
        cap = multiple / len({cc for kk, cc in after if kk == k})
        assert share <= cap + 1e-9
        held = capped[(category == k) & (creator == c)]
        orig = weights[(category == k) & (creator == c)]
        # a creator's items keep their ratios; one under the cap keeps its weights
        assert np.allclose(held / held.sum(), orig / orig.sum())
        if share < cap * (1 - 1e-9):
            assert np.allclose(held, orig)
    # the order of creators' shares within a category is kept (ties may merge)
    for k in np.unique(category):
        keys = [key for key in before if key[0] == k]
        b = np.array([before[key] for key in keys])
        a = np.array([after[key] for key in keys])
        assert np.all(np.diff(a[np.argsort(b, kind="stable")]) >= -1e-12)


def test_no_cap_leaves_the_weights_as_they_are():
    weights = np.array([5.0, 1.0, 0.0, 3.0])
    out = cap_creator_shares(weights, np.array([0, 1, 2, 0]), np.array([0, 0, 0, 1]), None)
    assert out is weights


def test_a_category_with_no_more_creators_than_the_multiple_is_not_capped():
    """Two creators under a multiple of 2 may hold anything: the cap is the whole."""
    weights = np.array([99.0, 1.0])
    out = cap_creator_shares(weights, np.array([0, 1]), np.array([0, 0]), 2.0)
    assert np.array_equal(out, weights)


def test_a_dominant_creator_is_brought_down_to_the_cap():
    """One creator with 90% of a category's weight among 19 equal others holds 10% (twice the
    mean creator's 5%) under a multiple of 2, and the others share the rest equally."""
    weights = np.array([171.0] + [1.0] * 19)
    creator = np.arange(20)
    out = cap_creator_shares(weights, creator, np.zeros(20, dtype=np.int64), 2.0)
    shares = out / out.sum()
    assert np.isclose(shares[0], 0.1)
    assert np.allclose(shares[1:], 0.9 / 19)
