"""The build context imagec sends or exports, and the content hash that names the image.

Layout (the source is filtered by its ignore file here, so engines never apply one)::

    Dockerfile                     the lowered plan (exports; engines get Containerfile)
    imagec/requirements/1-....txt  generated files from the plan
    imagec/find-links/0/...        local --find-links directories
    src/...                        the selected source root

An engine is sent the archive of everything but the build file, in archive order, and then
the build file as the last member. What the build file holds beyond the plan's rendering (the
labels that name the build: its content hash, when it was made) is thus outside the digest
the content hash is made from, and still set by the build file itself, not by build options
(podman commits one more step per label option).
"""

from __future__ import annotations

import hashlib
import heapq
import io
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, cast

from imagec.context.selection import select_context
from imagec.context.tarball import BLOCK, ExtraFile, Opener, write_context_tar
from imagec.context.walk import DIR, FILE, SYMLINK, ContextEntry
from imagec.errors import ImagecError
from imagec.plan.ir import Plan
from imagec.resolve.source_root import REPO_MARKER
from imagec.resolve.wheel import build_wheel
from imagec.util.fsutil import TreeReader, staged_directory, umask, without_outputs

HASH_VERSION = b"imagec-context-v2\n"


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

    def _hashed_extra(self) -> dict[str, ExtraFile]:
        """The generated files but the build file, which ``content_hash`` takes as text."""
        return {name: f for name, f in self._extra.items() if name != self.build_file}

    def entries(self) -> Iterator[ContextEntry]:
        """The selected trees of every ``ContextDir``, each under its ``dest``, in archive order."""
        streams = []
        for d in self.plan.dirs:
            selection = select_context(d.root, ignore_file=d.ignore_file)
            parts = d.dest.split("/")
            parents = [
                ContextEntry("/".join(parts[: i + 1]), DIR, d.root) for i in range(len(parts))
            ]
            # No directory sent holds `.imagec/` (the source, a parent Dockerfile's context).
            selected = _without_repo_marker(selection.entries())
            streams.append(_under(d.dest, parents, selected))
        return heapq.merge(*streams, key=_key)

    def write_tar(
        self,
        fileobj: BinaryIO,
        entries: Iterable[ContextEntry] | None = None,
        *,
        build_file_text: str | None = None,
    ) -> str:
        """Stream the context to ``fileobj``: the deterministic tarball of ``entries`` (default:
        all) and the generated files but the build file, then the build file
        (``build_file_text``, default the one hashed) as its last member. Return the sha256
        hex of the tarball without it, which is ``tar_digest`` if the tree did not change
        meanwhile. Files are opened beneath their roots, following no symlink."""
        text = self.build_file_text if build_file_text is None else build_file_text
        held = _HeldEnd(fileobj)
        digest = self._archive(cast("BinaryIO", held), entries)  # it has the one method used
        # The end marker held back, the build file follows as one more member.
        member = io.BytesIO()
        write_context_tar(
            member, (), extra={self.build_file: ExtraFile(text.encode())}, digest=False
        )
        held.finish(member.getvalue())
        return digest

    def _archive(
        self, fileobj: BinaryIO | None, entries: Iterable[ContextEntry] | None = None
    ) -> str:
        entries = self.entries() if entries is None else entries
        with self._readers() as readers:
            opener = _opener(readers)
            extra = self._hashed_extra()
            return write_context_tar(fileobj, entries, extra=extra, opener=opener)

    @cached_property
    def tar_digest(self) -> str:
        """sha256 of the deterministic tarball of the context without its build file."""
        return self._archive(None)

    @contextmanager
    def _readers(self) -> Iterator[dict[str, TreeReader]]:
        """A ``TreeReader`` per context directory, by its archive prefix (``src/``)."""
        readers: dict[str, TreeReader] = {}
        try:
            for d in self.plan.dirs:
                readers[d.dest + "/"] = TreeReader(Path(d.root))
            yield readers
        finally:
            for reader in readers.values():
                reader.close()

    @cached_property
    def content_hash(self) -> str:
        """sha256 over (IR + build file + the rest of the context): changes when, and only
        when, what reaches the image does."""
        h = hashlib.sha256(HASH_VERSION)
        h.update(self.plan.digest().encode())
        h.update(hashlib.sha256(self.build_file_text.encode()).hexdigest().encode())
        h.update(self.tar_digest.encode())
        return h.hexdigest()

    @property
    def tag(self) -> str:
        return f"{self.plan.image_name}:{self.content_hash[:TAG_LENGTH]}"

    def export(
        self,
        out_dir: Path,
        *,
        force: bool = False,
        protect: Iterable[tuple[str, Path]] = (),
    ) -> None:
        """Write the context as a directory that ``docker build DIR`` / ``podman build DIR``
        builds; nothing is written to ``out_dir`` unless all of it was.

        ``out_dir`` inside a source tree is left out of the context (with its staging dir),
        and ``--force`` never replaces a directory holding a ``protect``ed path. The tree is
        read as the tarball reads it: opened beneath its root without following symlinks, so
        an entry swapped for a symlink meanwhile is skipped, never copied from outside. Modes
        are never wider than the source's, less the umask.
        """
        protect = [*protect, *(("the source root", Path(d.root)) for d in self.plan.dirs)]
        modes: list[tuple[Path, int]] = []
        entries = without_outputs(self.entries(), [out_dir])  # checks the roots first
        with (
            self._readers() as readers,
            staged_directory(out_dir, force=force, protect=protect) as stage,
        ):
            extra = (ContextEntry(name, FILE, "") for name in sorted(self.extra_files()))
            for entry in heapq.merge(entries, extra, key=_key):
                _materialize(stage, entry, self.extra_files(), readers, modes)
            for path, mode in reversed(modes):  # last: a read-only source dir stays so
                os.chmod(path, mode)


class _HeldEnd:
    """Passes an archive on to ``out`` but its end marker (its last two blocks, all zeros),
    so that one more member can follow (``finish``)."""

    END = 2 * BLOCK

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._held = b""

    def write(self, data: bytes | memoryview) -> int:
        view = memoryview(data)
        if len(view) >= self.END:
            if self._held:
                self._out.write(self._held)
            self._out.write(view[: -self.END])
            self._held = bytes(view[-self.END :])  # the caller reuses its buffer
        else:
            joined = self._held + bytes(view)
            self._out.write(joined[: -self.END])
            self._held = joined[-self.END :]
        return len(view)

    def finish(self, rest: bytes) -> None:
        """Write ``rest`` (a member and a new end marker) where the held end marker was."""
        if self._held != bytes(self.END):
            raise AssertionError("the archive did not end with its end marker")
        self._out.write(rest)


def _opener(readers: dict[str, TreeReader]) -> Opener:
    def open_member(name: str) -> tuple[int, os.stat_result] | None:
        prefix = next((p for p in readers if name.startswith(p)), None)
        return None if prefix is None else readers[prefix].open_file(name[len(prefix) :])

    return open_member


def _under(
    dest: str, parents: list[ContextEntry], entries: Iterator[ContextEntry]
) -> Iterator[ContextEntry]:
    yield from parents
    for e in entries:
        yield e._replace(path=f"{dest}/{e.path}")


def _without_repo_marker(entries: Iterator[ContextEntry]) -> Iterator[ContextEntry]:
    """A directory sent never holds ``.imagec/`` (at any depth): its stacks other than the
    active one, which goes into the image as a rendered file, may hold other deployments'
    settings, whatever the ignore file says."""
    for e in entries:
        if REPO_MARKER not in e.path.split("/"):
            yield e


# Created in the staging dir only: O_EXCL and O_NOFOLLOW, so nothing there is followed.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _no_wider(source_mode: int) -> int:
    """0o755 or 0o644 as in the tarball, less what the source lacks (a 0o600 file stays so)."""
    return (0o755 if source_mode & 0o111 else 0o644) & stat.S_IMODE(source_mode)


def _write_new(target: Path, mode: int, write: Callable[[int], None]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, _CREATE, mode)  # the kernel takes the umask off
    try:
        write(fd)
    finally:
        os.close(fd)


def _materialize(
    stage: Path,
    entry: ContextEntry,
    extra: dict[str, ExtraFile],
    readers: dict[str, TreeReader],
    modes: list[tuple[Path, int]],
) -> None:
    target = stage / entry.path
    if entry.path in extra:
        data = extra[entry.path].data
        _write_new(target, 0o755 if extra[entry.path].mode & 0o111 else 0o644, _writer(data))
        return
    prefix = next((p for p in readers if entry.path.startswith(p)), None)
    if entry.kind == DIR:
        target.mkdir(parents=True, exist_ok=True)
        if prefix is not None:
            info = readers[prefix].stat(entry.path[len(prefix) :])
            if info is not None:
                modes.append((target, 0o755 & stat.S_IMODE(info.st_mode) & ~umask()))
        return
    if prefix is None:
        return
    reader = readers[prefix]
    rel = entry.path[len(prefix) :]
    if entry.kind == SYMLINK:
        link = reader.readlink(rel)
        if link is not None:  # sent as a link, never followed
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(link, target)
        return
    opened = reader.open_file(rel)
    if opened is None:
        return  # removed, or replaced by a symlink or a special file, since the walk
    fd, info = opened
    try:
        _write_new(target, _no_wider(info.st_mode), lambda out: _copy_fd(fd, out))
    finally:
        os.close(fd)


def _writer(data: bytes) -> Callable[[int], None]:
    def write(fd: int) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    return write


def _copy_fd(src: int, dst: int) -> None:
    while chunk := os.read(src, 1 << 20):
        _writer(chunk)(dst)
