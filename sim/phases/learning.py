"""Phase 10, learning: merchants adapt price, commission, traffic bids and capacity (in random
order); creators fold in the day's income; MCNs train their creators; the platform updates
each merchant's recent sales."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import mesa

    from sim.agents.mcn import Mcn
    from sim.agents.platform import Platform


def learn(
    merchants: mesa.agent.AgentSet | None,
    creators: mesa.agent.AgentSet | None,
    mcns: list[Mcn],
    platform: Platform,
    units_sold: np.ndarray,
) -> None:
    """``merchants`` and ``creators`` are the active agent sets (the merchants review in the
    model's random order); ``units_sold`` (M,) today per merchant idx."""
    if merchants is not None:
        merchants.shuffle_do("review")
    if creators is not None:
        creators.do("end_day")
    for mcn in mcns:
        mcn.train()
    platform.observe_sales(units_sold)
