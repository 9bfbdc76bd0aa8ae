"""A few unversioned GETs on an engine's unix socket, with the standard library only.

For checks that must cost less than importing an engine SDK (docker-py with requests is
~0.1 s): whether a tagged image exists for the no-op build, whether the engine has a bridge
network. Only ``unix://`` URLs are spoken to; for anything else (``tcp://`` with or
without TLS, ``ssh://``) the callers get None and take the SDK path.
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


def get_json(url: str, path: str, *, timeout: float = TIMEOUT) -> tuple[int, Any] | None:
    """``GET path`` on the engine at ``url``: (status, parsed JSON body or None).

    None when ``url`` is not a unix socket or the engine cannot be reached or answers with
    something that is not HTTP: the caller then does what it would do without this check.
    """
    sock_path = socket_path(url)
    if sock_path is None:
        return None
    # HTTP/1.0: the engine answers with a plain body and closes the connection, so no chunked
    # decoding is needed (and http.client, which costs more to import than the check, is not).
    request = f"GET {path} HTTP/1.0\r\nHost: localhost\r\nAccept: application/json\r\n\r\n"
    chunks: list[bytes] = []
    size = 0
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(sock_path)
            sock.sendall(request.encode("ascii"))
            while size <= MAX_RESPONSE:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except OSError:
        return None
    if size > MAX_RESPONSE:
        return None
    head, sep, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if not sep or len(status_line) < 2 or not status_line[0].startswith(b"HTTP/"):
        return None
    try:
        status = int(status_line[1])
    except ValueError:
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
