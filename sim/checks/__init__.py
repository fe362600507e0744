"""``zhongcao check``: the project's own stylized facts (see :mod:`sim.checks.base`).

Each module here registers the cases of one part of the model."""

from sim.checks import (  # noqa: F401  (register their cases)
    customers,
    governance,
    live,
    merchants,
    stars,
)
from sim.checks.base import CASES, FULL, QUICK, Row, Scale, Verdict, run_cases

__all__ = ["CASES", "FULL", "QUICK", "Row", "Scale", "Verdict", "run_cases"]
