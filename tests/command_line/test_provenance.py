"""run.json records where the results came from: the git commit of the code and whether its
tree was dirty, the version of every package zhongcao depends on (transitively), and the
engine and threads the consumer kernel ran with."""

from __future__ import annotations

import json
import subprocess
from importlib import metadata

from conftest import ROOT, SCENARIOS

from sim import provenance
from sim.kernels.consumer_day import choose_engine
from sim.runner import run_scenario
from sim.scenario import load_scenario


def test_run_json_holds_the_commit_every_dependency_and_the_engine(tmp_path):
    loaded = load_scenario(SCENARIOS / "tiny.yaml", ["steps=2", "population.consumers=600"])
    folder = run_scenario(loaded, tmp_path, command=["test"], plot=False).folder
    info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert info["git"]["commit"] == head
    assert isinstance(info["git"]["dirty"], bool)
    versions = info["versions"]
    for name in ("zhongcao", "mesa", "numba", "llvmlite", "solara", "scipy", "pyarrow"):
        assert versions[name] == metadata.version(name), name  # llvmlite: through numba
    assert "not installed" not in versions.values()
    engine, threads = choose_engine()
    assert info["engine"] == {"name": engine, "threads": threads}


def test_outside_a_git_checkout_the_commit_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "SOURCE", tmp_path)
    provenance.git_state.cache_clear()
    try:
        assert provenance.git_state() == {"commit": None, "dirty": None}
    finally:
        provenance.git_state.cache_clear()
