"""Creators: product selection (选品) by commission, niche fit and what they learned about sales
and returns; followers; quitting and entry; the kinds of own accounts. Agent-level checks call
the creators' own methods on a built market; run-level checks compare two runs on one seed."""

from __future__ import annotations

import copy

import numpy as np
from market_runs import SEED, category, listings_with, market, run

SHORT = "steps=4"
WITH_DELIVERIES = "steps=8"
INDEPENDENT_KINDS = ("mega_influencer", "general", "knowledge", "new_farmer")


def select_again(model, listings, creators) -> dict[int, list[int]]:
    """Each creator's offers after a selection round on ``listings``, drawn with the same
    numbers whatever the listings, free of the offers committed to announced live sessions;
    the creators' own state is left as it was."""
    chosen = {}
    for c in creators:
        saved = list(c.offers), c.next_selection_day, dict(c.committed)
        c.next_selection_day = model.day
        c.committed = {}
        c.select_offers(listings, np.random.default_rng((SEED, c.idx)), model.day)
        chosen[c.idx] = list(c.offers)
        c.offers, c.next_selection_day, c.committed = saved
    return chosen


# --------------------------------------------------------------------------------------------
# Selection (选品)
# --------------------------------------------------------------------------------------------


def test_higher_commission_makes_more_creators_carry_the_offer():
    """Raising one listing's commission from 1% to 45% makes more creators choose it."""
    model = market(days=1)
    listings, creators = model.listings, model.independent_creators()
    j = int(np.argsort(listings.commission_rate)[listings.n // 2])
    merchant = int(listings.merchant[j])

    def carriers(rate: float) -> int:
        commission = listings.commission_rate.copy()
        commission[j] = rate
        chosen = select_again(model, listings_with(listings, commission_rate=commission), creators)
        return sum(merchant in offers for offers in chosen.values())

    assert carriers(0.45) > carriers(0.01) + 2


def test_creators_pick_offers_in_their_niche():
    """Creators whose niche is food carry more food offers than the same creators with a niche
    in books."""
    model = market(days=1)
    listings, creators = model.listings, model.independent_creators()
    food, books = category(model, "food"), category(model, "books")
    assert (listings.category == food).any() and (listings.category == books).any()

    def food_offers(niche_category: int) -> int:
        saved = [c.niche for c in creators]
        for c in creators:
            c.niche = np.eye(model.k)[niche_category]
        chosen = select_again(model, listings, creators)
        for c, niche in zip(creators, saved, strict=True):
            c.niche = niche
        return sum(
            listings.category[listings.of_merchant(m)] == food
            for offers in chosen.values()
            for m in offers
        )

    assert food_offers(food) > 2 * food_offers(books)


def creator_with_an_offer(model):
    """An independent creator carrying a live offer, and that offer's merchant and listing."""
    for c in model.independent_creators():
        for m in c.offers:
            j = model.listings.of_merchant(m)
            if j >= 0:
                return c, m, j
    raise AssertionError("no creator carries a live offer")


def test_creators_read_the_platforms_quality_score_only_where_it_is_shown():
    """Creators favour goods the platform's public score rates high while store scores are
    shown; where the platform hides them, its own estimate does not move what they carry
    (before, creators read the hidden estimate, an institution leaking into a market
    without them)."""

    def carriers_of_the_rated(*overrides: str) -> dict[float, int]:
        model = market(*overrides, days=1)
        listings, creators = model.listings, model.independent_creators()
        rated = np.arange(listings.n) % 2 == 0
        carried = {}
        for score in (0.05, 0.95):
            estimate = np.where(rated, score, 0.5).astype(np.float32)
            shown = listings.public_quality.copy()
            if model.config.platform.reputation.visible:
                shown = estimate
            chosen = select_again(
                model, listings_with(listings, est_quality=estimate, public_quality=shown), creators
            )
            carried[score] = sum(
                int(listings.of_merchant(m)) % 2 == 0 for offers in chosen.values() for m in offers
            )
        return carried

    shown = carriers_of_the_rated()
    hidden = carriers_of_the_rated("platform.reputation.visible=false")
    assert shown[0.95] > shown[0.05] + 2
    assert hidden[0.95] == hidden[0.05]


def test_hidden_store_scores_show_creators_only_the_prior():
    """The listings' public score is the platform's estimate where scores are shown and the
    consumers' quality prior everywhere where they are not."""
    shown = market(days=12).listings
    hidden_model = market("platform.reputation.visible=false", days=12)
    hidden = hidden_model.listings
    prior = hidden_model.config.consumers.purchase.quality_prior
    assert np.array_equal(shown.public_quality, shown.est_quality)
    assert np.all(hidden.public_quality == np.float32(prior))
    assert not np.all(hidden.est_quality == np.float32(prior))


def test_creators_replace_sold_out_offers():
    """An offer with nothing in stock (its merchant owes pre-sold units) is not picked at a
    selection, nor kept, though it would be on the same draws when in stock."""
    model = market(days=2)
    listings = model.listings
    creators = [c for c in model.independent_creators() if c.active]
    chosen = select_again(model, listings, creators)
    picked = {m for offers in chosen.values() for m in offers}
    gone = np.isin(listings.merchant, sorted(picked)[::2])
    sold_out = listings_with(
        listings,
        stock=np.where(gone, 0, listings.stock),
        presale_units=np.where(gone, 0, listings.presale_units),
    )
    after = select_again(model, sold_out, creators)
    dropped = set(listings.merchant[gone].tolist())
    assert dropped and all(not dropped & set(offers) for offers in after.values())
    assert any(set(chosen[c]) & dropped for c in chosen)


def test_creators_drop_offers_that_mostly_come_back_and_score_them_lower():
    """An offer whose sales mostly came back is dropped and its expected earnings fall below
    those of the same offer whose sales were kept."""
    model = market(days=1)
    c, m, j = creator_with_an_offer(model)
    listings = model.listings
    saved = list(c.offers), copy.deepcopy(c.records)

    c.learn_outcomes(m, 10, 8)
    dropped = m not in c.offers
    returned_value = c.expected_earnings(listings, np.array([j]))[0]
    c.offers, c.records = list(saved[0]), copy.deepcopy(saved[1])
    c.learn_outcomes(m, 10, 0)
    kept = m in c.offers
    kept_value = c.expected_earnings(listings, np.array([j]))[0]

    assert dropped and kept
    assert returned_value < kept_value


def test_an_offer_that_sold_scores_higher_than_one_that_did_not():
    """Of two offers in one category carried for a week, an offer's expected earnings are
    higher when it made the sales than when the other one did; and a week of carrying it
    without sales scores it lower than leaving it untried, for the same total exposure."""
    model = market(days=1)
    listings = model.listings
    c = model.independent_creators()[0]
    untried = [j for j in range(listings.n) if int(listings.merchant[j]) not in c.records]
    j, k = next(
        (j, k)
        for j in untried
        for k in untried
        if j != k and listings.category[j] == listings.category[k]
    )
    saved = copy.deepcopy(c.records)

    def value_of_j(days_carried: dict[int, int], sold_by: int | None = None) -> float:
        c.records = copy.deepcopy(saved)
        for listing, days in days_carried.items():
            for _ in range(days):
                c.note_carried(listings, [listing])
        if sold_by is not None:
            c.learn_outcomes(int(listings.merchant[sold_by]), 10, 0)
        return float(c.expected_earnings(listings, np.array([j]))[0])

    j_sold = value_of_j({j: 7, k: 7}, sold_by=j)
    k_sold = value_of_j({j: 7, k: 7}, sold_by=k)
    j_tried = value_of_j({j: 7, k: 7})
    j_untried = value_of_j({k: 14})
    c.records = saved
    assert j_sold > k_sold
    assert j_tried < j_untried


# --------------------------------------------------------------------------------------------
# Followers
# --------------------------------------------------------------------------------------------


def followers(r) -> int:
    return int(r.model.follows.followers.sum())


def test_content_viewers_following_more_often_grow_creators_followers():
    """Ten times the chance to follow after viewing content leaves creators with more
    followers."""
    base = run(SHORT)
    catchy = run(SHORT, "consumers.follow_after_view_prob=0.03")
    assert catchy.total("follows_gained") > 2 * base.total("follows_gained")
    assert followers(catchy) > followers(base)


def test_good_purchases_grow_creators_followers():
    """When satisfied buyers always follow the creator who sold to them, creators end with more
    followers than when they never do."""
    never = run(WITH_DELIVERIES, "consumers.experience.follow_after_satisfied_prob=0")
    always = run(WITH_DELIVERIES, "consumers.experience.follow_after_satisfied_prob=1")
    assert followers(always) > followers(never)


def test_bad_purchases_lose_creators_followers():
    """Disappointed buyers unfollow the creator who sold to them when the unfollow chance is 1,
    never when it is 0, and creators end with fewer followers."""
    loyal = run(WITH_DELIVERIES, "consumers.experience.unfollow_after_dissatisfied_prob=0")
    fickle = run(WITH_DELIVERIES, "consumers.experience.unfollow_after_dissatisfied_prob=1")
    assert loyal.total("follows_lost") == 0
    assert fickle.total("follows_lost") > 0
    assert followers(fickle) < followers(loyal)


# --------------------------------------------------------------------------------------------
# Exit and entry
# --------------------------------------------------------------------------------------------


def reservation(yuan: float) -> list[str]:
    return [f"creators.kinds.{k}.reservation_yuan_per_day={yuan}" for k in INDEPENDENT_KINDS]


def test_income_below_the_reservation_wage_makes_creators_quit():
    """With a reservation wage of 0 no creator quits; with one no creator earns, every initial
    independent creator quits after the exit patience."""
    quick = ("steps=6", "creators.exit_patience_days=3")
    content = run(*quick, *reservation(0))
    demanding = run(*quick, *reservation(100_000))
    assert content.total("creator_exits") == 0
    initial = [c for c in demanding.model.creators if c.independent and c.entry_day == 0]
    assert len(initial) == demanding.model.config.population.n_creators
    assert not any(c.active for c in initial)
    assert demanding.total("creator_exits") >= len(initial)


def test_new_creators_arrive_while_the_market_pays():
    """With a positive entry share new independent creators arrive; with none, none do."""
    closed = run(SHORT, "creators.entry_share_per_day=0")
    open_ = run(SHORT, "creators.entry_share_per_day=0.2")
    assert closed.total("creator_entries") == 0
    assert open_.total("creator_entries") > 0
    entrants = [c for c in open_.model.creators if c.entry_day > 0 and c.independent]
    assert len(entrants) == open_.total("creator_entries")


# --------------------------------------------------------------------------------------------
# Kinds
# --------------------------------------------------------------------------------------------


def test_own_accounts_are_heritage_artisans_for_crafts_and_brand_accounts_otherwise():
    """A heritage-craft merchant's own account is a heritage artisan, every other merchant's a
    brand account; an own account carries only its owner's goods."""
    model = market(
        "merchants.kinds.heritage_craft.share=0.3",
        "merchants.kinds.small_business.share=0.13",
        "merchants.kinds.heritage_craft.own_account_share=1",
        days=1,
    )
    owners = [m for m in model.merchants if m.own_account is not None]
    assert any(m.kind == "heritage_craft" for m in owners)
    assert any(m.kind != "heritage_craft" for m in owners)
    for m in owners:
        account = m.own_account
        assert account.kind == (
            "heritage_artisan" if m.kind == "heritage_craft" else "brand_account"
        )
        assert account.owner is m
        assert account.offers == [m.idx]
        assert not account.independent


def test_own_accounts_sell_only_their_owners_goods_and_earn_no_commission():
    """Every order through an own account is for its owner's goods and carries no commission,
    while orders through independent creators do."""
    r = run(SHORT)
    owner_of = {m.own_account.idx: m.idx for m in r.model.merchants if m.own_account is not None}
    orders = r.orders
    own = orders.creator.isin(list(owner_of))
    assert own.any()
    assert (orders.merchant[own] == orders.creator[own].map(owner_of)).all()
    assert (orders.commission_rate[own] == 0).all()
    independent = (orders.creator >= 0) & ~own
    assert (orders.commission_rate[independent] > 0).all()
