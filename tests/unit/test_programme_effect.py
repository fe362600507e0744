"""The split of a programme's GMV into new and diverted, from paired runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.programme_effect import (
    ConsumerSpend,
    consumer_spend,
    split_by_program_days,
    split_program_gmv,
    split_woken_spend,
)


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


def _days(served: list[float], total: list[float], spent: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"gmv_kind_x_yuan": served, "gmv_yuan": total, "subsidy_cost_yuan": spent},
        index=range(len(served)),
    )


def test_the_split_by_program_days_cuts_both_runs_at_the_last_day_the_program_spent():
    # Seed 0's program spends on days 0-1 and seed 1's on day 0 only; their gains while on
    # and their losses after are kept apart.
    with_program = [
        _days([30.0, 30.0, 0.0, 0.0], [110.0, 110.0, 90.0, 90.0], [5.0, 5.0, 0.0, 0.0]),
        _days([50.0, 0.0, 0.0, 0.0], [120.0, 100.0, 100.0, 100.0], [5.0, 0.0, 0.0, 0.0]),
    ]
    without = [
        _days([10.0] * 4, [100.0] * 4, [0.0] * 4),
        _days([10.0] * 4, [100.0] * 4, [0.0] * 4),
    ]
    windows = split_by_program_days(with_program, without, "gmv_kind_x_yuan")
    assert windows.last_days == (1, 0)
    assert windows.while_on.program_gmv_yuan == pytest.approx(((20 + 20) + 40) / 2)
    assert windows.while_on.new_gmv_yuan == pytest.approx((20 + 20) / 2)
    assert windows.after.program_gmv_yuan == pytest.approx(((-10 - 10) + (-30)) / 2)
    assert windows.after.new_gmv_yuan == pytest.approx(-20 / 2)
    # The two windows add up to the whole run's split.
    whole = split_program_gmv(with_program, without, "gmv_kind_x_yuan")
    assert windows.while_on.program_gmv_yuan + windows.after.program_gmv_yuan == pytest.approx(
        whole.program_gmv_yuan
    )


def test_a_program_that_spends_to_the_end_has_no_after_and_one_that_never_spent_no_while_on():
    ran = [_days([30.0, 30.0], [110.0, 110.0], [5.0, 5.0])]
    never = [_days([30.0, 30.0], [110.0, 110.0], [0.0, 0.0])]
    without = [_days([10.0, 10.0], [100.0, 100.0], [0.0, 0.0])]
    assert split_by_program_days(ran, without, "gmv_kind_x_yuan").after is None
    idle = split_by_program_days(never, without, "gmv_kind_x_yuan")
    assert idle.last_days == (None,)
    assert idle.while_on.program_gmv_yuan == 0.0
    assert idle.after.program_gmv_yuan == pytest.approx(40.0)


def _spend(spend: list[list[float]], woken: list[list[bool]]) -> ConsumerSpend:
    return ConsumerSpend(np.array(spend, dtype=float), np.array(woken, dtype=bool))


def test_the_woken_consumers_split_adds_up_to_each_groups_change():
    """Consumer 0 was woken in category 0, consumer 1 never: each group's change is summed
    consumer by consumer, and the woken's change is their woken categories' plus the rest."""
    woken = [[True, False], [False, False]]
    with_waking = [_spend([[50, 5], [20, 20]], woken), _spend([[40, 10], [25, 20]], woken)]
    without = [_spend([[10, 15], [20, 25]], woken), _spend([[10, 10], [20, 20]], woken)]
    split = split_woken_spend(with_waking, without)
    assert split.in_woken_categories_yuan == pytest.approx((40 + 30) / 2)
    assert split.in_other_categories_yuan == pytest.approx((-10 + 0) / 2)
    assert split.by_the_woken_yuan == pytest.approx(
        split.in_woken_categories_yuan + split.in_other_categories_yuan
    )
    assert split.by_everyone_else_yuan == pytest.approx((-5 + 5) / 2)
    assert split.by_the_woken_se_yuan == pytest.approx(stats.sem([30.0, 30.0]))
    assert split.consumers_woken == 1
    assert split.the_woken_buy_more  # 30 in each pair, no spread


def test_woken_who_only_move_their_spending_do_not_buy_more():
    woken = [[True, False]]
    with_waking = [_spend([[30, 0]], woken), _spend([[20, 10]], woken)]
    without = [_spend([[0, 30]], woken), _spend([[10, 20]], woken)]
    split = split_woken_spend(with_waking, without)
    assert split.in_woken_categories_yuan > 0
    assert split.by_the_woken_yuan == pytest.approx(0.0)
    assert not split.the_woken_buy_more


def test_a_runs_consumer_spending_sums_to_its_gmv_and_marks_whom_programs_woke():
    """Over the counted days, what the consumers spent is the run's GMV, and every waking the
    day's count reports is marked (a consumer woken twice in a category is marked once)."""
    from sim.checks.base import SCENARIOS, Scale, overrides_at
    from sim.checks.live import RURAL_SUBSIDY
    from sim.model import MarketModel
    from sim.scenario import load_scenario

    # 5,000 consumers: the smallest baseline market with rural producers for the subsidy.
    scale = Scale(seeds=1, consumers=5_000, days=20, warmup_days=5)
    overrides = [
        *overrides_at(scale, RURAL_SUBSIDY),
        "consumers.interest_wake_prob_per_program_impression=0.05",
    ]
    config = load_scenario(SCENARIOS / "baseline.yaml", overrides).config
    model = MarketModel(config, seed_index=0, threads=1)
    gmv, woken = [], []

    def days():
        for _ in range(config.steps):
            model.step()
            if model.calendar_day >= 0:
                gmv.append(model.metrics["gmv_yuan"])
                woken.append(model.metrics["interest_woken"])
            yield model

    spend = consumer_spend(days())
    assert spend.spend_yuan.sum() == pytest.approx(sum(gmv), rel=1e-9)
    assert sum(woken) > 0
    assert 0 < spend.woken.sum() <= sum(woken)


def test_the_checks_market_days_include_the_warm_up_and_every_counted_day():
    """A case reading the market day by day sees the warm-up first, then each counted day:
    the same days as the recorded run."""
    from sim.checks.base import Scale, models

    (days,) = models(Scale(seeds=1, consumers=1_000, days=3, warmup_days=2, scenario="tiny.yaml"))
    assert [model.calendar_day for model in days] == [-2, -1, 0, 1, 2]
