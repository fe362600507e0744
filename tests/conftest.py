"""Shared fixtures: scenarios are loaded through the real loader, never built by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def tiny_config(*overrides: str):
    """The tiny scenario with ``--set``-style overrides applied."""
    return load_scenario(SCENARIOS / "tiny.yaml", list(overrides)).config


@pytest.fixture
def tiny():
    return tiny_config()


@pytest.fixture(scope="session")
def compiled_kernel() -> None:
    """The numba consumer kernel compiled in this process (or loaded from its on-disk cache),
    for tests that start processes running the model: they then load the cached kernel
    instead of each compiling it (on a fresh clone a compile costs several CPU-seconds)."""
    from sim.model import MarketModel

    MarketModel(tiny_config("population.consumers=10")).step()


def pytest_terminal_summary(terminalreporter):
    """Say so when the numba kernel was compiled (or loaded) for more than one set of argument
    types in this process: each costs a compile of several seconds on a fresh clone, and the
    model only ever uses one (tests should hand the kernel chunks in the model's dtypes)."""
    import sys

    module = sys.modules.get("sim.kernels.consumer_day")
    kernel = getattr(module, "_kernel", None)
    signatures = getattr(kernel, "signatures", [])
    if len(signatures) > 1:
        terminalreporter.write_line(
            f"warning: the numba consumer kernel has {len(signatures)} compiled signatures; "
            "the model uses one",
            yellow=True,
        )
