"""Studies: sweeps whose design points are validated before any run, folders that keep their
finished runs when interrupted and resume to the same results, a dead worker recorded as one
failed run, sensitivity indices, the EMA export, and one member of a study run alone."""

from __future__ import annotations

import json
import os
import signal
import tarfile
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import SCENARIOS
from typer.testing import CliRunner

import cli
import sim.model
from sim.compare import compare
from sim.executors import WORKER_DIED, InProcess, LocalPool
from sim.scenario import load_policies, load_scenario
from sim.study import comparison_plan, run_study, study_status, sweep_plan
from sim.sweep import finish_sweep

runner = CliRunner()
TINY = SCENARIOS / "tiny.yaml"
SMALL = "steps: 3\npopulation: {consumers: 300}\n"


def write(tmp_path: Path, body: str, name: str = "study.yaml", small: bool = True) -> Path:
    """A scenario extending the tiny one, in its smallest market unless ``small`` is False
    (then ``body`` sets the size)."""
    path = tmp_path / name
    size = SMALL if small else ""
    path.write_text(f"extends: {TINY}\n{size}" + textwrap.dedent(body), encoding="utf-8")
    return path


SWEEP = """\
sweep:
  design: lhs
  samples: 3
  seeds: 2
  factors:
    platform.governance.excess_threshold_se: {range: [1.5, 3.0]}
  levers:
    platform.governance.strictness: {levels: [0.1, 0.9]}
    platform.governance.strike_expiry_days: {range: [30, 365]}
"""

SOBOL = """\
steps: 8
population: {consumers: 1500}
output: {headline_metrics: [quality_gmv_yuan, honest_merchants_removed, gmv_yuan]}
merchants: {honesty: {forced_cheat_share: 0.3}}
sweep:
  design: sobol
  samples: 2
  levers:
    platform.governance.strictness: {range: [0.0, 1.0]}
    platform.governance.fine_share_of_sales: {range: [0.1, 0.5]}
"""


def invoke(*args: object):
    return runner.invoke(cli.app, [str(a) for a in args])


def last_line(result) -> Path:
    return Path(result.stdout.strip().splitlines()[-1])


def without_time(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.drop(columns=["wall_time_s"]).reset_index(drop=True)


def test_a_sweep_runs_every_point_on_the_same_seeds_and_records_their_values(tmp_path):
    path = write(tmp_path, SWEEP)
    result = invoke("sweep", path, "--workers", "1", "--out", tmp_path / "out", "--no-plot")
    assert result.exit_code == 0, result.output
    folder = last_line(result)
    assert folder.parent == tmp_path / "out" and folder.name.startswith("tiny-sweep-")
    summary = pd.read_csv(folder / "summary.csv")
    assert len(summary) == 6 and (summary["status"] == "ok").all()
    assert sorted(summary["seed_index"]) == [0, 0, 0, 1, 1, 1]
    plan = json.loads((folder / "study.json").read_text())
    for row in summary.to_dict("records"):
        values = plan["variants"][row["point"]]
        for key, value in values.items():
            assert row[key] == value, key
        assert values["platform.governance.strictness"] in (0.1, 0.9)
        days = values["platform.governance.strike_expiry_days"]
        assert isinstance(days, int) and 30 <= days <= 365
        run = folder / "runs" / row["point"] / f"seed{row['seed_index']}"
        assert f"strike_expiry_days: {days}\n" in (run / "config.yaml").read_text()
    design = pd.read_csv(folder / "design.csv")
    assert list(design.columns) == ["point", *plan["parameters"]]
    points = pd.read_csv(folder / "points.csv")
    assert list(points["n"]) == [2, 2, 2]
    gmv = summary.groupby("point")["gmv_yuan"].mean()
    assert points.set_index("point")["gmv_yuan"].to_dict() == pytest.approx(gmv.to_dict())
    info = json.loads((folder / "run.json").read_text())
    assert info["kind"] == "sweep" and info["status"] == "complete"
    assert info["design"]["levers"] == [
        "platform.governance.strictness",
        "platform.governance.strike_expiry_days",
    ]
    status = invoke("status", folder)
    assert "sweep, complete: 6 done, 0 failed, 0 left of 6 runs" in status.stdout


def test_every_bad_sweep_value_is_listed_with_its_line_before_any_run(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        """\
        sweep:
          design: lhs
          samples: 4
          factors:
            platform.governance.strictness: {range: [0.0, 2.0]}
            platform.governanse.fine_share_of_sales: {range: [0.1, 0.5]}
          levers:
            platform.take_rate: {levels: [0.05, 1.5]}
        """,
    )
    built = []
    monkeypatch.setattr(sim.model.MarketModel, "__init__", lambda *a, **k: built.append(1))
    result = invoke("sweep", path, "--workers", "1", "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    text = result.stderr
    assert "3 problems" in text and "Traceback" not in text
    assert (
        "study.yaml:8: platform.governance.strictness: in the sweep, at the high end of its "
        "range (2.0): Input should be less than or equal to 1 (got 2.0)"
    ) in text
    assert "study.yaml:9: platform.governanse.fine_share_of_sales: in the sweep" in text
    assert "no such key 'platform.governanse'; did you mean 'governance'?" in text
    assert "study.yaml:11: platform.take_rate: in the sweep, at its level 1.5:" in text
    assert built == [] and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("design: sobol\n  samples: 3", "sobol: samples must be a power of 2 (got 3)"),
        ("design: grid\n  samples: 3", "a grid takes ranges or levels, not distributions"),
        ("design: halton\n  samples: 3", "Input should be 'grid', 'lhs', 'sobol' or 'morris'"),
    ],
)
def test_a_bad_design_is_bad_input(tmp_path, block, expected):
    body = f"sweep:\n  {block}\n  factors:\n    platform.take_rate:\n"
    body += "      distribution: {kind: normal, mean: 0.05, sd: 0.01}\n"
    result = invoke("sweep", write(tmp_path, body), "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert expected in result.stderr


def test_a_scenario_without_a_sweep_block_is_bad_input(tmp_path):
    result = invoke("sweep", TINY, "--out", tmp_path)
    assert result.exit_code == 2
    assert "has no sweep: block" in result.stderr


class StopAfter:
    """A progress callback that interrupts the study (as Ctrl-C does) after ``n`` runs."""

    def __init__(self, n: int):
        self.n = n

    def __call__(self, progress) -> None:
        if progress.record is not None and progress.done >= self.n:
            raise KeyboardInterrupt


def test_an_interrupted_sweep_keeps_its_runs_and_resumes_to_the_same_results(tmp_path):
    path = write(tmp_path, SWEEP)
    base = load_scenario(path)
    plan = sweep_plan(path, base, [])
    whole = run_study(plan, tmp_path / "whole", executor=InProcess(), finish=finish_sweep(False))
    with pytest.raises(KeyboardInterrupt):
        run_study(
            plan,
            tmp_path / "cut",
            executor=InProcess(),
            finish=finish_sweep(False),
            progress=StopAfter(2),
        )
    (kept,) = (tmp_path / "cut").iterdir()
    assert kept.name == whole.folder.name + ".interrupted" or kept.name.endswith(".interrupted")
    assert not (kept / "run.json").exists() and not (kept / "summary.csv").exists()
    status = study_status(kept)
    assert (status.state, status.done, status.failed, status.left) == ("interrupted", 2, 0, 4)
    result = invoke("status", kept)
    assert "interrupted: 2 done, 0 failed, 4 left of 6 runs" in result.stdout

    resumed = run_study(
        plan, tmp_path / "cut", executor=InProcess(), finish=finish_sweep(False), resume=kept
    )
    assert resumed.resumed_runs == 2 and not kept.exists()
    assert resumed.folder.name == kept.name.removesuffix(".interrupted")
    pd.testing.assert_frame_equal(without_time(resumed.summary), without_time(whole.summary))
    for name in ("points.csv", "design.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(resumed.folder / name), pd.read_csv(whole.folder / name)
        )
    run = Path("runs") / plan.variants[2].name / "seed1" / "timeseries.parquet"
    pd.testing.assert_frame_equal(
        pd.read_parquet(resumed.folder / run), pd.read_parquet(whole.folder / run)
    )
    assert json.loads((resumed.folder / "run.json").read_text())["resumed_runs"] == 2


def test_resuming_another_study_is_refused_and_says_what_differs(tmp_path):
    path = write(tmp_path, SWEEP)
    base = load_scenario(path)
    with pytest.raises(KeyboardInterrupt):
        run_study(
            sweep_plan(path, base, []),
            tmp_path,
            executor=InProcess(),
            finish=finish_sweep(False),
            progress=StopAfter(1),
        )
    (kept,) = tmp_path.glob("*.interrupted")
    args = ("sweep", path, "--workers", "1", "--no-plot", "--resume", kept)
    result = invoke(*args, "--set", "platform.take_rate=0.06")
    assert result.exit_code == 2, result.output
    assert "not the study that folder holds" in result.stderr
    assert "the resolved scenario" in result.stderr and "the code" not in result.stderr
    assert kept.is_dir()
    result = invoke(*args, "--seeds", "3")
    assert result.exit_code == 2 and "the design" in result.stderr
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert last_line(result).name == kept.name.removesuffix(".interrupted")
    assert "(1 before resuming)" in result.stdout


GOVERNANCE = """\
policies:
  lax: {platform.governance.strictness: 0.1}
  strict: {platform.governance.strictness: 0.9}
"""


@pytest.mark.usefixtures("compiled_kernel")
def test_a_killed_worker_of_the_local_pool_is_one_failed_run(tmp_path):
    """SIGKILL to a worker process in a pool of two: that run is recorded as failed, the slot
    gets a new process and every other run finishes."""
    path = write(tmp_path, GOVERNANCE)
    base, policies = load_scenario(path, ["steps=6"]), load_policies(path, ["steps=6"])
    pool = LocalPool(2)
    killed = []

    def kill_first_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for process in pool.processes():
                if process.pid:
                    os.kill(process.pid, signal.SIGKILL)
                    killed.append(process.pid)
                    break
            time.sleep(0.01)

    thread = threading.Thread(target=kill_first_worker)
    thread.start()
    try:
        result = compare(base, policies, tmp_path / "out", seeds=2, executor=pool, plot=False)
    finally:
        thread.join()
        pool.close()
    assert killed
    assert len(result.failures) == 1 and result.failures[0]["error"] == WORKER_DIED
    summary = result.summary
    assert (summary["status"] == "ok").sum() == 3
    failed = result.failures[0]
    assert not (result.folder / "runs" / failed["policy"] / f"seed{failed['seed_index']}").exists()
    assert json.loads((result.folder / "run.json").read_text())["status"] == (
        "complete with failures"
    )


def test_sobol_indices_and_the_ema_export_of_a_sweep(tmp_path):
    # 15 merchants, a third of whose products cheat: strictness changes what is sold.
    path = write(tmp_path, SOBOL, small=False)
    out = tmp_path / "out"
    result = invoke("sweep", path, "--workers", "1", "--out", out, "--no-plot")
    assert result.exit_code == 0, result.output
    folder = last_line(result)
    assert len(pd.read_csv(folder / "summary.csv")) == 8  # N (D + 2) = 2 x 4
    result = invoke("analyze", folder, "--method", "sobol")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(last_line(result))
    assert list(table.columns) == [
        "method", "metric", "parameter", "role", "index", "value", "ci_low", "ci_high"
    ]  # fmt: skip
    analyzed = set(table["metric"])
    constant = {m for m in ("quality_gmv_yuan", "honest_merchants_removed", "gmv_yuan")} - analyzed
    for metric in constant:
        assert f"{metric}: constant over the design" in result.stdout
    assert "gmv_yuan" in analyzed
    rows = table[table["metric"] == "gmv_yuan"]
    assert set(rows["index"]) == {"S1", "ST"}
    assert set(rows["parameter"]) == {
        "platform.governance.strictness",
        "platform.governance.fine_share_of_sales",
    }
    assert (rows["ci_low"] <= rows["value"]).all() and (rows["value"] <= rows["ci_high"]).all()
    assert (folder / "figures" / "sensitivity_sobol.png").is_file()
    wrong = invoke("analyze", folder, "--method", "morris", "--no-plot")
    assert wrong.exit_code == 2 and "morris indices need a morris design" in wrong.stderr

    exported = invoke("export", folder, "--ema")
    assert exported.exit_code == 0, exported.output
    with tarfile.open(last_line(exported), "r:gz") as archive:
        experiments = pd.read_csv(archive.extractfile("experiments.csv"))
        outcomes_meta = archive.extractfile("outcomes metadata.csv").read().decode()
        gmv = pd.read_csv(archive.extractfile("gmv_yuan.csv"), header=None)
        meta = archive.extractfile("experiments metadata.csv").read().decode()
    summary = pd.read_csv(folder / "summary.csv")
    assert list(experiments.columns) == [
        "platform.governance.strictness",
        "platform.governance.fine_share_of_sales",
        "scenario",
        "policy",
        "model",
        "seed_index",
    ]
    assert len(experiments) == 8 and (experiments["model"] == "zhongcao").all()
    assert "gmv_yuan,(8,)" in outcomes_meta.splitlines()
    assert gmv[0].tolist() == pytest.approx(summary["gmv_yuan"].tolist())
    assert "platform.governance.strictness,float64" in meta


def test_analyze_refuses_a_comparison_and_an_unfinished_study(tmp_path):
    path = write(tmp_path, GOVERNANCE)
    result = invoke(
        "compare", path, "--seeds", "1", "--workers", "1", "--no-plot", "--out", tmp_path
    )
    assert result.exit_code == 0, result.output
    folder = last_line(result)
    refused = invoke("analyze", folder)
    assert (
        refused.exit_code == 2 and "analyze needs a sweep (this is a comparison)" in refused.stderr
    )
    summary = pd.read_csv(folder / "summary.csv")
    assert summary.set_index("policy")["platform.governance.strictness"].to_dict() == {
        "lax": 0.1,
        "strict": 0.9,
    }
    run = folder / "runs" / "lax" / "seed0"
    refused = invoke("analyze", run)
    assert refused.exit_code == 2 and "not a study folder" in refused.stderr


def test_run_with_a_seed_index_and_a_policy_is_that_member_of_the_comparison(tmp_path):
    path = write(tmp_path, GOVERNANCE)
    base, policies = load_scenario(path), load_policies(path)
    study = compare(base, policies, tmp_path / "cmp", seeds=2, plot=False)
    result = invoke(
        "run", path, "--seed-index", "1", "--policy", "strict", "--no-plot", "--out", tmp_path
    )
    assert result.exit_code == 0, result.output
    alone = last_line(result)
    assert "-i1-" in alone.name
    info = json.loads((alone / "run.json").read_text())
    assert info["seed_index"] == 1 and info["policy"] == "strict"
    member = study.folder / "runs" / "strict" / "seed1"
    pd.testing.assert_frame_equal(
        pd.read_parquet(alone / "timeseries.parquet"),
        pd.read_parquet(member / "timeseries.parquet"),
    )
    assert comparison_plan(base, policies, 2).runs()[3][0].name == "strict"


def test_executor_options_that_conflict_are_bad_input(tmp_path):
    path = write(tmp_path, GOVERNANCE)
    result = invoke("compare", path, "--workers", "2", "--dask", "local:2", "--out", tmp_path)
    assert result.exit_code == 2 and "choose one executor" in result.stderr
    result = invoke("compare", path, "--dask", "remote", "--out", tmp_path)
    assert result.exit_code == 2 and "expected local or local:N" in result.stderr


def test_progress_is_a_line_per_run_when_stderr_is_not_a_terminal(tmp_path):
    path = write(tmp_path, GOVERNANCE)
    result = invoke(
        "compare", path, "--seeds", "1", "--workers", "1", "--no-plot", "--out", tmp_path
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert lines[0].startswith("[1/2] lax seed 0: ok (")
    assert lines[0].endswith("; 1 done, 0 failed, 1 left")
    assert lines[1].endswith("; 2 done, 0 failed, 0 left")
