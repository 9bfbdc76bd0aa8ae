"""A few unversioned GETs on an engine's unix socket, with the standard library only.

For checks that must cost less than importing an engine SDK (docker-py with requests is
~0.1 s): whether a tagged image exists for the no-op build, whether the engine has a bridge
network. Only ``unix://`` URLs are spoken to; for anything else (``tcp://`` with or
without TLS, ``ssh://``) the callers get None and take the SDK path.
"""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any
from urllib.parse import quote

TIMEOUT = 3.0  # seconds: a check must never hang a build
MAX_BODY = 4 * 1024 * 1024  # an image's inspect JSON is a few KiB


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


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
    sock = socket_path(url)
    if sock is None:
        return None
    conn = _UnixConnection(sock, timeout)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        body = response.read(MAX_BODY + 1)
        status = response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()
    if len(body) > MAX_BODY:
        return None
    try:
        return status, json.loads(body) if body else None
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
