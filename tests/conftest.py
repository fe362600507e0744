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
