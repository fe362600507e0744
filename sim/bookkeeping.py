"""Bookkeeping the model keeps beside its agents: who is in the market (listed once, reused
until someone arrives or leaves) and how long each phase of the day takes."""

from __future__ import annotations

import time


class InMarket:
    """The agents of each type in activation order, independent creators apart: listed once
    from Mesa's ``agents_by_type`` and reused until an agent arrives or leaves (:meth:`clear`),
    so that every phase and metric asking for them costs no walk over the agents."""

    def __init__(self, agents_by_type) -> None:
        self._agents_by_type = agents_by_type
        self._cache: dict[tuple, list] = {}

    def of(self, kind: type, independent: bool = False) -> list:
        key = (kind, independent)
        cached = self._cache.get(key)
        if cached is None:
            cached = list(self._agents_by_type().get(kind, []))
            if independent:
                cached = [c for c in cached if c.independent]
            self._cache[key] = cached
        return cached

    def clear(self) -> None:
        self._cache.clear()


class InMarketHooks:
    """Mixed into a Mesa model that keeps an :class:`InMarket` as ``self.in_market``: an agent's
    arrival or departure clears it."""

    def register_agent(self, agent) -> None:
        super().register_agent(agent)
        self.in_market.clear()

    def deregister_agent(self, agent) -> None:
        super().deregister_agent(agent)
        self.in_market.clear()


class PhaseClock:
    """Wall time per phase over the steps run (for the benchmark)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def run(self, phase: str, fn, *args):
        """Run one phase and add its wall time."""
        start = time.perf_counter()
        result = fn(*args)
        self.add(phase, start)
        return result

    def add(self, phase: str, start: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - start
