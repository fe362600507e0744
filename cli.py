"""zhongcao command line: parse, hand over to ``sim``, print. No model logic lives here.

Exit codes: 0 success; 1 a failure while running (one line on stderr); 2 bad input (an invalid
scenario lists every problem by key path and file line); 130 interrupted (Ctrl-C or SIGTERM).
The code describes what is on disk: once a results folder is complete, a Ctrl-C or a closed
stdout no longer turns success into failure (the folder is still printed, when stdout is
open, as the last line).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sim.io import OutputError, Reservation, StudyError, check_writable
from sim.resources import ResourceError, check_fits
from sim.results import ResultsError
from sim.scenario import ScenarioError, load_scenario

app = typer.Typer(
    name="zhongcao",
    help="Agent-based market simulator of interest e-commerce (兴趣电商).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)  # one problem, one line

EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 1, 2, 130


class BadInput(Exception):
    """Input the command cannot use (exit code 2)."""


ScenarioArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
NoPlotOpt = Annotated[bool, typer.Option("--no-plot", help="Skip the default figures.")]
StepsOpt = Annotated[int | None, typer.Option(help="Days to simulate.")]
ConsumersOpt = Annotated[int | None, typer.Option(help="Number of consumers.")]
OutOpt = Annotated[Path, typer.Option(help="Folder for results.")]
AllowOutsideOpt = Annotated[
    bool,
    typer.Option(
        "--allow-outside",
        help="Let `extends` read base files outside the scenario's folder and the shipped "
        "scenarios.",
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a key: a.b.c=value (value parsed as YAML). Repeatable.",
        show_default=False,
    ),
]


@dataclass
class Outcome:
    """What a command has put on disk so far, so that an interruption, a closed stdout or a
    late failure is reported as what is there."""

    reservation: Reservation | None = None
    """The results folder being built, once reserved."""
    interrupted: Callable[[], str] | None = None
    """The message for an interruption before the folder is complete."""

    def reserved(self, reservation: Reservation) -> None:
        self.reservation = reservation

    @property
    def complete(self) -> Path | None:
        r = self.reservation
        return r.final if r is not None and r.complete else None


def _status_code(folder: Path) -> int:
    """The exit code a complete folder stands for: 1 if any of its runs failed."""
    try:
        info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return EXIT_FAILURE
    return 0 if isinstance(info, dict) and info.get("status") == "complete" else EXIT_FAILURE


def _stdout_closed() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not fail again."""
    with suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


@contextmanager
def handled(outcome: Outcome | None = None):
    """Turn failures into the documented exit codes and one clear message, no traceback."""
    outcome = outcome if outcome is not None else Outcome()
    try:
        yield outcome
    except ScenarioError as exc:
        err.print(exc.render(), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (BadInput, ResultsError, ResourceError, OutputError, StudyError) as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except KeyboardInterrupt:
        done = outcome.complete
        if done is not None:
            err.print(f"interrupted after the results were complete: {done}", markup=False)
            with suppress(OSError):
                typer.echo(str(done))
            raise typer.Exit(_status_code(done)) from None
        message = outcome.interrupted() if outcome.interrupted else None
        err.print(message or "interrupted: no results were written", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        _stdout_closed()
        done = outcome.complete
        if done is not None:
            raise typer.Exit(_status_code(done)) from None
        err.print("error: stdout was closed", markup=False)
        raise typer.Exit(EXIT_FAILURE) from None
    except typer.Exit:
        raise
    except Exception as exc:  # the CLI's last line of defence
        message = " ".join(str(exc).split())  # one line, whatever the exception's text
        err.print(f"error: {type(exc).__name__}: {message}", markup=False)
        done = outcome.complete
        if done is not None:
            err.print(f"the results are complete: {done}", markup=False)
            raise typer.Exit(_status_code(done)) from None
        raise typer.Exit(EXIT_FAILURE) from None


def check_environment(engine: str | None = None, threads: int | None = None) -> None:
    """Refuse (exit 2) a consumer-kernel engine or thread count, from the options or from
    ZHONGCAO_ENGINE / ZHONGCAO_THREADS, before any market is built."""
    from sim.kernels.consumer_day import choose_engine

    try:
        choose_engine(engine, threads)
    except ValueError as exc:
        given = {
            k: os.environ[k] for k in ("ZHONGCAO_ENGINE", "ZHONGCAO_THREADS") if k in os.environ
        }
        shown = " ".join(f"{k}={v!r}" for k, v in given.items())
        raise BadInput(f"{exc}" + (f" (environment: {shown})" if shown else "")) from None


OPTION_KEYS = {"seed": "seed", "steps": "steps", "consumers": "population.consumers"}
"""Command-line options that are shorthands for scenario keys."""


def as_overrides(set_: list[str] | None, **options: int | None) -> list[str]:
    """The --set overrides, then the shorthand options given (--seed, --steps, --consumers)."""
    overrides = list(set_ or [])
    overrides += [f"{OPTION_KEYS[name]}={v}" for name, v in options.items() if v is not None]
    return overrides


def progress_bar(description: str) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
    )


@app.command()
def run(
    scenario: ScenarioArg,
    seed: Annotated[
        int | None, typer.Option(help="Root random seed (overrides the scenario's).")
    ] = None,
    steps: StepsOpt = None,
    consumers: ConsumersOpt = None,
    set_: SetOpt = None,
    out: OutOpt = Path("results"),
    no_plot: NoPlotOpt = False,
    allow_outside: AllowOutsideOpt = False,
    seed_index: Annotated[
        int,
        typer.Option(
            min=0,
            max=2**31 - 1,
            help="Run seed index i of a study (for job arrays): the same run as seed index i "
            "of `compare` or `sweep`.",
        ),
    ] = 0,
    policy: Annotated[
        str | None, typer.Option("--policy", help="Run this policy of the scenario.")
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            help="Spread the consumers over a Dask LocalCluster started here, a shard per "
            "worker: local (a worker per CPU) or local:N. The same results.",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Spread the consumers over the workers of a running Dask cluster at this "
            "address (tcp://host:8786). The same results.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run a scenario once; print the results folder as the last line."""
    from sim.runner import run_scenario
    from sim.scenario import load_policies

    overrides = as_overrides(set_, seed=seed, steps=steps, consumers=consumers)
    with handled() as outcome:
        loaded = load_scenario(scenario, overrides, allow_outside=allow_outside)
        extra = None
        if policy is not None:
            loaded = load_policies(scenario, overrides, [policy], allow_outside=allow_outside)[
                policy
            ]
            extra = {"policy": policy}
        cfg = loaded.config
        check_environment()
        check_writable(out)
        check_fits(cfg)
        with (
            sharded_kernel(dask, scheduler) as kernel,
            progress_bar(f"{cfg.name} ({cfg.population.n_consumers:,} consumers)") as bar,
        ):
            task = bar.add_task(
                f"{cfg.name} ({cfg.population.n_consumers:,} consumers)",
                total=cfg.warmup_days + cfg.steps,
            )
            result = run_scenario(
                loaded,
                out,
                command=["zhongcao", *sys.argv[1:]],
                progress=lambda done, total: bar.update(task, completed=done),
                plot=not no_plot,
                reserved=outcome.reserved,
                seed_index=seed_index,
                extra=extra,
                kernel=kernel,
            )
        s = result.summary
        typer.echo(
            f"{cfg.name}: {cfg.steps} days, {cfg.population.n_consumers:,} consumers, {result.wall_time_s:.1f} s; "
            f"GMV {s['gmv_yuan']:,.0f} yuan, quality GMV {s['quality_gmv_yuan']:,.0f} yuan, "
            f"{s['orders']:,.0f} orders, new-customer share {s['new_customer_share']:.1%}"
        )
        typer.echo(str(result.folder))


@contextmanager
def sharded_kernel(dask: str | None, scheduler: str | None):
    """The Dask cluster a run's consumers are spread over (``--dask``/``--scheduler``), or
    None; bad input before any cluster starts."""
    if dask is not None and scheduler is not None:
        raise BadInput("--dask and --scheduler: choose one")
    if dask is None and scheduler is None:
        yield None
        return
    from sim.executors import parse_dask
    from sim.shards import ShardedKernel

    try:
        workers = parse_dask(dask) if dask is not None else None
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    kernel = ShardedKernel(workers=workers, address=scheduler)
    try:
        yield kernel
    finally:
        kernel.close()


WorkersOpt = Annotated[
    int | None,
    typer.Option(min=1, help="Worker processes of the local pool (default: one per CPU)."),
]
DaskOpt = Annotated[
    str | None,
    typer.Option(
        "--dask",
        help="Run on a Dask LocalCluster started here: local (a worker per CPU) or local:N.",
        show_default=False,
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Run on a running Dask cluster at this address (tcp://host:8786); its workers "
        "must see --out.",
        show_default=False,
    ),
]
ResumeOpt = Annotated[
    Path | None,
    typer.Option(
        "--resume",
        help="Continue this interrupted study folder: check that it is the same study, skip "
        "its finished runs and run the rest.",
        show_default=False,
    ),
]


@dataclass
class ExecutorChoice:
    workers: int | None
    dask: str | None
    scheduler: str | None

    def check(self, total: int) -> int:
        """Refuse conflicting options (BadInput); return how many runs go at once here."""
        from sim.executors import parse_dask

        given = [
            name
            for name, value in (
                ("--workers", self.workers),
                ("--dask", self.dask),
                ("--scheduler", self.scheduler),
            )
            if value is not None
        ]
        if len(given) > 1:
            raise BadInput(f"{' and '.join(given)}: choose one executor")
        if self.dask is not None:
            try:
                return min(parse_dask(self.dask), max(total, 1))
            except ValueError as exc:
                raise BadInput(str(exc)) from None
        if self.scheduler is not None:
            return 0  # the cluster's machines: not counted here
        return min(self.workers or os.cpu_count() or 1, max(total, 1))

    def make(self, at_once: int):
        from sim.compare import local_executor
        from sim.executors import DaskExecutor

        if self.dask is not None:
            return DaskExecutor(workers=at_once)
        if self.scheduler is not None:
            return DaskExecutor(address=self.scheduler)
        return local_executor(at_once)


@contextmanager
def study_progress(label: str, id_column: str):
    """One progress bar over a study's runs (done, failed, left, time left) on a terminal;
    one line per finished run otherwise. Yields the study's progress callback."""
    from sim.study import StudyProgress

    if err.is_terminal:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
        ) as bar:
            task = bar.add_task(label, total=None, counts="")

            def update(p: StudyProgress) -> None:
                counts = f"failed {p.failed}, left {p.left}"
                bar.update(task, total=p.total, completed=p.done + p.failed, counts=counts)

            yield update
        return

    def line(p: StudyProgress) -> None:
        if p.record is None:
            err.print(f"{label}: {p.total} runs, {p.done} already done", markup=False)
            return
        r = p.record
        what = f"{r[id_column]} seed {r['seed_index']}: {r['status']} ({r['wall_time_s']:.1f} s)"
        if r["status"] != "ok":
            what += f": {r['error']}"
        err.print(
            f"[{p.done + p.failed}/{p.total}] {what}; {p.done} done, {p.failed} failed, "
            f"{p.left} left",
            markup=False,
        )

    yield line


def interrupted_study(outcome: Outcome, resume_hint: str) -> Callable[[], str]:
    """The message for an interrupted study: where its finished runs were kept."""

    def message() -> str:
        from sim.study import interrupted_name, study_status

        reservation = outcome.reservation
        if reservation is None:
            return "interrupted: no results were written"
        kept = interrupted_name(reservation.final)
        if not kept.is_dir():
            if reservation.partial.is_dir():
                kept = reservation.partial
            else:
                return "interrupted: no run had finished; no results were written"
        status = study_status(kept)
        with suppress(OSError):
            typer.echo(str(kept))
        return (
            f"interrupted: {status.done} of {status.total} runs finished, kept in {kept}; "
            f"`{resume_hint} --resume {kept}` runs the rest"
        )

    return message


def _print_failures(failures: list[dict], id_column: str, label: str) -> None:
    for failure in failures:
        err.print(
            f"failed: {label} {failure[id_column]} seed index {failure['seed_index']}: "
            f"{failure['error']}",
            markup=False,
        )


@app.command()
def compare(
    scenario: ScenarioArg,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per policy (seed indices 0..N-1).")] = 5,
    workers: WorkersOpt = None,
    policy: Annotated[
        list[str] | None,
        typer.Option(
            "--policy", help="Policy to run (repeatable; default: all).", show_default=False
        ),
    ] = None,
    steps: StepsOpt = None,
    consumers: ConsumersOpt = None,
    set_: SetOpt = None,
    out: OutOpt = Path("results"),
    no_plot: NoPlotOpt = False,
    allow_outside: AllowOutsideOpt = False,
    dask: DaskOpt = None,
    scheduler: SchedulerOpt = None,
    resume: ResumeOpt = None,
) -> None:
    """Run each policy of a scenario on the same seeds; write confidence intervals, figures
    and report.html; print the comparison folder as the last line (exit 1 if any run
    failed)."""
    from sim.compare import compare as run_comparison
    from sim.resources import estimate_memory
    from sim.scenario import load_policies

    overrides = as_overrides(set_, steps=steps, consumers=consumers)
    choice = ExecutorChoice(workers, dask, scheduler)
    outcome = Outcome()
    outcome.interrupted = interrupted_study(outcome, f"zhongcao {' '.join(sys.argv[1:])}")
    with handled(outcome):
        base = load_scenario(scenario, overrides, allow_outside=allow_outside)
        policies = load_policies(scenario, overrides, policy or [], allow_outside=allow_outside)
        total = seeds * len(policies)
        at_once = choice.check(total)
        check_environment()
        check_writable(resume.parent if resume is not None else out)
        largest = max(
            (p.config for p in policies.values()),
            key=lambda c: estimate_memory(c).total_bytes,
        )
        if at_once:
            check_fits(largest, copies=at_once)
        label = f"{base.config.name}: {len(policies)} policies x {seeds} seeds"
        executor = choice.make(at_once)
        try:
            with study_progress(label, "policy") as progress:
                result = run_comparison(
                    base,
                    policies,
                    out,
                    seeds=seeds,
                    command=["zhongcao", *sys.argv[1:]],
                    progress=progress,
                    plot=not no_plot,
                    reserved=outcome.reserved,
                    executor=executor,
                    resume=resume,
                )
        finally:
            executor.close()
        _print_comparison(result.folder, base.config.output.headline_metrics)
        _print_failures(result.failures, "policy", "policy")
        typer.echo(str(result.folder))
        if result.failures:
            raise typer.Exit(EXIT_FAILURE)


@app.command()
def sweep(
    scenario: ScenarioArg,
    samples: Annotated[
        int | None,
        typer.Option(min=1, help="Samples of the design (sets sweep.samples; see docs/MODEL.md)."),
    ] = None,
    seeds: Annotated[
        int | None,
        typer.Option(min=1, help="Seed indices per design point (sets sweep.seeds)."),
    ] = None,
    workers: WorkersOpt = None,
    steps: StepsOpt = None,
    consumers: ConsumersOpt = None,
    set_: SetOpt = None,
    out: OutOpt = Path("results"),
    no_plot: NoPlotOpt = False,
    allow_outside: AllowOutsideOpt = False,
    dask: DaskOpt = None,
    scheduler: SchedulerOpt = None,
    resume: ResumeOpt = None,
) -> None:
    """Run the design points of a scenario's sweep: block (grid, lhs, sobol or morris, drawn
    with SALib) on the same seeds; every point is validated before any run; print the sweep
    folder as the last line (exit 1 if any run failed)."""
    from sim.resources import estimate_memory
    from sim.study import run_study, sweep_plan
    from sim.sweep import finish_sweep

    overrides = as_overrides(set_, steps=steps, consumers=consumers)
    overrides += [f"sweep.{k}={v}" for k, v in (("samples", samples), ("seeds", seeds)) if v]
    choice = ExecutorChoice(workers, dask, scheduler)
    outcome = Outcome()
    outcome.interrupted = interrupted_study(outcome, f"zhongcao {' '.join(sys.argv[1:])}")
    with handled(outcome):
        base = load_scenario(scenario, overrides, allow_outside=allow_outside)
        plan = sweep_plan(scenario, base, overrides, allow_outside=allow_outside)
        total = len(plan.runs())
        at_once = choice.check(total)
        check_environment()
        check_writable(resume.parent if resume is not None else out)
        if at_once:
            largest = max(
                (v.loaded.config for v in plan.variants),
                key=lambda c: estimate_memory(c).total_bytes,
            )
            check_fits(largest, copies=at_once)
        design = plan.design
        label = (
            f"{base.config.name}: {design.method} design, {design.n_points} points x "
            f"{len(plan.seed_indices)} seeds"
        )
        executor = choice.make(at_once)
        try:
            with study_progress(label, "point") as progress:
                result = run_study(
                    plan,
                    out,
                    executor=executor,
                    finish=finish_sweep(not no_plot),
                    command=["zhongcao", *sys.argv[1:]],
                    progress=progress,
                    reserved=outcome.reserved,
                    resume=resume,
                )
        finally:
            executor.close()
        ok = int((result.summary["status"] == "ok").sum())
        typer.echo(
            f"{label}: {ok} of {len(result.summary)} runs finished"
            + (f" ({result.resumed_runs} before resuming)" if result.resumed_runs else "")
        )
        _print_failures(result.failures, "point", "point")
        typer.echo(str(result.folder))
        if result.failures:
            raise typer.Exit(EXIT_FAILURE)


StudyArg = Annotated[
    Path, typer.Argument(help="A study folder (of compare or sweep).", show_default=False)
]


@app.command()
def analyze(
    study: StudyArg,
    method: Annotated[
        str, typer.Option(help="sobol (a sobol design), morris (a morris design) or delta (any).")
    ] = "sobol",
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            help="Metric to analyze (repeatable; default: the scenario's headline metrics).",
            show_default=False,
        ),
    ] = None,
    no_plot: NoPlotOpt = False,
) -> None:
    """Sensitivity indices of a sweep with 95% confidence intervals (SALib) for each metric:
    write sensitivity_<method>.csv and its figure; print the table's path as the last line."""
    from sim.sensitivity import open_study, write_analysis

    with handled():
        found = open_study(study)
        metrics = list(dict.fromkeys(metric or found.headline_metrics))
        table, paths, constant = write_analysis(found, method, metrics, plot=not no_plot)
        main = {"sobol": ("S1", "ST"), "morris": ("mu_star",), "delta": ("delta",)}[method]
        for name in metrics:
            if name in constant:
                typer.echo(f"{name}: constant over the design (no indices)")
                continue
            rows = table[(table["metric"] == name) & table["index"].isin(main)]
            cells = [
                f"{r.parameter} {r.index} {r.value:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]"
                for r in rows.itertuples()
            ]
            typer.echo(f"{name}: " + "; ".join(cells))
        for path in paths[1:]:
            typer.echo(str(path))
        typer.echo(str(paths[0]))


@app.command()
def export(
    study: StudyArg,
    ema: Annotated[
        bool,
        typer.Option(
            "--ema",
            help="EMA Workbench's format (a .tar.gz that ema_workbench.load_results reads).",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="The file to write (default: STUDY/ema_results.tar.gz)."),
    ] = None,
) -> None:
    """Export a study's experiments and outcomes; print the file as the last line."""
    from sim.sensitivity import export_ema, open_study

    with handled():
        if not ema:
            raise BadInput("choose a format: --ema")
        found = open_study(study)
        path = export_ema(found, out if out is not None else found.folder / "ema_results.tar.gz")
        typer.echo(str(path))


@app.command()
def status(study: StudyArg) -> None:
    """How many runs of a study folder (complete, interrupted or in progress) are done,
    failed and left."""
    from sim.study import study_status

    with handled():
        s = study_status(study)
        typer.echo(
            f"{s.folder}: {s.kind}, {s.state}: {s.done} done, {s.failed} failed, {s.left} left "
            f"of {s.total} runs"
        )


def _print_comparison(folder: Path, metrics: list[str]) -> None:
    import pandas as pd

    table = pd.read_csv(folder / "comparison.csv")
    table = table[table["metric"].isin(metrics)]
    for metric in metrics:
        rows = table[table["metric"] == metric]
        cells = [
            f"{r.policy} {r.mean:,.4g} [{r.ci_low:,.4g}, {r.ci_high:,.4g}]"
            for r in rows.itertuples()
        ]
        typer.echo(f"{metric}: " + "; ".join(cells))


@app.command()
def plot(
    folder: Annotated[Path, typer.Argument(help="A run or comparison folder.", show_default=False)],
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            help="Kind of figure (repeatable; default: every kind that fits).",
            show_default=False,
        ),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            help="Metric for timeseries and compare (repeatable; default: "
            "the scenario's headline metrics).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Draw figures from a results folder into FOLDER/figures (a comparison also gets
    report.html); print the figures folder as the last line."""
    from sim.plots import KINDS, draw, folder_kind, kinds_for
    from sim.results import ComparisonResults, open_results

    with handled() as outcome:
        results = open_results(folder)
        fitting = kinds_for(results)
        problems = []
        for name in kind or []:
            if name not in KINDS:
                problems.append(f"unknown kind {name!r}; kinds: {', '.join(KINDS)}")
            elif name not in fitting:
                problems.append(
                    f"kind {name!r} does not fit a {folder_kind(results)} folder; kinds that "
                    f"fit: {', '.join(fitting)}"
                )
        available = results.metrics
        for name in metric or []:
            if name not in available:
                problems.append(
                    f"unknown metric {name!r}; metrics in this folder: {', '.join(available)}"
                )
        if problems:
            raise BadInput(f"{folder}: " + "; ".join(problems))
        kinds = list(dict.fromkeys(kind or fitting))
        metrics = list(
            dict.fromkeys(metric or [m for m in results.headline_metrics if m in available])
        )
        out = folder / "figures"
        started = time.time_ns()
        outcome.interrupted = lambda: _replaced_figures(out, started)
        figures = draw(results, kinds, metrics or available[:6], out)
        for figure in figures:
            for path in figure.paths:
                typer.echo(str(path))
        if isinstance(results, ComparisonResults) and set(kinds) == set(fitting):
            from sim.report import write_report

            typer.echo(str(write_report(results, figures, folder / "report.html")))
        typer.echo(str(out))


def _replaced_figures(out: Path, since_ns: int) -> str:
    """What an interrupted ``plot`` left: the figure files it had already (atomically)
    written, found on disk by their time."""
    written = sorted(
        p.name
        for p in (out.iterdir() if out.is_dir() else [])
        if p.is_file() and not p.name.startswith(".") and p.stat().st_mtime_ns >= since_ns
    )
    if not written:
        return "interrupted: no figure was written"
    return (
        f"interrupted: {len(written)} figure files in {out} were replaced "
        f"({', '.join(written)}); the others are as they were"
    )


@app.command()
def clean(
    folder: Annotated[
        Path, typer.Argument(help="A results folder (--out of run or compare).")
    ] = Path("results"),
    remove: Annotated[
        bool, typer.Option("--remove", help="Remove the stale partial folders listed.")
    ] = False,
) -> None:
    """List the partial folders in FOLDER: hidden `.<name>.partial` folders of runs still being
    written (in progress) or left by a crash or a kill (stale; never results, `plot` refuses
    them). With --remove, delete the stale ones (a stale comparison may hold complete runs:
    they are listed first)."""
    import shutil

    from sim.io import partial_folders

    with handled():
        if not folder.is_dir():
            raise BadInput(f"{folder}: not a folder")
        found = partial_folders(folder)
        for partial in found:
            owner = partial.owner
            who = f"pid {owner.get('pid')} on {owner.get('host')}" if owner else "no owner file"
            state = "stale" if partial.stale else "in progress"
            runs = (
                f"; holds {len(partial.complete_runs)} complete runs"
                if partial.complete_runs
                else ""
            )
            typer.echo(f"{state}: {partial.path} ({who}{runs})")
            for run_folder in partial.complete_runs:
                typer.echo(f"  complete run: {run_folder}")
            if remove and partial.stale:
                shutil.rmtree(partial.path)
                typer.echo(f"removed: {partial.path}")
        stale = sum(p.stale for p in found)
        err.print(
            f"{len(found)} partial folders in {folder}, {stale} stale"
            + ("" if remove or not stale else "; --remove deletes the stale ones"),
            markup=False,
        )


@app.command()
def bench(
    consumers: Annotated[
        list[int] | None,
        typer.Option(
            "--consumers",
            min=1,
            help="Population size (repeatable; default 100,000 and 1,000,000).",
            show_default=False,
        ),
    ] = None,
    steps: Annotated[int, typer.Option(min=1, help="Timed steps per size.")] = 5,
    warmup: Annotated[int, typer.Option(min=0, help="Untimed steps before timing.")] = 3,
    scenario: Annotated[Path, typer.Option(help="Scenario whose market is built.")] = Path(
        "scenarios/large.yaml"
    ),
    engine: Annotated[
        str | None, typer.Option(help="Consumer kernel engine: numba or numpy.")
    ] = None,
    threads: Annotated[
        int | None, typer.Option(min=1, help="Threads for the numba engine.")
    ] = None,
    sellers: Annotated[
        list[float] | None,
        typer.Option(
            "--sellers",
            min=0.001,
            help="Multiply the creators, merchants, MCNs and service providers the scenario "
            "resolves at each size (repeatable: each size runs at each factor; default 1).",
            show_default=False,
        ),
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            help="Also time each size with the consumers on a Dask LocalCluster: local or "
            "local:N workers (reports the bytes moved per step and whether the metrics are "
            "the same).",
            show_default=False,
        ),
    ] = None,
    mesa: Annotated[
        bool, typer.Option(help="Also time idiomatic Mesa at 100,000 consumers.")
    ] = False,
    json_lines: Annotated[bool, typer.Option("--json", help="One JSON object per size.")] = False,
    out: Annotated[
        Path | None, typer.Option(help="Write the table as Markdown (BENCHMARKS.md).")
    ] = None,
) -> None:
    """Time full model steps and measure memory at each size (each in a fresh process)."""
    import datetime as dt
    import json

    from sim.bench import machine, markdown, measure_isolated, write_markdown
    from sim.executors import parse_dask

    sizes = consumers or [100_000, 1_000_000]
    with handled():
        load_scenario(scenario)  # bad input before any work
        check_environment(engine, threads)
        try:
            shards = [None] if dask is None else [None, parse_dask(dask)]
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        rows = []
        runs = ((s, f, d) for s in sizes for f in sellers or [1.0] for d in shards)
        for size, factor, workers in runs:
            row = measure_isolated(
                scenario=str(scenario), consumers=size, steps=steps, warmup=warmup,
                engine=engine, threads=threads, sellers=factor, dask_workers=workers,
            )  # fmt: skip
            rows.append(row)
            if json_lines:
                typer.echo(json.dumps(row))
            else:
                typer.echo(
                    f"{size:>12,} consumers, {row['creators']:,} creators, "
                    f"{row['merchants']:,} merchants: {row['seconds_per_step']:.3f} s/step, "
                    f"{row['consumer_steps_per_s']:,} consumer-steps/s, build {row['build_s']:.1f} s, "
                    f"peak {row['peak_rss_mb']:,.0f} MB ({row['bytes_per_consumer']:.0f} B/consumer)"
                    + (
                        f"; {workers} Dask workers, "
                        f"{sum(row['bytes_moved_per_step'].values()) / 1e6:,.1f} MB moved/step"
                        if workers
                        else ""
                    )
                )
        ratio = None
        if mesa:
            from sim.reference_mesa import speed_ratio

            ratio = speed_ratio(100_000, str(scenario))
            if json_lines:
                typer.echo(json.dumps({"mesa": ratio}))
            else:
                typer.echo(
                    f"Mesa reference at {ratio['consumers']:,} consumers: {ratio['mesa_s']:.2f} s, "
                    f"vectorised {ratio['vectorised_s']:.3f} s, ratio {ratio['ratio']:.0f}x"
                )
        if out is not None:
            date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
            command = "zhongcao " + " ".join(sys.argv[1:])
            write_markdown(out, markdown(rows, ratio, machine(), date, command))
            typer.echo(str(out))


@app.command()
def check(
    case: Annotated[
        list[str] | None,
        typer.Option("--case", help="Run only this case (repeatable). Default: every case."),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="The small versions (as in the test suite).")
    ] = False,
    seeds: Annotated[int | None, typer.Option(min=1, help="Seeds per arm.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes per arm.")] = 1,
    list_cases: Annotated[bool, typer.Option("--list", help="List the cases and exit.")] = False,
    targets: Annotated[
        Path | None,
        typer.Option(help="Also check each target of this targets file (a case per target)."),
    ] = None,
) -> None:
    """Run the project's stylized facts: each case prints what it measured, what it expects
    and its verdict. Exit 1 if any case fails."""
    import dataclasses

    from sim import checks

    cases = dict(checks.CASES)
    if targets is not None:
        from sim.checks.targets import target_cases
        from sim.targets import load_targets

        with handled():
            cases |= target_cases(load_targets(targets))
    if list_cases:
        for c in cases.values():
            typer.echo(f"{c.name}: {c.expectation} ({c.why})")
        return
    scale = checks.QUICK if quick else checks.FULL
    scale = dataclasses.replace(scale, workers=workers)
    if seeds is not None:
        scale = scale.with_seeds(seeds)
    with handled():
        unknown = [name for name in case or [] if name not in cases]
        if unknown:
            raise BadInput(f"unknown check case(s) {unknown}; cases are {sorted(cases)}")
        names = case or list(cases)
        with progress_bar("check") as bar:
            task = bar.add_task("check", total=len(names))
            rows = checks.run_cases(
                cases,
                names,
                scale,
                lambda done, total, name: bar.update(task, completed=done),
            )
    width = max((len(r.name) for r in rows), default=4)
    typer.echo(f"{'case':<{width}}  verdict  figure | expectation")
    for r in rows:
        verdict = "pass" if r.passed else "FAIL"
        typer.echo(f"{r.name:<{width}}  {verdict:<7}  {r.figure} | {r.expectation}")
    failed = [r.name for r in rows if not r.passed]
    if failed:
        err.print(f"{len(failed)} of {len(rows)} case(s) failed: {', '.join(failed)}")
        raise typer.Exit(EXIT_FAILURE)


@app.command()
def calibrate(
    scenario: ScenarioArg,
    targets: Annotated[Path, typer.Option(help="Targets file (see targets/douyin.yaml).")],
    budget: Annotated[
        int, typer.Option(min=1, help="Trials in all (a resumed search included).")
    ] = 50,
    seeds: Annotated[
        int | None, typer.Option(min=1, help="Seed indices per trial (default: the scenario's).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Local worker processes for a trial's runs.")
    ] = None,
    dask: Annotated[
        str | None, typer.Option(help="Run a trial's runs on a local Dask cluster: local[:N].")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Run a trial's runs on the Dask cluster at ADDRESS.")
    ] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Continue the interrupted calibration in this folder.")
    ] = None,
    sensitivity: Annotated[
        bool, typer.Option(help="Check which parameters the targets pin (2 runs per parameter).")
    ] = True,
    out: OutOpt = Path("results"),
    set_: SetOpt = None,
    allow_outside: AllowOutsideOpt = False,
) -> None:
    """Search the scenario's calibrate: parameters (Optuna TPE) for the values closest to the
    targets; write the calibrated scenario and the target table; print the folder last."""
    from sim import calibrate as cal
    from sim.io import claim_partial, reserve_folder
    from sim.runner import timestamp
    from sim.targets import load_targets

    outcome = Outcome()
    with handled(outcome):
        try:
            plan = cal.plan(scenario, load_targets(targets), list(set_ or []), seeds, allow_outside)
            if resume is not None:
                reservation = claim_partial(resume)
            else:
                name = f"calibration-{plan.loaded.config.name}-{timestamp()}"
                reservation = reserve_folder(out, name)
        except cal.CalibrationError as exc:
            raise BadInput(str(exc)) from None
        outcome.reserved(reservation)
        outcome.interrupted = lambda: (
            f"interrupted: the finished trials are kept in {reservation.partial}; "
            f"continue with --resume {reservation.partial}"
        )
        for name, lacking in plan.unmeasurable.items():
            err.print(f"target {name}: not measurable (lacks {', '.join(lacking)})", markup=False)
        choice = ExecutorChoice(workers, dask, scheduler)
        at_once = choice.check(plan.seeds * len(cal._groups(plan)))
        executor = choice.make(at_once) if (workers or 1) > 1 or dask or scheduler else None
        err.print(f"calibrating into {reservation.partial}", markup=False)
        with progress_bar("trials") as bar:
            task = bar.add_task("trials", total=budget)
            try:
                final = cal.calibrate(
                    plan,
                    reservation,
                    budget,
                    executor=executor,
                    sensitivity=sensitivity,
                    progress=lambda done, total, best: bar.update(task, completed=done),
                    command=["zhongcao", *sys.argv[1:]],
                )
            except cal.CalibrationError as exc:
                raise BadInput(str(exc)) from None
        typer.echo(str(final))


@app.command()
def validate(
    scenario: ScenarioArg, set_: SetOpt = None, allow_outside: AllowOutsideOpt = False
) -> None:
    """Check a scenario file and its policies; list every problem (exit 2) or say it is
    valid."""
    from sim.scenario import load_policies

    with handled():
        loaded = load_scenario(scenario, list(set_ or []), allow_outside=allow_outside)
        policies = load_policies(scenario, list(set_ or []), allow_outside=allow_outside)
        files = " <- ".join(str(p) for p in reversed(loaded.files))
        names = ", ".join(policies)
        for warning in _ratio_warnings(loaded.config):
            err.print(f"warning: {warning}")
        typer.echo(f"{scenario}: valid ({files}; policies: {names}; sha256 {loaded.sha256[:12]})")


def _ratio_warnings(config) -> list[str]:
    """Ratios far from the baseline's, or from the scenario's own ``per_100k_consumers`` when
    it declares other ratios than the baseline's (its market at any size)."""
    from sim.checks.base import SCENARIOS
    from sim.config import ratio_warnings

    reference = load_scenario(SCENARIOS / "baseline.yaml").config
    pop = config.population
    if pop.per_100k_consumers != reference.population.per_100k_consumers:
        counts = dict.fromkeys(("creators", "merchants", "mcns", "service_providers"))
        reference = config.model_copy(update={"population": pop.model_copy(update=counts)})
    return ratio_warnings(config, reference)


@app.command()
def table(
    folder: Annotated[Path, typer.Argument(help="A comparison folder.", show_default=False)],
    metric: Annotated[
        list[str],
        typer.Option(
            "--metric",
            help="A row: NAME, or NAME:thousand|million|billion to scale money (repeatable).",
            show_default=False,
        ),
    ],
    differences: Annotated[
        bool,
        typer.Option(
            "--differences", help="Each policy minus the reference, paired by seed, instead."
        ),
    ] = False,
) -> None:
    """Print a Markdown table of a comparison: per metric, each policy's mean and 95%
    interval over seeds, or the paired differences (what the README quotes; see
    `sim.tables`)."""
    from sim.results import ComparisonResults, open_results
    from sim.tables import TableError, markdown_table

    with handled():
        results = open_results(folder)
        if not isinstance(results, ComparisonResults):
            raise BadInput(f"{folder}: a comparison folder is needed (`zhongcao compare`)")
        try:
            typer.echo(markdown_table(results, list(metric), differences))
        except TableError as exc:
            raise BadInput(str(exc)) from None


@app.command()
def explore(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario YAML file (default: tiny).", show_default=False)
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="A run folder whose lines the charts show beside.")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free one).")] = 8765,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open a browser tab.")
    ] = False,
) -> None:
    """Explore a scenario in the browser (Mesa's SolaraViz): set the levers, Reset, then step
    or play, and watch the headline metrics, the channel mix and the governance actions."""
    import subprocess

    from sim.explore import BASELINE_ENV, SCENARIO_ENV, prepare

    with handled():
        if scenario is not None:
            load_scenario(scenario)  # bad input before the server starts
        try:
            prepare(scenario, baseline)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        env = {**os.environ, SCENARIO_ENV: str(scenario or ""), BASELINE_ENV: str(baseline or "")}
        command = [sys.executable, "-m", "solara", "run", "sim.explore_app", "--production",
                   "--host", host, "--port", str(port), "--no-check-version",
                   "--open" if open_browser else "--no-open"]  # fmt: skip
        err.print(f"explorer: http://{host}:{port}/ (Ctrl-C stops it)", markup=False)
        server = subprocess.Popen(command, env=env)
        try:
            code = server.wait()
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop the server, and say so
            server.terminate()
            server.wait(timeout=30)
            err.print("explorer stopped", markup=False)
            return
        if code not in (0, -signal.SIGINT, -signal.SIGTERM):
            raise typer.Exit(EXIT_FAILURE)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    # SIGTERM (a job killed, a CI time-out) ends a run like Ctrl-C does: the folder being
    # written is removed rather than left behind.
    signal.signal(signal.SIGTERM, _interrupt)
    app()


if __name__ == "__main__":
    main()
