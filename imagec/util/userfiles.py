"""Files the user names, read bounded and regular-only, every failure a ``SpecError``."""

from __future__ import annotations

import os
import stat

from imagec.errors import SpecError

TYPE_CHECKING = False  # not typing's: `imagec context DIR --tar` reads its ignore file here
if TYPE_CHECKING:
    from os import PathLike

# User files imagec reads (specs, stacks, requirements, Python sources) are a few KiB; refuse
# to read a data file by mistake.
MAX_USER_FILE_BYTES = 4 * 1024 * 1024


# (st_dev, st_ino) of every file read through read_user_bytes in this process: output
# targets that are one of them are refused, so `compile SPEC -o SPEC` cannot clobber an input.
_READ: set[tuple[int, int]] = set()

# O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer (the type check
# below then refuses it); O_NOCTTY: a terminal named by mistake never becomes ours.
_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def read_user_bytes(
    path: str | PathLike[str], what: str, *, limit: int = MAX_USER_FILE_BYTES
) -> bytes:
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


def read_user_text(
    path: str | PathLike[str], what: str, *, limit: int = MAX_USER_FILE_BYTES
) -> str:
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
