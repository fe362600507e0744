"""MCNs sign, train, broker offers to and drop creators; service providers run merchants' own
accounts for a fee and give new clients a cold-start boost."""

from __future__ import annotations

import numpy as np
from market_runs import market, run

SHORT = "steps=4"


# --------------------------------------------------------------------------------------------
# MCNs
# --------------------------------------------------------------------------------------------


def test_mcns_sign_creators():
    """With MCNs some creators are under contract after the first scouting round; without, none
    are."""
    without = run("steps=2", "mcn.accept_prob=1", "population.mcns=0")
    with_ = run("steps=2", "mcn.accept_prob=1")
    assert (without.days.mcn_signed_creators == 0).all()
    assert with_.last("mcn_signed_creators") > 0
    signed = [c for c in with_.model.creators if c.mcn is not None]
    assert len(signed) == with_.last("mcn_signed_creators")
    assert all(c.independent for c in signed)


def test_training_raises_creator_skill():
    """Training signed creators raises the mean skill of active creators, and each signed
    creator's skill above what it is without training."""
    untrained = run("steps=8", "mcn.training_skill_gain_per_day=0")
    trained = run("steps=8", "mcn.training_skill_gain_per_day=0.2")
    assert trained.last("mean_creator_skill") > untrained.last("mean_creator_skill")
    signed = [c for c in trained.model.creators if c.mcn is not None and c.entry_day == 0]
    assert signed
    for c in signed:
        assert c.skill > untrained.model.creators[c.idx].skill


BROKERING = (
    "merchants.honesty.forced_cheat_share=0.3",
    "platform.governance.screening_detection_prob=0",
)
"""Many violators, all of them live."""


def brokered_violators(accuracy: float) -> tuple[int, int]:
    """(violating listings, listings) each MCN would broker on day 1 to each independent
    creator, when MCNs recognise a violator with chance ``accuracy``."""
    model = market(*BROKERING, f"mcn.screening_accuracy={accuracy}", days=1)
    listings = model.listings
    brokered = np.concatenate(
        [
            mcn.brokered_listings(c, listings, model.day)
            for mcn in model.mcns
            for c in model.independent_creators()
        ]
    ).astype(np.int64)
    return int(listings.violator[brokered].sum()), brokered.size


def test_mcn_screening_keeps_violators_out_of_brokered_offers():
    """MCNs that always recognise violators never broker a violator's listing; MCNs that never
    do broker some."""
    caught, brokered = brokered_violators(1.0)
    assert brokered > 0
    assert caught == 0
    missed, brokered = brokered_violators(0.0)
    assert brokered > 0
    assert missed > 0


def signed_then_judged(drop_income: float) -> tuple[int, int]:
    """(creators signed, creators dropped) when the MCNs' contracts are 30 days old and the
    drop threshold is ``drop_income`` yuan a day."""
    model = market("mcn.accept_prob=1", f"mcn.drop_income_yuan_per_day={drop_income}", days=1)
    signed = sum(len(mcn.roster) for mcn in model.mcns)
    for mcn in model.mcns:
        for creator in mcn.roster:
            mcn.roster[creator] = model.day - 30
        mcn.manage_roster(
            np.random.default_rng(0),
            model.day,
            model.independent_creators(),
            model.follows.followers,
        )
    dropped = sum(mcn.dropped_total for mcn in model.mcns)
    return signed, dropped


def test_mcns_drop_creators_who_do_not_earn():
    """After 30 days under contract, every signed creator earning below a huge threshold is
    dropped, and none is when the threshold is zero."""
    signed, dropped = signed_then_judged(1e9)
    assert signed > 0
    assert dropped == signed
    assert signed_then_judged(0.0) == (signed, 0)


# --------------------------------------------------------------------------------------------
# Service providers
# --------------------------------------------------------------------------------------------


def candidate(model):
    """The merchant the service-provider tests hand to a provider: the first honest merchant
    without an own account."""
    return next(m for m in model.merchants if not m.violator and m.own_account is None)


def first_client(model):
    return next(iter(model.providers[0].clients))


def test_service_provider_opens_and_runs_a_new_clients_own_account():
    """A provider taking on a merchant without an own account opens one run at the provider's
    skill, carrying only the client's goods, and starts the client's cold start."""
    model = market()
    provider = model.providers[0]
    m = candidate(model)
    model.factory.hire(provider, m, model.day)
    cfg = model.config.service_providers
    assert m in provider.clients and m.provider is provider
    account = m.own_account
    assert account is not None and account.owner is m
    assert account.skill == cfg.skill
    assert account.offers == [m.idx]
    assert m.cold_start_until == model.day + cfg.cold_start_days


def test_new_merchants_hire_providers_on_entry():
    """When every entrant hires a provider (and providers have room for all), entrants have a
    provider and an own account; when none does, no entrant has a provider."""
    entry = ("steps=8", "merchants.entry_share_per_day=0.2", "service_providers.clients_max=1000")
    hire = run(*entry, "service_providers.hire_prob_on_entry=1")
    skip = run(*entry, "service_providers.hire_prob_on_entry=0")
    hired = [m for m in hire.model.merchants if m.entry_day > 0]
    skipped = [m for m in skip.model.merchants if m.entry_day > 0]
    assert hired and skipped
    assert all(m.provider is not None and m.own_account is not None for m in hired if m.active)
    assert all(m.provider is None for m in skipped)


def _hand_a_client_to_the_provider(model) -> None:
    model.factory.hire(model.providers[0], candidate(model), model.day)


def _hand_a_stocked_client_to_the_provider(model) -> None:
    """The client starts with more stock than it can sell in the run, so its sales follow its
    demand rather than its production capacity."""
    client = candidate(model)
    client.stock = 1_000_000
    model.factory.hire(model.providers[0], client, model.day)


COLD_START = (SHORT, "service_providers.hire_prob_on_entry=0")


def test_cold_start_boost_raises_a_new_clients_impressions_and_sales():
    """A provider's cold-start boost gives its new client more impressions and sales than the
    same client without the boost."""
    flat = run(
        *COLD_START,
        "service_providers.cold_start_boost=0",
        setup=_hand_a_stocked_client_to_the_provider,
    )
    boosted = run(
        *COLD_START,
        "service_providers.cold_start_boost=3",
        setup=_hand_a_stocked_client_to_the_provider,
    )
    m = first_client(boosted.model)
    assert first_client(flat.model).idx == m.idx
    assert boosted.impressions[m.idx] > 1.5 * flat.impressions[m.idx]
    assert m.sales_total > flat.model.merchants[m.idx].sales_total


def test_service_providers_collect_fees_from_their_clients():
    """A provider with a client collects its daily fee (the service-fee flow is the fee every
    day), and nothing when the fee is 0."""
    paying = run(*COLD_START, setup=_hand_a_client_to_the_provider)
    free = run(
        *COLD_START, "service_providers.fee_yuan_per_day=0", setup=_hand_a_client_to_the_provider
    )
    fee = paying.model.config.service_providers.fee_yuan_per_day
    assert fee > 0
    assert (paying.days.flow_service_fee == fee).all()
    assert free.total("flow_service_fee") == 0
