"""Studies on a real Dask LocalCluster of two workers: the same summary as the local pool, an
interrupted study resumed to the results of an uninterrupted one, and a killed worker
recorded as one failed run while the study goes on."""

from __future__ import annotations

import os
import signal
import textwrap
import threading
import time

import pandas as pd
import pytest
from conftest import SCENARIOS

from sim.compare import compare
from sim.executors import WORKER_DIED, DaskExecutor, LocalPool
from sim.scenario import load_policies, load_scenario

pytest.importorskip("distributed")

BODY = """\
steps: 3
population: {consumers: 300}
policies:
  lax: {platform.governance.strictness: 0.1}
  strict: {platform.governance.strictness: 0.9}
"""


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    path = tmp_path_factory.mktemp("dask") / "study.yaml"
    path.write_text(f"extends: {SCENARIOS / 'tiny.yaml'}\n" + textwrap.dedent(BODY), "utf-8")
    return load_scenario(path), load_policies(path)


@pytest.fixture(scope="module")
def cluster(compiled_kernel):
    executor = DaskExecutor(workers=2)
    yield executor
    executor.close()


@pytest.fixture(scope="module")
def reference(scenario, tmp_path_factory, compiled_kernel):
    """The comparison on the local pool of two workers."""
    base, policies = scenario
    pool = LocalPool(2)
    try:
        return compare(
            base, policies, tmp_path_factory.mktemp("pool"), seeds=3, executor=pool, plot=False
        )
    finally:
        pool.close()


def without_time(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.drop(columns=["wall_time_s"]).reset_index(drop=True)


def test_a_local_cluster_gives_the_summary_of_the_local_pool(
    cluster, scenario, reference, tmp_path
):
    base, policies = scenario
    result = compare(base, policies, tmp_path, seeds=3, executor=cluster, plot=False)
    assert result.failures == []
    pd.testing.assert_frame_equal(without_time(result.summary), without_time(reference.summary))
    for name in ("comparison.csv", "differences.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(result.folder / name), pd.read_csv(reference.folder / name)
        )


def test_an_interrupted_study_on_the_cluster_resumes_to_the_same_results(
    cluster, scenario, reference, tmp_path
):
    base, policies = scenario

    def stop_after_two(progress) -> None:
        if progress.record is not None and progress.done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        compare(
            base, policies, tmp_path, seeds=3, executor=cluster, plot=False, progress=stop_after_two
        )
    (kept,) = tmp_path.iterdir()
    assert kept.name.endswith(".interrupted")
    assert not list(kept.glob("runs/*/.*"))  # no run left half-written
    finished = len(list(kept.glob("runs/*/*/run.json")))
    assert 2 <= finished < 6
    resumed = compare(base, policies, tmp_path, seeds=3, executor=cluster, plot=False, resume=kept)
    assert resumed.resumed_runs == finished
    pd.testing.assert_frame_equal(without_time(resumed.summary), without_time(reference.summary))


def test_a_killed_worker_is_one_failed_run_and_the_study_goes_on(cluster, scenario, tmp_path):
    base, policies = scenario
    client = cluster.client
    killed: list[str] = []

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            busy = [(w, keys) for w, keys in client.processing().items() if keys]
            if busy:
                worker, keys = busy[0]
                pid = client.run(os.getpid, workers=[worker])[worker]
                os.kill(pid, signal.SIGKILL)
                killed.append(keys[0])
                return
            time.sleep(0.02)

    thread = threading.Thread(target=kill_a_busy_worker)
    thread.start()
    try:
        result = compare(base, policies, tmp_path, seeds=3, executor=cluster, plot=False)
    finally:
        thread.join()
    assert killed
    assert len(result.failures) == 1, result.failures
    failure = result.failures[0]
    assert failure["error"] == WORKER_DIED
    assert killed[0].endswith(f"-{failure['policy']}-seed{failure['seed_index']}")
    assert (result.summary["status"] == "ok").sum() == 5
