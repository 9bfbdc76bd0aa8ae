"""Build secrets over Podman's API: as its own CLI sends them.

The service takes ``secrets=["id=ID,src=NAME"]`` and expects the file ``NAME`` at the top of
the context tar; it moves the file out of the context before the build starts, so no
instruction can COPY it, and buildah mounts it at ``RUN --mount=type=secret,id=ID``. imagec's
context tar is written once and hashed, so the secret files are spliced into the stream just
before its end-of-archive blocks; the hash is of the context alone.
"""

from __future__ import annotations

import secrets as random
import tarfile
from collections.abc import Iterable, Iterator

from imagec.errors import SpecError

BLOCK = 512
MAX_SECRET_BYTES = 1 << 20  # a netrc or a token, not a data set


def secret_members(paths: dict[str, str]) -> tuple[list[str], bytes]:
    """(the ``secrets`` query values, the tar members that carry them)."""
    query: list[str] = []
    out = bytearray()
    for sid, path in paths.items():
        with open(path, "rb") as f:
            data = f.read(MAX_SECRET_BYTES + 1)
        if len(data) > MAX_SECRET_BYTES:
            raise SpecError(
                f"--secret id={sid}: {path} is larger than {MAX_SECRET_BYTES} bytes",
                field="--secret",
            )
        # A fresh name per build: it can never be mistaken for a file of the user's.
        name = f".imagec-secret-{random.token_hex(16)}"
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o600
        out += info.tobuf(format=tarfile.PAX_FORMAT)
        out += data + b"\0" * (-len(data) % BLOCK)
        query.append(f"id={sid},src={name}")
    return query, bytes(out)


def splice(body: Iterable[bytes], members: bytes) -> Iterator[bytes]:
    """``body`` (a tar stream) with ``members`` added before its end-of-archive marker."""
    buf = bytearray()
    ahead = 0  # bytes of member data (and padding) still to pass on before the next header
    chunks = iter(body)
    for chunk in chunks:
        buf += chunk
        while buf:
            if ahead:
                cut = min(ahead, len(buf))
                yield bytes(buf[:cut])
                del buf[:cut]
                ahead -= cut
                continue
            if len(buf) < BLOCK:
                break
            block = bytes(buf[:BLOCK])
            if block == b"\0" * BLOCK:
                yield members + b"\0" * (2 * BLOCK)
                for _ in chunks:  # the rest is padding; read it so the writer finishes
                    pass
                return
            size = tarfile.nti(block[124:136])
            yield block
            del buf[:BLOCK]
            ahead = size + (-size % BLOCK)
    raise ValueError("context tar ended without an end-of-archive marker")
