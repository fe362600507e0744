"""Phase 10, learning: merchants adapt price, commission and traffic (in random order);
creators fold in the day's income; MCNs train their creators; the platform updates each
merchant's recent sales; entrants' view of how well merchants do moves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import mesa

    from sim.agents.mcn import Mcn
    from sim.agents.platform import Platform
    from sim.phases.entry_exit import EntrySignal


def learn(
    merchants: mesa.agent.AgentSet | None,
    creators: mesa.agent.AgentSet | None,
    mcns: list[Mcn],
    platform: Platform,
    units_sold: np.ndarray,
    signal: EntrySignal,
    margin_yuan: float,
    overhead_yuan: float,
    memory_days: float,
) -> None:
    """``merchants`` and ``creators`` are the active agent sets (the merchants review in the
    model's random order); ``units_sold`` (M,) today per merchant idx; ``margin_yuan`` and
    ``overhead_yuan`` are merchants' gross margin and overheads today."""
    if merchants is not None:
        merchants.shuffle_do("review")
    if creators is not None:
        creators.do("end_day")
    for mcn in mcns:
        mcn.train()
    platform.observe_sales(units_sold)
    signal.observe(margin_yuan, overhead_yuan, memory_days)
