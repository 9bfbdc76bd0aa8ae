"""Select what the docker CLI sends as the build context: a pruned, ordered walk.

Port of the moby/go-archive ``TarWithOptions`` walk (the docker CLI's classic build
path): depth-first, each directory's names in byte order, a directory before its
contents. An excluded directory is skipped entirely unless some ``!`` pattern
literally starts with its path; then it is entered (but not itself sent) so the
exception can bring files back. Symlinks are sent as symlinks and never followed.
"""

from __future__ import annotations

import operator
import os
from collections import namedtuple
from collections.abc import Iterable, Iterator

from imagec.errors import SpecError

# Neither typing nor pathlib at run time: `imagec context DIR --tar` is timed against tar, and
# with the `re` they import they were a third of its start-up.
TYPE_CHECKING = False
if TYPE_CHECKING:  # the walk only calls the matcher it is given; a compile walks nothing
    from pathlib import Path

    from imagec.context.pattern import IgnoreMatcher, MatchState

DIR, FILE, SYMLINK = "dir", "file", "symlink"


class ContextEntry(namedtuple("ContextEntry", ("path", "kind", "fspath"))):
    """One thing sent in the context: ``path`` (str) relative to the root, "/"-separated, no
    trailing slash; ``kind`` DIR, FILE or SYMLINK; ``fspath`` (str) where it is on disk."""

    __slots__ = ()


_name = operator.attrgetter("name")


def _name_bytes(entry: os.DirEntry[str]) -> bytes:
    return entry.name.encode("utf-8", "surrogateescape")


def _list_dir(fspath: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(fspath) as it:
            entries = list(it)
    except (FileNotFoundError, NotADirectoryError):
        return []  # removed or replaced while walking
    except OSError as exc:
        raise SpecError(f"cannot read directory: {exc.strerror or exc}", file=fspath) from None
    entries.sort(key=_name)
    if not all(map(str.isascii, map(_name, entries))):
        # Go sorts names by their bytes; with undecodable names str order differs.
        entries.sort(key=_name_bytes)
    return entries


def walk_context(
    root: str | Path, matcher: IgnoreMatcher | None = None, *, keep: Iterable[str] = ()
) -> Iterator[ContextEntry]:
    """Yield every entry the docker CLI would send for ``root``, in archive order.

    Regular files (hard links included), directories and symlinks are sent. Sockets,
    FIFOs and device nodes are skipped: they cannot be meaningfully copied into an
    image. Entries are produced lazily; only one directory listing per level of
    depth is held in memory.

    ``keep`` lists paths (relative, "/"-separated) sent even when excluded, like the
    Dockerfile and the ignore file. The docker CLI does this by appending ``!path``
    patterns; here the walk enters their excluded parent directories the same way
    (without sending them), and the path is matched literally, never as a glob.
    """
    top = os.fspath(root)
    if not os.path.isdir(top):
        raise SpecError("build context root is not a directory", file=top)
    use = matcher if matcher else None
    kept = frozenset(keep)
    kept_parents = frozenset(p.rsplit("/", i)[0] for p in kept for i in range(1, p.count("/") + 1))
    # One level per open directory: (remaining entries, relative prefix, match state).
    stack: list[tuple[Iterator[os.DirEntry[str]], str, MatchState | None]] = [
        (iter(_list_dir(top)), "", None)
    ]
    new = tuple.__new__  # builds a ContextEntry without namedtuple's Python-level __new__
    while stack:
        entries, prefix, state = stack[-1]
        for entry in entries:
            name = entry.name
            rel = prefix + name
            is_dir = entry.is_dir(follow_symlinks=False)
            child_state: MatchState | None = None
            if use is not None:
                skip, child_state = use.match_entry(prefix, name, rel, state)
                if skip and rel not in kept:
                    if is_dir and (
                        (use.has_exceptions and use.may_descend(rel)) or rel in kept_parents
                    ):
                        stack.append((iter(_list_dir(entry.path)), rel + "/", child_state))
                        break
                    continue
            if is_dir:
                yield new(ContextEntry, (rel, DIR, entry.path))
                stack.append((iter(_list_dir(entry.path)), rel + "/", child_state))
                break
            if entry.is_file(follow_symlinks=False):
                yield new(ContextEntry, (rel, FILE, entry.path))
            elif entry.is_symlink():
                yield new(ContextEntry, (rel, SYMLINK, entry.path))
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
