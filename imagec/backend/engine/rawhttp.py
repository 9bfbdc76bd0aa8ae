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
from typing import Any
from urllib.parse import quote

TIMEOUT = 3.0  # seconds: a check must never hang a build
MAX_RESPONSE = 4 * 1024 * 1024  # an image's inspect JSON is a few KiB


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

    Raises OSError when the engine cannot be reached or answers with something that is not
    a whole HTTP response within ``MAX_RESPONSE`` bytes."""
    address = plain_address(url)
    if address is None:
        raise ValueError(f"not a unix:// or tcp:// URL: {url}")
    # HTTP/1.0: the engine answers with a plain body and closes the connection, so no chunked
    # decoding is needed (and http.client, which costs more to import than the check, is not).
    head = f"{method} {path} HTTP/1.0\r\nHost: localhost\r\nAccept: application/json\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    chunks: list[bytes] = []
    size = 0
    with _connect(address, timeout) as sock:
        sock.sendall(head.encode("ascii") + b"\r\n" + (body or b""))
        while size <= MAX_RESPONSE:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    if size > MAX_RESPONSE:
        raise OSError(f"answer to {method} {path} is larger than {MAX_RESPONSE} bytes")
    head_bytes, sep, answer = b"".join(chunks).partition(b"\r\n\r\n")
    status_line = head_bytes.split(b"\r\n", 1)[0].split()
    if not sep or len(status_line) < 2 or not status_line[0].startswith(b"HTTP/"):
        raise OSError("the engine's answer is not HTTP")
    try:
        return int(status_line[1]), answer
    except ValueError:
        raise OSError("the engine's answer is not HTTP") from None


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
