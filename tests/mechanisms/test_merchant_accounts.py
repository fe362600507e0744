"""Merchants' accrual accounts, exit on expected losses, entry by profits, capacity that
follows demand, and the market's size: each compares runs of the tiny market on one seed, or
checks an accounting identity day by day."""

from __future__ import annotations

import copy
import functools

import numpy as np
from conftest import tiny_config
from market_runs import SEED, market, run

from sim.agents.merchant import Merchant, ema
from sim.config import ratio_warnings
from sim.phases.record import merchant_equity
from sim.resources import estimate_memory
from sim.runner import simulate
from sim.vocabulary import MERCHANT_KINDS

KINDS = MERCHANT_KINDS


def every_kind(key: str, value) -> list[str]:
    return [f"merchants.kinds.{k}.{key}={value}" for k in KINDS]


def stock_and_receivables(model) -> float:
    """What merchants own besides cash: stock at unit cost and receivables in escrow."""
    equity = merchant_equity(model.merchants, model.ledger, model.in_transit, model.awaiting_payout)
    cash = np.array([m.cash_yuan for m in model.merchants])
    return float((equity - cash).sum())


def test_accrual_profit_is_cash_flow_plus_the_change_in_stock_and_receivables():
    """Every day, merchants' accrual profit equals their net cash flow plus the change in the
    value of their stock and of their receivables in escrow, plus the sunk costs of entry
    paid that day: making stock is no loss, a sale is income when placed."""
    model = market("merchants.entry_share_per_day=0.25", "steps=12")
    held = stock_and_receivables(model)
    saw_entry = False
    for _ in range(model.config.steps):
        model.step()
        now = stock_and_receivables(model)
        entry = model.ledger.flow("entry_cost")
        saw_entry |= entry > 0
        accrual = model.metrics["merchant_profit_accrual_yuan"]
        cash = model.metrics["merchant_profit_yuan"]
        np.testing.assert_allclose(accrual, cash + (now - held) + entry, rtol=1e-9, atol=1e-6)
        held = now
    assert saw_entry


LOSING = (
    "steps=20",
    *every_kind("fixed_cost_yuan_per_day", 3000),
    *every_kind("initial_cash_yuan", 1e9),
)


def test_merchants_expecting_losses_exit_before_their_cash_runs_out():
    """With overheads no sale covers and cash that will not run out, merchants exit once
    their expected profit has stayed negative for their patience; with a patience longer than
    the run, none does."""
    quick = run(*LOSING, "merchants.exit.patience_days=5")
    patient = run(*LOSING, "merchants.exit.patience_days=1000")
    exited = [m for m in quick.model.merchants if m.status == "exited"]
    assert exited
    assert all(m.cash_yuan > 0 for m in exited)
    assert all(m.exit_day >= 5 for m in exited)
    assert patient.total("merchant_exits") == 0


@functools.cache
def _newcomer(*overrides: str) -> Merchant:
    """A merchant of a fresh tiny market; callers copy it before they change it."""
    return market(*overrides).merchants[0]


def days_to_exit(profits, *overrides: str) -> int | None:
    """Feed a fresh merchant of the tiny market (with ``overrides``) a sequence of daily
    accrual profits; the day it first wants to exit (1-based), or None."""
    merchant = copy.copy(_newcomer(*overrides))
    for day, profit in enumerate(profits, start=1):
        merchant.book_day(float(profit))
        if merchant.wants_to_exit():
            return day
    return None


def lumpy(sale_profit: float, days: int = 365, every: int = 5, quiet: float = -12.0):
    """A quiet business: overheads lost every day but one in ``every``, when a sale earns."""
    return [sale_profit if day % every == 0 else quiet for day in range(days)]


def test_a_business_whose_rare_sales_do_not_cover_its_overheads_exits():
    """Sales one day in five, a loss on average (-1.6 a day): the merchant exits within its
    patience and look-ahead, although each sale lifts the day's forecast above zero; one whose
    sales cover its overheads (+2.4 a day) stays all year."""
    ex = _newcomer().cfg.exit
    losing = days_to_exit(lumpy(40.0))
    assert losing is not None and losing <= ex.patience_days + ex.lookahead_days
    assert days_to_exit(lumpy(60.0)) is None


def irregular(seed: int, days: int = 365) -> np.ndarray:
    """A small business's daily profits: overheads every day, a sale now and then, a refund
    more rarely (each sequence its own mix)."""
    g = np.random.default_rng(seed)
    sale_prob, low, high, refund_prob = (
        g.uniform(0.05, 0.4),
        g.uniform(5, 40),
        g.uniform(40, 150),
        g.uniform(0, 0.08),
    )
    sales = np.where(g.random(days) < sale_prob, g.uniform(low, high, days), -12.0)
    return sales - np.where(g.random(days) < refund_prob, g.uniform(30, 150, days), 0.0)


def test_no_business_stays_once_its_slow_average_has_been_negative_past_its_look_ahead():
    """Over many irregular businesses, none is still in business on the day its slow average
    of profit has been negative for its patience and look-ahead in a row: a forecast of
    recovery lifted by a lucky sale is not believed past its look-ahead."""
    # A patience of 45 days: with a short one the forecast rule alone makes every such
    # business leave before the backstop's day, and the backstop is not exercised.
    patient = "merchants.exit.patience_days=45"
    ex = _newcomer(patient).cfg.exit
    limit = ex.patience_days + ex.lookahead_days
    bound_applied = 0
    for seed in range(300):
        profits = irregular(seed)
        slow, run, deadline = 0.0, 0, None
        for day, profit in enumerate(profits, start=1):
            slow = ema(slow, profit, ex.profit_slow_memory_days)
            run = run + 1 if slow < 0 else 0
            if run >= limit:
                deadline = day
                break
        exit_day = days_to_exit(profits, patient)
        if deadline is not None:
            assert exit_day is not None and exit_day <= deadline, seed
            bound_applied += exit_day == deadline
    assert bound_applied > 0  # the rule binds: some leave on the very day it applies


ENTRY = ("steps=25", "merchants.entry_share_per_day=0.25", "merchants.entry.min_age_days=0")


def entrants_of(r, kind: str) -> int:
    return sum(m.kind == kind and m.entry_day > 0 for m in r.model.merchants)


def test_entrants_avoid_the_kind_whose_incumbents_lose():
    """When rural producers' overheads make every one of them lose, fewer entrants choose to
    be a rural producer, and they make a smaller share of entrants, than when they earn."""
    kind = "rural_producer"
    base = run(*ENTRY)
    costly = run(*ENTRY, f"merchants.kinds.{kind}.fixed_cost_yuan_per_day=5000")
    assert entrants_of(base, kind) > 0
    assert entrants_of(costly, kind) < entrants_of(base, kind)
    share = lambda r: entrants_of(r, kind) / max(r.total("merchant_entries"), 1)  # noqa: E731
    assert share(costly) < share(base)


def test_capacity_follows_demand_overtime_first():
    """Where demand runs beyond capacity (and merchants earn, having no overheads), merchants
    work overtime and some invest, so their capacity grows past what they entered with; with
    capacity far beyond demand, every merchant keeps or sheds capacity, on average sheds it,
    and its overheads fall with it."""
    short = run(
        "steps=30",
        "consumers.need_prob_per_day=0.3",
        *every_kind("capacity_units_per_day_median", 8),
        *every_kind("fixed_cost_yuan_per_day", 0),
    )
    idle = run("steps=30", *every_kind("capacity_units_per_day_median", 5000))
    grown = [m.capacity / m.entry_capacity for m in short.model.merchants if m.active]
    shrunk = [m.capacity / m.entry_capacity for m in idle.model.merchants if m.active]
    assert sum(m.overtime_units_total for m in short.model.merchants) > 0
    assert max(grown) > 1.0
    assert max(shrunk) <= 1.0 and np.mean(shrunk) < 1.0
    assert all(
        m.fixed_cost_yuan < m.base_fixed_cost_yuan
        for m in idle.model.merchants
        if m.active and m.capacity < m.entry_capacity
    )


def test_counts_follow_the_consumers_at_the_scenario_ratios_unless_set():
    """At a tenth of the consumers (by consumers or by scale) the market has a tenth of the
    creators, merchants, MCNs and providers; a count set explicitly stays; the memory estimate
    grows with the agents."""
    full = tiny_config("population.consumers=30000").population
    tenth = tiny_config("population.consumers=3000").population
    scaled = tiny_config("population.consumers=30000", "population.scale=0.1").population
    assert (full.n_merchants, full.n_creators, full.n_mcns) == (300, 400, 18)
    assert (tenth.n_merchants, tenth.n_creators) == (30, 40)
    assert (scaled.n_consumers, scaled.n_merchants) == (3000, 30)
    explicit = tiny_config("population.consumers=30000", "population.merchants=30").population
    assert explicit.n_merchants == 30
    more = estimate_memory(tiny_config("population.merchants=3000"))
    assert more.agents_bytes > estimate_memory(tiny_config()).agents_bytes


def test_a_ratio_far_from_the_baseline_is_warned_about():
    baseline = tiny_config("population.per_100k_consumers.mcns=20")
    assert not ratio_warnings(tiny_config(), tiny_config())
    crowded = tiny_config("population.consumers=3000", "population.merchants=600")
    warnings = ratio_warnings(crowded, baseline)
    assert any("merchants" in w for w in warnings)


def test_warmup_days_are_recorded_negative_and_left_out_of_the_summary():
    """With a warm-up the time series starts at step -warmup_days, marks those days, and the
    whole-run summary equals that of the counted days alone; a festival on calendar day 2
    falls on the third counted day."""
    config = tiny_config(
        "warmup_days=4",
        "steps=5",
        "events=[{kind: festival, start_day: 2, end_day: 2, purchase_logit: 0.0, "
        "active_prob_multiplier: 1.6}]",
    )
    recorder = simulate(config, seed_index=0)
    everything = recorder.wide(warmup=True)
    assert list(everything["step"]) == [-4, -3, -2, -1, 0, 1, 2, 3, 4]
    assert list(everything["warmup"]) == [1, 1, 1, 1, 0, 0, 0, 0, 0]
    counted = recorder.wide()
    assert list(counted["step"]) == [0, 1, 2, 3, 4]
    assert recorder.summary()["gmv_yuan"] == counted["gmv_yuan"].sum()
    active = counted.set_index("step")["active_consumers"]
    assert active[2] > 1.3 * active.drop(2).mean()
    assert SEED  # the tiny scenario's pinned seed
