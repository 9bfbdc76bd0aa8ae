"""A command's outputs: written atomically, never leaving a half-written file behind, never
over one of the command's inputs, and left out of a tree walked to make them.

Neither pathlib nor typing is imported (``imagec context DIR --tar`` writes through here and is
timed against GNU tar); paths are taken as ``str`` or ``os.PathLike`` and read the way
``pathlib`` reads them (``util.pathtext``).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator

from imagec.errors import SpecError
from imagec.util.pathtext import is_dir, path_text
from imagec.util.userfiles import was_read

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike
    from typing import BinaryIO, Protocol, TypeVar

    class _Walked(Protocol):
        path: str  # relative, "/"-separated
        fspath: str  # where it is on disk

    W = TypeVar("W", bound=_Walked)


def umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | PathLike[str], text: str) -> None:
    atomic_write_bytes(path, lambda f: f.write(text.encode()))


def _scratch_file(parent: str, name: str) -> tuple[int, str]:
    """A new file ``.<name>.<random>.tmp`` in ``parent``, mode 0600, as ``tempfile.mkstemp``
    makes it (whose import, with shutil and random, is ~5 ms of `imagec context --tar`)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        tmp = os.path.join(parent, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary name", parent)


# Outputs this large (a context archive) are worth the calls in _drop_cached.
_LARGE = 1 << 20


def _drop_cached(path: str) -> None:
    """Ask the kernel to drop the cached pages of the file about to be replaced; its content
    (on disk) stays until the rename. GNU tar truncates its output first, so the new archive
    is written into the pages the old one just gave back; writing beside the old file instead
    took fresh pages, and that was most of the difference between the two on a 30 MB
    archive (measured 2026-12-03: 30-160 ms of writing against 8-20 ms with the old pages
    dropped first, and 10-85 ms CPU against 7-12 ms)."""
    if not hasattr(os, "posix_fadvise"):  # macOS has none
        return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return  # not readable (a file in a writable directory can be replaced anyway)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass  # a hint only
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Call ``write`` with a temporary file next to ``path``, then move it into place.

    The new file keeps the mode of the file it replaces, or gets ``0o666`` less the umask.
    """
    path = path_text(path)
    if is_dir(path):
        raise SpecError("is a directory", file=path)
    parent = os.path.dirname(path) or "."
    if not is_dir(parent):
        raise SpecError("parent directory does not exist", file=path)
    try:
        info = os.stat(path)
    except OSError:
        mode = 0o666 & ~umask()
    else:
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISREG(info.st_mode) and info.st_size >= _LARGE:
            _drop_cached(path)
    fd, tmp = _scratch_file(parent, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:  # noqa: SIM105 (contextlib is not otherwise loaded by a console-script start)
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


# Names of an open descriptor: writing to them must go to that descriptor, not replace what
# the name resolves to (`imagec compile -o /dev/stdout >> log` appends to log, as a shell would).
_DESCRIPTOR_PATHS = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/")


def write_target(output: str, write: Callable[[BinaryIO], object]) -> None:
    """Write a command's output to ``output`` the way the user named it.

    ``-`` is standard output. A FIFO or a character device (``/dev/null``, a terminal) is
    written into and never replaced; a descriptor path (``/dev/stdout``) is written through.
    A regular file (or a new name) is replaced atomically, through a symlink if ``output`` is
    one. A directory, a socket or block device, and any file imagec read as an input in this
    run (``compile SPEC -o SPEC``) are refused before anything is written.
    """
    if output == "-":
        sys.stdout.flush()
        write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    path = path_text(output)
    try:
        info: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise SpecError(f"cannot write output: {exc.strerror}", file=path) from None
    if info is None:
        atomic_write_bytes(os.path.realpath(path), write)
        return
    if was_read(info):
        raise SpecError("is an input of this command; not overwriting it", file=path)
    if stat.S_ISDIR(info.st_mode):
        raise SpecError("is a directory", file=path)
    kind = stat.S_IFMT(info.st_mode)
    named_descriptor = output.startswith(_DESCRIPTOR_PATHS)
    if kind == stat.S_IFREG and not named_descriptor:
        atomic_write_bytes(os.path.realpath(path), write)
        return
    if kind not in (stat.S_IFREG, stat.S_IFIFO, stat.S_IFCHR):
        raise SpecError("is not a regular file, FIFO or character device", file=path)
    # O_TRUNC empties a regular file behind a descriptor path and does nothing to a device or
    # a FIFO; no O_CREAT, so a name that vanished meanwhile is not created as a regular file.
    flags = os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC | os.O_TRUNC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise SpecError(f"cannot write output: {exc.strerror}", file=path) from None
    with os.fdopen(fd, "wb") as f:
        write(f)


def _scratch_name(name: str, target: str) -> bool:
    # What atomic_write_bytes and staged_directory create next to ``target`` while writing.
    return name == target or (name.startswith(f".{target}.") and name.endswith((".tmp", ".old")))


def without_outputs(entries: Iterable[W], targets: Iterable[str | PathLike[str]]) -> Iterator[W]:
    """``entries`` of a walked tree less ``targets`` (and what is below them), with the
    scratch files made while writing them: an export or tarball written inside the tree it is
    made from never includes itself. A target is matched by its name and the identity of its
    directory, so symlinked or relative spellings of the same place match too."""
    places: dict[str, set[tuple[int, int]]] = {}
    for target in targets:
        # Path(target).absolute(): the name joined to the working directory, ".." kept.
        text = path_text(target)
        full = os.getcwd() if text == "." else os.path.join(os.getcwd(), text)
        try:
            info = os.stat(os.path.dirname(full))
        except OSError:
            continue
        places.setdefault(os.path.basename(full), set()).add((info.st_dev, info.st_ino))
    if not places:
        yield from entries
        return
    # Names that can be a target or its scratch file: one C-level test per entry rejects the
    # rest (the walk yields thousands; `imagec context --tar` is timed against tar).
    starts = (*places, *(f".{t}." for t in places))
    skipped: str | None = None
    for entry in entries:
        if skipped is not None and entry.path.startswith(skipped):
            continue
        skipped = None
        name = entry.path.rpartition("/")[2]
        if not name.startswith(starts):
            yield entry
            continue
        hit = [t for t in places if _scratch_name(name, t)]
        if hit:
            try:
                info = os.stat(os.path.dirname(entry.fspath) or ".")
            except OSError:
                info = None
            if info is not None and any((info.st_dev, info.st_ino) in places[t] for t in hit):
                skipped = entry.path + "/"
                continue
        yield entry
