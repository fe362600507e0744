"""Phase 6, purchase: stock rations the day's purchase intents per listing; what is filled
becomes orders. Records stock-outs, first-time and repeat buyers, closes the needs the orders
met, and tells each merchant what it sold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.arrays import count_distinct
from sim.kernels.purchase import queue_positions
from sim.population import NO_NEED
from sim.vocabulary import CHANNELS, MERCHANT_KINDS

N_CHANNELS = len(CHANNELS)

if TYPE_CHECKING:
    from sim.agents.merchant import Merchant
    from sim.catalog import Listings
    from sim.orders import BuyerHistory
    from sim.population import Population


@dataclass(frozen=True)
class Purchases:
    orders: dict[str, np.ndarray]
    """The filled orders: the intents' columns plus ``merchant``, ``price_yuan``,
    ``commission_rate`` and ``take_rate``, (o,) each."""
    intents: int
    stockout_units: int
    stockouts_by_kind: np.ndarray
    """(kinds,) units short per merchant kind."""
    new_customer_orders: int
    new_customer_orders_by_channel: np.ndarray
    """(5,) orders from new customers per channel."""
    buyers: int
    repurchasing_buyers: int
    units_sold: np.ndarray
    """(M,) float units sold per merchant idx today."""
    margin_yuan: float
    """Sales net of take rate and commission, less unit costs."""
    presold_units: int = 0
    """Orders filled beyond stock, on pre-sale (they ship when made)."""


def presale_delays(
    beyond_stock: np.ndarray, listing: np.ndarray, listings: Listings, merchants: list[Merchant]
) -> np.ndarray:
    """Days each order waits to be made before it ships: 0 for an order stock filled,
    :meth:`sim.agents.merchant.Merchant.presale_ship_days` for one pre-sold. ``beyond_stock``
    (o,) is each order's place in its listing's queue less the listing's stock (0, 1, ... for
    the pre-sold, negative for the others: :func:`sim.kernels.purchase.queue_positions` gives
    -1 to every order of a listing stock serves whole), ``listing`` (o,) its listing. -> (o,)
    int32."""
    delay = np.zeros(listing.size, dtype=np.int32)
    presold = np.flatnonzero(beyond_stock >= 0)
    if presold.size == 0:
        return delay
    # Few listings are on pre-sale on a day (those of today's sessions): one merchant each.
    for jj in np.unique(listing[presold]).tolist():
        rows = presold[listing[presold] == jj]
        merchant = merchants[int(listings.merchant[jj])]
        delay[rows] = merchant.presale_ship_days(beyond_stock[rows] + 1)
    return delay


def purchase(
    intents: dict[str, np.ndarray],
    listings: Listings,
    merchants: list[Merchant],
    population: Population,
    history: BuyerHistory,
    rng: np.random.Generator,
    day: int = 0,
    new_customer_window_days: int = 1 << 30,
) -> Purchases:
    """``merchants`` is every merchant ever made, by idx. An order is from a new customer
    when its buyer placed no order with that merchant in the last
    ``new_customer_window_days`` days; older orders are forgotten."""
    asked = intents["listing"]
    # Stock serves each listing's queue first, then its pre-sale (zero unless a live session
    # features it today).
    place = queue_positions(asked, listings.stock, rng)
    filled = place < (listings.stock + listings.presale_units)[asked]
    demanded = np.bincount(asked, minlength=listings.n)
    short = asked[~filled]
    orders = {k: v[filled] for k, v in intents.items()}
    j = orders["listing"]
    orders["ship_delay_days"] = presale_delays(
        place[filled] - listings.stock[j], j, listings, merchants
    )
    consumer = orders["consumer"]
    merchant = listings.merchant[j]
    orders["merchant"] = merchant
    orders["price_yuan"] = listings.price_yuan[j]
    since = day - new_customer_window_days
    history.forget(since)
    seen = history.seen(consumer, merchant, since)
    new_customer_orders = int((~seen).sum())
    new_by_channel = np.bincount(orders["channel"][~seen], minlength=N_CHANNELS)
    buyers = count_distinct(consumer)
    repurchasing = count_distinct(consumer[seen])
    history.add(consumer, merchant, day)
    met = population.need_category[consumer] == listings.category[j]
    # An order that meets no need of its buyer's was bought on impulse (returned more often).
    orders["impulse"] = ~met
    population.need_category[consumer[met]] = NO_NEED
    # Sales per listing, back to the merchants.
    sold = np.bincount(j, minlength=listings.n)
    # A merchant's own account earns no commission on its own goods.
    commissioned = (orders["creator"] >= 0) & (orders["creator"] != listings.own_account[j])
    orders["commission_rate"] = np.where(commissioned, listings.commission_rate[j], 0.0).astype(
        np.float32
    )
    orders["take_rate"] = listings.take_rate[j]
    net = orders["price_yuan"] * (1 - orders["take_rate"] - orders["commission_rate"])
    net_by_listing = np.bincount(j, weights=net, minlength=listings.n)
    creator_units = np.bincount(j[commissioned], minlength=listings.n)
    paid_units = np.bincount(j, weights=orders["paid_share"], minlength=listings.n)
    for jj in np.flatnonzero(demanded):
        merchants[int(listings.merchant[jj])].record_sales(
            int(sold[jj]),
            int(demanded[jj]),
            int(creator_units[jj]),
            float(paid_units[jj]),
            float(net_by_listing[jj]),
        )
    return Purchases(
        presold_units=int((orders["ship_delay_days"] > 0).sum()),
        orders=orders,
        intents=int(filled.size),
        stockout_units=int((~filled).sum()),
        stockouts_by_kind=np.bincount(listings.kind[short], minlength=len(MERCHANT_KINDS)),
        new_customer_orders=new_customer_orders,
        new_customer_orders_by_channel=new_by_channel,
        buyers=buyers,
        repurchasing_buyers=repurchasing,
        units_sold=np.bincount(merchant, minlength=len(merchants)).astype(np.float64),
        margin_yuan=float(net.sum() - listings.unit_cost_yuan[j].sum()),
    )
