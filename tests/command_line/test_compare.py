"""`zhongcao compare`: policies over seeds, honest statistics, identical for any worker count,
failures recorded, and bad input refused before any run starts."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS
from typer.testing import CliRunner

import cli
import sim.compare
import sim.model
import sim.study
from sim.compare import compare
from sim.model import MarketModel
from sim.scenario import ScenarioError, load_policies, load_scenario

runner = CliRunner()
TINY = SCENARIOS / "tiny.yaml"


def write_scenario(tmp_path: Path, body: str, name: str = "policies.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"extends: {TINY}\n" + textwrap.dedent(body), encoding="utf-8")
    return path


# A short, small market: the tests below are about the comparison's folder, pool and exit
# codes, not its economics (but for the test of governance's direction of effect, which runs
# the market it needs).
GOVERNANCE = """\
steps: 4
population: {consumers: 500}
policies:
  lax: {platform.governance.strictness: 0.1}
  strict: {platform.governance.strictness: 0.9}
"""


def run_compare(tmp_path: Path, scenario: Path, *args: str):
    out = tmp_path / "out"
    result = runner.invoke(cli.app, ["compare", str(scenario), "--out", str(out), *args])
    return result, out


def test_compare_writes_every_file_and_prints_the_folder_last(tmp_path):
    """The comparison folder holds a run folder per policy and seed, the tables and run.json
    (and with --no-plot neither figures nor report: the default figures and report are tested
    in tests/plots); its path is the last stdout line."""
    scenario = write_scenario(tmp_path, GOVERNANCE)
    result, out = run_compare(tmp_path, scenario, "--seeds", "2", "--workers", "1", "--no-plot")
    assert result.exit_code == 0, result.output
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert folder.parent == out and folder.is_dir()
    for name in ("summary.csv", "comparison.csv", "differences.csv", "config.yaml", "run.json"):
        assert (folder / name).is_file(), name
    assert not (folder / "figures").exists()
    assert not (folder / "report.html").exists()
    for policy in ("lax", "strict"):
        for seed in (0, 1):
            assert (folder / "runs" / policy / f"seed{seed}" / "run.json").is_file()
    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary[["policy", "seed_index"]].itertuples(index=False, name=None)) == [
        ("lax", 0),
        ("lax", 1),
        ("strict", 0),
        ("strict", 1),
    ]
    comparison = pd.read_csv(folder / "comparison.csv")
    assert list(comparison.columns) == [
        "policy",
        "metric",
        "mean",
        "ci_low",
        "ci_high",
        "n",
        "method",
    ]
    gmv = comparison[comparison["metric"] == "gmv_yuan"].set_index("policy")
    for policy in ("lax", "strict"):
        runs = summary.loc[summary["policy"] == policy, "gmv_yuan"]
        assert gmv.loc[policy, "mean"] == pytest.approx(runs.mean())
        assert gmv.loc[policy, "n"] == 2
        assert gmv.loc[policy, "ci_low"] <= gmv.loc[policy, "mean"] <= gmv.loc[policy, "ci_high"]
    info = json.loads((folder / "run.json").read_text())
    assert info["status"] == "complete" and info["failures"] == []
    assert info["seeds"] == 2 and info["seed_indices"] == [0, 1]
    assert info["policies"]["strict"] == {"platform.governance.strictness": 0.9}
    assert not list(out.glob(".*partial"))


@pytest.mark.usefixtures("compiled_kernel")
def test_results_are_identical_for_one_and_two_workers(tmp_path):
    """Every run depends only on its policy and seed index, never on the pool."""
    scenario = write_scenario(tmp_path, GOVERNANCE)
    base = load_scenario(scenario)
    policies = load_policies(scenario)
    one = compare(base, policies, tmp_path / "one", seeds=2, workers=1, plot=False)
    two = compare(base, policies, tmp_path / "two", seeds=2, workers=2, plot=False)
    assert (one.summary["orders"] > 0).all()
    drop = ["wall_time_s"]
    pd.testing.assert_frame_equal(one.summary.drop(columns=drop), two.summary.drop(columns=drop))
    for policy in policies:
        for seed in (0, 1):
            a = pd.read_parquet(one.folder / "runs" / policy / f"seed{seed}" / "timeseries.parquet")
            b = pd.read_parquet(two.folder / "runs" / policy / f"seed{seed}" / "timeseries.parquet")
            pd.testing.assert_frame_equal(a, b)


def test_seed_index_gives_every_policy_the_same_initial_market(tmp_path):
    """Common random numbers: at one seed index, policies that do not change the market's
    make-up start from identical consumers, merchants, creators and follows."""
    scenario = write_scenario(tmp_path, GOVERNANCE)
    policies = load_policies(scenario)
    lax = MarketModel(policies["lax"].config, seed_index=1)
    strict = MarketModel(policies["strict"].config, seed_index=1)
    for name in ("interest", "budget_yuan", "platform_trust", "active_prob", "region"):
        np.testing.assert_array_equal(
            getattr(lax.population, name), getattr(strict.population, name)
        )
    np.testing.assert_array_equal(lax.follows.creator, strict.follows.creator)
    assert [(m.kind, m.violator, m.price_yuan, m.true_quality) for m in lax.merchants] == [
        (m.kind, m.violator, m.price_yuan, m.true_quality) for m in strict.merchants
    ]
    assert [(c.kind, c.skill) for c in lax.creators] == [(c.kind, c.skill) for c in strict.creators]
    other_seed = MarketModel(policies["lax"].config, seed_index=2)
    assert not np.array_equal(lax.population.budget_yuan, other_seed.population.budget_yuan)


def test_stricter_governance_moves_every_count_in_its_documented_direction(tmp_path):
    """At the same seeds, strict governance intercepts and delists more, hits more honest
    merchants by mistake, costs more and leaves cheating products a smaller share of GMV than
    lax governance. The market holds honest small businesses of low quality too, so that
    delisting risky products (a rule whose threshold rises with strictness) is not only about
    cheating products, which strict screening mostly keeps off the market. (Bans, penalties
    and removals need cheating products on the market to convict, which strict screening
    keeps away, so their counts need not rise with strictness: their rules do, as the unit
    tests of sim.governance show.)"""
    scenario = write_scenario(
        tmp_path,
        """\
        steps: 40
        population: {consumers: 3000, merchants: 60}
        merchants:
          honesty: {forced_cheat_share: 0.3}
          kinds: {small_business: {true_quality_mean: 0.45, true_quality_sd: 0.2}}
        policies:
          lax: {platform.governance.strictness: 0.0}
          strict: {platform.governance.strictness: 1.0}
        """,
    )
    result = compare(
        load_scenario(scenario), load_policies(scenario), tmp_path, seeds=2, plot=False
    )
    totals = result.summary.groupby("policy").sum(numeric_only=True)
    for count in (
        "gov_intercepted",
        "gov_delisted",
        "gov_false_positives",
        "governance_cost_yuan",
    ):
        assert totals.loc["strict", count] > totals.loc["lax", count], count
    assert totals.loc["strict", "violator_gmv_share"] < totals.loc["lax", "violator_gmv_share"]


def test_a_failed_run_is_recorded_and_the_others_finish(tmp_path, monkeypatch):
    """One run that crashes is listed with its seed index and error; the rest complete and
    the exit code is 1."""
    scenario = write_scenario(tmp_path, GOVERNANCE)
    real_init = sim.model.MarketModel.__init__

    def fragile(self, config, *args, seed_index=0, **kwargs):
        if config.platform.governance.strictness > 0.5 and seed_index == 1:
            raise RuntimeError("simulated crash")
        real_init(self, config, *args, seed_index=seed_index, **kwargs)

    monkeypatch.setattr(sim.model.MarketModel, "__init__", fragile)
    result, _ = run_compare(tmp_path, scenario, "--seeds", "2", "--workers", "1", "--no-plot")
    assert result.exit_code == 1
    assert "failed: policy strict seed index 1: RuntimeError: simulated crash" in result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    summary = pd.read_csv(folder / "summary.csv")
    failed = summary[summary["status"] == "failed"]
    assert list(failed[["policy", "seed_index"]].itertuples(index=False, name=None)) == [
        ("strict", 1)
    ]
    assert (summary["status"] == "ok").sum() == 3
    info = json.loads((folder / "run.json").read_text())
    assert info["failures"] == [
        {"policy": "strict", "seed_index": 1, "error": "RuntimeError: simulated crash"}
    ]
    assert not (folder / "runs" / "strict" / "seed1").exists()
    comparison = pd.read_csv(folder / "comparison.csv")
    strict = comparison[comparison["policy"] == "strict"].set_index("metric")
    # One run left: every metric rests on it, or on none where its day had nothing to
    # measure (a ratio of zero to zero is not a number).
    assert strict["n"].le(1).all()
    assert strict.loc["gmv_yuan", "n"] == 1


def test_a_scenario_without_policies_compares_its_default(tmp_path):
    result, _ = run_compare(
        tmp_path, TINY, "--seeds", "1", "--steps", "3", "--consumers", "500", "--no-plot"
    )
    assert result.exit_code == 0, result.output
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert (folder / "runs" / "default" / "seed0" / "run.json").is_file()


@pytest.mark.parametrize(
    ("body", "args", "expected"),
    [
        (GOVERNANCE, ["--policy", "strikt"], "unknown policy; did you mean 'strict'?"),
        (
            GOVERNANCE + "  typo: {platform.governanse.strictness: 0.5}\n",
            [],
            "in policy 'typo': no such key 'platform.governanse'; did you mean 'governance'?",
        ),
        (
            GOVERNANCE + "  leaf: {platform.governance.strictnes: 0.5}\n",
            [],
            "in policy 'leaf': unknown key; did you mean 'strictness'?",
        ),
        (
            GOVERNANCE + "  broken: {platform.take_rate: 2}\n",
            [],
            "in policy 'broken': Input should be less than or equal to 1",
        ),
    ],
    ids=["unknown-policy", "no-such-key", "unknown-leaf", "invalid-value"],
)
def test_bad_policies_exit_2_before_any_run(tmp_path, monkeypatch, body, args, expected):
    """An unknown --policy, an override naming no key, or a policy that makes the scenario
    invalid: exit 2 with the problem and its line, and no run is started."""
    scenario = write_scenario(tmp_path, body)
    started = []
    monkeypatch.setattr(sim.study, "execute_run", lambda task: started.append(task))
    result, out = run_compare(tmp_path, scenario, "--seeds", "1", "--workers", "1", *args)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert started == []
    assert not out.exists() or not any(out.iterdir())


def test_every_bad_policy_is_listed_at_once(tmp_path):
    scenario = write_scenario(
        tmp_path,
        GOVERNANCE + "  a: {platform.take_rate: 2}\n  b: {platform.nothing: 1}\n",
    )
    with pytest.raises(ScenarioError) as caught:
        load_policies(scenario)
    text = caught.value.render()
    assert "in policy 'a'" in text and "in policy 'b'" in text
    assert f"{scenario.name}:" in text


PROC = Path("/proc/self/stat").exists()
"""Whether processes can be looked up in /proc (Linux)."""


def live_members(group: int) -> list[int]:
    """Processes of a process group that have not exited (Linux: read from /proc; a zombie has
    exited)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # it exited while we looked
            continue
        state, _, pgrp = text[text.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == group and state != "Z":
            alive.append(int(stat.parent.name))
    return alive


def wait_for_exit(pids: list[int], timeout: float) -> None:
    """Wait until each process has exited (Linux >= 5.3: on a pidfd, which becomes readable
    when the process exits), at most ``timeout`` seconds in all."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        finally:
            os.close(fd)


def wait_for(condition, proc: subprocess.Popen, timeout: float, what: str) -> None:
    """Wait until ``condition()`` holds, failing after ``timeout`` seconds or as soon as
    ``proc`` exits first: between looks it waits on the process, so its exit is seen at
    once."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        try:
            proc.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        assert condition(), f"the command exited ({proc.returncode}) before {what}"


@pytest.mark.usefixtures("compiled_kernel")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_runs_stops_the_workers_and_keeps_the_finished_runs(tmp_path, signum):
    """SIGTERM to the command, or Ctrl-C to its process group, while runs are in progress in a
    pool of two workers: the workers stop at once, the command exits 130 and the finished runs
    are kept, complete, in a folder named ``<name>.interrupted`` — with no run half-written (a
    worker left running would write into it after the rename) and no study tables or run.json
    that would make it look complete.

    The folder is looked at once every worker has gone: the workers inherit the command's
    stdout and stderr, so reading them to the end waits for the last one to exit (and, where
    /proc tells, no process of the command's group is left running)."""
    path = write_scenario(tmp_path, GOVERNANCE.replace("steps: 4", "steps: 10"))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "cli", "compare", path, "--seeds", "20", "--workers", "2"]
    proc = subprocess.Popen(
        [*map(str, command), "--out", str(out), "--no-plot"],
        cwd=Path(cli.__file__).parent,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal would give it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # not ignored
    )
    group = proc.pid
    try:
        wait_for(
            lambda: list(out.glob(".*.partial/runs/*/seed*/run.json")),
            proc,
            timeout=90,
            what="a run finished",
        )
        finished = {
            p.parent.name + "/" + p.parent.parent.name
            for p in out.glob(".*.partial/runs/*/seed*/run.json")
        }
        if signum == signal.SIGINT:
            os.killpg(group, signum)
        else:
            proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=30)  # to the end: every worker has closed them
        assert proc.returncode == 130, stderr
        assert "interrupted" in stderr and "--resume" in stderr
        assert "Traceback" not in stderr
        if PROC:
            wait_for_exit(live_members(group), timeout=10)  # exiting, past closing its files
            assert live_members(group) == [], "processes outlived the command"
    finally:
        if proc.poll() is None or (PROC and live_members(group)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
    (kept,) = out.iterdir()
    assert kept.name.endswith(".interrupted") and not kept.name.startswith(".")
    assert not (kept / "run.json").exists() and not (kept / "summary.csv").exists()
    runs = {p.name + "/" + p.parent.name for p in kept.glob("runs/*/*") if p.is_dir()}
    assert finished <= runs
    assert not list(kept.glob("runs/*/.*"))
    for run in kept.glob("runs/*/*/"):
        assert (run / "run.json").is_file()
