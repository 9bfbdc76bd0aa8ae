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
from imagec.runtime.buildinfo import BUILD_INFO, BUILD_INFO_LABEL


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
    # The record is shown as the answer's own fields, not again among the labels.
    labels = {k: v for k, v in image.labels.items() if k != BUILD_INFO_LABEL}
    record = _label_record(image.labels)
    if record is not None:  # one request: the image's JSON carries the build record
        return {**record, "labels": labels, "id": image.id}
    # Built before the label existed (or its record was too long for one): the file, through
    # a container created, never started, and removed.
    archive = session.read_file(image.id, BUILD_INFO)
    if archive is None:
        raise SpecError(f"{ref} was not built by imagec (it has no {BUILD_INFO})")
    return {**json.loads(_only_file(archive)), "labels": labels, "id": image.id}


def _label_record(labels: dict[str, str]) -> dict[str, Any] | None:
    """The build record an image's ``dev.imagec.build-info`` label holds, or None."""
    text = labels.get(BUILD_INFO_LABEL)
    if text is None:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def registry_host(ref: str) -> str | None:
    # Lazy: the registry client (ssl, http.client) is for images the engine does not have.
    from imagec.backend.registry import parse

    reference = parse(ref)
    return reference.host if reference is not None else None


def inspect_remote(engine: str, ref: str) -> dict[str, Any]:
    """An image the engine does not have, read from its registry without pulling it: the
    manifest and the config's labels (the provenance imagec records, with the build record
    when it is one of them), with the engine's login.
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
        **(_label_record(remote.labels) or {}),  # what build.json holds, when labelled
        "labels": {k: v for k, v in remote.labels.items() if k != BUILD_INFO_LABEL},
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
