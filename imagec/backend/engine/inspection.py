"""``imagec inspect IMAGE --backend docker|podman``: what an image was built from, read
through the engine without running the image: its ``/etc/imagec/build.json`` plus labels.

An image the engine does not have, whose name has a registry host, is read from the
registry instead (manifest and config labels: the content hash, source, revision, version),
without pulling it."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

from imagec.backend.engine.session import EngineSession
from imagec.errors import EngineError, SpecError
from imagec.runtime.buildinfo import BUILD_INFO


def inspect_image(session: EngineSession, ref: str) -> dict[str, Any]:
    image = session.image(ref)
    missing = f"no image {ref!r} on the {session.engine} engine at {session.url}"
    if image is None and registry_host(ref):
        # Lazy: the registry client (ssl, http.client) is for images the engine does not have.
        from imagec.backend.registry import Unreachable

        try:
            return inspect_remote(session.engine, ref)
        except Unreachable as e:  # the name's registry may be no registry at all (localhost/)
            reason = f"{missing}, and its registry {e.host} is unreachable ({e.reason})"
            raise EngineError(reason) from None
    if image is None:
        raise EngineError(missing)
    archive = session.read_file(image.id, BUILD_INFO)
    if archive is None:
        raise SpecError(f"{ref} was not built by imagec (it has no {BUILD_INFO})")
    return {**json.loads(_only_file(archive)), "labels": image.labels, "id": image.id}


def registry_host(ref: str) -> str | None:
    # Lazy: the registry client (ssl, http.client) is for images the engine does not have.
    from imagec.backend.registry import parse

    reference = parse(ref)
    return reference.host if reference is not None else None


def inspect_remote(engine: str, ref: str) -> dict[str, Any]:
    """An image the engine does not have, read from its registry without pulling it: the
    manifest and the config's labels (the provenance imagec records), with the engine's login.
    """
    from imagec.backend.engine.labels import CONTENT_HASH
    from imagec.backend.registry import Registry

    host = registry_host(ref)
    assert host is not None
    remote = Registry(host, engine).image(ref)
    if remote is None:
        raise EngineError(f"no image {ref!r} on the {engine} engine nor in the registry {host}")
    if CONTENT_HASH not in remote.labels:
        raise SpecError(f"{ref} was not built by imagec (it has no {CONTENT_HASH} label)")
    return {
        "labels": remote.labels,
        "id": remote.config_digest,
        "digest": remote.digest,
        "created": remote.created,
        "registry": host,
    }


def _only_file(archive: bytes) -> bytes:
    """The one regular file of a tar stream (what the engines' archive endpoint returns)."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar:
            if member.isfile():
                data = tar.extractfile(member)
                if data is not None:
                    return data.read()
    raise SpecError(f"{BUILD_INFO} in the image is not a file")
