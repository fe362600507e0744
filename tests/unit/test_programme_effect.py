"""The split of a programme's GMV into new and diverted, from paired runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.programme_effect import split_program_gmv


def _runs(served: list[float], total: list[float]) -> list[pd.DataFrame]:
    """One two-day table per seed: half of each seed's figure on each day."""
    return [
        pd.DataFrame({"gmv_kind_x_yuan": [s / 2, s / 2], "gmv_yuan": [t / 2, t / 2]})
        for s, t in zip(served, total, strict=True)
    ]


def test_the_split_is_served_gain_new_gain_and_their_difference_with_its_standard_error():
    with_program = _runs([300.0, 500.0, 400.0], [1_200.0, 1_100.0, 1_300.0])
    without = _runs([100.0, 100.0, 100.0], [1_000.0, 1_000.0, 1_000.0])
    split = split_program_gmv(with_program, without, "gmv_kind_x_yuan")
    assert split.program_gmv_yuan == pytest.approx(300.0)
    assert split.new_gmv_yuan == pytest.approx(200.0)
    assert split.diverted_gmv_yuan == pytest.approx(100.0)
    assert split.new_gmv_se_yuan == pytest.approx(stats.sem([200.0, 100.0, 300.0]))
    assert split.new_gmv_is_positive  # 200 > 2 x 57.7


def test_new_gmv_that_changes_sign_across_seeds_is_not_called_positive():
    with_program = _runs([0.0, 0.0, 0.0], [1_300.0, 800.0, 1_000.0])
    without = _runs([0.0, 0.0, 0.0], [1_000.0, 1_000.0, 1_000.0])
    split = split_program_gmv(with_program, without, "gmv_kind_x_yuan")
    assert split.new_gmv_yuan > 0
    assert not split.new_gmv_is_positive


def test_one_pair_has_no_standard_error_and_no_verdict_of_positive():
    split = split_program_gmv(_runs([1.0], [2.0]), _runs([0.0], [1.0]), "gmv_kind_x_yuan")
    assert np.isnan(split.new_gmv_se_yuan)
    assert not split.new_gmv_is_positive


def test_unpaired_arms_are_refused():
    with pytest.raises(ValueError, match="paired"):
        split_program_gmv(_runs([1.0], [1.0]), _runs([1.0, 1.0], [1.0, 1.0]), "gmv_kind_x_yuan")
