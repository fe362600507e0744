"""The simulator's names: channels, kinds, listing states and governance actions.

One place for every name that indexes an array or keys a table, so the schema, the kernels,
the agents, the metrics and the plots agree. This module imports nothing of the project.
"""

from __future__ import annotations

CHANNELS: tuple[str, ...] = ("feed", "live", "follow", "search", "mall")
"""The platform's five channels, in the order used by every per-channel array:

* feed: recommended short videos, sampled by the recommender's softmax (货找人)
* live: live rooms, sampled the same way among today's live appearances
* follow: content of creators the consumer follows
* search and mall: listings in the category of an open need (人找货); the mall also
  recommends one listing to some consumers without a need
"""
FEED, LIVE, FOLLOW, SEARCH, MALL = range(len(CHANNELS))

MERCHANT_KINDS: tuple[str, ...] = (
    "brand",
    "new_brand",
    "small_business",
    "rural_producer",
    "heritage_craft",
    "publisher",
)
CREATOR_KINDS: tuple[str, ...] = (
    "mega_influencer",
    "general",
    "knowledge",
    "new_farmer",
    "heritage_artisan",
    "brand_account",
)
INDEPENDENT_CREATOR_KINDS: tuple[str, ...] = (
    "mega_influencer",
    "general",
    "knowledge",
    "new_farmer",
)
"""Creator kinds that exist on their own; the others are a merchant's own account (自播)."""

OWN_ACCOUNT_KIND: dict[str, str] = {kind: "brand_account" for kind in MERCHANT_KINDS} | {
    "heritage_craft": "heritage_artisan"
}
"""The creator kind of a merchant's own account: heritage craftspeople sell their own craft
(看见手艺); every other kind runs a brand or publisher account (自播)."""

# A merchant's listing: live, being prepared (none live; a new one goes through screening on
# its relist day), or delisted by the platform for a while.
LISTING_LIVE = "live"
LISTING_PREPARING = "preparing"
LISTING_DELISTED = "delisted"

GOVERNANCE_ACTIONS: tuple[str, ...] = ("intercepted", "banned", "delisted", "penalized", "removed")
"""The five governance actions of the articles, in the order of the funnel:

1. intercepted: a violating listing stopped before it goes live (拦截违规商品发布)
2. banned: a product proven to violate (封禁违规商品)
3. delisted: a risky product taken down for a while (下架风险商品)
4. penalized: a merchant fined and given a strike (处罚违规商家)
5. removed: a merchant removed once its strikes reach the limit (清退严重违规商家)
"""
