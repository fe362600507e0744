"""Intervals across seeds respect what a metric's definition allows: a share's interval stays
in [0, 1] and a count's above 0 even with two seeds, where Student's t would cross the bound;
otherwise the t-interval is kept. The method used is named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.labels import bounds, label, with_unit
from sim.stats import bounded_mean_ci, comparison_table, mean_ci


def test_a_share_with_two_seeds_gets_an_interval_inside_zero_one():
    values = np.array([0.005, 0.125])  # t: 0.065 [-0.70, 0.83]
    assert mean_ci(values)[1] < 0
    mean, low, high, n, method = bounded_mean_ci(values, bounds("violator_gmv_share"))
    assert method == "bootstrap" and n == 2
    assert mean == pytest.approx(0.065)
    assert 0.0 <= low <= mean <= high <= 1.0
    assert (low, high) == pytest.approx((0.005, 0.125))  # within the values seen


def test_an_interval_inside_the_bounds_stays_student_t():
    values = np.array([36.1, 36.5, 35.9, 36.3, 36.0]) * 1e6
    assert bounded_mean_ci(values, bounds("gmv_yuan"))[:4] == mean_ci(values)
    assert bounded_mean_ci(values, bounds("gmv_yuan"))[4] == "t"


def test_signed_metrics_have_no_bound():
    assert bounds("merchant_profit_yuan") is None
    assert bounds("platform_revenue_yuan") is None
    assert bounds("gmv_yuan") == (0.0, np.inf)
    assert bounds("mean_platform_trust") == (0.0, 1.0)
    values = np.array([-5.0, 100.0])
    assert bounded_mean_ci(values, None)[4] == "t"


def test_the_comparison_table_names_its_method():
    summary = pd.DataFrame(
        {
            "policy": ["lax", "lax", "strict", "strict"],
            "seed_index": [0, 1, 0, 1],
            "violator_gmv_share": [0.005, 0.125, 0.01, 0.011],
            "merchant_profit_yuan": [-300.0, 900.0, 10.0, 20.0],
        }
    )
    table = comparison_table(summary).set_index(["policy", "metric"])
    lax_share = table.loc[("lax", "violator_gmv_share")]
    assert lax_share["method"] == "bootstrap" and lax_share["ci_low"] >= 0
    assert table.loc[("lax", "merchant_profit_yuan"), "method"] == "t"
    assert table.loc[("lax", "merchant_profit_yuan"), "ci_low"] < -300


def test_labels_carry_units_and_a_new_metric_still_reads():
    assert with_unit("gmv_yuan") == "GMV (yuan)"
    assert with_unit("violator_gmv_share") == "violators' share of GMV (%)"
    assert label("gmv_kind_rural_producer_yuan") == "GMV, kind rural producer"
    assert label("some_new_count") == "some new count"
