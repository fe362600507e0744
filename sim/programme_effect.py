"""How much of a program's GMV is new and how much diverted, by common random numbers.

Two arms of the same scenario and seeds, with and without the program, see the same draws
wherever they make the same choices (the counter-based streams of :mod:`sim.rng`), so their
difference removes the luck the arms share. Paths part once a choice differs, so what remains
still varies with the seed: the split reports its standard error over the pairs.

    program GMV  = G_served(with) - G_served(without)   what the served merchants gained
    new GMV      = G_total(with)  - G_total(without)    what the market gained
    diverted GMV = program GMV - new GMV                 what other merchants lost

each summed over the counted days of a run and averaged over the seeds (docs/MODEL.md §7.27).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class ProgramSplit:
    program_gmv_yuan: float
    new_gmv_yuan: float
    diverted_gmv_yuan: float
    seeds: int
    new_gmv_se_yuan: float = float("nan")
    """Standard error of the new GMV over the paired seeds (NaN with one pair)."""

    @property
    def new_gmv_is_positive(self) -> bool:
        """The new GMV is above zero by more than two standard errors."""
        return bool(self.new_gmv_yuan > 2 * self.new_gmv_se_yuan)

    @property
    def new_share(self) -> float:
        """New GMV as a share of the program's GMV (NaN when it brought none)."""
        p = self.program_gmv_yuan
        return self.new_gmv_yuan / p if p > 0 else float("nan")

    def describe(self) -> str:
        return (
            f"program GMV {self.program_gmv_yuan:,.0f} yuan = new {self.new_gmv_yuan:,.0f} "
            f"(se {self.new_gmv_se_yuan:,.0f}; {self.new_share:.0%}) + diverted "
            f"{self.diverted_gmv_yuan:,.0f} (mean of {self.seeds} paired seeds)"
        )


def split_program_gmv(
    with_program: Sequence[pd.DataFrame],
    without: Sequence[pd.DataFrame],
    served_metric: str,
    total_metric: str = "gmv_yuan",
) -> ProgramSplit:
    """The split from per-day metric tables of paired runs (seed i with and without the
    program); ``served_metric`` is the GMV of the merchants the program serves (for a program
    targeting a merchant kind, ``gmv_kind_<kind>_yuan``)."""
    if len(with_program) != len(without) or not with_program:
        raise ValueError("the two arms need the same, non-zero number of paired runs")
    pairs = list(zip(with_program, without, strict=True))
    served = [a[served_metric].sum() - b[served_metric].sum() for a, b in pairs]
    total = [a[total_metric].sum() - b[total_metric].sum() for a, b in pairs]
    program, new = float(np.mean(served)), float(np.mean(total))
    se = float(stats.sem(total)) if len(total) > 1 else float("nan")
    return ProgramSplit(program, new, program - new, len(served), se)
