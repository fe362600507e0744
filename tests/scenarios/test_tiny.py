"""The tiny scenario end to end through :func:`sim.runner.simulate`: reproducibility, the
accounting identities between metrics, channel switches, and that every shipped scenario is
valid."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS, tiny_config
from pandas.testing import assert_frame_equal

from sim.metrics import REGISTRY
from sim.model import MarketModel
from sim.population import ATTRIBUTES
from sim.runner import simulate
from sim.scenario import load_scenario
from sim.vocabulary import CHANNELS, MERCHANT_KINDS

CHANNEL_GMV = [f"gmv_{ch}_yuan" for ch in CHANNELS]
KIND_GMV = [f"gmv_kind_{kind}_yuan" for kind in MERCHANT_KINDS]
RATIO_DENOMINATOR = {
    "conversion_rate": "impressions",
    "new_customer_share": "orders",
    "repurchase_rate": "buyers",
    "violator_merchant_share": "merchants_active",
    "violator_gmv_share": "gmv_yuan",
    "cheating_listing_share": "live_listings",
    "cheating_launch_share": "launches",
    "cheating_entrant_share": "first_launches",
    "gmv_weighted_true_quality": "gmv_yuan",
    "mean_quality_belief": "impressions",
    "honest_removed_share": "honest_merchants_active",
    "traffic_spend_gmv_share": "gmv_yuan",
    "traffic_incremental_roi": "traffic_spend_yuan",
    "auction_clearing_cpm_yuan": "traffic_paid_impressions",
    "merchants_loss_making_30d_share": "merchants_active",
    "traffic_budget_mean_yuan": "merchants_active",
    **{f"capacity_utilisation_kind_{k}": f"merchants_active_kind_{k}" for k in MERCHANT_KINDS},
    **{f"new_customer_share_{ch}": f"orders_{ch}" for ch in CHANNELS},
    **{f"return_rate_{ch}": f"deliveries_{ch}" for ch in CHANNELS},
    "mean_session_gmv_yuan": "live_sessions",
    "live_gmv_own_account_share": "session_gmv_yuan",
    "featured_stockout_share": "featured_offers",
    "gmv_share_million_follower_creators": "gmv_yuan",
    "creator_top1pct_gmv_share": "creator_lifetime_gmv_yuan",
    **{
        f"{name}{who}": f"creator_lifetime_income_yuan{who}"
        for who in ("", "_survivors")
        for name in ("creator_lifetime_income_gini", "creator_top1pct_lifetime_income_share")
    },
    **{
        f"{name}{who}": f"{size}{who}"
        for who in ("", "_survivors")
        for name, size in (
            ("creator_lifetime_income_tail_index", "creator_lifetime_income_tail_size"),
            ("follower_tail_index", "follower_tail_size"),
        )
    },
}
"""Metrics documented as NaN on a day whose denominator (another metric) is zero."""


@pytest.fixture(scope="module")
def tiny_recorder():
    """The tiny scenario as shipped, run once for the whole module."""
    return simulate(tiny_config())


@pytest.fixture(scope="module")
def wide(tiny_recorder) -> pd.DataFrame:
    return tiny_recorder.wide().set_index("step")


def run_wide(*overrides: str) -> pd.DataFrame:
    return simulate(tiny_config(*overrides)).wide().set_index("step")


# --------------------------------------------------------------------------------------------
# Reproducibility
# --------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_timeseries(tiny_recorder):
    """The same scenario and seed, simulated again, gives the identical tidy timeseries."""
    again = simulate(tiny_config())
    assert_frame_equal(again.timeseries(), tiny_recorder.timeseries(), check_exact=True)
    assert_frame_equal(again.creators(), tiny_recorder.creators(), check_exact=True)
    assert_frame_equal(again.merchants(), tiny_recorder.merchants(), check_exact=True)


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(lambda: simulate(tiny_config("seed=20220609")), id="root_seed"),
        pytest.param(lambda: simulate(tiny_config(), seed_index=1), id="seed_index"),
    ],
)
def test_another_seed_gives_different_numbers(tiny_recorder, other):
    """Another root seed, or another run index of the same seed, gives the same table shape
    but different numbers."""
    a = tiny_recorder.timeseries()
    b = other().timeseries()
    assert_frame_equal(a[["step", "metric"]], b[["step", "metric"]])
    for metric in ("gmv_yuan", "orders", "impressions", "active_consumers"):
        assert not np.array_equal(
            a.loc[a.metric == metric, "value"].to_numpy(),
            b.loc[b.metric == metric, "value"].to_numpy(),
        ), metric


@pytest.mark.usefixtures("compiled_kernel")
def test_timeseries_does_not_depend_on_the_process(tmp_path):
    """A fresh interpreter with another string-hash salt (PYTHONHASHSEED) reproduces the
    in-process timeseries exactly."""
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, sys.argv[1])
        from conftest import tiny_config
        from sim.runner import simulate
        simulate(tiny_config("steps=10")).timeseries().to_parquet(sys.argv[2], index=False)
        """
    )
    salt = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    target = tmp_path / "timeseries.parquet"
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(Path(__file__).resolve().parents[1]), str(target)],
        env={**os.environ, "PYTHONHASHSEED": salt},
        stderr=subprocess.PIPE,
    )
    here = simulate(tiny_config("steps=10")).timeseries()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert_frame_equal(pd.read_parquet(target), here, check_exact=True)


def plain(value):
    """A value made comparable across models: agents by kind and index, arrays by content."""
    if isinstance(value, mesa.Agent):
        return (type(value).__name__, value.idx)
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if dataclasses.is_dataclass(value):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return sorted((plain(k), plain(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


SHARED = ("model", "ledger", "streams")
"""What an agent holds of the market, not of itself (the ledger is compared on its own)."""


def agent_state(agent: mesa.Agent) -> dict:
    """Every attribute of an agent except what it shares with the market, as comparable
    plain values."""
    return {name: plain(value) for name, value in vars(agent).items() if name not in SHARED}


def model_state(model: MarketModel) -> dict:
    """Consumer arrays, follow network and every agent's attributes of a model."""
    return {
        "population": {name: getattr(model.population, name) for name in ATTRIBUTES},
        "follows": {
            "creator": model.follows.creator,
            "trust": model.follows.trust,
            "count": model.follows.count,
            "followers": model.follows.followers,
        },
        "ledger": {"balances": model.ledger.balances},
        "agents": [
            agent_state(a)
            for a in [*model.merchants, *model.creators, *model.mcns, *model.providers]
        ],
    }


def assert_same_arrays(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        assert a[name].dtype == b[name].dtype, name


@pytest.mark.parametrize("steps", [0, 3])
def test_model_built_twice_is_identical(steps):
    """Two models of the same config and seed have identical consumer arrays, follow network
    and agent attributes, when built and after a few days."""
    config = tiny_config()
    models = [MarketModel(config), MarketModel(config)]
    for model in models:
        for _ in range(steps):
            model.step()
    a, b = (model_state(m) for m in models)
    assert_same_arrays(a["population"], b["population"])
    assert_same_arrays(a["follows"], b["follows"])
    assert_same_arrays(a["ledger"], b["ledger"])
    assert len(a["agents"]) == len(b["agents"])
    for x, y in zip(a["agents"], b["agents"], strict=True):
        assert x == y


def test_model_with_another_seed_has_other_consumers():
    """The seed reaches the build: another seed draws other consumers and agents."""
    config = tiny_config()
    a, b = MarketModel(config), MarketModel(config, seed=config.seed + 1)
    for name in ("interest", "active_prob", "budget_yuan", "platform_trust"):
        assert not np.array_equal(getattr(a.population, name), getattr(b.population, name)), name
    assert model_state(a)["agents"] != model_state(b)["agents"]


# --------------------------------------------------------------------------------------------
# Sanity of one run
# --------------------------------------------------------------------------------------------


def test_run_covers_every_day_and_metric(wide):
    """One row per simulated day and one column per registered metric."""
    assert list(wide.index) == list(range(tiny_config().steps))
    assert set(wide.columns) == set(REGISTRY)


def test_gmv_is_the_sum_of_channel_gmvs(wide):
    """Each day, GMV is the sum of the five per-channel GMVs, and of the per-kind GMVs."""
    assert (wide["gmv_yuan"] > 0).all()
    np.testing.assert_allclose(wide[CHANNEL_GMV].sum(axis=1), wide["gmv_yuan"], rtol=1e-12)
    np.testing.assert_allclose(wide[KIND_GMV].sum(axis=1), wide["gmv_yuan"], rtol=1e-12)


def test_quality_gmv_within_delivered_gmv(wide):
    """Quality GMV is counted on delivery: nothing before the first delivery day, and by each
    day quality GMV plus refunds add up to at most the GMV ordered `delivery_days` or more
    days earlier (the tiny scenario has no logistics shocks; pre-sold orders ship later
    still)."""
    config = tiny_config()
    assert all(event.kind != "logistics_shock" for event in config.events)
    d = config.consumers.experience.delivery_days
    assert d >= 1
    assert (wide["quality_gmv_yuan"].iloc[:d] == 0).all()
    assert (wide["refunds_yuan"].iloc[:d] == 0).all()
    delivered = wide["gmv_yuan"].shift(d).iloc[d:]
    later = wide.iloc[d:]
    assert later["quality_gmv_yuan"].sum() > 0
    assert (later["quality_gmv_yuan"] >= 0).all() and (later["refunds_yuan"] >= 0).all()
    settled = (later["quality_gmv_yuan"] + later["refunds_yuan"]).cumsum()
    assert (settled <= delivered.cumsum() * (1 + 1e-12)).all()
    assert wide["quality_gmv_yuan"].sum() <= wide["gmv_yuan"].sum()


def test_conversion_rate_is_orders_over_impressions(wide):
    """Each day, conversion_rate == orders / impressions."""
    assert (wide["impressions"] > 0).all()
    np.testing.assert_allclose(
        wide["conversion_rate"], wide["orders"] / wide["impressions"], rtol=1e-12
    )


def test_new_customer_share_is_a_share_and_one_on_day_zero(wide):
    """new_customer_share lies in [0, 1] every day, is 1 on day 0, when nobody has bought from
    anyone yet, and is below 1 by the last day, when some buyers come back."""
    share = wide["new_customer_share"]
    assert ((share >= 0) & (share <= 1)).all()
    assert wide.loc[0, "orders"] > 0
    assert share.loc[0] == 1.0
    assert share.iloc[-1] < 1.0


def assert_finite_unless_denominator_zero(wide: pd.DataFrame) -> None:
    """Ratio metrics NaN exactly where their denominator is zero; everything else finite."""
    for name in REGISTRY:
        values = wide[name].to_numpy(dtype=float)
        if name in RATIO_DENOMINATOR:
            zero = wide[RATIO_DENOMINATOR[name]].to_numpy() == 0
            np.testing.assert_array_equal(np.isnan(values), zero, err_msg=name)
            assert np.isfinite(values[~zero]).all(), name
        else:
            assert np.isfinite(values).all(), name


def test_every_metric_finite_unless_its_denominator_is_zero(wide):
    """Every metric is finite every day; a ratio metric is NaN exactly on the days its
    denominator is zero."""
    assert_finite_unless_denominator_zero(wide)


def test_closed_platform_sells_nothing_and_ratios_are_nan():
    """With every channel off nobody sees a listing: no impressions, orders or GMV, so the
    ratios over them are NaN every day while every other metric stays finite."""
    off = [f"platform.channels.{ch}=false" for ch in CHANNELS]
    wide = run_wide("steps=4", *off)
    for name in ("impressions", "orders", "buyers", "gmv_yuan", *CHANNEL_GMV):
        assert (wide[name] == 0).all(), name
    for name in ("conversion_rate", "new_customer_share", "repurchase_rate", "violator_gmv_share"):
        assert wide[name].isna().all(), name
    assert_finite_unless_denominator_zero(wide)


# --------------------------------------------------------------------------------------------
# Channel switches
# --------------------------------------------------------------------------------------------


def test_search_and_mall_off_sell_only_through_content():
    """Search and mall switched off: their GMV is 0 every day while the content channels
    still sell."""
    wide = run_wide("steps=10", "platform.channels.search=false", "platform.channels.mall=false")
    assert (wide["gmv_search_yuan"] == 0).all()
    assert (wide["gmv_mall_yuan"] == 0).all()
    for name in ("gmv_feed_yuan", "gmv_live_yuan", "gmv_follow_yuan"):
        assert wide[name].sum() > 0, name
    np.testing.assert_allclose(wide[CHANNEL_GMV].sum(axis=1), wide["gmv_yuan"], rtol=1e-12)


def test_shelf_ecommerce_sells_only_through_search_and_mall():
    """Feed, live and follow switched off (shelf e-commerce): their GMV is 0 every day while
    search and mall sell."""
    wide = run_wide(
        "steps=10",
        "platform.channels.feed=false",
        "platform.channels.live=false",
        "platform.channels.follow=false",
    )
    for name in ("gmv_feed_yuan", "gmv_live_yuan", "gmv_follow_yuan"):
        assert (wide[name] == 0).all(), name
    assert wide["gmv_search_yuan"].sum() > 0
    assert wide["gmv_mall_yuan"].sum() > 0
    np.testing.assert_allclose(wide[CHANNEL_GMV].sum(axis=1), wide["gmv_yuan"], rtol=1e-12)


# --------------------------------------------------------------------------------------------
# Shipped scenarios
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenario_validates(path):
    """Every scenario in scenarios/ loads and validates, and names itself."""
    loaded = load_scenario(path)
    assert loaded.config.name
    assert loaded.files[-1] == path


def test_baseline_is_among_the_shipped_scenarios():
    """The folder of scenarios holds the baseline and the tiny scenario that extends it."""
    names = {p.name for p in SCENARIOS.glob("*.yaml")}
    assert {"baseline.yaml", "tiny.yaml"} <= names
    tiny = load_scenario(SCENARIOS / "tiny.yaml")
    assert [p.name for p in tiny.files] == ["baseline.yaml", "tiny.yaml"]
