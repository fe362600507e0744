"""zhongcao command line: parse, hand over to ``sim``, print. No model logic lives here.

Exit codes: 0 success; 1 a failure while running (one line on stderr); 2 bad input (an invalid
scenario lists every problem by key path and file line); 130 interrupted.
"""

from __future__ import annotations

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

ScenarioArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
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
    except KeyboardInterrupt:
        err.print("interrupted: no results were written", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except typer.Exit:
        raise
    except Exception as exc:  # the CLI's last line of defence
        message = " ".join(str(exc).split())  # one line, whatever the exception's text
        err.print(f"error: {type(exc).__name__}: {message}", markup=False)
        raise typer.Exit(EXIT_FAILURE) from None


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
    steps: Annotated[int | None, typer.Option(help="Days to simulate.")] = None,
    consumers: Annotated[int | None, typer.Option(help="Number of consumers.")] = None,
    set_: SetOpt = None,
    out: Annotated[Path, typer.Option(help="Folder for results.")] = Path("results"),
) -> None:
    """Run a scenario once; print the results folder as the last line."""
    from sim.runner import run_scenario

    overrides = list(set_ or [])
    for key, value in (("seed", seed), ("steps", steps), ("population.consumers", consumers)):
        if value is not None:
            overrides.append(f"{key}={value}")
    with handled():
        loaded = load_scenario(scenario, overrides)
        cfg = loaded.config
        with progress_bar(f"{cfg.name} ({cfg.population.consumers:,} consumers)") as bar:
            task = bar.add_task(
                f"{cfg.name} ({cfg.population.consumers:,} consumers)", total=cfg.steps
            )
            result = run_scenario(
                loaded,
                out,
                command=["zhongcao", *sys.argv[1:]],
                progress=lambda done, total: bar.update(task, completed=done),
            )
        s = result.summary
        typer.echo(
            f"{cfg.name}: {cfg.steps} days, {cfg.population.consumers:,} consumers, {result.wall_time_s:.1f} s; "
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
    steps: Annotated[int | None, typer.Option(help="Days to simulate.")] = None,
    consumers: Annotated[int | None, typer.Option(help="Number of consumers.")] = None,
    set_: SetOpt = None,
    out: Annotated[Path, typer.Option(help="Folder for results.")] = Path("results"),
) -> None:
    """Run each policy of a scenario on the same seeds; write confidence intervals and a
    figure; print the comparison folder as the last line (exit 1 if any run failed)."""
    import os

    from sim.compare import compare as run_comparison
    from sim.scenario import load_policies

    overrides = list(set_ or [])
    for key, value in (("steps", steps), ("population.consumers", consumers)):
        if value is not None:
            overrides.append(f"{key}={value}")
    with handled():
        base = load_scenario(scenario, overrides)
        policies = load_policies(scenario, overrides, policy or [])
        total = seeds * len(policies)
        n_workers = workers or min(os.cpu_count() or 1, total)
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
def validate(scenario: ScenarioArg, set_: SetOpt = None) -> None:
    """Check a scenario file; list every problem (exit 2) or say it is valid."""
    with handled():
        loaded = load_scenario(scenario, list(set_ or []))
        files = " <- ".join(str(p) for p in reversed(loaded.files))
        typer.echo(f"{scenario}: valid ({files}; sha256 {loaded.sha256[:12]})")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
