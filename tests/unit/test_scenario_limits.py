"""What the scenario loader refuses: hostile or oversized input is bad input (a ScenarioError
naming the file and line), never a hang, a crash or a file read from elsewhere."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import SCENARIOS

from sim.scenario import ScenarioError, load_policies, load_scenario

TINY = SCENARIOS / "tiny.yaml"


def problems_of(path: Path, *overrides: str, **kwargs) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, list(overrides), **kwargs)
    return [str(p) for p in caught.value.problems]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- defect 2: the name is a folder name ---------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../escaped", "/abs/olute", "a/b", "a\\b", "x\x00y", "a" * 300, "two\nlines", "\x1b[31mred", ".hidden", ""],
)  # fmt: skip
def test_a_name_that_is_not_one_printable_folder_name_is_refused(name):
    """A scenario name with a path separator, a leading dot, a control character, or over
    64 bytes cannot name a results folder: validation reports it at the name key."""
    quoted = name.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    problems = problems_of(TINY, f'name="{quoted}"')
    assert len(problems) == 1
    assert ": name: " in problems[0]


@pytest.mark.parametrize("name", ["tiny", "rural_goods-2", "山货上头条", "v1.2", "a" * 64])
def test_a_plain_name_is_accepted(name):
    assert load_scenario(TINY, [f"name={name}"]).config.name == name


def test_problem_text_cannot_carry_terminal_escapes(tmp_path):
    """A key written with an escape sequence is shown escaped, so the terminal never acts on
    it."""
    path = write(tmp_path, "s.yaml", f'extends: {TINY}\n"bad\\e[2Jkey": 1\n')
    (problem,) = problems_of(path)
    assert "\x1b" not in problem
    assert "\\x1b[2Jkey" in problem


# --- defect 3: extends stays among scenarios -----------------------------------------------


def secret_file(folder: Path) -> Path:
    folder.mkdir()
    return write(folder, "secret.txt", "password: hunter2\napi_token: abc123\n")


def test_extends_outside_the_scenario_folder_is_not_read(tmp_path):
    """`extends` naming a file outside the scenario's folder and the shipped scenarios is
    refused without reading it: none of its text appears in the problem."""
    secret = secret_file(tmp_path / "elsewhere")
    (tmp_path / "mine").mkdir()
    scenario = write(tmp_path / "mine", "s.yaml", f"extends: {secret}\n")
    (problem,) = problems_of(scenario)
    assert "outside the scenario's folder" in problem
    assert "--allow-outside" in problem
    for text in ("password", "hunter2", "api_token"):
        assert text not in problem


def test_extends_through_a_relative_path_or_a_symlink_is_refused_too(tmp_path):
    secret = secret_file(tmp_path / "elsewhere")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "link.yaml").symlink_to(secret)
    for base in ("../elsewhere/secret.txt", "link.yaml"):
        scenario = write(tmp_path / "mine", "s.yaml", f"extends: {base}\n")
        (problem,) = problems_of(scenario)
        assert "outside the scenario's folder" in problem, base


def test_a_file_that_is_not_a_scenario_is_never_echoed_even_when_allowed(tmp_path):
    """With --allow-outside the file is read, but a mapping without any scenario key is
    reported as one problem, not key by key."""
    secret = secret_file(tmp_path / "elsewhere")
    (tmp_path / "mine").mkdir()
    scenario = write(tmp_path / "mine", "s.yaml", f"extends: {secret}\n")
    (problem,) = problems_of(scenario, allow_outside=True)
    assert "is not a scenario file" in problem
    assert "password" not in problem and "api_token" not in problem


def test_extends_within_the_folder_and_of_shipped_scenarios_still_works(tmp_path):
    sub = tmp_path / "bases"
    sub.mkdir()
    write(sub, "base.yaml", f"extends: {TINY}\nsteps: 4\n")
    top = write(tmp_path, "top.yaml", "extends: bases/base.yaml\nname: top\n")
    loaded = load_scenario(top)
    assert (loaded.config.name, loaded.config.steps) == ("top", 4)
    assert load_policies(top) and loaded.files[0] == TINY.parent / "baseline.yaml"


def test_allow_outside_reads_a_base_elsewhere(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    base = write(tmp_path / "a", "base.yaml", f"extends: {TINY}\nsteps: 3\n")
    top = write(tmp_path / "b", "top.yaml", f"extends: {base}\n")
    assert load_scenario(top, allow_outside=True).config.steps == 3


# --- defect 5: size, nesting and alias limits ----------------------------------------------

ALIAS_BOMB = (
    "a: &a ["
    + ",".join(['"lol"'] * 10)
    + "]\n"
    + "".join(
        f"{n}: &{n} [" + ",".join([f"*{p}"] * 10) + "]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
)


def test_an_alias_bomb_is_refused_quickly(tmp_path):
    """A few hundred bytes whose aliases expand to 10^9 values: refused in well under a
    second."""
    path = write(tmp_path, "bomb.yaml", f"extends: {TINY}\n{ALIAS_BOMB}")
    assert len(path.read_bytes()) < 700
    start = time.perf_counter()
    (problem,) = problems_of(path)
    assert time.perf_counter() - start < 2
    assert "once its aliases are expanded" in problem


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("description: " + "x" * (2 << 20) + "\n", encoding="utf-8")
    (problem,) = problems_of(path)
    assert "larger than 1 MiB" in problem


def test_an_endless_device_is_refused():
    (problem,) = problems_of(Path("/dev/zero"))
    assert "larger than 1 MiB" in problem


@pytest.mark.parametrize("depth", [40, 5000])
def test_deep_nesting_is_refused_with_its_line(tmp_path, depth):
    path = write(
        tmp_path, "deep.yaml", f"extends: {TINY}\n\ndescription: {'[' * depth}{']' * depth}\n"
    )
    (problem,) = problems_of(path)
    assert problem.startswith("deep.yaml:3:") or ":3:" in problem
    assert "nested more than 32 levels" in problem


def test_a_long_chain_of_extends_is_refused(tmp_path):
    """1,100 files that extend one another: one problem, not a RecursionError."""
    for i in range(1100):
        write(tmp_path, f"c{i}.yaml", f"extends: c{i + 1}.yaml\n")
    write(tmp_path, "c1100.yaml", f"extends: {TINY}\n")
    (problem,) = problems_of(tmp_path / "c0.yaml")
    assert "at most 16 files" in problem


@pytest.mark.parametrize(
    "value", ["!!python/object/apply:os.system [echo hi]", "!!python/name:os.system", "!custom 3"]
)
def test_tags_beyond_plain_yaml_are_refused(tmp_path, value):
    path = write(tmp_path, "tag.yaml", f"extends: {TINY}\nname: {value}\n")
    (problem,) = problems_of(path)
    assert "tag.yaml:2:" in problem
    assert "is not allowed" in problem


def test_a_tag_in_a_set_override_is_refused():
    (problem,) = problems_of(TINY, "name=!!python/name:os.system")
    assert "--set" in problem and "is not allowed" in problem


def test_merge_keys_are_plain_yaml_and_work(tmp_path):
    """`<<: *anchor` merges a mapping: its keys are taken, the file's own keys win."""
    text = (
        f"extends: {TINY}\n"
        "programs:\n"
        "  - &base {kind: newcomer_support, name: one, start_day: 0, end_day: 9,\n"
        "           budget_yuan: 1000, boost: 1.5, newcomers: creators, max_age_days: 10}\n"
        "  - <<: *base\n"
        "    name: two\n"
        "    end_day: 19\n"
    )
    programs = load_scenario(write(tmp_path, "merge.yaml", text)).config.programs
    assert [(p.name, p.end_day, p.max_age_days) for p in programs] == [
        ("one", 9, 10),
        ("two", 19, 10),
    ]


def test_a_merged_key_with_a_problem_is_reported_at_its_mapping(tmp_path):
    text = f"extends: {TINY}\nshared: &s {{consumers: 5}}\npopulation:\n  <<: *s\n"
    problems = problems_of(write(tmp_path, "merge.yaml", text))
    assert any("merge.yaml:2: shared: unknown key" in p for p in problems), problems
    assert any("merge.yaml:4: population.consumers: " in p for p in problems), problems


# --- defect 7: strict types ----------------------------------------------------------------


@pytest.mark.parametrize(
    "override",
    [
        "steps=true",
        "steps=2.0",
        "platform.take_rate=true",
        "platform.channels.live=1",
        "platform.channels.feed='no'",
        "population.consumers='3000'",
    ],
)
def test_values_of_the_wrong_type_are_not_coerced(override):
    key = override.split("=")[0]
    (problem,) = problems_of(TINY, override)
    assert f": {key}: " in problem


def test_an_integer_is_still_a_number():
    config = load_scenario(TINY, ["platform.take_rate=0", "platform.channels.live=false"]).config
    assert config.platform.take_rate == 0.0 and config.platform.channels.live is False


def test_a_scenario_error_raised_in_a_worker_process_reaches_the_parent_whole():
    """A worker's ScenarioError crosses back by pickle with its source and every problem
    (before, unpickling it failed and broke the whole process pool)."""
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    with pytest.raises(ScenarioError) as raised:
        load_scenario(SCENARIOS / "baseline.yaml", ["steps=-1", "platform.take_rate=2"])
    again = pickle.loads(pickle.dumps(raised.value))
    assert again.source == raised.value.source
    assert [str(p) for p in again.problems] == [str(p) for p in raised.value.problems]
    assert str(again) == str(raised.value)
    with ProcessPoolExecutor(1) as pool, pytest.raises(ScenarioError, match="2 problems"):
        pool.submit(
            load_scenario, SCENARIOS / "baseline.yaml", ["steps=-1", "platform.take_rate=2"]
        ).result()
