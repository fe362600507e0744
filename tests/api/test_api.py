"""The Python API (sim.api): a market from a shipped name, a file or a dict, levers as
keywords, a Mesa DataCollector with every metric, agent tables, mesa.batch_run; scenarios
shipped as package data inside the wheel; importing the package changes no global state."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import zipfile

import mesa
import numpy as np
import pytest
from conftest import ROOT, SCENARIOS

from sim.api import Market, load, shipped_scenarios
from sim.metrics import REGISTRY
from sim.scenario import ScenarioError

SMALL = {"consumers": 800, "steps": 3}


def test_shipped_scenarios_are_the_repository_files():
    shipped = shipped_scenarios()
    assert sorted(shipped) == sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
    assert shipped["tiny"].read_bytes() == (SCENARIOS / "tiny.yaml").read_bytes()


def test_a_name_a_file_and_a_dict_load_the_same_scenario():
    by_name = load("tiny", {"steps": 4}).resolved
    by_file = load(SCENARIOS / "tiny.yaml", ["steps=4"]).resolved
    as_dict = load({"extends": "tiny.yaml", "steps": 4}).resolved
    assert by_name == by_file == as_dict


def test_a_dict_is_validated_like_a_file():
    with pytest.raises(ScenarioError) as problem:
        load({"extends": "tiny.yaml", "platform": {"take_rat": 0.1}})
    assert "platform.take_rat" in problem.value.render()


def test_the_datacollector_holds_every_metric_of_every_day():
    market = Market("tiny", **SMALL).run()
    table = market.timeseries()
    assert not market.running and market.day == 3
    assert list(table.index) == [0, 1, 2]
    assert set(REGISTRY) <= set(table.columns)
    assert table["gmv_yuan"].iloc[-1] == pytest.approx(market.metrics["gmv_yuan"])
    per_day = market.merchants_table(every_day=True)
    assert set(per_day.index.get_level_values("Step")) == {1, 2, 3}
    now = market.merchants_table()
    assert len(now) == len(market.active_merchants())
    assert {"kind", "violator", "sales", "cash_yuan"} <= set(now.columns)


def test_levers_set_their_keys():
    market = Market("tiny", strictness=0.9, take_rate=0.02, live=False, **SMALL)
    cfg = market.config
    assert cfg.platform.governance.strictness == 0.9 and cfg.platform.take_rate == 0.02
    assert not cfg.platform.channels.live and cfg.population.consumers == 800
    market.run()
    assert (market.timeseries()["gmv_live_yuan"] == 0).all()


def test_the_same_seed_gives_the_same_days():
    a = Market("tiny", **SMALL).run().timeseries()
    b = Market("tiny", **SMALL).run().timeseries()
    assert np.array_equal(a.to_numpy(), b.to_numpy(), equal_nan=True)


def test_mesa_batch_run_sweeps_the_market():
    rows = mesa.batch_run(
        Market,
        {"scenario": "tiny", "consumers": 600, "steps": 2, "live": [True, False]},
        iterations=1, max_steps=5, number_processes=1, display_progress=False,
    )  # fmt: skip
    last = {r["live"]: r for r in rows if r["Step"] == max(x["Step"] for x in rows)}
    assert last[False]["gmv_live_yuan"] == 0 and last[True]["gmv_live_yuan"] > 0


def test_importing_the_package_changes_no_global_state(tmp_path):
    """In a fresh interpreter: every module of sim (the explorer included) imported leaves
    matplotlib's backend unresolved, its settings untouched, and logging unconfigured."""
    code = """
import importlib, json, logging, pkgutil, matplotlib
import sim
def settings():  # read without resolving the backend (reading rcParams["backend"] would)
    return {k: matplotlib.rcParams._get(k) for k in matplotlib.rcParams.keys() if k != "backend"}
before = settings()
handlers = list(logging.getLogger().handlers)
for mod in pkgutil.walk_packages(sim.__path__, "sim."):
    if mod.name != "sim.explore_app":  # the served app builds its page when imported
        importlib.import_module(mod.name)
import sim.api, sim.plots, sim.explore
changed = sorted(k for k, v in settings().items() if before.get(k) != v)
print(json.dumps({
    "backend": matplotlib.rcParams._get_backend_or_none(),
    "changed": changed,
    "handlers": len(logging.getLogger().handlers) - len(handlers),
    "level": logging.getLogger().level,
}))
"""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
        timeout=120, check=True,
    )  # fmt: skip
    state = json.loads(result.stdout.strip().splitlines()[-1])
    assert state == {"backend": None, "changed": [], "handlers": 0, "level": logging.WARNING}


def test_the_wheel_ships_the_scenarios(tmp_path):
    """A built wheel holds every scenario under sim/scenarios, so `pip install` alone runs
    them (the loader and sim.api find them through the package)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("zhongcao-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for scenario in SCENARIOS.glob("*.yaml"):
        assert f"sim/scenarios/{scenario.name}" in names
    assert "cli.py" in names
