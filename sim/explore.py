"""The browser explorer (``zhongcao explore``): Mesa's SolaraViz on :class:`sim.api.Market`.

The sidebar holds Mesa's controls (Reset, play/pause, Step) and the main levers: the
scenario, governance strictness, the take rate, each channel on or off, the scenario's
programmes on or off, and the number of consumers (up to :data:`MAX_CONSUMERS`, which steps
smoothly). A lever takes effect at the next Reset, as in every SolaraViz page. The main view
shows, live, a summary of the day, the headline metrics over days (with a saved baseline
run's lines when one is given), the channel mix of GMV and the governance actions cumulated.

Charts are drawn with matplotlib figures that are never handed to pyplot, from the market's
DataCollector; labels come from the metric registry (:mod:`sim.labels`).

:func:`page` builds the page; ``sim.explore_app`` is the module ``solara run`` serves, which
reads the scenario and baseline from the environment that ``zhongcao explore`` sets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.api import Market, scenario_path, shipped_scenarios
from sim.labels import is_share, label, with_unit
from sim.plots import GOVERNANCE_COUNTS, NUMBER_FORMAT
from sim.scenario import load_scenario
from sim.vocabulary import CHANNELS

MAX_CONSUMERS = 20_000
DEFAULT_CONSUMERS = 3_000
HEADLINE = ("gmv_yuan", "quality_gmv_yuan", "violator_gmv_share", "mean_platform_trust")
SCENARIO_ENV = "ZHONGCAO_EXPLORE_SCENARIO"
BASELINE_ENV = "ZHONGCAO_EXPLORE_BASELINE"

SCENARIOS: dict[str, Path] = {}
"""Scenarios the page offers: name -> file (the shipped ones and the one asked for)."""
BASELINE: dict[str, pd.DataFrame] = {}
"""The saved baseline run, once read: ``{"wide": one row per day, one column per metric}``."""


class ExplorerMarket(Market):
    """A :class:`~sim.api.Market` whose scenario is one of :data:`SCENARIOS` by name, with
    every lever a keyword SolaraViz can set, and no agent tables (they cost time per step)."""

    def __init__(
        self,
        scenario: str = "tiny",
        strictness: float = 0.5,
        take_rate: float = 0.05,
        consumers: int = DEFAULT_CONSUMERS,
        feed: bool = True,
        live: bool = True,
        follow: bool = True,
        search: bool = True,
        mall: bool = True,
        programs: bool = True,
        seed: int | None = None,
    ):
        self.scenario_name = scenario
        super().__init__(
            str(SCENARIOS.get(scenario, scenario)), strictness=strictness, take_rate=take_rate,
            consumers=int(consumers), feed=feed, live=live, follow=follow, search=search,
            mall=mall, programs=programs, seed=seed, collect_agents=False,
        )  # fmt: skip


def model_params(default: str) -> dict:
    """SolaraViz inputs for the levers, starting from the scenario ``default``'s values."""
    config = load_scenario(SCENARIOS[default]).config
    channels = config.platform.channels
    return {
        "scenario": {"type": "Select", "value": default, "values": sorted(SCENARIOS),
                     "label": "scenario"},
        "strictness": {"type": "SliderFloat", "value": config.platform.governance.strictness,
                       "min": 0.0, "max": 1.0, "step": 0.05, "label": "governance strictness"},
        "take_rate": {"type": "SliderFloat", "value": config.platform.take_rate, "min": 0.0,
                      "max": 0.2, "step": 0.01, "label": "take rate (share of price)"},
        "consumers": {"type": "SliderInt",
                      "value": min(config.population.consumers, DEFAULT_CONSUMERS),
                      "min": 500, "max": MAX_CONSUMERS, "step": 500, "label": "consumers"},
        **{ch: {"type": "Checkbox", "value": getattr(channels, ch), "label": f"{ch} channel"}
           for ch in CHANNELS},
        "programs": {"type": "Checkbox", "value": True, "label": "the scenario's programmes"},
    }  # fmt: skip


def _days(model: Market) -> pd.DataFrame:
    return model.datacollector.get_model_vars_dataframe()


def _figure(width: float, height: float, rows: int = 1, cols: int = 1):
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, list(axes.flat)


def _show(fig: Figure) -> None:
    solara.FigureMatplotlib(fig, format="png", dependencies=[update_counter.value])


@solara.component
def Summary(model: Market):
    """The day in words: what the levers are and the headline numbers so far."""
    update_counter.get()
    days = _days(model)
    cfg = model.config
    on = [ch for ch in CHANNELS if getattr(cfg.platform.channels, ch)]
    text = (
        f"**{model.scenario_name}** — day {model.day} of {model.days_in_all}"
        + (f" (the first {cfg.warmup_days} a warm-up)" if cfg.warmup_days else "")
        + "; "
        f"strictness {cfg.platform.governance.strictness:.2f}, take rate "
        f"{cfg.platform.take_rate:.2f}, {cfg.population.consumers:,} consumers, channels: "
        f"{', '.join(on) or 'none'}."
    )
    if len(days):
        total = days.sum()
        text += (
            f"\n\nSo far: GMV {total['gmv_yuan']:,.0f} yuan (live {total['gmv_live_yuan']:,.0f}); "
            f"{total['orders']:,.0f} orders; governance actions: "
            + ", ".join(f"{label(m)} {total[m]:,.0f}" for m in GOVERNANCE_COUNTS)
            + "."
        )
    solara.Markdown(text)


@solara.component
def Headline(model: Market):
    """The headline metrics over days; the saved baseline run's in dashed grey."""
    update_counter.get()
    days = _days(model)
    base = BASELINE.get("wide")
    fig, axes = _figure(6.0, 4.4, 2, 2)
    for ax, metric in zip(axes, HEADLINE, strict=True):
        if base is not None and metric in base:
            ax.plot(base.index, base[metric], color="grey", linestyle="--", label="baseline run")
        if len(days):
            ax.plot(np.arange(len(days)), days[metric], color="tab:blue", label="this run")
        ax.set_title(label(metric), fontsize=9, loc="left")
        ax.set_xlabel("day", fontsize=8)
        ax.set_ylabel(with_unit(metric), fontsize=8)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0) if is_share(metric) else NUMBER_FORMAT)
        ax.set_xlim(0, max(len(days) - 1, 1))
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    if base is not None:
        axes[0].legend(fontsize=7)
    _show(fig)


@solara.component
def Channels(model: Market):
    """GMV by channel, stacked, day by day."""
    update_counter.get()
    days = _days(model)
    fig, (ax,) = _figure(5.5, 3.0)
    if len(days):
        ax.stackplot(np.arange(len(days)), *[days[f"gmv_{ch}_yuan"] for ch in CHANNELS],
                     labels=CHANNELS, alpha=0.85)  # fmt: skip
        ax.legend(fontsize=7, loc="upper left")
    ax.set_xlim(0, max(len(days) - 1, 1))
    ax.set_title("channel mix: GMV by channel", fontsize=9, loc="left")
    ax.set_xlabel("day", fontsize=8)
    ax.set_ylabel("GMV (yuan per day)", fontsize=8)
    ax.yaxis.set_major_formatter(NUMBER_FORMAT)
    ax.grid(alpha=0.3)
    _show(fig)


@solara.component
def Governance(model: Market):
    """The five governance actions, cumulated."""
    update_counter.get()
    days = _days(model)
    fig, (ax,) = _figure(5.5, 3.0)
    for metric in GOVERNANCE_COUNTS:
        values = days[metric].cumsum() if len(days) else []
        ax.plot(np.arange(len(values)), values, label=label(metric))
    ax.legend(fontsize=7, loc="upper left")
    ax.set_xlim(0, max(len(days) - 1, 1))
    ax.set_title("governance actions, cumulated", fontsize=9, loc="left")
    ax.set_xlabel("day", fontsize=8)
    ax.set_ylabel("actions", fontsize=8)
    ax.yaxis.set_major_formatter(NUMBER_FORMAT)
    ax.grid(alpha=0.3)
    _show(fig)


def prepare(scenario: str | Path | None, baseline: str | Path | None) -> str:
    """Fill :data:`SCENARIOS` (and :data:`BASELINE` from a run folder); returns the name of
    the scenario the page starts with."""
    SCENARIOS.clear()
    SCENARIOS.update(shipped_scenarios())
    default = "tiny"
    if scenario:
        path = scenario_path(scenario)
        default = load_scenario(path).config.name
        SCENARIOS[default] = path
    BASELINE.clear()
    if baseline:
        from sim.results import RunResults, open_results

        results = open_results(baseline)
        if not isinstance(results, RunResults):
            raise ValueError(f"{baseline}: a run folder is needed as the baseline")
        BASELINE["wide"] = results.wide
    return default


def page(scenario: str | Path | None = None, baseline: str | Path | None = None):
    """The SolaraViz page for a scenario (default ``tiny``) and an optional baseline run."""
    default = prepare(scenario, baseline)
    params = model_params(default)
    start = {k: v["value"] for k, v in params.items()}
    return SolaraViz(
        ExplorerMarket(**start),
        components=[Summary, Headline, Channels, Governance],
        model_params=params,
        name="zhongcao explorer",
        play_interval=50,
    )
