"""Reading scenario files: YAML -> merged plain data -> validated :class:`~sim.config.Scenario`.

A scenario file may name a base file with ``extends: other.yaml`` (relative to itself); the base
is read first and the file's keys override it (mappings merge key by key, lists and scalars are
replaced). ``--set a.b.c=value`` overrides come last; each value is parsed as YAML.

Every key remembers where it was last written (file and line, or the ``--set`` that wrote it),
so that a problem found by validation can be reported by key path *and* place. All problems are
collected and raised together as one :class:`ScenarioError`.

ruamel.yaml reads YAML 1.2: ``NO`` stays a string, and a duplicated key is an error rather than
silently keeping the last value.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import io
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    MappingEndEvent,
    ScalarEvent,
    SequenceEndEvent,
)
from ruamel.yaml.nodes import MappingNode, SequenceNode

from sim.config import Scenario
from sim.metrics import REGISTRY

Path_ = tuple[str | int, ...]
"""A key path inside the scenario: mapping keys and list indices."""

EXTENDS_KEY = "extends"

SHIPPED_SCENARIOS = (Path(__file__).resolve().parent / "scenarios").resolve()
"""The scenarios that ship with zhongcao; any scenario may extend them. Package data
(``sim/scenarios``): in the source tree a link to the repository's ``scenarios/``, in a wheel
the files themselves."""

MAX_FILE_BYTES = 1 << 20
"""Largest scenario file read (1 MiB; the baseline, which holds every key, is about 12 KiB)."""
MAX_DEPTH = 32
"""Deepest nesting of mappings and lists in a scenario file (the schema needs 6)."""
MAX_NODES = 100_000
"""Most values a scenario file may hold once its aliases are expanded (the baseline has
about 1,000), so that an alias bomb is refused instead of expanded."""
MAX_EXTENDS = 16
"""Longest chain of ``extends`` files."""
ALLOWED_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "merge")
)
"""Explicit YAML tags a scenario may use: the core schema's, never ``!!python/...`` or local
``!tags``."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where, which key, and what."""

    where: str
    """``file:line`` or ``--set key=value``."""
    key: str
    """Dotted key path (``population.consumers``); empty for the file as a whole."""
    message: str

    def __str__(self) -> str:
        text = (
            f"{self.where}: {self.key}: {self.message}"
            if self.key
            else f"{self.where}: {self.message}"
        )
        return printable(text)


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on (line breaks, escape sequences,
    NUL) written as a Python escape, so a scenario cannot move the cursor or forge lines."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class ScenarioError(Exception):
    """A scenario cannot be used; carries every problem found."""

    def __init__(self, source: str, problems: Sequence[Problem]):
        self.source = source
        self.problems = list(problems)
        super().__init__(self.render())

    def __reduce__(self):
        # Raised in a worker process, the error crosses back by pickle; the default would call
        # __init__ with the message alone and break the pool instead of reporting the problems.
        return (type(self), (self.source, self.problems))

    def render(self) -> str:
        n = len(self.problems)
        lines = [printable(f"{self.source}: {n} problem{'s' if n != 1 else ''}")]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and the plain data it was built from."""

    config: Scenario
    resolved: dict[str, Any]
    """The resolved scenario as plain data (what a run folder's ``config.yaml`` holds)."""
    files: tuple[Path, ...]
    """The files read, base first."""

    @property
    def sha256(self) -> str:
        return config_sha256(self.resolved)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


def _duplicate_keys(text: str, where: str) -> list[Problem]:
    """Every duplicated mapping key in a YAML text (ruamel stops at the first)."""
    problems: list[Problem] = []

    def walk(node, path: list[str]) -> None:
        if isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                line = key_node.start_mark.line + 1
                if key in seen:
                    problems.append(
                        Problem(
                            f"{where}:{line}",
                            ".".join([*path, key]),
                            f"duplicate key (first written on line {seen[key]})",
                        )
                    )
                else:
                    seen[key] = line
                walk(value_node, [*path, key])
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, [*path, str(i)])

    walk(YAML(typ="rt").compose(text), [])
    return problems


def _check_structure(text: str, where: str) -> None:
    """Refuse, before anything is built from it, a YAML text nested deeper than
    :data:`MAX_DEPTH`, holding more than :data:`MAX_NODES` values once its aliases are expanded
    (an alias bomb: a few hundred bytes that expand to billions of values), or using a tag
    outside :data:`ALLOWED_TAGS`. Scans the parser's events once, in time linear in the
    text. Raises ScenarioError; lets ruamel's own syntax errors through."""
    expanded = 0
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (values, depth) of what it names
    stack: list[tuple[int, str | None, int]] = []  # (expanded at start, anchor, deepest)

    def fail(event: Any, message: str) -> None:
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        raise ScenarioError(where, [Problem(f"{where}:{line}", "", message)])

    def reach(event: Any, depth: int) -> None:
        if stack:
            start, anchor, deepest = stack[-1]
            stack[-1] = (start, anchor, max(deepest, depth))
        if depth > MAX_DEPTH:
            fail(event, f"nested more than {MAX_DEPTH} levels deep")
        if expanded > MAX_NODES:
            fail(event, f"holds more than {MAX_NODES:,} values once its aliases are expanded")

    for event in _yaml().parse(text):
        tag = getattr(event, "tag", None)
        if tag is not None and str(tag) not in ALLOWED_TAGS:
            fail(event, f"tag {str(tag)!r} is not allowed in a scenario (only plain YAML values)")
        if isinstance(event, ScalarEvent):
            expanded += 1
            if event.anchor is not None:
                anchors[event.anchor] = (1, 0)
            reach(event, len(stack))
        elif isinstance(event, AliasEvent):
            size, below = anchors.get(event.anchor, (1, 0))
            expanded += size
            reach(event, len(stack) + below)
        elif isinstance(event, CollectionStartEvent):
            expanded += 1
            stack.append((expanded, event.anchor, len(stack) + 1))
            reach(event, len(stack))
        elif isinstance(event, SequenceEndEvent | MappingEndEvent):
            start, anchor, deepest = stack.pop()
            if anchor is not None:
                anchors[anchor] = (expanded - start + 1, deepest - len(stack))
            reach(event, deepest)


def _to_plain(node: Any, where: str, path: Path_, origins: dict[Path_, str]) -> Any:
    """Convert ruamel's round-trip containers to dicts and lists, recording each key's line
    (a key brought in by a merge key ``<<: *anchor`` gets the line of its mapping)."""
    if isinstance(node, CommentedMap):
        out = {}
        for key in node:
            lines = node.lc.data or {}
            line = (lines[key][0] if key in lines else node.lc.line or 0) + 1
            origins[(*path, str(key))] = f"{where}:{line}"
            out[str(key)] = _to_plain(node[key], where, (*path, str(key)), origins)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, item in enumerate(node):
            line = node.lc.item(i)[0] + 1
            origins[(*path, i)] = f"{where}:{line}"
            out_list.append(_to_plain(item, where, (*path, i), origins))
        return out_list
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _read_file(path: Path) -> tuple[dict[str, Any], dict[Path_, str], list[Problem]]:
    """One file as plain data, the origin of every key, and the problems that do not stop
    reading (a duplicated key: the first value is kept and reading goes on). Raises
    ScenarioError when the file cannot be read at all."""
    where = _display(path)
    if not path.exists():
        raise ScenarioError(where, [Problem(where, "", "file not found")])
    if path.is_dir():
        raise ScenarioError(where, [Problem(where, "", "is a folder, not a scenario file")])
    try:
        with open(path, "rb") as stream:  # bounded: /dev/zero or a huge file is not read in full
            raw = stream.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            message = f"is larger than {MAX_FILE_BYTES // 2**20} MiB; a scenario is a small text"
            raise ScenarioError(where, [Problem(where, "", message)])
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(where, [Problem(where, "", f"cannot be read: {exc}")]) from None
    try:
        _check_structure(text, where)
        duplicates = _duplicate_keys(text, where)
        yaml = _yaml()
        yaml.allow_duplicate_keys = True  # already reported; read on to find other problems
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = " ".join(x for x in (exc.context, exc.problem) if x) or str(exc)
        raise ScenarioError(
            where, [Problem(f"{where}{line}", "", f"not valid YAML: {problem}")]
        ) from None
    if node is None:
        node = CommentedMap()
    if not isinstance(node, CommentedMap):
        raise ScenarioError(
            where, [Problem(f"{where}:1", "", "a scenario must be a mapping of keys to values")]
        )
    known = {*Scenario.model_fields, EXTENDS_KEY}
    if node and not known.intersection(str(key) for key in node):
        message = (
            "is not a scenario file: none of its top-level keys is a scenario key "
            "(its contents are not shown)"
        )
        raise ScenarioError(where, [Problem(where, "", message)])
    origins: dict[Path_, str] = {}
    return _to_plain(node, where, (), origins), origins, duplicates


WHOLE_BLOCKS = {("calibrate",), ("sweep",)}
"""Blocks a scenario replaces whole rather than key by key: a calibration's free parameters
and a sweep's design are the scenario's own, not the union of its bases'."""


def _merge(base: Any, top: Any, base_origins: dict, path: Path_) -> Any:
    """Overlay ``top`` on ``base``: mappings key by key (except :data:`WHOLE_BLOCKS`),
    anything else replaced."""
    if isinstance(base, dict) and isinstance(top, dict) and path not in WHOLE_BLOCKS:
        out = dict(base)
        for key, value in top.items():
            out[key] = _merge(base.get(key), value, base_origins, (*path, key))
        return out
    # Replaced: forget the base's origins below this path, take the top's.
    for p in [p for p in base_origins if p[: len(path)] == path and len(p) > len(path)]:
        del base_origins[p]
    return top


def read_layers(
    path: Path, _chain: tuple[Path, ...] = (), *, allow_outside: bool = False
) -> tuple[dict, dict[Path_, str], tuple[Path, ...], list[Problem]]:
    """Read a scenario file and the files it extends.

    A base file must lie in the folder of the scenario named on the command line (or below
    it) or among the shipped scenarios (:data:`SHIPPED_SCENARIOS`), unless ``allow_outside``:
    a scenario received from someone else cannot make the loader read, and report on, any
    other file of the machine. A chain holds at most :data:`MAX_EXTENDS` files.

    Returns the merged data, the origin of every key, the files read (base first) and the
    problems found that did not stop the reading. Raises ScenarioError when a file cannot be
    read.
    """
    path = Path(path)
    resolved = path.resolve()
    if resolved in _chain:
        cycle = " -> ".join(_display(p) for p in (*_chain, resolved))
        problem = Problem(_display(path), EXTENDS_KEY, f"extends itself: {cycle}")
        raise ScenarioError(_display(path), [problem])
    data, origins, problems = _read_file(path)
    base_name = data.pop(EXTENDS_KEY, None)
    extends_where = origins.pop((EXTENDS_KEY,), _display(path))
    if base_name is None:
        return data, origins, (path,), problems
    if not isinstance(base_name, str) or not base_name.strip():
        problems.append(Problem(extends_where, EXTENDS_KEY, "must be the name of a scenario file"))
        return data, origins, (path,), problems
    chain = (*_chain, resolved)
    if len(chain) >= MAX_EXTENDS:
        message = f"a chain of extends may hold at most {MAX_EXTENDS} files"
        raise ScenarioError(
            _display(path), [*problems, Problem(extends_where, EXTENDS_KEY, message)]
        )
    base_path = path.parent / base_name
    roots = (chain[0].parent, SHIPPED_SCENARIOS)
    if not allow_outside and not any(base_path.resolve().is_relative_to(r) for r in roots):
        message = (
            f"base file {printable(base_name)!r} is outside the scenario's folder "
            f"({_display(chain[0].parent)}) and the shipped scenarios; it was not read "
            "(--allow-outside reads it)"
        )
        raise ScenarioError(
            _display(path), [*problems, Problem(extends_where, EXTENDS_KEY, message)]
        )
    if not base_path.is_file():
        missing = Problem(extends_where, EXTENDS_KEY, f"base file {_display(base_path)} not found")
        raise ScenarioError(_display(path), [*problems, missing])
    base, base_origins, files, base_problems = read_layers(
        base_path, chain, allow_outside=allow_outside
    )
    merged = _merge(base, data, base_origins, ())
    base_origins.update(origins)
    return merged, base_origins, (*files, path), base_problems + problems


# --------------------------------------------------------------------------------------------
# Overrides
# --------------------------------------------------------------------------------------------


def parse_value(text: str) -> Any:
    """Parse one override value as YAML (``5000`` -> int, ``true`` -> bool, ``[a, b]`` -> list)."""
    if text.strip() == "":
        return ""
    node = _yaml().load(text)
    return _to_plain(node, "", (), {})


def parse_set(item: str) -> tuple[str, Any]:
    """Split ``a.b.c=value`` into the dotted key and the parsed value; raise a
    one-problem ScenarioError when it is malformed."""
    key, sep, value = item.partition("=")
    where = f"--set {item}"
    if not sep or not key.strip():
        problem = Problem(where, "", "expected KEY=VALUE, e.g. population.consumers=5000")
        raise ScenarioError("--set", [problem])
    try:
        _check_structure(value, where)
        return key.strip(), parse_value(value)
    except ScenarioError as exc:
        raise ScenarioError(
            "--set", [Problem(where, key.strip(), exc.problems[0].message)]
        ) from None
    except MarkedYAMLError as exc:
        problem = Problem(where, key.strip(), f"value is not valid YAML: {exc.problem}")
        raise ScenarioError("--set", [problem]) from None


def parse_sets(items: Sequence[str]) -> tuple[list[tuple[str, Any, str]], list[Problem]]:
    """Parse every ``--set``; return the good ones as (key, value, where) and all problems."""
    parsed, problems = [], []
    for item in items:
        try:
            parsed.append((*parse_set(item), f"--set {item}"))
        except ScenarioError as exc:
            problems += exc.problems
    return parsed, problems


def _key_parts(dotted: str) -> Path_:
    return tuple(int(p) if p.isdigit() else p for p in dotted.split("."))


def apply_overrides(
    data: dict, origins: dict[Path_, str], overrides: Iterable[tuple[str, Any, str]]
) -> tuple[dict, list[Problem]]:
    """Apply ``(dotted key, value, where)`` overrides to a copy of ``data``.

    A key whose parent does not exist or is not a mapping/list is a problem (reported, not
    applied); a new leaf key is applied so that validation reports it as unknown with a
    "did you mean".
    """
    data = copy.deepcopy(data)
    problems: list[Problem] = []
    for dotted, value, where in overrides:
        parts = _key_parts(dotted)
        node: Any = data
        ok = True
        for depth, part in enumerate(parts[:-1]):
            in_dict = isinstance(node, dict) and part in node
            in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
            if in_dict or in_list:
                node = node[part]
            else:
                shown = ".".join(str(p) for p in parts[: depth + 1])
                hint = _did_you_mean(part, node.keys()) if isinstance(node, dict) else ""
                problems.append(Problem(where, dotted, f"no such key {shown!r}{hint}"))
                ok = False
                break
        if not ok:
            continue
        leaf = parts[-1]
        if isinstance(node, dict):
            node[str(leaf)] = value
        elif isinstance(node, list) and isinstance(leaf, int) and leaf < len(node):
            node[leaf] = value
        else:
            problems.append(Problem(where, dotted, "the parent of this key is not a mapping"))
            continue
        for p in [p for p in origins if p[: len(parts)] == parts]:
            del origins[p]
        origins[parts] = where
    return data, problems


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _union_members(tp: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return tuple(_unwrap(a) for a in typing.get_args(tp))
    return ()


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("kind")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if args else None


def _walk_loc(loc: tuple) -> tuple[Path_, type[BaseModel] | None]:
    """Turn a pydantic error location into a YAML key path and the model holding its last key.

    Pydantic puts the tag of a discriminated union into the location (``recommender,
    interest_only, temperature``) and marks dict-key errors with ``[key]``; neither is a YAML
    key.
    """
    tp: Any = Scenario
    yaml_path: list[str | int] = []
    parent_model: type[BaseModel] | None = None
    for part in loc:
        if part == "[key]":
            continue
        tp = _unwrap(tp)
        members = _union_members(tp)
        if members:
            tagged = {
                _tag_of(m): m for m in members if isinstance(m, type) and issubclass(m, BaseModel)
            }
            if part in tagged:
                tp = tagged[part]
                continue
            tp = next((m for m in members if m is not type(None)), Any)
            tp = _unwrap(tp)
        yaml_path.append(part)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            parent_model = tp
            field = tp.model_fields.get(str(part))
            tp = field.annotation if field is not None else Any
        elif typing.get_origin(tp) is dict:
            parent_model = None
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) is list:
            parent_model = None
            tp = typing.get_args(tp)[0]
        else:
            parent_model = None
            tp = Any
    return tuple(yaml_path), parent_model


def _did_you_mean(word: Any, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _where(path: Path_, origins: Mapping[Path_, str], fallback: str) -> str:
    """The place a key was written; for a missing key, the place of its closest parent."""
    for n in range(len(path), 0, -1):
        if path[:n] in origins:
            return origins[path[:n]]
    return fallback


def _describe(error: dict, path: Path_, model: type[BaseModel] | None) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        hint = _did_you_mean(path[-1], model.model_fields) if model is not None else ""
        return f"unknown key{hint}"
    if kind == "missing":
        return "required key is missing"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind not in ("union_tag_invalid", "union_tag_not_found", "value_error") and "input" in error:
        given = error["input"]
        if not isinstance(given, dict | list):
            message += f" (got {given!r})"
    return message


def _line_of(where: str) -> tuple[str, int]:
    file, _, line = where.rpartition(":")
    if file and line.isdigit():
        return file, int(line)
    return where, 0


def validate(data: dict, origins: Mapping[Path_, str], source: str) -> Scenario:
    """Validate merged data; raise one ScenarioError listing every problem."""
    categories = (
        data.get("market", {}).get("categories") if isinstance(data.get("market"), dict) else None
    )
    context: dict[str, Any] = {"metric_names": set(REGISTRY)}
    if isinstance(categories, dict):
        context["categories"] = set(categories)
    try:
        return Scenario.model_validate(data, context=context)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            path, model = _walk_loc(error["loc"])
            if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
                path = (*path, "kind")
            key = ".".join(str(p) for p in path)
            problems.append(
                Problem(_where(path, origins, source), key, _describe(error, path, model))
            )
        problems.sort(key=lambda p: (*_line_of(p.where), p.key))
        raise ScenarioError(source, problems) from None


def load_scenario(
    path: str | Path, overrides: Sequence[str] = (), *, allow_outside: bool = False
) -> LoadedScenario:
    """Read, merge, override and validate a scenario file (``allow_outside``: see
    :func:`read_layers`).

    Raises :class:`ScenarioError` with every problem found.
    """
    path = Path(path)
    data, origins, files, problems = read_layers(path, allow_outside=allow_outside)
    parsed, set_problems = parse_sets(overrides)
    data, override_problems = apply_overrides(data, origins, parsed)
    problems += set_problems + override_problems
    source = _display(path)
    try:
        config = validate(data, origins, source)
    except ScenarioError as exc:
        problems += exc.problems
    if problems:
        problems.sort(key=lambda p: (*_line_of(p.where), p.key))
        raise ScenarioError(source, problems)
    return LoadedScenario(config=config, resolved=config.model_dump(mode="json"), files=files)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def config_sha256(resolved: Mapping[str, Any]) -> str:
    """Hash of a resolved scenario: sha256 of its canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(resolved, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dump_yaml(data: Mapping[str, Any]) -> str:
    """Plain data as block-style YAML text."""
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 100
    buffer = io.StringIO()
    yaml.dump(_commented(data), buffer)
    return buffer.getvalue()


def _commented(node: Any) -> Any:
    if isinstance(node, Mapping):
        out = CommentedMap()
        for key, value in node.items():
            out[key] = _commented(value)
        return out
    if isinstance(node, list | tuple):
        return CommentedSeq(_commented(v) for v in node)
    return node


# --------------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------------

POLICIES_KEY = "policies"
UNPAIRED_KEYS = ("seed", "policies")
"""Keys a policy may not set: the seed pairs runs across policies; policies do not nest."""
DEFAULT_POLICY = "default"
_POLICY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def load_policies(
    path: str | Path,
    overrides: Sequence[str] = (),
    names: Sequence[str] = (),
    *,
    allow_outside: bool = False,
) -> dict[str, LoadedScenario]:
    """Each policy of a scenario (all, or those ``names``) as a scenario of its own.

    A policy's dotted overrides are applied on top of the file and its ``--set`` overrides,
    and its ``policies`` section is emptied. A scenario without policies gives one,
    ``"default"``. An unknown ``--policy`` name is reported first; otherwise every problem of
    every policy (a key that is not in the scenario, a value that makes the scenario invalid,
    a key a policy may not set) is raised together.
    """
    base = load_scenario(path, overrides, allow_outside=allow_outside)
    source = _display(Path(path))
    policies = base.resolved[POLICIES_KEY]
    data, origins, _, _ = read_layers(Path(path), allow_outside=allow_outside)
    parsed, _ = parse_sets(overrides)
    data, _ = apply_overrides(data, origins, parsed)
    problems: list[Problem] = []
    if names:
        for name in names:
            if name not in policies and not (not policies and name == DEFAULT_POLICY):
                known = ", ".join(policies) or DEFAULT_POLICY
                hint = _did_you_mean(name, policies)
                problems.append(Problem("--policy", name, f"unknown policy{hint} (known: {known})"))
        chosen = list(dict.fromkeys(names))
    else:
        chosen = list(policies) or [DEFAULT_POLICY]
    if problems:
        raise ScenarioError(source, problems)
    if not policies:
        return {DEFAULT_POLICY: base}

    loaded: dict[str, LoadedScenario] = {}
    for name in chosen:
        where_policy = origins.get((POLICIES_KEY, name), source)
        if not _POLICY_NAME.match(name):
            message = "a policy name may hold letters, digits, '_', '-' and '.' (it names a folder)"
            problems.append(Problem(where_policy, f"{POLICIES_KEY}.{name}", message))
            continue
        entries = policies[name]
        policy_origins = dict(origins)
        pinned = [key for key in entries if key.split(".")[0] in UNPAIRED_KEYS]
        for key in pinned:
            where = policy_origins.get((POLICIES_KEY, name, key), where_policy)
            message = (
                f"in policy {name!r}: a policy cannot set {key!r}: runs are paired by seed "
                "index across policies (common random numbers)"
            )
            problems.append(Problem(where, key, message))
        if pinned:
            continue
        items = [
            (key, value, policy_origins.get((POLICIES_KEY, name, key), where_policy))
            for key, value in entries.items()
        ]
        policy_data = copy.deepcopy(data)
        policy_data[POLICIES_KEY] = {}
        policy_data, policy_problems = apply_overrides(policy_data, policy_origins, items)
        try:
            config = validate(policy_data, policy_origins, source)
        except ScenarioError as exc:
            policy_problems += exc.problems
        if policy_problems:
            problems += [
                Problem(p.where, p.key, f"in policy {name!r}: {p.message}") for p in policy_problems
            ]
            continue
        loaded[name] = LoadedScenario(config, config.model_dump(mode="json"), base.files)
    if problems:
        problems.sort(key=lambda p: (*_line_of(p.where), p.key))
        raise ScenarioError(source, problems)
    return loaded
