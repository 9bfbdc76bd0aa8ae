"""The build context imagec sends or exports, and the content hash that names the image.

Layout (the source is filtered by its ignore file here, so engines never apply one)::

    Containerfile                  the lowered plan
    imagec/requirements/1-....txt  generated files from the plan
    imagec/find-links/0/...        local --find-links directories
    src/...                        the selected source root
"""

from __future__ import annotations

import hashlib
import heapq
import os
import shutil
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from imagec.context.selection import select_context
from imagec.context.tarball import ExtraFile, context_digest, write_context_tar
from imagec.context.walk import DIR, FILE, SYMLINK, ContextEntry
from imagec.errors import ImagecError
from imagec.plan.ir import CTX_SOURCE, Plan
from imagec.resolve.source_root import REPO_MARKER
from imagec.resolve.wheel import build_wheel
from imagec.util.fsutil import staged_directory

HASH_VERSION = b"imagec-context-v1\n"


# Makers of binary context files named by ``ContextFile.generator``.
GENERATORS = {"imagec-wheel": build_wheel}
TAG_LENGTH = 16  # hex digits of the content hash in the image tag


def _key(entry: ContextEntry) -> tuple[bytes, ...]:
    # Archive order: component by component, by bytes (the walk's own order).
    return tuple(p.encode("utf-8", "surrogateescape") for p in entry.path.split("/"))


def check_context_path(path: str, what: str) -> str:
    """A path inside the context: relative, normalized, never climbing out. Plans come from
    plugins too, so this is checked here rather than trusted."""
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ImagecError(f"{what} {path!r} is not a plain relative path inside the context")
    return path


class BuildContext:
    def __init__(self, plan: Plan, build_file: str, build_file_text: str) -> None:
        for f in plan.files:
            check_context_path(f.path, "generated file")
        for d in plan.dirs:
            check_context_path(d.dest, "context directory")
        check_context_path(build_file, "build file")
        self.plan = plan
        self.build_file = build_file
        self.build_file_text = build_file_text

    @cached_property
    def _extra(self) -> dict[str, ExtraFile]:
        files = {}
        for f in self.plan.files:
            data = GENERATORS[f.generator]() if f.generator else f.content.encode()
            files[f.path] = ExtraFile(data, f.mode)
        files[self.build_file] = ExtraFile(self.build_file_text.encode())
        return files

    def extra_files(self) -> dict[str, ExtraFile]:
        return self._extra

    def entries(self) -> Iterator[ContextEntry]:
        """The selected trees of every ``ContextDir``, each under its ``dest``, in archive order."""
        streams = []
        for d in self.plan.dirs:
            selection = select_context(d.root, ignore_file=d.ignore_file)
            parts = d.dest.split("/")
            parents = [
                ContextEntry("/".join(parts[: i + 1]), DIR, d.root) for i in range(len(parts))
            ]
            selected = selection.entries()
            if d.dest == CTX_SOURCE:
                selected = _without_repo_marker(selected)
            streams.append(_under(d.dest, parents, selected))
        return heapq.merge(*streams, key=_key)

    def write_tar(self, fileobj: BinaryIO | None) -> str:
        """Stream the deterministic tarball to ``fileobj``; return its sha256 hex."""
        return write_context_tar(fileobj, self.entries(), extra=self.extra_files())

    @cached_property
    def tar_digest(self) -> str:
        return context_digest(self.entries(), extra=self.extra_files())

    @cached_property
    def content_hash(self) -> str:
        """sha256 over (IR + context): changes when, and only when, what reaches the image does."""
        h = hashlib.sha256(HASH_VERSION)
        h.update(self.plan.digest().encode())
        h.update(self.tar_digest.encode())
        return h.hexdigest()

    @property
    def tag(self) -> str:
        return f"{self.plan.image_name}:{self.content_hash[:TAG_LENGTH]}"

    def export(self, out_dir: Path, *, force: bool = False) -> None:
        """Write the context as a directory that ``docker build DIR`` / ``podman build DIR``
        builds; nothing is written to ``out_dir`` unless all of it was."""
        with staged_directory(out_dir, force=force) as stage:
            for entry in heapq.merge(
                self.entries(),
                (ContextEntry(name, FILE, "") for name in sorted(self.extra_files())),
                key=_key,
            ):
                _materialize(stage, entry, self.extra_files())


def _under(
    dest: str, parents: list[ContextEntry], entries: Iterator[ContextEntry]
) -> Iterator[ContextEntry]:
    yield from parents
    for e in entries:
        yield e._replace(path=f"{dest}/{e.path}")


def _without_repo_marker(entries: Iterator[ContextEntry]) -> Iterator[ContextEntry]:
    """The source copy never holds ``.imagec/`` (at any depth): its stacks other than the
    active one, which goes into the image as a rendered file, may hold other deployments'
    settings, whatever the ignore file says."""
    for e in entries:
        if REPO_MARKER not in e.path.split("/"):
            yield e


def _materialize(stage: Path, entry: ContextEntry, extra: dict[str, ExtraFile]) -> None:
    target = stage / entry.path
    if entry.path in extra:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(extra[entry.path].data)
        target.chmod(0o755 if extra[entry.path].mode & 0o111 else 0o644)
    elif entry.kind == DIR:
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(0o755)
    elif entry.kind == SYMLINK:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.readlink(entry.fspath), target)  # sent as a link, never followed
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(entry.fspath, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        mode = os.stat(entry.fspath).st_mode
        target.chmod(0o755 if mode & 0o111 else 0o644)
