"""The ledger: transfers move money without creating it, and the checks catch any that does."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny_config

from sim.ledger import (
    CONSUMERS,
    ESCROW,
    FIXED_ACCOUNTS,
    OUTSIDE,
    PLATFORM,
    Ledger,
    LedgerError,
)
from sim.model import MarketModel
from sim.scenario import ScenarioError


def total(ledger: Ledger) -> float:
    return float(ledger.balances[: ledger.n_accounts].sum())


def test_fixed_accounts_come_first():
    """A new ledger has the five fixed accounts, all at zero; new accounts are numbered after."""
    ledger = Ledger()
    assert ledger.n_accounts == len(FIXED_ACCOUNTS) == 5
    assert ledger.open_account("merchant:0") == 5
    assert ledger.open_account("creator:0") == 6
    assert all(ledger.balance(a) == 0.0 for a in range(7))


def test_transfer_moves_money_and_records_the_flow():
    """A transfer debits the source, credits the target and adds to the day's flow of its kind."""
    ledger = Ledger()
    m = ledger.open_account("merchant:0")
    ledger.transfer(OUTSIDE, m, 1000.0, "capital")
    ledger.transfer(m, OUTSIDE, 250.0, "production_cost")
    assert ledger.balance(m) == 750.0
    assert ledger.balance(OUTSIDE) == -750.0
    assert ledger.flow("capital") == 1000.0
    assert ledger.flow("production_cost") == 250.0
    assert ledger.flow("refund") == 0.0
    assert total(ledger) == 0.0


@pytest.mark.parametrize("amount", [-1.0, float("nan"), float("inf")])
def test_invalid_amounts_are_refused(amount):
    """Negative or non-finite amounts raise and leave balances untouched."""
    ledger = Ledger()
    with pytest.raises(LedgerError):
        ledger.transfer(OUTSIDE, CONSUMERS, amount, "capital")
    with pytest.raises(LedgerError):
        ledger.transfer_many(OUTSIDE, [CONSUMERS, PLATFORM], [1.0, amount], "capital")
    assert not ledger.balances.any()


def test_zero_transfer_changes_nothing():
    """A transfer of 0 moves nothing and adds no volume."""
    ledger = Ledger()
    ledger.transfer(OUTSIDE, CONSUMERS, 0.0, "capital")
    assert not ledger.balances.any()
    assert ledger.volume == 0.0


def test_transfer_many_equals_the_single_transfers():
    """Vectorised transfers (with a shared source) leave the same balances as one by one."""
    one = Ledger()
    many = Ledger()
    for ledger in (one, many):
        for i in range(3):
            ledger.open_account(f"creator:{i}")
    targets = np.array([4, 5, 4, 6])
    amounts = np.array([10.0, 2.5, 7.0, 1.0])
    for t, a in zip(targets, amounts, strict=True):
        one.transfer(PLATFORM, int(t), float(a), "content_income")
    many.transfer_many(PLATFORM, targets, amounts, "content_income")
    np.testing.assert_allclose(many.balances, one.balances)
    assert many.flow("content_income") == pytest.approx(amounts.sum())
    np.testing.assert_allclose(many.balances[[4, 5, 6]], [17.0, 2.5, 1.0])


def test_transfer_many_of_nothing_is_a_no_op():
    """An empty batch changes nothing."""
    ledger = Ledger()
    ledger.transfer_many(OUTSIDE, np.empty(0, int), np.empty(0), "capital")
    assert not ledger.balances.any()


def test_balances_sum_to_zero_after_many_transfers():
    """Random transfers among many accounts conserve money, and check() passes."""
    rng = np.random.default_rng(0)
    ledger = Ledger()
    accounts = [ledger.open_account(f"a{i}") for i in range(100)]  # grows past 64 slots
    for _ in range(500):
        s, t = rng.choice([*accounts, OUTSIDE, CONSUMERS, PLATFORM], size=2)
        ledger.transfer(int(s), int(t), float(rng.exponential(100.0)), "fine")
    ledger.transfer_many(
        rng.choice(accounts, 50), rng.choice(accounts, 50), rng.exponential(10.0, 50), "fine"
    )
    assert abs(total(ledger)) <= 1e-9 * ledger.volume
    ledger.check(day=0)


def test_growing_the_ledger_keeps_balances():
    """Opening accounts beyond the initial array size keeps every earlier balance."""
    ledger = Ledger()
    first = ledger.open_account("first")
    ledger.transfer(OUTSIDE, first, 42.0, "capital")
    last = [ledger.open_account(f"x{i}") for i in range(200)][-1]
    ledger.transfer(first, last, 2.0, "fine")
    assert ledger.balance(first) == 40.0
    assert ledger.balance(last) == 2.0
    assert ledger.balance(OUTSIDE) == -42.0


def test_check_catches_money_created_out_of_nothing():
    """A balance changed outside a transfer breaks conservation and check() raises."""
    ledger = Ledger()
    ledger.transfer(OUTSIDE, CONSUMERS, 100.0, "capital")
    ledger.balances[CONSUMERS] += 1.0
    with pytest.raises(LedgerError, match="not conserved"):
        ledger.check(day=3)


def test_check_catches_escrow_that_does_not_match_open_orders():
    """Paying into escrow without recording the hold (or the reverse) fails the check."""
    ledger = Ledger()
    ledger.transfer(CONSUMERS, ESCROW, 50.0, "order_payment")
    with pytest.raises(LedgerError, match="escrow"):
        ledger.check(day=0)
    ledger.hold(50.0)
    ledger.check(day=0)
    ledger.release(20.0)
    with pytest.raises(LedgerError, match="escrow"):
        ledger.check(day=0)
    ledger.transfer(ESCROW, CONSUMERS, 20.0, "refund")
    ledger.check(day=0)


def test_check_catches_unknown_flow_kinds():
    """A transfer of a kind not in FLOW_KINDS is reported by check()."""
    ledger = Ledger()
    ledger.transfer(OUTSIDE, CONSUMERS, 1.0, "gift")
    with pytest.raises(LedgerError, match="unknown kinds"):
        ledger.check(day=0)


def test_flow_of_an_unknown_kind_is_an_error():
    """Reading the flow of a kind that does not exist raises KeyError."""
    with pytest.raises(KeyError):
        Ledger().flow("gift")


def test_start_day_resets_flows_not_balances():
    """A new day starts with zero flows; balances carry over."""
    ledger = Ledger()
    ledger.transfer(OUTSIDE, CONSUMERS, 5.0, "capital")
    ledger.start_day()
    assert ledger.flow("capital") == 0.0
    assert ledger.balance(CONSUMERS) == 5.0


# the ledger inside the model ----------------------------------------------------------------------


def test_model_day_moves_order_payments_into_escrow():
    """A day's order payments equal its GMV, and escrow holds what is not yet refunded or paid."""
    model = MarketModel(tiny_config("population.consumers=500"), seed=1)
    model.step()
    ledger = model.ledger
    assert ledger.flow("order_payment") == pytest.approx(model.metrics["gmv_yuan"])
    assert ledger.flow("order_payment") > 0
    open_orders = model.in_transit["price_yuan"].sum() + model.awaiting_payout["price_yuan"].sum()
    assert ledger.balance(ESCROW) == pytest.approx(open_orders)


def test_payouts_split_the_price_among_platform_creator_and_merchant():
    """Paid-out orders leave escrow in full: take + creator commission + merchant payout."""
    model = MarketModel(
        tiny_config("population.consumers=500", "platform.payment_delay_days=0"), seed=2
    )
    for _ in range(4):
        model.step()
        ledger = model.ledger
        paid = sum(
            ledger.flow(kind)
            for kind in ("take_commission", "creator_commission", "merchant_payout")
        )
        model.ledger.check(model.day)
        if paid:
            break
    assert paid > 0
    assert ledger.balance(ESCROW) == pytest.approx(ledger.escrow_expected)


def test_high_take_rate_is_rejected_or_settled_without_breaking_the_ledger():
    """A take rate of 0.9 either fails validation or runs with money conserved."""
    overrides = (
        "population.consumers=1000",
        "platform.take_rate=0.9",
        "platform.payment_delay_days=0",
    )
    try:
        config = tiny_config(*overrides)
    except ScenarioError:
        return
    model = MarketModel(config, seed=3)
    for _ in range(6):
        model.step()
    model.ledger.check(model.day)
