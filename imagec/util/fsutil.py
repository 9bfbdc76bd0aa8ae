"""Files the user names and the files and directories imagec writes.

Reading (``userfiles``), writing a command's output (``outputs``) and opening a walked tree's
files (``treereader``) have modules of their own, which import neither pathlib nor typing for
``imagec context DIR --tar``; their names are here too. This module holds the export
directory, staged and swapped into place.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from imagec.errors import SpecError
from imagec.util.outputs import (
    atomic_write_bytes,
    atomic_write_text,
    umask,
    without_outputs,
    write_target,
)
from imagec.util.treereader import TreeReader
from imagec.util.userfiles import (
    MAX_USER_FILE_BYTES,
    read_user_bytes,
    read_user_text,
    was_read,
)

__all__ = [
    "MAX_USER_FILE_BYTES",
    "TreeReader",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_replaceable",
    "read_user_bytes",
    "read_user_text",
    "staged_directory",
    "umask",
    "was_read",
    "without_outputs",
    "write_target",
]


def _contains(directory: Path, path: Path) -> bool:
    return path == directory or directory in path.parents


def check_replaceable(target: Path, protect: Iterable[tuple[str, Path]] = ()) -> None:
    """Refuse to replace ``target`` (``--force``) when that would delete ``protect``ed paths
    (the spec, the source root: ``(what, path)``), the working directory or a git repository."""
    try:
        real = Path(os.path.realpath(target))
    except OSError:
        return
    if not real.is_dir():
        return
    guarded = [*protect, ("the working directory", Path.cwd())]
    for what, path in guarded:
        try:
            inside = _contains(real, Path(os.path.realpath(path)))
        except OSError:
            continue
        if inside:
            raise SpecError(
                f"--force would delete {what} ({path}); choose another output directory",
                file=target,
            )
    if (real / ".git").exists() or (real / ".imagec").is_dir():
        raise SpecError(
            "--force would delete a repository (it holds .git or .imagec); "
            "choose another output directory",
            file=target,
        )


@contextmanager
def staged_directory(
    target: Path, *, force: bool, protect: Iterable[tuple[str, Path]] = ()
) -> Iterator[Path]:
    """Yield a fresh staging dir next to ``target``; on success it replaces ``target``.

    ``target`` must be missing or empty unless ``force``, and never one that holds a
    ``protect``ed path (see ``check_replaceable``). On any error the staging dir is removed and
    ``target`` is left exactly as it was. The new directory is ``0o777`` less the umask.
    """
    if target.exists() and not target.is_dir():
        raise SpecError("exists and is not a directory", file=target)
    if target.is_dir() and any(target.iterdir()):
        if not force:
            raise SpecError("directory is not empty (use --force to replace it)", file=target)
        check_replaceable(target, protect)
    parent = target.parent
    if not parent.is_dir():
        raise SpecError("parent directory does not exist", file=target)
    import shutil
    import tempfile

    stage = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield stage
        os.chmod(stage, 0o777 & ~umask())
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
