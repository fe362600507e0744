"""Platform programs: traffic subsidies, newcomer support and merchant recovery plans.

A program is on from ``start_day`` to ``end_day`` while it has budget left. What it gives:

* a ranking **boost** (log-weight) to the listings of the merchants it serves, or to the content
  of new creators (newcomer support for creators); the traffic this buys is valued at the CPM
  price of the extra impressions, ``impressions x (1 - exp(-boost)) x cpm / 1000`` — the
  traffic revenue the platform forgoes — and charged to the program's budget;
* for a recovery plan: a shorter payment delay (急速收款), a shipping-insurance payment per
  returned order (运费险补贴, cash from the platform), and commission-free selling (免佣, the take
  commission waived is charged to the budget).

A program pushes a listing only while the listing's stock holds at least a day of its recent
sales (:func:`paced_to_stock`). When several programs serve the same listing the one with the largest boost gives its boost,
and the first recovery plan serving it gives its terms. Newcomer support serves creators and
merchants that arrived after the start (not those present on day 0), and only independent
creators, not merchants' own accounts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sim.agents.merchant import Merchant
    from sim.config import ProgramConfig, RecoveryPlanProgram

NO_PROGRAM = -1


def _targets(program, merchant: Merchant, category_names: tuple[str, ...]) -> bool:
    target = program.target
    if target.merchant_kinds and merchant.kind not in target.merchant_kinds:
        return False
    return not (target.categories and category_names[merchant.category] not in target.categories)


@dataclass(frozen=True)
class ProgramKind:
    """What a kind of program does: whom it serves, and whether it carries a recovery plan's
    terms (payment delay, shipping insurance, commission waiver)."""

    serves_merchant: Callable[[Any, Merchant, int, np.ndarray, tuple[str, ...]], bool]
    """(program, merchant, day, shocked regions, category names) -> served today."""
    serves_merchants: Callable[[Any], bool] = lambda program: True
    serves_new_creators: Callable[[Any], bool] = lambda program: False
    recovery_terms: bool = False


def _newcomer_merchant(program, merchant, day, shocked_regions, category_names) -> bool:
    # Newcomers arrived after the start; those present on day 0 are incumbents.
    new = merchant.entry_day > 0 and day - merchant.entry_day < program.max_age_days
    return program.newcomers == "merchants" and new


def _recovery_merchant(program, merchant, day, shocked_regions, category_names) -> bool:
    if not _targets(program, merchant, category_names):
        return False
    return bool(shocked_regions[merchant.region]) if program.shocked_regions_only else True


PROGRAM_KINDS: dict[str, ProgramKind] = {
    "traffic_subsidy": ProgramKind(
        serves_merchant=lambda program, merchant, day, shocked, names: _targets(
            program, merchant, names
        )
    ),
    "newcomer_support": ProgramKind(
        serves_merchant=_newcomer_merchant,
        serves_merchants=lambda program: program.newcomers == "merchants",
        serves_new_creators=lambda program: program.newcomers == "creators",
    ),
    "recovery_plan": ProgramKind(serves_merchant=_recovery_merchant, recovery_terms=True),
}
"""Program kind (the schema's ``kind`` tag) -> what programs of that kind do."""


@dataclass(frozen=True)
class MerchantService:
    """Programs serving each of a list of merchants today, (m,) arrays."""

    boost_program: np.ndarray  # int: the program whose boost applies, or -1
    boost: np.ndarray  # float: that boost (log-weight)
    recovery_program: np.ndarray  # int: the recovery plan whose terms apply, or -1


@dataclass
class ProgramState:
    config: ProgramConfig
    spent_yuan: float = 0.0
    spent_today_yuan: float = 0.0

    def is_on(self, day: int) -> bool:
        return self.config.is_on(day) and self.spent_yuan < self.config.budget_yuan

    def charge(self, amount_yuan: float) -> None:
        """Spend from the budget (never beyond it)."""
        amount = min(amount_yuan, self.config.budget_yuan - self.spent_yuan)
        if amount > 0:
            self.spent_yuan += amount
            self.spent_today_yuan += amount


@dataclass
class Programs:
    """The scenario's programs and what they spent."""

    states: list[ProgramState] = field(default_factory=list)
    category_names: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, programs: list[ProgramConfig], category_names: list[str]) -> Programs:
        return cls([ProgramState(p) for p in programs], tuple(category_names))

    def start_day(self) -> None:
        for state in self.states:
            state.spent_today_yuan = 0.0

    @property
    def spent_today_yuan(self) -> float:
        return sum(s.spent_today_yuan for s in self.states)

    def for_merchants(
        self, merchants: list[Merchant], day: int, shocked_regions: np.ndarray
    ) -> MerchantService:
        """Which programs serve each merchant today: the one whose boost applies (the largest,
        of several) and the recovery plan whose terms apply (the first, of several)."""
        service = MerchantService(
            boost_program=np.full(len(merchants), NO_PROGRAM, dtype=np.int64),
            boost=np.zeros(len(merchants)),
            recovery_program=np.full(len(merchants), NO_PROGRAM, dtype=np.int64),
        )
        for p, state in enumerate(self.states):
            cfg = state.config
            kind = PROGRAM_KINDS[cfg.kind]
            if not state.is_on(day) or not kind.serves_merchants(cfg):
                continue
            for i, merchant in enumerate(merchants):
                if not kind.serves_merchant(
                    cfg, merchant, day, shocked_regions, self.category_names
                ):
                    continue
                if service.boost_program[i] == NO_PROGRAM or cfg.boost > service.boost[i]:
                    service.boost_program[i] = p
                    service.boost[i] = cfg.boost
                if kind.recovery_terms and service.recovery_program[i] == NO_PROGRAM:
                    service.recovery_program[i] = p
        return service

    def for_new_creators(
        self, entry_day: np.ndarray, independent: np.ndarray, day: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The newcomer program serving each creator today and its boost: independent
        creators who arrived after the start, within ``max_age_days``. (c,) entry days and
        independence -> ((c,) int, (c,) float)."""
        program = np.full(entry_day.size, NO_PROGRAM, dtype=np.int64)
        boost = np.zeros(entry_day.size)
        for p, state in enumerate(self.states):
            cfg = state.config
            if not PROGRAM_KINDS[cfg.kind].serves_new_creators(cfg):
                continue
            if not state.is_on(day):
                continue
            new = independent & (entry_day > 0) & (day - entry_day < cfg.max_age_days)
            better = new & ((program == NO_PROGRAM) | (cfg.boost > boost))
            program[better] = p
            boost[better] = cfg.boost
        return program, boost

    def recovery(self, p: int) -> RecoveryPlanProgram | None:
        """Program ``p`` if it is a recovery plan."""
        if p == NO_PROGRAM:
            return None
        cfg = self.states[p].config
        return cfg if PROGRAM_KINDS[cfg.kind].recovery_terms else None

    def charge_traffic(self, program: np.ndarray, value_yuan: np.ndarray) -> None:
        """Charge each program the value of the traffic it gave: ``program`` (k,) indices
        (-1 = none), ``value_yuan`` (k,)."""
        served = program >= 0
        totals = np.bincount(program[served], value_yuan[served], minlength=len(self.states))
        for state, amount in zip(self.states, totals, strict=True):
            state.charge(float(amount))

    def spent_by_kind(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for state in self.states:
            out[state.config.kind] = out.get(state.config.kind, 0.0) + state.spent_yuan
        return out


def paced_to_stock(
    program: np.ndarray, boost: np.ndarray, stock: np.ndarray, units_per_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A program pushes a listing only while its stock holds at least a day of its recent
    sales (the platform's moving average of units sold per day): traffic sent to goods that
    will sell out is traffic lost. (m,) arrays -> the (program, boost) that apply."""
    paced = stock >= units_per_day
    return np.where(paced, program, NO_PROGRAM), np.where(paced, boost, 0.0)
