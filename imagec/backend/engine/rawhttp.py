"""A few unversioned requests to an engine's API, with the standard library only.

For what must cost less than importing an engine SDK (docker-py with requests is ~0.1 s):
whether a tagged image exists for the no-op build, whether the engine has a bridge network
(``unix://`` only: for anything else these callers get None and take the SDK path), and the
health ping and image inspection of ``imagec backends`` / ``imagec inspect`` (``unix://``
and plain ``tcp://``, see ``sdk_session``; TLS and ``ssh://`` go through the SDK).
"""

from __future__ import annotations

import json
import socket
import time
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
    length = _content_length(lines[1:], what)
    if length is not None and length > MAX_RESPONSE:
        raise OSError(f"the engine's answer to {what} is over {MAX_RESPONSE} bytes")
    answer = data[end + 4 :]
    want = MAX_RESPONSE + 1 if length is None else length
    while len(answer) < want:
        chunk = _recv(sock, what, timeout, deadline)
        if not chunk:
            break
        answer += chunk
    if len(answer) > MAX_RESPONSE:
        raise OSError(f"the engine's answer to {what} is over {MAX_RESPONSE} bytes")
    return int(status_line[1]), bytes(answer if length is None else answer[:length])


def _recv(sock: socket.socket, what: str, timeout: float, deadline: float) -> bytes:
    left = deadline - time.monotonic()
    if left <= 0:
        raise OSError(f"the engine's answer to {what} took longer than {ANSWER_DEADLINE:.0f} s")
    sock.settimeout(min(timeout, left))
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
