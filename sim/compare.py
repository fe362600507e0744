"""Comparing policies over many seeds: one comparison -> one study folder.

Every policy runs on the same seed indices 0..N-1; run ``i`` of every policy starts from
``SeedSequence(scenario seed, spawn_key=(i,))``, so seed index ``i`` gives every policy the
same initial market and the same luck (common random numbers). A comparison is a study
(:mod:`sim.study`): its runs go to any executor (a local process pool by default, or Dask),
it can be resumed after an interruption, and each run depends only on its policy and seed
index, so the results are the same for any executor and number of workers.

A comparison folder holds, besides the study's ``study.json``:

* ``runs/<policy>/seed<i>/``: one complete run folder per finished run;
* ``summary.csv``: a row per run: ``policy``, ``seed_index``, ``status``, ``error``,
  ``wall_time_s``, the value of every key a policy sets, and every metric's whole-run value;
* ``comparison.csv``: ``policy, metric, mean, ci_low, ci_high, n, method``: 95% intervals across
  seeds;
* ``differences.csv``: each policy minus the first, paired by seed, with 95% t-intervals;
* ``figures/``: every figure that fits a comparison (PNG, SVG and CSV), ``report.html``: one
  self-contained page with the scenario, the policies, the tables and every figure;
* ``config.yaml``: the scenario with its policies; ``run.json``: provenance, written last.

A run that fails is recorded with its seed index and error; the others still finish.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.executors import InProcess, LocalPool
from sim.io import Reservation, write_csv
from sim.runner import FIGURES
from sim.scenario import LoadedScenario
from sim.stats import CONFIDENCE, comparison_table, paired_differences
from sim.study import Progress, StudyPlan, StudyResult, comparison_plan, run_study

CompareResult = StudyResult


def draw_comparison(folder: Path, info: dict) -> Path:
    """Every figure that fits a comparison, from its files, and report.html."""
    from sim.plots import draw, kinds_for  # matplotlib only when figures are drawn
    from sim.report import write_report
    from sim.results import read_results

    results = read_results(folder, info)
    figures = draw(results, kinds_for(results), results.headline_metrics, folder / FIGURES)
    return write_report(results, figures, folder / "report.html")


def finish_comparison(plot: bool) -> Callable[[Path, StudyPlan, pd.DataFrame, dict], None]:
    def finish(root: Path, plan: StudyPlan, ok: pd.DataFrame, info: dict) -> None:
        reference = plan.variants[0].name
        metrics = ok.drop(columns=["status", "error", *plan.parameter_keys])
        write_csv(root / "comparison.csv", comparison_table(metrics))
        write_csv(root / "differences.csv", paired_differences(metrics, reference))
        declared = plan.base.resolved["policies"]
        info["kind"] = "comparison"
        info["policies"] = {v.name: declared.get(v.name, {}) for v in plan.variants}
        info["reference_policy"] = reference
        info["confidence"] = CONFIDENCE
        if plot and not ok.empty:
            draw_comparison(root, info)

    return finish


def local_executor(workers: int) -> Any:
    """The default executor: in this process for one worker, else a local process pool."""
    return InProcess() if workers <= 1 else LocalPool(workers)


def compare(
    scenario: LoadedScenario,
    policies: dict[str, LoadedScenario],
    out_root: Path,
    *,
    seeds: int,
    workers: int = 1,
    command: Sequence[str] | None = None,
    progress: Progress | None = None,
    plot: bool = True,
    reserved: Callable[[Reservation], None] | None = None,
    executor: Any = None,
    resume: Path | None = None,
) -> CompareResult:
    """Run every policy on seed indices 0..seeds-1 and write the comparison folder (with its
    figures and report.html unless ``plot`` is False); ``executor`` (default: a local pool of
    ``workers``) runs them, ``resume`` continues an earlier folder of the same comparison."""
    plan = comparison_plan(scenario, policies, seeds)
    executor = executor if executor is not None else local_executor(workers)
    return run_study(
        plan,
        Path(out_root),
        executor=executor,
        finish=finish_comparison(plot),
        command=command,
        progress=progress,
        reserved=reserved,
        resume=resume,
    )
