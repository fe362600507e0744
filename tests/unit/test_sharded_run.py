"""One run with its consumers on a real two-worker Dask LocalCluster gives the results of a run
in one process, to the bit: the kernel's draws are keyed by day and consumer, and the
outcomes are gathered in chunk order."""

from __future__ import annotations

import math
import sys

import pytest
from conftest import SCENARIOS, tiny_config
from typer.testing import CliRunner

import cli
import sim.phases.matching as matching
from sim.model import MarketModel
from sim.shards import ShardedKernel

STEPS = 3


def days(model: MarketModel) -> list[dict[str, float]]:
    out = []
    for _ in range(STEPS):
        model.step()
        out.append(dict(model.metrics))
    return out


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_same_days(here: list[dict], there: list[dict]) -> None:
    for day, (a, b) in enumerate(zip(here, there, strict=True)):
        differ = {k: (a[k], b[k]) for k in a if not same(a[k], b[k])}
        assert not differ, f"day {day}: {differ}"


@pytest.mark.usefixtures("compiled_kernel")
def test_a_run_on_two_dask_workers_reproduces_the_single_process_run(monkeypatch):
    """On a LocalCluster started here the consumers stay in shared memory (nothing of theirs is
    sent); through the scheduler's address (as for a cluster of other machines) the chunks
    travel. Both give every metric of every day as one process does."""
    # Small chunks, so that each worker's shard holds several of the tiny market's consumers.
    monkeypatch.setattr(matching, "CHUNK_CONSUMERS", 512)
    config = tiny_config(f"steps={STEPS}")
    here = days(MarketModel(config, threads=1))
    with ShardedKernel(workers=2) as kernel:
        assert len(kernel.workers) == 2
        assert_same_days(here, days(MarketModel(config, threads=1, kernel=kernel)))
        with ShardedKernel(address=kernel.client.scheduler.address) as remote:
            assert_same_days(here, days(MarketModel(config, threads=1, kernel=remote)))
    assert len(kernel.bytes) == len(remote.bytes) == STEPS
    assert all(d["out"] == 0 and d["tables"] > 0 and d["back"] > 0 for d in kernel.bytes)
    assert all(d["out"] > 0 for d in remote.bytes)


@pytest.mark.parametrize(
    "args",
    [["--dask", "remote:2"], ["--dask", "local:0"], ["--dask", "local:2", "--scheduler", "x:1"]],
)
def test_a_bad_cluster_for_a_run_exits_2_before_anything_starts(monkeypatch, tmp_path, args):
    argv = ["zhongcao", "run", str(SCENARIOS / "tiny.yaml"), "--out", str(tmp_path), *args]
    monkeypatch.setattr(sys, "argv", argv)
    result = CliRunner().invoke(cli.app, argv[1:])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "--dask" in result.stderr
    assert not any(tmp_path.iterdir())
