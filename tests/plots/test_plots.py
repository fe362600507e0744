"""Figures from result files: `zhongcao run` and `zhongcao compare` draw their default figures
(and the comparison its report) unless told not to; every kind renders, with one series per
policy or channel and labelled axes; the comparison report embeds every figure; bad input
writes nothing.

The run and comparison folders are made once per module by the command line, figures and
all; tests that draw into a folder of their own get a copy of it without them."""

from __future__ import annotations

import base64
import html
import re
import shutil
import textwrap
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from conftest import SCENARIOS
from typer.testing import CliRunner

import cli
from sim.plots import KINDS, draw, fit_power_law_tail, kinds_for, lorenz
from sim.results import ComparisonResults, RunResults, open_results
from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.vocabulary import CHANNELS

runner = CliRunner()
SMALL = ["--steps", "8", "--consumers", "1500"]
POLICIES = ("lax", "strict")
RUN_FIGURES = ("timeseries", "channels", "inequality", "followers", "governance", "network")
"""The default figures of a run folder."""
COMPARISON_FIGURES = ("differences", "compare", *RUN_FIGURES)
"""The default figures of a comparison folder."""


def folder_printed_last(result) -> Path:
    assert result.exit_code == 0, result.output
    return Path(result.stdout.strip().splitlines()[-1])


@cache
def run_folder(root: Path) -> Path:
    """`zhongcao run` of the small tiny market, with its default figures (shared: read only)."""
    out = root / "runs"
    return folder_printed_last(
        runner.invoke(cli.app, ["run", str(SCENARIOS / "tiny.yaml"), "--out", str(out), *SMALL])
    )


def policies_file(root: Path) -> Path:
    path = root / "policies.yaml"
    path.write_text(
        f"extends: {SCENARIOS / 'tiny.yaml'}\n"
        + textwrap.dedent(
            """\
            policies:
              lax: {platform.governance.strictness: 0.1}
              strict: {platform.governance.strictness: 0.9}
            """
        ),
        encoding="utf-8",
    )
    return path


@cache
def comparison_folder(root: Path) -> Path:
    """`zhongcao compare` of two policies over two seeds of the small tiny market, with its
    default figures and report (shared: read only)."""
    out = root / "comparisons"
    args = ["compare", str(policies_file(root)), "--seeds", "2", "--workers", "1"]
    return folder_printed_last(runner.invoke(cli.app, [*args, "--out", str(out), *SMALL]))


def without_figures(folder: Path, destination: Path) -> Path:
    """A copy of a results folder without its figures and report, for a test to draw into."""
    copy = destination / folder.name
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("figures", "report.html"))
    return copy


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("results")


def svg_text(path: Path) -> str:
    """The text an SVG shows (matplotlib keeps text as text: svg.fonttype = none)."""
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text(encoding="utf-8"))
    return html.unescape(" ".join(texts))


def test_run_draws_its_default_figures(root):
    """`zhongcao run` writes a PNG, an SVG and the CSV of what it plots for each default figure
    into the run folder's figures/ (that --no-plot writes none is tested with the run folder's
    files, in tests/command_line)."""
    figures = sorted(p.name for p in (run_folder(root) / "figures").iterdir())
    expected = (f"{kind}.{ext}" for kind in RUN_FIGURES for ext in ("png", "svg", "csv"))
    assert figures == sorted(expected)


def test_compare_draws_its_default_figures_and_report(root):
    """`zhongcao compare` writes each default figure and a report.html that names the finished
    folder, not its partial name (that --no-plot writes neither is tested in
    tests/command_line)."""
    folder = comparison_folder(root)
    for kind in COMPARISON_FIGURES:
        assert (folder / "figures" / f"{kind}.png").is_file(), kind
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert folder.name in report and ".partial" not in report


def test_a_run_folder_fits_every_kind_but_compare(root):
    results = open_results(run_folder(root))
    assert isinstance(results, RunResults)
    assert kinds_for(results) == [k for k in KINDS if k not in ("compare", "differences")]


def test_a_comparison_folder_fits_every_kind(root):
    results = open_results(comparison_folder(root))
    assert isinstance(results, ComparisonResults)
    assert kinds_for(results) == list(KINDS)
    assert results.policies == list(POLICIES)
    assert all(len(results.runs[p]) == 2 for p in POLICIES)


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ("compare", "differences")])
def test_each_kind_renders_from_a_run_folder(root, tmp_path, kind):
    """A run's figure has both formats, labelled axes, and one series (or five channels)."""
    results = open_results(run_folder(root))
    (figure,) = draw(results, [kind], ["gmv_yuan", "orders"], tmp_path)
    assert {p.suffix for p in figure.paths} == {".png", ".svg", ".csv"}
    assert all(p.stat().st_size > 1000 for p in figure.paths if p.suffix != ".csv")
    expected = len(CHANNELS) if kind == "channels" else 1
    assert figure.series == expected
    text = svg_text(tmp_path / f"{kind}.svg")
    for label in figure.labels:
        assert label in text
    if kind in ("timeseries", "channels", "governance"):
        assert "day" in text
    if kind == "timeseries":
        assert "GMV (yuan)" in text and "gmv_yuan" in text  # the label, and the name in small
        assert "orders (orders)" not in text and "orders" in text


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_renders_from_a_comparison_folder(root, tmp_path, kind):
    """A comparison's figure has one series per policy (five channels for channels), and
    every policy's name in its legend."""
    results = open_results(comparison_folder(root))
    (figure,) = draw(results, [kind], ["gmv_yuan", "violator_gmv_share"], tmp_path)
    expected = {"channels": len(CHANNELS), "differences": len(POLICIES) - 1}
    assert figure.series == expected.get(kind, len(POLICIES))
    text = svg_text(tmp_path / f"{kind}.svg")
    labels = {"channels": CHANNELS, "differences": POLICIES[1:]}.get(kind, POLICIES)
    for label in labels:
        assert label in text, (kind, label)
    if kind == "compare":
        assert "policy" in text and "GMV (yuan)" in text
        assert "violators' share of GMV (%)" in text
    if kind == "differences":
        assert "difference (yuan), minus lax" in text and "difference (%), minus lax" in text
    if kind != "network":  # the network shows seed index 0, no interval
        assert "Only 2 seeds: intervals are rough" in text
    if kind == "inequality":
        assert "Gini" in text and "cumulative share of holders" in text
    if kind == "followers":
        assert "P(followers >= x)" in text


def test_network_figure_is_reproducible(root, tmp_path):
    """The network sample and layout come from the run's seed: the same files, the same SVG."""
    results = open_results(run_folder(root))
    draw(results, ["network"], [], tmp_path / "a")
    draw(results, ["network"], [], tmp_path / "b")
    assert (tmp_path / "a" / "network.svg").read_bytes() == (
        tmp_path / "b" / "network.svg"
    ).read_bytes()


def test_cli_plot_draws_every_kind_and_writes_the_report(root, tmp_path):
    """`zhongcao plot` on a comparison draws every kind into figures/ and writes a
    self-contained report.html that embeds each figure."""
    folder = without_figures(comparison_folder(root), tmp_path)
    result = runner.invoke(cli.app, ["plot", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == str(folder / "figures")
    for kind in KINDS:
        assert (folder / "figures" / f"{kind}.png").is_file()
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert report.count('src="data:image/png;base64,') == len(KINDS)
    assert "http://" not in report and "https://" not in report
    for policy in POLICIES:
        assert policy in report
    first = re.search(r'src="data:image/png;base64,([^"]+)"', report).group(1)
    assert base64.b64decode(first)[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_plot_with_kind_and_metric(root, tmp_path):
    folder = without_figures(run_folder(root), tmp_path)
    result = runner.invoke(
        cli.app, ["plot", str(folder), "--kind", "timeseries", "--metric", "returns"]
    )
    assert result.exit_code == 0, result.output
    assert "returns (orders)" in svg_text(folder / "figures" / "timeseries.svg")
    data = pd.read_csv(folder / "figures" / "timeseries.csv")
    assert list(data.columns) == ["metric", "policy", "step", "mean"]
    assert set(data["metric"]) == {"returns"} and len(data) == 8


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--kind", "compare"], "kind 'compare' does not fit a run folder"),
        (["--kind", "pie"], "unknown kind 'pie'"),
        (["--metric", "gmv"], "unknown metric 'gmv'; metrics in this folder: gmv_yuan"),
    ],
)
def test_bad_plot_requests_exit_2_and_write_nothing(tmp_path, args, expected):
    """A kind that does not fit, an unknown kind or an unknown metric: exit 2, a clear
    message, and no figures folder."""
    loaded = load_scenario(SCENARIOS / "tiny.yaml", ["steps=3", "population.consumers=800"])
    folder = run_scenario(loaded, tmp_path, command=["test"], plot=False).folder
    result = runner.invoke(cli.app, ["plot", str(folder), *args])
    assert result.exit_code == 2
    assert expected in result.stderr
    assert not (folder / "figures").exists()


def test_a_folder_that_is_not_results_exits_2(tmp_path):
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    result = runner.invoke(cli.app, ["plot", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a run or comparison folder" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_lorenz_curve_of_equal_and_concentrated_holdings():
    x, y = lorenz([1, 1, 1, 1])
    assert list(y) == pytest.approx(list(x))
    x, y = lorenz([0, 0, 0, 10])
    assert list(y) == pytest.approx([0, 0, 0, 0, 1])


def test_power_law_tail_fit_recovers_a_known_exponent():
    """Followers drawn from a discrete power law with alpha 2.5 give a fitted alpha near it."""
    import numpy as np

    rng = np.random.default_rng(7)
    values = np.floor((1 - rng.random(20_000)) ** (-1 / 1.5) * 5)  # continuous alpha 2.5, xmin 5
    alpha, xmin, n_tail = fit_power_law_tail(values)
    assert 2.3 < alpha < 2.7
    assert n_tail >= 20 and xmin >= 5
