"""Files the user names: read bounded and regular-only, every failure a ``SpecError``; written
atomically, never leaving a half-written file or directory behind."""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar

from imagec.errors import SpecError

# User files imagec reads (specs, stacks, requirements, Python sources) are a few KiB; refuse
# to read a data file by mistake.
MAX_USER_FILE_BYTES = 4 * 1024 * 1024


# (st_dev, st_ino) of every file read through read_user_bytes in this process: output
# targets that are one of them are refused, so `compile SPEC -o SPEC` cannot clobber an input.
_READ: set[tuple[int, int]] = set()

# O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer (the type check
# below then refuses it); O_NOCTTY: a terminal named by mistake never becomes ours.
_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def read_user_bytes(path: Path, what: str, *, limit: int = MAX_USER_FILE_BYTES) -> bytes:
    """Read a small regular file, turning every way it can fail into a SpecError at ``path``.

    The type is checked on the opened descriptor, not on the name, so a FIFO or device swapped
    in between is refused too; at most ``limit + 1`` bytes are read whatever the file claims.
    """
    try:
        fd = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        raise SpecError(f"{what} not found", file=path) from None
    except IsADirectoryError:
        raise SpecError(f"is a directory, expected a {what}", file=path) from None
    except PermissionError:
        raise SpecError(f"{what} not readable (permission denied)", file=path) from None
    except OSError as exc:
        raise SpecError(f"cannot read {what}: {exc.strerror}", file=path) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SpecError(f"is a directory, expected a {what}", file=path)
        if not stat.S_ISREG(info.st_mode):
            # A FIFO blocks and a device can be endless: read regular files only.
            raise SpecError(f"not a regular file, expected a {what}", file=path)
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(limit + 1 - got, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        size = max(info.st_size, got)
        if size > limit:
            raise SpecError(f"{what} too large ({size} bytes; limit {limit})", file=path)
        _READ.add((info.st_dev, info.st_ino))
        return b"".join(chunks)
    except OSError as exc:
        raise SpecError(f"cannot read {what}: {exc.strerror}", file=path) from None
    finally:
        os.close(fd)


def was_read(info: os.stat_result) -> bool:
    """Whether the file ``info`` describes was read as an input by this process."""
    return (info.st_dev, info.st_ino) in _READ


def read_user_text(path: Path, what: str, *, limit: int = MAX_USER_FILE_BYTES) -> str:
    """``read_user_bytes`` decoded as UTF-8 text (a byte-order mark dropped); binary files and
    invalid UTF-8 are SpecErrors, the latter at its line."""
    raw = read_user_bytes(path, what, limit=limit)
    if b"\0" in raw:
        raise SpecError(f"{what} is binary, expected UTF-8 text", file=path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(f"{what} is not valid UTF-8", file=path, line=line) from None


def umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, lambda f: f.write(text.encode()))


def _scratch_file(parent: Path, name: str) -> tuple[int, str]:
    """A new file ``.<name>.<random>.tmp`` in ``parent``, mode 0600, as ``tempfile.mkstemp``
    makes it (whose import, with shutil and random, is ~5 ms of `imagec context --tar`)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        tmp = os.path.join(parent, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(parent))


def atomic_write_bytes(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write`` with a temporary file next to ``path``, then move it into place.

    The new file keeps the mode of the file it replaces, or gets ``0o666`` less the umask.
    """
    if path.is_dir():
        raise SpecError("is a directory", file=path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise SpecError("parent directory does not exist", file=path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~umask()
    fd, tmp = _scratch_file(parent, path.name)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
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
    path = Path(output)
    try:
        info: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise SpecError(f"cannot write output: {exc.strerror}", file=path) from None
    if info is None:
        atomic_write_bytes(Path(os.path.realpath(path)), write)
        return
    if was_read(info):
        raise SpecError("is an input of this command; not overwriting it", file=path)
    if stat.S_ISDIR(info.st_mode):
        raise SpecError("is a directory", file=path)
    kind = stat.S_IFMT(info.st_mode)
    named_descriptor = output.startswith(_DESCRIPTOR_PATHS)
    if kind == stat.S_IFREG and not named_descriptor:
        atomic_write_bytes(Path(os.path.realpath(path)), write)
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


class _Walked(Protocol):
    path: str  # relative, "/"-separated
    fspath: str  # where it is on disk


W = TypeVar("W", bound=_Walked)


def _scratch_name(name: str, target: str) -> bool:
    # What atomic_write_bytes and staged_directory create next to ``target`` while writing.
    return name == target or (name.startswith(f".{target}.") and name.endswith((".tmp", ".old")))


def without_outputs(entries: Iterable[W], targets: Iterable[Path]) -> Iterator[W]:
    """``entries`` of a walked tree less ``targets`` (and what is below them), with the
    scratch files made while writing them: an export or tarball written inside the tree it is
    made from never includes itself. A target is matched by its name and the identity of its
    directory, so symlinked or relative spellings of the same place match too."""
    places: dict[str, set[tuple[int, int]]] = {}
    for target in targets:
        try:
            info = os.stat(target.absolute().parent)
        except OSError:
            continue
        places.setdefault(target.name, set()).add((info.st_dev, info.st_ino))
    if not places:
        yield from entries
        return
    skipped: str | None = None
    for entry in entries:
        if skipped is not None and entry.path.startswith(skipped):
            continue
        skipped = None
        name = entry.path.rpartition("/")[2]
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


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK and O_NOCTTY: a FIFO or terminal swapped in never blocks or becomes ours.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
# A name that is gone, is now a symlink (ELOOP) or not a directory: skipped, as Docker does.
_GONE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.ENXIO)


class TreeReader:
    """Opens files of a walked tree beneath its root, openat-style: each directory on the way
    is opened relative to the one before without following symlinks, and what was opened is
    checked again, so an entry swapped for a symlink after the walk is never followed out of
    the tree. Directory descriptors along the current path are kept for the next entry, and
    the files of one directory, which a walk's order puts one after another, are opened in it
    without looking it up again (that lookup was a third of the time spent archiving)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # user-named
        self.chain: list[tuple[str, int]] = []
        # The directory the last entry was in ("" is the root) and its descriptor (None: gone).
        self.here: str | None = None
        self.here_fd: int | None = None

    def close(self) -> None:
        for _, fd in self.chain:
            os.close(fd)
        self.chain.clear()
        self.here = self.here_fd = None
        os.close(self.root)

    def _directory(self, parts: list[str]) -> int | None:
        keep = 0
        while keep < min(len(self.chain), len(parts)) and self.chain[keep][0] == parts[keep]:
            keep += 1
        for _, fd in self.chain[keep:]:
            os.close(fd)
        del self.chain[keep:]
        fd = self.chain[-1][1] if self.chain else self.root
        for name in parts[keep:]:
            try:
                fd = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in _GONE:
                    return None
                raise
            self.chain.append((name, fd))
        return fd

    def _split(self, rel: str) -> tuple[int | None, str]:
        directory, _, name = rel.rpartition("/")
        if directory != self.here:
            self.here = directory
            self.here_fd = self._directory(directory.split("/") if directory else [])
        return self.here_fd, name

    def open_file(self, rel: str) -> tuple[int, os.stat_result] | None:
        """A descriptor of the regular file at ``rel`` and its status, or None when it is
        gone or is no longer a regular file."""
        parent, name = self._split(rel)
        if parent is None:
            return None
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno in _GONE:
                return None
            raise SpecError(f"cannot read file: {exc.strerror}", file=rel) from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return None
        os.set_blocking(fd, True)
        return fd, info

    def readlink(self, rel: str) -> str | None:
        parent, name = self._split(rel)
        if parent is None:
            return None
        try:
            return os.readlink(name, dir_fd=parent)
        except OSError:
            return None  # gone, or no longer a symlink

    def stat(self, rel: str) -> os.stat_result | None:
        parent, name = self._split(rel)
        if parent is None:
            return None
        try:
            return os.stat(name, dir_fd=parent, follow_symlinks=False)
        except OSError:
            return None
