"""Parameter sweeps: the design points of a scenario's ``sweep:`` block, over seeds, as one
study folder (:mod:`sim.study`; designs in :mod:`sim.design`, analysis in
:mod:`sim.sensitivity`).

A sweep folder holds, besides ``study.json``, ``design.csv`` and ``runs/<point>/seed<i>/``:

* ``summary.csv``: a row per run: ``point``, ``seed_index``, ``status``, ``error``,
  ``wall_time_s``, the value of every swept key and every metric's whole-run value;
* ``points.csv``: a row per design point: its values, ``n`` (finished runs) and each metric's
  mean over its seed indices;
* ``config.yaml``: the scenario with its ``sweep:`` block; ``figures/sweep``: each headline
  metric against each swept key (left out with ``--no-plot``); ``run.json``, written last.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.io import write_csv
from sim.runner import FIGURES
from sim.study import StudyPlan


def finish_sweep(plot: bool) -> Callable[[Path, StudyPlan, pd.DataFrame, dict], None]:
    def finish(root: Path, plan: StudyPlan, ok: pd.DataFrame, info: dict) -> None:
        keys = plan.parameter_keys
        metrics = [
            c
            for c in ok.columns
            if c not in {"point", "seed_index", "status", "error", "wall_time_s", *keys}
        ]
        values = pd.DataFrame([{"point": v.name, **v.parameters} for v in plan.variants])
        means = ok.groupby("point", sort=False)[metrics].mean() if metrics else pd.DataFrame()
        counts = ok.groupby("point", sort=False).size().rename("n")
        points = values.set_index("point").join(counts).join(means)
        points["n"] = points["n"].fillna(0).astype(int)
        write_csv(root / "points.csv", points.reset_index())
        design = plan.design
        info["design"] = {
            "method": design.method,
            "points": design.n_points,
            "seed": design.seed,
            "factors": [p.key for p in design.parameters if p.role == "factor"],
            "levers": [p.key for p in design.parameters if p.role == "lever"],
        }
        if plot and not ok.empty:
            from sim.study_plots import plot_sweep

            headline = [m for m in plan.base.config.output.headline_metrics if m in ok.columns]
            plot_sweep(ok, keys, headline[:6], root / FIGURES / "sweep")

    return finish
