"""Reading result folders back: a run folder or a comparison folder, from its files only.

A folder is complete when its ``run.json`` exists (it is written last) and it is not a hidden
``.<name>.partial`` folder (a run still being written, or left by a crash: see
``zhongcao clean``); ``run.json`` says whether it is a run (``"kind": "run"``) or a
comparison (``"kind": "comparison"``). A folder whose files are missing or damaged is a
:class:`ResultsError` when it is opened, before any figure is drawn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
from ruamel.yaml import YAML

from sim.io import is_partial


class ResultsError(Exception):
    """A folder that cannot be read as results: bad input (exit code 2)."""


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot be read ({exc})") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: not a run.json (a JSON object is expected)")
    return data


def _read_table(path: Path, columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """A Parquet or CSV table of a results folder; ResultsError if missing or damaged."""
    if not path.is_file():
        raise ResultsError(f"{path.parent}: no {path.name} (the folder is damaged)")
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # pyarrow and pandas raise many kinds for a damaged file
        message = " ".join(str(exc).split())
        raise ResultsError(f"{path}: cannot be read ({type(exc).__name__}: {message})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ResultsError(f"{path}: columns {missing} are missing (the folder is damaged)")
    return frame


def _read_yaml(path: Path) -> dict:
    try:
        return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or {}
    except Exception as exc:
        raise ResultsError(f"{path}: cannot be read ({exc})") from None


@dataclass
class RunResults:
    """One run folder."""

    folder: Path
    info: dict
    config: dict

    @property
    def name(self) -> str:
        return self.info.get("scenario", self.folder.name)

    @property
    def seed(self) -> int:
        return int(self.info.get("seed", 0))

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """Tidy: step, metric, value."""
        return _read_table(self.folder / "timeseries.parquet", ("step", "metric", "value"))

    @cached_property
    def wide(self) -> pd.DataFrame:
        """One row per step, one column per metric."""
        return self.timeseries.pivot(index="step", columns="metric", values="value")

    @cached_property
    def creators(self) -> pd.DataFrame:
        return _read_table(self.folder / "creators.parquet", ("step", "status"))

    @cached_property
    def merchants(self) -> pd.DataFrame:
        return _read_table(self.folder / "merchants.parquet", ("step", "status"))

    @cached_property
    def follows(self) -> pd.DataFrame:
        path = self.folder / "follows_sample.parquet"
        if not path.is_file():
            raise ResultsError(f"{self.folder}: no follows_sample.parquet (needed for the network)")
        return _read_table(path)

    @property
    def metrics(self) -> list[str]:
        return list(dict.fromkeys(self.timeseries["metric"]))

    @property
    def headline_metrics(self) -> list[str]:
        return list(self.config.get("output", {}).get("headline_metrics", []))


@dataclass
class ComparisonResults:
    """One comparison folder: runs per policy and seed, and the tables across seeds."""

    folder: Path
    info: dict
    config: dict
    runs: dict[str, list[RunResults]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.info.get("scenario", self.folder.name)

    @property
    def policies(self) -> list[str]:
        return list(self.runs)

    @cached_property
    def summary(self) -> pd.DataFrame:
        return _read_table(self.folder / "summary.csv", ("policy", "seed_index", "status"))

    @cached_property
    def comparison(self) -> pd.DataFrame:
        return _read_table(self.folder / "comparison.csv", ("policy", "metric", "mean"))

    @cached_property
    def differences(self) -> pd.DataFrame:
        return _read_table(self.folder / "differences.csv")

    @property
    def metrics(self) -> list[str]:
        return list(dict.fromkeys(self.comparison["metric"]))

    @property
    def headline_metrics(self) -> list[str]:
        return list(self.config.get("output", {}).get("headline_metrics", []))


Results = RunResults | ComparisonResults


def open_results(folder: str | Path) -> Results:
    """Read a run or comparison folder; raise :class:`ResultsError` if it is neither."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: not a folder")
    if is_partial(folder.absolute()):
        raise ResultsError(
            f"{folder}: a partial folder (a run being written, or left by a crash), not "
            "results; `zhongcao clean` lists and removes the stale ones"
        )
    info_path = folder / "run.json"
    if not info_path.is_file():
        raise ResultsError(
            f"{folder}: not a run or comparison folder (no run.json; an unfinished or "
            "interrupted run has none)"
        )
    results = read_results(folder, _read_json(info_path))
    check_tables(results)
    return results


def check_tables(results: Results) -> None:
    """Read every table a figure may need, so that a damaged folder is refused up front."""
    runs = [results] if isinstance(results, RunResults) else []
    if isinstance(results, ComparisonResults):
        _ = results.summary, results.comparison, results.differences
        runs = [run for policy_runs in results.runs.values() for run in policy_runs]
    for run in runs:
        _ = run.timeseries, run.creators, run.merchants


def read_results(folder: Path, info: dict) -> Results:
    """A folder's results given its provenance ``info`` (what run.json holds, or will hold:
    figures are drawn before run.json is written)."""
    config = _read_yaml(folder / "config.yaml") if (folder / "config.yaml").is_file() else {}
    if info.get("kind") == "comparison":
        runs: dict[str, list[RunResults]] = {}
        if not isinstance(info.get("policies", {}), dict) or not isinstance(
            info.get("seed_indices", []), list
        ):
            raise ResultsError(f"{folder}: run.json does not describe a comparison")
        for policy in info.get("policies", {}):
            runs[policy] = []
            for seed in info.get("seed_indices", []):
                run_folder = folder / "runs" / policy / f"seed{seed}"
                if (run_folder / "run.json").is_file():
                    runs[policy].append(
                        read_results(run_folder, _read_json(run_folder / "run.json"))
                    )
        return ComparisonResults(folder, info, config, runs)
    if not (folder / "timeseries.parquet").is_file():
        raise ResultsError(f"{folder}: no timeseries.parquet")
    return RunResults(folder, info, config)
