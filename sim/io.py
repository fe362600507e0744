"""Atomic file writes: a reader sees the old file or the whole new one, never half of it.

Each write goes to a temporary file in the target's folder and is moved into place with
``os.replace``, which is atomic on one filesystem.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda p: frame.to_parquet(p, index=False, engine="pyarrow"))


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda p: frame.to_csv(p, index=False))


def unique_folder(parent: Path, name: str) -> Path:
    """``parent/name``, or ``name-2``, ``name-3`` ... if taken (or being built)."""
    folder = parent / name
    n = 2
    while folder.exists() or (parent / f".{folder.name}.partial").exists():
        folder = parent / f"{name}-{n}"
        n += 1
    return folder


@contextmanager
def atomic_folder(parent: Path, name: str) -> Iterator[tuple[Path, Path]]:
    """Build a folder under the hidden name ``.<name>.partial`` and rename it to its final
    name when the block ends without error; on any error (or Ctrl-C) remove it. Yields
    (partial, final): the folder to write into and the name it will have."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    final = unique_folder(parent, name)
    partial = parent / f".{final.name}.partial"
    try:
        yield partial, final
        os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
