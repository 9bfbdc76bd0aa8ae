"""One build context: a root, the ignore file it uses, and the files kept regardless.

This is the entry point for the CLI (``imagec context ROOT --list``) and the compiler.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from imagec.context.gosyntax import clean
from imagec.context.tarball import DEFAULT_MTIME, ExtraFile, context_digest, write_context_tar
from imagec.context.walk import ContextEntry, leaf_listing, walk_context
from imagec.errors import SpecError
from imagec.util.pathtext import exists, is_dir, path_text

# No typing and no pathlib at run time: `imagec context DIR --tar` is timed against GNU tar.
TYPE_CHECKING = False
if TYPE_CHECKING:  # loaded by select_context: finding the ignore file needs no matcher
    from os import PathLike
    from pathlib import Path
    from typing import BinaryIO

    from imagec.context.dockerignore import IgnoreRules
    from imagec.context.pattern import IgnoreMatcher

DOCKERIGNORE = ".dockerignore"
CONTAINERIGNORE = ".containerignore"


class ContextSelection:
    """What to send for ``root``; every method walks the tree afresh.

    (A class with slots, not a dataclass: importing ``dataclasses`` was a tenth of
    ``imagec context --tar``'s start-up. The paths are kept as text and made Paths when read,
    so the command loads no pathlib.)
    """

    __slots__ = ("_ignore_file", "_root", "kept", "matcher", "rules")

    def __init__(
        self,
        root: str,
        ignore_file: str | None,
        rules: IgnoreRules | None,
        matcher: IgnoreMatcher,
        kept: tuple[str, ...],
    ) -> None:
        self._root = root
        self._ignore_file = ignore_file
        self.rules = rules
        self.matcher = matcher  # the ignore file's patterns (empty without one)
        self.kept = kept  # paths (relative to root) sent even if excluded

    @property
    def root(self) -> Path:
        from pathlib import Path

        return Path(self._root)

    @property
    def ignore_file(self) -> Path | None:
        """The ignore file in use, None when there is none."""
        from pathlib import Path

        return Path(self._ignore_file) if self._ignore_file is not None else None

    def entries(self) -> Iterator[ContextEntry]:
        return walk_context(self._root, self.matcher, keep=self.kept)

    def leaf_listing(self) -> list[str]:
        return leaf_listing(self.entries())

    def write_tar(
        self,
        fileobj: BinaryIO | None,
        *,
        prefix: str = "",
        extra: Mapping[str, bytes | ExtraFile] | None = None,
        mtime: int = DEFAULT_MTIME,
    ) -> str:
        return write_context_tar(fileobj, self.entries(), prefix=prefix, extra=extra, mtime=mtime)

    def digest(
        self,
        *,
        prefix: str = "",
        extra: Mapping[str, bytes | ExtraFile] | None = None,
        mtime: int = DEFAULT_MTIME,
    ) -> str:
        return context_digest(self.entries(), prefix=prefix, extra=extra, mtime=mtime)


def select_context(
    root: str | PathLike[str],
    *,
    ignore_file: str | PathLike[str] | None = None,
    dockerfile: str | PathLike[str] | None = None,
) -> ContextSelection:
    """Resolve the ignore file for ``root`` and the paths that must be sent.

    ``ignore_file`` overrides the lookup of ``.containerignore`` / ``.dockerignore``
    (see :func:`find_ignore_file`); a relative path is taken
    from the working directory, like any command-line path. ``dockerfile`` is the
    build file in use, relative to ``root`` or absolute. It and the ignore file are
    always sent when they are inside the root, as the docker CLI promises; unlike the
    CLI, imagec keeps that promise when the legacy check it uses misses an exclusion.
    """
    from imagec.context.dockerignore import read_ignore_file
    from imagec.context.pattern import IgnoreMatcher

    root = path_text(root)
    if not is_dir(root):
        what = "does not exist" if not exists(root) else "is not a directory"
        raise SpecError(f"build context root {what}", file=root)
    path = _find_ignore_file(root, ignore_file)
    rules = read_ignore_file(path) if path is not None else None
    matcher = rules.matcher if rules is not None else IgnoreMatcher([])
    # The ignore file path is as given (relative to the working directory); the build
    # file is relative to the root.
    ignore_rel = _inside(root, os.path.abspath(path)) if path is not None else None
    kept = tuple(dict.fromkeys(p for p in (ignore_rel, _inside(root, dockerfile)) if p))
    return ContextSelection(root, path, rules, matcher, kept)


def _inside(root: str, path: str | PathLike[str] | None) -> str | None:
    """``path`` relative to ``root`` ("/"-separated), or None when it is outside."""
    if path is None:
        return None
    full = os.path.join(os.path.abspath(root), path)
    rel = os.path.relpath(os.path.abspath(full), os.path.abspath(root))
    rel = clean(rel.replace(os.sep, "/"))
    if rel in (".", "..") or rel.startswith("../"):
        return None
    return rel


def find_ignore_file(
    root: str | PathLike[str], explicit: str | PathLike[str] | None = None
) -> Path | None:
    """The ignore file a build of ``root`` uses, or None.

    An explicit file always wins and is returned as given, even if it does not exist
    (reading it then fails with a clear error). Otherwise
    ``.containerignore`` in the root, then ``.dockerignore``: the order Podman and
    Buildah use, so a tree carrying both files gets the same context from either
    engine. A dangling symlink counts as absent, as it does for Docker. Unlike Docker, a
    found file that is a symlink out of the root is refused: nobody named that host file,
    and its lines would be read and quoted in errors.
    """
    found = _find_ignore_file(path_text(root), explicit)
    if found is None:
        return None
    from pathlib import Path

    return Path(found)


def _find_ignore_file(root: str, explicit: str | PathLike[str] | None) -> str | None:
    """``find_ignore_file`` as ``str(Path(...))`` text, for a ``root`` given as such."""
    if explicit is not None:
        return path_text(explicit)
    for name in (CONTAINERIGNORE, DOCKERIGNORE):
        candidate = path_text(os.path.join(root, name))
        if exists(candidate):
            # Path.resolve() is os.path.realpath; the root holds the file, or is it.
            real, top = os.path.realpath(candidate), os.path.realpath(root)
            if real != top and not real.startswith(top.rstrip("/") + "/"):
                raise SpecError(
                    f"{name} is a symlink out of the build context; name the file it points "
                    "to as the ignore file to use it",
                    file=candidate,
                )
            return candidate
    return None
