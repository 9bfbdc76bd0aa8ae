"""Requests to an engine's API, with the standard library only.

For what must cost less than importing an engine SDK (docker-py with requests is ~0.1 s,
podman-py ~0.15 s): whether a tagged image exists for the no-op build, whether the engine has
a bridge network (``unix://`` only: for anything else these callers get None and take the SDK
path), the health ping and image inspection of ``imagec backends`` / ``imagec inspect``
(``unix://`` and plain ``tcp://``, see ``sdk_session``; TLS and ``ssh://`` go through the
SDK), and podman's build and tag (``stream``: the context sent as it is made, the log read as
it comes; ``rawsession``).
"""

from __future__ import annotations

import json
import math
import socket
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

TIMEOUT = 3.0  # seconds: a check must never hang a build
MAX_RESPONSE = 4 * 1024 * 1024  # an image's inspect JSON is a few KiB
# The status line and headers: an engine's are a few hundred bytes (http.client allows 64 KiB a
# line and 100 headers); the status line alone, HTTP/1.x, a code and a reason.
MAX_HEAD = 64 * 1024
MAX_STATUS_LINE = 1024
# A whole answer, however slowly the engine drips it (TIMEOUT is per read), as the registry
# client bounds its requests.
ANSWER_DEADLINE = 30.0
NOT_HTTP = "the engine's answer is not HTTP"
# A streamed answer (a build's log): one JSON message per line, a step's output line at most.
MAX_LINE = 1024 * 1024
MAX_CHUNK_LINE = 1024  # a chunk's size line: hex digits and extensions nobody sends
MAX_TRAILERS = 100


def socket_path(url: str) -> str | None:
    """The socket file of a ``unix://`` URL, else None."""
    if not url.startswith("unix://"):
        return None
    path = url.removeprefix("unix://")
    return path if path.startswith("/") else None


def plain_address(url: str) -> str | tuple[str, int] | None:
    """The socket file of a ``unix://`` URL or (host, port) of a ``tcp://`` one, else None."""
    sock_path = socket_path(url)
    if sock_path is not None:
        return sock_path
    if not url.startswith("tcp://"):
        return None
    host, sep, port = url.removeprefix("tcp://").rstrip("/").rpartition(":")
    if not sep or not host or not port.isdigit() or "/" in host:
        return None
    return host.strip("[]"), int(port)


def request(
    url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    timeout: float = TIMEOUT,
) -> tuple[int, bytes]:
    """``METHOD path`` on the engine at ``url`` (``plain_address``): (status, body).

    Raises OSError, its message one line, when the engine cannot be reached or answers with
    something that is not a whole HTTP response: a status line past ``MAX_STATUS_LINE``
    bytes, headers past ``MAX_HEAD``, a body past ``MAX_RESPONSE``, or all of it not within
    ``ANSWER_DEADLINE`` seconds."""
    address = plain_address(url)
    if address is None:
        raise ValueError(f"not a unix:// or tcp:// URL: {url}")
    # HTTP/1.0: the engine answers with a plain body and closes the connection, so no chunked
    # decoding is needed (and http.client, which costs more to import than the check, is not).
    head = f"{method} {path} HTTP/1.0\r\nHost: localhost\r\nAccept: application/json\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    what = f"{method} {path.split('?', 1)[0]}"
    with _connect(address, timeout) as sock:
        sock.sendall(head.encode("ascii") + b"\r\n" + (body or b""))
        return _answer(sock, what, timeout, time.monotonic() + ANSWER_DEADLINE)


def _answer(sock: socket.socket, what: str, timeout: float, deadline: float) -> tuple[int, bytes]:
    """(status, body) read from ``sock``, each part within its bound."""
    status, headers, answer = _head(sock, what, timeout, deadline)
    length = _content_length(headers, what)
    if length is not None and length > MAX_RESPONSE:
        raise OSError(f"the engine's answer to {what} is over {MAX_RESPONSE} bytes")
    want = MAX_RESPONSE + 1 if length is None else length
    while len(answer) < want:
        chunk = _recv(sock, what, timeout, deadline)
        if not chunk:
            break
        answer += chunk
    if len(answer) > MAX_RESPONSE:
        raise OSError(f"the engine's answer to {what} is over {MAX_RESPONSE} bytes")
    return status, bytes(answer if length is None else answer[:length])


def _head(
    sock: socket.socket, what: str, timeout: float | None, deadline: float
) -> tuple[int, list[bytes], bytearray]:
    """(status, header lines, what came after the blank line) read from ``sock``."""
    data = bytearray()
    end = -1
    while end < 0:  # the status line and headers, up to the blank line
        if b"\r\n" not in data[: MAX_STATUS_LINE + 2] and len(data) > MAX_STATUS_LINE + 2:
            raise OSError(
                f"the engine's answer to {what} has a status line over {MAX_STATUS_LINE} bytes"
            )
        if len(data) > MAX_HEAD + 4:
            raise OSError(f"the engine's answer to {what} has headers over {MAX_HEAD} bytes")
        chunk = _recv(sock, what, timeout, deadline)
        if not chunk:
            raise OSError(NOT_HTTP)  # it ended before the blank line
        start = max(0, len(data) - 3)
        data += chunk
        end = data.find(b"\r\n\r\n", start)
    if end > MAX_HEAD:
        raise OSError(f"the engine's answer to {what} has headers over {MAX_HEAD} bytes")
    lines = bytes(data[:end]).split(b"\r\n")
    status_line = lines[0].split()
    if len(lines[0]) > MAX_STATUS_LINE:
        raise OSError(
            f"the engine's answer to {what} has a status line over {MAX_STATUS_LINE} bytes"
        )
    if (
        len(status_line) < 2
        or not status_line[0].startswith(b"HTTP/")
        or not status_line[1].isdigit()
    ):
        raise OSError(NOT_HTTP)
    return int(status_line[1]), lines[1:], data[end + 4 :]


def _recv(sock: socket.socket, what: str, timeout: float | None, deadline: float) -> bytes:
    """What the engine sent next; ``timeout`` None and ``deadline`` inf: wait as long as it
    takes (a build's answer)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise OSError(f"the engine's answer to {what} took longer than {ANSWER_DEADLINE:.0f} s")
    sock.settimeout(None if timeout is None else min(timeout, left))
    try:
        return sock.recv(65536)
    except TimeoutError:
        if time.monotonic() >= deadline:
            raise OSError(
                f"the engine's answer to {what} took longer than {ANSWER_DEADLINE:.0f} s"
            ) from None
        raise


def _content_length(headers: list[bytes], what: str) -> int | None:
    """The body's declared length; None when not declared (HTTP/1.0: the body ends with the
    connection)."""
    for line in headers:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"content-length":
            value = value.strip()
            if not value.isdigit() or len(value) > 19:
                raise OSError(
                    f"the engine's answer to {what} has a Content-Length that is no number"
                )
            return int(value)
    return None


def _connect(address: str | tuple[str, int], timeout: float) -> socket.socket:
    if not isinstance(address, str):
        return socket.create_connection(address, timeout)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return sock


def stream(
    url: str,
    method: str,
    path: str,
    body: Iterable[bytes],
    *,
    content_type: str,
    timeout: float = TIMEOUT,
) -> Streamed:
    """``METHOD path`` with ``body`` sent as it is produced, the answer read as it comes: a
    build, which takes as long as it takes (``timeout`` bounds connecting; nothing bounds the
    wait, as with the SDKs, and closing the answer hangs up).

    HTTP/1.1, as HTTP/1.0 has no chunked request bodies (and Go's server ignores the header
    on one); ``Connection: close``, so the answer ends with the connection at the latest.
    Raises OSError as ``request`` does."""
    address = plain_address(url)
    if address is None:
        raise ValueError(f"not a unix:// or tcp:// URL: {url}")
    what = f"{method} {path.split('?', 1)[0]}"
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    sock = _connect(address, timeout)
    try:
        sock.settimeout(None)
        unsent: OSError | None = None
        try:
            sock.sendall(head.encode("ascii"))
            for data in body:
                if data:
                    sock.sendall(b"%x\r\n" % len(data))
                    sock.sendall(data)
                    sock.sendall(b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError) as exc:
            unsent = exc  # refused before it read the body (a bad parameter): its answer says why
        try:
            status, headers, rest = _head(sock, what, None, math.inf)
        except OSError:
            if unsent is not None:
                raise unsent from None
            raise
        return Streamed(sock, what, status, headers, rest)
    except BaseException:
        sock.close()
        raise


class Streamed:
    """An answer read as it comes: ``status``, then its body whole (``read``, bounded by
    ``MAX_RESPONSE``: an error's) or line by line (``lines``). ``close`` hangs up."""

    def __init__(
        self, sock: socket.socket, what: str, status: int, headers: list[bytes], rest: bytearray
    ) -> None:
        self.status = status
        self._sock = sock
        self._what = what
        self._buf = rest
        self._chunked = any(
            name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower()
            for name, _, value in (line.partition(b":") for line in headers)
        )
        self._length = None if self._chunked else _content_length(headers, what)

    def lines(self) -> Iterator[bytes]:
        """The body's lines, without their ending; each at most ``MAX_LINE`` bytes."""
        line = bytearray()
        for data in self._data():
            start = len(line)
            line += data
            while (cut := line.find(b"\n", start)) >= 0:
                if cut > MAX_LINE:
                    break
                yield bytes(line[:cut]).rstrip(b"\r")
                del line[: cut + 1]
                start = 0
            if len(line) > MAX_LINE:
                raise OSError(
                    f"the engine's answer to {self._what} has a line over {MAX_LINE} bytes"
                )
        if line:
            yield bytes(line)

    def read(self) -> bytes:
        whole = bytearray()
        for data in self._data():
            whole += data
            if len(whole) > MAX_RESPONSE:
                raise OSError(f"the engine's answer to {self._what} is over {MAX_RESPONSE} bytes")
        return bytes(whole)

    def close(self) -> None:
        self._sock.close()

    def _data(self) -> Iterator[bytes]:
        """The body's bytes as they come, its chunked framing taken off."""
        if not self._chunked:
            left = self._length
            while left is None or left > 0:
                if not self._buf and not self._more():
                    if left is None:
                        return  # no length: the body ends with the connection
                    raise self._broken()
                data = bytes(self._buf if left is None else self._buf[:left])
                del self._buf[: len(data)]
                left = None if left is None else left - len(data)
                yield data
            return
        while True:
            size_text = self._line().partition(b";")[0].strip()
            if not size_text or len(size_text) > 15 or size_text.strip(b"0123456789abcdefABCDEF"):
                raise OSError(f"the engine's answer to {self._what} has a broken chunk size")
            size = int(size_text, 16)
            if size == 0:
                for _ in range(MAX_TRAILERS):
                    if not self._line():
                        return
                raise OSError(
                    f"the engine's answer to {self._what} has over {MAX_TRAILERS} trailers"
                )
            while size:
                if not self._buf and not self._more():
                    raise self._broken()
                data = bytes(self._buf[:size])
                del self._buf[: len(data)]
                size -= len(data)
                yield data
            if self._line():
                raise OSError(f"the engine's answer to {self._what} has a broken chunk")

    def _line(self) -> bytes:
        """A framing line (chunk size, trailer), at most ``MAX_CHUNK_LINE`` bytes."""
        while (cut := self._buf.find(b"\r\n", 0, MAX_CHUNK_LINE + 2)) < 0:
            if len(self._buf) > MAX_CHUNK_LINE + 1:
                raise OSError(f"the engine's answer to {self._what} has a broken chunk size")
            if not self._more():
                raise self._broken()
        line = bytes(self._buf[:cut])
        del self._buf[: cut + 2]
        return line

    def _more(self) -> bool:
        data = _recv(self._sock, self._what, None, math.inf)
        self._buf += data
        return bool(data)

    def _broken(self) -> OSError:
        return OSError(f"the engine's answer to {self._what} broke off")


def get_json(url: str, path: str, *, timeout: float = TIMEOUT) -> tuple[int, Any] | None:
    """``GET path`` on the engine at ``url``: (status, parsed JSON body or None).

    None when ``url`` is not a unix socket or the engine cannot be reached or answers with
    something that is not HTTP: the caller then does what it would do without this check.
    """
    if socket_path(url) is None:
        return None
    try:
        status, body = request(url, "GET", path, timeout=timeout)
    except OSError:
        return None
    try:
        return status, json.loads(body) if body.strip() else None
    except ValueError:
        return status, None


def image_labels(url: str, ref: str) -> tuple[str, dict[str, str]] | bool | None:
    """The id and labels of image ``ref``; False when the engine says there is no such image;
    None when this could not be asked (not a unix socket, unreachable, unexpected answer)."""
    answer = get_json(url, f"/images/{quote(ref, safe='/:@')}/json")
    if answer is None:
        return None
    status, data = answer
    if status == 404:
        return False
    if status != 200 or not isinstance(data, dict) or not isinstance(data.get("Id"), str):
        return None
    labels = (data.get("Config") or {}).get("Labels") or {}
    if not isinstance(labels, dict):
        return None
    return data["Id"], {str(k): str(v) for k, v in labels.items()}


def has_network(url: str, name: str) -> bool | None:
    """Does the engine have network ``name``? None when this could not be asked."""
    answer = get_json(url, f"/networks/{quote(name, safe='')}")
    if answer is None or answer[0] not in (200, 404):
        return None
    return answer[0] == 200
