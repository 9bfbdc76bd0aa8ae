"""The build context as a stream of chunks, for an HTTP request body.

``BuildContext.write_tar`` pushes bytes into a file; an SDK pulls a request body from an
iterator. A thread writes the tar into a pipe and the iterator reads the other end, so the
context is never held in memory or written to disk, and sending starts with the first file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import BinaryIO

CHUNK = 1 << 20


class ContextStream:
    """Iterate for the tar's bytes; afterwards ``digest`` is the sha256 of what was sent.

    Use as a context manager: leaving it (normally, on an error, on Ctrl-C) closes the pipe,
    which stops the writer thread even when the reader gave up half way.
    """

    def __init__(
        self, write_tar: Callable[[BinaryIO], str], on_chunk: Callable[[int], None] | None = None
    ) -> None:
        self._write_tar = write_tar
        self._on_chunk = on_chunk
        self.digest: str | None = None
        self.sent = 0
        self._error: BaseException | None = None
        read_fd, write_fd = os.pipe()
        self._reader = os.fdopen(read_fd, "rb", buffering=0)
        self._writer = os.fdopen(write_fd, "wb", buffering=CHUNK)
        self._thread = threading.Thread(target=self._write, name="imagec-context", daemon=True)

    def _write(self) -> None:
        try:
            with self._writer:
                self.digest = self._write_tar(self._writer)
        except BrokenPipeError:
            pass  # the reader stopped: the request failed or was interrupted
        except BaseException as exc:  # surfaced by check() in the caller's thread
            self._error = exc

    def __enter__(self) -> ContextStream:
        self._thread.start()
        return self

    def __iter__(self) -> Iterator[bytes]:
        while True:
            data = self._reader.read(CHUNK)
            if not data:
                break
            self.sent += len(data)
            if self._on_chunk is not None:
                self._on_chunk(self.sent)
            yield data
        self._thread.join()
        self.check()

    def check(self) -> None:
        """Raise what the writer raised (an unreadable file, say), in the caller's thread."""
        if self._error is not None:
            raise self._error

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._reader.close()
        self._thread.join(timeout=5)
