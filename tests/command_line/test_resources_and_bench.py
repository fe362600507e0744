"""Runs that will not fit in memory are refused before anything is built, and `zhongcao bench`
reports what it measured. Speeds are never asserted here (see BENCHMARKS.md)."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import SCENARIOS
from typer.testing import CliRunner

import cli
import sim.resources
from sim.resources import estimate_memory
from sim.scenario import load_scenario

TINY = SCENARIOS / "tiny.yaml"
RUNNER = CliRunner()
MIB = 2**20


def invoke(monkeypatch: pytest.MonkeyPatch, *args: object):
    argv = ["zhongcao", *(str(a) for a in args)]
    monkeypatch.setattr(sys, "argv", argv)
    return RUNNER.invoke(cli.app, argv[1:])


def tiny_estimate(*overrides: str) -> int:
    return estimate_memory(load_scenario(TINY, list(overrides)).config).total_bytes


def test_estimate_grows_with_consumers_and_days():
    """More consumers, or more days of order history, need more memory."""
    base = tiny_estimate()
    assert tiny_estimate("population.consumers=30000") > base
    assert tiny_estimate("steps=300") > base


def test_a_run_that_will_not_fit_exits_2_before_anything_is_written(monkeypatch, tmp_path):
    """With less memory available than the run's estimate: exit 2, the estimate and what is
    available in one message, and no folder."""
    monkeypatch.setattr(sim.resources, "available_bytes", lambda: tiny_estimate() // 2)
    out = tmp_path / "out"
    result = invoke(monkeypatch, "run", TINY, "--out", out)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "would need about" in result.stderr
    assert "population.consumers" in result.stderr
    assert not out.exists()


def test_a_comparison_counts_one_run_per_worker(monkeypatch, tmp_path):
    """Room for one run but not for two: a comparison with two workers is refused (and told to
    use fewer workers) before any run starts."""
    monkeypatch.setattr(sim.resources, "available_bytes", lambda: int(1.5 * tiny_estimate()))
    out = tmp_path / "out"
    result = invoke(monkeypatch, "compare", TINY, "--seeds", "2", "--workers", "2", "--out", out)
    assert result.exit_code == 2, result.output
    assert "2 runs at once" in result.stderr
    assert "fewer --workers" in result.stderr
    assert not out.exists()


@pytest.mark.usefixtures("compiled_kernel")
def test_bench_json_reports_every_size_it_was_given(monkeypatch):
    """`bench --json`: one JSON object per size, in order, with the documented keys, each
    measurement positive, the memory estimate of the run it timed (warm-up and timed steps),
    and the phase shares summing to one."""
    result = invoke(
        monkeypatch,
        "bench",
        "--scenario",
        TINY,
        "--consumers",
        "2000",
        "--consumers",
        "4000",
        "--steps",
        "2",
        "--warmup",
        "1",
        "--json",
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["consumers"] for row in rows] == [2000, 4000]
    for row in rows:
        for key in ("seconds_per_step", "consumer_steps_per_s", "peak_rss_mb", "build_s"):
            assert row[key] > 0, key
        assert row["estimated_mb"] * MIB == pytest.approx(
            tiny_estimate(f"population.consumers={row['consumers']}", "steps=3"), rel=0.01
        )
        assert sum(row["phase_share"].values()) == pytest.approx(1, abs=0.01)
