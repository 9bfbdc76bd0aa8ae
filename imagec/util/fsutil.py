"""Writes that never leave a half-written file or directory behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from imagec.errors import SpecError


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, lambda f: f.write(text.encode()))


def atomic_write_bytes(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write`` with a temporary file next to ``path``, then move it into place."""
    if path.is_dir():
        raise SpecError("is a directory", file=path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise SpecError("parent directory does not exist", file=path)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def staged_directory(target: Path, *, force: bool) -> Iterator[Path]:
    """Yield a fresh staging dir next to ``target``; on success it replaces ``target``.

    ``target`` must be missing or empty unless ``force``. On any error the staging dir is
    removed and ``target`` is left exactly as it was.
    """
    if target.exists() and not target.is_dir():
        raise SpecError("exists and is not a directory", file=target)
    if target.is_dir() and any(target.iterdir()) and not force:
        raise SpecError("directory is not empty (use --force to replace it)", file=target)
    parent = target.parent
    if not parent.is_dir():
        raise SpecError("parent directory does not exist", file=target)
    stage = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield stage
        os.chmod(stage, 0o755)
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}.", suffix=".old"))
            os.rmdir(old)
            os.replace(target, old)
            os.replace(stage, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
