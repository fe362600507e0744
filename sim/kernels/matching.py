"""The platform's channels, as indices into every per-channel array.

* feed (0): recommended short videos, sampled by the recommender's softmax (货找人)
* live (1): live rooms, sampled the same way among today's live appearances
* follow (2): content of creators the consumer follows
* search (3) and mall (4): listings in the category of an open need (人找货); the mall also
  recommends one listing to some consumers without a need

How consumers are matched to content and listings is in :mod:`sim.kernels.consumer_day`.
"""

from __future__ import annotations

from sim.vocabulary import CHANNELS, FEED, FOLLOW, LIVE, MALL, SEARCH

__all__ = ["CHANNELS", "FEED", "FOLLOW", "LIVE", "MALL", "SEARCH"]
