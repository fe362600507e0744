"""zhongcao command line: parse, hand over to ``sim``, print. No model logic lives here.

Exit codes: 0 success; 1 a failure while running (one line on stderr); 2 bad input (an invalid
scenario lists every problem by key path and file line); 130 interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import signal
import sys
from contextlib import contextmanager
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
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a key: a.b.c=value (value parsed as YAML). Repeatable.",
        show_default=False,
    ),
]


@contextmanager
def handled():
    """Turn failures into the documented exit codes and one clear message, no traceback."""
    try:
        yield
    except ScenarioError as exc:
        err.print(exc.render(), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (BadInput, ResultsError, ResourceError) as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except KeyboardInterrupt:
        err.print("interrupted: no results were written", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except typer.Exit:
        raise
    except Exception as exc:  # the CLI's last line of defence
        message = " ".join(str(exc).split())  # one line, whatever the exception's text
        err.print(f"error: {type(exc).__name__}: {message}", markup=False)
        raise typer.Exit(EXIT_FAILURE) from None


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
) -> None:
    """Run a scenario once; print the results folder as the last line."""
    from sim.runner import run_scenario

    overrides = as_overrides(set_, seed=seed, steps=steps, consumers=consumers)
    with handled():
        loaded = load_scenario(scenario, overrides)
        cfg = loaded.config
        check_fits(cfg)
        with progress_bar(f"{cfg.name} ({cfg.population.n_consumers:,} consumers)") as bar:
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
            )
        s = result.summary
        typer.echo(
            f"{cfg.name}: {cfg.steps} days, {cfg.population.n_consumers:,} consumers, {result.wall_time_s:.1f} s; "
            f"GMV {s['gmv_yuan']:,.0f} yuan, quality GMV {s['quality_gmv_yuan']:,.0f} yuan, "
            f"{s['orders']:,.0f} orders, new-customer share {s['new_customer_share']:.1%}"
        )
        typer.echo(str(result.folder))


@app.command()
def compare(
    scenario: ScenarioArg,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per policy (seed indices 0..N-1).")] = 5,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: one per CPU).")
    ] = None,
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
) -> None:
    """Run each policy of a scenario on the same seeds; write confidence intervals, figures
    and report.html; print the comparison folder as the last line (exit 1 if any run
    failed)."""
    import os

    from sim.compare import compare as run_comparison
    from sim.scenario import load_policies

    overrides = as_overrides(set_, steps=steps, consumers=consumers)
    with handled():
        base = load_scenario(scenario, overrides)
        policies = load_policies(scenario, overrides, policy or [])
        total = seeds * len(policies)
        n_workers = workers or min(os.cpu_count() or 1, total)
        for policy_config in policies.values():
            check_fits(policy_config.config, copies=n_workers)
        label = f"{base.config.name}: {len(policies)} policies x {seeds} seeds"
        with progress_bar(label) as bar:
            task = bar.add_task(label, total=total)
            result = run_comparison(
                base,
                policies,
                out,
                seeds=seeds,
                workers=n_workers,
                command=["zhongcao", *sys.argv[1:]],
                progress=lambda done, _total, _record: bar.update(task, completed=done),
                plot=not no_plot,
            )
        _print_comparison(result.folder, base.config.output.headline_metrics)
        for failure in result.failures:
            err.print(
                f"failed: policy {failure['policy']} seed index {failure['seed_index']}: "
                f"{failure['error']}",
                markup=False,
            )
        typer.echo(str(result.folder))
        if result.failures:
            raise typer.Exit(EXIT_FAILURE)


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

    with handled():
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
        figures = draw(results, kinds, metrics or available[:6], out)
        for figure in figures:
            for path in figure.paths:
                typer.echo(str(path))
        if isinstance(results, ComparisonResults) and set(kinds) == set(fitting):
            from sim.report import write_report

            typer.echo(str(write_report(results, figures, folder / "report.html")))
        typer.echo(str(out))


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

    sizes = consumers or [100_000, 1_000_000]
    with handled():
        load_scenario(scenario)  # bad input before any work
        rows = []
        for size in sizes:
            row = measure_isolated(
                scenario=str(scenario), consumers=size, steps=steps, warmup=warmup,
                engine=engine, threads=threads,
            )  # fmt: skip
            rows.append(row)
            if json_lines:
                typer.echo(json.dumps(row))
            else:
                typer.echo(
                    f"{size:>12,} consumers: {row['seconds_per_step']:.3f} s/step, "
                    f"{row['consumer_steps_per_s']:,} consumer-steps/s, build {row['build_s']:.1f} s, "
                    f"peak {row['peak_rss_mb']:,.0f} MB ({row['bytes_per_consumer']:.0f} B/consumer)"
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
) -> None:
    """Run the project's stylized facts: each case prints what it measured, what it expects
    and its verdict. Exit 1 if any case fails."""
    import dataclasses

    from sim import checks

    if list_cases:
        for c in checks.CASES.values():
            typer.echo(f"{c.name}: {c.expectation} ({c.why})")
        return
    scale = checks.QUICK if quick else checks.FULL
    scale = dataclasses.replace(scale, workers=workers, seeds=seeds or scale.seeds)
    with handled():
        unknown = [name for name in case or [] if name not in checks.CASES]
        if unknown:
            raise BadInput(f"unknown check case(s) {unknown}; cases are {sorted(checks.CASES)}")
        names = case or list(checks.CASES)
        with progress_bar("check") as bar:
            task = bar.add_task("check", total=len(names))
            rows = checks.run_cases(
                checks.CASES,
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
def validate(scenario: ScenarioArg, set_: SetOpt = None) -> None:
    """Check a scenario file and its policies; list every problem (exit 2) or say it is
    valid."""
    from sim.scenario import load_policies

    with handled():
        loaded = load_scenario(scenario, list(set_ or []))
        policies = load_policies(scenario, list(set_ or []))
        files = " <- ".join(str(p) for p in reversed(loaded.files))
        names = ", ".join(policies)
        for warning in _ratio_warnings(loaded.config):
            err.print(f"warning: {warning}")
        typer.echo(f"{scenario}: valid ({files}; policies: {names}; sha256 {loaded.sha256[:12]})")


def _ratio_warnings(config) -> list[str]:
    from sim.checks.base import SCENARIOS
    from sim.config import ratio_warnings

    return ratio_warnings(config, load_scenario(SCENARIOS / "baseline.yaml").config)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    # SIGTERM (a job killed, a CI time-out) ends a run like Ctrl-C does: the folder being
    # written is removed rather than left behind.
    signal.signal(signal.SIGTERM, _interrupt)
    app()


if __name__ == "__main__":
    main()
