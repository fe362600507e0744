"""Analysis of a finished sweep: sensitivity indices (SALib), and export to EMA Workbench.

``analyze`` reads a sweep folder's ``design.csv`` (the matrix SALib drew) and ``summary.csv``
(a row per run) and computes, for each metric, one index per swept key with its 95%
confidence interval (SALib's bootstrap):

* ``sobol`` (a ``sobol`` design): first-order ``S1`` and total-order ``ST`` indices (and
  ``S2`` for pairs with ``second_order``): the share of the metric's variance a key explains
  alone, and with all its interactions;
* ``morris`` (a ``morris`` design): ``mu_star``, the mean absolute elementary effect (with
  its interval), ``mu`` and ``sigma`` (the spread: non-linearity or interactions);
* ``delta`` (any design): Borgonovo's moment-independent ``delta`` and a first-order ``S1``.

A design point's value is the mean of its finished runs over the seed indices (common random
numbers: every point has the same seeds). Sobol' and Morris indices need every point; delta
uses the points that have a finished run. A metric that does not vary over the design has no
indices (it is listed as constant).

The tidy table ``sensitivity_<method>.csv`` has the columns ``method, metric, parameter,
role, index, value, ci_low, ci_high``; the figure ``figures/sensitivity_<method>`` draws it.

``export_ema`` writes what EMA Workbench's ``save_results`` writes — a ``.tar.gz`` with
``experiments.csv`` (a row per finished run: the swept keys, ``scenario``, ``policy``,
``model`` and ``seed_index``), ``experiments metadata.csv``, ``outcomes metadata.csv`` and one
``<metric>.csv`` per metric — so that ``ema_workbench.load_results`` reads it, for PRIM,
feature scoring and the rest of EMA's analysis.
"""

from __future__ import annotations

import contextlib
import io
import json
import tarfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.io import StudyError, atomic_write, write_csv
from sim.stats import CONFIDENCE

METHODS = ("sobol", "morris", "delta")
COLUMNS = ["method", "metric", "parameter", "role", "index", "value", "ci_low", "ci_high"]
ID_COLUMNS = ("policy", "point", "seed_index", "status", "error", "wall_time_s")


@dataclass(frozen=True)
class Study:
    """A complete study folder, read back."""

    folder: Path
    plan: dict
    """study.json."""
    info: dict
    """run.json."""
    summary: pd.DataFrame

    @property
    def kind(self) -> str:
        return self.plan["kind"]

    @property
    def parameters(self) -> list[str]:
        return list(self.plan["parameters"])

    @property
    def metrics(self) -> list[str]:
        skip = {*ID_COLUMNS, *self.parameters}
        return [c for c in self.summary.columns if c not in skip]

    @property
    def headline_metrics(self) -> list[str]:
        from ruamel.yaml import YAML

        config = YAML(typ="safe", pure=True).load(
            (self.folder / "config.yaml").read_text(encoding="utf-8")
        )
        return list(config.get("output", {}).get("headline_metrics", []))

    @property
    def ok(self) -> pd.DataFrame:
        return self.summary[self.summary["status"] == "ok"]


def open_study(folder: Path) -> Study:
    """A complete study folder (StudyError for anything else: an interrupted study is resumed
    first, a run folder is not a study)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise StudyError(f"{folder}: not a folder")
    plan_path, info_path = folder / "study.json", folder / "run.json"
    if not plan_path.is_file():
        raise StudyError(
            f"{folder}: not a study folder (no study.json): `compare` and `sweep` make one"
        )
    if not info_path.is_file():
        raise StudyError(
            f"{folder}: the study is not complete (no run.json); `zhongcao status {folder}` "
            "says what is left, `--resume` runs it"
        )
    try:
        plan = json.loads(plan_path.read_text(encoding="utf-8"))
        info = json.loads(info_path.read_text(encoding="utf-8"))
        summary = pd.read_csv(folder / "summary.csv")
    except (OSError, ValueError) as exc:
        raise StudyError(f"{folder}: cannot be read ({exc})") from None
    return Study(folder, plan, info, summary)


def point_means(study: Study, metrics: list[str]) -> pd.DataFrame:
    """One row per design point in the design's order: each metric's mean over the point's
    finished runs (NaN for a point without one)."""
    ok = study.ok
    means = ok.groupby("point", sort=False)[metrics].mean()
    return means.reindex(list(study.plan["variants"]))


def _design(study: Study) -> tuple[dict, np.ndarray]:
    design = study.plan.get("design")
    if study.kind != "sweep" or not design:
        raise StudyError(f"{study.folder}: analyze needs a sweep (this is a {study.kind})")
    X = pd.read_csv(study.folder / "design.csv")[design["keys"]].to_numpy(dtype=np.float64)
    problem = dict(design["problem"])
    return problem, X


def analyze(study: Study, method: str, metrics: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The tidy table of indices for ``metrics`` and the metrics that were constant."""
    from SALib.analyze import delta, morris, sobol

    if method not in METHODS:
        raise StudyError(f"unknown method {method!r}; methods: {', '.join(METHODS)}")
    unknown = [m for m in metrics if m not in study.metrics]
    if unknown:
        raise StudyError(f"unknown metrics {unknown}; metrics: {', '.join(study.metrics)}")
    problem, X = _design(study)
    design = study.plan["design"]
    if method in ("sobol", "morris") and design["method"] != method:
        raise StudyError(
            f"{study.folder}: {method} indices need a {method} design (this sweep's design is "
            f"{design['method']}); delta works with any design"
        )
    Y_all = point_means(study, metrics)
    missing = int(Y_all.isna().all(axis=1).sum())
    if method != "delta" and missing:
        raise StudyError(
            f"{study.folder}: {missing} design points have no finished run; {method} indices "
            "need every point (`--resume` reruns the failed runs)"
        )
    roles = design["roles"]
    seed = int(design["seed"])
    rows, constant = [], []
    for metric in metrics:
        Y = Y_all[metric].to_numpy(dtype=np.float64)
        keep = np.isfinite(Y)
        if np.ptp(Y[keep]) == 0 if keep.any() else True:
            constant.append(metric)
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if method == "sobol":
                result = sobol.analyze(
                    problem,
                    Y,
                    calc_second_order=design["second_order"],
                    conf_level=CONFIDENCE,
                    seed=seed,
                )
                indices = [("S1", "S1_conf"), ("ST", "ST_conf")]
            elif method == "morris":
                result = morris.analyze(
                    problem,
                    X,
                    Y,
                    conf_level=CONFIDENCE,
                    num_levels=design["morris_levels"],
                    seed=seed,
                )
                indices = [("mu_star", "mu_star_conf"), ("mu", None), ("sigma", None)]
            else:
                result = _delta(delta, problem, X[keep], Y[keep], seed, study.folder)
                indices = [("delta", "delta_conf"), ("S1", "S1_conf")]
        for i, name in enumerate(problem["names"]):
            for index, conf in indices:
                value = float(np.asarray(result[index])[i])
                half = float(np.asarray(result[conf])[i]) if conf else float("nan")
                rows.append(
                    (method, metric, name, roles[name], index, value, value - half, value + half)
                )
        if method == "sobol" and design["second_order"]:
            names = problem["names"]
            for i in range(len(names)):
                for j in range(i + 1, len(names)):
                    value, half = float(result["S2"][i, j]), float(result["S2_conf"][i, j])
                    pair = f"{names[i]} x {names[j]}"
                    rows.append(
                        (method, metric, pair, "pair", "S2", value, value - half, value + half)
                    )
    return pd.DataFrame(rows, columns=COLUMNS), constant


def _delta(delta, problem: dict, X: np.ndarray, Y: np.ndarray, seed: int, folder: Path) -> dict:
    """SALib's delta analysis, or a StudyError when the design is too small for it (SALib
    reports that on stdout and leaves the indices out)."""
    with contextlib.redirect_stdout(io.StringIO()) as said, contextlib.redirect_stderr(said):
        try:
            result = delta.analyze(problem, X, Y, conf_level=CONFIDENCE, seed=seed)
        except (ValueError, IndexError) as exc:
            said.write(str(exc))
            result = {}
    if "delta" not in result or "S1" not in result:
        detail = " ".join(said.getvalue().split())[:300]
        raise StudyError(
            f"{folder}: {len(Y)} design points with finished runs are too few for delta "
            f"indices (SALib: {detail or 'no indices'}); a sweep of more samples gives them"
        )
    return result


def write_analysis(study: Study, method: str, metrics: list[str], plot: bool = True):
    """Write ``sensitivity_<method>.csv`` (and its figure) into the study folder; return the
    table, the paths written and the constant metrics."""
    table, constant = analyze(study, method, metrics)
    path = study.folder / f"sensitivity_{method}.csv"
    write_csv(path, table)
    paths = [path]
    if plot and not table.empty:
        from sim.study_plots import plot_sensitivity

        paths += list(plot_sensitivity(table, study.folder / "figures" / f"sensitivity_{method}"))
    return table, paths, constant


def ema_tables(study: Study) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """EMA Workbench's experiments (a row per finished run) and outcomes (metric -> values)."""
    ok = study.ok.reset_index(drop=True)
    id_column = study.plan["id_column"]
    experiments = ok[study.parameters].copy()
    design = study.plan.get("design") or {}
    roles = design.get("roles", {})
    levers = [k for k in study.parameters if roles.get(k) == "lever"]
    experiments["scenario"] = ok[id_column].astype(str)
    if study.kind == "comparison":
        experiments["policy"] = ok[id_column].astype(str)
    elif levers:
        experiments["policy"] = ok[levers].astype(str).agg(", ".join, axis=1)
    else:
        experiments["policy"] = "none"
    experiments["model"] = "zhongcao"
    experiments["seed_index"] = ok["seed_index"].astype(int)
    for column in experiments.columns:
        if experiments[column].dtype == object:
            experiments[column] = experiments[column].astype("category")
    outcomes = {m: ok[m].to_numpy(dtype=np.float64) for m in study.metrics}
    return experiments, outcomes


def export_ema(study: Study, path: Path) -> Path:
    """Write the study as EMA Workbench's ``save_results`` does (see the module docstring)."""
    experiments, outcomes = ema_tables(study)

    def text(frame: pd.DataFrame, **kwargs) -> bytes:
        buffer = io.StringIO()
        frame.to_csv(buffer, **kwargs)
        return buffer.getvalue().encode("utf-8")

    files = {
        "experiments.csv": text(experiments, header=True, index=False),
        "experiments metadata.csv": text(experiments.dtypes.astype(str).to_frame(), header=False),
        "outcomes metadata.csv": "\n".join(
            f"{name},{values.shape}" for name, values in outcomes.items()
        ).encode("utf-8"),
    }
    for name, values in outcomes.items():
        files[f"{name}.csv"] = text(pd.DataFrame(values), header=False, index=False)

    def write(tmp: Path) -> None:
        with tarfile.open(tmp, "w:gz") as archive:
            for name, data in files.items():
                entry = tarfile.TarInfo(name)
                entry.size = len(data)
                archive.addfile(entry, io.BytesIO(data))

    atomic_write(Path(path), write)
    return Path(path)
