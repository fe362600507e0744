"""The Python API: build a market from a scenario, step it, read its tables, run comparisons.

::

    from sim.api import Market
    market = Market("tiny", overrides={"population.consumers": 1500})
    market.run(10)
    market.timeseries()            # one row per day, one column per metric (DataFrame)
    market.merchants_table()       # the merchants in business now (DataFrame)

:class:`Market` is a :class:`sim.model.MarketModel` with a :class:`mesa.DataCollector` (every
registered metric as a model reporter; merchants and creators as agent-type reporters), a
``running`` flag that turns False after the scenario's days, and keyword parameters for the
main levers, so Mesa's tools work on it: ``mesa.batch_run(Market, {...})`` and
:class:`mesa.visualization.SolaraViz` (``zhongcao explore``).

Scenarios are YAML files, names of the scenarios shipped with the package (``"tiny"``,
``"baseline"``: :func:`shipped_scenarios`), or a dict holding what a YAML file would;
``overrides`` are dotted keys as in ``--set``. Everything goes through the scenario loader, so
a dict is validated like a file.

Importing this module changes no global state (no matplotlib backend, no logging set-up).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import mesa
import pandas as pd

from sim.agents.creator import Creator
from sim.agents.merchant import Merchant
from sim.metrics import REGISTRY
from sim.model import MarketModel
from sim.scenario import LoadedScenario, load_policies, load_scenario

ScenarioSource = str | Path | Mapping[str, Any]
"""A scenario: a YAML file's path, the name of a shipped scenario, or a dict."""

LEVERS = {
    "strictness": "platform.governance.strictness",
    "take_rate": "platform.take_rate",
    "consumers": "population.consumers",
    "steps": "steps",
    **{
        channel: f"platform.channels.{channel}"
        for channel in ("feed", "live", "follow", "search", "mall")
    },
}
"""Keyword parameters of :class:`Market` and the scenario key each one sets."""

MERCHANT_REPORTERS = {
    "kind": "kind",
    "violator": "violator",
    "status": "status",
    "sales": "sales_total",
    "returns": "returns_total",
    "quality": "true_quality",
    "cash_yuan": "cash_yuan",
}
CREATOR_REPORTERS = {
    "kind": "kind",
    "status": "status",
    "sales": "sales_total",
    "income_yuan": "income_total_yuan",
    "skill": "skill",
}


def shipped_scenarios() -> dict[str, Path]:
    """The scenarios that ship with the package: name -> file (package data, found through
    :mod:`importlib.resources`, so they are there after ``pip install`` alone)."""
    folder = resources.files("sim") / "scenarios"
    return {
        p.name.removesuffix(".yaml"): Path(str(p))
        for p in folder.iterdir()
        if p.name.endswith(".yaml")
    }


def scenario_path(name: str | Path) -> Path:
    """A scenario file: an existing path, else the shipped scenario of that name."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = shipped_scenarios()
    key = path.name.removesuffix(".yaml")
    if key in shipped and str(name) in (key, f"{key}.yaml"):
        return shipped[key]
    raise FileNotFoundError(
        f"{name}: no such file, nor a shipped scenario ({', '.join(sorted(shipped))})"
    )


def as_overrides(overrides: Mapping[str, Any] | Sequence[str] | None) -> list[str]:
    """Dotted overrides as ``--set`` strings: a dict's values are written as (JSON, hence
    YAML) text; a list of ``key=value`` strings is kept."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [
            f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in overrides.items()
        ]
    return list(overrides)


def load(
    scenario: ScenarioSource,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    *,
    allow_outside: bool = False,
) -> LoadedScenario:
    """Read and validate a scenario (a path, a shipped name or a dict) with ``overrides``;
    raises :class:`sim.scenario.ScenarioError` listing every problem."""
    sets = as_overrides(overrides)
    if isinstance(scenario, Mapping):
        with _as_file(scenario) as path:
            return load_scenario(path, sets, allow_outside=allow_outside)
    return load_scenario(scenario_path(scenario), sets, allow_outside=allow_outside)


@contextmanager
def _as_file(scenario: Mapping[str, Any]) -> Iterator[Path]:
    """A dict scenario as a file of its own (in a temporary folder), so that the loader
    validates it as any file; an ``extends`` naming a shipped scenario is pointed at it."""
    data = dict(scenario)
    base = data.get("extends")
    if (
        isinstance(base, str)
        and "/" not in base
        and base.removesuffix(".yaml") in shipped_scenarios()
    ):
        data["extends"] = str(shipped_scenarios()[base.removesuffix(".yaml")])
    with tempfile.TemporaryDirectory(prefix="zhongcao-") as folder:
        path = Path(folder) / "scenario.yaml"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        yield path


class Market(MarketModel):
    """A market built from a scenario, with a Mesa DataCollector.

    ``scenario``: a path, a shipped scenario's name or a dict; ``overrides``: dotted keys
    (``{"platform.take_rate": 0.05}``); the levers (``strictness``, ``take_rate``,
    ``consumers``, ``steps`` and the channels ``feed`` … ``mall``, :data:`LEVERS`) set their
    keys on top when given; ``programs=False`` drops the scenario's programmes. ``seed``,
    ``seed_index``, ``engine`` and ``threads`` are those of :class:`~sim.model.MarketModel`.
    ``collect_agents`` (default True) records merchants and creators every day as well.
    """

    def __init__(
        self,
        scenario: ScenarioSource = "tiny",
        overrides: Mapping[str, Any] | Sequence[str] | None = None,
        *,
        strictness: float | None = None,
        take_rate: float | None = None,
        consumers: int | None = None,
        steps: int | None = None,
        feed: bool | None = None,
        live: bool | None = None,
        follow: bool | None = None,
        search: bool | None = None,
        mall: bool | None = None,
        programs: bool = True,
        seed: int | None = None,
        seed_index: int = 0,
        engine: str | None = None,
        threads: int | None = None,
        collect_agents: bool = True,
    ):
        given = {
            "strictness": strictness, "take_rate": take_rate, "consumers": consumers,
            "steps": steps, "feed": feed, "live": live, "follow": follow, "search": search,
            "mall": mall,
        }  # fmt: skip
        sets = as_overrides(overrides)
        sets += as_overrides({LEVERS[k]: v for k, v in given.items() if v is not None})
        if not programs:
            sets.append("programs=[]")
        self.loaded = load(scenario, sets)
        super().__init__(
            self.loaded.config, seed=seed, seed_index=seed_index, engine=engine, threads=threads
        )
        self.running = True
        self.days_in_all = self.config.warmup_days + self.config.steps
        """Days the scenario simulates: its warm-up, then its counted days."""
        self._calendar: list[int] = []
        types = {Merchant: MERCHANT_REPORTERS, Creator: CREATOR_REPORTERS} if collect_agents else {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in REGISTRY},
            agenttype_reporters=types,
        )

    def step(self) -> None:
        """One day (:meth:`sim.model.MarketModel.step`), then collect its data; ``running``
        turns False after the scenario's last day (its warm-up days come first)."""
        super().step()
        self.datacollector.collect(self)
        self._calendar.append(self.calendar_day)
        self.running = self.day < self.days_in_all

    def run(self, days: int | None = None) -> Market:
        """Step ``days`` days (default: through the warm-up and every counted day).
        Returns the market."""
        for _ in range(self.days_in_all - self.day if days is None else days):
            self.step()
        return self

    def timeseries(self) -> pd.DataFrame:
        """The metrics of every day so far: one row per day, one column per metric (the
        DataCollector's model variables). The index ``day`` is the scenario's day, as in a
        results folder: 0 is the first counted day, the warm-up's days are negative."""
        table = self.datacollector.get_model_vars_dataframe()
        table.index = pd.Index(self._calendar[: len(table)], name="day")
        return table

    def merchants_table(self, every_day: bool = False) -> pd.DataFrame:
        """The merchants: those in business now (one row each, index ``id``), or with
        ``every_day`` the DataCollector's table of every day (index ``Step``, ``AgentID``)."""
        return self._agent_table(Merchant, MERCHANT_REPORTERS, every_day)

    def creators_table(self, every_day: bool = False) -> pd.DataFrame:
        """The creators active now (index ``id``), or every day with ``every_day``."""
        return self._agent_table(Creator, CREATOR_REPORTERS, every_day)

    def _agent_table(self, cls: type, reporters: dict[str, str], every_day: bool) -> pd.DataFrame:
        if every_day:
            return self.datacollector.get_agenttype_vars_dataframe(cls)
        agents = list(self.agents_by_type.get(cls, []))
        rows = {a.idx: {col: getattr(a, attr) for col, attr in reporters.items()} for a in agents}
        return pd.DataFrame.from_dict(rows, orient="index", columns=list(reporters)).rename_axis(
            "id"
        )


def _reporter(name: str):
    def report(model: MarketModel) -> float:
        return model.metrics.get(name, float("nan"))

    report.__name__ = name
    return report


def run(
    scenario: ScenarioSource,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    *,
    out: str | Path = "results",
    plot: bool = False,
):
    """Run a scenario once into a results folder (as ``zhongcao run``); returns the folder's
    :class:`sim.results.RunResults`."""
    from sim.results import open_results
    from sim.runner import run_scenario

    result = run_scenario(load(scenario, overrides), Path(out), command=["sim.api.run"], plot=plot)
    return open_results(result.folder)


def compare(
    scenario: ScenarioSource,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    *,
    seeds: int = 5,
    policies: Sequence[str] = (),
    workers: int = 1,
    out: str | Path = "results",
    plot: bool = False,
):
    """Run a scenario's policies (all, or those named) on seed indices 0..seeds-1 into a
    comparison folder (as ``zhongcao compare``, :func:`sim.compare.compare`); returns the
    folder's :class:`sim.results.ComparisonResults` (``.comparison`` and ``.differences``
    are the tables across seeds)."""
    from sim.compare import compare as run_comparison
    from sim.results import open_results

    sets = as_overrides(overrides)
    if isinstance(scenario, Mapping):
        with _as_file(scenario) as path:
            return compare(path, sets, seeds=seeds, policies=policies, workers=workers, out=out,
                           plot=plot)  # fmt: skip
    path = scenario_path(scenario)
    base = load_scenario(path, sets)
    chosen = load_policies(path, sets, list(policies))
    result = run_comparison(
        base, chosen, Path(out), seeds=seeds, workers=workers, command=["sim.api.compare"],
        plot=plot,
    )  # fmt: skip
    return open_results(result.folder)


def sweep(
    scenario: ScenarioSource,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    *,
    workers: int = 1,
    out: str | Path = "results",
    plot: bool = False,
    resume: str | Path | None = None,
):
    """Run the design points of a scenario's ``sweep:`` section (as ``zhongcao sweep``,
    :mod:`sim.study`); ``overrides`` may set ``sweep.samples``, ``sweep.seeds`` or the design.
    Returns the :class:`sim.study.StudyResult` (``folder``, ``summary``: a row per run with
    the values of the swept keys and every metric)."""
    from sim.compare import local_executor
    from sim.study import run_study, sweep_plan
    from sim.sweep import finish_sweep

    sets = as_overrides(overrides)
    if isinstance(scenario, Mapping):
        with _as_file(scenario) as path:
            return sweep(path, sets, workers=workers, out=out, plot=plot, resume=resume)
    path = scenario_path(scenario)
    plan = sweep_plan(path, load_scenario(path, sets), sets)
    executor = local_executor(workers)
    try:
        return run_study(
            plan, Path(out), executor=executor, finish=finish_sweep(plot),
            command=["sim.api.sweep"], resume=None if resume is None else Path(resume),
        )  # fmt: skip
    finally:
        executor.close()
