"""Targets: figures outside the model that a run should reproduce, each with its source and
how far to trust it.

A targets file (``targets/*.yaml``) lists targets. Each is a named *expression* over a run's
metrics, the target *value* and the *band* it should fall in, the *scenario* it applies to
(and how many days to run it), its *source* and a reliability *grade*:

* ``official``: a report by the platform or a regulator (weight 1.0);
* ``press``: the press citing insiders or official data (0.6);
* ``industry``: an industry report (0.4);
* ``blog``: a blog or an aggregator (0.2).

An expression is arithmetic (``+ - * / **``, parentheses, numbers) over variable names:

* ``<metric>``: the metric's whole-run value (``summary.csv``; after the warm-up, if any);
* ``<metric>__first<N>`` and ``<metric>__last<N>``: the same over the first or last ``N`` days
  (a flow summed, a level averaged, a stock at its last day, a ratio recomputed), so growth is
  ``x__last30 / x__first30``.

Scale-dependent figures are matched as ratios or per consumer: the model's market is smaller
than the platform's, so totals are compared only through ratios of totals of the same run
(a funnel's rungs, shares of GMV, payouts per penalty).

A target whose expression names a metric this version of the model does not have is listed as
*not measurable* (with the names it lacks) and left out of the distance, rather than failing
the file: target files outlive model versions.

The distance of a run to a target file is the weighted mean of squared relative misses:
``sum_t w_t d_t^2 / sum_t w_t`` with ``d_t = 0`` inside the band, else the distance to the
nearer edge over ``max(|value|, band width)``, and ``d_t = 1`` when the figure is not a number.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from ruamel.yaml import YAML

from sim.metrics import REGISTRY, summarize
from sim.scenario import MAX_FILE_BYTES, Problem, ScenarioError

GRADES: dict[str, float] = {"official": 1.0, "press": 0.6, "industry": 0.4, "blog": 0.2}
"""Reliability grade -> weight in the distance."""
WINDOW = re.compile(r"^(?P<metric>.+)__(?P<side>first|last)(?P<days>\d+)$")


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(description="Short name of the target.", pattern=r"^[a-z0-9_]{1,64}$")
    expression: str = Field(description="Arithmetic over metric names (see sim.targets).")
    value: float = Field(description="The figure the source gives.")
    band: list[float] = Field(
        description="[low, high]: what counts as a match.", min_length=2, max_length=2
    )
    scenario: str = Field(
        "baseline.yaml", description="Scenario (under scenarios/) the target applies to."
    )
    days: int | None = Field(
        None, ge=1, le=100_000, description="Days to run it (default: its own)."
    )
    source: str = Field(description="Where the figure comes from.")
    grade: Literal["official", "press", "industry", "blog"] = Field(
        description="How far to trust the source."
    )
    note: str = Field("", description="How the figure is matched, and caveats.")

    @model_validator(mode="after")
    def _band_holds_value(self) -> Target:
        low, high = self.band
        if not low <= high:
            raise ValueError(f"band [{low}, {high}] is empty")
        parse_expression(self.expression)
        return self

    @property
    def weight(self) -> float:
        return GRADES[self.grade]


class TargetFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    description: str
    targets: list[Target] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> TargetFile:
        names = [t.name for t in self.targets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"target names given twice: {twice}")
        return self


ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load, ast.Constant)
ALLOWED_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)


def parse_expression(expression: str) -> list[str]:
    """The variable names of an expression; ValueError unless it is plain arithmetic."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an expression: {expression!r} ({exc.msg})") from None
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.operator | ast.unaryop):
            if not isinstance(node, ALLOWED_OPS):
                raise ValueError(f"operator {type(node).__name__} not allowed in {expression!r}")
        elif not isinstance(node, ALLOWED):
            raise ValueError(
                f"only + - * / **, numbers and metric names are allowed in {expression!r}"
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ValueError(f"only numbers are allowed as constants in {expression!r}")
        if isinstance(node, ast.Name):
            names.append(node.id)
    return names


def metric_of(name: str) -> str:
    """The metric a variable name refers to (``x__last30`` -> ``x``)."""
    match = WINDOW.match(name)
    return match["metric"] if match else name


def missing_metrics(target: Target) -> list[str]:
    """The metrics the expression names that the model does not have."""
    return sorted({metric_of(n) for n in parse_expression(target.expression)} - set(REGISTRY))


def variables(wide: pd.DataFrame, names: list[str]) -> dict[str, float]:
    """The values of ``names`` for one run's wide table (one row per counted day)."""
    whole = summarize(wide)
    out = {}
    for name in names:
        match = WINDOW.match(name)
        if match is None:
            out[name] = whole.get(name, math.nan)
            continue
        days = int(match["days"])
        part = wide.iloc[:days] if match["side"] == "first" else wide.iloc[-days:]
        out[name] = summarize(part).get(match["metric"], math.nan)
    return out


def evaluate(target: Target, wide: pd.DataFrame) -> float:
    """The target's figure in one run."""
    names = parse_expression(target.expression)
    with_values = variables(wide, names)
    try:
        value = pd.eval(target.expression, local_dict=with_values, engine="python")
    except ZeroDivisionError:
        return math.nan
    value = float(value)
    return value if math.isfinite(value) else math.nan


def miss(target: Target, figure: float) -> float:
    """``d_t``: 0 in the band, else the relative distance to its nearer edge; 1 if NaN."""
    if not math.isfinite(figure):
        return 1.0
    low, high = target.band
    if low <= figure <= high:
        return 0.0
    scale = max(abs(target.value), high - low, 1e-12)
    return min(abs(figure - low), abs(figure - high)) / scale


def distance(targets: list[Target], figures: dict[str, float]) -> float:
    """The weighted mean squared miss over the measurable targets (those in ``figures``)."""
    measured = [t for t in targets if t.name in figures]
    if not measured:
        return math.nan
    total = sum(t.weight for t in measured)
    return sum(t.weight * miss(t, figures[t.name]) ** 2 for t in measured) / total


def load_targets(path: str | Path) -> TargetFile:
    """Read and validate a targets file; raise ScenarioError listing every problem."""
    path = Path(path)
    source = str(path)
    try:
        size = path.stat().st_size
        if not path.is_file() or size > MAX_FILE_BYTES:
            raise ScenarioError(
                source,
                [Problem(source, "", f"not a targets file of at most {MAX_FILE_BYTES} bytes")],
            )
        text = path.read_text(encoding="utf-8")
        tree = YAML(typ="rt", pure=True).load(text)
        data = YAML(typ="safe", pure=True).load(text)
    except ScenarioError:
        raise
    except Exception as exc:  # unreadable or not YAML: bad input
        raise ScenarioError(source, [Problem(source, "", f"cannot be read: {exc}")]) from None
    try:
        return TargetFile.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(_line(tree, e["loc"], source), ".".join(str(p) for p in e["loc"]), e["msg"])
            for e in exc.errors()
        ]
        raise ScenarioError(source, problems) from None


def _line(tree, loc: tuple, source: str) -> str:
    """``file:line`` of the deepest node of ``loc`` found in the round-trip YAML tree."""
    line, node = None, tree
    for part in loc:
        try:
            if isinstance(part, int) and hasattr(node, "lc") and isinstance(node, list):
                line = node.lc.item(part)[0]
            elif hasattr(node, "lc") and part in node:
                line = node.lc.key(part)[0]
            else:
                break
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return f"{source}:{line + 1}" if line is not None else source
