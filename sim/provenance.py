"""Provenance of a results folder: the code's git commit (and whether its tree had
uncommitted changes), and the version of every package zhongcao depends on, directly or
through another package.

Both are looked up once per process. Outside a git checkout (an installed wheel) the commit
is None; the versions then come from the installed distributions alone.
"""

from __future__ import annotations

import platform
import re
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

SOURCE = Path(__file__).resolve().parents[1]
"""Where the code lives: the repository root in a checkout."""


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(SOURCE), *args], capture_output=True, text=True, timeout=10,
            check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@cache
def git_state() -> dict:
    """``{"commit": sha or None, "dirty": True/False/None}``: dirty when tracked files differ
    from the commit (untracked files are not counted)."""
    if _git("rev-parse", "--is-inside-work-tree") != "true":
        return {"commit": None, "dirty": None}
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"commit": _git("rev-parse", "HEAD"), "dirty": None if status is None else status != ""}


def _requirements(name: str) -> list[str]:
    """The names a distribution requires on this machine: optional extras and requirements
    whose environment marker does not hold here (another platform) are left out."""
    try:
        requires = metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return []
    names = []
    for text in requires:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            names.append(requirement.name)
    return names


@cache
def dependency_versions(root: str = "zhongcao") -> dict[str, str]:
    """Version of ``root`` and of every package it requires, transitively (extras left out),
    plus Python's; a package that is not installed is "not installed"."""
    versions = {"python": platform.python_version()}
    todo, seen = [root], set()
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            versions[metadata.metadata(name)["Name"]] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
            continue
        todo.extend(_requirements(name))
    return dict(sorted(versions.items(), key=lambda kv: kv[0].lower()))
