"""``zhongcao calibrate``: search a scenario's free parameters for the values whose runs come
closest to a targets file (:mod:`sim.targets`).

* The free parameters and their ranges are the scenario's ``calibrate:`` block; every trial
  runs each target's scenario with the trial's values on the block's ``seeds`` seed indices
  (common random numbers: every trial faces the same luck) and scores the weighted distance.
  A trial's runs go to a study executor (:mod:`sim.executors`: this process, the local pool,
  or Dask), and its figures are gathered in a fixed order, so results do not depend on it.
* The search is Optuna's TPE. Its suggestion for trial ``n`` is a function of the finished
  trials and ``n`` alone (the sampler is seeded from the scenario's seed and ``n``), and the
  trials are kept in Optuna's SQLite storage in the study folder, so an interrupted
  calibration resumed with ``--resume FOLDER`` continues exactly as if it had not stopped.
* Written when the budget is spent: ``calibrated.yaml`` (the resolved scenario at the best
  trial's values), ``targets.csv`` (target | model | band | within?), ``history.csv``,
  ``sensitivity.csv`` (which parameters the targets pin: the distance's change when each
  moves by a tenth of its range from the best values), ``distance.png`` and ``run.json``.

A calibration folder is built as ``.<name>.partial`` and renamed when complete; an interrupted
one keeps its partial folder (and its trials) for ``--resume``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.io import Reservation, finish_folder, write_csv, write_json, write_text
from sim.scenario import (
    SHIPPED_SCENARIOS,
    LoadedScenario,
    Problem,
    ScenarioError,
    dump_yaml,
    load_scenario,
)
from sim.targets import Target, TargetFile, distance, evaluate, missing_metrics

STUDY_NAME = "calibration"
SENSITIVITY_STEP = 0.1
"""A parameter moves by this share of its range in the sensitivity check."""
PINNED_TOLERANCE = 0.1
"""A parameter is pinned when moving it changes the distance by more than this share of the
best distance (or 1e-3, whichever is larger)."""


class CalibrationError(Exception):
    """A calibration that cannot start or resume (bad input, exit code 2)."""


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a calibration runs: the scenario, its free parameters, the measurable targets
    and the runs each trial needs."""

    loaded: LoadedScenario
    scenario_path: Path
    overrides: tuple[str, ...]
    targets: TargetFile
    measurable: list[Target]
    unmeasurable: dict[str, list[str]]
    """Target name -> the metrics this model lacks for it."""
    seeds: int

    @property
    def parameters(self):
        return self.loaded.config.calibrate.parameters

    def fingerprint(self) -> str:
        """Scenario, parameters, targets, seeds and code version: what a resumed calibration
        must share with the one it continues."""
        from sim.runner import package_versions

        blob = json.dumps(
            {
                "scenario": self.loaded.resolved,
                "overrides": list(self.overrides),
                "targets": self.targets.model_dump(mode="json"),
                "seeds": self.seeds,
                "versions": package_versions(),
                "code": _code_digest(),
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()


def _code_digest() -> str:
    """SHA-256 over the simulator's source files."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def plan(
    scenario: Path,
    targets: TargetFile,
    overrides: Sequence[str] = (),
    seeds: int | None = None,
    allow_outside: bool = False,
) -> Plan:
    """Check everything before any run: the scenario has a ``calibrate:`` block, every
    parameter is a key the scenario accepts at both ends of its range, every target's
    scenario loads. Raises ScenarioError (every problem) or CalibrationError."""
    loaded = load_scenario(scenario, list(overrides), allow_outside=allow_outside)
    block = loaded.config.calibrate
    if block is None:
        raise CalibrationError(
            f"{scenario}: no calibrate: block (the free parameters and their ranges)"
        )
    problems: list[Problem] = []
    for key, rng in block.parameters.items():
        for value in (rng.value(rng.low), rng.value(rng.high)):
            try:
                load_scenario(
                    scenario, [*overrides, f"{key}={value!r}"], allow_outside=allow_outside
                )
            except ScenarioError as exc:
                problems += [
                    Problem(f"calibrate.parameters.{key}", p.key, p.message) for p in exc.problems
                ]
    measurable, unmeasurable = [], {}
    for target in targets.targets:
        lacking = missing_metrics(target)
        if lacking:
            unmeasurable[target.name] = lacking
        else:
            measurable.append(target)
    for target in measurable:
        path = _target_scenario(scenario, target)
        if not path.is_file():
            problems.append(Problem(f"targets: {target.name}", "scenario", f"no scenario {path}"))
    if problems:
        raise ScenarioError(str(scenario), problems)
    if not measurable:
        raise CalibrationError("no target of the file can be measured with this model's metrics")
    return Plan(
        loaded=loaded,
        scenario_path=Path(scenario),
        overrides=tuple(overrides),
        targets=targets,
        measurable=measurable,
        unmeasurable=unmeasurable,
        seeds=seeds or block.seeds,
    )


def _target_scenario(scenario: Path, target: Target) -> Path:
    """The scenario a target applies to: the calibrated scenario itself when the target names
    the baseline it extends, else the shipped scenario of that name."""
    if target.scenario in (scenario.name, "baseline.yaml") and Path(scenario).is_file():
        return Path(scenario)
    return SHIPPED_SCENARIOS / target.scenario


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FigureTask:
    """One run of a trial and the targets it measures; a pure function of its fields."""

    key: int
    path: str
    overrides: tuple[str, ...]
    seed_index: int
    targets: tuple[Target, ...]

    @property
    def study_id(self) -> str:
        """Names the trial's values (a Dask key must differ between trials)."""
        blob = json.dumps([self.path, list(self.overrides)]).encode()
        return "calibration-" + hashlib.sha256(blob).hexdigest()[:16]

    @property
    def variant(self) -> str:
        return f"run{self.key}"


def run_figures(task: FigureTask) -> dict:
    """Run one member of a trial and return the targets' figures (the record an executor of
    :mod:`sim.executors` hands back)."""
    from sim.runner import simulate

    config = load_scenario(task.path, list(task.overrides), allow_outside=True).config
    wide = simulate(config, seed_index=task.seed_index, threads=1).wide()
    return {"status": "ok", "figures": {t.name: evaluate(t, wide) for t in task.targets}}


def _groups(plan: Plan) -> dict[tuple[str, int | None], list[Target]]:
    groups: dict[tuple[str, int | None], list[Target]] = {}
    for target in plan.measurable:
        key = (str(_target_scenario(plan.scenario_path, target)), target.days)
        groups.setdefault(key, []).append(target)
    return groups


def figures_at(plan: Plan, values: dict[str, float], executor) -> dict[str, tuple[float, float]]:
    """Each measurable target's mean figure over the seeds and its standard error, at the
    parameter values ``values``; the runs go to ``executor`` (:mod:`sim.executors`). A run
    that failed counts as a figure that is not a number."""
    overrides = (*plan.overrides, *(f"{k}={v!r}" for k, v in values.items()))
    tasks = []
    for (path, days), targets in _groups(plan).items():
        extra = (f"steps={days}",) if days else ()
        for seed in range(plan.seeds):
            tasks.append(FigureTask(len(tasks), path, (*overrides, *extra), seed, tuple(targets)))
    records: dict[int, dict] = {}
    executor.execute(run_figures, tasks, lambda task, record: records.__setitem__(task.key, record))
    per_target: dict[str, list[float]] = {}
    for task in tasks:  # in task order, whatever order the runs finished in
        figures = records[task.key].get("figures", {})
        for target in task.targets:
            per_target.setdefault(target.name, []).append(figures.get(target.name, math.nan))
    out = {}
    for name, values_ in per_target.items():
        arr = np.array(values_, dtype=np.float64)
        finite = arr[np.isfinite(arr)]
        mean = float(finite.mean()) if finite.size == arr.size else math.nan
        se = float(finite.std(ddof=1) / math.sqrt(finite.size)) if finite.size > 1 else math.nan
        out[name] = (mean, se)
    return out


# --------------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------------


def _suggest(trial, parameters) -> dict[str, float]:
    return {
        key: (
            trial.suggest_int(key, int(rng.low), int(rng.high), log=rng.log)
            if rng.integer
            else trial.suggest_float(key, rng.low, rng.high, log=rng.log)
        )
        for key, rng in parameters.items()
    }


def calibrate(
    plan: Plan,
    reservation: Reservation,
    budget: int,
    executor=None,
    sensitivity: bool = True,
    progress: Callable[[int, int, float], None] | None = None,
    command: Sequence[str] | None = None,
) -> Path:
    """Run the calibration into the reserved partial folder (new, or one to resume) until
    ``budget`` trials are done; write the reports; give the folder its final name and return
    it. ``progress(done, budget, best distance)`` after each trial."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder = reservation.partial
    storage = f"sqlite:///{folder / 'optuna.db'}"
    study = optuna.create_study(
        study_name=STUDY_NAME, storage=storage, direction="minimize", load_if_exists=True
    )
    fingerprint = plan.fingerprint()
    known = study.user_attrs.get("fingerprint")
    if known is None:
        study.set_user_attr("fingerprint", fingerprint)
    elif known != fingerprint:
        raise CalibrationError(
            f"{folder}: was started with another scenario, targets, seeds or code version "
            "(fingerprints differ); start a new calibration instead of resuming this one"
        )
    from sim.executors import InProcess

    root = plan.loaded.config.seed
    pool = executor if executor is not None else InProcess()
    try:

        def objective(trial) -> float:
            values = _suggest(trial, plan.parameters)
            figures = figures_at(plan, values, pool)
            for name, (mean, se) in figures.items():
                trial.set_user_attr(f"figure:{name}", mean)
                trial.set_user_attr(f"se:{name}", se)
            d = distance(plan.measurable, {k: v[0] for k, v in figures.items()})
            return d if math.isfinite(d) else 1e9

        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        while len(done) < budget:
            n = len(study.trials)
            # The suggestion of trial n depends on the finished trials and n only.
            study.sampler = optuna.samplers.TPESampler(seed=(root * 1_000_003 + n) % 2**32)
            study.optimize(objective, n_trials=1)
            done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
            if progress is not None:
                progress(len(done), budget, study.best_value)
        best = study.best_trial
        rows = _sensitivity(plan, best, pool) if sensitivity else []
    finally:
        pool.close()
    _write_reports(plan, folder, study, best, rows, budget, command)
    finish_folder(reservation)
    return reservation.final


def _sensitivity(plan: Plan, best, pool) -> list[dict]:
    """For each parameter, the distance when it moves by SENSITIVITY_STEP of its range each
    way from the best values (the others held), and whether the targets pin it."""
    base = dict(best.params)
    d_best = best.value
    rows = []
    for key, rng in plan.parameters.items():
        step = SENSITIVITY_STEP * (rng.high - rng.low)
        changes = []
        for sign in (-1, 1):
            value = rng.value(base[key] + sign * step)
            figures = figures_at(plan, {**base, key: value}, pool)
            d = distance(plan.measurable, {k: v[0] for k, v in figures.items()})
            changes.append(abs(d - d_best))
        change = max(changes)
        rows.append(
            {
                "parameter": key,
                "best": base[key],
                "low": rng.low,
                "high": rng.high,
                "distance_change": change,
                "pinned": change > max(PINNED_TOLERANCE * d_best, 1e-3),
            }
        )
    return rows


def _write_reports(plan: Plan, folder: Path, study, best, sensitivity, budget, command) -> None:
    import optuna

    config = plan.loaded.config
    resolved = json.loads(json.dumps(plan.loaded.resolved))
    for key, value in best.params.items():
        node = resolved
        parts = key.split(".")
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    header = (
        f"# Calibrated by: {' '.join(command or sys.argv)}\n"
        f"# {budget} trials, {plan.seeds} seeds each; best distance {best.value:.6g} "
        f"(trial {best.number}); {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n"
    )
    write_text(folder / "calibrated.yaml", header + dump_yaml(resolved))
    rows = []
    for target in plan.targets.targets:
        low, high = target.band
        if target.name in plan.unmeasurable:
            model = se = math.nan
            status = "not measurable: lacks " + ", ".join(plan.unmeasurable[target.name])
        else:
            model = best.user_attrs.get(f"figure:{target.name}", math.nan)
            se = best.user_attrs.get(f"se:{target.name}", math.nan)
            status = "within" if math.isfinite(model) and low <= model <= high else "outside"
        rows.append(
            {
                "target": target.name,
                "scenario": _target_scenario(plan.scenario_path, target).name,
                "model": model,
                "se": se,
                "value": target.value,
                "band_low": low,
                "band_high": high,
                "status": status,
                "grade": target.grade,
                "weight": target.weight,
                "source": target.source,
            }
        )
    write_csv(folder / "targets.csv", pd.DataFrame(rows))
    history = [
        {"trial": t.number, "distance": t.value, **t.params}
        for t in study.trials
        if t.state == optuna.trial.TrialState.COMPLETE
    ]
    write_csv(folder / "history.csv", pd.DataFrame(history))
    write_csv(
        folder / "sensitivity.csv",
        pd.DataFrame(
            sensitivity,
            columns=["parameter", "best", "low", "high", "distance_change", "pinned"],
        ),
    )
    _figure(pd.DataFrame(history), folder / "distance.png")
    write_json(
        folder / "run.json",
        {
            "status": "complete",
            "kind": "calibration",
            "scenario": config.name,
            "targets": plan.targets.name,
            "budget": budget,
            "seeds": plan.seeds,
            "best_trial": best.number,
            "best_distance": best.value,
            "best_params": best.params,
            "fingerprint": plan.fingerprint(),
            "command": list(command or sys.argv),
        },
    )


def _figure(history: pd.DataFrame, path: Path) -> None:
    """Distance of each trial and the best so far (no pyplot: no backend is switched)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    ax.plot(history["trial"], history["distance"], "o", ms=3, label="trial")
    ax.plot(history["trial"], history["distance"].cummin(), "-", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("distance to the targets")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
