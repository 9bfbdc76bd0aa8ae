"""Select what the docker CLI sends as the build context: a pruned, ordered walk.

Port of the moby/go-archive ``TarWithOptions`` walk (the docker CLI's classic build
path): depth-first, each directory's names in byte order, a directory before its
contents. An excluded directory is skipped entirely unless some ``!`` pattern
literally starts with its path; then it is entered (but not itself sent) so the
exception can bring files back. Symlinks are sent as symlinks and never followed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from imagec.context.pattern import IgnoreMatcher, MatchState
from imagec.errors import SpecError

DIR, FILE, SYMLINK = "dir", "file", "symlink"


class ContextEntry(NamedTuple):
    """One thing sent in the context."""

    path: str  # relative to the root, "/"-separated, no trailing slash
    kind: str  # DIR, FILE or SYMLINK
    fspath: str  # where it is on disk


def _name_key(entry: os.DirEntry[str]) -> bytes:
    # Go sorts names by their bytes; for undecodable names that differs from str order.
    return entry.name.encode("utf-8", "surrogateescape")


def _list_dir(fspath: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(fspath) as it:
            entries = list(it)
    except (FileNotFoundError, NotADirectoryError):
        return []  # removed or replaced while walking
    except OSError as exc:
        raise SpecError(f"cannot read directory: {exc.strerror or exc}", file=fspath) from None
    entries.sort(key=_name_key)
    return entries


def walk_context(root: str | Path, matcher: IgnoreMatcher | None = None) -> Iterator[ContextEntry]:
    """Yield every entry the docker CLI would send for ``root``, in archive order.

    Regular files (hard links included), directories and symlinks are sent. Sockets,
    FIFOs and device nodes are skipped: they cannot be meaningfully copied into an
    image. Entries are produced lazily; only one directory listing per level of
    depth is held in memory.
    """
    top = os.fspath(root)
    if not os.path.isdir(top):
        raise SpecError("build context root is not a directory", file=top)
    use = matcher if matcher else None
    # One level per open directory: (remaining entries, relative prefix, match state).
    stack: list[tuple[Iterator[os.DirEntry[str]], str, MatchState | None]] = [
        (iter(_list_dir(top)), "", None)
    ]
    while stack:
        entries, prefix, state = stack[-1]
        for entry in entries:
            rel = prefix + entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            child_state: MatchState | None = None
            if use is not None:
                skip, child_state = use.match_child(rel, state)
                if skip:
                    if is_dir and use.has_exceptions and use.may_descend(rel):
                        stack.append((iter(_list_dir(entry.path)), rel + "/", child_state))
                        break
                    continue
            if is_dir:
                yield ContextEntry(rel, DIR, entry.path)
                stack.append((iter(_list_dir(entry.path)), rel + "/", child_state))
                break
            if entry.is_symlink():
                yield ContextEntry(rel, SYMLINK, entry.path)
            elif entry.is_file(follow_symlinks=False):
                yield ContextEntry(rel, FILE, entry.path)
        else:
            stack.pop()


def leaf_listing(entries: Iterable[ContextEntry]) -> list[str]:
    """The ``imagec context ROOT --list`` lines: sorted leaves.

    Every file and symlink, and every directory with nothing sent below it written
    with a trailing ``/``.
    """
    out: list[str] = []
    pending: str | None = None  # a directory not yet known to have content
    for entry in entries:
        if pending is not None and not entry.path.startswith(pending + "/"):
            out.append(pending + "/")
        pending = None
        if entry.kind == DIR:
            pending = entry.path
        else:
            out.append(entry.path)
    if pending is not None:
        out.append(pending + "/")
    out.sort()
    return out
