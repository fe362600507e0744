"""Designs of a sweep: a scenario's ``sweep:`` block -> design points, with SALib.

A sweep varies dotted keys of the scenario, in EMA Workbench's vocabulary *uncertain factors*
(what the platform does not choose) and *levers* (what it does). Each key has a range, a list
of levels or a distribution. The design is a matrix ``X`` (points x keys) drawn by SALib —
Latin hypercube (``lhs``), Sobol' sequence with Saltelli's scheme (``sobol``), Morris
trajectories (``morris``) — or a full ``grid`` (every combination of the levels, a range
giving ``samples`` evenly spaced values). A key with levels is drawn as a number in
``[0, n_levels)`` and takes the level its integer part names, so SALib's indices treat it as
one input; a key marked ``integer`` (or whose scenario value is an integer) is rounded.

``X`` (what SALib drew) is what the analysis needs; the values the scenario is given are
:func:`point_values`. The draw depends only on the design and the scenario's seed
(:func:`design_seed`), so a design is the same wherever it is made.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.config import SweepConfig, SweepParameter
from sim.rng import Streams

SALIB_DISTRIBUTIONS = {
    "uniform": "unif",
    "loguniform": "logunif",
    "triangular": "triang",
    "normal": "norm",
    "truncated_normal": "truncnorm",
    "lognormal": "lognorm",
}


@dataclass(frozen=True)
class Parameter:
    key: str
    """The dotted scenario key."""
    role: str
    """``factor`` or ``lever``."""
    spec: SweepParameter
    integer: bool

    @property
    def bounds(self) -> list[float]:
        """SALib's bounds for this key (for ``levels``: ``[0, n_levels]``)."""
        spec = self.spec
        if spec.range is not None:
            return [float(spec.range[0]), float(spec.range[1])]
        if spec.levels is not None:
            return [0.0, float(len(spec.levels))]
        d = spec.distribution
        if d.kind == "triangular":  # SALib: the peak as a share of the width
            return [d.low, d.high, (d.mode - d.low) / (d.high - d.low)]
        if d.kind == "truncated_normal":
            return [d.low, d.high, d.mean, d.sd]
        if d.kind in ("normal", "lognormal"):
            return [d.mean, d.sd]
        return [d.low, d.high]

    @property
    def dist(self) -> str:
        d = self.spec.distribution
        return "unif" if d is None else SALIB_DISTRIBUTIONS[d.kind]

    def value(self, x: float) -> Any:
        """The scenario value for the drawn number ``x``."""
        if self.spec.levels is not None:
            levels = self.spec.levels
            return levels[min(int(np.floor(x)), len(levels) - 1)]
        if self.integer:
            return round(float(x))
        return float(x)


@dataclass(frozen=True)
class Design:
    method: str
    parameters: tuple[Parameter, ...]
    X: np.ndarray
    """(points, keys) float64: what the design drew, in the parameters' order."""
    seed: int
    second_order: bool
    morris_levels: int

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.parameters]

    @property
    def problem(self) -> dict:
        """SALib's problem definition."""
        return {
            "num_vars": len(self.parameters),
            "names": self.keys,
            "bounds": [p.bounds for p in self.parameters],
            "dists": [p.dist for p in self.parameters],
        }

    def point_values(self, row: int) -> dict[str, Any]:
        return {p.key: p.value(x) for p, x in zip(self.parameters, self.X[row], strict=True)}

    @property
    def n_points(self) -> int:
        return int(self.X.shape[0])


def point_names(n: int) -> list[str]:
    width = max(4, len(str(n - 1)))
    return [f"p{i:0{width}d}" for i in range(n)]


def design_seed(root_seed: int) -> int:
    """The seed SALib draws the design with: from the scenario's seed, its own stream."""
    return Streams(root_seed).seed_int("study.design") % 2**32


def parameters_of(sweep: SweepConfig, current: dict[str, Any]) -> tuple[Parameter, ...]:
    """The swept keys in order (factors, then levers); ``current`` holds each key's value in
    the scenario, which tells whether it is an integer."""
    out = []
    for role, group in (("factor", sweep.factors), ("lever", sweep.levers)):
        for key, spec in group.items():
            integer = spec.integer
            if integer is None:
                value = current.get(key)
                integer = isinstance(value, int) and not isinstance(value, bool)
            out.append(Parameter(key, role, spec, bool(integer)))
    return tuple(out)


def make_design(sweep: SweepConfig, current: dict[str, Any], root_seed: int) -> Design:
    """Draw the design points of a sweep (see the module docstring)."""
    from SALib.sample import latin, morris, sobol

    parameters = parameters_of(sweep, current)
    seed = design_seed(root_seed)
    design = Design(sweep.design, parameters, np.empty((0, 0)), seed, sweep.second_order, 4)
    problem = design.problem
    if sweep.design == "grid":
        axes = []
        for p in parameters:
            if p.spec.levels is not None:
                axes.append(np.arange(len(p.spec.levels), dtype=np.float64))
            else:
                low, high = p.spec.range
                values = np.linspace(low, high, sweep.samples)
                if p.integer:
                    values = np.unique(np.round(values))
                axes.append(values)
        X = np.array(list(itertools.product(*axes)), dtype=np.float64)
    elif sweep.design == "lhs":
        X = latin.sample(problem, sweep.samples, seed=seed)
    elif sweep.design == "sobol":
        X = sobol.sample(problem, sweep.samples, calc_second_order=sweep.second_order, seed=seed)
    else:
        X = morris.sample(problem, sweep.samples, num_levels=sweep.morris_levels, seed=seed)
    return Design(
        sweep.design,
        parameters,
        np.asarray(X, dtype=np.float64),
        seed,
        sweep.second_order,
        sweep.morris_levels,
    )
