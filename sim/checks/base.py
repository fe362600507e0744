"""``zhongcao check``: the project's own stylized facts, each a named case that runs small
scenarios over several seeds and states what it expects, why, and whether it holds.

A case is a function registered with :func:`case`; it receives a :class:`Scale` (how many
seeds, consumers and days) and returns a :class:`Verdict`. ``zhongcao check`` runs every case
at full scale and prints one row per case (figure, expectation, verdict), exiting 1 if any
fails; ``--quick`` runs the small versions the test suite also runs.

Runs go through :func:`sim.runner.simulate` with the scenario's own seed and seed indices
0..seeds-1, so every case is reproducible and two arms of a case share their luck (common
random numbers).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@dataclass(frozen=True)
class Scale:
    """How big a case's runs are: the ``scenario`` (under scenarios/) at ``consumers`` for
    ``days`` counted days after ``warmup_days`` (None: the scenario's own), ``seeds`` runs
    per arm. The other roles follow the consumers at the scenario's ratios."""

    seeds: int
    consumers: int
    days: int
    scenario: str = "baseline.yaml"
    workers: int = 1
    warmup_days: int | None = None
    many_merchants: Scale | None = None
    """The scale for cases that need many merchants (merchants' accounts); None: this one."""
    rare_events: Scale | None = None
    """The scale for cases that count rare events (first negative reviews, bans) or measure
    an effect small against a market's day-to-day noise (the demand a programme wakes);
    None: this one."""

    @property
    def for_many_merchants(self) -> Scale:
        return self._or_self(self.many_merchants)

    @property
    def for_rare_events(self) -> Scale:
        return self._or_self(self.rare_events)

    def with_seeds(self, seeds: int) -> Scale:
        """This scale with ``seeds`` runs per arm, its scales for many merchants and rare
        events too (a researcher's ``--seeds`` reaches every case)."""
        nested = {
            name: dataclasses.replace(other, seeds=seeds)
            for name in ("many_merchants", "rare_events")
            if (other := getattr(self, name)) is not None
        }
        return dataclasses.replace(self, seeds=seeds, **nested)

    def _or_self(self, other: Scale | None) -> Scale:
        """``other`` with this scale's workers, or this scale when there is none."""
        return self if other is None else dataclasses.replace(other, workers=self.workers)


QUICK = Scale(
    seeds=2,
    consumers=3_000,
    days=90,
    scenario="tiny.yaml",
    many_merchants=Scale(seeds=2, consumers=12_000, days=60, warmup_days=30),
    rare_events=Scale(seeds=4, consumers=20_000, days=120, warmup_days=30),
)
"""The small versions (run by the test suite): the tiny market; and where a case needs many
merchants or creators (merchants' accounts, the market's size, stars), the baseline at 12,000
consumers (72 merchants and 120 creators, about the smallest market whose sellers are not a
handful) after a 30-day warm-up, for 60 days (for the stars, the tiny run's 90); and where a
case counts rare events (first negative reviews, bans: deterrence keeps cheating rare) or an
effect small against the noise (the demand a programme wakes), the baseline at 20,000
consumers for 120 days over four seeds, which gives 26 first negative reviews over the four
and 1.2 bans a run."""
FULL = Scale(seeds=3, consumers=30_000, days=365)


@dataclass(frozen=True)
class Verdict:
    figure: str
    """What was measured, as a reader would quote it."""
    passed: bool


@dataclass(frozen=True)
class Case:
    name: str
    expectation: str
    why: str
    run: Callable[[Scale], Verdict]


CASES: dict[str, Case] = {}


def case(name: str, expectation: str, why: str):
    """Register a stylized-fact case: ``expectation`` is what must hold, ``why`` where the
    expectation comes from (an article, a study, an accounting identity)."""

    def register(fn: Callable[[Scale], Verdict]) -> Callable[[Scale], Verdict]:
        if name in CASES:
            raise ValueError(f"check case {name!r} registered twice")
        CASES[name] = Case(name, expectation, " ".join(why.split()), fn)
        return fn

    return register


# --------------------------------------------------------------------------------------------
# Running arms
# --------------------------------------------------------------------------------------------


def _one_run(args: tuple[str, tuple[str, ...], int]) -> pd.DataFrame:
    from sim.runner import simulate
    from sim.scenario import load_scenario

    scenario, overrides, seed_index = args
    config = load_scenario(SCENARIOS / scenario, list(overrides)).config
    return simulate(config, seed_index=seed_index, threads=1).wide()


def overrides_at(scale: Scale, *overrides: str) -> tuple[str, ...]:
    sized = [f"population.consumers={scale.consumers}", f"steps={scale.days}"]
    if scale.warmup_days is not None:
        sized.append(f"warmup_days={scale.warmup_days}")
    return (*sized, *overrides)


def arm(scale: Scale, *overrides: str) -> list[pd.DataFrame]:
    """The per-day metrics of the counted days (one wide table per seed) of the scale's
    scenario with ``overrides`` (applied after the scale's consumers, days and warm-up).

    Runs are deterministic, so an arm already run in this process (the same scale and
    overrides; several target cases share the baseline's) is not run again: its tables are
    returned as copies."""
    return [run.copy() for run in _arm(dataclasses.replace(scale, many_merchants=None), overrides)]


@functools.cache
def _arm(scale: Scale, overrides: tuple[str, ...]) -> tuple[pd.DataFrame, ...]:
    sized = overrides_at(scale, *overrides)
    return tuple(
        _per_seed(_one_run, [(scale.scenario, sized, i) for i in range(scale.seeds)], scale)
    )


def _per_seed(fn, tasks: list, scale: Scale) -> list:
    """``fn`` over the seeds' tasks, in the scale's worker processes (in order)."""
    if scale.workers > 1:
        with ProcessPoolExecutor(scale.workers) as pool:
            return list(pool.map(fn, tasks))
    return [fn(task) for task in tasks]


def _market_days(config, seed_index: int):
    """The market after each of a run's days, warm-up days first (``model.calendar_day`` < 0
    there)."""
    from sim.model import MarketModel

    model = MarketModel(config, seed_index=seed_index, threads=1)
    for _ in range(config.warmup_days + config.steps):
        model.step()
        yield model


def _config(scale: Scale, overrides: tuple[str, ...]):
    from sim.scenario import load_scenario

    return load_scenario(SCENARIOS / scale.scenario, list(overrides_at(scale, *overrides))).config


def models(scale: Scale, *overrides: str):
    """For each seed, a generator of the market after each of its days, warm-up included (for
    cases that need more than the metrics: per-merchant records). Runs in this process."""
    config = _config(scale, overrides)
    return [_market_days(config, i) for i in range(scale.seeds)]


def _one_spending_run(args: tuple[Scale, tuple[str, ...], int]):
    from sim.programme_effect import consumer_spend
    from sim.recorder import Recorder

    scale, overrides, seed_index = args
    config = _config(scale, overrides)
    recorder = Recorder(config.output.agent_sample_every_days)

    def days():
        for model in _market_days(config, seed_index):
            recorder.record(model)
            yield model

    spend = consumer_spend(days())
    return recorder.wide(), spend


def arm_with_spending(scale: Scale, *overrides: str):
    """As :func:`arm`, each seed's table paired with what each consumer spent and where
    programs woke its interest over the counted days
    (:class:`sim.programme_effect.ConsumerSpend`); runs in the scale's workers."""
    return _per_seed(_one_spending_run, [(scale, overrides, i) for i in range(scale.seeds)], scale)


def mean_of(runs: Sequence[pd.DataFrame], fn: Callable[[pd.DataFrame], float]) -> float:
    return float(np.mean([fn(run) for run in runs]))


# --------------------------------------------------------------------------------------------
# The suite
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    figure: str
    expectation: str
    passed: bool


def run_cases(
    cases: Mapping[str, Case], names: Sequence[str] | None, scale: Scale, progress=None
) -> list[Row]:
    """Run the named cases (all by default) of ``cases`` at ``scale``;
    ``progress(done, total, name)`` is called after each."""
    chosen = list(cases) if not names else list(names)
    unknown = [n for n in chosen if n not in cases]
    if unknown:
        raise KeyError(f"unknown check case(s) {unknown}; cases are {sorted(cases)}")
    rows = []
    for i, name in enumerate(chosen):
        c = cases[name]
        verdict = c.run(scale)
        rows.append(Row(name, verdict.figure, c.expectation, verdict.passed))
        if progress is not None:
            progress(i + 1, len(chosen), name)
    return rows
