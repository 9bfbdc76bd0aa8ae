"""A recording proxy in front of an engine's socket: which API endpoints a build called."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

REQUEST_LINE = re.compile(rb"(GET|HEAD|POST|PUT|DELETE) (/[^ \r\n]*) HTTP/1\.[01]\r\n")


@dataclass
class RecordingProxy:
    """A unix socket that forwards to an engine's socket and records the requests sent.

    ``imagec build --url unix://<proxy>`` then shows exactly which API endpoints the build
    called, with the real engine answering.
    """

    target: Path
    path: Path
    requests: list[tuple[str, str]] = field(default_factory=list)
    _server: socket.socket | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def start(self) -> RecordingProxy:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.path))
        server.listen(16)
        self._server = server
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def paths(self) -> list[str]:
        """The endpoints called, without the API version prefix (``/build``, ``/images/...``)."""
        with self._lock:
            return [re.sub(r"^/v[0-9.]+(/libpod)?", "", p.split("?")[0]) for _, p in self.requests]

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(str(self.target))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, record: bool) -> None:
        tail = b""
        try:
            while data := src.recv(1 << 16):
                if record:
                    buffer = tail + data
                    with self._lock:
                        for m in REQUEST_LINE.finditer(buffer):
                            self.requests.append((m.group(1).decode(), m.group(2).decode()))
                    # Keep an unfinished line for the next chunk; found lines are complete.
                    cut = buffer.rfind(b"\r\n")
                    tail = (buffer[cut + 2 :] if cut >= 0 else buffer)[-8192:]
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.path.unlink(missing_ok=True)
