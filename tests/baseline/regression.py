"""The regression baseline: pinned whole-run results of two scenarios at fixed seeds.

A refactoring must leave these bit-identical; a change of behaviour refreshes them on purpose,
in a commit of its own that says why::

    make baseline      # = .venv/bin/python tests/baseline/regression.py --refresh

Each case is a scenario with ``--set`` overrides. What is pinned, per case: the whole-run
summary (every metric, as ``summary.csv`` holds it), the last day's metrics, and SHA-256
digests of every step's metrics and of the creator and merchant snapshots, so a change that
moves any number of any day is caught, and the summary shows where.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim.runner import simulate
from sim.scenario import load_scenario

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE.parents[1] / "scenarios"

CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "tiny": ("tiny.yaml", ()),
    "baseline_20k_60d": (
        "baseline.yaml",
        (
            "population.consumers=20000",
            "steps=60",
            "warmup_days=30",
            "output.agent_sample_every_days=10",
        ),
    ),
}
"""Case name -> (scenario file under scenarios/, --set overrides). Seeds are the scenarios'."""


def _digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's columns and values, exact to the bit."""
    h = hashlib.sha256()
    for column in frame.columns:
        h.update(str(column).encode())
        values = frame[column].to_numpy()
        if values.dtype == object:
            h.update("\x1f".join(map(str, values)).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def _plain(value) -> float | int | str | None:
    """A JSON-safe scalar that round-trips exactly (NaN and infinities as strings)."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def compute(case: str) -> dict:
    """Run one case and return what is pinned of it."""
    scenario, overrides = CASES[case]
    config = load_scenario(SCENARIOS / scenario, list(overrides)).config
    recorder = simulate(config)
    wide = recorder.wide()
    return {
        "scenario": scenario,
        "overrides": list(overrides),
        "seed": config.seed,
        "summary": {k: _plain(v) for k, v in recorder.summary().items()},
        "last_day": {k: _plain(v) for k, v in wide.iloc[-1].items()},
        "timeseries_sha256": _digest(wide),
        "creators_sha256": _digest(recorder.creators()),
        "merchants_sha256": _digest(recorder.merchants()),
    }


def path_of(case: str) -> Path:
    return HERE / f"{case}.json"


def load(case: str) -> dict:
    return json.loads(path_of(case).read_text(encoding="utf-8"))


def refresh(cases: list[str]) -> None:
    for case in cases:
        pinned = compute(case)
        path_of(case).write_text(json.dumps(pinned, indent=1, sort_keys=False) + "\n")
        print(f"refreshed {path_of(case)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refresh", action="store_true", help="recompute and write the files")
    parser.add_argument("cases", nargs="*", default=list(CASES), help="cases (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {unknown}; cases are {sorted(CASES)}")
    if args.refresh:
        refresh(args.cases)
        return 0
    failed = [case for case in args.cases if compute(case) != load(case)]
    for case in failed:
        print(f"{case}: differs from {path_of(case)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
