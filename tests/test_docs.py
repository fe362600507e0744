"""Documentation matches the code."""

from __future__ import annotations

from pathlib import Path

from sim.docs import METRICS_PATH, metrics_markdown
from sim.metrics import REGISTRY

ROOT = Path(__file__).resolve().parents[1]


def test_metrics_doc_is_generated_from_the_registry():
    """docs/METRICS.md is exactly what `python -m sim.docs` writes (regenerate it if not)."""
    assert METRICS_PATH.read_text(encoding="utf-8") == metrics_markdown()


def test_every_metric_is_defined_in_the_docs():
    text = METRICS_PATH.read_text(encoding="utf-8")
    missing = [name for name in REGISTRY if f"`{name}`" not in text]
    assert not missing


def test_readme_quick_start_is_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
