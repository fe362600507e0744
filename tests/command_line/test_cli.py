"""The ``zhongcao`` command line: run folders, exit codes and how bad input is reported.

Exit codes: 0 success, 1 a failure while running (one line), 2 bad input (every problem listed
by key path and file line), 130 interrupted.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest
from conftest import SCENARIOS
from typer.testing import CliRunner

import cli
import sim.model
import sim.runner
from sim.metrics import REGISTRY
from sim.scenario import config_sha256, load_scenario

app = cli.app
BASELINE = SCENARIOS / "baseline.yaml"
TINY = SCENARIOS / "tiny.yaml"
RUN_FILES = (
    "config.yaml",
    "timeseries.parquet",
    "summary.csv",
    "creators.parquet",
    "merchants.parquet",
    "follows_sample.parquet",
    "run.json",
)
REQUIRED_METRICS = (
    "gmv_yuan",
    "quality_gmv_yuan",
    "refunds_yuan",
    "orders",
    "impressions",
    "conversion_rate",
    "new_customer_share",
    "active_consumers",
    "creators_active",
    "merchants_active",
    "mcn_signed_creators",
    "platform_revenue_yuan",
    "gmv_feed_yuan",
    "gmv_live_yuan",
    "gmv_follow_yuan",
    "gmv_search_yuan",
    "gmv_mall_yuan",
)
FAST = ("--steps", "5", "--consumers", "1500", "--no-plot")
"""A small, short run without figures: enough to exercise every file of a run folder (the
default figures are tested in tests/plots)."""

RUNNER = CliRunner(env={"COLUMNS": "80"})


def invoke(monkeypatch: pytest.MonkeyPatch, *args: object):
    """Invoke the app as ``zhongcao <args>`` would be invoked from a shell."""
    argv = ["zhongcao", *(str(a) for a in args)]
    monkeypatch.setattr(sys, "argv", argv)
    return RUNNER.invoke(app, argv[1:])


def flat(text: str) -> str:
    """Text with every run of whitespace (including line breaks) made one space."""
    return " ".join(text.split())


def write_scenario(folder: Path, name: str, body: str) -> Path:
    """A scenario file that extends the real baseline by absolute path."""
    path = folder / name
    path.write_text(f"extends: {BASELINE}\n{body}", encoding="utf-8")
    return path


def line_of(path: Path, text: str, occurrence: int = 1) -> int:
    """1-based number of the line of ``path`` holding ``text`` for the ``occurrence``-th time."""
    hits = [
        n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line
    ]
    return hits[occurrence - 1]


def assert_bad_input(result, *expected: str) -> None:
    """Exit 2, nothing on stdout, no traceback, and every expected piece on stderr."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    text = flat(result.stderr)
    for piece in expected:
        assert piece in text, f"{piece!r} not in {text!r}"


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------------------------
# zhongcao run: the run folder
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One CLI run of the tiny scenario with seed, steps and consumers given as options."""
    out = tmp_path_factory.mktemp("results")
    args = ["run", str(TINY), "--out", str(out), "--seed", "7", *FAST]
    with pytest.MonkeyPatch.context() as mp:
        result = invoke(mp, *args)
    assert result.exit_code == 0, result.output
    return {"result": result, "out": out, "args": args}


@pytest.fixture(scope="module")
def run_folder(tiny_run) -> Path:
    return Path(tiny_run["result"].stdout.splitlines()[-1])


def test_run_prints_complete_folder_as_last_stdout_line(tiny_run, run_folder):
    """`run` exits 0 and its last stdout line is the results folder, holding all its files (and
    no figures: --no-plot) and no leftover partial folder beside it."""
    assert run_folder.is_dir()
    assert run_folder.parent == tiny_run["out"]
    assert run_folder.name.startswith("tiny-seed7-")
    assert sorted(p.name for p in run_folder.iterdir()) == sorted(RUN_FILES)
    assert entries(tiny_run["out"]) == [run_folder.name]


def test_run_json_records_provenance(tiny_run, run_folder):
    """run.json says complete and holds the seed, config hash, versions, command and wall
    time of the run."""
    info = json.loads((run_folder / "run.json").read_text(encoding="utf-8"))
    assert info["status"] == "complete"
    assert info["seed"] == 7
    assert info["steps"] == 5
    assert info["consumers"] == 1500
    expected = load_scenario(TINY, ["seed=7", "steps=5", "population.consumers=1500"])
    assert info["config_sha256"] == expected.sha256
    assert info["config_sha256"] == config_sha256(
        load_scenario(run_folder / "config.yaml").resolved
    )
    assert re.fullmatch(r"[0-9a-f]{64}", info["config_sha256"])
    assert info["command"] == ["zhongcao", *tiny_run["args"]]
    assert isinstance(info["wall_time_s"], int | float)
    assert info["wall_time_s"] >= 0
    versions = info["versions"]
    assert versions["zhongcao"] == metadata.version("zhongcao")
    assert versions["numpy"] == metadata.version("numpy")
    assert versions["python"] == platform.python_version()


def test_config_yaml_reloads_to_the_resolved_config(run_folder):
    """config.yaml is the resolved scenario: it loads on its own (no `extends`) to the same
    config as the scenario with the command-line options applied, which reach it."""
    loaded = load_scenario(run_folder / "config.yaml")
    assert loaded.files == (run_folder / "config.yaml",)
    reloaded = loaded.config
    expected = load_scenario(TINY, ["seed=7", "steps=5", "population.consumers=1500"]).config
    assert reloaded == expected
    assert (reloaded.seed, reloaded.steps, reloaded.population.consumers) == (7, 5, 1500)


def test_timeseries_is_tidy_with_every_metric_every_step(run_folder):
    """timeseries.parquet has exactly the columns step, metric, value and one row per metric
    per simulated day, covering every required metric."""
    ts = pd.read_parquet(run_folder / "timeseries.parquet")
    assert list(ts.columns) == ["step", "metric", "value"]
    names = set(ts["metric"])
    assert set(REQUIRED_METRICS) <= names
    assert names == set(REGISTRY)
    per_metric = ts.groupby("metric")["step"].apply(sorted)
    for metric, steps in per_metric.items():
        assert steps == list(range(5)), metric


def test_summary_csv_is_one_row_folded_from_the_timeseries(run_folder):
    """summary.csv is one row with a column per required metric; flows are summed over the
    days and the conversion rate is total orders over total impressions."""
    summary = pd.read_csv(run_folder / "summary.csv")
    assert len(summary) == 1
    assert set(REQUIRED_METRICS) <= set(summary.columns)
    wide = pd.read_parquet(run_folder / "timeseries.parquet").pivot(
        index="step", columns="metric", values="value"
    )
    row = summary.iloc[0]
    assert row["gmv_yuan"] == pytest.approx(wide["gmv_yuan"].sum(), rel=1e-9)
    assert row["orders"] == pytest.approx(wide["orders"].sum(), rel=1e-9)
    assert row["conversion_rate"] == pytest.approx(
        wide["orders"].sum() / wide["impressions"].sum(), rel=1e-9
    )


def test_agent_tables_are_written(run_folder):
    """creators.parquet and merchants.parquet hold agent snapshots from the run's days."""
    for name in ("creators.parquet", "merchants.parquet"):
        table = pd.read_parquet(run_folder / name)
        assert len(table) > 0, name
        assert set(table["step"]) <= set(range(5)), name


def test_run_json_is_written_last_inside_a_partial_folder(monkeypatch, tmp_path):
    """Every file is written into the hidden `.<name>.partial` folder, run.json last, and the
    folder only gets its final name once complete."""
    written: list[tuple[str, str]] = []
    for writer in ("write_text", "write_json", "write_parquet", "write_csv"):
        original = getattr(sim.runner, writer)

        def spy(path, data, original=original):
            written.append((Path(path).parent.name, Path(path).name))
            original(path, data)

        monkeypatch.setattr(sim.runner, writer, spy)
    result = invoke(monkeypatch, "run", TINY, "--out", tmp_path, *FAST)
    assert result.exit_code == 0, result.output
    folder = Path(result.stdout.splitlines()[-1])
    assert sorted(name for _, name in written) == sorted(RUN_FILES)
    assert written[-1][1] == "run.json"
    assert {parent for parent, _ in written} == {f".{folder.name}.partial"}
    assert entries(tmp_path) == [folder.name]


def test_two_runs_into_one_folder_do_not_collide(monkeypatch, tmp_path):
    """Running the same scenario twice into the same --out gives two separate complete
    folders."""
    folders = []
    for _ in range(2):
        result = invoke(monkeypatch, "run", TINY, "--out", tmp_path, *FAST)
        assert result.exit_code == 0, result.output
        folders.append(Path(result.stdout.splitlines()[-1]))
    assert folders[0] != folders[1]
    for folder in folders:
        assert (folder / "run.json").is_file()
    assert entries(tmp_path) == sorted(f.name for f in folders)


@pytest.mark.parametrize(
    ("options", "key"),
    [
        (("--steps", "0"), "steps"),
        (("--consumers", "5"), "population.consumers"),
        (("--set", "population.consumerz=5"), "population.consumerz"),
    ],
)
def test_run_rejects_bad_input_before_writing_anything(monkeypatch, tmp_path, options, key):
    """`run` validates the scenario with its options first: exit 2 naming the key, and no
    results folder is created."""
    out = tmp_path / "out"
    result = invoke(monkeypatch, "run", TINY, "--out", out, *options)
    assert_bad_input(result, f"{key}:")
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# zhongcao run: failures and interruptions
# --------------------------------------------------------------------------------------------


def fail_on_step(monkeypatch, exc: BaseException, after: int = 2) -> None:
    """Make MarketModel.step raise ``exc`` once ``after`` steps have run."""
    original = sim.model.MarketModel.step
    calls = {"n": 0}

    def step(self):
        calls["n"] += 1
        if calls["n"] > after:
            raise exc
        original(self)

    monkeypatch.setattr(sim.model.MarketModel, "step", step)


def fail_on_second_parquet(monkeypatch, exc: BaseException) -> list[Path]:
    """Make the second parquet write of a run folder raise ``exc``; returns the folders that
    were being written to, checked to exist at that moment."""
    original = sim.runner.write_parquet
    seen: list[Path] = []

    def write(path, frame):
        seen.append(Path(path).parent)
        if len(seen) == 2:
            assert (Path(path).parent / "config.yaml").is_file()
            raise exc
        original(path, frame)

    monkeypatch.setattr(sim.runner, "write_parquet", write)
    return seen


def test_failure_during_simulation_exits_1_with_one_line(monkeypatch, tmp_path):
    """An exception in the middle of the simulation: exit 1, a single `error: …` line naming
    it, no traceback, and nothing left in the results folder."""
    fail_on_step(monkeypatch, RuntimeError("model blew up"))
    result = invoke(monkeypatch, "run", TINY, "--out", tmp_path, *FAST)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: RuntimeError: model blew up"]
    assert entries(tmp_path) == []


def test_failure_while_writing_removes_the_partial_folder(monkeypatch, tmp_path):
    """A write failing half-way through the run folder: exit 1, one error line, and the
    half-written partial folder is removed."""
    seen = fail_on_second_parquet(monkeypatch, OSError("No space left on device"))
    result = invoke(monkeypatch, "run", TINY, "--out", tmp_path, *FAST)
    assert result.exit_code == 1, result.output
    assert len(seen) == 2
    assert seen[1].name.endswith(".partial")
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: OSError: No space left on device"]
    assert entries(tmp_path) == []


def test_out_that_is_a_file_exits_2(monkeypatch, tmp_path):
    """--out naming an existing file is bad input: exit 2 with one error line naming it; the
    file is left alone and nothing else is created."""
    monkeypatch.chdir(tmp_path)
    Path("results").write_text("not a folder\n", encoding="utf-8")
    result = invoke(monkeypatch, "run", TINY, "--out", "results", *FAST)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "results" in errors[0]
    assert Path("results").read_text(encoding="utf-8") == "not a folder\n"
    assert entries(tmp_path) == ["results"]


@pytest.mark.parametrize("where", ["simulation", "writing"])
def test_keyboard_interrupt_exits_130_and_leaves_nothing(monkeypatch, tmp_path, where):
    """Ctrl-C during the simulation or while the folder is written: exit 130, a message that
    nothing was written, and neither a run folder nor a `.partial` folder left behind."""
    if where == "simulation":
        fail_on_step(monkeypatch, KeyboardInterrupt())
    else:
        fail_on_second_parquet(monkeypatch, KeyboardInterrupt())
    result = invoke(monkeypatch, "run", TINY, "--out", tmp_path, *FAST)
    assert result.exit_code == 130, result.output
    assert "Traceback" not in result.output
    assert "interrupted" in result.stderr
    assert result.stdout == ""
    assert entries(tmp_path) == []


def test_failure_message_is_one_line_even_for_multiline_exception_text(monkeypatch, tmp_path):
    """The exit-1 message stays on one line when the exception's text has line breaks."""
    fail_on_step(monkeypatch, ValueError("bad value\nin column price_yuan"))
    result = invoke(monkeypatch, "run", TINY, "--out", tmp_path, *FAST)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    error_at = next(i for i, line in enumerate(lines) if line.startswith("error:"))
    assert lines[error_at:] == [lines[error_at]]
    assert "bad value" in lines[error_at]
    assert "price_yuan" in lines[error_at]


# --------------------------------------------------------------------------------------------
# zhongcao validate: good files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_validate_accepts_shipped_scenarios(monkeypatch, path):
    """Every scenario shipped in scenarios/ validates: exit 0, `valid` on stdout, nothing on
    stderr."""
    result = invoke(monkeypatch, "validate", path)
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout
    assert result.stderr == ""


def test_validate_accepts_good_overrides(monkeypatch):
    """Valid --set overrides (YAML values: int, bool, float) are accepted."""
    result = invoke(
        monkeypatch,
        "validate",
        TINY,
        "--set",
        "population.consumers=5000",
        "--set",
        "platform.channels.mall=false",
        "--set",
        "platform.take_rate=0.1",
    )
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------------------------
# zhongcao validate: bad input, exit 2, every problem by key path and file:line
# --------------------------------------------------------------------------------------------

SINGLE_PROBLEMS = {
    "unknown_key": (
        "population:\n  consumerz: 5000\n",
        "consumerz:",
        "population.consumerz",
        ["unknown key", "did you mean 'consumers'?"],
    ),
    "misspelt_recommender_key": (
        "platform:\n  recommender:\n    temprature: 2\n",
        "temprature:",
        "platform.recommender.temprature",
        ["did you mean 'temperature'?"],
    ),
    "misspelt_category_key": (
        "market:\n  categories:\n"
        "    food: {reference_price: 45, interest_weight: 1.6, need_weight: 2.0}\n",
        "reference_price:",
        "market.categories.food.reference_price",
        ["did you mean 'reference_price_yuan'?"],
    ),
    "wrong_type": ("steps: many\n", "steps:", "steps", ["integer", "'many'"]),
    "wrong_type_section": (
        "population: 5000\n",
        "population:",
        "population",
        ["dictionary"],
    ),
    "out_of_range": (
        "consumers:\n  feed_share: 1.5\n",
        "feed_share:",
        "consumers.feed_share",
        ["less than or equal to 1", "1.5"],
    ),
    "negative_seed": ("seed: -3\n", "seed:", "seed", ["greater than or equal to 0"]),
    "unknown_recommender_kind": (
        "platform:\n  recommender:\n    kind: magic\n",
        "kind: magic",
        "platform.recommender.kind",
        ["'magic'", "interest_only", "interest_quality"],
    ),
    "unknown_category": (
        "merchants:\n  kinds:\n    brand:\n      categories: [fod]\n",
        "categories: [fod]",
        "merchants.kinds.brand.categories.0",
        ["unknown category 'fod'"],
    ),
}


@pytest.mark.parametrize("case", list(SINGLE_PROBLEMS))
def test_validate_reports_problem_by_key_and_line(monkeypatch, tmp_path, case):
    """One problem in a scenario file: exit 2, one problem listed as `file:line: key:` with a
    message saying what is wrong, and no traceback."""
    body, marker, key, pieces = SINGLE_PROBLEMS[case]
    monkeypatch.chdir(tmp_path)
    path = write_scenario(tmp_path, "bad.yaml", body)
    result = invoke(monkeypatch, "validate", path)
    assert_bad_input(result, "1 problem", f"bad.yaml:{line_of(path, marker)}: {key}:", *pieces)


def test_validate_lists_every_duplicate_key(monkeypatch, tmp_path):
    """Two keys written twice: both duplicates are listed at the line of the second writing,
    with the line of the first."""
    monkeypatch.chdir(tmp_path)
    path = write_scenario(
        tmp_path,
        "dup.yaml",
        "steps: 10\nname: twice\nsteps: 20\npopulation:\n  consumers: 100\n  consumers: 200\n",
    )
    result = invoke(monkeypatch, "validate", path)
    first_steps, second_steps = line_of(path, "steps:"), line_of(path, "steps:", 2)
    second_consumers = line_of(path, "consumers:", 2)
    assert_bad_input(
        result,
        "2 problems",
        f"dup.yaml:{second_steps}: steps: duplicate key",
        f"first written on line {first_steps}",
        f"dup.yaml:{second_consumers}: population.consumers: duplicate key",
    )


def test_validate_reports_broken_yaml_with_its_line(monkeypatch, tmp_path):
    """YAML that does not parse: exit 2, `not valid YAML` at the line of the fault."""
    monkeypatch.chdir(tmp_path)
    path = write_scenario(
        tmp_path, "broken.yaml", "steps: 10\npopulation:\n  consumers: 5000: x\n  creators: 3\n"
    )
    result = invoke(monkeypatch, "validate", path)
    assert_bad_input(result, f"broken.yaml:{line_of(path, '5000: x')}:", "not valid YAML")


UNREADABLE = {
    "missing_file": ("nope.yaml", None, ["nope.yaml", "file not found"]),
    "folder": ("scenario_dir", "folder", ["scenario_dir", "is a folder"]),
    "not_utf8": ("binary.yaml", b"steps: \xff\xfe\n", ["binary.yaml", "cannot be read"]),
    "not_a_mapping": ("list.yaml", b"- a\n- b\n", ["list.yaml:1:", "must be a mapping"]),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_validate_rejects_unreadable_files(monkeypatch, tmp_path, case):
    """A missing file, a folder, a file that is not UTF-8 text or not a mapping: exit 2 with
    a message naming the file, no traceback."""
    name, content, pieces = UNREADABLE[case]
    monkeypatch.chdir(tmp_path)
    path = tmp_path / name
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    result = invoke(monkeypatch, "validate", path)
    assert_bad_input(result, "1 problem", *pieces)


def test_validate_lists_several_problems_in_one_run(monkeypatch, tmp_path):
    """A file with five different problems lists all five at once, each at its line."""
    monkeypatch.chdir(tmp_path)
    path = write_scenario(
        tmp_path,
        "many.yaml",
        "steps: -1\n"
        "population:\n"
        "  consumerz: 5000\n"
        "consumers:\n"
        "  feed_share: lots\n"
        "platform:\n"
        "  take_rate: 2\n"
        "  recommender:\n"
        "    kind: magic\n",
    )
    result = invoke(monkeypatch, "validate", path)
    assert_bad_input(
        result,
        "5 problems",
        f"many.yaml:{line_of(path, 'steps:')}: steps:",
        f"many.yaml:{line_of(path, 'consumerz:')}: population.consumerz: unknown key",
        "did you mean 'consumers'?",
        f"many.yaml:{line_of(path, 'feed_share:')}: consumers.feed_share:",
        f"many.yaml:{line_of(path, 'take_rate:')}: platform.take_rate:",
        f"many.yaml:{line_of(path, 'kind: magic')}: platform.recommender.kind:",
    )


def test_validate_points_at_the_file_that_wrote_the_key(monkeypatch, tmp_path):
    """A bad value in an extended file is reported at that file's line, not the top file's."""
    monkeypatch.chdir(tmp_path)
    write_scenario(tmp_path, "base.yaml", "steps: 0\n")
    top = tmp_path / "top.yaml"
    top.write_text("extends: base.yaml\nname: top\n", encoding="utf-8")
    result = invoke(monkeypatch, "validate", top)
    assert_bad_input(result, f"base.yaml:{line_of(tmp_path / 'base.yaml', 'steps:')}: steps:")


def test_validate_lists_file_and_set_problems_together(monkeypatch, tmp_path):
    """A problem in the file and one in a --set are listed together in one run."""
    monkeypatch.chdir(tmp_path)
    path = write_scenario(tmp_path, "bad.yaml", "population:\n  consumerz: 5000\n")
    result = invoke(monkeypatch, "validate", path, "--set", "steps=0")
    assert_bad_input(
        result,
        "2 problems",
        f"bad.yaml:{line_of(path, 'consumerz:')}: population.consumerz:",
        "--set steps=0: steps:",
    )


@pytest.mark.parametrize(
    ("item", "pieces"),
    [
        (
            "population.consumerz=5",
            ["--set population.consumerz=5: population.consumerz: unknown key", "'consumers'?"],
        ),
        (
            "popul.consumers=5",
            ["--set popul.consumers=5: popul.consumers: no such key 'popul'", "'population'?"],
        ),
        ("populationconsumers", ["--set populationconsumers:", "expected KEY=VALUE"]),
        ("=5", ["--set =5:", "expected KEY=VALUE"]),
        ("steps=[1", ["--set steps=[1: steps:", "not valid YAML"]),
        ("steps=abc", ["--set steps=abc: steps:", "integer"]),
        ("platform.recommender.kind=magic", ["platform.recommender.kind:", "interest_only"]),
    ],
    ids=[
        "unknown_key",
        "unknown_parent",
        "missing_equals",
        "empty_key",
        "bad_yaml_value",
        "wrong_type",
        "unknown_kind",
    ],
)
def test_validate_reports_bad_set(monkeypatch, item, pieces):
    """A bad --set: exit 2 with the --set item, the key and what is wrong."""
    result = invoke(monkeypatch, "validate", BASELINE, "--set", item)
    assert_bad_input(result, *pieces)


def test_validate_lists_duplicates_together_with_other_problems(monkeypatch, tmp_path):
    """A duplicated key does not hide the file's other problems: all are listed in one run."""
    monkeypatch.chdir(tmp_path)
    path = write_scenario(
        tmp_path, "mixed.yaml", "steps: 10\nsteps: 20\npopulation:\n  consumerz: 5000\n"
    )
    result = invoke(monkeypatch, "validate", path)
    assert_bad_input(
        result,
        "2 problems",
        f"mixed.yaml:{line_of(path, 'steps:', 2)}: steps: duplicate key",
        f"mixed.yaml:{line_of(path, 'consumerz:')}: population.consumerz: unknown key",
    )


def test_validate_lists_every_malformed_set(monkeypatch, tmp_path):
    """Two malformed --set items and a problem in the file are all listed in one run."""
    monkeypatch.chdir(tmp_path)
    path = write_scenario(tmp_path, "bad.yaml", "population:\n  consumerz: 5000\n")
    result = invoke(monkeypatch, "validate", path, "--set", "steps", "--set", "seed")
    assert_bad_input(
        result,
        "3 problems",
        "--set steps:",
        "--set seed:",
        f"bad.yaml:{line_of(path, 'consumerz:')}: population.consumerz:",
    )


def test_validate_reports_missing_base_at_the_extends_line(monkeypatch, tmp_path):
    """`extends:` naming a missing file is a problem of the `extends` key at its line."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "child.yaml"
    path.write_text("name: child\nextends: missing_base.yaml\n", encoding="utf-8")
    result = invoke(monkeypatch, "validate", path)
    assert_bad_input(
        result, "missing_base.yaml", f"child.yaml:{line_of(path, 'extends:')}: extends:"
    )


# --------------------------------------------------------------------------------------------
# A real process: what a shell sees
# --------------------------------------------------------------------------------------------


def run_cli(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh interpreter with stdin, stdout and stderr not terminals (as in a
    pipe or a CI log), and no COLUMNS set."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"}
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", *(str(a) for a in args)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.usefixtures("compiled_kernel")
def test_process_run_prints_folder_last_and_progress_on_stderr(tmp_path):
    """In a real process `zhongcao run` exits 0 and the last stdout line is the complete
    results folder (the progress bar goes to stderr)."""
    proc = run_cli("run", TINY, "--out", tmp_path / "out", *FAST, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = Path(proc.stdout.splitlines()[-1])
    assert folder.parent == tmp_path / "out"
    assert (folder / "run.json").is_file()


def test_process_bad_input_exits_2_without_traceback(tmp_path):
    """In a real process an invalid scenario exits 2, lists its problems on stderr and
    prints no Python traceback."""
    path = write_scenario(tmp_path, "bad.yaml", "steps: -1\npopulation:\n  consumerz: 5000\n")
    proc = run_cli("validate", "bad.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    text = flat(proc.stderr)
    assert "2 problems" in text
    assert f"bad.yaml:{line_of(path, 'steps:')}: steps:" in text
    assert f"bad.yaml:{line_of(path, 'consumerz:')}: population.consumerz:" in text


def test_process_lists_each_problem_on_one_line(tmp_path):
    """Piped stderr of an invalid scenario: a header, then exactly one `file:line: key: message`
    line per problem."""
    write_scenario(
        tmp_path,
        "bad.yaml",
        "steps: -1\nplatform:\n  take_rate: 2\n  recommender:\n    kind: magic\n",
    )
    proc = run_cli("validate", "bad.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.rstrip("\n").splitlines()
    assert lines[0] == "bad.yaml: 3 problems"
    assert len(lines) == 4, lines
    for line in lines[1:]:
        assert re.fullmatch(r"  bad\.yaml:\d+: [\w.]+: .+", line), line


def test_process_failure_message_is_one_line(tmp_path):
    """Piped stderr of a refused run (--out is a file: bad input): the `error:` message is a
    single line, however long."""
    out = tmp_path / ("not-a-folder-" + "x" * 80)
    out.write_text("", encoding="utf-8")
    proc = run_cli("run", TINY, "--out", out, *FAST, cwd=tmp_path)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert str(out) in errors[0]
    assert proc.stderr.rstrip("\n").splitlines()[-1] == errors[0]
