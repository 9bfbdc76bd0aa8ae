"""What is installed: a key that changes whenever a distribution on the import path is
installed, upgraded or removed. Standard library only, for start-up paths (the entry-point
cache, the no-op build's fingerprint) that must not load the plugin machinery."""

from __future__ import annotations

import os
import sys

try:  # the interpreter's own SHA-256: importing hashlib loads OpenSSL (~2.5 ms of start-up)
    from _sha2 import sha256  # type: ignore[import-not-found]  # Python >= 3.12
except ImportError:
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef]  # Python 3.11
    except ImportError:  # a build without them
        from hashlib import sha256  # type: ignore[assignment]


def installation_key() -> str:
    """The import path and the name and mtime of every ``*.dist-info``/``*.egg-info`` on it."""
    h = sha256()
    for entry in sys.path:
        h.update(f"{entry}\0".encode())
        try:
            with os.scandir(entry or ".") as it:
                for item in sorted(it, key=lambda e: e.name):
                    if item.name.endswith((".dist-info", ".egg-info")):
                        h.update(f"{item.name}:{item.stat().st_mtime_ns}\0".encode())
        except OSError:
            continue
    return h.hexdigest()[:32]
