"""A reproducible tar stream of the build context, and its sha256.

The same selected tree gives the same bytes on any machine: entries in the walk's
order, POSIX (pax) format, owner 0:0 with empty user and group names, one fixed
mtime, and modes reduced to 0o755 (directories, files with any executable bit) or
0o644 (other files); symlinks are 0o777 and keep their target text. Hard links are
stored as separate regular files (what is linked to what depends on files outside
the context). Contents are copied in chunks, so memory use does not grow with the
size of the tree or of any file.
"""

from __future__ import annotations

import _thread
import errno
import heapq
import os
import stat
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping
from zlib import adler32

from imagec.context.gosyntax import clean
from imagec.context.walk import DIR, FILE, SYMLINK
from imagec.errors import SpecError

TYPE_CHECKING = False  # not typing's: see walk.py
if TYPE_CHECKING:
    from typing import BinaryIO

    from imagec.context.walk import ContextEntry

# 1980-01-02T00:00:00Z, not the epoch: zip-based tools (wheel builds) reject file
# times before 1980, and a day of margin keeps every local time zone after it.
DEFAULT_MTIME = 315_619_200

BLOCK = 512
_FLUSH = 1 << 20  # batch small writes into ~1 MiB chunks
_CHUNK = 1 << 20  # read big files this much at a time
_MAX_OCTAL_SIZE = 0o77777777777  # the largest size an 11-digit ustar field holds
_ZERO_BLOCK = bytes(BLOCK)
_PAX_NAME = b"././@PaxHeader"
_TYPE = {FILE: b"0", SYMLINK: b"2", DIR: b"5", "pax": b"x"}


class ExtraFile(namedtuple("ExtraFile", ("data", "mode"), defaults=(0o644,))):
    """A generated file added to the archive without touching the source tree: ``data``
    (bytes) and ``mode`` (int, 0o644 unless given)."""

    __slots__ = ()


class _Header:
    """Builds ustar headers; the constant fields are summed once for the checksum."""

    def __init__(self, mtime: int) -> None:
        if not 0 <= mtime <= _MAX_OCTAL_SIZE:
            raise ValueError(f"mtime {mtime} does not fit a tar header")
        self.ids = b"0000000\x00" * 2  # uid, gid
        self.mtime = b"%011o\x00" % mtime
        # magic, version, empty user and group names, device numbers
        self.tail = b"ustar\x0000" + bytes(64) + b"0000000\x00" * 2
        self.base_sum = sum(self.ids) + sum(self.mtime) + sum(self.tail) + 8 * 32  # chksum: spaces
        # Everything after the type flag when there is no link name and no prefix.
        self.plain_tail = bytes(100) + self.tail + bytes(155 + 12)
        self.modes = {m: (b"%07o\x00" % m, sum(b"%07o\x00" % m)) for m in (0o644, 0o755, 0o777)}
        # A regular file's header, the fields around its name, size and checksum put together:
        # mode -> (mode and ids, the checksum of the constant fields), and what follows the
        # checksum (the type flag and the plain tail).
        self.file_heads = {
            m: (field + self.ids, self.base_sum + field_sum + _TYPE[FILE][0])
            for m, (field, field_sum) in self.modes.items()
        }
        self.file_tail = _TYPE[FILE] + self.plain_tail

    def build(self, name: bytes, mode: int, size: int, kind: bytes, link: bytes) -> bytes:
        if len(name) <= 100 and not link and size <= _MAX_OCTAL_SIZE and name.isascii():
            # The common case, kept short: a plain ASCII name, no link, no pax records.
            mode_f, mode_sum = self.modes[mode]
            size_f = b"%011o\x00" % size
            # sum(name) + sum(size_f), from adler32's low half (1 + the byte sum modulo
            # 65521; at most 100 * 127 + 12 * 55 here, so never reduced): a C loop instead of
            # a Python one, once per member.
            sums = (adler32(size_f, adler32(name)) & 0xFFFF) - 1
            checksum = self.base_sum + sums + mode_sum + kind[0]
            return b"".join(
                (
                    name.ljust(100, b"\x00"),
                    mode_f,
                    self.ids,
                    size_f,
                    self.mtime,
                    b"%06o\x00 " % checksum,
                    kind,
                    self.plain_tail,
                )
            )
        return self.build_general(name, mode, size, kind, link)

    def build_general(self, name: bytes, mode: int, size: int, kind: bytes, link: bytes) -> bytes:
        pax: dict[str, bytes] = {}
        prefix = b""
        if len(name) > 100 or not name.isascii():
            prefix, name = _split_name(name)
            if not name:
                pax["path"] = prefix
                prefix, name = b"", prefix[:100]
        if len(link) > 100 or not link.isascii():
            pax["linkpath"] = link
            link = link[:100]
        if size > _MAX_OCTAL_SIZE:
            pax["size"] = b"%d" % size
            size = 0
        out = b""
        if pax:
            records = _pax_records(pax)
            out = self.build(_PAX_NAME, 0o644, len(records), _TYPE["pax"], b"")
            out += records + _padding(len(records))
        mode_f = b"%07o\x00" % mode
        size_f = b"%011o\x00" % size
        checksum = self.base_sum + sum(name) + sum(mode_f) + sum(size_f) + kind[0]
        checksum += sum(link) + sum(prefix)
        return out + b"".join(
            (
                name.ljust(100, b"\x00"),
                mode_f,
                self.ids,
                size_f,
                self.mtime,
                b"%06o\x00 " % checksum,
                kind,
                link.ljust(100, b"\x00"),
                self.tail,
                prefix.ljust(155, b"\x00"),
                bytes(12),
            )
        )


def _split_name(name: bytes) -> tuple[bytes, bytes]:
    """Split a long ASCII name into ustar (prefix, name); (name, b"") when impossible."""
    if name.isascii():
        cut = name.rfind(b"/", 0, 156)  # the longest prefix leaves the shortest name
        if 0 < cut < len(name) - 1 and len(name) - cut - 1 <= 100:
            return name[:cut], name[cut + 1 :]
    return name, b""


def _pax_records(fields: dict[str, bytes]) -> bytes:
    out = []
    for key in sorted(fields):
        body = b" " + key.encode() + b"=" + fields[key] + b"\n"
        length = len(body) + 1
        while len(str(length)) + len(body) != length:  # the length counts its own digits
            length = len(str(length)) + len(body)
        out.append(b"%d" % length + body)
    return b"".join(out)


def _padding(size: int) -> bytes:
    return _ZERO_BLOCK[: -size % BLOCK]


class _Writer:
    """Hashes and writes the filled buffers on a second thread while the next is filled, so
    a write waiting on the disk (or on a pipe) overlaps reading the next files; file reads
    and writes release the GIL. One job at a time; an error is raised in the caller."""

    def __init__(self, out: Callable[[bytes | memoryview], None]) -> None:
        self.out = out
        self.job: bytes | memoryview | None = None
        self.error: BaseException | None = None
        self.stopped = False
        self.ready = _thread.allocate_lock()  # released to hand over a job (None: stop)
        self.ready.acquire()
        self.idle = _thread.allocate_lock()  # held from handing a job over until it is done
        _thread.start_new_thread(self._run, ())

    def _run(self) -> None:
        while True:
            self.ready.acquire()
            job, self.job = self.job, None
            if job is None:
                self.idle.release()
                return
            try:
                self.out(job)
            except BaseException as exc:  # handed to the caller by hand() or stop()
                self.error = exc
            self.idle.release()

    def hand(self, job: bytes | memoryview) -> None:
        """Give ``job`` to the thread once the previous one is done."""
        self.idle.acquire()
        if self.error is not None:
            self.idle.release()
            raise self.error
        self.job = job
        self.ready.release()

    def stop(self, *, raise_error: bool = True) -> None:
        """Wait for the last job and end the thread; raises the error of a job that failed."""
        if not self.stopped:
            self.stopped = True
            self.idle.acquire()
            self.ready.release()  # job is None: the thread releases idle and ends
            self.idle.acquire()
            self.idle.release()
        if self.error is not None and raise_error:
            raise self.error


class _Sink:
    """Hashes the archive and forwards it to ``fileobj`` in ~1 MiB writes.

    Members are put together in a buffer and files are read straight into it: no bytes
    object per file, no joining, and no fresh memory to fault in for each write (that was
    about a tenth of ``imagec context --tar``'s CPU time). With ``fileobj``, a full buffer
    goes to a ``_Writer`` thread and the other of two buffers is filled meanwhile.
    """

    def __init__(self, fileobj: BinaryIO | None, digest: bool = True) -> None:
        self.hash = None
        if digest:
            # Lazy: loading OpenSSL is a few ms, and `imagec context --tar` hashes nothing.
            import hashlib

            self.hash = hashlib.sha256()
        self.write_out = fileobj.write if fileobj is not None else None
        # Flushed once past _FLUSH, so there is always room for a member of a whole _CHUNK
        # (header, data, padding) after that.
        size = _FLUSH + _CHUNK + 2 * BLOCK
        self.view = memoryview(bytearray(size))
        self.spare = memoryview(bytearray(size)) if fileobj is not None else None
        self.writer = _Writer(self._out) if fileobj is not None else None
        self.pos = 0

    def add(self, data: bytes) -> None:
        if self.pos >= _FLUSH or len(data) > len(self.view) - self.pos:
            self.flush()
            if len(data) > _CHUNK:  # a large extra file: passed on as it is
                self._emit(data)
                return
        end = self.pos + len(data)
        self.view[self.pos : end] = data
        self.pos = end

    def read_from(self, fd: int, size: int, fspath: str) -> None:
        """Exactly ``size`` bytes read from ``fd``, then the padding to a whole block."""
        left = size
        while left:
            if self.pos >= _FLUSH:
                self.flush()
            start = self.pos
            try:
                got = os.readv(fd, (self.view[start : start + min(left, _CHUNK)],))
            except BlockingIOError:  # see Opener
                os.set_blocking(fd, True)
                continue
            if not got:
                raise SpecError("file shrank while it was being archived", file=fspath)
            self.pos = start + got
            left -= got
        self.add(_ZERO_BLOCK[: -size % BLOCK])

    def flush(self) -> None:
        if self.pos:
            self._emit(self.view[: self.pos])
            if self.spare is not None:  # the writer has this buffer now: fill the other
                self.view, self.spare = self.spare, self.view
            self.pos = 0

    def _emit(self, data: bytes | memoryview) -> None:
        if self.writer is not None:
            self.writer.hand(data)
        else:
            self._out(data)

    def _out(self, data: bytes | memoryview) -> None:
        if self.hash is not None:
            self.hash.update(data)
        if self.write_out is not None:
            self.write_out(data)

    def close(self) -> str:
        """Write what is left and wait for it; the digest (``""`` without one)."""
        try:
            self.flush()
        finally:
            self.stop()
        return self.hash.hexdigest() if self.hash is not None else ""

    def stop(self, *, raise_error: bool = True) -> None:
        """Wait for the writer thread to finish (also when the archive failed)."""
        if self.writer is not None:
            self.writer.stop(raise_error=raise_error)


# An archive member: (name, kind, source), shaped like a ContextEntry so walked entries
# pass through as they are. The source is the path on disk, the ExtraFile, or None for
# a directory implied by the prefix or an extra file's name.
_Member = tuple[str, str, "str | ExtraFile | None"]


def _key(name: str) -> tuple[bytes, ...]:
    # Archive order compares names component by component, by bytes, like the walk.
    return tuple(part.encode("utf-8", "surrogateescape") for part in name.split("/"))


def _relative_name(name: str, what: str) -> str:
    cleaned = clean(name.strip("/"))
    if cleaned == "." and what == "prefix":
        return ""
    if cleaned in (".", "..") or cleaned.startswith("../") or name.startswith("/"):
        raise ValueError(f"{what} {name!r} must be a relative path inside the archive")
    return cleaned


def _synthetic(prefix: str, extra: Mapping[str, bytes | ExtraFile]) -> list[_Member]:
    items: dict[str, _Member] = {}

    def add_parents(path: str) -> None:
        parts = path.split("/")
        for i in range(1, len(parts)):
            name = "/".join(parts[:i])
            items.setdefault(name, (name, DIR, None))

    if prefix:
        add_parents(prefix + "/-")
    for raw_name, value in extra.items():
        name = _relative_name(raw_name, "extra file")
        if name in items:
            raise ValueError(f"extra file {raw_name!r} clashes with a directory")
        add_parents(name)
        data = value if isinstance(value, ExtraFile) else ExtraFile(bytes(value))
        items[name] = (name, FILE, data)
    return sorted(items.values(), key=lambda item: _key(item[0]))


def _members(
    entries: Iterable[ContextEntry], prefix: str, extra: Mapping[str, bytes | ExtraFile]
) -> Iterable[_Member]:
    synthetic = _synthetic(prefix, extra)
    if not synthetic:
        return entries  # already in archive order
    return _merged(synthetic, entries, prefix)


def _merged(
    synthetic: list[_Member], entries: Iterable[ContextEntry], prefix: str
) -> Iterator[_Member]:
    """Walked entries (under ``prefix``) and synthetic members, in one archive order."""
    lead = prefix + "/" if prefix else ""
    walked = ((lead + e.path, e.kind, e.fspath) for e in entries)
    previous: _Member | None = None
    for item in heapq.merge(synthetic, walked, key=lambda item: _key(item[0])):
        if previous is not None and item[0] == previous[0]:
            if item[1] == DIR and previous[1] == DIR:
                continue  # an implied directory that the tree also has
            raise ValueError(f"{item[0]!r} is both in the source tree and an extra file")
        previous = item
        yield item


_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


# Opens an archive member's file by its archive name: (descriptor, status) of a regular file,
# or None when it is gone or no longer one. ``TreeReader.open_file`` opens beneath the tree's
# root without following symlinks anywhere on the way; ``open_regular`` leaves the descriptor
# O_NONBLOCK, which a regular file's reads ignore on Linux: should one raise BlockingIOError
# all the same, the descriptor is made blocking and read again.
Opener = Callable[[str], "tuple[int, os.stat_result] | None"]


def _open_path(fspath: str) -> tuple[int, os.stat_result] | None:
    """Open a walked file by its path, the last component not followed (no opener given)."""
    try:
        fd = os.open(fspath, _OPEN_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        return None  # removed while archiving; Docker skips it too
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symlink since the walk
            return None
        raise SpecError(f"cannot read file: {exc.strerror or exc}", file=fspath) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None
    return fd, st


def _copy_file(
    sink: _Sink, header: _Header, name: bytes, fspath: str, opened: tuple[int, os.stat_result]
) -> None:
    """The member for the regular file ``opened`` (its descriptor is closed here): header,
    data, padding."""
    fd, st = opened
    try:
        size = st.st_size
        mode = 0o755 if st.st_mode & 0o111 else 0o644
        if size > _CHUNK or len(name) > 100 or not name.isascii():  # large, or a pax header
            sink.add(header.build(name, mode, size, _TYPE[FILE], b""))
            sink.read_from(fd, size, fspath)
            return
        # header.build's common case for a regular file, with its constant fields together.
        size_f = b"%011o\x00" % size
        fields, checksum = header.file_heads[mode]
        checksum += (adler32(size_f, adler32(name)) & 0xFFFF) - 1  # as in header.build
        head = b"".join(
            (
                name.ljust(100, b"\x00"),
                fields,
                size_f,
                header.mtime,
                b"%06o\x00 " % checksum,
                header.file_tail,
            )
        )
        # Most files: what sink.add and sink.read_from do, inline (this runs once per file).
        if sink.pos >= _FLUSH:
            sink.flush()
        view, start = sink.view, sink.pos + BLOCK
        view[sink.pos : start] = head
        end = start + size
        while start < end:
            try:
                got = os.readv(fd, (view[start:end],))
            except BlockingIOError:  # see Opener
                os.set_blocking(fd, True)
                continue
            if not got:
                raise SpecError("file shrank while it was being archived", file=fspath)
            start += got
        sink.pos = end + (-size % BLOCK)
        view[end : sink.pos] = _ZERO_BLOCK[: sink.pos - end]
    finally:
        os.close(fd)


def write_context_tar(
    fileobj: BinaryIO | None,
    entries: Iterable[ContextEntry],
    *,
    prefix: str = "",
    extra: Mapping[str, bytes | ExtraFile] | None = None,
    mtime: int = DEFAULT_MTIME,
    opener: Opener | None = None,
    digest: bool = True,
) -> str:
    """Write the archive to ``fileobj`` (None: write nothing) and return its sha256 hex
    (``""`` with ``digest=False``, for callers that want only the bytes: sha256 is a fair
    share of the cost).

    ``entries`` come from :func:`~imagec.context.walk.walk_context` and are stored under
    ``prefix`` (``"src"`` puts ``a.py`` at ``src/a.py``; the prefix directories get
    entries of their own). ``extra`` adds in-memory files by archive name, with parent
    directories implied; a name also present in the tree is a ``ValueError``. ``opener``
    opens walked files by archive name (beneath the tree's root, following no symlink);
    without it a file is opened by its path with ``O_NOFOLLOW`` on the last component.
    """
    header = _Header(mtime)
    prefix = _relative_name(prefix, "prefix") if prefix else ""
    members = _members(entries, prefix, extra or {})
    sink = _Sink(fileobj, digest)
    try:
        _write_members(sink, header, members, opener)
        sink.add(_ZERO_BLOCK * 2)
    except BaseException:
        # Nothing may still be writing to ``fileobj`` once this returns; the error raised
        # is the archive's own, not a writer's.
        sink.stop(raise_error=False)
        raise
    return sink.close()


def _write_members(
    sink: _Sink, header: _Header, members: Iterable[_Member], opener: Opener | None = None
) -> None:
    for member_name, kind, source in members:
        name = member_name.encode("utf-8", "surrogateescape")
        if kind == FILE and isinstance(source, str):
            opened = opener(member_name) if opener is not None else _open_path(source)
            if opened is not None:
                _copy_file(sink, header, name, source, opened)
        elif kind == DIR:
            sink.add(header.build(name + b"/", 0o755, 0, _TYPE[DIR], b""))
        elif isinstance(source, ExtraFile):
            data = source.data
            mode = 0o755 if source.mode & 0o111 else 0o644
            sink.add(header.build(name, mode, len(data), _TYPE[FILE], b""))
            sink.add(data)
            sink.add(_padding(len(data)))
        elif kind == SYMLINK:
            assert isinstance(source, str)
            try:
                target = os.readlink(source)
            except OSError:
                continue  # replaced or removed while archiving
            link = target.encode("utf-8", "surrogateescape")
            sink.add(header.build(name, 0o777, 0, _TYPE[SYMLINK], link))


def context_digest(
    entries: Iterable[ContextEntry],
    *,
    prefix: str = "",
    extra: Mapping[str, bytes | ExtraFile] | None = None,
    mtime: int = DEFAULT_MTIME,
) -> str:
    """The sha256 of the archive :func:`write_context_tar` would write, storing nothing."""
    return write_context_tar(None, entries, prefix=prefix, extra=extra, mtime=mtime)
