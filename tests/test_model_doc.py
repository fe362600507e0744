"""docs/MODEL.md (the ODD description) names every scenario key and the step's phases in order.

Every field of the scenario schema :class:`sim.config.Scenario` must appear in MODEL.md by its
full dotted path, written as an inline code span of its own (`` `platform.take_rate` ``).
The paths are derived from the schema, never listed by hand, so a new field fails this test
until it is documented. Conventions:

* nested sections are joined with dots: ``consumers.purchase.base_logit.feed``;
* the keys of a mapping become a placeholder: ``merchants.kinds.<kind>.share``,
  ``creators.kinds.<kind>.niche``, ``market.categories.<name>.reference_price_yuan``,
  ``platform.take_rate_by_category.<category>`` (keys that are category names),
  ``policies.<policy>.<dotted key>`` (a policy's name, then a dotted key of the scenario), and
  ``<key>`` for any other mapping;
* the items of a list of sections get ``[]``: ``events[].start_day``; a list of a union of
  sections (the event kinds, the program kinds) has the fields of every member:
  ``programs[].target.categories``;
* a union of sections (``platform.recommender``) has the fields of every member at the same
  path: ``platform.recommender.quality_weight``.
"""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Annotated, Union, get_args, get_origin

from pydantic import BaseModel

from sim.config import CategoryName, Scenario
from sim.model import MarketModel

ROOT = Path(__file__).resolve().parents[1]
MODEL_DOC = ROOT / "docs" / "MODEL.md"

MAPPING_PLACEHOLDERS = {
    "merchants.kinds": "<kind>",
    "creators.kinds": "<kind>",
    "market.categories": "<name>",
    "policies": "<policy>",
    "policies.<policy>": "<dotted key>",
}
"""Placeholder for the keys of a mapping, by the mapping's dotted path."""
CATEGORY_PLACEHOLDER = "<category>"
"""Placeholder for the keys of a mapping keyed by category name (``CategoryName``)."""
DEFAULT_PLACEHOLDER = "<key>"

PHASE_HEADING = re.compile(r"^#### Phase (\d+): (.+?)\s*$", re.MULTILINE)
"""How section 3 of MODEL.md titles each phase: ``#### Phase 5: matching``."""


# --------------------------------------------------------------------------------------------
# Walking the schema
# --------------------------------------------------------------------------------------------


def _unwrap(tp):
    """Strip ``Annotated[...]`` layers."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _is_union(tp) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _section_models(tp) -> list[type[BaseModel]]:
    """The section models a type stands for: one model, or every member of a union of models
    (``None`` allowed). Empty for anything else (scalars, lists, mappings, mixed unions)."""
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    if _is_union(tp):
        members = [_unwrap(m) for m in get_args(tp) if m is not type(None)]
        if members and all(isinstance(m, type) and issubclass(m, BaseModel) for m in members):
            return members
    return []


def _mapping_placeholder(path: str, key_type) -> str:
    if path in MAPPING_PLACEHOLDERS:
        return MAPPING_PLACEHOLDERS[path]
    if key_type == CategoryName:
        return CATEGORY_PLACEHOLDER
    return DEFAULT_PLACEHOLDER


def _paths_below(tp, path: str) -> set[str]:
    """Dotted paths below a field of type ``tp`` at ``path`` (not including ``path``)."""
    models = _section_models(tp)
    if models:
        out: set[str] = set()
        for model in models:
            out |= schema_paths(model, f"{path}.")
        return out
    tp = _unwrap(tp)
    origin = get_origin(tp)
    if origin is list:
        (item,) = get_args(tp)
        if _section_models(item):
            return _paths_below(item, f"{path}[]")
        return set()
    if origin is dict:
        key_type, value_type = get_args(tp)
        child = f"{path}.{_mapping_placeholder(path, key_type)}"
        return {child} | _paths_below(value_type, child)
    return set()


def schema_paths(model: type[BaseModel] = Scenario, prefix: str = "") -> set[str]:
    """Every field of ``model`` and of its sections, recursively, as dotted paths."""
    paths: set[str] = set()
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.add(path)
        paths |= _paths_below(field.annotation, path)
    return paths


# --------------------------------------------------------------------------------------------
# Reading the document
# --------------------------------------------------------------------------------------------


def _doc() -> str:
    return MODEL_DOC.read_text(encoding="utf-8")


def code_spans(markdown: str) -> set[str]:
    """Contents of the inline code spans of a markdown text (fenced blocks left out)."""
    text = re.sub(r"^```.*?^```", "", markdown, flags=re.MULTILINE | re.DOTALL)
    return {span.strip() for span in re.findall(r"`([^`\n]+)`", text)}


def missing_paths(paths: set[str], spans: set[str]) -> list[str]:
    return sorted(p for p in paths if p not in spans)


def section(markdown: str, number: int) -> str:
    """The text of top-level section ``## <number> ...`` up to the next ``## `` heading."""
    match = re.search(rf"^## {number}\b.*?$(.*?)(?=^## |\Z)", markdown, re.MULTILINE | re.DOTALL)
    assert match, f"MODEL.md has no section '## {number} ...'"
    return match.group(1)


def step_phases() -> list[tuple[int, str]]:
    """(number, name) of each phase in the docstring of ``MarketModel.step``."""
    doc = MarketModel.step.__doc__ or ""
    return [
        (int(n), name.strip()) for n, name in re.findall(r"^\s*(\d+)\.\s+([^:\n]+):", doc, re.M)
    ]


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_the_schema_walk_finds_every_kind_of_path():
    """The walk reaches nested sections, mappings, lists of unions and unions of sections."""
    paths = schema_paths()
    for expected in (
        "seed",
        "consumers.purchase.base_logit.feed",
        "consumers.experience.leave_prob",
        "merchants.kinds.<kind>.share",
        "merchants.learning.price_step",
        "creators.kinds.<kind>.niche",
        "market.categories.<name>.reference_price_yuan",
        "platform.take_rate_by_category.<category>",
        "platform.recommender.kind",
        "platform.recommender.quality_weight",
        "platform.governance.removal_strikes",
        "events[].start_day",
        "events[].purchase_logit",
        "events[].region_share",
        "programs[].kind",
        "programs[].target.merchant_kinds",
        "programs[].newcomers",
        "programs[].shipping_insurance_yuan_per_return",
        "policies",
        "policies.<policy>",
        "policies.<policy>.<dotted key>",
    ):
        assert expected in paths, expected
    assert not any(p.startswith("merchants.kinds.brand") for p in paths)
    assert not any(p.startswith("policies.<key>") for p in paths)


def test_a_path_absent_from_the_doc_is_reported():
    spans = code_spans("Text with `a.b` and\n```\n`c.d`\n```\nand `e.f `.")
    assert spans == {"a.b", "e.f"}
    assert missing_paths({"a.b", "c.d", "e.f", "g"}, spans) == ["c.d", "g"]


def test_every_scenario_field_is_in_the_model_doc():
    """Each dotted path of the scenario schema appears in MODEL.md as a code span of its own."""
    missing = missing_paths(schema_paths(), code_spans(_doc()))
    assert not missing, (
        f"{len(missing)} scenario fields are not documented in docs/MODEL.md "
        f"(write each as `dotted.path`):\n  " + "\n  ".join(missing)
    )


def test_section_3_lists_the_phases_of_step_in_order():
    """Section 3 titles one subsection per phase of ``MarketModel.step``, same names, same
    order: ``#### Phase <n>: <name>``."""
    phases = step_phases()
    assert [n for n, _ in phases] == list(range(1, 12)), phases
    documented = [(int(n), name) for n, name in PHASE_HEADING.findall(section(_doc(), 3))]
    assert documented == phases


def test_sections_follow_the_odd_protocol():
    headings = re.findall(r"^## (\d+) (.+?)\s*$", _doc(), re.MULTILINE)
    assert [int(n) for n, _ in headings] == list(range(1, 8)), headings


# --------------------------------------------------------------------------------------------
# The baseline's values in the key tables
# --------------------------------------------------------------------------------------------

BASELINE = ROOT / "scenarios" / "baseline.yaml"
LEADING_VALUE = re.compile(r"^(-?[0-9][0-9,]*(?:\.[0-9]+)?(?:e-?[0-9]+)?|true|false|null)(?:\s|$)")
"""A cell's value, when the cell starts with one (``0.3``, ``0.3 (§7.7)``, ``null (from ...)``);
cells that start with words or a formula are prose and are not compared."""


def _cell_value(cell: str):
    match = LEADING_VALUE.match(cell)
    if match is None:
        return None, False
    token = match.group(1)
    if token in ("true", "false"):
        return token == "true", True
    if token == "null":
        return None, True
    return float(token.replace(",", "")), True


def _lookup(data, dotted: str):
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            raise KeyError(dotted)
        data = data[part]
    return data


def documented_baseline_values(doc: str) -> list[tuple[int, str, object]]:
    """``(line, dotted key, value)`` for every cell of a key table that states a baseline value:
    the ``baseline`` column, or a column per kind for a ``<kind>`` key (its header names the
    kinds)."""
    found, header = [], None
    for number, line in enumerate(doc.splitlines(), start=1):
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[:2] == ["key", "unit"]:
            header = cells
            continue
        if header is None or set(line) <= set("|-: "):
            continue
        key = re.fullmatch(r"`([a-z0-9_.<>]+)`", cells[0])
        if key is None:
            continue
        for column, name in enumerate(header[2:], start=2):
            if column >= len(cells):
                break
            if name == "baseline" and "<" not in key.group(1):
                dotted = key.group(1)
            elif "<kind>" in key.group(1) and re.fullmatch(r"[a-z_]+", name):
                dotted = key.group(1).replace("<kind>", name)
            else:
                continue
            value, stated = _cell_value(cells[column])
            if stated:
                found.append((number, dotted, value))
    return found


def test_a_stated_baseline_value_is_read_from_its_cell():
    doc = (
        "| key | unit | baseline |\n|---|---|---|\n| `a.b` | days | 45 |\n"
        "| `a.c` | | null (from the ratio) |\n| `a.d` | | `0.1 + x` |\n\n"
        "| key | unit | one | two |\n|---|---|---|---|\n| `k.<kind>.x` | | 1 | 2.5 |\n"
    )
    assert documented_baseline_values(doc) == [
        (3, "a.b", 45.0),
        (4, "a.c", None),
        (9, "k.one.x", 1.0),
        (9, "k.two.x", 2.5),
    ]


def test_the_key_tables_give_the_baselines_values():
    """Every value a key table of MODEL.md gives for the baseline is the one
    scenarios/baseline.yaml holds, so a calibrated value cannot leave the doc behind."""
    from sim.scenario import load_scenario

    data = load_scenario(BASELINE).config.model_dump()
    wrong = []
    for line, dotted, value in documented_baseline_values(_doc()):
        try:
            actual = _lookup(data, dotted)
        except KeyError:
            continue  # sections absent from the baseline (sweep:) document their defaults
        if isinstance(actual, bool) or actual is None or value is None or isinstance(value, bool):
            same = actual == value
        elif isinstance(actual, int | float):
            same = abs(float(actual) - value) <= 1e-9 * max(1.0, abs(value))
        else:
            continue
        if not same:
            wrong.append(f"line {line}: `{dotted}` documented {value}, baseline {actual}")
    assert not wrong, "docs/MODEL.md disagrees with the baseline:\n  " + "\n  ".join(wrong)
