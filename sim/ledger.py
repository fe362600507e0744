"""The ledger: every yuan in the market moves through here, and none is created or lost.

Accounts are integers. A few are fixed (the world outside the market, the consumers as one
pool, the platform, the escrow where order payments wait, the merchants' deposits the platform
holds); every merchant, creator, MCN and
service provider opens its own, starting at zero. Money enters the market from ``OUTSIDE``
(merchants' starting capital) and from the consumers' pool, whose balance goes negative by
what consumers spend net of refunds and compensation (their income lies outside the model);
it leaves only to ``OUTSIDE`` (production costs, overheads, training costs, governance staff).
Every transfer takes from one account what it gives another, so the balances always sum to
zero. :meth:`Ledger.check` verifies that, and that the escrow holds exactly the payments of
orders not yet refunded or paid out; the model calls it every step and stops on a violation.

All amounts are yuan (float64). Each transfer has a *kind*; the day's total per kind is what the
metrics read (``gmv_yuan`` is the day's ``order_payment`` flow, and so on).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

OUTSIDE, CONSUMERS, PLATFORM, ESCROW, DEPOSITS = 0, 1, 2, 3, 4
FIXED_ACCOUNTS = ("outside", "consumers", "platform", "escrow", "deposits")

FLOW_KINDS = (
    "capital",  # outside -> merchant: starting cash
    "order_payment",  # consumers -> escrow: the price of an order, when placed
    "refund",  # escrow -> consumers: a returned order
    "take_commission",  # escrow -> platform: the platform's take rate on a kept order
    "creator_commission",  # escrow -> creator: the commission on a kept order
    "merchant_payout",  # escrow -> merchant: the rest of a kept order, after the payment delay
    "mcn_share",  # creator -> MCN: the MCN's share of a signed creator's commission
    "traffic_fee",  # merchant -> platform: paid traffic
    "content_income",  # platform -> creator: pay for content impressions
    "service_fee",  # merchant -> service provider: a run own account
    "production_cost",  # merchant -> outside: units produced
    "fixed_cost",  # merchant -> outside: overheads
    "entry_cost",  # merchant -> outside: setting up shop on entry (sunk)
    "training_cost",  # MCN -> outside: training signed creators
    "fine",  # merchant -> platform: a governance penalty
    "governance_cost",  # platform -> outside: screening and investigations
    "guarantee_payout",  # platform -> consumers: the guarantee fund compensates a buyer
    "shipping_subsidy",  # platform -> merchant: a recovery plan's shipping insurance (运费险)
    "deposit",  # merchant -> deposits: the deposit (保证金) posted on entry
    "deposit_refund",  # deposits -> merchant: the deposit back when the merchant leaves
    "deposit_forfeit",  # deposits -> platform: a removed merchant's deposit
    "guarantee_recovery",  # deposits -> platform: the fund recovers a payout from a deposit
)


def _running_total(start: float, values: np.ndarray) -> float:
    """``start`` plus (m,) ``values`` added one after another, in order (a cumulative sum,
    which NumPy adds sequentially, not pairwise as it does a sum)."""
    return float(np.cumsum(np.concatenate(([start], values)))[-1])


class LedgerError(RuntimeError):
    """Money was created or destroyed: a bug, never a modelling outcome."""


class Ledger:
    """Balances per account and the day's flows per kind."""

    def __init__(self) -> None:
        self.names: list[str] = list(FIXED_ACCOUNTS)
        self.balances = np.zeros(64, dtype=np.float64)
        self.flows: dict[str, float] = defaultdict(float)
        self.escrow_expected = 0.0
        self.volume = 0.0
        """Total yuan ever moved; scales the tolerance of the conservation check."""

    # accounts --------------------------------------------------------------------------------

    def open_account(self, name: str) -> int:
        account = len(self.names)
        self.names.append(name)
        if account >= len(self.balances):
            grown = np.zeros(2 * len(self.balances), dtype=np.float64)
            grown[: len(self.balances)] = self.balances
            self.balances = grown
        return account

    @property
    def n_accounts(self) -> int:
        return len(self.names)

    def balance(self, account: int) -> float:
        return float(self.balances[account])

    # transfers -------------------------------------------------------------------------------

    def transfer(self, source: int, target: int, amount: float, kind: str) -> None:
        """Move ``amount`` yuan (>= 0) from one account to another."""
        if not np.isfinite(amount) or amount < 0:
            raise LedgerError(f"invalid {kind} transfer of {amount!r} yuan")
        if amount == 0:
            return
        self.balances[source] -= amount
        self.balances[target] += amount
        self.flows[kind] += amount
        self.volume += amount

    def transfer_many(self, sources, targets, amounts, kind: str) -> None:
        """Vectorised transfers: ``sources``, ``targets`` (int) and ``amounts`` (float), all (k,).

        Either of ``sources``/``targets`` may be a single account for all.
        """
        amounts = np.asarray(amounts, dtype=np.float64)
        if amounts.size == 0:
            return
        if not np.all(np.isfinite(amounts)) or np.any(amounts < 0):
            raise LedgerError(f"invalid {kind} transfers (negative or not finite)")
        n = self.n_accounts
        self.balances[:n] -= np.bincount(
            np.broadcast_to(sources, amounts.shape), amounts, minlength=n
        )
        self.balances[:n] += np.bincount(
            np.broadcast_to(targets, amounts.shape), amounts, minlength=n
        )
        total = float(amounts.sum())
        self.flows[kind] += total
        self.volume += total

    def pay_rows(self, sources, target: int, amounts, kinds) -> None:
        """Each of ``sources`` ((k,) int, distinct accounts) pays its row of ``amounts``
        ((k, j) yuan, >= 0) to ``target``, the j transfers of a row of the kinds ``kinds``
        (j names): the same balances, flows and volume, to the bit, as the k x j
        :meth:`transfer` calls row by row (every running total is summed in that order; a
        zero moves nothing)."""
        amounts = np.asarray(amounts, dtype=np.float64)
        if amounts.size == 0:
            return
        if not np.all(np.isfinite(amounts)) or np.any(amounts < 0):
            raise LedgerError(f"invalid {'/'.join(kinds)} transfers (negative or not finite)")
        paid = self.balances[sources]
        for column in amounts.T:
            paid = paid - column
        self.balances[sources] = paid
        flat = amounts.ravel()
        self.balances[target] = _running_total(self.balances[target], flat)
        for kind in dict.fromkeys(kinds):
            of_kind = flat[np.tile([k == kind for k in kinds], amounts.shape[0])]
            if np.any(of_kind != 0):
                self.flows[kind] = _running_total(self.flows[kind], of_kind)
        self.volume = _running_total(self.volume, flat)

    # the escrow's own bookkeeping -------------------------------------------------------------

    def hold(self, amount: float) -> None:
        """Record that ``amount`` of order payments now waits in escrow."""
        self.escrow_expected += amount

    def release(self, amount: float) -> None:
        """Record that ``amount`` of order payments left escrow (refund or payout)."""
        self.escrow_expected -= amount

    # the day ---------------------------------------------------------------------------------

    def start_day(self) -> None:
        self.flows = defaultdict(float)

    def flow(self, kind: str) -> float:
        if kind not in FLOW_KINDS:
            raise KeyError(f"unknown flow kind {kind!r}")
        return self.flows.get(kind, 0.0)

    def check(self, day: int) -> None:
        """Raise :class:`LedgerError` if money was created or lost, or escrow does not match."""
        tolerance = 1e-9 * max(self.volume, 1.0)
        unknown = set(self.flows) - set(FLOW_KINDS)
        if unknown:
            raise LedgerError(f"day {day}: transfers of unknown kinds {sorted(unknown)}")
        total = float(self.balances[: self.n_accounts].sum())
        if abs(total) > tolerance:
            raise LedgerError(
                f"day {day}: money not conserved, account balances sum to {total:.6f} yuan"
            )
        escrow = float(self.balances[ESCROW])
        if abs(escrow - self.escrow_expected) > tolerance:
            raise LedgerError(
                f"day {day}: escrow holds {escrow:.2f} yuan but open orders account for "
                f"{self.escrow_expected:.2f} yuan"
            )
