"""What ``pathlib`` answers about a path, for the modules of ``imagec context DIR --tar``:
pathlib (with the ``re``, ``fnmatch`` and ``urllib.parse`` it imports) was a fifth of that
command's start-up, which is timed against GNU tar."""

from __future__ import annotations

import errno
import os
import stat

TYPE_CHECKING = False  # not typing's, for the same reason
if TYPE_CHECKING:
    from os import PathLike

# The errors pathlib's is_dir() and exists() answer False for; any other is raised.
_ABSENT = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def path_text(path: str | PathLike[str]) -> str:
    """``str(Path(path))``: "." components and repeated and trailing slashes dropped, ``..``
    kept, two leading slashes kept (POSIX leaves their meaning open), ``""`` is ``"."``."""
    text = os.fspath(path)
    root = ""
    if text.startswith("/"):
        root = "//" if text.startswith("//") and not text.startswith("///") else "/"
    return root + "/".join(p for p in text.split("/") if p and p != ".") or "."


def _status(path: str | PathLike[str]) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError as exc:
        if exc.errno in _ABSENT:
            return None
        raise
    except ValueError:  # an embedded NUL
        return None


def is_dir(path: str | PathLike[str]) -> bool:
    """``Path(path).is_dir()``: symlinks followed; a missing path is False, permission
    errors are raised."""
    info = _status(path)
    return info is not None and stat.S_ISDIR(info.st_mode)


def exists(path: str | PathLike[str]) -> bool:
    """``Path(path).exists()``: symlinks followed, so a dangling one does not exist."""
    return _status(path) is not None
