"""Studies: comparisons and sweeps, in one resumable folder, on any executor.

A study runs *variants* of a scenario — the policies of ``compare``, the design points of
``sweep`` — each at seed indices 0..K-1. Run ``i`` of every variant starts from
``SeedSequence(scenario seed, spawn_key=(i,))`` (:func:`sim.rng.run_seed`): seed index ``i``
gives every variant the same initial market and the same luck (common random numbers). A run
is a pure function of its resolved scenario and seed index (:func:`execute_run`), so results
are the same on every executor (:mod:`sim.executors`) and for any number of workers.

The study folder::

    study.json              the plan, written first: kind, variants and their parameter
                            values, seed indices, and the fingerprint (below)
    design.csv              (sweep) the design SALib drew: one row per point, one column per key
    runs/<variant>/seed<i>/ one complete run folder per finished run, renamed into place the
                            moment it is written (see :mod:`sim.runner`)
    runs/<variant>/seed<i>.failed.json   a run that failed: its error
    summary.csv             a row per run: variant, seed_index, status, error, wall_time_s,
                            each parameter's value and every metric's whole-run value
    config.yaml, figures/, the tables of a comparison (sim.compare) or a sweep, and
    run.json                written last, when every run is done

It is built under ``.<name>.partial``. When the study is interrupted or fails (Ctrl-C,
SIGTERM, an error) its in-flight runs are stopped and the folder is renamed
``<name>.interrupted``, keeping every finished run (when no run had finished, it is removed);
a hard kill leaves the ``.partial`` folder. Either can be resumed: ``--resume FOLDER`` checks
that the study asked for has the same *fingerprint* — a hash of the resolved scenario (after
``extends``, ``--set`` and the command's options), of the design (every variant's resolved
scenario, its parameters and the seed indices) and of the code (the simulator's source and
the versions of the libraries the numbers depend on) — skips the finished runs and runs the
rest, failed ones included. A complete study with failed runs can be resumed too.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.design import Design, make_design, point_names
from sim.io import (
    OWNER_FILE,
    Reservation,
    StudyError,
    _owner_alive,
    _process_start,
    finish_folder,
    fsync_path,
    partial_name,
    reserve_folder,
    write_csv,
    write_json,
    write_text,
)
from sim.provenance import git_state
from sim.runner import package_versions, simulate, timestamp, write_run_folder
from sim.scenario import (
    POLICIES_KEY,
    LoadedScenario,
    Problem,
    ScenarioError,
    _display,
    _line_of,
    apply_overrides,
    dump_yaml,
    parse_sets,
    read_layers,
    validate,
)

STUDY_FILE = "study.json"
INTERRUPTED_SUFFIX = ".interrupted"
FAILED_SUFFIX = ".failed.json"
SWEEP_KEY = "sweep"
NUMERIC_PACKAGES = ("numpy", "numba", "scipy", "pandas", "mesa", "networkx", "SALib")
"""Libraries whose versions the numbers of a run may depend on (part of the fingerprint)."""


# --------------------------------------------------------------------------------------------
# The plan: variants x seed indices
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    loaded: LoadedScenario
    parameters: dict[str, Any]
    """The values of the study's parameters in this variant (dotted key -> value)."""


@dataclass(frozen=True)
class StudyPlan:
    kind: str
    """``comparison`` or ``sweep``."""
    base: LoadedScenario
    variants: tuple[Variant, ...]
    seed_indices: tuple[int, ...]
    id_column: str
    """How summary.csv names the variant: ``policy`` or ``point``."""
    design: Design | None = None

    @property
    def parameter_keys(self) -> list[str]:
        keys: dict[str, None] = {}
        for variant in self.variants:
            keys.update(dict.fromkeys(variant.parameters))
        return list(keys)

    def runs(self) -> list[tuple[Variant, int]]:
        """Seed-major: every variant progresses together."""
        return [(v, i) for i in self.seed_indices for v in self.variants]

    @property
    def fingerprint(self) -> dict[str, str]:
        design = {
            "kind": self.kind,
            "seed_indices": list(self.seed_indices),
            "variants": [[v.name, v.parameters, v.loaded.sha256] for v in self.variants],
        }
        parts = {
            "scenario": self.base.sha256,
            "design": _sha256(design),
            "code": _sha256(code_version()),
        }
        return {"study": _sha256(parts), **parts}

    @property
    def study_id(self) -> str:
        return self.fingerprint["study"][:12]


def _sha256(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def code_version() -> dict[str, str]:
    """The simulator's version, a hash of its source files and the versions of the numeric
    libraries: a study resumed with other code could not give the same numbers."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    versions = {"python": platform.python_version(), "source_sha256": digest.hexdigest()}
    for name in ("zhongcao", *NUMERIC_PACKAGES):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _get(data: Mapping, dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return None
    return node


def comparison_plan(
    base: LoadedScenario, policies: Mapping[str, LoadedScenario], seeds: int
) -> StudyPlan:
    """The plan of ``compare``: each policy with the values of every key any policy sets."""
    declared = base.resolved.get(POLICIES_KEY, {})
    keys = list(dict.fromkeys(k for name in policies for k in declared.get(name, {})))
    variants = tuple(
        Variant(name, loaded, {k: _get(loaded.resolved, k) for k in keys})
        for name, loaded in policies.items()
    )
    return StudyPlan("comparison", base, variants, tuple(range(seeds)), "policy")


def load_variants(
    path: Path,
    overrides: Sequence[str],
    variants: Mapping[str, Mapping[str, Any]],
    where: Mapping[str, str],
    *,
    label: str,
    allow_outside: bool = False,
) -> dict[str, LoadedScenario]:
    """Each variant (name -> dotted key -> value) applied on top of the scenario file and its
    ``--set`` overrides, with ``policies`` and ``sweep`` emptied, and validated. Every problem
    of every variant is raised together as one ScenarioError; a problem shared by many
    variants is listed once, with how many share it. ``where`` gives the place (file:line) of
    each key's definition, for the report."""
    source = _display(Path(path))
    data, origins, _, _ = read_layers(Path(path), allow_outside=allow_outside)
    parsed, _ = parse_sets(overrides)
    data, _ = apply_overrides(data, origins, parsed)
    data[POLICIES_KEY] = {}
    data.pop(SWEEP_KEY, None)
    loaded: dict[str, LoadedScenario] = {}
    found: dict[tuple[str, str, str], list[str]] = {}
    for name, entries in variants.items():
        variant_origins = dict(origins)
        items = [(key, value, where.get(key, source)) for key, value in entries.items()]
        variant_data, problems = apply_overrides(copy.deepcopy(data), variant_origins, items)
        try:
            config = validate(variant_data, variant_origins, source)
        except ScenarioError as exc:
            problems += exc.problems
        if problems:
            for p in problems:
                found.setdefault((p.where, p.key, p.message), []).append(name)
            continue
        loaded[name] = LoadedScenario(config, config.model_dump(mode="json"), ())
    if found:
        problems = []
        for (where_, key, message), names in found.items():
            if label == SWEEP_KEY:  # each end of a range, each level: once per key
                text = f"in the sweep, at {names[0]}: {message}"
            else:
                many = f" ({len(names)} {label}s, first {names[0]})" if len(names) > 1 else ""
                text = f"in {label} {names[0]!r}{many}: {message}"
            problems.append(Problem(where_, key, text))
        problems.sort(key=lambda p: (*_line_of(p.where), p.key))
        raise ScenarioError(source, problems)
    return loaded


def sweep_plan(
    path: Path,
    base: LoadedScenario,
    overrides: Sequence[str],
    *,
    allow_outside: bool = False,
) -> StudyPlan:
    """The plan of ``sweep``: the design points of the scenario's ``sweep:`` block, each
    validated as a scenario of its own. Raises ScenarioError (every problem) when the block is
    missing, a key is not in the scenario, a range or level makes the scenario invalid, or a
    design point is invalid."""
    sweep = base.config.sweep
    source = _display(Path(path))
    if sweep is None:
        message = "has no sweep: block (see docs/MODEL.md, section 7: sweeps)"
        raise ScenarioError(source, [Problem(source, SWEEP_KEY, message)])
    _, origins, _, _ = read_layers(Path(path), allow_outside=allow_outside)
    parsed, _ = parse_sets(overrides)
    where: dict[str, str] = {}
    for role in ("factors", "levers"):
        for key in getattr(sweep, role):
            place = origins.get((SWEEP_KEY, role, key))
            if place is None:  # set on the command line
                place = next((w for k, _, w in parsed if k.startswith(SWEEP_KEY)), source)
            where[key] = place
    # Each end of each range, and each level, alone: a bad bound is reported once, at its key.
    probes: dict[str, dict[str, Any]] = {}
    for role in ("factors", "levers"):
        for key, spec in getattr(sweep, role).items():
            if spec.range is not None:
                for end, value in zip(("low", "high"), spec.range, strict=True):
                    current = _get(base.resolved, key)
                    if isinstance(current, int) and not isinstance(current, bool):
                        value = round(value) if spec.integer is not False else value
                    probes[f"the {end} end of its range ({value!r})"] = {key: value}
            elif spec.levels is not None:
                for level in spec.levels:
                    probes[f"its level {level!r}"] = {key: level}
    load_variants(path, overrides, probes, where, label=SWEEP_KEY, allow_outside=allow_outside)
    current = {k: _get(base.resolved, k) for k in where}
    design = make_design(sweep, current, base.config.seed)
    names = point_names(design.n_points)
    values = {name: design.point_values(row) for row, name in enumerate(names)}
    loaded = load_variants(
        path, overrides, values, where, label="design point", allow_outside=allow_outside
    )
    variants = tuple(Variant(name, loaded[name], values[name]) for name in names)
    return StudyPlan("sweep", base, variants, tuple(range(sweep.seeds)), "point", design)


# --------------------------------------------------------------------------------------------
# One run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunTask:
    """One run: a pure function of its resolved scenario and seed index, writing its folder."""

    study_id: str
    variant: str
    seed_index: int
    resolved: dict
    folder: str
    """The run folder's final path (absolute; on a cluster, on a shared filesystem)."""
    command: tuple[str, ...] = ()
    threads: int | None = None
    """Threads for the consumer kernel (None: the machine's CPUs); speed only."""
    extra: dict = field(default_factory=dict)
    """Added to the run's run.json (the policy, or the design point and its values)."""


def execute_run(task: RunTask) -> dict:
    """Simulate one run and write its run folder (under a hidden partial name, renamed when
    complete). Returns ``{status, error, wall_time_s}``; a failed simulation is returned as a
    record, never raised."""
    from sim.io import Reservation as _Reservation

    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    final = Path(task.folder)
    partial = final.parent / partial_name(final.name)
    try:
        shutil.rmtree(partial, ignore_errors=True)  # left by a run killed while writing
        config = validate(copy.deepcopy(task.resolved), {}, task.variant)
        recorder = simulate(config, task.seed_index, threads=task.threads)
        wall = time.perf_counter() - t0
        write_run_folder(
            partial,
            config,
            task.resolved,
            recorder,
            seed_index=task.seed_index,
            command=task.command,
            wall_time_s=wall,
            started_at=started,
            extra=task.extra,
        )
        finish_folder(_Reservation(partial, final))
        return {"status": "ok", "error": "", "wall_time_s": wall}
    except Exception as exc:
        shutil.rmtree(partial, ignore_errors=True)
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        return {"status": "failed", "error": message, "wall_time_s": time.perf_counter() - t0}


# --------------------------------------------------------------------------------------------
# The study folder
# --------------------------------------------------------------------------------------------


def run_folder(root: Path, variant: str, seed_index: int) -> Path:
    return root / "runs" / variant / f"seed{seed_index}"


def failed_file(root: Path, variant: str, seed_index: int) -> Path:
    return root / "runs" / variant / f"seed{seed_index}{FAILED_SUFFIX}"


def is_done(root: Path, variant: str, seed_index: int) -> bool:
    return (run_folder(root, variant, seed_index) / "run.json").is_file()


def interrupted_name(final: Path) -> Path:
    return final.with_name(final.name + INTERRUPTED_SUFFIX)


@dataclass(frozen=True)
class StudyProgress:
    done: int
    failed: int
    total: int
    record: dict | None = None
    """The run that just finished (None for the first call, when a resumed study starts)."""

    @property
    def left(self) -> int:
        return self.total - self.done - self.failed


Progress = Callable[[StudyProgress], None]


@dataclass(frozen=True)
class StudyResult:
    folder: Path
    summary: pd.DataFrame
    failures: list[dict]
    info: dict
    resumed_runs: int = 0
    """Runs that were already finished when the study was resumed."""


Finish = Callable[[Path, StudyPlan, pd.DataFrame, dict], None]
"""Writes a study's own tables and figures into its folder (before run.json), given the
summary and the run.json being written (which it may add to)."""


def _owner() -> dict:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "process_start": _process_start(os.getpid()),
    }


def _study_info(folder: Path) -> dict:
    path = folder / STUDY_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudyError(f"{folder}: not a study folder (no {STUDY_FILE})") from None
    except (OSError, ValueError) as exc:
        raise StudyError(f"{path}: cannot be read ({exc})") from None
    if not isinstance(info, dict) or "fingerprint" not in info:
        raise StudyError(f"{path}: not a study description")
    return info


def study_state(folder: Path) -> str:
    """``complete``, ``complete with failures``, ``interrupted``, ``in progress`` or
    ``stale`` (left by a process that is gone)."""
    folder = Path(folder)
    if folder.name.endswith(INTERRUPTED_SUFFIX):
        return "interrupted"
    if folder.name.startswith(".") and folder.name.endswith(".partial"):
        try:
            owner = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "stale"
        return "in progress" if _owner_alive(owner) is not False else "stale"
    try:
        info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "stale"
    return info.get("status", "complete")


def _mismatch(folder: Path, info: dict, plan: StudyPlan) -> str | None:
    theirs, ours = info["fingerprint"], plan.fingerprint
    if theirs.get("study") == ours["study"]:
        return None
    what = {
        "scenario": "the resolved scenario (the file, what it extends, --set and the options)",
        "design": "the design (policies or design points, their values, the seeds)",
        "code": "the code (the simulator's source or the numeric libraries' versions)",
    }
    differ = [text for part, text in what.items() if theirs.get(part) != ours[part]]
    return (
        f"--resume {folder}: this is not the study that folder holds; it differs in "
        + "; ".join(differ or ["its fingerprint"])
        + f" (folder {theirs.get('study', '?')[:12]}, asked {ours['study'][:12]}); run the "
        "same command and options as the study was started with, or start a new study"
    )


def take_over(folder: Path, plan: StudyPlan) -> Reservation | None:
    """Make an interrupted, stale or complete-with-failures study folder ours again, under
    its partial name; None when the study is complete with nothing to run. Raises StudyError
    when it cannot be resumed."""
    folder = Path(folder)
    if not folder.is_dir():
        raise StudyError(f"--resume {folder}: not a folder")
    info = _study_info(folder)
    message = _mismatch(folder, info, plan)
    if message:
        raise StudyError(message)
    state = study_state(folder)
    final = folder.parent / info["name"]
    partial = folder.parent / partial_name(info["name"])
    if state == "complete":
        return None
    if state == "in progress":
        raise StudyError(f"--resume {folder}: the study is still running (see zhongcao status)")
    if state == "stale":
        if folder != partial:
            raise StudyError(f"--resume {folder}: not a study folder (no run.json, no owner)")
        (partial / OWNER_FILE).write_text(json.dumps(_owner()) + "\n", encoding="utf-8")
        return Reservation(partial, final)
    if state == "interrupted" and final.exists():
        raise StudyError(f"--resume {folder}: {final} exists already")
    if partial.exists():
        raise StudyError(f"--resume {folder}: {partial} exists (a study being resumed?)")
    os.rename(folder, partial)  # atomic: a second resume fails above
    fsync_path(partial.parent)
    (partial / "run.json").unlink(missing_ok=True)  # a complete study with failures
    (partial / OWNER_FILE).write_text(json.dumps(_owner()) + "\n", encoding="utf-8")
    return Reservation(partial, final)


def _start(plan: StudyPlan, out_root: Path, command: Sequence[str]) -> Reservation:
    """Reserve a new study folder and write its plan."""
    config = plan.base.config
    kind = "compare" if plan.kind == "comparison" else plan.kind
    reservation = reserve_folder(Path(out_root), f"{config.name}-{kind}-{timestamp()}")
    try:
        partial = reservation.partial
        (partial / "runs").mkdir()
        info = {
            "kind": plan.kind,
            "name": reservation.final.name,
            "scenario": config.name,
            "seed": config.seed,
            "id_column": plan.id_column,
            "seed_indices": list(plan.seed_indices),
            "runs": len(plan.variants) * len(plan.seed_indices),
            "parameters": plan.parameter_keys,
            "variants": {v.name: v.parameters for v in plan.variants},
            "design": _design_info(plan.design),
            "fingerprint": plan.fingerprint,
            "code": code_version(),
            "command": list(command),
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        write_text(partial / "config.yaml", dump_yaml(plan.base.resolved))
        if plan.design is not None:
            design = pd.DataFrame(plan.design.X, columns=plan.design.keys)
            design.insert(0, "point", [v.name for v in plan.variants])
            write_csv(partial / "design.csv", design)
        write_json(partial / STUDY_FILE, info)
    except BaseException:
        shutil.rmtree(reservation.partial, ignore_errors=True)
        raise
    return reservation


def _design_info(design: Design | None) -> dict | None:
    if design is None:
        return None
    return {
        "method": design.method,
        "points": design.n_points,
        "seed": design.seed,
        "keys": design.keys,
        "roles": {p.key: p.role for p in design.parameters},
        "problem": design.problem,
        "second_order": design.second_order,
        "morris_levels": design.morris_levels,
    }


def _clean_run_partials(root: Path) -> None:
    for partial in root.glob("runs/*/.*.partial"):
        shutil.rmtree(partial, ignore_errors=True)


def _keep_or_remove(reservation: Reservation) -> Path | None:
    """After an interruption or a failure: keep the finished runs under ``<name>.interrupted``
    (returned), or remove the folder when none had finished."""
    partial = reservation.partial
    if not partial.exists():
        return None
    _clean_run_partials(partial)
    if not any(partial.glob("runs/*/*/run.json")):
        shutil.rmtree(partial, ignore_errors=True)
        return None
    target = interrupted_name(reservation.final)
    if target.exists():
        return None  # left as the stale partial folder it now is
    (partial / OWNER_FILE).unlink(missing_ok=True)
    os.rename(partial, target)
    fsync_path(target.parent)
    return target


def read_summary(root: Path, plan_info: dict) -> pd.DataFrame:
    """summary.csv's rows, read from the run folders (in the plan's order, variant-major)."""
    id_column = plan_info["id_column"]
    rows = []
    for variant, parameters in plan_info["variants"].items():
        for seed_index in plan_info["seed_indices"]:
            row: dict[str, Any] = {id_column: variant, "seed_index": seed_index}
            folder = run_folder(root, variant, seed_index)
            failed = failed_file(root, variant, seed_index)
            if (folder / "run.json").is_file():
                run_info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
                metrics = pd.read_csv(folder / "summary.csv").iloc[0].to_dict()
                row |= {"status": "ok", "error": "", "wall_time_s": run_info["wall_time_s"]}
                row |= parameters | metrics
            elif failed.is_file():
                record = json.loads(failed.read_text(encoding="utf-8"))
                row |= {"status": "failed", "error": record["error"]}
                row |= {"wall_time_s": record["wall_time_s"]} | parameters
            else:
                row |= {"status": "not run", "error": ""} | parameters
            rows.append(row)
    return pd.DataFrame(rows)


def run_study(
    plan: StudyPlan,
    out_root: Path,
    *,
    executor: Any,
    finish: Finish,
    command: Sequence[str] | None = None,
    progress: Progress | None = None,
    reserved: Callable[[Reservation], None] | None = None,
    resume: Path | None = None,
) -> StudyResult:
    """Run every run of ``plan`` not yet finished, on ``executor`` (see
    :mod:`sim.executors`), then write the study's tables (``finish``) and run.json, and give
    the folder its final name. ``resume``: an earlier folder of the same study (see the module
    docstring)."""
    command = tuple(command if command is not None else sys.argv)
    t0 = time.perf_counter()
    if resume is not None:
        reservation = take_over(Path(resume), plan)
        if reservation is None:  # complete: nothing to run
            folder = Path(resume)
            info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
            summary = pd.read_csv(folder / "summary.csv")
            runs = len(summary)
            return StudyResult(folder, summary, info.get("failures", []), info, runs)
    else:
        reservation = _start(plan, Path(out_root), command)
    root = reservation.partial
    try:
        if reserved is not None:
            reserved(reservation)
        _clean_run_partials(root)
        plan_info = _study_info(root)
        all_runs = plan.runs()
        todo = [(v, i) for v, i in all_runs if not is_done(root, v.name, i)]
        already = len(all_runs) - len(todo)
        for variant, seed_index in todo:
            failed_file(root, variant.name, seed_index).unlink(missing_ok=True)
            run_folder(root, variant.name, seed_index).parent.mkdir(parents=True, exist_ok=True)
        cpus = os.cpu_count() or 1
        threads = getattr(executor, "threads", None) or max(1, cpus // max(executor.workers, 1))
        tasks = [
            RunTask(
                plan.study_id,
                variant.name,
                seed_index,
                variant.loaded.resolved,
                str(run_folder(root, variant.name, seed_index).absolute()),
                command,
                threads,
                {
                    plan.id_column: variant.name,
                    "study": plan.study_id,
                    **({"parameters": variant.parameters} if plan.kind == "sweep" else {}),
                },
            )
            for variant, seed_index in todo
        ]
        counts = {"done": already, "failed": 0}
        if progress is not None:
            progress(StudyProgress(already, 0, len(all_runs)))

        def done(task: RunTask, record: dict) -> None:
            record = {plan.id_column: task.variant, "seed_index": task.seed_index, **record}
            if record["status"] == "ok":
                counts["done"] += 1
            else:
                counts["failed"] += 1
                failed = failed_file(root, task.variant, task.seed_index)
                write_json(failed, {k: record[k] for k in ("error", "wall_time_s")})
            if progress is not None:
                progress(StudyProgress(counts["done"], counts["failed"], len(all_runs), record))

        executor.execute(execute_run, tasks, done)
        summary = read_summary(root, plan_info)
        failures = [
            {plan.id_column: r[plan.id_column], "seed_index": r["seed_index"], "error": r["error"]}
            for r in summary.to_dict("records")
            if r["status"] != "ok"
        ]
        write_csv(root / "summary.csv", summary)
        info = {
            "status": "complete" if not failures else "complete with failures",
            "kind": plan.kind,
            "scenario": plan.base.config.name,
            "seed": plan.base.config.seed,
            "seeds": len(plan.seed_indices),
            "seed_indices": list(plan.seed_indices),
            "runs": len(all_runs),
            "resumed_runs": already,
            "parameters": plan.parameter_keys,
            "failures": failures,
            "workers": executor.workers,
            "executor": type(executor).__name__,
            "fingerprint": plan.fingerprint,
            "command": list(command),
            "started_at": plan_info.get("started_at"),
            "versions": package_versions(),
            "git": git_state(),
        }
        finish(root, plan, summary[summary["status"] == "ok"], info)
        info["wall_time_s"] = round(time.perf_counter() - t0, 3)
        write_json(root / "run.json", info)
        finish_folder(reservation)
    except BaseException:
        if not reservation.complete:
            _keep_or_remove(reservation)
        raise
    return StudyResult(reservation.final, summary, failures, info, already)


# --------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyStatus:
    folder: Path
    state: str
    kind: str
    total: int
    done: int
    failed: int

    @property
    def left(self) -> int:
        return self.total - self.done - self.failed


def study_status(folder: Path) -> StudyStatus:
    """How many runs of a study folder (in any state) are done, failed and left."""
    folder = Path(folder)
    if not folder.is_dir():
        raise StudyError(f"{folder}: not a folder")
    info = _study_info(folder)
    done = failed = 0
    for variant in info["variants"]:
        for seed_index in info["seed_indices"]:
            if is_done(folder, variant, seed_index):
                done += 1
            elif failed_file(folder, variant, seed_index).is_file():
                failed += 1
    total = len(info["variants"]) * len(info["seed_indices"])
    return StudyStatus(folder, study_state(folder), info["kind"], total, done, failed)
