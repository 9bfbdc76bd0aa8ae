"""What an engine's API socket answers is untrusted too.

``imagec backends``, ``imagec inspect`` and the no-op build check talk to the engine over its
socket with imagec's own HTTP/1.0 client (``backend/engine/rawhttp.py``). Something else
listening there (a socket path from the environment, a proxy, a broken engine) may answer with
a status line, headers or a body that never end, declare a body of gigabytes, or drip its
answer a byte at a time. Each is cut off at its bound, in bounded time, as one OSError line
(one ``EngineError`` line from the commands); the reader never reads on to the end."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.cli import cli_env
from support.timeout import time_limit_fixture
from support.unix_server import UnixServer

from imagec.backend.engine import rawhttp

_limit = time_limit_fixture(120)

Script = Callable[[socket.socket], None]


class Server(UnixServer):
    """Answers every connection with ``script``; counts the bytes it got out before the
    client hung up."""

    def __init__(self, path: Path, script: Script) -> None:
        self.script = script
        self.sent = 0
        self.done = threading.Event()
        super().__init__(path, backlog=4)

    def handle(self, conn: socket.socket) -> None:
        conn.recv(65536)  # the request
        # An OSError: the client hung up, which is what the bounds are for.
        with contextlib.suppress(OSError):
            self.script(_Counting(conn, self))
        self.done.set()


class _Counting:
    def __init__(self, conn: socket.socket, server: Server) -> None:
        self._conn, self._server = conn, server

    def sendall(self, data: bytes) -> None:
        self._conn.sendall(data)
        self._server.sent += len(data)


def _forever(head: bytes, unit: bytes) -> Script:
    def script(conn) -> None:
        conn.sendall(head)
        block = unit * (65536 // len(unit))
        for _ in range(100_000):  # 6 GB: "forever" for a client that reads it all
            conn.sendall(block)

    return script


def _drip(text: bytes, every: float) -> Script:
    def script(conn) -> None:
        for i in range(len(text)):
            conn.sendall(text[i : i + 1])
            time.sleep(every)

    return script


def _declared(length: int) -> Script:
    """A body of ``length`` bytes, declared first: refused before any of it is read."""
    return _forever(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % length, b" ")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Script], Server]]:
    servers: list[Server] = []

    def start(script: Script) -> Server:
        servers.append(Server(tmp_path / f"engine-{len(servers)}.sock", script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


# Past its bound, a reader stops; what the server got out is then its bound plus what the
# kernel's socket buffers took (a few hundred KiB), far below the 4 MiB body bound.
_SLACK = 1024 * 1024


@pytest.mark.parametrize(
    ("script", "message", "most"),
    [
        (_forever(b"HTTP/1.0 200 ", b"x"), "has a status line over 1024 bytes", _SLACK),
        (
            _forever(b"HTTP/1.0 200 OK\r\n", b"X-Filler: yes\r\n"),
            "has headers over 65536 bytes",
            _SLACK,
        ),
        (
            _forever(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n", b" "),
            "is over 4194304 bytes",
            rawhttp.MAX_RESPONSE + _SLACK,
        ),
        (_declared(50 * 1024**3), "is over 4194304 bytes", _SLACK),
    ],
    ids=["status-line", "headers", "body", "declared-length"],
)
def test_an_endless_answer_is_cut_at_its_bound(serve, script, message: str, most: int) -> None:
    server = serve(script)
    started = time.monotonic()
    with pytest.raises(OSError) as caught:
        rawhttp.request(server.url, "GET", "/images/x/json")
    assert time.monotonic() - started < 10
    assert str(caught.value) == f"the engine's answer to GET /images/x/json {message}"
    assert server.done.wait(10), "the server still sending: the client did not hang up"
    assert server.sent < most


def test_a_dripped_answer_ends_at_the_deadline(serve, monkeypatch) -> None:
    # Each byte comes well within the per-read timeout; only the whole answer's deadline
    # ends it (30 s in use, 2 s here to keep the test short).
    monkeypatch.setattr(rawhttp, "ANSWER_DEADLINE", 2.0)
    server = serve(_drip(b"HTTP/1.0 200 OK\r\n" + b"X: y\r\n" * 1000, every=0.05))
    started = time.monotonic()
    with pytest.raises(OSError) as caught:
        rawhttp.request(server.url, "GET", "/_ping", timeout=1.0)
    assert 1.5 < time.monotonic() - started < 6
    assert str(caught.value) == "the engine's answer to GET /_ping took longer than 2 s"


def test_a_whole_answer_within_the_bounds_is_read(serve) -> None:
    body = b'{"Id": "sha256:' + b"a" * 64 + b'", "Config": {"Labels": {"k": "v"}}}'
    head = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"

    def exact(conn) -> None:  # with its length, and more after it that is not read
        conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body + b"garbage")

    def until_close(conn) -> None:  # HTTP/1.0 without a length: the body ends with the socket
        conn.sendall(head + b"\r\n" + body)

    for script in (exact, until_close):
        assert rawhttp.request(serve(script).url, "GET", "/images/x/json") == (200, body)


def test_inspect_reports_an_endless_answer_in_one_line(serve, tmp_path: Path) -> None:
    server = serve(_forever(b"HTTP/1.0 200 OK\r\n", b"X-Filler: yes\r\n"))
    proc = subprocess.run(
        [sys.executable, "-m", "imagec", "inspect", "app:1", "--backend", "docker",
         "--url", server.url],
        capture_output=True, text=True, timeout=60, check=False, env=cli_env(),
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "has headers over 65536 bytes" in proc.stderr
