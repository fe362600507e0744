"""Atomic file writes: a reader sees the old file or the whole new one, never half of it.

Each write goes to a temporary file in the target's folder, is flushed to disk (``fsync``) and
moved into place with ``os.replace``, which is atomic on one filesystem; the folder is then
flushed too, so that after a power cut the new name points at the whole file.

Result folders are built under a hidden name ``.<name>.partial`` that is *reserved* when the
work starts: ``mkdir`` either creates it or fails because it exists, so two runs started at
once (even in the same second, with the same scenario and seed) always get distinct folders,
and a run only ever removes the partial folder it created. The partial folder holds an
``.owner`` file (process id, host, process start time); :func:`stale_partials` uses it to tell
a partial folder left by a crash from one still being written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()
"""Permissions of written files: what ``open`` would give (mkstemp's own are 0600)."""


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` and move the result to ``path``; clean up on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, FILE_MODE)
        fsync_path(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def fsync_path(path: Path) -> None:
    """Flush a file or a folder (its entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda p: frame.to_parquet(p, index=False, engine="pyarrow"))


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda p: frame.to_csv(p, index=False))


SLUG_MAX_BYTES = 120
PARTIAL_SUFFIX = ".partial"
OWNER_FILE = ".owner"


def slug(name: str) -> str:
    """``name`` as one safe folder-name component: every run of characters other than
    letters, digits, '_', '-' and '.' becomes '-', no leading dot or dash (hidden or
    option-like), at most :data:`SLUG_MAX_BYTES` bytes of UTF-8; never empty, '.' or '..'."""
    text = re.sub(r"[^\w.-]+", "-", name).lstrip(".-")
    text = text.encode("utf-8")[:SLUG_MAX_BYTES].decode("utf-8", errors="ignore")
    return text if text.strip(".") else "results"


def partial_name(name: str) -> str:
    return f".{name}{PARTIAL_SUFFIX}"


def is_partial(path: Path) -> bool:
    """Whether ``path`` is, or lies inside, a folder still being built (or left by a crash)."""
    return any(p.startswith(".") and p.endswith(PARTIAL_SUFFIX) for p in Path(path).parts)


@dataclass(frozen=True)
class Reservation:
    """A results folder being built: written into as ``partial``, renamed to ``final``."""

    partial: Path
    final: Path

    @property
    def complete(self) -> bool:
        """True once the partial folder has been renamed: only its owner can create
        ``final`` (it held the partial name while ``final`` did not exist)."""
        return self.final.is_dir() and not self.partial.exists()


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), to tell it from a
    later process given the same id; None where /proc is not there."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return None


class OutputError(Exception):
    """A results folder cannot be created where asked: bad input (exit code 2)."""


class StudyError(Exception):
    """A study folder that cannot be resumed or read (see :mod:`sim.study`): bad input (exit
    code 2)."""


def check_writable(parent: Path) -> None:
    """Raise OutputError unless results folders can be created in ``parent`` (or, when it does
    not exist yet, in its nearest existing ancestor)."""
    parent = Path(parent)
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"--out {parent}: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"--out {parent}: {probe} is not writable")


def reserve_folder(parent: Path, name: str) -> Reservation:
    """Reserve ``parent/name`` (or ``name-2``, ``name-3`` ... if taken or being built) by
    creating its partial folder; raise OutputError when ``parent`` cannot be written."""
    parent = Path(parent)
    check_writable(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        return _reserve(parent, slug(name))
    except OSError as exc:
        raise OutputError(f"--out {parent}: cannot create a results folder ({exc})") from None


def _reserve(parent: Path, name: str) -> Reservation:
    for n in range(1, 100_000):
        final = parent / (name if n == 1 else f"{name}-{n}")
        if final.exists():
            continue
        partial = parent / partial_name(final.name)
        try:
            partial.mkdir()
        except FileExistsError:
            continue
        if final.exists():  # renamed by its owner between the two checks
            partial.rmdir()
            continue
        try:
            owner = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "process_start": _process_start(os.getpid()),
            }
            (partial / OWNER_FILE).write_text(json.dumps(owner) + "\n", encoding="utf-8")
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        return Reservation(partial, final)
    raise FileExistsError(f"{parent}: no free folder name for {name!r}")


def claim_partial(partial: Path) -> Reservation:
    """Take over a partial folder left by an interrupted run (to resume it): it is marked as
    this process's, and keeps its final name. Raise OutputError if it is not a partial folder
    or its owner still runs."""
    partial = Path(partial)
    if not (partial.is_dir() and is_partial(partial)):
        raise OutputError(f"{partial}: not a partial results folder")
    owner_file = partial / OWNER_FILE
    if owner_file.is_file():
        try:
            owner = json.loads(owner_file.read_text(encoding="utf-8"))
        except ValueError:
            owner = {}
        if owner.get("pid") != os.getpid() and _owner_alive(owner):
            raise OutputError(f"{partial}: still being written by process {owner.get('pid')}")
    owner = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "process_start": _process_start(os.getpid()),
    }
    owner_file.write_text(json.dumps(owner) + "\n", encoding="utf-8")
    final = partial.parent / partial.name.removeprefix(".").removesuffix(PARTIAL_SUFFIX)
    if final.exists():
        raise OutputError(f"{partial}: its final folder {final} exists already")
    return Reservation(partial, final)


def finish_folder(reservation: Reservation) -> None:
    """Flush the partial folder and give it its final name."""
    (reservation.partial / OWNER_FILE).unlink(missing_ok=True)
    fsync_path(reservation.partial)
    os.rename(reservation.partial, reservation.final)
    fsync_path(reservation.final.parent)


@contextmanager
def atomic_folder(
    parent: Path, name: str, reserved: Callable[[Reservation], None] | None = None
) -> Iterator[tuple[Path, Path]]:
    """Reserve a folder (see :func:`reserve_folder`), build it under its hidden partial name
    and rename it to its final name when the block ends without error; on any error (or
    Ctrl-C) before the rename, remove the partial folder. ``reserved`` is told of the
    reservation as soon as it is made. Yields (partial, final): the folder to write into and
    the name it will have."""
    reservation = reserve_folder(parent, name)
    try:
        if reserved is not None:
            reserved(reservation)
        yield reservation.partial, reservation.final
        finish_folder(reservation)
    except BaseException:
        if not reservation.complete:
            shutil.rmtree(reservation.partial, ignore_errors=True)
        raise


@dataclass(frozen=True)
class PartialFolder:
    path: Path
    owner: dict
    stale: bool
    """True when the process that was building it is gone (crashed or killed)."""
    complete_runs: tuple[Path, ...]
    """Complete run folders inside it (a comparison's finished runs)."""


def _owner_alive(owner: dict) -> bool | None:
    """Whether the owner process still runs; None when that cannot be told from here."""
    if owner.get("host") != socket.gethostname() or not isinstance(owner.get("pid"), int):
        return None
    pid = owner["pid"]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = owner.get("process_start")
    return started is None or _process_start(pid) in (None, started)


def partial_folders(parent: Path) -> list[PartialFolder]:
    """Every partial folder directly in ``parent``, each marked stale or in progress. A partial
    folder without a readable owner file (written by an older version, or cut off before
    it) counts as stale."""
    found = []
    parent = Path(parent)
    if not parent.is_dir():
        return found
    for path in sorted(parent.iterdir()):
        if not (path.is_dir() and is_partial(Path(path.name))):
            continue
        try:
            owner = json.loads((path / OWNER_FILE).read_text(encoding="utf-8"))
            owner = owner if isinstance(owner, dict) else {}
        except (OSError, ValueError):
            owner = {}
        alive = _owner_alive(owner) if owner else False
        runs = tuple(
            sorted(
                p.parent
                for p in path.glob("runs/*/*/run.json")
                if not is_partial(p.parent.relative_to(path))
            )
        )
        found.append(PartialFolder(path, owner, alive is False, runs))
    return found
