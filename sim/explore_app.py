"""The app ``solara run`` serves for ``zhongcao explore``: the explorer page for the scenario
and baseline run named in the environment (:mod:`sim.explore`)."""

from __future__ import annotations

import os

from sim.explore import BASELINE_ENV, SCENARIO_ENV
from sim.explore import page as make_page

page = make_page(os.environ.get(SCENARIO_ENV) or None, os.environ.get(BASELINE_ENV) or None)
