"""``zhongcao check --targets FILE``: one case per target of a targets file (sim.targets):
the target's figure at the scale's market, averaged over its seeds, within its band."""

from __future__ import annotations

import math

import numpy as np

from sim.checks.base import Case, Scale, Verdict, arm
from sim.targets import Target, TargetFile, evaluate, missing_metrics


def _case(target: Target) -> Case:
    def run(scale: Scale) -> Verdict:
        lacking = missing_metrics(target)
        if lacking:
            return Verdict(f"not measurable: the model lacks {', '.join(lacking)}", False)
        at = Scale(
            seeds=scale.seeds,
            consumers=scale.consumers,
            days=target.days or scale.days,
            scenario=target.scenario,
            workers=scale.workers,
        )
        figures = [evaluate(target, run) for run in arm(at)]
        value = float(np.mean(figures)) if all(map(math.isfinite, figures)) else math.nan
        low, high = target.band
        spread = f" (seeds {min(figures):.4g} to {max(figures):.4g})" if len(figures) > 1 else ""
        return Verdict(
            f"{value:.4g}{spread}; target {target.value:g} in [{low:g}, {high:g}]",
            low <= value <= high,
        )

    return Case(
        name=f"target_{target.name}",
        expectation=f"{target.expression} within [{target.band[0]:g}, {target.band[1]:g}]",
        why=f"{target.source} ({target.grade})",
        run=run,
    )


def target_cases(targets: TargetFile) -> dict[str, Case]:
    """A check case per target."""
    cases = (_case(t) for t in targets.targets)
    return {c.name: c for c in cases}
