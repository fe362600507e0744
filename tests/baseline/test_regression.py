"""The model's results are pinned: any change to any number of any day fails here.

Refresh on purpose with ``make baseline`` (see tests/baseline/regression.py)."""

from __future__ import annotations

import pytest
import regression


@pytest.mark.parametrize("case", list(regression.CASES))
def test_a_run_reproduces_its_pinned_results_exactly(case):
    pinned = regression.load(case)
    now = regression.compute(case)
    assert now["summary"].keys() == pinned["summary"].keys(), "the set of metrics changed"
    changed = {
        k: (pinned["summary"][k], v) for k, v in now["summary"].items() if v != pinned["summary"][k]
    }
    assert not changed, f"summary metrics changed (pinned, now): {changed}"
    assert now == pinned
