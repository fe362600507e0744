"""Hardening of the command line: results folders survive concurrency, crashes and kills,
exit codes describe what is on disk, and bad input is exit 2 before any work."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT, SCENARIOS
from typer.testing import CliRunner

import cli
import sim.compare
import sim.model
import sim.resources
import sim.runner
import sim.study
from sim.compare import compare
from sim.io import atomic_folder
from sim.plots import draw
from sim.resources import estimate_memory
from sim.results import open_results
from sim.scenario import load_policies, load_scenario

TINY = SCENARIOS / "tiny.yaml"
FAST = ("--steps", "3", "--consumers", "1500", "--no-plot")
RUNNER = CliRunner()


def invoke(monkeypatch: pytest.MonkeyPatch, *args: object):
    argv = ["zhongcao", *(str(a) for a in args)]
    monkeypatch.setattr(sys, "argv", argv)
    return RUNNER.invoke(cli.app, argv[1:])


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def last_line(result) -> Path:
    return Path(result.stdout.splitlines()[-1])


def no_model(monkeypatch) -> list[int]:
    """Record every market built (to show that bad input stops before any work)."""
    built: list[int] = []
    original = sim.model.MarketModel.__init__

    def init(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(sim.model.MarketModel, "__init__", init)
    return built


@pytest.fixture(scope="module")
def complete_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("complete")
    with pytest.MonkeyPatch.context() as mp:
        result = invoke(mp, "run", TINY, "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    return last_line(result)


# --- defect 2: the name cannot reach outside --out -------------------------------------------


@pytest.mark.parametrize("name", ["../escaped", "/tmp/absolute", "a/b"])
def test_a_name_that_is_a_path_writes_nothing_anywhere(monkeypatch, tmp_path, name):
    out = tmp_path / "out"
    built = no_model(monkeypatch)
    result = invoke(monkeypatch, "run", TINY, "--out", out, "--set", f"name={name}", *FAST)
    assert result.exit_code == 2, result.output
    assert "name:" in result.stderr and "Traceback" not in result.output
    assert entries(tmp_path) == [] and not built


# --- defect 3: extends does not read or echo a file elsewhere --------------------------------


def test_extends_of_a_secret_elsewhere_is_refused_without_echo(monkeypatch, tmp_path):
    secret = tmp_path / "secret" / "shadow"
    secret.parent.mkdir()
    secret.write_text("root:$6$hash:19000:0:99999:7:::\nalice: sekret-token\n", encoding="utf-8")
    (tmp_path / "mine").mkdir()
    scenario = tmp_path / "mine" / "s.yaml"
    scenario.write_text(f"extends: {secret}\n", encoding="utf-8")
    result = invoke(monkeypatch, "validate", scenario)
    assert result.exit_code == 2
    assert "outside the scenario's folder" in result.stderr
    assert "sekret" not in result.output and "hash" not in result.output
    result = invoke(monkeypatch, "validate", scenario, "--allow-outside")
    assert result.exit_code == 2
    assert "sekret" not in result.output and "hash" not in result.output


# --- defect 4: concurrent runs into one --out -------------------------------------------------


def test_folders_entered_at_once_with_one_name_are_all_distinct_and_kept(tmp_path):
    """Eight builders of the same folder name started together each get a folder of their
    own; the one that fails removes only its own partial folder."""
    n = 8
    barrier = threading.Barrier(n)
    finals: list[Path] = []
    errors: list[BaseException] = []

    def build(i: int) -> None:
        try:
            barrier.wait()
            with atomic_folder(tmp_path, "tiny-seed1-20250101T000000Z") as (partial, final):
                partial.mkdir(exist_ok=True)
                (partial / "run.json").write_text(json.dumps({"i": i}), encoding="utf-8")
                time.sleep(0.05)
                if i == 0:
                    raise RuntimeError("this one fails")
            finals.append(final)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [str(e) for e in errors] == ["this one fails"]
    assert len(set(finals)) == n - 1
    assert entries(tmp_path) == sorted(f.name for f in finals)
    seen = {json.loads((f / "run.json").read_text(encoding="utf-8"))["i"] for f in finals}
    assert seen == set(range(1, n))


def test_concurrent_processes_into_one_out_all_keep_their_folders(tmp_path):
    """Three `zhongcao run` of the same scenario and seed at once: three complete folders."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cli", "run", str(TINY), "--out", str(tmp_path), *FAST],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    folders = {Path(o.splitlines()[-1]) for o in outs}
    assert len(folders) == 3
    assert entries(tmp_path) == sorted(f.name for f in folders)
    assert all((f / "run.json").is_file() for f in folders)


# --- defect 5: an endless input ---------------------------------------------------------------


def test_validate_of_an_endless_device_exits_2(monkeypatch):
    result = invoke(monkeypatch, "validate", "/dev/zero")
    assert result.exit_code == 2 and "larger than 1 MiB" in result.stderr


# --- defect 6: workers die with their comparison ----------------------------------------------


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rpartition(")")[2].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_workers_of_a_killed_comparison_end_with_it(tmp_path):
    """SIGKILL of `compare` (no clean-up runs in it): its worker processes end too."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "compare", str(TINY), "--seeds", "2", "--workers", "2",
         "--steps", "400", "--consumers", "1500", "--no-plot", "--out", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.5)
            workers = [
                c
                for c in children_of(proc.pid)
                if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()
            ]
        assert len(workers) >= 2, "the workers did not start"
        time.sleep(1.0)  # let them pass their initializer
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(alive(w) for w in workers):
            time.sleep(0.2)
        assert not any(alive(w) for w in workers)
    finally:
        for pid in [proc.pid, *children_of(proc.pid), *workers]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


# --- defect 7: strict types on the command line -----------------------------------------------


@pytest.mark.parametrize(
    "item", ["steps=true", "platform.channels.live=1", "platform.take_rate=true"]
)
def test_run_refuses_a_value_of_the_wrong_type(monkeypatch, tmp_path, item):
    key = item.split("=")[0]
    args = ("--set", item, "--consumers", "1500", "--no-plot")
    result = invoke(monkeypatch, "run", TINY, "--out", tmp_path, *args)
    assert result.exit_code == 2 and f"{key}:" in result.stderr
    assert entries(tmp_path) == []


# --- defect 8: exit codes that describe the results on disk -----------------------------------


def test_a_closed_stdout_after_a_complete_run_exits_0(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "run", str(TINY), "--out", str(tmp_path), *FAST],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stdout.close()  # like `zhongcao run ... | head -c0`
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    (folder,) = entries(tmp_path)
    assert (tmp_path / folder / "run.json").is_file()


def test_ctrl_c_just_after_the_rename_reports_the_complete_folder(monkeypatch, tmp_path):
    original = sim.runner.atomic_folder

    @contextlib.contextmanager
    def interrupted_after(*args, **kwargs):
        with original(*args, **kwargs) as paths:
            yield paths
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.runner, "atomic_folder", interrupted_after)
    result = invoke(monkeypatch, "run", TINY, "--out", tmp_path, *FAST)
    assert result.exit_code == 0, result.output
    assert "no results were written" not in result.stderr
    assert "complete" in result.stderr
    folder = last_line(result)
    assert (folder / "run.json").is_file() and entries(tmp_path) == [folder.name]


def test_an_interrupted_plot_says_which_figures_it_replaced(monkeypatch, complete_run):
    import sim.plots

    original = sim.plots.KINDS["channels"]
    monkeypatch.setitem(
        sim.plots.KINDS,
        "channels",
        (lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()), original[1]),
    )
    result = invoke(monkeypatch, "plot", complete_run)
    assert result.exit_code == 130
    assert "no results were written" not in result.stderr
    assert "timeseries.png" in result.stderr and "replaced" in result.stderr


# --- defect 9: bad input, exit 2 --------------------------------------------------------------


def test_an_unknown_engine_in_the_environment_is_bad_input(monkeypatch, tmp_path):
    monkeypatch.setenv("ZHONGCAO_ENGINE", "bogus")
    built = no_model(monkeypatch)
    result = invoke(monkeypatch, "run", TINY, "--out", tmp_path, *FAST)
    assert result.exit_code == 2, result.output
    assert "bogus" in result.stderr and "ValueError" not in result.stderr
    assert not built and entries(tmp_path) == []


def damage(folder: Path, how: str) -> None:
    if how == "missing table":
        (folder / "creators.parquet").unlink()
    elif how == "truncated parquet":
        data = (folder / "timeseries.parquet").read_bytes()
        (folder / "timeseries.parquet").write_bytes(data[: len(data) // 2])
    elif how == "run.json a list":
        (folder / "run.json").write_text("[1, 2]\n", encoding="utf-8")


@pytest.mark.parametrize("how", ["missing table", "truncated parquet", "run.json a list"])
def test_plot_of_a_damaged_folder_is_bad_input(monkeypatch, tmp_path, complete_run, how):
    folder = tmp_path / "copy"
    shutil.copytree(complete_run, folder, ignore=shutil.ignore_patterns("figures"))
    damage(folder, how)
    result = invoke(monkeypatch, "plot", folder)
    assert result.exit_code == 2, result.output
    assert str(folder) in " ".join(result.stderr.split())
    assert not (folder / "figures").exists()


def test_validate_of_python_tags_and_deep_nesting_is_bad_input(monkeypatch, tmp_path):
    for text in ("name: !!python/name:os.system\n", "description: " + "[" * 3000 + "]" * 3000):
        path = tmp_path / "s.yaml"
        path.write_text(f"extends: {TINY}\n{text}\n", encoding="utf-8")
        result = invoke(monkeypatch, "validate", path)
        assert result.exit_code == 2, result.output
        assert "s.yaml:2:" in result.stderr and "Error" not in result.stderr


# --- defect 10: work lost only at the end -----------------------------------------------------


def test_an_out_that_cannot_hold_folders_is_refused_before_the_market_is_built(
    monkeypatch, tmp_path
):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    built = no_model(monkeypatch)
    result = invoke(monkeypatch, "run", TINY, "--out", tmp_path / "file" / "sub", *FAST)
    assert result.exit_code == 2, result.output
    assert not built


def test_a_failing_reservation_is_bad_input_before_any_work(monkeypatch, tmp_path):
    """A folder that cannot be created in --out (read-only, full, no permission) stops the
    run before the simulation."""
    built = no_model(monkeypatch)
    original = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self.name.endswith(".partial"):
            raise PermissionError(13, "Permission denied", str(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    result = invoke(monkeypatch, "run", TINY, "--out", tmp_path, *FAST)
    assert result.exit_code == 2, result.output
    assert "Permission denied" in result.stderr and not built


def test_entry_shares_are_bounded_and_counted_in_the_memory_estimate():
    with pytest.raises(Exception, match=r"creators\.entry_share_per_day"):
        load_scenario(TINY, ["creators.entry_share_per_day=1"])
    base = estimate_memory(load_scenario(TINY).config)
    fast = estimate_memory(load_scenario(TINY, ["creators.entry_share_per_day=0.05"]).config)
    growth = (1 + 3 * 0.05) ** 30
    assert fast.total_bytes - base.total_bytes >= 40 * (growth - 2) * 2048
    long = estimate_memory(load_scenario(TINY, ["steps=20000"]).config)
    assert long.max_agents > 1e12


def test_every_file_and_the_folder_are_flushed_before_the_rename(monkeypatch, tmp_path):
    synced: list[str] = []
    original = os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        original(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    result = invoke(monkeypatch, "run", TINY, "--out", tmp_path, *FAST)
    assert result.exit_code == 0, result.output
    folder = last_line(result)
    partial = tmp_path / f".{folder.name}.partial"
    for name in ("config.yaml", "timeseries.parquet", "summary.csv", "run.json"):
        # written as a temporary file, flushed, then renamed
        assert any(p.startswith(str(partial / f".{name}.")) for p in synced), name
    assert str(partial) in synced
    assert str(tmp_path) in synced


def test_clean_lists_stale_partials_and_removes_only_those(monkeypatch, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / ".tiny-seed1-x.partial"
    (stale / "runs" / "lax" / "seed0").mkdir(parents=True)
    (stale / "runs" / "lax" / "seed0" / "run.json").write_text("{}", encoding="utf-8")
    (stale / ".owner").write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename}))
    busy = tmp_path / ".tiny-seed1-y.partial"
    busy.mkdir()
    owner = {"pid": os.getpid(), "host": os.uname().nodename, "process_start": None}
    (busy / ".owner").write_text(json.dumps(owner))
    result = invoke(monkeypatch, "clean", tmp_path)
    assert result.exit_code == 0, result.output
    assert f"stale: {stale}" in result.stdout and f"in progress: {busy}" in result.stdout
    assert "complete run" in result.stdout
    assert invoke(monkeypatch, "plot", stale).exit_code == 2
    result = invoke(monkeypatch, "clean", tmp_path, "--remove")
    assert result.exit_code == 0
    assert entries(tmp_path) == [busy.name]


# --- defect 11: the governance figure names what it draws -------------------------------------


def test_governance_figure_does_not_name_a_policy_without_runs(monkeypatch, tmp_path):
    path = tmp_path / "policies.yaml"
    path.write_text(
        f"extends: {TINY}\n"
        + textwrap.dedent(
            """\
            policies:
              lax: {platform.governance.strictness: 0.1}
              strict: {platform.governance.strictness: 0.9}
            """
        ),
        encoding="utf-8",
    )
    small = ["steps=3", "population.consumers=1500"]
    original = sim.study.simulate

    def simulate(config, seed_index=0, *args, **kwargs):
        if config.platform.governance.strictness < 0.5:
            raise RuntimeError("lax fails")
        return original(config, seed_index, *args, **kwargs)

    monkeypatch.setattr(sim.study, "simulate", simulate)
    base, policies = load_scenario(path, small), load_policies(path, small)
    folder = compare(base, policies, tmp_path / "out", seeds=1, workers=1, plot=False).folder
    (figure,) = draw(open_results(folder), ["governance"], [], tmp_path / "figures")
    assert figure.labels == ("strict",)
    svg = (tmp_path / "figures" / "governance.svg").read_text(encoding="utf-8")
    assert ">lax<" not in svg and "lax " not in svg.split("policy")[-1]


# --- defect 12: the memory check counts the runs that can run at once -------------------------


def tiny_bytes(*overrides: str) -> int:
    return estimate_memory(load_scenario(TINY, list(overrides)).config).total_bytes


def test_more_workers_than_runs_are_not_counted(monkeypatch, tmp_path):
    one = tiny_bytes("steps=3", "population.consumers=1500")
    monkeypatch.setattr(sim.resources, "available_bytes", lambda: int(1.5 * one))
    args = ("compare", TINY, "--seeds", "1", "--workers", "4", "--out", tmp_path, *FAST)
    result = invoke(monkeypatch, *args)
    assert result.exit_code == 0, result.output


def test_the_refusal_names_the_headroom(monkeypatch, tmp_path):
    monkeypatch.setattr(sim.resources, "available_bytes", lambda: tiny_bytes() // 2)
    result = invoke(monkeypatch, "run", TINY, "--out", tmp_path)
    assert result.exit_code == 2
    assert "85%" in result.stderr


def test_commissions_at_their_cap_pay_out_without_a_negative_transfer(monkeypatch, tmp_path):
    """Defect 1: with every commission at its cap (1 - take rate, stored as float32) the run
    pays orders out (payouts start after delivery and the payment delay) and completes. At a
    take rate of 0.07 the float32 rates add up to more than 1 for most prices."""
    result = invoke(
        monkeypatch,
        "run",
        TINY,
        "--steps",
        "12",
        "--consumers",
        "1500",
        "--no-plot",
        "--set",
        "merchants.commission_rate_max=1",
        "--set",
        "merchants.commission_rate_mean=1",
        "--set",
        "platform.take_rate=0.07",
        "--set",
        "platform.take_rate_by_category={}",
        "--out",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    assert (last_line(result) / "run.json").is_file()
