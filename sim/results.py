"""Reading result folders back: a run folder or a comparison folder, from its files only.

A folder is complete when its ``run.json`` exists (it is written last); ``run.json`` says
whether it is a run (``"kind": "run"``) or a comparison (``"kind": "comparison"``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
from ruamel.yaml import YAML


class ResultsError(Exception):
    """A folder that cannot be read as results: bad input (exit code 2)."""


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: cannot be read ({exc})") from None


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
        return pd.read_parquet(self.folder / "timeseries.parquet")

    @cached_property
    def wide(self) -> pd.DataFrame:
        """One row per step, one column per metric."""
        return self.timeseries.pivot(index="step", columns="metric", values="value")

    @cached_property
    def creators(self) -> pd.DataFrame:
        return pd.read_parquet(self.folder / "creators.parquet")

    @cached_property
    def merchants(self) -> pd.DataFrame:
        return pd.read_parquet(self.folder / "merchants.parquet")

    @cached_property
    def follows(self) -> pd.DataFrame:
        path = self.folder / "follows_sample.parquet"
        if not path.is_file():
            raise ResultsError(f"{self.folder}: no follows_sample.parquet (needed for the network)")
        return pd.read_parquet(path)

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
        return pd.read_csv(self.folder / "summary.csv")

    @cached_property
    def comparison(self) -> pd.DataFrame:
        return pd.read_csv(self.folder / "comparison.csv")

    @cached_property
    def differences(self) -> pd.DataFrame:
        return pd.read_csv(self.folder / "differences.csv")

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
    info_path = folder / "run.json"
    if not info_path.is_file():
        raise ResultsError(
            f"{folder}: not a run or comparison folder (no run.json; an unfinished or "
            "interrupted run has none)"
        )
    return read_results(folder, _read_json(info_path))


def read_results(folder: Path, info: dict) -> Results:
    """A folder's results given its provenance ``info`` (what run.json holds, or will hold:
    figures are drawn before run.json is written)."""
    config = _read_yaml(folder / "config.yaml") if (folder / "config.yaml").is_file() else {}
    if info.get("kind") == "comparison":
        runs: dict[str, list[RunResults]] = {}
        for policy in info.get("policies", {}):
            runs[policy] = []
            for seed in info.get("seed_indices", []):
                run_folder = folder / "runs" / policy / f"seed{seed}"
                if (run_folder / "run.json").is_file():
                    runs[policy].append(open_results(run_folder))
        return ComparisonResults(folder, info, config, runs)
    if not (folder / "timeseries.parquet").is_file():
        raise ResultsError(f"{folder}: no timeseries.parquet")
    return RunResults(folder, info, config)
