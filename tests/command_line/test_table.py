"""`zhongcao table` prints a comparison's numbers as the README quotes them, and the README's
generated tables have exactly the generator's format: the same header, the same row labels
and units, a number and its interval in every cell (the numbers themselves come from a full
5-seed comparison, refreshed with the command the README gives)."""

from __future__ import annotations

import re
import shlex

import pandas as pd
import pytest
from conftest import ROOT, SCENARIOS
from typer.testing import CliRunner

import cli
from sim.api import compare
from sim.tables import table_blocks

runner = CliRunner()
NUMBER = re.compile(r"[−-]?\d+(?:,\d{3})*(?:\.\d+)?")
SMALL = {"steps": 4, "warmup_days": 0, "population.consumers": 800, "population.creators": 30,
         "population.merchants": 20, "population.mcns": 1}  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> str:
    """The README's scenario at a tiny size: every policy, two seeds."""
    root = tmp_path_factory.mktemp("table")
    results = compare(SCENARIOS / "governance_strictness.yaml", SMALL, seeds=2, out=root)
    return str(results.folder)


def shape(lines: list[str]) -> list[str]:
    """A table with every number replaced by N: its format without its values."""
    return [NUMBER.sub("N", line.strip()) for line in lines]


def test_the_readme_tables_have_the_generators_format(folder):
    blocks = table_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert blocks, "the README has no generated table"
    for args, lines in blocks:
        result = runner.invoke(cli.app, ["table", folder, *shlex.split(args)])
        assert result.exit_code == 0, result.output
        generated = result.stdout.strip().splitlines()
        assert shape(lines) == shape(generated)


def test_the_table_holds_the_comparisons_numbers(folder):
    result = runner.invoke(
        cli.app,
        ["table", folder, "--metric", "gmv_yuan:thousand", "--metric", "violator_gmv_share"],
    )
    assert result.exit_code == 0, result.output
    head, rule, gmv, share = result.stdout.strip().splitlines()
    assert head == "| metric (95% CI over 2 seeds) | lax | moderate | strict |"
    assert rule == "|---|---:|---:|---:|"
    table = pd.read_csv(f"{folder}/comparison.csv").set_index(["policy", "metric"])
    cells = [c.strip() for c in gmv.strip("|").split("|")]
    assert cells[0] == "GMV (thousand yuan)"
    for policy, cell in zip(("lax", "moderate", "strict"), cells[1:], strict=True):
        mean, low, high = (float(x.replace(",", "")) for x in NUMBER.findall(cell))
        row = table.loc[(policy, "gmv_yuan")]
        digits = len(cell.split(" ")[0].split(".")[1]) if "." in cell.split(" ")[0] else 0
        assert mean == round(row["mean"] / 1e3, digits)
        assert (low, high) == (
            round(row["ci_low"] / 1e3, digits),
            round(row["ci_high"] / 1e3, digits),
        )
    assert share.startswith("| violators' share of GMV (%) |")


def test_differences_and_bad_requests(folder):
    result = runner.invoke(cli.app, ["table", folder, "--differences", "--metric", "orders"])
    assert result.exit_code == 0, result.output
    assert "| moderate − lax | strict − lax |" in result.stdout
    bad = runner.invoke(cli.app, ["table", folder, "--metric", "gmv"])
    assert bad.exit_code == 2 and "unknown metric 'gmv'" in bad.stderr
