"""A merchant's listing and the one state machine it follows.

::

    PREPARING --(relist day reached, screening passes)--> LIVE until the product's end day
    PREPARING --(relist day reached, intercepted)-------> PREPARING, retry after a delay
    LIVE      --(the product's end day reached)---------> PREPARING, a new product today
    LIVE      --(delisted as risky)---------------------> DELISTED until a day
    DELISTED  --(that day reached)----------------------> LIVE
    LIVE | DELISTED --(product banned, or suspended)----> PREPARING, relist after a delay
    any       --(merchant leaves)-----------------------> PREPARING

Every transition is a method here; nothing else sets the state.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.vocabulary import LISTING_DELISTED, LISTING_LIVE, LISTING_PREPARING


@dataclass
class Listing:
    """The state of one merchant's listing."""

    state: str = LISTING_PREPARING
    product_id: int = 0
    """Products prepared so far (each screening is of a new product)."""
    relist_day: int = 0
    """A preparing listing goes to screening on this day or later."""
    delisted_until: int = -1
    """A delisted listing comes back live on this day."""
    ends_day: int = 2**62
    """The live product is replaced by a new one on this day."""

    @property
    def live(self) -> bool:
        return self.state == LISTING_LIVE

    @property
    def on_market(self) -> bool:
        """Live or delisted: a product the platform watches."""
        return self.state in (LISTING_LIVE, LISTING_DELISTED)

    def start_day(self, day: int) -> bool:
        """Bring a delisted product back when its time is up; retire a product at its end day.
        Returns whether a new product is due for screening today."""
        if self.state == LISTING_DELISTED and day >= self.delisted_until:
            self.state = LISTING_LIVE
        if self.state == LISTING_LIVE and day >= self.ends_day:
            self.state = LISTING_PREPARING
            self.relist_day = day
        return self.state == LISTING_PREPARING and day >= self.relist_day

    def new_product(self) -> None:
        self.product_id += 1

    def screened(self, passed: bool, retry_day: int, ends_day: int = 2**62) -> None:
        """After screening a new product: live until ``ends_day``, or intercepted and retried
        on ``retry_day``."""
        if passed:
            self.state = LISTING_LIVE
            self.ends_day = ends_day
        else:
            self.relist_day = retry_day

    def delist(self, until_day: int) -> bool:
        """Take a live product down until ``until_day``. Returns whether it was live."""
        if self.state != LISTING_LIVE:
            return False
        self.state = LISTING_DELISTED
        self.delisted_until = until_day
        return True

    def ban(self, relist_day: int) -> bool:
        """Ban the product on the market; a new one no sooner than ``relist_day``. Returns
        whether there was a product to ban."""
        if not self.on_market:
            return False
        self.state = LISTING_PREPARING
        self.relist_day = relist_day
        return True

    def withdraw(self) -> None:
        """The merchant left: nothing is listed."""
        self.state = LISTING_PREPARING
