"""A real unix-socket server for tests that play an engine's API: each connection goes to
``handle(conn)`` on the server's thread, one after another."""

from __future__ import annotations

import socket
import threading
from pathlib import Path


class UnixServer:
    def __init__(self, path: Path, *, backlog: int = 8) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(path))
        self._sock.listen(backlog)
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:  # closed: the server is gone
                return
            with conn:
                self.handle(conn)

    def close(self) -> None:
        self._sock.close()
