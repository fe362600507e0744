"""``zhongcao calibrate``: a targets file, an Optuna search that resumes exactly, and its
reports. Tiny markets, a few trials."""

from __future__ import annotations

import math
import sys
import textwrap

import pandas as pd
import pytest
from conftest import SCENARIOS
from typer.testing import CliRunner

import cli
from sim import calibrate as cal
from sim.io import reserve_folder
from sim.scenario import load_scenario
from sim.targets import Target, distance, load_targets, miss, parse_expression

RUNNER = CliRunner()


def invoke(monkeypatch, *args):
    argv = ["zhongcao", *(str(a) for a in args)]
    monkeypatch.setattr(sys, "argv", argv)
    return RUNNER.invoke(cli.app, argv[1:])


SCENARIO = f"""\
extends: {SCENARIOS / "tiny.yaml"}
name: tiny_cal
steps: 4
population: {{consumers: 300}}
calibrate:
  seeds: 1
  parameters:
    consumers.purchase.base_logit.search: {{low: -5.0, high: -2.0, log: false}}
    platform.take_rate: {{low: 0.01, high: 0.2, log: true}}
"""

TARGETS = """\
name: tiny_targets
description: two figures of the tiny market and one the model cannot measure
targets:
  - name: shelf_share
    expression: (gmv_search_yuan + gmv_mall_yuan) / gmv_yuan
    value: 0.4
    band: [0.35, 0.45]
    source: a test
    grade: press
  - name: new_customers
    expression: new_customer_share
    value: 0.9
    band: [0.85, 1.0]
    source: a test
    grade: blog
  - name: unknown
    expression: no_such_metric / gmv_yuan
    value: 1.0
    band: [0.5, 1.5]
    source: a test
    grade: blog
"""


@pytest.fixture
def files(tmp_path):
    scenario = tmp_path / "tiny_cal.yaml"
    scenario.write_text(SCENARIO)
    targets = tmp_path / "targets.yaml"
    targets.write_text(TARGETS)
    return scenario, targets


def calibrate(monkeypatch, scenario, targets, out, *extra):
    return invoke(
        monkeypatch,
        "calibrate",
        scenario,
        "--targets",
        targets,
        "--out",
        out,
        "--no-sensitivity",
        *extra,
    )


def test_a_calibration_writes_the_calibrated_scenario_and_the_target_table(
    monkeypatch, files, tmp_path
):
    scenario, targets = files
    result = invoke(
        monkeypatch,
        "calibrate",
        scenario,
        "--targets",
        targets,
        "--budget",
        "3",
        "--out",
        tmp_path / "out",
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / result.stdout.strip().splitlines()[-1].split("/")[-1]
    assert folder.is_dir()
    for name in (
        "calibrated.yaml",
        "targets.csv",
        "history.csv",
        "sensitivity.csv",
        "distance.png",
        "run.json",
    ):
        assert (folder / name).is_file(), name
    table = pd.read_csv(folder / "targets.csv").set_index("target")
    assert table.loc["unknown", "status"].startswith("not measurable")
    assert set(table.loc[["shelf_share", "new_customers"], "status"]) <= {"within", "outside"}
    history = pd.read_csv(folder / "history.csv")
    assert len(history) == 3
    best = history.loc[history["distance"].idxmin()]
    calibrated = load_scenario(folder / "calibrated.yaml").config
    assert calibrated.consumers.purchase.base_logit.search == pytest.approx(
        best["consumers.purchase.base_logit.search"]
    )
    assert 0.01 <= calibrated.platform.take_rate <= 0.2
    sensitivity = pd.read_csv(folder / "sensitivity.csv")
    assert list(sensitivity["parameter"]) == [
        "consumers.purchase.base_logit.search",
        "platform.take_rate",
    ]


def test_an_interrupted_calibration_resumes_to_the_same_trials(monkeypatch, files, tmp_path):
    """Stopped after two of four trials and resumed, the search proposes and scores exactly
    what an uninterrupted four-trial search does."""
    scenario, targets = files
    whole = calibrate(monkeypatch, scenario, targets, tmp_path / "whole", "--budget", "4")
    assert whole.exit_code == 0, whole.output
    plan = cal.plan(scenario, load_targets(targets), allow_outside=False)
    reservation = reserve_folder(tmp_path / "parts", "calibration-tiny_cal")

    def stop_after_two(done, budget, best):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cal.calibrate(plan, reservation, 4, sensitivity=False, progress=stop_after_two)
    assert reservation.partial.is_dir() and not reservation.final.exists()
    resumed = calibrate(
        monkeypatch,
        scenario,
        targets,
        tmp_path / "parts",
        "--budget",
        "4",
        "--resume",
        reservation.partial,
    )
    assert resumed.exit_code == 0, resumed.output
    a = pd.read_csv(next((tmp_path / "whole").glob("calibration-*")) / "history.csv")
    b = pd.read_csv(reservation.final / "history.csv")
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_resuming_with_other_targets_is_refused(monkeypatch, files, tmp_path):
    scenario, targets = files
    plan = cal.plan(scenario, load_targets(targets))
    reservation = reserve_folder(tmp_path, "calibration-tiny_cal")
    with pytest.raises(KeyboardInterrupt):
        cal.calibrate(
            plan,
            reservation,
            3,
            sensitivity=False,
            progress=lambda *a: (_ for _ in ()).throw(KeyboardInterrupt),
        )
    other = tmp_path / "other.yaml"
    other.write_text(TARGETS.replace("value: 0.4", "value: 0.5"))
    result = calibrate(
        monkeypatch, scenario, other, tmp_path, "--budget", "3", "--resume", reservation.partial
    )
    assert result.exit_code == 2
    assert "fingerprints differ" in " ".join(result.output.split())


def test_a_scenario_without_a_calibrate_block_is_bad_input(monkeypatch, files, tmp_path):
    _, targets = files
    result = calibrate(monkeypatch, SCENARIOS / "tiny.yaml", targets, tmp_path, "--budget", "1")
    assert result.exit_code == 2
    assert "calibrate" in result.output


def test_every_problem_of_a_targets_file_is_listed_with_its_line(monkeypatch, files, tmp_path):
    scenario, _ = files
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        textwrap.dedent(
            """\
            name: bad
            description: x
            targets:
              - {name: a, expression: gmv_yuan, value: 1.0, band: [2.0, 1.0], source: s, grade: press}
              - {name: b, expression: "__import__('os')", value: 1.0, band: [0.0, 1.0], source: s, grade: press}
              - {name: c, expression: gmv_yuan, value: 1.0, band: [0.0, 1.0], source: s, grade: rumour}
            """
        )
    )
    result = calibrate(monkeypatch, scenario, bad, tmp_path, "--budget", "1")
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "3 problems" in text
    assert "bad.yaml:4" in text and "bad.yaml:5" in text and "bad.yaml:6" in text


def test_a_bad_parameter_range_is_refused_before_any_run(monkeypatch, files, tmp_path):
    _, targets = files
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(SCENARIO.replace("platform.take_rate:", "platform.no_such_rate:"))
    result = calibrate(monkeypatch, scenario, targets, tmp_path / "out", "--budget", "1")
    assert result.exit_code == 2
    assert "no_such_rate" in result.output
    assert not (tmp_path / "out").exists()


def test_an_integer_key_is_searched_in_whole_numbers(monkeypatch, files, tmp_path):
    _, targets = files
    as_float = SCENARIO.replace(
        "    platform.take_rate: {low: 0.01, high: 0.2, log: true}\n",
        "    merchants.exit.patience_days: {low: 10, high: 40, log: false}\n",
    )
    scenario = tmp_path / "float_range.yaml"
    scenario.write_text(as_float)
    refused = calibrate(monkeypatch, scenario, targets, tmp_path / "refused", "--budget", "1")
    assert refused.exit_code == 2
    assert "patience_days" in refused.output and "integer" in refused.output

    scenario.write_text(as_float.replace("log: false}\n", "log: false, integer: true}\n"))
    result = calibrate(monkeypatch, scenario, targets, tmp_path / "out", "--budget", "2")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / result.stdout.strip().splitlines()[-1].split("/")[-1]
    patience = load_scenario(folder / "calibrated.yaml").config.merchants.exit.patience_days
    assert isinstance(patience, int) and 10 <= patience <= 40


def test_a_calibrate_block_replaces_its_bases_block_whole(tmp_path):
    scenario = tmp_path / "own.yaml"
    scenario.write_text(
        f"extends: {SCENARIOS / 'baseline.yaml'}\n"
        "calibrate:\n  seeds: 2\n  parameters:\n"
        "    platform.take_rate: {low: 0.01, high: 0.2, log: true}\n"
    )
    assert load_scenario(SCENARIOS / "baseline.yaml").config.calibrate is not None
    block = load_scenario(scenario).config.calibrate
    assert list(block.parameters) == ["platform.take_rate"]
    assert block.seeds == 2


def test_expressions_are_plain_arithmetic_over_names():
    assert parse_expression("(a + b__last30) / c ** 2 - 1") == ["a", "b__last30", "c"]
    for bad in ("f(a)", "a.b", "a[0]", "'text'", "a if b else c", "lambda: 1"):
        with pytest.raises(ValueError):
            parse_expression(bad)


def test_the_miss_is_zero_in_the_band_and_grows_outside_it():
    t = Target(name="t", expression="x", value=10.0, band=[8.0, 12.0], source="s", grade="official")
    assert miss(t, 8.0) == miss(t, 12.0) == miss(t, 10.0) == 0.0
    assert miss(t, 14.0) == pytest.approx(0.2) and miss(t, 4.0) == pytest.approx(0.4)
    assert miss(t, math.nan) == 1.0
    blog = Target(name="u", expression="x", value=1.0, band=[0.0, 2.0], source="s", grade="blog")
    # weights by grade: an official miss counts five times a blog's
    assert distance([t, blog], {"t": 14.0, "u": 1.0}) == pytest.approx(0.2**2 * 1.0 / 1.2)


def test_a_calibration_on_two_workers_proposes_and_scores_what_one_does(
    monkeypatch, files, tmp_path
):
    """A trial's runs go to the study executor; the local pool gives the search exactly the
    figures the calling process does."""
    scenario, targets = files
    scenario.write_text(SCENARIO.replace("seeds: 1", "seeds: 2"))
    one = calibrate(monkeypatch, scenario, targets, tmp_path / "one", "--budget", "2")
    two = calibrate(
        monkeypatch, scenario, targets, tmp_path / "two", "--budget", "2", "--workers", "2"
    )
    assert one.exit_code == 0 and two.exit_code == 0, one.output + two.output
    a = pd.read_csv(next((tmp_path / "one").glob("calibration-*")) / "history.csv")
    b = pd.read_csv(next((tmp_path / "two").glob("calibration-*")) / "history.csv")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
