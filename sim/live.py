"""Live sessions as events (直播场次): announced ahead, pre-stocked, sold at a limited-time price
to an audience of notified followers and feed traffic drawn in.

The calendar (:class:`LiveSchedule`) is the platform's record of announced sessions (预告). A
session's life:

1. **announcement** (phase 4 of day ``d``, after its content, for day ``d + lead_days``; on
   the first day for each day of the lead window): each active creator with
   offers announces a session with chance ``lives_per_week / 7``; the session features the
   offers the creator carries then (an own account: its merchant's goods), and the creator
   states what it expects one featured offer to be asked for, ``E`` = the moving average of
   that over its past sessions, or ``1 + prior_units_per_1000_followers x followers / 1000``
   before any (bigger creators, bigger sessions);
2. **pre-stocking** (phase 3 of the days up to the session, the session day included): a
   featured merchant holds ``u = stock_cover x E`` for each announced session, just in time:
   its stock target rises by ``max over sessions s of (U_s - r x t_s)``, where ``U_s`` sums
   the ``u`` of the sessions up to s, ``t_s`` is the days until s and ``r = capacity x (1 +
   overtime_share) - expected daily demand`` what it can add to stock a day; within what its
   cash pays for, it produces towards that within capacity and overtime
   (:meth:`sim.agents.merchant.Merchant.produce`);
3. **the session** (phases 4-6 of the session day): the creator goes live, presenting every
   offer it carries; each featured merchant still live sells at a limited-time price ``p x (1 -
   discount)`` for the day (never below the price that leaves 5% over unit cost after the take
   rate and commission); the live room's items get the
   recommender's ``session_boost`` (reminders to those who booked it), and, with
   ``feed_entries``, the creator's short videos of the day lead into the room: they are shown in
   the feed, and followers who open the creator's content find the room (notified followers).
   The consumer kernel's live-room urgency applies to every visit of the room. Stock and
   pre-sale ration the orders: a featured offer also takes orders beyond its stock, up to
   what its merchant can make in ``presale_days`` at capacity and overtime less what it
   already owes (预售; those orders ship as the units are made), and a session stocks out
   when that binds too;
4. **the record** (after phase 6): the session's GMV, the units asked for and sold of each
   featured merchant, and its stock-outs; the creator folds the units asked for per featured
   offer into its forecast.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.agents.merchant import AnnouncedStock
from sim.vocabulary import FEED, FOLLOW, LIVE

if TYPE_CHECKING:
    from sim.agents.creator import Creator
    from sim.agents.merchant import Merchant
    from sim.catalog import Content, Listings
    from sim.config import LiveSessionsConfig
    from sim.phases.matching import Matching


@dataclass(frozen=True)
class Session:
    """An announced session: its creator, day, featured merchants and the units one featured
    offer is expected to be asked for."""

    creator: int
    day: int
    featured: tuple[int, ...]
    expected_units: float
    big: bool = False
    """A big session (大场): announced further ahead, promoted harder."""


@dataclass
class LiveSchedule:
    """The calendar of announced sessions, by day (the platform's record; each creator
    announces its own, each merchant reads those that feature it)."""

    config: LiveSessionsConfig
    by_day: dict[int, list[Session]] = field(default_factory=lambda: defaultdict(list))
    planned_through: dict[bool, int] = field(default_factory=lambda: {False: -1, True: -1})
    """Last day sessions have been announced for, regular (False) and big (True)."""

    def announce(
        self, day: int, creators: list[Creator], followers: np.ndarray, rng: np.random.Generator
    ) -> None:
        """Phase 4, after today's content: regular sessions for the days not yet planned up
        to ``day + lead_days``, big ones up to ``day + big_lead_days`` (on the first day, the
        whole lead windows). A creator holds at most one session a day."""
        cfg = self.config
        for big, lead, share in (
            (False, cfg.lead_days, 1.0 - cfg.big_session_share),
            (True, cfg.big_lead_days, cfg.big_session_share),
        ):
            last = day + lead
            for target in range(max(day + 1, self.planned_through[big] + 1), last + 1):
                draws = rng.random(len(creators))
                booked = {x.creator for x in self.by_day[target]}
                for creator, u in zip(creators, draws, strict=True):
                    if not creator.offers or creator.idx in booked:
                        continue
                    if u >= share * creator.lives_per_week / 7.0:
                        continue
                    expected = creator.expected_session_units(
                        float(followers[creator.idx]), cfg, big
                    )
                    featured = tuple(creator.offers)
                    creator.commit(featured, target)
                    self.by_day[target].append(
                        Session(creator.idx, target, featured, expected, big)
                    )
            self.planned_through[big] = max(self.planned_through[big], last)
        self.by_day.pop(day, None)

    def open_and_announce(
        self,
        day: int,
        listings: Listings,
        content: Content,
        merchants: list[Merchant],
        creators: list[Creator],
        followers: np.ndarray,
        rng: np.random.Generator,
    ) -> SessionDay:
        """Phase 4, after content: open today's sessions (:func:`open_sessions`), then
        announce those of the days to come (``creators`` are the active ones)."""
        today = open_sessions(day, self.config, self, listings, content, merchants)
        self.announce(day, creators, followers, rng)
        return today

    def close(
        self,
        today: SessionDay,
        matching: Matching,
        orders: dict[str, np.ndarray],
        listings: Listings,
        content: Content,
        merchants: list[Merchant],
        creators: list[Creator],
    ) -> SessionRecord:
        """After phase 6: what today's sessions did (:func:`close_sessions`)."""
        return close_sessions(
            today,
            self.config,
            matching.intents,
            orders,
            listings,
            content,
            matching.item_impressions,
            merchants,
            creators,
        )

    def sessions_on(self, day: int) -> list[Session]:
        return self.by_day.get(day, [])

    def announced_units(self, day: int) -> AnnouncedStock:
        """The (days ahead, units) of each session announced from ``day`` to ``day +
        lead_days``, for each merchant it features, the units being ``stock_cover`` x the
        session's expected units; none when merchants do not pre-stock (``prestock`` off)."""
        if not self.config.prestock:
            return AnnouncedStock.none()
        cover = self.config.stock_cover
        lead = max(self.config.lead_days, self.config.big_lead_days)
        days = range(day, day + lead + 1)
        sessions = [s for d in days for s in self.by_day.get(d, [])]
        ahead = [d - day for d in days for _ in self.by_day.get(d, [])]
        featured = np.fromiter((len(s.featured) for s in sessions), np.int64, len(sessions))
        return AnnouncedStock(
            merchant=np.fromiter(
                (m for s in sessions for m in s.featured), np.int64, int(featured.sum())
            ),
            ahead=np.repeat(np.array(ahead, dtype=np.int64), featured),
            units=np.repeat(
                cover * np.array([s.expected_units for s in sessions], dtype=np.float64),
                featured,
            ),
        )

    def going_live(self, day: int, creator_idx: np.ndarray) -> np.ndarray:
        """(c,) bool: which of these creators hold a session today."""
        live = {s.creator for s in self.sessions_on(day)}
        return np.array([int(c) in live for c in creator_idx], dtype=bool)


@dataclass(frozen=True)
class SessionDay:
    """Today's sessions, as the day's offer shows them."""

    creator: np.ndarray
    """(s,) creator idx of each session held today."""
    featured_listing: np.ndarray
    """(f,) listing index of each featured offer (a listing may be featured by several)."""
    featured_session: np.ndarray
    """(f,) the session (row of ``creator``) featuring it."""
    expected_units: np.ndarray
    """(s,) units one featured offer of each session was expected to be asked for."""
    big: np.ndarray
    """(s,) bool: big sessions (大场)."""


def open_sessions(
    day: int,
    config: LiveSessionsConfig,
    schedule: LiveSchedule,
    listings: Listings,
    content: Content,
    merchants: list[Merchant],
) -> SessionDay:
    """Phase 4, after content: today's sessions put their featured merchants' limited-time
    prices on the day's listings and their marks on the day's content (which items belong to
    a session, which short videos lead into the room, the session boost). ``merchants`` are
    every one ever made, by idx. Changes ``listings.price_yuan``, ``listings.presale_units``
    (the featured offers' pre-sale, :meth:`sim.agents.merchant.Merchant.presale_units`) and
    ``content`` in place."""
    live_creators = set(content.creator[content.is_live].tolist()) if content.n else set()
    held = [s for s in schedule.sessions_on(day) if s.creator in live_creators]
    creator = np.array([s.creator for s in held], dtype=np.int64)
    row_of = {int(c): r for r, c in enumerate(creator)}
    # Featured offers: announced and presented in the room today.
    presented = defaultdict(set)
    for i in np.flatnonzero(content.is_live):
        presented[int(content.creator[i])].add(int(content.listing[i]))
    f_listing, f_session = [], []
    for r, s in enumerate(held):
        for m in s.featured:
            j = listings.of_merchant(m)
            if j >= 0 and j in presented[s.creator]:
                f_listing.append(j)
                f_session.append(r)
    f_listing = np.array(f_listing, dtype=np.int64)
    discounted = np.unique(f_listing)
    for j in discounted:
        merchant = merchants[int(listings.merchant[j])]
        listings.price_yuan[j] = merchant.session_price_yuan(
            config.discount_share,
            float(listings.take_rate[j]),
            float(listings.commission_rate[j]),
        )
        listings.presale_units[j] = merchant.presale_units(config.presale_days)
    session = np.full(content.n, -1, dtype=np.int64)
    if content.n and creator.size:
        in_session = np.isin(content.creator, creator)
        session[in_session] = [row_of[int(c)] for c in content.creator[in_session]]
        entry = in_session & ~content.is_live & config.feed_entries
        content.feed_entry = entry
        content.is_live = content.is_live | entry
        content.session = session
        boost = np.array(
            [config.big_session_boost if s.big else config.session_boost for s in held]
        )
        content.session_boost = np.where(in_session, boost[np.maximum(session, 0)], 0.0)
    return SessionDay(
        creator=creator,
        featured_listing=f_listing,
        featured_session=np.array(f_session, dtype=np.int64),
        expected_units=np.array([s.expected_units for s in held]),
        big=np.array([s.big for s in held], dtype=bool),
    )


@dataclass(frozen=True)
class SessionRecord:
    """What today's sessions did."""

    sessions: int = 0
    viewers: int = 0
    """Visits of the live rooms (impressions of session items, from any channel)."""
    gmv_yuan: float = 0.0
    gmv_own_yuan: float = 0.0
    gmv_creator_yuan: float = 0.0
    max_gmv_yuan: float = 0.0
    max_capacity_days: float = 0.0
    stockout_units: int = 0
    """Units asked for in sessions (featured or not) that stock could not fill."""
    featured_offers: int = 0
    featured_stocked_out: int = 0
    """Featured offers whose session asked for more than stock filled."""


def session_orders(channel: np.ndarray, creator: np.ndarray, session_of: np.ndarray, entries: bool):
    """(m,) bool: orders placed in a session room: through a creator live today, from the live
    channel, or (with feed entries, when every item of a live creator's day is in its room)
    from the feed and the following feed too."""
    live_creator = (creator >= 0) & (session_of[np.maximum(creator, 0)] >= 0)
    rooms = channel == LIVE
    if entries:
        rooms = rooms | (channel == FEED) | (channel == FOLLOW)
    return live_creator & rooms


def close_sessions(
    today: SessionDay,
    config: LiveSessionsConfig,
    intents: dict[str, np.ndarray],
    orders: dict[str, np.ndarray],
    listings: Listings,
    content: Content,
    item_impressions: np.ndarray,
    merchants: list[Merchant],
    creators: list[Creator],
) -> SessionRecord:
    """After phase 6: each session's GMV, the units of each featured offer asked for and sold,
    stock-outs; each session's creator learns the units one featured offer was asked for
    (:meth:`sim.agents.creator.Creator.learn_session`). ``merchants`` and ``creators`` are
    every one ever made, by idx."""
    s = today.creator.size
    if s == 0:
        return SessionRecord()
    session_of = np.full(len(creators), -1, dtype=np.int64)
    session_of[today.creator] = np.arange(s)
    entries = config.feed_entries

    def rows(table):
        mask = session_orders(table["channel"], table["creator"], session_of, entries)
        return mask, session_of[np.maximum(table["creator"], 0)]

    placed, placed_session = rows(orders)
    asked, asked_session = rows(intents)
    price = orders["price_yuan"][placed]
    p_session = placed_session[placed]
    gmv = np.bincount(p_session, weights=price, minlength=s)
    own = orders["creator"][placed] == listings.own_account[orders["listing"][placed]]
    # Units per (session, listing), asked for and sold.
    n = max(listings.n, 1)
    sold_key = p_session * n + orders["listing"][placed]
    asked_key = asked_session[asked] * n + intents["listing"][asked]
    keys, asked_units = np.unique(asked_key, return_counts=True)
    sold_units = np.zeros(keys.size, dtype=np.int64)
    sk, sc = np.unique(sold_key, return_counts=True)
    sold_units[np.searchsorted(keys, sk)] = sc
    capacity = np.array([merchants[int(listings.merchant[k % n])].capacity for k in keys])
    featured_key = today.featured_session * n + today.featured_listing
    pos = np.searchsorted(keys, featured_key)  # keys.size for a key beyond them all
    found = np.append(keys, -1)[pos] == featured_key
    f_asked = np.where(found, np.append(asked_units, 0)[pos], 0)
    f_sold = np.where(found, np.append(sold_units, 0)[pos], 0)
    per_offer = np.bincount(today.featured_session, weights=f_asked, minlength=s)
    n_featured = np.bincount(today.featured_session, minlength=s)
    for r, c in enumerate(today.creator):
        if n_featured[r]:
            creators[int(c)].learn_session(
                per_offer[r] / n_featured[r], config.memory_sessions, bool(today.big[r])
            )
    room_items = content.session >= 0
    return SessionRecord(
        sessions=s,
        viewers=int(item_impressions[room_items & content.is_live].sum()),
        gmv_yuan=float(gmv.sum()),
        gmv_own_yuan=float(price[own].sum()),
        gmv_creator_yuan=float(price[~own].sum()),
        max_gmv_yuan=float(gmv.max()),
        max_capacity_days=float((sold_units / np.maximum(capacity, 1e-9)).max())
        if keys.size
        else 0.0,
        stockout_units=int((asked_units - sold_units).sum()),
        featured_offers=int(today.featured_listing.size),
        featured_stocked_out=int((f_asked > f_sold).sum()),
    )
